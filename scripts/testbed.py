#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Helpers of scripts/testbed.sh (python3 with scapy, for its pcap reader).

  testbed.py prep IN.pcap DIR [--mtu N]
      Split the capture into what can be replayed on a veth pair and what
      cannot: DIR/replay.pcap holds the replayable frames (Ethernet, whole,
      at least an Ethernet header, at most MTU + 14 bytes), DIR/plan.json
      says for each packet of IN (index from 0) either its place in
      replay.pcap or why it is not replayed.
  testbed.py rewritten DIR SMAC DMAC
      Check that tcprewrite's DIR/rewritten.pcap has every frame of
      DIR/replay.pcap, changed only in the two MAC addresses; frames it
      changed otherwise are rewritten exactly; prints how many.
  testbed.py rx IFACE OUT.json --ready FILE
      Record every frame IFACE receives until SIGTERM, with the VLAN tag the
      kernel took off put back (PACKET_AUXDATA), as hex in OUT.json.
  testbed.py report DIR [--json]
      Per packet: arrived or not, xwall test's prediction and rule; then the
      stats and the log events.  Exit 1 if any arrival differs from the
      prediction.
"""
import argparse
import json
import os
import signal
import socket
import struct
import sys
import time

from scapy.utils import RawPcapReader

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_AUXDATA = 8
PACKET_OUTGOING = 4
TP_STATUS_VLAN_VALID = 1 << 4
TP_STATUS_VLAN_TPID_VALID = 1 << 6
LINKTYPES = {0: "NULL", 1: "EN10MB", 101: "RAW", 113: "LINUX_SLL", 276: "LINUX_SLL2",
             105: "IEEE802_11", 127: "IEEE802_11_RADIO", 12: "RAW", 14: "RAW", 9: "PPP",
             50: "PPP_HDLC", 104: "C_HDLC", 228: "IPV4", 229: "IPV6"}


def passes(verdict):
    """An audited packet passes (counted and logged as audit)."""
    return verdict in ("pass", "audit")


def read_pcap(path):
    r = RawPcapReader(path)
    out = []
    for data, meta in r:
        out.append((bytes(data), meta.caplen if hasattr(meta, "caplen") else meta[2],
                    meta.wirelen if hasattr(meta, "wirelen") else meta[3]))
    lt = r.linktype
    r.close()
    return lt, out


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for n, fr in enumerate(frames):
            # one packet per millisecond: timestamps only order them
            f.write(struct.pack("<IIII", n // 1000, (n % 1000) * 1000, len(fr), len(fr)))
            f.write(fr)


def prep(a):
    lt, pkts = read_pcap(a.pcap)
    plan, frames = [], []
    for i, (data, caplen, wirelen) in enumerate(pkts):
        p = {"index": i, "len": wirelen}
        if lt != 1:
            p["skip"] = "link type %s (%d), not Ethernet" % (LINKTYPES.get(lt, "?"), lt)
        elif caplen < wirelen:
            p["skip"] = "truncated in the capture (caplen %d < len %d)" % (caplen, wirelen)
        elif caplen < 14:
            p["skip"] = "shorter than an Ethernet header (%d bytes)" % caplen
        elif caplen > a.mtu + 14:
            p["skip"] = "larger than the MTU (%d bytes > %d + 14)" % (caplen, a.mtu)
        else:
            p["replay"] = len(frames)
            frames.append(data)
        plan.append(p)
    write_pcap(os.path.join(a.dir, "replay.pcap"), frames)
    with open(os.path.join(a.dir, "plan.json"), "w") as f:
        json.dump({"linktype": lt, "packets": plan}, f)
    print(len(frames))


def rewritten(a):
    """tcprewrite (tcpreplay 4.4.3) does more than asked on some frames: it
    sets the IPv4 total length of padded frames to the frame's length and
    leaves some multicast destinations alone.  Such frames are rewritten
    here instead (the MAC addresses only), and counted."""
    smac, dmac = mac(a.smac), mac(a.dmac)
    _, orig = read_pcap(os.path.join(a.dir, "replay.pcap"))
    path = os.path.join(a.dir, "rewritten.pcap")
    _, new = read_pcap(path)
    if len(orig) != len(new):
        sys.exit("testbed: tcprewrite wrote %d frames of %d" % (len(new), len(orig)))
    out, fixed = [], 0
    for (o, _, _), (w, _, _) in zip(orig, new):
        exact = dmac + smac + o[12:]
        if w != exact:
            fixed += 1
        out.append(exact)
    if fixed:
        write_pcap(path, out)
    print(fixed)


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def rx(a):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 << 20)
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    s.bind((a.iface, 0))
    s.settimeout(0.1)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    with open(a.ready, "w") as f:
        f.write("%d\n" % os.getpid())
    frames = []
    while True:
        try:
            data, anc, _, addr = s.recvmsg(262144, socket.CMSG_SPACE(64))
        except socket.timeout:
            if stop:
                break
            continue
        except InterruptedError:
            continue
        if addr[2] == PACKET_OUTGOING:
            continue
        for lvl, typ, cd in anc:
            if lvl == SOL_PACKET and typ == PACKET_AUXDATA and len(cd) >= 20:
                # struct tpacket_auxdata: status, len, snaplen, mac, net, tci, tpid
                status, _, _, _, _, tci, tpid = struct.unpack("IIIHHHH", cd[:20])
                if status & TP_STATUS_VLAN_VALID:
                    if not status & TP_STATUS_VLAN_TPID_VALID:
                        tpid = 0x8100
                    data = data[:12] + struct.pack("!HH", tpid, tci) + data[12:]
        frames.append(data.hex())
    with open(a.out, "w") as f:
        json.dump(frames, f)


def report(a):
    d = a.dir
    plan = json.load(open(os.path.join(d, "plan.json")))["packets"]
    _, sent = read_pcap(os.path.join(d, "rewritten.pcap"))
    pred = [json.loads(line) for line in open(os.path.join(d, "predicted.json")) if line.strip()]
    arrivals = json.load(open(os.path.join(d, "arrived.json")))
    if len(pred) != len(sent):
        sys.exit("testbed: xwall test gave %d verdicts for %d frames" % (len(pred), len(sent)))
    # Identical frames cannot be told apart on arrival: count arrivals per
    # frame content and give them to the copies that were predicted to pass.
    arrived_count = {}
    for h in arrivals:
        b = bytes.fromhex(h)
        arrived_count[b] = arrived_count.get(b, 0) + 1
    groups = {}
    for j, (fr, _, _) in enumerate(sent):
        groups.setdefault(fr, []).append(j)
    arrived = [False] * len(sent)
    for fr, idx in groups.items():
        k = arrived_count.pop(fr, 0)
        passing = [j for j in idx if passes(pred[j]["verdict"])]
        order = passing + [j for j in idx if not passes(pred[j]["verdict"])]
        for j in order[:k]:
            arrived[j] = True
    unexpected = sum(arrived_count.values())
    rows, mismatches, skipped = [], 0, 0
    for p in plan:
        row = {"index": p["index"]}
        j = p.get("replay")
        if j is None:
            skipped += 1
            row.update(arrived=False, predicted=None, rule=None, replayed=False, why=p["skip"])
        else:
            pr = pred[j]
            row.update(arrived=arrived[j], predicted=pr["verdict"], rule=pr["rule"],
                       reason=pr["reason"], replayed=True)
            row["match"] = arrived[j] == passes(pr["verdict"])
            if not row["match"]:
                mismatches += 1
        rows.append(row)
    stats = json.load(open(os.path.join(d, "stats.json")))
    events = []
    if os.path.exists(os.path.join(d, "events.json")):
        for line in open(os.path.join(d, "events.json")):
            if line.strip():
                try:
                    events.append(json.loads(line))
                except ValueError:
                    pass
    summary = {"packets": len(plan), "replayed": len(sent), "skipped": skipped,
               "arrived": sum(arrived), "mismatches": mismatches,
               "unexpected_arrivals": unexpected,
               "tcprewrite_fixed": int(open(os.path.join(d, "fixed")).read())}
    if a.json:
        for row in rows:
            print(json.dumps(row))
        print(json.dumps({"summary": summary, "stats": stats, "events": events}))
    else:
        print("%-6s %-8s %-9s %-8s %s" % ("index", "arrived", "predicted", "rule", "note"))
        for row in rows:
            if not row["replayed"]:
                print("%-6d %-8s %-9s %-8s not replayed: %s" % (row["index"], "-", "-", "-", row["why"]))
                continue
            rule = "-" if row["rule"] is None else str(row["rule"])
            note = "" if row["match"] else "MISMATCH: %s but predicted %s" % (
                "arrived" if row["arrived"] else "did not arrive", row["predicted"])
            if not note and row["reason"] != "rule":
                note = row["reason"]
            print("%-6d %-8s %-9s %-8s %s" % (row["index"], "yes" if row["arrived"] else "no",
                                              row["predicted"], rule, note))
        print()
        print("stats:")
        for r in stats.get("rules", []):
            print("  rule %-8s %10d packets %12d bytes" % (r["prio"], r["packets"], r["bytes"]))
        for k in ("verdicts", "reasons"):
            v = stats.get(k, {})
            print("  %s: %s" % (k, ", ".join("%s %s" % (n, c if not isinstance(c, dict) else
                                                          c.get("packets", c)) for n, c in v.items())))
        print("events: %d" % len([e for e in events if "rule" in e]))
        for e in events:
            print("  " + json.dumps(e))
        print()
        print("%d packets: %d replayed, %d not replayed, %d arrived, %d mismatches%s" % (
            len(plan), len(sent), skipped, sum(arrived), mismatches,
            ", %d unexpected frames arrived" % unexpected if unexpected else ""))
        if summary["tcprewrite_fixed"]:
            print("(%d frames that tcprewrite changed beyond their MAC addresses were "
                  "rewritten exactly instead)" % summary["tcprewrite_fixed"])
    if mismatches:
        print("testbed: %d packets did not do what xwall test predicted" % mismatches, file=sys.stderr)
        return 1
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prep")
    p.add_argument("pcap")
    p.add_argument("dir")
    p.add_argument("--mtu", type=int, default=1500)
    p = sub.add_parser("rewritten")
    p.add_argument("dir")
    p.add_argument("smac")
    p.add_argument("dmac")
    p = sub.add_parser("rx")
    p.add_argument("iface")
    p.add_argument("out")
    p.add_argument("--ready", required=True)
    p = sub.add_parser("report")
    p.add_argument("dir")
    p.add_argument("--json", action="store_true")
    a = ap.parse_args()
    return {"prep": prep, "rewritten": rewritten, "rx": rx, "report": report}[a.cmd](a) or 0


if __name__ == "__main__":
    sys.exit(main())
