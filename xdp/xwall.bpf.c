// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* XDP datapath: xw_xdp parses once and hands over to the rule stage
 * xw_xdp_stage, which runs (tail-calling itself for each further batch of
 * tuples) until a verdict; rules with `limit` run in xw_xdp_limit. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "xw_classify.h"
#include "xw_reject.h"

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, XW_XDP_SLOT_MAX);
	__type(key, __u32);
	__type(value, __u32);
} xw_xdp_progs SEC(".maps");

static __always_inline int xw_xdp_action(int verdict)
{
	return verdict == XW_PASS ? XDP_PASS : XDP_DROP;
}

/* A probe frame (`xwall test`, `verify`): the mark is its metadata. */
static __always_inline int xw_xdp_probe(struct xdp_md *ctx)
{
	void *meta = (void *)(long)ctx->data_meta;
	void *data = (void *)(long)ctx->data;
	__u64 *m = meta;

	if (meta + XW_PROBE_LEN > data)
		return 0;
	return m[0] == XW_PROBE_MARK0 && m[1] == XW_PROBE_MARK1;
}

static __always_inline struct xw_scratch *xw_xdp_scratch(struct xdp_md *ctx)
{
	__u32 idx = xw_scratch_slot(XW_DIR_IN, xw_xdp_probe(ctx));

	return bpf_map_lookup_elem(&xw_scratch, &idx);
}

/* `reject` (xdp/xw_reject.h): rewrite the frame into the answer and send
 * it back out (XDP_TX); a packet never to be answered, or one over the
 * rate limit, is dropped.  A global function: the verifier checks it once,
 * apart from the rule stages that call it. */
__noinline int xw_xdp_reject(struct xdp_md *ctx, const struct xw_scratch *s)
{
	__u32 zero = 0, cur;
	__u64 n, q, len;
	struct xw_rej_plan p = {};
	struct xw_rej_buf *b;
	int delta, r;

	if (!ctx || !s || s->probe)
		return XDP_DROP;   /* a probe frame changes nothing */
	b = bpf_map_lookup_elem(&xw_reject_buf, &zero);
	if (!b)
		return XDP_DROP;
	cur = (__u32)(ctx->data_end - ctx->data);
	n = cur < XW_REJ_IN ? cur : XW_REJ_IN;
	asm volatile("" : "+r"(n));   /* bounds checked where the verifier sees them */
	if (xw_rej_quiet(s) || n < 14 || n > XW_REJ_IN || bpf_xdp_load_bytes(ctx, 0, b->in, n) ||
	    xw_rej_plan(b, (__u32)n, cur, s, &p))
		goto quiet;
	if (xw_rej_limited()) {
		xw_rej_count(s, XW_REASON_REJECT_LIMITED);
		return XDP_DROP;
	}
	q = p.quote;
	asm volatile("" : "+r"(q));   /* keep the bound check below for the verifier */
	if (q > XW_REJ_QUOTE6)
		goto quiet;
	if (q && bpf_xdp_load_bytes(ctx, (__u32)p.l2 & 0x1f, b->out + xw_rej_quote_at(&p), q))
		goto quiet;
	len = xw_rej_write(b, &p, s);
	asm volatile("" : "+r"(len));
	if (len < 14 || len > XW_REJ_OUT)
		goto quiet;
	/* grow at the front (headroom is always there), shrink at the end */
	delta = (int)len - (int)cur;
	r = delta > 0 ? bpf_xdp_adjust_head(ctx, -delta) : delta < 0 ? bpf_xdp_adjust_tail(ctx, delta) : 0;
	if (r || bpf_xdp_store_bytes(ctx, 0, b->out, len))
		goto quiet;
	return XDP_TX;
quiet:
	xw_rej_count(s, XW_REASON_REJECT_SILENT);
	return XDP_DROP;
}

/* Verdict decided: emit the `log` event if the rule asks for one. */
static __always_inline int xw_xdp_done(struct xdp_md *ctx, struct xw_scratch *s, int verdict)
{
	struct xw_event *ev = xw_log_reserve(s);

	if (ev) {
		__u32 n = s->pkt_len < XW_EVENT_SNAP ? s->pkt_len : XW_EVENT_SNAP;

		if (n >= 1 && n <= XW_EVENT_SNAP && bpf_xdp_load_bytes(ctx, 0, ev->data, n) == 0)
			ev->caplen = (__u16)n;
		bpf_ringbuf_submit(ev, 0);
	}
	if (verdict == XW_REJECT)
		return xw_xdp_reject(ctx, s);
	return xw_xdp_action(verdict);
}

SEC("xdp")
int xw_xdp_stage(struct xdp_md *ctx)
{
	struct xw_scratch *s = xw_xdp_scratch(ctx);
	int v;

	if (!s)
		return XDP_PASS;
	v = xw_classify_batch(s);
	if (v >= 0)
		return xw_xdp_done(ctx, s, v);
	bpf_tail_call(ctx, &xw_xdp_progs, v == XW_NEXT_LIMIT ? XW_XDP_SLOT_LIMIT : XW_XDP_SLOT_STAGE);
	return xw_xdp_action(xw_finish(s, XW_REASON_TAILCALL, s->fail_verdict));
}

SEC("xdp")
int xw_xdp_limit(struct xdp_md *ctx)
{
	struct xw_scratch *s = xw_xdp_scratch(ctx);

	if (!s)
		return XDP_PASS;
	return xw_xdp_done(ctx, s, xw_limit_stage(s));
}

SEC("xdp")
int xw_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	/* without multi-buffer support the program always sees the whole
	 * frame: the kernel linearizes (generic XDP) or refuses (native) */
	struct xw_frame f = { .len = (__u32)(end - data) };
	struct xw_scratch *s;

	s = xw_begin(data, end, &f, XW_DIR_IN, ctx->ingress_ifindex, xw_xdp_probe(ctx));
	if (!s)
		return XDP_PASS;
	bpf_tail_call(ctx, &xw_xdp_progs, XW_XDP_SLOT_STAGE);
	return xw_xdp_action(xw_finish(s, XW_REASON_TAILCALL, s->fail_verdict));
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
