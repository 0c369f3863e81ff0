// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The one main() of the unit-test binaries.  A test file builds its suites
 * and ends with
 *
 *	XW_CHECK_MAIN(rule_suite)             (or several: XW_CHECK_MAIN(a, b))
 *
 * Usage of every binary:  build/unit/test_x [TCASE]
 * runs all suites, or only the test case named TCASE (as CK_RUN_CASE=TCASE
 * does; CK_RUN_SUITE, CK_FORK, CK_VERBOSITY work as Check documents).
 * Exit status 0 when every test passed, 1 otherwise (also when TCASE names
 * no test case, so a typo cannot pass silently).
 */
#ifndef XW_CHECK_MAIN_H
#define XW_CHECK_MAIN_H

#include <check.h>
#include <stddef.h>
#include <stdio.h>

static inline int xw_check_run(Suite *(*const *make)(void), size_t n, int argc, char **argv)
{
	const char *tcase = argc > 1 ? argv[1] : NULL;
	SRunner *sr;
	int failed, run;

	if (argc > 2 || (tcase && tcase[0] == '-')) {
		fprintf(stderr, "usage: %s [TCASE]\n", argv[0]);
		return 1;
	}
	sr = srunner_create(make[0]());
	for (size_t i = 1; i < n; i++)
		srunner_add_suite(sr, make[i]());
	if (tcase)
		srunner_run(sr, NULL, tcase, CK_ENV);
	else
		srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	if (run == 0) {
		fprintf(stderr, "%s: no test ran%s%s\n", argv[0], tcase ? " in test case " : "",
			tcase ? tcase : "");
		return 1;
	}
	return failed ? 1 : 0;
}

#define XW_CHECK_MAIN(...)                                                          \
	int main(int argc, char **argv)                                             \
	{                                                                           \
		Suite *(*const make[])(void) = { __VA_ARGS__ };                     \
		return xw_check_run(make, sizeof(make) / sizeof(make[0]), argc, argv); \
	}

#endif
