// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Named sets in the real datapath (needs root: run inside /work/isolate.sh):
 * frames through the XDP program of a private instance with
 * BPF_PROG_TEST_RUN, against what the rules and set elements say. */
#include <check.h>
#include "check_main.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "datapath.h"
#include "pktbuild.h"
#include "rule.h"
#include "sets.h"

static struct xw_dp dp;

static void setup_dp(const char *text)
{
	struct xw_ruleset rs;
	struct xw_err err;

	if (!xw_privileged())
		ck_abort_msg("needs root (BPF_PROG_TEST_RUN)");
	xw_dp_init(&dp);
	ck_assert_msg(xw_dp_load_private(&dp, &err) == 0, "%s", err.msg);
	ck_assert_msg(xw_parse_text(text, strlen(text), "t", &rs, &err) == 0, "%s", err.msg);
	ck_assert_msg(xw_dp_apply(&dp, &rs, &err) == 0, "%s", err.msg);
	xw_ruleset_free(&rs);
}

/* prio that decided (XW_PRIO_NONE: policy) for a UDP (proto 17) or TCP frame */
static uint32_t run(int v6, const uint8_t *src, uint8_t proto, uint16_t dport)
{
	struct xw_pb_spec s;
	uint8_t buf[XW_PB_MAX];
	struct xw_test_result r;
	struct xw_err err;
	size_t len;

	memset(&s, 0, sizeof(s));
	s.vlan = -1;
	s.eth_type = v6 ? 0x86dd : 0x0800;
	s.l3 = v6 ? XW_PB_L3_V6 : XW_PB_L3_V4;
	memcpy(s.src, src, v6 ? 16 : 4);
	s.dst[0] = 198;
	s.proto = proto;
	s.l4 = 1;
	s.sport = 40000;
	s.dport = dport;
	s.tcp_flags = 0x02;
	len = xw_pb_build(&s, buf, sizeof(buf));
	ck_assert_msg(xw_dp_test_run(&dp, buf, len, &r, &err) == 0, "%s", err.msg);
	return r.prio;
}

static void elem(uint32_t id, const char *text, uint64_t timeout_ms, int del)
{
	struct xw_set_def def;
	struct xw_set_decl sd;
	struct xw_set_elem e;
	struct xw_err err;
	char why[200];

	ck_assert(xw_set_find(&dp, id == 1 ? "n" : "p", &def) == id);
	memset(&sd, 0, sizeof(sd));
	sd.type = def.type;
	sd.flags = def.flags;
	ck_assert_msg(xw_set_elem_parse(&sd, text, strlen(text), &e, why, sizeof(why)) == 0, "%s", why);
	e.has_timeout = timeout_ms != 0;
	e.timeout_ms = timeout_ms;
	ck_assert_msg(xw_set_update(&dp, id, &def, &e, 1, del, &err) == 0, "%s", err.msg);
}

static const char *rules =
	"set n { type inet_addr; flags interval,timeout; }\n"
	"set p { type inet_service; elements = { 1000-1999, 53 } }\n"
	"rule 3 in src 10.9.9.9 pass\n"
	"rule 5 in src @n drop\n"
	"rule 7 in udp dport @p drop\n";

START_TEST(test_semantics)
{
	static const uint8_t a[4] = { 10, 1, 2, 3 }, b[4] = { 10, 9, 9, 9 };
	static const uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

	setup_dp(rules);
	ck_assert_uint_eq(run(0, a, 6, 80), XW_PRIO_NONE);
	elem(1, "10.0.0.0/8", 0, 0);
	ck_assert_uint_eq(run(0, a, 6, 80), 5);
	/* a classifier rule with a lower number wins over the set rule */
	ck_assert_uint_eq(run(0, b, 6, 80), 3);
	/* an expired longer prefix does not hide a live shorter one */
	elem(1, "10.1.0.0/16", 1, 0);
	usleep(20000);
	ck_assert_uint_eq(run(0, a, 6, 80), 5);
	elem(1, "10.0.0.0/8", 0, 1);
	ck_assert_uint_eq(run(0, a, 6, 80), XW_PRIO_NONE);   /* only the expired /16 */
	/* a live element with a deadline matches */
	elem(1, "10.1.2.3", 60000, 0);
	ck_assert_uint_eq(run(0, a, 6, 80), 5);
	/* IPv6 in the same set */
	ck_assert_uint_eq(run(1, a6, 6, 80), XW_PRIO_NONE);
	elem(1, "2001:db8::/64", 0, 0);
	ck_assert_uint_eq(run(1, a6, 6, 80), 5);
	/* ports: a range and a single port, UDP only */
	ck_assert_uint_eq(run(0, b, 17, 1500), 3);   /* rule 3 before rule 7 */
	{
		static const uint8_t c[4] = { 192, 0, 2, 1 };

		ck_assert_uint_eq(run(0, c, 17, 1000), 7);
		ck_assert_uint_eq(run(0, c, 17, 1999), 7);
		ck_assert_uint_eq(run(0, c, 17, 2000), XW_PRIO_NONE);
		ck_assert_uint_eq(run(0, c, 17, 999), XW_PRIO_NONE);
		ck_assert_uint_eq(run(0, c, 17, 53), 7);
		ck_assert_uint_eq(run(0, c, 6, 1500), XW_PRIO_NONE);
		elem(2, "2000-2010", 0, 0);
		ck_assert_uint_eq(run(0, c, 17, 2005), 7);
	}
	xw_dp_close(&dp);
}
END_TEST

static void report_problem(const char *msg, void *arg)
{
	(void)arg;
	fprintf(stderr, "verify: %s\n", msg);
}

/* Read back every set map: no problem, want_elems map entries in all. */
static void verify_clean(size_t want_elems)
{
	struct xw_ruleset live;
	struct xw_err err;
	size_t ns, ne, np;

	ck_assert_msg(xw_parse_text(rules, strlen(rules), "t", &live, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(xw_sets_verify(&dp, &live, report_problem, NULL, &ns, &ne, &np), 0);
	ck_assert_uint_eq(np, 0);
	ck_assert_uint_eq(ns, 2);
	ck_assert_uint_eq(ne, want_elems);
	xw_ruleset_free(&live);
}

static void replace(const char *const *texts, size_t n)
{
	struct xw_set_elem e[8];
	struct xw_set_def def;
	struct xw_set_decl sd;
	struct xw_err err;
	char why[200];

	ck_assert(n <= 8);
	ck_assert(xw_set_find(&dp, "n", &def) == 1);
	memset(&sd, 0, sizeof(sd));
	sd.type = def.type;
	sd.flags = def.flags;
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(xw_set_elem_parse(&sd, texts[i], strlen(texts[i]), &e[i], why,
						sizeof(why)) == 0, "%s", why);
	ck_assert_msg(xw_set_replace(&dp, 1, &def, e, n, &err) == 0, "%s", err.msg);
}

/* Full-length elements live in a hash map beside the trie of prefixes:
 * the exact element is looked up first, then the prefixes. */
START_TEST(test_exact_and_prefixes)
{
	static const uint8_t a[4] = { 10, 1, 2, 3 }, x[4] = { 10, 7, 7, 7 }, y[4] = { 10, 8, 1, 1 };
	static const char *const two[] = { "10.7.7.7", "10.8.0.0/16" };
	struct xw_set_item *it;
	struct xw_err err;
	uint64_t removed;
	size_t n;

	setup_dp(rules);
	/* an expired exact element does not hide a live prefix covering it */
	elem(1, "10.1.2.3", 1, 0);
	elem(1, "10.1.0.0/16", 0, 0);
	usleep(20000);
	ck_assert_uint_eq(run(0, a, 6, 80), 5);
	elem(1, "10.1.0.0/16", 0, 1);
	ck_assert_uint_eq(run(0, a, 6, 80), XW_PRIO_NONE);
	/* refreshed without a timeout, it matches again */
	elem(1, "10.1.2.3", 0, 0);
	ck_assert_uint_eq(run(0, a, 6, 80), 5);
	ck_assert_int_eq(xw_set_items(&dp, 1, &it, &n, &err), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(it[0].left_ms, -1);
	free(it);
	/* map entries: 10.1.2.3 in n; in p 53 and the 7 prefixes of 1000-1999 */
	verify_clean(9);
	/* replaces switch slot pairs; each one leaves only its elements */
	for (int round = 0; round < 3; round++) {
		replace(two, 2);
		ck_assert_uint_eq(run(0, a, 6, 80), XW_PRIO_NONE);
		ck_assert_uint_eq(run(0, x, 6, 80), 5);
		ck_assert_uint_eq(run(0, y, 6, 80), 5);
		ck_assert_int_eq(xw_set_items(&dp, 1, &it, &n, &err), 0);
		ck_assert_uint_eq(n, 2);
		free(it);
		replace(NULL, 0);
		ck_assert_uint_eq(run(0, x, 6, 80), XW_PRIO_NONE);
		ck_assert_uint_eq(run(0, y, 6, 80), XW_PRIO_NONE);
	}
	/* gc removes expired elements from both maps */
	elem(1, "10.7.7.7", 1, 0);
	elem(1, "10.8.0.0/16", 1, 0);
	elem(1, "10.9.0.0/16", 0, 0);
	usleep(20000);
	ck_assert_uint_eq(run(0, x, 6, 80), XW_PRIO_NONE);
	ck_assert_int_eq(xw_set_gc(&dp, &removed, &err), 0);
	ck_assert_uint_eq(removed, 2);
	ck_assert_int_eq(xw_set_items(&dp, 1, &it, &n, &err), 0);
	ck_assert_uint_eq(n, 1);
	free(it);
	xw_dp_close(&dp);
}
END_TEST

/* Random prefixes against a brute-force "any prefix covers it". */
START_TEST(test_random_prefixes)
{
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	struct { uint32_t net; int plen; } p[200];

	fprintf(stderr, "test_random_prefixes: seed %u\n", seed);
	srandom(seed);
	setup_dp(rules);
	for (int i = 0; i < 200; i++) {
		char t[32];
		uint32_t a = (uint32_t)random() & 0x0fffffffu;   /* 0.x.x.x .. 15.x.x.x */

		p[i].plen = 8 + (int)(random() % 25);
		p[i].net = p[i].plen ? a & (0xffffffffu << (32 - p[i].plen)) : 0;
		snprintf(t, sizeof(t), "%u.%u.%u.%u/%d", p[i].net >> 24, p[i].net >> 16 & 255,
			 p[i].net >> 8 & 255, p[i].net & 255, p[i].plen);
		elem(1, t, 0, 0);
	}
	for (int k = 0; k < 400; k++) {
		uint32_t a;
		uint8_t src[4];
		int in = 0;

		/* half near a prefix, half anywhere */
		if (k % 2)
			a = p[random() % 200].net | ((uint32_t)random() & 0xffu);
		else
			a = (uint32_t)random() & 0x0fffffffu;
		for (int i = 0; i < 200 && !in; i++)
			in = (a & (0xffffffffu << (32 - p[i].plen))) == p[i].net;
		src[0] = (uint8_t)(a >> 24), src[1] = (uint8_t)(a >> 16);
		src[2] = (uint8_t)(a >> 8), src[3] = (uint8_t)a;
		if (a == 0x0a090909u)
			continue;   /* rule 3's address */
		ck_assert_msg(run(0, src, 6, 80) == (in ? 5u : XW_PRIO_NONE), "seed %u: %u.%u.%u.%u %s",
			      seed, src[0], src[1], src[2], src[3], in ? "in" : "out");
	}
	xw_dp_close(&dp);
}
END_TEST

static Suite *setsdp_suite(void)
{
	Suite *s = suite_create("setsdp");
	TCase *t = tcase_create("datapath");

	tcase_set_timeout(t, 60);
	tcase_add_test(t, test_semantics);
	tcase_add_test(t, test_random_prefixes);
	tcase_add_test(t, test_exact_and_prefixes);
	suite_add_tcase(s, t);
	return s;
}

XW_CHECK_MAIN(setsdp_suite)
