# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Socket side of tests/e2e/reject.sh.  Usage (python3 reject.py CMD ...):
#   serve PORT...          TCP and UDP listeners on every PORT, both families,
#                          until killed (so the kernel never answers itself)
#   tcp HOST PORT          connect: "refused SECS", "connected" or "timeout"
#   udp HOST PORT          connected UDP socket, send then recv: "refused SECS"
#                          or "noreply"
#   flood HOST PORT N      N UDP datagrams as fast as one socket sends
#   icmperr HOST           an ICMP host unreachable (ICMPv6 address unreachable)
#                          error to HOST (scapy): "reply" if any ICMP comes
#                          back, else "noreply"
#   bcast BCAST PORT       one UDP datagram to a broadcast address
import socket
import sys
import time


def fam(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def serve(ports):
    socks = []
    for p in ports:
        for typ in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            s = socket.socket(socket.AF_INET6, typ)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("::", p))
            if typ == socket.SOCK_STREAM:
                s.listen(64)
            socks.append(s)
    print("serving", flush=True)
    while True:
        time.sleep(3600)


def tcp(host, port):
    s = socket.socket(fam(host), socket.SOCK_STREAM)
    s.settimeout(3)
    t = time.monotonic()
    try:
        s.connect((host, port))
        return "connected"
    except ConnectionRefusedError:
        return "refused %.3f" % (time.monotonic() - t)
    except socket.timeout:
        return "timeout"


def udp(host, port):
    s = socket.socket(fam(host), socket.SOCK_DGRAM)
    s.settimeout(2)
    s.connect((host, port))
    t = time.monotonic()
    try:
        s.send(b"reject me")
        s.recv(100)
        return "data"
    except ConnectionRefusedError:
        return "refused %.3f" % (time.monotonic() - t)
    except socket.timeout:
        return "noreply"


def flood(host, port, n):
    s = socket.socket(fam(host), socket.SOCK_DGRAM)
    t = time.monotonic()
    for _ in range(n):
        try:
            s.sendto(b"x", (host, port))
        except OSError:
            pass   # an ICMP error reported on the socket: go on
    return "sent %d in %.3f" % (n, time.monotonic() - t)


def icmperr(host):
    from scapy.all import IP, IPv6, ICMP, ICMPv6DestUnreach, UDP, sr1, conf
    conf.verb = 0
    if ":" in host:
        p = IPv6(dst=host) / ICMPv6DestUnreach(code=3) / IPv6(src=host, dst="fd00::9") / UDP(dport=9)
    else:
        p = IP(dst=host) / ICMP(type=3, code=1) / IP(src=host, dst="192.0.2.9") / UDP(dport=9)
    return "reply" if sr1(p, timeout=1.5) is not None else "noreply"


def bcast(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.sendto(b"x", (addr, port))
    return "sent"


def main(a):
    if a[0] == "serve":
        serve([int(x) for x in a[1:]])
    elif a[0] == "tcp":
        print(tcp(a[1], int(a[2])))
    elif a[0] == "udp":
        print(udp(a[1], int(a[2])))
    elif a[0] == "flood":
        print(flood(a[1], int(a[2]), int(a[3])))
    elif a[0] == "icmperr":
        print(icmperr(a[1]))
    elif a[0] == "bcast":
        print(bcast(a[1], int(a[2])))
    else:
        sys.exit("unknown command " + a[0])


if __name__ == "__main__":
    main(sys.argv[1:])
