#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Packet-socket helpers of the end-to-end tests (no scapy needed).

  pkt.py rx IFACE OUT.json [--ready FILE]
      Count the marker-carrying frames that IFACE receives until SIGTERM or
      SIGINT, then write {"markers": {MARKER: count}, "frames": N,
      "socket_drops": N} to OUT.json.  XDP runs before the packet taps, so a
      frame the firewall dropped is never seen here.  FILE is created once the
      socket is bound (the caller waits for it before sending).

  pkt.py send IFACE --dst-mac MAC --src-mac MAC --count N --rate PPS
      Send N frames alternating between two UDP flows, X (to port 7001,
      markers XWX000000, XWX000001, ...) and Y (to port 7002, XWY...), at a
      steady rate, from 10.199.0.1 to 10.199.0.2.  Prints {"X": n, "Y": n}.

Markers are b"XW" + a letter + six digits anywhere in the frame.
"""
import argparse
import json
import os
import re
import signal
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SOL_PACKET = 263
PACKET_STATISTICS = 6
MARK_RE = re.compile(rb"XW[A-Z]\d{6}")


def rx(a):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
    s.bind((a.iface, 0))
    counts, frames = {}, 0
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(time.monotonic()))
    signal.signal(signal.SIGINT, lambda *_: stop.append(time.monotonic()))
    s.settimeout(0.1)
    if a.ready:
        with open(a.ready, "w") as f:
            f.write("%d\n" % os.getpid())
    while True:
        try:
            data, addr = s.recvfrom(65535)
        except socket.timeout:
            if stop:
                break
            continue
        except InterruptedError:
            continue
        if addr[2] != PACKET_OUTGOING:
            frames += 1
            for m in MARK_RE.findall(data):
                k = m.decode()
                counts[k] = counts.get(k, 0) + 1
        if stop and time.monotonic() - stop[0] > 1.0:
            break   # stopped a while ago and traffic keeps coming: enough
    st = s.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)
    _, drops = struct.unpack("II", st)
    with open(a.out, "w") as f:
        json.dump({"markers": counts, "frames": frames, "socket_drops": drops}, f)


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def csum(b):
    if len(b) % 2:
        b += b"\0"
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while t >> 16:
        t = (t & 0xFFFF) + (t >> 16)
    return ~t & 0xFFFF


def udp_frame(dmac, smac, sport, dport, payload):
    src, dst = socket.inet_aton("10.199.0.1"), socket.inet_aton("10.199.0.2")
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return dmac + smac + b"\x08\x00" + ip + udp


def send(a):
    dmac, smac = mac(a.dst_mac), mac(a.src_mac)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.iface, 0))
    flows = (("X", 7001), ("Y", 7002))
    sent = {"X": 0, "Y": 0}
    gap = 1.0 / a.rate
    t0 = time.monotonic()
    for n in range(a.count):
        name, port = flows[n % 2]
        seq = sent[name]
        frame = udp_frame(dmac, smac, 30000 + port % 100, port,
                          b"XW%s%06d" % (name.encode(), seq) + b"." * 7)
        while True:
            try:
                s.send(frame)
                break
            except (BlockingIOError, OSError) as e:
                if getattr(e, "errno", None) not in (105, 11):  # ENOBUFS, EAGAIN
                    raise
                time.sleep(0.001)
        sent[name] += 1
        # steady pace: sleep until this frame's slot
        delay = t0 + (n + 1) * gap - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    print(json.dumps(sent))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("rx")
    r.add_argument("iface")
    r.add_argument("out")
    r.add_argument("--ready")
    t = sub.add_parser("send")
    t.add_argument("iface")
    t.add_argument("--dst-mac", required=True)
    t.add_argument("--src-mac", required=True)
    t.add_argument("--count", type=int, required=True)
    t.add_argument("--rate", type=float, default=1000)
    a = ap.parse_args()
    {"rx": rx, "send": send}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
