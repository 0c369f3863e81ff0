// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Tests of the connection tracking model (tests/ref/ctmodel.c) against the
 * conntrack semantics it models: flow identity, entry creation, TCP and
 * non-TCP transitions, ICMP errors, untracked packets, expiry, commit only
 * on pass, and the small rule model (including that its text parses). */
#include <check.h>
#include "check_main.h"
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "ctmodel.h"
#include "rule.h"

#define SEC 1000000000ull
#define T0  (1000 * SEC)

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_ACK 0x10

static struct ctm *m;

static void setup(void)
{
	m = ctm_new();
	ck_assert_ptr_nonnull(m);
	ctm_set_enabled(m, 1);
}

static void teardown(void)
{
	ctm_free(m);
	m = NULL;
}

static void addr(uint8_t fam, uint8_t *a, const char *s)
{
	memset(a, 0, 16);
	ck_assert_int_eq(inet_pton(fam == 6 ? AF_INET6 : AF_INET, s, a), 1);
}

static struct ctm_pkt pk(uint8_t fam, uint8_t proto, const char *src, uint16_t sp,
			 const char *dst, uint16_t dp)
{
	struct ctm_pkt p;

	memset(&p, 0, sizeof(p));
	p.family = fam;
	p.proto = proto;
	addr(fam, p.src, src);
	addr(fam, p.dst, dst);
	p.sport = sp;
	p.dport = dp;
	p.l4 = 1;
	return p;
}

static struct ctm_pkt tcp(const char *src, uint16_t sp, const char *dst, uint16_t dp, uint8_t fl)
{
	struct ctm_pkt p = pk(4, 6, src, sp, dst, dp);

	/* both sides at sequence 0: an ACK acknowledges the other's SYN */
	p.tcp_flags = fl;
	p.tcp_ack = 1;
	return p;
}

static struct ctm_pkt echo(uint8_t fam, const char *src, const char *dst, int req, uint16_t id)
{
	struct ctm_pkt p = pk(fam, fam == 4 ? 1 : 58, src, 0, dst, 0);

	p.icmp_type = fam == 4 ? (req ? 8 : 0) : (req ? 128 : 129);
	p.icmp_id = id;
	return p;
}

/* classify and commit (as if the packet passed) */
static uint8_t go(const struct ctm_pkt *p, uint64_t now)
{
	struct ctm_res r;

	ctm_classify(m, p, now, &r);
	ctm_commit(m, &r);
	return r.ct_state;
}

static uint8_t peek(const struct ctm_pkt *p, uint64_t now)
{
	struct ctm_res r;

	ctm_classify(m, p, now, &r);
	return r.ct_state;
}

static const struct ctm_entry *entry_of(const struct ctm_pkt *p, uint64_t now)
{
	struct ctm_flow f;

	ck_assert(ctm_pkt_flow(p, &f, NULL));
	return ctm_lookup(m, &f, now);
}

#define A "10.0.0.1"
#define B "192.0.2.1"

START_TEST(flow_identity_symmetric)
{
	struct ctm_pkt x = tcp(A, 1000, B, 80, F_SYN), y = tcp(B, 80, A, 1000, F_ACK);
	struct ctm_pkt z = tcp(B, 1000, A, 80, F_ACK);
	struct ctm_flow fx, fy, fz;
	struct ctm_ep sx, sy;

	ck_assert(ctm_pkt_flow(&x, &fx, &sx));
	ck_assert(ctm_pkt_flow(&y, &fy, &sy));
	ck_assert(ctm_pkt_flow(&z, &fz, NULL));
	ck_assert(ctm_flow_eq(&fx, &fy));
	ck_assert(!ctm_flow_eq(&fx, &fz));
	ck_assert_uint_eq(sx.port, 1000);
	ck_assert_uint_eq(sy.port, 80);
	/* protocol and family are part of the identity */
	x.proto = 17;
	ck_assert(ctm_pkt_flow(&x, &fz, NULL));
	ck_assert(!ctm_flow_eq(&fx, &fz));
}
END_TEST

START_TEST(echo_reply_matches_request)
{
	struct ctm_pkt rq = echo(4, A, B, 1, 7), rp = echo(4, B, A, 0, 7), rp2 = echo(4, B, A, 0, 8);
	struct ctm_flow f1, f2, f3;

	ck_assert(ctm_pkt_flow(&rq, &f1, NULL));
	ck_assert(ctm_pkt_flow(&rp, &f2, NULL));
	ck_assert(ctm_pkt_flow(&rp2, &f3, NULL));
	ck_assert(ctm_flow_eq(&f1, &f2));
	ck_assert(!ctm_flow_eq(&f1, &f3));
	ck_assert_uint_eq(peek(&rp, T0), XW_CTB_INVALID);     /* reply without request */
	ck_assert_uint_eq(go(&rq, T0), XW_CTB_NEW);
	ck_assert_uint_eq(entry_of(&rq, T0)->state, XW_CTS_ICMP_UNREPLIED);
	ck_assert_uint_eq(go(&rq, T0), XW_CTB_NEW);           /* again: still no reply */
	ck_assert_uint_eq(go(&rp, T0), XW_CTB_ESTABLISHED);
	ck_assert_uint_eq(entry_of(&rq, T0)->state, XW_CTS_ICMP_REPLIED);
	ck_assert_uint_eq(go(&rq, T0), XW_CTB_ESTABLISHED);
	ck_assert_uint_eq(go(&rp2, T0), XW_CTB_INVALID);      /* other id */
}
END_TEST

START_TEST(tcp_life_cycle)
{
	struct ctm_pkt syn = tcp(A, 1000, B, 80, F_SYN), sa = tcp(B, 80, A, 1000, F_SYN | F_ACK);
	struct ctm_pkt ack = tcp(A, 1000, B, 80, F_ACK), back = tcp(B, 80, A, 1000, F_ACK);
	struct ctm_pkt fin1 = tcp(A, 1000, B, 80, F_FIN | F_ACK), fin2 = tcp(B, 80, A, 1000, F_FIN | F_ACK);

	ck_assert_uint_eq(peek(&ack, T0), XW_CTB_INVALID);
	ck_assert_uint_eq(peek(&sa, T0), XW_CTB_INVALID);
	ck_assert_uint_eq(go(&syn, T0), XW_CTB_NEW);
	ck_assert_uint_eq(entry_of(&syn, T0)->state, XW_CTS_TCP_SYN_SENT);
	ck_assert_uint_eq(go(&syn, T0), XW_CTB_NEW);          /* retransmission */
	ck_assert_uint_eq(go(&sa, T0), XW_CTB_ESTABLISHED);
	ck_assert_uint_eq(entry_of(&syn, T0)->state, XW_CTS_TCP_SYN_RECV);
	ck_assert_uint_eq(go(&ack, T0), XW_CTB_ESTABLISHED);
	ck_assert_uint_eq(entry_of(&syn, T0)->state, XW_CTS_TCP_ESTABLISHED);
	ck_assert_uint_eq(go(&back, T0), XW_CTB_ESTABLISHED);
	ck_assert_uint_eq(go(&fin1, T0), XW_CTB_ESTABLISHED);
	ck_assert_uint_eq(entry_of(&syn, T0)->state, XW_CTS_TCP_FIN_WAIT);
	ck_assert_uint_eq(go(&fin1, T0), XW_CTB_ESTABLISHED);
	ck_assert_uint_eq(entry_of(&syn, T0)->state, XW_CTS_TCP_FIN_WAIT);
	ck_assert_uint_eq(go(&fin2, T0), XW_CTB_ESTABLISHED);
	ck_assert_uint_eq(entry_of(&syn, T0)->state, XW_CTS_TCP_TIME_WAIT);
	/* the initiator reuses the ports: a new connection */
	ck_assert_uint_eq(go(&syn, T0), XW_CTB_NEW);
	ck_assert_uint_eq(entry_of(&syn, T0)->state, XW_CTS_TCP_SYN_SENT);
	ck_assert_uint_eq(entry_of(&syn, T0)->seen_reply, 0);
	ck_assert_uint_eq(entry_of(&syn, T0)->fin[0] | entry_of(&syn, T0)->fin[1], 0);
}
END_TEST

START_TEST(tcp_rst_and_responder_syn)
{
	struct ctm_pkt syn = tcp(A, 1000, B, 80, F_SYN), rsyn = tcp(B, 80, A, 1000, F_SYN);
	struct ctm_pkt rst = tcp(B, 80, A, 1000, F_RST | F_ACK), fin = tcp(A, 1000, B, 80, F_FIN);

	rst.tcp_ack = 1;   /* acknowledges the SYN (sequence 0) */
	ck_assert_uint_eq(go(&syn, T0), XW_CTB_NEW);
	ck_assert_uint_eq(go(&rst, T0), XW_CTB_ESTABLISHED);   /* a reply */
	ck_assert_uint_eq(entry_of(&syn, T0)->state, XW_CTS_TCP_CLOSE);
	ck_assert_uint_eq(go(&fin, T0), XW_CTB_ESTABLISHED);   /* FIN does not leave CLOSE */
	ck_assert_uint_eq(entry_of(&syn, T0)->state, XW_CTS_TCP_CLOSE);
	/* a SYN from the responder is not a new connection */
	ck_assert_uint_eq(go(&rsyn, T0), XW_CTB_ESTABLISHED);
	ck_assert_uint_eq(entry_of(&syn, T0)->state, XW_CTS_TCP_CLOSE);
	ck_assert_uint_eq(go(&syn, T0), XW_CTB_NEW);
	ck_assert_uint_eq(entry_of(&syn, T0)->state, XW_CTS_TCP_SYN_SENT);
}
END_TEST

static struct ctm_pkt seg(const char *src, uint16_t sp, const char *dst, uint16_t dp, uint8_t fl,
			  uint32_t seq, uint32_t ack, uint16_t win, uint32_t len)
{
	struct ctm_pkt p = tcp(src, sp, dst, dp, fl);

	p.tcp_seq = seq;
	p.tcp_ack = ack;
	p.tcp_win = win;
	p.tcp_len = len;
	return p;
}

/* RFC 5961: a RST counts only inside the window; a blind one is invalid
 * and leaves the flow as it was. */
START_TEST(tcp_rst_window)
{
	struct ctm_pkt syn = seg(A, 1000, B, 80, F_SYN, 100, 0, 1000, 0);
	struct ctm_pkt sa = seg(B, 80, A, 1000, F_SYN | F_ACK, 5000, 101, 2000, 0);
	struct ctm_pkt ack = seg(A, 1000, B, 80, F_ACK, 101, 5001, 1000, 0);
	struct ctm_pkt data = seg(B, 80, A, 1000, F_ACK | 0x08, 5001, 101, 2000, 300);
	struct ctm_pkt r;
	const struct ctm_entry *e;

	ck_assert_uint_eq(go(&syn, T0), XW_CTB_NEW);
	/* a RST to the SYN must acknowledge it */
	r = seg(B, 80, A, 1000, F_RST | F_ACK, 0, 100, 0, 0);
	ck_assert_uint_eq(peek(&r, T0), XW_CTB_INVALID);
	r.tcp_ack = 101;
	ck_assert_uint_eq(peek(&r, T0), XW_CTB_ESTABLISHED);
	r.tcp_flags = F_RST;
	ck_assert_uint_eq(peek(&r, T0), XW_CTB_INVALID);
	ck_assert_uint_eq(go(&sa, T0), XW_CTB_ESTABLISHED);
	ck_assert_uint_eq(go(&ack, T0), XW_CTB_ESTABLISHED);
	ck_assert_uint_eq(go(&data, T0), XW_CTB_ESTABLISHED);   /* B's end: 5301 */
	e = entry_of(&syn, T0);
	ck_assert_uint_eq(e->state, XW_CTS_TCP_ESTABLISHED);
	/* from B: [A's last ACK 5001, B's end 5301 + A's window 1000] */
	r = seg(B, 80, A, 1000, F_RST, 5000, 0, 0, 0);
	ck_assert_uint_eq(go(&r, T0), XW_CTB_INVALID);
	r.tcp_seq = 6302;
	ck_assert_uint_eq(go(&r, T0), XW_CTB_INVALID);
	r.tcp_seq = 0x80001234u;
	ck_assert_uint_eq(go(&r, T0), XW_CTB_INVALID);
	e = entry_of(&syn, T0);
	ck_assert_uint_eq(e->state, XW_CTS_TCP_ESTABLISHED);    /* untouched */
	r.tcp_seq = 6301;
	ck_assert_uint_eq(peek(&r, T0), XW_CTB_ESTABLISHED);
	r.tcp_seq = 5001;
	ck_assert_uint_eq(peek(&r, T0), XW_CTB_ESTABLISHED);
	/* from A: [B's last ACK 101, A's end 101 + B's window 2000] */
	r = seg(A, 1000, B, 80, F_RST, 2102, 0, 0, 0);
	ck_assert_uint_eq(peek(&r, T0), XW_CTB_INVALID);
	r.tcp_seq = 2101;
	ck_assert_uint_eq(go(&r, T0), XW_CTB_ESTABLISHED);
	ck_assert_uint_eq(entry_of(&syn, T0)->state, XW_CTS_TCP_CLOSE);
}
END_TEST

/* A segment cannot drag the sequence far ahead, nor acknowledge what the
 * other side never sent: forged segments do not widen the RST window. */
START_TEST(tcp_seq_bounds)
{
	struct ctm_pkt syn = seg(A, 1000, B, 80, F_SYN, 100, 0, 1000, 0);
	struct ctm_pkt sa = seg(B, 80, A, 1000, F_SYN | F_ACK, 5000, 101, 2000, 0);
	struct ctm_pkt p;
	const struct ctm_entry *e;

	go(&syn, T0);
	go(&sa, T0);
	p = seg(A, 1000, B, 80, F_ACK, 101, 9000, 1000, 0);       /* acks unsent data */
	go(&p, T0);
	e = entry_of(&syn, T0);
	ck_assert(!e->ack_ok[e->init]);
	p = seg(A, 1000, B, 80, F_ACK, 101 + XW_CT_SEQ_JUMP, 9000, 1000, 1);
	go(&p, T0);
	e = entry_of(&syn, T0);
	ck_assert_uint_eq(e->end[e->init], 101);                 /* too far */
	p = seg(A, 1000, B, 80, F_ACK, 101, 5001, 1000, XW_CT_SEQ_JUMP - 1);
	go(&p, T0);
	e = entry_of(&syn, T0);
	ck_assert_uint_eq(e->end[e->init], 101 + XW_CT_SEQ_JUMP - 1);
	ck_assert(e->ack_ok[e->init]);
	ck_assert_uint_eq(e->ack[e->init], 5001);
}
END_TEST

/* An ICMP error quoting a non-first fragment names no flow. */
START_TEST(error_quoting_a_later_fragment)
{
	struct ctm_pkt syn = tcp(A, 1000, B, 80, F_SYN), err = pk(4, 1, B, 0, A, 0);

	go(&syn, T0);
	err.icmp_type = 3;
	err.q.present = 1;
	err.q.proto = 6;
	memcpy(err.q.src, syn.src, 16);
	memcpy(err.q.dst, syn.dst, 16);
	err.q.sport = 1000;
	err.q.dport = 80;
	ck_assert_uint_eq(peek(&err, T0), XW_CTB_RELATED);
	err.q.later_frag = 1;
	ck_assert_uint_eq(peek(&err, T0), XW_CTB_INVALID);
}
END_TEST

START_TEST(tcp_creation_flags)
{
	struct ctm_pkt p = tcp(A, 1000, B, 80, F_SYN | F_FIN);

	ck_assert_uint_eq(peek(&p, T0), XW_CTB_NEW);          /* FIN does not matter */
	p.tcp_flags = F_SYN | F_RST;
	ck_assert_uint_eq(peek(&p, T0), XW_CTB_INVALID);
	p.tcp_flags = 0;
	ck_assert_uint_eq(peek(&p, T0), XW_CTB_INVALID);
	p.tcp_flags = F_SYN;
	p.l4 = 0;                                             /* no ports */
	ck_assert_uint_eq(peek(&p, T0), XW_CTB_INVALID);
}
END_TEST

START_TEST(udp_other_sctp)
{
	struct ctm_pkt q = pk(4, 17, A, 5000, B, 53), a = pk(4, 17, B, 53, A, 5000);
	struct ctm_pkt g1 = pk(6, 47, "fd00::1", 1, "2001:db8::1", 2);
	struct ctm_pkt g2 = pk(6, 47, "2001:db8::1", 9, "fd00::1", 8);
	struct ctm_pkt s = pk(4, 132, A, 1, B, 2);

	ck_assert_uint_eq(go(&a, T0), XW_CTB_NEW);            /* initiated by B */
	ck_assert_uint_eq(go(&q, T0), XW_CTB_ESTABLISHED);
	ck_assert_uint_eq(entry_of(&q, T0)->state, XW_CTS_UDP_REPLIED);
	/* other protocols: ports ignored */
	ck_assert_uint_eq(go(&g1, T0), XW_CTB_NEW);
	ck_assert_uint_eq(entry_of(&g1, T0)->state, XW_CTS_OTHER_UNREPLIED);
	ck_assert_uint_eq(go(&g2, T0), XW_CTB_ESTABLISHED);
	ck_assert_uint_eq(entry_of(&g1, T0)->state, XW_CTS_OTHER_REPLIED);
	ck_assert_uint_eq(go(&s, T0), XW_CTB_NEW);
	ck_assert_uint_eq(entry_of(&s, T0)->state, XW_CTS_OTHER_UNREPLIED);
	s.l4 = 0;
	ck_assert_uint_eq(peek(&s, T0), XW_CTB_INVALID);
}
END_TEST

START_TEST(untracked)
{
	struct ctm_pkt p = tcp(A, 1000, B, 80, F_SYN);
	struct ctm_res r;

	p.later_frag = 1;
	ctm_classify(m, &p, T0, &r);
	ck_assert_uint_eq(r.ct_state, 0);
	ck_assert_uint_eq(r.op, CTM_OP_NONE);
	p.later_frag = 0;
	p.family = 0;
	ck_assert_uint_eq(peek(&p, T0), 0);
	p.family = 4;
	ctm_set_enabled(m, 0);
	ck_assert_uint_eq(peek(&p, T0), 0);
}
END_TEST

static struct ctm_pkt icmp_err(uint8_t fam, const char *src, const char *dst, uint8_t type,
			       const struct ctm_pkt *quoted)
{
	struct ctm_pkt e = pk(fam, fam == 4 ? 1 : 58, src, 0, dst, 0);

	e.icmp_type = type;
	e.q.present = 1;
	e.q.proto = quoted->proto;
	memcpy(e.q.src, quoted->src, 16);
	memcpy(e.q.dst, quoted->dst, 16);
	e.q.sport = quoted->sport;
	e.q.dport = quoted->dport;
	e.q.icmp_type = quoted->icmp_type;
	e.q.icmp_id = quoted->icmp_id;
	return e;
}

START_TEST(icmp_errors)
{
	struct ctm_pkt syn = tcp(A, 1000, B, 80, F_SYN), other = tcp(A, 1001, B, 80, F_SYN);
	struct ctm_pkt rq = echo(4, A, B, 1, 7), rp = echo(4, B, A, 0, 7);
	struct ctm_pkt e = icmp_err(4, "198.51.100.1", A, 11, &syn);
	struct ctm_res r;

	ck_assert_uint_eq(peek(&e, T0), XW_CTB_INVALID);
	go(&syn, T0);
	ctm_classify(m, &e, T0, &r);
	ck_assert_uint_eq(r.ct_state, XW_CTB_RELATED);
	ck_assert_uint_eq(r.op, CTM_OP_NONE);                  /* never changes entries */
	e = icmp_err(4, B, A, 3, &other);
	ck_assert_uint_eq(peek(&e, T0), XW_CTB_INVALID);
	e = icmp_err(4, B, A, 3, &syn);
	e.q.present = 0;                                       /* truncated quote */
	ck_assert_uint_eq(peek(&e, T0), XW_CTB_INVALID);
	/* every error type; a non-error type is informational: NEW */
	for (int t = 0; t < 256; t++) {
		uint8_t want = (t == 3 || t == 4 || t == 5 || t == 11 || t == 12) ? XW_CTB_RELATED :
			       (t == 0 || t == 8) ? 0 : XW_CTB_NEW;

		e = icmp_err(4, B, A, (uint8_t)t, &syn);
		if (want)
			ck_assert_uint_eq(peek(&e, T0), want);
	}
	/* quoted echo request and reply both belong to the echo flow */
	go(&rq, T0);
	e = icmp_err(4, "198.51.100.1", A, 11, &rq);
	ck_assert_uint_eq(peek(&e, T0), XW_CTB_RELATED);
	e = icmp_err(4, A, B, 3, &rp);
	ck_assert_uint_eq(peek(&e, T0), XW_CTB_RELATED);
	/* a quoted non-echo ICMP message has no flow */
	rp.icmp_type = 13;
	e = icmp_err(4, A, B, 3, &rp);
	ck_assert_uint_eq(peek(&e, T0), XW_CTB_INVALID);
}
END_TEST

START_TEST(icmp6_errors_and_info)
{
	struct ctm_pkt u = pk(6, 17, "fd00::1", 5000, "2001:db8::1", 53);
	struct ctm_pkt esp = pk(6, 50, "fd00::1", 0, "2001:db8::1", 0);
	struct ctm_pkt e, ns = pk(6, 58, "fd00::1", 0, "2001:db8::1", 0);

	go(&u, T0);
	go(&esp, T0);
	for (int t = 1; t <= 4; t++) {
		e = icmp_err(6, "2001:db8::9", "fd00::1", (uint8_t)t, &u);
		ck_assert_uint_eq(peek(&e, T0), XW_CTB_RELATED);
		e = icmp_err(6, "2001:db8::9", "fd00::1", (uint8_t)t, &esp);
		e.q.sport = 0x1234;   /* whatever its first bytes: ports are 0 */
		ck_assert_uint_eq(peek(&e, T0), XW_CTB_RELATED);
	}
	ns.icmp_type = 135;
	ck_assert_uint_eq(go(&ns, T0), XW_CTB_NEW);
	ck_assert_uint_eq(ctm_live(m, T0), 2);                 /* created nothing */
	ns.l4 = 0;
	ck_assert_uint_eq(peek(&ns, T0), XW_CTB_INVALID);
}
END_TEST

START_TEST(icmp_wrong_family_is_other)
{
	/* ICMPv6 in IPv4: an "other" protocol, ports 0, not an echo */
	struct ctm_pkt p = pk(4, 58, A, 0, B, 0);
	struct ctm_flow f;

	p.icmp_type = 129;
	p.icmp_id = 5;
	ck_assert_uint_eq(go(&p, T0), XW_CTB_NEW);
	ck_assert(ctm_pkt_flow(&p, &f, NULL));
	ck_assert_uint_eq(f.e[0].port, 0);
	ck_assert_uint_eq(f.e[1].port, 0);
	ck_assert_uint_eq(ctm_lookup(m, &f, T0)->state, XW_CTS_OTHER_UNREPLIED);
}
END_TEST

START_TEST(expiry)
{
	struct ctm_pkt q = pk(4, 17, A, 5000, B, 53), a = pk(4, 17, B, 53, A, 5000);
	struct ctm_pkt e = icmp_err(4, B, A, 3, &q);

	ctm_set_timeout(m, XW_CTS_UDP_UNREPLIED, 1);
	ctm_set_timeout(m, XW_CTS_UDP_REPLIED, 2);
	go(&q, T0);
	ck_assert_ptr_nonnull(entry_of(&q, T0 + SEC));        /* exactly the timeout: alive */
	ck_assert_ptr_null(entry_of(&q, T0 + SEC + 1));
	ck_assert_uint_eq(peek(&e, T0 + SEC / 2), XW_CTB_RELATED);
	ck_assert_uint_eq(peek(&e, T0 + 3 * SEC / 2), XW_CTB_INVALID);
	ck_assert(ctm_near_expiry(m, &q, T0 + SEC + SEC / 10, SEC / 5));
	ck_assert(!ctm_near_expiry(m, &q, T0 + SEC / 2, SEC / 5));
	/* the reply after expiry starts a new flow initiated by B */
	ck_assert_uint_eq(go(&a, T0 + 3 * SEC / 2), XW_CTB_NEW);
	ck_assert_uint_eq(go(&q, T0 + 2 * SEC), XW_CTB_ESTABLISHED);
	/* the timeout of the new state applies */
	ck_assert_ptr_nonnull(entry_of(&q, T0 + 3 * SEC + SEC / 2));
	ck_assert_ptr_null(entry_of(&q, T0 + 4 * SEC + 1));
	ck_assert_uint_eq(ctm_live(m, T0 + 5 * SEC), 0);
}
END_TEST

static const struct ctm_rules web = {
	"web", { XW_DROP, XW_PASS }, 3, {
		{ 5, XW_DIR_OUT, XW_CTB_INVALID, -1, -1, XW_DROP },
		{ 10, XW_DIR_IN, XW_CTB_ESTABLISHED | XW_CTB_RELATED, -1, -1, XW_PASS },
		{ 20, XW_DIR_IN, XW_CTB_NEW, 6, 80, XW_PASS },
	},
};

START_TEST(step_commits_only_on_pass)
{
	struct ctm_pkt in22 = tcp(B, 5000, A, 22, F_SYN), in80 = tcp(B, 5000, A, 80, F_SYN);
	struct ctm_pkt out22 = tcp(A, 22, B, 5000, F_SYN | F_ACK);
	struct ctm_out o;

	ctm_step(m, &web, &in22, XW_DIR_IN, T0, &o);
	ck_assert_uint_eq(o.ct_state, XW_CTB_NEW);
	ck_assert_uint_eq(o.verdict, XW_DROP);
	ck_assert_uint_eq(o.prio, XW_PRIO_NONE);
	ck_assert_uint_eq(ctm_live(m, T0), 0);
	ctm_step(m, &web, &out22, XW_DIR_OUT, T0, &o);
	ck_assert_uint_eq(o.ct_state, XW_CTB_INVALID);
	ck_assert_uint_eq(o.verdict, XW_DROP);
	ck_assert_uint_eq(o.prio, 5);
	ctm_step(m, &web, &in80, XW_DIR_IN, T0, &o);
	ck_assert_uint_eq(o.verdict, XW_PASS);
	ck_assert_uint_eq(o.prio, 20);
	ck_assert_uint_eq(ctm_live(m, T0), 1);
}
END_TEST

START_TEST(decide_fields)
{
	struct ctm_pkt p = pk(4, 6, A, 1, B, 80);
	uint32_t prio;

	/* dport needs ports: not a later fragment, header present */
	ck_assert_uint_eq(ctm_decide(&web, &p, XW_DIR_IN, XW_CTB_NEW, &prio), XW_PASS);
	p.later_frag = 1;
	ck_assert_uint_eq(ctm_decide(&web, &p, XW_DIR_IN, XW_CTB_NEW, &prio), XW_DROP);
	ck_assert_uint_eq(prio, XW_PRIO_NONE);
	p.later_frag = 0;
	p.l4 = 0;
	ck_assert_uint_eq(ctm_decide(&web, &p, XW_DIR_IN, XW_CTB_NEW, &prio), XW_DROP);
	/* untracked never matches a ct rule */
	p.l4 = 1;
	ck_assert_uint_eq(ctm_decide(&web, &p, XW_DIR_IN, 0, &prio), XW_DROP);
	ck_assert_uint_eq(ctm_decide(&web, &p, XW_DIR_OUT, 0, &prio), XW_PASS);
	ck_assert_uint_eq(prio, XW_PRIO_NONE);
}
END_TEST

START_TEST(rules_text_parses)
{
	struct xw_ruleset rs;
	struct xw_err err;
	char *t = ctm_rules_text(&web);

	ck_assert_ptr_nonnull(t);
	xw_ruleset_init(&rs);
	ck_assert_msg(xw_parse_text(t, strlen(t), "web", &rs, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(rs.n, 3);
	ck_assert_uint_eq(rs.policy[XW_DIR_IN], XW_DROP);
	ck_assert_uint_eq(rs.policy[XW_DIR_OUT], XW_PASS);
	ck_assert_uint_eq(rs.rules[0].prio, 5);
	ck_assert_uint_eq(rs.rules[0].dir, XW_DIR_OUT);
	ck_assert_uint_eq(rs.rules[0].ct, XW_CT_INVALID);
	ck_assert_uint_eq(rs.rules[1].ct, XW_CT_ESTABLISHED | XW_CT_RELATED);
	ck_assert_uint_eq(rs.rules[2].proto, 6);
	ck_assert(rs.rules[2].present & XM_DPORT);
	ck_assert_uint_eq(rs.rules[2].dport[0].lo, 80);
	ck_assert_uint_eq(rs.rules[2].verdict, XW_PASS);
	xw_ruleset_free(&rs);
	free(t);
	ck_assert(ctm_rules_use_ct(&web));
}
END_TEST

static Suite *ctm_suite(void)
{
	Suite *s = suite_create("ctmodel");
	TCase *t = tcase_create("model");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, flow_identity_symmetric);
	tcase_add_test(t, echo_reply_matches_request);
	tcase_add_test(t, tcp_life_cycle);
	tcase_add_test(t, tcp_rst_and_responder_syn);
	tcase_add_test(t, tcp_creation_flags);
	tcase_add_test(t, udp_other_sctp);
	tcase_add_test(t, untracked);
	tcase_add_test(t, icmp_errors);
	tcase_add_test(t, icmp6_errors_and_info);
	tcase_add_test(t, icmp_wrong_family_is_other);
	tcase_add_test(t, expiry);
	tcase_add_test(t, step_commits_only_on_pass);
	tcase_add_test(t, decide_fields);
	tcase_add_test(t, rules_text_parses);
	tcase_add_test(t, tcp_rst_window);
	tcase_add_test(t, tcp_seq_bounds);
	tcase_add_test(t, error_quoting_a_later_fragment);
	suite_add_tcase(s, t);
	return s;
}

XW_CHECK_MAIN(ctm_suite)
