// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* BPF declarations shared by the differential tests (tests/diff/).
 *
 * difftest reads pcaps: pcap/pcap.h pulls in pcap/bpf.h, whose struct
 * bpf_insn and BPF_* macros clash with linux/bpf.h, which bpf/bpf.h and
 * bpf/libbpf.h pull in.  So what the tests need of those is declared here by
 * hand, the same as there: a test that includes the real headers too (evtest,
 * for bpf_test_run_opts and bpf_map_info) gets compatible redeclarations.
 *
 * A header only: tests/tests.mk builds each .c file of tests/diff into a
 * program. */
#ifndef XW_TESTS_DIFF_BPFDECL_H
#define XW_TESTS_DIFF_BPFDECL_H

/* XDP actions (enum xdp_action in linux/bpf.h) */
#define XW_XDP_DROP     1u
#define XW_XDP_PASS     2u
#define XW_XDP_TX       3u
/* TC actions (linux/pkt_cls.h) */
#define XW_TC_ACT_OK    0u
#define XW_TC_ACT_SHOT  2u
#define XW_TC_ACT_REDIRECT 7u

/* libbpf (bpf/bpf.h, bpf/libbpf.h) */
int bpf_map_lookup_elem(int fd, const void *key, void *value);
int libbpf_num_possible_cpus(void);

#endif
