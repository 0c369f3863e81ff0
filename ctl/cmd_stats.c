// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* stats: per-rule, per-verdict and per-reason counters (text, JSON, Prometheus). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>
#include "ctl.h"

struct snap {
	struct xw_ruleset rs;
	struct xw_counter *rule;            /* per rule, same order as rs */
	struct xw_counter verdict[XW_VERDICT_MAX];
	struct xw_counter reason[XW_REASON_MAX];
	uint64_t ct[XW_CTC_MAX];
	int64_t ct_live;
	uint64_t ev[XW_EVC_MAX];
	double t;
};

static const char *verdict_names[] = { [XW_DROP] = "drop", [XW_PASS] = "pass", [2] = "audit",
				       [XW_REJECT] = "reject" };
_Static_assert(XW_ARRAY_SIZE(verdict_names) == XW_VERDICT_MAX,
	       "verdict_names: every enum xw_verdict needs a name");
static const char *event_names[XW_EVC_MAX] = { "sent", "lost", "capped" };

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void snap_free(struct snap *s)
{
	xw_ruleset_free(&s->rs);
	free(s->rule);
	memset(s, 0, sizeof(*s));
}

static int take(struct snap *s)
{
	struct xw_dp dp;
	struct xw_err err;
	uint32_t *slots = NULL;
	int rc = xw_open(&dp, false);

	memset(s, 0, sizeof(*s));
	if (rc)
		return rc;
	rc = xw_dp_read_rules(&dp, &s->rs, &slots, NULL, &err);
	if (rc) {
		xw_dp_close(&dp);
		return xw_fail(rc, &err);
	}
	s->rule = calloc(s->rs.n + 1, sizeof(*s->rule));
	for (size_t i = 0; s->rule && i < s->rs.n; i++)
		xw_dp_counter(&dp, XW_M_RULE_STATS, slots[i], &s->rule[i]);
	for (uint32_t i = 0; i < XW_VERDICT_MAX; i++)
		xw_dp_counter(&dp, XW_M_VERDICT_STATS, i, &s->verdict[i]);
	for (uint32_t i = 0; i < XW_REASON_MAX; i++)
		xw_dp_counter(&dp, XW_M_REASON_STATS, i, &s->reason[i]);
	xw_dp_ct_counters(&dp, s->ct, &s->ct_live);
	for (uint32_t i = 0; i < XW_EVC_MAX; i++)
		s->ev[i] = xw_dp_percpu_u64(&dp, XW_M_EVENT_STATS, i);
	s->t = now();
	free(slots);
	xw_dp_close(&dp);
	return s->rule ? 0 : xw_failf(XW_ESYS, "out of memory");
}

static json_object *counter_json(const struct xw_counter *c)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "packets", json_object_new_int64((int64_t)c->packets));
	json_object_object_add(o, "bytes", json_object_new_int64((int64_t)c->bytes));
	return o;
}

static void print_json(const struct snap *s)
{
	json_object *o = json_object_new_object(), *a = json_object_new_array();
	json_object *v = json_object_new_object(), *r = json_object_new_object();

	for (size_t i = 0; i < s->rs.n; i++) {
		json_object *e = counter_json(&s->rule[i]);

		json_object_object_add(e, "prio", json_object_new_int64(s->rs.rules[i].prio));
		json_object_array_add(a, e);
	}
	for (int i = 0; i < XW_VERDICT_MAX; i++)
		json_object_object_add(v, verdict_names[i], counter_json(&s->verdict[i]));
	for (int i = 0; i < XW_REASON_MAX; i++)
		json_object_object_add(r, xw_reason_names[i], counter_json(&s->reason[i]));
	json_object *ct = json_object_new_object();

	for (int i = 0; i < XW_CTC_MAX; i++)
		json_object_object_add(ct, xw_ct_counter_names[i], json_object_new_int64((int64_t)s->ct[i]));
	json_object_object_add(ct, "entries", json_object_new_int64(s->ct_live));
	json_object_object_add(o, "rules", a);
	json_object_object_add(o, "verdicts", v);
	json_object_object_add(o, "reasons", r);
	json_object_object_add(o, "conntrack", ct);
	{
		json_object *ev = json_object_new_object();

		for (int i = 0; i < XW_EVC_MAX; i++)
			json_object_object_add(ev, event_names[i], json_object_new_int64((int64_t)s->ev[i]));
		json_object_object_add(o, "events", ev);
	}
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static void prom_family(const char *name, const char *help)
{
	printf("# HELP xwall_%s %s\n# TYPE xwall_%s counter\n", name, help, name);
}

static void print_prometheus(const struct snap *s)
{
	prom_family("rule_packets_total", "Packets decided by the rule.");
	for (size_t i = 0; i < s->rs.n; i++)
		printf("xwall_rule_packets_total{prio=\"%u\"} %llu\n", s->rs.rules[i].prio,
		       (unsigned long long)s->rule[i].packets);
	prom_family("rule_bytes_total", "Bytes decided by the rule.");
	for (size_t i = 0; i < s->rs.n; i++)
		printf("xwall_rule_bytes_total{prio=\"%u\"} %llu\n", s->rs.rules[i].prio,
		       (unsigned long long)s->rule[i].bytes);
	prom_family("verdict_packets_total", "Packets by final verdict.");
	for (int i = 0; i < XW_VERDICT_MAX; i++)
		printf("xwall_verdict_packets_total{verdict=\"%s\"} %llu\n", verdict_names[i],
		       (unsigned long long)s->verdict[i].packets);
	prom_family("verdict_bytes_total", "Bytes by final verdict.");
	for (int i = 0; i < XW_VERDICT_MAX; i++)
		printf("xwall_verdict_bytes_total{verdict=\"%s\"} %llu\n", verdict_names[i],
		       (unsigned long long)s->verdict[i].bytes);
	prom_family("reason_packets_total", "Packets by reason (rule, policy, malformed, short, tail_call).");
	for (int i = 0; i < XW_REASON_MAX; i++)
		printf("xwall_reason_packets_total{reason=\"%s\"} %llu\n", xw_reason_names[i],
		       (unsigned long long)s->reason[i].packets);
	prom_family("conntrack_packets_total", "Packets by connection state (new, established, related, invalid).");
	for (int i = XW_CTC_NEW; i <= XW_CTC_INVALID; i++)
		printf("xwall_conntrack_packets_total{state=\"%s\"} %llu\n", xw_ct_counter_names[i],
		       (unsigned long long)s->ct[i]);
	prom_family("conntrack_events_total", "Flow table events (created, expired, evicted, early_drop, promoted, rst_ignored).");
	for (int i = XW_CTC_CREATED; i < XW_CTC_MAX; i++)
		printf("xwall_conntrack_events_total{event=\"%s\"} %llu\n", xw_ct_counter_names[i],
		       (unsigned long long)s->ct[i]);
	prom_family("log_events_total", "Log events by outcome (sent, lost: ring full, capped: per-rule cap).");
	for (int i = 0; i < XW_EVC_MAX; i++)
		printf("xwall_log_events_total{outcome=\"%s\"} %llu\n", event_names[i],
		       (unsigned long long)s->ev[i]);
	printf("# HELP xwall_conntrack_entries Flows in the tables (inserts minus expiries).\n"
	       "# TYPE xwall_conntrack_entries gauge\nxwall_conntrack_entries %lld\n", (long long)s->ct_live);
}

static double rate(uint64_t a, uint64_t b, double dt)
{
	return dt > 0 && b >= a ? (double)(b - a) / dt : 0;
}

/* prev may be NULL (no rates) */
static void print_text(const struct snap *s, const struct snap *prev)
{
	double dt = prev ? s->t - prev->t : 0;

	printf("%-10s %14s %16s%s  %s\n", "prio", "packets", "bytes", prev ? "       pkt/s" : "", "rule");
	for (size_t i = 0; i < s->rs.n; i++) {
		char *text = xw_rule_text(&s->rs.rules[i]);

		printf("%-10u %14llu %16llu", s->rs.rules[i].prio, (unsigned long long)s->rule[i].packets,
		       (unsigned long long)s->rule[i].bytes);
		if (prev) {
			/* the rule set may have changed between snapshots */
			uint64_t p0 = i < prev->rs.n && prev->rs.rules[i].prio == s->rs.rules[i].prio ?
				      prev->rule[i].packets : s->rule[i].packets;

			printf(" %12.1f", rate(p0, s->rule[i].packets, dt));
		}
		printf("  %s\n", text ? text : "?");
		free(text);
	}
	printf("\nverdicts:");
	for (int i = 0; i < XW_VERDICT_MAX; i++) {
		printf("  %s %llu", verdict_names[i], (unsigned long long)s->verdict[i].packets);
		if (prev)
			printf(" (%.1f/s)", rate(prev->verdict[i].packets, s->verdict[i].packets, dt));
	}
	printf("\nreasons: ");
	for (int i = 0; i < XW_REASON_MAX; i++)
		printf("  %s %llu", xw_reason_names[i], (unsigned long long)s->reason[i].packets);
	printf("\nconntrack:");
	for (int i = 0; i < XW_CTC_MAX; i++)
		printf("  %s %llu", xw_ct_counter_names[i], (unsigned long long)s->ct[i]);
	printf("  entries %lld\n", (long long)s->ct_live);
	printf("log events:");
	for (int i = 0; i < XW_EVC_MAX; i++)
		printf("  %s %llu", event_names[i], (unsigned long long)s->ev[i]);
	printf("\n");
}

int cmd_stats(int argc, char **argv)
{
	int c, fmt = 0, rc;
	double watch = 0;
	struct snap s, prev;

	while ((c = xw_getopt("stats", argc, argv)) != -1) {
		switch (c) {
		case 'j': fmt = 1; break;
		case 'p': fmt = 2; break;
		case 'w': {
			char *e;

			watch = strtod(optarg, &e);
			if (*e || watch <= 0)
				return xw_failf(XW_EINPUT, "--watch: expected seconds > 0, got '%s'", optarg);
			break;
		}
		default:
			return xw_usage("stats", XW_EINPUT);
		}
	}
	if (optind != argc)
		return xw_usage("stats", XW_EINPUT);
	rc = take(&s);
	if (rc)
		return rc;
	if (!watch) {
		if (fmt == 1)
			print_json(&s);
		else if (fmt == 2)
			print_prometheus(&s);
		else
			print_text(&s, NULL);
		snap_free(&s);
		return 0;
	}
	for (;;) {
		usleep((useconds_t)(watch * 1e6));
		prev = s;
		rc = take(&s);
		if (rc) {
			snap_free(&prev);
			return rc;
		}
		if (fmt == 1) {
			print_json(&s);
		} else if (fmt == 2) {
			print_prometheus(&s);
		} else {
			printf("\033[H\033[2J");
			print_text(&s, &prev);
		}
		fflush(stdout);
		snap_free(&prev);
	}
}
