#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Helpers of tests/e2e/import.sh (python3 with scapy).

  import.py gen RULESET SEED N OUT.pcap OUT.json [--dst4 A,B] [--dst6 A]
      N packets aimed at the ruleset: sources drawn from the addresses and
      prefixes it names (and others), ports from the numbers it names (and
      their neighbours), TCP SYNs and other flags, UDP, ICMP, ICMPv6, GRE; every
      IPv4 packet has a unique IP id, every IPv6 packet a unique flow label
      (what the reference's observation chain records).  OUT.json: per packet
      [family, id, summary].
  import.py send IFACE PCAP [--pps N]
      Send the frames of PCAP on IFACE (packet socket).
  import.py compare META.json NFT_S4.json NFT_S6.json PCAP ARRIVED.json
      Per packet: accepted by nftables (its id is in the observation sets)
      vs arrived through xwall.  Prints the mismatches; exit 1 if any, or if
      either verdict never occurs (a test without power).
"""
import json
import random
import re
import socket
import struct
import sys
import time
import ipaddress
import logging

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import Ether, IP, IPv6, TCP, UDP, ICMP, ICMPv6EchoRequest, ICMPv6EchoReply, \
    ICMPv6ND_NS, GRE, Raw  # noqa: E402
from scapy.utils import RawPcapReader, wrpcap  # noqa: E402


def candidates(text):
    v4, v6, ports = [], [], set()
    for m in re.finditer(r"(?<![\w.:])(\d+\.\d+\.\d+\.\d+)(?:/(\d+))?", text):
        try:
            v4.append(ipaddress.ip_network(m.group(0), strict=False))
        except ValueError:
            pass
    for m in re.finditer(r"(?<![\w:])([0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{0,4}){2,7})(?:/(\d+))?", text):
        try:
            v6.append(ipaddress.ip_network(m.group(0), strict=False))
        except ValueError:
            pass
    for m in re.finditer(r"(?<![\w.:/])(\d{1,5})(?:[-:](\d{1,5}))?(?![\w.:/])", text):
        for g in m.groups():
            if g and 0 < int(g) < 65536:
                p = int(g)
                ports.update(q for q in (p - 1, p, p + 1) if 0 < q < 65536)
    return v4, v6, sorted(ports)


def host_in(rnd, net):
    if net.num_addresses <= 2:
        return str(net.network_address)
    return str(net.network_address + rnd.randrange(1, net.num_addresses - 1))


def gen(a):
    text = open(a.ruleset).read()
    rnd = random.Random(a.seed)
    v4, v6, ports = candidates(text)
    martian4 = [ipaddress.ip_network(n) for n in ("0.0.0.0/8", "127.0.0.0/8", "224.0.0.0/3")]
    dst4 = a.dst4.split(",")
    v4 = [n for n in v4 if not any(n.overlaps(m) for m in martian4) and str(n.network_address) not in dst4]
    v6 = [n for n in v6 if not n.is_multicast and not n.is_loopback and n.network_address != ipaddress.ip_address(a.dst6)]
    v4 += [ipaddress.ip_network("100.64.0.0/10"), ipaddress.ip_network("203.0.113.0/24")]
    v6 += [ipaddress.ip_network("2001:db8:ffff::/48")]
    ports = ports or [22]
    frames, meta = [], []
    eth = Ether(src="02:00:00:00:0a:01", dst=a.dmac)
    for n in range(a.count):
        six = rnd.random() < 0.3
        if six:
            l3 = IPv6(src=host_in(rnd, rnd.choice(v6)), dst=a.dst6, fl=n + 1)
        else:
            l3 = IP(src=host_in(rnd, rnd.choice(v4)), dst=rnd.choice(dst4), id=n + 1)
        k = rnd.random()
        port = rnd.choice(ports) if rnd.random() < 0.8 else rnd.randint(1, 65535)
        sport = rnd.choice(ports) if rnd.random() < 0.3 else rnd.randint(1024, 65535)
        if k < 0.45:
            flags = rnd.choice(["S"] * 12 + ["SA", "A", "F", "R", "SR", "FA", "PA"])
            l4 = TCP(sport=sport, dport=port, flags=flags, seq=rnd.randrange(1 << 32))
            desc = "tcp %d>%d %s" % (sport, port, flags)
        elif k < 0.75:
            l4 = UDP(sport=sport, dport=port) / Raw(b"x" * 8)
            desc = "udp %d>%d" % (sport, port)
        elif k < 0.93:
            if six:
                t = rnd.choice(["req", "rep", "ns"])
                l4 = {"req": ICMPv6EchoRequest(id=n), "rep": ICMPv6EchoReply(id=n),
                      "ns": ICMPv6ND_NS(tgt=a.dst6)}[t]
                if t == "ns":
                    l3.hlim = 255
                desc = "icmpv6 " + t
            else:
                t = rnd.choice([8, 8, 0, 13, 17])
                l4 = ICMP(type=t, id=n)
                desc = "icmp type %d" % t
        else:
            l4 = GRE() / Raw(b"g" * 8)
            desc = "gre"
        frames.append(eth / l3 / l4)
        meta.append([6 if six else 4, n + 1, "%s %s > %s %s" % ("ip6" if six else "ip", l3.src, l3.dst, desc)])
    wrpcap(a.out, frames)
    json.dump(meta, open(a.meta, "w"))


def send(a):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.iface, 0))
    gap = 1.0 / a.pps
    t0 = time.monotonic()
    for n, (data, _) in enumerate(RawPcapReader(a.pcap)):
        s.send(bytes(data))
        d = t0 + (n + 1) * gap - time.monotonic()
        if d > 0:
            time.sleep(d)


def set_ids(path):
    ids = set()
    for o in json.load(open(path))["nftables"]:
        for e in o.get("set", {}).get("elem", []):
            ids.add(e if isinstance(e, int) else e.get("elem", {}).get("val"))
    return ids


def compare(a):
    meta = json.load(open(a.meta))
    s4, s6 = set_ids(a.s4), set_ids(a.s6)
    arrived = {}
    for h in json.load(open(a.arrived)):
        b = bytes.fromhex(h)
        arrived[b] = arrived.get(b, 0) + 1
    frames = [bytes(d) for d, _ in RawPcapReader(a.pcap)]
    bad, acc, drop = [], 0, 0
    for (fam, pid, desc), fr in zip(meta, frames):
        ref = pid in (s4 if fam == 4 else s6)
        xw = arrived.get(fr, 0) > 0
        acc += ref
        drop += not ref
        if ref != xw:
            bad.append("  packet id %d: %s: nftables %s, xwall %s" % (
                pid, desc, "accepts" if ref else "drops", "passes" if xw else "drops"))
    print("%d packets: nftables accepts %d, drops %d; %d disagree" % (len(meta), acc, drop, len(bad)))
    for b in bad[:15]:
        print(b)
    if bad or not acc or not drop:
        return 1
    return 0


def main():
    import argparse
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("gen")
    p.add_argument("ruleset")
    p.add_argument("seed", type=int)
    p.add_argument("count", type=int)
    p.add_argument("out")
    p.add_argument("meta")
    p.add_argument("--dst4", default="10.99.0.2")
    p.add_argument("--dst6", default="fd99::2")
    p.add_argument("--dmac", required=True)
    p = sub.add_parser("send")
    p.add_argument("iface")
    p.add_argument("pcap")
    p.add_argument("--pps", type=float, default=2000)
    p = sub.add_parser("compare")
    p.add_argument("meta")
    p.add_argument("s4")
    p.add_argument("s6")
    p.add_argument("pcap")
    p.add_argument("arrived")
    a = ap.parse_args()
    return {"gen": gen, "send": send, "compare": compare}[a.cmd](a) or 0


if __name__ == "__main__":
    sys.exit(main())
