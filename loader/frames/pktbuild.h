// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Concrete Ethernet frames from field values, for `xwall verify`.
 *
 * A spec names the fields a packet key holds (docs/semantics.md):
 * the builder writes a frame that the datapath's parser turns into exactly
 * those fields.  `variant` picks among encodings with the same fields (one
 * or two VLAN tags, IPv4 options, IPv6 extension headers, padding, ...), and
 * `bad` among the ways an IP header can be malformed. */
#ifndef XW_PKTBUILD_H
#define XW_PKTBUILD_H

#include <stddef.h>
#include <stdint.h>

#define XW_PB_MAX 512          /* largest frame built, payload not counted */
#define XW_PB_PAYLOAD_MAX 9000 /* a jumbo frame's: IP lengths stay in 16 bits */

enum xw_pb_l3 { XW_PB_L3_NONE = 0, XW_PB_L3_V4, XW_PB_L3_V6 };

/* Ways an IP header fails rule 2/3 of "Packet semantics" (with l3 NONE and
 * EtherType 0x0800 or 0x86DD). */
enum xw_pb_bad {
	XW_PB_OK = 0,
	XW_PB_V4_SHORT,         /* fewer than 20 bytes after the link header */
	XW_PB_V4_VERSION,       /* version != 4 */
	XW_PB_V4_IHL,           /* IHL < 5 */
	XW_PB_V4_TOTLEN_SMALL,  /* total length < IHL*4 */
	XW_PB_V4_TOTLEN_BIG,    /* total length > bytes after the link header */
	XW_PB_V6_SHORT,         /* fewer than 40 bytes */
	XW_PB_V6_VERSION,       /* version != 6 */
	XW_PB_V6_PAYLEN,        /* 40 + payload length > bytes after the link header */
	XW_PB_V6_EXT_TRUNC,     /* an extension header runs past the frame */
	XW_PB_V6_EXT_MANY,      /* nine extension headers */
	XW_PB_V6_LATER_EXT,     /* non-first fragment whose next header is an extension */
	XW_PB_V6_FRAG_TRUNC,    /* fragment header cut short */
	XW_PB_BAD_MAX
};
#define XW_PB_V4_BAD_FIRST XW_PB_V4_SHORT
#define XW_PB_V4_BAD_LAST  XW_PB_V4_TOTLEN_BIG
#define XW_PB_V6_BAD_FIRST XW_PB_V6_SHORT
#define XW_PB_V6_BAD_LAST  XW_PB_V6_FRAG_TRUNC

struct xw_pb_spec {
	uint8_t  eth_dst[6], eth_src[6];
	int      vlan;           /* outermost VLAN ID 0..4095, or -1: untagged */
	uint16_t eth_type;       /* after the tags; 0x8100/0x88A8 untagged = a cut tag */
	uint8_t  l3;             /* enum xw_pb_l3 */
	uint8_t  bad;            /* enum xw_pb_bad (l3 NONE, EtherType IPv4/IPv6) */
	uint8_t  src[16], dst[16];  /* network order; IPv4 in [0..3] */
	uint8_t  proto;          /* IPv4 protocol / IPv6 final next header */
	uint8_t  mf, later;      /* more-fragments set; fragment offset != 0 */
	uint8_t  l4;             /* 1: the protocol's transport header is whole;
				  * 0: cut short (TCP/UDP/SCTP/ICMP/ICMPv6) */
	uint16_t sport, dport;
	uint8_t  tcp_flags, icmp_type, icmp_code;
	uint32_t variant;        /* encoding choice: XW_PB_VB_* bits, XW_PB_VLEN */
	uint16_t payload;        /* bytes after a whole transport header (not a later
				  * fragment), for tests that need a frame length;
				  * 0: as variant says */
	/* Fields for tests that need exact header values; all 0: as above. */
	uint8_t  given;          /* 1: tcp_seq .. flow_label are written as they are,
				  * 0 included, and a cut UDP header keeps the whole
				  * one's length; 0: they are not read (the builder's
				  * own values: sequence 0x01020304, ...) */
	uint32_t tcp_seq, tcp_ack;  /* TCP sequence and acknowledgement numbers */
	uint16_t tcp_win;        /* TCP window */
	uint16_t icmp_id;        /* ICMP/ICMPv6 identifier (the sequence stays 1) */
	uint32_t sctp_tag;       /* SCTP verification tag */
	uint32_t ip_id;          /* IPv4 identification (16 bits) or IPv6 fragment
				  * header identification */
	uint32_t flow_label;     /* IPv6 flow label (20 bits) */
	uint16_t frag_off;       /* offset of a later fragment (8-byte units, at
				  * most 0x1fff); 0: as variant says */
	uint8_t  ip4_nops;       /* IPv4 options: this many NOPs (a multiple of 4, at
				  * most 40); 0: as variant says */
	uint8_t  v6_dstopt;      /* 1: a destination options header (alone) before the
				  * fragment or transport header; 0: as variant says */
	uint8_t  ip_version;     /* IP version written (not 4/6: malformed); 0: 4/6 */
	uint16_t ip_len_extra;   /* added to the IPv4 total length / IPv6 payload
				  * length (a quoted packet's, one past the frame);
				  * 0: the real length */
	const uint8_t *data;     /* `payload` bytes written after the last header
				  * built: a whole transport header, the IP headers
				  * (later fragment, protocol without a parsed
				  * header) or the link header (not IP); NULL:
				  * pattern bytes, as above */
};

/* `variant` bits (pktbuild.c describes them), named for tests that need one
 * encoding; bits 8.. pick lengths: a length chosen among n is
 * (variant >> 8) % n, so XW_PB_VLEN(k) picks length k wherever k < n. */
#define XW_PB_VB_QINQ  0x01u
#define XW_PB_VB_TCI   0x02u
#define XW_PB_VB_OPTS  0x04u
#define XW_PB_VB_PAD   0x08u
#define XW_PB_VB_DF    0x10u
#define XW_PB_VB_ROUTE 0x20u
#define XW_PB_VB_MORE  0x40u
#define XW_PB_VLEN(k)  ((uint32_t)(k) << 8)

/* Writes the frame into buf (cap >= XW_PB_MAX + payload); returns its length
 * (>= 14), or 0 if the spec cannot be built. */
size_t xw_pb_build(const struct xw_pb_spec *s, uint8_t *buf, size_t cap);

/* The Internet checksum (RFC 1071) of n bytes, an odd last byte padded with
 * a zero byte; the one checksum of the builder and of the C tests' frames. */
uint16_t xw_pb_csum(const void *p, size_t n);
/* Writes the header checksum of the IPv4 header at ip (IHL*4 bytes, IHL >=
 * 5); the checksum field's old value does not count. */
void xw_pb_ip4_csum(uint8_t *ip);

/* Which packet shapes a spec's frame has (for statistics). */
enum {
	XW_PBS_TAGGED = 1u << 0, XW_PBS_QINQ = 1u << 1, XW_PBS_TAG_CUT = 1u << 2,
	XW_PBS_NON_IP = 1u << 3, XW_PBS_MALFORMED = 1u << 4, XW_PBS_V4 = 1u << 5,
	XW_PBS_V4_OPTIONS = 1u << 6, XW_PBS_V6 = 1u << 7, XW_PBS_V6_EXT = 1u << 8,
	XW_PBS_FRAG = 1u << 9, XW_PBS_LATER = 1u << 10, XW_PBS_L4_CUT = 1u << 11,
	XW_PBS_L4 = 1u << 12, XW_PBS_PAD = 1u << 13, XW_PBS_N = 14
};
unsigned xw_pb_shapes(const struct xw_pb_spec *s);
extern const char *const xw_pb_shape_names[XW_PBS_N];

const char *xw_pb_bad_name(int bad);
/* One-line description of the fields of a spec. */
int xw_pb_format(const struct xw_pb_spec *s, char *buf, size_t len);
/* Lower-case hex of n bytes (no separators). */
int xw_pb_hex(const uint8_t *p, size_t n, char *buf, size_t len);

#endif
