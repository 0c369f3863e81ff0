#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The set commands as an operator runs them, next to an nftables named set,
# in a private namespace (run inside /work/isolate.sh or as root on a test
# box; it creates a veth pair xwsb0/xwsb1 and the nft table xwsb there):
#
#   set load of N elements (IPv4+IPv6, one per line) from a file
#   one `xwall set add` (a whole process: open, add, exit), mean of 50,
#   next to /bin/true (what starting any process costs on this machine),
#   from a shell loop and from posix_spawn (no shell fork)
#   `set feed` rate: M `add` lines through one process
#   the same with nft: `nft -f` of N elements into a named set, `nft add
#   element` once, mean of 50
#
# Wall time and CPU time (user + system of the command: on a shared machine
# wall time also counts waiting for a CPU).
#
# Usage: tests/bench/sets-cli.sh [N [M]]   (defaults 1000000, 200000)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
XWALL=${XWALL:-$ROOT/build/xwall}
N=${1:-1000000}
M=${2:-200000}
W=$(mktemp -d /tmp/xwsb.XXXXXX)
trap 'rm -rf "$W"; "$XWALL" detach --all >/dev/null 2>&1 || true; ip link del xwsb0 2>/dev/null || true; nft delete table inet xwsb 2>/dev/null || true' EXIT
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
ip link add xwsb0 type veth peer name xwsb1
ip link set xwsb0 up
ip link set xwsb1 up
SEED=${SEED:-$RANDOM}
echo "seed $SEED, N=$N, M=$M" >&2
/usr/bin/python3 - "$N" "$M" "$SEED" "$W" <<'EOF'
import random, sys
n, m, seed, w = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
r = random.Random(seed)
v4 = set(); v6 = set()
while len(v4) < n // 2:
    v4.add("%d.%d.%d.%d" % (r.randrange(1, 224), r.randrange(256), r.randrange(256), r.randrange(256)))
while len(v6) < n - n // 2:
    v6.add("2001:db8:%x:%x:%x:%x:%x:%x" % tuple(r.randrange(65536) for _ in range(6)))
with open(w + "/elems", "w") as f:
    for a in v4: f.write(a + "\n")
    for a in v6: f.write(a + "\n")
with open(w + "/feed", "w") as f:
    for i in range(m):
        f.write("add 100.%d.%d.%d\n" % (i >> 16 & 255, i >> 8 & 255, i & 255))
with open(w + "/nft4", "w") as f:
    f.write("add element inet xwsb bl4 { " + ", ".join(v4) + " }\n")
with open(w + "/nft6", "w") as f:
    f.write("add element inet xwsb bl6 { " + ", ".join(v6) + " }\n")
EOF
cat >"$W/rules" <<EOF
set bl { type inet_addr; flags timeout; size $((N + M + 1000)); }
rule 10 in src @bl drop
EOF
"$XWALL" attach xwsb1 --mode skb >/dev/null
"$XWALL" apply "$W/rules"
# t CMD...: "WALL CPU" in seconds (CPU: user + system of CMD and its children)
t() {
	local TIMEFORMAT='%R %U %S' r
	r=$( { time "$@" >/dev/null 2>&1; } 2>&1 | tail -1)
	echo "$r" | awk '{ printf "%.4f %.4f", $1, $2 + $3 }'
}
add50() { for i in $(seq 50); do "$XWALL" set add bl 192.0.2.$i; done; }
true50() { for i in $(seq 50); do /bin/true; done; }
nadd50() { for i in $(seq 50); do nft add element inet xwsb bl4 "{ 192.0.2.$i }"; done; }
# spawn50 CMD...: mean ms from posix_spawn to exit of 50 runs of CMD (%i in
# an argument becomes the run's number): no shell forks here, whose page
# tables make every command in a loop cost ~2 ms more on this VM
spawn50() {
	/usr/bin/python3 - "$@" <<'PY'
import os, sys, time
tot = 0.0
for i in range(50):
    argv = [a.replace("%i", str(i + 1)) for a in sys.argv[1:]]
    t0 = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=[
        (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0)])
    os.waitpid(pid, 0)
    tot += time.perf_counter() - t0
print("%.2f" % (tot * 1000 / 50))
PY
}
load=$(t "$XWALL" set load bl "$W/elems")
sadd=$(spawn50 "$XWALL" set add bl 198.51.100.%i)
strue=$(spawn50 /bin/true)
add=$(t add50)
tru=$(t true50)
feed=$(t sh -c "\"$XWALL\" set feed bl <\"$W/feed\" 2>/dev/null")
nft add table inet xwsb
nft add set inet xwsb bl4 "{ type ipv4_addr; size $((N + 1000)); }"
nft add set inet xwsb bl6 "{ type ipv6_addr; size $((N + 1000)); }"
nload=$(t sh -c "nft -f $W/nft4 && nft -f $W/nft6")
nadd=$(t nadd50)
w() { echo "$1" | cut -d' ' -f1; }
c() { echo "$1" | cut -d' ' -f2; }
ms50() { echo "$1 * 1000 / 50" | bc -l; }
printf '| | xwall | nftables |\n| --- | --- | --- |\n'
printf '| load %d elements (IPv4+IPv6), wall (CPU) | %.2f s (%.2f s) | %.2f s (%.2f s) |\n' "$N" \
	"$(w "$load")" "$(c "$load")" "$(w "$nload")" "$(c "$nload")"
printf '| one add (a whole CLI process), wall (CPU), mean of 50 | %.1f ms (%.1f ms) | %.1f ms (%.1f ms) |\n' \
	"$(ms50 "$(w "$add")")" "$(ms50 "$(c "$add")")" "$(ms50 "$(w "$nadd")")" "$(ms50 "$(c "$nadd")")"
printf '| /bin/true, the same way (process start on this machine) | %.1f ms (%.1f ms) | |\n' \
	"$(ms50 "$(w "$tru")")" "$(ms50 "$(c "$tru")")"
printf '| one add, posix_spawn to exit (no shell), mean of 50 | %s ms | |\n' "$sadd"
printf '| /bin/true, the same way | %s ms | |\n' "$strue"
printf '| set feed, %d adds | %.0f changes/s | |\n' "$M" "$(echo "$M / $(w "$feed")" | bc -l)"
