// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Random rule-set text: see rulegen.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "rule.h"
#include "rulegen.h"

/* ---- growing string ---- */

struct sbuf {
	char *s;
	size_t len, cap;
	int oom;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		size_t room = b->cap - b->len;
		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = 1;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap ? b->cap * 2 : 4096;
		while (cap < b->len + (size_t)n + 1)
			cap *= 2;
		char *s = realloc(b->s, cap);
		if (!s) {
			b->oom = 1;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
}

static char *sb_finish(struct sbuf *b)
{
	if (b->oom || !b->s) {
		free(b->s);
		return b->oom ? NULL : strdup("");
	}
	return b->s;
}

/* ---- shapes ----
 * A shape fixes everything that decides the datapath's masks: which matches,
 * the address families and prefix lengths, how port and ICMP ranges split
 * into aligned blocks, the TCP flag mask, the fragment kind. */

enum { PF_SINGLE, PF_LIST, PF_ALIGNED, PF_UNALIGNED, PF_MIXED, PF_ALL };
enum { TF_SINGLE, TF_ALIGNED, TF_SMALL };           /* icmp type form */
enum { CF_NONE, CF_SINGLE, CF_SMALL };              /* icmp code form */

struct cidr_shape {
	uint8_t family, plen;
};

struct port_shape {
	uint8_t form;
	uint8_t k;              /* block exponent of an aligned range */
};

struct shape {
	uint32_t present;
	uint8_t  n_src, n_dst;
	struct cidr_shape src[3], dst[3];
	struct port_shape sport, dport;
	uint8_t  tcp_mask;
	uint8_t  type_form, type_k, code_form;
	uint8_t  frag;
	uint8_t  family;        /* 4 or 6: preferred address family */
	uint8_t  l4;            /* preferred protocol */
};

/* Exponents of the aligned blocks a form can split into (bit i = 2^i). */
static uint32_t port_exps(const struct port_shape *p)
{
	switch (p->form) {
	case PF_SINGLE:
	case PF_LIST:      return 1u << 0;
	case PF_ALIGNED:   return 1u << p->k;
	case PF_UNALIGNED: return 0xfu;            /* width <= 8: blocks 1..8 */
	case PF_MIXED:     return 1u << 0 | 1u << p->k;
	default:           return 1u << 16;        /* 0-65535 */
	}
}

static uint32_t type_exps(const struct shape *s)
{
	switch (s->type_form) {
	case TF_SINGLE:  return 1u << 0;
	case TF_ALIGNED: return 1u << s->type_k;
	default:         return 0xfu;
	}
}

static uint32_t code_exps(const struct shape *s)
{
	switch (s->code_form) {
	case CF_NONE:   return 1u << 31;            /* code not matched */
	case CF_SINGLE: return 1u << 0;
	default:        return 0x7u;                /* width <= 4 */
	}
}

/* ---- tuple estimate: a set of 64-bit mask signatures ---- */

struct sigset {
	uint64_t *v;
	size_t n, cap;
};

static int sigset_has(const struct sigset *s, uint64_t x)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == x)
			return 1;
	return 0;
}

static int sigset_add(struct sigset *s, uint64_t x)
{
	if (sigset_has(s, x))
		return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		uint64_t *v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = x;
	return 1;
}

static uint64_t mix(uint64_t h, uint64_t x)
{
	h ^= x + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
	return h * 0xFF51AFD7ED558CCDull;
}

#define MAX_COMBOS 24u

/* All (src, dst, sport, dport, type, code, frag) mask combinations of a
 * shape.  Returns their number, or 0 if more than MAX_COMBOS. */
static size_t shape_sigs(const struct shape *s, uint64_t *out)
{
	uint64_t src[3] = { 0 }, dst[3] = { 0 };
	size_t ns = 1, nd = 1;
	uint32_t e[4] = { 1, 1, 1, 1 };         /* sport, dport, type, code */
	size_t n = 0;

	if (s->present & XM_SRC)
		for (ns = 0; ns < s->n_src; ns++)
			src[ns] = (uint64_t)s->src[ns].family << 8 | s->src[ns].plen;
	if (s->present & XM_DST)
		for (nd = 0; nd < s->n_dst; nd++)
			dst[nd] = (uint64_t)s->dst[nd].family << 8 | s->dst[nd].plen;
	if (s->present & XM_SPORT)
		e[0] = port_exps(&s->sport);
	if (s->present & XM_DPORT)
		e[1] = port_exps(&s->dport);
	if (s->present & (XM_ICMP | XM_ICMP6)) {
		e[2] = type_exps(s);
		e[3] = code_exps(s);
	}
	/* `frag` (any) is MF-set or offset-nonzero: two masks. */
	unsigned nfrag = (s->present & XM_FRAG) && s->frag == XW_FRAG_ANY ? 2 : 1;
	uint64_t base = mix(mix(s->present, s->tcp_mask), s->frag);

	for (size_t a = 0; a < ns; a++)
	for (size_t b = 0; b < nd; b++)
	for (unsigned i = 0; i < 32; i++) if (e[0] >> i & 1)
	for (unsigned j = 0; j < 32; j++) if (e[1] >> j & 1)
	for (unsigned k = 0; k < 32; k++) if (e[2] >> k & 1)
	for (unsigned l = 0; l < 32; l++) if (e[3] >> l & 1)
	for (unsigned f = 0; f < nfrag; f++) {
		uint64_t h = base;
		h = mix(h, src[a]);
		h = mix(h, dst[b]);
		h = mix(h, i << 24 | j << 16 | k << 8 | l);
		h = mix(h, f);
		int dup = 0;
		for (size_t x = 0; x < n; x++)
			dup |= out[x] == h;
		if (dup)
			continue;
		if (n == MAX_COMBOS)
			return 0;
		out[n++] = h;
	}
	return n;
}

/* ---- random shapes ---- */

static uint8_t pick_plen(struct xw_rng *r, int family)
{
	if (xw_rng_chance(r, 3))
		return 0;
	/* the last pool entry is the odd, non-byte-aligned one: rarer */
	if (family == 4)
		return xw_pool_plen4[xw_rng_chance(r, 8) ? 4 : xw_rng_below(r, 4)];
	return xw_pool_plen6[xw_rng_chance(r, 8) ? 4 : xw_rng_below(r, 4)];
}

static void pick_cidrs(struct xw_rng *r, const struct shape *s, struct cidr_shape *c, uint8_t *n)
{
	static const unsigned w[] = { 70, 20, 10 };
	*n = (uint8_t)(1 + xw_rng_weighted(r, w, 3));
	for (unsigned i = 0; i < *n; i++) {
		c[i].family = xw_rng_chance(r, 80) ? s->family : (s->family == 4 ? 6 : 4);
		c[i].plen = pick_plen(r, c[i].family);
	}
}

static void pick_port_shape(struct xw_rng *r, struct port_shape *p)
{
	static const unsigned w[] = { 55, 15, 17, 6, 5, 2 };
	p->form = (uint8_t)xw_rng_weighted(r, w, XW_POOL_N(w));
	p->k = (uint8_t)xw_rng_range(r, 1, 10);
}

static void random_shape(struct xw_rng *r, struct shape *s)
{
	static const unsigned nw[] = { 3, 30, 32, 22, 10, 3 };
	static const uint32_t kinds[] = {
		XM_ETH_SRC, XM_ETH_DST, XM_ETH_TYPE, XM_VLAN, XM_IP, XM_IP6, XM_SRC, XM_DST,
		XM_PROTO, XM_SPORT, XM_DPORT, XM_TCPFLAGS, XM_ICMP, XM_ICMP6, XM_FRAG,
	};
	static const unsigned kw[] = { 5, 5, 5, 5, 6, 6, 16, 16, 12, 8, 12, 6, 5, 5, 6 };
	static const uint8_t masks[] = { 0x02, 0x12, 0x17, 0xff, 0x04, 0x10, 0x3f };
	static const uint8_t other_l4[] = { 6, 17, 132, 1, 58, 47, 50, 51, 59, 0, 41 };
	size_t want = xw_rng_weighted(r, nw, XW_POOL_N(nw));

	memset(s, 0, sizeof(*s));
	for (unsigned tries = 0; tries < 50 && (size_t)__builtin_popcount(s->present) < want; tries++) {
		uint32_t k = kinds[xw_rng_weighted(r, kw, XW_POOL_N(kw))];
		/* Keep contradictions out: they would only make rules dead. */
		if ((k == XM_IP && (s->present & XM_IP6)) || (k == XM_IP6 && (s->present & XM_IP)))
			continue;
		if ((k == XM_ICMP && (s->present & (XM_ICMP6 | XM_IP6))) ||
		    (k == XM_ICMP6 && (s->present & (XM_ICMP | XM_IP))) ||
		    (k == XM_IP && (s->present & XM_ICMP6)) || (k == XM_IP6 && (s->present & XM_ICMP)))
			continue;
		uint32_t l4 = XM_SPORT | XM_DPORT | XM_TCPFLAGS, icmp = XM_ICMP | XM_ICMP6;
		if (((k & l4) && (s->present & icmp)) || ((k & icmp) && (s->present & l4)))
			continue;
		s->present |= k;
	}

	if (s->present & (XM_IP | XM_ICMP))
		s->family = 4;
	else if (s->present & (XM_IP6 | XM_ICMP6))
		s->family = 6;
	else
		s->family = xw_rng_chance(r, 50) ? 4 : 6;

	if (s->present & XM_TCPFLAGS)
		s->l4 = 6;
	else if (s->present & (XM_SPORT | XM_DPORT))
		s->l4 = (uint8_t[]){ 6, 17, 132 }[xw_rng_below(r, 3)];
	else if (s->present & XM_ICMP)
		s->l4 = 1;
	else if (s->present & XM_ICMP6)
		s->l4 = 58;
	else
		s->l4 = other_l4[xw_rng_below(r, XW_POOL_N(other_l4))];

	pick_cidrs(r, s, s->src, &s->n_src);
	pick_cidrs(r, s, s->dst, &s->n_dst);
	pick_port_shape(r, &s->sport);
	pick_port_shape(r, &s->dport);
	s->tcp_mask = xw_rng_chance(r, 80) ? masks[xw_rng_below(r, XW_POOL_N(masks))]
					   : (uint8_t)xw_rng_range(r, 1, 255);
	s->type_form = (uint8_t)xw_rng_weighted(r, (const unsigned[]){ 85, 10, 5 }, 3);
	s->type_k = (uint8_t)xw_rng_range(r, 1, 3);
	s->code_form = (uint8_t)xw_rng_weighted(r, (const unsigned[]){ 60, 32, 8 }, 3);
	s->frag = (uint8_t)xw_rng_below(r, 3);
}

/* ---- rule text ---- */

static const char *const flag_names[8] = { "fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr" };

static void put_flags(struct sbuf *b, uint8_t f)
{
	const char *sep = "";
	for (unsigned i = 0; i < 8; i++)
		if (f >> i & 1) {
			sb_printf(b, "%s%s", sep, flag_names[i]);
			sep = ",";
		}
}

static void put_cidr(struct sbuf *b, struct xw_rng *r, const struct cidr_shape *c)
{
	uint8_t a[16] = { 0 };
	char txt[INET6_ADDRSTRLEN];
	unsigned bytes = c->family == 4 ? 4 : 16;

	if (xw_rng_chance(r, 92))
		memcpy(a, c->family == 4 ? xw_pool_ip4[xw_rng_below(r, XW_POOL_N(xw_pool_ip4))]
					 : xw_pool_ip6[xw_rng_below(r, XW_POOL_N(xw_pool_ip6))], bytes);
	else
		xw_rng_bytes(r, a, bytes);
	/* Zero the host bits: the text names a network. */
	for (unsigned i = 0; i < bytes; i++) {
		unsigned keep = c->plen > i * 8 ? c->plen - i * 8 : 0;
		if (keep < 8)
			a[i] &= (uint8_t)(0xff << (8 - keep));
	}
	inet_ntop(c->family == 4 ? AF_INET : AF_INET6, a, txt, sizeof(txt));
	if (c->plen == bytes * 8 && xw_rng_chance(r, 50))
		sb_printf(b, "%s", txt);                /* bare address */
	else
		sb_printf(b, "%s/%u", txt, c->plen);
}

static void put_cidr_list(struct sbuf *b, struct xw_rng *r, const char *kw,
			  const struct cidr_shape *c, unsigned n)
{
	sb_printf(b, "%s ", kw);
	for (unsigned i = 0; i < n; i++) {
		if (i)
			sb_printf(b, ",");
		put_cidr(b, r, &c[i]);
	}
}

static void put_aligned(struct sbuf *b, struct xw_rng *r, unsigned k)
{
	unsigned lo = xw_pool_pick_port(r) & ~((1u << k) - 1);
	sb_printf(b, "%u-%u", lo, lo + (1u << k) - 1);
}

static void put_ports(struct sbuf *b, struct xw_rng *r, const char *kw, const struct port_shape *p)
{
	sb_printf(b, "%s ", kw);
	switch (p->form) {
	case PF_SINGLE:
		sb_printf(b, "%u", xw_pool_pick_port(r));
		break;
	case PF_LIST: {
		unsigned n = xw_rng_range(r, 2, 3);
		for (unsigned i = 0; i < n; i++)
			sb_printf(b, "%s%u", i ? "," : "", xw_pool_pick_port(r));
		break;
	}
	case PF_ALIGNED:
		put_aligned(b, r, p->k);
		break;
	case PF_UNALIGNED: {
		unsigned lo = xw_pool_pick_port(r);
		if (lo > 0 && xw_rng_chance(r, 50))
			lo -= xw_rng_range(r, 1, lo < 3 ? lo : 3);
		unsigned hi = lo + xw_rng_range(r, 1, 7);
		sb_printf(b, "%u-%u", lo, hi > 65535 ? 65535 : hi);
		break;
	}
	case PF_MIXED:
		sb_printf(b, "%u,", xw_pool_pick_port(r));
		put_aligned(b, r, p->k);
		break;
	default:
		sb_printf(b, "0-65535");
		break;
	}
}

static void put_icmp(struct sbuf *b, struct xw_rng *r, const struct shape *s, int v6)
{
	unsigned t = xw_pool_pick_icmp_type(r, v6);

	sb_printf(b, "%s type ", v6 ? "icmpv6" : "icmp");
	if (s->type_form == TF_SINGLE) {
		/* a couple of names: the example in docs/rules.md uses echo-request */
		unsigned req = v6 ? 128 : 8, rep = v6 ? 129 : 0;
		if (t == req && xw_rng_chance(r, 50))
			sb_printf(b, "echo-request");
		else if (t == rep && xw_rng_chance(r, 50))
			sb_printf(b, "echo-reply");
		else
			sb_printf(b, "%u", t);
	} else if (s->type_form == TF_ALIGNED) {
		unsigned lo = t & ~((1u << s->type_k) - 1);
		sb_printf(b, "%u-%u", lo, lo + (1u << s->type_k) - 1);
	} else {
		unsigned hi = t + xw_rng_range(r, 1, 7);
		sb_printf(b, "%u-%u", t, hi > 255 ? 255 : hi);
	}

	unsigned c = xw_pool_pick_icmp_code(r);
	if (s->code_form == CF_SINGLE) {
		sb_printf(b, " code %u", c);
	} else if (s->code_form == CF_SMALL) {
		unsigned hi = c + xw_rng_range(r, 1, 3);
		sb_printf(b, " code %u-%u", c, hi > 255 ? 255 : hi);
	}
}

static void put_proto(struct sbuf *b, struct xw_rng *r, const struct shape *s)
{
	static const struct { uint8_t n; const char *name; int shorthand; } names[] = {
		{ 6, "tcp", 1 }, { 17, "udp", 1 }, { 132, "sctp", 1 }, { 1, "icmp", 1 },
		{ 58, "icmpv6", 1 }, { 47, "gre", 0 }, { 50, "esp", 0 },
	};
	/* `tcp flags` and `icmp(v6) type` imply their protocol; the parser
	 * rejects a different `proto` next to them. */
	int fixed = (s->present & (XM_TCPFLAGS | XM_ICMP | XM_ICMP6)) != 0;
	unsigned p = fixed || xw_rng_chance(r, 92) ? s->l4 : xw_rng_below(r, 256);
	const char *name = NULL;
	int shorthand = 0;

	for (size_t i = 0; i < XW_POOL_N(names); i++)
		if (names[i].n == p) {
			name = names[i].name;
			shorthand = names[i].shorthand;
		}
	/* "tcp" next to "tcp flags" (or "icmp" next to "icmp type") reads
	 * oddly; spell those out. */
	if ((p == 6 && (s->present & XM_TCPFLAGS)) || (p == 1 && (s->present & XM_ICMP)) ||
	    (p == 58 && (s->present & XM_ICMP6)))
		shorthand = 0;

	unsigned form = xw_rng_below(r, 10);
	if (name && shorthand && form < 4)
		sb_printf(b, "%s", name);
	else if (name && form < 8)
		sb_printf(b, "proto %s", name);
	else
		sb_printf(b, "proto %u", p);
}

static void put_ethertype(struct sbuf *b, struct xw_rng *r)
{
	uint16_t t = xw_rng_chance(r, 90) ? xw_pool_ethertype[xw_rng_below(r, XW_POOL_N(xw_pool_ethertype))]
					  : (uint16_t)xw_rng_below(r, 65536);
	int named = xw_rng_chance(r, 50);

	if (named && t == 0x0806)
		sb_printf(b, "ether type arp");
	else if (named && t == 0x0800)
		sb_printf(b, "ether type ip");
	else if (named && t == 0x86DD)
		sb_printf(b, "ether type ip6");
	else
		sb_printf(b, "ether type 0x%04x", t);
}

static void put_mac(struct sbuf *b, struct xw_rng *r, const char *kw)
{
	const uint8_t *m = xw_pool_mac[xw_rng_below(r, XW_POOL_N(xw_pool_mac))];
	sb_printf(b, "ether %s %02x:%02x:%02x:%02x:%02x:%02x", kw, m[0], m[1], m[2], m[3], m[4], m[5]);
}

static void put_tcp_flags(struct sbuf *b, struct xw_rng *r, uint8_t mask)
{
	/* F must be a non-empty subset of M; lean on real-world flag combos. */
	uint8_t f = xw_pool_pick_tcp_flags(r) & mask;
	if (!f) {
		unsigned bit;
		do
			bit = xw_rng_below(r, 8);
		while (!(mask >> bit & 1));
		f = (uint8_t)(1u << bit);
	}
	sb_printf(b, "tcp flags ");
	put_flags(b, f);
	if (f != mask || xw_rng_chance(r, 20)) {
		sb_printf(b, xw_rng_chance(r, 50) ? " / " : "/");
		put_flags(b, mask);
	}
}

/* One match (bit k of the shape) as text into its own buffer. */
static void put_match(struct sbuf *b, struct xw_rng *r, const struct shape *s, uint32_t k)
{
	static const char *const frag_kw[] = { "frag", "frag first", "frag later" };

	switch (k) {
	case XM_ETH_SRC:  put_mac(b, r, "src"); break;
	case XM_ETH_DST:  put_mac(b, r, "dst"); break;
	case XM_ETH_TYPE: put_ethertype(b, r); break;
	case XM_VLAN:     sb_printf(b, "vlan %u", xw_pool_pick_vlan(r)); break;
	case XM_IP:       sb_printf(b, "ip"); break;
	case XM_IP6:      sb_printf(b, "ip6"); break;
	case XM_SRC:      put_cidr_list(b, r, "src", s->src, s->n_src); break;
	case XM_DST:      put_cidr_list(b, r, "dst", s->dst, s->n_dst); break;
	case XM_PROTO:    put_proto(b, r, s); break;
	case XM_SPORT:    put_ports(b, r, "sport", &s->sport); break;
	case XM_DPORT:    put_ports(b, r, "dport", &s->dport); break;
	case XM_TCPFLAGS: put_tcp_flags(b, r, s->tcp_mask); break;
	case XM_ICMP:     put_icmp(b, r, s, 0); break;
	case XM_ICMP6:    put_icmp(b, r, s, 1); break;
	case XM_FRAG:     sb_printf(b, "%s", frag_kw[s->frag]); break;
	}
}

static void put_rule(struct sbuf *b, struct xw_rng *r, const struct shape *s,
		     uint32_t prio, int dirs, unsigned log_pct, unsigned audit_pct)
{
	struct sbuf m[32] = { { 0 } };
	unsigned n = 0, v;

	for (unsigned i = 0; i < 32; i++)
		if (s->present >> i & 1)
			put_match(&m[n++], r, s, 1u << i);
	/* Matches may come in any order. */
	for (unsigned i = n; i > 1; i--) {
		unsigned j = xw_rng_below(r, i);
		struct sbuf t = m[i - 1];
		m[i - 1] = m[j];
		m[j] = t;
	}

	sb_printf(b, "rule %u", prio);
	if (dirs == 2 && xw_rng_chance(r, 35))
		sb_printf(b, " out");
	else if (xw_rng_chance(r, 50))
		sb_printf(b, " in");
	for (unsigned i = 0; i < n; i++) {
		sb_printf(b, " %s", m[i].s ? m[i].s : "");
		b->oom |= m[i].oom;
		free(m[i].s);
	}
	if (xw_rng_chance(r, log_pct))
		sb_printf(b, " log");
	/* audit_pct 0 draws nothing: the other rule sets stay as they were */
	if (audit_pct && xw_rng_chance(r, audit_pct))
		sb_printf(b, " audit\n");
	else {
		/* pass 50 %, drop 40 %, reject 10 % (the reference: a drop) */
		v = xw_rng_below(r, 10);
		sb_printf(b, " %s\n", v < 5 ? "pass" : v < 9 ? "drop" : "reject");
	}
}

static void put_policy(struct sbuf *b, struct xw_rng *r, int dirs, unsigned audit_pct)
{
	unsigned k = xw_rng_below(r, dirs == 2 ? 5 : 3);
	const char *v = k == 1 || k == 3 ? "drop" : "pass";

	if (k && audit_pct && xw_rng_chance(r, audit_pct))
		v = "audit";
	if (k)
		sb_printf(b, "policy %s%s\n", k >= 3 ? "out " : "", v);
}

char *xw_rulegen_ex(struct xw_rng *r, const struct xw_rulegen_opts *o, unsigned *est_tuples)
{
	size_t n = o->n_rules > XW_PRIO_MAX ? XW_PRIO_MAX : o->n_rules;
	unsigned max_shapes = o->max_shapes ? o->max_shapes : XW_RULEGEN_DEF_SHAPES;
	unsigned budget = o->tuple_budget ? o->tuple_budget : XW_RULEGEN_DEF_BUDGET;
	struct shape *shapes = calloc(max_shapes, sizeof(*shapes));
	uint32_t *order = calloc(n ? n : 1, sizeof(*order));
	struct sigset sigs = { 0 };
	struct sbuf b = { 0 };
	unsigned n_shapes = 0;

	if (!shapes || !order) {
		free(shapes);
		free(order);
		return NULL;
	}

	/* Shape library: accept a shape only while the estimate stays in budget. */
	if (max_shapes > n && n)
		max_shapes = (unsigned)n;
	for (unsigned tries = 0; n_shapes < max_shapes && tries < max_shapes * 20; tries++) {
		struct shape s;
		uint64_t sv[MAX_COMBOS];
		size_t nsv, fresh = 0;

		random_shape(r, &s);
		nsv = shape_sigs(&s, sv);
		if (!nsv)
			continue;
		for (size_t i = 0; i < nsv; i++)
			fresh += !sigset_has(&sigs, sv[i]);
		if (sigs.n + fresh > budget)
			continue;
		for (size_t i = 0; i < nsv; i++)
			if (sigset_add(&sigs, sv[i]) < 0)
				b.oom = 1;
		shapes[n_shapes++] = s;
	}
	if (!n_shapes) {                /* the bare rule: one tuple */
		memset(&shapes[0], 0, sizeof(shapes[0]));
		n_shapes = 1;
		sigset_add(&sigs, 0);
	}

	if (!o->no_policy)
		put_policy(&b, r, o->dirs, o->audit_pct);

	/* Distinct priorities: one per stride, then emitted in random order. */
	uint32_t stride = n ? (uint32_t)(XW_PRIO_MAX / n) : 1;
	for (size_t i = 0; i < n; i++)
		order[i] = (uint32_t)i;
	for (size_t i = n; i > 1; i--) {
		size_t j = xw_rng_below(r, (uint32_t)i);
		uint32_t t = order[i - 1];
		order[i - 1] = order[j];
		order[j] = t;
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t prio = order[i] * stride + 1 + xw_rng_below(r, stride);
		const struct shape *s = &shapes[xw_rng_below(r, n_shapes)];
		/* A bare rule matches everything and hides all later ones: rare. */
		if (!s->present && n_shapes > 1 && xw_rng_chance(r, 90))
			s = &shapes[xw_rng_below(r, n_shapes)];
		put_rule(&b, r, s, prio, o->dirs, o->log_pct, o->audit_pct);
	}

	if (est_tuples)
		*est_tuples = (unsigned)sigs.n;
	free(sigs.v);
	free(shapes);
	free(order);
	return sb_finish(&b);
}

char *xw_rulegen(struct xw_rng *r, size_t n_rules, int dirs)
{
	struct xw_rulegen_opts o = { .n_rules = n_rules, .dirs = dirs, .log_pct = 10, .audit_pct = 10 };
	return xw_rulegen_ex(r, &o, NULL);
}

/* ---- xdp-filter-comparable rules ----
 * Distinct values without bookkeeping: the k-th value of a kind is an affine
 * permutation a*k+b of its value space (a invertible modulo the size). */

enum { S_SRC4, S_DST4, S_SRC6, S_DST6, S_TCP_DPORT, S_UDP_SPORT, S_KINDS };

static uint64_t gcd64(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

char *xw_rulegen_simple(struct xw_rng *r, size_t n)
{
	static const uint64_t space[S_KINDS] = { 1u << 24, 1u << 24, 1ull << 32, 1ull << 32, 65535, 65535 };
	static const unsigned w[S_KINDS] = { 30, 30, 10, 10, 10, 10 };
	uint64_t a[S_KINDS], off[S_KINDS], used[S_KINDS] = { 0 };
	struct sbuf b = { 0 };

	for (int k = 0; k < S_KINDS; k++) {
		do
			a[k] = (xw_rng_next(r) % space[k]) | 1;
		while (gcd64(a[k], space[k]) != 1);
		off[k] = xw_rng_next(r) % space[k];
	}

	for (size_t i = 0; i < n; i++) {
		size_t k;
		do
			k = xw_rng_weighted(r, w, S_KINDS);
		while (used[k] == space[k]);
		uint64_t v = (a[k] * used[k]++ + off[k]) % space[k];
		uint32_t prio = (uint32_t)i + 1;

		switch (k) {
		case S_SRC4:
		case S_DST4:
			sb_printf(&b, "rule %u %s 10.%u.%u.%u drop\n", prio, k == S_SRC4 ? "src" : "dst",
				  (unsigned)(v >> 16), (unsigned)(v >> 8 & 0xff), (unsigned)(v & 0xff));
			break;
		case S_SRC6:
		case S_DST6:
			sb_printf(&b, "rule %u %s 2001:db8::%x:%x drop\n", prio, k == S_SRC6 ? "src" : "dst",
				  (unsigned)(v >> 16), (unsigned)(v & 0xffff));
			break;
		case S_TCP_DPORT:
			sb_printf(&b, "rule %u tcp dport %u drop\n", prio, (unsigned)v + 1);
			break;
		default:
			sb_printf(&b, "rule %u udp sport %u drop\n", prio, (unsigned)v + 1);
			break;
		}
	}
	return sb_finish(&b);
}

/* A port range around a pool port (so generated packets fall in and out of
 * it), of a random width: 1, small, or up to the whole space. */
static void range_around(struct xw_rng *r, unsigned *lo, unsigned *hi)
{
	unsigned p = xw_pool_pick_port(r), w;

	switch (xw_rng_below(r, 4)) {
	case 0: w = 0; break;
	case 1: w = xw_rng_below(r, 16); break;
	case 2: w = xw_rng_below(r, 1024); break;
	default: w = xw_rng_below(r, 65536); break;
	}
	*lo = p > w / 2 ? p - w / 2 : 0;
	*hi = *lo + w > 65535 ? 65535 : *lo + w;
}

/* A prefix of a random length 0..max over a pool address (IPv4 or IPv6),
 * host bits cleared as the language requires. */
static void prefix_text(struct sbuf *b, struct xw_rng *r, int v6)
{
	uint8_t a[16];
	unsigned len = xw_rng_below(r, v6 ? 129 : 33), n = v6 ? 16 : 4;

	memcpy(a, v6 ? xw_pool_ip6[xw_rng_below(r, 12)] : xw_pool_ip4[xw_rng_below(r, 12)], n);
	for (unsigned i = 0; i < n; i++) {
		int keep = (int)len - (int)i * 8;

		a[i] &= keep >= 8 ? 0xff : keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
	}
	if (v6) {
		char t[64];

		inet_ntop(AF_INET6, a, t, sizeof(t));
		sb_printf(b, "%s/%u", t, len);
	} else {
		sb_printf(b, "%u.%u.%u.%u/%u", a[0], a[1], a[2], a[3], len);
	}
}

char *xw_rulegen_ranges(struct xw_rng *r, size_t n)
{
	struct sbuf b = { 0 };

	if (xw_rng_chance(r, 50))
		sb_printf(&b, "policy %s\n", xw_rng_chance(r, 50) ? "pass" : "drop");
	for (size_t i = 0; i < n; i++) {
		int v6 = xw_rng_chance(r, 15);
		unsigned lo, hi;

		sb_printf(&b, "rule %zu %s %s src ", i + 1, xw_rng_chance(r, 80) ? "in" : "out",
			  xw_rng_chance(r, 50) ? "tcp" : "udp");
		prefix_text(&b, r, v6);
		sb_printf(&b, " dst ");
		prefix_text(&b, r, v6);
		range_around(r, &lo, &hi);
		sb_printf(&b, lo == hi ? " sport %u" : " sport %u-%u", lo, hi);
		range_around(r, &lo, &hi);
		sb_printf(&b, lo == hi ? " dport %u" : " dport %u-%u", lo, hi);
		sb_printf(&b, " %s\n", xw_rng_chance(r, 50) ? "pass" : "drop");
	}
	return b.oom ? (free(b.s), NULL) : b.s;
}
