// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* attach, detach, status */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include <json-c/json.h>
#include "ctl.h"
#include "attach.h"
#include "confirm.h"

int cmd_attach(int argc, char **argv)
{
	enum xw_mode mode = XW_MODE_AUTO;
	bool egress = false;
	struct xw_dp dp;
	struct xw_err err;
	bool already;
	int c, rc;

	while ((c = xw_getopt("attach", argc, argv)) != -1) {
		switch (c) {
		case 'r':
		case 'l':
		case 'c':
			rc = xw_load_option(c, optarg);
			if (rc)
				return rc;
			break;
		case 'm':
			if (!strcmp(optarg, "auto"))
				mode = XW_MODE_AUTO;
			else if (!strcmp(optarg, "native"))
				mode = XW_MODE_NATIVE;
			else if (!strcmp(optarg, "skb"))
				mode = XW_MODE_SKB;
			else if (!strcmp(optarg, "tc"))
				mode = XW_MODE_TC;
			else
				return xw_failf(XW_EINPUT, "--mode: expected auto, native, skb or tc, got '%s'", optarg);
			break;
		case 'e':
			egress = true;
			break;
		default:
			return xw_usage("attach", XW_EINPUT);
		}
	}
	if (optind != argc - 1)
		return xw_usage("attach", XW_EINPUT);
	if (!if_nametoindex(argv[optind]))
		return xw_failf(XW_ESYS, "%s: no such device", argv[optind]);
	rc = xw_open(&dp, true);
	if (rc)
		return rc;
	rc = xw_dp_settle_options(&dp, &err);
	if (!rc)
		rc = xw_attach(&dp, argv[optind], mode, egress, &already, &err);
	if (rc) {
		xw_fail(rc, &err);
		xw_close(&dp, rc);
		return rc;
	}
	if (already)
		printf("%s: already attached\n", argv[optind]);
	xw_close(&dp, 0);
	return 0;
}

static int detach_one(struct xw_dp *dp, const char *dev)
{
	struct xw_err err;
	int rc = xw_detach(dp, dev, &err);

	return rc ? xw_fail(rc, &err) : 0;
}

int cmd_detach(int argc, char **argv)
{
	struct xw_iface *l = NULL;
	struct xw_dp dp;
	struct xw_err err;
	bool all = false, loaded;
	size_t n = 0;
	int c, rc;

	while ((c = xw_getopt("detach", argc, argv)) != -1) {
		if (c != 'a')
			return xw_usage("detach", XW_EINPUT);
		all = true;
	}
	if (all == (optind < argc) || optind < argc - 1)
		return xw_usage("detach", XW_EINPUT);
	rc = xw_open_loaded(&dp, &loaded);
	if (rc)
		return rc;
	if (!loaded) {
		xw_dp_close(&dp);
		if (all)
			return 0;
		return xw_failf(XW_EINPUT, "%s: xwall is not attached there", argv[optind]);
	}
	if (all) {
		xw_iface_list(&dp, &l, &n);
		for (size_t i = 0; i < n; i++) {
			int r = detach_one(&dp, l[i].name);

			rc = rc ? rc : r;
		}
		free(l);
	} else {
		rc = detach_one(&dp, argv[optind]);
	}
	if (xw_iface_list(&dp, &l, &n) == 0) {
		free(l);
		if (n == 0) {
			struct xw_confirm_hdr h;

			/* unloading: nothing is left to filter, or to restore */
			if (xw_confirm_get(&dp, &h, NULL, &err) > 0)
				fprintf(stderr, "xwall: cancelled the pending confirmation of %s: the "
					"datapath is unloaded\n", h.file);
			xw_confirm_unpin_all();
			if (xw_dp_unpin(&err))
				rc = rc ? rc : xw_fail(XW_ESYS, &err);
		}
	}
	xw_dp_close(&dp);
	return rc;
}

static __u32 prog_id(int fd)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

/* status --json: one object, interfaces as an array. */
static void print_status_json(struct xw_dp *dp, const struct xw_ruleset *rs, uint64_t gen,
			      const struct xw_iface *l, size_t n)
{
	json_object *o = json_object_new_object(), *a = json_object_new_array();

	json_object_object_add(o, "loaded", json_object_new_boolean(1));
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_new_object();

		json_object_object_add(e, "name", json_object_new_string(l[i].name));
		json_object_object_add(e, "ifindex", json_object_new_int64(l[i].ifindex));
		json_object_object_add(e, "xdp_mode", json_object_new_string(xw_xdp_mode_name(l[i].xdp_mode)));
		json_object_object_add(e, "attach", json_object_new_string(
			l[i].kind == XW_ATTACH_DISPATCHER ? "libxdp-dispatcher" : "direct"));
		json_object_object_add(e, "egress", json_object_new_boolean(l[i].egress));
		json_object_array_add(a, e);
	}
	json_object_object_add(o, "interfaces", a);
	json_object_object_add(o, "xdp_prog_id", json_object_new_int64(prog_id(dp->prog_fd[XW_P_XDP])));
	json_object_object_add(o, "stage_prog_id", json_object_new_int64(prog_id(dp->prog_fd[XW_P_XDP_STAGE])));
	json_object_object_add(o, "rules", json_object_new_int64((int64_t)rs->n));
	json_object_object_add(o, "policy_in", json_object_new_string(xw_verdict_name(rs->policy[XW_DIR_IN])));
	json_object_object_add(o, "policy_out", json_object_new_string(xw_verdict_name(rs->policy[XW_DIR_OUT])));
	json_object_object_add(o, "generation", json_object_new_int64((int64_t)gen));
	{
		struct xw_tree_cost tc;

		if (xw_dp_tree_cost(dp, &tc) == 0) {
			json_object *k = json_object_new_object();

			json_object_object_add(k, "exact_shapes", json_object_new_int64(tc.xshapes));
			json_object_object_add(k, "exact_entries", json_object_new_int64(tc.xentries));
			json_object_object_add(k, "max_probes", json_object_new_int64(tc.xprobes));
			json_object_object_add(k, "trees", json_object_new_int64(tc.trees));
			json_object_object_add(k, "nodes", json_object_new_int64(tc.nodes));
			json_object_object_add(k, "leaf_slots", json_object_new_int64(tc.leaf_slots));
			json_object_object_add(k, "max_depth", json_object_new_int64(tc.depth));
			json_object_object_add(k, "max_leaf", json_object_new_int64(tc.leaf));
			json_object_object_add(k, "worst_reads", json_object_new_int64(tc.worst));
			json_object_object_add(k, "edits", json_object_new_int64(tc.edits));
			json_object_object_add(k, "overlay_entries", json_object_new_int64(tc.overlay));
			json_object_object_add(o, "classifier", k);
		}
	}
	xw_confirm_status(dp, o);
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static void print_status_text(struct xw_dp *dp, const struct xw_ruleset *rs, uint64_t gen,
			      const struct xw_iface *l, size_t n)
{
	printf("xwall: loaded, generation %llu, %zu rules, policy in %s, policy out %s\n",
	       (unsigned long long)gen, rs->n, xw_verdict_name(rs->policy[XW_DIR_IN]),
	       xw_verdict_name(rs->policy[XW_DIR_OUT]));
	printf("programs: xdp id %u, stage id %u\n", prog_id(dp->prog_fd[XW_P_XDP]),
	       prog_id(dp->prog_fd[XW_P_XDP_STAGE]));
	{
		struct xw_tree_cost tc;

		int ok = xw_dp_tree_cost(dp, &tc) == 0;

		if (ok)
			printf("classifier: %u exact shapes (%u entries), %u trees, %u nodes, %u leaf "
			       "slots; per packet at most %u hash probes and %u reads (deepest path %u "
			       "nodes, longest leaf %u entries)\n", tc.xshapes, tc.xentries, tc.trees,
			       tc.nodes, tc.leaf_slots, tc.xprobes, tc.worst, tc.depth, tc.leaf);
		if (ok && tc.edits)
			printf("changes: %u rule add/del since the last apply, %u entries in the "
			       "overlay tree (an apply folds them in)\n", tc.edits, tc.overlay);
	}
	for (size_t i = 0; i < n; i++)
		printf("%s (ifindex %u): %s%s, %s%s\n", l[i].name, l[i].ifindex,
		       l[i].xdp_mode == XW_IFMODE_TC ? "ingress " : "xdp ",
		       xw_xdp_mode_name(l[i].xdp_mode),
		       l[i].xdp_mode == XW_IFMODE_TC ? "cls_bpf on clsact" :
		       l[i].kind == XW_ATTACH_DISPATCHER ? "via libxdp dispatcher" :
		       "direct attach (libxdp dispatcher not used)",
		       l[i].egress ? ", tc egress" : "");
	xw_confirm_status(dp, NULL);
}

int cmd_status(int argc, char **argv)
{
	struct xw_ruleset rs;
	struct xw_iface *l = NULL;
	struct xw_dp dp;
	struct xw_err err;
	uint64_t gen = 0;
	bool json = false, loaded;
	size_t n = 0;
	int c, rc;

	while ((c = xw_getopt("status", argc, argv)) != -1) {
		if (c != 'j')
			return xw_usage("status", XW_EINPUT);
		json = true;
	}
	if (optind != argc)
		return xw_usage("status", XW_EINPUT);
	rc = xw_open_loaded(&dp, &loaded);
	if (rc)
		return rc;
	if (!loaded) {
		xw_dp_close(&dp);
		if (json)
			printf("{\"loaded\": false, \"interfaces\": []}\n");
		else
			printf("xwall: not loaded\n");
		return 0;
	}
	rc = xw_dp_read_rules(&dp, &rs, NULL, &gen, &err);
	if (rc) {
		xw_dp_close(&dp);
		return xw_fail(rc, &err);
	}
	xw_iface_list(&dp, &l, &n);
	if (json)
		print_status_json(&dp, &rs, gen, l, n);
	else
		print_status_text(&dp, &rs, gen, l, n);
	free(l);
	xw_ruleset_free(&rs);
	xw_dp_close(&dp);
	return 0;
}
