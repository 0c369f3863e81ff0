// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The rule text of a generation that `rule add|del` changed: the whole
 * apply's text (base) and the changes since, a few lines (edit.h:
 * XW_EDITS_MARK).  A change reads only what it needs of the base (its
 * "#slots" line and a binary search over its rule lines, which are in
 * priority order) and writes only the changes: reading or writing the
 * 7 MB of a 100k-rule text costs ~10 ms each, mostly mapping its pages. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include "edit_text.h"
#include "edit.h"
#include "generation.h"

/* The start of the line after p's, or the text's end. */
static const char *next_line(const char *p)
{
	const char *nl = strchr(p, '\n');

	return nl ? nl + 1 : p + strlen(p);
}

static uint32_t line_prio(const char *line)
{
	return (uint32_t)strtoul(line + 5, NULL, 10);   /* "rule PRIO ..." */
}

/* One change: "-PRIO" or "+SLOT rule PRIO ...". */
struct op {
	uint32_t prio, seq, slot;
	int add;
	const char *line;   /* add: the rule line */
	uint32_t len;
};

/* The changes of ops (lines after the mark), in order; NULL if one is not
 * a change. */
static struct op *parse_ops(const char *ops, uint32_t *n)
{
	size_t cap = 16;
	struct op *v = malloc(cap * sizeof(*v));

	*n = 0;
	if (!v)
		return NULL;
	for (const char *p = ops; *p; ) {
		const char *nl = strchr(p, '\n'), *q;
		char *e;
		struct op o = { 0 };

		if (!nl)
			nl = p + strlen(p);
		o.seq = *n;
		if (*p == '-') {
			o.prio = (uint32_t)strtoul(p + 1, &e, 10);
			if (e != nl)
				goto bad;
		} else if (*p == '+') {
			o.add = 1;
			o.slot = (uint32_t)strtoul(p + 1, &e, 10);
			q = e + 1;
			if (*e != ' ' || nl - q < 5 || memcmp(q, "rule ", 5))
				goto bad;
			o.line = q;
			o.len = (uint32_t)(nl - q);
			o.prio = line_prio(q);
		} else {
			goto bad;
		}
		if (*n == cap) {
			struct op *nv = realloc(v, 2 * cap * sizeof(*v));

			if (!nv)
				goto bad;
			v = nv;
			cap *= 2;
		}
		v[(*n)++] = o;
		p = *nl ? nl + 1 : nl;
	}
	return v;
bad:
	free(v);
	return NULL;
}

static int cmp_op(const void *a, const void *b)
{
	const struct op *x = a, *y = b;

	if (x->prio != y->prio)
		return x->prio < y->prio ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

char *xw_edits_merge(const char *base, const char *edits)
{
	size_t blen = strlen(base), n = 0, k = 0, m = 0, o = 0;
	const char **line = NULL, *p, *body;
	uint32_t *len = NULL, *slot = NULL, nops = 0;
	struct op *ops = NULL;
	char *out = NULL, *e;

	if (strncmp(base, "#slots", 6) || strncmp(edits, XW_EDITS_MARK, strlen(XW_EDITS_MARK)))
		return NULL;
	for (p = base + 6; *p == ' '; p = e, n++) {
		strtoul(p, &e, 10);
		if (e == p)
			break;
	}
	ops = parse_ops(edits + strlen(XW_EDITS_MARK), &nops);
	line = calloc(n + nops + 1, sizeof(*line));
	len = calloc(n + nops + 1, sizeof(*len));
	slot = calloc(n + nops + 1, sizeof(*slot));
	body = strchr(base, '\n');
	if (!ops || !line || !len || !slot || !body ||
	    xw_gen_last_lines(base, blen, n, line, len))
		goto out;
	body++;
	for (p = base + 6, k = 0; k < n; k++, p = e)
		slot[k] = (uint32_t)strtoul(p, &e, 10);
	/* the last change of each priority decides it */
	qsort(ops, nops, sizeof(*ops), cmp_op);
	for (uint32_t i = 0; i < nops; i++)
		if (i + 1 == nops || ops[i + 1].prio != ops[i].prio)
			ops[m++] = ops[i];
	out = malloc(blen + strlen(edits) + 16 * (size_t)nops + 16);
	if (!out)
		goto out;
	{
		/* base's lines and the changes, merged by priority, into
		 * line/len/slot from the end of base's arrays down... kept
		 * simple: a second set of arrays */
		const char **nl = calloc(n + m + 1, sizeof(*nl));
		uint32_t *nlen = calloc(n + m + 1, sizeof(*nlen)), *ns = calloc(n + m + 1, sizeof(*ns));
		size_t c = 0, j = 0, i = 0;
		const char *first = n ? line[0] : base + blen;

		if (!nl || !nlen || !ns) {
			free(nl);
			free(nlen);
			free(ns);
			free(out);
			out = NULL;
			goto out;
		}
		while (i < n || j < m) {
			uint32_t bp = i < n ? line_prio(line[i]) : UINT32_MAX;

			if (j < m && (i == n || ops[j].prio <= bp)) {
				if (ops[j].add) {
					nl[c] = ops[j].line;
					nlen[c] = ops[j].len;
					ns[c++] = ops[j].slot;
				}
				if (i < n && ops[j].prio == bp)
					i++;   /* replaced or deleted */
				j++;
				continue;
			}
			nl[c] = line[i];
			nlen[c] = len[i];
			ns[c++] = slot[i++];
		}
		o = (size_t)sprintf(out, "#slots");
		for (size_t q = 0; q < c; q++)
			o += (size_t)sprintf(out + o, " %u", ns[q]);
		out[o++] = '\n';
		memcpy(out + o, body, (size_t)(first - body));
		o += (size_t)(first - body);
		for (size_t q = 0; q < c; q++) {
			memcpy(out + o, nl[q], nlen[q]);
			o += nlen[q];
			out[o++] = '\n';
		}
		out[o] = '\0';
		free(nl);
		free(nlen);
		free(ns);
	}
out:
	free(ops);
	free(line);
	free(len);
	free(slot);
	return out;
}

/* ---- the live text of a change ---- */

/* The text in slot `slot` of xw_text: mapped, else read. */
static const char *get_text(struct xw_dp *dp, __u32 slot, size_t *maplen, char **copy,
			    const char **end, struct xw_err *err)
{
	size_t tlen = 0;
	const char *t = xw_gen_map_text(dp, slot, maplen, &tlen);

	*copy = NULL;
	if (!t)   /* not mappable (a datapath pinned by an older xwall): read whole */
		t = *copy = slot < 2 ? xw_gen_read_text(dp, slot, err) : NULL;
	else
		*end = t + tlen;
	if (*copy)
		*end = *copy + strlen(*copy);
	return t;
}

static void put_text(const char *t, size_t maplen, char *copy)
{
	if (copy)
		free(copy);
	else if (t)
		munmap((void *)t, maplen);
}

int xw_live_text_open(struct xw_dp *dp, __u32 g, struct xw_live_text *t, struct xw_err *err)
{
	const char *p;
	char *e;
	uint32_t nops = 0;

	memset(t, 0, sizeof(*t));
	const char *raw_end = NULL;

	t->raw = get_text(dp, g, &t->raw_map, &t->raw_copy, &raw_end, err);
	if (!t->raw)
		return XW_EDIT_FULL;
	if (t->raw_copy || strncmp(t->raw, XW_EDITS_MARK, strlen(XW_EDITS_MARK))) {
		t->base = t->raw;   /* a whole text: the apply's, no change yet */
		t->end = raw_end;
		t->base_slot = g;
		t->ops = "";
	} else {
		t->base_slot = 2 + g;
		t->base = get_text(dp, t->base_slot, &t->base_map, &t->base_copy, &t->end, err);
		t->ops = t->raw + strlen(XW_EDITS_MARK);
		if (!t->base)
			return XW_EDIT_FULL;
	}
	if (strncmp(t->base, "#slots", 6))
		return XW_EDIT_FULL;
	t->used = calloc(XW_MAX_RULES, 1);
	if (!t->used)
		return xw_errf(err, XW_ESYS, "out of memory");
	/* the slots base's rules hold, and those changes gave (a deleted
	 * rule's slot is not given again before the next apply) */
	for (p = t->base + 6; *p == ' '; p = e, t->nbase++) {
		unsigned long s = strtoul(p, &e, 10);

		if (e == p)
			break;
		if (s < XW_MAX_RULES)
			t->used[s] = 1;
	}
	t->body = strchr(t->base, '\n');
	if (!t->body)
		return XW_EDIT_FULL;
	t->body++;
	/* the first rule line: policy lines and set blocks come before */
	for (p = t->body; *p && strncmp(p, "rule ", 5); p = next_line(p))
		;
	t->rules = p;
	for (p = t->ops; *p; p = next_line(p)) {
		nops++;
		if (*p == '+') {
			unsigned long s = strtoul(p + 1, NULL, 10);

			if (s < XW_MAX_RULES)
				t->used[s] = 1;
			t->n_adds++;
		}
	}
	t->n_ops = nops;
	return 0;
}

void xw_live_text_close(struct xw_live_text *t)
{
	put_text(t->raw, t->raw_map, t->raw_copy);
	if (t->base != t->raw)
		put_text(t->base, t->base_map, t->base_copy);
	free(t->used);
	memset(t, 0, sizeof(*t));
}

/* The base line of rule prio: a binary search over the bytes of its rule
 * lines (each probe reads from a middle byte to the next line). */
static const char *base_rule(const struct xw_live_text *t, uint32_t prio, uint32_t *len)
{
	const char *lo = t->rules, *hi = t->end;

	/* invariant: lines starting before lo have smaller priorities; the
	 * first line at or after hi (if any) has a priority >= prio */
	while (lo < hi) {
		const char *mid = lo + (hi - lo) / 2, *ls = mid;

		while (ls > t->rules && ls[-1] != '\n')
			ls--;   /* the start of mid's line */
		if (line_prio(ls) < prio) {
			const char *nl = strchr(ls, '\n');

			lo = nl ? nl + 1 : ls + strlen(ls);
		} else {
			hi = ls;
		}
	}
	if (lo >= t->end || strncmp(lo, "rule ", 5) || line_prio(lo) != prio)
		return NULL;
	*len = (uint32_t)strcspn(lo, "\n");
	return lo;
}

const char *xw_live_text_rule(const struct xw_live_text *t, uint32_t prio, uint32_t *len)
{
	const char *found = NULL, *p;
	int state = 0;   /* 1 added (found), 2 deleted, by the last change */

	for (p = t->ops; *p; p = next_line(p)) {
		char *e;

		if (*p == '-' && strtoul(p + 1, NULL, 10) == prio) {
			state = 2;
		} else if (*p == '+') {
			strtoul(p + 1, &e, 10);
			if (*e == ' ' && line_prio(e + 1) == prio) {
				state = 1;
				found = e + 1;
			}
		}
	}
	if (state == 2)
		return NULL;
	if (state == 1) {
		*len = (uint32_t)strcspn(found, "\n");
		return found;
	}
	return base_rule(t, prio, len);
}
