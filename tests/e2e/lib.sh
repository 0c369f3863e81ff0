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
# A script with traffic between two namespaces splits in two (see sets.sh):
# the outer part names the bed (NS_A NS_B IF_A IF_B A4 B4 [A6 B6]), calls
# `e2e_outer TMPNAME` (W, the veth bed, cleanup on exit) and runs itself
# again with --inner inside B's namespace; the inner part calls `e2e_inner`
# (its own bpffs; on exit background jobs stopped, xwall detached) and ends
# with e2e_done.  A script that needs no traffic, only a bpffs of its own,
# runs its inner part with e2e_in_netns (foreign.sh).  A script made of
# parts run as child processes runs each with e2e_part, ends each part with
# e2e_part_end and counts them with e2e_count (security.sh, run.sh).
#
# Also here: e2e_workdir/e2e_rmwork (W; KEEP=1 keeps it), e2e_veth, e2e_macs,
# inA, bgA, bgB, stop_bg, oneline, wait_file, wait_port, until_ok, ping_a4,
# ping_a6, udp_a.  A script may define its own version of a helper after
# sourcing this file (ops.sh puts a timeout on inA).
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

# e2e_init NAME [noroot]: name the script; refuse to run without root (unless
# noroot: a script that only runs the CLI on files) or without xwall.
e2e_init() {
	E2E_NAME=$1
	if [ "${2:-}" != noroot ] && [ "$(id -u)" != 0 ]; then
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

# e2e_veth fresh|down|info: e2e_bed with the script's names and addresses:
# NS_A NS_B IF_A IF_B, A4 B4 (/24), A6 B6 (/64; unset or empty: no IPv6
# address).  E2E_NO_IPV6=1: IPv6 disabled on the link (no IPv6 frames at all).
e2e_veth() {
	XW_IF_A=$IF_A XW_IF_B=$IF_B XW_A4=$A4/24 XW_B4=$B4/24 \
		XW_A6=${A6:+$A6/64} XW_B6=${B6:+$B6/64} XW_NO_IPV6=${E2E_NO_IPV6:-0} \
		e2e_bed "$1" "$NS_A" "$NS_B"
}

# e2e_workdir TMPNAME: W (exported), a new directory /tmp/TMPNAME.XXXXXX.
# e2e_rmwork removes it, unless KEEP=1 (then it says where it is).
e2e_workdir() {
	W=$(mktemp -d "/tmp/$1.XXXXXX")
	export W
}
e2e_rmwork() {
	if [ "${KEEP:-0}" = 1 ]; then echo "$E2E_NAME: work directory kept: $W"; else rm -rf "$W"; fi
}

# e2e_outer TMPNAME [CLEANUP]: the outer part's setup: W (e2e_workdir); a
# fresh veth bed (e2e_veth); on exit CLEANUP runs, the bed comes down and W
# is removed (e2e_rmwork).
e2e_outer() {
	e2e_workdir "$1"
	E2E_OUTER_CLEANUP=${2:-true}
	trap 'eval "$E2E_OUTER_CLEANUP" || true; e2e_veth down || true; e2e_rmwork' EXIT
	trap 'exit 130' INT TERM
	e2e_veth fresh
}

# e2e_macs: MAC_A, MAC_B (exported) from the bed's `info`.
e2e_macs() {
	eval "$(e2e_veth info)"
	export MAC_A MAC_B
}

# e2e_inner [CLEANUP]: the inner part's setup in B's namespace: its own
# bpffs at /sys/fs/bpf; on exit an unfinished run is reported (e2e_trap),
# CLEANUP runs, the background jobs of bgA/bgB are killed and xwall is
# detached from every interface.
BG=""
e2e_inner() {
	E2E_INNER_CLEANUP=${1:-true}
	e2e_trap 'eval "$E2E_INNER_CLEANUP" || true; for p in $BG; do kill "$p" 2>/dev/null || true; done; timeout 10 "$XWALL" detach --all >/dev/null 2>&1 || true'
	mount -t bpf bpf /sys/fs/bpf
}

# inA CMD...: run CMD in namespace A.  bgA/bgB CMD...: run CMD in A / here
# in the background, its pid in BG (killed at exit); stop_bg kills and reaps
# them now.
inA() { ip netns exec "$NS_A" "$@"; }
bgA() { ip netns exec "$NS_A" "$@" & BG="$BG $!"; }
bgB() { "$@" & BG="$BG $!"; }
stop_bg() {
	for p in $BG; do kill "$p" 2>/dev/null || true; done
	for p in $BG; do wait "$p" 2>/dev/null || true; done
	BG=""
}

# oneline FILE: FILE on one line, at most 400 characters (failure details).
oneline() { tr '\n' ' ' <"$1" | cut -c1-400; }

# wait_file FILE [TENTHS]: until FILE exists (default 5 s); 1 if it never does.
wait_file() {
	for _i in $(seq "${2:-50}"); do
		[ -e "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# wait_port A|B tcp|udp PORT: until something listens there (max 3 s)
wait_port() {
	_f=-Hltn
	[ "$2" = udp ] && _f=-Hlun
	for _i in $(seq 60); do
		if [ "$1" = A ]; then _o=$(inA ss $_f "sport = :$3"); else _o=$(ss $_f "sport = :$3"); fi
		[ -n "$_o" ] && return 0
		sleep 0.05
	done
	echo "nothing listens on $1 $2 $3" >&2
	return 1
}

# ping_a4 / ping_a6: one ping from A to B's $B4 / $B6; 0 if answered (1 s).
ping_a4() { inA ping -n -q -c 1 -W 1 "$B4" >/dev/null 2>&1; }
ping_a6() { inA ping -6 -n -q -c 1 -W 1 "$B6" >/dev/null 2>&1; }

# udp_a PORT: 0 if a datagram from A to $B4:PORT reaches a socat bound in B
# (uses $W/udp.out).
udp_a() {
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

# until_ok TENTHS CMD...: until CMD succeeds, at most TENTHS tenths of a second
until_ok() { _n=$1; shift; for _i in $(seq "$_n"); do "$@" && return 0; sleep 0.1; done; return 1; }

# e2e_count FILE...: add the PASS and FAIL lines in FILEs (the output of
# parts run as child processes) to this script's counts.
e2e_count() {
	_p=$(cat "$@" | grep -c '^PASS' || true)
	_f=$(cat "$@" | grep -c '^FAIL' || true)
	E2E_PASSES=$((E2E_PASSES + _p))
	E2E_FAILS=$((E2E_FAILS + _f))
	FAILS=$E2E_FAILS
}

# e2e_part LOG NAME CMD...: run a part of the test as a child process, its
# output shown and kept in LOG; a part that exits non-zero without a FAIL
# line gets one.  Count the logs with e2e_count at the end.
e2e_part() {
	_log=$1 _pn=$2
	shift 2
	( "$@" 2>&1 && echo 0 >"$_log.rc" || echo $? >"$_log.rc" ) | tee "$_log"
	_rc=$(cat "$_log.rc")
	rm -f "$_log.rc"
	if [ "$_rc" != 0 ] && ! grep -q '^FAIL' "$_log"; then
		echo "FAIL $E2E_NAME $_pn: exit $_rc$([ "$_rc" = 124 ] && echo ' (timed out)')" | tee -a "$_log"
	fi
}

# e2e_part_end [CMD...]: the end of a part that e2e_part runs: no summary
# line (the parent counts with e2e_count), status 0; with CMD, exec it (a
# checker that prints its own PASS/FAIL lines; its status is the part's).
e2e_part_end() {
	E2E_DONE=1
	[ $# = 0 ] || exec "$@"
	exit 0
}

# e2e_in_netns NS TIMEOUT CMD...: run CMD in a new, empty network namespace
# NS (removed afterwards), killed after TIMEOUT seconds; exits with CMD's
# status.  For scripts that need no traffic, only a bpffs of their own.
e2e_in_netns() {
	_ns=$1 _t=$2
	shift 2
	timeout 10 ip netns add "$_ns" || { echo "FAIL $E2E_NAME: ip netns add $_ns"; exit 1; }
	_rc=0
	timeout -k 5 "$_t" ip netns exec "$_ns" "$@" || _rc=$?
	timeout 10 ip netns del "$_ns" || true
	exit $_rc
}
