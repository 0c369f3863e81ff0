#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The ClassBench sets as an nftables netdev ingress chain on a veth pair:
# per-packet CPU cost of the same first-match rules in nftables, for the
# ClassBench table of `make bench` (scripts/bench.sh runs this).
#
#   bench-cb-nft.sh DIR OUT SET...
#
# DIR holds SET.rules and SET.pcap (scripts/bench.sh makes them); OUT gets one
# line per set: "SET rules nft_rules load_s bed_ns nft_ns net_ns nft_kpps
# bed_kpps checked", and the human-readable table goes to stdout.
#
# Test bed (namespaces and interfaces named xwcb*, nothing else touched):
#
#   netns xwcb-gen                         netns xwcb-dut
#   trafgen (CPU 0) --> xwcb0 ==veth==> xwcb1 --> netdev ingress chain "in"
#                                          threaded NAPI, pinned to CPU 1
#
# Each set's rules become one netdev ingress chain (`policy accept` = xwall's
# `policy pass`; `rule P in src A/L dst B/L tcp sport X-Y dport Z drop` ->
# `ip saddr A/L ip daddr B/L tcp sport X-Y tcp dport Z drop`, in priority
# order, so the first matching rule decides as in xwall).  trafgen replays
# XWCB_FRAMES (256) frames spread evenly over the set's trace, over and over,
# as fast as it can.  Metric: CPU time of the DUT's NAPI thread (schedstat)
# per packet it received (rx_packets), which is all the DUT does for a packet
# (veth NAPI, GRO, the ingress hook, and for accepted frames ip_rcv, which
# drops them: their MAC is not the DUT's); "bed" is the same without the
# table, measured alternately with it; net = nft - bed is the chain's cost.
# Loading a set into nft is timed (`nft -f`, process start to exit); sets of
# more than XWCB_NFT_MAX rules (default 100000: none is sampled) are sampled:
# the first XWCB_NFT_MAX rules only, and the table says so.
#
# The verdicts are checked on every run: the frames carry the DUT's MAC, so
# each frame the chain accepts enters ip_rcv and is counted in the DUT
# namespace's Ip InReceives (then dropped: no route), each frame it drops is
# not; the drops (rx_packets - InReceives) must be the share of drops the
# oracle gives the replayed frames (SET.expected), within one replay of the
# frames (trafgen stops mid-replay).  Listing nft counters is no way to count:
# it dumps the whole ruleset (over a minute for 100,000 rules).
#
# Environment: XWCB_FRAMES (256), XWCB_SECS (measured seconds per run, 2),
# XWCB_REPEATS (3), XWCB_NFT_MAX (100000).  Needs root, trafgen, nft, ethtool.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${1:?usage: bench-cb-nft.sh DIR OUT SET...}
OUT=${2:?usage: bench-cb-nft.sh DIR OUT SET...}
shift 2
FRAMES=${XWCB_FRAMES:-256}
SECS=${XWCB_SECS:-2}
REPEATS=${XWCB_REPEATS:-3}
NFT_MAX=${XWCB_NFT_MAX:-100000}
PY=/usr/bin/python3
GEN=xwcb-gen DUT=xwcb-dut GDEV=xwcb0 DDEV=xwcb1
GEN_CPU=0 DUT_CPU=1 RT_PRIO=1

die() { echo "bench-cb-nft: $*" >&2; exit 2; }
log() { echo "bench-cb-nft: $*" >&2; }
for t in trafgen nft ethtool; do command -v $t >/dev/null || die "$t missing (make deps)"; done
[ "$(nproc)" -ge 2 ] || die "needs 2 CPUs (generator and DUT)"

W=$(mktemp -d /tmp/xwcb.XXXXXX)
TG_PID=
NN() { local ns=$1; shift; nsenter --net="/run/netns/$ns" -- "$@"; }
teardown() {
	if [ -n "$TG_PID" ]; then kill -INT "$TG_PID" 2>/dev/null || true; wait "$TG_PID" 2>/dev/null || true; fi
	for ns in $GEN $DUT; do
		if ip netns list | awk '{print $1}' | grep -qx "$ns"; then ip netns del "$ns"; fi
	done
}
cleanup() { local rc=$?; trap - EXIT INT TERM; teardown; rm -rf "$W"; exit $rc; }
teardown
trap cleanup EXIT
trap 'exit 130' INT TERM
taskset -pc "$GEN_CPU" $$ >/dev/null

for ns in $GEN $DUT; do
	ip netns add $ns
	ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 >/dev/null
	ip -n $ns link set lo up
done
ip link add $GDEV netns $GEN type veth peer name $DDEV netns $DUT
ip -n $GEN link set $GDEV up
ip -n $DUT link set $DDEV up
NN $GEN ethtool -K $GDEV tso off >/dev/null     # lets veth hand frames to the DUT's NAPI
NN $DUT ethtool -K $DDEV gro on >/dev/null      # NAPI on the DUT side
ip netns exec $DUT sh -c "echo 1 > /sys/class/net/$DDEV/threaded"
DMAC=$(ip -n $DUT -o link show dev $DDEV | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')

NAPI_PIDS=
pin_napi() {
	local p
	NAPI_PIDS=$(pgrep "^napi/$DDEV-" || true)
	[ -n "$NAPI_PIDS" ] || die "no NAPI thread for $DDEV"
	for p in $NAPI_PIDS; do
		taskset -pc "$DUT_CPU" "$p" >/dev/null
		chrt -f -p "$RT_PRIO" "$p"
	done
}
# "rx_packets InReceives" of the DUT
counts() {
	NN $DUT awk -v dev="$DDEV:" 'FILENAME == "/proc/net/dev" { if ($1 == dev) rx = $3; next }
		$1 == "Ip:" && $4 ~ /^[0-9]+$/ { inr = $4 } END { print rx, inr }' /proc/net/dev /proc/net/snmp
}
# "rx_packets napi_cpu_ns"
sample() {
	local files=() p
	for p in $NAPI_PIDS; do files+=("/proc/$p/schedstat"); done
	NN $DUT awk -v dev="$DDEV:" 'FILENAME == "/proc/net/dev" { if ($1 == dev) rx = $3; next }
		{ napi += $1 } END { printf "%s %.0f\n", rx, napi }' /proc/net/dev "${files[@]}"
}
# measure CFG: sets RES="ns_per_pkt kpps packets" and ACC="received accepted"
# (the whole run, warm-up included)
measure() {
	local a b t0 t1 c0 c1
	pin_napi
	c0=$(counts)
	ip netns exec $GEN taskset -c $GEN_CPU chrt -f $RT_PRIO timeout -s INT 120 \
		trafgen -c "$1" -o $GDEV -P 1 -Q -C -t 0 >"$W/trafgen.log" 2>&1 &
	TG_PID=$!
	sleep 0.5
	a=$(sample) t0=$(date +%s%N)
	sleep "$SECS"
	b=$(sample) t1=$(date +%s%N)
	kill -INT "$TG_PID" 2>/dev/null || true
	wait "$TG_PID" 2>/dev/null || true
	TG_PID=
	sleep 0.2
	c1=$(counts)
	ACC=$(echo "$c0 $c1" | awk '{ print $3 - $1, $4 - $2 }')
	RES=$(echo "$a $b $t0 $t1" | awk '{ n = $3 - $1; if (n <= 0) { print "0 0 0"; exit }
		printf "%.1f %.1f %d\n", ($4 - $2) / n, n / (($6 - $5) / 1e9) / 1e3, n }')
	[ "${RES%% *}" != 0 ] || { log "no packets arrived; trafgen said:"; cat "$W/trafgen.log" >&2; }
}

# prep SET: $W/SET.nft (chain), $W/SET.cfg (trafgen), $W/SET.want ("frames drops"
# per replay of the cfg's frames, from the oracle)
prep() {
	"$PY" - "$DIR/$1.rules" "$DIR/$1.pcap" "$DIR/$1.expected" "$W/$1" "$FRAMES" "$NFT_MAX" "$DDEV" \
		"$DMAC" <<'EOF'
import struct, sys
rules, pcap, expected, out, frames, nmax, dev, dmac = sys.argv[1:9]
dmac = bytes(int(x, 16) for x in dmac.split(":"))
frames, nmax = int(frames), int(nmax)
policy, body, n = "accept", [], 0
for line in open(rules):
    t = line.split()
    if not t or t[0].startswith("#"):
        continue
    if t[0] == "policy":
        policy = {"pass": "accept", "drop": "drop"}[t[1]]
        continue
    assert t[0] == "rule", line
    n += 1
    if n > nmax:
        continue
    i, m, proto = 3 if t[2] in ("in", "out") else 2, [], None
    assert t[2] == "in", line
    while i < len(t) - 1:
        k = t[i]
        if k in ("src", "dst"):
            m.append("ip %saddr %s" % (k[0], t[i + 1])); i += 2
        elif k in ("tcp", "udp"):
            proto = k; i += 1
            if i >= len(t) - 1 or t[i] not in ("sport", "dport"):
                m.append("meta l4proto " + k)
        elif k == "proto":
            m.append("meta l4proto %s" % t[i + 1]); i += 2
        elif k in ("sport", "dport"):
            assert proto, "ports without tcp/udp: " + line
            m.append("%s %s %s" % (proto, k, t[i + 1])); i += 2
        else:
            raise SystemExit("cannot convert %r in %s" % (k, line))
    v = {"pass": "accept", "drop": "drop"}[t[-1]]
    body.append("  %s %s\n" % (" ".join(m), v))
with open(out + ".nft", "w") as f:
    f.write("table netdev xwcb {\n chain in {\n"
            "  type filter hook ingress device %s priority 0; policy %s;\n" % (dev, policy))
    f.writelines(body)
    f.write(" }\n}\n")
# frames spread evenly over the trace (as xwbench cb picks them)
data = open(pcap, "rb").read()
assert data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"), "little-endian pcap expected"
pk, off = [], 24
while off < len(data):
    cl = struct.unpack_from("<I", data, off + 8)[0]
    pk.append(data[off + 16:off + 16 + cl]); off += 16 + cl
k = min(frames, len(pk))
pick = [(i * len(pk) + len(pk) // (2 * k)) // k for i in range(k)]
exp = {}
for line in open(expected):
    if line.startswith("#"):
        continue
    a = line.split()
    exp[int(a[0])] = (a[1], a[2])
drops = 0
with open(out + ".cfg", "w") as f:
    for p in pick:
        fr = dmac + pk[p][6:]      # the DUT's MAC: accepted frames reach ip_rcv
        f.write("{ " + ", ".join("0x%02x" % b for b in fr) + " }\n")
        # a sampled chain decides by its first nmax rules only: no oracle then
        drops += exp[p][0] == "drop"
with open(out + ".want", "w") as f:
    f.write("%d %d %d %d\n" % (k, drops, n, min(n, nmax)))
EOF
}

printf '%-13s | %7s | %9s | %9s | %9s | %9s | %10s | %9s | %s\n' set rules "nft rules" "nft -f s" \
	"bed ns" "nft ns" "nft net ns" "nft kpps" "frames check"
: >"$OUT"
for s in "$@"; do
	[ -f "$DIR/$s.rules" ] && [ -f "$DIR/$s.pcap" ] || die "$DIR/$s.rules or .pcap missing"
	prep "$s"
	read -r k drops nrules nloaded <"$W/$s.want"
	log "$s: $nrules rules ($nloaded into nft), $k frames replayed"
	NN $DUT nft flush ruleset
	t0=$(date +%s%N)
	NN $DUT nft -f "$W/$s.nft" || die "$s: nft -f failed"
	t1=$(date +%s%N)
	load_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
	NN $DUT nft flush ruleset
	bed=() nftv=() kp=() bk=() check=ok
	for ((r = 0; r < REPEATS; r++)); do
		measure "$W/$s.cfg"; bed+=("$RES")
		set -- $ACC
		[ "$1" = "$2" ] || die "bed without a table: $1 frames received, $2 reached ip_rcv (the count is off)"
		NN $DUT nft -f "$W/$s.nft"
		measure "$W/$s.cfg"; nftv+=("$RES")
		NN $DUT nft flush ruleset
		# verdict check: drops = received - accepted, against the oracle's share
		set -- $ACC
		if [ "$nloaded" != "$nrules" ]; then
			check="sampled, unchecked"
		elif [ "$1" -le 0 ]; then
			check="nothing received"
		else
			want=$(awk -v t="$1" -v k="$k" -v d="$drops" 'BEGIN { printf "%.0f", t * d / k }')
			got=$(($1 - $2))
			if [ $((got - want)) -gt "$k" ] || [ $((want - got)) -gt "$k" ]; then
				check="MISMATCH (drops $got of $1, oracle about $want)"
				log "$s: nft dropped $got of $1 frames, the oracle says about $want"
			fi
		fi
	done
	# medians of the repeats
	med() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { printf "%.1f\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
	bns=$(med $(printf '%s\n' "${bed[@]}" | cut -d' ' -f1))
	nns=$(med $(printf '%s\n' "${nftv[@]}" | cut -d' ' -f1))
	nkp=$(med $(printf '%s\n' "${nftv[@]}" | cut -d' ' -f2))
	bkp=$(med $(printf '%s\n' "${bed[@]}" | cut -d' ' -f2))
	net=$(awk -v a="$nns" -v b="$bns" 'BEGIN { printf "%.1f", a - b }')
	lbl=$nloaded
	[ "$nloaded" = "$nrules" ] || lbl="$nloaded*"
	printf '%-13s | %7s | %9s | %9s | %9s | %9s | %10s | %9s | %s\n' "$s" "$nrules" "$lbl" "$load_s" \
		"$bns" "$nns" "$net" "$nkp" "$check"
	echo "$s $nrules $nloaded $load_s $bns $nns $net $nkp $bkp ${check%% *}" >>"$OUT"
done
