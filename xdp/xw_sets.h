// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Named sets in the datapath (include/xw_set.h).
 *
 * xw_sets_stage() runs once per packet, after parsing and before the tuple
 * search: it walks the live generation's set rules in priority order and
 * records the first that matches as the packet's best rule so far, so the
 * tuple search and the limit stage only look for rules of lower priority
 * numbers (whichever of the two has the lower number decides).  It knows
 * nothing of the classifier beyond struct xw_scratch's best_* fields.
 *
 * xw_sets_ban() is called by the limit stage when a rule's bucket is over:
 * a `ban @NAME D` rule inserts the packet's source into NAME with timeout D
 * (into the live hash map: a source address is a full-length element). */
#ifndef XW_SETS_H
#define XW_SETS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "xwall.h"
#include "xw_set.h"
#include "xw_maps.h"

struct xw_set_inner {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XW_SET_DEFAULT_SIZE);
	/* sizes, not __type: clang 14 emits only a forward BTF type */
	__uint(key_size, sizeof(struct xw_set_key));
	__uint(value_size, sizeof(struct xw_set_val));
};

struct xw_set_hinner {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XW_SET_DEFAULT_SIZE);
	__uint(key_size, sizeof(struct xw_set_key));
	__uint(value_size, sizeof(struct xw_set_val));
};

/* Slot XW_SET_SLOT(id, cur): the prefixes of set id (an LPM trie). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, XW_SET_SLOTS);
	__type(key, __u32);
	__array(values, struct xw_set_inner);
} xw_set_maps SEC(".maps");

/* Slot XW_SET_SLOT(id, cur): the full-length elements of set id (a hash). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, XW_SET_SLOTS);
	__type(key, __u32);
	__array(values, struct xw_set_hinner);
} xw_set_hmaps SEC(".maps");

/* Which slot pair of set id is live (0 or 1; flipped by a replace). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XW_MAX_SETS);
	__type(key, __u32);
	__type(value, __u32);
} xw_set_cur SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XW_MAX_SETS);
	__type(key, __u32);
	__type(value, struct xw_set_def);
} xw_set_defs SEC(".maps");

/* Set rules of generation g at [g * XW_MAX_SET_RULES, ...). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * XW_MAX_SET_RULES);
	__type(key, __u32);
	__type(value, struct xw_set_rule);
} xw_set_rules SEC(".maps");

/* Number of set rule entries per generation. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} xw_set_nrules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * 64);
	__type(key, struct xw_ban_key);
	__type(value, struct xw_ban_val);
} xw_set_bans SEC(".maps");

static __always_inline int xw_set_live(const struct xw_set_val *v, __u64 now)
{
	return !v->expires_ns || (__s64)(v->expires_ns - now) > 0;
}

/* Is (kind, data) in set id at time now?  The exact element first (hash);
 * else the longest prefix covering it (trie: only shorter prefixes are
 * there); if that one has expired a shorter prefix may still cover the
 * address, so look again below it (at most XW_SET_PROBES times). */
static __noinline int xw_set_has(__u32 id, __u32 kind, const __u8 *data, __u64 now)
{
	struct xw_set_key k;
	struct xw_set_val *v;
	__u32 *cur, slot;
	void *inner;
	int t;

	cur = bpf_map_lookup_elem(&xw_set_cur, &id);
	if (!cur)
		return 0;
	slot = XW_SET_SLOT(id, *cur);
	__builtin_memset(&k, 0, sizeof(k));
	k.kind = (__u8)kind;
	k.prefixlen = 8 + XW_SET_KEY_BITS(kind);
	if (kind == XW_SETK_PORT) {
		k.data[0] = data[1];   /* host order in the packet key: big-endian here */
		k.data[1] = data[0];
	} else {
		__builtin_memcpy(k.data, data, 16);
	}
	inner = bpf_map_lookup_elem(&xw_set_hmaps, &slot);
	if (inner) {
		v = bpf_map_lookup_elem(inner, &k);
		if (v && xw_set_live(v, now))
			return 1;
	}
	inner = bpf_map_lookup_elem(&xw_set_maps, &slot);
	if (!inner)
		return 0;
	for (t = 0; t < XW_SET_PROBES; t++) {
		v = bpf_map_lookup_elem(inner, &k);
		if (!v)
			return 0;
		if (xw_set_live(v, now))
			return 1;
		if (v->klen <= 8)
			return 0;
		k.prefixlen = (__u32)v->klen - 1;
	}
	return 0;
}

struct xw_sets_ctx {
	__u32 sidx;      /* scratch slot */
	__u32 base;      /* first set rule of the generation */
	__u32 n;
	__u32 done;
	__u64 now;
};

static long xw_sets_one(__u32 i, void *arg)
{
	struct xw_sets_ctx *c = arg;
	struct xw_scratch *s;
	struct xw_set_rule *e;
	__u64 *pk, *mk, *kk, diff = 0;
	__u32 ri = c->base + i;
	int w;

	if (i >= c->n)
		return 1;
	s = bpf_map_lookup_elem(&xw_scratch, &c->sidx);
	e = bpf_map_lookup_elem(&xw_set_rules, &ri);
	if (!s || !e || e->prio >= s->best_prio)
		return 1;
	pk = (__u64 *)&s->key;
	mk = (__u64 *)&e->mask;
	kk = (__u64 *)&e->key;
#pragma unroll
	for (w = 0; w < (int)XW_KEY_WORDS; w++)
		diff |= (pk[w] & mk[w]) ^ kk[w];
	if (diff)
		return 0;
	if (e->set[XW_SETR_SRC] || e->set[XW_SETR_DST]) {
		__u32 kind;

		if (s->key.flags & XWK_V4)
			kind = XW_SETK_V4;
		else if (s->key.flags & XWK_V6)
			kind = XW_SETK_V6;
		else
			return 0;
		if (e->set[XW_SETR_SRC] && !xw_set_has(e->set[XW_SETR_SRC], kind, s->key.src, c->now))
			return 0;
		if (e->set[XW_SETR_DST] && !xw_set_has(e->set[XW_SETR_DST], kind, s->key.dst, c->now))
			return 0;
	}
	if (e->set[XW_SETR_SPORT] || e->set[XW_SETR_DPORT]) {
		if (!(s->key.flags & XWK_PORTS))
			return 0;
		if (e->set[XW_SETR_SPORT] &&
		    !xw_set_has(e->set[XW_SETR_SPORT], XW_SETK_PORT, (__u8 *)&s->key.sport, c->now))
			return 0;
		if (e->set[XW_SETR_DPORT] &&
		    !xw_set_has(e->set[XW_SETR_DPORT], XW_SETK_PORT, (__u8 *)&s->key.dport, c->now))
			return 0;
	}
	s->best_prio = e->prio;
	s->best_slot = e->slot;
	s->best_verdict = e->verdict;
	s->best_flags = e->flags;
	return 1;
}

/* The set rules of the packet's generation; sidx: its scratch slot. */
static __always_inline void xw_sets_stage(struct xw_scratch *s, __u32 sidx)
{
	__u32 g = s->gen & 1;
	__u32 *n = bpf_map_lookup_elem(&xw_set_nrules, &g);
	struct xw_sets_ctx c;

	if (!n || !*n)
		return;
	c.sidx = sidx;
	c.base = g * XW_MAX_SET_RULES;
	c.n = *n > XW_MAX_SET_RULES ? XW_MAX_SET_RULES : *n;
	c.done = 0;
	c.now = bpf_ktime_get_ns();
	bpf_loop(XW_MAX_SET_RULES, xw_sets_one, &c, 0);
}

/* A limit rule of priority prio is over its rate: if it has `ban @NAME D`,
 * put the packet's source into NAME until now + D (refreshing a ban). */
static __always_inline void xw_sets_ban(struct xw_scratch *s, __u32 prio, __u64 now)
{
	struct xw_ban_key bk = { .gen = s->gen & 1, .prio = prio };
	struct xw_ban_val *b;
	struct xw_set_def *d;
	struct xw_set_key k;
	struct xw_set_val v;
	void *inner;
	__u32 id, *cur, slot;

	if (s->probe)
		return;
	b = bpf_map_lookup_elem(&xw_set_bans, &bk);
	if (!b)
		return;
	id = b->set;
	d = bpf_map_lookup_elem(&xw_set_defs, &id);
	cur = bpf_map_lookup_elem(&xw_set_cur, &id);
	if (!d || !cur)
		return;
	slot = XW_SET_SLOT(id, *cur);
	inner = bpf_map_lookup_elem(&xw_set_hmaps, &slot);   /* a /32 or /128: exact */
	if (!inner)
		return;
	__builtin_memset(&k, 0, sizeof(k));
	__builtin_memset(&v, 0, sizeof(v));
	if ((s->key.flags & XWK_V4) && (d->type == XW_SETT_IPV4 || d->type == XW_SETT_INET)) {
		k.kind = XW_SETK_V4;
		k.prefixlen = 8 + 32;
	} else if ((s->key.flags & XWK_V6) && (d->type == XW_SETT_IPV6 || d->type == XW_SETT_INET)) {
		k.kind = XW_SETK_V6;
		k.prefixlen = 8 + 128;
	} else {
		return;
	}
	__builtin_memcpy(k.data, s->key.src, 16);
	if (k.kind == XW_SETK_V4)
		__builtin_memset(k.data + 4, 0, 12);
	v.expires_ns = b->timeout_ns ? now + b->timeout_ns : 0;
	if (!v.expires_ns && d->timeout_ns)
		v.expires_ns = now + d->timeout_ns;
	v.klen = (__u8)k.prefixlen;
	v.banned = 1;
	bpf_map_update_elem(inner, &k, &v, BPF_ANY);
}

#endif
