// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Rule set as parsed from the rule language of docs/rules.md (userspace only). */
#ifndef XW_RULE_H
#define XW_RULE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <net/if.h>

#define XW_PRIO_MIN 1u
#define XW_PRIO_MAX 1000000u

/* Which matches a rule has (struct xw_rule.present). */
enum {
	XM_ETH_SRC  = 1u << 0,
	XM_ETH_DST  = 1u << 1,
	XM_ETH_TYPE = 1u << 2,
	XM_VLAN     = 1u << 3,
	XM_IP       = 1u << 4,   /* `ip`  : EtherType 0x0800 */
	XM_IP6      = 1u << 5,   /* `ip6` : EtherType 0x86DD */
	XM_SRC      = 1u << 6,
	XM_DST      = 1u << 7,
	XM_PROTO    = 1u << 8,
	XM_SPORT    = 1u << 9,
	XM_DPORT    = 1u << 10,
	XM_TCPFLAGS = 1u << 11,
	XM_ICMP     = 1u << 12,  /* icmp type [code] (IPv4) */
	XM_ICMP6    = 1u << 13,  /* icmpv6 type [code] */
	XM_FRAG     = 1u << 14,
	XM_CT       = 1u << 15,
	XM_LIMIT    = 1u << 16,
	XM_IIF      = 1u << 17,
};

enum xw_frag_kind { XW_FRAG_ANY = 0, XW_FRAG_FIRST, XW_FRAG_LATER };

enum {
	XW_CT_NEW = 1u << 0,
	XW_CT_ESTABLISHED = 1u << 1,
	XW_CT_RELATED = 1u << 2,
	XW_CT_INVALID = 1u << 3,
};

struct xw_cidr {
	uint8_t family;      /* 4 or 6 */
	uint8_t plen;        /* 0..32 or 0..128 */
	uint8_t addr[16];    /* network order; IPv4 in addr[0..3]; host bits zeroed */
};

struct xw_range {          /* inclusive */
	uint16_t lo, hi;
};

struct xw_pos {            /* for messages: file, 1-based line and column */
	char file[64];
	int line, col;
};

/* Named sets (loader/sets.h): a set declaration of a rule file. */
#define XW_SETNAME_LEN 32          /* at most 31 characters and the NUL */
enum { XW_REF_SRC, XW_REF_DST, XW_REF_SPORT, XW_REF_DPORT, XW_REF_MAX };

struct xw_set_elem {
	uint8_t  kind;           /* XW_SETK_* (include/xw_set.h) */
	uint8_t  plen;           /* address prefix length */
	uint8_t  addr[16];
	uint16_t lo, hi;         /* ports */
	uint8_t  has_timeout;
	uint64_t timeout_ms;     /* with has_timeout; else the set's default */
};

struct xw_set_decl {
	char     name[XW_SETNAME_LEN];
	uint8_t  type;           /* enum xw_set_type */
	uint8_t  flags;          /* XW_SETF_* */
	uint8_t  has_elements;   /* `elements = { ... }` given (even empty) */
	uint32_t size;           /* 0: default */
	uint64_t timeout_ms;     /* 0: none */
	size_t   n_elems;
	struct xw_set_elem *elems;
	struct xw_pos pos;
};

/* `comment "TEXT"`: at most this many bytes of UTF-8 (nft's limit is 128
 * characters); kept with the rule, in the stored rule text. */
#define XW_COMMENT_MAX 128

struct xw_rule {
	uint32_t prio;
	uint8_t  dir;            /* enum xw_dir (include/xwall.h): 0 in, 1 out */
	uint8_t  verdict;        /* enum xw_verdict: 0 drop, 1 pass, 2 audit, 3 reject */
	uint8_t  log;
	uint32_t present;        /* XM_* */
	char     iif[IF_NAMESIZE];
	uint8_t  eth_src[6], eth_dst[6];
	uint16_t eth_type;
	uint16_t vlan;
	uint8_t  proto;
	size_t   n_src, n_dst;               /* XM_SRC / XM_DST */
	struct xw_cidr *src, *dst;
	size_t   n_sport, n_dport;           /* XM_SPORT / XM_DPORT */
	struct xw_range *sport, *dport;
	uint8_t  tcp_flags, tcp_mask;        /* XM_TCPFLAGS: (flags & mask) == tcp_flags */
	/* XM_ICMP / XM_ICMP6: type ranges (0..255); code ranges, n_code 0 = any code */
	size_t   n_icmp_type, n_icmp_code;
	struct xw_range *icmp_type, *icmp_code;
	uint8_t  frag;                       /* enum xw_frag_kind */
	uint8_t  ct;                         /* XW_CT_* bits */
	/* XM_LIMIT: rate `limit_rate` per `limit_per_sec` seconds (1 or 60) */
	uint32_t limit_rate, limit_period, limit_burst;
	uint8_t  limit_per_src;
	struct xw_pos pos;                   /* where the rule starts */
	/* `src|dst|sport|dport @NAME` (XW_REF_*; "" none) and `ban @NAME D` */
	char     set_ref[XW_REF_MAX][XW_SETNAME_LEN];
	int      set_col[XW_REF_MAX + 1];     /* columns, for messages; [XW_REF_MAX]: ban */
	char     ban_set[XW_SETNAME_LEN];
	uint64_t ban_ms;
	char     comment[XW_COMMENT_MAX + 1];  /* "" none; no NUL or control characters */
};

/* `limit`: one packet costs period / rate ns of credit (at least 1); a
 * bucket holds burst times that.  The datapath adds elapsed time to the
 * credit in u64, so the capacity stays below 2^62 ns (146 years), which
 * leaves 2^63 ns of uptime before the sum could wrap.  The parser refuses
 * larger bursts; the compiler uses the same figures. */
#define XW_LIMIT_MAX_CREDIT_NS (1ull << 62)
static inline uint64_t xw_limit_cost_ns(uint32_t rate, uint32_t period)
{
	uint64_t p = (uint64_t)(period ? period : 1) * 1000000000ull;
	uint64_t c = p / (rate ? rate : 1);

	return c ? c : 1;
}

struct xw_ruleset {
	uint8_t policy[2];       /* per direction, default pass */
	uint8_t has_policy[2];   /* a policy line was given */
	size_t  n, cap;
	struct xw_rule *rules;   /* sorted by prio after parsing */
	size_t  n_sets;
	struct xw_set_decl *sets;/* in file order */
};

/* Parse errors: message is "FILE:LINE:COL: what is wrong". */
struct xw_err {
	char msg[512];
};

void xw_ruleset_init(struct xw_ruleset *rs);
void xw_ruleset_free(struct xw_ruleset *rs);
void xw_rule_free(struct xw_rule *r);
int  xw_rule_copy(struct xw_rule *dst, const struct xw_rule *src);

/* Parse a whole rule file. Returns 0, or -1 with err filled (nothing allocated
 * stays in rs on error). Rules are sorted by priority; duplicates are errors. */
int xw_parse_text(const char *text, size_t len, const char *fname,
		  struct xw_ruleset *rs, struct xw_err *err);
int xw_parse_file(FILE *f, const char *fname, struct xw_ruleset *rs, struct xw_err *err);

/* Parse one rule given as for `xwall rule add` (no leading "rule" keyword;
 * a leading "rule" is accepted too). */
int xw_parse_rule(const char *text, const char *fname, struct xw_rule *r, struct xw_err *err);

/* Name of a verdict (enum xw_verdict): "drop", "pass", "audit"; "?" else. */
const char *xw_verdict_name(unsigned v);
/* The verdict a word names (same names), or -1. */
int xw_verdict_of(const char *s, size_t len);

/* Canonical text of a rule: "rule PRIO DIR ... VERDICT" (no newline).
 * Parsing it back gives an equal rule.  Returns length or -1 if buf too small. */
int xw_rule_format(const struct xw_rule *r, char *buf, size_t len);
/* Same, any length, malloc'd (NULL if out of memory). */
char *xw_rule_text(const struct xw_rule *r);
/* The rule language's word for a verdict (enum xw_verdict): pass, drop, reject. */
const char *xw_verdict_name(unsigned int v);
/* Whole rule set: policy lines first, then rules, one per line. Caller frees. */
char *xw_ruleset_format(const struct xw_ruleset *rs);

/* Add r (deep copy) keeping order; -1 if the priority exists. */
int xw_ruleset_add(struct xw_ruleset *rs, const struct xw_rule *r);
/* Remove by priority; -1 if absent. */
int xw_ruleset_del(struct xw_ruleset *rs, uint32_t prio);

#endif
