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

/* [lo, hi] of one field's values, both ends included */
struct interval {
	u128 lo, hi;
};

/* The values an object accepts on one level: n intervals of the pool from
 * off, sorted and disjoint. */
struct iset {
	uint32_t off;
	int32_t  n;        /* < 0: any value */
};

/* A rule of the text or a map entry, as sets of accepted values. */
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

/* Storage of every object's intervals (an iset points into it). */
struct interval_pool {
	struct interval *v;
	size_t n, cap;
};

/* Object indices, in search order (the alive objects of a node). */
struct list {
	uint32_t *v;
	size_t n;
};

/* Representative values of a level (candidates()). */
struct cand {
	int n;
	u128 v[6];
};

/* The state of one xw_verify() call: the objects, the walk's counters
 * and memo, where frames run. */
struct verify_run {
	struct xw_dp *dp;
	const struct xw_verify_opts *o;
	struct xw_verify_stats *st;
	struct xw_err *err;
	FILE *out, *log;
	struct xw_ruleset rs;
	uint32_t *rule_ifx;
	struct obj *obj;
	size_t nobj, capobj, nrules;
	struct interval_pool pool;
	struct interval *ifx;    /* existing interfaces (points) */
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

/* The values chosen on the levels split so far (the current cell). */
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

static int oom(struct verify_run *run)
{
	run->fail = 1;
	return xw_errf(run->err, XW_ESYS, "out of memory");
}

/* ---- interval sets ---- */

static int pool_push(struct verify_run *run, u128 lo, u128 hi)
{
	struct interval_pool *p = &run->pool;

	if (p->n == p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 4096;
		struct interval *nv = realloc(p->v, nc * sizeof(*nv));

		if (!nv)
			return oom(run);
		p->v = nv;
		p->cap = nc;
	}
	p->v[p->n].lo = lo;
	p->v[p->n].hi = hi;
	p->n++;
	return 0;
}

static int cmp_interval(const void *a, const void *b)
{
	const struct interval *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Sort and merge the intervals pushed since `off` into a set. */
static void set_close(struct verify_run *run, struct iset *s, uint32_t off)
{
	struct interval *v = run->pool.v + off;
	size_t n = run->pool.n - off, w = 0;

	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_interval);
	for (size_t i = 0; i < n; i++) {
		if (w && (v[i].lo <= v[w - 1].hi ||
			  (v[w - 1].hi != U128_MAX && v[i].lo == v[w - 1].hi + 1))) {
			if (v[i].hi > v[w - 1].hi)
				v[w - 1].hi = v[i].hi;
			continue;
		}
		v[w++] = v[i];
	}
	run->pool.n = off + w;
	s->off = off;
	s->n = (int32_t)w;
}

static u128 width_max(int width)
{
	return width >= 128 ? U128_MAX : (((u128)1 << width) - 1);
}

/* {x : x & m == v} over `width` bits: one interval per assignment of the
 * free bits above the lowest mask bit (1 for a prefix mask). */
static int set_from_mask(struct verify_run *run, struct iset *s, u128 m, u128 v, int width)
{
	u128 all = width_max(width), low, holes, sub = 0;
	uint32_t off = (uint32_t)run->pool.n;
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
		run->fail = 1;
		return xw_errf(run->err, XW_ESYS, "a map entry's mask has %d holes in one field; "
			       "such a mask is not verifiable cell by cell", nh);
	}
	do {
		if (pool_push(run, v | sub, v | sub | low))
			return -1;
		sub = (sub - holes) & holes;
	} while (sub);
	s->n = (int32_t)(run->pool.n - off);
	return 0;
}

/* Set of small values from a bit mask over [0, nvals); "any" if all. */
static int set_from_bits(struct verify_run *run, struct iset *s, uint32_t bits, int nvals)
{
	uint32_t off = (uint32_t)run->pool.n;

	if (bits == (1u << nvals) - 1) {
		s->off = off;
		s->n = -1;
		return 0;
	}
	for (int i = 0; i < nvals; i++)
		if ((bits >> i) & 1 && pool_push(run, i, i))
			return -1;
	set_close(run, s, off);
	return 0;
}

static int set_point(struct verify_run *run, struct iset *s, u128 x)
{
	uint32_t off = (uint32_t)run->pool.n;

	if (pool_push(run, x, x))
		return -1;
	set_close(run, s, off);
	return 0;
}

static int set_ranges(struct verify_run *run, struct iset *s, const struct xw_range *r, size_t n)
{
	uint32_t off = (uint32_t)run->pool.n;

	for (size_t i = 0; i < n; i++)
		if (pool_push(run, r[i].lo, r[i].hi))
			return -1;
	set_close(run, s, off);
	return 0;
}

static int in_set(const struct verify_run *run, const struct iset *s, u128 x)
{
	const struct interval *v = run->pool.v + s->off;
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

static struct obj *new_obj(struct verify_run *run)
{
	struct obj *o;

	if (run->nobj == run->capobj) {
		size_t nc = run->capobj ? run->capobj * 2 : 1024;
		struct obj *nv = realloc(run->obj, nc * sizeof(*nv));

		if (!nv) {
			oom(run);
			return NULL;
		}
		run->obj = nv;
		run->capobj = nc;
	}
	o = &run->obj[run->nobj];
	memset(o, 0, sizeof(*o));
	for (int i = 0; i < NSETS; i++)
		o->s[i].n = -1;
	return o;
}

static void finish_obj(struct verify_run *run, struct obj *o)
{
	uint64_t seed = run->nobj * 0x2545F4914F6CDD1Dull + 77;

	o->lvmask = 0;
	for (int l = 0; l < L_N; l++)
		if (o->s[l].n >= 0 || (l == L_SRC && o->s[S_SRC6].n >= 0) ||
		    (l == L_DST && o->s[S_DST6].n >= 0))
			o->lvmask |= 1u << l;
	o->z0 = splitmix(&seed);
	o->z1 = splitmix(&seed);
	run->nobj++;
}

static int cidr_set(struct verify_run *run, struct iset *s, const struct xw_cidr *c, size_t n,
		    int fam)
{
	uint32_t off = (uint32_t)run->pool.n;
	int bits = fam == 4 ? 32 : 128;

	for (size_t i = 0; i < n; i++) {
		u128 a, host;

		if (c[i].family != fam)
			continue;
		a = be_bytes(c[i].addr, bits / 8);
		host = c[i].plen >= bits ? 0 : width_max(bits - c[i].plen);
		if (pool_push(run, a & ~host, a | host))
			return -1;
	}
	set_close(run, s, off);
	return 0;
}

/* ether type: the rule's own, or IPv4's / IPv6's for `ip` / `ip6`
 * matches; none if they disagree. */
static int rule_etype_set(struct verify_run *run, struct obj *o, const struct xw_rule *r)
{
	uint32_t m = r->present;
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
	return clash ? set_from_bits(run, &o->s[L_ETYPE], 0, 1)
		     : set_point(run, &o->s[L_ETYPE], (u128)want);
}

/* The L3 kinds a rule with IP fields accepts: a valid IP header, of the
 * families its addresses and ICMP matches name. */
static uint32_t rule_l3_kinds(const struct xw_rule *r)
{
	uint32_t m = r->present;
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
	return k3;
}

/* The fragment values (bit 0 more-fragments, bit 1 offset != 0) of a
 * `frag` match. */
static uint32_t rule_frag_values(const struct xw_rule *r)
{
	return r->frag == XW_FRAG_FIRST ? 1u << 1 :
	       r->frag == XW_FRAG_LATER ? (1u << 2 | 1u << 3) : (1u << 1 | 1u << 2 | 1u << 3);
}

/* The L4 kinds a rule with L4 fields (present bits m) accepts. */
static uint32_t rule_l4_kinds(uint32_t m)
{
	uint32_t k4 = (1u << K4_N) - 1;

	if (m & (XM_SPORT | XM_DPORT))
		k4 &= 1u << K4_PORTS | 1u << K4_TCP;
	if (m & XM_TCPFLAGS)
		k4 &= 1u << K4_TCP;
	if (m & XM_ICMP)
		k4 &= 1u << K4_ICMP;
	if (m & XM_ICMP6)
		k4 &= 1u << K4_ICMP6;
	return k4;
}

/* A rule of the text, as docs/semantics.md reads it. */
static int rule_obj(struct verify_run *run, size_t idx)
{
	const struct xw_rule *r = &run->rs.rules[idx];
	uint32_t m = r->present;
	struct obj *o = new_obj(run);
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
		rc |= run->rule_ifx[idx] ? set_point(run, &o->s[L_IFX], run->rule_ifx[idx])
				       : set_from_bits(run, &o->s[L_IFX], 0, 1);
	if (m & XM_ETH_SRC)
		rc |= set_point(run, &o->s[L_ESRC], be_bytes(r->eth_src, 6));
	if (m & XM_ETH_DST)
		rc |= set_point(run, &o->s[L_EDST], be_bytes(r->eth_dst, 6));
	if (m & (XM_ETH_TYPE | XM_IP | XM_IP6))
		rc |= rule_etype_set(run, o, r);
	if (m & (XM_SRC | XM_DST | XM_PROTO | XM_SPORT | XM_DPORT | XM_TCPFLAGS | XM_ICMP |
		 XM_ICMP6 | XM_FRAG))
		rc |= set_from_bits(run, &o->s[L_L3], rule_l3_kinds(r), K3_N);
	if (m & XM_PROTO)
		rc |= set_point(run, &o->s[L_PROTO], r->proto);
	if (m & XM_FRAG)
		rc |= set_from_bits(run, &o->s[L_FRAG], rule_frag_values(r), 4);
	if (m & (XM_SPORT | XM_DPORT | XM_TCPFLAGS | XM_ICMP | XM_ICMP6))
		rc |= set_from_bits(run, &o->s[L_L4], rule_l4_kinds(m), K4_N);
	if (m & XM_SRC) {
		rc |= cidr_set(run, &o->s[L_SRC], r->src, r->n_src, 4);
		rc |= cidr_set(run, &o->s[S_SRC6], r->src, r->n_src, 6);
	}
	if (m & XM_DST) {
		rc |= cidr_set(run, &o->s[L_DST], r->dst, r->n_dst, 4);
		rc |= cidr_set(run, &o->s[S_DST6], r->dst, r->n_dst, 6);
	}
	if (m & XM_SPORT)
		rc |= set_ranges(run, &o->s[L_SPORT], r->sport, r->n_sport);
	if (m & XM_DPORT)
		rc |= set_ranges(run, &o->s[L_DPORT], r->dport, r->n_dport);
	if (m & XM_TCPFLAGS)   /* (flags & M) == F */
		rc |= set_from_mask(run, &o->s[L_TFLAGS], r->tcp_mask, r->tcp_flags, 8);
	if (m & (XM_ICMP | XM_ICMP6)) {
		rc |= set_ranges(run, &o->s[L_ITYPE], r->icmp_type, r->n_icmp_type);
		if (r->n_icmp_code)
			rc |= set_ranges(run, &o->s[L_ICODE], r->icmp_code, r->n_icmp_code);
	}
	if (m & XM_VLAN)
		rc |= set_point(run, &o->s[L_VLAN], r->vlan);
	if (rc)
		return -1;
	finish_obj(run, o);
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

/* The kinds (of L3 or L4: index k with presence bits flags[k] among `bits`)
 * that the entry's flag mask and value accept. */
static uint32_t kinds_accepted(uint16_t fm, uint16_t fv, const uint16_t *flags, int n,
			       uint16_t bits)
{
	uint32_t set = 0;

	for (int k = 0; k < n; k++)
		if (!((flags[k] ^ fv) & fm & bits))
			set |= 1u << k;
	return set;
}

/* The fragment values (bit 0 more-fragments, bit 1 offset != 0) accepted. */
static uint32_t frags_accepted(uint16_t fm, uint16_t fv)
{
	uint32_t set = 0;

	for (int f = 0; f < 4; f++) {
		uint16_t fl = (f & 1 ? XWK_FRAG_MF : 0) | (f & 2 ? XWK_FRAG_LATER : 0);

		if (!((fl ^ fv) & fm & KF_BITS))
			set |= 1u << f;
	}
	return set;
}

/* src and dst: as 128 bits for IPv6, as the top 32 for IPv4 (whose keys
 * have zeros below). */
static int cube_addr_sets(struct verify_run *run, struct obj *o, const uint8_t *kmask,
			  const uint8_t *kval)
{
	int rc = 0;

	for (int d = 0; d < 2; d++) {
		size_t off = d ? KOFF(dst) : KOFF(src);
		u128 m = be_bytes(kmask + off, 16), v = be_bytes(kval + off, 16);
		u128 low96 = width_max(96);
		struct iset *s4 = &o->s[d ? L_DST : L_SRC], *s6 = &o->s[d ? S_DST6 : S_SRC6];

		rc |= set_from_mask(run, s6, m, v, 128);
		if (v & low96) {       /* IPv4 keys have zeros there */
			s4->off = (uint32_t)run->pool.n;
			s4->n = 0;
		} else {
			rc |= set_from_mask(run, s4, m >> 96, v >> 96, 32);
		}
	}
	return rc;
}

/* sport and dport: a tree entry's port range (pr, its mask there is zero)
 * or the mask and value.  *never: the entry never matches. */
static int cube_port_sets(struct verify_run *run, struct obj *o, const uint8_t *kmask,
			  const uint8_t *kval, const struct xw_range *pr, int *never)
{
	int rc = 0;

	*never = 0;
	for (int d = 0; d < 2; d++) {
		size_t off = d ? KOFF(dport) : KOFF(sport);
		struct iset *ps = &o->s[d ? L_DPORT : L_SPORT];

		if (pr && (pr[d].lo != 0 || pr[d].hi != 0xffff)) {
			if (fld(kmask, off, 2) || pr[d].lo > pr[d].hi) {
				*never = 1;
				return 0;
			}
			rc |= set_ranges(run, ps, &pr[d], 1);
		} else {
			rc |= set_from_mask(run, ps, fld(kmask, off, 2), fld(kval, off, 2), 16);
		}
	}
	return rc;
}

/* vlan: values 0..4095 tagged, VLAN_NONE untagged (vlan 0, bit clear). */
static int cube_vlan_set(struct verify_run *run, struct obj *o, uint16_t fm, uint16_t fv,
			 const uint8_t *kmask, const uint8_t *kval)
{
	int tagged = !((XWK_VLAN ^ fv) & fm & XWK_VLAN);
	int untagged = !(fv & fm & XWK_VLAN) && fld(kval, KOFF(vlan), 2) == 0;
	uint32_t off = (uint32_t)run->pool.n;
	struct iset t;
	int rc = 0;

	if (tagged) {
		rc |= set_from_mask(run, &t, fld(kmask, KOFF(vlan), 2), fld(kval, KOFF(vlan), 2),
				    16);
		if (t.n < 0) {
			rc |= pool_push(run, 0, VLAN_NONE - 1);
		} else {
			size_t w = t.off;

			for (size_t i = t.off; i < t.off + (size_t)t.n; i++) {
				if (run->pool.v[i].lo >= VLAN_NONE)
					continue;
				run->pool.v[w] = run->pool.v[i];
				if (run->pool.v[w].hi >= VLAN_NONE)
					run->pool.v[w].hi = VLAN_NONE - 1;
				w++;
			}
			run->pool.n = w;
		}
	}
	if (untagged)
		rc |= pool_push(run, VLAN_NONE, VLAN_NONE);
	set_close(run, &o->s[L_VLAN], off);
	if (o->s[L_VLAN].n == 1 && run->pool.v[off].lo == 0 && run->pool.v[off].hi == VLAN_NONE)
		o->s[L_VLAN].n = -1;
	return rc;
}

/* An empty field set, or no address of either family: never matches. */
static int cube_empty(const struct obj *o)
{
	for (int l = 0; l < NSETS; l++)
		if (o->s[l].n == 0 && l != L_SRC && l != L_DST && l != S_SRC6 && l != S_DST6)
			return 1;
	return (o->s[L_SRC].n == 0 && o->s[S_SRC6].n == 0) ||
	       (o->s[L_DST].n == 0 && o->s[S_DST6].n == 0);
}

/* A (mask, value) pair over struct xw_key, as the datapath matches it.
 * Returns 1 if it can match some packet, 0 if never, -1 on error. */
static int cube_obj(struct verify_run *run, const uint8_t *kmask, const uint8_t *kval,
		    uint32_t prio, uint32_t ref, int limit, const struct xw_range *pr)
{
	uint16_t fm = (uint16_t)fld(kmask, KOFF(flags), 2);
	uint16_t fv = (uint16_t)fld(kval, KOFF(flags), 2);
	struct obj *o;
	int rc = 0, never;

	for (size_t i = 0; i < sizeof(struct xw_key); i++)
		if (kval[i] & ~kmask[i])
			return 0;
	if (fv & ~KNOWN_FLAGS)
		return 0;
	o = new_obj(run);
	if (!o)
		return -1;
	o->prio = prio;
	o->ref = ref;
	o->limit = (uint8_t)limit;
	o->maybe = limit || kmask[KOFF(ct_state)];
	for (int d = 0; d < 2; d++)
		o->dir_ok[d] = (d & kmask[KOFF(dir)]) == kval[KOFF(dir)];
	if (!o->dir_ok[0] && !o->dir_ok[1])
		return 0;

	rc |= set_from_mask(run, &o->s[L_IFX], fld(kmask, KOFF(ifindex), 4),
			    fld(kval, KOFF(ifindex), 4), 32);
	rc |= set_from_mask(run, &o->s[L_ESRC], be_bytes(kmask + KOFF(eth_src), 6),
			    be_bytes(kval + KOFF(eth_src), 6), 48);
	rc |= set_from_mask(run, &o->s[L_EDST], be_bytes(kmask + KOFF(eth_dst), 6),
			    be_bytes(kval + KOFF(eth_dst), 6), 48);
	rc |= set_from_mask(run, &o->s[L_ETYPE], fld(kmask, KOFF(eth_type), 2),
			    fld(kval, KOFF(eth_type), 2), 16);
	rc |= set_from_bits(run, &o->s[L_L3], kinds_accepted(fm, fv, k3_flags, K3_N, K3_BITS),
			    K3_N);
	rc |= set_from_mask(run, &o->s[L_PROTO], kmask[KOFF(proto)], kval[KOFF(proto)], 8);
	rc |= set_from_bits(run, &o->s[L_FRAG], frags_accepted(fm, fv), 4);
	rc |= set_from_bits(run, &o->s[L_L4], kinds_accepted(fm, fv, k4_flags, K4_N, K4_BITS),
			    K4_N);
	rc |= cube_addr_sets(run, o, kmask, kval);
	rc |= cube_port_sets(run, o, kmask, kval, pr, &never);
	if (never)
		return 0;
	rc |= set_from_mask(run, &o->s[L_TFLAGS], kmask[KOFF(tcp_flags)], kval[KOFF(tcp_flags)], 8);
	rc |= set_from_mask(run, &o->s[L_ITYPE], kmask[KOFF(icmp_type)], kval[KOFF(icmp_type)], 8);
	rc |= set_from_mask(run, &o->s[L_ICODE], kmask[KOFF(icmp_code)], kval[KOFF(icmp_code)], 8);
	rc |= cube_vlan_set(run, o, fm, fv, kmask, kval);
	if (rc)
		return -1;
	if (cube_empty(o))
		return 0;
	finish_obj(run, o);
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
	uint32_t xshapes;
	size_t xentries;
};

static int sys(struct verify_run *run, const char *what, int e)
{
	run->fail = 1;
	if (e < 0)
		e = -e;
	return xw_errf(run->err, XW_ESYS, "%s: %s", what, strerror(e));
}

/* The structure is wrong: the datapath may not find what the entries say. */
static int bad_tree(struct verify_run *run, const char *fmt, uint32_t a, uint32_t b)
{
	run->fail = 1;
	if (run->log) {
		fprintf(run->log, "verify: FAIL: the active trees are inconsistent: ");
		fprintf(run->log, fmt, a, b);
		fprintf(run->log, "\n");
	}
	return xw_errf(run->err, XW_EINPUT, "the active rule trees are inconsistent (see above)");
}

static int get_node(struct verify_run *run, struct tables *tab, uint32_t i, struct xw_node **out)
{
	if (i >= XW_MAX_NODES)
		return bad_tree(run, "node %u is past the %u slots", i, XW_MAX_NODES);
	if (!tab->node_read[i]) {
		__u32 k = tab->gen * XW_MAX_NODES + i;

		if (bpf_map_lookup_elem(run->dp->map_fd[XW_M_NODES], &k, &tab->nodes[i]))
			return sys(run, "read xw_nodes", errno);
		tab->node_read[i] = 1;
		tab->nodes_n++;
	}
	*out = &tab->nodes[i];
	return 0;
}

static int get_lid(struct verify_run *run, struct tables *tab, uint32_t i, uint32_t *out)
{
	if (i >= XW_MAX_LIDS)
		return bad_tree(run, "leaf slot %u is past the %u slots", i, XW_MAX_LIDS);
	if (!tab->lid_read[i]) {
		__u32 k = tab->gen * XW_MAX_LIDS + i;

		if (bpf_map_lookup_elem(run->dp->map_fd[XW_M_LIDS], &k, &tab->lids[i]))
			return sys(run, "read xw_lids", errno);
		tab->lid_read[i] = 1;
	}
	*out = tab->lids[i] & (XW_MAX_RENTS - 1);   /* as the datapath masks it */
	return 0;
}

static int get_rent(struct verify_run *run, struct tables *tab, uint32_t i)
{
	if (!tab->rent_read[i]) {
		__u32 k = tab->gen * XW_MAX_RENTS + i;

		if (bpf_map_lookup_elem(run->dp->map_fd[XW_M_RENTS], &k, &tab->rents[i]))
			return sys(run, "read xw_rents", errno);
		tab->rent_read[i] = 1;
	}
	return 0;
}

/* Pass 1: every node and leaf of tree t, as the datapath can reach them;
 * the rents listed are the tree's entries (ids appended to *ids). */
static int collect(struct verify_run *run, struct tables *tab, uint32_t at, unsigned depth,
		   uint32_t t, uint32_t **ids, size_t *n, size_t *cap)
{
	struct xw_node *nd = NULL;

	if (depth >= XW_TREE_DEPTH)
		return bad_tree(run, "a path of tree %u is longer than %u nodes", t, XW_TREE_DEPTH);
	if (get_node(run, tab, at, &nd) || !nd)
		return -1;
	if (!nd->nb) {
		uint32_t prev = 0;

		if ((uint64_t)nd->base + nd->n > XW_MAX_LIDS)
			return bad_tree(run, "a leaf list of tree %u ends past slot %u", t,
					XW_MAX_LIDS);
		tab->leaves++;
		if (nd->n > tab->max_leaf)
			tab->max_leaf = nd->n;
		if (depth + 1 > tab->max_depth)
			tab->max_depth = depth + 1;
		for (uint32_t j = 0; j < nd->n; j++) {
			uint32_t r = 0;

			if (get_lid(run, tab, nd->base + j, &r) || get_rent(run, tab, r))
				return -1;
			if (j && tab->rents[r].prio < prev)
				return bad_tree(run,
					"a leaf list (slot %u) is not in priority order at rule %u",
					nd->base + j, tab->rents[r].prio);
			prev = tab->rents[r].prio;
			if (tab->rents[r].prio < tab->head.min_prio[t])
				return bad_tree(run,
					"tree %u says its best priority is %u, but lists a better one",
					t, tab->head.min_prio[t]);
			/* the walk skips the tree for a direction not in dirs */
			if (xw_rent_dirs(&tab->rents[r]) & ~(tab->head.dirs >> (2 * t)) & 3)
				return bad_tree(run,
					"tree %u is skipped for a direction rule %u matches",
					t, tab->rents[r].prio);
			if (tab->mark[r] != t + 1) {
				if (*n == *cap) {
					size_t nc = *cap ? *cap * 2 : 1024;
					uint32_t *nv = realloc(*ids, nc * sizeof(*nv));

					if (!nv)
						return oom(run);
					*ids = nv;
					*cap = nc;
				}
				(*ids)[(*n)++] = r;
				tab->mark[r] = t + 1;
			}
		}
		return 0;
	}
	if (nd->nb > 16 || (nd->off & 63) != nd->off)
		return bad_tree(run, "node %u cuts %u bits: not a node the datapath reads", at,
				nd->nb);
	if ((uint64_t)nd->base + (1u << nd->nb) > XW_MAX_NODES)
		return bad_tree(run, "node %u has children past slot %u", at, XW_MAX_NODES);
	{
		uint32_t base = nd->base, nc = 1u << nd->nb;

		for (uint32_t c = 0; c < nc; c++)
			if (collect(run, tab, base + c, depth + 1, t, ids, n, cap))
				return -1;
	}
	return 0;
}

/* Pass 2: every entry of the tree is in every leaf where a packet it
 * matches can arrive.  ids: the entries that can match in this node's
 * region; pv/pc: the port bits fixed on the path (sport, dport). */
static int cover(struct verify_run *run, struct tables *tab, uint32_t at, const uint32_t *ids,
		 size_t n, uint32_t t, uint32_t pv[2], uint32_t pc[2], uint32_t *stamp,
		 uint32_t *clock)
{
	struct xw_node nd = tab->nodes[at];

	if (!nd.nb) {
		uint32_t r = 0;

		++*clock;
		for (uint32_t j = 0; j < nd.n; j++) {
			if (get_lid(run, tab, nd.base + j, &r))
				return -1;
			stamp[r] = *clock;
		}
		for (size_t i = 0; i < n; i++)
			if (stamp[ids[i]] != *clock)
				return bad_tree(run,
					"rule %u can match in leaf slot %u but is not listed there",
					tab->rents[ids[i]].prio, nd.base);
		return 0;
	}
	{
		uint32_t nc = 1u << nd.nb, *sub = malloc((n ? n : 1) * sizeof(*sub));
		int port = -1, rc = 0;

		if (!sub)
			return oom(run);
		if (nd.flags & XW_NODE_LE16) {
			if (nd.off == KOFF(sport))
				port = 0;
			else if (nd.off == KOFF(dport))
				port = 1;
		}
		if (port >= 0 && (nd.sh != pc[port] || nd.sh + nd.nb > 16)) {
			free(sub);
			return bad_tree(run, "node %u cuts port bits out of order (at bit %u)", at,
					nd.sh);
		}
		for (uint32_t c = 0; c < nc && !rc; c++) {
			size_t k = 0;

			for (size_t i = 0; i < n; i++) {
				const struct xw_rent *e = &tab->rents[ids[i]];
				uint32_t m = xw_node_child(&nd, (const uint8_t *)e->m);
				uint32_t v = xw_node_child(&nd, (const uint8_t *)e->v);

				if ((c ^ v) & m)
					continue;
				if (port >= 0) {
					uint32_t low = 16 - pc[port] - nd.nb;
					uint32_t lo = ((pv[port] << nd.nb) | c) << low,
						 hi = lo + (1u << low) - 1;
					uint32_t a = port ? e->dp_lo : e->sp_lo,
						 b = port ? e->dp_hi : e->sp_hi;

					if (b < lo || a > hi)
						continue;
				}
				sub[k++] = ids[i];
			}
			if (port >= 0) {
				uint32_t spv = pv[port], spc = pc[port];

				pv[port] = (pv[port] << nd.nb) | c;
				pc[port] += nd.nb;
				rc = cover(run, tab, nd.base + c, sub, k, t, pv, pc, stamp, clock);
				pv[port] = spv;
				pc[port] = spc;
			} else {
				rc = cover(run, tab, nd.base + c, sub, k, t, pv, pc, stamp, clock);
			}
		}
		free(sub);
		return rc;
	}
}

/* Walk every tree of the active generation (collect, then cover): the
 * structure is one the datapath reads as the entries say. */
static int check_trees(struct verify_run *run, struct tables *tab, uint32_t *stamp)
{
	uint32_t *ids = NULL, clock = 0;
	size_t cap = 0;
	int rc = 0;

	for (uint32_t t = 0; t < tab->trees && !rc; t++) {
		size_t n = 0;
		uint32_t pv[2] = { 0, 0 }, pc[2] = { 0, 0 };

		if (t && tab->head.min_prio[t] < tab->head.min_prio[t - 1]) {
			rc = bad_tree(run, "trees are not in priority order (tree %u, best %u)", t,
				      tab->head.min_prio[t]);
			break;
		}
		rc = collect(run, tab, tab->head.root[t] & (XW_MAX_NODES - 1), 0, t, &ids, &n,
			     &cap);
		if (!rc)
			rc = cover(run, tab, tab->head.root[t] & (XW_MAX_NODES - 1), ids, n, t, pv,
				   pc, stamp, &clock);
	}
	free(ids);
	return rc;
}

/* The exact tier's structure: a shape the datapath reads as the entries
 * say, and each of its hash entries the key its rule entry has there
 * (xw_exact_entry_key, which builds the key the datapath builds from a
 * packet that entry matches).  The entries become objects (mark). */
static int check_shape(struct verify_run *run, struct tables *tab, uint32_t j)
{
	const struct xw_xshape *x = &tab->head.xs[j];
	int one = x->nk == 1, fd, rc = 0;
	__u32 slot = XW_XSLOT(tab->gen, j), id = 0, ks = one ? 4 : 16;
	enum xw_map_id outer = one ? XW_M_XENTS4 : XW_M_XENTS16;
	uint32_t key[XW_XLANES], next[XW_XLANES], *prev = NULL;
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	if (!x->nk || x->nk > XW_XLANES || x->nc > XW_XLANES)
		return bad_tree(run, "exact shape %u has %u key lanes: not a shape the datapath "
				"reads", j, x->nk);
	if (bpf_map_lookup_elem(run->dp->map_fd[outer], &slot, &id))
		return bad_tree(run, "exact shape %u has no hash map (slot %u)", j, slot);
	fd = bpf_map_get_fd_by_id(id);
	if (fd < 0)
		return sys(run, "open an exact-tier map", errno);
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.key_size != ks) {
		close(fd);
		return bad_tree(run, "exact shape %u's map has keys of %u bytes", j, info.key_size);
	}
	memset(key, 0, sizeof(key));
	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		struct xw_xkey want;
		__u32 r = 0;

		memcpy(key, next, ks);
		prev = key;
		if (bpf_map_lookup_elem(fd, key, &r)) {
			rc = sys(run, "read an exact-tier map", errno);
			break;
		}
		r &= XW_MAX_RENTS - 1;   /* as the datapath masks it */
		if (get_rent(run, tab, r))
			rc = -1;
		else if (!xw_exact_entry_key(x, j, &tab->rents[r], &want) ||
			 memcmp(want.lane, key, ks))
			rc = bad_tree(run, "exact shape %u lists rule %u under a key no packet it "
				      "matches has", j, tab->rents[r].prio);
		else if (xw_rent_dirs(&tab->rents[r]) & ~tab->head.xdirs & 3)
			rc = bad_tree(run, "exact shape %u is skipped for a direction rule %u "
				      "matches", j, tab->rents[r].prio);
		else if (tab->rents[r].prio < x->min_prio)
			rc = bad_tree(run, "exact shape %u says its best priority is %u, but lists "
				      "a better one", j, x->min_prio);
		if (rc)
			break;
		tab->mark[r] = XW_MAX_TREES + 1 + j;
		tab->xentries++;
	}
	close(fd);
	return rc;
}

static int check_exact(struct verify_run *run, struct tables *tab)
{
	tab->xshapes = tab->head.n_xshapes < XW_MAX_XSHAPES ? tab->head.n_xshapes : XW_MAX_XSHAPES;
	for (uint32_t j = 0; j < tab->xshapes; j++)
		if (check_shape(run, tab, j))
			return -1;
	return 0;
}

/* Every rent some leaf or exact shape lists: one cube each. */
static int entry_objects(struct verify_run *run, struct tables *tab)
{
	for (uint32_t r = 0; r < XW_MAX_RENTS; r++) {
		const struct xw_rent *e = &tab->rents[r];
		struct xw_range pr[2];

		if (!tab->mark[r] || e->prio == XW_PRIO_NONE)
			continue;
		pr[0].lo = e->sp_lo;
		pr[0].hi = e->sp_hi;
		pr[1].lo = e->dp_lo;
		pr[1].hi = e->dp_hi;
		tab->entries++;
		if (cube_obj(run, (const uint8_t *)e->m, (const uint8_t *)e->v, e->prio, r, 0,
			     pr) < 0)
			return -1;
	}
	return 0;
}

/* Every limit entry of the generation: one cube each.  Entries out of
 * priority order make the walk exact (no shortcut after a match). */
static int limit_objects(struct verify_run *run, struct tables *tab)
{
	uint32_t n = tab->cfg.n_limit[tab->gen], lp = 0;

	if (n > XW_MAX_LIMIT_ENTRIES)
		n = XW_MAX_LIMIT_ENTRIES;
	for (uint32_t i = 0; i < n; i++) {
		__u32 k = tab->gen * XW_MAX_LIMIT_ENTRIES + i;
		struct xw_limit_entry e;

		if (bpf_map_lookup_elem(run->dp->map_fd[XW_M_LIMITS], &k, &e))
			return sys(run, "read xw_limits", errno);
		if (e.prio < lp)
			run->exact = 1;
		lp = e.prio;
		tab->limits++;
		if (cube_obj(run, (const uint8_t *)&e.mask, (const uint8_t *)&e.key, e.prio,
			     XW_MAX_RENTS + i, 1, NULL) < 0)
			return -1;
	}
	return 0;
}

/* The active generation's tables: checked as trees, then one cube per
 * entry and per limit entry. */
static int read_tables(struct verify_run *run, struct tables *tab)
{
	__u32 zero = 0;
	uint32_t *stamp;
	int rc;

	memset(tab, 0, sizeof(*tab));
	if (bpf_map_lookup_elem(run->dp->map_fd[XW_M_CFG], &zero, &tab->cfg))
		return sys(run, "read xw_cfg", errno);
	tab->gen = tab->cfg.active & 1;
	if (bpf_map_lookup_elem(run->dp->map_fd[XW_M_TREES], &tab->gen, &tab->head))
		return sys(run, "read xw_trees", errno);
	tab->nodes = calloc(XW_MAX_NODES, sizeof(*tab->nodes));
	tab->node_read = calloc(XW_MAX_NODES, 1);
	tab->lids = calloc(XW_MAX_LIDS, sizeof(*tab->lids));
	tab->lid_read = calloc(XW_MAX_LIDS, 1);
	tab->rents = calloc(XW_MAX_RENTS, sizeof(*tab->rents));
	tab->rent_read = calloc(XW_MAX_RENTS, 1);
	tab->mark = calloc(XW_MAX_RENTS, sizeof(*tab->mark));
	stamp = calloc(XW_MAX_RENTS, sizeof(*stamp));
	if (!tab->nodes || !tab->node_read || !tab->lids || !tab->lid_read || !tab->rents ||
	    !tab->rent_read || !tab->mark || !stamp) {
		free(stamp);
		return oom(run);
	}
	tab->trees = tab->head.n_trees < XW_MAX_TREES ? tab->head.n_trees : XW_MAX_TREES;
	rc = check_trees(run, tab, stamp);
	free(stamp);
	if (!rc)
		rc = check_exact(run, tab);
	if (rc)
		return -1;
	if (entry_objects(run, tab))
		return -1;
	return limit_objects(run, tab);
}

static void free_tables(struct tables *tab)
{
	free(tab->nodes);
	free(tab->node_read);
	free(tab->lids);
	free(tab->lid_read);
	free(tab->rents);
	free(tab->rent_read);
	free(tab->mark);
}

/* ---- running frames ---- */

static int run_frame(struct verify_run *run, const uint8_t *pkt, size_t len, uint32_t ifx,
		     struct xw_scratch *out)
{
	LIBBPF_OPTS(bpf_test_run_opts, o);
	struct xdp_md md;
	struct __sk_buff sb;
	/* probe frames: verify changes no counter, bucket, flow or event */
	__u32 key = XW_SCRATCH_PROBE + (__u32)run->dir;
	uint8_t *framed;
	int fd, rc;

	if (run->pass == 0)
		fd = run->dp->prog_fd[XW_P_XDP];
	else
		fd = run->dp->prog_fd[run->pass == 2 ? XW_P_TC_IN : XW_P_TC_OUT];
	rc = xw_probe_opts(run->pass != 0, pkt, len, ifx != 1 ? ifx : 0, &o, &md, &sb, &framed);
	if (rc)
		return sys(run, "probe frame", rc);
	rc = bpf_prog_test_run_opts(fd, &o) ? errno : 0;
	free(framed);
	if (rc) {
		int e = rc;
		char hex[2 * XW_PB_MAX + 1];

		/* the skb test run refuses an untagged IPv4/IPv6 frame shorter
		 * than the fixed header; no such frame can be run on egress */
		if (e == EINVAL && run->pass && len >= 14 &&
		    ((pkt[12] == 0x08 && pkt[13] == 0x00 && len < 14 + 20) ||
		     (pkt[12] == 0x86 && pkt[13] == 0xdd && len < 14 + 40)))
			return 1;

		xw_pb_hex(pkt, len, hex, sizeof(hex));
		run->fail = 1;
		return xw_errf(run->err, XW_ESYS,
			       "BPF_PROG_TEST_RUN (%s, ifindex %u, %zu-byte frame %s): %s",
			       run->dir ? "tc egress" : "xdp", ifx, len, hex, strerror(e));
	}
	if (bpf_map_lookup_elem(run->dp->map_fd[XW_M_SCRATCH], &key, run->scr))
		return sys(run, "read the scratch map", errno);
	*out = run->scr[run->cpu];
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
static void decide(const struct verify_run *run, const struct list *rules, uint8_t ct_state,
		   struct dec *d, struct dec *alts, int *nalts)
{
	*nalts = 0;
	for (size_t i = 0; i < rules->n; i++) {
		const struct obj *o = &run->obj[rules->v[i]];

		if (o->ct && !(o->ct & ct_state))
			continue;
		if (o->limit) {
			if (*nalts < MAX_ALTS) {
				alts[*nalts].prio = o->prio;
				alts[*nalts].verdict = o->verdict;
				alts[*nalts].obj = rules->v[i];
				(*nalts)++;
			}
			continue;
		}
		d->prio = o->prio;
		d->verdict = o->verdict;
		d->obj = rules->v[i];
		return;
	}
	d->prio = XW_PRIO_NONE;
	d->verdict = run->rs.policy[run->dir] < XW_VERDICT_MAX ? run->rs.policy[run->dir] : XW_DROP;
	d->obj = 0;
}

static int fam_of(u128 k3)
{
	return k3 == K3_V4 ? 4 : k3 == K3_V6 ? 6 : 0;
}

static void ctx_key(const struct verify_run *run, const struct ctx *c, struct xw_key *k)
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
	k->dir = (uint8_t)run->dir;
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
#define KEY_DIFF(fl, fmt) if (want->fl != got->fl) \
		fprintf(f, " " #fl " " fmt " (sent " fmt ")", got->fl, want->fl)
	KEY_DIFF(eth_type, "0x%04x");
	KEY_DIFF(vlan, "%u");
	KEY_DIFF(flags, "0x%04x");
	KEY_DIFF(dir, "%u");
	KEY_DIFF(proto, "%u");
	KEY_DIFF(tcp_flags, "0x%02x");
	KEY_DIFF(icmp_type, "%u");
	KEY_DIFF(icmp_code, "%u");
	KEY_DIFF(sport, "%u");
	KEY_DIFF(dport, "%u");
	KEY_DIFF(ifindex, "%u");
#undef KEY_DIFF
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

static void print_dec(const struct verify_run *run, FILE *f, const char *label, const struct dec *d)
{
	if (d->prio == XW_PRIO_NONE) {
		fprintf(f, "  %s policy %s %s\n", label, run->dir ? "out" : "in",
			vname(d->verdict));
		return;
	}
	{
		char *t = xw_rule_text(&run->rs.rules[run->obj[d->obj].ref]);

		fprintf(f, "  %s rule %u %s  (%s)\n", label, d->prio, vname(d->verdict),
			t ? t : "?");
		free(t);
	}
}

static void counterexample(struct verify_run *run, const uint8_t *pkt, size_t len,
			   const struct xw_pb_spec *sp, uint32_t ifx, const struct dec *exp,
			   const struct dec *alts, int nalts, const struct xw_scratch *got,
			   const struct xw_key *want, int key_ok, const char *why)
{
	FILE *f = run->out;
	char *hex = malloc(2 * len + 1), fields[512], ifname[IF_NAMESIZE] = "";

	xw_pb_format(sp, fields, sizeof(fields));
	if (!if_indextoname(ifx, ifname))
		strcpy(ifname, "?");
	fprintf(f, "mismatch (%s, cell %lu)%s%s\n",
		run->pass == 0 ? "in, XDP" : run->pass == 1 ? "out, TC" : "in, TC",
		(unsigned long)run->st->cells, why ? ": " : "", why ? why : "");
	fprintf(f, "  packet: %zu bytes on %s (ifindex %u)\n", len, ifname, ifx);
	if (hex) {
		xw_pb_hex(pkt, len, hex, 2 * len + 1);
		fprintf(f, "    %s\n", hex);
	}
	fprintf(f, "  fields: %s\n", fields);
	print_dec(run, f, "expected:", exp);
	for (int i = 0; i < nalts; i++)
		print_dec(run, f, "      or:", &alts[i]);
	if (got->best_prio == XW_PRIO_NONE) {
		fprintf(f, "  actual:   %s %s%s\n", got->reason == XW_REASON_TAILCALL ?
			"tail call failed, fail-safe" : "policy", vname((int)got->verdict),
			got->malformed == XW_MAL_L3 ? " (malformed)" : "");
	} else {
		const char *t = NULL;
		char *tt = NULL;

		for (size_t i = 0; i < run->rs.n; i++)
			if (run->rs.rules[i].prio == got->best_prio)
				t = tt = xw_rule_text(&run->rs.rules[i]);
		fprintf(f, "  actual:   rule %u %s  (%s)\n", got->best_prio,
			vname((int)got->verdict), t ? t : "no such rule in the rule set");
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
static void decide_direct(const struct verify_run *run, const struct ctx *c, uint8_t ct_state,
			  struct dec *d, struct dec *alts, int *nalts)
{
	struct list alive;
	uint32_t *v = malloc((run->nrules + 1) * sizeof(*v));

	alive.v = v;
	alive.n = 0;
	for (size_t i = 0; v && i < run->nrules; i++) {
		const struct obj *o = &run->obj[i];
		int ok = o->dir_ok[run->dir];

		for (int l = 0; ok && l < L_N; l++)
			ok = in_set(run, oset(o, l, c->fam), c->val[l]);
		if (ok)
			v[alive.n++] = (uint32_t)i;
	}
	decide(run, &alive, ct_state, d, alts, nalts);
	free(v);
}

/* Count a cell run (frame shapes, per direction) and report progress
 * (--verbose) every 65536 cells, at most every 5 s. */
static void count_cell(struct verify_run *run, const struct xw_pb_spec *sp, uint8_t bad)
{
	unsigned f = xw_pb_shapes(sp);

	run->st->cells++;
	run->st->dir_cells[run->dir]++;
	for (int i = 0; i < XW_PBS_N; i++)
		if (f >> i & 1)
			run->shapes[i]++;
	if (run->o->verbose && !(run->st->cells & 0xffff)) {
		double t = now_s();

		if (t - run->last_progress >= 5) {
			run->last_progress = t;
			fprintf(run->log, "verify: %lu cells so far (%s)\n",
				(unsigned long)run->st->cells, run->dir ? "out" : "in");
		}
	}
	if (bad)
		run->st->shape_cells++;
	else
		run->st->key_cells++;
}

/* One cell: build its frame, run it through the hook, compare the
 * datapath's verdict and parsed key with the first matching rule. */
static int run_cell(struct verify_run *run, const struct ctx *c, const struct list *rules,
		    uint8_t bad)
{
	uint8_t pkt[XW_PB_MAX];
	struct xw_pb_spec sp;
	struct xw_key want, wk, gk;
	struct xw_scratch got = { 0 };
	struct dec exp, alts[MAX_ALTS];
	uint64_t seed = run->counter++;
	int nalts, key_ok = 0, ok, rc;
	size_t len;
	uint32_t ifx = (uint32_t)c->val[L_IFX];

	ctx_key(run, c, &want);
	ctx_spec(c, splitmix(&seed), &sp);
	sp.bad = bad;
	len = xw_pb_build(&sp, pkt, sizeof(pkt));
	if (!len) {
		char f[512];

		xw_pb_format(&sp, f, sizeof(f));
		run->fail = 1;
		return xw_errf(run->err, XW_ESYS, "internal: cannot build a frame for %s", f);
	}
	for (int tries = 0; tries < 4; tries++) {
		if (tries)
			run->st->retries++;
		rc = run_frame(run, pkt, len, ifx, &got);
		if (rc < 0)
			return -1;
		if (rc > 0) {
			run->st->skipped++;
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
	decide(run, rules, got.key.ct_state, &exp, alts, &nalts);
	ok = key_ok && dec_ok(&exp, alts, nalts, &got);
	if (run->o->self_check) {
		struct dec d2, a2[MAX_ALTS];
		int n2;

		decide_direct(run, c, got.key.ct_state, &d2, a2, &n2);
		if (d2.prio != exp.prio || n2 != nalts) {
			run->st->mismatches++;
			if (run->printed++ < run->o->max_examples)
				counterexample(run, pkt, len, &sp, ifx, &d2, a2, n2, &got, &want, 1,
					       "internal: the cell's rule differs from a direct evaluation");
		}
	}
	count_cell(run, &sp, bad);
	if (!ok) {
		run->st->mismatches++;
		if (run->printed++ < run->o->max_examples)
			counterexample(run, pkt, len, &sp, ifx, &exp, alts, nalts, &got, &want,
				       key_ok, key_ok ? NULL : "the datapath parsed other fields");
	}
	return 0;
}

static int leaf(struct verify_run *run, const struct ctx *c, const struct list *rules)
{
	uint16_t et = (uint16_t)c->val[L_ETYPE];

	if (c->fam == 0 && (et == 0x0800 || et == 0x86DD)) {
		/* no valid IP header: every way to break one is a shape cell */
		int first = et == 0x0800 ? XW_PB_V4_BAD_FIRST : XW_PB_V6_BAD_FIRST;
		int last = et == 0x0800 ? XW_PB_V4_BAD_LAST : XW_PB_V6_BAD_LAST;

		for (int b = first; b <= last; b++)
			if (run_cell(run, c, rules, (uint8_t)b))
				return -1;
		return 0;
	}
	return run_cell(run, c, rules, 0);
}

/* ---- the split ---- */

/* Values a level can take given the earlier ones (realizable packets). */
static size_t domain(const struct verify_run *run, int lv, const struct ctx *c, struct interval *d,
		     const struct interval **big)
{
	int l4 = (int)c->val[L_L4];

	*big = NULL;
#define ONE(a, b) (d[n].lo = (a), d[n].hi = (b), n++)
	size_t n = 0;

	switch (lv) {
	case L_IFX:
		*big = run->ifx;
		return run->nifx;
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
static size_t pseudo(int lv, const struct ctx *c, struct interval *p, uint32_t *id)
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
#define CAND(x) (k->v[k->n++] = (u128)(x))
	switch (lv) {
	case L_IFX: CAND(1); break;
	case L_ESRC: CAND(mac_s); break;
	case L_EDST: CAND(mac_d); break;
	case L_ETYPE: CAND(0x88cc); CAND(0x0000); CAND(0x05dc); break;
	case L_PROTO: CAND(17); CAND(132); CAND(47); CAND(50); CAND(0); CAND(59); break;
	case L_FRAG: CAND(0); CAND(1); CAND(2); CAND(3); break;
	case L_SRC:
	case L_DST:
		if (c->fam == 4) {
			CAND(lv == L_SRC ? 0xc0000201u : 0xc0000202u);          /* 192.0.2.x */
		} else if (c->fam == 6) {
			CAND(((u128)0x20010db8u << 96) | (lv == L_SRC ? 1 : 2)); /* 2001:db8::x */
		}
		break;
	case L_SPORT: CAND(40000); CAND(1024); CAND(65535); CAND(0); break;
	case L_DPORT: CAND(80); CAND(443); CAND(0); CAND(65535); break;
	case L_TFLAGS:
		CAND(0x02);
		CAND(0x12);
		CAND(0x10);
		CAND(0x11);
		CAND(0x04);
		CAND(0x00);
		break;
	case L_ITYPE: CAND(8); CAND(128); CAND(0); CAND(3); break;
	case L_ICODE: CAND(0); CAND(1); break;
	case L_VLAN: CAND(VLAN_NONE); CAND(100); CAND(0); CAND(4095); break;
	}
#undef CAND
}

/* Where an interval of a constrained object (or a pseudo interval) starts
 * (delta 1) or ends (delta -1, at hi + 1) on the level being split. */
struct boundary {
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
_Static_assert(sizeof(struct boundary) <= RADIX_MAX_SIZE,
	       "struct boundary: larger than radix_sort takes");

/* One child of a split: the elementary intervals whose accepting objects
 * are the same (hash h0, h1), merged. */
struct child_group {
	uint64_t h0, h1;
	u128 rep;                /* a value of the first interval */
	uint32_t nr, nc;         /* alive prefix of rules and cubes: up to the first certain match */
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

static int descend(struct verify_run *run, int pos, struct ctx *c, const struct list *rules,
		   const struct list *cubes);

/* Alive objects after a child is chosen: the first object that needs no
 * later field and is certain (no ct, no limit) ends each search. */
static void cut(const struct verify_run *run, int pos, struct list *alive, int is_rules)
{
	uint32_t rem = rem_after(pos);

	if (!is_rules && run->exact)
		return;
	for (size_t i = 0; i < alive->n; i++) {
		const struct obj *o = &run->obj[alive->v[i]];

		if (!o->maybe && !(o->lvmask & rem)) {
			alive->n = i + 1;
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

static int memo_seen(struct verify_run *run, int pos, const struct ctx *c, uint64_t h0, uint64_t h1)
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
		case L_PROTO:
			x = v == 1 ? 1 : v == 6 ? 2 : v == 17 || v == 132 ? 3 : v == 58 ? 4 : 0;
			break;
		case L_FRAG: x = (uint64_t)(v >> 1); break;
		case L_L4: x = (uint64_t)v; break;
		default: continue;
		}
		ctx |= (x + 1) << (4 * lv);
	}
	seed = ctx * 31 + (uint64_t)pos + ((uint64_t)run->dir << 60);
	h0 ^= splitmix(&seed);
	h1 ^= splitmix(&seed) | 1;     /* (0, 0) marks a free slot */
	if (2 * (run->memo_n + 1) > run->memo_cap) {
		size_t nc = run->memo_cap ? run->memo_cap * 2 : 1 << 16;
		uint64_t *nk = calloc(2 * nc, sizeof(*nk));

		if (!nk)
			return oom(run), -1;
		for (size_t i = 0; i < run->memo_cap; i++) {
			uint64_t a = run->memo[2 * i], b = run->memo[2 * i + 1];

			if (!a && !b)
				continue;
			slot = (size_t)(a ^ b) & (nc - 1);
			while (nk[2 * slot] || nk[2 * slot + 1])
				slot = (slot + 1) & (nc - 1);
			nk[2 * slot] = a;
			nk[2 * slot + 1] = b;
		}
		free(run->memo);
		run->memo = nk;
		run->memo_cap = nc;
	}
	slot = (size_t)(h0 ^ h1) & (run->memo_cap - 1);
	while (run->memo[2 * slot] || run->memo[2 * slot + 1]) {
		if (run->memo[2 * slot] == h0 && run->memo[2 * slot + 1] == h1)
			return 1;
		slot = (slot + 1) & (run->memo_cap - 1);
	}
	run->memo[2 * slot] = h0;
	run->memo[2 * slot + 1] = h1;
	run->memo_n++;
	return 0;
}

static void list_hash(const struct verify_run *run, const struct list *objs, uint64_t *h0,
		      uint64_t *h1)
{
	for (size_t i = 0; i < objs->n; i++) {
		*h0 ^= run->obj[objs->v[i]].z0;
		*h1 ^= run->obj[objs->v[i]].z1;
	}
}

/* Descend into one child: the objects of rules and cubes (up to nr / nc) that are
 * unconstrained here or accept the child (bits).  memo: check whether an
 * equal node was split before (else the caller did). */
static int child(struct verify_run *run, int pos, struct ctx *c, u128 val, const struct list *rules,
		 const struct list *cubes, const int32_t *rule_col, const int32_t *cube_col,
		 const uint8_t *bits, size_t nr, size_t nc, int memo)
{
	struct list kept_rules, kept_cubes;
	int rc;

	kept_rules.v = malloc((rules->n + 1) * sizeof(*kept_rules.v));
	kept_cubes.v = malloc((cubes->n + 1) * sizeof(*kept_cubes.v));
	if (!kept_rules.v || !kept_cubes.v) {
		free(kept_rules.v);
		free(kept_cubes.v);
		return oom(run);
	}
	kept_rules.n = kept_cubes.n = 0;
	for (size_t i = 0; i < rules->n && i < nr; i++) {
		int32_t j = rule_col ? rule_col[i] : -1;

		if (j < 0 || (bits[j >> 3] >> (j & 7) & 1))
			kept_rules.v[kept_rules.n++] = rules->v[i];
	}
	for (size_t i = 0; i < cubes->n && i < nc; i++) {
		int32_t j = cube_col ? cube_col[i] : -1;

		if (j < 0 || (bits[j >> 3] >> (j & 7) & 1))
			kept_cubes.v[kept_cubes.n++] = cubes->v[i];
	}
	cut(run, pos, &kept_rules, 1);
	cut(run, pos, &kept_cubes, 0);
	c->val[lv_order[pos]] = val;
	if (lv_order[pos] == L_L3)
		c->fam = fam_of(val);
	rc = 0;
	if (memo) {
		uint64_t h0 = 0, h1 = 0;

		list_hash(run, &kept_rules, &h0, &h1);
		list_hash(run, &kept_cubes, &h0, &h1);
		rc = memo_seen(run, pos, c, h0, h1);
	}
	if (rc > 0) {
		run->memo_hits++;
		rc = 0;
	} else if (!rc) {
		rc = descend(run, pos + 1, c, &kept_rules, &kept_cubes);
	}
	free(kept_rules.v);
	free(kept_cubes.v);
	return rc;
}

/* One node's split on one level (descend()): the node's alive objects,
 * those the level constrains, and the children found by sweeping the
 * level's elementary intervals. */
struct split {
	struct verify_run *run;
	int pos, lv;             /* position in lv_order, and the level there */
	struct ctx *c;
	const struct list *rules, *cubes;
	const struct interval *dom;   /* the values realizable here (domain()) */
	size_t ndom;
	struct interval pseudo[8];    /* values that need children of their own */
	uint32_t pseudo_id[8];
	size_t npseudo;
	struct cand cand;
	/* objects whose set here is not "any": cons[] holds the rules', then
	 * the cubes'; rule_col/cube_col map a list position to its index in
	 * cons[], or -1 */
	int32_t *rule_col, *cube_col;
	uint32_t *cons;
	size_t ncons, nrule_cons;
	size_t bw;               /* bytes of a bitmap over cons[] */
	/* the elementary intervals (split_boundaries()) */
	u128 dmin, dmax;
	struct boundary *ev;
	size_t nev;
	u128 *pts;               /* starts of the intervals, sorted, distinct */
	size_t npts;
	/* the sweep (split_sweep()) */
	uint8_t *act;            /* bitmap over cons[]: accepts the interval */
	uint8_t *cterm;          /* per cons[]: ends the search where it accepts */
	uint32_t *cpos;          /* per cons[]: position in its list */
	uint64_t *fx;            /* Fenwick XOR trees: rules z0, z1, cubes z0, z1 */
	int32_t *fc;             /* Fenwick counts of accepting cterm objects: rules, cubes */
	uint64_t *ux;            /* XOR of the unconstrained objects' hashes up to
				  * each position: rules, then cubes */
	uint64_t p0, p1;         /* XOR over the pseudo intervals covering the point */
	uint32_t *ht;            /* hsize slots: index + 1 in g[], 0 empty */
	size_t hsize;
	/* the children */
	struct child_group *g;
	size_t ngrp;
	uint8_t *bits;           /* per child split: which cons[] accept (bw bytes) */
	size_t nbits;
};

static void split_free(struct split *sp)
{
	free(sp->rule_col);
	free(sp->cube_col);
	free(sp->cons);
	free(sp->ev);
	free(sp->pts);
	free(sp->ht);
	free(sp->act);
	free(sp->g);
	free(sp->bits);
	free(sp->fx);
	free(sp->ux);
	free(sp->fc);
	free(sp->cterm);
	free(sp->cpos);
}

/* Index the objects the level constrains (cons[], rule_col, cube_col). */
static int split_constrained(struct split *sp)
{
	struct verify_run *run = sp->run;
	const struct list *rules = sp->rules, *cubes = sp->cubes;

	sp->rule_col = malloc((rules->n + 1) * sizeof(*sp->rule_col));
	sp->cube_col = malloc((cubes->n + 1) * sizeof(*sp->cube_col));
	sp->cons = malloc((rules->n + cubes->n + 1) * sizeof(*sp->cons));
	if (!sp->rule_col || !sp->cube_col || !sp->cons) {
		oom(run);
		return -1;
	}
	for (size_t i = 0; i < rules->n; i++) {
		const struct obj *o = &run->obj[rules->v[i]];

		sp->rule_col[i] = oset(o, sp->lv, sp->c->fam)->n >= 0 ? (int32_t)sp->ncons : -1;
		if (sp->rule_col[i] >= 0)
			sp->cons[sp->ncons++] = rules->v[i];
	}
	sp->nrule_cons = sp->ncons;
	for (size_t i = 0; i < cubes->n; i++) {
		const struct obj *o = &run->obj[cubes->v[i]];

		sp->cube_col[i] = oset(o, sp->lv, sp->c->fam)->n >= 0 ? (int32_t)sp->ncons : -1;
		if (sp->cube_col[i] >= 0)
			sp->cons[sp->ncons++] = cubes->v[i];
	}
	sp->bw = (sp->ncons + 8) / 8;
	return 0;
}

/* The domain is one value: one child, with the objects that accept it. */
static int split_one_value(struct split *sp)
{
	struct verify_run *run = sp->run;
	u128 val = sp->dom[0].lo;
	uint8_t *accepts = calloc(sp->bw, 1);
	int rc;

	if (!accepts) {
		oom(run);
		return -1;
	}
	for (size_t j = 0; j < sp->ncons; j++)
		if (in_set(run, oset(&run->obj[sp->cons[j]], sp->lv, sp->c->fam), val))
			accepts[j >> 3] |= (uint8_t)(1u << (j & 7));
	run->groups[sp->lv]++;
	rc = child(run, sp->pos, sp->c, val, sp->rules, sp->cubes, sp->rule_col, sp->cube_col,
		   accepts, sp->rules->n, sp->cubes->n, 1);
	free(accepts);
	return rc;
}

/* No object constrains the level and no value needs a child of its own:
 * one child, the whole domain; take a candidate in it in turn. */
static int split_unconstrained(struct split *sp)
{
	struct verify_run *run = sp->run;
	struct cand in;
	u128 rep = sp->dom[0].lo;

	in.n = 0;
	for (int i = 0; i < sp->cand.n; i++)
		for (size_t k = 0; k < sp->ndom; k++)
			if (sp->cand.v[i] >= sp->dom[k].lo && sp->cand.v[i] <= sp->dom[k].hi)
				in.v[in.n++] = sp->cand.v[i];
	if (in.n)
		rep = in.v[run->counter % (uint64_t)in.n];
	run->groups[sp->lv]++;
	return child(run, sp->pos, sp->c, rep, sp->rules, sp->cubes, NULL, NULL, NULL,
		     sp->rules->n, sp->cubes->n, 1);
}

/* Record interval [lo, hi] of cons[] entry (or pseudo interval) id,
 * clipped to the domain's span. */
static void split_add_interval(struct split *sp, u128 lo, u128 hi, uint32_t id)
{
	u128 a = lo < sp->dmin ? sp->dmin : lo, b = hi > sp->dmax ? sp->dmax : hi;

	if (a > b)
		return;
	sp->ev[sp->nev].pos = a;
	sp->ev[sp->nev].id = id;
	sp->ev[sp->nev].delta = 1;
	sp->nev++;
	sp->pts[sp->npts++] = a;
	if (b != U128_MAX) {
		sp->ev[sp->nev].pos = b + 1;
		sp->ev[sp->nev].id = id;
		sp->ev[sp->nev].delta = -1;
		sp->nev++;
		sp->pts[sp->npts++] = b + 1;
	}
}

/* The elementary intervals: every boundary of every constrained set, of
 * the pseudo intervals and of the domain.  Leaves the boundaries (ev)
 * sorted by position and the interval starts (pts) sorted and distinct. */
static int split_boundaries(struct split *sp)
{
	struct verify_run *run = sp->run;
	const struct interval *dom = sp->dom;
	size_t cap = 2 * sp->ndom + 2 * sp->npseudo + 2, w = 0;
	u128 max;

	sp->nev = sp->npts = 0;
	sp->dmin = dom[0].lo;
	sp->dmax = dom[sp->ndom - 1].hi;
	for (size_t j = 0; j < sp->ncons; j++) {
		const struct iset *s = oset(&run->obj[sp->cons[j]], sp->lv, sp->c->fam);

		cap += 2 * (size_t)s->n;
	}
	sp->ev = malloc(cap * sizeof(*sp->ev));
	sp->pts = malloc((cap + 1) * sizeof(*sp->pts));
	if (!sp->ev || !sp->pts) {
		oom(run);
		return -1;
	}
	for (size_t j = 0; j < sp->ncons; j++) {
		const struct iset *s = oset(&run->obj[sp->cons[j]], sp->lv, sp->c->fam);
		const struct interval *v = run->pool.v + s->off;

		for (int32_t k = 0; k < s->n; k++)
			split_add_interval(sp, v[k].lo, v[k].hi, (uint32_t)j);
	}
	for (size_t p = 0; p < sp->npseudo; p++)
		split_add_interval(sp, sp->pseudo[p].lo, sp->pseudo[p].hi,
				   (uint32_t)(sp->ncons + sp->pseudo_id[p]));
	for (size_t k = 0; k < sp->ndom; k++) {
		sp->pts[sp->npts++] = dom[k].lo;
		if (dom[k].hi != U128_MAX)
			sp->pts[sp->npts++] = dom[k].hi + 1;
	}
	max = sp->dmax == U128_MAX ? sp->dmax : sp->dmax + 1;
	if (radix_sort(sp->ev, sp->nev, sizeof(*sp->ev), offsetof(struct boundary, pos), max) ||
	    radix_sort(sp->pts, sp->npts, sizeof(*sp->pts), 0, max)) {
		oom(run);
		return -1;
	}
	for (size_t i = 0; i < sp->npts; i++)
		if (!w || sp->pts[i] != sp->pts[w - 1])
			sp->pts[w++] = sp->pts[i];
	sp->npts = w;
	return 0;
}

/* The sweep's tables: the hash table of children, the bitmap of accepting
 * objects, the Fenwick trees, which constrained objects end the search
 * (an object that is certain and needs no later field, as in cut()) and
 * the hashes of the unconstrained objects up to each list position. */
static int split_sweep_init(struct split *sp)
{
	struct verify_run *run = sp->run;
	const struct list *rules = sp->rules, *cubes = sp->cubes;
	uint32_t rem = rem_after(sp->pos);

	sp->hsize = 16;
	while (sp->hsize < 2 * sp->npts)
		sp->hsize *= 2;
	sp->ht = calloc(sp->hsize, sizeof(*sp->ht));
	sp->act = calloc(sp->bw, 1);
	sp->g = calloc(sp->npts + 1, sizeof(*sp->g));
	sp->bits = malloc((sp->npts + 1) * sp->bw);
	sp->fx = calloc(2 * (rules->n + 1) + 2 * (cubes->n + 1), sizeof(*sp->fx));
	sp->fc = calloc((rules->n + 1) + (cubes->n + 1), sizeof(*sp->fc));
	sp->ux = malloc((2 * (rules->n + cubes->n) + 2) * sizeof(*sp->ux));
	sp->cterm = malloc(sp->ncons + 1);
	sp->cpos = malloc((sp->ncons + 1) * sizeof(*sp->cpos));
	if (!sp->ht || !sp->act || !sp->g || !sp->bits || !sp->fx || !sp->fc || !sp->cterm ||
	    !sp->cpos || !sp->ux) {
		oom(run);
		return -1;
	}
	for (size_t i = 0; i < rules->n; i++)
		if (sp->rule_col[i] >= 0) {
			const struct obj *o = &run->obj[rules->v[i]];

			sp->cpos[sp->rule_col[i]] = (uint32_t)i;
			sp->cterm[sp->rule_col[i]] = !o->maybe && !(o->lvmask & rem);
		}
	for (size_t i = 0; i < cubes->n; i++)
		if (sp->cube_col[i] >= 0) {
			const struct obj *o = &run->obj[cubes->v[i]];

			sp->cpos[sp->cube_col[i]] = (uint32_t)i;
			sp->cterm[sp->cube_col[i]] = !run->exact && !o->maybe && !(o->lvmask & rem);
		}
	for (size_t i = 0, a = 0, b = 0; i < rules->n; i++) {
		if (sp->rule_col[i] < 0) {
			a ^= run->obj[rules->v[i]].z0;
			b ^= run->obj[rules->v[i]].z1;
		}
		sp->ux[2 * i] = a;
		sp->ux[2 * i + 1] = b;
	}
	for (size_t i = 0, a = 0, b = 0; i < cubes->n; i++) {
		if (sp->cube_col[i] < 0) {
			a ^= run->obj[cubes->v[i]].z0;
			b ^= run->obj[cubes->v[i]].z1;
		}
		sp->ux[2 * (rules->n + i)] = a;
		sp->ux[2 * (rules->n + i) + 1] = b;
	}
	return 0;
}

/* Apply the boundaries at position p: objects start or stop accepting
 * (and pseudo intervals begin or end).  *ei: the next boundary. */
static void split_cross(struct split *sp, u128 p, size_t *ei)
{
	const struct list *rules = sp->rules, *cubes = sp->cubes;
	uint64_t *fr0 = sp->fx, *fr1 = sp->fx + (rules->n + 1), *fc0 = sp->fx + 2 * (rules->n + 1),
		 *fc1 = fc0 + (cubes->n + 1);
	int32_t *cr = sp->fc, *cc = sp->fc + (rules->n + 1);

	for (; *ei < sp->nev && sp->ev[*ei].pos == p; ++*ei) {
		uint32_t id = sp->ev[*ei].id;

		if (id < sp->ncons) {
			const struct obj *o = &sp->run->obj[sp->cons[id]];
			int isc = id >= sp->nrule_cons;
			size_t n = isc ? cubes->n : rules->n;

			sp->act[id >> 3] ^= (uint8_t)(1u << (id & 7));
			fw_xor(isc ? fc0 : fr0, n, sp->cpos[id], o->z0);
			fw_xor(isc ? fc1 : fr1, n, sp->cpos[id], o->z1);
			if (sp->cterm[id])
				fw_add(isc ? cc : cr, n, sp->cpos[id], sp->ev[*ei].delta);
		} else {
			uint64_t seed = 0xabcdef12345ull + id - sp->ncons;

			sp->p0 ^= splitmix(&seed);
			sp->p1 ^= splitmix(&seed);
		}
	}
}

/* What decides the subtree of the current interval: the child's objects,
 * i.e. the unconstrained and the accepting ones up to the first one that
 * ends the search.  (l0, l1): their hash; *cutr, *cutc: that first one's
 * position in rules and in cubes (n if none). */
static void split_child_hash(const struct split *sp, uint64_t *l0, uint64_t *l1, size_t *cutr,
			     size_t *cutc)
{
	const struct list *rules = sp->rules, *cubes = sp->cubes;
	const uint64_t *fr0 = sp->fx, *fr1 = sp->fx + (rules->n + 1),
		       *fc0 = sp->fx + 2 * (rules->n + 1), *fc1 = fc0 + (cubes->n + 1);
	const int32_t *cr = sp->fc, *cc = sp->fc + (rules->n + 1);

	*cutr = fw_first(cr, rules->n);
	*cutc = fw_first(cc, cubes->n);
	*l0 = *l1 = 0;
	if (rules->n) {
		size_t q = *cutr < rules->n ? *cutr : rules->n - 1;

		*l0 ^= fw_pxor(fr0, q) ^ sp->ux[2 * q];
		*l1 ^= fw_pxor(fr1, q) ^ sp->ux[2 * q + 1];
	}
	if (cubes->n) {
		size_t q = *cutc < cubes->n ? *cutc : cubes->n - 1;

		*l0 ^= fw_pxor(fc0, q) ^ sp->ux[2 * (rules->n + q)];
		*l1 ^= fw_pxor(fc1, q) ^ sp->ux[2 * (rules->n + q) + 1];
	}
}

/* A new child in hash slot `slot`, starting at interval p.  A child
 * already split on another path needs no copy of its objects (levels whose
 * value does not shape later domains: the memo key is known now). */
static int split_new_child(struct split *sp, size_t slot, u128 p, uint64_t h0, uint64_t h1,
			   uint64_t l0, uint64_t l1, size_t cutr, size_t cutc)
{
	struct verify_run *run = sp->run;
	struct child_group *g = &sp->g[sp->ngrp];
	int seen = 0;

	if (!shapes_later(sp->lv)) {
		seen = memo_seen(run, sp->pos, sp->c, l0, l1);
		if (seen < 0)
			return -1;
		run->memo_hits += (uint64_t)seen;
	}
	g->h0 = h0;
	g->h1 = h1;
	g->l0 = l0;
	g->l1 = l1;
	g->rep = p;
	g->nr = (uint32_t)(cutr < sp->rules->n ? cutr + 1 : sp->rules->n);
	g->nc = (uint32_t)(cutc < sp->cubes->n ? cutc + 1 : sp->cubes->n);
	g->cand.n = 0;
	g->bits = (uint32_t)-1;
	if (!seen) {
		g->bits = (uint32_t)sp->nbits;
		memcpy(sp->bits + sp->nbits++ * sp->bw, sp->act, sp->bw);
	}
	sp->ht[slot] = (uint32_t)++sp->ngrp;
	return 0;
}

/* Sweep the elementary intervals in order, tracking the objects that
 * accept each, and group the intervals whose children would hold the same
 * objects into one child (g[]), with the candidates that fall in it. */
static int split_sweep(struct split *sp)
{
	size_t ei = 0, di = 0;

	if (split_sweep_init(sp))
		return -1;
	for (size_t i = 0; i < sp->npts; i++) {
		u128 p = sp->pts[i], end = i + 1 < sp->npts ? sp->pts[i + 1] - 1 : U128_MAX;
		uint64_t h0, h1, l0, l1;
		size_t slot, cutr, cutc;
		struct child_group *g;

		split_cross(sp, p, &ei);
		while (di < sp->ndom && sp->dom[di].hi < p)
			di++;
		if (di >= sp->ndom || sp->dom[di].lo > p)
			continue;      /* outside the realizable values */
		split_child_hash(sp, &l0, &l1, &cutr, &cutc);
		h0 = l0 ^ sp->p0;
		h1 = l1 ^ sp->p1;
		slot = (size_t)(h0 ^ (h1 >> 7)) & (sp->hsize - 1);
		while (sp->ht[slot] &&
		       !(sp->g[sp->ht[slot] - 1].h0 == h0 && sp->g[sp->ht[slot] - 1].h1 == h1))
			slot = (slot + 1) & (sp->hsize - 1);
		if (!sp->ht[slot] && split_new_child(sp, slot, p, h0, h1, l0, l1, cutr, cutc))
			return -1;
		/* representative candidates that fall here */
		g = &sp->g[sp->ht[slot] - 1];
		for (int k = 0; k < sp->cand.n; k++) {
			if (g->bits == (uint32_t)-1)
				break;
			if (sp->cand.v[k] >= p && sp->cand.v[k] <= end && g->cand.n < 6)
				g->cand.v[g->cand.n++] = sp->cand.v[k];
		}
	}
	return 0;
}

/* Descend into each child not merged with one checked before. */
static int split_descend_children(struct split *sp)
{
	struct verify_run *run = sp->run;
	struct ctx *c = sp->c;
	int rc = 0;

	for (size_t k = 0; k < sp->ngrp && !rc; k++) {
		const struct child_group *g = &sp->g[k];
		u128 rep = g->rep;

		if (g->bits == (uint32_t)-1)
			continue;          /* merged with a child checked before */
		if (g->cand.n)
			rep = g->cand.v[run->counter % (uint64_t)g->cand.n];
		c->val[sp->lv] = rep;
		if (sp->lv == L_L3)
			c->fam = fam_of(rep);
		if (shapes_later(sp->lv)) {
			rc = memo_seen(run, sp->pos, c, g->l0, g->l1);
			if (rc > 0) {
				run->memo_hits++;
				rc = 0;
				continue;
			}
		}
		if (!rc)
			rc = child(run, sp->pos, c, rep, sp->rules, sp->cubes, sp->rule_col,
				   sp->cube_col, sp->bits + (size_t)g->bits * sp->bw, g->nr, g->nc, 0);
	}
	return rc;
}

/* Split the node (alive objects rules and cubes, values c on the levels
 * before pos) on the level at pos, and check every child; after the last
 * level, run the cell.  0: checked, -1 (or an XW_E* code): error. */
static int descend(struct verify_run *run, int pos, struct ctx *c, const struct list *rules,
		   const struct list *cubes)
{
	struct interval dsmall[8];
	struct split sp;
	int rc = -1;

	if (run->fail)
		return -1;
	if (pos >= L_N)
		return leaf(run, c, rules);
	memset(&sp, 0, sizeof(sp));
	sp.run = run;
	sp.pos = pos;
	sp.lv = lv_order[pos];
	sp.c = c;
	sp.rules = rules;
	sp.cubes = cubes;
	sp.ndom = domain(run, sp.lv, c, dsmall, &sp.dom);
	if (!sp.dom)
		sp.dom = dsmall;
	if (!sp.ndom)
		return 0;                /* nothing realizable (no interface) */
	sp.npseudo = pseudo(sp.lv, c, sp.pseudo, sp.pseudo_id);
	if (split_constrained(&sp))
		goto out;
	candidates(sp.lv, c, &sp.cand);
	if (sp.ndom == 1 && sp.dom[0].lo == sp.dom[0].hi) {
		rc = split_one_value(&sp);
	} else if (!sp.ncons && !sp.npseudo) {
		rc = split_unconstrained(&sp);
	} else if (!split_boundaries(&sp) && !split_sweep(&sp)) {
		run->groups[sp.lv] += sp.ngrp;
		rc = split_descend_children(&sp);
	}
out:
	split_free(&sp);
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

static int interfaces(struct verify_run *run)
{
	struct if_nameindex *ni = if_nameindex(), *p;
	size_t n = 0;

	if (!ni)
		return sys(run, "list interfaces", errno);
	for (p = ni; p->if_index; p++)
		n++;
	run->ifx = calloc(n + 1, sizeof(*run->ifx));
	if (!run->ifx) {
		if_freenameindex(ni);
		return oom(run);
	}
	for (p = ni; p->if_index; p++) {
		run->ifx[run->nifx].lo = run->ifx[run->nifx].hi = p->if_index;
		run->nifx++;
	}
	if_freenameindex(ni);
	qsort(run->ifx, run->nifx, sizeof(*run->ifx), cmp_interval);
	return 0;
}

/* The reference side: one object per rule of the live text, with its
 * input interface resolved to an index. */
static int rule_objects(struct verify_run *run)
{
	if (interfaces(run))
		return -1;
	run->rule_ifx = calloc(run->rs.n + 1, sizeof(*run->rule_ifx));
	if (!run->rule_ifx) {
		oom(run);
		return -1;
	}
	for (size_t i = 0; i < run->rs.n; i++)
		if (run->rs.rules[i].present & XM_IIF)
			run->rule_ifx[i] = if_nametoindex(run->rs.rules[i].iif);
	for (size_t i = 0; i < run->rs.n; i++)
		if (rule_obj(run, i))
			return -1;
	run->nrules = run->nobj;
	return 0;
}

/* The verdict details are in the per-CPU scratch of the CPU that ran the
 * frame: stay on one CPU (the old affinity in *old if *have_old). */
static int pin_one_cpu(struct verify_run *run, cpu_set_t *old, int *have_old)
{
	cpu_set_t one;

	run->ncpu = libbpf_num_possible_cpus();
	run->scr = calloc((size_t)(run->ncpu > 0 ? run->ncpu : 1), sizeof(*run->scr));
	if (run->ncpu <= 0 || !run->scr) {
		oom(run);
		return -1;
	}
	*have_old = sched_getaffinity(0, sizeof(*old), old) == 0;
	run->cpu = sched_getcpu();
	CPU_ZERO(&one);
	CPU_SET(run->cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one)) {
		sys(run, "pin to one CPU", errno);
		return -1;
	}
	run->cpu = sched_getcpu();
	return 0;
}

/* Is an interface attached so that TC filters its ingress (attach --mode tc)? */
static int tc_ingress_attached(const struct xw_dp *dp)
{
	__u32 k, *prev = NULL, kk;
	struct xw_iface ifc;
	int tc_in = 0;

	while (bpf_map_get_next_key(dp->map_fd[XW_M_IFACES], prev, &k) == 0) {
		if (bpf_map_lookup_elem(dp->map_fd[XW_M_IFACES], &k, &ifc) == 0 &&
		    ifc.xdp_mode == XW_IFMODE_TC)
			tc_in = 1;
		kk = k;
		prev = &kk;
	}
	return tc_in;
}

/* Every cell of one pass (0 XDP ingress, 1 TC egress, 2 TC ingress):
 * the direction's rules and map entries, split from the whole key space. */
static int verify_pass(struct verify_run *run, int pass)
{
	int dir = pass == 1 ? XW_DIR_OUT : XW_DIR_IN;
	struct list rules, cubes;
	struct ctx c;
	int rc;

	run->dir = dir;
	run->pass = pass;
	run->memo_n = 0;
	if (run->memo)
		memset(run->memo, 0, 2 * run->memo_cap * sizeof(*run->memo));
	rules.v = malloc((run->nrules + 1) * sizeof(*rules.v));
	cubes.v = malloc((run->nobj - run->nrules + 1) * sizeof(*cubes.v));
	if (!rules.v || !cubes.v) {
		free(rules.v);
		free(cubes.v);
		oom(run);
		return -1;
	}
	rules.n = cubes.n = 0;
	for (size_t i = 0; i < run->nrules; i++)
		if (run->obj[i].dir_ok[dir])
			rules.v[rules.n++] = (uint32_t)i;
	for (size_t i = run->nrules; i < run->nobj; i++)
		if (run->obj[i].dir_ok[dir])
			cubes.v[cubes.n++] = (uint32_t)i;
	qsort_r(cubes.v, cubes.n, sizeof(*cubes.v), cmp_cube, run->obj);
	cut(run, -1, &rules, 1);
	cut(run, -1, &cubes, 0);
	memset(&c, 0, sizeof(c));
	rc = descend(run, 0, &c, &rules, &cubes);
	free(rules.v);
	free(cubes.v);
	return rc;
}

/* The tables read must still be the active ones at the end. */
static int same_generation(struct verify_run *run, const struct tables *tab)
{
	struct xw_cfg cfg;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(run->dp->map_fd[XW_M_CFG], &zero, &cfg) == 0 &&
	    cfg.generation != tab->cfg.generation)
		return xw_errf(run->err, XW_ESYS, "the rule set changed while it was being verified");
	return 0;
}

/* verify --verbose: what was checked, and how */
static void print_summary(const struct verify_run *run, const struct xw_verify_stats *st)
{
	FILE *log = run->log;

	fprintf(log, "verify: %zu rules, %zu entries (%zu by hash in %zu exact shapes, the rest "
		"in %zu trees), %zu limit entries; %lu cells (in %lu, out %lu; %lu shape cells), "
		"%.2f s\n", st->rules, st->entries, st->xentries, st->xshapes, st->trees, st->limits,
		(unsigned long)st->cells,
		(unsigned long)st->dir_cells[0], (unsigned long)st->dir_cells[1],
		(unsigned long)st->shape_cells, st->seconds);
	fprintf(log, "verify: frames:");
	for (int i = 0; i < XW_PBS_N; i++)
		fprintf(log, " %s %lu%s", xw_pb_shape_names[i], (unsigned long)run->shapes[i],
			i + 1 < XW_PBS_N ? "," : "\n");
	fprintf(log, "verify: children per field:");
	for (int l = 0; l < L_N; l++)
		fprintf(log, " %s %lu%s", lv_names[l], (unsigned long)run->groups[l],
			l + 1 < L_N ? "," : "\n");
	fprintf(log, "verify: %lu subtrees merged with one checked before, %lu runs skipped "
		"(the kernel's test run refuses them)\n", (unsigned long)run->memo_hits,
		(unsigned long)st->skipped);
	if (st->retries)
		fprintf(log, "verify: %lu runs repeated\n", (unsigned long)st->retries);
}

int xw_verify(struct xw_dp *dp, const struct xw_verify_opts *opts,
	      struct xw_verify_stats *st, struct xw_err *err)
{
	struct xw_verify_opts defo = { 0 };
	struct verify_run run;
	struct tables tab;
	cpu_set_t old;
	int have_old = 0, rc = 0;
	uint64_t gen0 = 0;
	double t0 = now_s();
	uint32_t *slots = NULL;

	memset(&run, 0, sizeof(run));
	memset(&tab, 0, sizeof(tab));
	memset(st, 0, sizeof(*st));
	if (!opts)
		opts = &defo;
	run.dp = dp;
	run.o = opts;
	run.st = st;
	run.err = err;
	run.out = opts->out ? opts->out : stdout;
	run.log = opts->log ? opts->log : stderr;
	xw_ruleset_init(&run.rs);
	if (!opts->max_examples) {
		defo = *opts;
		defo.max_examples = 1;
		run.o = opts = &defo;
	}

	/* the rule text as the kernel holds it */
	rc = xw_dp_read_rules(dp, &run.rs, &slots, &gen0, err);
	free(slots);
	/* rules on sets: as lists of the live sets' elements (loader/sets.c) */
	if (!rc)
		rc = xw_sets_materialize(&run.rs, dp, err);
	if (rc) {
		xw_ruleset_free(&run.rs);
		return rc == -1 ? XW_EINPUT : rc;
	}
	rc = -1;
	if (rule_objects(&run) || read_tables(&run, &tab))
		goto out;
	st->rules = run.rs.n;
	st->entries = tab.entries;
	st->trees = tab.trees;
	st->xshapes = tab.xshapes;
	st->xentries = tab.xentries;
	st->limits = tab.limits;
	if (pin_one_cpu(&run, &old, &have_old))
		goto out;
	/* ingress through XDP, egress through TC; ingress through TC too if
	 * an interface is attached that way */
	run.tc_in = tc_ingress_attached(dp);
	for (int pass = 0; pass < 3; pass++) {
		if (pass == 2 && !run.tc_in)
			break;
		rc = verify_pass(&run, pass);
		if (rc)
			goto out;
	}
	rc = same_generation(&run, &tab);
out:
	if (have_old)
		sched_setaffinity(0, sizeof(old), &old);
	st->exact = run.exact;
	st->seconds = now_s() - t0;
	if (opts->verbose && !rc)
		print_summary(&run, st);
	if (rc && !run.fail && !err->msg[0])
		xw_errf(err, XW_ESYS, "verify failed");
	free(run.memo);
	free(run.obj);
	free(run.pool.v);
	free(run.ifx);
	free(run.rule_ifx);
	free(run.scr);
	free_tables(&tab);
	xw_ruleset_free(&run.rs);
	return rc ? (rc > 0 ? rc : XW_ESYS) : 0;
}
