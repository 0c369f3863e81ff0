// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Unit tests of `xwall lint` (loader/analysis/lint.c): each anomaly class on small
 * hand-made rule sets, set-based coverage, clean sets, and on random rule
 * sets every witness turned into a real frame and checked against the
 * reference classifier (tests/ref/refclass.c), plus sampled soundness of
 * every "never fires" / "never matches" / "can be removed" claim. */
#include <check.h>
#include <inttypes.h>
#include "check_main.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include "lint.h"
#include "refclass.h"
#include "pktgen.h"
#include "rulegen.h"

static void parse(const char *text, struct xw_ruleset *rs)
{
	struct xw_err err;

	xw_ruleset_init(rs);
	ck_assert_msg(xw_parse_text(text, strlen(text), "t", rs, &err) == 0, "%s", err.msg);
}

static void lint(const struct xw_ruleset *rs, struct xw_lint_result *res)
{
	struct xw_err err;

	ck_assert_msg(xw_lint(rs, res, &err) == 0, "%s", err.msg);
}

/* The finding about rule `prio` of `kind`, or NULL. */
static const struct xw_lint_item *find(const struct xw_lint_result *res, uint32_t prio,
				       enum xw_lint_kind kind)
{
	for (size_t i = 0; i < res->n; i++)
		if (res->items[i].prio == prio && res->items[i].kind == kind)
			return &res->items[i];
	return NULL;
}

static int n_about(const struct xw_lint_result *res, uint32_t prio)
{
	int n = 0;

	for (size_t i = 0; i < res->n; i++)
		n += res->items[i].prio == prio;
	return n;
}

static void dump(const struct xw_lint_result *res)
{
	char m[1024];

	for (size_t i = 0; i < res->n; i++) {
		xw_lint_message(&res->items[i], m, sizeof(m));
		fprintf(stderr, "> %s\n", m);
	}
}

static void expect_by(const struct xw_lint_item *it, const uint32_t *by, size_t n)
{
	ck_assert_msg(it->n_by == n, "rule %u: %zu rules in by, expected %zu", it->prio, it->n_by, n);
	for (size_t i = 0; i < n; i++)
		ck_assert_uint_eq(it->by[i], by[i]);
}

/* Lint text and expect exactly `n_expect` findings. */
static void run(const char *text, struct xw_ruleset *rs, struct xw_lint_result *res, size_t n_expect)
{
	parse(text, rs);
	lint(rs, res);
	if (res->n != n_expect) {
		fprintf(stderr, "rule set:\n%s\nfindings:\n", text);
		dump(res);
	}
	ck_assert_uint_eq(res->n, n_expect);
}

static void done(struct xw_ruleset *rs, struct xw_lint_result *res)
{
	xw_lint_free(res);
	xw_ruleset_free(rs);
}

/* ---- a frame with exactly the fields of a key (no ct, as refclass) ---- */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* L4 header for the key's presence bits; returns its length. */
static size_t l4_hdr(const struct xw_key *k, uint8_t *p)
{
	if (k->flags & XWK_PORTS) {
		size_t n = k->proto == 6 ? 20 : k->proto == 132 ? 12 : 8;

		memset(p, 0, n);
		put16(p, k->sport);
		put16(p + 2, k->dport);
		if (k->proto == 6) {
			p[12] = 5 << 4;
			p[13] = k->tcp_flags;
		}
		if (k->proto == 17)
			put16(p + 4, 8);
		return n;
	}
	if (k->flags & (XWK_ICMP | XWK_ICMP6)) {
		memset(p, 0, 8);
		p[0] = k->icmp_type;
		p[1] = k->icmp_code;
		return 8;
	}
	return 0;   /* other protocol, or a truncated header */
}

static size_t key_frame(const struct xw_key *k, uint8_t *buf)
{
	size_t n = 0;

	int tag_type = k->eth_type == 0x8100 || k->eth_type == 0x88A8;

	memcpy(buf, k->eth_dst, 6);
	memcpy(buf + 6, k->eth_src, 6);
	n = 12;
	if (tag_type && !(k->flags & XWK_VLAN)) {
		/* a tag TPID with no room for the tag behind it */
		put16(buf + n, k->eth_type);
		return n + 2;
	}
	if (k->flags & XWK_VLAN) {
		put16(buf + n, 0x8100);
		put16(buf + n + 2, k->vlan);
		n += 4;
		if (tag_type) {
			/* a tag TPID after two tags: a third tag */
			put16(buf + n, 0x8100);
			put16(buf + n + 2, 0);
			n += 4;
		}
	}
	put16(buf + n, k->eth_type);
	n += 2;
	if (!(k->flags & XWK_L3)) {
		/* not IP, or an IP EtherType with a broken header (version 0) */
		memset(buf + n, 0, 40);
		return n + 40;
	}
	if (k->flags & XWK_V4) {
		uint8_t *ip = buf + n;
		size_t l4 = 0;
		uint16_t frag = 0;

		memset(ip, 0, 20);
		ip[0] = 0x45;
		ip[8] = 64;
		ip[9] = k->proto;
		if (k->flags & XWK_FRAG_MF)
			frag |= 0x2000;
		if (k->flags & XWK_FRAG_LATER)
			frag |= 1;
		put16(ip + 6, frag);
		memcpy(ip + 12, k->src, 4);
		memcpy(ip + 16, k->dst, 4);
		if (!(k->flags & XWK_FRAG_LATER))
			l4 = l4_hdr(k, ip + 20);
		put16(ip + 2, (uint16_t)(20 + l4));
		return n + 20 + l4;
	} else {
		uint8_t *ip = buf + n, *q = ip + 40;
		int frag = !!(k->flags & (XWK_FRAG_MF | XWK_FRAG_LATER));
		size_t l4 = 0;

		memset(ip, 0, 40);
		ip[0] = 0x60;
		ip[6] = frag ? 44 : k->proto;
		ip[7] = 64;
		memcpy(ip + 8, k->src, 16);
		memcpy(ip + 24, k->dst, 16);
		if (frag) {
			memset(q, 0, 8);
			q[0] = k->proto;
			put16(q + 2, (uint16_t)((k->flags & XWK_FRAG_LATER ? 1u << 3 : 0) |
						(k->flags & XWK_FRAG_MF ? 1 : 0)));
			q += 8;
		}
		if (!(k->flags & XWK_FRAG_LATER))
			l4 = l4_hdr(k, q);
		put16(ip + 4, (uint16_t)((size_t)(q - ip) - 40 + l4));
		return (size_t)(q - buf) + l4;
	}
}

/* The frame of a witness really has the key's fields. */
static void frame_of(const struct xw_key *k, uint8_t *buf, size_t *len, struct xw_ref_pkt *p)
{
	*len = key_frame(k, buf);
	xw_ref_parse(buf, *len, p);
}

/* Classify a witness with rules[0..n) minus index `skip` (-1: none). */
static void classify(const struct xw_ruleset *rs, long skip, const struct xw_key *k,
		     struct xw_ref_result *res)
{
	struct xw_rule *v = calloc(rs->n + 1, sizeof(*v));
	uint8_t buf[256];
	size_t n = 0, len = key_frame(k, buf);

	for (size_t i = 0; i < rs->n; i++)
		if ((long)i != skip)
			v[n++] = rs->rules[i];
	ck_assert_int_eq(xw_ref_classify(v, n, rs->policy, buf, len, k->dir, k->ifindex, NULL, res), 0);
	free(v);
}

/* Every witness against the reference classifier. */
static void check_witnesses(const struct xw_ruleset *rs, const struct xw_lint_result *res)
{
	for (size_t i = 0; i < res->n; i++) {
		const struct xw_lint_item *it = &res->items[i];
		const struct xw_rule *r = &rs->rules[it->rule];
		struct xw_ref_result c;
		struct xw_ref_pkt p;
		uint8_t buf[256];
		size_t len;
		char m[1024], d[512];

		xw_lint_message(it, m, sizeof(m));
		if (it->kind == XW_LINT_NEVER) {
			ck_assert_msg(!it->has_witness, "%s", m);
			continue;
		}
		ck_assert_msg(it->has_witness, "%s", m);
		frame_of(&it->witness, buf, &len, &p);
		xw_ref_pkt_format(&p, d, sizeof(d));
		ck_assert_msg(!p.malformed || !(it->witness.flags & XWK_L3), "%s: %s", m, d);
		/* the witness is a packet of the rule */
		ck_assert_msg(xw_ref_rule_matches(r, &p, it->witness.dir, it->witness.ifindex, 0),
			      "%s: witness %s does not match the rule", m, d);
		if (it->kind == XW_LINT_REDUNDANT && it->later) {
			/* the rule decides it; without the rule, the same verdict */
			classify(rs, -1, &it->witness, &c);
			ck_assert_msg(c.prio == r->prio, "%s: %s decided by %u", m, d, c.prio);
			classify(rs, (long)it->rule, &it->witness, &c);
			ck_assert_msg(c.prio == it->witness_prio && c.verdict == r->verdict,
				      "%s: without the rule %s gets %u/%u", m, d, c.prio, c.verdict);
			continue;
		}
		/* an earlier rule takes it, with the verdict the message says */
		classify(rs, -1, &it->witness, &c);
		ck_assert_msg(c.prio == it->witness_prio && c.verdict == it->witness_verdict,
			      "%s: %s decided by %u (%u)", m, d, c.prio, c.verdict);
		ck_assert_msg(c.prio < r->prio, "%s", m);
		if (it->kind == XW_LINT_REDUNDANT)
			ck_assert_uint_eq(c.verdict, r->verdict);
		else
			ck_assert_uint_ne(c.verdict, r->verdict);
	}
}

/* ---- hand-made cases ---- */

START_TEST(test_pairwise_shadow)
{
	struct xw_ruleset rs;
	struct xw_lint_result res;
	const struct xw_lint_item *it;
	static const uint32_t by[] = { 10 };
	char m[1024];

	run("rule 10 tcp pass\n"
	    "rule 20 tcp dport 22 src 10.0.0.0/8 drop\n", &rs, &res, 1);
	it = find(&res, 20, XW_LINT_SHADOWED);
	ck_assert_ptr_nonnull(it);
	expect_by(it, by, 1);
	ck_assert_uint_eq(it->witness_prio, 10);
	ck_assert_uint_eq(it->witness_verdict, XW_PASS);
	xw_lint_message(it, m, sizeof(m));
	ck_assert_msg(strstr(m, "rule 20 is shadowed by rule 10 (never fires; e.g. in tcp 10.") == m, "%s", m);
	ck_assert_msg(strstr(m, ":22 flags syn gets pass from rule 10, not drop)"), "%s", m);
	check_witnesses(&rs, &res);
	done(&rs, &res);
}
END_TEST

/* Rule 30 is covered only by rules 10 and 20 together. */
START_TEST(test_set_based_shadow)
{
	struct xw_ruleset rs;
	struct xw_lint_result res;
	const struct xw_lint_item *it;
	static const uint32_t by[] = { 10, 20 };

	run("rule 10 tcp dport 20-25 pass\n"
	    "rule 20 tcp dport 26-30 pass\n"
	    "rule 30 tcp dport 20-30 drop\n", &rs, &res, 1);
	it = find(&res, 30, XW_LINT_SHADOWED);
	ck_assert_ptr_nonnull(it);
	expect_by(it, by, 2);
	check_witnesses(&rs, &res);
	done(&rs, &res);

	/* one port short of covering: rule 30 fires for port 26; 10 and 20 are
	 * exceptions inside it, not correlations */
	run("rule 10 tcp dport 20-25 pass\n"
	    "rule 20 tcp dport 27-30 pass\n"
	    "rule 30 tcp dport 20-30 drop\n", &rs, &res, 0);
	done(&rs, &res);

	/* several fields: sources split over three rules and two families */
	run("rule 10 src 10.0.0.0/9 pass\n"
	    "rule 20 src 10.128.0.0/9 drop\n"
	    "rule 30 ip6 pass\n"
	    "rule 40 udp dport 53 src 10.0.0.0/8,2001:db8::/32 drop\n", &rs, &res, 1);
	it = find(&res, 40, XW_LINT_SHADOWED);
	ck_assert_ptr_nonnull(it);
	{
		static const uint32_t by3[] = { 10, 20, 30 };

		expect_by(it, by3, 3);
	}
	check_witnesses(&rs, &res);
	done(&rs, &res);
}
END_TEST

START_TEST(test_redundant)
{
	struct xw_ruleset rs;
	struct xw_lint_result res;
	const struct xw_lint_item *it;
	static const uint32_t by10[] = { 10 }, by1020[] = { 10, 20 }, by20[] = { 20 };

	/* pairwise, earlier */
	run("policy drop\n"
	    "rule 10 src 10.0.0.0/8 drop\n"
	    "rule 20 tcp src 10.1.0.0/16 drop\n"
	    "rule 30 dst 10.0.0.1 pass\n", &rs, &res, 2);
	it = find(&res, 20, XW_LINT_REDUNDANT);
	ck_assert_ptr_nonnull(it);
	ck_assert(!it->later);
	expect_by(it, by10, 1);
	check_witnesses(&rs, &res);
	done(&rs, &res);

	/* set-based through the parser's constraints: every TCP packet is
	 * IPv4 or IPv6, i.e. has EtherType 0x0800 or 0x86DD */
	run("policy drop\n"
	    "rule 10 ether type ip drop\n"
	    "rule 20 ip6 drop\n"
	    "rule 30 tcp drop\n"
	    "rule 40 pass\n", &rs, &res, 1);
	it = find(&res, 30, XW_LINT_REDUNDANT);
	ck_assert_ptr_nonnull(it);
	expect_by(it, by1020, 2);
	check_witnesses(&rs, &res);
	done(&rs, &res);

	/* later: the policy gives the same verdict */
	run("policy drop\n"
	    "rule 10 tcp dport 23 drop\n"
	    "rule 20 tcp dport 22 pass\n", &rs, &res, 1);
	it = find(&res, 10, XW_LINT_REDUNDANT);
	ck_assert_ptr_nonnull(it);
	ck_assert(it->later && it->policy && it->n_by == 0);
	ck_assert_uint_eq(it->witness_prio, XW_PRIO_NONE);
	check_witnesses(&rs, &res);
	done(&rs, &res);

	/* later: a later rule with the same verdict, nothing else in between */
	run("rule 10 tcp dport 23 drop\n"
	    "rule 15 udp log pass\n"
	    "rule 20 tcp drop\n", &rs, &res, 1);
	it = find(&res, 10, XW_LINT_REDUNDANT);
	ck_assert_ptr_nonnull(it);
	ck_assert(it->later && !it->policy);
	expect_by(it, by20, 1);
	check_witnesses(&rs, &res);
	done(&rs, &res);

	/* ... but not across a rule with another verdict, nor with log */
	run("rule 10 tcp dport 23 drop\n"
	    "rule 15 src 10.0.0.0/8 pass\n"
	    "rule 20 tcp drop\n", &rs, &res, 2);
	ck_assert_ptr_null(find(&res, 10, XW_LINT_REDUNDANT));
	ck_assert_ptr_nonnull(find(&res, 15, XW_LINT_CORRELATED));
	ck_assert_ptr_nonnull(find(&res, 20, XW_LINT_CORRELATED));
	done(&rs, &res);
	run("rule 10 tcp dport 23 log drop\n"
	    "rule 20 tcp drop\n", &rs, &res, 0);
	done(&rs, &res);

	/* two equal rules: only one of them can go */
	run("policy drop\n"
	    "rule 10 tcp pass\n"
	    "rule 20 tcp pass\n", &rs, &res, 1);
	it = find(&res, 20, XW_LINT_REDUNDANT);
	ck_assert_ptr_nonnull(it);
	ck_assert(!it->later);
	done(&rs, &res);
}
END_TEST

START_TEST(test_correlated)
{
	struct xw_ruleset rs;
	struct xw_lint_result res;
	const struct xw_lint_item *it;
	static const uint32_t by10[] = { 10 }, by5[] = { 5 };

	run("policy drop\n"
	    "rule 10 src 10.0.0.0/8 drop\n"
	    "rule 20 tcp dport 22 pass\n", &rs, &res, 1);
	it = find(&res, 20, XW_LINT_CORRELATED);
	ck_assert_ptr_nonnull(it);
	expect_by(it, by10, 1);
	check_witnesses(&rs, &res);
	done(&rs, &res);

	/* an exception in front of a general rule is no correlation */
	run("policy drop\n"
	    "rule 10 src 10.0.0.5 drop\n"
	    "rule 20 src 10.0.0.0/8 pass\n", &rs, &res, 0);
	done(&rs, &res);

	/* same verdict: no correlation either */
	run("policy drop\n"
	    "rule 10 src 10.0.0.0/8 pass\n"
	    "rule 20 tcp dport 22 pass\n"
	    "rule 30 udp dport 53 src 192.168.0.0/16 log drop\n", &rs, &res, 0);
	done(&rs, &res);

	/* only the rule that actually decides the overlap counts: 10's overlap
	 * with 20 is taken by 5 already (and 10 correlates with 5) */
	run("rule 5 tcp pass\n"
	    "rule 10 src 10.0.0.0/8 drop\n"
	    "rule 20 tcp dport 22 pass\n", &rs, &res, 2);
	it = find(&res, 10, XW_LINT_CORRELATED);
	ck_assert_ptr_nonnull(it);
	expect_by(it, by5, 1);
	ck_assert_ptr_nonnull(find(&res, 20, XW_LINT_REDUNDANT));
	ck_assert_int_eq(n_about(&res, 20), 1);
	check_witnesses(&rs, &res);
	done(&rs, &res);
}
END_TEST

START_TEST(test_never_matches)
{
	static const char *const never[] = {
		"ip6 src 10.0.0.0/8",
		"ip dst 2001:db8::/32",
		"src 10.0.0.0/8 dst 2001:db8::1",
		"ether type arp tcp",
		"ip icmpv6 type 1",
		"ip6 icmp type 8",
		"proto gre dport 22",
		"frag later tcp dport 22",
		"frag later icmp type echo-request",
		"ip6 proto 44",
		"ip6 proto 0",
		"ether type ip ip6",
		"proto icmp icmp type 3 src 2001:db8::1",
	};
	char text[256];

	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
		struct xw_ruleset rs;
		struct xw_lint_result res;
		const struct xw_lint_item *it;

		snprintf(text, sizeof(text), "rule 10 %s drop\n", never[i]);
		run(text, &rs, &res, 1);
		it = find(&res, 10, XW_LINT_NEVER);
		ck_assert_msg(it != NULL, "%s", never[i]);
		ck_assert(!it->has_witness && it->n_by == 0);
		done(&rs, &res);
	}
	/* untracked packets have no connection state */
	{
		struct xw_ruleset rs;
		struct xw_lint_result res;

		run("rule 10 ct new frag later drop\n"
		    "rule 20 ct new ether type arp drop\n"
		    "rule 30 ct new tcp drop\n", &rs, &res, 2);
		ck_assert_ptr_nonnull(find(&res, 10, XW_LINT_NEVER));
		ck_assert_ptr_nonnull(find(&res, 20, XW_LINT_NEVER));
		done(&rs, &res);
	}
}
END_TEST

/* audit is a verdict of its own: not the same as drop (nor pass) for
 * shadowing and redundancy, and an audit rule logs, so it is never "later
 * redundant" (removing it would change the events). */
START_TEST(test_audit)
{
	struct xw_ruleset rs;
	struct xw_lint_result res;
	const struct xw_lint_item *it;
	char m[1024];

	/* a drop rule in front of an audit policy is not redundant */
	run("policy audit\n"
	    "rule 10 tcp dport 23 drop\n", &rs, &res, 0);
	done(&rs, &res);
	/* an audit rule in front of an audit policy: events name the rule,
	 * so it stays (like a rule with log) */
	run("policy audit\n"
	    "rule 10 tcp dport 23 audit\n", &rs, &res, 0);
	done(&rs, &res);
	/* a drop rule behind an audit rule never fires: shadowed, and the
	 * message says which verdict the packets get */
	run("rule 10 tcp audit\n"
	    "rule 20 tcp dport 22 drop\n", &rs, &res, 1);
	it = find(&res, 20, XW_LINT_SHADOWED);
	ck_assert_ptr_nonnull(it);
	ck_assert_uint_eq(it->witness_verdict, XW_AUDIT);
	xw_lint_message(it, m, sizeof(m));
	ck_assert_msg(strstr(m, "audit from rule 10") && strstr(m, "not drop"), "%s", m);
	check_witnesses(&rs, &res);
	done(&rs, &res);
	/* an audit rule behind an equal audit rule is redundant */
	run("rule 10 tcp audit\n"
	    "rule 20 tcp dport 22 audit\n", &rs, &res, 1);
	ck_assert_ptr_nonnull(find(&res, 20, XW_LINT_REDUNDANT));
	done(&rs, &res);
	/* partial overlap of audit and drop: correlated */
	run("rule 10 tcp dport 22 audit\n"
	    "rule 20 src 10.0.0.0/8 drop\n", &rs, &res, 1);
	ck_assert_ptr_nonnull(find(&res, 20, XW_LINT_CORRELATED));
	done(&rs, &res);
}
END_TEST

START_TEST(test_clean)
{
	static const char *const clean[] = {
		"",
		"policy drop\n"
		"rule 10 tcp dport 22 src 10.0.0.0/8 pass\n"
		"rule 20 udp dport 53 pass\n"
		"rule 30 icmp type echo-request pass\n"
		"rule 40 icmpv6 type 128-136 pass\n",
		/* directions and interfaces are fields */
		"policy drop\n"
		"rule 10 in tcp pass\n"
		"rule 20 out tcp dport 22 drop\n",
		"policy drop\n"
		"rule 10 iif eth0 tcp pass\n"
		"rule 20 iif eth1 tcp dport 22 log drop\n",
		/* a limit in front of the same match: the way limits work */
		"policy drop\n"
		"rule 10 udp dport 53 limit over 100/s drop\n"
		"rule 20 udp dport 53 pass\n",
		/* disjoint by flags, fragments and protocols */
		"policy drop\n"
		"rule 10 tcp flags syn / syn,ack log drop\n"
		"rule 20 tcp flags ack / syn,ack pass\n"
		"rule 30 frag later log drop\n",
	};

	for (size_t i = 0; i < sizeof(clean) / sizeof(clean[0]); i++) {
		struct xw_ruleset rs;
		struct xw_lint_result res;

		run(clean[i], &rs, &res, 0);
		done(&rs, &res);
	}
}
END_TEST

START_TEST(test_stateful)
{
	struct xw_ruleset rs;
	struct xw_lint_result res;
	const struct xw_lint_item *it;
	static const uint32_t by[] = { 10, 20 };

	/* a tracked packet has exactly one state: 10 and 20 cover all TCP */
	run("policy drop\n"
	    "rule 10 ct established,related pass\n"
	    "rule 20 ct new,invalid drop\n"
	    "rule 30 tcp dport 80 pass\n"
	    "rule 40 frag later pass\n", &rs, &res, 1);
	it = find(&res, 30, XW_LINT_SHADOWED);
	ck_assert_ptr_nonnull(it);
	expect_by(it, by, 2);
	done(&rs, &res);

	/* a limit rule never covers what follows */
	run("rule 10 tcp limit over 10/s drop\n"
	    "rule 20 tcp dport 22 drop\n", &rs, &res, 0);
	done(&rs, &res);

	/* but it can be covered */
	run("rule 10 tcp pass\n"
	    "rule 20 tcp dport 22 limit over 10/s drop\n", &rs, &res, 1);
	ck_assert_ptr_nonnull(find(&res, 20, XW_LINT_SHADOWED));
	done(&rs, &res);
}
END_TEST

START_TEST(test_iif_and_text)
{
	struct xw_ruleset rs;
	struct xw_lint_result res;
	const struct xw_lint_item *it;

	run("rule 10 iif eth0 tcp pass\n"
	    "rule 20 iif eth0 tcp dport 22 drop\n", &rs, &res, 1);
	it = find(&res, 20, XW_LINT_SHADOWED);
	ck_assert_ptr_nonnull(it);
	ck_assert_msg(strstr(it->witness_text, "in iif eth0 tcp ") == it->witness_text, "%s",
		      it->witness_text);
	done(&rs, &res);

	run("rule 10 out vlan 7 ip6 udp sport 53 pass\n"
	    "rule 20 out vlan 7 ip6 udp dport 5353 drop\n", &rs, &res, 1);
	it = find(&res, 20, XW_LINT_CORRELATED);
	ck_assert_ptr_nonnull(it);
	ck_assert_str_eq(it->witness_text, "out vlan 7 ip6 udp [2001:db8::1]:53 -> [2001:db8::2]:5353");
	check_witnesses(&rs, &res);
	done(&rs, &res);
}
END_TEST

/* ---- random rule sets ---- */

static const struct xw_lint_item *item_of(const struct xw_lint_result *res, size_t rule,
					  enum xw_lint_kind kind)
{
	for (size_t i = 0; i < res->n; i++)
		if (res->items[i].rule == rule && res->items[i].kind == kind)
			return &res->items[i];
	return NULL;
}

START_TEST(test_random_witnesses_and_claims)
{
	struct xw_rng rng;
	char *text;
	struct xw_ruleset rs;
	struct xw_lint_result res;
	uint8_t buf[2048];
	size_t counts[4] = { 0 };

	/* XW_LINT_SEED=N: other rule sets (for longer runs by hand) */
	const char *seed = getenv("XW_LINT_SEED");

	xw_rng_seed(&rng, (seed ? strtoull(seed, NULL, 0) : 0x11a7) + (uint64_t)_i);
	text = xw_rulegen(&rng, 40 + 40 * (size_t)_i, 2);
	parse(text, &rs);
	free(text);
	lint(&rs, &res);
	check_witnesses(&rs, &res);
	for (size_t i = 0; i < res.n; i++)
		counts[res.items[i].kind]++;

	/* sampled soundness: no packet is decided by a rule that "never fires",
	 * no packet matches a rule that "never matches", and removing all
	 * redundant rules at once changes no verdict */
	{
		struct xw_rule *kept = calloc(rs.n + 1, sizeof(*kept));
		size_t nk = 0;

		for (size_t i = 0; i < rs.n; i++)
			if (!item_of(&res, i, XW_LINT_REDUNDANT) && !item_of(&res, i, XW_LINT_NEVER))
				kept[nk++] = rs.rules[i];
		for (int n = 0; n < 20000; n++) {
			size_t len = xw_pktgen(&rng, buf, sizeof(buf));
			uint8_t dir = (uint8_t)(n & 1);
			struct xw_ref_result a, b;
			struct xw_ref_pkt p;

			ck_assert_int_eq(xw_ref_classify(rs.rules, rs.n, rs.policy, buf, len, dir, 1,
							 NULL, &a), 0);
			ck_assert_int_eq(xw_ref_classify(kept, nk, rs.policy, buf, len, dir, 1, NULL, &b), 0);
			ck_assert_msg(a.verdict == b.verdict, "removing the redundant rules changed a verdict");
			if (a.index >= 0) {
				ck_assert_msg(!item_of(&res, (size_t)a.index, XW_LINT_SHADOWED) &&
					      !(item_of(&res, (size_t)a.index, XW_LINT_REDUNDANT) &&
						!item_of(&res, (size_t)a.index, XW_LINT_REDUNDANT)->later),
					      "rule %u fired but never fires", a.prio);
			}
			xw_ref_parse(buf, len, &p);
			for (size_t i = 0; i < rs.n; i++)
				if (item_of(&res, i, XW_LINT_NEVER))
					ck_assert_msg(!xw_ref_rule_matches(&rs.rules[i], &p, dir, 1, 0),
						      "rule %u matched but never matches", rs.rules[i].prio);
		}
		free(kept);
	}
	/* each rule reported removable, removed alone, changes no verdict */
	for (size_t k = 0; k < res.n; k++) {
		const struct xw_lint_item *it = &res.items[k];
		struct xw_rule *v;
		size_t nv = 0;

		if (it->kind != XW_LINT_REDUNDANT || !it->later)
			continue;
		v = calloc(rs.n + 1, sizeof(*v));
		for (size_t i = 0; i < rs.n; i++)
			if (i != it->rule)
				v[nv++] = rs.rules[i];
		for (int n = 0; n < 2000; n++) {
			size_t len = xw_pktgen(&rng, buf, sizeof(buf));
			uint8_t dir = (uint8_t)(n & 1);
			struct xw_ref_result a, b;

			ck_assert_int_eq(xw_ref_classify(rs.rules, rs.n, rs.policy, buf, len, dir, 1,
							 NULL, &a), 0);
			ck_assert_int_eq(xw_ref_classify(v, nv, rs.policy, buf, len, dir, 1, NULL, &b), 0);
			ck_assert_msg(a.verdict == b.verdict, "removing rule %u changed a verdict", it->prio);
		}
		free(v);
	}
	fprintf(stderr, "lint random %zu rules: %zu never-matches, %zu shadowed, %zu redundant, "
		"%zu correlated; witnesses checked\n", rs.n, counts[0], counts[1], counts[2], counts[3]);
	done(&rs, &res);
}
END_TEST

/* Work bound for linting 1,000 rules, in decision-diagram nodes (the peak
 * size of the node table, which xw_lint reports as n_nodes; the time is
 * printed, but wall-clock bounds belong to `make bench`).  With the fixed seeds below the count is
 * deterministic: measured 1.03M nodes (random set) and 2.43M (xdp-filter
 * style set), so 8M (1/3 of the analysis' hard cap XW_LINT_MAX_NODES, 24M)
 * leaves ~8x and ~3x of room; a change that blows the work up past it fails
 * here.  The seeds are fixed because the count of a random set varies about
 * 15x between seeds (0.2M..3.2M measured over 8 seeds), which would make a
 * fresh-seed bound either flaky or meaningless. */
#define LINT_PERF_MAX_NODES (8u << 20)

static void lint_perf(const char *what, uint64_t seed, int simple)
{
	struct xw_rng rng;
	char *text;
	struct xw_ruleset rs;
	struct xw_lint_result res;
	struct timespec a, b;

	xw_rng_seed(&rng, seed);
	text = simple ? xw_rulegen_simple(&rng, 1000) : xw_rulegen(&rng, 1000, 2);
	parse(text, &rs);
	free(text);
	clock_gettime(CLOCK_MONOTONIC, &a);
	lint(&rs, &res);
	clock_gettime(CLOCK_MONOTONIC, &b);
	fprintf(stderr, "lint of %zu %s rules (seed %" PRIu64 "): %.3f s, %zu findings, "
		"%zu decision nodes (bound %u)\n", rs.n, what, seed,
		(double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9,
		res.n, res.n_nodes, LINT_PERF_MAX_NODES);
	ck_assert_uint_eq(rs.n, 1000);
	ck_assert_uint_eq(res.n_rules, rs.n);
	ck_assert_msg(res.n_nodes > 0 && res.n_nodes <= LINT_PERF_MAX_NODES,
		      "lint of 1000 %s rules used %zu decision nodes, bound %u", what,
		      res.n_nodes, LINT_PERF_MAX_NODES);
	done(&rs, &res);
}

START_TEST(test_performance)
{
	lint_perf("random", 1000, 0);
	/* xdp-filter style: 1000 exact addresses and ports, all drop */
	lint_perf("simple", 1001, 1);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("lint");
	TCase *t = tcase_create("lint");

	tcase_set_timeout(t, 120);
	tcase_add_test(t, test_pairwise_shadow);
	tcase_add_test(t, test_set_based_shadow);
	tcase_add_test(t, test_redundant);
	tcase_add_test(t, test_correlated);
	tcase_add_test(t, test_never_matches);
	tcase_add_test(t, test_audit);
	tcase_add_test(t, test_clean);
	tcase_add_test(t, test_stateful);
	tcase_add_test(t, test_iif_and_text);
	tcase_add_loop_test(t, test_random_witnesses_and_claims, 0, 6);
	tcase_add_test(t, test_performance);
	suite_add_tcase(s, t);
	return s;
}

XW_CHECK_MAIN(suite)
