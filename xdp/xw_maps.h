// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Maps of the datapath.  Shared by the XDP and TC objects; the loader makes
 * both use the same (pinned) instances, so one rule set serves all hooks. */
#ifndef XW_MAPS_H
#define XW_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "xwall.h"

/* Rule-set generations g = 0, 1 (include/xwall.h "Decision trees"): tree
 * nodes, leaf lists and rule entries, generation g in the g-th half of each
 * array; the loader fills the inactive half, then flips xw_cfg.active.
 * BPF_F_MMAPABLE: the loader writes them with memcpy through mmap, which
 * the kernel refuses for BPF_F_RDONLY_PROG maps, so the programs could write
 * them (they never do).  A datapath pinned by an older xwall (read-only, not
 * mmapable) is written with batched updates. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 2 * XW_MAX_NODES);
	__type(key, __u32);
	__type(value, struct xw_node);
} xw_nodes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 2 * XW_MAX_LIDS);
	__type(key, __u32);
	__type(value, __u32);
} xw_lids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 2 * XW_MAX_RENTS);
	__type(key, __u32);
	__type(value, struct xw_rent);
} xw_rents SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_RDONLY_PROG);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct xw_thead);
} xw_trees SEC(".maps");

/* The exact tier (include/xwall.h): shape j of generation g is the hash
 * map at slot XW_XSLOT(g, j) of one of these, made to the size of its
 * entries by each apply (loader/datapath/datapath.c). */
struct xw_xents4_inner {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_RDONLY_PROG);
	__uint(max_entries, 1);
	__uint(key_size, 4);
	__uint(value_size, sizeof(__u32));
};

struct xw_xents16_inner {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_RDONLY_PROG);
	__uint(max_entries, 1);
	__uint(key_size, 16);
	__uint(value_size, sizeof(__u32));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2 * XW_MAX_XSHAPES);
	__type(key, __u32);
	__array(values, struct xw_xents4_inner);
} xw_xents4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2 * XW_MAX_XSHAPES);
	__type(key, __u32);
	__array(values, struct xw_xents16_inner);
} xw_xents16 SEC(".maps");

/* Limit entries of generation g at [g * XW_MAX_LIMIT_ENTRIES, ...). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * XW_MAX_LIMIT_ENTRIES);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct xw_limit_entry));
} xw_limits SEC(".maps");

/* Canonical rule text of a generation, in 4 KiB chunks: read back by
 * `rule list` and `verify`; never touched by the programs. */
struct xw_text_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_INNER_MAP | BPF_F_RDONLY_PROG | BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, char[4096]);
};

/* Two generations; cfg.active says which one packets use.  Slot g holds
 * generation g's text, or the changes `rule add|del` made since the last
 * apply ("#edits ..."), applied to the text in slot 2 + g
 * (loader/datapath/edit.c): a change writes a few lines, not 7 MB. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct xw_text_inner);
} xw_text SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xw_cfg);
} xw_cfg SEC(".maps");

/* Token buckets of limit rules, by counter slot (kept across applies for
 * unchanged rules), and per source address for `per src`. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XW_MAX_RULES);
	__type(key, __u32);
	__type(value, struct xw_bucket);
} xw_buckets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct xw_src_key);
	__type(value, struct xw_bucket);
} xw_src_buckets SEC(".maps");

/* Log events; the size is set by the loader (attach --ring-size). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, XW_RING_DEFAULT);
} xw_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XW_EVC_MAX);
	__type(key, __u32);
	__type(value, __u64);
} xw_event_stats SEC(".maps");

/* Per-rule event cap: events in the current one-second window. */
struct xw_log_window {
	__u64 start_ns;
	__u64 count;
	struct bpf_spin_lock lock;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XW_LOG_WINDOWS);
	__type(key, __u32);
	__type(value, struct xw_log_window);
} xw_log_windows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XW_MAX_RULES);
	__type(key, __u32);
	__type(value, struct xw_counter);
} xw_rule_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XW_REASON_MAX);
	__type(key, __u32);
	__type(value, struct xw_counter);
} xw_reason_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XW_VERDICT_MAX);
	__type(key, __u32);
	__type(value, struct xw_counter);
} xw_verdict_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XW_SCRATCH_SLOTS);
	__type(key, __u32);
	__type(value, struct xw_scratch);
} xw_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct xw_iface);
} xw_ifaces SEC(".maps");

/* Flow tables; their size is set by the loader before load (attach
 * --ct-size).  Flows start in xw_ct_new and move to xw_ct once assured: TCP
 * when its handshake completes (the ACK of the SYN+ACK), other protocols
 * when a reply passes.  A flood of new flows (spoofed SYNs, answered or
 * not) evicts only its own kind from xw_ct_new, never an assured flow
 * (nf_conntrack's early drop spares assured entries the same way). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XW_CT_DEFAULT_SIZE);
	__type(key, struct xw_ct_key);
	__type(value, struct xw_ct_val);
} xw_ct SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XW_CT_DEFAULT_SIZE);
	__type(key, struct xw_ct_key);
	__type(value, struct xw_ct_val);
} xw_ct_new SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XW_CTC_MAX);
	__type(key, __u32);
	__type(value, __u64);
} xw_ct_stats SEC(".maps");

/* Live entries of each table (XW_CT_TBL_*) as counted by inserts, moves
 * and expiries: an insert into a full table means the LRU evicted someone
 * (counted as XW_CTC_EVICTED or XW_CTC_EARLY_DROP). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XW_CT_TBL_MAX);
	__type(key, __u32);
	__type(value, __s64);
} xw_ct_count SEC(".maps");

#endif
