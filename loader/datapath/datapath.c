// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Load/open/pin the datapath and switch rule sets atomically.
 *
 * Atomic apply: the datapath has two generations of rule maps (entries per
 * key class, tuples, limits, rule text).  The new rule set is written into the
 * inactive generation, then one array update flips xw_cfg.active; a packet
 * reads `active` once and uses that generation throughout.  Updates of a
 * map-in-map slot (xw_text) return only after an RCU grace period; we use one
 * before touching the inactive generation and one after the flip, so no packet
 * is still running on the generation being rewritten. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include "datapath.h"
#include "compile.h"
#include "tree.h"
#include "sets.h"
#include "xwall.skel.h"
#include "xwall_tc.skel.h"
#include "generation.h"
#include "edit.h"

#define TEXT_CHUNK XW_TEXT_CHUNK

/* By enum xw_map_id: the maps' names in the BPF objects and under the pin
 * directory.  Designated, so that no name depends on its position; a map id
 * added without a name makes the array too short and stops the build. */
const char *const xw_map_names[] = {
	[XW_M_NODES] = "xw_nodes", [XW_M_LIDS] = "xw_lids",
	[XW_M_RENTS] = "xw_rents", [XW_M_TREES] = "xw_trees", [XW_M_TEXT] = "xw_text",
	[XW_M_CFG] = "xw_cfg", [XW_M_RULE_STATS] = "xw_rule_stats",
	[XW_M_REASON_STATS] = "xw_reason_stats", [XW_M_VERDICT_STATS] = "xw_verdict_stats",
	[XW_M_SCRATCH] = "xw_scratch", [XW_M_XDP_PROGS] = "xw_xdp_progs",
	[XW_M_IFACES] = "xw_ifaces", [XW_M_TC_PROGS] = "xw_tc_progs",
	[XW_M_CT] = "xw_ct", [XW_M_CT_STATS] = "xw_ct_stats", [XW_M_CT_COUNT] = "xw_ct_count",
	[XW_M_LIMITS] = "xw_limits", [XW_M_BUCKETS] = "xw_buckets",
	[XW_M_SRC_BUCKETS] = "xw_src_buckets", [XW_M_EVENTS] = "xw_events",
	[XW_M_EVENT_STATS] = "xw_event_stats", [XW_M_LOG_WINDOWS] = "xw_log_windows",
	[XW_M_CT_NEW] = "xw_ct_new",
	[XW_M_SET_MAPS] = "xw_set_maps", [XW_M_SET_DEFS] = "xw_set_defs",
	[XW_M_SET_RULES] = "xw_set_rules", [XW_M_SET_NRULES] = "xw_set_nrules",
	[XW_M_SET_BANS] = "xw_set_bans", [XW_M_SET_HMAPS] = "xw_set_hmaps",
	[XW_M_SET_CUR] = "xw_set_cur", [XW_M_XENTS4] = "xw_xents4",
	[XW_M_XENTS16] = "xw_xents16",
};
_Static_assert(XW_ARRAY_SIZE(xw_map_names) == XW_M_COUNT,
	       "xw_map_names: every enum xw_map_id needs a name");

const char *const xw_ct_state_names[] = {
	[XW_CTS_NONE] = "none",
	[XW_CTS_TCP_SYN_SENT] = "tcp_syn_sent", [XW_CTS_TCP_SYN_RECV] = "tcp_syn_recv",
	[XW_CTS_TCP_ESTABLISHED] = "tcp_established", [XW_CTS_TCP_FIN_WAIT] = "tcp_fin_wait",
	[XW_CTS_TCP_TIME_WAIT] = "tcp_time_wait", [XW_CTS_TCP_CLOSE] = "tcp_close",
	[XW_CTS_UDP_UNREPLIED] = "udp", [XW_CTS_UDP_REPLIED] = "udp_stream",
	[XW_CTS_ICMP_UNREPLIED] = "icmp", [XW_CTS_ICMP_REPLIED] = "icmp_replied",
	[XW_CTS_OTHER_UNREPLIED] = "other", [XW_CTS_OTHER_REPLIED] = "other_stream",
};
_Static_assert(XW_ARRAY_SIZE(xw_ct_state_names) == XW_CTS_MAX,
	       "xw_ct_state_names: every enum xw_cts needs a name");

const char *const xw_ct_counter_names[] = {
	[XW_CTC_NEW] = "new", [XW_CTC_ESTABLISHED] = "established",
	[XW_CTC_RELATED] = "related", [XW_CTC_INVALID] = "invalid",
	[XW_CTC_CREATED] = "created", [XW_CTC_EXPIRED] = "expired",
	[XW_CTC_EVICTED] = "evicted", [XW_CTC_EARLY_DROP] = "early_drop",
	[XW_CTC_PROMOTED] = "promoted", [XW_CTC_RST_IGNORED] = "rst_ignored",
};
_Static_assert(XW_ARRAY_SIZE(xw_ct_counter_names) == XW_CTC_MAX,
	       "xw_ct_counter_names: every enum xw_ct_counter needs a name");

/* nftables' defaults (nf_conntrack_*_timeout), in seconds */
const uint32_t xw_ct_default_timeout[] = {
	[XW_CTS_NONE] = 0,
	[XW_CTS_TCP_SYN_SENT] = 120, [XW_CTS_TCP_SYN_RECV] = 60,
	[XW_CTS_TCP_ESTABLISHED] = 432000, [XW_CTS_TCP_FIN_WAIT] = 120,
	[XW_CTS_TCP_TIME_WAIT] = 120, [XW_CTS_TCP_CLOSE] = 10,
	[XW_CTS_UDP_UNREPLIED] = 30, [XW_CTS_UDP_REPLIED] = 120,
	[XW_CTS_ICMP_UNREPLIED] = 30, [XW_CTS_ICMP_REPLIED] = 30,
	[XW_CTS_OTHER_UNREPLIED] = 600, [XW_CTS_OTHER_REPLIED] = 600,
};
_Static_assert(XW_ARRAY_SIZE(xw_ct_default_timeout) == XW_CTS_MAX,
	       "xw_ct_default_timeout: every enum xw_cts needs a timeout");

static int sys_err(struct xw_err *err, const char *what, int e);
static int fill(int fd, const void *keys, const void *vals, __u32 n);

static uint32_t ct_size = XW_CT_DEFAULT_SIZE;
static uint32_t ring_size = XW_RING_DEFAULT;
static uint32_t log_rate = 1000;
static bool ct_size_set, ring_size_set, log_rate_set;

void xw_dp_set_ring_size(uint32_t bytes)
{
	ring_size = bytes ? bytes : XW_RING_DEFAULT;
	ring_size_set = true;
}

void xw_dp_set_log_rate(uint32_t per_sec)
{
	log_rate = per_sec;
	log_rate_set = true;
}

static uint32_t map_max_entries(int fd)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.max_entries;
}

int xw_dp_settle_options(struct xw_dp *dp, struct xw_err *err)
{
	uint32_t have;

	if (dp->created)
		return 0;   /* loaded with the requested options just now */
	have = map_max_entries(dp->map_fd[XW_M_CT]);
	if (ct_size_set && have != ct_size)
		return xw_errf(err, XW_EINPUT, "--ct-size %u: the datapath is already loaded with %u "
			       "flow entries (sizes are fixed at load; detach --all to change)", ct_size, have);
	have = map_max_entries(dp->map_fd[XW_M_EVENTS]);
	if (ring_size_set && have != ring_size)
		return xw_errf(err, XW_EINPUT, "--ring-size %u: the datapath is already loaded with a "
			       "%u-byte ring (sizes are fixed at load; detach --all to change)", ring_size, have);
	if (log_rate_set) {
		struct xw_cfg cfg;
		__u32 zero = 0;

		if (xw_gen_read_cfg(dp, &cfg))
			return sys_err(err, "read xw_cfg", errno);
		cfg.log_rate = log_rate;
		if (bpf_map_update_elem(dp->map_fd[XW_M_CFG], &zero, &cfg, 0))
			return sys_err(err, "write xw_cfg", errno);
	}
	return 0;
}

void xw_dp_set_ct_size(uint32_t n)
{
	ct_size = n ? n : XW_CT_DEFAULT_SIZE;
	ct_size_set = true;
}
/* By enum xw_prog_id: the programs' names in the BPF objects and pins. */
const char *const xw_prog_names[] = {
	[XW_P_XDP] = "xw_xdp", [XW_P_XDP_STAGE] = "xw_xdp_stage",
	[XW_P_XDP_LIMIT] = "xw_xdp_limit",
	[XW_P_TC_IN] = "xw_tc_in", [XW_P_TC_OUT] = "xw_tc_out",
	[XW_P_TC_STAGE_IN] = "xw_tc_stage_in", [XW_P_TC_STAGE_OUT] = "xw_tc_stage_out",
	[XW_P_TC_LIMIT_IN] = "xw_tc_limit_in", [XW_P_TC_LIMIT_OUT] = "xw_tc_limit_out",
};
_Static_assert(XW_ARRAY_SIZE(xw_prog_names) == XW_P_COUNT,
	       "xw_prog_names: every enum xw_prog_id needs a name");

void xw_errf_set(struct xw_err *err, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
}

static int sys_err(struct xw_err *err, const char *what, int e)
{
	if (e < 0)
		e = -e;
	return xw_errf(err, XW_ESYS, "%s: %s%s", what, strerror(e),
		       e == EPERM || e == EACCES ? " (needs CAP_BPF, CAP_NET_ADMIN and CAP_SYS_ADMIN)" : "");
}

void xw_dp_init(struct xw_dp *dp)
{
	memset(dp, 0, sizeof(*dp));
	for (int i = 0; i < XW_M_COUNT; i++)
		dp->map_fd[i] = -1;
	for (int i = 0; i < XW_P_COUNT; i++)
		dp->prog_fd[i] = -1;
	dp->lock_fd = -1;
}

static int ensure_bpffs(struct xw_err *err)
{
	struct statfs st;

	if (statfs("/sys/fs/bpf", &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	mkdir("/sys/fs/bpf", 0700);
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700"))
		return sys_err(err, "mount bpffs on /sys/fs/bpf", errno);
	return 0;
}

/* The capabilities the datapath commands need, whatever the uid: CAP_BPF to
 * create maps and load programs, CAP_NET_ADMIN for networking programs and
 * attaching them, CAP_SYS_ADMIN for BPF_MAP_GET_FD_BY_ID (the inner rule
 * text map; libxdp's dispatcher) and mounting bpffs. */
static const struct { int cap; const char *name; } need_caps[] = {
	{ CAP_BPF, "CAP_BPF" }, { CAP_NET_ADMIN, "CAP_NET_ADMIN" }, { CAP_SYS_ADMIN, "CAP_SYS_ADMIN" },
};

/* Capabilities count for BPF only in the initial user namespace: one made
 * by unshare -U grants them in name only (and maps part of the uid space). */
static bool initial_userns(void)
{
	char map[128] = "";
	FILE *f = fopen("/proc/self/uid_map", "r");
	unsigned long a = 1, b = 1, n = 0;

	if (!f)
		return true;   /* no /proc: nothing to tell */
	if (!fgets(map, sizeof(map), f) || sscanf(map, "%lu %lu %lu", &a, &b, &n) != 3)
		n = 0;
	fclose(f);
	return a == 0 && b == 0 && n == 4294967295ul;
}

int xw_missing_caps(char *buf, size_t len)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	size_t at = 0;
	int missing = 0;

	memset(d, 0, sizeof(d));
	if (buf && len)
		buf[0] = 0;
	if (syscall(SYS_capget, &h, d))
		memset(d, 0, sizeof(d));   /* cannot tell: report all missing */
	for (size_t i = 0; i < sizeof(need_caps) / sizeof(need_caps[0]); i++) {
		int c = need_caps[i].cap;

		if (d[c / 32].effective & (1u << (c % 32)))
			continue;
		missing++;
		if (buf && at < len)
			at += (size_t)snprintf(buf + at, len - at, "%s%s", at ? ", " : "", need_caps[i].name);
	}
	if (!missing && !initial_userns()) {
		missing = 1;
		if (buf && len)
			snprintf(buf, len, "capabilities of the initial user namespace (this process "
				 "runs in another one)");
	}
	return missing;
}

bool xw_privileged(void)
{
	return xw_missing_caps(NULL, 0) == 0;
}

int xw_privilege_err(struct xw_err *err, const char *what)
{
	char miss[160];

	xw_missing_caps(miss, sizeof(miss));
	return xw_errf(err, XW_ESYS, "%s: permission denied: missing %s (xwall needs CAP_BPF, "
		       "CAP_NET_ADMIN and CAP_SYS_ADMIN)", what, miss);
}

/* Create (if need be) and open a directory of ours, make sure it is root's
 * and 0700, and take flock `how` on it: the pin directory (the lock of all
 * changes) and the event reader's directory.  bpffs holds directories and
 * pins, nothing else, so a directory is what there is to lock.  With
 * LOCK_NB, a lock held elsewhere fails with the message `busy`.  On
 * success *fd holds the lock; on failure it is -1. */
static int lock_dir(const char *path, int how, const char *busy, int *fd, struct xw_err *err)
{
	struct stat st, now;
	char what[160];
	int rc = 0, e, tries = 0;

again:
	*fd = -1;
	if (mkdir(path, 0700) && errno != EEXIST) {
		e = errno;
		snprintf(what, sizeof(what), "mkdir %s", path);
		return sys_err(err, what, e);
	}
	/* never adopt a directory (or symlink) somebody else put there */
	*fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (*fd < 0) {
		e = errno;
		snprintf(what, sizeof(what), "open %s (must be a directory, not a symlink)", path);
		return sys_err(err, what, e);
	}
	if (fstat(*fd, &st) || (st.st_uid != 0 && st.st_uid != geteuid())) {
		rc = xw_errf(err, XW_ESYS, "%s is not owned by root (or by this user): refusing to "
			     "use it (remove it)", path);
	} else if ((st.st_mode & 07777) != 0700 && fchmod(*fd, 0700)) {
		e = errno;
		snprintf(what, sizeof(what), "chmod %s", path);
		rc = sys_err(err, what, e);
	} else if (flock(*fd, how)) {
		e = errno;
		snprintf(what, sizeof(what), "lock %s", path);
		rc = sys_err(err, e == EWOULDBLOCK && busy ? busy : what, e);
	} else if (lstat(path, &now) || now.st_dev != st.st_dev || now.st_ino != st.st_ino) {
		/* while we waited, the holder removed the directory (the last
		 * detach unpins everything): our lock is on a directory nobody
		 * else will lock again, so start over on the one at the path now */
		close(*fd);
		*fd = -1;
		if (++tries < 100)
			goto again;
		return xw_errf(err, XW_ESYS, "lock %s: the directory keeps being replaced", path);
	}
	if (rc) {
		close(*fd);
		*fd = -1;
	}
	return rc;
}

int xw_dp_lock(struct xw_dp *dp, struct xw_err *err)
{
	int rc;

	if (!xw_privileged())
		return xw_privilege_err(err, XW_PIN_DIR);
	rc = ensure_bpffs(err);
	if (rc)
		return rc;
	return lock_dir(XW_PIN_DIR, LOCK_EX, NULL, &dp->lock_fd, err);
}

/* The event ring hands each event to one reader: a second `xwall events`
 * would silently get only some of them.  Readers hold an exclusive flock
 * on a directory in the pin directory (bpffs holds directories and pins,
 * nothing else), which unpin removes with the rest. */
#define XW_EVENTS_LOCK XW_PIN_DIR "/events_reader"   /* bpffs refuses names with a dot */

int xw_dp_events_claim(int *lock_fd, struct xw_err *err)
{
	return lock_dir(XW_EVENTS_LOCK, LOCK_EX | LOCK_NB,
			"another `xwall events` is reading the event ring (each event goes to one "
			"reader; stop it first)", lock_fd, err);
}

static void pin_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", XW_PIN_DIR, name);
}

bool xw_dp_is_loaded(void)
{
	char p[256];

	pin_path(p, sizeof(p), xw_map_names[XW_M_CFG]);
	return access(p, F_OK) == 0;
}

/* A datapath pinned by another xwall version has other maps or other map
 * layouts: using it would fail in odd places, or misread it. */
int xw_dp_foreign(struct xw_err *err, const char *what)
{
	return xw_errf(err, XW_ESYS,
		       "%s holds a datapath of another xwall version (%s): this xwall cannot use it. "
		       "Remove it with the xwall that loaded it (detach each interface), or by hand: "
		       "`ip link set dev DEV xdp off` and `tc filter del dev DEV egress` (and "
		       "`ingress`, if attached with --mode tc) for each interface it was attached to, "
		       "then `rm -r %s`", XW_PIN_DIR, what, XW_PIN_DIR);
}

static int check_layout(struct xw_dp *dp, struct xw_err *err)
{
	struct xwall_bpf *x = xwall_bpf__open();
	struct xwall_tc_bpf *t = x ? xwall_tc_bpf__open() : NULL;
	int rc = 0;

	if (!x || !t) {
		rc = sys_err(err, "open BPF objects", errno);
		goto out;
	}
	for (int i = 0; i < XW_M_COUNT && !rc; i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(x->obj, xw_map_names[i]);
		struct bpf_map_info info;
		__u32 len = sizeof(info);
		char what[160];

		if (!m)
			m = bpf_object__find_map_by_name(t->obj, xw_map_names[i]);
		if (!m)
			continue;
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(dp->map_fd[i], &info, &len)) {
			rc = sys_err(err, xw_map_names[i], errno);
			break;
		}
		/* the flow table and the ring are sized at the first attach */
		if (info.type == (__u32)bpf_map__type(m) && info.key_size == bpf_map__key_size(m) &&
		    info.value_size == bpf_map__value_size(m) &&
		    (i == XW_M_CT || i == XW_M_CT_NEW || i == XW_M_EVENTS || info.max_entries == bpf_map__max_entries(m)))
			continue;
		snprintf(what, sizeof(what), "map %s: type %u, key %u, value %u bytes, %u entries; "
			 "this xwall's: type %u, key %u, value %u bytes, %u entries", xw_map_names[i],
			 info.type, info.key_size, info.value_size, info.max_entries, bpf_map__type(m),
			 bpf_map__key_size(m), bpf_map__value_size(m), bpf_map__max_entries(m));
		rc = xw_dp_foreign(err, what);
	}
out:
	xwall_tc_bpf__destroy(t);
	xwall_bpf__destroy(x);
	return rc;
}

static int open_pins(struct xw_dp *dp, struct xw_err *err)
{
	char p[256];
	int rc;

	for (int i = 0; i < XW_M_COUNT; i++) {
		pin_path(p, sizeof(p), xw_map_names[i]);
		dp->map_fd[i] = bpf_obj_get(p);
		if (dp->map_fd[i] < 0 && errno == ENOENT) {
			char what[96];

			snprintf(what, sizeof(what), "it has no map %s", xw_map_names[i]);
			return xw_dp_foreign(err, what);
		}
		if (dp->map_fd[i] < 0)
			return sys_err(err, p, errno);
	}
	rc = check_layout(dp, err);
	if (rc)
		return rc;
	for (int i = 0; i < XW_P_COUNT; i++) {
		pin_path(p, sizeof(p), xw_prog_names[i]);
		dp->prog_fd[i] = bpf_obj_get(p);
		if (dp->prog_fd[i] < 0)
			return sys_err(err, p, errno);
	}
	dp->pinned = true;
	return 0;
}

static struct bpf_map *skel_map(struct xwall_bpf *s, int i)
{
	return bpf_object__find_map_by_name(s->obj, xw_map_names[i]);
}

static int debug_level(void)
{
	const char *e = getenv("XW_DEBUG");

	return e ? atoi(e) : 0;
}

static int libbpf_log(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	int d = debug_level();

	if ((lvl == LIBBPF_WARN && d >= 1) || d >= 2)
		return vfprintf(stderr, fmt, ap);
	return 0;
}

static int libxdp_log(enum libxdp_print_level lvl, const char *fmt, va_list ap)
{
	int d = debug_level();

	if ((lvl == LIBXDP_WARN && d >= 1) || d >= 2)
		return vfprintf(stderr, fmt, ap);
	return 0;
}

void xw_log_init(void)
{
	libbpf_set_print(libbpf_log);
	libxdp_set_print(libxdp_log);
}

static int prog_fd_by_name(struct bpf_object *obj, const char *name)
{
	struct bpf_program *p = bpf_object__find_program_by_name(obj, name);

	return p ? bpf_program__fd(p) : -ENOENT;
}

/* The TC object declares the same maps as the XDP one (xdp/xw_maps.h):
 * make it use the XDP object's instances, so one rule set serves both. */
static int load_tc(struct xw_dp *dp, struct xw_err *err)
{
	struct bpf_map *m;
	int rc;

	dp->tc_skel = xwall_tc_bpf__open();
	if (!dp->tc_skel)
		return sys_err(err, "open TC BPF object", errno);
	bpf_object__for_each_map(m, dp->tc_skel->obj) {
		for (int i = 0; i < XW_M_COUNT; i++) {
			if (i == XW_M_TC_PROGS || strcmp(bpf_map__name(m), xw_map_names[i]))
				continue;
			rc = bpf_map__reuse_fd(m, dp->map_fd[i]);
			if (rc)
				return sys_err(err, "share maps with the TC object", rc);
		}
	}
	rc = xwall_tc_bpf__load(dp->tc_skel);
	if (rc)
		return sys_err(err, "load TC BPF programs (XW_DEBUG=1 shows why)", rc);
	dp->map_fd[XW_M_TC_PROGS] = bpf_map__fd(dp->tc_skel->maps.xw_tc_progs);
	return 0;
}

/* Load the objects and give the datapath an empty generation 0. */
static int load(struct xw_dp *dp, struct xw_err *err)
{
	struct xw_ruleset empty;
	__u32 k;
	int rc;

	dp->skel = xwall_bpf__open();
	if (!dp->skel)
		return sys_err(err, "open BPF object", errno);
	bpf_map__set_max_entries(dp->skel->maps.xw_ct, ct_size);
	bpf_map__set_max_entries(dp->skel->maps.xw_ct_new, ct_size);
	bpf_map__set_max_entries(dp->skel->maps.xw_events, ring_size);
	rc = xwall_bpf__load(dp->skel);
	if (rc)
		return sys_err(err, "load BPF programs (verifier or privilege; XW_DEBUG=1 shows why)", rc);
	for (int i = 0; i < XW_M_COUNT; i++) {
		struct bpf_map *m = skel_map(dp->skel, i);

		dp->map_fd[i] = m ? bpf_map__fd(m) : -1;
	}
	rc = load_tc(dp, err);
	if (rc)
		return rc;
	for (int i = 0; i < XW_P_COUNT; i++) {
		struct bpf_object *o = i < XW_P_TC_IN ? dp->skel->obj : dp->tc_skel->obj;

		dp->prog_fd[i] = prog_fd_by_name(o, xw_prog_names[i]);
		if (dp->prog_fd[i] < 0)
			return sys_err(err, xw_prog_names[i], dp->prog_fd[i]);
	}
	{
		/* program arrays: (map, slot, program) */
		static const int arr[][3] = {
			{ XW_M_XDP_PROGS, XW_XDP_SLOT_STAGE, XW_P_XDP_STAGE },
			{ XW_M_XDP_PROGS, XW_XDP_SLOT_LIMIT, XW_P_XDP_LIMIT },
			{ XW_M_TC_PROGS, XW_TC_SLOT_STAGE(XW_DIR_IN), XW_P_TC_STAGE_IN },
			{ XW_M_TC_PROGS, XW_TC_SLOT_STAGE(XW_DIR_OUT), XW_P_TC_STAGE_OUT },
			{ XW_M_TC_PROGS, XW_TC_SLOT_LIMIT(XW_DIR_IN), XW_P_TC_LIMIT_IN },
			{ XW_M_TC_PROGS, XW_TC_SLOT_LIMIT(XW_DIR_OUT), XW_P_TC_LIMIT_OUT },
		};

		for (size_t i = 0; i < sizeof(arr) / sizeof(arr[0]); i++) {
			k = (__u32)arr[i][1];
			if (bpf_map_update_elem(dp->map_fd[arr[i][0]], &k, &dp->prog_fd[arr[i][2]], 0))
				return sys_err(err, "fill program array", errno);
		}
	}
	{
		struct xw_cfg cfg;

		memset(&cfg, 0, sizeof(cfg));
		memcpy(cfg.ct_timeout, xw_ct_default_timeout, sizeof(cfg.ct_timeout));
		cfg.ct_size = ct_size;
		cfg.log_rate = log_rate;
		k = 0;
		if (bpf_map_update_elem(dp->map_fd[XW_M_CFG], &k, &cfg, 0))
			return sys_err(err, "initialise xw_cfg", errno);
	}
	xw_ruleset_init(&empty);
	return xw_dp_apply(dp, &empty, err);
}

/* Everything but xw_cfg: its pin is what says "loaded" (xw_dp_is_loaded)
 * and comes last, from xw_dp_commit_load once the command that loaded the
 * datapath has done its work; a load killed before leaves only stale pins,
 * which the next load removes. */
static int pin_all(struct xw_dp *dp, struct xw_err *err)
{
	char p[256];

	for (int i = 0; i < XW_P_COUNT; i++) {
		pin_path(p, sizeof(p), xw_prog_names[i]);
		if (bpf_obj_pin(dp->prog_fd[i], p))
			return sys_err(err, p, errno);
	}
	for (int i = 0; i < XW_M_COUNT; i++) {
		if (i == XW_M_CFG)
			continue;
		pin_path(p, sizeof(p), xw_map_names[i]);
		if (bpf_obj_pin(dp->map_fd[i], p))
			return sys_err(err, p, errno);
	}
	dp->pinned = true;
	return 0;
}

int xw_dp_commit_load(struct xw_dp *dp, struct xw_err *err)
{
	char p[256];

	if (!dp->created)
		return 0;
	pin_path(p, sizeof(p), xw_map_names[XW_M_CFG]);
	if (bpf_obj_pin(dp->map_fd[XW_M_CFG], p))
		return sys_err(err, p, errno);
	dp->created = false;
	return 0;
}

int xw_dp_open(struct xw_dp *dp, bool create, struct xw_err *err)
{
	int rc;

	if (dp->lock_fd < 0) {
		rc = xw_dp_lock(dp, err);
		if (rc)
			return rc;
	}
	if (xw_dp_is_loaded())
		return open_pins(dp, err);
	if (!create)
		return xw_errf(err, -1, "xwall is not loaded (attach an interface or apply a rule set first)");
	/* pins without xw_cfg are what a killed load left behind */
	xw_dp_unpin_objects();
	rc = load(dp, err);
	if (!rc)
		rc = pin_all(dp, err);
	dp->created = !rc;
	if (rc) {
		struct xw_err e2;

		xw_dp_unpin(&e2);
	}
	return rc;
}

int xw_dp_load_private(struct xw_dp *dp, struct xw_err *err)
{
	xw_dp_init(dp);
	return load(dp, err);
}

void xw_dp_close(struct xw_dp *dp)
{
	if (dp->skel) {
		if (dp->tc_skel)
			xwall_tc_bpf__destroy(dp->tc_skel);
		xwall_bpf__destroy(dp->skel);
	} else {
		for (int i = 0; i < XW_M_COUNT; i++)
			if (dp->map_fd[i] >= 0)
				close(dp->map_fd[i]);
		for (int i = 0; i < XW_P_COUNT; i++)
			if (dp->prog_fd[i] >= 0)
				close(dp->prog_fd[i]);
	}
	if (dp->lock_fd >= 0)
		close(dp->lock_fd);
	xw_dp_init(dp);
}

void xw_dp_unpin_objects(void)
{
	char p[256];

	for (int i = 0; i < XW_M_COUNT; i++) {
		pin_path(p, sizeof(p), xw_map_names[i]);
		unlink(p);
	}
	for (int i = 0; i < XW_P_COUNT; i++) {
		pin_path(p, sizeof(p), xw_prog_names[i]);
		unlink(p);
	}
}

int xw_dp_unpin(struct xw_err *err)
{
	char p[256];
	int rc = 0;

	for (int i = 0; i < XW_M_COUNT; i++) {
		pin_path(p, sizeof(p), xw_map_names[i]);
		if (unlink(p) && errno != ENOENT)
			rc = sys_err(err, p, errno);
	}
	for (int i = 0; i < XW_P_COUNT; i++) {
		pin_path(p, sizeof(p), xw_prog_names[i]);
		if (unlink(p) && errno != ENOENT)
			rc = sys_err(err, p, errno);
	}
	if (rmdir(XW_EVENTS_LOCK) && errno != ENOENT)
		rc = sys_err(err, "rmdir " XW_EVENTS_LOCK, errno);
	/* the directory stays while we hold its lock; rmdir works on it anyway */
	if (rmdir(XW_PIN_DIR) && errno != ENOENT && errno != ENOTEMPTY)
		rc = sys_err(err, "rmdir " XW_PIN_DIR, errno);
	return rc;
}

int xw_gen_read_cfg(struct xw_dp *dp, struct xw_cfg *cfg)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(dp->map_fd[XW_M_CFG], &zero, cfg) ? -errno : 0;
}

/* fd of the inner map in slot gen of outer map m, or -errno */
int xw_gen_inner_fd(struct xw_dp *dp, enum xw_map_id m, __u32 gen)
{
	__u32 id;

	if (bpf_map_lookup_elem(dp->map_fd[m], &gen, &id))
		return -errno;
	int fd = bpf_map_get_fd_by_id(id);

	return fd < 0 ? -errno : fd;
}

static char *read_raw_text(struct xw_dp *dp, __u32 gen, struct xw_err *err)
{
	struct bpf_map_info info;
	__u32 ilen = sizeof(info);
	char *buf;
	int fd = xw_gen_inner_fd(dp, XW_M_TEXT, gen);

	if (fd < 0) {
		sys_err(err, "read rule set", fd);
		return NULL;
	}
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen)) {
		sys_err(err, "read rule set", errno);
		close(fd);
		return NULL;
	}
	buf = calloc((size_t)info.max_entries * TEXT_CHUNK + 1, 1);
	/* one memcpy through mmap (BPF_F_MMAPABLE text), else one batched
	 * read (a 100k-rule text is ~2,000 chunks), else chunk by chunk */
	if (buf && (info.map_flags & BPF_F_MMAPABLE)) {
		size_t len = (size_t)info.max_entries * TEXT_CHUNK;
		void *p = mmap(NULL, len, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);

		if (p != MAP_FAILED) {
			memcpy(buf, p, len);
			munmap(p, len);
			close(fd);
			return buf;
		}
	}
	if (buf && info.max_entries > 1) {
		LIBBPF_OPTS(bpf_map_batch_opts, o);
		__u32 *keys = calloc(info.max_entries, sizeof(*keys)), out = 0, count = info.max_entries;

		if (keys && (bpf_map_lookup_batch(fd, NULL, &out, keys, buf, &count, &o) == 0 ||
			     errno == ENOENT) && count == info.max_entries) {
			int sorted = 1;

			for (__u32 i = 0; i < count; i++)
				sorted &= keys[i] == i;
			if (sorted) {
				free(keys);
				close(fd);
				return buf;
			}
		}
		free(keys);
	}
	for (__u32 i = 0; buf && i < info.max_entries; i++) {
		if (bpf_map_lookup_elem(fd, &i, buf + (size_t)i * TEXT_CHUNK)) {
			sys_err(err, "read rule set", errno);
			free(buf);
			buf = NULL;
		}
	}
	close(fd);
	return buf;
}

char *xw_gen_read_text(struct xw_dp *dp, __u32 gen, struct xw_err *err)
{
	char *t = read_raw_text(dp, gen, err), *base, *m;

	if (!t || strncmp(t, XW_EDITS_MARK, strlen(XW_EDITS_MARK)))
		return t;
	/* changes since the apply, to its text in slot 2 + gen */
	base = read_raw_text(dp, 2 + gen, err);
	m = base ? xw_edits_merge(base, t) : NULL;
	if (base && !m)
		xw_errf(err, XW_ESYS, "read rule set: the live changes do not apply to its text");
	free(base);
	free(t);
	return m;
}

/* The stored text is a valid rule file; its first line, a comment, lists
 * the counter slot of each rule in order:  "#slots 3 0 7 ...". */
int xw_dp_read_rules(struct xw_dp *dp, struct xw_ruleset *rs, uint32_t **slots,
		     uint64_t *generation, struct xw_err *err)
{
	struct xw_cfg cfg;
	char *text, *p;
	uint32_t *sl = NULL;
	int rc;

	xw_ruleset_init(rs);
	rc = xw_gen_read_cfg(dp, &cfg);
	if (rc)
		return sys_err(err, "read xw_cfg", rc);
	if (generation)
		*generation = cfg.generation;
	text = xw_gen_read_text(dp, cfg.active & 1, err);
	if (!text)
		return XW_ESYS;
	if (xw_parse_text(text, strlen(text), "<live rule set>", rs, err)) {
		free(text);
		return XW_ESYS;
	}
	sl = calloc(rs->n + 1, sizeof(*sl));
	p = strncmp(text, "#slots", 6) == 0 ? text + 6 : NULL;
	for (size_t i = 0; sl && i < rs->n; i++) {
		char *e;

		sl[i] = p ? (uint32_t)strtoul(p, &e, 10) : (uint32_t)i;
		if (p)
			p = e;
	}
	free(text);
	if (!sl) {
		xw_ruleset_free(rs);
		return xw_errf(err, XW_ESYS, "out of memory");
	}
	if (slots)
		*slots = sl;
	else
		free(sl);
	return 0;
}

/* The canonical text of a rule set is its rules' lines after the policy
 * lines and set blocks, one rule per line in order: the last n lines of
 * text[0..len).  Points line[i] at the i-th (llen[i] bytes, without the
 * newline); -1 if there are fewer than n lines or one is not a rule. */
int xw_gen_last_lines(const char *text, size_t len, size_t n, const char **line, uint32_t *llen)
{
	size_t end = len;

	if (end && text[end - 1] == '\n')
		end--;
	for (size_t i = n; i-- > 0;) {
		const char *nl = memrchr(text, '\n', end);
		size_t start = nl ? (size_t)(nl - text) + 1 : 0;

		if (end - start < 5 || memcmp(text + start, "rule ", 5) || end - start > UINT32_MAX)
			return -1;
		line[i] = text + start;
		llen[i] = (uint32_t)(end - start);
		if (!nl && i)
			return -1;
		end = nl ? (size_t)(nl - text) : 0;
	}
	return 0;
}

/* Each rule of a generation by its canonical text, with its counter slot.
 * `text` owns the bytes the lines point into. */
struct rule_lines {
	char *text;
	size_t n;
	const char **line;
	uint32_t *len;
	uint32_t *slot;
};

static void rule_lines_free(struct rule_lines *rl)
{
	free(rl->text);
	free(rl->line);
	free(rl->len);
	free(rl->slot);
	memset(rl, 0, sizeof(*rl));
}

static int rule_lines_alloc(struct rule_lines *rl, size_t n)
{
	rl->n = n;
	rl->line = calloc(n + 1, sizeof(*rl->line));
	rl->len = calloc(n + 1, sizeof(*rl->len));
	rl->slot = calloc(n + 1, sizeof(*rl->slot));
	return rl->line && rl->len && rl->slot ? 0 : -ENOMEM;
}

/* The live generation's rules as stored ("#slots ..." and the canonical
 * text, see xw_dp_read_rules), without parsing them: the counter slots are
 * the only thing apply needs from the old generation, keyed by rule text.
 * A text of another form is parsed and formatted again. */
static int reparse_live_lines(struct xw_dp *dp, struct rule_lines *rl, struct xw_err *err);

static int read_live_lines(struct xw_dp *dp, __u32 gen, struct rule_lines *rl, struct xw_err *err)
{
	char *text, *p, *e;
	size_t n = 0;

	memset(rl, 0, sizeof(*rl));
	text = xw_gen_read_text(dp, gen, err);
	if (!text)
		return XW_ESYS;
	rl->text = text;   /* rl owns it from here: rule_lines_free frees it */
	if (strncmp(text, "#slots", 6) == 0) {
		for (p = text + 6; *p == ' '; p = e) {
			strtoul(p, &e, 10);
			if (e == p)
				break;
			n++;
		}
		if (rule_lines_alloc(rl, n)) {
			rule_lines_free(rl);
			return xw_errf(err, XW_ESYS, "out of memory");
		}
		for (p = text + 6, n = 0; n < rl->n; n++, p = e)
			rl->slot[n] = (uint32_t)strtoul(p, &e, 10);
		if (xw_gen_last_lines(text, strlen(text), rl->n, rl->line, rl->len) == 0)
			return 0;
	}
	rule_lines_free(rl);
	return reparse_live_lines(dp, rl, err);
}

/* A live text not of the form compose_text writes: parse it and format
 * it again. */
static int reparse_live_lines(struct xw_dp *dp, struct rule_lines *rl, struct xw_err *err)
{
	struct xw_ruleset rs;
	uint32_t *slots = NULL;
	int rc;

	rc = xw_dp_read_rules(dp, &rs, &slots, NULL, err);
	if (rc)
		return rc;
	rl->text = xw_ruleset_format(&rs);
	if (!rl->text || rule_lines_alloc(rl, rs.n) || (rs.n && !slots))
		rc = xw_errf(err, XW_ESYS, "out of memory");
	else if (xw_gen_last_lines(rl->text, strlen(rl->text), rs.n, rl->line, rl->len))
		rc = xw_errf(err, XW_ESYS, "read rule set: the live rule text is malformed");
	for (size_t i = 0; !rc && i < rs.n; i++)
		rl->slot[i] = slots[i];
	free(slots);
	xw_ruleset_free(&rs);
	if (rc)
		rule_lines_free(rl);
	return rc;
}

/* The new rule set's canonical text (body) and its rule lines. */
static int format_rules(const struct xw_ruleset *rs, struct rule_lines *rl, struct xw_err *err)
{
	memset(rl, 0, sizeof(*rl));
	rl->text = xw_ruleset_format(rs);
	if (!rl->text || rule_lines_alloc(rl, rs->n)) {
		rule_lines_free(rl);
		return xw_errf(err, XW_ESYS, "out of memory");
	}
	if (xw_gen_last_lines(rl->text, strlen(rl->text), rs->n, rl->line, rl->len)) {
		rule_lines_free(rl);
		return xw_errf(err, XW_ESYS, "internal error: rule text of %zu rules", rs->n);
	}
	return 0;
}

/* "#slots S0 S1 ...\n" and the canonical text (what xw_dp_read_rules reads). */
static char *compose_text(const struct rule_lines *nl, size_t *len)
{
	size_t blen = strlen(nl->text), n;
	char *out = malloc(16 + nl->n * 11 + blen + 2);

	if (!out)
		return NULL;
	n = (size_t)sprintf(out, "#slots");
	for (size_t i = 0; i < nl->n; i++) {
		char d[12];
		size_t k = sizeof(d);
		uint32_t v = nl->slot[i];

		do
			d[--k] = (char)('0' + v % 10);
		while ((v /= 10) != 0);
		out[n++] = ' ';
		memcpy(out + n, d + k, sizeof(d) - k);
		n += sizeof(d) - k;
	}
	out[n++] = '\n';
	memcpy(out + n, nl->text, blen + 1);
	*len = n + blen;
	return out;
}

/* The length of a rule line without its comment: a comment is a note, so
 * a rule whose comment alone changed keeps its slot (counters, buckets,
 * event cap).  The comment is the rule's only quoted string and comes last
 * (loader/lang/rule_format.c); a '"' inside it is escaped. */
static uint32_t slot_key_len(const char *s, uint32_t n)
{
	static const char mark[] = " comment \"";
	const char *c = memmem(s, n, mark, sizeof(mark) - 1);

	return c ? (uint32_t)(c - s) : n;
}

static uint64_t hash_line(const char *s, uint32_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;   /* FNV-1a */

	for (uint32_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
	return h;
}

/* Keep the slot of every rule whose canonical text is unchanged; new rules
 * get slots no rule of the old generation uses, so packets still counting
 * on the old generation never touch a freshly zeroed slot.  Fills nl->slot
 * and fresh (1: a never used slot, zeroed before the switch; 2: a deleted
 * rule's slot, zeroed after it). */
static int assign_slots(const struct rule_lines *ol, struct rule_lines *nl, uint8_t *fresh,
			struct xw_err *err)
{
	size_t size = 16;
	uint32_t *tab, next = 0, late = 0;
	uint8_t *used = calloc(XW_MAX_RULES, 1);   /* 1: old generation, 2: new */
	int rc = 0;

	if (nl->n > XW_MAX_RULES) {
		free(used);
		return xw_errf(err, XW_EINPUT, "too many rules: %zu (at most %u)", nl->n, XW_MAX_RULES);
	}
	while (size < 2 * ol->n)
		size *= 2;
	tab = calloc(size, sizeof(*tab));     /* old line index + 1, 0 empty */
	if (!tab || !used) {
		rc = xw_errf(err, XW_ESYS, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < ol->n; i++) {
		size_t h = (size_t)hash_line(ol->line[i], slot_key_len(ol->line[i], ol->len[i])) & (size - 1);

		while (tab[h])
			h = (h + 1) & (size - 1);
		tab[h] = (uint32_t)i + 1;
		if (ol->slot[i] < XW_MAX_RULES)
			used[ol->slot[i]] = 1;
	}
	/* 1: rules whose text (but for the comment) is unchanged keep their slot (the text holds
	 * the priority, which is unique: each old rule matches at most once) */
	for (size_t i = 0; i < nl->n; i++) {
		uint32_t kl = slot_key_len(nl->line[i], nl->len[i]);
		size_t h = (size_t)hash_line(nl->line[i], kl) & (size - 1);

		fresh[i] = 1;
		for (; ol->n && tab[h]; h = (h + 1) & (size - 1)) {
			uint32_t o = tab[h] - 1;

			if (slot_key_len(ol->line[o], ol->len[o]) == kl &&
			    !memcmp(ol->line[o], nl->line[i], kl)) {
				nl->slot[i] = ol->slot[o];
				if (nl->slot[i] < XW_MAX_RULES)
					used[nl->slot[i]] = 2;
				fresh[i] = 0;
				break;
			}
		}
	}
	/* 2: new rules take slots nobody used; when none are left, slots of
	 * deleted rules, which are zeroed only after the switch (fresh 2) */
	for (size_t i = 0; i < nl->n; i++) {
		if (!fresh[i])
			continue;
		while (next < XW_MAX_RULES && used[next])
			next++;
		if (next < XW_MAX_RULES) {
			nl->slot[i] = next;
			used[next] = 2;
			continue;
		}
		while (late < XW_MAX_RULES && used[late] != 1)
			late++;
		if (late == XW_MAX_RULES) {
			rc = xw_errf(err, XW_EINPUT, "too many rules for the counter table (%u)", XW_MAX_RULES);
			goto out;
		}
		nl->slot[i] = late;
		used[late] = 2;
		fresh[i] = 2;
	}
out:
	free(tab);
	free(used);
	return rc;
}

static __u32 map_value_size(int fd)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.value_size;
}

/* A slot given to a new rule starts from zero: counters, token bucket,
 * event window.  Zeroes the slots of rules[i] with fresh[i] == which, in
 * batches. */
int xw_gen_zero_slots(struct xw_dp *dp, const uint32_t *slots, const uint8_t *fresh, size_t n,
		      uint8_t which)
{
	static const enum xw_map_id maps[] = { XW_M_RULE_STATS, XW_M_BUCKETS, XW_M_LOG_WINDOWS };
	enum { BATCH = 4096 };
	int ncpu = libbpf_num_possible_cpus();
	__u32 *keys = malloc(BATCH * sizeof(*keys)), nk = 0;
	void *zeros = NULL;
	size_t vmax = 0;
	int rc = 0;

	if (ncpu < 1)
		ncpu = 1;
	for (size_t m = 0; m < XW_ARRAY_SIZE(maps); m++) {
		size_t vs = (map_value_size(dp->map_fd[maps[m]]) + 7) & ~(size_t)7;

		if (maps[m] == XW_M_RULE_STATS)
			vs *= (size_t)ncpu;
		if (vs > vmax)
			vmax = vs;
	}
	zeros = calloc(BATCH, vmax ? vmax : 8);
	if (!keys || !zeros) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; !rc && i <= n; i++) {
		if (i < n && fresh[i] == which)
			keys[nk++] = slots[i];
		if (nk == BATCH || (i == n && nk)) {
			for (size_t m = 0; !rc && m < XW_ARRAY_SIZE(maps); m++)
				rc = fill(dp->map_fd[maps[m]], keys, zeros, nk);
			nk = 0;
		}
	}
out:
	free(keys);
	free(zeros);
	return rc;
}
/* Per-source token buckets (`limit ... per src`) of the slots rules[i] with
 * fresh[i] == which now hold: whatever rule used such a slot before is gone,
 * so its sources start with full buckets, like the slot's other state.
 * One pass over the table (usually empty: only `per src` fills it); keys are
 * collected first and deleted after, so the walk never loses its place. */
int xw_gen_clear_src_buckets(struct xw_dp *dp, const uint32_t *slots, const uint8_t *fresh,
			     size_t n, uint8_t which)
{
	int fd = dp->map_fd[XW_M_SRC_BUCKETS];
	uint8_t *mark = calloc(XW_MAX_RULES / 8, 1);
	struct xw_src_key k, cur, *del = NULL;
	size_t nd = 0, cap = 0;
	void *prev = NULL;
	int rc = 0, any = 0;

	if (!mark)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (fresh[i] == which && slots[i] < XW_MAX_RULES) {
			mark[slots[i] / 8] |= (uint8_t)(1u << (slots[i] % 8));
			any = 1;
		}
	while (any && bpf_map_get_next_key(fd, prev, &k) == 0) {
		if (k.slot < XW_MAX_RULES && (mark[k.slot / 8] & (1u << (k.slot % 8)))) {
			if (nd == cap) {
				struct xw_src_key *nb = realloc(del, (cap ? cap * 2 : 64) * sizeof(*del));

				if (!nb) {
					rc = -ENOMEM;
					break;
				}
				del = nb;
				cap = cap ? cap * 2 : 64;
			}
			del[nd++] = k;
		}
		cur = k;
		prev = &cur;
	}
	for (size_t i = 0; !rc && i < nd; i++)
		if (bpf_map_delete_elem(fd, &del[i]) && errno != ENOENT)
			rc = -errno;
	free(del);
	free(mark);
	return rc;
}

static int new_inner(enum bpf_map_type type, const char *name, __u32 ks, __u32 vs,
		     __u32 max, __u32 flags)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = flags);
	int fd = bpf_map_create(type, name, ks, vs, max ? max : 1, &o);

	return fd < 0 ? -errno : fd;
}

static int fill(int fd, const void *keys, const void *vals, __u32 n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, o);
	__u32 count = n;

	if (!n)
		return 0;
	if (bpf_map_update_batch(fd, keys, vals, &count, &o) == 0)
		return 0;
	return -errno;
}

/* Write n values into slots [first, first + n) of an array map. */
static int fill_array(int fd, __u32 first, const void *vals, __u32 n)
{
	__u32 *keys;
	int rc;

	if (!n)
		return 0;
	keys = malloc((size_t)n * sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	for (__u32 i = 0; i < n; i++)
		keys[i] = first + i;
	rc = fill(fd, keys, vals, n);
	free(keys);
	return rc;
}

/* Write n values of vs bytes into slots [first, first + n) of an array
 * map: with memcpy through mmap (BPF_F_MMAPABLE maps, whose elements are
 * vs rounded up to 8 bytes apart), else in batched updates. */
int xw_gen_write_array(int fd, __u32 first, const void *vals, __u32 n, __u32 vs)
{
	size_t es = ((size_t)vs + 7) & ~(size_t)7, lo = (size_t)first * es, off, len;
	long pg = sysconf(_SC_PAGESIZE);
	char *p;

	if (!n)
		return 0;
	off = lo & ~(size_t)(pg > 0 ? pg - 1 : 4095);
	len = lo + (size_t)n * es - off;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, (off_t)off);
	if (p == MAP_FAILED)   /* pinned by an xwall without BPF_F_MMAPABLE */
		return fill_array(fd, first, vals, n);
	if (es == vs) {
		memcpy(p + (lo - off), vals, (size_t)n * vs);
	} else {
		for (__u32 i = 0; i < n; i++)
			memcpy(p + (lo - off) + (size_t)i * es, (const char *)vals + (size_t)i * vs, vs);
	}
	munmap(p, len);
	return 0;
}

/* An update of a map-in-map slot returns only after an RCU grace period:
 * re-install what a slot holds to wait for packets in flight. */
int xw_gen_grace_period(struct xw_dp *dp, __u32 gen)
{
	int fd = xw_gen_inner_fd(dp, XW_M_TEXT, gen), rc;

	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fd;
	rc = bpf_map_update_elem(dp->map_fd[XW_M_TEXT], &gen, &fd, 0) ? -errno : 0;
	close(fd);
	return rc;
}

/* XW_TIMING=1: each phase of an apply on stderr, in ms since the last mark
 * (the first since the process started). */
static struct timespec phase_t0;

__attribute__((constructor)) static void phase_start(void)
{
	clock_gettime(CLOCK_MONOTONIC, &phase_t0);
}

void xw_dp_phase(const char *what)
{
	static int on = -1;
	struct timespec t;

	if (on < 0) {
		const char *v = getenv("XW_TIMING");

		on = v && strcmp(v, "0");
	}
	if (!on)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t);
	fprintf(stderr, "xwall: timing: %-28s %8.2f ms\n", what,
		(double)(t.tv_sec - phase_t0.tv_sec) * 1e3 + (double)(t.tv_nsec - phase_t0.tv_nsec) / 1e6);
	phase_t0 = t;
}

/* ifindex of each rule's `iif` (0: none). */
static int resolve_ifindexes(const struct xw_ruleset *rs, uint32_t *ifx, struct xw_err *err)
{
	for (size_t i = 0; i < rs->n; i++) {
		if (!(rs->rules[i].present & XM_IIF))
			continue;
		ifx[i] = if_nametoindex(rs->rules[i].iif);
		if (!ifx[i])
			return xw_errf(err, XW_ESYS, "rule %u: iif %s: %s", rs->rules[i].prio,
				       rs->rules[i].iif, strerror(errno));
	}
	return 0;
}

/* The trees of the rules without set references (those with are the set
 * stage's, loader/sets.c). */
static int compile_trees(const struct xw_ruleset *rs, const uint32_t *slots, const uint32_t *ifx,
			 struct xw_tcompiled *c, struct xw_err *err)
{
	struct xw_ruleset plain;
	uint32_t *ps, *pi;
	size_t i = 0;
	int rc;

	while (i < rs->n && !xw_rule_uses_sets(&rs->rules[i]))
		i++;
	if (i == rs->n)   /* no set references: no copy */
		return xw_compile_tree(rs, slots, ifx, c, err) ? XW_EINPUT : 0;
	if (xw_sets_split(rs, slots, ifx, &plain, &ps, &pi))
		return xw_errf(err, XW_ESYS, "out of memory");
	rc = xw_compile_tree(&plain, ps, pi, c, err) ? XW_EINPUT : 0;
	free(plain.rules);
	free(ps);
	free(pi);
	return rc;
}

/* What the rule set costs a packet (xw_dp.last_cost). */
static void note_cost(struct xw_dp *dp, const struct xw_tcompiled *c)
{
	dp->last_cost.xshapes = c->tree->head.n_xshapes;
	dp->last_cost.xentries = c->tree->x.n;
	dp->last_cost.trees = c->tree->head.n_trees;
	dp->last_cost.entries = c->tree->n_rents;
	dp->last_cost.nodes = c->tree->n_nodes;
	dp->last_cost.lids = c->tree->n_lids;
	dp->last_cost.worst = xw_tree_worst(c->tree);
	dp->last_cost.depth = 0;
	dp->last_cost.leaf = 0;
	for (uint32_t i = 0; i < c->tree->head.n_trees; i++) {
		if (c->tree->depth[i] > dp->last_cost.depth)
			dp->last_cost.depth = c->tree->depth[i];
		if (c->tree->max_leaf[i] > dp->last_cost.leaf)
			dp->last_cost.leaf = c->tree->max_leaf[i];
	}
}

/* A new map with the rule text in TEXT_CHUNK chunks: its fd, or -errno. */
/* The flags of the rule text maps the pinned xw_text takes: those of a
 * text map it holds (a datapath pinned by an older xwall made them
 * read-only for the programs, which forbids writing them through mmap),
 * else this xwall's. */
static __u32 text_flags(struct xw_dp *dp)
{
	for (__u32 g = 0; g < 2; g++) {
		struct bpf_map_info info;
		__u32 len = sizeof(info);
		int fd = xw_gen_inner_fd(dp, XW_M_TEXT, g), rc;

		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		rc = bpf_obj_get_info_by_fd(fd, &info, &len);
		close(fd);
		if (!rc)
			return info.map_flags | BPF_F_INNER_MAP;
	}
	return BPF_F_INNER_MAP | BPF_F_RDONLY_PROG | BPF_F_MMAPABLE;
}

int xw_gen_text_map(struct xw_dp *dp, const char *text, size_t tlen)
{
	__u32 nchunks = (__u32)((tlen + 1 + TEXT_CHUNK - 1) / TEXT_CHUNK), *idx;
	char *chunks;
	int fd, rc;

	fd = new_inner(BPF_MAP_TYPE_ARRAY, "xw_text_g", 4, TEXT_CHUNK, nchunks, text_flags(dp));
	if (fd < 0)
		return fd;
	/* one memcpy through mmap (a 100k-rule text is 7 MB) */
	if (xw_gen_write_array(fd, 0, text, (__u32)(tlen / TEXT_CHUNK), TEXT_CHUNK) == 0) {
		char last[TEXT_CHUNK] = { 0 };
		__u32 k = (__u32)(tlen / TEXT_CHUNK);

		memcpy(last, text + (size_t)k * TEXT_CHUNK, tlen % TEXT_CHUNK);
		if (bpf_map_update_elem(fd, &k, last, 0) == 0)
			return fd;
	}
	idx = calloc(nchunks, sizeof(*idx));
	chunks = calloc(nchunks, TEXT_CHUNK);
	rc = idx && chunks ? 0 : -ENOMEM;
	if (!rc) {
		memcpy(chunks, text, tlen);
		for (__u32 i = 0; i < nchunks; i++)
			idx[i] = i;
		rc = fill(fd, idx, chunks, nchunks);
	}
	free(idx);
	free(chunks);
	if (rc) {
		close(fd);
		return rc;
	}
	return fd;
}

const char *xw_gen_map_text(struct xw_dp *dp, __u32 slot, size_t *len, size_t *tlen)
{
	const char *nul;
	struct bpf_map_info info;
	__u32 ilen = sizeof(info);
	int fd = xw_gen_inner_fd(dp, XW_M_TEXT, slot);
	char *p = MAP_FAILED;

	if (fd < 0) {
		errno = -fd;
		return NULL;
	}
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen) == 0 && (info.map_flags & BPF_F_MMAPABLE)) {
		*len = (size_t)info.max_entries * TEXT_CHUNK;
		/* pages are mapped as read: a change reads little of a text */
		p = *len ? mmap(NULL, *len, PROT_READ, MAP_SHARED, fd, 0) : MAP_FAILED;
	}
	close(fd);
	if (p == MAP_FAILED)
		return NULL;
	/* the text ends in the last chunk (the map is made to its size) */
	nul = memchr(p + *len - TEXT_CHUNK, 0, TEXT_CHUNK);
	if (!nul) {
		munmap(p, *len);
		errno = EINVAL;   /* not a text this xwall wrote */
		return NULL;
	}
	*tlen = (size_t)(nul - p);
	return p;
}

/* Empty slot `slot` of outer map m (ENOENT: it was). */
int xw_gen_clear_slot(struct xw_dp *dp, enum xw_map_id m, __u32 slot)
{
	int rc = bpf_map_delete_elem(dp->map_fd[m], &slot) ? -errno : 0;

	return rc == -ENOENT ? 0 : rc;
}

/* Empty shape j's slots of generation gen in both outer maps. */
static int clear_shape(struct xw_dp *dp, __u32 gen, uint32_t j)
{
	int rc = xw_gen_clear_slot(dp, XW_M_XENTS4, XW_XSLOT(gen, j));

	return rc ? rc : xw_gen_clear_slot(dp, XW_M_XENTS16, XW_XSLOT(gen, j));
}

/* The id of the map in slot `slot` of outer map m, 0 if none. */
static __u32 slot_id(struct xw_dp *dp, enum xw_map_id m, __u32 slot)
{
	__u32 id = 0;

	return bpf_map_lookup_elem(dp->map_fd[m], &slot, &id) ? 0 : id;
}

int xw_gen_share_exact(struct xw_dp *dp, __u32 from, __u32 to, uint32_t n_shapes)
{
	static const enum xw_map_id outer[2] = { XW_M_XENTS4, XW_M_XENTS16 };
	int rc = 0;

	/* a slot update waits for a grace period: only those that change */
	for (uint32_t j = 0; j < XW_MAX_XSHAPES && !rc; j++) {
		for (int k = 0; k < 2 && !rc; k++) {
			__u32 want = j < n_shapes ? slot_id(dp, outer[k], XW_XSLOT(from, j)) : 0;
			__u32 slot = XW_XSLOT(to, j);
			int fd;

			if (slot_id(dp, outer[k], slot) == want)
				continue;
			if (!want) {
				rc = xw_gen_clear_slot(dp, outer[k], slot);
				continue;
			}
			fd = bpf_map_get_fd_by_id(want);
			if (fd < 0)
				return -errno;
			rc = bpf_map_update_elem(dp->map_fd[outer[k]], &slot, &fd, 0) ? -errno : 0;
			close(fd);
		}
	}
	return rc;
}

/* Shape j's entries x->keys[at, at + n) as a new hash map of their size,
 * installed at its slot of xw_xents4 or xw_xents16. */
static int write_shape(struct xw_dp *dp, __u32 gen, const struct xw_cexact *x, uint32_t j,
		       uint32_t at, uint32_t n)
{
	int one = x->shapes[j].nk == 1, fd, rc;
	__u32 ks = one ? 4 : 16, slot = XW_XSLOT(gen, j);
	uint32_t *keys = malloc((size_t)(n ? n : 1) * ks);

	if (!keys)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		memcpy((char *)keys + (size_t)i * ks, x->keys[at + i].lane, ks);
	fd = new_inner(BPF_MAP_TYPE_HASH, one ? "xw_xents4_g" : "xw_xents16_g", ks, sizeof(__u32), n,
		       BPF_F_RDONLY_PROG);
	rc = fd < 0 ? fd : fill(fd, keys, x->rids + at, n);
	free(keys);
	if (!rc && bpf_map_update_elem(dp->map_fd[one ? XW_M_XENTS4 : XW_M_XENTS16], &slot, &fd, 0))
		rc = -errno;
	if (!rc)
		rc = xw_gen_clear_slot(dp, one ? XW_M_XENTS16 : XW_M_XENTS4, slot);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* The inactive generation's exact tier: per shape a hash map made to the
 * size of its entries (the one it replaces is freed by the kernel once no
 * packet can hold it); the slots of shapes it does not have are emptied. */
static int write_exact(struct xw_dp *dp, __u32 gen, const struct xw_cexact *x)
{
	uint32_t at = 0;
	int rc = 0;

	for (uint32_t j = 0; j < XW_MAX_XSHAPES && !rc; j++) {
		uint32_t n = 0;

		while (at + n < x->n && x->keys[at + n].shape == j)
			n++;
		rc = j < x->n_shapes ? write_shape(dp, gen, x, j, at, n) : clear_shape(dp, gen, j);
		at += n;
	}
	return rc;
}

/* Generation gen's rule entries (with the dropped equals), nodes, leaf
 * slots and tree head: what a whole apply writes into the new generation
 * and, after the switch, into the old one too (so that the first `rule
 * add|del` copies nothing, loader/datapath/edit.c). */
static int write_tree_arrays(struct xw_dp *dp, __u32 gen, const struct xw_tcompiled *c,
			     uint32_t base_id)
{
	const struct xw_ctree *t = c->tree;
	struct xw_thead head = t->head;
	uint32_t nd = c->n_dups;
	int rc;

	head.ed.base_id = base_id;
	/* the dropped equal entries after the others, while they fit; else
	 * none, and `rule del` applies the whole set */
	if ((uint64_t)t->n_rents + nd > XW_MAX_RENTS) {
		nd = 0;
		head.ed.n_dups = XW_MAX_RENTS;
	}
	rc = xw_gen_write_array(dp->map_fd[XW_M_RENTS], gen * XW_MAX_RENTS, t->rents, t->n_rents,
				sizeof(*t->rents));
	if (!rc)
		rc = xw_gen_write_array(dp->map_fd[XW_M_RENTS], gen * XW_MAX_RENTS + t->n_rents,
					c->dups, nd, sizeof(*c->dups));
	if (!rc)
		rc = xw_gen_write_array(dp->map_fd[XW_M_LIDS], gen * XW_MAX_LIDS, t->lids, t->n_lids,
					sizeof(*t->lids));
	if (!rc)
		rc = xw_gen_write_array(dp->map_fd[XW_M_NODES], gen * XW_MAX_NODES, t->nodes,
					t->n_nodes, sizeof(*t->nodes));
	if (!rc)
		rc = bpf_map_update_elem(dp->map_fd[XW_M_TREES], &gen, &head, 0) ? -errno : 0;
	return rc;
}

/* The inactive generation's exact tier, trees and limit entries (no packet
 * uses them): only the slots the new trees reach are written. */
static int write_trees(struct xw_dp *dp, __u32 gen, const struct xw_tcompiled *c, uint32_t base_id)
{
	__u32 idx[XW_MAX_LIMIT_ENTRIES];
	int rc;

	rc = write_exact(dp, gen, &c->tree->x);
	if (!rc)
		rc = write_tree_arrays(dp, gen, c, base_id);
	for (__u32 i = 0; i < c->n_limits && i < XW_MAX_LIMIT_ENTRIES; i++)
		idx[i] = gen * XW_MAX_LIMIT_ENTRIES + i;
	if (!rc)
		rc = fill(dp->map_fd[XW_M_LIMITS], idx, c->limits, c->n_limits);
	return rc;
}

/* The switch: one update of xw_cfg.  An array update is a plain copy that
 * a packet may read half-done, so the new generation's fields go in first
 * with `active` unchanged: a packet that sees the new `active` then also
 * sees them, whichever words it reads when. */
int xw_gen_switch(struct xw_dp *dp, struct xw_cfg *cfg, __u32 gen, const uint8_t policy[XW_DIR_MAX],
		  uint8_t ct_on, uint32_t n_limits, struct xw_err *err)
{
	__u32 zero = 0;

	cfg->policy[gen][XW_DIR_IN] = policy[XW_DIR_IN];
	cfg->policy[gen][XW_DIR_OUT] = policy[XW_DIR_OUT];
	cfg->ct_on[gen] = ct_on;
	cfg->n_limit[gen] = n_limits;
	if (bpf_map_update_elem(dp->map_fd[XW_M_CFG], &zero, cfg, 0))
		return sys_err(err, "write the new generation's settings", errno);
	cfg->active = gen;
	cfg->generation++;
	if (bpf_map_update_elem(dp->map_fd[XW_M_CFG], &zero, cfg, 0))
		return sys_err(err, "switch generation", errno);
	return 0;
}

/* After the switch: wait until no packet runs on the old generation, then
 * start the slots taken over from deleted rules (fresh 2): a packet still
 * running the old generation counted into them as the deleted rule until
 * the grace period ended, and zeroing earlier would have let it count into
 * the new rule's fresh counters.  The new rule's own packets of the
 * microseconds since the switch are not counted. */
static int retire_old_generation(struct xw_dp *dp, __u32 gen, const struct xw_ruleset *rs,
				 const uint32_t *slots, const uint8_t *fresh, uint32_t n_xshapes,
				 struct xw_err *err)
{
	int rc = xw_gen_grace_period(dp, gen), z;

	if (rc)
		rc = sys_err(err, "wait for packets in flight", rc);
	z = xw_gen_zero_slots(dp, slots, fresh, rs->n, 2);
	if (z && !rc)   /* zero them even if the wait failed */
		rc = sys_err(err, "zero counters", z);
	if (!rc && (rc = xw_gen_clear_src_buckets(dp, slots, fresh, rs->n, 2)) != 0)
		rc = sys_err(err, "reset per-source buckets", rc);
	if (!rc)
		rc = xw_sets_apply_finish(dp, rs, err);
	/* no packet reads the old generation's exact tier any more: its
	 * maps go now, not at the next apply; its slots take the new maps
	 * (as `rule add|del` would: the two halves share them) */
	if (!rc && (rc = xw_gen_share_exact(dp, gen, gen ^ 1, n_xshapes)) != 0)
		rc = sys_err(err, "free the old exact tier", rc);
	return rc;
}

int xw_dp_apply(struct xw_dp *dp, const struct xw_ruleset *rs, struct xw_err *err)
{
	struct rule_lines ol = { 0 }, nl = { 0 };
	uint32_t *ifx = NULL;
	uint8_t *fresh = NULL, set_ct = 0;
	struct xw_tcompiled c = { 0 };
	struct xw_cfg cfg;
	int fd_x = -1, rc;
	char *text = NULL;
	size_t tlen = 0;
	__u32 gen, base_id;

	xw_dp_phase("apply: start");
	/* every @NAME names a declared set of its type (`rule add` parses
	 * one rule alone: this is where its set references are checked) */
	if (xw_sets_check(rs, err))
		return XW_EINPUT;
	rc = xw_gen_read_cfg(dp, &cfg);
	if (rc)
		return sys_err(err, "read xw_cfg", rc);
	gen = (cfg.active & 1) ^ 1;
	/* a fresh datapath has no generation yet: the old rule set is empty */
	fd_x = xw_gen_inner_fd(dp, XW_M_TEXT, cfg.active & 1);
	if (fd_x >= 0) {
		close(fd_x);
		fd_x = -1;
		rc = read_live_lines(dp, cfg.active & 1, &ol, err);
		if (rc)
			return rc;
	}
	xw_dp_phase("apply: read live rules");
	ifx = calloc(rs->n + 1, sizeof(*ifx));
	fresh = calloc(rs->n + 1, 1);
	if (!ifx || !fresh) {
		rc = xw_errf(err, XW_ESYS, "out of memory");
		goto out;
	}
	rc = resolve_ifindexes(rs, ifx, err);
	if (!rc)
		rc = format_rules(rs, &nl, err);
	xw_dp_phase("apply: format rule text");
	if (!rc)
		rc = assign_slots(&ol, &nl, fresh, err);
	xw_dp_phase("apply: assign counter slots");
	if (!rc)
		rc = compile_trees(rs, nl.slot, ifx, &c, err);
	xw_dp_phase("apply: compile trees");
	if (rc)
		goto out;
	note_cost(dp, &c);
	text = compose_text(&nl, &tlen);
	if (!text) {
		rc = xw_errf(err, XW_ESYS, "out of memory");
		goto out;
	}

	xw_dp_phase("apply: compose rule text");
	/* 1. nobody may still be running on the slot we fill (an earlier apply
	 *    may have been killed between its flip and its grace period) */
	rc = xw_gen_grace_period(dp, cfg.active & 1);
	if (rc) {
		rc = sys_err(err, "wait for packets in flight", rc);
		goto out;
	}
	xw_dp_phase("apply: grace period before");
	/* 2. the inactive generation: rule text, trees, fresh counter slots */
	fd_x = xw_gen_text_map(dp, text, tlen);
	if (fd_x < 0) {
		rc = sys_err(err, "create rule text map", fd_x);
		goto out;
	}
	xw_dp_phase("apply: write rule text");
	base_id = (uint32_t)cfg.generation + 1u ? (uint32_t)cfg.generation + 1u : 1u;
	rc = write_trees(dp, gen, &c, base_id);
	xw_dp_phase("apply: write trees");
	if (!rc)
		rc = xw_gen_zero_slots(dp, nl.slot, fresh, rs->n, 1);
	if (!rc)
		rc = xw_gen_clear_src_buckets(dp, nl.slot, fresh, rs->n, 1);
	xw_dp_phase("apply: zero fresh slots");
	if (rc) {
		rc = sys_err(err, "fill rule maps", rc);
		goto out;
	}
	/* sets, and the new generation's rules on them */
	rc = xw_sets_apply_prepare(dp, rs, nl.slot, ifx, gen, &set_ct, err);
	if (rc)
		goto out;
	c.uses_ct |= set_ct;
	/* 3. the rule text of the new generation (a whole text: the base of
	 *    earlier changes goes), 4. the switch */
	rc = bpf_map_update_elem(dp->map_fd[XW_M_TEXT], &gen, &fd_x, 0) ? -errno : 0;
	if (!rc)
		rc = xw_gen_clear_slot(dp, XW_M_TEXT, 2 + gen);
	rc = rc ? sys_err(err, "install rule text", rc) :
		  xw_gen_switch(dp, &cfg, gen, rs->policy, c.uses_ct, c.n_limits, err);
	xw_dp_phase("apply: sets, switch");
	/* 5. the old generation */
	if (!rc)
		rc = retire_old_generation(dp, gen, rs, nl.slot, fresh, c.tree->head.n_xshapes, err);
	xw_dp_phase("apply: grace period, retire");
	/* no packet reads the old generation now: make it the same, for
	 * `rule add|del` (a failure costs that only a copy) */
	if (!rc)
		write_tree_arrays(dp, gen ^ 1, &c, base_id);
	xw_dp_phase("apply: mirror into the old generation");
out:
	if (fd_x >= 0)
		close(fd_x);
	free(text);
	free(ifx);
	free(fresh);
	rule_lines_free(&ol);
	rule_lines_free(&nl);
	xw_tcompiled_free(&c);
	xw_dp_phase("apply: free");
	return rc;
}
/* Reads entry idx of per-CPU map m, whose value is nw u64 words, and sums
 * each word over the CPUs into sum[0..nw-1] (zeros on error). */
static int percpu_sum(struct xw_dp *dp, enum xw_map_id m, uint32_t idx, uint64_t *sum, size_t nw)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *v = calloc((size_t)(ncpu > 0 ? ncpu : 1) * nw, sizeof(*v));
	int rc = 0;

	memset(sum, 0, nw * sizeof(*sum));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(dp->map_fd[m], &idx, v))
		rc = -errno;
	for (int c = 0; !rc && c < ncpu; c++)
		for (size_t w = 0; w < nw; w++)
			sum[w] += v[(size_t)c * nw + w];
	free(v);
	return rc;
}

int xw_dp_counter(struct xw_dp *dp, enum xw_map_id m, uint32_t idx, struct xw_counter *out)
{
	uint64_t s[2];
	int rc = percpu_sum(dp, m, idx, s, 2);

	_Static_assert(sizeof(*out) == sizeof(s), "struct xw_counter: two u64 words");
	out->packets = s[0];
	out->bytes = s[1];
	return rc;
}

int xw_dp_test_run_dir(struct xw_dp *dp, int dir, const void *pkt, size_t len,
		       struct xw_test_result *res, struct xw_err *err)
{
	return xw_dp_test_run_prog(dp, dir == XW_DIR_OUT ? XW_P_TC_OUT : XW_P_XDP, pkt, len, res,
				   err);
}

int xw_dp_test_run_prog(struct xw_dp *dp, int prog, const void *pkt, size_t len,
			struct xw_test_result *res, struct xw_err *err)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = (__u32)len);
	int ncpu = libbpf_num_possible_cpus(), cpu, rc;
	int tc = prog == XW_P_TC_IN || prog == XW_P_TC_OUT;
	struct xw_scratch *s;
	__u32 key = prog == XW_P_TC_OUT ? XW_DIR_OUT : XW_DIR_IN;
	int fd = dp->prog_fd[prog];
	uint8_t *framed = NULL;
	struct xdp_md md;
	struct __sk_buff sb;
	cpu_set_t set;

	if (prog != XW_P_XDP && !tc)
		return xw_errf(err, XW_EINPUT, "not an entry program");
	if (dp->probe) {
		rc = xw_probe_opts(tc, pkt, len, 0, &o, &md, &sb, &framed);
		if (rc)
			return sys_err(err, "probe frame", rc);
		key += XW_SCRATCH_PROBE;
	} else if (!tc && len < 14) {
		/* test_run wants 14 bytes of data: offer a shorter frame behind
		 * 16 bytes of metadata, which the program does not see (6.18
		 * checks the frame itself and refuses: the caller reports it) */
		framed = calloc(1, 16 + len);
		if (!framed)
			return xw_errf(err, XW_ESYS, "out of memory");
		memcpy(framed + 16, pkt, len);
		memset(&md, 0, sizeof(md));
		md.data = 16;
		md.data_end = (__u32)(16 + len);
		o.data_in = framed;
		o.data_size_in = (__u32)(16 + len);
		o.ctx_in = &md;
		o.ctx_size_in = sizeof(md);
	}

	/* the verdict details are in the per-CPU scratch of the CPU that ran it */
	cpu = sched_getcpu();
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
	cpu = sched_getcpu();
	rc = bpf_prog_test_run_opts(fd, &o) ? -errno : 0;
	free(framed);
	if (rc)
		return sys_err(err, "BPF_PROG_TEST_RUN", rc);
	s = calloc((size_t)ncpu, sizeof(*s));
	if (!s)
		return xw_errf(err, XW_ESYS, "out of memory");
	if (bpf_map_lookup_elem(dp->map_fd[XW_M_SCRATCH], &key, s)) {
		free(s);
		return sys_err(err, "read scratch", errno);
	}
	res->retval = o.retval;
	res->verdict = s[cpu].verdict;
	res->prio = s[cpu].best_prio;
	res->reason = s[cpu].reason;
	res->malformed = s[cpu].malformed;
	res->ct_state = s[cpu].key.ct_state;
	res->seen_len = s[cpu].pkt_len;
	free(s);
	return 0;
}

int xw_probe_opts(int tc, const void *pkt, size_t len, uint32_t ifindex,
		  struct bpf_test_run_opts *o, struct xdp_md *md, struct __sk_buff *sb,
		  uint8_t **framed)
{
	static const __u64 mark[2] = { XW_PROBE_MARK0, XW_PROBE_MARK1 };

	*framed = NULL;
	if (tc) {
		/* the mark in cb[0..3]: little words of each 64-bit half first */
		memset(sb, 0, sizeof(*sb));
		sb->cb[0] = (__u32)mark[0];
		sb->cb[1] = (__u32)(mark[0] >> 32);
		sb->cb[2] = (__u32)mark[1];
		sb->cb[3] = (__u32)(mark[1] >> 32);
		sb->ifindex = ifindex;
		o->data_in = pkt;
		o->data_size_in = (__u32)len;
		o->ctx_in = sb;
		o->ctx_size_in = sizeof(*sb);
		return 0;
	}
	/* XDP: the mark as metadata, in front of the frame */
	*framed = malloc(XW_PROBE_LEN + len);
	if (!*framed)
		return -ENOMEM;
	memcpy(*framed, mark, XW_PROBE_LEN);
	memcpy(*framed + XW_PROBE_LEN, pkt, len);
	memset(md, 0, sizeof(*md));
	md->data = XW_PROBE_LEN;
	md->data_end = (__u32)(XW_PROBE_LEN + len);
	md->ingress_ifindex = ifindex;
	o->data_in = *framed;
	o->data_size_in = (__u32)(XW_PROBE_LEN + len);
	o->ctx_in = md;
	o->ctx_size_in = sizeof(*md);
	return 0;
}

int xw_dp_test_run(struct xw_dp *dp, const void *pkt, size_t len,
		   struct xw_test_result *res, struct xw_err *err)
{
	return xw_dp_test_run_dir(dp, XW_DIR_IN, pkt, len, res, err);
}

int xw_dp_ct_timeouts(struct xw_dp *dp, uint32_t t[XW_CTS_MAX])
{
	struct xw_cfg cfg;
	int rc = xw_gen_read_cfg(dp, &cfg);

	if (!rc)
		memcpy(t, cfg.ct_timeout, sizeof(cfg.ct_timeout));
	return rc;
}

/* The datapath compares now - last_ns with seconds * 1e9 in u64 (no sum):
 * any u32 of seconds fits. */
_Static_assert(UINT32_MAX <= UINT64_MAX / 1000000000ull, "ct timeout in ns fits u64");

int xw_dp_ct_set_timeout(struct xw_dp *dp, int state, uint32_t secs, struct xw_err *err)
{
	struct xw_cfg cfg;
	__u32 zero = 0;
	int rc = xw_gen_read_cfg(dp, &cfg);

	if (rc)
		return sys_err(err, "read xw_cfg", rc);
	if (state <= XW_CTS_NONE || state >= XW_CTS_MAX)
		return xw_errf(err, XW_EINPUT, "no such timeout");
	cfg.ct_timeout[state] = secs;
	if (bpf_map_update_elem(dp->map_fd[XW_M_CFG], &zero, &cfg, 0))
		return sys_err(err, "write xw_cfg", errno);
	return 0;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int xw_dp_ct_each(struct xw_dp *dp, int (*fn)(const struct xw_ct_key *, const struct xw_ct_val *,
					      uint64_t now_ns, void *), void *arg)
{
	static const enum xw_map_id tables[] = { XW_M_CT, XW_M_CT_NEW };
	struct xw_ct_key k, next, *prev;
	struct xw_ct_val v;
	struct xw_cfg cfg;
	int rc = xw_gen_read_cfg(dp, &cfg);
	uint64_t now = mono_ns();

	if (rc)
		return rc;
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		int fd = dp->map_fd[tables[t]];

		prev = NULL;
		while (bpf_map_get_next_key(fd, prev, &next) == 0) {
			k = next;
			prev = &k;
			if (bpf_map_lookup_elem(fd, &k, &v))
				continue;
			/* expired: the datapath removes it on its next packet; the
			 * difference is signed as in the datapath (xw_ct.h): a
			 * packet may have stamped the entry after our clock read */
			if (v.state >= XW_CTS_MAX ||
			    (int64_t)(now - v.last_ns) > (int64_t)((uint64_t)cfg.ct_timeout[v.state] * 1000000000ull))
				continue;
			/* moving between tables right now: listed once */
			if (tables[t] == XW_M_CT_NEW) {
				struct xw_ct_val w;

				if (bpf_map_lookup_elem(dp->map_fd[XW_M_CT], &k, &w) == 0)
					continue;
			}
			rc = fn(&k, &v, now, arg);
			if (rc)
				return rc;
		}
	}
	return 0;
}

int xw_dp_ct_flush(struct xw_dp *dp, uint64_t *n)
{
	static const enum xw_map_id tables[] = { XW_M_CT, XW_M_CT_NEW };
	struct xw_ct_key k;
	__s64 live = 0;

	*n = 0;
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		int fd = dp->map_fd[tables[t]];

		/* delete the first key until none is left (keys shift as we delete) */
		while (bpf_map_get_next_key(fd, NULL, &k) == 0) {
			if (bpf_map_delete_elem(fd, &k))
				return -errno;
			(*n)++;
		}
	}
	for (__u32 i = 0; i < XW_CT_TBL_MAX; i++)
		if (bpf_map_update_elem(dp->map_fd[XW_M_CT_COUNT], &i, &live, 0))
			return -errno;
	return 0;
}

uint64_t xw_dp_percpu_u64(struct xw_dp *dp, enum xw_map_id m, uint32_t idx)
{
	uint64_t sum;

	percpu_sum(dp, m, idx, &sum, 1);
	return sum;
}

int xw_dp_ct_counters(struct xw_dp *dp, uint64_t out[XW_CTC_MAX], int64_t *live)
{
	for (__u32 i = 0; i < XW_CTC_MAX; i++)
		out[i] = xw_dp_percpu_u64(dp, XW_M_CT_STATS, i);
	*live = 0;
	for (__u32 i = 0; i < XW_CT_TBL_MAX; i++) {
		__s64 n = 0;

		if (bpf_map_lookup_elem(dp->map_fd[XW_M_CT_COUNT], &i, &n) == 0)
			*live += n;
	}
	return 0;
}

static int cost_walk(struct xw_dp *dp, __u32 gen, __u32 at, unsigned depth, struct xw_tree_cost *c,
		     uint32_t *tdepth, uint32_t *tleaf)
{
	__u32 k = gen * XW_MAX_NODES + (at & (XW_MAX_NODES - 1));
	struct xw_node nd;

	if (depth >= XW_TREE_DEPTH || bpf_map_lookup_elem(dp->map_fd[XW_M_NODES], &k, &nd))
		return -EINVAL;
	c->nodes++;
	if (!nd.nb) {
		c->leaf_slots += nd.n;
		if (depth + 1 > *tdepth)
			*tdepth = depth + 1;
		if (nd.n > *tleaf)
			*tleaf = nd.n;
		return 0;
	}
	if (nd.nb > 16)
		return -EINVAL;
	for (__u32 i = 0; i < (1u << nd.nb); i++)
		if (cost_walk(dp, gen, nd.base + i, depth + 1, c, tdepth, tleaf))
			return -EINVAL;
	return 0;
}

int xw_dp_tree_cost(struct xw_dp *dp, struct xw_tree_cost *c)
{
	struct xw_thead h;
	struct xw_cfg cfg;
	__u32 gen;
	int rc;

	memset(c, 0, sizeof(*c));
	rc = xw_gen_read_cfg(dp, &cfg);
	if (rc)
		return rc;
	gen = cfg.active & 1;
	if (bpf_map_lookup_elem(dp->map_fd[XW_M_TREES], &gen, &h))
		return -errno;
	c->xshapes = h.n_xshapes < XW_MAX_XSHAPES ? h.n_xshapes : XW_MAX_XSHAPES;
	for (__u32 j = 0; j < c->xshapes; j++)
		c->xentries += h.xs[j].n;
	c->xprobes = xw_exact_probes_max(h.xs, c->xshapes);
	c->edits = h.ed.edits;
	c->overlay = h.ed.n_over;
	c->trees = h.n_trees < XW_MAX_TREES ? h.n_trees : XW_MAX_TREES;
	for (__u32 t = 0; t < c->trees; t++) {
		uint32_t d = 0, l = 0;

		if (cost_walk(dp, gen, h.root[t], 0, c, &d, &l))
			return -EINVAL;
		c->worst += d + l;
		if (d > c->depth)
			c->depth = d;
		if (l > c->leaf)
			c->leaf = l;
	}
	return 0;
}
