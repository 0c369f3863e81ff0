// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* See dpcheck.h. */
#include <linux/bpf.h>

#include "dpcheck.h"
#include "xwall.h"

const char *xw_dpcheck_run(const struct xw_ref_result *ref, const struct xw_test_result *got)
{
	int want_mal = ref->short_frame ? 2 : ref->malformed ? 1 : 0;
	uint32_t want_act = XW_VERDICT_PASSES(ref->verdict) ? XDP_PASS : XDP_DROP;

	if (got->verdict != ref->verdict)
		return "verdict";
	if (got->prio != ref->prio)
		return "rule";
	if (got->reason != ref->reason)
		return "reason";
	if (got->malformed != want_mal)
		return "malformed flag";
	/* reject: answered (XDP_TX) unless the packet must not be */
	if (got->retval != want_act && !(ref->verdict == XW_REJECT && got->retval == XDP_TX))
		return "XDP action";
	return NULL;
}

const char *xw_dpcheck_short(const struct xw_ref_result *ref, const uint8_t policy[2],
			     uint8_t dir)
{
	if (!ref->short_frame || ref->verdict != policy[dir] || ref->prio != XW_PRIO_NONE ||
	    ref->reason != XW_REASON_SHORT || ref->malformed)
		return "short frame";
	return NULL;
}
