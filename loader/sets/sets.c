// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Named sets: language (set declarations, elements, durations), compiling
 * the rules that reference sets, and the set maps (include/xw_set.h).
 *
 * A set is a hash map of its full-length elements and an LPM trie of its
 * prefixes, in the live slot pair of xw_set_hmaps and xw_set_maps (see
 * include/xw_set.h).  Adding or deleting elements writes those maps
 * directly; replacing all of them (`set load`, `set flush`, apply with
 * `elements`) fills new maps into the other slot pair and flips
 * xw_set_cur[id] in one update, so packets see either all old or all new
 * elements.
 * Rules that reference sets are compiled into at most XW_MAX_SET_RULES
 * entries per generation (xw_set_rules), switched with the generation. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include "sets.h"
#include "compile.h"
#include "datapath.h"

/* ---- names, durations ----------------------------------------------------- */

bool xw_set_name_ok(const char *s, size_t len)
{
	if (!len || len >= XW_SETNAME_LEN || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

int xw_duration_parse(const char *s, size_t len, uint64_t *ms)
{
	uint64_t total = 0;
	size_t i = 0;

	if (!len)
		return -1;
	while (i < len) {
		uint64_t n = 0, unit;
		size_t d = i;

		while (i < len && isdigit((unsigned char)s[i])) {
			if (n > 1000000000ull)
				return -1;
			n = n * 10 + (uint64_t)(s[i++] - '0');
		}
		if (i == d)
			return -1;
		if (i == len && d == 0) {
			unit = 1000;          /* a bare number: seconds */
		} else if (i + 1 < len && s[i] == 'm' && s[i + 1] == 's') {
			unit = 1;
			i += 2;
		} else if (i < len && (s[i] == 's' || s[i] == 'm' || s[i] == 'h' || s[i] == 'd')) {
			unit = s[i] == 's' ? 1000 : s[i] == 'm' ? 60000 : s[i] == 'h' ? 3600000 : 86400000;
			i++;
		} else {
			return -1;
		}
		total += n * unit;
		if (total > 100ull * 365 * 86400000)
			return -1;
	}
	*ms = total;
	return 0;
}

void xw_duration_format(uint64_t ms, char *buf, size_t len)
{
	static const struct { char u; uint64_t ms; } units[] = {
		{ 'd', 86400000 }, { 'h', 3600000 }, { 'm', 60000 }, { 's', 1000 },
	};
	size_t n = 0;

	buf[0] = '\0';
	if (!ms) {
		snprintf(buf, len, "0s");
		return;
	}
	for (size_t k = 0; k < 4; k++)
		if (ms >= units[k].ms) {
			n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%llu%c",
					      (unsigned long long)(ms / units[k].ms), units[k].u);
			ms %= units[k].ms;
		}
	if (ms)
		snprintf(buf + n, n < len ? len - n : 0, "%llums", (unsigned long long)ms);
}

static const char *const type_names[] = {
	[XW_SETT_IPV4] = "ipv4_addr", [XW_SETT_IPV6] = "ipv6_addr",
	[XW_SETT_INET] = "inet_addr", [XW_SETT_SERVICE] = "inet_service",
};

const char *xw_set_type_name(uint8_t type)
{
	return type >= XW_SETT_IPV4 && type <= XW_SETT_SERVICE ? type_names[type] : "?";
}

/* ---- elements ------------------------------------------------------------- */

static int why(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int why(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return -1;
}

static int port_num(const char *s, size_t len, uint16_t *out)
{
	unsigned v = 0;

	if (!len || len > 5)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

int xw_set_elem_parse(const struct xw_set_decl *d, const char *s, size_t len,
		      struct xw_set_elem *e, char *wbuf, size_t wlen)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash;
	unsigned max;

	memset(e, 0, sizeof(*e));
	if (d->type == XW_SETT_SERVICE) {
		const char *dash = memchr(s, '-', len);

		e->kind = XW_SETK_PORT;
		if (!dash) {
			if (port_num(s, len, &e->lo))
				return why(wbuf, wlen, "expected a port 0..65535, got '%.*s'", (int)len, s);
			e->hi = e->lo;
			return 0;
		}
		if (port_num(s, (size_t)(dash - s), &e->lo) ||
		    port_num(dash + 1, len - (size_t)(dash - s) - 1, &e->hi) || e->lo > e->hi)
			return why(wbuf, wlen, "expected a port range LO-HI (0..65535), got '%.*s'",
				   (int)len, s);
		return 0;
	}
	if (len >= sizeof(buf))
		return why(wbuf, wlen, "expected an address, got '%.*s'", (int)(len > 64 ? 64 : len), s);
	memcpy(buf, s, len);
	buf[len] = '\0';
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, e->addr) == 1)
		e->kind = XW_SETK_V4;
	else if (inet_pton(AF_INET6, buf, e->addr) == 1)
		e->kind = XW_SETK_V6;
	else
		return why(wbuf, wlen, "expected an address, got '%.*s'", (int)len, s);
	if ((e->kind == XW_SETK_V4 && d->type == XW_SETT_IPV6) ||
	    (e->kind == XW_SETK_V6 && d->type == XW_SETT_IPV4))
		return why(wbuf, wlen, "'%.*s' is an IPv%d address; set %s has type %s", (int)len, s,
			   e->kind, d->name, xw_set_type_name(d->type));
	max = e->kind == XW_SETK_V4 ? 32 : 128;
	e->plen = (uint8_t)max;
	if (slash) {
		uint16_t pl;

		if (port_num(slash + 1, strlen(slash + 1), &pl) || pl > max)
			return why(wbuf, wlen, "prefix length must be 0..%u in '%.*s'", max, (int)len, s);
		if (!(d->flags & XW_SETF_INTERVAL) && pl != max)
			return why(wbuf, wlen, "'%.*s' is a prefix: set %s needs 'flags interval'",
				   (int)len, s, d->name);
		e->plen = (uint8_t)pl;
	}
	for (unsigned b = e->plen; b < max; b++)
		if (e->addr[b / 8] & (0x80u >> (b % 8)))
			return why(wbuf, wlen, "host bits set in '%.*s'", (int)len, s);
	return 0;
}

static void elem_print(FILE *f, const struct xw_set_elem *e)
{
	char a[INET6_ADDRSTRLEN];

	if (e->kind == XW_SETK_PORT) {
		if (e->lo == e->hi)
			fprintf(f, "%u", e->lo);
		else
			fprintf(f, "%u-%u", e->lo, e->hi);
		return;
	}
	inet_ntop(e->kind == XW_SETK_V4 ? AF_INET : AF_INET6, e->addr, a, sizeof(a));
	if (e->plen != (e->kind == XW_SETK_V4 ? 32 : 128))
		fprintf(f, "%s/%u", a, e->plen);
	else
		fputs(a, f);
}

void xw_set_decl_print(FILE *f, const struct xw_set_decl *d, int with_elems)
{
	char t[32];

	fprintf(f, "set %s { type %s;", d->name, xw_set_type_name(d->type));
	if (d->flags)
		fprintf(f, " flags %s%s%s;", d->flags & XW_SETF_INTERVAL ? "interval" : "",
			d->flags == (XW_SETF_INTERVAL | XW_SETF_TIMEOUT) ? "," : "",
			d->flags & XW_SETF_TIMEOUT ? "timeout" : "");
	if (d->timeout_ms) {
		xw_duration_format(d->timeout_ms, t, sizeof(t));
		fprintf(f, " timeout %s;", t);
	}
	if (d->size)
		fprintf(f, " size %u;", d->size);
	if (with_elems && d->has_elements) {
		fputs(" elements = {", f);
		for (size_t i = 0; i < d->n_elems; i++) {
			fputs(i ? ", " : " ", f);
			elem_print(f, &d->elems[i]);
			if (d->elems[i].has_timeout) {
				xw_duration_format(d->elems[i].timeout_ms, t, sizeof(t));
				fprintf(f, " timeout %s", t);
			}
		}
		fputs(" };", f);
	}
	fputs(" }\n", f);
}

/* ---- declarations --------------------------------------------------------- */

struct lexer {
	const char *s;
	size_t len, at;
	const char *fname;
	int line, col;
	struct xw_err *err;
	/* current token */
	const char *t;
	size_t tlen;
	int tline, tcol;
};

static int lfail(struct lexer *l, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int lfail(struct lexer *l, int line, int col, const char *fmt, ...)
{
	int n = snprintf(l->err->msg, sizeof(l->err->msg), "%s:%d:%d: ", l->fname, line, col);
	va_list ap;

	if (n >= 0 && (size_t)n < sizeof(l->err->msg)) {
		va_start(ap, fmt);
		vsnprintf(l->err->msg + n, sizeof(l->err->msg) - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int punct(char c)
{
	return c == '{' || c == '}' || c == ';' || c == ',' || c == '=';
}

/* Next token; tlen 0 at the end of the text. */
static void lnext(struct lexer *l)
{
	for (;;) {
		if (l->at >= l->len)
			break;
		char c = l->s[l->at];

		if (c == '\n') {
			l->line++;
			l->col = 1;
			l->at++;
		} else if (c == ' ' || c == '\t' || c == '\r') {
			l->at++;
			l->col++;
		} else if (c == '#') {
			while (l->at < l->len && l->s[l->at] != '\n')
				l->at++;
		} else {
			break;
		}
	}
	l->t = l->s + l->at;
	l->tline = l->line;
	l->tcol = l->col;
	l->tlen = 0;
	if (l->at >= l->len)
		return;
	if (punct(l->s[l->at])) {
		l->tlen = 1;
	} else {
		while (l->at + l->tlen < l->len) {
			char c = l->s[l->at + l->tlen];

			if (punct(c) || c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '#')
				break;
			l->tlen++;
		}
	}
	l->at += l->tlen;
	l->col += (int)l->tlen;
}

static int tis(const struct lexer *l, const char *w)
{
	return l->tlen == strlen(w) && !memcmp(l->t, w, l->tlen);
}

#define TQ(l) (int)((l)->tlen > 64 ? 64 : (l)->tlen), (l)->t

static int expect_word(struct lexer *l, const char *what)
{
	lnext(l);
	if (!l->tlen)
		return lfail(l, l->tline, l->tcol, "missing %s", what);
	if (punct(l->t[0]))
		return lfail(l, l->tline, l->tcol, "expected %s, got '%.*s'", what, TQ(l));
	return 0;
}

static int parse_elements(struct lexer *l, struct xw_set_decl *d)
{
	size_t cap = 0;

	lnext(l);
	if (!tis(l, "="))
		return lfail(l, l->tline, l->tcol, "expected '=' after 'elements'");
	lnext(l);
	if (!tis(l, "{"))
		return lfail(l, l->tline, l->tcol, "expected '{' after 'elements ='");
	d->has_elements = 1;
	for (;;) {
		struct xw_set_elem e;
		char w[200];

		lnext(l);
		if (tis(l, "}"))
			return 0;
		if (tis(l, ","))
			continue;
		if (!l->tlen)
			return lfail(l, l->tline, l->tcol, "missing '}' after the elements");
		if (punct(l->t[0]))
			return lfail(l, l->tline, l->tcol, "unexpected '%.*s' in the elements", TQ(l));
		if (xw_set_elem_parse(d, l->t, l->tlen, &e, w, sizeof(w)))
			return lfail(l, l->tline, l->tcol, "%s", w);
		/* an optional `timeout D` */
		{
			size_t at = l->at;
			int line = l->line, col = l->col;

			lnext(l);
			if (tis(l, "timeout")) {
				if (expect_word(l, "duration"))
					return -1;
				if (!(d->flags & XW_SETF_TIMEOUT))
					return lfail(l, l->tline, l->tcol,
						     "element timeout: set %s needs 'flags timeout'", d->name);
				if (xw_duration_parse(l->t, l->tlen, &e.timeout_ms) || !e.timeout_ms)
					return lfail(l, l->tline, l->tcol, "expected a duration such as "
						     "30s, 10m, 1h, 7d or 1h30m, got '%.*s'", TQ(l));
				e.has_timeout = 1;
			} else {
				l->at = at;
				l->line = line;
				l->col = col;
			}
		}
		if (d->n_elems == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct xw_set_elem *ne = realloc(d->elems, nc * sizeof(*ne));

			if (!ne)
				return lfail(l, l->tline, l->tcol, "out of memory");
			d->elems = ne;
			cap = nc;
		}
		d->elems[d->n_elems++] = e;
	}
}

/* `type T` (the keyword read): the set's element type. */
static int parse_type(struct lexer *l, struct xw_set_decl *d)
{
	if (expect_word(l, "set type"))
		return -1;
	for (unsigned t = XW_SETT_IPV4; t <= XW_SETT_SERVICE; t++)
		if (tis(l, type_names[t]))
			d->type = (uint8_t)t;
	if (!d->type)
		return lfail(l, l->tline, l->tcol, "unknown set type '%.*s' (ipv4_addr, ipv6_addr, "
			     "inet_addr or inet_service)", TQ(l));
	return 0;
}

/* `flags F[, F...]` (the keyword read). */
static int parse_flags(struct lexer *l, struct xw_set_decl *d)
{
	for (;;) {
		size_t at;
		int ln, col;

		if (expect_word(l, "flag"))
			return -1;
		if (tis(l, "interval"))
			d->flags |= XW_SETF_INTERVAL;
		else if (tis(l, "timeout"))
			d->flags |= XW_SETF_TIMEOUT;
		else
			return lfail(l, l->tline, l->tcol, "unknown set flag '%.*s' (interval, "
				     "timeout)", TQ(l));
		/* a ',' goes on; anything else is the next statement's */
		at = l->at;
		ln = l->line;
		col = l->col;
		lnext(l);
		if (!tis(l, ",")) {
			l->at = at;
			l->line = ln;
			l->col = col;
			return 0;
		}
	}
}

/* `timeout D` (the keyword read): the default timeout of elements. */
static int parse_timeout(struct lexer *l, struct xw_set_decl *d)
{
	if (expect_word(l, "duration"))
		return -1;
	if (xw_duration_parse(l->t, l->tlen, &d->timeout_ms) || !d->timeout_ms)
		return lfail(l, l->tline, l->tcol, "expected a duration such as 30s, 10m, 1h, 7d "
			     "or 1h30m, got '%.*s'", TQ(l));
	if (!(d->flags & XW_SETF_TIMEOUT))
		return lfail(l, l->tline, l->tcol, "set %s: 'timeout' needs 'flags timeout' "
			     "(before it)", d->name);
	return 0;
}

/* `size N` (the keyword read). */
static int parse_size(struct lexer *l, struct xw_set_decl *d)
{
	uint64_t v = 0;

	if (expect_word(l, "size"))
		return -1;
	for (size_t i = 0; i < l->tlen && v <= XW_SET_MAX_SIZE; i++)
		v = isdigit((unsigned char)l->t[i]) ? v * 10 + (uint64_t)(l->t[i] - '0')
						    : XW_SET_MAX_SIZE + 1ull;
	if (!v || v > XW_SET_MAX_SIZE)
		return lfail(l, l->tline, l->tcol, "size must be 1..%u, got '%.*s'",
			     XW_SET_MAX_SIZE, TQ(l));
	d->size = (uint32_t)v;
	return 0;
}

/* One statement of the set's body, its first word the current token. */
static int parse_statement(struct lexer *l, struct xw_set_decl *d, int *seen_type)
{
	if (!*seen_type && !tis(l, "type"))
		return lfail(l, l->tline, l->tcol, "expected 'type' first in set %s", d->name);
	if (tis(l, "type")) {
		if ((*seen_type)++)
			return lfail(l, l->tline, l->tcol, "duplicate 'type'");
		return parse_type(l, d);
	}
	if (tis(l, "flags"))
		return parse_flags(l, d);
	if (tis(l, "timeout"))
		return parse_timeout(l, d);
	if (tis(l, "size"))
		return parse_size(l, d);
	if (tis(l, "elements")) {
		if (d->has_elements)
			return lfail(l, l->tline, l->tcol, "duplicate 'elements'");
		return parse_elements(l, d);
	}
	return lfail(l, l->tline, l->tcol, "unknown set statement '%.*s' (type, flags, timeout, "
		     "size, elements)", TQ(l));
}

/* `set NAME {`: the name into d. */
static int parse_head(struct lexer *l, struct xw_set_decl *d)
{
	lnext(l);   /* "set" */
	d->pos.line = l->tline;
	d->pos.col = l->tcol;
	if (expect_word(l, "set name"))
		return -1;
	if (!xw_set_name_ok(l->t, l->tlen))
		return lfail(l, l->tline, l->tcol, "bad set name '%.*s': letters, digits, '_' and "
			     "'-', starting with a letter or '_', at most 31 characters", TQ(l));
	memcpy(d->name, l->t, l->tlen);
	lnext(l);
	if (!tis(l, "{"))
		return lfail(l, l->tline, l->tcol, "expected '{' after the set name");
	return 0;
}

/* After the closing '}': the rest of the line must be blank or a comment;
 * *used = where that line ends. */
static int line_end(struct lexer *l, size_t *used)
{
	size_t at = l->at;
	int col = l->col;

	while (at < l->len && (l->s[at] == ' ' || l->s[at] == '\t' || l->s[at] == '\r')) {
		at++;
		col++;
	}
	if (at < l->len && l->s[at] != '\n' && l->s[at] != '#')
		return lfail(l, l->line, col, "unexpected text after the set's '}'");
	while (at < l->len && l->s[at] != '\n')
		at++;
	*used = at;
	return 0;
}

int xw_set_decl_parse(const char *text, size_t len, const char *fname, int line,
		      struct xw_set_decl *d, size_t *used, struct xw_err *err)
{
	struct lexer l = { .s = text, .len = len, .fname = fname, .line = line, .col = 1, .err = err };
	int seen_type = 0, rc;

	memset(d, 0, sizeof(*d));
	snprintf(d->pos.file, sizeof(d->pos.file), "%s", fname);
	rc = parse_head(&l, d);
	while (!rc) {
		lnext(&l);
		if (tis(&l, ";"))
			continue;
		if (tis(&l, "}"))
			break;
		if (!l.tlen)
			rc = lfail(&l, l.tline, l.tcol, "missing '}' closing set %s", d->name);
		else
			rc = parse_statement(&l, d, &seen_type);
	}
	if (!rc && d->size && d->n_elems > d->size)
		rc = lfail(&l, d->pos.line, d->pos.col, "set %s lists %zu elements, more than its "
			   "size %u", d->name, d->n_elems, d->size);
	if (!rc)
		rc = line_end(&l, used);
	if (rc) {
		free(d->elems);
		d->elems = NULL;
		d->n_elems = 0;
		return -1;
	}
	return 0;
}

/* ---- checks --------------------------------------------------------------- */

int xw_rule_uses_sets(const struct xw_rule *r)
{
	for (int k = 0; k < XW_REF_MAX; k++)
		if (r->set_ref[k][0])
			return 1;
	return 0;
}

const struct xw_set_decl *xw_ruleset_set(const struct xw_ruleset *rs, const char *name)
{
	for (size_t i = 0; i < rs->n_sets; i++)
		if (!strcmp(rs->sets[i].name, name))
			return &rs->sets[i];
	return NULL;
}

static int rfail(struct xw_err *err, const struct xw_rule *r, int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int rfail(struct xw_err *err, const struct xw_rule *r, int col, const char *fmt, ...)
{
	int n = snprintf(err->msg, sizeof(err->msg), "%s:%d:%d: ", r->pos.file, r->pos.line,
			 col ? col : r->pos.col);
	va_list ap;

	if (n >= 0 && (size_t)n < sizeof(err->msg)) {
		va_start(ap, fmt);
		vsnprintf(err->msg + n, sizeof(err->msg) - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

int xw_sets_check(const struct xw_ruleset *rs, struct xw_err *err)
{
	static const char *const fld[XW_REF_MAX] = { "src", "dst", "sport", "dport" };

	for (size_t i = 0; i < rs->n; i++) {
		const struct xw_rule *r = &rs->rules[i];

		for (int k = 0; k < XW_REF_MAX; k++) {
			const struct xw_set_decl *d;

			if (!r->set_ref[k][0])
				continue;
			d = xw_ruleset_set(rs, r->set_ref[k]);
			if (!d)
				return rfail(err, r, r->set_col[k], "no set named '%s' (declare it with "
					     "`set %s { type ...; }`)", r->set_ref[k], r->set_ref[k]);
			if ((k >= XW_REF_SPORT) != (d->type == XW_SETT_SERVICE))
				return rfail(err, r, r->set_col[k], "%s @%s: set %s has type %s", fld[k],
					     d->name, d->name, xw_set_type_name(d->type));
			if (r->present & XM_LIMIT)
				return rfail(err, r, r->set_col[k], "a rule with a set reference cannot "
					     "have 'limit' (put the limit in a rule of its own)");
		}
		if (r->ban_set[0]) {
			const struct xw_set_decl *d = xw_ruleset_set(rs, r->ban_set);

			if (!d)
				return rfail(err, r, r->set_col[XW_REF_MAX], "no set named '%s'",
					     r->ban_set);
			if (d->type == XW_SETT_SERVICE || !(d->flags & XW_SETF_TIMEOUT))
				return rfail(err, r, r->set_col[XW_REF_MAX], "ban @%s: the set must hold "
					     "addresses and have 'flags timeout'", d->name);
		}
	}
	return 0;
}

/* ---- the set maps --------------------------------------------------------- */

uint64_t xw_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int sys(struct xw_err *err, const char *what, int e)
{
	if (e < 0)
		e = -e;
	return xw_errf(err, XW_ESYS, "%s: %s", what, strerror(e));
}

/* A set's maps: the full-length elements (hash) and the prefixes (trie). */
struct set_fds {
	int h, t;
};

static void fds_close(struct set_fds *f)
{
	if (f->h >= 0)
		close(f->h);
	if (f->t >= 0)
		close(f->t);
	f->h = f->t = -1;
}

static int new_maps(uint32_t size, struct set_fds *f)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_NO_PREALLOC);
	uint32_t n = size ? size : XW_SET_DEFAULT_SIZE;

	f->t = -1;
	f->h = bpf_map_create(BPF_MAP_TYPE_HASH, "xw_set_h", sizeof(struct xw_set_key),
			      sizeof(struct xw_set_val), n, &o);
	if (f->h < 0)
		return -errno;
	f->t = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "xw_set_t", sizeof(struct xw_set_key),
			      sizeof(struct xw_set_val), n, &o);
	if (f->t < 0) {
		int e = -errno;

		fds_close(f);
		return e;
	}
	return 0;
}

/* The live slot pair of set id (xw_set_cur). */
static int cur_of(struct xw_dp *dp, uint32_t id, __u32 *cur)
{
	if (bpf_map_lookup_elem(dp->map_fd[XW_M_SET_CUR], &id, cur))
		return -errno;
	*cur &= 1;
	return 0;
}

/* fd of the inner map in slot of outer map m, or -errno (-ENOENT: empty). */
static int slot_fd(struct xw_dp *dp, enum xw_map_id m, __u32 slot)
{
	__u32 mid;
	int fd;

	if (bpf_map_lookup_elem(dp->map_fd[m], &slot, &mid))
		return -errno;
	fd = bpf_map_get_fd_by_id(mid);
	return fd < 0 ? -errno : fd;
}

static int live_fds(struct xw_dp *dp, uint32_t id, struct set_fds *f)
{
	__u32 cur;
	int rc = cur_of(dp, id, &cur);

	f->h = f->t = -1;
	if (rc)
		return rc;
	f->h = slot_fd(dp, XW_M_SET_HMAPS, XW_SET_SLOT(id, cur));
	if (f->h < 0)
		return f->h;
	f->t = slot_fd(dp, XW_M_SET_MAPS, XW_SET_SLOT(id, cur));
	if (f->t < 0) {
		rc = f->t;
		fds_close(f);
	}
	return rc;
}

/* Packets in flight (XDP and TC programs run inside RCU read-side sections)
 * are done with what they looked up before now.  MEMBARRIER_CMD_GLOBAL is
 * synchronize_rcu(); where it is refused (nohz_full), re-installing an
 * inner map waits for a grace period on kernels before 6.8, and a pause
 * covers newer ones in practice. */
static void rcu_wait(struct xw_dp *dp, uint32_t id, __u32 cur)
{
	__u32 slot = XW_SET_SLOT(id, cur);
	int fd;

	if (syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) == 0)
		return;
	fd = slot_fd(dp, XW_M_SET_HMAPS, slot);
	if (fd >= 0) {
		bpf_map_update_elem(dp->map_fd[XW_M_SET_HMAPS], &slot, &fd, 0);
		close(fd);
	}
	usleep(20000);
}

static int map_dump(int fd, struct xw_set_key **keys, struct xw_set_val **vals, size_t *n,
		    size_t *cap);

/* The datapath's live bans in the hash map old into the hash map to
 * (where to has no such element yet). */
static void keep_bans(int old, int to)
{
	struct xw_set_key *k = NULL;
	struct xw_set_val *v = NULL;
	size_t n = 0, cap = 0;
	uint64_t now = xw_mono_ns();

	if (!map_dump(old, &k, &v, &n, &cap))
		for (size_t i = 0; i < n; i++)
			if (v[i].banned && (!v[i].expires_ns || (int64_t)(v[i].expires_ns - now) > 0))
				bpf_map_update_elem(to, &k[i], &v[i], BPF_NOEXIST);
	free(k);
	free(v);
}

/* Does a `ban` rule of either generation put addresses into set id? */
static bool set_has_bans(struct xw_dp *dp, uint32_t id)
{
	struct xw_ban_key bk, prev;
	struct xw_ban_val bv;
	bool first = true;

	if (dp->map_fd[XW_M_SET_BANS] < 0) {
		char p[256];
		struct bpf_map_info info;
		__u32 len = sizeof(info);
		int fd;

		snprintf(p, sizeof(p), "%s/%s", XW_PIN_DIR, xw_map_names[XW_M_SET_BANS]);
		fd = bpf_obj_get(p);
		memset(&info, 0, sizeof(info));
		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len) ||
		    info.key_size != sizeof(bk) || info.value_size != sizeof(bv)) {
			if (fd >= 0)
				close(fd);
			return true;   /* cannot tell: keep them */
		}
		dp->map_fd[XW_M_SET_BANS] = fd;
	}
	while (bpf_map_get_next_key(dp->map_fd[XW_M_SET_BANS], first ? NULL : &prev, &bk) == 0) {
		if (!bpf_map_lookup_elem(dp->map_fd[XW_M_SET_BANS], &bk, &bv) && bv.set == id)
			return true;
		prev = bk;
		first = false;
	}
	return false;
}

/* Make f the live maps of set id: into the other slot pair, flip
 * xw_set_cur[id] (one 4-byte write), then empty the old pair once no
 * packet can still be looking at it (bans: after copying the datapath's
 * live bans from it, if a `ban` rule fills this set). */
static int install(struct xw_dp *dp, uint32_t id, const struct set_fds *f, bool bans,
		   struct xw_err *err)
{
	__u32 cur, next, old;
	bool had;
	int rc = cur_of(dp, id, &cur), fd;

	if (rc)
		return sys(err, "read the set's live slot", rc);
	next = cur ^ 1;
	old = XW_SET_SLOT(id, cur);
	fd = slot_fd(dp, XW_M_SET_HMAPS, old);
	had = fd >= 0;
	if (fd >= 0)
		close(fd);
	{
		__u32 slot = XW_SET_SLOT(id, next);

		if (bpf_map_update_elem(dp->map_fd[XW_M_SET_HMAPS], &slot, &f->h, 0) ||
		    bpf_map_update_elem(dp->map_fd[XW_M_SET_MAPS], &slot, &f->t, 0))
			return sys(err, "install the set's maps", errno);
	}
	if (bpf_map_update_elem(dp->map_fd[XW_M_SET_CUR], &id, &next, 0))
		return sys(err, "switch the set's maps", errno);
	if (had)
		rcu_wait(dp, id, next);
	/* no packet adds to the old maps any more: carry their bans over */
	if (had && bans && set_has_bans(dp, id)) {
		fd = slot_fd(dp, XW_M_SET_HMAPS, old);
		if (fd >= 0) {
			keep_bans(fd, f->h);
			close(fd);
		}
	}
	if ((bpf_map_delete_elem(dp->map_fd[XW_M_SET_HMAPS], &old) && errno != ENOENT) ||
	    (bpf_map_delete_elem(dp->map_fd[XW_M_SET_MAPS], &old) && errno != ENOENT))
		return sys(err, "free the set's old maps", errno);
	return 0;
}

/* The map keys of an element: one for an address, the prefixes of a range. */
static int elem_keys(const struct xw_set_elem *e, struct xw_set_key *k, int max)
{
	if (e->kind != XW_SETK_PORT) {
		memset(k, 0, sizeof(*k));
		k->kind = e->kind;
		k->prefixlen = 8u + e->plen;
		memcpy(k->data, e->addr, 16);
		return 1;
	}
	{
		uint32_t vals[32], masks[32];
		int n = xw_range_prefixes(e->lo, e->hi, 16, vals, masks);

		for (int i = 0; i < n && i < max; i++) {
			memset(&k[i], 0, sizeof(k[i]));
			k[i].kind = XW_SETK_PORT;
			k[i].prefixlen = 8u + (uint32_t)__builtin_popcount(masks[i]);
			k[i].data[0] = (uint8_t)(vals[i] >> 8);
			k[i].data[1] = (uint8_t)vals[i];
		}
		return n < max ? n : max;
	}
}

static void elem_val(const struct xw_set_elem *e, uint64_t default_ms, uint64_t now,
		     const struct xw_set_key *k, struct xw_set_val *v)
{
	uint64_t ms = e->has_timeout ? e->timeout_ms : default_ms;

	memset(v, 0, sizeof(*v));
	v->expires_ns = ms ? now + ms * 1000000ull : 0;
	v->lo = e->lo;
	v->hi = e->hi;
	v->klen = (uint8_t)k->prefixlen;
}

/* Keys and values on their way to one map. */
struct kv_buf {
	struct xw_set_key *k;
	struct xw_set_val *v;
	__u32 n;
};

static int full(struct xw_err *err, const char *name, const struct xw_set_def *def)
{
	return xw_errf(err, XW_ESYS, "set %s is full (size %u)", name, def->size);
}

/* 0, 1 if the kernel has no batch update for this map (nothing written
 * yet: first), or an error. */
static int flush_batch(int fd, struct kv_buf *b, bool first, const char *name,
		       const struct xw_set_def *def, struct xw_err *err)
{
	LIBBPF_OPTS(bpf_map_batch_opts, o);
	__u32 cnt = b->n;

	if (!b->n)
		return 0;
	b->n = 0;
	if (!bpf_map_update_batch(fd, b->k, b->v, &cnt, &o))
		return 0;
	if ((errno == EINVAL || errno == ENOTSUP || errno == EOPNOTSUPP) && first)
		return 1;
	if (errno == ENOSPC || errno == E2BIG)
		return full(err, name, def);
	return sys(err, "add set elements", errno);
}

/* Many adds in few system calls (BPF_MAP_UPDATE_BATCH): full-length keys
 * into the hash, prefixes into the trie.  1 if the kernel does not batch
 * (nothing written). */
static int write_batch(const struct set_fds *f, const struct xw_set_def *def,
		       const struct xw_set_elem *e, size_t n, const char *name, struct xw_err *err)
{
	/* up to 16384 keys per system call; fewer buffers for a small batch */
	const size_t B = n < 16384 - 32 ? n + 32 : 16384;
	struct kv_buf b[2] = { { 0 } };    /* [0] hash, [1] trie */
	int fds[2] = { f->h, f->t };
	bool first[2] = { true, true };
	uint64_t now = xw_mono_ns(), dms = def->timeout_ns / 1000000ull;
	int rc = 0;

	for (int m = 0; m < 2; m++) {
		b[m].k = malloc(B * sizeof(*b[m].k));
		b[m].v = malloc(B * sizeof(*b[m].v));
		if (!b[m].k || !b[m].v)
			rc = xw_errf(err, XW_ESYS, "out of memory");
	}
	for (size_t i = 0; i < n && !rc; i++) {
		struct xw_set_key k[32];
		int nk = elem_keys(&e[i], k, 32);

		for (int j = 0; j < nk && !rc; j++) {
			int m = XW_SET_KEY_EXACT(&k[j]) ? 0 : 1;

			b[m].k[b[m].n] = k[j];
			elem_val(&e[i], dms, now, &k[j], &b[m].v[b[m].n]);
			if (++b[m].n == B) {
				rc = flush_batch(fds[m], &b[m], first[m], name, def, err);
				first[m] = false;
			}
		}
	}
	for (int m = 0; m < 2 && !rc; m++)
		rc = flush_batch(fds[m], &b[m], first[m], name, def, err);
	for (int m = 0; m < 2; m++) {
		free(b[m].k);
		free(b[m].v);
	}
	return rc;
}

static int write_elems(const struct set_fds *f, const struct xw_set_def *def,
		       const struct xw_set_elem *e, size_t n, bool del, const char *name,
		       struct xw_err *err)
{
	uint64_t now = xw_mono_ns();

	if (!del && n > 64) {
		int rc = write_batch(f, def, e, n, name, err);

		if (rc != 1)
			return rc;
	}

	for (size_t i = 0; i < n; i++) {
		struct xw_set_key k[32];
		int nk = elem_keys(&e[i], k, 32);

		for (int j = 0; j < nk; j++) {
			int fd = XW_SET_KEY_EXACT(&k[j]) ? f->h : f->t;
			struct xw_set_val v;

			elem_val(&e[i], def->timeout_ns / 1000000ull, now, &k[j], &v);
			if (del) {
				if (bpf_map_delete_elem(fd, &k[j]) && errno != ENOENT)
					return sys(err, "delete set element", errno);
			} else if (bpf_map_update_elem(fd, &k[j], &v, BPF_ANY)) {
				if (errno == ENOSPC || errno == E2BIG)
					return xw_errf(err, XW_ESYS, "set %s is full (size %u): %zu of "
						       "the %zu elements were added", name, def->size,
						       i, n);
				return sys(err, "add set element", errno);
			}
		}
	}
	return 0;
}

int xw_set_defs(struct xw_dp *dp, struct xw_set_def defs[XW_MAX_SETS])
{
	for (__u32 i = 0; i < XW_MAX_SETS; i++)
		if (bpf_map_lookup_elem(dp->map_fd[XW_M_SET_DEFS], &i, &defs[i]))
			return -errno;
	return 0;
}

uint32_t xw_set_find(struct xw_dp *dp, const char *name, struct xw_set_def *def)
{
	for (__u32 i = 1; i < XW_MAX_SETS; i++) {
		struct xw_set_def d;

		if (bpf_map_lookup_elem(dp->map_fd[XW_M_SET_DEFS], &i, &d))
			return 0;
		if (d.name[0] && !strncmp(d.name, name, sizeof(d.name))) {
			if (def)
				*def = d;
			return i;
		}
	}
	return 0;
}

/* The set maps `xwall set` uses, with their layout: bpf_obj_get of these
 * alone, not the whole datapath (a `set add` from fail2ban is one process). */
static const struct {
	enum xw_map_id id;
	__u32 type, key, value, max;
} set_layout[] = {
	{ XW_M_SET_DEFS, BPF_MAP_TYPE_ARRAY, 4, sizeof(struct xw_set_def), XW_MAX_SETS },
	{ XW_M_SET_CUR, BPF_MAP_TYPE_ARRAY, 4, 4, XW_MAX_SETS },
	{ XW_M_SET_HMAPS, BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, XW_SET_SLOTS },
	{ XW_M_SET_MAPS, BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, XW_SET_SLOTS },
};

int xw_sets_open(struct xw_dp *dp, struct xw_err *err)
{
	int rc;

	xw_dp_init(dp);
	rc = xw_dp_lock(dp, err);
	if (rc)
		return rc;
	if (!xw_dp_is_loaded())
		return xw_errf(err, -1, "xwall is not loaded (attach an interface or apply a rule "
			       "set first)");
	for (size_t i = 0; i < XW_ARRAY_SIZE(set_layout); i++) {
		const char *name = xw_map_names[set_layout[i].id];
		struct bpf_map_info info;
		__u32 len = sizeof(info);
		char p[256], what[200];
		int fd;

		snprintf(p, sizeof(p), "%s/%s", XW_PIN_DIR, name);
		fd = bpf_obj_get(p);
		if (fd < 0 && errno == ENOENT) {
			snprintf(what, sizeof(what), "it has no map %s", name);
			return xw_dp_foreign(err, what);
		}
		if (fd < 0)
			return sys(err, p, errno);
		dp->map_fd[set_layout[i].id] = fd;
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &len))
			return sys(err, name, errno);
		if (info.type != set_layout[i].type || info.key_size != set_layout[i].key ||
		    info.value_size != set_layout[i].value || info.max_entries != set_layout[i].max) {
			snprintf(what, sizeof(what), "map %s: type %u, key %u, value %u bytes, %u entries; "
				 "this xwall's: type %u, key %u, value %u bytes, %u entries", name,
				 info.type, info.key_size, info.value_size, info.max_entries,
				 set_layout[i].type, set_layout[i].key, set_layout[i].value,
				 set_layout[i].max);
			return xw_dp_foreign(err, what);
		}
	}
	return 0;
}

int xw_set_update(struct xw_dp *dp, uint32_t id, const struct xw_set_def *def,
		  const struct xw_set_elem *e, size_t n, bool del, struct xw_err *err)
{
	struct set_fds f = { -1, -1 };
	bool need[2] = { false, false };   /* hash, trie */
	__u32 cur;
	int rc = cur_of(dp, id, &cur);

	/* open only the map(s) these elements go to (one for a `set add`) */
	for (size_t i = 0; i < n && !(need[0] && need[1]); i++) {
		struct xw_set_key k[32];
		int nk = elem_keys(&e[i], k, 32);

		for (int j = 0; j < nk; j++)
			need[XW_SET_KEY_EXACT(&k[j]) ? 0 : 1] = true;
	}
	if (!rc && need[0] && (f.h = slot_fd(dp, XW_M_SET_HMAPS, XW_SET_SLOT(id, cur))) < 0)
		rc = f.h;
	if (!rc && need[1] && (f.t = slot_fd(dp, XW_M_SET_MAPS, XW_SET_SLOT(id, cur))) < 0)
		rc = f.t;
	if (rc) {
		fds_close(&f);
		return sys(err, "open the set's maps", rc);
	}
	rc = write_elems(&f, def, e, n, del, def->name, err);
	fds_close(&f);
	return rc;
}

static int replace(struct xw_dp *dp, uint32_t id, const struct xw_set_def *def,
		   const struct xw_set_elem *e, size_t n, bool bans, struct xw_err *err)
{
	struct set_fds f;
	int rc = new_maps(def->size, &f);

	if (rc)
		return sys(err, "create the set's maps", rc);
	rc = write_elems(&f, def, e, n, false, def->name, err);
	if (!rc)
		rc = install(dp, id, &f, bans, err);
	fds_close(&f);
	return rc;
}

int xw_set_replace(struct xw_dp *dp, uint32_t id, const struct xw_set_def *def,
		   const struct xw_set_elem *e, size_t n, struct xw_err *err)
{
	return replace(dp, id, def, e, n, false, err);
}

int xw_set_load(struct xw_dp *dp, uint32_t id, const struct xw_set_def *def,
		const struct xw_set_elem *e, size_t n, struct xw_err *err)
{
	return replace(dp, id, def, e, n, true, err);
}

/* Append every (key, value) of map fd (BPF_MAP_LOOKUP_BATCH where the
 * kernel has it for the map, else key by key).  0 or -errno. */
static int map_dump(int fd, struct xw_set_key **keys, struct xw_set_val **vals, size_t *n,
		    size_t *cap)
{
	struct xw_set_key k, last, *prev = NULL;
	__u32 batch = 0;
	bool more = true, first = true;

	/* hash maps: batches (a trie has no batch lookup) */
	while (more) {
		LIBBPF_OPTS(bpf_map_batch_opts, o);
		__u32 cnt;

		if (*cap - *n < 4096) {
			size_t nc = *cap ? *cap * 2 : 8192;
			struct xw_set_key *nk = realloc(*keys, nc * sizeof(*nk));
			struct xw_set_val *nv = nk ? realloc(*vals, nc * sizeof(*nv)) : NULL;

			if (nk)
				*keys = nk;
			if (!nk || !nv)
				return -ENOMEM;
			*vals = nv;
			*cap = nc;
		}
		cnt = 4096;
		if (bpf_map_lookup_batch(fd, first ? NULL : &batch, &batch, *keys + *n, *vals + *n,
					 &cnt, &o)) {
			if (errno != ENOENT) {
				if (first)
					break;   /* no batch lookup (a trie): key by key */
				return -errno;
			}
			more = false;
		}
		*n += cnt;
		first = false;
	}
	if (!first)
		return 0;
	while (bpf_map_get_next_key(fd, prev, &k) == 0) {
		struct xw_set_val v;

		if (*n == *cap) {
			size_t nc = *cap ? *cap * 2 : 1024;
			struct xw_set_key *nk = realloc(*keys, nc * sizeof(*nk));
			struct xw_set_val *nv = nk ? realloc(*vals, nc * sizeof(*nv)) : NULL;

			if (nk)
				*keys = nk;
			if (!nk || !nv)
				return -ENOMEM;
			*vals = nv;
			*cap = nc;
		}
		if (bpf_map_lookup_elem(fd, &k, &v) == 0) {
			(*keys)[*n] = k;
			(*vals)[*n] = v;
			(*n)++;
		}
		last = k;
		prev = &last;
	}
	return 0;
}

/* Every (key, value) of a set: its hash's, then its trie's (*nh: how many
 * are the hash's).  Caller frees. */
static int set_dump(const struct set_fds *f, struct xw_set_key **keys, struct xw_set_val **vals,
		    size_t *n, size_t *nh)
{
	size_t cap = 0;
	int rc;

	*keys = NULL;
	*vals = NULL;
	*n = 0;
	rc = map_dump(f->h, keys, vals, n, &cap);
	*nh = *n;
	if (!rc)
		rc = map_dump(f->t, keys, vals, n, &cap);
	return rc;
}

int xw_set_items(struct xw_dp *dp, uint32_t id, struct xw_set_item **items, size_t *n,
		 struct xw_err *err)
{
	struct xw_set_key *k = NULL;
	struct xw_set_val *v = NULL;
	size_t nk = 0, nh, m = 0;
	uint64_t now = xw_mono_ns();
	struct set_fds f;
	int rc = live_fds(dp, id, &f);

	*items = NULL;
	*n = 0;
	if (rc)
		return sys(err, "open the set's maps", rc);
	rc = set_dump(&f, &k, &v, &nk, &nh);
	fds_close(&f);
	if (rc) {
		free(k);
		free(v);
		return sys(err, "read the set", rc);
	}
	*items = calloc(nk + 1, sizeof(**items));
	if (!*items) {
		free(k);
		free(v);
		return xw_errf(err, XW_ESYS, "out of memory");
	}
	for (size_t i = 0; i < nk; i++) {
		struct xw_set_item it;
		bool dup = false;

		memset(&it, 0, sizeof(it));
		it.e.kind = k[i].kind;
		if (k[i].kind == XW_SETK_PORT) {
			it.e.lo = v[i].lo;
			it.e.hi = v[i].hi;
			/* a range is several prefixes: list it once */
			for (size_t j = 0; j < m && !dup; j++)
				dup = (*items)[j].e.kind == XW_SETK_PORT && (*items)[j].e.lo == it.e.lo &&
				      (*items)[j].e.hi == it.e.hi;
		} else {
			it.e.plen = (uint8_t)(k[i].prefixlen - 8);
			memcpy(it.e.addr, k[i].data, 16);
		}
		if (dup)
			continue;
		it.banned = v[i].banned;
		if (!v[i].expires_ns)
			it.left_ms = -1;
		else if ((int64_t)(v[i].expires_ns - now) <= 0)
			it.left_ms = 0;
		else
			it.left_ms = (int64_t)((v[i].expires_ns - now + 999999) / 1000000);
		(*items)[m++] = it;
	}
	*n = m;
	free(k);
	free(v);
	return 0;
}

int xw_set_gc(struct xw_dp *dp, uint64_t *removed, struct xw_err *err)
{
	struct xw_set_def defs[XW_MAX_SETS];
	int rc = xw_set_defs(dp, defs);

	*removed = 0;
	if (rc)
		return sys(err, "read the set definitions", rc);
	for (uint32_t id = 1; id < XW_MAX_SETS; id++) {
		struct xw_set_key *k = NULL;
		struct xw_set_val *v = NULL;
		size_t nk = 0, nh = 0;
		uint64_t now = xw_mono_ns();
		struct set_fds f;

		if (!defs[id].name[0] || live_fds(dp, id, &f))
			continue;
		rc = set_dump(&f, &k, &v, &nk, &nh);
		for (size_t i = 0; !rc && i < nk; i++)
			if (v[i].expires_ns && (int64_t)(v[i].expires_ns - now) <= 0 &&
			    bpf_map_delete_elem(i < nh ? f.h : f.t, &k[i]) == 0)
				(*removed)++;
		fds_close(&f);
		free(k);
		free(v);
		if (rc)
			return sys(err, "read a set", rc);
	}
	return 0;
}

/* ---- apply ---------------------------------------------------------------- */

int xw_sets_split(const struct xw_ruleset *rs, const uint32_t *slots, const uint32_t *ifx,
		  struct xw_ruleset *plain, uint32_t **pslots, uint32_t **pifx)
{
	size_t m = 0;

	*plain = *rs;
	plain->rules = calloc(rs->n + 1, sizeof(*plain->rules));
	*pslots = calloc(rs->n + 1, sizeof(**pslots));
	*pifx = calloc(rs->n + 1, sizeof(**pifx));
	if (!plain->rules || !*pslots || !*pifx) {
		free(plain->rules);
		free(*pslots);
		free(*pifx);
		plain->rules = NULL;
		return -1;
	}
	for (size_t i = 0; i < rs->n; i++) {
		if (xw_rule_uses_sets(&rs->rules[i]))
			continue;
		plain->rules[m] = rs->rules[i];
		(*pslots)[m] = slots[i];
		(*pifx)[m] = ifx ? ifx[i] : 0;
		m++;
	}
	plain->n = plain->cap = m;
	plain->n_sets = 0;
	plain->sets = NULL;
	return 0;
}

/* Compile the rules with set references into set rule entries: their other
 * fields go through the classifier compiler as if they were limit rules
 * (one mask/key entry per combination of list values), then get set ids. */
static int compile_set_rules(const struct xw_ruleset *rs, const uint32_t *slots,
			     const uint32_t *ifx, const uint32_t *ids_of_decl,
			     struct xw_set_rule *out, uint32_t *n_out, uint8_t *uses_ct,
			     struct xw_err *err)
{
	struct xw_ruleset tmp;
	uint32_t *ts, *ti;
	struct xw_compiled c = { 0 };
	size_t m = 0;
	int rc = 0;

	*n_out = 0;
	xw_ruleset_init(&tmp);
	tmp.rules = calloc(rs->n + 1, sizeof(*tmp.rules));
	ts = calloc(rs->n + 1, sizeof(*ts));
	ti = calloc(rs->n + 1, sizeof(*ti));
	if (!tmp.rules || !ts || !ti) {
		rc = xw_errf(err, XW_ESYS, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < rs->n; i++) {
		struct xw_rule r;

		if (!xw_rule_uses_sets(&rs->rules[i]))
			continue;
		r = rs->rules[i];
		if (r.set_ref[XW_REF_SRC][0])
			r.present &= ~(uint32_t)XM_SRC;
		if (r.set_ref[XW_REF_DST][0])
			r.present &= ~(uint32_t)XM_DST;
		if (r.set_ref[XW_REF_SPORT][0])
			r.present &= ~(uint32_t)XM_SPORT;
		if (r.set_ref[XW_REF_DPORT][0])
			r.present &= ~(uint32_t)XM_DPORT;
		/* a port set needs ports: keep the protocol's presence check */
		r.present |= XM_LIMIT;
		r.limit_rate = 1;
		r.limit_period = 1;
		r.limit_burst = 0;
		r.limit_per_src = 0;
		tmp.rules[m] = r;
		ts[m] = slots[i];
		ti[m] = ifx ? ifx[i] : 0;
		m++;
	}
	tmp.n = tmp.cap = m;
	if (!m)
		goto out;
	if (xw_compile(&tmp, ts, ti, &c, err)) {
		char msg[sizeof(err->msg)];

		snprintf(msg, sizeof(msg), "%s", err->msg);
		rc = xw_errf(err, XW_EINPUT, "rules with set references: %s", msg);
		goto out;
	}
	if (c.n_limits > XW_MAX_SET_RULES) {
		rc = xw_errf(err, XW_EINPUT, "rules with set references expand to %u entries, at most "
			     "%u are supported", c.n_limits, XW_MAX_SET_RULES);
		goto out;
	}
	*uses_ct = c.uses_ct;
	for (uint32_t k = 0; k < c.n_limits; k++) {
		const struct xw_limit_entry *le = &c.limits[k];
		struct xw_set_rule *e = &out[k];
		const struct xw_rule *r = NULL;

		memset(e, 0, sizeof(*e));
		/* no `limit` really: the entry matches what the fields match */
		e->mask = le->mask;
		e->key = le->key;
		e->prio = le->prio;
		e->slot = le->slot;
		e->verdict = le->verdict;
		e->flags = le->flags;
		for (size_t i = 0; i < rs->n && !r; i++)
			if (rs->rules[i].prio == le->prio)
				r = &rs->rules[i];
		for (int f = 0; r && f < XW_REF_MAX; f++)
			for (size_t d = 0; r->set_ref[f][0] && d < rs->n_sets; d++)
				if (!strcmp(rs->sets[d].name, r->set_ref[f]))
					e->set[f] = (__u16)ids_of_decl[d];
	}
	*n_out = c.n_limits;
out:
	xw_compiled_free(&c);
	free(tmp.rules);
	free(ts);
	free(ti);
	return rc;
}

/* Every element of set id into the maps to (0 or -errno). */
static int copy_set(struct xw_dp *dp, uint32_t id, const struct set_fds *to)
{
	struct xw_set_key *k = NULL;
	struct xw_set_val *v = NULL;
	size_t n = 0, nh = 0;
	struct set_fds from;
	int rc = live_fds(dp, id, &from);

	if (!rc)
		rc = set_dump(&from, &k, &v, &n, &nh);
	fds_close(&from);
	for (size_t i = 0; !rc && i < n; i++)
		if (bpf_map_update_elem(i < nh ? to->h : to->t, &k[i], &v[i], BPF_ANY))
			rc = -errno;
	free(k);
	free(v);
	return rc;
}

/* ids[d] for each declared set: the slot of the live set of its name, else
 * a slot no set uses. */
static int assign_set_ids(const struct xw_set_def *defs, const struct xw_ruleset *rs,
			  uint32_t *ids, struct xw_err *err)
{
	uint8_t taken[XW_MAX_SETS] = { 0 };

	for (size_t d = 0; d < rs->n_sets; d++)
		for (uint32_t id = 1; id < XW_MAX_SETS && !ids[d]; id++)
			if (defs[id].name[0] && !strncmp(defs[id].name, rs->sets[d].name, XW_SETNAME_LEN))
				ids[d] = id, taken[id] = 1;
	for (size_t d = 0; d < rs->n_sets; d++) {
		for (uint32_t id = 1; id < XW_MAX_SETS && !ids[d]; id++)
			if (!defs[id].name[0] && !taken[id])
				ids[d] = id, taken[id] = 1;
		if (!ids[d])
			return xw_errf(err, XW_EINPUT, "more than %u sets", XW_MAX_SETS - 1);
	}
	return 0;
}

/* Declared set sd into slot id (od: what the slot holds now): kept as it
 * is when nothing about it changes, else new maps with the declared
 * elements, or the live ones copied (a new size); then its definition. */
static int install_decl(struct xw_dp *dp, const struct xw_set_decl *sd,
			const struct xw_set_def *od, uint32_t id, struct xw_err *err)
{
	bool same = od->name[0] && od->type == sd->type;
	struct xw_set_def nd;
	int rc = 0;

	memset(&nd, 0, sizeof(nd));
	snprintf(nd.name, sizeof(nd.name), "%s", sd->name);
	nd.type = sd->type;
	nd.flags = sd->flags;
	nd.size = sd->size ? sd->size : XW_SET_DEFAULT_SIZE;
	nd.timeout_ns = sd->timeout_ms * 1000000ull;
	if (!same || sd->has_elements || od->size != nd.size) {
		struct set_fds nf;

		rc = new_maps(nd.size, &nf);
		if (rc)
			return sys(err, "create the set's maps", rc);
		if (same && !sd->has_elements) {
			rc = copy_set(dp, id, &nf);
			if (rc)
				rc = rc == -ENOSPC || rc == -E2BIG ?
				     xw_errf(err, XW_EINPUT, "set %s: its elements do not fit size %u",
					     sd->name, nd.size) :
				     sys(err, "copy a set", rc);
		} else {
			rc = write_elems(&nf, &nd, sd->elems, sd->n_elems, false, sd->name, err);
		}
		if (!rc)
			rc = install(dp, id, &nf, false, err);
		fds_close(&nf);
		if (rc)
			return rc;
	}
	if (bpf_map_update_elem(dp->map_fd[XW_M_SET_DEFS], &id, &nd, 0))
		return sys(err, "write a set definition", errno);
	return 0;
}

/* Generation gen's set rules. */
static int write_set_rules(struct xw_dp *dp, uint32_t gen, const struct xw_set_rule *sr,
			   uint32_t nsr, struct xw_err *err)
{
	for (uint32_t i = 0; i < nsr; i++) {
		__u32 k = gen * XW_MAX_SET_RULES + i;

		if (bpf_map_update_elem(dp->map_fd[XW_M_SET_RULES], &k, &sr[i], 0))
			return sys(err, "write set rules", errno);
	}
	if (bpf_map_update_elem(dp->map_fd[XW_M_SET_NRULES], &gen, &nsr, 0))
		return sys(err, "write set rules", errno);
	return 0;
}

/* Generation gen's `ban` rules: the old ones of gen removed, then one per
 * rule with `ban`, naming its set's slot. */
static int write_bans(struct xw_dp *dp, const struct xw_ruleset *rs, const uint32_t *ids,
		      uint32_t gen, struct xw_err *err)
{
	struct xw_ban_key bk, *prev = NULL, del[128];
	size_t nd = 0;

	while (bpf_map_get_next_key(dp->map_fd[XW_M_SET_BANS], prev, &bk) == 0 && nd < 128) {
		del[nd] = bk;
		prev = &del[nd];
		nd++;
	}
	for (size_t i = 0; i < nd; i++)
		if (del[i].gen == gen)
			bpf_map_delete_elem(dp->map_fd[XW_M_SET_BANS], &del[i]);
	for (size_t i = 0; i < rs->n; i++) {
		const struct xw_rule *r = &rs->rules[i];
		struct xw_ban_val bv = { 0 };

		if (!r->ban_set[0])
			continue;
		for (size_t d = 0; d < rs->n_sets; d++)
			if (!strcmp(rs->sets[d].name, r->ban_set))
				bv.set = ids[d];
		bv.timeout_ns = r->ban_ms * 1000000ull;
		bk.gen = gen;
		bk.prio = r->prio;
		if (bpf_map_update_elem(dp->map_fd[XW_M_SET_BANS], &bk, &bv, 0))
			return errno == E2BIG ? xw_errf(err, XW_EINPUT, "at most 64 rules with 'ban'")
					      : sys(err, "write bans", errno);
	}
	return 0;
}

int xw_sets_copy_generation(struct xw_dp *dp, uint32_t from, uint32_t to, struct xw_err *err)
{
	struct xw_set_rule sr[XW_MAX_SET_RULES];
	struct xw_ban_key bk, *prev = NULL, keys[2 * 64 + 1];
	struct xw_ban_val bv[2 * 64 + 1];
	uint32_t nsr = 0, nk = 0;

	if (bpf_map_lookup_elem(dp->map_fd[XW_M_SET_NRULES], &from, &nsr) && errno != ENOENT)
		return sys(err, "read set rules", errno);
	if (nsr > XW_MAX_SET_RULES)
		nsr = XW_MAX_SET_RULES;
	for (uint32_t i = 0; i < nsr; i++) {
		__u32 k = from * XW_MAX_SET_RULES + i;

		if (bpf_map_lookup_elem(dp->map_fd[XW_M_SET_RULES], &k, &sr[i]))
			return sys(err, "read set rules", errno);
	}
	/* every ban key (at most 64 per generation), then those of `to` go
	 * and `from`'s come back as `to`'s */
	while (nk < XW_ARRAY_SIZE(keys) &&
	       bpf_map_get_next_key(dp->map_fd[XW_M_SET_BANS], prev, &keys[nk]) == 0) {
		prev = &keys[nk];
		if (bpf_map_lookup_elem(dp->map_fd[XW_M_SET_BANS], prev, &bv[nk]) == 0)
			nk++;
	}
	for (uint32_t i = 0; i < nk; i++)
		if (keys[i].gen == to)
			bpf_map_delete_elem(dp->map_fd[XW_M_SET_BANS], &keys[i]);
	for (uint32_t i = 0; i < nk; i++) {
		if (keys[i].gen != from)
			continue;
		bk = keys[i];
		bk.gen = to;
		if (bpf_map_update_elem(dp->map_fd[XW_M_SET_BANS], &bk, &bv[i], 0))
			return sys(err, "write bans", errno);
	}
	return write_set_rules(dp, to, sr, nsr, err);
}

int xw_sets_apply_prepare(struct xw_dp *dp, const struct xw_ruleset *rs, const uint32_t *slots,
			  const uint32_t *ifx, uint32_t gen, uint8_t *uses_ct, struct xw_err *err)
{
	struct xw_set_def defs[XW_MAX_SETS];
	struct xw_set_rule *sr = NULL;
	uint32_t *ids = NULL, nsr = 0;
	int rc;

	*uses_ct = 0;
	rc = xw_set_defs(dp, defs);
	if (rc)
		return sys(err, "read the set definitions", rc);
	ids = calloc(rs->n_sets + 1, sizeof(*ids));
	sr = calloc(XW_MAX_SET_RULES * 4, sizeof(*sr));
	if (!ids || !sr)
		rc = xw_errf(err, XW_ESYS, "out of memory");
	if (!rc)
		rc = assign_set_ids(defs, rs, ids, err);
	/* compile first: an input error changes nothing */
	if (!rc)
		rc = compile_set_rules(rs, slots, ifx, ids, sr, &nsr, uses_ct, err);
	for (size_t d = 0; !rc && d < rs->n_sets; d++)
		rc = install_decl(dp, &rs->sets[d], &defs[ids[d]], ids[d], err);
	/* this generation's set rules, then its bans */
	if (!rc)
		rc = write_set_rules(dp, gen, sr, nsr, err);
	if (!rc)
		rc = write_bans(dp, rs, ids, gen, err);
	free(ids);
	free(sr);
	return rc;
}

int xw_sets_apply_finish(struct xw_dp *dp, const struct xw_ruleset *rs, struct xw_err *err)
{
	struct xw_set_def defs[XW_MAX_SETS];
	int rc = xw_set_defs(dp, defs);

	if (rc)
		return sys(err, "read the set definitions", rc);
	for (uint32_t id = 1; id < XW_MAX_SETS; id++) {
		struct xw_set_def zero;

		if (!defs[id].name[0] || xw_ruleset_set(rs, defs[id].name))
			continue;
		memset(&zero, 0, sizeof(zero));
		if (bpf_map_update_elem(dp->map_fd[XW_M_SET_DEFS], &id, &zero, 0))
			return sys(err, "remove a set", errno);
		for (__u32 c = 0; c < 2; c++) {
			__u32 slot = XW_SET_SLOT(id, c);

			if ((bpf_map_delete_elem(dp->map_fd[XW_M_SET_HMAPS], &slot) && errno != ENOENT) ||
			    (bpf_map_delete_elem(dp->map_fd[XW_M_SET_MAPS], &slot) && errno != ENOENT))
				return sys(err, "remove a set", errno);
		}
	}
	return 0;
}

/* ---- lint and verify ------------------------------------------------------ */

#define MATERIALIZE_MAX 4096   /* the rule language's list limit */

/* The elements a rule on set d sees: the file's, or the live set's. */
static int set_elements(const struct xw_set_decl *d, struct xw_dp *dp, struct xw_set_elem **out,
			size_t *n, struct xw_err *err)
{
	struct xw_set_item *it = NULL;
	size_t ni = 0, m = 0;
	uint32_t id;

	*out = NULL;
	*n = 0;
	if (d->has_elements || !dp || !(id = xw_set_find(dp, d->name, NULL))) {
		if (!d->n_elems)
			return 0;
		*out = malloc(d->n_elems * sizeof(**out));
		if (!*out)
			return xw_errf(err, XW_ESYS, "out of memory");
		memcpy(*out, d->elems, d->n_elems * sizeof(**out));
		*n = d->n_elems;
		return 0;
	}
	if (xw_set_items(dp, id, &it, &ni, err))
		return XW_ESYS;
	*out = calloc(ni + 1, sizeof(**out));
	if (!*out) {
		free(it);
		return xw_errf(err, XW_ESYS, "out of memory");
	}
	for (size_t i = 0; i < ni; i++)
		if (it[i].left_ms != 0)
			(*out)[m++] = it[i].e;
	free(it);
	*n = m;
	return 0;
}

int xw_sets_materialize(struct xw_ruleset *rs, struct xw_dp *dp, struct xw_err *err)
{
	size_t keep = 0;

	for (size_t i = 0; i < rs->n; i++) {
		struct xw_rule *r = &rs->rules[i];
		bool empty = false;

		for (int k = 0; k < XW_REF_MAX; k++) {
			const struct xw_set_decl *d;
			struct xw_set_elem *el;
			size_t n;
			int rc;

			if (!r->set_ref[k][0])
				continue;
			d = xw_ruleset_set(rs, r->set_ref[k]);
			if (!d)
				return rfail(err, r, r->set_col[k], "no set named '%s'", r->set_ref[k]);
			rc = set_elements(d, dp, &el, &n, err);
			if (rc)
				return rc;
			empty |= n == 0;
			if (n > MATERIALIZE_MAX) {
				free(el);
				return rfail(err, r, r->set_col[k], "set %s has %zu elements: this check "
					     "handles sets of up to %u", d->name, n, MATERIALIZE_MAX);
			}
			if (k <= XW_REF_DST) {
				struct xw_cidr *c = calloc(n + 1, sizeof(*c));

				if (!c) {
					free(el);
					return xw_errf(err, XW_ESYS, "out of memory");
				}
				for (size_t j = 0; j < n; j++) {
					c[j].family = el[j].kind == XW_SETK_V4 ? 4 : 6;
					c[j].plen = el[j].plen;
					memcpy(c[j].addr, el[j].addr, 16);
				}
				if (!n) {   /* an empty set: the rule goes below */
					c[0].family = 6;
					c[0].plen = 128;
					n = 1;
				}
				free(k == XW_REF_SRC ? r->src : r->dst);
				if (k == XW_REF_SRC) {
					r->src = c;
					r->n_src = n;
					r->present |= XM_SRC;
				} else {
					r->dst = c;
					r->n_dst = n;
					r->present |= XM_DST;
				}
			} else {
				struct xw_range *g = calloc(n + 1, sizeof(*g));

				if (!g) {
					free(el);
					return xw_errf(err, XW_ESYS, "out of memory");
				}
				for (size_t j = 0; j < n; j++) {
					g[j].lo = el[j].lo;
					g[j].hi = el[j].hi;
				}
				if (!n)
					n = 1;   /* an empty set: the rule goes below */
				free(k == XW_REF_SPORT ? r->sport : r->dport);
				if (k == XW_REF_SPORT) {
					r->sport = g;
					r->n_sport = n;
					r->present |= XM_SPORT;
				} else {
					r->dport = g;
					r->n_dport = n;
					r->present |= XM_DPORT;
				}
			}
			free(el);
			r->set_ref[k][0] = '\0';
		}
		/* a rule on an empty set never matches: it is not there */
		if (empty)
			xw_rule_free(r);
		else
			rs->rules[keep++] = *r;
	}
	rs->n = keep;
	return 0;
}

/* An entry is well-formed for its set. */
static const char *bad_entry(const struct xw_set_def *d, const struct xw_set_key *k,
			     const struct xw_set_val *v)
{
	unsigned bits, plen;

	if (k->kind != XW_SETK_V4 && k->kind != XW_SETK_V6 && k->kind != XW_SETK_PORT)
		return "unknown element kind";
	if ((k->kind == XW_SETK_PORT) != (d->type == XW_SETT_SERVICE) ||
	    (k->kind == XW_SETK_V4 && d->type == XW_SETT_IPV6) ||
	    (k->kind == XW_SETK_V6 && d->type == XW_SETT_IPV4))
		return "element of another type than the set";
	bits = XW_SET_KEY_BITS(k->kind);
	if (k->prefixlen < 8 || k->prefixlen > 8 + bits)
		return "prefix length out of range";
	if (v->klen != k->prefixlen)
		return "value's prefix length differs from the key's";
	plen = k->prefixlen - 8;
	for (unsigned b = plen; b < 128; b++)
		if (k->data[b / 8] & (0x80u >> (b % 8)))
			return "bits set past the prefix";
	if (k->kind == XW_SETK_PORT) {
		unsigned lo = ((unsigned)k->data[0] << 8) | k->data[1];
		unsigned hi = lo + (1u << (16 - plen)) - 1;

		if (lo < v->lo || hi > v->hi)
			return "port prefix outside the range it was given for";
	}
	if (plen != bits && !(d->flags & XW_SETF_INTERVAL) && k->kind != XW_SETK_PORT)
		return "a prefix in a set without 'flags interval'";
	return NULL;
}

/* What xw_sets_verify reports to, and how often. */
struct sv {
	void (*report)(const char *msg, void *arg);
	void *arg;
	size_t *problems;
};

static void problem(struct sv *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct sv *v, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	v->report(msg, v->arg);
	(*v->problems)++;
}

/* Closes the maps of slot pair c of set slot id; says whether there were. */
static bool slot_has_maps(struct xw_dp *dp, uint32_t id, __u32 c)
{
	int h = slot_fd(dp, XW_M_SET_HMAPS, XW_SET_SLOT(id, c));
	int t = slot_fd(dp, XW_M_SET_MAPS, XW_SET_SLOT(id, c));

	if (h >= 0)
		close(h);
	if (t >= 0)
		close(t);
	return h >= 0 || t >= 0;
}

/* The live maps of set d (slot id): their kind and size, and each entry
 * well-formed and in the right one of the two.  Adds their entries to
 * *n_elems. */
static int verify_maps(const struct xw_set_def *d, const struct set_fds *f, struct sv *v,
		       size_t *n_elems)
{
	struct xw_set_key *k = NULL;
	struct xw_set_val *val = NULL;
	size_t n = 0, nh = 0;
	int rc;

	for (int m = 0; m < 2; m++) {
		struct bpf_map_info info;
		__u32 il = sizeof(info), want = m ? BPF_MAP_TYPE_LPM_TRIE : BPF_MAP_TYPE_HASH;

		memset(&info, 0, sizeof(info));
		if (!bpf_obj_get_info_by_fd(m ? f->t : f->h, &info, &il) &&
		    (info.type != want || info.max_entries != d->size ||
		     info.key_size != sizeof(struct xw_set_key) ||
		     info.value_size != sizeof(struct xw_set_val)))
			problem(v, "set %s: its %s is not %s of %u entries", d->name,
				m ? "prefix map" : "element map", m ? "an LPM trie" : "a hash map",
				d->size);
	}
	rc = set_dump(f, &k, &val, &n, &nh);
	for (size_t i = 0; !rc && i < n; i++) {
		const char *why = bad_entry(d, &k[i], &val[i]);

		if (!why && (i < nh) != XW_SET_KEY_EXACT(&k[i]))
			why = i < nh ? "a prefix in the element (hash) map" :
				       "a full-length element in the prefix (trie) map";
		if (why)
			problem(v, "set %s: entry %zu: %s", d->name, i, why);
	}
	*n_elems += n;
	free(k);
	free(val);
	return rc;
}

/* Set slot id: free and empty, or defined as the live rule set declares,
 * with its maps in the current slot pair. */
static int verify_slot(struct xw_dp *dp, const struct xw_ruleset *live,
		       const struct xw_set_def *d, uint32_t id, struct sv *v, size_t *n_sets,
		       size_t *n_elems)
{
	const struct xw_set_decl *sd;
	struct set_fds f;
	__u32 cur = 0;
	int lrc, rc;

	if (!d->name[0]) {
		for (__u32 c = 0; c < 2; c++)
			if (slot_has_maps(dp, id, c))
				problem(v, "set slot %u holds a map but no set is defined there", id);
		return 0;
	}
	(*n_sets)++;
	sd = xw_ruleset_set(live, d->name);
	if (!sd)
		problem(v, "set %s is in the datapath but not declared by the live rule set",
			d->name);
	else if (sd->type != d->type || sd->flags != d->flags ||
		 sd->timeout_ms * 1000000ull != d->timeout_ns ||
		 (sd->size ? sd->size : XW_SET_DEFAULT_SIZE) != d->size)
		problem(v, "set %s: the datapath's definition differs from the declaration",
			d->name);
	lrc = live_fds(dp, id, &f);
	if (lrc) {
		problem(v, "set %s has no maps (%s)", d->name, strerror(-lrc));
		return 0;
	}
	/* the other pair is emptied when a replace switches to it */
	if (!cur_of(dp, id, &cur) && slot_has_maps(dp, id, cur ^ 1))
		problem(v, "set %s: its unused slot pair still holds maps", d->name);
	rc = verify_maps(d, &f, v, n_elems);
	fds_close(&f);
	return rc;
}

/* The live generation's set rules name defined sets of a fitting type. */
static int verify_set_rules(struct xw_dp *dp, const struct xw_set_def *defs, struct sv *v)
{
	struct xw_cfg cfg;
	__u32 zero = 0, g, nr = 0;

	if (bpf_map_lookup_elem(dp->map_fd[XW_M_CFG], &zero, &cfg))
		return -errno;
	g = cfg.active & 1;
	if (bpf_map_lookup_elem(dp->map_fd[XW_M_SET_NRULES], &g, &nr))
		return -errno;
	for (__u32 i = 0; i < nr && i < XW_MAX_SET_RULES; i++) {
		struct xw_set_rule e;
		__u32 key = g * XW_MAX_SET_RULES + i;

		if (bpf_map_lookup_elem(dp->map_fd[XW_M_SET_RULES], &key, &e))
			return -errno;
		for (int f = 0; f < XW_SETR_MAX; f++) {
			uint16_t id = e.set[f];

			if (!id)
				continue;
			if (id >= XW_MAX_SETS || !defs[id].name[0])
				problem(v, "set rule %u (rule %u) names set slot %u, which is free", i,
					e.prio, id);
			else if ((f >= XW_SETR_SPORT) != (defs[id].type == XW_SETT_SERVICE))
				problem(v, "set rule %u (rule %u): set %s has the wrong type", i, e.prio,
					defs[id].name);
		}
	}
	return 0;
}

int xw_sets_verify(struct xw_dp *dp, const struct xw_ruleset *live,
		   void (*report)(const char *msg, void *arg), void *arg,
		   size_t *n_sets, size_t *n_elems, size_t *problems)
{
	struct xw_set_def defs[XW_MAX_SETS];
	struct sv v = { report, arg, problems };
	int rc = xw_set_defs(dp, defs);

	*n_sets = *n_elems = *problems = 0;
	if (rc)
		return rc;
	for (uint32_t id = 1; id < XW_MAX_SETS && !rc; id++)
		rc = verify_slot(dp, live, &defs[id], id, &v, n_sets, n_elems);
	if (rc)
		return rc;
	for (size_t d = 0; d < live->n_sets; d++)
		if (!xw_set_find(dp, live->sets[d].name, NULL))
			problem(&v, "set %s is declared but not in the datapath", live->sets[d].name);
	return verify_set_rules(dp, defs, &v);
}
