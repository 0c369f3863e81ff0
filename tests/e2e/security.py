#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""bpf(2) probes of tests/e2e/security.sh, made with ctypes (no libbpf), so
the test sees exactly what an unprivileged process gets from the kernel.

  security.py objget PATH...            BPF_OBJ_GET each pin
  security.py byid map|prog ID...       BPF_{MAP,PROG}_GET_FD_BY_ID
  security.py mapcreate                 BPF_MAP_CREATE (a 1-entry array)
  security.py progload                  BPF_PROG_LOAD (socket filter: r0 = 0; exit)
  security.py lock DIR                  open DIR and flock(LOCK_EX|LOCK_NB) it

Each prints one line per attempt, "OK" or the errno name, and exits 0 if
every attempt succeeded, 3 if every attempt was refused, 4 if mixed.
"""
import ctypes
import errno
import fcntl
import os
import platform
import struct
import sys

NR_BPF = {"x86_64": 321, "aarch64": 280, "armv7l": 386, "ppc64le": 361, "s390x": 351,
          "riscv64": 280}[platform.machine()]
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long

BPF_MAP_CREATE, BPF_PROG_LOAD, BPF_OBJ_GET = 0, 5, 7
BPF_PROG_GET_FD_BY_ID, BPF_MAP_GET_FD_BY_ID = 13, 14


def bpf(cmd, attr):
    buf = ctypes.create_string_buffer(attr.ljust(128, b"\0"), 128)
    r = libc.syscall(NR_BPF, cmd, buf, 128)
    return r if r >= 0 else -ctypes.get_errno()


def res(r):
    if r >= 0:
        return "OK"
    return errno.errorcode.get(-r, str(-r))


def objget(path):
    p = ctypes.create_string_buffer(path.encode())
    return bpf(BPF_OBJ_GET, struct.pack("=QII", ctypes.addressof(p), 0, 0)), p


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    results = []
    if cmd == "objget":
        for a in args:
            r, _ = objget(a)
            results.append((a, r))
    elif cmd == "byid":
        c = BPF_MAP_GET_FD_BY_ID if args[0] == "map" else BPF_PROG_GET_FD_BY_ID
        for i in args[1:]:
            results.append(("%s id %s" % (args[0], i), bpf(c, struct.pack("=III", int(i), 0, 0))))
    elif cmd == "mapcreate":
        results.append(("BPF_MAP_CREATE array", bpf(BPF_MAP_CREATE, struct.pack("=IIIII", 2, 4, 8, 1, 0))))
    elif cmd == "progload":
        insns = ctypes.create_string_buffer(bytes([0xb7, 0, 0, 0, 0, 0, 0, 0,
                                                   0x95, 0, 0, 0, 0, 0, 0, 0]), 16)
        lic = ctypes.create_string_buffer(b"GPL")
        attr = struct.pack("=IIQQIIQI", 1, 2, ctypes.addressof(insns), ctypes.addressof(lic),
                           0, 0, 0, 0)
        results.append(("BPF_PROG_LOAD socket filter", bpf(BPF_PROG_LOAD, attr)))
    elif cmd == "lock":
        try:
            fd = os.open(args[0], os.O_RDONLY | os.O_DIRECTORY)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                r = 0
            except OSError as e:
                r = -e.errno
        except OSError as e:
            r = -e.errno
        results.append(("open+flock " + args[0], r))
    else:
        sys.exit("unknown command " + cmd)
    for what, r in results:
        print("%s: %s" % (what, res(r)))
        if r > 0:
            os.close(r)
    ok = sum(1 for _, r in results if r >= 0)
    sys.exit(0 if ok == len(results) else 3 if ok == 0 else 4)


if __name__ == "__main__":
    main()
