#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# `make bench` (XWB_ONLY=cli): what the xwall commands that change rules cost
# on a live datapath holding a ClassBench ~100k-rule set, timed from process
# start to exit: `apply` of a set over another one (every rule new), `apply`
# of the same set again (every rule kept, counters carried), `rule add` and
# `rule del` of one rule; and the kernel memory (memlock, `bpftool map show`)
# of the rule maps (xw_nodes, xw_lids, xw_rents and the live rule text) and
# of all xwall maps.  Runs in a private mount namespace with its own bpffs:
# the datapath is loaded there and attached nowhere.  Needs root and the sets
# in build/classbench (scripts/bench.sh makes them).
# Environment: XWB_CLI_SETS (default acl1_100k fw1_100k ipc1_100k),
# XWB_CLI_RUNS (3; the median is printed), XWALL (build/xwall).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${XWB_CLI_INNER:-}" ]; then
	exec env XWB_CLI_INNER=1 unshare --mount --propagation private "$0" "$@"
fi
mount -t bpf bpf /sys/fs/bpf

X=${XWALL:-build/xwall}
SETS=${XWB_CLI_SETS:-acl1_100k fw1_100k ipc1_100k}
RUNS=${XWB_CLI_RUNS:-3}
CB=build/classbench
PIN=/sys/fs/bpf/xwall
t=$(mktemp)
trap 'rm -f "$t"' EXIT

for s in $SETS; do
	if [ ! -s "$CB/$s.rules" ]; then
		echo "bench-cli: $CB/$s.rules missing (scripts/bench.sh makes it)" >&2
		exit 2
	fi
done

# "wall_ms cpu_ms" of one command (cpu = user + sys); the command must succeed
timed() {
	local s0 s1

	s0=$(date +%s%N)   # /usr/bin/time's %e has 10 ms steps
	/usr/bin/time -f "%U %S" -o "$t" "$@" >/dev/null
	s1=$(date +%s%N)
	awk -v w=$(((s1 - s0) / 1000)) '{ printf "%.1f %.0f\n", w / 1000, ($1 + $2) * 1000 }' "$t"
}

# median of the runs' "wall cpu" lines, as "wall (cpu)"
median() {
	sort -n | awk '{ w[NR] = $1; c[NR] = $2 } END { m = int((NR + 1) / 2); printf "%.1f (%d)", w[m], c[m] }'
}

# memlock in MiB of our pinned maps named in $@ (bpftool map show lists
# every map of the machine; the pins are this datapath's), "text": the
# rule text maps both generations hold
memlock() {
	local b=0 v id g
	for m in "$@"; do
		if [ "$m" = text ]; then
			for g in 0 1; do
				id=$(bpftool -j map lookup pinned "$PIN/xw_text" key $g 0 0 0 2>/dev/null |
				     python3 -c 'import json,sys; v=json.load(sys.stdin)["value"]; print(int("".join(x[2:] for x in reversed(v)), 16))' 2>/dev/null) || continue
				v=$(bpftool -j map show id "$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["bytes_memlock"])')
				b=$((b + v))
			done
			continue
		fi
		v=$(bpftool -j map show pinned "$PIN/$m" | python3 -c 'import json,sys; print(json.load(sys.stdin)["bytes_memlock"])')
		b=$((b + v))
	done
	awk -v b="$b" 'BEGIN { printf "%.1f", b / 1048576 }'
}

echo "== xwall CLI on a live ~100k-rule set: apply, rule add, rule del"
echo "   scripts/bench-cli.sh: ms from process start to exit, median of $RUNS runs (in"
echo "   parentheses: CPU ms, user + sys); the datapath lives in a private bpffs, attached"
echo "   nowhere.  apply new: the set over another 100k set (every rule new, counters zeroed);"
echo "   apply same: the same file again (counters carried); rule add / rule del: one rule"
echo "   (priority 5) added to / deleted from the live set, as changes of the live generation;"
echo "   del old: a rule of the file deleted (and added back); whole: the same add as a whole"
echo "   re-apply (XW_EDIT=full, the baseline).  rule maps: memlock of xw_nodes,"
echo "   xw_lids, xw_rents (both generations) and the rule text of both generations; all maps:"
echo "   every map of the datapath (flow tables and event ring included)."
echo "   XW_TIMING=1 xwall apply FILE (or rule add ...) prints where the time goes."
echo "set | rules | apply new ms | apply same ms | rule add ms | rule del ms | del old ms | add whole ms | rule maps MiB | all maps MiB"
prev=
for s in $SETS; do
	f=$CB/$s.rules
	other=${prev:-$(echo $SETS | awk '{ print $NF }')}
	[ "$other" = "$s" ] && other=acl1_10k
	new=(); same=(); add=(); del=(); delo=(); whole=()
	# a rule of the file: deleted and added back by each run
	old=$(grep -m1 '^rule ' "$f")
	oprio=$(echo "$old" | awk '{ print $2 }')
	for ((r = 0; r < RUNS; r++)); do
		"$X" apply "$CB/$other.rules" >/dev/null
		new+=("$(timed "$X" apply "$f")")
		same+=("$(timed "$X" apply "$f")")
		add+=("$(timed "$X" rule add 5 in src 192.0.2.1 tcp dport 7 drop)")
		del+=("$(timed "$X" rule del 5)")
		delo+=("$(timed "$X" rule del "$oprio")")
		# shellcheck disable=SC2086
		"$X" rule add ${old#rule } >/dev/null
		whole+=("$(timed env XW_EDIT=full "$X" rule add 5 in src 192.0.2.1 tcp dport 7 drop)")
		"$X" rule del 5 >/dev/null
	done
	rules=$("$X" rule list | grep -c '^rule ')
	maps=()    # every pinned map (the pins hold programs too)
	for m in "$PIN"/xw_*; do
		bpftool map show pinned "$m" >/dev/null 2>&1 && maps+=("${m##*/}")
	done
	printf '%s | %s | %s | %s | %s | %s | %s | %s | %s | %s\n' "$s" "$rules" \
		"$(printf '%s\n' "${new[@]}" | median)" "$(printf '%s\n' "${same[@]}" | median)" \
		"$(printf '%s\n' "${add[@]}" | median)" "$(printf '%s\n' "${del[@]}" | median)" \
		"$(printf '%s\n' "${delo[@]}" | median)" "$(printf '%s\n' "${whole[@]}" | median)" \
		"$(memlock xw_nodes xw_lids xw_rents text)" \
		"$(memlock text "${maps[@]}")"
	prev=$s
done
"$X" apply --allow-empty /dev/null >/dev/null 2>&1 || true
