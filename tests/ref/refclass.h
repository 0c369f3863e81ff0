// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Reference classifier: a plain userspace transcription of docs/semantics.md
 * "Packet semantics (exact)".
 *
 * It exists to be compared against the BPF datapath, so it is written
 * independently of it on purpose: no keys, masks or tuples; it parses the
 * frame into "which fields exist" and loops over the rules testing each match.
 */
#ifndef XW_REFCLASS_H
#define XW_REFCLASS_H

#include <stddef.h>
#include <stdint.h>

#include "rule.h"
#include "xwall.h"

/* What a frame holds.  A has_* flag that is 0 means the packet lacks that
 * field, and every match on it fails. */
struct xw_ref_pkt {
	size_t   len;
	uint8_t  short_frame;     /* < 14 bytes: no field at all */

	/* Ethernet (valid when !short_frame) */
	uint8_t  eth_dst[6], eth_src[6];
	uint16_t eth_type;        /* after up to two VLAN tags */
	uint8_t  n_tags;          /* VLAN tags stripped (0..2) */
	uint8_t  has_vlan;
	uint16_t vlan;            /* VID of the outermost tag */
	uint8_t  vlan_truncated;  /* a tag TPID with fewer than 4 bytes behind it */
	size_t   l3_off;          /* first byte after the link header */

	/* L3: EtherType said IPv4/IPv6 but the header failed docs/semantics.md rule 2/3 */
	uint8_t  malformed;
	uint8_t  v4, v6;          /* a valid IPv4 / IPv6 header */
	uint8_t  src[16], dst[16];/* IPv4 in [0..3] */
	uint8_t  proto;           /* IPv4 protocol / IPv6 final next header */
	uint8_t  n_ext;           /* IPv6 extension headers walked */

	/* Fragmentation: always present for valid IPv4; for IPv6 only when a
	 * fragment header was seen (the last one seen). */
	uint8_t  has_frag;
	uint8_t  frag_mf;
	uint16_t frag_off;        /* in 8-byte units */
	uint8_t  later;           /* frag_off != 0: no L4 fields */

	/* L4: offset of the transport header (0 when there is none) */
	size_t   l4_off;
	uint8_t  has_ports;       /* TCP/UDP/SCTP header present */
	uint16_t sport, dport;
	uint8_t  has_tcp;         /* TCP header present: tcp_flags valid */
	uint8_t  tcp_flags;
	uint8_t  has_icmp;        /* IPv4 proto 1 header present */
	uint8_t  has_icmp6;       /* IPv6 nh 58 header present */
	uint8_t  icmp_type, icmp_code;
};

struct xw_ref_result {
	uint8_t  verdict;         /* enum xw_verdict */
	uint8_t  reason;          /* XW_REASON_RULE, _POLICY or _SHORT */
	uint8_t  malformed;       /* see xw_ref_pkt.malformed */
	uint8_t  short_frame;     /* frame < 14 bytes ("short" is a C keyword) */
	uint32_t prio;            /* matching rule, or XW_PRIO_NONE */
	long     index;           /* index of the matching rule, or -1 */
};

/* Parse raw frame bytes. Never reads beyond pkt[len-1]. */
void xw_ref_parse(const uint8_t *pkt, size_t len, struct xw_ref_pkt *out);

/* Does rule r match the parsed packet?  rule_ifindex is the ifindex the
 * rule's `iif` resolved to (ignored unless the rule has XM_IIF).
 * ct/limit matches are not modelled: they never match here. */
int xw_ref_rule_matches(const struct xw_rule *r, const struct xw_ref_pkt *p,
			uint8_t dir, uint32_t ifindex, uint32_t rule_ifindex);

/* Classify one frame.  rules[] sorted by prio, first match wins, else
 * policy[dir].  rule_ifindex[i] is rule i's iif ifindex (NULL: iif never
 * matches).  Frames shorter than 14 bytes always get the policy.
 * Returns 0, or -1 if any rule uses ct or limit (not modelled). */
int xw_ref_classify(const struct xw_rule *rules, size_t n, const uint8_t policy[2],
		    const uint8_t *pkt, size_t len, uint8_t dir, uint32_t ifindex,
		    const uint32_t *rule_ifindex, struct xw_ref_result *res);

/* The struct xw_key the datapath's parser should give frame pkt in
 * direction dir on interface ifindex, from this reference's own parse:
 * models of the rule stage (test_compile, cbmodel) use it to test the
 * compiler apart from the BPF parser. */
void xw_ref_key(const uint8_t *pkt, size_t len, uint8_t dir, uint32_t ifindex, struct xw_key *k);

/* One-line description of a parsed packet, for failure messages. */
int xw_ref_pkt_format(const struct xw_ref_pkt *p, char *buf, size_t size);

#endif
