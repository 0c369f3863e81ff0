// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Attaching the datapath to interfaces (XDP through libxdp). */
#ifndef XW_ATTACH_H
#define XW_ATTACH_H

#include "datapath.h"

/* tc: ingress through the TC program (clsact ingress) instead of XDP */
enum xw_mode { XW_MODE_AUTO, XW_MODE_NATIVE, XW_MODE_SKB, XW_MODE_TC };

/* XDP on dev, and with `egress` also the TC egress filter.  Returns XW_OK
 * (also when already attached: *already set), or an error. */
int xw_attach(struct xw_dp *dp, const char *dev, enum xw_mode mode, bool egress,
	      bool *already, struct xw_err *err);
/* Detach everything xwall attached to dev. */
int xw_detach(struct xw_dp *dp, const char *dev, struct xw_err *err);
/* Interfaces we are attached to; caller frees *out. */
int xw_iface_list(struct xw_dp *dp, struct xw_iface **out, size_t *n);
const char *xw_xdp_mode_name(int libxdp_mode);

#endif
