// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* cbmodel: the rule stage's decision trees walked in userspace over whole
 * ClassBench traces (build/classbench, made by scripts/bench.sh), as the
 * datapath walks them (xw_tree_lookup): per set the trees, the mean and the
 * largest number of node reads, leaf entries read and trees walked per
 * packet, and the deciding rule checked against the trace's .expected.
 * The numbers docs/classifier.md's tables are made from; no root needed.
 *
 *   cbmodel [DIR] SET...      (DIR defaults to build/classbench) */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "compile.h"
#include "refclass.h"
#include "rule.h"
#include "tree.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *b;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	rewind(f);
	b = malloc(*len + 1);
	if (b && fread(b, 1, *len, f) != *len) {
		free(b);
		b = NULL;
	}
	if (b)
		b[*len] = 0;
	fclose(f);
	return b;
}

static int one(const char *dir, const char *name)
{
	char path[4096], eb[PCAP_ERRBUF_SIZE], line[256];
	struct xw_ruleset rs;
	struct xw_tcompiled c;
	struct xw_err err;
	struct pcap_pkthdr *h;
	const u_char *pkt;
	uint32_t *slots;
	unsigned long n = 0, mism = 0, nodes = 0, ents = 0, mxn = 0, mxe = 0, probes = 0;
	size_t len;
	char *text;
	pcap_t *pc;
	FILE *ef;

	snprintf(path, sizeof(path), "%s/%s.rules", dir, name);
	text = slurp(path, &len);
	if (!text) {
		fprintf(stderr, "cbmodel: %s: %s\n", path, strerror(errno));
		return 1;
	}
	xw_ruleset_init(&rs);
	if (xw_parse_text(text, len, path, &rs, &err)) {
		fprintf(stderr, "cbmodel: %s\n", err.msg);
		return 1;
	}
	free(text);
	slots = calloc(rs.n + 1, sizeof(*slots));
	if (!slots) {
		fprintf(stderr, "cbmodel: out of memory\n");
		return 1;
	}
	for (size_t i = 0; i < rs.n; i++)
		slots[i] = (uint32_t)i;
	if (xw_compile_tree(&rs, slots, NULL, &c, &err)) {
		fprintf(stderr, "cbmodel: %s: %s\n", name, err.msg);
		free(slots);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/%s.pcap", dir, name);
	pc = pcap_open_offline(path, eb);
	snprintf(path, sizeof(path), "%s/%s.expected", dir, name);
	ef = fopen(path, "r");
	if (!pc || !ef) {
		fprintf(stderr, "cbmodel: %s: trace or expected missing\n", name);
		free(slots);
		return 1;
	}
	while (pcap_next_ex(pc, &h, &pkt) == 1) {
		struct xw_walk w = { 0 };
		uint32_t nr, er, want = XW_PRIO_NONE, got;
		struct xw_key k;
		char v[16], p[32];
		size_t idx;
		int hit;

		while (fgets(line, sizeof(line), ef))
			if (line[0] != '#' && sscanf(line, "%zu %15s %31s", &idx, v, p) == 3) {
				want = !strcmp(p, "-") ? XW_PRIO_NONE : (uint32_t)strtoul(p, NULL, 10);
				break;
			}
		xw_ref_key(pkt, h->caplen, XW_DIR_IN, 1, &k);
		hit = xw_tree_lookup(c.tree, &k, &w);
		nr = w.nodes;
		er = w.entries;
		probes += w.probes;
		if (getenv("CBMODEL_DUMP"))   /* per packet: probes, nodes, entries, trees walked */
			printf("pkt %lu probes %u nodes %u entries %u trees %u\n", n, w.probes, nr, er,
			       w.trees);
		got = hit < 0 ? XW_PRIO_NONE : c.tree->rents[hit].prio;
		if (got != want)
			mism++;
		n++;
		nodes += nr;
		ents += er;
		if (nr > mxn)
			mxn = nr;
		if (er > mxe)
			mxe = er;
	}
	printf("%-10s rents %6u exact %6u in %u shapes, trees %u nodes %7u lids %8u worst %4u "
	       "stages %u | pkts %7lu probes %4.2f node reads %5.2f (max %2lu) entries %5.2f (max %3lu) "
	       "| mismatches %lu | build %.2f s\n",
	       name, c.tree->n_rents, c.tree->x.n, c.tree->x.n_shapes, c.tree->head.n_trees,
	       c.tree->n_nodes, c.tree->n_lids, xw_tree_worst(c.tree), xw_tree_stages(c.tree), n,
	       n ? (double)probes / n : 0, n ? (double)nodes / n : 0, mxn,
	       n ? (double)ents / n : 0, mxe, mism, c.tree->build_s);
	pcap_close(pc);
	fclose(ef);
	free(slots);
	xw_tcompiled_free(&c);
	xw_ruleset_free(&rs);
	return mism ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *dir = "build/classbench";
	int i = 1, rc = 0;

	if (argc > 1 && strchr(argv[1], '/')) {
		dir = argv[1];
		i = 2;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: cbmodel [DIR] SET...\n");
		return 1;
	}
	for (; i < argc; i++)
		rc |= one(dir, argv[i]);
	return rc;
}
