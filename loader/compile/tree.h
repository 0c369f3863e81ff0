// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Decision trees over rule entries: the datapath's rule stage (see
 * include/xwall.h "Decision trees" and docs/classifier.md). */
#ifndef XW_TREE_H
#define XW_TREE_H

#include <stddef.h>
#include <stdint.h>
#include "xwall.h"
#include "exact.h"

struct xw_ctree {
	struct xw_thead head;           /* with the exact shapes (x.shapes) */
	uint32_t n_rents, n_nodes, n_lids;
	struct xw_rent *rents;          /* sorted by priority */
	struct xw_cexact x;             /* the entries looked up by hash */
	struct xw_node *nodes;
	uint32_t *lids;
	/* what a packet can cost, per tree: node reads and the longest leaf */
	uint32_t depth[XW_MAX_TREES];
	uint32_t max_leaf[XW_MAX_TREES];
	uint32_t n_tree_rents[XW_MAX_TREES];
	double   build_s;
};

/* The child index a node picks for key bytes kb (72 bytes readable: the
 * datapath may read up to 3 bytes past struct xw_key, from the scratch). */
static inline uint32_t xw_node_word(const uint8_t *kb, uint8_t off, uint8_t flags)
{
	if (flags & XW_NODE_LE16)
		return ((uint32_t)kb[off] | (uint32_t)kb[off + 1] << 8) << 16;
	return (uint32_t)kb[off] << 24 | (uint32_t)kb[off + 1] << 16 |
	       (uint32_t)kb[off + 2] << 8 | kb[off + 3];
}

static inline uint32_t xw_node_child(const struct xw_node *nd, const uint8_t *kb)
{
	uint32_t w = xw_node_word(kb, nd->off & 63, nd->flags);

	return (w << (nd->sh & 31)) >> ((32 - nd->nb) & 31);
}

/* Does entry e match key k (72 readable bytes)? */
int xw_rent_match(const struct xw_rent *e, const struct xw_key *k);

/* The directions entry e can match: bit d for XW_DIR_IN/XW_DIR_OUT. */
static inline unsigned xw_rent_dirs(const struct xw_rent *e)
{
	const uint8_t *m = (const uint8_t *)e->m, *v = (const uint8_t *)e->v;
	size_t o = offsetof(struct xw_key, dir);
	unsigned r = 0;

	for (unsigned d = 0; d < XW_DIR_MAX; d++)
		if ((d & m[o]) == v[o])
			r |= 1u << d;
	return r;
}

/* Build the exact tier and the trees over rents[0..n) (sorted by priority;
 * taken over by t): the entries of the most common exact shapes go to the
 * hash (loader/compile/exact.h), the others to the trees.  Returns 0, or -1
 * with msg set (capacity). */
int xw_tree_build(struct xw_rent *rents, uint32_t n, struct xw_ctree *t, char *msg, size_t msglen);
/* One tree over rents[0..n) (taken over by t), none in the exact tier: the
 * overlay of the entries `rule add` brings (loader/datapath/edit.c). */
int xw_tree_build_overlay(struct xw_rent *rents, uint32_t n, struct xw_ctree *t, char *msg,
			  size_t msglen);
void xw_ctree_free(struct xw_ctree *t);

/* What one lookup read: hash probes, trees walked, nodes, leaf entries. */
struct xw_walk {
	uint32_t probes, trees, nodes, entries;
};

/* First match of key k by probing the exact shapes and walking the trees as
 * the datapath does; returns the entry index or -1.  w (may be NULL) adds
 * what was read. */
int xw_tree_lookup(const struct xw_ctree *t, const struct xw_key *k, struct xw_walk *w);

/* Worst case per packet: sum over trees of depth + longest leaf (the exact
 * shapes add one probe each: head.n_xshapes). */
uint32_t xw_tree_worst(const struct xw_ctree *t);
/* Rule stages (tail calls) a packet may need; at most XW_MAX_STAGES. */
uint32_t xw_tree_stages(const struct xw_ctree *t);

#endif
