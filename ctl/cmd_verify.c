// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* verify: the live datapath against the live rule set (docs/verify.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ctl.h"
#include "sets.h"
#include "verify.h"

static void set_problem(const char *msg, void *arg)
{
	(void)arg;
	printf("set problem: %s\n", msg);
}

int cmd_verify(int argc, char **argv)
{
	struct xw_verify_opts o = { 0 };
	struct xw_verify_stats st;
	struct xw_err err = { "" };
	struct xw_dp dp;
	char *e;
	int c, rc;

	o.max_examples = 1;
	optind = 0;    /* `apply --verify` calls us after its own getopt */
	while ((c = xw_getopt("verify", argc, argv)) != -1) {
		switch (c) {
		case 'n':
			o.max_examples = (unsigned)strtoul(optarg, &e, 10);
			if (*e || !*optarg || !o.max_examples)
				return xw_failf(XW_EINPUT, "--examples: expected a positive number, got '%s'",
						optarg);
			break;
		case 'v': o.verbose = 1; break;
		case 's': o.self_check = 1; break;
		default: return xw_usage("verify", XW_EINPUT);
		}
	}
	if (optind != argc)
		return xw_usage("verify", XW_EINPUT);
	rc = xw_open(&dp, false);
	if (rc)
		return rc;
	rc = xw_verify(&dp, &o, &st, &err);
	if (rc) {
		xw_close(&dp, 0);
		return xw_fail(rc, &err);
	}
	printf("verified: %lu cells, %lu mismatches\n", (unsigned long)st.cells,
	       (unsigned long)st.mismatches);
	/* the set maps, read back (loader/sets.c) */
	{
		struct xw_ruleset live;
		size_t ns, ne, np = 0;

		rc = xw_dp_read_rules(&dp, &live, NULL, NULL, &err);
		if (rc) {
			xw_close(&dp, 0);
			return xw_fail(rc, &err);
		}
		rc = xw_sets_verify(&dp, &live, set_problem, NULL, &ns, &ne, &np);
		xw_ruleset_free(&live);
		if (rc) {
			xw_close(&dp, 0);
			return xw_failf(XW_ESYS, "read the sets: %s", strerror(-rc));
		}
		if (ns)
			printf("sets: %zu sets, %zu map entries read back, %zu problems\n", ns, ne, np);
		st.mismatches += np;
	}
	xw_close(&dp, 0);
	fflush(stdout);
	return st.mismatches ? XW_EINPUT : XW_OK;
}
