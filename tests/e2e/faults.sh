#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Fault injection end-to-end tests of xwall (issue item 4).
#
#   a  kill: TRIALS (100) times `xwall apply B` (20,000 rules) over a live
#      A (3 rules) is SIGKILLed after a random 0..1.1 x its measured duration;
#      afterwards `xwall test --pcap` (BPF_PROG_TEST_RUN on the live datapath)
#      gives exactly A's or exactly B's answers for all six probe frames (the
#      two sets answer every probe differently: verdict, rule, reason),
#      `rule list` prints that same set, `status` agrees, and the next apply
#      works.  Then strace kills apply (B with 200 bulk rules) at chosen
#      bpf() calls, i.e. at deterministic phases: over a live A (each phase
#      up to and after the switch), and on an empty bpffs, where apply loads
#      and pins the datapath (there the next `status` and `apply` must work).
#   b  concurrent: four processes run 50 `xwall rule add` each at once (the
#      first ones race to load the datapath): every add exits 0, `rule list`
#      holds exactly the 200 rules once each, and the datapath decides 200
#      probe frames each by its own rule.
#   c  mutate: MUTANTS (1,000) random mutations of a valid rule file (byte
#      flips, insertions, deletions, duplicated / deleted / swapped lines and
#      tokens, hostile tokens): exit 0 (valid; the original is re-applied) or
#      exit 1 with `FILE:LINE:COL: message` pointing into the file and the
#      live generation and `rule list` unchanged; no other exit, no signal.
#   d  traffic: xwall on a veth pair, a marker UDP flow at PPS (3,000)
#      from the other namespace while APPLIES (1,000) applies alternate A
#      (rule 10 passes the flow) and B (rule 10 changed, rule 20 drops it;
#      rule 20 and the other rules are the same text in both, so rule 20 keeps
#      one counter throughout): reason counters show every frame decided by a
#      rule (none by the policy: a mixed or half-switched set would fall
#      through), sent == rule 20 + passes, drops == rule 20, and the receiver
#      got exactly the passed frames.  A rule 10 counter cannot be summed over
#      the A periods: any two sets that decide one flow differently must
#      differ in a rule that decides it, and a removed rule's counter is
#      gone; so A's side is counted by the pass verdict and the receiver.
#
# Usage: tests/e2e/faults.sh [a b c d ...]   (root; default all)
# Environment: XWALL, KEEP=1 (keep the work directory), XW_FT_SEED (random
# seed, printed), XW_FT_TRIALS, XW_FT_MUTANTS, XW_FT_APPLIES, XW_FT_PPS.
# Each check prints a PASS or FAIL line with its counts; the last line is
# the summary (tests/e2e/lib.sh); exit 1 if any check failed.
#
# Isolation: a, b and c each run in a private mount namespace with its own
# bpffs (`unshare -m`), d in its own network namespaces xwft-a / xwft-b
# (veth xwft0 / xwft1), all of whose xwall commands run in ONE shell, since
# `ip netns exec` gives each command its own /sys and bpffs instance.
set -eu

. "$(dirname "$0")/lib.sh"
e2e_init faults
PY=/usr/bin/python3            # the python3 that has scapy
FP="$HERE/faults.py"
NS_A=xwft-a
NS_B=xwft-b
IF_A=xwft0
IF_B=xwft1
E2E_NO_IPV6=1
A4=10.207.0.1
B4=10.207.0.2
DST4=10.207.0.9                # the marker flow's destination: not B's address,
                               # so B's kernel never answers (ICMP, ARP)
SEED=${XW_FT_SEED:-$(date +%s)}
TRIALS=${XW_FT_TRIALS:-100}
MUTANTS=${XW_FT_MUTANTS:-1000}
APPLIES=${XW_FT_APPLIES:-1000}
PPS=${XW_FT_PPS:-3000}
BULK=20000                     # rules of set B in (a)
export PY FP HERE NS_A NS_B IF_A IF_B A4 B4 DST4 SEED APPLIES PPS

# ------------------------------------------------------------ inner: (b), (d)
if [ "${1:-}" = --inner-b ]; then
	mount -t bpf bpf /sys/fs/bpf
	"$PY" "$FP" concpcap "$W/b.pcap"
	rm -f "$W/b.fail"
	t0=$(date +%s%N)
	pids=""
	for k in 1 2 3 4; do
		(
			for i in $(seq 50); do
				p=$((k * 100 + i))
				v=pass
				[ $((i % 2)) = 0 ] && v=drop
				rc=0
				timeout 30 "$XWALL" rule add $p in udp dport $((10000 + p)) $v \
					>/dev/null 2>"$W/b.err.$p" || rc=$?
				[ $rc = 0 ] || echo "rule add $p: exit $rc $(head -c 200 "$W/b.err.$p")" >>"$W/b.fail"
			done
		) &
		pids="$pids $!"
	done
	for p in $pids; do wait "$p"; done
	secs=$(( ($(date +%s%N) - t0) / 1000000 ))e-3
	timeout 30 "$XWALL" rule list >"$W/b.list" 2>&1 || true
	timeout 30 "$XWALL" status --json >"$W/b.status" 2>&1 || true
	timeout 30 "$XWALL" test --pcap "$W/b.pcap" --json >"$W/b.test" 2>&1 || true
	exec "$PY" "$FP" conccheck "$W/b.list" "$W/b.status" "$W/b.test" "$W/b.fail" "$secs"
fi

if [ "${1:-}" = --inner-d ]; then
	LABEL=d/traffic
	e2e_inner 'touch "$W/d.stop"'
	xw() { timeout 20 "$XWALL" "$@"; }
	common="policy out pass
rule 20 in udp dport 7000 drop
rule 30 in tcp dport 22 pass
rule 40 in udp dport 53 src 10.0.0.0/8 drop
rule 50 in icmp type echo-request drop"
	printf 'policy in pass\nrule 10 in udp src %s dport 7000 pass\n%s\n' "$A4" "$common" >"$W/d_a.rules"
	printf 'policy in drop\nrule 10 in udp src %s dport 7001 pass\n%s\n' "$A4" "$common" >"$W/d_b.rules"
	xw attach "$IF_B" >"$W/d.attach" 2>&1 || { cat "$W/d.attach"; exit 1; }
	xw apply "$W/d_a.rules" >/dev/null
	mode=$(xw status | grep -m1 "$IF_B" || true)
	echo "d/traffic: xwall attached: $mode"
	xw stats --json >"$W/d.s0"
	rm -f "$W/rx.ready" "$W/d.stop"
	timeout 600 "$PY" "$HERE/pkt.py" rx "$IF_B" "$W/d.rx" --ready "$W/rx.ready" &
	RX=$!
	BG="$BG $RX"
	for _i in $(seq 100); do [ -e "$W/rx.ready" ] && break; sleep 0.05; done
	[ -e "$W/rx.ready" ] || { echo "receiver did not start"; exit 1; }
	timeout 600 ip netns exec "$NS_A" "$PY" "$FP" send "$IF_A" "$MAC_A" "$MAC_B" "$A4" "$DST4" \
		5000 7000 "$PPS" "$W/d.stop" >"$W/d.send" &
	TX=$!
	BG="$BG $TX"
	sleep 0.5
	failed=0
	t0=$(date +%s%N)
	for i in $(seq "$APPLIES"); do
		if [ $((i % 2)) = 1 ]; then f="$W/d_b.rules"; else f="$W/d_a.rules"; fi
		if ! xw apply "$f" >/dev/null 2>"$W/d.apply.err"; then
			failed=$((failed + 1))
			[ $failed -gt 3 ] || echo "d/traffic: apply $i ($f) failed: $(head -c 300 "$W/d.apply.err")"
		fi
	done
	secs=$(( ($(date +%s%N) - t0) / 1000000 ))e-3
	sleep 0.3
	touch "$W/d.stop"
	wait "$TX"
	sleep 0.5
	kill -TERM "$RX"
	wait "$RX"
	xw stats --json >"$W/d.s1"
	xw detach --all >/dev/null
	e2e_part_end "$PY" "$FP" dcheck "$W/d.s0" "$W/d.s1" "$W/d.rx" "$W/d.send" "$APPLIES" "$failed" "$secs"
fi

# ------------------------------------------------------------------ outer side
SCEN=${*:-a b c d}
e2e_workdir xwft
chmod 755 "$W"
# the test bed of (d): e2e_veth, IPv6 disabled (no MLD, RS chatter on the
# link: every frame is ours)
e2e_trap 'e2e_veth down || true; e2e_rmwork'

# private LIMIT CMD...: run CMD in a private mount namespace with a fresh bpffs
private() {
	_t=$1
	shift
	timeout -k 5 "$_t" unshare -m --propagation private \
		sh -c 'mount -t bpf bpf /sys/fs/bpf && exec "$@"' private "$@"
}
# section NAME CMD...: run, show and keep the output in $W/NAME.log
section() { _n=$1; shift; e2e_part "$W/$_n.log" "$_n" "$@"; }

echo "faults: seed $SEED (XW_FT_SEED=$SEED reproduces), $(nproc) CPUs"
for s in $SCEN; do
	case $s in
	a)
		"$PY" "$FP" rulesets "$W" "$BULK"
		mkdir "$W/small"                       # the same sets with 200 bulk rules,
		"$PY" "$FP" rulesets "$W/small" 200    # quick to trace with strace
		section a-kill private 150 "$PY" "$FP" kill "$XWALL" "$W" "$TRIALS" "$SEED"
		if command -v strace >/dev/null 2>&1; then
			section a-sweep-apply private 90 "$PY" "$FP" sweep "$XWALL" "$W/small" apply
			section a-sweep-load private 90 "$PY" "$FP" sweep "$XWALL" "$W/small" load
		else
			echo "FAIL a/sweep: strace is not installed (add it to scripts/deps.sh)" | tee "$W/a-sweep.log"
		fi
		;;
	b)
		section b-concurrent private 120 bash "$0" --inner-b
		;;
	c)
		section c-mutate private 150 "$PY" "$FP" mutate "$XWALL" "$W" "$MUTANTS" "$SEED"
		;;
	d)
		e2e_veth fresh                        # also removes a killed run's leftovers
		ip -n "$NS_A" link set "$IF_A" arp off     # A's kernel sends nothing to B
		e2e_macs
		section d-traffic timeout -k 5 600 ip netns exec "$NS_B" bash "$0" --inner-d
		e2e_veth down || true
		;;
	*)
		echo "faults: unknown scenario $s (a b c d)" >&2
		exit 1
		;;
	esac
done
e2e_count "$W"/*.log
e2e_done
