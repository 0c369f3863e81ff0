#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# End-to-end tests of xwall on a veth pair between two network namespaces
# (scripts/netns.sh): namespace A sends, xwall runs on the veth end in B, and a
# packet socket in B records which frames got through (XDP runs before the
# packet taps, so a dropped frame is never seen there).
#
#   a  traffic through two rule sets (allow-list / policy drop in native mode,
#      deny-list / policy pass in skb mode): arrivals, `xwall test --pcap` and
#      per-rule / per-reason / per-verdict counters against a model
#   b  rule set switches (apply, rule add/del) while two flows run
#   c  attach/detach/status life cycle, errors, unprivileged use
#   d  `rule list` | `apply -` round trip with every match kind
#   e  bad rule input: FILE:LINE:COL, exit 1, live rule set unchanged
#
# Usage: tests/e2e/run.sh [SCENARIO...]   (default: all; needs root)
# Each check prints one PASS or FAIL line; the exit status is 1 if any failed.
# Environment: XWALL (binary), KEEP=1 (keep the work directory in /tmp),
# XW_E2E_NS_A / XW_E2E_NS_B (namespace names, default xwe2e-a / xwe2e-b).
#
# bpffs: `ip netns exec` gives its command a private /sys, and each bpffs
# mount is a separate instance, so every scenario runs as ONE shell inside B
# (this script again, with --inner) that mounts bpffs first and runs all its
# xwall commands; the sender runs in A through its own `ip netns exec`.
set -eu

. "$(dirname "$0")/lib.sh"
e2e_init run
PY=/usr/bin/python3            # the python3 that has scapy
NS_A=${XW_E2E_NS_A:-xwe2e-a}
NS_B=${XW_E2E_NS_B:-xwe2e-b}
SRC_MAC=02:e2:e0:00:00:0a       # source MAC of the replayed frames
export PY NS_A NS_B SRC_MAC HERE

# xw OUTFILE ERRFILE ARGS...: run xwall, keep stdout/stderr, set RC
xw() {
	_o=$1 _e=$2
	shift 2
	RC=0
	"$XWALL" "$@" >"$_o" 2>"$_e" || RC=$?
}

# ---------------------------------------------------------------- inner side
# Runs inside namespace B: $IF_A/$IF_B/$MAC_A/$MAC_B/$W come from the outer side.

# start the receiver in B and wait until its socket is bound
rx_start() {
	rm -f "$W/rx.ready" "$1"
	"$PY" "$HERE/pkt.py" rx "$IF_B" "$1" --ready "$W/rx.ready" &
	RX_PID=$!
	i=0
	while [ ! -e "$W/rx.ready" ]; do
		i=$((i + 1))
		[ $i -lt 100 ] || { echo "receiver did not start" >&2; exit 1; }
		sleep 0.05
	done
}
rx_stop() {
	sleep 0.3                     # let the last frames drain
	kill -TERM "$RX_PID"
	wait "$RX_PID"
}

# (a) replay the test pcap through rule set $1 in XDP mode $2
scen_a() {
	set_name=$1 mode=$2
	LABEL="a/$set_name/$mode"
	d="$W/a-$set_name"
	mkdir -p "$d"
	"$PY" "$HERE/check.py" rules "$set_name" --host-mac "$MAC_A" >"$d/rules"
	"$XWALL" attach "$IF_B" --mode "$mode" >/dev/null
	"$XWALL" apply "$d/rules" >/dev/null
	xw "$d/status.json" "$d/err" status --json
	"$PY" - "$d/status.json" "$IF_B" "$mode" <<-'EOF' && r=0 || r=1
		import json, sys
		s = json.load(open(sys.argv[1]))
		i = [x for x in s["interfaces"] if x["name"] == sys.argv[2]]
		sys.exit(0 if i and i[0]["xdp_mode"] == sys.argv[3] else 1)
	EOF
	expect $r "status --json reports $IF_B in $mode mode"

	"$XWALL" stats --json >"$d/stats0.json"
	rx_start "$d/rx.json"
	ip netns exec "$NS_A" tcpreplay -i "$IF_A" --pps 1000 "$W/mix.pcap" >"$d/replay" 2>&1
	rx_stop
	n=$(grep -c '"index"' "$W/mix.json")
	grep -q "Successful packets: *$n\$" "$d/replay" && r=0 || r=1
	expect $r "tcpreplay sent all $n frames from $NS_A" "$(oneline "$d/replay")"

	# counters first: `xwall test` on the live datapath counts too
	"$XWALL" stats --json >"$d/stats.json"
	"$XWALL" test --pcap "$W/mix.pcap" --json >"$d/test.jsonl"
	"$XWALL" test --pcap "$W/mix.pcap" --rules "$d/rules" --json >"$d/test2.jsonl"
	"$PY" "$HERE/check.py" verify "$set_name" --label "$LABEL" --host-mac "$MAC_A" \
		--manifest "$W/mix.json" --test "$d/test.jsonl" --test-private "$d/test2.jsonl" \
		--rx "$d/rx.json" --stats "$d/stats.json" --stats-before "$d/stats0.json" || true
	"$XWALL" detach "$IF_B" >/dev/null
}

# (b) switch rule sets while two flows run
scen_b() {
	LABEL="b/switch"
	d="$W/b"
	mkdir -p "$d"
	# X = udp dport 7001: passed by rule 10 in set P, dropped by rule 5 in set D.
	# Y = udp dport 7002: passed by rule 30 in both.  Policy drop, so a packet
	# that met no rule (a torn rule set) would show under reason "policy".
	cat >"$d/P.rules" <<-EOF
		policy drop
		rule 1 ether src $MAC_A pass
		rule 10 udp dport 7001 pass
		rule 30 udp dport 7002 pass
	EOF
	{ cat "$d/P.rules"; echo "rule 5 udp dport 7001 drop"; } >"$d/D.rules"
	"$XWALL" attach "$IF_B" --mode native >/dev/null
	"$XWALL" apply "$d/P.rules" >/dev/null
	"$XWALL" stats --json >"$d/before.json"

	rx_start "$d/rx.json"
	count=12000 rate=3000       # 4 s of traffic
	ip netns exec "$NS_A" taskset -c 0 "$PY" "$HERE/pkt.py" send "$IF_A" \
		--dst-mac "$MAC_B" --src-mac "$SRC_MAC" --count $count --rate $rate \
		>"$d/sent.json" &
	tx=$!
	# Alternate P -> D -> P ... until the sender is done: odd rounds with
	# `apply FILE`, even rounds with `rule add` / `rule del`.
	switches=0 round=0
	sleep 0.1
	while kill -0 $tx 2>/dev/null; do
		round=$((round + 1))
		if [ $((round % 2)) -eq 1 ]; then
			"$XWALL" apply "$d/D.rules" >/dev/null
			sleep 0.03
			"$XWALL" apply "$d/P.rules" >/dev/null
		else
			"$XWALL" rule add 5 udp dport 7001 drop >/dev/null
			sleep 0.03
			"$XWALL" rule del 5 >/dev/null
		fi
		switches=$((switches + 2))
		sleep 0.03
	done
	wait $tx
	rx_stop
	"$XWALL" stats --json >"$d/after.json"
	"$PY" "$HERE/check.py" flows --label "$LABEL" --sent "$d/sent.json" --rx "$d/rx.json" \
		--before "$d/before.json" --after "$d/after.json" --switches $switches || true
	"$XWALL" detach "$IF_B" >/dev/null
}

# (c) attach / detach / status life cycle
scen_c() {
	LABEL="c/lifecycle"
	d="$W/c"
	mkdir -p "$d"
	pins=/sys/fs/bpf/xwall
	# a second interface, without driver XDP: ifb (dummy is not built here)
	DUMMY=xw-e2e-d0
	ip link add "$DUMMY" type ifb 2>/dev/null || ip link add "$DUMMY" type dummy
	ip link set "$DUMMY" up

	nobody="setpriv --reuid=65534 --regid=65534 --clear-groups"
	rc=0
	$nobody "$XWALL" status >"$d/np.out" 2>"$d/np.err" || rc=$?
	[ $rc -eq 2 ] && grep -Eqi 'root|permission|privilege|CAP_' "$d/np.err" && r=0 || r=1
	expect $r "unprivileged status before anything is loaded exits 2 with a message" "rc=$rc $(oneline "$d/np.err")"

	xw "$d/o1" "$d/e1" attach "$IF_B" --mode native
	expect $RC "first attach $IF_B --mode native exits 0" "rc=$RC $(oneline "$d/e1")"
	xw "$d/o2" "$d/e2" attach "$IF_B" --mode native
	cat "$d/o2" "$d/e2" >"$d/oe2"
	[ $RC -eq 0 ] && grep -qi "already attached" "$d/oe2" && r=0 || r=1
	expect $r "second attach exits 0 and says 'already attached'" "rc=$RC $(oneline "$d/oe2")"

	# the kernel agrees: the program on the device is the one status reports
	xw "$d/st.json" "$d/e" status --json
	id=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["xdp_prog_id"])' "$d/st.json")
	ip -d link show dev "$IF_B" | grep -q "prog/xdp id $id " && r=0 || r=1
	expect $r "ip link shows XDP program id $id (from status --json) on $IF_B"

	xw "$d/o3" "$d/e3" attach xw-e2e-nodev
	[ $RC -eq 2 ] && grep -q "xw-e2e-nodev" "$d/e3" && grep -qi "no such device" "$d/e3" &&
		[ ! -s "$d/o3" ] && r=0 || r=1
	expect $r "attach to a missing device exits 2 naming it and the errno text on stderr" "rc=$RC $(oneline "$d/e3")"

	xw "$d/o4" "$d/e4" attach "$DUMMY" --mode native
	[ $RC -eq 2 ] && [ -s "$d/e4" ] && r=0 || r=1
	expect $r "native attach to $DUMMY (no driver XDP) exits 2" "rc=$RC $(oneline "$d/e4")"

	xw "$d/o5" "$d/e5" attach "$DUMMY" --mode skb
	expect $RC "attach $DUMMY --mode skb exits 0" "rc=$RC $(oneline "$d/e5")"
	xw "$d/st2.json" "$d/e" status --json
	"$PY" - "$d/st2.json" "$IF_B" "$DUMMY" <<-'EOF' && r=0 || r=1
		import json, sys
		s = json.load(open(sys.argv[1]))
		m = {i["name"]: i["xdp_mode"] for i in s["interfaces"]}
		sys.exit(0 if s["loaded"] and m == {sys.argv[2]: "native", sys.argv[3]: "skb"} else 1)
	EOF
	expect $r "status --json lists $IF_B native and $DUMMY skb" "$(oneline "$d/st2.json")"
	xw "$d/st.txt" "$d/e" status
	grep -q "$IF_B" "$d/st.txt" && grep -q "$DUMMY" "$d/st.txt" && r=0 || r=1
	expect $r "status (text) names both interfaces"

	# unprivileged: commands that read or change kernel state exit 2
	echo "rule 10 tcp dport 22 pass" >"$d/ok.rules"
	chmod 0644 "$d/ok.rules"
	chmod 0755 "$W" "$d"
	bad=""
	for c in "status" "rule list" "stats" "apply $d/ok.rules" "policy drop" "detach --all"; do
		rc=0
		# shellcheck disable=SC2086
		$nobody "$XWALL" $c >"$d/np.out" 2>"$d/np.err" || rc=$?
		[ $rc -eq 2 ] && grep -Eqi 'root|permission|privilege|CAP_' "$d/np.err" ||
			bad="$bad [$c: rc=$rc $(oneline "$d/np.err")]"
	done
	[ -z "$bad" ] && r=0 || r=1
	expect $r "unprivileged status, rule list, stats, apply, policy, detach exit 2 with a message" "$bad"
	rc=0
	$nobody "$XWALL" apply --check "$d/ok.rules" >"$d/np.out" 2>"$d/np.err" || rc=$?
	expect $rc "unprivileged apply --check exits 0 (no root needed)" "rc=$rc $(oneline "$d/np.err")"
	[ -d $pins ] && [ "$(stat -c %a $pins)" = 700 ] && r=0 || r=1
	expect $r "pin directory $pins exists with mode 0700" "$(ls -ld $pins 2>&1)"

	xw "$d/o6" "$d/e6" detach "$IF_B"
	[ $RC -eq 0 ] && [ -d $pins ] && ! ip -d link show dev "$IF_B" | grep -q "prog/xdp" && r=0 || r=1
	expect $r "detach $IF_B (not the last): exit 0, XDP gone from $IF_B, pins stay" "rc=$RC $(oneline "$d/e6")"
	xw "$d/st3.json" "$d/e" status --json
	"$PY" -c 'import json,sys; s=json.load(open(sys.argv[1])); sys.exit(0 if [i["name"] for i in s["interfaces"]]==[sys.argv[2]] else 1)' "$d/st3.json" "$DUMMY" && r=0 || r=1
	expect $r "status --json then lists only $DUMMY" "$(oneline "$d/st3.json")"

	xw "$d/o7" "$d/e7" detach "$DUMMY"
	[ $RC -eq 0 ] && [ ! -e $pins ] && ! ip -d link show dev "$DUMMY" | grep -q "prog/xdp" && r=0 || r=1
	expect $r "detach of the last interface: exit 0, $pins removed, no XDP left" "rc=$RC $(oneline "$d/e7") $(ls $pins 2>&1 | head -3)"
	xw "$d/st4.json" "$d/e" status --json
	"$PY" -c 'import json,sys; s=json.load(open(sys.argv[1])); sys.exit(0 if not s["loaded"] and not s.get("interfaces") else 1)' "$d/st4.json" && r=0 || r=1
	expect $r "status --json then says not loaded" "rc=$RC $(oneline "$d/st4.json")"
	ip link del "$DUMMY"
}

# (d) rule list -> apply - -> rule list, with every match kind
scen_d() {
	LABEL="d/roundtrip"
	d="$W/d"
	mkdir -p "$d"
	cat >"$d/all.rules" <<-'EOF'
		# every match kind of docs/rules.md (ct and limit rules are added below
		# when this xwall accepts them)
		policy drop
		policy out pass
		rule 1 ether src 02:00:00:00:00:01 drop
		rule 2 ether dst 02:00:00:00:00:02 pass
		rule 3 ether type arp pass
		rule 4 ether type 0x88cc drop
		rule 5 ether type ip6 vlan 4095 drop
		rule 6 vlan 100 drop
		rule 7 ip src 10.0.0.0/8,192.168.1.1 dst 10.1.0.0/16 pass
		rule 8 ip6 src 2001:db8::/32,fd00::1 dst fd00::/8 drop
		rule 9 proto gre pass
		rule 10 proto 50 drop
		rule 11 tcp sport 1024-65535 dport 22,80,443,8000-8080 pass
		rule 12 udp dport 53,5353 pass
		rule 13 sctp dport 9 drop
		rule 14 tcp flags syn / syn,ack drop
		rule 15 tcp flags syn/syn,ack,rst,fin dport 25 drop
		rule 16 tcp flags fin,rst pass
		rule 17 icmp type echo-request code 0 pass
		rule 18 icmp type 3 code 4 drop
		rule 19 icmpv6 type 128-136 pass
		rule 20 icmpv6 type echo-reply pass
		rule 21 frag drop
		rule 22 frag first pass
		rule 23 frag later drop
		rule 24 out tcp dport 25 log drop
		rule 25 in iif lo log pass
		rule 26 dport 7 sport 7 drop
		rule 27 ip6 src ::/0 dport 0-65535 proto udp pass
		rule 1000000 log pass
	EOF
	# matches that a version may not have yet: use them when `apply --check`
	# takes them, and say so when not
	p=100
	for m in "ct established,related pass" "ct new,invalid drop" "tcp ct new dport 22 pass" \
		"udp dport 53 limit over 1000/s per src drop" "limit over 10/m burst 20 drop" \
		"icmp limit over 5/s burst 10 per src log drop"; do
		p=$((p + 1))
		echo "rule $p $m" >"$d/one.rules"
		if "$XWALL" apply --check "$d/one.rules" >/dev/null 2>"$d/e"; then
			echo "rule $p $m" >>"$d/all.rules"
		else
			echo "NOTE $LABEL: '$m' not accepted by this xwall, left out: $(oneline "$d/e")"
		fi
	done
	"$XWALL" attach "$IF_B" --mode native >/dev/null
	xw "$d/o" "$d/e" apply "$d/all.rules"
	expect $RC "apply of a rule file with every match kind exits 0" "rc=$RC $(oneline "$d/e")"
	"$XWALL" rule list >"$d/l1"
	"$XWALL" rule list --json >"$d/j1"
	n=$(grep -c '^rule ' "$d/l1" || true)
	[ "$n" -eq "$(grep -c '^[[:space:]]*rule ' "$d/all.rules")" ] && r=0 || r=1
	expect $r "rule list shows all $n rules"

	xw "$d/o" "$d/e" apply - <"$d/l1"
	expect $RC "apply - of the rule list output exits 0" "rc=$RC $(oneline "$d/e")"
	"$XWALL" rule list >"$d/l2"
	"$XWALL" rule list --json >"$d/j2"
	cmp -s "$d/l1" "$d/l2" && cmp -s "$d/j1" "$d/j2" && r=0 || r=1
	expect $r "rule list (text and --json) identical after the round trip" "$(diff "$d/l1" "$d/l2" | head -5 | tr '\n' ' ')"

	# the canonical text means what the input meant: same verdicts on traffic
	grep -v '^rule .* out ' "$d/all.rules" >"$d/in.rules"
	grep -v '^rule .* out ' "$d/l1" >"$d/in1.rules"
	"$XWALL" test --pcap "$W/mix.pcap" --rules "$d/in.rules" --json >"$d/t0"
	"$XWALL" test --pcap "$W/mix.pcap" --rules "$d/in1.rules" --json >"$d/t1"
	cmp -s "$d/t0" "$d/t1" && r=0 || r=1
	expect $r "the listed rules give the same verdicts as the input on the $(wc -l <"$d/t0") test frames"

	# the same through rule del / rule add, one rule at a time
	for p in $(awk '/^rule /{print $2}' "$d/l1"); do "$XWALL" rule del "$p" >/dev/null; done
	"$XWALL" rule list >"$d/l3"
	grep '^rule ' "$d/l3" >/dev/null && rc=1 || rc=0
	expect $rc "rule del of every rule leaves no rule"
	bad=""
	while read -r kw rest; do
		[ "$kw" = rule ] || continue
		# shellcheck disable=SC2086
		"$XWALL" rule add $rest </dev/null >/dev/null 2>"$d/e" || bad="$bad [$rest: $(oneline "$d/e")]"
	done <"$d/l1"
	"$XWALL" rule list >"$d/l4"
	[ -z "$bad" ] && cmp -s "$d/l1" "$d/l4" && r=0 || r=1
	expect $r "rule add of each listed rule (as separate words) rebuilds the same list" "$bad $(diff "$d/l1" "$d/l4" | head -5 | tr '\n' ' ')"
	rc=0
	"$XWALL" rule add "10 proto 50 drop" >/dev/null 2>"$d/e" && rc=1
	expect $rc "rule add of a duplicate priority (one quoted argument) is refused" "$(oneline "$d/e")"
	"$XWALL" detach "$IF_B" >/dev/null
}

# (e) bad input: FILE:LINE:COL, exit 1, nothing changes
scen_e() {
	LABEL="e/badinput"
	d="$W/e"
	mkdir -p "$d"
	"$XWALL" attach "$IF_B" --mode native >/dev/null
	printf 'policy drop\nrule 10 tcp dport 22 pass\nrule 20 udp dport 53 pass\n' >"$d/good.rules"
	"$XWALL" apply "$d/good.rules" >/dev/null
	"$XWALL" rule list >"$d/before"
	gen0=$("$XWALL" status --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["generation"])')
	# a long file whose last line (40) is the bad one
	i=1
	while [ $i -lt 40 ]; do echo "rule $i pass"; i=$((i + 1)); done >"$d/long.rules"
	echo "rule 40 icmp type nonsense drop" >>"$d/long.rules"
	# NAME|LINE|COL|text (COL "-" = any column); the bad line is at LINE
	while IFS='|' read -r name line col text; do
		f="$d/$name.rules"
		[ "$name" = long ] || printf '%b\n' "$text" >"$f"
		xw "$d/o" "$d/err" apply "$f" </dev/null
		"$XWALL" rule list >"$d/after" </dev/null
		got=$(head -n1 "$d/err")
		pat="^$f:$line:[0-9][0-9]*: ."
		[ "$col" = - ] || pat="^$f:$line:$col: ."
		ok=1
		[ $RC -eq 1 ] && printf '%s\n' "$got" | grep -q "$pat" && cmp -s "$d/before" "$d/after" && ok=0
		expect $ok "$name: exit 1, '$got'" "rc=$RC, wanted $f:$line:${col}: ...; rule set $(cmp -s "$d/before" "$d/after" && echo unchanged || echo CHANGED)"
	done <<-'EOF'
		port-range|2|19|# a port out of range\nrule 10 tcp dport 99999 pass
		unknown-match|3|-|policy pass\nrule 5 tcp dport 22 pass\nrule 10 tcp portz 22 pass
		bad-cidr|1|-|rule 10 src 10.0.0.0/33 drop
		bad-mac|2|-|\nrule 10 ether src 02:00:00:00:00 drop
		dup-prio|3|-|rule 10 tcp dport 22 pass\nrule 11 udp pass\nrule 10 udp dport 53 pass
		no-verdict|1|-|rule 10 tcp dport 22
		prio-zero|1|6|rule 0 tcp dport 22 pass
		prio-big|1|6|rule 1000001 tcp dport 22 pass
		bad-policy|4|-|rule 1 pass\nrule 2 drop\n\npolicy maybe
		vlan-range|1|-|rule 10 vlan 4096 drop
		bad-flags|1|-|rule 10 tcp flags syn,bogus drop
		long|40|-|(written above)
	EOF

	# the same through stdin and through rule add
	rc=0
	printf 'rule 10 tcp pass\nrule 20 tcp dport 1-2-3 pass\n' | "$XWALL" apply - >/dev/null 2>"$d/err" || rc=$?
	"$XWALL" rule list >"$d/after"
	[ $rc -eq 1 ] && grep -q '^[^:]*:2:[0-9][0-9]*: .' "$d/err" && cmp -s "$d/before" "$d/after" && r=0 || r=1
	expect $r "apply - with a bad line 2: exit 1, '$(head -n1 "$d/err")'"
	rc=0
	"$XWALL" rule add 30 udp dport 70000 drop >/dev/null 2>"$d/err" || rc=$?
	"$XWALL" rule list >"$d/after"
	[ $rc -eq 1 ] && [ -s "$d/err" ] && cmp -s "$d/before" "$d/after" && r=0 || r=1
	expect $r "rule add with a bad port: exit 1, '$(head -n1 "$d/err")', rule set unchanged"
	rc=0
	"$XWALL" apply --check "$d/port-range.rules" >/dev/null 2>"$d/err" || rc=$?
	[ $rc -eq 1 ] && grep -q "^$d/port-range.rules:2:" "$d/err" && r=0 || r=1
	expect $r "apply --check of a bad file: exit 1 with FILE:LINE:COL"
	gen1=$("$XWALL" status --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["generation"])')
	[ "$gen0" = "$gen1" ] && r=0 || r=1
	expect $r "generation unchanged after all refused changes ($gen0)" "now $gen1"
	"$XWALL" detach "$IF_B" >/dev/null
}

if [ "${1:-}" = --inner ]; then
	shift
	e2e_inner              # whatever happens, no XDP program left on our veth
	"$@"
	e2e_part_end
fi

# ---------------------------------------------------------------- outer side
for t in tcpreplay setpriv taskset "$PY"; do
	command -v "$t" >/dev/null || { echo "e2e: $t missing (make deps)" >&2; exit 2; }
done

e2e_workdir xwall-e2e
chmod 0755 "$W"
e2e_trap 'e2e_bed down "$NS_A" "$NS_B" >/dev/null 2>&1 || true; e2e_rmwork'

# run_inner NAME FUNC ARGS...: fresh test bed, then FUNC inside B
run_inner() {
	name=$1
	shift
	e2e_bed fresh "$NS_A" "$NS_B"
	bedinfo=$(e2e_bed info "$NS_A" "$NS_B")   # fails the script if a MAC is unreadable
	eval "$bedinfo"
	export IF_A IF_B MAC_A MAC_B
	# test frames are addressed to B's (new) MAC
	if [ ! -e "$W/mix.pcap" ] || [ "$(cat "$W/mix.mac")" != "$MAC_B" ]; then
		"$PY" "$HERE/mkpcap.py" --dst-mac "$MAC_B" --src-mac "$SRC_MAC" \
			--out "$W/mix.pcap" --manifest "$W/mix.json" 2>/dev/null
		echo "$MAC_B" >"$W/mix.mac"
	fi
	e2e_part "$W/out.$name" "$name" ip netns exec "$NS_B" sh "$HERE/run.sh" --inner "$@"
}

start=$(date +%s)
scenarios=${*:-a b c d e}
for s in $scenarios; do
	case $s in
	a) run_inner a-allow scen_a allow native
	   run_inner a-deny scen_a deny skb ;;
	b) run_inner b scen_b ;;
	c) run_inner c scen_c ;;
	d) run_inner d scen_d ;;
	e) run_inner e scen_e ;;
	*) echo "e2e: unknown scenario $s" >&2; exit 1 ;;
	esac
done
echo "run: $(($(date +%s) - start)) s"
e2e_count "$W"/out.*
e2e_done
