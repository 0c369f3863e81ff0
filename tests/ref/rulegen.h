// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Random rule sets in the rule language of docs/rules.md, for differential tests.
 *
 * Values come from the pktgen pools so rules match generated packets often.
 * The datapath pays one tuple per distinct (fields, prefix lengths, port
 * block sizes, ...) combination, capped at XW_MAX_TUPLES, so rules are drawn
 * from a small library of "shapes" whose estimated tuple count stays within
 * a budget; rules of one shape differ only in values.
 */
#ifndef XW_RULEGEN_H
#define XW_RULEGEN_H

#include <stddef.h>

#include "pktgen.h"

#define XW_RULEGEN_DEF_SHAPES  64u    /* distinct shapes per rule set */
#define XW_RULEGEN_DEF_BUDGET  256u   /* estimated tuples (datapath cap 1024) */

struct xw_rulegen_opts {
	size_t   n_rules;       /* at most 1000000 (distinct priorities) */
	int      dirs;          /* 1: `in` only; 2: `in` and `out` */
	unsigned max_shapes;    /* 0: XW_RULEGEN_DEF_SHAPES */
	unsigned tuple_budget;  /* 0: XW_RULEGEN_DEF_BUDGET */
	unsigned log_pct;       /* share of rules with `log` */
	unsigned audit_pct;     /* share of rules (and policies) with `audit` */
	int      no_policy;     /* never emit a `policy` line */
};

/* Stateless rules (no ct, limit or iif), unique priorities, lines in random
 * order, sometimes one `policy` line; log_pct 10, audit_pct 10.  Returns
 * malloc'd text (NULL on OOM). */
char *xw_rulegen(struct xw_rng *rng, size_t n_rules, int dirs);

/* Same with options; *est_tuples (if not NULL) gets the estimated number of
 * datapath tuples of the result. */
char *xw_rulegen_ex(struct xw_rng *rng, const struct xw_rulegen_opts *opts,
		    unsigned *est_tuples);

/* xdp-filter-comparable rules, priorities 1..n in order:
 *   rule N src A drop | rule N dst A drop | rule N tcp dport P drop | rule N udp sport P drop
 * with distinct exact IPv4 (10.0.0.0/8) / IPv6 (2001:db8::/96) addresses and
 * single ports.  n up to 1000000.  Returns malloc'd text. */
char *xw_rulegen_simple(struct xw_rng *rng, size_t n);

/* Range-heavy, prefix-diverse rules (the shapes that exceeded the old
 * 1,024-mask limit): every rule `tcp|udp src A/L dst B/M sport X-Y dport
 * Z-W` with random prefix lengths (IPv4 0..32, some IPv6 0..128) and random
 * port ranges (width 1, < 16, < 1024 or any), both directions, priorities
 * 1..n in order.  Returns malloc'd text (NULL on OOM). */
char *xw_rulegen_ranges(struct xw_rng *rng, size_t n);

#endif
