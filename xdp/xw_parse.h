// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The one parse of a packet into struct xw_key (docs/semantics.md).
 * Works on any [data, data_end) window, so XDP and TC share it. */
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

/* The header quoted by an ICMP error: the flow it belongs to. */
static __always_inline void xw_parse_inner(__u8 *q, void *end, int v6, struct xw_pkt_x *x)
{
	__u8 *l4;

	if (v6) {
		struct ipv6hdr *ip6 = (void *)q;

		if ((void *)(ip6 + 1) > end)
			return;
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
			if ((void *)(l4 + 8) > end)
				return;
			if (nh == 44) {
				if ((((__u16)l4[2] << 8) | l4[3]) >> 3)
					return;
				nh = l4[0];
				l4 += 8;
			} else {
				nh = l4[0];
				l4 += ((__u32)l4[1] + 1) * 8;
			}
		}
		if (xw_is_ext6(nh))
			return;
		x->inner_proto = nh;
	} else {
		struct iphdr *ip = (void *)q;

		if ((void *)(ip + 1) > end || ip->version != 4 || ip->ihl < 5)
			return;
		/* a quoted non-first fragment has no ports: no flow to find */
		if (bpf_ntohs(ip->frag_off) & 0x1fff)
			return;
		x->inner_proto = ip->protocol;
		__builtin_memcpy(x->inner_src, &ip->saddr, 4);
		__builtin_memcpy(x->inner_dst, &ip->daddr, 4);
		l4 = q + ip->ihl * 4;
	}
	if ((void *)(l4 + 8) > end)
		return;
	if (x->inner_proto == (v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP)) {
		__u16 id = ((__u16)l4[4] << 8) | l4[5];

		if (l4[0] == (v6 ? 128 : 8)) {          /* echo request */
			x->inner_sport = id;
			x->inner_dport = 0;
		} else if (l4[0] == (v6 ? 129 : 0)) {   /* echo reply */
			x->inner_sport = 0;
			x->inner_dport = id;
		} else {
			return;                         /* no flow */
		}
	} else if (x->inner_proto == IPPROTO_TCP || x->inner_proto == IPPROTO_UDP ||
		   x->inner_proto == IPPROTO_SCTP) {
		x->inner_sport = ((__u16)l4[0] << 8) | l4[1];
		x->inner_dport = ((__u16)l4[2] << 8) | l4[3];
	}                                               /* other: ports 0 */
	x->has_inner = 1;
}

/* L4 fields need the protocol's minimum header inside the frame. */
static __always_inline void xw_parse_l4(__u8 *l4, void *end, struct xw_key *k, int v6,
					struct xw_pkt_x *x)
{
	__u8 p = k->proto;

	if (p == IPPROTO_TCP) {
		if ((void *)(l4 + 20) > end)
			return;
		__u32 doff = (__u32)(l4[12] >> 4) * 4;

		k->tcp_flags = l4[13];
		k->flags |= XWK_TCP;
		x->tcp_seq = ((__u32)l4[4] << 24) | ((__u32)l4[5] << 16) | ((__u32)l4[6] << 8) | l4[7];
		x->tcp_ack = ((__u32)l4[8] << 24) | ((__u32)l4[9] << 16) | ((__u32)l4[10] << 8) | l4[11];
		x->tcp_win = ((__u16)l4[14] << 8) | l4[15];
		x->tcp_len = x->l4_len > doff ? x->l4_len - doff : 0;
	} else if (p == IPPROTO_UDP) {
		if ((void *)(l4 + 8) > end)
			return;
	} else if (p == IPPROTO_SCTP) {
		if ((void *)(l4 + 12) > end)
			return;
	} else if ((p == IPPROTO_ICMP && !v6) || (p == IPPROTO_ICMPV6 && v6)) {
		if ((void *)(l4 + 8) > end)
			return;
		k->icmp_type = l4[0];
		k->icmp_code = l4[1];
		k->flags |= v6 ? XWK_ICMP6 : XWK_ICMP;
		x->icmp_id = ((__u16)l4[4] << 8) | l4[5];
		if (xw_icmp_is_error(l4[0], v6))
			xw_parse_inner(l4 + 8, end, v6, x);
		return;
	} else {
		return;
	}
	k->sport = ((__u16)l4[0] << 8) | l4[1];
	k->dport = ((__u16)l4[2] << 8) | l4[3];
	k->flags |= XWK_PORTS;
}

/* Returns 1 if the IPv4 header is malformed. */
static __always_inline int xw_parse_ip4(__u8 *p, void *end, struct xw_key *k,
					struct xw_pkt_x *x)
{
	struct iphdr *ip = (void *)p;
	__u32 hl, tot;
	__u16 frag;

	if ((void *)(ip + 1) > end)
		return 1;
	if (ip->version != 4 || ip->ihl < 5)
		return 1;
	hl = ip->ihl * 4;
	tot = bpf_ntohs(ip->tot_len);
	if (tot < hl || (void *)(p + tot) > end)
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
	xw_parse_l4(p + hl, end, k, 0, x);
	return 0;
}

/* Returns 1 if the IPv6 header or its extension chain is invalid. */
static __always_inline int xw_parse_ip6(__u8 *p, void *end, struct xw_key *k,
					struct xw_pkt_x *x)
{
	struct ipv6hdr *ip6 = (void *)p;
	__u8 *q = p + sizeof(*ip6);
	__u8 nh;
	int i;

	if ((void *)(ip6 + 1) > end)
		return 1;
	if (ip6->version != 6)
		return 1;
	if ((void *)(q + bpf_ntohs(ip6->payload_len)) > end)
		return 1;
	nh = ip6->nexthdr;

	for (i = 0; i <= XW_IPV6_EXT_MAX; i++) {
		if (!xw_is_ext6(nh))
			break;
		if (i == XW_IPV6_EXT_MAX)
			return 1;
		if (nh == 44) {
			__u16 fo;

			if ((void *)(q + 8) > end)
				return 1;
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

			if ((void *)(q + 2) > end)
				return 1;
			len = ((__u32)q[1] + 1) * 8;
			nh = q[0];
			q += len;
			if ((void *)q > end)
				return 1;
		}
	}
done:
	k->flags |= XWK_L3 | XWK_V6;
	__builtin_memcpy(k->src, &ip6->saddr, 16);
	__builtin_memcpy(k->dst, &ip6->daddr, 16);
	k->proto = nh;
	if (!(k->flags & XWK_FRAG_LATER)) {
		__u32 ext = (__u32)(q - p) - sizeof(*ip6), plen = bpf_ntohs(ip6->payload_len);

		x->l4_len = plen > ext ? plen - ext : 0;
		xw_parse_l4(q, end, k, 1, x);
	}
	return 0;
}

/* Fill k from the frame.  Returns XW_REASON_SHORT, XW_REASON_MALFORMED or 0. */
static __always_inline int xw_parse(void *data, void *end, struct xw_key *k, struct xw_pkt_x *x)
{
	struct ethhdr *eth = data;
	__u8 *p = data;
	__u16 type;
	int i;

	if ((void *)(eth + 1) > end)
		return XW_REASON_SHORT;
	__builtin_memcpy(k->eth_dst, eth->h_dest, 6);
	__builtin_memcpy(k->eth_src, eth->h_source, 6);
	type = bpf_ntohs(eth->h_proto);
	p += sizeof(*eth);

#pragma unroll
	for (i = 0; i < 2; i++) {
		struct xw_vlan_hdr *v = (void *)p;

		if (type != XW_ETH_P_8021Q && type != XW_ETH_P_8021AD)
			break;
		if ((void *)(v + 1) > end)
			break;
		if (!(k->flags & XWK_VLAN)) {
			k->vlan = bpf_ntohs(v->tci) & 0x0fff;
			k->flags |= XWK_VLAN;
		}
		type = bpf_ntohs(v->encap);
		p += sizeof(*v);
	}
	k->eth_type = type;

	if ((type == ETH_P_IP && xw_parse_ip4(p, end, k, x)) ||
	    (type == ETH_P_IPV6 && xw_parse_ip6(p, end, k, x))) {
		/* an invalid header gives no L3/L4 field at all */
		k->flags &= XWK_VLAN;
		return XW_REASON_MALFORMED;
	}
	return 0;
}

#endif
