// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* TC datapath (cls_bpf, direct action): the same parser, the same rule
 * stages and the same maps as XDP; rules with direction `out` apply on
 * egress.  The loader makes this object reuse the XDP object's maps. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "xw_classify.h"

/* slot XW_DIR_IN / XW_DIR_OUT: the rule stage of that direction;
 * 2 + dir: its limit stage */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2 * XW_DIR_MAX);
	__type(key, __u32);
	__type(value, __u32);
} xw_tc_progs SEC(".maps");

/* Headers the parser may need; a longer pull could copy the whole skb. */
#define XW_TC_PULL 512

static __always_inline int xw_tc_action(int verdict)
{
	return verdict == XW_PASS ? TC_ACT_OK : TC_ACT_SHOT;
}

/* A probe frame (`xwall test`, `verify`): the mark is in cb[0..3]. */
static __always_inline int xw_tc_probe(struct __sk_buff *skb)
{
	return skb->cb[0] == (__u32)XW_PROBE_MARK0 && skb->cb[1] == (__u32)(XW_PROBE_MARK0 >> 32) &&
	       skb->cb[2] == (__u32)XW_PROBE_MARK1 && skb->cb[3] == (__u32)(XW_PROBE_MARK1 >> 32);
}

static __always_inline struct xw_scratch *xw_tc_scratch(struct __sk_buff *skb, __u32 dir)
{
	__u32 idx = xw_scratch_slot((__u8)dir, xw_tc_probe(skb));

	return bpf_map_lookup_elem(&xw_scratch, &idx);
}

static __always_inline int xw_tc_done(struct __sk_buff *skb, struct xw_scratch *s, int verdict)
{
	struct xw_event *ev = xw_log_reserve(s);

	if (ev) {
		__u32 n = s->pkt_len < XW_EVENT_SNAP ? s->pkt_len : XW_EVENT_SNAP;

		if (n >= 1 && n <= XW_EVENT_SNAP && bpf_skb_load_bytes(skb, 0, ev->data, n) == 0)
			ev->caplen = (__u16)n;
		bpf_ringbuf_submit(ev, 0);
	}
	return xw_tc_action(verdict);
}

static __always_inline int xw_tc_stage(struct __sk_buff *skb, __u32 dir)
{
	struct xw_scratch *s = xw_tc_scratch(skb, dir);
	int v;

	if (!s)
		return TC_ACT_OK;
	v = xw_classify_batch(s);
	if (v >= 0)
		return xw_tc_done(skb, s, v);
	bpf_tail_call(skb, &xw_tc_progs, v == XW_NEXT_LIMIT ? 2 + dir : dir);
	return xw_tc_action(xw_finish(s, XW_REASON_TAILCALL, s->fail_verdict));
}

static __always_inline int xw_tc_limit(struct __sk_buff *skb, __u32 dir)
{
	struct xw_scratch *s = xw_tc_scratch(skb, dir);

	if (!s)
		return TC_ACT_OK;
	return xw_tc_done(skb, s, xw_limit_stage(s));
}

static __always_inline int xw_tc_entry(struct __sk_buff *skb, __u32 dir)
{
	struct xw_scratch *s;
	__u32 len = skb->len;
	void *data, *end;

	/* locally generated packets may keep headers in fragments */
	if ((__u64)skb->data_end - skb->data < len)
		bpf_skb_pull_data(skb, len < XW_TC_PULL ? len : XW_TC_PULL);
	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	s = xw_begin(data, end, len, dir, skb->ifindex, xw_tc_probe(skb));
	if (!s)
		return TC_ACT_OK;
	bpf_tail_call(skb, &xw_tc_progs, dir);
	return xw_tc_action(xw_finish(s, XW_REASON_TAILCALL, s->fail_verdict));
}

SEC("tc")
int xw_tc_stage_in(struct __sk_buff *skb)
{
	return xw_tc_stage(skb, XW_DIR_IN);
}

SEC("tc")
int xw_tc_stage_out(struct __sk_buff *skb)
{
	return xw_tc_stage(skb, XW_DIR_OUT);
}

SEC("tc")
int xw_tc_limit_in(struct __sk_buff *skb)
{
	return xw_tc_limit(skb, XW_DIR_IN);
}

SEC("tc")
int xw_tc_limit_out(struct __sk_buff *skb)
{
	return xw_tc_limit(skb, XW_DIR_OUT);
}

SEC("tc")
int xw_tc_in(struct __sk_buff *skb)
{
	return xw_tc_entry(skb, XW_DIR_IN);
}

SEC("tc")
int xw_tc_out(struct __sk_buff *skb)
{
	return xw_tc_entry(skb, XW_DIR_OUT);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
