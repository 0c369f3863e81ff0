#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# xwall import against nftables itself.  For each rule set in tests/import/
# (host and router, nft text and iptables-save):
#   1. `xwall import` translates it (exit 0, a valid rule file);
#   2. nft rule sets: loaded into the kernel and listed back with `nft -j`,
#      the JSON imports to the same rules as the text;
#   3. the same random packets (fresh seed, printed) go across a veth pair
#      twice: once into the rule set loaded in the kernel (nftables, or
#      iptables-nft for dumps) with an observation chain after it that
#      records each accepted packet's IP id / IPv6 flow label in a set; once
#      into xwall attached with the translation, a packet socket recording
#      what got through.  Every packet must get the same verdict, and both
#      verdicts must occur.
# Conntrack runs with nf_conntrack_tcp_loose=0, as xwall tracks flows (no
# pickup of a connection in its middle).
# The forward chain of a router is loaded at the input hook for the
# reference (the packets are addressed to the namespace itself); its
# matches are what is compared.
# Runs in private mount and network namespaces of its own (unshare); root.
# Environment: SEED, COUNT (packets per rule set, default 600), XWALL.
set -eu

. "$(dirname "$0")/lib.sh"
e2e_init import
PY=/usr/bin/python3
HELP=$HERE/import.py
RX=$ROOT/scripts/testbed.py

if [ "${XW_IMPORT_INNER:-}" != 1 ]; then
	for t in nft iptables-restore unshare; do
		command -v "$t" >/dev/null || { echo "FAIL import: $t missing (make deps)" >&2; exit 1; }
	done
	SEED=${SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
	export SEED XWALL
	XW_IMPORT_INNER=1 exec unshare --mount --net --propagation private "$0" "$@"
fi

mount -t sysfs sysfs /sys
mount -t bpf bpf /sys/fs/bpf
e2e_workdir xwall-e2e-import
e2e_trap '"$XWALL" detach --all >/dev/null 2>&1 || true; rm -rf "$W"'
COUNT=${COUNT:-600}
echo "import.sh: seed $SEED"

ip link set lo up
for k in all default; do
	sysctl -qw net.ipv4.conf.$k.rp_filter=0 net.ipv6.conf.$k.accept_dad=0 \
		net.ipv6.conf.$k.router_solicitations=0 net.ipv6.conf.$k.accept_ra=0
done
ip link add ia type veth peer name ib
sysctl -qw net.ipv4.conf.ib.rp_filter=0
ethtool -K ib gro off >/dev/null 2>&1 || true
ip link set ia up
ip link set ib up
ip addr add 10.99.0.2/24 dev ib
ip addr add 10.1.2.10/32 dev ib
ip addr add 10.1.2.11/32 dev ib
ip -6 addr add fd99::2/64 dev ib nodad
MAC_B=$(cat /sys/class/net/ib/address)

cat >"$W/obs.nft" <<'EOF'
table inet xwobs {
	set s4 { typeof ip id; flags dynamic; size 65535; }
	set s6 { typeof ip6 flowlabel; flags dynamic; size 65535; }
	chain in {
		type filter hook input priority 100; policy accept;
		meta nfproto ipv4 add @s4 { ip id }
		meta nfproto ipv6 add @s6 { ip6 flowlabel }
	}
}
EOF

rules_only() { grep -v '^#' "$1"; }

run_one() {
	f=$1 kind=$2
	shift 2
	name=$(basename "$f")
	if ! "$XWALL" import "$kind" "$@" "$f" >"$W/out.rules" 2>"$W/imp.err"; then
		fail "$name: import: $(cat "$W/imp.err")"
		return
	fi
	"$XWALL" apply --check "$W/out.rules" >/dev/null 2>&1 || { fail "$name: translation does not apply"; return; }
	pass "$name: imported, $(grep -c '^rule' "$W/out.rules") rules"

	nft flush ruleset
	# 2. nft -j round trip
	if [ "$kind" = nft ]; then
		nft -f "$f" || { fail "$name: nft refuses it"; return; }
		nft -j list ruleset >"$W/ruleset.json"
		if "$XWALL" import nft "$@" "$W/ruleset.json" >"$W/json.rules" 2>"$W/json.err" &&
			diff <(rules_only "$W/out.rules") <(rules_only "$W/json.rules") >"$W/json.diff"; then
			pass "$name: nft -j list ruleset imports to the same rules"
		else
			fail "$name: JSON import differs: $(cat "$W/json.err") $(head -5 "$W/json.diff" | tr '\n' ' ')"
		fi
		nft flush ruleset
	fi

	# 3. reference verdicts: the rule set in the kernel, forward moved to input
	if grep -q '(hook forward)' "$W/out.rules"; then
		if [ "$kind" = nft ]; then
			sed 's/hook input/hook XWIN/; s/hook forward/hook input/; s/hook XWIN/hook forward/' "$f" >"$W/ref"
		else
			sed 's/INPUT/XWIN/g; s/FORWARD/INPUT/g; s/XWIN/FORWARD/g' "$f" >"$W/ref"
		fi
	else
		cp "$f" "$W/ref"
	fi
	if [ "$kind" = nft ]; then
		nft -f "$W/ref" || { fail "$name: nft refuses the reference"; return; }
	else
		iptables-restore <"$W/ref" || { fail "$name: iptables-restore refuses it"; return; }
	fi
	nft -f "$W/obs.nft"
	# xwall's flow tracking picks up no connection in the middle (a first
	# packet without SYN is invalid): conntrack's tcp_loose=0
	sysctl -qw net.netfilter.nf_conntrack_tcp_loose=0
	"$PY" "$HELP" gen "$f" "$SEED" "$COUNT" "$W/pkts.pcap" "$W/meta.json" \
		--dst4 10.99.0.2,10.1.2.10,10.1.2.11 --dst6 fd99::2 --dmac "$MAC_B"
	"$PY" "$HELP" send ia "$W/pkts.pcap"
	sleep 0.5
	nft -j list set inet xwobs s4 >"$W/s4.json"
	nft -j list set inet xwobs s6 >"$W/s6.json"
	nft flush ruleset
	iptables -F 2>/dev/null || true

	# xwall with the translation
	"$XWALL" apply "$W/out.rules" >/dev/null || { fail "$name: apply"; return; }
	"$XWALL" attach ib >/dev/null || { fail "$name: attach"; return; }
	rm -f "$W/rx.ready"
	"$PY" "$RX" rx ib "$W/arrived.json" --ready "$W/rx.ready" &
	rxpid=$!
	while [ ! -e "$W/rx.ready" ]; do sleep 0.05; done
	"$PY" "$HELP" send ia "$W/pkts.pcap"
	sleep 0.5
	kill -TERM $rxpid
	wait $rxpid
	"$XWALL" detach --all >/dev/null
	if "$PY" "$HELP" compare "$W/meta.json" "$W/s4.json" "$W/s6.json" "$W/pkts.pcap" \
		"$W/arrived.json" >"$W/cmp.out"; then
		pass "$name: same verdicts as nftables: $(head -1 "$W/cmp.out")"
	else
		fail "$name: verdicts differ from nftables:"
		cat "$W/cmp.out"
	fi
}

LABEL=rulesets
for f in "$ROOT"/tests/import/*.nft; do
	run_one "$f" nft
done
for f in "$ROOT"/tests/import/*.iptables; do
	case "$f" in
	*/host.iptables) run_one "$f" iptables --chain INPUT ;;
	*) run_one "$f" iptables ;;
	esac
done

LABEL=errors
# what cannot be expressed is an error that names the line, never dropped
printf 'table inet f {\n\tchain in {\n\t\ttype filter hook input priority 0;\n\t\ttcp dport 22 accept\n\t\tmeta mark 0x1 drop\n\t}\n}\n' >"$W/bad.nft"
if ! "$XWALL" import nft "$W/bad.nft" >"$W/bad.out" 2>"$W/bad.err" && [ ! -s "$W/bad.out" ] &&
	grep -q "bad.nft:5:3: 'meta mark 0x1 drop'" "$W/bad.err"; then
	pass "an inexpressible nft statement is an error naming FILE:LINE:COL and the construct"
else
	fail "bad nft input: $(cat "$W/bad.err")"
fi
printf '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n-A INPUT -m recent --rcheck -j DROP\nCOMMIT\n' >"$W/bad.ipt"
if ! "$XWALL" import iptables "$W/bad.ipt" >"$W/bad.out" 2>"$W/bad.err" && [ ! -s "$W/bad.out" ] &&
	grep -q "bad.ipt:4:13: match module 'recent'" "$W/bad.err"; then
	pass "an inexpressible iptables match is an error naming FILE:LINE:COL and the construct"
else
	fail "bad iptables input: $(cat "$W/bad.err")"
fi

echo "import.sh: seed $SEED"
e2e_done
