#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# End-to-end tests of named sets, timeouts and bans with real traffic across
# a veth pair between two namespaces; xwall runs on B's end.  Rule set:
#
#   set blocklist { type inet_addr; flags interval,timeout; elements = { 192.0.2.99 } }
#   set scanners  { type inet_addr; flags timeout; }
#   set svc       { type inet_service; elements = { 7000-7010 } }
#   rule 5  in src @scanners drop
#   rule 10 in src @blocklist drop
#   rule 20 in udp dport @svc drop
#   rule 30 in icmp limit over 5/s burst 5 per src ban @scanners 4s drop
#
#   add/del   `set add blocklist A4` stops A's pings at once, `set del` lets
#             them through; the same for A6 (mixed inet_addr) and for a
#             prefix covering A4 (longest prefix)
#   ports     UDP to 7005 is dropped, to 7020 not
#   timeout   an element added with `timeout 3s` blocks, then (before any gc)
#             no longer does after 3.5 s; `set list` showed its time left
#   ban       a ping flood from A over 5/s puts A4 into @scanners (set list),
#             A's single pings then fail; `set load` of @scanners keeps the
#             live ban; 5 s later they pass again
#   load      `set load` replaces the elements; a bad file exits 1 with
#             FILE:LINE:COL and leaves the elements as they were
#   feed      `add`/`del` lines on stdin; a bad line exits 1 and applies
#             nothing of its batch
#   apply     applying a file that declares @blocklist without `elements`
#             keeps its elements, and so does `rule add`; a file that lists
#             `elements` for a set (@svc) replaces them
#   gc        `set gc` removes the expired elements
#   verify    `xwall verify` passes with rules on live sets and reads back the
#             set maps; `lint` takes @NAME as the live set's elements
#
# Usage: tests/e2e/sets.sh   (root; namespaces xwse-a/xwse-b, veth xwse0/1),
# e.g. /work/isolate.sh tests/e2e/sets.sh.  One PASS/FAIL line per check;
# exit status 1 if any check failed.
set -eu

. "$(dirname "$0")/lib.sh"
e2e_init sets
NS_A=xwse-a
NS_B=xwse-b
IF_A=xwse0
IF_B=xwse1
A4=10.202.0.1
B4=10.202.0.2
A6=fd00:202::1
B6=fd00:202::2
export NS_A NS_B IF_A IF_B A4 B4 A6 B6

if [ "${1:-}" != --inner ]; then
	e2e_outer xwse
	rc=0
	ip netns exec "$NS_B" timeout -k 5 150 bash "$0" --inner || rc=$?
	exit $rc
fi

e2e_inner
cat >"$W/rules" <<EOF
policy pass
set blocklist {
	type inet_addr; flags interval,timeout
	elements = { 192.0.2.99 }
}
set scanners { type inet_addr; flags timeout; }
set svc { type inet_service; elements = { 7000-7010 }; }
rule 5 in src @scanners drop
rule 10 in src @blocklist drop
rule 20 in udp dport @svc drop
rule 30 in icmp limit over 5/s burst 5 per src ban @scanners 4s drop
EOF
"$XWALL" attach "$IF_B" --mode skb >/dev/null
"$XWALL" apply "$W/rules"

LABEL=add/del
st ping_a4; expect $R "A's ping passes while A is in no set"
"$XWALL" set add blocklist "$A4"
st ping_a4; expect $((1 - R)) "after set add blocklist A4 it is dropped"
"$XWALL" set list blocklist >"$W/list"
st grep -qx "$A4" "$W/list"; expect $R "set list shows A4" "$(tr '\n' ' ' <"$W/list")"
"$XWALL" set del blocklist "$A4"
st ping_a4; expect $R "after set del it passes again"
st ping_a6; expect $R "A's IPv6 ping passes"
"$XWALL" set add blocklist "$A6"
st ping_a6; expect $((1 - R)) "after set add blocklist A6 (inet_addr) IPv6 is dropped"
st ping_a4; expect $R "... and IPv4 still passes"
"$XWALL" set del blocklist "$A6"
"$XWALL" set add blocklist 10.202.0.0/16
st ping_a4; expect $((1 - R)) "a prefix covering A4 drops"
"$XWALL" set del blocklist 10.202.0.0/16
st ping_a4; expect $R "deleted prefix: passes"

LABEL=ports
st udp_a 7005; expect $((1 - R)) "UDP to 7005 (in @svc 7000-7010) is dropped"
st udp_a 7020; expect $R "UDP to 7020 arrives"

LABEL=timeout
"$XWALL" set add blocklist "$A4" timeout 3s
"$XWALL" set list blocklist >"$W/list"
st grep -Eq "^$A4 expires ([0-9]+ms|[0-3]s([0-9]+ms)?)\$" "$W/list"; expect $R "set list shows the time left" "$(tr '\n' ' ' <"$W/list")"
st ping_a4; expect $((1 - R)) "an element with timeout 3s drops at first"
sleep 3.5
"$XWALL" set list blocklist >"$W/list"
st grep -q "^$A4" "$W/list"; expect $((1 - R)) "after 3.5 s set list no longer shows it"
st ping_a4; expect $R "... and it no longer matches (not yet removed: no gc ran)"

LABEL=ban
inA ping -n -q -i 0.01 -c 60 -W 1 "$B4" >/dev/null 2>&1 || true
"$XWALL" set list scanners >"$W/list"
st grep -q "^$A4 expires .* ban" "$W/list"; expect $R "a flood over 5/s bans A4" "$(tr '\n' ' ' <"$W/list")"
printf '192.0.2.77\n' >"$W/scan"
"$XWALL" set load scanners "$W/scan" >/dev/null
"$XWALL" set list scanners >"$W/list"
st grep -q "^$A4 expires .* ban" "$W/list"; expect $R "set load keeps the datapath's live ban of A4" "$(tr '\n' ' ' <"$W/list")"
st grep -qx 192.0.2.77 "$W/list"; expect $R "beside the loaded elements" "$(tr '\n' ' ' <"$W/list")"
st ping_a4; expect $((1 - R)) "A's next ping is dropped (rule 5, @scanners)"
"$XWALL" stats --json >"$W/stats"
sleep 5
st ping_a4; expect $R "5 s later (ban 4s) A passes again"

LABEL=load
printf '# comment\n192.0.2.1\n192.0.2.2 timeout 1h\n198.51.100.0/24\n' >"$W/elems"
"$XWALL" set load blocklist "$W/elems" >/dev/null
n=$("$XWALL" set list blocklist --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["sets"][0]["elements"]))')
st test "$n" = 3; expect $R "set load replaced the elements (3)" "$n"
printf '192.0.2.3\nbogus\n' >"$W/bad"
st "$XWALL" set load blocklist "$W/bad" 2>"$W/err"
expect $((R == 1 ? 0 : 1)) "a bad file fails"
st grep -q "^$W/bad:2:1: expected an address" "$W/err"; expect $R "with FILE:LINE:COL" "$(cat "$W/err")"
n=$("$XWALL" set list blocklist --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["sets"][0]["elements"]))')
st test "$n" = 3; expect $R "and leaves the elements as they were" "$n"

LABEL=feed
printf 'add %s timeout 1h\nadd 192.0.2.50\ndel 192.0.2.1\n' "$A4" | "$XWALL" set feed blocklist 2>/dev/null
st ping_a4; expect $((1 - R)) "fed 'add A4' drops"
"$XWALL" set list blocklist >"$W/list"
st grep -qx 192.0.2.1 "$W/list"; expect $((1 - R)) "fed 'del' removed 192.0.2.1"
printf 'del %s\nadd 300.1.1.1\n' "$A4" | { st "$XWALL" set feed blocklist 2>"$W/err"; echo $R >"$W/rc"; }
st test "$(cat "$W/rc")" = 1; expect $R "a bad line exits 1" "$(cat "$W/err")"
st ping_a4; expect $((1 - R)) "and nothing of its batch was applied (A4 still in)"
echo '{"value": "'"$A4"'", "action": "del", "duration": "1h", "scope": "Ip", "origin": "cscli"}' |
	"$XWALL" set feed blocklist --json 2>/dev/null
st ping_a4; expect $R "a CrowdSec 'del' decision (--json) removes A4"

LABEL=apply
# the same file without blocklist's `elements` line
grep -v '192.0.2.99' "$W/rules" >"$W/rules2"
before=$("$XWALL" set list blocklist | grep -vc '^#\|^set ' || true)
"$XWALL" apply "$W/rules2"
after=$("$XWALL" set list blocklist | grep -vc '^#\|^set ' || true)
st test "$before" = "$after" -a "$after" -gt 0; expect $R "apply keeps the elements ($before -> $after)"
"$XWALL" rule add 40 in udp dport 9000 drop
"$XWALL" rule list >"$W/list"
st grep -q "src @blocklist drop" "$W/list"; expect $R "rule list shows 'src @blocklist'"
after=$("$XWALL" set list blocklist | grep -vc '^#\|^set ' || true)
st test "$before" = "$after"; expect $R "rule add keeps them too"
sed -i 's/7000-7010/7100/' "$W/rules2"
"$XWALL" apply "$W/rules2"
st udp_a 7005; expect $R "elements given in the file replace a set's (7005 passes now)"

LABEL=gc
"$XWALL" set add blocklist 192.0.2.77 timeout 1s
sleep 1.5
out=$("$XWALL" set gc)
st test "${out%% *}" -ge 1; expect $R "set gc removes expired elements" "$out"

LABEL=verify
"$XWALL" set add blocklist 10.202.0.0/16 timeout 1h
st "$XWALL" verify >"$W/verify" 2>&1
expect $R "xwall verify exits 0 with rules on live sets" "$(tail -3 "$W/verify" | tr '\n' ' ')"
st grep -q "^sets: 3 sets, .* 0 problems" "$W/verify"; expect $R "and read back the 3 set maps" "$(tail -2 "$W/verify" | tr '\n' ' ')"
printf 'set blocklist { type inet_addr; flags interval,timeout; }\nrule 10 in src @blocklist drop\nrule 20 in src 10.202.3.0/24 drop\n' >"$W/lintrules"
"$XWALL" lint "$W/lintrules" >"$W/lint" 2>&1 || true
st grep -q "rule 20 is redundant: covered by rule 10" "$W/lint"; expect $R "lint sees @blocklist as its live elements (10.202.0.0/16)" "$(cat "$W/lint")"
"$XWALL" set del blocklist 10.202.0.0/16

LABEL=errors
st "$XWALL" rule add 2 in src @typo drop 2>"$W/err"; expect $((R == 1 ? 0 : 1)) "rule add on an undeclared set: exit 1" "$(cat "$W/err")"
st grep -q "no set named 'typo'" "$W/err"; expect $R "naming the set" "$(cat "$W/err")"
st "$XWALL" rule add 2 in dport @blocklist drop 2>/dev/null; expect $((R == 1 ? 0 : 1)) "rule add dport on an address set: exit 1"
st "$XWALL" set add nosuch 1.2.3.4 2>/dev/null; expect $((R == 1 ? 0 : 1)) "unknown set: exit 1"
st "$XWALL" set add svc 1.2.3.4 2>/dev/null; expect $((R == 1 ? 0 : 1)) "address into a port set: exit 1"
printf 'rule 1 in src @nosuch drop\n' >"$W/r2"
st "$XWALL" apply "$W/r2" 2>"$W/err"; expect $((R == 1 ? 0 : 1)) "a rule on an undeclared set: exit 1"
st grep -q "^$W/r2:1:15: no set named 'nosuch'" "$W/err"; expect $R "with FILE:LINE:COL" "$(cat "$W/err")"

e2e_done
