/* xwall: the command line on top of the loader library. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ctl.h"
#include "rule_include.h"

const char *xw_reason_names[XW_REASON_MAX] = {
	[XW_REASON_RULE] = "rule", [XW_REASON_POLICY] = "policy",
	[XW_REASON_MALFORMED] = "malformed", [XW_REASON_TAILCALL] = "tail_call",
	[XW_REASON_SHORT] = "short",
};

static const struct xw_cmd cmds[] = {
	{ "attach", cmd_attach,
	  "attach DEV [--mode auto|native|skb|tc] [--egress] [--ct-size N]\n"
	  "           [--ring-size BYTES] [--log-rate N]\n"
	  "  Load the datapath (once) and attach its XDP program to DEV through libxdp.\n"
	  "  --mode   native (driver), skb (generic) or auto (native if possible) XDP;\n"
	  "           tc: filter ingress with the TC program instead of XDP\n"
	  "  --egress also attach the TC egress filter (rules with direction out)\n"
	  "  When this attach loads the datapath (the first one):\n"
	  "  --ct-size   flow table entries (LRU; default 65536)\n"
	  "  --ring-size event ring bytes (power of two; default 1 MiB)\n"
	  "  --log-rate  events per second per logging rule (default 1000, 0: no cap)\n" },
	{ "detach", cmd_detach,
	  "detach DEV | --all\n"
	  "  Detach from DEV (or from every interface). The last detach unloads\n"
	  "  the datapath and removes its pins.\n" },
	{ "status", cmd_status,
	  "status [--json]\n"
	  "  Interfaces, modes, program ids, rule count, policies, generation.\n" },
	{ "apply", cmd_apply,
	  "apply [--check] [--ct-size N] [--ring-size BYTES] [--log-rate N] FILE|-\n"
	  "  Replace the whole rule set (rules and policies) atomically.  Loads the\n"
	  "  datapath if needed (sizes as for attach), so rules can be in place\n"
	  "  before the first attach.\n"
	  "  --check  parse and compile only; change nothing (no root needed)\n" },
	{ "rule", cmd_rule,
	  "rule add RULE... | rule del PRIO | rule list [--json]\n"
	  "  add: one rule in file syntax without the word \"rule\", e.g.\n"
	  "       xwall rule add 20 in tcp dport 22 src 10.0.0.0/8 pass\n"
	  "  del: delete the rule with that priority\n"
	  "  list: the live rule set; the text output is a valid file for apply\n" },
	{ "policy", cmd_policy,
	  "policy [in|out] pass|drop\n"
	  "  Verdict when no rule matches (default pass), for ingress (in) or egress (out).\n" },
	{ "stats", cmd_stats,
	  "stats [--json | --prometheus] [--watch SECS]\n"
	  "  Per-rule packets/bytes, per-verdict and per-reason counters.\n"
	  "  --watch  redraw every SECS seconds with rates per second\n" },
	{ "ct", cmd_ct,
	  "ct list [--json] | ct flush | ct timeout [NAME SECS]...\n"
	  "  list: tracked flows with their state and age (from the initiator's side)\n"
	  "  flush: forget every flow\n"
	  "  timeout: show the timeouts (seconds) or set some, e.g. 'ct timeout udp 5'\n"
	  "  Flows are tracked only while the rule set uses a 'ct' match.\n" },
	{ "events", cmd_events,
	  "events [--json | --pcap FILE] [--count N]\n"
	  "  Stream the events of rules with 'log' (header and first 128 bytes).\n"
	  "  Each event says how many were lost (ring full) since the previous one;\n"
	  "  a final line gives losses not yet reported.  --pcap writes the bytes as a\n"
	  "  pcap file; --count stops after N events.\n" },
	{ "test", cmd_test,
	  "test --pcap FILE [--rules FILE] [--json]\n"
	  "  Run each packet of FILE through the real datapath (BPF_PROG_TEST_RUN).\n"
	  "  On the live datapath the packets are probe frames: they change no\n"
	  "  counter, limit bucket, flow or event.\n"
	  "  --rules  load a private, unattached instance with these rules instead\n"
	  "           of the live one; there packets change state as traffic would\n" },
	{ "lint", cmd_lint,
	  "lint [--json] FILE|-\n"
	  "  Report shadowed rules (never fire: earlier rules decide all their packets,\n"
	  "  some differently), redundant rules (removable: earlier rules, or later ones\n"
	  "  and the policy, give their packets the same verdict), correlated rules\n"
	  "  (partial overlap with an earlier rule of another verdict: order matters)\n"
	  "  and rules that never match, each with an example packet.  Exact over all\n"
	  "  stateless fields; 'limit' rules never count as covering.  No root needed.\n"
	  "  Exit 0 if clean, 1 if anything was found or the file is bad.\n" },
	{ "import", cmd_import, "import nft|iptables [--chain NAME]... FILE|-\n  Print an xwall rule file for an nftables ruleset (nft text or nft -j JSON)\n  or an iptables-save dump; anything xwall cannot express is an error.\n  --chain  import only these base chains (xwall has one list per direction)\n" },
	{ "verify", cmd_verify,
	  "verify [--examples N] [--verbose]\n"
	  "  Check that the live datapath implements the live rule set: reads the rule\n"
	  "  text and the compiled maps back from the kernel, cuts the packet-key space\n"
	  "  into cells on which every rule and every map entry is constant, and runs\n"
	  "  one frame per cell (plus malformed-header shapes) through the attached\n"
	  "  programs with BPF_PROG_TEST_RUN against the rules' first match.  Prints\n"
	  "  'verified: N cells, 0 mismatches' (exit 0) or counterexamples (exit 1).\n"
	  "  Stateless fields only: ct and limit matches are taken as the packet finds\n"
	  "  them.  The frames count in stats like any packet.\n"
	  "  --examples  counterexamples to print (default 1)\n"
	  "  --verbose   cell counts per field and timing on stderr\n" },
};

#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

int xw_usage(const char *cmd, int code)
{
	FILE *o = code ? stderr : stdout;

	for (size_t i = 0; i < NCMDS; i++)
		if (cmd && !strcmp(cmds[i].name, cmd)) {
			fprintf(o, "usage: xwall %s", cmds[i].usage);
			return code;
		}
	fprintf(o, "usage: xwall [--version] [--help] COMMAND [ARGS]\n\n"
		   "xwall is an XDP/TC firewall: first-match rules by priority, changed\n"
		   "atomically while traffic flows.  Commands:\n\n");
	for (size_t i = 0; i < NCMDS; i++) {
		const char *nl = strchr(cmds[i].usage, '\n');

		fprintf(o, "  xwall %.*s\n", (int)(nl - cmds[i].usage), cmds[i].usage);
	}
	fprintf(o, "\n'xwall COMMAND --help' tells more; see also xwall(8).\n"
		   "Exit codes: 0 success, 1 bad usage or input, 2 the system refused.\n");
	return code;
}

int xw_load_option(int c, const char *arg)
{
	char *e;
	unsigned long n = strtoul(arg, &e, 10);
	bool bad = *e || !*arg;

	switch (c) {
	case 'c':
		if (bad || n < 16 || n > (1ul << 26))
			return xw_failf(XW_EINPUT, "--ct-size: expected 16..%lu entries, got '%s'", 1ul << 26, arg);
		xw_dp_set_ct_size((uint32_t)n);
		return 0;
	case 'r':
		if (bad || n < 4096 || n > (1ul << 30) || (n & (n - 1)))
			return xw_failf(XW_EINPUT, "--ring-size: expected a power of two from 4096 to %lu, got '%s'",
					1ul << 30, arg);
		xw_dp_set_ring_size((uint32_t)n);
		return 0;
	default:
		if (bad || n > 0xffffffffu)
			return xw_failf(XW_EINPUT, "--log-rate: expected events per second (0: no cap), got '%s'", arg);
		xw_dp_set_log_rate((uint32_t)n);
		return 0;
	}
}

int xw_fail(int code, const struct xw_err *err)
{
	const char *m = err->msg;
	const char *c1 = strchr(m, ':');

	/* FILE:LINE:COL: messages stand alone, as compilers print them */
	if (c1 && c1[1] >= '0' && c1[1] <= '9')
		fprintf(stderr, "%s\n", m);
	else
		fprintf(stderr, "xwall: %s\n", m);
	return code;
}

int xw_failf(int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "xwall: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

int xw_open_loaded(struct xw_dp *dp, bool *loaded)
{
	struct xw_err err;
	int rc;

	xw_dp_init(dp);
	if (xw_privileged() && access(XW_PIN_DIR, F_OK)) {
		*loaded = false;     /* nothing to lock: do not create the directory */
		return 0;
	}
	rc = xw_dp_lock(dp, &err);
	if (rc)
		return xw_fail(rc, &err);
	*loaded = xw_dp_is_loaded();
	if (!*loaded)
		return 0;
	rc = xw_dp_open(dp, false, &err);
	if (rc)
		xw_dp_close(dp);
	return rc ? xw_fail(XW_ESYS, &err) : 0;
}

void xw_close(struct xw_dp *dp, int rc)
{
	struct xw_err err;

	/* a command that failed leaves no datapath it loaded itself behind; one
	 * that succeeded makes it count as loaded only now */
	if (rc && dp->created)
		xw_dp_unpin(&err);
	else if (!rc && xw_dp_commit_load(dp, &err))
		xw_fail(XW_ESYS, &err);
	xw_dp_close(dp);
}

int xw_open(struct xw_dp *dp, bool create)
{
	struct xw_err err;
	int rc;

	xw_dp_init(dp);
	rc = xw_dp_open(dp, create, &err);
	if (rc)
		xw_dp_close(dp);
	if (rc == -1)
		return xw_fail(XW_ESYS, &err);
	if (rc)
		return xw_fail(rc, &err);
	return 0;
}

char *xw_slurp(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (cap - n < 65536) {
			char *nb = realloc(buf, cap = cap * 2 + 65536);

			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
		}
		size_t r = fread(buf + n, 1, cap - n - 1, f);

		n += r;
		if (r == 0)
			break;
	}
	if (buf)
		buf[n] = 0;
	if (f != stdin)
		fclose(f);
	*len = n;
	return buf;
}

int xw_load_rules(const char *path, struct xw_ruleset *rs)
{
	struct xw_err err;
	size_t len;
	char *text = xw_slurp(path, &len);
	int rc;

	if (!text)
		return xw_failf(XW_EINPUT, "%s: %s", path, strerror(errno));
	rc = xw_parse_tree(text, len, strcmp(path, "-") ? path : "<stdin>", rs, &err);
	free(text);
	return rc ? xw_fail(XW_EINPUT, &err) : 0;
}

int main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2)
		return xw_usage(NULL, XW_EINPUT);
	xw_log_init();
	cmd = argv[1];
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V") || !strcmp(cmd, "version")) {
		printf("xwall %s\n", XW_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help"))
		return xw_usage(argc > 2 ? argv[2] : NULL, 0);
	for (size_t i = 0; i < NCMDS; i++)
		if (!strcmp(cmds[i].name, cmd)) {
			for (int a = 2; a < argc; a++)
				if (!strcmp(argv[a], "--help") || !strcmp(argv[a], "-h"))
					return xw_usage(cmd, 0);
			return cmds[i].run(argc - 1, argv + 1);
		}
	fprintf(stderr, "xwall: unknown command '%s'\n", cmd);
	return xw_usage(NULL, XW_EINPUT);
}
