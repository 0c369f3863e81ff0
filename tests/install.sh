#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tests/install.sh -- `make install` / `make uninstall` lay out and remove every
# file, and packaging/xwall-service drives xwall the way xwall.service expects
# (against a stub xwall that records its arguments).  Needs no root.
# Prints PASS/FAIL lines; exits 1 if anything failed.
# shellcheck disable=SC2016  # sh -c '...$1...' is meant
set -u
cd "$(dirname "$0")/.." || exit 1
MAKE=${MAKE:-make}
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
D=$T/dest
fails=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
# check DESCRIPTION COMMAND...: PASS if the command (or function) succeeds
check() {
	d=$1; shift
	if "$@" >"$T/out" 2>&1; then pass "$d"; else fail "$d"; sed 's/^/    /' "$T/out"; fi
}

if $MAKE --no-print-directory install DESTDIR="$D" PREFIX=/usr >"$T/make.log" 2>&1; then
	pass "make install DESTDIR=\$(mktemp -d) PREFIX=/usr"
else
	fail "make install"; cat "$T/make.log"; exit 1
fi

# --- layout --------------------------------------------------------------
version=$(sed -n 's/^VERSION *:= *//p' Makefile)
check "sbin/xwall is executable" test -x "$D/usr/sbin/xwall"
check "sbin/xwall --version prints 'xwall $version'" \
	sh -c '[ "$("$1" --version)" = "xwall $2" ]' - "$D/usr/sbin/xwall" "$version"
for f in xwall.bpf.o xwall_tc.bpf.o; do       # ELF e_machine 247 = EM_BPF
	check "lib/xwall/$f is a BPF object" \
		sh -c 'od -An -tx1 -j18 -N2 "$1" | grep -q "f7 00"' - "$D/usr/lib/xwall/$f"
done
check "lib/xwall/xwall-service is executable" test -x "$D/usr/lib/xwall/xwall-service"
man=$D/usr/share/man/man8/xwall.8.gz
if command -v man >/dev/null; then
	check "man -l reads man8/xwall.8.gz" sh -c 'man -l "$1" 2>/dev/null | grep -q "^NAME"' - "$man"
else
	check "man8/xwall.8.gz is a gzipped man page" sh -c 'gzip -dc "$1" | grep -q "^\.TH XWALL 8"' - "$man"
fi
comp=$D/usr/share/bash-completion/completions/xwall
check "bash completion installed, bash -n" bash -n "$comp"
check "bash completion: 'xwall rule add 20 in tcp d' -> dst dport drop" bash -c '. "$1"
	COMP_WORDS=(xwall rule add 20 in tcp d); COMP_CWORD=6; _xwall
	[ "${COMPREPLY[*]}" = "dst dport drop" ]' - "$comp"

unit=$D/usr/lib/systemd/system/xwall.service
unit_content() {
	for l in 'Type=oneshot' 'RemainAfterExit=yes' 'After=network.target' \
		 'Environment=XWALL=/usr/sbin/xwall' \
		 'ExecStart=/usr/lib/xwall/xwall-service start' \
		 'ExecReload=/usr/lib/xwall/xwall-service reload' \
		 'ExecStop=/usr/lib/xwall/xwall-service stop'; do
		grep -qxF "$l" "$unit" || { echo "missing: $l"; return 1; }
	done
	! grep -n '@' "$unit"                   # every template variable replaced
}
check "unit: oneshot, runs /usr/lib/xwall/xwall-service with XWALL=/usr/sbin/xwall" unit_content
# systemd-analyze verify checks that the commands exist, so point them into
# DESTDIR; use it only if it works here (it needs no running systemd).
mkdir "$T/units"
printf '[Service]\nExecStart=/bin/true\n' >"$T/units/probe.service"
if command -v systemd-analyze >/dev/null &&
   systemd-analyze verify --man=no "$T/units/probe.service" >/dev/null 2>&1; then
	sed "s|=/usr/|=$D/usr/|" "$unit" >"$T/units/xwall.service"
	verify() { out=$(systemd-analyze verify --man=no "$T/units/xwall.service" 2>&1); rc=$?
		   echo "$out"; [ $rc = 0 ] && [ -z "$out" ]; }
	check "systemd-analyze verify xwall.service: clean" verify
else
	echo "SKIP: systemd-analyze verify does not work here (unit content checked above)"
fi
check "etc/xwall/xwall.conf installed" test -f "$D/etc/xwall/xwall.conf"
check "etc/xwall/rules.conf passes 'xwall apply --check'" \
	"$D/usr/sbin/xwall" apply --check "$D/etc/xwall/rules.conf"

# a second install leaves the configuration the admin changed alone
echo "# local change" >>"$D/etc/xwall/rules.conf"
$MAKE --no-print-directory install DESTDIR="$D" PREFIX=/usr >"$T/make.log" 2>&1
check "make install again keeps a changed rules.conf" grep -qx '# local change' "$D/etc/xwall/rules.conf"

# --- xwall-service against a stub xwall ----------------------------------
svc=$D/usr/lib/xwall/xwall-service
check "sh -n xwall-service" sh -n "$svc"
mkdir "$T/bin"
cat >"$T/bin/xwall" <<EOF
#!/bin/sh
# stub xwall: record the call; fail (exit 2) if the call starts with \$STUB_FAIL
echo "\$*" >>"$T/calls"
case "\$*" in "\${STUB_FAIL:-//}"*) echo "stub: refusing '\$*'" >&2; exit 2 ;; esac
exit 0
EOF
chmod +x "$T/bin/xwall"
: >"$T/rules.conf"
ifaces=lo                       # lo, and one more interface if there is one
for d in /sys/class/net/*; do
	[ "${d##*/}" = lo ] || { ifaces="lo ${d##*/}"; break; }
done
conf() { cat >"$T/xwall.conf"; }
# run ACTION [CALL...]: xwall-service ACTION succeeds and the stub saw exactly
# the CALLs; "run! ACTION [CALL...]": it fails with a message instead.
run() {
	: >"$T/calls"
	env -u XWALL PATH="$T/bin:$PATH" XWALL_CONF="$T/xwall.conf" "$svc" "$1" >"$T/svc.out" 2>&1
	rc=$?; shift
	cat "$T/svc.out"
	[ $rc = 0 ] || { echo "exit $rc"; return 1; }
	[ $# = 0 ] && exp= || exp=$(printf '%s\n' "$@")
	[ "$(cat "$T/calls")" = "$exp" ] || { echo "calls:"; cat "$T/calls"; return 1; }
}
run_fails() {
	: >"$T/calls"
	env -u XWALL PATH="$T/bin:$PATH" XWALL_CONF="$T/xwall.conf" "$svc" "$1" >"$T/svc.out" 2>&1
	rc=$?; shift
	cat "$T/svc.out"
	[ $rc != 0 ] || { echo "exit 0, expected a failure"; return 1; }
	grep -q '^xwall-service: ' "$T/svc.out" || { echo "no xwall-service: message"; return 1; }
	[ $# = 0 ] && exp= || exp=$(printf '%s\n' "$@")
	[ "$(cat "$T/calls")" = "$exp" ] || { echo "calls:"; cat "$T/calls"; return 1; }
}

conf <<EOF
INTERFACES="$ifaces"
MODE=skb
EGRESS=yes
RULES=$T/rules.conf
CT_SIZE=4096
RING_SIZE=65536
LOG_RATE=0
EOF
opts="--mode skb --egress --ct-size 4096 --ring-size 65536 --log-rate 0"
set -- "apply --ct-size 4096 --ring-size 65536 --log-rate 0 $T/rules.conf"
for i in $ifaces; do set -- "$@" "attach $i $opts"; done
check "start: apply first, then attach $ifaces with the options" run start "$@"
check "reload: apply" run reload "apply $T/rules.conf"
check "stop: detach --all" run stop "detach --all"
rm -f "$T/xwall.conf"
check "stop: detach --all, even without a configuration" run stop "detach --all"

# the installed example, with an interface named, gives the documented defaults
sed -e 's/^INTERFACES=.*/INTERFACES=lo/' -e "s|^RULES=.*|RULES=$D/etc/xwall/rules.conf|" \
	"$D/etc/xwall/xwall.conf" >"$T/xwall.conf"
check "start with the example conf: apply, attach lo --mode auto" \
	run start "apply $D/etc/xwall/rules.conf" "attach lo --mode auto"
cp "$D/etc/xwall/xwall.conf" "$T/xwall.conf"
check "the example conf as shipped (no INTERFACES): start fails" run_fails start

# bad configurations fail before xwall is called
good="INTERFACES=lo
RULES=$T/rules.conf"
bad() {     # bad DESCRIPTION ACTION CONF-LINES...
	d=$1 a=$2; shift 2
	printf '%s\n' "$good" "$@" >"$T/xwall.conf"
	check "$d: $a fails, xwall not called" run_fails "$a"
}
bad "RULES names a missing file" start "RULES=$T/no-such.rules"
bad "RULES names a missing file" reload "RULES=$T/no-such.rules"
bad "missing interface" start 'INTERFACES="lo xw-no-such0"'
bad "interface name with a slash" start 'INTERFACES="../lo"'
bad "MODE=fast" start MODE=fast
bad "EGRESS=maybe" start EGRESS=maybe
bad "CT_SIZE=64k" start CT_SIZE=64k
bad "conf syntax error" start 'INTERFACES="lo'
rm -f "$T/xwall.conf"
check "missing conf: start fails" run_fails start

# xwall failures
printf '%s\n' "$good" >"$T/xwall.conf"
STUB_FAIL=apply; export STUB_FAIL
check "apply refused: start fails, nothing attached" run_fails start "apply $T/rules.conf"
STUB_FAIL="attach lo"
check "attach refused: start fails and detaches everything again" \
	run_fails start "apply $T/rules.conf" "attach lo --mode auto" "detach --all"
unset STUB_FAIL

# --- uninstall -----------------------------------------------------------
if $MAKE --no-print-directory uninstall DESTDIR="$D" PREFIX=/usr >"$T/make.log" 2>&1; then
	pass "make uninstall DESTDIR=... PREFIX=/usr"
else
	fail "make uninstall"; cat "$T/make.log"
fi
left=$(cd "$D" && find . -type f | sort)
check "uninstall removed every file but the changed rules.conf" \
	[ "$left" = "./etc/xwall/rules.conf" ]
check "uninstall removed lib/xwall/" test ! -e "$D/usr/lib/xwall"

if [ $fails = 0 ]; then echo "install.sh: all passed"; else echo "install.sh: $fails failed"; exit 1; fi
