// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Unit tests of include and define in rule files (loader/lang/rule_include.c):
 * globs in name order, paths relative to the including file, defines across
 * files, and the errors (cycles, depth, duplicate priorities, undefined
 * names, a second policy) naming the file and line where they are. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "rule_include.h"
#include "xwall.h"

static char dir[64];

static void put(const char *name, const char *text)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	ck_assert(f);
	fputs(text, f);
	fclose(f);
}

/* Parse DIR/name; returns 0 or -1 with err. */
static int parse(const char *name, struct xw_ruleset *rs, struct xw_err *err)
{
	char p[256], *text;
	FILE *f;
	long n;
	int rc;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "r");
	ck_assert(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)n + 1);
	ck_assert(fread(text, 1, (size_t)n, f) == (size_t)n);
	fclose(f);
	rc = xw_parse_tree(text, (size_t)n, p, rs, err);
	free(text);
	return rc;
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/xw-include-XXXXXX");
	ck_assert(mkdtemp(dir));
	snprintf(dir + strlen(dir), sizeof(dir) - strlen(dir), "%s", "");
	{
		char d[128];

		snprintf(d, sizeof(d), "%s/conf.d", dir);
		ck_assert(mkdir(d, 0700) == 0);
	}
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert(system(cmd) == 0);
}

START_TEST(test_tree)
{
	struct xw_ruleset rs;
	struct xw_err err;
	char *txt;

	put("main.rules", "define admins = 10.0.0.0/8, 192.0.2.1\ndefine ssh = 22\npolicy drop\n"
			  "include \"conf.d/*.rules\"   # all of them\n"
			  "rule 10 in tcp dport $ssh src $admins pass # $not_expanded\n");
	put("conf.d/20-web.rules", "define web = 80,443\nrule 30 in tcp dport $web pass\n"
				   "rule 31 in tcp dport $ssh drop\n");
	put("conf.d/10-dns.rules", "include \"sub/none-*.rules\"\nrule 20 in udp dport 53 pass\n");
	put("conf.d/README", "not a rule file\n");
	ck_assert_msg(parse("main.rules", &rs, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(rs.n, 4);
	ck_assert(rs.has_policy[0] && rs.policy[0] == 0);
	txt = xw_ruleset_format(&rs);
	ck_assert_msg(strstr(txt, "rule 10 in proto tcp src 10.0.0.0/8,192.0.2.1 dport 22 pass") &&
		      strstr(txt, "rule 30 in proto tcp dport 80,443 pass") &&
		      strstr(txt, "rule 31 in proto tcp dport 22 drop"), "%s", txt);
	free(txt);
	ck_assert_msg(strstr(rs.rules[1].pos.file, "10-dns.rules") && rs.rules[1].pos.line == 2,
		      "%s:%d", rs.rules[1].pos.file, rs.rules[1].pos.line);
	xw_ruleset_free(&rs);
}
END_TEST

/* Comments and audit across files: a '$' or '#' inside a string is text
 * (no define is looked up), a define may hold a string, and an error in a
 * comment names the included file and its line. */
START_TEST(test_comments)
{
	struct xw_ruleset rs;
	struct xw_err err;
	char *txt;

	put("main.rules", "define team = \"web team # on call\"\npolicy audit\n"
			  "include \"conf.d/web.rules\"\n"
			  "rule 10 in tcp dport 22 pass comment \"costs $5, see #12\"\n");
	put("conf.d/web.rules", "rule 20 in tcp dport 80 audit comment $team\n");
	ck_assert_msg(parse("main.rules", &rs, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(rs.n, 2);
	ck_assert_uint_eq(rs.policy[0], XW_AUDIT);
	ck_assert_str_eq(rs.rules[0].comment, "costs $5, see #12");
	ck_assert_str_eq(rs.rules[1].comment, "web team # on call");
	ck_assert_uint_eq(rs.rules[1].verdict, XW_AUDIT);
	txt = xw_ruleset_format(&rs);
	ck_assert_msg(strstr(txt, "policy in audit\n") &&
		      strstr(txt, "rule 20 in proto tcp dport 80 audit comment \"web team # on call\""),
		      "%s", txt);
	free(txt);
	xw_ruleset_free(&rs);
	put("conf.d/web.rules", "\nrule 20 in tcp dport 80 audit comment \"a\\tb\"\n");
	ck_assert_int_eq(parse("main.rules", &rs, &err), -1);
	ck_assert_msg(strstr(err.msg, "conf.d/web.rules:2:41: unknown escape"), "%s", err.msg);
}
END_TEST

static void bad(const char *want)
{
	struct xw_ruleset rs;
	struct xw_err err;

	ck_assert_msg(parse("main.rules", &rs, &err) == -1, "accepted");
	ck_assert_msg(strstr(err.msg, want), "'%s' lacks '%s'", err.msg, want);
	ck_assert_uint_eq(rs.n, 0);
}

START_TEST(test_errors)
{
	put("main.rules", "include \"conf.d/a.rules\"\nrule 10 in udp drop\n");
	put("conf.d/a.rules", "rule 5 in udp pass\nrule 6 in tcp dport 99999 drop\n");
	bad("conf.d/a.rules:2:21: port 99999 out of range");
	put("conf.d/a.rules", "\n\ninclude \"../main.rules\"\n");
	bad("conf.d/a.rules:3:9: '");
	bad("include cycle");
	put("conf.d/a.rules", "rule 10 in tcp drop\n");
	bad("priority 10 is already used");
	put("conf.d/a.rules", "rule 11 in tcp dport $nope drop\n");
	bad("conf.d/a.rules:1:22: '$nope' is not defined");
	put("conf.d/a.rules", "policy pass\n");
	put("main.rules", "include \"conf.d/a.rules\"\npolicy drop\n");
	bad("a second policy line");
	put("main.rules", "include \"conf.d/missing.rules\"\n");
	bad("main.rules:1:9: cannot read");
	put("main.rules", "define a = 1\ndefine a = 2\n");
	bad("main.rules:2:8: 'a' is already defined");
	put("main.rules", "include conf.d/a.rules\n");
	bad("main.rules:1:9: expected include \"PATH\"");
	/* depth: main -> d1 -> ... -> d9 */
	put("main.rules", "include \"conf.d/d1.rules\"\n");
	for (int i = 1; i <= 9; i++) {
		char n[32], t[64];

		snprintf(n, sizeof(n), "conf.d/d%d.rules", i);
		snprintf(t, sizeof(t), "include \"d%d.rules\"\n", i + 1);
		put(n, t);
	}
	put("conf.d/d10.rules", "rule 1 in drop\n");
	bad("nested deeper than 8");
}
END_TEST

START_TEST(test_plain_files_unchanged)
{
	struct xw_ruleset rs;
	struct xw_err err;

	put("main.rules", "rule 10 in tcp dport 22 pass\nrule 20 in drop\n");
	ck_assert_msg(parse("main.rules", &rs, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(rs.n, 2);
	xw_ruleset_free(&rs);
	put("main.rules", "rule 10 in tcp dport $x pass\n");   /* no define: the parser's own error */
	bad("main.rules:1:");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("include");
	TCase *t = tcase_create("include");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_tree);
	tcase_add_test(t, test_errors);
	tcase_add_test(t, test_comments);
	tcase_add_test(t, test_plain_files_unchanged);
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
