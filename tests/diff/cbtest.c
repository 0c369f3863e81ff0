// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* ClassBench correctness: every packet of every ClassBench trace through the
 * real XDP datapath (BPF_PROG_TEST_RUN on a private, unpinned instance), the
 * verdict and the deciding rule compared with the first-match oracle of
 * shared/classbench (cb2xwall.py).
 *
 * Data: shared/classbench beside the repository (../shared/classbench from
 * the repository root, or CB_DIR / -d).  Its build.sh turns the raw ClassBench
 * filters and traces into NAME.rules, NAME.pcap and NAME.expected
 * (INDEX<TAB>VERDICT<TAB>PRIO, '-' = policy) in build/classbench (CB_OUT / -o);
 * files already there are reused, missing ones are made.  A missing shared
 * directory is an error (exit 2), never a skip.
 *
 * Sets: every NAME in shared/classbench/filters (acl1/fw1/ipc1 x 1k/10k/100k,
 * cs_*) and worst_rand1k, the worst case of `make bench` (scripts/cb-worst.py
 * seed 0xc1a55, 1,000 rules with random prefix lengths on both addresses and
 * random ranges on both ports, 10,000 packets, its oracle cb2xwall.py's), or
 * the NAMEs given.  A set that `apply` refuses as input (today: more
 * distinct match shapes than the classifier holds) is reported as REFUSED and
 * fails the run, unless CB_ALLOW_REFUSED=1 (or -a), which is meant to go once
 * the classifier loads every set.
 *
 * Usage: cbtest [-d CB_DIR] [-o OUTDIR] [-a] [-q] [NAME...]
 * Exit: 0 every packet agreed (and nothing refused, or refusals allowed),
 *       1 mismatches or refused sets, 2 setup or system error.
 */
#include <errno.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <pcap/pcap.h>

#include "datapath.h"
#include "rule.h"
#include "xwall.h"

#define MAX_SHOWN 10    /* mismatches printed per set */
#define WORST_NAME "worst_rand1k"
#define WORST_SEED "0xc1a55"     /* the same as scripts/bench.sh's XWB_CB_SEED */

static const char *opt_dir = "../shared/classbench";
static const char *opt_out = "build/classbench";
static int opt_allow_refused, opt_quiet;
static struct xw_dp dp;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "cbtest: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	xw_dp_close(&dp);
	exit(2);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (!f)
		die("%s: %s", path, strerror(errno));
	do {
		if (cap - n < 65536) {
			cap = cap ? cap * 2 : 1 << 20;
			buf = realloc(buf, cap + 1);
			if (!buf)
				die("out of memory");
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got);
	if (ferror(f))
		die("%s: read error", path);
	fclose(f);
	buf[n] = 0;
	*len = n;
	return buf;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every NAME of shared/classbench/filters (NAME or NAME.gz), sorted. */
static char **list_sets(size_t *n)
{
	char path[4096], **v = NULL;
	struct dirent *d;
	size_t cap = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/filters", opt_dir);
	dir = opendir(path);
	if (!dir)
		die("%s: %s (ClassBench data missing: shared/ must sit beside the repository, "
		    "or set CB_DIR)", path, strerror(errno));
	*n = 0;
	while ((d = readdir(dir))) {
		size_t l = strlen(d->d_name);

		if (d->d_name[0] == '.')
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 32;
			v = realloc(v, cap * sizeof(*v));
			if (!v)
				die("out of memory");
		}
		v[*n] = strdup(d->d_name);
		if (!v[*n])
			die("out of memory");
		if (l > 3 && !strcmp(d->d_name + l - 3, ".gz"))
			v[*n][l - 3] = 0;
		(*n)++;
	}
	closedir(dir);
	if (!*n)
		die("%s: no ClassBench filter files", path);
	qsort(v, *n, sizeof(*v), cmp_str);
	v = realloc(v, (*n + 1) * sizeof(*v));
	if (!v)
		die("out of memory");
	v[*n] = strdup(WORST_NAME);   /* every name is the caller's to free */
	if (!v[*n])
		die("out of memory");
	(*n)++;
	return v;
}

/* Make the set's files with shared/classbench/build.sh (worst_rand1k: with
 * scripts/cb-worst.py and cb2xwall.py, as scripts/bench.sh does) unless they
 * exist. */
static void ensure_set(const char *name)
{
	char path[4096], cmd[16384];
	struct stat st;
	double t0;
	int rc;

	snprintf(path, sizeof(path), "%s/%s.expected", opt_out, name);
	if (!stat(path, &st) && st.st_size > 0)
		return;
	printf("cbtest: %s: generating %s/%s.{rules,pcap,expected}\n", name, opt_out, name);
	t0 = now_s();
	if (!strcmp(name, WORST_NAME))
		snprintf(cmd, sizeof(cmd),
			 "set -e; w='%s/" WORST_NAME "'; python3 scripts/cb-worst.py " WORST_SEED
			 " 1000 \"$w.filters\" \"$w.trace\"; "
			 "python3 '%s/cb2xwall.py' rules \"$w.filters\" -o \"$w.rules\" 2>/dev/null; "
			 "python3 '%s/cb2xwall.py' trace \"$w.trace\" --rules \"$w.rules\" -o \"$w.pcap\" "
			 "--expected \"$w.expected.tmp\"; mv \"$w.expected.tmp\" \"$w.expected\"; "
			 "echo " WORST_SEED " >\"$w.seed\"", opt_out, opt_dir, opt_dir);
	else
		snprintf(cmd, sizeof(cmd), "sh '%s/build.sh' '%s' '%s'", opt_dir, opt_out, name);
	rc = system(cmd);
	if (rc != 0 || stat(path, &st) || st.st_size == 0)
		die("%s: build.sh failed (status %d)", name, rc);
	printf("cbtest: %s: generated in %.1f s\n", name, now_s() - t0);
}

struct result {
	size_t rules, packets, mismatches, policy_hits;
	int refused;
	double apply_s, run_s;
};

/* One expected line: INDEX VERDICT PRIO.  Returns 1, 0 at EOF. */
static int next_expected(FILE *f, const char *path, size_t *lineno, uint64_t *idx, int *verdict,
			 uint32_t *prio)
{
	char line[256], v[16], p[32];
	char *end;

	while (fgets(line, sizeof(line), f)) {
		(*lineno)++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "%" SCNu64 " %15s %31s", idx, v, p) != 3)
			die("%s:%zu: not INDEX VERDICT PRIO", path, *lineno);
		if (!strcmp(v, "pass"))
			*verdict = XW_PASS;
		else if (!strcmp(v, "drop"))
			*verdict = XW_DROP;
		else
			die("%s:%zu: verdict '%s'", path, *lineno, v);
		if (!strcmp(p, "-")) {
			*prio = XW_PRIO_NONE;
		} else {
			unsigned long x;

			errno = 0;
			x = strtoul(p, &end, 10);
			if (errno || *end || x >= XW_PRIO_NONE)
				die("%s:%zu: priority '%s'", path, *lineno, p);
			*prio = (uint32_t)x;
		}
		return 1;
	}
	return 0;
}

static void prio_str(uint32_t p, char *buf, size_t n)
{
	if (p == XW_PRIO_NONE)
		snprintf(buf, n, "policy");
	else
		snprintf(buf, n, "rule %" PRIu32, p);
}

static void run_set(const char *name, struct result *r)
{
	char rpath[4096], ppath[4096], epath[4096], errbuf[PCAP_ERRBUF_SIZE];
	struct xw_err err = { { 0 } };
	struct xw_ruleset rs;
	struct pcap_pkthdr *h;
	const u_char *data;
	size_t len, lineno = 0;
	char *text;
	pcap_t *p;
	FILE *ef;
	double t0;
	int rc;

	memset(r, 0, sizeof(*r));
	snprintf(rpath, sizeof(rpath), "%s/%s.rules", opt_out, name);
	snprintf(ppath, sizeof(ppath), "%s/%s.pcap", opt_out, name);
	snprintf(epath, sizeof(epath), "%s/%s.expected", opt_out, name);

	text = read_all(rpath, &len);
	xw_ruleset_init(&rs);
	if (xw_parse_text(text, len, rpath, &rs, &err))
		die("%s: does not parse: %s", name, err.msg);
	free(text);
	r->rules = rs.n;

	t0 = now_s();
	rc = xw_dp_apply(&dp, &rs, &err);
	r->apply_s = now_s() - t0;
	xw_ruleset_free(&rs);
	if (rc == XW_EINPUT) {
		r->refused = 1;
		printf("cbtest: %s: %zu rules: REFUSED by apply: %s\n", name, r->rules, err.msg);
		return;
	}
	if (rc)
		die("%s: apply: %s", name, err.msg);

	p = pcap_open_offline(ppath, errbuf);
	if (!p)
		die("%s: %s", ppath, errbuf);
	ef = fopen(epath, "r");
	if (!ef)
		die("%s: %s", epath, strerror(errno));
	t0 = now_s();
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		struct xw_test_result got;
		uint64_t idx;
		uint32_t prio;
		int verdict;

		if (!next_expected(ef, epath, &lineno, &idx, &verdict, &prio))
			die("%s: more packets in %s than lines in %s", name, ppath, epath);
		if (idx != r->packets)
			die("%s:%zu: index %" PRIu64 ", expected %zu", epath, lineno, idx, r->packets);
		if (xw_dp_test_run(&dp, data, h->caplen, &got, &err))
			die("%s: packet %zu: %s", name, r->packets, err.msg);
		if (prio == XW_PRIO_NONE)
			r->policy_hits++;
		if (got.verdict != verdict || got.prio != prio) {
			if (r->mismatches < MAX_SHOWN) {
				char a[32], b[32];

				prio_str(got.prio, a, sizeof(a));
				prio_str(prio, b, sizeof(b));
				printf("cbtest: %s: MISMATCH packet %zu: datapath %s (%s, reason %" PRIu32
				       "), oracle %s (%s)\n", name, r->packets,
				       got.verdict == XW_PASS ? "pass" : "drop", a, got.reason,
				       verdict == XW_PASS ? "pass" : "drop", b);
			}
			r->mismatches++;
		}
		r->packets++;
	}
	if (rc != PCAP_ERROR_BREAK)
		die("%s: %s", ppath, pcap_geterr(p));
	r->run_s = now_s() - t0;
	{
		uint64_t idx;
		uint32_t prio;
		int verdict;

		if (next_expected(ef, epath, &lineno, &idx, &verdict, &prio))
			die("%s: more lines in %s than packets in %s", name, epath, ppath);
	}
	fclose(ef);
	pcap_close(p);
	if (!r->packets)
		die("%s: %s holds no packet", name, ppath);
	if (!opt_quiet || r->mismatches)
		printf("cbtest: %s: %zu rules, %zu packets (%zu decided by the policy), "
		       "%zu mismatches (apply %.2f s, run %.2f s)\n", name, r->rules, r->packets,
		       r->policy_hits, r->mismatches, r->apply_s, r->run_s);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: cbtest [-d CB_DIR] [-o OUTDIR] [-a] [-q] [NAME...]\n"
		   "  -d  ClassBench data (default ../shared/classbench, env CB_DIR)\n"
		   "  -o  generated rules/pcaps/expected verdicts (default build/classbench, env CB_OUT)\n"
		   "  -a  refused sets do not fail the run (env CB_ALLOW_REFUSED=1)\n"
		   "  -q  one line per set only when it fails\n");
}

int main(int argc, char **argv)
{
	struct xw_err err = { { 0 } };
	size_t nsets, packets = 0, mismatches = 0, nrefused = 0, nrun = 0, nbad = 0;
	char **sets, **owned = NULL, refused[2048] = "";
	const char *e;
	double t0 = now_s();
	int c;

	if ((e = getenv("CB_DIR")) && *e)
		opt_dir = e;
	if ((e = getenv("CB_OUT")) && *e)
		opt_out = e;
	if ((e = getenv("CB_ALLOW_REFUSED")) && !strcmp(e, "1"))
		opt_allow_refused = 1;
	while ((c = getopt(argc, argv, "d:o:aqh")) != -1) {
		switch (c) {
		case 'd': opt_dir = optarg; break;
		case 'o': opt_out = optarg; break;
		case 'a': opt_allow_refused = 1; break;
		case 'q': opt_quiet = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 1;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	xw_dp_init(&dp);

	if (optind < argc) {
		sets = argv + optind;
		nsets = (size_t)(argc - optind);
		size_t all;
		char **v = list_sets(&all);   /* the data must exist */

		for (size_t i = 0; i < all; i++)
			free(v[i]);
		free(v);
	} else {
		sets = owned = list_sets(&nsets);
	}
	if (mkdir(opt_out, 0755) && errno != EEXIST)
		die("%s: %s", opt_out, strerror(errno));
	for (size_t i = 0; i < nsets; i++)
		ensure_set(sets[i]);

	if (xw_dp_load_private(&dp, &err))
		die("load a private datapath: %s", err.msg);
	printf("cbtest: %zu ClassBench sets from %s (files in %s)%s\n", nsets, opt_dir, opt_out,
	       opt_allow_refused ? ", refused sets allowed (CB_ALLOW_REFUSED=1)" : "");
	for (size_t i = 0; i < nsets; i++) {
		struct result r;

		run_set(sets[i], &r);
		if (r.refused) {
			nrefused++;
			if (strlen(refused) + strlen(sets[i]) + 2 < sizeof(refused)) {
				if (*refused)
					strcat(refused, " ");
				strcat(refused, sets[i]);
			}
			continue;
		}
		nrun++;
		nbad += r.mismatches != 0;
		packets += r.packets;
		mismatches += r.mismatches;
	}
	xw_dp_close(&dp);
	for (size_t i = 0; owned && i < nsets; i++)
		free(owned[i]);
	free(owned);

	printf("cbtest: %zu sets run, %zu packets, %zu mismatches; %zu refused%s%s%s (%.1f s)\n",
	       nrun, packets, mismatches, nrefused, nrefused ? " (" : "", refused,
	       nrefused ? ")" : "", now_s() - t0);
	if (nrefused && !opt_allow_refused)
		printf("cbtest: FAIL: %zu sets refused by apply; CB_ALLOW_REFUSED=1 accepts that "
		       "until the classifier loads them\n", nrefused);
	if (mismatches)
		printf("cbtest: FAIL: %zu packets got another verdict or rule than the oracle\n",
		       mismatches);
	/* sets: a refused one fails unless refusals are allowed (then it is skipped) */
	printf("cbtest: %zu passed, %zu failed", nrun - nbad,
	       nbad + (opt_allow_refused ? 0 : nrefused));
	if (opt_allow_refused && nrefused)
		printf(", %zu skipped", nrefused);
	printf("\n");
	return mismatches || (nrefused && !opt_allow_refused) ? 1 : 0;
}
