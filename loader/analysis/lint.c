// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* xwall lint: anomalies of a rule set, decided exactly over the key space
 * (see lint.h for the classes).
 *
 * Sets of packet keys are reduced ordered BDDs over the 512 bits of struct
 * xw_key.  A rule's set R_i is the union of its compiled cubes, intersected
 * with F, the keys the parser can produce.  In priority order, U is the
 * union of the (non-limit) rules so far and D_i = R_i - U the packets rule i
 * decides.  Then for rule i:
 *   R_i empty                       never-matches
 *   D_i empty                       covered: shadowed or redundant, `by` the
 *                                   earlier rules j with D_j & R_i non-empty
 *   D_j & R_i non-empty, other      correlated with j, unless R_j is inside
 *   verdict, R_j not inside R_i     R_i (an exception in front of a general
 *                                   rule is not a correlation)
 * and, last rule first, "later" redundancy: follow D_i through the later
 * rules; each one it meets must have the same verdict, until the rules that
 * surely fire have taken all of it, or the policy must agree.
 *
 * Cost: per rule a few unions and differences; per overlapping pair that
 * matters a test of R_i & D_j, which builds nothing (sat3).  The prefix
 * union U is rebuilt along its paths by every rule, so a long list of rules
 * on different fields (a block list mixing thousands of `src A` and `dst B`
 * rules) costs time quadratic in its length; a rule's D that is large is
 * only kept when a test needs it, so memory stays near the size of U.
 * Garbage is collected; past XW_LINT_MAX_NODES the analysis stops with an
 * error instead of guessing.
 *
 * The variable order puts the presence bits first and the fields they gate
 * after them, so a BDD restricted to "no ports" never tests a port bit: the
 * parser's "absent field is zero" rules need not be part of F (no rule tests
 * a field without its presence bit), and the witness walk fills such fields
 * with zero. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "lint.h"
#include "compile.h"

extern const char *const xw_proto_name[256];
extern const char *const xw_icmp_type_name[256];
extern const char *const xw_icmp6_type_name[256];
extern const char *const xw_tcp_flag_name[8];
extern const char *const xw_ct_name[4];

#define NV 512                          /* variables: bits of struct xw_key */
#define XW_LINT_MAX_NODES (24u << 20)   /* node slots: ~300 MiB with the tables */
#define XW_LINT_BIG_D     4096u         /* a D with more new nodes is built twice */

_Static_assert(sizeof(struct xw_key) * 8 == NV, "key size");

/* ------------------------------------------------------------------ */
/* Variable order                                                       */

static uint16_t var_pos[NV];    /* var -> key bit (byte * 8 + bit, bit 0 = LSB) */
static int v_vlan;              /* first vlan field variable */
static int v_after_flags;       /* first variable after the presence bits */

/* Key bit of a value written into a numeric field (host byte order). */
static int num_pos(size_t off, size_t size, uint32_t val)
{
	uint8_t k[sizeof(struct xw_key)];

	memset(k, 0, sizeof(k));
	if (size == 1) {
		k[off] = (uint8_t)val;
	} else if (size == 2) {
		uint16_t v = (uint16_t)val;

		memcpy(k + off, &v, 2);
	} else {
		memcpy(k + off, &val, 4);
	}
	for (int i = 0; i < (int)sizeof(k); i++)
		for (int b = 0; b < 8; b++)
			if (k[i] >> b & 1)
				return i * 8 + b;
	return -1;
}

static void add_num(int *nv, size_t off, size_t size)
{
	for (int b = (int)size * 8 - 1; b >= 0; b--)
		var_pos[(*nv)++] = (uint16_t)num_pos(off, size, 1u << b);
}

static void add_bytes(int *nv, size_t off, size_t size)
{
	for (size_t i = 0; i < size; i++)
		for (int b = 7; b >= 0; b--)
			var_pos[(*nv)++] = (uint16_t)((off + i) * 8 + b);
}

static void add_flag(int *nv, uint16_t bit)
{
	var_pos[(*nv)++] = (uint16_t)num_pos(offsetof(struct xw_key, flags), 2, bit);
}

static void order_init(void)
{
	static const uint16_t first[] = {
		XWK_L3, XWK_V4, XWK_V6, XWK_FRAG_LATER, XWK_FRAG_MF,
		XWK_PORTS, XWK_TCP, XWK_ICMP, XWK_ICMP6,
	};
	uint16_t used = XWK_VLAN;
	int nv = 0;

	if (v_after_flags)
		return;
	add_num(&nv, offsetof(struct xw_key, dir), 1);
	add_num(&nv, offsetof(struct xw_key, ifindex), 4);
	add_flag(&nv, XWK_VLAN);
	v_vlan = nv;
	add_num(&nv, offsetof(struct xw_key, vlan), 2);
	for (size_t i = 0; i < sizeof(first) / sizeof(first[0]); i++) {
		add_flag(&nv, first[i]);
		used |= first[i];
	}
	for (int b = 15; b >= 0; b--)
		if (!(used & (1u << b)))
			add_flag(&nv, (uint16_t)(1u << b));
	v_after_flags = nv;
	add_num(&nv, offsetof(struct xw_key, eth_type), 2);
	add_num(&nv, offsetof(struct xw_key, ct_state), 1);
	add_num(&nv, offsetof(struct xw_key, proto), 1);
	add_bytes(&nv, offsetof(struct xw_key, eth_src), 6);
	add_bytes(&nv, offsetof(struct xw_key, eth_dst), 6);
	add_bytes(&nv, offsetof(struct xw_key, src), 16);
	add_bytes(&nv, offsetof(struct xw_key, dst), 16);
	add_num(&nv, offsetof(struct xw_key, sport), 2);
	add_num(&nv, offsetof(struct xw_key, dport), 2);
	add_num(&nv, offsetof(struct xw_key, tcp_flags), 1);
	add_num(&nv, offsetof(struct xw_key, icmp_type), 1);
	add_num(&nv, offsetof(struct xw_key, icmp_code), 1);
}

static inline int key_bit(const void *key, int pos)
{
	return ((const uint8_t *)key)[pos >> 3] >> (pos & 7) & 1;
}

static inline void key_set(void *key, int pos, int v)
{
	uint8_t *k = key;

	if (v)
		k[pos >> 3] |= (uint8_t)(1u << (pos & 7));
	else
		k[pos >> 3] &= (uint8_t)~(1u << (pos & 7));
}

/* ------------------------------------------------------------------ */
/* Binary decision diagrams                                            */

#define F0 0u
#define F1 1u
#define FREED (NV + 1)          /* var of a slot on the free list */

struct bnode {
	uint32_t var, lo, hi;
};

struct bcache {
	uint32_t op, a, b, r;
};

enum { OP_AND = 1, OP_OR, OP_DIFF };

struct bdd {
	struct bnode *n;
	uint32_t nn, cap;       /* slots used (live or free), allocated */
	uint32_t free_head;     /* free slots after a collection, chained by lo */
	uint32_t n_free;
	uint32_t live_gc;       /* live nodes after the last collection */
	uint64_t made;          /* nodes made so far */
	uint32_t *ht;           /* unique table: node ids, 0 = empty */
	uint32_t hcap;
	struct bcache *cache;   /* apply: (op, a, b) -> r */
	struct bcache *c3;      /* sat3: (x, y, z) -> 1 + result */
	uint32_t cmask;
	jmp_buf fail;           /* out of nodes or memory */
	int why;                /* 1 node budget, 2 out of memory */
};

static void bdd_fail(struct bdd *b, int why)
{
	b->why = why;
	longjmp(b->fail, 1);
}

static int bdd_init(struct bdd *b)
{
	memset(b, 0, sizeof(*b));
	b->cap = 1u << 16;
	b->hcap = 1u << 17;
	b->cmask = (1u << 20) - 1;
	b->n = malloc(b->cap * sizeof(*b->n));
	b->ht = calloc(b->hcap, sizeof(*b->ht));
	b->cache = calloc(b->cmask + 1, sizeof(*b->cache));
	b->c3 = calloc(b->cmask + 1, sizeof(*b->c3));
	if (!b->n || !b->ht || !b->cache || !b->c3)
		return -1;
	b->n[0] = (struct bnode){ NV, 0, 0 };
	b->n[1] = (struct bnode){ NV, 1, 1 };
	b->nn = 2;
	return 0;
}

static void bdd_free(struct bdd *b)
{
	free(b->n);
	free(b->ht);
	free(b->cache);
	free(b->c3);
}

static inline uint32_t mix3(uint32_t a, uint32_t b, uint32_t c)
{
	uint64_t h = a * 0x9E3779B97F4A7C15ull ^ (b + 0x632BE59BD9B4E019ull) * 0xC2B2AE3D27D4EB4Full;

	h ^= (uint64_t)c * 0x165667B19E3779F9ull;
	h ^= h >> 29;
	h *= 0xBF58476D1CE4E5B9ull;
	return (uint32_t)(h ^ h >> 32);
}

static void bdd_rehash(struct bdd *b)
{
	uint32_t nc = b->hcap * 2, *nt = calloc(nc, sizeof(*nt));

	if (!nt)
		bdd_fail(b, 2);
	for (uint32_t id = 2; id < b->nn; id++) {
		uint32_t h = mix3(b->n[id].var, b->n[id].lo, b->n[id].hi) & (nc - 1);

		if (b->n[id].var == FREED)
			continue;
		while (nt[h])
			h = (h + 1) & (nc - 1);
		nt[h] = id;
	}
	free(b->ht);
	b->ht = nt;
	b->hcap = nc;
}

static uint32_t mk(struct bdd *b, uint32_t var, uint32_t lo, uint32_t hi)
{
	uint32_t h, id;

	if (lo == hi)
		return lo;
	h = mix3(var, lo, hi) & (b->hcap - 1);
	while ((id = b->ht[h]) != 0) {
		const struct bnode *x = &b->n[id];

		if (x->var == var && x->lo == lo && x->hi == hi)
			return id;
		h = (h + 1) & (b->hcap - 1);
	}
	if (b->free_head) {
		id = b->free_head;
		b->free_head = b->n[id].lo;
		b->n_free--;
		b->made++;
		b->n[id] = (struct bnode){ var, lo, hi };
		b->ht[h] = id;
		return id;
	}
	if (b->nn >= XW_LINT_MAX_NODES)
		bdd_fail(b, 1);
	if (b->nn == b->cap) {
		struct bnode *nn = realloc(b->n, (size_t)b->cap * 2 * sizeof(*nn));

		if (!nn)
			bdd_fail(b, 2);
		b->n = nn;
		b->cap *= 2;
	}
	id = b->nn++;
	b->made++;
	b->n[id] = (struct bnode){ var, lo, hi };
	b->ht[h] = id;
	if ((uint64_t)b->nn * 4 > (uint64_t)b->hcap * 3)
		bdd_rehash(b);
	return id;
}

/* Mark and sweep from the given roots (node ids); the caches are cleared
 * (freed ids get reused).  Call only where every live set is a root. */
static void bdd_gc(struct bdd *b, uint32_t *const *roots, size_t n_roots)
{
	uint8_t *mark = calloc(b->nn, 1);
	uint32_t *stack = malloc((size_t)b->nn * sizeof(*stack)), sp = 0, live = 0;

	if (!mark || !stack) {
		free(mark);
		free(stack);
		return;   /* no room to collect: carry on without */
	}
	mark[0] = mark[1] = 1;
	for (size_t r = 0; r < n_roots; r++) {
		uint32_t id = *roots[r];

		if (!mark[id]) {
			mark[id] = 1;
			stack[sp++] = id;
		}
		while (sp) {
			const struct bnode *x = &b->n[stack[--sp]];

			if (!mark[x->lo]) {
				mark[x->lo] = 1;
				stack[sp++] = x->lo;
			}
			if (!mark[x->hi]) {
				mark[x->hi] = 1;
				stack[sp++] = x->hi;
			}
		}
	}
	memset(b->ht, 0, (size_t)b->hcap * sizeof(*b->ht));
	b->free_head = 0;
	b->n_free = 0;
	for (uint32_t id = b->nn; id-- > 2;) {
		if (mark[id]) {
			uint32_t h = mix3(b->n[id].var, b->n[id].lo, b->n[id].hi) & (b->hcap - 1);

			while (b->ht[h])
				h = (h + 1) & (b->hcap - 1);
			b->ht[h] = id;
			live++;
		} else {
			b->n[id] = (struct bnode){ FREED, b->free_head, 0 };
			b->free_head = id;
			b->n_free++;
		}
	}
	memset(b->cache, 0, ((size_t)b->cmask + 1) * sizeof(*b->cache));
	memset(b->c3, 0, ((size_t)b->cmask + 1) * sizeof(*b->c3));
	b->live_gc = live + 2;
	free(mark);
	free(stack);
}

static uint32_t apply(struct bdd *b, int op, uint32_t x, uint32_t y)
{
	uint32_t vx, vy, v, x0, x1, y0, y1, r, lo;
	struct bcache *c;

	switch (op) {
	case OP_AND:
		if (x == F0 || y == F0)
			return F0;
		if (x == F1 || x == y)
			return y;
		if (y == F1)
			return x;
		break;
	case OP_OR:
		if (x == F1 || y == F1)
			return F1;
		if (x == F0 || x == y)
			return y;
		if (y == F0)
			return x;
		break;
	default: /* OP_DIFF: x and not y */
		if (x == F0 || y == F1 || x == y)
			return F0;
		if (y == F0)
			return x;
		break;
	}
	if (op != OP_DIFF && x > y) {
		uint32_t t = x;

		x = y;
		y = t;
	}
	c = &b->cache[mix3((uint32_t)op, x, y) & b->cmask];
	if (c->op == (uint32_t)op && c->a == x && c->b == y)
		return c->r;
	vx = b->n[x].var;
	vy = b->n[y].var;
	v = vx < vy ? vx : vy;
	x0 = vx == v ? b->n[x].lo : x;
	x1 = vx == v ? b->n[x].hi : x;
	y0 = vy == v ? b->n[y].lo : y;
	y1 = vy == v ? b->n[y].hi : y;
	lo = apply(b, op, x0, y0);
	r = mk(b, v, lo, apply(b, op, x1, y1));
	c = &b->cache[mix3((uint32_t)op, x, y) & b->cmask];
	*c = (struct bcache){ (uint32_t)op, x, y, r };
	return r;
}

/* Three-operand emptiness without building anything.  An operand is a
 * reference: node id << 1, with bit 0 set for the complement.  Is
 * x & y & z non-empty? */
#define REF(id)   ((uint32_t)(id) << 1)
#define NREF(id)  ((uint32_t)(id) << 1 | 1u)
#define RTRUE     REF(F1)

static inline uint32_t cofactor(const struct bdd *b, uint32_t r, uint32_t v, int hi)
{
	const struct bnode *x = &b->n[r >> 1];

	if (x->var != v)
		return r;
	return (hi ? x->hi : x->lo) << 1 | (r & 1);
}

static int sat3(struct bdd *b, uint32_t x, uint32_t y, uint32_t z)
{
	uint32_t in[3] = { x, y, z }, o[3] = { RTRUE, RTRUE, RTRUE }, v = NV, h;
	struct bcache *c;
	int n = 0, r;

	for (int i = 0; i < 3; i++) {
		uint32_t id = in[i] >> 1;
		int dup = 0;

		if (id <= F1) {
			if ((id == F1) ^ (in[i] & 1))
				continue;           /* the whole space */
			return 0;                   /* the empty set */
		}
		for (int k = 0; k < n; k++) {
			if (o[k] == in[i])
				dup = 1;
			else if ((o[k] ^ 1u) == in[i])
				return 0;           /* a set and its complement */
		}
		if (!dup)
			o[n++] = in[i];
	}
	/* a reduced BDD that is not a terminal is neither empty nor full */
	if (n <= 1)
		return 1;
	/* canonical order for the cache */
	for (int i = 1; i < n; i++)
		for (int k = i; k > 0 && o[k - 1] > o[k]; k--) {
			uint32_t t = o[k];

			o[k] = o[k - 1];
			o[k - 1] = t;
		}
	h = mix3(o[0], o[1], o[2]) & b->cmask;
	c = &b->c3[h];
	if (c->op == o[0] && c->a == o[1] && c->b == o[2] && c->r)
		return (int)c->r - 1;
	for (int i = 0; i < n; i++)
		if (b->n[o[i] >> 1].var < v)
			v = b->n[o[i] >> 1].var;
	r = sat3(b, cofactor(b, o[0], v, 0), cofactor(b, o[1], v, 0), cofactor(b, o[2], v, 0)) ||
	    sat3(b, cofactor(b, o[0], v, 1), cofactor(b, o[1], v, 1), cofactor(b, o[2], v, 1));
	c = &b->c3[h];
	*c = (struct bcache){ o[0], o[1], o[2], (uint32_t)r + 1 };
	return r;
}

#define AND(b, x, y)  apply(b, OP_AND, x, y)
#define OR(b, x, y)   apply(b, OP_OR, x, y)
#define DIFF(b, x, y) apply(b, OP_DIFF, x, y)

/* The cube {k : (k & mask) == key}. */
static uint32_t cube(struct bdd *b, const struct xw_key *key, const struct xw_key *mask)
{
	uint32_t r = F1;

	for (int v = NV - 1; v >= 0; v--) {
		int p = var_pos[v];

		if (key_bit(mask, p))
			r = key_bit(key, p) ? mk(b, (uint32_t)v, F0, r) : mk(b, (uint32_t)v, r, F0);
	}
	return r;
}

static int eval(const struct bdd *b, uint32_t x, const struct xw_key *k)
{
	while (x > F1)
		x = key_bit(k, var_pos[b->n[x].var]) ? b->n[x].hi : b->n[x].lo;
	return x == F1;
}

/* ------------------------------------------------------------------ */
/* The keys the parser can produce                                      */

struct cb {
	struct xw_key k, m;
};

static void cb_flags(struct cb *c, uint16_t mask, uint16_t val)
{
	c->m.flags |= mask;
	c->k.flags = (uint16_t)((c->k.flags & ~mask) | (val & mask));
}

static uint32_t cb_bdd(struct bdd *b, const struct cb *c)
{
	return cube(b, &c->k, &c->m);
}

static uint32_t proto_is(struct bdd *b, uint8_t p)
{
	struct cb c;

	memset(&c, 0, sizeof(c));
	c.k.proto = p;
	c.m.proto = 0xff;
	return cb_bdd(b, &c);
}

static uint32_t ct_is(struct bdd *b, uint8_t s)
{
	struct cb c;

	memset(&c, 0, sizeof(c));
	c.k.ct_state = s;
	c.m.ct_state = 0xff;
	return cb_bdd(b, &c);
}

/* F: dir is 0 or 1; a VLAN ID has 12 bits; the presence bits form one of
 * the parser's outcomes, each with its EtherType, protocol and conntrack
 * state constraints.  (IPv6: the protocol is never an extension header the
 * walk goes through.) */
static uint32_t feasible(struct bdd *b, int uses_ct)
{
	const uint16_t used = XWK_L3 | XWK_V4 | XWK_V6 | XWK_FRAG_LATER | XWK_FRAG_MF |
			      XWK_PORTS | XWK_TCP | XWK_ICMP | XWK_ICMP6;
	uint32_t f, v0, v1, any = F0, ext6, ct_one, ct_none;
	struct cb c;

	memset(&c, 0, sizeof(c));
	c.m.dir = 0xfe;
	f = cb_bdd(b, &c);

	memset(&c, 0, sizeof(c));
	cb_flags(&c, XWK_VLAN, 0);
	v0 = cb_bdd(b, &c);
	cb_flags(&c, XWK_VLAN, XWK_VLAN);
	c.m.vlan = 0xf000;
	v1 = cb_bdd(b, &c);
	f = AND(b, f, OR(b, v0, v1));

	ext6 = OR(b, OR(b, proto_is(b, 0), proto_is(b, 43)), OR(b, proto_is(b, 44), proto_is(b, 60)));
	ct_none = ct_is(b, 0);
	ct_one = OR(b, OR(b, ct_is(b, XW_CTB_NEW), ct_is(b, XW_CTB_ESTABLISHED)),
		    OR(b, ct_is(b, XW_CTB_RELATED), ct_is(b, XW_CTB_INVALID)));

	/* not IP (or a malformed IP header): no L3/L4 field, untracked */
	memset(&c, 0, sizeof(c));
	cb_flags(&c, used, 0);
	any = AND(b, cb_bdd(b, &c), ct_none);

	for (int fam = 4; fam <= 6; fam += 2)
		for (int later = 0; later <= 1; later++)
			for (int mf = 0; mf <= 1; mf++)
				for (int l4 = 0; l4 < (later ? 1 : 4); l4++) {
					uint16_t fl = XWK_L3 | (fam == 4 ? XWK_V4 : XWK_V6);
					uint32_t s;

					if (later)
						fl |= XWK_FRAG_LATER;
					if (mf)
						fl |= XWK_FRAG_MF;
					memset(&c, 0, sizeof(c));
					c.k.eth_type = fam == 4 ? 0x0800 : 0x86DD;
					c.m.eth_type = 0xffff;
					if (l4 == 1) {           /* tcp */
						fl |= XWK_PORTS | XWK_TCP;
						c.k.proto = 6;
						c.m.proto = 0xff;
					} else if (l4 == 3) {    /* icmp / icmpv6 */
						fl |= fam == 4 ? XWK_ICMP : XWK_ICMP6;
						c.k.proto = fam == 4 ? 1 : 58;
						c.m.proto = 0xff;
					} else if (l4 == 2) {
						fl |= XWK_PORTS;
					}
					cb_flags(&c, used, fl);
					s = cb_bdd(b, &c);
					if (l4 == 2)             /* udp, sctp */
						s = AND(b, s, OR(b, proto_is(b, 17), proto_is(b, 132)));
					if (fam == 6)
						s = DIFF(b, s, ext6);
					s = AND(b, s, uses_ct && !later ? ct_one : ct_none);
					any = OR(b, any, s);
				}
	return AND(b, f, any);
}

/* ------------------------------------------------------------------ */
/* Witness: a key of a non-empty set, close to a readable template      */

static const uint8_t tmac_src[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t tmac_dst[6] = { 0x02, 0, 0, 0, 0, 0x02 };

static void template_after_flags(struct xw_key *t, const struct xw_key *w)
{
	uint16_t fl = w->flags;

	t->eth_type = fl & XWK_V4 ? 0x0800 : fl & XWK_V6 ? 0x86DD : 0x0806;
	t->ct_state = (fl & XWK_L3) && !(fl & XWK_FRAG_LATER) ? XW_CTB_NEW : 0;
	t->proto = fl & XWK_TCP ? 6 : fl & XWK_PORTS ? 17 : fl & XWK_ICMP ? 1 : fl & XWK_ICMP6 ? 58 :
		   fl & XWK_FRAG_LATER ? 17 : fl & XWK_L3 ? 47 : 0;
	memcpy(t->eth_src, tmac_src, 6);
	memcpy(t->eth_dst, tmac_dst, 6);
	if (fl & XWK_V4) {
		inet_pton(AF_INET, "192.0.2.1", t->src);
		inet_pton(AF_INET, "198.51.100.1", t->dst);
	} else if (fl & XWK_V6) {
		inet_pton(AF_INET6, "2001:db8::1", t->src);
		inet_pton(AF_INET6, "2001:db8::2", t->dst);
	}
	if (fl & XWK_PORTS) {
		t->sport = 40000;
		t->dport = 80;
	}
	if (fl & XWK_TCP)
		t->tcp_flags = 0x02;     /* syn */
	if (fl & XWK_ICMP)
		t->icmp_type = 8;
	if (fl & XWK_ICMP6)
		t->icmp_type = 128;
}

/* A key of x & y & z (operands as for sat3), which must not be empty. */
static void pick3(struct bdd *b, uint32_t x, uint32_t y, uint32_t z, struct xw_key *w)
{
	struct xw_key t;

	memset(w, 0, sizeof(*w));
	memset(&t, 0, sizeof(t));
	t.flags = XWK_L3 | XWK_V4 | XWK_PORTS | XWK_TCP;
	for (int v = 0; v < NV; v++) {
		int p = var_pos[v], bit;

		if (v == v_vlan && (w->flags & XWK_VLAN))
			t.vlan = 100;
		if (v == v_after_flags)
			template_after_flags(&t, w);
		bit = key_bit(&t, p);
		if (!sat3(b, cofactor(b, x, (uint32_t)v, bit), cofactor(b, y, (uint32_t)v, bit),
			  cofactor(b, z, (uint32_t)v, bit)))
			bit = !bit;
		x = cofactor(b, x, (uint32_t)v, bit);
		y = cofactor(b, y, (uint32_t)v, bit);
		z = cofactor(b, z, (uint32_t)v, bit);
		key_set(w, p, bit);
	}
}

/* ------------------------------------------------------------------ */
/* Words                                                                */

struct sbuf {
	char *p;
	size_t len, at;
};

static void sb_put(struct sbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_put(struct sbuf *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(s->p + (s->at < s->len ? s->at : s->len),
		      s->at < s->len ? s->len - s->at : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		s->at += (size_t)n;
}

static void put_addr(struct sbuf *s, int v6, const uint8_t *a, int ports, uint16_t port)
{
	char t[INET6_ADDRSTRLEN];

	inet_ntop(v6 ? AF_INET6 : AF_INET, a, t, sizeof(t));
	if (ports)
		sb_put(s, v6 ? "[%s]:%u" : "%s:%u", t, port);
	else
		sb_put(s, "%s", t);
}

static void put_mac(struct sbuf *s, const char *kw, const uint8_t *m)
{
	sb_put(s, "%s %02x:%02x:%02x:%02x:%02x:%02x", kw, m[0], m[1], m[2], m[3], m[4], m[5]);
}

int xw_lint_key_format(const struct xw_ruleset *rs, const struct xw_lint_result *res,
		       const struct xw_key *k, char *buf, size_t len)
{
	struct sbuf s = { buf, len, 0 };
	uint16_t fl = k->flags;
	int uses_iif = 0, uses_src = 0, uses_dst = 0, v6 = !!(fl & XWK_V6);
	const char *ifname = NULL;

	if (len)
		buf[0] = 0;
	for (size_t i = 0; rs && i < rs->n; i++) {
		if (rs->rules[i].present & XM_IIF) {
			uses_iif = 1;
			if (res && i < res->n_rules && res->ifindex[i] == k->ifindex)
				ifname = rs->rules[i].iif;
		}
		if (rs->rules[i].present & XM_ETH_SRC)
			uses_src = 1;
		if (rs->rules[i].present & XM_ETH_DST)
			uses_dst = 1;
	}
	sb_put(&s, "%s", k->dir == XW_DIR_OUT ? "out" : "in");
	if (ifname)
		sb_put(&s, " iif %s", ifname);
	else if (uses_iif)
		sb_put(&s, " iif (another interface)");
	if (uses_src)
		put_mac(&s, " ether src", k->eth_src);
	if (uses_dst)
		put_mac(&s, uses_src ? " dst" : " ether dst", k->eth_dst);
	if (fl & XWK_VLAN)
		sb_put(&s, " vlan %u", k->vlan);
	if (!(fl & XWK_L3)) {
		switch (k->eth_type) {
		case 0x0806: sb_put(&s, " ether type arp"); break;
		case 0x0800: sb_put(&s, " ether type ip (malformed header)"); break;
		case 0x86DD: sb_put(&s, " ether type ip6 (malformed header)"); break;
		default: sb_put(&s, " ether type 0x%04x", k->eth_type); break;
		}
	} else {
		int ports = !!(fl & XWK_PORTS), l4 = !!(fl & (XWK_PORTS | XWK_ICMP | XWK_ICMP6));
		const char *pn = xw_proto_name[k->proto];

		if (pn && (k->proto != 1 || !v6) && (k->proto != 58 || v6))
			sb_put(&s, " %s%s", v6 && k->proto != 58 ? "ip6 " : "", pn);
		else
			sb_put(&s, " %s proto %u", v6 ? "ip6" : "ip", k->proto);
		sb_put(&s, " ");
		put_addr(&s, v6, k->src, ports, k->sport);
		sb_put(&s, " -> ");
		put_addr(&s, v6, k->dst, ports, k->dport);
		if (fl & XWK_TCP) {
			int first = 1;

			sb_put(&s, " flags ");
			for (int i = 0; i < 8; i++)
				if (k->tcp_flags & (1u << i)) {
					sb_put(&s, "%s%s", first ? "" : ",", xw_tcp_flag_name[i]);
					first = 0;
				}
			if (first)
				sb_put(&s, "none");
		}
		if (fl & (XWK_ICMP | XWK_ICMP6)) {
			const char *tn = (fl & XWK_ICMP ? xw_icmp_type_name : xw_icmp6_type_name)[k->icmp_type];

			if (tn)
				sb_put(&s, " type %s code %u", tn, k->icmp_code);
			else
				sb_put(&s, " type %u code %u", k->icmp_type, k->icmp_code);
		}
		if (!l4 && !(fl & XWK_FRAG_LATER) &&
		    (k->proto == 6 || k->proto == 17 || k->proto == 132 ||
		     (k->proto == 1 && !v6) || (k->proto == 58 && v6)))
			sb_put(&s, " (header truncated)");
		if (fl & XWK_FRAG_LATER)
			sb_put(&s, " frag later");
		else if (fl & XWK_FRAG_MF)
			sb_put(&s, " frag first");
	}
	for (int i = 0; i < 4; i++)
		if (k->ct_state == (1u << i))
			sb_put(&s, " ct %s", xw_ct_name[i]);
	return s.at < len ? (int)s.at : -1;
}

const char *xw_lint_kind_name(enum xw_lint_kind k)
{
	switch (k) {
	case XW_LINT_NEVER: return "never-matches";
	case XW_LINT_SHADOWED: return "shadowed";
	case XW_LINT_REDUNDANT: return "redundant";
	default: return "correlated";
	}
}

static const char *vname(uint8_t v)
{
	return xw_verdict_name(v);
}

static void put_prios(struct sbuf *s, const struct xw_lint_item *it)
{
	sb_put(s, "rule%s ", it->n_by > 1 ? "s" : "");
	for (size_t i = 0; i < it->n_by; i++)
		sb_put(s, "%s%u", i ? ", " : "", it->by[i]);
}

/* "pass from rule 10", "drop from the policy" */
static void put_decider(struct sbuf *s, const struct xw_lint_item *it)
{
	if (it->witness_prio == XW_PRIO_NONE)
		sb_put(s, "%s from the policy", vname(it->witness_verdict));
	else
		sb_put(s, "%s from rule %u", vname(it->witness_verdict), it->witness_prio);
}

int xw_lint_message(const struct xw_lint_item *it, char *buf, size_t len)
{
	struct sbuf s = { buf, len, 0 };

	if (len)
		buf[0] = 0;
	switch (it->kind) {
	case XW_LINT_NEVER:
		sb_put(&s, "rule %u never matches (no packet has all of its matches)", it->prio);
		break;
	case XW_LINT_SHADOWED:
		sb_put(&s, "rule %u is shadowed by ", it->prio);
		put_prios(&s, it);
		sb_put(&s, " (never fires; e.g. %s gets ", it->witness_text);
		put_decider(&s, it);
		sb_put(&s, ", not %s)", vname(it->verdict));
		break;
	case XW_LINT_REDUNDANT:
		if (!it->later) {
			sb_put(&s, "rule %u is redundant: covered by ", it->prio);
			put_prios(&s, it);
			sb_put(&s, " with the same verdict (never fires; e.g. %s already gets ",
			       it->witness_text);
			put_decider(&s, it);
			sb_put(&s, ")");
			break;
		}
		sb_put(&s, "rule %u is redundant: without it, its packets get the same verdict from ",
		       it->prio);
		if (it->n_by) {
			put_prios(&s, it);
			if (it->policy)
				sb_put(&s, " and the policy");
		} else {
			sb_put(&s, "the policy");
		}
		sb_put(&s, " (e.g. %s would get ", it->witness_text);
		put_decider(&s, it);
		sb_put(&s, ")");
		break;
	default:
		sb_put(&s, "rule %u is correlated with ", it->prio);
		put_prios(&s, it);
		sb_put(&s, " (partial overlap, other verdict: order matters; e.g. %s gets ",
		       it->witness_text);
		put_decider(&s, it);
		sb_put(&s, ", not %s)", vname(it->verdict));
		break;
	}
	return s.at < len ? (int)s.at : -1;
}

/* ------------------------------------------------------------------ */
/* Analysis                                                             */

struct lrule {
	uint32_t R;             /* feasible match set */
	uint32_t D;             /* R minus the earlier rules: what this rule decides */
	uint64_t hm[8], hv[8];  /* bits every cube fixes alike, and their values */
	uint8_t never, covered, later, limit, log;
	uint8_t need_d;         /* a pair test or the later test needs D */
	uint8_t has_d;          /* D is computed */
	uint8_t need_later;     /* the later test can succeed (see later_redundant) */
};

struct ctx {
	const struct xw_ruleset *rs;
	struct xw_lint_result *out;
	struct xw_err *err;
	struct bdd b;
	struct lrule *L;
	uint32_t *tmp;          /* scratch list of prios */
	size_t cap;             /* items allocated */
};

/* The policy of rule i's direction has rule i's verdict. */
static int pol_same(const struct ctx *x, size_t i)
{
	const struct xw_rule *r = &x->rs->rules[i];

	return x->rs->policy[r->dir & 1] == r->verdict;
}

static int disjoint(const struct lrule *a, const struct lrule *b)
{
	for (int w = 0; w < 8; w++)
		if ((a->hv[w] ^ b->hv[w]) & a->hm[w] & b->hm[w])
			return 1;
	return 0;
}

/* R (before F) of rule i from its compiled cubes, and its hull. */
static int rule_set(struct ctx *x, size_t i, uint32_t *r)
{
	const struct xw_rule *rule = &x->rs->rules[i];
	struct xw_ruleset one;
	struct xw_compiled c;
	struct lrule *l = &x->L[i];
	uint32_t slot = 0, ifx = x->out->ifindex[i], *v;
	size_t n, k = 0;

	memset(&one, 0, sizeof(one));
	one.n = one.cap = 1;
	one.rules = (struct xw_rule *)rule;
	if (xw_compile(&one, &slot, &ifx, &c, x->err))
		return -1;
	n = c.n_entries + c.n_limits;
	v = malloc((n ? n : 1) * sizeof(*v));
	if (!v) {
		xw_compiled_free(&c);
		snprintf(x->err->msg, sizeof(x->err->msg), "out of memory");
		return -1;
	}
	for (size_t e = 0; e < n; e++) {
		const struct xw_key *key, *mask;
		uint64_t kw[8], mw[8];

		if (e < c.n_entries) {
			key = &c.keys[e].k;
			mask = &c.tuples[c.keys[e].tuple].mask;
		} else {
			key = &c.limits[e - c.n_entries].key;
			mask = &c.limits[e - c.n_entries].mask;
		}
		memcpy(kw, key, sizeof(kw));
		memcpy(mw, mask, sizeof(mw));
		for (int w = 0; w < 8; w++) {
			if (!e) {
				l->hm[w] = mw[w];
				l->hv[w] = kw[w] & mw[w];
			} else {
				l->hm[w] &= mw[w] & ~(l->hv[w] ^ (kw[w] & mw[w]));
				l->hv[w] &= l->hm[w];
			}
		}
		v[k++] = cube(&x->b, key, mask);
	}
	xw_compiled_free(&c);
	/* balanced union: cheaper than one long chain of ORs */
	while (k > 1) {
		size_t m = 0;

		for (size_t j = 0; j + 1 < k; j += 2)
			v[m++] = OR(&x->b, v[j], v[j + 1]);
		if (k & 1)
			v[m++] = v[k - 1];
		k = m;
	}
	*r = k ? v[0] : F0;
	free(v);
	return 0;
}

static struct xw_lint_item *add_item(struct ctx *x, size_t i, enum xw_lint_kind kind,
				     const uint32_t *by, size_t n_by)
{
	struct xw_lint_result *o = x->out;
	struct xw_lint_item *it;

	if (o->n == x->cap) {
		size_t nc = x->cap ? x->cap * 2 : 16;
		struct xw_lint_item *ni = realloc(o->items, nc * sizeof(*ni));

		if (!ni)
			bdd_fail(&x->b, 2);
		o->items = ni;
		x->cap = nc;
	}
	it = &o->items[o->n];
	memset(it, 0, sizeof(*it));
	it->rule = i;
	it->prio = x->rs->rules[i].prio;
	it->verdict = x->rs->rules[i].verdict;
	it->kind = kind;
	it->witness_prio = XW_PRIO_NONE;
	if (n_by) {
		it->by = malloc(n_by * sizeof(*it->by));
		if (!it->by)
			bdd_fail(&x->b, 2);
		memcpy(it->by, by, n_by * sizeof(*by));
		it->n_by = n_by;
	}
	o->n++;
	return it;
}

/* The witness is a key of x & y & z; rule `decider` ((size_t)-1: the
 * policy) decides it. */
static void witness(struct ctx *x, struct xw_lint_item *it, uint32_t a, uint32_t b, uint32_t c,
		    size_t decider)
{
	pick3(&x->b, a, b, c, &it->witness);
	it->has_witness = 1;
	if (decider == (size_t)-1) {
		it->witness_prio = XW_PRIO_NONE;
		it->witness_verdict = x->rs->policy[x->rs->rules[it->rule].dir & 1];
	} else {
		it->witness_prio = x->rs->rules[decider].prio;
		it->witness_verdict = x->rs->rules[decider].verdict;
	}
}

/* Against the earlier rules: never-matches, covered (shadowed / redundant),
 * correlated.  Rule j decides part of rule i if R_i & D_j is not
 * empty. */
static void classify(struct ctx *x, size_t i, size_t *dec, size_t *cor)
{
	const struct xw_rule *ri = &x->rs->rules[i];
	struct lrule *li = &x->L[i];
	struct bdd *b = &x->b;
	size_t nd = 0, nc = 0, other = (size_t)-1;

	if (li->never) {
		add_item(x, i, XW_LINT_NEVER, NULL, 0);
		return;
	}
	for (size_t j = 0; j < i; j++) {
		const struct lrule *lj = &x->L[j];
		int same = x->rs->rules[j].verdict == ri->verdict;

		if (lj->never || lj->limit || lj->covered || !lj->need_d || disjoint(li, lj))
			continue;
		if (same && !li->covered)
			continue;   /* only other verdicts can correlate */
		if (!sat3(b, REF(li->R), REF(lj->D), RTRUE))
			continue;
		dec[nd++] = j;
		if (same)
			continue;
		if (other == (size_t)-1)
			other = j;
		/* an exception in front of a more general rule is no correlation */
		if (!li->covered && sat3(b, REF(lj->R), NREF(li->R), RTRUE))
			cor[nc++] = j;
	}
	if (li->covered) {
		struct xw_lint_item *it;
		size_t w;

		if (!nd)
			return;   /* cannot happen: a non-empty R_i covered by nothing */
		w = other != (size_t)-1 ? other : dec[0];
		for (size_t k = 0; k < nd; k++)
			x->tmp[k] = x->rs->rules[dec[k]].prio;
		it = add_item(x, i, other != (size_t)-1 ? XW_LINT_SHADOWED : XW_LINT_REDUNDANT,
			      x->tmp, nd);
		witness(x, it, REF(li->R), REF(x->L[w].D), RTRUE, w);
	} else if (nc) {
		struct xw_lint_item *it;

		for (size_t k = 0; k < nc; k++)
			x->tmp[k] = x->rs->rules[cor[k]].prio;
		it = add_item(x, i, XW_LINT_CORRELATED, x->tmp, nc);
		witness(x, it, REF(li->R), REF(x->L[cor[0]].D), RTRUE, cor[0]);
	}
}

/* Later redundancy of rule i (it fires, has no log).  Follow the packets
 * it decides, X, through the later rules: one with another verdict that
 * meets X might take them (fail); one with the same verdict that surely
 * fires when reached (no limit, fires in this rule set, not itself reported
 * removable) takes its part of X; other same-verdict rules might or might
 * not.  What is left at the end gets the policy.  The rules after i are
 * decided first (last rule first), so the reported set can also go at once.
 * need_later is clear when the answer is no without the walk (need_sets). */
static void later_redundant(struct ctx *x, size_t i, uint32_t *X)
{
	const struct xw_rule *ri = &x->rs->rules[i];
	struct lrule *li = &x->L[i];
	struct bdd *b = &x->b;
	struct xw_lint_item *it;
	size_t nb = 0, dk = (size_t)-1;
	int same_pol = pol_same(x, i);

	if (!li->need_later)
		return;
	*X = li->D;
	for (size_t k = i + 1; k < x->rs->n && *X != F0; k++) {
		const struct lrule *lk = &x->L[k];

		if (lk->never || disjoint(li, lk) || !sat3(b, REF(*X), REF(lk->R), RTRUE))
			continue;
		if (x->rs->rules[k].verdict != ri->verdict)
			return;
		x->tmp[nb++] = x->rs->rules[k].prio;
		if (!lk->limit && !lk->covered && !lk->later)
			*X = DIFF(b, *X, lk->R);
	}
	if (*X != F0 && !same_pol)
		return;
	li->later = 1;
	it = add_item(x, i, XW_LINT_REDUNDANT, x->tmp, nb);
	it->later = 1;
	it->policy = *X != F0;
	/* a packet rule i decides, and who decides it without rule i */
	pick3(b, REF(li->D), RTRUE, RTRUE, &it->witness);
	for (size_t k = i + 1; k < x->rs->n && dk == (size_t)-1; k++)
		if (!x->L[k].never && !x->L[k].limit && eval(b, x->L[k].R, &it->witness))
			dk = k;
	witness(x, it, REF(li->D), RTRUE, RTRUE, dk);
}

/* Collect garbage when it has grown; the roots are every rule's R and D and
 * the caller's sets in `extra`. */
static void maybe_gc(struct ctx *x, uint32_t **extra, size_t n_extra)
{
	struct bdd *b = &x->b;
	size_t n = x->rs->n, k = 0;
	uint32_t **roots;

	if (b->nn - b->n_free < 2 * b->live_gc + (1u << 20))
		return;
	roots = malloc((2 * n + n_extra + 1) * sizeof(*roots));
	if (!roots)
		return;
	for (size_t i = 0; i < n; i++) {
		roots[k++] = &x->L[i].R;
		roots[k++] = &x->L[i].D;
	}
	for (size_t i = 0; i < n_extra; i++)
		roots[k++] = extra[i];
	bdd_gc(b, (uint32_t *const *)roots, k);
	free(roots);
}

static int cmp_item(const void *a, const void *b)
{
	const struct xw_lint_item *x = a, *y = b;

	if (x->rule != y->rule)
		return x->rule < y->rule ? -1 : 1;
	return (int)x->kind - (int)y->kind;
}

/* Which rules need D = R - (earlier rules), once the rules whose D is
 * large have dropped it:
 *   pair tests: D_j & R_i for a later rule i that is covered or has another
 *   verdict, when R_i and R_j overlap at all;
 *   the later test of rule j, if it fires and has no log, unless the policy
 *   differs and part of D_j is in no later rule.  D_j is R_j minus the
 *   earlier rules, so that is "part of R_j in no other rule": outside
 *   `two`, the packets two or more non-limit rules match (for a limit rule,
 *   outside `one`, the packets any non-limit rule matches). */
static void need_sets(struct ctx *x, uint32_t one, uint32_t two)
{
	const struct xw_ruleset *rs = x->rs;
	struct bdd *b = &x->b;
	size_t n = rs->n;

	for (size_t j = 0; j < n; j++) {
		struct lrule *lj = &x->L[j];
		const struct xw_rule *rj = &rs->rules[j];

		if (lj->never || lj->covered)
			continue;
		if (!lj->log && (pol_same(x, j) ||
				 !sat3(b, REF(lj->R), NREF(lj->limit ? one : two), RTRUE)))
			lj->need_later = lj->need_d = 1;
		if (lj->limit)
			continue;
		for (size_t i = j + 1; i < n && !lj->need_d; i++) {
			const struct lrule *li = &x->L[i];

			if (li->never || disjoint(li, lj) ||
			    (!li->covered && rs->rules[i].verdict == rj->verdict))
				continue;
			if (sat3(b, REF(li->R), REF(lj->R), RTRUE))
				lj->need_d = 1;
		}
	}
}

static int analyse(struct ctx *x)
{
	const struct xw_ruleset *rs = x->rs;
	struct bdd *b = &x->b;
	size_t n = rs->n, *dec, *cor;
	int uses_ct = 0, rc = -1, missing = 0;
	uint32_t F, U = F0, T = F0;

	for (size_t i = 0; i < n; i++)
		if (rs->rules[i].present & XM_CT)
			uses_ct = 1;
	F = feasible(b, uses_ct);
	for (size_t i = 0; i < n; i++) {
		const struct xw_rule *r = &rs->rules[i];
		struct lrule *l = &x->L[i];
		uint32_t raw;

		if (rule_set(x, i, &raw))
			return -1;
		l->R = AND(b, raw, F);
		l->never = l->R == F0;
		l->limit = !!(r->present & XM_LIMIT);
		l->log = r->log;
	}
	/* in priority order, U the union of the rules so far, I = R_i & U its
	 * part earlier rules take (covered: all of it), T the packets two rules
	 * match, and D_i = R_i - I.  A large I or D (a rule across many others on
	 * another field, as in long block lists: quadratic in all) is not kept;
	 * D is rebuilt below only if a test needs it. */
	for (size_t i = 0; i < n; i++) {
		struct lrule *l = &x->L[i];
		uint32_t *extra[] = { &U, &T };
		uint64_t made = b->made;
		uint32_t I;

		maybe_gc(x, extra, 2);
		if (l->never)
			continue;
		I = AND(b, l->R, U);
		l->covered = I == l->R;
		if (!l->limit)
			T = OR(b, T, I);
		if (b->made - made <= XW_LINT_BIG_D) {
			made = b->made;
			l->D = DIFF(b, l->R, I);
			l->has_d = b->made - made <= XW_LINT_BIG_D;
			if (!l->has_d)
				l->D = F0;
		}
		if (!l->limit)
			U = OR(b, U, l->R);
	}
	need_sets(x, U, T);
	for (size_t i = 0; i < n; i++) {
		struct lrule *l = &x->L[i];

		if (l->has_d && !l->need_d)
			l->D = F0;
		if (l->need_d && !l->has_d)
			missing = 1;
	}
	/* again, for the large D that a test needs */
	U = F0;
	for (size_t i = 0; missing && i < n; i++) {
		struct lrule *l = &x->L[i];
		uint32_t *extra[] = { &U };

		maybe_gc(x, extra, 1);
		if (l->never)
			continue;
		if (l->need_d && !l->has_d) {
			l->D = DIFF(b, l->R, U);
			l->has_d = 1;
		}
		if (!l->limit)
			U = OR(b, U, l->R);
	}
	dec = malloc((n ? n : 1) * sizeof(*dec));
	cor = malloc((n ? n : 1) * sizeof(*cor));
	if (!dec || !cor) {
		snprintf(x->err->msg, sizeof(x->err->msg), "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		classify(x, i, dec, cor);
	/* last rule first */
	{
		uint32_t X = F0;
		uint32_t *extra[] = { &X };

		for (size_t i = n; i-- > 0;) {
			X = F0;
			maybe_gc(x, extra, 1);
			later_redundant(x, i, &X);
		}
	}
	if (x->out->n)
		qsort(x->out->items, x->out->n, sizeof(*x->out->items), cmp_item);
	for (size_t k = 0; k < x->out->n; k++) {
		struct xw_lint_item *it = &x->out->items[k];

		if (it->has_witness)
			xw_lint_key_format(rs, x->out, &it->witness, it->witness_text,
					   sizeof(it->witness_text));
	}
	rc = 0;
out:
	free(dec);
	free(cor);
	return rc;
}

/* setjmp apart from the code it guards: nothing there can be clobbered. */
static int run(struct ctx *x)
{
	if (setjmp(x->b.fail))
		return -2;
	return analyse(x);
}

int xw_lint(const struct xw_ruleset *rs, struct xw_lint_result *out, struct xw_err *err)
{
	struct ctx *x = calloc(1, sizeof(*x));
	size_t n = rs->n;
	uint32_t next_if = 1;
	int rc;

	memset(out, 0, sizeof(*out));
	order_init();
	if (!x)
		goto oom;
	x->rs = rs;
	x->out = out;
	x->err = err;
	out->n_rules = n;
	out->ifindex = calloc(n ? n : 1, sizeof(*out->ifindex));
	x->L = calloc(n ? n : 1, sizeof(*x->L));
	x->tmp = calloc(n ? n : 1, sizeof(*x->tmp));
	if (!out->ifindex || !x->L || !x->tmp || bdd_init(&x->b)) {
		bdd_free(&x->b);
		goto oom;
	}
	/* one made-up ifindex per interface name */
	for (size_t i = 0; i < n; i++) {
		if (!(rs->rules[i].present & XM_IIF))
			continue;
		for (size_t j = 0; j < i && !out->ifindex[i]; j++)
			if ((rs->rules[j].present & XM_IIF) && !strcmp(rs->rules[j].iif, rs->rules[i].iif))
				out->ifindex[i] = out->ifindex[j];
		if (!out->ifindex[i])
			out->ifindex[i] = next_if++;
	}
	rc = run(x);
	if (rc == -2 && x->b.why == 1)
		snprintf(err->msg, sizeof(err->msg),
			 "rule set too complex to analyse (more than %u decision nodes)", XW_LINT_MAX_NODES);
	else if (rc == -2)
		snprintf(err->msg, sizeof(err->msg), "out of memory");
	out->n_nodes = x->b.nn;
	bdd_free(&x->b);
	free(x->L);
	free(x->tmp);
	free(x);
	if (rc)
		xw_lint_free(out);
	return rc ? -1 : 0;
oom:
	if (x) {
		free(x->L);
		free(x->tmp);
		free(x);
	}
	xw_lint_free(out);
	snprintf(err->msg, sizeof(err->msg), "out of memory");
	return -1;
}

void xw_lint_free(struct xw_lint_result *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->items[i].by);
	free(r->items);
	free(r->ifindex);
	memset(r, 0, sizeof(*r));
}
