#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# End-to-end test of `rule add` / `rule del` as changes of the live
# generation (loader/datapath/edit.c; docs/classifier.md "Changing one
# rule"), through the CLI, on a datapath attached to a veth of a private
# network namespace:
#
#   shadow   rule 100 `tcp dport 80 drop` and rule 200, the same match,
#            `pass`: a whole apply keeps only rule 100's entry (rule 200's
#            is its dropped equal); `rule del 100` must bring rule 200's
#            back: `xwall test` of a TCP port 80 packet says rule 200 pass
#   random   a random rule set (prefixes of any length, ports, ranges,
#            lists, IPv4/IPv6, protocols, both directions, rules with
#            equal matches), applied once with the exact tier off
#            (XW_EXACT=off) and once with every shape in it (all); then
#            random `rule add` of new rules and `rule del` of old and new
#            ones; after each: the change was one of the live generation
#            (`status --json` classifier.edits counts it), `rule list`
#            is the expected text, and `xwall verify` proves the live maps
#            implement it (0 mismatches); at the end `rule list` is the
#            text of the final rule set applied whole
#   full     `rule del` of a rule with `limit`: a whole apply (edits back to 0),
#            verified
#
# Usage: tests/e2e/edit.sh   (root; SEED=N repeats a run: the seed is printed)
set -eu

. "$(dirname "$0")/lib.sh"
e2e_init edit
PY=/usr/bin/python3
SEED=${SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
OPS=${OPS:-40}
export PY SEED OPS

if [ "${1:-}" != --inner ]; then
	echo "edit: SEED=$SEED (SEED=$SEED $0 repeats this run)"
	e2e_workdir xwedit
	trap e2e_rmwork EXIT
	unshare -m -n "$0" --inner
	exit $?
fi

e2e_trap '"$XWALL" detach --all >/dev/null 2>&1'
mount --make-rprivate / 2>/dev/null || true
mount -t bpf bpf /sys/fs/bpf
ip link set lo up
ip link add xwe0 type veth peer name xwe1
ip link set xwe0 up
ip link set xwe1 up
"$XWALL" attach --mode skb xwe0 >/dev/null

edits() { "$XWALL" status --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["classifier"]["edits"])'; }
prios() { "$XWALL" rule list --json | "$PY" -c 'import json,sys; print(" ".join(str(r["prio"]) for r in json.load(sys.stdin)["rules"]))'; }
verified() { "$XWALL" verify >"$W/v.out" 2>&1 && grep -q '^verified: .* 0 mismatches' "$W/v.out"; }

# ------------------------------------------------------------------ shadow
LABEL=shadow
printf 'rule 100 in tcp dport 80 drop\nrule 200 in tcp dport 80 pass\nrule 300 in tcp drop\n' >"$W/s.rules"
"$XWALL" apply "$W/s.rules" >/dev/null
"$PY" - "$W/p80.pcap" <<'EOF'
import sys
import logging
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import Ether, IP, TCP, wrpcap
wrpcap(sys.argv[1], [Ether() / IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=1234, dport=80)])
EOF
st "$XWALL" rule del 100
expect $R "rule del 100"
expect_eq "$(edits)" 1 "the deletion was a change of the live generation"
"$XWALL" test --pcap "$W/p80.pcap" --json >"$W/t.json"
got=$("$PY" -c 'import json,sys; p=json.loads(open(sys.argv[1]).readline()); print(p["rule"], p["verdict"])' "$W/t.json" 2>&1 || true)
expect_eq "$got" "200 pass" "a port 80 packet: rule 200's equal entry took over"
st verified
expect $R "verify after the deletion" "$(tail -n 5 "$W/v.out")"

# ------------------------------------------------------------------ random
"$PY" - "$SEED" "$OPS" "$W" <<'EOF'
import random, sys
seed, ops, w = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rng = random.Random(seed)

def v4():
    n = rng.choice([8, 16, 24, 32, 32, 32, rng.randint(0, 32)])
    a = rng.getrandbits(32) & ((0xffffffff << (32 - n)) & 0xffffffff)
    return "%d.%d.%d.%d/%d" % (a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255, n)

def v6():
    n = rng.choice([32, 48, 64, 128, rng.randint(0, 128)])
    a = rng.getrandbits(128) & (((1 << 128) - 1) ^ ((1 << (128 - n)) - 1))
    h = "%032x" % a
    return ":".join(h[i:i + 4] for i in range(0, 32, 4)) + "/%d" % n

def ports():
    k = rng.random()
    if k < 0.4:
        return str(rng.choice([22, 53, 80, 443, rng.randint(1, 65535)]))
    if k < 0.7:
        lo = rng.randint(0, 65000)
        return "%d-%d" % (lo, lo + rng.randint(1, 500))
    return ",".join(str(rng.randint(1, 65535)) for _ in range(rng.randint(2, 4)))

def match():
    m = []
    fam = rng.choice(["4", "4", "6", ""])
    if fam == "4" and rng.random() < 0.8:
        m.append("src " + v4())
    if fam == "4" and rng.random() < 0.5:
        m.append("dst " + v4())
    if fam == "6" and rng.random() < 0.8:
        m.append("src " + v6())
    if fam == "6" and rng.random() < 0.4:
        m.append("dst " + v6())
    p = rng.choice(["tcp", "udp", "", "icmp" if fam == "4" else ""])
    if p:
        m.append(p)
    if p in ("tcp", "udp"):
        if rng.random() < 0.7:
            m.append("dport " + ports())
        if rng.random() < 0.3:
            m.append("sport " + ports())
    return " ".join(m)

def rule(prio, body=None):
    d = rng.choice(["in", "in", "out"])
    return "rule %d %s %s %s" % (prio, d, body if body is not None else match(),
                                 rng.choice(["pass", "drop", "drop"]))

prios = rng.sample(range(1, 5000), 160)
base, bodies = {}, []
for p in prios:
    b = rng.choice(bodies) if bodies and rng.random() < 0.15 else match()
    bodies.append(b)
    base[p] = rule(p, b)
with open(w + "/base.rules", "w") as f:
    for p in sorted(base):
        f.write(base[p] + "\n")
# the changes: "add PRIO TEXT" / "del PRIO"
live, out = dict(base), []
for _ in range(ops):
    if live and rng.random() < 0.5:
        p = rng.choice(sorted(live))
        del live[p]
        out.append("del %d" % p)
    else:
        p = rng.choice([q for q in range(1, 6000) if q not in live])
        b = rng.choice(bodies) if rng.random() < 0.3 else match()
        live[p] = rule(p, b)
        out.append("add " + live[p][5:])
with open(w + "/ops", "w") as f:
    f.write("\n".join(out) + "\n")
with open(w + "/final.rules", "w") as f:
    for p in sorted(live):
        f.write(live[p] + "\n")
EOF

for mode in off all; do
	LABEL="random exact=$mode"
	XW_EXACT=$mode "$XWALL" apply "$W/base.rules" >/dev/null
	st verified
	expect $R "the base set applied and verified" "$(tail -n 5 "$W/v.out")"
	want_prios=$(sed -n 's/^rule \([0-9]*\) .*/\1/p' "$W/base.rules" | sort -n | tr '\n' ' ')
	n=0 bad=0
	while read -r op prio rest; do
		n=$((n + 1))
		if [ "$op" = add ]; then
			# shellcheck disable=SC2086
			XW_EXACT=$mode "$XWALL" rule add $prio $rest >"$W/op.out" 2>&1 || { bad=1; fail "change $n: rule add $prio $rest" "$(cat "$W/op.out")"; break; }
			want_prios=$(printf '%s\n' $want_prios "$prio" | sort -n | tr '\n' ' ')
		else
			XW_EXACT=$mode "$XWALL" rule del "$prio" >"$W/op.out" 2>&1 || { bad=1; fail "change $n: rule del $prio" "$(cat "$W/op.out")"; break; }
			want_prios=$(printf '%s\n' $want_prios | grep -vx "$prio" | tr '\n' ' ')
		fi
		e=$(edits)
		if [ "$e" != "$n" ]; then
			bad=1; fail "change $n ($op $prio) was not a change of the live generation" "edits $e"; break
		fi
		if [ "$(prios) " != "$want_prios" ] && [ "$(prios)" != "${want_prios% }" ]; then
			bad=1; fail "change $n ($op $prio): rule list" "got $(prios), want $want_prios"; break
		fi
		if ! verified; then
			bad=1; fail "change $n ($op $prio): verify" "$(tail -n 8 "$W/v.out")"; break
		fi
	done <"$W/ops"
	[ "$bad" = 1 ] || pass "$n random rule add/del, each a change of the live generation, rule list as expected, verified after each"
	# the text the changes left is the one the final rule set has
	"$XWALL" rule list >"$W/l1"
	XW_EXACT=$mode "$XWALL" apply "$W/final.rules" >/dev/null
	"$XWALL" rule list >"$W/l2"
	st cmp -s "$W/l1" "$W/l2"
	expect $R "rule list after the changes = rule list of the final set applied whole" \
		"$(diff "$W/l1" "$W/l2" | head -n 6)"
done

# ------------------------------------------------------------------ full
LABEL=full
printf 'rule 10 in tcp dport 22 limit over 5/s drop\nrule 20 in udp pass\n' >"$W/l.rules"
"$XWALL" apply "$W/l.rules" >/dev/null
"$XWALL" rule add 30 in tcp dport 80 drop
expect_eq "$(edits)" 1 "a plain rule next to a limit rule: a change of the live generation"
"$XWALL" rule del 10
expect_eq "$(edits)" 0 "rule del of a limit rule: a whole apply"
st verified
expect $R "verified after it" "$(tail -n 5 "$W/v.out")"
expect_eq "$(prios)" "20 30" "rule list"

e2e_done
