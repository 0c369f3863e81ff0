#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# A datapath pinned by another xwall version (other maps, other layouts) is
# refused with one clear message, not misread:
#
#   a  a map with another value size and entry count: status, rule list and
#      apply exit 2 naming the map, both layouts and how to remove it; the
#      pins are left alone
#   b  a map missing: the same, naming the map
#   c  after `rm -r /sys/fs/bpf/xwall` a fresh apply loads again
#
# Runs in a network namespace of its own with a bpffs of its own, so the
# host's xwall (if any) is never touched.  Usage: tests/e2e/foreign.sh (root).
# One PASS/FAIL line per check; exit 1 if any failed.
set -u

. "$(dirname "$0")/lib.sh"
e2e_init foreign
NS=xwfor-$$

if [ "${1:-}" != --inner ]; then
	e2e_in_netns "$NS" 60 sh "$0" --inner
fi

# ---- inside the namespace: a bpffs of our own ----
e2e_workdir xwfor
e2e_trap 'rm -rf "$W"'
PIN=/sys/fs/bpf/xwall
mount -t bpf bpf /sys/fs/bpf || { echo "FAIL foreign: mount bpffs"; exit 1; }

printf 'policy pass\nrule 10 in tcp dport 22 drop\n' >"$W/r"
LABEL=setup
if "$XWALL" apply "$W/r" >/dev/null 2>"$W/e"; then pass "apply loads a datapath"; else
	fail "apply: $(cat "$W/e")"; exit 1; fi

# refused CMD... : exit 2, the message names the pin dir and WANT, stdout empty
refused() {
	want=$1
	shift
	rc=0
	"$XWALL" "$@" >"$W/o" 2>"$W/e" </dev/null || rc=$?
	if [ $rc = 2 ] && [ ! -s "$W/o" ] && grep -qF "$PIN holds a datapath of another xwall version" "$W/e" &&
		grep -qF -- "$want" "$W/e" && grep -qF "rm -r $PIN" "$W/e"; then
		pass "xwall $* exits 2 naming $want"
	else
		fail "xwall $*: exit $rc, stdout '$(cat "$W/o")', stderr '$(cat "$W/e")'"
	fi
}

LABEL=a
rm "$PIN/xw_lids"
bpftool map create "$PIN/xw_lids" type array key 4 value 8 entries 2 name xw_lids
refused "map xw_lids: type 2, key 4, value 8 bytes, 2 entries" status
refused "map xw_lids" rule list
refused "map xw_lids" apply "$W/r"
[ -e "$PIN/xw_cfg" ] && [ -e "$PIN/xw_nodes" ] && pass "the pins are left alone" ||
	fail "pins were removed: $(ls "$PIN")"

LABEL=b
rm "$PIN/xw_trees"
refused "it has no map xw_trees" status

LABEL=c
rm -r "$PIN"
if "$XWALL" apply "$W/r" >/dev/null 2>"$W/e" && "$XWALL" rule list >"$W/o" 2>>"$W/e" &&
	grep -q "dport 22" "$W/o"; then
	pass "after rm -r $PIN a fresh apply loads again"
else
	fail "fresh apply: $(cat "$W/e")"
fi
e2e_done
