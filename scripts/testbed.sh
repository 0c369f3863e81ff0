#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Replay a capture through xwall on a veth pair and compare what arrives with
# what `xwall test` predicts.
#
#   scripts/testbed.sh --rules FILE --pcap FILE [--pps N] [--mode auto|native|skb]
#                      [--json] [--keep]
#
# Everything happens in private mount and network namespaces made here
# (unshare): a veth pair tb-a/tb-b, xwall with its own bpffs at /sys/fs/bpf,
# attached to tb-b.  The host's interfaces and any xwall pinned on the host
# are never touched.  Steps:
#   1. split the capture into replayable frames and the others (truncated,
#      non-Ethernet link type, shorter than an Ethernet header, larger than
#      the MTU): those are listed with the reason, not replayed;
#   2. rewrite the MAC addresses for the pair (tcprewrite: source tb-a,
#      destination tb-b); frames it changed beyond that (tcpreplay 4.4.3
#      "fixes" the IPv4 length of padded frames) are rewritten exactly;
#   3. predict each frame's verdict with `xwall test --rules` (a private,
#      unattached datapath that sees the frames in order, as tb-b will);
#   4. `xwall apply` the rules, attach to tb-b, record tb-b's arrivals with a
#      packet socket (XDP runs before it: dropped frames never show) and the
#      log events, replay with tcpreplay at --pps (default 1000);
#   5. per packet: arrived, predicted verdict and rule; then the stats and
#      events.  Exit 1 if an arrival differs from its prediction.
# Identical frames cannot be told apart on arrival: their arrivals are
# counted and given to the copies predicted to pass.  Rules with `limit` or
# `ct` can differ between the prediction (no time passes) and the replay.
# --json: one object per packet (index, arrived, predicted, rule, replayed,
# and match or why), then one summary object with the stats and events.
# Exit: 0 all as predicted, 1 mismatches or bad usage/input, 2 system error.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
XWALL=${XWALL:-$ROOT/build/xwall}
PY=/usr/bin/python3
HELPER=$HERE/testbed.py

usage() {
	echo "usage: $0 --rules FILE --pcap FILE [--pps N] [--mode auto|native|skb] [--json] [--keep]" >&2
	exit 1
}

if [ "${XW_TESTBED_INNER:-}" != 1 ]; then
	RULES="" PCAP="" PPS=1000 MODE=auto JSON="" KEEP=""
	while [ $# -gt 0 ]; do
		case "$1" in
		--rules) [ $# -ge 2 ] || usage; RULES=$2; shift 2 ;;
		--pcap) [ $# -ge 2 ] || usage; PCAP=$2; shift 2 ;;
		--pps) [ $# -ge 2 ] || usage; PPS=$2; shift 2 ;;
		--mode) [ $# -ge 2 ] || usage; MODE=$2; shift 2 ;;
		--json) JSON=--json; shift ;;
		--keep) KEEP=1; shift ;;
		-h|--help) sed -n '3,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
		*) usage ;;
		esac
	done
	[ -n "$RULES" ] && [ -n "$PCAP" ] || usage
	[ -r "$RULES" ] || { echo "testbed: cannot read $RULES" >&2; exit 1; }
	[ -r "$PCAP" ] || { echo "testbed: cannot read $PCAP" >&2; exit 1; }
	case "$PPS" in ''|*[!0-9]*|0) echo "testbed: --pps wants a positive integer" >&2; exit 1 ;; esac
	case "$MODE" in auto|native|skb) ;; *) usage ;; esac
	[ "$(id -u)" = 0 ] || { echo "testbed: needs root (namespaces, BPF)" >&2; exit 2; }
	for t in unshare tcpreplay tcprewrite ip ethtool "$PY" "$XWALL"; do
		command -v "$t" >/dev/null || { echo "testbed: $t not found (make deps; make)" >&2; exit 2; }
	done
	W=$(mktemp -d /tmp/xwall-testbed.XXXXXX)
	"$XWALL" apply --check "$RULES" >/dev/null || { rm -rf "$W"; exit 1; }
	cp "$RULES" "$W/rules"
	# test hook: predict with other rules than those attached (a mismatch)
	cp "${XW_TESTBED_PREDICT:-$RULES}" "$W/predict.rules"
	cp "$PCAP" "$W/in.pcap"
	rc=0
	XW_TESTBED_INNER=1 W=$W PPS=$PPS MODE=$MODE JSON=$JSON XWALL=$XWALL \
		unshare --mount --net --propagation private "$0" || rc=$?
	if [ -n "$KEEP" ]; then echo "testbed: files kept in $W" >&2; else rm -rf "$W"; fi
	exit $rc
fi

# ---- inside the private namespaces
# this network namespace's sysfs, and on it a bpffs of our own
mount -t sysfs sysfs /sys || { echo "testbed: cannot mount sysfs" >&2; exit 2; }
mount -t bpf bpf /sys/fs/bpf || { echo "testbed: cannot mount bpffs" >&2; exit 2; }
ip link set lo up
# a quiet link: no IPv6 (no MLD, RS, DAD) and no IPv4 address on either end,
# so every frame on it is the capture's
sysctl -qw net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.all.disable_ipv6=1
ip link add tb-a type veth peer name tb-b
ip link set tb-a mtu 1500 up
ip link set tb-b mtu 1500 up
# GRO would merge the frames the capture has apart
ethtool -K tb-b gro off >/dev/null 2>&1 || true
MAC_A=$(cat /sys/class/net/tb-a/address)
MAC_B=$(cat /sys/class/net/tb-b/address)

cleanup() {
	[ -z "${RX_PID:-}" ] || kill -TERM "$RX_PID" 2>/dev/null || true
	[ -z "${EV_PID:-}" ] || kill -TERM "$EV_PID" 2>/dev/null || true
	"$XWALL" detach --all >/dev/null 2>&1 || true
}
trap cleanup EXIT

n=$("$PY" "$HELPER" prep "$W/in.pcap" "$W" --mtu 1500)
if [ "$n" = 0 ]; then
	"$PY" -c 'import json,sys
for p in json.load(open(sys.argv[1]))["packets"]: print("%d not replayed: %s" % (p["index"], p["skip"]))' "$W/plan.json" >&2
	echo "testbed: no packet of the capture can be replayed" >&2
	exit 1
fi
tcprewrite --enet-smac="$MAC_A" --enet-dmac="$MAC_B" -i "$W/replay.pcap" -o "$W/rewritten.pcap" \
	>"$W/tcprewrite.log" 2>&1 || { cat "$W/tcprewrite.log" >&2; exit 2; }
"$PY" "$HELPER" rewritten "$W" "$MAC_A" "$MAC_B" >"$W/fixed" || exit 2

"$XWALL" test --pcap "$W/rewritten.pcap" --rules "$W/predict.rules" --json >"$W/predicted.json" 2>"$W/test.err" \
	|| { cat "$W/test.err" >&2; exit 2; }

"$XWALL" apply "$W/rules" >/dev/null || exit 2
"$XWALL" attach tb-b --mode "$MODE" >/dev/null || exit 2

"$XWALL" events --json >"$W/events.json" 2>"$W/events.err" &
EV_PID=$!
"$PY" "$HELPER" rx tb-b "$W/arrived.json" --ready "$W/rx.ready" &
RX_PID=$!
i=0
while [ ! -e "$W/rx.ready" ]; do
	i=$((i + 1))
	[ $i -lt 200 ] || { echo "testbed: the receiver did not start" >&2; exit 2; }
	sleep 0.05
done
sleep 0.2
tcpreplay -q -i tb-a --pps="$PPS" "$W/rewritten.pcap" >"$W/tcpreplay.log" 2>&1 \
	|| { cat "$W/tcpreplay.log" >&2; exit 2; }
sleep 0.5                      # the last frames and events drain
kill -TERM "$RX_PID"; wait "$RX_PID" || exit 2
RX_PID=""
kill -TERM "$EV_PID"; wait "$EV_PID" || true
EV_PID=""
"$XWALL" stats --json >"$W/stats.json" || exit 2
"$XWALL" detach --all >/dev/null || true
# shellcheck disable=SC2086
"$PY" "$HELPER" report "$W" $JSON
