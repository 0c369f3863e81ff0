// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Per-tuple membership filter (a blocked Bloom filter) in front of the hash
 * lookup.  The shared-bits test skips a tuple only when the packet differs
 * from bits *all* of its entries share; with many entries there are few such
 * bits, so most probes would pay a full hash lookup (jhash of the key, bucket
 * walk) to learn "no entry".  The filter answers that from one 64-bit word of
 * an array map, whose lookup the verifier turns into an address computation:
 * a multiply-xor hash of the key words, three bits tested in one word.
 *
 * Compiled by the loader (loader/compile/bloom.c) from the same compact keys the
 * entries maps hold, and computed the same way by the datapath: this header
 * is the one definition both use. */
#ifndef XW_BLOOM_H
#define XW_BLOOM_H

#include <linux/types.h>

/* Words per generation of the xw_bloom array map (512 KiB of bits). */
#define XW_BLOOM_WORDS (1u << 16)
/* Filter size target per entry, in bits; three bits set per entry. */
#define XW_BLOOM_BITS_PER_ENTRY 16u

#define XW_BLOOM_K1 0x9e3779b97f4a7c15ull
#define XW_BLOOM_K2 0xd6e8feb86659fd93ull

static inline __attribute__((always_inline)) __u64 xw_bloom_seed(__u32 tuple)
{
	return ((__u64)tuple + 1) * XW_BLOOM_K1;
}

/* Fold in one key word (words past the tuple's nw are not folded). */
static inline __attribute__((always_inline)) __u64 xw_bloom_mix(__u64 h, __u64 w)
{
	return (h ^ w) * XW_BLOOM_K1;
}

static inline __attribute__((always_inline)) __u64 xw_bloom_final(__u64 h)
{
	h ^= h >> 32;
	h *= XW_BLOOM_K2;
	h ^= h >> 29;
	return h;
}

/* The word, within the generation's part of the map: the tuple's part
 * starts at bbase and has bmask + 1 words; the low bits of h pick one. */
static inline __attribute__((always_inline)) __u32 xw_bloom_word(__u32 bbase, __u32 bmask, __u64 h)
{
	return (bbase + ((__u32)h & bmask)) & (XW_BLOOM_WORDS - 1);
}

/* The three bits: high bits of h, so they are independent of the word. */
static inline __attribute__((always_inline)) __u64 xw_bloom_bits(__u64 h)
{
	return (1ull << ((h >> 40) & 63)) | (1ull << ((h >> 46) & 63)) |
	       (1ull << ((h >> 52) & 63));
}

#endif
