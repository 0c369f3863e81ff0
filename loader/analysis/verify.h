// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* `xwall verify`: check that the live datapath implements the live rule
 * set's first-match semantics over every stateless field (docs/verify.md).
 *
 * The rule set and the maps are read back from the kernel.  The packet-key
 * space is cut into cells on which every rule and every map entry is either
 * all-matching or all-missing (built field by field, decision-diagram style);
 * one frame per cell goes through the live programs with BPF_PROG_TEST_RUN
 * and its verdict and deciding rule are compared with the first match of the
 * rule text. */
#ifndef XW_VERIFY_H
#define XW_VERIFY_H

#include <stdint.h>
#include <stdio.h>
#include "datapath.h"

struct xw_verify_opts {
	FILE    *out;            /* counterexamples (default stdout) */
	FILE    *log;            /* breakdown with verbose (default stderr) */
	unsigned max_examples;   /* counterexamples to print (default 1) */
	int      verbose;
	int      self_check;     /* also evaluate every cell's rule text directly
				  * (slow; for tests of verify itself) */
};

struct xw_verify_stats {
	uint64_t cells;          /* frames run, including shape cells */
	uint64_t key_cells;      /* leaves of the field-by-field split */
	uint64_t shape_cells;    /* extra frames: malformed IP headers */
	uint64_t mismatches;
	uint64_t skipped;        /* frames the kernel's test run refuses (see docs) */
	uint64_t retries;        /* runs repeated because the scratch was overwritten */
	uint64_t dir_cells[2];
	size_t   rules, entries, trees, limits;
	size_t   xshapes, xentries;   /* exact shapes and the entries they hold */
	int      exact;          /* limit entries out of order: no shortcut */
	double   seconds;
};

/* Runs the check on an open datapath (pinned or private).  Returns XW_OK
 * when it ran (st->mismatches tells the result), else XW_ESYS / XW_EINPUT
 * with err set. */
int xw_verify(struct xw_dp *dp, const struct xw_verify_opts *opts,
	      struct xw_verify_stats *st, struct xw_err *err);

#endif
