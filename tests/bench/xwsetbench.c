// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Named sets at scale (README "Blocklists and bans"), on a private xwall
 * instance (nothing attached, nothing pinned):
 *
 *   load      replacing all elements of a set of N elements (half IPv4
 *             /32, half IPv6 /128, random) with xw_set_replace, what
 *             `set load` does after parsing
 *   add       one element added to that set (mean of 1000 xw_set_update)
 *   pkt       ns per packet through BPF_PROG_TEST_RUN (rule `src @bl drop`
 *             ahead of an empty classifier) for a source in / not in the
 *             set, with 1,000 and with N elements; each trial also runs a
 *             trivial XDP_DROP program (`r0 = XDP_DROP; exit`) on the same
 *             frame, and the table gives xwall's time minus the trivial
 *             one's (the test-run harness), and the raw time
 *
 * Usage: xwsetbench [N]   (default 1000000).  XWB_REPEAT: test-run repeat
 * (default 200000).  Prints a Markdown table; numbers are medians of 3. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "datapath.h"
#include "pktbuild.h"
#include "rule.h"
#include "sets.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* CPU time of this process, user and system (the kernel's map updates). */
static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void die(const char *m, const char *d)
{
	fprintf(stderr, "xwsetbench: %s: %s\n", m, d);
	exit(2);
}

static int cmpu(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static uint64_t med3(uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t v[3] = { a, b, c };

	qsort(v, 3, sizeof(v[0]), cmpu);
	return v[1];
}

/* `r0 = XDP_DROP; exit`: what the test-run harness costs around a program. */
static int load_drop_prog(void)
{
	struct bpf_insn insns[2];
	int fd;

	memset(insns, 0, sizeof(insns));
	insns[0].code = BPF_ALU64 | BPF_MOV | BPF_K;
	insns[0].dst_reg = BPF_REG_0;
	insns[0].imm = XDP_DROP;
	insns[1].code = BPF_JMP | BPF_EXIT;
	fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "xwsb_drop", "GPL", insns, 2, NULL);
	if (fd < 0)
		die("load the trivial program", strerror(errno));
	return fd;
}

struct pkt_cost {
	double net, raw;   /* ns: minus the trivial program's, and as measured */
};

static uint64_t run_ns(int fd, const uint8_t *buf, size_t len, unsigned repeat)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = buf, .data_size_in = (__u32)len,
		    .repeat = repeat);

	if (bpf_prog_test_run_opts(fd, &o))
		die("test run", strerror(errno));
	return o.duration;
}

static struct pkt_cost pkt_ns(struct xw_dp *dp, int drop_fd, const uint8_t *src4, unsigned repeat)
{
	struct xw_pb_spec s;
	uint8_t buf[XW_PB_MAX];
	uint64_t d[3], tr[3];
	struct pkt_cost c;
	size_t len;

	memset(&s, 0, sizeof(s));
	s.vlan = -1;
	s.eth_type = 0x0800;
	s.l3 = XW_PB_L3_V4;
	memcpy(s.src, src4, 4);
	s.dst[0] = 198, s.dst[1] = 51, s.dst[2] = 100, s.dst[3] = 1;
	s.proto = 17;
	s.l4 = 1;
	s.sport = 40000;
	s.dport = 53;
	len = xw_pb_build(&s, buf, sizeof(buf));
	for (int t = 0; t < 3; t++) {
		tr[t] = run_ns(drop_fd, buf, len, repeat);
		d[t] = run_ns(dp->prog_fd[XW_P_XDP], buf, len, repeat);
	}
	c.raw = (double)med3(d[0], d[1], d[2]);
	c.net = c.raw - (double)med3(tr[0], tr[1], tr[2]);
	return c;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	const char *rep = getenv("XWB_REPEAT");
	unsigned repeat = rep ? (unsigned)strtoul(rep, NULL, 10) : 200000;
	struct xw_set_elem *el = calloc(n + 1, sizeof(*el));
	uint64_t seed = (uint64_t)now_ns() | 1, t0, c0, load[3], cpu[3], add;
	struct xw_ruleset rs;
	struct xw_set_def def;
	struct xw_dp dp;
	struct xw_err err;
	char text[512];
	uint32_t id;
	struct pkt_cost in_small, out_small, in_big, out_big;
	int drop_fd;
	uint8_t member[4], other[4] = { 203, 0, 113, 250 };

	if (!el || n < 1000)
		die("usage", "xwsetbench [N >= 1000]");
	fprintf(stderr, "xwsetbench: seed %llu, %zu elements\n", (unsigned long long)seed, n);
	for (size_t i = 0; i < n; i++) {
		uint64_t r = rnd(&seed), r2 = rnd(&seed);

		el[i].kind = i % 2 ? XW_SETK_V6 : XW_SETK_V4;
		el[i].plen = i % 2 ? 128 : 32;
		if (i % 2) {
			el[i].addr[0] = 0x20, el[i].addr[1] = 0x01, el[i].addr[2] = 0x0d, el[i].addr[3] = 0xb8;
			memcpy(el[i].addr + 4, &r, 8);
			memcpy(el[i].addr + 12, &r2, 4);
		} else {
			el[i].addr[0] = 10 + (uint8_t)(r % 100);   /* never 203.0.113.x */
			memcpy(el[i].addr + 1, &r2, 3);
		}
	}
	memcpy(member, el[0].addr, 4);
	libbpf_set_print(NULL);
	drop_fd = load_drop_prog();
	xw_dp_init(&dp);
	if (xw_dp_load_private(&dp, &err))
		die("load", err.msg);
	snprintf(text, sizeof(text), "set bl { type inet_addr; size %zu; }\nrule 10 in src @bl drop\n",
		 n + 2000);
	if (xw_parse_text(text, strlen(text), "bench", &rs, &err) || xw_dp_apply(&dp, &rs, &err))
		die("apply", err.msg);
	id = xw_set_find(&dp, "bl", &def);
	if (!id)
		die("set", "not found");
	/* 1,000 elements */
	if (xw_set_replace(&dp, id, &def, el, 1000, &err))
		die("load 1000", err.msg);
	in_small = pkt_ns(&dp, drop_fd, member, repeat);
	out_small = pkt_ns(&dp, drop_fd, other, repeat);
	for (int t = 0; t < 3; t++) {
		t0 = now_ns();
		c0 = cpu_ns();
		if (xw_set_replace(&dp, id, &def, el, n, &err))
			die("load", err.msg);
		load[t] = now_ns() - t0;
		cpu[t] = cpu_ns() - c0;
		fprintf(stderr, "xwsetbench: load %zu: %.3f s (CPU %.3f s)\n", n, (double)load[t] / 1e9,
			(double)cpu[t] / 1e9);
	}
	in_big = pkt_ns(&dp, drop_fd, member, repeat);
	out_big = pkt_ns(&dp, drop_fd, other, repeat);
	t0 = now_ns();
	for (int i = 0; i < 1000; i++) {
		struct xw_set_elem e = { .kind = XW_SETK_V4, .plen = 32,
					 .addr = { 192, 0, 2, (uint8_t)i } };

		e.addr[2] = (uint8_t)(i >> 8);
		if (xw_set_update(&dp, id, &def, &e, 1, false, &err))
			die("add", err.msg);
	}
	add = (now_ns() - t0) / 1000;
	printf("| measure | value |\n| --- | --- |\n");
	printf("| replace all elements, %zu (IPv4+IPv6), wall (CPU of the process) | %.3f s (%.3f s) |\n",
	       n, (double)med3(load[0], load[1], load[2]) / 1e9, (double)med3(cpu[0], cpu[1], cpu[2]) / 1e9);
	printf("| one element added (library call, mean of 1000) | %.1f us |\n", (double)add / 1e3);
	printf("| ns/packet, source in set, 1,000 elements (raw) | %.1f (%.1f) |\n", in_small.net,
	       in_small.raw);
	printf("| ns/packet, source not in set, 1,000 elements (raw) | %.1f (%.1f) |\n", out_small.net,
	       out_small.raw);
	printf("| ns/packet, source in set, %zu elements (raw) | %.1f (%.1f): %.2fx |\n", n,
	       in_big.net, in_big.raw, in_big.net / in_small.net);
	printf("| ns/packet, source not in set, %zu elements (raw) | %.1f (%.1f): %.2fx |\n", n,
	       out_big.net, out_big.raw, out_big.net / out_small.net);
	close(drop_fd);
	xw_ruleset_free(&rs);
	xw_dp_close(&dp);
	free(el);
	return 0;
}
