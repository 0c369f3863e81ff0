/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Per-tuple membership filter (a blocked Bloom filter) in front of the hash
 * lookup.  The shared-bits test skips a tuple only when the packet differs
 * from bits *all* of its entries share; with many entries there are few such
 * bits, so most probes would pay a full hash lookup (jhash of the key, bucket
 * walk) to learn "no entry".  The filter answers that from one 64-bit word of
 * an array map, whose lookup the verifier turns into an address computation:
 * a multiply-xor hash of the key words, three bits tested in one word.
 *
 * Compiled by the loader (loader/bloom.c) from the same compact keys the
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

/* The word: low bits of h (masked by the tuple's bmask); the three bits:
 * high bits of h, so they are independent of the word index. */
static inline __attribute__((always_inline)) __u64 xw_bloom_bits(__u64 h)
{
	return (1ull << ((h >> 40) & 63)) | (1ull << ((h >> 46) & 63)) |
	       (1ull << ((h >> 52) & 63));
}

#endif
