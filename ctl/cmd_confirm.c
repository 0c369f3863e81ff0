// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* apply --confirm SECS, confirm, and the timer that restores the previous
 * rule set when no confirm comes in time.
 *
 * apply --confirm, under the datapath lock:
 *   1. reads the live rule set (what a rollback restores);
 *   2. starts the timer: a process of its own (fork, setsid, fork, exec of
 *      this binary as `xwall __confirm-timer NONCE`), in a new session, with
 *      SIGHUP ignored and /dev/null for stdin/stdout/stderr, so it outlives
 *      the terminal and the process that ran apply;
 *   3. pins the record (confirm.h): the saved rule text, the deadline, the
 *      timer's pid;
 *   4. applies the new rule set (xw_dp_apply, the same atomic path as any
 *      apply);
 *   5. on failure drops the record.
 * The timer first waits for the lock, i.e. until apply has finished or died:
 * no record with its nonce then means apply failed (or was killed before
 * step 3) and it exits.  Otherwise it sleeps to the deadline (CLOCK_BOOTTIME,
 * so a suspended machine counts the time it slept), checking every second
 * that the record is still there (confirm removes it), then takes the lock
 * and restores the saved text with xw_dp_apply: rules whose text is unchanged
 * keep their counters.  Killed anywhere, apply leaves either no record (and
 * the old rule set) or a record and a timer; a record whose deadline has
 * passed is restored by whichever command takes the lock first (the timer,
 * or a changing command, or confirm), so a timer that died does not leave
 * the new rule set in place for ever. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <json-c/json.h>
#include "ctl.h"
#include "confirm.h"

#define TIMER_CMD "__confirm-timer"

static void fmt_time(int64_t real_ms, char *buf, size_t n)
{
	time_t t = (time_t)(real_ms / 1000);
	struct tm tm;

	if (!localtime_r(&t, &tm) || !strftime(buf, n, "%Y-%m-%d %H:%M:%S %Z", &tm))
		snprintf(buf, n, "@%lld", (long long)t);
}

static void fmt_iso(int64_t real_ms, char *buf, size_t n)
{
	time_t t = (time_t)(real_ms / 1000);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, n, "%lld", (long long)t);
}

/* Seconds left, rounded up; 0 when past. */
static long long secs_left(const struct xw_confirm_hdr *h)
{
	int64_t left = h->deadline_boot_ms - xw_confirm_now_boot_ms();

	return left <= 0 ? 0 : (left + 999) / 1000;
}

static uint32_t live_rules(struct xw_dp *dp, uint64_t *gen)
{
	struct xw_ruleset rs;
	struct xw_err err;
	uint32_t n = 0;

	*gen = 0;
	if (xw_dp_read_rules(dp, &rs, NULL, gen, &err) == 0) {
		n = (uint32_t)rs.n;
		xw_ruleset_free(&rs);
	}
	return n;
}

static void log_outcome(struct xw_dp *dp, const struct xw_confirm_hdr *h, uint32_t outcome,
			const char *msg)
{
	struct xw_confirm_log l;
	struct xw_err err;

	memset(&l, 0, sizeof(l));
	l.outcome = outcome;
	l.when_real_ms = xw_confirm_now_real_ms();
	l.rules = live_rules(dp, &l.generation);
	snprintf(l.file, sizeof(l.file), "%s", h->file);
	snprintf(l.msg, sizeof(l.msg), "%s", msg ? msg : "");
	if (xw_confirm_log_put(&l, &err))
		syslog(LOG_WARNING, "%s", err.msg);
}

/* Put the saved rule set back (dp open and locked) and end the
 * confirmation: outcome XW_CONFIRM_RESTORED or XW_CONFIRM_REVERTED.  The
 * record is dropped either way (a failure is logged: the rule set applied
 * with --confirm then stays).  Returns 0 or the exit code, err set. */
static int restore(struct xw_dp *dp, const struct xw_confirm_hdr *h, const char *text,
		   uint32_t outcome, struct xw_err *err)
{
	struct xw_ruleset rs;
	struct xw_err e2;
	int rc;

	rc = xw_parse_text(text, strlen(text), "<saved rule set>", &rs, err) ? XW_ESYS : 0;
	if (!rc) {
		rc = xw_dp_apply(dp, &rs, err);
		xw_ruleset_free(&rs);
	}
	xw_confirm_drop(&e2);
	if (rc) {
		syslog(LOG_ERR, "restoring the rule set from before `apply --confirm %s` FAILED, "
		       "that rule set stays: %s", h->file, err->msg);
		log_outcome(dp, h, XW_CONFIRM_FAILED, err->msg);
		return rc;
	}
	log_outcome(dp, h, outcome, NULL);
	syslog(outcome == XW_CONFIRM_RESTORED ? LOG_WARNING : LOG_NOTICE,
	       "%s the rule set from before `apply --confirm` of %s (%u rules)%s",
	       outcome == XW_CONFIRM_RESTORED ? "restored" : "reverted to", h->file, h->old_rules,
	       outcome == XW_CONFIRM_RESTORED ? ": not confirmed in time" : " on request");
	return 0;
}

/* A record whose deadline has passed is restored by whoever holds the lock
 * first.  Returns 0, or the exit code of a failed restore; *done says one
 * happened. */
static int settle(struct xw_dp *dp, bool *done)
{
	struct xw_confirm_hdr h;
	struct xw_err err = { "" };
	char *text = NULL, when[64];
	int found = xw_confirm_get(dp, &h, &text, &err);

	*done = false;
	if (found < 0)
		return xw_fail(-found, &err);
	if (!found || xw_confirm_now_boot_ms() < h.deadline_boot_ms) {
		free(text);
		return 0;
	}
	*done = true;
	fmt_time(h.deadline_real_ms, when, sizeof(when));
	found = restore(dp, &h, text, XW_CONFIRM_RESTORED, &err);
	free(text);
	if (found)
		return xw_failf(found, "the confirmation of %s ran out at %s; restoring the previous "
				"rule set failed, the new one stays: %s", h.file, when, err.msg);
	fprintf(stderr, "xwall: %s was not confirmed by %s: restored the previous rule set (%u rules)\n",
		h.file, when, h.old_rules);
	return 0;
}

int xw_confirm_guard(struct xw_dp *dp, bool confirming)
{
	struct xw_confirm_hdr h;
	struct xw_err err = { "" };
	char when[64];
	bool done;
	int rc = settle(dp, &done), found;

	if (rc)
		return rc;
	found = xw_confirm_get(dp, &h, NULL, &err);
	if (found < 0)
		return xw_fail(-found, &err);
	if (!found)
		return 0;
	fmt_time(h.deadline_real_ms, when, sizeof(when));
	if (confirming)
		return xw_failf(XW_EINPUT, "another apply --confirm is pending (%s, until %s, %llds left), "
				"one at a time: `xwall confirm` keeps it, `xwall confirm --rollback` "
				"restores the rule set from before it", h.file, when, secs_left(&h));
	return xw_failf(XW_EINPUT, "the rule set applied with --confirm (%s) is waiting for confirmation "
			"until %s (%llds left); change rules after `xwall confirm` (keeps it) or "
			"`xwall confirm --rollback` (restores the previous one)", h.file, when, secs_left(&h));
}

/* Start the timer; its pid, or 0 with err set. */
static pid_t spawn_timer(uint64_t nonce, struct xw_err *err)
{
	int fds[2];
	pid_t c1, got = 0;
	int e = 0, st;
	ssize_t r;

	if (pipe2(fds, O_CLOEXEC))
		return xw_errf(err, XW_ESYS, "pipe: %s", strerror(errno)), 0;
	fflush(NULL);
	c1 = fork();
	if (c1 < 0) {
		e = errno;
		close(fds[0]);
		close(fds[1]);
		return xw_errf(err, XW_ESYS, "fork: %s", strerror(e)), 0;
	}
	if (c1 == 0) {
		pid_t c2;
		char arg[32];
		sigset_t none;

		close(fds[0]);
		/* a session of its own: no controlling terminal, out of the
		 * terminal's process group, so a hangup or ^C never reaches it */
		setsid();
		c2 = fork();
		if (c2 != 0) {
			(void)!write(fds[1], &c2, sizeof(c2));
			_exit(c2 < 0);
		}
		signal(SIGHUP, SIG_IGN);
		signal(SIGINT, SIG_IGN);
		signal(SIGPIPE, SIG_IGN);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (chdir("/"))
			_exit(127);
		int nul = open("/dev/null", O_RDWR);

		if (nul >= 0) {
			dup2(nul, 0);
			dup2(nul, 1);
			dup2(nul, 2);
			if (nul > 2)
				close(nul);
		}
		/* nothing else of ours goes along (the lock above all) */
		if (syscall(SYS_close_range, 3u, ~0u, 4u /* CLOSE_RANGE_CLOEXEC */))
			for (int fd = 3; fd < 1024; fd++)
				if (fd != fds[1])
					close(fd);
		fcntl(fds[1], F_SETFD, FD_CLOEXEC);
		snprintf(arg, sizeof(arg), "%016" PRIx64, nonce);
		execl("/proc/self/exe", "xwall", TIMER_CMD, arg, (char *)NULL);
		e = errno;
		(void)!write(fds[1], &e, sizeof(e));
		_exit(127);
	}
	close(fds[1]);
	r = read(fds[0], &got, sizeof(got));
	if (r == sizeof(got) && got > 0 && read(fds[0], &e, sizeof(e)) == sizeof(e) && e)
		got = 0;          /* exec failed: e says why */
	else if (r != sizeof(got) || got <= 0)
		e = e ? e : ECHILD;
	close(fds[0]);
	waitpid(c1, &st, 0);
	if (!got || got < 0)
		return xw_errf(err, XW_ESYS, "start the confirmation timer: %s", strerror(e ? e : ECHILD)), 0;
	return got;
}

int xw_confirm_apply(struct xw_dp *dp, const struct xw_ruleset *rs, const char *file, uint64_t ms)
{
	struct xw_confirm_hdr h;
	struct xw_ruleset old;
	struct xw_err err = { "" }, e2;
	char *text, when[64];
	uint64_t gen;
	pid_t pid;
	int rc = xw_confirm_guard(dp, true);

	if (rc)
		return rc;
	rc = xw_dp_read_rules(dp, &old, NULL, NULL, &err);
	if (rc)
		return xw_fail(rc, &err);
	text = xw_ruleset_format(&old);
	memset(&h, 0, sizeof(h));
	h.old_rules = (uint32_t)old.n;
	xw_ruleset_free(&old);
	if (!text)
		return xw_failf(XW_ESYS, "out of memory");
	h.new_rules = (uint32_t)rs->n;
	h.cfg_map_id = xw_confirm_dp_id(dp);
	h.timeout_ms = ms;
	h.applied_real_ms = xw_confirm_now_real_ms();
	h.deadline_real_ms = h.applied_real_ms + (int64_t)ms;
	h.deadline_boot_ms = xw_confirm_now_boot_ms() + (int64_t)ms;
	snprintf(h.file, sizeof(h.file), "%s", strcmp(file, "-") ? file : "<stdin>");
	if (getrandom(&h.nonce, sizeof(h.nonce), 0) != sizeof(h.nonce))
		h.nonce = (uint64_t)h.applied_real_ms ^ ((uint64_t)getpid() << 32);
	pid = spawn_timer(h.nonce, &err);
	if (!pid) {
		free(text);
		return xw_fail(XW_ESYS, &err);
	}
	h.timer_pid = (uint32_t)pid;
	h.timer_start = xw_confirm_proc_start((uint32_t)pid);
	rc = xw_confirm_put(&h, text, &err);
	free(text);
	if (rc)
		return xw_fail(rc, &err);   /* the timer finds no record and exits */
	rc = xw_dp_apply(dp, rs, &err);
	if (rc) {
		xw_confirm_drop(&e2);
		return xw_fail(rc, &err);
	}
	live_rules(dp, &gen);
	fmt_time(h.deadline_real_ms, when, sizeof(when));
	printf("applied %s: %u rules, generation %" PRIu64 "\n", h.file, h.new_rules, gen);
	printf("run `xwall confirm` by %s (in %llus) to keep it, best from a new session (a new "
	       "connection proves more than one that survived); otherwise the previous rule set "
	       "(%u rules) comes back then.  `xwall confirm --rollback` restores it now.\n",
	       when, (unsigned long long)((ms + 999) / 1000), h.old_rules);
	return 0;
}

int cmd_confirm(int argc, char **argv)
{
	struct xw_confirm_hdr h;
	struct xw_confirm_log l;
	struct xw_err err = { "" };
	struct xw_dp dp;
	bool rollback = false, loaded, done;
	char *text = NULL, when[64];
	uint64_t gen;
	int c, rc, found;

	while ((c = xw_getopt("confirm", argc, argv)) != -1) {
		if (c != 'R')
			return xw_usage("confirm", XW_EINPUT);
		rollback = true;
	}
	if (optind != argc)
		return xw_usage("confirm", XW_EINPUT);
	rc = xw_open_loaded(&dp, &loaded);
	if (rc)
		return rc;
	if (!loaded) {
		xw_dp_close(&dp);
		return xw_failf(XW_EINPUT, "nothing to confirm: xwall is not loaded");
	}
	rc = settle(&dp, &done);
	if (rc || done) {
		/* too late: settle restored the previous rule set and said so */
		xw_dp_close(&dp);
		return rc ? rc : XW_EINPUT;
	}
	found = xw_confirm_get(&dp, &h, &text, &err);
	if (found < 0) {
		xw_dp_close(&dp);
		return xw_fail(-found, &err);
	}
	if (!found) {
		found = xw_confirm_log_get(&l);
		xw_dp_close(&dp);
		if (found && l.outcome != XW_CONFIRM_KEPT) {
			fmt_time(l.when_real_ms, when, sizeof(when));
			return xw_failf(XW_EINPUT, "nothing to confirm: the last apply --confirm (%s) ended "
					"at %s: %s", l.file, when, l.outcome == XW_CONFIRM_FAILED ?
					"restoring the previous rule set failed" : "the previous rule set was restored");
		}
		return xw_failf(XW_EINPUT, "nothing to confirm: no rule set applied with --confirm is pending");
	}
	if (rollback) {
		rc = restore(&dp, &h, text, XW_CONFIRM_REVERTED, &err);
		free(text);
		if (rc) {
			xw_dp_close(&dp);
			return xw_fail(rc, &err);
		}
		live_rules(&dp, &gen);
		printf("restored the rule set from before %s: %u rules, generation %" PRIu64 "\n", h.file,
		       h.old_rules, gen);
		xw_dp_close(&dp);
		return 0;
	}
	free(text);
	rc = xw_confirm_drop(&err);
	if (!rc) {
		log_outcome(&dp, &h, XW_CONFIRM_KEPT, NULL);
		syslog(LOG_NOTICE, "confirmed the rule set applied with --confirm from %s", h.file);
		live_rules(&dp, &gen);
		printf("confirmed: keeping %s (%u rules, generation %" PRIu64 ")\n", h.file, h.new_rules, gen);
	}
	xw_dp_close(&dp);
	return rc ? xw_fail(rc, &err) : 0;
}

/* Sleep ms on CLOCK_BOOTTIME (time suspended counts). */
static void nap(int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };

	if (clock_nanosleep(CLOCK_BOOTTIME, 0, &ts, NULL) == EINVAL)
		nanosleep(&ts, NULL);
}

/* Lock and open the loaded datapath; false if it is not loaded (any more). */
static bool timer_open(struct xw_dp *dp)
{
	struct xw_err err;

	xw_dp_init(dp);
	if (access(XW_PIN_DIR, F_OK))
		return false;      /* unloaded: do not create the directory */
	if (xw_dp_lock(dp, &err)) {
		syslog(LOG_ERR, "confirmation timer: %s", err.msg);
		return false;
	}
	if (!xw_dp_is_loaded() || xw_dp_open(dp, false, &err)) {
		xw_dp_close(dp);
		return false;
	}
	return true;
}

int xw_confirm_timer_main(int argc, char **argv)
{
	struct xw_confirm_hdr h;
	struct xw_err err = { "" };
	struct xw_dp dp;
	uint64_t nonce;
	char *e, *text = NULL;
	int found;

	if (argc != 2)   /* __confirm-timer NONCE */
		return XW_EINPUT;
	nonce = strtoull(argv[1], &e, 16);
	if (*e || !*argv[1])
		return XW_EINPUT;
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	openlog("xwall", LOG_PID, LOG_DAEMON);
	/* the lock comes free when apply has finished (or died): only then
	 * is it known whether there is anything to wait for */
	if (!timer_open(&dp))
		return 0;
	found = xw_confirm_get(&dp, &h, NULL, &err);
	xw_dp_close(&dp);
	if (found <= 0 || h.nonce != nonce)
		return 0;
	for (;;) {
		struct xw_confirm_hdr now;
		int64_t left = h.deadline_boot_ms - xw_confirm_now_boot_ms();

		if (left <= 0)
			break;
		nap(left < 1000 ? left : 1000);
		if (!xw_confirm_peek(&now) || now.nonce != nonce)
			return 0;     /* confirmed, rolled back or unloaded */
	}
	if (!timer_open(&dp))
		return 0;
	found = xw_confirm_get(&dp, &h, &text, &err);
	if (found > 0 && h.nonce == nonce)
		restore(&dp, &h, text, XW_CONFIRM_RESTORED, &err);
	else if (found < 0)
		syslog(LOG_ERR, "confirmation timer: %s", err.msg);
	free(text);
	xw_dp_close(&dp);
	return 0;
}

bool xw_confirm_is_timer(const char *cmd)
{
	return !strcmp(cmd, TIMER_CMD);
}

int xw_confirm_parse_secs(const char *arg, uint64_t *ms)
{
	if (xw_confirm_parse_timeout(arg, ms))
		return xw_failf(XW_EINPUT, "--confirm: expected seconds from 1 to %llu (or a duration "
				"like 90s, 5m, 1h), got '%s'", XW_CONFIRM_MAX_MS / 1000, arg);
	return 0;
}

void xw_confirm_status(struct xw_dp *dp, void *json)
{
	struct xw_confirm_hdr h;
	struct xw_confirm_log l;
	struct xw_err err;
	char when[64], iso[40];
	int found = xw_confirm_get(dp, &h, NULL, &err) > 0;
	bool alive = found && xw_confirm_proc_alive(h.timer_pid, h.timer_start);
	int have_log = xw_confirm_log_get(&l);

	if (json) {
		json_object *o = json, *c = json_object_new_object();

		json_object_object_add(c, "pending", json_object_new_boolean(found));
		if (found) {
			fmt_iso(h.deadline_real_ms, iso, sizeof(iso));
			json_object_object_add(c, "file", json_object_new_string(h.file));
			json_object_object_add(c, "deadline", json_object_new_string(iso));
			json_object_object_add(c, "seconds_left", json_object_new_int64(secs_left(&h)));
			json_object_object_add(c, "timeout_s", json_object_new_int64((int64_t)(h.timeout_ms / 1000)));
			json_object_object_add(c, "previous_rules", json_object_new_int64(h.old_rules));
			json_object_object_add(c, "timer_pid", json_object_new_int64(h.timer_pid));
			json_object_object_add(c, "timer_alive", json_object_new_boolean(alive));
		}
		json_object_object_add(o, "confirm", c);
		if (have_log) {
			json_object *g = json_object_new_object();

			fmt_iso(l.when_real_ms, iso, sizeof(iso));
			json_object_object_add(g, "outcome", json_object_new_string(xw_confirm_outcome_name(l.outcome)));
			json_object_object_add(g, "time", json_object_new_string(iso));
			json_object_object_add(g, "file", json_object_new_string(l.file));
			json_object_object_add(g, "rules", json_object_new_int64(l.rules));
			json_object_object_add(g, "generation", json_object_new_int64((int64_t)l.generation));
			json_object_object_add(g, "error", l.outcome == XW_CONFIRM_FAILED ?
					       json_object_new_string(l.msg) : NULL);
			json_object_object_add(o, "last_confirm", g);
		} else {
			json_object_object_add(o, "last_confirm", NULL);
		}
		return;
	}
	if (found) {
		fmt_time(h.deadline_real_ms, when, sizeof(when));
		printf("confirm: pending until %s (%llds left): `xwall confirm` keeps %s, otherwise the "
		       "previous rule set (%u rules) comes back", when, secs_left(&h), h.file, h.old_rules);
		if (alive)
			printf(" (timer pid %u)\n", h.timer_pid);
		else
			printf("; its timer (pid %u) is gone: the next xwall command that changes rules "
			       "after the deadline restores it\n", h.timer_pid);
	}
	if (have_log) {
		fmt_time(l.when_real_ms, when, sizeof(when));
		switch (l.outcome) {
		case XW_CONFIRM_KEPT:
			printf("last confirm: %s kept (confirmed at %s)\n", l.file, when);
			break;
		case XW_CONFIRM_RESTORED:
			printf("last confirm: %s not confirmed in time: previous rule set restored at %s "
			       "(%u rules, generation %" PRIu64 ")\n", l.file, when, l.rules, l.generation);
			break;
		case XW_CONFIRM_REVERTED:
			printf("last confirm: %s rolled back at %s (confirm --rollback): %u rules, "
			       "generation %" PRIu64 "\n", l.file, when, l.rules, l.generation);
			break;
		default:
			printf("last confirm: %s not confirmed in time, and restoring the previous rule set "
			       "FAILED at %s: %s\n", l.file, when, l.msg);
			break;
		}
	}
}
