// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The one parse of a packet into struct xw_key (docs/semantics.md).
 * XDP and TC share it.  The parser reads headers in the directly readable
 * window [data, end) but checks IP lengths against the frame's real length:
 * on TC the window is the skb's linear head, and a GSO/TSO super-packet, a
 * GRO-merged one or any skb whose payload sits in page fragments has far
 * fewer bytes there than its IP header announces.  When a header lies past
 * the window but inside the frame, the parse answers XW_PARSE_MORE and the
 * caller makes more of the frame readable (bpf_skb_pull_data) and parses
 * again. */
#ifndef XW_PARSE_H
#define XW_PARSE_H

#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <bpf/bpf_endian.h>
#include "xwall.h"

#define XW_ETH_P_8021Q  0x8100
#define XW_ETH_P_8021AD 0x88A8
#define XW_IPV6_EXT_MAX 8

/* xw_parse(): headers lie past the readable window (internal, never counted) */
#define XW_PARSE_MORE   0x100

/* What the parser knows of the frame besides its bytes. */
struct xw_frame {
	__u32 len;      /* bytes of the whole frame from the Ethernet header */
	__u16 hw_tci;   /* TC: the outer VLAN tag the device took out of the frame */
	__u8  hw_vlan;  /* hw_tci is valid (skb->vlan_present) */
	__u8  gso;      /* a GSO super-packet: IP length 0 means the rest (BIG TCP) */
	__u8  pad;
};

/* n bytes at p are not all readable */
#define XW_PAST(p, n, end) ((void *)((__u8 *)(p) + (n)) > (end))
/* What a parse step answers for a header it cannot read: XW_PARSE_MORE if
 * the frame goes on past the window, else `bad` (the frame ends there). */
#define XW_UNREAD(trunc, bad) ((trunc) ? XW_PARSE_MORE : (bad))

/* What connection tracking needs beyond the match key. */
struct xw_pkt_x {
	__u16 icmp_id;        /* echo request/reply identifier */
	__u8  has_inner;      /* an ICMP error quoting a packet's header */
	__u8  inner_proto;
	__u16 inner_sport;    /* ports, or echo id in sport for quoted ICMP */
	__u16 inner_dport;
	__u8  inner_src[16];
	__u8  inner_dst[16];
	/* TCP, for conntrack's sequence tracking (xw_ct.h) */
	__u32 l4_len;         /* L4 bytes per the IP header's length field */
	__u32 tcp_seq;
	__u32 tcp_ack;
	__u16 tcp_win;        /* raw (unscaled) window field */
	__u32 tcp_len;        /* payload bytes (l4_len minus the data offset) */
};

struct xw_vlan_hdr {
	__be16 tci;
	__be16 encap;
};

static __always_inline int xw_is_ext6(__u8 nh)
{
	return nh == 0 || nh == 43 || nh == 44 || nh == 60;
}

static __always_inline int xw_icmp_is_error(__u8 type, int v6)
{
	if (v6)
		return type >= 1 && type <= 4;
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

/* The header quoted by an ICMP error: the flow it belongs to.  Returns
 * XW_PARSE_MORE if the quote goes on past the readable window, else 0. */
static __always_inline int xw_parse_inner(__u8 *q, void *end, int trunc, int v6,
					  struct xw_pkt_x *x)
{
	__u8 *l4;

	if (v6) {
		struct ipv6hdr *ip6 = (void *)q;

		if (XW_PAST(ip6, sizeof(*ip6), end))
			return XW_UNREAD(trunc, 0);
		__u8 nh = ip6->nexthdr;
		int i;

		__builtin_memcpy(x->inner_src, &ip6->saddr, 16);
		__builtin_memcpy(x->inner_dst, &ip6->daddr, 16);
		l4 = q + sizeof(*ip6);
		/* the quoted packet's extension headers, as for the packet itself;
		 * a quoted non-first fragment has no ports: no flow to find */
		for (i = 0; i < XW_IPV6_EXT_MAX; i++) {
			if (!xw_is_ext6(nh))
				break;
			if (XW_PAST(l4, 8, end))
				return XW_UNREAD(trunc, 0);
			if (nh == 44) {
				if ((((__u16)l4[2] << 8) | l4[3]) >> 3)
					return 0;
				nh = l4[0];
				l4 += 8;
			} else {
				nh = l4[0];
				l4 += ((__u32)l4[1] + 1) * 8;
			}
		}
		if (xw_is_ext6(nh))
			return 0;
		x->inner_proto = nh;
	} else {
		struct iphdr *ip = (void *)q;

		if (XW_PAST(ip, sizeof(*ip), end))
			return XW_UNREAD(trunc, 0);
		if (ip->version != 4 || ip->ihl < 5)
			return 0;
		/* a quoted non-first fragment has no ports: no flow to find */
		if (bpf_ntohs(ip->frag_off) & 0x1fff)
			return 0;
		x->inner_proto = ip->protocol;
		__builtin_memcpy(x->inner_src, &ip->saddr, 4);
		__builtin_memcpy(x->inner_dst, &ip->daddr, 4);
		l4 = q + ip->ihl * 4;
	}
	if (XW_PAST(l4, 8, end))
		return XW_UNREAD(trunc, 0);
	if (x->inner_proto == (v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP)) {
		__u16 id = ((__u16)l4[4] << 8) | l4[5];

		if (l4[0] == (v6 ? 128 : 8)) {          /* echo request */
			x->inner_sport = id;
			x->inner_dport = 0;
		} else if (l4[0] == (v6 ? 129 : 0)) {   /* echo reply */
			x->inner_sport = 0;
			x->inner_dport = id;
		} else {
			return 0;                       /* no flow */
		}
	} else if (x->inner_proto == IPPROTO_TCP || x->inner_proto == IPPROTO_UDP ||
		   x->inner_proto == IPPROTO_SCTP) {
		x->inner_sport = ((__u16)l4[0] << 8) | l4[1];
		x->inner_dport = ((__u16)l4[2] << 8) | l4[3];
	}                                               /* other: ports 0 */
	x->has_inner = 1;
	return 0;
}

/* L4 fields need the protocol's minimum header inside the frame.  Returns
 * XW_PARSE_MORE if that header goes on past the readable window, else 0. */
static __always_inline int xw_parse_l4(__u8 *l4, void *end, int trunc, struct xw_key *k,
				       int v6, struct xw_pkt_x *x)
{
	__u8 p = k->proto;

	if (p == IPPROTO_TCP) {
		if (XW_PAST(l4, 20, end))
			return XW_UNREAD(trunc, 0);
		__u32 doff = (__u32)(l4[12] >> 4) * 4;

		k->tcp_flags = l4[13];
		k->flags |= XWK_TCP;
		x->tcp_seq = ((__u32)l4[4] << 24) | ((__u32)l4[5] << 16) | ((__u32)l4[6] << 8) | l4[7];
		x->tcp_ack = ((__u32)l4[8] << 24) | ((__u32)l4[9] << 16) | ((__u32)l4[10] << 8) | l4[11];
		x->tcp_win = ((__u16)l4[14] << 8) | l4[15];
		x->tcp_len = x->l4_len > doff ? x->l4_len - doff : 0;
	} else if (p == IPPROTO_UDP) {
		if (XW_PAST(l4, 8, end))
			return XW_UNREAD(trunc, 0);
	} else if (p == IPPROTO_SCTP) {
		if (XW_PAST(l4, 12, end))
			return XW_UNREAD(trunc, 0);
	} else if ((p == IPPROTO_ICMP && !v6) || (p == IPPROTO_ICMPV6 && v6)) {
		if (XW_PAST(l4, 8, end))
			return XW_UNREAD(trunc, 0);
		k->icmp_type = l4[0];
		k->icmp_code = l4[1];
		k->flags |= v6 ? XWK_ICMP6 : XWK_ICMP;
		x->icmp_id = ((__u16)l4[4] << 8) | l4[5];
		if (xw_icmp_is_error(l4[0], v6))
			return xw_parse_inner(l4 + 8, end, trunc, v6, x);
		return 0;
	} else {
		return 0;
	}
	k->sport = ((__u16)l4[0] << 8) | l4[1];
	k->dport = ((__u16)l4[2] << 8) | l4[3];
	k->flags |= XWK_PORTS;
	return 0;
}

/* The IPv4 header at p, `avail` bytes before the frame ends.  Returns 1 if
 * it is malformed, XW_PARSE_MORE if a header lies past the window, else 0. */
static __always_inline int xw_parse_ip4(__u8 *p, void *end, int trunc, __u32 avail, int gso,
					struct xw_key *k, struct xw_pkt_x *x)
{
	struct iphdr *ip = (void *)p;
	__u32 hl, tot;
	__u16 frag;

	if (XW_PAST(ip, sizeof(*ip), end))
		return XW_UNREAD(trunc, 1);
	if (ip->version != 4 || ip->ihl < 5)
		return 1;
	hl = ip->ihl * 4;
	tot = bpf_ntohs(ip->tot_len);
	/* a GSO packet of more than 64 KiB (BIG TCP) has length 0 */
	if (!tot && gso && avail > 0xffff)
		tot = avail;
	if (tot < hl || tot > avail)
		return 1;

	k->flags |= XWK_L3 | XWK_V4;
	__builtin_memcpy(k->src, &ip->saddr, 4);
	__builtin_memcpy(k->dst, &ip->daddr, 4);
	k->proto = ip->protocol;
	frag = bpf_ntohs(ip->frag_off);
	if (frag & 0x2000)
		k->flags |= XWK_FRAG_MF;
	if (frag & 0x1fff) {
		k->flags |= XWK_FRAG_LATER;
		return 0;
	}
	x->l4_len = tot - hl;
	return xw_parse_l4(p + hl, end, trunc, k, 0, x);
}

/* The IPv6 header at p, `avail` bytes before the frame ends.  Returns 1 if
 * it or its extension chain is invalid, XW_PARSE_MORE if a header lies past
 * the window, else 0. */
static __always_inline int xw_parse_ip6(__u8 *p, void *end, int trunc, __u32 avail, int gso,
					struct xw_key *k, struct xw_pkt_x *x)
{
	struct ipv6hdr *ip6 = (void *)p;
	__u8 *q = p + sizeof(*ip6);
	__u32 plen;
	__u8 nh;
	int i;

	if (XW_PAST(ip6, sizeof(*ip6), end))
		return XW_UNREAD(trunc, 1);
	if (ip6->version != 6)
		return 1;
	plen = bpf_ntohs(ip6->payload_len);
	/* a GSO packet of more than 64 KiB (BIG TCP) has length 0 */
	if (!plen && gso && avail > 0xffff + sizeof(*ip6))
		plen = avail - sizeof(*ip6);
	if (avail < sizeof(*ip6) || plen > avail - sizeof(*ip6))
		return 1;
	nh = ip6->nexthdr;

	for (i = 0; i <= XW_IPV6_EXT_MAX; i++) {
		if (!xw_is_ext6(nh))
			break;
		if (i == XW_IPV6_EXT_MAX)
			return 1;
		if (nh == 44) {
			__u16 fo;

			if (XW_PAST(q, 8, end))
				return XW_UNREAD(trunc, 1);
			fo = ((__u16)q[2] << 8) | q[3];
			/* several fragment headers: the last one walked counts */
			k->flags &= ~XWK_FRAG_MF;
			if (fo & 1)
				k->flags |= XWK_FRAG_MF;
			nh = q[0];
			if (fo >> 3) {
				if (xw_is_ext6(nh))
					return 1;
				k->flags |= XWK_FRAG_LATER;
				goto done;
			}
			q += 8;
		} else {
			__u32 len;

			if (XW_PAST(q, 2, end))
				return XW_UNREAD(trunc, 1);
			len = ((__u32)q[1] + 1) * 8;
			nh = q[0];
			q += len;
			/* the header must end inside the frame (the next read
			 * checks that it is readable) */
			if ((__u32)((long)q - (long)ip6) > avail)
				return 1;
		}
	}
done:
	k->flags |= XWK_L3 | XWK_V6;
	__builtin_memcpy(k->src, &ip6->saddr, 16);
	__builtin_memcpy(k->dst, &ip6->daddr, 16);
	k->proto = nh;
	if (!(k->flags & XWK_FRAG_LATER)) {
		__u32 ext = (__u32)(q - p) - sizeof(*ip6);

		x->l4_len = plen > ext ? plen - ext : 0;
		return xw_parse_l4(q, end, trunc, k, 1, x);
	}
	return 0;
}

/* Fill k from the frame f whose first `end - data` bytes are readable at
 * data.  Returns XW_REASON_SHORT, XW_REASON_MALFORMED, XW_PARSE_MORE (make
 * more of the frame readable, parse again) or 0. */
static __always_inline int xw_parse(void *data, void *end, const struct xw_frame *f,
				    struct xw_key *k, struct xw_pkt_x *x)
{
	struct ethhdr *eth = data;
	__u8 *p = data;
	__u32 seen = (__u32)((long)end - (long)data), flen = f->len, l3;
	int trunc, i, r = 0;
	__u16 type;

	if (flen < seen)
		flen = seen;
	trunc = seen < flen;
	if (XW_PAST(eth, sizeof(*eth), end))
		return XW_UNREAD(trunc, XW_REASON_SHORT);
	__builtin_memcpy(k->eth_dst, eth->h_dest, 6);
	__builtin_memcpy(k->eth_src, eth->h_source, 6);
	type = bpf_ntohs(eth->h_proto);
	p += sizeof(*eth);

	/* a tag the device took out is the outermost one (TC); the frame
	 * then holds at most one more that the parser looks through */
	if (f->hw_vlan) {
		k->vlan = f->hw_tci & 0x0fff;
		k->flags |= XWK_VLAN;
	}
#pragma unroll
	for (i = 0; i < 2; i++) {
		struct xw_vlan_hdr *v = (void *)p;

		if (type != XW_ETH_P_8021Q && type != XW_ETH_P_8021AD)
			break;
		if (i == 1 && f->hw_vlan)
			break;
		if ((void *)(v + 1) > end) {
			if (trunc)
				return XW_PARSE_MORE;
			break;
		}
		if (!(k->flags & XWK_VLAN)) {
			k->vlan = bpf_ntohs(v->tci) & 0x0fff;
			k->flags |= XWK_VLAN;
		}
		type = bpf_ntohs(v->encap);
		p += sizeof(*v);
	}
	k->eth_type = type;

	l3 = (__u32)((long)p - (long)data);
	if (type == ETH_P_IP)
		r = xw_parse_ip4(p, end, trunc, flen - l3, f->gso, k, x);
	else if (type == ETH_P_IPV6)
		r = xw_parse_ip6(p, end, trunc, flen - l3, f->gso, k, x);
	if (r == XW_PARSE_MORE)
		return r;
	if (r) {
		/* an invalid header gives no L3/L4 field at all */
		k->flags &= XWK_VLAN;
		return XW_REASON_MALFORMED;
	}
	return 0;
}

#endif
