#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Run clang-tidy (the checks in .clang-tidy) on one file for `make static`.
#   tidy.sh CLANG_TIDY FILE LOG GENERATED_DIR -- COMPILER FLAGS...
# Fails on any finding, except those located in GENERATED_DIR: the BPF
# skeletons bpftool writes there (build/*.skel.h) are not ours to fix, and
# the analyzer follows calls into them from the file checked (it reports a
# leak in their error path, not knowing that bpf_object__destroy_skeleton()
# frees the skeleton).  A run that fails without any finding (a crash, a
# bad flag) fails too.
set -u
tidy=$1 file=$2 log=$3 gen=$4
shift 4
[ "$1" = -- ] && shift
rc=0
"$tidy" --quiet "$file" -- "$@" >"$log" 2>&1 || rc=$?
# clang-tidy names files as the compiler saw them: relative or absolute
absgen=$(cd "$gen" && pwd -P)
ours=$(grep -E '^[^ ].*:[0-9]+:[0-9]+: (warning|error): ' "$log" |
	grep -v -e "^$gen/" -e "^$absgen/" -e "^$PWD/$gen/") || true
all=$(grep -cE ':[0-9]+:[0-9]+: (warning|error): ' "$log") || true
if [ -n "$ours" ] || { [ "$rc" != 0 ] && [ "$all" = 0 ]; }; then
	cat "$log"
	echo "clang-tidy: $file: findings (log $log)" >&2
	exit 1
fi
exit 0
