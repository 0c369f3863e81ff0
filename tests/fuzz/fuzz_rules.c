// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* libFuzzer harness for the rule language: parser, formatter, rule set
 * operations and the compiler (loader/rule*.c, loader/compile/compile.c).
 *
 * For every input:
 *   - xw_parse_text() must either fail with a "FILE:LINE:COL: ..." message or
 *     succeed with rules sorted by unique priority;
 *   - what parses is formatted, the text must parse again into equal rules
 *     (field by field) and format to the same text (the round trip);
 *   - each rule also goes through xw_rule_text / xw_rule_format /
 *     xw_parse_rule and xw_ruleset_add / xw_ruleset_del;
 *   - the rule set is compiled (unless its cross product of list values is
 *     too large to be quick) and the output's invariants are checked;
 *   - the bytes up to the first NUL are also given to xw_parse_rule, and
 *     (for every 8th length, to keep it cheap) the bytes to xw_parse_file.
 * Any violated property aborts, which libFuzzer reports as a crash.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "rule.h"
#include "xwall.h"

#define FNAME "fuzz"
/* Entries the compiler may produce before the harness skips compiling
 * (xw_compile itself allows 16M, which is gigabytes and seconds). */
#define COMPILE_MAX_ENTRIES 20000u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz_rules: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* An error message must be set, terminated, and start with "FILE:". */
static void check_err(const struct xw_err *err, const char *what)
{
	if (!memchr(err->msg, '\0', sizeof(err->msg)))
		die("%s: error message not terminated", what);
	if (strncmp(err->msg, FNAME ":", strlen(FNAME ":")) != 0)
		die("%s: error message without position: '%s'", what, err->msg);
}

static int ranges_eq(const struct xw_range *a, size_t na, const struct xw_range *b, size_t nb)
{
	if (na != nb)
		return 0;
	for (size_t i = 0; i < na; i++)
		if (a[i].lo != b[i].lo || a[i].hi != b[i].hi)
			return 0;
	return 1;
}

static int cidrs_eq(const struct xw_cidr *a, size_t na, const struct xw_cidr *b, size_t nb)
{
	if (na != nb)
		return 0;
	for (size_t i = 0; i < na; i++)
		if (a[i].family != b[i].family || a[i].plen != b[i].plen ||
		    memcmp(a[i].addr, b[i].addr, sizeof(a[i].addr)))
			return 0;
	return 1;
}

/* Every field of a rule but its position (which names the line it came from). */
static const char *rule_diff(const struct xw_rule *a, const struct xw_rule *b)
{
	if (a->prio != b->prio)
		return "prio";
	if (a->dir != b->dir)
		return "dir";
	if (a->verdict != b->verdict)
		return "verdict";
	if (a->log != b->log)
		return "log";
	if (a->present != b->present)
		return "present";
	if (memcmp(a->iif, b->iif, sizeof(a->iif)))
		return "iif";
	if (memcmp(a->eth_src, b->eth_src, 6) || memcmp(a->eth_dst, b->eth_dst, 6))
		return "ether src/dst";
	if (a->eth_type != b->eth_type)
		return "ether type";
	if (a->vlan != b->vlan)
		return "vlan";
	if (a->proto != b->proto)
		return "proto";
	if (!cidrs_eq(a->src, a->n_src, b->src, b->n_src))
		return "src";
	if (!cidrs_eq(a->dst, a->n_dst, b->dst, b->n_dst))
		return "dst";
	if (!ranges_eq(a->sport, a->n_sport, b->sport, b->n_sport))
		return "sport";
	if (!ranges_eq(a->dport, a->n_dport, b->dport, b->n_dport))
		return "dport";
	if (a->tcp_flags != b->tcp_flags || a->tcp_mask != b->tcp_mask)
		return "tcp flags";
	if (!ranges_eq(a->icmp_type, a->n_icmp_type, b->icmp_type, b->n_icmp_type))
		return "icmp type";
	if (!ranges_eq(a->icmp_code, a->n_icmp_code, b->icmp_code, b->n_icmp_code))
		return "icmp code";
	if (a->frag != b->frag)
		return "frag";
	if (a->ct != b->ct)
		return "ct";
	if (a->limit_rate != b->limit_rate || a->limit_period != b->limit_period ||
	    a->limit_burst != b->limit_burst || a->limit_per_src != b->limit_per_src)
		return "limit";
	if (strcmp(a->comment, b->comment))
		return "comment";
	return NULL;
}

static void check_sets_equal(const struct xw_ruleset *a, const struct xw_ruleset *b,
			     const char *text)
{
	if (a->policy[XW_DIR_IN] != b->policy[XW_DIR_IN] ||
	    a->policy[XW_DIR_OUT] != b->policy[XW_DIR_OUT])
		die("round trip changed the policy:\n%s", text);
	if (a->n != b->n)
		die("round trip changed the rule count %zu -> %zu:\n%s", a->n, b->n, text);
	for (size_t i = 0; i < a->n; i++) {
		const char *d = rule_diff(&a->rules[i], &b->rules[i]);

		if (d)
			die("round trip changed '%s' of rule %u:\n%s", d, a->rules[i].prio, text);
	}
}

/* Parsed rules: sorted, unique priorities in range, lists present iff non-empty. */
static void check_parsed(const struct xw_ruleset *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		const struct xw_rule *r = &rs->rules[i];

		if (r->prio < XW_PRIO_MIN || r->prio > XW_PRIO_MAX)
			die("rule priority %u out of range", r->prio);
		if (i && rs->rules[i - 1].prio >= r->prio)
			die("rules not sorted by unique priority (%u, %u)",
			    rs->rules[i - 1].prio, r->prio);
		if (!(r->present & XM_SRC) != !r->n_src || !(r->present & XM_DST) != !r->n_dst ||
		    !(r->present & XM_SPORT) != !r->n_sport ||
		    !(r->present & XM_DPORT) != !r->n_dport ||
		    !(r->present & (XM_ICMP | XM_ICMP6)) != !r->n_icmp_type)
			die("rule %u: list present without values or values without match", r->prio);
		if ((r->present & XM_TCPFLAGS) && (r->tcp_flags & ~r->tcp_mask))
			die("rule %u: tcp flags outside the mask", r->prio);
		if (r->dir > XW_DIR_OUT || r->verdict >= XW_VERDICT_MAX)
			die("rule %u: bad direction or verdict", r->prio);
		if (strnlen(r->comment, sizeof(r->comment)) > XW_COMMENT_MAX)
			die("rule %u: comment not terminated within %d bytes", r->prio, XW_COMMENT_MAX);
		for (const char *c = r->comment; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				die("rule %u: control character in the comment", r->prio);
	}
}

/* Per rule: text, buffer formatting and xw_parse_rule give the same rule. */
static void check_rule_text(const struct xw_rule *r)
{
	struct xw_rule back;
	struct xw_err err;
	char *t = xw_rule_text(r), *buf;
	const char *d;
	size_t n;

	if (!t)
		die("xw_rule_text failed");
	n = strlen(t);
	buf = malloc(n + 1);
	if (!buf)
		die("out of memory");
	if (xw_rule_format(r, buf, n + 1) != (int)n || strcmp(buf, t))
		die("xw_rule_format differs from xw_rule_text: '%s'", t);
	if (xw_rule_format(r, buf, n) != -1 || buf[0] != '\0')
		die("xw_rule_format into a short buffer did not fail cleanly");
	free(buf);
	/* without the leading "rule" keyword, as `xwall rule add` gets it */
	if (xw_parse_rule(t + strlen("rule "), FNAME, &back, &err)) {
		check_err(&err, "xw_parse_rule");
		die("formatted rule does not parse: %s\n%s", err.msg, t);
	}
	d = rule_diff(r, &back);
	if (d)
		die("xw_parse_rule round trip changed '%s':\n%s", d, t);
	xw_rule_free(&back);
	free(t);
}

/* Rebuild the set with xw_ruleset_add (reverse order) and take it apart again. */
static void check_add_del(const struct xw_ruleset *rs, const char *text)
{
	struct xw_ruleset b;
	char *t;

	xw_ruleset_init(&b);
	b.policy[XW_DIR_IN] = rs->policy[XW_DIR_IN];
	b.policy[XW_DIR_OUT] = rs->policy[XW_DIR_OUT];
	for (size_t i = rs->n; i-- > 0;)
		if (xw_ruleset_add(&b, &rs->rules[i]))
			die("xw_ruleset_add failed for rule %u", rs->rules[i].prio);
	if (rs->n && xw_ruleset_add(&b, &rs->rules[0]) == 0)
		die("xw_ruleset_add accepted a duplicate priority %u", rs->rules[0].prio);
	t = xw_ruleset_format(&b);
	if (!t || strcmp(t, text))
		die("xw_ruleset_add built a different set:\n%s\n---\n%s", text, t ? t : "(null)");
	free(t);
	for (size_t i = 0; i < rs->n; i++) {
		/* from the middle, the front and the end in turn */
		size_t k = i % 3 == 0 ? b.n / 2 : i % 3 == 1 ? 0 : b.n - 1;

		if (xw_ruleset_del(&b, b.rules[k].prio))
			die("xw_ruleset_del failed");
	}
	if (b.n || xw_ruleset_del(&b, 1) == 0)
		die("xw_ruleset_del left rules or deleted from an empty set");
	xw_ruleset_free(&b);
}

/* Multiply with saturation at limit + 1. */
static uint64_t mul_sat(uint64_t a, uint64_t b, uint64_t limit)
{
	if (a && b > (limit + 1) / a)
		return limit + 1;
	return a * b > limit ? limit + 1 : a * b;
}

static uint64_t range_count(const struct xw_range *r, size_t n, int bits)
{
	uint32_t v[32], m[32];
	uint64_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += (uint64_t)xw_range_prefixes(r[i].lo, r[i].hi, bits, v, m);
	return c;
}

/* How many entries xw_compile will make (the cross product of each rule's
 * alternatives, as compile_rule() enumerates them), saturated. */
static uint64_t expansion(const struct xw_ruleset *rs, uint64_t limit)
{
	uint64_t total = 0;

	for (size_t i = 0; i < rs->n && total <= limit; i++) {
		const struct xw_rule *r = &rs->rules[i];
		uint64_t e = 1;

		if (r->present & XM_SRC)
			e = mul_sat(e, r->n_src, limit);
		if (r->present & XM_DST)
			e = mul_sat(e, r->n_dst, limit);
		if (r->present & XM_SPORT)
			e = mul_sat(e, range_count(r->sport, r->n_sport, 16), limit);
		if (r->present & XM_DPORT)
			e = mul_sat(e, range_count(r->dport, r->n_dport, 16), limit);
		if (r->present & (XM_ICMP | XM_ICMP6)) {
			e = mul_sat(e, range_count(r->icmp_type, r->n_icmp_type, 8), limit);
			if (r->n_icmp_code)
				e = mul_sat(e, range_count(r->icmp_code, r->n_icmp_code, 8), limit);
		}
		if ((r->present & XM_FRAG) && r->frag == XW_FRAG_ANY)
			e = mul_sat(e, 2, limit);
		if (r->present & XM_CT)
			e = mul_sat(e, (uint64_t)__builtin_popcount(r->ct), limit);
		total += e;
	}
	return total;
}

static void check_compile(const struct xw_ruleset *rs, int with_ifindex)
{
	struct xw_compiled c;
	struct xw_err err;
	uint32_t *slot, *ifx;
	size_t per_class = 0;
	int rc;

	if (expansion(rs, COMPILE_MAX_ENTRIES) > COMPILE_MAX_ENTRIES)
		return;
	slot = calloc(rs->n + 1, sizeof(*slot));
	ifx = calloc(rs->n + 1, sizeof(*ifx));
	if (!slot || !ifx)
		die("out of memory");
	for (size_t i = 0; i < rs->n; i++) {
		slot[i] = (uint32_t)i;
		ifx[i] = (uint32_t)(i % 3) + 1;
	}
	memset(err.msg, 0, sizeof(err.msg));
	rc = xw_compile(rs, slot, with_ifindex ? ifx : NULL, &c, &err);
	free(slot);
	free(ifx);
	if (rc) {
		/* only the documented limits may refuse a set */
		if (!err.msg[0] || !memchr(err.msg, '\0', sizeof(err.msg)))
			die("xw_compile failed without a message");
		if (!strstr(err.msg, "limit") && !strstr(err.msg, "match shapes"))
			die("xw_compile failed: %s", err.msg);
		return;
	}
	if (!c.tuples || c.tuples[c.n_tuples].min_prio != XW_PRIO_NONE)   /* no mask limit now */
		die("compiled tuples: bad count or sentinel");
	if (c.tuples[c.n_tuples].policy[XW_DIR_IN] != rs->policy[XW_DIR_IN] ||
	    c.tuples[c.n_tuples].policy[XW_DIR_OUT] != rs->policy[XW_DIR_OUT])
		die("compiled sentinel lost the policy");
	for (uint32_t t = 1; t < c.n_tuples; t++)
		if (c.tuples[t - 1].min_prio > c.tuples[t].min_prio)
			die("compiled tuples not ordered by priority");
	for (size_t i = 0; i < c.n_entries; i++) {
		const struct xw_tuple *t;

		if (c.keys[i].tuple >= c.n_tuples)
			die("compiled entry names tuple %u of %u", c.keys[i].tuple, c.n_tuples);
		t = &c.tuples[c.keys[i].tuple];
		if (c.vals[i].prio < t->min_prio)
			die("compiled entry better than its tuple's min_prio");
		if (t->cls >= XW_KEY_CLASSES || t->nw > XW_CLASS_WORDS(t->cls))
			die("compiled tuple with a bad key class");
	}
	for (int k = 0; k < XW_KEY_CLASSES; k++)
		per_class += c.cls[k].n;
	if (per_class != c.n_entries)
		die("compiled class split lost entries (%zu of %zu)", per_class, c.n_entries);
	if (c.n_limits > XW_MAX_LIMIT_ENTRIES)
		die("compiled %u limit entries", c.n_limits);
	xw_compiled_free(&c);
}

/* The bytes up to the first NUL as one `xwall rule add` argument. */
static void check_parse_rule(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct xw_rule r;
	struct xw_err err;

	if (!s)
		die("out of memory");
	memcpy(s, data, size);
	s[size] = '\0';
	if (xw_parse_rule(s, FNAME, &r, &err)) {
		check_err(&err, "xw_parse_rule");
	} else {
		if (r.prio < XW_PRIO_MIN || r.prio > XW_PRIO_MAX)
			die("xw_parse_rule: priority %u out of range", r.prio);
		check_rule_text(&r);
		xw_rule_free(&r);
	}
	free(s);
}

/* xw_parse_file() on the same bytes must give what xw_parse_text() gave. */
static void check_parse_file(const uint8_t *data, size_t size, const char *text)
{
	struct xw_ruleset rs;
	struct xw_err err;
	FILE *f;
	char *t;

	if (!size)
		return;
	f = fmemopen((void *)data, size, "r");
	if (!f)
		die("fmemopen failed");
	if (xw_parse_file(f, FNAME, &rs, &err)) {
		check_err(&err, "xw_parse_file");
		if (text)
			die("xw_parse_file failed where xw_parse_text did not: %s", err.msg);
	} else {
		t = xw_ruleset_format(&rs);
		if (!text || !t || strcmp(t, text))
			die("xw_parse_file and xw_parse_text differ");
		free(t);
		xw_ruleset_free(&rs);
	}
	fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xw_ruleset rs, back;
	struct xw_err err;
	char *t1, *t2;

	check_parse_rule(data, size);

	memset(err.msg, 0x55, sizeof(err.msg));
	if (xw_parse_text((const char *)data, size, FNAME, &rs, &err)) {
		check_err(&err, "xw_parse_text");
		if (rs.n || rs.rules)
			die("failed parse left rules behind");
		if (size % 8 == 0)
			check_parse_file(data, size, NULL);
		return 0;
	}
	check_parsed(&rs);

	t1 = xw_ruleset_format(&rs);
	if (!t1)
		die("xw_ruleset_format failed");
	if (xw_parse_text(t1, strlen(t1), FNAME, &back, &err)) {
		check_err(&err, "xw_parse_text");
		die("formatted rule set does not parse: %s\n%s", err.msg, t1);
	}
	check_sets_equal(&rs, &back, t1);
	t2 = xw_ruleset_format(&back);
	if (!t2 || strcmp(t1, t2))
		die("format(parse(format(x))) != format(x):\n%s\n---\n%s", t1, t2 ? t2 : "(null)");

	for (size_t i = 0; i < rs.n; i++)
		check_rule_text(&rs.rules[i]);
	check_add_del(&rs, t1);
	check_compile(&rs, size & 1);
	if (size % 8 == 0)
		check_parse_file(data, size, t1);

	free(t1);
	free(t2);
	xw_ruleset_free(&back);
	xw_ruleset_free(&rs);
	return 0;
}
