// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* set add|del|list|flush|load|feed|gc: the elements of named sets
 * (loader/sets.c).  Elements change without touching any rule. */
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <json-c/json.h>
#include "ctl.h"
#include "sets.h"

#define FEED_BATCH 4096   /* changes applied together by `set feed` */

static void elem_str(const struct xw_set_elem *e, char *buf, size_t n)
{
	char a[INET6_ADDRSTRLEN];

	if (e->kind == XW_SETK_PORT) {
		if (e->lo == e->hi)
			snprintf(buf, n, "%u", e->lo);
		else
			snprintf(buf, n, "%u-%u", e->lo, e->hi);
		return;
	}
	inet_ntop(e->kind == XW_SETK_V4 ? AF_INET : AF_INET6, e->addr, a, sizeof(a));
	if (e->plen != (e->kind == XW_SETK_V4 ? 32 : 128))
		snprintf(buf, n, "%s/%u", a, e->plen);
	else
		snprintf(buf, n, "%s", a);
}

/* The declaration view of a live set, for the element parser. */
static void decl_of(const struct xw_set_def *d, struct xw_set_decl *sd)
{
	memset(sd, 0, sizeof(*sd));
	snprintf(sd->name, sizeof(sd->name), "%s", d->name);
	sd->type = d->type;
	sd->flags = d->flags;
	sd->size = d->size;
	sd->timeout_ms = d->timeout_ns / 1000000ull;
}

static int find(struct xw_dp *dp, const char *name, struct xw_set_def *def, uint32_t *id)
{
	*id = xw_set_find(dp, name, def);
	if (!*id)
		return xw_failf(XW_EINPUT, "no set named '%s' (declare it in the rule file: "
				"set %s { type inet_addr; })", name, name);
	return 0;
}

/* A Go-style duration ("59m58.5s", "1h", "250ms") as CrowdSec writes it. */
static int go_duration(const char *s, uint64_t *ms)
{
	double total = 0;

	if (*s == '-') {
		*ms = 0;
		return 0;
	}
	while (*s) {
		char *e;
		double v = strtod(s, &e);

		if (e == s)
			return -1;
		s = e;
		if (!strncmp(s, "ms", 2)) {
			total += v;
			s += 2;
		} else if (!strncmp(s, "us", 2) || !strncmp(s, "ns", 2)) {
			total += v / (s[0] == 'u' ? 1e3 : 1e6);
			s += 2;
		} else if (*s == 'h' || *s == 'm' || *s == 's') {
			total += v * (*s == 'h' ? 3600e3 : *s == 'm' ? 60e3 : 1e3);
			s++;
		} else {
			return -1;
		}
	}
	*ms = (uint64_t)total;
	return 0;
}

/* `ELEM [timeout D]` of a load or feed line, words w[0..n).  why: message. */
static int parse_elem_words(const struct xw_set_decl *sd, char **w, int n, struct xw_set_elem *e,
			    int *bad, char *why, size_t wl)
{
	*bad = 0;
	if (n != 1 && n != 3) {
		*bad = n > 1 ? 1 : 0;
		snprintf(why, wl, "expected ELEM [timeout DURATION]");
		return -1;
	}
	if (xw_set_elem_parse(sd, w[0], strlen(w[0]), e, why, wl))
		return -1;
	if (n == 3) {
		if (strcmp(w[1], "timeout")) {
			*bad = 1;
			snprintf(why, wl, "expected 'timeout', got '%s'", w[1]);
			return -1;
		}
		*bad = 2;
		if (!(sd->flags & XW_SETF_TIMEOUT)) {
			snprintf(why, wl, "set %s has no 'flags timeout'", sd->name);
			return -1;
		}
		if (xw_duration_parse(w[2], strlen(w[2]), &e->timeout_ms) || !e->timeout_ms) {
			snprintf(why, wl, "expected a duration such as 30s, 10m, 1h, 7d or 1h30m, "
				 "got '%s'", w[2]);
			return -1;
		}
		e->has_timeout = 1;
	}
	return 0;
}

/* Split a line into words in place; cols[] their 1-based columns. */
static int split(char *line, char **w, int *cols, int max)
{
	int n = 0;
	char *p = line;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (!*p || *p == '#')
			break;
		if (n == max)
			return max + 1;
		w[n] = p;
		cols[n] = (int)(p - line) + 1;
		n++;
		while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n' && *p != '#')
			p++;
		if (*p == '#') {
			*p = '\0';
			break;
		}
		if (*p)
			*p++ = '\0';
	}
	return n;
}

static int push(struct xw_set_elem **a, size_t *n, size_t *cap, const struct xw_set_elem *e)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 1024;
		struct xw_set_elem *na = realloc(*a, nc * sizeof(*na));

		if (!na)
			return -1;
		*a = na;
		*cap = nc;
	}
	(*a)[(*n)++] = *e;
	return 0;
}

static int set_load(struct xw_dp *dp, const char *name, const char *path)
{
	struct xw_set_def def;
	struct xw_set_decl sd;
	struct xw_set_elem *el = NULL;
	size_t n = 0, cap = 0, len;
	struct xw_err err;
	uint32_t id;
	char *text, *line;
	const char *fname;
	int rc, ln = 0;

	if (!name || !path)
		return xw_usage("set", XW_EINPUT);
	fname = strcmp(path, "-") ? path : "<stdin>";

	rc = find(dp, name, &def, &id);
	if (rc)
		return rc;
	decl_of(&def, &sd);
	text = xw_slurp(path, &len);
	if (!text)
		return xw_failf(XW_EINPUT, "%s: %s", fname, strerror(errno));
	/* parse everything first: nothing changes on bad input */
	for (line = text; line && *line;) {
		char *nl = strchr(line, '\n'), *w[8], why[200];
		int cols[8] = { 0 }, nw, bad;
		struct xw_set_elem e;

		if (nl)
			*nl = '\0';
		ln++;
		nw = split(line, w, cols, 7);
		if (nw > 0 && parse_elem_words(&sd, w, nw > 7 ? 7 : nw, &e, &bad, why, sizeof(why))) {
			fprintf(stderr, "%s:%d:%d: %s\n", fname, ln, cols[bad < nw ? bad : 0], why);
			free(text);
			free(el);
			return XW_EINPUT;
		}
		if (nw > 0 && push(&el, &n, &cap, &e)) {
			free(text);
			free(el);
			return xw_failf(XW_ESYS, "out of memory");
		}
		line = nl ? nl + 1 : NULL;
	}
	free(text);
	if (n > def.size) {
		free(el);
		return xw_failf(XW_EINPUT, "%s: %zu elements, more than the size %u of set %s", fname, n,
				def.size, name);
	}
	rc = xw_set_load(dp, id, &def, el, n, &err);
	free(el);
	if (rc)
		return xw_fail(rc, &err);
	printf("set %s: %zu elements loaded\n", name, n);
	return 0;
}

/* One feed line into *e; returns 1 (add), 2 (del), 0 (nothing: blank or a
 * decision of another scope), -1 (bad: why). */
static int feed_line(const struct xw_set_decl *sd, char *line, bool json, struct xw_set_elem *e,
		     int *col, char *why, size_t wl)
{
	*col = 1;
	if (json) {
		json_object *o, *v, *a, *d;
		const char *act, *val;
		int r;

		while (isspace((unsigned char)*line))
			line++;
		if (!*line)
			return 0;
		o = json_tokener_parse(line);
		if (!o || !json_object_is_type(o, json_type_object)) {
			json_object_put(o);
			snprintf(why, wl, "expected one JSON decision object per line");
			return -1;
		}
		if (!json_object_object_get_ex(o, "value", &v) || !json_object_is_type(v, json_type_string) ||
		    !json_object_object_get_ex(o, "action", &a) || !json_object_is_type(a, json_type_string)) {
			json_object_put(o);
			snprintf(why, wl, "a decision needs string fields \"value\" and \"action\"");
			return -1;
		}
		act = json_object_get_string(a);
		val = json_object_get_string(v);
		if (json_object_object_get_ex(o, "scope", &d) && json_object_is_type(d, json_type_string) &&
		    strcasecmp(json_object_get_string(d), "ip") && strcasecmp(json_object_get_string(d), "range")) {
			json_object_put(o);
			return 0;   /* a country, an AS...: not an address */
		}
		if (strcmp(act, "add") && strcmp(act, "del")) {
			json_object_put(o);
			snprintf(why, wl, "\"action\" must be \"add\" or \"del\"");
			return -1;
		}
		r = !strcmp(act, "add") ? 1 : 2;
		if (xw_set_elem_parse(sd, val, strlen(val), e, why, wl)) {
			json_object_put(o);
			return -1;
		}
		if (r == 1 && json_object_object_get_ex(o, "duration", &d) &&
		    json_object_is_type(d, json_type_string)) {
			if (go_duration(json_object_get_string(d), &e->timeout_ms)) {
				json_object_put(o);
				snprintf(why, wl, "bad \"duration\" '%s'", json_object_get_string(d));
				return -1;
			}
			e->has_timeout = e->timeout_ms > 0 && (sd->flags & XW_SETF_TIMEOUT);
		}
		json_object_put(o);
		return r;
	}
	{
		char *w[8];
		int cols[8] = { 0 }, nw = split(line, w, cols, 7), bad;

		if (nw == 0)
			return 0;
		if (nw > 7 || (strcmp(w[0], "add") && strcmp(w[0], "del"))) {
			snprintf(why, wl, "expected 'add ELEM [timeout D]' or 'del ELEM'");
			return -1;
		}
		if (!strcmp(w[0], "del") && nw != 2) {
			*col = nw > 2 ? cols[2] : 1;
			snprintf(why, wl, "expected 'del ELEM'");
			return -1;
		}
		if (parse_elem_words(sd, w + 1, nw - 1, e, &bad, why, wl)) {
			*col = cols[1 + (bad < nw - 1 ? bad : 0)];
			return -1;
		}
		return !strcmp(w[0], "add") ? 1 : 2;
	}
}

static int apply_batch(struct xw_dp *dp, const char *name, struct xw_set_elem *el, uint8_t *op,
		       size_t n, struct xw_err *err)
{
	struct xw_set_def def;
	uint32_t id = xw_set_find(dp, name, &def);

	if (!id)
		return xw_errf(err, XW_EINPUT, "set %s no longer exists", name);
	/* runs of adds and of deletes, in order: one map open per run */
	for (size_t i = 0; i < n;) {
		size_t j = i;
		int rc;

		while (j < n && op[j] == op[i])
			j++;
		rc = xw_set_update(dp, id, &def, &el[i], j - i, op[i] == 2, err);
		if (rc)
			return rc;
		i = j;
	}
	return 0;
}

static int set_feed(struct xw_dp *dp, const char *name, bool json)
{
	struct xw_set_def def;
	struct xw_set_decl sd;
	struct xw_set_elem *el = calloc(FEED_BATCH, sizeof(*el));
	uint8_t *op = calloc(FEED_BATCH, 1);
	char *line = NULL;
	size_t cap = 0, n = 0;
	uint64_t total = 0;
	struct xw_err err;
	uint32_t id;
	int rc, ln = 0;

	if (!el || !op) {
		free(el);
		free(op);
		return xw_failf(XW_ESYS, "out of memory");
	}
	rc = find(dp, name, &def, &id);
	if (rc)
		goto out;
	decl_of(&def, &sd);
	/* a producer runs for days: do not hold the datapath lock meanwhile
	 * (each batch looks the set up again, following applies) */
	if (dp->lock_fd >= 0) {
		close(dp->lock_fd);
		dp->lock_fd = -1;
	}
	for (;;) {
		ssize_t got = getline(&line, &cap, stdin);
		struct pollfd pf = { .fd = 0, .events = POLLIN };
		bool more;

		if (got > 0) {
			char why[256];
			int col, r;

			ln++;
			r = feed_line(&sd, line, json, &el[n], &col, why, sizeof(why));
			if (r < 0) {
				fprintf(stderr, "<stdin>:%d:%d: %s (the batch of %zu change%s before it "
					"was not applied)\n", ln, col, why, n, n == 1 ? "" : "s");
				rc = XW_EINPUT;
				goto out;
			}
			if (r > 0)
				op[n++] = (uint8_t)r;
		}
		/* apply when the batch is full, at the end, or when the
		 * producer pauses (nothing more to read right now) */
		more = got > 0 && (stdin->_IO_read_ptr < stdin->_IO_read_end || poll(&pf, 1, 0) > 0);
		if (n && (n == FEED_BATCH || got <= 0 || !more)) {
			rc = apply_batch(dp, name, el, op, n, &err);
			if (rc) {
				xw_fail(rc, &err);
				goto out;
			}
			total += n;
			n = 0;
		}
		if (got <= 0)
			break;
	}
	fprintf(stderr, "set %s: %llu changes applied\n", name, (unsigned long long)total);
	rc = 0;
out:
	free(line);
	free(el);
	free(op);
	return rc;
}

static void print_def(const struct xw_set_def *d, size_t count)
{
	struct xw_set_decl sd;

	decl_of(d, &sd);
	sd.size = d->size;
	printf("# %zu element%s\n", count, count == 1 ? "" : "s");
	xw_set_decl_print(stdout, &sd, 0);
}

static json_object *def_json(const struct xw_set_def *d, size_t count)
{
	json_object *o = json_object_new_object(), *f = json_object_new_array();

	json_object_object_add(o, "name", json_object_new_string(d->name));
	json_object_object_add(o, "type", json_object_new_string(xw_set_type_name(d->type)));
	if (d->flags & XW_SETF_INTERVAL)
		json_object_array_add(f, json_object_new_string("interval"));
	if (d->flags & XW_SETF_TIMEOUT)
		json_object_array_add(f, json_object_new_string("timeout"));
	json_object_object_add(o, "flags", f);
	json_object_object_add(o, "timeout_s", d->timeout_ns ?
			       json_object_new_double((double)d->timeout_ns / 1e9) : NULL);
	json_object_object_add(o, "size", json_object_new_int64(d->size));
	json_object_object_add(o, "count", json_object_new_int64((int64_t)count));
	return o;
}

static size_t live_count(const struct xw_set_item *it, size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += it[i].left_ms != 0;
	return c;
}

static int set_list(struct xw_dp *dp, const char *name, bool json)
{
	struct xw_set_def defs[XW_MAX_SETS];
	json_object *arr = json ? json_object_new_array() : NULL;
	struct xw_err err;
	int rc = 0;

	if (xw_set_defs(dp, defs))
		return xw_failf(XW_ESYS, "read the set definitions: %s", strerror(errno));
	if (name && !xw_set_find(dp, name, NULL)) {
		json_object_put(arr);
		return find(dp, name, NULL, &(uint32_t){ 0 });
	}
	for (uint32_t id = 1; id < XW_MAX_SETS && !rc; id++) {
		struct xw_set_item *it;
		size_t n;

		if (!defs[id].name[0] || (name && strcmp(defs[id].name, name)))
			continue;
		rc = xw_set_items(dp, id, &it, &n, &err);
		if (rc) {
			xw_fail(rc, &err);
			break;
		}
		if (json) {
			json_object *o = def_json(&defs[id], live_count(it, n));

			if (name) {
				json_object *ea = json_object_new_array();

				for (size_t i = 0; i < n; i++) {
					json_object *e = json_object_new_object();
					char s[64];

					if (!it[i].left_ms)
						continue;
					elem_str(&it[i].e, s, sizeof(s));
					json_object_object_add(e, "value", json_object_new_string(s));
					json_object_object_add(e, "expires_s", it[i].left_ms < 0 ? NULL :
							       json_object_new_double((double)it[i].left_ms / 1e3));
					json_object_object_add(e, "ban", json_object_new_boolean(it[i].banned));
					json_object_array_add(ea, e);
				}
				json_object_object_add(o, "elements", ea);
			}
			json_object_array_add(arr, o);
		} else {
			print_def(&defs[id], live_count(it, n));
			for (size_t i = 0; name && i < n; i++) {
				char s[64], t[32];

				if (!it[i].left_ms)
					continue;   /* expired: never matches, gone at the next gc */
				elem_str(&it[i].e, s, sizeof(s));
				if (it[i].left_ms > 0) {
					xw_duration_format((uint64_t)it[i].left_ms, t, sizeof(t));
					printf("%s expires %s%s\n", s, t, it[i].banned ? " ban" : "");
				} else {
					printf("%s\n", s);
				}
			}
		}
		free(it);
	}
	if (json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "sets", arr);
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	}
	return rc;
}

/* add|del NAME ELEM... [timeout D] */
static int set_change(struct xw_dp *dp, bool del, int argc, char **argv)
{
	struct xw_set_def def;
	struct xw_set_decl sd;
	struct xw_set_elem *el;
	struct xw_err err;
	uint64_t tmo = 0;
	uint32_t id;
	int n = argc - 1, rc;

	if (n >= 2 && !strcmp(argv[argc - 2], "timeout")) {
		if (del)
			return xw_usage("set", XW_EINPUT);
		if (xw_duration_parse(argv[argc - 1], strlen(argv[argc - 1]), &tmo) || !tmo)
			return xw_failf(XW_EINPUT, "set add: expected a duration such as 30s, 10m, 1h, 7d "
					"or 1h30m, got '%s'", argv[argc - 1]);
		n -= 2;
	}
	if (n < 1)
		return xw_usage("set", XW_EINPUT);
	rc = find(dp, argv[0], &def, &id);
	if (rc)
		return rc;
	decl_of(&def, &sd);
	if (tmo && !(def.flags & XW_SETF_TIMEOUT))
		return xw_failf(XW_EINPUT, "set %s has no 'flags timeout'", argv[0]);
	el = calloc((size_t)n, sizeof(*el));
	if (!el)
		return xw_failf(XW_ESYS, "out of memory");
	for (int i = 0; i < n; i++) {
		char why[200];

		if (xw_set_elem_parse(&sd, argv[1 + i], strlen(argv[1 + i]), &el[i], why, sizeof(why))) {
			free(el);
			return xw_failf(XW_EINPUT, "set %s: %s", del ? "del" : "add", why);
		}
		el[i].has_timeout = tmo != 0;
		el[i].timeout_ms = tmo;
	}
	rc = xw_set_update(dp, id, &def, el, (size_t)n, del, &err);
	free(el);
	return rc ? xw_fail(rc, &err) : 0;
}

int cmd_set(int argc, char **argv)
{
	struct xw_dp dp;
	const char *sub;
	bool json = false;
	int rc, na = 0;
	char **args;

	if (argc < 2)
		return xw_usage("set", XW_EINPUT);
	sub = argv[1];
	args = calloc((size_t)argc, sizeof(*args));
	if (!args)
		return xw_failf(XW_ESYS, "out of memory");
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j"))
			json = true;
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			free(args);
			return xw_usage("set", 0);
		} else
			args[na++] = argv[i];
	}
	if (json && strcmp(sub, "list") && strcmp(sub, "feed"))
		goto usage;
	if ((!strcmp(sub, "add") || !strcmp(sub, "del")) && na < 2)
		goto usage;
	if (!strcmp(sub, "list") && na > 1)
		goto usage;
	if ((!strcmp(sub, "flush") || !strcmp(sub, "feed")) && na != 1)
		goto usage;
	if (!strcmp(sub, "load") && na != 2)
		goto usage;
	if (!strcmp(sub, "gc") && na != 0)
		goto usage;
	if (strcmp(sub, "add") && strcmp(sub, "del") && strcmp(sub, "list") && strcmp(sub, "flush") &&
	    strcmp(sub, "load") && strcmp(sub, "feed") && strcmp(sub, "gc"))
		goto usage;
	{
		/* the set maps alone: a `set add` is one short process (fail2ban) */
		struct xw_err err;

		rc = xw_sets_open(&dp, &err);
		if (rc) {
			xw_dp_close(&dp);
			free(args);
			return xw_fail(rc == -1 ? XW_ESYS : rc, &err);
		}
	}
	if (!strcmp(sub, "add") || !strcmp(sub, "del")) {
		rc = set_change(&dp, sub[0] == 'd', na, args);
	} else if (!strcmp(sub, "list")) {
		rc = set_list(&dp, na ? args[0] : NULL, json);
	} else if (!strcmp(sub, "flush")) {
		struct xw_set_def def;
		struct xw_err err;
		uint32_t id;

		rc = find(&dp, args[0], &def, &id);
		if (!rc && (rc = xw_set_replace(&dp, id, &def, NULL, 0, &err)) != 0)
			xw_fail(rc, &err);
	} else if (!strcmp(sub, "load")) {
		rc = set_load(&dp, args[0], args[1]);
	} else if (!strcmp(sub, "feed")) {
		rc = set_feed(&dp, args[0], json);
	} else {
		struct xw_err err;
		uint64_t n;

		rc = xw_set_gc(&dp, &n, &err);
		if (rc)
			xw_fail(rc, &err);
		else
			printf("%llu expired elements removed\n", (unsigned long long)n);
	}
	xw_dp_close(&dp);
	free(args);
	return rc;
usage:
	free(args);
	return xw_usage("set", XW_EINPUT);
}
