// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Rule files with `include "PATH"` and `define NAME = VALUE` lines. */
#ifndef XW_RULE_INCLUDE_H
#define XW_RULE_INCLUDE_H

#include <stddef.h>
#include "rule.h"

/* Like xw_parse_text, and follows include lines (relative to the directory
 * of fname, or the working directory for "<stdin>") and replaces $NAMEs;
 * messages name the file and line where the problem is. */
int xw_parse_tree(const char *text, size_t len, const char *fname, struct xw_ruleset *rs,
		  struct xw_err *err);

#endif
