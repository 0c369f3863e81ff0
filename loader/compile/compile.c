// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Rule set -> (tuple masks, masked keys).  Each rule becomes the cross product
 * of its alternatives (list values, port-range prefixes, fragment forms); each
 * alternative is one (mask, key) pair.  Equal masks form a tuple; tuples are
 * ordered by their best priority so the datapath can stop early. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include "compile.h"
#include "bloom.h"
#include "tree.h"

#define XW_MAX_ENTRIES (16u << 20)

struct rec {
	struct xw_key mask;
	struct xw_key key;
	struct xw_entry_val val;
	uint32_t tuple;
	uint16_t sp_lo, sp_hi, dp_lo, dp_hi;   /* port ranges (tree entries) */
};

struct recs {
	struct rec *v;
	size_t n, cap;
};

/* One alternative for one field: value and mask bytes at an offset of the key. */
struct alt {
	struct xw_key key, mask;
	uint8_t has_sp, has_dp;              /* a port range, not a prefix */
	uint16_t lo, hi;
};

struct alts {
	struct alt *v;
	size_t n;
};

int xw_range_prefixes(uint32_t lo, uint32_t hi, int bits, uint32_t *vals, uint32_t *masks)
{
	uint64_t a = lo, b = hi;
	uint32_t full = bits == 32 ? 0xffffffffu : ((1u << bits) - 1);
	int n = 0;

	while (a <= b) {
		uint64_t size = 1;

		/* largest aligned block starting at a that stays within b */
		while ((a & (size * 2 - 1)) == 0 && a + size * 2 - 1 <= b && size * 2 <= (1ull << bits))
			size *= 2;
		vals[n] = (uint32_t)a;
		masks[n] = full & ~(uint32_t)(size - 1);
		n++;
		a += size;
	}
	return n;
}

static int alts_push(struct alts *a, const struct alt *x)
{
	struct alt *nv = realloc(a->v, (a->n + 1) * sizeof(*nv));

	if (!nv)
		return -1;
	a->v = nv;
	a->v[a->n++] = *x;
	return 0;
}

static void set16(uint16_t *k, uint16_t *m, uint16_t v, uint16_t mask)
{
	*k = (*k & ~mask) | (v & mask);
	*m |= mask;
}

static void set_flag(struct xw_key *k, struct xw_key *m, uint16_t bits, uint16_t val)
{
	set16(&k->flags, &m->flags, val, bits);
}

static void prefix_bytes(uint8_t *k, uint8_t *m, const uint8_t *addr, int plen, int nbytes)
{
	for (int i = 0; i < nbytes; i++) {
		int b = plen - i * 8;
		uint8_t mb = b >= 8 ? 0xff : b <= 0 ? 0 : (uint8_t)(0xff << (8 - b));

		m[i] = mb;
		k[i] = addr[i] & mb;
	}
}

static int cidr_alts(const struct xw_cidr *c, size_t n, int is_src, struct alts *out)
{
	for (size_t i = 0; i < n; i++) {
		struct alt a;

		memset(&a, 0, sizeof(a));
		if (c[i].family == 4)
			set_flag(&a.key, &a.mask, XWK_V4, XWK_V4);
		else
			set_flag(&a.key, &a.mask, XWK_V6, XWK_V6);
		prefix_bytes(is_src ? a.key.src : a.key.dst, is_src ? a.mask.src : a.mask.dst,
			     c[i].addr, c[i].plen, c[i].family == 4 ? 4 : 16);
		if (alts_push(out, &a))
			return -1;
	}
	return 0;
}

/* Ranges over a 16-bit (ports) or 8-bit (ICMP) field. `which`: 0 sport,
 * 1 dport, 2 icmp type, 3 icmp code. */
static int range_alts(const struct xw_range *r, size_t n, int which, uint16_t flag, struct alts *out,
		      int as_range)
{
	int bits = which < 2 ? 16 : 8;

	for (size_t i = 0; i < n; i++) {
		if (as_range && which < 2) {
			/* one alternative: the tree entry holds the range itself */
			struct alt a;

			memset(&a, 0, sizeof(a));
			set_flag(&a.key, &a.mask, flag, flag);
			a.has_sp = which == 0;
			a.has_dp = which == 1;
			a.lo = (uint16_t)r[i].lo;
			a.hi = (uint16_t)r[i].hi;
			if (alts_push(out, &a))
				return -1;
			continue;
		}
		uint32_t vals[32], masks[32];
		int np = xw_range_prefixes(r[i].lo, r[i].hi, bits, vals, masks);

		for (int j = 0; j < np; j++) {
			struct alt a;

			memset(&a, 0, sizeof(a));
			set_flag(&a.key, &a.mask, flag, flag);
			switch (which) {
			case 0: a.key.sport = vals[j]; a.mask.sport = masks[j]; break;
			case 1: a.key.dport = vals[j]; a.mask.dport = masks[j]; break;
			case 2: a.key.icmp_type = vals[j]; a.mask.icmp_type = masks[j]; break;
			default: a.key.icmp_code = vals[j]; a.mask.icmp_code = masks[j]; break;
			}
			if (alts_push(out, &a))
				return -1;
		}
	}
	return 0;
}

static int frag_alts(uint8_t kind, struct alts *out)
{
	struct alt a;

	memset(&a, 0, sizeof(a));
	set_flag(&a.key, &a.mask, XWK_L3, XWK_L3);
	switch (kind) {
	case XW_FRAG_FIRST:
		set_flag(&a.key, &a.mask, XWK_FRAG_MF | XWK_FRAG_LATER, XWK_FRAG_MF);
		return alts_push(out, &a);
	case XW_FRAG_LATER:
		set_flag(&a.key, &a.mask, XWK_FRAG_LATER, XWK_FRAG_LATER);
		return alts_push(out, &a);
	default: {
		struct alt b = a;

		set_flag(&a.key, &a.mask, XWK_FRAG_MF, XWK_FRAG_MF);
		set_flag(&b.key, &b.mask, XWK_FRAG_LATER, XWK_FRAG_LATER);
		return alts_push(out, &a) || alts_push(out, &b) ? -1 : 0;
	}
	}
}

/* One alternative per state: the packet has exactly one state bit. */
static int ct_alts(uint8_t states, struct alts *out)
{
	for (uint8_t bit = XW_CTB_NEW; bit <= XW_CTB_INVALID; bit <<= 1) {
		struct alt a;

		if (!(states & bit))
			continue;
		memset(&a, 0, sizeof(a));
		a.key.ct_state = bit;
		a.mask.ct_state = 0xff;
		if (alts_push(out, &a))
			return -1;
	}
	return 0;
}

/* Merge alternative b into (k, m).  Fields never overlap except the flag
 * bits, where both sides ask for set bits, so OR is exact. */
static void merge(struct xw_key *k, struct xw_key *m, const struct alt *b)
{
	uint8_t *kk = (uint8_t *)k, *mm = (uint8_t *)m;
	const uint8_t *bk = (const uint8_t *)&b->key, *bm = (const uint8_t *)&b->mask;

	for (size_t i = 0; i < sizeof(*k); i++) {
		kk[i] = (kk[i] & ~bm[i]) | (bk[i] & bm[i]);
		mm[i] |= bm[i];
	}
}

static int recs_push(struct recs *r, const struct rec *x)
{
	if (r->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 1024;
		struct rec *nv;

		if (nc > XW_MAX_ENTRIES)
			nc = XW_MAX_ENTRIES;
		if (r->n >= nc)
			return -1;
		nv = realloc(r->v, nc * sizeof(*nv));
		if (!nv)
			return -1;
		r->v = nv;
		r->cap = nc;
	}
	r->v[r->n++] = *x;
	return 0;
}

static void err_rule(struct xw_err *err, const struct xw_rule *r, const char *what)
{
	if (r->pos.line)
		snprintf(err->msg, sizeof(err->msg), "%s:%d:%d: rule %u: %s", r->pos.file,
			 r->pos.line, r->pos.col, r->prio, what);
	else
		snprintf(err->msg, sizeof(err->msg), "rule %u: %s", r->prio, what);
}

/* The fields a rule matches with one value, as the (key, mask) every
 * entry of the rule starts from.  0: the rule never matches. */
static int base_key(const struct xw_rule *r, uint32_t ifindex, struct xw_key *bk,
		    struct xw_key *bm)
{
	bk->dir = r->dir;
	bm->dir = 0xff;
	if (r->present & XM_IIF) {
		bk->ifindex = ifindex;
		bm->ifindex = 0xffffffffu;
	}
	if (r->present & XM_ETH_SRC) {
		memcpy(bk->eth_src, r->eth_src, 6);
		memset(bm->eth_src, 0xff, 6);
	}
	if (r->present & XM_ETH_DST) {
		memcpy(bk->eth_dst, r->eth_dst, 6);
		memset(bm->eth_dst, 0xff, 6);
	}
	/* `ip`, `ip6` and `ether type` all test the EtherType; two different
	 * values can never hold together: such a rule has no entries. */
	{
		uint16_t want[3];
		int nw = 0;

		if (r->present & XM_ETH_TYPE)
			want[nw++] = r->eth_type;
		if (r->present & XM_IP)
			want[nw++] = 0x0800;
		if (r->present & XM_IP6)
			want[nw++] = 0x86DD;
		for (int i = 1; i < nw; i++)
			if (want[i] != want[0])
				return 0;
		if (nw)
			set16(&bk->eth_type, &bm->eth_type, want[0], 0xffff);
	}
	if (r->present & XM_VLAN) {
		set_flag(bk, bm, XWK_VLAN, XWK_VLAN);
		set16(&bk->vlan, &bm->vlan, r->vlan, 0xffff);
	}
	if (r->present & XM_PROTO) {
		set_flag(bk, bm, XWK_L3, XWK_L3);
		bk->proto = r->proto;
		bm->proto = 0xff;
	}
	if (r->present & XM_TCPFLAGS) {
		set_flag(bk, bm, XWK_TCP, XWK_TCP);
		bk->tcp_flags = r->tcp_flags & r->tcp_mask;
		bm->tcp_flags = r->tcp_mask;
	}
	return 1;
}

/* The fields that take a list of values (or ranges, fragment forms, ct
 * states): one list of alternatives each, in f[0 .. *nf).  -1: out of
 * memory; 1: the rule never matches (ICMP and ICMPv6 at once). */
static int field_alternatives(const struct xw_rule *r, struct alts f[8], size_t *nf,
			      int as_range)
{
	int port_ranges = as_range && !(r->present & XM_LIMIT);

	if ((r->present & XM_SRC) && cidr_alts(r->src, r->n_src, 1, &f[(*nf)++]))
		return -1;
	if ((r->present & XM_DST) && cidr_alts(r->dst, r->n_dst, 0, &f[(*nf)++]))
		return -1;
	if ((r->present & XM_SPORT) &&
	    range_alts(r->sport, r->n_sport, 0, XWK_PORTS, &f[(*nf)++], port_ranges))
		return -1;
	if ((r->present & XM_DPORT) &&
	    range_alts(r->dport, r->n_dport, 1, XWK_PORTS, &f[(*nf)++], port_ranges))
		return -1;
	if (r->present & (XM_ICMP | XM_ICMP6)) {
		uint16_t fl = (r->present & XM_ICMP) ? XWK_ICMP : XWK_ICMP6;

		if ((r->present & XM_ICMP) && (r->present & XM_ICMP6))
			return 1; /* needs IPv4 and IPv6 at once: never matches */
		if (range_alts(r->icmp_type, r->n_icmp_type, 2, fl, &f[(*nf)++], 0))
			return -1;
		if (r->n_icmp_code &&
		    range_alts(r->icmp_code, r->n_icmp_code, 3, fl, &f[(*nf)++], 0))
			return -1;
	}
	if ((r->present & XM_FRAG) && frag_alts(r->frag, &f[(*nf)++]))
		return -1;
	if ((r->present & XM_CT) && ct_alts(r->ct, &f[(*nf)++]))
		return -1;
	return 0;
}

/* One record per combination of alternatives (an odometer over their
 * cross product), each the base key and value rec with the combination
 * merged in. */
static int expand_records(const struct xw_rule *r, struct rec *rec, const struct xw_key *bk,
			  const struct xw_key *bm, const struct alts *f, size_t nf,
			  struct recs *out, struct xw_err *err)
{
	size_t idx[8] = { 0 };

	for (;;) {
		size_t i = 0;

		rec->key = *bk;
		rec->mask = *bm;
		rec->sp_lo = rec->dp_lo = 0;
		rec->sp_hi = rec->dp_hi = 0xffff;
		for (size_t j = 0; j < nf; j++) {
			const struct alt *a = &f[j].v[idx[j]];

			merge(&rec->key, &rec->mask, a);
			if (a->has_sp) {
				rec->sp_lo = a->lo;
				rec->sp_hi = a->hi;
			}
			if (a->has_dp) {
				rec->dp_lo = a->lo;
				rec->dp_hi = a->hi;
			}
		}
		if (recs_push(out, rec)) {
			err_rule(err, r, "expands to too many map entries (lists or port ranges too large)");
			return -1;
		}
		while (i < nf && ++idx[i] == f[i].n)
			idx[i++] = 0;
		if (i == nf)
			return 0;
	}
}

static int compile_rule(const struct xw_rule *r, uint32_t slot, uint32_t ifindex,
			struct recs *out, struct recs *lim, struct xw_err *err, int as_range)
{
	struct alts f[8];
	size_t nf = 0;
	struct xw_key bk, bm;
	struct rec rec;
	int rc;

	memset(f, 0, sizeof(f));
	memset(&bk, 0, sizeof(bk));
	memset(&bm, 0, sizeof(bm));

	if (r->present & XM_LIMIT)
		out = lim;   /* checked in priority order, apart from the tuples */
	if (!base_key(r, ifindex, &bk, &bm))
		return 0;
	rc = field_alternatives(r, f, &nf, as_range);
	if (rc < 0) {
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		goto out;
	}
	if (rc > 0) {
		rc = 0;
		goto out;
	}
	/* an empty list of alternatives matches nothing: no records */
	for (size_t i = 0; i < nf; i++)
		if (!f[i].n || !f[i].v)
			goto out;
	memset(&rec, 0, sizeof(rec));
	rec.val.prio = r->prio;
	rec.val.slot = slot;
	rec.val.verdict = r->verdict;
	rec.val.flags = r->log ? XWF_LOG : 0;
	rc = expand_records(r, &rec, &bk, &bm, f, nf, out, err);
out:
	for (size_t i = 0; i < 8; i++)
		free(f[i].v);
	return rc;
}

void xw_ckey_make(const struct xw_tuple *t, uint32_t tuple_id, const struct xw_key *k,
		  struct xw_ckey *out)
{
	const uint64_t *kw = (const uint64_t *)k, *mw = (const uint64_t *)&t->mask;

	memset(out, 0, sizeof(*out));
	out->tuple = tuple_id;
	for (int j = 0; j < t->nw; j++)
		out->w[j] = kw[t->widx[j]] & mw[t->widx[j]];
}

/* Entries into the per-class arrays the datapath's maps are filled from. */
static int split_classes(struct xw_compiled *c)
{
	size_t at[XW_KEY_CLASSES] = { 0 };

	for (size_t i = 0; i < c->n_entries; i++)
		c->cls[c->tuples[c->keys[i].tuple].cls].n++;
	for (int k = 0; k < XW_KEY_CLASSES; k++) {
		c->cls[k].keys = calloc(c->cls[k].n ? c->cls[k].n : 1, xw_ckey_size(k));
		c->cls[k].vals = calloc(c->cls[k].n ? c->cls[k].n : 1, sizeof(struct xw_entry_val));
		if (!c->cls[k].keys || !c->cls[k].vals)
			return -1;
	}
	for (size_t i = 0; i < c->n_entries; i++) {
		const struct xw_tuple *t = &c->tuples[c->keys[i].tuple];
		struct xw_ckey ck;
		int k = t->cls;

		xw_ckey_make(t, c->keys[i].tuple, &c->keys[i].k, &ck);
		memcpy(c->cls[k].keys + at[k] * xw_ckey_size(k), &ck, xw_ckey_size(k));
		c->cls[k].vals[at[k]++] = c->vals[i];
	}
	return 0;
}

static int cmp_prio(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;

	return x->val.prio < y->val.prio ? -1 : x->val.prio > y->val.prio;
}

static const struct xw_rule *rule_by_prio(const struct xw_ruleset *rs, uint32_t prio)
{
	for (size_t i = 0; i < rs->n; i++)
		if (rs->rules[i].prio == prio)
			return &rs->rules[i];
	return NULL;
}

/* Limit entries in priority order with their token bucket parameters. */
static int compile_limits(const struct xw_ruleset *rs, struct recs *lv, struct xw_compiled *out,
			  struct xw_err *err)
{
	if (!lv->n)
		return 0;
	if (lv->n > XW_MAX_LIMIT_ENTRIES) {
		char what[200];

		snprintf(what, sizeof(what), "rules with 'limit' expand to %zu entries, at most %u are "
			 "supported (fewer limit rules or list values)", lv->n, XW_MAX_LIMIT_ENTRIES);
		qsort(lv->v, lv->n, sizeof(*lv->v), cmp_prio);
		{
			const struct xw_rule *r = rule_by_prio(rs, lv->v[XW_MAX_LIMIT_ENTRIES].val.prio);

			if (r)
				err_rule(err, r, what);
			else
				snprintf(err->msg, sizeof(err->msg), "%s", what);
		}
		return -1;
	}
	qsort(lv->v, lv->n, sizeof(*lv->v), cmp_prio);
	out->limits = calloc(lv->n, sizeof(*out->limits));
	if (!out->limits) {
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return -1;
	}
	for (size_t i = 0; i < lv->n; i++) {
		struct xw_limit_entry *e = &out->limits[i];
		const struct xw_rule *r = rule_by_prio(rs, lv->v[i].val.prio);
		uint64_t period = (uint64_t)(r && r->limit_period ? r->limit_period : 1) * 1000000000ull;
		uint32_t rate = r && r->limit_rate ? r->limit_rate : 1;
		uint32_t burst = r && r->limit_burst ? r->limit_burst : XW_LIMIT_DEFAULT_BURST;

		e->mask = lv->v[i].mask;
		e->key = lv->v[i].key;
		e->prio = lv->v[i].val.prio;
		e->slot = lv->v[i].val.slot;
		e->verdict = lv->v[i].val.verdict;
		e->flags = lv->v[i].val.flags;
		e->per_src = r ? r->limit_per_src : 0;
		e->cost_ns = period / rate ? period / rate : 1;
		e->cap_ns = e->cost_ns * burst;
	}
	out->n_limits = (uint32_t)lv->n;
	return 0;
}

static int cmp_mask(const void *a, const void *b)
{
	return memcmp(&((const struct rec *)a)->mask, &((const struct rec *)b)->mask,
		      sizeof(struct xw_key));
}

struct tinfo {
	struct xw_key mask;
	uint32_t min_prio;
	uint32_t old_id;
};

static int cmp_tinfo(const void *a, const void *b)
{
	const struct tinfo *x = a, *y = b;

	if (x->min_prio != y->min_prio)
		return x->min_prio < y->min_prio ? -1 : 1;
	return memcmp(&x->mask, &y->mask, sizeof(x->mask));
}

static int cmp_entry(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;
	int c;

	if (x->tuple != y->tuple)
		return x->tuple < y->tuple ? -1 : 1;
	c = memcmp(&x->key, &y->key, sizeof(x->key));
	if (c)
		return c;
	return x->val.prio < y->val.prio ? -1 : x->val.prio > y->val.prio;
}

static uint64_t mul_sat(uint64_t a, uint64_t b)
{
	return a && b > UINT64_MAX / a ? UINT64_MAX : a * b;
}

static uint64_t range_count(const struct xw_range *r, size_t n, int bits)
{
	uint32_t v[32], m[32];
	uint64_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += (uint64_t)xw_range_prefixes(r[i].lo, r[i].hi, bits, v, m);
	return c;
}

uint64_t xw_expansion_size(const struct xw_rule *r, char *how, size_t len)
{
	struct { const char *name; uint64_t n; } f[8];
	uint16_t et = 0;
	uint64_t total = 1;
	int nf = 0, ne = 0;
	size_t at = 0;

	/* EtherTypes that cannot hold together: no entries (compile_rule) */
	for (int i = 0; i < 3; i++) {
		static const uint32_t bit[3] = { XM_ETH_TYPE, XM_IP, XM_IP6 };
		uint16_t v = i == 0 ? r->eth_type : i == 1 ? 0x0800 : 0x86DD;

		if (!(r->present & bit[i]))
			continue;
		if (ne++ && v != et)
			return 0;
		et = v;
	}
	if ((r->present & XM_ICMP) && (r->present & XM_ICMP6))
		return 0;
	if (r->present & XM_SRC)
		f[nf].name = "src", f[nf++].n = r->n_src;
	if (r->present & XM_DST)
		f[nf].name = "dst", f[nf++].n = r->n_dst;
	if (r->present & XM_SPORT)
		f[nf].name = "sport", f[nf++].n = range_count(r->sport, r->n_sport, 16);
	if (r->present & XM_DPORT)
		f[nf].name = "dport", f[nf++].n = range_count(r->dport, r->n_dport, 16);
	if (r->present & (XM_ICMP | XM_ICMP6)) {
		f[nf].name = "type", f[nf++].n = range_count(r->icmp_type, r->n_icmp_type, 8);
		if (r->n_icmp_code)
			f[nf].name = "code", f[nf++].n = range_count(r->icmp_code, r->n_icmp_code, 8);
	}
	if (r->present & XM_FRAG)
		f[nf].name = "frag", f[nf++].n = r->frag == XW_FRAG_ANY ? 2 : 1;
	if (r->present & XM_CT)
		f[nf].name = "ct", f[nf++].n = (uint64_t)__builtin_popcount(r->ct & 0x0f);
	if (how && len)
		how[0] = 0;
	for (int i = 0; i < nf; i++) {
		total = mul_sat(total, f[i].n);
		if (how && at < len)
			at += (size_t)snprintf(how + at, len - at, "%s%llu %s", i ? " x " : "",
					       (unsigned long long)f[i].n, f[i].name);
	}
	return total;
}

/* Refuse, before allocating anything, a rule set whose rules expand to
 * more (mask, key) records than the compiler builds: each takes some
 * 150 bytes at its peak, so the cap keeps the compiler's memory bounded
 * whatever the input (the datapath holds no more entries anyway). */
static int check_expansion(const struct xw_ruleset *rs, struct xw_err *err)
{
	uint64_t sum = 0;
	char how[160];

	for (size_t i = 0; i < rs->n; i++) {
		const struct xw_rule *r = &rs->rules[i];
		uint64_t n = xw_expansion_size(r, how, sizeof(how));
		char what[400];

		if (n > XW_MAX_EXPANSION) {
			char fig[32];

			if (n == UINT64_MAX)   /* saturated */
				snprintf(fig, sizeof(fig), "more than 2^64");
			else
				snprintf(fig, sizeof(fig), "%llu", (unsigned long long)n);
			snprintf(what, sizeof(what), "expands to %s map entries (%s), more than the "
				 "%u a rule set may compile to: split it, or use fewer list values or "
				 "narrower port ranges", fig, how, XW_MAX_EXPANSION);
			err_rule(err, r, what);
			return -1;
		}
		sum += n;
		if (sum > XW_MAX_EXPANSION) {
			snprintf(what, sizeof(what), "the rules up to this one expand to %llu map entries, "
				 "more than the %u a rule set may compile to",
				 (unsigned long long)sum, XW_MAX_EXPANSION);
			err_rule(err, r, what);
			return -1;
		}
	}
	return 0;
}

/* Group the records with equal masks into tuples (ti[0 .. *nt), in order
 * of first appearance after sorting by mask); each record gets its
 * tuple's index. */
static int group_tuples(struct recs *rv, struct tinfo **ti, uint32_t *nt)
{
	uint32_t ti_cap = 0;

	if (rv->n)
		qsort(rv->v, rv->n, sizeof(*rv->v), cmp_mask);
	for (size_t i = 0; i < rv->n; i++) {
		if (i == 0 || memcmp(&rv->v[i].mask, &rv->v[i - 1].mask, sizeof(struct xw_key))) {
			if (*nt == ti_cap) {   /* doubling: one realloc per tuple was quadratic */
				uint32_t nc = ti_cap ? 2 * ti_cap : 64;
				struct tinfo *nti = realloc(*ti, (size_t)nc * sizeof(**ti));

				if (!nti)
					return -1;
				*ti = nti;
				ti_cap = nc;
			}
			(*ti)[*nt].mask = rv->v[i].mask;
			(*ti)[*nt].min_prio = rv->v[i].val.prio;
			(*ti)[*nt].old_id = *nt;
			(*nt)++;
		}
		rv->v[i].tuple = *nt - 1;
		if (rv->v[i].val.prio < (*ti)[*nt - 1].min_prio)
			(*ti)[*nt - 1].min_prio = rv->v[i].val.prio;
	}
	return 0;
}

/* The bits all entries of a tuple agree on (cmask, cval): start from the
 * first entry's key and clear every bit where a later entry differs.
 * rank: tuple index -> its place in out->tuples; seen: a byte per tuple. */
static void tuple_common_bits(struct xw_compiled *out, const struct recs *rv,
			      const uint32_t *rank, uint8_t *seen)
{
	for (size_t i = 0; i < rv->n; i++) {
		struct xw_tuple *t = &out->tuples[rank[rv->v[i].tuple]];
		uint8_t *cm = (uint8_t *)&t->cmask, *cv = (uint8_t *)&t->cval;
		const uint8_t *k = (const uint8_t *)&rv->v[i].key, *m = (const uint8_t *)&t->mask;

		if (!seen[rv->v[i].tuple]) {
			seen[rv->v[i].tuple] = 1;
			memcpy(cm, m, sizeof(struct xw_key));
			memcpy(cv, k, sizeof(struct xw_key));
			continue;
		}
		for (size_t b = 0; b < sizeof(struct xw_key); b++) {
			cm[b] &= (uint8_t)~(cv[b] ^ k[b]);
			cv[b] &= cm[b];
		}
	}
}

/* Words with common bits are checked before the lookup; words where
 * entries differ form the hash key, whose size decides the class. */
static void tuple_words(struct xw_tuple *t)
{
	const uint64_t *m = (const uint64_t *)&t->mask, *cm = (const uint64_t *)&t->cmask;
	const uint64_t *cv = (const uint64_t *)&t->cval;

	for (unsigned w = 0; w < XW_KEY_WORDS; w++) {
		if (cm[w]) {
			t->cmw[t->nc] = cm[w];
			t->cvw[t->nc] = cv[w];
			t->cidx[t->nc++] = w;
		}
		if (m[w] & ~cm[w]) {
			t->kmask[t->nw] = m[w];
			t->widx[t->nw++] = w;
		}
	}
	t->cls = 0;
	while (t->nw > XW_CLASS_WORDS(t->cls))
		t->cls++;
}

/* One entry per (tuple, key): the lowest priority wins (first match). */
static int unique_entries(struct xw_compiled *out, struct recs *rv)
{
	size_t ne = 0;

	if (rv->n)
		qsort(rv->v, rv->n, sizeof(*rv->v), cmp_entry);
	out->keys = calloc(rv->n ? rv->n : 1, sizeof(*out->keys));
	out->vals = calloc(rv->n ? rv->n : 1, sizeof(*out->vals));
	if (!out->keys || !out->vals)
		return -1;
	for (size_t i = 0; i < rv->n; i++) {
		if (ne && rv->v[i].tuple == out->keys[ne - 1].tuple &&
		    !memcmp(&rv->v[i].key, &out->keys[ne - 1].k, sizeof(struct xw_key)))
			continue;
		out->keys[ne].tuple = rv->v[i].tuple;
		out->keys[ne].k = rv->v[i].key;
		out->vals[ne] = rv->v[i].val;
		ne++;
	}
	out->n_entries = ne;
	return 0;
}

int xw_compile(const struct xw_ruleset *rs, const uint32_t *slot,
	       const uint32_t *ifindex, struct xw_compiled *out, struct xw_err *err)
{
	struct recs rv = { 0 }, lv = { 0 };
	struct tinfo *ti = NULL;
	uint32_t nt = 0, *rank = NULL;
	uint8_t *seen = NULL;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (check_expansion(rs, err))
		return -1;
	for (i = 0; i < rs->n; i++)
		if (rs->rules[i].present & XM_CT)
			out->uses_ct = 1;
	for (i = 0; i < rs->n; i++)
		if (compile_rule(&rs->rules[i], slot[i], ifindex ? ifindex[i] : 0, &rv, &lv, err, 0))
			goto fail;
	if (compile_limits(rs, &lv, out, err))
		goto fail;
	if (group_tuples(&rv, &ti, &nt))
		goto oom;
	/* best priority first, so the datapath can stop early */
	if (nt)
		qsort(ti, nt, sizeof(*ti), cmp_tinfo);
	rank = calloc(nt + 1, sizeof(*rank));
	seen = calloc(nt + 1, 1);
	out->tuples = calloc(nt + 1, sizeof(*out->tuples));
	if (!rank || !seen || !out->tuples)
		goto oom;
	for (i = 0; i < nt; i++) {
		rank[ti[i].old_id] = i;
		out->tuples[i].mask = ti[i].mask;
		out->tuples[i].min_prio = ti[i].min_prio;
	}
	tuple_common_bits(out, &rv, rank, seen);
	for (i = 0; i < nt; i++)
		tuple_words(&out->tuples[i]);
	out->tuples[nt].min_prio = XW_PRIO_NONE;
	out->tuples[nt].policy[XW_DIR_IN] = rs->policy[XW_DIR_IN];
	out->tuples[nt].policy[XW_DIR_OUT] = rs->policy[XW_DIR_OUT];
	out->n_tuples = nt;
	for (i = 0; i < rv.n; i++)
		rv.v[i].tuple = rank[rv.v[i].tuple];
	if (unique_entries(out, &rv) || split_classes(out) || xw_bloom_build(out))
		goto oom;
	free(rv.v);
	free(lv.v);
	free(ti);
	free(rank);
	free(seen);
	return 0;
oom:
	snprintf(err->msg, sizeof(err->msg), "out of memory");
fail:
	free(rv.v);
	free(lv.v);
	free(ti);
	free(rank);
	free(seen);
	xw_compiled_free(out);
	return -1;
}

void xw_compiled_free(struct xw_compiled *c)
{
	for (int k = 0; k < XW_KEY_CLASSES; k++) {
		free(c->cls[k].keys);
		free(c->cls[k].vals);
	}
	free(c->limits);
	free(c->bloom);
	free(c->tuples);
	free(c->keys);
	free(c->vals);
	memset(c, 0, sizeof(*c));
}

static int cmp_rent(const void *a, const void *b)
{
	const struct xw_rent *x = a, *y = b;
	int c = memcmp(x->m, y->m, sizeof(x->m));

	if (c)
		return c;
	c = memcmp(x->v, y->v, sizeof(x->v));
	if (c)
		return c;
	c = memcmp(&x->sp_lo, &y->sp_lo, 4 * sizeof(uint16_t));
	if (c)
		return c;
	return x->prio < y->prio ? -1 : x->prio > y->prio;
}

static int cmp_rent_prio(const void *a, const void *b)
{
	const struct xw_rent *x = a, *y = b;

	if (x->prio != y->prio)
		return x->prio < y->prio ? -1 : 1;
	return memcmp(x->m, y->m, sizeof(x->m) + sizeof(x->v) + 4 * sizeof(uint16_t));
}

#define RENT_MATCH_BYTES (sizeof(((struct xw_rent *)0)->m) + sizeof(((struct xw_rent *)0)->v) + 8)

static uint64_t rent_hash(const struct xw_rent *e)
{
	const uint8_t *p = (const uint8_t *)e->m;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < RENT_MATCH_BYTES; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h ^ (h >> 29);
}

/* Entry e of another rule than the last one in d: append it (dropped
 * duplicates of one rule's own entries are not kept: the rule keeps one). */
static int dups_push(struct xw_tcompiled *d, const struct xw_rent *e, const struct xw_rent *kept)
{
	if (e->prio == kept->prio)
		return 0;
	if ((d->n_dups & (d->n_dups - 1)) == 0) {   /* 0, 1, 2, 4, ...: grow */
		struct xw_rent *nv = realloc(d->dups, (d->n_dups ? 2 * (size_t)d->n_dups : 1) *
					      sizeof(*nv));

		if (!nv)
			return -1;
		d->dups = nv;
	}
	d->dups[d->n_dups++] = *e;
	return 0;
}

/* The entries come in rule order, i.e. by priority: sort each run of one
 * priority (one rule's entries) by match, keep the first entry of every
 * match (mask, value, ports), which has the best priority; the others go
 * to d's dups.  The result is what sorting by match, keeping the best of
 * each and sorting by cmp_rent_prio gives, without two sorts of 100k
 * 152-byte entries.  Returns the count, or SIZE_MAX (nothing changed) if
 * the entries are out of priority order or memory is short. */
static size_t dedup_in_prio_order(struct xw_rent *re, size_t n, struct xw_tcompiled *d)
{
	size_t size = 16, k = 0;
	uint32_t *tab;

	for (size_t i = 1; i < n; i++)
		if (re[i].prio < re[i - 1].prio)
			return SIZE_MAX;
	while (size < 2 * n)
		size *= 2;
	tab = calloc(size, sizeof(*tab));    /* kept index + 1, 0 empty */
	if (!tab)
		return SIZE_MAX;
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && re[j].prio == re[i].prio; j++)
			;
		if (j - i > 1)
			qsort(re + i, j - i, sizeof(*re), cmp_rent_prio);
	}
	for (size_t i = 0; i < n; i++) {
		size_t h = (size_t)rent_hash(&re[i]) & (size - 1);
		int dup = 0;

		for (; tab[h]; h = (h + 1) & (size - 1)) {
			if (!memcmp(re[tab[h] - 1].m, re[i].m, RENT_MATCH_BYTES)) {
				dup = 1;
				break;
			}
		}
		if (dup && dups_push(d, &re[i], &re[tab[h] - 1])) {
			free(tab);
			d->n_dups = 0;
			return SIZE_MAX;
		}
		if (dup)
			continue;
		re[k] = re[i];
		tab[h] = (uint32_t)k + 1;
		k++;
	}
	free(tab);
	return k;
}

int xw_compile_tree(const struct xw_ruleset *rs, const uint32_t *slot,
		    const uint32_t *ifindex, struct xw_tcompiled *out, struct xw_err *err)
{
	struct recs rv = { 0 }, lv = { 0 };
	struct xw_compiled lim;
	struct xw_rent *re = NULL;
	size_t i, n = 0;

	memset(out, 0, sizeof(*out));
	memset(&lim, 0, sizeof(lim));
	/* the tuple form's expansion bounds this one's (ranges stay whole
	 * here): refuse a huge cross product before allocating it */
	if (check_expansion(rs, err))
		return -1;
	for (i = 0; i < rs->n; i++)
		if (rs->rules[i].present & XM_CT)
			out->uses_ct = 1;
	for (i = 0; i < rs->n; i++)
		if (compile_rule(&rs->rules[i], slot[i], ifindex ? ifindex[i] : 0, &rv, &lv, err, 1))
			goto fail;
	if (compile_limits(rs, &lv, &lim, err))
		goto fail;
	out->n_limits = lim.n_limits;
	out->limits = lim.limits;
	lim.limits = NULL;
	re = calloc(rv.n ? rv.n : 1, sizeof(*re));
	out->tree = calloc(1, sizeof(*out->tree));
	if (!re || !out->tree)
		goto oom;
	for (i = 0; i < rv.n; i++) {
		struct xw_rent *e = &re[i];

		memcpy(e->m, &rv.v[i].mask, sizeof(e->m));
		memcpy(e->v, &rv.v[i].key, sizeof(e->v));
		for (unsigned w = 0; w < XW_KEY_WORDS; w++)
			e->v[w] &= e->m[w];
		e->sp_lo = rv.v[i].sp_lo;
		e->sp_hi = rv.v[i].sp_hi;
		e->dp_lo = rv.v[i].dp_lo;
		e->dp_hi = rv.v[i].dp_hi;
		e->prio = rv.v[i].val.prio;
		e->slot = rv.v[i].val.slot;
		e->verdict = rv.v[i].val.verdict;
		e->flags = rv.v[i].val.flags;
	}
	/* equal matches: only the best priority can ever decide */
	n = rv.n ? dedup_in_prio_order(re, rv.n, out) : 0;
	if (n == SIZE_MAX) {
		n = 0;
		qsort(re, rv.n, sizeof(*re), cmp_rent);
		for (i = 0; i < rv.n; i++) {
			if (n && !memcmp(re[i].m, re[n - 1].m, RENT_MATCH_BYTES)) {
				if (dups_push(out, &re[i], &re[n - 1]))
					goto oom;
				continue;
			}
			re[n++] = re[i];
		}
		if (n)
			qsort(re, n, sizeof(*re), cmp_rent_prio);
	}
	if (xw_tree_build(re, (uint32_t)n, out->tree, err->msg, sizeof(err->msg)))
		goto fail;
	re = NULL;   /* owned by the tree */
	out->tree->head.ed.n_dups = out->n_dups;
	out->tree->head.policy[XW_DIR_IN] = rs->policy[XW_DIR_IN];
	out->tree->head.policy[XW_DIR_OUT] = rs->policy[XW_DIR_OUT];
	free(rv.v);
	free(lv.v);
	return 0;
oom:
	snprintf(err->msg, sizeof(err->msg), "out of memory");
fail:
	free(re);
	free(rv.v);
	free(lv.v);
	xw_tcompiled_free(out);
	return -1;
}

void xw_tcompiled_free(struct xw_tcompiled *c)
{
	if (c->tree) {
		xw_ctree_free(c->tree);
		free(c->tree);
	}
	free(c->dups);
	free(c->limits);
	memset(c, 0, sizeof(*c));
}
