// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The pending `apply --confirm` and the outcome of the last one, as pinned
 * BPF array maps next to the datapath's pins (see confirm.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "confirm.h"
#include "sets.h"

#define CHUNK 4096u
#define HDR_MAGIC "xwconf1"
#define LOG_MAGIC "xwclog1"

_Static_assert(sizeof(struct xw_confirm_hdr) <= CHUNK, "the header fits entry 0");

int xw_confirm_parse_timeout(const char *s, uint64_t *ms)
{
	uint64_t v;

	if (!s || xw_duration_parse(s, strlen(s), &v) || v < 1000 || v > XW_CONFIRM_MAX_MS)
		return -1;
	*ms = v;
	return 0;
}

const char *xw_confirm_outcome_name(uint32_t outcome)
{
	switch (outcome) {
	case XW_CONFIRM_KEPT: return "kept";
	case XW_CONFIRM_RESTORED: return "restored";
	case XW_CONFIRM_REVERTED: return "reverted";
	case XW_CONFIRM_FAILED: return "restore-failed";
	default: return "none";
	}
}

static int64_t now_ms(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t xw_confirm_now_real_ms(void)
{
	return now_ms(CLOCK_REALTIME);
}

int64_t xw_confirm_now_boot_ms(void)
{
	return now_ms(CLOCK_BOOTTIME);
}

uint32_t xw_confirm_dp_id(const struct xw_dp *dp)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (dp->map_fd[XW_M_CFG] < 0 || bpf_obj_get_info_by_fd(dp->map_fd[XW_M_CFG], &info, &len))
		return 0;
	return info.id;
}

static int sys(struct xw_err *err, const char *what, int e)
{
	return xw_errf(err, XW_ESYS, "%s: %s", what, strerror(e));
}

/* Entry 0 of the pinned record into *h: 1, 0 none or unreadable. */
static int read_hdr(int fd, struct xw_confirm_hdr *h)
{
	static char buf[CHUNK];
	__u32 k = 0;

	if (bpf_map_lookup_elem(fd, &k, buf))
		return 0;
	memcpy(h, buf, sizeof(*h));
	h->file[sizeof(h->file) - 1] = 0;
	return memcmp(h->magic, HDR_MAGIC, sizeof(HDR_MAGIC)) == 0;
}

int xw_confirm_peek(struct xw_confirm_hdr *h)
{
	int fd = bpf_obj_get(XW_CONFIRM_PIN), rc;

	if (fd < 0)
		return 0;
	rc = read_hdr(fd, h);
	close(fd);
	return rc;
}

int xw_confirm_get(const struct xw_dp *dp, struct xw_confirm_hdr *h, char **text,
		   struct xw_err *err)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	int fd = bpf_obj_get(XW_CONFIRM_PIN);
	char *t = NULL;

	if (text)
		*text = NULL;
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		sys(err, "open " XW_CONFIRM_PIN, errno);
		return -XW_ESYS;
	}
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.value_size != CHUNK ||
	    info.max_entries < 1 || !read_hdr(fd, h) || h->cfg_map_id != xw_confirm_dp_id(dp) ||
	    h->text_len > (uint64_t)(info.max_entries - 1) * CHUNK) {
		/* not ours, or not this datapath's: what a detach that could
		 * not finish, or another xwall, left behind */
		close(fd);
		unlink(XW_CONFIRM_PIN);
		return 0;
	}
	if (text) {
		t = malloc(h->text_len + CHUNK + 1);
		for (__u32 i = 0; t && (uint64_t)i * CHUNK < h->text_len; i++) {
			__u32 k = i + 1;

			if (bpf_map_lookup_elem(fd, &k, t + (size_t)i * CHUNK)) {
				sys(err, "read " XW_CONFIRM_PIN, errno);
				free(t);
				close(fd);
				return -XW_ESYS;
			}
		}
		if (!t) {
			close(fd);
			xw_errf(err, XW_ESYS, "out of memory");
			return -XW_ESYS;
		}
		t[h->text_len] = 0;
		*text = t;
	}
	close(fd);
	return 1;
}

int xw_confirm_put(const struct xw_confirm_hdr *h0, const char *text, struct xw_err *err)
{
	LIBBPF_OPTS(bpf_map_create_opts, ro, .map_flags = BPF_F_RDONLY_PROG);
	struct xw_confirm_hdr h = *h0;
	size_t len = strlen(text), n = (len + CHUNK - 1) / CHUNK;
	char *buf = calloc(1, CHUNK);
	int fd = -1, rc = 0;

	if (!buf)
		return xw_errf(err, XW_ESYS, "out of memory");
	if (n + 1 > 0xffffffffu / 2) {
		free(buf);
		return xw_errf(err, XW_ESYS, "rule set too large to keep for --confirm");
	}
	memcpy(h.magic, HDR_MAGIC, sizeof(HDR_MAGIC));
	h.text_len = len;
	/* no BPF program has business writing it (as xw_text) */
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "xw_confirm", sizeof(__u32), CHUNK, (__u32)n + 1, &ro);
	if (fd < 0) {
		rc = sys(err, "create map xw_confirm", errno);
		goto out;
	}
	memcpy(buf, &h, sizeof(h));
	{
		__u32 k = 0;

		if (bpf_map_update_elem(fd, &k, buf, BPF_ANY)) {
			rc = sys(err, "write map xw_confirm", errno);
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		__u32 k = (__u32)i + 1;
		size_t l = len - i * CHUNK < CHUNK ? len - i * CHUNK : CHUNK;

		memset(buf, 0, CHUNK);
		memcpy(buf, text + i * CHUNK, l);
		if (bpf_map_update_elem(fd, &k, buf, BPF_ANY)) {
			rc = sys(err, "write map xw_confirm", errno);
			goto out;
		}
	}
	/* filled first, pinned last: a record is whole or absent */
	unlink(XW_CONFIRM_PIN);
	if (bpf_obj_pin(fd, XW_CONFIRM_PIN))
		rc = sys(err, "pin " XW_CONFIRM_PIN, errno);
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc;
}

int xw_confirm_update_hdr(const struct xw_confirm_hdr *h, struct xw_err *err)
{
	static char buf[CHUNK];
	int fd = bpf_obj_get(XW_CONFIRM_PIN), rc = 0;
	__u32 k = 0;

	if (fd < 0)
		return sys(err, "open " XW_CONFIRM_PIN, errno);
	memset(buf, 0, sizeof(buf));
	memcpy(buf, h, sizeof(*h));
	if (bpf_map_update_elem(fd, &k, buf, BPF_ANY))
		rc = sys(err, "write " XW_CONFIRM_PIN, errno);
	close(fd);
	return rc;
}

int xw_confirm_drop(struct xw_err *err)
{
	if (unlink(XW_CONFIRM_PIN) && errno != ENOENT)
		return sys(err, "unlink " XW_CONFIRM_PIN, errno);
	return 0;
}

void xw_confirm_unpin_all(void)
{
	unlink(XW_CONFIRM_PIN);
	unlink(XW_CONFIRM_LOG_PIN);
}

int xw_confirm_log_get(struct xw_confirm_log *l)
{
	int fd = bpf_obj_get(XW_CONFIRM_LOG_PIN);
	__u32 k = 0;
	int rc;

	if (fd < 0)
		return 0;
	rc = bpf_map_lookup_elem(fd, &k, l) == 0 && memcmp(l->magic, LOG_MAGIC, sizeof(LOG_MAGIC)) == 0;
	close(fd);
	l->file[sizeof(l->file) - 1] = 0;
	l->msg[sizeof(l->msg) - 1] = 0;
	return rc;
}

int xw_confirm_log_put(const struct xw_confirm_log *l0, struct xw_err *err)
{
	struct xw_confirm_log l = *l0;
	int fd = bpf_obj_get(XW_CONFIRM_LOG_PIN), rc = 0;
	__u32 k = 0;

	memcpy(l.magic, LOG_MAGIC, sizeof(LOG_MAGIC));
	if (fd < 0) {
		LIBBPF_OPTS(bpf_map_create_opts, ro, .map_flags = BPF_F_RDONLY_PROG);

		fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "xw_confirm_log", sizeof(__u32), sizeof(l), 1, &ro);
		if (fd < 0)
			return sys(err, "create map xw_confirm_log", errno);
		if (bpf_map_update_elem(fd, &k, &l, BPF_ANY))
			rc = sys(err, "write map xw_confirm_log", errno);
		else if (bpf_obj_pin(fd, XW_CONFIRM_LOG_PIN))
			rc = sys(err, "pin " XW_CONFIRM_LOG_PIN, errno);
	} else if (bpf_map_update_elem(fd, &k, &l, BPF_ANY)) {
		rc = sys(err, "write " XW_CONFIRM_LOG_PIN, errno);
	}
	close(fd);
	return rc;
}

uint64_t xw_confirm_proc_start(uint32_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long v = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	/* the command name may hold spaces and ')': fields follow the last ')' */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X')
		return 0;    /* a zombie has finished its work */
	p++;
	/* fields 3 (state) .. 22 (starttime) */
	for (int field = 3; field <= 22; field++) {
		while (*p == ' ')
			p++;
		if (field == 22) {
			v = strtoull(p, NULL, 10);
			break;
		}
		while (*p && *p != ' ')
			p++;
	}
	return v;
}

bool xw_confirm_proc_alive(uint32_t pid, uint64_t start)
{
	if (!pid)
		return false;
	if (kill((pid_t)pid, 0) && errno == ESRCH)
		return false;
	return xw_confirm_proc_start(pid) == start;
}
