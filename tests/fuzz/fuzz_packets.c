// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* libFuzzer harness for the packet parser of the reference classifier
 * (tests/ref/refclass.c).
 *
 * The input is one raw Ethernet frame (libFuzzer hands over a buffer of
 * exactly `size` bytes, so ASan catches any read past its end).  It is
 * parsed with xw_ref_parse(), whose result is checked against the bytes,
 * then every rule of a fixed rule set (parsed once) is matched against it
 * in both directions and on two interfaces, and xw_ref_classify() must agree
 * with the first rule that matches.  A violated property aborts.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "refclass.h"
#include "rule.h"
#include "xwall.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One rule per kind of match (no ct / limit: not modelled), so that every
 * matcher runs on every packet; both directions, iif, odd prefix lengths. */
static const char rules_text[] =
	"policy in drop\n"
	"policy out pass\n"
	"rule 1 in ether src 02:00:00:00:00:01 drop\n"
	"rule 2 in ether dst ff:ff:ff:ff:ff:ff pass\n"
	"rule 3 in ether type arp pass\n"
	"rule 4 in vlan 100 drop\n"
	"rule 5 in ether type 0x88cc log drop\n"
	"rule 6 in ip src 10.0.0.0/8 dst 192.168.1.0/24 tcp dport 22 pass\n"
	"rule 7 in ip6 src 2001:db8::/32 tcp dport 80,443 pass\n"
	"rule 8 in tcp flags syn / syn,ack sport 1024-65535 drop\n"
	"rule 9 in udp sport 53 dport 1000-2000,5353 pass\n"
	"rule 10 in sctp dport 9 pass\n"
	"rule 11 in icmp type echo-request code 0 pass\n"
	"rule 12 in icmp type destination-unreachable code 0-4,13 log drop\n"
	"rule 13 in icmpv6 type 128-136 pass\n"
	"rule 14 in icmpv6 type 1 code no-route,port-unreachable drop\n"
	"rule 15 in frag first drop\n"
	"rule 16 in frag later drop\n"
	"rule 17 in frag drop\n"
	"rule 18 in proto gre pass\n"
	"rule 19 in proto 59 drop\n"
	"rule 20 in src 10.1.2.3 dst ::1 drop\n"
	"rule 21 in iif eth0 dport 8080 drop\n"
	"rule 22 in iif eth1 ip6 pass\n"
	"rule 23 in src 172.16.0.0/12,fe80::/10 dst 0.0.0.0/1 pass\n"
	"rule 24 in dst 10.0.0.0/31,2001:db8::1:0/113 proto udp drop\n"
	"rule 25 in sport 0 dport 0 drop\n"
	"rule 26 in tcp flags fin,psh,urg drop\n"
	"rule 27 in tcp flags ack / ack,rst pass\n"
	"rule 28 in ether type vlan drop\n"
	"rule 29 in vlan 0 ether type ip6 drop\n"
	"rule 30 in ip ip6 drop\n"
	"rule 31 out src 2001:db8::2/127 dport 1-1023 drop\n"
	"rule 32 out ip6 dst fe80::/10 pass\n"
	"rule 33 out vlan 4095 frag later log drop\n"
	"rule 34 out ether src 00:00:00:00:00:00 ether dst 00:00:00:00:00:00 drop\n"
	"rule 35 out icmp type 0-255 pass\n"
	"rule 36 out proto tcp sport 65535 drop\n"
	"rule 37 in src 0.0.0.0/0 proto 6 drop\n"
	"rule 38 in dst ::/0 udp pass\n"
	"rule 39 in pass\n"
	"rule 40 out drop\n";

static struct xw_ruleset rs;
static uint32_t *rule_ifindex;      /* iif eth0 -> 1, eth1 -> 2 */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz_packets: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static void setup(void)
{
	struct xw_err err;

	if (xw_parse_text(rules_text, strlen(rules_text), "fuzz", &rs, &err))
		die("fixed rule set: %s", err.msg);
	rule_ifindex = calloc(rs.n, sizeof(*rule_ifindex));
	if (!rule_ifindex)
		die("out of memory");
	for (size_t i = 0; i < rs.n; i++)
		if (rs.rules[i].present & XM_IIF)
			rule_ifindex[i] = strcmp(rs.rules[i].iif, "eth0") ? 2 : 1;
}

/* Stateful matches are not modelled: such a rule never matches and a rule
 * set with one is refused. */
static void check_stateful(const uint8_t *d, size_t n, const struct xw_ref_pkt *p)
{
	static const char text[] = "rule 1 ct new pass\nrule 2 limit over 1/s drop\n";
	static struct xw_ruleset st;
	struct xw_ref_result res;
	struct xw_err err;

	if (!st.n && xw_parse_text(text, strlen(text), "fuzz", &st, &err))
		die("stateful rule set: %s", err.msg);
	for (size_t i = 0; i < st.n; i++)
		if (xw_ref_rule_matches(&st.rules[i], p, XW_DIR_IN, 0, 0))
			die("a stateful rule matched");
	if (xw_ref_classify(st.rules, st.n, st.policy, d, n, XW_DIR_IN, 0, NULL, &res) != -1)
		die("xw_ref_classify accepted a stateful rule set");
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* What xw_ref_parse() reports must be what the bytes say. */
static void check_parse(const uint8_t *d, size_t n, const struct xw_ref_pkt *p)
{
	char buf[512];
	int len;

	if (p->len != n)
		die("len %zu for %zu bytes", p->len, n);
	if (p->short_frame != (n < 14))
		die("short_frame %u for %zu bytes", p->short_frame, n);
	len = xw_ref_pkt_format(p, buf, sizeof(buf));
	if (len <= 0 || !memchr(buf, '\0', sizeof(buf)))
		die("xw_ref_pkt_format failed");
	if (p->short_frame) {
		if (p->v4 || p->v6 || p->malformed || p->has_ports || p->has_vlan)
			die("short frame with fields: %s", buf);
		return;
	}
	if (memcmp(p->eth_dst, d, 6) || memcmp(p->eth_src, d + 6, 6))
		die("ethernet addresses differ: %s", buf);
	if (p->n_tags > 2 || p->l3_off != 14 + 4u * p->n_tags || p->l3_off > n)
		die("vlan tags %u, l3 offset %zu: %s", p->n_tags, p->l3_off, buf);
	if (p->has_vlan != (p->n_tags > 0) || (p->has_vlan && p->vlan != (rd16(d + 14) & 0x0fff)))
		die("vlan: %s", buf);
	if (p->eth_type != rd16(d + p->l3_off - 2))
		die("ether type: %s", buf);
	if (p->v4 + p->v6 + p->malformed > 1)
		die("more than one of v4, v6, malformed: %s", buf);
	if ((p->v4 && p->eth_type != 0x0800) || (p->v6 && p->eth_type != 0x86dd) ||
	    (p->malformed && p->eth_type != 0x0800 && p->eth_type != 0x86dd))
		die("L3 without its ether type: %s", buf);
	if (p->v4 && (memcmp(p->src, d + p->l3_off + 12, 4) || memcmp(p->dst, d + p->l3_off + 16, 4) ||
		      p->proto != d[p->l3_off + 9] || !p->has_frag))
		die("IPv4 fields: %s", buf);
	if (p->v6 && (memcmp(p->src, d + p->l3_off + 8, 16) || memcmp(p->dst, d + p->l3_off + 24, 16) ||
		      p->n_ext > 8))
		die("IPv6 fields: %s", buf);
	if (!p->v4 && !p->v6 && (p->has_frag || p->l4_off || p->proto))
		die("L3/L4 fields without a valid IP header: %s", buf);
	if (p->later != (p->has_frag && p->frag_off != 0))
		die("later fragment flag: %s", buf);
	if (p->later && (p->l4_off || p->has_ports || p->has_tcp || p->has_icmp || p->has_icmp6))
		die("transport fields in a later fragment: %s", buf);
	if (p->l4_off > n || (p->l4_off && p->l4_off < p->l3_off + 20))
		die("l4 offset %zu: %s", p->l4_off, buf);
	if (p->has_ports) {
		size_t need = p->proto == 6 ? 20 : p->proto == 17 ? 8 : p->proto == 132 ? 12 : 0;

		if (!need || !p->l4_off || p->l4_off + need > n ||
		    p->sport != rd16(d + p->l4_off) || p->dport != rd16(d + p->l4_off + 2))
			die("ports: %s", buf);
	}
	if (p->has_tcp != (p->has_ports && p->proto == 6) ||
	    (p->has_tcp && p->tcp_flags != d[p->l4_off + 13]))
		die("tcp flags: %s", buf);
	if ((p->has_icmp && !(p->v4 && p->proto == 1)) || (p->has_icmp6 && !(p->v6 && p->proto == 58)))
		die("icmp without its protocol: %s", buf);
	if ((p->has_icmp || p->has_icmp6) &&
	    (p->l4_off + 8 > n || p->icmp_type != d[p->l4_off] || p->icmp_code != d[p->l4_off + 1]))
		die("icmp type/code: %s", buf);
}

/* classify() == the first rule whose xw_ref_rule_matches() holds. */
static void check_classify(const uint8_t *d, size_t n, const struct xw_ref_pkt *p,
			   uint8_t dir, uint32_t ifindex, const uint32_t *rif)
{
	struct xw_ref_result res;
	long first = -1;

	for (size_t i = 0; i < rs.n; i++) {
		const struct xw_rule *r = &rs.rules[i];
		int m;

		if ((r->present & XM_IIF) && !rif)
			continue;
		m = xw_ref_rule_matches(r, p, dir, ifindex, rif ? rif[i] : 0);
		if (m && p->short_frame)
			die("rule %u matched a short frame", r->prio);
		if (m && first < 0)
			first = (long)i;
	}
	if (xw_ref_classify(rs.rules, rs.n, rs.policy, d, n, dir, ifindex, rif, &res))
		die("xw_ref_classify refused the fixed rule set");
	if (res.index != first)
		die("classify chose rule index %ld, first match is %ld", res.index, first);
	if (first >= 0 ? (res.verdict != rs.rules[first].verdict || res.prio != rs.rules[first].prio ||
			  res.reason != XW_REASON_RULE)
		       : (res.verdict != rs.policy[dir] || res.prio != XW_PRIO_NONE ||
			  res.reason != (p->short_frame ? XW_REASON_SHORT : XW_REASON_POLICY)))
		die("classify result inconsistent (index %ld)", first);
	if (res.malformed != p->malformed || res.short_frame != p->short_frame)
		die("classify result flags differ from the parse");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xw_ref_pkt p;

	if (!rule_ifindex)
		setup();
	xw_ref_parse(data, size, &p);
	check_parse(data, size, &p);
	for (unsigned dir = XW_DIR_IN; dir <= XW_DIR_OUT; dir++) {
		check_classify(data, size, &p, dir, 1, rule_ifindex);
		check_classify(data, size, &p, dir, 2, rule_ifindex);
		check_classify(data, size, &p, dir, 1, NULL);
	}
	check_stateful(data, size, &p);
	return 0;
}
