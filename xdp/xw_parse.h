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
#include <linux/in6.h>
#include <linux/icmpv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include "xwall.h"

#define XW_ETH_P_8021Q  ETH_P_8021Q     /* 802.1Q VLAN tag */
#define XW_ETH_P_8021AD ETH_P_8021AD    /* 802.1ad service tag (QinQ outer) */
#define XW_VLAN_VID_MASK 0x0fff         /* the VLAN id bits of a TCI */
/* Extension headers walked before giving up (and calling the packet
 * malformed): more than any sane stack sends, few enough for the verifier. */
#define XW_IPV6_EXT_MAX 8

/* iphdr.frag_off, host order: more fragments / fragment offset (RFC 791;
 * the kernel's IP_MF / IP_OFFSET, which no UAPI header exports) */
#define XW_IP_MF        0x2000
#define XW_IP_OFFSET    0x1fff
/* The largest length a 16-bit IP length field can say: a GSO packet longer
 * than that (BIG TCP) carries length 0 instead. */
#define XW_IP_LEN_MAX   0xffff

/* The IPv6 fragment header (RFC 8200 4.5; the kernel's struct frag_hdr is
 * not in the UAPI) and its frag_off bits, host order. */
struct xw_frag_hdr {
	__u8   nexthdr;
	__u8   reserved;
	__be16 frag_off;
	__be32 identification;
};
#define XW_IP6_MF       0x0001          /* more fragments */
#define XW_IP6_OFFSET   0xfff8          /* offset, in 8-byte units << 3 */

/* An extension header's hdrlen counts 8-byte units after the first 8
 * (RFC 8200 4.3), so every header is at least 8 bytes long. */
#define XW_IPV6_OPT_MIN 8
#define XW_IPV6_OPT_LEN(h) (((__u32)(h)->hdrlen + 1) * 8)

/* The SCTP common header (RFC 9260 3.1): the ports, then the verification
 * tag and checksum.  Its ports sit where TCP's and UDP's do. */
#define XW_SCTP_HLEN    12

/* An ICMP error quotes at least the first 8 bytes of the transport header
 * (RFC 792): the ports, or ICMP's type, code and echo id. */
#define XW_ICMP_QUOTE_L4 8

/* TCP's flag bits fin..cwr are the 14th byte of struct tcphdr, which the
 * UAPI spells only as bitfields (the kernel's tcp_flag_byte()). */
#define XW_TCP_FLAGS_BYTE 13

/* ICMP types (RFC 792), under linux/icmp.h's names; that header pulls in
 * libc's socket headers, which a BPF build cannot include. */
#define XW_ICMP_ECHOREPLY       0
#define XW_ICMP_DEST_UNREACH    3
#define XW_ICMP_SOURCE_QUENCH   4
#define XW_ICMP_REDIRECT        5
#define XW_ICMP_ECHO            8
#define XW_ICMP_TIME_EXCEEDED   11
#define XW_ICMP_PARAMETERPROB   12

/* ICMP and ICMPv6 share their first 8 bytes: type, code, checksum, then
 * for echo request and reply the identifier and sequence number (for
 * errors, 4 unused or type-specific bytes).  The quoted packet of an error
 * starts right after them. */
struct xw_icmp_hdr {
	__u8    type;
	__u8    code;
	__sum16 checksum;
	__be16  echo_id;
	__be16  echo_seq;
};

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

/* A big-endian 16-bit header field, read byte by byte.  For the ports:
 * the verifier keeps the range (0..65535) of a value built from two bytes,
 * but not of a load and byte swap (bpf_ntohs), and the rule stage's port
 * checks then verify in many more steps (xw_tc_in: about 15 % more). */
static __always_inline __u16 xw_be16(const __be16 *f)
{
	const __u8 *b = (const __u8 *)f;

	return (__u16)((__u16)b[0] << 8 | b[1]);
}

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

/* The extension headers the parser walks to find the transport header.
 * Others (AH, ESP, mobility, ...) end the walk: they are the protocol. */
static __always_inline int xw_is_ext6(__u8 nh)
{
	return nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING ||
	       nh == IPPROTO_FRAGMENT || nh == IPPROTO_DSTOPTS;
}

/* ICMP errors quote the packet that caused them (RFC 792, RFC 4443 2.1:
 * ICMPv6 error types are 1..127; xwall knows the four RFC 4443 defines). */
static __always_inline int xw_icmp_is_error(__u8 type, int v6)
{
	if (v6)
		return type >= ICMPV6_DEST_UNREACH && type <= ICMPV6_PARAMPROB;
	return type == XW_ICMP_DEST_UNREACH || type == XW_ICMP_SOURCE_QUENCH ||
	       type == XW_ICMP_REDIRECT || type == XW_ICMP_TIME_EXCEEDED ||
	       type == XW_ICMP_PARAMETERPROB;
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
			struct ipv6_opt_hdr *oh = (void *)l4;

			if (!xw_is_ext6(nh))
				break;
			if (XW_PAST(l4, XW_IPV6_OPT_MIN, end))
				return XW_UNREAD(trunc, 0);
			if (nh == IPPROTO_FRAGMENT) {
				struct xw_frag_hdr *fh = (void *)l4;

				if (bpf_ntohs(fh->frag_off) & XW_IP6_OFFSET)
					return 0;
				nh = fh->nexthdr;
				l4 += sizeof(*fh);
			} else {
				nh = oh->nexthdr;
				l4 += XW_IPV6_OPT_LEN(oh);
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
		if (bpf_ntohs(ip->frag_off) & XW_IP_OFFSET)
			return 0;
		x->inner_proto = ip->protocol;
		__builtin_memcpy(x->inner_src, &ip->saddr, 4);
		__builtin_memcpy(x->inner_dst, &ip->daddr, 4);
		l4 = q + ip->ihl * 4;
	}
	if (XW_PAST(l4, XW_ICMP_QUOTE_L4, end))
		return XW_UNREAD(trunc, 0);
	if (x->inner_proto == (v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP)) {
		struct xw_icmp_hdr *ic = (void *)l4;
		__u16 id = bpf_ntohs(ic->echo_id);

		if (ic->type == (v6 ? ICMPV6_ECHO_REQUEST : XW_ICMP_ECHO)) {
			x->inner_sport = id;
			x->inner_dport = 0;
		} else if (ic->type == (v6 ? ICMPV6_ECHO_REPLY : XW_ICMP_ECHOREPLY)) {
			x->inner_sport = 0;
			x->inner_dport = id;
		} else {
			return 0;                       /* no flow */
		}
	} else if (x->inner_proto == IPPROTO_TCP || x->inner_proto == IPPROTO_UDP ||
		   x->inner_proto == IPPROTO_SCTP) {
		struct udphdr *uh = (void *)l4;         /* the ports, for all three */

		x->inner_sport = xw_be16(&uh->source);
		x->inner_dport = xw_be16(&uh->dest);
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
		struct tcphdr *th = (void *)l4;

		if (XW_PAST(th, sizeof(*th), end))
			return XW_UNREAD(trunc, 0);
		__u32 doff = (__u32)th->doff * 4;       /* doff counts 32-bit words */

		k->tcp_flags = l4[XW_TCP_FLAGS_BYTE];
		k->flags |= XWK_TCP;
		x->tcp_seq = bpf_ntohl(th->seq);
		x->tcp_ack = bpf_ntohl(th->ack_seq);
		x->tcp_win = bpf_ntohs(th->window);
		x->tcp_len = x->l4_len > doff ? x->l4_len - doff : 0;
	} else if (p == IPPROTO_UDP) {
		if (XW_PAST(l4, sizeof(struct udphdr), end))
			return XW_UNREAD(trunc, 0);
	} else if (p == IPPROTO_SCTP) {
		if (XW_PAST(l4, XW_SCTP_HLEN, end))
			return XW_UNREAD(trunc, 0);
	} else if ((p == IPPROTO_ICMP && !v6) || (p == IPPROTO_ICMPV6 && v6)) {
		struct xw_icmp_hdr *ic = (void *)l4;

		if (XW_PAST(ic, sizeof(*ic), end))
			return XW_UNREAD(trunc, 0);
		k->icmp_type = ic->type;
		k->icmp_code = ic->code;
		k->flags |= v6 ? XWK_ICMP6 : XWK_ICMP;
		x->icmp_id = bpf_ntohs(ic->echo_id);
		if (xw_icmp_is_error(ic->type, v6))
			return xw_parse_inner(l4 + sizeof(*ic), end, trunc, v6, x);
		return 0;
	} else {
		return 0;
	}
	/* TCP, UDP and SCTP all start with the two ports */
	k->sport = xw_be16(&((struct udphdr *)l4)->source);
	k->dport = xw_be16(&((struct udphdr *)l4)->dest);
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
	if (!tot && gso && avail > XW_IP_LEN_MAX)
		tot = avail;
	if (tot < hl || tot > avail)
		return 1;

	k->flags |= XWK_L3 | XWK_V4;
	__builtin_memcpy(k->src, &ip->saddr, 4);
	__builtin_memcpy(k->dst, &ip->daddr, 4);
	k->proto = ip->protocol;
	frag = bpf_ntohs(ip->frag_off);
	if (frag & XW_IP_MF)
		k->flags |= XWK_FRAG_MF;
	if (frag & XW_IP_OFFSET) {
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
	if (!plen && gso && avail > XW_IP_LEN_MAX + sizeof(*ip6))
		plen = avail - sizeof(*ip6);
	if (avail < sizeof(*ip6) || plen > avail - sizeof(*ip6))
		return 1;
	nh = ip6->nexthdr;

	for (i = 0; i <= XW_IPV6_EXT_MAX; i++) {
		if (!xw_is_ext6(nh))
			break;
		if (i == XW_IPV6_EXT_MAX)
			return 1;
		if (nh == IPPROTO_FRAGMENT) {
			struct xw_frag_hdr *fh = (void *)q;
			__u16 fo;

			if (XW_PAST(fh, sizeof(*fh), end))
				return XW_UNREAD(trunc, 1);
			fo = bpf_ntohs(fh->frag_off);
			/* several fragment headers: the last one walked counts */
			k->flags &= ~XWK_FRAG_MF;
			if (fo & XW_IP6_MF)
				k->flags |= XWK_FRAG_MF;
			nh = fh->nexthdr;
			if (fo & XW_IP6_OFFSET) {
				if (xw_is_ext6(nh))
					return 1;
				k->flags |= XWK_FRAG_LATER;
				goto done;
			}
			q += sizeof(*fh);
		} else {
			struct ipv6_opt_hdr *oh = (void *)q;
			__u32 len;

			/* only nexthdr and hdrlen are read here */
			if (XW_PAST(oh, sizeof(*oh), end))
				return XW_UNREAD(trunc, 1);
			len = XW_IPV6_OPT_LEN(oh);
			nh = oh->nexthdr;
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
		k->vlan = f->hw_tci & XW_VLAN_VID_MASK;
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
			k->vlan = bpf_ntohs(v->tci) & XW_VLAN_VID_MASK;
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
