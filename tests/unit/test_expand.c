// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Unit tests of the compiler's expansion bound (xw_expansion_size and the
 * refusal at the start of xw_compile): the figure is the number of records
 * the compiler would build, and a rule set over the bound is refused before
 * any of them is allocated. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>

#include "compile.h"

static uint64_t seed;

static uint64_t rnd(void)
{
	/* xorshift64* */
	seed ^= seed >> 12;
	seed ^= seed << 25;
	seed ^= seed >> 27;
	return seed * 0x2545F4914F6CDD1Dull;
}

static void parse(const char *text, struct xw_ruleset *rs)
{
	struct xw_err err;

	ck_assert_msg(xw_parse_text(text, strlen(text), "t", rs, &err) == 0, "%s", err.msg);
}

static int compile(const struct xw_ruleset *rs, struct xw_compiled *c, struct xw_err *err)
{
	uint32_t *slots = calloc(rs->n + 1, sizeof(*slots));
	int rc;

	for (size_t i = 0; i < rs->n; i++)
		slots[i] = (uint32_t)i;
	rc = xw_compile(rs, slots, NULL, c, err);
	free(slots);
	return rc;
}

static long maxrss_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* "SEP"-separated list of n addresses: /24s in 10/8 (or hosts in 172.16/12) */
static void addr_list(char *out, int n, int hosts)
{
	size_t at = 0;

	for (int i = 0; i < n; i++)
		at += (size_t)sprintf(out + at, hosts ? "%s172.%d.%d.1" : "%s10.%d.%d.0/24",
				      i ? "," : "", hosts ? 16 + i / 256 : i / 256, i % 256);
}

/* The input: two 150-element address lists and two wide port
 * ranges are 150 x 150 x 30 x 30 = 20250000 records (about 3 GiB). */
START_TEST(test_refused_before_allocating)
{
	char *text = malloc(65536);
	struct xw_ruleset rs;
	struct xw_compiled c;
	struct xw_err err;
	size_t at;
	long before, after;

	at = (size_t)sprintf(text, "policy drop\nrule 10 in tcp src ");
	addr_list(text + at, 150, 0);
	at += strlen(text + at);
	at += (size_t)sprintf(text + at, " dst ");
	addr_list(text + at, 150, 1);
	at += strlen(text + at);
	sprintf(text + at, " sport 1-65534 dport 1-65534 drop\n");
	parse(text, &rs);
	ck_assert_uint_eq(xw_expansion_size(&rs.rules[0], NULL, 0), 20250000);

	before = maxrss_kib();
	ck_assert_int_eq(compile(&rs, &c, &err), -1);
	after = maxrss_kib();
	ck_assert_str_eq(err.msg, "t:2:1: rule 10: expands to 20250000 map entries (150 src x 150 dst "
			 "x 30 sport x 30 dport), more than the 1048576 a rule set may compile to: "
			 "split it, or use fewer list values or narrower port ranges");
	/* nothing of the 3 GiB was allocated: the peak grew by less than 16 MiB */
	ck_assert_msg(after - before < 16 * 1024, "peak RSS grew by %ld KiB", after - before);
	ck_assert_uint_eq(c.n_entries, 0);
	ck_assert_ptr_null(c.keys);
	xw_ruleset_free(&rs);
	free(text);
}
END_TEST

/* Products past 2^64 saturate and are refused, naming the factors. */
START_TEST(test_saturates)
{
	struct xw_rule r;

	memset(&r, 0, sizeof(r));
	r.prio = 3;
	r.present = XM_SRC | XM_DST;
	r.n_src = r.n_dst = (size_t)1 << 33;
	ck_assert_uint_eq(xw_expansion_size(&r, NULL, 0), UINT64_MAX);
	{
		char how[100];

		xw_expansion_size(&r, how, sizeof(how));
		ck_assert_str_eq(how, "8589934592 src x 8589934592 dst");
	}
	/* never-matching combinations expand to nothing */
	memset(&r, 0, sizeof(r));
	r.present = XM_IP | XM_IP6 | XM_SRC;
	r.n_src = 1000000000;
	ck_assert_uint_eq(xw_expansion_size(&r, NULL, 0), 0);
	r.present = XM_ICMP | XM_ICMP6;
	ck_assert_uint_eq(xw_expansion_size(&r, NULL, 0), 0);
}
END_TEST

/* The bound is on the whole rule set: rules under it one by one but over
 * it together are refused at the rule that crosses it. */
START_TEST(test_sum_refused)
{
	char *text = malloc(1 << 20);
	struct xw_ruleset rs;
	struct xw_compiled c;
	struct xw_err err;
	size_t at = 0;

	/* 3 rules of 512 x 512 = 262144 each: 786432 fits, a 4th and 5th do not */
	for (int p = 1; p <= 5; p++) {
		at += (size_t)sprintf(text + at, "rule %d in src ", p);
		addr_list(text + at, 512, 0);
		at += strlen(text + at);
		at += (size_t)sprintf(text + at, " dst ");
		addr_list(text + at, 512, 1);
		at += strlen(text + at);
		at += (size_t)sprintf(text + at, " drop\n");
	}
	parse(text, &rs);
	ck_assert_int_eq(compile(&rs, &c, &err), -1);
	ck_assert_str_eq(err.msg, "t:5:1: rule 5: the rules up to this one expand to 1310720 map "
			 "entries, more than the 1048576 a rule set may compile to");
	xw_ruleset_free(&rs);
	free(text);
}
END_TEST

/* The figure is exact: a single rule of distinct alternatives compiles to
 * as many entries as xw_expansion_size says (random shapes, seed printed). */
START_TEST(test_figure_exact)
{
	for (int round = 0; round < 200; round++) {
		char text[8192], how[160];
		struct xw_ruleset rs;
		struct xw_compiled c;
		struct xw_err err;
		size_t at = (size_t)sprintf(text, "rule 1 in");
		int ns = (int)(rnd() % 6), nd = (int)(rnd() % 6), use_ports = (int)(rnd() % 2);
		uint64_t want;

		if (ns) {
			at += (size_t)sprintf(text + at, " src ");
			addr_list(text + at, ns, 0);
			at += strlen(text + at);
		}
		if (nd) {
			at += (size_t)sprintf(text + at, " dst ");
			addr_list(text + at, nd, 1);
			at += strlen(text + at);
		}
		if (use_ports) {
			/* disjoint ranges: [lo, hi] then gaps */
			uint32_t lo = (uint32_t)(rnd() % 1000);
			int nr = 1 + (int)(rnd() % 3);

			at += (size_t)sprintf(text + at, " udp dport ");
			for (int i = 0; i < nr; i++) {
				uint32_t hi = lo + (uint32_t)(rnd() % 5000);

				at += (size_t)sprintf(text + at, "%s%u-%u", i ? "," : "", lo, hi);
				lo = hi + 2 + (uint32_t)(rnd() % 100);
			}
		}
		switch (rnd() % 3) {
		case 1: at += (size_t)sprintf(text + at, " frag"); break;
		case 2: at += (size_t)sprintf(text + at, " frag later"); break;
		}
		if (rnd() % 2)
			at += (size_t)sprintf(text + at, " ct new,established,invalid");
		sprintf(text + at, " drop\n");
		parse(text, &rs);
		want = xw_expansion_size(&rs.rules[0], how, sizeof(how));
		ck_assert_msg(compile(&rs, &c, &err) == 0, "%s", err.msg);
		ck_assert_msg(c.n_entries == want, "'%s': %zu entries, figure %llu (%s)", text,
			      c.n_entries, (unsigned long long)want, how);
		xw_compiled_free(&c);
		xw_ruleset_free(&rs);
	}
}
END_TEST

int main(void)
{
	const char *e = getenv("XW_SEED");
	Suite *s = suite_create("expand");
	TCase *tc = tcase_create("expand");
	SRunner *sr;
	int nf;

	seed = e ? strtoull(e, NULL, 0) : (uint64_t)time(NULL) * 2654435761u + (uint64_t)clock();
	if (!seed)
		seed = 1;
	printf("test_expand: seed %llu (XW_SEED=%llu to repeat)\n", (unsigned long long)seed,
	       (unsigned long long)seed);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_refused_before_allocating);
	tcase_add_test(tc, test_saturates);
	tcase_add_test(tc, test_sum_refused);
	tcase_add_test(tc, test_figure_exact);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
