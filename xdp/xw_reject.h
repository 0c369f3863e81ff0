// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* `reject`: drop the packet and answer its sender, as nftables' reject does
 * (net/ipv4/netfilter/nf_reject_ipv4.c, net/ipv6/netfilter/nf_reject_ipv6.c):
 * a TCP RST for TCP (RFC 9293 3.10.7.1: an offending segment with ACK gets
 * <SEQ=SEG.ACK><CTL=RST>, one without gets <SEQ=0><ACK=SEG.SEQ+SEG.LEN>
 * <CTL=RST,ACK>), an ICMP port unreachable (RFC 792: the IP header and as
 * much of the datagram as keeps the answer within 576 bytes, RFC 1812
 * 4.3.2.3) or an ICMPv6 port unreachable (RFC 4443 3.1: as much as keeps it
 * within the IPv6 minimum MTU, 1280 bytes) for the rest.
 *
 * The answer is built in a per-CPU buffer from the offending frame (its
 * first bytes for the headers, the quote loaded straight into place), then
 * written over the frame: Ethernet addresses swapped, VLAN tags kept, IP
 * addresses and ports swapped.  XDP sends it back out with XDP_TX; TC sends
 * it out the same interface (ingress) or hands it to the local stack as if
 * received (egress: bpf_redirect with BPF_F_INGRESS).
 *
 * Never answered (RFC 1122 3.2.2, RFC 1812 4.3.2.7, RFC 4443 2.4 e, RFC 9293):
 * ICMP errors, ICMPv6 errors (types below 128), TCP RSTs, Ethernet broadcast
 * or multicast destinations, IPv4 multicast/broadcast/class E destinations
 * or sources, IPv4 source 0.0.0.0, IPv6 multicast or unspecified sources and
 * multicast destinations, non-first fragments, malformed or truncated
 * packets, and probe frames (`xwall test`, `verify`).  These, and answers
 * over the per-CPU rate limit (XW_REJECT_RATE / XW_REJECT_BURST), are
 * dropped and counted (reasons reject_silent, reject_limited). */
#ifndef XW_REJECT_H
#define XW_REJECT_H

#include "xw_maps.h"
#include "xw_parse.h"
#include "xw_ct.h"

#define XW_REJ_L2_MAX   22u     /* Ethernet header and two VLAN tags */
#define XW_REJ_IN       256u    /* first bytes of the frame read for its headers */
#define XW_REJ_QUOTE4   548u    /* 576 - 20 (IPv4) - 8 (ICMP) */
#define XW_REJ_QUOTE6   1232u   /* 1280 - 40 (IPv6) - 8 (ICMPv6) */
#define XW_REJ_OUT      1304u   /* >= XW_REJ_L2_MAX + 40 + 8 + XW_REJ_QUOTE6 */
#define XW_REJ_CSUM_MAX 512u    /* bytes one bpf_csum_diff() call sums (its scratch) */
#define XW_REJ_TTL      64

/* Answer buffer (one per CPU).  out has XW_REJ_CSUM_MAX spare bytes so that
 * a checksum chunk starting anywhere in the answer stays inside the value
 * whatever its length, as the verifier sees it. */
struct xw_rej_buf {
	__u8 in[XW_REJ_IN];
	__u8 out[XW_REJ_OUT + XW_REJ_CSUM_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xw_rej_buf);
} xw_reject_buf SEC(".maps");

/* The answer rate limit: a token bucket per CPU (struct xw_bucket). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xw_bucket);
} xw_reject_rl SEC(".maps");

enum { XW_REJ_TCP = 1, XW_REJ_ICMP4 = 2, XW_REJ_ICMP6 = 3 };

/* What to send: found by xw_rej_plan() from the frame's first bytes. */
struct xw_rej_plan {
	__u64 kind;     /* XW_REJ_* */
	__u64 l2;       /* Ethernet header and tags in the frame */
	__u64 quote;    /* ICMP: bytes of the offending packet quoted, from its IP header */
	__u64 len;      /* length of the answer frame */
	__u32 seq;      /* TCP: the RST's sequence number */
	__u32 ack;      /* TCP: its acknowledgement number, 0 without ACK */
	__u8  flags;    /* TCP: RST or RST|ACK */
	__u8  pad[7];
};

static __always_inline __u16 xw_rej_be16(const __u8 *p)
{
	return (__u16)p[0] << 8 | p[1];
}

static __always_inline __u32 xw_rej_be32(const __u8 *p)
{
	return (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 | p[3];
}

static __always_inline void xw_rej_put16(__u8 *p, __u32 v)
{
	p[0] = (__u8)(v >> 8);
	p[1] = (__u8)v;
}

static __always_inline void xw_rej_put32(__u8 *p, __u32 v)
{
	p[0] = (__u8)(v >> 24);
	p[1] = (__u8)(v >> 16);
	p[2] = (__u8)(v >> 8);
	p[3] = (__u8)v;
}

/* A packet that must never be answered (see the top of this file), by its
 * key alone. */
static __always_inline int xw_rej_quiet(const struct xw_scratch *s)
{
	const struct xw_key *k = &s->key;

	if (s->malformed || !(k->flags & XWK_L3) || (k->flags & XWK_FRAG_LATER))
		return 1;
	if (k->eth_dst[0] & 1)
		return 1;   /* Ethernet broadcast or multicast */
	if (k->flags & XWK_V4) {
		if (k->dst[0] >= 224 || k->src[0] >= 224 || !k->src[0])
			return 1;   /* multicast, class E, limited broadcast, 0/8 */
		if (k->proto == IPPROTO_ICMP)
			return !(k->flags & XWK_ICMP) || xw_icmp_is_error(k->icmp_type, 0);
	} else {
		__u64 a = *(const __u64 *)&k->src[0], b = *(const __u64 *)&k->src[8];

		if (k->dst[0] == 0xff || k->src[0] == 0xff || !(a | b))
			return 1;   /* multicast, or unspecified source */
		if (k->proto == IPPROTO_ICMPV6)
			return !(k->flags & XWK_ICMP6) || k->icmp_type < 128;
	}
	if (k->proto == IPPROTO_TCP)
		return !(k->flags & XWK_TCP) || (k->tcp_flags & XW_TCP_RST);
	return 0;
}

/* Take a token of this CPU's answer bucket; 1 if there is none. */
static __always_inline int xw_rej_limited(void)
{
	const __u64 cost = 1000000000ull / XW_REJECT_RATE, cap = cost * XW_REJECT_BURST;
	__u32 zero = 0;
	struct xw_bucket *b = bpf_map_lookup_elem(&xw_reject_rl, &zero);
	__u64 now = bpf_ktime_get_ns();

	if (!b)
		return 1;
	if (!b->last_ns) {
		b->credit_ns = cap;
	} else if (now > b->last_ns) {
		__u64 c = b->credit_ns + (now - b->last_ns);

		b->credit_ns = c > cap ? cap : c;
	}
	b->last_ns = now;
	if (b->credit_ns < cost)
		return 1;
	b->credit_ns -= cost;
	return 0;
}

/* The TCP header's offset in in[] (bytes [0, n) of the frame, IP header at
 * l3), walking IPv6 extension headers; 0 if it is not there. */
static __always_inline __u32 xw_rej_l4(const __u8 *in, __u32 n, __u32 l3, int v6)
{
	__u32 off, i;
	__u8 nh;

	if (!v6)
		return l3 + (in[l3 & 0xff] & 0xf) * 4;
	nh = in[(l3 + 6) & 0xff];
	off = l3 + 40;
	for (i = 0; i < XW_IPV6_EXT_MAX; i++) {
		__u8 cur = nh;

		if (cur == IPPROTO_TCP)
			return off;
		if (!xw_is_ext6(cur) || off + 8 > n || off + 8 > XW_REJ_IN)
			return 0;
		nh = in[off & 0xff];
		off += cur == IPPROTO_FRAGMENT ? 8 : ((__u32)in[(off + 1) & 0xff] + 1) * 8;
	}
	return nh == IPPROTO_TCP ? off : 0;
}

/* Plan the answer to the frame whose first n bytes are in b->in (pkt_len
 * bytes in all).  Returns 0 if it is to be answered. */
static __always_inline int xw_rej_plan(const struct xw_rej_buf *b, __u32 n, __u32 pkt_len,
				       const struct xw_scratch *s, struct xw_rej_plan *p)
{
	const struct xw_key *k = &s->key;
	const __u8 *in = b->in;
	int v6 = !(k->flags & XWK_V4), i;
	__u32 l2 = 14, l3len, hl = v6 ? 40 : 20;
	__u16 type;

	if (n < 14 || n > XW_REJ_IN)
		return 1;
	type = xw_rej_be16(in + 12);
#pragma unroll
	for (i = 0; i < 2; i++) {
		if (type != XW_ETH_P_8021Q && type != XW_ETH_P_8021AD)
			break;
		if (l2 + 4 > n)
			return 1;
		type = xw_rej_be16(in + l2 + 2);
		l2 += 4;
	}
	if (type != (v6 ? ETH_P_IPV6 : ETH_P_IP) || l2 + hl > n)
		return 1;
	/* the IP packet's length, by its header (the parser checked it) */
	if (v6)
		l3len = 40 + (__u32)xw_rej_be16(in + l2 + 4);
	else
		l3len = xw_rej_be16(in + l2 + 2);
	if (l3len > pkt_len - l2)
		l3len = pkt_len - l2;
	p->l2 = l2;
	if (k->proto == IPPROTO_TCP) {
		__u32 l4 = xw_rej_l4(in, n, l2, v6), doff, seg;
		__u8 fl;

		if (!l4 || l4 + 20 > n || l4 + 20 > XW_REJ_IN)
			return 1;
		l4 &= 0xff;
		fl = in[(l4 + XW_TCP_FLAGS_BYTE) & 0xff];
		doff = (__u32)(in[(l4 + 12) & 0xff] >> 4) * 4;
		seg = l3len > (l4 - l2) + doff ? l3len - (l4 - l2) - doff : 0;
		if (fl & XW_TCP_SYN)
			seg++;
		if (fl & XW_TCP_FIN)
			seg++;
		if (fl & XW_TCP_ACK) {
			p->seq = xw_rej_be32(in + ((l4 + 8) & 0xff));
			p->ack = 0;
			p->flags = XW_TCP_RST;
		} else {
			p->seq = 0;
			p->ack = xw_rej_be32(in + ((l4 + 4) & 0xff)) + seg;
			p->flags = XW_TCP_RST | XW_TCP_ACK;
		}
		p->kind = XW_REJ_TCP;
		p->quote = 0;
		p->len = l2 + hl + 20;
		return 0;
	}
	p->kind = v6 ? XW_REJ_ICMP6 : XW_REJ_ICMP4;
	p->quote = l3len < (v6 ? XW_REJ_QUOTE6 : XW_REJ_QUOTE4) ? l3len :
		   (v6 ? XW_REJ_QUOTE6 : XW_REJ_QUOTE4);
	if (p->quote < hl)
		return 1;
	p->len = l2 + hl + 8 + p->quote;
	return 0;
}

/* Where the quote goes in out[] (ICMP answers). */
static __always_inline __u32 xw_rej_quote_at(const struct xw_rej_plan *p)
{
	return (__u32)(p->l2 & 0x1f) + (p->kind == XW_REJ_ICMP6 ? 48 : 28);
}

/* One's complement sum of out[off, off + len) (bytes past the end up to a
 * multiple of 4 must be zero), on top of seed; < 0 on failure. */
static __always_inline __s64 xw_rej_sum(__u8 *out, __u64 off, __u64 len, __u32 seed)
{
	__s64 r = seed;
	int i;

#pragma unroll
	for (i = 0; i < 3; i++) {
		__u64 c = len > XW_REJ_CSUM_MAX ? XW_REJ_CSUM_MAX : len;

		/* the bounds again, where the verifier sees them */
		asm volatile("" : "+r"(c), "+r"(off));
		if (!c)
			break;
		if (c > XW_REJ_CSUM_MAX || off > XW_REJ_OUT)
			return -1;
		r = bpf_csum_diff(0, 0, (__be32 *)(out + off), (__u32)((c + 3) & ~3ull), (__u32)r);
		if (r < 0)
			return r;
		off += c;
		len -= c;
	}
	return len ? -1 : r;
}

static __always_inline __u16 xw_rej_fold(__s64 r)
{
	__u32 s = (__u32)r;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

/* Sum of the TCP/ICMPv6 pseudo header of the answer at ip (out[] offset):
 * its addresses, the upper-layer length and protocol. */
static __always_inline __s64 xw_rej_pseudo(__u8 *out, __u32 ip, int v6, __u32 len, __u8 proto)
{
	__u32 w[10] = {};
	__u8 *pb = (__u8 *)w;

	ip &= 0x1f;
	if (v6) {
		__builtin_memcpy(pb, out + ip + 8, 32);
		xw_rej_put32(pb + 32, len);
		pb[39] = proto;
		return bpf_csum_diff(0, 0, (__be32 *)w, 40, 0);
	}
	__builtin_memcpy(pb, out + ip + 12, 8);
	pb[9] = proto;
	xw_rej_put16(pb + 10, len);
	return bpf_csum_diff(0, 0, (__be32 *)w, 12, 0);
}

/* Write the answer's headers into b->out (the quote is in place already)
 * and its checksums.  Returns its length, 0 on failure. */
static __always_inline __u32 xw_rej_write(struct xw_rej_buf *b, const struct xw_rej_plan *p,
					  const struct xw_scratch *s)
{
	const struct xw_key *k = &s->key;
	__u8 *out = b->out, *in = b->in;
	__u32 l2 = p->l2 & 0x1f, ip = l2, hl, l4, plen, i;
	int v6 = p->kind == XW_REJ_ICMP6 || (p->kind == XW_REJ_TCP && !(k->flags & XWK_V4));
	__u8 *h, *t;
	__s64 r;

	if (l2 > XW_REJ_L2_MAX)
		return 0;
	/* Ethernet: addresses swapped, type and tags kept */
#pragma unroll
	for (i = 0; i < 6; i++) {
		out[i] = in[i + 6];
		out[i + 6] = in[i];
	}
#pragma unroll
	for (i = 12; i < XW_REJ_L2_MAX; i++)
		if (i < l2)
			out[i] = in[i];
	hl = v6 ? 40 : 20;
	l4 = ip + hl;
	plen = p->kind == XW_REJ_TCP ? 20 : 8 + (__u32)(p->quote & 0x7ff);
	h = out + ip;
	__builtin_memset(h, 0, 8);
	if (v6) {
		h[0] = 0x60;
		xw_rej_put16(h + 4, plen);
		h[6] = p->kind == XW_REJ_TCP ? IPPROTO_TCP : IPPROTO_ICMPV6;
		h[7] = XW_REJ_TTL;
		__builtin_memcpy(h + 8, k->dst, 16);
		__builtin_memcpy(h + 24, k->src, 16);
	} else {
		h[0] = 0x45;
		xw_rej_put16(h + 2, 20 + plen);
		h[6] = 0x40;   /* DF, as the kernel's own RSTs and ICMP errors */
		h[8] = XW_REJ_TTL;
		h[9] = p->kind == XW_REJ_TCP ? IPPROTO_TCP : IPPROTO_ICMP;
		h[10] = h[11] = 0;
		__builtin_memcpy(h + 12, k->dst, 4);
		__builtin_memcpy(h + 16, k->src, 4);
		r = bpf_csum_diff(0, 0, (__be32 *)h, 20, 0);
		if (r < 0)
			return 0;
		*(__u16 *)(h + 10) = xw_rej_fold(r);
	}
	t = out + (l4 & 0x3f);
	if (p->kind == XW_REJ_TCP) {
		xw_rej_put16(t, k->dport);
		xw_rej_put16(t + 2, k->sport);
		xw_rej_put32(t + 4, p->seq);
		xw_rej_put32(t + 8, p->ack);
		xw_rej_put32(t + 12, 0);
		t[12] = 5 << 4;
		t[13] = p->flags;
		xw_rej_put32(t + 16, 0);
	} else {
		__u32 end = (l4 & 0x3f) + plen;

		xw_rej_put32(t, 0);
		xw_rej_put32(t + 4, 0);
		t[0] = v6 ? ICMPV6_DEST_UNREACH : XW_ICMP_DEST_UNREACH;
		t[1] = v6 ? ICMPV6_PORT_UNREACH : 3;   /* port unreachable */
		/* zeros up to the next multiple of 4, for the checksum */
		if (end > XW_REJ_OUT)
			return 0;
		out[end] = out[end + 1] = out[end + 2] = 0;
	}
	r = 0;
	if (v6 || p->kind == XW_REJ_TCP)
		r = xw_rej_pseudo(out, ip, v6, plen, h[v6 ? 6 : 9]);
	if (r < 0)
		return 0;
	r = xw_rej_sum(out, l4 & 0x3f, plen, (__u32)r);
	if (r < 0)
		return 0;
	*(__u16 *)(t + (p->kind == XW_REJ_TCP ? 16 : 2)) = xw_rej_fold(r);
	return (__u32)p->len;
}

/* Counted besides the rule: why a rejected packet went unanswered. */
static __always_inline void xw_rej_count(const struct xw_scratch *s, __u32 reason)
{
	__u32 idx = reason;
	struct xw_counter *c = bpf_map_lookup_elem(&xw_reason_stats, &idx);

	if (c) {
		c->packets++;
		c->bytes += s->pkt_len;
	}
}

#endif
