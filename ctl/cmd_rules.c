// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* apply, rule add|del|list, policy: every change goes through one atomic
 * xw_dp_apply of the whole resulting rule set, under the lock. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "ctl.h"
#include "compile.h"
#include "tree.h"
#include "edit.h"

/* Compile without touching the kernel (apply --check); prints what the
 * rule set costs a packet. */
static int check_only(const struct xw_ruleset *rs)
{
	struct xw_tcompiled c;
	struct xw_err err;
	uint32_t *slots = calloc(rs->n + 1, sizeof(*slots)), depth = 0, leaf = 0;
	int rc;

	for (size_t i = 0; slots && i < rs->n; i++)
		slots[i] = (uint32_t)i;
	rc = xw_compile_tree(rs, slots, NULL, &c, &err);
	free(slots);
	if (rc)
		return xw_fail(XW_EINPUT, &err);
	/* the limits apply enforces, so --check answers the same */
	if (rs->n > XW_MAX_RULES) {
		xw_tcompiled_free(&c);
		return xw_failf(XW_EINPUT, "too many rules: %zu (at most %u)", rs->n, XW_MAX_RULES);
	}
	for (uint32_t i = 0; i < c.tree->head.n_trees; i++) {
		if (c.tree->depth[i] > depth)
			depth = c.tree->depth[i];
		if (c.tree->max_leaf[i] > leaf)
			leaf = c.tree->max_leaf[i];
	}
	printf("ok: %zu rules, %u rule entries: %u by hash in %u exact shapes, the rest in %u trees "
	       "(%u nodes, %u leaf slots); per packet at most %u hash probes and %u reads (deepest "
	       "path %u nodes, longest leaf %u entries)\n", rs->n, c.tree->n_rents, c.tree->x.n,
	       c.tree->head.n_xshapes, c.tree->head.n_trees, c.tree->n_nodes, c.tree->n_lids,
	       xw_exact_probes_max(c.tree->head.xs, c.tree->head.n_xshapes), xw_tree_worst(c.tree),
	       depth, leaf);
	xw_tcompiled_free(&c);
	return 0;
}

static int apply_locked(const struct xw_ruleset *rs, const char *file, uint64_t confirm_ms)
{
	struct xw_dp dp;
	struct xw_err err;
	int rc = xw_open(&dp, true);

	if (rc)
		return rc;
	rc = xw_dp_settle_options(&dp, &err);
	if (rc) {
		xw_fail(rc, &err);
	} else if (confirm_ms) {
		rc = xw_confirm_apply(&dp, rs, file, confirm_ms);
	} else if ((rc = xw_confirm_guard(&dp, false)) == 0) {
		rc = xw_dp_apply(&dp, rs, &err);
		if (rc)
			xw_fail(rc, &err);
	}
	xw_close(&dp, rc);
	return rc;
}

int cmd_apply(int argc, char **argv)
{
	struct xw_ruleset rs;
	bool check = false, verify = false, allow_empty = false;
	uint64_t confirm_ms = 0;
	int c, rc;

	while ((c = xw_getopt("apply", argc, argv)) != -1) {
		if (c == 'k') {
			check = true;
		} else if (c == 't') {
			rc = xw_confirm_parse_secs(optarg, &confirm_ms);
			if (rc)
				return rc;
		} else if (c == 'E') {
			allow_empty = true;
		} else if (c == 'v') {
			verify = true;
		} else if (c == 'c' || c == 'r' || c == 'l') {
			rc = xw_load_option(c, optarg);
			if (rc)
				return rc;
		} else {
			return xw_usage("apply", XW_EINPUT);
		}
	}
	if (optind != argc - 1)
		return xw_usage("apply", XW_EINPUT);
	if (check && confirm_ms)
		return xw_failf(XW_EINPUT, "--check changes nothing: there is nothing to --confirm");
	xw_ruleset_init(&rs);
	xw_dp_phase("start, parse options");
	rc = xw_load_rules(argv[optind], &rs);
	xw_dp_phase("parse rule file");
	/* an empty input is more often a wrong path or a truncated file than
	 * a wish to pass everything: say so before it replaces the rule set
	 * (without privilege, apply is refused for that first, as before) */
	if (!rc && !allow_empty && rs.n == 0 && !rs.has_policy[XW_DIR_IN] &&
	    !rs.has_policy[XW_DIR_OUT] && (check || xw_privileged()))
	{
		/* a rule input error, so FILE:LINE:COL like the others: the
		 * whole input, from its start, holds nothing */
		fprintf(stderr, "%s:1:1: no rule and no policy line: applying it would pass "
			"everything; --allow-empty applies it anyway\n",
			strcmp(argv[optind], "-") ? argv[optind] : "<stdin>");
		rc = XW_EINPUT;
	}
	if (!rc)
		rc = check ? check_only(&rs) : apply_locked(&rs, argv[optind], confirm_ms);
	xw_ruleset_free(&rs);
	xw_dp_phase("close");
	if (!rc && verify && !check)   /* the live maps against the live text */
		rc = cmd_verify(1, (char *[]){ "verify", NULL });
	return rc;
}

/* Change one rule of the live generation in place of a whole apply
 * (loader/datapath/edit.h); XW_EDIT_FULL if it cannot. */
struct one_edit {
	const struct xw_rule *add;
	uint32_t del;
};

/* Read the live set, let `edit` change it, apply the result; with `fast`,
 * first as a change of the live generation. */
static int edit_live(int (*edit)(struct xw_ruleset *, void *), void *arg,
		     const struct one_edit *fast)
{
	struct xw_ruleset rs;
	struct xw_dp dp;
	struct xw_err err;
	int rc = xw_open(&dp, true);

	if (rc)
		return rc;
	xw_dp_phase("start, open");
	/* a change on top of a set on trial would be lost by its rollback */
	rc = xw_confirm_guard(&dp, false);
	if (!rc && fast && (rc = xw_dp_edit(&dp, fast->add, fast->del, &err)) != XW_EDIT_FULL) {
		if (rc)
			xw_fail(rc, &err);
		xw_close(&dp, rc);
		return rc;
	}
	if (rc == XW_EDIT_FULL)   /* a whole apply, below */
		rc = 0;
	if (rc) {
		xw_close(&dp, rc);
		return rc;
	}
	rc = xw_dp_read_rules(&dp, &rs, NULL, NULL, &err);
	xw_dp_phase("read live rules");
	if (rc) {
		xw_fail(rc, &err);
		xw_close(&dp, rc);
		return rc;
	}
	rc = edit(&rs, arg);
	if (!rc && (rc = xw_dp_apply(&dp, &rs, &err)) != 0)
		xw_fail(rc, &err);
	xw_ruleset_free(&rs);
	xw_close(&dp, rc);
	xw_dp_phase("close");
	return rc;
}

static int edit_add(struct xw_ruleset *rs, void *arg)
{
	const struct xw_rule *r = arg;

	if (xw_ruleset_add(rs, r))
		return xw_failf(XW_EINPUT, "a rule with priority %u exists already (rule del %u first)",
				r->prio, r->prio);
	return 0;
}

static int edit_del(struct xw_ruleset *rs, void *arg)
{
	uint32_t prio = *(uint32_t *)arg;

	if (xw_ruleset_del(rs, prio))
		return xw_failf(XW_EINPUT, "no rule with priority %u", prio);
	return 0;
}

struct pol { int dir, verdict; };

static int edit_policy(struct xw_ruleset *rs, void *arg)
{
	const struct pol *p = arg;

	rs->policy[p->dir] = (uint8_t)p->verdict;
	rs->has_policy[p->dir] = 1;
	return 0;
}

static int rule_list(bool json)
{
	struct xw_ruleset rs;
	struct xw_dp dp;
	struct xw_err err;
	int rc = xw_open(&dp, false);

	if (rc)
		return rc;
	rc = xw_dp_read_rules(&dp, &rs, NULL, NULL, &err);
	xw_dp_close(&dp);
	if (rc)
		return xw_fail(rc, &err);
	if (json) {
		json_object *o = json_object_new_object(), *p = json_object_new_object();
		json_object *a = json_object_new_array();

		json_object_object_add(p, "in", json_object_new_string(xw_verdict_name(rs.policy[XW_DIR_IN])));
		json_object_object_add(p, "out", json_object_new_string(xw_verdict_name(rs.policy[XW_DIR_OUT])));
		json_object_object_add(o, "policy", p);
		for (size_t i = 0; i < rs.n; i++) {
			json_object *e = json_object_new_object();
			const struct xw_rule *r = &rs.rules[i];

			json_object_object_add(e, "prio", json_object_new_int64(r->prio));
			json_object_object_add(e, "dir", json_object_new_string(r->dir == XW_DIR_OUT ? "out" : "in"));
			json_object_object_add(e, "verdict", json_object_new_string(xw_verdict_name(r->verdict)));
			json_object_object_add(e, "log", json_object_new_boolean(r->log));
			if (r->comment[0])
				json_object_object_add(e, "comment", json_object_new_string(r->comment));
			char *text = xw_rule_text(r);

			if (text)
				json_object_object_add(e, "text", json_object_new_string(text));
			free(text);
			json_object_array_add(a, e);
		}
		json_object_object_add(o, "rules", a);
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		char *t = xw_ruleset_format(&rs);

		fputs(t ? t : "", stdout);
		free(t);
	}
	xw_ruleset_free(&rs);
	return 0;
}

/* Append s to text as a quoted string ('"' and '\\' escaped). */
static void quote_arg(char *text, const char *s)
{
	char *o = text + strlen(text);

	*o++ = '"';
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			*o++ = '\\';
		*o++ = *s;
	}
	*o++ = '"';
	*o = '\0';
}

int cmd_rule(int argc, char **argv)
{
	if (argc < 2)
		return xw_usage("rule", XW_EINPUT);
	if (!strcmp(argv[1], "add")) {
		struct xw_rule r;
		struct xw_err err;
		size_t len = 1;
		char *text;
		int rc;

		if (argc < 3)
			return xw_usage("rule", XW_EINPUT);
		for (int i = 2; i < argc; i++)
			len += 2 * strlen(argv[i]) + 3;
		text = calloc(len, 1);
		if (!text)
			return xw_failf(XW_ESYS, "out of memory");
		for (int i = 2; i < argc; i++) {
			/* `comment "two words"`: the shell took the quotes
			 * off; put them back (as in nft's command line) */
			if (i > 2 && !strcmp(argv[i - 1], "comment") && argv[i][0] != '"')
				quote_arg(text, argv[i]);
			else
				strcat(text, argv[i]);
			if (i + 1 < argc)
				strcat(text, " ");
		}
		rc = xw_parse_rule(text, "<rule>", &r, &err);
		free(text);
		if (rc)
			return xw_fail(XW_EINPUT, &err);
		rc = edit_live(edit_add, &r, &(struct one_edit){ &r, XW_PRIO_NONE });
		xw_rule_free(&r);
		return rc;
	}
	if (!strcmp(argv[1], "del")) {
		char *e;
		unsigned long prio;

		if (argc != 3)
			return xw_usage("rule", XW_EINPUT);
		prio = strtoul(argv[2], &e, 10);
		if (*e || !*argv[2] || prio < XW_PRIO_MIN || prio > XW_PRIO_MAX)
			return xw_failf(XW_EINPUT, "rule del: priority must be %u..%u, got '%s'",
					XW_PRIO_MIN, XW_PRIO_MAX, argv[2]);
		uint32_t p = (uint32_t)prio;

		return edit_live(edit_del, &p, &(struct one_edit){ NULL, p });
	}
	if (!strcmp(argv[1], "list")) {
		if (argc == 2)
			return rule_list(false);
		if (argc == 3 && !strcmp(argv[2], "--json"))
			return rule_list(true);
		return xw_usage("rule", XW_EINPUT);
	}
	return xw_usage("rule", XW_EINPUT);
}

int cmd_policy(int argc, char **argv)
{
	struct pol p = { XW_DIR_IN, -1 };
	int i = 1;

	if (argc == 3) {
		if (!strcmp(argv[1], "in"))
			p.dir = XW_DIR_IN;
		else if (!strcmp(argv[1], "out"))
			p.dir = XW_DIR_OUT;
		else
			return xw_failf(XW_EINPUT, "policy: expected in or out, got '%s'", argv[1]);
		i = 2;
	} else if (argc != 2) {
		return xw_usage("policy", XW_EINPUT);
	}
	p.verdict = xw_verdict_of(argv[i], strlen(argv[i]));
	if (p.verdict < 0 || p.verdict == XW_REJECT)
		return xw_failf(XW_EINPUT, "policy: expected pass, drop or audit, got '%s'", argv[i]);
	return edit_live(edit_policy, &p, NULL);
}
