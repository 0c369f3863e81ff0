// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Unit tests of named sets in the language: set declarations, elements,
 * durations, @NAME references and `ban`, the canonical printer, errors. */
#include <check.h>
#include "check_main.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rule.h"
#include "sets.h"

static int parse(const char *text, struct xw_ruleset *rs, struct xw_err *err)
{
	return xw_parse_text(text, strlen(text), "f", rs, err);
}

static void err_is(const char *text, const char *want)
{
	struct xw_ruleset rs;
	struct xw_err err;

	ck_assert_msg(parse(text, &rs, &err) != 0, "accepted: %s", text);
	ck_assert_msg(!strcmp(err.msg, want), "for %s:\n got  %s\n want %s", text, err.msg, want);
}

START_TEST(test_durations)
{
	static const struct { const char *s; uint64_t ms; } ok[] = {
		{ "30s", 30000 }, { "10m", 600000 }, { "1h", 3600000 }, { "7d", 604800000 },
		{ "1h30m", 5400000 }, { "250ms", 250 }, { "90", 90000 }, { "1d2h3m4s", 93784000 },
	};
	static const char *const bad[] = { "", "h", "1x", "1h-", "s1", "1.5h", "-1s" };
	uint64_t ms;
	char buf[32];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ck_assert_msg(xw_duration_parse(ok[i].s, strlen(ok[i].s), &ms) == 0, "%s", ok[i].s);
		ck_assert_uint_eq(ms, ok[i].ms);
		/* the printed form parses back to the same value */
		xw_duration_format(ms, buf, sizeof(buf));
		ck_assert_msg(xw_duration_parse(buf, strlen(buf), &ms) == 0, "%s", buf);
		ck_assert_uint_eq(ms, ok[i].ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(xw_duration_parse(bad[i], strlen(bad[i]), &ms) != 0, "%s", bad[i]);
}
END_TEST

START_TEST(test_names)
{
	ck_assert(xw_set_name_ok("f2b-sshd", 8));
	ck_assert(xw_set_name_ok("_x", 2));
	ck_assert(!xw_set_name_ok("1x", 2));
	ck_assert(!xw_set_name_ok("a.b", 3));
	ck_assert(xw_set_name_ok("abcdefghijklmnopqrstuvwxyz01234", 31));
	ck_assert(!xw_set_name_ok("abcdefghijklmnopqrstuvwxyz012345", 32));
}
END_TEST

START_TEST(test_declarations)
{
	const char *text =
		"set bl {\n"
		"  type inet_addr; flags interval,timeout\n"
		"  timeout 1h; size 1000\n"
		"  elements = { 192.0.2.0/24, 2001:db8::1 timeout 30s,\n"
		"               10.0.0.1 }\n"
		"}\n"
		"set ports { type inet_service; elements = { 22, 8000-8080 } }  # comment\n"
		"rule 10 in src @bl drop\n"
		"rule 20 in tcp dport @ports src @bl pass\n"
		"rule 30 in tcp dport 22 ct new limit over 10/m per src ban @bl 1h drop\n";
	struct xw_ruleset rs, rs2;
	struct xw_err err;
	char *out, *out2;

	ck_assert_msg(parse(text, &rs, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(rs.n_sets, 2);
	ck_assert_str_eq(rs.sets[0].name, "bl");
	ck_assert_uint_eq(rs.sets[0].type, XW_SETT_INET);
	ck_assert_uint_eq(rs.sets[0].flags, XW_SETF_INTERVAL | XW_SETF_TIMEOUT);
	ck_assert_uint_eq(rs.sets[0].timeout_ms, 3600000);
	ck_assert_uint_eq(rs.sets[0].size, 1000);
	ck_assert_uint_eq(rs.sets[0].n_elems, 3);
	ck_assert_uint_eq(rs.sets[0].elems[0].plen, 24);
	ck_assert_uint_eq(rs.sets[0].elems[1].kind, XW_SETK_V6);
	ck_assert_uint_eq(rs.sets[0].elems[1].timeout_ms, 30000);
	ck_assert_uint_eq(rs.sets[1].n_elems, 2);
	ck_assert_uint_eq(rs.sets[1].elems[1].lo, 8000);
	ck_assert_uint_eq(rs.sets[1].elems[1].hi, 8080);
	ck_assert_uint_eq(rs.n, 3);
	ck_assert_str_eq(rs.rules[0].set_ref[XW_REF_SRC], "bl");
	ck_assert_int_eq(rs.rules[0].set_col[XW_REF_SRC], 16);
	ck_assert_str_eq(rs.rules[1].set_ref[XW_REF_DPORT], "ports");
	ck_assert_str_eq(rs.rules[2].ban_set, "bl");
	ck_assert_uint_eq(rs.rules[2].ban_ms, 3600000);
	ck_assert(xw_rule_uses_sets(&rs.rules[1]));
	ck_assert(!xw_rule_uses_sets(&rs.rules[2]));
	/* the canonical text (declarations without elements) parses back the same */
	out = xw_ruleset_format(&rs);
	ck_assert_ptr_nonnull(out);
	ck_assert_msg(strstr(out, "set bl { type inet_addr; flags interval,timeout; timeout 1h; "
			       "size 1000; }\n"), "%s", out);
	ck_assert_msg(strstr(out, "src @bl dport @ports pass"), "%s", out);
	ck_assert_msg(strstr(out, "per src ban @bl 1h drop"), "%s", out);
	ck_assert_msg(parse(out, &rs2, &err) == 0, "%s\n%s", err.msg, out);
	out2 = xw_ruleset_format(&rs2);
	ck_assert_str_eq(out, out2);
	ck_assert_uint_eq(rs2.sets[0].has_elements, 0);
	free(out);
	free(out2);
	xw_ruleset_free(&rs);
	xw_ruleset_free(&rs2);
}
END_TEST

START_TEST(test_errors)
{
	err_is("rule 1 in src @nope drop\n",
	       "f:1:15: no set named 'nope' (declare it with `set nope { type ...; }`)");
	err_is("set p { type inet_service; }\nrule 1 in src @p drop\n",
	       "f:2:15: src @p: set p has type inet_service");
	err_is("set a { type ipv4_addr; }\nrule 1 in dport @a drop\n",
	       "f:2:17: dport @a: set a has type ipv4_addr");
	err_is("set a { type ipv4_addr; elements = { 2001:db8::1 } }\n",
	       "f:1:38: '2001:db8::1' is an IPv6 address; set a has type ipv4_addr");
	err_is("set a { type ipv4_addr; elements = { 10.0.0.0/8 } }\n",
	       "f:1:38: '10.0.0.0/8' is a prefix: set a needs 'flags interval'");
	err_is("set a { type ipv4_addr; flags interval; elements = { 10.0.0.1/8 } }\n",
	       "f:1:54: host bits set in '10.0.0.1/8'");
	err_is("set a { type ipv4_addr; elements = { 10.0.0.1 timeout 1h } }\n",
	       "f:1:55: element timeout: set a needs 'flags timeout'");
	err_is("set a {\n  flags timeout\n}\n", "f:2:3: expected 'type' first in set a");
	err_is("set a { type mac_addr; }\n",
	       "f:1:14: unknown set type 'mac_addr' (ipv4_addr, ipv6_addr, inet_addr or inet_service)");
	err_is("set a { type ipv4_addr;\nrule 1 in drop\n",
	       "f:2:1: unknown set statement 'rule' (type, flags, timeout, size, elements)");
	err_is("set a { type ipv4_addr; }\nset a { type ipv6_addr; }\n",
	       "f:2:1: duplicate set a (first at line 1)");
	err_is("set a { type ipv4_addr; } x\n", "f:1:27: unexpected text after the set's '}'");
	err_is("set 9a { type ipv4_addr; }\n",
	       "f:1:5: bad set name '9a': letters, digits, '_' and '-', starting with a letter or "
	       "'_', at most 31 characters");
	err_is("set a { type ipv4_addr; flags timeout; }\n"
	       "rule 1 in limit over 1/s ban @a 1h drop\n", "f:2:30: 'ban' needs 'per src'");
	err_is("set a { type ipv4_addr; }\nrule 1 in limit over 1/s per src ban @a 1h drop\n",
	       "f:2:38: ban @a: the set must hold addresses and have 'flags timeout'");
	err_is("set a { type ipv4_addr; flags timeout; }\n"
	       "rule 1 in limit over 1/s per src ban @a soon drop\n",
	       "f:2:41: expected a duration such as 30s, 10m, 1h, 7d or 1h30m, got 'soon'");
	err_is("set a { type ipv4_addr; }\nrule 1 in src @a limit over 1/s drop\n",
	       "f:2:15: a rule with a set reference cannot have 'limit' (put the limit in a rule "
	       "of its own)");
	err_is("set a { type ipv4_addr; }\nrule 1 in src @a src 10.0.0.1 drop\n",
	       "f:2:18: duplicate match 'src'");
}
END_TEST

/* Lines after a multi-line set keep their numbers in messages. */
START_TEST(test_line_numbers)
{
	err_is("set a {\n type ipv4_addr\n\n}\nrule x\n", "f:5:6: expected priority, got 'x'");
}
END_TEST

START_TEST(test_elements)
{
	struct xw_set_decl d = { .name = "s", .type = XW_SETT_SERVICE };
	struct xw_set_elem e;
	char why[200];

	ck_assert_int_eq(xw_set_elem_parse(&d, "65535", 5, &e, why, sizeof(why)), 0);
	ck_assert_uint_eq(e.lo, 65535);
	ck_assert_int_ne(xw_set_elem_parse(&d, "65536", 5, &e, why, sizeof(why)), 0);
	ck_assert_int_ne(xw_set_elem_parse(&d, "20-10", 5, &e, why, sizeof(why)), 0);
	d.type = XW_SETT_INET;
	ck_assert_int_eq(xw_set_elem_parse(&d, "::ffff:1.2.3.4", 14, &e, why, sizeof(why)), 0);
	ck_assert_uint_eq(e.kind, XW_SETK_V6);
	ck_assert_int_ne(xw_set_elem_parse(&d, "1.2.3", 5, &e, why, sizeof(why)), 0);
}
END_TEST

static Suite *sets_suite(void)
{
	Suite *s = suite_create("sets");
	TCase *t = tcase_create("language");

	tcase_add_test(t, test_durations);
	tcase_add_test(t, test_names);
	tcase_add_test(t, test_declarations);
	tcase_add_test(t, test_errors);
	tcase_add_test(t, test_line_numbers);
	tcase_add_test(t, test_elements);
	suite_add_tcase(s, t);
	return s;
}

XW_CHECK_MAIN(sets_suite)
