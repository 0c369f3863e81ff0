#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# scripts/testbed.sh end to end:
#   a  a generated capture whose verdicts are known by construction (IPv4,
#      IPv6, VLAN, QinQ, fragments, identical frames, a truncated and an
#      oversized frame): every replayed frame arrives iff `xwall test`
#      predicted pass, the prediction is the known verdict, the two frames
#      that cannot be replayed are reported with their reason
#   b  captures from ../shared/corpus/tcpdump (VLAN/QinQ, IPv6 extension
#      headers, fragments, truncated, TCP): exit 0, arrival == prediction
#   c  a rule set that is not what is attached elsewhere cannot fool it: a
#      mismatch exits 1 and names the packet (prediction from other rules)
# Usage: tests/e2e/testbed.sh   (needs root; run it inside /work/isolate.sh
# or not: the test bed makes its own namespaces either way)
set -eu

. "$(dirname "$0")/lib.sh"
e2e_init testbed
PY=/usr/bin/python3
TB=$ROOT/scripts/testbed.sh
CORPUS=$ROOT/../shared/corpus/tcpdump
e2e_workdir xwall-e2e-testbed
e2e_trap 'rm -rf "$W"'

[ -d "$CORPUS" ] || { echo "FAIL testbed: corpus $CORPUS missing" >&2; exit 1; }
SEED=${SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
echo "testbed.sh: seed $SEED"

# ---- a: generated capture, known verdicts
LABEL=a
cat >"$W/gen.rules" <<'EOF'
policy pass
rule 10 in vlan 30 drop
rule 20 in ip6 frag later drop
rule 30 in tcp dport 22 src 10.1.0.0/16 pass
rule 40 in tcp dport 22 drop
rule 50 in udp dport 53,5000-5010 log drop
rule 60 in icmp type echo-request drop
rule 70 in ip6 icmpv6 type echo-request pass
rule 80 in ip6 proto udp drop
EOF
"$PY" - "$W/gen.pcap" "$W/gen.expect" "$SEED" <<'EOF'
import json, random, struct, sys
import logging
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import Ether, Dot1Q, Dot1AD, IP, IPv6, TCP, UDP, ICMP, ICMPv6EchoRequest, \
    IPv6ExtHdrFragment, Raw, fragment
out, expect_path, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
rnd = random.Random(seed)
E = lambda: Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
frames, expect = [], []   # expect: "pass" / "drop" / "skip"
def add(p, v, n=1):
    for _ in range(n):
        frames.append((bytes(p), None))
        expect.append(v)
for _ in range(rnd.randint(20, 40)):
    k = rnd.randrange(9)
    sp = rnd.randint(1024, 65535)
    if k == 0:
        add(E()/IP(src="10.1.%d.%d" % (rnd.randrange(256), rnd.randint(1, 254)), dst="10.9.0.1")/TCP(sport=sp, dport=22), "pass")
    elif k == 1:
        add(E()/IP(src="10.2.0.%d" % rnd.randint(1, 254), dst="10.9.0.1")/TCP(sport=sp, dport=22), "drop")
    elif k == 2:
        add(E()/IP(src="192.0.2.1", dst="10.9.0.1")/UDP(sport=sp, dport=rnd.choice([53, 5000, 5007, 5010]))/Raw(b"q"), "drop")
    elif k == 3:
        add(E()/IP(src="192.0.2.1", dst="10.9.0.1")/UDP(sport=sp, dport=rnd.choice([54, 4999, 5011]))/Raw(b"q"), "pass")
    elif k == 4:
        add(E()/IP(src="192.0.2.9", dst="10.9.0.1")/ICMP(type=rnd.choice([8, 0])), None)
        expect[-1] = "drop" if frames[-1][0][34] == 8 else "pass"
    elif k == 5:
        add(E()/Dot1Q(vlan=rnd.choice([30, 31]))/IP(src="10.1.0.1", dst="10.9.0.1")/TCP(sport=sp, dport=80), None)
        expect[-1] = "drop" if (struct.unpack("!H", frames[-1][0][14:16])[0] & 0xfff) == 30 else "pass"
    elif k == 6:
        add(E()/Dot1AD(vlan=30)/Dot1Q(vlan=7)/IP(src="10.1.0.1", dst="10.9.0.1")/UDP(sport=sp, dport=80), "drop")
    elif k == 7:
        add(E()/IPv6(src="2001:db8::1", dst="2001:db8::2")/ICMPv6EchoRequest(), "pass")
        add(E()/IPv6(src="2001:db8::1", dst="2001:db8::2")/UDP(sport=sp, dport=9)/Raw(b"x"), "drop")
    else:
        # an IPv4 fragment pair (the later one has no ports: policy pass) and
        # an IPv6 one (later: rule 20 drops; first: udp, rule 80 drops)
        for f in fragment(IP(src="192.0.2.5", dst="10.9.0.1", id=rnd.randrange(65536))/UDP(sport=sp, dport=53)/Raw(b"y" * 64), fragsize=32):
            add(E()/f, "drop" if f.frag == 0 else "pass")
        p = IPv6(src="2001:db8::5", dst="2001:db8::6")/IPv6ExtHdrFragment(id=rnd.randrange(1 << 32))/UDP(sport=sp, dport=9)/Raw(b"z" * 64)
        from scapy.all import fragment6
        for f in fragment6(p, 80):
            add(E()/f, "drop")
# identical frames, one after another
add(E()/IP(src="10.1.0.1", dst="10.9.0.1")/TCP(sport=1234, dport=22), "pass", 3)
# a truncated frame (caplen < len) and one larger than the MTU
t = bytes(E()/IP(src="10.1.0.1", dst="10.9.0.1")/TCP(sport=1, dport=22)/Raw(b"t" * 100))
frames.append((t[:60], len(t))); expect.append("skip")
add(E()/IP(src="10.1.0.1", dst="10.9.0.1")/UDP(sport=1, dport=9)/Raw(b"m" * 1600), "skip")
with open(out, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for n, (b, wl) in enumerate(frames):
        f.write(struct.pack("<IIII", 1, n, len(b), wl or len(b)) + b)
json.dump(expect, open(expect_path, "w"))
EOF
rc=0
"$TB" --rules "$W/gen.rules" --pcap "$W/gen.pcap" --pps 2000 --json >"$W/gen.out" 2>"$W/gen.err" || rc=$?
"$PY" - "$W/gen.out" "$W/gen.expect" "$rc" <<'EOF' && pass "generated capture: arrivals, predictions and known verdicts agree" || fail "generated capture (see above)"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
expect = json.load(open(sys.argv[2]))
rc = int(sys.argv[3])
pk = [r for r in rows if "index" in r]
summ = [r for r in rows if "summary" in r]
bad = []
if rc != 0: bad.append("exit %d" % rc)
if len(pk) != len(expect): bad.append("%d rows for %d packets" % (len(pk), len(expect)))
for r, e in zip(pk, expect):
    if e == "skip":
        if r["replayed"] or not r.get("why"):
            bad.append("%d: should not be replayed: %s" % (r["index"], r))
        continue
    if not r["replayed"] or r["predicted"] != e or r["arrived"] != (e == "pass") or not r["match"]:
        bad.append("%d: expected %s, got %s" % (r["index"], e, r))
why = [r.get("why", "") for r in pk if not r["replayed"]]
if not any("caplen" in w for w in why) or not any("MTU" in w for w in why):
    bad.append("reasons missing: %s" % why)
if not summ or summ[0]["summary"]["mismatches"] != 0:
    bad.append("summary: %s" % summ)
else:
    ev = [e for e in summ[0]["events"] if "rule" in e and e["rule"] is not None]
    want = sum(1 for r in pk if r["replayed"] and r["rule"] == 50)
    if len(ev) != want:
        bad.append("%d log events for %d packets of the log rule" % (len(ev), want))
for b in bad[:10]:
    print("  " + b)
sys.exit(1 if bad else 0)
EOF
[ $FAILS = 0 ] || cat "$W/gen.err"

# ---- b: corpus captures
LABEL=b
cat >"$W/corpus.rules" <<'EOF'
policy pass
rule 10 in ip6 frag later drop
rule 20 in vlan 200 drop
rule 30 in tcp flags syn / syn,ack log drop
rule 40 in tcp sport 22 drop
rule 50 in udp dport 53 pass
rule 60 in udp drop
rule 70 in ip6 icmpv6 type echo-request drop
rule 80 in ether type arp drop
EOF
for f in 802.1ad_QinQ.pcap ipv6-routing-header.pcap ip6_frag_asan.pcap ssh.pcap of10_p3295.pcap \
	dns_udp.pcap icmpv6.pcap ipv6-srh-tlv-pad1-padn-5-trunc.pcap; do
	[ -r "$CORPUS/$f" ] || { fail "$f missing from the corpus"; continue; }
	rc=0
	"$TB" --rules "$W/corpus.rules" --pcap "$CORPUS/$f" --pps 2000 >"$W/c.out" 2>&1 || rc=$?
	last=$(grep -E '^[0-9]+ packets:' "$W/c.out" || true)
	case "$f" in
	ip6_frag_asan.pcap|ipv6-srh-tlv-pad1-padn-5-trunc.pcap)
		# truncated captures: nothing to replay, and it says why
		if [ $rc = 1 ] && grep -q 'caplen' "$W/c.out"; then
			pass "$f: not replayed, reason given"
		else
			fail "$f: rc $rc, $(tail -2 "$W/c.out" | tr '\n' ' ')"
		fi ;;
	*)
		if [ $rc = 0 ] && echo "$last" | grep -q ' 0 mismatches'; then
			pass "$f: $last"
		else
			fail "$f: rc $rc: $(grep -E 'MISMATCH|testbed:' "$W/c.out" | head -3 | tr '\n' ' ') $last"
		fi ;;
	esac
done

# ---- c: a mismatch is found: predict with one rule set, attach another
LABEL=c
# (XW_TESTBED_PREDICT is the test hook for this)
printf 'policy pass\nrule 10 in udp drop\n' >"$W/drop.rules"
rc=0
XW_TESTBED_PREDICT="$W/drop.rules" "$TB" --rules "$W/gen.rules" --pcap "$CORPUS/dns_udp.pcap" \
	>"$W/m.out" 2>&1 || rc=$?
if [ $rc = 1 ] && grep -q MISMATCH "$W/m.out"; then
	pass "a prediction that does not hold exits 1 and names the packet"
else
	fail "rc $rc: $(tail -3 "$W/m.out" | tr '\n' ' ')"
fi

echo "testbed.sh: seed $SEED"
e2e_done
