// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* libFuzzer harness for the BPF packet parser and classifier: every input is
 * one Ethernet frame, run through the real XDP program of private datapath
 * instances with BPF_PROG_TEST_RUN, and the verdict, matching rule, reason,
 * malformed / short flag and XDP action must be what the reference
 * classifier (tests/ref/refclass.c) says, compared as the differential test
 * does (tests/ref/dpcheck.c).  A disagreement prints the frame and both
 * answers and aborts, which libFuzzer reports as a crash.
 *
 * Two rule sets, each on its own private instance (nothing is pinned or
 * attached): hand-written rules with every stateless match kind, and a
 * random set of a few hundred rules (fixed seed) whose many tuples exercise
 * the tuple walk and the membership filters.  Frames shorter than 14 bytes,
 * which BPF_PROG_TEST_RUN refuses, must get the policy with reason "short"
 * from the reference (the datapath's defined answer); a frame the program
 * cannot see whole under test_run (longer than a page) is skipped: the
 * harness runs with -max_len well below that.
 *
 * Needs root (loads BPF programs): `make fuzz-xdp`. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>

#include "datapath.h"
#include "dpcheck.h"
#include "pktgen.h"
#include "refclass.h"
#include "rule.h"
#include "rulegen.h"
#include "xwall.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RANDOM_RULES 300u
#define RANDOM_SEED  0x5eed0f22u

static const char hand_rules[] =
	"policy drop\n"
	"rule 10 ether src 02:00:00:00:00:01 tcp dport 22 pass\n"
	"rule 20 ether dst 52:54:00:ab:cd:ef udp drop\n"
	"rule 30 ether type arp pass\n"
	"rule 35 ether type 0x88cc drop\n"
	"rule 40 vlan 100 ip6 pass\n"
	"rule 45 vlan 4095 ether type ip drop\n"
	"rule 46 ether type vlan drop\n"
	"rule 50 ip proto gre pass\n"
	"rule 55 ip6 proto 0 drop\n"
	"rule 60 src 10.0.0.0/24,192.168.1.100 dport 80-443 drop\n"
	"rule 70 dst 2001:db8::/48,fe80::1 sport 53,5353,1024-2047 pass\n"
	"rule 80 tcp flags syn / syn,ack drop\n"
	"rule 85 tcp flags syn,ack pass\n"
	"rule 86 tcp flags fin,psh,urg drop\n"
	"rule 90 icmp type echo-request code 0 drop\n"
	"rule 95 icmp type 3-5 code 1,3 pass\n"
	"rule 100 icmpv6 type 128-136 pass\n"
	"rule 105 icmpv6 type destination-unreachable code 4 drop\n"
	"rule 110 frag first drop\n"
	"rule 120 frag later pass\n"
	"rule 130 ip6 frag log drop\n"
	"rule 140 sctp sport 0-1023 pass\n"
	"rule 150 iif lo src 8.8.8.8 drop\n"
	"rule 160 out tcp dport 25 drop\n"
	"rule 170 proto 58 drop\n"
	"rule 175 ip6 src 2001:db8::/32 dst 2001:db8:1::/48 udp dport 0-65535 pass\n"
	"rule 176 udp sport 0 dport 0 drop\n"
	"rule 180 dst 0.0.0.0/1 log pass\n"
	"rule 190 src ::/0 drop\n"
	"rule 200 ether type 0x1234 pass\n"
	"rule 210 ip pass\n";

struct inst {
	const char *name;
	struct xw_dp dp;
	struct xw_ruleset rs;
	uint32_t *rif;          /* per rule: its iif's ifindex */
};

static struct inst insts[2];
static uint32_t lo_ifindex;
static int ready;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz_xdp: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static void inst_load(struct inst *in, const char *name, const char *text)
{
	struct xw_err err = { { 0 } };

	in->name = name;
	if (xw_parse_text(text, strlen(text), name, &in->rs, &err))
		die("%s: %s", name, err.msg);
	in->rif = calloc(in->rs.n + 1, sizeof(*in->rif));
	if (!in->rif)
		die("out of memory");
	for (size_t i = 0; i < in->rs.n; i++)
		if (in->rs.rules[i].present & XM_IIF) {
			in->rif[i] = if_nametoindex(in->rs.rules[i].iif);
			if (!in->rif[i])
				die("%s: no interface %s", name, in->rs.rules[i].iif);
		}
	xw_dp_init(&in->dp);
	if (xw_dp_load_private(&in->dp, &err))
		die("%s: load a private datapath (needs root): %s", name, err.msg);
	if (xw_dp_apply(&in->dp, &in->rs, &err))
		die("%s: apply: %s", name, err.msg);
}

static void setup(void)
{
	struct xw_rng r;
	char *text;

	lo_ifindex = if_nametoindex("lo");
	if (!lo_ifindex)
		die("no loopback interface");
	inst_load(&insts[0], "hand", hand_rules);
	xw_rng_seed(&r, RANDOM_SEED);
	text = xw_rulegen(&r, RANDOM_RULES, 1);
	if (!text)
		die("rule generator failed");
	inst_load(&insts[1], "random", text);
	free(text);
	fprintf(stderr, "fuzz_xdp: rule sets hand (%zu rules) and random (%zu rules, seed 0x%x) "
		"loaded\n", insts[0].rs.n, insts[1].rs.n, RANDOM_SEED);
	ready = 1;
}

static void mismatch(const struct inst *in, const uint8_t *d, size_t n, const char *why,
		     const struct xw_ref_result *ref, const struct xw_test_result *got)
{
	struct xw_ref_pkt p;
	char desc[1024];

	xw_ref_parse(d, n, &p);
	xw_ref_pkt_format(&p, desc, sizeof(desc));
	fprintf(stderr, "fuzz_xdp: MISMATCH (%s), rule set %s, %zu-byte frame:", why, in->name, n);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "%s%02x", i % 32 ? (i % 4 ? "" : " ") : "\n    ", d[i]);
	fprintf(stderr, "\n  ref parse: %s\n  ref: verdict %d prio %u reason %u malformed %u "
		"short %u\n", desc, ref->verdict, ref->prio, ref->reason, ref->malformed,
		ref->short_frame);
	if (got)
		fprintf(stderr, "  bpf: verdict %d prio %u reason %u malformed %d action %u\n",
			got->verdict, got->prio, got->reason, got->malformed, got->retval);
	abort();
}

/* Loading the programs (the kernel verifier) takes seconds: done before the
 * first input, so that it does not count against libFuzzer's -timeout. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setup();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ready)
		setup();
	for (size_t i = 0; i < sizeof(insts) / sizeof(insts[0]); i++) {
		struct inst *in = &insts[i];
		struct xw_ref_result ref;
		struct xw_test_result got;
		struct xw_err err = { { 0 } };
		const char *why;

		if (xw_ref_classify(in->rs.rules, in->rs.n, in->rs.policy, data, size, XW_DIR_IN,
				    lo_ifindex, in->rif, &ref))
			die("%s: the reference refuses the rule set", in->name);
		if (size < 14) {
			why = xw_dpcheck_short(&ref, in->rs.policy, XW_DIR_IN);
			if (why)
				mismatch(in, data, size, why, &ref, NULL);
			continue;
		}
		if (xw_dp_test_run(&in->dp, data, size, &got, &err))
			die("%s: test run of a %zu-byte frame: %s", in->name, size, err.msg);
		if (got.seen_len < size)
			continue;       /* not seen whole: cannot be compared */
		why = xw_dpcheck_run(&ref, &got);
		if (why)
			mismatch(in, data, size, why, &ref, &got);
	}
	return 0;
}
