// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* TC datapath (cls_bpf, direct action): the same parser, the same rule
 * stages and the same maps as XDP; rules with direction `out` apply on
 * egress.  The loader makes this object reuse the XDP object's maps. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "xw_classify.h"
#include "xw_reject.h"

/* XW_TC_SLOT_STAGE(dir): the rule stage of that direction;
 * XW_TC_SLOT_LIMIT(dir): its limit stage */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, XW_TC_SLOT_MAX);
	__type(key, __u32);
	__type(value, __u32);
} xw_tc_progs SEC(".maps");

/* Headers of any sane packet fit here: Ethernet, two tags, IPv6 with a few
 * extension headers, the L4 header and an ICMP error's quote. */
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

/* `reject` (xdp/xw_reject.h): rewrite the packet into the answer; on
 * ingress send it back out the interface, on egress hand it to the local
 * stack as received there (the sender is local).  A packet never to be
 * answered, or one over the rate limit, is dropped.  A global function:
 * the verifier checks it once, apart from the rule stages that call it. */
__noinline int xw_tc_reject(struct __sk_buff *skb, const struct xw_scratch *s)
{
	__u32 zero = 0, cur;
	__u64 n, q, len;
	struct xw_rej_plan p = {};
	struct xw_rej_buf *b;

	if (!skb || !s || s->probe)
		return TC_ACT_SHOT;   /* a probe frame changes nothing */
	b = bpf_map_lookup_elem(&xw_reject_buf, &zero);
	if (!b)
		return TC_ACT_SHOT;
	cur = skb->len;
	n = cur < XW_REJ_IN ? cur : XW_REJ_IN;
	asm volatile("" : "+r"(n));   /* bounds checked where the verifier sees them */
	if (xw_rej_quiet(s) || n < 14 || n > XW_REJ_IN || bpf_skb_load_bytes(skb, 0, b->in, n) ||
	    xw_rej_plan(b, (__u32)n, cur, s, &p))
		goto quiet;
	if (xw_rej_limited()) {
		xw_rej_count(s, XW_REASON_REJECT_LIMITED);
		return TC_ACT_SHOT;
	}
	q = p.quote;
	asm volatile("" : "+r"(q));   /* keep the bound check below for the verifier */
	if (q > XW_REJ_QUOTE6)
		goto quiet;
	if (q && bpf_skb_load_bytes(skb, (__u32)p.l2 & 0x1f, b->out + xw_rej_quote_at(&p), q))
		goto quiet;
	len = xw_rej_write(b, &p, s);
	asm volatile("" : "+r"(len));
	if (len < 14 || len > XW_REJ_OUT)
		goto quiet;
	if (bpf_skb_change_tail(skb, len, 0) || bpf_skb_store_bytes(skb, 0, b->out, len, 0))
		goto quiet;
	return (int)bpf_redirect(skb->ifindex, s->key.dir == XW_DIR_OUT ? BPF_F_INGRESS : 0);
quiet:
	xw_rej_count(s, XW_REASON_REJECT_SILENT);
	return TC_ACT_SHOT;
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
	if (verdict == XW_REJECT)
		return xw_tc_reject(skb, s);
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
	bpf_tail_call(skb, &xw_tc_progs, v == XW_NEXT_LIMIT ? XW_TC_SLOT_LIMIT(dir) : XW_TC_SLOT_STAGE(dir));
	return xw_tc_action(xw_finish(s, XW_REASON_TAILCALL, s->fail_verdict));
}

static __always_inline int xw_tc_limit(struct __sk_buff *skb, __u32 dir)
{
	struct xw_scratch *s = xw_tc_scratch(skb, dir);

	if (!s)
		return TC_ACT_OK;
	return xw_tc_done(skb, s, xw_limit_stage(s));
}

/* Parse the packet by its real headers whatever the skb layout.  The
 * parser checks IP lengths against skb->len and reads headers in the linear
 * head; when one lies past the head (page-fragment payloads, GSO/TSO
 * super-packets, GRO-merged ones), make more readable and parse once more:
 * XW_TC_PULL bytes if the head is shorter, else the whole packet (headers
 * past XW_TC_PULL bytes).  Headers still unreadable then (longer than
 * XW_TC_PULL in a packet whose head held less, or a pull that failed) make
 * the packet malformed.  A global function: the verifier checks it once,
 * apart from its caller's paths (each parse round costs ~200k steps). */
__noinline int xw_tc_parse(struct __sk_buff *skb, struct xw_key *k, struct xw_pkt_x *x,
			   const struct xw_frame *f)
{
	void *data, *end;
	__u32 seen;
	int r;

	if (!skb || !k || !x || !f)
		return XW_REASON_MALFORMED;
	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	r = xw_parse_key(k, data, end, f, x);
	if (r != XW_PARSE_MORE)
		return r;
	seen = (__u32)((long)end - (long)data);
	if (bpf_skb_pull_data(skb, seen < XW_TC_PULL && f->len > XW_TC_PULL ? XW_TC_PULL : f->len))
		return r;
	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	return xw_parse_key(k, data, end, f, x);
}

static __always_inline struct xw_scratch *xw_tc_begin(struct __sk_buff *skb, __u32 dir)
{
	struct xw_frame f = { .len = skb->len };
	struct xw_cfg *cfg = 0;
	struct xw_scratch *s;
	struct xw_pkt_x x;
	int r;

	s = xw_start(f.len, (__u8)dir, skb->ifindex, xw_tc_probe(skb), &cfg);
	if (!s || !cfg)
		return 0;
	/* an outer tag the device took out (rx/tx VLAN offload) is not in
	 * the frame: the parser takes it as the outermost */
	if (skb->vlan_present) {
		f.hw_vlan = 1;
		f.hw_tci = (__u16)skb->vlan_tci;
	}
	f.gso = skb->gso_segs > 1;
	__builtin_memset(&x, 0, sizeof(x));
	r = xw_tc_parse(skb, &s->key, &x, &f);
	xw_parsed(s, cfg, r, &x);
	return s;
}

static __always_inline int xw_tc_entry(struct __sk_buff *skb, __u32 dir)
{
	struct xw_scratch *s = xw_tc_begin(skb, dir);

	if (!s)
		return TC_ACT_OK;
	bpf_tail_call(skb, &xw_tc_progs, XW_TC_SLOT_STAGE(dir));
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
