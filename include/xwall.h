// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Types shared by the BPF datapath and userspace: map keys, values, constants.
 *
 * Classification is a set of decision trees over rule entries (see README
 * "Architecture" and "Decision trees" below): cost depends on the trees'
 * depth and leaf lengths, not on the number or the shapes of the rules.
 * The tuple-space types (xw_tuple, xw_ckey, ...) remain for the compiler's
 * analysis form (loader/compile/compile.h xw_compile: lint, benchmark models); the
 * datapath no longer has tuple maps.
 */
#ifndef XWALL_H
#define XWALL_H

#ifdef __bpf__
#include <linux/types.h>
#else
#include <linux/types.h>
#include <stdint.h>
#endif

#define XW_PIN_DIR "/sys/fs/bpf/xwall"

#define XW_MAX_TUPLES      1024u     /* (tuple form only; no longer a limit) */
#define XW_TUPLE_SLOTS     (XW_MAX_TUPLES + 1)  /* per generation, with the sentinel */
#define XW_MAX_CLASS_ENTRIES (1u << 18) /* entries per key class and generation */
#define XW_TUPLES_PER_STAGE 64u      /* tuples probed by one tail-called stage */
#define XW_MAX_RULES       131072u   /* counter slots (rules) */
#define XW_PRIO_NONE       0xffffffffu

/* Presence bits of struct xw_key.flags: a field the packet lacks stays zero
 * and its bit clear, so a rule that needs it cannot match. */
#define XWK_VLAN       0x0001u  /* outermost 802.1Q/802.1ad tag present */
#define XWK_L3         0x0002u  /* valid IPv4 or IPv6 header: proto valid */
#define XWK_V4         0x0004u  /* valid IPv4: src/dst are IPv4 (first 4 bytes) */
#define XWK_V6         0x0008u  /* valid IPv6 (extension walk succeeded) */
#define XWK_PORTS      0x0010u  /* TCP/UDP/SCTP ports present (not a later fragment) */
#define XWK_TCP        0x0020u  /* TCP flags present */
#define XWK_ICMP       0x0040u  /* ICMP (IPv4, proto 1) type/code present */
#define XWK_ICMP6      0x0080u  /* ICMPv6 (IPv6, nh 58) type/code present */
#define XWK_FRAG_MF    0x0100u  /* more-fragments set */
#define XWK_FRAG_LATER 0x0200u  /* fragment offset != 0 */
/* Never set by the parser: a deleted rule's tree entry carries it in its
 * value, outside its mask, and so matches no packet (loader/datapath/edit.c) */
#define XWK_NEVER      0x8000u

enum xw_dir { XW_DIR_IN = 0, XW_DIR_OUT = 1, XW_DIR_MAX };

/* Tail-call slots of the program arrays, which the loader fills
 * (datapath.c): xw_xdp_progs holds the XDP rule and limit stages, and
 * xw_tc_progs the TC ones by direction (rule stages first). */
enum xw_xdp_slot { XW_XDP_SLOT_STAGE = 0, XW_XDP_SLOT_LIMIT = 1, XW_XDP_SLOT_MAX };
#define XW_TC_SLOT_STAGE(dir) (dir)
#define XW_TC_SLOT_LIMIT(dir) (XW_DIR_MAX + (dir))
#define XW_TC_SLOT_MAX        (2 * XW_DIR_MAX)

/* XW_REJECT: drop and answer (TCP RST, ICMP/ICMPv6 port unreachable;
 * xdp/xw_reject.h).
 * XW_AUDIT: what would be dropped is counted (rule counter, verdict
 * counter `audit`) and logged (an event, with or without `log`), but the
 * packet passes, and conntrack tracks it as it does any passed packet. */
enum xw_verdict { XW_DROP = 0, XW_PASS = 1, XW_AUDIT = 2, XW_REJECT = 3,
		  XW_VERDICT_MAX };

/* The packet goes on (XDP_PASS, TC_ACT_OK): pass, and audit. */
#define XW_VERDICT_PASSES(v) ((v) == XW_PASS || (v) == XW_AUDIT)
/* `reject` answers (TCP RST, ICMP/ICMPv6 port unreachable) per CPU: a token
 * bucket of XW_REJECT_BURST answers refilled at XW_REJECT_RATE per second,
 * as the kernel's net.ipv4.icmp_msgs_per_sec / icmp_msgs_burst defaults;
 * over it the packet is dropped unanswered (reason reject_limited). */
#define XW_REJECT_RATE  1000u
#define XW_REJECT_BURST 50u

/* Why a packet got its verdict; also per-reason counters (index). */
enum xw_reason {
	XW_REASON_RULE = 0,     /* a rule matched */
	XW_REASON_POLICY,       /* no rule matched: policy */
	XW_REASON_MALFORMED,    /* bad IP header / extension walk (counted besides rule/policy) */
	XW_REASON_TAILCALL,     /* a tail call failed: policy applied */
	XW_REASON_SHORT,        /* frame shorter than an Ethernet header */
	XW_REASON_REJECT_LIMITED, /* reject: over the answer rate limit, dropped unanswered
				   * (counted besides rule) */
	XW_REASON_REJECT_SILENT,  /* reject: a packet never answered (ICMP error, broadcast,
				   * multicast, later fragment, RST, ...), dropped (besides rule) */
	XW_REASON_MAX
};

/* Packet key: what the parser extracts once.  Host byte order for the 16-bit
 * numbers; addresses as on the wire; IPv4 addresses in src[0..3]. */
struct xw_key {
	__u8  eth_dst[6];
	__u8  eth_src[6];
	__u16 eth_type;     /* after up to two VLAN tags */
	__u16 vlan;         /* outermost VLAN ID */
	__u16 flags;        /* XWK_* */
	__u8  dir;          /* enum xw_dir */
	__u8  proto;        /* IPv4 protocol / IPv6 final next header */
	__u8  tcp_flags;
	__u8  icmp_type;
	__u8  icmp_code;
	__u8  ct_state;     /* XW_CTB_* bit of the packet, 0 when not tracked */
	__u16 sport;
	__u16 dport;
	__u32 ifindex;      /* interface the program runs on */
	__u8  src[16];
	__u8  dst[16];
};

#define XW_KEY_WORDS (sizeof(struct xw_key) / 8)

struct xw_entry_key {
	__u32 tuple;
	__u32 pad;
	struct xw_key k;   /* already masked with the tuple's mask */
};

#define XWF_LOG 0x01u
#define XWF_EXACT 0x02u   /* rule entry: looked up by the exact tier, not in a tree */

struct xw_entry_val {
	__u32 prio;
	__u32 slot;        /* counter slot of the rule */
	__u8  verdict;     /* enum xw_verdict */
	__u8  flags;       /* XWF_* */
	__u16 pad;
};

/* Tuple table, sorted by min_prio.  The element after the last tuple is a
 * sentinel with min_prio XW_PRIO_NONE that carries the policies. */
struct xw_tuple {
	struct xw_key mask;
	/* bits every entry of the tuple agrees on (within mask), and their
	 * value: a packet that differs there cannot hit, so the stage skips
	 * the hash lookup (e.g. a "tcp dport" tuple for a UDP packet) */
	struct xw_key cmask;
	struct xw_key cval;
	__u32 min_prio;
	__u8  policy[XW_DIR_MAX];   /* sentinel only */
	/* the 8-byte words where cmask has bits (checked before the lookup),
	 * and the words where entries differ: the hash key is the tuple id and
	 * those words only; cls says which entries map (by key size) */
	__u8  cls;
	__u8  nw;
	__u8  widx[8];
	__u8  nc;
	__u8  cidx[8];
	__u8  pad2[5];
	/* the same, laid out for branch-free code (zero past nw / nc):
	 * key word j = packet word widx[j] & kmask[j]; the packet may hit only
	 * if (packet word cidx[j] & cmw[j]) == cvw[j] for every j */
	__u64 kmask[8];
	__u64 cmw[8];
	__u64 cvw[8];
	/* membership filter (xw_bloom.h): this tuple's words are
	 * [bbase, bbase + bmask] of its generation's part of xw_bloom */
	__u32 bbase;
	__u32 bmask;
};

/* Entries maps by hash key size: a shorter key hashes faster. */
#define XW_KEY_CLASSES 4
#define XW_CLASS_WORDS(c) (1u << (c))   /* 1, 2, 4, 8 words */

struct xw_ckey {
	__u32 tuple;
	__u32 pad;
	__u64 w[8];        /* only XW_CLASS_WORDS(cls) are part of the map key */
};

/* Decision trees (the rule stage; docs/classifier.md).  Every rule becomes
 * one or a few rule entries (struct xw_rent): a (mask, value) pair over the
 * packet key plus a source and a destination port range, so a port range
 * costs one entry, not its prefix cover.  The entries are split into at most
 * XW_MAX_TREES groups; each group is cut into a tree whose inner nodes take
 * the next `nb` bits of one key field (the child is an index into a
 * contiguous block of nodes) and whose leaves list the entries that can
 * match there, best priority first.  Per packet: per tree at most
 * XW_TREE_DEPTH node reads, then the leaf's list until the first match.
 * All three maps are arrays (lookups inlined by the verifier); generation g
 * uses [g * XW_MAX_X, (g + 1) * XW_MAX_X) of each. */
#define XW_MAX_TREES     8u
#define XW_TREE_DEPTH    24u          /* node reads per tree, at most */
#define XW_MAX_RENTS     (1u << 18)   /* rule entries per generation */
#define XW_MAX_NODES     (1u << 19)   /* tree nodes per generation */
#define XW_MAX_LIDS      (1u << 21)   /* leaf list slots per generation */
#define XW_LEAF_PER_STAGE 64u         /* leaf entries read by one step of a stage */
#define XW_MAX_STAGES    30u          /* rule stages per packet (tail calls) */
#define XW_TREES_PER_STAGE 8u         /* steps of one rule stage (a step: a tree, or
					 * XW_LEAF_PER_STAGE entries of a long leaf) */

#define XW_NODE_LE16 0x01u            /* the field is a host-order u16 */

struct xw_node {
	__u32 base;        /* inner: first child; leaf: first slot of xw_lids */
	__u32 n;           /* leaf: entries in the list (0 for an inner node) */
	__u8  off;         /* inner: byte offset of the field's word in xw_key */
	__u8  sh;          /* bits of the word above the cut */
	__u8  nb;          /* bits cut (children 1 << nb); 0 = leaf */
	__u8  flags;       /* XW_NODE_* */
};

struct xw_rent {
	__u64 m[XW_KEY_WORDS];   /* mask over struct xw_key */
	__u64 v[XW_KEY_WORDS];   /* value (within the mask) */
	__u16 sp_lo, sp_hi;      /* sport range (0-65535: any) */
	__u16 dp_lo, dp_hi;      /* dport range */
	__u32 prio;
	__u32 slot;
	__u8  verdict;
	__u8  flags;             /* XWF_* */
	__u16 pad;
	__u32 was_prio;          /* a deleted exact-tier entry's priority (its prio
				  * is XW_PRIO_NONE: loader/datapath/edit.c) */
};

/* The exact tier (docs/classifier.md): entries whose port ranges are one
 * port or any port and that share a mask (a shape) are looked up by hash,
 * one probe per shape, instead of walked in a tree (a list of single
 * addresses or ports, as xdp-filter holds them); which shapes is
 * loader/compile/exact.h's rule.
 * The key is seen as 16 lanes of 32 bits (byte offsets 0, 4, ..., 60; the
 * ports as the u16s they are in struct xw_key).  Before its probe a packet
 * must have the bits all the shape's entries agree on (the check lanes:
 * an IPv6 packet skips the IPv4 shapes, a UDP packet the `tcp dport`
 * shape); the key is the lanes where they differ, under their mask.  A
 * shape with one key lane uses a 4-byte key (xw_xents4), others a 16-byte
 * key (xw_xents16, unused lanes zero): the hash's cost grows with the key.
 * Shape j of generation g is the inner map at slot XW_XSLOT(g, j); its
 * value is the entry's index in xw_rents. */
#define XW_MAX_XSHAPES 8u
#define XW_XLANES      4u             /* check lanes and key lanes per shape */
#define XW_XSLOT(g, j) (((g) & 1) * XW_MAX_XSHAPES + ((j) & (XW_MAX_XSHAPES - 1)))

struct xw_xshape {
	__u8  nk;                   /* key lanes (1: xw_xents4; 2-4: xw_xents16) */
	__u8  nc;                   /* check lanes */
	__u8  koff[XW_XLANES];      /* byte offset of each key lane */
	__u8  coff[XW_XLANES];      /* ... of each check lane */
	__u16 pad;
	__u32 min_prio;             /* best priority of the shape's entries */
	__u32 n;                    /* its entries */
	__u32 kmask[XW_XLANES];     /* key lane j = lane koff[j] & kmask[j] */
	__u32 cm[XW_XLANES];        /* the packet may match only if lane coff[j] */
	__u32 cv[XW_XLANES];        /* & cm[j] == cv[j] (zero past nk / nc) */
};

#define XW_EDIT_LOG 128u

/* Per generation: the exact shapes, the trees and the policy. */
#define XW_TREE_DIR(t, d) (1u << (2 * ((t) & (XW_MAX_TREES - 1)) + ((d) & 1)))
struct xw_thead {
	__u32 n_trees;
	__u8  policy[XW_DIR_MAX];
	__u16 dirs;                     /* XW_TREE_DIR(t, d): some entry of tree t
					 * matches direction d; else the walk skips it */
	__u32 root[XW_MAX_TREES];       /* node index of each tree's root */
	__u32 min_prio[XW_MAX_TREES];   /* best priority in the tree */
	__u32 n_xshapes;                /* exact shapes, probed before the trees */
	__u32 xdirs;                    /* bit d: some exact entry matches direction
					 * d; else the probes are skipped */
	struct xw_xshape xs[XW_MAX_XSHAPES];
	/* what `rule add|del` needs to change a generation without compiling
	 * the whole rule set again (loader/datapath/edit.c); no program reads it.
	 * xw_rents holds [0, n_base) the full apply's entries by priority,
	 * [n_base, + n_dups) the entries it dropped as equal to a better one
	 * (one of them takes over when that rule goes), then the n_over
	 * entries of the overlay tree (tree over_tree, XW_MAX_TREES: none)
	 * whose nodes and leaf slots start at nodes_base and lids_base. */
	struct xw_tedit {
		__u32 n_base, n_dups, n_over;
		__u32 nodes_base, lids_base;
		__u32 n_nodes, n_lids;          /* in all, with the overlay's */
		__u32 over_tree;
		__u32 edits;                    /* changes since the last apply */
		__u32 depth[XW_MAX_TREES];      /* per tree: deepest path, longest leaf */
		__u32 max_leaf[XW_MAX_TREES];
		/* the whole apply [0, n_base + n_dups) is from (0: unknown), and
		 * the entries of that part the last change wrote (more than
		 * XW_EDIT_LOG: n_changed is XW_EDIT_LOG + 1): the other half,
		 * one change behind, needs only those */
		__u32 base_id;
		__u32 n_changed;
		__u32 changed[XW_EDIT_LOG];
	} ed;
};

/* Connection tracking.  The packet's state as the `ct` match sees it: */
#define XW_CTB_NEW         0x01
#define XW_CTB_ESTABLISHED 0x02
#define XW_CTB_RELATED     0x04
#define XW_CTB_INVALID     0x08

/* Flow table key: both directions of a flow normalise to the same key
 * (endpoint a is the lower of (address, port)). */
struct xw_ct_key {
	__u8  a[16];
	__u8  b[16];
	__u16 pa;          /* ports; ICMP echo: id in pa, 0 in pb */
	__u16 pb;
	__u8  proto;
	__u8  family;      /* 4 or 6 */
	__u16 pad;
};

/* Entry states; each has its own timeout (xw_cfg.ct_timeout[state]). */
enum xw_cts {
	XW_CTS_NONE = 0,
	XW_CTS_TCP_SYN_SENT, XW_CTS_TCP_SYN_RECV, XW_CTS_TCP_ESTABLISHED,
	XW_CTS_TCP_FIN_WAIT, XW_CTS_TCP_TIME_WAIT, XW_CTS_TCP_CLOSE,
	XW_CTS_UDP_UNREPLIED, XW_CTS_UDP_REPLIED,
	XW_CTS_ICMP_UNREPLIED, XW_CTS_ICMP_REPLIED,
	XW_CTS_OTHER_UNREPLIED, XW_CTS_OTHER_REPLIED,
	XW_CTS_MAX
};

struct xw_ct_val {
	__u64 created_ns;   /* bpf_ktime_get_ns() (CLOCK_MONOTONIC) */
	__u64 last_ns;
	__u8  state;        /* enum xw_cts */
	__u8  init_b;       /* the flow was initiated by endpoint b */
	__u8  seen_reply;
	__u8  fin;          /* XW_CT_FIN_A | XW_CT_FIN_B: who sent a FIN */
	__u32 pad;
	__u64 packets[2];   /* from a, from b */
	/* TCP sequence tracking, by endpoint (0 a, 1 b), for the RST check
	 * (README "Connection tracking"): end = highest seq + length (+SYN,
	 * +FIN) sent, ack/win = acknowledgement and raw window last sent */
	__u32 seq_end[2];
	__u32 seq_ack[2];
	__u16 seq_win[2];
	__u8  seq_ok;       /* XW_CTSEQ_* bits */
	__u8  pad2[3];
};
#define XW_CT_FIN_A 0x01   /* xw_ct_val.fin: endpoint a sent a FIN */
#define XW_CT_FIN_B 0x02   /* xw_ct_val.fin: endpoint b sent a FIN */

#define XW_CTSEQ_END_A 0x01   /* seq_end[0] known */
#define XW_CTSEQ_END_B 0x02
#define XW_CTSEQ_ACK_A 0x04   /* seq_ack[0] / seq_win[0] known */
#define XW_CTSEQ_ACK_B 0x08
/* a segment may move the tracked sequence forward by at most this much: a
 * blind (off-path) forged segment is then no likelier to shift the RST
 * window than a blind RST is to hit it */
#define XW_CT_SEQ_JUMP (1u << 20)

/* Conntrack counters (per-CPU array index). */
enum xw_ct_counter {
	XW_CTC_NEW, XW_CTC_ESTABLISHED, XW_CTC_RELATED, XW_CTC_INVALID,
	XW_CTC_CREATED, XW_CTC_EXPIRED,
	XW_CTC_EVICTED,     /* a flow that had seen a reply, pushed out of a full table */
	XW_CTC_EARLY_DROP,  /* a not yet assured flow, pushed out by a newer one */
	XW_CTC_PROMOTED,    /* flows that became assured (moved tables) */
	XW_CTC_RST_IGNORED, /* TCP RSTs outside the window: invalid, flow kept */
	XW_CTC_MAX
};

/* xw_ct_count slots: live entries of each flow table */
enum { XW_CT_TBL_EST = 0, XW_CT_TBL_NEW = 1, XW_CT_TBL_MAX };

#define XW_CT_DEFAULT_SIZE 65536u

/* `log` events through the ring buffer. */
#define XW_EVENT_SNAP 128
#define XW_RING_DEFAULT (1u << 20)

struct xw_event {
	__u64 time_ns;      /* bpf_ktime_get_ns() */
	__u64 lost;         /* events this CPU lost so far (ring full), cumulative */
	__u32 ifindex;
	__u32 prio;         /* XW_PRIO_NONE: the policy decided (audit policy) */
	__u32 len;          /* packet length */
	__u32 cpu;
	__u16 caplen;       /* bytes in data */
	__u8  dir;
	__u8  verdict;      /* enum xw_verdict: XW_AUDIT for an audited packet */
	__u32 pad;
	__u8  data[XW_EVENT_SNAP];
};

enum xw_ev_counter { XW_EVC_SENT, XW_EVC_LOST, XW_EVC_CAPPED, XW_EVC_MAX };

/* xw_log_windows: one per counter slot, then one per direction for the
 * events of an audit policy (no rule decided: xw_event.prio XW_PRIO_NONE). */
#define XW_LOG_WINDOW_POLICY(dir) (XW_MAX_RULES + ((dir) & 1))
#define XW_LOG_WINDOWS (XW_MAX_RULES + XW_DIR_MAX)

/* `limit over N/s|N/m [burst B] [per src]`: rules with a limit are checked
 * apart from the tuple search, in priority order (at most this many entries
 * per rule set), because evaluating a token bucket consumes a token. */
#define XW_MAX_LIMIT_ENTRIES 64u
#define XW_LIMIT_DEFAULT_BURST 5u

struct xw_limit_entry {
	struct xw_key mask;
	struct xw_key key;     /* masked */
	__u32 prio;
	__u32 slot;            /* counter slot; also indexes the rule's bucket */
	__u8  verdict;
	__u8  flags;           /* XWF_* */
	__u8  per_src;
	__u8  pad;
	__u32 pad2;
	__u64 cost_ns;         /* period / rate: credit one packet costs */
	__u64 cap_ns;          /* burst * cost */
};

/* Token bucket in time units (credit grows 1 per ns up to cap). */
struct xw_bucket {
	__u64 credit_ns;
	__u64 last_ns;         /* 0: never used, starts full */
};

struct xw_src_key {
	__u32 slot;
	__u8  addr[16];
};

/* Which generation of rule maps is live; flipping `active` is the atomic switch. */
struct xw_cfg {
	__u32 active;
	__u8  policy[2][XW_DIR_MAX];  /* per generation: verdict if a stage fails */
	__u64 generation;
	__u8  ct_on[2];               /* per generation: a rule uses `ct` */
	__u8  pad[2];
	__u32 ct_timeout[XW_CTS_MAX]; /* seconds, by entry state */
	__u32 ct_size;                /* capacity of each flow table (for the eviction count) */
	__u32 log_rate;               /* events per second per rule, 0 = no cap */
	__u32 n_limit[2];             /* per generation: limit entries */
};

struct xw_counter {
	__u64 packets;
	__u64 bytes;
};

/* Interfaces xwall is attached to (written and read by the CLI only). */
#define XW_IFMODE_TC 0xff   /* ingress through TC cls_bpf instead of XDP */

enum xw_attach_kind { XW_ATTACH_DISPATCHER = 0, XW_ATTACH_DIRECT = 1 };

struct xw_iface {
	__u32 ifindex;
	__u8  xdp_mode;     /* enum xdp_attach_mode of libxdp, or XW_IFMODE_TC */
	__u8  kind;         /* enum xw_attach_kind */
	__u8  egress;       /* TC egress filter attached too */
	__u8  pad;
	char  name[16];
};

/* Probe frames: `xwall test` and `verify` on the live datapath run frames
 * through the attached programs with BPF_PROG_TEST_RUN.  They carry this
 * 16-byte mark (XDP: as metadata in front of the frame; TC: in skb->cb[0..3]),
 * and a marked frame changes nothing: no counters, no events, no token taken
 * from a limit, no flow created, refreshed or expired; it uses scratch slots
 * of its own (XW_SCRATCH_PROBE + dir), so traffic on the same CPU cannot
 * overwrite its state mid-run or before the CLI reads the answer. */
#define XW_PROBE_MARK0 0x78776c6c70726f62ull   /* "xwllprob" */
#define XW_PROBE_MARK1 0x652d6d61726b2d31ull   /* "e-mark-1" */
#define XW_PROBE_LEN   16u
#define XW_SCRATCH_PROBE XW_DIR_MAX            /* first probe scratch slot */
#define XW_SCRATCH_SLOTS (2 * XW_DIR_MAX)

/* Why the parse refused the packet (xw_scratch.malformed); such a packet
 * still goes through the rules with only its Ethernet fields. */
enum xw_malformed {
	XW_MAL_NONE = 0,
	XW_MAL_L3 = 1,          /* bad IP header or extension chain: XW_REASON_MALFORMED */
	XW_MAL_SHORT = 2,       /* shorter than an Ethernet header: XW_REASON_SHORT */
};

/* What conntrack writes back if the packet passes (xw_scratch.ct_op). */
enum xw_ct_op {
	XW_CT_OP_NONE = 0,      /* untracked, invalid or related: nothing */
	XW_CT_OP_CREATE = 1,    /* a new flow: insert ct_val into XW_CT_TBL_NEW */
	XW_CT_OP_UPDATE = 2,    /* a known flow: write ct_val back (maybe promote) */
};

/* Per-CPU scratch carried across tail calls (one per direction, and one per
 * direction for probe frames). */
struct xw_scratch {
	struct xw_key key;
	__u32 best_prio;
	__u32 best_slot;
	__u8  best_verdict;
	__u8  best_flags;
	__u8  gen;
	__u8  malformed;     /* enum xw_malformed */
	__u8  fail_verdict;  /* policy, used if a tail call fails */
	__u8  n_limit;       /* limit entries of the generation */
	__u8  policy_verdict;/* the policy, found by the tuple walk, for the limit stage */
	__u8  probe;         /* a probe frame: change no state (XW_PROBE_MARK0) */
	__u32 next_tuple;  /* rule stage: the tree to walk next */
	__u32 pkt_len;
	__u32 reason;      /* final reason of the last packet (for `xwall test`) */
	__u32 verdict;     /* final verdict of the last packet */
	/* connection tracking: what to write back if the packet passes */
	__u8  ct_op;       /* enum xw_ct_op */
	__u8  ct_from_b;   /* the packet travels from endpoint b */
	__u8  ct_tbl;      /* the entry's table: XW_CT_TBL_EST or XW_CT_TBL_NEW */
	__u8  ct_promote;  /* move it from XW_CT_TBL_NEW to XW_CT_TBL_EST */
	__u8  ct_pad[4];
	__u32 leaf_at;     /* rule stage: next slot of a leaf list to read */
	__u32 leaf_end;    /* ... and its end (0: no leaf in progress) */
	__u32 stages;      /* rule stages run for this packet */
	__u32 lpad;
	struct xw_ct_key ct_key;
	struct xw_ct_val ct_val;
};

#endif
