// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* xwall: the command line on top of the loader library. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <malloc.h>
#include <sys/mman.h>
#include "ctl.h"
#include "rule_include.h"

const char *xw_reason_names[] = {
	[XW_REASON_RULE] = "rule", [XW_REASON_POLICY] = "policy",
	[XW_REASON_MALFORMED] = "malformed", [XW_REASON_TAILCALL] = "tail_call",
	[XW_REASON_SHORT] = "short", [XW_REASON_REJECT_LIMITED] = "reject_limited",
	[XW_REASON_REJECT_SILENT] = "reject_silent",
};
_Static_assert(XW_ARRAY_SIZE(xw_reason_names) == XW_REASON_MAX,
	       "xw_reason_names: every enum xw_reason needs a name");

/* What runs each command; its options and help are in options.c. */
static const struct xw_cmd cmds[] = {
	{ "attach", cmd_attach }, { "detach", cmd_detach }, { "status", cmd_status },
	{ "apply", cmd_apply },   { "set", cmd_set },   { "rule", cmd_rule },     { "policy", cmd_policy },
	{ "stats", cmd_stats },   { "ct", cmd_ct },         { "events", cmd_events },
	{ "test", cmd_test },     { "lint", cmd_lint },     { "verify", cmd_verify },
	{ "import", cmd_import }, { "confirm", cmd_confirm },
};

#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

int xw_usage(const char *cmd, int code)
{
	return xw_print_usage(code ? stderr : stdout, cmd, code);
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
	int e = 0;

	if (!f)
		return NULL;
	errno = 0;
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
	/* a directory opens but fails to read (EISDIR), as do some devices
	 * and /proc files: a read error is an error, never an empty input */
	if (buf && ferror(f)) {
		e = errno ? errno : EIO;
		free(buf);
		buf = NULL;
	} else if (!buf) {
		e = ENOMEM;
	}
	if (buf)
		buf[n] = 0;
	if (f != stdin)
		fclose(f);
	*len = n;
	errno = e;
	return buf;
}

int xw_load_rules(const char *path, struct xw_ruleset *rs)
{
	struct xw_err err;
	size_t len;
	char *text = xw_slurp(path, &len);
	int rc;

	if (!text)
		return xw_failf(XW_EINPUT, "%s: %s", strcmp(path, "-") ? path : "<stdin>", strerror(errno));
	rc = xw_parse_tree(text, len, strcmp(path, "-") ? path : "<stdin>", rs, &err);
	free(text);
	return rc ? xw_fail(XW_EINPUT, &err) : 0;
}

/* A 100k-rule set takes a few hundred MB of small and large allocations;
 * faulting them in 4 KiB pages costs more than the parse.  Keep them all on
 * the brk heap, grown 256 MiB at a time, and ask for transparent huge
 * pages there (THP "madvise" mode; a no-op where THP is off). */
static void big_heap(void)
{
	const size_t pad = 256u << 20;
	char *start, *end;
	void *volatile p;

	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TRIM_THRESHOLD, 512 << 20);
	mallopt(M_TOP_PAD, (int)pad);
	start = sbrk(0);
	p = malloc(1u << 20);
	end = sbrk(0);
	free(p);
	if (start != (void *)-1 && end > start) {
		uintptr_t a = ((uintptr_t)start + (2u << 20) - 1) & ~(uintptr_t)((2u << 20) - 1);

		if ((char *)a < end)
			madvise((void *)a, (size_t)(end - (char *)a), MADV_HUGEPAGE);
	}
}

int main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2)
		return xw_usage(NULL, XW_EINPUT);
	big_heap();
	xw_log_init();
	cmd = argv[1];
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V") || !strcmp(cmd, "version")) {
		printf("xwall %s\n", XW_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help"))
		return xw_usage(argc > 2 ? argv[2] : NULL, 0);
	/* hidden: the option table for packaging/xwall.bash-completion */
	if (!strcmp(cmd, "__complete"))
		return argc > 3 ? XW_EINPUT : xw_print_complete(stdout, argc > 2 ? argv[2] : NULL);
	/* hidden: the process apply --confirm leaves behind (cmd_confirm.c) */
	if (xw_confirm_is_timer(cmd))
		return xw_confirm_timer_main(argc - 1, argv + 1);
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
