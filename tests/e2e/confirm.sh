#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# End-to-end tests of `apply --confirm SECS` and `xwall confirm` with real
# traffic across a veth pair between two namespaces; xwall runs on B's end.
# Which rule set is live shows in traffic (UDP to port 7000 arrives under
# the old set, is dropped under the new one) and in `rule list`:
#
#   old:  rule 10 in icmp pass                new:  rule 10 in icmp pass
#         rule 20 in udp dport 7000 pass            rule 30 in udp dport 7000 drop
#
#   rollback   --confirm 3 prints the deadline; status (text and JSON) shows
#              it; the new set is live; not confirmed, the old set is back
#              after the deadline, rule 10 (in both sets) kept its counters
#              across both changes, status tells the restore, the timer is
#              gone, confirm then exits 1
#   refuse     while one is pending, a second --confirm, a plain apply, rule
#              add and policy are refused (exit 1) and change nothing
#   confirm    confirmed in time, the new set is still live after the
#              deadline; status shows no pending confirmation
#   revert     confirm --rollback restores the old set at once
#   terminal   apply run in a session whose whole process group is then
#              killed, and apply run on a pty (script) that is then closed
#              (SIGHUP): the old set comes back all the same
#   killed     apply SIGKILLed while it applies a large rule set, right after
#              its record is pinned: the old set is back after the deadline
#   orphan     the timer killed: past the deadline, the next rule change
#              restores the old set first, then makes its change
#   unload     the last detach cancels a pending confirmation; its timer
#              ends; apply --confirm on an unloaded datapath loads it and
#              restores the empty rule set
#   usage      bad SECS, --check with --confirm, confirm with nothing pending
#
# Usage: tests/e2e/confirm.sh   (root; namespaces xwcf-a/xwcf-b, veth
# xwcf0/1), e.g. /work/isolate.sh tests/e2e/confirm.sh.  One PASS/FAIL line
# per check; exit status 1 if any check failed.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
NS_A=xwcf-a
NS_B=xwcf-b
IF_A=xwcf0
IF_B=xwcf1
A4=10.203.0.1
B4=10.203.0.2
export NS_A NS_B IF_A IF_B A4 B4

if [ "${1:-}" != --inner ]; then
	e2e_init confirm
	bed() {
		XW_IF_A=$IF_A XW_IF_B=$IF_B XW_A4=$A4/24 XW_B4=$B4/24 XW_NO_IPV6=1 \
			e2e_bed "$1" "$NS_A" "$NS_B"
	}
	W=$(mktemp -d /tmp/xwcf.XXXXXX)
	export W
	cleanup() {
		bed down || true
		rm -rf "$W"
	}
	trap cleanup EXIT
	bed fresh
	rc=0
	ip netns exec "$NS_B" timeout -k 5 150 bash "$0" --inner || rc=$?
	exit $rc
fi

e2e_init confirm
e2e_trap '"$XWALL" detach --all >/dev/null 2>&1'
mount -t bpf bpf /sys/fs/bpf

inA() { ip netns exec "$NS_A" "$@"; }
pings() { inA ping -n -q -c "$1" -i 0.2 -W 1 "$B4" >/dev/null 2>&1; }
# udp: 0 if a datagram from A to B:7000 arrives
udp() {
	rm -f "$W/udp.out"
	timeout 3 socat -u "UDP4-RECV:7000,bind=$B4" "OPEN:$W/udp.out,creat" &
	_p=$!
	sleep 0.3
	inA bash -c "echo hello | socat -u - UDP4-SENDTO:$B4:7000" || true
	sleep 0.4
	kill $_p 2>/dev/null || true
	wait $_p 2>/dev/null || true
	grep -q hello "$W/udp.out" 2>/dev/null
}
# jq-free JSON reads
js() { python3 -c 'import json,sys; d=json.load(sys.stdin)
for k in sys.argv[1].split("."): d=d[int(k)] if isinstance(d,list) else d.get(k) if d is not None else None
print("null" if d is None else json.dumps(d) if not isinstance(d,str) else d)' "$1"; }
status_json() { "$XWALL" status --json | js "$1"; }
# the timer's pid from the text status (quick: no JSON parser in the 3 s windows)
timer_pid() { "$XWALL" status | sed -n 's/^confirm: pending .*(timer pid \([0-9]*\))$/\1/p'; }
rule10_packets() { "$XWALL" stats --json | python3 -c 'import json,sys
print(sum(r["packets"] for r in json.load(sys.stdin)["rules"] if r["prio"] == 10))'; }
# live: "old", "new" or "other" by rule list
live() {
	"$XWALL" rule list >"$W/live"
	if cmp -s "$W/live" "$W/old.list"; then echo old
	elif cmp -s "$W/live" "$W/new.list"; then echo new
	else echo other; fi
}
# wait_for WANT SECS: poll `live` until it says WANT
wait_for() {
	local i=0
	while [ "$(live)" != "$1" ] && [ $i -lt $(($2 * 10)) ]; do sleep 0.1; i=$((i + 1)); done
	[ "$(live)" = "$1" ]
}
# gone PID: the process has ended (waits up to 3 s)
gone() {
	local i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
	! kill -0 "$1" 2>/dev/null
}

printf 'rule 10 in icmp pass\nrule 20 in udp dport 7000 pass\n' >"$W/old.rules"
printf 'rule 10 in icmp pass\nrule 30 in udp dport 7000 drop\n' >"$W/new.rules"
"$XWALL" attach "$IF_B" --mode skb >/dev/null
"$XWALL" apply "$W/new.rules"
"$XWALL" rule list >"$W/new.list"
"$XWALL" apply "$W/old.rules"
"$XWALL" rule list >"$W/old.list"

LABEL=rollback
st udp; expect $R "old set: UDP to 7000 arrives"
pings 3
p0=$(rule10_packets)
# inside the 3 s: read what is needed at once, check it afterwards
st "$XWALL" apply --confirm 3 "$W/new.rules" >"$W/out"; ok=$R
"$XWALL" status --json >"$W/status.json"
"$XWALL" status >"$W/status"
"$XWALL" rule list >"$W/during"
pings 2
expect $ok "apply --confirm 3 exits 0"
st grep -q 'run `xwall confirm` by .* (in 3s)' "$W/out"; expect $R "it prints the deadline and how to confirm" "$(cat "$W/out")"
st cmp -s "$W/during" "$W/new.list"; expect $R "the new set is live" "$(tr '\n' '|' <"$W/during")"
st grep -q '^confirm: pending until .*left).*xwall confirm.*timer pid [0-9]' "$W/status"
expect $R "status shows the pending confirmation and its deadline" "$(cat "$W/status")"
sj() { js "$1" <"$W/status.json"; }
expect_eq "$(sj confirm.pending)" true "status --json: confirm.pending"
left=$(sj confirm.seconds_left)
st test "$left" -ge 1 -a "$left" -le 3; expect $R "status --json: seconds_left $left in 1..3"
st grep -q 'Z$' <<<"$(sj confirm.deadline)"; expect $R "status --json: deadline in UTC" "$(sj confirm.deadline)"
expect_eq "$(sj confirm.timer_alive)" true "status --json: the timer is alive"
tpid=$(sj confirm.timer_pid)
st wait_for old 6; expect $R "not confirmed: the old set is back after the deadline" "$(cat "$W/live")"
st udp; expect $R "old set again: UDP to 7000 arrives"
p1=$(rule10_packets)
st test "$p1" -ge $((p0 + 2)); expect $R "rule 10 (in both sets) kept its counters: $p0 before, $p1 after (+2 pings at least)"
st gone "$tpid"; expect $R "the timer has ended"
"$XWALL" status >"$W/status"
st grep -q '^last confirm: .*new.rules not confirmed in time: previous rule set restored' "$W/status"
expect $R "status tells the restore" "$(cat "$W/status")"
expect_eq "$(status_json last_confirm.outcome)" restored "status --json: last_confirm.outcome"
expect_eq "$(status_json confirm.pending)" false "status --json: nothing pending"
rc=0; "$XWALL" confirm 2>"$W/err" || rc=$?
expect_eq "$rc" 1 "confirm afterwards exits 1"
st grep -q 'nothing to confirm.*restored' "$W/err"; expect $R "... saying the old set was restored" "$(cat "$W/err")"

LABEL=refuse
"$XWALL" apply --confirm 60 "$W/new.rules" >/dev/null
st udp; expect_not $R "new set: UDP to 7000 is dropped"
rc=0; "$XWALL" apply --confirm 3 "$W/new.rules" 2>"$W/err" || rc=$?
expect_eq "$rc" 1 "a second apply --confirm is refused (exit 1)"
st grep -q 'another apply --confirm is pending.*one at a time' "$W/err"; expect $R "... with a clear message" "$(cat "$W/err")"
rc=0; "$XWALL" apply "$W/old.rules" 2>"$W/err" || rc=$?
expect_eq "$rc" 1 "a plain apply is refused while pending"
rc=0; "$XWALL" rule add 40 in udp dport 9 drop 2>"$W/err" || rc=$?
expect_eq "$rc" 1 "rule add is refused while pending"
rc=0; "$XWALL" policy drop 2>"$W/err" || rc=$?
expect_eq "$rc" 1 "policy is refused while pending"
st grep -q 'waiting for confirmation' "$W/err"; expect $R "... saying why" "$(cat "$W/err")"
expect_eq "$(live)" new "the new set is still live, unchanged"
"$XWALL" confirm --rollback >/dev/null

LABEL=confirm
"$XWALL" apply --confirm 3 "$W/new.rules" >/dev/null
tpid=$(timer_pid)
st "$XWALL" confirm >"$W/out"; expect $R "confirm in time exits 0"
st grep -q '^confirmed: keeping .*new.rules' "$W/out"; expect $R "... and says what it keeps" "$(cat "$W/out")"
sleep 4
expect_eq "$(live)" new "after the deadline the new set is still live"
st udp; expect_not $R "new set: UDP to 7000 still dropped"
st gone "$tpid"; expect $R "the timer has ended"
expect_eq "$(status_json confirm.pending)" false "status --json: nothing pending"
expect_eq "$(status_json last_confirm.outcome)" kept "status --json: last_confirm.outcome kept"
"$XWALL" apply "$W/old.rules"
st udp; expect $R "a plain apply works again afterwards"

LABEL=revert
"$XWALL" apply --confirm 60 "$W/new.rules" >/dev/null
tpid=$(timer_pid)
st "$XWALL" confirm --rollback >"$W/out"; expect $R "confirm --rollback exits 0"
expect_eq "$(live)" old "the old set is back at once"
st gone "$tpid"; expect $R "the timer has ended"
expect_eq "$(status_json last_confirm.outcome)" reverted "status --json: last_confirm.outcome reverted"

LABEL=terminal
# a session of its own whose process group is killed once apply returned
# (each killed job runs in a subshell whose stderr takes bash's "Killed")
( setsid bash -c '"$XWALL" apply --confirm 5 "$W/new.rules" >"$W/sess.out"; echo $$ >"$W/sess.pid"; sleep 60' &
  wait ) 2>/dev/null &
i=0; while [ ! -s "$W/sess.pid" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
sid=$(cat "$W/sess.pid")
tpid=$(timer_pid)
kill -KILL -- "-$sid" 2>/dev/null || true
wait
st kill -0 "$sid" 2>/dev/null; expect_not $R "the session that ran apply is gone"
st kill -0 "$tpid"; expect $R "the timer (pid $tpid) outlived the session"
expect_eq "$(live)" new "the new set is live"
st wait_for old 8; expect $R "the old set is back after the deadline" "$(cat "$W/live")"
st gone "$tpid"; expect $R "the timer has ended"
# apply on a pty that is closed: the session gets SIGHUP
( script -qfec "\"$XWALL\" apply --confirm 5 \"$W/new.rules\"; sleep 60" /dev/null >"$W/pty.out" 2>&1 &
  echo $! >"$W/script.pid"; wait ) 2>/dev/null &
i=0; while [ ! -e /sys/fs/bpf/xwall/xw_confirm ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
tpid=$(timer_pid)
expect_eq "$(live)" new "apply on a pty: the new set is live"
kill -KILL "$(cat "$W/script.pid")" 2>/dev/null || true    # the pty's master closes: hangup
wait
sleep 0.2
st kill -0 "$tpid"; expect $R "the timer (pid $tpid) outlived the hangup"
st wait_for old 8; expect $R "the old set is back after the deadline" "$(cat "$W/live")"
st gone "$tpid"; expect $R "the timer has ended"

LABEL=killed
# apply SIGKILLed once its record is pinned, in the middle of applying a
# large rule set: whichever set it left live, the old one is back afterwards
{ cat "$W/new.rules"; awk 'BEGIN { for (i = 1000; i < 21000; i++)
	printf "rule %d in udp dport %d src 10.%d.%d.%d drop\n", i, i % 50000 + 1, int(i / 65536) % 256, int(i / 256) % 256, i % 256 }'
} >"$W/big.rules"
( "$XWALL" apply "$W/big.rules" --confirm 8 >/dev/null 2>&1 & echo $! >"$W/apply.pid"; wait ) 2>/dev/null &
while [ ! -s "$W/apply.pid" ]; do :; done
apid=$(cat "$W/apply.pid")
i=0; while [ ! -e /sys/fs/bpf/xwall/xw_confirm ] && [ $i -lt 200000 ]; do i=$((i + 1)); done
delay=$((RANDOM % 3000))     # ms after the pin: before or after the switch
echo "  (killing apply ${delay} ms after its record appeared)"
sleep "$((delay / 1000)).$(printf '%03d' $((delay % 1000)))"
kill -KILL "$apid" 2>/dev/null || true
wait
st test -e /sys/fs/bpf/xwall/xw_confirm; expect $R "apply killed after pinning its record (the record stays)"
n=$("$XWALL" rule list | grep -c '^rule' || true)
echo "  (apply was killed with $n rules live: $([ "$n" -gt 2 ] && echo 'after' || echo 'before') the switch)"
tpid=$(timer_pid)
st kill -0 "$tpid"; expect $R "the timer (pid $tpid) outlived the killed apply"
i=0; while [ -e /sys/fs/bpf/xwall/xw_confirm ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
st test ! -e /sys/fs/bpf/xwall/xw_confirm; expect $R "the confirmation ended at the deadline"
expect_eq "$(live)" old "the old set is live"
expect_eq "$(status_json last_confirm.outcome)" restored "status --json: last_confirm.outcome restored"
st gone "$tpid"; expect $R "the timer has ended"

LABEL=orphan
"$XWALL" apply --confirm 4 "$W/new.rules" >/dev/null
tpid=$(timer_pid)
kill -KILL "$tpid"
st gone "$tpid"; expect $R "the timer is killed"
"$XWALL" status >"$W/status"
st grep -q 'timer (pid [0-9]*) is gone' "$W/status"; expect $R "status says the timer is gone" "$(cat "$W/status")"
sleep 4.5
expect_eq "$(live)" new "past the deadline, without a timer, nothing changed yet"
st "$XWALL" rule add 40 in udp dport 9 drop 2>"$W/err"; expect $R "the next rule add exits 0"
st grep -q 'not confirmed by .*restored the previous rule set' "$W/err"; expect $R "... restoring the old set first, and saying so" "$(cat "$W/err")"
{ cat "$W/old.list"; echo "rule 40 in proto udp dport 9 drop"; } >"$W/want"
"$XWALL" rule list >"$W/live"
st cmp -s "$W/live" "$W/want"; expect $R "the live set is the old one plus rule 40" "$(tr '\n' '|' <"$W/live")"
"$XWALL" rule del 40

LABEL=unload
"$XWALL" apply --confirm 30 "$W/new.rules" >/dev/null
tpid=$(timer_pid)
st "$XWALL" detach --all 2>"$W/err"; expect $R "detach --all exits 0 while pending"
st grep -q 'cancelled the pending confirmation' "$W/err"; expect $R "... and says it cancelled it" "$(cat "$W/err")"
st gone "$tpid"; expect $R "the timer has ended"
st test ! -e /sys/fs/bpf/xwall; expect $R "no pins are left"
st "$XWALL" apply --confirm 4 "$W/new.rules" >/dev/null; expect $R "apply --confirm with nothing loaded loads and applies"
tpid=$(timer_pid)
expect_eq "$(live)" new "the new set is live"
printf 'policy in pass\npolicy out pass\n' >"$W/empty.list"
i=0; while ! "$XWALL" rule list | cmp -s - "$W/empty.list" && [ $i -lt 60 ]; do sleep 0.1; i=$((i + 1)); done
"$XWALL" rule list >"$W/live"
st cmp -s "$W/live" "$W/empty.list"; expect $R "not confirmed: the empty rule set is back" "$(tr '\n' '|' <"$W/live")"
st gone "$tpid"; expect $R "the timer has ended"

LABEL=usage
for bad in 0 abc 86401 -5 ""; do
	rc=0; "$XWALL" apply --confirm "$bad" "$W/new.rules" 2>"$W/err" || rc=$?
	expect_eq "$rc" 1 "--confirm '$bad' exits 1"
done
st grep -q -- '--confirm: expected seconds' "$W/err"; expect $R "... naming --confirm" "$(cat "$W/err")"
rc=0; "$XWALL" apply --check --confirm 3 "$W/new.rules" 2>/dev/null || rc=$?
expect_eq "$rc" 1 "--check with --confirm exits 1"
st "$XWALL" apply --confirm 90s "$W/new.rules" >"$W/out"; expect $R "--confirm 90s is accepted"
st grep -q '(in 90s)' "$W/out"; expect $R "... as 90 seconds" "$(cat "$W/out")"
"$XWALL" confirm >/dev/null
rc=0; "$XWALL" confirm 2>"$W/err" || rc=$?
expect_eq "$rc" 1 "confirm with nothing pending exits 1"
st grep -q 'nothing to confirm' "$W/err"; expect $R "... with a clear message" "$(cat "$W/err")"

e2e_done
