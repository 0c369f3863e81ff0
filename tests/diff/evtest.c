// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Event ring test: exact accounting of `log` events on a private datapath
 * driven with BPF_PROG_TEST_RUN (XDP ingress, arrives on lo).
 *
 *   1  overflow: a small ring (4 KiB), no cap; rule 10 `udp log drop` and a
 *      non-logged rule 20 `tcp pass`.  Flood 100,000 UDP frames (batches of
 *      BPF_PROG_TEST_RUN repeat, one CPU) without reading the ring, then drain
 *      it: events + lost (per-CPU XW_EVC_LOST) == rule 10's counter == frames
 *      sent; the ring holds exactly size / record events; XW_EVC_SENT ==
 *      events; no event for rule 20; every event's header and bytes are right.
 *   2a concurrent: one flood thread per CPU (pinned) and a thread polling the
 *      ring meanwhile: the same identity in total and per CPU; each CPU's
 *      cumulative `lost` never goes back in ring order; the per-event deltas
 *      (as `xwall events` computes them) plus the losses not yet reported
 *      at the end == total lost.
 *   2b attribution: frames with a sequence number, lengths 60..1514 (60 and
 *      1000 among them), sent one per test run from one pinned CPU while a
 *      slow reader drains the ring: each event's `lost` is exactly the number
 *      of earlier frames that got no event; caplen == min(len, 128) and the
 *      bytes are the frame's first caplen bytes.
 *   3  per-rule cap (log_rate 50, fresh instance, big ring): two logged rules
 *      flooded within one second get exactly 50 events each, XW_EVC_CAPPED
 *      accounts for the rest (events + lost + capped == matched); after the
 *      window has passed, 50 more each.
 *   3b the cap when every CPU logs at once (log_rate 1000, the attach
 *      default): 20 fresh windows (the rule's xw_log_windows element zeroed),
 *      each flooded from all CPUs starting together (barrier): at most 1000
 *      events per window, and events + lost + capped == matched.
 *
 * Output: one line per check that fails, a summary per phase, and
 * `evtest: N checks, E errors`.  Exit 0 if no error, 1 otherwise, 2 setup.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpfdecl.h"
#include "datapath.h"
#include "pktbuild.h"
#include "rule.h"
#include "xwall.h"

#define RB_HDR       8u                                   /* BPF_RINGBUF_HDR_SZ */
#define REC_SIZE     ((sizeof(struct xw_event) + RB_HDR + 7) & ~(size_t)7)

static int n_checks, n_errors;
static int ncpu;           /* possible CPUs (per-CPU map width) */
static int nonline;        /* online CPUs used for floods */
static uint32_t lo_ifindex = 1;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;

	n_errors++;
	printf("evtest: FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* CHECK(cond, fmt, ...): count a check; print a FAIL line if cond is false */
#define CHECK(cond, ...) do { n_checks++; if (!(cond)) fail(__VA_ARGS__); } while (0)

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	printf("evtest: setup error: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(2);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("pin to CPU %d: %s", cpu, strerror(errno));
}

/* ---- frames ---- */

/* IPv4 frame of `len` bytes (>= 60): proto 17 (UDP) or 6 (TCP psh ack), ports
 * sport -> dport, a 32-bit sequence number first in the payload (frame_seq). */
static void mkframe(uint8_t *p, size_t len, int proto, uint16_t sport, uint16_t dport,
		    uint32_t seq)
{
	static const uint8_t dmac[6] = { 0x02, 0xee, 0, 0, 0, 0x02 };
	static const uint8_t smac[6] = { 0x02, 0xee, 0, 0, 0, 0x01 };
	static const uint8_t src[4] = { 10, 77, 0, 1 }, dst[4] = { 10, 77, 0, 2 };
	size_t hdr = 14 + 20 + (proto == 6 ? 20 : 8);
	uint8_t buf[XW_PB_MAX + 1514], *pl;
	struct xw_pb_spec s;

	if (len < hdr + 4 || len > 1514)
		die("frame of %zu bytes: no room for a sequence number", len);
	memset(&s, 0, sizeof(s));
	memcpy(s.eth_dst, dmac, 6);
	memcpy(s.eth_src, smac, 6);
	s.vlan = -1;
	s.eth_type = 0x0800;
	s.l3 = XW_PB_L3_V4;
	memcpy(s.src, src, 4);
	memcpy(s.dst, dst, 4);
	s.proto = (uint8_t)proto;
	s.l4 = 1;
	s.sport = sport;
	s.dport = dport;
	s.tcp_flags = 0x18;
	s.payload = (uint16_t)(len - hdr);
	if (xw_pb_build(&s, buf, sizeof(buf)) != len)
		die("cannot build a %zu-byte frame", len);
	pl = buf + hdr;
	pl[0] = (uint8_t)(seq >> 24);
	pl[1] = (uint8_t)(seq >> 16);
	pl[2] = (uint8_t)(seq >> 8);
	pl[3] = (uint8_t)seq;
	memcpy(p, buf, len);
}

static uint32_t frame_seq(const uint8_t *d, size_t caplen)
{
	if (caplen < 46)
		return UINT32_MAX;
	return (uint32_t)d[42] << 24 | (uint32_t)d[43] << 16 | (uint32_t)d[44] << 8 | d[45];
}

/* ---- datapath ---- */

struct inst {
	struct xw_dp dp;
	uint32_t slot[8];      /* counter slot of rule i of the set (in prio order) */
	uint32_t prio[8];
	size_t nrules;
};

static void inst_load(struct inst *in, uint32_t ring, uint32_t rate, const char *rules)
{
	struct xw_ruleset rs;
	struct xw_err err;
	uint32_t *slots = NULL;

	memset(in, 0, sizeof(*in));
	xw_dp_set_ring_size(ring);
	xw_dp_set_log_rate(rate);
	if (xw_dp_load_private(&in->dp, &err))
		die("load a private datapath: %s", err.msg);
	xw_ruleset_init(&rs);
	if (xw_parse_text(rules, strlen(rules), "evtest", &rs, &err))
		die("rules: %s", err.msg);
	if (xw_dp_apply(&in->dp, &rs, &err))
		die("apply: %s", err.msg);
	xw_ruleset_free(&rs);
	if (xw_dp_read_rules(&in->dp, &rs, &slots, NULL, &err))
		die("read rules back: %s", err.msg);
	if (rs.n > 8)
		die("too many rules");
	in->nrules = rs.n;
	for (size_t i = 0; i < rs.n; i++) {
		in->slot[i] = slots[i];
		in->prio[i] = rs.rules[i].prio;
	}
	free(slots);
	xw_ruleset_free(&rs);
}

static uint64_t rule_packets(struct inst *in, uint32_t prio)
{
	struct xw_counter c;

	for (size_t i = 0; i < in->nrules; i++)
		if (in->prio[i] == prio) {
			if (xw_dp_counter(&in->dp, XW_M_RULE_STATS, in->slot[i], &c))
				die("read rule counter: %s", strerror(errno));
			return c.packets;
		}
	die("no rule %u", prio);
}

/* per-CPU event counter k into v[ncpu]; returns the sum */
static uint64_t evc(struct inst *in, uint32_t k, uint64_t *v)
{
	uint64_t buf[512], sum = 0, *p = v ? v : buf;

	if (!v && ncpu > 512)
		die("too many CPUs");
	if (bpf_map_lookup_elem(in->dp.map_fd[XW_M_EVENT_STATS], &k, p))
		die("read xw_event_stats: %s", strerror(errno));
	for (int i = 0; i < ncpu; i++)
		sum += p[i];
	return sum;
}

/* BPF_PROG_TEST_RUN of the XDP entry program, `repeat` times (0 = once) */
static void run(struct inst *in, const uint8_t *pkt, size_t len, uint32_t repeat,
		uint32_t want_act)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = (__u32)len,
		    .repeat = repeat);
	int r;

	do {
		r = bpf_prog_test_run_opts(in->dp.prog_fd[XW_P_XDP], &o);
	} while (r && errno == EINTR && repeat == 0);
	if (r)
		die("BPF_PROG_TEST_RUN (len %zu, repeat %u): %s", len, repeat, strerror(errno));
	if (o.retval != want_act) {
		n_errors++;
		printf("evtest: FAIL: XDP action %u, expected %u (len %zu)\n", o.retval, want_act, len);
	}
}

/* ---- event collection ---- */

struct evlog {
	struct xw_event *v;
	size_t n, cap;
	size_t bad_size;
};

static int on_event(void *ctx, void *data, size_t size)
{
	struct evlog *l = ctx;

	if (size != sizeof(struct xw_event)) {
		l->bad_size++;
		return 0;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 1024;
		struct xw_event *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	memcpy(&l->v[l->n++], data, sizeof(struct xw_event));
	return 0;
}

static struct ring_buffer *ring_open(struct inst *in, struct evlog *l)
{
	struct ring_buffer *rb = ring_buffer__new(in->dp.map_fd[XW_M_EVENTS], on_event, l, NULL);

	if (!rb)
		die("ring_buffer__new: %s", strerror(errno));
	return rb;
}

/* Header fields every event of `udp log drop` rule 10 must have; data
 * compared with frame(seq, len) built by `mk`.  Returns the number of bad
 * events (the first few are printed). */
static size_t check_event(const struct xw_event *e, uint32_t prio, uint8_t verdict,
			  const uint8_t *frame, size_t flen, size_t *shown, const char *phase)
{
	size_t want_cap = flen < XW_EVENT_SNAP ? flen : XW_EVENT_SNAP;
	int bad = 0;
	char why[160] = "";

	if (e->prio != prio)
		bad = snprintf(why, sizeof(why), "rule %u, expected %u", e->prio, prio);
	else if (e->verdict != verdict)
		bad = snprintf(why, sizeof(why), "verdict %u, expected %u", e->verdict, verdict);
	else if (e->dir != XW_DIR_IN)
		bad = snprintf(why, sizeof(why), "dir %u", e->dir);
	else if (e->ifindex != lo_ifindex)
		bad = snprintf(why, sizeof(why), "ifindex %u, expected %u (lo)", e->ifindex, lo_ifindex);
	else if (e->len != flen)
		bad = snprintf(why, sizeof(why), "len %u, expected %zu", e->len, flen);
	else if (e->caplen != want_cap)
		bad = snprintf(why, sizeof(why), "caplen %u, expected %zu", e->caplen, want_cap);
	else if (memcmp(e->data, frame, want_cap))
		bad = snprintf(why, sizeof(why), "captured bytes differ from the frame (len %zu)", flen);
	else if ((int)e->cpu >= ncpu)
		bad = snprintf(why, sizeof(why), "cpu %u out of range", e->cpu);
	else if (e->time_ns == 0)
		bad = snprintf(why, sizeof(why), "time_ns 0");
	if (bad && (*shown)++ < 5)
		fail("%s: event (rule %u len %u caplen %u cpu %u): %s", phase, e->prio, e->len,
		     e->caplen, e->cpu, why);
	return bad ? 1 : 0;
}

/* ---- phase 1: overflow without reading ---- */

static void phase1(void)
{
	const uint32_t ring = 4096, batches = 5, rep = 20000, tcp_rep = 3000;
	struct inst in;
	struct evlog l = { 0 };
	struct ring_buffer *rb;
	uint8_t udp[60], tcp[60];
	uint64_t lost, sent, capped, m10, m20, total = (uint64_t)batches * rep;
	size_t bad = 0, shown = 0, cap_events = ring / REC_SIZE;
	int n;

	inst_load(&in, ring, 0, "rule 10 in udp log drop\nrule 20 in tcp pass\n");
	pin_cpu(0);
	mkframe(udp, sizeof(udp), 17, 40000, 5353, 7);
	mkframe(tcp, sizeof(tcp), 6, 40001, 80, 8);
	for (uint32_t b = 0; b < batches; b++) {
		run(&in, udp, sizeof(udp), rep, XW_XDP_DROP);
		run(&in, tcp, sizeof(tcp), tcp_rep / batches, XW_XDP_PASS);
	}
	rb = ring_open(&in, &l);
	n = ring_buffer__consume(rb);
	CHECK(n >= 0, "phase 1: ring_buffer__consume: %d", n);
	lost = evc(&in, XW_EVC_LOST, NULL);
	sent = evc(&in, XW_EVC_SENT, NULL);
	capped = evc(&in, XW_EVC_CAPPED, NULL);
	m10 = rule_packets(&in, 10);
	m20 = rule_packets(&in, 20);
	for (size_t i = 0; i < l.n; i++)
		bad += check_event(&l.v[i], 10, XW_DROP, udp, sizeof(udp), &shown, "phase 1");
	printf("evtest: phase 1 (ring %u B, record %zu B, no cap, 1 CPU): sent %" PRIu64
	       " udp, rule 10 matched %" PRIu64 ", events %zu + lost %" PRIu64 " = %" PRIu64
	       ", capped %" PRIu64 "; rule 20 (no log) %" PRIu64 "\n", ring, REC_SIZE, total, m10,
	       l.n, lost, l.n + lost, capped, m20);
	CHECK(l.bad_size == 0, "phase 1: %zu records of the wrong size", l.bad_size);
	CHECK(m10 == total, "phase 1: rule 10 counted %" PRIu64 ", sent %" PRIu64, m10, total);
	CHECK(l.n + lost == m10, "phase 1: events %zu + lost %" PRIu64 " != matched %" PRIu64,
	      l.n, lost, m10);
	CHECK(l.n == cap_events, "phase 1: %zu events in a full %u-byte ring, expected %zu", l.n,
	      ring, cap_events);
	CHECK(sent == l.n, "phase 1: XW_EVC_SENT %" PRIu64 " != events read %zu", sent, l.n);
	CHECK(capped == 0, "phase 1: XW_EVC_CAPPED %" PRIu64 " with log_rate 0", capped);
	CHECK(m20 == tcp_rep, "phase 1: rule 20 counted %" PRIu64 ", sent %u", m20, tcp_rep);
	CHECK(bad == 0, "phase 1: %zu bad events", bad);
	/* the ring was filled before any loss: all events say 0 lost before them */
	{
		size_t nz = 0;

		for (size_t i = 0; i < l.n; i++)
			nz += l.v[i].lost != 0;
		CHECK(nz == 0, "phase 1: %zu events carry lost != 0 though they precede every loss",
		      nz);
	}
	/* a drained ring takes events again; the next one reports all losses */
	l.n = 0;
	run(&in, udp, sizeof(udp), 0, XW_XDP_DROP);
	ring_buffer__consume(rb);
	CHECK(l.n == 1 && l.v[0].lost == lost,
	      "phase 1: after draining, 1 event with lost %" PRIu64 " expected; got %zu (lost %" PRIu64 ")",
	      lost, l.n, l.n ? (uint64_t)l.v[0].lost : 0);
	ring_buffer__free(rb);
	free(l.v);
	xw_dp_close(&in.dp);
}

/* ---- phase 2a: floods on every CPU, reader polling meanwhile ---- */

struct flood_arg {
	struct inst *in;
	int cpu;
	uint32_t batches, rep;
	const uint8_t *pkt;
	size_t len;
};

static atomic_int floods_done;

static void *flood_thread(void *p)
{
	struct flood_arg *a = p;

	pin_cpu(a->cpu);
	for (uint32_t b = 0; b < a->batches; b++)
		run(a->in, a->pkt, a->len, a->rep, XW_XDP_DROP);
	atomic_fetch_add(&floods_done, 1);
	return NULL;
}

struct reader_arg {
	struct ring_buffer *rb;
	atomic_int stop;
	int slow_us;     /* > 0: consume, then sleep this long */
	int err;
};

static void *reader_thread(void *p)
{
	struct reader_arg *r = p;
	cpu_set_t set;

	/* any CPU (the creator may be pinned to a flood CPU) */
	CPU_ZERO(&set);
	for (int c = 0; c < nonline; c++)
		CPU_SET(c, &set);
	sched_setaffinity(0, sizeof(set), &set);
	while (!atomic_load(&r->stop)) {
		int n = r->slow_us ? ring_buffer__consume(r->rb) : ring_buffer__poll(r->rb, 5);

		if (n < 0 && n != -EINTR) {
			r->err = n;
			break;
		}
		if (r->slow_us)
			usleep((useconds_t)r->slow_us);
	}
	return NULL;
}

static void phase2a(void)
{
	const uint32_t ring = 8192, batches = 50, rep = 2000;
	struct inst in;
	struct evlog l = { 0 };
	struct ring_buffer *rb;
	struct reader_arg ra = { 0 };
	pthread_t rt, ft[64];
	struct flood_arg fa[64];
	uint8_t udp[1000];
	uint64_t *lost_cpu = calloc((size_t)ncpu, sizeof(uint64_t));
	uint64_t *last = calloc((size_t)ncpu, sizeof(uint64_t));
	uint64_t *rep_cpu = calloc((size_t)ncpu, sizeof(uint64_t));
	uint64_t *ev_cpu = calloc((size_t)ncpu, sizeof(uint64_t));
	uint64_t lost, sent, m10, total, deltas = 0, unreported = 0;
	size_t bad = 0, shown = 0, backwards = 0;
	int nf = nonline < 64 ? nonline : 64;
	double t0;

	if (!lost_cpu || !last || !rep_cpu || !ev_cpu)
		die("out of memory");
	inst_load(&in, ring, 0, "rule 10 in udp log drop\nrule 20 in tcp pass\n");
	mkframe(udp, sizeof(udp), 17, 40000, 5353, 9);
	rb = ring_open(&in, &l);
	ra.rb = rb;
	atomic_store(&floods_done, 0);
	if (pthread_create(&rt, NULL, reader_thread, &ra))
		die("pthread_create");
	t0 = now_s();
	for (int i = 0; i < nf; i++) {
		fa[i] = (struct flood_arg){ &in, i, batches, rep, udp, sizeof(udp) };
		if (pthread_create(&ft[i], NULL, flood_thread, &fa[i]))
			die("pthread_create");
	}
	for (int i = 0; i < nf; i++)
		pthread_join(ft[i], NULL);
	t0 = now_s() - t0;
	atomic_store(&ra.stop, 1);
	pthread_join(rt, NULL);
	CHECK(ra.err == 0, "phase 2a: ring_buffer__poll: %d", ra.err);
	ring_buffer__consume(rb);            /* what was left */
	total = (uint64_t)nf * batches * rep;
	lost = evc(&in, XW_EVC_LOST, lost_cpu);
	sent = evc(&in, XW_EVC_SENT, NULL);
	m10 = rule_packets(&in, 10);
	for (size_t i = 0; i < l.n; i++) {
		const struct xw_event *e = &l.v[i];

		bad += check_event(e, 10, XW_DROP, udp, sizeof(udp), &shown, "phase 2a");
		if ((int)e->cpu >= ncpu)
			continue;
		ev_cpu[e->cpu]++;
		/* as `xwall events` does: lost since the previous event of the CPU */
		if (e->lost < last[e->cpu])
			backwards++;
		else {
			deltas += e->lost - last[e->cpu];
			last[e->cpu] = e->lost;
		}
	}
	for (int c = 0; c < ncpu; c++) {
		if (lost_cpu[c] >= last[c])
			unreported += lost_cpu[c] - last[c];
		else
			fail("phase 2a: CPU %d: an event said %" PRIu64 " lost, the counter says %" PRIu64,
			     c, last[c], lost_cpu[c]);
	}
	for (int i = 0; i < nf; i++)
		rep_cpu[i] = (uint64_t)batches * rep;
	printf("evtest: phase 2a (ring %u B, %d flood CPUs, reader polling, %.2f s): sent %" PRIu64
	       ", matched %" PRIu64 ", events %zu + lost %" PRIu64 " = %" PRIu64
	       "; per-event lost deltas %" PRIu64 " + unreported %" PRIu64 "\n", ring, nf, t0, total,
	       m10, l.n, lost, l.n + lost, deltas, unreported);
	for (int c = 0; c < nf; c++)
		printf("evtest:   CPU %d: sent %" PRIu64 ", events %" PRIu64 " + lost %" PRIu64 "\n", c,
		       rep_cpu[c], ev_cpu[c], lost_cpu[c]);
	CHECK(l.bad_size == 0, "phase 2a: %zu records of the wrong size", l.bad_size);
	CHECK(m10 == total, "phase 2a: rule 10 counted %" PRIu64 ", sent %" PRIu64, m10, total);
	CHECK(l.n + lost == m10, "phase 2a: events %zu + lost %" PRIu64 " != matched %" PRIu64,
	      l.n, lost, m10);
	CHECK(sent == l.n, "phase 2a: XW_EVC_SENT %" PRIu64 " != events read %zu", sent, l.n);
	for (int c = 0; c < ncpu; c++)
		CHECK(ev_cpu[c] + lost_cpu[c] == rep_cpu[c],
		      "phase 2a: CPU %d: events %" PRIu64 " + lost %" PRIu64 " != sent there %" PRIu64,
		      c, ev_cpu[c], lost_cpu[c], rep_cpu[c]);
	CHECK(backwards == 0, "phase 2a: %zu events whose cumulative lost is below an earlier one "
	      "of the same CPU", backwards);
	CHECK(deltas + unreported == lost, "phase 2a: lost deltas %" PRIu64 " + unreported %" PRIu64
	      " != lost %" PRIu64, deltas, unreported, lost);
	CHECK(lost > 0, "phase 2a: no event was lost: the ring never filled (test too weak)");
	CHECK(l.n > ring / REC_SIZE, "phase 2a: only %zu events: the reader never drained the ring",
	      l.n);
	CHECK(bad == 0, "phase 2a: %zu bad events", bad);
	ring_buffer__free(rb);
	free(l.v);
	free(lost_cpu);
	free(last);
	free(rep_cpu);
	free(ev_cpu);
	xw_dp_close(&in.dp);
}

/* ---- phase 2b: per-event attribution with sequence numbers ---- */

static const size_t lens[] = { 60, 1000, 61, 127, 128, 129, 200, 1514, 64, 999 };
#define NLENS (sizeof(lens) / sizeof(lens[0]))

static void phase2b(void)
{
	const uint32_t ring = 4096, nframes = 30000;
	struct inst in;
	struct evlog l = { 0 };
	struct ring_buffer *rb;
	struct reader_arg ra = { 0 };
	pthread_t rt;
	uint8_t frame[1514];
	uint64_t lost, sent, m10, *lost_cpu = calloc((size_t)ncpu, sizeof(uint64_t));
	size_t bad = 0, shown = 0, misattr = 0, order = 0, other_cpu = 0;
	size_t by_len[NLENS] = { 0 };
	int cpu = nonline > 1 ? 1 : 0;
	uint32_t prev = 0;

	if (!lost_cpu)
		die("out of memory");
	inst_load(&in, ring, 0, "rule 10 in udp log drop\nrule 20 in tcp pass\n");
	rb = ring_open(&in, &l);
	ra.rb = rb;
	ra.slow_us = 300;
	if (pthread_create(&rt, NULL, reader_thread, &ra))
		die("pthread_create");
	pin_cpu(cpu);
	for (uint32_t s = 0; s < nframes; s++) {
		size_t len = lens[s % NLENS];

		mkframe(frame, len, 17, (uint16_t)(1024 + s % 50000), 5353, s);
		run(&in, frame, len, 0, XW_XDP_DROP);
	}
	atomic_store(&ra.stop, 1);
	pthread_join(rt, NULL);
	ring_buffer__consume(rb);
	lost = evc(&in, XW_EVC_LOST, lost_cpu);
	sent = evc(&in, XW_EVC_SENT, NULL);
	m10 = rule_packets(&in, 10);
	for (size_t i = 0; i < l.n; i++) {
		const struct xw_event *e = &l.v[i];
		uint32_t s = frame_seq(e->data, e->caplen);

		if (s >= nframes) {
			if (shown++ < 5)
				fail("phase 2b: event %zu: no valid sequence number (caplen %u)", i, e->caplen);
			bad++;
			continue;
		}
		if (i && s <= prev)
			order++;
		prev = s;
		mkframe(frame, lens[s % NLENS], 17, (uint16_t)(1024 + s % 50000), 5353, s);
		bad += check_event(e, 10, XW_DROP, frame, lens[s % NLENS], &shown, "phase 2b");
		by_len[s % NLENS]++;
		if ((int)e->cpu != cpu) {
			other_cpu++;
			continue;
		}
		/* frames 0..s-1 were sent before; i of them got an event */
		if (e->lost != (uint64_t)s - i && misattr++ < 5)
			fail("phase 2b: event of frame %u (the %zu-th event) says %" PRIu64
			     " lost before it, expected %" PRIu64, s, i, (uint64_t)e->lost,
			     (uint64_t)s - i);
	}
	printf("evtest: phase 2b (ring %u B, %u frames one by one on CPU %d, slow reader): "
	       "matched %" PRIu64 ", events %zu + lost %" PRIu64 " = %" PRIu64 "\n", ring, nframes,
	       cpu, m10, l.n, lost, l.n + lost);
	printf("evtest:   events by frame length:");
	for (size_t k = 0; k < NLENS; k++)
		printf(" %zu:%zu", lens[k], by_len[k]);
	printf("\n");
	CHECK(m10 == nframes, "phase 2b: rule 10 counted %" PRIu64 ", sent %u", m10, nframes);
	CHECK(l.n + lost == m10, "phase 2b: events %zu + lost %" PRIu64 " != matched %" PRIu64,
	      l.n, lost, m10);
	CHECK(lost_cpu[cpu] == lost, "phase 2b: losses on other CPUs than %d", cpu);
	CHECK(sent == l.n, "phase 2b: XW_EVC_SENT %" PRIu64 " != events read %zu", sent, l.n);
	CHECK(order == 0, "phase 2b: %zu events out of sequence order", order);
	CHECK(other_cpu == 0, "phase 2b: %zu events from a CPU other than %d", other_cpu, cpu);
	CHECK(misattr == 0, "phase 2b: %zu events with a wrong cumulative lost", misattr);
	CHECK(lost > 0, "phase 2b: nothing lost: the slow reader kept up (test too weak)");
	CHECK(bad == 0, "phase 2b: %zu bad events", bad);
	for (size_t k = 0; k < NLENS; k++)
		CHECK(by_len[k] > 0, "phase 2b: no event of a %zu-byte frame arrived", lens[k]);
	ring_buffer__free(rb);
	free(l.v);
	free(lost_cpu);
	xw_dp_close(&in.dp);
}

/* ---- phase 3: per-rule cap ---- */

static void phase3(void)
{
	/* a small flood, so it stays inside one cap window on a busy machine */
	const uint32_t rate = 50, ring = 1u << 16, rep = 4000;
	struct inst in;
	struct evlog l = { 0 };
	struct ring_buffer *rb;
	uint8_t udp[60], tcp[80];
	uint64_t lost, sent, capped, m10, m20;
	size_t bad = 0, shown = 0;
	double t;

	inst_load(&in, ring, rate,
		  "rule 10 in udp log drop\nrule 20 in tcp log pass\nrule 30 in icmp drop\n");
	rb = ring_open(&in, &l);
	mkframe(udp, sizeof(udp), 17, 40000, 5353, 1);
	mkframe(tcp, sizeof(tcp), 6, 40001, 443, 2);
	pin_cpu(0);

	for (int w = 0; w < 2; w++) {
		size_t from = l.n;
		uint64_t e10 = 0, e20 = 0;

		if (w)
			usleep(1100 * 1000);   /* the first window is over */
		t = now_s();
		for (int b = 0; b < 2; b++) {
			run(&in, udp, sizeof(udp), rep / 2, XW_XDP_DROP);
			run(&in, tcp, sizeof(tcp), rep / 2, XW_XDP_PASS);
		}
		t = now_s() - t;
		ring_buffer__consume(rb);
		for (size_t i = from; i < l.n; i++) {
			if (l.v[i].prio == 10) {
				e10++;
				bad += check_event(&l.v[i], 10, XW_DROP, udp, sizeof(udp), &shown, "phase 3");
			} else {
				e20++;
				bad += check_event(&l.v[i], 20, XW_PASS, tcp, sizeof(tcp), &shown, "phase 3");
			}
		}
		lost = evc(&in, XW_EVC_LOST, NULL);
		sent = evc(&in, XW_EVC_SENT, NULL);
		capped = evc(&in, XW_EVC_CAPPED, NULL);
		m10 = rule_packets(&in, 10);
		m20 = rule_packets(&in, 20);
		printf("evtest: phase 3 window %d (log_rate %u, 1 CPU, flood %.3f s): rule 10 %" PRIu64
		       " events, rule 20 %" PRIu64 " events; totals: matched %" PRIu64
		       ", events %zu + lost %" PRIu64 " + capped %" PRIu64 " = %" PRIu64 "\n", w + 1,
		       rate, t, e10, e20, m10 + m20, l.n, lost, capped, l.n + lost + capped);
		if (t < 1.0) {
			CHECK(e10 == rate, "phase 3 window %d: rule 10 got %" PRIu64 " events in %.3f s, "
			      "expected exactly %u", w + 1, e10, t, rate);
			CHECK(e20 == rate, "phase 3 window %d: rule 20 got %" PRIu64 " events in %.3f s, "
			      "expected exactly %u", w + 1, e20, t, rate);
		} else {
			fail("phase 3 window %d: the flood took %.3f s, not within one second", w + 1, t);
		}
		CHECK(m10 == (uint64_t)(w + 1) * rep && m20 == (uint64_t)(w + 1) * rep,
		      "phase 3: rules matched %" PRIu64 "/%" PRIu64 ", sent %u each", m10, m20,
		      (w + 1) * rep);
		CHECK(l.n + lost + capped == m10 + m20,
		      "phase 3: events %zu + lost %" PRIu64 " + capped %" PRIu64 " != matched %" PRIu64,
		      l.n, lost, capped, m10 + m20);
		CHECK(lost == 0, "phase 3: %" PRIu64 " lost with a %u-byte ring", lost, ring);
		CHECK(sent == l.n, "phase 3: XW_EVC_SENT %" PRIu64 " != events read %zu", sent, l.n);
	}
	CHECK(bad == 0, "phase 3: %zu bad events", bad);
	CHECK(l.bad_size == 0, "phase 3: %zu records of the wrong size", l.bad_size);

	ring_buffer__free(rb);
	free(l.v);
	xw_dp_close(&in.dp);
}

/* ---- phase 3b: the cap with every CPU logging at once ---- */

static pthread_barrier_t start_bar;

static void *flood_sync_thread(void *p)
{
	struct flood_arg *a = p;

	pin_cpu(a->cpu);
	pthread_barrier_wait(&start_bar);
	for (uint32_t b = 0; b < a->batches; b++)
		run(a->in, a->pkt, a->len, a->rep, XW_XDP_DROP);
	return NULL;
}

/* The window is one array element shared by all CPUs.  Each round starts a
 * fresh window (the element is zeroed, as if the last one ended long ago)
 * and every CPU floods rule 10 from the same instant. */
static void phase3b(void)
{
	const uint32_t rate = 1000, ring = 1u << 20, rep = 2500, rounds = 20;   /* small: each round must fit one window */
	struct inst in;
	struct evlog l = { 0 };
	struct ring_buffer *rb;
	uint8_t udp[60];
	int nf = nonline < 64 ? nonline : 64;
	uint64_t worst = 0, over_rounds = 0, lost, capped, m10;
	double tmax = 0;

	if (nf < 2) {
		printf("evtest: phase 3b skipped: one CPU\n");
		return;
	}
	inst_load(&in, ring, rate, "rule 10 in udp log drop\n");
	{
		struct bpf_map_info mi;
		__u32 mlen = sizeof(mi);

		memset(&mi, 0, sizeof(mi));
		if (bpf_obj_get_info_by_fd(in.dp.map_fd[XW_M_LOG_WINDOWS], &mi, &mlen))
			die("xw_log_windows info: %s", strerror(errno));
		if (mi.value_size < 16 || mi.value_size > 256)
			die("xw_log_windows: value size %u", mi.value_size);
	}
	rb = ring_open(&in, &l);
	mkframe(udp, sizeof(udp), 17, 40000, 5353, 1);
	for (uint32_t r = 0; r < rounds; r++) {
		pthread_t ft[64];
		struct flood_arg fa[64];
		uint8_t zw[256] = { 0 };   /* xw_log_window: start_ns 0, count 0 */
		uint32_t slot = in.slot[0];
		size_t from = l.n;
		double t;

		if (bpf_map_update_elem(in.dp.map_fd[XW_M_LOG_WINDOWS], &slot, zw, 0))
			die("reset xw_log_windows: %s", strerror(errno));
		if (pthread_barrier_init(&start_bar, NULL, (unsigned)nf))
			die("pthread_barrier_init");
		t = now_s();
		for (int i = 0; i < nf; i++) {
			fa[i] = (struct flood_arg){ &in, i, 1, rep, udp, sizeof(udp) };
			if (pthread_create(&ft[i], NULL, flood_sync_thread, &fa[i]))
				die("pthread_create");
		}
		for (int i = 0; i < nf; i++)
			pthread_join(ft[i], NULL);
		t = now_s() - t;
		pthread_barrier_destroy(&start_bar);
		ring_buffer__consume(rb);
		if (t > tmax)
			tmax = t;
		if (t >= 1.0)
			fail("phase 3b round %u: the flood took %.3f s, not within one second", r, t);
		else if (l.n - from > rate) {
			over_rounds++;
			if (l.n - from > worst)
				worst = l.n - from;
		}
	}
	lost = evc(&in, XW_EVC_LOST, NULL);
	capped = evc(&in, XW_EVC_CAPPED, NULL);
	m10 = rule_packets(&in, 10);
	printf("evtest: phase 3b (log_rate %u, %d CPUs at once, %u rounds, flood <= %.3f s): "
	       "%" PRIu64 " rounds over the cap (worst %" PRIu64 " events); matched %" PRIu64
	       ", events %zu + lost %" PRIu64 " + capped %" PRIu64 " = %" PRIu64 "\n", rate, nf,
	       rounds, tmax, over_rounds, worst, m10, l.n, lost, capped, l.n + lost + capped);
	CHECK(over_rounds == 0, "phase 3b: in %" PRIu64 " of %u one-second windows rule 10 got more "
	      "than %u events (worst %" PRIu64 ") when %d CPUs logged at once", over_rounds, rounds,
	      rate, worst, nf);
	CHECK(m10 == (uint64_t)rounds * nf * rep, "phase 3b: rule 10 counted %" PRIu64 ", sent %"
	      PRIu64, m10, (uint64_t)rounds * nf * rep);
	CHECK(l.n + lost + capped == m10, "phase 3b: events %zu + lost %" PRIu64 " + capped %" PRIu64
	      " != matched %" PRIu64, l.n, lost, capped, m10);
	ring_buffer__free(rb);
	free(l.v);
	xw_dp_close(&in.dp);
}

int main(int argc, char **argv)
{
	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "usage: evtest   (root; exit 0 ok, 1 failures, 2 setup error)\n");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	xw_log_init();
	ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0)
		die("libbpf_num_possible_cpus: %d", ncpu);
	{
		cpu_set_t set;

		/* flood CPUs: 0..k-1, all allowed to us (phase pinning needs them) */
		if (sched_getaffinity(0, sizeof(set), &set))
			die("sched_getaffinity: %s", strerror(errno));
		while (nonline < ncpu && CPU_ISSET(nonline, &set))
			nonline++;
		if (!nonline)
			die("CPU 0 not usable");
	}
	lo_ifindex = if_nametoindex("lo");
	if (!lo_ifindex)
		lo_ifindex = 1;
	printf("evtest: struct xw_event %zu bytes, ring record %zu bytes, %d possible CPUs, "
	       "%d used\n", sizeof(struct xw_event), REC_SIZE, ncpu, nonline);
	phase1();
	phase2a();
	phase2b();
	phase3();
	phase3b();
	printf("evtest: %d checks, %d errors\n", n_checks, n_errors);
	return n_errors ? 1 : 0;
}
