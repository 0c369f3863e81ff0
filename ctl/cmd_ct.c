// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* ct list | flush | timeout: the connection-tracking flow table. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "ctl.h"

static const char *proto_name(uint8_t p, char *buf, size_t n)
{
	switch (p) {
	case 6: return "tcp";
	case 17: return "udp";
	case 1: return "icmp";
	case 58: return "icmpv6";
	case 132: return "sctp";
	default: snprintf(buf, n, "%u", p); return buf;
	}
}

static void addr_str(const struct xw_ct_key *k, const uint8_t *a, char *buf, size_t n)
{
	inet_ntop(k->family == 6 ? AF_INET6 : AF_INET, a, buf, (socklen_t)n);
}

struct list_ctx {
	json_object *arr;
	size_t n;
};

/* Print the flow from its initiator's point of view, as conntrack -L does. */
static int show(const struct xw_ct_key *k, const struct xw_ct_val *v, uint64_t now, void *arg)
{
	struct list_ctx *c = arg;
	char sa[INET6_ADDRSTRLEN], da[INET6_ADDRSTRLEN], pb[8];
	const uint8_t *s = v->init_b ? k->b : k->a, *d = v->init_b ? k->a : k->b;
	uint16_t sp = v->init_b ? k->pb : k->pa, dp = v->init_b ? k->pa : k->pb;
	double age = (double)(now - v->created_ns) / 1e9, idle = (double)(now - v->last_ns) / 1e9;
	const char *pkt_state = v->seen_reply ? "established" : "new";
	const char *st = v->state < XW_CTS_MAX ? xw_ct_state_names[v->state] : "?";

	addr_str(k, s, sa, sizeof(sa));
	addr_str(k, d, da, sizeof(da));
	c->n++;
	if (c->arr) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "proto", json_object_new_string(proto_name(k->proto, pb, sizeof(pb))));
		json_object_object_add(o, "src", json_object_new_string(sa));
		json_object_object_add(o, "dst", json_object_new_string(da));
		json_object_object_add(o, "sport", json_object_new_int(sp));
		json_object_object_add(o, "dport", json_object_new_int(dp));
		json_object_object_add(o, "state", json_object_new_string(pkt_state));
		json_object_object_add(o, "entry_state", json_object_new_string(st));
		json_object_object_add(o, "age_s", json_object_new_double(age));
		json_object_object_add(o, "idle_s", json_object_new_double(idle));
		json_object_object_add(o, "packets_orig", json_object_new_int64((int64_t)v->packets[v->init_b ? 1 : 0]));
		json_object_object_add(o, "packets_reply", json_object_new_int64((int64_t)v->packets[v->init_b ? 0 : 1]));
		json_object_array_add(c->arr, o);
	} else {
		printf("%-6s %-11s %-15s src=%s dst=%s sport=%u dport=%u age=%.1fs idle=%.1fs packets=%llu/%llu\n",
		       proto_name(k->proto, pb, sizeof(pb)), pkt_state, st, sa, da, sp, dp, age, idle,
		       (unsigned long long)v->packets[v->init_b ? 1 : 0],
		       (unsigned long long)v->packets[v->init_b ? 0 : 1]);
	}
	return 0;
}

static int ct_timeout(struct xw_dp *dp, int argc, char **argv)
{
	uint32_t t[XW_CTS_MAX];
	struct xw_err err;

	if (argc == 0) {
		if (xw_dp_ct_timeouts(dp, t))
			return xw_failf(XW_ESYS, "read timeouts");
		for (int i = 1; i < XW_CTS_MAX; i++)
			printf("%-16s %u\n", xw_ct_state_names[i], t[i]);
		return 0;
	}
	if (argc % 2)
		return xw_usage("ct", XW_EINPUT);
	/* check every pair before changing anything: all or nothing */
	for (int pass = 0; pass < 2; pass++) {
		for (int a = 0; a < argc; a += 2) {
			int st = -1;
			char *e;
			unsigned long secs = strtoul(argv[a + 1], &e, 10);

			for (int i = 1; i < XW_CTS_MAX; i++)
				if (!strcmp(argv[a], xw_ct_state_names[i]))
					st = i;
			if (st < 0)
				return xw_failf(XW_EINPUT, "ct timeout: unknown timeout '%s' (see 'xwall ct timeout')",
						argv[a]);
			if (*e || !*argv[a + 1] || secs == 0 || secs > 0xffffffffu)
				return xw_failf(XW_EINPUT, "ct timeout: expected seconds > 0, got '%s'", argv[a + 1]);
			if (pass && xw_dp_ct_set_timeout(dp, st, (uint32_t)secs, &err))
				return xw_fail(XW_ESYS, &err);
		}
	}
	return 0;
}

int cmd_ct(int argc, char **argv)
{
	struct xw_dp dp;
	int rc;

	if (argc < 2)
		return xw_usage("ct", XW_EINPUT);
	if (strcmp(argv[1], "list") && strcmp(argv[1], "flush") && strcmp(argv[1], "timeout"))
		return xw_usage("ct", XW_EINPUT);
	if (!strcmp(argv[1], "list") && argc > 2 && (argc > 3 || strcmp(argv[2], "--json")))
		return xw_usage("ct", XW_EINPUT);
	if (!strcmp(argv[1], "flush") && argc != 2)
		return xw_usage("ct", XW_EINPUT);
	rc = xw_open(&dp, false);
	if (rc)
		return rc;
	if (!strcmp(argv[1], "list")) {
		struct list_ctx c = { 0 };
		bool json = argc == 3;

		if (json)
			c.arr = json_object_new_array();
		rc = xw_dp_ct_each(&dp, show, &c);
		if (json) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "flows", c.arr);
			printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
			json_object_put(o);
		} else {
			printf("%zu flows\n", c.n);
		}
		rc = rc ? xw_failf(XW_ESYS, "read flow table") : 0;
	} else if (!strcmp(argv[1], "flush")) {
		uint64_t n;

		rc = xw_dp_ct_flush(&dp, &n);
		if (rc)
			rc = xw_failf(XW_ESYS, "flush flow table: %s", strerror(-rc));
		else
			printf("%llu flows flushed\n", (unsigned long long)n);
	} else {
		rc = ct_timeout(&dp, argc - 2, argv + 2);
	}
	xw_dp_close(&dp);
	return rc;
}
