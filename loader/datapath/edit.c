// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* `rule add` / `rule del` without compiling the whole rule set (~0.5 s at
 * 100k rules).  The inactive generation becomes a copy of the live one;
 * a deleted rule's entries are made to match nothing where they are (a
 * tree entry gets XWK_NEVER in its value, outside its mask; an exact-tier
 * entry priority XW_PRIO_NONE, the old one kept in was_prio), an entry a
 * whole apply dropped as equal to one of them takes its place, and the
 * added rules' entries live in one more tree, the overlay, built again
 * from its entries at every change.  Then the switch, as apply does.  The
 * layout of a generation is include/xwall.h's struct xw_tedit. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include "edit.h"
#include "edit_text.h"
#include "generation.h"
#include "compile.h"
#include "tree.h"
#include "sets.h"

#define MATCH_BYTES (offsetof(struct xw_rent, prio))   /* mask, value, ports */

struct edit {
	struct xw_dp *dp;
	struct xw_cfg cfg;
	__u32 g, n;                     /* live and new generation */
	struct xw_thead head;           /* the live one's, made the new one's */
	uint32_t over_start;            /* first overlay entry */
	struct xw_live_text lt;         /* the live rule text */
	struct xw_rent *over;           /* the new overlay's entries */
	uint32_t n_over, cap_over;
	struct xw_rent *gone;           /* live entries of the deleted rule */
	uint32_t n_gone, cap_gone;
};

static int sys_fail(struct xw_err *err, const char *what, int e)
{
	return xw_errf(err, XW_ESYS, "%s: %s", what, strerror(e < 0 ? -e : e));
}

static int push(struct xw_rent **v, uint32_t *n, uint32_t *cap, const struct xw_rent *e)
{
	if (*n == *cap) {
		uint32_t nc = *cap ? 2 * *cap : 64;
		struct xw_rent *nv = realloc(*v, (size_t)nc * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = *e;
	return 0;
}

/* ---- entries ---- */

static uint16_t value_flags(const struct xw_rent *e)
{
	uint16_t f;

	memcpy(&f, (const uint8_t *)e->v + offsetof(struct xw_key, flags), sizeof(f));
	return f;
}

static int rent_live(const struct xw_rent *e)
{
	return e->flags & XWF_EXACT ? e->prio != XW_PRIO_NONE : !(value_flags(e) & XWK_NEVER);
}

/* The priority of the rule an entry came from, deleted or not. */
static uint32_t rent_prio(const struct xw_rent *e)
{
	return (e->flags & XWF_EXACT) && e->prio == XW_PRIO_NONE ? e->was_prio : e->prio;
}

/* Entry e matches nothing from now on; its place in its leaf lists (by
 * priority) or its exact-tier key stays. */
static void tombstone(struct xw_rent *e)
{
	if (e->flags & XWF_EXACT) {
		e->was_prio = e->prio;
		e->prio = XW_PRIO_NONE;   /* the probe takes none such */
	} else {
		uint16_t f = value_flags(e) | XWK_NEVER;

		memcpy((uint8_t *)e->v + offsetof(struct xw_key, flags), &f, sizeof(f));
	}
}

/* ---- the live generation ---- */

/* [first, first + n) of array map fd (elements vs bytes, 8 apart when not
 * a multiple of 8) mapped; *base and *len to unmap.  NULL on error. */
static void *map_range(int fd, uint32_t first, uint32_t n, size_t vs, int prot, void **base,
		       size_t *len)
{
	/* pages are mapped as touched: a binary search reads ~20 of a 15 MB
	 * array (mapping them all costs ~2 ms per MB here) */
	size_t es = (vs + 7) & ~(size_t)7, lo = (size_t)first * es, pg = (size_t)getpagesize();
	size_t off = lo & ~(pg - 1);
	char *p;

	*len = lo + (size_t)(n ? n : 1) * es - off;
	p = mmap(NULL, *len, prot, MAP_SHARED, fd, (off_t)off);
	if (p == MAP_FAILED)
		return NULL;
	*base = p;
	return p + (lo - off);
}

/* Elements [0, n) of generation g copied over those of generation to. */
static int copy_gen(int fd, uint32_t per_gen, uint32_t g, uint32_t to, uint32_t n, size_t vs)
{
	void *sb, *db, *s, *d;
	size_t sl, dl, es = (vs + 7) & ~(size_t)7;

	if (!n)
		return 0;
	s = map_range(fd, g * per_gen, n, vs, PROT_READ, &sb, &sl);
	if (!s)
		return -errno;
	d = map_range(fd, to * per_gen, n, vs, PROT_READ | PROT_WRITE, &db, &dl);
	if (!d) {
		munmap(sb, sl);
		return -errno;
	}
	memcpy(d, s, (size_t)n * es);
	munmap(sb, sl);
	munmap(db, dl);
	return 0;
}

/* The live generation's settings, tree head and rule text; XW_EDIT_FULL if
 * it is not one this can change. */
static int read_live(struct edit *e, struct xw_err *err)
{
	const struct xw_tedit *ed = &e->head.ed;
	int rc = xw_gen_read_cfg(e->dp, &e->cfg), fd;

	if (rc)
		return sys_fail(err, "read xw_cfg", rc);
	e->g = e->cfg.active & 1;
	e->n = e->g ^ 1;
	if (bpf_map_lookup_elem(e->dp->map_fd[XW_M_TREES], &e->g, &e->head))
		return sys_fail(err, "read xw_trees", errno);
	fd = xw_gen_inner_fd(e->dp, XW_M_TEXT, e->g);
	if (fd < 0)   /* nothing applied yet */
		return XW_EDIT_FULL;
	close(fd);
	e->over_start = ed->n_base + ed->n_dups;
	if (ed->n_dups >= XW_MAX_RENTS || (uint64_t)e->over_start + ed->n_over > XW_MAX_RENTS ||
	    ed->nodes_base > ed->n_nodes || ed->n_nodes > XW_MAX_NODES ||
	    ed->lids_base > ed->n_lids || ed->n_lids > XW_MAX_LIDS ||
	    e->head.n_trees > XW_MAX_TREES ||
	    (ed->over_tree < XW_MAX_TREES) != (ed->n_over > 0) ||
	    (ed->over_tree < XW_MAX_TREES && ed->over_tree >= e->head.n_trees))
		return XW_EDIT_FULL;
	return xw_live_text_open(e->dp, e->g, &e->lt, err);
}

/* Rules whose entries live elsewhere than in the trees (limit entries, the
 * set stage) or that turn tracking on: a whole apply. */
static int editable(const struct xw_rule *r)
{
	return !(r->present & (XM_LIMIT | XM_CT)) && !xw_rule_uses_sets(r) && !r->ban_set[0];
}

/* ---- the change ---- */

/* The live overlay's entries but the deleted rule's (those go to gone). */
static int read_overlay(struct edit *e, uint32_t del)
{
	void *base;
	size_t len;
	const struct xw_rent *v;
	int rc = 0;

	if (!e->head.ed.n_over)
		return 0;
	v = map_range(e->dp->map_fd[XW_M_RENTS], e->g * XW_MAX_RENTS + e->over_start,
		      e->head.ed.n_over, sizeof(*v), PROT_READ, &base, &len);
	if (!v)
		return -errno;
	for (uint32_t i = 0; i < e->head.ed.n_over && !rc; i++) {
		if (v[i].prio != del)
			rc = push(&e->over, &e->n_over, &e->cap_over, &v[i]);
		else
			rc = push(&e->gone, &e->n_gone, &e->cap_gone, &v[i]);
	}
	munmap(base, len);
	return rc;
}

/* Entry i of the copied part changed: the other half will copy it. */
static void note_change(struct edit *e, uint32_t i)
{
	struct xw_tedit *ed = &e->head.ed;

	if (ed->n_changed < XW_EDIT_LOG)
		ed->changed[ed->n_changed] = i;
	if (ed->n_changed <= XW_EDIT_LOG)
		ed->n_changed++;
}

/* In the new generation's copy: the deleted rule's entries of the full
 * apply's part made to match nothing, its dropped equals removed; for
 * each of its entries that decided, the best dropped equal (of another
 * rule) moves to the overlay. */
static int delete_entries(struct edit *e, struct xw_rent *v, uint32_t del)
{
	uint32_t nb = e->head.ed.n_base, lo = 0, hi = nb;

	while (lo < hi) {   /* the full apply's entries are by priority */
		uint32_t mid = lo + (hi - lo) / 2;

		if (rent_prio(&v[mid]) < del)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < nb && rent_prio(&v[lo]) == del; lo++) {
		if (!rent_live(&v[lo]))
			continue;
		if (push(&e->gone, &e->n_gone, &e->cap_gone, &v[lo]))
			return -ENOMEM;
		tombstone(&v[lo]);
		note_change(e, lo);
	}
	for (uint32_t i = nb; i < e->over_start; i++)
		if (v[i].prio == del) {
			v[i].prio = XW_PRIO_NONE;   /* a dropped entry: gone */
			note_change(e, i);
		}
	for (uint32_t k = 0; k < e->n_gone; k++) {
		uint32_t best = XW_PRIO_NONE, at = 0;

		for (uint32_t i = nb; i < e->over_start; i++)
			if (v[i].prio < best && !memcmp(v[i].m, e->gone[k].m, MATCH_BYTES)) {
				best = v[i].prio;
				at = i;
			}
		if (best == XW_PRIO_NONE)
			continue;
		if (push(&e->over, &e->n_over, &e->cap_over, &v[at]))
			return -ENOMEM;
		v[at].prio = XW_PRIO_NONE;
		note_change(e, at);
	}
	return 0;
}

/* The added rule's entries, compiled alone with its counter slot. */
static int add_entries(struct edit *e, const struct xw_rule *r, uint32_t slot, struct xw_err *err)
{
	struct xw_ruleset one;
	struct xw_tcompiled c;
	uint32_t ifx = 0;
	int rc = 0;

	if (r->present & XM_IIF) {
		ifx = if_nametoindex(r->iif);
		if (!ifx)
			return xw_errf(err, XW_ESYS, "rule %u: iif %s: %s", r->prio, r->iif,
				       strerror(errno));
	}
	memset(&one, 0, sizeof(one));
	one.rules = (struct xw_rule *)r;
	one.n = 1;
	if (xw_compile_tree(&one, &slot, &ifx, &c, err))
		return XW_EINPUT;
	for (uint32_t i = 0; i < c.tree->n_rents && !rc; i++)
		rc = push(&e->over, &e->n_over, &e->cap_over, &c.tree->rents[i]);
	xw_tcompiled_free(&c);
	return rc ? xw_errf(err, XW_ESYS, "out of memory") : 0;
}

static int cmp_prio(const void *a, const void *b)
{
	const struct xw_rent *x = a, *y = b;

	if (x->prio != y->prio)
		return x->prio < y->prio ? -1 : 1;
	return memcmp(x->m, y->m, MATCH_BYTES);
}

struct tinfo {
	uint32_t root, min_prio, depth, max_leaf, dirs;
};

/* The new head's trees: the live ones but the old overlay, and the new
 * overlay t (NULL: none) in priority order.  XW_EDIT_FULL if the packet
 * would need more rule stages than the datapath allows. */
static int place_overlay(struct edit *e, const struct xw_ctree *t)
{
	struct xw_thead *h = &e->head;
	struct tinfo ti[XW_MAX_TREES + 1];
	uint32_t nt = 0, steps = 0, at;

	for (uint32_t k = 0; k < h->n_trees; k++) {
		if (k == h->ed.over_tree)
			continue;
		ti[nt++] = (struct tinfo){ h->root[k], h->min_prio[k], h->ed.depth[k],
					   h->ed.max_leaf[k], (h->dirs >> (2 * k)) & 3u };
	}
	h->ed.over_tree = XW_MAX_TREES;
	if (t) {
		struct tinfo o = { t->head.root[0] + h->ed.nodes_base, t->head.min_prio[0],
				   t->depth[0], t->max_leaf[0], t->head.dirs & 3u };

		for (at = 0; at < nt && ti[at].min_prio <= o.min_prio; at++)
			;
		memmove(&ti[at + 1], &ti[at], (nt - at) * sizeof(ti[0]));
		ti[at] = o;
		nt++;
		h->ed.over_tree = at;
	}
	if (nt > XW_MAX_TREES)
		return XW_EDIT_FULL;
	h->n_trees = nt;
	h->dirs = 0;
	for (uint32_t k = 0; k < nt; k++) {
		h->root[k] = ti[k].root;
		h->min_prio[k] = ti[k].min_prio;
		h->ed.depth[k] = ti[k].depth;
		h->ed.max_leaf[k] = ti[k].max_leaf;
		h->dirs |= (uint16_t)(ti[k].dirs << (2 * k));
		steps += ti[k].max_leaf ? (ti[k].max_leaf + XW_LEAF_PER_STAGE - 1) / XW_LEAF_PER_STAGE : 1;
	}
	/* as xw_tree_stages counts */
	if ((steps + XW_TREES_PER_STAGE - 1) / XW_TREES_PER_STAGE + 1 > XW_MAX_STAGES)
		return XW_EDIT_FULL;
	return 0;
}

/* The overlay tree over e->over, written after the copied part of the new
 * generation; the head then lists it.  XW_EDIT_FULL when it does not fit. */
static int write_overlay(struct edit *e, struct xw_err *err)
{
	struct xw_tedit *ed = &e->head.ed;
	struct xw_ctree t;
	struct xw_rent *v = NULL;
	int fd_r = e->dp->map_fd[XW_M_RENTS], rc;

	memset(&t, 0, sizeof(t));
	if (e->n_over) {
		qsort(e->over, e->n_over, sizeof(*e->over), cmp_prio);
		v = malloc((size_t)e->n_over * sizeof(*v));
		if (!v)
			return xw_errf(err, XW_ESYS, "out of memory");
		memcpy(v, e->over, (size_t)e->n_over * sizeof(*v));
		if (xw_tree_build_overlay(v, e->n_over, &t, err->msg, sizeof(err->msg))) {
			free(v);
			return XW_EDIT_FULL;
		}
		if ((uint64_t)e->over_start + t.n_rents > XW_MAX_RENTS ||
		    (uint64_t)ed->nodes_base + t.n_nodes > XW_MAX_NODES ||
		    (uint64_t)ed->lids_base + t.n_lids > XW_MAX_LIDS) {
			xw_ctree_free(&t);
			return XW_EDIT_FULL;
		}
		for (uint32_t i = 0; i < t.n_nodes; i++)
			t.nodes[i].base += t.nodes[i].nb ? ed->nodes_base : ed->lids_base;
		for (uint32_t i = 0; i < t.n_lids; i++)
			t.lids[i] += e->over_start;
	}
	rc = place_overlay(e, e->n_over ? &t : NULL);
	if (!rc) {
		ed->n_over = t.n_rents;
		ed->n_nodes = ed->nodes_base + t.n_nodes;
		ed->n_lids = ed->lids_base + t.n_lids;
		ed->edits++;
		rc = xw_gen_write_array(fd_r, e->n * XW_MAX_RENTS + e->over_start, t.rents,
					t.n_rents, sizeof(*t.rents));
		if (!rc)
			rc = xw_gen_write_array(e->dp->map_fd[XW_M_NODES],
						e->n * XW_MAX_NODES + ed->nodes_base, t.nodes,
						t.n_nodes, sizeof(*t.nodes));
		if (!rc)
			rc = xw_gen_write_array(e->dp->map_fd[XW_M_LIDS],
						e->n * XW_MAX_LIDS + ed->lids_base, t.lids, t.n_lids,
						sizeof(*t.lids));
		if (rc)
			rc = sys_fail(err, "write the overlay tree", rc);
	}
	xw_ctree_free(&t);
	return rc;
}

/* The new generation's exact tier is the live one's maps (their entries
 * are indices of rule entries, which the copy keeps), its limit entries,
 * set rules and bans the live one's. */
static int share_rest(struct edit *e, struct xw_err *err)
{
	struct xw_dp *dp = e->dp;
	int rc = xw_gen_share_exact(dp, e->g, e->n, e->head.n_xshapes);
	for (uint32_t i = 0; i < e->cfg.n_limit[e->g] && i < XW_MAX_LIMIT_ENTRIES && !rc; i++) {
		__u32 from = e->g * XW_MAX_LIMIT_ENTRIES + i, to = e->n * XW_MAX_LIMIT_ENTRIES + i;
		struct xw_limit_entry le;

		if (bpf_map_lookup_elem(dp->map_fd[XW_M_LIMITS], &from, &le) ||
		    bpf_map_update_elem(dp->map_fd[XW_M_LIMITS], &to, &le, 0))
			rc = -errno;
	}
	if (rc)
		return sys_fail(err, "share the exact tier and limits", rc);
	return xw_sets_copy_generation(dp, e->g, e->n, err);
}

/* The new generation's text: the live changes and this one (line: the
 * added rule's, else rule del_prio goes) after the mark.  Its fd, or
 * -errno. */
static int new_text(const struct edit *e, const char *line, uint32_t slot, uint32_t del_prio)
{
	size_t ol = strlen(e->lt.ops), n;
	char *buf = malloc(strlen(XW_EDITS_MARK) + ol + (line ? strlen(line) : 0) + 32);
	int fd;

	if (!buf)
		return -ENOMEM;
	n = (size_t)sprintf(buf, "%s", XW_EDITS_MARK);
	memcpy(buf + n, e->lt.ops, ol);
	n += ol;
	if (ol && buf[n - 1] != '\n')
		buf[n++] = '\n';
	n += (size_t)(line ? sprintf(buf + n, "+%u %s\n", slot, line) :
			     sprintf(buf + n, "-%u\n", del_prio));
	fd = xw_gen_text_map(e->dp, buf, n);
	free(buf);
	return fd;
}

/* Slot 2 + n of xw_text holds the base text of the live changes (the map
 * in base_slot), unless it does already (a slot update waits for a grace
 * period). */
static int share_base(const struct edit *e)
{
	struct xw_dp *dp = e->dp;
	__u32 want = 0, have = 0, to = 2 + e->n, from = e->lt.base_slot;
	int fd, rc;

	if (bpf_map_lookup_elem(dp->map_fd[XW_M_TEXT], &from, &want))
		return -errno;
	if (bpf_map_lookup_elem(dp->map_fd[XW_M_TEXT], &to, &have) == 0 && have == want)
		return 0;
	fd = bpf_map_get_fd_by_id(want);
	if (fd < 0)
		return -errno;
	rc = bpf_map_update_elem(dp->map_fd[XW_M_TEXT], &to, &fd, 0) ? -errno : 0;
	close(fd);
	return rc;
}

/* The first counter slot neither the live rules nor a change since the
 * apply used; XW_MAX_RULES if none. */
static uint32_t free_slot(const struct edit *e)
{
	uint32_t s = 0;

	while (s < XW_MAX_RULES && e->lt.used[s])
		s++;
	return s;
}

/* ---- the whole change ---- */

/* What the change makes: the overlay's entries; the added rule's line
 * and slot. */
static int prepare(struct edit *e, const struct xw_rule *r, uint32_t del, uint32_t *slot,
		   char **line, struct xw_err *err)
{
	uint32_t prio = r ? r->prio : del, len = 0;
	const char *cur = xw_live_text_rule(&e->lt, prio, &len);

	if (e->lt.n_ops >= XW_EDIT_MAX_OPS)
		return XW_EDIT_FULL;   /* a whole apply starts a new text */
	if (r) {
		if (cur)
			return xw_errf(err, XW_EINPUT, "a rule with priority %u exists already "
				       "(rule del %u first)", r->prio, r->prio);
		/* (at most: a whole apply counts exactly) */
		if (e->lt.nbase + e->lt.n_adds + 1 > XW_MAX_RULES || !editable(r))
			return XW_EDIT_FULL;
		*slot = free_slot(e);
		if (*slot >= XW_MAX_RULES)
			return XW_EDIT_FULL;
		*line = xw_rule_text(r);
		if (!*line)
			return xw_errf(err, XW_ESYS, "out of memory");
		if (read_overlay(e, XW_PRIO_NONE))
			return xw_errf(err, XW_ESYS, "read the overlay entries");
		return add_entries(e, r, *slot, err);
	}
	if (!cur)
		return xw_errf(err, XW_EINPUT, "no rule with priority %u", del);
	{
		struct xw_rule old;
		struct xw_err perr;
		char *t = strndup(cur, len);
		int ok;

		if (!t)
			return xw_errf(err, XW_ESYS, "out of memory");
		ok = xw_parse_rule(t, "<live rule set>", &old, &perr) == 0;
		free(t);
		if (!ok)
			return XW_EDIT_FULL;
		ok = editable(&old);
		xw_rule_free(&old);
		if (!ok)
			return XW_EDIT_FULL;
	}
	if (read_overlay(e, del))
		return xw_errf(err, XW_ESYS, "read the overlay entries");
	return 0;
}

/* The inactive half made the live one's but for the overlay: nothing to
 * do when it holds the same state (the whole apply wrote both), the
 * entries the last change wrote when it is one change behind, else a
 * copy.  Its head says "unknown" until the change is written. */
static int sync_half(struct edit *e)
{
	struct xw_dp *dp = e->dp;
	const struct xw_tedit *ed = &e->head.ed;
	struct xw_thead old;
	int fd = dp->map_fd[XW_M_RENTS], rc = 0;

	if (bpf_map_lookup_elem(dp->map_fd[XW_M_TREES], &e->n, &old))
		return -errno;
	if (old.ed.base_id) {
		struct xw_thead unknown = old;

		unknown.ed.base_id = 0;
		if (bpf_map_update_elem(dp->map_fd[XW_M_TREES], &e->n, &unknown, 0))
			return -errno;
	}
	if (old.ed.base_id && old.ed.base_id == ed->base_id && old.ed.edits == ed->edits)
		return 0;
	if (old.ed.base_id && old.ed.base_id == ed->base_id && old.ed.edits + 1 == ed->edits &&
	    ed->n_changed <= XW_EDIT_LOG) {
		for (uint32_t i = 0; i < ed->n_changed && !rc; i++) {
			__u32 from = e->g * XW_MAX_RENTS + ed->changed[i];
			__u32 to = e->n * XW_MAX_RENTS + ed->changed[i];
			struct xw_rent r;

			if (ed->changed[i] >= e->over_start)
				return -EINVAL;
			if (bpf_map_lookup_elem(fd, &from, &r) || bpf_map_update_elem(fd, &to, &r, 0))
				rc = -errno;
		}
		return rc;
	}
	rc = copy_gen(fd, XW_MAX_RENTS, e->g, e->n, e->over_start, sizeof(struct xw_rent));
	if (!rc)
		rc = copy_gen(dp->map_fd[XW_M_NODES], XW_MAX_NODES, e->g, e->n, ed->nodes_base,
			      sizeof(struct xw_node));
	if (!rc)
		rc = copy_gen(dp->map_fd[XW_M_LIDS], XW_MAX_LIDS, e->g, e->n, ed->lids_base,
			      sizeof(uint32_t));
	return rc;
}

/* The new generation: the copy, the deletion, the overlay, the text; then
 * the switch. */
static int commit(struct edit *e, uint32_t del, uint32_t slot, const char *line,
		  struct xw_err *err)
{
	struct xw_dp *dp = e->dp;
	struct xw_tedit *ed = &e->head.ed;
	uint8_t fresh = 1;
	int rc, fd_x;

	/* nobody may still run on the half we fill */
	rc = xw_gen_grace_period(dp, e->g);
	if (rc)
		return sys_fail(err, "wait for packets in flight", rc);
	xw_dp_phase("edit: grace period");
	rc = sync_half(e);
	if (rc)
		return sys_fail(err, "copy the live generation", rc);
	xw_dp_phase("edit: copy generation");
	ed->n_changed = 0;
	if (!line && e->over_start) {
		void *base;
		size_t len;
		struct xw_rent *v = map_range(dp->map_fd[XW_M_RENTS], e->n * XW_MAX_RENTS, e->over_start,
					      sizeof(*v), PROT_READ | PROT_WRITE, &base, &len);

		if (!v)
			return sys_fail(err, "map rule entries", errno);
		rc = delete_entries(e, v, del);
		munmap(base, len);
		if (rc)
			return xw_errf(err, XW_ESYS, "out of memory");
	}
	if (e->n_over > XW_EDIT_MAX_OVER)
		return XW_EDIT_FULL;
	rc = write_overlay(e, err);
	xw_dp_phase("edit: overlay tree");
	if (!rc && bpf_map_update_elem(dp->map_fd[XW_M_TREES], &e->n, &e->head, 0))
		rc = sys_fail(err, "write the tree head", errno);
	if (!rc)
		rc = share_rest(e, err);
	if (!rc && line &&
	    ((rc = xw_gen_zero_slots(dp, &slot, &fresh, 1, 1)) != 0 ||
	     (rc = xw_gen_clear_src_buckets(dp, &slot, &fresh, 1, 1)) != 0))
		rc = sys_fail(err, "zero the new rule's counters", rc);
	if (rc)
		return rc;
	xw_dp_phase("edit: head, exact, counters");
	rc = share_base(e);
	if (rc)
		return sys_fail(err, "install rule text", rc);
	fd_x = new_text(e, line, slot, del);
	if (fd_x < 0)
		return sys_fail(err, "create rule text map", fd_x);
	rc = bpf_map_update_elem(dp->map_fd[XW_M_TEXT], &e->n, &fd_x, 0) ? -errno : 0;
	close(fd_x);
	if (rc)
		return sys_fail(err, "install rule text", rc);
	xw_dp_phase("edit: text, counters");
	return xw_gen_switch(dp, &e->cfg, e->n, e->cfg.policy[e->g], e->cfg.ct_on[e->g],
			     e->cfg.n_limit[e->g], err);
}

int xw_dp_edit(struct xw_dp *dp, const struct xw_rule *r, uint32_t del_prio, struct xw_err *err)
{
	struct edit e;
	uint32_t slot = 0;
	char *line = NULL;
	const char *how = getenv("XW_EDIT");
	int rc;

	/* XW_EDIT=full: every change a whole apply (benchmarks, tests) */
	if (how && !strcmp(how, "full"))
		return XW_EDIT_FULL;
	memset(&e, 0, sizeof(e));
	e.dp = dp;
	xw_dp_phase("edit: start");
	rc = read_live(&e, err);
	xw_dp_phase("edit: read live text");
	if (!rc)
		rc = prepare(&e, r, del_prio, &slot, &line, err);
	xw_dp_phase("edit: compile the change");
	/* the overlay's size is known once the deletion found its equals:
	 * past the limit, commit returns XW_EDIT_FULL before writing it */
	if (!rc)
		rc = commit(&e, r ? XW_PRIO_NONE : del_prio, slot, line, err);
	xw_dp_phase("edit: switch");
	free(line);
	xw_live_text_close(&e.lt);
	free(e.over);
	free(e.gone);
	return rc;
}
