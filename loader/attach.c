// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* XDP attach/detach through libxdp, so xwall can share an interface with
 * other libxdp programs.  libxdp runs programs through its dispatcher when it
 * can; when the dispatcher cannot be used (it needs to load the program as
 * freplace itself, and libxdp 1.3.1's dispatcher fails on some kernels) libxdp
 * attaches our program directly; we record which happened for `status`. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include "attach.h"
#include "tc_attach.h"

static int to_libxdp(enum xw_mode m)
{
	return m == XW_MODE_NATIVE ? XDP_MODE_NATIVE : m == XW_MODE_SKB ? XDP_MODE_SKB :
	       m == XW_MODE_TC ? XW_IFMODE_TC : XDP_MODE_UNSPEC;
}

const char *xw_xdp_mode_name(int m)
{
	switch (m) {
	case XDP_MODE_NATIVE: return "native";
	case XDP_MODE_SKB: return "skb";
	case XDP_MODE_HW: return "hw";
	case XW_IFMODE_TC: return "tc";
	default: return "unspec";
	}
}

static int dev_index(const char *dev, struct xw_err *err)
{
	unsigned int ifx = if_nametoindex(dev);

	if (!ifx)
		return -xw_errf(err, XW_ESYS, "%s: %s", dev, errno == ENODEV ? "no such device" : strerror(errno));
	return (int)ifx;
}

static int attach_tc_egress(struct xw_dp *dp, const char *dev, struct xw_iface *ifc,
			    struct xw_err *err)
{
	int rc = xw_tc_attach((int)ifc->ifindex, true, dp->prog_fd[XW_P_TC_OUT]);

	if (rc)
		return xw_errf(err, XW_ESYS, "attach TC egress filter to %s: %s", dev, strerror(-rc));
	ifc->egress = 1;
	if (bpf_map_update_elem(dp->map_fd[XW_M_IFACES], &ifc->ifindex, ifc, 0)) {
		/* unrecorded, nothing would ever detach it: take it off again */
		int e = errno;

		xw_tc_detach((int)ifc->ifindex, true);
		ifc->egress = 0;
		return xw_errf(err, XW_ESYS, "record interface %s: %s (the TC egress filter was "
			       "detached again)", dev, strerror(e));
	}
	return XW_OK;
}

/* Undo an attach that could not be recorded in xw_ifaces: nothing (detach,
 * status, the last detach's unload) would know about it otherwise. */
static void unattach(struct xw_dp *dp, int ifx, const struct xw_iface *ifc)
{
	struct xdp_program *prog;

	if (ifc->xdp_mode == XW_IFMODE_TC) {
		xw_tc_detach(ifx, false);
		return;
	}
	prog = xdp_program__from_fd(dp->prog_fd[XW_P_XDP]);
	if (libxdp_get_error(prog))
		return;
	xdp_program__detach(prog, ifx, (enum xdp_attach_mode)ifc->xdp_mode, 0);
	xdp_program__close(prog);
}

int xw_attach(struct xw_dp *dp, const char *dev, enum xw_mode mode, bool egress,
	      bool *already, struct xw_err *err)
{
	struct xw_iface ifc;
	struct xdp_program *prog;
	struct xdp_multiprog *mp;
	int ifx = dev_index(dev, err), rc;
	__u32 key;

	*already = false;
	if (ifx < 0)
		return -ifx;
	key = (__u32)ifx;
	if (bpf_map_lookup_elem(dp->map_fd[XW_M_IFACES], &key, &ifc) == 0) {
		if (mode != XW_MODE_AUTO && to_libxdp(mode) != ifc.xdp_mode)
			return xw_errf(err, XW_EINPUT, "%s: already attached in %s mode; detach it first",
				       dev, xw_xdp_mode_name(ifc.xdp_mode));
		*already = !egress || ifc.egress;
		return egress && !ifc.egress ? attach_tc_egress(dp, dev, &ifc, err) : XW_OK;
	}
	memset(&ifc, 0, sizeof(ifc));
	ifc.ifindex = key;
	snprintf(ifc.name, sizeof(ifc.name), "%s", dev);
	ifc.kind = XW_ATTACH_DIRECT;
	if (mode == XW_MODE_TC) {
		rc = xw_tc_attach(ifx, false, dp->prog_fd[XW_P_TC_IN]);
		if (rc)
			return xw_errf(err, XW_ESYS, "attach TC ingress filter to %s: %s", dev, strerror(-rc));
		ifc.xdp_mode = XW_IFMODE_TC;
		goto record;
	}
	prog = xdp_program__from_fd(dp->prog_fd[XW_P_XDP]);
	rc = libxdp_get_error(prog);
	if (rc)
		return xw_errf(err, XW_ESYS, "libxdp: %s", strerror(-rc));
	rc = xdp_program__attach(prog, ifx, (enum xdp_attach_mode)to_libxdp(mode), 0);
	if (rc) {
		xdp_program__close(prog);
		return xw_errf(err, XW_ESYS, "attach XDP to %s: %s%s", dev, strerror(-rc),
			       rc == -EEXIST || rc == -EBUSY ? " (another XDP program is attached)" :
			       rc == -EOPNOTSUPP ? " (try --mode skb)" : "");
	}
	ifc.xdp_mode = (__u8)xdp_program__is_attached(prog, ifx);
	mp = xdp_multiprog__get_from_ifindex(ifx);
	if (!libxdp_get_error(mp) && mp) {
		if (!xdp_multiprog__is_legacy(mp))
			ifc.kind = XW_ATTACH_DISPATCHER;
		ifc.xdp_mode = (__u8)xdp_multiprog__attach_mode(mp);
		xdp_multiprog__close(mp);
	}
	xdp_program__close(prog);
record:
	if (bpf_map_update_elem(dp->map_fd[XW_M_IFACES], &key, &ifc, 0)) {
		int e = errno;

		unattach(dp, ifx, &ifc);
		return xw_errf(err, XW_ESYS, "record interface %s: %s (%s detached again)", dev,
			       strerror(e), ifc.xdp_mode == XW_IFMODE_TC ? "the TC ingress filter" : "XDP");
	}
	if (egress) {
		rc = attach_tc_egress(dp, dev, &ifc, err);
		if (rc) {
			struct xw_err e2;

			xw_detach(dp, dev, &e2);
			return rc;
		}
	}
	return XW_OK;
}

int xw_detach(struct xw_dp *dp, const char *dev, struct xw_err *err)
{
	struct xw_iface ifc;
	struct xdp_program *prog;
	unsigned int ifx;
	__u32 key;
	int rc;

	ifx = if_nametoindex(dev);
	key = ifx;
	if (!ifx || bpf_map_lookup_elem(dp->map_fd[XW_M_IFACES], &key, &ifc)) {
		/* the device may be gone: find it by name in our table */
		struct xw_iface *all;
		size_t n;

		ifx = 0;
		if (xw_iface_list(dp, &all, &n) == 0) {
			for (size_t i = 0; i < n; i++)
				if (!strcmp(all[i].name, dev)) {
					ifc = all[i];
					ifx = ifc.ifindex;
				}
			free(all);
		}
		if (!ifx)
			return xw_errf(err, XW_EINPUT, "%s: xwall is not attached there", dev);
		key = ifx;
	}
	if (ifc.egress) {
		rc = xw_tc_detach((int)ifx, true);
		if (rc && rc != -ENOENT && rc != -ENODEV && if_nametoindex(dev) == ifx)
			return xw_errf(err, XW_ESYS, "detach TC egress filter from %s: %s", dev, strerror(-rc));
	}
	if (ifc.xdp_mode == XW_IFMODE_TC) {
		rc = xw_tc_detach((int)ifx, false);
		if (rc == -ENOENT)
			rc = 0;   /* somebody removed our filter already */
	} else {
		prog = xdp_program__from_fd(dp->prog_fd[XW_P_XDP]);
		rc = libxdp_get_error(prog);
		if (!rc) {
			rc = xdp_program__detach(prog, (int)ifx, (enum xdp_attach_mode)ifc.xdp_mode, 0);
			xdp_program__close(prog);
		}
	}
	/* a vanished device took the program with it */
	if (rc && if_nametoindex(dev) == ifx)
		return xw_errf(err, XW_ESYS, "detach %s from %s: %s",
			       ifc.xdp_mode == XW_IFMODE_TC ? "TC ingress filter" : "XDP", dev, strerror(-rc));
	bpf_map_delete_elem(dp->map_fd[XW_M_IFACES], &key);
	return XW_OK;
}

int xw_iface_list(struct xw_dp *dp, struct xw_iface **out, size_t *n)
{
	__u32 key, next, *prev = NULL;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	while (bpf_map_get_next_key(dp->map_fd[XW_M_IFACES], prev, &next) == 0) {
		key = next;
		prev = &key;
		if (*n == cap) {
			struct xw_iface *nv = realloc(*out, (cap = cap ? cap * 2 : 8) * sizeof(**out));

			if (!nv)
				return -ENOMEM;
			*out = nv;
		}
		if (bpf_map_lookup_elem(dp->map_fd[XW_M_IFACES], &key, &(*out)[*n]) == 0)
			(*n)++;
	}
	return 0;
}
