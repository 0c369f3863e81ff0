// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Reference classifier: see refclass.h.  Every function below follows one
 * paragraph of docs/semantics.md; the numbers in comments
 * are the numbered rules there. */
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "refclass.h"

#define ETH_HLEN     14
#define ET_IPV4      0x0800
#define ET_IPV6      0x86DD
#define ET_VLAN      0x8100
#define ET_QINQ      0x88A8

#define P_ICMP       1
#define P_TCP        6
#define P_UDP        17
#define P_ICMPV6     58
#define P_SCTP       132

#define NH_HOPOPTS   0
#define NH_ROUTING   43
#define NH_FRAGMENT  44
#define NH_DSTOPTS   60
#define MAX_EXT_HDRS 8

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static int is_ipv6_ext(uint8_t nh)
{
	return nh == NH_HOPOPTS || nh == NH_ROUTING || nh == NH_FRAGMENT || nh == NH_DSTOPTS;
}

/* Rule 5: transport fields need the protocol's minimum header in the frame
 * (not bounded by the IP length fields).  `avail` counts frame bytes from
 * the start of the transport header. */
static void parse_l4(const uint8_t *l4, size_t avail, struct xw_ref_pkt *o)
{
	switch (o->proto) {
	case P_TCP:
		if (avail >= 20) {
			o->has_ports = 1;
			o->has_tcp = 1;
			o->tcp_flags = l4[13];
		}
		break;
	case P_UDP:
		o->has_ports = avail >= 8;
		break;
	case P_SCTP:
		o->has_ports = avail >= 12;
		break;
	case P_ICMP:
		o->has_icmp = o->v4 && avail >= 8;
		break;
	case P_ICMPV6:
		o->has_icmp6 = o->v6 && avail >= 8;
		break;
	}
	if (o->has_ports) {
		o->sport = rd16(l4);
		o->dport = rd16(l4 + 2);
	}
	if (o->has_icmp || o->has_icmp6) {
		o->icmp_type = l4[0];
		o->icmp_code = l4[1];
	}
}

/* Rule 2 (IPv4).  h points at the IP header, L = bytes after the link header. */
static void parse_ipv4(const uint8_t *h, size_t L, struct xw_ref_pkt *o)
{
	if (L < 20) {
		o->malformed = 1;
		return;
	}
	unsigned version = h[0] >> 4;
	unsigned ihl = h[0] & 0x0f;
	size_t total = rd16(h + 2);
	if (version != 4 || ihl < 5 || ihl * 4 > total || total > L) {
		o->malformed = 1;
		return;
	}
	o->v4 = 1;
	memcpy(o->src, h + 12, 4);
	memcpy(o->dst, h + 16, 4);
	o->proto = h[9];

	/* Rule 7: flags/offset field; MF is 0x2000, offset the low 13 bits. */
	uint16_t frag = rd16(h + 6);
	o->has_frag = 1;
	o->frag_mf = (frag & 0x2000) != 0;
	o->frag_off = frag & 0x1fff;
	o->later = o->frag_off != 0;

	/* Rule 5: a non-first fragment has no transport header. */
	if (o->later)
		return;
	o->l4_off = o->l3_off + ihl * 4;
	parse_l4(h + ihl * 4, L - ihl * 4, o);
}

/* Rules 2 and 3 (IPv6).  Fills o only if the header and the extension walk
 * are valid, so a malformed packet exposes no L3 field. */
static void parse_ipv6(const uint8_t *h, size_t L, struct xw_ref_pkt *o)
{
	if (L < 40 || (h[0] >> 4) != 6 || 40 + (size_t)rd16(h + 4) > L) {
		o->malformed = 1;
		return;
	}

	uint8_t nh = h[6];
	size_t off = 40;
	unsigned count = 0;
	int seen_frag = 0, mf = 0, later = 0;
	uint16_t frag_off = 0;

	while (is_ipv6_ext(nh)) {
		if (count == MAX_EXT_HDRS) {      /* a 9th extension header */
			o->malformed = 1;
			return;
		}
		count++;
		if (nh == NH_FRAGMENT) {
			if (off + 8 > L) {
				o->malformed = 1;
				return;
			}
			uint16_t f = rd16(h + off + 2);
			seen_frag = 1;
			mf = f & 0x0001;
			frag_off = f >> 3;
			nh = h[off];
			if (frag_off != 0) {
				/* Non-first fragment: the walk ends with its next
				 * header, which must not be another extension. */
				if (is_ipv6_ext(nh)) {
					o->malformed = 1;
					return;
				}
				later = 1;
				break;
			}
			off += 8;
		} else {
			if (off + 2 > L) {
				o->malformed = 1;
				return;
			}
			size_t size = ((size_t)h[off + 1] + 1) * 8;
			if (off + size > L) {
				o->malformed = 1;
				return;
			}
			nh = h[off];
			off += size;
		}
	}

	o->v6 = 1;
	memcpy(o->src, h + 8, 16);
	memcpy(o->dst, h + 24, 16);
	o->proto = nh;
	o->n_ext = (uint8_t)count;
	o->has_frag = (uint8_t)seen_frag;
	o->frag_mf = (uint8_t)mf;
	o->frag_off = frag_off;
	o->later = (uint8_t)later;
	if (later)
		return;
	o->l4_off = o->l3_off + off;
	parse_l4(h + off, L - off, o);
}

void xw_ref_parse(const uint8_t *pkt, size_t len, struct xw_ref_pkt *o)
{
	memset(o, 0, sizeof(*o));
	o->len = len;
	if (len < ETH_HLEN) {
		o->short_frame = 1;
		return;
	}
	memcpy(o->eth_dst, pkt, 6);
	memcpy(o->eth_src, pkt + 6, 6);

	/* Rule 9: look through up to two tags; a third stays the EtherType. */
	uint16_t et = rd16(pkt + 12);
	size_t off = ETH_HLEN;
	while (o->n_tags < 2 && (et == ET_VLAN || et == ET_QINQ)) {
		if (off + 4 > len) {
			o->vlan_truncated = 1;
			break;
		}
		if (o->n_tags == 0) {
			o->has_vlan = 1;
			o->vlan = rd16(pkt + off) & 0x0fff;
		}
		et = rd16(pkt + off + 2);
		off += 4;
		o->n_tags++;
	}
	o->eth_type = et;
	o->l3_off = off;
	if (o->vlan_truncated)
		return;

	if (et == ET_IPV4)
		parse_ipv4(pkt + off, len - off, o);
	else if (et == ET_IPV6)
		parse_ipv6(pkt + off, len - off, o);
}

/* ---- matching ---- */

static int prefix_equal(const uint8_t *a, const uint8_t *b, unsigned plen)
{
	unsigned full = plen / 8, rest = plen % 8;
	if (memcmp(a, b, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

/* `src`/`dst`: an IPv4 CIDR only matches valid IPv4, an IPv6 one valid IPv6. */
static int addr_in_list(const struct xw_cidr *list, size_t n, const struct xw_ref_pkt *p,
			const uint8_t *addr)
{
	for (size_t i = 0; i < n; i++) {
		const struct xw_cidr *c = &list[i];
		if (c->family == 4 && p->v4 && prefix_equal(c->addr, addr, c->plen))
			return 1;
		if (c->family == 6 && p->v6 && prefix_equal(c->addr, addr, c->plen))
			return 1;
	}
	return 0;
}

static int in_ranges(const struct xw_range *list, size_t n, unsigned v)
{
	for (size_t i = 0; i < n; i++)
		if (list[i].lo <= v && v <= list[i].hi)
			return 1;
	return 0;
}

static int icmp_matches(const struct xw_rule *r, uint8_t type, uint8_t code)
{
	if (!in_ranges(r->icmp_type, r->n_icmp_type, type))
		return 0;
	return r->n_icmp_code == 0 || in_ranges(r->icmp_code, r->n_icmp_code, code);
}

/* Rule 7. */
static int frag_matches(uint8_t kind, const struct xw_ref_pkt *p)
{
	if (!p->has_frag)
		return 0;
	switch (kind) {
	case XW_FRAG_ANY:
		return p->frag_mf || p->frag_off != 0;
	case XW_FRAG_FIRST:
		return p->frag_mf && p->frag_off == 0;
	case XW_FRAG_LATER:
		return p->frag_off != 0;
	}
	return 0;
}

int xw_ref_rule_matches(const struct xw_rule *r, const struct xw_ref_pkt *p,
			uint8_t dir, uint32_t ifindex, uint32_t rule_ifindex)
{
	uint32_t m = r->present;
	int l3 = p->v4 || p->v6;

	if (r->dir != dir)
		return 0;
	if (p->short_frame)     /* no field at all; even a bare rule yields to policy */
		return 0;

	if ((m & XM_IIF) && rule_ifindex != ifindex)
		return 0;
	if ((m & XM_ETH_SRC) && memcmp(r->eth_src, p->eth_src, 6) != 0)
		return 0;
	if ((m & XM_ETH_DST) && memcmp(r->eth_dst, p->eth_dst, 6) != 0)
		return 0;
	if ((m & XM_ETH_TYPE) && p->eth_type != r->eth_type)
		return 0;
	if ((m & XM_VLAN) && !(p->has_vlan && p->vlan == r->vlan))
		return 0;
	/* Rule 1: ip / ip6 are the EtherType and nothing more. */
	if ((m & XM_IP) && p->eth_type != ET_IPV4)
		return 0;
	if ((m & XM_IP6) && p->eth_type != ET_IPV6)
		return 0;
	if ((m & XM_SRC) && !addr_in_list(r->src, r->n_src, p, p->src))
		return 0;
	if ((m & XM_DST) && !addr_in_list(r->dst, r->n_dst, p, p->dst))
		return 0;
	/* Rule 4: proto needs only a valid IP header (later fragments too). */
	if ((m & XM_PROTO) && !(l3 && p->proto == r->proto))
		return 0;
	/* Rule 5: ports only from TCP/UDP/SCTP headers present in the frame. */
	if ((m & XM_SPORT) && !(p->has_ports && in_ranges(r->sport, r->n_sport, p->sport)))
		return 0;
	if ((m & XM_DPORT) && !(p->has_ports && in_ranges(r->dport, r->n_dport, p->dport)))
		return 0;
	/* Rule 6: (flags & M) == F. */
	if ((m & XM_TCPFLAGS) && !(p->has_tcp && (p->tcp_flags & r->tcp_mask) == r->tcp_flags))
		return 0;
	if ((m & XM_ICMP) && !(p->has_icmp && icmp_matches(r, p->icmp_type, p->icmp_code)))
		return 0;
	if ((m & XM_ICMP6) && !(p->has_icmp6 && icmp_matches(r, p->icmp_type, p->icmp_code)))
		return 0;
	if ((m & XM_FRAG) && !frag_matches(r->frag, p))
		return 0;
	/* Stateful matches are not modelled (classify refuses such rule sets). */
	if (m & (XM_CT | XM_LIMIT))
		return 0;
	return 1;
}

int xw_ref_classify(const struct xw_rule *rules, size_t n, const uint8_t policy[2],
		    const uint8_t *pkt, size_t len, uint8_t dir, uint32_t ifindex,
		    const uint32_t *rule_ifindex, struct xw_ref_result *res)
{
	struct xw_ref_pkt p;

	for (size_t i = 0; i < n; i++)
		if (rules[i].present & (XM_CT | XM_LIMIT))
			return -1;

	xw_ref_parse(pkt, len, &p);
	memset(res, 0, sizeof(*res));
	res->malformed = p.malformed;
	res->short_frame = p.short_frame;
	res->verdict = policy[dir];
	res->reason = p.short_frame ? XW_REASON_SHORT : XW_REASON_POLICY;
	res->prio = XW_PRIO_NONE;
	res->index = -1;

	for (size_t i = 0; i < n; i++) {
		/* Without a resolved ifindex an iif rule never matches. */
		if ((rules[i].present & XM_IIF) && !rule_ifindex)
			continue;
		uint32_t rif = rule_ifindex ? rule_ifindex[i] : 0;
		if (xw_ref_rule_matches(&rules[i], &p, dir, ifindex, rif)) {
			res->verdict = rules[i].verdict;
			res->reason = XW_REASON_RULE;
			res->prio = rules[i].prio;
			res->index = (long)i;
			break;
		}
	}
	return 0;
}

int xw_ref_pkt_format(const struct xw_ref_pkt *p, char *buf, size_t size)
{
	char s[INET6_ADDRSTRLEN] = "-", d[INET6_ADDRSTRLEN] = "-";

	if (p->short_frame)
		return snprintf(buf, size, "len=%zu short", p->len);
	if (p->v4) {
		inet_ntop(AF_INET, p->src, s, sizeof(s));
		inet_ntop(AF_INET, p->dst, d, sizeof(d));
	} else if (p->v6) {
		inet_ntop(AF_INET6, p->src, s, sizeof(s));
		inet_ntop(AF_INET6, p->dst, d, sizeof(d));
	}
	return snprintf(buf, size,
			"len=%zu et=0x%04x tags=%u%s vlan=%s%u %s%s%s src=%s dst=%s proto=%u "
			"ext=%u frag=%s%u/mf%u ports=%s%u>%u tcpflags=%s0x%02x icmp=%s%s%u/%u",
			p->len, p->eth_type, p->n_tags, p->vlan_truncated ? "(trunc)" : "",
			p->has_vlan ? "" : "none:", p->vlan,
			p->malformed ? "MALFORMED " : "", p->v4 ? "v4" : "", p->v6 ? "v6" : "",
			s, d, p->proto, p->n_ext, p->has_frag ? "" : "none:", p->frag_off,
			p->frag_mf, p->has_ports ? "" : "none:", p->sport, p->dport,
			p->has_tcp ? "" : "none:", p->tcp_flags,
			p->has_icmp ? "v4:" : "", p->has_icmp6 ? "v6:" : "",
			p->icmp_type, p->icmp_code);
}

/* The datapath's key of a frame, filled from this parse (the stateless
 * fields; ct_state 0). */
void xw_ref_key(const uint8_t *pkt, size_t len, uint8_t dir, uint32_t ifindex, struct xw_key *k)
{
	struct xw_ref_pkt p;

	xw_ref_parse(pkt, len, &p);
	memset(k, 0, sizeof(*k));
	memcpy(k->eth_dst, p.eth_dst, 6);
	memcpy(k->eth_src, p.eth_src, 6);
	k->eth_type = p.eth_type;
	if (p.has_vlan) {
		k->flags |= XWK_VLAN;
		k->vlan = p.vlan;
	}
	if (p.v4 || p.v6) {
		k->flags |= XWK_L3 | (p.v4 ? XWK_V4 : XWK_V6);
		memcpy(k->src, p.src, 16);
		memcpy(k->dst, p.dst, 16);
		k->proto = p.proto;
		if (p.has_frag && p.frag_mf)
			k->flags |= XWK_FRAG_MF;
		if (p.has_frag && p.later)
			k->flags |= XWK_FRAG_LATER;
	}
	if (p.has_ports) {
		k->flags |= XWK_PORTS;
		k->sport = p.sport;
		k->dport = p.dport;
	}
	if (p.has_tcp) {
		k->flags |= XWK_TCP;
		k->tcp_flags = p.tcp_flags;
	}
	if (p.has_icmp || p.has_icmp6) {
		k->flags |= p.has_icmp ? XWK_ICMP : XWK_ICMP6;
		k->icmp_type = p.icmp_type;
		k->icmp_code = p.icmp_code;
	}
	k->dir = dir;
	k->ifindex = ifindex;
}
