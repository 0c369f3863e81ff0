// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Rule entries -> decision trees (HiCuts-style equal-size cuts on the
 * remaining top bits of one field per node, EffiCuts/CutSplit-style
 * partition of the entries by which address fields are specific, so that
 * wildcards in one field do not replicate the rules that are specific in
 * it).  The cut at a node is chosen by measuring every field and width:
 * the one whose largest child is smallest, within a replication budget.
 * A node's children are a contiguous block of nodes, so the datapath
 * computes the child's index from the packet bits and reads it from an
 * array map.  docs/classifier.md has the measurements behind the choice. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "tree.h"

#define KOFF(f) offsetof(struct xw_key, f)

/* Fields a node may cut: offset, width in bits, first useful bit, byte
 * order, and which port range (1 sport, 2 dport) stands for the field. */
struct dim {
	uint8_t off, bits, start, flags, port;
};

static const struct dim dims[] = {
	{ KOFF(src), 128, 0, 0, 0 },
	{ KOFF(dst), 128, 0, 0, 0 },
	{ KOFF(sport), 16, 0, XW_NODE_LE16, 1 },
	{ KOFF(dport), 16, 0, XW_NODE_LE16, 2 },
	{ KOFF(proto), 8, 0, 0, 0 },
	{ KOFF(dir), 8, 7, 0, 0 },
	{ KOFF(tcp_flags), 8, 0, 0, 0 },
	{ KOFF(ct_state), 8, 4, 0, 0 },
	{ KOFF(icmp_type), 8, 0, 0, 0 },
	{ KOFF(icmp_code), 8, 0, 0, 0 },
	{ KOFF(eth_type), 16, 0, XW_NODE_LE16, 0 },
	{ KOFF(vlan), 16, 4, XW_NODE_LE16, 0 },
	{ KOFF(flags), 16, 6, XW_NODE_LE16, 0 },
	{ KOFF(ifindex), 16, 0, XW_NODE_LE16, 0 },
	{ KOFF(eth_src), 48, 0, 0, 0 },
	{ KOFF(eth_dst), 48, 0, 0, 0 },
};
#define NDIM (sizeof(dims) / sizeof(dims[0]))

/* Measured on the nine ClassBench sets (tests/bench/cbmodel, docs/classifier.md):
 * leaves of 4 and a replication factor of 8 halve the entries read per
 * packet on the sets with long leaves (ipc1_10k 18 -> 9) for 1.5-6x the
 * leaf slots of 8 / 4 (acl1_10k 91k -> 175k slots, well within XW_MAX_LIDS). */
#define LEAF_TARGET 4u       /* a node with at most this many entries is a leaf */
#define SPFAC       8u       /* children may hold at most SPFAC x the parent's entries */
#define NB_MAX      12
#define SMALL_NB    4u       /* widest cut that splits a small leaf */

struct st {
	uint8_t c[NDIM];     /* bits consumed per field on the path */
	uint16_t pv[3];      /* port prefix on the path (index 1 sport, 2 dport) */
};

struct bld {
	const struct xw_rent *e;
	struct xw_ctree *t;
	uint32_t cap_nodes, cap_lids;
	uint32_t tree;
	uint32_t node_lim, lid_lim;   /* this tree's share: past it, leaves */
	uint32_t *cnt;       /* per child, 1 << NB_MAX (+1 for differences) */
	unsigned nb_small;   /* widest cut of a node with <= 128 entries */
	int full;
};

int xw_rent_match(const struct xw_rent *e, const struct xw_key *k)
{
	const uint64_t *w = (const uint64_t *)k;
	uint64_t d = 0;

	for (unsigned i = 0; i < XW_KEY_WORDS; i++)
		d |= (w[i] & e->m[i]) ^ e->v[i];
	if (d)
		return 0;
	return (uint16_t)(k->sport - e->sp_lo) <= (uint16_t)(e->sp_hi - e->sp_lo) &&
	       (uint16_t)(k->dport - e->dp_lo) <= (uint16_t)(e->dp_hi - e->dp_lo);
}

/* The node that cuts nb bits of field d after c consumed ones. */
static struct xw_node mknode(unsigned d, unsigned c, unsigned nb)
{
	struct xw_node n;

	memset(&n, 0, sizeof(n));
	n.nb = (uint8_t)nb;
	n.flags = dims[d].flags;
	if ((dims[d].flags & XW_NODE_LE16) || dims[d].bits <= 8) {
		n.off = dims[d].off;
		n.sh = (uint8_t)c;   /* the field is the word's top bits */
	} else {
		n.off = (uint8_t)(dims[d].off + c / 8);
		n.sh = (uint8_t)(c % 8);
	}
	return n;
}

static unsigned nb_room(unsigned d, unsigned c)
{
	unsigned r = dims[d].bits - c;

	if (dims[d].bits > 16 && r > 16)
		r = 16;
	return r;
}

/* Children of node nd (field d) entry e can match: [*lo, *hi] when they are
 * an interval (returns 1), else 0 with the entry's window mask/value. */
static int crange(const struct xw_rent *e, unsigned d, const struct st *s, const struct xw_node *nd,
		  uint32_t *lo, uint32_t *hi, uint32_t *mw, uint32_t *vw)
{
	unsigned nb = nd->nb;

	if (dims[d].port) {
		unsigned c = s->c[d], low = 16 - c - nb;
		uint32_t rlo = c ? (uint32_t)s->pv[dims[d].port] << (16 - c) : 0;
		uint32_t rhi = rlo + (1u << (16 - c)) - 1;
		uint32_t a = dims[d].port == 1 ? e->sp_lo : e->dp_lo;
		uint32_t b = dims[d].port == 1 ? e->sp_hi : e->dp_hi;
		const uint8_t *mb = (const uint8_t *)e->m;

		if (mb[dims[d].off] | mb[dims[d].off + 1]) {
			/* a port given as value/mask (not produced in range mode) */
			goto ternary;
		}
		if (a < rlo)
			a = rlo;
		if (b > rhi)
			b = rhi;
		if (a > b) {          /* cannot happen for an entry of the node */
			*lo = 1;
			*hi = 0;
			return 1;
		}
		*lo = (a - rlo) >> low;
		*hi = (b - rlo) >> low;
		return 1;
	}
ternary:
	{
		uint32_t m = xw_node_child(nd, (const uint8_t *)e->m);
		uint32_t v = xw_node_child(nd, (const uint8_t *)e->v);
		uint32_t full = (1u << nb) - 1;
		unsigned t = (unsigned)__builtin_popcount(m);
		uint32_t pm = t ? (full & ~((1u << (nb - t)) - 1)) : 0;

		if (m == pm) {
			*lo = v & m;
			*hi = (v & m) | (full & ~m);
			return 1;
		}
		*mw = m;
		*vw = v & m;
		return 0;
	}
}

/* Sum and largest child of cutting ids by (d, nb). */
static void measure(struct bld *B, const uint32_t *ids, uint32_t n, unsigned d, const struct st *s,
		    unsigned nb, uint64_t *sum, uint32_t *mx)
{
	struct xw_node nd = mknode(d, s->c[d], nb);
	uint32_t nc = 1u << nb, *cnt = B->cnt;
	int64_t run = 0;

	memset(cnt, 0, (nc + 1) * sizeof(*cnt));
	*sum = 0;
	*mx = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t lo, hi, mw, vw;

		if (crange(&B->e[ids[i]], d, s, &nd, &lo, &hi, &mw, &vw)) {
			if (lo > hi)
				continue;
			cnt[lo]++;
			cnt[hi + 1]--;
		} else {
			/* difference array cannot hold a non-interval: add point
			 * counts as +1/-1 pairs */
			for (uint32_t ch = 0; ch < nc; ch++)
				if ((ch & mw) == vw) {
					cnt[ch]++;
					cnt[ch + 1]--;
				}
		}
	}
	for (uint32_t ch = 0; ch < nc; ch++) {
		run += (int32_t)cnt[ch];
		*sum += (uint64_t)run;
		if ((uint32_t)run > *mx)
			*mx = (uint32_t)run;
	}
}

static int grow(struct bld *B, uint32_t want_nodes, uint32_t want_lids)
{
	struct xw_ctree *t = B->t;

	if (t->n_nodes + want_nodes > XW_MAX_NODES || t->n_lids + want_lids > XW_MAX_LIDS) {
		B->full = 1;
		return -1;
	}
	if (t->n_nodes + want_nodes > B->cap_nodes) {
		uint32_t nc = B->cap_nodes ? B->cap_nodes : 4096;
		struct xw_node *nv;

		while (nc < t->n_nodes + want_nodes)
			nc *= 2;
		nv = realloc(t->nodes, (size_t)nc * sizeof(*nv));
		if (!nv)
			return -1;
		t->nodes = nv;
		B->cap_nodes = nc;
	}
	if (t->n_lids + want_lids > B->cap_lids) {
		uint32_t nc = B->cap_lids ? B->cap_lids : 4096;
		uint32_t *nv;

		while (nc < t->n_lids + want_lids)
			nc *= 2;
		nv = realloc(t->lids, (size_t)nc * sizeof(*nv));
		if (!nv)
			return -1;
		t->lids = nv;
		B->cap_lids = nc;
	}
	return 0;
}

static int make_leaf(struct bld *B, uint32_t at, const uint32_t *ids, uint32_t n, unsigned depth)
{
	struct xw_ctree *t = B->t;

	if (grow(B, 0, n))
		return -1;
	memset(&t->nodes[at], 0, sizeof(t->nodes[at]));
	t->nodes[at].base = t->n_lids;
	t->nodes[at].n = n;
	if (n)   /* an empty leaf may come before any list exists */
		memcpy(t->lids + t->n_lids, ids, n * sizeof(*ids));
	t->n_lids += n;
	if (n > t->max_leaf[B->tree])
		t->max_leaf[B->tree] = n;
	if (depth + 1 > t->depth[B->tree])
		t->depth[B->tree] = depth + 1;
	return 0;
}

/* Where a cut of address-like field d (value/mask, wider than 16 bits) may
 * start when c bits are consumed: past the leading bits on which no two
 * entries of the node disagree (each either wildcards a bit or gives it
 * the same value), since cutting there separates nothing.  Without this a
 * set of IPv6 rules under one /96 spends the depth limit on the common
 * prefix and ends in one long leaf.  It may go up to the field's last bit:
 * the 4-byte window read there reaches past the field (into the next one,
 * or the scratch after the key: xw_node_word's 72 readable bytes), but
 * nb_room keeps the bits cut inside it.  (Capped at bits - 16 before, a
 * set of IPv6 addresses differing only in their last 10 bits was one
 * leaf: the 6-bit cuts at bit 112 saw a single value.) */
static unsigned agreed_start(const struct bld *B, const uint32_t *ids, uint32_t n, unsigned d,
			     unsigned c)
{
	unsigned nbytes = dims[d].bits / 8, limit = dims[d].bits - 1;
	uint8_t ones[16] = { 0 }, zeros[16] = { 0 };

	if (dims[d].port || (dims[d].flags & XW_NODE_LE16) || dims[d].bits <= 16 ||
	    nbytes > sizeof(ones))
		return c;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *m = (const uint8_t *)B->e[ids[i]].m + dims[d].off;
		const uint8_t *v = (const uint8_t *)B->e[ids[i]].v + dims[d].off;

		for (unsigned k = 0; k < nbytes; k++) {
			ones[k] |= v[k] & m[k];
			zeros[k] |= (uint8_t)~v[k] & m[k];
		}
	}
	for (unsigned b = c; b < limit; b++)
		if ((ones[b / 8] & zeros[b / 8]) >> (7 - b % 8) & 1)
			return b;
	return c > limit ? c : limit;
}

/* The cut a node takes: field d, nb bits from bit c; its largest child
 * (mx entries) and the children's entries summed (copies counted). */
struct cut {
	unsigned d, nb, c;
	uint32_t mx;
	uint64_t sum;
};

/* The cut of a node of n entries: every field and width up to nbmax is
 * measured.  A wide cut (small == 0) takes the field and width whose
 * largest child is smallest, within the replication budget.  A small leaf
 * (small == 1) is cut only where one cut separates its entries without
 * copying any (exact values, disjoint prefixes or ranges) and halves the
 * longest list: a node read costs about 5 ns and an entry read about 7
 * (`xwbench pkt`, its fit), and a packet that matches none of them reads
 * them all; measured on ClassBench, smaller gains cost as much as they
 * save. */
static void find_cut(struct bld *B, const uint32_t *ids, uint32_t n, const struct st *s,
		     unsigned nbmax, int small, struct cut *bc)
{
	for (unsigned d = 0; d < NDIM; d++) {
		struct st sd = *s;
		unsigned cd = agreed_start(B, ids, n, d, s->c[d]);
		unsigned room = cd < dims[d].bits ? nb_room(d, cd) : 0;

		sd.c[d] = (uint8_t)cd;
		if (room > nbmax)
			room = nbmax;
		for (unsigned nb = 1; nb <= room; nb++) {
			uint64_t sum;
			uint32_t mx;
			int better;

			measure(B, ids, n, d, &sd, nb, &sum, &mx);
			if (small ? sum > n : sum > (uint64_t)SPFAC * n + (1u << nb) && nb > 1)
				break;    /* wider cuts copy (even more) entries */
			better = small ? mx < bc->mx && mx <= n / 2 :
					 mx < bc->mx || (mx == bc->mx && bc->nb && sum < bc->sum);
			if (better)
				*bc = (struct cut){ d, nb, cd, mx, sum };
		}
	}
}

/* Fill node `at` with the tree over ids (sorted: best priority first). */
static int build(struct bld *B, uint32_t at, const uint32_t *ids, uint32_t n, struct st *s,
		 unsigned depth)
{
	struct cut c = { 0, 0, 0, n, 0 };
	unsigned bd, bnb, bc;
	uint64_t bsum;

	if (n > LEAF_TARGET && depth + 1 < XW_TREE_DEPTH)
		find_cut(B, ids, n, s, n > 2048 ? NB_MAX : n > 128 ? 8 : B->nb_small, 0, &c);
	else if (n > 1 && depth + 1 < XW_TREE_DEPTH)
		find_cut(B, ids, n, s, SMALL_NB, 1, &c);
	bd = c.d;
	bnb = c.nb;
	bc = c.c;
	bsum = c.sum;
	if (!bnb || c.mx >= n || B->t->n_nodes + (1u << bnb) > B->node_lim ||
	    B->t->n_lids + bsum > B->lid_lim)
		return make_leaf(B, at, ids, n, depth);
	{
		struct xw_node nd = mknode(bd, bc, bnb);
		uint32_t nc = 1u << bnb, base, *sub, *off, *pos;
		struct st cs = *s;
		int rc = 0;

		if (grow(B, nc, 0))
			return -1;
		base = B->t->n_nodes;
		B->t->n_nodes += nc;
		nd.base = base;
		B->t->nodes[at] = nd;
		/* children's lists: count, then place (entries stay in priority
		 * order within each child) */
		off = calloc((size_t)nc + 1, sizeof(*off));   /* child ch: [off[ch], off[ch + 1]) */
		pos = calloc((size_t)nc + 1, sizeof(*pos));
		if (!off || !pos) {
			free(off);
			free(pos);
			return -1;
		}
		sub = NULL;
		for (int pass = 0; pass < 2; pass++) {
			for (uint32_t i = 0; i < n; i++) {
				uint32_t lo, hi, mw = 0, vw = 0, all;

				all = !crange(&B->e[ids[i]], bd, s, &nd, &lo, &hi, &mw, &vw);
				if (all) {
					lo = 0;
					hi = nc - 1;
				}
				for (uint32_t ch = lo; ch <= hi && ch < nc; ch++) {
					if (all && (ch & mw) != vw)
						continue;
					if (pass)
						sub[pos[ch]++] = ids[i];
					else
						off[ch + 1]++;
				}
			}
			if (!pass) {
				for (uint32_t ch = 0; ch < nc; ch++)
					off[ch + 1] += off[ch];
				memcpy(pos, off, (size_t)nc * sizeof(*pos));
				sub = malloc((size_t)(off[nc] ? off[nc] : 1) * sizeof(*sub));
				if (!sub) {
					free(off);
					free(pos);
					return -1;
				}
			}
		}
		free(pos);
		cs.c[bd] = (uint8_t)(bc + bnb);
		for (uint32_t ch = 0; ch < nc && !rc; ch++) {
			if (dims[bd].port)
				cs.pv[dims[bd].port] = (uint16_t)((s->c[bd] ? (uint32_t)s->pv[dims[bd].port] << bnb : 0) | ch);
			rc = build(B, base + ch, sub + off[ch], off[ch + 1] - off[ch], &cs, depth + 1);
		}
		free(sub);
		free(off);
		return rc;
	}
}

/* Which tree an entry goes to: by which addresses are specific (>= /16 of
 * an IPv4 address, any prefix of IPv6 past /16 too) and, for entries with
 * neither, by whether the destination port is. */
static unsigned group_of(const struct xw_rent *e)
{
	const uint8_t *m = (const uint8_t *)e->m;
	unsigned sb = 0, db = 0;

	for (int i = 0; i < 16; i++) {
		sb += (unsigned)__builtin_popcount(m[KOFF(src) + i]);
		db += (unsigned)__builtin_popcount(m[KOFF(dst) + i]);
	}
	if (sb >= 16 && db >= 16)
		return 0;
	if (sb >= 16)
		return 1;
	if (db >= 16)
		return 2;
	if ((uint32_t)(e->dp_hi - e->dp_lo) < 1024)
		return 3;
	if ((uint32_t)(e->sp_hi - e->sp_lo) < 1024)
		return 4;
	return 5;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Rule stages a packet may need, at most: a stage runs XW_TREES_PER_STAGE
 * steps, a step finishes a tree or reads XW_LEAF_PER_STAGE entries of its
 * leaf; every tree costs at least one step. */
uint32_t xw_tree_stages(const struct xw_ctree *t)
{
	uint64_t steps = 0;

	for (uint32_t i = 0; i < t->head.n_trees; i++)
		steps += t->max_leaf[i] ? (t->max_leaf[i] + XW_LEAF_PER_STAGE - 1) / XW_LEAF_PER_STAGE : 1;
	return (uint32_t)((steps + XW_TREES_PER_STAGE - 1) / XW_TREES_PER_STAGE) + 1;
}

uint32_t xw_tree_worst(const struct xw_ctree *t)
{
	uint32_t w = 0;

	for (uint32_t i = 0; i < t->head.n_trees; i++)
		w += t->depth[i] + t->max_leaf[i];
	return w;
}

/* The non-empty groups (ng[g] entries not in the exact tier) in order of
 * their best entry, the order of the trees: the walk can stop early.
 * Returns their count; min_prio[k] is tree k's best priority. */
static unsigned order_groups(const struct xw_rent *rents, const uint8_t *grp, const uint8_t *in_x,
			     uint32_t n, const uint32_t ng[8], unsigned order[8], uint32_t *min_prio)
{
	uint32_t best[8];
	unsigned ntr = 0;

	for (unsigned g = 0; g < 8; g++)
		best[g] = XW_PRIO_NONE;
	for (uint32_t i = n; i-- > 0;)
		if (!in_x[i])
			best[grp[i]] = rents[i].prio;
	for (unsigned g = 0; g < 8; g++)
		if (ng[g])
			order[ntr++] = g;
	for (unsigned i = 1; i < ntr; i++)
		for (unsigned j = i; j > 0 && best[order[j]] < best[order[j - 1]]; j--) {
			unsigned x = order[j];

			order[j] = order[j - 1];
			order[j - 1] = x;
		}
	for (unsigned k = 0; k < ntr; k++)
		min_prio[k] = best[order[k]];
	return ntr;
}

/* xw_tree_build, or with `overlay` one tree of every entry and no exact
 * tier (xw_tree_build_overlay). */
static int tree_build(struct xw_rent *rents, uint32_t n, struct xw_ctree *t, int overlay, char *msg,
		      size_t msglen)
{
	struct bld B;
	uint32_t *ids = NULL, ng[8] = { 0 };
	uint8_t *in_x = NULL, *grp = NULL;
	unsigned order[8], ntr = 0;
	double t0 = now_s();
	int rc = -1;

	memset(t, 0, sizeof(*t));
	memset(&B, 0, sizeof(B));
	/* refused before t takes the entries: on failure the caller frees them */
	if (n > XW_MAX_RENTS) {
		snprintf(msg, msglen, "the rule set compiles to %u rule entries, more than the %u "
			 "the datapath holds", n, XW_MAX_RENTS);
		return -1;
	}
	t->rents = rents;
	t->n_rents = n;
	B.e = rents;
	B.t = t;
	B.cnt = calloc((1u << NB_MAX) + 1, sizeof(*B.cnt));
	ids = malloc((size_t)(n ? n : 1) * sizeof(*ids));
	in_x = calloc(n ? n : 1, 1);
	grp = malloc(n ? n : 1);
	if (!B.cnt || !ids || !in_x || !grp) {
		snprintf(msg, msglen, "out of memory");
		goto out;
	}
	for (uint32_t i = 0; i < n; i++)
		grp[i] = overlay ? 0 : (uint8_t)group_of(&rents[i]);
	if (xw_exact_split(rents, grp, n, overlay ? XW_EXACT_OFF : xw_exact_mode(), &t->x, in_x)) {
		snprintf(msg, msglen, "out of memory");
		goto out;
	}
	t->head.n_xshapes = t->x.n_shapes;
	memcpy(t->head.xs, t->x.shapes, sizeof(t->head.xs));
	for (uint32_t i = 0; i < n; i++) {
		rents[i].flags &= (uint8_t)~XWF_EXACT;
		if (in_x[i]) {
			t->head.xdirs |= xw_rent_dirs(&rents[i]);
			rents[i].flags |= XWF_EXACT;   /* a `rule del` tombstones it so */
		}
	}
	for (uint32_t i = 0; i < n; i++)
		if (!in_x[i])
			ng[grp[i]]++;
	ntr = order_groups(rents, grp, in_x, n, ng, order, t->head.min_prio);
	for (unsigned k = 0; k < ntr; k++) {
		uint32_t m = 0;
		struct st s;

		for (uint32_t i = 0; i < n; i++)
			if (!in_x[i] && grp[i] == order[k]) {
				ids[m++] = i;
				t->head.dirs |= (uint16_t)(xw_rent_dirs(&rents[i]) << (2 * k));
			}
		memset(&s, 0, sizeof(s));
		for (unsigned d = 0; d < NDIM; d++)
			s.c[d] = dims[d].start;
		if (grow(&B, 1, 0))
			goto full;
		t->head.root[k] = t->n_nodes++;
		B.tree = k;
		t->n_tree_rents[k] = m;
		/* small rule sets afford wider cuts low down (fewer node reads
		 * and shorter leaves for more nodes); in large ones a tree would
		 * spend its share of the capacity before it is cut fine enough
		 * (fw1_100k: 17 entries read per packet instead of 2) */
		B.nb_small = n < 32768 ? 6 : 4;
		/* a share of what is left, by entries, so that one tree cannot
		 * take the room of the others */
		{
			uint32_t left = 0;

			for (unsigned q = k; q < ntr; q++)
				left += ng[order[q]];
			B.node_lim = t->n_nodes + (uint32_t)((uint64_t)(XW_MAX_NODES - t->n_nodes) * m / (left ? left : 1));
			B.lid_lim = t->n_lids + (uint32_t)((uint64_t)(XW_MAX_LIDS - t->n_lids) * m / (left ? left : 1));
			/* and no more than this rule set can use well */
			if (B.lid_lim - t->n_lids > 256u * m + 4096)
				B.lid_lim = t->n_lids + 256u * m + 4096;
			if (B.node_lim - t->n_nodes > 64u * m + 4096)
				B.node_lim = t->n_nodes + 64u * m + 4096;
		}
		if (build(&B, t->head.root[k], ids, m, &s, 0))
			goto full;
	}
	t->head.n_trees = ntr;
	if (xw_tree_stages(t) > XW_MAX_STAGES) {
		snprintf(msg, msglen, "the rule set's trees need %u rule stages per packet (leaf lists of "
			 "rules that overlap the same packets), more than the %u the datapath allows",
			 xw_tree_stages(t), XW_MAX_STAGES);
		goto out;
	}
	t->head.ed.n_base = n;
	t->head.ed.nodes_base = t->head.ed.n_nodes = t->n_nodes;
	t->head.ed.lids_base = t->head.ed.n_lids = t->n_lids;
	t->head.ed.over_tree = XW_MAX_TREES;
	memcpy(t->head.ed.depth, t->depth, sizeof(t->depth));
	memcpy(t->head.ed.max_leaf, t->max_leaf, sizeof(t->max_leaf));
	t->build_s = now_s() - t0;
	rc = 0;
	goto out;
full:
	if (B.full)
		snprintf(msg, msglen, "the rule set's trees need more than %u nodes or %u leaf slots "
			 "(the datapath's capacity)", XW_MAX_NODES, XW_MAX_LIDS);
	else
		snprintf(msg, msglen, "out of memory");
out:
	free(ids);
	free(in_x);
	free(grp);
	free(B.cnt);
	if (rc) {
		t->rents = NULL;   /* the caller still owns them */
		xw_ctree_free(t);
	}
	return rc;
}

int xw_tree_build(struct xw_rent *rents, uint32_t n, struct xw_ctree *t, char *msg, size_t msglen)
{
	return tree_build(rents, n, t, 0, msg, msglen);
}

int xw_tree_build_overlay(struct xw_rent *rents, uint32_t n, struct xw_ctree *t, char *msg,
			  size_t msglen)
{
	return tree_build(rents, n, t, 1, msg, msglen);
}

void xw_ctree_free(struct xw_ctree *t)
{
	free(t->rents);
	free(t->nodes);
	free(t->lids);
	xw_cexact_free(&t->x);
	memset(t, 0, sizeof(*t));
}

int xw_tree_lookup(const struct xw_ctree *t, const struct xw_key *k, struct xw_walk *w)
{
	uint8_t kb[sizeof(struct xw_key) + 8];
	uint32_t best = XW_PRIO_NONE;
	struct xw_walk dummy = { 0 };
	int hit = -1;

	if (!w)
		w = &dummy;
	for (uint32_t j = 0; j < t->head.n_xshapes && j < XW_MAX_XSHAPES; j++) {
		struct xw_xkey xk;
		int64_t r;

		if (!(t->head.xdirs >> (k->dir & 1) & 1))
			break;   /* no exact entry for this direction */
		if (t->head.xs[j].min_prio >= best || !xw_exact_key(&t->head.xs[j], j, k, &xk))
			continue;
		w->probes++;
		r = xw_exact_find(&t->x, &xk);
		if (r >= 0 && t->rents[r].prio < best) {
			best = t->rents[r].prio;
			hit = (int)r;
		}
	}
	memset(kb, 0, sizeof(kb));
	memcpy(kb, k, sizeof(*k));
	for (uint32_t i = 0; i < t->head.n_trees && i < XW_MAX_TREES; i++) {
		uint32_t at = t->head.root[i];
		const struct xw_node *nd;

		if (t->head.min_prio[i] >= best)
			continue;
		if (!(t->head.dirs & XW_TREE_DIR(i, k->dir)))
			continue;   /* no entry for this direction */
		w->trees++;
		for (unsigned d = 0;; d++) {
			if (at >= t->n_nodes || d >= XW_TREE_DEPTH)
				return hit;
			nd = &t->nodes[at];
			w->nodes++;
			if (!nd->nb)
				break;
			at = nd->base + xw_node_child(nd, kb);
		}
		for (uint32_t j = 0; j < nd->n; j++) {
			const struct xw_rent *e = &t->rents[t->lids[nd->base + j]];

			w->entries++;
			if (e->prio >= best)
				break;
			if (xw_rent_match(e, k)) {
				best = e->prio;
				hit = (int)t->lids[nd->base + j];
				break;
			}
		}
	}
	return hit;
}
