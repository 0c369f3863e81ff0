#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# xwall demo (`make demo`): two network namespaces joined by a veth pair,
# xwall on the receiving end, a pcap of mixed traffic replayed from the other
# end, and what the firewall made of it.  Needs root.  Cleans up after itself.
#
#   xwdemo-a (10.199.0.1, xw-demo-a) ---veth--- xw-demo-b (10.199.0.2, xwdemo-b)
#        tcpreplay sends here                      xwall (XDP) filters here
#
# All xwall commands run in ONE shell inside xwdemo-b (this script again, with
# --inner): `ip netns exec` gives each command its own /sys and so its own
# bpffs, where xwall keeps its state.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
XWALL=${XWALL:-$ROOT/build/xwall}
PY=/usr/bin/python3            # the python3 that has scapy
RULES=${RULES:-$HERE/demo.rules}
NS_A=xwdemo-a
NS_B=xwdemo-b
XW_IF_A=xw-demo-a
XW_IF_B=xw-demo-b
export XWALL PY RULES NS_A NS_B XW_IF_A XW_IF_B ROOT

title() { printf '\n== %s\n' "$*"; }
run() { echo "\$ xwall $*"; "$XWALL" "$@"; }

inner() {
	mount -t bpf bpf /sys/fs/bpf
	trap '"$XWALL" detach --all >/dev/null 2>&1 || true' EXIT

	title "Attach xwall to $IF_B in $NS_B (native XDP)"
	run attach "$IF_B" --mode native
	run status

	title "Rule set ($RULES)"
	run apply "$RULES"
	run rule list

	title "Traffic: frames that $NS_A will send (each carries a marker XWMnnnnnn)"
	"$PY" "$ROOT/tests/e2e/mkpcap.py" --dst-mac "$MAC_B" --out "$W/demo.pcap" \
		--manifest "$W/demo.json" 2>/dev/null
	"$PY" -c 'import json, sys
for p in json.load(open(sys.argv[1])):
    print("  %2d  %s  %s" % (p["index"], p["marker"], p["desc"]))' "$W/demo.json"

	title "Replay from $NS_A with tcpreplay; capture what gets through in $NS_B"
	rm -f "$W/rx.ready"
	"$PY" "$ROOT/tests/e2e/pkt.py" rx "$IF_B" "$W/rx.json" --ready "$W/rx.ready" &
	rx=$!
	while [ ! -e "$W/rx.ready" ]; do sleep 0.05; done
	ip netns exec "$NS_A" tcpreplay -i "$IF_A" --pps 200 "$W/demo.pcap" 2>&1 |
		grep -E 'Actual|Successful|Failed'
	sleep 0.3
	kill -TERM $rx
	wait $rx

	title "Verdicts: xwall test --pcap (each frame through the datapath) and what arrived at $NS_B"
	# --rules: a private copy of the datapath with the same rules, so the
	# live counters below show only the replayed traffic
	echo "\$ xwall test --pcap demo.pcap --rules $(basename "$RULES") --json"
	"$XWALL" test --pcap "$W/demo.pcap" --rules "$RULES" --json >"$W/test.jsonl"
	"$PY" - "$W/demo.json" "$W/test.jsonl" "$W/rx.json" <<-'EOF'
		import json, sys
		man = json.load(open(sys.argv[1]))
		test = {t["index"]: t for t in map(json.loads, open(sys.argv[2]))}
		seen = json.load(open(sys.argv[3]))["markers"]
		print("  %2s  %-44s %-7s %-8s %s" % ("#", "frame", "verdict", "by", "arrived at B"))
		agree = 0
		for p in man:
		    t = test[p["index"]]
		    by = "rule %d" % t["rule"] if t["rule"] is not None else t["reason"]
		    arrived = seen.get(p["marker"], 0) > 0
		    agree += arrived == (t["verdict"] == "pass")
		    print("  %2d  %-44s %-7s %-8s %s" % (p["index"], p["desc"][:44], t["verdict"], by,
		                                        "yes" if arrived else "-"))
		print("\n  %d of %d frames arrived; xwall test and the capture agree on %d of %d."
		      % (sum(1 for p in man if seen.get(p["marker"])), len(man), agree, len(man)))
	EOF

	title "Counters"
	run stats

	title "Detach"
	run detach "$IF_B"
}

if [ "${1:-}" = --inner ]; then
	inner
	exit 0
fi

[ "$(id -u)" = 0 ] || { echo "demo: needs root" >&2; exit 2; }
[ -x "$XWALL" ] || { echo "demo: $XWALL missing; run make" >&2; exit 2; }

W=$(mktemp -d /tmp/xwall-demo.XXXXXX)
export W
cleanup() {
	sh "$HERE/netns.sh" down "$NS_A" "$NS_B" >/dev/null 2>&1 || true
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

title "Test bed: $NS_A <-> $NS_B over a veth pair"
sh "$HERE/netns.sh" fresh "$NS_A" "$NS_B"
bedinfo=$(sh "$HERE/netns.sh" info "$NS_A" "$NS_B")   # fails the demo if a MAC is unreadable
eval "$bedinfo"
export IF_A IF_B MAC_A MAC_B
echo "  $NS_A: $IF_A $MAC_A 10.199.0.1/24 fd00:199::1/64"
echo "  $NS_B: $IF_B $MAC_B 10.199.0.2/24 fd00:199::2/64"

ip netns exec "$NS_B" sh "$HERE/demo.sh" --inner
title "Done: test bed removed"
