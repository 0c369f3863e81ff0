// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Random packet generator: see pktgen.h. */
#include <string.h>

#include "pktbuild.h"
#include "pktgen.h"

/* ---- PRNG ---- */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

void xw_rng_seed(struct xw_rng *r, uint64_t seed)
{
	r->s = splitmix64(&seed);
	if (r->s == 0)          /* xorshift's one bad state */
		r->s = 1;
}

uint64_t xw_rng_next(struct xw_rng *r)
{
	uint64_t x = r->s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

uint32_t xw_rng_below(struct xw_rng *r, uint32_t n)
{
	/* Multiply-shift: bias below 2^-32, irrelevant for tests. */
	return (uint32_t)(((xw_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

uint32_t xw_rng_range(struct xw_rng *r, uint32_t lo, uint32_t hi)
{
	return lo + (uint32_t)((((xw_rng_next(r) >> 32) * ((uint64_t)hi - lo + 1))) >> 32);
}

int xw_rng_chance(struct xw_rng *r, unsigned pct)
{
	return xw_rng_below(r, 100) < pct;
}

size_t xw_rng_weighted(struct xw_rng *r, const unsigned *w, size_t n)
{
	uint32_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += w[i];
	uint32_t x = xw_rng_below(r, total);
	for (size_t i = 0; i < n; i++) {
		if (x < w[i])
			return i;
		x -= w[i];
	}
	return n - 1;
}

void xw_rng_bytes(struct xw_rng *r, uint8_t *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)(xw_rng_next(r) >> 56);
}

/* ---- pools ---- */

const uint8_t xw_pool_mac[8][6] = {
	{ 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 },
	{ 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 },
	{ 0x02, 0x00, 0x00, 0x00, 0x00, 0x03 },
	{ 0x02, 0x00, 0x00, 0x00, 0x01, 0x00 },
	{ 0x00, 0x11, 0x22, 0x33, 0x44, 0x55 },
	{ 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef },
	{ 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 },
	{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
};

/* Nested on purpose: 10/8 ⊃ 10.0/16 ⊃ 10.0.0/24 ⊃ 10.0.0.1. */
const uint8_t xw_pool_ip4[12][4] = {
	{ 10, 0, 0, 1 }, { 10, 0, 0, 2 }, { 10, 0, 1, 1 }, { 10, 1, 2, 3 },
	{ 10, 200, 30, 4 }, { 10, 255, 255, 255 }, { 192, 168, 1, 1 },
	{ 192, 168, 1, 100 }, { 192, 168, 2, 1 }, { 172, 16, 5, 4 },
	{ 8, 8, 8, 8 }, { 0, 0, 0, 0 },
};

const uint8_t xw_pool_ip6[12][16] = {
	{ 0x20, 0x01, 0x0d, 0xb8, [15] = 1 },                               /* 2001:db8::1 */
	{ 0x20, 0x01, 0x0d, 0xb8, [15] = 2 },                               /* 2001:db8::2 */
	{ 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, [15] = 1 },                   /* 2001:db8:0:1::1 */
	{ 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 1 },                         /* 2001:db8:1::1 */
	{ 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, [15] = 3 },                   /* 2001:db8:1:2::3 */
	{ 0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, [15] = 1 },                   /* 2001:db8:ffff::1 */
	{ 0x20, 0x01, 0x0d, 0xb9, [15] = 1 },                               /* 2001:db9::1 */
	{ 0xfe, 0x80, [15] = 1 },                                           /* fe80::1 */
	{ [15] = 1 },                                                       /* ::1 */
	{ 0xff, 0x02, [15] = 1 },                                           /* ff02::1 */
	{ [10] = 0xff, [11] = 0xff, [12] = 10, [15] = 1 },                  /* ::ffff:10.0.0.1 */
	{ 0x00, 0x64, 0xff, 0x9b, [12] = 192, [13] = 168, [14] = 1, [15] = 1 }, /* 64:ff9b::c0a8:101 */
};

const uint8_t  xw_pool_plen4[5] = { 8, 16, 24, 32, 12 };
const uint8_t  xw_pool_plen6[5] = { 32, 48, 64, 128, 56 };
const uint16_t xw_pool_port[10] = { 0, 22, 25, 53, 80, 443, 1024, 5353, 8080, 65535 };
const uint16_t xw_pool_vlan[6] = { 0, 1, 10, 100, 4094, 4095 };
const uint16_t xw_pool_ethertype[8] = {
	0x0800, 0x86DD, 0x0806, 0x8100, 0x88A8, 0x88CC, 0x8847, 0x1234,
};
const uint8_t  xw_pool_tcp_flags[9] = { 0x02, 0x12, 0x10, 0x11, 0x04, 0x14, 0x18, 0x00, 0x29 };
const uint8_t  xw_pool_icmp_type[6] = { 0, 3, 5, 8, 11, 13 };
const uint8_t  xw_pool_icmp6_type[9] = { 1, 2, 3, 4, 128, 129, 133, 135, 136 };
const uint8_t  xw_pool_icmp_code[4] = { 0, 1, 3, 4 };
const uint8_t  xw_pool_proto_other[7] = { 47, 50, 51, 0, 41, 89, 255 };

#define PICK(r, pool) ((pool)[xw_rng_below((r), XW_POOL_N(pool))])

uint16_t xw_pool_pick_port(struct xw_rng *r)
{
	return xw_rng_chance(r, 85) ? PICK(r, xw_pool_port) : (uint16_t)xw_rng_below(r, 65536);
}

uint16_t xw_pool_pick_vlan(struct xw_rng *r)
{
	return xw_rng_chance(r, 85) ? PICK(r, xw_pool_vlan) : (uint16_t)xw_rng_below(r, 4096);
}

uint8_t xw_pool_pick_icmp_type(struct xw_rng *r, int v6)
{
	if (xw_rng_chance(r, 10))
		return (uint8_t)xw_rng_below(r, 256);
	return v6 ? PICK(r, xw_pool_icmp6_type) : PICK(r, xw_pool_icmp_type);
}

uint8_t xw_pool_pick_icmp_code(struct xw_rng *r)
{
	return xw_rng_chance(r, 90) ? PICK(r, xw_pool_icmp_code) : (uint8_t)xw_rng_below(r, 256);
}

uint8_t xw_pool_pick_tcp_flags(struct xw_rng *r)
{
	return xw_rng_chance(r, 85) ? PICK(r, xw_pool_tcp_flags) : (uint8_t)xw_rng_below(r, 256);
}

/* ---- frame builder ---- */

#define SCRATCH    4096
#define MAX_BOUNDS 64

struct gen {
	struct xw_rng *r;
	uint8_t b[SCRATCH];
	size_t len;
	size_t bounds[MAX_BOUNDS];   /* header boundaries, for truncation */
	unsigned nb;
	size_t et_off;               /* offset of the final EtherType field */
	int l3;                      /* 0, 4 or 6 */
	size_t l3_off;
};

static void mark(struct gen *g, size_t off)
{
	if (g->nb < MAX_BOUNDS)
		g->bounds[g->nb++] = off;
}

static void put8(struct gen *g, unsigned v)
{
	g->b[g->len++] = (uint8_t)v;
}

static void put16(struct gen *g, unsigned v)
{
	put8(g, v >> 8);
	put8(g, v);
}

static void put32(struct gen *g, uint32_t v)
{
	put16(g, v >> 16);
	put16(g, v & 0xffff);
}

static void putn(struct gen *g, const uint8_t *p, size_t n)
{
	memcpy(g->b + g->len, p, n);
	g->len += n;
}

static void put_random(struct gen *g, size_t n)
{
	xw_rng_bytes(g->r, g->b + g->len, n);
	g->len += n;
}

static void wr16(struct gen *g, size_t off, unsigned v)
{
	g->b[off] = (uint8_t)(v >> 8);
	g->b[off + 1] = (uint8_t)v;
}

/* Payload size: mostly small; sometimes large, never past XW_PKT_MAX. */
static size_t payload_len(struct gen *g)
{
	static const unsigned w[] = { 30, 60, 10 };
	size_t room = g->len + 64 < XW_PKT_MAX ? XW_PKT_MAX - g->len - 64 : 0;
	switch (xw_rng_weighted(g->r, w, 3)) {
	case 0:
		return 0;
	case 1:
		return xw_rng_range(g->r, 1, 48);
	default:
		return room ? xw_rng_below(g->r, (uint32_t)room) : 0;
	}
}

static void put_ip4_addr(struct gen *g)
{
	if (xw_rng_chance(g->r, 90))
		putn(g, PICK(g->r, xw_pool_ip4), 4);
	else
		put_random(g, 4);
}

static void put_ip6_addr(struct gen *g)
{
	if (xw_rng_chance(g->r, 90))
		putn(g, PICK(g->r, xw_pool_ip6), 16);
	else
		put_random(g, 16);
}

static void build_l4(struct gen *g, uint8_t proto)
{
	size_t s = g->len;

	mark(g, s);
	mark(g, s + 8);
	mark(g, s + 12);
	mark(g, s + 20);
	switch (proto) {
	case 6:         /* TCP; data offset is not checked, so sometimes garbage */
		put16(g, xw_pool_pick_port(g->r));
		put16(g, xw_pool_pick_port(g->r));
		put32(g, (uint32_t)xw_rng_next(g->r));
		put32(g, (uint32_t)xw_rng_next(g->r));
		put8(g, xw_rng_chance(g->r, 90) ? 0x50 : xw_rng_below(g->r, 256) & 0xf0);
		put8(g, xw_pool_pick_tcp_flags(g->r));
		put16(g, 65535);
		put16(g, 0);
		put16(g, 0);
		break;
	case 17:        /* UDP */
		put16(g, xw_pool_pick_port(g->r));
		put16(g, xw_pool_pick_port(g->r));
		put16(g, 0);    /* length fixed below */
		put16(g, 0);
		break;
	case 132:       /* SCTP common header */
		put16(g, xw_pool_pick_port(g->r));
		put16(g, xw_pool_pick_port(g->r));
		put32(g, (uint32_t)xw_rng_next(g->r));
		put32(g, 0);
		break;
	case 1:
	case 58:        /* ICMP / ICMPv6: type, code, checksum, 4 more bytes */
		put8(g, xw_pool_pick_icmp_type(g->r, proto == 58));
		put8(g, xw_pool_pick_icmp_code(g->r));
		put16(g, 0);
		put32(g, (uint32_t)xw_rng_next(g->r));
		break;
	case 47:        /* GRE */
		put16(g, 0);
		put16(g, 0x0800);
		break;
	case 50:        /* ESP: SPI, sequence */
		put32(g, (uint32_t)xw_rng_next(g->r));
		put32(g, xw_rng_below(g->r, 1000));
		break;
	case 51:        /* AH: nh, len 4 (24 bytes), reserved, SPI, seq, ICV */
		put8(g, xw_rng_chance(g->r, 50) ? 6 : 17);
		put8(g, 4);
		put16(g, 0);
		put_random(g, 20);
		break;
	default:
		break;
	}
	put_random(g, payload_len(g));
	if (proto == 17 && g->len - s <= 0xffff)
		wr16(g, s + 4, (unsigned)(g->len - s));
}

/* Checksum is not checked (rule 8) but keeps pcaps readable. */
static void ip4_fix_checksum(struct gen *g)
{
	size_t h = g->l3_off;
	size_t ihl = (size_t)(g->b[h] & 0x0f) * 4;
	if (ihl < 20 || h + ihl > g->len)
		return;
	wr16(g, h + 10, 0);
	wr16(g, h + 10, xw_pb_csum(g->b + h, ihl));
}

static uint8_t pick_l4_proto(struct gen *g, int v6)
{
	/* TCP UDP SCTP ICMP ICMPv6 GRE ESP AH 59 other random */
	static const unsigned w4[] = { 25, 20, 8, 15, 2, 5, 5, 3, 1, 8, 4 };
	static const unsigned w6[] = { 22, 18, 7, 3, 18, 3, 3, 6, 5, 8, 3 };
	static const uint8_t proto[] = { 6, 17, 132, 1, 58, 47, 50, 51, 59, 0, 0 };
	size_t i = xw_rng_weighted(g->r, v6 ? w6 : w4, XW_POOL_N(proto));
	if (i == 9)
		return PICK(g->r, xw_pool_proto_other);
	if (i == 10)
		return (uint8_t)xw_rng_below(g->r, 256);
	return proto[i];
}

static uint16_t pick_frag_offset(struct gen *g)
{
	static const uint16_t offs[] = { 1, 2, 3, 185, 8191 };
	return xw_rng_chance(g->r, 70) ? PICK(g->r, offs) : (uint16_t)xw_rng_range(g->r, 1, 8191);
}

static void build_ipv4(struct gen *g)
{
	static const unsigned fw[] = { 60, 12, 12, 12, 4 };
	size_t h = g->len;
	unsigned ihl = xw_rng_chance(g->r, 25) ? xw_rng_range(g->r, 6, 15) : 5;
	uint8_t proto = pick_l4_proto(g, 0);
	unsigned frag;
	int later;

	switch (xw_rng_weighted(g->r, fw, 5)) {
	case 0:  frag = xw_rng_chance(g->r, 50) ? 0x4000 : 0; break;     /* DF or nothing */
	case 1:  frag = 0x2000; break;                                    /* first */
	case 2:  frag = 0x2000 | pick_frag_offset(g); break;              /* middle */
	case 3:  frag = pick_frag_offset(g); break;                       /* last */
	default: frag = xw_rng_below(g->r, 65536); break;                 /* anything */
	}
	later = (frag & 0x1fff) != 0;

	g->l3 = 4;
	g->l3_off = h;
	put8(g, 0x40 | ihl);
	put8(g, xw_rng_chance(g->r, 80) ? 0 : xw_rng_below(g->r, 256));
	put16(g, 0);                        /* total length, below */
	put16(g, xw_rng_below(g->r, 65536));
	put16(g, frag);
	put8(g, 64);
	put8(g, proto);
	put16(g, 0);
	put_ip4_addr(g);
	put_ip4_addr(g);
	mark(g, h + 20);
	if (xw_rng_chance(g->r, 50)) {      /* NOP options ending in EOL */
		for (unsigned i = 20; i < ihl * 4; i++)
			put8(g, i + 1 == ihl * 4 ? 0 : 1);
	} else {
		put_random(g, ihl * 4 - 20);
	}
	mark(g, h + ihl * 4);

	/* A later fragment carries data; sometimes make it look like a
	 * transport header so a parser that reads it anyway gets caught. */
	if (!later || xw_rng_chance(g->r, 50))
		build_l4(g, proto);
	else
		put_random(g, xw_rng_below(g->r, 64));

	wr16(g, h + 2, (unsigned)(g->len - h));
	ip4_fix_checksum(g);
}

static uint8_t pick_ext(struct gen *g)
{
	static const unsigned w[] = { 20, 20, 35, 25 };
	static const uint8_t t[] = { 0, 43, 44, 60 };
	return t[xw_rng_weighted(g->r, w, 4)];
}

static void build_ipv6(struct gen *g)
{
	/* number of extension headers: 0..10 */
	static const unsigned nw[] = { 45, 15, 12, 8, 4, 2, 2, 2, 4, 3, 3 };
	size_t h = g->len;
	unsigned n_ext = (unsigned)xw_rng_weighted(g->r, nw, XW_POOL_N(nw));
	uint8_t types[10];
	uint8_t final = pick_l4_proto(g, 1);
	int later = 0;

	for (unsigned i = 0; i < n_ext; i++)
		types[i] = pick_ext(g);
	/* Valid later fragments need the fragment header last. */
	if (n_ext && xw_rng_chance(g->r, 25))
		types[n_ext - 1] = 44;

	g->l3 = 6;
	g->l3_off = h;
	put32(g, 0x60000000u | (xw_rng_chance(g->r, 80) ? 0 : xw_rng_below(g->r, 1u << 28)));
	put16(g, 0);                        /* payload length, below */
	put8(g, n_ext ? types[0] : final);
	put8(g, 64);
	put_ip6_addr(g);
	put_ip6_addr(g);
	mark(g, h + 40);

	for (unsigned i = 0; i < n_ext; i++) {
		uint8_t nh = i + 1 < n_ext ? types[i + 1] : final;
		size_t s = g->len;
		if (types[i] == 44) {
			int is_later = xw_rng_chance(g->r, 30);
			unsigned off = is_later ? pick_frag_offset(g) : 0;
			unsigned m = xw_rng_chance(g->r, is_later ? 50 : 80);
			later |= is_later;
			put8(g, nh);
			put8(g, 0);
			put16(g, off << 3 | m);
			put32(g, (uint32_t)xw_rng_next(g->r));
			mark(g, s + 8);
		} else {
			static const unsigned lw[] = { 60, 25, 10, 5 };
			unsigned hl = (unsigned)xw_rng_weighted(g->r, lw, 4);
			size_t size = (hl + 1) * 8;
			put8(g, nh);
			put8(g, hl);
			if (types[i] == 43) {
				put_random(g, size - 2);
			} else {            /* one PadN option filling the header */
				put8(g, 1);
				put8(g, size - 4);
				memset(g->b + g->len, 0, size - 4);
				g->len += size - 4;
			}
			mark(g, s + 2);
			mark(g, s + size);
		}
	}

	if (!later || xw_rng_chance(g->r, 50))
		build_l4(g, final);
	else
		put_random(g, xw_rng_below(g->r, 64));

	wr16(g, h + 4, (unsigned)(g->len - h - 40));
}

static void build_arp(struct gen *g)
{
	put16(g, 1);
	put16(g, 0x0800);
	put8(g, 6);
	put8(g, 4);
	put16(g, xw_rng_range(g->r, 1, 2));
	putn(g, PICK(g->r, xw_pool_mac), 6);
	put_ip4_addr(g);
	putn(g, PICK(g->r, xw_pool_mac), 6);
	put_ip4_addr(g);
}

static void build_frame(struct gen *g)
{
	static const unsigned tag_w[] = { 60, 20, 14, 6 };
	static const unsigned l3_w[] = { 45, 40, 8, 7 };
	static const uint16_t other_et[] = { 0x88CC, 0x8847, 0x1234, 0x0000, 0xFFFF, 0x0806 };
	unsigned tags = (unsigned)xw_rng_weighted(g->r, tag_w, 4);
	size_t kind = xw_rng_weighted(g->r, l3_w, 4);

	putn(g, PICK(g->r, xw_pool_mac), 6);
	putn(g, PICK(g->r, xw_pool_mac), 6);
	mark(g, 12);
	for (unsigned i = 0; i < tags; i++) {
		put16(g, xw_rng_chance(g->r, 60) ? 0x8100 : 0x88A8);
		mark(g, g->len);
		put16(g, xw_rng_below(g->r, 16) << 12 | xw_pool_pick_vlan(g->r));
		mark(g, g->len);
	}
	g->et_off = g->len;
	switch (kind) {
	case 0:
		put16(g, 0x0800);
		mark(g, g->len);
		build_ipv4(g);
		break;
	case 1:
		put16(g, 0x86DD);
		mark(g, g->len);
		build_ipv6(g);
		break;
	case 2:
		put16(g, 0x0806);
		mark(g, g->len);
		build_arp(g);
		break;
	default:
		put16(g, xw_rng_chance(g->r, 80) ? PICK(g->r, other_et) : xw_rng_below(g->r, 65536));
		mark(g, g->len);
		put_random(g, xw_rng_below(g->r, 64));
		break;
	}

	/* Trailing bytes beyond the IP length are legal (Ethernet padding). */
	if (xw_rng_chance(g->r, 15)) {
		put_random(g, xw_rng_range(g->r, 1, 24));
	} else if (xw_rng_chance(g->r, 20) && g->len < 60) {
		memset(g->b + g->len, 0, 60 - g->len);
		g->len = 60;
	}
}

/* ---- mutations ---- */

static void truncate_at(struct gen *g, size_t t, int fix_lengths)
{
	if (t >= g->len)
		return;
	g->len = t;
	if (!fix_lengths)
		return;
	/* Shrink the IP length field too, so the cut lands inside a valid IP
	 * packet (e.g. a TCP header of 19 bytes), not just a malformed one. */
	size_t h = g->l3_off;
	if (g->l3 == 4 && t >= h + 4) {
		wr16(g, h + 2, (unsigned)(t - h));
		ip4_fix_checksum(g);
	} else if (g->l3 == 6 && t >= h + 40) {
		wr16(g, h + 4, (unsigned)(t - h - 40));
	}
}

static void mutate(struct gen *g)
{
	enum { M_BOUNDARY, M_RANDOM_CUT, M_FLIP, M_VERSION, M_IHL, M_IPLEN, M_TINY };
	static const unsigned w[] = { 14, 6, 8, 4, 4, 8, 4 };
	size_t h = g->l3_off;

	switch (xw_rng_weighted(g->r, w, XW_POOL_N(w))) {
	case M_BOUNDARY: {
		if (!g->nb)
			break;
		size_t b = g->bounds[xw_rng_below(g->r, g->nb)];
		size_t t = b + xw_rng_below(g->r, 3);   /* b-1, b, b+1 */
		truncate_at(g, t ? t - 1 : 0, xw_rng_chance(g->r, 50));
		break;
	}
	case M_RANDOM_CUT:
		if (g->len)
			truncate_at(g, xw_rng_below(g->r, (uint32_t)g->len), xw_rng_chance(g->r, 50));
		break;
	case M_FLIP: {
		unsigned n = xw_rng_range(g->r, 1, 3);
		for (unsigned i = 0; i < n && g->len; i++) {
			/* Headers live in the first bytes: aim there mostly. */
			size_t span = g->len < 96 || xw_rng_chance(g->r, 20) ? g->len : 96;
			size_t p = xw_rng_below(g->r, (uint32_t)span);
			if (xw_rng_chance(g->r, 50))
				g->b[p] ^= (uint8_t)(1u << xw_rng_below(g->r, 8));
			else
				g->b[p] = (uint8_t)xw_rng_below(g->r, 256);
		}
		break;
	}
	case M_VERSION: {
		static const uint8_t bad4[] = { 6, 0, 5, 15 }, bad6[] = { 4, 0, 7, 15 };
		if (!g->l3 || h >= g->len)
			break;
		if (xw_rng_chance(g->r, 30) && g->et_off + 2 <= g->len) {
			/* an IPv4 header under 0x86DD or the other way round */
			wr16(g, g->et_off, g->l3 == 4 ? 0x86DD : 0x0800);
			break;
		}
		uint8_t v = g->l3 == 4 ? PICK(g->r, bad4) : PICK(g->r, bad6);
		g->b[h] = (uint8_t)(v << 4 | (g->b[h] & 0x0f));
		break;
	}
	case M_IHL:
		if (g->l3 == 4 && h < g->len)
			g->b[h] = (uint8_t)(0x40 | xw_rng_below(g->r, 16));
		break;
	case M_IPLEN: {
		size_t L = g->len - h;
		if (g->l3 == 4 && h + 4 <= g->len) {
			unsigned ihl4 = (g->b[h] & 0x0f) * 4u;
			unsigned cur = (unsigned)(g->b[h + 2] << 8 | g->b[h + 3]);
			unsigned c[] = { 0, ihl4 - 1, ihl4, cur - 1, cur + 1, (unsigned)L,
					 (unsigned)L + 1, 0xffff, xw_rng_below(g->r, 65536) };
			wr16(g, h + 2, c[xw_rng_below(g->r, XW_POOL_N(c))] & 0xffff);
		} else if (g->l3 == 6 && h + 6 <= g->len) {
			unsigned cur = (unsigned)(g->b[h + 4] << 8 | g->b[h + 5]);
			unsigned c[] = { 0, cur - 1, cur + 1, (unsigned)L - 40, (unsigned)L - 39,
					 0xffff, xw_rng_below(g->r, 65536) };
			wr16(g, h + 4, c[xw_rng_below(g->r, XW_POOL_N(c))] & 0xffff);
		}
		break;
	}
	case M_TINY:
		g->len = xw_rng_below(g->r, 14);
		break;
	}
}

size_t xw_pktgen(struct xw_rng *rng, uint8_t *buf, size_t cap)
{
	struct gen g;

	memset(&g, 0, sizeof(g));
	g.r = rng;
	build_frame(&g);

	if (xw_rng_chance(rng, 45)) {
		mutate(&g);
		if (xw_rng_chance(rng, 20))
			mutate(&g);
	}

	size_t n = g.len;
	if (n > XW_PKT_MAX)
		n = XW_PKT_MAX;
	if (n > cap)
		n = cap;
	memcpy(buf, g.b, n);
	return n;
}
