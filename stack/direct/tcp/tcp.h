/* SPDX-License-Identifier: BSD-3-Clause */
/* TCP inside the stack (direct backend). */
#ifndef FJ_TCP_H
#define FJ_TCP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_hash.h>
#include <rte_mbuf.h>

#include "fjord.h"
#include "backend.h"
#include "wheel.h"
#include "rtt.h"
#include "wire/ipv6.h"

struct fj_stack;
struct fj_ipv4;
struct fj_ipv6;
struct fj_cc_ops;

#define FJ_TCP_QUEUE 512          /* mbufs per direction and flow */
#define FJ_TCP_OOO 64             /* out-of-order segments kept */

/* RFC 9293 §3.3.2. A flow changes state only through tcp_set_state()
 * (tcp_state.c), which counts and traces it; a listener is LISTEN. */
enum fj_tcp_state {
	FJ_TCP_CLOSED,
	FJ_TCP_SYN_SENT,
	FJ_TCP_SYN_RCVD,
	FJ_TCP_ESTABLISHED,
	FJ_TCP_FIN_WAIT_1,
	FJ_TCP_FIN_WAIT_2,
	FJ_TCP_CLOSE_WAIT,
	FJ_TCP_CLOSING,
	FJ_TCP_LAST_ACK,
	FJ_TCP_TIME_WAIT,
	FJ_TCP__NSTATES
};

struct fj_tcp_key {
	uint32_t raddr, laddr;
	uint16_t rport, lport;
};

/* An IPv6 flow's key (36 bytes, in its own table: IPv4 lookups keep
 * their 12-byte key). */
struct fj_tcp_key6 {
	_Alignas(4) struct fj_ip6 raddr; /* rte_jhash reads keys by the word */
	struct fj_ip6 laddr;
	uint16_t rport, lport;
};

/* A segment's or a flow's two addresses, of either family. */
struct fj_tcp_ends {
	bool v6;
	uint32_t raddr, laddr;        /* IPv4 */
	struct fj_ip6 raddr6, laddr6; /* IPv6 */
};

/* A ring of mbufs: a stream's bytes in order. */
struct fj_mq {
	struct rte_mbuf *m[FJ_TCP_QUEUE];
	uint16_t head, n;
	uint32_t bytes;
	uint32_t off; /* bytes of the head mbuf already consumed */
};

/* A listener (RFC 9293 §3.10.7.2): the public one, then TCP's own. */
struct fj_tcp_listener {
	union {
		struct fj_listener base;
		struct {
			FJ_LISTENER_FIELDS;
		};
	};
	uint32_t half_open;
	uint32_t backlog; /* most half-open connections at once */
	uint64_t cookies_until; /* SYN cookies were sent: ACKs may carry one */
};

/* A connection's TCB (RFC 9293 §3.3.1): the public flow, then TCP's own. */
struct fj_tcp_flow {
	union {
		struct fj_flow base;
		struct {
			FJ_FLOW_FIELDS;
		};
	};
	struct fj_tcp_listener *l; /* NULL for a connection we opened */
	/* The ports (and IPv4's addresses); over IPv6 the key is key6. */
	struct fj_tcp_key key;
	bool v6;
	struct fj_tcp_key6 key6;
	enum fj_tcp_state state; /* set by tcp_set_state() only */
	bool app_closed;   /* fj_flow_close/abort called: nobody to tell */
	bool eof_told;
	bool want_write;   /* a write met a full buffer */
	bool nagle;
	bool writable;     /* ...and there is room again */

	/* send side (RFC 9293 §3.3.1) */
	uint32_t iss, snd_una, snd_nxt, snd_max, snd_wnd, snd_wl1, snd_wl2;
	uint32_t max_wnd;  /* the largest window the peer offered */
	uint8_t snd_ws;    /* the peer's window shift */
	uint16_t mss;      /* what we put in a segment */
	bool fin_queued, fin_sent;
	struct fj_mq sndq; /* from snd_una on */
	/* Congestion control (cc.c): the algorithm and what it keeps. */
	const struct fj_cc_ops *cc;
	uint32_t cwnd, ssthresh;
	/* Loss recovery (RFC 6582 §3.2, RFC 6675 §5): the highest sequence
	 * sent when it began. */
	uint32_t recover;
	uint8_t dupacks;
	bool in_recovery;
	struct fj_rtt rtt;
	bool timing;       /* an RTT measurement is running */
	uint32_t rtt_seq;
	uint64_t rtt_t0;
	uint8_t syn_tries;
	/* The last soft ICMP error (tcp_icmp.c), a negative errno: what a
	 * timeout reports instead of -ETIMEDOUT; cleared by progress. */
	int soft_err;

	/* receive side */
	uint32_t irs, rcv_nxt, rcv_adv; /* rcv_adv: right edge we advertised */
	uint8_t rcv_ws;
	struct fj_mq rcvq;
	struct {
		uint32_t seq;
		uint32_t when; /* arrival order, for the SACK blocks' order */
		struct rte_mbuf *m;
	} ooo[FJ_TCP_OOO];
	uint32_t ooo_clock;
	uint8_t nooo;
	uint32_t ooo_bytes;
	bool sack_ok;       /* both SYNs carried SACK-permitted (RFC 2018 §2) */
	bool ts_ok;         /* both SYNs carried timestamps (RFC 7323 §3.2) */
	uint32_t ts_recent, last_ack_sent, ts_off;
	/* The SACK scoreboard (RFC 6675 §3): what the peer holds above
	 * SND.UNA, sorted, and where hole retransmissions have got to. */
	struct fj_sack_block sb[8];
	uint8_t nsb;
	uint32_t rexmit_nxt;
	bool fin_rcvd;
	uint8_t unacked; /* full segments received since our last ACK */

	/* keepalive (RFC 9293 §3.8.4, RFC 1122 §4.2.3.6), clock units */
	uint64_t ka_idle, ka_intvl, last_rx;
	uint8_t ka_probes, ka_sent;

	uint64_t tw_since; /* when TIME_WAIT began */

	struct fj_timer_node rtx, delack, tw, ka;

	struct fj_tcp_flow *lnext, *lprev; /* every flow of the stack */
	/* On the list of flows with work for the end of the input or turn
	 * (fj_tcp_flush): a window update (ack_due), new data to send
	 * (output_due). */
	struct fj_tcp_flow *unext, *uprev;
	bool update_due, ack_due, output_due;
	/* On the list of flows waiting for the port to send what they gave
	 * it (--flow-queue-bytes), each loop turn looked at again. */
	struct fj_tcp_flow *qnext, *qprev;
	bool queue_wait;
};

/* Stack-wide TCP state. */
struct fj_tcp {
	struct rte_hash *flows;  /* IPv4 flows by fj_tcp_key */
	struct rte_hash *flows6; /* IPv6 flows by fj_tcp_key6 */
	struct fj_tcp_listener **listeners; /* 65536 */
	struct fj_wheel wheel;
	uint8_t isn_key[16];
	uint64_t msl;          /* clock units */
	uint32_t nflows;
	struct fj_tcp_flow *all; /* list of every flow */
	struct fj_tcp_flow *updates; /* flows whose reads opened the window */
	struct fj_tcp_flow *qwait, *qwait_tail; /* flows held by the port's queue */
	uint32_t nqwait;
	uint16_t next_port;  /* ephemeral ports for connect */
	uint64_t hz;
};

int fj_tcp_init(struct fj_stack *s);
void fj_tcp_fini(struct fj_stack *s);
void fj_tcp_input(struct fj_stack *s, struct rte_mbuf *m, const struct fj_ipv4 *ip);
/* A TCP segment over IPv6 (the upper layer @ip->l4_off bytes into the
 * IPv6 header); takes @m. */
void fj_tcp6_input(struct fj_stack *s, struct rte_mbuf *m, const struct fj_ipv6 *ip);
void fj_tcp_timers(struct fj_stack *s, uint64_t now);
/* Send the window updates the application's reads made due. */
void fj_tcp_flush(struct fj_stack *s);
/* Once a loop turn: the flows waiting for the port's queue send again
 * where it has taken what they gave it. */
void fj_tcp_queue_poll(struct fj_stack *s);
/* An ICMP error quoting a segment of ours (tcp_icmp.c); false if it is
 * for no flow or no segment in flight. */
struct fj_icmp_error;
bool fj_tcp_icmp_error(struct fj_stack *s, const struct fj_icmp_error *e);
/* The same for an ICMPv6 error (RFC 4443 §3; packet too big: RFC 8201). */
struct fj_icmp6_error;
bool fj_tcp_icmp6_error(struct fj_stack *s, const struct fj_icmp6_error *e);
/* Packet buffers (segments) the flows hold in their queues, for leak
 * checks. */
unsigned fj_tcp_mbufs_held(struct fj_stack *s);

/* The flow API's calls on the direct backend (backend.h). */
struct fj_listener *fj_tcp_listen(struct fj_stack *s, uint16_t port, fj_flow_fn fn, void *arg);
struct fj_flow *fj_tcp_connect(struct fj_stack *s, const struct fj_addr *to, fj_flow_fn fn,
			       void *arg);
enum fj_read fj_tcp_read(struct fj_flow *f, struct fj_buf **buf);
int fj_tcp_write(struct fj_flow *f, struct fj_buf *buf);
void fj_tcp_close(struct fj_flow *f);
int fj_tcp_shutdown(struct fj_flow *f);
void fj_tcp_abort(struct fj_flow *f);
void fj_tcp_set_nagle(struct fj_flow *f, bool on);
int fj_tcp_set_keepalive(struct fj_flow *f, unsigned idle_s, unsigned interval_s,
			 unsigned probes);
struct fj_addr fj_tcp_peer(const struct fj_flow *f);

#endif
