// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Unit tests of the loader's datapath state handling through the real
 * programs (BPF_PROG_TEST_RUN on a private, unattached instance): what a
 * counter slot carries from one rule to the next. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "check_main.h"
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "datapath.h"
#include "pktbuild.h"

static int have_bpf(void)
{
	return geteuid() == 0;
}

static void apply_text(struct xw_dp *dp, const char *text)
{
	struct xw_ruleset rs;
	struct xw_err err;

	ck_assert_msg(xw_parse_text(text, strlen(text), "t", &rs, &err) == 0, "%s", err.msg);
	ck_assert_msg(xw_dp_apply(dp, &rs, &err) == 0, "%s", err.msg);
	xw_ruleset_free(&rs);
}

/* One IPv4 frame from 192.0.2.7: UDP to port 53, or a TCP SYN to port 22. */
static size_t ip_frame(uint8_t *buf, int tcp)
{
	struct xw_pb_spec s;

	memset(&s, 0, sizeof(s));
	s.vlan = -1;
	s.eth_type = 0x0800;
	s.l3 = XW_PB_L3_V4;
	memcpy(s.src, (uint8_t[]){ 192, 0, 2, 7 }, 4);
	memcpy(s.dst, (uint8_t[]){ 198, 51, 100, 1 }, 4);
	s.proto = tcp ? 6 : 17;
	s.l4 = 1;
	s.sport = 5000;
	s.dport = tcp ? 22 : 53;
	s.tcp_flags = 0x02;
	return xw_pb_build(&s, buf, XW_PB_MAX);
}

static size_t udp_frame(uint8_t *buf)
{
	return ip_frame(buf, 0);
}

static uint32_t run(struct xw_dp *dp, const uint8_t *f, size_t len)
{
	struct xw_test_result r;
	struct xw_err err;

	ck_assert_msg(xw_dp_test_run(dp, f, len, &r, &err) == 0, "%s", err.msg);
	return r.prio;
}

/* A `per src` bucket belongs to the rule that emptied it: a later rule that
 * is given the same counter slot starts with full buckets. */
START_TEST(test_src_buckets_follow_the_rule)
{
	struct xw_dp dp;
	struct xw_err err;
	uint8_t f[XW_PB_MAX];
	size_t len = udp_frame(f);

	if (!have_bpf())
		ck_abort_msg("needs root (BPF_PROG_TEST_RUN)");
	ck_assert(len > 0);
	ck_assert_msg(xw_dp_load_private(&dp, &err) == 0, "%s", err.msg);
	/* slot 0: the second frame within a second is over the limit */
	apply_text(&dp, "rule 1 in udp limit over 1/m burst 1 per src drop\n");
	ck_assert_uint_eq(run(&dp, f, len), XW_PRIO_NONE);
	ck_assert_uint_eq(run(&dp, f, len), 1);
	/* rule 1 goes; its slot is free again one apply later */
	apply_text(&dp, "rule 2 in tcp pass\n");
	apply_text(&dp, "rule 3 in udp limit over 1/m burst 1 per src drop\n");
	/* rule 3 (on slot 0 again) has not seen this source yet */
	ck_assert_uint_eq(run(&dp, f, len), XW_PRIO_NONE);
	ck_assert_uint_eq(run(&dp, f, len), 3);
	/* and a rule that stays keeps its buckets across an apply */
	apply_text(&dp, "rule 3 in udp limit over 1/m burst 1 per src drop\nrule 4 in tcp pass\n");
	ck_assert_uint_eq(run(&dp, f, len), 3);
	xw_dp_close(&dp);
}
END_TEST

/* Everything the datapath counts or keeps, summed. */
struct state {
	uint64_t rule_pkts, verdict_pkts, events, ct_created;
	int64_t ct_live;
	struct xw_bucket bucket;
};

static void snapshot(struct xw_dp *dp, uint32_t nslots, uint32_t limit_slot, struct state *st)
{
	uint64_t ctc[XW_CTC_MAX];
	struct xw_counter c;

	memset(st, 0, sizeof(*st));
	for (uint32_t i = 0; i < nslots; i++) {
		ck_assert(xw_dp_counter(dp, XW_M_RULE_STATS, i, &c) == 0);
		st->rule_pkts += c.packets;
	}
	for (uint32_t v = 0; v < XW_VERDICT_MAX; v++) {
		ck_assert(xw_dp_counter(dp, XW_M_VERDICT_STATS, v, &c) == 0);
		st->verdict_pkts += c.packets;
	}
	st->events = xw_dp_percpu_u64(dp, XW_M_EVENT_STATS, XW_EVC_SENT);
	ck_assert(xw_dp_ct_counters(dp, ctc, &st->ct_live) == 0);
	st->ct_created = ctc[XW_CTC_CREATED];
	ck_assert(bpf_map_lookup_elem(dp->map_fd[XW_M_BUCKETS], &limit_slot, &st->bucket) == 0);
}

/* Probe frames (`xwall test` and `verify` on the live datapath) get the
 * verdict real traffic would get now, and change nothing. */
START_TEST(test_probe_frames_change_nothing)
{
	struct xw_dp dp;
	struct xw_err err;
	struct state a, b;
	uint8_t u[XW_PB_MAX], t[XW_PB_MAX];
	size_t ul = ip_frame(u, 0), tl = ip_frame(t, 1);

	if (!have_bpf())
		ck_abort_msg("needs root (BPF_PROG_TEST_RUN)");
	ck_assert_msg(xw_dp_load_private(&dp, &err) == 0, "%s", err.msg);
	/* slots 0, 1, 2 in this order */
	apply_text(&dp, "policy drop\n"
		   "rule 1 in udp dport 53 limit over 1/m burst 1 drop\n"
		   "rule 2 in udp log pass\n"
		   "rule 3 in tcp ct new pass\n");
	snapshot(&dp, 3, 0, &a);
	dp.probe = true;
	for (int i = 0; i < 3; i++) {
		ck_assert_uint_eq(run(&dp, u, ul), 2);   /* the bucket is full */
		ck_assert_uint_eq(run(&dp, t, tl), 3);   /* a new flow */
	}
	snapshot(&dp, 3, 0, &b);
	ck_assert(!memcmp(&a, &b, sizeof(a)));
	ck_assert_uint_eq(b.rule_pkts + b.verdict_pkts + b.events + b.ct_created, 0);

	/* the same frames as traffic: counted, a token taken, flows made */
	dp.probe = false;
	ck_assert_uint_eq(run(&dp, u, ul), 2);
	ck_assert_uint_eq(run(&dp, u, ul), 1);   /* over the limit now */
	ck_assert_uint_eq(run(&dp, t, tl), 3);
	snapshot(&dp, 3, 0, &a);
	ck_assert_uint_eq(a.rule_pkts, 3);
	ck_assert_uint_eq(a.verdict_pkts, 3);
	ck_assert_uint_eq(a.events, 1);
	ck_assert_uint_eq(a.ct_created, 2);       /* the passed UDP frame's and the SYN's */
	ck_assert_int_eq(a.ct_live, 2);

	/* probes see that state (bucket empty, flow there) and keep it */
	dp.probe = true;
	ck_assert_uint_eq(run(&dp, u, ul), 1);
	{
		struct xw_test_result r;

		ck_assert_msg(xw_dp_test_run(&dp, t, tl, &r, &err) == 0, "%s", err.msg);
		ck_assert_uint_eq(r.ct_state, XW_CTB_NEW);   /* SYN_SENT: not yet established */
	}
	snapshot(&dp, 3, 0, &b);
	ck_assert(!memcmp(&a, &b, sizeof(a)));
	xw_dp_close(&dp);
}
END_TEST

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A TCP frame between 192.0.2.7:sport (remote) and 198.51.100.1:dport. */
static size_t tcp_frame(uint8_t *buf, int from_remote, uint16_t rport, uint16_t lport,
			uint8_t flags)
{
	struct xw_pb_spec s;

	memset(&s, 0, sizeof(s));
	s.vlan = -1;
	s.eth_type = 0x0800;
	s.l3 = XW_PB_L3_V4;
	memcpy(from_remote ? s.src : s.dst, (uint8_t[]){ 192, 0, 2, 7 }, 4);
	memcpy(from_remote ? s.dst : s.src, (uint8_t[]){ 198, 51, 100, 1 }, 4);
	s.proto = 6;
	s.l4 = 1;
	s.sport = from_remote ? rport : lport;
	s.dport = from_remote ? lport : rport;
	s.tcp_flags = flags;
	return xw_pb_build(&s, buf, XW_PB_MAX);
}

/* Sequence and acknowledgement numbers of a tcp_frame (plain IPv4). */
static void tcp_seq_ack(uint8_t *f, uint32_t seq, uint32_t ack)
{
	ck_assert(f[12] == 0x08 && f[13] == 0x00 && f[14] == 0x45);
	for (int i = 0; i < 4; i++) {
		f[38 + i] = (uint8_t)(seq >> (24 - 8 * i));
		f[42 + i] = (uint8_t)(ack >> (24 - 8 * i));
	}
}

static uint8_t run_dir(struct xw_dp *dp, int dir, const uint8_t *f, size_t len)
{
	struct xw_test_result r;
	struct xw_err err;

	ck_assert_msg(xw_dp_test_run_dir(dp, dir, f, len, &r, &err) == 0, "%s", err.msg);
	return r.ct_state;
}

struct one_flow {
	struct xw_ct_key k;
	struct xw_ct_val v;
	int n;
};

static int take_flow(const struct xw_ct_key *k, const struct xw_ct_val *v, uint64_t now, void *arg)
{
	struct one_flow *o = arg;

	(void)now;
	if (k->proto != 6)
		return 0;   /* the UDP frames' flow */
	o->k = *k;
	o->v = *v;
	o->n++;
	return 0;
}

/* Another CPU may store a later timestamp than this CPU's clock read: the
 * difference is negative, not a wrapped huge one.  A bucket stamped ahead
 * of now does not refill; a flow stamped ahead of now does not expire. */
START_TEST(test_timestamps_ahead_of_now)
{
	struct xw_dp dp;
	struct xw_err err;
	struct xw_bucket b;
	struct one_flow o = { 0 };
	uint8_t u[XW_PB_MAX], t[XW_PB_MAX];
	size_t ul = udp_frame(u), tl = tcp_frame(t, 1, 5000, 22, 0x02);
	uint64_t ctc[XW_CTC_MAX], ahead;
	int64_t live;
	__u32 slot = 0;

	if (!have_bpf())
		ck_abort_msg("needs root (BPF_PROG_TEST_RUN)");
	ck_assert_msg(xw_dp_load_private(&dp, &err) == 0, "%s", err.msg);
	apply_text(&dp, "rule 1 in udp dport 53 limit over 1/m burst 1 drop\n"
		   "rule 2 in tcp ct new pass\n");
	ck_assert_uint_eq(run(&dp, u, ul), XW_PRIO_NONE);   /* the one token */
	ck_assert_uint_eq(run(&dp, u, ul), 1);              /* empty */
	/* the bucket, as another CPU left it a moment "later" */
	ahead = mono_ns() + 30000000000ull;
	ck_assert(bpf_map_lookup_elem(dp.map_fd[XW_M_BUCKETS], &slot, &b) == 0);
	b.last_ns = ahead;
	b.credit_ns = 0;
	ck_assert(bpf_map_update_elem(dp.map_fd[XW_M_BUCKETS], &slot, &b, 0) == 0);
	for (int i = 0; i < 3; i++)
		ck_assert_uint_eq(run(&dp, u, ul), 1);      /* still empty: no refill */
	ck_assert(bpf_map_lookup_elem(dp.map_fd[XW_M_BUCKETS], &slot, &b) == 0);
	ck_assert_uint_eq(b.credit_ns, 0);
	ck_assert_uint_eq(b.last_ns, ahead);                /* not moved back */

	/* a flow stamped ahead of now */
	ck_assert_uint_eq(run(&dp, t, tl), 2);
	ck_assert_int_eq(xw_dp_ct_each(&dp, take_flow, &o), 0);
	ck_assert_int_eq(o.n, 1);
	o.v.last_ns = mono_ns() + 30000000000ull;
	ck_assert(bpf_map_update_elem(dp.map_fd[XW_M_CT_NEW], &o.k, &o.v, BPF_EXIST) == 0);
	o.n = 0;
	ck_assert_int_eq(xw_dp_ct_each(&dp, take_flow, &o), 0);
	ck_assert_int_eq(o.n, 1);                           /* listed: not expired */
	ck_assert_uint_eq(run_dir(&dp, XW_DIR_IN, t, tl), XW_CTB_NEW);
	ck_assert(xw_dp_ct_counters(&dp, ctc, &live) == 0);
	ck_assert_uint_eq(ctc[XW_CTC_EXPIRED], 0);          /* the flow was not expired ... */
	ck_assert_uint_eq(ctc[XW_CTC_CREATED], 2);          /* ... nor made again (UDP, TCP) */
	ck_assert_int_eq(live, 2);
	xw_dp_close(&dp);
}
END_TEST

/* A flood of new flows (spoofed SYNs) into a small table: established
 * flows stay, the flood only pushes out its own kind. */
START_TEST(test_flood_keeps_established)
{
	struct xw_dp dp;
	struct xw_err err;
	uint8_t f[XW_PB_MAX];
	size_t n;
	uint64_t ctc[XW_CTC_MAX];
	int64_t live;
	const uint32_t size = 128, syns = 2000;

	if (!have_bpf())
		ck_abort_msg("needs root (BPF_PROG_TEST_RUN)");
	xw_dp_set_ct_size(size);
	ck_assert_msg(xw_dp_load_private(&dp, &err) == 0, "%s", err.msg);
	xw_dp_set_ct_size(0);
	apply_text(&dp, "policy in drop\n"
		   "rule 10 in ct established,related pass\n"
		   "rule 20 in ct new tcp dport 8080 pass\n");
	/* 16 established connections */
	for (uint16_t p = 1000; p < 1016; p++) {
		n = tcp_frame(f, 1, p, 8080, 0x02);
		tcp_seq_ack(f, 100, 0);
		ck_assert_uint_eq(run_dir(&dp, XW_DIR_IN, f, n), XW_CTB_NEW);
		n = tcp_frame(f, 0, p, 8080, 0x12);
		tcp_seq_ack(f, 500, 101);
		ck_assert_uint_eq(run_dir(&dp, XW_DIR_OUT, f, n), XW_CTB_ESTABLISHED);
		n = tcp_frame(f, 1, p, 8080, 0x10);
		tcp_seq_ack(f, 101, 501);
		ck_assert_uint_eq(run_dir(&dp, XW_DIR_IN, f, n), XW_CTB_ESTABLISHED);
	}
	/* the flood: SYNs from ever new ports, answered by the listener (the
	 * SYN+ACK is a reply, yet the handshake never completes) */
	for (uint32_t i = 0; i < syns; i++) {
		n = tcp_frame(f, 1, (uint16_t)(20000 + i), 8080, 0x02);
		tcp_seq_ack(f, 7 * i, 0);
		ck_assert_uint_eq(run_dir(&dp, XW_DIR_IN, f, n), XW_CTB_NEW);
		n = tcp_frame(f, 0, (uint16_t)(20000 + i), 8080, 0x12);
		tcp_seq_ack(f, 900, 7 * i + 1);
		ck_assert_uint_eq(run_dir(&dp, XW_DIR_OUT, f, n), XW_CTB_ESTABLISHED);
	}
	for (uint16_t p = 1000; p < 1016; p++) {
		n = tcp_frame(f, 1, p, 8080, 0x18);
		tcp_seq_ack(f, 101, 501);
		ck_assert_msg(run_dir(&dp, XW_DIR_IN, f, n) == XW_CTB_ESTABLISHED,
			      "connection from port %u lost to the flood", p);
	}
	ck_assert(xw_dp_ct_counters(&dp, ctc, &live) == 0);
	printf("flood: %u SYNs into %u+%u entries: created %llu, early_drop %llu, evicted %llu, "
	       "promoted %llu, live %lld\n", syns, size, size,
	       (unsigned long long)ctc[XW_CTC_CREATED], (unsigned long long)ctc[XW_CTC_EARLY_DROP],
	       (unsigned long long)ctc[XW_CTC_EVICTED], (unsigned long long)ctc[XW_CTC_PROMOTED],
	       (long long)live);
	ck_assert_uint_eq(ctc[XW_CTC_PROMOTED], 16);
	ck_assert_uint_eq(ctc[XW_CTC_EVICTED], 0);
	ck_assert_uint_ge(ctc[XW_CTC_EARLY_DROP], syns - size);
	xw_dp_close(&dp);
}
END_TEST


/* IPv4 frame from 10.0.a.b (a, b < 256) to 198.51.100.1, proto 6 or 17. */
static size_t frame_to(uint8_t *buf, int proto, uint8_t a, uint8_t b, uint16_t dport)
{
	struct xw_pb_spec s;

	memset(&s, 0, sizeof(s));
	s.vlan = -1;
	s.eth_type = 0x0800;
	s.l3 = XW_PB_L3_V4;
	memcpy(s.src, (uint8_t[]){ 10, 0, a, b }, 4);
	memcpy(s.dst, (uint8_t[]){ 198, 51, 100, 1 }, 4);
	s.proto = (uint8_t)proto;
	s.l4 = 1;
	s.sport = 5000;
	s.dport = dport;
	s.tcp_flags = 0x02;
	return xw_pb_build(&s, buf, XW_PB_MAX);
}

/* Packets counted for the live rule with priority prio (its slot from the
 * stored text). */
static uint64_t rule_pkts(struct xw_dp *dp, uint32_t prio)
{
	struct xw_ruleset rs;
	struct xw_counter c = { 0 };
	struct xw_err err;
	uint32_t *slots = NULL;
	int found = 0;

	ck_assert_msg(xw_dp_read_rules(dp, &rs, &slots, NULL, &err) == 0, "%s", err.msg);
	for (size_t i = 0; i < rs.n; i++) {
		if (rs.rules[i].prio == prio) {
			ck_assert(xw_dp_counter(dp, XW_M_RULE_STATS, slots[i], &c) == 0);
			found = 1;
		}
	}
	ck_assert_msg(found, "no live rule %u", prio);
	free(slots);
	xw_ruleset_free(&rs);
	return c.packets;
}

/* What `rule add` / `rule del` do: read the live set, change it, apply. */
static void edit(struct xw_dp *dp, const char *add, uint32_t del)
{
	struct xw_ruleset rs;
	struct xw_rule r;
	struct xw_err err;

	ck_assert_msg(xw_dp_read_rules(dp, &rs, NULL, NULL, &err) == 0, "%s", err.msg);
	if (add) {
		ck_assert_msg(xw_parse_rule(add, "<rule>", &r, &err) == 0, "%s", err.msg);
		ck_assert(xw_ruleset_add(&rs, &r) == 0);
		xw_rule_free(&r);
	} else {
		ck_assert(xw_ruleset_del(&rs, del) == 0);
	}
	ck_assert_msg(xw_dp_apply(dp, &rs, &err) == 0, "%s", err.msg);
	xw_ruleset_free(&rs);
}

/* rule add / rule del on a live set of a few thousand rules: every other
 * rule keeps its counter, the added rule starts from zero, and the verdicts
 * are the new set's. */
START_TEST(test_rule_edit_keeps_counters)
{
	enum { N = 3000, PICK = 8 };
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	struct xw_dp dp;
	struct xw_err err;
	uint8_t f[XW_PB_MAX];
	size_t len, cap = (size_t)N * 64 + 256, n = 0;
	char *text = malloc(cap);
	uint32_t pick[PICK];
	uint64_t hits[PICK];

	if (!have_bpf())
		ck_abort_msg("needs root (BPF_PROG_TEST_RUN)");
	printf("test_rule_edit_keeps_counters: seed %u\n", seed);
	srand(seed);
	ck_assert(text != NULL);
	/* rule 100 + i: tcp from 10.0.(i/256).(i%256) to port 1000 + i %
	 * 7 (each decides its own frames); rule 50 decides udp port 53,
	 * rule 60 all udp after it */
	n += (size_t)snprintf(text + n, cap - n, "rule 50 in udp dport 53 pass\nrule 60 in udp drop\n");
	for (int i = 0; i < N; i++)
		n += (size_t)snprintf(text + n, cap - n, "rule %d in src 10.0.%d.%d tcp dport %d %s\n",
				      100 + i, i / 256, i % 256, 1000 + i % 7, i % 2 ? "pass" : "drop");
	ck_assert_msg(xw_dp_load_private(&dp, &err) == 0, "%s", err.msg);
	apply_text(&dp, text);
	free(text);
	for (int k = 0; k < PICK; k++) {
		int i = rand() % N;

		pick[k] = 100 + (uint32_t)i;
		hits[k] = 1 + (uint64_t)(rand() % 3);
		len = frame_to(f, 6, (uint8_t)(i / 256), (uint8_t)(i % 256), (uint16_t)(1000 + i % 7));
		for (uint64_t h = 0; h < hits[k]; h++)
			ck_assert_uint_eq(run(&dp, f, len), pick[k]);
	}
	{   /* a rule picked twice counts both */
		uint64_t sent[PICK];

		memcpy(sent, hits, sizeof(sent));
		for (int k = 0; k < PICK; k++) {
			hits[k] = 0;
			for (int j = 0; j < PICK; j++)
				if (pick[j] == pick[k])
					hits[k] += sent[j];
		}
	}
	len = frame_to(f, 17, 1, 2, 53);
	ck_assert_uint_eq(run(&dp, f, len), 50);
	ck_assert_uint_eq(rule_pkts(&dp, 50), 1);

	/* rule del 50: port 53 falls to rule 60; the others keep their counts */
	edit(&dp, NULL, 50);
	ck_assert_uint_eq(run(&dp, f, len), 60);
	ck_assert_uint_eq(rule_pkts(&dp, 60), 1);
	for (int k = 0; k < PICK; k++)
		ck_assert_uint_eq(rule_pkts(&dp, pick[k]), hits[k]);

	/* rule add 5 over the first picked rule's frames: it decides them,
	 * from zero; the rule it shadows keeps its count */
	{
		char add[96];
		int i = (int)pick[0] - 100;

		snprintf(add, sizeof(add), "rule 5 in src 10.0.%d.%d tcp pass", i / 256, i % 256);
		edit(&dp, add, 0);
		ck_assert_uint_eq(rule_pkts(&dp, 5), 0);
		len = frame_to(f, 6, (uint8_t)(i / 256), (uint8_t)(i % 256), (uint16_t)(1000 + i % 7));
		ck_assert_uint_eq(run(&dp, f, len), 5);
		ck_assert_uint_eq(rule_pkts(&dp, 5), 1);
	}
	for (int k = 0; k < PICK; k++)
		ck_assert_uint_eq(rule_pkts(&dp, pick[k]), hits[k]);
	ck_assert_uint_eq(rule_pkts(&dp, 60), 1);
	/* and the udp frame still goes to rule 60 */
	len = frame_to(f, 17, 1, 2, 53);
	ck_assert_uint_eq(run(&dp, f, len), 60);
	xw_dp_close(&dp);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("datapath");
	TCase *t = tcase_create("datapath");

	tcase_set_timeout(t, 60);
	tcase_add_test(t, test_src_buckets_follow_the_rule);
	tcase_add_test(t, test_probe_frames_change_nothing);
	tcase_add_test(t, test_timestamps_ahead_of_now);
	tcase_add_test(t, test_flood_keeps_established);
	tcase_add_test(t, test_rule_edit_keeps_counters);
	suite_add_tcase(s, t);
	return s;
}

XW_CHECK_MAIN(suite)
