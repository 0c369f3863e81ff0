// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The option table (ctl/options.c) against itself, against the help and
 * completion made from it, and against the man page docs/xwall.8:
 *   - SYNOPSIS: each command's options are exactly the table's (both ways);
 *   - COMMANDS: each table option appears in its command's entry, and every
 *     --option written there is the command's own, or written right after
 *     another command's name ("detach --all") and that command's.
 * docs/commands.md's synopsis is checked the same way as the man page's.
 * Run from the top of the repository (make unit does), or set XW_SRCDIR. */
#include <check.h>
#include "check_main.h"
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* compiled in on purpose: options.c depends on nothing else of xwall */
#include "../../ctl/options.c" // NOLINT(bugprone-suspicious-include)

#define MAXCMD 32
#define MAXOPT 64

struct optset {
	char names[MAXOPT][32];
	int n;
};

static void set_add(struct optset *s, const char *name)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->names[i], name))
			return;
	ck_assert_int_lt(s->n, MAXOPT);
	snprintf(s->names[s->n++], sizeof(s->names[0]), "%s", name);
}

static bool set_has(const struct optset *s, const char *name)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->names[i], name))
			return true;
	return false;
}

static bool table_has(const struct xw_cmd_spec *c, const char *name)
{
	for (const struct xw_opt *o = c->opts; o->name; o++)
		if (!strcmp(o->name, name))
			return true;
	return false;
}

/* Every "--name" (in man source "\-\-name", "\-" for '-') in line. */
static void scan_opts(const char *line, bool man, void (*fn)(const char *name, const char *before,
								 void *arg), void *arg)
{
	char buf[1024];
	size_t k = 0;

	/* unescape \- to -, drop font changes, first */
	for (const char *p = line; *p && k + 1 < sizeof(buf); p++) {
		if (man && p[0] == '\\' && p[1] == '-') {
			buf[k++] = '-';
			p++;
		} else if (man && p[0] == '\\' && p[1] == 'f' && p[2]) {
			p += 2;   /* font change \fB, \fR, \fP: drop */
		} else {
			buf[k++] = *p;
		}
	}
	buf[k] = 0;
	for (char *p = buf; (p = strstr(p, "--")) != NULL;) {
		char name[32];
		size_t n = 0;
		char *q = p + 2;

		while ((islower((unsigned char)*q) || *q == '-') && n + 1 < sizeof(name))
			name[n++] = *q++;
		name[n] = 0;
		if (n && (p == buf || !isalnum((unsigned char)p[-1]))) {
			char save = *p;

			*p = 0;
			fn(name, buf, arg);
			*p = save;
		}
		p = q;
	}
}

static void add_cb(const char *name, const char *before, void *arg)
{
	(void)before;
	set_add(arg, name);
}

/* ---- the table itself ------------------------------------------------------ */

START_TEST(test_table_consistent)
{
	ck_assert_uint_gt(xw_n_cmd_specs, 0);
	for (unsigned i = 0; i < xw_n_cmd_specs; i++) {
		const struct xw_cmd_spec *c = &xw_cmd_specs[i];

		ck_assert_ptr_eq(xw_cmd_spec(c->name), c);   /* names unique */
		ck_assert_msg(c->about && *c->about, "%s: no help", c->name);
		for (const struct xw_opt *o = c->opts; o->name; o++) {
			ck_assert_msg(o->help && *o->help, "%s --%s: no help", c->name, o->name);
			ck_assert_msg(o->val > ' ' && o->val < 127, "%s --%s: val", c->name, o->name);
			ck_assert_msg(o->val != '?' && o->val != ':', "%s --%s: val", c->name, o->name);
			ck_assert_msg(o->arg || (o->comp == XW_COMP_NONE && !o->words),
				      "%s --%s: completion for an option without argument",
				      c->name, o->name);
			ck_assert_msg((o->comp == XW_COMP_WORDS) == (o->words != NULL),
				      "%s --%s: words", c->name, o->name);
			ck_assert_msg(strcmp(o->name, "help"), "%s: --help is implicit", c->name);
			for (const struct xw_opt *p = c->opts; p != o; p++) {
				ck_assert_msg(strcmp(p->name, o->name), "%s: --%s twice", c->name,
					      o->name);
				ck_assert_msg(p->val != o->val, "%s: --%s and --%s share val %c",
					      c->name, p->name, o->name, o->val);
			}
		}
		ck_assert_int_le((int)(strlen("xwall ") + strlen(c->name)), 24);
	}
}
END_TEST

/* A hand-written synopsis (rule, ct, ...) names exactly the table's options. */
START_TEST(test_synopsis_matches_table)
{
	for (unsigned i = 0; i < xw_n_cmd_specs; i++) {
		const struct xw_cmd_spec *c = &xw_cmd_specs[i];
		struct optset s = { 0 };
		char syn[512];

		xw_synopsis(c, syn, sizeof(syn));
		scan_opts(syn, false, add_cb, &s);
		for (const struct xw_opt *o = c->opts; o->name; o++)
			ck_assert_msg(set_has(&s, o->name), "%s: synopsis '%s' lacks --%s", c->name,
				      syn, o->name);
		for (int k = 0; k < s.n; k++)
			ck_assert_msg(table_has(c, s.names[k]), "%s: synopsis '%s' has --%s, the "
				      "table does not", c->name, syn, s.names[k]);
	}
}
END_TEST

static char *capture(int (*fn)(FILE *, const char *, int), const char *cmd, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	ck_assert_ptr_nonnull(f);
	fn(f, cmd, 0);
	fclose(f);
	return buf;
}

static int complete_fn(FILE *f, const char *cmd, int code)
{
	(void)code;
	return xw_print_complete(f, cmd);
}

/* --help and `xwall __complete` show every option, and --help fits 79 columns. */
START_TEST(test_help_and_completion_show_all)
{
	for (unsigned i = 0; i < xw_n_cmd_specs; i++) {
		const struct xw_cmd_spec *c = &xw_cmd_specs[i];
		size_t len;
		char *help = capture(xw_print_usage, c->name, &len);
		char *comp = capture(complete_fn, c->name, &len);
		char want[64];

		for (const char *l = help; *l;) {
			const char *nl = strchr(l, '\n');
			size_t n = nl ? (size_t)(nl - l) : strlen(l);

			ck_assert_msg(n <= 79, "%s --help: line longer than 79: %.*s", c->name,
				      (int)n, l);
			l += n + (nl ? 1 : 0);
		}
		for (const struct xw_opt *o = c->opts; o->name; o++) {
			snprintf(want, sizeof(want), "\n  --%s", o->name);
			ck_assert_msg(strstr(help, want), "%s --help lacks --%s", c->name, o->name);
			snprintf(want, sizeof(want), "--%s %s", o->name,
				 !o->arg ? "flag" : o->comp == XW_COMP_FILES ? "files" :
				 o->comp == XW_COMP_IFACES ? "ifaces" :
				 o->comp == XW_COMP_WORDS ? "words" : "value");
			ck_assert_msg(strstr(comp, want), "__complete %s lacks '%s':\n%s", c->name,
				      want, comp);
		}
		free(help);
		free(comp);
	}
	{
		FILE *null = fopen("/dev/null", "w");

		ck_assert_ptr_nonnull(null);
		ck_assert_int_eq(xw_print_complete(null, "no-such-command"), 1);
		fclose(null);
	}
}
END_TEST

/* ---- the man page ---------------------------------------------------------- */

static char *read_file(const char *rel)
{
	const char *dir = getenv("XW_SRCDIR");
	char path[4096];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : ".", rel);
	f = fopen(path, "r");
	ck_assert_msg(f, "%s: cannot open (run from the repository top or set XW_SRCDIR)", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc((size_t)n + 1, 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(fread(buf, 1, (size_t)n, f), n);
	fclose(f);
	return buf;
}

/* Lines of section NAME (".SH NAME" up to the next .SH), NULL-terminated. */
static char **section(char *man, const char *name, int *nlines)
{
	char hdr[64], **lines = calloc(4096, sizeof(char *));
	char *p, *end;
	int n = 0;

	snprintf(hdr, sizeof(hdr), "\n.SH %s\n", name);
	p = strstr(man, hdr);
	ck_assert_msg(p, "docs/xwall.8 has no section %s", name);
	p += strlen(hdr);
	end = strstr(p, "\n.SH ");
	ck_assert_ptr_nonnull(end);
	*end = 0;
	for (char *l = strtok(p, "\n"); l && n < 4095; l = strtok(NULL, "\n"))
		lines[n++] = l;
	*nlines = n;
	return lines;
}

/* The first word of a man source line that is a table command, or NULL. */
static const struct xw_cmd_spec *first_cmd(const char *line, const char *skip)
{
	char w[32];
	size_t k;

	for (const char *p = line; *p;) {
		if (*p == '.' && p == line) {          /* the macro name */
			while (*p && *p != ' ')
				p++;
			continue;
		}
		if (*p == '\\' && p[1] == 'f') {       /* font change \fB */
			p += 3;
			continue;
		}
		if (!isalpha((unsigned char)*p)) {
			p++;
			continue;
		}
		for (k = 0; isalpha((unsigned char)*p) && k + 1 < sizeof(w); p++)
			w[k++] = *p;
		w[k] = 0;
		if (skip && !strcmp(w, skip))
			continue;
		return xw_cmd_spec(w);
	}
	return NULL;
}

START_TEST(test_man_synopsis_matches_table)
{
	char *man = read_file("docs/xwall.8");
	int n;
	char **l = section(man, "SYNOPSIS", &n);
	struct optset per[MAXCMD] = { 0 }, sizes = { 0 };
	bool seen[MAXCMD] = { 0 }, uses_sizes[MAXCMD] = { 0 };
	int cur = -1;   /* index of the command of the current chunk; -1: none */

	for (int i = 0; i < n; i++) {
		if (!strcmp(l[i], ".br") || !strcmp(l[i], ".PP")) {
			cur = -1;
			continue;
		}
		if (!strncmp(l[i], ".B xwall", 8)) {
			const struct xw_cmd_spec *c = first_cmd(l[i] + 8, NULL);

			cur = c ? (int)(c - xw_cmd_specs) : -1;
			if (c) {
				seen[cur] = true;
				scan_opts(l[i], true, add_cb, &per[cur]);   /* test --pcap */
			}
			continue;
		}
		if (!strcmp(l[i], ".I sizes")) {     /* the paragraph defining [sizes] */
			for (i++; i < n && strcmp(l[i], ".br") && strcmp(l[i], ".PP"); i++)
				scan_opts(l[i], true, add_cb, &sizes);
			cur = -1;
			continue;
		}
		if (cur < 0)
			continue;
		if (strstr(l[i], "sizes"))
			uses_sizes[cur] = true;
		scan_opts(l[i], true, add_cb, &per[cur]);
	}
	ck_assert_msg(sizes.n == 3, "SYNOPSIS: the sizes paragraph names %d options", sizes.n);
	for (unsigned c = 0; c < xw_n_cmd_specs; c++) {
		const char *name = xw_cmd_specs[c].name;

		ck_assert_msg(seen[c], "xwall.8 SYNOPSIS has no line for '%s'", name);
		if (uses_sizes[c])
			for (int k = 0; k < sizes.n; k++)
				set_add(&per[c], sizes.names[k]);
		for (const struct xw_opt *o = xw_cmd_specs[c].opts; o->name; o++)
			ck_assert_msg(set_has(&per[c], o->name),
				      "xwall.8 SYNOPSIS: '%s' lacks --%s, which the table has", name,
				      o->name);
		for (int k = 0; k < per[c].n; k++)
			ck_assert_msg(table_has(&xw_cmd_specs[c], per[c].names[k]),
				      "xwall.8 SYNOPSIS: '%s' shows --%s, which the table does not "
				      "have", name, per[c].names[k]);
	}
	free(l);
	free(man);
}
END_TEST

struct entry_ctx {
	const struct xw_cmd_spec *cmd;
	struct optset *own;
	const char *line;
};

/* an option mentioned in cmd's entry: its own, or "OTHER --opt" */
static void entry_cb(const char *name, const char *before, void *arg)
{
	struct entry_ctx *e = arg;
	const struct xw_cmd_spec *other = NULL;
	size_t k = strlen(before);

	if (!strcmp(name, "help") || !strcmp(name, "version"))
		return;
	/* the word right before, skipping blanks and quotes */
	while (k && (before[k - 1] == ' ' || before[k - 1] == '"'))
		k--;
	if (k && isalpha((unsigned char)before[k - 1])) {
		size_t b = k;
		char w[32];

		while (b && isalpha((unsigned char)before[b - 1]))
			b--;
		snprintf(w, sizeof(w), "%.*s", (int)(k - b), before + b);
		other = xw_cmd_spec(w);
	}
	if (other && other != e->cmd) {
		ck_assert_msg(table_has(other, name), "xwall.8 COMMANDS, %s: '%s --%s' is not an "
			      "option of %s: %s", e->cmd->name, other->name, name, other->name,
			      e->line);
		return;
	}
	ck_assert_msg(table_has(e->cmd, name), "xwall.8 COMMANDS, %s: --%s is not an option of "
		      "%s in the table (write 'CMD --%s' for another command's): %s",
		      e->cmd->name, name, e->cmd->name, name, e->line);
	set_add(e->own, name);
}

START_TEST(test_man_commands_match_table)
{
	char *man = read_file("docs/xwall.8");
	int n, depth = 0;
	char **l = section(man, "COMMANDS", &n);
	struct optset per[MAXCMD] = { 0 };
	bool seen[MAXCMD] = { 0 };
	const struct xw_cmd_spec *cur = NULL;

	for (int i = 0; i < n; i++) {
		if (!strncmp(l[i], ".RS", 3))
			depth++;
		else if (!strncmp(l[i], ".RE", 3))
			depth--;
		else if (depth == 0 && !strcmp(l[i], ".TP") && i + 1 < n) {
			/* a new entry: its tag names the command (none for --version) */
			cur = first_cmd(l[++i], NULL);
			if (cur)
				seen[cur - xw_cmd_specs] = true;
		}
		if (!cur)
			continue;
		struct entry_ctx e = { cur, &per[cur - xw_cmd_specs], l[i] };

		scan_opts(l[i], true, entry_cb, &e);
	}
	ck_assert_int_eq(depth, 0);
	for (unsigned c = 0; c < xw_n_cmd_specs; c++) {
		ck_assert_msg(seen[c], "xwall.8 COMMANDS has no entry for '%s'", xw_cmd_specs[c].name);
		for (const struct xw_opt *o = xw_cmd_specs[c].opts; o->name; o++)
			ck_assert_msg(set_has(&per[c], o->name),
				      "xwall.8 COMMANDS: the entry of '%s' does not mention --%s",
				      xw_cmd_specs[c].name, o->name);
	}
	free(l);
	free(man);
}
END_TEST

/* docs/commands.md's synopsis block names exactly the table's options. */
START_TEST(test_commands_md_synopsis_matches_table)
{
	char *md = read_file("docs/commands.md");
	char *p = strstr(md, "## Synopsis\n"), *end;
	struct optset per[MAXCMD] = { 0 }, sizes = { 0 };
	bool seen[MAXCMD] = { 0 }, uses_sizes[MAXCMD] = { 0 };

	ck_assert_msg(p, "docs/commands.md: no '## Synopsis'");
	p = strstr(p, "```\n");
	ck_assert_ptr_nonnull(p);
	p += 4;
	end = strstr(p, "```");
	ck_assert_ptr_nonnull(end);
	*end = 0;
	for (char *l = strtok(p, "\n"); l; l = strtok(NULL, "\n")) {
		const struct xw_cmd_spec *c;

		if (!strncmp(l, "SIZES:", 6)) {
			scan_opts(l, false, add_cb, &sizes);
			continue;
		}
		ck_assert_msg(!strncmp(l, "xwall ", 6), "docs/commands.md synopsis: '%s'", l);
		c = first_cmd(l + 6, NULL);
		if (!c)
			continue;   /* xwall --help, xwall help */
		seen[c - xw_cmd_specs] = true;
		if (strstr(l, "SIZES"))
			uses_sizes[c - xw_cmd_specs] = true;
		scan_opts(l, false, add_cb, &per[c - xw_cmd_specs]);
	}
	for (unsigned c = 0; c < xw_n_cmd_specs; c++) {
		const char *name = xw_cmd_specs[c].name;

		ck_assert_msg(seen[c], "docs/commands.md synopsis has no line for '%s'", name);
		if (uses_sizes[c])
			for (int k = 0; k < sizes.n; k++)
				set_add(&per[c], sizes.names[k]);
		for (const struct xw_opt *o = xw_cmd_specs[c].opts; o->name; o++)
			ck_assert_msg(set_has(&per[c], o->name),
				      "docs/commands.md synopsis: '%s' lacks --%s", name, o->name);
		for (int k = 0; k < per[c].n; k++)
			ck_assert_msg(table_has(&xw_cmd_specs[c], per[c].names[k]),
				      "docs/commands.md synopsis: '%s' shows --%s, which the table "
				      "does not have", name, per[c].names[k]);
	}
	free(md);
}
END_TEST

/* The completion script takes the options from the table, not a list of its own. */
START_TEST(test_completion_script_uses_table)
{
	char *s = read_file("packaging/xwall.bash-completion");

	ck_assert_msg(strstr(s, "__complete"), "xwall.bash-completion does not call __complete");
	for (unsigned c = 0; c < xw_n_cmd_specs; c++)
		for (const struct xw_opt *o = xw_cmd_specs[c].opts; o->name; o++) {
			char w[48];

			/* rule list / ct list --json are offered by hand */
			if (!strcmp(o->name, "json"))
				continue;
			snprintf(w, sizeof(w), "--%s", o->name);
			ck_assert_msg(!strstr(s, w), "xwall.bash-completion lists %s by hand", w);
		}
	free(s);
}
END_TEST

static Suite *options_suite(void)
{
	Suite *s = suite_create("options");
	TCase *t = tcase_create("table");
	TCase *m = tcase_create("man");

	tcase_add_test(t, test_table_consistent);
	tcase_add_test(t, test_synopsis_matches_table);
	tcase_add_test(t, test_help_and_completion_show_all);
	tcase_add_test(m, test_man_synopsis_matches_table);
	tcase_add_test(m, test_man_commands_match_table);
	tcase_add_test(m, test_commands_md_synopsis_matches_table);
	tcase_add_test(m, test_completion_script_uses_table);
	suite_add_tcase(s, t);
	suite_add_tcase(s, m);
	return s;
}

XW_CHECK_MAIN(options_suite)
