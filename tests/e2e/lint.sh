#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# CLI-level tests of `xwall lint FILE` (no root, no kernel state):
#
#   a  a clean rule set: exit 0, "no anomalies", --json with an empty list
#   b  one of each class (set-based shadow, redundant, correlated,
#      never-matches): exit 1, one FILE:LINE: line per finding naming the
#      rules and a witness packet; --json: one document whose "anomalies"
#      hold {"rule", "kind", "by", "witness"} as docs/formats.md says
#   c  bad input: exit 1, the parser's FILE:LINE:COL message on stderr,
#      nothing on stdout; a missing file and bad usage also exit 1
#   d  the file from stdin ("-")
#
# Usage: tests/e2e/lint.sh   One PASS/FAIL line per check; exit 1 if any
# failed.  Environment: XWALL (binary), KEEP=1 (keep the work directory).
set -u

. "$(dirname "$0")/lib.sh"
e2e_init lint noroot
PY=${PY:-python3}
e2e_workdir xwlint
e2e_trap e2e_rmwork

# expect_rc WANT GOT WHAT
expect_rc() {
	if [ "$2" -eq "$1" ]; then pass "$3: exit $2"; else fail "$3: exit $2, expected $1"; fi
}
# has FILE TEXT WHAT: FILE contains the fixed string TEXT
has() {
	if grep -qF -- "$2" "$1"; then pass "$3"; else fail "$3: no '$2' in: $(cat "$1")"; fi
}

# ---- a: clean ----
LABEL=a
cat > "$W/clean.rules" <<'EOF'
# allow-list
policy drop
rule 10 in tcp dport 22 src 10.0.0.0/8 pass
rule 20 in udp dport 53 pass
rule 30 in icmp type echo-request pass
rule 40 in icmpv6 type 128-136 pass
rule 50 out tcp dport 25 log drop
EOF
"$XWALL" lint "$W/clean.rules" > "$W/a.out" 2> "$W/a.err"
expect_rc 0 $? "clean set"
has "$W/a.out" "$W/clean.rules: 5 rules, no anomalies" "clean set: summary line"
[ -s "$W/a.err" ] && fail "clean set: stderr not empty: $(cat "$W/a.err")" || pass "clean set: nothing on stderr"
"$XWALL" lint --json "$W/clean.rules" > "$W/a.json"
expect_rc 0 $? "clean set --json"
if $PY -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["anomalies"] == [], d' "$W/a.json"; then
	pass "clean set --json: empty anomalies"
else
	fail "clean set --json: $(cat "$W/a.json")"
fi

# ---- b: one of each ----
LABEL=b
cat > "$W/bad.rules" <<'EOF'
policy drop
rule 10 tcp dport 20-25 pass
rule 20 tcp dport 26-30 pass
rule 30 tcp dport 20-30 drop
rule 40 tcp dport 22 src 10.0.0.0/8 pass
rule 50 ip6 src 10.0.0.0/8 drop
rule 60 udp src 192.168.0.0/16 log drop
rule 70 udp dport 53 pass
EOF
"$XWALL" lint "$W/bad.rules" > "$W/b.out" 2> "$W/b.err"
expect_rc 1 $? "anomalies"
has "$W/b.out" "$W/bad.rules:4: rule 30 is shadowed by rules 10, 20 (never fires; e.g. in tcp " \
	"set-based shadow named with both rules"
has "$W/b.out" "gets pass from rule 10, not drop)" "shadow: witness decided by rule 10"
has "$W/b.out" "$W/bad.rules:5: rule 40 is redundant: covered by rule 10 with the same verdict" \
	"redundant"
has "$W/b.out" "$W/bad.rules:6: rule 50 never matches" "never-matches"
has "$W/b.out" "$W/bad.rules:8: rule 70 is correlated with rule 60 (partial overlap, other verdict: order matters; e.g. in udp 192.168." \
	"correlated with a witness from 192.168.0.0/16"
has "$W/b.out" "$W/bad.rules: 7 rules, 4 findings" "summary line"
"$XWALL" lint --json "$W/bad.rules" > "$W/b.json" 2> "$W/b.jerr"
expect_rc 1 $? "anomalies --json"
if $PY - "$W/b.json" > "$W/b.py" 2>&1 <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
got = {(a["rule"], a["kind"]): a for a in d["anomalies"]}
want = {(30, "shadowed"): [10, 20], (40, "redundant"): [10],
        (50, "never-matches"): [], (70, "correlated"): [60]}
assert set(got) == set(want), sorted(got)
for k, by in want.items():
    a = got[k]
    assert a["by"] == by, (k, a["by"])
    assert isinstance(a["rule"], int)
    if k[1] == "never-matches":
        assert a["witness"] is None, a
    else:
        assert isinstance(a["witness"], str) and a["witness"].startswith("in "), a
print("ok")
EOF
then
	pass "--json: rule/kind/by/witness of each finding"
else
	fail "--json: $(cat "$W/b.py") in $(cat "$W/b.json")"
fi

# ---- c: bad input ----
LABEL=c
printf 'rule 10 tcp dport 22 pass\nrule 20 tcp dport 99999 drop\n' > "$W/syntax.rules"
"$XWALL" lint "$W/syntax.rules" > "$W/c.out" 2> "$W/c.err"
expect_rc 1 $? "syntax error"
if grep -qE "^$W/syntax.rules:2:[0-9]+: " "$W/c.err"; then
	pass "syntax error: FILE:LINE:COL message"
else
	fail "syntax error: stderr: $(cat "$W/c.err")"
fi
[ -s "$W/c.out" ] && fail "syntax error: stdout not empty" || pass "syntax error: nothing on stdout"
"$XWALL" lint "$W/does-not-exist.rules" > /dev/null 2> "$W/c2.err"
expect_rc 1 $? "missing file"
has "$W/c2.err" "does-not-exist.rules" "missing file: named"
"$XWALL" lint > /dev/null 2>&1
expect_rc 1 $? "no FILE"
"$XWALL" lint --bogus "$W/clean.rules" > /dev/null 2>&1
expect_rc 1 $? "unknown option"
"$XWALL" lint --help > "$W/c3.out" 2>&1
expect_rc 0 $? "--help"
has "$W/c3.out" "usage: xwall lint" "--help: usage"

# ---- d: stdin ----
LABEL=d
"$XWALL" lint - < "$W/bad.rules" > "$W/d.out" 2>&1
expect_rc 1 $? "stdin"
has "$W/d.out" "<stdin>:4: rule 30 is shadowed by rules 10, 20" "stdin: named <stdin>"

e2e_done
