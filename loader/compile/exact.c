// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Rule entries -> the exact tier.  An entry's exact mask is its mask over
 * the key plus the port fields where its range is one port; an entry whose
 * ranges are each one port or all ports matches a packet iff the packet's
 * key under that mask equals the entry's value, which a hash answers in one
 * probe whatever the number of entries.  Entries with the same exact mask
 * form a shape; which shapes are taken (at most XW_MAX_XSHAPES) is
 * exact.h's rule, and the other entries go to the trees.
 * docs/classifier.md has the measurements. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "exact.h"

#define NLANES (sizeof(struct xw_key) / 4)

enum xw_exact_mode xw_exact_mode(void)
{
	const char *e = getenv("XW_EXACT");

	if (e && !strcmp(e, "all"))
		return XW_EXACT_ALL;
	if (e && !strcmp(e, "off"))
		return XW_EXACT_OFF;
	return XW_EXACT_AUTO;
}

static uint32_t lane_of(const void *bytes, unsigned l)
{
	uint32_t w;

	memcpy(&w, (const uint8_t *)bytes + 4 * l, 4);
	return w;
}

/* Entry e's exact mask and value as lanes; 0 if a port range is neither
 * one port nor all ports, or is one port of a port field the mask also
 * tests (then the range and the mask together are not one equality; the
 * compiler makes no such entry, rules with `limit` are not rule entries). */
static int exact_form(const struct xw_rent *e, uint32_t m[NLANES], uint32_t v[NLANES])
{
	uint8_t mb[sizeof(struct xw_key)], vb[sizeof(struct xw_key)];
	const uint16_t ones = 0xffff;
	uint16_t ms, md;

	memcpy(mb, e->m, sizeof(mb));
	memcpy(vb, e->v, sizeof(vb));
	memcpy(&ms, mb + offsetof(struct xw_key, sport), 2);
	memcpy(&md, mb + offsetof(struct xw_key, dport), 2);
	if ((ms && e->sp_lo == e->sp_hi) || (md && e->dp_lo == e->dp_hi))
		return 0;
	if (e->sp_lo == e->sp_hi) {
		memcpy(mb + offsetof(struct xw_key, sport), &ones, 2);
		memcpy(vb + offsetof(struct xw_key, sport), &e->sp_lo, 2);
	} else if (e->sp_lo != 0 || e->sp_hi != 0xffff) {
		return 0;
	}
	if (e->dp_lo == e->dp_hi) {
		memcpy(mb + offsetof(struct xw_key, dport), &ones, 2);
		memcpy(vb + offsetof(struct xw_key, dport), &e->dp_lo, 2);
	} else if (e->dp_lo != 0 || e->dp_hi != 0xffff) {
		return 0;
	}
	for (unsigned l = 0; l < NLANES; l++) {
		m[l] = lane_of(mb, l);
		v[l] = lane_of(vb, l) & m[l];
	}
	return 1;
}

/* The lanes of shape s's key as the datapath reads them: a one-lane shape
 * probes a 4-byte key (lane 0), the others 16 bytes (all four). */
static unsigned key_lanes(const struct xw_xshape *s)
{
	return s->nk == 1 ? 1 : XW_XLANES;
}

/* Lane index of byte offset off, as the datapath bounds it. */
static unsigned lane_at(uint8_t off)
{
	return (off & 60) / 4;
}

/* The exact mask shape s stands for, as the datapath applies it: all four
 * check lanes (unused ones have mask 0) and the key lanes it reads. */
static void shape_mask(const struct xw_xshape *s, uint32_t m[NLANES])
{
	memset(m, 0, NLANES * sizeof(*m));
	for (unsigned j = 0; j < XW_XLANES; j++)
		m[lane_at(s->coff[j])] |= s->cm[j];
	for (unsigned j = 0; j < key_lanes(s); j++)
		m[lane_at(s->koff[j])] |= s->kmask[j];
}

int xw_exact_entry_key(const struct xw_xshape *s, unsigned j, const struct xw_rent *e,
		       struct xw_xkey *out)
{
	uint32_t m[NLANES], v[NLANES], sm[NLANES];

	if (!exact_form(e, m, v))
		return 0;
	shape_mask(s, sm);
	if (memcmp(m, sm, sizeof(m)))
		return 0;
	for (unsigned l = 0; l < XW_XLANES; l++)
		if ((v[lane_at(s->coff[l])] & s->cm[l]) != s->cv[l])
			return 0;
	memset(out, 0, sizeof(*out));
	out->shape = j;
	for (unsigned l = 0; l < key_lanes(s); l++)
		out->lane[l] = v[lane_at(s->koff[l])] & s->kmask[l];
	return 1;
}

int xw_exact_key(const struct xw_xshape *s, unsigned j, const struct xw_key *k,
		 struct xw_xkey *out)
{
	for (unsigned l = 0; l < XW_XLANES; l++)
		if ((lane_of(k, lane_at(s->coff[l])) & s->cm[l]) != s->cv[l])
			return 0;
	memset(out, 0, sizeof(*out));
	out->shape = j;
	for (unsigned l = 0; l < key_lanes(s); l++)
		out->lane[l] = lane_of(k, lane_at(s->koff[l])) & s->kmask[l];
	return 1;
}

static int cmp_xkey(const void *a, const void *b)
{
	const struct xw_xkey *x = a, *y = b;

	if (x->shape != y->shape)
		return x->shape < y->shape ? -1 : 1;
	for (unsigned l = 0; l < XW_XLANES; l++)
		if (x->lane[l] != y->lane[l])
			return x->lane[l] < y->lane[l] ? -1 : 1;
	return 0;
}

int64_t xw_exact_find(const struct xw_cexact *x, const struct xw_xkey *key)
{
	const struct xw_xkey *k;

	if (!x->n)
		return -1;
	k = bsearch(key, x->keys, x->n, sizeof(*key), cmp_xkey);
	return k ? (int64_t)x->rids[k - x->keys] : -1;
}

/* ---- choosing the shapes ---- */

struct cand {
	uint32_t m[NLANES];   /* the entry's exact mask */
	uint32_t i;           /* entry index */
};

/* by exact mask, then by entry (priority order) */
static int cmp_cand(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	int c = memcmp(x->m, y->m, sizeof(x->m));

	if (c)
		return c;
	return x->i < y->i ? -1 : x->i > y->i;
}

struct run {
	uint32_t at, n;       /* candidates [at, at + n) share an exact mask */
	struct xw_xshape s;
};

static int cmp_run_size(const void *a, const void *b)
{
	const struct run *x = a, *y = b;

	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return x->at < y->at ? -1 : x->at > y->at;
}

/* The shape of the run of candidates c[0..n): check lanes where all its
 * entries agree, key lanes where some differ.  0 if it needs more lanes
 * than XW_XLANES of either kind. */
static int make_shape(const struct xw_rent *rents, const struct cand *c, uint32_t n,
		      struct xw_xshape *s)
{
	uint32_t m[NLANES], v0[NLANES], v[NLANES], dif[NLANES] = { 0 };
	unsigned lk[NLANES] = { 0 }, lc[NLANES] = { 0 }, nk = 0, ncl = 0;

	memset(s, 0, sizeof(*s));
	exact_form(&rents[c[0].i], m, v0);
	for (uint32_t k = 1; k < n; k++) {
		exact_form(&rents[c[k].i], m, v);
		for (unsigned l = 0; l < NLANES; l++)
			dif[l] |= v[l] ^ v0[l];
	}
	/* a lane where entries differ is a key lane under its whole mask (the
	 * bits they agree on there cost nothing more in the key); the others
	 * are check lanes, but past XW_XLANES of them (one IPv6 address) or
	 * when no lane differs (one entry) the last ones are keyed too */
	for (unsigned l = 0; l < NLANES; l++) {
		if (!m[l])
			continue;
		if (m[l] & dif[l])
			lk[nk++] = l;
		else
			lc[ncl++] = l;
	}
	while (ncl && (ncl > XW_XLANES || !nk)) {
		unsigned l = lc[--ncl], p = nk++;

		for (; p > 0 && lk[p - 1] > l; p--)
			lk[p] = lk[p - 1];
		lk[p] = l;
	}
	if (!nk || nk > XW_XLANES || ncl > XW_XLANES)
		return 0;   /* no mask (matches every packet: a tree does that best) or too wide */
	for (unsigned i = 0; i < nk; i++) {
		s->koff[i] = (uint8_t)(4 * lk[i]);
		s->kmask[i] = m[lk[i]];
	}
	for (unsigned i = 0; i < ncl; i++) {
		s->coff[i] = (uint8_t)(4 * lc[i]);
		s->cm[i] = m[lc[i]];
		s->cv[i] = v0[lc[i]];
	}
	s->nk = (uint8_t)nk;
	s->nc = (uint8_t)ncl;
	s->n = n;
	s->min_prio = rents[c[0].i].prio;   /* the candidates are in priority order */
	return 1;
}

struct kv {
	struct xw_xkey k;
	uint32_t rid;
};

static int cmp_kv(const void *a, const void *b)
{
	const struct kv *x = a, *y = b;
	int c = cmp_xkey(&x->k, &y->k);

	if (c)
		return c;
	return x->rid < y->rid ? -1 : x->rid > y->rid;
}

/* Keys and entry indices of the chosen runs r[0..x->n_shapes), sorted. */
static int take_keys(const struct xw_rent *rents, const struct cand *c, const struct run *r,
		     struct xw_cexact *x, uint8_t *in_x)
{
	uint32_t n = 0, m = 0;
	struct kv *kv;

	for (uint32_t j = 0; j < x->n_shapes; j++)
		n += r[j].n;
	kv = malloc((n ? n : 1) * sizeof(*kv));
	x->keys = malloc((n ? n : 1) * sizeof(*x->keys));
	x->rids = malloc((n ? n : 1) * sizeof(*x->rids));
	if (!kv || !x->keys || !x->rids) {
		free(kv);
		return -1;
	}
	for (uint32_t j = 0; j < x->n_shapes; j++)
		for (uint32_t k = 0; k < r[j].n; k++) {
			uint32_t i = c[r[j].at + k].i;

			if (!xw_exact_entry_key(&x->shapes[j], j, &rents[i], &kv[m].k))
				continue;   /* cannot happen: the shape is made from them */
			kv[m++].rid = i;
			in_x[i] = 1;
		}
	/* equal keys (equal entries, which the compiler removed already)
	 * would keep the best priority: the lowest index */
	qsort(kv, m, sizeof(*kv), cmp_kv);
	for (uint32_t k = 0; k < m; k++) {
		if (x->n && !cmp_xkey(&x->keys[x->n - 1], &kv[k].k))
			continue;
		x->keys[x->n] = kv[k].k;
		x->rids[x->n++] = kv[k].rid;
	}
	free(kv);
	return 0;
}

/* The bits of key flags f in its lane, and that lane. */
static uint32_t flag_bits(uint16_t f, unsigned *lane)
{
	struct xw_key k;

	memset(&k, 0, sizeof(k));
	k.flags = f;
	*lane = offsetof(struct xw_key, flags) / 4;
	return lane_of(&k, *lane);
}

/* Does shape a require all of the bits `bits` of lane l set? */
static int requires(const struct xw_xshape *a, unsigned l, uint32_t bits)
{
	for (unsigned i = 0; i < XW_XLANES; i++)
		if (lane_at(a->coff[i]) == l && (a->cm[i] & a->cv[i] & bits) == bits)
			return 1;
	return 0;
}

/* Can one packet pass the checks of both shapes?  Not if they test the
 * same bits of a lane for different values (TCP and UDP, in and out), nor
 * if one requires an IPv4 header and the other an IPv6 one (two flags no
 * packet has at once). */
static int compatible(const struct xw_xshape *a, const struct xw_xshape *b)
{
	unsigned fl;
	uint32_t v4 = flag_bits(XWK_V4, &fl), v6 = flag_bits(XWK_V6, &fl);

	for (unsigned i = 0; i < XW_XLANES; i++)
		for (unsigned j = 0; j < XW_XLANES; j++)
			if (lane_at(a->coff[i]) == lane_at(b->coff[j]) &&
			    (a->cm[i] & b->cm[j] & (a->cv[i] ^ b->cv[j])))
				return 0;
	if ((requires(a, fl, v4) && requires(b, fl, v6)) || (requires(a, fl, v6) && requires(b, fl, v4)))
		return 0;
	return 1;
}

/* The most of the shapes s[0..k) one packet can pass the checks of. */
static unsigned most_of(const struct xw_xshape *const *s, unsigned k)
{
	unsigned best = 0;

	for (unsigned sub = 1; sub < (1u << k); sub++) {
		unsigned cnt = 0, ok = 1;

		for (unsigned a = 0; a < k && ok; a++) {
			if (!(sub >> a & 1))
				continue;
			cnt++;
			for (unsigned b = a + 1; b < k && ok; b++)
				if ((sub >> b & 1) && !compatible(s[a], s[b]))
					ok = 0;
		}
		if (ok && cnt > best)
			best = cnt;
	}
	return best;
}

static unsigned most_probes(const struct run *r, const uint32_t *idx, unsigned k)
{
	const struct xw_xshape *s[XW_MAX_XSHAPES];

	for (unsigned a = 0; a < k && a < XW_MAX_XSHAPES; a++)
		s[a] = &r[idx[a]].s;
	return most_of(s, k < XW_MAX_XSHAPES ? k : XW_MAX_XSHAPES);
}

uint32_t xw_exact_probes_max(const struct xw_xshape *x, uint32_t n)
{
	const struct xw_xshape *s[XW_MAX_XSHAPES];

	if (n > XW_MAX_XSHAPES)
		n = XW_MAX_XSHAPES;
	for (uint32_t a = 0; a < n; a++)
		s[a] = &x[a];
	return most_of(s, n);
}

/* AUTO: keep the runs of the groups whose every entry they hold (see
 * exact.h), largest groups first, within XW_MAX_XSHAPES; returns the count
 * kept, moved to the front of r. */
static uint32_t pick_groups(const uint8_t *group, uint32_t n,
			    const struct cand *c, struct run *r, uint32_t nr)
{
	uint32_t ng[8] = { 0 }, cov[8] = { 0 }, idx[8][XW_MAX_XSHAPES], order[8], kept = 0;
	unsigned ns[8] = { 0 }, no = 0;

	for (uint32_t i = 0; i < n; i++)
		ng[group[i] & 7]++;
	for (uint32_t k = 0; k < nr; k++) {
		unsigned g = group[c[r[k].at].i] & 7;

		cov[g] += r[k].n;
		if (ns[g] < XW_MAX_XSHAPES)
			idx[g][ns[g]] = k;
		ns[g]++;
	}
	for (unsigned g = 0; g < 8; g++)
		if (ng[g] && cov[g] == ng[g] && ns[g] <= XW_MAX_XSHAPES &&
		    most_probes(r, idx[g], ns[g]) <= 1)
			order[no++] = g;
	for (unsigned i = 1; i < no; i++)
		for (unsigned j = i; j > 0 && ng[order[j]] > ng[order[j - 1]]; j--) {
			unsigned t = order[j];

			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	{
		struct run tmp[XW_MAX_XSHAPES] = { { 0 } };

		for (unsigned q = 0; q < no; q++) {
			unsigned g = order[q];

			if (kept + ns[g] > XW_MAX_XSHAPES)
				continue;
			for (unsigned k = 0; k < ns[g]; k++)
				tmp[kept++] = r[idx[g][k]];
		}
		memcpy(r, tmp, kept * sizeof(*r));
	}
	return kept;
}

int xw_exact_split(const struct xw_rent *rents, const uint8_t *group, uint32_t n,
		   enum xw_exact_mode mode, struct xw_cexact *x, uint8_t *in_x)
{
	struct cand *c = malloc((n ? n : 1) * sizeof(*c));
	struct run *r = malloc((n ? n : 1) * sizeof(*r));
	uint32_t nc = 0, nr = 0, v[NLANES];
	int rc = -1;

	memset(x, 0, sizeof(*x));
	if (!c || !r)
		goto out;
	if (mode == XW_EXACT_OFF) {
		rc = 0;
		goto out;
	}
	for (uint32_t i = 0; i < n; i++)
		if (exact_form(&rents[i], c[nc].m, v))
			c[nc++].i = i;
	qsort(c, nc, sizeof(*c), cmp_cand);
	for (uint32_t i = 0; i < nc;) {
		uint32_t j = i + 1;

		while (j < nc && !memcmp(c[i].m, c[j].m, sizeof(c[i].m)))
			j++;
		if (make_shape(rents, c + i, j - i, &r[nr].s)) {
			r[nr].at = i;
			r[nr++].n = j - i;
		}
		i = j;
	}
	if (mode == XW_EXACT_AUTO) {
		nr = pick_groups(group, n, c, r, nr);
	} else {
		/* ALL: the largest shapes */
		qsort(r, nr, sizeof(*r), cmp_run_size);
		if (nr > XW_MAX_XSHAPES)
			nr = XW_MAX_XSHAPES;
	}
	/* in the order of their best entry */
	for (uint32_t i = 1; i < nr; i++)
		for (uint32_t j = i; j > 0 && r[j].s.min_prio < r[j - 1].s.min_prio; j--) {
			struct run t = r[j];

			r[j] = r[j - 1];
			r[j - 1] = t;
		}
	x->n_shapes = nr;
	for (uint32_t j = 0; j < nr; j++)
		x->shapes[j] = r[j].s;
	rc = take_keys(rents, c, r, x, in_x);
out:
	free(c);
	free(r);
	if (rc)
		xw_cexact_free(x);
	return rc;
}

void xw_cexact_free(struct xw_cexact *x)
{
	free(x->keys);
	free(x->rids);
	memset(x, 0, sizeof(*x));
}
