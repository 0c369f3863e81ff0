// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* events: stream `log` events from the ring buffer (text, JSON lines, pcap). */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#define PCAP_DONT_INCLUDE_PCAP_BPF_H  /* linux/bpf.h defines the same names */
#include <pcap/pcap.h>
#include <pcap/dlt.h>
#include <json-c/json.h>
#include "ctl.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct ev_ctx {
	bool json;
	pcap_dumper_t *dump;
	uint64_t count, max;
	uint64_t *cpu_lost;       /* per CPU: cumulative lost already reported */
	int ncpu;
	int64_t mono_to_real;     /* ns to add to a bpf_ktime_get_ns() value */
};

/* Addresses and ports of the captured bytes, for display. */
struct ev_fields {
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	int proto, sport, dport;   /* -1 when unknown */
};

static void ev_parse(const uint8_t *d, size_t n, struct ev_fields *f)
{
	size_t off = 14;
	uint16_t type;
	size_t l4 = 0;

	memset(f, 0, sizeof(*f));
	f->proto = f->sport = f->dport = -1;
	if (n < 14)
		return;
	type = (uint16_t)(d[12] << 8 | d[13]);
	for (int i = 0; i < 2 && (type == 0x8100 || type == 0x88a8) && off + 4 <= n; i++) {
		type = (uint16_t)(d[off + 2] << 8 | d[off + 3]);
		off += 4;
	}
	if (type == 0x0800 && off + 20 <= n && (d[off] >> 4) == 4) {
		inet_ntop(AF_INET, d + off + 12, f->src, sizeof(f->src));
		inet_ntop(AF_INET, d + off + 16, f->dst, sizeof(f->dst));
		f->proto = d[off + 9];
		if (!((d[off + 6] & 0x1f) | d[off + 7]))
			l4 = off + (size_t)(d[off] & 0x0f) * 4;
	} else if (type == 0x86dd && off + 40 <= n) {
		inet_ntop(AF_INET6, d + off + 8, f->src, sizeof(f->src));
		inet_ntop(AF_INET6, d + off + 24, f->dst, sizeof(f->dst));
		f->proto = d[off + 6];
		l4 = off + 40;
	}
	if (l4 && l4 + 4 <= n && (f->proto == 6 || f->proto == 17 || f->proto == 132)) {
		f->sport = d[l4] << 8 | d[l4 + 1];
		f->dport = d[l4 + 2] << 8 | d[l4 + 3];
	}
}

static int on_event(void *arg, void *data, size_t size)
{
	struct ev_ctx *c = arg;
	const struct xw_event *e = data;
	struct ev_fields f;
	uint64_t lost = 0;

	if (size < sizeof(*e))
		return 0;
	if (e->cpu < (uint32_t)c->ncpu && e->lost > c->cpu_lost[e->cpu]) {
		lost = e->lost - c->cpu_lost[e->cpu];
		c->cpu_lost[e->cpu] = e->lost;
	}
	ev_parse(e->data, e->caplen, &f);
	if (c->dump) {
		struct pcap_pkthdr h;
		uint64_t t = e->time_ns + (uint64_t)c->mono_to_real;

		h.ts.tv_sec = (time_t)(t / 1000000000ull);
		h.ts.tv_usec = (suseconds_t)(t % 1000000000ull / 1000);
		h.caplen = e->caplen;
		h.len = e->len;
		pcap_dump((u_char *)c->dump, &h, e->data);
	}
	if (c->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "time_ns", json_object_new_int64((int64_t)(e->time_ns + (uint64_t)c->mono_to_real)));
		json_object_object_add(o, "ifindex", json_object_new_int64(e->ifindex));
		json_object_object_add(o, "dir", json_object_new_string(e->dir == XW_DIR_OUT ? "out" : "in"));
		json_object_object_add(o, "rule", json_object_new_int64(e->prio));
		json_object_object_add(o, "verdict", json_object_new_string(xw_verdict_name(e->verdict)));
		json_object_object_add(o, "len", json_object_new_int64(e->len));
		json_object_object_add(o, "src", f.src[0] ? json_object_new_string(f.src) : NULL);
		json_object_object_add(o, "dst", f.dst[0] ? json_object_new_string(f.dst) : NULL);
		json_object_object_add(o, "proto", f.proto >= 0 ? json_object_new_int(f.proto) : NULL);
		json_object_object_add(o, "sport", f.sport >= 0 ? json_object_new_int(f.sport) : NULL);
		json_object_object_add(o, "dport", f.dport >= 0 ? json_object_new_int(f.dport) : NULL);
		json_object_object_add(o, "lost", json_object_new_int64((int64_t)lost));
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else if (!c->dump) {
		uint64_t t = e->time_ns + (uint64_t)c->mono_to_real;
		time_t sec = (time_t)(t / 1000000000ull);
		struct tm tm;
		char ts[32];

		localtime_r(&sec, &tm);
		strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
		printf("%s.%06llu if %u %-3s rule %u %s len %u", ts,
		       (unsigned long long)(t % 1000000000ull / 1000), e->ifindex,
		       e->dir == XW_DIR_OUT ? "out" : "in", e->prio,
		       xw_verdict_name(e->verdict), e->len);
		if (f.src[0])
			printf(" %s -> %s proto %d", f.src, f.dst, f.proto);
		if (f.sport >= 0)
			printf(" %d -> %d", f.sport, f.dport);
		if (lost)
			printf(" (lost %llu before this)", (unsigned long long)lost);
		printf("\n");
	}
	fflush(stdout);
	c->count++;
	if (c->max && c->count >= c->max) {
		stop = 1;
		return -ECANCELED;  /* libbpf stops after this record; the rest stay */
	}
	return 0;
}

static int64_t clock_offset(void)
{
	struct timespec r, m;

	clock_gettime(CLOCK_REALTIME, &r);
	clock_gettime(CLOCK_MONOTONIC, &m);
	return ((int64_t)r.tv_sec - m.tv_sec) * 1000000000ll + (r.tv_nsec - m.tv_nsec);
}

int cmd_events(int argc, char **argv)
{
	struct ev_ctx c = { 0 };
	const char *pcap_path = NULL;
	struct ring_buffer *rb = NULL;
	pcap_t *dead = NULL;
	struct xw_dp dp;
	int reader_fd = -1;   /* held: we are the ring's one reader */
	uint64_t *now = NULL, unreported = 0;
	int opt, rc;

	while ((opt = xw_getopt("events", argc, argv)) != -1) {
		switch (opt) {
		case 'j': c.json = true; break;
		case 'p': pcap_path = optarg; break;
		case 'c': {
			char *e;

			c.max = strtoull(optarg, &e, 10);
			if (*e || !*optarg || !c.max)
				return xw_failf(XW_EINPUT, "--count: expected a number > 0, got '%s'", optarg);
			break;
		}
		default:
			return xw_usage("events", XW_EINPUT);
		}
	}
	if (optind != argc || (c.json && pcap_path))
		return xw_usage("events", XW_EINPUT);
	rc = xw_open(&dp, false);
	if (rc)
		return rc;
	/* the lock is for changes: release it so others can change rules meanwhile */
	close(dp.lock_fd);
	dp.lock_fd = -1;
	{
		struct xw_err err = { "" };

		rc = xw_dp_events_claim(&reader_fd, &err);
		if (rc) {
			rc = xw_fail(rc, &err);
			goto out;
		}
	}
	c.ncpu = libbpf_num_possible_cpus();
	c.cpu_lost = calloc((size_t)c.ncpu, sizeof(uint64_t));
	now = calloc((size_t)c.ncpu, sizeof(uint64_t));
	if (!c.cpu_lost || !now) {
		rc = xw_failf(XW_ESYS, "out of memory");
		goto out;
	}
	/* losses before we started are not ours to report */
	{
		__u32 k = XW_EVC_LOST;

		bpf_map_lookup_elem(dp.map_fd[XW_M_EVENT_STATS], &k, c.cpu_lost);
	}
	c.mono_to_real = clock_offset();
	if (pcap_path) {
		dead = pcap_open_dead(DLT_EN10MB, XW_EVENT_SNAP);
		c.dump = dead ? pcap_dump_open(dead, pcap_path) : NULL;
		if (!c.dump) {
			rc = xw_failf(XW_EINPUT, "%s: %s", pcap_path, dead ? pcap_geterr(dead) : "pcap");
			goto out;
		}
	}
	rb = ring_buffer__new(dp.map_fd[XW_M_EVENTS], on_event, &c, NULL);
	if (!rb) {
		rc = xw_failf(XW_ESYS, "open event ring: %s", strerror(errno));
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!stop) {
		int n = ring_buffer__poll(rb, 200);

		if (n < 0 && n != -EINTR && n != -ECANCELED) {
			rc = xw_failf(XW_ESYS, "read event ring: %s", strerror(-n));
			break;
		}
		if (c.dump)
			pcap_dump_flush(c.dump);
	}
	{
		__u32 k = XW_EVC_LOST;

		if (bpf_map_lookup_elem(dp.map_fd[XW_M_EVENT_STATS], &k, now) == 0)
			for (int i = 0; i < c.ncpu; i++)
				if (now[i] > c.cpu_lost[i])
					unreported += now[i] - c.cpu_lost[i];
	}
	if (c.json)
		printf("{\"events\": %llu, \"lost\": %llu}\n", (unsigned long long)c.count,
		       (unsigned long long)unreported);
	else
		fprintf(c.dump ? stderr : stdout, "%llu events, %llu lost not reported above\n",
			(unsigned long long)c.count, (unsigned long long)unreported);
out:
	ring_buffer__free(rb);
	if (c.dump)
		pcap_dump_close(c.dump);
	if (dead)
		pcap_close(dead);
	free(c.cpu_lost);
	free(now);
	if (reader_fd >= 0)
		close(reader_fd);
	xw_dp_close(&dp);
	return rc;
}
