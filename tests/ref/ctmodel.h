// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Connection tracking model: an independent userspace model of xwall's
 * stateful mode (the `ct` match), written from the specification of the
 * conntrack semantics, not from the BPF code, so that a differential test
 * can compare the two.
 *
 * The model does not parse frames.  It works on an abstract description of
 * a packet (struct ctm_pkt) that a test generator fills in next to the
 * frame it builds.  It keeps its own flow table with its own notion of flow
 * identity (an unordered pair of endpoints) and its own clock input (the
 * caller passes CLOCK_MONOTONIC nanoseconds, as the datapath's
 * bpf_ktime_get_ns).
 *
 * Semantics modelled:
 *  - tracking only while enabled (the rule set has a `ct` rule); only
 *    packets with a valid IP header, not non-first fragments (ct_state 0);
 *  - flow identity: (family, proto, {src ep, dst ep}) unordered; TCP, UDP,
 *    SCTP use ports (without the ports header: INVALID); ICMP/ICMPv6 echo
 *    request = (src,id -> dst,0), echo reply = (src,0 -> dst,id); other
 *    protocols (including ICMP in the wrong family) ports 0;
 *  - ICMP errors (v4 3,4,5,11,12; v6 1..4): RELATED when the quoted header
 *    (IP header + 8 bytes of L4) belongs to a live flow, else INVALID; never
 *    change the table.  Other non-echo ICMP: NEW, nothing created.  An ICMP
 *    packet without its 8-byte header: INVALID;
 *  - no live entry: TCP with (SYN,ACK,RST) == SYN -> NEW, creates SYN_SENT;
 *    other TCP -> INVALID; echo reply -> INVALID; echo request, UDP, SCTP,
 *    other -> NEW, creates *_UNREPLIED;
 *  - live entry: TCP transitions (RST -> CLOSE; SYN w/o ACK from the
 *    initiator in TIME_WAIT/CLOSE -> new connection; SYN+ACK reply in
 *    SYN_SENT -> SYN_RECV; ACK from the initiator in SYN_RECV ->
 *    ESTABLISHED; FIN marks its side, both sides -> TIME_WAIT else
 *    FIN_WAIT, unless CLOSE); non-TCP reply UNREPLIED -> REPLIED; any reply
 *    sets reply-seen; packet is ESTABLISHED if reply seen else NEW;
 *  - TCP RST (RFC 5961): from endpoint d it is accepted only if its sequence
 *    number s satisfies lo <= s <= hi (mod 2^32), lo the last ACK number
 *    the other endpoint sent, hi what d sent plus the window the other
 *    endpoint last announced (raw field); if hi is before lo, the window
 *    alone.  The other endpoint never acknowledged: s must be d's next
 *    sequence number.  d never sent: the RST must carry ACK acknowledging
 *    exactly what the other endpoint sent.  A RST that fails: INVALID, and
 *    the entry is left as it was;
 *  - the handshake steps (SYN+ACK in SYN_SENT -> SYN_RECV, the initiator's
 *    ACK in SYN_RECV -> ESTABLISHED) need an ACK number equal to what the
 *    other endpoint sent (its next sequence number), when that is known; the
 *    SYN+ACK restarts the responder's sequence;
 *  - sequence tracking (any other TCP segment that passes): the sender's
 *    next sequence number becomes seq + payload + SYN + FIN if that is
 *    ahead by 1 .. XW_CT_SEQ_JUMP (always, for its first segment and for
 *    the initiator's SYN in SYN_SENT, including a SYN reusing the ports);
 *    with ACK, its acknowledgement and window are taken if the ACK number
 *    is at most XW_CT_SEQ_JUMP behind and not ahead of what the other
 *    endpoint sent (when known) and not behind its previous ACK;
 *  - ICMP errors quoting a non-first IPv4 fragment have no flow (INVALID);
 *  - changes are written only when the caller commits (final verdict pass);
 *  - an entry idle longer than its state's timeout is dead.
 */
#ifndef XW_CTMODEL_H
#define XW_CTMODEL_H

#include <stddef.h>
#include <stdint.h>

#include "xwall.h"

/* Quoted header inside an ICMP error. */
struct ctm_quote {
	uint8_t  present;      /* IP header and >= 8 bytes of its L4 are quoted */
	uint8_t  proto;
	uint8_t  src[16], dst[16];  /* IPv4 in [0..3], rest zero */
	uint16_t sport, dport;      /* quoted TCP/UDP/SCTP */
	uint8_t  icmp_type;         /* quoted ICMP of the same family */
	uint16_t icmp_id;
	uint8_t  later_frag;        /* the quoted IPv4 header is a non-first fragment */
};

/* What the model needs to know about a packet. */
struct ctm_pkt {
	uint8_t  family;       /* 4, 6; 0 = not IP or invalid IP header */
	uint8_t  later_frag;   /* non-first fragment */
	uint8_t  proto;        /* IPv4 protocol / IPv6 final next header */
	uint8_t  src[16], dst[16];  /* IPv4 in [0..3], rest zero */
	uint8_t  l4;           /* the protocol's minimum header is present */
	uint16_t sport, dport; /* TCP/UDP/SCTP */
	uint8_t  tcp_flags;
	uint8_t  icmp_type, icmp_code;
	uint16_t icmp_id;      /* echo identifier */
	uint32_t tcp_seq, tcp_ack;
	uint16_t tcp_win;      /* raw window field */
	uint32_t tcp_len;      /* TCP payload bytes */
	struct ctm_quote q;    /* ICMP errors */
};

struct ctm_ep {
	uint8_t  addr[16];
	uint16_t port;
};

/* A flow: endpoints in the model's own canonical order (e[0] <= e[1]). */
struct ctm_flow {
	uint8_t family, proto;
	struct ctm_ep e[2];
};

struct ctm_entry {
	struct ctm_flow f;
	uint8_t  init;         /* index in f.e of the initiator */
	uint8_t  state;        /* enum xw_cts */
	uint8_t  seen_reply;
	uint8_t  fin[2];       /* FIN seen from f.e[i] */
	/* TCP sequence tracking of f.e[i]: next sequence number it sends
	 * (end), the last acknowledgement and window it sent (ack, win) */
	uint8_t  end_ok[2], ack_ok[2];
	uint32_t end[2], ack[2];
	uint16_t win[2];
	uint64_t last_ns;
	struct ctm_entry *next;
};

enum { CTM_OP_NONE = 0, CTM_OP_CREATE, CTM_OP_UPDATE };

/* Result of classifying one packet (before the verdict). */
struct ctm_res {
	uint8_t ct_state;      /* XW_CTB_*; 0 untracked */
	uint8_t op;            /* CTM_OP_*: what to write if the packet passes */
	uint8_t has_flow;      /* flow is the packet's own flow */
	uint8_t has_qflow;     /* qflow is the flow quoted by an ICMP error */
	struct ctm_flow flow, qflow;
	uint8_t had_entry;     /* a live entry existed for flow */
	struct ctm_entry before;  /* it (valid if had_entry) */
	struct ctm_entry after;   /* what op writes */
	uint8_t rst_ignored;   /* a RST outside the window (INVALID, no change) */
	const char *why;       /* short explanation */
};

struct ctm;

struct ctm *ctm_new(void);
void ctm_free(struct ctm *m);
void ctm_flush(struct ctm *m);
void ctm_set_enabled(struct ctm *m, int on);
int  ctm_enabled(const struct ctm *m);
void ctm_set_timeout(struct ctm *m, int state, uint32_t secs);
uint32_t ctm_timeout(const struct ctm *m, int state);

/* The packet's flow (own flow; for an ICMP error none) and sender endpoint.
 * Returns 0 when the packet has no flow of its own. */
int ctm_pkt_flow(const struct ctm_pkt *p, struct ctm_flow *f, struct ctm_ep *sender);
/* The flow an ICMP error quotes; 0 if none (no complete quote, non-echo ICMP). */
int ctm_quote_flow(const struct ctm_pkt *p, struct ctm_flow *f);
int ctm_flow_eq(const struct ctm_flow *a, const struct ctm_flow *b);
/* Build a canonical flow from two endpoints; returns the index of `x` in f->e. */
int ctm_flow_make(struct ctm_flow *f, uint8_t family, uint8_t proto,
		  const struct ctm_ep *x, const struct ctm_ep *y);

/* Entry of a flow, alive or dead (expired, not yet replaced), or NULL. */
const struct ctm_entry *ctm_find(const struct ctm *m, const struct ctm_flow *f);
/* Live entry of a flow at now_ns, or NULL. */
const struct ctm_entry *ctm_lookup(const struct ctm *m, const struct ctm_flow *f, uint64_t now_ns);

/* Classify (no table change). */
void ctm_classify(const struct ctm *m, const struct ctm_pkt *p, uint64_t now_ns,
		  struct ctm_res *r);
/* Write what classify prepared (call only when the packet passed). */
void ctm_commit(struct ctm *m, const struct ctm_res *r);

/* 1 if an entry the packet depends on (its flow, the quoted flow) has an
 * idle time within margin_ns of its timeout at now_ns: the outcome would
 * depend on exact timing. */
int ctm_near_expiry(const struct ctm *m, const struct ctm_pkt *p, uint64_t now_ns,
		    uint64_t margin_ns);
/* Same for one entry. */
int ctm_entry_near_expiry(const struct ctm *m, const struct ctm_entry *e, uint64_t now_ns,
			  uint64_t margin_ns);

/* Calls fn for each live entry; stops and returns fn's value if nonzero. */
int ctm_each(const struct ctm *m, uint64_t now_ns,
	     int (*fn)(const struct ctm_entry *e, void *arg), void *arg);
size_t ctm_live(const struct ctm *m, uint64_t now_ns);

/* ---- a tiny rule set model: dir, ct, proto, dport ---- */

struct ctm_rule {
	uint32_t prio;
	uint8_t  dir;          /* XW_DIR_IN / XW_DIR_OUT */
	uint8_t  ct;           /* XW_CTB_* mask; 0 = no ct match */
	int      proto;        /* -1 any */
	int      dport;        /* -1 any */
	uint8_t  verdict;      /* XW_PASS / XW_DROP */
};

struct ctm_rules {
	const char *name;
	uint8_t policy[XW_DIR_MAX];
	size_t n;
	struct ctm_rule r[16];  /* sorted by prio */
};

/* Verdict of a packet with the given ct state; *prio = XW_PRIO_NONE when the
 * policy decided. */
uint8_t ctm_decide(const struct ctm_rules *rs, const struct ctm_pkt *p, int dir,
		   uint8_t ct_state, uint32_t *prio);
int ctm_rules_use_ct(const struct ctm_rules *rs);
/* Rule file text for xw_parse_text; caller frees. */
char *ctm_rules_text(const struct ctm_rules *rs);

/* One whole packet: classify, decide, commit if pass. */
struct ctm_out {
	uint8_t  ct_state;
	uint8_t  verdict;
	uint32_t prio;
	struct ctm_res res;
};
void ctm_step(struct ctm *m, const struct ctm_rules *rs, const struct ctm_pkt *p, int dir,
	      uint64_t now_ns, struct ctm_out *o);

/* ---- formatting ---- */

const char *ctm_state_name(int state);
/* "NEW", "EST", "REL", "INV", "-" (untracked) */
const char *ctm_ctb_name(uint8_t ct_state);
void ctm_ep_str(uint8_t family, const struct ctm_ep *e, char *buf, size_t len);
void ctm_flow_str(const struct ctm_flow *f, char *buf, size_t len);
void ctm_pkt_str(const struct ctm_pkt *p, char *buf, size_t len);
void ctm_entry_str(const struct ctm_entry *e, char *buf, size_t len);

#endif
