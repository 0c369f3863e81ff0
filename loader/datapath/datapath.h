// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The datapath as a library: load or open the pinned instance, apply rule
 * sets atomically, read counters, run packets through it. */
#ifndef XW_DATAPATH_H
#define XW_DATAPATH_H

#include <stdbool.h>
#include "rule.h"
#include "xwall.h"

/* Error classes, which are also the CLI's exit codes (docs/commands.md). */
enum { XW_OK = 0, XW_EINPUT = 1, XW_ESYS = 2 };

#define XW_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

enum xw_map_id {
	XW_M_NODES, XW_M_LIDS, XW_M_RENTS, XW_M_TREES, XW_M_TEXT, XW_M_CFG, XW_M_RULE_STATS,
	XW_M_REASON_STATS, XW_M_VERDICT_STATS, XW_M_SCRATCH, XW_M_XDP_PROGS,
	XW_M_IFACES, XW_M_TC_PROGS, XW_M_CT, XW_M_CT_STATS, XW_M_CT_COUNT,
	XW_M_LIMITS, XW_M_BUCKETS, XW_M_SRC_BUCKETS, XW_M_EVENTS, XW_M_EVENT_STATS,
	XW_M_LOG_WINDOWS, XW_M_CT_NEW,
	XW_M_SET_MAPS, XW_M_SET_DEFS, XW_M_SET_RULES, XW_M_SET_NRULES, XW_M_SET_BANS, /* loader/sets.c */
	XW_M_SET_HMAPS, XW_M_SET_CUR, XW_M_XENTS4, XW_M_XENTS16,
	XW_M_COUNT
};

enum xw_prog_id {   /* XDP programs first, then TC (see load()) */
	XW_P_XDP, XW_P_XDP_STAGE, XW_P_XDP_LIMIT,
	XW_P_TC_IN, XW_P_TC_OUT, XW_P_TC_STAGE_IN, XW_P_TC_STAGE_OUT,
	XW_P_TC_LIMIT_IN, XW_P_TC_LIMIT_OUT, XW_P_COUNT
};

struct xwall_bpf;
struct xwall_tc_bpf;

struct xw_dp {
	int map_fd[XW_M_COUNT];
	int prog_fd[XW_P_COUNT];
	struct xwall_bpf *skel;  /* set when this process loaded the objects */
	struct xwall_tc_bpf *tc_skel;
	int lock_fd;
	bool pinned;
	/* what the rule set of the last apply costs a packet (trees) */
	struct {
		uint32_t xshapes, xentries, trees, entries, nodes, lids, depth, leaf, worst;
	} last_cost;
	bool created;            /* xw_dp_open loaded it in this process */
	bool probe;              /* test runs send probe frames: they change no
				  * counter, bucket, flow or event (xwall.h) */
};

/* By enum xw_map_id and enum xw_prog_id (sized where they are defined, so
 * that a build-time check can count the names). */
extern const char *const xw_map_names[];
extern const char *const xw_prog_names[];

void xw_dp_init(struct xw_dp *dp);
/* libbpf/libxdp messages: quiet unless XW_DEBUG=1 (warnings) or 2 (all). */
void xw_log_init(void);
/* Take the global lock (flock on the pin directory, mounting bpffs and
 * creating the directory 0700 if needed). */
int xw_dp_lock(struct xw_dp *dp, struct xw_err *err);
/* Become the one reader of the event ring: 0 and *lock_fd (close it to
 * release), or an XW_E* code with err set (another reader: XW_ESYS). */
int xw_dp_events_claim(int *lock_fd, struct xw_err *err);
/* Open the pinned datapath.  Returns XW_OK, XW_ESYS, or -1 if not loaded
 * (err says so) and `create` is false; with `create` it loads and pins. */
int xw_dp_open(struct xw_dp *dp, bool create, struct xw_err *err);
/* A datapath this process loaded (dp->created) counts as loaded only once
 * this pins xw_cfg: call it when the command has done its work. */
int xw_dp_commit_load(struct xw_dp *dp, struct xw_err *err);
/* A private, unpinned instance (xwall test --rules). */
int xw_dp_load_private(struct xw_dp *dp, struct xw_err *err);
void xw_dp_close(struct xw_dp *dp);
/* The error for a pinned datapath of another xwall version (what: the
 * difference found); XW_ESYS. */
int xw_dp_foreign(struct xw_err *err, const char *what);
/* Remove every pin (last detach). */
int xw_dp_unpin(struct xw_err *err);
/* Remove our pins, ignoring errors (stale pins of a killed load). */
void xw_dp_unpin_objects(void);
/* The effective capabilities the datapath commands need (CAP_BPF,
 * CAP_NET_ADMIN, CAP_SYS_ADMIN), in the initial user namespace; the uid
 * does not matter. */
bool xw_privileged(void);
/* Number of needed capabilities missing; their names, comma-separated, in
 * buf (may be NULL). */
int xw_missing_caps(char *buf, size_t len);
/* XW_ESYS with "WHAT: permission denied: missing CAP_..." in err. */
int xw_privilege_err(struct xw_err *err, const char *what);
bool xw_dp_is_loaded(void);

/* Live rule set and its counter slots (slots[i] for rules[i]). */
int xw_dp_read_rules(struct xw_dp *dp, struct xw_ruleset *rs, uint32_t **slots,
		     uint64_t *generation, struct xw_err *err);
/* Replace the whole rule set atomically.  Counters of unchanged rules stay. */
int xw_dp_apply(struct xw_dp *dp, const struct xw_ruleset *rs, struct xw_err *err);

/* What the live rule set costs a packet: exact shapes (one hash probe each
 * at most) and trees, and per packet at most `worst` reads (node reads down
 * every tree plus its longest leaf list). */
struct xw_tree_cost {
	uint32_t xshapes, xentries, xprobes;   /* xprobes: most probes of one packet */
	uint32_t trees, nodes, leaf_slots, depth, leaf, worst;
	uint32_t edits, overlay;   /* `rule add|del` since the apply; overlay entries */
};
int xw_dp_tree_cost(struct xw_dp *dp, struct xw_tree_cost *c);

struct xw_test_result {
	int verdict;        /* XW_PASS / XW_DROP */
	uint32_t prio;      /* XW_PRIO_NONE when the policy decided */
	uint32_t reason;    /* enum xw_reason */
	int malformed;      /* enum xw_malformed: 1 malformed L3, 2 short frame */
	uint32_t retval;    /* XDP or TC action */
	uint8_t ct_state;   /* XW_CTB_* the packet had, 0 untracked */
	uint32_t seen_len;  /* bytes the program saw: less than the frame when
			     * BPF_PROG_TEST_RUN put the rest into fragments */
};
/* Run one frame through the XDP entry program (dir XW_DIR_IN) or the TC
 * egress program (XW_DIR_OUT) with BPF_PROG_TEST_RUN. */
int xw_dp_test_run_dir(struct xw_dp *dp, int dir, const void *pkt, size_t len,
		       struct xw_test_result *res, struct xw_err *err);
/* Run one frame through an entry program: XW_P_XDP, XW_P_TC_IN or
 * XW_P_TC_OUT.  An XDP frame shorter than 14 bytes is offered behind
 * metadata (kernel 6.18 still refuses it, as it does on TC: EINVAL). */
int xw_dp_test_run_prog(struct xw_dp *dp, int prog, const void *pkt, size_t len,
			struct xw_test_result *res, struct xw_err *err);
/* Fill test-run options for a probe frame (include/xwall.h) of pkt through
 * TC (tc != 0) or XDP, on ifindex (0: none).  XDP needs the frame copied
 * behind the mark: *framed, which the caller frees after the run. */
struct bpf_test_run_opts;
struct xdp_md;
struct __sk_buff;
int xw_probe_opts(int tc, const void *pkt, size_t len, uint32_t ifindex,
		  struct bpf_test_run_opts *o, struct xdp_md *md, struct __sk_buff *sb,
		  uint8_t **framed);
int xw_dp_test_run(struct xw_dp *dp, const void *pkt, size_t len,
		   struct xw_test_result *res, struct xw_err *err);

/* Connection tracking. */
extern const char *const xw_ct_state_names[];    /* by enum xw_cts: entry states = timeout names */
extern const char *const xw_ct_counter_names[];  /* by enum xw_ct_counter */
extern const uint32_t xw_ct_default_timeout[];   /* by enum xw_cts */
/* Size of each flow table (established, unreplied) used when this process
 * loads the datapath (attach --ct-size). */
void xw_dp_set_ct_size(uint32_t n);
/* Event ring size in bytes (power of two >= page size) and the per-rule
 * event cap (events/s, 0 none), used when this process loads the datapath. */
void xw_dp_set_ring_size(uint32_t bytes);
void xw_dp_set_log_rate(uint32_t per_sec);
/* After opening an already loaded datapath: sizes asked for must be the
 * loaded ones (else XW_EINPUT); a log rate asked for is applied. */
int xw_dp_settle_options(struct xw_dp *dp, struct xw_err *err);
int xw_dp_ct_timeouts(struct xw_dp *dp, uint32_t t[XW_CTS_MAX]);
int xw_dp_ct_set_timeout(struct xw_dp *dp, int state, uint32_t secs, struct xw_err *err);
/* Calls fn for each live (not expired) flow of both tables; age/idle in ns. */
int xw_dp_ct_each(struct xw_dp *dp, int (*fn)(const struct xw_ct_key *, const struct xw_ct_val *,
					      uint64_t now_ns, void *), void *arg);
int xw_dp_ct_flush(struct xw_dp *dp, uint64_t *n);
int xw_dp_ct_counters(struct xw_dp *dp, uint64_t out[XW_CTC_MAX], int64_t *live);
/* Sum of a per-CPU __u64 counter (xw_ct_stats, xw_event_stats). */
uint64_t xw_dp_percpu_u64(struct xw_dp *dp, enum xw_map_id m, uint32_t idx);

/* Sum a per-CPU counter map at idx. */
int xw_dp_counter(struct xw_dp *dp, enum xw_map_id m, uint32_t idx, struct xw_counter *out);

/* XW_TIMING=1 in the environment: print "what" and the ms since the last
 * mark (the first: since the process started) on stderr. */
void xw_dp_phase(const char *what);

/* Error helper: fills err, returns code.  The macro yields the code
 * itself, so a caller's `return xw_errf(err, XW_ESYS, ...)` is visibly
 * non-zero to the static analyzer, which does not follow variadic calls
 * (it would otherwise explore "failed, yet returned 0" paths). */
void xw_errf_set(struct xw_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
#define xw_errf(err, code, ...) \
	__extension__({ int xw_code_ = (code); xw_errf_set((err), __VA_ARGS__); xw_code_; })

#endif
