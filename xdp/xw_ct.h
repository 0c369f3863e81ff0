// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Connection tracking: classify the packet's state before the rule stages
 * (the `ct` match reads key.ct_state) and write the flow back only if the
 * packet passes.  Runs only when the live rule set uses `ct`.
 * States follow nftables: new (first packets of one direction), established
 * (a reply was seen), related (ICMP error quoting a tracked flow), invalid.
 * Two tables (xw_maps.h): unreplied flows in xw_ct_new, the others in xw_ct,
 * so a flood of new flows cannot evict an established one. */
#ifndef XW_CT_H
#define XW_CT_H

#include "xw_maps.h"
#include "xw_parse.h"

/* TCP flag bits in the flags byte (xw_key.tcp_flags, XW_TCP_FLAGS_BYTE);
 * linux/tcp.h names them only as bits of a 32-bit big-endian word. */
#define XW_TCP_FIN 0x01
#define XW_TCP_SYN 0x02
#define XW_TCP_RST 0x04
#define XW_TCP_ACK 0x10

/* An ICMP echo's identifier stands in for a port of its flow. */
enum xw_ct_echo {
	XW_ECHO_NONE = 0,       /* not an echo */
	XW_ECHO_REQUEST,        /* the id is the source "port" */
	XW_ECHO_REPLY,          /* the id is the destination "port" */
};

static __always_inline void xw_ct_stat(__u32 i)
{
	__u64 *c = bpf_map_lookup_elem(&xw_ct_stats, &i);

	if (c)
		(*c)++;
}

static __always_inline void xw_ct_live(__u32 tbl, __s64 d)
{
	__s64 *c = bpf_map_lookup_elem(&xw_ct_count, &tbl);

	if (c)
		__sync_fetch_and_add(c, d);
}

/* The flow's entry: the established table first, then the unreplied one. */
static __always_inline struct xw_ct_val *xw_ct_find(const struct xw_ct_key *k, __u8 *tbl)
{
	struct xw_ct_val *e = bpf_map_lookup_elem(&xw_ct, k);

	*tbl = XW_CT_TBL_EST;
	if (e)
		return e;
	*tbl = XW_CT_TBL_NEW;
	return bpf_map_lookup_elem(&xw_ct_new, k);
}

static __always_inline int xw_ct_delete(const struct xw_ct_key *k, __u8 tbl)
{
	return tbl == XW_CT_TBL_NEW ? bpf_map_delete_elem(&xw_ct_new, k) :
				      bpf_map_delete_elem(&xw_ct, k);
}

/* Insert a flow (BPF_NOEXIST); a full table made room by evicting one:
 * counted as an early drop (unreplied table) or an eviction. */
static __always_inline int xw_ct_insert(const struct xw_ct_key *k, const struct xw_ct_val *v,
					__u32 tbl, const struct xw_cfg *cfg)
{
	__s64 *c;
	int rc;

	rc = tbl == XW_CT_TBL_NEW ? bpf_map_update_elem(&xw_ct_new, k, v, BPF_NOEXIST) :
				    bpf_map_update_elem(&xw_ct, k, v, BPF_NOEXIST);
	if (rc)
		return rc;
	c = bpf_map_lookup_elem(&xw_ct_count, &tbl);
	if (c && __sync_fetch_and_add(c, 1) >= (__s64)cfg->ct_size) {
		__sync_fetch_and_add(c, -1);
		xw_ct_stat(tbl == XW_CT_TBL_NEW ? XW_CTC_EARLY_DROP : XW_CTC_EVICTED);
	}
	return 0;
}

static __always_inline int xw_addr_eq(const __u8 *a, const __u8 *b)
{
	__u64 a0 = 0, a1 = 0, b0 = 0, b1 = 0;

	__builtin_memcpy(&a0, a, 8);
	__builtin_memcpy(&a1, a + 8, 8);
	__builtin_memcpy(&b0, b, 8);
	__builtin_memcpy(&b1, b + 8, 8);
	return a0 == b0 && a1 == b1;
}

/* Normalised key; returns 1 when the packet travels from endpoint b. */
static __always_inline int xw_ct_make(struct xw_ct_key *ck, __u8 proto, int v6,
				      const __u8 *src, const __u8 *dst, __u16 sp, __u16 dp)
{
	__u64 s0 = 0, s1 = 0, d0 = 0, d1 = 0;
	int from_b;

	__builtin_memcpy(&s0, src, 8);
	__builtin_memcpy(&s1, src + 8, 8);
	__builtin_memcpy(&d0, dst, 8);
	__builtin_memcpy(&d1, dst + 8, 8);
	/* any total order works: both directions compute the same key */
	if (s0 != d0)
		from_b = s0 > d0;
	else if (s1 != d1)
		from_b = s1 > d1;
	else
		from_b = sp > dp;
	__builtin_memset(ck, 0, sizeof(*ck));
	ck->proto = proto;
	ck->family = v6 ? 6 : 4;
	if (from_b) {
		__builtin_memcpy(ck->a, dst, 16);
		__builtin_memcpy(ck->b, src, 16);
		ck->pa = dp;
		ck->pb = sp;
	} else {
		__builtin_memcpy(ck->a, src, 16);
		__builtin_memcpy(ck->b, dst, 16);
		ck->pa = sp;
		ck->pb = dp;
	}
	return from_b;
}

static __always_inline int xw_ct_expired(const struct xw_ct_val *v, __u64 now,
					 const struct xw_cfg *cfg)
{
	__u32 st = v->state;

	if (st >= XW_CTS_MAX)
		return 1;
	/* signed: another CPU may have stored a later last_ns between this
	 * CPU's clock read and its read of the entry; unsigned, that idle time
	 * would wrap to centuries and expire a busy flow */
	return (__s64)(now - v->last_ns) > (__s64)((__u64)cfg->ct_timeout[st] * 1000000000ull);
}

/* RFC 5961's test for a RST from endpoint d: its sequence number must lie
 * in the window the other endpoint last announced, from the last ACK it
 * sent up to what d has sent plus that window.  Before the other endpoint
 * acknowledged anything: exactly d's next sequence number.  Before d sent
 * anything (a SYN just seen): the RST must acknowledge the SYN. */
static __always_inline int xw_ct_rst_ok(const struct xw_ct_val *v, int d,
					const struct xw_pkt_x *x, __u8 f)
{
	__u32 lo, hi, span, win = 0;
	int o = !d;

	if (!(v->seq_ok & (XW_CTSEQ_END_A << d))) {
		if (!(v->seq_ok & (XW_CTSEQ_END_A << o)))
			return 1;
		return (f & XW_TCP_ACK) && x->tcp_ack == v->seq_end[o & 1];
	}
	lo = v->seq_end[d & 1];
	if (v->seq_ok & (XW_CTSEQ_ACK_A << o)) {
		lo = v->seq_ack[o & 1];
		win = v->seq_win[o & 1];
	}
	hi = v->seq_end[d & 1] + win;
	span = hi - lo;
	if ((__s32)span < 0)
		span = win;
	return x->tcp_seq - lo <= span;
}

/* The handshake moves on only with a segment that acknowledges exactly
 * what the other endpoint sent (its SYN, or the SYN+ACK): a blind forger
 * would have to guess the ISN. */
static __always_inline int xw_ct_acks_all(const struct xw_ct_val *v, int d,
					  const struct xw_pkt_x *x)
{
	int o = !d;

	return !(v->seq_ok & (XW_CTSEQ_END_A << o)) || x->tcp_ack == v->seq_end[o & 1];
}

/* Follow a passing TCP segment from endpoint d (not a RST): its end moves
 * d's sequence forward by at most XW_CT_SEQ_JUMP; its ACK may not
 * acknowledge more than the other endpoint sent, nor less than before. */
static __always_inline void xw_ct_seq(struct xw_ct_val *v, int d, const struct xw_pkt_x *x,
				      __u8 f, int reset)
{
	__u32 e = x->tcp_seq + x->tcp_len + !!(f & XW_TCP_SYN) + !!(f & XW_TCP_FIN);
	__u8 endd = XW_CTSEQ_END_A << d, ackd = XW_CTSEQ_ACK_A << d;
	int o = !d;

	if (reset || !(v->seq_ok & endd)) {
		v->seq_end[d & 1] = e;
		v->seq_ok |= endd;
	} else {
		__s32 adv = (__s32)(e - v->seq_end[d & 1]);

		if (adv > 0 && adv <= (__s32)XW_CT_SEQ_JUMP)
			v->seq_end[d & 1] = e;
	}
	if (f & XW_TCP_ACK) {
		__u32 a = x->tcp_ack;
		int ok = 1;

		if (v->seq_ok & (XW_CTSEQ_END_A << o)) {
			__s32 past = (__s32)(a - v->seq_end[o & 1]);

			ok = past <= 0 && past >= -(__s32)XW_CT_SEQ_JUMP;
		}
		if (ok && (v->seq_ok & ackd))
			ok = (__s32)(a - v->seq_ack[d & 1]) >= 0;
		if (ok) {
			v->seq_ack[d & 1] = a;
			v->seq_win[d & 1] = x->tcp_win;
			v->seq_ok |= ackd;
		}
	}
}

/* The packet's ct state bit, counted (not for a probe frame). */
static __always_inline __u8 xw_ct_bit_count(const struct xw_scratch *s, __u8 bit)
{
	if (s->probe)
		return bit;
	switch (bit) {
	case XW_CTB_NEW: xw_ct_stat(XW_CTC_NEW); break;
	case XW_CTB_ESTABLISHED: xw_ct_stat(XW_CTC_ESTABLISHED); break;
	case XW_CTB_RELATED: xw_ct_stat(XW_CTC_RELATED); break;
	default: xw_ct_stat(XW_CTC_INVALID); break;
	}
	return bit;
}

/* An ICMP error goes back to the sender of the packet it quotes: related
 * to that flow if it is tracked, else invalid. */
static __always_inline __u8 xw_ct_icmp_error(const struct xw_key *k, const struct xw_pkt_x *x,
					     const struct xw_cfg *cfg, __u64 now, int v6)
{
	struct xw_ct_key ik;
	struct xw_ct_val *e;
	__u8 itbl;

	if (x->has_inner && xw_addr_eq(k->dst, x->inner_src)) {
		xw_ct_make(&ik, x->inner_proto, v6, x->inner_src, x->inner_dst, x->inner_sport,
			   x->inner_dport);
		e = xw_ct_find(&ik, &itbl);
		if (e && !xw_ct_expired(e, now, cfg))
			return XW_CTB_RELATED;
	}
	return XW_CTB_INVALID;
}

/* The "ports" of the packet's flow: those of TCP, UDP and SCTP, or the id
 * of an ICMP echo (the request's source, the reply's destination).
 * Returns the ct state bit when the packet decides it alone (no ports,
 * an ICMP error, informational ICMP), else 0. */
static __always_inline __u8 xw_ct_flow_ports(const struct xw_key *k, const struct xw_pkt_x *x,
					     const struct xw_cfg *cfg, __u64 now, int v6,
					     __u16 *sp, __u16 *dp, enum xw_ct_echo *echo)
{
	__u8 proto = k->proto, t = k->icmp_type;

	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP) {
		if (!(k->flags & XWK_PORTS))
			return XW_CTB_INVALID;
		*sp = k->sport;
		*dp = k->dport;
		return 0;
	}
	if (!((proto == IPPROTO_ICMP && !v6) || (proto == IPPROTO_ICMPV6 && v6)))
		return 0;       /* other protocols: the addresses alone */
	if (!(k->flags & (XWK_ICMP | XWK_ICMP6)))
		return XW_CTB_INVALID;
	if (xw_icmp_is_error(t, v6))
		return xw_ct_icmp_error(k, x, cfg, now, v6);
	if ((!v6 && t == XW_ICMP_ECHO) || (v6 && t == ICMPV6_ECHO_REQUEST)) {
		*echo = XW_ECHO_REQUEST;
		*sp = x->icmp_id;
	} else if ((!v6 && t == XW_ICMP_ECHOREPLY) || (v6 && t == ICMPV6_ECHO_REPLY)) {
		*echo = XW_ECHO_REPLY;
		*dp = x->icmp_id;
	} else {
		/* other informational ICMP: one-off, nothing to track */
		return XW_CTB_NEW;
	}
	return 0;
}

/* No live entry: a flow starts here (the entry to create in s->ct_val) if
 * the packet may start one; a TCP flow needs a SYN, an echo a request. */
static __always_inline __u8 xw_ct_new_flow(struct xw_scratch *s, const struct xw_pkt_x *x,
					   __u64 now, int from_b, enum xw_ct_echo echo)
{
	struct xw_ct_val *v = &s->ct_val;
	__u8 proto = s->key.proto, f = s->key.tcp_flags;

	__builtin_memset(v, 0, sizeof(*v));
	if (proto == IPPROTO_TCP) {
		if ((f & (XW_TCP_SYN | XW_TCP_ACK | XW_TCP_RST)) != XW_TCP_SYN)
			return XW_CTB_INVALID;
		v->state = XW_CTS_TCP_SYN_SENT;
		xw_ct_seq(v, from_b, x, f, 1);
	} else if (echo == XW_ECHO_REPLY) {
		return XW_CTB_INVALID;
	} else if (echo == XW_ECHO_REQUEST) {
		v->state = XW_CTS_ICMP_UNREPLIED;
	} else if (proto == IPPROTO_UDP) {
		v->state = XW_CTS_UDP_UNREPLIED;
	} else {
		v->state = XW_CTS_OTHER_UNREPLIED;
	}
	v->created_ns = now;
	v->last_ns = now;
	v->init_b = (__u8)from_b;
	v->packets[from_b & 1] = 1;
	s->ct_tbl = XW_CT_TBL_NEW;
	s->ct_op = XW_CT_OP_CREATE;
	return XW_CTB_NEW;
}

/* A TCP segment of a tracked flow (v: a copy of its entry) moves its
 * state: the handshake, a reopen on the same ports, FINs, a RST.
 * Returns -1 for a blind RST (invalid, the flow stays as it was). */
static __always_inline int xw_ct_tcp_track(struct xw_scratch *s, struct xw_ct_val *v,
					   const struct xw_pkt_x *x, __u64 now, int from_b,
					   int reply)
{
	__u8 f = s->key.tcp_flags, st = v->state;

	if (f & XW_TCP_RST) {
		if (!xw_ct_rst_ok(v, from_b, x, f)) {
			if (!s->probe)
				xw_ct_stat(XW_CTC_RST_IGNORED);
			return -1;
		}
		st = XW_CTS_TCP_CLOSE;
	} else {
		int syn = (f & (XW_TCP_SYN | XW_TCP_ACK)) == XW_TCP_SYN && !reply, restart = 0;
		int reopen = syn && (st == XW_CTS_TCP_TIME_WAIT || st == XW_CTS_TCP_CLOSE);

		if (reopen) {
			/* the same ports again: a new connection */
			st = XW_CTS_TCP_SYN_SENT;
			v->seen_reply = 0;
			v->fin = 0;
			v->created_ns = now;
			v->seq_ok = 0;
		} else if ((f & (XW_TCP_SYN | XW_TCP_ACK)) == (XW_TCP_SYN | XW_TCP_ACK) &&
			   reply && st == XW_CTS_TCP_SYN_SENT && xw_ct_acks_all(v, from_b, x)) {
			st = XW_CTS_TCP_SYN_RECV;
			restart = 1;
		} else if ((f & XW_TCP_ACK) && !reply && st == XW_CTS_TCP_SYN_RECV &&
			   xw_ct_acks_all(v, from_b, x)) {
			st = XW_CTS_TCP_ESTABLISHED;
		}
		/* the initiator's SYN (again, maybe with a new ISN) and the
		 * SYN+ACK answering it restart the sender's sequence;
		 * anything else follows it */
		xw_ct_seq(v, from_b, x, f, restart || (syn && st == XW_CTS_TCP_SYN_SENT));
	}
	if ((f & XW_TCP_FIN) && st != XW_CTS_TCP_CLOSE) {
		v->fin |= from_b ? XW_CT_FIN_B : XW_CT_FIN_A;
		st = v->fin == (XW_CT_FIN_A | XW_CT_FIN_B) ? XW_CTS_TCP_TIME_WAIT :
							   XW_CTS_TCP_FIN_WAIT;
	}
	v->state = st;
	return 0;
}

/* A packet of a tracked flow (e: its live entry): the updated entry to
 * write back (s->ct_val, XW_CT_OP_UPDATE); established once replied. */
static __always_inline __u8 xw_ct_known_flow(struct xw_scratch *s, const struct xw_pkt_x *x,
					     const struct xw_ct_val *e, __u64 now, int from_b)
{
	struct xw_ct_val *v = &s->ct_val;
	__u8 proto = s->key.proto;
	int reply;

	__builtin_memcpy(v, e, sizeof(*v));
	reply = from_b != v->init_b;
	if (proto == IPPROTO_TCP) {
		if (xw_ct_tcp_track(s, v, x, now, from_b, reply))
			return XW_CTB_INVALID;
	} else if (reply) {
		v->state = v->state == XW_CTS_ICMP_UNREPLIED ? XW_CTS_ICMP_REPLIED :
			   v->state == XW_CTS_UDP_UNREPLIED ? XW_CTS_UDP_REPLIED :
			   v->state == XW_CTS_OTHER_UNREPLIED ? XW_CTS_OTHER_REPLIED : v->state;
	}
	if (reply)
		v->seen_reply = 1;
	v->last_ns = now;
	s->ct_from_b = (__u8)from_b;
	s->ct_op = XW_CT_OP_UPDATE;
	/* out of the unreplied table once the flow is "assured" (as
	 * nf_conntrack's early drop spares): TCP with its handshake
	 * complete, others with a reply */
	s->ct_promote = s->ct_tbl == XW_CT_TBL_NEW &&
			(proto == IPPROTO_TCP ? v->state == XW_CTS_TCP_ESTABLISHED :
						v->seen_reply);
	return v->seen_reply ? XW_CTB_ESTABLISHED : XW_CTB_NEW;
}

/* Set s->key.ct_state and prepare s->ct_op / ct_key / ct_val. */
static __always_inline void xw_ct_begin(struct xw_scratch *s, const struct xw_pkt_x *x,
					const struct xw_cfg *cfg)
{
	struct xw_key *k = &s->key;
	int v6 = !!(k->flags & XWK_V6), from_b;
	enum xw_ct_echo echo = XW_ECHO_NONE;
	__u16 sp = 0, dp = 0;
	struct xw_ct_val *e;
	__u64 now;
	__u8 bit;

	if (!cfg->ct_on[s->gen] || !(k->flags & XWK_L3))
		return;                 /* not IP: untracked */
	if (k->flags & XWK_FRAG_LATER)
		return;                 /* no ports to find the flow: untracked */
	now = bpf_ktime_get_ns();
	bit = xw_ct_flow_ports(k, x, cfg, now, v6, &sp, &dp, &echo);
	if (bit) {
		k->ct_state = xw_ct_bit_count(s, bit);
		return;
	}
	from_b = xw_ct_make(&s->ct_key, k->proto, v6, k->src, k->dst, sp, dp);
	e = xw_ct_find(&s->ct_key, &s->ct_tbl);
	if (e && xw_ct_expired(e, now, cfg)) {
		/* a probe frame sees it gone but leaves it to real traffic */
		if (!s->probe && xw_ct_delete(&s->ct_key, s->ct_tbl) == 0) {
			xw_ct_stat(XW_CTC_EXPIRED);
			xw_ct_live(s->ct_tbl, -1);
		}
		e = 0;
	}
	if (!e)
		bit = xw_ct_new_flow(s, x, now, from_b, echo);
	else
		bit = xw_ct_known_flow(s, x, e, now, from_b);
	k->ct_state = xw_ct_bit_count(s, bit);
}

/* The packet passed: remember its flow. */
static __always_inline void xw_ct_commit(struct xw_scratch *s, const struct xw_cfg *cfg)
{
	if (s->ct_op == XW_CT_OP_CREATE) {
		if (xw_ct_insert(&s->ct_key, &s->ct_val, XW_CT_TBL_NEW, cfg) == 0)
			xw_ct_stat(XW_CTC_CREATED);
	} else if (s->ct_op == XW_CT_OP_UPDATE) {
		/* in place: an update call would allocate a new LRU element for
		 * every packet of an established flow */
		struct xw_ct_val *e;
		__u8 tbl;

		if (s->ct_promote) {
			/* assured: the flow moves to the table of established ones */
			e = bpf_map_lookup_elem(&xw_ct_new, &s->ct_key);
			if (e) {
				s->ct_val.packets[0] = e->packets[0];
				s->ct_val.packets[1] = e->packets[1];
			}
			s->ct_val.packets[s->ct_from_b & 1]++;
			if (bpf_map_delete_elem(&xw_ct_new, &s->ct_key) == 0)
				xw_ct_live(XW_CT_TBL_NEW, -1);
			if (xw_ct_insert(&s->ct_key, &s->ct_val, XW_CT_TBL_EST, cfg) == 0)
				xw_ct_stat(XW_CTC_PROMOTED);
			return;
		}
		e = xw_ct_find(&s->ct_key, &tbl);
		if (!e) {
			/* gone meanwhile (evicted, expired by another CPU) */
			s->ct_val.packets[s->ct_from_b & 1]++;
			xw_ct_insert(&s->ct_key, &s->ct_val,
				     s->ct_tbl == XW_CT_TBL_EST ? XW_CT_TBL_EST : XW_CT_TBL_NEW, cfg);
			return;
		}
		e->state = s->ct_val.state;
		e->init_b = s->ct_val.init_b;
		e->seen_reply = s->ct_val.seen_reply;
		e->fin = s->ct_val.fin;
		e->created_ns = s->ct_val.created_ns;
		e->last_ns = s->ct_val.last_ns;
		e->seq_end[0] = s->ct_val.seq_end[0];
		e->seq_end[1] = s->ct_val.seq_end[1];
		e->seq_ack[0] = s->ct_val.seq_ack[0];
		e->seq_ack[1] = s->ct_val.seq_ack[1];
		e->seq_win[0] = s->ct_val.seq_win[0];
		e->seq_win[1] = s->ct_val.seq_win[1];
		e->seq_ok = s->ct_val.seq_ok;
		__sync_fetch_and_add(&e->packets[s->ct_from_b & 1], 1);
	}
}

#endif
