// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Netlink for tc: clsact qdisc and one cls_bpf filter (ours, by prio and
 * handle).  Filters of other tools on the same hook are never touched; the
 * clsact qdisc stays on detach because other filters may live on it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>
#include "tc_attach.h"

static int talk(struct nlmsghdr *nlh)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	unsigned int portid, seq = (unsigned int)time(NULL);
	int rc = 0;
	ssize_t n;

	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		rc = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		rc = -errno;
		goto out;
	}
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0)
		rc = -errno;
	else if (mnl_cb_run(buf, (size_t)n, seq, portid, NULL, NULL) < 0)
		rc = -errno;
out:
	mnl_socket_close(nl);
	return rc;
}

static struct tcmsg *tc_header(char *buf, uint16_t type, uint16_t flags, int ifindex)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct tcmsg *t;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	t = mnl_nlmsg_put_extra_header(nlh, sizeof(*t));
	t->tcm_family = AF_UNSPEC;
	t->tcm_ifindex = ifindex;
	return t;
}

static int ensure_clsact(int ifindex)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct tcmsg *t = tc_header(buf, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL, ifindex);
	int rc;

	t->tcm_handle = TC_H_MAKE(TC_H_CLSACT, 0);
	t->tcm_parent = TC_H_CLSACT;
	mnl_attr_put_strz((struct nlmsghdr *)buf, TCA_KIND, "clsact");
	rc = talk((struct nlmsghdr *)buf);
	return rc == -EEXIST ? 0 : rc;
}

static void filter_id(struct tcmsg *t, bool egress)
{
	t->tcm_parent = TC_H_MAKE(TC_H_CLSACT, egress ? TC_H_MIN_EGRESS : TC_H_MIN_INGRESS);
	t->tcm_handle = XW_TC_HANDLE;
	t->tcm_info = TC_H_MAKE((uint32_t)XW_TC_PRIO << 16, htons(ETH_P_ALL));
}

int xw_tc_attach(int ifindex, bool egress, int prog_fd)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct nlattr *opts;
	struct tcmsg *t;
	int rc = ensure_clsact(ifindex);

	if (rc)
		return rc;
	/* replace: re-attaching updates our own filter in place */
	t = tc_header(buf, RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_REPLACE, ifindex);
	filter_id(t, egress);
	mnl_attr_put_strz(nlh, TCA_KIND, "bpf");
	opts = mnl_attr_nest_start(nlh, TCA_OPTIONS);
	mnl_attr_put_u32(nlh, TCA_BPF_FD, (uint32_t)prog_fd);
	mnl_attr_put_strz(nlh, TCA_BPF_NAME, egress ? "xwall_out" : "xwall_in");
	mnl_attr_put_u32(nlh, TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT);
	mnl_attr_nest_end(nlh, opts);
	return talk(nlh);
}

int xw_tc_detach(int ifindex, bool egress)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct tcmsg *t = tc_header(buf, RTM_DELTFILTER, 0, ifindex);

	filter_id(t, egress);
	mnl_attr_put_strz((struct nlmsghdr *)buf, TCA_KIND, "bpf");
	return talk((struct nlmsghdr *)buf);
}
