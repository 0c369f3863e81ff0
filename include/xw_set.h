// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Named sets (`set NAME { ... }`, rules with `src|dst|sport|dport @NAME`):
 * types shared by the datapath (xdp/xw_sets.h) and userspace (loader/sets.c).
 *
 * Each set is two maps: a hash map of its full-length elements (addresses,
 * single ports: an exact match, whose cost does not grow with the set) in
 * xw_set_hmaps, and an LPM trie of its prefixes (CIDR blocks, port ranges) in
 * xw_set_maps.  Both outer arrays have two slots per set, XW_SET_SLOT(id, c)
 * for c = 0, 1; xw_set_cur[id] says which pair is live.  Replacing a set's
 * elements (`set load`, `set flush`, apply with `elements`) fills new maps
 * into the other pair and flips xw_set_cur[id] with one 4-byte write: packets
 * see the old elements or the new ones, never a mix.  Its definition is
 * xw_set_defs[id].
 * Rules that reference sets ("set rules") are kept apart from the classifier:
 * at most XW_MAX_SET_RULES entries per generation in xw_set_rules, evaluated
 * linearly in priority order before the tuple search. */
#ifndef XW_SET_H
#define XW_SET_H

#include <linux/types.h>

#define XW_MAX_SETS        256u      /* set ids 1..255 (0: none) */
#define XW_MAX_SET_RULES   64u       /* set rule entries per generation */
#define XW_SET_NAME_MAX    32        /* with the NUL: at most 31 characters */
#define XW_SET_DEFAULT_SIZE 65536u
#define XW_SET_MAX_SIZE    (1u << 24)
#define XW_SET_PROBES      8         /* expired prefixes skipped per lookup */
#define XW_SET_SLOTS       (2u * XW_MAX_SETS)
#define XW_SET_SLOT(id, cur) ((id) * 2u + ((cur) & 1u))

enum xw_set_type {
	XW_SETT_NONE = 0, XW_SETT_IPV4, XW_SETT_IPV6, XW_SETT_INET, XW_SETT_SERVICE,
};

#define XW_SETF_INTERVAL 0x01u
#define XW_SETF_TIMEOUT  0x02u

/* Element kinds: the first byte of the trie key. */
#define XW_SETK_V4   4
#define XW_SETK_V6   6
#define XW_SETK_PORT 80

/* The key of both maps; in the hash map prefixlen is always the full length. */
struct xw_set_key {
	__u32 prefixlen;   /* 8 (kind) + element bits */
	__u8  kind;        /* XW_SETK_* */
	__u8  data[16];    /* address as on the wire, or the port big-endian */
	__u8  pad[3];
};

#define XW_SET_KEY_BITS(kind) ((kind) == XW_SETK_V4 ? 32u : (kind) == XW_SETK_V6 ? 128u : 16u)
/* A key of the hash map (full length), else of the trie. */
#define XW_SET_KEY_EXACT(k) ((k)->prefixlen == 8u + XW_SET_KEY_BITS((k)->kind))

struct xw_set_val {
	__u64 expires_ns;  /* CLOCK_MONOTONIC (bpf_ktime_get_ns) deadline; 0: never */
	__u16 lo, hi;      /* ports: the range the element was given as */
	__u8  klen;        /* this entry's key prefixlen (for the shorter-prefix retry) */
	__u8  banned;      /* added by the datapath (`ban`) */
	__u16 pad;
};

struct xw_set_def {
	char  name[XW_SET_NAME_MAX];   /* "" : free slot */
	__u8  type;        /* enum xw_set_type */
	__u8  flags;       /* XW_SETF_* */
	__u16 pad;
	__u32 size;        /* max elements (max_entries of the hash and of the trie) */
	__u64 timeout_ns;  /* default element timeout, 0: none */
};

/* One entry of a set rule: the rule's other fields as mask/key (as the limit
 * entries), and the sets its fields must be in. */
enum { XW_SETR_SRC, XW_SETR_DST, XW_SETR_SPORT, XW_SETR_DPORT, XW_SETR_MAX };

struct xw_set_rule {
	struct xw_key mask;
	struct xw_key key;     /* masked */
	__u32 prio;
	__u32 slot;            /* counter slot */
	__u8  verdict;
	__u8  flags;           /* XWF_* */
	__u16 set[XW_SETR_MAX];/* set id per field, 0: none */
	__u8  pad[6];
};

/* `limit ... per src ban @NAME D`: by (generation, priority) of the limit rule. */
struct xw_ban_key {
	__u32 gen;
	__u32 prio;
};

struct xw_ban_val {
	__u32 set;             /* set id */
	__u32 pad;
	__u64 timeout_ns;
};

#endif
