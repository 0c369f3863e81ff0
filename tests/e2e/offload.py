# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Socket helpers of tests/e2e/offload.sh: bulk senders, counting receivers.

  recv tcp|udp ADDR PORT COUNTFILE [RCVBUF]
        listen; count the payload bytes received (TCP: of one connection)
        and keep COUNTFILE holding the running total (rewritten every 20 ms)
  send tcp ADDR PORT                 connect and send as fast as possible
  send udp ADDR PORT SIZE [GSOSEG]   send SIZE-byte datagrams as fast as
        possible; with GSOSEG, as UDP GSO (UDP_SEGMENT) super-packets of
        SIZE bytes cut into GSOSEG-byte datagrams by the stack
  serve ADDR PORT NBYTES             accept one TCP connection, send NBYTES
        of a known pattern, close
  fetch ADDR PORT NBYTES SECS        connect, read until EOF or SECS pass;
        print the byte count and "ok" if it is NBYTES of the pattern
  wait COUNTFILE MIN SECS            until COUNTFILE holds >= MIN (exit 1 if not)
  count COUNTFILE                    print the total in COUNTFILE
  vlan-send IFACE DSTMAC SRC DST VLAN PORT N
        send N UDP frames SRC -> DST:PORT with an 802.1Q tag VLAN in the
        frame, through a packet socket on IFACE
Senders and receivers run until killed (the receivers flush their count on
SIGTERM).
"""
import os
import signal
import socket
import struct
import sys
import time

UDP_SEGMENT = 103          # linux/udp.h
CHUNK = 1 << 20


def fam(a):
    return socket.AF_INET6 if ":" in a else socket.AF_INET


def pattern(n, off=0):
    # byte i of the stream is (i * 7) & 0xff
    base = bytes(((i * 7) & 0xff) for i in range(256))
    out = bytearray()
    while len(out) < n:
        out += base
    return bytes(out[:n])


def write_count(path, n):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % n)
    os.replace(tmp, path)


def recv(proto, addr, port, path, rcvbuf=None):
    total = [0]

    def flush(*_):
        write_count(path, total[0])
        sys.exit(0)
    signal.signal(signal.SIGTERM, flush)
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    s = socket.socket(fam(addr), kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if rcvbuf:
        # a small fixed receive buffer bounds what is in flight, so what
        # arrives after a drop rule is applied measures the firewall
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, int(rcvbuf))
    s.bind((addr, int(port)))
    write_count(path, 0)
    if proto == "tcp":
        s.listen(1)
        c, _ = s.accept()
    else:
        c = s
    c.settimeout(0.02)
    last = 0.0
    while True:
        try:
            d = c.recv(CHUNK)
            if proto == "tcp" and not d:
                break
            total[0] += len(d)
        except socket.timeout:
            pass
        except ConnectionError:
            break
        now = time.monotonic()
        if now - last >= 0.02:
            write_count(path, total[0])
            last = now
    write_count(path, total[0])


def send(proto, addr, port, size=None, gso=None):
    if proto == "tcp":
        s = socket.create_connection((addr, int(port)), timeout=5)
        s.settimeout(None)
        buf = pattern(CHUNK)
        while True:
            s.sendall(buf)
    s = socket.socket(fam(addr), socket.SOCK_DGRAM)
    if gso:
        s.setsockopt(socket.IPPROTO_UDP, UDP_SEGMENT, int(gso))
    s.connect((addr, int(port)))
    buf = pattern(int(size))
    while True:
        try:
            s.send(buf)
        except (ConnectionRefusedError, BlockingIOError):
            time.sleep(0.001)
        except OSError:
            time.sleep(0.001)


def serve(addr, port, n):
    n = int(n)
    s = socket.socket(fam(addr), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, int(port)))
    s.listen(1)
    c, _ = s.accept()
    data = pattern(n)
    c.sendall(data)
    c.shutdown(socket.SHUT_WR)
    c.settimeout(30)
    try:
        while c.recv(4096):
            pass
    except OSError:
        pass
    c.close()


def fetch(addr, port, n, secs):
    n, end = int(n), time.monotonic() + float(secs)
    s = socket.create_connection((addr, int(port)), timeout=5)
    got = bytearray()
    while time.monotonic() < end:
        s.settimeout(max(0.01, end - time.monotonic()))
        try:
            d = s.recv(CHUNK)
        except socket.timeout:
            break
        if not d:
            break
        got += d
    ok = len(got) == n and bytes(got) == pattern(n)
    print("%d %s" % (len(got), "ok" if ok else "bad"))


def read_count(path):
    try:
        with open(path) as f:
            return int(f.read().strip() or 0)
    except (OSError, ValueError):
        return 0


def wait(path, least, secs):
    end = time.monotonic() + float(secs)
    while time.monotonic() < end:
        if read_count(path) >= int(least):
            return 0
        time.sleep(0.02)
    return 1


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def vlan_send(ifname, dmac, src, dst, vlan, port, n):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((ifname, 0))
    smac = open("/sys/class/net/%s/address" % ifname).read().strip()
    mac = lambda m: bytes(int(x, 16) for x in m.split(":"))
    payload = b"xwall-vlan-test" * 4
    udp = struct.pack("!HHHH", 40000, int(port), 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    frame = (mac(dmac) + mac(smac) + struct.pack("!HH", 0x8100, int(vlan)) +
             struct.pack("!H", 0x0800) + ip + udp)
    for _ in range(int(n)):
        s.send(frame)


def main():
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "recv":
        recv(*a)
    elif cmd == "send":
        send(*a)
    elif cmd == "serve":
        serve(*a)
    elif cmd == "fetch":
        fetch(*a)
    elif cmd == "wait":
        sys.exit(wait(*a))
    elif cmd == "vlan-send":
        vlan_send(*a)
    elif cmd == "count":
        print(read_count(a[0]))
    else:
        sys.exit("offload.py: unknown command " + cmd)


if __name__ == "__main__":
    main()
