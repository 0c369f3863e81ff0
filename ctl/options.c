// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The table of commands and options (see options.h), and what is made
 * from it: getopt arrays, usage text, completion data. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "options.h"

/* the table leaves trailing fields (completion) out where they are zero */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define END { 0 }

/* Options that size the datapath when a command loads it (attach, apply). */
#define LOAD_OPTS                                                                          \
	{ "ct-size", 'c', "N", "entries of each flow table (unreplied, assured),\n16..67108864 (LRU; default 65536)" },   \
	{ "ring-size", 'r', "BYTES",                                                         \
	  "event ring bytes, a power of two 4096..1073741824\n(default 1 MiB)" },             \
	{ "log-rate", 'l', "N", "events per second per logging rule\n(default 1000, 0: no cap)" }

static const struct xw_opt attach_opts[] = {
	{ "mode", 'm', "MODE",
	  "native (driver) or skb (generic) XDP, auto (the\n"
	  "default): native if possible; tc: filter ingress with\n"
	  "the TC program instead of XDP",
	  XW_COMP_WORDS, "auto native skb tc" },
	{ "egress", 'e', NULL, "also attach the TC egress filter (rules with\ndirection out)" },
	LOAD_OPTS,
	END
};

static const struct xw_opt detach_opts[] = {
	{ "all", 'a', NULL, "detach from every interface" },
	END
};

static const struct xw_opt json_opts[] = {
	{ "json", 'j', NULL, "print one JSON document" },
	END
};

static const struct xw_opt apply_opts[] = {
	{ "check", 'k', NULL, "parse and compile only; change nothing (no root\nneeded)" },
	{ "verify", 'v', NULL, "after applying, check the live datapath as\n'xwall verify' does" },
	{ "allow-empty", 'E', NULL,
	  "accept an input with no rule and no policy line\n"
	  "(it passes everything); refused without it" },
	{ "confirm", 't', "SECS",
	  "restore the previous rule set after SECS (1..86400,\n"
	  "or 90s, 5m, 1h) unless 'xwall confirm' runs first" },
	LOAD_OPTS,
	END
};

static const struct xw_opt import_opts[] = {
	{ "chain", 'C', "NAME",
	  "import only this base chain (repeatable; xwall has one\nrule list per direction)" },
	END
};

static const struct xw_opt list_json_opts[] = {
	{ "json", 'j', NULL, "list: print one JSON document" },
	END
};

static const struct xw_opt set_opts[] = {
	{ "json", 'j', NULL, "list: print one JSON document\nfeed: read CrowdSec decision objects" },
	END
};

static const struct xw_opt stats_opts[] = {
	{ "json", 'j', NULL, "print one JSON document" },
	{ "prometheus", 'p', NULL, "print the Prometheus text format (node_exporter\ntextfile)" },
	{ "watch", 'w', "SECS", "print again every SECS seconds (text: redrawn,\nwith rates)" },
	END
};

static const struct xw_opt events_opts[] = {
	{ "json", 'j', NULL, "one JSON object per line" },
	{ "pcap", 'p', "FILE", "write the captured bytes to FILE as pcap", XW_COMP_FILES },
	{ "count", 'c', "N", "stop after N events" },
	END
};

static const struct xw_opt test_opts[] = {
	{ "pcap", 'p', "FILE", "the packets to run (Ethernet pcap; required)", XW_COMP_FILES },
	{ "rules", 'r', "FILE",
	  "load a private, unattached instance with these\n"
	  "rules instead of the live one; there packets\n"
	  "change state as traffic would",
	  XW_COMP_FILES },
	{ "json", 'j', NULL, "one JSON object per packet" },
	END
};

static const struct xw_opt verify_opts[] = {
	{ "examples", 'n', "N", "counterexamples to print (default 1)" },
	{ "verbose", 'v', NULL, "cell counts per field and timing on stderr" },
	{ "self-check", 's', NULL,
	  "also evaluate every cell's rule text directly\n"
	  "(slow; for testing verify itself)" },
	END
};

static const struct xw_opt confirm_opts[] = {
	{ "rollback", 'R', NULL, "restore the previous rule set now instead" },
	END
};

static const struct xw_opt no_opts[] = { END };

const struct xw_cmd_spec xw_cmd_specs[] = {
	{ "attach", "DEV", NULL,
	  "Load the datapath (once) and attach its XDP program to DEV through libxdp.\n"
	  "--ct-size, --ring-size and --log-rate take effect when this attach loads\n"
	  "the datapath (the first one); --log-rate also replaces a loaded cap.",
	  attach_opts, XW_COMP_IFACES },
	{ "detach", "DEV", "detach DEV | --all",
	  "Detach from DEV (or from every interface).  The last detach unloads\n"
	  "the datapath and removes its pins.",
	  detach_opts, XW_COMP_IFACES },
	{ "status", "", NULL,
	  "Interfaces, modes, program ids, rule count, policies, generation.",
	  json_opts },
	{ "apply", "FILE|-", NULL,
	  "Replace the whole rule set (rules and policies) atomically.  Loads the\n"
	  "datapath if needed (sizes as for attach), so rules can be in place\n"
	  "before the first attach.  Input that cannot be read, does not parse or\n"
	  "does not compile changes nothing (exit 1).",
	  apply_opts, XW_COMP_FILES },
	{ "confirm", "", NULL,
	  "Keep the rule set applied with 'apply --confirm SECS' (else, when SECS\n"
	  "have passed, the previous rule set comes back).  Exit 1 if none is\n"
	  "pending.",
	  confirm_opts },
	{ "rule", "", "rule add RULE... | rule del PRIO | rule list [--json]",
	  "add: one rule in file syntax without the word \"rule\", e.g.\n"
	  "     xwall rule add 20 in tcp dport 22 src 10.0.0.0/8 pass\n"
	  "     xwall rule add 30 in udp dport 53 audit comment \"dns, to be closed\"\n"
	  "     (the word after 'comment' is the comment, quoted again if the shell\n"
	  "     took its quotes off)\n"
	  "del: delete the rule with that priority\n"
	  "list: the live rule set; the text output is a valid file for apply",
	  list_json_opts, XW_COMP_WORDS, "add del list" },
	{ "set", "", "set add NAME ELEM... [timeout D] | set del NAME ELEM... | "
	  "set list [NAME] [--json] | set flush NAME | set load NAME FILE|- | "
	  "set feed NAME [--json] | set gc",
	  "Elements of the named sets of the rule set (set NAME { ... }); no rule\n"
	  "is recompiled or re-applied.\n"
	  "add: add or refresh elements (addresses, prefixes, ports, port ranges)\n"
	  "del: remove elements\n"
	  "list: the sets, or one set's elements with the time they have left\n"
	  "flush: remove every element\n"
	  "load: replace all elements atomically from a file (one per line)\n"
	  "feed: read 'add ELEM [timeout D]' / 'del ELEM' lines from stdin\n"
	  "gc: remove expired elements (run by xwall-set-gc.timer)",
	  set_opts, XW_COMP_WORDS, "add del list flush load feed gc" },
	{ "policy", "[in|out] pass|drop|audit", NULL,
	  "Verdict when no rule matches (default pass), for ingress (in) or egress\n"
	  "(out).  audit: the packets pass, counted (verdict 'audit') and logged\n"
	  "(events) as what a drop policy would drop.",
	  no_opts, XW_COMP_WORDS, "in out pass drop audit" },
	{ "stats", "", "stats [--json | --prometheus] [--watch SECS]",
	  "Per-rule packets/bytes, per-verdict and per-reason counters.",
	  stats_opts },
	{ "ct", "", "ct list [--json] | ct flush | ct timeout [NAME SECS]...",
	  "list: tracked flows with their state and age (from the initiator's side)\n"
	  "flush: forget every flow\n"
	  "timeout: show the timeouts (seconds) or set some, e.g. 'ct timeout udp 5'\n"
	  "Flows are tracked only while the rule set uses a 'ct' match.",
	  list_json_opts, XW_COMP_WORDS, "list flush timeout" },
	{ "events", "", "events [--json | --pcap FILE] [--count N]",
	  "Stream the events of rules with 'log' and of audited packets (header\n"
	  "and first 128 bytes), with the rule's comment.\n"
	  "Each event says how many were lost (ring full) since the previous one;\n"
	  "a final line gives losses not yet reported.",
	  events_opts },
	{ "test", "", "test --pcap FILE [--rules FILE] [--json]",
	  "Run each packet of the --pcap file through the real datapath\n"
	  "(BPF_PROG_TEST_RUN).  On the live datapath the packets are probe frames:\n"
	  "they change no counter, limit bucket, flow or event.",
	  test_opts },
	{ "lint", "FILE|-", NULL,
	  "Report shadowed rules (never fire: earlier rules decide all their packets,\n"
	  "some differently), redundant rules (removable: earlier rules, or later ones\n"
	  "and the policy, give their packets the same verdict), correlated rules\n"
	  "(partial overlap with an earlier rule of another verdict: order matters)\n"
	  "and rules that never match, each with an example packet.  Exact over all\n"
	  "stateless fields; 'limit' rules never count as covering.  No root needed.\n"
	  "Exit 0 if clean, 1 if anything was found or the file is bad.",
	  json_opts, XW_COMP_FILES },
	{ "import", "nft|iptables FILE|-", NULL,
	  "Print an xwall rule file for an nftables ruleset (nft text or nft -j JSON)\n"
	  "or an iptables-save dump; anything xwall cannot express is an error\n"
	  "naming its line.  No root needed.",
	  import_opts, XW_COMP_WORDS, "nft iptables" },
	{ "verify", "", NULL,
	  "Check that the live datapath implements the live rule set: reads the rule\n"
	  "text and the compiled maps back from the kernel, cuts the packet-key space\n"
	  "into cells on which every rule and every map entry is constant, and runs\n"
	  "one frame per cell (plus malformed-header shapes) through the attached\n"
	  "programs with BPF_PROG_TEST_RUN against the rules' first match.  Prints\n"
	  "'verified: N cells, 0 mismatches' (exit 0) or counterexamples (exit 1).\n"
	  "Stateless fields only: ct and limit matches are taken as the packet finds\n"
	  "them.  The frames count in stats like any packet.",
	  verify_opts },
};

const unsigned xw_n_cmd_specs = sizeof(xw_cmd_specs) / sizeof(xw_cmd_specs[0]);

#define MAX_OPTS 16

const struct xw_cmd_spec *xw_cmd_spec(const char *name)
{
	for (unsigned i = 0; name && i < xw_n_cmd_specs; i++)
		if (!strcmp(xw_cmd_specs[i].name, name))
			return &xw_cmd_specs[i];
	return NULL;
}

int xw_getopt(const char *cmd, int argc, char **argv)
{
	static char **last_argv;
	static const struct xw_cmd_spec *built;
	static struct option lopts[MAX_OPTS + 1];
	static char sopts[3 * MAX_OPTS + 2];
	const struct xw_cmd_spec *c = xw_cmd_spec(cmd);

	if (!c)
		return '?';
	if (c != built) {
		size_t k = 0, s = 0;

		memset(lopts, 0, sizeof(lopts));
		for (const struct xw_opt *o = c->opts; o->name && k < MAX_OPTS; o++, k++) {
			lopts[k].name = o->name;
			lopts[k].has_arg = o->arg ? required_argument : no_argument;
			lopts[k].val = o->val;
			sopts[s++] = (char)o->val;
			if (o->arg)
				sopts[s++] = ':';
		}
		sopts[s] = 0;
		built = c;
	}
	if (!argv)
		return -1;
	if (argv != last_argv) {
		optind = 0;    /* a fresh argv (apply --verify parses twice) */
		last_argv = argv;
	}
	return getopt_long(argc, argv, sopts, lopts, NULL);
}

/* The metavariable of an option's argument as the synopsis shows it. */
static void metavar(const struct xw_opt *o, char *buf, size_t n)
{
	size_t k = 0;

	if (o->comp != XW_COMP_WORDS || !o->words) {
		snprintf(buf, n, "%s", o->arg);
		return;
	}
	for (const char *w = o->words; *w && k + 1 < n; w++)
		buf[k++] = *w == ' ' ? '|' : *w;
	buf[k] = 0;
}

static void cat(char *buf, size_t n, const char *s)
{
	size_t l = strlen(buf);

	snprintf(buf + l, n > l ? n - l : 0, "%s", s);
}

void xw_synopsis(const struct xw_cmd_spec *c, char *buf, size_t n)
{
	char mv[64];

	if (c->synopsis) {
		snprintf(buf, n, "%s", c->synopsis);
		return;
	}
	snprintf(buf, n, "%s", c->name);
	for (const struct xw_opt *o = c->opts; o->name; o++) {
		cat(buf, n, " [--");
		cat(buf, n, o->name);
		if (o->arg) {
			metavar(o, mv, sizeof(mv));
			cat(buf, n, " ");
			cat(buf, n, mv);
		}
		cat(buf, n, "]");
	}
	if (c->operands && *c->operands) {
		cat(buf, n, " ");
		cat(buf, n, c->operands);
	}
}

/* Print "xwall SYNOPSIS" wrapped at 79 columns, breaking only at spaces
 * outside brackets, continuation lines under the command's first operand. */
static void print_wrapped(FILE *o, const char *lead, const char *syn)
{
	size_t col = strlen(lead), indent;
	const char *p = syn, *sp = strchr(syn, ' ');

	fputs(lead, o);
	indent = col + (sp ? (size_t)(sp - syn) + 1 : 0);
	while (*p) {
		const char *e = p;
		int depth = 0;

		/* one atom: up to a space at bracket depth 0 */
		for (; *e && (depth || *e != ' '); e++)
			depth += *e == '[' ? 1 : *e == ']' ? -1 : 0;
		if (p != syn && col + 1 + (size_t)(e - p) > 79) {
			fprintf(o, "\n%*s", (int)indent, "");
			col = indent;
		} else if (p != syn) {
			fputc(' ', o);
			col++;
		}
		fprintf(o, "%.*s", (int)(e - p), p);
		col += (size_t)(e - p);
		p = *e ? e + 1 : e;
	}
	fputc('\n', o);
}

/* Lines of s, each after prefix (the first after first). */
static void print_lines(FILE *o, const char *first, const char *prefix, const char *s)
{
	const char *p = s;

	for (int i = 0; *p; i++) {
		const char *nl = strchr(p, '\n');
		int len = nl ? (int)(nl - p) : (int)strlen(p);

		fprintf(o, "%s%.*s\n", i ? prefix : first, len, p);
		p += len + (nl ? 1 : 0);
	}
}

int xw_print_usage(FILE *o, const char *cmd, int code)
{
	const struct xw_cmd_spec *c = xw_cmd_spec(cmd);
	char syn[512];

	if (c) {
		xw_synopsis(c, syn, sizeof(syn));
		print_wrapped(o, "usage: xwall ", syn);
		print_lines(o, "  ", "  ", c->about);
		if (c->opts->name)
			fprintf(o, "options:\n");
		for (const struct xw_opt *p = c->opts; p->name; p++) {
			char head[96], mv[64] = "";

			if (p->arg)
				metavar(p, mv, sizeof(mv));
			snprintf(head, sizeof(head), "  --%s%s%s", p->name, p->arg ? " " : "", mv);
			if (strlen(head) < 24) {
				char first[128];

				snprintf(first, sizeof(first), "%-24s", head);
				print_lines(o, first, "                        ", p->help);
			} else {
				fprintf(o, "%s\n", head);
				print_lines(o, "                        ", "                        ",
					    p->help);
			}
		}
		fprintf(o, "  --help                show this help\n");
		return code;
	}
	fprintf(o, "usage: xwall [--version] [--help] COMMAND [ARGS]\n\n"
		   "xwall is an XDP/TC firewall: first-match rules by priority, changed\n"
		   "atomically while traffic flows.  Commands:\n\n");
	for (unsigned i = 0; i < xw_n_cmd_specs; i++) {
		xw_synopsis(&xw_cmd_specs[i], syn, sizeof(syn));
		print_wrapped(o, "  xwall ", syn);
	}
	fprintf(o, "\n'xwall COMMAND --help' tells more; see also xwall(8).\n"
		   "Exit codes: 0 success, 1 bad usage or input, 2 the system refused.\n");
	return code;
}

static const char *comp_kind(enum xw_comp k)
{
	switch (k) {
	case XW_COMP_FILES: return "files";
	case XW_COMP_IFACES: return "ifaces";
	case XW_COMP_WORDS: return "words";
	default: return "value";
	}
}

int xw_print_complete(FILE *o, const char *cmd)
{
	const struct xw_cmd_spec *c;

	if (!cmd) {
		fprintf(o, "@ words");
		for (unsigned i = 0; i < xw_n_cmd_specs; i++)
			fprintf(o, " %s", xw_cmd_specs[i].name);
		fprintf(o, "\n--version flag\n--help flag\n");
		return 0;
	}
	c = xw_cmd_spec(cmd);
	if (!c)
		return 1;
	if (c->operands && (*c->operands || c->comp != XW_COMP_NONE))
		fprintf(o, "@ %s%s%s\n", c->comp == XW_COMP_NONE ? "none" : comp_kind(c->comp),
			c->words ? " " : "", c->words ? c->words : "");
	for (const struct xw_opt *p = c->opts; p->name; p++)
		fprintf(o, "--%s %s%s%s\n", p->name, p->arg ? comp_kind(p->comp) : "flag",
			p->words ? " " : "", p->words ? p->words : "");
	fprintf(o, "--help flag\n");
	return 0;
}
