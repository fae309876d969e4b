/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Congestion control: how the congestion window (cwnd) and the slow-start
 * threshold (ssthresh) of a flow move. Input and output only call these
 * at the events of RFC 5681 and read f->cwnd; loss detection and recovery
 * (duplicate ACKs, RFC 6582's "recover", the SACK scoreboard, pipe and
 * NextSeg of RFC 6675) stay theirs. Another algorithm (CUBIC, RFC 9438)
 * is another table of these in cc.c.
 */
#ifndef FJ_TCP_CC_H
#define FJ_TCP_CC_H

#include <stdbool.h>
#include <stdint.h>

struct fj_tcp_flow;

struct fj_cc_ops {
	const char *name;
	/* The connection is synchronized and its MSS known: the initial
	 * window (RFC 5681 §3.1, RFC 6928). */
	void (*init)(struct fj_tcp_flow *f);
	/* @acked bytes newly acknowledged (SND.UNA advanced). In recovery
	 * and short of its end: a partial ACK (RFC 6582 §3.2 (5)). */
	void (*on_ack)(struct fj_tcp_flow *f, uint32_t acked, bool in_recovery);
	/* A duplicate ACK that does not start recovery (RFC 5681 §3.2). */
	void (*on_dupack)(struct fj_tcp_flow *f);
	/* Fast retransmit: recovery begins (RFC 5681 §3.2 (2)-(3),
	 * RFC 6582 §3.2 (2), RFC 6675 §5 (4)). */
	void (*enter_recovery)(struct fj_tcp_flow *f);
	/* A full acknowledgement ends recovery (RFC 6582 §3.2 (3)). */
	void (*exit_recovery)(struct fj_tcp_flow *f);
	/* The retransmission timer expired (RFC 5681 §3.1, RFC 6298 §5). */
	void (*on_rto)(struct fj_tcp_flow *f);
};

/* Choose @f's algorithm (NewReno, the only one) and start it. */
void tcp_cc_init(struct fj_tcp_flow *f);

#endif
