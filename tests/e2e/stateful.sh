#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Stateful end-to-end tests of xwall: connection tracking and TC egress, with
# real sockets (socat, Python) across a veth pair between two namespaces.
# xwall runs on B's veth end with --egress; B is "the protected host":
#
#   policy drop
#   rule 10 in ct established,related pass
#   rule 11 in ether type arp pass
#   rule 12 in icmpv6 type nd-neighbor-solicit,nd-neighbor-advert pass
#
#   control  without xwall, A can reach B's listeners (so the failures below
#            are the firewall's doing); xwall's filter coexists with our own tc
#            filters (pref 100/200 u32) on the clsact hooks
#   a  TCP (v4, v6) and UDP (v4, v6) initiated by B work both ways, the same
#      initiated by A fail; ping B->A works, A->B does not; `ct list --json`
#      shows B's flows established and none of A's; ARP and IPv6 ND (nodad
#      addresses, neighbour caches flushed) go through rules 11/12; with
#      `rule 20 in ct new tcp dport 8090 pass` A's connections work and are
#      listed established (flow created at XDP ingress, answered at egress)
#   b  ICMP errors: A's kernel answers B's UDP to a closed port with port
#      unreachable, which must reach B (ECONNREFUSED on a connected socket, v4
#      and v6) and count as conntrack related; port unreachables forged in A
#      (scapy) quoting a tracked flow get through (control), those quoting a
#      flow that does not exist are dropped (no ECONNREFUSED, ct invalid);
#      time exceeded quoting B's echo request is related, quoting an unknown
#      echo id invalid
#   d  egress: `rule 60 out tcp dport 25 drop` stops B connecting to A:25 (v4,
#      v6) while A listens there; A:2525 works; no flow is created for 25
#   c  timeouts: with udp/udp_stream/tcp_established at 2 s, a UDP reply and
#      TCP data from A after 3.5 s of silence on B's flows are dropped (not
#      established; expired, policy), while data 0.5 s after the last packet
#      passes
#   flush   `ct flush` empties `ct list` and the entries gauge
#   detach  our cls_bpf filter (pref 1, handle 0x7877, xwall_out) leaves
#      `tc filter show`; the clsact qdisc and our own u32 filters remain; no
#      XDP program is left; A reaches B again
#
# Usage: tests/e2e/stateful.sh   (root; namespaces xwst-a/xwst-b, veth xwst0/1)
# One PASS/FAIL line per check; exit status 1 if any check failed.
# XWST_PCAP=FILE also records A's side of the link (all that B sent and all
# that A sent towards B, before xwall) with tcpdump, for debugging.
#
# bpffs: `ip netns exec` gives its command a private /sys and each bpffs mount
# is its own instance, so everything after the setup runs as ONE process tree
# inside B (this script again, with --inner); A's side runs through
# `ip netns exec xwst-a` from there (/tmp is shared, /sys is not).
set -eu

. "$(dirname "$0")/lib.sh"
e2e_init stateful
PY=/usr/bin/python3            # the python3 that has scapy
NS_A=xwst-a
NS_B=xwst-b
IF_A=xwst0
IF_B=xwst1
A4=10.201.0.1
B4=10.201.0.2
A6=fd00:201::1
B6=fd00:201::2
export XWST_PCAP="${XWST_PCAP:-}" PY NS_A NS_B IF_A IF_B A4 B4 A6 B6

# ------------------------------------------------------------------ outer side
if [ "${1:-}" != --inner ]; then
	# one run at a time: a second run would delete the first one's namespaces
	exec 9>/tmp/xwall-stateful.lock
	if ! flock -w 150 9; then
		echo "FAIL stateful: another run holds /tmp/xwall-stateful.lock" >&2
		exit 1
	fi
	e2e_outer xwst                            # also removes a killed run's leftovers
	e2e_macs
	rc=0
	ip netns exec "$NS_B" timeout -k 5 120 bash "$0" --inner 9>&- || rc=$?
	exit $rc
fi

# ------------------------------------------------------------------ inner side
# Runs in namespace B with its own bpffs; $W and the MACs come from outside.

e2e_inner

# TCP client: tcp_try HOST PORT MSG OUT -> socat's stdout in OUT, status in RC
tcp_try() {
	RC=0
	echo "$3" | timeout 8 socat -t 2 -T 4 - "TCP:$1:$2,connect-timeout=2" >"$4" 2>"$4.err" || RC=$?
}
# UDP client: send MSG, print what comes back within 1.5 s
udp_try() {
	RC=0
	echo "$3" | timeout 6 socat -t 1.5 -T 3 - "UDP:$1:$2" >"$4" 2>"$4.err" || RC=$?
}
# the same from A (the tests' "attacker" side)
tcp_try_A() {
	RC=0
	echo "$3" | inA timeout 8 socat -t 2 -T 4 - "TCP:$1:$2,connect-timeout=2" >"$4" 2>"$4.err" || RC=$?
}
udp_try_A() {
	RC=0
	echo "$3" | inA timeout 6 socat -t 1.5 -T 3 - "UDP:$1:$2" >"$4" 2>"$4.err" || RC=$?
}
# host:port form for socat
hp() { case $1 in *:*) echo "[$1]" ;; *) echo "$1" ;; esac; }

stats() { "$XWALL" stats --json >"$1"; }
ctlist() { "$XWALL" ct list --json >"$1"; }
H() { "$PY" "$W/st.py" "$@" || echo "ERROR(st.py $1)"; }

# ---------------------------------------------------------------- python side
cat >"$W/st.py" <<'EOF'
import errno, json, os, select, socket, sys, time

def jget(f, path):
    d = json.load(open(f))
    for p in path.split("."):
        if isinstance(d, list):      # rules: pick by prio
            d = next((r for r in d if str(r.get("prio")) == p), {"packets": 0})
        else:
            d = d[p]
    return d

def fam(a):
    return socket.AF_INET6 if ":" in a else socket.AF_INET

def wait_for(path, secs):
    end = time.time() + secs
    while not os.path.exists(path):
        if time.time() > end:
            sys.exit("timed out waiting for " + path)
        time.sleep(0.05)

def touch(path):
    open(path, "w").close()

cmd, args = sys.argv[1], sys.argv[2:]

if cmd == "get":                 # get FILE a.b.c  (rules.N = rule prio N)
    print(jget(args[0], args[1]))

elif cmd == "delta":             # delta OLD NEW path
    print(jget(args[1], args[2]) - jget(args[0], args[2]))

elif cmd == "flow":              # flow CTJSON proto src dst dport -> states
    fl = json.load(open(args[0]))["flows"]
    m = [f["state"] + "/" + f["entry_state"] for f in fl
         if f["proto"] == args[1] and f["src"] == args[2] and f["dst"] == args[3]
         and str(f["dport"]) == args[4]]
    print(",".join(m) if m else "none")

elif cmd == "flow_any":          # flow_any CTJSON port -> flows using it anywhere
    fl = json.load(open(args[0]))["flows"]
    p = int(args[1])
    m = ["%s %s:%s>%s:%s %s" % (f["proto"], f["src"], f["sport"], f["dst"], f["dport"], f["state"])
         for f in fl if p in (f["sport"], f["dport"])]
    print("; ".join(m) if m else "none")

elif cmd == "udp_refused":       # udp_refused HOST PORT: connected UDP, send, recv
    host, port = args[0], int(args[1])
    s = socket.socket(fam(host), socket.SOCK_DGRAM)
    s.settimeout(3)
    s.connect((host, port))
    s.send(b"probe\n")
    try:
        print("reply:%r" % s.recv(100))
    except ConnectionRefusedError:
        print("refused")
    except socket.timeout:
        print("timeout")

elif cmd == "forged_rx":         # forged_rx DIR A4 A6 B4 B6 PORT_ECHO
    # per family: s1 has a flow (exchange with A's echo server), s2 none;
    # after A's forged port unreachables, s1 must see ECONNREFUSED, s2 nothing
    d, a4, a6, b4, b6, pe = args[0], args[1], args[2], args[3], args[4], int(args[5])
    socks = {}
    for tag, a, b in (("v4", a4, b4), ("v6", a6, b6)):
        s1 = socket.socket(fam(a), socket.SOCK_DGRAM)
        s1.bind((b, 40001)); s1.connect((a, pe)); s1.settimeout(2)
        s1.send(b"hi\n")
        try:
            r = s1.recv(100)
        except Exception as e:
            r = repr(e)
        print("%s-s1-exchange %r" % (tag, r))
        s2 = socket.socket(fam(a), socket.SOCK_DGRAM)
        s2.bind((b, 40002)); s2.connect((a, 9002))
        socks[tag] = (s1, s2)
    sys.stdout.flush()
    touch(d + "/forge.ready")
    wait_for(d + "/forge.sent", 15)
    time.sleep(0.5)
    for tag, (s1, s2) in socks.items():
        for n, s in (("s1", s1), ("s2", s2)):
            s.setblocking(False)
            try:
                r = "data:%r" % s.recv(100)
            except ConnectionRefusedError:
                r = "refused"
            except BlockingIOError:
                r = "nothing"
            print("%s-%s %s" % (tag, n, r))

elif cmd == "forge":             # forge IFACE MAC_A MAC_B A4 A6 B4 B6 PORT_ECHO (in A)
    from scapy.all import Ether, IP, IPv6, UDP, ICMP, ICMPv6DestUnreach, sendp
    ifc, ma, mb, a4, a6, b4, b6, pe = args[:7] + [int(args[7])]
    pk = []
    # no such flow first, then the tracked one (the control)
    for sp, dp in ((40002, 9002), (40001, pe)):
        pk.append(Ether(src=ma, dst=mb) / IP(src=a4, dst=b4) / ICMP(type=3, code=3) /
                  IP(src=b4, dst=a4, ttl=64) / UDP(sport=sp, dport=dp) / b"hi\n")
        pk.append(Ether(src=ma, dst=mb) / IPv6(src=a6, dst=b6) / ICMPv6DestUnreach(code=4) /
                  IPv6(src=b6, dst=a6) / UDP(sport=sp, dport=dp) / b"hi\n")
    sendp(pk, iface=ifc, verbose=False)
    print("sent %d" % len(pk))

elif cmd == "echo_id":           # echo_id CTJSON SRC DST -> id of a tracked echo flow
    fl = json.load(open(args[0]))["flows"]
    m = [f["sport"] for f in fl if f["proto"] in ("icmp", "icmpv6")
         and f["src"] == args[1] and f["dst"] == args[2]]
    print(m[-1] if m else "none")

elif cmd == "free_id":           # free_id CTJSON -> an echo id no flow uses
    used = {f["sport"] for f in json.load(open(args[0]))["flows"]}
    print(next(i for i in range(40000, 65536) if i not in used))

elif cmd == "nflows":
    print(len(json.load(open(args[0]))["flows"]))

elif cmd == "forge_echo":        # forge_echo IFACE MAC_A MAC_B A4 B4 ID TYPE (in A)
    from scapy.all import Ether, IP, ICMP, sendp
    ifc, ma, mb, a4, b4, eid, t = args[0], args[1], args[2], args[3], args[4], int(args[5]), int(args[6])
    sendp(Ether(src=ma, dst=mb) / IP(src=a4, dst=b4) / ICMP(type=t, code=0) /
          IP(src=b4, dst=a4, ttl=1) / ICMP(type=8, id=eid, seq=1), iface=ifc, verbose=False)
    print("sent type %d quoting echo id %d" % (t, eid))

elif cmd == "late_server":       # late_server DIR A4 (in A): UDP 9100, TCP 9101
    d, a = args[0], args[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((a, 9100))
    l = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind((a, 9101)); l.listen(1)
    u.settimeout(8); l.settimeout(8)
    touch(d + "/late.ready")
    c, _ = l.accept()
    c.settimeout(5)
    print("tcp got %r" % c.recv(100))
    c.sendall(b"p1")
    q, peer = u.recvfrom(100)
    print("udp got %r from %s:%d" % (q, peer[0], peer[1]))
    u.sendto(b"r1", peer)
    time.sleep(0.5)
    u.sendto(b"r2", peer)          # 0.5 s later: still established
    time.sleep(3.5)                # > udp_stream / tcp_established timeout (2 s)
    u.sendto(b"r3", peer)
    c.sendall(b"p3")
    print("sent r3 p3")
    sys.stdout.flush()
    time.sleep(2.5)

elif cmd == "late_client":       # late_client DIR A4 B4
    d, a, b = args[0], args[1], args[2]
    t = socket.create_connection((a, 9101), timeout=3, source_address=(b, 40101))
    t.sendall(b"q")
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((b, 40100)); u.connect((a, 9100))
    u.send(b"q")
    got = []
    end = time.time() + 2
    while time.time() < end and not {"p1", "r1", "r2"} <= set(got):
        r, _, _ = select.select([t, u], [], [], max(0, end - time.time()))
        for s in r:
            got.append(s.recv(100).decode(errors="replace") or "EOF")
    touch(d + "/late.mark")          # from here on nothing may be established
    end = time.time() + 6            # r3/p3 are sent ~3.5 s after r2
    while time.time() < end:
        r, _, _ = select.select([t, u], [], [], max(0, end - time.time()))
        for s in r:
            try:
                x = s.recv(100).decode(errors="replace") or "EOF"
            except OSError as e:
                x = "err:" + e.__class__.__name__
            got.append(x)
            if x == "EOF" or x.startswith("err"):
                end = 0
    print(" ".join(got))
EOF

# ================================================================== control
if [ -n "${XWST_PCAP:-}" ]; then
	bgA timeout 115 tcpdump -i "$IF_A" -nn -U -s 256 -w "$XWST_PCAP" 2>/dev/null
	sleep 0.5
fi
LABEL=control
# B's services the "attacker" A will try later
# (the services read the request before answering: closing a socket with
# unread data sends RST, which can overtake the answer)
bgB timeout 110 socat TCP4-LISTEN:8090,reuseaddr,fork SYSTEM:'read l; echo B-here'
bgB timeout 110 socat TCP6-LISTEN:8090,ipv6only=1,reuseaddr,fork SYSTEM:'read l; echo B-here'
bgB timeout 110 socat UDP4-RECVFROM:9090,fork SYSTEM:'read l; echo "B-got:$l"'
bgB timeout 110 socat UDP6-RECVFROM:9090,ipv6only=1,fork SYSTEM:'read l; echo "B-got:$l"'
# A's services for B
bgA timeout 110 socat TCP4-LISTEN:8080,reuseaddr,fork SYSTEM:'read l; echo "A-got:$l"'
bgA timeout 110 socat TCP6-LISTEN:8080,ipv6only=1,reuseaddr,fork SYSTEM:'read l; echo "A-got:$l"'
bgA timeout 110 socat UDP4-RECVFROM:9000,fork SYSTEM:'read l; echo "A-got:$l"'
bgA timeout 110 socat UDP6-RECVFROM:9000,ipv6only=1,fork SYSTEM:'read l; echo "A-got:$l"'
wait_port B tcp 8090
wait_port B udp 9090
wait_port A tcp 8080
wait_port A udp 9000

for a in "$B4" "$B6"; do
	tcp_try_A "$(hp "$a")" 8090 x "$W/c.out"
	st grep -qx B-here "$W/c.out"
	expect $R "without xwall, A connects to B [$a]:8090" "rc=$RC out=$(oneline "$W/c.out") err=$(oneline "$W/c.out.err")"
	udp_try_A "$(hp "$a")" 9090 ping-udp "$W/c.out"
	st grep -qx B-got:ping-udp "$W/c.out"
	expect $R "without xwall, A's UDP to B [$a]:9090 gets a reply" "rc=$RC out=$(oneline "$W/c.out")"
	st inA timeout 3 ping -c1 -W1 "$a" >/dev/null 2>&1
	expect $R "without xwall, A pings $a"
done

# our own tc filters, which xwall must leave alone
tc qdisc add dev "$IF_B" clsact
tc filter add dev "$IF_B" egress pref 100 u32 match u32 0 0
tc filter add dev "$IF_B" ingress pref 200 u32 match u32 0 0

RC=0
"$XWALL" attach "$IF_B" --egress >"$W/attach.out" 2>&1 || RC=$?
expect $RC "xwall attach $IF_B --egress" "$(oneline "$W/attach.out")"
tc filter show dev "$IF_B" egress >"$W/tc.eg"
st grep -Eq 'pref 1 bpf .*handle 0x7877 .*xwall' "$W/tc.eg"
expect $R "tc filter show egress: xwall's cls_bpf at pref 1, handle 0x7877, named xwall*" "$(oneline "$W/tc.eg")"
st grep -q 'pref 100 u32' "$W/tc.eg"
expect $R "tc filter show egress: our pref 100 u32 filter is still there" "$(oneline "$W/tc.eg")"

RC=0
"$XWALL" apply - >"$W/apply.out" 2>&1 <<'EOF' || RC=$?
policy drop
rule 10 in ct established,related pass
rule 11 in ether type arp pass
rule 12 in icmpv6 type nd-neighbor-solicit,nd-neighbor-advert pass
EOF
expect $RC "xwall apply (policy drop, rules 10-12)" "$(oneline "$W/apply.out")"
# make ARP and ND happen under the firewall
ip neigh flush dev "$IF_B"
inA ip neigh flush dev "$IF_A"
"$XWALL" ct timeout >"$W/timeouts.orig"

# ================================================================== (a)
LABEL=a
stats "$W/s0.json"
for a in "$A4" "$A6"; do
	tcp_try "$(hp "$a")" 8080 "hello-from-B" "$W/a.out"
	st grep -qx "A-got:hello-from-B" "$W/a.out"
	expect $R "TCP B -> [$a]:8080: data both ways" "rc=$RC out=$(oneline "$W/a.out") err=$(oneline "$W/a.out.err")"
	udp_try "$(hp "$a")" 9000 "udp-from-B" "$W/a.out"
	st grep -qx "A-got:udp-from-B" "$W/a.out"
	expect $R "UDP B -> [$a]:9000: request and reply" "rc=$RC out=$(oneline "$W/a.out")"
	st timeout 3 ping -c1 -W1 "$a" >"$W/a.ping" 2>&1
	expect $R "ping B -> $a" "$(oneline "$W/a.ping")"
done
ctlist "$W/ct.a.json"
for f in "tcp $B4 $A4 8080" "tcp $B6 $A6 8080" "udp $B4 $A4 9000" "udp $B6 $A6 9000"; do
	# shellcheck disable=SC2086
	st=$(H flow "$W/ct.a.json" $f)
	case $st in established/*) r=0 ;; *) r=1 ;; esac
	expect $r "ct list --json: flow $f (from B) is established" "got: $st"
done
st=$(H flow "$W/ct.a.json" icmp "$B4" "$A4" 0)
case $st in established/*) r=0 ;; *) r=1 ;; esac
expect $r "ct list --json: ping B -> $A4 is an established icmp flow" "got: $st"

stats "$W/s1.json"
for a in "$B4" "$B6"; do
	tcp_try_A "$(hp "$a")" 8090 x "$W/a.out"
	r=0; { [ "$RC" -ne 0 ] && ! grep -q B-here "$W/a.out"; } || r=1
	expect $r "TCP A -> [$a]:8090 (B listening) fails" "rc=$RC out=$(oneline "$W/a.out") err=$(oneline "$W/a.out.err")"
	udp_try_A "$(hp "$a")" 9090 udp-from-A "$W/a.out"
	r=0; [ ! -s "$W/a.out" ] || r=1
	expect $r "UDP A -> [$a]:9090 (B listening) gets no reply" "out=$(oneline "$W/a.out")"
	r=0; inA timeout 3 ping -c1 -W1 "$a" >/dev/null 2>&1 || r=1
	expect $((1 - r)) "ping A -> $a fails"
done
stats "$W/s2.json"
ctlist "$W/ct.a2.json"
st=$(H flow_any "$W/ct.a2.json" 8090)
st [ "$st" = none ]; expect $R "ct list: no flow for A's dropped TCP attempts (port 8090)" "got: $st"
st=$(H flow_any "$W/ct.a2.json" 9090)
st [ "$st" = none ]; expect $R "ct list: no flow for A's dropped UDP attempts (port 9090)" "got: $st"
d=$(H delta "$W/s1.json" "$W/s2.json" reasons.policy.packets)
st [ "$d" -ge 8 ]; expect $R "A's attempts were dropped by the policy (policy packets +$d, >= 8)"
d=$(H delta "$W/s1.json" "$W/s2.json" verdicts.drop.packets)
st [ "$d" -ge 8 ]; expect $R "drop verdicts +$d (>= 8)"
d=$(H delta "$W/s0.json" "$W/s1.json" rules.10.packets)
st [ "$d" -ge 10 ]; expect $R "rule 10 (ct established,related) passed B's return traffic (+$d)"
d=$(H delta "$W/s0.json" "$W/s1.json" conntrack.established)
st [ "$d" -ge 10 ]; expect $R "conntrack established counter +$d"
n=$(H get "$W/s2.json" rules.11.packets)
st [ "$n" -ge 1 ]; expect $R "ARP passed by rule 11 ($n packets)"
n=$(H get "$W/s2.json" rules.12.packets)
st [ "$n" -ge 1 ]; expect $R "IPv6 neighbour discovery passed by rule 12 ($n packets)"
ip -6 neigh show "$A6" dev "$IF_B" >"$W/neigh"
st grep -q lladdr "$W/neigh"; expect $R "B resolved $A6 through ND under the firewall" "$(oneline "$W/neigh")"

# a flow A initiates, let in by a `ct new` rule: created at XDP ingress,
# B's answers seen at TC egress make it established
RC=0
"$XWALL" rule add 20 in ct new tcp dport 8090 pass >"$W/a.out" 2>&1 || RC=$?
expect $RC "xwall rule add 20 in ct new tcp dport 8090 pass" "$(oneline "$W/a.out")"
for a in "$B4" "$B6"; do
	tcp_try_A "$(hp "$a")" 8090 x "$W/a.out"
	st grep -qx B-here "$W/a.out"
	expect $R "with rule 20, TCP A -> [$a]:8090 works" "rc=$RC out=$(oneline "$W/a.out") err=$(oneline "$W/a.out.err")"
done
ctlist "$W/ct.a3.json"
for f in "$A4 $B4" "$A6 $B6"; do
	# shellcheck disable=SC2086
	st=$(H flow "$W/ct.a3.json" tcp $f 8090)
	case $st in established/*) r=0 ;; *) r=1 ;; esac
	expect $r "ct list --json: flow tcp $f 8090 (from A) is established" "got: $st"
done
"$XWALL" rule del 20

# ================================================================== (b)
LABEL=b
stats "$W/s3.json"
for a in "$A4" "$A6"; do
	r=$(H udp_refused "$a" 9999)
	st [ "$r" = refused ]
	expect $R "UDP B -> [$a]:9999 (closed): A's port unreachable reaches B (ECONNREFUSED)" "got: $r"
done
stats "$W/s4.json"
d=$(H delta "$W/s3.json" "$W/s4.json" conntrack.related)
st [ "$d" -ge 2 ]; expect $R "conntrack related +$d (>= 2: one v4, one v6)"
d=$(H delta "$W/s3.json" "$W/s4.json" rules.10.packets)
st [ "$d" -ge 2 ]; expect $R "rule 10 passed the ICMP errors (+$d)"

rm -f "$W/forge.ready" "$W/forge.sent"
H forged_rx "$W" "$A4" "$A6" "$B4" "$B6" 9000 >"$W/forged.out" 2>&1 &
FPID=$!
if wait_file "$W/forge.ready" 50; then
	stats "$W/s5.json"
	inA timeout 20 "$PY" "$W/st.py" forge "$IF_A" "$MAC_A" "$MAC_B" "$A4" "$A6" "$B4" "$B6" 9000 >"$W/forge.out" 2>&1 || true
	touch "$W/forge.sent"
fi
wait $FPID || true
stats "$W/s6.json"
for t in v4 v6; do
	st grep -q "^$t-s1-exchange b'A-got:hi" "$W/forged.out"
	expect $R "$t: tracked flow B:40001 -> A:9000 exchanged" "$(oneline "$W/forged.out")"
	st grep -qx "$t-s1 refused" "$W/forged.out"
	expect $R "$t: forged port unreachable quoting the tracked flow passes (control)" "$(oneline "$W/forged.out") forge: $(oneline "$W/forge.out")"
	st grep -qx "$t-s2 nothing" "$W/forged.out"
	expect $R "$t: forged port unreachable quoting a flow that does not exist is dropped" "$(oneline "$W/forged.out") forge: $(oneline "$W/forge.out")"
done
d=$(H delta "$W/s5.json" "$W/s6.json" conntrack.invalid)
st [ "$d" -ge 2 ]; expect $R "conntrack invalid +$d (>= 2, the forged v4 and v6 errors)"
d=$(H delta "$W/s5.json" "$W/s6.json" conntrack.related)
st [ "$d" -ge 2 ]; expect $R "conntrack related +$d (>= 2, the control errors)"
d=$(H delta "$W/s5.json" "$W/s6.json" reasons.policy.packets)
st [ "$d" -ge 2 ]; expect $R "policy dropped the forged errors (policy +$d)"

# ICMP errors quoting an echo request (what traceroute gets): related to B's
# ping flow when the echo id is tracked, invalid otherwise
timeout 3 ping -c1 -W1 "$A4" >/dev/null 2>&1 || true
ctlist "$W/ct.b.json"
id=$(H echo_id "$W/ct.b.json" "$B4" "$A4")
case $id in ''|*[!0-9]*) fail "no tracked echo flow from B to $A4" "got: $id"; id=1 ;; esac
stats "$W/s6a.json"
inA timeout 20 "$PY" "$W/st.py" forge_echo "$IF_A" "$MAC_A" "$MAC_B" "$A4" "$B4" "$id" 11 >"$W/forge.out" 2>&1 || true
stats "$W/s6b.json"
inA timeout 20 "$PY" "$W/st.py" forge_echo "$IF_A" "$MAC_A" "$MAC_B" "$A4" "$B4" "$(H free_id "$W/ct.b.json")" 11 >>"$W/forge.out" 2>&1 || true
stats "$W/s6c.json"
d=$(H delta "$W/s6a.json" "$W/s6b.json" conntrack.related)
st [ "$d" -ge 1 ]; expect $R "time exceeded quoting B's echo request (id $id) is related (+$d)" "$(oneline "$W/forge.out")"
d=$(H delta "$W/s6a.json" "$W/s6b.json" rules.10.packets)
st [ "$d" -ge 1 ]; expect $R "... and passed by rule 10 (+$d)"
d=$(H delta "$W/s6b.json" "$W/s6c.json" conntrack.invalid)
st [ "$d" -ge 1 ]; expect $R "time exceeded quoting an untracked echo id is invalid (+$d)" "$(oneline "$W/forge.out")"
d=$(H delta "$W/s6b.json" "$W/s6c.json" rules.10.packets)
st [ "$d" -eq 0 ]; expect $R "... and not passed by rule 10 (+$d)"

# ================================================================== (d) egress
LABEL=d
bgA timeout 60 socat TCP4-LISTEN:25,reuseaddr,fork SYSTEM:"touch $W/conn25; read l; echo A25-got:\$l"
bgA timeout 60 socat TCP6-LISTEN:25,ipv6only=1,reuseaddr,fork SYSTEM:"touch $W/conn25; read l; echo A25-got:\$l"
bgA timeout 60 socat TCP4-LISTEN:2525,reuseaddr,fork SYSTEM:'read l; echo "A2525-got:$l"'
wait_port A tcp 25
wait_port A tcp 2525
RC=0
"$XWALL" rule add 60 out tcp dport 25 drop >"$W/d.out" 2>&1 || RC=$?
expect $RC "xwall rule add 60 out tcp dport 25 drop" "$(oneline "$W/d.out")"
for a in "$A4" "$A6"; do
	tcp_try "$(hp "$a")" 25 mail "$W/d.out"
	r=0; { [ "$RC" -ne 0 ] && ! grep -q A25-got "$W/d.out"; } || r=1
	expect $r "TCP B -> [$a]:25 fails (A listens)" "rc=$RC out=$(oneline "$W/d.out") err=$(oneline "$W/d.out.err")"
done
st [ ! -e "$W/conn25" ]; expect $R "A's port-25 listener never saw a connection"
tcp_try "$A4" 2525 mail "$W/d.out"
st grep -qx A2525-got:mail "$W/d.out"
expect $R "TCP B -> $A4:2525 works" "rc=$RC out=$(oneline "$W/d.out") err=$(oneline "$W/d.out.err")"
stats "$W/s7.json"
n=$(H get "$W/s7.json" rules.60.packets)
st [ "$n" -ge 2 ]; expect $R "rule 60 counted the dropped SYNs ($n)"
ctlist "$W/ct.d.json"
st=$(H flow_any "$W/ct.d.json" 25)
st [ "$st" = none ]; expect $R "ct list: no flow for the SYNs dropped at egress (port 25)" "got: $st"

# ================================================================== (c) timeouts
LABEL=c
RC=0
"$XWALL" ct timeout udp 2 udp_stream 2 tcp_established 2 >"$W/c.out" 2>&1 || RC=$?
expect $RC "xwall ct timeout udp 2 udp_stream 2 tcp_established 2" "$(oneline "$W/c.out")"
"$XWALL" ct timeout >"$W/c.out"
r=0; { grep -Eq '^udp +2$' "$W/c.out" && grep -Eq '^udp_stream +2$' "$W/c.out" &&
	grep -Eq '^tcp_established +2$' "$W/c.out"; } || r=1
expect $r "xwall ct timeout shows the new values" "$(oneline "$W/c.out")"
rm -f "$W/late.ready" "$W/late.mark"
inA timeout 20 "$PY" "$W/st.py" late_server "$W" "$A4" >"$W/late.srv" 2>&1 &
SPID=$!
if wait_file "$W/late.ready" 50; then
	H late_client "$W" "$A4" "$B4" >"$W/late.cli" 2>&1 &
	CPID=$!
	if wait_file "$W/late.mark" 50; then
		stats "$W/s8.json"
		ctlist "$W/ct.c.json"
	fi
	wait $CPID || true
fi
wait $SPID || true
stats "$W/s9.json"
ctlist "$W/ct.c2.json"
st grep -q "sent r3 p3" "$W/late.srv"
expect $R "A sent the late UDP reply and TCP data after 3.5 s" "$(oneline "$W/late.srv")"
got=" $(cat "$W/late.cli") "
r=0; case $got in *" r1 "*) ;; *) r=1 ;; esac
case $got in *" r2 "*) ;; *) r=1 ;; esac
case $got in *" p1 "*) ;; *) r=1 ;; esac
expect $r "replies within the timeout (UDP r1, r2 0.5 s later; TCP p1) reach B" "got:$got"
st=$(H flow "$W/ct.c.json" udp "$B4" "$A4" 9100)
case $st in established/udp_stream) r=0 ;; *) r=1 ;; esac
expect $r "before the silence the UDP flow is established/udp_stream" "got: $st"
st=$(H flow "$W/ct.c.json" tcp "$B4" "$A4" 9101)
case $st in established/tcp_established) r=0 ;; *) r=1 ;; esac
expect $r "before the silence the TCP flow is established/tcp_established" "got: $st"
case $got in *" r3 "*) r=1 ;; *) r=0 ;; esac
expect $r "UDP from A:9100 to B:40100 after 3.5 s of silence is dropped" "got:$got"
case $got in *p3*) r=1 ;; *) r=0 ;; esac
expect $r "TCP data from A:9101 after 3.5 s of silence is dropped" "got:$got"
if [ -e "$W/s8.json" ]; then
	d=$(H delta "$W/s8.json" "$W/s9.json" conntrack.established)
	st [ "$d" -eq 0 ]; expect $R "no packet was established after the silence (+$d)"
	d=$(H delta "$W/s8.json" "$W/s9.json" conntrack.expired)
	st [ "$d" -ge 2 ]; expect $R "conntrack expired +$d (>= 2: the UDP and the TCP flow)"
	d=$(H delta "$W/s8.json" "$W/s9.json" conntrack.new)
	st [ "$d" -ge 1 ]; expect $R "the late UDP packet counted as new (+$d)"
	d=$(H delta "$W/s8.json" "$W/s9.json" conntrack.invalid)
	st [ "$d" -ge 1 ]; expect $R "the late TCP segment (no SYN, no flow) counted as invalid (+$d)"
	d=$(H delta "$W/s8.json" "$W/s9.json" reasons.policy.packets)
	st [ "$d" -ge 2 ]; expect $R "the late packets were dropped by the policy (+$d)"
	d=$(H delta "$W/s8.json" "$W/s9.json" rules.10.packets)
	st [ "$d" -eq 0 ]; expect $R "rule 10 matched nothing after the silence (+$d)"
else
	fail "client did not reach the silence" "$(oneline "$W/late.cli")"
fi
for p in 9100 9101; do
	st=$(H flow_any "$W/ct.c2.json" $p)
	case $st in *established*) r=1 ;; *) r=0 ;; esac
	expect $r "ct list: the expired flow on port $p is not established any more" "got: $st"
done
# ================================================================== flush
LABEL=flush
RC=0
"$XWALL" ct flush >"$W/flush.out" 2>&1 || RC=$?
st grep -Eq '^[1-9][0-9]* flows flushed$' "$W/flush.out"
[ $RC -eq 0 ] || R=1
expect $R "xwall ct flush removes the flows" "rc=$RC $(oneline "$W/flush.out")"
ctlist "$W/ct.f.json"
st=$(H nflows "$W/ct.f.json")
st [ "$st" = 0 ]; expect $R "ct list --json is empty after the flush" "got $st flows"
stats "$W/s10.json"
n=$(H get "$W/s10.json" conntrack.entries)
st [ "$n" = 0 ]; expect $R "stats conntrack.entries is 0 after the flush" "got $n"

# back to the values from before
# shellcheck disable=SC2046
"$XWALL" ct timeout $(tr '\n' ' ' <"$W/timeouts.orig")

# ================================================================== (d) detach
LABEL=detach
RC=0
"$XWALL" detach "$IF_B" >"$W/det.out" 2>&1 || RC=$?
expect $RC "xwall detach $IF_B" "$(oneline "$W/det.out")"
tc filter show dev "$IF_B" egress >"$W/tc.eg2"
r=0; grep -Eq 'bpf|xwall|0x7877' "$W/tc.eg2" && r=1
expect $r "tc filter show egress: xwall's filter is gone" "$(oneline "$W/tc.eg2")"
st grep -q 'pref 100 u32' "$W/tc.eg2"
expect $R "tc filter show egress: our pref 100 u32 filter remains" "$(oneline "$W/tc.eg2")"
tc filter show dev "$IF_B" ingress >"$W/tc.in2"
st grep -q 'pref 200 u32' "$W/tc.in2"
expect $R "tc filter show ingress: our pref 200 u32 filter remains" "$(oneline "$W/tc.in2")"
tc qdisc show dev "$IF_B" >"$W/tc.q"
st grep -q clsact "$W/tc.q"
expect $R "the clsact qdisc remains" "$(oneline "$W/tc.q")"
ip link show dev "$IF_B" >"$W/link"
r=0; grep -q xdp "$W/link" && r=1
expect $r "no XDP program left on $IF_B" "$(oneline "$W/link")"
tcp_try_A "$B4" 8090 x "$W/a.out"
st grep -qx B-here "$W/a.out"
expect $R "after detach A connects to B again" "rc=$RC out=$(oneline "$W/a.out")"

e2e_done
