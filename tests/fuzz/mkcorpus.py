#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Writes the packet seed corpus of fuzz_packets (tests/fuzz/corpus/packets/):
# one raw Ethernet frame per file, chosen to reach each branch of the
# reference classifier's parser.  Run from the repository root:
#   /usr/bin/python3 tests/fuzz/mkcorpus.py
import os
from scapy.all import (ARP, IP, IPv6, TCP, UDP, ICMP, ICMPv6EchoRequest, Dot1Q, Dot1AD,
                       Ether, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, IPv6ExtHdrDestOpt,
                       IPv6ExtHdrRouting, IPOption_RR, Raw, raw)
from scapy.layers.sctp import SCTP

E = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
E6 = Ether(src="02:00:00:00:00:03", dst="33:33:00:00:00:01")
A6, B6 = "2001:db8::1", "2001:db8::2"

frames = {
    "tcp4_syn": E / IP(src="10.0.0.1", dst="192.168.1.5") / TCP(sport=40000, dport=22, flags="S"),
    "udp4_dns": E / IP(src="192.168.1.5", dst="10.0.0.53") / UDP(sport=53, dport=5353) / Raw(b"\0" * 12),
    "icmp4_echo": E / IP(src="10.0.0.1", dst="10.0.0.2") / ICMP(type=8, code=0) / Raw(b"ping"),
    "icmp4_unreach": E / IP(src="10.0.0.2", dst="10.0.0.1") / ICMP(type=3, code=3) /
        IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=1234, dport=53),
    "ip4_options": E / IP(src="172.16.1.1", dst="10.0.0.1", options=[IPOption_RR()]) / TCP(dport=80, flags="A"),
    "ip4_frag_first": E / IP(src="10.0.0.1", dst="10.0.0.2", flags="MF") / UDP(sport=1, dport=2) / Raw(b"x" * 16),
    "ip4_frag_later": E / IP(src="10.0.0.1", dst="10.0.0.2", frag=100, proto=17) / Raw(b"y" * 16),
    "sctp4": E / IP(src="10.9.9.9", dst="10.0.0.1") / SCTP(sport=5000, dport=9),
    "tcp6_ext": E6 / IPv6(src=A6, dst=B6) / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() /
        TCP(sport=1025, dport=443, flags="SA"),
    "icmp6_echo": E6 / IPv6(src="fe80::1", dst="ff02::1") / ICMPv6EchoRequest(),
    "ip6_routing_frag_first": E6 / IPv6(src=A6, dst=B6) / IPv6ExtHdrRouting(addresses=[]) /
        IPv6ExtHdrFragment(offset=0, m=1, nh=58) / ICMPv6EchoRequest(),
    "ip6_frag_later": E6 / IPv6(src=A6, dst=B6) / IPv6ExtHdrFragment(offset=10, m=0, nh=17) / Raw(b"z" * 8),
    "qinq_udp": Ether(src="02:00:00:00:00:05", dst="ff:ff:ff:ff:ff:ff") / Dot1AD(vlan=100) /
        Dot1Q(vlan=200) / IP(src="10.0.0.1", dst="10.0.0.255") / UDP(sport=68, dport=67),
    "vlan_ip6_udp": E / Dot1Q(vlan=0) / IPv6(src=A6, dst="fe80::2") / UDP(sport=53, dport=1500),
    "arp": Ether(src="02:00:00:00:00:01", dst="ff:ff:ff:ff:ff:ff") / ARP(pdst="10.0.0.2"),
}

out = "tests/fuzz/corpus/packets"
os.makedirs(out, exist_ok=True)
for name, pkt in frames.items():
    with open(os.path.join(out, name + ".bin"), "wb") as f:
        f.write(raw(pkt))

# Broken frames, cut from the ones above.
tcp = raw(frames["tcp4_syn"])
with open(os.path.join(out, "tcp4_truncated.bin"), "wb") as f:
    # valid IPv4 header (total length 30) with 10 bytes of TCP: no ports
    f.write(raw(E / IP(src="10.0.0.1", dst="192.168.1.5", proto=6, len=30) / Raw(tcp[34:44])))
with open(os.path.join(out, "short.bin"), "wb") as f:
    f.write(tcp[:10])                      # shorter than an Ethernet header
v6 = bytearray(raw(frames["icmp6_echo"]))
v6[14 + 4:14 + 6] = (1000).to_bytes(2, "big")  # payload length beyond the frame
with open(os.path.join(out, "ip6_bad_plen.bin"), "wb") as f:
    f.write(bytes(v6))
