#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# End-to-end tests of `reject` with real sockets across a veth pair between
# two namespaces; xwall runs on B's end, in each attach mode that works on
# veth (XDP native, XDP generic/skb, TC), with the TC egress filter too.
# B (and A, for egress) listen on the rejected ports, so an answer can only
# come from xwall, never from the kernel's own "nothing listens here".
#
#   rule 10 in  tcp dport 7001 reject     A connects to B: refused at once
#   rule 11 in  udp dport 7002 reject     A's connected UDP socket: ECONNREFUSED
#   rule 12 in  icmp type 3 code 1 reject         an ICMP error from A gets no answer
#   rule 13 in  icmpv6 type 1 code 3 reject       ... nor an ICMPv6 error
#   rule 14 in  udp dport 7003 reject     broadcast: no answer; a flood: the
#                                         answers are rate-limited
#   rule 20 out tcp dport 7101 reject     B connects to A: refused at once
#   rule 21 out udp dport 7102 reject     B's connected UDP socket: ECONNREFUSED
#
# (Rules 12 and 13 name the codes the test sends: the answers to B's egress
# packets, port unreachable, enter B's stack through the ingress hook and
# pass its rules like any received packet.)
#
# Checks, per mode and per family: refused, within 1 s (a dropped SYN would
# time out after 3 s); the reasons reject_silent / reject_limited count the
# packets not answered; the control port 7000 still connects.  Last,
# `xwall test` and `xwall verify` on the live datapath see reject and answer
# nothing (probe frames), and `rule list` prints it.
#
# Usage: tests/e2e/reject.sh (root; namespaces xwrj-a/xwrj-b, veth
# xwrj0/xwrj1), e.g. /work/isolate.sh tests/e2e/reject.sh.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$HERE/lib.sh"
e2e_init reject
NS_A=xwrj-a
NS_B=xwrj-b
IF_A=xwrj0
IF_B=xwrj1
A4=10.203.0.1
B4=10.203.0.2
A6=fd00:203::1
B6=fd00:203::2
PY=/usr/bin/python3
export NS_A NS_B IF_A IF_B A4 B4 A6 B6 PY

if [ "${1:-}" != --inner ]; then
	bed() {
		XW_IF_A=$IF_A XW_IF_B=$IF_B XW_A4=$A4/24 XW_B4=$B4/24 XW_A6=$A6/64 XW_B6=$B6/64 \
			e2e_bed "$1" "$NS_A" "$NS_B"
	}
	W=$(mktemp -d /tmp/xwrj.XXXXXX)
	export W
	cleanup() {
		bed down || true
		rm -rf "$W"
	}
	trap cleanup EXIT
	bed fresh
	rc=0
	ip netns exec "$NS_B" timeout -k 5 170 bash "$0" --inner || rc=$?
	exit $rc
fi

SRV_A= SRV_B=
inner_cleanup() {
	[ -z "$SRV_A" ] || kill "$SRV_A" 2>/dev/null || true
	[ -z "$SRV_B" ] || kill "$SRV_B" 2>/dev/null || true
	"$XWALL" detach --all >/dev/null 2>&1 || true
}
e2e_trap inner_cleanup
mount -t bpf bpf /sys/fs/bpf

inA() { ip netns exec "$NS_A" "$@"; }
rj() { "$PY" "$HERE/reject.py" "$@"; }
# stat KIND NAME: packets of verdict or reason NAME (KIND verdicts|reasons)
stat() {
	"$XWALL" stats --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]][sys.argv[2]]["packets"])' "$1" "$2"
}
# refused_fast OUTPUT: "refused SECS" with SECS < 1
refused_fast() {
	case "$1" in refused\ *) ;; *) return 1 ;; esac
	"$PY" -c 'import sys; sys.exit(0 if float(sys.argv[1]) < 1 else 1)' "${1#refused }"
}

# listeners on both sides, before any rule (so no answer is the kernel's)
rj serve 7000 7001 7002 7003 >"$W/srv_b" 2>&1 &
SRV_B=$!
inA "$PY" "$HERE/reject.py" serve 7100 7101 7102 >"$W/srv_a" 2>&1 &
SRV_A=$!
for _ in $(seq 50); do
	grep -q serving "$W/srv_b" 2>/dev/null && grep -q serving "$W/srv_a" 2>/dev/null && break
	sleep 0.1
done

cat >"$W/rules" <<EOF
policy pass
policy out pass
rule 10 in tcp dport 7001 reject
rule 11 in udp dport 7002 reject with icmpx type port-unreachable
rule 12 in icmp type 3 code 1 reject
rule 13 in icmpv6 type 1 code 3 reject
rule 14 in udp dport 7003 reject
rule 20 out tcp dport 7101 reject with tcp reset
rule 21 out udp dport 7102 reject
EOF

# XDP_TX on veth reaches the peer only when the peer runs an XDP program
# (drivers/net/veth.c; its GRO NAPI alone did not deliver the frames here):
# A's end gets one, xwall with no rules in A's own namespace and bpffs (the
# attachment goes with the veth at the end).  A real NIC has no such need.
inA "$XWALL" attach "$IF_A" --mode native >/dev/null

LABEL=baseline
"$XWALL" attach "$IF_B" --mode skb >/dev/null
"$XWALL" apply "$W/rules"
o=$(inA "$PY" "$HERE/reject.py" tcp "$B4" 7000)
expect_eq "$o" connected "A connects to B:7000 (no rule)"
"$XWALL" detach --all >/dev/null

for mode in native skb tc; do
	LABEL=$mode
	if ! "$XWALL" attach "$IF_B" --mode "$mode" --egress >"$W/attach" 2>&1; then
		fail "attach --mode $mode --egress" "$(cat "$W/attach")"
		continue
	fi
	"$XWALL" apply "$W/rules"
	for fam in 4 6; do
		if [ $fam = 4 ]; then A=$A4 B=$B4; else A=$A6 B=$B6; fi
		o=$(inA "$PY" "$HERE/reject.py" tcp "$B" 7001)
		st refused_fast "$o"; expect $R "IPv$fam: TCP connect A->B:7001 refused within 1 s" "$o"
		o=$(inA "$PY" "$HERE/reject.py" udp "$B" 7002)
		st refused_fast "$o"; expect $R "IPv$fam: UDP send A->B:7002 gets ECONNREFUSED" "$o"
		o=$(rj tcp "$A" 7101)
		st refused_fast "$o"; expect $R "IPv$fam: egress TCP connect B->A:7101 refused within 1 s" "$o"
		o=$(rj udp "$A" 7102)
		st refused_fast "$o"; expect $R "IPv$fam: egress UDP send B->A:7102 gets ECONNREFUSED" "$o"
		o=$(inA "$PY" "$HERE/reject.py" tcp "$B" 7000)
		expect_eq "$o" connected "IPv$fam: A->B:7000 still connects"
		s0=$(stat reasons reject_silent)
		o=$(inA "$PY" "$HERE/reject.py" icmperr "$B")
		s1=$(stat reasons reject_silent)
		expect_eq "$o" noreply "IPv$fam: an ICMP error from A (rejected) gets no answer"
		st test "$s1" -gt "$s0"; expect $R "IPv$fam: ... counted as reject_silent" "$s0 -> $s1"
	done
	s0=$(stat reasons reject_silent)
	inA "$PY" "$HERE/reject.py" bcast 10.203.0.255 7003 >/dev/null
	sleep 0.2
	s1=$(stat reasons reject_silent)
	st test "$s1" -gt "$s0"; expect $R "a broadcast datagram (rejected) is not answered: reject_silent" "$s0 -> $s1"
	# the answers to a flood are capped per CPU: burst 50, then 1000/s
	r0=$(stat verdicts reject) l0=$(stat reasons reject_limited) q0=$(stat reasons reject_silent)
	o=$(inA "$PY" "$HERE/reject.py" flood "$B4" 7003 3000)
	sleep 0.2
	r1=$(stat verdicts reject) l1=$(stat reasons reject_limited) q1=$(stat reasons reject_silent)
	rej=$((r1 - r0)) lim=$((l1 - l0)) ans=$((r1 - r0 - (l1 - l0) - (q1 - q0)))
	secs=${o##* }
	cpus=$(nproc)
	cap=$("$PY" -c 'import sys; print(int((50 + 1000 * float(sys.argv[1]) + 10) * int(sys.argv[2])))' "$secs" "$cpus")
	echo "  $mode flood: $o: $rej rejected, $ans answered, $lim over the limit ($cpus CPUs, cap $cap)"
	st test "$rej" -ge 2900; expect $R "flood: the datagrams were rejected" "$rej of 3000"
	st test "$lim" -gt 0; expect $R "flood: some were over the rate limit (reject_limited)" "$lim"
	st test "$ans" -le "$cap"; expect $R "flood: answers within burst + rate per CPU" "$ans > $cap"
	"$XWALL" detach --all >/dev/null
	sleep 1.1   # a full bucket for the next mode
done

LABEL=test
"$XWALL" attach "$IF_B" --mode skb >/dev/null
"$XWALL" apply "$W/rules"
"$PY" - "$W/syn.pcap" "$A4" "$B4" <<'PYEOF'
import sys
from scapy.all import Ether, IP, TCP, wrpcap
wrpcap(sys.argv[1], [Ether() / IP(src=sys.argv[2], dst=sys.argv[3]) / TCP(dport=7001, flags="S"),
                     Ether() / IP(src=sys.argv[2], dst=sys.argv[3]) / TCP(dport=7000, flags="S")])
PYEOF
"$XWALL" test --pcap "$W/syn.pcap" >"$W/test.out"
st grep -Eq '^0 +reject +rule 10 ' "$W/test.out"; expect $R "xwall test says reject (rule 10) for a SYN to 7001" "$(cat "$W/test.out")"
st grep -Eq '^1 +pass +rule - ' "$W/test.out"; expect $R "... and pass for 7000" "$(cat "$W/test.out")"
r0=$(stat verdicts reject)
st test "$r0" = 0; expect $R "the probe frames counted nowhere" "reject $r0"
st "$XWALL" verify >"$W/verify" 2>&1; expect $R "xwall verify: the live datapath implements the reject rules" "$(tail -3 "$W/verify")"
r0=$(stat verdicts reject)
st test "$r0" = 0; expect $R "... and its probe frames answered nothing, counted nowhere" "reject $r0"
"$XWALL" rule list >"$W/list"
st grep -q 'rule 11 in proto udp dport 7002 reject$' "$W/list"; expect $R "rule list prints reject" "$(cat "$W/list")"
e2e_done
