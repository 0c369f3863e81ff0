#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Write a worst-case rule set for a packet classifier in ClassBench format.

  cb-worst.py SEED N FILTERS_OUT TRACE_OUT [PACKETS_PER_RULE]

N filters, each with a random-length source prefix AND a random-length
destination prefix (lengths 0..32, uniform), a random source port range AND a
random destination port range (each [lo, hi] with lo <= hi uniform over
0..65535, so almost every range splits into many prefixes), protocol TCP or
UDP.  Every filter is a shape of its own: tuple space search needs up to
33 x 33 x 17 x 17 x 2 masks, decision trees replicate rules across cuts.
The trace holds PACKETS_PER_RULE (default 10) headers per filter, each a
random point inside a random filter (so it hits that filter or an earlier
overlapping one), in ClassBench trace format; cb2xwall.py turns both into
xwall rules, a pcap and the first-match verdict of every packet.
Deterministic: the same SEED gives byte-identical files.
"""
import random
import sys


def main():
    if len(sys.argv) not in (5, 6):
        sys.stderr.write(__doc__)
        return 1
    seed, n = int(sys.argv[1], 0), int(sys.argv[2])
    per = int(sys.argv[5]) if len(sys.argv) == 6 else 10
    rng = random.Random(seed)
    filters = []
    for _ in range(n):
        f = []
        for _ in range(2):
            plen = rng.randint(0, 32)
            mask = 0 if plen == 0 else (0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF
            f.append((rng.getrandbits(32) & mask, plen))
        for _ in range(2):
            a, b = rng.randint(0, 65535), rng.randint(0, 65535)
            f.append((min(a, b), max(a, b)))
        f.append(rng.choice((6, 17)))
        filters.append(f)

    def ip(a):
        return "%d.%d.%d.%d" % (a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255)

    with open(sys.argv[3], "w") as out:
        for (sa, sl), (da, dl), sp, dp, pr in filters:
            out.write("@%s/%d\t%s/%d\t%d : %d\t%d : %d\t0x%02X/0xFF\t0x0000/0x0000\t\n" % (
                ip(sa), sl, ip(da), dl, sp[0], sp[1], dp[0], dp[1], pr))
    with open(sys.argv[4], "w") as out:
        for _ in range(n * per):
            i = rng.randrange(n)
            (sa, sl), (da, dl), sp, dp, pr = filters[i]
            a = sa | (rng.getrandbits(32) & ((1 << (32 - sl)) - 1))
            d = da | (rng.getrandbits(32) & ((1 << (32 - dl)) - 1))
            out.write("%d\t%d\t%d\t%d\t%d\t0\t%d\n" % (
                a, d, rng.randint(*sp), rng.randint(*dp), pr, i))
    return 0


if __name__ == "__main__":
    sys.exit(main())
