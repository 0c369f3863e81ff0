// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Parser of the rule language (docs/rules.md).
 *
 * A line is cut into words (with their columns); a rule is
 * `rule PRIO` followed by words that each start a match (or `in`, `out`, `log`),
 * in any order, and the verdict as the last word.  Each match kind has its own
 * small parser, found through the table `matches`.  Values that are lists or
 * carry a '/' may be spread over several words ("22, 80", "syn / syn,ack"):
 * take_value() glues them back, keeping each character's column for messages.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "rule.h"
#include "sets.h"
#include "xwall.h"

/* Name tables, defined in rule_format.c (rule.h is the fixed public header). */
extern const char *const xw_proto_name[256];
extern const char *const xw_icmp_type_name[256];
extern const char *const xw_icmp6_type_name[256];
extern const char *const xw_icmp_code_name[256];
extern const char *const xw_icmp6_code_name[256];
extern const char *const xw_tcp_flag_name[8];
extern const char *const xw_ct_name[4];
extern const uint16_t xw_ethtype_val[4];
extern const char *const xw_ethtype_name[4];

#define LIST_MAX 4096          /* values in one list */
#define QMAX     64            /* longest word quoted in a message */

/* printf arguments for "'%.*s%s'": a word, cut to QMAX characters. */
#define Q(s, len) (int)((len) > QMAX ? QMAX : (len)), (s), ((len) > QMAX ? "..." : "")

struct word {
	const char *s;
	int len, col;
};

struct val {               /* a value glued from one or more words */
	char *s;           /* NUL-terminated */
	int *col;          /* column of each character */
	size_t len, cap;
};

struct parser {
	const char *fname;
	int line;
	struct word *w;    /* words of the current line */
	size_t nw, capw, i;
	int endcol;        /* column just past the last word */
	struct val v;
	struct xw_err *err;
	int seen_dir, seen_log, prio_col;   /* current rule */
	int seen_comment;
};

static int fail(struct parser *p, int col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct parser *p, int col, const char *fmt, ...)
{
	char *m = p->err->msg;
	size_t sz = sizeof(p->err->msg);
	int n = snprintf(m, sz, "%s:%d:%d: ", p->fname, p->line, col);
	va_list ap;

	if (n >= 0 && (size_t)n < sz) {
		va_start(ap, fmt);
		vsnprintf(m + n, sz - n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int oom(struct parser *p, int col)
{
	return fail(p, col, "out of memory");
}

/* Make room for one more element in *a (n used, *cap allocated). */
static int grow(void **a, size_t n, size_t *cap, size_t sz)
{
	void *na;
	size_t nc;

	if (n < *cap)
		return 0;
	nc = *cap ? *cap * 2 : 4;
	na = realloc(*a, nc * sz);
	if (!na)
		return -1;
	*a = na;
	*cap = nc;
	return 0;
}

/* ---- lexer ---------------------------------------------------------------- */

static int is_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static int is_ctrl(unsigned char c)
{
	return (c < 0x20 && !is_blank(c)) || c == 0x7f;
}

/* A quoted string starting at s[*k] (a '"'): one word up to the closing
 * quote, blanks and '#' included; a backslash escapes the next character
 * (m_comment decodes).  No control characters; a blank, '#' or the end of
 * the line must follow. */
static int lex_string(struct parser *p, const char *s, size_t len, size_t *k)
{
	size_t b = *k, e = b + 1;

	while (e < len && s[e] != '"') {
		if (s[e] == '\\' && e + 1 < len)
			e++;
		if ((unsigned char)s[e] < 0x20 || s[e] == 0x7f)
			return fail(p, (int)e + 1, "invalid character 0x%02x in a string",
				    (unsigned char)s[e]);
		e++;
	}
	if (e >= len)
		return fail(p, (int)b + 1, "unterminated string (no closing '\"')");
	e++;
	if (e < len && !is_blank(s[e]) && s[e] != '#')
		return fail(p, (int)e + 1, "expected a blank after the closing '\"'");
	*k = e;
	return 0;
}

/* Cut s[0..len) (one line, no '\n') into words; '#' starts a comment. */
static int lex_line(struct parser *p, const char *s, size_t len)
{
	size_t k = 0;

	p->nw = p->i = 0;
	p->endcol = 1;
	if (len > INT_MAX / 2)
		return fail(p, 1, "line too long");
	while (k < len && s[k] != '#') {
		size_t b = k;

		if (is_blank(s[k])) {
			k++;
			continue;
		}
		if (is_ctrl(s[k]))
			return fail(p, (int)k + 1, "invalid character 0x%02x", (unsigned char)s[k]);
		if (s[k] == '"') {
			if (lex_string(p, s, len, &k))
				return -1;
		} else {
			while (k < len && !is_blank(s[k]) && !is_ctrl(s[k]) && s[k] != '#')
				k++;
		}
		if (grow((void **)&p->w, p->nw, &p->capw, sizeof(*p->w)))
			return oom(p, (int)b + 1);
		p->w[p->nw++] = (struct word){ s + b, (int)(k - b), (int)b + 1 };
		p->endcol = (int)k + 1;
	}
	return 0;
}

static const struct word *peek(const struct parser *p)
{
	return p->i < p->nw ? &p->w[p->i] : NULL;
}

static int is(const struct word *w, const char *kw)
{
	return w && (size_t)w->len == strlen(kw) && !memcmp(w->s, kw, w->len);
}

static int eat(struct parser *p, const char *kw)
{
	if (!is(peek(p), kw))
		return 0;
	p->i++;
	return 1;
}

/* The next word, or an error naming what is missing after the previous word. */
static const struct word *need(struct parser *p, const char *what)
{
	const struct word *prev = p->i ? &p->w[p->i - 1] : NULL;

	if (p->i >= p->nw) {
		if (prev)
			fail(p, p->endcol, "missing %s after '%.*s%s'", what,
			     Q(prev->s, (size_t)prev->len));
		else
			fail(p, p->endcol, "missing %s", what);
		return NULL;
	}
	return &p->w[p->i++];
}

static int val_push(struct parser *p, const struct word *w)
{
	struct val *v = &p->v;

	if (v->len + w->len + 1 > v->cap) {
		size_t cap = (v->len + w->len + 1) * 2;
		char *s = realloc(v->s, cap);
		int *col;

		if (!s)
			return oom(p, w->col);
		v->s = s;
		col = realloc(v->col, cap * sizeof(*col));
		if (!col)
			return oom(p, w->col);
		v->col = col;
		v->cap = cap;
	}
	for (int k = 0; k < w->len; k++) {
		v->s[v->len] = w->s[k];
		v->col[v->len++] = w->col + k;
	}
	v->s[v->len] = '\0';
	return 0;
}

static int glued(char c)
{
	return c == ',' || c == '/';
}

/* Take the next word into p->v, with the following words while a ',' or '/'
 * joins them. */
static int take_value(struct parser *p, const char *what)
{
	const struct word *w = need(p, what);

	if (!w)
		return -1;
	p->v.len = 0;
	if (val_push(p, w))
		return -1;
	while ((w = peek(p)) && (glued(p->v.s[p->v.len - 1]) || glued(w->s[0]))) {
		if (val_push(p, w))
			return -1;
		p->i++;
	}
	return 0;
}

/* Column of offset off in p->v (one past the end for off == len). */
static int vcol(const struct parser *p, size_t off)
{
	return off < p->v.len ? p->v.col[off] : p->v.col[p->v.len - 1] + 1;
}

typedef int (*elem_fn)(struct parser *p, size_t off, size_t len, void *ctx);

/* Call fn on each comma-separated element of p->v.s[from..to). */
static int each_elem(struct parser *p, size_t from, size_t to, const char *what,
		     elem_fn fn, void *ctx)
{
	size_t k = from, count = 0;

	for (;;) {
		size_t e = k;

		while (e < to && p->v.s[e] != ',')
			e++;
		if (++count > LIST_MAX)
			return fail(p, vcol(p, k), "too many values in %s list (max %d)",
				    what, LIST_MAX);
		if (fn(p, k, e - k, ctx))
			return -1;
		if (e >= to)
			return 0;
		k = e + 1;
	}
}

/* ---- values --------------------------------------------------------------- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* s[0..len) in base 10 or 16, <= max: 0, or -1 not a number, -2 above max. */
static int parse_num(const char *s, size_t len, unsigned base, uint64_t max, uint64_t *out)
{
	uint64_t x = 0;
	int big = 0;

	if (!len)
		return -1;
	for (size_t k = 0; k < len; k++) {
		int d = hexval(s[k]);

		if (d < 0 || (unsigned)d >= base)
			return -1;
		if (!big)
			x = x * base + (unsigned)d;
		if (x > max)
			big = 1;
	}
	if (big)
		return -2;
	*out = x;
	return 0;
}

static int parse_uint(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	return parse_num(s, len, 10, max, out);
}

/* What a numeric value is called, its maximum and its names (NULL: none). */
struct vdesc {
	const char *what;
	unsigned max;
	const char *const *names;   /* [max + 1] */
};

static const struct vdesc d_port = { "port", 65535, NULL };
static const struct vdesc d_proto = { "protocol", 255, xw_proto_name };
static const struct vdesc d_icmp_type = { "icmp type", 255, xw_icmp_type_name };
static const struct vdesc d_icmp_code = { "icmp code", 255, xw_icmp_code_name };
static const struct vdesc d_icmp6_type = { "icmpv6 type", 255, xw_icmp6_type_name };
static const struct vdesc d_icmp6_code = { "icmpv6 code", 255, xw_icmp6_code_name };

/* A number or a name: 0, or -1 not a value, -2 a number above max. */
static int desc_value(const struct vdesc *d, const char *s, size_t len, unsigned *v)
{
	uint64_t x;
	int rc = parse_uint(s, len, d->max, &x);

	if (rc != -1) {
		if (!rc)
			*v = (unsigned)x;
		return rc;
	}
	for (unsigned i = 0; d->names && i <= d->max; i++) {
		if (d->names[i] && strlen(d->names[i]) == len && !memcmp(d->names[i], s, len)) {
			*v = i;
			return 0;
		}
	}
	return -1;
}

/* One value of d from p->v[off..off+len): error messages name it. */
static int one_value(struct parser *p, const struct vdesc *d, size_t off, size_t len,
		     unsigned *v)
{
	const char *s = p->v.s + off;
	int rc = desc_value(d, s, len, v);

	if (rc == -2)
		return fail(p, vcol(p, off), "%s %.*s%s out of range (0..%u)", d->what, Q(s, len), d->max);
	if (rc && d->names)
		return fail(p, vcol(p, off), "unknown %s '%.*s%s'", d->what, Q(s, len));
	if (rc)
		return fail(p, vcol(p, off), "expected %s number, got '%.*s%s'", d->what, Q(s, len));
	return 0;
}

struct rlist {             /* a list of ranges being filled */
	const struct vdesc *d;
	struct xw_range **a;
	size_t *n, cap;
};

/* Element "V" or "A-B" (values may be names that contain '-'). */
static int range_elem(struct parser *p, size_t off, size_t len, void *ctx)
{
	struct rlist *l = ctx;
	const struct vdesc *d = l->d;
	const char *s = p->v.s + off;
	unsigned lo = 0, hi = 0;
	int rc = desc_value(d, s, len, &lo);
	size_t big = rc == -2 ? off : SIZE_MAX, biglen = len;

	hi = lo;
	for (size_t k = 1; rc && k + 1 < len; k++) {
		int a, b;

		if (s[k] != '-')
			continue;
		a = desc_value(d, s, k, &lo);
		b = desc_value(d, s + k + 1, len - k - 1, &hi);
		if (!a && !b)
			rc = 0;
		else if (a == -2 && big == SIZE_MAX)
			big = off, biglen = k;
		else if (b == -2 && big == SIZE_MAX)
			big = off + k + 1, biglen = len - k - 1;
	}
	if (rc && big != SIZE_MAX)
		return fail(p, vcol(p, big), "%s %.*s%s out of range (0..%u)", d->what,
			    Q(p->v.s + big, biglen), d->max);
	if (rc && d->names && len && (s[0] < '0' || s[0] > '9'))
		return fail(p, vcol(p, off), "unknown %s '%.*s%s'", d->what, Q(s, len));
	if (rc)
		return fail(p, vcol(p, off), "expected %s number or range, got '%.*s%s'",
			    d->what, Q(s, len));
	if (lo > hi)
		return fail(p, vcol(p, off), "%s range %.*s%s is reversed", d->what, Q(s, len));
	if (grow((void **)l->a, *l->n, &l->cap, sizeof(**l->a)))
		return oom(p, vcol(p, off));
	(*l->a)[(*l->n)++] = (struct xw_range){ (uint16_t)lo, (uint16_t)hi };
	return 0;
}

/* A list of ranges from the next word(s) into *a / *n. */
static int take_ranges(struct parser *p, const struct vdesc *d, struct xw_range **a, size_t *n)
{
	struct rlist l = { d, a, n, 0 };
	char what[48];

	snprintf(what, sizeof(what), "%s list", d->what);
	if (take_value(p, what))
		return -1;
	return each_elem(p, 0, p->v.len, d->what, range_elem, &l);
}

struct blist {             /* names of bits being OR-ed */
	const char *what;
	const char *const *names;
	unsigned n;
	unsigned bits;
};

static int bit_elem(struct parser *p, size_t off, size_t len, void *ctx)
{
	struct blist *l = ctx;
	const char *s = p->v.s + off;

	for (unsigned b = 0; b < l->n; b++) {
		if (strlen(l->names[b]) == len && !memcmp(l->names[b], s, len)) {
			l->bits |= 1u << b;
			return 0;
		}
	}
	return fail(p, vcol(p, off), "unknown %s '%.*s%s'", l->what, Q(s, len));
}

static int host_bits_set(const uint8_t *a, unsigned plen, unsigned bits)
{
	for (unsigned b = plen; b < bits; b++)
		if (a[b / 8] & (0x80u >> (b % 8)))
			return 1;
	return 0;
}

struct clist {
	struct xw_cidr **a;
	size_t *n, cap;
};

static int cidr_elem(struct parser *p, size_t off, size_t len, void *ctx)
{
	struct clist *l = ctx;
	const char *s = p->v.s + off;
	struct xw_cidr c = { 0 };
	char buf[INET6_ADDRSTRLEN + 8], *slash;
	unsigned max;
	uint64_t plen;

	if (len >= sizeof(buf))
		return fail(p, vcol(p, off), "expected CIDR, got '%.*s%s'", Q(s, len));
	memcpy(buf, s, len);
	buf[len] = '\0';
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, c.addr) == 1)
		c.family = 4;
	else if (inet_pton(AF_INET6, buf, c.addr) == 1)
		c.family = 6;
	else
		return fail(p, vcol(p, off), "expected CIDR, got '%.*s%s'", Q(s, len));
	max = c.family == 4 ? 32 : 128;
	plen = max;
	if (slash && parse_uint(slash + 1, strlen(slash + 1), max, &plen))
		return fail(p, vcol(p, off + (size_t)(slash - buf) + 1),
			    "prefix length must be 0..%u in '%.*s%s'", max, Q(s, len));
	c.plen = (uint8_t)plen;
	if (host_bits_set(c.addr, c.plen, max))
		return fail(p, vcol(p, off), "host bits set in '%.*s%s'", Q(s, len));
	if (grow((void **)l->a, *l->n, &l->cap, sizeof(**l->a)))
		return oom(p, vcol(p, off));
	(*l->a)[(*l->n)++] = c;
	return 0;
}

/* aa:bb:cc:dd:ee:ff */
static int parse_mac(const struct word *w, uint8_t m[6])
{
	if (w->len != 17)
		return -1;
	for (int i = 0; i < 6; i++) {
		int hi = hexval(w->s[3 * i]), lo = hexval(w->s[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && w->s[3 * i + 2] != ':'))
			return -1;
		m[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* ---- matches -------------------------------------------------------------- */

/* Mark match bit as given; a second time is an error. */
static int claim(struct parser *p, struct xw_rule *r, uint32_t bit, const char *name, int col)
{
	if (r->present & bit)
		return fail(p, col, "duplicate match '%s'", name);
	r->present |= bit;
	return 0;
}

static const char *proto_str(unsigned v, char buf[8])
{
	if (xw_proto_name[v])
		return xw_proto_name[v];
	snprintf(buf, 8, "%u", v);
	return buf;
}

/* The rule's protocol: giving the same one again is fine, another is not. */
static int set_proto(struct parser *p, struct xw_rule *r, unsigned proto, int col)
{
	char a[8], b[8];

	if ((r->present & XM_PROTO) && r->proto != proto)
		return fail(p, col, "conflicting protocol '%s' (already '%s')",
			    proto_str(proto, a), proto_str(r->proto, b));
	r->present |= XM_PROTO;
	r->proto = (uint8_t)proto;
	return 0;
}

typedef int (*match_fn)(struct parser *p, struct xw_rule *r, const struct word *kw);

static int m_dir(struct parser *p, struct xw_rule *r, const struct word *kw)
{
	if (p->seen_dir)
		return fail(p, kw->col, "duplicate direction '%.*s'", kw->len, kw->s);
	p->seen_dir = 1;
	r->dir = is(kw, "out") ? XW_DIR_OUT : XW_DIR_IN;
	return 0;
}

static int m_log(struct parser *p, struct xw_rule *r, const struct word *kw)
{
	if (p->seen_log)
		return fail(p, kw->col, "duplicate 'log'");
	p->seen_log = 1;
	r->log = 1;
	return 0;
}

/* Linux dev_valid_name(): 1..IF_NAMESIZE-1 bytes, not "." or "..", no '/' ':'. */
static int m_iif(struct parser *p, struct xw_rule *r, const struct word *kw)
{
	const struct word *w = need(p, "interface name");

	(void)kw;
	if (!w)
		return -1;
	if (w->len >= IF_NAMESIZE)
		return fail(p, w->col, "interface name '%.*s%s' too long (max %d characters)",
			    Q(w->s, (size_t)w->len), IF_NAMESIZE - 1);
	if (is(w, ".") || is(w, "..") || memchr(w->s, '/', w->len) || memchr(w->s, ':', w->len))
		return fail(p, w->col, "invalid interface name '%.*s'", w->len, w->s);
	memcpy(r->iif, w->s, w->len);
	r->iif[w->len] = '\0';
	return 0;
}

static int ether_type(struct parser *p, struct xw_rule *r, const struct word *w)
{
	uint64_t x;
	int rc;

	for (size_t i = 0; i < sizeof(xw_ethtype_val) / sizeof(xw_ethtype_val[0]); i++) {
		if (is(w, xw_ethtype_name[i])) {
			r->eth_type = xw_ethtype_val[i];
			return 0;
		}
	}
	if (w->len > 2 && w->s[0] == '0' && (w->s[1] == 'x' || w->s[1] == 'X'))
		rc = parse_num(w->s + 2, (size_t)w->len - 2, 16, 0xffff, &x);
	else
		rc = parse_uint(w->s, (size_t)w->len, 0xffff, &x);
	if (rc == -2)
		return fail(p, w->col, "ether type '%.*s%s' out of range (0..0xffff)",
			    Q(w->s, (size_t)w->len));
	if (rc)
		return fail(p, w->col, "unknown ether type '%.*s%s' (arp, ip, ip6, vlan or 0xNNNN)",
			    Q(w->s, (size_t)w->len));
	r->eth_type = (uint16_t)x;
	return 0;
}

static int m_ether(struct parser *p, struct xw_rule *r, const struct word *kw)
{
	const struct word *w = need(p, "'src', 'dst' or 'type'");
	int src;

	if (!w)
		return -1;
	src = is(w, "src");
	if (src || is(w, "dst")) {
		if (claim(p, r, src ? XM_ETH_SRC : XM_ETH_DST, src ? "ether src" : "ether dst",
			  kw->col) || !(w = need(p, "MAC address")))
			return -1;
		if (parse_mac(w, src ? r->eth_src : r->eth_dst))
			return fail(p, w->col, "expected MAC address (aa:bb:cc:dd:ee:ff), got '%.*s%s'",
				    Q(w->s, (size_t)w->len));
		return 0;
	}
	if (is(w, "type")) {
		if (claim(p, r, XM_ETH_TYPE, "ether type", kw->col) || !(w = need(p, "ether type")))
			return -1;
		return ether_type(p, r, w);
	}
	return fail(p, w->col, "expected 'src', 'dst' or 'type' after 'ether', got '%.*s%s'",
		    Q(w->s, (size_t)w->len));
}

static int m_vlan(struct parser *p, struct xw_rule *r, const struct word *kw)
{
	const struct word *w = need(p, "vlan ID");
	uint64_t x;
	int rc;

	(void)kw;
	if (!w)
		return -1;
	rc = parse_uint(w->s, (size_t)w->len, 4095, &x);
	if (rc == -2)
		return fail(p, w->col, "vlan ID must be 0..4095, got '%.*s%s'", Q(w->s, (size_t)w->len));
	if (rc)
		return fail(p, w->col, "expected vlan ID, got '%.*s%s'", Q(w->s, (size_t)w->len));
	r->vlan = (uint16_t)x;
	return 0;
}

/* `@NAME`: a set reference (loader/sets.c checks that NAME is declared). */
static int set_ref(struct parser *p, struct xw_rule *r, int k)
{
	const struct word *w = need(p, "@NAME");
	char *dst = k < XW_REF_MAX ? r->set_ref[k] : r->ban_set;

	if (!w)
		return -1;
	if (w->len < 2 || w->s[0] != '@' || !xw_set_name_ok(w->s + 1, (size_t)w->len - 1))
		return fail(p, w->col, "expected @NAME (a set name: letters, digits, '_' and '-', "
			    "at most 31 characters), got '%.*s%s'", Q(w->s, (size_t)w->len));
	if (dst[0])
		return fail(p, p->w[p->i - 2].col, "duplicate match '%s'",
			    k == XW_REF_MAX ? "ban" : (const char *[]){ "src", "dst", "sport", "dport" }[k]);
	memcpy(dst, w->s + 1, (size_t)w->len - 1);
	dst[w->len - 1] = '\0';
	r->set_col[k] = w->col;
	/* the field is the set's: no XM_* bit, so code that knows nothing of
	 * sets (the classifier compiler) never sees an empty list */
	if (k < XW_REF_MAX)
		r->present &= ~(uint32_t)(k == XW_REF_SRC ? XM_SRC : k == XW_REF_DST ? XM_DST :
					  k == XW_REF_SPORT ? XM_SPORT : XM_DPORT);
	return 0;
}

static int is_set_ref(const struct parser *p)
{
	const struct word *w = peek(p);

	return w && w->len && w->s[0] == '@';
}

static int m_addr(struct parser *p, struct xw_rule *r, const struct word *kw)
{
	int src = is(kw, "src");
	struct clist l = { src ? &r->src : &r->dst, src ? &r->n_src : &r->n_dst, 0 };

	if (is_set_ref(p))
		return set_ref(p, r, src ? XW_REF_SRC : XW_REF_DST);
	if (r->set_ref[src ? XW_REF_SRC : XW_REF_DST][0])
		return fail(p, kw->col, "duplicate match '%s'", src ? "src" : "dst");
	if (take_value(p, "address list"))
		return -1;
	return each_elem(p, 0, p->v.len, "address", cidr_elem, &l);
}

static int m_port(struct parser *p, struct xw_rule *r, const struct word *kw)
{
	if (is_set_ref(p))
		return set_ref(p, r, is(kw, "sport") ? XW_REF_SPORT : XW_REF_DPORT);
	if (r->set_ref[is(kw, "sport") ? XW_REF_SPORT : XW_REF_DPORT][0])
		return fail(p, kw->col, "duplicate match '%s'", is(kw, "sport") ? "sport" : "dport");
	if (is(kw, "sport"))
		return take_ranges(p, &d_port, &r->sport, &r->n_sport);
	return take_ranges(p, &d_port, &r->dport, &r->n_dport);
}

static int m_proto(struct parser *p, struct xw_rule *r, const struct word *kw)
{
	const struct word *w = need(p, "protocol");
	unsigned v;

	(void)kw;
	if (!w)
		return -1;
	p->v.len = 0;
	if (val_push(p, w) || one_value(p, &d_proto, 0, p->v.len, &v))
		return -1;
	return set_proto(p, r, v, w->col);
}

/* `udp`, `sctp`, and `tcp` / `icmp` / `icmpv6` when not followed by more. */
static int m_l4(struct parser *p, struct xw_rule *r, const struct word *kw)
{
	unsigned v = 0;

	desc_value(&d_proto, kw->s, (size_t)kw->len, &v);
	return set_proto(p, r, v, kw->col);
}

static int m_tcp(struct parser *p, struct xw_rule *r, const struct word *kw)
{
	struct blist f = { "tcp flag", xw_tcp_flag_name, 8, 0 }, m = f;
	size_t slash, end;

	if (!eat(p, "flags"))
		return m_l4(p, r, kw);
	if (claim(p, r, XM_TCPFLAGS, "tcp flags", kw->col) || set_proto(p, r, 6, kw->col) ||
	    take_value(p, "tcp flag list"))
		return -1;
	end = p->v.len;
	slash = strcspn(p->v.s, "/");
	if (slash < end && strchr(p->v.s + slash + 1, '/'))
		return fail(p, vcol(p, slash + 1 + strcspn(p->v.s + slash + 1, "/")),
			    "expected 'FLAGS [/ MASK]', got '%.*s%s'", Q(p->v.s, end));
	if (each_elem(p, 0, slash, "tcp flag", bit_elem, &f))
		return -1;
	if (slash < end && each_elem(p, slash + 1, end, "tcp flag", bit_elem, &m))
		return -1;
	if (slash >= end)
		m.bits = f.bits;
	if (f.bits & ~m.bits)
		return fail(p, vcol(p, 0), "flags not within mask (%.*s%s)", Q(p->v.s, end));
	r->tcp_flags = (uint8_t)f.bits;
	r->tcp_mask = (uint8_t)m.bits;
	return 0;
}

static int m_icmp(struct parser *p, struct xw_rule *r, const struct word *kw)
{
	int v6 = is(kw, "icmpv6");

	if (!eat(p, "type"))
		return m_l4(p, r, kw);
	if (claim(p, r, v6 ? XM_ICMP6 : XM_ICMP, v6 ? "icmpv6 type" : "icmp type", kw->col) ||
	    set_proto(p, r, v6 ? 58 : 1, kw->col) ||
	    take_ranges(p, v6 ? &d_icmp6_type : &d_icmp_type, &r->icmp_type, &r->n_icmp_type))
		return -1;
	if (eat(p, "code"))
		return take_ranges(p, v6 ? &d_icmp6_code : &d_icmp_code,
				   &r->icmp_code, &r->n_icmp_code);
	return 0;
}

static int m_code(struct parser *p, struct xw_rule *r, const struct word *kw)
{
	(void)r;
	return fail(p, kw->col, "'code' must follow 'icmp type' or 'icmpv6 type'");
}

static int m_frag(struct parser *p, struct xw_rule *r, const struct word *kw)
{
	(void)kw;
	if (eat(p, "first"))
		r->frag = XW_FRAG_FIRST;
	else if (eat(p, "later"))
		r->frag = XW_FRAG_LATER;
	else
		r->frag = XW_FRAG_ANY;
	return 0;
}

static int m_ct(struct parser *p, struct xw_rule *r, const struct word *kw)
{
	struct blist l = { "ct state", xw_ct_name, 4, 0 };

	(void)kw;
	if (take_value(p, "ct state list") || each_elem(p, 0, p->v.len, "ct state", bit_elem, &l))
		return -1;
	r->ct = (uint8_t)l.bits;
	return 0;
}

/* N/s or N/m (also /second, /minute) */
static int limit_rate(struct parser *p, struct xw_rule *r)
{
	const char *s = p->v.s;
	size_t len = p->v.len, slash = strcspn(s, "/");
	const char *u = s + slash + 1;
	uint64_t x;
	int rc;

	if (slash >= len)
		return fail(p, vcol(p, 0), "expected rate N/s or N/m, got '%.*s%s'", Q(s, len));
	rc = parse_uint(s, slash, UINT32_MAX, &x);
	if (rc == -1)
		return fail(p, vcol(p, 0), "expected rate N/s or N/m, got '%.*s%s'", Q(s, len));
	if (rc || !x)
		return fail(p, vcol(p, 0), "rate must be 1..%u", UINT32_MAX);
	if (!strcmp(u, "s") || !strcmp(u, "sec") || !strcmp(u, "second"))
		r->limit_period = 1;
	else if (!strcmp(u, "m") || !strcmp(u, "min") || !strcmp(u, "minute"))
		r->limit_period = 60;
	else
		return fail(p, vcol(p, slash + 1), "unknown rate unit '%.*s%s' (s or m)",
			    Q(u, strlen(u)));
	r->limit_rate = (uint32_t)x;
	return 0;
}

static int m_limit(struct parser *p, struct xw_rule *r, const struct word *kw)
{
	const struct word *w;
	int seen_burst = 0, burst_col = 0;
	uint64_t x;

	(void)kw;
	if (!(w = need(p, "'over'")))
		return -1;
	if (!is(w, "over"))
		return fail(p, w->col, "expected 'over' after 'limit', got '%.*s%s'",
			    Q(w->s, (size_t)w->len));
	if (take_value(p, "rate") || limit_rate(p, r))
		return -1;
	for (;;) {
		if (eat(p, "burst")) {
			if (seen_burst++)
				return fail(p, p->w[p->i - 1].col, "duplicate 'burst'");
			if (!(w = need(p, "burst size")))
				return -1;
			if (parse_uint(w->s, (size_t)w->len, UINT32_MAX, &x) || !x)
				return fail(p, w->col, "burst must be 1..%u, got '%.*s%s'",
					    UINT32_MAX, Q(w->s, (size_t)w->len));
			r->limit_burst = (uint32_t)x;
			burst_col = w->col;
			eat(p, "packets");
		} else if (eat(p, "per")) {
			if (r->limit_per_src)
				return fail(p, p->w[p->i - 1].col, "duplicate 'per src'");
			if (!(w = need(p, "'src'")))
				return -1;
			if (!is(w, "src"))
				return fail(p, w->col, "expected 'src' after 'per', got '%.*s%s'",
					    Q(w->s, (size_t)w->len));
			r->limit_per_src = 1;
		} else if (eat(p, "ban")) {
			if (r->ban_set[0])
				return fail(p, p->w[p->i - 1].col, "duplicate 'ban'");
			if (set_ref(p, r, XW_REF_MAX) || !(w = need(p, "ban duration")))
				return -1;
			if (xw_duration_parse(w->s, (size_t)w->len, &r->ban_ms) || !r->ban_ms)
				return fail(p, w->col, "expected a duration such as 30s, 10m, 1h, 7d or "
					    "1h30m, got '%.*s%s'", Q(w->s, (size_t)w->len));
		} else {
			break;
		}
	}
	/* the datapath's bucket holds burst * (period / rate) ns of credit and
	 * adds the time since the last packet to it, all in u64 (loader/compile/compile.c,
	 * xdp/xw_classify.h): keep the capacity where neither can wrap */
	if (r->limit_burst) {
		uint64_t cost = xw_limit_cost_ns(r->limit_rate, r->limit_period);

		if (cost > XW_LIMIT_MAX_CREDIT_NS / r->limit_burst)
			return fail(p, burst_col, "burst %u at %u/%s is %.3g s of credit, more than "
				    "a bucket holds (2^62 ns, 146 years): lower the burst or raise the rate",
				    r->limit_burst, r->limit_rate, r->limit_period == 60 ? "m" : "s",
				    (double)cost / 1e9 * r->limit_burst);
	}
	if (r->ban_set[0] && !r->limit_per_src)
		return fail(p, r->set_col[XW_REF_MAX], "'ban' needs 'per src'");
	return 0;
}

/* Valid UTF-8 (no overlong forms, surrogates or code points past U+10FFFF):
 * the comment goes into JSON output as it is. */
static int utf8_ok(const unsigned char *u, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = u[i], need, min, cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0)
			need = 1, min = 0x80, cp = c & 0x1f;
		else if ((c & 0xf0) == 0xe0)
			need = 2, min = 0x800, cp = c & 0x0f;
		else if ((c & 0xf8) == 0xf0)
			need = 3, min = 0x10000, cp = c & 0x07;
		else
			return 0;
		for (unsigned j = 1; j <= need; j++) {
			if (i + j >= n || (u[i + j] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (u[i + j] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += need + 1;
	}
	return 1;
}

/* `comment "TEXT"`: \" and \\ are the only escapes; at most
 * XW_COMMENT_MAX bytes of UTF-8 once decoded. */
static int m_comment(struct parser *p, struct xw_rule *r, const struct word *kw)
{
	const struct word *w = need(p, "\"TEXT\"");
	size_t n = 0;

	if (!w)
		return -1;
	if (p->seen_comment)
		return fail(p, kw->col, "duplicate 'comment'");
	p->seen_comment = 1;
	if (w->len < 2 || w->s[0] != '"')
		return fail(p, w->col, "expected \"TEXT\" after 'comment', got '%.*s%s'",
			    Q(w->s, (size_t)w->len));
	for (int k = 1; k < w->len - 1; k++) {
		char c = w->s[k];

		if (c == '\\') {
			c = w->s[++k];
			if (c != '"' && c != '\\')
				return fail(p, w->col + k - 1, "unknown escape '\\%c' in a string "
					    "(only \\\" and \\\\)", c);
		}
		if (n >= XW_COMMENT_MAX)
			return fail(p, w->col, "comment longer than %d bytes", XW_COMMENT_MAX);
		r->comment[n++] = c;
	}
	r->comment[n] = '\0';
	if (!n)
		return fail(p, w->col, "empty comment");
	if (!utf8_ok((const unsigned char *)r->comment, n))
		return fail(p, w->col, "comment is not valid UTF-8");
	return 0;
}

/* Words that start a match; bit: claimed (once only) before parse runs. */
static const struct match {
	const char *kw;
	uint32_t bit;
	match_fn parse;
} matches[] = {
	{ "in", 0, m_dir },        { "out", 0, m_dir },
	{ "iif", XM_IIF, m_iif },  { "log", 0, m_log },
	{ "ether", 0, m_ether },   { "vlan", XM_VLAN, m_vlan },
	{ "ip", XM_IP, NULL },     { "ip6", XM_IP6, NULL },
	{ "src", XM_SRC, m_addr }, { "dst", XM_DST, m_addr },
	{ "proto", 0, m_proto },   { "tcp", 0, m_tcp },
	{ "udp", 0, m_l4 },        { "sctp", 0, m_l4 },
	{ "icmp", 0, m_icmp },     { "icmpv6", 0, m_icmp },
	{ "sport", XM_SPORT, m_port }, { "dport", XM_DPORT, m_port },
	{ "frag", XM_FRAG, m_frag }, { "ct", XM_CT, m_ct },
	{ "limit", XM_LIMIT, m_limit }, { "code", 0, m_code },
	{ "comment", 0, m_comment },
};

static int parse_prio(struct parser *p, struct xw_rule *r)
{
	const struct word *w = need(p, "priority");
	uint64_t x;
	int rc;

	if (!w)
		return -1;
	p->prio_col = w->col;
	rc = parse_uint(w->s, (size_t)w->len, XW_PRIO_MAX, &x);
	if (rc == -1)
		return fail(p, w->col, "expected priority, got '%.*s%s'", Q(w->s, (size_t)w->len));
	if (rc || x < XW_PRIO_MIN)
		return fail(p, w->col, "priority must be %u..%u", XW_PRIO_MIN, XW_PRIO_MAX);
	r->prio = (uint32_t)x;
	return 0;
}

/* After the verdict: only `comment "TEXT"` (nft's place for it). */
static int after_verdict(struct parser *p, struct xw_rule *r)
{
	const struct word *w = peek(p);

	if (is(w, "comment")) {
		p->i++;
		if (m_comment(p, r, w))
			return -1;
		w = peek(p);
	}
	if (w)
		return fail(p, w->col, "unexpected '%.*s%s' after the verdict",
			    Q(w->s, (size_t)w->len));
	return 0;
}

/* After `reject`: nft's `with tcp reset` and `with icmp|icmpx|icmpv6 [type]
 * port-unreachable` are taken where they say what xwall does anyway (a TCP
 * rule gets resets, any other port unreachable); other answers are refused,
 * never silently changed. */
static int parse_reject(struct parser *p, struct xw_rule *r)
{
	const struct word *w, *kw;
	int tcp = (r->present & XM_PROTO) && r->proto == IPPROTO_TCP;

	r->verdict = XW_REJECT;
	if (!eat(p, "with"))
		return 0;
	if (!(kw = need(p, "'tcp reset' or 'icmpx port-unreachable'")))
		return -1;
	if (is(kw, "tcp")) {
		if (!(w = need(p, "'reset'")))
			return -1;
		if (!is(w, "reset"))
			return fail(p, w->col, "expected 'reset', got '%.*s%s'", Q(w->s, (size_t)w->len));
		if (!tcp)
			return fail(p, kw->col, "'reject with tcp reset' needs a tcp rule "
				    "(other packets get port unreachable)");
		return 0;
	}
	if (!is(kw, "icmp") && !is(kw, "icmpx") && !is(kw, "icmpv6"))
		return fail(p, kw->col, "expected 'tcp reset' or 'icmpx port-unreachable' after "
			    "'with', got '%.*s%s'", Q(kw->s, (size_t)kw->len));
	eat(p, "type");
	if (!(w = need(p, "'port-unreachable'")))
		return -1;
	if (!is(w, "port-unreachable"))
		return fail(p, w->col, "xwall answers with port-unreachable only, not '%.*s%s'",
			    Q(w->s, (size_t)w->len));
	if (!(r->present & XM_PROTO) || tcp)
		return fail(p, kw->col, "'reject with %.*s%s port-unreachable' on a rule that can "
			    "match tcp: xwall answers TCP with a reset; write plain 'reject'",
			    Q(kw->s, (size_t)kw->len));
	return 0;
}

static int parse_matches(struct parser *p, struct xw_rule *r)
{
	const struct word *w;

	while ((w = peek(p))) {
		const struct match *m = NULL;

		p->i++;
		if (is(w, "reject")) {
			if (parse_reject(p, r))
				return -1;
			return after_verdict(p, r);
		}
		if (xw_verdict_of(w->s, (size_t)w->len) >= 0) {
			r->verdict = (uint8_t)xw_verdict_of(w->s, (size_t)w->len);
			return after_verdict(p, r);
		}
		for (size_t k = 0; k < sizeof(matches) / sizeof(matches[0]) && !m; k++)
			if (is(w, matches[k].kw))
				m = &matches[k];
		if (!m)
			return fail(p, w->col, "unknown match '%.*s%s'", Q(w->s, (size_t)w->len));
		if (m->bit && claim(p, r, m->bit, m->kw, w->col))
			return -1;
		if (m->parse && m->parse(p, r, w))
			return -1;
	}
	return fail(p, p->endcol, "missing verdict (pass, drop, audit or reject)");
}

/* A rule from the current line's words (a leading "rule" is optional). */
static int parse_rule(struct parser *p, struct xw_rule *r)
{
	const struct word *w = peek(p);

	memset(r, 0, sizeof(*r));
	r->dir = XW_DIR_IN;
	{   /* (snprintf per rule showed in the profile of 100k-rule files) */
		const char *fn = p->fname ? p->fname : "<input>";
		size_t l = strnlen(fn, sizeof(r->pos.file) - 1);

		memcpy(r->pos.file, fn, l);
		r->pos.file[l] = '\0';
	}
	r->pos.line = p->line;
	r->pos.col = w ? w->col : p->endcol;
	p->seen_dir = p->seen_log = p->seen_comment = 0;
	eat(p, "rule");
	if (parse_prio(p, r) || parse_matches(p, r)) {
		xw_rule_free(r);
		return -1;
	}
	return 0;
}

/* policy [in|out] pass|drop */
static int parse_policy(struct parser *p, struct xw_ruleset *rs, int first_line[2])
{
	const struct word *kw = &p->w[p->i++], *w;
	int dir = XW_DIR_IN, verdict;

	if (eat(p, "out"))
		dir = XW_DIR_OUT;
	else
		eat(p, "in");
	if (!(w = need(p, "'pass', 'drop' or 'audit'")))
		return -1;
	verdict = xw_verdict_of(w->s, (size_t)w->len);
	/* a policy never answers: reject is a rule's verdict only */
	if (verdict < 0 || verdict == XW_REJECT)
		return fail(p, w->col, "expected 'pass', 'drop' or 'audit', got '%.*s%s'",
			    Q(w->s, (size_t)w->len));
	if ((w = peek(p)))
		return fail(p, w->col, "unexpected '%.*s%s' after the policy",
			    Q(w->s, (size_t)w->len));
	if (first_line[dir])
		return fail(p, kw->col, "duplicate policy for direction %s (first at line %d)",
			    dir == XW_DIR_OUT ? "out" : "in", first_line[dir]);
	first_line[dir] = p->line;
	rs->policy[dir] = (uint8_t)verdict;
	rs->has_policy[dir] = 1;
	return 0;
}

static void parser_free(struct parser *p)
{
	free(p->w);
	free(p->v.s);
	free(p->v.col);
}

static int cmp_prio(const void *a, const void *b)
{
	const struct xw_rule *x = a, *y = b;

	return (x->prio > y->prio) - (x->prio < y->prio);
}

/* Parse a rule line and append it; seen: bitmap of priorities so far. */
static int add_rule_line(struct parser *p, struct xw_ruleset *rs, uint8_t *seen)
{
	struct xw_rule r;

	if (parse_rule(p, &r))
		return -1;
	if (seen[r.prio / 8] & (1u << (r.prio % 8))) {
		int first = 0;

		for (size_t k = 0; k < rs->n && !first; k++)
			if (rs->rules[k].prio == r.prio)
				first = rs->rules[k].pos.line;
		xw_rule_free(&r);
		return fail(p, p->prio_col, "duplicate priority %u (first at line %d)", r.prio, first);
	}
	if (grow((void **)&rs->rules, rs->n, &rs->cap, sizeof(*rs->rules))) {
		xw_rule_free(&r);
		return oom(p, r.pos.col);
	}
	seen[r.prio / 8] |= (uint8_t)(1u << (r.prio % 8));
	rs->rules[rs->n++] = r;
	return 0;
}

int xw_parse_text(const char *text, size_t len, const char *fname,
		  struct xw_ruleset *rs, struct xw_err *err)
{
	struct parser p = { .fname = fname ? fname : "<input>", .err = err };
	uint8_t *seen = calloc(XW_PRIO_MAX / 8 + 1, 1);
	int policy_line[2] = { 0, 0 };
	size_t at = 0, sets_cap = 0;
	int rc = -1;

	xw_ruleset_init(rs);
	err->msg[0] = '\0';
	if (!seen) {
		oom(&p, 1);
		goto out;
	}
	while (at < len) {
		const char *ls = text + at, *nl = memchr(ls, '\n', len - at);
		size_t ll = nl ? (size_t)(nl - ls) : len - at;

		p.line++;
		at += ll + 1;
		if (lex_line(&p, ls, ll))
			goto out;
		if (!p.nw)
			continue;
		if (is(&p.w[0], "rule")) {
			if (add_rule_line(&p, rs, seen))
				goto out;
		} else if (is(&p.w[0], "policy")) {
			if (parse_policy(&p, rs, policy_line))
				goto out;
		} else if (is(&p.w[0], "set")) {
			/* a set block may span lines: loader/sets.c parses it whole */
			struct xw_set_decl d;
			size_t used;

			if (xw_set_decl_parse(ls, len - (size_t)(ls - text), p.fname, p.line, &d,
					      &used, err))
				goto out;
			if (xw_ruleset_set(rs, d.name)) {
				snprintf(err->msg, sizeof(err->msg), "%s:%d:%d: duplicate set %s (first at "
					 "line %d)", p.fname, d.pos.line, d.pos.col, d.name,
					 xw_ruleset_set(rs, d.name)->pos.line);
				free(d.elems);
				goto out;
			}
			if (grow((void **)&rs->sets, rs->n_sets, &sets_cap, sizeof(*rs->sets))) {
				free(d.elems);
				oom(&p, 1);
				goto out;
			}
			rs->sets[rs->n_sets++] = d;
			for (size_t k = 0; k < used; k++)
				if (ls[k] == '\n')
					p.line++;
			at = (size_t)(ls - text) + used + 1;
		} else {
			fail(&p, p.w[0].col, "expected 'rule' or 'policy', got '%.*s%s'",
			     Q(p.w[0].s, (size_t)p.w[0].len));
			goto out;
		}
	}
	/* files are usually in priority order already: sorting large rule
	 * structs costs more than checking */
	for (size_t i = 1; i < rs->n; i++) {
		if (rs->rules[i - 1].prio > rs->rules[i].prio) {
			qsort(rs->rules, rs->n, sizeof(*rs->rules), cmp_prio);
			break;
		}
	}
	if (xw_sets_check(rs, err))
		goto out;
	rc = 0;
out:
	free(seen);
	parser_free(&p);
	if (rc)
		xw_ruleset_free(rs);
	return rc;
}

int xw_parse_file(FILE *f, const char *fname, struct xw_ruleset *rs, struct xw_err *err)
{
	size_t len = 0, cap = 0;
	char *buf = NULL;
	int rc;

	xw_ruleset_init(rs);
	if (!fname)
		fname = "<input>";
	for (;;) {
		size_t n;

		if (cap - len < 4096) {
			char *nb;

			cap = cap ? cap * 2 : 65536;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				snprintf(err->msg, sizeof(err->msg), "%s: out of memory", fname);
				return -1;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err->msg, sizeof(err->msg), "%s: read error: %s", fname, strerror(errno));
		free(buf);
		return -1;
	}
	rc = xw_parse_text(buf, len, fname, rs, err);
	free(buf);
	return rc;
}

int xw_parse_rule(const char *text, const char *fname, struct xw_rule *r, struct xw_err *err)
{
	struct parser p = { .fname = fname ? fname : "<input>", .err = err, .line = 1 };
	size_t len = strlen(text), ll = strcspn(text, "\n");
	int rc = -1;

	memset(r, 0, sizeof(*r));
	err->msg[0] = '\0';
	if (lex_line(&p, text, ll) || parse_rule(&p, r))
		goto out;
	/* Anything after a newline must be blank or comments. */
	for (size_t at = ll + 1; at < len; at += ll + 1) {
		ll = strcspn(text + at, "\n");
		p.line++;
		if (lex_line(&p, text + at, ll) || (p.nw && fail(&p, p.w[0].col,
				"expected one rule, got more on line %d", p.line))) {
			xw_rule_free(r);
			goto out;
		}
	}
	rc = 0;
out:
	parser_free(&p);
	return rc;
}
