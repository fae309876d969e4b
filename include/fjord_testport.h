/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A deterministic port for fjord's stack: no DPDK device, frames in and
 * out through calls and a callback, time from a clock the caller owns.
 * Scripted tests (and external conformance tools) drive the stack frame
 * by frame in virtual time with it. EAL starts once per process, without
 * hugepages or devices; stacks can be made and freed one after another.
 */
#ifndef FJORD_TESTPORT_H
#define FJORD_TESTPORT_H

#include <stdint.h>

#include "fjord.h"

struct fj_testport_cfg {
	const char *ip;            /* "A.B.C.D/LEN" */
	const char *gw;            /* NULL: none */
	const char *ip6;           /* "ADDR/LEN", or NULL: the link-local one only */
	uint8_t dad_transmits;     /* DAD probes per IPv6 address (0: none, unlike the stack's 1) */
	uint8_t mac[6];
	uint16_t mtu;              /* 0: 1500 */
	/* Shards (0: one). Each is fj_stack_shard(s, i), fed by fj_stack_input
	 * as if its own queue received the frame and polled by fj_stack_poll;
	 * frames for another shard's flows wait in that shard's steering ring
	 * until it is polled. */
	unsigned shards;
	/* The port offers TSO, cutting large TCP segments into MSS frames
	 * (with their checksums) before tx sees them, as a NIC would. */
	bool tso;
	/* The stack coalesces the TCP segments of a burst in software
	 * (rte_gro), as on a port without LRO (fj_stack_input_burst). */
	bool gro;
	/* The port can hold what the stack gives it (fj_testport_hold), as a
	 * device does until it has read its ring: frames reach tx only
	 * through fj_testport_transmit, and their buffers are freed only when
	 * the stack asks the port (as rte_eth_tx_done_cleanup). */
	bool holds;
	uint32_t hold_max;         /* frames it holds at most (0: FJ_TESTPORT_HOLD_MAX) */
	/* The stack's --flow-queue-bytes (0: its default, UINT32_MAX: none). */
	uint32_t flow_queue_bytes;
	uint64_t hz;               /* clock units per second */
	uint64_t (*clock)(void *ctx);
	/* Every frame the stack sends, whole, in order. */
	void (*tx)(void *ctx, const uint8_t *frame, uint32_t len);
	/* Optional: a kernel exception path (--kernel-exception): every frame
	 * the stack gives the kernel, whole, as it came. */
	void (*exception)(void *ctx, const uint8_t *frame, uint32_t len);
	void *ctx;
};

/* NULL (and a line on stderr) if the configuration is bad. */
struct fj_stack *fj_stack_testport(const struct fj_testport_cfg *cfg);
/* One frame from the wire; what it causes is sent before this returns. */
void fj_stack_input(struct fj_stack *s, const uint8_t *frame, uint32_t len);
/* Up to 32 frames that came in one receive burst. */
void fj_stack_input_burst(struct fj_stack *s, const uint8_t *const *frames, const uint32_t *lens,
			  unsigned n);
/* Run the timers due at the clock's "now" and send what they produce. */
void fj_stack_poll(struct fj_stack *s);

#define FJ_TESTPORT_HOLD_MAX 1024
/* A port that holds (cfg.holds): from now on keep up to hold_max frames
 * (more are refused, as by a full ring), or
 * send what waits and go back to sending at once. */
void fj_testport_hold(struct fj_stack *s, bool on);
/* How many frames wait to be sent; send the @n oldest (to tx, in order;
 * their buffers stay the port's until the stack asks). */
unsigned fj_testport_waiting(const struct fj_stack *s);
void fj_testport_transmit(struct fj_stack *s, unsigned n);

#endif
