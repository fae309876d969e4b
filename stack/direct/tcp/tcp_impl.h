/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP's inside, shared by its files: tcp_flow.c (the life of a flow and
 * the API), tcp_state.c (state changes), tcp_input.c (arrival, RFC 9293
 * §3.10.7.4), tcp_open.c (LISTEN, SYN cookies, SYN-SENT), tcp_ack.c (the
 * ACK field, the SACK scoreboard), cc.c (congestion control),
 * tcp_output.c (queues, segments, SACK recovery's sending), tcp_timer.c.
 */
#ifndef FJ_TCP_IMPL_H
#define FJ_TCP_IMPL_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "direct.h"
#include "cc.h"
#include "isn.h"
#include "tcp_seq.h"

#define MSS_DEFAULT 536      /* RFC 9293 §3.7.1 without the option */
#define RCV_BUF (256 * 1024)
#define SND_BUF (256 * 1024)
#define RCV_WS 7             /* our window shift */
#define IW_SEGS 10           /* RFC 6928 */
#define DELACK_MS 40
#define MAX_RTX 12           /* retransmissions before giving up */
#define MAX_SYNACK 5
#define MAX_SYN 6
#define MAX_FLOWS 65536
#define BACKLOG 1024

static inline struct fj_tcp *T(struct fj_stack *s) { return &s->tcp; }

/* The TCB behind a public flow (its first member). */
static inline struct fj_tcp_flow *
tcp_flow(struct fj_flow *f)
{
	return (struct fj_tcp_flow *)f;
}

static inline uint64_t
to_us(const struct fj_stack *s, uint64_t ticks)
{
	return ticks * 1000000u / s->hz;
}

static inline uint64_t
from_us(const struct fj_stack *s, uint64_t us)
{
	return us * s->hz / 1000000u;
}

/* ------------------------------------------------------ either family */

/* The IP header in front of a segment to or from @v6's family. */
static inline uint32_t
tcp_ip_hdr_len(bool v6)
{
	return v6 ? FJ_IPV6_HDR_LEN : FJ_IPV4_HDR_LEN;
}

/* Our MSS option (RFC 9293 §3.7.1, RFC 8200 §8.3): the link's MTU less
 * the IP and TCP headers. */
static inline uint16_t
tcp_mss_link(const struct fj_stack *s, bool v6)
{
	return (uint16_t)(s->mtu - tcp_ip_hdr_len(v6) - FJ_TCP_HDR_LEN);
}

/* The most we put in a segment to @e's remote end: over IPv6 also within
 * the path MTU ICMPv6 taught us (RFC 8201). */
static inline uint16_t
tcp_mss_max(struct fj_stack *s, const struct fj_tcp_ends *e)
{
	if (!e->v6)
		return tcp_mss_link(s, false);
	return (uint16_t)(fj_ipv6_path_mtu(s, &e->raddr6) - FJ_IPV6_HDR_LEN - FJ_TCP_HDR_LEN);
}

/* Whether the port cuts @f's large segments (TSO): over IPv6 only where
 * it cuts IPv6 too (tx_tso6). */
static inline bool
tcp_tso(const struct fj_tcp_flow *f)
{
	return f->s->tx_tso && (!f->v6 || f->s->tx_tso6);
}

/* The pseudo-header's sum without its length (fj_tcp_build_ph). */
static inline uint32_t
tcp_pseudo(const struct fj_tcp_ends *e)
{
	return e->v6 ? fj_csum_pseudo6(&e->laddr6, &e->raddr6, 0, FJ_IP_PROTO_TCP)
		     : fj_csum_pseudo(e->laddr, e->raddr, FJ_IP_PROTO_TCP, 0);
}

static inline struct fj_tcp_ends
tcp_flow_ends(const struct fj_tcp_flow *f)
{
	struct fj_tcp_ends e = { .v6 = f->v6, .raddr = f->key.raddr, .laddr = f->key.laddr };

	if (f->v6) {
		e.raddr6 = f->key6.raddr;
		e.laddr6 = f->key6.laddr;
	}
	return e;
}

/* Give @f the ends @e and the ports: its keys. */
static inline void
tcp_set_key(struct fj_tcp_flow *f, const struct fj_tcp_ends *e, uint16_t rport, uint16_t lport)
{
	f->v6 = e->v6;
	f->key = (struct fj_tcp_key){ e->v6 ? 0 : e->raddr, e->v6 ? 0 : e->laddr, rport, lport };
	if (e->v6)
		f->key6 = (struct fj_tcp_key6){ e->raddr6, e->laddr6, rport, lport };
}

/* The table @f is (or goes) in, and its key there. */
static inline struct rte_hash *
tcp_table(struct fj_stack *s, bool v6)
{
	return v6 ? s->tcp.flows6 : s->tcp.flows;
}

static inline const void *
tcp_key_of(const struct fj_tcp_flow *f)
{
	return f->v6 ? (const void *)&f->key6 : (const void *)&f->key;
}

/* The flow of ends @e and these ports, or NULL. */
static inline struct fj_tcp_flow *
tcp_lookup(struct fj_stack *s, const struct fj_tcp_ends *e, uint16_t rport, uint16_t lport)
{
	void *data;
	int rc;

	if (e->v6) {
		struct fj_tcp_key6 k = { e->raddr6, e->laddr6, rport, lport };
		rc = rte_hash_lookup_data(s->tcp.flows6, &k, &data);
	} else {
		struct fj_tcp_key k = { e->raddr, e->laddr, rport, lport };
		rc = rte_hash_lookup_data(s->tcp.flows, &k, &data);
	}
	return rc < 0 ? NULL : data;
}

/* RFC 6528's ISN for ends @e (either family). */
static inline uint32_t
tcp_isn(struct fj_stack *s, const struct fj_tcp_ends *e, uint16_t lport, uint16_t rport,
	uint64_t now_us)
{
	if (e->v6)
		return fj_tcp_isn6(s->tcp.isn_key, e->laddr6.b, lport, e->raddr6.b, rport, now_us);
	return fj_tcp_isn(s->tcp.isn_key, e->laddr, lport, e->raddr, rport, now_us);
}

/* Send @m (a TCP segment) from @e's local end to its remote end. */
static inline int
tcp_ip_output(struct fj_stack *s, struct rte_mbuf *m, const struct fj_tcp_ends *e)
{
	if (e->v6)
		return fj_ipv6_output(s, m, &e->laddr6, &e->raddr6, FJ_IP_PROTO_TCP, 0);
	return fj_ipv4_output(s, m, e->raddr, FJ_IP_PROTO_TCP);
}

#define FLOW_OF(node, field) \
	((struct fj_tcp_flow *)((char *)(node) - offsetof(struct fj_tcp_flow, field)))

/* RFC 7323 §5.4: a millisecond clock, offset per flow. */
static inline uint32_t
tcp_ts_now(const struct fj_tcp_flow *f)
{
	return (uint32_t)(to_us(f->s, fj_now(f->s)) / 1000u) + f->ts_off;
}

/* RFC 6298 §2 permits timing the SYN exchange: our SYN or SYN-ACK is
 * timed from when it first goes; a retransmitted one gives no sample
 * (Karn, §3). Without it the first RTO after the handshake is 1 s. */
static inline void
tcp_time_syn(struct fj_tcp_flow *f)
{
	f->timing = true;
	f->rtt_seq = f->iss;
	f->rtt_t0 = fj_now(f->s);
}

/* Our SYN acknowledged: the sample, if it was still timed; after a
 * retransmitted SYN, an RTO of at least 3 s (RFC 6298 §5.7). */
static inline void
tcp_syn_acked(struct fj_tcp_flow *f)
{
	if (f->timing)
		fj_rtt_sample(&f->rtt, to_us(f->s, fj_now(f->s) - f->rtt_t0));
	else if (f->syn_tries > 0 && f->rtt.rto < 3000000u)
		f->rtt.rto = 3000000u;
	f->timing = false;
}

/* What is left of the window the peer was told (0 if it is used up). */
static inline uint32_t
tcp_rcv_wnd(const struct fj_tcp_flow *f)
{
	return fj_seq_gt(f->rcv_adv, f->rcv_nxt) ? f->rcv_adv - f->rcv_nxt : 0;
}

/* The timestamp option takes 12 bytes of every segment: less payload. */
static inline void
tcp_ts_negotiated(struct fj_tcp_flow *f, const struct fj_tcp_hdr *th)
{
	f->ts_ok = th->o.has_ts;
	if (f->ts_ok) {
		f->ts_recent = th->o.tsval;
		f->mss = (uint16_t)(f->mss - 12);
	}
}

/* SEG.LEN (RFC 9293 §3.4): the payload, and SYN and FIN count one each. */
static inline uint32_t
tcp_seg_len(const struct fj_tcp_hdr *th, uint32_t len)
{
	return len + !!(th->flags & FJ_TCP_SYN) + !!(th->flags & FJ_TCP_FIN);
}

/* Leave in @m only the @len payload bytes that start @hdr_end bytes in:
 * the data as the application will see it (a chain's head may change). */
static inline struct rte_mbuf *
tcp_payload_only(struct rte_mbuf *m, uint16_t hdr_end, uint32_t len)
{
	m = fj_mbuf_cut_front(m, hdr_end);
	fj_mbuf_cut_back(m, len);
	return m;
}

/* tcp_state.c: every change of state */
void tcp_set_state(struct fj_tcp_flow *f, enum fj_tcp_state to);
const char *tcp_state_name(enum fj_tcp_state st);

/* tcp_input.c: RFC 9293 §3.10.7.4, for a flow past SYN-SENT */
void tcp_input_other_states(struct fj_tcp_flow *f, struct rte_mbuf *m, const struct fj_tcp_hdr *th,
			    uint32_t len);

/* tcp_open.c: the opening states */
void tcp_listen_input(struct fj_stack *s, struct fj_tcp_listener *l, struct rte_mbuf *m,
		      const struct fj_tcp_ends *e, const struct fj_tcp_hdr *th, uint16_t hdr_end,
		      uint32_t len);
void tcp_syn_sent_input(struct fj_tcp_flow *f, const struct fj_tcp_hdr *th);

/* tcp_ack.c: the ACK field of a segment past SYN-RECEIVED */
bool tcp_ack_input(struct fj_tcp_flow *f, const struct fj_tcp_hdr *th, uint32_t len);

/* tcp_output.c: queues, windows, segments, SACK recovery's sending */
void tcp_mq_push(struct fj_mq *q, struct rte_mbuf *m);
void tcp_mq_free(struct fj_mq *q);
void tcp_mq_consume(struct fj_mq *q, uint32_t n);
void tcp_mq_copy(const struct fj_mq *q, uint32_t off, uint32_t len, uint8_t *dst);
uint32_t tcp_rcv_space(const struct fj_tcp_flow *f);
/* A segment of @len payload bytes at @seq (fewer when the port's piece
 * limit cuts it): the bytes sent, or a negative errno. */
int32_t tcp_send_segment(struct fj_tcp_flow *f, uint32_t seq, uint8_t flags, uint32_t len);
void tcp_send_ack(struct fj_tcp_flow *f);
void tcp_output(struct fj_tcp_flow *f);
bool tcp_is_lost(const struct fj_tcp_flow *f, uint32_t seq);
uint32_t tcp_pipe(const struct fj_tcp_flow *f);
void tcp_retransmit_first(struct fj_tcp_flow *f);
void tcp_send_rst(struct fj_stack *s, const struct fj_tcp_ends *e, const struct fj_tcp_hdr *th,
		  uint32_t seglen);
void tcp_send_rst_flow(struct fj_tcp_flow *f);
int tcp_send_stateless(struct fj_stack *s, const struct fj_tcp_ends *e, const struct fj_tcp_hdr *h);

/* tcp_timer.c: retransmission, delayed ACK, TIME-WAIT, keepalive */
void tcp_arm_rtx(struct fj_tcp_flow *f);
void tcp_delack_fire(struct fj_wheel *w, struct fj_timer_node *t, void *ctx);
void tcp_enter_time_wait(struct fj_tcp_flow *f);
void tcp_arm_keepalive(struct fj_tcp_flow *f);

/* tcp_flow.c: the life of a flow */
void tcp_notify(struct fj_tcp_flow *f);
void tcp_flow_release(struct fj_tcp_flow *f);
void tcp_update_due(struct fj_tcp_flow *f, bool due);
void tcp_queue_wait(struct fj_tcp_flow *f, bool wait);
int tcp_flow_link(struct fj_tcp_flow *f);
void tcp_flow_free(struct fj_tcp_flow *f);
void tcp_flow_closed(struct fj_tcp_flow *f, int err);

#endif
