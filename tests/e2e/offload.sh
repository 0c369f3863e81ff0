#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# End-to-end tests of xwall on real traffic with the offloads on: TSO, GSO,
# GRO and scatter-gather enabled on both veth ends (ethtool -K), real
# sockets (tests/e2e/offload.py), bulk transfers.  Every hook is covered:
# TC egress, TC ingress, native XDP and generic (skb) XDP.  B (namespace
# xwof-b, veth xwof1) is the host xwall protects; A (xwof-a, xwof0) is the
# far side.
#
#   out-tcp    attach --mode tc --egress, policy pass; B streams TCP to A:9001
#              (TSO super-packets at TC egress: bytes per packet > 3000);
#              `apply` of `rule 10 out tcp dport 9001 drop` mid-stream: A gets
#              < 256 KiB after apply returns; rule 10 counts; malformed 0
#              before the apply; the rule is the exact tier's (status: one
#              exact shape), as in every mid-stream drop below
#   out-udp    the same with 30000-byte UDP datagrams to A:9002 (fragmented
#              by IP before TC: the first fragment carries the ports) and
#              with UDP GSO super-packets (UDP_SEGMENT) to A:9003
#   in-tcp     TC ingress and XDP (native, skb): A streams TCP to B:9004 (on
#              TC ingress as GSO/GRO super-packets); a drop rule applied
#              mid-stream stops it (< 256 KiB after apply returns)
#   ct-tc      attach --mode tc --egress, `policy in drop`, `rule 10 in ct
#              established,related pass`: B downloads 8 MiB from A, every
#              byte arrives intact; malformed 0, conntrack invalid 0
#   ct-xdp     the same through native XDP + --egress, and generic XDP
#   vlan-*     802.1Q-tagged frames from A (packet socket): TC ingress sees
#              the tag outside the frame (skb->vlan_tci), XDP inside; `vlan`
#              rules count the same on TC, native and generic XDP
#
# Usage: tests/e2e/offload.sh   (root; namespaces xwof-a/xwof-b)
# One PASS/FAIL line per check; last line the summary (tests/e2e/lib.sh);
# exit status 1 if any check failed or the test cannot run (2 when a tool
# is missing).
set -eu

. "$(dirname "$0")/lib.sh"
e2e_init offload
PY=/usr/bin/python3
NS_A=xwof-a
NS_B=xwof-b
IF_A=xwof0
IF_B=xwof1
A4=10.202.0.1
B4=10.202.0.2
A6=fd00:202::1
B6=fd00:202::2
LIMIT=262144                 # bytes allowed after a drop rule is applied
export PY NS_A NS_B IF_A IF_B A4 B4 A6 B6 LIMIT HERE

# ------------------------------------------------------------------ outer side
if [ "${1:-}" != --inner ]; then
	for t in ethtool tc ip ss "$PY"; do
		command -v "$t" >/dev/null || { echo "e2e: offload: $t missing (make deps)" >&2; exit 2; }
	done
	exec 9>/tmp/xwall-offload.lock
	if ! flock -w 150 9; then
		echo "e2e: offload: another run holds /tmp/xwall-offload.lock" >&2
		exit 2
	fi
	e2e_outer xwof
	rc=0
	ip netns exec "$NS_B" timeout -k 5 600 bash "$0" --inner 9>&- || rc=$?
	exit $rc
fi

# ------------------------------------------------------------------ inner side
e2e_inner stop_bg

H() { "$PY" "$HERE/offload.py" "$@"; }
J() {   # J FILE PATH: a number from `stats --json` (rules by prio)
	"$PY" - "$1" "$2" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
for p in sys.argv[2].split("."):
    if isinstance(d, list):
        d = next((r for r in d if str(r.get("prio")) == p), {"packets": 0, "bytes": 0})
    else:
        d = d[p]
print(d)
EOF
}
D() { echo $(($(J "$2" "$3") - $(J "$1" "$3"))); }   # D OLD NEW PATH: the increase
stats() { "$XWALL" stats --json >"$1"; }

# offloads on, both ends (veth GRO needs `gro on` or an XDP program)
offloads() {
	for side in A B; do
		if [ $side = A ]; then dev=$IF_A; run=inA; else dev=$IF_B; run=; fi
		$run ethtool -K "$dev" tso on gso on gro on sg on tx on rx on >/dev/null 2>&1 || true
	done
}
feat() {    # feat A|B FEATURE: on/off as ethtool -k shows it
	if [ "$1" = A ]; then inA ethtool -k "$IF_A"; else ethtool -k "$IF_B"; fi |
		awk -v f="$2:" '$1 == f { print $2 }'
}

base_rules() {   # what keeps the link alive under `policy in drop`
	cat <<EOF
policy in drop
rule 10 in ct established,related pass
rule 11 in ether type arp pass
rule 12 in icmpv6 type nd-neighbor-solicit,nd-neighbor-advert pass
EOF
}

# ----------------------------------------------------------------- setup
offloads
for f in tcp-segmentation-offload generic-segmentation-offload generic-receive-offload scatter-gather; do
	a=$(feat A $f); b=$(feat B $f)
	r=0; [ "$a" = on ] && [ "$b" = on ] || r=1
	expect $r "$f on on both ends" "A=$a B=$b"
done
ip neigh flush dev "$IF_B" 2>/dev/null || true

# mid_stream_drop LABEL DIR PROTO PORT RULE [GSOSEG]: a bulk stream through the
# hook under test; apply RULE while it flows; little may arrive after that.
# DIR out: B sends to A (A counts); DIR in: A sends to B (B counts).
mid_stream_drop() {
	local dir=$2 proto=$3 port=$4 rule=$5 gso=${6:-} cnt="$W/count.$1" size=30000
	local dst=$A4 rc=0 c0 c1 pk by
	printf 'policy pass\n' | "$XWALL" apply - >/dev/null
	stats "$W/s.$1.pre"
	if [ "$dir" = out ]; then
		bgA "$PY" "$HERE/offload.py" recv "$proto" "$A4" "$port" "$cnt" 131072
		wait_port A "$proto" "$port" || return 1
	else
		dst=$B4
		bgB "$PY" "$HERE/offload.py" recv "$proto" "$B4" "$port" "$cnt" 131072
		wait_port B "$proto" "$port" || return 1
	fi
	[ -n "$gso" ] && size=60000
	if [ "$dir" = out ]; then
		if [ "$proto" = tcp ]; then bgB "$PY" "$HERE/offload.py" send tcp "$dst" "$port"
		else bgB "$PY" "$HERE/offload.py" send udp "$dst" "$port" $size $gso; fi
	else
		bgA "$PY" "$HERE/offload.py" send tcp "$dst" "$port"
	fi
	H wait "$cnt" 4194304 10 || rc=1
	expect $rc "the $proto stream flows (4 MiB arrived)" "got $(H count "$cnt")"
	stats "$W/s.$1.0"
	m=$(D "$W/s.$1.pre" "$W/s.$1.0" reasons.malformed.packets)
	r=0; [ "$m" = 0 ] || r=1
	expect $r "valid traffic: malformed 0" "malformed packets $m"
	pk=$(D "$W/s.$1.pre" "$W/s.$1.0" verdicts.pass.packets)
	by=$(D "$W/s.$1.pre" "$W/s.$1.0" verdicts.pass.bytes)
	echo "info $LABEL: $pk packets, $by bytes passed ($((by / (pk ? pk : 1))) bytes per packet)"
	if [ -n "${BIGPKT:-}" ]; then
		r=0; [ "$pk" -gt 0 ] && [ $((by / pk)) -gt 3000 ] || r=1
		expect $r "the hook saw super-packets (bytes per packet > 3000)" "$by bytes in $pk packets"
	fi
	printf 'policy pass\n%s\n' "$rule" | "$XWALL" apply - >"$W/apply.out" 2>&1 || rc=1
	c0=$(H count "$cnt")
	sleep 2
	c1=$(H count "$cnt")
	# one exact port: the exact tier decides these packets, not a tree
	"$XWALL" status --json >"$W/st.$1" 2>&1 || true
	x=$(J "$W/st.$1" classifier.exact_shapes)
	r=0; [ "$x" = 1 ] || r=1
	expect $r "'$rule' is looked up by hash (the exact tier)" "exact_shapes $x"
	r=0; [ $((c1 - c0)) -lt "$LIMIT" ] || r=1
	expect $r "'$rule' applied mid-stream stops it: $((c1 - c0)) bytes after apply (< 256 KiB)" \
		"$c0 -> $c1"
	stats "$W/s.$1.1"
	p=$(J "$W/s.$1.1" rules.10.packets)
	r=0; [ "$p" -gt 0 ] || r=1
	expect $r "rule 10 counted the dropped packets" "packets $p"
	stop_bg
}

# ================================================================ TC egress
LABEL=out-tcp
"$XWALL" attach "$IF_B" --mode tc --egress >/dev/null
offloads
BIGPKT=1 mid_stream_drop out-tcp out tcp 9001 "rule 10 out tcp dport 9001 drop"
LABEL=out-udp-frag
mid_stream_drop out-udp out udp 9002 "rule 10 out udp dport 9002 drop"
LABEL=out-udp-gso
BIGPKT=1 mid_stream_drop out-gso out udp 9003 "rule 10 out udp dport 9003 drop" 1400

# ================================================================ TC ingress
LABEL=in-tcp/tc
BIGPKT=1 mid_stream_drop in-tc in tcp 9004 "rule 10 in tcp dport 9004 drop"

# a stateful download through TC: 8 MiB, all bytes, conntrack decides
download() {
	local port=$1 n=8388608 out="$W/fetch.$LABEL"
	base_rules | "$XWALL" apply - >/dev/null
	"$XWALL" ct flush >/dev/null
	stats "$W/d0.$LABEL"
	bgA "$PY" "$HERE/offload.py" serve "$A4" "$port" $n
	wait_port A tcp "$port" || return 1
	H fetch "$A4" "$port" $n 20 >"$out" || true
	r=0; [ "$(cat "$out")" = "$n ok" ] || r=1
	expect $r "an 8 MiB download arrives whole and intact" "got: $(oneline "$out")"
	stats "$W/d1.$LABEL"
	m=$(D "$W/d0.$LABEL" "$W/d1.$LABEL" reasons.malformed.packets)
	r=0; [ "$m" = 0 ] || r=1
	expect $r "malformed 0" "malformed packets $m"
	e=$(D "$W/d0.$LABEL" "$W/d1.$LABEL" conntrack.established)
	r=0; [ "$e" -gt 0 ] || r=1
	expect $r "conntrack counted the download established" "established $e"
	# (invalid also counts the retransmissions of the killed streams before)
	echo "info $LABEL: conntrack invalid +$(D "$W/d0.$LABEL" "$W/d1.$LABEL" conntrack.invalid)," \
		"expired +$(D "$W/d0.$LABEL" "$W/d1.$LABEL" conntrack.expired)"
	stop_bg
}
LABEL=ct-tc
download 9010
"$XWALL" detach "$IF_B" >/dev/null

# ================================================================ XDP
for mode in native skb; do
	LABEL=in-tcp/xdp-$mode
	"$XWALL" attach "$IF_B" --mode $mode --egress >/dev/null
	offloads
	echo "info $LABEL: A tso=$(feat A tcp-segmentation-offload) B gro=$(feat B generic-receive-offload) with XDP on B"
	mid_stream_drop in-$mode in tcp 9005 "rule 10 in tcp dport 9005 drop"
	LABEL=ct-xdp-$mode
	download 9011
	"$XWALL" detach "$IF_B" >/dev/null
done

# ================================================================ VLAN
# Frames from A with an 802.1Q tag in the frame (written by a packet socket:
# this kernel may have no VLAN devices).  B's receive path moves the tag out
# of the frame into the skb (skb_vlan_untag) before TC ingress runs, so TC
# must read it from skb->vlan_tci; XDP still sees it in the frame.  The same
# `vlan 100` rules must count every frame on every hook.
MAC_B=$(cat "/sys/class/net/$IF_B/address")
for mode in tc native skb; do
	LABEL=vlan-$mode
	"$XWALL" attach "$IF_B" --mode $mode >/dev/null
	offloads
	printf '%s\n' 'policy pass' 'rule 10 in vlan 100 udp dport 9030 drop' \
		'rule 11 in vlan 100 ether type ip udp dport 9031 drop' \
		'rule 12 in vlan 101 udp drop' 'rule 13 in vlan 0 udp dport 9032 drop' |
		"$XWALL" apply - >/dev/null
	stats "$W/v0.$mode"
	inA "$PY" "$HERE/offload.py" vlan-send "$IF_A" "$MAC_B" "$A4" "$B4" 100 9030 50
	inA "$PY" "$HERE/offload.py" vlan-send "$IF_A" "$MAC_B" "$A4" "$B4" 100 9031 40
	inA "$PY" "$HERE/offload.py" vlan-send "$IF_A" "$MAC_B" "$A4" "$B4" 0 9032 30
	sleep 0.5
	stats "$W/v1.$mode"
	got="$(D "$W/v0.$mode" "$W/v1.$mode" rules.10.packets)/$(D "$W/v0.$mode" "$W/v1.$mode" rules.11.packets)/$(D "$W/v0.$mode" "$W/v1.$mode" rules.12.packets)/$(D "$W/v0.$mode" "$W/v1.$mode" rules.13.packets)"
	r=0; [ "$got" = 50/40/0/30 ] || r=1
	expect $r "tagged frames: rules 10/11/12/13 (vlan 100, 100 + ether type ip, vlan 101, vlan 0) counted 50/40/0/30" "got $got"
	"$XWALL" detach "$IF_B" >/dev/null
done

e2e_done
