// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* test --pcap: every packet through the real XDP program (BPF_PROG_TEST_RUN). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pcap/pcap.h>
#include <json-c/json.h>
#include "ctl.h"

/* BPF_PROG_TEST_RUN refuses frames shorter than an Ethernet header; the
 * datapath's answer for those is fixed: the policy, reason "short". */
#define XW_MIN_RUN 14

static const char *reason_of(const struct xw_test_result *r)
{
	if (r->prio != XW_PRIO_NONE)
		return "rule";
	if (r->reason == XW_REASON_TAILCALL)
		return "tail_call";
	if (r->malformed == 2)
		return "short";
	if (r->malformed == 1)
		return "malformed";
	return "policy";
}

int cmd_test(int argc, char **argv)
{
	const char *pcap_path = NULL, *rules = NULL;
	char ebuf[PCAP_ERRBUF_SIZE];
	struct xw_ruleset rs;
	struct xw_dp dp;
	struct xw_err err;
	struct pcap_pkthdr *h;
	const u_char *data;
	bool json = false;
	uint64_t idx = 0, npass = 0, ndrop = 0, ntrunc = 0, ncut = 0;
	pcap_t *pc;
	int c, rc;

	while ((c = xw_getopt("test", argc, argv)) != -1) {
		switch (c) {
		case 'p': pcap_path = optarg; break;
		case 'r': rules = optarg; break;
		case 'j': json = true; break;
		default: return xw_usage("test", XW_EINPUT);
		}
	}
	if (!pcap_path || optind != argc)
		return xw_usage("test", XW_EINPUT);
	pc = pcap_open_offline(pcap_path, ebuf);
	if (!pc)
		return xw_failf(XW_EINPUT, "%s", ebuf);   /* libpcap names the file */
	if (pcap_datalink(pc) != DLT_EN10MB) {
		pcap_close(pc);
		return xw_failf(XW_EINPUT, "%s: link type %s, xwall needs Ethernet", pcap_path,
				pcap_datalink_val_to_name(pcap_datalink(pc)));
	}
	xw_ruleset_init(&rs);
	if (rules) {
		rc = xw_load_rules(rules, &rs);
		if (!rc && !xw_privileged()) {
			rc = xw_privilege_err(&err, "test --rules (loads a private datapath)");
			xw_fail(rc, &err);
		}
		if (!rc && (rc = xw_dp_load_private(&dp, &err)) != 0)
			xw_fail(rc, &err);
		if (!rc && (rc = xw_dp_apply(&dp, &rs, &err)) != 0) {
			xw_fail(rc, &err);
			xw_dp_close(&dp);
		}
	} else {
		rc = xw_open(&dp, false);
		/* the live datapath: probe frames, which change no state there */
		dp.probe = true;
		if (!rc && (rc = xw_dp_read_rules(&dp, &rs, NULL, NULL, &err)) != 0) {
			xw_fail(rc, &err);
			xw_dp_close(&dp);
		}
	}
	if (rc) {
		xw_ruleset_free(&rs);
		pcap_close(pc);
		return rc;
	}
	while ((rc = pcap_next_ex(pc, &h, &data)) == 1) {
		struct xw_test_result r = { .prio = XW_PRIO_NONE };

		if (h->caplen < XW_MIN_RUN) {
			r.verdict = rs.policy[XW_DIR_IN];
			r.malformed = 2;
			r.reason = XW_REASON_POLICY;
		} else if (xw_dp_test_run(&dp, data, h->caplen, &r, &err)) {
			rc = xw_fail(XW_ESYS, &err);
			break;
		}
		if (h->caplen >= XW_MIN_RUN && r.seen_len < h->caplen) {
			fprintf(stderr, "xwall: packet %llu: %u bytes, of which BPF_PROG_TEST_RUN shows "
				"the program only %u: its verdict may differ from the real datapath's\n",
				(unsigned long long)idx, h->caplen, r.seen_len);
			ntrunc++;
		}
		/* the capture kept only caplen of len bytes (snaplen): the verdict
		 * is for the bytes kept, which may lack the headers a rule needs */
		if (h->caplen < h->len)
			ncut++;
		if (r.verdict == XW_PASS)
			npass++;
		else
			ndrop++;
		if (json) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "index", json_object_new_int64((int64_t)idx));
			json_object_object_add(o, "verdict", json_object_new_string(xw_verdict_name(r.verdict)));
			json_object_object_add(o, "rule", r.prio == XW_PRIO_NONE ? NULL : json_object_new_int64(r.prio));
			json_object_object_add(o, "reason", json_object_new_string(reason_of(&r)));
			if (h->caplen >= XW_MIN_RUN && r.seen_len < h->caplen)
				json_object_object_add(o, "truncated", json_object_new_boolean(1));
			if (h->caplen < h->len)
				json_object_object_add(o, "capture_truncated", json_object_new_boolean(1));
			printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
			json_object_put(o);
		} else {
			char rule[32] = "-";

			if (r.prio != XW_PRIO_NONE)
				snprintf(rule, sizeof(rule), "%u", r.prio);
			printf("%-6llu %-4s rule %-8s %s\n", (unsigned long long)idx,
			       xw_verdict_name(r.verdict), rule, reason_of(&r));
		}
		idx++;
	}
	if (rc == -1) {
		xw_failf(XW_EINPUT, "%s: %s", pcap_path, pcap_geterr(pc));
		rc = XW_EINPUT;
	} else if (rc == -2) {
		rc = 0;
	}
	if (ncut && rc >= 0)
		fprintf(stderr, "xwall: warning: %s: %llu of %llu packets were truncated by the "
			"capture (captured fewer bytes than were on the wire, snaplen %d): their "
			"verdicts are for the captured bytes only\n", pcap_path,
			(unsigned long long)ncut, (unsigned long long)idx, pcap_snapshot(pc));
	if (!json && !rc)
		printf("%llu packets: %llu pass, %llu drop%s\n", (unsigned long long)idx,
		       (unsigned long long)npass, (unsigned long long)ndrop,
		       ntrunc ? " (some larger than BPF_PROG_TEST_RUN shows; see above)" : "");
	xw_ruleset_free(&rs);
	xw_dp_close(&dp);
	pcap_close(pc);
	return rc;
}
