/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Rule stages: tuple space search over the live generation, first match by
 * priority.  Each stage probes up to XW_TUPLES_PER_STAGE tuples and tail-calls
 * itself for the next batch, which keeps every program small for the verifier
 * and lets a rule set have up to XW_MAX_TUPLES masks. */
#ifndef XW_CLASSIFY_H
#define XW_CLASSIFY_H

#include "xw_maps.h"
#include "xw_parse.h"
#include "xw_ct.h"

/* Start a packet: parse it into the per-CPU scratch of its direction. */
static __always_inline struct xw_scratch *
xw_begin(void *data, void *end, __u32 len, __u8 dir, __u32 ifindex)
{
	__u32 idx = dir, zero = 0;
	struct xw_scratch *s = bpf_map_lookup_elem(&xw_scratch, &idx);
	struct xw_cfg *cfg = bpf_map_lookup_elem(&xw_cfg, &zero);
	struct xw_pkt_x x;
	int r;

	if (!s || !cfg)
		return 0;
	__builtin_memset(s, 0, sizeof(*s));
	s->best_prio = XW_PRIO_NONE;
	s->gen = cfg->active & 1;
	s->fail_verdict = cfg->policy[s->gen][dir & 1];
	s->pkt_len = len;
	s->key.dir = dir;
	s->key.ifindex = ifindex;
	__builtin_memset(&x, 0, sizeof(x));
	r = xw_parse(data, end, &s->key, &x);
	if (r == XW_REASON_SHORT)
		s->malformed = 2;
	else if (r == XW_REASON_MALFORMED)
		s->malformed = 1;
	xw_ct_begin(s, &x, cfg);
	return s;
}

static __always_inline void xw_count(void *map, __u32 idx, __u32 len)
{
	struct xw_counter *c = bpf_map_lookup_elem(map, &idx);

	if (c) {
		c->packets++;
		c->bytes += len;
	}
}

/* Decide and count.  `policy` is only used when no rule matched. */
static __always_inline int xw_finish(struct xw_scratch *s, __u32 reason, __u8 policy)
{
	__u32 verdict;

	if (s->best_prio != XW_PRIO_NONE) {
		reason = XW_REASON_RULE;
		verdict = s->best_verdict;
		xw_count(&xw_rule_stats, s->best_slot, s->pkt_len);
	} else {
		verdict = policy;
	}
	xw_count(&xw_reason_stats, reason, s->pkt_len);
	if (s->malformed == 1)
		xw_count(&xw_reason_stats, XW_REASON_MALFORMED, s->pkt_len);
	else if (s->malformed == 2)
		xw_count(&xw_reason_stats, XW_REASON_SHORT, s->pkt_len);
	verdict = verdict == XW_PASS ? XW_PASS : XW_DROP;
	xw_count(&xw_verdict_stats, verdict, s->pkt_len);
	if (verdict == XW_PASS && s->ct_op) {
		__u32 zero = 0;
		struct xw_cfg *cfg = bpf_map_lookup_elem(&xw_cfg, &zero);

		if (cfg)
			xw_ct_commit(s, cfg);
	}
	s->reason = reason;
	s->verdict = verdict;
	return verdict;
}

/* Probe the next batch of tuples.  Returns a verdict, or -1 when the next
 * stage must run (the caller tail-calls it). */
static __always_inline int xw_classify_batch(struct xw_scratch *s)
{
	__u32 gen = s->gen, i = s->next_tuple, j;
	struct xw_entry_key ek;
	void *tuples, *entries;

	tuples = bpf_map_lookup_elem(&xw_tuples, &gen);
	entries = bpf_map_lookup_elem(&xw_entries, &gen);
	if (!tuples || !entries)
		return xw_finish(s, XW_REASON_TAILCALL, s->fail_verdict);

	__builtin_memset(&ek, 0, sizeof(ek));
	for (j = 0; j < XW_TUPLES_PER_STAGE; j++, i++) {
		struct xw_tuple *t = bpf_map_lookup_elem(tuples, &i);
		struct xw_entry_val *v;
		__u64 *km = (__u64 *)&ek.k, *pk = (__u64 *)&s->key, *mk;
		int w;

		if (!t)
			return xw_finish(s, XW_REASON_TAILCALL, s->fail_verdict);
		/* sorted by min_prio: nothing later can beat what we have;
		 * the sentinel (min_prio NONE) always stops and holds the policy */
		if (t->min_prio >= s->best_prio) {
			__u8 pol = XW_PASS;

			if (t->min_prio == XW_PRIO_NONE)
				pol = t->policy[s->key.dir & 1];
			return xw_finish(s, XW_REASON_POLICY, pol);
		}
		{
			__u64 *cm = (__u64 *)&t->cmask, *cv = (__u64 *)&t->cval, diff = 0;

#pragma unroll
			for (w = 0; w < (int)XW_KEY_WORDS; w++)
				diff |= (pk[w] & cm[w]) ^ cv[w];
			if (diff)
				continue;
		}
		mk = (__u64 *)&t->mask;
#pragma unroll
		for (w = 0; w < (int)XW_KEY_WORDS; w++)
			km[w] = pk[w] & mk[w];
		ek.tuple = i;
		v = bpf_map_lookup_elem(entries, &ek);
		if (v && v->prio < s->best_prio) {
			s->best_prio = v->prio;
			s->best_slot = v->slot;
			s->best_verdict = v->verdict;
			s->best_flags = v->flags;
		}
	}
	s->next_tuple = i;
	return -1;
}

#endif
