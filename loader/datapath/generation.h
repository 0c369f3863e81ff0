// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The two generations' maps, as datapath.c (a whole apply) and edit.c
 * (`rule add|del` on the live generation) both write them: packets use
 * generation cfg.active; the other is filled, then one xw_cfg write
 * switches. */
#ifndef XW_GENERATION_H
#define XW_GENERATION_H

#include <stddef.h>
#include <stdint.h>
#include "datapath.h"

/* Bytes of one chunk of a generation's rule text map. */
#define XW_TEXT_CHUNK 4096

int xw_gen_read_cfg(struct xw_dp *dp, struct xw_cfg *cfg);
/* fd of the inner map in slot gen of outer map m, or -errno. */
int xw_gen_inner_fd(struct xw_dp *dp, enum xw_map_id m, __u32 gen);
/* Generation gen's rule text ("#slots S0 S1 ...\n" and the canonical
 * text, with the changes since the apply made), NUL-terminated; NULL with
 * err set. */
char *xw_gen_read_text(struct xw_dp *dp, __u32 gen, struct xw_err *err);
/* The text map in slot `slot` of xw_text mapped read-only (*len bytes, to
 * munmap), its text *tlen bytes and a NUL; NULL with errno set when it
 * cannot be mapped. */
const char *xw_gen_map_text(struct xw_dp *dp, __u32 slot, size_t *len, size_t *tlen);
/* A new rule text map holding text[0..tlen): its fd, or -errno. */
int xw_gen_text_map(struct xw_dp *dp, const char *text, size_t tlen);
/* Points line[i] at the i-th of the last n lines of text (the rules of a
 * canonical text), llen[i] its length; -1 if one is not a rule line. */
int xw_gen_last_lines(const char *text, size_t len, size_t n, const char **line, uint32_t *llen);
/* n values of vs bytes into slots [first, first + n) of array map fd. */
int xw_gen_write_array(int fd, __u32 first, const void *vals, __u32 n, __u32 vs);
/* Returns once no packet can still run on what generation gen held. */
int xw_gen_grace_period(struct xw_dp *dp, __u32 gen);
/* A slot that starts a rule: counters, bucket and event window zeroed (for
 * slots[i] with fresh[i] == which), and its per-source buckets gone. */
int xw_gen_zero_slots(struct xw_dp *dp, const uint32_t *slots, const uint8_t *fresh, size_t n,
		      uint8_t which);
int xw_gen_clear_src_buckets(struct xw_dp *dp, const uint32_t *slots, const uint8_t *fresh,
			     size_t n, uint8_t which);
/* Empty slot `slot` of outer map m. */
int xw_gen_clear_slot(struct xw_dp *dp, enum xw_map_id m, __u32 slot);
/* Generation to's exact-tier slots made those of generation from (its
 * first n_shapes shapes; the others empty): the halves share the maps. */
int xw_gen_share_exact(struct xw_dp *dp, __u32 from, __u32 to, uint32_t n_shapes);
/* The switch to generation gen, whose settings are these. */
int xw_gen_switch(struct xw_dp *dp, struct xw_cfg *cfg, __u32 gen, const uint8_t policy[XW_DIR_MAX],
		  uint8_t ct_on, uint32_t n_limits, struct xw_err *err);

#endif
