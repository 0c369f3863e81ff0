// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* apply --confirm: the pending confirmation and the outcome of the last
 * one, kept as pins next to the datapath's (bpffs holds maps, not files).
 *
 *   xw_confirm      BPF array map, entry 0 a struct xw_confirm_hdr, entries
 *                   1.. the text of the rule set to restore, in chunks.
 *                   It exists exactly while a confirmation is pending: it is
 *                   filled before it is pinned, and removed (unlinked) when
 *                   the rule set is confirmed, restored or unloaded.
 *   xw_confirm_log  BPF array map, one struct xw_confirm_log: how the last
 *                   confirmation ended.
 *
 * Both belong to one loaded datapath: the header holds the id of its
 * xw_cfg map, and a record of another (a datapath unloaded and loaded
 * again behind our back) is stale and ignored.  All changes are made
 * under the datapath lock (xw_dp_lock). */
#ifndef XW_CONFIRM_H
#define XW_CONFIRM_H

#include <stdbool.h>
#include <stdint.h>
#include "datapath.h"

#define XW_CONFIRM_PIN     XW_PIN_DIR "/xw_confirm"
#define XW_CONFIRM_LOG_PIN XW_PIN_DIR "/xw_confirm_log"
#define XW_CONFIRM_MAX_MS  (86400ull * 1000)   /* --confirm at most a day */

struct xw_confirm_hdr {
	char magic[8];             /* "xwconf1" */
	uint64_t nonce;            /* names this confirmation (the timer's argument) */
	uint32_t cfg_map_id;       /* the datapath it belongs to */
	uint32_t timer_pid;        /* the process that restores (0: not started) */
	uint64_t timer_start;      /* its start time (/proc/PID/stat field 22) */
	int64_t applied_real_ms;   /* CLOCK_REALTIME of the apply */
	int64_t deadline_real_ms;  /* CLOCK_REALTIME of the deadline (for people) */
	int64_t deadline_boot_ms;  /* CLOCK_BOOTTIME of the deadline (for the timer) */
	uint64_t timeout_ms;       /* --confirm */
	uint64_t text_len;         /* bytes of the saved rule set */
	uint32_t old_rules, new_rules;
	char file[256];            /* what was applied ("<stdin>" for -) */
};

enum xw_confirm_outcome {
	XW_CONFIRM_NONE,         /* no confirmation ended yet */
	XW_CONFIRM_KEPT,         /* `xwall confirm` */
	XW_CONFIRM_RESTORED,     /* deadline passed: previous rule set restored */
	XW_CONFIRM_REVERTED,     /* `xwall confirm --rollback` */
	XW_CONFIRM_FAILED,       /* restoring failed: the new rule set stays */
};

struct xw_confirm_log {
	char magic[8];             /* "xwclog1" */
	uint32_t outcome;          /* enum xw_confirm_outcome */
	uint32_t rules;            /* rules live afterwards */
	int64_t when_real_ms;
	uint64_t generation;       /* generation live afterwards */
	char file[256];            /* what had been applied with --confirm */
	char msg[256];             /* the error, for XW_CONFIRM_FAILED */
};

/* --confirm's argument: seconds, or a duration ("90s", "5m", "1h30m"),
 * from 1 s to XW_CONFIRM_MAX_MS.  0 and *ms, or -1. */
int xw_confirm_parse_timeout(const char *s, uint64_t *ms);

/* "kept", "restored", ... */
const char *xw_confirm_outcome_name(uint32_t outcome);

/* Now on CLOCK_REALTIME / CLOCK_BOOTTIME, in ms. */
int64_t xw_confirm_now_real_ms(void);
int64_t xw_confirm_now_boot_ms(void);

/* The id of the loaded datapath's xw_cfg map (0 on error). */
uint32_t xw_confirm_dp_id(const struct xw_dp *dp);

/* The pending confirmation of this datapath: 1 and *h (and, with text, the
 * saved rule text, malloc'd and NUL terminated); 0 if none; XW_ESYS-style
 * negative on a read error (err set).  A stale record (another datapath's,
 * or one that does not read back) is removed and counts as none. */
int xw_confirm_get(const struct xw_dp *dp, struct xw_confirm_hdr *h, char **text,
		   struct xw_err *err);
/* The header alone, without the lock or an open datapath (the timer polls
 * it): 1 found, 0 none. */
int xw_confirm_peek(struct xw_confirm_hdr *h);
/* Store a pending confirmation: a new map, filled, then pinned.  0 or
 * XW_ESYS (err set); nothing is pinned on failure. */
int xw_confirm_put(const struct xw_confirm_hdr *h, const char *text, struct xw_err *err);
/* Rewrite the header of the pinned record (entry 0). */
int xw_confirm_update_hdr(const struct xw_confirm_hdr *h, struct xw_err *err);
/* Remove the pending confirmation (none is no error). */
int xw_confirm_drop(struct xw_err *err);
/* Remove both pins (the last detach). */
void xw_confirm_unpin_all(void);

/* The outcome of the last confirmation: 1 and *l, 0 none. */
int xw_confirm_log_get(struct xw_confirm_log *l);
int xw_confirm_log_put(const struct xw_confirm_log *l, struct xw_err *err);

/* Is process pid, started at `start` (/proc/PID/stat field 22), alive?  */
bool xw_confirm_proc_alive(uint32_t pid, uint64_t start);
/* Field 22 of /proc/PID/stat (0 on error). */
uint64_t xw_confirm_proc_start(uint32_t pid);

#endif
