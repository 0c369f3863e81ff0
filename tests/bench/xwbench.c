// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* `make bench`: what xwall costs per packet and per apply, next to
 * xdp-filter, a trivial XDP_DROP program, iptables-restore and nft.
 *
 *   xwbench pkt     per-packet cost through BPF_PROG_TEST_RUN
 *   xwbench ct      the same with connection tracking on (established and
 *                   new flows) next to the stateless cost, flow insert rate
 *   xwbench apply   time to install N rules
 *   xwbench cb      ClassBench sets prepared by scripts/bench.sh (XWB_CB_DIR,
 *                   XWB_CB_SETS, XWB_CB_PKTS, XWB_CB_REPEAT, XWB_CB_DATA, XWALL)
 *   xwbench all     pkt, ct and apply (default; bench.sh runs cb after them)
 *   xwbench version the libbpf it runs with
 *
 * Environment: XWB_REPEAT (test-run repeat, default 200000), XWB_TRIALS
 * (default 3; the median is used), XWB_APPLY_RUNS (default 3, median),
 * XWB_XDPFILT_OBJ (xdp-filter's BPF object), XWB_MAX_RULES (largest rule
 * count, default 100000, for quick runs), XWB_CT_BATCH (frames of the
 * one-call-per-flow conntrack rows, default 20000), XWB_CT_INSERTS (flows
 * per insert-rate phase, default 100000), XWB_PLOT_DATA (file for the
 * per-packet table's numbers, for scripts/bench-plot.gp).
 *
 * Per-packet numbers are the kernel's `duration` of BPF_PROG_TEST_RUN: the
 * mean ns of one run of the program over `repeat` runs of the same frame, so
 * caches are warm; it measures instructions and map lookups, not memory
 * misses of a big table under real traffic.  All programs run unattached:
 * xwall as a private instance, xdp-filter as its own BPF object
 * (xdpfilt_alw_all.o of xdp-tools, what `xdp-filter load` attaches by
 * default) loaded with libbpf, unpinned, its maps filled the way `xdp-filter
 * ip|port` fills them.  iptables-restore and nft run in throw-away network
 * namespaces.  Progress goes to stderr, the tables to stdout. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/wait.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <inttypes.h>

#include "compile.h"
#include "datapath.h"
#include "pktbuild.h"
#include "tree.h"
#include "rule.h"
#include "refclass.h"
#include "rulegen.h"

#define NPKT 16
#define SEED 0x5eedbe7c4ull

static unsigned g_repeat = 200000, g_trials = 3;
static unsigned g_apply_runs = 3;
static size_t g_max_rules = 100000;
static const char *g_xdpfilt_obj;
static char g_tmpdir[64];

static void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void progress(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "xwbench: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "xwbench: error: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int libbpf_silent(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	if (lvl == LIBBPF_WARN && getenv("XW_DEBUG"))
		return vfprintf(stderr, fmt, ap);
	return 0;
}


/* What the datapath did for one frame (modelled by trees_probed()). */
struct probe {
	unsigned probes;       /* exact-tier hash probes */
	unsigned trees;        /* trees walked */
	unsigned nodes;        /* node reads, leaves included */
	unsigned entries;      /* leaf entries read */
};

/* every xwall frame measured: (probes, trees, nodes, entries, ns) */
#define MAX_SAMPLES 256
#define NREG 4
static double g_smp[MAX_SAMPLES][NREG + 1];
static int g_nsmp;

static void add_sample(const struct probe *pr, double ns)
{
	if (g_nsmp < MAX_SAMPLES) {
		g_smp[g_nsmp][0] = pr->probes;
		g_smp[g_nsmp][1] = pr->trees;
		g_smp[g_nsmp][2] = pr->nodes;
		g_smp[g_nsmp][3] = pr->entries;
		g_smp[g_nsmp][NREG] = ns;
		g_nsmp++;
	}
}

static double dabs(double x)
{
	return x < 0 ? -x : x;
}

/* Solve a x = b (n x n) by Gaussian elimination with partial pivoting; a
 * term no sample has (a zero pivot) gets coefficient 0.  Returns the terms
 * solved. */
static int solve(double a[NREG][NREG], double b[NREG], double x[NREG])
{
	int used[NREG] = { 0 }, n = 0;

	for (int col = 0; col < NREG; col++) {
		int p = -1;

		for (int r = 0; r < NREG; r++)
			if (!used[r] && (p < 0 || dabs(a[r][col]) > dabs(a[p][col])))
				p = r;
		if (p < 0 || dabs(a[p][col]) < 1e-9)
			continue;
		used[p] = col + 1;
		n++;
		for (int r = 0; r < NREG; r++) {
			double f;

			if (r == p || dabs(a[r][col]) < 1e-300)
				continue;
			f = a[r][col] / a[p][col];
			for (int q = 0; q < NREG; q++)
				a[r][q] -= f * a[p][q];
			b[r] -= f * b[p];
		}
	}
	for (int q = 0; q < NREG; q++)
		x[q] = 0;
	for (int r = 0; r < NREG; r++)
		if (used[r])
			x[used[r] - 1] = b[r] / a[r][used[r] - 1];
	return n;
}

/* Least squares ns - c0 = c[1] * probes + c[2] * trees + c[3] * nodes +
 * c[4] * entries, with c0 (the fixed cost) measured on the empty rule set,
 * by the normal equations.  Returns R^2, or -1 if there are too few
 * samples. */
static double fit_samples(double c0, double c[NREG + 1])
{
	double a[NREG][NREG] = { { 0 } }, b[NREG] = { 0 }, mean = 0, ss = 0, sr = 0;

	for (int i = 0; i < g_nsmp; i++) {
		double z = g_smp[i][NREG] - c0;

		for (int r = 0; r < NREG; r++) {
			for (int q = 0; q < NREG; q++)
				a[r][q] += g_smp[i][r] * g_smp[i][q];
			b[r] += g_smp[i][r] * z;
		}
		mean += g_smp[i][NREG];
	}
	if (g_nsmp <= NREG || !solve(a, b, c + 1))
		return -1;
	c[0] = c0;
	mean /= g_nsmp;
	for (int i = 0; i < g_nsmp; i++) {
		double e = g_smp[i][NREG] - c[0];

		for (int r = 0; r < NREG; r++)
			e -= c[r + 1] * g_smp[i][r];
		ss += (g_smp[i][NREG] - mean) * (g_smp[i][NREG] - mean);
		sr += e * e;
	}
	return ss > 0 ? 1 - sr / ss : -1;
}

/* ------------------------------------------------------------------ rules */

enum kind { K_SRC4, K_DST4, K_SRC6, K_DST6, K_TCP_DPORT, K_UDP_SPORT, K_OTHER, K_N };

static enum kind rule_kind(const struct xw_rule *r)
{
	if (r->present & XM_SRC && r->n_src == 1)
		return r->src[0].family == 4 ? K_SRC4 : K_SRC6;
	if (r->present & XM_DST && r->n_dst == 1)
		return r->dst[0].family == 4 ? K_DST4 : K_DST6;
	if (r->present & XM_DPORT && r->proto == IPPROTO_TCP && r->n_dport == 1)
		return K_TCP_DPORT;
	if (r->present & XM_SPORT && r->proto == IPPROTO_UDP && r->n_sport == 1)
		return K_UDP_SPORT;
	return K_OTHER;
}

/* What the packet mix needs to know about a simple rule set. */
struct setinfo {
	const struct xw_rule *last[K_N];   /* highest priority number per kind */
	size_t count[K_N];
	uint8_t tcp_dport[65536], udp_sport[65536];
	/* near misses: inside the rules' address space (10.0.0.0/8 and
	 * 2001:db8::/96) but in no rule, so the walk goes down to a leaf and
	 * compares its entries rather than stopping at an empty child */
	uint8_t miss4[2][4], miss6[2][16];
};

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int has_u32(const uint32_t *v, size_t n, uint32_t x)
{
	return n && bsearch(&x, v, n, sizeof(*v), cmp_u32) != NULL;
}

static void set_info(const struct xw_ruleset *rs, struct setinfo *si)
{
	static const uint8_t db8[12] = { 0x20, 0x01, 0x0d, 0xb8 };
	uint32_t *a4 = calloc(rs->n + 1, sizeof(uint32_t)), *a6 = calloc(rs->n + 1, sizeof(uint32_t));
	size_t n4 = 0, n6 = 0;
	uint32_t c4 = 0x0afffffeu, c6 = 0xfffffffeu;

	if (!a4 || !a6)
		die("out of memory");
	memset(si, 0, sizeof(*si));
	for (size_t i = 0; i < rs->n; i++) {
		const struct xw_rule *r = &rs->rules[i];
		enum kind k = rule_kind(r);
		const uint8_t *ad = NULL;

		si->last[k] = r;
		si->count[k]++;
		if (k == K_TCP_DPORT)
			si->tcp_dport[r->dport[0].lo] = 1;
		if (k == K_UDP_SPORT)
			si->udp_sport[r->sport[0].lo] = 1;
		if (k == K_SRC4 || k == K_SRC6)
			ad = r->src[0].addr;
		if (k == K_DST4 || k == K_DST6)
			ad = r->dst[0].addr;
		if (k == K_SRC4 || k == K_DST4)
			a4[n4++] = (uint32_t)ad[0] << 24 | ad[1] << 16 | ad[2] << 8 | ad[3];
		if ((k == K_SRC6 || k == K_DST6) && !memcmp(ad, db8, 12))
			a6[n6++] = (uint32_t)ad[12] << 24 | ad[13] << 16 | ad[14] << 8 | ad[15];
	}
	qsort(a4, n4, sizeof(*a4), cmp_u32);
	qsort(a6, n6, sizeof(*a6), cmp_u32);
	for (int j = 0; j < 2; j++, c4--, c6--) {
		while (has_u32(a4, n4, c4))
			c4--;
		while (has_u32(a6, n6, c6))
			c6--;
		for (int b = 0; b < 4; b++)
			si->miss4[j][b] = (uint8_t)(c4 >> (24 - 8 * b));
		memcpy(si->miss6[j], db8, 12);
		for (int b = 0; b < 4; b++)
			si->miss6[j][12 + b] = (uint8_t)(c6 >> (24 - 8 * b));
	}
	free(a4);
	free(a6);
}

static int parse_rules(const char *text, struct xw_ruleset *rs)
{
	struct xw_err err;

	if (xw_parse_text(text, strlen(text), "<bench>", rs, &err)) {
		fprintf(stderr, "xwbench: parse: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static char *gen_simple(size_t n, uint64_t seed)
{
	struct xw_rng rng;
	char *t;

	xw_rng_seed(&rng, seed);
	t = xw_rulegen_simple(&rng, n);
	if (!t)
		die("out of memory generating rules");
	return t;
}

static char *gen_general(size_t n, uint64_t seed)
{
	struct xw_rng rng;
	char *t;

	xw_rng_seed(&rng, seed);
	t = xw_rulegen(&rng, n, 1);
	if (!t)
		die("out of memory generating rules");
	return t;
}

/* The trees the compiler makes of rs (as apply does, slot i for rule i). */
static void compiled_stats(const struct xw_ruleset *rs, struct xw_tcompiled *c)
{
	uint32_t *slots = calloc(rs->n + 1, sizeof(*slots));
	struct xw_err err;

	if (!slots)
		die("out of memory");
	for (size_t i = 0; i < rs->n; i++)
		slots[i] = (uint32_t)i;
	if (xw_compile_tree(rs, slots, NULL, c, &err))
		die("compile: %s", err.msg);
	free(slots);
}

/* The datapath's lookup as xw_tree_lookup models it (xdp/xw_classify.h):
 * the exact shapes' probes, then the trees that can still beat the match in
 * hand.  Returns the priority found, for a check against the datapath's. */
static uint32_t trees_probed(const struct xw_tcompiled *c, const struct xw_key *k,
			     struct probe *pr)
{
	struct xw_walk w = { 0 };
	int hit = xw_tree_lookup(c->tree, k, &w);

	pr->probes = w.probes;
	pr->trees = w.trees;
	pr->nodes = w.nodes;
	pr->entries = w.entries;
	return hit < 0 ? XW_PRIO_NONE : c->tree->rents[hit].prio;
}

/* The key xwall parsed from the last frame it ran on this CPU. */
static void last_key(struct xw_dp *dp, struct xw_key *k)
{
	int ncpu = libbpf_num_possible_cpus(), cpu = sched_getcpu();
	size_t sz = (sizeof(struct xw_scratch) + 7) / 8 * 8;
	uint8_t *v = calloc((size_t)(ncpu > 0 ? ncpu : 1), sz);
	__u32 idx = XW_DIR_IN;

	if (!v || cpu < 0 || cpu >= ncpu)
		die("read scratch: out of memory or no CPU");
	if (bpf_map_lookup_elem(dp->map_fd[XW_M_SCRATCH], &idx, v))
		die("read scratch: %s", strerror(errno));
	memcpy(k, &((struct xw_scratch *)(v + (size_t)cpu * sz))->key, sizeof(*k));
	free(v);
}

/* ---------------------------------------------------------------- packets */

struct pkt {
	uint8_t b[160];
	uint32_t len;
	char name[48];
	uint32_t want_prio;   /* rule it should match, XW_PRIO_NONE: none */
};

struct pspec {
	const char *name;
	int v6;
	uint16_t vlan;        /* 0: untagged */
	uint8_t proto;
	uint8_t tcp_flags;
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	int frag;             /* 1: first fragment (MF), 2: later fragment */
};

#define PAYLOAD 18

/* The frame of s in the builder's plain encoding (variant 0: one VLAN tag at
 * most, no IP options or extension headers but a fragment header, no
 * padding), PAYLOAD bytes after the transport header; ICMP is an echo request. */
static void build_pkt(const struct pspec *s, struct pkt *out)
{
	static const uint8_t mac_d[6] = { 0x02, 0, 0, 0, 0, 1 }, mac_s[6] = { 0x02, 0, 0, 0, 0, 2 };
	uint8_t buf[XW_PB_MAX + PAYLOAD];
	struct xw_pb_spec b;
	size_t len;

	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", s->name);
	out->want_prio = XW_PRIO_NONE;
	memset(&b, 0, sizeof(b));
	memcpy(b.eth_dst, mac_d, 6);
	memcpy(b.eth_src, mac_s, 6);
	b.vlan = s->vlan ? s->vlan : -1;
	b.eth_type = s->v6 ? 0x86DD : 0x0800;
	b.l3 = s->v6 ? XW_PB_L3_V6 : XW_PB_L3_V4;
	memcpy(b.src, s->src, sizeof(b.src));
	memcpy(b.dst, s->dst, sizeof(b.dst));
	b.proto = s->proto;
	b.mf = s->frag == 1;
	b.later = s->frag == 2;
	b.l4 = 1;
	b.sport = s->sport;
	b.dport = s->dport;
	b.tcp_flags = s->tcp_flags;
	b.icmp_type = s->proto == IPPROTO_ICMPV6 ? 128 : 8;
	b.payload = PAYLOAD;
	len = xw_pb_build(&b, buf, sizeof(buf));
	if (!len || len > sizeof(out->b))
		die("cannot build frame '%s'", s->name);
	memcpy(out->b, buf, len);
	out->len = (uint32_t)len;
}

static uint16_t free_port(const struct setinfo *si, uint16_t from)
{
	uint16_t p = from;

	while (si->tcp_dport[p] || si->udp_sport[p])
		p++;
	return p;
}

/* The 16 measured frames: ten that match no rule (every tree walked, every
 * xdp-filter lookup done) and six that match the last rule of each kind;
 * addresses and ports they do not match on are near misses (see setinfo). */
static void build_mix(const struct setinfo *si, struct pkt *pk)
{
	uint16_t pa = free_port(si, 40000), pb = free_port(si, (uint16_t)(pa + 1));
	uint16_t pc = free_port(si, (uint16_t)(pb + 1));
	struct pspec s[NPKT];
	const struct xw_rule *r;
	int i;

	memset(s, 0, sizeof(s));
	for (i = 0; i < NPKT; i++) {
		s[i].v6 = 0;
		memcpy(s[i].src, si->miss4[0], 4);
		memcpy(s[i].dst, si->miss4[1], 4);
		s[i].proto = IPPROTO_TCP;
		s[i].tcp_flags = 0x10;
		s[i].sport = pa;
		s[i].dport = pb;
	}
#define V6(i) do { s[i].v6 = 1; memcpy(s[i].src, si->miss6[0], 16); memcpy(s[i].dst, si->miss6[1], 16); } while (0)
	s[0].name = "v4 tcp ack, no match";
	s[1].name = "v4 udp, no match";       s[1].proto = IPPROTO_UDP;
	s[2].name = "v4 icmp echo, no match"; s[2].proto = IPPROTO_ICMP;
	s[3].name = "v6 tcp ack, no match";   V6(3);
	s[4].name = "v6 udp, no match";       V6(4); s[4].proto = IPPROTO_UDP;
	s[5].name = "v6 icmpv6 echo, no match"; V6(5); s[5].proto = IPPROTO_ICMPV6;
	s[6].name = "vlan v4 tcp, no match";  s[6].vlan = 100;
	s[7].name = "v4 udp later frag, no match"; s[7].proto = IPPROTO_UDP; s[7].frag = 2;
	s[8].name = "v4 tcp syn, no match";   s[8].tcp_flags = 0x02; s[8].dport = pc;
	s[9].name = "v6 udp first frag, no match"; V6(9); s[9].proto = IPPROTO_UDP; s[9].frag = 1;
	s[10].name = "v4 tcp, last src4 rule";
	s[11].name = "v4 udp, last dst4 rule"; s[11].proto = IPPROTO_UDP;
	s[12].name = "v6 tcp, last src6 rule"; V6(12);
	s[13].name = "v6 udp, last dst6 rule"; V6(13); s[13].proto = IPPROTO_UDP;
	s[14].name = "v4 tcp, last tcp dport rule";
	s[15].name = "v6 udp, last udp sport rule"; V6(15); s[15].proto = IPPROTO_UDP;
#undef V6
	if ((r = si->last[K_SRC4]))
		memcpy(s[10].src, r->src[0].addr, 4);
	if ((r = si->last[K_DST4]))
		memcpy(s[11].dst, r->dst[0].addr, 4);
	if ((r = si->last[K_SRC6]))
		memcpy(s[12].src, r->src[0].addr, 16);
	if ((r = si->last[K_DST6]))
		memcpy(s[13].dst, r->dst[0].addr, 16);
	if ((r = si->last[K_TCP_DPORT]))
		s[14].dport = r->dport[0].lo;
	if ((r = si->last[K_UDP_SPORT]))
		s[15].sport = r->sport[0].lo;
	for (i = 0; i < NPKT; i++)
		build_pkt(&s[i], &pk[i]);
	{
		static const enum kind k[6] = { K_SRC4, K_DST4, K_SRC6, K_DST6, K_TCP_DPORT, K_UDP_SPORT };

		for (i = 0; i < 6; i++)
			if (si->last[k[i]])
				pk[10 + i].want_prio = si->last[k[i]]->prio;
			else
				snprintf(pk[10 + i].name, sizeof(pk[10 + i].name), "%s (none)",
					 s[10 + i].name);
	}
}

/* ------------------------------------------------------------- programs */

/* `r0 = ret; exit`: what the test-run harness costs around a program. */
static int load_trivial_prog(enum bpf_prog_type type, int ret, const char *name)
{
	struct bpf_insn insns[2];
	int fd;

	memset(insns, 0, sizeof(insns));
	insns[0].code = BPF_ALU64 | BPF_MOV | BPF_K;   /* r0 = ret */
	insns[0].dst_reg = BPF_REG_0;
	insns[0].imm = ret;
	insns[1].code = BPF_JMP | BPF_EXIT;
	fd = bpf_prog_load(type, name, "GPL", insns, 2, NULL);
	if (fd < 0)
		die("load trivial program %s: %s", name, strerror(errno));
	return fd;
}

static int load_drop_prog(void)
{
	return load_trivial_prog(BPF_PROG_TYPE_XDP, XDP_DROP, "xwb_drop");
}

/* xdp-filter's own BPF object (the one `xdp-filter load` attaches with the
 * default features "all" and policy "allow"), loaded unattached and unpinned
 * so it can be test-run directly, without the libxdp dispatcher in front. */
struct xdpfilt {
	struct bpf_object *obj;
	int prog_fd, ports_fd, ip4_fd, ip6_fd;
	uint32_t cap4, cap6;
};

/* xdp-filter/common_kern_user.h */
#define XF_SRC 0x1u
#define XF_DST 0x2u
#define XF_TCP 0x4u
#define XF_UDP 0x8u

static const char *find_xdpfilt_obj(void)
{
	static const char *const cand[] = {
		"/usr/lib/x86_64-linux-gnu/bpf/xdpfilt_alw_all.o",
		"/usr/lib/aarch64-linux-gnu/bpf/xdpfilt_alw_all.o",
		"/usr/lib/bpf/xdpfilt_alw_all.o",
		"/usr/local/lib/bpf/xdpfilt_alw_all.o",
		"/usr/lib64/bpf/xdpfilt_alw_all.o",
	};
	const char *e = getenv("XWB_XDPFILT_OBJ");

	if (e && *e)
		return e;
	for (size_t i = 0; i < sizeof(cand) / sizeof(cand[0]); i++)
		if (access(cand[i], R_OK) == 0)
			return cand[i];
	return NULL;
}

static int xdpfilt_load(struct xdpfilt *x, uint32_t n4, uint32_t n6)
{
	struct bpf_program *prog;
	struct bpf_map *m;
	int rc;

	memset(x, 0, sizeof(*x));
	x->prog_fd = -1;
	x->obj = bpf_object__open_file(g_xdpfilt_obj, NULL);
	if (!x->obj) {
		fprintf(stderr, "xwbench: open %s: %s\n", g_xdpfilt_obj, strerror(errno));
		return -1;
	}
	bpf_object__for_each_map(m, x->obj) {
		const char *nm = bpf_map__name(m);

		bpf_map__set_pin_path(m, NULL);    /* no pins under /sys/fs/bpf */
		/* stock limit is 10000 addresses per family: make room for all */
		if (!strcmp(nm, "filter_ipv4") && n4 > bpf_map__max_entries(m))
			bpf_map__set_max_entries(m, n4);
		if (!strcmp(nm, "filter_ipv6") && n6 > bpf_map__max_entries(m))
			bpf_map__set_max_entries(m, n6);
	}
	rc = bpf_object__load(x->obj);
	if (rc) {
		fprintf(stderr, "xwbench: load %s: %s\n", g_xdpfilt_obj, strerror(-rc));
		bpf_object__close(x->obj);
		x->obj = NULL;
		return -1;
	}
	prog = bpf_object__next_program(x->obj, NULL);
	x->prog_fd = prog ? bpf_program__fd(prog) : -1;
	m = bpf_object__find_map_by_name(x->obj, "filter_ports");
	x->ports_fd = m ? bpf_map__fd(m) : -1;
	m = bpf_object__find_map_by_name(x->obj, "filter_ipv4");
	x->ip4_fd = m ? bpf_map__fd(m) : -1;
	x->cap4 = m ? bpf_map__max_entries(m) : 0;
	m = bpf_object__find_map_by_name(x->obj, "filter_ipv6");
	x->ip6_fd = m ? bpf_map__fd(m) : -1;
	x->cap6 = m ? bpf_map__max_entries(m) : 0;
	if (x->prog_fd < 0 || x->ports_fd < 0 || x->ip4_fd < 0 || x->ip6_fd < 0) {
		fprintf(stderr, "xwbench: %s: unexpected program or maps\n", g_xdpfilt_obj);
		bpf_object__close(x->obj);
		x->obj = NULL;
		return -1;
	}
	return 0;
}

static void xdpfilt_close(struct xdpfilt *x)
{
	if (x->obj)
		bpf_object__close(x->obj);
	x->obj = NULL;
}

/* Same as `xdp-filter ip|port`: OR the mode flags into every CPU's value. */
static int xdpfilt_set(int fd, const void *key, uint64_t flags)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t v[ncpu > 0 ? ncpu : 1];

	if (bpf_map_lookup_elem(fd, key, v))
		memset(v, 0, sizeof(v));
	for (int i = 0; i < ncpu; i++)
		v[i] |= flags;
	return bpf_map_update_elem(fd, key, v, BPF_ANY) ? -errno : 0;
}

/* The xdp-filter equivalent of each simple rule:
 *   src A -> ip A --mode src;  dst A -> ip A --mode dst
 *   tcp dport P -> port P --proto tcp --mode dst;  udp sport P -> port P --proto udp --mode src */
static int xdpfilt_fill(struct xdpfilt *x, const struct xw_ruleset *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		const struct xw_rule *r = &rs->rules[i];
		uint32_t port;
		int rc = 0;

		switch (rule_kind(r)) {
		case K_SRC4: rc = xdpfilt_set(x->ip4_fd, r->src[0].addr, XF_SRC); break;
		case K_DST4: rc = xdpfilt_set(x->ip4_fd, r->dst[0].addr, XF_DST); break;
		case K_SRC6: rc = xdpfilt_set(x->ip6_fd, r->src[0].addr, XF_SRC); break;
		case K_DST6: rc = xdpfilt_set(x->ip6_fd, r->dst[0].addr, XF_DST); break;
		case K_TCP_DPORT:
			port = htons(r->dport[0].lo);   /* the map is keyed by the wire value */
			rc = xdpfilt_set(x->ports_fd, &port, XF_TCP | XF_DST);
			break;
		case K_UDP_SPORT:
			port = htons(r->sport[0].lo);
			rc = xdpfilt_set(x->ports_fd, &port, XF_UDP | XF_SRC);
			break;
		default:
			fprintf(stderr, "xwbench: rule %u has no xdp-filter equivalent\n", r->prio);
			return -1;
		}
		if (rc) {
			fprintf(stderr, "xwbench: fill xdp-filter maps: %s\n", strerror(-rc));
			return -1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------ test runs */

struct run {
	double ns;          /* median over trials of the kernel's mean duration */
	uint32_t retval;
};

static int test_run_buf(int fd, const void *data, uint32_t len, unsigned repeat, uint32_t *dur,
			uint32_t *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = data, .data_size_in = len,
		    .repeat = (int)repeat);

	if (bpf_prog_test_run_opts(fd, &o))
		return -errno;
	*dur = o.duration;
	*retval = o.retval;
	return 0;
}

static int test_run(int fd, const struct pkt *p, unsigned repeat, uint32_t *dur, uint32_t *retval)
{
	return test_run_buf(fd, p->b, p->len, repeat, dur, retval);
}

/* g_repeat runs per call, fewer for slow programs (about 40 ms per call),
 * never below 20000. */
static unsigned pick_repeat(uint32_t warm_ns)
{
	unsigned r = g_repeat;

	if (warm_ns && (double)warm_ns * r > 4e7) {
		r = (unsigned)(4e7 / warm_ns);
		if (r < 20000)
			r = 20000;
	}
	return r;
}

/* Measure the frames on nprog programs, trials interleaved so a slow
 * moment of the machine hits all programs alike. */
static void measure(const int *fds, int nprog, const struct pkt *pk, struct run out[][NPKT])
{
	double *d = calloc((size_t)nprog * NPKT * g_trials, sizeof(double));
	unsigned rep[4][NPKT];

	if (!d || nprog > 4)
		die("out of memory");
	/* warm up: JIT'd code, maps and the frame into the caches */
	for (int j = 0; j < nprog; j++)
		for (int i = 0; i < NPKT; i++) {
			uint32_t dur = 0, rv = 0;
			int rc = test_run(fds[j], &pk[i], 2000, &dur, &rv);

			if (rc)
				die("BPF_PROG_TEST_RUN: %s", strerror(-rc));
			rep[j][i] = pick_repeat(dur);
		}
	for (unsigned t = 0; t < g_trials; t++)
		for (int j = 0; j < nprog; j++)
			for (int i = 0; i < NPKT; i++) {
				size_t at = ((size_t)j * NPKT + i) * g_trials + t;
				uint32_t dur = 0, rv = 0;
				int rc = test_run(fds[j], &pk[i], rep[j][i], &dur, &rv);

				if (rc)
					die("BPF_PROG_TEST_RUN: %s", strerror(-rc));
				d[at] = dur;
				out[j][i].retval = rv;
			}
	for (int j = 0; j < nprog; j++)
		for (int i = 0; i < NPKT; i++)
			out[j][i].ns = median(&d[((size_t)j * NPKT + i) * g_trials], g_trials);
	free(d);
}

static double mean_ns(const struct run *r)
{
	double s = 0;

	for (int i = 0; i < NPKT; i++)
		s += r[i].ns;
	return s / NPKT;
}

/* ------------------------------------------------------- per-packet bench */

enum { P_XW, P_XF, P_DROP, P_N };

enum set_kind {
	SET_SIMPLE,       /* xw_rulegen_simple */
	SET_GENERAL,      /* xw_rulegen as generated */
	SET_GENERAL_MISS, /* xw_rulegen minus every rule a measured frame matches */
};

struct row {
	size_t n;              /* rules generated */
	size_t applied;        /* rules applied */
	double ns[P_N];
	unsigned trees;
	size_t entries;
	double walked;         /* mean trees walked per frame */
	double nodes;          /* mean node reads per frame */
	double ents;           /* mean leaf entries read per frame */
	int matched;           /* frames that matched a rule */
	int mismatches;        /* verdicts that differ from the expectation */
	int have_xf;
	size_t xf_n4, xf_n6;   /* addresses in xdp-filter's maps */
};

/* Per-frame detail of one row, for printing. */
struct detail {
	size_t n;
	struct pkt pk[NPKT];
	struct run r[P_N][NPKT];
	struct probe pr[NPKT];
	uint32_t prio[NPKT];
	int verdict[NPKT];
	int have_xf;
};

static const char *xdp_act(uint32_t a)
{
	static const char *const n[] = { "ABORTED", "DROP", "PASS", "TX", "REDIRECT" };

	return a < 5 ? n[a] : "?";
}

/* Simple sets with all six rule kinds, so every row has the same kinds of
 * rules and the rows differ in the number of rules only. */
static char *gen_simple_all_kinds(size_t n, struct xw_ruleset *rs, struct setinfo *si)
{
	for (uint64_t k = 0; k < 1000; k++) {
		char *text = gen_simple(n, SEED + n + k);
		int all = 1;

		xw_ruleset_init(rs);
		if (parse_rules(text, rs))
			die("cannot parse the simple %zu-rule set", n);
		set_info(rs, si);
		for (int j = 0; j < K_OTHER; j++)
			all &= si->count[j] > 0;
		if (all || n < K_OTHER)
			return text;
		xw_ruleset_free(rs);
		free(text);
	}
	die("no simple %zu-rule set with all rule kinds", n);
}

/* Drop the rules that any frame matches (per the reference classifier). */
static size_t remove_matching(struct xw_ruleset *rs, const struct pkt *pk)
{
	struct xw_ref_pkt pp[NPKT];
	size_t w = 0, removed = 0;

	for (int i = 0; i < NPKT; i++)
		xw_ref_parse(pk[i].b, pk[i].len, &pp[i]);
	for (size_t r = 0; r < rs->n; r++) {
		int hit = 0;

		for (int i = 0; i < NPKT && !hit; i++)
			hit = xw_ref_rule_matches(&rs->rules[r], &pp[i], XW_DIR_IN, 1, 0);
		if (hit) {
			xw_rule_free(&rs->rules[r]);
			removed++;
		} else {
			rs->rules[w++] = rs->rules[r];
		}
	}
	rs->n = w;
	return removed;
}

static void bench_row(struct xw_dp *dp, int drop_fd, size_t n, enum set_kind kind,
		      struct row *row, struct detail *det)
{
	struct xw_ruleset rs;
	struct xw_tcompiled c;
	struct setinfo *si = calloc(1, sizeof(*si));
	struct xw_err err;
	struct xdpfilt xf;
	struct pkt pk[NPKT];
	struct run r[P_N][NPKT], tmp[P_N][NPKT];
	int fds[P_N], nprog = 0, xw_i, xf_i = -1, drop_i;
	char *text;

	if (!si)
		die("out of memory");
	memset(row, 0, sizeof(*row));
	memset(r, 0, sizeof(r));
	row->n = n;
	progress("%s rules: %zu%s", kind == SET_SIMPLE ? "simple" : "general", n,
		 kind == SET_GENERAL_MISS ? " (matching rules removed)" : "");
	if (kind == SET_SIMPLE) {
		text = gen_simple_all_kinds(n, &rs, si);
	} else {
		text = gen_general(n, SEED + n);
		xw_ruleset_init(&rs);
		if (parse_rules(text, &rs))
			die("cannot parse the general %zu-rule set", n);
		set_info(&rs, si);
	}
	free(text);
	build_mix(si, pk);
	if (kind == SET_GENERAL_MISS)
		remove_matching(&rs, pk);
	row->applied = rs.n;
	if (xw_dp_apply(dp, &rs, &err))
		die("apply %zu rules: %s", n, err.msg);
	compiled_stats(&rs, &c);
	row->trees = c.tree->head.n_trees;
	row->entries = c.tree->n_rents;

	xw_i = nprog;
	fds[nprog++] = dp->prog_fd[XW_P_XDP];
	if (kind == SET_SIMPLE && g_xdpfilt_obj) {
		size_t n4 = si->count[K_SRC4] + si->count[K_DST4];
		size_t n6 = si->count[K_SRC6] + si->count[K_DST6];

		if (xdpfilt_load(&xf, (uint32_t)n4, (uint32_t)n6) == 0) {
			if (xdpfilt_fill(&xf, &rs) == 0) {
				xf_i = nprog;
				fds[nprog++] = xf.prog_fd;
				row->have_xf = 1;
				row->xf_n4 = n4;
				row->xf_n6 = n6;
			} else {
				xdpfilt_close(&xf);
			}
		}
	}
	drop_i = nprog;
	fds[nprog++] = drop_fd;

	/* xwall's own view of every frame (matched priority), checked against
	 * what the frame was built to hit */
	for (int i = 0; i < NPKT; i++) {
		struct xw_test_result tr;
		struct xw_key key;
		uint32_t want = kind == SET_SIMPLE ? pk[i].want_prio : XW_PRIO_NONE;

		if (xw_dp_test_run(dp, pk[i].b, pk[i].len, &tr, &err))
			die("xwall test run: %s", err.msg);
		det->prio[i] = tr.prio;
		det->verdict[i] = tr.verdict;
		last_key(dp, &key);
		if (trees_probed(&c, &key, &det->pr[i]) != tr.prio) {
			row->mismatches++;
			fprintf(stderr, "xwbench: %zu rules: '%s': the tree model found another rule than %u\n",
				n, pk[i].name, tr.prio);
		}
		row->walked += det->pr[i].trees;
		row->nodes += det->pr[i].nodes;
		row->ents += det->pr[i].entries;
		if (tr.prio != XW_PRIO_NONE)
			row->matched++;
		if (kind != SET_GENERAL && tr.prio != want) {
			row->mismatches++;
			fprintf(stderr, "xwbench: %zu rules: '%s' matched rule %u, expected %u\n", n,
				pk[i].name, tr.prio, want);
		}
	}
	row->walked /= NPKT;
	row->nodes /= NPKT;
	row->ents /= NPKT;

	measure(fds, nprog, pk, tmp);
	memcpy(r[P_XW], tmp[xw_i], sizeof(r[0]));
	memcpy(r[P_DROP], tmp[drop_i], sizeof(r[0]));
	if (xf_i >= 0)
		memcpy(r[P_XF], tmp[xf_i], sizeof(r[0]));
	/* the same action from xwall's program and from xdp-filter (audit
	 * passes; reject answers with XDP_TX, or drops once over its rate) */
	for (int i = 0; i < NPKT; i++) {
		uint32_t want = XW_VERDICT_PASSES(det->verdict[i]) ? XDP_PASS : XDP_DROP;
		int rejected = det->verdict[i] == XW_REJECT && r[P_XW][i].retval == XDP_TX;

		if (r[P_XW][i].retval != want && !rejected) {
			row->mismatches++;
			fprintf(stderr, "xwbench: '%s': xwall returned %s, its verdict says %s\n",
				pk[i].name, xdp_act(r[P_XW][i].retval), xdp_act(want));
		}
		if (xf_i >= 0 && r[P_XF][i].retval != want) {
			row->mismatches++;
			fprintf(stderr, "xwbench: %zu rules: '%s': xdp-filter %s, xwall %s\n", n,
				pk[i].name, xdp_act(r[P_XF][i].retval), xdp_act(want));
		}
	}
	for (int p = 0; p < P_N; p++)
		if (p != P_XF || xf_i >= 0)
			row->ns[p] = mean_ns(r[p]);
	for (int i = 0; i < NPKT; i++)
		add_sample(&det->pr[i], r[P_XW][i].ns);
	det->n = n;
	det->have_xf = xf_i >= 0;
	memcpy(det->pk, pk, sizeof(pk));
	memcpy(det->r, r, sizeof(r));

	if (xf_i >= 0)
		xdpfilt_close(&xf);
	xw_tcompiled_free(&c);
	xw_ruleset_free(&rs);
	free(si);
}

static void print_detail(const struct detail *d, const char *what)
{
	printf("\n== Per-frame detail, %s, %zu rules\n"
	       "   ns/pkt; prb/tree/node/ent = xwall exact-tier probes, trees walked, node reads\n"
	       "   (leaves included) and leaf entries read; D/P/A/R = drop/pass/audit/reject\n\n",
	       what, d->n);
	printf("  %-36s | %-14s | %17s | %6s | %10s | %8s\n", "frame", "xwall verdict", "prb/tree/node/ent",
	       "xwall", "xdp-filter", "XDP_DROP");
	for (int i = 0; i < NPKT; i++) {
		char v[24], xf[16];

		if (d->prio[i] == XW_PRIO_NONE)
			snprintf(v, sizeof(v), "%c policy", "DPAR"[d->verdict[i] & 3]);
		else
			snprintf(v, sizeof(v), "%c rule %u", "DPAR"[d->verdict[i] & 3], d->prio[i]);
		if (d->have_xf)
			snprintf(xf, sizeof(xf), "%.0f %s", d->r[P_XF][i].ns,
				 d->r[P_XF][i].retval == XDP_DROP ? "D" : "P");
		else
			snprintf(xf, sizeof(xf), "-");
		char vl[32];

		snprintf(vl, sizeof(vl), "%u/%u/%u/%u", d->pr[i].probes, d->pr[i].trees, d->pr[i].nodes,
			 d->pr[i].entries);
		printf("  %-36s | %-14s | %17s | %6.0f | %10s | %8.0f\n", d->pk[i].name, v,
		       vl, d->r[P_XW][i].ns, xf, d->r[P_DROP][i].ns);
	}
}

static int bench_pkt(void)
{
	static const size_t simple_n[] = { 10, 1000, 10000, 100000 };
	static const size_t general_n[] = { 10, 1000, 10000 };
	static struct row rows[4], grows[6];
	static struct detail det[4], gdet[6];
	size_t nrows = 0, ngrows = 0;
	struct xw_dp dp;
	struct xw_err err;
	double empty_ns, empty_drop;
	int drop_fd, i10 = -1, i10k = -1, i100k = -1;
	cpu_set_t set, saved;
	int cpu = sched_getcpu();

	/* one CPU: test runs execute on the calling CPU */
	if (sched_getaffinity(0, sizeof(saved), &saved))
		CPU_ZERO(&saved);
	CPU_ZERO(&set);
	CPU_SET(cpu < 0 ? 0 : cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);

	g_xdpfilt_obj = find_xdpfilt_obj();
	if (!g_xdpfilt_obj)
		progress("xdp-filter's BPF object (xdpfilt_alw_all.o) not found: its column stays empty");
	drop_fd = load_drop_prog();
	if (xw_dp_load_private(&dp, &err))
		die("load xwall: %s", err.msg);
	libbpf_set_print(libbpf_silent);

	/* fixed cost: an empty rule set walks no tree */
	{
		struct xw_ruleset rs;
		struct pkt pk[NPKT];
		struct setinfo *si = calloc(1, sizeof(*si));
		struct run r[2][NPKT];
		int fds[2] = { dp.prog_fd[XW_P_XDP], drop_fd };

		if (!si)
			die("out of memory");
		progress("empty rule set");
		xw_ruleset_init(&rs);
		if (xw_dp_apply(&dp, &rs, &err))
			die("apply: %s", err.msg);
		build_mix(si, pk);
		measure(fds, 2, pk, r);
		empty_ns = mean_ns(r[0]);
		empty_drop = mean_ns(r[1]);
		for (int i = 0; i < NPKT; i++) {
			struct probe none = { 0 };

			add_sample(&none, r[0][i].ns);
		}
		free(si);
	}

	for (size_t k = 0; k < sizeof(simple_n) / sizeof(simple_n[0]); k++) {
		if (simple_n[k] > g_max_rules)
			continue;
		bench_row(&dp, drop_fd, simple_n[k], SET_SIMPLE, &rows[nrows], &det[nrows]);
		if (simple_n[k] == 10)
			i10 = (int)nrows;
		if (simple_n[k] == 10000)
			i10k = (int)nrows;
		if (simple_n[k] == 100000)
			i100k = (int)nrows;
		nrows++;
	}
	for (size_t k = 0; k < sizeof(general_n) / sizeof(general_n[0]); k++) {
		if (general_n[k] > g_max_rules)
			continue;
		bench_row(&dp, drop_fd, general_n[k], SET_GENERAL, &grows[ngrows], &gdet[ngrows]);
		ngrows++;
		bench_row(&dp, drop_fd, general_n[k], SET_GENERAL_MISS, &grows[ngrows], &gdet[ngrows]);
		ngrows++;
	}
	xw_dp_close(&dp);
	close(drop_fd);
	if (CPU_COUNT(&saved))
		sched_setaffinity(0, sizeof(saved), &saved);

	printf("== Per-packet cost: xwall, xdp-filter and XDP_DROP by rule count\n");
	printf("   BPF_PROG_TEST_RUN `duration` (kernel, whole ns), median of %u trials of up to %u\n"
	       "   runs, mean over %d frames\n", g_trials, g_repeat, NPKT);
	printf("   frames: 10 matching no rule (v4/v6 TCP, UDP, ICMP, VLAN, fragments) and 6 matching\n"
	       "   the last rule of each kind; one CPU, the same frame over and over (warm caches)\n");
	printf("   xwall: xw_rulegen_simple(N): exact src/dst IPv4 and IPv6 addresses, tcp dport,\n"
	       "   udp sport, drop; every set has all six kinds\n");
	if (g_xdpfilt_obj)
		printf("   xdp-filter: %s (features all,\n"
		       "   policy allow: what `xdp-filter load` attaches), the same addresses and ports in\n"
		       "   its maps, test-run directly (no libxdp dispatcher, like xwall here)\n", g_xdpfilt_obj);
	printf("\n%8s | %12s | %17s | %15s | %16s | %18s | %6s | %11s | %12s | %11s\n", "rules",
	       "xwall ns/pkt", "xdp-filter ns/pkt", "XDP_DROP ns/pkt", "xwall/xdp-filter",
	       "xwall(N)/xwall(10)", "trees", "walked/pkt", "nodes/pkt", "entries/pkt");
	for (size_t i = 0; i < nrows; i++) {
		const struct row *w = &rows[i];
		char xf[24], rat[24], sc[24];

		if (w->have_xf) {
			snprintf(xf, sizeof(xf), "%.1f", w->ns[P_XF]);
			snprintf(rat, sizeof(rat), "%.2fx", w->ns[P_XW] / w->ns[P_XF]);
		} else {
			snprintf(xf, sizeof(xf), "n/a");
			snprintf(rat, sizeof(rat), "n/a");
		}
		if (i10 >= 0)
			snprintf(sc, sizeof(sc), "%.2fx", w->ns[P_XW] / rows[i10].ns[P_XW]);
		else
			snprintf(sc, sizeof(sc), "n/a");
		printf("%8zu | %12.1f | %17s | %15.1f | %16s | %18s | %6u | %11.1f | %12.1f | %11.1f%s\n",
		       w->n, w->ns[P_XW], xf, w->ns[P_DROP], rat, sc, w->trees, w->walked, w->nodes,
		       w->ents,
		       w->mismatches ? "  VERDICT MISMATCH (see stderr)" : "");
	}
	printf("%8s | %12.1f | %17s | %15.1f |   (empty rule set: parse, tail call, counters)\n", "0",
	       empty_ns, "", empty_drop);
	{
		/* the plot's data (scripts/bench-plot.gp): the numbers printed above */
		const char *pf = getenv("XWB_PLOT_DATA");
		FILE *f = pf && *pf ? fopen(pf, "w") : NULL;

		if (pf && *pf && !f)
			die("write %s: %s", pf, strerror(errno));
		if (f) {
			fprintf(f, "# rules xwall xdp-filter XDP_DROP (ns/pkt; ? = not measured)\n");
			for (size_t i = 0; i < nrows; i++) {
				char xf[24];

				if (rows[i].have_xf)
					snprintf(xf, sizeof(xf), "%.1f", rows[i].ns[P_XF]);
				else
					snprintf(xf, sizeof(xf), "?");
				fprintf(f, "%zu %.1f %s %.1f\n", rows[i].n, rows[i].ns[P_XW], xf,
					rows[i].ns[P_DROP]);
			}
			if (fclose(f))
				die("write %s: %s", pf, strerror(errno));
		}
	}
	for (size_t i = 0; i < nrows; i++)
		if (rows[i].have_xf && (rows[i].xf_n4 > 10000 || rows[i].xf_n6 > 10000))
			printf("   xdp-filter's address maps were enlarged past their stock 10000 entries for\n"
			       "   the %zu-rule row (%zu IPv4, %zu IPv6 addresses): stock xdp-filter cannot hold them\n",
			       rows[i].n, rows[i].xf_n4, rows[i].xf_n6);

	if (ngrows) {
		printf("\n== Per-packet cost: general random rules\n"
		       "   xw_rulegen(N): prefixes, port ranges, lists, ICMP, TCP flags, ...  as generated\n"
		       "   (frames may match an early rule and stop early), and minus the rules any measured\n"
		       "   frame matches (nothing stops the walk early: the worst case); the same 16 frames\n\n");
		printf("%8s | %-16s | %12s | %6s | %8s | %11s | %12s | %11s | %12s\n", "rules", "set",
		       "xwall ns/pkt", "trees", "entries", "walked/pkt", "nodes/pkt", "entries/pkt",
		       "frames match");
		for (size_t i = 0; i < ngrows; i++) {
			char set[32];

			if (i % 2)
				snprintf(set, sizeof(set), "%zu removed", grows[i].n - grows[i].applied);
			else
				snprintf(set, sizeof(set), "as generated");
			printf("%8zu | %-16s | %12.1f | %6u | %8zu | %11.1f | %12.1f | %11.1f | %9d/%d%s\n",
			       grows[i].n, set, grows[i].ns[P_XW], grows[i].trees, grows[i].entries,
			       grows[i].walked, grows[i].nodes, grows[i].ents,
			       grows[i].matched, NPKT,
			       grows[i].mismatches ? "  VERDICT MISMATCH (see stderr)" : "");
		}
	}

	printf("\n== Targets\n"
	       "   from the issue; its machine: xdp-filter ~29 ns/pkt, trivial drop ~5 ns/pkt\n");
	if (i10 >= 0 && i100k >= 0) {
		double q = rows[i100k].ns[P_XW] / rows[i10].ns[P_XW];

		printf("   cost at 100,000 rules <= 1.3x cost at 10 rules: %.1f / %.1f = %.2fx -> %s\n",
		       rows[i100k].ns[P_XW], rows[i10].ns[P_XW], q, q <= 1.3 ? "target met" : "target NOT met");
	} else {
		printf("   cost at 100,000 rules <= 1.3x cost at 10 rules: not measured\n");
	}
	if (i10k >= 0 && rows[i10k].have_xf) {
		double q = rows[i10k].ns[P_XW] / rows[i10k].ns[P_XF];

		printf("   cost at 10,000 rules <= 2x xdp-filter's: %.1f / %.1f = %.2fx -> %s\n",
		       rows[i10k].ns[P_XW], rows[i10k].ns[P_XF], q, q <= 2.0 ? "target met" : "target NOT met");
	} else {
		printf("   cost at 10,000 rules <= 2x xdp-filter's: not measured\n");
	}
	{
		double c[NREG + 1], r2 = fit_samples(empty_ns, c);

		if (r2 >= 0)
			printf("\n== Where xwall's time goes\n"
			       "   least-squares fit over all %d xwall frames above, R^2 %.3f:\n"
			       "  ns/pkt ~= %.1f fixed (empty rule set: parse, scratch, tail call, counters)\n"
			       "          + %.1f per exact-tier hash probe (key words, hash, entry)\n"
			       "          + %.1f per tree walked (the tree's header, the best-priority test)\n"
			       "          + %.1f per node read (array lookup, the packet's bits, the child index)\n"
			       "          + %.1f per leaf entry read (leaf slot, entry, masked compare)\n"
			       "  (trivial XDP_DROP: %.1f ns, so the test-run harness itself is about that)\n",
			       g_nsmp, r2, c[0], c[1], c[2], c[3], c[4], empty_drop);
	}
	if (i10k >= 0)
		print_detail(&det[i10k], "simple rules");
	else if (nrows)
		print_detail(&det[nrows - 1], "simple rules");
	if (ngrows)
		print_detail(&gdet[ngrows - 1], "general rules minus matching ones");
	fflush(stdout);
	return 0;
}

/* ------------------------------------------------------------- conntrack */

#define CT_SIZE 131072u
#define CT_RULE_BASE 100u   /* first priority of the stateless rules */
#define CT_PORTS 60000u     /* flow i: local port 1024 + i % CT_PORTS */

static unsigned g_ct_batch = 20000, g_ct_inserts = 100000;

/* `policy in drop`, `policy out pass`, with_ct: `rule 10 in ct
 * established,related pass`, then xw_rulegen_simple(n) renumbered from
 * CT_RULE_BASE (all `in` rules: egress has none). */
static char *ct_rules_text(size_t n, int with_ct)
{
	char *gen = gen_simple(n, SEED + 0xc7), *out, *w, *line, *save = NULL;
	size_t cap = strlen(gen) + n * 4 + 256;

	out = malloc(cap);
	if (!out)
		die("out of memory");
	w = out;
	w += sprintf(w, "policy in drop\npolicy out pass\n");
	if (with_ct)
		w += sprintf(w, "rule 10 in ct established,related pass\n");
	for (line = strtok_r(gen, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned prio;
		int off = 0;

		if (sscanf(line, "rule %u %n", &prio, &off) != 1 || !off)
			die("unexpected generated rule '%s'", line);
		w += sprintf(w, "rule %u %s\n", prio + CT_RULE_BASE - 1, line + off);
	}
	free(gen);
	return out;
}

static void ct_frame(struct pkt *p, const uint8_t *src, const uint8_t *dst, uint16_t sport,
		     uint16_t dport, uint8_t flags)
{
	struct pspec s;

	memset(&s, 0, sizeof(s));
	s.name = "";
	s.proto = IPPROTO_TCP;
	s.tcp_flags = flags;
	memcpy(s.src, src, 4);
	memcpy(s.dst, dst, 4);
	s.sport = sport;
	s.dport = dport;
	build_pkt(&s, p);
}

/* Frames of flows from .. from + n - 1, all the same length, back to back:
 * flow i is local:(1024 + i % CT_PORTS) -> remote:(8000 + i / CT_PORTS);
 * egress frames, or with `in` the remote end's replies. */
static uint8_t *ct_flows(const uint8_t *local, const uint8_t *remote, unsigned from, unsigned n,
			 uint8_t flags, int in, uint32_t *flen)
{
	struct pkt p;
	uint8_t *buf = NULL;

	for (unsigned i = 0; i < n; i++) {
		unsigned f = from + i;
		uint16_t lp = (uint16_t)(1024 + f % CT_PORTS), rp = (uint16_t)(8000 + f / CT_PORTS);

		if (in)
			ct_frame(&p, remote, local, rp, lp, flags);
		else
			ct_frame(&p, local, remote, lp, rp, flags);
		if (!buf) {
			*flen = p.len;
			buf = malloc((size_t)n * p.len);
			if (!buf)
				die("out of memory");
		}
		memcpy(buf + (size_t)i * p.len, p.b, p.len);
	}
	return buf;
}

/* One frame through one program with `repeat`, median over trials. */
struct ctitem {
	int fd;
	const struct pkt *p;
	double ns;              /* median of the kernel's mean duration */
	uint32_t retval;
	unsigned long runs;     /* program runs, warm-up included */
};

static void measure_items(struct ctitem *it, int n)
{
	double *d = calloc((size_t)n * g_trials, sizeof(double));
	unsigned *rep = calloc((size_t)n, sizeof(unsigned));

	if (!d || !rep)
		die("out of memory");
	for (int j = 0; j < n; j++) {
		uint32_t dur = 0, rv = 0;
		int rc = test_run(it[j].fd, it[j].p, 2000, &dur, &rv);

		if (rc)
			die("BPF_PROG_TEST_RUN: %s", strerror(-rc));
		rep[j] = pick_repeat(dur);
		it[j].runs = 2000;
	}
	for (unsigned t = 0; t < g_trials; t++)
		for (int j = 0; j < n; j++) {
			uint32_t dur = 0, rv = 0;
			int rc = test_run(it[j].fd, it[j].p, rep[j], &dur, &rv);

			if (rc)
				die("BPF_PROG_TEST_RUN: %s", strerror(-rc));
			d[(size_t)j * g_trials + t] = dur;
			it[j].retval = rv;
			it[j].runs += rep[j];
		}
	for (int j = 0; j < n; j++)
		it[j].ns = median(&d[(size_t)j * g_trials], g_trials);
	free(d);
	free(rep);
}

/* n frames, one test run each (repeat=1), each right after the trivial
 * program on the same frame; medians over the calls. */
struct ctbatch {
	double xw, triv;        /* median ns per call */
	unsigned bad;           /* calls whose action was not `want` */
};

static void measure_batch(int fd, int triv_fd, const uint8_t *frames, uint32_t flen, unsigned n,
			  uint32_t want, struct ctbatch *b)
{
	double *x = calloc(n ? n : 1, sizeof(double)), *t = calloc(n ? n : 1, sizeof(double));

	if (!x || !t)
		die("out of memory");
	b->bad = 0;
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *f = frames + (size_t)i * flen;
		uint32_t dur = 0, rv = 0;
		int rc = test_run_buf(triv_fd, f, flen, 1, &dur, &rv);

		if (rc)
			die("BPF_PROG_TEST_RUN: %s", strerror(-rc));
		t[i] = dur;
		rc = test_run_buf(fd, f, flen, 1, &dur, &rv);
		if (rc)
			die("BPF_PROG_TEST_RUN: %s", strerror(-rc));
		x[i] = dur;
		if (rv != want)
			b->bad++;
	}
	b->xw = median(x, n);
	b->triv = median(t, n);
	free(x);
	free(t);
}

static const char *ct_state_name(uint8_t st)
{
	switch (st) {
	case 0: return "untracked";
	case XW_CTB_NEW: return "new";
	case XW_CTB_ESTABLISHED: return "established";
	case XW_CTB_RELATED: return "related";
	case XW_CTB_INVALID: return "invalid";
	default: return "?";
	}
}

/* The compiled form of the live rule set, for trees_probed(). */
static struct xw_tcompiled *g_ct_live;

/* What xwall makes of the frame (one extra run through the datapath);
 * ingress: also trees walked / node reads / leaf entries read. */
static struct xw_test_result ct_describe(struct xw_dp *dp, int dir, const struct pkt *p, char *buf,
					 size_t len)
{
	struct xw_test_result r;
	struct xw_err err;
	char vl[32] = "";

	if (xw_dp_test_run_dir(dp, dir, p->b, p->len, &r, &err))
		die("xwall test run: %s", err.msg);
	if (dir == XW_DIR_IN && g_ct_live) {
		struct xw_key k;
		struct probe pr;

		last_key(dp, &k);
		trees_probed(g_ct_live, &k, &pr);
		snprintf(vl, sizeof(vl), ", %u/%u/%u/%u", pr.probes, pr.trees, pr.nodes, pr.entries);
	}
	if (r.prio == XW_PRIO_NONE)
		snprintf(buf, len, "%s (policy), %s%s", r.verdict == XW_PASS ? "pass" : "drop",
			 ct_state_name(r.ct_state), vl);
	else
		snprintf(buf, len, "%s (rule %u), %s%s", r.verdict == XW_PASS ? "pass" : "drop", r.prio,
			 ct_state_name(r.ct_state), vl);
	return r;
}

static void ct_expect(struct xw_dp *dp, int dir, const struct pkt *p, int verdict, uint8_t state,
		      const char *what)
{
	char d[64];
	struct xw_test_result r = ct_describe(dp, dir, p, d, sizeof(d));

	if (r.verdict != verdict || r.ct_state != state)
		die("conntrack setup: %s gave %s, expected %s, %s", what, d,
		    verdict == XW_PASS ? "pass" : "drop", ct_state_name(state));
}

static size_t ct_entries(struct xw_dp *dp)
{
	static const enum xw_map_id tables[] = { XW_M_CT, XW_M_CT_NEW };
	struct xw_ct_key k, next;
	size_t n = 0;

	/* both flow tables: the SYNs' flows wait in the unreplied one */
	for (size_t t = 0; t < 2; t++) {
		size_t m = 0;

		while (bpf_map_get_next_key(dp->map_fd[tables[t]], m ? &k : NULL, &next) == 0) {
			k = next;
			m++;
		}
		n += m;
	}
	return n;
}

static void ct_counters(struct xw_dp *dp, uint64_t c[XW_CTC_MAX], int64_t *live)
{
	if (xw_dp_ct_counters(dp, c, live))
		die("read conntrack counters: %s", strerror(errno));
}

struct ctins {
	unsigned flows;
	uint64_t created, evicted;
	double dur_ns;          /* sum of the test runs' durations */
	double wall_ms;
	int64_t live;
	size_t entries;
	unsigned bad;
};

/* Flows from .. from + n - 1, one test run each, through the TC egress
 * program. */
static void ct_insert(struct xw_dp *dp, const uint8_t *local, const uint8_t *remote, unsigned from,
		      unsigned n, struct ctins *o)
{
	uint32_t flen = 0;
	uint8_t *fr = ct_flows(local, remote, from, n, 0x02, 0, &flen);
	int fd = dp->prog_fd[XW_P_TC_OUT];
	uint64_t c0[XW_CTC_MAX], c1[XW_CTC_MAX];
	double sum = 0, t0;

	memset(o, 0, sizeof(*o));
	o->flows = n;
	ct_counters(dp, c0, &o->live);
	t0 = now_ms();
	for (unsigned i = 0; i < n; i++) {
		uint32_t dur = 0, rv = 0;
		int rc = test_run_buf(fd, fr + (size_t)i * flen, flen, 1, &dur, &rv);

		if (rc)
			die("BPF_PROG_TEST_RUN: %s", strerror(-rc));
		sum += dur;
		if (rv != TC_ACT_OK)
			o->bad++;
	}
	o->wall_ms = now_ms() - t0;
	o->dur_ns = sum;
	ct_counters(dp, c1, &o->live);
	o->created = c1[XW_CTC_CREATED] - c0[XW_CTC_CREATED];
	o->evicted = c1[XW_CTC_EVICTED] - c0[XW_CTC_EVICTED] +
		     c1[XW_CTC_EARLY_DROP] - c0[XW_CTC_EARLY_DROP];
	o->entries = ct_entries(dp);
	free(fr);
}

enum { CR_IN_EST, CR_IN_NEW, CR_OUT_EST, CR_OUT_EST_N, CR_OUT_NEW_N, CR_OUT_T0, CR_N };

struct ctrow {
	const char *path, *prog, *method;
	double s, c;            /* ns/pkt net of the harness: stateless set, ct set */
	char s_desc[64], c_desc[64];
};

static void ct_row(struct ctrow *r, const char *path, const char *prog, const char *method)
{
	r->path = path;
	r->prog = prog;
	r->method = method;
}

static double net(double ns, double harness)
{
	return ns - harness;
}

static void print_ns_cell(double v, int width)
{
	printf(" %*.1f |", width, v);
}

static int bench_ct(void)
{
	size_t nrules = g_max_rules < 1000 ? g_max_rules : 1000;
	char *ts = ct_rules_text(nrules, 0), *tc = ct_rules_text(nrules, 1);
	struct xw_ruleset rs_s, rs_c;
	struct xw_tcompiled cs, cc;
	struct setinfo *si = calloc(1, sizeof(*si));
	struct xw_dp dp;
	struct xw_err err;
	struct pkt f_out_syn, f_in_synack, f_out_ack, f_in_ack, f_in_syn, f_out_syn_g;
	struct ctrow row[CR_N];
	struct ctitem s_it[6], c_it[5], t0_it[1];
	struct ctbatch s_ack, s_syn, c_ack, c_syn;
	struct ctins ins[2];
	uint64_t cb0[XW_CTC_MAX], cb1[XW_CTC_MAX], ct0[XW_CTC_MAX], ct1[XW_CTC_MAX];
	uint32_t timeouts[XW_CTS_MAX], flen = 0;
	int64_t live;
	uint8_t local[4], remote[4], *syns, *synacks, *acks;
	uint16_t pa, pb, pc;
	int triv_xdp, triv_tc;
	cpu_set_t set, saved;
	int cpu = sched_getcpu();
	unsigned nb = g_ct_batch, ni = g_ct_inserts;
	uint64_t n_flushed;

	if (!si)
		die("out of memory");
	if (sched_getaffinity(0, sizeof(saved), &saved))
		CPU_ZERO(&saved);
	CPU_ZERO(&set);
	CPU_SET(cpu < 0 ? 0 : cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);

	xw_ruleset_init(&rs_s);
	xw_ruleset_init(&rs_c);
	if (parse_rules(ts, &rs_s) || parse_rules(tc, &rs_c))
		die("cannot parse the conntrack bench rule sets");
	set_info(&rs_s, si);
	/* inside the rules' address space, in no rule (see setinfo) */
	memcpy(local, si->miss4[1], 4);
	memcpy(remote, si->miss4[0], 4);
	pa = free_port(si, 40000);
	pb = free_port(si, (uint16_t)(pa + 1));
	pc = free_port(si, (uint16_t)(pb + 1));
	ct_frame(&f_out_syn, local, remote, pa, 80, 0x02);
	ct_frame(&f_in_synack, remote, local, 80, pa, 0x12);
	ct_frame(&f_out_ack, local, remote, pa, 80, 0x10);
	ct_frame(&f_in_ack, remote, local, 80, pa, 0x10);
	ct_frame(&f_in_syn, remote, local, 51000, pb, 0x02);
	ct_frame(&f_out_syn_g, local, remote, pc, 80, 0x02);
	syns = ct_flows(local, remote, 0, nb, 0x02, 0, &flen);
	synacks = ct_flows(local, remote, 0, nb, 0x12, 1, &flen);
	acks = ct_flows(local, remote, 0, nb, 0x10, 0, &flen);

	triv_xdp = load_drop_prog();
	triv_tc = load_trivial_prog(BPF_PROG_TYPE_SCHED_CLS, TC_ACT_OK, "xwb_tc_ok");
	xw_dp_set_ct_size(CT_SIZE);
	if (xw_dp_load_private(&dp, &err))
		die("load xwall: %s", err.msg);
	libbpf_set_print(libbpf_silent);
	if (xw_dp_ct_timeouts(&dp, timeouts))
		die("read conntrack timeouts");

	memset(row, 0, sizeof(row));
	ct_row(&row[CR_IN_EST], "ingress ACK, reply of an established flow", "XDP", "repeat");
	ct_row(&row[CR_IN_NEW], "ingress SYN, no flow (policy drops it)", "XDP", "repeat");
	ct_row(&row[CR_OUT_EST], "egress ACK of an established flow", "TC out", "repeat");
	ct_row(&row[CR_OUT_EST_N], "egress ACK, another established flow each call", "TC out",
	       "1/call");
	ct_row(&row[CR_OUT_NEW_N], "egress SYN, a new flow each call", "TC out", "1/call");
	ct_row(&row[CR_OUT_T0], "egress SYN, one flow, SYN_SENT timeout 0", "TC out", "repeat");

	/* stateless set: the same frames, no conntrack at all */
	progress("conntrack: stateless set, %zu rules", rs_s.n);
	if (xw_dp_apply(&dp, &rs_s, &err))
		die("apply: %s", err.msg);
	compiled_stats(&rs_s, &cs);
	g_ct_live = &cs;
	ct_describe(&dp, XW_DIR_IN, &f_in_ack, row[CR_IN_EST].s_desc, sizeof(row[0].s_desc));
	ct_describe(&dp, XW_DIR_IN, &f_in_syn, row[CR_IN_NEW].s_desc, sizeof(row[0].s_desc));
	ct_describe(&dp, XW_DIR_OUT, &f_out_ack, row[CR_OUT_EST].s_desc, sizeof(row[0].s_desc));
	ct_describe(&dp, XW_DIR_OUT, &f_out_syn_g, row[CR_OUT_T0].s_desc, sizeof(row[0].s_desc));
	snprintf(row[CR_OUT_EST_N].s_desc, sizeof(row[0].s_desc), "%s", row[CR_OUT_EST].s_desc);
	snprintf(row[CR_OUT_NEW_N].s_desc, sizeof(row[0].s_desc), "%s", row[CR_OUT_T0].s_desc);
	s_it[0] = (struct ctitem){ .fd = dp.prog_fd[XW_P_XDP], .p = &f_in_ack };
	s_it[1] = (struct ctitem){ .fd = dp.prog_fd[XW_P_XDP], .p = &f_in_syn };
	s_it[2] = (struct ctitem){ .fd = dp.prog_fd[XW_P_TC_OUT], .p = &f_out_ack };
	s_it[3] = (struct ctitem){ .fd = dp.prog_fd[XW_P_TC_OUT], .p = &f_out_syn_g };
	s_it[4] = (struct ctitem){ .fd = triv_xdp, .p = &f_in_ack };
	s_it[5] = (struct ctitem){ .fd = triv_tc, .p = &f_out_ack };
	measure_items(s_it, 6);
	measure_batch(dp.prog_fd[XW_P_TC_OUT], triv_tc, acks, flen, nb, TC_ACT_OK, &s_ack);
	measure_batch(dp.prog_fd[XW_P_TC_OUT], triv_tc, syns, flen, nb, TC_ACT_OK, &s_syn);
	row[CR_IN_EST].s = net(s_it[0].ns, s_it[4].ns);
	row[CR_IN_NEW].s = net(s_it[1].ns, s_it[4].ns);
	row[CR_OUT_EST].s = net(s_it[2].ns, s_it[5].ns);
	row[CR_OUT_T0].s = net(s_it[3].ns, s_it[5].ns);
	row[CR_OUT_EST_N].s = net(s_ack.xw, s_ack.triv);
	row[CR_OUT_NEW_N].s = net(s_syn.xw, s_syn.triv);

	/* ct set: one established flow (handshake: out SYN, in SYN-ACK, out ACK) */
	progress("conntrack: ct set, established and new flows");
	if (xw_dp_apply(&dp, &rs_c, &err))
		die("apply: %s", err.msg);
	compiled_stats(&rs_c, &cc);
	g_ct_live = &cc;
	if (xw_dp_ct_flush(&dp, &n_flushed))
		die("flush conntrack: %s", strerror(errno));
	ct_expect(&dp, XW_DIR_OUT, &f_out_syn, XW_PASS, XW_CTB_NEW, "egress SYN");
	ct_expect(&dp, XW_DIR_IN, &f_in_synack, XW_PASS, XW_CTB_ESTABLISHED, "ingress SYN-ACK");
	ct_expect(&dp, XW_DIR_OUT, &f_out_ack, XW_PASS, XW_CTB_ESTABLISHED, "egress ACK");
	ct_describe(&dp, XW_DIR_IN, &f_in_ack, row[CR_IN_EST].c_desc, sizeof(row[0].c_desc));
	ct_describe(&dp, XW_DIR_IN, &f_in_syn, row[CR_IN_NEW].c_desc, sizeof(row[0].c_desc));
	ct_describe(&dp, XW_DIR_OUT, &f_out_ack, row[CR_OUT_EST].c_desc, sizeof(row[0].c_desc));
	c_it[0] = (struct ctitem){ .fd = dp.prog_fd[XW_P_XDP], .p = &f_in_ack };
	c_it[1] = (struct ctitem){ .fd = dp.prog_fd[XW_P_XDP], .p = &f_in_syn };
	c_it[2] = (struct ctitem){ .fd = dp.prog_fd[XW_P_TC_OUT], .p = &f_out_ack };
	c_it[3] = (struct ctitem){ .fd = triv_xdp, .p = &f_in_ack };
	c_it[4] = (struct ctitem){ .fd = triv_tc, .p = &f_out_ack };
	measure_items(c_it, 5);
	if (c_it[0].retval != XDP_PASS || c_it[1].retval != XDP_DROP || c_it[2].retval != TC_ACT_OK)
		die("conntrack: unexpected actions %u %u %u", c_it[0].retval, c_it[1].retval,
		    c_it[2].retval);
	row[CR_IN_EST].c = net(c_it[0].ns, c_it[3].ns);
	row[CR_IN_NEW].c = net(c_it[1].ns, c_it[3].ns);
	row[CR_OUT_EST].c = net(c_it[2].ns, c_it[4].ns);

	/* nb new flows, one call each; the replies (untimed) establish them;
	 * then the initiator's ACK on each of them */
	ct_counters(&dp, cb0, &live);
	measure_batch(dp.prog_fd[XW_P_TC_OUT], triv_tc, syns, flen, nb, TC_ACT_OK, &c_syn);
	ct_counters(&dp, cb1, &live);
	for (unsigned i = 0; i < nb; i++) {
		uint32_t dur = 0, rv = 0;
		int rc = test_run_buf(dp.prog_fd[XW_P_XDP], synacks + (size_t)i * flen, flen, 1, &dur,
				      &rv);

		if (rc)
			die("BPF_PROG_TEST_RUN: %s", strerror(-rc));
		if (rv != XDP_PASS)
			die("conntrack: the SYN-ACK of flow %u was not passed", i);
	}
	measure_batch(dp.prog_fd[XW_P_TC_OUT], triv_tc, acks, flen, nb, TC_ACT_OK, &c_ack);
	row[CR_OUT_NEW_N].c = net(c_syn.xw, c_syn.triv);
	row[CR_OUT_EST_N].c = net(c_ack.xw, c_ack.triv);
	snprintf(row[CR_OUT_NEW_N].c_desc, sizeof(row[0].c_desc), "pass (policy), new: %llu created",
		 (unsigned long long)(cb1[XW_CTC_CREATED] - cb0[XW_CTC_CREATED]));
	{
		struct pkt p;

		memset(&p, 0, sizeof(p));
		memcpy(p.b, acks, flen);
		p.len = flen;
		ct_describe(&dp, XW_DIR_OUT, &p, row[CR_OUT_EST_N].c_desc, sizeof(row[0].c_desc));
	}

	/* the same frame again and again, each run finding its entry expired */
	progress("conntrack: new flow with repeat, SYN_SENT timeout 0");
	if (xw_dp_ct_set_timeout(&dp, XW_CTS_TCP_SYN_SENT, 0, &err))
		die("set timeout: %s", err.msg);
	ct_describe(&dp, XW_DIR_OUT, &f_out_syn_g, row[CR_OUT_T0].c_desc, sizeof(row[0].c_desc));
	ct_counters(&dp, ct0, &live);
	t0_it[0] = (struct ctitem){ .fd = dp.prog_fd[XW_P_TC_OUT], .p = &f_out_syn_g };
	measure_items(t0_it, 1);
	ct_counters(&dp, ct1, &live);
	if (xw_dp_ct_set_timeout(&dp, XW_CTS_TCP_SYN_SENT, timeouts[XW_CTS_TCP_SYN_SENT], &err))
		die("set timeout: %s", err.msg);
	row[CR_OUT_T0].c = net(t0_it[0].ns, c_it[4].ns);

	/* insert rate: an empty table, then past its size */
	progress("conntrack: inserting %u flows into a %u-entry table, twice", ni, CT_SIZE);
	if (xw_dp_ct_flush(&dp, &n_flushed))
		die("flush conntrack: %s", strerror(errno));
	ct_insert(&dp, local, remote, 0, ni, &ins[0]);
	ct_insert(&dp, local, remote, ni, ni, &ins[1]);

	xw_dp_close(&dp);
	close(triv_xdp);
	close(triv_tc);
	if (CPU_COUNT(&saved))
		sched_setaffinity(0, sizeof(saved), &saved);

	printf("\n== Conntrack: per-packet cost with connection tracking on\n");
	printf("   stateless set: `policy in drop`, `policy out pass` and xw_rulegen_simple(%zu)\n"
	       "   renumbered %u..%zu (`in` rules: egress has none); ct set: the same plus\n"
	       "   `rule 10 in ct established,related pass`.  Flow table %u entries (LRU hash).\n",
	       nrules, CT_RULE_BASE, CT_RULE_BASE + nrules - 1, CT_SIZE);
	printf("   Frames: IPv4 TCP between two addresses in the rules' address space but in no rule,\n"
	       "   ports in no rule (so the stateless set walks every tree, as in the per-packet table).\n"
	       "   The established flow is made by a handshake first: egress SYN (TC), ingress SYN-ACK\n"
	       "   (XDP), egress ACK (TC).\n");
	printf("   ns/pkt = BPF_PROG_TEST_RUN duration minus a trivial program's (r0 = XDP_DROP or\n"
	       "   TC_ACT_OK; exit) measured the same way on the same frames, so the test-run harness\n"
	       "   is not counted (the per-packet table above includes it):\n"
	       "     repeat: one frame, median of %u trials of up to %u runs (warm caches)\n"
	       "     1/call: %u frames of %u different flows, one test run (repeat=1) each, right after\n"
	       "             the trivial program on the same frame; median over the calls.  With repeat\n"
	       "             the same SYN would find its own entry from the second run on.\n",
	       g_trials, g_repeat, nb, nb);
	printf("   harness subtracted (ns): stateless phase XDP %.1f, TC %.1f, TC 1/call %.1f / %.1f;\n"
	       "   ct phase XDP %.1f, TC %.1f, TC 1/call %.1f / %.1f\n",
	       s_it[4].ns, s_it[5].ns, s_ack.triv, s_syn.triv, c_it[3].ns, c_it[4].ns, c_ack.triv,
	       c_syn.triv);
	printf("\n%-46s | %-6s | %-6s | %13s | %9s | %14s | %12s | %-32s\n", "path", "prog", "method",
	       "stateless ns", "ct ns", "ct - stateless", "ct/stateless", "with ct: verdict, ct state");
	for (int i = 0; i < CR_N; i++) {
		printf("%-46s | %-6s | %-6s |", row[i].path, row[i].prog, row[i].method);
		print_ns_cell(row[i].s, 13);
		print_ns_cell(row[i].c, 9);
		printf(" %+14.1f | %11.2fx | %-32s\n", row[i].c - row[i].s,
		       row[i].s > 0 ? row[i].c / row[i].s : 0.0, row[i].c_desc);
	}
	printf("   stateless set, for the same frames: ingress %s / %s; egress %s\n",
	       row[CR_IN_EST].s_desc, row[CR_IN_NEW].s_desc, row[CR_OUT_EST].s_desc);
	printf("   established reply: with ct it matches rule 10, the best priority, and skips the\n"
	       "   trees of the %zu rules that the stateless set walks; ct - stateless on the egress\n"
	       "   rows (no egress rules) is conntrack alone: lookup + update (established), lookup\n"
	       "   miss + insert (new).\n", nrules);
	printf("   timeout-0 row: every run finds the entry expired, deletes it and inserts it again\n"
	       "   (lookup + delete + insert): %lu runs, %llu flows created, %llu expired entries deleted\n",
	       t0_it[0].runs, (unsigned long long)(ct1[XW_CTC_CREATED] - ct0[XW_CTC_CREATED]),
	       (unsigned long long)(ct1[XW_CTC_EXPIRED] - ct0[XW_CTC_EXPIRED]));
	if (s_ack.bad || s_syn.bad || c_ack.bad || c_syn.bad)
		printf("   UNEXPECTED ACTIONS in the 1/call runs: %u %u %u %u\n", s_ack.bad, s_syn.bad,
		       c_ack.bad, c_syn.bad);

	printf("\n== Conntrack: flow-table insert rate\n");
	printf("   egress TCP SYNs of distinct flows through the TC egress program (ct set), one\n"
	       "   BPF_PROG_TEST_RUN (repeat=1) each, frames built beforehand; table %u entries.\n"
	       "   datapath = flows / sum of the runs' durations (program plus the harness, ~%.0f ns\n"
	       "   per call for a trivial program); wall = flows / CLOCK_MONOTONIC time of the loop\n"
	       "   (bpf() syscall, skb setup and copy included).  live = the datapath's flow count;\n"
	       "   entries = keys in both flow tables, counted; evicted = XW_CTC_EVICTED +\n"
	       "   XW_CTC_EARLY_DROP, inserts into a full table (the LRU dropped its least\n"
	       "   recently used flow to make room; the SYNs' flows go to the unreplied table).\n",
	       CT_SIZE, c_syn.triv);
	printf("\n%-26s | %7s | %7s | %14s | %12s | %7s | %12s | %7s | %8s | %7s\n", "inserted into",
	       "flows", "created", "datapath ns/ins", "datapath ins/s", "wall s", "wall ins/s", "live",
	       "entries", "evicted");
	for (int i = 0; i < 2; i++) {
		char into[40];

		if (i == 0)
			snprintf(into, sizeof(into), "empty table");
		else
			snprintf(into, sizeof(into), "table holding %u flows", ni);
		printf("%-26s | %7u | %7llu | %14.1f | %12.0f | %7.3f | %12.0f | %7lld | %8zu | %7llu%s\n",
		       into, ins[i].flows, (unsigned long long)ins[i].created, ins[i].dur_ns / ins[i].flows,
		       ins[i].flows / (ins[i].dur_ns / 1e9), ins[i].wall_ms / 1e3,
		       ins[i].flows / (ins[i].wall_ms / 1e3), (long long)ins[i].live, ins[i].entries,
		       (unsigned long long)ins[i].evicted, ins[i].bad ? "  UNEXPECTED ACTIONS" : "");
	}
	fflush(stdout);

	g_ct_live = NULL;
	xw_tcompiled_free(&cs);
	xw_tcompiled_free(&cc);
	xw_ruleset_free(&rs_s);
	xw_ruleset_free(&rs_c);
	free(si);
	free(ts);
	free(tc);
	free(syns);
	free(synacks);
	free(acks);
	return 0;
}

/* ------------------------------------------------------------ apply bench */

/* Run argv (stdin from `in`, if any) in a fresh network namespace of its
 * own, so the host firewall is never touched; the namespace is made before
 * the clock starts and goes away with the process.  Returns ms, or -1. */
static double time_in_netns(char *const argv[], const char *in)
{
	char errf[128];
	int pfd[2];
	double ms = -1;
	pid_t c;

	snprintf(errf, sizeof(errf), "%s/stderr", g_tmpdir);
	if (pipe(pfd))
		return -1;
	fflush(NULL);
	c = fork();
	if (c < 0)
		return -1;
	if (c == 0) {
		double r = -1;

		close(pfd[0]);
		if (unshare(CLONE_NEWNET) == 0) {
			double t0 = now_ms();
			pid_t g = fork();
			int st = 0;

			if (g == 0) {
				int fi = in ? open(in, O_RDONLY) : open("/dev/null", O_RDONLY);
				int fo = open("/dev/null", O_WRONLY);
				int fe = open(errf, O_WRONLY | O_CREAT | O_TRUNC, 0600);

				if (fi < 0 || fo < 0 || fe < 0)
					_exit(126);
				dup2(fi, 0);
				dup2(fo, 1);
				dup2(fe, 2);
				execvp(argv[0], argv);
				_exit(127);
			}
			if (g > 0 && waitpid(g, &st, 0) == g && WIFEXITED(st) && WEXITSTATUS(st) == 0)
				r = now_ms() - t0;
		}
		if (write(pfd[1], &r, sizeof(r)) != sizeof(r))
			_exit(1);
		_exit(0);
	}
	close(pfd[1]);
	if (read(pfd[0], &ms, sizeof(ms)) != sizeof(ms))
		ms = -1;
	close(pfd[0]);
	waitpid(c, NULL, 0);
	if (ms < 0) {
		char line[256] = "";
		FILE *f = fopen(errf, "r");

		if (f) {
			if (!fgets(line, sizeof(line), f))
				line[0] = 0;
			fclose(f);
		}
		line[strcspn(line, "\n")] = 0;
		fprintf(stderr, "xwbench: %s failed%s%s\n", argv[0], *line ? ": " : "", line);
	}
	return ms;
}

static void fmt_addr(const struct xw_cidr *c, char *buf, size_t len)
{
	inet_ntop(c->family == 4 ? AF_INET : AF_INET6, c->addr, buf, (socklen_t)len);
}

/* iptables-restore input (IPv4 and IPv6 files) and an nft script, rule for
 * rule the same as the simple set.  Port rules go into both families for
 * iptables; nft's inet table needs them once. */
static void write_fw_files(const struct xw_ruleset *rs, const char *v4, const char *v6,
			   const char *nftf)
{
	FILE *f4 = fopen(v4, "w"), *f6 = fopen(v6, "w"), *fn = fopen(nftf, "w");
	char a[INET6_ADDRSTRLEN];

	if (!f4 || !f6 || !fn)
		die("write %s: %s", g_tmpdir, strerror(errno));
	fprintf(f4, "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n");
	fprintf(f6, "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n");
	fprintf(fn, "table inet xwbench {\n\tchain input {\n"
		    "\t\ttype filter hook input priority 0; policy accept;\n");
	for (size_t i = 0; i < rs->n; i++) {
		const struct xw_rule *r = &rs->rules[i];

		switch (rule_kind(r)) {
		case K_SRC4:
			fmt_addr(&r->src[0], a, sizeof(a));
			fprintf(f4, "-A INPUT -s %s -j DROP\n", a);
			fprintf(fn, "\t\tip saddr %s drop\n", a);
			break;
		case K_DST4:
			fmt_addr(&r->dst[0], a, sizeof(a));
			fprintf(f4, "-A INPUT -d %s -j DROP\n", a);
			fprintf(fn, "\t\tip daddr %s drop\n", a);
			break;
		case K_SRC6:
			fmt_addr(&r->src[0], a, sizeof(a));
			fprintf(f6, "-A INPUT -s %s -j DROP\n", a);
			fprintf(fn, "\t\tip6 saddr %s drop\n", a);
			break;
		case K_DST6:
			fmt_addr(&r->dst[0], a, sizeof(a));
			fprintf(f6, "-A INPUT -d %s -j DROP\n", a);
			fprintf(fn, "\t\tip6 daddr %s drop\n", a);
			break;
		case K_TCP_DPORT:
			fprintf(f4, "-A INPUT -p tcp --dport %u -j DROP\n", r->dport[0].lo);
			fprintf(f6, "-A INPUT -p tcp --dport %u -j DROP\n", r->dport[0].lo);
			fprintf(fn, "\t\ttcp dport %u drop\n", r->dport[0].lo);
			break;
		case K_UDP_SPORT:
			fprintf(f4, "-A INPUT -p udp --sport %u -j DROP\n", r->sport[0].lo);
			fprintf(f6, "-A INPUT -p udp --sport %u -j DROP\n", r->sport[0].lo);
			fprintf(fn, "\t\tudp sport %u drop\n", r->sport[0].lo);
			break;
		default:
			die("rule %u has no iptables equivalent", r->prio);
		}
	}
	fprintf(f4, "COMMIT\n");
	fprintf(f6, "COMMIT\n");
	fprintf(fn, "\t}\n}\n");
	if (fclose(f4) || fclose(f6) || fclose(fn))
		die("write %s: %s", g_tmpdir, strerror(errno));
}

struct fwtimes {
	double ipt, ipt_legacy, nft;    /* ms; < 0: failed */
};

static double sum_or_fail(double a, double b)
{
	return a < 0 || b < 0 ? -1 : a + b;
}

static void time_fw(const struct xw_ruleset *rs, struct fwtimes *t)
{
	char v4[96], v6[96], nf[96];
	char *ipt4[] = { "iptables-restore", NULL }, *ipt6[] = { "ip6tables-restore", NULL };
	char *leg4[] = { "iptables-legacy-restore", NULL }, *leg6[] = { "ip6tables-legacy-restore", NULL };
	char *nft[] = { "nft", "-f", nf, NULL };

	snprintf(v4, sizeof(v4), "%s/rules.v4", g_tmpdir);
	snprintf(v6, sizeof(v6), "%s/rules.v6", g_tmpdir);
	snprintf(nf, sizeof(nf), "%s/rules.nft", g_tmpdir);
	write_fw_files(rs, v4, v6, nf);
	t->ipt = sum_or_fail(time_in_netns(ipt4, v4), time_in_netns(ipt6, v6));
	t->ipt_legacy = sum_or_fail(time_in_netns(leg4, v4), time_in_netns(leg6, v6));
	t->nft = time_in_netns(nft, NULL);
}

struct xwtimes {
	size_t n;
	double parse, apply, same, other;   /* ms; < 0: failed */
	char other_err[512];
	unsigned trees;
	size_t entries;
};

/* Apply text into a fresh private instance, then apply the same set again
 * (nothing changes: what `xwall apply` of an unchanged file costs), then
 * replace it with text2, a different set of the same size. */
static void time_xwall(const char *text, const char *text2, struct xwtimes *t)
{
	struct xw_ruleset rs, rs2;
	struct xw_tcompiled c;
	struct xw_dp dp;
	struct xw_err err;
	double t0;

	memset(t, 0, sizeof(*t));
	if (xw_dp_load_private(&dp, &err))
		die("load xwall: %s", err.msg);
	libbpf_set_print(libbpf_silent);
	xw_ruleset_init(&rs);
	xw_ruleset_init(&rs2);
	t0 = now_ms();
	if (parse_rules(text, &rs))
		die("parse failed");
	t->parse = now_ms() - t0;
	t0 = now_ms();
	if (xw_dp_apply(&dp, &rs, &err))
		die("apply: %s", err.msg);
	t->apply = now_ms() - t0;
	t0 = now_ms();
	if (xw_dp_apply(&dp, &rs, &err))
		die("apply: %s", err.msg);
	t->same = now_ms() - t0;
	if (parse_rules(text2, &rs2))
		die("parse failed");
	t0 = now_ms();
	if (xw_dp_apply(&dp, &rs2, &err)) {
		t->other = -1;
		snprintf(t->other_err, sizeof(t->other_err), "%s", err.msg);
		progress("replace with another set failed: %s", err.msg);
	} else {
		t->other = now_ms() - t0;
	}
	compiled_stats(&rs, &c);
	t->trees = c.tree->head.n_trees;
	t->entries = c.tree->n_rents;
	xw_tcompiled_free(&c);
	xw_ruleset_free(&rs);
	xw_ruleset_free(&rs2);
	xw_dp_close(&dp);
}

static void rm_tmpdir(void)
{
	static const char *const f[] = { "rules.v4", "rules.v6", "rules.nft", "stderr" };
	char path[128];

	if (!g_tmpdir[0])
		return;
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", g_tmpdir, f[i]);
		unlink(path);
	}
	if (rmdir(g_tmpdir))
		fprintf(stderr, "xwbench: could not remove %s: %s\n", g_tmpdir, strerror(errno));
	g_tmpdir[0] = 0;
}

static double median_or_fail(double *v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (v[i] < 0)
			return -1;
	return median(v, n);
}

/* Median of g_apply_runs runs of each. */
static void time_xwall_med(const char *text, const char *text2, size_t n, struct xwtimes *t)
{
	double p[9], a[9], sa[9], o[9];

	for (unsigned r = 0; r < g_apply_runs; r++) {
		time_xwall(text, text2, t);
		p[r] = t->parse;
		a[r] = t->apply;
		sa[r] = t->same;
		o[r] = t->other;
	}
	t->n = n;
	t->parse = median_or_fail(p, g_apply_runs);
	t->apply = median_or_fail(a, g_apply_runs);
	t->same = median_or_fail(sa, g_apply_runs);
	t->other = median_or_fail(o, g_apply_runs);
}

static void time_fw_med(const struct xw_ruleset *rs, struct fwtimes *t)
{
	double a[9], b[9], c[9];

	for (unsigned r = 0; r < g_apply_runs; r++) {
		time_fw(rs, t);
		a[r] = t->ipt;
		b[r] = t->ipt_legacy;
		c[r] = t->nft;
	}
	t->ipt = median_or_fail(a, g_apply_runs);
	t->ipt_legacy = median_or_fail(b, g_apply_runs);
	t->nft = median_or_fail(c, g_apply_runs);
}

static void print_ms(double ms, int width)
{
	if (ms < 0)
		printf(" %*s |", width, "failed");
	else
		printf(" %*.1f |", width, ms);
}

static int bench_apply(void)
{
	static const size_t ns[] = { 1000, 10000, 100000 };
	static const size_t gns[] = { 1000, 10000 };
	struct xwtimes xt[3], gt[2];
	struct fwtimes ft[3];
	size_t nn = 0, ng = 0;

	snprintf(g_tmpdir, sizeof(g_tmpdir), "/tmp/xwbench.XXXXXX");
	if (!mkdtemp(g_tmpdir))
		die("mkdtemp: %s", strerror(errno));
	atexit(rm_tmpdir);

	/* warm up the tools and load their kernel modules, untimed */
	{
		struct xw_ruleset rs;
		struct fwtimes w;
		char *text = gen_simple(10, SEED);

		progress("warming up iptables-restore / nft");
		xw_ruleset_init(&rs);
		if (parse_rules(text, &rs))
			die("parse failed");
		time_fw(&rs, &w);
		xw_ruleset_free(&rs);
		free(text);
	}
	for (size_t k = 0; k < sizeof(ns) / sizeof(ns[0]); k++) {
		struct xw_ruleset rs;
		char *text, *text2;

		if (ns[k] > g_max_rules)
			continue;
		progress("apply: %zu simple rules", ns[k]);
		text = gen_simple(ns[k], SEED + ns[k]);
		text2 = gen_simple(ns[k], SEED + 7 * ns[k] + 1);
		time_xwall_med(text, text2, ns[k], &xt[nn]);
		xw_ruleset_init(&rs);
		if (parse_rules(text, &rs))
			die("parse failed");
		time_fw_med(&rs, &ft[nn]);
		xw_ruleset_free(&rs);
		free(text);
		free(text2);
		nn++;
	}
	for (size_t k = 0; k < sizeof(gns) / sizeof(gns[0]); k++) {
		char *text, *text2;

		if (gns[k] > g_max_rules)
			continue;
		progress("apply: %zu general rules", gns[k]);
		text = gen_general(gns[k], SEED + gns[k]);
		text2 = gen_general(gns[k], SEED + 7 * gns[k] + 1);
		time_xwall_med(text, text2, gns[k], &gt[ng]);
		free(text);
		free(text2);
		ng++;
	}
	rm_tmpdir();

	printf("\n== Apply time: xwall, iptables-restore, nft -f\n");
	printf("   ms, CLOCK_MONOTONIC, median of %u runs\n", g_apply_runs);
	printf("   xwall: xw_parse_text of xw_rulegen_simple(N), then xw_dp_apply into a fresh private\n"
	       "   instance (compile, fill maps, zero counters, switch generation, RCU grace periods).\n"
	       "   iptables: the same rules as `-A INPUT -s A -j DROP`, `-A INPUT -p tcp --dport P -j DROP`,\n"
	       "   ...; iptables-restore + ip6tables-restore (port rules go into both families).\n"
	       "   nft: `nft -f` of one inet table, one input chain of the same N rules.  Each tool runs\n"
	       "   in a fresh network namespace (host firewall untouched), timed from process start to\n"
	       "   exit; the namespace is made before the clock starts.\n\n");
	printf("%8s | %11s | %11s | %11s | %16s | %23s | %8s |\n", "rules", "xwall parse",
	       "xwall apply", "xwall total", "iptables-restore", "iptables-legacy-restore", "nft -f");
	for (size_t i = 0; i < nn; i++) {
		printf("%8zu |", xt[i].n);
		print_ms(xt[i].parse, 11);
		print_ms(xt[i].apply, 11);
		print_ms(xt[i].parse + xt[i].apply, 11);
		print_ms(ft[i].ipt, 16);
		print_ms(ft[i].ipt_legacy, 23);
		print_ms(ft[i].nft, 8);
		printf("\n");
	}
	printf("\n== Apply time: xwall onto a live rule set\n"
	       "   ms; a fresh instance, then the same set again, then another set of N rules\n"
	       "   (replace); general = xw_rulegen(N) (prefixes, ranges, lists, ...)\n\n");
	printf("%8s | %-7s | %11s | %11s | %13s | %11s | %6s | %8s\n", "rules", "set", "parse",
	       "apply fresh", "apply same", "replace", "trees", "entries");
	for (size_t i = 0; i < nn + ng; i++) {
		const struct xwtimes *t = i < nn ? &xt[i] : &gt[i - nn];

		printf("%8zu | %-7s |", t->n, i < nn ? "simple" : "general");
		print_ms(t->parse, 11);
		print_ms(t->apply, 11);
		print_ms(t->same, 13);
		print_ms(t->other, 11);
		printf(" %6u | %8zu\n", t->trees, t->entries);
	}
	for (size_t i = 0; i < nn + ng; i++) {
		const struct xwtimes *t = i < nn ? &xt[i] : &gt[i - nn];

		if (t->other < 0)
			printf("   replace of %zu rules failed: %s\n", t->n, t->other_err);
	}
	fflush(stdout);
	return 0;
}

/* ------------------------------------------------------------ ClassBench */

/* xwbench cb: the ClassBench sets (and a worst case) that scripts/bench.sh
 * prepares in XWB_CB_DIR (NAME.rules, NAME.pcap, NAME.expected): per set the
 * shape statistics `xwall apply --check` prints, the time to apply the set
 * onto a live private instance (holding the empty set), the kernel memory of
 * xwall's maps, and ns/packet of xwall's XDP program and of a trivial XDP_DROP
 * on XWB_CB_PKTS frames spread evenly over the trace, measured alternately. */
static unsigned g_cb_pkts = 64, g_cb_repeat = 50000;
static uint64_t g_cb_mem_empty;    /* memlock of the fresh instance, empty set */

struct cbrow {
	char name[64];
	size_t rules, packets;
	char shapes[160];       /* what apply --check printed, "ok: N rules, " cut */
	int refused;
	char err[512];
	double parse_ms, apply_ms, xw_ns, drop_ns;
	uint64_t mem, mem_empty;
	size_t checked, mismatches;
};

/* memlock of one map fd, as the kernel reports it (bpftool's bytes_memlock) */
static uint64_t fd_memlock(int fd)
{
	char path[64], line[256];
	uint64_t v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %" SCNu64, &v) == 1)
			break;
	fclose(f);
	return v;
}

/* every map of the instance, inner maps of map-in-maps included */
static uint64_t dp_memlock(const struct xw_dp *dp)
{
	uint64_t sum = 0;

	for (int m = 0; m < XW_M_COUNT; m++) {
		struct bpf_map_info info;
		__u32 len = sizeof(info);
		int fd = dp->map_fd[m];

		if (fd < 0)
			continue;
		sum += fd_memlock(fd);
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &len) ||
		    (info.type != BPF_MAP_TYPE_ARRAY_OF_MAPS && info.type != BPF_MAP_TYPE_HASH_OF_MAPS))
			continue;
		for (__u32 k = 0; k < info.max_entries; k++) {
			__u32 id = 0;
			int ifd;

			if (bpf_map_lookup_elem(fd, &k, &id) || !id)
				continue;
			ifd = bpf_map_get_fd_by_id(id);
			if (ifd >= 0) {
				sum += fd_memlock(ifd);
				close(ifd);
			}
		}
	}
	return sum;
}

static void cb_shapes(const char *xwall, const char *rules, struct cbrow *r)
{
	char cmd[8400], line[160] = "";
	FILE *p;

	snprintf(cmd, sizeof(cmd), "'%s' apply --check '%s' 2>&1", xwall, rules);
	p = popen(cmd, "r");
	if (!p || !fgets(line, sizeof(line), p))
		snprintf(line, sizeof(line), "(apply --check printed nothing)");
	if (p)
		pclose(p);
	line[strcspn(line, "\n")] = 0;
	if (!strncmp(line, "ok: ", 4)) {
		const char *s = strstr(line, " rules, ");

		memcpy(r->shapes, s ? s + 8 : line + 4, strlen(s ? s + 8 : line + 4) + 1);
	} else {
		memcpy(r->shapes, line, sizeof(line));
	}
}

struct cbframes {
	uint8_t (*b)[128];
	uint32_t *len;
	size_t n;
};

/* A classic pcap file (either byte order, micro- or nanosecond stamps):
 * (linux/bpf.h and pcap/bpf.h cannot be included together, so no libpcap). */
static void cb_read_pcap(const char *path, struct cbframes *f)
{
	uint8_t gh[24], rh[16];
	size_t cap = 0;
	int swap;
	FILE *p = fopen(path, "rb");

	if (!p)
		die("%s: %s", path, strerror(errno));
	memset(f, 0, sizeof(*f));
	if (fread(gh, 1, sizeof(gh), p) != sizeof(gh))
		die("%s: no pcap header", path);
	{
		uint32_t magic;

		memcpy(&magic, gh, 4);
		if (magic == 0xa1b2c3d4u || magic == 0xa1b23c4du)
			swap = 0;
		else if (magic == 0xd4c3b2a1u || magic == 0x4d3cb2a1u)
			swap = 1;
		else
			die("%s: not a pcap file", path);
	}
	while (fread(rh, 1, sizeof(rh), p) == sizeof(rh)) {
		uint32_t caplen;

		memcpy(&caplen, rh + 8, 4);
		if (swap)
			caplen = __builtin_bswap32(caplen);
		if (f->n == cap) {
			cap = cap ? cap * 2 : 16384;
			f->b = realloc(f->b, cap * sizeof(*f->b));
			f->len = realloc(f->len, cap * sizeof(*f->len));
			if (!f->b || !f->len)
				die("out of memory");
		}
		if (caplen > sizeof(f->b[0]))
			die("%s: packet %zu is %u bytes, more than this bench handles", path, f->n,
			    caplen);
		if (fread(f->b[f->n], 1, caplen, p) != caplen)
			die("%s: truncated packet %zu", path, f->n);
		f->len[f->n++] = caplen;
	}
	fclose(p);
	if (!f->n)
		die("%s: no packets", path);
}

/* expected verdict and rule of packet idx ('-' = policy: XW_PRIO_NONE) */
static int cb_expected(const char *path, size_t want, int *verdict, uint32_t *prio)
{
	static FILE *f;
	static char cur[4096];
	static size_t at;
	char line[256], v[16], p[32];
	size_t idx;

	if (!f || strcmp(cur, path) || want < at) {
		if (f)
			fclose(f);
		f = fopen(path, "r");
		if (!f)
			die("%s: %s", path, strerror(errno));
		snprintf(cur, sizeof(cur), "%s", path);
		at = 0;
	}
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || sscanf(line, "%zu %15s %31s", &idx, v, p) != 3)
			continue;
		at = idx + 1;
		if (idx != want)
			continue;
		*verdict = !strcmp(v, "pass") ? XW_PASS : XW_DROP;
		*prio = !strcmp(p, "-") ? XW_PRIO_NONE : (uint32_t)strtoul(p, NULL, 10);
		return 0;
	}
	return -1;
}

static void cb_row(struct xw_dp *dp, int drop_fd, const char *dir, const char *xwall,
		   const char *name, struct cbrow *r, FILE *dat)
{
	char rpath[4096], ppath[4096], epath[4096];
	struct xw_ruleset rs, empty;
	struct xw_err err;
	struct cbframes fr;
	char *text;
	size_t len, k;
	double t0, *ap, *d;
	unsigned reps[2];
	size_t *pick;

	memset(r, 0, sizeof(*r));
	r->mem_empty = g_cb_mem_empty;
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(rpath, sizeof(rpath), "%s/%s.rules", dir, name);
	snprintf(ppath, sizeof(ppath), "%s/%s.pcap", dir, name);
	snprintf(epath, sizeof(epath), "%s/%s.expected", dir, name);
	progress("ClassBench %s", name);
	{
		FILE *f = fopen(rpath, "r");

		if (!f)
			die("%s: %s (scripts/bench.sh makes it)", rpath, strerror(errno));
		fseek(f, 0, SEEK_END);
		len = (size_t)ftell(f);
		rewind(f);
		text = malloc(len + 1);
		if (!text || fread(text, 1, len, f) != len)
			die("%s: read failed", rpath);
		text[len] = 0;
		fclose(f);
	}
	cb_shapes(xwall, rpath, r);
	xw_ruleset_init(&rs);
	xw_ruleset_init(&empty);
	t0 = now_ms();
	if (xw_parse_text(text, len, rpath, &rs, &err))
		die("%s", err.msg);
	r->parse_ms = now_ms() - t0;
	free(text);
	r->rules = rs.n;

	/* apply onto the live instance holding the empty set, median of runs */
	ap = calloc(g_apply_runs, sizeof(double));
	if (!ap)
		die("out of memory");
	for (unsigned i = 0; i < g_apply_runs && !r->refused; i++) {
		int rc;

		if (xw_dp_apply(dp, &empty, &err))
			die("apply the empty set: %s", err.msg);
		t0 = now_ms();
		rc = xw_dp_apply(dp, &rs, &err);
		ap[i] = now_ms() - t0;
		if (rc == XW_EINPUT) {
			r->refused = 1;
			snprintf(r->err, sizeof(r->err), "%s", err.msg);
		} else if (rc) {
			die("%s: apply: %s", name, err.msg);
		}
	}
	if (!r->refused) {
		r->apply_ms = median(ap, g_apply_runs);
		r->mem = dp_memlock(dp);
	} else {
		r->apply_ms = ap[0];    /* the time it took to refuse */
		r->mem = r->mem_empty;
	}
	free(ap);
	xw_ruleset_free(&rs);

	cb_read_pcap(ppath, &fr);
	r->packets = fr.n;
	k = g_cb_pkts < fr.n ? g_cb_pkts : fr.n;
	pick = calloc(k ? k : 1, sizeof(*pick));
	d = calloc(k ? 2 * k * g_trials : 1, sizeof(double));
	if (!pick || !d)
		die("out of memory");
	for (size_t i = 0; i < k; i++)
		pick[i] = (i * fr.n + fr.n / (2 * k)) / k;

	/* the sampled frames must get the oracle's verdict and rule */
	if (!r->refused)
		for (size_t i = 0; i < k; i++) {
			struct xw_test_result tr;
			uint32_t prio;
			int verdict;

			if (cb_expected(epath, pick[i], &verdict, &prio))
				die("%s: no expected verdict for packet %zu", epath, pick[i]);
			if (xw_dp_test_run(dp, fr.b[pick[i]], fr.len[pick[i]], &tr, &err))
				die("xwall test run: %s", err.msg);
			r->checked++;
			if (tr.verdict != verdict || tr.prio != prio) {
				r->mismatches++;
				fprintf(stderr, "xwbench: %s packet %zu: rule %u, oracle %u\n", name,
					pick[i], tr.prio, prio);
			}
		}

	/* repeat per program: about 4 ms per call at the warm-up speed */
	for (int j = 0; j < 2; j++) {
		int fd = j ? drop_fd : dp->prog_fd[XW_P_XDP];
		uint32_t dur = 0, rv;
		double sum = 0;

		reps[j] = g_cb_repeat;
		if (j == 0 && r->refused)
			continue;
		for (size_t i = 0; i < k; i++) {
			if (test_run_buf(fd, fr.b[pick[i]], fr.len[pick[i]], 1000, &dur, &rv))
				die("BPF_PROG_TEST_RUN: %s", strerror(errno));
			sum += dur;
		}
		sum /= (double)k;
		if (sum > 0 && sum * reps[j] > 4e6)
			reps[j] = (unsigned)(4e6 / sum) < 1000 ? 1000 : (unsigned)(4e6 / sum);
	}
	for (unsigned t = 0; t < g_trials; t++)
		for (size_t i = 0; i < k; i++)
			for (int j = 0; j < 2; j++) {
				int fd = j ? drop_fd : dp->prog_fd[XW_P_XDP];
				uint32_t dur = 0, rv = 0;

				if (j == 0 && r->refused)
					continue;
				if (test_run_buf(fd, fr.b[pick[i]], fr.len[pick[i]], reps[j], &dur, &rv))
					die("BPF_PROG_TEST_RUN: %s", strerror(errno));
				d[(j * k + i) * g_trials + t] = dur;
			}
	for (int j = 0; j < 2; j++) {
		double s = 0;

		if (j == 0 && r->refused)
			continue;
		for (size_t i = 0; i < k; i++)
			s += median(&d[(j * k + i) * g_trials], g_trials);
		if (getenv("XWB_CB_DUMP"))   /* per frame: trace index and ns, for a model fit */
			for (size_t i = 0; i < k; i++)
				fprintf(stderr, "xwbench: %s %s frame %zu %.1f ns\n", name,
					j ? "drop" : "xwall", pick[i],
					median(&d[(j * k + i) * g_trials], g_trials));
		if (j)
			r->drop_ns = s / (double)k;
		else
			r->xw_ns = s / (double)k;
	}
	if (dat)
		fprintf(dat, "%s %zu %.1f %.1f %.2f %.1f %d\n", name, r->rules, r->refused ? -1 : r->xw_ns,
			r->drop_ns, r->refused ? -1 : r->apply_ms,
			r->refused ? -1 : (double)r->mem / 1024.0, r->refused);
	free(pick);
	free(d);
	free(fr.b);
	free(fr.len);
}

static int bench_cb(void)
{
	const char *dir = getenv("XWB_CB_DIR"), *sets = getenv("XWB_CB_SETS");
	const char *xwall = getenv("XWALL"), *datf = getenv("XWB_CB_DATA");
	struct cbrow *rows = NULL;
	size_t n = 0, refused = 0, mism = 0;
	struct xw_dp dp;
	struct xw_err err;
	cpu_set_t set;
	char *list, *tok, *save;
	FILE *dat = NULL;
	int drop_fd, cpu = sched_getcpu();
	const char *e;

	if ((e = getenv("XWB_CB_PKTS")) && atoi(e) > 0)
		g_cb_pkts = (unsigned)atoi(e);
	if ((e = getenv("XWB_CB_REPEAT")) && atoi(e) > 0)
		g_cb_repeat = (unsigned)atoi(e);
	if (!dir || !*dir)
		dir = "build/classbench";
	if (!xwall || !*xwall)
		xwall = "build/xwall";
	if (!sets || !*sets)
		die("XWB_CB_SETS: no ClassBench sets named (scripts/bench.sh sets it)");
	CPU_ZERO(&set);
	CPU_SET(cpu < 0 ? 0 : cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
	drop_fd = load_drop_prog();
	if (xw_dp_load_private(&dp, &err))
		die("load xwall: %s", err.msg);
	libbpf_set_print(libbpf_silent);
	{
		struct xw_ruleset empty;

		xw_ruleset_init(&empty);
		if (xw_dp_apply(&dp, &empty, &err))
			die("apply the empty set: %s", err.msg);
		g_cb_mem_empty = dp_memlock(&dp);
	}
	if (datf && *datf && !(dat = fopen(datf, "w")))
		die("%s: %s", datf, strerror(errno));

	list = strdup(sets);
	if (!list)
		die("out of memory");
	for (tok = strtok_r(list, " ,", &save); tok; tok = strtok_r(NULL, " ,", &save)) {
		rows = realloc(rows, (n + 1) * sizeof(*rows));
		if (!rows)
			die("out of memory");
		cb_row(&dp, drop_fd, dir, xwall, tok, &rows[n], dat);
		refused += rows[n].refused;
		mism += rows[n].mismatches;
		n++;
	}
	free(list);
	if (dat)
		fclose(dat);
	xw_dp_close(&dp);
	close(drop_fd);

	printf("\n== ClassBench: per-packet cost, apply time, map memory\n");
	printf("   ClassBench rule sets (shared/classbench, converted by its cb2xwall.py: first match,\n"
	       "   alternate pass/drop, policy pass) and worst_rand1k (scripts/cb-worst.py: random\n"
	       "   prefix lengths on both addresses, random port ranges on both ports).\n"
	       "   shapes: what `xwall apply --check` prints.  ns/packet: BPF_PROG_TEST_RUN `duration`\n"
	       "   of xwall's XDP program and of a trivial XDP_DROP on the same %u frames spread evenly\n"
	       "   over the set's trace (every frame's verdict and rule checked against the oracle),\n"
	       "   median of %u trials per frame, mean over the frames; x DROP = xwall / XDP_DROP.\n"
	       "   apply: xw_dp_apply of the parsed set onto a live private instance holding the empty\n"
	       "   set, median of %u runs (refused: the time to refuse).  map KiB: memlock of every\n"
	       "   xwall map (inner maps included, /proc/PID/fdinfo as bpftool shows it) with the set\n"
	       "   applied; +empty: over the fresh instance holding the empty set (%.0f KiB, before\n"
	       "   any set: the flow table and the other fixed maps).\n\n",
	       g_cb_pkts, g_trials, g_apply_runs, (double)g_cb_mem_empty / 1024);
	printf("%-13s | %7s | %-44s | %8s | %8s | %7s | %9s | %9s | %8s |\n", "set", "rules",
	       "shapes (apply --check)", "xwall ns", "DROP ns", "x DROP", "apply ms", "map KiB",
	       "+empty");
	for (size_t i = 0; i < n; i++) {
		const struct cbrow *r = &rows[i];

		if (r->refused) {
			printf("%-13s | %7zu | %-44s | %8s | %8.1f | %7s | %9.1f | %9s | %8s |\n", r->name,
			       r->rules, "refused", "-", r->drop_ns, "-", r->apply_ms, "-", "-");
			continue;
		}
		printf("%-13s | %7zu | %-44s | %8.1f | %8.1f | %6.1fx | %9.1f | %9.0f | %8.0f |\n",
		       r->name, r->rules, r->shapes, r->xw_ns, r->drop_ns,
		       r->drop_ns > 0 ? r->xw_ns / r->drop_ns : 0, r->apply_ms, (double)r->mem / 1024,
		       ((double)r->mem - (double)r->mem_empty) / 1024);
	}
	printf("\n");
	for (size_t i = 0; i < n; i++)
		if (rows[i].refused)
			printf("   %s refused: %s\n", rows[i].name, rows[i].err);
	printf("   sampled frames checked against the oracle: %zu mismatches\n", mism);
	free(rows);
	return mism ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "all";
	const char *e;

	if ((e = getenv("XWB_REPEAT")) && atoi(e) > 0)
		g_repeat = (unsigned)atoi(e);
	if ((e = getenv("XWB_TRIALS")) && atoi(e) > 0)
		g_trials = (unsigned)atoi(e);
	if ((e = getenv("XWB_APPLY_RUNS")) && atoi(e) > 0 && atoi(e) <= 9)
		g_apply_runs = (unsigned)atoi(e);
	if ((e = getenv("XWB_MAX_RULES")) && atol(e) > 0)
		g_max_rules = (size_t)atol(e);
	if ((e = getenv("XWB_CT_BATCH")) && atoi(e) > 0)
		g_ct_batch = (unsigned)atoi(e);
	if ((e = getenv("XWB_CT_INSERTS")) && atoi(e) > 0)
		g_ct_inserts = (unsigned)atoi(e);
	if (!strcmp(mode, "version")) {
		printf("libbpf %s\n", libbpf_version_string());
		return 0;
	}
	if (geteuid() != 0)
		die("needs root (BPF_PROG_TEST_RUN, map creation, network namespaces)");
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (!strcmp(mode, "pkt"))
		return bench_pkt();
	if (!strcmp(mode, "ct"))
		return bench_ct();
	if (!strcmp(mode, "apply"))
		return bench_apply();
	if (!strcmp(mode, "cb"))
		return bench_cb();
	if (!strcmp(mode, "all"))
		return bench_pkt() || bench_ct() || bench_apply();
	fprintf(stderr, "usage: xwbench [pkt|ct|apply|cb|all|version]\n");
	return 2;
}
