// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Rule set containers: init, free, deep copy, sorted add and delete. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rule.h"
#include "xwall.h"

void xw_ruleset_init(struct xw_ruleset *rs)
{
	memset(rs, 0, sizeof(*rs));
	rs->policy[XW_DIR_IN] = XW_PASS;
	rs->policy[XW_DIR_OUT] = XW_PASS;
}

void xw_rule_free(struct xw_rule *r)
{
	free(r->src);
	free(r->dst);
	free(r->sport);
	free(r->dport);
	free(r->icmp_type);
	free(r->icmp_code);
	r->src = r->dst = NULL;
	r->sport = r->dport = r->icmp_type = r->icmp_code = NULL;
	r->n_src = r->n_dst = r->n_sport = r->n_dport = 0;
	r->n_icmp_type = r->n_icmp_code = 0;
}

void xw_ruleset_free(struct xw_ruleset *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		xw_rule_free(&rs->rules[i]);
	free(rs->rules);
	for (size_t i = 0; i < rs->n_sets; i++)
		free(rs->sets[i].elems);
	free(rs->sets);
	xw_ruleset_init(rs);
}

/* Duplicate n elements of size sz; NULL for n == 0 (sets *fail on ENOMEM). */
static void *dup_array(const void *a, size_t n, size_t sz, int *fail)
{
	void *d;

	if (!n || !a)
		return NULL;
	d = malloc(n * sz);
	if (!d) {
		*fail = 1;
		return NULL;
	}
	memcpy(d, a, n * sz);
	return d;
}

int xw_rule_copy(struct xw_rule *dst, const struct xw_rule *src)
{
	int fail = 0;

	*dst = *src;
	dst->src = dup_array(src->src, src->n_src, sizeof(*src->src), &fail);
	dst->dst = dup_array(src->dst, src->n_dst, sizeof(*src->dst), &fail);
	dst->sport = dup_array(src->sport, src->n_sport, sizeof(*src->sport), &fail);
	dst->dport = dup_array(src->dport, src->n_dport, sizeof(*src->dport), &fail);
	dst->icmp_type = dup_array(src->icmp_type, src->n_icmp_type,
				   sizeof(*src->icmp_type), &fail);
	dst->icmp_code = dup_array(src->icmp_code, src->n_icmp_code,
				   sizeof(*src->icmp_code), &fail);
	if (fail) {
		xw_rule_free(dst);
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

/* Index of the first rule with prio >= prio (rules are sorted). */
static size_t lower_bound(const struct xw_ruleset *rs, uint32_t prio)
{
	size_t lo = 0, hi = rs->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (rs->rules[mid].prio < prio)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int xw_ruleset_add(struct xw_ruleset *rs, const struct xw_rule *r)
{
	size_t at = lower_bound(rs, r->prio);

	if (at < rs->n && rs->rules[at].prio == r->prio) {
		errno = EEXIST;
		return -1;
	}
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 16;
		struct xw_rule *n = realloc(rs->rules, cap * sizeof(*n));

		if (!n)
			return -1;
		rs->rules = n;
		rs->cap = cap;
	}
	memmove(&rs->rules[at + 1], &rs->rules[at], (rs->n - at) * sizeof(*rs->rules));
	if (xw_rule_copy(&rs->rules[at], r)) {
		memmove(&rs->rules[at], &rs->rules[at + 1], (rs->n - at) * sizeof(*rs->rules));
		return -1;
	}
	rs->n++;
	return 0;
}

int xw_ruleset_del(struct xw_ruleset *rs, uint32_t prio)
{
	size_t at = lower_bound(rs, prio);

	if (at >= rs->n || rs->rules[at].prio != prio) {
		errno = ENOENT;
		return -1;
	}
	xw_rule_free(&rs->rules[at]);
	rs->n--;
	memmove(&rs->rules[at], &rs->rules[at + 1], (rs->n - at) * sizeof(*rs->rules));
	return 0;
}
