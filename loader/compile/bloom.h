// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Membership filters in front of the tuple hash lookups (include/xw_bloom.h). */
#ifndef XW_LOADER_BLOOM_H
#define XW_LOADER_BLOOM_H

#include "compile.h"

/* Size each tuple's filter, set its bbase/bmask, and fill c->bloom
 * (c->n_bloom words, relative to the generation's part of xw_bloom).
 * Returns 0, or -1 when out of memory. */
int xw_bloom_build(struct xw_compiled *c);

/* The hash the datapath computes for compact key ck of a tuple with nw words. */
uint64_t xw_bloom_hash(const struct xw_ckey *ck, unsigned nw);

/* The datapath's test: does the filter of tuple t, in the nwords words of a
 * generation's filters, let compact key ck through to the hash lookup? */
int xw_bloom_passes(const uint64_t *words, uint32_t nwords, const struct xw_tuple *t,
		    const struct xw_ckey *ck);

#endif
