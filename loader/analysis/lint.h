// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Static analysis of a rule set (`xwall lint`): shadowed, redundant,
 * correlated and never-matching rules, decided exactly over the packet key
 * space of the datapath.
 *
 * Each rule's match set is the union of the (mask, key) cubes xw_compile
 * gives it, over the 512 bits of struct xw_key.  Sets are kept as reduced
 * ordered binary decision diagrams, so unions of any number of rules are
 * exact (a rule covered only by several earlier rules together is found)
 * and every "is this region empty" question has an exact answer.  All sets
 * are intersected with the keys the parser can produce (presence bits that
 * go together, EtherType of IPv4/IPv6, the protocol of each L4 header,
 * connection state only for tracked packets, ...), so "never fires" means
 * no real packet, not merely no 64-byte pattern.
 *
 * Classes (Al-Shaer and Hamed, extended to sets as Acharya and Gouda argue):
 *   never-matches  no packet has all the rule's matches
 *   shadowed       every packet of the rule is decided by earlier rules, and
 *                  some of them get another verdict (it never fires; likely
 *                  a mistake); `by`: the earlier rules that decide them
 *   redundant      every packet of the rule is decided by earlier rules with
 *                  its verdict (it never fires; can be removed); or
 *                  (later = 1) the rule fires, but without it its packets
 *                  get the same verdict from later rules or the policy, and
 *                  no rule with another verdict comes in between (never for
 *                  rules with `log`, which do something more than decide)
 *   correlated     an earlier rule with another verdict decides part of
 *                  the rule's packets and the two overlap only partly
 *                  (neither contains the other): their order matters
 *
 * Stateful matches: `ct` is an ordinary field (one state per tracked packet;
 * untracked packets - not IP, non-first fragments, or a rule set without
 * `ct` - have none); a rule with `limit` may or may not match, so it never
 * covers later rules, and it is not taken as the other side of a
 * correlation either (a limit in front of a rule with the same match is the
 * way limits are meant to be used).  It blocks the later-rule redundancy of
 * earlier rules when its verdict differs.
 *
 * Rules with `iif` are analysed with one made-up ifindex per interface name.
 */
#ifndef XW_LINT_H
#define XW_LINT_H

#include <stddef.h>
#include <stdint.h>

#include "rule.h"
#include "xwall.h"

enum xw_lint_kind {
	XW_LINT_NEVER = 0,       /* "never-matches" */
	XW_LINT_SHADOWED,        /* "shadowed" */
	XW_LINT_REDUNDANT,       /* "redundant" */
	XW_LINT_CORRELATED,      /* "correlated" */
};

struct xw_lint_item {
	size_t   rule;           /* index into the rule set */
	uint32_t prio;
	uint8_t  verdict;        /* the rule's own verdict */
	enum xw_lint_kind kind;
	uint8_t  later;          /* redundant: later rules / the policy decide the same */
	uint8_t  policy;         /* later: the policy decides some of its packets */
	size_t   n_by;
	uint32_t *by;            /* priorities of the rules concerned */
	uint8_t  has_witness;    /* all kinds but never-matches have one */
	struct xw_key witness;   /* a packet of the region (see witness_prio) */
	/* Who decides the witness: the rule (XW_PRIO_NONE: the policy) and the
	 * verdict.  shadowed, redundant (earlier) and correlated: the earlier rule
	 * that takes it away from this rule; redundant (later): the later rule or
	 * the policy that would decide it without this rule. */
	uint32_t witness_prio;
	uint8_t  witness_verdict;
	char     witness_text[320];   /* the witness in words */
};

struct xw_lint_result {
	size_t n;
	struct xw_lint_item *items;   /* by rule, then kind */
	size_t n_rules;
	uint32_t *ifindex;            /* per rule: the made-up ifindex of its iif, or 0 */
	size_t n_nodes;               /* decision diagram nodes used (diagnostics) */
};

/* Analyse rs (sorted by priority, as the parser leaves it).  Returns 0, or -1
 * with err set: a rule the compiler refuses (FILE:LINE:COL message), out of
 * memory, or a rule set too complex for the node budget. */
int  xw_lint(const struct xw_ruleset *rs, struct xw_lint_result *out, struct xw_err *err);
void xw_lint_free(struct xw_lint_result *r);

/* "never-matches", "shadowed", "redundant", "correlated". */
const char *xw_lint_kind_name(enum xw_lint_kind k);

/* The finding in words, without the FILE:LINE: prefix, e.g.
 * "rule 30 is shadowed by rules 10, 20 (never fires; e.g. in tcp
 *  192.0.2.1:40000 -> 198.51.100.1:20 gets pass from rule 10)". */
int  xw_lint_message(const struct xw_lint_item *it, char *buf, size_t len);

/* A packet key in words ("in tcp 192.0.2.1:40000 -> 198.51.100.1:22 flags syn");
 * res (may be NULL) names made-up interface indexes. */
int  xw_lint_key_format(const struct xw_ruleset *rs, const struct xw_lint_result *res,
			const struct xw_key *k, char *buf, size_t len);

#endif
