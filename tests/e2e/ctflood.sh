#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Connection tracking under a SYN flood, end to end with real sockets across
# a veth pair between two namespaces (scripts/netns.sh).  xwall runs on B's
# veth end, `attach --egress --ct-size 1024`, with
#
#   policy in drop
#   rule 10 in ct established,related pass
#   rule 11 in ether type arp pass
#   rule 20 in ct new tcp dport 8080 pass
#
#   flood   A holds an established connection to B:8080 and keeps exchanging
#           lines over it while 4,000 SYNs with spoofed sources (198.18/15,
#           routed back through A, so B's listener answers every one with a
#           SYN+ACK) hit B:8080; every exchange during and after the flood
#           succeeds, a 20 MB download over the same connection completes,
#           `ct list` still shows it established, and `stats` counts the
#           flood as early drops, not evictions
#   rst     a blind RST forged from A's address and port (sequence number
#           far outside the window) is dropped and counted (rst_ignored),
#           the flow stays tcp_established and the connection keeps working;
#           the client's real RST (SO_LINGER 0) reaches B's server
#           (ECONNRESET) and closes the flow (tcp_close)
#
# Usage: tests/e2e/ctflood.sh   (root; namespaces xwfl-a/xwfl-b, veth xwfl0/1)
# One PASS/FAIL line per check and a summary (tests/e2e/lib.sh); exit 1 if
# any check failed.
set -eu

. "$(dirname "$0")/lib.sh"
e2e_init ctflood
PY=/usr/bin/python3            # the python3 that has scapy
E2E_NO_IPV6=1
NS_A=xwfl-a
NS_B=xwfl-b
IF_A=xwfl0
IF_B=xwfl1
A4=10.203.0.1
B4=10.203.0.2
SYNS=${XWFL_SYNS:-4000}
export PY NS_A NS_B IF_A IF_B A4 B4 SYNS

# ------------------------------------------------------------------ outer side
if [ "${1:-}" != --inner ]; then
	$PY -c 'import scapy.all' 2>/dev/null || { echo "FAIL ctflood: $PY has no scapy" >&2; exit 1; }
	exec 9>/tmp/xwall-ctflood.lock
	if ! flock -w 150 9; then
		echo "FAIL ctflood: another run holds /tmp/xwall-ctflood.lock" >&2
		exit 1
	fi
	e2e_outer xwfl
	e2e_macs
	rc=0
	ip netns exec "$NS_B" timeout -k 5 180 bash "$0" --inner 9>&- || rc=$?
	exit $rc
fi

# ------------------------------------------------------------------ inner side
e2e_inner

H() { "$PY" "$W/fl.py" "$@"; }

cat >"$W/fl.py" <<'EOF'
import json, os, random, socket, struct, sys, threading, time

W = os.environ["W"]

def jget(f, path):
    d = json.load(open(f))
    for p in path.split("."):
        d = d[p]
    return d

def touch(name):
    open(os.path.join(W, name), "w").close()

def exists(name):
    return os.path.exists(os.path.join(W, name))

def wait_for(name, secs):
    end = time.time() + secs
    while not exists(name):
        if time.time() > end:
            return False
        time.sleep(0.02)
    return True

def event(what):
    with open(os.path.join(W, "server.events"), "a") as f:
        f.write(what + "\n")

def serve_one(c):
    f = c.makefile("rb")
    try:
        for line in f:
            line = line.strip()
            if line.startswith(b"bulk "):
                n = int(line.split()[1])
                chunk = b"x" * 65536
                while n > 0:
                    c.sendall(chunk[:min(n, len(chunk))])
                    n -= min(n, len(chunk))
            else:
                c.sendall(line + b"\n")
        event("eof")
    except ConnectionResetError:
        event("reset")
    except OSError as e:
        event("error %s" % e)

def server(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(128)
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve_one, args=(c,), daemon=True).start()

def client(host, port):
    res = {"during": 0, "after": 0, "fail": None, "bulk": 0, "after_rst": False}
    def save(name):
        json.dump(res, open(os.path.join(W, name), "w"))
    s = socket.create_connection((host, port), timeout=3)
    f = s.makefile("rb")
    open(os.path.join(W, "cport"), "w").write(str(s.getsockname()[1]))
    def ask(msg):
        s.sendall(msg + b"\n")
        got = f.readline().strip()
        if got != msg:
            raise RuntimeError("sent %r, got %r" % (msg, got))
    try:
        ask(b"hello")
        touch("ready")
        i = 0
        while not exists("flood.done"):
            ask(b"during %d" % i)
            res["during"] += 1
            i += 1
            time.sleep(0.02)
        for i in range(20):
            ask(b"after %d" % i)
            res["after"] += 1
        n = 20 * 1000 * 1000
        s.sendall(b"bulk %d\n" % n)
        s.settimeout(20)
        got = 0
        while got < n:
            b = f.read1(min(1 << 20, n - got))
            if not b:
                break
            got += len(b)
        res["bulk"] = got
        s.settimeout(3)
    except Exception as e:
        res["fail"] = str(e)
    save("client.phase1")
    if not wait_for("rst.done", 60):
        res["fail"] = res["fail"] or "no rst.done"
    if res["fail"] is None:
        try:
            ask(b"after the blind RST")
            res["after_rst"] = True
        except Exception as e:
            res["fail"] = "after the blind RST: %s" % e
    # close with a RST (SO_LINGER 0): the real one must get through
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    save("client.json")

def flood(ifc, mac_a, mac_b, dst, port, n):
    from scapy.all import Ether, IP, TCP, sendp
    rnd = random.Random()
    pk = []
    for i in range(n):
        src = "198.%d.%d.%d" % (18 + rnd.randrange(2), rnd.randrange(256), rnd.randrange(1, 255))
        pk.append(Ether(src=mac_a, dst=mac_b) / IP(src=src, dst=dst) /
                  TCP(sport=rnd.randrange(1024, 65536), dport=port, flags="S",
                      seq=rnd.randrange(1 << 32), window=64240))
    sendp(pk, iface=ifc, verbose=False)

def blind_rst(ifc, mac_a, mac_b, src, dst, sport, dport):
    from scapy.all import Ether, IP, TCP, sendp
    # a sequence number half the space away from anything in the window
    sendp(Ether(src=mac_a, dst=mac_b) / IP(src=src, dst=dst) /
          TCP(sport=sport, dport=dport, flags="R", seq=random.randrange(1 << 32)),
          iface=ifc, verbose=False)

def flow(ctjson, cport):
    for f in json.load(open(ctjson))["flows"]:
        if f["proto"] == "tcp" and f["sport"] == cport and f["dport"] == 8080:
            return f
    return None

cmd, a = sys.argv[1], sys.argv[2:]
if cmd == "server":
    server(int(a[0]))
elif cmd == "client":
    client(a[0], int(a[1]))
elif cmd == "flood":
    flood(a[0], a[1], a[2], a[3], int(a[4]), int(a[5]))
elif cmd == "blind_rst":
    blind_rst(a[0], a[1], a[2], a[3], a[4], int(a[5]), int(a[6]))
elif cmd == "get":
    print(jget(a[0], a[1]))
elif cmd == "flowstate":
    f = flow(a[0], int(a[1]))
    print("%s %s" % (f["state"], f["entry_state"]) if f else "none")
EOF

# ================================================================== setup
LABEL=setup
RC=0
"$XWALL" attach "$IF_B" --egress --ct-size 1024 >"$W/attach.out" 2>&1 || RC=$?
expect $RC "xwall attach $IF_B --egress --ct-size 1024" "$(oneline "$W/attach.out")"
RC=0
"$XWALL" apply - >"$W/apply.out" 2>&1 <<'EOF' || RC=$?
policy in drop
rule 10 in ct established,related pass
rule 11 in ether type arp pass
rule 20 in ct new tcp dport 8080 pass
EOF
expect $RC "xwall apply (policy in drop, rules 10, 11, 20)" "$(oneline "$W/apply.out")"
# the flood's spoofed sources are routed back through A: B answers each SYN
ip route add 198.18.0.0/15 via "$A4"
bgB "$PY" "$W/fl.py" server 8080
for _i in $(seq 60); do [ -n "$(ss -Hltn 'sport = :8080')" ] && break; sleep 0.05; done

# ================================================================== flood
LABEL=flood
bgA "$PY" "$W/fl.py" client "$B4" 8080
if wait_file "$W/ready" 50; then pass "A connects to B:8080 through xwall"; else fail "A connects to B:8080 through xwall"; fi
"$XWALL" stats --json >"$W/stats0"
T0=$(date +%s.%N)
inA "$PY" "$W/fl.py" flood "$IF_A" "$MAC_A" "$MAC_B" "$B4" 8080 "$SYNS"
T1=$(date +%s.%N)
touch "$W/flood.done"
wait_file "$W/client.phase1" 400 || true
"$XWALL" stats --json >"$W/stats1"
"$XWALL" ct list --json >"$W/ct1"
echo "  ($SYNS spoofed SYNs sent in $(echo "$T1 - $T0" | bc) s)"
if [ -e "$W/client.phase1" ]; then
	fail_=$(H get "$W/client.phase1" fail)
	during=$(H get "$W/client.phase1" during)
	after=$(H get "$W/client.phase1" after)
	bulk=$(H get "$W/client.phase1" bulk)
	echo "  (client: $during exchanges during the flood, $after after, $bulk bytes downloaded; error: $fail_)"
	r=0; [ "$fail_" = None ] && [ "$during" -ge 1 ] || r=1
	expect $r "the established connection kept working during the flood ($during exchanges)" "$fail_"
	r=0; [ "$after" = 20 ] || r=1
	expect $r "and after it (20 exchanges)" "$fail_"
	r=0; [ "$bulk" = 20000000 ] || r=1
	expect $r "a 20 MB download over it completes" "got $bulk bytes; $fail_"
else
	fail "the client finished its exchanges" "no $W/client.phase1"
fi
CPORT=$(cat "$W/cport" 2>/dev/null || echo 0)
st=$(H flowstate "$W/ct1" "$CPORT")
r=0; [ "$st" = "established tcp_established" ] || r=1
expect $r "ct list shows the connection established (tcp_established)" "$st"
for c in created early_drop evicted promoted; do
	eval "c_$c=\$(( \$(H get \"\$W/stats1\" conntrack.$c) - \$(H get \"\$W/stats0\" conntrack.$c) ))"
done
echo "  (conntrack during the flood: created $c_created, early_drop $c_early_drop, evicted $c_evicted, promoted $c_promoted)"
# the first 2 x 1024 entries fill the tables' free lists; past them every new
# flow pushes out an older unreplied one (some SYNs may be lost on the veth)
r=0; [ "$c_early_drop" -ge $((SYNS / 2)) ] || r=1
expect $r "stats counts the flood's early drops ($c_early_drop >= $((SYNS / 2)))" "$(oneline "$W/stats1")"
r=0; [ "$c_evicted" = 0 ] || r=1
expect $r "stats counts no eviction of an assured flow (evicted $c_evicted)"

# ================================================================== rst
LABEL=rst
"$XWALL" stats --json >"$W/stats2"
inA "$PY" "$W/fl.py" blind_rst "$IF_A" "$MAC_A" "$MAC_B" "$A4" "$B4" "$CPORT" 8080
sleep 0.3
"$XWALL" stats --json >"$W/stats3"
"$XWALL" ct list --json >"$W/ct3"
ign=$(( $(H get "$W/stats3" conntrack.rst_ignored) - $(H get "$W/stats2" conntrack.rst_ignored) ))
r=0; [ "$ign" = 1 ] || r=1
expect $r "a blind RST is counted as rst_ignored ($ign)"
st=$(H flowstate "$W/ct3" "$CPORT")
r=0; [ "$st" = "established tcp_established" ] || r=1
expect $r "after the blind RST the flow is still tcp_established" "$st"
touch "$W/rst.done"
wait_file "$W/client.json" 100 || true
if [ -e "$W/client.json" ]; then
	r=0; [ "$(H get "$W/client.json" after_rst)" = True ] || r=1
	expect $r "the connection works after the blind RST" "$(oneline "$W/client.json")"
else
	fail "the client finished" "no $W/client.json"
fi
wait_file "$W/server.events" 30 || true
r=0; grep -qx reset "$W/server.events" 2>/dev/null || r=1
expect $r "the client's real RST reaches B's server (ECONNRESET)" "$(cat "$W/server.events" 2>/dev/null | tr '\n' ' ')"
"$XWALL" ct list --json >"$W/ct4"
st=$(H flowstate "$W/ct4" "$CPORT")
r=0; [ "$st" = "established tcp_close" ] || r=1
expect $r "and closes the flow (tcp_close)" "$st"

e2e_done
