#!/bin/bash
# `make bench`: per-packet cost of xwall next to xdp-filter and a trivial
# XDP_DROP program (BPF_PROG_TEST_RUN), and apply time next to
# iptables-restore and nft.  Prints the tables and writes them to
# build/bench.txt.  Needs root.  Nothing is attached to any interface and the
# host firewall is not touched: the programs run unattached, iptables and nft
# run in throw-away network namespaces.
#
# Environment: XWB_REPEAT, XWB_TRIALS, XWB_MAX_RULES, XWB_XDPFILT_OBJ (see
# tests/bench/xwbench.c); XWB_ONLY=pkt|apply runs one half.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=build/bench/xwbench
OUT=build/bench.txt

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

tool_version() {
	"$@" 2>/dev/null | head -1 || true
}

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
start=$(date +%s)
{
	echo "xwall benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "kernel $(uname -r), $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
	echo "xdp-filter: $(tool_version xdp-filter status --version)"
	echo "iptables-restore: $(tool_version iptables-restore --version)"
	echo "nft: $(tool_version nft --version)"
	echo
} | tee "$tmp"

"$BIN" "${XWB_ONLY:-all}" | tee -a "$tmp"

echo | tee -a "$tmp"
echo "total bench time: $(( $(date +%s) - start )) s" | tee -a "$tmp"
mkdir -p "$(dirname "$OUT")"
mv "$tmp" "$OUT"
trap - EXIT
echo "bench: tables written to $OUT"
