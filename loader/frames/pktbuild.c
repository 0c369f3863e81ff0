// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Frames from field values: see pktbuild.h.
 *
 * `variant` bits choose among encodings that give the same fields:
 *   VB_QINQ   two VLAN tags (802.1ad outer, 802.1Q inner) instead of one
 *   VB_TCI    priority and DEI bits set in the outer tag
 *   VB_OPTS   IPv4 options (IHL 6..8) / IPv6 hop-by-hop and destination
 *             options headers before the transport (or fragment) header
 *   VB_PAD    Ethernet padding after the IP packet (never when a transport
 *             header is meant to be cut short: the frame end is what counts)
 *   VB_DF     IPv4 DF bit / an IPv6 atomic fragment header (offset 0, M 0)
 *   VB_ROUTE  an IPv6 routing header
 *   VB_MORE   transport payload after the header (unless `payload` sets it)
 * and bits 8.. pick lengths: how short a cut header is, payload sizes,
 * the offset of a non-first fragment.  The fields after `payload`
 * (pktbuild.h) set some of these values exactly; all 0, they change nothing. */
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include "pktbuild.h"

#define VB_QINQ  XW_PB_VB_QINQ
#define VB_TCI   XW_PB_VB_TCI
#define VB_OPTS  XW_PB_VB_OPTS
#define VB_PAD   XW_PB_VB_PAD
#define VB_DF    XW_PB_VB_DF
#define VB_ROUTE XW_PB_VB_ROUTE
#define VB_MORE  XW_PB_VB_MORE

#define ET_IP    0x0800
#define ET_IP6   0x86DD
#define ET_8021Q 0x8100
#define ET_8021AD 0x88A8

static unsigned vlen(const struct xw_pb_spec *s, unsigned n)
{
	return n ? ((s->variant >> 8) % n) : 0;
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

uint16_t xw_pb_csum(const void *buf, size_t n)
{
	const uint8_t *p = buf;
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

void xw_pb_ip4_csum(uint8_t *ip)
{
	size_t hl = (size_t)(ip[0] & 0x0f) * 4;

	ip[10] = ip[11] = 0;
	put16(ip + 10, xw_pb_csum(ip, hl));
}

static void pattern(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + 37 * i);
}

/* n pattern bytes, or the spec's own `payload` bytes if it has them;
 * returns the bytes written. */
static size_t filler(const struct xw_pb_spec *s, uint8_t *q, size_t n, uint8_t seed)
{
	if (s->data) {
		memcpy(q, s->data, s->payload);
		return s->payload;
	}
	pattern(q, n, seed);
	return n;
}

/* Offset of a later fragment, in 8-byte units. */
static unsigned later_off(const struct xw_pb_spec *s)
{
	return s->frag_off ? s->frag_off : 1 + ((s->variant >> 12) % 0x1ffe);
}

/* Minimum transport header of proto in this family, 0 if none is parsed. */
static unsigned l4_hlen(uint8_t proto, int v6)
{
	switch (proto) {
	case 6:   return 20;
	case 17:  return 8;
	case 132: return 12;
	case 1:   return v6 ? 0 : 8;
	case 58:  return v6 ? 8 : 0;
	default:  return 0;
	}
}

/* The whole transport header of a protocol with one (20 bytes at most). */
static void l4_header(const struct xw_pb_spec *s, uint8_t *h)
{
	memset(h, 0, 20);
	switch (s->proto) {
	case 6:
		put16(h, s->sport);
		put16(h + 2, s->dport);
		put32(h + 4, s->given ? s->tcp_seq : 0x01020304);
		if (s->given)
			put32(h + 8, s->tcp_ack);
		else
			put32(h + 8, (s->tcp_flags & 0x10) ? 0x0a0b0c0d : 0);
		h[12] = 0x50;
		h[13] = s->tcp_flags;
		put16(h + 14, s->given ? s->tcp_win : 0xffff);
		break;
	case 17:
		put16(h, s->sport);
		put16(h + 2, s->dport);
		if (s->given)       /* what a cut header keeps; a whole one is redone */
			put16(h + 4, 8u + s->payload);
		break;
	case 132:
		put16(h, s->sport);
		put16(h + 2, s->dport);
		put32(h + 4, s->given ? s->sctp_tag : 0xdeadbeef);
		break;
	default:            /* ICMP, ICMPv6 */
		h[0] = s->icmp_type;
		h[1] = s->icmp_code;
		put16(h + 4, s->given ? s->icmp_id : 0x1234);
		put16(h + 6, 1);
		break;
	}
}

/* Transport header (whole or cut) or payload at q; returns bytes written. */
static size_t put_l4(const struct xw_pb_spec *s, uint8_t *q, int v6, int *cut)
{
	unsigned hl = l4_hlen(s->proto, v6);
	uint8_t h[20];
	size_t n;

	*cut = 0;
	if (!hl)
		return filler(s, q, vlen(s, 25), 0x5a);
	l4_header(s, h);
	if (s->l4) {
		memcpy(q, h, hl);
		n = hl;
		if (s->payload || s->data) {
			n += filler(s, q + n, s->payload, 0x33);
		} else if (s->variant & VB_MORE) {
			size_t extra = 1 + vlen(s, 16);

			pattern(q + n, extra, 0x33);
			n += extra;
		}
		if (s->proto == 17)
			put16(q + 4, (unsigned)n);
		return n;
	}
	/* cut inside the header: 0 .. hl-1 bytes of it */
	*cut = 1;
	n = vlen(s, hl);
	memcpy(q, h, n);
	return n;
}

/* Payload of a non-first fragment: bytes that would look like ports. */
static size_t put_later(const struct xw_pb_spec *s, uint8_t *q)
{
	return filler(s, q, 8 + vlen(s, 17), 0xa5);
}

static size_t pad(const struct xw_pb_spec *s, uint8_t *end)
{
	size_t n;

	if (!(s->variant & VB_PAD))
		return 0;
	n = 1 + vlen(s, 8);
	memset(end, 0, n);
	return n;
}

static size_t build_v4(const struct xw_pb_spec *s, uint8_t *h)
{
	unsigned ihl = 5 + (s->ip4_nops ? s->ip4_nops / 4u :
			    (s->variant & VB_OPTS) ? 1 + vlen(s, 3) : 0);
	unsigned frag = 0;
	size_t n;
	int cut = 0;

	memset(h, 0, ihl * 4);
	h[0] = (uint8_t)((s->ip_version ? s->ip_version : 4) << 4 | ihl);
	put16(h + 4, s->given ? s->ip_id & 0xffff : 0x4242);
	if (s->mf)
		frag |= 0x2000;
	if (s->later)
		frag |= later_off(s);
	if ((s->variant & VB_DF) && !s->mf && !s->later)
		frag |= 0x4000;
	put16(h + 6, frag);
	h[8] = 64;
	h[9] = s->proto;
	memcpy(h + 12, s->src, 4);
	memcpy(h + 16, s->dst, 4);
	for (unsigned i = 20; i < ihl * 4; i++)
		h[i] = i + 1 == ihl * 4 && !s->ip4_nops ? 0 : 1;  /* NOPs, end of options */
	n = s->later ? put_later(s, h + ihl * 4) : put_l4(s, h + ihl * 4, 0, &cut);
	n += ihl * 4;
	put16(h + 2, (unsigned)n + s->ip_len_extra);
	xw_pb_ip4_csum(h);
	return cut ? n : n + pad(s, h + n);
}

/* IPv6 extension header of 8 bytes (options: PadN) */
static void ext8(uint8_t *q, uint8_t type)
{
	memset(q, 0, 8);
	if (type == 43) {
		q[2] = 4;          /* routing type (not interpreted), segments left 0 */
	} else {
		q[2] = 1;          /* PadN of 4 bytes */
		q[3] = 4;
	}
}

static size_t build_v6(const struct xw_pb_spec *s, uint8_t *h)
{
	uint8_t chain[8], *nhp = h + 6;
	unsigned nchain = 0;
	uint8_t *q = h + 40;
	size_t n;
	int cut = 0;

	memset(h, 0, 40);
	h[0] = (uint8_t)((s->ip_version ? s->ip_version : 6) << 4);
	if (s->given) {
		h[1] = (uint8_t)((s->flow_label >> 16) & 0x0f);
		put16(h + 2, s->flow_label & 0xffff);
	} else {
		h[1] = 0x0a;
	}
	h[7] = 64;
	memcpy(h + 8, s->src, 16);
	memcpy(h + 24, s->dst, 16);
	if (s->variant & VB_OPTS)
		chain[nchain++] = 0;
	if (s->variant & VB_ROUTE)
		chain[nchain++] = 43;
	if ((s->variant & VB_OPTS) || s->v6_dstopt)
		chain[nchain++] = 60;
	if (s->mf || s->later || (s->variant & VB_DF))
		chain[nchain++] = 44;
	for (unsigned i = 0; i < nchain; i++) {
		*nhp = chain[i];
		if (chain[i] == 44) {
			unsigned off = s->later ? later_off(s) : 0;

			memset(q, 0, 8);
			put16(q + 2, off << 3 | (s->mf ? 1 : 0));
			put32(q + 4, s->given ? s->ip_id : 0x01020304);
		} else {
			ext8(q, chain[i]);
		}
		nhp = q;
		q += 8;
	}
	*nhp = s->proto;
	n = s->later ? put_later(s, q) : put_l4(s, q, 1, &cut);
	n += (size_t)(q - h);
	put16(h + 4, (unsigned)(n - 40) + s->ip_len_extra);
	return cut ? n : n + pad(s, h + n);
}

/* A valid IPv4/UDP or IPv6/UDP packet to break. */
static size_t plain_v4(uint8_t *h)
{
	memset(h, 0, 28);
	h[0] = 0x45;
	put16(h + 2, 28);
	h[8] = 64;
	h[9] = 17;
	h[12] = 192; h[13] = 0; h[14] = 2; h[15] = 1;
	h[16] = 192; h[17] = 0; h[18] = 2; h[19] = 2;
	put16(h + 20, 1000);
	put16(h + 22, 53);
	put16(h + 24, 8);
	return 28;
}

static size_t plain_v6(uint8_t *h, uint8_t nh, size_t payload)
{
	memset(h, 0, 40);
	h[0] = 0x60;
	put16(h + 4, (unsigned)payload);
	h[6] = nh;
	h[7] = 64;
	h[8] = 0x20; h[9] = 0x01; h[10] = 0x0d; h[11] = 0xb8; h[23] = 1;
	h[24] = 0x20; h[25] = 0x01; h[26] = 0x0d; h[27] = 0xb8; h[39] = 2;
	return 40;
}

static size_t build_bad(const struct xw_pb_spec *s, uint8_t *h)
{
	size_t n;

	switch (s->bad) {
	case XW_PB_V4_SHORT:
		plain_v4(h);
		return vlen(s, 20);
	case XW_PB_V4_VERSION: {
		static const uint8_t ver[] = { 6, 0, 5, 15 };

		n = plain_v4(h);
		h[0] = (uint8_t)(ver[vlen(s, 4)] << 4 | 5);
		return n;
	}
	case XW_PB_V4_IHL:
		n = plain_v4(h);
		h[0] = (uint8_t)(0x40 | vlen(s, 5));
		return n;
	case XW_PB_V4_TOTLEN_SMALL:
		n = plain_v4(h);
		put16(h + 2, vlen(s, 20));
		return n;
	case XW_PB_V4_TOTLEN_BIG:
		n = plain_v4(h);
		put16(h + 2, (unsigned)(n + 1 + vlen(s, 100)));
		return n;
	case XW_PB_V6_SHORT:
		plain_v6(h, 17, 8);
		return vlen(s, 40);
	case XW_PB_V6_VERSION: {
		static const uint8_t ver[] = { 4, 0, 7, 15 };

		n = plain_v6(h, 59, 0);
		h[0] = (uint8_t)(ver[vlen(s, 4)] << 4);
		return n;
	}
	case XW_PB_V6_PAYLEN:
		n = plain_v6(h, 59, 0);
		put16(h + 4, 1 + vlen(s, 100));
		return n;
	case XW_PB_V6_EXT_TRUNC:
		if (vlen(s, 2)) {              /* header length past the end */
			plain_v6(h, 0, 8);
			ext8(h + 40, 0);
			h[41] = 3;                 /* 32 bytes claimed, 8 present */
			h[40] = 17;
			return 48;
		}
		plain_v6(h, 43, 1);            /* one byte of a routing header */
		h[40] = 17;
		return 41;
	case XW_PB_V6_EXT_MANY:
		plain_v6(h, 60, 9 * 8 + 8);
		for (unsigned i = 0; i < 9; i++) {
			ext8(h + 40 + 8 * i, 60);
			h[40 + 8 * i] = i == 8 ? 17 : 60;
		}
		put16(h + 40 + 72, 1000);
		put16(h + 40 + 74, 53);
		put16(h + 40 + 76, 8);
		return 40 + 80;
	case XW_PB_V6_LATER_EXT: {
		static const uint8_t ext[] = { 0, 43, 44, 60 };

		plain_v6(h, 44, 16);
		memset(h + 40, 0, 16);
		h[40] = ext[vlen(s, 4)];
		put16(h + 42, (1 + vlen(s, 100)) << 3);
		return 56;
	}
	case XW_PB_V6_FRAG_TRUNC:
		n = vlen(s, 8);
		plain_v6(h, 44, n);
		memset(h + 40, 17, n);
		return 40 + n;
	default:
		return (size_t)-1;
	}
}

size_t xw_pb_build(const struct xw_pb_spec *s, uint8_t *buf, size_t cap)
{
	int special = s->eth_type == ET_8021Q || s->eth_type == ET_8021AD;
	size_t l3, n;

	if (s->payload > XW_PB_PAYLOAD_MAX || cap < XW_PB_MAX + (size_t)s->payload ||
	    s->vlan > 4095 || s->frag_off > 0x1fff || s->ip4_nops % 4 || s->ip4_nops > 40 ||
	    s->ip_version > 15)
		return 0;
	memset(buf, 0, XW_PB_MAX);
	memcpy(buf, s->eth_dst, 6);
	memcpy(buf + 6, s->eth_src, 6);
	if (s->vlan >= 0) {
		unsigned tci = (unsigned)s->vlan | ((s->variant & VB_TCI) ? 0xb000 : 0);

		if ((s->variant & VB_QINQ) || special) {
			put16(buf + 12, (s->variant & VB_QINQ) ? ET_8021AD : ET_8021Q);
			put16(buf + 14, tci);
			put16(buf + 16, ET_8021Q);
			put16(buf + 18, ((unsigned)s->vlan * 7 + 1) & 0xfff);
			put16(buf + 20, s->eth_type);
			l3 = 22;
		} else {
			put16(buf + 12, ET_8021Q);
			put16(buf + 14, tci);
			put16(buf + 16, s->eth_type);
			l3 = 18;
		}
	} else {
		put16(buf + 12, s->eth_type);
		l3 = 14;
		if (special) {
			/* an untagged frame can only show a tag's TPID as its
			 * EtherType if the tag is cut short */
			if (s->l3 != XW_PB_L3_NONE)
				return 0;
			n = vlen(s, 4);
			pattern(buf + l3, n, 0x81);
			return l3 + n;
		}
	}
	switch (s->l3) {
	case XW_PB_L3_V4:
		if (s->eth_type != ET_IP)
			return 0;
		return l3 + build_v4(s, buf + l3);
	case XW_PB_L3_V6:
		if (s->eth_type != ET_IP6)
			return 0;
		return l3 + build_v6(s, buf + l3);
	default:
		break;
	}
	if (s->eth_type == ET_IP || s->eth_type == ET_IP6) {
		if (s->bad < (s->eth_type == ET_IP ? XW_PB_V4_BAD_FIRST : XW_PB_V6_BAD_FIRST) ||
		    s->bad > (s->eth_type == ET_IP ? XW_PB_V4_BAD_LAST : XW_PB_V6_BAD_LAST))
			return 0;
		n = build_bad(s, buf + l3);
		return n == (size_t)-1 ? 0 : l3 + n;
	}
	return l3 + filler(s, buf + l3, vlen(s, 47), 0x11);
}

const char *const xw_pb_shape_names[XW_PBS_N] = {
	"tagged", "two tags", "tag cut short", "not IP", "malformed IP", "IPv4", "IPv4 options",
	"IPv6", "IPv6 extension headers", "fragments", "non-first fragments",
	"transport header cut short", "whole transport header", "padded",
};

unsigned xw_pb_shapes(const struct xw_pb_spec *s)
{
	int special = s->eth_type == ET_8021Q || s->eth_type == ET_8021AD;
	unsigned f = 0;
	int v6 = s->l3 == XW_PB_L3_V6;

	if (s->vlan >= 0) {
		f |= XW_PBS_TAGGED;
		if ((s->variant & VB_QINQ) || special)
			f |= XW_PBS_QINQ;
	} else if (special) {
		f |= XW_PBS_TAG_CUT;
	}
	if (s->l3 == XW_PB_L3_NONE)
		return f | (s->bad ? XW_PBS_MALFORMED : XW_PBS_NON_IP);
	f |= v6 ? XW_PBS_V6 : XW_PBS_V4;
	if (s->variant & VB_OPTS)
		f |= v6 ? XW_PBS_V6_EXT : XW_PBS_V4_OPTIONS;
	if (v6 && (s->variant & (VB_ROUTE | VB_DF)))
		f |= XW_PBS_V6_EXT;
	if (s->mf || s->later)
		f |= XW_PBS_FRAG;
	if (s->later)
		f |= XW_PBS_LATER;
	else if (l4_hlen(s->proto, v6))
		f |= s->l4 ? XW_PBS_L4 : XW_PBS_L4_CUT;
	if ((s->variant & VB_PAD) && (s->later || !l4_hlen(s->proto, v6) || s->l4))
		f |= XW_PBS_PAD;
	return f;
}

const char *xw_pb_bad_name(int bad)
{
	static const char *const names[XW_PB_BAD_MAX] = {
		[XW_PB_OK] = "ok",
		[XW_PB_V4_SHORT] = "IPv4 header cut short",
		[XW_PB_V4_VERSION] = "IPv4 version not 4",
		[XW_PB_V4_IHL] = "IPv4 IHL < 5",
		[XW_PB_V4_TOTLEN_SMALL] = "IPv4 total length < IHL*4",
		[XW_PB_V4_TOTLEN_BIG] = "IPv4 total length past the frame",
		[XW_PB_V6_SHORT] = "IPv6 header cut short",
		[XW_PB_V6_VERSION] = "IPv6 version not 6",
		[XW_PB_V6_PAYLEN] = "IPv6 payload length past the frame",
		[XW_PB_V6_EXT_TRUNC] = "IPv6 extension header past the frame",
		[XW_PB_V6_EXT_MANY] = "nine IPv6 extension headers",
		[XW_PB_V6_LATER_EXT] = "IPv6 non-first fragment of an extension header",
		[XW_PB_V6_FRAG_TRUNC] = "IPv6 fragment header cut short",
	};

	return bad >= 0 && bad < XW_PB_BAD_MAX ? names[bad] : "?";
}

static const char *l4_name(uint8_t proto, int v6)
{
	switch (proto) {
	case 6: return "tcp";
	case 17: return "udp";
	case 132: return "sctp";
	case 1: return v6 ? NULL : "icmp";
	case 58: return v6 ? "icmpv6" : NULL;
	default: return NULL;
	}
}

int xw_pb_format(const struct xw_pb_spec *s, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	size_t o = 0;
	int v6 = s->l3 == XW_PB_L3_V6;

#define OUT(...) do { int _n = snprintf(buf + o, o < len ? len - o : 0, __VA_ARGS__); \
		      if (_n > 0) o += (size_t)_n; } while (0)
	if (s->vlan >= 0)
		OUT("vlan %d, ", s->vlan);
	OUT("ether %02x:%02x:%02x:%02x:%02x:%02x > %02x:%02x:%02x:%02x:%02x:%02x type 0x%04x",
	    s->eth_src[0], s->eth_src[1], s->eth_src[2], s->eth_src[3], s->eth_src[4], s->eth_src[5],
	    s->eth_dst[0], s->eth_dst[1], s->eth_dst[2], s->eth_dst[3], s->eth_dst[4], s->eth_dst[5],
	    s->eth_type);
	if (s->l3 == XW_PB_L3_NONE) {
		if (s->bad)
			OUT(", malformed: %s", xw_pb_bad_name(s->bad));
		else if (s->vlan < 0 && (s->eth_type == ET_8021Q || s->eth_type == ET_8021AD))
			OUT(", VLAN tag cut short");
		else
			OUT(", not IP");
		return (int)o;
	}
	inet_ntop(v6 ? AF_INET6 : AF_INET, s->src, a, sizeof(a));
	inet_ntop(v6 ? AF_INET6 : AF_INET, s->dst, b, sizeof(b));
	OUT(", %s %s > %s proto %u", v6 ? "ip6" : "ip", a, b, s->proto);
	if (s->mf || s->later)
		OUT(", fragment%s%s", s->mf ? " mf" : "", s->later ? " offset>0" : " offset 0");
	if (s->later || !l4_name(s->proto, v6))
		return (int)o;
	if (!s->l4) {
		OUT(", %s header cut short", l4_name(s->proto, v6));
		return (int)o;
	}
	if (s->proto == 1 || s->proto == 58)
		OUT(", %s type %u code %u", l4_name(s->proto, v6), s->icmp_type, s->icmp_code);
	else
		OUT(", %s %u > %u", l4_name(s->proto, v6), s->sport, s->dport);
	if (s->proto == 6)
		OUT(" flags 0x%02x", s->tcp_flags);
#undef OUT
	return (int)o;
}

int xw_pb_hex(const uint8_t *p, size_t n, char *buf, size_t len)
{
	static const char hx[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < n && o + 2 < len; i++) {
		buf[o++] = hx[p[i] >> 4];
		buf[o++] = hx[p[i] & 15];
	}
	if (len)
		buf[o < len ? o : len - 1] = 0;
	return (int)o;
}
