// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* apply --confirm's pieces (loader/datapath/confirm.c): the SECS argument,
 * the timer's liveness check, and the pinned record and log.  The record
 * tests need root; each runs in a mount namespace of its own with a fresh
 * bpffs at /sys/fs/bpf, so a live xwall's pins are never touched. */
#include <check.h>
#include "check_main.h"
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "confirm.h"
#include "datapath.h"

START_TEST(test_parse_timeout)
{
	static const struct { const char *s; long long ms; } ok[] = {
		{ "1", 1000 }, { "3", 3000 }, { "90", 90000 }, { "90s", 90000 }, { "5m", 300000 },
		{ "1h30m", 5400000 }, { "1h", 3600000 }, { "86400", 86400000 }, { "24h", 86400000 },
		{ "1d", 86400000 }, { "1500ms", 1500 },
	};
	static const char *const bad[] = {
		"", "0", "0s", "999ms", "86401", "25h", "2d", "abc", "-5", "3 ", " 3", "3x", "s",
		"99999999999999999999",
	};
	uint64_t ms;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ms = 0;
		ck_assert_msg(xw_confirm_parse_timeout(ok[i].s, &ms) == 0, "'%s' refused", ok[i].s);
		ck_assert_msg(ms == (uint64_t)ok[i].ms, "'%s': %llu ms, want %lld", ok[i].s,
			      (unsigned long long)ms, ok[i].ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ms = 7;
		ck_assert_msg(xw_confirm_parse_timeout(bad[i], &ms) == -1, "'%s' accepted", bad[i]);
		ck_assert_msg(ms == 7, "'%s': *ms written on failure", bad[i]);
	}
	ck_assert(xw_confirm_parse_timeout(NULL, &ms) == -1);
}
END_TEST

START_TEST(test_proc_alive)
{
	uint64_t me = xw_confirm_proc_start((uint32_t)getpid());
	pid_t c;
	int st;

	ck_assert_msg(me != 0, "no start time for ourselves");
	ck_assert(xw_confirm_proc_alive((uint32_t)getpid(), me));
	ck_assert(!xw_confirm_proc_alive((uint32_t)getpid(), me + 1));   /* pid reused */
	ck_assert(!xw_confirm_proc_alive(0, me));
	c = fork();
	ck_assert(c >= 0);
	if (c == 0) {
		pause();
		_exit(0);
	}
	uint64_t cs = xw_confirm_proc_start((uint32_t)c);

	ck_assert(cs != 0);
	ck_assert(xw_confirm_proc_alive((uint32_t)c, cs));
	kill(c, SIGKILL);
	/* a zombie (not reaped yet) has done its work */
	for (int i = 0; i < 200 && xw_confirm_proc_alive((uint32_t)c, cs); i++)
		usleep(10000);
	ck_assert_msg(!xw_confirm_proc_alive((uint32_t)c, cs), "a killed, unreaped child counts as alive");
	waitpid(c, &st, 0);
	ck_assert(!xw_confirm_proc_alive((uint32_t)c, cs));
}
END_TEST

/* A private bpffs and a private datapath instance (not pinned). */
static void private_bpffs(struct xw_dp *dp)
{
	struct xw_err err;

	if (!xw_privileged())
		ck_abort_msg("needs root (bpffs, BPF maps)");
	ck_assert_msg(unshare(CLONE_NEWNS) == 0, "unshare: %s", strerror(errno));
	ck_assert(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0);
	ck_assert_msg(mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700") == 0, "mount bpffs: %s",
		      strerror(errno));
	ck_assert(mkdir(XW_PIN_DIR, 0700) == 0);
	xw_dp_init(dp);
	ck_assert_msg(xw_dp_load_private(dp, &err) == 0, "%s", err.msg);
}

START_TEST(test_record)
{
	struct xw_confirm_hdr h, got;
	struct xw_err err;
	struct xw_dp dp;
	char *text = malloc(10001), *back = NULL;
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();

	printf("test_record: seed %u\n", seed);
	srand(seed);
	private_bpffs(&dp);
	ck_assert(xw_confirm_get(&dp, &got, &back, &err) == 0);     /* none */
	ck_assert(back == NULL);
	ck_assert(xw_confirm_peek(&got) == 0);
	/* three chunks and a bit, no NUL inside */
	for (int i = 0; i < 10000; i++)
		text[i] = (char)(' ' + rand() % 95);
	text[10000] = 0;
	memset(&h, 0, sizeof(h));
	h.nonce = ((uint64_t)rand() << 32) | (unsigned)rand();
	h.cfg_map_id = xw_confirm_dp_id(&dp);
	ck_assert(h.cfg_map_id != 0);
	h.timer_pid = 4242;
	h.deadline_boot_ms = xw_confirm_now_boot_ms() + 3000;
	h.old_rules = 7;
	snprintf(h.file, sizeof(h.file), "new.rules");
	ck_assert_msg(xw_confirm_put(&h, text, &err) == 0, "%s", err.msg);
	ck_assert(xw_confirm_get(&dp, &got, &back, &err) == 1);
	ck_assert(back && strcmp(back, text) == 0);
	ck_assert(got.nonce == h.nonce && got.timer_pid == 4242 && got.old_rules == 7);
	ck_assert(got.deadline_boot_ms == h.deadline_boot_ms && got.text_len == 10000);
	ck_assert_str_eq(got.file, "new.rules");
	free(back);
	ck_assert(xw_confirm_peek(&got) == 1 && got.nonce == h.nonce);
	/* the header alone is rewritten */
	got.timer_pid = 99;
	ck_assert(xw_confirm_update_hdr(&got, &err) == 0);
	ck_assert(xw_confirm_get(&dp, &got, &back, &err) == 1);
	ck_assert(got.timer_pid == 99 && strcmp(back, text) == 0);
	free(back);
	/* an empty rule text round-trips too */
	ck_assert(xw_confirm_put(&h, "", &err) == 0);
	ck_assert(xw_confirm_get(&dp, &got, &back, &err) == 1);
	ck_assert(back && back[0] == 0);
	free(back);
	ck_assert(xw_confirm_drop(&err) == 0);
	ck_assert(xw_confirm_get(&dp, &got, NULL, &err) == 0);
	ck_assert(xw_confirm_drop(&err) == 0);     /* none is no error */
	/* another datapath's record is stale: ignored and removed */
	h.cfg_map_id++;
	ck_assert(xw_confirm_put(&h, text, &err) == 0);
	ck_assert(xw_confirm_get(&dp, &got, NULL, &err) == 0);
	ck_assert(access(XW_CONFIRM_PIN, F_OK) != 0);
	xw_dp_close(&dp);
	free(text);
}
END_TEST

START_TEST(test_log)
{
	struct xw_confirm_log l, got;
	struct xw_err err;
	struct xw_dp dp;

	private_bpffs(&dp);
	ck_assert(xw_confirm_log_get(&got) == 0);
	memset(&l, 0, sizeof(l));
	l.outcome = XW_CONFIRM_RESTORED;
	l.rules = 3;
	l.generation = 9;
	snprintf(l.file, sizeof(l.file), "a.rules");
	ck_assert_msg(xw_confirm_log_put(&l, &err) == 0, "%s", err.msg);
	ck_assert(xw_confirm_log_get(&got) == 1);
	ck_assert(got.outcome == XW_CONFIRM_RESTORED && got.rules == 3 && got.generation == 9);
	ck_assert_str_eq(got.file, "a.rules");
	ck_assert_str_eq(xw_confirm_outcome_name(got.outcome), "restored");
	l.outcome = XW_CONFIRM_KEPT;       /* rewritten in place */
	ck_assert(xw_confirm_log_put(&l, &err) == 0);
	ck_assert(xw_confirm_log_get(&got) == 1 && got.outcome == XW_CONFIRM_KEPT);
	xw_confirm_unpin_all();
	ck_assert(xw_confirm_log_get(&got) == 0);
	xw_dp_close(&dp);
}
END_TEST

static Suite *confirm_suite(void)
{
	Suite *s = suite_create("confirm");
	TCase *t = tcase_create("parse");

	tcase_add_test(t, test_parse_timeout);
	tcase_add_test(t, test_proc_alive);
	suite_add_tcase(s, t);
	t = tcase_create("record");
	tcase_add_test(t, test_record);
	tcase_add_test(t, test_log);
	tcase_set_timeout(t, 30);
	suite_add_tcase(s, t);
	return s;
}

XW_CHECK_MAIN(confirm_suite)
