// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Unit tests of `xwall verify`: the frame builder against the reference
 * parser, and the verifier on private datapaths — random rule sets verify
 * with no mismatch (and the cell construction agrees with a direct
 * evaluation of every rule), corrupted map entries are caught. */
#include <check.h>
#include "check_main.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "compile.h"
#include "bloom.h"
#include "xw_bloom.h"
#include "datapath.h"
#include "pktbuild.h"
#include "verify.h"
#include "refclass.h"
#include "pktgen.h"
#include "rulegen.h"

/* ---- frames ---- */

static void random_spec(struct xw_rng *r, struct xw_pb_spec *s)
{
	static const uint16_t et[] = { 0x0800, 0x86DD, 0x0806, 0x8100, 0x88A8, 0x1234, 0x0000 };
	static const uint8_t protos[] = { 6, 17, 132, 1, 58, 47, 50, 51, 59, 0, 200 };

	memset(s, 0, sizeof(*s));
	xw_rng_bytes(r, s->eth_dst, 6);
	xw_rng_bytes(r, s->eth_src, 6);
	s->vlan = xw_rng_chance(r, 40) ? (int)xw_rng_below(r, 4096) : -1;
	s->eth_type = et[xw_rng_below(r, XW_POOL_N(et))];
	s->variant = (uint32_t)xw_rng_next(r);
	if ((s->eth_type == 0x0800 || s->eth_type == 0x86DD) && xw_rng_chance(r, 80)) {
		int v6 = s->eth_type == 0x86DD;

		s->l3 = v6 ? XW_PB_L3_V6 : XW_PB_L3_V4;
		xw_rng_bytes(r, s->src, v6 ? 16 : 4);
		xw_rng_bytes(r, s->dst, v6 ? 16 : 4);
		do
			s->proto = xw_rng_chance(r, 70) ? protos[xw_rng_below(r, XW_POOL_N(protos))]
							: (uint8_t)xw_rng_below(r, 256);
		while (v6 && (s->proto == 0 || s->proto == 43 || s->proto == 44 || s->proto == 60));
		s->mf = xw_rng_chance(r, 20);
		s->later = xw_rng_chance(r, 20);
		s->l4 = xw_rng_chance(r, 80);
		s->sport = (uint16_t)xw_rng_below(r, 65536);
		s->dport = (uint16_t)xw_rng_below(r, 65536);
		s->tcp_flags = (uint8_t)xw_rng_below(r, 256);
		s->icmp_type = (uint8_t)xw_rng_below(r, 256);
		s->icmp_code = (uint8_t)xw_rng_below(r, 256);
	} else if (s->eth_type == 0x0800) {
		s->bad = (uint8_t)xw_rng_range(r, XW_PB_V4_BAD_FIRST, XW_PB_V4_BAD_LAST);
	} else if (s->eth_type == 0x86DD) {
		s->bad = (uint8_t)xw_rng_range(r, XW_PB_V6_BAD_FIRST, XW_PB_V6_BAD_LAST);
	}
}

static int has_l4(uint8_t proto, int v6)
{
	return proto == 6 || proto == 17 || proto == 132 || (proto == 1 && !v6) || (proto == 58 && v6);
}

START_TEST(test_frames_parse_as_specified)
{
	struct xw_rng r;

	xw_rng_seed(&r, 4242);
	for (int i = 0; i < 200000; i++) {
		struct xw_pb_spec s;
		struct xw_ref_pkt p;
		uint8_t buf[XW_PB_MAX];
		char d[512];
		size_t len;
		int v6;

		random_spec(&r, &s);
		len = xw_pb_build(&s, buf, sizeof(buf));
		xw_pb_format(&s, d, sizeof(d));
		ck_assert_msg(len >= 14, "cannot build %s", d);
		xw_ref_parse(buf, len, &p);
		v6 = s.l3 == XW_PB_L3_V6;
		ck_assert_msg(!memcmp(p.eth_dst, s.eth_dst, 6) && !memcmp(p.eth_src, s.eth_src, 6), "%s", d);
		ck_assert_msg(p.eth_type == s.eth_type, "%s: type 0x%04x", d, p.eth_type);
		ck_assert_msg(p.has_vlan == (s.vlan >= 0) && (s.vlan < 0 || p.vlan == s.vlan), "%s", d);
		if (s.l3 == XW_PB_L3_NONE) {
			ck_assert_msg(!p.v4 && !p.v6, "%s", d);
			ck_assert_msg(p.malformed == (s.bad != XW_PB_OK), "%s: malformed %u", d, p.malformed);
			continue;
		}
		ck_assert_msg(!p.malformed && p.v4 == !v6 && p.v6 == v6, "%s", d);
		ck_assert_msg(!memcmp(p.src, s.src, v6 ? 16 : 4) && !memcmp(p.dst, s.dst, v6 ? 16 : 4), "%s", d);
		ck_assert_msg(p.proto == s.proto, "%s: proto %u", d, p.proto);
		ck_assert_msg(p.frag_mf == s.mf && (p.frag_off != 0) == s.later, "%s", d);
		if (s.later || !has_l4(s.proto, v6)) {
			ck_assert_msg(!p.has_ports && !p.has_tcp && !p.has_icmp && !p.has_icmp6, "%s", d);
			continue;
		}
		if (!s.l4) {
			ck_assert_msg(!p.has_ports && !p.has_tcp && !p.has_icmp && !p.has_icmp6,
				      "%s: cut header parsed", d);
			continue;
		}
		if (s.proto == 1 || s.proto == 58) {
			ck_assert_msg((v6 ? p.has_icmp6 : p.has_icmp) && p.icmp_type == s.icmp_type &&
				      p.icmp_code == s.icmp_code, "%s", d);
		} else {
			ck_assert_msg(p.has_ports && p.sport == s.sport && p.dport == s.dport, "%s", d);
			ck_assert_msg(p.has_tcp == (s.proto == 6) && (s.proto != 6 || p.tcp_flags == s.tcp_flags),
				      "%s", d);
		}
	}
}
END_TEST

/* ---- verify on private datapaths ---- */

/* The tests below load a private datapath: without the privilege to do so
 * they fail (never pass silently): run them as root (`sudo make check`). */
static void need_bpf(void)
{
	if (geteuid() != 0)
		ck_abort_msg("needs root: loads a private BPF datapath (BPF_PROG_TEST_RUN); "
			     "run as root");
}

static void load(struct xw_dp *dp, const char *text)
{
	struct xw_ruleset rs;
	struct xw_err err;

	ck_assert_msg(xw_parse_text(text, strlen(text), "t", &rs, &err) == 0, "%s", err.msg);
	ck_assert_msg(xw_dp_load_private(dp, &err) == 0, "%s", err.msg);
	ck_assert_msg(xw_dp_apply(dp, &rs, &err) == 0, "%s", err.msg);
	xw_ruleset_free(&rs);
}

/* Runs verify; returns mismatches, *text gets the counterexamples. */
static uint64_t verify(struct xw_dp *dp, char **text, struct xw_verify_stats *out)
{
	struct xw_verify_opts o = { 0 };
	struct xw_verify_stats st;
	struct xw_err err = { "" };
	size_t len;
	FILE *f = open_memstream(text, &len);

	o.out = f;
	o.max_examples = 3;
	o.self_check = 1;
	ck_assert_msg(xw_verify(dp, &o, &st, &err) == 0, "%s", err.msg);
	fclose(f);
	if (out)
		*out = st;
	return st.mismatches;
}

START_TEST(test_verify_random)
{
	static const size_t sizes[] = { 1, 5, 30, 200, 1000, 3000 };
	struct xw_rng r;
	struct xw_dp dp;
	struct xw_verify_stats st;
	char *text = NULL, *ex = NULL;

	need_bpf();
	/* half of them with every exact shape the sets have through the hash */
	setenv("XW_EXACT", _i >= 6 ? "all" : "auto", 1);
	xw_rng_seed(&r, 1000 + (uint64_t)_i);
	{
		struct xw_rulegen_opts o = { .n_rules = sizes[_i % 6], .dirs = 2, .log_pct = 5,
					     .audit_pct = 10 };

		text = xw_rulegen_ex(&r, &o, NULL);
	}
	load(&dp, text);
	ck_assert_msg(verify(&dp, &ex, &st) == 0, "seed %d: %s\nrules:\n%s", _i, ex, text);
	ck_assert(st.cells > 0 && st.dir_cells[0] > 0 && st.dir_cells[1] > 0);
	xw_dp_close(&dp);
	free(ex);
	free(text);
	unsetenv("XW_EXACT");
}
END_TEST

START_TEST(test_verify_shapes_and_state)
{
	/* iif, ct, limit, every match kind, and empty sets */
	static const char *const sets[] = {
		"",
		"policy drop\npolicy out drop\n",
		"rule 5 in pass\nrule 6 out drop\n",
		"policy drop\n"
		"rule 10 in ct established,related pass\n"
		"rule 20 in ct new tcp dport 22 src 10.0.0.0/8 pass\n"
		"rule 30 in udp dport 53 limit over 50/s per src drop\n"
		"rule 31 in udp dport 53 limit over 5/m drop\n"
		"rule 40 in iif lo tcp flags syn / syn,ack drop\n"
		"rule 50 in ether type arp pass\n"
		"rule 60 out tcp dport 25 log drop\n"
		"rule 70 in ether src 02:00:00:00:00:01 vlan 7 drop\n"
		"rule 80 in icmpv6 type 128-136 code 0 pass\n"
		"rule 90 in icmp type 0-8 pass\n"
		"rule 100 in frag first ip6 pass\n"
		"rule 110 in frag later drop\n"
		"rule 120 in proto 47 dst 192.0.2.0/25,2001:db8::/33 pass\n"
		"rule 130 in ip6 proto 0 pass\n"       /* never matches: the walk skips 0 */
		"rule 140 in sport 1000-2000,3000 dport 0-1023 pass\n"
		"rule 150 in ether type 0x8100 drop\n"
		"rule 160 in ether dst ff:ff:ff:ff:ff:ff pass\n",
	};

	need_bpf();
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		struct xw_dp dp;
		char *ex = NULL;

		load(&dp, sets[i]);
		ck_assert_msg(verify(&dp, &ex, NULL) == 0, "set %zu: %s", i, ex);
		xw_dp_close(&dp);
		free(ex);
	}
}
END_TEST

/* The active generation's rule entry of rule `prio` (the first one): its
 * slot in xw_rents, and the entry. */
static __u32 find_rent(struct xw_dp *dp, uint32_t prio, struct xw_rent *e)
{
	struct xw_cfg cfg;
	__u32 zero = 0, base;

	ck_assert(bpf_map_lookup_elem(dp->map_fd[XW_M_CFG], &zero, &cfg) == 0);
	base = (cfg.active & 1) * XW_MAX_RENTS;
	for (__u32 i = 0; i < XW_MAX_RENTS; i++) {
		__u32 k = base + i;

		ck_assert(bpf_map_lookup_elem(dp->map_fd[XW_M_RENTS], &k, e) == 0);
		if (e->prio == prio)
			return k;
		if (e->prio == 0 && e->m[0] == 0 && e->slot == 0)
			break;   /* past the entries (rule prios start at 1 here) */
	}
	ck_abort_msg("no rule entry of rule %u", prio);
	return 0;
}

/* The leaf of the tree that holds rule entry slot r (by a walk of all
 * leaves of the active generation): its node slot. */
static __u32 find_leaf(struct xw_dp *dp, __u32 r)
{
	struct xw_cfg cfg;
	struct xw_thead h;
	__u32 zero = 0, g;

	ck_assert(bpf_map_lookup_elem(dp->map_fd[XW_M_CFG], &zero, &cfg) == 0);
	g = cfg.active & 1;
	ck_assert(bpf_map_lookup_elem(dp->map_fd[XW_M_TREES], &g, &h) == 0);
	for (__u32 t = 0; t < h.n_trees; t++) {
		__u32 k = g * XW_MAX_NODES + h.root[t];
		struct xw_node nd;

		ck_assert(bpf_map_lookup_elem(dp->map_fd[XW_M_NODES], &k, &nd) == 0);
		if (nd.nb)
			continue;   /* the sets below have one leaf per tree */
		for (__u32 j = 0; j < nd.n; j++) {
			__u32 lk = g * XW_MAX_LIDS + nd.base + j, id;

			ck_assert(bpf_map_lookup_elem(dp->map_fd[XW_M_LIDS], &lk, &id) == 0);
			if (g * XW_MAX_RENTS + id == r)
				return k;
		}
	}
	ck_abort_msg("rule entry %u is in no root leaf", r);
	return 0;
}

START_TEST(test_verify_catches_corruption)
{
	const char *rules =
		"policy drop\n"
		"rule 1 in tcp dport 4242 src 198.51.100.0/24 pass\n"
		"rule 2 in udp dport 1000,2000,3000 pass\n"
		"rule 3 in ip6 dst 2001:db8::/32 icmpv6 type echo-request pass\n"
		"rule 4 in tcp pass\n";
	struct xw_dp dp;
	struct xw_rent e, e0;
	char *ex = NULL;
	__u32 r;
	int fd;

	need_bpf();
	/* the entries in trees: test_verify_catches_bad_exact_tier corrupts
	 * the hash */
	setenv("XW_EXACT", "off", 1);
	load(&dp, rules);
	unsetenv("XW_EXACT");
	ck_assert_msg(verify(&dp, &ex, NULL) == 0, "%s", ex);
	free(ex);
	fd = dp.map_fd[XW_M_RENTS];

	/* 1. a verdict byte flipped */
	r = find_rent(&dp, 1, &e0);
	e = e0;
	e.verdict = XW_DROP;
	ck_assert(bpf_map_update_elem(fd, &r, &e, 0) == 0);
	ck_assert(verify(&dp, &ex, NULL) > 0);
	ck_assert_msg(strstr(ex, "expected: rule 1 pass") && strstr(ex, "actual:   rule 1 drop"), "%s", ex);
	free(ex);
	ck_assert(bpf_map_update_elem(fd, &r, &e0, 0) == 0);

	/* 2. an entry that can no longer match (a value bit outside its mask):
	 *    its packets fall through to rule 4 */
	e = e0;
	e.v[0] |= 1;
	e.m[0] &= ~1ull;
	ck_assert(bpf_map_update_elem(fd, &r, &e, 0) == 0);
	ck_assert(verify(&dp, &ex, NULL) > 0);
	ck_assert_msg(strstr(ex, "expected: rule 1 pass") && strstr(ex, "actual:   rule 4"), "%s", ex);
	free(ex);
	ck_assert(bpf_map_update_elem(fd, &r, &e0, 0) == 0);

	/* 3. a stray port: rule 2's first entry accepts one more */
	{
		uint16_t port;

		r = find_rent(&dp, 2, &e0);
		e = e0;
		ck_assert(e.dp_lo == e.dp_hi);
		port = e.dp_hi + 1;
		e.dp_hi = port;
		ck_assert(bpf_map_update_elem(fd, &r, &e, 0) == 0);
		ck_assert(verify(&dp, &ex, NULL) > 0);
		ck_assert_msg(strstr(ex, "expected: policy in drop") && strstr(ex, "actual:   rule 2 pass"),
			      "%s", ex);
		{
			char want[32];

			snprintf(want, sizeof(want), " > %u", port);
			ck_assert_msg(strstr(ex, want), "%s", ex);
		}
		free(ex);
		ck_assert(bpf_map_update_elem(fd, &r, &e0, 0) == 0);
		ck_assert(verify(&dp, &ex, NULL) == 0);
		free(ex);
	}

	/* 3b. rule 1's leaf lost its list (a node corrupted): rule 4 decides */
	{
		struct xw_node nd, nd0;
		__u32 k;

		r = find_rent(&dp, 1, &e0);
		k = find_leaf(&dp, r);
		ck_assert(bpf_map_lookup_elem(dp.map_fd[XW_M_NODES], &k, &nd0) == 0);
		nd = nd0;
		nd.n = 0;
		ck_assert(bpf_map_update_elem(dp.map_fd[XW_M_NODES], &k, &nd, 0) == 0);
		ck_assert(verify(&dp, &ex, NULL) > 0);
		ck_assert_msg(strstr(ex, "expected: rule 1 pass") && strstr(ex, "actual:   rule 4"),
			      "%s", ex);
		free(ex);
		ck_assert(bpf_map_update_elem(dp.map_fd[XW_M_NODES], &k, &nd0, 0) == 0);
		ck_assert(verify(&dp, &ex, NULL) == 0);
		free(ex);
	}

	/* 4. the policy in the generation's tree header changed */
	{
		struct xw_cfg cfg;
		struct xw_thead h;
		__u32 zero = 0, g;

		ck_assert(bpf_map_lookup_elem(dp.map_fd[XW_M_CFG], &zero, &cfg) == 0);
		g = cfg.active & 1;
		ck_assert(bpf_map_lookup_elem(dp.map_fd[XW_M_TREES], &g, &h) == 0);
		h.policy[XW_DIR_IN] = XW_PASS;
		ck_assert(bpf_map_update_elem(dp.map_fd[XW_M_TREES], &g, &h, 0) == 0);
		ck_assert(verify(&dp, &ex, NULL) > 0);
		ck_assert_msg(strstr(ex, "expected: policy in drop") && strstr(ex, "actual:   policy pass"),
			      "%s", ex);
		free(ex);
	}
	xw_dp_close(&dp);
}
END_TEST

/* xw_pb_csum / xw_pb_ip4_csum: the checksum the C tests' frames carry */
START_TEST(test_pb_csum)
{
	/* an IPv4 header whose checksum is 0xb861 (UDP 192.168.0.1 -> .199) */
	uint8_t ip[24] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61,
			   0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };
	const uint8_t odd[3] = { 0x12, 0x34, 0x56 };

	ck_assert_uint_eq(xw_pb_csum(ip, 20), 0);          /* a valid header sums to 0 */
	ip[10] = 0xff;                                      /* the old value does not count */
	ip[11] = 0x00;
	xw_pb_ip4_csum(ip);
	ck_assert_uint_eq(ip[10], 0xb8);
	ck_assert_uint_eq(ip[11], 0x61);
	/* IHL 6: the option word counts */
	ip[0] = 0x46;
	ip[20] = ip[21] = ip[22] = 1;
	xw_pb_ip4_csum(ip);
	ck_assert_uint_eq(xw_pb_csum(ip, 24), 0);
	ck_assert_uint_ne((unsigned)ip[10] << 8 | ip[11], 0xb861);
	/* odd length: the last byte is padded with a zero byte */
	ck_assert_uint_eq(xw_pb_csum(odd, 3), (uint16_t)~(0x1234 + 0x5600));
	ck_assert_uint_eq(xw_pb_csum(odd, 0), 0xffff);
}
END_TEST

/* Runs verify on trees corrupted so that the walk and the entries
 * disagree: it must refuse them as inconsistent, naming `want`. */
static void verify_refuses(struct xw_dp *dp, const char *want)
{
	struct xw_verify_opts o = { 0 };
	struct xw_verify_stats st;
	struct xw_err err = { "" };
	char *log = NULL, *out = NULL;
	size_t ll, ol;
	FILE *lf = open_memstream(&log, &ll), *of = open_memstream(&out, &ol);
	int rc;

	o.out = of;
	o.log = lf;
	rc = xw_verify(dp, &o, &st, &err);
	fclose(lf);
	fclose(of);
	ck_assert_msg(rc != 0 && strstr(err.msg, "trees are inconsistent"), "rc %d: %s", rc,
		      err.msg);
	ck_assert_msg(strstr(log, want), "wanted '%s' in: %s", want, log);
	free(log);
	free(out);
}

/* Slot i of the active generation's map m (node, leaf slot). */
static __u32 gen_key(struct xw_dp *dp, __u32 per_gen, __u32 i)
{
	struct xw_cfg cfg;
	__u32 zero = 0;

	ck_assert(bpf_map_lookup_elem(dp->map_fd[XW_M_CFG], &zero, &cfg) == 0);
	return (cfg.active & 1) * per_gen + i;
}

/* A leaf of the tree of /32 sources that lists two entries, the second
 * rule 100's (the /24 every leaf of that tree lists): its node slot. */
static __u32 leaf_with_two(struct xw_dp *dp, struct xw_node *out)
{
	for (__u32 i = 0; i < XW_MAX_NODES; i++) {
		__u32 k = gen_key(dp, XW_MAX_NODES, i), lk, id, rk;
		struct xw_node nd;
		struct xw_rent e;

		ck_assert(bpf_map_lookup_elem(dp->map_fd[XW_M_NODES], &k, &nd) == 0);
		if (nd.nb || nd.n != 2)
			continue;
		lk = gen_key(dp, XW_MAX_LIDS, nd.base + 1);
		ck_assert(bpf_map_lookup_elem(dp->map_fd[XW_M_LIDS], &lk, &id) == 0);
		rk = gen_key(dp, XW_MAX_RENTS, id);
		ck_assert(bpf_map_lookup_elem(dp->map_fd[XW_M_RENTS], &rk, &e) == 0);
		if (e.prio == 100) {
			*out = nd;
			return k;
		}
	}
	ck_abort_msg("no leaf lists a /32 rule and rule 100");
	return 0;
}

START_TEST(test_verify_catches_bad_trees)
{
	struct xw_dp dp;
	struct xw_node nd, bad;
	struct xw_thead h, h0;
	char *text = malloc(64 * 64), *ex = NULL;
	size_t at = 0;
	__u32 k, l0, l1, id0, id1, g;

	need_bpf();
	ck_assert_ptr_nonnull(text);
	at += (size_t)sprintf(text, "policy drop\n");
	for (int i = 1; i <= 40; i++)
		at += (size_t)sprintf(text + at, "rule %d in src 10.0.0.%d pass\n", i, 3 * i);
	sprintf(text + at, "rule 100 in src 10.0.0.0/24 drop\n");
	load(&dp, text);
	ck_assert_msg(verify(&dp, &ex, NULL) == 0, "%s", ex);
	free(ex);
	k = leaf_with_two(&dp, &nd);

	/* 1. the leaf forgets rule 100, which other leaves still list */
	bad = nd;
	bad.n = 1;
	ck_assert(bpf_map_update_elem(dp.map_fd[XW_M_NODES], &k, &bad, 0) == 0);
	verify_refuses(&dp, "rule 100 can match in leaf slot");
	ck_assert(bpf_map_update_elem(dp.map_fd[XW_M_NODES], &k, &nd, 0) == 0);

	/* 2. its two entries swapped: rule 100 first */
	l0 = gen_key(&dp, XW_MAX_LIDS, nd.base);
	l1 = gen_key(&dp, XW_MAX_LIDS, nd.base + 1);
	ck_assert(bpf_map_lookup_elem(dp.map_fd[XW_M_LIDS], &l0, &id0) == 0);
	ck_assert(bpf_map_lookup_elem(dp.map_fd[XW_M_LIDS], &l1, &id1) == 0);
	ck_assert(bpf_map_update_elem(dp.map_fd[XW_M_LIDS], &l0, &id1, 0) == 0);
	ck_assert(bpf_map_update_elem(dp.map_fd[XW_M_LIDS], &l1, &id0, 0) == 0);
	verify_refuses(&dp, "is not in priority order");
	ck_assert(bpf_map_update_elem(dp.map_fd[XW_M_LIDS], &l0, &id0, 0) == 0);
	ck_assert(bpf_map_update_elem(dp.map_fd[XW_M_LIDS], &l1, &id1, 0) == 0);

	/* 3. a tree header claims a worse best priority than its entries:
	 * the walk would skip the tree where rule 1 decides */
	g = gen_key(&dp, 1, 0);
	ck_assert(bpf_map_lookup_elem(dp.map_fd[XW_M_TREES], &g, &h0) == 0);
	h = h0;
	for (__u32 t = 0; t < h.n_trees && t < XW_MAX_TREES; t++)
		if (h.min_prio[t] == 1)
			h.min_prio[t] = 2;
	ck_assert(bpf_map_update_elem(dp.map_fd[XW_M_TREES], &g, &h, 0) == 0);
	verify_refuses(&dp, "says its best priority is 2");
	ck_assert(bpf_map_update_elem(dp.map_fd[XW_M_TREES], &g, &h0, 0) == 0);

	/* 4. a tree header says no entry of a tree matches ingress packets:
	 * the walk would skip the rules of that tree */
	h = h0;
	ck_assert(h.n_trees > 0);
	h.dirs &= (__u16)~XW_TREE_DIR(0, XW_DIR_IN);
	ck_assert(bpf_map_update_elem(dp.map_fd[XW_M_TREES], &g, &h, 0) == 0);
	verify_refuses(&dp, "is skipped for a direction rule");
	ck_assert(bpf_map_update_elem(dp.map_fd[XW_M_TREES], &g, &h0, 0) == 0);

	ck_assert_msg(verify(&dp, &ex, NULL) == 0, "%s", ex);
	free(ex);
	free(text);
	xw_dp_close(&dp);
}
END_TEST

/* The active generation's hash map of exact shape j (xw_xents4/16). */
static int shape_map(struct xw_dp *dp, const struct xw_thead *h, __u32 j)
{
	__u32 slot = gen_key(dp, XW_MAX_XSHAPES, j), id = 0;
	int fd;

	ck_assert(bpf_map_lookup_elem(dp->map_fd[h->xs[j].nk == 1 ? XW_M_XENTS4 : XW_M_XENTS16],
				      &slot, &id) == 0);
	fd = bpf_map_get_fd_by_id(id);
	ck_assert_int_ge(fd, 0);
	return fd;
}

/* The exact tier corrupted so that the structural checks must see it, or
 * only the frames can: each corruption refused, the intact tier verified. */
START_TEST(test_verify_catches_bad_exact_tier)
{
	struct xw_dp dp;
	struct xw_thead h, h0;
	char *text = malloc(64 * 64), *ex = NULL;
	size_t at = 0;
	__u32 g, k1 = 0, k2 = 0, v1 = 0, v2 = 0, j4 = 0;
	int found = 0;
	int fd;

	need_bpf();
	ck_assert_ptr_nonnull(text);
	at += (size_t)sprintf(text, "policy drop\n");
	for (int i = 1; i <= 40; i++)
		at += (size_t)sprintf(text + at, "rule %d in src 10.0.0.%d pass\n", i, 3 * i);
	sprintf(text + at, "rule 100 in src 2001:db8::1 pass\n");
	load(&dp, text);
	ck_assert_msg(verify(&dp, &ex, NULL) == 0, "%s", ex);
	free(ex);
	g = gen_key(&dp, 1, 0);
	ck_assert(bpf_map_lookup_elem(dp.map_fd[XW_M_TREES], &g, &h0) == 0);
	/* every rule by hash: an IPv4 and an IPv6 shape, no tree */
	ck_assert_uint_eq(h0.n_xshapes, 2);
	ck_assert_uint_eq(h0.n_trees, 0);
	for (__u32 j = 0; j < h0.n_xshapes && j < XW_MAX_XSHAPES; j++)
		if (h0.xs[j].n == 40) {
			j4 = j;
			found = 1;
		}
	ck_assert(found);
	ck_assert_uint_eq(h0.xs[j4].nk, 1);   /* a 4-byte key: the address */
	fd = shape_map(&dp, &h0, j4);
	ck_assert(bpf_map_get_next_key(fd, NULL, &k1) == 0);
	ck_assert(bpf_map_get_next_key(fd, &k1, &k2) == 0);
	ck_assert(bpf_map_lookup_elem(fd, &k1, &v1) == 0);
	ck_assert(bpf_map_lookup_elem(fd, &k2, &v2) == 0);

	/* 1. one address's key leads to another rule's entry */
	ck_assert(bpf_map_update_elem(fd, &k1, &v2, 0) == 0);
	verify_refuses(&dp, "under a key no packet it matches has");
	ck_assert(bpf_map_update_elem(fd, &k1, &v1, 0) == 0);

	/* 2. the shape claims a worse best priority than its entries: the
	 * probe would be skipped where rule 1 decides */
	h = h0;
	h.xs[j4].min_prio = 2;
	ck_assert(bpf_map_update_elem(dp.map_fd[XW_M_TREES], &g, &h, 0) == 0);
	verify_refuses(&dp, "says its best priority is 2");
	ck_assert(bpf_map_update_elem(dp.map_fd[XW_M_TREES], &g, &h0, 0) == 0);

	/* 3. a check lane that none of its entries passes (IPv6's flag for
	 * the IPv4 shape): no packet would be probed */
	h = h0;
	ck_assert_uint_gt(h.xs[j4].nc, 0);
	h.xs[j4].cv[0] ^= h.xs[j4].cm[0] & (0u - h.xs[j4].cm[0]);   /* lowest checked bit */
	ck_assert(bpf_map_update_elem(dp.map_fd[XW_M_TREES], &g, &h, 0) == 0);
	verify_refuses(&dp, "under a key no packet it matches has");
	ck_assert(bpf_map_update_elem(dp.map_fd[XW_M_TREES], &g, &h0, 0) == 0);

	/* 4. the tier says no entry matches ingress packets: the probes
	 * would be skipped */
	h = h0;
	h.xdirs &= ~(1u << XW_DIR_IN);
	ck_assert(bpf_map_update_elem(dp.map_fd[XW_M_TREES], &g, &h, 0) == 0);
	verify_refuses(&dp, "is skipped for a direction rule");
	ck_assert(bpf_map_update_elem(dp.map_fd[XW_M_TREES], &g, &h0, 0) == 0);

	/* 5. an address dropped from the hash: the structure is sound, the
	 * frames find the rule that no longer decides */
	ck_assert(bpf_map_delete_elem(fd, &k1) == 0);
	ck_assert(verify(&dp, &ex, NULL) > 0);
	ck_assert_msg(strstr(ex, "expected: rule "), "%s", ex);
	free(ex);
	ck_assert(bpf_map_update_elem(fd, &k1, &v1, 0) == 0);

	ck_assert_msg(verify(&dp, &ex, NULL) == 0, "%s", ex);
	free(ex);
	close(fd);
	free(text);
	xw_dp_close(&dp);
}
END_TEST

/* The fields after `payload`: written exactly as given, 0 included. */
START_TEST(test_pb_given)
{
	static const uint8_t data[6] = { 'h', 'e', 'l', 'l', 'o', '!' };
	uint8_t b[XW_PB_MAX + 64];
	struct xw_pb_spec s;
	struct xw_ref_pkt p;
	size_t n;

	memset(&s, 0, sizeof(s));
	s.vlan = -1;
	s.eth_type = 0x0800;
	s.l3 = XW_PB_L3_V4;
	s.src[0] = 10;
	s.dst[0] = 11;
	s.proto = 6;
	s.l4 = 1;
	s.sport = 1000;
	s.dport = 22;
	s.tcp_flags = 0x02;          /* no ACK: the acknowledgement is written anyway */
	s.given = 1;
	s.tcp_seq = 0xfffffff0u;
	s.tcp_ack = 0x01020300u;
	s.tcp_win = 0;
	s.ip_id = 0x10007;           /* 16 bits of it in IPv4 */
	s.ip4_nops = 4;
	s.ip_len_extra = 40;
	s.data = data;
	s.payload = sizeof(data);
	n = xw_pb_build(&s, b, sizeof(b));
	ck_assert_uint_eq(n, 14 + 24 + 20 + sizeof(data));
	ck_assert_uint_eq(b[14], 0x46);
	ck_assert_uint_eq((unsigned)b[16] << 8 | b[17], 24 + 20 + sizeof(data) + 40);
	ck_assert_uint_eq((unsigned)b[18] << 8 | b[19], 7);
	ck_assert_uint_eq(xw_pb_csum(b + 14, 24), 0);
	ck_assert(b[34] == 1 && b[35] == 1 && b[36] == 1 && b[37] == 1);  /* NOPs only */
	ck_assert(!memcmp(b + 42, "\xff\xff\xff\xf0\x01\x02\x03\x00", 8));
	ck_assert(b[52] == 0 && b[53] == 0);
	ck_assert(!memcmp(b + 58, data, sizeof(data)));
	/* UDP cut to 6 bytes keeps the whole header's length; SCTP's tag */
	s.proto = 17;
	s.l4 = 0;
	s.variant = XW_PB_VLEN(6);
	n = xw_pb_build(&s, b, sizeof(b));
	ck_assert_uint_eq(n, 14 + 24 + 6);
	ck_assert(b[42] == 0 && b[43] == 8 + sizeof(data));
	s.proto = 132;
	s.l4 = 1;
	s.sctp_tag = 0xde000000u;
	n = xw_pb_build(&s, b, sizeof(b));
	ck_assert_uint_eq(n, 14 + 24 + 12 + sizeof(data));
	ck_assert(b[42] == 0xde && b[43] == 0 && b[44] == 0 && b[45] == 0);
	/* version 5: malformed, its checksum over the header as written */
	s.ip_version = 5;
	n = xw_pb_build(&s, b, sizeof(b));
	ck_assert_uint_eq(b[14], 0x56);
	ck_assert_uint_eq(xw_pb_csum(b + 14, 24), 0);
	xw_ref_parse(b, n, &p);
	ck_assert(p.malformed);
	/* IPv6: a later fragment at offset 185 after a destination options
	 * header, the fragment identification and flow label given */
	memset(&s, 0, sizeof(s));
	s.vlan = -1;
	s.eth_type = 0x86DD;
	s.l3 = XW_PB_L3_V6;
	s.proto = 58;
	s.later = 1;
	s.mf = 1;
	s.frag_off = 185;
	s.v6_dstopt = 1;
	s.given = 1;
	s.ip_id = 0xabcd0001u;
	s.flow_label = 0x12345;
	s.data = data;
	s.payload = sizeof(data);
	n = xw_pb_build(&s, b, sizeof(b));
	ck_assert_uint_eq(n, 14 + 40 + 8 + 8 + sizeof(data));
	ck_assert(b[14] == 0x60 && b[15] == 0x01 && b[16] == 0x23 && b[17] == 0x45);
	ck_assert(b[20] == 60 && b[54] == 44 && b[55] == 0 && b[62] == 58);
	ck_assert_uint_eq((unsigned)b[64] << 8 | b[65], 185u << 3 | 1);
	ck_assert(!memcmp(b + 66, "\xab\xcd\x00\x01", 4));
	ck_assert(!memcmp(b + 70, data, sizeof(data)));
	xw_ref_parse(b, n, &p);
	ck_assert(!p.malformed && p.v6 && p.frag_mf && p.frag_off == 185 && p.proto == 58);
	/* what cannot be built */
	s.frag_off = 0x2000;
	ck_assert_uint_eq(xw_pb_build(&s, b, sizeof(b)), 0);
	s.frag_off = 0;
	s.l3 = XW_PB_L3_V4;
	s.eth_type = 0x0800;
	s.ip4_nops = 6;
	ck_assert_uint_eq(xw_pb_build(&s, b, sizeof(b)), 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("verify");
	TCase *t = tcase_create("core");
	TCase *pb = tcase_create("pktbuild");

	tcase_add_test(pb, test_pb_csum);
	tcase_add_test(pb, test_pb_given);
	suite_add_tcase(s, pb);

	tcase_set_timeout(t, 600);
	tcase_add_test(t, test_frames_parse_as_specified);
	tcase_add_loop_test(t, test_verify_random, 0, 12);
	tcase_add_test(t, test_verify_shapes_and_state);
	tcase_add_test(t, test_verify_catches_corruption);
	tcase_add_test(t, test_verify_catches_bad_trees);
	tcase_add_test(t, test_verify_catches_bad_exact_tier);
	suite_add_tcase(s, t);
	return s;
}

XW_CHECK_MAIN(suite)
