// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Unit tests of the rule language: parser, canonical printer, rule set ops. */
#include <arpa/inet.h>
#include <check.h>
#include "check_main.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rule.h"
#include "xwall.h"

/* ---- helpers -------------------------------------------------------------- */

/* Deep comparison of two rules, all fields but pos; why tells the first difference. */
static int rule_eq(const struct xw_rule *a, const struct xw_rule *b, char *why, size_t n)
{
#define CMP(f)                                                                          \
	do {                                                                            \
		if (a->f != b->f) {                                                     \
			snprintf(why, n, #f ": %llu != %llu", (unsigned long long)a->f, \
				 (unsigned long long)b->f);                             \
			return 0;                                                       \
		}                                                                       \
	} while (0)
#define CMPMEM(f, len)                                         \
	do {                                                   \
		if ((len) != 0 && memcmp(a->f, b->f, (len))) { \
			snprintf(why, n, #f " differs");       \
			return 0;                              \
		}                                              \
	} while (0)
#define CMPARR(nf, f)                                     \
	do {                                              \
		CMP(nf);                                  \
		CMPMEM(f, a->nf * sizeof(*a->f));         \
	} while (0)
	CMP(prio);
	CMP(dir);
	CMP(verdict);
	CMP(log);
	CMP(present);
	if (strncmp(a->iif, b->iif, sizeof(a->iif))) {
		snprintf(why, n, "iif: %s != %s", a->iif, b->iif);
		return 0;
	}
	CMPMEM(eth_src, 6);
	CMPMEM(eth_dst, 6);
	CMP(eth_type);
	CMP(vlan);
	CMP(proto);
	CMPARR(n_src, src);
	CMPARR(n_dst, dst);
	CMPARR(n_sport, sport);
	CMPARR(n_dport, dport);
	CMP(tcp_flags);
	CMP(tcp_mask);
	CMPARR(n_icmp_type, icmp_type);
	CMPARR(n_icmp_code, icmp_code);
	CMP(frag);
	CMP(ct);
	CMP(limit_rate);
	CMP(limit_period);
	CMP(limit_burst);
	CMP(limit_per_src);
	if (strcmp(a->comment, b->comment)) {
		snprintf(why, n, "comment: '%.40s' != '%.40s'", a->comment, b->comment);
		return 0;
	}
	return 1;
#undef CMP
#undef CMPMEM
#undef CMPARR
}

static struct xw_err err;
static char buf[1 << 20];

/* Parse one rule (as for `rule add`), which must succeed. */
static struct xw_rule rule_ok(const char *text)
{
	struct xw_rule r;

	ck_assert_msg(xw_parse_rule(text, "f", &r, &err) == 0, "'%s': %s", text, err.msg);
	return r;
}

/* format(r) parses back to an equal rule, and formats the same again. */
static void roundtrip(const struct xw_rule *r)
{
	struct xw_rule back;
	char why[128];
	char *again;
	int n = xw_rule_format(r, buf, sizeof(buf));

	ck_assert_int_gt(n, 0);
	ck_assert_uint_eq(strlen(buf), (size_t)n);
	ck_assert_msg(xw_parse_rule(buf, "f", &back, &err) == 0, "'%s': %s", buf, err.msg);
	ck_assert_msg(rule_eq(r, &back, why, sizeof(why)), "'%s': %s", buf, why);
	again = strdup(buf);
	ck_assert_int_eq(xw_rule_format(&back, buf, sizeof(buf)), n);
	ck_assert_str_eq(again, buf);
	free(again);
	xw_rule_free(&back);
}

/* `in` parses, prints as `out`, and round-trips. */
static void fmt_is(const char *in, const char *out)
{
	struct xw_rule r = rule_ok(in);

	ck_assert_int_ge(xw_rule_format(&r, buf, sizeof(buf)), 0);
	ck_assert_msg(!strcmp(buf, out), "'%s' printed as '%s', expected '%s'", in, buf, out);
	roundtrip(&r);
	xw_rule_free(&r);
}

/* Whole text fails with exactly msg (file name "f"). */
static void err_is(const char *text, const char *msg)
{
	struct xw_ruleset rs;

	ck_assert_msg(xw_parse_text(text, strlen(text), "f", &rs, &err) == -1,
		      "'%s' parsed but should fail with '%s'", text, msg);
	ck_assert_msg(!strcmp(err.msg, msg), "'%s': got '%s', expected '%s'", text, err.msg, msg);
	ck_assert_uint_eq(rs.n, 0);
	ck_assert_ptr_null(rs.rules);
}

/* One rule fails (xw_parse_rule) with a message containing sub. */
static void rule_err_has(const char *text, const char *sub)
{
	struct xw_rule r;

	ck_assert_msg(xw_parse_rule(text, "f", &r, &err) == -1,
		      "'%s' parsed but should fail with '%s'", text, sub);
	ck_assert_msg(strstr(err.msg, sub), "'%s': got '%s', expected '%s'", text, err.msg, sub);
	ck_assert_msg(!strncmp(err.msg, "f:1:", 4), "'%s': bad prefix in '%s'", text, err.msg);
	ck_assert_ptr_null(r.src);
	ck_assert_ptr_null(r.dport);
	ck_assert_ptr_null(r.icmp_type);
}

/* One rule fails with exactly msg. */
static void rule_err_is(const char *text, const char *msg)
{
	rule_err_has(text, msg);
	ck_assert_msg(!strcmp(err.msg, msg), "'%s': got '%s', expected '%s'", text, err.msg, msg);
}

static struct xw_ruleset parse_ok(const char *text)
{
	struct xw_ruleset rs;

	ck_assert_msg(xw_parse_text(text, strlen(text), "f", &rs, &err) == 0, "%s", err.msg);
	return rs;
}

static struct xw_cidr cidr(const char *a, int plen)
{
	struct xw_cidr c = { 0 };

	if (inet_pton(AF_INET, a, c.addr) == 1) {
		c.family = 4;
	} else {
		ck_assert_int_eq(inet_pton(AF_INET6, a, c.addr), 1);
		c.family = 6;
	}
	c.plen = (uint8_t)plen;
	return c;
}

static void assert_cidr(const struct xw_cidr *c, const char *a, int plen)
{
	struct xw_cidr e = cidr(a, plen);

	ck_assert_msg(!memcmp(c, &e, sizeof(e)), "cidr %s/%d differs", a, plen);
}

static void assert_range(const struct xw_range *r, unsigned lo, unsigned hi)
{
	ck_assert_uint_eq(r->lo, lo);
	ck_assert_uint_eq(r->hi, hi);
}

/* ---- basic rules ---------------------------------------------------------- */

START_TEST(test_minimal)
{
	struct xw_rule r = rule_ok("rule 10 pass");

	ck_assert_uint_eq(r.prio, 10);
	ck_assert_uint_eq(r.dir, XW_DIR_IN);
	ck_assert_uint_eq(r.verdict, XW_PASS);
	ck_assert_uint_eq(r.log, 0);
	ck_assert_uint_eq(r.present, 0);
	ck_assert_int_eq(r.pos.line, 1);
	ck_assert_int_eq(r.pos.col, 1);
	xw_rule_free(&r);

	r = rule_ok("  1000000 drop");     /* "rule" is optional for rule add */
	ck_assert_uint_eq(r.prio, 1000000);
	ck_assert_uint_eq(r.verdict, XW_DROP);
	ck_assert_int_eq(r.pos.col, 3);
	xw_rule_free(&r);

	fmt_is("rule 1 drop", "rule 1 in drop");
	fmt_is("1 pass", "rule 1 in pass");
}
END_TEST

START_TEST(test_direction)
{
	struct xw_rule r = rule_ok("rule 5 out drop");

	ck_assert_uint_eq(r.dir, XW_DIR_OUT);
	xw_rule_free(&r);
	fmt_is("rule 5 in drop", "rule 5 in drop");
	/* among the matches, like nft */
	fmt_is("rule 5 tcp dport 25 out drop", "rule 5 out proto tcp dport 25 drop");
	fmt_is("rule 5 tcp out dport 25 log drop", "rule 5 out proto tcp dport 25 log drop");
	rule_err_is("rule 5 in out drop", "f:1:11: duplicate direction 'out'");
	rule_err_is("rule 5 in tcp in drop", "f:1:15: duplicate direction 'in'");
}
END_TEST

START_TEST(test_iif)
{
	struct xw_rule r = rule_ok("rule 5 iif eth0 drop");

	ck_assert(r.present & XM_IIF);
	ck_assert_str_eq(r.iif, "eth0");
	xw_rule_free(&r);
	fmt_is("rule 5 tcp iif veth-a.100 out drop", "rule 5 out iif veth-a.100 proto tcp drop");
	fmt_is("rule 5 iif abcdefghijklmno drop", "rule 5 in iif abcdefghijklmno drop");
	rule_err_is("rule 5 iif abcdefghijklmnop drop",
		    "f:1:12: interface name 'abcdefghijklmnop' too long (max 15 characters)");
	rule_err_is("rule 5 iif a/b drop", "f:1:12: invalid interface name 'a/b'");
	rule_err_is("rule 5 iif .. drop", "f:1:12: invalid interface name '..'");
	rule_err_is("rule 5 iif", "f:1:11: missing interface name after 'iif'");
	rule_err_is("rule 5 iif x iif y drop", "f:1:14: duplicate match 'iif'");
}
END_TEST

START_TEST(test_log)
{
	struct xw_rule r = rule_ok("rule 5 log tcp drop");

	ck_assert_uint_eq(r.log, 1);
	xw_rule_free(&r);
	fmt_is("rule 5 log out pass", "rule 5 out log pass");
	fmt_is("rule 5 tcp log dport 1 pass", "rule 5 in proto tcp dport 1 log pass");
	rule_err_is("rule 5 log log drop", "f:1:12: duplicate 'log'");
}
END_TEST

START_TEST(test_ether)
{
	struct xw_rule r = rule_ok("rule 5 ether src 02:00:00:00:00:01 ether dst AA:bB:cc:DD:ee:Ff drop");
	static const uint8_t s[6] = { 2, 0, 0, 0, 0, 1 }, d[6] = { 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };

	ck_assert_uint_eq(r.present, XM_ETH_SRC | XM_ETH_DST);
	ck_assert_mem_eq(r.eth_src, s, 6);
	ck_assert_mem_eq(r.eth_dst, d, 6);
	xw_rule_free(&r);
	fmt_is("rule 5 ether dst AA:bB:cc:DD:ee:Ff ether src 02:00:00:00:00:01 drop",
	       "rule 5 in ether src 02:00:00:00:00:01 ether dst aa:bb:cc:dd:ee:ff drop");
	rule_err_is("rule 5 ether src 02:00:00:00:00 drop",
		    "f:1:18: expected MAC address (aa:bb:cc:dd:ee:ff), got '02:00:00:00:00'");
	rule_err_has("rule 5 ether src 02:00:00:00:00:0g drop", "expected MAC address");
	rule_err_has("rule 5 ether src 02-00-00-00-00-01 drop", "expected MAC address");
	rule_err_is("rule 5 ether foo drop", "f:1:14: expected 'src', 'dst' or 'type' after 'ether', got 'foo'");
	rule_err_is("rule 5 ether", "f:1:13: missing 'src', 'dst' or 'type' after 'ether'");
	rule_err_is("rule 5 ether src", "f:1:17: missing MAC address after 'src'");
	rule_err_is("rule 5 ether src 02:00:00:00:00:01 ether src 02:00:00:00:00:01 drop",
		    "f:1:36: duplicate match 'ether src'");
}
END_TEST

START_TEST(test_ether_type)
{
	static const struct { const char *in; unsigned v; } t[] = {
		{ "arp", 0x0806 }, { "ip", 0x0800 }, { "ip6", 0x86dd }, { "vlan", 0x8100 },
		{ "0x88a8", 0x88a8 }, { "0X88A8", 0x88a8 }, { "0x1", 1 }, { "2054", 0x0806 },
		{ "0", 0 }, { "65535", 0xffff }, { "0xffff", 0xffff },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char text[64];
		struct xw_rule r;

		snprintf(text, sizeof(text), "rule 5 ether type %s drop", t[i].in);
		r = rule_ok(text);
		ck_assert_uint_eq(r.present, XM_ETH_TYPE);
		ck_assert_uint_eq(r.eth_type, t[i].v);
		roundtrip(&r);
		xw_rule_free(&r);
	}
	fmt_is("rule 5 ether type 2054 drop", "rule 5 in ether type arp drop");
	fmt_is("rule 5 ether type 0x88A8 drop", "rule 5 in ether type 0x88a8 drop");
	fmt_is("rule 5 ether type 1 drop", "rule 5 in ether type 0x0001 drop");
	rule_err_is("rule 5 ether type 0x10000 drop", "f:1:19: ether type '0x10000' out of range (0..0xffff)");
	rule_err_is("rule 5 ether type 65536 drop", "f:1:19: ether type '65536' out of range (0..0xffff)");
	rule_err_is("rule 5 ether type ipx drop",
		    "f:1:19: unknown ether type 'ipx' (arp, ip, ip6, vlan or 0xNNNN)");
	rule_err_has("rule 5 ether type 0x drop", "unknown ether type '0x'");
	rule_err_has("rule 5 ether type 0xzz drop", "unknown ether type '0xzz'");
	rule_err_is("rule 5 ether type ip ether type arp drop", "f:1:22: duplicate match 'ether type'");
}
END_TEST

START_TEST(test_vlan_ip)
{
	struct xw_rule r = rule_ok("rule 5 vlan 4095 ip ip6 drop");

	ck_assert_uint_eq(r.present, XM_VLAN | XM_IP | XM_IP6);
	ck_assert_uint_eq(r.vlan, 4095);
	xw_rule_free(&r);
	fmt_is("rule 5 ip6 vlan 0 drop", "rule 5 in vlan 0 ip6 drop");
	fmt_is("rule 5 ip pass", "rule 5 in ip pass");
	rule_err_is("rule 5 vlan 4096 drop", "f:1:13: vlan ID must be 0..4095, got '4096'");
	rule_err_is("rule 5 vlan x drop", "f:1:13: expected vlan ID, got 'x'");
	rule_err_is("rule 5 vlan -1 drop", "f:1:13: expected vlan ID, got '-1'");
	rule_err_is("rule 5 vlan 1 vlan 2 drop", "f:1:15: duplicate match 'vlan'");
	rule_err_is("rule 5 ip ip drop", "f:1:11: duplicate match 'ip'");
	rule_err_is("rule 5 ip6 ip6 drop", "f:1:12: duplicate match 'ip6'");
}
END_TEST

/* ---- addresses ------------------------------------------------------------ */

START_TEST(test_cidr)
{
	struct xw_rule r = rule_ok("rule 5 src 10.0.0.0/8,192.168.1.1,2001:db8::/32,::1,0.0.0.0/0 "
				   "dst ::/0,fe80::1/128 drop");

	ck_assert_uint_eq(r.present, XM_SRC | XM_DST);
	ck_assert_uint_eq(r.n_src, 5);
	assert_cidr(&r.src[0], "10.0.0.0", 8);
	assert_cidr(&r.src[1], "192.168.1.1", 32);
	assert_cidr(&r.src[2], "2001:db8::", 32);
	assert_cidr(&r.src[3], "::1", 128);
	assert_cidr(&r.src[4], "0.0.0.0", 0);
	ck_assert_uint_eq(r.n_dst, 2);
	assert_cidr(&r.dst[0], "::", 0);
	assert_cidr(&r.dst[1], "fe80::1", 128);
	roundtrip(&r);
	xw_rule_free(&r);

	fmt_is("rule 5 dst 10.1.2.3/32,1.2.3.4 src 2001:DB8:0:0::/64 drop",
	       "rule 5 in src 2001:db8::/64 dst 10.1.2.3,1.2.3.4 drop");
	fmt_is("rule 5 src 10.0.0.0/08 drop", "rule 5 in src 10.0.0.0/8 drop");
	fmt_is("rule 5 src ::ffff:1.2.3.4 drop", "rule 5 in src ::ffff:1.2.3.4 drop");
	/* a list may be spread over words after a comma */
	fmt_is("rule 5 src 10.0.0.0/8, 11.0.0.0/8 ,12.0.0.0/8 , 13.0.0.0/8 drop",
	       "rule 5 in src 10.0.0.0/8,11.0.0.0/8,12.0.0.0/8,13.0.0.0/8 drop");
	/* never matches, but accepted */
	fmt_is("rule 5 ip6 src 10.0.0.0/8 drop", "rule 5 in ip6 src 10.0.0.0/8 drop");
}
END_TEST

START_TEST(test_cidr_errors)
{
	rule_err_is("rule 5 src 10.0.0.300 drop", "f:1:12: expected CIDR, got '10.0.0.300'");
	rule_err_is("rule 5 src 10.0.0.1/8 drop", "f:1:12: host bits set in '10.0.0.1/8'");
	rule_err_is("rule 5 src 1.2.3.4,2001:db8::1/32 drop",
		    "f:1:20: host bits set in '2001:db8::1/32'");
	rule_err_is("rule 5 src 10.0.0.0/33 drop", "f:1:21: prefix length must be 0..32 in '10.0.0.0/33'");
	rule_err_is("rule 5 src ::/129 drop", "f:1:15: prefix length must be 0..128 in '::/129'");
	rule_err_has("rule 5 src 10.0.0.0/ drop", "prefix length must be 0..32");
	rule_err_has("rule 5 src 10.0.0.0/x drop", "prefix length must be 0..32");
	rule_err_is("rule 5 src 10.0.0.0/8, drop", "f:1:24: expected CIDR, got 'drop'");
	rule_err_is("rule 5 src 10.0.0.0/8,,1.2.3.4 drop", "f:1:23: expected CIDR, got ''");
	rule_err_is("rule 5 src 10.0.0.0/8", "f:1:22: missing verdict (pass, drop, audit or reject)");
	rule_err_is("rule 5 src", "f:1:11: missing address list after 'src'");
	rule_err_has("rule 5 src host.example drop", "expected CIDR, got 'host.example'");
	rule_err_has("rule 5 src 10.1 drop", "expected CIDR, got '10.1'");
	rule_err_has("rule 5 src fe80::1%eth0 drop", "expected CIDR");
	rule_err_is("rule 5 src 1.2.3.4 dst 1.2.3.4 src 1.2.3.4 drop", "f:1:32: duplicate match 'src'");
	rule_err_is("rule 5 dst 1.2.3.4 dst 1.2.3.4 drop", "f:1:20: duplicate match 'dst'");
}
END_TEST

/* ---- protocols and ports -------------------------------------------------- */

START_TEST(test_proto)
{
	static const struct { const char *name; unsigned v; } t[] = {
		{ "tcp", 6 }, { "udp", 17 }, { "icmp", 1 }, { "icmpv6", 58 }, { "sctp", 132 },
		{ "gre", 47 }, { "esp", 50 }, { "ah", 51 }, { "0", 0 }, { "255", 255 }, { "41", 41 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char text[64];
		struct xw_rule r;

		snprintf(text, sizeof(text), "rule 5 proto %s drop", t[i].name);
		r = rule_ok(text);
		ck_assert_uint_eq(r.present, XM_PROTO);
		ck_assert_uint_eq(r.proto, t[i].v);
		roundtrip(&r);
		xw_rule_free(&r);
	}
	fmt_is("rule 5 proto 6 drop", "rule 5 in proto tcp drop");
	fmt_is("rule 5 proto 132 drop", "rule 5 in proto sctp drop");
	fmt_is("rule 5 proto 41 drop", "rule 5 in proto 41 drop");
	rule_err_is("rule 5 proto 256 drop", "f:1:14: protocol 256 out of range (0..255)");
	rule_err_is("rule 5 proto foo drop", "f:1:14: unknown protocol 'foo'");
	rule_err_is("rule 5 proto", "f:1:13: missing protocol after 'proto'");
}
END_TEST

START_TEST(test_proto_shorthand)
{
	static const char *const names[] = { "tcp", "udp", "icmp", "icmpv6", "sctp" };
	static const unsigned vals[] = { 6, 17, 1, 58, 132 };

	for (size_t i = 0; i < 5; i++) {
		char text[64], out[64];

		snprintf(text, sizeof(text), "rule 5 %s drop", names[i]);
		snprintf(out, sizeof(out), "rule 5 in proto %s drop", names[i]);
		fmt_is(text, out);
		struct xw_rule r = rule_ok(text);
		ck_assert_uint_eq(r.present, XM_PROTO);
		ck_assert_uint_eq(r.proto, vals[i]);
		xw_rule_free(&r);
	}
	/* the same protocol twice is fine */
	fmt_is("rule 5 tcp proto tcp tcp drop", "rule 5 in proto tcp drop");
	fmt_is("rule 5 proto 17 udp drop", "rule 5 in proto udp drop");
	rule_err_is("rule 5 tcp udp drop", "f:1:12: conflicting protocol 'udp' (already 'tcp')");
	rule_err_is("rule 5 udp proto 6 drop", "f:1:18: conflicting protocol 'tcp' (already 'udp')");
	rule_err_is("rule 5 proto 41 icmp drop", "f:1:17: conflicting protocol 'icmp' (already '41')");
}
END_TEST

START_TEST(test_ports)
{
	struct xw_rule r = rule_ok("rule 5 udp sport 53 dport 1-1023,8080,0-65535 drop");

	ck_assert_uint_eq(r.present, XM_PROTO | XM_SPORT | XM_DPORT);
	ck_assert_uint_eq(r.n_sport, 1);
	assert_range(&r.sport[0], 53, 53);
	ck_assert_uint_eq(r.n_dport, 3);
	assert_range(&r.dport[0], 1, 1023);
	assert_range(&r.dport[1], 8080, 8080);
	assert_range(&r.dport[2], 0, 65535);
	roundtrip(&r);
	xw_rule_free(&r);

	/* without a protocol: any of tcp/udp/sctp */
	fmt_is("rule 5 dport 22 drop", "rule 5 in dport 22 drop");
	fmt_is("rule 5 dport 22-22 drop", "rule 5 in dport 22 drop");
	fmt_is("rule 5 dport 80 sport 1024-65535 tcp drop",
	       "rule 5 in proto tcp sport 1024-65535 dport 80 drop");
	fmt_is("rule 5 dport 22, 80 , 443 ,8443 drop", "rule 5 in dport 22,80,443,8443 drop");
	fmt_is("rule 5 dport 007 drop", "rule 5 in dport 7 drop");
}
END_TEST

START_TEST(test_port_errors)
{
	rule_err_is("rule 10 tcp dport x drop", "f:1:19: expected port number or range, got 'x'");
	rule_err_is("rule 10 tcp dport 90-80 drop", "f:1:19: port range 90-80 is reversed");
	rule_err_is("rule 10 tcp dport 22,90-80 drop", "f:1:22: port range 90-80 is reversed");
	rule_err_is("rule 10 tcp dport 65536 drop", "f:1:19: port 65536 out of range (0..65535)");
	rule_err_is("rule 10 tcp dport 1-70000 drop", "f:1:21: port 70000 out of range (0..65535)");
	rule_err_is("rule 10 tcp dport 22- drop", "f:1:19: expected port number or range, got '22-'");
	rule_err_is("rule 10 tcp dport -22 drop", "f:1:19: expected port number or range, got '-22'");
	rule_err_is("rule 10 tcp dport 1-2-3 drop", "f:1:19: expected port number or range, got '1-2-3'");
	rule_err_is("rule 10 tcp dport 22,,80 drop", "f:1:22: expected port number or range, got ''");
	rule_err_is("rule 10 tcp dport ssh drop", "f:1:19: expected port number or range, got 'ssh'");
	rule_err_is("rule 10 tcp dport drop", "f:1:19: expected port number or range, got 'drop'");
	rule_err_is("rule 10 tcp dport", "f:1:18: missing port list after 'dport'");
	rule_err_is("rule 10 sport 1 sport 2 drop", "f:1:17: duplicate match 'sport'");
	rule_err_is("rule 10 dport 1 tcp dport 2 drop", "f:1:21: duplicate match 'dport'");
}
END_TEST

START_TEST(test_list_limit)
{
	size_t len = 0;
	char *text = malloc(64 + 4097 * 16);
	struct xw_rule r;

	len += (size_t)sprintf(text, "rule 1 dport ");
	for (int i = 0; i < 4096; i++)
		len += (size_t)sprintf(text + len, "%s%d", i ? "," : "", i);
	strcpy(text + len, " drop");
	r = rule_ok(text);
	ck_assert_uint_eq(r.n_dport, 4096);
	assert_range(&r.dport[4095], 4095, 4095);
	roundtrip(&r);
	xw_rule_free(&r);
	sprintf(text + len, ",4096 drop");
	char want[96];
	snprintf(want, sizeof(want), "f:1:%zu: too many values in port list (max 4096)", len + 2);
	rule_err_is(text, want);

	len = (size_t)sprintf(text, "rule 1 src ");
	for (int i = 0; i < 4097; i++)
		len += (size_t)sprintf(text + len, "%s10.%d.%d.0/24", i ? "," : "", i / 256, i % 256);
	strcpy(text + len, " drop");
	rule_err_has(text, "too many values in address list (max 4096)");
	free(text);
}
END_TEST

/* ---- tcp flags ------------------------------------------------------------ */

START_TEST(test_tcp_flags)
{
	static const char *const forms[] = {
		"syn/syn,ack", "syn / syn,ack", "syn /syn,ack", "syn/ syn,ack",
		"syn / syn , ack", "syn/ack,syn",
	};
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		char text[96];
		struct xw_rule r;

		snprintf(text, sizeof(text), "rule 5 tcp flags %s drop", forms[i]);
		r = rule_ok(text);
		ck_assert_uint_eq(r.present, XM_TCPFLAGS | XM_PROTO);
		ck_assert_uint_eq(r.proto, 6);
		ck_assert_uint_eq(r.tcp_flags, 0x02);
		ck_assert_uint_eq(r.tcp_mask, 0x12);
		ck_assert_int_ge(xw_rule_format(&r, buf, sizeof(buf)), 0);
		ck_assert_str_eq(buf, "rule 5 in tcp flags syn / syn,ack drop");
		xw_rule_free(&r);
	}
	/* mask defaults to the flags */
	struct xw_rule r = rule_ok("rule 5 tcp flags fin,syn,rst,psh,ack,urg,ece,cwr drop");
	ck_assert_uint_eq(r.tcp_flags, 0xff);
	ck_assert_uint_eq(r.tcp_mask, 0xff);
	xw_rule_free(&r);
	fmt_is("rule 5 tcp flags rst drop", "rule 5 in tcp flags rst / rst drop");
	fmt_is("rule 5 tcp flags ack,ack drop", "rule 5 in tcp flags ack / ack drop");
	fmt_is("rule 5 tcp flags cwr,fin / fin,syn,rst,psh,ack,urg,ece,cwr drop",
	       "rule 5 in tcp flags fin,cwr / fin,syn,rst,psh,ack,urg,ece,cwr drop");
	/* tcp flags implies proto tcp; saying it again is fine */
	fmt_is("rule 5 proto tcp tcp flags syn dport 22 drop",
	       "rule 5 in dport 22 tcp flags syn / syn drop");
	fmt_is("rule 5 tcp tcp flags syn drop", "rule 5 in tcp flags syn / syn drop");
	fmt_is("rule 5 tcp flags syn tcp drop", "rule 5 in tcp flags syn / syn drop");
}
END_TEST

START_TEST(test_tcp_flag_errors)
{
	rule_err_is("rule 5 tcp flags foo drop", "f:1:18: unknown tcp flag 'foo'");
	rule_err_is("rule 5 tcp flags syn,SYN drop", "f:1:22: unknown tcp flag 'SYN'");
	rule_err_is("rule 5 tcp flags syn / syn,bar drop", "f:1:28: unknown tcp flag 'bar'");
	rule_err_is("rule 5 tcp flags syn,ack / syn drop",
		    "f:1:18: flags not within mask (syn,ack/syn)");
	rule_err_is("rule 5 tcp flags syn/ack/fin drop",
		    "f:1:25: expected 'FLAGS [/ MASK]', got 'syn/ack/fin'");
	rule_err_is("rule 5 tcp flags / syn drop", "f:1:18: unknown tcp flag ''");
	rule_err_is("rule 5 tcp flags syn / drop", "f:1:24: unknown tcp flag 'drop'");
	rule_err_is("rule 5 tcp flags", "f:1:17: missing tcp flag list after 'flags'");
	rule_err_is("rule 5 udp tcp flags syn drop", "f:1:12: conflicting protocol 'tcp' (already 'udp')");
	rule_err_is("rule 5 tcp flags syn proto udp drop",
		    "f:1:28: conflicting protocol 'udp' (already 'tcp')");
	rule_err_is("rule 5 tcp flags syn tcp flags ack drop", "f:1:22: duplicate match 'tcp flags'");
	rule_err_is("rule 5 flags syn drop", "f:1:8: unknown match 'flags'");
}
END_TEST

/* ---- icmp ----------------------------------------------------------------- */

START_TEST(test_icmp)
{
	struct xw_rule r = rule_ok("rule 5 icmp type echo-request,0,3-5,timestamp-reply code 0-3,13 drop");

	ck_assert_uint_eq(r.present, XM_ICMP | XM_PROTO);
	ck_assert_uint_eq(r.proto, 1);
	ck_assert_uint_eq(r.n_icmp_type, 4);
	assert_range(&r.icmp_type[0], 8, 8);
	assert_range(&r.icmp_type[1], 0, 0);
	assert_range(&r.icmp_type[2], 3, 5);
	assert_range(&r.icmp_type[3], 14, 14);
	ck_assert_uint_eq(r.n_icmp_code, 2);
	assert_range(&r.icmp_code[0], 0, 3);
	assert_range(&r.icmp_code[1], 13, 13);
	roundtrip(&r);
	xw_rule_free(&r);

	static const struct { const char *name; unsigned v; } names[] = {
		{ "echo-reply", 0 }, { "destination-unreachable", 3 }, { "source-quench", 4 },
		{ "redirect", 5 }, { "echo-request", 8 }, { "router-advertisement", 9 },
		{ "router-solicitation", 10 }, { "time-exceeded", 11 }, { "parameter-problem", 12 },
		{ "timestamp-request", 13 }, { "timestamp-reply", 14 },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char text[96];

		snprintf(text, sizeof(text), "rule 5 icmp type %s drop", names[i].name);
		r = rule_ok(text);
		assert_range(&r.icmp_type[0], names[i].v, names[i].v);
		ck_assert_uint_eq(r.n_icmp_code, 0);
		roundtrip(&r);
		xw_rule_free(&r);
	}
	fmt_is("rule 5 icmp type 8 drop", "rule 5 in icmp type echo-request drop");
	fmt_is("rule 5 icmp type 255,8-8 code 255 drop", "rule 5 in icmp type 255,echo-request code 255 drop");
	fmt_is("rule 5 icmp type echo-reply-echo-request drop", "rule 5 in icmp type 0-8 drop");
	fmt_is("rule 5 icmp type destination-unreachable code port-unreachable,frag-needed drop",
	       "rule 5 in icmp type destination-unreachable code 3,4 drop");
	fmt_is("rule 5 icmp icmp type 0 proto icmp drop", "rule 5 in icmp type echo-reply drop");
}
END_TEST

START_TEST(test_icmp6)
{
	struct xw_rule r = rule_ok("rule 5 icmpv6 type 128-136,nd-redirect code 0 drop");

	ck_assert_uint_eq(r.present, XM_ICMP6 | XM_PROTO);
	ck_assert_uint_eq(r.proto, 58);
	ck_assert_uint_eq(r.n_icmp_type, 2);
	assert_range(&r.icmp_type[0], 128, 136);
	assert_range(&r.icmp_type[1], 137, 137);
	ck_assert_uint_eq(r.n_icmp_code, 1);
	roundtrip(&r);
	xw_rule_free(&r);

	static const struct { const char *name; unsigned v; } names[] = {
		{ "destination-unreachable", 1 }, { "packet-too-big", 2 }, { "time-exceeded", 3 },
		{ "parameter-problem", 4 }, { "echo-request", 128 }, { "echo-reply", 129 },
		{ "mld-listener-query", 130 }, { "mld-listener-report", 131 },
		{ "mld-listener-done", 132 }, { "nd-router-solicit", 133 },
		{ "nd-router-advert", 134 }, { "nd-neighbor-solicit", 135 },
		{ "nd-neighbor-advert", 136 }, { "nd-redirect", 137 },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char text[96];

		snprintf(text, sizeof(text), "rule 5 icmpv6 type %s drop", names[i].name);
		r = rule_ok(text);
		assert_range(&r.icmp_type[0], names[i].v, names[i].v);
		roundtrip(&r);
		xw_rule_free(&r);
	}
	fmt_is("rule 5 icmpv6 type 128 drop", "rule 5 in icmpv6 type echo-request drop");
	fmt_is("rule 5 icmpv6 type 1 code admin-prohibited drop",
	       "rule 5 in icmpv6 type destination-unreachable code 1 drop");
	fmt_is("rule 5 icmpv6 type 200, 201 code 1 , 2 drop", "rule 5 in icmpv6 type 200,201 code 1,2 drop");
	/* icmp names are not icmpv6 names */
	rule_err_is("rule 5 icmpv6 type timestamp-reply drop", "f:1:20: unknown icmpv6 type 'timestamp-reply'");
	rule_err_is("rule 5 icmp type nd-redirect drop", "f:1:18: unknown icmp type 'nd-redirect'");
}
END_TEST

START_TEST(test_icmp_errors)
{
	rule_err_is("rule 5 icmp type 256 drop", "f:1:18: icmp type 256 out of range (0..255)");
	rule_err_is("rule 5 icmp type 9-8 drop", "f:1:18: icmp type range 9-8 is reversed");
	rule_err_is("rule 5 icmp type foo drop", "f:1:18: unknown icmp type 'foo'");
	rule_err_is("rule 5 icmp type 8 code 300 drop", "f:1:25: icmp code 300 out of range (0..255)");
	rule_err_is("rule 5 icmp type 8 code x drop", "f:1:25: unknown icmp code 'x'");
	rule_err_is("rule 5 icmp type", "f:1:17: missing icmp type list after 'type'");
	rule_err_is("rule 5 icmp type 8 code", "f:1:24: missing icmp code list after 'code'");
	rule_err_is("rule 5 code 3 drop", "f:1:8: 'code' must follow 'icmp type' or 'icmpv6 type'");
	rule_err_is("rule 5 icmp code 3 drop", "f:1:13: 'code' must follow 'icmp type' or 'icmpv6 type'");
	rule_err_is("rule 5 icmp type 8 icmp type 0 drop", "f:1:20: duplicate match 'icmp type'");
	rule_err_is("rule 5 icmp type 8 icmpv6 type 128 drop",
		    "f:1:20: conflicting protocol 'icmpv6' (already 'icmp')");
	rule_err_is("rule 5 tcp icmp type 8 drop", "f:1:12: conflicting protocol 'icmp' (already 'tcp')");
	rule_err_is("rule 5 icmpv6 type 1 udp drop", "f:1:22: conflicting protocol 'udp' (already 'icmpv6')");
}
END_TEST

/* ---- frag, ct, limit ------------------------------------------------------ */

START_TEST(test_frag)
{
	struct xw_rule r = rule_ok("rule 5 frag drop");

	ck_assert_uint_eq(r.present, XM_FRAG);
	ck_assert_uint_eq(r.frag, XW_FRAG_ANY);
	xw_rule_free(&r);
	r = rule_ok("rule 5 frag first drop");
	ck_assert_uint_eq(r.frag, XW_FRAG_FIRST);
	xw_rule_free(&r);
	r = rule_ok("rule 5 frag later drop");
	ck_assert_uint_eq(r.frag, XW_FRAG_LATER);
	xw_rule_free(&r);
	fmt_is("rule 5 frag later ip drop", "rule 5 in ip frag later drop");
	fmt_is("rule 5 frag first drop", "rule 5 in frag first drop");
	fmt_is("rule 5 frag ip6 drop", "rule 5 in ip6 frag drop");
	rule_err_is("rule 5 frag frag drop", "f:1:13: duplicate match 'frag'");
	rule_err_is("rule 5 frag middle drop", "f:1:13: unknown match 'middle'");
}
END_TEST

START_TEST(test_ct)
{
	struct xw_rule r = rule_ok("rule 5 ct established,related drop");

	ck_assert_uint_eq(r.present, XM_CT);
	ck_assert_uint_eq(r.ct, XW_CT_ESTABLISHED | XW_CT_RELATED);
	xw_rule_free(&r);
	r = rule_ok("rule 5 ct invalid,new,new drop");
	ck_assert_uint_eq(r.ct, XW_CT_INVALID | XW_CT_NEW);
	xw_rule_free(&r);
	fmt_is("rule 5 ct invalid,related , established,new drop",
	       "rule 5 in ct new,established,related,invalid drop");
	fmt_is("rule 5 ct new pass", "rule 5 in ct new pass");
	rule_err_is("rule 5 ct untracked drop", "f:1:11: unknown ct state 'untracked'");
	rule_err_is("rule 5 ct new, drop", "f:1:16: unknown ct state 'drop'");
	rule_err_is("rule 5 ct", "f:1:10: missing ct state list after 'ct'");
	rule_err_is("rule 5 ct new ct new drop", "f:1:15: duplicate match 'ct'");
}
END_TEST

START_TEST(test_limit)
{
	struct xw_rule r = rule_ok("rule 5 limit over 1000/s per src drop");

	ck_assert_uint_eq(r.present, XM_LIMIT);
	ck_assert_uint_eq(r.limit_rate, 1000);
	ck_assert_uint_eq(r.limit_period, 1);
	ck_assert_uint_eq(r.limit_burst, 0);
	ck_assert_uint_eq(r.limit_per_src, 1);
	xw_rule_free(&r);
	r = rule_ok("rule 5 limit over 10/m burst 20 drop");
	ck_assert_uint_eq(r.limit_rate, 10);
	ck_assert_uint_eq(r.limit_period, 60);
	ck_assert_uint_eq(r.limit_burst, 20);
	ck_assert_uint_eq(r.limit_per_src, 0);
	xw_rule_free(&r);
	fmt_is("rule 5 limit over 10/m drop", "rule 5 in limit over 10/m drop");
	fmt_is("rule 5 limit over 10/second per src burst 5 packets log drop",
	       "rule 5 in limit over 10/s burst 5 per src log drop");
	fmt_is("rule 5 limit over 4294967295 / minute burst 4294967295 drop",
	       "rule 5 in limit over 4294967295/m burst 4294967295 drop");
	fmt_is("rule 5 limit over 1/min tcp drop", "rule 5 in proto tcp limit over 1/m drop");
	rule_err_is("rule 5 limit over 0/s drop", "f:1:19: rate must be 1..4294967295");
	rule_err_is("rule 5 limit over 4294967296/s drop", "f:1:19: rate must be 1..4294967295");
	rule_err_is("rule 5 limit over 10/h drop", "f:1:22: unknown rate unit 'h' (s or m)");
	rule_err_is("rule 5 limit over 10 drop", "f:1:19: expected rate N/s or N/m, got '10'");
	rule_err_is("rule 5 limit over x/s drop", "f:1:19: expected rate N/s or N/m, got 'x/s'");
	rule_err_is("rule 5 limit 10/s drop", "f:1:14: expected 'over' after 'limit', got '10/s'");
	rule_err_is("rule 5 limit", "f:1:13: missing 'over' after 'limit'");
	rule_err_is("rule 5 limit over 1/s burst 0 drop", "f:1:29: burst must be 1..4294967295, got '0'");
	rule_err_is("rule 5 limit over 1/s burst", "f:1:28: missing burst size after 'burst'");
	rule_err_is("rule 5 limit over 1/s burst 1 burst 2 drop", "f:1:31: duplicate 'burst'");
	rule_err_is("rule 5 limit over 1/s per dst drop", "f:1:27: expected 'src' after 'per', got 'dst'");
	rule_err_is("rule 5 limit over 1/s per src per src drop", "f:1:31: duplicate 'per src'");
	rule_err_is("rule 5 limit over 1/s limit over 2/s drop", "f:1:23: duplicate match 'limit'");
}
END_TEST

/* burst x period / rate is the bucket's capacity in ns, kept below 2^62 so
 * neither it nor credit + elapsed time wraps a u64 in the datapath */
START_TEST(test_limit_overflow)
{
	struct xw_rule r;

	/* the issue's rule: 307445735 x 60 s wraps 2^64 ns */
	rule_err_is("rule 5 limit over 1/m burst 307445735 drop",
		    "f:1:29: burst 307445735 at 1/m is 1.84e+10 s of credit, more than a bucket "
		    "holds (2^62 ns, 146 years): lower the burst or raise the rate");
	/* the edge: floor(2^62 / 60e9) = 76861433 fits, one more does not */
	r = rule_ok("rule 5 limit over 1/m burst 76861433 drop");
	ck_assert_uint_eq(r.limit_burst, 76861433);
	ck_assert_uint_le((uint64_t)r.limit_burst * xw_limit_cost_ns(r.limit_rate, r.limit_period),
			  XW_LIMIT_MAX_CREDIT_NS);
	xw_rule_free(&r);
	rule_err_is("rule 5 limit over 1/m burst 76861434 drop",
		    "f:1:29: burst 76861434 at 1/m is 4.61e+09 s of credit, more than a bucket "
		    "holds (2^62 ns, 146 years): lower the burst or raise the rate");
	/* burst before 'per src', other rate spellings: the column is the burst's */
	rule_err_is("rule 5 tcp limit over 2/minute burst 4294967295 per src drop",
		    "f:1:38: burst 4294967295 at 2/m is 1.29e+11 s of credit, more than a bucket "
		    "holds (2^62 ns, 146 years): lower the burst or raise the rate");
	/* per second every u32 burst fits: 2^32 s < 2^62 ns */
	r = rule_ok("rule 5 limit over 1/s burst 4294967295 drop");
	xw_rule_free(&r);
	/* in a file: FILE:LINE:COL of the burst */
	err_is("policy drop\n\nrule 7 udp limit over 1/m burst 4000000000 pass\n",
	       "f:3:33: burst 4000000000 at 1/m is 2.4e+11 s of credit, more than a bucket "
	       "holds (2^62 ns, 146 years): lower the burst or raise the rate");
	/* ct timeouts (seconds, u32) become ns in u64: the largest fits */
	ck_assert_uint_le((uint64_t)UINT32_MAX, UINT64_MAX / 1000000000ull);
}
END_TEST

/* ---- whole rules and files ------------------------------------------------ */

START_TEST(test_rule_errors)
{
	rule_err_is("rule 10 foo drop", "f:1:9: unknown match 'foo'");
	rule_err_is("rule 0 drop", "f:1:6: priority must be 1..1000000");
	rule_err_is("rule 1000001 drop", "f:1:6: priority must be 1..1000000");
	rule_err_is("rule 99999999999999999999999 drop", "f:1:6: priority must be 1..1000000");
	rule_err_is("rule x drop", "f:1:6: expected priority, got 'x'");
	rule_err_is("rule -1 drop", "f:1:6: expected priority, got '-1'");
	rule_err_is("rule", "f:1:5: missing priority after 'rule'");
	rule_err_is("", "f:1:1: missing priority");
	rule_err_is("   # just a comment", "f:1:1: missing priority");
	rule_err_is("rule 10", "f:1:8: missing verdict (pass, drop, audit or reject)");
	rule_err_is("rule 10 tcp dport 22", "f:1:21: missing verdict (pass, drop, audit or reject)");
	rule_err_is("rule 10 drop tcp", "f:1:14: unexpected 'tcp' after the verdict");
	rule_err_is("rule 10 pass drop", "f:1:14: unexpected 'drop' after the verdict");
	rule_err_is("rule 10 PASS", "f:1:9: unknown match 'PASS'");
	rule_err_is("rule 10 accept", "f:1:9: unknown match 'accept'");
	rule_err_is("rule 10 tcp\001 drop", "f:1:12: invalid character 0x01");
	rule_err_has("rule 10 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx drop",
		     "f:1:9: unknown match 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...'");
	/* rule add text is one line; trailing blank lines and comments are fine */
	struct xw_rule r = rule_ok("rule 10 drop\n\n  # c\n");
	xw_rule_free(&r);
	ck_assert_int_eq(xw_parse_rule("rule 10 drop\n rule 11 drop", "f", &r, &err), -1);
	ck_assert_str_eq(err.msg, "f:2:2: expected one rule, got more on line 2");
	ck_assert_ptr_null(r.src);
	/* the position of a rule is where it starts */
	r = rule_ok("\t rule 10 drop # comment");
	ck_assert_int_eq(r.pos.col, 3);
	xw_rule_free(&r);
}
END_TEST

START_TEST(test_file_basics)
{
	const char *text =
		"# xwall rules\n"
		"\n"
		"   \t\n"
		"rule 30 udp drop   # trailing comment\n"
		"rule 10 tcp pass\r\n"
		"  rule 20 ip6 drop#glued comment\n"
		"policy drop\n"
		"#rule 40 drop\n"
		"rule 5\tin\tdrop";
	struct xw_ruleset rs = parse_ok(text);

	ck_assert_uint_eq(rs.n, 4);
	ck_assert_uint_eq(rs.rules[0].prio, 5);
	ck_assert_uint_eq(rs.rules[1].prio, 10);
	ck_assert_uint_eq(rs.rules[2].prio, 20);
	ck_assert_uint_eq(rs.rules[3].prio, 30);
	ck_assert_int_eq(rs.rules[0].pos.line, 9);
	ck_assert_int_eq(rs.rules[0].pos.col, 1);
	ck_assert_int_eq(rs.rules[2].pos.line, 6);
	ck_assert_int_eq(rs.rules[2].pos.col, 3);
	ck_assert_uint_eq(rs.policy[XW_DIR_IN], XW_DROP);
	ck_assert_uint_eq(rs.policy[XW_DIR_OUT], XW_PASS);
	ck_assert_uint_eq(rs.has_policy[XW_DIR_IN], 1);
	ck_assert_uint_eq(rs.has_policy[XW_DIR_OUT], 0);
	char *s = xw_ruleset_format(&rs);
	ck_assert_str_eq(s, "policy in drop\npolicy out pass\n"
			    "rule 5 in drop\nrule 10 in proto tcp pass\n"
			    "rule 20 in ip6 drop\nrule 30 in proto udp drop\n");
	free(s);
	xw_ruleset_free(&rs);

	rs = parse_ok("");
	ck_assert_uint_eq(rs.n, 0);
	ck_assert_uint_eq(rs.policy[XW_DIR_IN], XW_PASS);
	ck_assert_uint_eq(rs.has_policy[XW_DIR_IN], 0);
	s = xw_ruleset_format(&rs);
	ck_assert_str_eq(s, "policy in pass\npolicy out pass\n");
	free(s);
	xw_ruleset_free(&rs);

	rs = parse_ok("\n\n# nothing\n");
	ck_assert_uint_eq(rs.n, 0);
	xw_ruleset_free(&rs);
}
END_TEST

START_TEST(test_policy)
{
	struct xw_ruleset rs = parse_ok("policy in drop\npolicy out drop\n");

	ck_assert_uint_eq(rs.policy[XW_DIR_IN], XW_DROP);
	ck_assert_uint_eq(rs.policy[XW_DIR_OUT], XW_DROP);
	ck_assert_uint_eq(rs.has_policy[XW_DIR_IN], 1);
	ck_assert_uint_eq(rs.has_policy[XW_DIR_OUT], 1);
	xw_ruleset_free(&rs);
	rs = parse_ok("policy out drop # egress\npolicy pass");
	ck_assert_uint_eq(rs.policy[XW_DIR_IN], XW_PASS);
	ck_assert_uint_eq(rs.policy[XW_DIR_OUT], XW_DROP);
	ck_assert_uint_eq(rs.has_policy[XW_DIR_IN], 1);
	xw_ruleset_free(&rs);

	err_is("policy drop\nrule 1 drop\npolicy in pass\n",
	       "f:3:1: duplicate policy for direction in (first at line 1)");
	err_is("policy out drop\npolicy out drop\n",
	       "f:2:1: duplicate policy for direction out (first at line 1)");
	err_is("policy", "f:1:7: missing 'pass', 'drop' or 'audit' after 'policy'");
	err_is("policy out", "f:1:11: missing 'pass', 'drop' or 'audit' after 'out'");
	err_is("policy maybe", "f:1:8: expected 'pass', 'drop' or 'audit', got 'maybe'");
	err_is("policy in out drop", "f:1:11: expected 'pass', 'drop' or 'audit', got 'out'");
	err_is("policy pass now", "f:1:13: unexpected 'now' after the policy");
}
END_TEST

START_TEST(test_file_errors)
{
	err_is("rule 1 drop\nrule 2 drop\nrule 1 pass\n", "f:3:6: duplicate priority 1 (first at line 1)");
	err_is("rule 20 drop\n\n\nrule 7 drop\n  rule  20 pass\n",
	       "f:5:9: duplicate priority 20 (first at line 1)");
	/* the first error in the file is the one reported */
	err_is("rule 1 drop\nrule 1 drop\nrule 2 foo drop\n", "f:2:6: duplicate priority 1 (first at line 1)");
	err_is("rule 1 drop\nrule 2 foo drop\nrule 1 drop\n", "f:2:8: unknown match 'foo'");
	err_is("10 drop\n", "f:1:1: expected 'rule' or 'policy', got '10'");
	err_is("rule 1 drop\n  pass\n", "f:2:3: expected 'rule' or 'policy', got 'pass'");
	err_is("rule 1 drop\nrule 2 tcp dport 22", "f:2:20: missing verdict (pass, drop, audit or reject)");
	err_is("# x\nrule 3 src 10.0.0.1/8 drop\n", "f:2:12: host bits set in '10.0.0.1/8'");
	err_is("rule 1 drop\nrule 2 ip\001 drop\n", "f:2:10: invalid character 0x01");

	/* embedded NUL (text with a length) */
	struct xw_ruleset rs;
	ck_assert_int_eq(xw_parse_text("rule 1 drop\0x", 13, "f", &rs, &err), -1);
	ck_assert_str_eq(err.msg, "f:1:12: invalid character 0x00");
	/* text length is honoured */
	ck_assert_int_eq(xw_parse_text("rule 1 dropped", 11, NULL, &rs, &err), 0);
	ck_assert_uint_eq(rs.n, 1);
	xw_ruleset_free(&rs);
	ck_assert_int_eq(xw_parse_text("rule 0 drop", 11, NULL, &rs, &err), -1);
	ck_assert_str_eq(err.msg, "<input>:1:6: priority must be 1..1000000");
}
END_TEST

static const char spec_example[] =
	"policy drop\n"
	"rule 10 in ct established,related pass\n"
	"rule 20 in tcp dport 22 src 10.0.0.0/8,2001:db8::/32 pass\n"
	"rule 30 in udp dport 53,5353 limit over 1000/s per src drop\n"
	"rule 31 in udp dport 53,5353 pass\n"
	"rule 40 in icmp type echo-request pass\n"
	"rule 41 in icmpv6 type 128-136 pass\n"
	"rule 50 in frag later drop\n"
	"rule 60 out tcp dport 25 log drop\n"
	"rule 70 in ether src 02:00:00:00:00:01 drop\n";

START_TEST(test_spec_example)
{
	struct xw_ruleset rs = parse_ok(spec_example), again;
	char *s, *s2;
	char why[128];

	ck_assert_uint_eq(rs.n, 9);
	ck_assert_uint_eq(rs.policy[XW_DIR_IN], XW_DROP);
	ck_assert_uint_eq(rs.rules[0].ct, XW_CT_ESTABLISHED | XW_CT_RELATED);
	ck_assert_uint_eq(rs.rules[1].n_src, 2);
	ck_assert_uint_eq(rs.rules[2].limit_rate, 1000);
	ck_assert_uint_eq(rs.rules[2].limit_per_src, 1);
	ck_assert_uint_eq(rs.rules[6].frag, XW_FRAG_LATER);
	ck_assert_uint_eq(rs.rules[7].dir, XW_DIR_OUT);
	ck_assert_uint_eq(rs.rules[7].log, 1);
	s = xw_ruleset_format(&rs);
	ck_assert_str_eq(s,
		"policy in drop\n"
		"policy out pass\n"
		"rule 10 in ct established,related pass\n"
		"rule 20 in proto tcp src 10.0.0.0/8,2001:db8::/32 dport 22 pass\n"
		"rule 30 in proto udp dport 53,5353 limit over 1000/s per src drop\n"
		"rule 31 in proto udp dport 53,5353 pass\n"
		"rule 40 in icmp type echo-request pass\n"
		"rule 41 in icmpv6 type 128-136 pass\n"
		"rule 50 in frag later drop\n"
		"rule 60 out proto tcp dport 25 log drop\n"
		"rule 70 in ether src 02:00:00:00:00:01 drop\n");
	/* the printed set is a valid file for apply, and equal */
	again = parse_ok(s);
	ck_assert_uint_eq(again.n, rs.n);
	for (size_t i = 0; i < rs.n; i++)
		ck_assert_msg(rule_eq(&rs.rules[i], &again.rules[i], why, sizeof(why)), "%s", why);
	s2 = xw_ruleset_format(&again);
	ck_assert_str_eq(s, s2);
	free(s);
	free(s2);
	xw_ruleset_free(&again);
	xw_ruleset_free(&rs);
}
END_TEST

START_TEST(test_parse_file)
{
	FILE *f = fmemopen((void *)spec_example, sizeof(spec_example) - 1, "r");
	struct xw_ruleset rs;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(xw_parse_file(f, "ex.rules", &rs, &err), 0);
	ck_assert_uint_eq(rs.n, 9);
	fclose(f);
	xw_ruleset_free(&rs);

	f = fmemopen((void *)"rule 1 drop\nrule 2 tcp dport 99999 drop\n", 40, "r");
	ck_assert_int_eq(xw_parse_file(f, "ex.rules", &rs, &err), -1);
	ck_assert_str_eq(err.msg, "ex.rules:2:18: port 99999 out of range (0..65535)");
	ck_assert_uint_eq(rs.n, 0);
	fclose(f);

	/* a file bigger than the read buffer */
	size_t cap = 300000, len = 0;
	char *big = malloc(cap);
	for (int i = 1; len + 64 < cap; i++)
		len += (size_t)sprintf(big + len, "rule %d tcp dport %d drop # %d\n", i, i % 65536, i);
	f = fmemopen(big, len, "r");
	ck_assert_int_eq(xw_parse_file(f, "big", &rs, &err), 0);
	ck_assert_uint_gt(rs.n, 8000);
	ck_assert_uint_eq(rs.rules[rs.n - 1].prio, rs.n);
	fclose(f);
	xw_ruleset_free(&rs);
	free(big);
}
END_TEST

/* Rules written in an unusual order print canonically. */
START_TEST(test_canonical_order)
{
	fmt_is("rule 9 log limit over 5/s ct new frag icmp type 8 code 0 dport 1 sport 2 dst 1.1.1.1 "
	       "src 2.2.2.0/24 ip6 ip vlan 3 ether type arp ether dst 00:00:00:00:00:02 "
	       "ether src 00:00:00:00:00:01 iif lo out drop",
	       "rule 9 out iif lo ether src 00:00:00:00:00:01 ether dst 00:00:00:00:00:02 ether type arp "
	       "vlan 3 ip ip6 src 2.2.2.0/24 dst 1.1.1.1 sport 2 dport 1 icmp type echo-request code 0 "
	       "frag ct new limit over 5/s log drop");
}
END_TEST

/* ---- round trips ---------------------------------------------------------- */

START_TEST(test_roundtrip_fixed)
{
	static const char *const rules[] = {
		"rule 1 pass",
		"rule 2 out iif eth0 drop",
		"rule 3 ether type 0x0000 drop",
		"rule 4 src ::/0,0.0.0.0/0 dst ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff,255.255.255.255 drop",
		"rule 5 src 2001:db8:0:1:0:0:0:1 dst 2001:0:0:1::1/128 drop",
		"rule 6 tcp flags fin / fin drop",
		"rule 7 tcp flags cwr / cwr,ece drop",
		"rule 8 icmp type 0-255 code 0-255 drop",
		"rule 9 icmpv6 type 0,255 drop",
		"rule 10 proto 0 drop",
		"rule 11 sport 0 dport 65535 drop",
		"rule 12 limit over 1/m per src drop",
		"rule 13 ct invalid frag first log pass",
		"rule 1000000 udp dport 53 sport 1-2,3-4,5 dst 10.0.0.0/8,10.0.0.0/8 pass",
	};
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		struct xw_rule r = rule_ok(rules[i]);

		roundtrip(&r);
		xw_rule_free(&r);
	}
}
END_TEST

static unsigned rnd(unsigned n)
{
	return (unsigned)rand() % n;
}

static void *rnd_alloc(size_t n, size_t sz)
{
	void *p = calloc(n, sz);

	ck_assert_ptr_nonnull(p);
	return p;
}

static void gen_ranges(struct xw_range **a, size_t *n, unsigned max)
{
	*n = 1 + rnd(rnd(8) ? 4 : 40);
	*a = rnd_alloc(*n, sizeof(**a));
	for (size_t i = 0; i < *n; i++) {
		unsigned lo = rnd(max + 1), hi = rnd(2) ? lo : lo + rnd(max + 1 - lo);

		(*a)[i] = (struct xw_range){ (uint16_t)lo, (uint16_t)hi };
	}
}

static void gen_cidrs(struct xw_cidr **a, size_t *n)
{
	*n = 1 + rnd(rnd(8) ? 4 : 40);
	*a = rnd_alloc(*n, sizeof(**a));
	for (size_t i = 0; i < *n; i++) {
		struct xw_cidr *c = &(*a)[i];
		unsigned bits;

		c->family = rnd(2) ? 4 : 6;
		bits = c->family == 4 ? 32 : 128;
		c->plen = (uint8_t)(rnd(3) ? rnd(bits + 1) : bits);
		for (unsigned b = 0; b < c->plen; b++)
			if (rnd(2) || (c->family == 6 && b < 16 && rnd(4) == 0))
				c->addr[b / 8] |= (uint8_t)(0x80 >> (b % 8));
		/* sometimes long zero runs, so "::" shows up in the middle */
		if (c->family == 6 && rnd(2))
			memset(c->addr + 4, 0, 4 + (size_t)rnd(8));
		for (unsigned b = c->plen; b < bits; b++)
			c->addr[b / 8] &= (uint8_t)~(0x80 >> (b % 8));
	}
}

/* A random rule obeying the parser's invariants (tcp flags/icmp imply their
 * protocol; flags non-empty and within the mask). */
static void gen_rule(struct xw_rule *r, uint32_t prio)
{
	static const char ifchars[] = "abcdefghijklmnopqrstuvwxyz0123456789_-.@";
	static const uint16_t types[] = { 0x0800, 0x86dd, 0x0806, 0x8100, 0x88a8, 0x0000, 0xffff };
	unsigned l4 = rnd(6);

	memset(r, 0, sizeof(*r));
	r->prio = prio;
	r->dir = (uint8_t)rnd(2);
	r->verdict = (uint8_t)rnd(XW_VERDICT_MAX);
	r->log = (uint8_t)rnd(2);
	if (!rnd(4)) {   /* a comment of printable ASCII, '"' and '\\' included */
		size_t n = 1 + rnd(XW_COMMENT_MAX);

		for (size_t k = 0; k < n; k++)
			r->comment[k] = (char)(' ' + rnd(95));
	}
	if (!rnd(4)) {
		size_t n = 1 + rnd(IF_NAMESIZE - 1);

		r->present |= XM_IIF;
		for (size_t i = 0; i < n; i++)
			r->iif[i] = ifchars[rnd(sizeof(ifchars) - 1)];
		if (r->iif[0] == '.')
			r->iif[0] = 'x';
	}
	if (!rnd(5)) {
		r->present |= XM_ETH_SRC;
		for (int i = 0; i < 6; i++)
			r->eth_src[i] = (uint8_t)rnd(256);
	}
	if (!rnd(5)) {
		r->present |= XM_ETH_DST;
		for (int i = 0; i < 6; i++)
			r->eth_dst[i] = (uint8_t)rnd(256);
	}
	if (!rnd(5)) {
		r->present |= XM_ETH_TYPE;
		r->eth_type = rnd(2) ? types[rnd(sizeof(types) / sizeof(types[0]))] : (uint16_t)rnd(65536);
	}
	if (!rnd(5)) {
		r->present |= XM_VLAN;
		r->vlan = (uint16_t)rnd(4096);
	}
	if (!rnd(4))
		r->present |= XM_IP;
	if (!rnd(4))
		r->present |= XM_IP6;
	if (!rnd(3)) {
		r->present |= XM_SRC;
		gen_cidrs(&r->src, &r->n_src);
	}
	if (!rnd(3)) {
		r->present |= XM_DST;
		gen_cidrs(&r->dst, &r->n_dst);
	}
	if (!rnd(3)) {
		r->present |= XM_SPORT;
		gen_ranges(&r->sport, &r->n_sport, 65535);
	}
	if (!rnd(3)) {
		r->present |= XM_DPORT;
		gen_ranges(&r->dport, &r->n_dport, 65535);
	}
	switch (l4) {
	case 0:
		break;
	case 1:
		r->present |= XM_PROTO;
		r->proto = (uint8_t)rnd(256);
		break;
	case 2:
		r->present |= XM_PROTO | XM_TCPFLAGS;
		r->proto = 6;
		r->tcp_mask = (uint8_t)(1 + rnd(255));
		r->tcp_flags = (uint8_t)(rnd(256) & r->tcp_mask);
		if (!r->tcp_flags)
			r->tcp_flags = r->tcp_mask & (uint8_t)-r->tcp_mask;   /* lowest bit */
		break;
	case 3:
	case 4:
		r->present |= XM_PROTO | (l4 == 3 ? XM_ICMP : XM_ICMP6);
		r->proto = l4 == 3 ? 1 : 58;
		gen_ranges(&r->icmp_type, &r->n_icmp_type, 255);
		if (rnd(2))
			gen_ranges(&r->icmp_code, &r->n_icmp_code, 255);
		break;
	default:
		r->present |= XM_PROTO;
		r->proto = rnd(2) ? 6 : 17;
		break;
	}
	if (!rnd(5)) {
		r->present |= XM_FRAG;
		r->frag = (uint8_t)rnd(3);
	}
	if (!rnd(5)) {
		r->present |= XM_CT;
		r->ct = (uint8_t)(1 + rnd(15));
	}
	if (!rnd(5)) {
		r->present |= XM_LIMIT;
		r->limit_rate = rnd(2) ? 1 + rnd(100000) : 0xffffffffu - rnd(3);
		r->limit_period = rnd(2) ? 1 : 60;
		r->limit_burst = rnd(2) ? 0 : 1 + rnd(1000000);
		r->limit_per_src = (uint8_t)rnd(2);
	}
}

START_TEST(test_roundtrip_random)
{
	struct xw_ruleset rs, back;
	char why[128];
	char *s, *s2;

	srand(20240601);
	xw_ruleset_init(&rs);
	for (unsigned i = 0; i < 3000; i++) {
		struct xw_rule r;

		gen_rule(&r, 1 + rnd(XW_PRIO_MAX));
		roundtrip(&r);
		xw_ruleset_add(&rs, &r);  /* -1 for a repeated priority: fine */
		xw_rule_free(&r);
	}
	ck_assert_uint_gt(rs.n, 2900);
	for (size_t i = 1; i < rs.n; i++)
		ck_assert_uint_lt(rs.rules[i - 1].prio, rs.rules[i].prio);
	/* the whole set, through text and back */
	rs.policy[XW_DIR_OUT] = XW_DROP;
	s = xw_ruleset_format(&rs);
	ck_assert_ptr_nonnull(s);
	back = parse_ok(s);
	ck_assert_uint_eq(back.n, rs.n);
	ck_assert_uint_eq(back.policy[XW_DIR_IN], XW_PASS);
	ck_assert_uint_eq(back.policy[XW_DIR_OUT], XW_DROP);
	for (size_t i = 0; i < rs.n; i++) {
		ck_assert_msg(rule_eq(&rs.rules[i], &back.rules[i], why, sizeof(why)), "%s", why);
		ck_assert_int_eq(back.rules[i].pos.line, (int)i + 3);
	}
	s2 = xw_ruleset_format(&back);
	ck_assert_str_eq(s, s2);
	free(s);
	free(s2);
	xw_ruleset_free(&back);
	xw_ruleset_free(&rs);
}
END_TEST

/* Mutated rule text either fails with a positioned message or round-trips. */
START_TEST(test_mutations)
{
	static const char *const seeds[] = {
		"rule 20 in tcp dport 22 src 10.0.0.0/8,2001:db8::/32 pass",
		"rule 30 in udp dport 53,5353 limit over 1000/s burst 5 per src drop",
		"rule 40 icmp type echo-request,3-5 code 0 log pass",
		"rule 5 tcp flags syn / syn,ack iif eth0 out ether type 0x88a8 vlan 7 drop",
		"rule 70 in ether src 02:00:00:00:00:01 ct new,related frag first drop",
		"rule 80 tcp dport 80 log audit comment \"web \\\"x\\\" \\\\ #1\"",
	};
	static const char alphabet[] = "0123456789abcdefx:/,.- #\tpassdroprule\"\\";
	char text[256];
	int ok = 0, bad = 0;

	srand(7);
	for (int it = 0; it < 20000; it++) {
		struct xw_rule r;
		size_t len;

		strcpy(text, seeds[rnd(sizeof(seeds) / sizeof(seeds[0]))]);
		for (int m = 1 + (int)rnd(3); m > 0; m--) {
			len = strlen(text);
			size_t at = rnd((unsigned)len + 1);
			char c = alphabet[rnd(sizeof(alphabet) - 1)];

			switch (rnd(3)) {
			case 0:         /* replace */
				if (at < len)
					text[at] = c;
				break;
			case 1:         /* delete */
				if (at < len)
					memmove(text + at, text + at + 1, len - at);
				break;
			default:        /* insert */
				if (len + 2 < sizeof(text)) {
					memmove(text + at + 1, text + at, len - at + 1);
					text[at] = c;
				}
			}
		}
		if (xw_parse_rule(text, "f", &r, &err) == 0) {
			ok++;
			roundtrip(&r);
			xw_rule_free(&r);
		} else {
			bad++;
			ck_assert_msg(!strncmp(err.msg, "f:1:", 4) && strlen(err.msg) > 6,
				      "'%s': %s", text, err.msg);
			ck_assert_ptr_null(r.src);
		}
	}
	ck_assert_int_gt(ok, 500);
	ck_assert_int_gt(bad, 1000);
}
END_TEST

/* ---- audit and comment ---------------------------------------------------- */

START_TEST(test_audit)
{
	struct xw_rule r = rule_ok("rule 10 tcp dport 22 audit");
	struct xw_ruleset rs;
	char *t;

	ck_assert_uint_eq(r.verdict, XW_AUDIT);
	xw_rule_free(&r);
	fmt_is("rule 10 out udp log audit", "rule 10 out proto udp log audit");
	fmt_is("rule 7 audit", "rule 7 in audit");
	ck_assert_str_eq(xw_verdict_name(XW_AUDIT), "audit");
	ck_assert_str_eq(xw_verdict_name(XW_VERDICT_MAX), "?");
	ck_assert_int_eq(xw_verdict_of("audit", 5), XW_AUDIT);
	ck_assert_int_eq(xw_verdict_of("audi", 4), -1);
	ck_assert(XW_VERDICT_PASSES(XW_AUDIT) && XW_VERDICT_PASSES(XW_PASS) && !XW_VERDICT_PASSES(XW_DROP));

	rs = parse_ok("policy audit\npolicy out audit\nrule 1 drop\n");
	ck_assert_uint_eq(rs.policy[XW_DIR_IN], XW_AUDIT);
	ck_assert_uint_eq(rs.policy[XW_DIR_OUT], XW_AUDIT);
	t = xw_ruleset_format(&rs);
	ck_assert_str_eq(t, "policy in audit\npolicy out audit\nrule 1 in drop\n");
	free(t);
	xw_ruleset_free(&rs);

	rule_err_is("rule 10 audit drop", "f:1:15: unexpected 'drop' after the verdict");
	rule_err_is("rule 10 audited", "f:1:9: unknown match 'audited'");
	err_is("policy audit\npolicy in audit\n", "f:2:1: duplicate policy for direction in (first at line 1)");
}
END_TEST

START_TEST(test_comment)
{
	struct xw_rule r = rule_ok("rule 10 tcp dport 22 pass comment \"ssh # from the office\"");
	char big[XW_COMMENT_MAX + 64];

	ck_assert_str_eq(r.comment, "ssh # from the office");
	xw_rule_free(&r);
	/* before the verdict too; printed after it, as nft does */
	fmt_is("rule 10 comment \"dns\" udp dport 53 audit",
	       "rule 10 in proto udp dport 53 audit comment \"dns\"");
	/* escapes: \" and \\, kept through the canonical text */
	r = rule_ok("rule 1 drop comment \"a \\\"b\\\" \\\\ c\"");
	ck_assert_str_eq(r.comment, "a \"b\" \\ c");
	roundtrip(&r);
	ck_assert_int_gt(xw_rule_format(&r, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "rule 1 in drop comment \"a \\\"b\\\" \\\\ c\"");
	xw_rule_free(&r);
	/* UTF-8, a '#' and a trailing comment of the line */
	fmt_is("rule 2 pass comment \"caf\xc3\xa9 \xe2\x9c\x93\" # why", "rule 2 in pass comment \"caf\xc3\xa9 \xe2\x9c\x93\"");
	/* exactly the limit */
	memset(big, 'x', XW_COMMENT_MAX);
	snprintf(buf, sizeof(buf), "rule 3 pass comment \"%.*s\"", XW_COMMENT_MAX, big);
	r = rule_ok(buf);
	ck_assert_uint_eq(strlen(r.comment), XW_COMMENT_MAX);
	roundtrip(&r);
	xw_rule_free(&r);
	/* an escape counts once */
	memset(big, 'x', XW_COMMENT_MAX - 1);
	snprintf(buf, sizeof(buf), "rule 3 pass comment \"%.*s\\\"\"", XW_COMMENT_MAX - 1, big);
	r = rule_ok(buf);
	ck_assert_uint_eq(strlen(r.comment), XW_COMMENT_MAX);
	xw_rule_free(&r);
}
END_TEST

START_TEST(test_comment_errors)
{
	char big[XW_COMMENT_MAX + 2];

	memset(big, 'y', sizeof(big));
	snprintf(buf, sizeof(buf), "rule 3 pass comment \"%.*s\"", XW_COMMENT_MAX + 1, big);
	rule_err_is(buf, "f:1:21: comment longer than 128 bytes");
	rule_err_is("rule 1 pass comment", "f:1:20: missing \"TEXT\" after 'comment'");
	rule_err_is("rule 1 pass comment ssh", "f:1:21: expected \"TEXT\" after 'comment', got 'ssh'");
	rule_err_is("rule 1 pass comment \"ssh", "f:1:21: unterminated string (no closing '\"')");
	rule_err_is("rule 1 pass comment \"ssh\\\"", "f:1:21: unterminated string (no closing '\"')");
	rule_err_is("rule 1 pass comment \"a\"b", "f:1:24: expected a blank after the closing '\"'");
	rule_err_is("rule 1 pass comment \"\"", "f:1:21: empty comment");
	rule_err_is("rule 1 pass comment \"a\\nb\"", "f:1:23: unknown escape '\\n' in a string (only \\\" and \\\\)");
	rule_err_is("rule 1 pass comment \"a\tb\"", "f:1:23: invalid character 0x09 in a string");
	rule_err_is("rule 1 pass comment \"a\x01\"", "f:1:23: invalid character 0x01 in a string");
	rule_err_is("rule 1 pass comment \"\xc3\x28\"", "f:1:21: comment is not valid UTF-8");
	rule_err_is("rule 1 pass comment \"\xed\xa0\x80\"", "f:1:21: comment is not valid UTF-8");
	rule_err_is("rule 1 pass comment \"\xc0\xaf\"", "f:1:21: comment is not valid UTF-8");
	rule_err_is("rule 1 comment \"a\" pass comment \"b\"", "f:1:25: duplicate 'comment'");
	rule_err_is("rule 1 comment \"a\" comment \"b\" pass", "f:1:20: duplicate 'comment'");
	rule_err_is("rule 1 pass comment \"a\" log", "f:1:25: unexpected 'log' after the verdict");
	rule_err_is("rule 1 \"a\" pass", "f:1:8: unknown match '\"a\"'");
	/* errors name the file and the line */
	err_is("rule 1 drop\n\nrule 2 pass comment \"x\n", "f:3:21: unterminated string (no closing '\"')");
}
END_TEST

/* ---- rule set operations -------------------------------------------------- */

START_TEST(test_add_del)
{
	struct xw_ruleset rs;
	struct xw_rule r = rule_ok("rule 20 src 10.0.0.0/8 dport 22 icmp type 8 code 0 drop");
	char why[128];

	xw_ruleset_init(&rs);
	ck_assert_uint_eq(rs.policy[XW_DIR_IN], XW_PASS);
	ck_assert_uint_eq(rs.policy[XW_DIR_OUT], XW_PASS);
	ck_assert_int_eq(xw_ruleset_add(&rs, &r), 0);
	ck_assert_int_eq(xw_ruleset_add(&rs, &r), -1);
	ck_assert_uint_eq(rs.n, 1);
	/* a deep copy */
	ck_assert_ptr_ne(rs.rules[0].src, r.src);
	ck_assert_msg(rule_eq(&rs.rules[0], &r, why, sizeof(why)), "%s", why);
	xw_rule_free(&r);
	ck_assert_uint_eq(rs.rules[0].n_src, 1);

	static const uint32_t prios[] = { 50, 10, 30, 1000000, 1, 25, 40 };
	for (size_t i = 0; i < sizeof(prios) / sizeof(prios[0]); i++) {
		char text[64];

		snprintf(text, sizeof(text), "%u dport %u pass", prios[i], prios[i] % 65536);
		r = rule_ok(text);
		ck_assert_int_eq(xw_ruleset_add(&rs, &r), 0);
		xw_rule_free(&r);
	}
	ck_assert_uint_eq(rs.n, 8);
	char *s = xw_ruleset_format(&rs);
	ck_assert_str_eq(s, "policy in pass\npolicy out pass\n"
			    "rule 1 in dport 1 pass\n"
			    "rule 10 in dport 10 pass\n"
			    "rule 20 in src 10.0.0.0/8 dport 22 icmp type echo-request code 0 drop\n"
			    "rule 25 in dport 25 pass\n"
			    "rule 30 in dport 30 pass\n"
			    "rule 40 in dport 40 pass\n"
			    "rule 50 in dport 50 pass\n"
			    "rule 1000000 in dport 16960 pass\n");
	free(s);
	ck_assert_int_eq(xw_ruleset_del(&rs, 20), 0);
	ck_assert_int_eq(xw_ruleset_del(&rs, 20), -1);
	ck_assert_int_eq(xw_ruleset_del(&rs, 1), 0);
	ck_assert_int_eq(xw_ruleset_del(&rs, 1000000), 0);
	ck_assert_int_eq(xw_ruleset_del(&rs, 2), -1);
	ck_assert_int_eq(xw_ruleset_del(&rs, 999999), -1);
	ck_assert_uint_eq(rs.n, 5);
	ck_assert_uint_eq(rs.rules[0].prio, 10);
	ck_assert_uint_eq(rs.rules[4].prio, 50);
	s = xw_ruleset_format(&rs);
	ck_assert_str_eq(s, "policy in pass\npolicy out pass\n"
			    "rule 10 in dport 10 pass\nrule 25 in dport 25 pass\n"
			    "rule 30 in dport 30 pass\nrule 40 in dport 40 pass\n"
			    "rule 50 in dport 50 pass\n");
	free(s);
	for (uint32_t p = 10; p <= 50; p++)
		xw_ruleset_del(&rs, p);
	ck_assert_uint_eq(rs.n, 0);
	ck_assert_int_eq(xw_ruleset_del(&rs, 10), -1);
	xw_ruleset_free(&rs);
	ck_assert_ptr_null(rs.rules);
	ck_assert_uint_eq(rs.n, 0);
}
END_TEST

START_TEST(test_copy_free)
{
	struct xw_rule r = rule_ok("rule 3 src 1.2.3.4 dst ::1 sport 1 dport 2 icmpv6 type 1 code 2 drop"), c;
	char why[128];

	ck_assert_int_eq(xw_rule_copy(&c, &r), 0);
	ck_assert_msg(rule_eq(&r, &c, why, sizeof(why)), "%s", why);
	ck_assert_ptr_ne(c.src, r.src);
	ck_assert_ptr_ne(c.dst, r.dst);
	ck_assert_ptr_ne(c.sport, r.sport);
	ck_assert_ptr_ne(c.dport, r.dport);
	ck_assert_ptr_ne(c.icmp_type, r.icmp_type);
	ck_assert_ptr_ne(c.icmp_code, r.icmp_code);
	xw_rule_free(&r);
	roundtrip(&c);
	xw_rule_free(&c);
	ck_assert_ptr_null(c.src);
	ck_assert_uint_eq(c.n_src, 0);
	xw_rule_free(&c);   /* twice is harmless */

	struct xw_rule empty = rule_ok("rule 3 drop");
	ck_assert_int_eq(xw_rule_copy(&c, &empty), 0);
	ck_assert_ptr_null(c.src);
	xw_rule_free(&c);
	xw_rule_free(&empty);
}
END_TEST

START_TEST(test_format_buffer)
{
	struct xw_rule r = rule_ok("rule 3 tcp dport 22 drop");
	char small[64];
	const char *want = "rule 3 in proto tcp dport 22 drop";
	size_t n = strlen(want);

	ck_assert_int_eq(xw_rule_format(&r, small, sizeof(small)), (int)n);
	ck_assert_str_eq(small, want);
	ck_assert_int_eq(xw_rule_format(&r, small, n + 1), (int)n);
	ck_assert_int_eq(xw_rule_format(&r, small, n), -1);
	ck_assert_str_eq(small, "");
	ck_assert_int_eq(xw_rule_format(&r, NULL, 0), -1);
	xw_rule_free(&r);
}
END_TEST

static Suite *rule_suite(void)
{
	Suite *s = suite_create("rule");
	TCase *syntax = tcase_create("matches"), *file = tcase_create("file"),
	      *rt = tcase_create("roundtrip"), *ops = tcase_create("ops");

	tcase_add_test(syntax, test_minimal);
	tcase_add_test(syntax, test_direction);
	tcase_add_test(syntax, test_iif);
	tcase_add_test(syntax, test_log);
	tcase_add_test(syntax, test_ether);
	tcase_add_test(syntax, test_ether_type);
	tcase_add_test(syntax, test_vlan_ip);
	tcase_add_test(syntax, test_cidr);
	tcase_add_test(syntax, test_cidr_errors);
	tcase_add_test(syntax, test_proto);
	tcase_add_test(syntax, test_proto_shorthand);
	tcase_add_test(syntax, test_ports);
	tcase_add_test(syntax, test_port_errors);
	tcase_add_test(syntax, test_list_limit);
	tcase_add_test(syntax, test_tcp_flags);
	tcase_add_test(syntax, test_tcp_flag_errors);
	tcase_add_test(syntax, test_icmp);
	tcase_add_test(syntax, test_icmp6);
	tcase_add_test(syntax, test_icmp_errors);
	tcase_add_test(syntax, test_frag);
	tcase_add_test(syntax, test_ct);
	tcase_add_test(syntax, test_limit);
	tcase_add_test(syntax, test_limit_overflow);
	tcase_add_test(syntax, test_rule_errors);
	tcase_add_test(syntax, test_audit);
	tcase_add_test(syntax, test_comment);
	tcase_add_test(syntax, test_comment_errors);
	tcase_add_test(file, test_file_basics);
	tcase_add_test(file, test_policy);
	tcase_add_test(file, test_file_errors);
	tcase_add_test(file, test_spec_example);
	tcase_add_test(file, test_parse_file);
	tcase_add_test(rt, test_canonical_order);
	tcase_add_test(rt, test_roundtrip_fixed);
	tcase_add_test(rt, test_roundtrip_random);
	tcase_add_test(rt, test_mutations);
	tcase_add_test(ops, test_add_del);
	tcase_add_test(ops, test_copy_free);
	tcase_add_test(ops, test_format_buffer);
	tcase_set_timeout(rt, 300);
	suite_add_tcase(s, syntax);
	suite_add_tcase(s, file);
	suite_add_tcase(s, rt);
	suite_add_tcase(s, ops);
	return s;
}

XW_CHECK_MAIN(rule_suite)
