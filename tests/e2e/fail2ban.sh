#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# fail2ban (the Debian package, its real server, private to the test) bans
# through packaging/fail2ban/xwall.conf into an xwall set, with traffic
# across a veth pair between two namespaces; xwall runs on B's end:
#
#   set f2b-xwtest { type inet_addr; flags timeout; }
#   rule 5 in src @f2b-xwtest drop
#
#   start   the jail starts (actionstart finds the set)
#   ban     three "FAIL from A" lines in the watched log: A4 appears in the
#           set with fail2ban's bantime (6 s) as timeout, A's pings fail
#   unban   after the bantime A's pings pass and the set no longer lists A4
#   banip   `fail2ban-client set xwtest banip 192.0.2.300` (fail2ban does not
#           check it): xwall refuses it, the set stays as it was
#   stop    stopping the server runs actionstop: the set is empty
#   missing a jail whose set is not declared does not start, and its log
#           says why
#
# Usage: tests/e2e/fail2ban.sh   (root; namespaces xwfb-a/xwfb-b)
set -eu

. "$(dirname "$0")/lib.sh"
e2e_init fail2ban
NS_A=xwfb-a
NS_B=xwfb-b
IF_A=xwfb0
IF_B=xwfb1
A4=10.203.0.1
B4=10.203.0.2
export NS_A NS_B IF_A IF_B A4 B4 ROOT

if [ "${1:-}" != --inner ]; then
	command -v fail2ban-server >/dev/null || { echo "FAIL fail2ban: fail2ban is not installed (scripts/deps.sh)" >&2; exit 1; }
	e2e_outer xwfb
	rc=0
	ip netns exec "$NS_B" timeout -k 5 120 bash "$0" --inner || rc=$?
	exit $rc
fi

F=$W/f2b
SOCK=$F/f2b.sock
client() { fail2ban-client -c "$F" -s "$SOCK" "$@"; }
e2e_inner 'client stop >/dev/null 2>&1 || true; [ -z "${SRV:-}" ] || kill "$SRV" 2>/dev/null || true'
listed() { "$XWALL" set list f2b-xwtest | grep -q "^$A4 "; }
not_listed() { ! listed; }

printf 'set f2b-xwtest { type inet_addr; flags timeout; }\nrule 5 in src @f2b-xwtest drop\n' >"$W/rules"
"$XWALL" attach "$IF_B" --mode skb >/dev/null
"$XWALL" apply "$W/rules"

mkdir -p "$F/action.d" "$F/filter.d"
sed "s|@SBINDIR@/xwall|$XWALL|g" "$ROOT/packaging/fail2ban/xwall.conf" >"$F/action.d/xwall.conf"
cat >"$F/fail2ban.conf" <<EOF
[Definition]
loglevel = INFO
logtarget = $F/f2b.log
socket = $SOCK
pidfile = $F/f2b.pid
dbfile = :memory:
syslogsocket = auto
EOF
cat >"$F/filter.d/xwtest.conf" <<'EOF'
[Definition]
failregex = ^FAIL from <HOST>$
datepattern = {NONE}
EOF
cat >"$F/jail.conf" <<EOF
[DEFAULT]
backend = polling
ignoreself = false
ignoreip =
maxretry = 3
findtime = 600

[xwtest]
enabled = true
filter = xwtest
logpath = $W/auth.log
bantime = 6
action = xwall
EOF
: >"$W/auth.log"
fail2ban-server -c "$F" -s "$SOCK" -p "$F/f2b.pid" -f -x >"$F/server.out" 2>&1 &
SRV=$!

LABEL=start
jail_up() { client status xwtest >/dev/null 2>&1; }
st until_ok 100 jail_up; expect $R "the jail xwtest is up" "$(tail -3 "$F/f2b.log" 2>/dev/null)"
st ping_a4; expect $R "A's ping passes before any failure"

LABEL=ban
for i in 1 2 3; do echo "FAIL from $A4" >>"$W/auth.log"; done
st until_ok 100 listed; expect $R "three failures put A4 into f2b-xwtest" "$(tail -3 "$F/f2b.log")"
"$XWALL" set list f2b-xwtest >"$W/list"
st grep -Eq "^$A4 expires [1-6]s" "$W/list"; expect $R "with the bantime as timeout" "$(tr '\n' ' ' <"$W/list")"
st ping_a4; expect $((1 - R)) "A's ping is dropped"

LABEL=unban
st until_ok 100 not_listed; expect $R "after the bantime A4 has left the set"
st ping_a4; expect $R "and A's ping passes again"

LABEL=banip
client set xwtest banip 192.0.2.300 >/dev/null 2>&1 || true
sleep 1
n=$("$XWALL" set list f2b-xwtest --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["sets"][0]["count"])')
st test "$n" = 0; expect $R "a bad address from banip is refused; the set is unchanged" "$n"
st grep -q "expected an address" "$F/f2b.log"; expect $R "fail2ban's log shows xwall's reason" "$(grep -i error "$F/f2b.log" | tail -2)"

LABEL=stop
client set xwtest banip "$A4" >/dev/null
st until_ok 50 listed; expect $R "banip A4 bans"
client stop >/dev/null 2>&1
wait "$SRV" 2>/dev/null || true
SRV=
n=$("$XWALL" set list f2b-xwtest --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["sets"][0]["count"])')
st test "$n" = 0; expect $R "stopping the server flushed the set (actionstop)" "$n"

LABEL=missing
sed -i 's/^action = xwall$/action = xwall[setname=nosuch]/' "$F/jail.conf"
: >"$F/f2b.log"
fail2ban-server -c "$F" -s "$SOCK" -p "$F/f2b.pid" -f -x >"$F/server.out" 2>&1 &
SRV=$!
until_ok 100 jail_up || true
sleep 1
st grep -q "xwall: no set nosuch" "$F/f2b.log"; expect $R "a jail on an undeclared set logs why its start failed" "$(grep -i error "$F/f2b.log" | tail -2)"
client stop >/dev/null 2>&1 || true
wait "$SRV" 2>/dev/null || true
SRV=

e2e_done
