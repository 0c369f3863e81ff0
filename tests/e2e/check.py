#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Rule sets of the end-to-end tests, an independent model of what they do,
and the comparison of model, `xwall test --pcap`, arrivals and counters.

  check.py rules SET --host-mac MAC
      print SET as an xwall rule file
  check.py verify SET --label L --host-mac MAC --manifest M.json
           --test T.jsonl [--test-private T2.jsonl] --rx RX.json --stats S.json
           [--stats-before S0.json]
      print PASS/FAIL lines; exit 1 if any check failed
  check.py flows --label L --sent SENT.json --rx RX.json --before S0.json
           --after S1.json --switches N
      the checks of the rule-switching scenario (run.sh scen_b)

Each rule below is written twice: as xwall rule text and as a Python
predicate over the manifest of mkpcap.py (the values the frames were built
from).  The predicates follow docs/semantics.md for the handful of
matches used here, without any packet parsing, so they are a second opinion
next to the datapath's own answer (`xwall test --pcap`).

Rule 1 of every set passes the test bed's own traffic (IPv6 ND/MLD sent by the
kernel of namespace A, recognised by A's MAC): the replayed frames use another
source MAC, so rule 1 never decides one of them, and every other counter can
be checked exactly.
"""
import argparse
import ipaddress
import json
import sys

BAD_MAC = "02:00:00:00:0b:ad"


# --- the model: docs/semantics.md on manifest records ---------------------
def is_ip(p): return p["type"] == "ip"
def is_ip6(p): return p["type"] == "ip6"
def later(p): return p["frag"] == "later"
def proto(p, n): return p["type"] in ("ip", "ip6") and p["proto"] == n


def ports_ok(p):
    """ports/flags/icmp need the L4 header: not a non-first fragment"""
    return p["type"] in ("ip", "ip6") and not later(p)


def in_spec(v, spec):
    for part in spec:
        lo, hi = part if isinstance(part, tuple) else (part, part)
        if lo <= v <= hi:
            return True
    return False


def dport(p, *spec):
    return ports_ok(p) and p["proto"] in (6, 17, 132) and in_spec(p["dport"], spec)


def sport(p, *spec):
    return ports_ok(p) and p["proto"] in (6, 17, 132) and in_spec(p["sport"], spec)


def addr_in(a, cidrs):
    ip = ipaddress.ip_address(a)
    return any(ip in ipaddress.ip_network(c) for c in cidrs
               if ipaddress.ip_network(c).version == ip.version)


def src(p, *cidrs): return p["type"] in ("ip", "ip6") and addr_in(p["src"], cidrs)
def dst(p, *cidrs): return p["type"] in ("ip", "ip6") and addr_in(p["dst"], cidrs)
def icmp_type(p, t): return proto(p, 1) and is_ip(p) and ports_ok(p) and p["icmp_type"] == t
def icmp6_type(p, t): return proto(p, 58) and is_ip6(p) and ports_ok(p) and p["icmp_type"] == t


# --- the rule sets: (prio, text, predicate, verdict) ------------------------
def host_rule(host):
    return (1, "ether src %s pass" % host, lambda p: p["smac"] == host, "pass")


SETS = {
    # an allow-list: policy drop
    "allow": ("drop", [
        (10, "ether src %s drop" % BAD_MAC, lambda p: p["smac"] == BAD_MAC, "drop"),
        (15, "vlan 100 drop", lambda p: p["vlan"] == 100, "drop"),
        (20, "frag later drop", later, "drop"),
        (30, "tcp dport 22 src 10.199.1.0/24,fd00:199:1::/48 pass",
         lambda p: proto(p, 6) and dport(p, 22) and src(p, "10.199.1.0/24", "fd00:199:1::/48"),
         "pass"),
        (40, "tcp dport 80,443 pass", lambda p: proto(p, 6) and dport(p, 80, 443), "pass"),
        (50, "udp dport 53 src 10.199.0.0/16 pass",
         lambda p: proto(p, 17) and dport(p, 53) and src(p, "10.199.0.0/16"), "pass"),
        (55, "ip6 udp dport 53 pass", lambda p: is_ip6(p) and proto(p, 17) and dport(p, 53),
         "pass"),
        (60, "icmp type echo-request pass", lambda p: icmp_type(p, 8), "pass"),
        (70, "icmpv6 type echo-request pass", lambda p: icmp6_type(p, 128), "pass"),
        (80, "ether type arp pass", lambda p: p["type"] == "arp", "pass"),
    ]),
    # a deny-list: policy pass
    "deny": ("pass", [
        (10, "tcp dport 22 src 10.199.1.0/24 pass",
         lambda p: proto(p, 6) and dport(p, 22) and src(p, "10.199.1.0/24"), "pass"),
        (20, "tcp dport 22 drop", lambda p: proto(p, 6) and dport(p, 22), "drop"),
        (30, "src 10.199.3.0/24,fd00:199:3::/48 drop",
         lambda p: src(p, "10.199.3.0/24", "fd00:199:3::/48"), "drop"),
        (40, "ip6 proto udp drop", lambda p: is_ip6(p) and proto(p, 17), "drop"),
        (45, "ether type arp drop", lambda p: p["type"] == "arp", "drop"),
        (50, "vlan 200 drop", lambda p: p["vlan"] == 200, "drop"),
        (60, "frag first drop", lambda p: p["frag"] == "first", "drop"),
        (65, "proto tcp frag later drop", lambda p: proto(p, 6) and later(p), "drop"),
        (70, "icmp type echo-reply drop", lambda p: icmp_type(p, 0), "drop"),
        (80, "dst fd00:199::2 icmpv6 type echo-request drop",
         lambda p: dst(p, "fd00:199::2") and icmp6_type(p, 128), "drop"),
        (90, "sport 1000-1999 drop", lambda p: sport(p, (1000, 1999)), "drop"),
    ]),
}


def ruleset(name, host):
    policy, rules = SETS[name]
    return policy, [host_rule(host)] + rules


def model(name, host, manifest):
    """[(verdict, prio or None)] per frame, first match wins."""
    policy, rules = ruleset(name, host)
    out = []
    for p in manifest:
        for prio, _, pred, verdict in rules:
            if pred(p):
                out.append((verdict, prio))
                break
        else:
            out.append((policy, None))
    return out


# --- commands ---------------------------------------------------------------
def cmd_rules(a):
    policy, rules = ruleset(a.set, a.host_mac.lower())
    print("# e2e rule set %r (generated by tests/e2e/check.py)" % a.set)
    print("policy %s" % policy)
    for prio, text, _, _ in rules:
        print("rule %d in %s" % (prio, text))


class Report:
    def __init__(self, label):
        self.label, self.failed = label, 0

    def check(self, ok, what, detail=""):
        print("%s %s: %s%s" % ("PASS" if ok else "FAIL", self.label, what,
                               "" if ok or not detail else "\n     " + detail))
        self.failed += not ok


def stats_delta(after, before):
    """after - before, for the rules of after (missing before: zero)"""
    b = {r["prio"]: r for r in before["rules"]}
    z = {"packets": 0, "bytes": 0}
    return {
        "rules": [{"prio": r["prio"],
                   "packets": r["packets"] - b.get(r["prio"], z)["packets"],
                   "bytes": r["bytes"] - b.get(r["prio"], z)["bytes"]} for r in after["rules"]],
        "reasons": {k: {f: v[f] - before["reasons"].get(k, z)[f] for f in z}
                    for k, v in after["reasons"].items()},
        "verdicts": {k: {f: v[f] - before["verdicts"].get(k, z)[f] for f in z}
                     for k, v in after["verdicts"].items()},
    }


def read_test(path):
    res = [json.loads(line) for line in open(path) if line.strip()]
    return [(r["verdict"], r["rule"]) for r in sorted(res, key=lambda r: r["index"])]


def cmd_verify(a):
    host = a.host_mac.lower()
    manifest = json.load(open(a.manifest))
    exp = model(a.set, host, manifest)
    R = Report(a.label)
    n = len(manifest)

    # 1. the model against the datapath run by BPF_PROG_TEST_RUN
    for path, what in ((a.test, "xwall test --pcap (live datapath)"),
                       (a.test_private, "xwall test --pcap --rules (private instance)")):
        if not path:
            continue
        got = read_test(path)
        bad = [(i, manifest[i]["desc"], exp[i], got[i] if i < len(got) else None)
               for i in range(n) if i >= len(got) or got[i] != exp[i]]
        R.check(len(got) == n and not bad,
                "model vs %s: %d/%d frames agree" % (what, n - len(bad), n),
                "; ".join("#%d %s: model %s, xwall %s" % b for b in bad[:8]))

    # 2. what arrived in B: exactly the frames the model passes, once each
    rx = json.load(open(a.rx))
    seen = rx["markers"]
    want = {manifest[i]["marker"] for i in range(n) if exp[i][0] == "pass"}
    got = {m for m in seen if m.startswith("XWM")}
    dups = sorted(m for m in got if seen[m] != 1)
    missing, extra = sorted(want - got), sorted(got - want)
    R.check(not missing and not extra and not dups and rx["socket_drops"] == 0,
            "arrivals: %d/%d expected markers arrived, %d dropped markers absent"
            % (len(want & got), len(want), n - len(want)),
            "missing %s extra %s duplicated %s socket drops %d"
            % (missing, extra, dups, rx["socket_drops"]))

    # 3. counters: per rule exactly the frames (and bytes) the model gives it;
    # counted from the snapshot taken just before sending (the kernel of A
    # may send before the rule set is in place, under the initial policy)
    st = json.load(open(a.stats))
    if a.stats_before:
        st = stats_delta(st, json.load(open(a.stats_before)))
    live = {r["prio"]: r for r in st["rules"]}
    policy, rules = ruleset(a.set, host)
    bad = []
    for prio, text, _, _ in rules:
        pk = sum(1 for e in exp if e[1] == prio)
        by = sum(manifest[i]["len"] for i in range(n) if exp[i][1] == prio)
        r = live.get(prio)
        if r is None:
            bad.append("rule %d missing from stats" % prio)
        elif prio != 1 and (r["packets"], r["bytes"]) != (pk, by):
            bad.append("rule %d (%s): %d pkts/%d bytes, expected %d/%d"
                       % (prio, text, r["packets"], r["bytes"], pk, by))
    R.check(not bad, "per-rule counters: %d rules, packets and bytes as expected"
            % (len(rules) - 1), "; ".join(bad))

    # 4. reasons and verdicts (rule 1 carries the test bed's own traffic)
    host_pk = live.get(1, {"packets": 0})["packets"]
    n_pol = sum(1 for e in exp if e[1] is None)
    n_rule = n - n_pol
    n_pass = sum(1 for e in exp if e[0] == "pass")
    n_drop = n - n_pass
    rs, vd = st["reasons"], st["verdicts"]
    got = (rs["policy"]["packets"], rs["rule"]["packets"] - host_pk,
           vd["pass"]["packets"] - host_pk, vd["drop"]["packets"],
           rs["malformed"]["packets"] + rs["short"]["packets"] + rs["tail_call"]["packets"])
    want = (n_pol, n_rule, n_pass, n_drop, 0)
    R.check(got == want,
            "reasons/verdicts: policy %d, rule %d, pass %d, drop %d, other 0 "
            "(+%d host frames under rule 1)" % (n_pol, n_rule, n_pass, n_drop, host_pk),
            "got policy %d rule %d pass %d drop %d malformed+short+tail_call %d" % got)
    return 1 if R.failed else 0


def delta(after, before, *path):
    a, b = after, before
    for k in path:
        a, b = a[k], b[k]
    return a - b


def cmd_flows(a):
    """Flow X (udp 7001) is passed by rule 10 in set P and dropped by rule 5,
    which set D adds in front of it; flow Y (udp 7002) is passed by rule 30 in
    both; rule 1 passes the test bed's own frames; the policy is drop.  Rules
    1, 10 and 30 stay (same text) in every set, so their counters run through
    all switches; rule 5's counter restarts each time it is added again
    ("Counters of unchanged rules stay"), so its share is taken from the drop
    verdict counter, which nothing else feeds."""
    R = Report(a.label)
    sent = json.load(open(a.sent))
    rx = json.load(open(a.rx))
    s0, s1 = json.load(open(a.before)), json.load(open(a.after))
    r0 = {r["prio"]: r for r in s0["rules"]}
    r1 = {r["prio"]: r for r in s1["rules"]}
    rule = {p: r1[p]["packets"] - r0.get(p, {"packets": 0})["packets"] for p in (1, 10, 30)}
    nx, ny = sent["X"], sent["Y"]
    seen = rx["markers"]
    xs = sorted(int(m[3:]) for m in seen if m.startswith("XWX"))
    ys = sorted(int(m[3:]) for m in seen if m.startswith("XWY"))
    dups = [m for m, c in seen.items() if c != 1]
    ax = len(xs)

    R.check(a.switches >= 20 and nx > 0 and ny > 0,
            "%d rule-set switches (apply and rule add/del) while sending %d X + %d Y frames"
            % (a.switches, nx, ny))
    R.check(ys == list(range(ny)) and rule[30] == ny and not dups and rx["socket_drops"] == 0,
            "flow Y (always passed): %d/%d arrived once each, rule 30 counted %d"
            % (len(ys), ny, rule[30]),
            "duplicates %s, socket drops %d" % (dups[:5], rx["socket_drops"]))
    R.check(0 < ax < nx and rule[10] == ax and len(set(xs)) == ax and all(x < nx for x in xs),
            "flow X: %d passed and arrived = rule 10 (pass) counted %d; %d dropped"
            % (ax, rule[10], nx - ax))
    pol = delta(s1, s0, "reasons", "policy", "packets")
    other = sum(delta(s1, s0, "reasons", k, "packets") for k in ("malformed", "short", "tail_call"))
    rules_d = delta(s1, s0, "reasons", "rule", "packets")
    drop_d = delta(s1, s0, "verdicts", "drop", "packets")
    pass_d = delta(s1, s0, "verdicts", "pass", "packets")
    R.check(pol == 0 and other == 0 and rules_d == nx + ny + rule[1],
            "every frame decided by a rule: reason rule +%d = %d sent + %d host, policy +%d, "
            "malformed/short/tail_call +%d" % (rules_d, nx + ny, rule[1], pol, other))
    R.check(drop_d == nx - ax and pass_d == ax + ny + rule[1],
            "flow X: rule 10 (pass) %d + rule 5 (drop, = drop verdicts) %d = %d sent"
            % (rule[10], drop_d, nx),
            "pass verdicts +%d (want %d)" % (pass_d, ax + ny + rule[1]))
    # frames are processed in order, so X flips between passing and dropping
    # only at switches: the passed X frames form at most one run per P period
    runs = sum(1 for i, x in enumerate(xs) if i == 0 or xs[i - 1] != x - 1)
    periods = a.switches // 2 + 1
    R.check(runs <= periods, "flow X verdict changes only at switches: %d runs of passed "
            "frames in %d pass periods" % (runs, periods))
    return 1 if R.failed else 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("rules")
    r.add_argument("set", choices=sorted(SETS))
    r.add_argument("--host-mac", required=True)
    v = sub.add_parser("verify")
    v.add_argument("set", choices=sorted(SETS))
    v.add_argument("--label", required=True)
    v.add_argument("--host-mac", required=True)
    v.add_argument("--manifest", required=True)
    v.add_argument("--test", required=True)
    v.add_argument("--test-private")
    v.add_argument("--rx", required=True)
    v.add_argument("--stats", required=True)
    v.add_argument("--stats-before")
    f = sub.add_parser("flows")
    for k in ("label", "sent", "rx", "before", "after"):
        f.add_argument("--" + k, required=True)
    f.add_argument("--switches", type=int, required=True)
    a = ap.parse_args()
    return {"rules": cmd_rules, "verify": cmd_verify, "flows": cmd_flows}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
