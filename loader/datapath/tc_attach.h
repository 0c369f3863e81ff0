// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* TC (cls_bpf on clsact) attach/detach over netlink with libmnl. */
#ifndef XW_TC_ATTACH_H
#define XW_TC_ATTACH_H

#include <stdbool.h>

/* Our filter's identity on the clsact hook: only this one is ever touched. */
#define XW_TC_PRIO   1
#define XW_TC_HANDLE 0x7877   /* "xw" */

/* Add (or replace) our direct-action filter with prog_fd on ifindex's
 * egress (or ingress) hook, creating the clsact qdisc only if absent.
 * Returns 0 or -errno. */
int xw_tc_attach(int ifindex, bool egress, int prog_fd);
/* Remove our filter; -ENOENT if it is not there. */
int xw_tc_detach(int ifindex, bool egress);

#endif
