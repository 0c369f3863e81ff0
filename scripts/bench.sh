#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# `make bench`: per-packet cost of xwall next to xdp-filter and a trivial
# XDP_DROP program (BPF_PROG_TEST_RUN), the same with connection tracking on
# (established and new flows, flow insert rate), and apply time next to
# iptables-restore and nft.  Prints the tables, writes them to
# build/bench.txt and, for a full run, docs/benchmarks.md with the plot
# docs/bench-ns-per-packet.png (scripts/bench-plot.gp).  Needs root.  Nothing
# is attached to any interface and the host firewall is not touched: the
# programs run unattached, iptables and nft run in throw-away network
# namespaces.
#
# Environment: XWB_REPEAT, XWB_TRIALS, XWB_APPLY_RUNS, XWB_MAX_RULES,
# XWB_CT_BATCH, XWB_CT_INSERTS, XWB_XDPFILT_OBJ (see tests/bench/xwbench.c);
# XWB_ONLY=pkt|ct|apply runs one part (and leaves docs/ alone); XWB_DOCS=0
# never writes docs/.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=build/bench/xwbench
OUT=build/bench.txt
DAT=build/bench-pkt.dat   # the per-packet table's numbers, for the plot
DOC=docs/benchmarks.md
PNG=docs/bench-ns-per-packet.png
PLOT=scripts/bench-plot.gp

if [ "$(id -u)" != 0 ]; then
	echo "bench: needs root (BPF programs and maps, network namespaces)" >&2
	exit 2
fi
if [ ! -x "$BIN" ]; then
	echo "bench: $BIN missing: run 'make bench'" >&2
	exit 2
fi
if ! grep -qs '^bpf /sys/fs/bpf ' /proc/mounts; then
	mkdir -p /sys/fs/bpf
	mount -t bpf bpf /sys/fs/bpf
fi
ulimit -l unlimited 2>/dev/null || true

first_line() {
	"$@" 2>/dev/null | head -1 || true
}

only=${XWB_ONLY:-all}
docs=0
if [ "$only" = all ] && [ "${XWB_DOCS:-1}" != 0 ]; then
	docs=1
fi

tmp=$(mktemp)
body=$(mktemp)
dat=$(mktemp)
trap 'rm -f "$tmp" "$body" "$dat"' EXIT

when=$(date -u '+%Y-%m-%d %H:%M UTC')
cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
[ -n "$cpu_model" ] || cpu_model=$(first_line lscpu | sed 's/^[^:]*: *//')
cpus_online=$(nproc)
cpus_all=$(nproc --all)
kernel=$(uname -r)
virt=$(first_line systemd-detect-virt)
clang_v=$(first_line "${CLANG:-clang}" --version)
libbpf_hdr=$(pkg-config --modversion libbpf 2>/dev/null || echo "?")
libbpf_run=$("$BIN" version 2>/dev/null | sed 's/^libbpf //' || echo "?")
xdpfilter_v=$(first_line xdp-filter status --version)
ipt_v=$(first_line iptables-restore --version)
nft_v=$(first_line nft --version)
commit=$(git describe --always --dirty 2>/dev/null || echo "?")

start=$(date +%s)
{
	echo "xwall benchmark, $when"
	echo "kernel $kernel, $cpus_online CPUs, $cpu_model"
	echo "clang: $clang_v"
	echo "libbpf: $libbpf_hdr (headers), $libbpf_run (linked)"
	echo "xdp-filter: $xdpfilter_v"
	echo "iptables-restore: $ipt_v"
	echo "nft: $nft_v"
	echo
} | tee "$tmp"

XWB_PLOT_DATA=$dat "$BIN" "$only" | tee "$body"
cat "$body" >>"$tmp"

elapsed=$(( $(date +%s) - start ))
echo | tee -a "$tmp"
echo "total bench time: $elapsed s" | tee -a "$tmp"
mkdir -p "$(dirname "$OUT")"
cp "$tmp" "$OUT"
echo "bench: tables written to $OUT"
if [ -s "$dat" ]; then
	cat "$dat" >"$DAT"
fi

if [ "$docs" != 1 ]; then
	exit 0
fi

# ---- the plot: ns/packet against rule count, the numbers printed above
plot_ok=0
if [ -s "$dat" ] && command -v gnuplot >/dev/null; then
	# a regeneration by hand: gnuplot -e "datafile='build/bench-pkt.dat'" scripts/bench-plot.gp
	sub=$(printf '%s, %s, kernel %s' "$when" "$cpu_model" "$kernel" | tr -d "'\\\\")
	if gnuplot -e "datafile='$dat'; outfile='$PNG'; subtitle='$sub'" "$PLOT"; then
		plot_ok=1
	else
		echo "bench: gnuplot failed: no plot" >&2
	fi
else
	echo "bench: no per-packet numbers or no gnuplot: no plot" >&2
fi

# ---- docs/benchmarks.md: the bench's output as markdown.  "== Title" lines
# become headings, runs of lines with " | " become tables (header, then the
# rows), every other run of lines stays as it was printed, in a text block.
to_markdown() {
	awk '
	function trim(s) { gsub(/^[ \t]+|[ \t]+$/, "", s); return s }
	function cells(line, c,   n, i) {
		n = split(line, c, "|")
		for (i = 1; i <= n; i++) c[i] = trim(c[i])
		if (n > 1 && c[n] == "") n--
		return n
	}
	function numeric(s) {
		return s ~ /^[-+]?[0-9][0-9.,]*x?$/ || s ~ /^[0-9]+\/[0-9]+$/ || s == "n/a" || s == "failed" || s == "-" || s == ""
	}
	function row(line,   c, n, i, o) {
		n = cells(line, c)
		o = "|"
		for (i = 1; i <= n; i++) o = o " " c[i] " |"
		return o
	}
	function flush_text(   i) {
		if (!nt) return
		print "```text"
		for (i = 1; i <= nt; i++) print tl[i]
		print "```"
		print ""
		nt = 0
	}
	function flush_head(   h, d, nh, i, sep) {
		if (head == "") return
		nh = cells(head, h)
		cells(first, d)
		sep = "|"
		for (i = 1; i <= nh; i++) sep = sep (first != "" && numeric(d[i]) ? " ---: |" : " --- |")
		print row(head)
		print sep
		head = ""
	}
	function end_table() {
		if (!intable) return
		first = ""
		flush_head()
		print ""
		intable = 0
	}
	/^== / { flush_text(); end_table(); sub(/^== /, ""); print "### " $0; print ""; next }
	/ \| / {
		flush_text()
		if (!intable) { intable = 1; head = $0; first = ""; next }
		if (head != "") { first = $0; flush_head() }
		print row($0)
		next
	}
	/^[ \t]*$/ { flush_text(); end_table(); next }
	{ end_table(); tl[++nt] = $0 }
	END { flush_text(); end_table() }
	' "$1"
}

env_used=$(env | grep '^XWB_' | grep -v '^XWB_PLOT_DATA=' | sort | tr '\n' ' ' || true)
{
	echo "# xwall benchmarks"
	echo
	echo "Generated by \`make bench\` (scripts/bench.sh) on $when from xwall $commit;"
	echo "every number below is the one that run printed (also in build/bench.txt)."
	echo "Do not edit: run \`make bench\` again."
	echo
	echo "This page is the program-level benchmark (BPF_PROG_TEST_RUN). Real packets"
	echo "on a veth pair against nftables, iptables and xdp-filter: [bench-veth.md](bench-veth.md)"
	echo "(\`make bench-veth\`); projections to 25/100 GbE NICs: [scaling.md](scaling.md)."
	echo
	echo "## Machine"
	echo
	echo "| | |"
	echo "| --- | --- |"
	echo "| CPU | $cpu_model |"
	echo "| cores | $cpus_online online ($cpus_all possible) |"
	[ -n "$virt" ] && echo "| virtualization | $virt |"
	echo "| kernel | $kernel |"
	echo "| clang | $clang_v |"
	echo "| libbpf | $libbpf_hdr (headers), $libbpf_run (linked) |"
	echo "| xdp-filter | $xdpfilter_v |"
	echo "| iptables-restore | $ipt_v |"
	echo "| nft | $nft_v |"
	echo "| bench time | $elapsed s${env_used:+, environment: \`${env_used% }\`} |"
	echo
	cat <<'EOF'
The machine may be shared with other work: every number is a median (of
trials, runs or calls, as each table says), which keeps one slow moment from
moving it, but a busy machine still shifts all numbers somewhat.

## Method

* **Per-packet cost**: `BPF_PROG_TEST_RUN` on programs that are not attached
  anywhere: xwall as a private (unpinned) instance, xdp-filter's own BPF
  object (`xdpfilt_alw_all.o`, what `xdp-filter load` attaches) loaded with
  libbpf and its maps filled the way `xdp-filter ip|port` fills them, and a
  two-instruction `XDP_DROP` program that shows what the test-run harness
  itself costs.  The kernel reports `duration`, the mean time of one run over
  `repeat` runs of the same frame on one CPU, so code, maps and frame are in
  the caches: the numbers are instructions and map lookups, not the memory
  misses of a big table under real traffic, nor the driver and the NIC.
  Rule sets come from the project's generators (`tests/ref/rulegen.c`), the
  16 frames are built so that xwall cannot skip its lookups (addresses inside
  the rules' address space, ports in no rule), and each frame's verdict is
  checked against what it was built to hit.
* **Conntrack**: the same harness on xwall's XDP (ingress) and TC egress
  programs with a rule set that uses `ct`, next to the same frames through the
  same rules without the `ct` rule.  A flow is established by a real
  handshake through the programs first.  A new flow cannot be measured with
  `repeat` (the second run finds the entry the first made), so it is measured
  one test run per frame, each frame a different flow, with the harness cost
  of a trivial program run the same way subtracted, and cross-checked with
  `repeat` on one flow whose state times out at once (so every run deletes
  the expired entry and inserts it again).  The insert rate pushes distinct
  flows through the TC egress program one test run each: the datapath rate
  from the summed `duration`s, the wall-clock rate from the time of the loop.
* **Apply time**: xwall parses and applies the rule text into a fresh private
  instance (and then onto a live one); iptables-restore and nft load the same
  rules, each in a throw-away network namespace, timed from process start to
  exit.
* Source: `tests/bench/xwbench.c`; its own notes above each table say
  exactly what was measured.

## Results

EOF
	if [ "$plot_ok" = 1 ]; then
		echo "![ns/packet against rule count: xwall, xdp-filter, trivial XDP_DROP]($(basename "$PNG"))"
		echo
		echo "*ns/packet against rule count (log scale), from the first table below.*"
		echo
	fi
	to_markdown "$body"
} >"$DOC.tmp"
mv "$DOC.tmp" "$DOC"
if [ "$plot_ok" = 1 ]; then
	echo "bench: $DOC and $PNG written"
else
	echo "bench: $DOC written (no plot)"
fi
