// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* `rule add` and `rule del` as a change of the live generation, not a
 * whole apply (docs/classifier.md, "Changing one rule"). */
#ifndef XW_EDIT_H
#define XW_EDIT_H

#include <stdint.h>
#include "datapath.h"
#include "rule.h"

/* Not done, nothing changed: the caller applies the whole rule set (a rule
 * with a limit, a set or `ct`; an overlay grown past XW_EDIT_MAX_OVER
 * entries; a generation written by a whole apply that kept no room). */
#define XW_EDIT_FULL (-1)

/* Entries the overlay tree holds before a change falls back to a whole
 * apply (which folds them into the other trees). */
#define XW_EDIT_MAX_OVER 4096u

/* The rule text of a generation changed by `rule add|del` since the last
 * apply is this mark and one line per change, in order: "-PRIO" (deleted)
 * or "+SLOT rule PRIO ..." (added, with its counter slot), to be made to
 * the text in the generation's base slot (xdp/xw_maps.h: xw_text). */
#define XW_EDITS_MARK "#edits\n"
/* Changes a text takes before the next is a whole apply. */
#define XW_EDIT_MAX_OPS 4096u

/* The whole text: base ("#slots ..." and rule lines) with edits (starting
 * with XW_EDITS_MARK) made; malloc'd, NULL if they do not fit together. */
char *xw_edits_merge(const char *base, const char *edits);

/* Add rule r (r != NULL) or delete the rule of priority del_prio, by a new
 * generation made from the live one, switched to as apply does.  Returns
 * 0, XW_EDIT_FULL, or XW_EINPUT / XW_ESYS with err set (the rule exists,
 * no such rule; the system refused). */
int xw_dp_edit(struct xw_dp *dp, const struct xw_rule *r, uint32_t del_prio, struct xw_err *err);

#endif
