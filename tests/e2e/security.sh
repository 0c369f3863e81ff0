#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Security end-to-end tests of xwall (issue item 5).  "nobody" is uid/gid
# 65534 without groups or capabilities (setpriv); "userns" is nobody inside
# `unshare -Ur` (uid 0 and every capability in its own user namespace, none
# in the initial one: what an unprivileged user gets for free).
#
#   a  pins: /sys/fs/bpf/xwall is a root-owned 0700 directory, every pin in it
#      root-owned with no group/other bits; nobody cannot list the directory,
#      open or flock it (the lock), BPF_OBJ_GET any pin, or get an fd of any
#      of our maps or programs by id (BPF_{MAP,PROG}_GET_FD_BY_ID)
#   b  commands: every command that reads or changes kernel state (attach
#      detach status apply rule policy stats events test ct) run by nobody and
#      by userns, with nothing loaded and with a datapath loaded, exits 2 with
#      a message on stderr that names the permission problem, prints nothing on
#      stdout, creates nothing under /sys/fs/bpf and leaves the live rule set
#      and generation unchanged; `apply --check`, `--help`, `--version` and
#      `COMMAND --help` work unprivileged (exit 0)
#   c  unprivileged BPF: kernel.unprivileged_bpf_disabled is 1 or 2, and
#      nobody's BPF_PROG_LOAD and BPF_MAP_CREATE are refused (root's succeed:
#      the probe works), so no unprivileged program exists that could write a
#      map, and (a) shows no unprivileged process can get a map fd to hand
#      one; `bpftool map show` lists our maps with their flags, and the
#      xw_text inner maps carry BPF_F_RDONLY_PROG
#   d  squatting: a pin directory that someone else created first (nobody's
#      directory, or nobody's symlink to a root directory) is never adopted:
#      xwall refuses it (exit 2) or the result is a root-owned 0700 directory
#      nobody cannot open, and the symlink target keeps its mode
#
# Usage: tests/e2e/security.sh   (root)
# Each check prints PASS or FAIL with its counts; the last line is the
# summary (tests/e2e/lib.sh); exit 1 if any check failed.  KEEP=1 keeps
# the work directory.  Every part runs in a private mount namespace with its
# own bpffs (`unshare -m`), so nothing here touches other tests' datapaths.
set -eu

. "$(dirname "$0")/lib.sh"
e2e_init security
PY=/usr/bin/python3
SP="$HERE/security.py"
PIN=/sys/fs/bpf/xwall
NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups"
export PY SP PIN NOBODY

# ------------------------------------------------------------------ inner side
if [ "${1:-}" = --inner ]; then
	LABEL=$2
	mount -t bpf bpf /sys/fs/bpf
	chmod 1777 /sys/fs/bpf               # as the kernel's default mount, and this machine's
	e2e_trap 'timeout 10 "$XWALL" detach --all >/dev/null 2>&1 || true'
	xw() { timeout 20 "$XWALL" "$@"; }
	nb() { timeout 20 $NOBODY "$@"; }
	ns() { timeout 20 $NOBODY unshare -Ur "$@"; }
	cat >"$W/a.rules" <<-'EOF'
	policy in pass
	rule 10 in udp dport 7000 pass
	rule 20 in tcp dport 22 src 10.0.0.0/8 drop
	EOF
	chmod 644 "$W/a.rules"
	"$PY" -c '
from scapy.all import Ether, IP, UDP, wrpcap
wrpcap("'"$W"'/p.pcap", [Ether() / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(dport=7000)])'
	chmod 644 "$W/p.pcap"

	case $LABEL in
	a/pins)
		xw apply "$W/a.rules" >/dev/null
		st=$(stat -c '%F %a %u:%g' "$PIN")
		[ "$st" = "directory 700 0:0" ] && r=0 || r=1
		expect $r "$PIN is a root-owned 0700 directory ($st)"
		n=0 badp=""
		for f in "$PIN"/*; do
			n=$((n + 1))
			m=$(stat -c '%a %u:%g' "$f")
			case $m in
			[0-7]00\ 0:0) ;;
			*) badp="$badp $(basename "$f"):$m" ;;
			esac
		done
		[ $n -gt 0 ] && [ -z "$badp" ] && r=0 || r=1
		expect $r "all $n pins are root-owned without group or other bits" "$badp"
		r=0
		nb ls "$PIN" >"$W/ls.out" 2>&1 && r=1
		expect $r "nobody cannot list $PIN: $(oneline "$W/ls.out")"
		rc=0
		nb "$PY" "$SP" lock "$PIN" >"$W/lock.out" 2>&1 || rc=$?
		[ $rc = 3 ] && r=0 || r=1
		expect $r "nobody cannot open or flock $PIN (the lock): $(oneline "$W/lock.out")"
		rc=0
		nb "$PY" "$SP" objget "$PIN"/* >"$W/objget.out" 2>&1 || rc=$?
		[ $rc = 3 ] && r=0 || r=1
		expect $r "nobody's BPF_OBJ_GET of all $n pins is refused ($(cut -d' ' -f2 "$W/objget.out" | sort | uniq -c | tr -s ' \n' ' '))" \
			"$(grep -v 'EACCES\|EPERM' "$W/objget.out" | head -5 | tr '\n' ' ')"
		r=0
		nb bpftool map show pinned "$PIN/xw_cfg" >"$W/bt.out" 2>&1 && r=1
		expect $r "nobody's \`bpftool map show pinned $PIN/xw_cfg\` fails: $(oneline "$W/bt.out")"
		maps="" progs=""
		for f in "$PIN"/*; do
			id=$(bpftool map show pinned "$f" 2>/dev/null | sed -n '1s/:.*//p')
			if [ -n "$id" ]; then maps="$maps $id"; continue; fi
			id=$(bpftool prog show pinned "$f" 2>/dev/null | sed -n '1s/:.*//p')
			[ -z "$id" ] || progs="$progs $id"
		done
		rc=0
		nb "$PY" "$SP" byid map $maps >"$W/bymap.out" 2>&1 || rc=$?
		[ $rc = 3 ] && r=0 || r=1
		expect $r "nobody cannot open any of our $(echo $maps | wc -w) maps by id ($(cut -d' ' -f4 "$W/bymap.out" | sort | uniq -c | tr -s ' \n' ' '))" \
			"$(grep -v 'EPERM\|EACCES' "$W/bymap.out" | head -5 | tr '\n' ' ')"
		rc=0
		nb "$PY" "$SP" byid prog $progs >"$W/byprog.out" 2>&1 || rc=$?
		[ $rc = 3 ] && r=0 || r=1
		expect $r "nobody cannot open any of our $(echo $progs | wc -w) programs by id ($(cut -d' ' -f4 "$W/byprog.out" | sort | uniq -c | tr -s ' \n' ' '))" \
			"$(grep -v 'EPERM\|EACCES' "$W/byprog.out" | head -5 | tr '\n' ' ')"
		;;

	b/commands-*)
		who=${LABEL#b/commands-}           # nobody-empty nobody-loaded userns-empty userns-loaded
		case $who in *-loaded) xw apply "$W/a.rules" >/dev/null ;; esac
		if [ "$who" != "${who%-loaded}" ]; then
			xw status --json >"$W/s0" 2>&1 || true
			xw rule list >"$W/l0" 2>&1 || true
		fi
		before=$(ls -la /sys/fs/bpf "$PIN" 2>&1 | sed '/^total/d')
		run_as() { case $who in nobody-*) nb "$@" ;; userns-*) ns "$@" ;; esac; }
		total=0 badc=""
		while IFS= read -r c; do
			[ -n "$c" ] || continue
			total=$((total + 1))
			rc=0
			# shellcheck disable=SC2086
			run_as "$XWALL" $c >"$W/c.out" 2>"$W/c.err" </dev/null || rc=$?
			if [ $rc != 2 ]; then
				badc="$badc [$c: exit $rc, $(oneline "$W/c.err")$(oneline "$W/c.out")]"
			elif ! grep -qiE 'permission|privilege|root|not permitted|CAP_' "$W/c.err"; then
				badc="$badc [$c: exit 2 but the message does not name the permission problem: $(oneline "$W/c.err")]"
			elif [ -s "$W/c.out" ]; then
				badc="$badc [$c: printed on stdout: $(oneline "$W/c.out")]"
			fi
		done <<-EOF
		attach lo
		attach lo --mode skb --egress
		detach lo
		detach --all
		status
		status --json
		apply $W/a.rules
		apply -
		apply --confirm 5 $W/a.rules
		confirm
		confirm --rollback
		rule add 30 in udp dport 1 pass
		rule del 10
		rule list
		rule list --json
		policy drop
		policy out drop
		stats
		stats --json
		stats --prometheus
		stats --watch 1
		events --count 1
		events --json --count 1
		events --pcap $W/ev.pcap --count 1
		test --pcap $W/p.pcap
		test --pcap $W/p.pcap --json
		test --pcap $W/p.pcap --rules $W/a.rules --json
		ct list
		ct list --json
		ct flush
		ct timeout
		ct timeout udp 10
		EOF
		[ -z "$badc" ] && r=0 || r=1
		expect $r "$total privileged commands run as $who: every one exits 2 with a permission message on stderr and nothing on stdout" \
			"$(echo "$badc" | cut -c1-1500)"
		after=$(ls -la /sys/fs/bpf "$PIN" 2>&1 | sed '/^total/d')
		[ "$before" = "$after" ] && r=0 || r=1
		expect $r "they created, removed or changed nothing under /sys/fs/bpf" \
			"before: $(echo "$before" | tr '\n' ' ') after: $(echo "$after" | tr '\n' ' ')"
		if [ "$who" != "${who%-loaded}" ]; then
			xw status --json >"$W/s1" 2>&1 || true
			xw rule list >"$W/l1" 2>&1 || true
			cmp -s "$W/s0" "$W/s1" && cmp -s "$W/l0" "$W/l1" && r=0 || r=1
			expect $r "the live rule set and generation are unchanged" "$(oneline "$W/s1")"
		fi
		total=0 badc=""
		while IFS= read -r c; do
			[ -n "$c" ] || continue
			total=$((total + 1))
			rc=0
			# shellcheck disable=SC2086
			run_as "$XWALL" $c >"$W/c.out" 2>"$W/c.err" </dev/null || rc=$?
			if [ $rc != 0 ] || [ ! -s "$W/c.out" ]; then
				badc="$badc [$c: exit $rc, $(oneline "$W/c.err")]"
			fi
		done <<-EOF
		apply --check $W/a.rules
		--help
		--version
		attach --help
		detach --help
		status --help
		apply --help
		rule --help
		policy --help
		stats --help
		events --help
		test --help
		ct --help
		EOF
		[ -z "$badc" ] && r=0 || r=1
		expect $r "$total unprivileged commands (apply --check, --help, --version, COMMAND --help) run as $who exit 0 with output" "$badc"
		;;

	c/unpriv-bpf)
		v=$(cat /proc/sys/kernel/unprivileged_bpf_disabled)
		case $v in 1 | 2) r=0 ;; *) r=1 ;; esac
		expect $r "kernel.unprivileged_bpf_disabled = $v (1 or 2: unprivileged bpf() cannot load programs or create maps)"
		for op in progload mapcreate; do
			rc=0
			"$PY" "$SP" $op >"$W/r.out" 2>&1 || rc=$?
			rr=0
			nb "$PY" "$SP" $op >"$W/n.out" 2>&1 || rr=$?
			rc2=0
			ns "$PY" "$SP" $op >"$W/u.out" 2>&1 || rc2=$?
			[ $rc = 0 ] && [ $rr = 3 ] && [ $rc2 = 3 ] && r=0 || r=1
			expect $r "$op: root $(sed 's/.*: //' "$W/r.out"), nobody $(sed 's/.*: //' "$W/n.out"), userns $(sed 's/.*: //' "$W/u.out")"
		done
		xw apply "$W/a.rules" >/dev/null
		echo "c/unpriv-bpf: bpftool map show of the pinned maps:"
		for f in "$PIN"/*; do
			bpftool map show pinned "$f" 2>/dev/null | sed -n '1s/^/    /p'
		done
		inner=""
		for k in "0 0 0 0" "1 0 0 0"; do
			# shellcheck disable=SC2086
			id=$(bpftool map lookup pinned "$PIN/xw_text" key $k -j 2>/dev/null |
				"$PY" -c 'import json,sys; v=json.load(sys.stdin)["value"]; print(int("".join(x[2:] for x in reversed(v)), 16))' 2>/dev/null) || id=""
			[ -z "$id" ] || inner="$inner $id"
		done
		echo "c/unpriv-bpf: xw_text inner maps (generations 0 and 1):"
		good=0 n=0
		for id in $inner; do
			n=$((n + 1))
			line=$(bpftool map show id "$id" | head -1)
			echo "    $line"
			fl=$(echo "$line" | sed -n 's/.*flags \(0x[0-9a-f]*\).*/\1/p')
			[ -n "$fl" ] && [ $((fl & 0x80)) != 0 ] && good=$((good + 1))
		done
		[ $n = 2 ] && [ $good = 2 ] && r=0 || r=1
		expect $r "$good of $n xw_text inner maps have BPF_F_RDONLY_PROG (0x80): no BPF program, ours included, can write them"
		;;

	d/squat-dir)
		nb mkdir "$PIN"
		rc=0
		xw apply "$W/a.rules" >"$W/o" 2>"$W/e" || rc=$?
		st=$(stat -c '%a %U' "$PIN" 2>/dev/null || echo absent)
		r=0
		nb "$PY" "$SP" lock "$PIN" >"$W/lock.out" 2>&1 || r=$?
		if [ $rc = 2 ]; then
			[ ! -e "$PIN/xw_cfg" ] && res=0 || res=1
			expect $res "nobody created $PIN first: apply refuses it (exit 2: $(oneline "$W/e"))"
		else
			dos=""
			if [ $r = 0 ]; then
				# show what holding the lock does: root's status waits for nobody
				timeout 10 $NOBODY flock "$PIN" sleep 3 &
				sleep 0.3
				r2=0
				timeout 1.5 "$XWALL" status >/dev/null 2>&1 || r2=$?
				wait
				[ $r2 != 124 ] || dos="; while nobody holds flock on it, root's \`xwall status\` hangs (timeout 1.5 s)"
			fi
			[ $rc = 0 ] && [ "$st" = "700 root" ] && [ $r = 3 ] && res=0 || res=1
			expect $res "nobody created $PIN first: apply exits $rc; the directory is now '$st' (must be '700 root' or refused with exit 2); nobody's open+flock of it: $(oneline "$W/lock.out")$dos" \
				"nobody owns the pin directory: it can list the pins, hold the lock (every xwall command then waits) and rename or remove pins"
		fi
		;;

	d/squat-symlink)
		mkdir "$W/target"
		chmod 755 "$W/target"
		nb ln -s "$W/target" "$PIN"
		rc=0
		xw apply "$W/a.rules" >"$W/o" 2>"$W/e" || rc=$?
		m=$(stat -c '%a %U' "$W/target")
		[ "$m" = "755 root" ] && r=0 || r=1
		expect $r "nobody's symlink $PIN -> $W/target (root, 755): apply exits $rc ($(oneline "$W/e")); the target is now '$m'" \
			"root's xwall followed the symlink and chmod-ed its target to 0700 (fs.protected_symlinks = $(cat /proc/sys/fs/protected_symlinks))"
		;;

	d/squat-userns)
		# an unprivileged user runs xwall under `unshare -Ur` before root ever did
		for c in status "rule list" stats; do
			# shellcheck disable=SC2086
			ns "$XWALL" $c >/dev/null 2>&1 || true
		done
		st=$(stat -c '%a %U' "$PIN" 2>/dev/null || echo absent)
		case $st in absent | "700 root") r=0 ;; *) r=1 ;; esac
		expect $r "xwall status / rule list / stats run by userns before anything was loaded leave no pin directory of theirs ($PIN: $st)" \
			"root's next xwall adopts it (see d/squat-dir)"
		;;
	esac
	e2e_part_end
fi

# ------------------------------------------------------------------ outer side
for t in setpriv unshare bpftool "$PY"; do
	command -v "$t" >/dev/null 2>&1 || { echo "FAIL security: $t is missing" >&2; exit 1; }
done
e2e_workdir xwsec
chmod 755 "$W"
e2e_trap e2e_rmwork

# xwall must be reachable by nobody
p=$XWALL
while [ "$p" != / ]; do
	if ! $NOBODY test -x "$p"; then
		echo "FAIL security: nobody cannot reach $XWALL ($p is not searchable for other users)"
		exit 1
	fi
	p=$(dirname "$p")
done

n=0
for part in a/pins b/commands-nobody-empty b/commands-nobody-loaded b/commands-userns-empty \
	b/commands-userns-loaded c/unpriv-bpf d/squat-dir d/squat-symlink d/squat-userns; do
	n=$((n + 1))
	e2e_part "$W/part$n.log" "$part" timeout -k 5 120 unshare -m --propagation private bash "$0" --inner "$part"
done
e2e_count "$W"/part*.log
e2e_done
