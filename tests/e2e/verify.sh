#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# End-to-end test of `xwall verify` and `apply --verify` (docs/commands.md "verify";
# docs/verify.md), through the CLI, on a datapath attached in a private
# network namespace (veth pair xwv0/xwv1, XDP on xwv0 plus TC egress):
#
#   a  `xwall verify` before anything is loaded: exit 2
#   b  a random 1,000-rule set (IPv4/IPv6 prefixes and lists, ports, port
#      ranges and lists, TCP flags with masks, ICMP/ICMPv6 types and codes,
#      fragments, VLAN, ether addresses and types, iif, a few ct and limit
#      rules, both directions, log) plus `rule 1 in tcp dport 4242 src
#      198.51.100.0/24 pass`, applied; `xwall verify`: exit 0 and the line
#      `verified: N cells, 0 mismatches`, in under 60 s (time printed)
#   c  one live entry of rule 1 in the active generation gets its verdict
#      byte flipped to drop with bpftool (`bpftool map update pinned ...`):
#      `xwall verify` exits 1 with a counterexample (packet hex, fields)
#      expecting rule 1 pass and seeing rule 1 drop
#   d  `xwall apply --verify FILE` (the same rules): the new generation is
#      clean again: exit 0 and the verified line
#   e  rule 1's entry made to match nothing with bpftool: `verify --examples 3` exits 1
#      expecting rule 1 where the datapath now gives something else; then
#      `apply --verify` of the rule set without rule 1: exit 0
#
# Usage: tests/e2e/verify.sh   (root; SEED=N picks another rule set)
# One PASS/FAIL line per check; exit 1 if any failed.  KEEP=1 keeps the
# work directory.
set -eu

. "$(dirname "$0")/lib.sh"
e2e_init verify
PY=/usr/bin/python3
SEED=${SEED:-1}
export PY SEED

if [ "${1:-}" != --inner ]; then
	command -v bpftool >/dev/null || { echo "FAIL verify: bpftool missing" >&2; exit 1; }
	e2e_workdir xwverify
	trap e2e_rmwork EXIT
	# a private bpffs and network: the datapath of this test is its own
	unshare -m -n "$0" --inner
	exit $?
fi

# ------------------------------------------------------------------ inner side
e2e_trap '"$XWALL" detach --all >/dev/null 2>&1'
PIN=/sys/fs/bpf/xwall

mount --make-rprivate / 2>/dev/null || true
mount -t bpf bpf /sys/fs/bpf
ip link set lo up
ip link add xwv0 type veth peer name xwv1
ip link set xwv0 up
ip link set xwv1 up

# --- the rule set -----------------------------------------------------------
"$PY" - "$SEED" > "$W/rules" <<'EOF'
import random, sys

rng = random.Random(int(sys.argv[1]))
macs = ["02:00:00:00:00:01", "02:00:00:00:00:02", "52:54:00:ab:cd:ef",
        "ff:ff:ff:ff:ff:ff", "33:33:00:00:00:01"]
v4 = ["10.0.0.0", "10.1.2.0", "10.1.2.3", "192.168.1.0", "172.16.5.0", "192.0.2.0",
      "203.0.113.7", "8.8.8.0"]
v6 = ["2001:db8::", "2001:db8:1::", "2001:db8:1:2::3", "fe80::", "ff02::", "2001:db8:ffff::1"]
plen4 = [8, 16, 24, 32]
plen6 = [32, 48, 64, 128]
ports = [22, 25, 53, 80, 443, 1024, 5353, 8080, 0, 65535]
vlans = [0, 1, 10, 100, 4094, 4095]
flags = ["fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr"]

def net(fam):
    if fam == 4:
        a, p = rng.choice(v4), rng.choice(plen4)
        o = [int(x) for x in a.split(".")]
        n = int.from_bytes(bytes(o), "big") & (((1 << p) - 1) << (32 - p))
        return ".".join(str(b) for b in n.to_bytes(4, "big")) + "/%d" % p
    a, p = rng.choice(v6), rng.choice(plen6)
    import ipaddress
    return str(ipaddress.ip_network("%s/%d" % (a, p), strict=False))

def cidrs():
    fam = rng.choice([4, 4, 6])
    return ",".join(net(fam if rng.random() < 0.8 else 10 - fam)
                    for _ in range(rng.choice([1, 1, 1, 2, 3])))

def portspec():
    k = rng.random()
    if k < 0.5:
        return str(rng.choice(ports))
    if k < 0.7:
        return ",".join(str(rng.choice(ports)) for _ in range(rng.randint(2, 3)))
    lo = rng.choice(ports)
    if k < 0.85:                        # aligned block
        b = 1 << rng.randint(1, 8)
        lo &= ~(b - 1)
        return "%d-%d" % (lo, min(65535, lo + b - 1))
    return "%d-%d" % (lo, min(65535, lo + rng.randint(1, 20)))   # unaligned

def tcpflags():
    m = rng.sample(flags, rng.randint(1, 3))
    f = rng.sample(m, rng.randint(0, len(m))) or [m[0]]
    return "tcp flags %s / %s" % (",".join(f), ",".join(m)) if rng.random() < 0.6 \
        else "tcp flags %s" % ",".join(f)

out = ["policy %s" % rng.choice(["drop", "pass"]), "policy out %s" % rng.choice(["drop", "pass"]),
       "rule 1 in tcp dport 4242 src 198.51.100.0/24 pass"]
prios = rng.sample(range(2, 1000000), 1000)
nct = nlimit = 0
for prio in prios:
    m = []
    d = rng.choice(["in"] * 7 + ["out"] * 2 + [""])
    if rng.random() < 0.05:
        m.append("ether %s %s" % (rng.choice(["src", "dst"]), rng.choice(macs)))
    if rng.random() < 0.05:
        m.append("vlan %d" % rng.choice(vlans))
    if rng.random() < 0.02 and d != "out":
        m.append("iif %s" % rng.choice(["xwv0", "xwv1", "lo"]))
    l4 = rng.choice(["none", "none", "tcp", "tcp", "udp", "sctp", "ports", "icmp", "icmpv6",
                     "proto", "ether"])
    if l4 == "ether":
        m.append("ether type %s" % rng.choice(["arp", "ip", "ip6", "0x88cc", "0x1234", "0x8100"]))
    else:
        if rng.random() < 0.35:
            m.append("src " + cidrs())
        if rng.random() < 0.35:
            m.append("dst " + cidrs())
        if rng.random() < 0.08:
            m.append(rng.choice(["ip", "ip6"]))
        if l4 in ("tcp", "udp", "sctp"):
            m.append(l4)
            if rng.random() < 0.6:
                m.append("dport " + portspec())
            if rng.random() < 0.3:
                m.append("sport " + portspec())
            if l4 == "tcp" and rng.random() < 0.4:
                m.append(tcpflags())
        elif l4 == "ports":
            m.append(rng.choice(["sport", "dport"]) + " " + portspec())
        elif l4 in ("icmp", "icmpv6"):
            t = rng.choice(["echo-request", "echo-reply", "3", "11", "128-136", "0-10", "135"]) \
                if l4 == "icmpv6" else rng.choice(["echo-request", "echo-reply", "3", "11", "0-8", "13"])
            s = "%s type %s" % (l4, t)
            if rng.random() < 0.3:
                s += " code %d" % rng.choice([0, 1, 3])
            m.append(s)
        elif l4 == "proto":
            m.append("proto %s" % rng.choice(["gre", "esp", "47", "132", "6", "17", "200"]))
        if rng.random() < 0.06:
            m.append(rng.choice(["frag", "frag first", "frag later"]))
    if len(m) < 2:                      # few catch-alls: most rules decide something
        have = " ".join(w.split()[0] for w in m)
        if "src" not in have:
            m.append("src " + cidrs())
        elif "dst" not in have:
            m.append("dst " + cidrs())
    if rng.random() < 0.01 and nct < 4 and d != "out":
        m.append(rng.choice(["ct established,related", "ct new", "ct invalid"]))
        nct += 1
    if rng.random() < 0.01 and nlimit < 4 and "src" not in " ".join(m) and "," not in " ".join(m):
        m.append("limit over %d/s%s" % (rng.choice([10, 100, 1000]), rng.choice(["", " per src"])))
        nlimit += 1
    rng.shuffle(m)
    log = " log" if rng.random() < 0.05 else ""
    out.append(("rule %d %s %s%s %s" % (prio, d, " ".join(m), log,
                                      rng.choice(["pass", "drop"]))).replace("  ", " "))
print("\n".join(out))
EOF
grep -v "^rule 1 " "$W/rules" > "$W/rules_no1"

# --- a: nothing loaded ------------------------------------------------------
LABEL=a
set +e
"$XWALL" verify > "$W/a.out" 2>&1
rc=$?
set -e
if [ $rc = 2 ] && grep -q "not loaded" "$W/a.out"; then
	pass "not loaded: exit 2 ($(head -n 1 "$W/a.out"))"
else
	fail "not loaded: exit $rc: $(cat "$W/a.out")"
fi

# --- b: the live set verifies -----------------------------------------------
LABEL=b
"$XWALL" attach xwv0 --egress > "$W/attach.out" 2>&1 || { cat "$W/attach.out"; fail "attach"; }
if ! "$XWALL" apply "$W/rules" > "$W/apply.out" 2>&1; then
	fail "apply of the random rule set: $(cat "$W/apply.out")"
	exit 1
fi
nrules=$(grep -c "^rule " "$W/rules")
t0=$(date +%s.%N)
set +e
"$XWALL" verify --verbose > "$W/b.out" 2> "$W/b.err"
rc=$?
set -e
t1=$(date +%s.%N)
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
line=$(grep "^verified: " "$W/b.out" || true)
if [ $rc = 0 ] && echo "$line" | grep -Eq "^verified: [0-9]+ cells, 0 mismatches$" &&
   awk -v s="$secs" 'BEGIN { exit !(s < 60) }'; then
	pass "$nrules rules: '$line' in ${secs}s"
else
	fail "$nrules rules: exit $rc in ${secs}s: $(cat "$W/b.out" "$W/b.err" | head -n 30)"
fi
sed 's/^/    /' "$W/b.err"

# --- c: a corrupted live entry is caught ------------------------------------
LABEL=c
# xw_cfg's first word is the active generation; rule entries are the array
# xw_rents, generation g at [g * 262144, ...), sorted by priority, so rule
# 1's first entry is the generation's slot 0.  struct xw_rent: mask (64
# bytes), value (64), sport lo/hi, dport lo/hi (u16 each), prio (u32, byte
# 136), slot (u32), verdict (u8, byte 144), flags, pad.
corrupt() {   # sets MAP, KEY, VALUE (hex bytes) of an entry of rule 1
	local gen k
	gen=$(bpftool map dump pinned "$PIN/xw_cfg" -j | "$PY" -c \
		'import json,sys; v=json.load(sys.stdin)[0]["value"]; print(int(v[0],16)&1)')
	k=$((gen * 262144))
	KEY=$(printf '%02x %02x %02x %02x' $((k & 255)) $(((k >> 8) & 255)) $(((k >> 16) & 255)) $((k >> 24)))
	MAP="$PIN/xw_rents"
	# shellcheck disable=SC2086
	bpftool map lookup pinned "$MAP" key hex $KEY -j > "$W/entry.json" || return 1
	VALUE=$("$PY" -c 'import json,sys
v=[int(x,16) for x in json.load(open(sys.argv[1]))["value"]]
if v[136:140] != [1,0,0,0]: sys.exit(1)
print(" ".join("%02x" % x for x in v))' "$W/entry.json") || return 1
	return 0
}
if corrupt; then
	# byte 144 of the value is the verdict: 1 pass -> 0 drop
	BAD=$(echo "$VALUE" | awk '{ $145 = "00"; print }')
	# shellcheck disable=SC2086
	bpftool map update pinned "$MAP" key hex $KEY value hex $BAD
	echo "    corrupted $(basename "$MAP") key $KEY: value $VALUE -> $BAD"
	set +e
	"$XWALL" verify > "$W/c.out" 2> "$W/c.err"
	rc=$?
	set -e
	sed 's/^/    /' "$W/c.out"
	if [ $rc = 1 ] && grep -q "expected: rule 1 pass" "$W/c.out" &&
	   grep -q "actual:   rule 1 drop" "$W/c.out" && grep -Eq "^    [0-9a-f]{28,}$" "$W/c.out" &&
	   grep -q "fields: .*tcp [0-9]* > 4242" "$W/c.out" &&
	   grep -Eq "^verified: [0-9]+ cells, [1-9][0-9]* mismatches$" "$W/c.out"; then
		pass "flipped verdict of a rule 1 entry: exit 1 with a counterexample"
	else
		fail "flipped verdict: exit $rc: $(cat "$W/c.err")"
	fi
else
	fail "no entry of rule 1 found in the active generation"
fi

# --- d: apply --verify ------------------------------------------------------
LABEL=d
# applied_verified FILE OUT WHAT: `apply --verify FILE` exits 0 with 0 mismatches
applied_verified() {
	set +e
	"$XWALL" apply --verify "$1" > "$2" 2>&1
	rc=$?
	set -e
	if [ $rc = 0 ] && grep -Eq "^verified: [0-9]+ cells, 0 mismatches$" "$2"; then
		pass "$3: $(grep "^verified" "$2")"
	else
		fail "$3: exit $rc: $(head -n 20 "$2")"
	fi
}
applied_verified "$W/rules" "$W/d.out" "apply --verify"

# --- e: a deleted live entry ------------------------------------------------
LABEL=e
# (an array slot cannot be deleted: a value bit outside the mask, byte 64,
# makes the entry match nothing, as if it were gone)
if corrupt; then
	BAD=$(echo "$VALUE" | awk '{ $65 = "01"; $1 = "00"; print }')
	# shellcheck disable=SC2086
	bpftool map update pinned "$MAP" key hex $KEY value hex $BAD
	set +e
	"$XWALL" verify --examples 3 > "$W/e.out" 2> "$W/e.err"
	rc=$?
	set -e
	if [ $rc = 1 ] && grep -q "expected: rule 1 pass" "$W/e.out" &&
	   grep "actual:" "$W/e.out" | grep -vq "rule 1 "; then
		pass "deleted entry of rule 1: exit 1, $(grep -c '^mismatch' "$W/e.out") counterexample(s) shown, $(grep '^verified' "$W/e.out")"
	else
		fail "deleted entry: exit $rc: $(cat "$W/e.out" "$W/e.err" | head -n 20)"
	fi
else
	fail "no entry of rule 1 found after apply --verify"
fi
applied_verified "$W/rules_no1" "$W/e2.out" "apply --verify without rule 1"

"$XWALL" detach --all > /dev/null 2>&1 || true
e2e_done
