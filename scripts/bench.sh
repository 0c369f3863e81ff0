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
# ClassBench (last): the sets of ../shared/classbench (CB_DIR), converted by
# its build.sh into build/classbench (once; kept), and worst_rand1k, a
# worst case for classifiers (scripts/cb-worst.py, seed XWB_CB_SEED): per set
# xwall's shapes, ns/packet next to XDP_DROP, apply time and map memory
# (`xwbench cb`), and the same rules as an nftables netdev ingress chain on a
# veth pair between two namespaces it makes (scripts/bench-cb-nft.sh); table
# and plot docs/bench-classbench.png (scripts/bench-cb-plot.gp).
#
# Environment: XWB_REPEAT, XWB_TRIALS, XWB_APPLY_RUNS, XWB_MAX_RULES,
# XWB_CT_BATCH, XWB_CT_INSERTS, XWB_XDPFILT_OBJ, XWB_CB_PKTS, XWB_CB_REPEAT
# (see tests/bench/xwbench.c); XWB_CB_SETS (ClassBench sets, default all
# and worst_rand1k), XWB_CB_SEED, XWB_CB_NFT=0 (no nftables comparison),
# XWCB_* (scripts/bench-cb-nft.sh), XWB_CLI_* (scripts/bench-cli.sh: apply,
# rule add/del at 100k rules); XWB_ONLY=pkt|ct|apply|cli runs one part (and
# leaves docs/ alone), XWB_ONLY=cb runs the ClassBench part and rewrites only
# the ClassBench section of docs/benchmarks.md; XWB_DOCS=0 never writes docs/.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=build/bench/xwbench
OUT=build/bench.txt
DAT=build/bench-pkt.dat   # the per-packet table's numbers, for the plot
DOC=docs/benchmarks.md
PNG=docs/bench-ns-per-packet.png
PLOT=scripts/bench-plot.gp
CB_DIR=${CB_DIR:-../shared/classbench}
CB_OUT=build/classbench
CB_SEED=${XWB_CB_SEED:-0xc1a55}
CB_SETS=${XWB_CB_SETS:-acl1_1k fw1_1k ipc1_1k acl1_10k fw1_10k ipc1_10k acl1_100k fw1_100k ipc1_100k cs_acl_1k cs_fw_1k cs_ipc_1k cs_fw_10k worst_rand1k}
CB_DAT=build/bench-cb.dat  # the ClassBench numbers, for the plot
CB_PNG=docs/bench-classbench.png
CB_PLOT=scripts/bench-cb-plot.gp

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
if { [ "$only" = all ] || [ "$only" = cb ]; } && [ "${XWB_DOCS:-1}" != 0 ]; then
	docs=1
fi

tmp=$(mktemp)
body=$(mktemp)
dat=$(mktemp)
cbbody=$(mktemp)
cbdat=$(mktemp)
nftdat=$(mktemp)
cbplot=$(mktemp)
trap 'rm -f "$tmp" "$body" "$dat" "$cbbody" "$cbdat" "$nftdat" "$cbplot"' EXIT

# ---- ClassBench: data, xwbench cb, the nftables comparison, the summary
classbench() {
	local w=$CB_OUT/worst_rand1k
	if [ ! -f "$CB_DIR/build.sh" ]; then
		echo "bench: $CB_DIR/build.sh missing: shared/ must sit beside the repository (or set CB_DIR)" >&2
		return 2
	fi
	echo "bench: ClassBench data into $CB_OUT (made once, then reused)" >&2
	sh "$CB_DIR/build.sh" "$CB_OUT" >&2
	if [ ! -s "$w.expected" ] || [ "$(cat "$w.seed" 2>/dev/null)" != "$CB_SEED" ]; then
		rm -f "$w.expected"
		python3 scripts/cb-worst.py "$CB_SEED" 1000 "$w.filters" "$w.trace"
		python3 "$CB_DIR/cb2xwall.py" rules "$w.filters" -o "$w.rules" 2>/dev/null
		python3 "$CB_DIR/cb2xwall.py" trace "$w.trace" --rules "$w.rules" -o "$w.pcap" \
			--expected "$w.expected.tmp" >&2
		mv "$w.expected.tmp" "$w.expected"
		echo "$CB_SEED" >"$w.seed"
	fi
	echo "ClassBench: sets from $CB_DIR (build.sh into $CB_OUT); worst_rand1k = scripts/cb-worst.py"
	echo "seed $CB_SEED (XWB_CB_SEED) 1000 rules, 10 frames per rule"
	XWB_CB_DIR=$CB_OUT XWB_CB_SETS="$CB_SETS" XWB_CB_DATA=$cbdat XWALL=build/xwall "$BIN" cb
	if [ "${XWB_CB_NFT:-1}" != 0 ]; then
		echo
		echo "== ClassBench: the same rules as an nftables netdev ingress chain (veth)"
		echo "   scripts/bench-cb-nft.sh: each set as one netdev ingress chain on the DUT end of a veth"
		echo "   pair (first match in priority order, policy accept), trafgen replaying ${XWCB_FRAMES:-256} frames"
		echo "   spread evenly over the set's trace from the other namespace.  ns = CPU time of the"
		echo "   DUT's threaded NAPI thread (schedstat) per packet received: veth NAPI, GRO, the"
		echo "   ingress hook, and for accepted frames ip_rcv, which drops them (no route).  bed = no"
		echo "   table, measured alternately with it; net = nft - bed, the chain's own cost; median of"
		echo "   ${XWCB_REPEATS:-3} runs of ${XWCB_SECS:-2} s.  nft -f s: loading the chain.  check: the frames dropped"
		echo "   (received - Ip InReceives) are the oracle's share of drops of the replayed frames."
		echo
		scripts/bench-cb-nft.sh "$CB_OUT" "$nftdat" $CB_SETS
	fi
	echo
	echo "== ClassBench: xwall next to nftables, against XDP_DROP of the same run"
	echo "   xwall and XDP_DROP: BPF_PROG_TEST_RUN ns/packet (table above); xwall net = xwall -"
	echo "   XDP_DROP (the harness); nft net: the chain's own CPU time per packet on the veth bed."
	echo "   The ratios put both classifiers on the trivial XDP_DROP program's scale.  The veth bed"
	echo "   costs about 4 us per packet by itself (wake-ups at the rates trafgen reaches here), so"
	echo "   an nft net cost below about 1 us is within its noise; above 10 us it is the chain."
	echo
	awk -v plot="$cbplot" '
	function r(a, b) { return (b > 0 && a != "") ? sprintf("%.1fx", a / b) : "-" }
	FNR == 1 { f++ }
	f == 1 { nft[$1] = $7; next }
	{
		xw = $7 ? "" : $3; dr = $4; net = xw != "" ? xw - dr : ""
		n = ($1 in nft) ? nft[$1] : ""
		printf "%-13s | %7s | %8s | %8s | %8s | %9s | %10s | %10s | %14s |\n", $1, $2,
			xw != "" ? xw : "refused", dr, r(xw, dr), net != "" ? sprintf("%.1f", net) : "-",
			n != "" ? n : "-", r(n, dr), (net != "" && n != "") ? r(n, net) : "-"
		printf("%s %s %s %s %s\n", $1, $2, xw != "" ? xw : "?", dr, (n != "" && n > 0) ? n : "?") > plot
	}' "$nftdat" "$cbdat" | {
		printf '%-13s | %7s | %8s | %8s | %8s | %9s | %10s | %10s | %14s |\n' set rules "xwall ns" \
			"DROP ns" "x DROP" "xwall net" "nft net ns" "nft x DROP" "nft / xwall net"
		cat
	}
}

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

if [ "$only" != cb ] && [ "$only" != cli ]; then
	XWB_PLOT_DATA=$dat "$BIN" "$only" | tee "$body"
	cat "$body" >>"$tmp"
fi
if [ "$only" = all ] || [ "$only" = cb ]; then
	[ "$only" = cb ] || echo | tee -a "$tmp"
	classbench | tee "$cbbody"
	cat "$cbbody" >>"$tmp"
fi
# the CLI on a live 100k-rule set (scripts/bench-cli.sh), after the
# ClassBench part, which makes the sets (a cli-only run needs them made once);
# its table goes with the other apply numbers, before the ClassBench section
if [ "$only" = all ] || [ "$only" = cli ]; then
	{ [ "$only" = cli ] || echo; scripts/bench-cli.sh; } | tee -a "$body" | tee -a "$tmp"
fi

elapsed=$(( $(date +%s) - start ))
echo | tee -a "$tmp"
echo "total bench time: $elapsed s" | tee -a "$tmp"
mkdir -p "$(dirname "$OUT")"
cp "$tmp" "$OUT"
echo "bench: tables written to $OUT"
if [ -s "$dat" ]; then
	cat "$dat" >"$DAT"
fi
if [ -s "$cbplot" ]; then
	cat "$cbplot" >"$CB_DAT"
fi

if [ "$docs" != 1 ]; then
	exit 0
fi

# ---- the plot: ns/packet against rule count, the numbers printed above
plot_ok=0
if [ "$only" != all ]; then
	:
elif [ -s "$dat" ] && command -v gnuplot >/dev/null; then
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

# ---- the ClassBench plot: ns/packet per set
cb_plot_ok=0
if [ -s "$cbplot" ] && command -v gnuplot >/dev/null; then
	# by hand: gnuplot -e "datafile='build/bench-cb.dat'" scripts/bench-cb-plot.gp
	sub=$(printf '%s, %s, kernel %s' "$when" "$cpu_model" "$kernel" | tr -d "'\\\\")
	if gnuplot -e "datafile='$cbplot'; outfile='$CB_PNG'; subtitle='$sub'" "$CB_PLOT"; then
		cb_plot_ok=1
	else
		echo "bench: gnuplot failed: no ClassBench plot" >&2
	fi
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

# the ClassBench section: last in the page, from its marker on (XWB_ONLY=cb
# rewrites only this part)
cb_section() {
	echo "<!-- classbench: written by scripts/bench.sh; XWB_ONLY=cb rewrites from here on -->"
	echo "## ClassBench"
	echo
	echo "Generated by \`make bench\` (or \`XWB_ONLY=cb scripts/bench.sh\`) on $when from xwall"
	echo "$commit, kernel $kernel, $cpu_model ($cpus_online CPUs); nft: $nft_v."
	echo
	cat <<'EOF'
Standard packet-classification workloads: the ClassBench sets of
`shared/classbench` (acl1/fw1/ipc1 at 1k/10k/100k filters, the CutSplit
sets cs_*; see its README: first match, alternate pass/drop verdicts, policy
pass), converted into build/classbench by its `build.sh`, and `worst_rand1k`,
1,000 rules built to be the worst case for a classifier: every rule has a
random-length source prefix and a random-length destination prefix and a
random port range on both ports (scripts/cb-worst.py, seed printed below).
`tests/diff/cbtest.c` (part of `make check`) runs every packet of these
traces through the datapath; here a sample of each trace is timed.

* **xwall and XDP_DROP**: `xwbench cb`, BPF_PROG_TEST_RUN on the private,
  unattached XDP program (warm caches) and on a trivial XDP_DROP program, on
  the same frames spread evenly over the set's trace, interleaved.  Sets
  that `xwall apply` refuses are shown as refused, with its message.
* **nftables**: `scripts/bench-cb-nft.sh`, real packets on a veth pair
  between two namespaces, the set as one netdev ingress chain; CPU time of
  the receiving NAPI thread per packet, minus the same bed without the table.
  This bed's numbers include wake-ups and the veth path, so they are noisier
  than the test-run numbers; the "net" column is what the chain adds.
* Apply time is onto a live instance; map memory is the kernel's memlock of
  every xwall map (the connection table and other fixed maps included: the
  "+empty" column is what the rule set itself adds).

EOF
	if [ "$cb_plot_ok" = 1 ]; then
		echo "![ClassBench: ns/packet per rule set, xwall, XDP_DROP, nftables]($(basename "$CB_PNG"))"
		echo
		echo "*ns/packet per ClassBench set (log scale), from the tables below.*"
		echo
	fi
	to_markdown "$cbbody"
}

env_used=$(env | grep '^XWB_' | grep -v '^XWB_PLOT_DATA=' | sort | tr '\n' ' ' || true)
if [ "$only" = cb ]; then
	if [ -f "$DOC" ]; then
		sed '/^<!-- classbench/,$d' "$DOC" >"$DOC.tmp"
	else
		: >"$DOC.tmp"
	fi
	cb_section >>"$DOC.tmp"
	mv "$DOC.tmp" "$DOC"
	if [ "$cb_plot_ok" = 1 ]; then
		echo "bench: ClassBench section of $DOC and $CB_PNG written"
	else
		echo "bench: ClassBench section of $DOC written (no plot)"
	fi
	exit 0
fi
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
	cb_section
} >"$DOC.tmp"
mv "$DOC.tmp" "$DOC"
if [ "$plot_ok" = 1 ]; then
	echo "bench: $DOC and $PNG written"
else
	echo "bench: $DOC written (no plot)"
fi
