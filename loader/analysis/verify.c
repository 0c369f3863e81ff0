// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* xwall verify: see verify.h; the completeness argument is docs/verify.md.
 *
 * Objects.  Every rule of the live text is an object (the reference side);
 * so is every map entry of the active generation as the datapath's lookup
 * sees it: the tuple's pre-check words and the entry's key words, i.e. a
 * (mask, value) pair over struct xw_key ("cube"), and every limit entry.
 * For each field ("level") an object has the set of field values it accepts,
 * as sorted disjoint intervals, or "any".
 *
 * Cells.  Starting from the whole key space, each level splits the current
 * cell by the intervals of the objects still alive in it (those accepting
 * every value the cell has on earlier levels); elementary intervals that the
 * same objects accept are merged into one child (decision-diagram style), so
 * the number of children is the number of distinct behaviours, not of
 * intervals.  After the last level, every alive object accepts the whole
 * cell and every other one rejects all of it: the first-match rule and the
 * datapath's walk are constant on the cell, and one frame decides it.
 *
 * Shortcuts: in a child, the first certain object (no ct, no limit) that
 * needs no later field ends the search, so the objects after it are dropped
 * and children are told apart only by the objects up to it; and a node whose
 * alive objects, level and structural context equal one split before (on
 * another path) is not split again (memo_seen) — its cells cover both. */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "verify.h"
#include "sets.h"
#include "compile.h"
#include "tree.h"
#include "pktbuild.h"

typedef unsigned __int128 u128;
#define U128_MAX (~(u128)0)

/* Levels, in the order cells are split.  A level's values may depend on
 * earlier ones (the L3 kind on the EtherType, ports on the L4 kind, ...);
 * a field the packet lacks has the single value 0. */
enum lv {
	L_IFX, L_ESRC, L_EDST, L_ETYPE, L_L3, L_PROTO, L_FRAG, L_L4,
	L_SRC, L_DST, L_SPORT, L_DPORT, L_TFLAGS, L_ITYPE, L_ICODE, L_VLAN, L_N
};
#define S_SRC6 L_N           /* src/dst sets for IPv6 (and raw 128-bit for cubes) */
#define S_DST6 (L_N + 1)
#define NSETS  (L_N + 2)

static const char *const lv_names[L_N] = {
	"iif", "ether src", "ether dst", "ether type", "l3", "proto", "frag", "l4",
	"src", "dst", "sport", "dport", "tcp flags", "icmp type", "icmp code", "vlan",
};

/* The order fields are split in.  A level may only follow the levels its
 * values depend on (domain()).  Fields that few rules use come late: they
 * then split only cells where such a rule is still undecided. */
static const int lv_order[L_N] = {
	L_ETYPE, L_L3, L_PROTO, L_FRAG, L_L4, L_SRC, L_DST, L_SPORT, L_DPORT,
	L_TFLAGS, L_ITYPE, L_ICODE, L_ESRC, L_EDST, L_VLAN, L_IFX,
};

/* levels split after position pos (pos -1: all) */
static uint32_t rem_after(int pos)
{
	uint32_t m = 0;

	for (int k = pos + 1; k < L_N; k++)
		m |= 1u << lv_order[k];
	return m;
}

/* L3 kinds (with the presence bits they give) and L4 kinds */
enum { K3_NONE, K3_V4, K3_V6, K3_N };
enum { K4_NONE, K4_PORTS, K4_TCP, K4_ICMP, K4_ICMP6, K4_N };
static const uint16_t k3_flags[K3_N] = { 0, XWK_L3 | XWK_V4, XWK_L3 | XWK_V6 };
static const uint16_t k4_flags[K4_N] = { 0, XWK_PORTS, XWK_PORTS | XWK_TCP, XWK_ICMP, XWK_ICMP6 };
#define K3_BITS (XWK_L3 | XWK_V4 | XWK_V6)
#define K4_BITS (XWK_PORTS | XWK_TCP | XWK_ICMP | XWK_ICMP6)
#define KF_BITS (XWK_FRAG_MF | XWK_FRAG_LATER)
#define KNOWN_FLAGS 0x03ffu
#define VLAN_NONE 4096u

struct iv {
	u128 lo, hi;
};

struct iset {
	uint32_t off;
	int32_t  n;        /* < 0: any value */
};

struct obj {
	uint32_t prio;
	uint32_t ref;      /* rule: index in the rule set; cube: tuple id or limit index */
	uint32_t lvmask;   /* levels where the set is not "any" */
	uint8_t  verdict;
	uint8_t  is_rule;
	uint8_t  limit;    /* a `limit` rule or limit entry: may or may not match */
	uint8_t  ct;       /* rule's ct states (0: no ct match) */
	uint8_t  maybe;    /* depends on state: never ends the search */
	uint8_t  dir_ok[2];
	uint64_t z0, z1;   /* hashes of the object, to group intervals */
	struct iset s[NSETS];
};

struct ivpool {
	struct iv *v;
	size_t n, cap;
};

struct list {
	uint32_t *v;
	size_t n;
};

struct cand {
	int n;
	u128 v[6];
};

struct vs {
	struct xw_dp *dp;
	const struct xw_verify_opts *o;
	struct xw_verify_stats *st;
	struct xw_err *err;
	FILE *out, *log;
	struct xw_ruleset rs;
	uint32_t *rule_ifx;
	struct obj *obj;
	size_t nobj, capobj, nrules;
	struct ivpool pool;
	struct iv *ifx;          /* existing interfaces (points) */
	size_t nifx;
	int dir;
	int exact;
	int fail;                /* an error stopped the walk (err set) */
	int cpu, ncpu;
	struct xw_scratch *scr;
	uint64_t counter;
	uint64_t groups[L_N];
	unsigned printed;
	double last_progress;
	uint64_t *memo;          /* merged nodes: pairs of 64-bit hashes */
	size_t memo_n, memo_cap;
	uint64_t memo_hits;
	uint64_t shapes[XW_PBS_N];
	int pass;                /* 0 XDP ingress, 1 TC egress, 2 TC ingress */
	int tc_in;               /* an interface filters ingress with TC */
};

struct ctx {
	u128 val[L_N];
	int fam;                 /* 0, 4 or 6 */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static int oom(struct vs *V)
{
	V->fail = 1;
	return xw_errf(V->err, XW_ESYS, "out of memory");
}

/* ---- interval sets ---- */

static int pool_push(struct vs *V, u128 lo, u128 hi)
{
	struct ivpool *p = &V->pool;

	if (p->n == p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 4096;
		struct iv *nv = realloc(p->v, nc * sizeof(*nv));

		if (!nv)
			return oom(V);
		p->v = nv;
		p->cap = nc;
	}
	p->v[p->n].lo = lo;
	p->v[p->n].hi = hi;
	p->n++;
	return 0;
}

static int cmp_iv(const void *a, const void *b)
{
	const struct iv *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Sort and merge the intervals pushed since `off` into a set. */
static void set_close(struct vs *V, struct iset *s, uint32_t off)
{
	struct iv *v = V->pool.v + off;
	size_t n = V->pool.n - off, w = 0;

	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_iv);
	for (size_t i = 0; i < n; i++) {
		if (w && (v[i].lo <= v[w - 1].hi ||
			  (v[w - 1].hi != U128_MAX && v[i].lo == v[w - 1].hi + 1))) {
			if (v[i].hi > v[w - 1].hi)
				v[w - 1].hi = v[i].hi;
			continue;
		}
		v[w++] = v[i];
	}
	V->pool.n = off + w;
	s->off = off;
	s->n = (int32_t)w;
}

static u128 width_max(int width)
{
	return width >= 128 ? U128_MAX : (((u128)1 << width) - 1);
}

/* {x : x & m == v} over `width` bits: one interval per assignment of the
 * free bits above the lowest mask bit (1 for a prefix mask). */
static int set_from_mask(struct vs *V, struct iset *s, u128 m, u128 v, int width)
{
	u128 all = width_max(width), low, holes, sub = 0;
	uint32_t off = (uint32_t)V->pool.n;
	int k = 0, nh = 0;

	m &= all;
	s->off = off;
	s->n = 0;
	if (v & ~m)
		return 0;              /* never matches */
	if (!m) {
		s->n = -1;
		return 0;
	}
	while (!((m >> k) & 1))
		k++;
	low = ((u128)1 << k) - 1;
	holes = ~m & all & ~low;
	for (u128 h = holes; h; h &= h - 1)
		nh++;
	if (nh > 16) {
		V->fail = 1;
		return xw_errf(V->err, XW_ESYS, "a map entry's mask has %d holes in one field; "
			       "such a mask is not verifiable cell by cell", nh);
	}
	do {
		if (pool_push(V, v | sub, v | sub | low))
			return -1;
		sub = (sub - holes) & holes;
	} while (sub);
	s->n = (int32_t)(V->pool.n - off);
	return 0;
}

/* Set of small values from a bit mask over [0, nvals); "any" if all. */
static int set_from_bits(struct vs *V, struct iset *s, uint32_t bits, int nvals)
{
	uint32_t off = (uint32_t)V->pool.n;

	if (bits == (1u << nvals) - 1) {
		s->off = off;
		s->n = -1;
		return 0;
	}
	for (int i = 0; i < nvals; i++)
		if ((bits >> i) & 1 && pool_push(V, i, i))
			return -1;
	set_close(V, s, off);
	return 0;
}

static int set_point(struct vs *V, struct iset *s, u128 x)
{
	uint32_t off = (uint32_t)V->pool.n;

	if (pool_push(V, x, x))
		return -1;
	set_close(V, s, off);
	return 0;
}

static int set_ranges(struct vs *V, struct iset *s, const struct xw_range *r, size_t n)
{
	uint32_t off = (uint32_t)V->pool.n;

	for (size_t i = 0; i < n; i++)
		if (pool_push(V, r[i].lo, r[i].hi))
			return -1;
	set_close(V, s, off);
	return 0;
}

static int in_set(const struct vs *V, const struct iset *s, u128 x)
{
	const struct iv *v = V->pool.v + s->off;
	size_t lo = 0, hi;

	if (s->n < 0)
		return 1;
	hi = (size_t)s->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (v[mid].hi < x)
			lo = mid + 1;
		else if (v[mid].lo > x)
			hi = mid;
		else
			return 1;
	}
	return 0;
}

static u128 be_bytes(const uint8_t *p, int n)
{
	u128 x = 0;

	for (int i = 0; i < n; i++)
		x = x << 8 | p[i];
	return x;
}

static void put_be(uint8_t *p, int n, u128 x)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (uint8_t)x;
		x >>= 8;
	}
}

static const struct iset *oset(const struct obj *o, int lv, int fam)
{
	if (lv == L_SRC && fam != 4)
		return &o->s[S_SRC6];
	if (lv == L_DST && fam != 4)
		return &o->s[S_DST6];
	return &o->s[lv];
}

/* ---- objects ---- */

static struct obj *new_obj(struct vs *V)
{
	struct obj *o;

	if (V->nobj == V->capobj) {
		size_t nc = V->capobj ? V->capobj * 2 : 1024;
		struct obj *nv = realloc(V->obj, nc * sizeof(*nv));

		if (!nv) {
			oom(V);
			return NULL;
		}
		V->obj = nv;
		V->capobj = nc;
	}
	o = &V->obj[V->nobj];
	memset(o, 0, sizeof(*o));
	for (int i = 0; i < NSETS; i++)
		o->s[i].n = -1;
	return o;
}

static void finish_obj(struct vs *V, struct obj *o)
{
	uint64_t seed = V->nobj * 0x2545F4914F6CDD1Dull + 77;

	o->lvmask = 0;
	for (int l = 0; l < L_N; l++)
		if (o->s[l].n >= 0 || (l == L_SRC && o->s[S_SRC6].n >= 0) ||
		    (l == L_DST && o->s[S_DST6].n >= 0))
			o->lvmask |= 1u << l;
	o->z0 = splitmix(&seed);
	o->z1 = splitmix(&seed);
	V->nobj++;
}

static int cidr_set(struct vs *V, struct iset *s, const struct xw_cidr *c, size_t n, int fam)
{
	uint32_t off = (uint32_t)V->pool.n;
	int bits = fam == 4 ? 32 : 128;

	for (size_t i = 0; i < n; i++) {
		u128 a, host;

		if (c[i].family != fam)
			continue;
		a = be_bytes(c[i].addr, bits / 8);
		host = c[i].plen >= bits ? 0 : width_max(bits - c[i].plen);
		if (pool_push(V, a & ~host, a | host))
			return -1;
	}
	set_close(V, s, off);
	return 0;
}

/* A rule of the text, as docs/semantics.md reads it. */
static int rule_obj(struct vs *V, size_t idx)
{
	const struct xw_rule *r = &V->rs.rules[idx];
	uint32_t m = r->present;
	struct obj *o = new_obj(V);
	int rc = 0;

	if (!o)
		return -1;
	o->prio = r->prio;
	o->ref = (uint32_t)idx;
	o->verdict = r->verdict < XW_VERDICT_MAX ? r->verdict : XW_DROP;
	o->is_rule = 1;
	o->limit = !!(m & XM_LIMIT);
	o->ct = (m & XM_CT) ? r->ct : 0;
	o->maybe = o->limit || (m & XM_CT);
	o->dir_ok[r->dir & 1] = 1;

	if (m & XM_IIF)
		rc |= V->rule_ifx[idx] ? set_point(V, &o->s[L_IFX], V->rule_ifx[idx])
				       : set_from_bits(V, &o->s[L_IFX], 0, 1);
	if (m & XM_ETH_SRC)
		rc |= set_point(V, &o->s[L_ESRC], be_bytes(r->eth_src, 6));
	if (m & XM_ETH_DST)
		rc |= set_point(V, &o->s[L_EDST], be_bytes(r->eth_dst, 6));
	if (m & (XM_ETH_TYPE | XM_IP | XM_IP6)) {
		int want = -1, clash = 0;

		if (m & XM_ETH_TYPE)
			want = r->eth_type;
		if (m & XM_IP) {
			clash |= want >= 0 && want != 0x0800;
			want = 0x0800;
		}
		if (m & XM_IP6) {
			clash |= want >= 0 && want != 0x86DD;
			want = 0x86DD;
		}
		rc |= clash ? set_from_bits(V, &o->s[L_ETYPE], 0, 1)
			    : set_point(V, &o->s[L_ETYPE], (u128)want);
	}
	if (m & (XM_SRC | XM_DST | XM_PROTO | XM_SPORT | XM_DPORT | XM_TCPFLAGS | XM_ICMP |
		 XM_ICMP6 | XM_FRAG)) {
		uint32_t k3 = 1u << K3_V4 | 1u << K3_V6;   /* needs a valid IP header */

		if (m & XM_SRC) {
			uint32_t f = 0;

			for (size_t i = 0; i < r->n_src; i++)
				f |= r->src[i].family == 4 ? 1u << K3_V4 : 1u << K3_V6;
			k3 &= f;
		}
		if (m & XM_DST) {
			uint32_t f = 0;

			for (size_t i = 0; i < r->n_dst; i++)
				f |= r->dst[i].family == 4 ? 1u << K3_V4 : 1u << K3_V6;
			k3 &= f;
		}
		if (m & XM_ICMP)
			k3 &= 1u << K3_V4;
		if (m & XM_ICMP6)
			k3 &= 1u << K3_V6;
		rc |= set_from_bits(V, &o->s[L_L3], k3, K3_N);
	}
	if (m & XM_PROTO)
		rc |= set_point(V, &o->s[L_PROTO], r->proto);
	if (m & XM_FRAG) {
		/* values: bit 0 more-fragments, bit 1 offset != 0 */
		uint32_t f = r->frag == XW_FRAG_FIRST ? 1u << 1 :
			     r->frag == XW_FRAG_LATER ? (1u << 2 | 1u << 3) : (1u << 1 | 1u << 2 | 1u << 3);

		rc |= set_from_bits(V, &o->s[L_FRAG], f, 4);
	}
	if (m & (XM_SPORT | XM_DPORT | XM_TCPFLAGS | XM_ICMP | XM_ICMP6)) {
		uint32_t k4 = (1u << K4_N) - 1;

		if (m & (XM_SPORT | XM_DPORT))
			k4 &= 1u << K4_PORTS | 1u << K4_TCP;
		if (m & XM_TCPFLAGS)
			k4 &= 1u << K4_TCP;
		if (m & XM_ICMP)
			k4 &= 1u << K4_ICMP;
		if (m & XM_ICMP6)
			k4 &= 1u << K4_ICMP6;
		rc |= set_from_bits(V, &o->s[L_L4], k4, K4_N);
	}
	if (m & XM_SRC) {
		rc |= cidr_set(V, &o->s[L_SRC], r->src, r->n_src, 4);
		rc |= cidr_set(V, &o->s[S_SRC6], r->src, r->n_src, 6);
	}
	if (m & XM_DST) {
		rc |= cidr_set(V, &o->s[L_DST], r->dst, r->n_dst, 4);
		rc |= cidr_set(V, &o->s[S_DST6], r->dst, r->n_dst, 6);
	}
	if (m & XM_SPORT)
		rc |= set_ranges(V, &o->s[L_SPORT], r->sport, r->n_sport);
	if (m & XM_DPORT)
		rc |= set_ranges(V, &o->s[L_DPORT], r->dport, r->n_dport);
	if (m & XM_TCPFLAGS)   /* (flags & M) == F */
		rc |= set_from_mask(V, &o->s[L_TFLAGS], r->tcp_mask, r->tcp_flags, 8);
	if (m & (XM_ICMP | XM_ICMP6)) {
		rc |= set_ranges(V, &o->s[L_ITYPE], r->icmp_type, r->n_icmp_type);
		if (r->n_icmp_code)
			rc |= set_ranges(V, &o->s[L_ICODE], r->icmp_code, r->n_icmp_code);
	}
	if (m & XM_VLAN)
		rc |= set_point(V, &o->s[L_VLAN], r->vlan);
	if (rc)
		return -1;
	finish_obj(V, o);
	return 0;
}

static u128 fld(const uint8_t *k, size_t off, int n)
{
	u128 x = 0;

	for (int i = n - 1; i >= 0; i--)     /* host order (little endian) */
		x = x << 8 | k[off + i];
	return x;
}

#define KOFF(f) offsetof(struct xw_key, f)

/* A (mask, value) pair over struct xw_key, as the datapath matches it.
 * Returns 1 if it can match some packet, 0 if never, -1 on error. */
static int cube_obj(struct vs *V, const uint8_t *M, const uint8_t *Vv, uint32_t prio,
		    uint32_t ref, int limit, const struct xw_range *pr)
{
	uint16_t fm = (uint16_t)fld(M, KOFF(flags), 2), fv = (uint16_t)fld(Vv, KOFF(flags), 2);
	struct obj *o;
	uint32_t bits;
	int rc = 0;

	for (size_t i = 0; i < sizeof(struct xw_key); i++)
		if (Vv[i] & ~M[i])
			return 0;
	if (fv & ~KNOWN_FLAGS)
		return 0;
	o = new_obj(V);
	if (!o)
		return -1;
	o->prio = prio;
	o->ref = ref;
	o->limit = (uint8_t)limit;
	o->maybe = limit || M[KOFF(ct_state)];
	for (int d = 0; d < 2; d++)
		o->dir_ok[d] = (d & M[KOFF(dir)]) == Vv[KOFF(dir)];
	if (!o->dir_ok[0] && !o->dir_ok[1])
		return 0;

	rc |= set_from_mask(V, &o->s[L_IFX], fld(M, KOFF(ifindex), 4), fld(Vv, KOFF(ifindex), 4), 32);
	rc |= set_from_mask(V, &o->s[L_ESRC], be_bytes(M + KOFF(eth_src), 6),
			    be_bytes(Vv + KOFF(eth_src), 6), 48);
	rc |= set_from_mask(V, &o->s[L_EDST], be_bytes(M + KOFF(eth_dst), 6),
			    be_bytes(Vv + KOFF(eth_dst), 6), 48);
	rc |= set_from_mask(V, &o->s[L_ETYPE], fld(M, KOFF(eth_type), 2), fld(Vv, KOFF(eth_type), 2), 16);
	bits = 0;
	for (int k = 0; k < K3_N; k++)
		if (!((k3_flags[k] ^ fv) & fm & K3_BITS))
			bits |= 1u << k;
	rc |= set_from_bits(V, &o->s[L_L3], bits, K3_N);
	rc |= set_from_mask(V, &o->s[L_PROTO], M[KOFF(proto)], Vv[KOFF(proto)], 8);
	bits = 0;
	for (int f = 0; f < 4; f++) {
		uint16_t fl = (f & 1 ? XWK_FRAG_MF : 0) | (f & 2 ? XWK_FRAG_LATER : 0);

		if (!((fl ^ fv) & fm & KF_BITS))
			bits |= 1u << f;
	}
	rc |= set_from_bits(V, &o->s[L_FRAG], bits, 4);
	bits = 0;
	for (int k = 0; k < K4_N; k++)
		if (!((k4_flags[k] ^ fv) & fm & K4_BITS))
			bits |= 1u << k;
	rc |= set_from_bits(V, &o->s[L_L4], bits, K4_N);
	for (int d = 0; d < 2; d++) {
		size_t off = d ? KOFF(dst) : KOFF(src);
		u128 m = be_bytes(M + off, 16), v = be_bytes(Vv + off, 16);
		u128 low96 = width_max(96);
		struct iset *s4 = &o->s[d ? L_DST : L_SRC], *s6 = &o->s[d ? S_DST6 : S_SRC6];

		rc |= set_from_mask(V, s6, m, v, 128);
		if (v & low96) {       /* IPv4 keys have zeros there */
			s4->off = (uint32_t)V->pool.n;
			s4->n = 0;
		} else {
			rc |= set_from_mask(V, s4, m >> 96, v >> 96, 32);
		}
	}
	for (int d = 0; d < 2; d++) {
		size_t off = d ? KOFF(dport) : KOFF(sport);
		struct iset *ps = &o->s[d ? L_DPORT : L_SPORT];

		if (pr && (pr[d].lo != 0 || pr[d].hi != 0xffff)) {
			/* a tree entry's port range (its mask there is zero) */
			if (fld(M, off, 2) || pr[d].lo > pr[d].hi)
				return 0;
			rc |= set_ranges(V, ps, &pr[d], 1);
		} else {
			rc |= set_from_mask(V, ps, fld(M, off, 2), fld(Vv, off, 2), 16);
		}
	}
	rc |= set_from_mask(V, &o->s[L_TFLAGS], M[KOFF(tcp_flags)], Vv[KOFF(tcp_flags)], 8);
	rc |= set_from_mask(V, &o->s[L_ITYPE], M[KOFF(icmp_type)], Vv[KOFF(icmp_type)], 8);
	rc |= set_from_mask(V, &o->s[L_ICODE], M[KOFF(icmp_code)], Vv[KOFF(icmp_code)], 8);
	{
		/* values 0..4095 tagged, VLAN_NONE untagged (vlan 0, bit clear) */
		int tagged = !((XWK_VLAN ^ fv) & fm & XWK_VLAN);
		int untagged = !(fv & fm & XWK_VLAN) && fld(Vv, KOFF(vlan), 2) == 0;
		uint32_t off = (uint32_t)V->pool.n;
		struct iset t;

		if (tagged) {
			rc |= set_from_mask(V, &t, fld(M, KOFF(vlan), 2), fld(Vv, KOFF(vlan), 2), 16);
			if (t.n < 0) {
				rc |= pool_push(V, 0, VLAN_NONE - 1);
			} else {
				size_t w = t.off;

				for (size_t i = t.off; i < t.off + (size_t)t.n; i++) {
					if (V->pool.v[i].lo >= VLAN_NONE)
						continue;
					V->pool.v[w] = V->pool.v[i];
					if (V->pool.v[w].hi >= VLAN_NONE)
						V->pool.v[w].hi = VLAN_NONE - 1;
					w++;
				}
				V->pool.n = w;
			}
		}
		if (untagged)
			rc |= pool_push(V, VLAN_NONE, VLAN_NONE);
		set_close(V, &o->s[L_VLAN], off);
		if (o->s[L_VLAN].n == 1 && V->pool.v[off].lo == 0 && V->pool.v[off].hi == VLAN_NONE)
			o->s[L_VLAN].n = -1;
	}
	if (rc)
		return -1;
	for (int l = 0; l < NSETS; l++)
		if (o->s[l].n == 0 && l != L_SRC && l != L_DST && l != S_SRC6 && l != S_DST6)
			return 0;      /* an empty field set: never matches */
	if (o->s[L_SRC].n == 0 && o->s[S_SRC6].n == 0)
		return 0;
	if (o->s[L_DST].n == 0 && o->s[S_DST6].n == 0)
		return 0;
	finish_obj(V, o);
	return 1;
}

/* ---- reading the kernel's tables ---- */

struct tables {
	struct xw_cfg cfg;
	uint32_t gen;
	struct xw_thead head;
	struct xw_node *nodes;   /* the generation's slots, read on demand */
	uint8_t *node_read;
	uint32_t *lids;
	uint8_t *lid_read;
	struct xw_rent *rents;
	uint8_t *rent_read;
	uint32_t *mark;          /* per rent: last tree it was listed in + 1 */
	uint32_t trees;
	size_t entries, limits, nodes_n, leaves, max_leaf, max_depth;
};

static int sys(struct vs *V, const char *what, int e)
{
	V->fail = 1;
	if (e < 0)
		e = -e;
	return xw_errf(V->err, XW_ESYS, "%s: %s", what, strerror(e));
}

/* The structure is wrong: the datapath may not find what the entries say. */
static int bad_tree(struct vs *V, const char *fmt, uint32_t a, uint32_t b)
{
	V->fail = 1;
	if (V->log) {
		fprintf(V->log, "verify: FAIL: the active trees are inconsistent: ");
		fprintf(V->log, fmt, a, b);
		fprintf(V->log, "\n");
	}
	return xw_errf(V->err, XW_EINPUT, "the active rule trees are inconsistent (see above)");
}

static int get_node(struct vs *V, struct tables *T, uint32_t i, struct xw_node **out)
{
	if (i >= XW_MAX_NODES)
		return bad_tree(V, "node %u is past the %u slots", i, XW_MAX_NODES);
	if (!T->node_read[i]) {
		__u32 k = T->gen * XW_MAX_NODES + i;

		if (bpf_map_lookup_elem(V->dp->map_fd[XW_M_NODES], &k, &T->nodes[i]))
			return sys(V, "read xw_nodes", errno);
		T->node_read[i] = 1;
		T->nodes_n++;
	}
	*out = &T->nodes[i];
	return 0;
}

static int get_lid(struct vs *V, struct tables *T, uint32_t i, uint32_t *out)
{
	if (i >= XW_MAX_LIDS)
		return bad_tree(V, "leaf slot %u is past the %u slots", i, XW_MAX_LIDS);
	if (!T->lid_read[i]) {
		__u32 k = T->gen * XW_MAX_LIDS + i;

		if (bpf_map_lookup_elem(V->dp->map_fd[XW_M_LIDS], &k, &T->lids[i]))
			return sys(V, "read xw_lids", errno);
		T->lid_read[i] = 1;
	}
	*out = T->lids[i] & (XW_MAX_RENTS - 1);   /* as the datapath masks it */
	return 0;
}

static int get_rent(struct vs *V, struct tables *T, uint32_t i)
{
	if (!T->rent_read[i]) {
		__u32 k = T->gen * XW_MAX_RENTS + i;

		if (bpf_map_lookup_elem(V->dp->map_fd[XW_M_RENTS], &k, &T->rents[i]))
			return sys(V, "read xw_rents", errno);
		T->rent_read[i] = 1;
	}
	return 0;
}

/* Pass 1: every node and leaf of tree t, as the datapath can reach them;
 * the rents listed are the tree's entries (ids appended to *ids). */
static int collect(struct vs *V, struct tables *T, uint32_t at, unsigned depth, uint32_t t,
		   uint32_t **ids, size_t *n, size_t *cap)
{
	struct xw_node *nd = NULL;

	if (depth >= XW_TREE_DEPTH)
		return bad_tree(V, "a path of tree %u is longer than %u nodes", t, XW_TREE_DEPTH);
	if (get_node(V, T, at, &nd) || !nd)
		return -1;
	if (!nd->nb) {
		uint32_t prev = 0;

		if ((uint64_t)nd->base + nd->n > XW_MAX_LIDS)
			return bad_tree(V, "a leaf list of tree %u ends past slot %u", t, XW_MAX_LIDS);
		T->leaves++;
		if (nd->n > T->max_leaf)
			T->max_leaf = nd->n;
		if (depth + 1 > T->max_depth)
			T->max_depth = depth + 1;
		for (uint32_t j = 0; j < nd->n; j++) {
			uint32_t r = 0;

			if (get_lid(V, T, nd->base + j, &r) || get_rent(V, T, r))
				return -1;
			if (j && T->rents[r].prio < prev)
				return bad_tree(V, "a leaf list (slot %u) is not in priority order at rule %u",
						nd->base + j, T->rents[r].prio);
			prev = T->rents[r].prio;
			if (T->rents[r].prio < T->head.min_prio[t])
				return bad_tree(V, "tree %u says its best priority is %u, but lists a better one",
						t, T->head.min_prio[t]);
			if (T->mark[r] != t + 1) {
				if (*n == *cap) {
					size_t nc = *cap ? *cap * 2 : 1024;
					uint32_t *nv = realloc(*ids, nc * sizeof(*nv));

					if (!nv)
						return oom(V);
					*ids = nv;
					*cap = nc;
				}
				(*ids)[(*n)++] = r;
				T->mark[r] = t + 1;
			}
		}
		return 0;
	}
	if (nd->nb > 16 || (nd->off & 63) != nd->off)
		return bad_tree(V, "node %u cuts %u bits: not a node the datapath reads", at, nd->nb);
	if ((uint64_t)nd->base + (1u << nd->nb) > XW_MAX_NODES)
		return bad_tree(V, "node %u has children past slot %u", at, XW_MAX_NODES);
	{
		uint32_t base = nd->base, nc = 1u << nd->nb;

		for (uint32_t c = 0; c < nc; c++)
			if (collect(V, T, base + c, depth + 1, t, ids, n, cap))
				return -1;
	}
	return 0;
}

/* Pass 2: every entry of the tree is in every leaf where a packet it
 * matches can arrive.  ids: the entries that can match in this node's
 * region; pv/pc: the port bits fixed on the path (sport, dport). */
static int cover(struct vs *V, struct tables *T, uint32_t at, const uint32_t *ids, size_t n,
		 uint32_t t, uint32_t pv[2], uint32_t pc[2], uint32_t *stamp, uint32_t *clock)
{
	struct xw_node nd = T->nodes[at];

	if (!nd.nb) {
		uint32_t r = 0;

		++*clock;
		for (uint32_t j = 0; j < nd.n; j++) {
			if (get_lid(V, T, nd.base + j, &r))
				return -1;
			stamp[r] = *clock;
		}
		for (size_t i = 0; i < n; i++)
			if (stamp[ids[i]] != *clock)
				return bad_tree(V, "rule %u can match in leaf slot %u but is not listed there",
						T->rents[ids[i]].prio, nd.base);
		return 0;
	}
	{
		uint32_t nc = 1u << nd.nb, *sub = malloc((n ? n : 1) * sizeof(*sub));
		int port = -1, rc = 0;

		if (!sub)
			return oom(V);
		if (nd.flags & XW_NODE_LE16) {
			if (nd.off == KOFF(sport))
				port = 0;
			else if (nd.off == KOFF(dport))
				port = 1;
		}
		if (port >= 0 && (nd.sh != pc[port] || nd.sh + nd.nb > 16)) {
			free(sub);
			return bad_tree(V, "node %u cuts port bits out of order (at bit %u)", at, nd.sh);
		}
		for (uint32_t c = 0; c < nc && !rc; c++) {
			size_t k = 0;

			for (size_t i = 0; i < n; i++) {
				const struct xw_rent *e = &T->rents[ids[i]];
				uint32_t m = xw_node_child(&nd, (const uint8_t *)e->m);
				uint32_t v = xw_node_child(&nd, (const uint8_t *)e->v);

				if ((c ^ v) & m)
					continue;
				if (port >= 0) {
					uint32_t low = 16 - pc[port] - nd.nb;
					uint32_t lo = ((pv[port] << nd.nb) | c) << low, hi = lo + (1u << low) - 1;
					uint32_t a = port ? e->dp_lo : e->sp_lo, b = port ? e->dp_hi : e->sp_hi;

					if (b < lo || a > hi)
						continue;
				}
				sub[k++] = ids[i];
			}
			if (port >= 0) {
				uint32_t spv = pv[port], spc = pc[port];

				pv[port] = (pv[port] << nd.nb) | c;
				pc[port] += nd.nb;
				rc = cover(V, T, nd.base + c, sub, k, t, pv, pc, stamp, clock);
				pv[port] = spv;
				pc[port] = spc;
			} else {
				rc = cover(V, T, nd.base + c, sub, k, t, pv, pc, stamp, clock);
			}
		}
		free(sub);
		return rc;
	}
}

static int read_tables(struct vs *V, struct tables *T)
{
	__u32 zero = 0;
	uint32_t *ids = NULL, *stamp = NULL, clock = 0;
	size_t cap = 0;
	int rc = 0;

	memset(T, 0, sizeof(*T));
	if (bpf_map_lookup_elem(V->dp->map_fd[XW_M_CFG], &zero, &T->cfg))
		return sys(V, "read xw_cfg", errno);
	T->gen = T->cfg.active & 1;
	if (bpf_map_lookup_elem(V->dp->map_fd[XW_M_TREES], &T->gen, &T->head))
		return sys(V, "read xw_trees", errno);
	T->nodes = calloc(XW_MAX_NODES, sizeof(*T->nodes));
	T->node_read = calloc(XW_MAX_NODES, 1);
	T->lids = calloc(XW_MAX_LIDS, sizeof(*T->lids));
	T->lid_read = calloc(XW_MAX_LIDS, 1);
	T->rents = calloc(XW_MAX_RENTS, sizeof(*T->rents));
	T->rent_read = calloc(XW_MAX_RENTS, 1);
	T->mark = calloc(XW_MAX_RENTS, sizeof(*T->mark));
	stamp = calloc(XW_MAX_RENTS, sizeof(*stamp));
	if (!T->nodes || !T->node_read || !T->lids || !T->lid_read || !T->rents || !T->rent_read ||
	    !T->mark || !stamp) {
		free(stamp);
		return oom(V);
	}
	T->trees = T->head.n_trees < XW_MAX_TREES ? T->head.n_trees : XW_MAX_TREES;
	for (uint32_t t = 0; t < T->trees && !rc; t++) {
		size_t n = 0;
		uint32_t pv[2] = { 0, 0 }, pc[2] = { 0, 0 };

		if (t && T->head.min_prio[t] < T->head.min_prio[t - 1]) {
			rc = bad_tree(V, "trees are not in priority order (tree %u, best %u)", t,
				      T->head.min_prio[t]);
			break;
		}
		rc = collect(V, T, T->head.root[t] & (XW_MAX_NODES - 1), 0, t, &ids, &n, &cap);
		if (!rc)
			rc = cover(V, T, T->head.root[t] & (XW_MAX_NODES - 1), ids, n, t, pv, pc, stamp,
				   &clock);
	}
	free(ids);
	free(stamp);
	if (rc)
		return -1;
	/* every rent some leaf lists: one cube each */
	for (uint32_t r = 0; r < XW_MAX_RENTS; r++) {
		const struct xw_rent *e = &T->rents[r];
		struct xw_range pr[2];

		if (!T->mark[r] || e->prio == XW_PRIO_NONE)
			continue;
		pr[0].lo = e->sp_lo;
		pr[0].hi = e->sp_hi;
		pr[1].lo = e->dp_lo;
		pr[1].hi = e->dp_hi;
		T->entries++;
		if (cube_obj(V, (const uint8_t *)e->m, (const uint8_t *)e->v, e->prio, r, 0, pr) < 0)
			return -1;
	}
	{
		uint32_t n = T->cfg.n_limit[T->gen], lp = 0;

		if (n > XW_MAX_LIMIT_ENTRIES)
			n = XW_MAX_LIMIT_ENTRIES;
		for (uint32_t i = 0; i < n; i++) {
			__u32 k = T->gen * XW_MAX_LIMIT_ENTRIES + i;
			struct xw_limit_entry e;

			if (bpf_map_lookup_elem(V->dp->map_fd[XW_M_LIMITS], &k, &e))
				return sys(V, "read xw_limits", errno);
			if (e.prio < lp)
				V->exact = 1;
			lp = e.prio;
			T->limits++;
			if (cube_obj(V, (const uint8_t *)&e.mask, (const uint8_t *)&e.key, e.prio,
				     XW_MAX_RENTS + i, 1, NULL) < 0)
				return -1;
		}
	}
	return 0;
}

static void free_tables(struct tables *T)
{
	free(T->nodes);
	free(T->node_read);
	free(T->lids);
	free(T->lid_read);
	free(T->rents);
	free(T->rent_read);
	free(T->mark);
}

/* ---- running frames ---- */

static int run_frame(struct vs *V, const uint8_t *pkt, size_t len, uint32_t ifx,
		     struct xw_scratch *out)
{
	LIBBPF_OPTS(bpf_test_run_opts, o);
	struct xdp_md md;
	struct __sk_buff sb;
	/* probe frames: verify changes no counter, bucket, flow or event */
	__u32 key = XW_SCRATCH_PROBE + (__u32)V->dir;
	uint8_t *framed;
	int fd, rc;

	if (V->pass == 0)
		fd = V->dp->prog_fd[XW_P_XDP];
	else
		fd = V->dp->prog_fd[V->pass == 2 ? XW_P_TC_IN : XW_P_TC_OUT];
	rc = xw_probe_opts(V->pass != 0, pkt, len, ifx != 1 ? ifx : 0, &o, &md, &sb, &framed);
	if (rc)
		return sys(V, "probe frame", rc);
	rc = bpf_prog_test_run_opts(fd, &o) ? errno : 0;
	free(framed);
	if (rc) {
		int e = rc;
		char hex[2 * XW_PB_MAX + 1];

		/* the skb test run refuses an untagged IPv4/IPv6 frame shorter
		 * than the fixed header; no such frame can be run on egress */
		if (e == EINVAL && V->pass && len >= 14 &&
		    ((pkt[12] == 0x08 && pkt[13] == 0x00 && len < 14 + 20) ||
		     (pkt[12] == 0x86 && pkt[13] == 0xdd && len < 14 + 40)))
			return 1;

		xw_pb_hex(pkt, len, hex, sizeof(hex));
		V->fail = 1;
		return xw_errf(V->err, XW_ESYS, "BPF_PROG_TEST_RUN (%s, ifindex %u, %zu-byte frame %s): %s",
			       V->dir ? "tc egress" : "xdp", ifx, len, hex, strerror(e));
	}
	if (bpf_map_lookup_elem(V->dp->map_fd[XW_M_SCRATCH], &key, V->scr))
		return sys(V, "read the scratch map", errno);
	*out = V->scr[V->cpu];
	return 0;
}

/* ---- one cell ---- */

struct dec {
	uint32_t prio;           /* XW_PRIO_NONE: the policy */
	uint8_t verdict;
	uint32_t obj;            /* rule object, if prio != NONE */
};

#define MAX_ALTS 64

/* First match among the alive rules (all accept the cell), with the
 * packet's observed conntrack state; limit rules may match or not. */
static void decide(const struct vs *V, const struct list *R, uint8_t ct_state,
		   struct dec *d, struct dec *alts, int *nalts)
{
	*nalts = 0;
	for (size_t i = 0; i < R->n; i++) {
		const struct obj *o = &V->obj[R->v[i]];

		if (o->ct && !(o->ct & ct_state))
			continue;
		if (o->limit) {
			if (*nalts < MAX_ALTS) {
				alts[*nalts].prio = o->prio;
				alts[*nalts].verdict = o->verdict;
				alts[*nalts].obj = R->v[i];
				(*nalts)++;
			}
			continue;
		}
		d->prio = o->prio;
		d->verdict = o->verdict;
		d->obj = R->v[i];
		return;
	}
	d->prio = XW_PRIO_NONE;
	d->verdict = V->rs.policy[V->dir] < XW_VERDICT_MAX ? V->rs.policy[V->dir] : XW_DROP;
	d->obj = 0;
}

static int fam_of(u128 k3)
{
	return k3 == K3_V4 ? 4 : k3 == K3_V6 ? 6 : 0;
}

static void ctx_key(const struct vs *V, const struct ctx *c, struct xw_key *k)
{
	uint16_t fl = k3_flags[(int)c->val[L_L3]] | k4_flags[(int)c->val[L_L4]];

	memset(k, 0, sizeof(*k));
	put_be(k->eth_src, 6, c->val[L_ESRC]);
	put_be(k->eth_dst, 6, c->val[L_EDST]);
	k->eth_type = (uint16_t)c->val[L_ETYPE];
	if (c->val[L_VLAN] < VLAN_NONE) {
		fl |= XWK_VLAN;
		k->vlan = (uint16_t)c->val[L_VLAN];
	}
	if (c->val[L_FRAG] & 1)
		fl |= XWK_FRAG_MF;
	if (c->val[L_FRAG] & 2)
		fl |= XWK_FRAG_LATER;
	k->flags = fl;
	k->dir = (uint8_t)V->dir;
	k->proto = (uint8_t)c->val[L_PROTO];
	k->tcp_flags = (uint8_t)c->val[L_TFLAGS];
	k->icmp_type = (uint8_t)c->val[L_ITYPE];
	k->icmp_code = (uint8_t)c->val[L_ICODE];
	k->sport = (uint16_t)c->val[L_SPORT];
	k->dport = (uint16_t)c->val[L_DPORT];
	k->ifindex = (uint32_t)c->val[L_IFX];
	if (c->fam == 4) {
		put_be(k->src, 4, c->val[L_SRC]);
		put_be(k->dst, 4, c->val[L_DST]);
	} else if (c->fam == 6) {
		put_be(k->src, 16, c->val[L_SRC]);
		put_be(k->dst, 16, c->val[L_DST]);
	}
}

static void ctx_spec(const struct ctx *c, uint64_t variant, struct xw_pb_spec *s)
{
	memset(s, 0, sizeof(*s));
	put_be(s->eth_src, 6, c->val[L_ESRC]);
	put_be(s->eth_dst, 6, c->val[L_EDST]);
	s->vlan = c->val[L_VLAN] < VLAN_NONE ? (int)c->val[L_VLAN] : -1;
	s->eth_type = (uint16_t)c->val[L_ETYPE];
	s->l3 = c->fam == 4 ? XW_PB_L3_V4 : c->fam == 6 ? XW_PB_L3_V6 : XW_PB_L3_NONE;
	if (c->fam == 4) {
		put_be(s->src, 4, c->val[L_SRC]);
		put_be(s->dst, 4, c->val[L_DST]);
	} else if (c->fam == 6) {
		put_be(s->src, 16, c->val[L_SRC]);
		put_be(s->dst, 16, c->val[L_DST]);
	}
	s->proto = (uint8_t)c->val[L_PROTO];
	s->mf = (uint8_t)(c->val[L_FRAG] & 1);
	s->later = (uint8_t)((c->val[L_FRAG] >> 1) & 1);
	s->l4 = c->val[L_L4] != K4_NONE;
	s->sport = (uint16_t)c->val[L_SPORT];
	s->dport = (uint16_t)c->val[L_DPORT];
	s->tcp_flags = (uint8_t)c->val[L_TFLAGS];
	s->icmp_type = (uint8_t)c->val[L_ITYPE];
	s->icmp_code = (uint8_t)c->val[L_ICODE];
	s->variant = (uint32_t)variant;
}

static void describe_key_diff(FILE *f, const struct xw_key *want, const struct xw_key *got)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	fprintf(f, "  parsed key differs from the fields sent:");
#define D(fl, fmt) if (want->fl != got->fl) \
		fprintf(f, " " #fl " " fmt " (sent " fmt ")", got->fl, want->fl)
	D(eth_type, "0x%04x");
	D(vlan, "%u");
	D(flags, "0x%04x");
	D(dir, "%u");
	D(proto, "%u");
	D(tcp_flags, "0x%02x");
	D(icmp_type, "%u");
	D(icmp_code, "%u");
	D(sport, "%u");
	D(dport, "%u");
	D(ifindex, "%u");
#undef D
	if (memcmp(want->eth_src, got->eth_src, 6) || memcmp(want->eth_dst, got->eth_dst, 6))
		fprintf(f, " ether addresses");
	if (memcmp(want->src, got->src, 16)) {
		inet_ntop(AF_INET6, got->src, a, sizeof(a));
		inet_ntop(AF_INET6, want->src, b, sizeof(b));
		fprintf(f, " src %s (sent %s)", a, b);
	}
	if (memcmp(want->dst, got->dst, 16)) {
		inet_ntop(AF_INET6, got->dst, a, sizeof(a));
		inet_ntop(AF_INET6, want->dst, b, sizeof(b));
		fprintf(f, " dst %s (sent %s)", a, b);
	}
	fputc('\n', f);
}

static const char *vname(int v)
{
	return xw_verdict_name((unsigned)v);
}

static void print_dec(const struct vs *V, FILE *f, const char *label, const struct dec *d)
{
	if (d->prio == XW_PRIO_NONE) {
		fprintf(f, "  %s policy %s %s\n", label, V->dir ? "out" : "in", vname(d->verdict));
		return;
	}
	{
		char *t = xw_rule_text(&V->rs.rules[V->obj[d->obj].ref]);

		fprintf(f, "  %s rule %u %s  (%s)\n", label, d->prio, vname(d->verdict), t ? t : "?");
		free(t);
	}
}

static void counterexample(struct vs *V, const uint8_t *pkt, size_t len, const struct xw_pb_spec *sp,
			   uint32_t ifx, const struct dec *exp, const struct dec *alts, int nalts,
			   const struct xw_scratch *got, const struct xw_key *want, int key_ok,
			   const char *why)
{
	FILE *f = V->out;
	char *hex = malloc(2 * len + 1), fields[512], ifname[IF_NAMESIZE] = "";

	xw_pb_format(sp, fields, sizeof(fields));
	if (!if_indextoname(ifx, ifname))
		strcpy(ifname, "?");
	fprintf(f, "mismatch (%s, cell %lu)%s%s\n",
		V->pass == 0 ? "in, XDP" : V->pass == 1 ? "out, TC" : "in, TC",
		(unsigned long)V->st->cells, why ? ": " : "", why ? why : "");
	fprintf(f, "  packet: %zu bytes on %s (ifindex %u)\n", len, ifname, ifx);
	if (hex) {
		xw_pb_hex(pkt, len, hex, 2 * len + 1);
		fprintf(f, "    %s\n", hex);
	}
	fprintf(f, "  fields: %s\n", fields);
	print_dec(V, f, "expected:", exp);
	for (int i = 0; i < nalts; i++)
		print_dec(V, f, "      or:", &alts[i]);
	if (got->best_prio == XW_PRIO_NONE) {
		fprintf(f, "  actual:   %s %s%s\n", got->reason == XW_REASON_TAILCALL ?
			"tail call failed, fail-safe" : "policy", vname((int)got->verdict),
			got->malformed == XW_MAL_L3 ? " (malformed)" : "");
	} else {
		const char *t = NULL;
		char *tt = NULL;

		for (size_t i = 0; i < V->rs.n; i++)
			if (V->rs.rules[i].prio == got->best_prio)
				t = tt = xw_rule_text(&V->rs.rules[i]);
		fprintf(f, "  actual:   rule %u %s  (%s)\n", got->best_prio, vname((int)got->verdict),
			t ? t : "no such rule in the rule set");
		free(tt);
	}
	if (!key_ok)
		describe_key_diff(f, want, &got->key);
	free(hex);
}

static int dec_ok(const struct dec *exp, const struct dec *alts, int nalts,
		  const struct xw_scratch *got)
{
	uint8_t verdict = got->verdict < XW_VERDICT_MAX ? (uint8_t)got->verdict : XW_DROP;

	if (got->reason == XW_REASON_TAILCALL)
		return 0;
	if (got->best_prio == exp->prio && verdict == exp->verdict)
		return 1;
	for (int i = 0; i < nalts; i++)
		if (got->best_prio == alts[i].prio && verdict == alts[i].verdict)
			return 1;
	return 0;
}

/* Every rule of the direction over the cell's values, without the tree
 * (self check of the cell construction). */
static void decide_direct(const struct vs *V, const struct ctx *c, uint8_t ct_state,
			  struct dec *d, struct dec *alts, int *nalts)
{
	struct list L;
	uint32_t *v = malloc((V->nrules + 1) * sizeof(*v));

	L.v = v;
	L.n = 0;
	for (size_t i = 0; v && i < V->nrules; i++) {
		const struct obj *o = &V->obj[i];
		int ok = o->dir_ok[V->dir];

		for (int l = 0; ok && l < L_N; l++)
			ok = in_set(V, oset(o, l, c->fam), c->val[l]);
		if (ok)
			v[L.n++] = (uint32_t)i;
	}
	decide(V, &L, ct_state, d, alts, nalts);
	free(v);
}

static int run_cell(struct vs *V, const struct ctx *c, const struct list *R, uint8_t bad)
{
	uint8_t pkt[XW_PB_MAX];
	struct xw_pb_spec sp;
	struct xw_key want, wk, gk;
	struct xw_scratch got = { 0 };
	struct dec exp, alts[MAX_ALTS];
	uint64_t seed = V->counter++;
	int nalts, key_ok = 0, ok, rc;
	size_t len;
	uint32_t ifx = (uint32_t)c->val[L_IFX];

	ctx_key(V, c, &want);
	ctx_spec(c, splitmix(&seed), &sp);
	sp.bad = bad;
	len = xw_pb_build(&sp, pkt, sizeof(pkt));
	if (!len) {
		char f[512];

		xw_pb_format(&sp, f, sizeof(f));
		V->fail = 1;
		return xw_errf(V->err, XW_ESYS, "internal: cannot build a frame for %s", f);
	}
	for (int tries = 0; tries < 4; tries++) {
		if (tries)
			V->st->retries++;
		rc = run_frame(V, pkt, len, ifx, &got);
		if (rc < 0)
			return -1;
		if (rc > 0) {
			V->st->skipped++;
			return 0;
		}
		/* probe frames have scratch slots of their own, so traffic on
		 * this CPU cannot overwrite the answer; run again if it does */
		wk = want;
		gk = got.key;
		wk.ct_state = gk.ct_state = 0;
		key_ok = !memcmp(&wk, &gk, sizeof(wk)) && got.pkt_len == len;
		if (key_ok)
			break;
	}
	decide(V, R, got.key.ct_state, &exp, alts, &nalts);
	ok = key_ok && dec_ok(&exp, alts, nalts, &got);
	if (V->o->self_check) {
		struct dec d2, a2[MAX_ALTS];
		int n2;

		decide_direct(V, c, got.key.ct_state, &d2, a2, &n2);
		if (d2.prio != exp.prio || n2 != nalts) {
			V->st->mismatches++;
			if (V->printed++ < V->o->max_examples)
				counterexample(V, pkt, len, &sp, ifx, &d2, a2, n2, &got, &want, 1,
					       "internal: the cell's rule differs from a direct evaluation");
		}
	}
	V->st->cells++;
	V->st->dir_cells[V->dir]++;
	{
		unsigned f = xw_pb_shapes(&sp);

		for (int i = 0; i < XW_PBS_N; i++)
			if (f >> i & 1)
				V->shapes[i]++;
	}
	if (V->o->verbose && !(V->st->cells & 0xffff)) {
		double t = now_s();

		if (t - V->last_progress >= 5) {
			V->last_progress = t;
			fprintf(V->log, "verify: %lu cells so far (%s)\n", (unsigned long)V->st->cells,
				V->dir ? "out" : "in");
		}
	}
	if (bad)
		V->st->shape_cells++;
	else
		V->st->key_cells++;
	if (!ok) {
		V->st->mismatches++;
		if (V->printed++ < V->o->max_examples)
			counterexample(V, pkt, len, &sp, ifx, &exp, alts, nalts, &got, &want, key_ok,
				       key_ok ? NULL : "the datapath parsed other fields");
	}
	return 0;
}

static int leaf(struct vs *V, const struct ctx *c, const struct list *R)
{
	uint16_t et = (uint16_t)c->val[L_ETYPE];

	if (c->fam == 0 && (et == 0x0800 || et == 0x86DD)) {
		/* no valid IP header: every way to break one is a shape cell */
		int first = et == 0x0800 ? XW_PB_V4_BAD_FIRST : XW_PB_V6_BAD_FIRST;
		int last = et == 0x0800 ? XW_PB_V4_BAD_LAST : XW_PB_V6_BAD_LAST;

		for (int b = first; b <= last; b++)
			if (run_cell(V, c, R, (uint8_t)b))
				return -1;
		return 0;
	}
	return run_cell(V, c, R, 0);
}

/* ---- the split ---- */

/* Values a level can take given the earlier ones (realizable packets). */
static size_t domain(const struct vs *V, int lv, const struct ctx *c, struct iv *d,
		     const struct iv **big)
{
	int l4 = (int)c->val[L_L4];

	*big = NULL;
#define ONE(a, b) (d[n].lo = (a), d[n].hi = (b), n++)
	size_t n = 0;

	switch (lv) {
	case L_IFX:
		*big = V->ifx;
		return V->nifx;
	case L_ESRC:
	case L_EDST:
		ONE(0, width_max(48));
		return n;
	case L_ETYPE:
		ONE(0, 0xffff);
		return n;
	case L_L3:
		ONE(0, 0);
		if (c->val[L_ETYPE] == 0x0800)
			ONE(1, 1);
		if (c->val[L_ETYPE] == 0x86DD)
			ONE(2, 2);
		return n;
	case L_PROTO:
		if (c->fam == 4) {
			ONE(0, 255);
		} else if (c->fam == 6) {
			/* the extension-header walk never ends on these */
			ONE(1, 42);
			ONE(45, 59);
			ONE(61, 255);
		} else {
			ONE(0, 0);
		}
		return n;
	case L_FRAG:
		ONE(0, c->fam ? 3 : 0);
		return n;
	case L_L4: {
		int p = (int)c->val[L_PROTO];

		ONE(0, 0);
		if (!c->fam || (c->val[L_FRAG] & 2))
			return n;
		if (p == 6)
			ONE(K4_TCP, K4_TCP);
		else if (p == 17 || p == 132)
			ONE(K4_PORTS, K4_PORTS);
		else if (p == 1 && c->fam == 4)
			ONE(K4_ICMP, K4_ICMP);
		else if (p == 58 && c->fam == 6)
			ONE(K4_ICMP6, K4_ICMP6);
		return n;
	}
	case L_SRC:
	case L_DST:
		ONE(0, c->fam == 4 ? width_max(32) : c->fam == 6 ? U128_MAX : 0);
		return n;
	case L_SPORT:
	case L_DPORT:
		ONE(0, l4 == K4_PORTS || l4 == K4_TCP ? 0xffff : 0);
		return n;
	case L_TFLAGS:
		ONE(0, l4 == K4_TCP ? 0xff : 0);
		return n;
	case L_ITYPE:
	case L_ICODE:
		ONE(0, l4 == K4_ICMP || l4 == K4_ICMP6 ? 0xff : 0);
		return n;
	case L_VLAN:
		ONE(0, VLAN_NONE);
		return n;
	}
#undef ONE
	return 0;
}

/* Values that must not share a child with others because later levels
 * depend on them (or because they are packet shapes worth a frame). */
static size_t pseudo(int lv, const struct ctx *c, struct iv *p, uint32_t *id)
{
	size_t n = 0;
#define ONE(a, b) (p[n].lo = (a), p[n].hi = (b), id[n] = (uint32_t)n, n++)
	switch (lv) {
	case L_ETYPE:
		ONE(0x0800, 0x0800);
		ONE(0x86DD, 0x86DD);
		ONE(0x8100, 0x8100);   /* a VLAN tag cut short */
		ONE(0x88A8, 0x88A8);
		ONE(0x0806, 0x0806);   /* ARP */
		break;
	case L_L3:
		ONE(0, 0);
		ONE(1, 1);
		ONE(2, 2);
		break;
	case L_PROTO:           /* by the transport header they have */
		if (c->fam == 4)
			ONE(1, 1);
		ONE(6, 6);
		ONE(17, 17);
		ONE(132, 132);
		id[n - 1] = id[n - 2];  /* UDP and SCTP: the same fields */
		if (c->fam == 6)
			ONE(58, 58);
		break;
	case L_FRAG:
		ONE(2, 3);             /* non-first fragments have no L4 fields */
		break;
	case L_L4:
		for (int k = 0; k < K4_N; k++)
			ONE(k, k);
		break;
	}
#undef ONE
	return n;
}

/* Representative values tried first, in turn, when a child holds them. */
static void candidates(int lv, const struct ctx *c, struct cand *k)
{
	static const u128 mac_s = 0x020000000001ull, mac_d = 0x020000000002ull;

	k->n = 0;
#define C(x) (k->v[k->n++] = (u128)(x))
	switch (lv) {
	case L_IFX: C(1); break;
	case L_ESRC: C(mac_s); break;
	case L_EDST: C(mac_d); break;
	case L_ETYPE: C(0x88cc); C(0x0000); C(0x05dc); break;
	case L_PROTO: C(17); C(132); C(47); C(50); C(0); C(59); break;
	case L_FRAG: C(0); C(1); C(2); C(3); break;
	case L_SRC:
	case L_DST:
		if (c->fam == 4) {
			C(lv == L_SRC ? 0xc0000201u : 0xc0000202u);          /* 192.0.2.x */
		} else if (c->fam == 6) {
			C(((u128)0x20010db8u << 96) | (lv == L_SRC ? 1 : 2)); /* 2001:db8::x */
		}
		break;
	case L_SPORT: C(40000); C(1024); C(65535); C(0); break;
	case L_DPORT: C(80); C(443); C(0); C(65535); break;
	case L_TFLAGS: C(0x02); C(0x12); C(0x10); C(0x11); C(0x04); C(0x00); break;
	case L_ITYPE: C(8); C(128); C(0); C(3); break;
	case L_ICODE: C(0); C(1); break;
	case L_VLAN: C(VLAN_NONE); C(100); C(0); C(4095); break;
	}
#undef C
}

struct ev {
	u128 pos;
	uint32_t id;     /* constrained index, or ncons + pseudo index */
	int8_t delta;
};

/* Bytes of the keys that matter when no key is larger than max. */
static int digits8(u128 max)
{
	int d = 1;

	while (d < 16 && (max >> (8 * d)))
		d++;
	return d;
}

#define RADIX_MAX_SIZE 32       /* largest element radix_sort() takes */

static inline u128 radix_key(const unsigned char *e, size_t key_off)
{
	u128 k;

	memcpy(&k, e + key_off, sizeof(k));
	return k;
}

static inline unsigned radix_digit(const unsigned char *e, size_t key_off, int k)
{
	return (unsigned)(radix_key(e, key_off) >> (8 * k)) & 0xff;
}

/* Sorts n elements of size bytes each (at most RADIX_MAX_SIZE), stably, by
 * the u128 key at byte offset key_off of each; max: no key is larger.  LSD
 * radix sort on bytes, as many as max needs (the sweeps sort many
 * small-width keys; a comparison sort dominated); insertion sort below 48
 * elements.  Always inlined: with a constant size and offset each call gets
 * code as fast as one written for its type.  -1: out of memory. */
static inline __attribute__((always_inline))
int radix_sort(void *base, size_t n, size_t size, size_t key_off, u128 max)
{
	unsigned char *v = base, *tmp;
	size_t cnt[256 + 1];
	int d = digits8(max);

	if (n < 48) {
		unsigned char x[RADIX_MAX_SIZE];

		for (size_t i = 1; i < n; i++) {
			u128 key = radix_key(v + i * size, key_off);
			size_t j = i;

			memcpy(x, v + i * size, size);
			while (j && radix_key(v + (j - 1) * size, key_off) > key) {
				memcpy(v + j * size, v + (j - 1) * size, size);
				j--;
			}
			memcpy(v + j * size, x, size);
		}
		return 0;
	}
	tmp = malloc(n * size);
	if (!tmp)
		return -1;
	for (int k = 0; k < d; k++) {
		unsigned char *src = (k & 1) ? tmp : v, *dst = (k & 1) ? v : tmp;

		memset(cnt, 0, sizeof(cnt));
		for (size_t i = 0; i < n; i++)
			cnt[radix_digit(src + i * size, key_off, k) + 1]++;
		for (size_t i = 1; i <= 256; i++)
			cnt[i] += cnt[i - 1];
		for (size_t i = 0; i < n; i++) {
			const unsigned char *e = src + i * size;

			memcpy(dst + size * cnt[radix_digit(e, key_off, k)]++, e, size);
		}
	}
	if (d & 1)
		memcpy(v, tmp, n * size);
	free(tmp);
	return 0;
}
_Static_assert(sizeof(struct ev) <= RADIX_MAX_SIZE, "struct ev: larger than radix_sort takes");

struct grp {
	uint64_t h0, h1;
	u128 rep;
	uint32_t nr, nc;         /* alive prefix of R and C: up to the first certain match */
	uint64_t l0, l1;         /* hash of the child's objects */
	uint32_t bits;           /* index of its snapshot, -1: merged, not split */
	struct cand cand;
};

/* Fenwick trees over list positions: XOR of the hashes of the accepting
 * objects, and the count of accepting objects that end the search. */
static void fw_xor(uint64_t *f, size_t n, size_t i, uint64_t v)
{
	for (i++; i <= n; i += i & -i)
		f[i] ^= v;
}

static uint64_t fw_pxor(const uint64_t *f, size_t i)
{
	uint64_t r = 0;

	for (i++; i > 0; i -= i & -i)
		r ^= f[i];
	return r;
}

static void fw_add(int32_t *f, size_t n, size_t i, int32_t d)
{
	for (i++; i <= n; i += i & -i)
		f[i] += d;
}

/* first position with a count, or n */
static size_t fw_first(const int32_t *f, size_t n)
{
	size_t pos = 0, step = 1;
	int32_t need = 1;

	while (step * 2 <= n)
		step *= 2;
	for (; step; step >>= 1)
		if (pos + step <= n && f[pos + step] < need) {
			pos += step;
			need -= f[pos];
		}
	return pos;
}

static int descend(struct vs *V, int pos, struct ctx *c, const struct list *R, const struct list *C);

/* Alive objects after a child is chosen: the first object that needs no
 * later field and is certain (no ct, no limit) ends each search. */
static void cut(const struct vs *V, int pos, struct list *L, int rules)
{
	uint32_t rem = rem_after(pos);

	if (!rules && V->exact)
		return;
	for (size_t i = 0; i < L->n; i++) {
		const struct obj *o = &V->obj[L->v[i]];

		if (!o->maybe && !(o->lvmask & rem)) {
			L->n = i + 1;
			return;
		}
	}
}

/* Have the same objects, at the same level, in the same context been
 * split before (on another path)?  Then the decision on every cell below is
 * the same function of the remaining fields there and here: the cells
 * already checked cover this region too (docs/verify.md, "Merging").
 * (h0, h1) is the XOR of the hashes of the alive objects.  Returns 1 if
 * seen, 0 if new (now recorded), -1 on error. */
/* Levels whose value decides the domains of later levels (the memo key
 * has their class). */
static int shapes_later(int lv)
{
	return lv == L_ETYPE || lv == L_L3 || lv == L_PROTO || lv == L_FRAG || lv == L_L4;
}

static int memo_seen(struct vs *V, int pos, const struct ctx *c, uint64_t h0, uint64_t h1)
{
	uint64_t seed, ctx = 0;
	size_t slot;

	/* the earlier values that later levels' domains depend on */
	for (int k = 0; k <= pos && k < L_N; k++) {
		int lv = lv_order[k];
		u128 v = c->val[lv];
		uint64_t x = 0;

		switch (lv) {
		case L_ETYPE:   /* IP, IPv6, and shapes worth their own frames */
			x = v == 0x0800 ? 1 : v == 0x86DD ? 2 : v == 0x8100 ? 3 : v == 0x88A8 ? 4 :
			    v == 0x0806 ? 5 : 0;
			break;
		case L_L3: x = (uint64_t)v; break;
		case L_PROTO: x = v == 1 ? 1 : v == 6 ? 2 : v == 17 || v == 132 ? 3 : v == 58 ? 4 : 0; break;
		case L_FRAG: x = (uint64_t)(v >> 1); break;
		case L_L4: x = (uint64_t)v; break;
		default: continue;
		}
		ctx |= (x + 1) << (4 * lv);
	}
	seed = ctx * 31 + (uint64_t)pos + ((uint64_t)V->dir << 60);
	h0 ^= splitmix(&seed);
	h1 ^= splitmix(&seed) | 1;     /* (0, 0) marks a free slot */
	if (2 * (V->memo_n + 1) > V->memo_cap) {
		size_t nc = V->memo_cap ? V->memo_cap * 2 : 1 << 16;
		uint64_t *nk = calloc(2 * nc, sizeof(*nk));

		if (!nk)
			return oom(V), -1;
		for (size_t i = 0; i < V->memo_cap; i++) {
			uint64_t a = V->memo[2 * i], b = V->memo[2 * i + 1];

			if (!a && !b)
				continue;
			slot = (size_t)(a ^ b) & (nc - 1);
			while (nk[2 * slot] || nk[2 * slot + 1])
				slot = (slot + 1) & (nc - 1);
			nk[2 * slot] = a;
			nk[2 * slot + 1] = b;
		}
		free(V->memo);
		V->memo = nk;
		V->memo_cap = nc;
	}
	slot = (size_t)(h0 ^ h1) & (V->memo_cap - 1);
	while (V->memo[2 * slot] || V->memo[2 * slot + 1]) {
		if (V->memo[2 * slot] == h0 && V->memo[2 * slot + 1] == h1)
			return 1;
		slot = (slot + 1) & (V->memo_cap - 1);
	}
	V->memo[2 * slot] = h0;
	V->memo[2 * slot + 1] = h1;
	V->memo_n++;
	return 0;
}

static void list_hash(const struct vs *V, const struct list *L, uint64_t *h0, uint64_t *h1)
{
	for (size_t i = 0; i < L->n; i++) {
		*h0 ^= V->obj[L->v[i]].z0;
		*h1 ^= V->obj[L->v[i]].z1;
	}
}

/* Descend into one child: the objects of R and C (up to nr / nc) that are
 * unconstrained here or accept the child (bits).  memo: check whether an
 * equal node was split before (else the caller did). */
static int child(struct vs *V, int pos, struct ctx *c, u128 val, const struct list *R,
		 const struct list *C, const int32_t *cmapR, const int32_t *cmapC,
		 const uint8_t *bits, size_t nr, size_t nc, int memo)
{
	struct list r2, c2;
	int rc;

	r2.v = malloc((R->n + 1) * sizeof(*r2.v));
	c2.v = malloc((C->n + 1) * sizeof(*c2.v));
	if (!r2.v || !c2.v) {
		free(r2.v);
		free(c2.v);
		return oom(V);
	}
	r2.n = c2.n = 0;
	for (size_t i = 0; i < R->n && i < nr; i++) {
		int32_t j = cmapR ? cmapR[i] : -1;

		if (j < 0 || (bits[j >> 3] >> (j & 7) & 1))
			r2.v[r2.n++] = R->v[i];
	}
	for (size_t i = 0; i < C->n && i < nc; i++) {
		int32_t j = cmapC ? cmapC[i] : -1;

		if (j < 0 || (bits[j >> 3] >> (j & 7) & 1))
			c2.v[c2.n++] = C->v[i];
	}
	cut(V, pos, &r2, 1);
	cut(V, pos, &c2, 0);
	c->val[lv_order[pos]] = val;
	if (lv_order[pos] == L_L3)
		c->fam = fam_of(val);
	rc = 0;
	if (memo) {
		uint64_t h0 = 0, h1 = 0;

		list_hash(V, &r2, &h0, &h1);
		list_hash(V, &c2, &h0, &h1);
		rc = memo_seen(V, pos, c, h0, h1);
	}
	if (rc > 0) {
		V->memo_hits++;
		rc = 0;
	} else if (!rc) {
		rc = descend(V, pos + 1, c, &r2, &c2);
	}
	free(r2.v);
	free(c2.v);
	return rc;
}

static int descend(struct vs *V, int pos, struct ctx *c, const struct list *R, const struct list *C)
{
	int lv = pos < L_N ? lv_order[pos] : L_N;
	struct iv dsmall[8], ps[8];
	uint32_t psid[8];
	const struct iv *D;
	size_t nD, nps, ncons = 0, nrc = 0, nev = 0, npts = 0, ngrp = 0, bw, nbits = 0;
	int32_t *cmapR = NULL, *cmapC = NULL;
	uint32_t *cons = NULL;
	struct ev *ev = NULL;
	u128 *pts = NULL, dmin, dmax;
	struct grp *g = NULL;
	uint8_t *bits = NULL, *act = NULL;
	uint32_t *ht = NULL, *cpos = NULL;
	uint64_t *fx = NULL, *ux = NULL;
	int32_t *fc = NULL;
	uint8_t *cterm = NULL;
	size_t hsize;
	struct cand cand;
	int rc = -1;

	if (V->fail)
		return -1;
	if (lv == L_N)
		return leaf(V, c, R);
	nD = domain(V, lv, c, dsmall, &D);
	if (!D)
		D = dsmall;
	if (!nD)
		return 0;                /* nothing realizable (no interface) */
	nps = pseudo(lv, c, ps, psid);

	/* constrained objects: those whose set here is not "any" */
	cmapR = malloc((R->n + 1) * sizeof(*cmapR));
	cmapC = malloc((C->n + 1) * sizeof(*cmapC));
	cons = malloc((R->n + C->n + 1) * sizeof(*cons));
	if (!cmapR || !cmapC || !cons) {
		oom(V);
		goto out;
	}
	for (size_t i = 0; i < R->n; i++) {
		const struct obj *o = &V->obj[R->v[i]];

		cmapR[i] = oset(o, lv, c->fam)->n >= 0 ? (int32_t)ncons : -1;
		if (cmapR[i] >= 0)
			cons[ncons++] = R->v[i];
	}
	nrc = ncons;             /* cons[]: R's constrained objects, then C's */
	for (size_t i = 0; i < C->n; i++) {
		const struct obj *o = &V->obj[C->v[i]];

		cmapC[i] = oset(o, lv, c->fam)->n >= 0 ? (int32_t)ncons : -1;
		if (cmapC[i] >= 0)
			cons[ncons++] = C->v[i];
	}
	bw = (ncons + 8) / 8;
	candidates(lv, c, &cand);

	if (nD == 1 && D[0].lo == D[0].hi) {
		/* one value: keep the objects that accept it */
		uint8_t *b = calloc(bw, 1);

		if (!b) {
			oom(V);
			goto out;
		}
		for (size_t j = 0; j < ncons; j++)
			if (in_set(V, oset(&V->obj[cons[j]], lv, c->fam), D[0].lo))
				b[j >> 3] |= (uint8_t)(1u << (j & 7));
		V->groups[lv]++;
		rc = child(V, pos, c, D[0].lo, R, C, cmapR, cmapC, b, R->n, C->n, 1);
		free(b);
		goto out;
	}
	if (!ncons && !nps) {
		/* one child: the whole domain; take a candidate in turn */
		struct cand in;
		u128 rep = D[0].lo;

		in.n = 0;
		for (int i = 0; i < cand.n; i++)
			for (size_t k = 0; k < nD; k++)
				if (cand.v[i] >= D[k].lo && cand.v[i] <= D[k].hi)
					in.v[in.n++] = cand.v[i];
		if (in.n)
			rep = in.v[V->counter % (uint64_t)in.n];
		V->groups[lv]++;
		rc = child(V, pos, c, rep, R, C, NULL, NULL, NULL, R->n, C->n, 1);
		goto out;
	}

	/* elementary intervals: every boundary of every set and of the domain */
	dmin = D[0].lo;
	dmax = D[nD - 1].hi;
	{
		size_t cap = 2 * nD + 2 * nps + 2;

		for (size_t j = 0; j < ncons; j++) {
			const struct iset *s = oset(&V->obj[cons[j]], lv, c->fam);

			cap += 2 * (size_t)s->n;
		}
		ev = malloc(cap * sizeof(*ev));
		pts = malloc((cap + 1) * sizeof(*pts));
		if (!ev || !pts) {
			oom(V);
			goto out;
		}
	}
#define ADD_IV(lo_, hi_, id_) do { \
		u128 a_ = (lo_) < dmin ? dmin : (lo_), b_ = (hi_) > dmax ? dmax : (hi_); \
		if (a_ <= b_) { \
			ev[nev].pos = a_; ev[nev].id = (id_); ev[nev].delta = 1; nev++; \
			pts[npts++] = a_; \
			if (b_ != U128_MAX) { \
				ev[nev].pos = b_ + 1; ev[nev].id = (id_); ev[nev].delta = -1; nev++; \
				pts[npts++] = b_ + 1; \
			} \
		} } while (0)
	for (size_t j = 0; j < ncons; j++) {
		const struct iset *s = oset(&V->obj[cons[j]], lv, c->fam);
		const struct iv *v = V->pool.v + s->off;

		for (int32_t k = 0; k < s->n; k++)
			ADD_IV(v[k].lo, v[k].hi, (uint32_t)j);
	}
	for (size_t p = 0; p < nps; p++)
		ADD_IV(ps[p].lo, ps[p].hi, (uint32_t)(ncons + psid[p]));
#undef ADD_IV
	for (size_t k = 0; k < nD; k++) {
		pts[npts++] = D[k].lo;
		if (D[k].hi != U128_MAX)
			pts[npts++] = D[k].hi + 1;
	}
	if (radix_sort(ev, nev, sizeof(*ev), offsetof(struct ev, pos),
		       dmax == U128_MAX ? dmax : dmax + 1) ||
	    radix_sort(pts, npts, sizeof(*pts), 0, dmax == U128_MAX ? dmax : dmax + 1)) {
		oom(V);
		goto out;
	}
	{
		size_t w = 0;

		for (size_t i = 0; i < npts; i++)
			if (!w || pts[i] != pts[w - 1])
				pts[w++] = pts[i];
		npts = w;
	}
	hsize = 16;
	while (hsize < 2 * npts)
		hsize *= 2;
	ht = calloc(hsize, sizeof(*ht));
	act = calloc(bw, 1);
	g = malloc((npts + 1) * sizeof(*g));
	bits = malloc((npts + 1) * bw);
	fx = calloc(2 * (R->n + 1) + 2 * (C->n + 1), sizeof(*fx));
	fc = calloc((R->n + 1) + (C->n + 1), sizeof(*fc));
	ux = malloc((2 * (R->n + C->n) + 2) * sizeof(*ux));
	cterm = malloc(ncons + 1);
	cpos = malloc((ncons + 1) * sizeof(*cpos));
	if (!ht || !act || !g || !bits || !fx || !fc || !cterm || !cpos || !ux) {
		oom(V);
		goto out;
	}
	{
		/* an object ends the search where it accepts if it is certain
		 * and needs no later field (as in cut()) */
		uint32_t rem = rem_after(pos);

		for (size_t i = 0; i < R->n; i++)
			if (cmapR[i] >= 0) {
				const struct obj *o = &V->obj[R->v[i]];

				cpos[cmapR[i]] = (uint32_t)i;
				cterm[cmapR[i]] = !o->maybe && !(o->lvmask & rem);
			}
		for (size_t i = 0; i < C->n; i++)
			if (cmapC[i] >= 0) {
				const struct obj *o = &V->obj[C->v[i]];

				cpos[cmapC[i]] = (uint32_t)i;
				cterm[cmapC[i]] = !V->exact && !o->maybe && !(o->lvmask & rem);
			}
	}
	/* XOR of the hashes of the unconstrained objects up to each position */
	for (size_t i = 0, a = 0, b = 0; i < R->n; i++) {
		if (cmapR[i] < 0) {
			a ^= V->obj[R->v[i]].z0;
			b ^= V->obj[R->v[i]].z1;
		}
		ux[2 * i] = a;
		ux[2 * i + 1] = b;
	}
	for (size_t i = 0, a = 0, b = 0; i < C->n; i++) {
		if (cmapC[i] < 0) {
			a ^= V->obj[C->v[i]].z0;
			b ^= V->obj[C->v[i]].z1;
		}
		ux[2 * (R->n + i)] = a;
		ux[2 * (R->n + i) + 1] = b;
	}
	{
		uint64_t p0 = 0, p1 = 0;
		uint64_t *fr0 = fx, *fr1 = fx + (R->n + 1), *fc0 = fx + 2 * (R->n + 1),
			 *fc1 = fc0 + (C->n + 1);
		int32_t *cr = fc, *cc = fc + (R->n + 1);
		size_t ei = 0, di = 0;
		for (size_t i = 0; i < npts; i++) {
			u128 p = pts[i], end = i + 1 < npts ? pts[i + 1] - 1 : U128_MAX;
			uint64_t seed, h0, h1, l0, l1;
			size_t slot, cutr, cutc;

			while (ei < nev && ev[ei].pos == p) {
				uint32_t id = ev[ei].id;

				if (id < ncons) {
					const struct obj *o = &V->obj[cons[id]];
					int isc = id >= nrc;
					size_t n = isc ? C->n : R->n;

					act[id >> 3] ^= (uint8_t)(1u << (id & 7));
					fw_xor(isc ? fc0 : fr0, n, cpos[id], o->z0);
					fw_xor(isc ? fc1 : fr1, n, cpos[id], o->z1);
					if (cterm[id])
						fw_add(isc ? cc : cr, n, cpos[id], ev[ei].delta);
				} else {
					seed = 0xabcdef12345ull + id - ncons;
					p0 ^= splitmix(&seed);
					p1 ^= splitmix(&seed);
				}
				ei++;
			}
			while (di < nD && D[di].hi < p)
				di++;
			if (di >= nD || D[di].lo > p)
				continue;      /* outside the realizable values */
			/* what decides the subtree: the child's objects, i.e. the
			 * unconstrained and the accepting ones up to the first one
			 * that ends the search */
			cutr = fw_first(cr, R->n);
			cutc = fw_first(cc, C->n);
			l0 = l1 = 0;
			if (R->n) {
				size_t q = cutr < R->n ? cutr : R->n - 1;

				l0 ^= fw_pxor(fr0, q) ^ ux[2 * q];
				l1 ^= fw_pxor(fr1, q) ^ ux[2 * q + 1];
			}
			if (C->n) {
				size_t q = cutc < C->n ? cutc : C->n - 1;

				l0 ^= fw_pxor(fc0, q) ^ ux[2 * (R->n + q)];
				l1 ^= fw_pxor(fc1, q) ^ ux[2 * (R->n + q) + 1];
			}
			h0 = l0 ^ p0;
			h1 = l1 ^ p1;
			slot = (size_t)(h0 ^ (h1 >> 7)) & (hsize - 1);
			while (ht[slot] && !(g[ht[slot] - 1].h0 == h0 && g[ht[slot] - 1].h1 == h1))
				slot = (slot + 1) & (hsize - 1);
			if (!ht[slot]) {
				int seen = 0;

				/* a child already split on another path needs no
				 * copy of its objects (levels whose value does not
				 * shape later domains: the memo key is known now) */
				if (!shapes_later(lv)) {
					seen = memo_seen(V, pos, c, l0, l1);
					if (seen < 0)
						goto out;
					V->memo_hits += (uint64_t)seen;
				}
				g[ngrp].h0 = h0;
				g[ngrp].h1 = h1;
				g[ngrp].l0 = l0;
				g[ngrp].l1 = l1;
				g[ngrp].rep = p;
				g[ngrp].nr = (uint32_t)(cutr < R->n ? cutr + 1 : R->n);
				g[ngrp].nc = (uint32_t)(cutc < C->n ? cutc + 1 : C->n);
				g[ngrp].cand.n = 0;
				g[ngrp].bits = (uint32_t)-1;
				if (!seen) {
					g[ngrp].bits = (uint32_t)nbits;
					memcpy(bits + nbits++ * bw, act, bw);
				}
				ht[slot] = (uint32_t)++ngrp;
			}
			/* representative candidates that fall here */
			for (int k = 0; k < cand.n; k++) {
				struct grp *gg = &g[ht[slot] - 1];

				if (gg->bits == (uint32_t)-1)
					break;

				if (cand.v[k] >= p && cand.v[k] <= end && gg->cand.n < 6)
					gg->cand.v[gg->cand.n++] = cand.v[k];
			}
		}
	}
	V->groups[lv] += ngrp;
	rc = 0;
	for (size_t k = 0; k < ngrp && !rc; k++) {
		u128 rep = g[k].rep;

		if (g[k].bits == (uint32_t)-1)
			continue;          /* merged with a child checked before */
		if (g[k].cand.n)
			rep = g[k].cand.v[V->counter % (uint64_t)g[k].cand.n];
		c->val[lv] = rep;
		if (lv == L_L3)
			c->fam = fam_of(rep);
		if (shapes_later(lv)) {
			rc = memo_seen(V, pos, c, g[k].l0, g[k].l1);
			if (rc > 0) {
				V->memo_hits++;
				rc = 0;
				continue;
			}
		}
		if (!rc)
			rc = child(V, pos, c, rep, R, C, cmapR, cmapC, bits + (size_t)g[k].bits * bw,
				   g[k].nr, g[k].nc, 0);
	}
out:
	free(cmapR);
	free(cmapC);
	free(cons);
	free(ev);
	free(pts);
	free(ht);
	free(act);
	free(g);
	free(bits);
	free(fx);
	free(ux);
	free(fc);
	free(cterm);
	free(cpos);
	return rc;
}

/* ---- driver ---- */

static int cmp_cube(const void *a, const void *b, void *arg)
{
	const struct obj *o = arg;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	if (o[x].prio != o[y].prio)
		return o[x].prio < o[y].prio ? -1 : 1;
	if (o[x].limit != o[y].limit)
		return o[x].limit < o[y].limit ? -1 : 1;
	return o[x].ref < o[y].ref ? -1 : o[x].ref > o[y].ref;
}

static int interfaces(struct vs *V)
{
	struct if_nameindex *ni = if_nameindex(), *p;
	size_t n = 0;

	if (!ni)
		return sys(V, "list interfaces", errno);
	for (p = ni; p->if_index; p++)
		n++;
	V->ifx = calloc(n + 1, sizeof(*V->ifx));
	if (!V->ifx) {
		if_freenameindex(ni);
		return oom(V);
	}
	for (p = ni; p->if_index; p++) {
		V->ifx[V->nifx].lo = V->ifx[V->nifx].hi = p->if_index;
		V->nifx++;
	}
	if_freenameindex(ni);
	qsort(V->ifx, V->nifx, sizeof(*V->ifx), cmp_iv);
	return 0;
}

int xw_verify(struct xw_dp *dp, const struct xw_verify_opts *opts,
	      struct xw_verify_stats *st, struct xw_err *err)
{
	struct xw_verify_opts defo = { 0 };
	struct vs V;
	struct tables T;
	cpu_set_t old, one;
	int have_old = 0, rc = 0;
	uint64_t gen0 = 0;
	double t0 = now_s();
	uint32_t *slots = NULL;

	memset(&V, 0, sizeof(V));
	memset(&T, 0, sizeof(T));
	memset(st, 0, sizeof(*st));
	if (!opts)
		opts = &defo;
	V.dp = dp;
	V.o = opts;
	V.st = st;
	V.err = err;
	V.out = opts->out ? opts->out : stdout;
	V.log = opts->log ? opts->log : stderr;
	xw_ruleset_init(&V.rs);
	if (!opts->max_examples) {
		defo = *opts;
		defo.max_examples = 1;
		V.o = opts = &defo;
	}

	/* the rule text as the kernel holds it */
	rc = xw_dp_read_rules(dp, &V.rs, &slots, &gen0, err);
	free(slots);
	/* rules on sets: as lists of the live sets' elements (loader/sets.c) */
	if (!rc)
		rc = xw_sets_materialize(&V.rs, dp, err);
	if (rc) {
		xw_ruleset_free(&V.rs);
		return rc == -1 ? XW_EINPUT : rc;
	}
	rc = -1;
	if (interfaces(&V))
		goto out;
	V.rule_ifx = calloc(V.rs.n + 1, sizeof(*V.rule_ifx));
	if (!V.rule_ifx) {
		oom(&V);
		goto out;
	}
	for (size_t i = 0; i < V.rs.n; i++)
		if (V.rs.rules[i].present & XM_IIF)
			V.rule_ifx[i] = if_nametoindex(V.rs.rules[i].iif);
	for (size_t i = 0; i < V.rs.n; i++)
		if (rule_obj(&V, i))
			goto out;
	V.nrules = V.nobj;
	if (read_tables(&V, &T))
		goto out;
	st->rules = V.rs.n;
	st->entries = T.entries;
	st->tuples = T.trees;
	st->limits = T.limits;

	V.ncpu = libbpf_num_possible_cpus();
	V.scr = calloc((size_t)(V.ncpu > 0 ? V.ncpu : 1), sizeof(*V.scr));
	if (V.ncpu <= 0 || !V.scr) {
		oom(&V);
		goto out;
	}
	/* the verdict details are in the per-CPU scratch of the CPU that ran
	 * the frame: stay on one CPU */
	have_old = sched_getaffinity(0, sizeof(old), &old) == 0;
	V.cpu = sched_getcpu();
	CPU_ZERO(&one);
	CPU_SET(V.cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one)) {
		sys(&V, "pin to one CPU", errno);
		goto out;
	}
	V.cpu = sched_getcpu();

	/* ingress through XDP, egress through TC; ingress through TC too if
	 * an interface is attached that way (attach --mode tc) */
	{
		__u32 k, *prev = NULL, kk;
		struct xw_iface ifc;

		while (bpf_map_get_next_key(dp->map_fd[XW_M_IFACES], prev, &k) == 0) {
			if (bpf_map_lookup_elem(dp->map_fd[XW_M_IFACES], &k, &ifc) == 0 &&
			    ifc.xdp_mode == XW_IFMODE_TC)
				V.tc_in = 1;
			kk = k;
			prev = &kk;
		}
	}
	for (int pass = 0; pass < 3; pass++) {
		int dir = pass == 1 ? XW_DIR_OUT : XW_DIR_IN;
		struct list R, C;
		struct ctx c;
		uint32_t *cv;

		if (pass == 2 && !V.tc_in)
			break;
		V.dir = dir;
		V.pass = pass;
		V.memo_n = 0;
		if (V.memo)
			memset(V.memo, 0, 2 * V.memo_cap * sizeof(*V.memo));
		R.v = malloc((V.nrules + 1) * sizeof(*R.v));
		C.v = malloc((V.nobj - V.nrules + 1) * sizeof(*C.v));
		if (!R.v || !C.v) {
			free(R.v);
			free(C.v);
			oom(&V);
			goto out;
		}
		R.n = C.n = 0;
		for (size_t i = 0; i < V.nrules; i++)
			if (V.obj[i].dir_ok[dir])
				R.v[R.n++] = (uint32_t)i;
		cv = C.v;
		for (size_t i = V.nrules; i < V.nobj; i++)
			if (V.obj[i].dir_ok[dir])
				cv[C.n++] = (uint32_t)i;
		qsort_r(C.v, C.n, sizeof(*C.v), cmp_cube, V.obj);
		cut(&V, -1, &R, 1);
		cut(&V, -1, &C, 0);
		memset(&c, 0, sizeof(c));
		rc = descend(&V, 0, &c, &R, &C);
		free(R.v);
		free(C.v);
		if (rc)
			goto out;
	}
	{
		struct xw_cfg cfg;
		__u32 zero = 0;

		if (bpf_map_lookup_elem(dp->map_fd[XW_M_CFG], &zero, &cfg) == 0 &&
		    cfg.generation != T.cfg.generation) {
			rc = xw_errf(err, XW_ESYS, "the rule set changed while it was being verified");
			goto out;
		}
	}
	rc = 0;
out:
	if (have_old)
		sched_setaffinity(0, sizeof(old), &old);
	st->exact = V.exact;
	st->seconds = now_s() - t0;
	if (opts->verbose && !rc) {
		fprintf(V.log, "verify: %zu rules, %zu entries in %zu tuples, %zu limit entries; "
			"%lu cells (in %lu, out %lu; %lu shape cells), %.2f s\n",
			st->rules, st->entries, st->tuples, st->limits, (unsigned long)st->cells,
			(unsigned long)st->dir_cells[0], (unsigned long)st->dir_cells[1],
			(unsigned long)st->shape_cells, st->seconds);
		fprintf(V.log, "verify: frames:");
		for (int i = 0; i < XW_PBS_N; i++)
			fprintf(V.log, " %s %lu%s", xw_pb_shape_names[i], (unsigned long)V.shapes[i],
				i + 1 < XW_PBS_N ? "," : "\n");
		fprintf(V.log, "verify: children per field:");
		for (int l = 0; l < L_N; l++)
			fprintf(V.log, " %s %lu%s", lv_names[l], (unsigned long)V.groups[l],
				l + 1 < L_N ? "," : "\n");
		fprintf(V.log, "verify: %lu subtrees merged with one checked before, %lu runs skipped "
			"(the kernel's test run refuses them)\n", (unsigned long)V.memo_hits,
			(unsigned long)st->skipped);
		if (st->retries)
			fprintf(V.log, "verify: %lu runs repeated\n", (unsigned long)st->retries);
	}
	if (rc && !V.fail && !err->msg[0])
		xw_errf(err, XW_ESYS, "verify failed");
	free(V.memo);
	free(V.obj);
	free(V.pool.v);
	free(V.ifx);
	free(V.rule_ifx);
	free(V.scr);
	free_tables(&T);
	xw_ruleset_free(&V.rs);
	return rc ? (rc > 0 ? rc : XW_ESYS) : 0;
}
