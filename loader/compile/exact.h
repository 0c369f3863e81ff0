// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The exact tier: rule entries looked up by hash, one probe per shape (see
 * include/xwall.h "exact tier" and docs/classifier.md). */
#ifndef XW_EXACT_H
#define XW_EXACT_H

#include <stdint.h>
#include "xwall.h"

/* Which entries go to the exact tier (XW_EXACT in the environment):
 * AUTO (the default) takes the shapes of a tree group only when they hold
 * every entry of the group and a packet can pass the checks of at most one
 * of them: the group's tree walk (~25 ns) becomes one probe (~18 ns,
 * `xwbench pkt`; even for groups of 1-3 entries: 10 simple rules 53 ns
 * probed, 73 walked), and no tree keeps its walk beside the probes
 * (docs/classifier.md: on ClassBench, probes next to the same trees cost
 * up to 2.6x).  ALL takes the largest shapes
 * whatever they cost (the tests: every shape they can through the hash);
 * OFF none. */
enum xw_exact_mode { XW_EXACT_AUTO, XW_EXACT_ALL, XW_EXACT_OFF };

enum xw_exact_mode xw_exact_mode(void);

/* A key of the exact tier, as this side keeps it: the shape and its key
 * lanes (the datapath's key is lane[0], or lane[0..3]; zero past nk). */
struct xw_xkey {
	uint32_t shape;
	uint32_t lane[XW_XLANES];
};

struct xw_cexact {
	uint32_t n_shapes;
	struct xw_xshape shapes[XW_MAX_XSHAPES];
	uint32_t n;                /* entries, over all shapes */
	struct xw_xkey *keys;      /* sorted: by shape, then lanes */
	uint32_t *rids;            /* the rule entry of each key */
};

/* Choose the shapes among rents[0..n) (sorted by priority; group[i] is
 * the tree group of entry i, < 8) and take their entries: in_x[i] = 1 for
 * each entry taken.  Returns 0, or -1 (memory). */
int xw_exact_split(const struct xw_rent *rents, const uint8_t *group, uint32_t n,
		   enum xw_exact_mode mode, struct xw_cexact *x, uint8_t *in_x);
void xw_cexact_free(struct xw_cexact *x);

/* The key of packet key k for shape s (numbered j), as the datapath builds
 * it; 0 if the packet fails the shape's check lanes (no probe). */
int xw_exact_key(const struct xw_xshape *s, unsigned j, const struct xw_key *k,
		 struct xw_xkey *out);

/* The key entry e has in shape s (numbered j); 0 if e is not of the shape
 * (its mask and fixed ports are not the shape's, or it fails the checks). */
int xw_exact_entry_key(const struct xw_xshape *s, unsigned j, const struct xw_rent *e,
		       struct xw_xkey *out);

/* The most of shapes x[0..n) one packet can be probed in (their checks
 * exclude each other: IPv4 and IPv6, TCP and UDP, in and out). */
uint32_t xw_exact_probes_max(const struct xw_xshape *x, uint32_t n);

/* The rule entry of key, or -1. */
int64_t xw_exact_find(const struct xw_cexact *x, const struct xw_xkey *key);

#endif
