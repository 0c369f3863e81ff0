#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Load every BPF program of every object into the kernel (a private,
# unattached instance) so the verifier checks them; fails on any rejection.
set -eu
cd "$(dirname "$0")/.."
for obj in build/*.bpf.o; do
	n=$(bpftool prog loadall "$obj" /sys/fs/bpf/xw-verify-$$ 2>&1 >/dev/null && echo ok || echo fail)
	rm -rf /sys/fs/bpf/xw-verify-$$
	echo "verifier: $obj: $n"
	[ "$n" = ok ] || { bpftool -d prog loadall "$obj" /sys/fs/bpf/xw-verify-$$ 2>&1 | tail -30; exit 1; }
done
