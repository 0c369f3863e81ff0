// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Connection tracking model (see ctmodel.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "ctmodel.h"

#define P_ICMP   1
#define P_TCP    6
#define P_UDP    17
#define P_ICMP6  58
#define P_SCTP   132

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_ACK 0x10

#define NBUCKET 4096u

struct ctm {
	int on;
	uint32_t timeout[XW_CTS_MAX];
	struct ctm_entry *bucket[NBUCKET];
};

/* ---- flows ---- */

static int ep_cmp(const struct ctm_ep *x, const struct ctm_ep *y)
{
	/* the model's own total order: port first, then address */
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return memcmp(x->addr, y->addr, 16);
}

static int ep_eq(const struct ctm_ep *x, const struct ctm_ep *y)
{
	return x->port == y->port && !memcmp(x->addr, y->addr, 16);
}

int ctm_flow_make(struct ctm_flow *f, uint8_t family, uint8_t proto,
		  const struct ctm_ep *x, const struct ctm_ep *y)
{
	memset(f, 0, sizeof(*f));
	f->family = family;
	f->proto = proto;
	if (ep_cmp(x, y) <= 0) {
		f->e[0] = *x;
		f->e[1] = *y;
		return 0;
	}
	f->e[0] = *y;
	f->e[1] = *x;
	return 1;
}

int ctm_flow_eq(const struct ctm_flow *a, const struct ctm_flow *b)
{
	return a->family == b->family && a->proto == b->proto &&
	       ep_eq(&a->e[0], &b->e[0]) && ep_eq(&a->e[1], &b->e[1]);
}

static int is_ported(uint8_t proto)
{
	return proto == P_TCP || proto == P_UDP || proto == P_SCTP;
}

/* ICMP of the packet's own family (ICMP in IPv6 or ICMPv6 in IPv4 is an
 * "other" protocol) */
static int is_icmp(uint8_t family, uint8_t proto)
{
	return (family == 4 && proto == P_ICMP) || (family == 6 && proto == P_ICMP6);
}

static int is_echo_req(uint8_t family, uint8_t type)
{
	return family == 4 ? type == 8 : type == 128;
}

static int is_echo_rep(uint8_t family, uint8_t type)
{
	return family == 4 ? type == 0 : type == 129;
}

static int is_error(uint8_t family, uint8_t type)
{
	if (family == 6)
		return type >= 1 && type <= 4;
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

static void ep_set(struct ctm_ep *e, const uint8_t *addr, uint16_t port)
{
	memcpy(e->addr, addr, 16);
	e->port = port;
}

/* Endpoints of a packet/header with the given fields; 0 if it has no flow. */
static int endpoints(uint8_t family, uint8_t proto, const uint8_t *src, const uint8_t *dst,
		     uint16_t sport, uint16_t dport, uint8_t icmp_type, uint16_t icmp_id,
		     struct ctm_flow *f, struct ctm_ep *sender)
{
	struct ctm_ep s, d;

	if (is_ported(proto)) {
		ep_set(&s, src, sport);
		ep_set(&d, dst, dport);
	} else if (is_icmp(family, proto)) {
		if (is_echo_req(family, icmp_type)) {
			ep_set(&s, src, icmp_id);
			ep_set(&d, dst, 0);
		} else if (is_echo_rep(family, icmp_type)) {
			ep_set(&s, src, 0);
			ep_set(&d, dst, icmp_id);
		} else {
			return 0;
		}
	} else {
		ep_set(&s, src, 0);
		ep_set(&d, dst, 0);
	}
	ctm_flow_make(f, family, proto, &s, &d);
	if (sender)
		*sender = s;
	return 1;
}

int ctm_pkt_flow(const struct ctm_pkt *p, struct ctm_flow *f, struct ctm_ep *sender)
{
	if (p->family != 4 && p->family != 6)
		return 0;
	if (p->later_frag)
		return 0;
	if ((is_ported(p->proto) || is_icmp(p->family, p->proto)) && !p->l4)
		return 0;
	return endpoints(p->family, p->proto, p->src, p->dst, p->sport, p->dport,
			 p->icmp_type, p->icmp_id, f, sender);
}

int ctm_quote_flow(const struct ctm_pkt *p, struct ctm_flow *f)
{
	if (p->family != 4 && p->family != 6)
		return 0;
	if (p->later_frag || !is_icmp(p->family, p->proto) || !p->l4 ||
	    !is_error(p->family, p->icmp_type) || !p->q.present || p->q.later_frag)
		return 0;
	return endpoints(p->family, p->q.proto, p->q.src, p->q.dst, p->q.sport, p->q.dport,
			 p->q.icmp_type, p->q.icmp_id, f, NULL);
}

/* ---- table ---- */

static uint32_t flow_hash(const struct ctm_flow *f)
{
	uint32_t h = 2166136261u;
	const uint8_t *b;

#define MIX(x) do { h ^= (uint8_t)(x); h *= 16777619u; } while (0)
	MIX(f->family);
	MIX(f->proto);
	for (int i = 0; i < 2; i++) {
		b = f->e[i].addr;
		for (int j = 0; j < 16; j++)
			MIX(b[j]);
		MIX(f->e[i].port >> 8);
		MIX(f->e[i].port);
	}
#undef MIX
	return h % NBUCKET;
}

struct ctm *ctm_new(void)
{
	struct ctm *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	/* the documented defaults (nftables'), in seconds */
	m->timeout[XW_CTS_TCP_SYN_SENT] = 120;
	m->timeout[XW_CTS_TCP_SYN_RECV] = 60;
	m->timeout[XW_CTS_TCP_ESTABLISHED] = 432000;
	m->timeout[XW_CTS_TCP_FIN_WAIT] = 120;
	m->timeout[XW_CTS_TCP_TIME_WAIT] = 120;
	m->timeout[XW_CTS_TCP_CLOSE] = 10;
	m->timeout[XW_CTS_UDP_UNREPLIED] = 30;
	m->timeout[XW_CTS_UDP_REPLIED] = 120;
	m->timeout[XW_CTS_ICMP_UNREPLIED] = 30;
	m->timeout[XW_CTS_ICMP_REPLIED] = 30;
	m->timeout[XW_CTS_OTHER_UNREPLIED] = 600;
	m->timeout[XW_CTS_OTHER_REPLIED] = 600;
	return m;
}

void ctm_flush(struct ctm *m)
{
	for (size_t i = 0; i < NBUCKET; i++) {
		struct ctm_entry *e = m->bucket[i], *n;

		for (; e; e = n) {
			n = e->next;
			free(e);
		}
		m->bucket[i] = NULL;
	}
}

void ctm_free(struct ctm *m)
{
	if (!m)
		return;
	ctm_flush(m);
	free(m);
}

void ctm_set_enabled(struct ctm *m, int on)
{
	m->on = !!on;
}

int ctm_enabled(const struct ctm *m)
{
	return m->on;
}

void ctm_set_timeout(struct ctm *m, int state, uint32_t secs)
{
	if (state > XW_CTS_NONE && state < XW_CTS_MAX)
		m->timeout[state] = secs;
}

uint32_t ctm_timeout(const struct ctm *m, int state)
{
	return state > XW_CTS_NONE && state < XW_CTS_MAX ? m->timeout[state] : 0;
}

static uint64_t timeout_ns(const struct ctm *m, const struct ctm_entry *e)
{
	return (uint64_t)ctm_timeout(m, e->state) * 1000000000ull;
}

static int alive(const struct ctm *m, const struct ctm_entry *e, uint64_t now)
{
	if (e->state <= XW_CTS_NONE || e->state >= XW_CTS_MAX)
		return 0;
	/* idle time strictly beyond the timeout: dead */
	return now < e->last_ns || now - e->last_ns <= timeout_ns(m, e);
}

static struct ctm_entry *find_any(const struct ctm *m, const struct ctm_flow *f)
{
	struct ctm_entry *e = m->bucket[flow_hash(f)];

	for (; e; e = e->next)
		if (ctm_flow_eq(&e->f, f))
			return e;
	return NULL;
}

const struct ctm_entry *ctm_find(const struct ctm *m, const struct ctm_flow *f)
{
	return find_any(m, f);
}

const struct ctm_entry *ctm_lookup(const struct ctm *m, const struct ctm_flow *f, uint64_t now_ns)
{
	const struct ctm_entry *e = find_any(m, f);

	return e && alive(m, e, now_ns) ? e : NULL;
}

/* ---- classification ---- */

static uint8_t unreplied_state(uint8_t family, uint8_t proto)
{
	if (proto == P_UDP)
		return XW_CTS_UDP_UNREPLIED;
	if (is_icmp(family, proto))
		return XW_CTS_ICMP_UNREPLIED;
	return XW_CTS_OTHER_UNREPLIED;
}

static uint8_t replied_state(uint8_t st)
{
	switch (st) {
	case XW_CTS_UDP_UNREPLIED: return XW_CTS_UDP_REPLIED;
	case XW_CTS_ICMP_UNREPLIED: return XW_CTS_ICMP_REPLIED;
	case XW_CTS_OTHER_UNREPLIED: return XW_CTS_OTHER_REPLIED;
	default: return st;
	}
}

/* d is before x in sequence space by at most 2^31 */
static int32_t seq_diff(uint32_t x, uint32_t d)
{
	return (int32_t)(x - d);
}

/* RFC 5961 window test for a RST sent by endpoint side (see ctmodel.h). */
static int rst_acceptable(const struct ctm_entry *n, int side, const struct ctm_pkt *p)
{
	int o = !side;
	uint32_t lo, hi, span, win = 0;

	if (!n->end_ok[side]) {
		if (!n->end_ok[o])
			return 1;
		return (p->tcp_flags & F_ACK) && p->tcp_ack == n->end[o];
	}
	lo = n->end[side];
	if (n->ack_ok[o]) {
		lo = n->ack[o];
		win = n->win[o];
	}
	hi = n->end[side] + win;
	span = seq_diff(hi, lo) < 0 ? win : hi - lo;
	return (uint32_t)(p->tcp_seq - lo) <= span;
}

static void seq_follow(struct ctm_entry *n, int side, const struct ctm_pkt *p, int restart)
{
	uint8_t fl = p->tcp_flags;
	uint32_t end = p->tcp_seq + p->tcp_len + (fl & F_SYN ? 1u : 0u) + (fl & F_FIN ? 1u : 0u);
	int o = !side;

	if (restart || !n->end_ok[side]) {
		n->end[side] = end;
		n->end_ok[side] = 1;
	} else if (seq_diff(end, n->end[side]) >= 1 &&
		   seq_diff(end, n->end[side]) <= (int32_t)XW_CT_SEQ_JUMP) {
		n->end[side] = end;
	}
	if (fl & F_ACK) {
		int take = 1;

		if (n->end_ok[o])
			take = seq_diff(p->tcp_ack, n->end[o]) <= 0 &&
			       seq_diff(p->tcp_ack, n->end[o]) >= -(int32_t)XW_CT_SEQ_JUMP;
		if (take && n->ack_ok[side] && seq_diff(p->tcp_ack, n->ack[side]) < 0)
			take = 0;
		if (take) {
			n->ack[side] = p->tcp_ack;
			n->win[side] = p->tcp_win;
			n->ack_ok[side] = 1;
		}
	}
}

/* The handshake moves on only if the segment acknowledges all the other
 * endpoint sent (when that is known). */
static int acks_all(const struct ctm_entry *n, int side, const struct ctm_pkt *p)
{
	return !n->end_ok[!side] || p->tcp_ack == n->end[!side];
}

static void seq_clear(struct ctm_entry *n)
{
	n->end_ok[0] = n->end_ok[1] = n->ack_ok[0] = n->ack_ok[1] = 0;
	n->end[0] = n->end[1] = n->ack[0] = n->ack[1] = 0;
	n->win[0] = n->win[1] = 0;
}

/* A TCP segment on an entry (a RST has passed rst_acceptable). */
static void tcp_update(struct ctm_entry *n, int reply, int side, const struct ctm_pkt *p)
{
	uint8_t fl = p->tcp_flags;
	int syn = !!(fl & F_SYN), ack = !!(fl & F_ACK), rst = !!(fl & F_RST), fin = !!(fl & F_FIN);
	uint8_t st = n->state;

	if (rst) {
		st = XW_CTS_TCP_CLOSE;
	} else {
		int own_syn = syn && !ack && !reply, restart = 0;

		if (own_syn && (st == XW_CTS_TCP_TIME_WAIT || st == XW_CTS_TCP_CLOSE)) {
			/* the initiator reuses the ports: a new connection */
			st = XW_CTS_TCP_SYN_SENT;
			n->seen_reply = 0;
			n->fin[0] = n->fin[1] = 0;
			seq_clear(n);
		} else if (syn && ack && reply && st == XW_CTS_TCP_SYN_SENT && acks_all(n, side, p)) {
			st = XW_CTS_TCP_SYN_RECV;
			restart = 1;
		} else if (ack && !reply && st == XW_CTS_TCP_SYN_RECV && acks_all(n, side, p)) {
			st = XW_CTS_TCP_ESTABLISHED;
		}
		seq_follow(n, side, p, restart || (own_syn && st == XW_CTS_TCP_SYN_SENT));
	}
	if (fin && st != XW_CTS_TCP_CLOSE) {
		n->fin[side] = 1;
		st = n->fin[0] && n->fin[1] ? XW_CTS_TCP_TIME_WAIT : XW_CTS_TCP_FIN_WAIT;
	}
	n->state = st;
}

void ctm_classify(const struct ctm *m, const struct ctm_pkt *p, uint64_t now_ns,
		  struct ctm_res *r)
{
	struct ctm_ep sender;
	const struct ctm_entry *e;

	memset(r, 0, sizeof(*r));
	if (!m->on) {
		r->why = "tracking off";
		return;
	}
	if (p->family != 4 && p->family != 6) {
		r->why = "not IP";
		return;
	}
	if (p->later_frag) {
		r->why = "non-first fragment";
		return;
	}
	if ((is_ported(p->proto) || is_icmp(p->family, p->proto)) && !p->l4) {
		r->ct_state = XW_CTB_INVALID;
		r->why = "L4 header missing";
		return;
	}
	if (is_icmp(p->family, p->proto) && is_error(p->family, p->icmp_type)) {
		r->has_qflow = (uint8_t)ctm_quote_flow(p, &r->qflow);
		if (r->has_qflow && ctm_lookup(m, &r->qflow, now_ns)) {
			r->ct_state = XW_CTB_RELATED;
			r->why = "error quoting a live flow";
		} else {
			r->ct_state = XW_CTB_INVALID;
			r->why = r->has_qflow ? "error quoting no live flow" :
				 "error without a usable quote";
		}
		return;
	}
	if (!ctm_pkt_flow(p, &r->flow, &sender)) {
		r->ct_state = XW_CTB_NEW;   /* informational ICMP: one-off */
		r->why = "informational ICMP";
		return;
	}
	r->has_flow = 1;
	e = ctm_lookup(m, &r->flow, now_ns);
	if (!e) {
		if (p->proto == P_TCP) {
			if ((p->tcp_flags & (F_SYN | F_ACK | F_RST)) != F_SYN) {
				r->ct_state = XW_CTB_INVALID;
				r->why = "TCP without entry, not a plain SYN";
				return;
			}
		} else if (is_icmp(p->family, p->proto) && is_echo_rep(p->family, p->icmp_type)) {
			r->ct_state = XW_CTB_INVALID;
			r->why = "echo reply without entry";
			return;
		}
		r->after.f = r->flow;
		r->after.init = ep_eq(&sender, &r->flow.e[0]) ? 0 : 1;
		r->after.state = p->proto == P_TCP ? XW_CTS_TCP_SYN_SENT :
				 unreplied_state(p->family, p->proto);
		r->after.last_ns = now_ns;
		if (p->proto == P_TCP)
			seq_follow(&r->after, r->after.init, p, 1);
		r->op = CTM_OP_CREATE;
		r->ct_state = XW_CTB_NEW;
		r->why = "first packet: creates";
		return;
	}
	{
		int side = ep_eq(&sender, &e->f.e[0]) ? 0 : 1;
		int reply = side != e->init;
		struct ctm_entry *n = &r->after;

		r->had_entry = 1;
		r->before = *e;
		r->before.next = NULL;
		*n = *e;
		n->next = NULL;
		if (p->proto == P_TCP && (p->tcp_flags & F_RST) && !rst_acceptable(e, side, p)) {
			/* a blind RST: the entry stays as it was */
			memset(n, 0, sizeof(*n));
			r->ct_state = XW_CTB_INVALID;
			r->rst_ignored = 1;
			r->why = "RST outside the window";
			return;
		}
		if (p->proto == P_TCP)
			tcp_update(n, reply, side, p);
		else if (reply)
			n->state = replied_state(n->state);
		if (reply)
			n->seen_reply = 1;
		n->last_ns = now_ns;
		r->op = CTM_OP_UPDATE;
		r->ct_state = n->seen_reply ? XW_CTB_ESTABLISHED : XW_CTB_NEW;
		r->why = reply ? "reply on entry" : "original direction on entry";
	}
}

void ctm_commit(struct ctm *m, const struct ctm_res *r)
{
	struct ctm_entry *e;

	if (r->op == CTM_OP_NONE)
		return;
	e = find_any(m, &r->after.f);
	if (!e) {
		uint32_t h = flow_hash(&r->after.f);

		e = calloc(1, sizeof(*e));
		if (!e)
			abort();
		*e = r->after;
		e->next = m->bucket[h];
		m->bucket[h] = e;
		return;
	}
	{
		struct ctm_entry *next = e->next;

		*e = r->after;
		e->next = next;
	}
}

int ctm_entry_near_expiry(const struct ctm *m, const struct ctm_entry *e, uint64_t now_ns,
			  uint64_t margin_ns)
{
	uint64_t t = timeout_ns(m, e), idle;

	if (now_ns < e->last_ns)
		return 0;
	idle = now_ns - e->last_ns;
	return idle + margin_ns >= t && idle <= t + margin_ns;
}

int ctm_near_expiry(const struct ctm *m, const struct ctm_pkt *p, uint64_t now_ns,
		    uint64_t margin_ns)
{
	struct ctm_flow f;
	const struct ctm_entry *e;

	if (ctm_pkt_flow(p, &f, NULL) && (e = find_any(m, &f)) &&
	    ctm_entry_near_expiry(m, e, now_ns, margin_ns))
		return 1;
	if (ctm_quote_flow(p, &f) && (e = find_any(m, &f)) &&
	    ctm_entry_near_expiry(m, e, now_ns, margin_ns))
		return 1;
	return 0;
}

int ctm_each(const struct ctm *m, uint64_t now_ns,
	     int (*fn)(const struct ctm_entry *e, void *arg), void *arg)
{
	for (size_t i = 0; i < NBUCKET; i++)
		for (const struct ctm_entry *e = m->bucket[i]; e; e = e->next) {
			int rc;

			if (!alive(m, e, now_ns))
				continue;
			rc = fn(e, arg);
			if (rc)
				return rc;
		}
	return 0;
}

static int count_one(const struct ctm_entry *e, void *arg)
{
	(void)e;
	(*(size_t *)arg)++;
	return 0;
}

size_t ctm_live(const struct ctm *m, uint64_t now_ns)
{
	size_t n = 0;

	ctm_each(m, now_ns, count_one, &n);
	return n;
}

/* ---- rules ---- */

static int has_ports(const struct ctm_pkt *p)
{
	return (p->family == 4 || p->family == 6) && !p->later_frag && is_ported(p->proto) && p->l4;
}

uint8_t ctm_decide(const struct ctm_rules *rs, const struct ctm_pkt *p, int dir,
		   uint8_t ct_state, uint32_t *prio)
{
	for (size_t i = 0; i < rs->n; i++) {
		const struct ctm_rule *r = &rs->r[i];

		if (r->dir != dir)
			continue;
		if (r->ct && !(r->ct & ct_state))
			continue;
		if (r->proto >= 0 && (!(p->family == 4 || p->family == 6) || p->proto != r->proto))
			continue;
		if (r->dport >= 0 && (!has_ports(p) || p->dport != r->dport))
			continue;
		*prio = r->prio;
		return r->verdict;
	}
	*prio = XW_PRIO_NONE;
	return rs->policy[dir & 1];
}

int ctm_rules_use_ct(const struct ctm_rules *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		if (rs->r[i].ct)
			return 1;
	return 0;
}

/* (the model does not link the rule library) */
static const char *vname(uint8_t v)
{
	return v == XW_PASS ? "pass" : v == XW_AUDIT ? "audit" : "drop";
}

char *ctm_rules_text(const struct ctm_rules *rs)
{
	size_t cap = 256 + rs->n * 160, len = 0;
	char *s = malloc(cap);

	if (!s)
		return NULL;
#define ADD(...) (len += (size_t)snprintf(s + len, cap - len, __VA_ARGS__))
	ADD("policy %s\n", vname(rs->policy[XW_DIR_IN]));
	ADD("policy out %s\n", vname(rs->policy[XW_DIR_OUT]));
	for (size_t i = 0; i < rs->n; i++) {
		const struct ctm_rule *r = &rs->r[i];

		ADD("rule %u %s", r->prio, r->dir == XW_DIR_OUT ? "out" : "in");
		if (r->ct) {
			const char *sep = " ct ";

			if (r->ct & XW_CTB_NEW) { ADD("%snew", sep); sep = ","; }
			if (r->ct & XW_CTB_ESTABLISHED) { ADD("%sestablished", sep); sep = ","; }
			if (r->ct & XW_CTB_RELATED) { ADD("%srelated", sep); sep = ","; }
			if (r->ct & XW_CTB_INVALID) ADD("%sinvalid", sep);
		}
		if (r->proto >= 0)
			ADD(" proto %d", r->proto);
		if (r->dport >= 0)
			ADD(" dport %d", r->dport);
		ADD(" %s\n", vname(r->verdict));
	}
#undef ADD
	return s;
}

void ctm_step(struct ctm *m, const struct ctm_rules *rs, const struct ctm_pkt *p, int dir,
	      uint64_t now_ns, struct ctm_out *o)
{
	ctm_classify(m, p, now_ns, &o->res);
	o->ct_state = o->res.ct_state;
	o->verdict = ctm_decide(rs, p, dir, o->ct_state, &o->prio);
	if (XW_VERDICT_PASSES(o->verdict))   /* an audited packet passes: tracked */
		ctm_commit(m, &o->res);
}

/* ---- formatting ---- */

const char *ctm_state_name(int st)
{
	static const char *const n[XW_CTS_MAX] = {
		"none", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT", "TIME_WAIT", "CLOSE",
		"UDP_UNREPLIED", "UDP_REPLIED", "ICMP_UNREPLIED", "ICMP_REPLIED",
		"OTHER_UNREPLIED", "OTHER_REPLIED",
	};

	return st >= 0 && st < XW_CTS_MAX ? n[st] : "?";
}

const char *ctm_ctb_name(uint8_t s)
{
	switch (s) {
	case 0: return "-";
	case XW_CTB_NEW: return "NEW";
	case XW_CTB_ESTABLISHED: return "EST";
	case XW_CTB_RELATED: return "REL";
	case XW_CTB_INVALID: return "INV";
	default: return "?";
	}
}

static void addr_str(uint8_t family, const uint8_t *a, char *buf, size_t len)
{
	if (!inet_ntop(family == 6 ? AF_INET6 : AF_INET, a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

void ctm_ep_str(uint8_t family, const struct ctm_ep *e, char *buf, size_t len)
{
	char a[64];

	addr_str(family, e->addr, a, sizeof(a));
	snprintf(buf, len, family == 6 ? "[%s]:%u" : "%s:%u", a, e->port);
}

void ctm_flow_str(const struct ctm_flow *f, char *buf, size_t len)
{
	char x[80], y[80];

	ctm_ep_str(f->family, &f->e[0], x, sizeof(x));
	ctm_ep_str(f->family, &f->e[1], y, sizeof(y));
	snprintf(buf, len, "v%u p%u %s <-> %s", f->family, f->proto, x, y);
}

static void flags_str(uint8_t fl, char *buf, size_t len)
{
	static const char names[8][4] = { "F", "S", "R", "P", "A", "U", "E", "C" };
	size_t n = 0;

	buf[0] = 0;
	for (int i = 0; i < 8 && n + 2 < len; i++)
		if (fl & (1u << i))
			n += (size_t)snprintf(buf + n, len - n, "%s", names[i]);
	if (!n)
		snprintf(buf, len, ".");
}

void ctm_pkt_str(const struct ctm_pkt *p, char *buf, size_t len)
{
	char s[64], d[64], fl[16];
	size_t n;

	if (p->family != 4 && p->family != 6) {
		snprintf(buf, len, "non-IP/invalid IP");
		return;
	}
	addr_str(p->family, p->src, s, sizeof(s));
	addr_str(p->family, p->dst, d, sizeof(d));
	n = (size_t)snprintf(buf, len, "v%u p%u %s -> %s", p->family, p->proto, s, d);
	if (n >= len)
		return;
	if (p->later_frag) {
		snprintf(buf + n, len - n, " later-fragment");
		return;
	}
	if (!p->l4 && (is_ported(p->proto) || is_icmp(p->family, p->proto))) {
		snprintf(buf + n, len - n, " truncated-L4");
		return;
	}
	if (is_ported(p->proto)) {
		n += (size_t)snprintf(buf + n, len - n, " sport %u dport %u", p->sport, p->dport);
		if (p->proto == P_TCP && n < len) {
			flags_str(p->tcp_flags, fl, sizeof(fl));
			snprintf(buf + n, len - n, " [%s]", fl);
		}
	} else if (is_icmp(p->family, p->proto)) {
		n += (size_t)snprintf(buf + n, len - n, " type %u code %u id %u", p->icmp_type,
				      p->icmp_code, p->icmp_id);
		if (n < len && is_error(p->family, p->icmp_type)) {
			if (!p->q.present) {
				snprintf(buf + n, len - n, " quote: incomplete");
			} else {
				addr_str(p->family, p->q.src, s, sizeof(s));
				addr_str(p->family, p->q.dst, d, sizeof(d));
				if (is_icmp(p->family, p->q.proto))
					snprintf(buf + n, len - n, " quote: p%u %s -> %s type %u id %u",
						 p->q.proto, s, d, p->q.icmp_type, p->q.icmp_id);
				else if (is_ported(p->q.proto))
					snprintf(buf + n, len - n, " quote: p%u %s -> %s sport %u dport %u",
						 p->q.proto, s, d, p->q.sport, p->q.dport);
				else
					snprintf(buf + n, len - n, " quote: p%u %s -> %s",
						 p->q.proto, s, d);
			}
		}
	}
}

void ctm_entry_str(const struct ctm_entry *e, char *buf, size_t len)
{
	char f[200], i[80];

	ctm_flow_str(&e->f, f, sizeof(f));
	ctm_ep_str(e->f.family, &e->f.e[e->init], i, sizeof(i));
	int n = snprintf(buf, len, "%s state %s init %s reply_seen %u fin %u%u", f,
			 ctm_state_name(e->state), i, e->seen_reply, e->fin[0], e->fin[1]);

	if (e->f.proto != P_TCP || n < 0 || (size_t)n >= len)
		return;
	for (int k = 0; k < 2 && (size_t)n < len; k++) {
		int m = snprintf(buf + n, len - (size_t)n, " e%d[end %s%u ack %s%u win %u]", k,
				 e->end_ok[k] ? "" : "?", e->end[k], e->ack_ok[k] ? "" : "?",
				 e->ack[k], e->win[k]);

		if (m < 0)
			return;
		n += m;
	}
}
