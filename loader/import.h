// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Import of nftables and iptables rule sets into xwall rule text.
 *
 * Both front ends (import_nft.c: nft text and `nft -j` JSON;
 * import_iptables.c: iptables-save) cut each rule into tokens in nft's
 * statement syntax ("tcp dport { 22, 80 } accept"), each with its source
 * position; import.c translates the statements into an xwall match set,
 * inlines jumps, merges log-only rules with the rule that follows, and prints
 * the rule file.  What xwall cannot express exactly is an error naming the
 * position and the construct, never dropped.
 */
#ifndef XW_IMPORT_H
#define XW_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include "rule.h"

enum imp_hook { IMP_HOOK_NONE, IMP_HOOK_IN, IMP_HOOK_FWD, IMP_HOOK_PRE, IMP_HOOK_INGRESS,
		IMP_HOOK_OUT, IMP_HOOK_POST, IMP_HOOK_OTHER };
enum imp_family { IMP_FAM_INET, IMP_FAM_IP, IMP_FAM_IP6, IMP_FAM_NETDEV, IMP_FAM_OTHER };
enum imp_verdict { IMP_V_NONE, IMP_V_ACCEPT, IMP_V_DROP, IMP_V_JUMP, IMP_V_RETURN };

struct imp_tok {
	char *s;
	int line, col;
	bool quoted;
};

/* One rule as parsed: tokens, later its translation. */
struct imp_rule {
	int line, col;             /* where the rule starts (for messages) */
	struct imp_tok *t;
	size_t nt;
	/* translation (import.c) */
	int fam;                   /* 0 any, 4, 6 */
	char *f[16];               /* xwall match text per field (IMP_F_*) */
	int fline[16], fcol[16];
	bool log;
	int verdict;               /* enum imp_verdict */
	char *target;              /* IMP_V_JUMP */
};

struct imp_chain {
	char *table, *name;
	int family;                /* enum imp_family */
	int line;
	bool base;
	char *type;                /* filter, nat, route */
	int hook;                  /* enum imp_hook */
	int policy;                /* -1 none (accept), IMP_V_ACCEPT, IMP_V_DROP */
	struct imp_rule *r;
	size_t nr;
};

struct imp_set {                   /* a named set with constant elements */
	char *table, *name;
	int family;
	struct imp_tok *el;
	size_t nel;
	bool dynamic;              /* flags timeout/dynamic: contents change */
	int line;
};

struct imp_ruleset {
	const char *fname;
	struct imp_chain *c;
	size_t nc;
	struct imp_set *s;
	size_t ns;
	bool json;                 /* positions are JSON rule numbers */
	const char *only;          /* "A,B": import these base chains only (NULL: all) */
};

void imp_ruleset_free(struct imp_ruleset *rs);
struct imp_chain *imp_chain_add(struct imp_ruleset *rs, const char *table, const char *name,
				int family, int line);
struct imp_chain *imp_chain_find(struct imp_ruleset *rs, const char *table, int family,
				 const char *name);
struct imp_rule *imp_rule_add(struct imp_chain *c, int line, int col);
int imp_tok_add(struct imp_rule *r, const char *s, size_t len, int line, int col, bool quoted);

/* Front ends: fill rs from text; -1 with err ("FILE:LINE:COL: ..."). */
int imp_nft_parse(const char *text, size_t len, const char *fname, struct imp_ruleset *rs,
		  struct xw_err *err);
int imp_iptables_parse(const char *text, size_t len, const char *fname, struct imp_ruleset *rs,
		       struct xw_err *err);

/* Translate to an xwall rule file (malloc'd text, which xw_parse_text
 * accepts); NULL with err. */
char *imp_translate(struct imp_ruleset *rs, struct xw_err *err);

/* Whole imports: text of an nft ruleset (text or JSON, told apart by the
 * first character) or of an iptables-save dump -> xwall rule file.  only:
 * a comma list of the base chains to import (the others are listed in a
 * comment), or NULL for all. */
char *xw_import_nft(const char *text, size_t len, const char *fname, const char *only,
		    struct xw_err *err);
char *xw_import_iptables(const char *text, size_t len, const char *fname, const char *only,
			 struct xw_err *err);

#endif
