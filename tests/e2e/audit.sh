#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# End-to-end tests of audit mode and rule comments with real traffic across
# a veth pair between two namespaces; xwall runs on B's end (XDP ingress and
# TC egress).
#
#   policy    `policy audit`: UDP that no rule passes arrives anyway; the
#             verdict counter `audit` grows, `xwall events` reports it with
#             verdict audit and rule null, without any `log`
#   rule      `rule 20 ... audit comment "..."`: its packets arrive, its
#             counter grows, its events say audit and carry the comment; a
#             `drop` rule next to it still drops
#   out       `policy out audit`: B's UDP to A leaves (TC egress), counted
#             and logged as audit, direction out
#   ct        an audited packet creates conntrack state like a passed one:
#             with `policy audit` and `rule 10 ct established pass`, the
#             second ping of a flow is decided by rule 10
#   comment   `rule list` (text, --json), `stats` (text, --json) show the
#             comment; a rule whose comment alone changes keeps its counter;
#             `rule add ... comment "two words"` (the shell took the quotes
#             off) keeps it whole; `verify` passes on audit rules
#   test      `xwall test --pcap` says audit for an audit policy
#
# Usage: tests/e2e/audit.sh   (root; namespaces xwau-a/xwau-b, veth
# xwau0/xwau1), e.g. /work/isolate.sh tests/e2e/audit.sh.  One PASS/FAIL line
# per check; exit status 1 if any check failed.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
e2e_init audit

NS_A=xwau-a
NS_B=xwau-b
IF_A=xwau0
IF_B=xwau1
A4=10.203.0.1
B4=10.203.0.2
export NS_A NS_B IF_A IF_B A4 B4

if [ "${1:-}" != --inner ]; then
	bed() {
		XW_IF_A=$IF_A XW_IF_B=$IF_B XW_A4=$A4/24 XW_B4=$B4/24 XW_NO_IPV6=1 \
			e2e_bed "$1" "$NS_A" "$NS_B"
	}
	W=$(mktemp -d /tmp/xwau.XXXXXX)
	export W
	E2E_DONE=1     # the inner part reports; this part only builds the bed
	trap 'bed down || true; rm -rf "$W"' EXIT
	bed fresh
	rc=0
	ip netns exec "$NS_B" timeout -k 5 150 bash "$0" --inner || rc=$?
	exit $rc
fi

e2e_trap '"$XWALL" detach --all >/dev/null 2>&1 || true'
mount -t bpf bpf /sys/fs/bpf

inA() { ip netns exec "$NS_A" "$@"; }
# udp_in PORT: 0 if a datagram from A to B:PORT arrives
udp_in() {
	rm -f "$W/udp.out"
	timeout 3 socat -u "UDP4-RECV:$1,bind=$B4" "OPEN:$W/udp.out,creat" &
	_p=$!
	sleep 0.3
	inA bash -c "echo hello | socat -u - UDP4-SENDTO:$B4:$1" || true
	sleep 0.5
	kill $_p 2>/dev/null || true
	wait $_p 2>/dev/null || true
	grep -q hello "$W/udp.out" 2>/dev/null
}
# udp_out PORT: 0 if a datagram from B to A:PORT arrives
udp_out() {
	rm -f "$W/udp.out"
	inA timeout 3 socat -u "UDP4-RECV:$1,bind=$A4" "OPEN:$W/udp.out,creat" &
	_p=$!
	sleep 0.3
	echo hello | socat -u - "UDP4-SENDTO:$A4:$1" || true
	sleep 0.5
	kill $_p 2>/dev/null || true
	wait $_p 2>/dev/null || true
	grep -q hello "$W/udp.out" 2>/dev/null
}
# events_start: collect `xwall events --json` into $W/ev until events_stop
events_start() {
	"$XWALL" events --json >"$W/ev" 2>"$W/ev.err" &
	EV=$!
	sleep 0.5
}
events_stop() {
	sleep 0.3
	kill -INT "$EV" 2>/dev/null || true
	wait "$EV" 2>/dev/null || true
}
# jqq ARGS...: jq -e, quiet (the exit status is the answer)
jqq() { jq -e "$@" >/dev/null; }
# stj JQ: a number from `stats --json`
stj() { "$XWALL" stats --json | jq -r "$1"; }

"$XWALL" attach "$IF_B" --mode skb --egress >/dev/null

LABEL=policy
cat >"$W/r1" <<'EOF'
policy audit
rule 30 in udp dport 7002 drop
EOF
st "$XWALL" apply "$W/r1"; expect $R "apply with policy audit"
events_start
a0=$(stj '.verdicts.audit.packets')
st udp_in 7000; expect $R "UDP no rule passes arrives under policy audit"
a1=$(stj '.verdicts.audit.packets')
events_stop
[ "$a1" -gt "$a0" ] && R=0 || R=1
expect $R "verdict counter audit grows" "before $a0, after $a1"
st jqq -s 'map(select(.verdict == "audit" and .rule == null and .proto == 17 and .dport == 7000)) | length >= 1' "$W/ev"
expect $R "events report the UDP packet: verdict audit, rule null" "$(head -c 600 "$W/ev")"
st udp_in 7002; expect_not $R "a drop rule still drops under policy audit"
st bash -c '"$XWALL" rule list | grep -qx "policy in audit"'
expect $R "rule list prints 'policy in audit'"
st bash -c '"$XWALL" status | grep -q audit'
expect $R "status shows the audit policy"

LABEL=rule
cat >"$W/r2" <<'EOF'
policy pass
rule 20 in udp dport 7001 audit comment "staging \"dns\" #1"
rule 30 in udp dport 7002 drop comment "no 7002"
EOF
st "$XWALL" apply "$W/r2"; expect $R "apply a rule set with an audit rule"
events_start
r0=$(stj '.rules[] | select(.prio == 20) | .packets')
a0=$(stj '.verdicts.audit.packets')
st udp_in 7001; expect $R "UDP to the audit rule's port arrives"
r1=$(stj '.rules[] | select(.prio == 20) | .packets')
a1=$(stj '.verdicts.audit.packets')
st udp_in 7002; expect_not $R "UDP to the drop rule's port does not arrive"
events_stop
[ "$r1" -gt "$r0" ] && R=0 || R=1
expect $R "rule 20's counter grows" "before $r0, after $r1"
[ "$a1" -gt "$a0" ] && R=0 || R=1
expect $R "verdict counter audit grows" "before $a0, after $a1"
st jqq -s 'map(select(.rule == 20 and .verdict == "audit" and .dport == 7001 and .comment == "staging \"dns\" #1")) | length >= 1' "$W/ev"
expect $R "events: rule 20, verdict audit, with the comment" "$(head -c 600 "$W/ev")"
st jqq -s 'map(select(.rule == 30)) | length == 0' "$W/ev"
expect $R "no event for the drop rule without log"

LABEL=out
cat >"$W/r3" <<'EOF'
policy out audit
rule 30 in udp dport 7002 drop
EOF
st "$XWALL" apply "$W/r3"; expect $R "apply with policy out audit"
events_start
st udp_out 7004; expect $R "B's UDP to A leaves under policy out audit"
events_stop
st jqq -s 'map(select(.dir == "out" and .verdict == "audit" and .rule == null and .dport == 7004)) | length >= 1' "$W/ev"
expect $R "events: direction out, verdict audit" "$(head -c 600 "$W/ev")"

LABEL=ct
cat >"$W/r4" <<'EOF'
policy audit
rule 10 in ct established pass
EOF
st "$XWALL" apply "$W/r4"; expect $R "apply policy audit with a ct rule"
st inA ping -n -q -c 3 -i 0.2 -W 1 "$B4" >/dev/null; expect $R "pings arrive (first audited)"
n=$(stj '.rules[] | select(.prio == 10) | .packets')
[ "$n" -ge 2 ] && R=0 || R=1
expect $R "later pings of the flow are established (audited packets are tracked)" "rule 10: $n packets"

LABEL=comment
st "$XWALL" apply "$W/r2"; expect $R "apply the commented rule set"
"$XWALL" rule list >"$W/list"
st grep -qxF 'rule 20 in proto udp dport 7001 audit comment "staging \"dns\" #1"' "$W/list"
expect $R "rule list prints the rule with its comment" "$(cat "$W/list")"
st "$XWALL" apply --check "$W/list" >/dev/null; expect $R "rule list's output is a valid rule file"
st bash -c '"$XWALL" rule list --json | jq -e >/dev/null ".rules[] | select(.prio == 20) | .comment == \"staging \\\"dns\\\" #1\" and .verdict == \"audit\""'
expect $R "rule list --json: comment and verdict audit"
st bash -c '"$XWALL" stats | grep -F "comment \"no 7002\"" | grep -q "^30 "'
expect $R "stats prints the comment with the rule"
st bash -c '"$XWALL" stats --json | jq -e >/dev/null ".rules[] | select(.prio == 30) | .comment == \"no 7002\""'
expect $R "stats --json: comment"
st udp_in 7001; expect $R "UDP to the audit rule arrives"
c0=$(stj '.rules[] | select(.prio == 20) | .packets')
sed 's/staging \\"dns\\" #1/moved to the new resolver/' "$W/r2" >"$W/r2b"
st "$XWALL" apply "$W/r2b"; expect $R "apply with only rule 20's comment changed"
c1=$(stj '.rules[] | select(.prio == 20) | .packets')
st test "$c0" -ge 1 -a "$c1" = "$c0"
expect $R "a changed comment keeps the rule's counter" "before $c0, after $c1"
st bash -c '"$XWALL" rule list | grep -qxF "rule 20 in proto udp dport 7001 audit comment \"moved to the new resolver\""'
expect $R "rule list shows the new comment"
st "$XWALL" rule add 25 in udp dport 7003 audit comment "two words here"
expect $R "rule add with a comment of several words (one argument, quotes taken off by the shell)"
st bash -c '"$XWALL" rule list | grep -qxF "rule 25 in proto udp dport 7003 audit comment \"two words here\""'
expect $R "the comment is kept whole"
long=$(printf 'x%.0s' $(seq 129))
st bash -c '"$XWALL" rule add 26 in udp dport 7005 pass comment "$0" 2>"$W/err"' "$long"
expect_not $R "a comment over 128 bytes is refused"
st grep -q '^<rule>:1:[0-9]*: comment longer than 128 bytes' "$W/err"
expect $R "the error names FILE:LINE:COL" "$(cat "$W/err")"
st bash -c '"$XWALL" verify >"$W/verify" 2>&1'
expect $R "verify passes with audit rules and comments" "$(tail -3 "$W/verify")"

LABEL=test
PCAP=""
for f in "$ROOT"/../shared/corpus/tcpdump/*.pcap; do
	PCAP=$f
	break
done
if [ -f "$PCAP" ]; then
	printf 'policy audit\n' >"$W/r5"
	st bash -c '"$XWALL" test --pcap "$0" --rules "$W/r5" --json >"$W/test"' "$PCAP"
	expect $R "xwall test runs"
	st jqq -s 'length > 0 and all(.verdict == "audit")' "$W/test"
	expect $R "xwall test says audit for every packet" "$(head -c 400 "$W/test")"
else
	fail "xwall test says audit" "no capture in $ROOT/../shared/corpus/tcpdump"
fi

e2e_done
