// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* nftables front end of the import: the ruleset as `nft list ruleset` prints
 * it (tables holding chains and sets; `define`, `flush ruleset`), or as
 * `nft -j list ruleset` prints it.  Text is read here, with its positions,
 * since libnftables turns text into JSON only through the kernel (it must add
 * the ruleset to list it back).  JSON expressions are turned back into the
 * statements of the text syntax, so both go through one translation
 * (import.c).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "import.h"

struct lt {                     /* a lexical token */
	char *s;
	int line, col;
	bool quoted, eol;
};

struct lex {
	struct lt *t;
	size_t n, cap, i;
	const char *fname;
	struct xw_err *err;
	/* defines */
	char **dname;
	struct lt **dval;
	size_t *dlen, nd;
};

static int lerr(struct lex *x, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int lerr(struct lex *x, int line, int col, const char *fmt, ...)
{
	char m[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	snprintf(x->err->msg, sizeof(x->err->msg), "%s:%d:%d: %s", x->fname, line, col, m);
	return -1;
}

static int push(struct lex *x, const char *s, size_t len, int line, int col, bool q, bool eol)
{
	if (x->n == x->cap) {
		size_t nc = x->cap ? x->cap * 2 : 256;
		struct lt *nt = realloc(x->t, nc * sizeof(*nt));

		if (!nt)
			return -1;
		x->t = nt;
		x->cap = nc;
	}
	x->t[x->n].s = strndup(s, len);
	if (!x->t[x->n].s)
		return -1;
	x->t[x->n].line = line;
	x->t[x->n].col = col;
	x->t[x->n].quoted = q;
	x->t[x->n].eol = eol;
	x->n++;
	return 0;
}

static void lex_free(struct lex *x)
{
	for (size_t i = 0; i < x->n; i++)
		free(x->t[i].s);
	free(x->t);
	for (size_t i = 0; i < x->nd; i++) {
		free(x->dname[i]);
		for (size_t k = 0; k < x->dlen[i]; k++)
			free(x->dval[i][k].s);
		free(x->dval[i]);
	}
	free(x->dname);
	free(x->dval);
	free(x->dlen);
}

static int lex(struct lex *x, const char *s, size_t len)
{
	int line = 1;
	const char *bol = s, *end = s + len;

	for (const char *p = s; p < end;) {
		int col = (int)(p - bol) + 1;

		if (*p == '\\' && p + 1 < end && p[1] == '\n') {
			p += 2;
			line++;
			bol = p;
		} else if (*p == '\n' || *p == ';') {
			if (push(x, ";", 1, line, col, false, true))
				return -1;
			if (*p == '\n') {
				line++;
				bol = p + 1;
			}
			p++;
		} else if (isspace((unsigned char)*p)) {
			p++;
		} else if (*p == '#') {
			while (p < end && *p != '\n')
				p++;
		} else if (*p == '"') {
			const char *q = p + 1;

			while (q < end && *q != '"' && *q != '\n')
				q++;
			if (q >= end || *q != '"')
				return lerr(x, line, col, "unterminated string");
			if (push(x, p + 1, (size_t)(q - p - 1), line, col, true, false))
				return -1;
			p = q + 1;
		} else if (strchr("{},()&|", *p)) {
			if (push(x, p, 1, line, col, false, false))
				return -1;
			p++;
		} else {
			const char *q = p;

			while (q < end && !isspace((unsigned char)*q) && !strchr("{},;()&|#\"", *q))
				q++;
			if (push(x, p, (size_t)(q - p), line, col, false, false))
				return -1;
			p = q;
		}
	}
	return push(x, ";", 1, line, 1, false, true);
}

static struct lt *peekt(struct lex *x)
{
	return x->i < x->n ? &x->t[x->i] : NULL;
}

static bool lis(const struct lt *t, const char *s)
{
	return t && !t->quoted && !t->eol && !strcmp(t->s, s);
}

static void skip_eol(struct lex *x)
{
	while (x->i < x->n && x->t[x->i].eol)
		x->i++;
}

/* Add one token to rule r, expanding $defines. */
static int rule_tok(struct lex *x, struct imp_rule *r, const struct lt *t)
{
	if (!t->quoted && t->s[0] == '$') {
		for (size_t d = 0; d < x->nd; d++)
			if (!strcmp(x->dname[d], t->s + 1)) {
				for (size_t k = 0; k < x->dlen[d]; k++)
					if (imp_tok_add(r, x->dval[d][k].s, strlen(x->dval[d][k].s), t->line,
							t->col, x->dval[d][k].quoted))
						return -1;
				return 0;
			}
		return lerr(x, t->line, t->col, "'%s' is not defined", t->s);
	}
	return imp_tok_add(r, t->s, strlen(t->s), t->line, t->col, t->quoted);
}

static int family_of(const char *s)
{
	if (!strcmp(s, "inet"))
		return IMP_FAM_INET;
	if (!strcmp(s, "ip"))
		return IMP_FAM_IP;
	if (!strcmp(s, "ip6"))
		return IMP_FAM_IP6;
	if (!strcmp(s, "netdev"))
		return IMP_FAM_NETDEV;
	return IMP_FAM_OTHER;
}

static int hook_of(const char *s)
{
	static const char *const n[] = { "none", "input", "forward", "prerouting", "ingress",
		"output", "postrouting" };
	for (int i = 1; i < 7; i++)
		if (!strcmp(s, n[i]))
			return i;
	return IMP_HOOK_OTHER;
}

/* Tokens to the end of the statement (braces may span lines). */
static int statement(struct lex *x, struct imp_rule *r)
{
	int depth = 0;

	for (struct lt *t; (t = peekt(x)); x->i++) {
		if (t->eol && !depth)
			break;
		if (t->eol)
			continue;
		if (lis(t, "{"))
			depth++;
		if (lis(t, "}")) {
			if (!depth)
				break;
			depth--;
		}
		if (rule_tok(x, r, t))
			return -1;
	}
	return 0;
}

static int parse_set(struct lex *x, struct imp_ruleset *rs, const char *table, int fam,
		     const struct lt *name)
{
	struct imp_set *ns = realloc(rs->s, (rs->ns + 1) * sizeof(*ns)), *s;
	struct imp_rule tmp = { 0 };

	if (!ns)
		return -1;
	rs->s = ns;
	s = &rs->s[rs->ns++];
	memset(s, 0, sizeof(*s));
	s->table = strdup(table);
	s->name = strdup(name->s);
	s->family = fam;
	s->line = name->line;
	if (!lis(peekt(x), "{"))
		return lerr(x, name->line, name->col, "'{' expected after set %s", name->s);
	x->i++;
	for (;;) {
		struct lt *t;

		skip_eol(x);
		t = peekt(x);
		if (!t)
			return lerr(x, name->line, name->col, "set %s: '}' missing", name->s);
		if (lis(t, "}")) {
			x->i++;
			break;
		}
		tmp.nt = 0;
		if (statement(x, &tmp))
			return -1;
		if (tmp.nt >= 1 && !strcmp(tmp.t[0].s, "flags")) {
			for (size_t k = 1; k < tmp.nt; k++)
				if (!strcmp(tmp.t[k].s, "timeout") || !strcmp(tmp.t[k].s, "dynamic"))
					s->dynamic = true;
		} else if (tmp.nt >= 1 && !strcmp(tmp.t[0].s, "elements")) {
			for (size_t k = 1; k < tmp.nt; k++) {
				struct imp_tok *e;

				if (!strcmp(tmp.t[k].s, "=") || !strcmp(tmp.t[k].s, "{") ||
				    !strcmp(tmp.t[k].s, "}") || !strcmp(tmp.t[k].s, ","))
					continue;
				if (!strcmp(tmp.t[k].s, "timeout") || !strcmp(tmp.t[k].s, "expires")) {
					s->dynamic = true;
					k++;
					continue;
				}
				e = realloc(s->el, (s->nel + 1) * sizeof(*e));
				if (!e)
					return -1;
				s->el = e;
				s->el[s->nel] = tmp.t[k];
				s->el[s->nel].s = strdup(tmp.t[k].s);
				s->nel++;
			}
		}
		for (size_t k = 0; k < tmp.nt; k++)
			free(tmp.t[k].s);
	}
	free(tmp.t);
	return 0;
}

static int parse_chain(struct lex *x, struct imp_ruleset *rs, const char *table, int fam,
		       const struct lt *name)
{
	struct imp_chain *c = imp_chain_add(rs, table, name->s, fam, name->line);

	if (!c)
		return -1;
	if (!lis(peekt(x), "{"))
		return lerr(x, name->line, name->col, "'{' expected after chain %s", name->s);
	x->i++;
	for (;;) {
		struct lt *t;
		struct imp_rule *r;

		skip_eol(x);
		t = peekt(x);
		if (!t)
			return lerr(x, name->line, name->col, "chain %s: '}' missing", name->s);
		if (lis(t, "}")) {
			x->i++;
			return 0;
		}
		if (lis(t, "type")) {
			struct imp_rule tmp = { 0 };
			int rc = 0;

			if (statement(x, &tmp))
				return -1;
			c->base = true;
			for (size_t k = 0; k + 1 < tmp.nt; k++) {
				if (!strcmp(tmp.t[k].s, "type") && !c->type)
					c->type = strdup(tmp.t[k + 1].s);
				if (!strcmp(tmp.t[k].s, "hook"))
					c->hook = hook_of(tmp.t[k + 1].s);
				if (!strcmp(tmp.t[k].s, "device"))
					rc = lerr(x, tmp.t[k].line, tmp.t[k].col, "chain %s: 'device': "
						  "xwall attaches with 'xwall attach DEV'; import the "
						  "rules without it", name->s);
			}
			for (size_t k = 0; k < tmp.nt; k++)
				free(tmp.t[k].s);
			free(tmp.t);
			if (rc)
				return rc;
			continue;
		}
		if (lis(t, "policy")) {
			x->i++;
			t = peekt(x);
			if (lis(t, "accept"))
				c->policy = IMP_V_ACCEPT;
			else if (lis(t, "drop"))
				c->policy = IMP_V_DROP;
			else
				return lerr(x, t ? t->line : 0, t ? t->col : 0, "policy accept or drop expected");
			x->i++;
			continue;
		}
		if (lis(t, "comment")) {
			x->i += 2;
			continue;
		}
		r = imp_rule_add(c, t->line, t->col);
		if (!r || statement(x, r))
			return -1;
	}
}

static int parse_table(struct lex *x, struct imp_ruleset *rs)
{
	struct lt *ft = peekt(x), *nt;
	int fam;

	if (!ft || ft->eol)
		return lerr(x, x->t[x->i - 1].line, x->t[x->i - 1].col, "table family and name expected");
	nt = x->i + 1 < x->n ? &x->t[x->i + 1] : NULL;
	if (lis(nt, "{") || !nt || nt->eol) {   /* family omitted: ip */
		nt = ft;
		fam = IMP_FAM_IP;
		x->i++;
	} else {
		fam = family_of(ft->s);
		x->i += 2;
	}
	if (!lis(peekt(x), "{"))
		return lerr(x, nt->line, nt->col, "'{' expected after table %s", nt->s);
	x->i++;
	for (;;) {
		struct lt *t, *n;

		skip_eol(x);
		t = peekt(x);
		if (!t)
			return lerr(x, nt->line, nt->col, "table %s: '}' missing", nt->s);
		if (lis(t, "}")) {
			x->i++;
			return 0;
		}
		x->i++;
		n = peekt(x);
		if (lis(t, "chain") && n && !n->eol) {
			x->i++;
			if (parse_chain(x, rs, nt->s, fam, n))
				return -1;
		} else if (lis(t, "set") && n && !n->eol) {
			x->i++;
			if (parse_set(x, rs, nt->s, fam, n))
				return -1;
		} else if (lis(t, "flags") || lis(t, "comment")) {
			while (peekt(x) && !peekt(x)->eol)
				x->i++;
		} else {
			return lerr(x, t->line, t->col, "'%s' in a table: xwall imports chains and sets "
				    "only", t->s);
		}
	}
}

static int parse_text(const char *text, size_t len, const char *fname, struct imp_ruleset *rs,
		      struct xw_err *err)
{
	struct lex x = { .fname = fname, .err = err };
	int rc = -1;

	if (lex(&x, text, len))
		goto out;
	for (;;) {
		struct lt *t;

		skip_eol(&x);
		t = peekt(&x);
		if (!t)
			break;
		x.i++;
		if (lis(t, "flush") && lis(peekt(&x), "ruleset")) {
			x.i++;
		} else if (lis(t, "table")) {
			if (parse_table(&x, rs))
				goto out;
		} else if (lis(t, "define")) {
			struct lt *n = peekt(&x);
			struct imp_rule tmp = { 0 };
			size_t d = x.nd;

			if (!n || n->eol || x.i + 1 >= x.n || !lis(&x.t[x.i + 1], "=")) {
				lerr(&x, t->line, t->col, "define NAME = VALUE expected");
				goto out;
			}
			x.i += 2;
			if (statement(&x, &tmp))
				goto out;
			x.dname = realloc(x.dname, (d + 1) * sizeof(*x.dname));
			x.dval = realloc(x.dval, (d + 1) * sizeof(struct lt *));
			x.dlen = realloc(x.dlen, (d + 1) * sizeof(*x.dlen));
			if (!x.dname || !x.dval || !x.dlen)
				goto out;
			x.dname[d] = strdup(n->s);
			x.dval[d] = calloc(tmp.nt + 1, sizeof(struct lt));
			for (size_t k = 0; k < tmp.nt; k++) {
				x.dval[d][k].s = tmp.t[k].s;
				x.dval[d][k].quoted = tmp.t[k].quoted;
			}
			x.dlen[d] = tmp.nt;
			x.nd++;
			free(tmp.t);
		} else {
			lerr(&x, t->line, t->col, "'%s': xwall imports the form 'nft list ruleset' "
			     "prints (table { chain { ... } }), define and flush ruleset", t->s);
			goto out;
		}
	}
	rc = 0;
out:
	lex_free(&x);
	return rc;
}

/* ------------------------------------------------------------ JSON */

struct js {
	struct imp_rule *r;
	struct xw_err *err;
	const char *fname;
	int n;                  /* rule number */
	const char *chain;
};

static int jerr(struct js *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int jerr(struct js *j, const char *fmt, ...)
{
	char m[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	snprintf(j->err->msg, sizeof(j->err->msg), "%s: rule %d of chain %s: %s", j->fname, j->n,
		 j->chain, m);
	return -1;
}

static int jt(struct js *j, const char *s)
{
	return imp_tok_add(j->r, s, strlen(s), j->n, 0, false);
}

static int jvalue(struct js *j, json_object *v);

static int jscalar(struct js *j, json_object *v)
{
	char b[256];

	switch (json_object_get_type(v)) {
	case json_type_int:
		snprintf(b, sizeof(b), "%lld", (long long)json_object_get_int64(v));
		return jt(j, b);
	case json_type_string:
		return jt(j, json_object_get_string(v));
	case json_type_object: {
		json_object *p, *a, *l;

		if (json_object_object_get_ex(v, "prefix", &p) && json_object_object_get_ex(p, "addr", &a) &&
		    json_object_object_get_ex(p, "len", &l)) {
			snprintf(b, sizeof(b), "%s/%d", json_object_get_string(a), json_object_get_int(l));
			return jt(j, b);
		}
		if (json_object_object_get_ex(v, "range", &p) && json_object_is_type(p, json_type_array) &&
		    json_object_array_length(p) == 2) {
			snprintf(b, sizeof(b), "%s-%s", json_object_get_string(json_object_array_get_idx(p, 0)),
				 json_object_get_string(json_object_array_get_idx(p, 1)));
			return jt(j, b);
		}
		if (json_object_object_get_ex(v, "set", &p))
			return jvalue(j, p);
		break;
	}
	default:
		break;
	}
	return jerr(j, "value %s cannot be expressed in xwall",
		    json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
}

/* A right-hand side: scalar, or array (set or flag list). */
static int jvalue(struct js *j, json_object *v)
{
	if (json_object_is_type(v, json_type_array)) {
		size_t n = json_object_array_length(v);

		if (jt(j, "{"))
			return -1;
		for (size_t k = 0; k < n; k++)
			if ((k && jt(j, ",")) || jscalar(j, json_object_array_get_idx(v, k)))
				return -1;
		return jt(j, "}");
	}
	return jscalar(j, v);
}

static int jflags(struct js *j, json_object *v)
{
	if (json_object_is_type(v, json_type_array)) {
		for (size_t k = 0; k < json_object_array_length(v); k++)
			if ((k && jt(j, ",")) || jt(j, json_object_get_string(json_object_array_get_idx(v, k))))
				return -1;
		return 0;
	}
	return jt(j, json_object_get_string(v));
}

/* Left-hand side of a match as statement words. */
static int jleft(struct js *j, json_object *l)
{
	json_object *p, *a, *b;

	if (json_object_object_get_ex(l, "payload", &p) && json_object_object_get_ex(p, "protocol", &a) &&
	    json_object_object_get_ex(p, "field", &b))
		return jt(j, json_object_get_string(a)) || jt(j, json_object_get_string(b));
	if (json_object_object_get_ex(l, "meta", &p) && json_object_object_get_ex(p, "key", &a)) {
		const char *k = json_object_get_string(a);

		if (!strcmp(k, "iifname") || !strcmp(k, "iif"))
			return jt(j, k);
		return jt(j, "meta") || jt(j, k);
	}
	if (json_object_object_get_ex(l, "ct", &p) && json_object_object_get_ex(p, "key", &a))
		return jt(j, "ct") || jt(j, json_object_get_string(a));
	return jerr(j, "match on %s cannot be expressed in xwall",
		    json_object_to_json_string_ext(l, JSON_C_TO_STRING_PLAIN));
}

static int jexpr(struct js *j, json_object *e)
{
	json_object *m, *v;

	if (json_object_object_get_ex(e, "match", &m)) {
		json_object *op, *l, *r, *and;
		const char *ops;

		if (!json_object_object_get_ex(m, "op", &op) || !json_object_object_get_ex(m, "left", &l) ||
		    !json_object_object_get_ex(m, "right", &r))
			return jerr(j, "match without op/left/right");
		ops = json_object_get_string(op);
		if (json_object_object_get_ex(l, "&", &and)) {   /* tcp flags & MASK == F */
			if (!json_object_is_type(and, json_type_array) || json_object_array_length(and) != 2 ||
			    strcmp(ops, "=="))
				return jerr(j, "bitwise match %s cannot be expressed in xwall",
					    json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN));
			return jleft(j, json_object_array_get_idx(and, 0)) || jt(j, "&") ||
			       jflags(j, json_object_array_get_idx(and, 1)) || jt(j, "==") || jflags(j, r);
		}
		if (jleft(j, l))
			return -1;
		if (!strcmp(ops, "!="))
			return jt(j, "!=") || jvalue(j, r);
		if (!strcmp(ops, "in")) {                     /* flags: implicit */
			json_object *p, *f;

			if (json_object_object_get_ex(l, "payload", &p) &&
			    json_object_object_get_ex(p, "field", &f) && !strcmp(json_object_get_string(f), "flags"))
				return jflags(j, r);
			return jvalue(j, r);
		}
		if (strcmp(ops, "=="))
			return jerr(j, "operator '%s' cannot be expressed in xwall", ops);
		{
			json_object *p, *f;

			if (json_object_object_get_ex(l, "payload", &p) &&
			    json_object_object_get_ex(p, "field", &f) && !strcmp(json_object_get_string(f), "flags"))
				return jt(j, "==") || jflags(j, r);
		}
		return jvalue(j, r);
	}
	if (json_object_object_get_ex(e, "counter", &v))
		return jt(j, "counter");
	if (json_object_object_get_ex(e, "log", &v))
		return jt(j, "log");
	if (json_object_object_get_ex(e, "accept", &v))
		return jt(j, "accept");
	if (json_object_object_get_ex(e, "drop", &v))
		return jt(j, "drop");
	if (json_object_object_get_ex(e, "return", &v))
		return jt(j, "return");
	if (json_object_object_get_ex(e, "continue", &v))
		return jt(j, "continue");
	if (json_object_object_get_ex(e, "jump", &v) || json_object_object_get_ex(e, "goto", &v)) {
		json_object *tg;

		if (!json_object_object_get_ex(v, "target", &tg))
			return jerr(j, "jump without target");
		return jt(j, json_object_object_get_ex(e, "jump", &m) ? "jump" : "goto") ||
		       jt(j, json_object_get_string(tg));
	}
	if (json_object_object_get_ex(e, "limit", &v)) {
		json_object *rate, *per, *inv, *burst, *unit;
		char b[96];

		if (!json_object_object_get_ex(v, "rate", &rate) || !json_object_object_get_ex(v, "per", &per))
			return jerr(j, "limit without rate");
		if (json_object_object_get_ex(v, "rate_unit", &unit) &&
		    strcmp(json_object_get_string(unit), "packets"))
			return jerr(j, "byte rates cannot be expressed in xwall");
		if (jt(j, "limit") || jt(j, "rate"))
			return -1;
		if (json_object_object_get_ex(v, "inv", &inv) && json_object_get_boolean(inv) && jt(j, "over"))
			return -1;
		snprintf(b, sizeof(b), "%lld/%s", (long long)json_object_get_int64(rate),
			 json_object_get_string(per));
		if (jt(j, b))
			return -1;
		if (json_object_object_get_ex(v, "burst", &burst) && json_object_get_int64(burst)) {
			snprintf(b, sizeof(b), "%lld", (long long)json_object_get_int64(burst));
			return jt(j, "burst") || jt(j, b);
		}
		return 0;
	}
	if (json_object_object_get_ex(e, "reject", &v))
		return jt(j, "reject");
	return jerr(j, "statement %s cannot be expressed in xwall",
		    json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN));
}

static const char *jstr(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : NULL;
}

static int parse_json(const char *text, const char *fname, struct imp_ruleset *rs, struct xw_err *err)
{
	json_tokener *tok = json_tokener_new();
	json_object *root = tok ? json_tokener_parse_ex(tok, text, (int)strlen(text)) : NULL, *arr;
	int rc = -1;

	if (!root) {
		snprintf(err->msg, sizeof(err->msg), "%s: not valid JSON (%s)", fname,
			 tok ? json_tokener_error_desc(json_tokener_get_error(tok)) : "out of memory");
		goto out;
	}
	if (!json_object_object_get_ex(root, "nftables", &arr) || !json_object_is_type(arr, json_type_array)) {
		snprintf(err->msg, sizeof(err->msg), "%s: no \"nftables\" array: not `nft -j` output", fname);
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *o = json_object_array_get_idx(arr, i), *c;

		if (json_object_object_get_ex(o, "chain", &c)) {
			const char *fam = jstr(c, "family"), *tab = jstr(c, "table"), *name = jstr(c, "name");
			const char *hook = jstr(c, "hook"), *pol = jstr(c, "policy"), *type = jstr(c, "type");
			struct imp_chain *ch;

			if (!fam || !tab || !name)
				continue;
			ch = imp_chain_add(rs, tab, name, family_of(fam), 0);
			if (!ch)
				goto out;
			if (hook) {
				ch->base = true;
				ch->hook = hook_of(hook);
				ch->type = type ? strdup(type) : NULL;
			}
			if (pol)
				ch->policy = !strcmp(pol, "drop") ? IMP_V_DROP : IMP_V_ACCEPT;
		} else if (json_object_object_get_ex(o, "set", &c)) {
			const char *fam = jstr(c, "family"), *tab = jstr(c, "table"), *name = jstr(c, "name");
			struct imp_set *ns = realloc(rs->s, (rs->ns + 1) * sizeof(*ns)), *s;
			json_object *fl, *el;
			struct imp_rule tmp = { 0 };
			struct js j = { .r = &tmp, .err = err, .fname = fname, .chain = "-" };

			if (!ns)
				goto out;
			rs->s = ns;
			s = &rs->s[rs->ns++];
			memset(s, 0, sizeof(*s));
			s->table = strdup(tab ? tab : "");
			s->name = strdup(name ? name : "");
			s->family = family_of(fam ? fam : "");
			if (json_object_object_get_ex(c, "flags", &fl)) {
				const char *f = json_object_to_json_string(fl);

				s->dynamic = strstr(f, "timeout") || strstr(f, "dynamic");
			}
			if (json_object_object_get_ex(c, "elem", &el)) {
				if (jvalue(&j, el))
					goto out;
				for (size_t k = 0; k < tmp.nt; k++) {
					if (strcmp(tmp.t[k].s, "{") && strcmp(tmp.t[k].s, "}") &&
					    strcmp(tmp.t[k].s, ",")) {
						s->el = realloc(s->el, (s->nel + 1) * sizeof(*s->el));
						s->el[s->nel++] = tmp.t[k];
					} else {
						free(tmp.t[k].s);
					}
				}
				free(tmp.t);
			}
		} else if (json_object_object_get_ex(o, "rule", &c)) {
			const char *fam = jstr(c, "family"), *tab = jstr(c, "table"), *name = jstr(c, "chain");
			struct imp_chain *ch;
			struct js j = { .err = err, .fname = fname, .chain = name };
			json_object *ex;

			if (!fam || !tab || !name || !json_object_object_get_ex(c, "expr", &ex))
				continue;
			ch = imp_chain_add(rs, tab, name, family_of(fam), 0);
			if (!ch)
				goto out;
			j.n = (int)ch->nr + 1;
			j.r = imp_rule_add(ch, j.n, 0);
			if (!j.r)
				goto out;
			for (size_t k = 0; k < json_object_array_length(ex); k++)
				if (jexpr(&j, json_object_array_get_idx(ex, k)))
					goto out;
		}
	}
	rc = 0;
out:
	json_object_put(root);
	if (tok)
		json_tokener_free(tok);
	return rc;
}

int imp_nft_parse(const char *text, size_t len, const char *fname, struct imp_ruleset *rs,
		  struct xw_err *err)
{
	size_t i = 0;

	while (i < len && isspace((unsigned char)text[i]))
		i++;
	rs->fname = fname;
	if (i < len && text[i] == '{') {
		rs->json = true;
		return parse_json(text, fname, rs, err);
	}
	return parse_text(text, len, fname, rs, err);
}

char *xw_import_nft(const char *text, size_t len, const char *fname, const char *only,
                    struct xw_err *err)
{
	struct imp_ruleset rs = { .only = only };
	char *out = NULL;

	if (!imp_nft_parse(text, len, fname, &rs, err))
		out = imp_translate(&rs, err);
	imp_ruleset_free(&rs);
	return out;
}
