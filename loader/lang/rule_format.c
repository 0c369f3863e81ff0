// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Canonical text of rules and rule sets (the inverse of rule_parse.c).
 *
 * Also the home of the name tables shared with the parser: each maps a value
 * (or a bit index) to its keyword, NULL where there is none.  rule_parse.c
 * declares them extern (rule.h is the fixed public interface). */
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <stdlib.h>
#include <string.h>

#include "rule.h"
#include "sets.h"
#include "xwall.h"

const char *const xw_proto_name[256] = {
	[IPPROTO_ICMP] = "icmp", [IPPROTO_TCP] = "tcp", [IPPROTO_UDP] = "udp",
	[IPPROTO_GRE] = "gre", [IPPROTO_ESP] = "esp", [IPPROTO_AH] = "ah",
	[IPPROTO_ICMPV6] = "icmpv6", [IPPROTO_SCTP] = "sctp",
};

const char *const xw_icmp_type_name[256] = {
	[0] = "echo-reply", [3] = "destination-unreachable", [4] = "source-quench",
	[5] = "redirect", [8] = "echo-request", [9] = "router-advertisement",
	[10] = "router-solicitation", [11] = "time-exceeded", [12] = "parameter-problem",
	[13] = "timestamp-request", [14] = "timestamp-reply",
};

const char *const xw_icmp6_type_name[256] = {
	[1] = "destination-unreachable", [2] = "packet-too-big", [3] = "time-exceeded",
	[4] = "parameter-problem", [128] = "echo-request", [129] = "echo-reply",
	[130] = "mld-listener-query", [131] = "mld-listener-report",
	[132] = "mld-listener-done", [133] = "nd-router-solicit",
	[134] = "nd-router-advert", [135] = "nd-neighbor-solicit",
	[136] = "nd-neighbor-advert", [137] = "nd-redirect",
};

/* Codes of destination-unreachable, as nft names them. */
const char *const xw_icmp_code_name[256] = {
	[0] = "net-unreachable", [1] = "host-unreachable", [2] = "prot-unreachable",
	[3] = "port-unreachable", [4] = "frag-needed", [9] = "net-prohibited",
	[10] = "host-prohibited", [13] = "admin-prohibited",
};

const char *const xw_icmp6_code_name[256] = {
	[0] = "no-route", [1] = "admin-prohibited", [3] = "addr-unreachable",
	[4] = "port-unreachable", [5] = "policy-fail", [6] = "reject-route",
};

/* By bit index. */
const char *const xw_tcp_flag_name[8] = {
	"fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr",
};

/* By bit index of the XW_CTB_* bits. */
const char *const xw_ct_name[4] = { "new", "established", "related", "invalid" };
_Static_assert(XW_CTB_NEW == 1 << 0 && XW_CTB_ESTABLISHED == 1 << 1 &&
	       XW_CTB_RELATED == 1 << 2 && XW_CTB_INVALID == 1 << 3,
	       "xw_ct_name: by bit index of XW_CTB_*");

/* By enum xw_verdict. */
static const char *const verdict_names[] = {
	[XW_DROP] = "drop", [XW_PASS] = "pass", [XW_AUDIT] = "audit", [XW_REJECT] = "reject",
};
_Static_assert(sizeof(verdict_names) / sizeof(verdict_names[0]) == XW_VERDICT_MAX,
	       "verdict_names: every enum xw_verdict needs a name");

const char *xw_verdict_name(unsigned v)
{
	return v < XW_VERDICT_MAX && verdict_names[v] ? verdict_names[v] : "?";
}

int xw_verdict_of(const char *s, size_t len)
{
	for (unsigned v = 0; v < XW_VERDICT_MAX; v++)
		if (verdict_names[v] && strlen(verdict_names[v]) == len && !memcmp(verdict_names[v], s, len))
			return (int)v;
	return -1;
}

/* `comment "TEXT"`: '"' and '\\' escaped with a backslash (rule_parse.c
 * reads it back); the parser admits no control characters. */
static void put_comment(FILE *f, const char *c)
{
	fputs(" comment \"", f);
	for (; *c; c++) {
		if (*c == '"' || *c == '\\')
			fputc('\\', f);
		fputc(*c, f);
	}
	fputc('"', f);
}

const uint16_t xw_ethtype_val[4] = { ETH_P_ARP, ETH_P_IP, ETH_P_IPV6, ETH_P_8021Q };
const char *const xw_ethtype_name[4] = { "arp", "ip", "ip6", "vlan" };

static void put_mac(FILE *f, const char *kw, const uint8_t m[6])
{
	fprintf(f, " %s %02x:%02x:%02x:%02x:%02x:%02x", kw, m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* Decimal digits of v at p; returns the end.  (A 100k-rule set is
 * formatted on every apply: fprintf's number formatting dominated.) */
static char *put_dec(char *p, unsigned v)
{
	char d[10];
	int k = 0;

	do
		d[k++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (k)
		*p++ = d[--k];
	return p;
}

static void put_cidrs(FILE *f, const char *kw, const struct xw_cidr *c, size_t n)
{
	char buf[INET6_ADDRSTRLEN + 8];

	fputc(' ', f);
	fputs(kw, f);
	fputc(' ', f);
	for (size_t i = 0; i < n; i++) {
		int v6 = c[i].family == 6;
		char *p = buf;

		if (i)
			*p++ = ',';
		if (v6) {
			inet_ntop(AF_INET6, c[i].addr, p, INET6_ADDRSTRLEN);
			p += strlen(p);
		} else {
			for (int b = 0; b < 4; b++) {
				if (b)
					*p++ = '.';
				p = put_dec(p, c[i].addr[b]);
			}
		}
		if (c[i].plen != (v6 ? 128 : 32)) {
			*p++ = '/';
			p = put_dec(p, c[i].plen);
		}
		fwrite(buf, 1, (size_t)(p - buf), f);
	}
}

/* Ranges as "a,b-c"; single values by name when names has one. */
static void put_ranges(FILE *f, const char *kw, const struct xw_range *r, size_t n,
		       const char *const *names)
{
	fprintf(f, " %s ", kw);
	for (size_t i = 0; i < n; i++) {
		char buf[24], *p = buf;

		fputs(i ? "," : "", f);
		if (r[i].lo == r[i].hi && names && r[i].lo < 256 && names[r[i].lo]) {
			fputs(names[r[i].lo], f);
			continue;
		}
		p = put_dec(p, r[i].lo);
		if (r[i].lo != r[i].hi) {
			*p++ = '-';
			p = put_dec(p, r[i].hi);
		}
		fwrite(buf, 1, (size_t)(p - buf), f);
	}
}

/* Bits of v as a comma list of names[bit]. */
static void put_bits(FILE *f, unsigned v, const char *const *names, unsigned nbits)
{
	const char *sep = "";

	for (unsigned b = 0; b < nbits; b++) {
		if (v & (1u << b)) {
			fprintf(f, "%s%s", sep, names[b]);
			sep = ",";
		}
	}
}

static void put_icmp(FILE *f, const char *kw, const struct xw_rule *r,
		     const char *const *type_names)
{
	fputc(' ', f);
	fputs(kw, f);
	put_ranges(f, "type", r->icmp_type, r->n_icmp_type, type_names);
	if (r->n_icmp_code)
		put_ranges(f, "code", r->icmp_code, r->n_icmp_code, NULL);
}

/* Does a present match already say which protocol (so `proto` is not printed)? */
static int proto_implied(const struct xw_rule *r)
{
	return ((r->present & XM_TCPFLAGS) && r->proto == 6) ||
	       ((r->present & XM_ICMP) && r->proto == 1) ||
	       ((r->present & XM_ICMP6) && r->proto == 58);
}

static void put_rule(FILE *f, const struct xw_rule *r)
{
	uint32_t m = r->present;

	fprintf(f, "rule %u %s", r->prio, r->dir == XW_DIR_OUT ? "out" : "in");
	if (m & XM_IIF)
		fprintf(f, " iif %s", r->iif);
	if (m & XM_ETH_SRC)
		put_mac(f, "ether src", r->eth_src);
	if (m & XM_ETH_DST)
		put_mac(f, "ether dst", r->eth_dst);
	if (m & XM_ETH_TYPE) {
		const char *name = NULL;

		for (size_t i = 0; i < sizeof(xw_ethtype_val) / sizeof(xw_ethtype_val[0]); i++)
			if (xw_ethtype_val[i] == r->eth_type)
				name = xw_ethtype_name[i];
		if (name)
			fprintf(f, " ether type %s", name);
		else
			fprintf(f, " ether type 0x%04x", r->eth_type);
	}
	if (m & XM_VLAN)
		fprintf(f, " vlan %u", r->vlan);
	if (m & XM_IP)
		fputs(" ip", f);
	if (m & XM_IP6)
		fputs(" ip6", f);
	if ((m & XM_PROTO) && !proto_implied(r)) {
		if (xw_proto_name[r->proto])
			fprintf(f, " proto %s", xw_proto_name[r->proto]);
		else
			fprintf(f, " proto %u", r->proto);
	}
	if (r->set_ref[XW_REF_SRC][0])
		fprintf(f, " src @%s", r->set_ref[XW_REF_SRC]);
	else if (m & XM_SRC)
		put_cidrs(f, "src", r->src, r->n_src);
	if (r->set_ref[XW_REF_DST][0])
		fprintf(f, " dst @%s", r->set_ref[XW_REF_DST]);
	else if (m & XM_DST)
		put_cidrs(f, "dst", r->dst, r->n_dst);
	if (r->set_ref[XW_REF_SPORT][0])
		fprintf(f, " sport @%s", r->set_ref[XW_REF_SPORT]);
	else if (m & XM_SPORT)
		put_ranges(f, "sport", r->sport, r->n_sport, NULL);
	if (r->set_ref[XW_REF_DPORT][0])
		fprintf(f, " dport @%s", r->set_ref[XW_REF_DPORT]);
	else if (m & XM_DPORT)
		put_ranges(f, "dport", r->dport, r->n_dport, NULL);
	if (m & XM_TCPFLAGS) {
		fputs(" tcp flags ", f);
		put_bits(f, r->tcp_flags, xw_tcp_flag_name, 8);
		fputs(" / ", f);
		put_bits(f, r->tcp_mask, xw_tcp_flag_name, 8);
	}
	if (m & XM_ICMP)
		put_icmp(f, "icmp", r, xw_icmp_type_name);
	if (m & XM_ICMP6)
		put_icmp(f, "icmpv6", r, xw_icmp6_type_name);
	if (m & XM_FRAG)
		fputs(r->frag == XW_FRAG_FIRST ? " frag first" :
		      r->frag == XW_FRAG_LATER ? " frag later" : " frag", f);
	if (m & XM_CT) {
		fputs(" ct ", f);
		put_bits(f, r->ct, xw_ct_name, 4);
	}
	if (m & XM_LIMIT) {
		fprintf(f, " limit over %u/%s", r->limit_rate, r->limit_period == 60 ? "m" : "s");
		if (r->limit_burst)
			fprintf(f, " burst %u", r->limit_burst);
		if (r->limit_per_src)
			fputs(" per src", f);
		if (r->ban_set[0]) {
			char d[32];

			xw_duration_format(r->ban_ms, d, sizeof(d));
			fprintf(f, " ban @%s %s", r->ban_set, d);
		}
	}
	if (r->log)
		fputs(" log", f);
	fprintf(f, " %s", xw_verdict_name(r->verdict));
	if (r->comment[0])
		put_comment(f, r->comment);
}

char *xw_rule_text(const struct xw_rule *r)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);

	if (!f)
		return NULL;
	put_rule(f, r);
	if (fclose(f)) {
		free(s);
		return NULL;
	}
	return s;
}

int xw_rule_format(const struct xw_rule *r, char *buf, size_t len)
{
	char *s = xw_rule_text(r);
	size_t n = s ? strlen(s) : 0;

	if (!s || n >= len || n > 0x7fffffff) {
		free(s);
		if (len)
			buf[0] = '\0';
		return -1;
	}
	memcpy(buf, s, n + 1);
	free(s);
	return (int)n;
}

char *xw_ruleset_format(const struct xw_ruleset *rs)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);

	if (!f)
		return NULL;
	fprintf(f, "policy in %s\npolicy out %s\n",
		xw_verdict_name(rs->policy[XW_DIR_IN]), xw_verdict_name(rs->policy[XW_DIR_OUT]));
	for (size_t i = 0; i < rs->n_sets; i++)
		xw_set_decl_print(f, &rs->sets[i], 0);
	for (size_t i = 0; i < rs->n; i++) {
		put_rule(f, &rs->rules[i]);
		fputc('\n', f);
	}
	if (fclose(f)) {
		free(s);
		return NULL;
	}
	return s;
}
