// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Differential test: the real datapath programs (BPF_PROG_TEST_RUN on a
 * private instance) against the independent reference classifier
 * (tests/ref): the XDP entry program and the TC ingress program against the
 * reference in direction in, the TC egress program against it in direction
 * out (so `out` rules are checked too).
 *
 * Rule sets: random sets from rulegen (1 .. 10,000 rules, several seeds),
 * xdp-filter-like sets from rulegen_simple, hand-written sets covering every
 * stateless match kind, and sets built from the fields of real corpus packets.
 * Packets: random / mutated / malformed frames from pktgen, and every packet
 * of every Ethernet pcap of the tcpdump corpus (plus mutated copies).
 *
 * For each packet and hook: verdict, matching rule priority (XW_PRIO_NONE
 * when the policy decided), reason, program action and the malformed /
 * short flags must agree.  Frames shorter than 14 bytes are offered to the
 * programs (XDP behind metadata); where BPF_PROG_TEST_RUN refuses them (6.18
 * does on every hook, as no device hands such a frame to a program either)
 * they are counted and reported as unchecked, never given an assumed
 * verdict.  The skb test run also refuses some malformed frames (an IP
 * header past the frame's end) that XDP runs: counted and the first shown.  Frames longer than a program can see whole
 * under test_run (probed at start for XDP and TC: about 3.5 KiB with 4 KiB
 * pages) are counted and reported as "not runnable".  The reference is
 * called with the ifindex of lo, where test runs arrive.
 *
 * Every run takes a fresh random seed, printed first; -s SEED reproduces it.
 * The capture corpus is found relative to the repository
 * (ROOT/../shared/corpus/tcpdump, ROOT being two levels above this binary's
 * directory), or given with -c DIR or $XW_CORPUS; without it the test fails.
 *
 * Usage: difftest [-s SEED] [-n PACKETS_PER_SET] [-r ROUNDS] [-c CORPUS_DIR] [-q]
 * Exit: 0 no mismatch, 1 mismatches, 2 setup or system error.
 */
#include <errno.h>
#include <glob.h>
#include <sched.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <pcap/pcap.h>

#include "bpfdecl.h"
#include "compile.h"
#include "datapath.h"
#include "rule.h"
#include "xwall.h"
#include "pktgen.h"
#include "refclass.h"
#include "rulegen.h"

#define CORPUS_REL      "../shared/corpus/tcpdump"   /* from the repository root */
#define DEF_PER_SET     25000u
#define DEF_ROUNDS      3u
#define MIN_RANDOM      100000u     /* random packets per run, at least */
#define MAX_SHOWN       10
#define BUF_MAX         (1u << 17)  /* largest frame we handle */

/* ---- options and totals ---- */

static uint64_t opt_seed;
static size_t opt_per_set = DEF_PER_SET;
static unsigned opt_rounds = DEF_ROUNDS;
static int opt_quiet;
static const char *opt_corpus;

/* The programs under test and the reference direction of each. */
enum hook { H_XDP, H_TC_IN, H_TC_OUT, H_MAX };
static const char *const hook_name[H_MAX] = { "XDP", "TC ingress", "TC egress" };

static struct {
	size_t sets, packets, corpus, random, mutated, mismatches, not_runnable;
	size_t shorts, malformed, rule_hits;
	size_t xsets, xentries;               /* sets with an exact tier, its entries */
	size_t runs[H_MAX], skipped[H_MAX];   /* program runs; frames not runnable */
	size_t short_refused[H_MAX];          /* of those, shorter than 14 bytes */
	size_t refused[H_MAX];                /* other frames test_run refuses */
} tot;

static uint32_t lo_ifindex = 1;   /* ifindex of a test run (lo) */
static size_t max_run;            /* largest frame every hook sees whole */
static size_t max_run_hook[H_MAX] = { BUF_MAX, BUF_MAX, BUF_MAX };
static int probing;               /* finding the limits: failed runs are expected */
static int short_runs[H_MAX];     /* the kernel runs frames < 14 bytes on the hook */
static struct xw_dp dp;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "difftest: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	xw_dp_close(&dp);
	exit(2);
}

static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- growing string ---- */

struct sbuf {
	char *s;
	size_t len, cap;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0)
			die("vsnprintf failed");
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap ? b->cap * 2 : 4096;
		while (cap < b->len + (size_t)n + 1)
			cap *= 2;
		char *s = realloc(b->s, cap);
		if (!s)
			die("out of memory");
		b->s = s;
		b->cap = cap;
	}
}

/* ---- corpus ---- */

struct frame {
	uint8_t *b;
	uint32_t len;
	uint32_t file;      /* index into corpus.files */
	uint32_t index;     /* packet index within the file, from 0 */
};

static struct {
	struct frame *f;
	size_t n, cap;
	char **files;       /* every file read (Ethernet ones) */
	size_t nfiles;
	size_t total_files, skipped_dlt, unreadable, read_errors, bytes;
} corpus;

static void corpus_load(void)
{
	char pat[4096], errbuf[PCAP_ERRBUF_SIZE];
	glob_t g;

	snprintf(pat, sizeof(pat), "%s/*.pcap", opt_corpus);
	if (glob(pat, 0, NULL, &g) || g.gl_pathc == 0)
		die("no pcap files match %s (set the corpus directory with -c)", pat);
	corpus.total_files = g.gl_pathc;
	corpus.files = calloc(g.gl_pathc, sizeof(char *));
	if (!corpus.files)
		die("out of memory");
	for (size_t i = 0; i < g.gl_pathc; i++) {
		pcap_t *p = pcap_open_offline(g.gl_pathv[i], errbuf);
		struct pcap_pkthdr *h;
		const u_char *data;
		uint32_t idx = 0;
		int rc;

		if (!p) {
			if (!opt_quiet)
				printf("corpus: cannot read %s: %s\n", g.gl_pathv[i], errbuf);
			corpus.unreadable++;
			continue;
		}
		if (pcap_datalink(p) != DLT_EN10MB) {
			corpus.skipped_dlt++;
			pcap_close(p);
			continue;
		}
		const char *base = strrchr(g.gl_pathv[i], '/');
		corpus.files[corpus.nfiles] = strdup(base ? base + 1 : g.gl_pathv[i]);
		if (!corpus.files[corpus.nfiles])
			die("out of memory");
		while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
			if (corpus.n == corpus.cap) {
				size_t nc = corpus.cap ? corpus.cap * 2 : 4096;
				struct frame *nf = realloc(corpus.f, nc * sizeof(*nf));

				if (!nf)
					die("out of memory");
				corpus.f = nf;
				corpus.cap = nc;
			}
			struct frame *f = &corpus.f[corpus.n++];

			f->len = h->caplen;
			f->b = malloc(h->caplen ? h->caplen : 1);
			if (!f->b)
				die("out of memory");
			memcpy(f->b, data, h->caplen);
			f->file = (uint32_t)corpus.nfiles;
			f->index = idx++;
			corpus.bytes += h->caplen;
		}
		if (rc == -1) {
			/* a damaged capture (the corpus has some): keep what was read */
			corpus.read_errors++;
			if (!opt_quiet)
				printf("corpus: %s: read error after %u packets: %s\n",
				       corpus.files[corpus.nfiles], idx, pcap_geterr(p));
		}
		corpus.nfiles++;
		pcap_close(p);
	}
	globfree(&g);
}

static void corpus_free(void)
{
	for (size_t i = 0; i < corpus.n; i++)
		free(corpus.f[i].b);
	for (size_t i = 0; i < corpus.nfiles; i++)
		free(corpus.files[i]);
	free(corpus.f);
	free(corpus.files);
}

/* ---- rule sets ---- */

struct rset {
	char name[96];
	uint64_t seed;
	char *text;
	struct xw_ruleset rs;
	uint32_t *rif;          /* resolved `iif` per rule, NULL if no rule has one */
	unsigned tuples;
};

static void rset_free(struct rset *s)
{
	free(s->text);
	free(s->rif);
	xw_ruleset_free(&s->rs);
}

/* Parse, resolve `iif`, compile (for the tuple count) and apply. */
static void rset_load(struct rset *s)
{
	struct xw_compiled c;
	struct xw_err err = { { 0 } };
	uint32_t *slots;
	int has_iif = 0;

	if (!s->text)
		die("%s: rule generator failed", s->name);
	if (xw_parse_text(s->text, strlen(s->text), s->name, &s->rs, &err))
		die("%s (seed 0x%" PRIx64 "): generated rules do not parse: %s", s->name, s->seed,
		    err.msg);
	slots = calloc(s->rs.n + 1, sizeof(*slots));
	s->rif = calloc(s->rs.n + 1, sizeof(*s->rif));
	if (!slots || !s->rif)
		die("out of memory");
	for (size_t i = 0; i < s->rs.n; i++) {
		slots[i] = (uint32_t)i;
		if (s->rs.rules[i].present & XM_IIF) {
			s->rif[i] = if_nametoindex(s->rs.rules[i].iif);
			if (!s->rif[i])
				die("%s: iif %s: %s", s->name, s->rs.rules[i].iif, strerror(errno));
			has_iif = 1;
		}
	}
	if (!has_iif) {
		free(s->rif);
		s->rif = NULL;
	}
	if (xw_compile(&s->rs, slots, s->rif, &c, &err))
		die("%s (seed 0x%" PRIx64 "): compile: %s", s->name, s->seed, err.msg);
	s->tuples = c.n_tuples;
	xw_compiled_free(&c);
	free(slots);
	/* the exact tier's choice, from the set's seed: every shape it can
	 * take (all), or the default (auto); the set's name says which */
	{
		const char *v = (s->seed >> 7) % 3 ? "all" : "auto";
		size_t l = strlen(s->name);

		setenv("XW_EXACT", v, 1);
		snprintf(s->name + l, sizeof(s->name) - l, " exact=%s", v);
	}
	if (xw_dp_apply(&dp, &s->rs, &err))
		die("%s (seed 0x%" PRIx64 "): apply: %s", s->name, s->seed, err.msg);
	if (dp.last_cost.xshapes) {
		tot.xsets++;
		tot.xentries += dp.last_cost.xentries;
	}
}

/* Hand-written sets: every stateless match kind, lists, ranges, names,
 * both directions, iif, log, contradictory and catch-all rules.  Values come
 * from the pktgen pools so the rules fire on generated packets. */
static const char hand_a[] =
	"# every match kind, policy drop\n"
	"policy drop\n"
	"rule 10 ether src 02:00:00:00:00:01 tcp dport 22 pass\n"
	"rule 20 ether dst 52:54:00:ab:cd:ef udp drop\n"
	"rule 30 ether type arp pass\n"
	"rule 35 ether type 0x88cc drop\n"
	"rule 40 vlan 100 ip6 pass\n"
	"rule 45 vlan 4095 ether type ip drop\n"
	"rule 50 ip proto gre pass\n"
	"rule 55 ip6 proto 0 drop\n"
	"rule 60 src 10.0.0.0/24,192.168.1.100 dport 80-443 drop\n"
	"rule 70 dst 2001:db8::/48,fe80::1 sport 53,5353,1024-2047 pass\n"
	"rule 80 tcp flags syn / syn,ack drop\n"
	"rule 85 tcp flags syn,ack pass\n"
	"rule 90 icmp type echo-request code 0 drop\n"
	"rule 95 icmp type 3-5 code 1,3 pass\n"
	"rule 100 icmpv6 type 128-136 pass\n"
	"rule 105 icmpv6 type destination-unreachable code 4 drop\n"
	"rule 110 frag first drop\n"
	"rule 120 frag later pass\n"
	"rule 130 frag log drop\n"
	"rule 140 sctp sport 0-1023 pass\n"
	"rule 150 iif lo src 8.8.8.8 drop\n"
	"rule 160 out tcp dport 25 drop\n"
	"rule 170 proto 58 drop\n"
	"rule 180 dst 0.0.0.0/0 log pass\n"
	"rule 190 src ::/0 drop\n"
	"rule 200 ether type 0x1234 pass\n";

static const char hand_b[] =
	"# more kinds, default policy (pass), out policy drop\n"
	"policy out drop\n"
	"rule 5 in iif lo ether type vlan drop\n"
	"rule 6 ether type 0x88a8 pass\n"
	"rule 10 vlan 0 drop\n"
	"rule 11 vlan 1 tcp drop\n"
	"rule 20 ip src 10.0.0.0/8 frag drop\n"
	"rule 25 ip6 src 2001:db8::/32 dst 2001:db8:1::/48 udp dport 0-65535 pass\n"
	"rule 30 ether src ff:ff:ff:ff:ff:ff drop\n"
	"rule 31 ether dst 33:33:00:00:00:01 icmpv6 drop\n"
	"rule 40 sport 22 dport 1024-65535 drop\n"
	"rule 41 dport 8080 pass\n"
	"rule 50 tcp flags fin,psh,urg / fin,syn,rst,psh,ack,urg drop\n"
	"rule 52 tcp flags ack/syn,ack,rst pass\n"
	"rule 53 tcp flags ece,cwr drop\n"
	"rule 60 icmp type echo-reply,time-exceeded pass\n"
	"rule 61 icmp type 0-255 code 4 drop\n"
	"rule 70 icmpv6 type echo-request,echo-reply pass\n"
	"rule 71 icmpv6 type 1-4 code 0-3 drop\n"
	"rule 80 proto esp drop\n"
	"rule 81 proto 51 pass\n"
	"rule 82 proto 255 drop\n"
	"rule 90 ip6 frag later drop\n"
	"rule 91 ip frag first pass\n"
	"rule 92 ip6 frag first drop\n"
	"rule 100 ip6 ip drop\n"
	"rule 101 ip6 src 10.0.0.0/8 drop\n"
	"rule 102 ether type arp src 10.0.0.1 drop\n"
	"rule 103 ip6 icmp type 8 drop\n"
	"rule 104 ip icmpv6 type echo-request drop\n"
	"rule 110 udp sport 53 log pass\n"
	"rule 120 src 192.168.0.0/16,2001:db8:ffff::/48 dst 10.0.0.0/8,::/0 drop\n"
	"rule 130 proto icmp drop\n"
	"rule 200 out drop\n"
	"rule 999999 ip drop\n"
	"rule 1000000 ether type ip6 drop\n";

static const char hand_c[] =
	"# a catch-all: every frame of 14 bytes or more, malformed too\n"
	"policy pass\n"
	"rule 1 drop\n"
	"rule 2 tcp pass\n";

static const char hand_d[] =
	"# no rules: the policy for everything\n"
	"policy drop\n";

static const char hand_e[] =
	"# out rules only, and a catch-all that cannot match at XDP\n"
	"policy pass\n"
	"policy out drop\n"
	"rule 1 out drop\n"
	"rule 2 out tcp pass\n";

/* Rules built from the fields of random corpus packets, so they fire on
 * real traffic.  At most two masks per rule (frag any), so n rules stay
 * well within the tuple cap for n <= 400. */
static char *corpus_rules(struct xw_rng *r, size_t n)
{
	static const uint8_t plen4[] = { 8, 16, 24, 32 }, plen6[] = { 32, 48, 64, 128 };
	struct sbuf b = { 0 };
	uint32_t *prios = calloc(n + 1, sizeof(*prios));
	size_t usable = 0;

	if (!prios)
		die("out of memory");
	for (size_t i = 0; i < corpus.n; i++)
		usable += corpus.f[i].len >= 14 && corpus.f[i].len <= max_run;
	if (!usable)
		die("corpus has no runnable Ethernet frame");
	/* distinct priorities, random order */
	for (size_t i = 0; i < n; i++)
		prios[i] = (uint32_t)(i * 1000 + 1 + xw_rng_below(r, 1000));
	for (size_t i = n; i > 1; i--) {
		size_t j = xw_rng_below(r, (uint32_t)i);
		uint32_t t = prios[i - 1];

		prios[i - 1] = prios[j];
		prios[j] = t;
	}
	switch (xw_rng_below(r, 3)) {
	case 0: sb_printf(&b, "policy drop\n"); break;
	case 1: sb_printf(&b, "policy pass\n"); break;
	default: break;
	}

	for (size_t i = 0; i < n; i++) {
		const struct frame *f;
		struct xw_ref_pkt p;
		char cand[12][160];
		size_t nc = 0;

		do
			f = &corpus.f[xw_rng_below(r, (uint32_t)corpus.n)];
		while (f->len < 14 || f->len > max_run);
		xw_ref_parse(f->b, f->len, &p);

		if (xw_rng_chance(r, 50))
			snprintf(cand[nc++], sizeof(cand[0]), "ether src %02x:%02x:%02x:%02x:%02x:%02x",
				 p.eth_src[0], p.eth_src[1], p.eth_src[2], p.eth_src[3],
				 p.eth_src[4], p.eth_src[5]);
		else
			snprintf(cand[nc++], sizeof(cand[0]), "ether dst %02x:%02x:%02x:%02x:%02x:%02x",
				 p.eth_dst[0], p.eth_dst[1], p.eth_dst[2], p.eth_dst[3],
				 p.eth_dst[4], p.eth_dst[5]);
		if (p.has_vlan)
			snprintf(cand[nc++], sizeof(cand[0]), "vlan %u", p.vlan);
		if (p.eth_type == 0x0800 && xw_rng_chance(r, 50))
			snprintf(cand[nc++], sizeof(cand[0]), "ip");
		else if (p.eth_type == 0x86DD && xw_rng_chance(r, 50))
			snprintf(cand[nc++], sizeof(cand[0]), "ip6");
		else
			snprintf(cand[nc++], sizeof(cand[0]), "ether type 0x%04x", p.eth_type);
		for (int d = 0; d < 2 && (p.v4 || p.v6); d++) {
			uint8_t a[16];
			char s[INET6_ADDRSTRLEN], s2[INET6_ADDRSTRLEN];
			unsigned pl = p.v4 ? plen4[xw_rng_below(r, 4)] : plen6[xw_rng_below(r, 4)];
			unsigned nb = p.v4 ? 4 : 16;

			memcpy(a, d ? p.dst : p.src, nb);
			for (unsigned k = 0; k < nb; k++) {
				int bits = (int)pl - (int)k * 8;

				a[k] &= bits >= 8 ? 0xff : bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
			}
			inet_ntop(p.v4 ? AF_INET : AF_INET6, a, s, sizeof(s));
			if (xw_rng_chance(r, 20)) {
				/* a list: a pool address of the same family next to it */
				const uint8_t *o = p.v4 ? xw_pool_ip4[xw_rng_below(r, 12)]
							: xw_pool_ip6[xw_rng_below(r, 12)];

				inet_ntop(p.v4 ? AF_INET : AF_INET6, o, s2, sizeof(s2));
				snprintf(cand[nc++], sizeof(cand[0]), "%s %s/%u,%s", d ? "dst" : "src",
					 s, pl, s2);
			} else {
				snprintf(cand[nc++], sizeof(cand[0]), "%s %s/%u", d ? "dst" : "src", s, pl);
			}
		}
		if (p.v4 || p.v6)
			snprintf(cand[nc++], sizeof(cand[0]), "proto %u", p.proto);
		if (p.has_ports) {
			for (int d = 0; d < 2; d++) {
				uint16_t v = d ? p.dport : p.sport;
				const char *kw = d ? "dport" : "sport";

				switch (xw_rng_below(r, 4)) {
				case 0: {       /* an aligned block around the value */
					unsigned k = xw_rng_range(r, 1, 10);
					unsigned lo = v & ~((1u << k) - 1);

					snprintf(cand[nc++], sizeof(cand[0]), "%s %u-%u", kw, lo,
						 lo + (1u << k) - 1);
					break;
				}
				case 1:         /* a list of singles */
					snprintf(cand[nc++], sizeof(cand[0]), "%s %u,%u", kw,
						 xw_pool_port[xw_rng_below(r, 10)], v);
					break;
				default:
					snprintf(cand[nc++], sizeof(cand[0]), "%s %u", kw, v);
					break;
				}
			}
		}
		if (p.has_tcp) {
			uint8_t m = (uint8_t)xw_rng_below(r, 256), fl;

			m |= (uint8_t)(1u << xw_rng_below(r, 8));
			fl = p.tcp_flags & m;
			if (fl) {
				int n1 = snprintf(cand[nc], sizeof(cand[0]), "tcp flags ");
				static const char *const names[8] = {
					"fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr" };
				int first = 1;

				for (int k = 0; k < 8; k++)
					if (fl & (1u << k)) {
						n1 += snprintf(cand[nc] + n1, sizeof(cand[0]) - (size_t)n1,
							       "%s%s", first ? "" : ",", names[k]);
						first = 0;
					}
				n1 += snprintf(cand[nc] + n1, sizeof(cand[0]) - (size_t)n1, " /");
				first = 1;
				for (int k = 0; k < 8; k++)
					if (m & (1u << k)) {
						n1 += snprintf(cand[nc] + n1, sizeof(cand[0]) - (size_t)n1,
							       "%s%s", first ? " " : ",", names[k]);
						first = 0;
					}
				nc++;
			}
		}
		if (p.has_icmp || p.has_icmp6) {
			if (xw_rng_chance(r, 50))
				snprintf(cand[nc++], sizeof(cand[0]), "%s type %u code %u",
					 p.has_icmp ? "icmp" : "icmpv6", p.icmp_type, p.icmp_code);
			else
				snprintf(cand[nc++], sizeof(cand[0]), "%s type %u",
					 p.has_icmp ? "icmp" : "icmpv6", p.icmp_type);
		}
		if (p.has_frag && (p.frag_mf || p.frag_off)) {
			if (xw_rng_chance(r, 50))
				snprintf(cand[nc++], sizeof(cand[0]), "frag");
			else
				snprintf(cand[nc++], sizeof(cand[0]), "frag %s",
					 p.frag_off ? "later" : "first");
		}

		/* 1..3 distinct candidates */
		unsigned want = xw_rng_range(r, 1, 3), used = 0;

		sb_printf(&b, "rule %u%s", prios[i], xw_rng_chance(r, 5) ? " out" : "");
		for (unsigned k = 0; k < want && used != (1u << nc) - 1; k++) {
			size_t c;

			do
				c = xw_rng_below(r, (uint32_t)nc);
			while (used & (1u << c));
			used |= 1u << c;
			sb_printf(&b, " %s", cand[c]);
		}
		sb_printf(&b, "%s %s\n", xw_rng_chance(r, 10) ? " log" : "",
			  xw_rng_chance(r, 50) ? "pass" : "drop");
	}
	free(prios);
	return b.s;
}

/* ---- one packet ---- */

enum origin { O_RANDOM, O_CORPUS, O_CORPUS_MUT, O_PROBE };

struct pkt_src {
	enum origin o;
	size_t index;             /* random packet number / corpus frame */
};

static const char *verdict_str(int v)
{
	return xw_verdict_name((unsigned)v);
}

static const char *reason_str(unsigned r)
{
	static const char *const n[] = { "rule", "policy", "malformed", "tailcall", "short",
					 "reject_limited", "reject_silent" };

	return r < XW_REASON_MAX ? n[r] : "?";
}

static void print_rule(const struct rset *s, uint32_t prio)
{
	char buf[8192];

	if (prio == XW_PRIO_NONE) {
		printf("(policy)");
		return;
	}
	for (size_t i = 0; i < s->rs.n; i++)
		if (s->rs.rules[i].prio == prio) {
			if (xw_rule_format(&s->rs.rules[i], buf, sizeof(buf)) < 0)
				snprintf(buf, sizeof(buf), "rule %u (too long to print)", prio);
			printf("%s", buf);
			return;
		}
	printf("(no rule with priority %u!)", prio);
}

static void report(const struct rset *s, const struct pkt_src *src, const uint8_t *pkt,
		   size_t len, int hook, const struct xw_ref_result *ref,
		   const struct xw_test_result *got, const char *why)
{
	struct xw_ref_pkt p;
	char desc[1024];
	size_t show = len > 2048 ? 2048 : len;

	tot.mismatches++;
	if (tot.mismatches > MAX_SHOWN)
		return;
	printf("MISMATCH #%zu (%s, %s): rule set %s (set seed 0x%" PRIx64 ", run seed 0x%" PRIx64
	       " (-s 0x%" PRIx64 ")), ", tot.mismatches, hook_name[hook], why, s->name, s->seed,
	       opt_seed, opt_seed);
	switch (src->o) {
	case O_RANDOM:
		printf("random packet #%zu\n", src->index);
		break;
	case O_CORPUS:
	case O_CORPUS_MUT:
		printf("%scorpus %s packet #%u\n", src->o == O_CORPUS_MUT ? "mutated " : "",
		       corpus.files[corpus.f[src->index].file], corpus.f[src->index].index);
		break;
	default:
		printf("probe\n");
		break;
	}
	printf("  packet (%zu bytes):", len);
	for (size_t i = 0; i < show; i++)
		printf("%s%02x", i % 32 ? (i % 4 ? "" : " ") : "\n    ", pkt[i]);
	if (show < len)
		printf("\n    ... (%zu more bytes)", len - show);
	printf("\n");
	xw_ref_parse(pkt, len, &p);
	xw_ref_pkt_format(&p, desc, sizeof(desc));
	printf("  ref parse: %s\n", desc);
	printf("  expected (ref):  %s reason=%s prio=", verdict_str(ref->verdict),
	       reason_str(ref->reason));
	if (ref->prio == XW_PRIO_NONE)
		printf("none");
	else
		printf("%u", ref->prio);
	printf(" malformed=%u short=%u  ", ref->malformed, ref->short_frame);
	print_rule(s, ref->prio);
	printf("\n");
	if (got) {
		printf("  actual (BPF):    %s reason=%s prio=", verdict_str(got->verdict),
		       reason_str(got->reason));
		if (got->prio == XW_PRIO_NONE)
			printf("none");
		else
			printf("%u", got->prio);
		printf(" malformed=%d action=%u  ", got->malformed, got->retval);
		print_rule(s, got->prio);
		printf("\n");
	}
	fflush(stdout);
}

struct set_stats {
	size_t packets, corpus, mismatches, not_runnable, hits;
};

/* Run one frame through a hook's entry program (xw_dp_test_run_prog: an
 * XDP frame shorter than an Ethernet header goes behind metadata). */
static int run_hook(int hook, const uint8_t *pkt, size_t len, struct xw_test_result *res)
{
	static const int prog[H_MAX] = { XW_P_XDP, XW_P_TC_IN, XW_P_TC_OUT };
	struct xw_err err = { { 0 } };

	if (xw_dp_test_run_prog(&dp, prog[hook], pkt, len, res, &err)) {
		if (hook == H_XDP && !probing && len >= 14 && len <= max_run_hook[hook])
			fprintf(stderr, "difftest: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static void check_hook(const struct rset *s, const struct pkt_src *src, const uint8_t *pkt,
		       size_t len, int hook, const struct xw_ref_result *ref)
{
	struct xw_test_result got;
	const char *why = NULL;
	int rc, want_mal = ref->short_frame ? 2 : ref->malformed ? 1 : 0;
	uint32_t want_act;

	if ((len < 14 && !short_runs[hook]) || len > max_run_hook[hook]) {
		tot.skipped[hook]++;
		if (len < 14)
			tot.short_refused[hook]++;
		return;
	}
	rc = run_hook(hook, pkt, len, &got);
	if (rc && hook != H_XDP) {
		/* an skb test run refuses some malformed frames the XDP one
		 * takes (6.18: an IPv4 header longer than the frame); XDP checks
		 * them, here they are counted and the first ones shown */
		if (tot.refused[hook]++ < 3) {
			printf("%s: BPF_PROG_TEST_RUN refuses this %zu-byte frame (checked on XDP only):"
			       " ", hook_name[hook], len);
			for (size_t i = 0; i < len && i < 64; i++)
				printf("%02x", pkt[i]);
			printf("%s\n", len > 64 ? "..." : "");
		}
		return;
	}
	if (rc)
		die("%s: %s test run of a %zu-byte frame failed", s->name, hook_name[hook], len);
	tot.runs[hook]++;
	if (hook == H_XDP)
		want_act = XW_VERDICT_PASSES(ref->verdict) ? XW_XDP_PASS : XW_XDP_DROP;
	else
		want_act = XW_VERDICT_PASSES(ref->verdict) ? XW_TC_ACT_OK : XW_TC_ACT_SHOT;
	if (got.verdict != ref->verdict)
		why = "verdict";
	else if (got.prio != ref->prio)
		why = "rule";
	else if (got.reason != ref->reason)
		why = "reason";
	else if (got.malformed != want_mal)
		why = "malformed flag";
	else if (got.retval != want_act &&
		 /* reject: answered (XDP_TX, or TC redirect) unless it must not be */
		 !(ref->verdict == XW_REJECT && got.retval == (hook == H_XDP ? XW_XDP_TX : XW_TC_ACT_REDIRECT)))
		why = "program action";
	else if (got.seen_len != len)
		why = "frame length seen";
	if (why)
		report(s, src, pkt, len, hook, ref, &got, why);
}

static void check(const struct rset *s, const struct pkt_src *src, const uint8_t *pkt,
		  size_t len, struct set_stats *st)
{
	struct xw_ref_result ref[2];
	size_t before = tot.mismatches;

	for (int d = 0; d < 2; d++)
		if (xw_ref_classify(s->rs.rules, s->rs.n, s->rs.policy, pkt, len,
				    d ? XW_DIR_OUT : XW_DIR_IN, lo_ifindex, s->rif, &ref[d]))
			die("%s: the reference refuses the rule set (ct/limit)", s->name);
	st->packets++;
	tot.packets++;
	if (src->o == O_CORPUS) {
		st->corpus++;
		tot.corpus++;
	} else if (src->o == O_CORPUS_MUT) {
		tot.mutated++;
	} else {
		tot.random++;
	}
	if (len < 14)
		tot.shorts++;
	if (len > max_run) {
		st->not_runnable++;
		tot.not_runnable++;
	}
	check_hook(s, src, pkt, len, H_XDP, &ref[0]);
	check_hook(s, src, pkt, len, H_TC_IN, &ref[0]);
	check_hook(s, src, pkt, len, H_TC_OUT, &ref[1]);
	if (ref[0].malformed)
		tot.malformed++;
	if (ref[0].prio != XW_PRIO_NONE || ref[1].prio != XW_PRIO_NONE) {
		st->hits++;
		tot.rule_hits++;
	}
	st->mismatches += tot.mismatches - before;
}

/* Mutate a corpus frame: cut it, or change header bytes. */
static size_t mutate_frame(struct xw_rng *r, const struct frame *f, uint8_t *buf)
{
	size_t len = f->len;

	memcpy(buf, f->b, len);
	switch (xw_rng_below(r, 3)) {
	case 0:
		if (len)
			len = xw_rng_below(r, (uint32_t)len);
		break;
	case 1: {
		unsigned n = xw_rng_range(r, 1, 3);

		for (unsigned i = 0; i < n && len; i++) {
			size_t span = len < 80 ? len : 80;

			buf[xw_rng_below(r, (uint32_t)span)] ^= (uint8_t)(1u << xw_rng_below(r, 8));
		}
		break;
	}
	default:
		if (len > 14)
			len = 14 + xw_rng_below(r, (uint32_t)(len - 14 < 80 ? len - 14 : 80));
		break;
	}
	return len;
}

/* ---- one rule set ---- */

static uint8_t pktbuf[BUF_MAX];

static void run_set(struct rset *s, size_t n_random, int with_corpus)
{
	struct set_stats st = { 0 };
	struct xw_rng r;
	double t0 = now_s();

	rset_load(s);
	tot.sets++;
	xw_rng_seed(&r, s->seed ^ 0xa5a5a5a5a5a5a5a5ull);
	for (size_t i = 0; i < n_random; i++) {
		struct pkt_src src = { O_RANDOM, i };
		size_t len = xw_pktgen(&r, pktbuf, sizeof(pktbuf));

		check(s, &src, pktbuf, len, &st);
	}
	if (with_corpus) {
		for (size_t i = 0; i < corpus.n; i++) {
			struct pkt_src src = { O_CORPUS, i };

			check(s, &src, corpus.f[i].b, corpus.f[i].len, &st);
			if (xw_rng_chance(&r, 25)) {
				struct pkt_src m = { O_CORPUS_MUT, i };
				size_t len = mutate_frame(&r, &corpus.f[i], pktbuf);

				check(s, &m, pktbuf, len, &st);
			}
		}
	}
	if (!opt_quiet) {
		printf("%-22s rules=%-5zu tuples=%-4u packets=%-6zu corpus=%-6zu hits=%-6zu "
		       "not-runnable=%zu mismatches=%zu  (%.2fs)\n",
		       s->name, s->rs.n, s->tuples, st.packets, st.corpus, st.hits, st.not_runnable,
		       st.mismatches, now_s() - t0);
		fflush(stdout);
	}
	rset_free(s);
}

/* Largest frame a hook's program sees whole under BPF_PROG_TEST_RUN.
 * test_run refuses frames above some size; on kernels with XDP multi-buffer
 * it takes bigger ones for XDP but puts all beyond the linear part (PAGE_SIZE
 * minus headroom and tailroom) into fragments, which a program without frags
 * support never sees (nor could such a frame reach it on a real device). */
static size_t probe_max_run(int hook)
{
	size_t lo = 14, hi = BUF_MAX, accepted, big;
	struct xw_test_result res;

	memset(pktbuf, 0, sizeof(pktbuf));
	pktbuf[12] = 0x88;           /* EtherType 0x88b5 (local experimental) */
	pktbuf[13] = 0xb5;
	if (run_hook(hook, pktbuf, lo, &res))
		die("%s: BPF_PROG_TEST_RUN refuses a 14-byte frame", hook_name[hook]);
	if (res.seen_len != lo)
		die("%s: the program saw %u bytes of a 14-byte frame", hook_name[hook], res.seen_len);
	if (!run_hook(hook, pktbuf, hi, &res)) {
		accepted = hi;
	} else {
		while (hi - lo > 1) {
			size_t mid = lo + (hi - lo) / 2;

			if (run_hook(hook, pktbuf, mid, &res))
				hi = mid;
			else
				lo = mid;
		}
		accepted = lo;
	}
	big = accepted < 16384 ? accepted : 16384;
	if (run_hook(hook, pktbuf, big, &res))
		die("%s: BPF_PROG_TEST_RUN refuses a %zu-byte frame it took before", hook_name[hook],
		    big);
	if (res.seen_len == big)
		return accepted;
	{
		size_t seen = res.seen_len;

		if (seen < 14 || seen > big)
			die("%s: the program saw %zu bytes of a %zu-byte frame", hook_name[hook], seen,
			    big);
		/* check the edge: `seen` bytes are seen whole, one more is not */
		if (run_hook(hook, pktbuf, seen, &res) || res.seen_len != seen ||
		    run_hook(hook, pktbuf, seen + 1, &res) || res.seen_len != seen)
			die("%s: cannot determine the linear frame size of BPF_PROG_TEST_RUN (%zu?)",
			    hook_name[hook], seen);
		return seen;
	}
}

/* The tcpdump corpus beside the repository: ROOT/../shared/corpus/tcpdump,
 * ROOT being two directories above this binary (ROOT/build/diff). */
static const char *default_corpus(void)
{
	static char path[8192];
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	const char *env = getenv("XW_CORPUS");

	if (env && *env)
		return env;
	if (n <= 0)
		die("cannot find this program's path (/proc/self/exe): give the corpus with -c DIR");
	exe[n] = 0;
	for (int up = 0; up < 3; up++) {    /* difftest, diff, build */
		slash = strrchr(exe, '/');
		if (!slash)
			die("cannot find the repository from %s: give the corpus with -c DIR", exe);
		*slash = 0;
	}
	snprintf(path, sizeof(path), "%s/%s", exe[0] ? exe : "/", CORPUS_REL);
	return path;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: difftest [-s SEED] [-n PACKETS_PER_SET] [-r ROUNDS] [-c CORPUS_DIR] [-q]\n"
		   "  without -s a fresh random seed is taken and printed; the corpus defaults\n"
		   "  to $XW_CORPUS, else ROOT/" CORPUS_REL "\n");
}

int main(int argc, char **argv)
{
	struct xw_err err = { { 0 } };
	struct xw_rng meta;
	double t0 = now_s();
	int opt, k = 0;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	opt_seed = mix64((uint64_t)ts.tv_sec ^ ((uint64_t)ts.tv_nsec << 20) ^
			 ((uint64_t)getpid() << 40));

	while ((opt = getopt(argc, argv, "s:n:r:c:qh")) != -1) {
		char *e;

		switch (opt) {
		case 's':
			if (strcmp(optarg, "random")) {     /* "random": the default */
				errno = 0;
				opt_seed = strtoull(optarg, &e, 0);
				if (errno || *e || e == optarg) {
					usage(stderr);
					return 1;
				}
			}
			break;
		case 'n':
			errno = 0;
			opt_per_set = strtoull(optarg, &e, 0);
			if (errno || *e || e == optarg) {
				usage(stderr);
				return 1;
			}
			break;
		case 'r':
			errno = 0;
			opt_rounds = (unsigned)strtoul(optarg, &e, 0);
			if (errno || *e || e == optarg) {
				usage(stderr);
				return 1;
			}
			break;
		case 'c':
			opt_corpus = optarg;
			break;
		case 'q':
			opt_quiet = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!opt_corpus)
		opt_corpus = default_corpus();
	printf("difftest: seed 0x%" PRIx64 " (reproduce with -s 0x%" PRIx64 "), corpus %s\n",
	       opt_seed, opt_seed, opt_corpus);

	xw_dp_init(&dp);
	if (xw_dp_load_private(&dp, &err))
		die("load a private datapath: %s", err.msg);
	lo_ifindex = if_nametoindex("lo");
	if (!lo_ifindex)
		lo_ifindex = 1;
	max_run = BUF_MAX;
	probing = 1;
	for (int h = 0; h < H_MAX; h++) {
		struct xw_test_result res;

		/* frames shorter than an Ethernet header: run them if the
		 * kernel lets us (6.18 refuses them on every hook), else report
		 * them unchecked */
		memset(pktbuf, 0, 14);
		short_runs[h] = run_hook(h, pktbuf, 13, &res) == 0 && run_hook(h, pktbuf, 0, &res) == 0;
		max_run_hook[h] = probe_max_run(h);
		if (max_run_hook[h] < max_run)
			max_run = max_run_hook[h];
	}
	probing = 0;
	corpus_load();
	printf("difftest: %zu random packets per set, largest runnable frame %zu bytes (XDP %zu, "
	       "TC ingress %zu, TC egress %zu)\n", opt_per_set, max_run, max_run_hook[H_XDP],
	       max_run_hook[H_TC_IN], max_run_hook[H_TC_OUT]);
	printf("corpus: %zu pcaps, %zu Ethernet read (%zu packets, %zu bytes), %zu skipped "
	       "(link type not Ethernet), %zu unreadable, %zu with read errors\n",
	       corpus.total_files, corpus.nfiles, corpus.n, corpus.bytes, corpus.skipped_dlt,
	       corpus.unreadable, corpus.read_errors);

	xw_rng_seed(&meta, opt_seed);

#define NEW_SET(s, fmt, ...)                                                     \
	do {                                                                     \
		memset(&(s), 0, sizeof(s));                                      \
		snprintf((s).name, sizeof((s).name), fmt, __VA_ARGS__);          \
		(s).seed = mix64(opt_seed ^ mix64((uint64_t)++k));               \
	} while (0)

	/* 1. hand-written sets: every match kind */
	{
		static const struct { const char *name, *text; int corpus; } hand[] = {
			{ "hand-kinds-a", hand_a, 1 }, { "hand-kinds-b", hand_b, 1 },
			{ "hand-catch-all", hand_c, 0 }, { "hand-empty", hand_d, 0 },
			{ "hand-out-only", hand_e, 0 },
		};

		for (size_t i = 0; i < sizeof(hand) / sizeof(hand[0]); i++) {
			struct rset s;

			NEW_SET(s, "%s", hand[i].name);
			s.text = strdup(hand[i].text);
			run_set(&s, opt_per_set, hand[i].corpus);
		}
	}

	/* 1b. iif: a rule on another interface never matches a test run (which
	 *     comes in on lo); one on lo matches everything it otherwise would */
	{
		struct if_nameindex *ifs = if_nameindex();
		const char *other = NULL;

		for (struct if_nameindex *i = ifs; i && i->if_index; i++)
			if (i->if_index != lo_ifindex && strlen(i->if_name) < IF_NAMESIZE) {
				other = i->if_name;
				break;
			}
		if (other) {
			struct sbuf b = { 0 };
			struct rset s;

			sb_printf(&b, "policy drop\nrule 1 iif %s drop\nrule 2 in iif %s tcp pass\n"
				  "rule 3 iif lo udp pass\nrule 4 iif %s log pass\nrule 5 iif lo ip6 pass\n"
				  "rule 6 out iif lo drop\n", other, other, other);
			NEW_SET(s, "hand-iif-%s", other);
			s.text = b.s;
			run_set(&s, opt_per_set, 0);
		}
		if (ifs)
			if_freenameindex(ifs);
	}

	/* 2. random sets of many sizes, in and in+out, plus random sizes, for
	 *    several rounds of seeds */
	for (unsigned round = 0; round < opt_rounds; round++) {
		static const size_t sizes[] = { 1, 2, 5, 10, 30, 100, 300, 1000, 3000, 10000 };
		const size_t ns = sizeof(sizes) / sizeof(sizes[0]);
		int dirs = round % 2 ? 2 : 1;
		size_t extra[3];

		for (int i = 0; i < 3; i++)
			extra[i] = xw_rng_range(&meta, 1, 10000);
		for (size_t i = 0; i < ns + 3; i++) {
			size_t n = i < ns ? sizes[i] : extra[i - ns];
			struct xw_rng r;
			struct rset s;

			NEW_SET(s, "random-%zu%s-r%u", n, dirs == 2 ? "-inout" : "", round);
			xw_rng_seed(&r, s.seed);
			s.text = xw_rulegen(&r, n, dirs);
			/* the corpus against a mid-size and the largest random set */
			run_set(&s, n >= 3000 ? opt_per_set / 2 : opt_per_set,
				round == 0 && (n == 1000 || n == 10000));
		}
	}

	/* 2b. range-heavy, prefix-diverse sets (beyond 1,024 masks in a tuple
	 *     space; one rule entry per rule in the trees) */
	{
		static const size_t rn[] = { 1, 10, 100, 1000, 10000 };

		for (size_t i = 0; i < sizeof(rn) / sizeof(rn[0]); i++) {
			struct xw_rng r;
			struct rset s;

			NEW_SET(s, "ranges-%zu", rn[i]);
			xw_rng_seed(&r, s.seed);
			s.text = xw_rulegen_ranges(&r, rn[i]);
			run_set(&s, rn[i] >= 1000 ? opt_per_set / 2 : opt_per_set, 0);
		}
	}

	/* 3. many tuples: several tail-called stages */
	{
		struct xw_rulegen_opts o = { .n_rules = 4000, .dirs = 1, .max_shapes = 1024,
					     .tuple_budget = 2000, .log_pct = 5 };
		struct xw_rng r;
		struct rset s;

		NEW_SET(s, "random-%zu-manytuples", o.n_rules);
		xw_rng_seed(&r, s.seed);
		s.text = xw_rulegen_ex(&r, &o, NULL);
		run_set(&s, opt_per_set, 0);
	}

	/* 3b. exactly XW_MAX_TUPLES (1024) masks: src /1../32 x dst /1../32 */
	{
		struct sbuf b = { 0 };
		struct xw_rng r;
		struct rset s;
		uint32_t prio[1024];

		NEW_SET(s, "maxtuples-%u", 1024u);
		xw_rng_seed(&r, s.seed);
		for (uint32_t i = 0; i < 1024; i++)
			prio[i] = i * 100 + 1 + xw_rng_below(&r, 100);
		for (uint32_t i = 1024; i > 1; i--) {
			uint32_t j = xw_rng_below(&r, i), t = prio[i - 1];

			prio[i - 1] = prio[j];
			prio[j] = t;
		}
		if (xw_rng_chance(&r, 50))
			sb_printf(&b, "policy drop\n");
		for (unsigned pl = 1; pl <= 32; pl++) {
			for (unsigned ql = 1; ql <= 32; ql++) {
				uint8_t a[2][4];
				char t[2][INET_ADDRSTRLEN];

				memcpy(a[0], xw_pool_ip4[xw_rng_below(&r, 12)], 4);
				memcpy(a[1], xw_pool_ip4[xw_rng_below(&r, 12)], 4);
				for (int d = 0; d < 2; d++) {
					uint32_t v = (uint32_t)a[d][0] << 24 | a[d][1] << 16 | a[d][2] << 8 | a[d][3];
					unsigned l = d ? ql : pl;

					v &= l == 32 ? 0xffffffffu : ~(0xffffffffu >> l);
					v = htonl(v);
					inet_ntop(AF_INET, &v, t[d], sizeof(t[d]));
				}
				sb_printf(&b, "rule %u src %s/%u dst %s/%u %s\n",
					  prio[(pl - 1) * 32 + ql - 1], t[0], pl, t[1], ql,
					  xw_rng_chance(&r, 50) ? "pass" : "drop");
			}
		}
		s.text = b.s;
		run_set(&s, opt_per_set, 0);
	}

	/* 4. xdp-filter-like sets */
	{
		static const size_t sizes[] = { 10, 10000 };

		for (size_t i = 0; i < 2; i++) {
			struct xw_rng r;
			struct rset s;

			NEW_SET(s, "simple-%zu", sizes[i]);
			xw_rng_seed(&r, s.seed);
			s.text = xw_rulegen_simple(&r, sizes[i]);
			run_set(&s, opt_per_set / 2, 0);
		}
	}

	/* 5. sets built from corpus packets, run against the corpus */
	{
		static const size_t sizes[] = { 200, 200, 50, 400, 300, 100 };

		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			struct xw_rng r;
			struct rset s;

			NEW_SET(s, "corpus-%zu-%zu", sizes[i], i);
			xw_rng_seed(&r, s.seed);
			s.text = corpus_rules(&r, sizes[i]);
			run_set(&s, i == 0 ? opt_per_set : opt_per_set / 4, 1);
		}
	}

	/* top up: at least MIN_RANDOM random packets per run */
	while (tot.random < MIN_RANDOM) {
		struct xw_rng r;
		struct rset s;
		size_t n = xw_rng_range(&meta, 1, 2000);

		NEW_SET(s, "random-%zu-topup", n);
		xw_rng_seed(&r, s.seed);
		s.text = xw_rulegen(&r, n, 2);
		size_t chunk = opt_per_set > DEF_PER_SET ? opt_per_set : DEF_PER_SET;

		run_set(&s, MIN_RANDOM - tot.random < chunk ? MIN_RANDOM - tot.random : chunk, 0);
	}
#undef NEW_SET

	printf("difftest: %zu rule sets, %zu packets (%zu corpus, %zu random, %zu mutated corpus; "
	       "%zu short, %zu malformed, %zu rule hits), %zu mismatches, %zu not runnable "
	       "(%.1fs)\n",
	       tot.sets, tot.packets, tot.corpus, tot.random, tot.mutated, tot.shorts, tot.malformed,
	       tot.rule_hits, tot.mismatches, tot.not_runnable, now_s() - t0);
	for (int h = 0; h < H_MAX; h++)
		printf("difftest: %-10s %zu runs, %zu frames not runnable: %zu longer than %zu bytes, "
		       "%zu shorter than 14 bytes%s, %zu other malformed frames refused by "
		       "BPF_PROG_TEST_RUN\n", hook_name[h], tot.runs[h],
		       tot.skipped[h] + tot.refused[h], tot.skipped[h] - tot.short_refused[h],
		       max_run_hook[h], tot.short_refused[h],
		       short_runs[h] ? "" : " (this kernel's BPF_PROG_TEST_RUN refuses them: unchecked)",
		       tot.refused[h]);
	printf("difftest: %zu rule sets had an exact tier (%zu entries looked up by hash)\n",
	       tot.xsets, tot.xentries);
	printf("difftest: seed 0x%" PRIx64 "\n", opt_seed);
	printf("difftest: %zu rule sets, %zu packets (%zu corpus), %zu mismatches, %zu not runnable\n",
	       tot.sets, tot.packets, tot.corpus, tot.mismatches, tot.not_runnable);
	corpus_free();
	xw_dp_close(&dp);
	/* two thirds of the sets send every shape they can to the hash: none
	 * would mean the tier went untested */
	if (!tot.xsets) {
		printf("difftest: FAIL: no rule set used the exact tier\n");
		return 1;
	}
	return tot.mismatches ? 1 : 0;
}
