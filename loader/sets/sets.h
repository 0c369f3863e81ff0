// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Named sets: the `set NAME { ... }` language, elements, durations, and the
 * set maps of the datapath (include/xw_set.h for the layout). */
#ifndef XW_SETS_H
#define XW_SETS_H

#include <stdbool.h>
#include <stdio.h>
#include "rule.h"
#include "xwall.h"
#include "xw_set.h"

struct xw_dp;

/* [A-Za-z_][A-Za-z0-9_-]*, at most 31 characters. */
bool xw_set_name_ok(const char *s, size_t len);
/* "30s", "10m", "1h", "7d", "1h30m", "250ms"; a bare number is seconds.
 * Returns 0 and *ms, or -1. */
int xw_duration_parse(const char *s, size_t len, uint64_t *ms);
void xw_duration_format(uint64_t ms, char *buf, size_t len);
const char *xw_set_type_name(uint8_t type);

/* `set NAME { ... }` at the start of text (line `line` of fname; the block
 * may span lines).  *used: bytes up to the end of the line holding the
 * closing brace (without its newline).  Errors "FILE:LINE:COL: ...". */
int xw_set_decl_parse(const char *text, size_t len, const char *fname, int line,
		      struct xw_set_decl *d, size_t *used, struct xw_err *err);
/* One element as text (an address or prefix, a port or range; no timeout). */
int xw_set_elem_parse(const struct xw_set_decl *d, const char *s, size_t len,
		      struct xw_set_elem *e, char *why, size_t whylen);
/* The declaration, with its elements if with_elems (one line). */
void xw_set_decl_print(FILE *f, const struct xw_set_decl *d, int with_elems);
/* Every set reference of rs names a declared set of a fitting type, and no
 * rule with a set reference has `limit`.  0, or -1 with err. */
int xw_sets_check(const struct xw_ruleset *rs, struct xw_err *err);
int xw_rule_uses_sets(const struct xw_rule *r);
const struct xw_set_decl *xw_ruleset_set(const struct xw_ruleset *rs, const char *name);

/* ---- datapath (loader/sets.c) ---- */

/* Generation `to`'s set rules and bans made those of generation `from`
 * (`rule add|del` of a rule without sets, loader/datapath/edit.c). */
int xw_sets_copy_generation(struct xw_dp *dp, uint32_t from, uint32_t to, struct xw_err *err);

/* Apply, step 1 (before the generation switch): create/keep/replace the
 * sets of rs, write generation gen's set rules and bans.  The rules with
 * set references are compiled here; *uses_ct is set if one matches `ct`. */
int xw_sets_apply_prepare(struct xw_dp *dp, const struct xw_ruleset *rs, const uint32_t *slots,
			  const uint32_t *ifx, uint32_t gen, uint8_t *uses_ct, struct xw_err *err);
/* Apply, step 2 (after the switch and a grace period): remove the sets rs
 * no longer declares. */
int xw_sets_apply_finish(struct xw_dp *dp, const struct xw_ruleset *rs, struct xw_err *err);
/* The rules of rs without set references (shallow: do not free the rules),
 * with their slots and ifindexes. */
int xw_sets_split(const struct xw_ruleset *rs, const uint32_t *slots, const uint32_t *ifx,
		  struct xw_ruleset *plain, uint32_t **pslots, uint32_t **pifx);

struct xw_set_item {               /* one element as listed */
	struct xw_set_elem e;
	int64_t left_ms;               /* -1: no timeout; 0: expired */
	uint8_t banned;
};

/* Open only what `xwall set` needs: take the datapath lock and open the set
 * maps (xw_set_defs, xw_set_cur, xw_set_hmaps, xw_set_maps), checking their
 * layout.  XW_OK, XW_ESYS, or -1 if xwall is not loaded (err says so). */
int xw_sets_open(struct xw_dp *dp, struct xw_err *err);
/* Set id of name, and its definition; 0 if none. */
uint32_t xw_set_find(struct xw_dp *dp, const char *name, struct xw_set_def *def);
int xw_set_defs(struct xw_dp *dp, struct xw_set_def defs[XW_MAX_SETS]);
/* Elements of set id (expired ones too, with left_ms 0). Caller frees *items. */
int xw_set_items(struct xw_dp *dp, uint32_t id, struct xw_set_item **items, size_t *n,
		 struct xw_err *err);
/* Add (or refresh) / delete elements of set id.  All or nothing for bad input is
 * the caller's job (parse first); a full set is XW_ESYS. */
int xw_set_update(struct xw_dp *dp, uint32_t id, const struct xw_set_def *def,
		  const struct xw_set_elem *e, size_t n, bool del, struct xw_err *err);
/* Replace all elements atomically (new maps, then one switch of xw_set_cur). */
int xw_set_replace(struct xw_dp *dp, uint32_t id, const struct xw_set_def *def,
		   const struct xw_set_elem *e, size_t n, struct xw_err *err);
/* xw_set_replace for `set load`: the addresses the datapath banned (`ban`)
 * and whose ban is still live stay in the set, also those banned while the
 * new maps were being filled. */
int xw_set_load(struct xw_dp *dp, uint32_t id, const struct xw_set_def *def,
		const struct xw_set_elem *e, size_t n, struct xw_err *err);
/* Delete the expired elements of every set; *removed counts them. */
int xw_set_gc(struct xw_dp *dp, uint64_t *removed, struct xw_err *err);
/* lint/verify: replace each set reference of rs by a list of the set's
 * elements (the file's `elements`, else the live set's when dp is given),
 * up to 4096 per set.  A rule on an empty set never matches: it is
 * removed (rule indexes change). */
int xw_sets_materialize(struct xw_ruleset *rs, struct xw_dp *dp, struct xw_err *err);
/* verify: read back every set map and check it against the definitions,
 * the live rule set's declarations and the live set rules; report() is
 * called per problem.  Returns 0 or -errno. */
int xw_sets_verify(struct xw_dp *dp, const struct xw_ruleset *live,
		   void (*report)(const char *msg, void *arg), void *arg,
		   size_t *n_sets, size_t *n_elems, size_t *problems);
/* CLOCK_MONOTONIC now, in ns (bpf_ktime_get_ns's clock). */
uint64_t xw_mono_ns(void);

#endif
