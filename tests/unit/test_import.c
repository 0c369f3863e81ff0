// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Unit tests of the import (loader/import*.c): each supported construct of
 * nft text, nft JSON and iptables-save gives the expected xwall rules; each
 * unsupported one is an error at its line and column; the output always
 * parses.  The verdicts against the kernel's nftables are checked by
 * tests/e2e/import.sh. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"

/* The rule lines of an import (comments dropped), or NULL with err. */
static char *rules(const char *kind, const char *text, const char *only, struct xw_err *err)
{
	char *out = !strcmp(kind, "nft") ? xw_import_nft(text, strlen(text), "f", only, err)
					 : xw_import_iptables(text, strlen(text), "f", only, err);
	char *res, *p;
	size_t n = 0;

	if (!out)
		return NULL;
	res = calloc(1, strlen(out) + 1);
	for (char *l = strtok_r(out, "\n", &p); l; l = strtok_r(NULL, "\n", &p))
		if (l[0] != '#')
			n += (size_t)sprintf(res + n, "%s\n", l);
	{
		struct xw_ruleset rs;
		struct xw_err e2;

		xw_ruleset_init(&rs);
		ck_assert_msg(xw_parse_text(res, n, "out", &rs, &e2) == 0, "%s\n%s", e2.msg, res);
		xw_ruleset_free(&rs);
	}
	free(out);
	return res;
}

#define CHAIN(body) "table inet t {\n\tchain c {\n\t\ttype filter hook input priority 0;\n" body "\t}\n}\n"

static void ok(const char *kind, const char *in, const char *want)
{
	struct xw_err err;
	char *got = rules(kind, in, NULL, &err);

	ck_assert_msg(got, "import failed: %s\n%s", err.msg, in);
	ck_assert_msg(!strcmp(got, want), "input:\n%s\ngot:\n%s\nwanted:\n%s", in, got, want);
	free(got);
}

static void bad(const char *kind, const char *in, const char *want)
{
	struct xw_err err;
	char *got = rules(kind, in, NULL, &err);

	ck_assert_msg(!got, "accepted:\n%s\ngave:\n%s", in, got ? got : "");
	ck_assert_msg(strstr(err.msg, want), "message '%s' lacks '%s'", err.msg, want);
}

START_TEST(test_nft_matches)
{
	ok("nft", CHAIN("\t\ttcp dport { 443, 80 } ip saddr { 10.0.0.0/8, 192.0.2.1 } accept\n"),
	   "rule 10 in ip src 10.0.0.0/8,192.0.2.1 proto tcp dport 80,443 pass\n");
	ok("nft", CHAIN("\t\tudp sport 1024-65535 udp dport domain drop\n"),
	   "rule 10 in proto udp sport 1024-65535 dport 53 drop\n");
	ok("nft", CHAIN("\t\tct state established,related accept\n\t\tct state { invalid } drop\n"),
	   "rule 10 in ct established,related pass\nrule 20 in ip ct invalid drop\nrule 30 in ip6 ct invalid drop\n");
	ok("nft", CHAIN("\t\ticmpv6 type { nd-neighbor-solicit, echo-request } accept\n"),
	   "rule 10 in ip6 icmpv6 type 128,135 pass\n");
	ok("nft", CHAIN("\t\ticmp type destination-unreachable icmp code 3-4 accept\n"),
	   "rule 10 in ip icmp type 3 code 3-4 pass\n");
	ok("nft", CHAIN("\t\ttcp flags syn / syn,ack drop\n\t\ttcp flags & (fin | syn) == fin | syn drop\n"
			"\t\ttcp flags == ack drop\n\t\ttcp flags rst drop\n"),
	   "rule 10 in proto tcp tcp flags syn / syn,ack drop\n"
	   "rule 20 in proto tcp tcp flags fin,syn / fin,syn drop\n"
	   "rule 30 in proto tcp tcp flags ack / fin,syn,rst,psh,ack,urg,ece,cwr drop\n"
	   "rule 40 in proto tcp tcp flags rst drop\n");
	ok("nft", CHAIN("\t\tiifname \"eth0\" meta l4proto gre counter packets 3 bytes 9 accept\n"),
	   "rule 10 in iif eth0 proto gre pass\n");
	ok("nft", CHAIN("\t\tmeta nfproto ipv6 limit rate over 10/second burst 20 packets log prefix \"x \" drop\n"),
	   "rule 10 in ip6 limit over 10/s burst 20 log drop\n");
	bad("nft", CHAIN("\t\tlimit rate over 10/second drop\n"), "f:4:3: a drop with a rate limit shared");
	/* inet hooks see IP only: a drop without an IP match is split, a pass is not */
	ok("nft", CHAIN("\t\tct state invalid drop\n\t\tiif \"lo\" accept\n\t\ttcp dport 1 drop\n"),
	   "rule 10 in ip ct invalid drop\nrule 20 in ip6 ct invalid drop\nrule 30 in iif lo pass\n"
	   "rule 40 in proto tcp dport 1 drop\n");
	ok("nft", CHAIN("\t\tip6 saddr 2001:db8::/32 meta l4proto tcp comment \"hi\" accept\n"),
	   "rule 10 in ip6 src 2001:db8::/32 proto tcp pass\n");
}
END_TEST

START_TEST(test_nft_structure)
{
	/* policy drop of an inet chain: IP packets only; define; named set; jump */
	ok("nft", "define ports = { 22, 80 }\n"
		  "table inet t {\n\tset s { type ipv4_addr; flags interval; elements = { 10.1.0.0/16 } }\n"
		  "\tchain c {\n\t\ttype filter hook input priority 0; policy drop;\n"
		  "\t\ttcp dport $ports jump j\n\t\tudp dport 53 log\n\t\tudp dport 53 accept\n\t}\n"
		  "\tchain j {\n\t\tip saddr @s accept\n\t\tip6 saddr fd00::/8 drop\n\t\treturn\n\t}\n}\n",
	   "rule 10 in ip src 10.1.0.0/16 proto tcp dport 22,80 pass\n"
	   "rule 20 in ip6 src fd00::/8 proto tcp dport 22,80 drop\n"
	   "rule 30 in proto udp dport 53 log pass\n"
	   "rule 40 in ip drop\nrule 50 in ip6 drop\n");
	/* netdev: the policy is xwall's; output chains go out; empty chains are nothing */
	ok("nft", "table netdev n {\n\tchain i {\n\t\ttype filter hook ingress priority 0; policy drop;\n"
		  "\t\tvlan id 7 accept\n\t\tether type arp accept\n\t}\n}\n"
		  "table ip o {\n\tchain out {\n\t\ttype filter hook output priority 0;\n"
		  "\t\ttcp dport 25 drop\n\t}\n\tchain f {\n\t\ttype filter hook forward priority 0;\n\t}\n}\n",
	   "policy drop\nrule 10 in vlan 7 pass\nrule 20 in ether type arp pass\n"
	   "rule 30 out ip proto tcp dport 25 drop\n");
}
END_TEST

START_TEST(test_nft_json)
{
	ok("nft", "{\"nftables\": [{\"metainfo\": {}}, {\"table\": {\"family\": \"inet\", \"name\": \"t\"}},"
		  "{\"chain\": {\"family\": \"inet\", \"table\": \"t\", \"name\": \"c\", \"type\": \"filter\","
		  " \"hook\": \"input\", \"prio\": 0, \"policy\": \"accept\"}},"
		  "{\"rule\": {\"family\": \"inet\", \"table\": \"t\", \"chain\": \"c\", \"expr\": ["
		  "{\"match\": {\"op\": \"==\", \"left\": {\"payload\": {\"protocol\": \"tcp\", \"field\": \"dport\"}},"
		  " \"right\": {\"set\": [22, {\"range\": [8000, 8080]}]}}},"
		  "{\"match\": {\"op\": \"==\", \"left\": {\"payload\": {\"protocol\": \"ip\", \"field\": \"saddr\"}},"
		  " \"right\": {\"prefix\": {\"addr\": \"10.0.0.0\", \"len\": 8}}}},"
		  "{\"match\": {\"op\": \"in\", \"left\": {\"ct\": {\"key\": \"state\"}}, \"right\": [\"new\"]}},"
		  "{\"counter\": {\"packets\": 0, \"bytes\": 0}}, {\"drop\": null}]}}]}",
	   "rule 10 in ip src 10.0.0.0/8 proto tcp dport 22,8000-8080 ct new drop\n");
	bad("nft", "{\"nftables\": [{\"chain\": {\"family\": \"inet\", \"table\": \"t\", \"name\": \"c\","
		   " \"type\": \"filter\", \"hook\": \"input\"}}, {\"rule\": {\"family\": \"inet\", \"table\": \"t\","
		   " \"chain\": \"c\", \"expr\": [{\"match\": {\"op\": \"==\", \"left\": {\"meta\": {\"key\": \"mark\"}},"
		   " \"right\": 1}}, {\"accept\": null}]}}]}", "f: rule 1 of chain t c: 'meta mark 1 accept'");
}
END_TEST

START_TEST(test_nft_errors)
{
	bad("nft", CHAIN("\t\ttcp dport 22 accept\n\t\ttcp dport != 22 drop\n"), "f:5:13: negation");
	bad("nft", CHAIN("\t\ttcp dport 22 reject with tcp reset\n"), "f:4:16: 'reject'");
	bad("nft", CHAIN("\t\tmeta mark 0x1 accept\n"), "f:4:3: 'meta mark 0x1 accept': xwall cannot express this");
	bad("nft", CHAIN("\t\tlimit rate 10/second accept\n"), "f:4:3: 'limit rate' without 'over'");
	bad("nft", CHAIN("\t\tiifname \"eth*\" accept\n"), "f:4:11: interface 'eth*'");
	bad("nft", CHAIN("\t\tip6 nexthdr tcp accept\n"), "f:4:7: 'ip6 nexthdr'");
	bad("nft", CHAIN("\t\tudp dport 53 log\n\t\ttcp dport 53 accept\n"), "f:4:3: 'log' without a verdict");
	bad("nft", CHAIN("\t\tip saddr 10.0.0.1-10.0.0.9 accept\n"), "address ranges");
	bad("nft", CHAIN("\t\tgoto x\n"), "f:4:3: 'goto'");
	bad("nft", CHAIN("\t\ttcp dport 22 jump x\n\t}\n\tchain x {\n\t\ttcp dport 23 accept\n"),
	    "f:7:7: cannot inline the jump");
	bad("nft", "table inet t {\n\tchain a {\n\t\ttype filter hook input priority 0;\n\t\taccept\n\t}\n"
		   "\tchain b {\n\t\ttype filter hook forward priority 0; policy drop;\n\t}\n}\n",
	    "--chain NAME");
	bad("nft", "table ip n {\n\tchain p {\n\t\ttype nat hook prerouting priority 0;\n\t\tdnat to 10.0.0.1\n\t}\n}\n",
	    "f:4:3: 'dnat to 10.0.0.1'");
	bad("nft", "add rule inet t c accept\n", "f:1:1: 'add'");
}
END_TEST

START_TEST(test_iptables)
{
	const char *dump = "# Generated by iptables-save v1.8.9\n*filter\n:INPUT DROP [0:0]\n"
		":FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:S - [0:0]\n"
		"-A INPUT -i lo -j ACCEPT\n"
		"-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n"
		"-A INPUT -p tcp -m tcp --dport 22 -j S\n"
		"-A INPUT -s 192.0.2.0/24,198.51.100.1/32 -p udp -m multiport --dports 53,5000:5010 -j ACCEPT\n"
		"-A INPUT -p tcp -m tcp --tcp-flags SYN,ACK SYN -j LOG --log-prefix \"syn \"\n"
		"-A INPUT -p tcp -m tcp --tcp-flags SYN,ACK SYN -j DROP\n"
		"-A INPUT -p icmp -m icmp --icmp-type 3/4 -m comment --comment \"pmtu\" -j ACCEPT\n"
		"-A OUTPUT -p tcp --dport 25 -j DROP\n"
		"-A S -s 10.0.0.0/8 -j ACCEPT\n-A S -j RETURN\nCOMMIT\n";

	ok("iptables", dump,
	   "rule 10 in ip iif lo pass\n"
	   "rule 20 in ip ct established,related pass\n"
	   "rule 30 in ip src 10.0.0.0/8 proto tcp dport 22 pass\n"
	   "rule 40 in ip src 192.0.2.0/24,198.51.100.1/32 proto udp dport 53,5000-5010 pass\n"
	   "rule 50 in ip proto tcp tcp flags syn / syn,ack log drop\n"
	   "rule 60 in ip icmp type 3 code 4 pass\n"
	   "rule 70 in ip drop\n"
	   "rule 80 out ip proto tcp dport 25 drop\n");
	bad("iptables", "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp ! --dport 22 -j DROP\nCOMMIT\n",
	    "f:3:17: negation");
	bad("iptables", "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m recent --set -j DROP\nCOMMIT\n",
	    "f:3:13: match module 'recent'");
	bad("iptables", "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j REJECT\nCOMMIT\n", "f:3:13: '-j REJECT'");
	bad("iptables", "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -i eth+ -j DROP\nCOMMIT\n", "f:3:13: interface 'eth+'");
	bad("iptables", "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT --dport 22 -j DROP\nCOMMIT\n", "without -p");
	bad("iptables", "*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j DNAT --to 1.2.3.4\nCOMMIT\n",
	    "table nat");
	bad("iptables", "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j LOG\nCOMMIT\n", "f:3:1: 'log' without a verdict");
}
END_TEST

START_TEST(test_chain_choice)
{
	const char *dump = "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
			   "-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n";
	struct xw_err err;
	char *got;

	bad("iptables", dump, "f:3:1: chain FORWARD (hook forward) and chain INPUT");
	got = rules("iptables", dump, "INPUT", &err);
	ck_assert_msg(got, "%s", err.msg);
	ck_assert_str_eq(got, "rule 10 in ip proto tcp dport 22 pass\nrule 20 in ip drop\n");
	free(got);
	got = rules("iptables", dump, "FORWARD", &err);
	ck_assert_msg(got, "%s", err.msg);
	ck_assert_str_eq(got, "rule 10 in ip drop\n");
	free(got);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("import");
	TCase *t = tcase_create("import");

	tcase_add_test(t, test_nft_matches);
	tcase_add_test(t, test_nft_structure);
	tcase_add_test(t, test_nft_json);
	tcase_add_test(t, test_nft_errors);
	tcase_add_test(t, test_iptables);
	tcase_add_test(t, test_chain_choice);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *r = srunner_create(suite());
	int failed;

	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? 1 : 0;
}
