#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Helpers of tests/e2e/faults.sh (fault injection).  Every subcommand that
runs xwall runs it in the caller's mount namespace, so the caller's private
bpffs is the one used.  Subcommands:

  rulesets DIR N
      Write DIR/a.rules (3 rules, policy pass), DIR/b.rules (3 + N rules,
      policy drop) and DIR/probe.pcap (6 UDP/TCP frames) such that every probe
      frame gets a different answer (verdict, rule, reason) from A and from B,
      and DIR/expect.json with those answers.

  kill XWALL DIR TRIALS SEED
      (a) TRIALS times: make A live, start `xwall apply B`, SIGKILL it after a
      random 0..1.1*T (T: the measured duration of a clean apply of B), then
      check that `xwall test --pcap probe.pcap --json` gives exactly A's or
      B's answers for all probes, that `rule list` prints exactly A's or B's
      listing (the same one), and that `status --json` works and agrees.

  sweep XWALL DIR MODE
      (a) strace kills `xwall apply` at chosen bpf() calls (signal on entry):
      MODE load: apply A on an empty bpffs (loads and pins the datapath);
      MODE apply: apply B over a live A.  Afterwards the next commands must
      work and the datapath must answer as A or B (or nothing loaded, for
      load).

  mutate XWALL DIR COUNT SEED
      (c) COUNT random mutations of a valid rule file: each `xwall apply`
      must exit 0 (then the original is applied back) or 1 with a first
      stderr line `FILE:LINE:COL: message` pointing into the file, and on 1
      the live state (generation, `rule list`) must be unchanged.

  concpcap OUT.pcap / conccheck LIST.txt STATUS.json TEST.jsonl FAILS SECS
      (b) the probe frames for, and the checks of, the 4 x 50 concurrent
      `rule add`s (rule P: udp dport 10000+P, pass if P is odd).

  send IFACE SMAC DMAC SRC DST SPORT DPORT PPS STOPFILE
      (d) Send UDP frames with markers XWM000000, XWM000001, ... at PPS until
      STOPFILE exists; print {"sent": N, "duration": S}.

  dcheck STATS0.json STATS1.json RX.json SEND.json APPLIES FAILED
      (d) The counter arithmetic; prints PASS/FAIL lines, exits 1 on FAIL.

Each prints PASS/FAIL lines (prefixed with its scenario) and counts; the exit
status is 1 if any check failed.
"""
import json
import os
import random
import re
import signal
import socket
import struct
import subprocess
import sys
import time

FAILS = []


def out(line):
    print(line, flush=True)


def check(label, ok, msg, detail=""):
    if ok:
        out("PASS %s: %s" % (label, msg))
    else:
        out("FAIL %s: %s%s" % (label, msg, " -- " + detail if detail else ""))
        FAILS.append(msg)
    return ok


def run(cmd, timeout=30, **kw):
    """run -> (rc, stdout, stderr); rc is -SIG for a signal, 124 on timeout"""
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout, **kw)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        return 124, e.stdout or b"", e.stderr or b""


def one(b, n=300):
    return b.decode("utf-8", "replace").replace("\n", " | ")[:n]


# ------------------------------------------------------------------ rule sets
A_RULES = """policy in pass
policy out pass
rule 10 in udp src 10.9.0.1 dport 7000 pass
rule 11 in udp dport 7001 drop
rule 12 in src 10.9.0.3 drop
"""


def bulk_src(i):
    return "10.%d.%d.1" % (100 + i // 256, i % 256)


def rulesets(a):
    d, n = a[0], int(a[1])
    from scapy.all import Ether, IP, TCP, UDP, wrpcap
    with open(os.path.join(d, "a.rules"), "w") as f:
        f.write(A_RULES)
    with open(os.path.join(d, "b.rules"), "w") as f:
        f.write("policy in drop\npolicy out pass\n"
                "rule 5 in udp dport 7000 drop\n"
                "rule 6 in udp src 10.9.0.0/24 dport 7001 pass\n"
                "rule 7 in udp dport 7005 pass\n")
        for i in range(n):
            f.write("rule %d in udp src %s dport 9000 drop\n" % (1000 + i, bulk_src(i)))
    e = dict(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    probes = [
        # (frame, answer under A, answer under B): [verdict, rule, reason]
        (Ether(**e) / IP(src="10.9.0.1", dst="10.9.0.2") / UDP(sport=5000, dport=7000),
         ["pass", 10, "rule"], ["drop", 5, "rule"]),
        (Ether(**e) / IP(src="10.9.0.1", dst="10.9.0.2") / UDP(sport=5000, dport=7001),
         ["drop", 11, "rule"], ["pass", 6, "rule"]),
        (Ether(**e) / IP(src="10.9.0.3", dst="10.9.0.2") / UDP(sport=5000, dport=7005),
         ["drop", 12, "rule"], ["pass", 7, "rule"]),
        (Ether(**e) / IP(src=bulk_src(0), dst="10.9.0.2") / UDP(sport=5000, dport=9000),
         ["pass", None, "policy"], ["drop", 1000, "rule"]),
        (Ether(**e) / IP(src=bulk_src(n - 1), dst="10.9.0.2") / UDP(sport=5000, dport=9000),
         ["pass", None, "policy"], ["drop", 1000 + n - 1, "rule"]),
        (Ether(**e) / IP(src="10.8.0.1", dst="10.9.0.2") / TCP(sport=5000, dport=80),
         ["pass", None, "policy"], ["drop", None, "policy"]),
    ]
    wrpcap(os.path.join(d, "probe.pcap"), [p[0] / (b"probe%02d" % i) for i, p in enumerate(probes)])
    with open(os.path.join(d, "expect.json"), "w") as f:
        json.dump({"A": [p[1] for p in probes], "B": [p[2] for p in probes], "n": n}, f)


class Live:
    """Reads the live state through the CLI."""

    def __init__(self, xwall, d):
        self.x, self.d = xwall, d
        ex = json.load(open(os.path.join(d, "expect.json")))
        self.ans = {"A": ex["A"], "B": ex["B"]}
        self.nrules = {"A": 3, "B": 3 + ex["n"]}
        self.lists = {}

    def xw(self, *args, timeout=30):
        return run([self.x] + list(args), timeout=timeout)

    def probe(self):
        """-> ("A"|"B"|None, detail)"""
        rc, o, e = self.xw("test", "--pcap", os.path.join(self.d, "probe.pcap"), "--json")
        if rc != 0:
            return None, "xwall test exit %d: %s" % (rc, one(e))
        try:
            got = [json.loads(l) for l in o.decode().splitlines() if l.strip()]
            got = [[g["verdict"], g["rule"], g["reason"]] for g in sorted(got, key=lambda g: g["index"])]
        except (ValueError, KeyError) as x:
            return None, "xwall test output unreadable (%s): %s" % (x, one(o))
        for k in ("A", "B"):
            if got == self.ans[k]:
                return k, ""
        return None, "probe answers %s are neither A's %s nor B's %s" % (got, self.ans["A"], self.ans["B"])

    def listing(self):
        rc, o, e = self.xw("rule", "list")
        if rc != 0:
            return None, "rule list exit %d: %s" % (rc, one(e))
        for k, v in self.lists.items():
            if o == v:
                return k, ""
        return None, "rule list (%d lines) is neither A's nor B's listing: %s" % (
            o.count(b"\n"), one(o, 200))

    def status(self):
        rc, o, e = self.xw("status", "--json")
        if rc != 0:
            return None, "status --json exit %d: %s" % (rc, one(e))
        try:
            return json.loads(o), ""
        except ValueError:
            return None, "status --json unreadable: %s" % one(o)

    def state(self):
        """-> (A|B|None, detail): probe, listing and status must agree"""
        p, dp = self.probe()
        if p is None:
            return None, dp
        l, dl = self.listing()
        if l is None:
            return None, dl
        if l != p:
            return None, "the datapath answers as %s but rule list prints %s's rules" % (p, l)
        s, ds = self.status()
        if s is None:
            return None, ds
        if s.get("rules") != self.nrules[p]:
            return None, "status says %s rules, %s has %d" % (s.get("rules"), p, self.nrules[p])
        return p, ""

    def apply(self, k):
        rc, o, e = self.xw("apply", os.path.join(self.d, k.lower() + ".rules"), timeout=60)
        return rc, one(e)


def kill(a):
    xwall, d, trials, seed = a[0], a[1], int(a[2]), int(a[3])
    L = "a/kill"
    rnd = random.Random(seed)
    lv = Live(xwall, d)
    # reference answers and listings from clean applies
    for k in ("A", "B"):
        rc, e = lv.apply(k)
        if not check(L, rc == 0, "clean apply %s exits 0" % k, e):
            return
        rc, o, e = lv.xw("rule", "list")
        lv.lists[k] = o
        p, dp = lv.probe()
        if not check(L, p == k, "after a clean apply of %s the probes get %s's answers" % (k, k), dp):
            return
    # how long does applying B over A take?
    durs = []
    for _ in range(3):
        lv.apply("A")
        t0 = time.perf_counter()
        rc, e = lv.apply("B")
        durs.append(time.perf_counter() - t0)
    T = sorted(durs)[1]
    out("a/kill: apply of B (%d rules) over A takes %.0f ms (median of 3); killing at "
        "uniform 0..%.0f ms (every other trial %.0f..%.0f ms), seed %d" % (
            lv.nrules["B"], T * 1000, T * 1100, T * 800, T * 1100, seed))
    counts = {"old": 0, "new": 0, "finished": 0}
    bad = []
    t_start = time.time()
    state = lv.state()[0]
    for t in range(trials):
        if state != "A":
            rc, e = lv.apply("A")
            if rc != 0:
                bad.append("trial %d: apply A (the next command after a kill) exit %d: %s" % (t, rc, e))
                break
        # half over the whole apply, half over its end, where the switch is
        delay = rnd.uniform(0, T * 1.1) if t % 2 else rnd.uniform(T * 0.8, T * 1.1)
        p = subprocess.Popen([xwall, "apply", os.path.join(d, "b.rules")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        rc = p.wait()
        err = p.stderr.read()
        p.stderr.close()
        state, det = lv.state()
        if state is None:
            bad.append("trial %d (kill after %.1f ms, apply exit %d %s): %s" % (
                t, delay * 1000, rc, one(err, 100), det))
            # try to get back to a known state for the next trial
            lv.apply("A")
            state = lv.state()[0]
            continue
        if rc == 0:
            counts["finished"] += 1
            if state != "B":
                bad.append("trial %d: apply B exited 0 but %s is in force" % (t, state))
        elif rc == -signal.SIGKILL:
            counts["old" if state == "A" else "new"] += 1
        else:
            bad.append("trial %d: apply B exit %d before the kill: %s" % (t, rc, one(err)))
    dt = time.time() - t_start
    check(L, not bad and sum(counts.values()) == trials,
          "%d killed applies (%.0f s): %d left the old set A in force, %d the new set B, "
          "%d had finished before the kill; every time the probes, rule list and status agreed "
          "on exactly one whole set and the next apply worked" % (
              trials, dt, counts["old"], counts["new"], counts["finished"]),
          "; ".join(bad[:5]) + (" (%d problems)" % len(bad) if bad else ""))
    out("a/kill: (the switch is one of the last steps of apply, so few kills land after it; "
        "the strace sweep below kills at each step around it)")
    rc, e = lv.apply("A")
    check(L, rc == 0 and lv.state()[0] == "A", "afterwards apply A works and A is in force", e)


def bpf_calls(cmd):
    """the bpf() calls of cmd as [(index from 1, 'BPF_CMD', line)]"""
    rc, o, e = run(["strace", "-f", "-qq", "-o", "/dev/stderr", "-e", "trace=bpf"] + cmd, timeout=120)
    calls = []
    for line in e.decode("utf-8", "replace").splitlines():
        m = re.search(r"bpf\((BPF_[A-Z_]+)", line)
        if m:
            calls.append((len(calls) + 1, m.group(1), line))
    return rc, calls


def reset_bpffs():
    run(["umount", "/sys/fs/bpf"])
    rc, o, e = run(["mount", "-t", "bpf", "bpf", "/sys/fs/bpf"])
    return rc == 0


def sweep(a):
    xwall, d, mode = a[0], a[1], a[2]
    L = "a/sweep-" + mode
    lv = Live(xwall, d)
    for k in ("A", "B"):
        if k == "B" and mode == "load":
            break
        rc, e = lv.apply(k)
        rc2, o, e2 = lv.xw("rule", "list")
        lv.lists[k] = o
    if mode == "load":
        reset_bpffs()
        target = "a.rules"
        rc, calls = bpf_calls([xwall, "apply", os.path.join(d, "a.rules")])
        pins = [c for c in calls if c[1] == "BPF_OBJ_PIN"]
        cfg = [c[0] for c in pins if "/xw_cfg\"" in c[2]]
        # before anything, after the programs are loaded, the pins (the
        # datapath counts as loaded once xw_cfg is pinned), the end
        ks = {len(calls)}
        loads = [c[0] for c in calls if c[1] == "BPF_PROG_LOAD"]
        if loads:
            ks.add(loads[-1] + 1)
        if len(pins) > 2:
            ks |= {pins[1][0], pins[-1][0]}
        if cfg:
            ks |= {cfg[0], cfg[0] + 1}
        what = "first apply on an empty bpffs (%d bpf calls, %d pins; xw_cfg pinned at call %s)" % (
            len(calls), len(pins), cfg[0] if cfg else "?")
    else:
        lv.apply("A")
        target = "b.rules"
        rc, calls = bpf_calls([xwall, "apply", os.path.join(d, "b.rules")])
        n = len(calls)
        first = {}
        for c in calls:
            first.setdefault(c[1], c[0])
        ks = {n // 2} | set(first.values()) | set(range(max(1, n - 9), n + 1))
        what = "apply of B over A (%d bpf calls)" % n
    if not check(L, rc == 0 and calls, "strace traces the %s" % what, "exit %d" % rc):
        return
    ks = sorted(k for k in ks if k >= 1)
    res = {"old": 0, "new": 0}
    bad = []
    t0 = time.time()
    for k in ks:
        if mode == "load":
            reset_bpffs()
        else:
            rc, e = lv.apply("A")
            if rc != 0:
                bad.append("K=%d: apply A before the kill failed: %s" % (k, e))
                continue
        callname = calls[k - 1][1] if k <= len(calls) else "-"
        rc, o, e = run(["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=bpf",
                        "-e", "inject=bpf:signal=SIGKILL:when=%d" % k,
                        xwall, "apply", os.path.join(d, target)], timeout=120)
        killed = rc != 0
        if mode == "load":
            # the next commands: status, then apply A must work and enforce A
            rs, so, se = lv.xw("status")
            if rs != 0:
                bad.append("killed at bpf call %d (%s): the next `xwall status` exits %d: %s" % (
                    k, callname, rs, one(se, 120)))
            loaded = so.startswith(b"xwall: loaded")
            if loaded:
                p, dp = lv.probe()
                if p != "A":
                    bad.append("killed at bpf call %d (%s): loaded but the probes: %s" % (k, callname, dp))
            ra, e = lv.apply("A")
            if ra != 0:
                bad.append("killed at bpf call %d (%s): the next `xwall apply A` exits %d: %s%s" % (
                    k, callname, ra, e, "" if ra == 0 else
                    (" (again: exit %d)" % lv.apply("A")[0])))
            else:
                p, dp = lv.state()
                if p != "A":
                    bad.append("killed at bpf call %d (%s): after apply A: %s" % (k, callname, dp))
            res["new" if loaded else "old"] += 1
        else:
            p, dp = lv.state()
            if p is None:
                bad.append("killed at bpf call %d (%s): %s" % (k, callname, dp))
            else:
                res["old" if p == "A" else "new"] += 1
                if not killed and p != "B":
                    bad.append("K=%d: apply finished but %s in force" % (k, p))
            ra, e = lv.apply("A")
            if ra != 0:
                bad.append("killed at bpf call %d (%s): the next apply A exits %d: %s" % (k, callname, ra, e))
    if mode == "load":
        summary = ("%d kills of the %s at bpf calls %s (%.0f s): %d left nothing loaded, %d a loaded "
                   "datapath; after each, `status` and `apply A` work and A is enforced" % (
                       len(ks), what, ",".join(map(str, ks)), time.time() - t0, res["old"], res["new"]))
    else:
        summary = ("%d kills of the %s at bpf calls %s (%.0f s): %d left A, %d left B in force, never "
                   "a mix; the next apply works" % (
                       len(ks), what, ",".join(map(str, ks)), time.time() - t0, res["old"], res["new"]))
    check(L, not bad, summary, "; ".join(bad[:6]) + (" (%d problems)" % len(bad) if bad else ""))
    if mode == "load":
        reset_bpffs()


# ------------------------------------------------------------------ mutation
BASE = """# a valid rule set: every mutation of it is fed to `xwall apply`
policy in drop
policy out pass
rule 10 in ct established,related pass
rule 20 in tcp dport 22 src 10.0.0.0/8,2001:db8::/32 pass
rule 30 in udp dport 53,5353 limit over 1000/s per src drop
rule 31 in udp dport 53,5353 pass
rule 40 in icmp type echo-request pass
rule 41 in icmpv6 type 128-136 pass
rule 50 in frag later drop
rule 60 out tcp dport 25 log drop
rule 70 in ether src 02:00:00:00:00:01 drop
rule 80 in vlan 100 ether type arp pass
rule 90 in tcp flags syn / syn,ack sport 1024-65535 drop
rule 100 in ip6 dst fe80::/10 proto 58 pass
rule 110 in ether dst ff:ff:ff:ff:ff:ff ether type 0x0806 pass
rule 120 out udp sport 123 dport 123 pass
rule 130 in sctp dport 9 drop
rule 140 in frag first src 192.168.0.0/16 limit over 10/m burst 3 drop
rule 150 in icmp type 3 code 4 log pass
"""

TOKENS = [b"", b"-1", b"0", b"1", b"65535", b"65536", b"4294967296", b"18446744073709551616",
          b"99999999999999999999999", b"1000000", b"1000001", b"/", b",", b",,", b"/33", b"/129",
          b"/0", b"::", b":::", b"1::2::3", b"0x", b"0xFFFFF", b"0x10000", b"10.0.0.256",
          b"10.0.0", b"10.0.0.0/8/8", b"02:00:00:00:00", b"02:00:00:00:00:00:00", b"gg:00:00:00:00:00",
          b"in", b"out", b"pass", b"drop", b"rule", b"policy", b"log", b"limit", b"over", b"burst",
          b"per", b"src", b"dst", b"ct", b"frag", b"first", b"later", b"type", b"code", b"flags",
          b"#", b"\t", b"\\", b"\"", b"'", b"\xc3\xa9", b"\x00", b"\xff", b"\r", b"ip", b"ip6", b"tcp",
          b"udp", b"icmp", b"icmpv6", b"sctp", b"proto", b"sport", b"dport", b"ether", b"vlan",
          b"4096", b"1-0", b"5-", b"-5", b"1--2", b"0/s", b"1/h", b"999999999999/s", b"1e3", b"+1",
          b"0b1", b"syn,", b",syn", b"syn/", b"bogus", b"new,", b"established,,related", b"a" * 300,
          b"9" * 40, b"1-65536", b"echo-requestx", b"256"]


def mutate_once(rnd, data):
    kinds = ["flip", "flip", "del_byte", "del_range", "ins_byte", "dup_line", "del_line",
             "swap_lines", "del_token", "dup_token", "swap_tokens", "rep_token", "rep_token",
             "ins_token", "truncate", "join_lines"]
    k = rnd.choice(kinds)
    lines = data.split(b"\n")
    if k == "flip" and data:
        i = rnd.randrange(len(data))
        c = rnd.randrange(256) if rnd.random() < 0.4 else rnd.choice(b" ,/-:.0123456789abcdefxz#\t")
        return k, data[:i] + bytes([c]) + data[i + 1:]
    if k == "del_byte" and data:
        i = rnd.randrange(len(data))
        return k, data[:i] + data[i + 1:]
    if k == "del_range" and data:
        i = rnd.randrange(len(data))
        return k, data[:i] + data[i + rnd.randint(2, 12):]
    if k == "ins_byte":
        i = rnd.randrange(len(data) + 1)
        return k, data[:i] + bytes([rnd.randrange(256)]) + data[i:]
    if k == "truncate" and data:
        return k, data[:rnd.randrange(len(data))]
    if k == "dup_line":
        i = rnd.randrange(len(lines))
        lines.insert(rnd.randrange(len(lines) + 1), lines[i])
        return k, b"\n".join(lines)
    if k == "del_line":
        del lines[rnd.randrange(len(lines))]
        return k, b"\n".join(lines)
    if k == "swap_lines" and len(lines) > 1:
        i, j = rnd.sample(range(len(lines)), 2)
        lines[i], lines[j] = lines[j], lines[i]
        return k, b"\n".join(lines)
    if k == "join_lines" and len(lines) > 1:
        i = rnd.randrange(len(lines) - 1)
        lines[i:i + 2] = [lines[i] + rnd.choice([b" ", b"", b"\t"]) + lines[i + 1]]
        return k, b"\n".join(lines)
    # token mutations on one line
    li = rnd.randrange(len(lines))
    toks = lines[li].split(b" ")
    ti = rnd.randrange(len(toks))
    if k == "del_token":
        del toks[ti]
    elif k == "dup_token":
        toks.insert(ti, toks[ti])
    elif k == "swap_tokens" and len(toks) > 1:
        j = rnd.randrange(len(toks))
        toks[ti], toks[j] = toks[j], toks[ti]
    elif k == "rep_token":
        toks[ti] = rnd.choice(TOKENS)
    else:
        k = "ins_token"
        toks.insert(ti, rnd.choice(TOKENS))
    lines[li] = b" ".join(toks)
    return k, b"\n".join(lines)


ERR_RE = re.compile(rb"^(.*?):(\d+):(\d+): \S")


def mutate(a):
    xwall, d, count, seed = a[0], a[1], int(a[2]), int(a[3])
    L = "c/mutate"
    rnd = random.Random(seed)
    base_path = os.path.join(d, "base.rules")
    with open(base_path, "w") as f:
        f.write(BASE)

    def xw(*args):
        return run([xwall] + list(args), timeout=20)

    def live():
        rc1, s, e1 = xw("status", "--json")
        rc2, l, e2 = xw("rule", "list")
        if rc1 or rc2:
            return None, "status exit %d, rule list exit %d: %s %s" % (rc1, rc2, one(e1), one(e2))
        try:
            return (json.loads(s)["generation"], l), ""
        except (ValueError, KeyError):
            return None, "status --json unreadable: %s" % one(s)

    rc, o, e = xw("apply", base_path)
    if not check(L, rc == 0, "the base rule file applies", one(e)):
        return
    base_state, det = live()
    if not check(L, base_state is not None, "status and rule list work", det):
        return
    base_list = base_state[1]
    mdir = os.path.join(d, "mut")
    os.makedirs(mdir, exist_ok=True)
    stats = {"accepted": 0, "rejected": 0}
    kinds = {}
    bad = []
    t0 = time.time()
    for n in range(count):
        data = BASE.encode()
        applied = []
        for _ in range(rnd.choice([1, 1, 1, 2, 3])):
            k, data = mutate_once(rnd, data)
            applied.append(k)
        path = os.path.join(mdir, "m%04d.rules" % n)
        with open(path, "wb") as f:
            f.write(data)
        before = base_state
        rc, o, e = xw("apply", path)
        label = "mutant %d (%s, %r)" % (n, "+".join(applied), data[:2000])
        if rc == 0:
            stats["accepted"] += 1
            rr, o2, e2 = xw("apply", base_path)
            st, det = live()
            if rr != 0 or st is None or st[1] != base_list:
                bad.append("%s: accepted; re-applying the base failed: exit %d %s %s" % (
                    label, rr, one(e2), det))
                break
            base_state = st
            continue
        if rc != 1:
            bad.append("%s: exit %d (%s), stderr: %s" % (
                label, rc, "killed by signal %d" % -rc if rc < 0 else
                "timed out" if rc == 124 else "expected 0 or 1", one(e)))
            st, det = live()
            if st is None:
                break
            base_state = st
            continue
        stats["rejected"] += 1
        first = e.split(b"\n")[0]
        m = ERR_RE.match(first)
        problem = None
        if not m:
            problem = "exit 1 but the message is not FILE:LINE:COL: ... : %s" % one(e)
        elif m.group(1) != path.encode():
            problem = "message names %r, not the file %r: %s" % (m.group(1), path, one(e))
        else:
            ln, col = int(m.group(2)), int(m.group(3))
            flines = data.split(b"\n")
            if not 1 <= ln <= len(flines):
                problem = "line %d outside the file's %d lines: %s" % (ln, len(flines), one(e))
            elif not 1 <= col <= len(flines[ln - 1]) + 1:
                problem = "column %d outside line %d (%d bytes): %s" % (
                    col, ln, len(flines[ln - 1]), one(e))
        st, det = live()
        if st is None:
            problem = (problem + "; " if problem else "") + "afterwards: " + det
        elif st != before:
            problem = (problem + "; " if problem else "") + \
                "live state changed: generation %s -> %s, rule list %s" % (
                    before[0], st[0], "unchanged" if st[1] == before[1] else "changed")
        if problem:
            bad.append("%s: %s" % (label, problem))
        else:
            msg = first[len(m.group(0)) - 1:].decode("utf-8", "replace")
            msg = re.sub(r"'[^']*'|\d+", "_", msg)
            kinds[msg] = kinds.get(msg, 0) + 1
        if st is not None:
            base_state = st
    dt = time.time() - t0
    check(L, not bad and stats["accepted"] + stats["rejected"] == count,
          "%d mutated rule files (%.0f s, seed %d): %d rejected with exit 1, a FILE:LINE:COL: "
          "message inside the file and the live state (generation, rule list) unchanged; %d "
          "were still valid (exit 0, original re-applied); no other exit code, no signal, no hang" % (
              count, dt, seed, stats["rejected"], stats["accepted"]),
          "%d bad: %s" % (len(bad), " || ".join(bad[:4])))
    out("c/mutate: %d distinct error messages (numbers and quoted text blanked), the most "
        "frequent: %s" % (len(kinds), "; ".join("%s (%d)" % kv for kv in sorted(
            kinds.items(), key=lambda kv: -kv[1])[:6])))
    check(L, stats["rejected"] >= count // 2,
          "most mutants are invalid (%d of %d), so the error paths were exercised" % (stats["rejected"], count))
    rc, o, e = xw("rule", "list")
    check(L, rc == 0 and o == base_list, "the live rule set is the original at the end", one(e))


# ------------------------------------------------------------ (b) concurrency
def conc_rules():
    """(prio, dport, verdict) of the rules the four adders add"""
    return [(k * 100 + i, 10000 + k * 100 + i, "drop" if i % 2 == 0 else "pass")
            for k in range(1, 5) for i in range(1, 51)]


def concpcap(a):
    from scapy.all import Ether, IP, UDP, wrpcap
    wrpcap(a[0], [Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") /
                  IP(src="10.9.0.1", dst="10.9.0.2") / UDP(sport=5000, dport=d) / b"conc"
                  for p, d, v in conc_rules()])


def conccheck(a):
    L = "b/concurrent"
    listing, status, test, fails, secs = open(a[0]).read(), a[1], a[2], a[3], float(a[4])
    want = conc_rules()
    errs = open(fails).read().split("\n") if os.path.exists(fails) else []
    errs = [e for e in errs if e.strip()]
    check(L, not errs, "4 processes x 50 `xwall rule add` in parallel: all %d exited 0 (%.1f s)" % (
        len(want), secs), "; ".join(errs[:5]))
    prios = []
    texts = {}
    for line in listing.splitlines():
        m = re.match(r"rule (\d+) ", line)
        if m:
            prios.append(int(m.group(1)))
            texts[int(m.group(1))] = line
    wp = sorted(p for p, d, v in want)
    lost = sorted(set(wp) - set(prios))
    extra = sorted(set(prios) - set(wp))
    dup = sorted(p for p in set(prios) if prios.count(p) > 1)
    wrong = [texts[p] for p, d, v in want if p in texts and
             texts[p] != "rule %d in proto udp dport %d %s" % (p, d, v)]
    check(L, not lost and not extra and not dup and not wrong and len(prios) == len(want),
          "rule list holds exactly the %d rules, each once: %d listed, %d lost, %d unexpected, "
          "%d duplicated, %d with wrong text" % (len(want), len(prios), len(lost), len(extra),
                                                  len(dup), len(wrong)),
          "lost %s extra %s dup %s wrong %s" % (lost[:10], extra[:10], dup[:10], wrong[:3]))
    try:
        st = json.load(open(status))
    except ValueError:
        st = {}
    check(L, st.get("rules") == len(want), "status --json counts %s rules" % st.get("rules"))
    got = {}
    for line in open(test):
        if line.strip():
            j = json.loads(line)
            got[j["index"]] = (j["verdict"], j["rule"])
    bad = [(i, got.get(i), (v, p)) for i, (p, d, v) in enumerate(want) if got.get(i) != (v, p)]
    check(L, not bad and len(got) == len(want),
          "the datapath decides each of the %d probe frames by its own rule (%d right, %d wrong)" % (
              len(want), len(want) - len(bad), len(bad)),
          "index, got, expected: %s" % bad[:5])


# ---------------------------------------------------------------- (d) traffic
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def send(a):
    iface, smac, dmac, src, dst = a[0], mac(a[1]), mac(a[2]), a[3], a[4]
    sport, dport, pps, stop = int(a[5]), int(a[6]), float(a[7]), a[8]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    hdr_ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 8 + 16, 0, 0, 64, 17, 0,
                         socket.inet_aton(src), socket.inet_aton(dst))
    ip = hdr_ip[:10] + struct.pack("!H", csum(hdr_ip)) + hdr_ip[12:]
    head = dmac + smac + b"\x08\x00" + ip + struct.pack("!HHHH", sport, dport, 8 + 16, 0)
    batch = 4
    gap = batch / pps
    n = 0
    t0 = time.perf_counter()
    tick = 0
    while not os.path.exists(stop):
        for _ in range(batch):
            f = head + (b"XWM%06d" % (n % 1000000)).ljust(16, b".")
            while True:
                try:
                    s.send(f)
                    break
                except OSError as e:
                    if e.errno not in (11, 105):   # EAGAIN, ENOBUFS
                        raise
                    time.sleep(0.0005)
            n += 1
        tick += 1
        d = t0 + tick * gap - time.perf_counter()
        if d > 0:
            time.sleep(d)
    print(json.dumps({"sent": n, "duration": time.perf_counter() - t0}))


def dcheck(a):
    L = "d/traffic"
    s0, s1 = json.load(open(a[0])), json.load(open(a[1]))
    rx, snd = json.load(open(a[2])), json.load(open(a[3]))
    applies, failed, secs = int(a[4]), int(a[5]), float(a[6])

    def rule(s, p):
        for r in s["rules"]:
            if r["prio"] == p:
                return r["packets"]
        return None

    def dv(k, name):
        return s1[k][name]["packets"] - s0[k][name]["packets"]

    sent = snd["sent"]
    r20_0, r20 = rule(s0, 20), rule(s1, 20)
    r10_last = rule(s1, 10)
    d20 = (r20 or 0) - (r20_0 or 0)
    vpass, vdrop = dv("verdicts", "pass"), dv("verdicts", "drop")
    rrule, rpol = dv("reasons", "rule"), dv("reasons", "policy")
    other = {k: dv("reasons", k) for k in s1["reasons"] if k not in ("rule", "policy")}
    marks = {k: v for k, v in rx["markers"].items() if k.startswith("XWM")}
    arrived = sum(marks.values())
    dup = sum(1 for v in marks.values() if v > 1)
    out("d/traffic: %d applies in %.1f s (%.1f ms each) while %d marker frames were sent in %.1f s "
        "(%.0f pps)" % (applies, secs, secs * 1000 / max(applies, 1), sent, snd["duration"],
                        sent / max(snd["duration"], 1e-9)))
    out("d/traffic: counters: rule 20 (B's drop, same text in A and B: one counter throughout) %d; "
        "rule 10 (A's pass, replaced by every apply of B) in the last A period %s; verdicts "
        "pass %d drop %d; reasons rule %d policy %d %s; receiver %d marker frames (%d duplicated, "
        "socket drops %d)" % (d20, r10_last, vpass, vdrop, rrule, rpol,
                              " ".join("%s %d" % kv for kv in sorted(other.items())), arrived, dup,
                              rx["socket_drops"]))
    check(L, failed == 0, "all %d applies (alternating A and B) exited 0" % applies,
          "%d failed" % failed)
    check(L, r20_0 is not None and r20 is not None and r20 >= r20_0,
          "rule 20 kept one counter across the applies (before %s, after %s)" % (r20_0, r20))
    check(L, rrule == sent and rpol == 0 and all(v == 0 for v in other.values()),
          "every one of the %d frames was decided by a rule (reason rule %d, policy %d, others %s)" % (
              sent, rrule, rpol, other))
    check(L, d20 + vpass == sent and vdrop == d20,
          "sent == rule 20 (B's drop) + A's rule 10 passes: %d == %d + %d; drops all by rule 20 "
          "(%d == %d)" % (sent, d20, vpass, vdrop, d20))
    check(L, arrived == vpass and dup == 0 and rx["socket_drops"] == 0,
          "the receiver got exactly the pass-decided frames: %d arrived, %d passed" % (arrived, vpass))
    check(L, d20 > 0 and vpass > 0,
          "both sets decided frames (A passed %d, B dropped %d)" % (vpass, d20))


def main():
    cmd = sys.argv[1]
    {"rulesets": rulesets, "kill": kill, "sweep": sweep, "mutate": mutate,
     "concpcap": concpcap, "conccheck": conccheck,
     "send": send, "dcheck": dcheck}[cmd](sys.argv[2:])
    if cmd not in ("send", "rulesets", "concpcap"):
        sys.exit(1 if FAILS else 0)


if __name__ == "__main__":
    main()
