// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Shared by the xwall subcommands. */
#ifndef XW_CTL_H
#define XW_CTL_H

#include <stdbool.h>
#include "datapath.h"
#include "options.h"

struct xw_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
};

int cmd_attach(int argc, char **argv);
int cmd_detach(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_apply(int argc, char **argv);
int cmd_rule(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_test(int argc, char **argv);
int cmd_ct(int argc, char **argv);
int cmd_events(int argc, char **argv);
int cmd_lint(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_set(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_confirm(int argc, char **argv);

/* apply --confirm (cmd_confirm.c).  With the datapath open and locked:
 * refuse (exit 1, message printed) while a confirmation is pending, after
 * restoring one whose deadline has passed; `confirming`: for a second
 * apply --confirm. */
int xw_confirm_guard(struct xw_dp *dp, bool confirming);
/* Apply rs from file, restoring the live rule set after ms unless
 * confirmed; prints the deadline.  Returns the exit code. */
int xw_confirm_apply(struct xw_dp *dp, const struct xw_ruleset *rs, const char *file, uint64_t ms);
/* --confirm's argument: seconds, or a duration (90s, 5m). */
int xw_confirm_parse_secs(const char *arg, uint64_t *ms);
/* status: the pending confirmation and the last outcome; json is a
 * json_object to add "confirm" and "last_confirm" to, or NULL for text. */
void xw_confirm_status(struct xw_dp *dp, void *json);
/* The hidden command the timer runs as (xwall __confirm-timer NONCE). */
bool xw_confirm_is_timer(const char *cmd);
int xw_confirm_timer_main(int argc, char **argv);

/* Print an error (the message alone when it is FILE:LINE:COL:, else
 * prefixed "xwall: ") and return its code. */
int xw_fail(int code, const struct xw_err *err);
int xw_failf(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print the usage of the current command; returns 0 (help) or 1 (misuse). */
int xw_usage(const char *cmd, int code);
/* Open the pinned datapath under the lock; returns exit code. */
int xw_open(struct xw_dp *dp, bool create);
/* Close; when rc is an error and this process loaded the datapath, unpin it. */
void xw_close(struct xw_dp *dp, int rc);
/* Same, but a datapath that is not loaded is no error: *loaded says. */
int xw_open_loaded(struct xw_dp *dp, bool *loaded);
/* Read a whole file ("-" = stdin); NULL with errno on error. */
char *xw_slurp(const char *path, size_t *len);
/* Parse a rule file; returns exit code and prints errors. */
int xw_load_rules(const char *path, struct xw_ruleset *rs);

extern const char *xw_reason_names[];   /* by enum xw_reason (main.c) */

/* Options that size the datapath when a command loads it (attach, apply):
 * c --ct-size, r --ring-size, l --log-rate (options.c). */
int xw_load_option(int c, const char *arg);

#endif
