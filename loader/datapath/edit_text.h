// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The live rule text as `rule add|del` reads it: the whole apply's text
 * (base) and the changes since (edit.h: XW_EDITS_MARK). */
#ifndef XW_EDIT_TEXT_H
#define XW_EDIT_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include "datapath.h"

struct xw_live_text {
	const char *raw;        /* slot g of xw_text: base itself, or the changes */
	const char *base;       /* the apply's whole text */
	const char *ops;        /* the changes' lines (after the mark); "" none */
	const char *body;       /* base past its "#slots" line */
	const char *rules;      /* base's first rule line (or its end) */
	const char *end;        /* base's end (its NUL) */
	__u32 base_slot;        /* the xw_text slot base is in */
	size_t raw_map, base_map;
	char *raw_copy, *base_copy;
	size_t nbase;           /* rules of base */
	uint32_t n_ops, n_adds; /* changes; of them adds */
	uint8_t *used;          /* counter slots base or a change gave */
};

/* Generation g's text.  Returns 0, XW_EDIT_FULL (not a text this can
 * read in part), or XW_ESYS with err set. */
int xw_live_text_open(struct xw_dp *dp, __u32 g, struct xw_live_text *t, struct xw_err *err);
void xw_live_text_close(struct xw_live_text *t);
/* The line of rule prio as the changes leave it (*len bytes, no newline),
 * NULL if there is no such rule. */
const char *xw_live_text_rule(const struct xw_live_text *t, uint32_t prio, uint32_t *len);

#endif
