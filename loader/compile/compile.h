// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Compiler of a rule set into the datapath's tuple-space maps. */
#ifndef XW_COMPILE_H
#define XW_COMPILE_H

#include "rule.h"
#include "xwall.h"

struct xw_compiled {
	uint32_t n_tuples;              /* without the sentinel */
	struct xw_tuple *tuples;        /* n_tuples + 1; last is the sentinel */
	size_t n_entries;               /* deduplicated entries, full keys */
	struct xw_entry_key *keys;
	struct xw_entry_val *vals;
	/* the same entries as the datapath stores them: per key class, the
	 * tuple id and the words its mask touches (struct xw_ckey prefix) */
	struct {
		size_t n;
		uint8_t *keys;              /* n keys of xw_ckey_size(class) bytes */
		struct xw_entry_val *vals;
	} cls[XW_KEY_CLASSES];
	/* membership filters (loader/compile/bloom.c): n_bloom words, tuple t's at
	 * [t.bbase, t.bbase + t.bmask] */
	uint32_t n_bloom;
	uint64_t *bloom;
	uint8_t uses_ct;                /* some rule matches `ct`: track flows */
	uint32_t n_limits;              /* entries of rules with `limit`, by prio */
	struct xw_limit_entry *limits;
};

/* slot[i] is the counter slot of rs->rules[i]; ifindex[i] its `iif` (0 if
 * none; may be NULL when no rule has iif).  Returns 0, or -1 with err set. */
int xw_compile(const struct xw_ruleset *rs, const uint32_t *slot,
	       const uint32_t *ifindex, struct xw_compiled *out, struct xw_err *err);
void xw_compiled_free(struct xw_compiled *c);

/* The most (mask, key) records a rule set may expand to before
 * deduplication: what the datapath's key classes hold in all. */
#define XW_MAX_EXPANSION (XW_KEY_CLASSES * XW_MAX_CLASS_ENTRIES)
/* Records rule r expands to (the cross product of its alternatives),
 * saturating at UINT64_MAX; `how` (may be NULL) gets the factors, e.g.
 * "150 src x 150 dst x 30 dport". */
uint64_t xw_expansion_size(const struct xw_rule *r, char *how, size_t len);
/* The datapath's form: rule entries (port ranges kept as ranges) cut into
 * decision trees (loader/compile/tree.h), and the limit entries.  xw_compile above
 * is the tuple form, kept for analysis (lint, benchmarks' models). */
struct xw_ctree;
struct xw_tcompiled {
	struct xw_ctree *tree;
	/* entries dropped because an equal match (mask, value, ports) of a
	 * better priority decides first: kept for `rule del` of that one */
	uint32_t n_dups;
	struct xw_rent *dups;
	uint8_t uses_ct;
	uint32_t n_limits;
	struct xw_limit_entry *limits;
};
int xw_compile_tree(const struct xw_ruleset *rs, const uint32_t *slot,
		    const uint32_t *ifindex, struct xw_tcompiled *out, struct xw_err *err);
void xw_tcompiled_free(struct xw_tcompiled *c);

static inline size_t xw_ckey_size(int cls)
{
	return 8 + 8 * (size_t)XW_CLASS_WORDS(cls);
}
/* The compact key of a full key for tuple t (as the datapath builds it). */
void xw_ckey_make(const struct xw_tuple *t, uint32_t tuple_id, const struct xw_key *k,
		  struct xw_ckey *out);

/* Split [lo, hi] into value/mask prefixes of `bits` width.  Returns the count
 * written (at most 2*bits), vals/masks need room for 2*bits. */
int xw_range_prefixes(uint32_t lo, uint32_t hi, int bits, uint32_t *vals, uint32_t *masks);

#endif
