#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Write the test pcap of the end-to-end tests and the demo, plus a manifest.

    mkpcap.py --dst-mac MAC [--src-mac MAC] --out FILE.pcap [--manifest FILE.json]

Every frame carries a unique marker b"XWM%06d" % index in its bytes (for a
non-first fragment: in the fragment's own data), so a capture on the
receiving side tells exactly which frames got through.  The manifest is a
JSON list with one object per frame that describes it by the fields the rules
of the tests look at (written from the values used to build the frame, not
parsed back from its bytes), for an expectation that does not depend on any
packet parser:

  index, marker, desc, len, smac, dmac, vlan (outermost id or null),
  type ("ip", "ip6", "arp"), src, dst, proto, sport, dport, icmp_type,
  frag (null, "first" or "later")

The destination MAC should be the receiving veth's, so that its stack takes
the frames as its own; the source MAC is a made-up one by default, distinct
from the test bed's own interfaces, so that rules can tell replayed frames
from the kernel's own traffic (IPv6 ND/MLD).
Needs scapy: run it with /usr/bin/python3.
"""
import argparse
import json
import logging
import struct
import sys

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import (ARP, Dot1Q, Ether, ICMP, ICMPv6EchoReply,  # noqa: E402
                       ICMPv6EchoRequest, IP, IPv6, IPv6ExtHdrFragment, Raw,
                       TCP, UDP, wrpcap)

BAD_MAC = "02:00:00:00:0b:ad"   # the "bad" station that rules drop
DST4, DST6 = "10.199.0.2", "fd00:199::2"
# Sources: .1.x is the "trusted" subnet of the rule sets, .2.x and .3.x not.
S4 = {"good": "10.199.1.5", "other": "10.199.2.7", "evil": "10.199.3.9"}
S6 = {"good": "fd00:199:1::5", "other": "fd00:199:2::7", "evil": "fd00:199:3::9"}


def marker(i, size=16):
    """The unique marker of frame i, padded to size bytes."""
    m = b"XWM%06d" % i
    return m + b"." * (size - len(m))


class Builder:
    def __init__(self, smac, dmac):
        self.smac, self.dmac = smac, dmac
        self.frames, self.manifest = [], []

    def add(self, desc, l3, info, smac=None, vlan=None):
        """Append one frame: l3 is the scapy packet from the IP/ARP layer up."""
        i = len(self.frames)
        smac = smac or self.smac
        eth = Ether(src=smac, dst=self.dmac)
        pkt = eth / Dot1Q(vlan=vlan) / l3 if vlan is not None else eth / l3
        raw = bytes(pkt)
        assert marker(i)[:9] in raw, "marker missing in frame %d" % i
        rec = {"index": i, "marker": "XWM%06d" % i, "desc": desc, "len": len(raw),
               "smac": smac, "dmac": self.dmac, "vlan": vlan, "type": None,
               "src": None, "dst": None, "proto": None, "sport": None,
               "dport": None, "icmp_type": None, "frag": None}
        rec.update(info)
        self.frames.append(pkt)
        self.manifest.append(rec)

    @property
    def next(self):
        return len(self.frames)

    # --- one helper per kind of frame --------------------------------------
    def tcp4(self, src, dport, sport=None, **kw):
        i, sport = self.next, sport or 40000 + self.next
        l3 = IP(src=src, dst=DST4) / TCP(sport=sport, dport=dport, flags="S") / Raw(marker(i))
        self.add(kw.pop("desc", "TCP %s -> :%d" % (src, dport)), l3,
                 {"type": "ip", "src": src, "dst": DST4, "proto": 6,
                  "sport": sport, "dport": dport}, **kw)

    def udp4(self, src, dport, sport=None, **kw):
        i, sport = self.next, sport or 40000 + self.next
        l3 = IP(src=src, dst=DST4) / UDP(sport=sport, dport=dport) / Raw(marker(i))
        self.add(kw.pop("desc", "UDP %s -> :%d" % (src, dport)), l3,
                 {"type": "ip", "src": src, "dst": DST4, "proto": 17,
                  "sport": sport, "dport": dport}, **kw)

    def icmp4(self, src, itype, **kw):
        i = self.next
        name = {8: "echo-request", 0: "echo-reply"}[itype]
        l3 = IP(src=src, dst=DST4) / ICMP(type=itype, id=7, seq=i) / Raw(marker(i))
        self.add(kw.pop("desc", "ICMP %s from %s" % (name, src)), l3,
                 {"type": "ip", "src": src, "dst": DST4, "proto": 1,
                  "icmp_type": itype}, **kw)

    def tcp6(self, src, dport, sport=None, **kw):
        i, sport = self.next, sport or 40000 + self.next
        l3 = IPv6(src=src, dst=DST6) / TCP(sport=sport, dport=dport, flags="S") / Raw(marker(i))
        self.add(kw.pop("desc", "TCP %s -> :%d" % (src, dport)), l3,
                 {"type": "ip6", "src": src, "dst": DST6, "proto": 6,
                  "sport": sport, "dport": dport}, **kw)

    def udp6(self, src, dport, sport=None, **kw):
        i, sport = self.next, sport or 40000 + self.next
        l3 = IPv6(src=src, dst=DST6) / UDP(sport=sport, dport=dport) / Raw(marker(i))
        self.add(kw.pop("desc", "UDP %s -> :%d" % (src, dport)), l3,
                 {"type": "ip6", "src": src, "dst": DST6, "proto": 17,
                  "sport": sport, "dport": dport}, **kw)

    def icmp6(self, src, itype, **kw):
        i = self.next
        body = ICMPv6EchoRequest if itype == 128 else ICMPv6EchoReply
        name = {128: "echo-request", 129: "echo-reply"}[itype]
        l3 = IPv6(src=src, dst=DST6) / body(id=7, seq=i, data=marker(i))
        self.add(kw.pop("desc", "ICMPv6 %s from %s" % (name, src)), l3,
                 {"type": "ip6", "src": src, "dst": DST6, "proto": 58,
                  "icmp_type": itype}, **kw)

    def arp(self, src, **kw):
        i = self.next
        # the marker rides in the Ethernet padding after the ARP body
        l3 = ARP(op=1, hwsrc=self.smac, psrc=src, pdst=DST4) / Raw(marker(i))
        self.add(kw.pop("desc", "ARP who-has %s tell %s" % (DST4, src)), l3,
                 {"type": "arp", "src": src, "dst": DST4}, **kw)

    def frag4(self, src, proto, dport, sport=None):
        """A first and a later fragment of one datagram; each has a marker."""
        i, sport = self.next, sport or 40000 + self.next
        name = {6: "TCP", 17: "UDP"}[proto]
        if proto == 17:   # UDP header (8) + 16 bytes = 24 = 3 units of 8
            l4 = struct.pack("!HHHH", sport, dport, 8 + 16 + 16, 0) + marker(i)
        else:             # TCP header (20) + 12 bytes = 32 = 4 units of 8
            l4 = bytes(TCP(sport=sport, dport=dport, flags="S")) + marker(i, 12)
        ipid = 0x4000 + i
        self.add("%s %s -> :%d, first fragment" % (name, src, dport),
                 IP(src=src, dst=DST4, id=ipid, flags="MF", frag=0, proto=proto) / Raw(l4),
                 {"type": "ip", "src": src, "dst": DST4, "proto": proto,
                  "sport": sport, "dport": dport, "frag": "first"})
        j = self.next
        self.add("%s %s, later fragment (offset %d)" % (name, src, len(l4)),
                 IP(src=src, dst=DST4, id=ipid, flags=0, frag=len(l4) // 8, proto=proto)
                 / Raw(marker(j)),
                 {"type": "ip", "src": src, "dst": DST4, "proto": proto, "frag": "later"})

    def frag6(self, src, dport, sport=None):
        """First and later fragment of one UDP datagram over IPv6."""
        i, sport = self.next, sport or 40000 + self.next
        l4 = struct.pack("!HHHH", sport, dport, 8 + 16 + 16, 0) + marker(i)
        fid = 0x6000 + i
        self.add("UDP %s -> :%d, first fragment" % (src, dport),
                 IPv6(src=src, dst=DST6) / IPv6ExtHdrFragment(nh=17, offset=0, m=1, id=fid)
                 / Raw(l4),
                 {"type": "ip6", "src": src, "dst": DST6, "proto": 17,
                  "sport": sport, "dport": dport, "frag": "first"})
        j = self.next
        self.add("UDP %s, later fragment (offset %d)" % (src, len(l4)),
                 IPv6(src=src, dst=DST6) / IPv6ExtHdrFragment(nh=17, offset=len(l4) // 8,
                                                              m=0, id=fid)
                 / Raw(marker(j)),
                 {"type": "ip6", "src": src, "dst": DST6, "proto": 17, "frag": "later"})


def build(smac, dmac):
    b = Builder(smac, dmac)
    # IPv4 TCP to ssh / web, from the trusted subnet and others
    b.tcp4(S4["good"], 22)
    b.tcp4(S4["other"], 22)
    b.tcp4(S4["other"], 80)
    b.tcp4(S4["evil"], 443)
    b.tcp4(S4["evil"], 8080)
    b.tcp4(S4["good"], 3306, sport=1234)
    # IPv4 UDP: dns and not
    b.udp4(S4["good"], 53)
    b.udp4(S4["evil"], 53)
    b.udp4(S4["other"], 123)
    # ICMP echo
    b.icmp4(S4["good"], 8)
    b.icmp4(S4["other"], 0)
    b.icmp4(S4["evil"], 8)
    # IPv6
    b.tcp6(S6["good"], 22)
    b.tcp6(S6["other"], 22)
    b.tcp6(S6["other"], 443)
    b.udp6(S6["good"], 53)
    b.udp6(S6["other"], 5353)
    b.icmp6(S6["other"], 128)
    b.icmp6(S6["evil"], 129)
    # 802.1Q tagged
    b.tcp4(S4["good"], 22, vlan=100, desc="VLAN 100: TCP %s -> :22" % S4["good"])
    b.udp4(S4["other"], 53, vlan=100, desc="VLAN 100: UDP %s -> :53" % S4["other"])
    b.tcp4(S4["other"], 80, vlan=200, desc="VLAN 200: TCP %s -> :80" % S4["other"])
    b.udp6(S6["other"], 53, vlan=200, desc="VLAN 200: UDP %s -> :53" % S6["other"])
    # the bad station
    b.tcp4(S4["good"], 22, smac=BAD_MAC, desc="TCP %s -> :22 from bad MAC" % S4["good"])
    b.icmp4(S4["other"], 8, smac=BAD_MAC, desc="ICMP echo-request from bad MAC")
    # fragments
    b.frag4(S4["good"], 17, 53)
    b.frag4(S4["other"], 6, 22)
    b.frag6(S6["good"], 53)
    # ARP
    b.arp(S4["good"])
    return b


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dst-mac", required=True)
    ap.add_argument("--src-mac", default="02:e2:e0:00:00:0a")
    ap.add_argument("--out", required=True)
    ap.add_argument("--manifest")
    a = ap.parse_args()
    b = build(a.src_mac.lower(), a.dst_mac.lower())
    wrpcap(a.out, b.frames)
    if a.manifest:
        with open(a.manifest, "w") as f:
            json.dump(b.manifest, f, indent=1)
    print("%s: %d frames" % (a.out, len(b.frames)), file=sys.stderr)


if __name__ == "__main__":
    main()
