# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The one harness of the end-to-end scripts: how a check is reported and
# counted, how a script says it could not run, how it ends.  Source it:
#
#   . "$(dirname "$0")/lib.sh"
#   e2e_init sets                # the script's name, in every line it prints
#   LABEL=ports                  # the group the next checks belong to
#   st some command; expect $R "what was checked" "detail on failure"
#   st other command; expect_not $R "it must fail"
#   e2e_done                     # summary line; exit 1 if anything failed
#
# Every check prints one line, `PASS NAME LABEL: what` or
# `FAIL NAME LABEL: what -- detail`.  A script that stops early (set -e, a
# setup command failing) prints `FAIL ... aborted` from its exit trap, so a
# test that could not run is never read as one that passed.

HERE=${HERE:-$(cd "$(dirname "$0")" && pwd)}
ROOT=${ROOT:-$(cd "$HERE/../.." && pwd)}
XWALL=${XWALL:-$ROOT/build/xwall}
export XWALL

E2E_NAME=e2e
LABEL=setup
E2E_PASSES=0
E2E_FAILS=0
E2E_DONE=0
# kept for scripts that read the count directly
FAILS=0

# e2e_init NAME: name the script; refuse to run without root or xwall.
e2e_init() {
	E2E_NAME=$1
	if [ "$(id -u)" != 0 ]; then
		echo "FAIL $E2E_NAME: needs root" >&2
		exit 1
	fi
	[ -x "$XWALL" ] || { echo "FAIL $E2E_NAME: $XWALL not built" >&2; exit 1; }
}

pass() {
	echo "PASS $E2E_NAME $LABEL: $1"
	E2E_PASSES=$((E2E_PASSES + 1))
}

fail() {
	echo "FAIL $E2E_NAME $LABEL: $1${2:+ -- $2}"
	E2E_FAILS=$((E2E_FAILS + 1))
	FAILS=$E2E_FAILS
}

# st CMD...: run CMD, R=0 if it succeeded, 1 if not (set -e does not stop).
st() { if "$@"; then R=0; else R=1; fi; }

# expect RC WHAT [DETAIL]: pass when RC is 0.
expect() { if [ "$1" -eq 0 ]; then pass "$2"; else fail "$2" "${3:-}"; fi; }

# expect_not RC WHAT [DETAIL]: pass when RC is not 0.
expect_not() { if [ "$1" -ne 0 ]; then pass "$2"; else fail "$2" "${3:-}"; fi; }

# expect_eq GOT WANT WHAT: pass when the two strings are equal.
expect_eq() {
	if [ "$1" = "$2" ]; then pass "$3"; else fail "$3" "got '$1', want '$2'"; fi
}

# The exit trap's part: an unfinished script says so.  Call it from the
# script's own cleanup, or let e2e_trap install it.
e2e_aborted() {
	[ "$E2E_DONE" = 1 ] && return 0
	echo "FAIL $E2E_NAME $LABEL: aborted (a command the test needs failed; see above)"
}

# e2e_trap [CMD]: on exit, report an unfinished run, then run CMD.
e2e_trap() {
	E2E_CLEANUP=${1:-true}
	trap 'rc=$?; e2e_aborted; eval "$E2E_CLEANUP" || true; [ "$E2E_DONE" = 1 ] || exit 1; exit $rc' EXIT
	trap 'exit 143' INT TERM
}

# e2e_done: the summary line; exit 1 when a check failed.
e2e_done() {
	E2E_DONE=1
	if [ "$E2E_FAILS" != 0 ]; then
		echo "$E2E_NAME: $E2E_FAILS of $((E2E_PASSES + E2E_FAILS)) checks failed"
		exit 1
	fi
	echo "$E2E_NAME: all $E2E_PASSES checks passed"
	exit 0
}

# e2e_bed fresh|down NS_A NS_B: two namespaces and a veth pair between them
# (scripts/netns.sh; addresses from XW_IF_A, XW_A4, ... as it documents).
e2e_bed() { sh "$ROOT/scripts/netns.sh" "$@"; }
