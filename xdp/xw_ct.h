// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Connection tracking: classify the packet's state before the rule stages
 * (the `ct` match reads key.ct_state) and write the flow back only if the
 * packet passes.  Runs only when the live rule set uses `ct`.
 * States follow nftables: new (first packets of one direction), established
 * (a reply was seen), related (ICMP error quoting a tracked flow), invalid. */
#ifndef XW_CT_H
#define XW_CT_H

#include "xw_maps.h"
#include "xw_parse.h"

#define XW_TCP_FIN 0x01
#define XW_TCP_SYN 0x02
#define XW_TCP_RST 0x04
#define XW_TCP_ACK 0x10

static __always_inline void xw_ct_stat(__u32 i)
{
	__u64 *c = bpf_map_lookup_elem(&xw_ct_stats, &i);

	if (c)
		(*c)++;
}

static __always_inline void xw_ct_live(__s64 d)
{
	__u32 zero = 0;
	__s64 *c = bpf_map_lookup_elem(&xw_ct_count, &zero);

	if (c)
		__sync_fetch_and_add(c, d);
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
	return now - v->last_ns > (__u64)cfg->ct_timeout[st] * 1000000000ull;
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

/* Set s->key.ct_state and prepare s->ct_op / ct_key / ct_val. */
static __always_inline void xw_ct_begin(struct xw_scratch *s, const struct xw_pkt_x *x,
					const struct xw_cfg *cfg)
{
	struct xw_key *k = &s->key;
	int v6 = !!(k->flags & XWK_V6), from_b, echo = 0;
	__u16 sp = 0, dp = 0;
	__u8 proto = k->proto, f = k->tcp_flags;
	struct xw_ct_val *e;
	__u64 now;

	if (!cfg->ct_on[s->gen] || !(k->flags & XWK_L3))
		return;                 /* not IP: untracked */
	if (k->flags & XWK_FRAG_LATER)
		return;                 /* no ports to find the flow: untracked */
	now = bpf_ktime_get_ns();

	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP) {
		if (!(k->flags & XWK_PORTS)) {
			k->ct_state = xw_ct_bit_count(s, XW_CTB_INVALID);
			return;
		}
		sp = k->sport;
		dp = k->dport;
	} else if ((proto == IPPROTO_ICMP && !v6) || (proto == IPPROTO_ICMPV6 && v6)) {
		__u8 t = k->icmp_type;

		if (!(k->flags & (XWK_ICMP | XWK_ICMP6))) {
			k->ct_state = xw_ct_bit_count(s, XW_CTB_INVALID);
			return;
		}
		if (xw_icmp_is_error(t, v6)) {
			struct xw_ct_key ik;

			/* an error goes back to the sender of the packet it quotes */
			if (x->has_inner && xw_addr_eq(k->dst, x->inner_src)) {
				xw_ct_make(&ik, x->inner_proto, v6, x->inner_src, x->inner_dst,
					   x->inner_sport, x->inner_dport);
				e = bpf_map_lookup_elem(&xw_ct, &ik);
				if (e && !xw_ct_expired(e, now, cfg)) {
					k->ct_state = xw_ct_bit_count(s, XW_CTB_RELATED);
					return;
				}
			}
			k->ct_state = xw_ct_bit_count(s, XW_CTB_INVALID);
			return;
		}
		if ((!v6 && t == 8) || (v6 && t == 128)) {
			echo = 1;           /* request: id as the source "port" */
			sp = x->icmp_id;
		} else if ((!v6 && t == 0) || (v6 && t == 129)) {
			echo = 2;           /* reply: id as the destination "port" */
			dp = x->icmp_id;
		} else {
			/* other informational ICMP: one-off, nothing to track */
			k->ct_state = xw_ct_bit_count(s, XW_CTB_NEW);
			return;
		}
	}

	from_b = xw_ct_make(&s->ct_key, proto, v6, k->src, k->dst, sp, dp);
	e = bpf_map_lookup_elem(&xw_ct, &s->ct_key);
	if (e && xw_ct_expired(e, now, cfg)) {
		/* a probe frame sees it gone but leaves it to real traffic */
		if (!s->probe && bpf_map_delete_elem(&xw_ct, &s->ct_key) == 0) {
			xw_ct_stat(XW_CTC_EXPIRED);
			xw_ct_live(-1);
		}
		e = 0;
	}

	if (!e) {
		struct xw_ct_val *v = &s->ct_val;

		__builtin_memset(v, 0, sizeof(*v));

		if (proto == IPPROTO_TCP) {
			if ((f & (XW_TCP_SYN | XW_TCP_ACK | XW_TCP_RST)) != XW_TCP_SYN) {
				k->ct_state = xw_ct_bit_count(s, XW_CTB_INVALID);
				return;
			}
			v->state = XW_CTS_TCP_SYN_SENT;
		} else if (echo == 2) {
			k->ct_state = xw_ct_bit_count(s, XW_CTB_INVALID);
			return;
		} else if (echo) {
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
		s->ct_op = 1;
		k->ct_state = xw_ct_bit_count(s, XW_CTB_NEW);
		return;
	}

	{
		struct xw_ct_val *v = &s->ct_val;
		int reply;

		__builtin_memcpy(v, e, sizeof(*v));
		reply = from_b != v->init_b;
		if (proto == IPPROTO_TCP) {
			__u8 st = v->state;

			if (f & XW_TCP_RST) {
				st = XW_CTS_TCP_CLOSE;
			} else if ((f & (XW_TCP_SYN | XW_TCP_ACK)) == XW_TCP_SYN && !reply &&
				   (st == XW_CTS_TCP_TIME_WAIT || st == XW_CTS_TCP_CLOSE)) {
				/* the same ports again: a new connection */
				st = XW_CTS_TCP_SYN_SENT;
				v->seen_reply = 0;
				v->fin = 0;
				v->created_ns = now;
			} else if ((f & (XW_TCP_SYN | XW_TCP_ACK)) == (XW_TCP_SYN | XW_TCP_ACK) &&
				   reply && st == XW_CTS_TCP_SYN_SENT) {
				st = XW_CTS_TCP_SYN_RECV;
			} else if ((f & XW_TCP_ACK) && !reply && st == XW_CTS_TCP_SYN_RECV) {
				st = XW_CTS_TCP_ESTABLISHED;
			}
			if ((f & XW_TCP_FIN) && st != XW_CTS_TCP_CLOSE) {
				v->fin |= from_b ? 2 : 1;
				st = v->fin == 3 ? XW_CTS_TCP_TIME_WAIT : XW_CTS_TCP_FIN_WAIT;
			}
			v->state = st;
		} else if (reply) {
			v->state = v->state == XW_CTS_ICMP_UNREPLIED ? XW_CTS_ICMP_REPLIED :
				   v->state == XW_CTS_UDP_UNREPLIED ? XW_CTS_UDP_REPLIED :
				   v->state == XW_CTS_OTHER_UNREPLIED ? XW_CTS_OTHER_REPLIED : v->state;
		}
		if (reply)
			v->seen_reply = 1;
		v->last_ns = now;
		s->ct_from_b = (__u8)from_b;
		s->ct_op = 2;
		k->ct_state = xw_ct_bit_count(s, v->seen_reply ? XW_CTB_ESTABLISHED : XW_CTB_NEW);
	}
}

/* The packet passed: remember its flow. */
static __always_inline void xw_ct_commit(struct xw_scratch *s, const struct xw_cfg *cfg)
{
	if (s->ct_op == 1) {
		if (bpf_map_update_elem(&xw_ct, &s->ct_key, &s->ct_val, BPF_NOEXIST) == 0) {
			__u32 zero = 0;
			__s64 *c = bpf_map_lookup_elem(&xw_ct_count, &zero);

			xw_ct_stat(XW_CTC_CREATED);
			if (c) {
				/* a full LRU table made room by evicting a flow */
				if (__sync_fetch_and_add(c, 1) >= (__s64)cfg->ct_size) {
					__sync_fetch_and_add(c, -1);
					xw_ct_stat(XW_CTC_EVICTED);
				}
			}
		}
	} else if (s->ct_op == 2) {
		/* in place: an update call would allocate a new LRU element for
		 * every packet of an established flow */
		struct xw_ct_val *e = bpf_map_lookup_elem(&xw_ct, &s->ct_key);

		if (!e) {
			s->ct_val.packets[s->ct_from_b & 1]++;
			bpf_map_update_elem(&xw_ct, &s->ct_key, &s->ct_val, BPF_ANY);
			return;
		}
		e->state = s->ct_val.state;
		e->init_b = s->ct_val.init_b;
		e->seen_reply = s->ct_val.seen_reply;
		e->fin = s->ct_val.fin;
		e->created_ns = s->ct_val.created_ns;
		e->last_ns = s->ct_val.last_ns;
		__sync_fetch_and_add(&e->packets[s->ct_from_b & 1], 1);
	}
}

#endif
