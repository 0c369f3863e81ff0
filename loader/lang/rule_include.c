// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Rule files that include others and define names (docs/rules.md, "Files
 * for a team: include and define"):
 *
 *   include "PATH"        the rules of PATH, or of every file the glob PATH
 *                         matches, in name order; relative to the including
 *                         file's directory.  Nested at most 8 deep; a file
 *                         that includes itself (directly or not) is refused.
 *   define NAME = VALUE   later `$NAME` (in this file and in files included
 *                         after the define) stands for VALUE; a name is
 *                         defined once.  Not inside a "string": there a
 *                         '$' is itself (as in nft).
 *
 * Each file is parsed on its own by xw_parse_text (so messages name the file
 * and line where the problem is), with its include and define lines blanked
 * and $NAMEs substituted; the rule sets are then merged: priorities must be
 * unique over all files, and one policy line per direction.
 */
#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rule.h"
#include "rule_include.h"

#define MAX_DEPTH 8
#define MAX_FILES 4096

struct def {
	char *name, *value;
	char where[96];
};

struct inc {
	struct xw_err *err;
	struct xw_ruleset acc;
	char *stack[MAX_DEPTH + 2];   /* real paths of the files being read */
	int depth;
	struct def *d;
	size_t nd;
	char policy_from[2][96];
	size_t files;
};

static int ferr(struct inc *c, const char *f, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static int ferr(struct inc *c, const char *f, int line, int col, const char *fmt, ...)
{
	char m[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	snprintf(c->err->msg, sizeof(c->err->msg), "%s:%d:%d: %s", f, line, col, m);
	return -1;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (!f)
		return NULL;
	do {
		if (cap - n < 4096) {
			char *nb = realloc(buf, cap = cap * 2 + 65536);

			if (!nb) {
				free(buf);
				fclose(f);
				errno = ENOMEM;
				return NULL;
			}
			buf = nb;
		}
		r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
	} while (r);
	fclose(f);
	buf[n] = 0;
	*len = n;
	return buf;
}

static int process(struct inc *c, const char *text, size_t len, const char *fname, const char *dir);

static int do_include(struct inc *c, const char *fname, int line, int col, const char *dir,
		      const char *pat)
{
	char full[PATH_MAX];
	glob_t g;
	int rc, magic = strpbrk(pat, "*?[") != NULL;

	if (pat[0] == '/' || !dir || !strcmp(dir, "."))
		snprintf(full, sizeof(full), "%s", pat);
	else if (snprintf(full, sizeof(full), "%s/%s", dir, pat) >= (int)sizeof(full))
		return ferr(c, fname, line, col, "include path too long");
	if (c->depth >= MAX_DEPTH)
		return ferr(c, fname, line, col, "includes nested deeper than %d", MAX_DEPTH);
	rc = glob(full, 0, NULL, &g);
	if (rc == GLOB_NOMATCH) {
		globfree(&g);
		if (magic)
			return 0;            /* a pattern may match nothing */
		return ferr(c, fname, line, col, "cannot read '%s': %s", full, strerror(ENOENT));
	}
	if (rc) {
		globfree(&g);
		return ferr(c, fname, line, col, "cannot read '%s': %s", full,
			    rc == GLOB_NOSPACE ? strerror(ENOMEM) : strerror(errno ? errno : EIO));
	}
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *p = g.gl_pathv[i];
		char *real = realpath(p, NULL), *text, *d, *slash;
		size_t tl;
		int r;

		if (!real) {
			ferr(c, fname, line, col, "cannot read '%s': %s", p, strerror(errno));
			globfree(&g);
			return -1;
		}
		for (int k = 0; k < c->depth; k++)
			if (!strcmp(c->stack[k], real)) {
				ferr(c, fname, line, col, "'%s' includes itself (include cycle)", p);
				free(real);
				globfree(&g);
				return -1;
			}
		if (++c->files > MAX_FILES) {
			free(real);
			globfree(&g);
			return ferr(c, fname, line, col, "more than %d included files", MAX_FILES);
		}
		text = slurp(p, &tl);
		if (!text) {
			ferr(c, fname, line, col, "cannot read '%s': %s", p, strerror(errno));
			free(real);
			globfree(&g);
			return -1;
		}
		d = strdup(p);
		slash = d ? strrchr(d, '/') : NULL;
		if (slash)
			*slash = 0;
		c->stack[c->depth++] = real;
		r = process(c, text, tl, p, slash ? d : ".");
		c->depth--;
		free(real);
		free(d);
		free(text);
		if (r) {
			globfree(&g);
			return -1;
		}
	}
	globfree(&g);
	return 0;
}

static int add_def(struct inc *c, const char *fname, int line, const char *s, const char *kw,
		   const char *end)
{
	const char *n = kw, *ne, *v;
	struct def *nd;

	while (n < end && isspace((unsigned char)*n))
		n++;
	ne = n;
	while (ne < end && (isalnum((unsigned char)*ne) || *ne == '_'))
		ne++;
	v = ne;
	while (v < end && isspace((unsigned char)*v))
		v++;
	if (ne == n || isdigit((unsigned char)*n) || v >= end || *v != '=')
		return ferr(c, fname, line, (int)(n - s) + 1, "expected 'define NAME = VALUE'");
	v++;
	while (v < end && isspace((unsigned char)*v))
		v++;
	while (end > v && isspace((unsigned char)end[-1]))
		end--;
	{
		/* a '#' starts a comment, outside a string */
		const char *hash = v;
		int quoted = 0;

		for (; hash < end && (quoted || *hash != '#'); hash++) {
			if (*hash == '"')
				quoted = !quoted;
			else if (*hash == '\\' && quoted && hash + 1 < end)
				hash++;
		}
		end = hash;
		while (end > v && isspace((unsigned char)end[-1]))
			end--;
	}
	if (end == v)
		return ferr(c, fname, line, (int)(v - s) + 1, "define %.*s: the value is missing",
			    (int)(ne - n), n);
	for (size_t i = 0; i < c->nd; i++)
		if (strlen(c->d[i].name) == (size_t)(ne - n) && !strncmp(c->d[i].name, n, (size_t)(ne - n)))
			return ferr(c, fname, line, (int)(n - s) + 1, "'%s' is already defined (%s)",
				    c->d[i].name, c->d[i].where);
	nd = realloc(c->d, (c->nd + 1) * sizeof(*nd));
	if (!nd)
		return ferr(c, fname, line, 1, "out of memory");
	c->d = nd;
	nd = &c->d[c->nd];
	nd->name = strndup(n, (size_t)(ne - n));
	nd->value = strndup(v, (size_t)(end - v));
	snprintf(nd->where, sizeof(nd->where), "%.80s:%d", fname, line);
	if (!nd->name || !nd->value) {
		free(nd->name);
		free(nd->value);
		return ferr(c, fname, line, 1, "out of memory");
	}
	c->nd++;
	return 0;
}

/* Append line [s, e) to out with $NAMEs replaced. */
static int substitute(struct inc *c, const char *fname, int line, const char *s, const char *e,
		      char **out, size_t *len, size_t *cap)
{
	for (const char *p = s; p <= e; p++) {
		const char *add = p;
		size_t al = 1;
		char nl = '\n';

		if (p == e) {
			add = &nl;
		} else if (*p == '#') {     /* a comment: as it is */
			add = p;
			al = (size_t)(e - p);
			p = e - 1;
		} else if (*p == '"') {     /* a string (`comment "..."`): as it is */
			const char *q = p + 1;

			while (q < e && *q != '"')
				q += *q == '\\' && q + 1 < e ? 2 : 1;
			add = p;
			al = (size_t)((q < e ? q + 1 : e) - p);
			p += al - 1;
		} else if (*p == '$') {
			const char *ne = p + 1;
			size_t i;

			while (ne < e && (isalnum((unsigned char)*ne) || *ne == '_'))
				ne++;
			for (i = 0; i < c->nd; i++)
				if (strlen(c->d[i].name) == (size_t)(ne - p - 1) &&
				    !strncmp(c->d[i].name, p + 1, (size_t)(ne - p - 1)))
					break;
			if (i == c->nd)
				return ferr(c, fname, line, (int)(p - s) + 1, "'%.*s' is not defined",
					    (int)(ne - p), p);
			add = c->d[i].value;
			al = strlen(add);
			p = ne - 1;
		}
		if (*len + al + 1 > *cap) {
			size_t ncap = (*cap + al + 1) * 2;
			char *nb = realloc(*out, ncap);

			if (!nb)
				return ferr(c, fname, line, 1, "out of memory");
			*out = nb;
			*cap = ncap;
		}
		memcpy(*out + *len, add, al);
		*len += al;
	}
	return 0;
}

static int merge(struct inc *c, struct xw_ruleset *rs, const char *fname)
{
	for (int d = 0; d < 2; d++) {
		if (!rs->has_policy[d])
			continue;
		if (c->acc.has_policy[d])
			return ferr(c, fname, 1, 1, "a second %spolicy line (the first is in %s)",
				    d ? "'policy out' " : "", c->policy_from[d]);
		c->acc.has_policy[d] = 1;
		c->acc.policy[d] = rs->policy[d];
		snprintf(c->policy_from[d], sizeof(c->policy_from[d]), "%.90s", fname);
	}
	for (size_t i = 0; i < rs->n; i++) {
		const struct xw_rule *r = &rs->rules[i];

		if (xw_ruleset_add(&c->acc, r)) {
			const struct xw_rule *o = NULL;

			for (size_t k = 0; k < c->acc.n; k++)
				if (c->acc.rules[k].prio == r->prio)
					o = &c->acc.rules[k];
			if (!o)
				return ferr(c, fname, r->pos.line, r->pos.col, "out of memory");
			return ferr(c, fname, r->pos.line, r->pos.col, "priority %u is already used (%s:%d)",
				    r->prio, o->pos.file, o->pos.line);
		}
	}
	return 0;
}

static int process(struct inc *c, const char *text, size_t len, const char *fname, const char *dir)
{
	char *out = NULL;
	size_t olen = 0, ocap = 0;
	const char *s = text, *end = text + len;
	struct xw_ruleset rs;
	int line = 0, rc = -1;

	while (s < end) {
		const char *e = memchr(s, '\n', (size_t)(end - s)), *w = s;

		if (!e)
			e = end;
		line++;
		while (w < e && (*w == ' ' || *w == '\t'))
			w++;
		if ((size_t)(e - w) > 8 && !strncmp(w, "include", 7) && isspace((unsigned char)w[7])) {
			const char *q = w + 7, *qe, *after;
			char pat[PATH_MAX];

			while (q < e && isspace((unsigned char)*q))
				q++;
			qe = q < e && *q == '"' ? memchr(q + 1, '"', (size_t)(e - q - 1)) : NULL;
			if (!qe) {
				ferr(c, fname, line, (int)(q - s) + 1, "expected include \"PATH\"");
				goto out;
			}
			for (after = qe + 1; after < e && isspace((unsigned char)*after); after++)
				;
			if (after < e && *after != '#') {
				ferr(c, fname, line, (int)(after - s) + 1, "unexpected text after include \"PATH\"");
				goto out;
			}
			if ((size_t)(qe - q - 1) >= sizeof(pat) || qe == q + 1) {
				ferr(c, fname, line, (int)(q - s) + 1, "bad include path");
				goto out;
			}
			memcpy(pat, q + 1, (size_t)(qe - q - 1));
			pat[qe - q - 1] = 0;
			if (do_include(c, fname, line, (int)(q - s) + 1, dir, pat))
				goto out;
			if (substitute(c, fname, line, e, e, &out, &olen, &ocap))
				goto out;
		} else if ((size_t)(e - w) > 7 && !strncmp(w, "define", 6) && isspace((unsigned char)w[6])) {
			if (add_def(c, fname, line, s, w + 6, e) ||
			    substitute(c, fname, line, e, e, &out, &olen, &ocap))
				goto out;
		} else if (substitute(c, fname, line, s, e, &out, &olen, &ocap)) {
			goto out;
		}
		s = e + 1;
	}
	if (xw_parse_text(out ? out : "", olen, fname, &rs, c->err))
		goto out;
	rc = merge(c, &rs, fname);
	xw_ruleset_free(&rs);
out:
	free(out);
	return rc;
}

static bool uses_tree(const char *text, size_t len)
{
	/* only files with include or define lines take the long way */
	for (size_t i = 0; i < len; i++) {
		const char *w;

		while (i < len && (text[i] == ' ' || text[i] == '\t'))
			i++;
		w = text + i;
		if ((len - i > 7 && !strncmp(w, "include", 7) && isspace((unsigned char)w[7])) ||
		    (len - i > 6 && !strncmp(w, "define", 6) && isspace((unsigned char)w[6])))
			return true;
		while (i < len && text[i] != '\n')
			i++;
	}
	return false;
}

int xw_parse_tree(const char *text, size_t len, const char *fname, struct xw_ruleset *rs,
		  struct xw_err *err)
{
	struct inc c = { .err = err };
	char *d, *slash, *real;
	int rc;

	if (!uses_tree(text, len))
		return xw_parse_text(text, len, fname, rs, err);
	xw_ruleset_init(&c.acc);
	d = strdup(fname);
	slash = d ? strrchr(d, '/') : NULL;
	if (slash)
		*slash = 0;
	real = realpath(fname, NULL);
	if (real)
		c.stack[c.depth++] = real;
	rc = process(&c, text, len, fname, slash ? d : ".");
	free(real);
	free(d);
	for (size_t i = 0; i < c.nd; i++) {
		free(c.d[i].name);
		free(c.d[i].value);
	}
	free(c.d);
	if (rc) {
		xw_ruleset_free(&c.acc);
		xw_ruleset_init(rs);
		return -1;
	}
	*rs = c.acc;
	return 0;
}
