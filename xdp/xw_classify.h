// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Rule stages: decision trees over the live generation (include/xwall.h,
 * loader/compile/tree.c), first match by priority.  Each stage reads up to
 * XW_LEAF_PER_STAGE leaf entries and tail-calls itself to go on, which keeps
 * the program small for the verifier whatever the rule set. */
#ifndef XW_CLASSIFY_H
#define XW_CLASSIFY_H

#include "xw_maps.h"
#include "xw_parse.h"
#include "xw_ct.h"
#include "xw_sets.h"

/* The scratch slot of a packet: its direction's, or its direction's probe
 * slot for a probe frame (include/xwall.h: XW_PROBE_MARK0). */
static __always_inline __u32 xw_scratch_slot(__u8 dir, int probe)
{
	return (probe ? XW_SCRATCH_PROBE : 0) + (dir & 1);
}

/* Start a packet: the per-CPU scratch of its direction, reset, for a frame
 * of len bytes; *cfgp is the configuration. */
static __always_inline struct xw_scratch *
xw_start(__u32 len, __u8 dir, __u32 ifindex, int probe, struct xw_cfg **cfgp)
{
	__u32 idx = xw_scratch_slot(dir, probe), zero = 0;
	struct xw_scratch *s = bpf_map_lookup_elem(&xw_scratch, &idx);
	struct xw_cfg *cfg = bpf_map_lookup_elem(&xw_cfg, &zero);

	if (!s || !cfg)
		return 0;
	/* the conntrack write-back part is set only when ct_op says so */
	__builtin_memset(s, 0, __builtin_offsetof(struct xw_scratch, ct_key));
	s->best_prio = XW_PRIO_NONE;
	s->probe = !!probe;
	s->gen = cfg->active & 1;
	s->fail_verdict = cfg->policy[s->gen][dir & 1];
	s->n_limit = cfg->n_limit[s->gen] > XW_MAX_LIMIT_ENTRIES ? XW_MAX_LIMIT_ENTRIES :
		     (__u8)cfg->n_limit[s->gen];
	s->pkt_len = len;
	s->key.dir = dir;
	s->key.ifindex = ifindex;
	*cfgp = cfg;
	return s;
}

/* Parse frame f, readable in [data, end), into *k and *x.  Returns
 * xw_parse()'s answer; on XW_PARSE_MORE the key and *x are reset, for the
 * caller to make more of the frame readable and call again. */
static __always_inline int xw_parse_key(struct xw_key *k, void *data, void *end,
					const struct xw_frame *f, struct xw_pkt_x *x)
{
	__u32 ifindex = k->ifindex;
	__u8 dir = k->dir;
	int r;

	__builtin_memset(x, 0, sizeof(*x));
	r = xw_parse(data, end, f, k, x);
	if (r == XW_PARSE_MORE) {
		__builtin_memset(k, 0, sizeof(*k));
		k->dir = dir;
		k->ifindex = ifindex;
		__builtin_memset(x, 0, sizeof(*x));
	}
	return r;
}

/* The parse answered r: count it, then classify the conntrack state. */
static __always_inline void xw_parsed(struct xw_scratch *s, const struct xw_cfg *cfg, int r,
				      const struct xw_pkt_x *x)
{
	if (r == XW_PARSE_MORE)
		r = XW_REASON_MALFORMED;   /* the headers could not be made readable */
	if (r == XW_REASON_SHORT)
		s->malformed = XW_MAL_SHORT;
	else if (r == XW_REASON_MALFORMED)
		s->malformed = XW_MAL_L3;
	/* bounds the generation for the verifier: ct indexes cfg by it */
	s->gen &= 1;
	xw_ct_begin(s, x, cfg);
	/* set rules first (xdp/xw_sets.h): they seed best_prio */
	xw_sets_stage(s, xw_scratch_slot(s->key.dir, s->probe));
}

/* Start a packet whose frame f is wholly readable in [data, end) (XDP). */
static __always_inline struct xw_scratch *
xw_begin(void *data, void *end, const struct xw_frame *f, __u8 dir, __u32 ifindex, int probe)
{
	struct xw_cfg *cfg = 0;
	struct xw_scratch *s = xw_start(f->len, dir, ifindex, probe, &cfg);
	struct xw_pkt_x x;

	if (!s || !cfg)
		return 0;
	xw_parsed(s, cfg, xw_parse_key(&s->key, data, end, f, &x), &x);
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
	} else {
		verdict = policy;
	}
	if (verdict >= XW_VERDICT_MAX)
		verdict = XW_DROP;
	s->reason = reason;
	s->verdict = verdict;   /* events, `xwall test` and verify see XW_AUDIT */
	if (s->probe)
		return XW_VERDICT_PASSES(verdict) ? XW_PASS : verdict;   /* counts nowhere, tracks nothing */
	if (s->best_prio != XW_PRIO_NONE)
		xw_count(&xw_rule_stats, s->best_slot, s->pkt_len);
	xw_count(&xw_reason_stats, reason, s->pkt_len);
	if (s->malformed == XW_MAL_L3)
		xw_count(&xw_reason_stats, XW_REASON_MALFORMED, s->pkt_len);
	else if (s->malformed == XW_MAL_SHORT)
		xw_count(&xw_reason_stats, XW_REASON_SHORT, s->pkt_len);
	xw_count(&xw_verdict_stats, verdict, s->pkt_len);
	/* audit: counted as audit above, then the packet passes, and
	 * conntrack tracks it like any passed packet (docs/semantics.md) */
	if (verdict == XW_AUDIT)
		verdict = XW_PASS;
	if (verdict == XW_PASS && s->ct_op) {
		__u32 zero = 0;
		struct xw_cfg *cfg = bpf_map_lookup_elem(&xw_cfg, &zero);

		if (cfg)
			xw_ct_commit(s, cfg);
	}
	return verdict;
}

#define XW_NEXT_BATCH -1   /* tail-call the rule stage again */
#define XW_NEXT_LIMIT -2   /* tail-call the limit stage */

/* The rules matched: the limit stage next, or the verdict. */
static __always_inline int xw_rules_done(struct xw_scratch *s, __u8 pol)
{
	if (s->n_limit) {
		s->policy_verdict = pol;
		return XW_NEXT_LIMIT;
	}
	return xw_finish(s, XW_REASON_POLICY, pol);
}

/* Bits [sh, sh + nb) of the 32-bit word at byte off of the key: the child
 * of an inner node (loader/compile/tree.h: xw_node_child is the same function). */
static __always_inline __u32 xw_node_pick(const struct xw_scratch *s, const struct xw_node *nd)
{
	const __u8 *kb = (const __u8 *)&s->key;
	__u32 off = nd->off & 63, w;

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* one load, not four: the key sits in a map value, where an unaligned
	 * read at a bounded offset is allowed (the scratch goes on past it) */
	if (nd->flags & XW_NODE_LE16)
		w = (__u32)*(const __u16 *)(kb + off) << 16;
	else
		w = __builtin_bswap32(*(const __u32 *)(kb + off));
#else
	if (nd->flags & XW_NODE_LE16)
		w = ((__u32)kb[off] | (__u32)kb[off + 1] << 8) << 16;
	else
		w = (__u32)kb[off] << 24 | (__u32)kb[off + 1] << 16 |
		    (__u32)kb[off + 2] << 8 | kb[off + 3];
#endif
	return (w << (nd->sh & 31)) >> ((32 - nd->nb) & 31);
}

enum { XW_STEP_NEXT, XW_STEP_DONE, XW_STEP_MORE, XW_STEP_FAIL };

/* Rule entry e is the best match so far (a tree's leaf or the exact tier). */
static __always_inline void xw_take_rent(struct xw_scratch *s, const struct xw_rent *e)
{
	s->best_prio = e->prio;
	s->best_slot = e->slot;
	s->best_verdict = e->verdict;
	s->best_flags = e->flags;
}

/* Tree s->next_tuple: walked to its leaf, whose list is read until the
 * first match, at most XW_LEAF_PER_STAGE entries (a list that goes on
 * continues in the next step, where it stopped). */
static __always_inline int xw_tree_step(struct xw_scratch *s, const struct xw_thead *th, __u32 gen,
					__u32 dirs)
{
	const __u64 *pk = (const __u64 *)&s->key;
	__u32 t = s->next_tuple, d, budget, at, end, best;

	if (t >= XW_MAX_TREES || t >= th->n_trees)
		return XW_STEP_DONE;
	asm volatile("" : "+r"(t));   /* keep the masks below for the verifier */
	if (!s->leaf_end) {
		struct xw_node *nd = 0;

		/* sorted by best priority: nothing later can win */
		if (th->min_prio[t & (XW_MAX_TREES - 1)] >= s->best_prio)
			return XW_STEP_DONE;
		/* no entry of the tree matches the packet's direction (an
		 * egress packet past a set of `in` rules): skip it (dirs is
		 * shifted to the packet's direction: bit XW_TREE_DIR(t, 0)) */
		if (!(dirs & XW_TREE_DIR(t, 0))) {
			s->next_tuple = t + 1;
			return XW_STEP_NEXT;
		}
		at = th->root[t & (XW_MAX_TREES - 1)];
		for (d = 0; d < XW_TREE_DEPTH; d++) {
			__u32 ni = gen * XW_MAX_NODES + (at & (XW_MAX_NODES - 1));

			nd = bpf_map_lookup_elem(&xw_nodes, &ni);
			if (!nd || !nd->nb)
				break;
			at = nd->base + xw_node_pick(s, nd);
		}
		if (!nd || nd->nb)
			return XW_STEP_FAIL;
		s->leaf_at = nd->base;
		s->leaf_end = nd->base + nd->n;
	}
	/* the cursor and the best priority in registers: stores through s
	 * would make the compiler reload everything behind s every entry */
	at = s->leaf_at;
	end = s->leaf_end;
	best = s->best_prio;
	for (budget = XW_LEAF_PER_STAGE; budget && at < end; budget--) {
		__u32 li, ri, *rid;
		struct xw_rent *e;
		__u64 diff = 0;
		int w;

		li = gen * XW_MAX_LIDS + (at & (XW_MAX_LIDS - 1));
		at++;
		rid = bpf_map_lookup_elem(&xw_lids, &li);
		if (!rid)
			break;
		ri = gen * XW_MAX_RENTS + (*rid & (XW_MAX_RENTS - 1));
		e = bpf_map_lookup_elem(&xw_rents, &ri);
		/* best priority first: the rest cannot win */
		if (!e || e->prio >= best)
			break;
#pragma unroll
		for (w = 0; w < (int)XW_KEY_WORDS; w++)
			diff |= (pk[w] & e->m[w]) ^ e->v[w];
		if (diff)
			continue;
		if ((__u16)(s->key.sport - e->sp_lo) > (__u16)(e->sp_hi - e->sp_lo) ||
		    (__u16)(s->key.dport - e->dp_lo) > (__u16)(e->dp_hi - e->dp_lo))
			continue;
		xw_take_rent(s, e);
		break;
	}
	s->leaf_at = at;
	if (!budget && at < end)
		return XW_STEP_MORE;
	s->leaf_end = 0;
	s->next_tuple = t + 1;
	return XW_STEP_NEXT;
}

/* Lane at byte offset off of the key (include/xwall.h: the exact tier). */
static __always_inline __u32 xw_lane(const struct xw_scratch *s, __u8 off)
{
	return *(const __u32 *)((const __u8 *)&s->key + (off & 60));
}

/* The exact tier: for each shape whose agreed bits the packet has, one
 * hash probe; the best entry found seeds best_prio, so the trees after it
 * only look for better priorities. */
static __always_inline void xw_exact_probe(struct xw_scratch *s, const struct xw_thead *th,
					   __u32 gen)
{
	__u32 j, n = th->n_xshapes;

	/* no exact entry matches the packet's direction: no shape to check */
	if (!(th->xdirs >> (s->key.dir & 1) & 1))
		return;
	for (j = 0; j < XW_MAX_XSHAPES; j++) {
		const struct xw_xshape *x = &th->xs[j];
		__u32 key[XW_XLANES], k4, diff = 0, slot, *ri, ei;
		struct xw_rent *e;
		void *inner;
		int l;

		if (j >= n)
			break;
		if (x->min_prio >= s->best_prio)
			continue;
#pragma unroll
		for (l = 0; l < (int)XW_XLANES; l++)
			diff |= (xw_lane(s, x->coff[l]) & x->cm[l]) ^ x->cv[l];
		if (diff)
			continue;
#pragma unroll
		for (l = 0; l < (int)XW_XLANES; l++)
			key[l] = xw_lane(s, x->koff[l]) & x->kmask[l];
		slot = XW_XSLOT(gen, j);
		/* a call site per map, each with a key of its own (else clang
		 * merges the two calls into one, which the verifier cannot
		 * inline: a helper call through the map's ops, ~10 ns more) */
		if (x->nk == 1) {
			k4 = key[0];
			inner = bpf_map_lookup_elem(&xw_xents4, &slot);
			ri = inner ? bpf_map_lookup_elem(inner, &k4) : 0;
		} else {
			inner = bpf_map_lookup_elem(&xw_xents16, &slot);
			ri = inner ? bpf_map_lookup_elem(inner, key) : 0;
		}
		if (!ri)
			continue;
		ei = gen * XW_MAX_RENTS + (*ri & (XW_MAX_RENTS - 1));
		e = bpf_map_lookup_elem(&xw_rents, &ei);
		if (!e || e->prio >= s->best_prio)
			continue;
		xw_take_rent(s, e);
	}
}

/* One rule stage: XW_TREES_PER_STAGE steps (a step finishes a tree or
 * reads XW_LEAF_PER_STAGE entries of its leaf); what is left continues in
 * the next stage (tail call).  Returns a verdict, or XW_NEXT_*. */
static __always_inline int xw_classify_batch(struct xw_scratch *s)
{
	__u32 gen = s->gen & 1;
	struct xw_thead *th = bpf_map_lookup_elem(&xw_trees, &gen);
	__u32 dirs;
	int k, r;

	if (!th || ++s->stages > XW_MAX_STAGES)
		return xw_finish(s, XW_REASON_TAILCALL, s->fail_verdict);
	if (s->stages == 1)
		xw_exact_probe(s, th, gen);
	/* the trees' bits for this packet's direction, at bits 2t (loaded
	 * once: the steps' stores through s would reload them every step) */
	dirs = (__u32)th->dirs >> (s->key.dir & 1);
#pragma unroll
	for (k = 0; k < (int)XW_TREES_PER_STAGE; k++) {
		r = xw_tree_step(s, th, gen, dirs);
		if (r == XW_STEP_DONE)
			return xw_rules_done(s, th->policy[s->key.dir & 1]);
		if (r == XW_STEP_FAIL)
			return xw_finish(s, XW_REASON_TAILCALL, s->fail_verdict);
	}
	return XW_NEXT_BATCH;
}

/* Token bucket in time units: credit grows 1/ns up to cap; a packet costs
 * cost_ns.  Updates race between CPUs (no lock): see README on accuracy.
 * The elapsed time is signed: another CPU may have stored a later last_ns
 * between this CPU's clock read and its read of the bucket; that is no
 * time elapsed (unsigned, it wrapped and refilled the whole burst), and
 * last_ns never moves back. */
static __always_inline int xw_bucket_over(struct xw_bucket *b, const struct xw_limit_entry *e,
					  __u64 now)
{
	if (!b->last_ns) {
		b->credit_ns = e->cap_ns;
		b->last_ns = now;
	} else {
		__s64 dt = (__s64)(now - b->last_ns);

		if (dt > 0) {
			__u64 c = b->credit_ns + (__u64)dt;

			b->credit_ns = c > e->cap_ns || c < b->credit_ns ? e->cap_ns : c;
			b->last_ns = now;
		}
	}
	if (b->credit_ns >= e->cost_ns) {
		b->credit_ns -= e->cost_ns;
		return 0;
	}
	return 1;
}

/* The same answer for a probe frame, from a copy: no token is taken. */
static __always_inline int xw_bucket_peek(const struct xw_bucket *b,
					  const struct xw_limit_entry *e, __u64 now)
{
	struct xw_bucket c = *b;

	return xw_bucket_over(&c, e, now);
}

static __always_inline int xw_limit_over(struct xw_scratch *s, const struct xw_limit_entry *e,
					 __u64 now)
{
	struct xw_bucket *b;

	if (!e->per_src) {
		__u32 slot = e->slot;

		b = bpf_map_lookup_elem(&xw_buckets, &slot);
		if (!b)
			return 0;
		return s->probe ? xw_bucket_peek(b, e, now) : xw_bucket_over(b, e, now);
	}
	{
		struct xw_src_key sk;

		if (!(s->key.flags & XWK_L3))
			return 0;   /* no source address: `per src` cannot match */
		__builtin_memset(&sk, 0, sizeof(sk));
		sk.slot = e->slot;
		__builtin_memcpy(sk.addr, s->key.src, 16);
		b = bpf_map_lookup_elem(&xw_src_buckets, &sk);
		if (!b) {
			struct xw_bucket nb = { .credit_ns = e->cap_ns - e->cost_ns, .last_ns = now };

			if (!s->probe)
				bpf_map_update_elem(&xw_src_buckets, &sk, &nb, BPF_NOEXIST);
			return e->cap_ns < e->cost_ns;
		}
		return s->probe ? xw_bucket_peek(b, e, now) : xw_bucket_over(b, e, now);
	}
}

/* Rules with a limit, in priority order, that could beat the tuple search's
 * answer: the first whose fields match and whose bucket is over wins.  A
 * bucket is evaluated (and a token taken) only when first-match order
 * reaches its rule, as nftables does. */
static __always_inline int xw_limit_stage(struct xw_scratch *s)
{
	__u32 base = (s->gen & 1) * XW_MAX_LIMIT_ENTRIES, i, last = XW_PRIO_NONE;
	__u64 *pk = (__u64 *)&s->key, now = 0;

	for (i = 0; i < XW_MAX_LIMIT_ENTRIES; i++) {
		struct xw_limit_entry *e;
		__u64 *mk, *kk, diff = 0;
		__u32 li = base + i;
		int w;

		if (i >= s->n_limit)
			break;
		e = bpf_map_lookup_elem(&xw_limits, &li);
		if (!e || e->prio >= s->best_prio)
			break;
		if (e->prio == last)
			continue;   /* this rule's bucket was evaluated already */
		mk = (__u64 *)&e->mask;
		kk = (__u64 *)&e->key;
#pragma unroll
		for (w = 0; w < (int)XW_KEY_WORDS; w++)
			diff |= (pk[w] & mk[w]) ^ kk[w];
		if (diff)
			continue;
		last = e->prio;
		if (!now)
			now = bpf_ktime_get_ns();
		if (xw_limit_over(s, e, now)) {
			xw_sets_ban(s, e->prio, now);
			s->best_prio = e->prio;
			s->best_slot = e->slot;
			s->best_verdict = e->verdict;
			s->best_flags = e->flags;
			break;
		}
	}
	return xw_finish(s, XW_REASON_POLICY, s->policy_verdict);
}

/* A rule with `log` decided: reserve its event, or count why not.  The
 * caller copies the packet bytes and submits. */
static __always_inline struct xw_event *xw_log_reserve(struct xw_scratch *s)
{
	__u32 zero = 0, slot = s->best_slot;
	struct xw_cfg *cfg;
	struct xw_event *ev;
	__u64 now, *lost;

	/* an audited packet is always logged: by its rule, or by the policy
	 * (which has a window of its own for the per-rule cap) */
	if (s->probe || (s->verdict != XW_AUDIT &&
			 (s->best_prio == XW_PRIO_NONE || !(s->best_flags & XWF_LOG))))
		return 0;
	if (s->best_prio == XW_PRIO_NONE)
		slot = XW_LOG_WINDOW_POLICY(s->key.dir);
	now = bpf_ktime_get_ns();
	cfg = bpf_map_lookup_elem(&xw_cfg, &zero);
	if (cfg && cfg->log_rate) {
		struct xw_log_window *w = bpf_map_lookup_elem(&xw_log_windows, &slot);

		if (w) {
			int over;

			bpf_spin_lock(&w->lock);
			if ((__s64)(now - w->start_ns) >= 1000000000ll) {
				w->start_ns = now;
				w->count = 0;
			}
			over = w->count >= cfg->log_rate;
			if (!over)
				w->count++;
			bpf_spin_unlock(&w->lock);
			if (over) {
				__u32 k = XW_EVC_CAPPED;
				__u64 *c = bpf_map_lookup_elem(&xw_event_stats, &k);

				if (c)
					(*c)++;
				return 0;
			}
		}
	}
	{
		__u32 k = XW_EVC_LOST;

		lost = bpf_map_lookup_elem(&xw_event_stats, &k);
	}
	ev = bpf_ringbuf_reserve(&xw_events, sizeof(*ev), 0);
	if (!ev) {
		if (lost)
			(*lost)++;
		return 0;
	}
	ev->time_ns = now;
	ev->lost = lost ? *lost : 0;
	ev->ifindex = s->key.ifindex;
	ev->prio = s->best_prio;
	ev->len = s->pkt_len;
	ev->cpu = bpf_get_smp_processor_id();
	ev->dir = s->key.dir;
	ev->verdict = (__u8)s->verdict;
	ev->caplen = 0;
	ev->pad = 0;
	{
		__u32 k = XW_EVC_SENT;
		__u64 *c = bpf_map_lookup_elem(&xw_event_stats, &k);

		if (c)
			(*c)++;
	}
	return ev;
}

#endif
