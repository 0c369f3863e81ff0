// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* lint FILE: shadowed, redundant, correlated and never-matching rules
 * (loader/analysis/lint.c does the analysis; this prints it). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "ctl.h"
#include "sets.h"
#include "lint.h"

static int print_json(const char *fname, const struct xw_ruleset *rs,
		      const struct xw_lint_result *res)
{
	json_object *top = json_object_new_object(), *arr = json_object_new_array();
	char msg[1024];

	json_object_object_add(top, "file", json_object_new_string(fname));
	json_object_object_add(top, "rules", json_object_new_int64((int64_t)rs->n));
	for (size_t i = 0; i < res->n; i++) {
		const struct xw_lint_item *it = &res->items[i];
		json_object *o = json_object_new_object(), *by = json_object_new_array();

		json_object_object_add(o, "rule", json_object_new_int64(it->prio));
		json_object_object_add(o, "kind", json_object_new_string(xw_lint_kind_name(it->kind)));
		for (size_t k = 0; k < it->n_by; k++)
			json_object_array_add(by, json_object_new_int64(it->by[k]));
		json_object_object_add(o, "by", by);
		if (it->kind == XW_LINT_REDUNDANT)
			json_object_object_add(o, "later", json_object_new_boolean(it->later));
		if (it->later)
			json_object_object_add(o, "policy", json_object_new_boolean(it->policy));
		json_object_object_add(o, "witness", it->has_witness ?
				       json_object_new_string(it->witness_text) : NULL);
		json_object_object_add(o, "line", json_object_new_int(rs->rules[it->rule].pos.line));
		xw_lint_message(it, msg, sizeof(msg));
		json_object_object_add(o, "message", json_object_new_string(msg));
		json_object_array_add(arr, o);
	}
	json_object_object_add(top, "anomalies", arr);
	printf("%s\n", json_object_to_json_string_ext(top, JSON_C_TO_STRING_PRETTY |
						      JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(top);
	return 0;
}

static void print_text(const char *fname, const struct xw_ruleset *rs,
		       const struct xw_lint_result *res)
{
	char msg[1024];

	for (size_t i = 0; i < res->n; i++) {
		const struct xw_lint_item *it = &res->items[i];

		xw_lint_message(it, msg, sizeof(msg));
		if (rs->rules[it->rule].pos.line)
			printf("%s:%d: %s\n", fname, rs->rules[it->rule].pos.line, msg);
		else
			printf("%s: %s\n", fname, msg);
	}
	if (res->n)
		printf("%s: %zu rule%s, %zu finding%s\n", fname, rs->n, rs->n == 1 ? "" : "s",
		       res->n, res->n == 1 ? "" : "s");
	else
		printf("%s: %zu rule%s, no anomalies\n", fname, rs->n, rs->n == 1 ? "" : "s");
}

int cmd_lint(int argc, char **argv)
{
	struct xw_lint_result res;
	struct xw_ruleset rs;
	struct xw_err err;
	const char *path, *fname;
	bool json = false;
	int c, rc;

	while ((c = xw_getopt("lint", argc, argv)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		default: return xw_usage("lint", XW_EINPUT);
		}
	}
	if (optind != argc - 1)
		return xw_usage("lint", XW_EINPUT);
	path = argv[optind];
	fname = strcmp(path, "-") ? path : "<stdin>";
	xw_ruleset_init(&rs);
	rc = xw_load_rules(path, &rs);
	if (rc)
		return rc;
	/* @NAME: the file's elements, or the live set's when xwall is loaded */
	if (rs.n_sets) {
		struct xw_dp dp;
		bool live = false;

		if (xw_privileged() && xw_dp_is_loaded() && xw_open(&dp, false) == 0)
			live = true;
		rc = xw_sets_materialize(&rs, live ? &dp : NULL, &err);
		if (live)
			xw_dp_close(&dp);
		if (rc) {
			xw_ruleset_free(&rs);
			return xw_fail(rc == -1 ? XW_EINPUT : rc, &err);
		}
	}
	if (xw_lint(&rs, &res, &err)) {
		xw_ruleset_free(&rs);
		return xw_fail(XW_EINPUT, &err);
	}
	if (json)
		print_json(fname, &rs, &res);
	else
		print_text(fname, &rs, &res);
	rc = res.n ? 1 : 0;
	xw_lint_free(&res);
	xw_ruleset_free(&rs);
	return rc;
}
