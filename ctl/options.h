// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The command line written down once.  Each command has one entry in
 * xw_cmd_specs[] (ctl/options.c) listing its options with their argument,
 * help text and completion.  That table drives
 *   - getopt_long: xw_getopt() builds the option array from it;
 *   - `xwall --help` and `xwall CMD --help` (xw_print_usage);
 *   - bash completion: packaging/xwall.bash-completion asks
 *     `xwall __complete [CMD]`, which prints the table (xw_print_complete);
 *   - tests/unit/test_options.c, which fails when docs/xwall.8 or the
 *     synopsis of docs/commands.md and the table disagree.
 * Adding an option: add it to options.c, handle its val in the command's getopt
 * loop, and document it in docs/xwall.8 (SYNOPSIS and the command's entry)
 * and docs/commands.md.  This file and options.c depend on nothing else of
 * xwall, so the unit test can compile them on their own. */
#ifndef XW_OPTIONS_H
#define XW_OPTIONS_H

#include <stdio.h>

/* What the shell completes for an option's argument or a command's operands. */
enum xw_comp {
	XW_COMP_NONE,     /* free text (a number, a name): nothing to offer */
	XW_COMP_FILES,    /* file names */
	XW_COMP_IFACES,   /* network interfaces */
	XW_COMP_WORDS,    /* one of .words */
};

struct xw_opt {
	const char *name;      /* long name without "--"; NULL ends a list */
	int val;               /* what xw_getopt returns for it (also its
				* undocumented short form -val, kept from
				* earlier versions) */
	const char *arg;       /* metavariable of its argument; NULL: none */
	const char *help;      /* its help; '\n' separates lines */
	enum xw_comp comp;     /* completion of the argument */
	const char *words;     /* XW_COMP_WORDS: candidates, space separated */
};

struct xw_cmd_spec {
	const char *name;
	const char *operands;  /* synopsis after the options, e.g. "DEV" */
	const char *synopsis;  /* the whole synopsis, for commands with
				* subcommands; NULL: generated from the options
				* and operands.  The unit test checks that it
				* names exactly the options of .opts. */
	const char *about;     /* what the command does, '\n' between lines */
	const struct xw_opt *opts;
	enum xw_comp comp;     /* completion of the first operand */
	const char *words;
};

extern const struct xw_cmd_spec xw_cmd_specs[];
extern const unsigned xw_n_cmd_specs;

/* The spec of a command, or NULL. */
const struct xw_cmd_spec *xw_cmd_spec(const char *name);
/* getopt_long over the options of `cmd` (which must be in the table):
 * returns the option's val, '?' for an unknown option or a missing
 * argument (getopt prints which), -1 at the end.  Resets getopt on the
 * first call for a given argv, so one process may parse twice. */
int xw_getopt(const char *cmd, int argc, char **argv);
/* `xwall --help` (cmd NULL) or `xwall CMD --help`; returns code. */
int xw_print_usage(FILE *o, const char *cmd, int code);
/* The synopsis of one command into buf (one line, no "xwall "). */
void xw_synopsis(const struct xw_cmd_spec *c, char *buf, size_t n);
/* `xwall __complete [CMD]`: lines "NAME KIND [WORD...]", NAME an option
 * (--x) or @ for the operands, KIND flag|value|files|ifaces|words.
 * Returns 0, or 1 for an unknown command. */
int xw_print_complete(FILE *o, const char *cmd);

#endif
