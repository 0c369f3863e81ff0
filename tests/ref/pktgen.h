// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Deterministic PRNG and random packet generator for differential tests.
 *
 * Packets are built to hit the corners of docs/semantics.md: VLAN
 * stacks, IPv4 options and fragments, IPv6 extension chains, truncation at
 * header boundaries, broken lengths and versions.  Field values come from
 * small pools shared with rulegen so random rules match random packets often.
 *
 * Why it writes its own bytes instead of going through the frame builder
 * (loader/frames/pktbuild.c, which every other C test uses): the builder
 * makes a frame whose parse gives *given* fields, in a few encodings of
 * each (at most two tags, IPv4 options up to IHL 8, up to four IPv6
 * extension headers in one order); this generator's job is the frames no
 * one specified: 0-3 tags of any TPID, IHL up to 15 with random option
 * bytes, 0-10 extension headers in any order, random reserved bits and
 * cuts anywhere.  A builder that produced those would be a second
 * generator, not a builder.  It shares the builder's checksum (xw_pb_csum).
 */
#ifndef XW_PKTGEN_H
#define XW_PKTGEN_H

#include <stddef.h>
#include <stdint.h>

/* ---- PRNG: xorshift64*, seeded through splitmix64 ---- */

struct xw_rng {
	uint64_t s;
};

void     xw_rng_seed(struct xw_rng *r, uint64_t seed);
uint64_t xw_rng_next(struct xw_rng *r);
/* Uniform in [0, n); n > 0. */
uint32_t xw_rng_below(struct xw_rng *r, uint32_t n);
/* Uniform in [lo, hi]. */
uint32_t xw_rng_range(struct xw_rng *r, uint32_t lo, uint32_t hi);
/* 1 with probability pct/100. */
int      xw_rng_chance(struct xw_rng *r, unsigned pct);
/* Index drawn with the given relative weights. */
size_t   xw_rng_weighted(struct xw_rng *r, const unsigned *weights, size_t n);
void     xw_rng_bytes(struct xw_rng *r, uint8_t *buf, size_t n);

/* ---- value pools shared by pktgen and rulegen ---- */

#define XW_POOL_N(a) (sizeof(a) / sizeof((a)[0]))

extern const uint8_t  xw_pool_mac[8][6];
extern const uint8_t  xw_pool_ip4[12][4];
extern const uint8_t  xw_pool_ip6[12][16];
extern const uint8_t  xw_pool_plen4[5];        /* prefix lengths for rules */
extern const uint8_t  xw_pool_plen6[5];
extern const uint16_t xw_pool_port[10];        /* plus "random" (see xw_pool_pick_port) */
extern const uint16_t xw_pool_vlan[6];
extern const uint16_t xw_pool_ethertype[8];
extern const uint8_t  xw_pool_tcp_flags[9];
extern const uint8_t  xw_pool_icmp_type[6];
extern const uint8_t  xw_pool_icmp6_type[9];
extern const uint8_t  xw_pool_icmp_code[4];
extern const uint8_t  xw_pool_proto_other[7];  /* non TCP/UDP/SCTP/ICMP protocols */

/* Pool draws; mostly from the pool, sometimes any value. */
uint16_t xw_pool_pick_port(struct xw_rng *r);
uint16_t xw_pool_pick_vlan(struct xw_rng *r);
uint8_t  xw_pool_pick_icmp_type(struct xw_rng *r, int v6);
uint8_t  xw_pool_pick_icmp_code(struct xw_rng *r);
uint8_t  xw_pool_pick_tcp_flags(struct xw_rng *r);

/* ---- packet generator ---- */

#define XW_PKT_MAX 1514u       /* largest frame produced */

/* Write one random frame into buf (cap >= 1600 recommended; output is cut
 * to cap) and return its length (0..XW_PKT_MAX). */
size_t xw_pktgen(struct xw_rng *rng, uint8_t *buf, size_t cap);

#endif
