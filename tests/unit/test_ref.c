// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Tests of the reference classifier (tests/ref/refclass.c) against docs/semantics.md
 * "Packet semantics (exact)", one group per numbered rule, each with a
 * positive and a negative case; and of the packet / rule generators.
 * Rules are built as struct xw_rule directly (no parser involved). */
#include <check.h>
#include "check_main.h"
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "pktbuild.h"
#include "pktgen.h"
#include "refclass.h"
#include "rulegen.h"

/* ---- frames (loader/frames/pktbuild.h) ---- */

struct pkt {
	uint8_t b[2048];
	size_t n;
	int ip;                 /* 4 or 6: the IP header fix_len() sets */
	size_t l3;
};

static const uint8_t MAC_A[6] = { 0x02, 0, 0, 0, 0, 0x0a };
static const uint8_t MAC_B[6] = { 0x02, 0, 0, 0, 0, 0x0b };

static void ip4_addr(uint8_t *a, const char *s)
{
	ck_assert_int_eq(inet_pton(AF_INET, s, a), 1);
}

static void ip6_addr(uint8_t *a, const char *s)
{
	ck_assert_int_eq(inet_pton(AF_INET6, s, a), 1);
}

/* An untagged frame MAC_A -> MAC_B of this EtherType, nothing else set. */
static struct xw_pb_spec eth_spec(uint16_t type)
{
	struct xw_pb_spec s;

	memset(&s, 0, sizeof(s));
	memcpy(s.eth_dst, MAC_B, 6);
	memcpy(s.eth_src, MAC_A, 6);
	s.vlan = -1;
	s.eth_type = type;
	return s;
}

/* IPv4 / IPv6 src -> dst, protocol proto with a whole transport header
 * (ports, flags, ICMP type and code are 0 until set). */
static struct xw_pb_spec ip4_spec(uint8_t proto, const char *src, const char *dst)
{
	struct xw_pb_spec s = eth_spec(0x0800);

	s.l3 = XW_PB_L3_V4;
	ip4_addr(s.src, src);
	ip4_addr(s.dst, dst);
	s.proto = proto;
	s.l4 = 1;
	return s;
}

static struct xw_pb_spec ip6_spec(uint8_t proto, const char *src, const char *dst)
{
	struct xw_pb_spec s = eth_spec(0x86DD);

	s.l3 = XW_PB_L3_V6;
	ip6_addr(s.src, src);
	ip6_addr(s.dst, dst);
	s.proto = proto;
	s.l4 = 1;
	return s;
}

static struct xw_pb_spec spec4(uint8_t proto)
{
	return ip4_spec(proto, "10.1.2.3", "192.168.1.1");
}

static struct xw_pb_spec spec6(uint8_t proto)
{
	return ip6_spec(proto, "2001:db8::1", "2001:db8:1::2");
}

static struct xw_pb_spec ports(struct xw_pb_spec s, uint16_t sport, uint16_t dport)
{
	s.sport = sport;
	s.dport = dport;
	return s;
}

/* The frame of s.  Variant 0 is the plain encoding the byte offsets of the
 * tests assume: untagged IP header at 14, IPv4 IHL 5, no extension headers
 * (but a fragment header), transport header last, no padding. */
static void build(struct pkt *p, const struct xw_pb_spec *s)
{
	memset(p, 0, sizeof(*p));
	p->n = xw_pb_build(s, p->b, sizeof(p->b));
	ck_assert_uint_ge(p->n, 14);
	p->ip = s->l3 == XW_PB_L3_V4 ? 4 : s->l3 == XW_PB_L3_V6 ? 6 : 0;
	p->l3 = s->vlan < 0 ? 14 : (s->variant & XW_PB_VB_QINQ) ? 22 : 18;
}

/* Set the IP length field to cover everything in the frame. */
static void fix_len(struct pkt *p)
{
	if (p->ip == 4) {
		p->b[p->l3 + 2] = (uint8_t)((p->n - p->l3) >> 8);
		p->b[p->l3 + 3] = (uint8_t)(p->n - p->l3);
		xw_pb_ip4_csum(p->b + p->l3);
	} else if (p->ip == 6) {
		p->b[p->l3 + 4] = (uint8_t)((p->n - p->l3 - 40) >> 8);
		p->b[p->l3 + 5] = (uint8_t)(p->n - p->l3 - 40);
	}
}

/* Cut the frame to n bytes and make the IP length field agree, so the IP
 * header stays valid and only what follows it is short. */
static void cut(struct pkt *p, size_t n)
{
	p->n = n;
	fix_len(p);
}

/* n zero bytes inserted at off: for what the builder does not write (a third
 * VLAN tag, IPv6 extension chains of other orders and lengths than its own). */
static uint8_t *insert(struct pkt *p, size_t off, size_t n)
{
	memmove(p->b + off + n, p->b + off, p->n - off);
	memset(p->b + off, 0, n);
	p->n += n;
	return p->b + off;
}

/* An IPv6 extension header of n bytes (only the next header set) made the
 * first of the chain of p; returns it. */
static uint8_t *push6(struct pkt *p, uint8_t type, size_t n)
{
	uint8_t *h;

	ck_assert_int_eq(p->ip, 6);
	h = insert(p, p->l3 + 40, n);
	h[0] = p->b[p->l3 + 6];
	p->b[p->l3 + 6] = type;
	fix_len(p);
	return h;
}

/* Hop-by-hop / routing / destination options header of (len+1)*8 bytes. */
static void push_ext(struct pkt *p, uint8_t type, uint8_t len)
{
	push6(p, type, (len + 1u) * 8)[1] = len;
}

static void push_frag(struct pkt *p, uint16_t off, int m)
{
	uint8_t *h = push6(p, 44, 8);

	h[2] = (uint8_t)(off >> 5);
	h[3] = (uint8_t)((off << 3) | (m ? 1 : 0));
}

/* ---- rule builder (storage from a per-test arena) ---- */

static struct xw_range arena_r[256];
static struct xw_cidr arena_c[64];
static size_t n_arena_r, n_arena_c;

static void arena_reset(void)
{
	n_arena_r = n_arena_c = 0;
}

static struct xw_rule R(void)
{
	struct xw_rule r;
	memset(&r, 0, sizeof(r));
	r.prio = 100;
	r.dir = XW_DIR_IN;
	r.verdict = XW_PASS;
	return r;
}

static void add_cidr(struct xw_cidr **list, size_t *n, const char *text)
{
	char buf[64];
	struct xw_cidr *c = &arena_c[n_arena_c++];
	char *slash;

	ck_assert_uint_lt(n_arena_c, 64);
	if (*n == 0)
		*list = c;
	ck_assert_ptr_eq(*list + *n, c);  /* a list must be built without interleaving */
	snprintf(buf, sizeof(buf), "%s", text);
	slash = strchr(buf, '/');
	if (slash)
		*slash = 0;
	memset(c, 0, sizeof(*c));
	if (inet_pton(AF_INET, buf, c->addr) == 1) {
		c->family = 4;
		c->plen = slash ? (uint8_t)atoi(slash + 1) : 32;
	} else {
		ck_assert_int_eq(inet_pton(AF_INET6, buf, c->addr), 1);
		c->family = 6;
		c->plen = slash ? (uint8_t)atoi(slash + 1) : 128;
	}
	(*n)++;
}

static void r_src(struct xw_rule *r, const char *cidr)
{
	r->present |= XM_SRC;
	add_cidr(&r->src, &r->n_src, cidr);
}

static void r_dst(struct xw_rule *r, const char *cidr)
{
	r->present |= XM_DST;
	add_cidr(&r->dst, &r->n_dst, cidr);
}

static void add_range(struct xw_range **list, size_t *n, unsigned lo, unsigned hi)
{
	struct xw_range *x = &arena_r[n_arena_r++];
	ck_assert_uint_lt(n_arena_r, 256);
	if (*n == 0)
		*list = x;
	ck_assert_ptr_eq(*list + *n, x);
	x->lo = (uint16_t)lo;
	x->hi = (uint16_t)hi;
	(*n)++;
}

static void r_sport(struct xw_rule *r, unsigned lo, unsigned hi)
{
	r->present |= XM_SPORT;
	add_range(&r->sport, &r->n_sport, lo, hi);
}

static void r_dport(struct xw_rule *r, unsigned lo, unsigned hi)
{
	r->present |= XM_DPORT;
	add_range(&r->dport, &r->n_dport, lo, hi);
}

static void r_proto(struct xw_rule *r, uint8_t proto)
{
	r->present |= XM_PROTO;
	r->proto = proto;
}

static void r_flags(struct xw_rule *r, uint8_t f, uint8_t m)
{
	r->present |= XM_TCPFLAGS;
	r->tcp_flags = f;
	r->tcp_mask = m;
}

static void r_icmp_type(struct xw_rule *r, int v6, unsigned lo, unsigned hi)
{
	r->present |= v6 ? XM_ICMP6 : XM_ICMP;
	add_range(&r->icmp_type, &r->n_icmp_type, lo, hi);
}

/* Call after all r_icmp_type() of the rule (lists are contiguous). */
static void r_icmp_code(struct xw_rule *r, unsigned lo, unsigned hi)
{
	add_range(&r->icmp_code, &r->n_icmp_code, lo, hi);
}

static void r_frag(struct xw_rule *r, uint8_t kind)
{
	r->present |= XM_FRAG;
	r->frag = kind;
}

static void r_ethtype(struct xw_rule *r, uint16_t t)
{
	r->present |= XM_ETH_TYPE;
	r->eth_type = t;
}

static void r_vlan(struct xw_rule *r, uint16_t vid)
{
	r->present |= XM_VLAN;
	r->vlan = vid;
}

/* ---- classification helpers ---- */

static const uint8_t POLICY_DROP[2] = { XW_DROP, XW_DROP };

/* Does the single rule r match p (ingress, ifindex 1)? */
static int M(const struct xw_rule *r, const struct pkt *p)
{
	struct xw_ref_result res;
	ck_assert_int_eq(xw_ref_classify(r, 1, POLICY_DROP, p->b, p->n, XW_DIR_IN, 1, NULL, &res), 0);
	if (res.index == 0) {
		ck_assert_uint_eq(res.verdict, r->verdict);
		ck_assert_uint_eq(res.prio, r->prio);
		ck_assert_uint_eq(res.reason, XW_REASON_RULE);
	} else {
		ck_assert_int_eq(res.index, -1);
		ck_assert_uint_eq(res.prio, XW_PRIO_NONE);
		ck_assert_uint_eq(res.verdict, XW_DROP);
	}
	return res.index == 0;
}

static int MALFORMED(const struct pkt *p)
{
	struct xw_ref_pkt x;
	xw_ref_parse(p->b, p->n, &x);
	return x.malformed;
}

static struct xw_ref_pkt PARSE(const struct pkt *p)
{
	struct xw_ref_pkt x;
	xw_ref_parse(p->b, p->n, &x);
	return x;
}

static void setup(void)
{
	arena_reset();
}

/* A TCP/IPv4 packet 10.1.2.3:1000 -> 192.168.1.1:22 SYN. */
static struct xw_pb_spec tcp4_spec(void)
{
	struct xw_pb_spec s = ports(spec4(6), 1000, 22);

	s.tcp_flags = 0x02;
	return s;
}

static void tcp4(struct pkt *p)
{
	struct xw_pb_spec s = tcp4_spec();

	build(p, &s);
}

/* A TCP/IPv6 packet 2001:db8::1:1000 -> 2001:db8:1::2:22 SYN. */
static struct xw_pb_spec tcp6_spec(void)
{
	struct xw_pb_spec s = ports(spec6(6), 1000, 22);

	s.tcp_flags = 0x02;
	return s;
}

static void tcp6(struct pkt *p)
{
	struct xw_pb_spec s = tcp6_spec();

	build(p, &s);
}

/* A non-first fragment (offset off) of s, whose data is the transport
 * header (and payload) of s unfragmented: bytes that look like one, which
 * the builder writes after the IP headers only when told to (`data`). */
static void later_of(struct pkt *p, struct xw_pb_spec s, uint16_t off)
{
	struct xw_pb_spec w = s;
	struct pkt whole;
	size_t l4;

	w.mf = 0;                       /* no IPv6 fragment header before it */
	build(&whole, &w);
	l4 = whole.l3 + (whole.ip == 4 ? 20 : 40);
	s.later = 1;
	s.frag_off = off;
	s.data = whole.b + l4;
	s.payload = (uint16_t)(whole.n - l4);
	build(p, &s);
}

/* ---- Ethernet and short frames ---- */

START_TEST(short_frames_get_policy)
{
	struct pkt p;
	struct xw_rule bare = R(), mac = R();
	struct xw_ref_result res;

	mac.present = XM_ETH_SRC;
	memcpy(mac.eth_src, MAC_A, 6);
	tcp4(&p);
	for (size_t n = 0; n < 14; n++) {
		p.n = n;
		ck_assert(!M(&bare, &p));
		ck_assert(!M(&mac, &p));
		ck_assert_int_eq(xw_ref_classify(&bare, 1, (const uint8_t[]){ XW_PASS, XW_DROP },
						 p.b, n, XW_DIR_IN, 1, NULL, &res), 0);
		ck_assert_uint_eq(res.short_frame, 1);
		ck_assert_uint_eq(res.reason, XW_REASON_SHORT);
		ck_assert_uint_eq(res.verdict, XW_PASS);
		ck_assert_uint_eq(res.prio, XW_PRIO_NONE);
	}
	/* 14 bytes is a whole Ethernet header: MACs and EtherType exist. */
	p.n = 14;
	ck_assert(M(&bare, &p));
	ck_assert(M(&mac, &p));
	ck_assert_uint_eq(PARSE(&p).short_frame, 0);
}
END_TEST

START_TEST(ether_addresses)
{
	struct pkt p;
	struct xw_rule r = R();

	tcp4(&p);
	r.present = XM_ETH_SRC | XM_ETH_DST;
	memcpy(r.eth_src, MAC_A, 6);
	memcpy(r.eth_dst, MAC_B, 6);
	ck_assert(M(&r, &p));
	memcpy(r.eth_dst, MAC_A, 6);    /* swapped: no */
	ck_assert(!M(&r, &p));
}
END_TEST

/* ---- rule 1: ip / ip6 are the EtherType only ---- */

START_TEST(rule1_ip_is_ethertype_only)
{
	struct pkt p;
	struct xw_pb_spec sp;
	struct xw_rule ip = R(), ip6r = R(), src = R(), arp = R();

	ip.present = XM_IP;
	ip6r.present = XM_IP6;
	r_src(&src, "0.0.0.0/0");
	r_ethtype(&arp, 0x0806);

	sp = eth_spec(0x0800);          /* EtherType IPv4, 5 bytes after */
	sp.bad = XW_PB_V4_SHORT;
	sp.variant = XW_PB_VLEN(5);
	build(&p, &sp);
	ck_assert_uint_eq(p.n, 14 + 5);
	ck_assert(MALFORMED(&p));
	ck_assert(M(&ip, &p));
	ck_assert(!M(&ip6r, &p));
	ck_assert(!M(&src, &p));

	tcp4(&p);                       /* IPv6 EtherType, IPv4 header inside */
	p.b[12] = 0x86;
	p.b[13] = 0xDD;
	ck_assert(M(&ip6r, &p));
	ck_assert(!M(&ip, &p));
	ck_assert(MALFORMED(&p));

	sp = eth_spec(0x0806);
	sp.variant = XW_PB_VLEN(28);
	build(&p, &sp);
	ck_assert(!M(&ip, &p));
	ck_assert(!M(&ip6r, &p));
	ck_assert(M(&arp, &p));
	ck_assert(!MALFORMED(&p));
}
END_TEST

/* ---- rule 2: IPv4 header validity ---- */

START_TEST(rule2_ipv4_validity)
{
	struct pkt p;
	struct xw_pb_spec sp;
	struct xw_rule src = R(), proto = R();

	r_src(&src, "10.0.0.0/8");
	r_proto(&proto, 6);

	tcp4(&p);
	ck_assert(!MALFORMED(&p));
	ck_assert(M(&src, &p));
	ck_assert(M(&proto, &p));

	/* fewer than 20 bytes after the link header */
	tcp4(&p);
	p.n = 14 + 19;
	ck_assert(MALFORMED(&p));
	ck_assert(!M(&src, &p));
	ck_assert(!M(&proto, &p));

	/* version 5 */
	sp = tcp4_spec();
	sp.ip_version = 5;
	build(&p, &sp);
	ck_assert_uint_eq(p.b[14], 0x55);
	ck_assert(MALFORMED(&p));
	ck_assert(!M(&src, &p));

	/* IHL 4 */
	tcp4(&p);
	p.b[14] = 0x44;
	ck_assert(MALFORMED(&p));
	ck_assert(!M(&proto, &p));

	/* proto 0 (the zero value of an absent field) needs a valid header */
	struct xw_rule p0 = R();
	r_proto(&p0, 0);
	ck_assert(!M(&p0, &p));
	sp = eth_spec(0x0806);
	sp.variant = XW_PB_VLEN(28);
	build(&p, &sp);
	ck_assert(!M(&p0, &p));
	sp = spec4(0);
	build(&p, &sp);
	ck_assert(M(&p0, &p));

	/* total length below IHL*4 */
	tcp4(&p);
	p.b[16] = 0;
	p.b[17] = 19;
	ck_assert(MALFORMED(&p));
	ck_assert(!M(&src, &p));

	/* total length beyond the frame */
	tcp4(&p);
	p.n--;
	ck_assert(MALFORMED(&p));
	ck_assert(!M(&src, &p));

	/* boundary: total length == IHL*4 is valid */
	tcp4(&p);
	p.b[16] = 0;
	p.b[17] = 20;
	ck_assert(!MALFORMED(&p));
	ck_assert(M(&src, &p));

	/* trailing padding beyond total length is fine */
	sp = ports(spec4(6), 1000, 22);
	sp.variant = XW_PB_VB_PAD | XW_PB_VLEN(7);      /* 8 bytes */
	build(&p, &sp);
	ck_assert_uint_eq(p.n, 14 + 40 + 8);
	ck_assert(!MALFORMED(&p));
	ck_assert(M(&proto, &p));

	/* 40 bytes of options (IHL 15) */
	sp = ports(ip4_spec(17, "10.9.9.9", "10.0.0.1"), 53, 5353);
	sp.ip4_nops = 40;
	build(&p, &sp);
	ck_assert_uint_eq(p.b[14], 0x4f);
	ck_assert(!MALFORMED(&p));
	ck_assert(M(&src, &p));
	struct xw_rule dport = R();
	r_dport(&dport, 5353, 5353);
	ck_assert(M(&dport, &p));
}
END_TEST

START_TEST(rule2_ipv6_validity)
{
	struct pkt p;
	struct xw_pb_spec sp;
	struct xw_rule src = R(), proto = R();

	r_src(&src, "2001:db8::/32");
	r_proto(&proto, 6);

	tcp6(&p);
	ck_assert(!MALFORMED(&p));
	ck_assert(M(&src, &p));
	ck_assert(M(&proto, &p));

	tcp6(&p);
	p.n = 14 + 39;
	ck_assert(MALFORMED(&p));
	ck_assert(!M(&src, &p));

	sp = tcp6_spec();
	sp.ip_version = 4;
	build(&p, &sp);
	ck_assert_uint_eq(p.b[14], 0x40);
	ck_assert(MALFORMED(&p));
	ck_assert(!M(&proto, &p));

	sp = tcp6_spec();
	sp.ip_len_extra = 1;            /* payload length one too big */
	build(&p, &sp);
	ck_assert(MALFORMED(&p));
	ck_assert(!M(&src, &p));

	tcp6(&p);
	p.b[19]--;                      /* one too small: valid */
	ck_assert(!MALFORMED(&p));
	ck_assert(M(&src, &p));
}
END_TEST

/* ---- rule 3: IPv6 extension header walk ---- */

START_TEST(rule3_ext_walk_up_to_eight)
{
	static const uint8_t chain[9] = { 0, 43, 60, 44, 60, 43, 0, 60, 43 };
	struct pkt p;
	struct xw_rule proto = R(), dport = R();

	r_proto(&proto, 6);
	r_dport(&dport, 22, 22);

	for (unsigned n = 0; n <= 9; n++) {
		tcp6(&p);
		for (unsigned i = n; i-- > 0; ) {       /* chain[0] ends up first */
			if (chain[i] == 44)
				push_frag(&p, 0, 1);    /* first fragment: walk goes on */
			else
				push_ext(&p, chain[i], (uint8_t)(i % 3));
		}
		if (n <= 8) {
			ck_assert_msg(!MALFORMED(&p), "%u headers", n);
			ck_assert_uint_eq(PARSE(&p).n_ext, n);
			ck_assert(M(&proto, &p));
			ck_assert(M(&dport, &p));
		} else {
			ck_assert(MALFORMED(&p));
			ck_assert(!M(&proto, &p));
		}
	}
}
END_TEST

START_TEST(rule3_later_fragment_ends_walk)
{
	struct pkt p;
	struct xw_pb_spec sp;
	struct xw_rule proto = R(), dport = R(), later = R();

	r_proto(&proto, 6);
	r_dport(&dport, 22, 22);
	r_frag(&later, XW_FRAG_LATER);

	/* later fragment, next header TCP: proto known, no ports (its data is
	 * a TCP header) */
	sp = tcp6_spec();
	sp.mf = 1;
	later_of(&p, sp, 100);
	ck_assert(!MALFORMED(&p));
	ck_assert(M(&proto, &p));
	ck_assert(M(&later, &p));
	ck_assert(!M(&dport, &p));

	/* later fragment whose next header is an extension header: invalid */
	static const uint8_t exts[] = { 0, 43, 44, 60 };
	for (unsigned i = 0; i < 4; i++) {
		tcp6(&p);
		push_ext(&p, exts[i], 0);
		push_frag(&p, 100, 0);
		ck_assert_msg(MALFORMED(&p), "inner nh %u", exts[i]);
		ck_assert(!M(&later, &p));
		ck_assert(!M(&proto, &p));
	}

	/* a first fragment whose next header is 43 is walked on */
	tcp6(&p);
	push_ext(&p, 43, 1);
	push_frag(&p, 0, 1);
	ck_assert(!MALFORMED(&p));
	ck_assert(M(&dport, &p));

	/* seven headers plus a later fragment as the 8th: valid;
	 * as the 9th: too many */
	for (unsigned before = 7; before <= 8; before++) {
		struct xw_pb_spec s = ports(spec6(17), 53, 53);

		build(&p, &s);
		push_frag(&p, 1, 0);
		for (unsigned i = 0; i < before; i++)
			push_ext(&p, 60, 0);
		ck_assert_int_eq(MALFORMED(&p), before == 8);
	}
}
END_TEST

START_TEST(rule3_walk_stops_at_ah_59_and_others)
{
	struct pkt p;
	struct xw_pb_spec sp;
	struct xw_rule ah = R(), nonext = R(), dport = R(), udp17 = R();

	r_proto(&ah, 51);
	r_proto(&nonext, 59);
	r_dport(&dport, 22, 22);
	r_proto(&udp17, 17);

	/* AH is the protocol; the TCP header behind it is not looked at */
	tcp6(&p);
	push6(&p, 51, 24)[1] = 4;       /* AH: (4 + 2) * 4 bytes */
	push_ext(&p, 0, 0);
	ck_assert(!MALFORMED(&p));
	ck_assert(M(&ah, &p));
	ck_assert(!M(&dport, &p));

	sp = spec6(59);
	build(&p, &sp);
	ck_assert_uint_eq(p.n, 14 + 40);
	ck_assert(!MALFORMED(&p));
	ck_assert(M(&nonext, &p));
	ck_assert(!M(&ah, &p));

	/* routing header then UDP; payload length smaller than the chain is
	 * still valid (the walk is bounded by the frame) */
	sp = ports(spec6(17), 53, 22);
	build(&p, &sp);
	push_ext(&p, 43, 2);
	p.b[14 + 4] = 0;
	p.b[14 + 5] = 0;
	ck_assert(!MALFORMED(&p));
	ck_assert(M(&udp17, &p));
	ck_assert(M(&dport, &p));
}
END_TEST

START_TEST(rule3_truncated_extension_headers)
{
	struct pkt p;
	struct xw_pb_spec sp;
	struct xw_rule nonext = R();

	r_proto(&nonext, 59);

	/* exactly fits: valid */
	sp = spec6(59);
	build(&p, &sp);
	push_ext(&p, 0, 1);
	ck_assert(!MALFORMED(&p));
	ck_assert(M(&nonext, &p));

	/* header claims 16 bytes, 15 present */
	cut(&p, p.n - 1);
	ck_assert(MALFORMED(&p));
	ck_assert(!M(&nonext, &p));

	/* only one byte of the header: cannot read its length */
	build(&p, &sp);
	push6(&p, 60, 1);
	ck_assert_uint_eq(p.n, 14 + 41);
	ck_assert(MALFORMED(&p));

	/* fragment header of 7 bytes */
	sp.variant = XW_PB_VB_DF;       /* an atomic fragment header */
	build(&p, &sp);
	ck_assert_uint_eq(p.n, 14 + 48);
	cut(&p, p.n - 1);
	ck_assert(MALFORMED(&p));
	cut(&p, p.n + 1);
	ck_assert(!MALFORMED(&p));
	ck_assert(M(&nonext, &p));
}
END_TEST

/* ---- rule 4: proto matches non-first fragments ---- */

START_TEST(rule4_proto_on_later_fragments)
{
	struct pkt p;
	struct xw_pb_spec sp;
	struct xw_rule proto = R(), sport = R(), flags = R();

	r_proto(&proto, 6);
	r_sport(&sport, 1000, 1000);
	r_flags(&flags, 0x02, 0x02);

	sp = ports(ip4_spec(6, "10.0.0.1", "10.0.0.2"), 1000, 22);
	sp.tcp_flags = 0x02;
	sp.mf = 1;
	later_of(&p, sp, 5);            /* middle fragment whose data looks like TCP */
	ck_assert_uint_eq(p.b[14 + 6] << 8 | p.b[14 + 7], 0x2005);
	ck_assert(!MALFORMED(&p));
	ck_assert(M(&proto, &p));
	ck_assert(!M(&sport, &p));
	ck_assert(!M(&flags, &p));

	build(&p, &sp);                                         /* first fragment */
	ck_assert(M(&sport, &p));
	ck_assert(M(&flags, &p));

	r_proto(&proto, 17);
	ck_assert(!M(&proto, &p));
}
END_TEST

/* ---- rule 5: transport fields need the minimum header ---- */

struct l4case {
	int v6;
	uint8_t proto;
	unsigned min;
};

/* Ports 1000 -> 22, TCP flags SYN|ACK, ICMP type 8 code 3. */
static void build_l4(struct pkt *p, const struct l4case *c)
{
	struct xw_pb_spec s = ports(c->v6 ? spec6(c->proto) : spec4(c->proto), 1000, 22);

	s.tcp_flags = 0x12;
	s.icmp_type = 8;
	s.icmp_code = 3;
	build(p, &s);
}

START_TEST(rule5_minimum_transport_header)
{
	static const struct l4case cases[] = {
		{ 0, 6, 20 }, { 0, 17, 8 }, { 0, 132, 12 }, { 0, 1, 8 },
		{ 1, 6, 20 }, { 1, 17, 8 }, { 1, 132, 12 }, { 1, 58, 8 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct l4case *c = &cases[i];
		struct pkt p;
		struct xw_rule proto = R(), dport = R(), icmpr = R();
		int ported = c->proto != 1 && c->proto != 58;

		arena_reset();
		r_proto(&proto, c->proto);
		r_dport(&dport, 22, 22);
		r_icmp_type(&icmpr, c->proto == 58, 8, 8);

		build_l4(&p, c);
		size_t l4 = p.n - c->min;
		ck_assert(M(&proto, &p));
		ck_assert_int_eq(M(&dport, &p), ported);
		ck_assert_int_eq(M(&icmpr, &p), !ported);

		/* one byte short, IP lengths consistent: proto yes, fields no */
		cut(&p, l4 + c->min - 1);
		ck_assert_msg(!MALFORMED(&p), "case %zu", i);
		ck_assert(M(&proto, &p));
		ck_assert(!M(&dport, &p));
		ck_assert(!M(&icmpr, &p));
	}
}
END_TEST

START_TEST(rule5_fields_read_from_frame_not_ip_length)
{
	struct pkt p;
	struct xw_rule dport = R();

	r_dport(&dport, 22, 22);
	/* total length covers only the IP header; the TCP header follows in
	 * the frame and is used (minimum header present in the frame) */
	tcp4(&p);
	p.b[16] = 0;
	p.b[17] = 20;
	ck_assert(!MALFORMED(&p));
	ck_assert(M(&dport, &p));

	tcp6(&p);
	p.b[18] = 0;
	p.b[19] = 0;
	ck_assert(M(&dport, &p));
}
END_TEST

START_TEST(rule5_ports_only_tcp_udp_sctp)
{
	struct pkt p;
	struct xw_pb_spec sp;
	struct xw_rule dport = R(), sport = R();

	r_dport(&dport, 22, 22);
	r_sport(&sport, 1000, 1000);

	/* ICMP echo whose bytes 2..3 would read as 22 if taken as ports */
	sp = spec4(1);
	sp.icmp_type = 8;
	build(&p, &sp);
	p.b[34 + 2] = 0;
	p.b[34 + 3] = 22;
	ck_assert(!M(&dport, &p));

	/* GRE likewise: 20 bytes whose first four would read as 1000 -> 22 */
	sp = spec4(47);
	sp.payload = 20;
	sp.data = (const uint8_t[20]){ 1000 >> 8, 1000 & 0xff, 0, 22 };
	build(&p, &sp);
	ck_assert_uint_eq(p.n, 34 + 20);
	ck_assert(!M(&dport, &p));
	ck_assert(!M(&sport, &p));

	/* without a protocol, each of the three gives ports */
	static const uint8_t protos[] = { 6, 17, 132 };
	for (unsigned i = 0; i < 3; i++) {
		struct l4case c = { (int)(i & 1), protos[i], 0 };
		build_l4(&p, &c);
		ck_assert(M(&dport, &p));
		ck_assert(M(&sport, &p));
	}
}
END_TEST

START_TEST(rule5_port_ranges_and_lists)
{
	struct pkt p;
	struct xw_rule r = R();

	r_dport(&r, 20, 21);
	r_dport(&r, 80, 80);
	r_dport(&r, 8000, 8999);
	static const struct { uint16_t port; int hit; } t[] = {
		{ 19, 0 }, { 20, 1 }, { 21, 1 }, { 22, 0 }, { 80, 1 }, { 81, 0 },
		{ 7999, 0 }, { 8000, 1 }, { 8999, 1 }, { 9000, 0 }, { 0, 0 }, { 65535, 0 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct xw_pb_spec s = ports(spec4(17), 5, t[i].port);

		build(&p, &s);
		ck_assert_msg(M(&r, &p) == t[i].hit, "port %u", t[i].port);
	}
	/* sport checks the source port, not the destination */
	struct xw_rule s = R();
	r_sport(&s, 5, 5);
	ck_assert(M(&s, &p));
	s.sport[0].lo = s.sport[0].hi = 65535;
	ck_assert(!M(&s, &p));
}
END_TEST

START_TEST(rule5_icmp_family_and_codes)
{
	struct pkt p;
	struct xw_pb_spec sp;
	struct xw_rule v4 = R(), v6 = R(), code = R();

	r_icmp_type(&v4, 0, 8, 8);
	r_icmp_type(&v6, 1, 128, 136);
	r_icmp_type(&code, 0, 3, 3);
	r_icmp_type(&code, 0, 11, 11);
	r_icmp_code(&code, 0, 1);
	r_icmp_code(&code, 4, 4);

	/* ICMP type 8 in IPv6 next header 1: not ICMP (rule 5); the builder
	 * writes 8 bytes of data there, their first two an ICMP type and code */
	sp = spec6(1);
	sp.payload = 8;
	sp.data = (const uint8_t[8]){ 8, 0 };
	build(&p, &sp);
	ck_assert_uint_eq(p.n, 54 + 8);
	ck_assert(!M(&v4, &p));

	/* ICMPv6 header in IPv4 protocol 58: not ICMPv6 */
	sp = spec4(58);
	sp.payload = 8;
	sp.data = (const uint8_t[8]){ 128, 0 };
	build(&p, &sp);
	ck_assert_uint_eq(p.n, 34 + 8);
	ck_assert(!M(&v6, &p));

	sp = spec6(58);
	sp.icmp_type = 136;
	build(&p, &sp);
	ck_assert(M(&v6, &p));
	sp.icmp_type = 137;
	build(&p, &sp);
	ck_assert(!M(&v6, &p));

	static const struct { uint8_t type, code; int hit; } t[] = {
		{ 3, 0, 1 }, { 3, 1, 1 }, { 3, 2, 0 }, { 3, 4, 1 }, { 11, 4, 1 },
		{ 11, 3, 0 }, { 8, 0, 0 }, { 4, 0, 0 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		sp = spec4(1);
		sp.icmp_type = t[i].type;
		sp.icmp_code = t[i].code;
		build(&p, &sp);
		ck_assert_msg(M(&code, &p) == t[i].hit, "type %u code %u", t[i].type, t[i].code);
		ck_assert_int_eq(M(&v4, &p), t[i].type == 8);   /* no codes: any code */
	}
}
END_TEST

START_TEST(rule5_tcp_data_offset_not_checked)
{
	struct pkt p;
	struct xw_rule dport = R();

	r_dport(&dport, 22, 22);
	tcp4(&p);
	p.b[14 + 20 + 12] = 0x00;       /* data offset 0 */
	ck_assert(M(&dport, &p));
}
END_TEST

/* ---- rule 6: tcp flags F / M ---- */

START_TEST(rule6_tcp_flags_mask)
{
	struct pkt p;
	struct xw_pb_spec s = tcp4_spec();
	struct xw_rule syn_only = R(), syn = R(), not_ack = R();

	r_flags(&syn_only, 0x02, 0x12);         /* syn / syn,ack */
	r_flags(&syn, 0x02, 0x02);              /* syn (mask defaults to F) */
	r_flags(&not_ack, 0x00, 0x10);

	build(&p, &s);                          /* SYN */
	ck_assert(M(&syn_only, &p));
	ck_assert(M(&syn, &p));
	ck_assert(M(&not_ack, &p));

	s.tcp_flags = 0x12;                     /* SYN|ACK */
	build(&p, &s);
	ck_assert(!M(&syn_only, &p));
	ck_assert(M(&syn, &p));
	ck_assert(!M(&not_ack, &p));

	s.tcp_flags = 0x10;                     /* ACK */
	build(&p, &s);
	ck_assert(!M(&syn, &p));

	/* tcp flags never match UDP, with bytes where TCP flags would be
	 * (zero: no ACK) */
	s = ports(spec4(17), 1, 2);
	s.payload = 20;
	s.data = (const uint8_t[20]){ 0 };
	build(&p, &s);
	ck_assert_uint_eq(p.b[34 + 13], 0);
	ck_assert(!M(&not_ack, &p));
}
END_TEST

/* ---- rule 7: fragments ---- */

struct fragexp {
	int any, first, later;
};

static void check_frag(const struct pkt *p, struct fragexp e)
{
	struct xw_rule any = R(), first = R(), later = R();
	r_frag(&any, XW_FRAG_ANY);
	r_frag(&first, XW_FRAG_FIRST);
	r_frag(&later, XW_FRAG_LATER);
	ck_assert_int_eq(M(&any, p), e.any);
	ck_assert_int_eq(M(&first, p), e.first);
	ck_assert_int_eq(M(&later, p), e.later);
}

/* UDP 1 -> 2 as a fragment: more fragments, offset != 0 (the builder's
 * offset of variant 0 is 1), variant (XW_PB_VB_DF: the DF bit / an atomic
 * IPv6 fragment header). */
static struct xw_pb_spec frag_spec(int v6, int mf, int later, uint32_t variant)
{
	struct xw_pb_spec s = ports(v6 ? ip6_spec(17, "2001:db8::1", "2001:db8::2")
				       : ip4_spec(17, "10.0.0.1", "10.0.0.2"), 1, 2);

	s.mf = (uint8_t)mf;
	s.later = (uint8_t)later;
	s.variant = variant;
	return s;
}

static void frag_pkt(struct pkt *p, int v6, int mf, int later, uint32_t variant)
{
	struct xw_pb_spec s = frag_spec(v6, mf, later, variant);

	build(p, &s);
}

START_TEST(rule7_fragment_kinds)
{
	struct pkt p;
	struct xw_pb_spec sp;

	frag_pkt(&p, 0, 0, 0, XW_PB_VB_DF);     /* DF, unfragmented */
	ck_assert_uint_eq(p.b[14 + 6], 0x40);
	check_frag(&p, (struct fragexp){ 0, 0, 0 });
	frag_pkt(&p, 0, 1, 0, 0);               /* first */
	check_frag(&p, (struct fragexp){ 1, 1, 0 });
	frag_pkt(&p, 0, 1, 1, 0);               /* middle */
	check_frag(&p, (struct fragexp){ 1, 0, 1 });
	frag_pkt(&p, 0, 0, 1, 0);               /* last */
	check_frag(&p, (struct fragexp){ 1, 0, 1 });
	frag_pkt(&p, 0, 0, 0, 0);
	p.b[14 + 6] = 0x80;                     /* reserved bit only */
	check_frag(&p, (struct fragexp){ 0, 0, 0 });

	frag_pkt(&p, 1, 0, 0, 0);               /* no fragment header */
	check_frag(&p, (struct fragexp){ 0, 0, 0 });
	frag_pkt(&p, 1, 0, 0, XW_PB_VB_DF);     /* atomic fragment */
	ck_assert_uint_eq(p.b[14 + 6], 44);
	check_frag(&p, (struct fragexp){ 0, 0, 0 });
	frag_pkt(&p, 1, 1, 0, 0);
	check_frag(&p, (struct fragexp){ 1, 1, 0 });
	frag_pkt(&p, 1, 1, 1, 0);
	check_frag(&p, (struct fragexp){ 1, 0, 1 });
	sp = frag_spec(1, 0, 1, 0);
	sp.frag_off = 0x1fff;                   /* the largest offset */
	build(&p, &sp);
	ck_assert_uint_eq(p.b[54 + 2] << 8 | p.b[54 + 3], 0xfff8);
	check_frag(&p, (struct fragexp){ 1, 0, 1 });

	/* malformed: no fragment field at all */
	frag_pkt(&p, 0, 1, 0, 0);
	p.n--;
	check_frag(&p, (struct fragexp){ 0, 0, 0 });
}
END_TEST

/* ---- rule 8: checksum ---- */

START_TEST(rule8_checksum_ignored)
{
	struct pkt p;
	struct xw_rule src = R();

	r_src(&src, "10.1.2.3");
	tcp4(&p);
	p.b[14 + 10] = 0xde;            /* a wrong checksum */
	p.b[14 + 11] = 0xad;
	ck_assert(M(&src, &p));
	p.b[14 + 10] = 0;
	p.b[14 + 11] = 0;
	ck_assert(M(&src, &p));
	p.b[14 + 15] ^= 1;              /* 10.1.2.2 */
	ck_assert(!M(&src, &p));
}
END_TEST

/* ---- rule 9: VLAN tags ---- */

START_TEST(rule9_two_tags)
{
	struct pkt p;
	struct xw_pb_spec sp;
	struct xw_rule src = R(), outer = R(), inner = R(), type = R(), ip = R();

	r_src(&src, "10.0.0.0/8");
	r_vlan(&outer, 100);
	r_ethtype(&type, 0x0800);
	ip.present = XM_IP;

	sp = ports(spec4(6), 1, 22);
	sp.tcp_flags = 0x02;
	sp.vlan = 100;
	/* 0x88A8 outer tag, 0x8100 inner; PCP and DEI set: not in the VID */
	sp.variant = XW_PB_VB_QINQ | XW_PB_VB_TCI;
	build(&p, &sp);
	ck_assert_uint_eq(p.b[12] << 8 | p.b[13], 0x88A8);
	ck_assert_uint_ne(p.b[14] >> 4, 0);
	r_vlan(&inner, (p.b[18] << 8 | p.b[19]) & 0xfff);
	ck_assert_uint_ne(inner.vlan, 100);
	ck_assert(!MALFORMED(&p));
	ck_assert(M(&src, &p));
	ck_assert(M(&outer, &p));
	ck_assert(!M(&inner, &p));
	ck_assert(M(&type, &p));
	ck_assert(M(&ip, &p));
	ck_assert_uint_eq(PARSE(&p).n_tags, 2);
}
END_TEST

START_TEST(rule9_three_tags_and_truncated)
{
	struct pkt p;
	struct xw_pb_spec sp;
	struct xw_rule src = R(), outer = R(), t8100 = R(), ip = R(), vid0 = R();

	r_src(&src, "10.0.0.0/8");
	r_vlan(&outer, 1);
	r_ethtype(&t8100, 0x8100);
	ip.present = XM_IP;
	r_vlan(&vid0, 0);

	/* third tag stays the EtherType: no L3 (an IPv4 packet behind it) */
	sp = ports(spec4(6), 1, 22);
	sp.tcp_flags = 0x02;
	sp.vlan = 1;
	sp.variant = XW_PB_VB_TCI;
	build(&p, &sp);
	memcpy(insert(&p, 16, 8),       /* the builder writes two tags at most */
	       (const uint8_t[]){ 0x81, 0x00, 0xe0, 0x02, 0x81, 0x00, 0xe0, 0x03 }, 8);
	ck_assert(M(&t8100, &p));
	ck_assert(M(&outer, &p));
	ck_assert(!M(&ip, &p));
	ck_assert(!M(&src, &p));
	ck_assert(!MALFORMED(&p));

	/* a tag with fewer than 4 bytes behind its TPID */
	sp = eth_spec(0x8100);
	sp.variant = XW_PB_VLEN(2);
	build(&p, &sp);
	ck_assert_uint_eq(p.n, 16);
	ck_assert(M(&t8100, &p));
	ck_assert(!M(&outer, &p));
	ck_assert(!M(&vid0, &p));
	ck_assert(PARSE(&p).vlan_truncated);

	/* untagged: vlan 0 does not match */
	tcp4(&p);
	ck_assert(!M(&vid0, &p));

	/* one 802.1Q tag with VID 0 (priority tag) */
	sp = ports(spec4(6), 1, 22);
	sp.tcp_flags = 0x02;
	sp.vlan = 0;
	sp.variant = XW_PB_VB_TCI;
	build(&p, &sp);
	ck_assert_uint_eq(p.b[12] << 8 | p.b[13], 0x8100);
	ck_assert(M(&vid0, &p));
	ck_assert(M(&src, &p));
}
END_TEST

/* ---- addresses ---- */

START_TEST(addresses_by_family_and_prefix)
{
	struct pkt p4, p6, mapped;
	struct xw_pb_spec sp;
	struct xw_rule v4 = R(), v6 = R(), mixed = R(), odd = R(), any4 = R(), any6 = R(), dst = R();

	r_src(&v4, "10.0.0.0/8");
	r_src(&v6, "2001:db8::/32");
	r_src(&mixed, "192.168.0.0/16");
	r_src(&mixed, "2001:db8::1");
	r_src(&odd, "10.0.0.0/12");
	r_src(&any4, "0.0.0.0/0");
	r_src(&any6, "::/0");
	r_dst(&dst, "192.168.1.1/32");

	tcp4(&p4);                      /* 10.1.2.3 -> 192.168.1.1 */
	tcp6(&p6);                      /* 2001:db8::1 -> 2001:db8:1::2 */
	sp = ports(ip6_spec(6, "::ffff:10.1.2.3", "::ffff:192.168.1.1"), 1, 22);
	sp.tcp_flags = 0x02;
	build(&mapped, &sp);

	ck_assert(M(&v4, &p4));
	ck_assert(!M(&v4, &p6));
	ck_assert(!M(&v4, &mapped));    /* an IPv4 CIDR never matches IPv6 */
	ck_assert(M(&v6, &p6));
	ck_assert(!M(&v6, &p4));
	ck_assert(M(&mixed, &p6));      /* list: either family */
	ck_assert(!M(&mixed, &p4));
	ck_assert(M(&odd, &p4));        /* 10.1 is inside 10.0.0.0/12 */
	ck_assert(M(&any4, &p4));
	ck_assert(!M(&any4, &p6));
	ck_assert(M(&any6, &p6));
	ck_assert(M(&any6, &mapped));
	ck_assert(!M(&any6, &p4));      /* nor an IPv6 CIDR IPv4 */
	ck_assert(M(&dst, &p4));
	ck_assert(!M(&dst, &mapped));

	sp = ports(ip4_spec(6, "10.16.2.3", "192.168.1.1"), 1000, 22);
	sp.tcp_flags = 0x02;            /* as tcp4(), outside /12 */
	build(&p4, &sp);
	ck_assert(!M(&odd, &p4));
	ck_assert(M(&v4, &p4));
}
END_TEST

/* ---- classification: order, direction, policy, iif, unsupported ---- */

START_TEST(first_match_direction_policy)
{
	struct pkt p;
	struct xw_rule rules[4] = { R(), R(), R(), R() };
	struct xw_ref_result res;
	const uint8_t policy[2] = { XW_PASS, XW_DROP };

	tcp4(&p);
	rules[0].prio = 10;             /* egress only */
	rules[0].dir = XW_DIR_OUT;
	rules[0].verdict = XW_PASS;
	r_dport(&rules[0], 22, 22);
	rules[1].prio = 20;             /* does not match */
	rules[1].verdict = XW_PASS;
	r_dport(&rules[1], 23, 23);
	rules[2].prio = 30;
	rules[2].verdict = XW_DROP;
	rules[2].log = 1;
	r_src(&rules[2], "10.0.0.0/8");
	rules[3].prio = 40;             /* would also match */
	rules[3].verdict = XW_PASS;

	ck_assert_int_eq(xw_ref_classify(rules, 4, policy, p.b, p.n, XW_DIR_IN, 1, NULL, &res), 0);
	ck_assert_uint_eq(res.verdict, XW_DROP);
	ck_assert_uint_eq(res.prio, 30);
	ck_assert_int_eq(res.index, 2);
	ck_assert_uint_eq(res.reason, XW_REASON_RULE);
	ck_assert_uint_eq(res.malformed, 0);

	ck_assert_int_eq(xw_ref_classify(rules, 4, policy, p.b, p.n, XW_DIR_OUT, 1, NULL, &res), 0);
	ck_assert_uint_eq(res.prio, 10);

	/* nothing matches: the policy of that direction */
	ck_assert_int_eq(xw_ref_classify(rules + 1, 2, policy, p.b, p.n, XW_DIR_OUT, 1, NULL, &res), 0);
	ck_assert_uint_eq(res.verdict, XW_DROP);
	ck_assert_uint_eq(res.prio, XW_PRIO_NONE);
	ck_assert_int_eq(res.index, -1);
	ck_assert_uint_eq(res.reason, XW_REASON_POLICY);
	ck_assert_int_eq(xw_ref_classify(rules + 1, 1, policy, p.b, p.n, XW_DIR_IN, 1, NULL, &res), 0);
	ck_assert_uint_eq(res.verdict, XW_PASS);

	/* malformed packets are flagged and still classified */
	p.b[14] = 0x44;
	ck_assert_int_eq(xw_ref_classify(rules, 4, policy, p.b, p.n, XW_DIR_IN, 1, NULL, &res), 0);
	ck_assert_uint_eq(res.malformed, 1);
	ck_assert_uint_eq(res.prio, 40);
}
END_TEST

START_TEST(iif_and_unsupported)
{
	struct pkt p;
	struct xw_rule rules[2] = { R(), R() };
	struct xw_ref_result res;
	const uint32_t ifs[2] = { 7, 0 };

	tcp4(&p);
	rules[0].present = XM_IIF;
	snprintf(rules[0].iif, sizeof(rules[0].iif), "eth7");
	rules[0].verdict = XW_DROP;
	rules[1].prio = 200;

	ck_assert_int_eq(xw_ref_classify(rules, 2, POLICY_DROP, p.b, p.n, XW_DIR_IN, 7, ifs, &res), 0);
	ck_assert_int_eq(res.index, 0);
	ck_assert_int_eq(xw_ref_classify(rules, 2, POLICY_DROP, p.b, p.n, XW_DIR_IN, 8, ifs, &res), 0);
	ck_assert_int_eq(res.index, 1);
	ck_assert_int_eq(xw_ref_classify(rules, 2, POLICY_DROP, p.b, p.n, XW_DIR_IN, 7, NULL, &res), 0);
	ck_assert_int_eq(res.index, 1);

	rules[1].present = XM_CT;
	rules[1].ct = XW_CT_ESTABLISHED;
	ck_assert_int_eq(xw_ref_classify(rules, 2, POLICY_DROP, p.b, p.n, XW_DIR_IN, 7, ifs, &res), -1);
	rules[1].present = XM_LIMIT;
	ck_assert_int_eq(xw_ref_classify(rules, 2, POLICY_DROP, p.b, p.n, XW_DIR_IN, 7, ifs, &res), -1);
}
END_TEST

/* ---- generators ---- */

START_TEST(pktgen_deterministic)
{
	struct xw_rng a, b, c;
	uint8_t x[1600], y[1600];
	int differ = 0;

	xw_rng_seed(&a, 42);
	xw_rng_seed(&b, 42);
	xw_rng_seed(&c, 43);
	for (int i = 0; i < 2000; i++) {
		size_t nx = xw_pktgen(&a, x, sizeof(x));
		size_t ny = xw_pktgen(&b, y, sizeof(y));
		ck_assert_uint_eq(nx, ny);
		ck_assert_uint_le(nx, XW_PKT_MAX);
		ck_assert(memcmp(x, y, nx) == 0);
		size_t nz = xw_pktgen(&c, y, sizeof(y));
		differ |= nz != nx || memcmp(x, y, nx) != 0;
	}
	ck_assert(differ);

	/* a small cap cuts the frame */
	xw_rng_seed(&a, 42);
	for (int i = 0; i < 200; i++)
		ck_assert_uint_le(xw_pktgen(&a, x, 40), 40);
}
END_TEST

enum {
	C_SHORT, C_TINY_LEN0, C_ARP, C_OTHER_ET, C_TAG1, C_TAG2, C_TAG3, C_TAG_TRUNC, C_QINQ,
	C_V4, C_V6, C_MAL4, C_MAL6, C_V4_OPTS, C_V4_FIRST, C_V4_LATER, C_V6_FIRST, C_V6_LATER,
	C_V6_ATOMIC, C_EXT0, C_EXT1_3, C_EXT8, C_TCP, C_UDP, C_SCTP, C_ICMP, C_ICMP6,
	C_GRE, C_ESP, C_AH6, C_NONXT, C_OTHER_PROTO, C_TCP_TRUNC, C_UDP_TRUNC, C_ICMP_TRUNC,
	C_PAD, C_BIG, C_POOL_PORT, C_POOL_SRC4, C_POOL_SRC6, C_COUNT
};

static const char *const cname[C_COUNT] = {
	"short", "len0", "arp", "other ethertype", "1 tag", "2 tags", "3 tags", "truncated tag",
	"0x88a8", "ipv4", "ipv6", "malformed v4", "malformed v6", "v4 options", "v4 first frag",
	"v4 later frag", "v6 first frag", "v6 later frag", "v6 atomic frag", "0 ext", "1-3 ext",
	"8 ext", "tcp", "udp", "sctp", "icmp", "icmpv6", "gre", "esp", "ah in v6", "nh 59",
	"other proto", "tcp truncated", "udp truncated", "icmp truncated", "padding",
	"big frame", "pool port", "pool v4 src", "pool v6 src",
};

static int in_pool_port(uint16_t p)
{
	for (size_t i = 0; i < XW_POOL_N(xw_pool_port); i++)
		if (xw_pool_port[i] == p)
			return 1;
	return 0;
}

START_TEST(pktgen_spread)
{
	struct xw_rng r;
	uint8_t buf[1600];
	unsigned long c[C_COUNT] = { 0 };
	unsigned long lens[14] = { 0 };

	xw_rng_seed(&r, 7);
	for (int i = 0; i < 100000; i++) {
		size_t n = xw_pktgen(&r, buf, sizeof(buf));
		struct xw_ref_pkt p;
		xw_ref_parse(buf, n, &p);
		int l3 = p.v4 || p.v6;

		if (n < 14)
			lens[n]++;
		c[C_SHORT] += p.short_frame;
		c[C_TINY_LEN0] += n == 0;
		c[C_BIG] += n > 1000;
		if (p.short_frame)
			continue;
		c[C_ARP] += p.eth_type == 0x0806;
		c[C_OTHER_ET] += p.eth_type != 0x0800 && p.eth_type != 0x86DD && p.eth_type != 0x0806 &&
				 p.eth_type != 0x8100 && p.eth_type != 0x88A8;
		c[C_TAG1] += p.n_tags == 1;
		c[C_TAG2] += p.n_tags == 2;
		c[C_TAG3] += p.n_tags == 2 && (p.eth_type == 0x8100 || p.eth_type == 0x88A8);
		c[C_TAG_TRUNC] += p.vlan_truncated;
		c[C_QINQ] += n >= 14 && buf[12] == 0x88 && buf[13] == 0xA8;
		c[C_V4] += p.v4;
		c[C_V6] += p.v6;
		c[C_MAL4] += p.malformed && p.eth_type == 0x0800;
		c[C_MAL6] += p.malformed && p.eth_type == 0x86DD;
		c[C_V4_OPTS] += p.v4 && (buf[p.l3_off] & 0x0f) > 5;
		c[C_V4_FIRST] += p.v4 && p.frag_mf && !p.later;
		c[C_V4_LATER] += p.v4 && p.later;
		c[C_V6_FIRST] += p.v6 && p.frag_mf && !p.later;
		c[C_V6_LATER] += p.v6 && p.later;
		c[C_V6_ATOMIC] += p.v6 && p.has_frag && !p.frag_mf && !p.later;
		c[C_EXT0] += p.v6 && p.n_ext == 0;
		c[C_EXT1_3] += p.v6 && p.n_ext >= 1 && p.n_ext <= 3;
		c[C_EXT8] += p.v6 && p.n_ext == 8;
		c[C_TCP] += p.has_tcp;
		c[C_UDP] += p.has_ports && p.proto == 17;
		c[C_SCTP] += p.has_ports && p.proto == 132;
		c[C_ICMP] += p.has_icmp;
		c[C_ICMP6] += p.has_icmp6;
		c[C_GRE] += l3 && p.proto == 47;
		c[C_ESP] += l3 && p.proto == 50;
		c[C_AH6] += p.v6 && p.proto == 51;
		c[C_NONXT] += p.v6 && p.proto == 59;
		c[C_OTHER_PROTO] += l3 && p.proto != 6 && p.proto != 17 && p.proto != 132 &&
				    p.proto != 1 && p.proto != 58 && p.proto != 47 && p.proto != 50;
		c[C_TCP_TRUNC] += l3 && p.proto == 6 && !p.later && !p.has_tcp;
		c[C_UDP_TRUNC] += l3 && p.proto == 17 && !p.later && !p.has_ports;
		c[C_ICMP_TRUNC] += p.v4 && p.proto == 1 && !p.later && !p.has_icmp;
		c[C_PAD] += p.v4 && (size_t)(buf[p.l3_off + 2] << 8 | buf[p.l3_off + 3]) < n - p.l3_off;
		c[C_POOL_PORT] += p.has_ports && in_pool_port(p.dport);
		c[C_POOL_SRC4] += p.v4 && memcmp(p.src, xw_pool_ip4[0], 4) == 0;
		c[C_POOL_SRC6] += p.v6 && memcmp(p.src, xw_pool_ip6[0], 16) == 0;
	}
	for (int i = 0; i < C_COUNT; i++)
		ck_assert_msg(c[i] > 0, "no packet of kind '%s'", cname[i]);
	for (int i = 0; i < 14; i++)
		ck_assert_msg(lens[i] > 0, "no frame of length %d", i);
	/* the bulk must be valid IP, or rules would rarely see real fields */
	ck_assert_uint_gt(c[C_V4] + c[C_V6], 50000);
	ck_assert_uint_gt(c[C_MAL4] + c[C_MAL6], 2000);
}
END_TEST

static size_t count_lines(const char *s, const char *prefix)
{
	size_t n = 0;
	for (const char *l = s; *l; ) {
		n += strncmp(l, prefix, strlen(prefix)) == 0;
		const char *e = strchr(l, '\n');
		if (!e)
			break;
		l = e + 1;
	}
	return n;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

START_TEST(rulegen_shape)
{
	static const char *const want[] = {
		" ether src ", " ether dst ", " ether type ", " vlan ", " ip ", " ip6 ", " src ",
		" dst ", "proto ", " sport ", " dport ", " tcp flags ", " icmp type ", " icmpv6 type ",
		" code ", " frag ", " frag first", " frag later", " log ", " out ", " in ", "/",
		"-", "policy ", " pass\n", " drop\n", " audit\n", ",",
	};
	int seen[sizeof(want) / sizeof(want[0])] = { 0 };

	for (uint64_t seed = 1; seed <= 40; seed++) {
		struct xw_rng a, b;
		struct xw_rulegen_opts o = { .n_rules = 200, .dirs = 2, .log_pct = 10, .audit_pct = 10 };
		unsigned est;

		xw_rng_seed(&a, seed);
		xw_rng_seed(&b, seed);
		char *t1 = xw_rulegen_ex(&a, &o, &est);
		char *t2 = xw_rulegen(&b, 200, 2);
		ck_assert_ptr_nonnull(t1);
		ck_assert_str_eq(t1, t2);       /* deterministic; defaults agree */
		ck_assert_uint_le(est, XW_RULEGEN_DEF_BUDGET);
		ck_assert_uint_eq(count_lines(t1, "rule "), 200);
		ck_assert_uint_le(count_lines(t1, "policy "), 1);
		ck_assert_ptr_null(strstr(t1, " ct "));
		ck_assert_ptr_null(strstr(t1, " limit "));
		ck_assert_ptr_null(strstr(t1, " iif "));

		/* priorities unique and in range */
		uint32_t prios[200] = { 0 };
		size_t n = 0;
		for (const char *l = t1; n < 200 && (l = strstr(l, "rule ")); l += 5)
			if (l == t1 || l[-1] == '\n')
				prios[n++] = (uint32_t)strtoul(l + 5, NULL, 10);
		ck_assert_uint_eq(n, 200);
		qsort(prios, n, sizeof(prios[0]), cmp_u32);
		for (size_t i = 0; i < n; i++) {
			ck_assert_uint_ge(prios[i], 1);
			ck_assert_uint_le(prios[i], XW_PRIO_MAX);
			if (i)
				ck_assert_uint_lt(prios[i - 1], prios[i]);
		}
		for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
			seen[i] |= strstr(t1, want[i]) != NULL;
		free(t1);
		free(t2);
	}
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ck_assert_msg(seen[i], "no rule text with '%s'", want[i]);

	/* ingress only; big sets stay within the tuple budget */
	struct xw_rng r;
	struct xw_rulegen_opts o = { .n_rules = 20000, .dirs = 1, .no_policy = 1 };
	unsigned est;
	xw_rng_seed(&r, 99);
	char *t = xw_rulegen_ex(&r, &o, &est);
	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_null(strstr(t, " out "));
	ck_assert_ptr_null(strstr(t, "policy"));
	ck_assert_uint_eq(count_lines(t, "rule "), 20000);
	ck_assert_uint_le(est, XW_RULEGEN_DEF_BUDGET);
	free(t);
}
END_TEST

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

START_TEST(rulegen_simple_distinct)
{
	enum { N = 100000 };
	struct xw_rng r;
	char **match = malloc(N * sizeof(*match));
	size_t n = 0;
	int forms[4] = { 0 };

	xw_rng_seed(&r, 5);
	char *t = xw_rulegen_simple(&r, N);
	ck_assert_ptr_nonnull(t);
	for (char *l = strtok(t, "\n"); l; l = strtok(NULL, "\n")) {
		unsigned prio;
		int off;
		ck_assert_int_eq(sscanf(l, "rule %u %n", &prio, &off), 1);
		ck_assert_uint_eq(prio, n + 1);
		ck_assert_msg(strcmp(l + strlen(l) - 5, " drop") == 0, "%s", l);
		forms[0] += strncmp(l + off, "src ", 4) == 0;
		forms[1] += strncmp(l + off, "dst ", 4) == 0;
		forms[2] += strncmp(l + off, "tcp dport ", 10) == 0;
		forms[3] += strncmp(l + off, "udp sport ", 10) == 0;
		ck_assert_uint_lt(n, N);
		match[n++] = l + off;
	}
	ck_assert_uint_eq(n, N);
	ck_assert_int_eq(forms[0] + forms[1] + forms[2] + forms[3], N);
	for (int i = 0; i < 4; i++)
		ck_assert_int_gt(forms[i], 0);
	qsort(match, n, sizeof(*match), cmp_str);
	for (size_t i = 1; i < n; i++)
		ck_assert_msg(strcmp(match[i - 1], match[i]) != 0, "duplicate %s", match[i]);
	free(match);
	free(t);
}
END_TEST

/* Random packets through random struct rules: no crash, and a rule built
 * from a packet's own fields matches that packet. */
START_TEST(ref_self_consistency)
{
	struct xw_rng r;
	uint8_t buf[1600];
	unsigned hits = 0;

	xw_rng_seed(&r, 11);
	for (int i = 0; i < 20000; i++) {
		size_t n = xw_pktgen(&r, buf, sizeof(buf));
		struct xw_ref_pkt p;
		struct xw_rule rule = R();
		char addr[64];

		arena_reset();
		xw_ref_parse(buf, n, &p);
		if (p.short_frame)
			continue;
		r_ethtype(&rule, p.eth_type);
		if (p.has_vlan)
			r_vlan(&rule, p.vlan);
		if (p.v4 || p.v6) {
			inet_ntop(p.v4 ? AF_INET : AF_INET6, p.src, addr, sizeof(addr));
			r_src(&rule, addr);
			inet_ntop(p.v4 ? AF_INET : AF_INET6, p.dst, addr, sizeof(addr));
			r_dst(&rule, addr);
			r_proto(&rule, p.proto);
		}
		if (p.has_ports) {
			r_sport(&rule, p.sport, p.sport);
			r_dport(&rule, p.dport, p.dport);
		}
		if (p.has_tcp)
			r_flags(&rule, p.tcp_flags, 0xff);
		if (p.has_icmp || p.has_icmp6) {
			r_icmp_type(&rule, p.has_icmp6, p.icmp_type, p.icmp_type);
			r_icmp_code(&rule, p.icmp_code, p.icmp_code);
		}
		if (p.has_frag && p.later)
			r_frag(&rule, XW_FRAG_LATER);
		struct pkt pk;
		memcpy(pk.b, buf, n);
		pk.n = n;
		ck_assert(M(&rule, &pk));
		hits++;
	}
	ck_assert_uint_gt(hits, 15000);
}
END_TEST

static Suite *ref_suite(void)
{
	Suite *s = suite_create("ref");
	TCase *sem = tcase_create("semantics");
	TCase *gen = tcase_create("generators");

	tcase_add_checked_fixture(sem, setup, NULL);
	tcase_add_test(sem, short_frames_get_policy);
	tcase_add_test(sem, ether_addresses);
	tcase_add_test(sem, rule1_ip_is_ethertype_only);
	tcase_add_test(sem, rule2_ipv4_validity);
	tcase_add_test(sem, rule2_ipv6_validity);
	tcase_add_test(sem, rule3_ext_walk_up_to_eight);
	tcase_add_test(sem, rule3_later_fragment_ends_walk);
	tcase_add_test(sem, rule3_walk_stops_at_ah_59_and_others);
	tcase_add_test(sem, rule3_truncated_extension_headers);
	tcase_add_test(sem, rule4_proto_on_later_fragments);
	tcase_add_test(sem, rule5_minimum_transport_header);
	tcase_add_test(sem, rule5_fields_read_from_frame_not_ip_length);
	tcase_add_test(sem, rule5_ports_only_tcp_udp_sctp);
	tcase_add_test(sem, rule5_port_ranges_and_lists);
	tcase_add_test(sem, rule5_icmp_family_and_codes);
	tcase_add_test(sem, rule5_tcp_data_offset_not_checked);
	tcase_add_test(sem, rule6_tcp_flags_mask);
	tcase_add_test(sem, rule7_fragment_kinds);
	tcase_add_test(sem, rule8_checksum_ignored);
	tcase_add_test(sem, rule9_two_tags);
	tcase_add_test(sem, rule9_three_tags_and_truncated);
	tcase_add_test(sem, addresses_by_family_and_prefix);
	tcase_add_test(sem, first_match_direction_policy);
	tcase_add_test(sem, iif_and_unsupported);
	suite_add_tcase(s, sem);

	tcase_set_timeout(gen, 60);
	tcase_add_checked_fixture(gen, setup, NULL);
	tcase_add_test(gen, pktgen_deterministic);
	tcase_add_test(gen, pktgen_spread);
	tcase_add_test(gen, rulegen_shape);
	tcase_add_test(gen, rulegen_simple_distinct);
	tcase_add_test(gen, ref_self_consistency);
	suite_add_tcase(s, gen);
	return s;
}

XW_CHECK_MAIN(ref_suite)
