#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Operational end-to-end tests of xwall: rate limits, log events and stats,
# with real traffic across a veth pair between two namespaces.  xwall runs on
# B's veth end (XDP, attach default mode); A sends raw UDP frames at a paced
# rate (a Python AF_PACKET sender, the schedule absolute so the rate does not
# drift); a packet socket in B (pkt.py rx) counts what got through.
#
#   a  `rule 10 in udp dport 9999 limit over 200/s burst 20 drop` and
#      `rule 20 in udp dport 9999 pass` (policy pass), 1000 pkt/s for 3 s:
#      rule 20 (passed) == 200 * T + 20 within 10% (T: the sender's measured
#      first-to-last time); the receiver saw exactly rule 20's count; rule 10
#      + rule 20 == frames sent
#   b  the same with `per src`, two sources at 1000 pkt/s each (interleaved):
#      each source passes 200 * T + 20 within 10% (rule 20 / 21 per source,
#      and the receiver per source)
#   c  `xwall events --pcap FILE --count K` while logged (udp dport 7777, K
#      frames with sports 20001..) and unlogged traffic (dport 7778) flow:
#      exit 0, `tcpdump -r` reads exactly the K logged frames in order, with
#      their addresses, ports and lengths; `xwall events --json --count K`:
#      every line has the keys of docs/formats.md "events" with the right values, and a final
#      line {"events": K, "lost": 0}; `--count K` with more than K events
#      already waiting prints exactly K
#   d  `xwall stats --prometheus` passes `promtool check metrics` (promtool is
#      required: missing means FAIL); `timeout 3 xwall stats --watch 1` while
#      600 pkt/s flow shows rates ("/s") and rule 6's pkt/s within 20% of 600
#
# Usage: tests/e2e/ops.sh   (root; namespaces xwop-a/xwop-b, veth xwop0/xwop1)
# One PASS/FAIL line per check with the measured numbers; exit 1 if any
# check failed.  KEEP=1 keeps the work directory.
#
# bpffs: `ip netns exec` gives its command a private /sys and each bpffs mount
# is its own instance, so everything after the setup runs as ONE process tree
# inside B (this script again, with --inner); A's side runs through
# `ip netns exec xwop-a` from there (/tmp is shared, /sys is not).
set -eu

. "$(dirname "$0")/lib.sh"
e2e_init ops
PY=/usr/bin/python3            # the python3 that has scapy
NS_A=xwop-a
NS_B=xwop-b
IF_A=xwop0
IF_B=xwop1
A4=10.203.0.1
A4B=10.203.0.3                 # second source (per src)
B4=10.203.0.2
RATE=200                       # limit N/s
BURST=20                       # limit burst B
PPS=1000                       # sender rate (per source)
SECS=3                         # sending time
export PY HERE NS_A NS_B IF_A IF_B A4 A4B B4 RATE BURST PPS SECS

# ------------------------------------------------------------------ outer side
if [ "${1:-}" != --inner ]; then
	e2e_outer xwop                            # also removes a killed run's leftovers
	ip -n "$NS_A" addr add "$A4B/24" dev "$IF_A"
	e2e_macs
	rc=0
	timeout -k 5 85 ip netns exec "$NS_B" bash "$0" --inner || rc=$?
	[ $rc -ne 124 ] || echo "FAIL ops: timed out"
	exit $rc
fi

# ------------------------------------------------------------------ inner side
# Runs in namespace B with its own bpffs; $W and the MACs come from outside.

e2e_inner

xw() { timeout 10 "$XWALL" "$@"; }
inA() { timeout 20 ip netns exec "$NS_A" "$@"; }
IFX_B=$(cat "/sys/class/net/$IF_B/ifindex")

cat >"$W/ops.py" <<'EOF'
import json, socket, struct, sys, time

def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def frame(dmac, smac, src, dst, sport, dport, ident, payload):
    ul = 8 + len(payload)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ul, ident & 0xffff, 0, 64, 17, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return dmac + smac + b"\x08\x00" + ip + struct.pack("!HHHH", sport, dport, ul, 0) + payload

def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))

def send(a):
    """send IFACE SMAC DMAC DST DPORT SPORT SPORT_STEP PPS N PAYLOAD_LEN SRC:LETTER...
    N frames per source, sources interleaved, PPS per source; prints JSON"""
    iface, smac, dmac, dst = a[0], mac(a[1]), mac(a[2]), a[3]
    dport, sport, step, pps, n, plen = (int(x) for x in a[4:10])
    srcs = [x.split(":") for x in a[10:]]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    total, rate = n * len(srcs), pps * len(srcs)
    frames = []
    for i in range(total):
        src, letter = srcs[i % len(srcs)]
        k = i // len(srcs)
        pay = (b"XW%s%06d" % (letter.encode(), k % 1000000)).ljust(plen, b".")
        frames.append(frame(dmac, smac, src, dst, (sport + k * step) & 0xffff, dport, k, pay))
    sent = {x[0]: 0 for x in srcs}
    late = 0.0
    t0 = time.perf_counter() + 0.01
    first = last = None
    for i, f in enumerate(frames):
        target = t0 + i / rate
        while True:
            d = target - time.perf_counter()
            if d <= 0:
                break
            if d > 0.002:
                time.sleep(d - 0.001)
        now = time.perf_counter()
        late = max(late, now - target)
        s.send(f)
        if first is None:
            first = now
        last = now
        sent[srcs[i % len(srcs)][0]] += 1
    print(json.dumps({"sent": sent, "duration": last - first, "max_late": late}))

def rule(a):
    """rule STATS.json PRIO -> packets (0 when the rule is not there)"""
    d = json.load(open(a[0]))
    for r in d["rules"]:
        if r["prio"] == int(a[1]):
            print(r["packets"])
            return
    print(0)

def delta(a):
    """delta BEFORE.json AFTER.json PRIO"""
    def get(f):
        for r in json.load(open(f))["rules"]:
            if r["prio"] == int(a[2]):
                return r["packets"]
        return 0
    print(get(a[1]) - get(a[0]))

def rx(a):
    """rx RX.json LETTER -> frames with that marker letter"""
    d = json.load(open(a[0]))
    print(sum(v for k, v in d["markers"].items() if k[2] == a[1]))

def sent(a):
    """sent SEND.json SRC | duration SEND.json"""
    d = json.load(open(a[0]))
    print(d["sent"][a[1]])

def duration(a):
    print("%.4f" % json.load(open(a[0]))["duration"])

def within(a):
    """within VALUE EXPECTED PCT: exit 0 if |VALUE-EXPECTED| <= PCT% of EXPECTED"""
    v, e, p = float(a[0]), float(a[1]), float(a[2])
    sys.exit(0 if abs(v - e) <= e * p / 100 else 1)

def expected(a):
    """expected RATE SECS BURST"""
    print("%.1f" % (float(a[0]) * float(a[1]) + float(a[2])))

def evjson(a):
    """evjson EVENTS.jsonl K IFINDEX SRC DST DPORT SPORT0 LEN RULE VERDICT"""
    k, ifx, src, dst, dport, sport0, ln, rl, verdict = (
        int(a[1]), int(a[2]), a[3], a[4], int(a[5]), int(a[6]), int(a[7]), int(a[8]), a[9])
    keys = {"time_ns", "ifindex", "dir", "rule", "verdict", "len", "src", "dst", "proto",
            "sport", "dport", "lost"}
    lines = [l for l in open(a[0]).read().splitlines() if l.strip()]
    errs = []
    try:
        objs = [json.loads(l) for l in lines]
    except ValueError as e:
        sys.exit("not JSON: %s" % e)
    if not objs:
        sys.exit("no output")
    evs, final = objs[:-1], objs[-1]
    if final != {"events": k, "lost": 0}:
        errs.append("final line %s, expected {'events': %d, 'lost': 0}" % (final, k))
    if len(evs) != k:
        errs.append("%d event lines, expected %d" % (len(evs), k))
    now = time.time_ns()
    for i, e in enumerate(evs):
        if set(e) != keys:
            errs.append("line %d keys %s" % (i, sorted(e)))
            continue
        want = {"ifindex": ifx, "dir": "in", "rule": rl, "verdict": verdict, "len": ln,
                "src": src, "dst": dst, "proto": 17, "sport": sport0 + i, "dport": dport,
                "lost": 0}
        bad = {f: (e[f], v) for f, v in want.items() if e[f] != v}
        if bad:
            errs.append("line %d: %s (got, expected)" % (i, bad))
        if not (now - 60e9 < e["time_ns"] <= now):
            errs.append("line %d: time_ns %d not within the last minute" % (i, e["time_ns"]))
    if errs:
        sys.exit("; ".join(errs[:5]))

def evcount(a):
    """evcount EVENTS.jsonl -> event lines (without the final line)"""
    n = 0
    for l in open(a[0]):
        if l.strip() and "time_ns" in json.loads(l):
            n += 1
    print(n)

def tcpd(a):
    """tcpd TCPDUMP.txt K SRC DST DPORT SPORT0 UDPLEN: tcpdump -nn -r lines"""
    k, src, dst, dport, sport0, ulen = int(a[1]), a[2], a[3], int(a[4]), int(a[5]), int(a[6])
    lines = [l for l in open(a[0]).read().splitlines() if l.strip()]
    errs = []
    if len(lines) != k:
        errs.append("%d packets, expected %d" % (len(lines), k))
    for i, l in enumerate(lines[:k]):
        w = "IP %s.%d > %s.%d: UDP, length %d" % (src, sport0 + i, dst, dport, ulen)
        if w not in l:
            errs.append("packet %d: '%s', expected '%s'" % (i, l, w))
    if errs:
        sys.exit("; ".join(errs[:5]))

def watch(a):
    """watch WATCH.txt PRIO EXPECTED PCT: the last pkt/s of rule PRIO"""
    import re
    txt = open(a[0]).read()
    if "/s" not in txt:
        sys.exit("no rates ('/s') in the output")
    rates = [float(m.group(1)) for m in
             re.finditer(r"^%s\s+\d+\s+\d+\s+([\d.]+)\s" % re.escape(a[1]), txt, re.M)]
    if not rates:
        sys.exit("no pkt/s value for rule %s" % a[1])
    print(" ".join("%.1f" % r for r in rates))
    e, p = float(a[2]), float(a[3])
    # the first redraw may cover the sender's start: the best one must fit
    sys.exit(0 if any(abs(r - e) <= e * p / 100 for r in rates) else 1)

globals()[sys.argv[1]](sys.argv[2:])
EOF
H() { "$PY" "$W/ops.py" "$@"; }

# send OUT.json DPORT SPORT STEP PPS N PAYLOAD_LEN SRC:LETTER...  (from A)
send() {
	_o=$1
	shift
	inA "$PY" "$W/ops.py" send "$IF_A" "$MAC_A" "$MAC_B" "$B4" "$@" >"$_o"
}
# receiver in B: rx_start FILE / rx_stop
rx_start() {
	rm -f "$W/rx.ready" "$1"
	timeout 60 "$PY" "$HERE/pkt.py" rx "$IF_B" "$1" --ready "$W/rx.ready" &
	RX_PID=$!
	BG="$BG $RX_PID"
	for _i in $(seq 100); do
		[ -e "$W/rx.ready" ] && return 0
		sleep 0.05
	done
	echo "receiver did not start" >&2
	return 1
}
rx_stop() {
	sleep 0.3
	kill -TERM "$RX_PID"
	wait "$RX_PID"
}

LABEL=setup
xw attach "$IF_B" >"$W/attach.out" 2>&1 || { cat "$W/attach.out"; exit 1; }
xw status --json >"$W/status.json"
MODE=$("$PY" -c 'import json,sys; s=json.load(open(sys.argv[1])); print(" ".join("%s:%s" % (i["name"], i["xdp_mode"]) for i in s["interfaces"]))' "$W/status.json")
echo "ops: xwall attached ($MODE), $(nproc) CPUs"

# ------------------------------------------------------------------ (a) limit
LABEL="a/limit"
cat >"$W/a.rules" <<EOF
policy pass
rule 10 in udp dport 9999 limit over $RATE/s burst $BURST drop
rule 20 in udp dport 9999 pass
EOF
xw apply "$W/a.rules" >/dev/null
xw stats --json >"$W/a.s0"
rx_start "$W/a.rx"
send "$W/a.send" 9999 30000 0 "$PPS" $((PPS * SECS)) 32 "$A4:P"
rx_stop
xw stats --json >"$W/a.s1"
sent=$(H sent "$W/a.send" "$A4")
T=$(H duration "$W/a.send")
r10=$(H delta "$W/a.s0" "$W/a.s1" 10)
r20=$(H delta "$W/a.s0" "$W/a.s1" 20)
rxn=$(H rx "$W/a.rx" P)
exp=$(H expected "$RATE" "$T" "$BURST")
info="sent $sent in ${T}s, passed (rule 20) $r20, expected $RATE*$T+$BURST = $exp; dropped (rule 10) $r10; receiver $rxn"
H within "$r20" "$exp" 10 && r=0 || r=1
expect $r "passed within 10% of N*t+B: $info"
[ "$rxn" = "$r20" ] && r=0 || r=1
expect $r "receiver in B counted rule 20's packets: $rxn vs $r20"
[ $((r10 + r20)) = "$sent" ] && r=0 || r=1
expect $r "rule 10 + rule 20 == sent: $r10 + $r20 vs $sent"

# ----------------------------------------------------------- (b) limit per src
LABEL="b/per-src"
cat >"$W/b.rules" <<EOF
policy pass
rule 10 in udp dport 9999 limit over $RATE/s burst $BURST per src drop
rule 20 in udp dport 9999 src $A4 pass
rule 21 in udp dport 9999 src $A4B pass
EOF
xw apply "$W/b.rules" >/dev/null
xw stats --json >"$W/b.s0"
rx_start "$W/b.rx"
send "$W/b.send" 9999 31000 0 "$PPS" $((PPS * SECS)) 32 "$A4:P" "$A4B:Q"
rx_stop
xw stats --json >"$W/b.s1"
T=$(H duration "$W/b.send")
exp=$(H expected "$RATE" "$T" "$BURST")
r10=$(H delta "$W/b.s0" "$W/b.s1" 10)
tot=0 pass_20=0 pass_21=0
for x in "$A4:20:P" "$A4B:21:Q"; do
	src=${x%%:*} rest=${x#*:}
	prio=${rest%%:*} letter=${rest#*:}
	sent=$(H sent "$W/b.send" "$src")
	tot=$((tot + sent))
	pr=$(H delta "$W/b.s0" "$W/b.s1" "$prio")
	rxn=$(H rx "$W/b.rx" "$letter")
	H within "$pr" "$exp" 10 && r=0 || r=1
	expect $r "source $src: sent $sent in ${T}s, passed (rule $prio) $pr, expected $RATE*$T+$BURST = $exp (10%); receiver $rxn"
	[ "$rxn" = "$pr" ] && r=0 || r=1
	expect $r "source $src: receiver counted rule $prio's packets: $rxn vs $pr"
	if [ "$prio" = 20 ]; then pass_20=$pr; else pass_21=$pr; fi
done
[ $((r10 + pass_20 + pass_21)) = "$tot" ] && r=0 || r=1
expect $r "rule 10 + rule 20 + rule 21 == sent: $r10 + $pass_20 + $pass_21 vs $tot"

# ------------------------------------------------------------------ (c) events
LABEL="c/events"
cat >"$W/c.rules" <<EOF
policy pass
rule 5 in udp dport 7777 log pass
rule 6 in udp dport 7778 pass
EOF
xw apply "$W/c.rules" >/dev/null
K=12
PLEN=40                           # UDP payload: UDP length 48, frame 82
# pcap: K logged frames (sports 20001..) while unlogged frames flow
rm -f "$W/c.pcap"
timeout 15 "$XWALL" events --pcap "$W/c.pcap" --count $K >"$W/c.ev.out" 2>"$W/c.ev.err" &
EV=$!
BG="$BG $EV"
sleep 0.5
inA "$PY" "$W/ops.py" send "$IF_A" "$MAC_A" "$MAC_B" "$B4" 7778 40000 0 400 800 $PLEN "$A4:U" >/dev/null &
UNL=$!
BG="$BG $UNL"
sleep 0.3
send "$W/c.send" 7777 20001 1 100 $K $PLEN "$A4:L"
evrc=0
wait $EV || evrc=$?
wait $UNL || true
expect $evrc "events --pcap --count $K exits 0 while traffic flows" "$(oneline "$W/c.ev.err")"
rc=0
timeout 10 tcpdump -nn -r "$W/c.pcap" >"$W/c.tcpdump" 2>"$W/c.tcpdump.err" || rc=$?
expect $rc "tcpdump -r reads the pcap" "$(oneline "$W/c.tcpdump.err")"
msg=$(H tcpd "$W/c.tcpdump" $K "$A4" "$B4" 7777 20001 $PLEN 2>&1) && r=0 || r=1
expect $r "the pcap holds exactly the $K logged frames ($A4.20001.. > $B4.7777, UDP payload $PLEN), $(wc -l <"$W/c.tcpdump") read" "$msg"
# JSON lines
timeout 15 "$XWALL" events --json --count $K >"$W/c.json" 2>"$W/c.json.err" &
EV=$!
BG="$BG $EV"
sleep 0.5
send "$W/c.send2" 7777 21001 1 100 $K $PLEN "$A4:J"
evrc=0
wait $EV || evrc=$?
expect $evrc "events --json --count $K exits 0" "$(oneline "$W/c.json.err")"
msg=$(H evjson "$W/c.json" $K "$IFX_B" "$A4" "$B4" 7777 21001 $((PLEN + 42)) 5 pass 2>&1) && r=0 || r=1
expect $r "events --json: $K lines with the documented keys and values, final line {\"events\": $K, \"lost\": 0}" "$msg"
# one reader at a time: a second `events` is refused (exit 2, says why)
timeout 15 "$XWALL" events --json --count 1 >"$W/c.one" 2>"$W/c.one.err" &
EV=$!
BG="$BG $EV"
sleep 0.5
rc=0
timeout 10 "$XWALL" events --json --count 1 >"$W/c.two" 2>"$W/c.two.err" || rc=$?
[ $rc = 2 ] && grep -q "another .xwall events. is reading" "$W/c.two.err" && [ ! -s "$W/c.two" ] && r=0 || r=1
expect $r "a second events reader exits 2 naming the first (rc=$rc)" "$(oneline "$W/c.two.err")"
send "$W/c.send1" 7777 23001 1 100 1 $PLEN "$A4:O"
evrc=0
wait $EV || evrc=$?
n=$(H evcount "$W/c.one" 2>&1) || n="unreadable ($n)"
[ $evrc = 0 ] && [ "$n" = 1 ] && r=0 || r=1
expect $r "the first reader got the event: printed $n, exit $evrc" "$(oneline "$W/c.one.err")"
# --count with more events already waiting in the ring than asked for
send "$W/c.send3" 7777 22001 1 1000 $((K * 4)) $PLEN "$A4:M"
evrc=0
timeout 10 "$XWALL" events --json --count $K >"$W/c.json3" 2>"$W/c.json3.err" || evrc=$?
n=$(H evcount "$W/c.json3" 2>&1) || n="unreadable ($n)"
[ $evrc = 0 ] && [ "$n" = $K ] && r=0 || r=1
expect $r "events --count $K with $((K * 4)) events waiting prints $K events: printed $n, exit $evrc" "$(oneline "$W/c.json3.err")"

# ------------------------------------------------------------------- (d) stats
LABEL="d/stats"
rc=0
xw stats --prometheus >"$W/d.prom" 2>"$W/d.prom.err" || rc=$?
expect $rc "stats --prometheus exits 0 ($(grep -c '^xwall_' "$W/d.prom") samples)" "$(oneline "$W/d.prom.err")"
if command -v promtool >/dev/null 2>&1; then
	rc=0
	timeout 10 promtool check metrics <"$W/d.prom" >"$W/d.promtool" 2>&1 || rc=$?
	expect $rc "promtool check metrics accepts the output" "$(oneline "$W/d.promtool")"
else
	fail "promtool not installed (Debian package prometheus, scripts/deps.sh)"
fi
grep -q '^xwall_rule_packets_total{.*} [0-9]' "$W/d.prom" && r=0 || r=1
expect $r "prometheus output has per-rule packet counters (xwall_rule_packets_total)" "$(head -c 300 "$W/d.prom")"
inA "$PY" "$W/ops.py" send "$IF_A" "$MAC_A" "$MAC_B" "$B4" 7778 40000 0 600 2700 $PLEN "$A4:W" >/dev/null &
TR=$!
BG="$BG $TR"
sleep 0.2
rc=0
timeout 3 "$XWALL" stats --watch 1 >"$W/d.watch" 2>"$W/d.watch.err" || rc=$?
wait $TR || true
[ $rc = 124 ] && r=0 || r=1
expect $r "stats --watch 1 keeps running until stopped (timeout 3: status $rc)" "$(oneline "$W/d.watch.err")"
msg=$(H watch "$W/d.watch" 6 600 20 2>&1) && r=0 || r=1
expect $r "stats --watch 1 shows rates (/s); rule 6 pkt/s while 600 pkt/s flow: $msg" "$(tr -d '\033' <"$W/d.watch" | oneline /dev/stdin)"

LABEL=teardown
xw detach --all >/dev/null
e2e_done
