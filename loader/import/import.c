// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Import: nft statements -> xwall matches, chains -> one ordered rule list.
 *
 * Supported statements (everything else is an error naming it):
 *   iifname|iif|meta iifname NAME          iif NAME (no wildcards)
 *   meta l4proto P | ip protocol P         proto P (ip: IPv4 only)
 *   meta nfproto ipv4|ipv6                 ip | ip6
 *   meta protocol|ether type ip|ip6|arp|N  ether type
 *   ether saddr|daddr MAC                  ether src|dst
 *   vlan id N                              vlan N
 *   ip saddr|daddr, ip6 saddr|daddr V      src|dst (addresses and prefixes)
 *   tcp|udp|sctp sport|dport V             proto + sport|dport (ports, ranges)
 *   tcp flags F | F / M | == F | & M == F  tcp flags (a lone F: F set)
 *   icmp|icmpv6 type T [icmp|icmpv6 code C]
 *   ct state S                             ct S (new established related invalid)
 *   limit rate over N/second|minute [burst B packets]
 *   counter, comment "..."                 (nothing to translate: xwall counts every rule)
 *   log [prefix ".." level ..]             log (with the verdict of the rule or of
 *                                          the next rule when it has the same matches)
 *   accept | drop | jump CHAIN | return (as a chain's last rule, no matches)
 * V is a value, an anonymous set { a, b }, or a named set @NAME with
 * constant elements (inlined).  Negation (!=) is not expressible.
 * A jump is inlined: the jumping rule's matches are joined to each rule of the
 * called chain (a field matched on both sides must be equal), then the
 * caller goes on, as nftables does after the called chain ends.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"

enum { IMP_F_IIF, IMP_F_ETHSRC, IMP_F_ETHDST, IMP_F_ETHTYPE, IMP_F_VLAN, IMP_F_SRC, IMP_F_DST,
       IMP_F_PROTO, IMP_F_SPORT, IMP_F_DPORT, IMP_F_TCPFLAGS, IMP_F_ICMP, IMP_F_CT, IMP_F_LIMIT,
       IMP_F_MAX };
static const char *const fprefix[IMP_F_MAX] = {
	"iif ", "ether src ", "ether dst ", "ether type ", "vlan ", "src ", "dst ", "proto ",
	"sport ", "dport ", "tcp flags ", "", "ct ", "limit ",
};
static const char *const fname_of[IMP_F_MAX] = {
	"input interface", "ether source", "ether destination", "ether type", "vlan id",
	"source address", "destination address", "protocol", "source port", "destination port",
	"tcp flags", "icmp type", "ct state", "limit",
};

#define MAX_DEPTH 8
#define MAX_RULES 100000

/* ------------------------------------------------------------ containers */

void imp_ruleset_free(struct imp_ruleset *rs)
{
	for (size_t i = 0; i < rs->nc; i++) {
		struct imp_chain *c = &rs->c[i];

		for (size_t j = 0; j < c->nr; j++) {
			struct imp_rule *r = &c->r[j];

			for (size_t k = 0; k < r->nt; k++)
				free(r->t[k].s);
			free(r->t);
			for (int f = 0; f < IMP_F_MAX; f++)
				free(r->f[f]);
			free(r->target);
		}
		free(c->r);
		free(c->table);
		free(c->name);
		free(c->type);
	}
	free(rs->c);
	for (size_t i = 0; i < rs->ns; i++) {
		for (size_t k = 0; k < rs->s[i].nel; k++)
			free(rs->s[i].el[k].s);
		free(rs->s[i].el);
		free(rs->s[i].table);
		free(rs->s[i].name);
	}
	free(rs->s);
	rs->c = NULL;
	rs->s = NULL;
	rs->nc = rs->ns = 0;
}

struct imp_chain *imp_chain_find(struct imp_ruleset *rs, const char *table, int family,
				 const char *name)
{
	for (size_t i = 0; i < rs->nc; i++)
		if (rs->c[i].family == family && !strcmp(rs->c[i].table, table) &&
		    !strcmp(rs->c[i].name, name))
			return &rs->c[i];
	return NULL;
}

struct imp_chain *imp_chain_add(struct imp_ruleset *rs, const char *table, const char *name,
				int family, int line)
{
	struct imp_chain *c = imp_chain_find(rs, table, family, name), *nc;

	if (c)
		return c;
	nc = realloc(rs->c, (rs->nc + 1) * sizeof(*nc));
	if (!nc)
		return NULL;
	rs->c = nc;
	c = &rs->c[rs->nc];
	memset(c, 0, sizeof(*c));
	c->table = strdup(table);
	c->name = strdup(name);
	c->family = family;
	c->line = line;
	c->policy = -1;
	if (!c->table || !c->name) {
		free(c->table);
		free(c->name);
		return NULL;
	}
	rs->nc++;
	return c;
}

struct imp_rule *imp_rule_add(struct imp_chain *c, int line, int col)
{
	struct imp_rule *nr = realloc(c->r, (c->nr + 1) * sizeof(*nr));

	if (!nr)
		return NULL;
	c->r = nr;
	memset(&c->r[c->nr], 0, sizeof(c->r[0]));
	c->r[c->nr].line = line;
	c->r[c->nr].col = col;
	return &c->r[c->nr++];
}

int imp_tok_add(struct imp_rule *r, const char *s, size_t len, int line, int col, bool quoted)
{
	struct imp_tok *nt = realloc(r->t, (r->nt + 1) * sizeof(*nt));

	if (!nt)
		return -1;
	r->t = nt;
	nt = &r->t[r->nt];
	nt->s = strndup(s, len);
	if (!nt->s)
		return -1;
	nt->line = line;
	nt->col = col;
	nt->quoted = quoted;
	r->nt++;
	return 0;
}

/* ------------------------------------------------------------ messages */

struct tr {
	struct imp_ruleset *rs;
	struct imp_chain *c;       /* chain of the rule being translated */
	struct imp_rule *r;
	size_t i;                  /* current token */
	struct xw_err *err;
};

static int errat(struct tr *t, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int errat(struct tr *t, int line, int col, const char *fmt, ...)
{
	char m[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	if (t->rs->json)
		snprintf(t->err->msg, sizeof(t->err->msg), "%s: rule %d of chain %s %s: %s",
			 t->rs->fname, line, t->c ? t->c->table : "?", t->c ? t->c->name : "?", m);
	else
		snprintf(t->err->msg, sizeof(t->err->msg), "%s:%d:%d: %s", t->rs->fname, line,
			 col ? col : 1, m);
	return -1;
}

static const struct imp_tok *cur(struct tr *t)
{
	return t->i < t->r->nt ? &t->r->t[t->i] : NULL;
}

static int err_tok(struct tr *t, const struct imp_tok *k, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int err_tok(struct tr *t, const struct imp_tok *k, const char *fmt, ...)
{
	char m[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	if (!k)
		return errat(t, t->r->line, t->r->col, "%s (at the end of the rule)", m);
	return errat(t, k->line, k->col, "%s", m);
}

static bool is(const struct imp_tok *k, const char *s)
{
	return k && !k->quoted && !strcmp(k->s, s);
}

/* The rest of the rule from token i, for "cannot express" messages. */
static void rest(struct tr *t, size_t i, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (size_t k = i; k < t->r->nt && k < i + 6 && n + 1 < len; k++)
		n += snprintf(buf + n, len - n, "%s%s", k > i ? " " : "", t->r->t[k].s);
	if (n >= len - 1 && len > 4)
		strcpy(buf + len - 4, "...");
}

static int unsupported(struct tr *t, size_t i)
{
	char b[120];

	rest(t, i, b, sizeof(b));
	return err_tok(t, &t->r->t[i], "'%s': xwall cannot express this", b);
}

/* ------------------------------------------------------------ values */

enum kind { K_ADDR4, K_ADDR6, K_PORT, K_PROTO, K_ICMP, K_ICMP6, K_CT, K_NAME, K_MAC, K_ETHTYPE,
	    K_NUM };

static const struct { const char *n; int v; } icmp_names[] = {
	{ "echo-reply", 0 }, { "destination-unreachable", 3 }, { "source-quench", 4 },
	{ "redirect", 5 }, { "echo-request", 8 }, { "router-advertisement", 9 },
	{ "router-solicitation", 10 }, { "time-exceeded", 11 }, { "parameter-problem", 12 },
	{ "timestamp-request", 13 }, { "timestamp-reply", 14 }, { "info-request", 15 },
	{ "info-reply", 16 }, { "address-mask-request", 17 }, { "address-mask-reply", 18 },
}, icmp6_names[] = {
	{ "destination-unreachable", 1 }, { "packet-too-big", 2 }, { "time-exceeded", 3 },
	{ "parameter-problem", 4 }, { "echo-request", 128 }, { "echo-reply", 129 },
	{ "mld-listener-query", 130 }, { "mld-listener-report", 131 },
	{ "mld-listener-done", 132 }, { "mld-listener-reduction", 132 },
	{ "nd-router-solicit", 133 }, { "nd-router-advert", 134 },
	{ "nd-neighbor-solicit", 135 }, { "nd-neighbor-advert", 136 }, { "nd-redirect", 137 },
	{ "router-renumbering", 138 }, { "ind-neighbor-solicit", 141 },
	{ "ind-neighbor-advert", 142 }, { "mld2-listener-report", 143 },
}, proto_names[] = {
	{ "icmp", 1 }, { "igmp", 2 }, { "tcp", 6 }, { "udp", 17 }, { "gre", 47 }, { "esp", 50 },
	{ "ah", 51 }, { "icmpv6", 58 }, { "ipv6-icmp", 58 }, { "sctp", 132 }, { "udplite", 136 },
};

static int num(const char *s, long max)
{
	char *e;
	long v;

	if (!*s || !isdigit((unsigned char)*s))
		return -1;
	v = strtol(s, &e, 0);
	return *e || v < 0 || v > max ? -1 : (int)v;
}

static int port_of(const char *s)
{
	struct servent *se;
	int v = num(s, 65535);

	if (v >= 0)
		return v;
	se = getservbyname(s, NULL);
	return se ? ntohs((uint16_t)se->s_port) : -1;
}

#define NAMEV(tab, s) ({ int _v = -1; \
	for (size_t _k = 0; _k < sizeof(tab) / sizeof((tab)[0]); _k++) { \
		if (!strcmp((tab)[_k].n, (s))) \
			_v = (tab)[_k].v; \
	} \
	_v; })

/* One element of kind k, normalised into out; 0 or -1 (message set). */
/* An IPv4 or IPv6 address or prefix (not a range). */
static int elem_addr(struct tr *t, const struct imp_tok *k, enum kind kind, char *out, size_t len)
{
	int af = kind == K_ADDR4 ? AF_INET : AF_INET6;
	const char *s = k->s;
	unsigned char bin[16];
	char a[128], *sl;

	if (strlen(s) >= sizeof(a))
		return err_tok(t, k, "'%s': not an address", s);
	strcpy(a, s);
	sl = strchr(a, '/');
	if (sl)
		*sl = 0;
	if (inet_pton(af, a, bin) != 1) {
		if (strchr(a, '-'))
			return err_tok(t, k, "'%s': address ranges cannot be expressed in xwall "
				       "(write them as prefixes)", s);
		return err_tok(t, k, "'%s': not an IPv%d address or prefix", s,
			       kind == K_ADDR4 ? 4 : 6);
	}
	if (sl && num(sl + 1, kind == K_ADDR4 ? 32 : 128) < 0)
		return err_tok(t, k, "'%s': bad prefix length", s);
	snprintf(out, len, "%s", s);
	return 0;
}

/* A port or port range (numbers or service names), as N or N-M. */
static int elem_port(struct tr *t, const struct imp_tok *k, char *out, size_t len)
{
	const char *s = k->s;
	char a[128], *dash;
	int v, w;

	if (strlen(s) >= sizeof(a))
		return err_tok(t, k, "'%s': not a port", s);
	strcpy(a, s);
	dash = strchr(a + 1, '-');
	if (dash)
		*dash = 0;
	v = port_of(a);
	w = dash ? port_of(dash + 1) : v;
	if (v < 0 || w < 0 || w < v)
		return err_tok(t, k, "'%s': not a port or port range", s);
	if (v == w)
		snprintf(out, len, "%d", v);
	else
		snprintf(out, len, "%d-%d", v, w);
	return 0;
}

/* An ICMP or ICMPv6 type (number or name) or a range of numbers. */
static int elem_icmp(struct tr *t, const struct imp_tok *k, enum kind kind, char *out, size_t len)
{
	const char *s = k->s;
	char a[128], *dash;
	int v, w;

	if (strlen(s) >= sizeof(a))
		return err_tok(t, k, "'%s': not an icmp type", s);
	strcpy(a, s);
	dash = strchr(a + 1, '-');
	if (dash && num(a, 255) >= 0)
		*dash = 0;
	else
		dash = NULL;
	v = num(a, 255);
	if (v < 0)
		v = kind == K_ICMP ? NAMEV(icmp_names, a) : NAMEV(icmp6_names, a);
	w = dash ? num(dash + 1, 255) : v;
	if (v < 0 || w < v)
		return err_tok(t, k, "'%s': unknown %s type", s, kind == K_ICMP ? "icmp" : "icmpv6");
	if (v == w)
		snprintf(out, len, "%d", v);
	else
		snprintf(out, len, "%d-%d", v, w);
	return 0;
}

static int elem(struct tr *t, const struct imp_tok *k, enum kind kind, char *out, size_t len)
{
	const char *s = k->s;
	int v;

	switch (kind) {
	case K_ADDR4:
	case K_ADDR6:
		return elem_addr(t, k, kind, out, len);
	case K_PORT:
		return elem_port(t, k, out, len);
	case K_PROTO:
		v = num(s, 255);
		if (v < 0)
			v = NAMEV(proto_names, s);
		if (v < 0) {
			struct protoent *pe = getprotobyname(s);

			v = pe ? pe->p_proto : -1;
		}
		if (v < 0)
			return err_tok(t, k, "'%s': unknown protocol", s);
		snprintf(out, len, "%d", v);
		return 0;
	case K_ICMP:
	case K_ICMP6:
		return elem_icmp(t, k, kind, out, len);
	case K_CT:
		if (strcmp(s, "new") && strcmp(s, "established") && strcmp(s, "related") &&
		    strcmp(s, "invalid"))
			return err_tok(t, k, "ct state '%s': xwall tracks new, established, related "
				       "and invalid only", s);
		snprintf(out, len, "%s", s);
		return 0;
	case K_NAME:
		if (strpbrk(s, "*?[") || !*s || strlen(s) >= IF_NAMESIZE)
			return err_tok(t, k, "interface '%s': xwall matches one exact name (no wildcards)", s);
		snprintf(out, len, "%s", s);
		return 0;
	case K_MAC:
		snprintf(out, len, "%s", s);
		return 0;
	case K_ETHTYPE:
		if (!strcmp(s, "ip") || !strcmp(s, "ip6") || !strcmp(s, "arp")) {
			snprintf(out, len, "%s", s);
			return 0;
		}
		v = num(s, 0xffff);
		if (v < 0 || v == 0x8100 || v == 0x88a8)
			return err_tok(t, k, "ether type '%s': xwall matches the type after VLAN tags "
				       "(ip, ip6, arp or a number)", s);
		snprintf(out, len, "0x%04x", v);
		return 0;
	case K_NUM:
		v = num(s, 4095);
		if (v < 0)
			return err_tok(t, k, "'%s': expected 0..4095", s);
		snprintf(out, len, "%d", v);
		return 0;
	}
	return -1;
}

static int append(char **dst, size_t *len, size_t *cap, const char *s)
{
	size_t n = strlen(s);

	if (*len + n + 2 > *cap) {
		size_t nc = (*cap + n + 2) * 2;
		char *nb = realloc(*dst, nc);

		if (!nb)
			return -1;
		*dst = nb;
		*cap = nc;
	}
	if (*len)
		(*dst)[(*len)++] = ',';
	memcpy(*dst + *len, s, n + 1);
	*len += n;
	return 0;
}

/* Lists in a canonical order (nft sorts sets when it lists them; this way
 * text and JSON give the same rules): numbers by value, addresses by bytes. */
static int cmp_elem(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	unsigned char bx[17] = { 0 }, by[17] = { 0 };
	char tx[64], ty[64], *sx, *sy;
	int fx, fy;

	if (isdigit((unsigned char)x[0]) && isdigit((unsigned char)y[0]) && !strpbrk(x, ".:") &&
	    !strpbrk(y, ".:")) {
		long vx = strtol(x, NULL, 10), vy = strtol(y, NULL, 10);

		return vx < vy ? -1 : vx > vy;
	}
	snprintf(tx, sizeof(tx), "%s", x);
	snprintf(ty, sizeof(ty), "%s", y);
	sx = strchr(tx, '/');
	sy = strchr(ty, '/');
	if (sx)
		*sx++ = 0;
	if (sy)
		*sy++ = 0;
	fx = inet_pton(strchr(tx, ':') ? AF_INET6 : AF_INET, tx, bx);
	fy = inet_pton(strchr(ty, ':') ? AF_INET6 : AF_INET, ty, by);
	if (fx == 1 && fy == 1) {
		int c;

		bx[16] = (unsigned char)(sx ? atoi(sx) : 128);
		by[16] = (unsigned char)(sy ? atoi(sy) : 128);
		c = memcmp(bx, by, 17);
		if (c)
			return c;
	}
	return strcmp(x, y);
}

static char *sorted(char *list)
{
	char *copy, *save, **el = NULL, *out;
	size_t n = 0, len = 0;

	if (!list || !strchr(list, ','))
		return list;
	copy = strdup(list);
	out = malloc(strlen(list) + 1);
	if (!copy || !out)
		goto fail;
	for (char *e = strtok_r(copy, ",", &save); e; e = strtok_r(NULL, ",", &save)) {
		char **ne = realloc(el, (n + 1) * sizeof(*el));

		if (!ne)
			goto fail;
		el = ne;
		el[n++] = e;
	}
	if (n)
		qsort(el, n, sizeof(*el), cmp_elem);
	for (size_t i = 0; i < n; i++) {
		if (i && !strcmp(el[i], el[i - 1]))
			continue;
		len += (size_t)sprintf(out + len, "%s%s", len ? "," : "", el[i]);
	}
	free(el);
	free(copy);
	free(list);
	return out;
fail:
	free(el);
	free(copy);
	free(out);
	return list;
}

static struct imp_set *set_find(struct tr *t, const char *name)
{
	for (size_t i = 0; i < t->rs->ns; i++)
		if (t->rs->s[i].family == t->c->family && !strcmp(t->rs->s[i].table, t->c->table) &&
		    !strcmp(t->rs->s[i].name, name))
			return &t->rs->s[i];
	return NULL;
}

/* A value at the current token: one element, { a, b }, or @set.  Returns
 * the comma list (malloc'd) or NULL (message set); *n = element count. */
static char *value(struct tr *t, enum kind kind, size_t *n)
{
	const struct imp_tok *k;
	char *out = NULL, one[160];
	size_t len = 0, cap = 0;

	*n = 0;
	if (is(cur(t), "=="))
		t->i++;
	k = cur(t);
	if (!k) {
		err_tok(t, NULL, "a value is missing");
		return NULL;
	}
	if (is(k, "!=") || (!k->quoted && k->s[0] == '!')) {
		err_tok(t, k, "negation ('%s'): xwall has no 'not'; write the complement as rules", k->s);
		return NULL;
	}
	if (is(k, "{")) {
		t->i++;
		for (;;) {
			k = cur(t);
			if (!k) {
				err_tok(t, NULL, "'}' missing");
				goto bad;
			}
			if (is(k, "}")) {
				t->i++;
				break;
			}
			if (is(k, ",")) {
				t->i++;
				continue;
			}
			if (elem(t, k, kind, one, sizeof(one)) || append(&out, &len, &cap, one))
				goto bad;
			(*n)++;
			t->i++;
		}
		if (!*n) {
			err_tok(t, k, "an empty set never matches");
			goto bad;
		}
		return sorted(out);
	}
	if (!k->quoted && k->s[0] == '@') {
		struct imp_set *s = set_find(t, k->s + 1);

		if (!s) {
			err_tok(t, k, "set '%s' is not declared in table %s", k->s + 1, t->c->table);
			goto bad;
		}
		if (s->dynamic) {
			err_tok(t, k, "set '%s' changes at run time (flags timeout/dynamic): its "
				"contents cannot be imported once", k->s + 1);
			goto bad;
		}
		if (!s->nel) {
			err_tok(t, k, "set '%s' is empty: the rule never matches", k->s + 1);
			goto bad;
		}
		for (size_t e = 0; e < s->nel; e++) {
			if (elem(t, &s->el[e], kind, one, sizeof(one)) || append(&out, &len, &cap, one))
				goto bad;
			(*n)++;
		}
		t->i++;
		return sorted(out);
	}
	if (elem(t, k, kind, one, sizeof(one)) || append(&out, &len, &cap, one))
		goto bad;
	*n = 1;
	t->i++;
	/* ct state a,b: a flag list without braces */
	while (kind == K_CT && is(cur(t), ",") && t->i + 1 < t->r->nt) {
		k = &t->r->t[t->i + 1];
		if (elem(t, k, kind, one, sizeof(one)) || append(&out, &len, &cap, one))
			goto bad;
		(*n)++;
		t->i += 2;
	}
	return out;
bad:
	free(out);
	return NULL;
}

static int setf(struct tr *t, int f, char *v, const struct imp_tok *at)
{
	struct imp_rule *r = t->r;

	if (!v)
		return -1;
	if (r->f[f]) {
		bool same = !strcmp(r->f[f], v);

		free(v);
		if (same)
			return 0;
		return err_tok(t, at, "a second %s match with another value: xwall has one per rule",
			       fname_of[f]);
	}
	r->f[f] = v;
	r->fline[f] = at ? at->line : r->line;
	r->fcol[f] = at ? at->col : r->col;
	return 0;
}

static int setfam(struct tr *t, int fam, const struct imp_tok *at)
{
	if (t->r->fam && t->r->fam != fam)
		return err_tok(t, at, "IPv4 and IPv6 matches in one rule: it never matches");
	t->r->fam = fam;
	return 0;
}

static int setproto(struct tr *t, int proto, const struct imp_tok *at)
{
	char b[8];

	snprintf(b, sizeof(b), "%d", proto);
	return setf(t, IMP_F_PROTO, strdup(b), at);
}

static const char *const flag_names[] = { "fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr" };

/* Flag names from tokens joined by ',' or '|' (and inside one token). */
static int flags(struct tr *t, char *out, size_t len)
{
	size_t n = 0;
	int count = 0;
	bool paren = false;

	out[0] = 0;
	if (is(cur(t), "(")) {
		paren = true;
		t->i++;
	}
	for (const struct imp_tok *k; (k = cur(t)); t->i++) {
		char buf[64], *save, *p;
		bool ok = true;

		if (is(k, ",") || is(k, "|"))
			continue;
		if (paren && is(k, ")")) {
			t->i++;
			break;
		}
		if (strlen(k->s) >= sizeof(buf))
			break;
		strcpy(buf, k->s);
		for (p = strtok_r(buf, ",|", &save); p; p = strtok_r(NULL, ",|", &save)) {
			bool known = false;

			for (size_t f = 0; f < 8; f++)
				known |= !strcmp(p, flag_names[f]);
			ok &= known;
		}
		if (!ok || k->quoted)
			break;
		strcpy(buf, k->s);
		for (p = strtok_r(buf, ",|", &save); p; p = strtok_r(NULL, ",|", &save)) {
			n += snprintf(out + n, len - n, "%s%s", count ? "," : "", p);
			count++;
		}
	}
	if (!count)
		return err_tok(t, cur(t), "tcp flag names expected (fin syn rst psh ack urg ece cwr)");
	return count;
}

static int tcp_flags(struct tr *t, const struct imp_tok *at)
{
	char f[80], m[80], v[180];
	int nf;

	if (is(cur(t), "==")) {             /* exactly these flags */
		t->i++;
		if (flags(t, f, sizeof(f)) < 0)
			return -1;
		snprintf(v, sizeof(v), "%s / fin,syn,rst,psh,ack,urg,ece,cwr", f);
		return setf(t, IMP_F_TCPFLAGS, strdup(v), at);
	}
	if (is(cur(t), "&")) {              /* & MASK == FLAGS */
		t->i++;
		if (flags(t, m, sizeof(m)) < 0)
			return -1;
		if (!is(cur(t), "=="))
			return err_tok(t, cur(t), "tcp flags & MASK: only '== FLAGS' can follow in xwall");
		t->i++;
		if (flags(t, f, sizeof(f)) < 0)
			return -1;
		snprintf(v, sizeof(v), "%s / %s", f, m);
		return setf(t, IMP_F_TCPFLAGS, strdup(v), at);
	}
	if (is(cur(t), "{") || is(cur(t), "!="))
		return unsupported(t, t->i);
	nf = flags(t, f, sizeof(f));
	if (nf < 0)
		return -1;
	if (is(cur(t), "/")) {              /* FLAGS / MASK */
		t->i++;
		if (flags(t, m, sizeof(m)) < 0)
			return -1;
		snprintf(v, sizeof(v), "%s / %s", f, m);
		return setf(t, IMP_F_TCPFLAGS, strdup(v), at);
	}
	if (nf != 1)
		return err_tok(t, at, "'tcp flags %s' (any of several flags set) cannot be expressed in "
			       "xwall; write 'FLAGS / MASK'", f);
	return setf(t, IMP_F_TCPFLAGS, strdup(f), at);
}

static int ports(struct tr *t, const struct imp_tok *proto, const struct imp_tok *at)
{
	size_t n;
	int p = !strcmp(proto->s, "tcp") ? 6 : !strcmp(proto->s, "udp") ? 17 : 132;

	if (setproto(t, p, proto))
		return -1;
	return setf(t, !strcmp(at->s, "sport") ? IMP_F_SPORT : IMP_F_DPORT, value(t, K_PORT, &n), at);
}

static int icmp(struct tr *t, const struct imp_tok *at, bool v6)
{
	const char *name = v6 ? "icmpv6" : "icmp";
	char *types, *codes = NULL, *v;
	size_t n;

	if (!is(cur(t), "type"))
		return unsupported(t, t->i - 1);
	t->i++;
	types = value(t, v6 ? K_ICMP6 : K_ICMP, &n);
	if (!types)
		return -1;
	if (is(cur(t), name) && t->i + 1 < t->r->nt && is(&t->r->t[t->i + 1], "code")) {
		t->i += 2;
		codes = value(t, K_PORT, &n);      /* numbers and ranges, 0..255 checked below */
		if (!codes) {
			free(types);
			return -1;
		}
	}
	if (asprintf(&v, "%s type %s%s%s", name, types, codes ? " code " : "", codes ? codes : "") < 0)
		v = NULL;
	free(types);
	free(codes);
	if (setproto(t, v6 ? 58 : 1, at))
		return -1;
	if (!v6 && setfam(t, 4, at))
		return -1;
	if (v6 && setfam(t, 6, at))
		return -1;
	return setf(t, IMP_F_ICMP, v, at);
}

static int limit(struct tr *t, const struct imp_tok *at)
{
	const struct imp_tok *k;
	char v[96], unit[32];
	long rate, burst = -1;
	char *e;

	if (!is(cur(t), "rate"))
		return unsupported(t, t->i - 1);
	t->i++;
	if (!is(cur(t), "over"))
		return err_tok(t, at, "'limit rate' without 'over' (matches below the rate): xwall "
			       "has only 'limit over'");
	t->i++;
	k = cur(t);
	if (!k)
		return err_tok(t, NULL, "a rate is missing");
	rate = strtol(k->s, &e, 10);
	if (e == k->s || rate <= 0 || rate > 0xffffffffL || *e != '/')
		return err_tok(t, k, "'%s': expected N/second or N/minute (byte rates cannot be "
			       "expressed in xwall)", k->s);
	snprintf(unit, sizeof(unit), "%s", e + 1);
	t->i++;
	if (is(cur(t), "burst")) {
		t->i++;
		k = cur(t);
		burst = k ? strtol(k->s, &e, 10) : -1;
		if (!k || *e || burst < 0)
			return err_tok(t, k, "a burst in packets expected");
		t->i++;
		if (is(cur(t), "packets"))
			t->i++;
		else if (is(cur(t), "bytes") || is(cur(t), "kbytes") || is(cur(t), "mbytes"))
			return err_tok(t, cur(t), "byte bursts cannot be expressed in xwall");
	}
	if (strcmp(unit, "second") && strcmp(unit, "minute"))
		return err_tok(t, k, "rate per '%s': xwall has per second and per minute only", unit);
	snprintf(v, sizeof(v), "over %ld/%c", rate, unit[0] == 's' ? 's' : 'm');
	if (burst >= 0 && burst != 5)      /* 5: the default of both */
		snprintf(v + strlen(v), sizeof(v) - strlen(v), " burst %ld", burst);
	return setf(t, IMP_F_LIMIT, strdup(v), at);
}

/* Skip a statement's optional "KEY VALUE" arguments. */
static void skip_args(struct tr *t, const char *const *keys)
{
	for (;;) {
		const struct imp_tok *k = cur(t);
		bool hit = false;

		for (size_t j = 0; k && keys[j]; j++)
			hit |= is(k, keys[j]);
		if (!hit)
			return;
		t->i += 2;
		while (is(cur(t), ","))   /* log flags a, b */
			t->i += 2;
	}
}

/* Translate the statements of t->r. */
/* meta iifname|iif|l4proto|nfproto|protocol VALUE (a: the key word). */
static int tr_meta(struct tr *t, const struct imp_tok *a)
{
	size_t n;

	t->i++;
	if (is(a, "iifname") || is(a, "iif")) {
		if (setf(t, IMP_F_IIF, value(t, K_NAME, &n), a))
			return -1;
		if (n != 1)
			return err_tok(t, a, "several interfaces: xwall matches one per rule");
	} else if (is(a, "l4proto")) {
		if (setf(t, IMP_F_PROTO, value(t, K_PROTO, &n), a))
			return -1;
		if (n != 1)
			return err_tok(t, a, "several protocols: xwall matches one per rule");
	} else if (is(a, "nfproto")) {
		const struct imp_tok *v = cur(t);

		if (is(v, "ipv4") && !setfam(t, 4, v))
			t->i++;
		else if (is(v, "ipv6") && !setfam(t, 6, v))
			t->i++;
		else
			return unsupported(t, t->i - 2);
	} else if (is(a, "protocol")) {
		if (setf(t, IMP_F_ETHTYPE, value(t, K_ETHTYPE, &n), a))
			return -1;
		if (n != 1)
			return err_tok(t, a, "several ether types: xwall matches one per rule");
	} else {
		return unsupported(t, t->i - 2);
	}
	return 0;
}

/* ip|ip6 saddr|daddr LIST, ip protocol PROTO (k: ip or ip6, a: the key). */
static int tr_ip(struct tr *t, const struct imp_tok *k, const struct imp_tok *a)
{
	bool v6 = is(k, "ip6");
	size_t n;

	t->i++;
	if (setfam(t, v6 ? 6 : 4, k))
		return -1;
	if (is(a, "saddr") || is(a, "daddr")) {
		if (setf(t, is(a, "saddr") ? IMP_F_SRC : IMP_F_DST,
			 value(t, v6 ? K_ADDR6 : K_ADDR4, &n), a))
			return -1;
	} else if (!v6 && is(a, "protocol")) {
		if (setf(t, IMP_F_PROTO, value(t, K_PROTO, &n), a))
			return -1;
		if (n != 1)
			return err_tok(t, a, "several protocols: xwall matches one per rule");
	} else if (v6 && is(a, "nexthdr")) {
		return err_tok(t, a, "'ip6 nexthdr' is the first next header (an extension "
			       "header, if any); xwall matches the protocol after them: "
			       "write 'meta l4proto'");
	} else {
		return unsupported(t, t->i - 2);
	}
	return 0;
}

/* tcp|udp|sctp sport|dport LIST, tcp flags ... (k: the protocol). */
static int tr_transport(struct tr *t, const struct imp_tok *k, const struct imp_tok *a)
{
	t->i++;
	if (is(a, "sport") || is(a, "dport")) {
		if (ports(t, k, a))
			return -1;
	} else if (is(k, "tcp") && is(a, "flags")) {
		if (setproto(t, 6, k) || tcp_flags(t, a))
			return -1;
	} else {
		return unsupported(t, t->i - 2);
	}
	return 0;
}

/* ether type|saddr|daddr VALUE (one value). */
static int tr_ether(struct tr *t, const struct imp_tok *a)
{
	size_t n;

	t->i++;
	if (is(a, "type")) {
		if (setf(t, IMP_F_ETHTYPE, value(t, K_ETHTYPE, &n), a))
			return -1;
	} else if (is(a, "saddr") || is(a, "daddr")) {
		if (setf(t, is(a, "saddr") ? IMP_F_ETHSRC : IMP_F_ETHDST, value(t, K_MAC, &n), a))
			return -1;
	} else {
		return unsupported(t, t->i - 2);
	}
	if (n != 1)
		return err_tok(t, a, "several values: xwall matches one per rule here");
	return 0;
}

static int translate_rule(struct tr *t)
{
	static const char *const log_args[] = { "prefix", "level", "flags", "group", "snaplen",
		"queue-threshold", NULL };
	static const char *const counter_args[] = { "packets", "bytes", NULL };
	struct imp_rule *r = t->r;
	size_t n;

	for (t->i = 0; t->i < r->nt;) {
		const struct imp_tok *k = cur(t), *a;

		if (r->verdict != IMP_V_NONE)
			return err_tok(t, k, "'%s' after the verdict: xwall cannot express this", k->s);
		if (k->quoted)
			return err_tok(t, k, "unexpected string \"%s\"", k->s);
		t->i++;
		a = cur(t);
		if (is(k, "iifname") || is(k, "iif")) {
			if (setf(t, IMP_F_IIF, value(t, K_NAME, &n), k))
				return -1;
			if (n != 1)
				return err_tok(t, k, "several interfaces: xwall matches one per rule");
		} else if (is(k, "meta") && a) {
			if (tr_meta(t, a))
				return -1;
		} else if ((is(k, "ip") || is(k, "ip6")) && a) {
			if (tr_ip(t, k, a))
				return -1;
		} else if ((is(k, "tcp") || is(k, "udp") || is(k, "sctp")) && a) {
			if (tr_transport(t, k, a))
				return -1;
		} else if (is(k, "icmp") || is(k, "icmpv6")) {
			if (icmp(t, k, is(k, "icmpv6")))
				return -1;
		} else if (is(k, "ct") && is(a, "state")) {
			t->i++;
			if (setf(t, IMP_F_CT, value(t, K_CT, &n), a))
				return -1;
		} else if (is(k, "vlan") && is(a, "id")) {
			t->i++;
			if (setf(t, IMP_F_VLAN, value(t, K_NUM, &n), a))
				return -1;
			if (n != 1)
				return err_tok(t, a, "several VLAN ids: xwall matches one per rule");
		} else if (is(k, "ether") && a) {
			if (tr_ether(t, a))
				return -1;
		} else if (is(k, "limit")) {
			if (limit(t, k))
				return -1;
		} else if (is(k, "counter")) {
			skip_args(t, counter_args);
		} else if (is(k, "comment")) {
			t->i++;
		} else if (is(k, "log")) {
			r->log = true;
			skip_args(t, log_args);
		} else if (is(k, "accept")) {
			r->verdict = IMP_V_ACCEPT;
		} else if (is(k, "drop")) {
			r->verdict = IMP_V_DROP;
		} else if (is(k, "return")) {
			r->verdict = IMP_V_RETURN;
		} else if (is(k, "jump") && a) {
			t->i++;
			r->verdict = IMP_V_JUMP;
			r->target = strdup(a->s);
		} else if (is(k, "continue")) {
			/* no verdict: the rule has no effect but its counter */
		} else if (is(k, "reject")) {
			return err_tok(t, k, "'reject' (drop and answer) cannot be expressed in xwall; "
				       "only drop");
		} else if (is(k, "goto")) {
			return err_tok(t, k, "'goto' cannot be expressed in xwall (only simple 'jump' "
				       "is inlined)");
		} else {
			return unsupported(t, t->i - 1);
		}
	}
	return 0;
}

/* ------------------------------------------------------------ output */

struct out {
	char *s;
	size_t len, cap;
	unsigned prio;
	size_t nrules;
};

static int outf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int outf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->s ? o->s + o->len : NULL, o->s ? o->cap - o->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return -1;
		if (o->s && o->len + (size_t)n < o->cap) {
			o->len += (size_t)n;
			return 0;
		}
		size_t nc = (o->cap + (size_t)n + 1) * 2;
		char *ns = realloc(o->s, nc);

		if (!ns)
			return -1;
		o->s = ns;
		o->cap = nc;
	}
}

/* A rule after jumps are joined: fields, family, log, verdict. */
struct flat {
	const char *f[IMP_F_MAX];
	int fam;
	bool log;
	int verdict;
	const struct imp_rule *src;   /* innermost rule (position) */
};

static int emit1(struct tr *t, struct out *o, const struct flat *fl, const char *dir, int cfam,
		 int fam);

/* The ip, ip6 and inet hooks see IP packets only: in an inet chain a drop
 * rule that no match restricts to IP is written once for IPv4 and once for
 * IPv6, so that ARP and other frames pass as under nftables.  (A pass rule
 * may match them: they pass under nftables anyway.) */
static int emit(struct tr *t, struct out *o, const struct flat *fl, const char *dir, int cfam)
{
	static const int ipf[] = { IMP_F_SRC, IMP_F_DST, IMP_F_PROTO, IMP_F_SPORT, IMP_F_DPORT,
				   IMP_F_TCPFLAGS, IMP_F_ICMP };
	bool ip = fl->fam != 0;

	for (size_t k = 0; k < sizeof(ipf) / sizeof(ipf[0]); k++)
		ip |= fl->f[ipf[k]] != NULL;
	if (cfam == IMP_FAM_INET && !ip && fl->verdict == IMP_V_DROP) {
		if (fl->f[IMP_F_LIMIT])
			return errat(t, fl->src->line, fl->src->col,
				     "a drop with a rate limit shared by IPv4 and IPv6 in an inet chain: "
				     "xwall would count other frames (ARP) in it too, or keep two "
				     "limits; add 'meta nfproto ipv4' (or ipv6) or a protocol match");
		return emit1(t, o, fl, dir, cfam, 4) || emit1(t, o, fl, dir, cfam, 6);
	}
	return emit1(t, o, fl, dir, cfam, fl->fam);
}

static int emit1(struct tr *t, struct out *o, const struct flat *fl, const char *dir, int cfam,
		 int fam)
{
	if (!fam)
		fam = cfam == IMP_FAM_IP ? 4 : cfam == IMP_FAM_IP6 ? 6 : 0;

	if (++o->nrules > MAX_RULES)
		return errat(t, fl->src->line, fl->src->col, "more than %d rules after inlining jumps",
			     MAX_RULES);
	o->prio += 10;
	if (!t->rs->json)
		outf(o, "# %s:%d\n", t->rs->fname, fl->src->line);
	outf(o, "rule %u %s", o->prio, dir);
	if (cfam == IMP_FAM_IP && fam == 6)
		outf(o, " ip");             /* IPv6 matches in an IPv4 table: never */
	if (cfam == IMP_FAM_IP6 && fam == 4)
		outf(o, " ip6");
	if (fam)
		outf(o, " %s", fam == 4 ? "ip" : "ip6");
	for (int f = 0; f < IMP_F_MAX; f++) {
		if (!fl->f[f])
			continue;
		if (f == IMP_F_PROTO && fl->f[IMP_F_ICMP])
			continue;               /* implied by icmp type */
		if (f == IMP_F_PROTO) {
			static const struct { const char *num, *name; } pn[] = {
				{ "6", "tcp" }, { "17", "udp" }, { "1", "icmp" }, { "58", "icmpv6" },
				{ "132", "sctp" }, { "47", "gre" }, { "50", "esp" },
			};
			const char *v = fl->f[f];

			for (size_t k = 0; k < sizeof(pn) / sizeof(pn[0]); k++)
				if (!strcmp(v, pn[k].num))
					v = pn[k].name;
			outf(o, " proto %s", v);
			continue;
		}
		outf(o, " %s%s", fprefix[f], fl->f[f]);
	}
	if (fl->log)
		outf(o, " log");
	return outf(o, " %s\n", fl->verdict == IMP_V_ACCEPT ? "pass" : "drop");
}

static bool same_matches(const struct flat *a, const struct flat *b)
{
	if (a->fam != b->fam)
		return false;
	for (int f = 0; f < IMP_F_MAX; f++)
		if ((a->f[f] == NULL) != (b->f[f] == NULL) || (a->f[f] && strcmp(a->f[f], b->f[f])))
			return false;
	return true;
}

/* Walk chain c with the matches of the jumps that led here (base). */
static int walk(struct tr *t, struct out *o, struct imp_chain *c, const struct flat *base,
		int depth, const char *dir, int cfam, struct flat *pending)
{
	if (depth > MAX_DEPTH)
		return errat(t, c->line, 1, "jumps nested deeper than %d (or a loop) at chain %s",
			     MAX_DEPTH, c->name);
	for (size_t j = 0; j < c->nr; j++) {
		struct imp_rule *r = &c->r[j];
		struct flat fl = *base;

		t->c = c;
		t->r = r;
		fl.src = r;
		fl.log = false;
		fl.verdict = r->verdict;
		if (r->fam && fl.fam && r->fam != fl.fam)
			continue;       /* never matches: IPv4 and IPv6 */
		if (r->fam)
			fl.fam = r->fam;
		for (int f = 0; f < IMP_F_MAX; f++) {
			if (!r->f[f])
				continue;
			if (fl.f[f] && strcmp(fl.f[f], r->f[f]))
				return errat(t, r->fline[f], r->fcol[f], "cannot inline the jump: this "
					     "rule and the jumping rule both match the %s, differently",
					     fname_of[f]);
			fl.f[f] = r->f[f];
		}
		if (r->verdict == IMP_V_RETURN) {
			bool bare = !r->fam && !r->log;

			for (int f = 0; f < IMP_F_MAX; f++)
				bare &= !r->f[f];
			if (!bare || j + 1 != c->nr)
				return errat(t, r->line, r->col, "'return' other than as the last rule "
					     "of a chain, without matches, cannot be expressed in xwall");
			break;
		}
		if (pending->src) {
			if (r->verdict == IMP_V_NONE || r->verdict == IMP_V_JUMP || !same_matches(pending, &fl))
				return errat(t, pending->src->line, pending->src->col, "'log' without a "
					     "verdict: xwall logs with the verdict of the rule, so the next "
					     "rule must have the same matches and accept or drop");
			fl.log = true;
			pending->src = NULL;
		}
		if (r->verdict == IMP_V_NONE) {
			if (r->log) {
				*pending = fl;
				continue;
			}
			continue;       /* counter only: no effect on verdicts */
		}
		fl.log |= r->log;
		if (r->verdict == IMP_V_JUMP) {
			struct imp_chain *to = imp_chain_find(t->rs, c->table, c->family, r->target);

			if (r->log)
				return errat(t, r->line, r->col, "'log' with 'jump' cannot be expressed in xwall");
			if (!to)
				return errat(t, r->line, r->col, "jump to chain '%s', which is not declared",
					     r->target);
			if (to->base)
				return errat(t, r->line, r->col, "jump to base chain '%s'", r->target);
			if (walk(t, o, to, &fl, depth + 1, dir, cfam, pending))
				return -1;
			continue;
		}
		if (emit(t, o, &fl, dir, cfam))
			return -1;
	}
	return 0;
}

static const char *hook_name(int h)
{
	static const char *const n[] = { "none", "input", "forward", "prerouting", "ingress",
		"output", "postrouting", "other" };
	return n[h];
}

static bool listed(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; p; p = strchr(p, ',')) {
		if (*p == ',')
			p++;
		if (!strncmp(p, name, n) && (p[n] == ',' || !p[n]))
			return true;
	}
	return false;
}

static bool trivial(const struct imp_chain *c)
{
	return !c->nr && c->policy != IMP_V_DROP;
}

/* Every rule's statements first: every error is found, in file order. */
static int translate_all(struct tr *t)
{
	struct imp_ruleset *rs = t->rs;

	for (size_t i = 0; i < rs->nc; i++) {
		t->c = &rs->c[i];
		if (t->c->family == IMP_FAM_OTHER && t->c->nr)
			return errat(t, t->c->line, 1, "chain %s: only the ip, ip6, inet and netdev "
				     "families can be expressed in xwall", t->c->name);
		for (size_t j = 0; j < t->c->nr; j++) {
			t->r = &t->c->r[j];
			if (translate_rule(t))
				return -1;
		}
	}
	return 0;
}

/* The base chain that filters each direction (pick[0] in, pick[1] out):
 * one at most, of type filter, on a hook xwall can stand for. */
static int pick_chains(struct tr *t, struct imp_chain *pick[2])
{
	struct imp_ruleset *rs = t->rs;

	for (size_t i = 0; i < rs->nc; i++) {
		struct imp_chain *c = &rs->c[i];
		int d;

		if (!c->base || trivial(c))
			continue;
		t->c = c;
		if (rs->only && !listed(rs->only, c->name))
			continue;
		if (c->type && strcmp(c->type, "filter"))
			return errat(t, c->line, 1, "chain %s is of type %s: only filter chains can be "
				     "expressed in xwall", c->name, c->type);
		switch (c->hook) {
		case IMP_HOOK_IN: case IMP_HOOK_FWD: case IMP_HOOK_PRE: case IMP_HOOK_INGRESS:
			d = 0;
			break;
		case IMP_HOOK_OUT: case IMP_HOOK_POST:
			d = 1;
			break;
		default:
			return errat(t, c->line, 1, "chain %s: hook %s cannot be expressed in xwall",
				     c->name, hook_name(c->hook));
		}
		if (pick[d])
			return errat(t, c->line, 1, "chain %s (hook %s) and chain %s (hook %s, line %d) "
				     "both filter %s: xwall has one %s rule list, decided before routing "
				     "(choose one with --chain NAME)",
				     c->name, hook_name(c->hook), pick[d]->name, hook_name(pick[d]->hook),
				     pick[d]->line, d ? "outgoing traffic" : "incoming traffic",
				     d ? "egress" : "ingress");
		pick[d] = c;
	}
	return 0;
}

/* The comment lines at the top: the source, the chains left out, the
 * chains imported (and a netdev chain's drop policy). */
static void put_header(struct out *o, const struct imp_ruleset *rs, struct imp_chain *pick[2])
{
	outf(o, "# imported from %s by xwall import\n", rs->fname);
	for (size_t i = 0; rs->only && i < rs->nc; i++)
		if (rs->c[i].base && !trivial(&rs->c[i]) && !listed(rs->only, rs->c[i].name))
			outf(o, "# not imported (--chain %s): chain %s, hook %s%s\n", rs->only, rs->c[i].name,
			     hook_name(rs->c[i].hook), rs->c[i].policy == IMP_V_DROP ? ", policy drop" : "");
	for (int d = 0; d < 2; d++) {
		const struct imp_chain *c = pick[d];
		static const char *const fams[] = { "inet", "ip", "ip6", "netdev", "?" };

		if (!c)
			continue;
		outf(o, "# %s: chain %s %s %s (hook %s)\n", d ? "out" : "in", fams[c->family],
		     c->table, c->name, hook_name(c->hook));
		if (c->policy == IMP_V_DROP && c->family == IMP_FAM_NETDEV)
			outf(o, "policy %sdrop\n", d ? "out " : "");
	}
}

char *imp_translate(struct imp_ruleset *rs, struct xw_err *err)
{
	struct tr t = { .rs = rs, .err = err };
	struct imp_chain *pick[2] = { NULL, NULL };
	struct out o = { 0 };

	if (translate_all(&t) || pick_chains(&t, pick))
		return NULL;
	put_header(&o, rs, pick);
	for (int d = 0; d < 2; d++) {
		struct imp_chain *c = pick[d];
		const char *dir = d ? "out" : "in";
		struct flat base = { 0 }, pending = { 0 };

		if (!c)
			continue;
		if (walk(&t, &o, c, &base, 0, dir, c->family, &pending))
			goto fail;
		if (pending.src) {
			errat(&t, pending.src->line, pending.src->col, "'log' without a verdict at the "
			      "end of a chain cannot be expressed in xwall");
			goto fail;
		}
		if (c->policy == IMP_V_DROP && c->family != IMP_FAM_NETDEV) {
			/* the ip/ip6/inet hooks see IP packets only: the rest passes */
			outf(&o, "# policy drop of chain %s, for the packets it sees\n", c->name);
			if (c->family != IMP_FAM_IP6)
				outf(&o, "rule %u %s ip drop\n", o.prio += 10, dir);
			if (c->family != IMP_FAM_IP)
				outf(&o, "rule %u %s ip6 drop\n", o.prio += 10, dir);
		}
	}
	if (o.prio > XW_PRIO_MAX) {
		snprintf(err->msg, sizeof(err->msg), "%s: %u rules: more than xwall's priorities allow",
			 rs->fname, o.prio / 10);
		goto fail;
	}
	if (!o.s)
		outf(&o, "%s", "");
	return o.s;
fail:
	free(o.s);
	return NULL;
}
