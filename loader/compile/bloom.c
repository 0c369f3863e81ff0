// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Membership filters of a compiled rule set (include/xw_bloom.h): sizes each
 * tuple's part of the filter by its entry count and sets the bits of every
 * entry, exactly as the datapath will test them. */
#include <stdlib.h>
#include <string.h>
#include "bloom.h"
#include "xw_bloom.h"

static uint32_t pow2_at_least(uint64_t n)
{
	uint32_t p = 1;

	while (p < n && p < XW_BLOOM_WORDS)
		p <<= 1;
	return p;
}

uint64_t xw_bloom_hash(const struct xw_ckey *ck, unsigned nw)
{
	uint64_t h = xw_bloom_seed(ck->tuple);

	for (unsigned w = 0; w < nw && w < 8; w++)
		h = xw_bloom_mix(h, ck->w[w]);
	return xw_bloom_final(h);
}

int xw_bloom_passes(const uint64_t *words, uint32_t nwords, const struct xw_tuple *t,
		    const struct xw_ckey *ck)
{
	uint64_t h = xw_bloom_hash(ck, t->nw), bits = xw_bloom_bits(h);
	uint32_t i = xw_bloom_word(t->bbase, t->bmask, h);

	return i < nwords && (words[i] & bits) == bits;
}

int xw_bloom_build(struct xw_compiled *c)
{
	uint32_t nt = c->n_tuples, *size, total = 0;
	size_t *count;

	count = calloc(nt + 1, sizeof(*count));
	size = calloc(nt + 1, sizeof(*size));
	if (!count || !size) {
		free(count);
		free(size);
		return -1;
	}
	for (size_t i = 0; i < c->n_entries; i++)
		count[c->keys[i].tuple]++;
	for (uint32_t t = 0; t < nt; t++) {
		size[t] = pow2_at_least(((uint64_t)count[t] * XW_BLOOM_BITS_PER_ENTRY + 63) / 64);
		total += size[t];
	}
	/* too big for the map: halve the largest until it fits (at most
	 * XW_MAX_TUPLES one-word parts, far below XW_BLOOM_WORDS) */
	while (total > XW_BLOOM_WORDS) {
		uint32_t big = 0;

		for (uint32_t t = 1; t < nt; t++)
			if (size[t] > size[big])
				big = t;
		if (size[big] <= 1)
			break;   /* more tuples than words: parts overlap (analysis only) */
		size[big] /= 2;
		total -= size[big];
	}
	/* largest first keeps every part aligned to its size */
	c->n_bloom = total;
	c->bloom = calloc(total ? total : 1, sizeof(*c->bloom));
	if (!c->bloom) {
		free(count);
		free(size);
		return -1;
	}
	for (uint32_t at = 0, sz = XW_BLOOM_WORDS; sz; sz /= 2)
		for (uint32_t t = 0; t < nt; t++)
			if (size[t] == sz) {
				c->tuples[t].bbase = at;
				c->tuples[t].bmask = sz - 1;
				at += sz;
			}
	for (size_t i = 0; i < c->n_entries; i++) {
		const struct xw_tuple *t = &c->tuples[c->keys[i].tuple];
		struct xw_ckey ck;
		uint64_t h;

		xw_ckey_make(t, c->keys[i].tuple, &c->keys[i].k, &ck);
		h = xw_bloom_hash(&ck, t->nw);
		c->bloom[xw_bloom_word(t->bbase, t->bmask, h)] |= xw_bloom_bits(h);
	}
	free(count);
	free(size);
	return 0;
}
