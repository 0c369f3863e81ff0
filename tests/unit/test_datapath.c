/* Unit tests of the loader's datapath state handling through the real
 * programs (BPF_PROG_TEST_RUN on a private, unattached instance): what a
 * counter slot carries from one rule to the next. */
#include <check.h>
#include <string.h>
#include <unistd.h>

#include "datapath.h"
#include "pktbuild.h"

static int have_bpf(void)
{
	return geteuid() == 0;
}

static void apply_text(struct xw_dp *dp, const char *text)
{
	struct xw_ruleset rs;
	struct xw_err err;

	ck_assert_msg(xw_parse_text(text, strlen(text), "t", &rs, &err) == 0, "%s", err.msg);
	ck_assert_msg(xw_dp_apply(dp, &rs, &err) == 0, "%s", err.msg);
	xw_ruleset_free(&rs);
}

/* One IPv4 UDP frame from 192.0.2.7. */
static size_t udp_frame(uint8_t *buf)
{
	struct xw_pb_spec s;

	memset(&s, 0, sizeof(s));
	s.vlan = -1;
	s.eth_type = 0x0800;
	s.l3 = XW_PB_L3_V4;
	memcpy(s.src, (uint8_t[]){ 192, 0, 2, 7 }, 4);
	memcpy(s.dst, (uint8_t[]){ 198, 51, 100, 1 }, 4);
	s.proto = 17;
	s.l4 = 1;
	s.sport = 5000;
	s.dport = 53;
	return xw_pb_build(&s, buf, XW_PB_MAX);
}

static uint32_t run(struct xw_dp *dp, const uint8_t *f, size_t len)
{
	struct xw_test_result r;
	struct xw_err err;

	ck_assert_msg(xw_dp_test_run(dp, f, len, &r, &err) == 0, "%s", err.msg);
	return r.prio;
}

/* A `per src` bucket belongs to the rule that emptied it: a later rule that
 * is given the same counter slot starts with full buckets. */
START_TEST(test_src_buckets_follow_the_rule)
{
	struct xw_dp dp;
	struct xw_err err;
	uint8_t f[XW_PB_MAX];
	size_t len = udp_frame(f);

	if (!have_bpf())
		ck_abort_msg("needs root (BPF_PROG_TEST_RUN)");
	ck_assert(len > 0);
	ck_assert_msg(xw_dp_load_private(&dp, &err) == 0, "%s", err.msg);
	/* slot 0: the second frame within a second is over the limit */
	apply_text(&dp, "rule 1 in udp limit over 1/m burst 1 per src drop\n");
	ck_assert_uint_eq(run(&dp, f, len), XW_PRIO_NONE);
	ck_assert_uint_eq(run(&dp, f, len), 1);
	/* rule 1 goes; its slot is free again one apply later */
	apply_text(&dp, "rule 2 in tcp pass\n");
	apply_text(&dp, "rule 3 in udp limit over 1/m burst 1 per src drop\n");
	/* rule 3 (on slot 0 again) has not seen this source yet */
	ck_assert_uint_eq(run(&dp, f, len), XW_PRIO_NONE);
	ck_assert_uint_eq(run(&dp, f, len), 3);
	/* and a rule that stays keeps its buckets across an apply */
	apply_text(&dp, "rule 3 in udp limit over 1/m burst 1 per src drop\nrule 4 in tcp pass\n");
	ck_assert_uint_eq(run(&dp, f, len), 3);
	xw_dp_close(&dp);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("datapath");
	TCase *t = tcase_create("datapath");

	tcase_set_timeout(t, 60);
	tcase_add_test(t, test_src_buckets_follow_the_rule);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
