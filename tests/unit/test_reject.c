// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* `reject` through the real programs (BPF_PROG_TEST_RUN on a private,
 * unattached instance, without the probe mark so that the answer is
 * built): the answer frame's shape (addresses, ports, TCP sequence numbers
 * per RFC 9293, the ICMP quote) and its checksums, computed here
 * independently of the datapath; the packets never answered; the rate
 * limit.  Frames come from the frames' builder (loader/frames/pktbuild.h),
 * with random addresses, ports and sequence numbers (the seed is printed). */
#include <check.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "check_main.h"
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>

#include "datapath.h"
#include "pktbuild.h"

#define FMAX 2048

static unsigned seed;

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

static void load(struct xw_dp *dp, const char *rules)
{
	struct xw_err err;

	if (!have_bpf())
		ck_abort_msg("needs root (BPF_PROG_TEST_RUN)");
	ck_assert_msg(xw_dp_load_private(dp, &err) == 0, "%s", err.msg);
	apply_text(dp, rules);
}

/* ---- frames ---- */

struct pkt {
	int v6, vlans, proto;
	uint8_t mac_dst[6], mac_src[6];
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t tcp_flags;
	uint8_t icmp_type;
	size_t payload;
	int later_frag;
};

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static unsigned get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/* The L4 checksum over the pseudo header and the L4 bytes is valid (the
 * checksum of the whole, its checksum field included, is 0); IPv4 ICMP has
 * no pseudo header. */
static int l4_ok(int v6, const uint8_t *ip, const uint8_t *l4, size_t n, int proto, int pseudo)
{
	static uint8_t b[40 + FMAX];
	size_t h = 0;

	ck_assert_uint_le(n, FMAX);
	if (pseudo && v6) {                     /* RFC 8200 8.1 */
		memcpy(b, ip + 8, 32);
		put32(b + 32, (uint32_t)n);
		put32(b + 36, (uint32_t)proto);
		h = 40;
	} else if (pseudo) {                    /* RFC 9293 3.1 */
		memcpy(b, ip + 12, 8);
		put16(b + 8, (unsigned)proto);
		put16(b + 10, (unsigned)n);
		h = 12;
	}
	memcpy(b + h, l4, n);
	return xw_pb_csum(b, h + n) == 0;
}

static void rnd(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rand();
}

/* A random unicast packet: locally administered MACs, 10/8 or fd00::/8. */
static void pkt_init(struct pkt *k, int v6, int proto)
{
	memset(k, 0, sizeof(*k));
	k->v6 = v6;
	k->proto = proto;
	rnd(k->mac_dst, 6);
	rnd(k->mac_src, 6);
	k->mac_dst[0] = (k->mac_dst[0] & 0xfc) | 2;
	k->mac_src[0] = (k->mac_src[0] & 0xfc) | 2;
	rnd(k->src, 16);
	rnd(k->dst, 16);
	k->src[0] = k->dst[0] = v6 ? 0xfd : 10;
	k->sport = (uint16_t)(1024 + rand() % 60000);
	k->dport = 22;
	k->seq = (uint32_t)rand() << 1 ^ (uint32_t)rand();
	k->ack = (uint32_t)rand() << 1 ^ (uint32_t)rand();
	k->tcp_flags = 0x02;
}

/* Ethernet (+ tags) + IPv4/IPv6 + TCP/UDP/ICMP + payload, by the frames'
 * builder (loader/frames/pktbuild.h); returns the length, at least 60. */
static size_t build(const struct pkt *k, uint8_t *f)
{
	static uint8_t data[FMAX];
	struct xw_pb_spec s;
	size_t n;

	memset(&s, 0, sizeof(s));
	memcpy(s.eth_dst, k->mac_dst, 6);
	memcpy(s.eth_src, k->mac_src, 6);
	s.vlan = k->vlans ? 100 : -1;
	s.variant = k->vlans == 2 ? XW_PB_VB_QINQ : 0;  /* 0x88a8 outer tag, 0x8100 inner */
	s.eth_type = k->v6 ? 0x86dd : 0x0800;
	s.l3 = k->v6 ? XW_PB_L3_V6 : XW_PB_L3_V4;
	memcpy(s.src, k->src, 16);
	memcpy(s.dst, k->dst, 16);
	s.proto = (uint8_t)k->proto;
	s.l4 = 1;
	s.sport = k->sport;
	s.dport = k->dport;
	s.tcp_flags = k->tcp_flags;
	s.icmp_type = k->icmp_type;
	/* exact header values: the RST's sequence numbers follow from them */
	s.given = 1;
	s.tcp_seq = k->seq;
	s.tcp_ack = k->ack;
	s.tcp_win = 64240;
	s.later = (uint8_t)k->later_frag;
	s.frag_off = k->later_frag ? 100 : 0;
	/* a later fragment carries the builder's 8 bytes, no transport header */
	s.payload = k->later_frag ? 0 : (uint16_t)k->payload;
	for (size_t i = 0; i < s.payload; i++)
		data[i] = (uint8_t)(i * 7 + 1);
	s.data = k->later_frag ? NULL : data;
	n = xw_pb_build(&s, f, FMAX);
	ck_assert_uint_gt(n, 0);
	/* the minimum Ethernet frame: the builder zeroed the bytes up to it;
	 * the offending packet's own checksum does not matter to the answer */
	return n < 60 ? 60 : n;
}

/* ---- runs ---- */

struct out {
	uint32_t retval;
	uint8_t data[FMAX];
	uint32_t len;
};

static void run(struct xw_dp *dp, int prog, const uint8_t *f, size_t n, struct out *o)
{
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = f, .data_size_in = (uint32_t)n,
		    .data_out = o->data, .data_size_out = sizeof(o->data));

	ck_assert_msg(bpf_prog_test_run_opts(dp->prog_fd[prog], &t) == 0, "test run failed");
	o->retval = t.retval;
	o->len = t.data_size_out;
}

static uint64_t reason(struct xw_dp *dp, uint32_t r)
{
	struct xw_counter c;

	ck_assert(xw_dp_counter(dp, XW_M_REASON_STATS, r, &c) == 0);
	return c.packets;
}

/* The answer to k (frame f) in o: Ethernet addresses swapped, tags kept,
 * IP addresses swapped, header checksum valid. Returns the IP header. */
static const uint8_t *check_l3(const struct pkt *k, const uint8_t *f, const struct out *o,
			       int proto, size_t l3len)
{
	size_t l2 = 14 + 4 * (size_t)k->vlans;
	const uint8_t *ip = o->data + l2;

	ck_assert_uint_eq(o->len, l2 + l3len);
	ck_assert(!memcmp(o->data, k->mac_src, 6));
	ck_assert(!memcmp(o->data + 6, k->mac_dst, 6));
	if (k->vlans)
		ck_assert_uint_eq(get16(o->data + 14), 100);    /* the outer VID */
	for (int i = 0; i < k->vlans; i++)                  /* TPID and TCI as sent */
		ck_assert_msg(!memcmp(o->data + 12 + 4 * i, f + 12 + 4 * i, 4), "tag %d kept", i);
	ck_assert_uint_eq(get16(o->data + l2 - 2), k->v6 ? 0x86dd : 0x0800);
	if (k->v6) {
		ck_assert_uint_eq(ip[0] >> 4, 6);
		ck_assert_uint_eq(get16(ip + 4), l3len - 40);
		ck_assert_uint_eq(ip[6], proto);
		ck_assert(ip[7] > 0);
		ck_assert(!memcmp(ip + 8, k->dst, 16));
		ck_assert(!memcmp(ip + 24, k->src, 16));
	} else {
		ck_assert_uint_eq(ip[0], 0x45);
		ck_assert_uint_eq(get16(ip + 2), l3len);
		ck_assert_uint_eq(ip[9], proto);
		ck_assert(ip[8] > 0);
		ck_assert(!memcmp(ip + 12, k->dst, 4));
		ck_assert(!memcmp(ip + 16, k->src, 4));
		ck_assert_msg(xw_pb_csum(ip, 20) == 0, "IPv4 header checksum");
	}
	return ip;
}

/* A TCP RST per RFC 9293 3.10.7.1 for k. */
static void check_rst(const struct pkt *k, const uint8_t *f, const struct out *o)
{
	const uint8_t *ip = check_l3(k, f, o, 6, (k->v6 ? 40u : 20u) + 20), *t = ip + (k->v6 ? 40 : 20);
	uint32_t seg = (uint32_t)k->payload + !!(k->tcp_flags & 0x02) + !!(k->tcp_flags & 0x01);

	ck_assert_uint_eq(get16(t), k->dport);
	ck_assert_uint_eq(get16(t + 2), k->sport);
	ck_assert_uint_eq(t[12] >> 4, 5);
	if (k->tcp_flags & 0x10) {
		ck_assert_uint_eq(t[13], 0x04);
		ck_assert_uint_eq(get32(t + 4), k->ack);
	} else {
		ck_assert_uint_eq(t[13], 0x14);
		ck_assert_uint_eq(get32(t + 4), 0);
		ck_assert_uint_eq(get32(t + 8), k->seq + seg);
	}
	ck_assert_msg(l4_ok(k->v6, ip, t, 20, 6, 1), "TCP checksum");
}

/* An ICMP/ICMPv6 port unreachable for k, quoting its first q IP bytes. */
static void check_icmp(const struct pkt *k, const uint8_t *f, const struct out *o, size_t q)
{
	size_t hl = k->v6 ? 40 : 20, l2 = 14 + 4 * (size_t)k->vlans;
	const uint8_t *ip = check_l3(k, f, o, k->v6 ? 58 : 1, hl + 8 + q), *ic = ip + hl;

	ck_assert_uint_eq(ic[0], k->v6 ? 1 : 3);
	ck_assert_uint_eq(ic[1], k->v6 ? 4 : 3);
	ck_assert_uint_eq(get32(ic + 4), 0);
	ck_assert_msg(!memcmp(ic + 8, f + l2, q), "the quote is the offending packet");
	ck_assert_msg(l4_ok(k->v6, ip, ic, 8 + q, 58, k->v6), "ICMP checksum");
}

/* ---- tests ---- */

static const char *rules =
	"policy pass\n"
	"rule 1 in tcp dport 22 reject\n"
	"rule 2 in udp dport 53 reject\n"
	"rule 3 in icmp reject\n"
	"rule 4 in icmpv6 reject\n"
	"rule 5 in frag later reject\n"
	"rule 6 out tcp dport 22 reject\n"
	"rule 7 out udp dport 53 reject\n";

START_TEST(test_tcp_rst)
{
	struct xw_dp dp;
	struct pkt k;
	static uint8_t f[FMAX];
	static struct out o;

	load(&dp, rules);
	for (int i = 0; i < 16; i++) {
		pkt_init(&k, i & 1, 6);
		k.vlans = (i >> 1) % 3;
		/* SYN; ACK with data; FIN|ACK; bare data without ACK */
		k.tcp_flags = (uint8_t[]){ 0x02, 0x18, 0x11, 0x08 }[(i >> 2) & 3];
		k.payload = (k.tcp_flags & 0x08) ? (size_t)(1 + rand() % 900) : 0;
		size_t n = build(&k, f);

		run(&dp, XW_P_XDP, f, n, &o);
		ck_assert_msg(o.retval == XDP_TX, "case %d: XDP action %u", i, o.retval);
		check_rst(&k, f, &o);
		/* TC ingress sends it back out the interface */
		run(&dp, XW_P_TC_IN, f, n, &o);
		ck_assert_msg(o.retval == TC_ACT_REDIRECT, "case %d: TC action %u", i, o.retval);
		check_rst(&k, f, &o);
	}
	xw_dp_close(&dp);
}
END_TEST

START_TEST(test_icmp_unreachable)
{
	struct xw_dp dp;
	struct pkt k;
	static uint8_t f[FMAX];
	static struct out o;
	/* payloads around the quote limits: 576 - 28 (IPv4), 1280 - 48 (IPv6) */
	static const size_t pay[] = { 0, 1, 13, 512, 520, 521, 1184, 1185, 1400 };

	load(&dp, rules);
	for (size_t i = 0; i < 2 * sizeof(pay) / sizeof(pay[0]); i++) {
		int v6 = (int)(i & 1);
		size_t hl = v6 ? 40 : 20, max = v6 ? 1232 : 548, q, n;

		pkt_init(&k, v6, 17);
		k.dport = 53;
		k.vlans = (int)(i % 3);
		k.payload = pay[i / 2];
		n = build(&k, f);
		q = hl + 8 + k.payload < max ? hl + 8 + k.payload : max;
		run(&dp, XW_P_XDP, f, n, &o);
		ck_assert_msg(o.retval == XDP_TX, "case %zu: XDP action %u", i, o.retval);
		check_icmp(&k, f, &o, q);
		run(&dp, XW_P_TC_IN, f, n, &o);
		ck_assert_msg(o.retval == TC_ACT_REDIRECT, "case %zu: TC action %u", i, o.retval);
		check_icmp(&k, f, &o, q);
	}
	/* an ICMP echo request is answered too (as nft's reject does) */
	pkt_init(&k, 0, 1);
	k.icmp_type = 8;
	run(&dp, XW_P_XDP, f, build(&k, f), &o);
	ck_assert_uint_eq(o.retval, XDP_TX);
	check_icmp(&k, f, &o, 28);
	xw_dp_close(&dp);
}
END_TEST

/* Egress: the answer goes to the local stack (TC_ACT_REDIRECT; the ingress
 * flag is not visible in a test run) with the same shape. */
START_TEST(test_egress)
{
	struct xw_dp dp;
	struct pkt k;
	static uint8_t f[FMAX];
	static struct out o;

	load(&dp, rules);
	for (int v6 = 0; v6 < 2; v6++) {
		pkt_init(&k, v6, 6);
		run(&dp, XW_P_TC_OUT, f, build(&k, f), &o);
		ck_assert_uint_eq(o.retval, TC_ACT_REDIRECT);
		check_rst(&k, f, &o);
		pkt_init(&k, v6, 17);
		k.dport = 53;
		k.payload = 100;
		run(&dp, XW_P_TC_OUT, f, build(&k, f), &o);
		ck_assert_uint_eq(o.retval, TC_ACT_REDIRECT);
		check_icmp(&k, f, &o, (v6 ? 48u : 28u) + 100);
	}
	xw_dp_close(&dp);
}
END_TEST

/* Dropped, never answered: counted as reject_silent. */
START_TEST(test_never_answered)
{
	struct xw_dp dp;
	struct pkt k;
	static uint8_t f[FMAX];
	static struct out o;
	int cases = 0;

	load(&dp, rules);
	for (int c = 0; c < 9; c++) {
		int v6 = c == 4 || c == 6 || c == 8;

		pkt_init(&k, v6, c == 3 ? 1 : c == 4 ? 58 : c == 5 ? 6 : 17);
		k.dport = k.proto == 6 ? 22 : 53;
		switch (c) {
		case 0: memset(k.mac_dst, 0xff, 6); break;              /* broadcast */
		case 1: k.mac_dst[0] = 0x01; break;                     /* multicast MAC */
		case 2: k.dst[0] = 224; break;                          /* IPv4 multicast */
		case 3: k.icmp_type = 3; break;                         /* ICMP error */
		case 4: k.icmp_type = 1; break;                         /* ICMPv6 error */
		case 5: k.tcp_flags = 0x04; break;                      /* RST */
		case 6: k.dst[0] = 0xff; break;                         /* IPv6 multicast */
		case 7: k.later_frag = 1; break;                        /* later fragment */
		case 8: memset(k.src, 0, 16); break;                    /* unspecified source */
		}
		run(&dp, XW_P_XDP, f, build(&k, f), &o);
		ck_assert_msg(o.retval == XDP_DROP, "case %d: XDP action %u", c, o.retval);
		run(&dp, XW_P_TC_IN, f, build(&k, f), &o);
		ck_assert_msg(o.retval == TC_ACT_SHOT, "case %d: TC action %u", c, o.retval);
		cases += 2;
	}
	ck_assert_uint_eq(reason(&dp, XW_REASON_REJECT_SILENT), (uint64_t)cases);
	ck_assert_uint_eq(reason(&dp, XW_REASON_REJECT_LIMITED), 0);
	xw_dp_close(&dp);
}
END_TEST

/* A probe frame (`xwall test`) gets the verdict reject and no answer. */
START_TEST(test_probe_not_answered)
{
	struct xw_dp dp;
	struct pkt k;
	static uint8_t f[FMAX];
	struct xw_test_result r;
	struct xw_err err;

	load(&dp, rules);
	dp.probe = true;   /* as on the live datapath */
	pkt_init(&k, 0, 6);
	ck_assert_msg(xw_dp_test_run(&dp, f, build(&k, f), &r, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(r.verdict, XW_REJECT);
	ck_assert_uint_eq(r.prio, 1);
	ck_assert_uint_eq(r.retval, XDP_DROP);
	xw_dp_close(&dp);
}
END_TEST

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One CPU answers a burst of XW_REJECT_BURST, then XW_REJECT_RATE per second. */
START_TEST(test_rate_limit)
{
	struct xw_dp dp;
	struct pkt k;
	static uint8_t f[FMAX];
	static struct out o;
	cpu_set_t cpus;
	unsigned tx = 0, drop = 0, n = 400;
	double t0, dt;
	size_t len;

	CPU_ZERO(&cpus);
	CPU_SET(sched_getcpu(), &cpus);
	ck_assert(sched_setaffinity(0, sizeof(cpus), &cpus) == 0);
	load(&dp, rules);
	pkt_init(&k, 0, 6);
	len = build(&k, f);
	t0 = now_s();
	for (unsigned i = 0; i < n; i++) {
		run(&dp, XW_P_XDP, f, len, &o);
		tx += o.retval == XDP_TX;
		drop += o.retval == XDP_DROP;
	}
	dt = now_s() - t0;
	printf("rate limit: %u answered, %u dropped of %u in %.1f ms\n", tx, drop, n, dt * 1e3);
	ck_assert_uint_eq(tx + drop, n);
	ck_assert_uint_ge(tx, XW_REJECT_BURST);
	ck_assert_uint_le(tx, XW_REJECT_BURST + (unsigned)(dt * XW_REJECT_RATE) + 1);
	ck_assert_uint_eq(reason(&dp, XW_REASON_REJECT_LIMITED), drop);
	xw_dp_close(&dp);
}
END_TEST

/* The rule language: `reject`, nft's `with` forms where they say what
 * xwall does, errors where they do not; the canonical text is `reject`. */
static void parse_is(const char *text, const char *want)
{
	struct xw_ruleset rs;
	struct xw_err err;
	char buf[512];

	ck_assert_msg(xw_parse_text(text, strlen(text), "f", &rs, &err) == 0, "%s: %s", text, err.msg);
	ck_assert_uint_eq(rs.n, 1);
	ck_assert_uint_eq(rs.rules[0].verdict, XW_REJECT);
	ck_assert(xw_rule_format(&rs.rules[0], buf, sizeof(buf)) > 0);
	ck_assert_str_eq(buf, want);
	xw_ruleset_free(&rs);
}

static void parse_err(const char *text, const char *want)
{
	struct xw_ruleset rs;
	struct xw_err err;

	ck_assert_msg(xw_parse_text(text, strlen(text), "f", &rs, &err) != 0, "%s: accepted", text);
	ck_assert_msg(strstr(err.msg, want), "%s: got '%s', want '%s'", text, err.msg, want);
}

START_TEST(test_parse)
{
	parse_is("rule 1 tcp dport 22 reject", "rule 1 in proto tcp dport 22 reject");
	parse_is("rule 2 tcp dport 22 log reject with tcp reset", "rule 2 in proto tcp dport 22 log reject");
	parse_is("rule 3 udp reject with icmpx type port-unreachable", "rule 3 in proto udp reject");
	parse_is("rule 4 out ip6 udp reject with icmpv6 port-unreachable", "rule 4 out ip6 proto udp reject");
	parse_is("rule 5 reject", "rule 5 in reject");
	parse_err("rule 1 udp reject with tcp reset", "f:1:24: 'reject with tcp reset' needs a tcp rule");
	parse_err("rule 1 reject with icmpx port-unreachable", "f:1:20: 'reject with icmpx port-unreachable' "
		  "on a rule that can match tcp");
	parse_err("rule 1 udp reject with icmp host-unreachable", "f:1:29: xwall answers with "
		  "port-unreachable only");
	parse_err("rule 1 tcp reject with tcp", "missing 'reset'");
	parse_err("rule 1 tcp reject with", "missing 'tcp reset' or 'icmpx port-unreachable'");
	parse_err("rule 1 tcp reject pass", "f:1:19: unexpected 'pass' after the verdict");
	parse_err("policy reject", "expected 'pass', 'drop' or 'audit'");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("reject");
	TCase *tc = tcase_create("datapath");
	const char *env = getenv("XW_SEED");

	seed = env ? (unsigned)strtoul(env, NULL, 0) : (unsigned)time(NULL) ^ (unsigned)getpid();
	printf("test_reject: seed %u (XW_SEED=%u to repeat)\n", seed, seed);
	srand(seed);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_tcp_rst);
	tcase_add_test(tc, test_icmp_unreachable);
	tcase_add_test(tc, test_egress);
	tcase_add_test(tc, test_never_answered);
	tcase_add_test(tc, test_probe_not_answered);
	tcase_add_test(tc, test_rate_limit);
	suite_add_tcase(s, tc);
	return s;
}

XW_CHECK_MAIN(suite)
