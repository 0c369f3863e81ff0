// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Comparing one frame's result from the real datapath (BPF_PROG_TEST_RUN,
 * loader/datapath.h) with the reference classifier's (refclass.h): the rule
 * the differential tests and the XDP fuzz harness (tests/fuzz/fuzz_xdp.c)
 * apply to every frame.  No BPF or pcap header here, so a test that reads
 * pcaps can include it too. */
#ifndef XW_DPCHECK_H
#define XW_DPCHECK_H

#include <stdint.h>

#include "datapath.h"
#include "refclass.h"

/* A frame the XDP program ran (14 bytes or more, seen whole): NULL when the
 * datapath agrees with the reference on verdict, matching rule priority
 * (XW_PRIO_NONE for the policy), reason, malformed / short flag and XDP
 * action; else the first field that differs ("verdict", "rule", "reason",
 * "malformed flag", "XDP action"). */
const char *xw_dpcheck_run(const struct xw_ref_result *ref, const struct xw_test_result *got);

/* A frame shorter than an Ethernet header, which BPF_PROG_TEST_RUN refuses:
 * the datapath's defined answer is the policy of `dir`, reason short, not
 * malformed.  NULL when the reference says so, else "short frame". */
const char *xw_dpcheck_short(const struct xw_ref_result *ref, const uint8_t policy[2],
			     uint8_t dir);

#endif
