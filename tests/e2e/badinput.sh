#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Bad input and refused privileges never change the live state (issue 10,
# items 5 and 6).  Every refused command is checked against a snapshot of
# the live state taken before it: `status --json` (generation, interfaces,
# program ids, rule count, policies) and `rule list`.
#
#   read      apply of a directory, of /proc/self/mem (EIO), of a missing file:
#             exit 1 naming the cause; of a FIFO nobody writes: blocks (killed
#             by timeout) without changing anything
#   empty     an empty / comment-only file or stdin is refused (exit 1, also
#             with --check) unless --allow-empty, which applies it
#   overflow  a limit burst whose bucket capacity wraps u64: FILE:LINE:COL
#   expand    one rule with two 150-address lists and two wide port ranges:
#             refused with the figure; peak RSS of apply --check (measured
#             with /usr/bin/time) under 512 MiB, also for the largest input
#             the bound lets through
#   pcap      `xwall test` on a capture with snaplen 64: a warning with the
#             number of truncated packets, a capture_truncated flag in --json
#   caps      CAP_BPF + CAP_NET_ADMIN + CAP_SYS_ADMIN (no other capability)
#             can apply, status, rule list; without any one of them exit 2
#             naming it; uid 65534 exit 2 naming all three
#   record    an attach whose record in xw_ifaces fails (the table filled up
#             with bpftool) exits 2 and leaves no XDP program / TC filter
#   reuse     131072 rules (every counter slot used); a new rule takes a
#             deleted rule's slot: strace shows its counters zeroed only after
#             the grace period that follows the switch; they read 0 although
#             the deleted rule had counted packets
#   lock      two applies waiting on the pin-directory lock while its holder
#             removes the directory (what the last detach does): both succeed
#             one after the other on the new directory
#   service   xwall-service start/reload/stop under exactly the
#             CapabilityBoundingSet of packaging/xwall.service.in
#
# Runs in a network namespace of its own with its own bpffs and veth pair.
# Usage: tests/e2e/badinput.sh  (root; XW_BAD_ONLY="SECTION..." runs only
# those sections).  One PASS/FAIL line per check; the
# last line counts them; exit 1 if any failed.  KEEP=1 keeps the work dir.
set -u

. "$(dirname "$0")/lib.sh"
e2e_init badinput
PY=/usr/bin/python3
NS=xwbad-$$
export PY ROOT HERE

if [ "${1:-}" != --inner ]; then
	for t in setpriv flock strace bpftool timeout /usr/bin/time "$PY"; do
		command -v "$t" >/dev/null || { echo "FAIL badinput: $t missing (make deps)"; exit 1; }
	done
	e2e_in_netns "$NS" 900 sh "$0" --inner
fi

# ---- inside the namespace ----
e2e_workdir xwbad
chmod 755 "$W"
e2e_trap '"$XWALL" detach --all >/dev/null 2>&1; e2e_rmwork'
PIN=/sys/fs/bpf/xwall
mount -t bpf bpf /sys/fs/bpf || { echo "FAIL badinput: mount bpffs"; exit 1; }
ip link set lo up
ip link add xwb0 type veth peer name xwb1 || { echo "FAIL badinput: veth"; exit 1; }
ip link set xwb0 up && ip link set xwb1 up

# xw ARGS...: run xwall with stdout/stderr in $W/o and $W/e, status in RC
xw() { RC=0; "$XWALL" "$@" >"$W/o" 2>"$W/e" </dev/null || RC=$?; }
# snapshot of the live state into $1
snap() {
	{ "$XWALL" status --json; echo ---; "$XWALL" rule list; } >"$1" 2>&1
}
gen() { sed '/^---$/,$d' "$W/s.now" | "$PY" -c 'import json,sys; print(json.load(sys.stdin).get("generation"))' 2>/dev/null; }
# unchanged WHAT: the live state equals $W/s.base
unchanged() {
	snap "$W/s.now"
	if cmp -s "$W/s.base" "$W/s.now"; then
		pass "$1; live state unchanged (generation $(gen))"
	else
		fail "$1; live state CHANGED: $(diff "$W/s.base" "$W/s.now" | head -8 | tr '\n' ' ')"
	fi
}
# refused CODE PATTERN WHAT ARGS...: xwall ARGS exits CODE with PATTERN in
# stderr, and the live state is unchanged
refused() {
	code=$1 pat=$2 what=$3
	shift 3
	xw "$@"
	if [ "$RC" = "$code" ] && grep -qE -- "$pat" "$W/e"; then
		unchanged "$what: exit $RC, '$(oneline "$W/e")'"
	else
		fail "$what: exit $RC (wanted $code), stderr '$(oneline "$W/e")' (wanted /$pat/)"
	fi
}

printf 'policy drop\nrule 10 tcp dport 22 pass\nrule 20 udp dport 53 pass\n' >"$W/good.rules"
printf 'policy drop\nrule 10 tcp dport 22 pass\nrule 30 udp dport 123 pass\n' >"$W/good2.rules"
# want SECTION: run it (XW_BAD_ONLY="read lock ..." runs only those)
want() {
	[ -z "${XW_BAD_ONLY:-}" ] && return 0
	case " $XW_BAD_ONLY " in *" $1 "*) return 0 ;; esac
	return 1
}
LABEL=setup
xw attach xwb1 --mode skb
[ "$RC" = 0 ] || { fail "attach xwb1: $(oneline "$W/e")"; exit 1; }
xw apply "$W/good.rules"
[ "$RC" = 0 ] || { fail "apply: $(oneline "$W/e")"; exit 1; }
snap "$W/s.base"

# ---------------------------------------------------------------- read
if want read; then
LABEL=read
mkdir "$W/dir"
refused 1 "^xwall: $W/dir: Is a directory\$" "apply of a directory" apply "$W/dir"
refused 1 "^xwall: /proc/self/mem: Input/output error\$" "apply of /proc/self/mem (read error)" \
	apply /proc/self/mem
refused 1 "No such file or directory" "apply of a missing file" apply "$W/none.rules"
refused 1 "Is a directory" "apply --check of a directory" apply --check "$W/dir"
mkfifo "$W/fifo"
RC=0
timeout 2 "$XWALL" apply "$W/fifo" >"$W/o" 2>"$W/e" || RC=$?
if [ "$RC" = 124 ]; then unchanged "apply of a FIFO with no writer blocks until killed"
else fail "apply of a FIFO with no writer: exit $RC, '$(oneline "$W/e")'"; fi
fi

# ---------------------------------------------------------------- empty
if want empty; then
LABEL=empty
: >"$W/empty.rules"
printf '# only a comment\n\n   \n' >"$W/comment.rules"
nomsg='no rule and no policy line: applying it would pass everything; --allow-empty applies it anyway$'
refused 1 "^$W/empty.rules:1:1: $nomsg" "apply of an empty file" apply "$W/empty.rules"
refused 1 "^$W/comment.rules:1:1: $nomsg" "apply of a comment-only file" apply "$W/comment.rules"
refused 1 "^$W/empty.rules:1:1: $nomsg" "apply --check of an empty file" apply --check "$W/empty.rules"
RC=0
"$XWALL" apply - <"$W/empty.rules" >"$W/o" 2>"$W/e" || RC=$?
if [ "$RC" = 1 ] && grep -qE "^<stdin>:1:1: $nomsg" "$W/e"; then
	unchanged "apply - of empty stdin: exit 1"
else fail "apply - of empty stdin: exit $RC, '$(oneline "$W/e")'"; fi
printf 'policy in pass\n' >"$W/policy-only.rules"
xw apply --check "$W/policy-only.rules"
expect "$RC" "a policy line alone is not empty: apply --check exits 0" "rc=$RC $(oneline "$W/e")"
g0=$(snap "$W/s.now"; gen)
xw apply --allow-empty "$W/comment.rules"
snap "$W/s.now"
g1=$(gen)
r=1
[ "$RC" = 0 ] && [ "$g1" = $((g0 + 1)) ] && [ "$("$XWALL" rule list | tr '\n' ' ')" = "policy in pass policy out pass " ] && r=0
expect $r "apply --allow-empty of a comment-only file applies the empty set (generation $g0 -> $g1)" \
	"rc=$RC $(oneline "$W/e") $(oneline "$W/s.now")"
xw apply "$W/good.rules"
snap "$W/s.base"
fi

# ---------------------------------------------------------------- overflow
if want overflow; then
LABEL=overflow
printf 'policy drop\nrule 5 udp limit over 1/m burst 307445735 drop\n' >"$W/burst.rules"
refused 1 "^$W/burst.rules:2:33: burst 307445735 at 1/m is 1.84e\\+10 s of credit, more than a bucket holds" \
	"limit over 1/m burst 307445735" apply "$W/burst.rules"
refused 1 "^<rule>:1:24: burst 307445735 at 1/m" "rule add with the same limit" \
	rule add 5 limit over 1/m burst 307445735 drop
printf 'rule 5 udp limit over 1/m burst 76861433 drop\n' >"$W/burst-max.rules"
xw apply --check "$W/burst-max.rules"
expect "$RC" "the largest burst at 1/m (76861433) is accepted" "rc=$RC $(oneline "$W/e")"
fi

# ---------------------------------------------------------------- expand
if want expand; then
LABEL=expand
"$PY" - "$W" <<'EOF'
import sys
w = sys.argv[1]
a = ",".join(f"10.{i // 250}.{i % 250}.0/24" for i in range(150))
b = ",".join(f"192.168.{i}.1" for i in range(150))
open(f"{w}/big.rules", "w").write(
    f"policy drop\nrule 10 in tcp src {a} dst {b} sport 1-65534 dport 1-65534 drop\n")
# the largest single rule the bound lets through: 1024 x 1024 = 1048576 records
a = ",".join(f"10.{i // 256}.{i % 256}.0/24" for i in range(1024))
b = ",".join(f"172.{16 + i // 256}.{i % 256}.1" for i in range(1024))
open(f"{w}/max.rules", "w").write(f"rule 10 in tcp src {a} dst {b} drop\n")
EOF
emsg="^$W/big.rules:2:1: rule 10: expands to 20250000 map entries \\(150 src x 150 dst x 30 sport x 30 dport\\), more than the 1048576"
refused 1 "$emsg" "apply of a rule expanding to 20250000 entries" apply "$W/big.rules"
for f in big max; do
	sz=$(wc -c <"$W/$f.rules")
	RC=0
	/usr/bin/time -f '%M' -o "$W/rss" "$XWALL" apply --check "$W/$f.rules" >"$W/o" 2>"$W/e" || RC=$?
	kib=$(tail -n1 "$W/rss")
	r=1
	[ "$sz" -lt 1048576 ] && [ "$kib" -lt 524288 ] && [ "$RC" = 1 ] && r=0
	expect $r "apply --check $f.rules ($sz bytes): exit $RC, peak RSS $kib KiB (< 512 MiB)" \
		"$(oneline "$W/e")"
done
fi

# ---------------------------------------------------------------- pcap
if want pcap; then
LABEL=pcap
"$PY" - "$W/cut.pcap" <<'EOF'
import struct, sys
# classic pcap, snaplen 64: packets 0, 2, 4 were 200 bytes on the wire
eth = bytes.fromhex("02000000000102000000000208004500")
out = [struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 64, 1)]
for i in range(5):
    ip = bytes.fromhex("4500" + ("00ba" if i % 2 == 0 else "0032") + "0000400040110000c0000201c0000202")
    udp = struct.pack(">HHHH", 1000, 53, 8 + 18, 0)
    frame = (eth[:12] + b"\x08\x00" + ip + udp + b"x" * 64)[:64 if i % 2 == 0 else 60]
    wire = 200 if i % 2 == 0 else 60
    out.append(struct.pack("<IIII", 1, i, len(frame), wire) + frame)
open(sys.argv[1], "wb").write(b"".join(out))
EOF
xw test --pcap "$W/cut.pcap"
r=1
[ "$RC" = 0 ] && grep -qx "xwall: warning: $W/cut.pcap: 3 of 5 packets were truncated by the capture (captured fewer bytes than were on the wire, snaplen 64): their verdicts are for the captured bytes only" "$W/e" && r=0
expect $r "test --pcap of a capture with 3 of 5 packets cut: warns with the count" "rc=$RC $(oneline "$W/e")"
xw test --pcap "$W/cut.pcap" --json
n=$(grep -c '"capture_truncated":true' "$W/o")
[ "$RC" = 0 ] && [ "$n" = 3 ] && r=0 || r=1
expect $r "test --json marks the 3 cut packets capture_truncated" "rc=$RC n=$n"
unchanged "after test --pcap"
fi

# ---------------------------------------------------------------- caps
if want caps; then
LABEL=caps
CAPS3=-all,+bpf,+net_admin,+sys_admin
withcaps() { b=$1; shift; setpriv --bounding-set "$b" --inh-caps -all --no-new-privs "$XWALL" "$@"; }
for cmd in "status --json" "rule list"; do
	RC=0
	# shellcheck disable=SC2086
	withcaps $CAPS3 $cmd >"$W/o" 2>"$W/e" || RC=$?
	expect "$RC" "only CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN: $cmd exits 0" "rc=$RC $(oneline "$W/e")"
done
for miss in bpf net_admin sys_admin; do
	b=$(echo "$CAPS3" | sed "s/,+$miss//")
	M=$(echo "CAP_$miss" | tr a-z A-Z)
	for cmd in apply status; do
		RC=0
		if [ $cmd = apply ]; then withcaps "$b" apply "$W/good.rules" >"$W/o" 2>"$W/e" || RC=$?
		else withcaps "$b" status >"$W/o" 2>"$W/e" || RC=$?; fi
		if [ "$RC" = 2 ] && grep -q "permission denied: missing $M (xwall needs CAP_BPF, CAP_NET_ADMIN and CAP_SYS_ADMIN)" "$W/e"; then
			unchanged "without $M: $cmd exits 2 naming it"
		else
			fail "without $M: $cmd exit $RC, '$(oneline "$W/e")'"
		fi
	done
done
RC=0
setpriv --reuid=65534 --regid=65534 --clear-groups "$XWALL" apply "$W/good.rules" >"$W/o" 2>"$W/e" || RC=$?
if [ "$RC" = 2 ] && grep -q "missing CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN" "$W/e"; then
	unchanged "uid 65534 without capabilities: apply exits 2 naming all three"
else fail "uid 65534: apply exit $RC, '$(oneline "$W/e")'"; fi
RC=0
withcaps $CAPS3 apply "$W/good2.rules" >"$W/o" 2>"$W/e" || RC=$?
r=1
[ "$RC" = 0 ] && "$XWALL" rule list | grep -q "^rule 30 " && r=0
expect $r "only the three capabilities: apply exits 0 and the new set is live" "rc=$RC $(oneline "$W/e")"
xw apply "$W/good.rules"
snap "$W/s.base"
fi

# ---------------------------------------------------------------- record
if want record; then
LABEL=record
xw detach xwb1                # the last detach unloads
xw apply "$W/good.rules"      # loaded again, attached nowhere
# fill xw_ifaces (1024 entries) with made-up interfaces
"$PY" - "$PIN/xw_ifaces" add >"$W/fill.batch" <<'EOF'
import sys
for i in range(1024):
    k = (900000 + i).to_bytes(4, "little")
    v = k + bytes([1, 0, 0, 0]) + f"fake{i}".encode().ljust(16, b"\0")
    hx = lambda b: " ".join(f"{x:02x}" for x in b)
    print(f"map update pinned {sys.argv[1]} key hex {hx(k)} value hex {hx(v)}")
EOF
sed 's/ value hex.*//; s/map update/map delete/' "$W/fill.batch" >"$W/unfill.batch"
if ! bpftool batch file "$W/fill.batch" >"$W/o" 2>&1; then
	fail "bpftool could not fill xw_ifaces: $(oneline "$W/o")"
else
	snap "$W/s.base"
	xdp_on() { ip link show dev xwb1 | grep -q 'xdp'; }
	tc_on() { [ -n "$(tc filter show dev xwb1 "$1" 2>/dev/null)" ]; }
	for mode in skb tc; do
		eg=""
		[ $mode = tc ] && eg=--egress
		xw attach xwb1 --mode $mode $eg
		r=1
		[ "$RC" = 2 ] && grep -q "record interface xwb1: " "$W/e" && ! xdp_on && ! tc_on ingress && ! tc_on egress && r=0
		if [ $r = 0 ]; then
			unchanged "attach --mode $mode $eg with xw_ifaces full: exit 2, no program left on xwb1 ('$(oneline "$W/e")')"
		else
			fail "attach --mode $mode $eg: exit $RC, '$(oneline "$W/e")'; xdp $(xdp_on && echo ON || echo off), tc ingress $(tc_on ingress && echo ON || echo off), egress $(tc_on egress && echo ON || echo off)"
		fi
	done
	bpftool batch file "$W/unfill.batch" >/dev/null 2>&1
fi
xw attach xwb1 --mode skb
expect "$RC" "attach works again once xw_ifaces has room" "rc=$RC $(oneline "$W/e")"
snap "$W/s.base"
fi

# ---------------------------------------------------------------- reuse
if want reuse; then
LABEL=reuse
"$PY" - "$W" <<'EOF'
import sys
w = sys.argv[1]
n = 131072                      # XW_MAX_RULES: every counter slot in use
body = "".join(f"rule {i} in udp src 10.{i >> 16}.{(i >> 8) & 255}.{i & 255} dport {i % 60000 + 1} drop\n"
               for i in range(1, n))
# the last rule matches only the test's own datagrams: a catch-all also
# counted a stray frame of the link (IPv6 MLD/RS) now and then
last = "in udp src 192.0.2.1 dport 9 pass"
open(f"{w}/fullA.rules", "w").write("policy pass\n" + body + f"rule {n} {last}\n")
open(f"{w}/fullB.rules", "w").write("policy pass\n" + body + f"rule {n + 1} {last}\n")
EOF
send() {
	"$PY" -c 'import logging; logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import Ether, IP, UDP, sendp
sendp(Ether(dst="02:00:00:00:00:02")/IP(src="192.0.2.1", dst="192.0.2.2")/UDP(sport=1000, dport=9),
      iface="xwb0", count='"$1"', verbose=0)'
}
# stats_of PRIO: packets counted by that rule
stats_of() {
	"$XWALL" stats --json | "$PY" -c 'import json,sys
p=int(sys.argv[1]); print(sum(r["packets"] for r in json.load(sys.stdin)["rules"] if r["prio"]==p))' "$1"
}
xw apply "$W/fullA.rules"
if [ "$RC" != 0 ]; then
	fail "apply of 131072 rules: exit $RC, $(oneline "$W/e")"
else
	send 7
	a=$(stats_of 131072)
	RC=0
	strace -f -e trace=bpf -o "$W/trace" "$XWALL" apply "$W/fullB.rules" >"$W/o" 2>"$W/e" || RC=$?
	b=$(stats_of 131073)
	r=1
	[ "$RC" = 0 ] && [ "$a" -ge 7 ] && [ "$b" = 0 ] && r=0
	expect $r "a new rule in a deleted rule's slot starts at 0 packets (the deleted one had $a)" \
		"rc=$RC new rule: $b $(oneline "$W/e")"
	# order of map updates after the switch (the last xw_cfg update)
	order=$("$PY" - "$W/trace" <<'EOF'
import re, sys
fds, ev = {}, []
for line in open(sys.argv[1]):
    m = re.search(r'BPF_OBJ_GET, \{pathname="[^"]*/(xw_\w+)".*= (\d+)$', line.strip())
    if m:
        fds[int(m.group(2))] = m.group(1)
        continue
    # slots are zeroed in batches (BPF_MAP_UPDATE_BATCH, map_fd inside)
    m = re.search(r'BPF_MAP_UPDATE_(?:ELEM|BATCH), \{.*?map_fd=(\d+),', line)
    if m:
        ev.append(fds.get(int(m.group(1)), "?"))
last = max((i for i, e in enumerate(ev) if e == "xw_cfg"), default=-1)
after = [e for e in ev[last + 1:] if e in ("xw_text", "xw_rule_stats")]
# collapse runs
out = []
for e in after:
    if not out or out[-1] != e:
        out.append(e)
print(" ".join(out) if last >= 0 else "no-switch")
EOF
)
	[ "$order" = "xw_text xw_rule_stats" ] && r=0 || r=1
	expect $r "after the switch: grace period (xw_text update), then the reused slot zeroed ('$order')"
	send 5
	b=$(stats_of 131073)
	[ "$b" = 5 ] && r=0 || r=1
	expect $r "the new rule counts its own packets from there (5)" "got $b"
fi
xw apply "$W/good.rules"
snap "$W/s.base"
fi

# ---------------------------------------------------------------- lock
if want lock; then
LABEL=lock
xw detach --all
printf 'rule 1 tcp dport 1 drop\n' >"$W/A.rules"
printf 'rule 2 tcp dport 2 drop\n' >"$W/B.rules"
printf 'rule 3 tcp dport 3 drop\n' >"$W/C.rules"
xw apply "$W/A.rules"
# the holder does what the last detach does while holding the lock: it
# removes every pin and the directory
rm -f "$W/held"
flock "$PIN" sh -c "touch '$W/held'; sleep 2; rm -rf '$PIN'" &
HOLD=$!
i=0
while [ ! -e "$W/held" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
RB=0 RCC=0
"$XWALL" apply "$W/B.rules" >"$W/oB" 2>"$W/eB" &
PB=$!
"$XWALL" apply "$W/C.rules" >"$W/oC" 2>"$W/eC" &
PC=$!
wait $HOLD
wait $PB || RB=$?
wait $PC || RCC=$?
list=$("$XWALL" rule list 2>&1 | grep '^rule' | tr '\n' ' ')
r=1
[ "$RB" = 0 ] && [ "$RCC" = 0 ] && [ -d "$PIN" ] && { [ "$list" = "rule 2 in proto tcp dport 2 drop " ] || [ "$list" = "rule 3 in proto tcp dport 3 drop " ]; } && r=0
expect $r "two applies waiting while the holder removed $PIN: both exit 0, the live set is one of them ($list)" \
	"B rc=$RB '$(oneline "$W/eB")' C rc=$RCC '$(oneline "$W/eC")'"
"$XWALL" status --json >"$W/st" 2>&1
g=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["generation"])' "$W/st" 2>/dev/null)
# a fresh load applies the empty set (1), then B and C one after the other
[ "$g" = 3 ] && r=0 || r=1
expect $r "the new datapath saw both applies, serialised (generation $g, wanted 3)" "$(oneline "$W/st")"
fi

# ---------------------------------------------------------------- service
if want service; then
LABEL=service
xw detach --all
bset=$(sed -n 's/^CapabilityBoundingSet=//p' "$ROOT/packaging/xwall.service.in" |
	tr ' ' '\n' | sed -n 's/^CAP_\(.*\)/+\1/p' | tr A-Z a-z | tr '\n' ',' | sed 's/,$//')
printf 'INTERFACES="xwb1"\nMODE=skb\nRULES=%s\n' "$W/good.rules" >"$W/xwall.conf"
svc() {
	RC=0
	setpriv --bounding-set "-all,$bset" --inh-caps -all --no-new-privs \
		env XWALL="$XWALL" XWALL_CONF="$W/xwall.conf" sh "$ROOT/packaging/xwall-service" "$1" \
		>"$W/o" 2>"$W/e" || RC=$?
}
svc start
r=1
[ "$RC" = 0 ] && "$XWALL" status | grep -q '^xwb1 ' && "$XWALL" rule list | grep -q '^rule 20 ' && r=0
expect $r "xwall-service start with only the unit's capabilities ($bset): applied and attached" \
	"rc=$RC $(oneline "$W/e")"
cp "$W/good2.rules" "$W/good.rules"
svc reload
r=1
[ "$RC" = 0 ] && "$XWALL" rule list | grep -q '^rule 30 ' && r=0
expect $r "xwall-service reload with the unit's capabilities" "rc=$RC $(oneline "$W/e")"
svc stop
r=1
[ "$RC" = 0 ] && "$XWALL" status | grep -q 'not loaded' && r=0
expect $r "xwall-service stop with the unit's capabilities: unloaded" "rc=$RC $(oneline "$W/e")"
fi

e2e_done
