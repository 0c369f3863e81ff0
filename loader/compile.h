/* Compiler of a rule set into the datapath's tuple-space maps. */
#ifndef XW_COMPILE_H
#define XW_COMPILE_H

#include "rule.h"
#include "xwall.h"

struct xw_compiled {
	uint32_t n_tuples;              /* without the sentinel */
	struct xw_tuple *tuples;        /* n_tuples + 1; last is the sentinel */
	size_t n_entries;
	struct xw_entry_key *keys;
	struct xw_entry_val *vals;
	uint8_t uses_ct;                /* some rule matches `ct`: track flows */
	uint32_t n_limits;              /* entries of rules with `limit`, by prio */
	struct xw_limit_entry *limits;
};

/* slot[i] is the counter slot of rs->rules[i]; ifindex[i] its `iif` (0 if
 * none; may be NULL when no rule has iif).  Returns 0, or -1 with err set. */
int xw_compile(const struct xw_ruleset *rs, const uint32_t *slot,
	       const uint32_t *ifindex, struct xw_compiled *out, struct xw_err *err);
void xw_compiled_free(struct xw_compiled *c);

/* Split [lo, hi] into value/mask prefixes of `bits` width.  Returns the count
 * written (at most 2*bits), vals/masks need room for 2*bits. */
int xw_range_prefixes(uint32_t lo, uint32_t hi, int bits, uint32_t *vals, uint32_t *masks);

#endif
