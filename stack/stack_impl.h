/* SPDX-License-Identifier: BSD-3-Clause */
/* The stack's inside: shared by its modules, never by applications. */
#ifndef FJ_STACK_IMPL_H
#define FJ_STACK_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include "fjord.h"
#include "neigh.h"
#include "tcp/tcp.h"
#include "wire/wire.h"

extern int fj_stack_logtype;
#define FJS_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, fj_stack_logtype, "fjord-stack: " fmt "\n", ##__VA_ARGS__)

#define FJ_BURST 32
#define FJ_TX_BATCH 64
#define FJ_MAX_TIMERS 8
#define FJ_HEADROOM_NEEDED (FJ_ETH_HDR_LEN + 60 + 60) /* Ethernet, IPv4, TCP with options */

enum fj_backend { FJ_NET_DIRECT, FJ_NET_SOCKET };

/* Per-layer counters; every drop reason has its own (enum fj_drop). */
struct fj_counters {
	uint64_t rx_frames, tx_frames;
	uint64_t arp_rx, arp_tx, arp_requests_tx, arp_replies_tx;
	uint64_t ip_rx, ip_tx;
	uint64_t icmp_rx, icmp_tx, icmp_echo_replies, icmp_unreach_tx;
	uint64_t udp_rx, udp_tx, udp_rx_bytes, udp_tx_bytes;
	uint64_t tcp_rx, tcp_tx, tcp_rx_bytes, tcp_tx_bytes;
	uint64_t tcp_passive_opens, tcp_active_opens, tcp_established, tcp_flows_closed;
	uint64_t tcp_rst_rx, tcp_rst_tx, tcp_retransmits, tcp_fast_retransmits;
	uint64_t tcp_window_probes, tcp_challenge_acks, tcp_out_of_window;
	uint64_t tcp_ooo_dropped, tcp_syn_dropped, tcp_paws_rejected;
	uint64_t tcp_syncookies_sent, tcp_syncookies_ok, tcp_syncookies_failed;
	uint64_t tcp_keepalive_probes, tcp_keepalive_timeouts, tcp_sack_recoveries;
	uint64_t tcp_time_wait_reused;
	uint64_t tcp_state_changes;
	/* The run loop's time (clock units, TSC cycles) and the part of it
	 * spent on work: turns that received something (direct), time out of
	 * epoll_wait (socket). */
	uint64_t loop_cycles, loop_busy_cycles;
	uint64_t drops[FJ_DROP__COUNT];
};

struct fj_udp {
	struct fj_stack *s;
	uint16_t port;
	fj_udp_recv_fn recv;
	void *arg;
	int fd; /* socket backend */
};

struct fj_timer {
	uint64_t period; /* TSC cycles */
	uint64_t next;
	void (*fn)(struct fj_stack *, void *);
	void *arg;
};

struct fj_stack {
	enum fj_backend backend;
	volatile bool stop;
	uint64_t hz;
	/* The clock: the TSC, unless a test port injects its own. */
	uint64_t (*clock)(void *ctx);
	void *clock_ctx;
	struct fj_counters c;
	struct fj_timer timers[FJ_MAX_TIMERS];
	unsigned ntimers;
	struct rte_mempool *mp;

	/* addressing */
	uint32_t ip, mask, gw; /* host order; gw 0: none */
	uint16_t mtu;
	uint16_t ip_id;
	uint32_t msl_s; /* TCP maximum segment lifetime, seconds */

	/* direct backend: one port, queue 0 */
	uint16_t port;
	struct fj_mac mac;
	bool promisc;
	bool no_csum_offload;         /* --no-csum-offload */
	bool busy_poll;               /* --busy-poll (socket backend) */
	bool tx_ip_csum, tx_udp_csum, tx_tcp_csum; /* the port fills these checksums */
	bool rx_ip_csum, rx_l4_csum;  /* the port flags checked checksums */
	struct rte_mbuf *tx[FJ_TX_BATCH];
	uint16_t ntx;
	/* Where frames go out; rte_eth_tx_burst on the port unless a test or
	 * fuzzer replaces it. */
	uint16_t (*tx_fn)(struct fj_stack *s, struct rte_mbuf **pkts, uint16_t n);
	struct fj_neigh neigh;
	uint64_t next_neigh_tick;
	/* ICMP error rate limit: a token bucket (RFC 1812 §4.3.2.8). */
	double icmp_tokens;
	uint64_t icmp_last;

	struct fj_udp **udp_ports; /* 65536 entries */
	struct fj_tcp tcp;

	/* socket backend */
	int epfd;

	/* test port: frames out through a callback, no DPDK port */
	void (*test_tx)(void *ctx, const uint8_t *frame, uint32_t len);
	void *test_ctx;
};

static inline uint64_t
fj_now(const struct fj_stack *s)
{
	return s->clock ? s->clock(s->clock_ctx) : rte_rdtsc();
}

/* netif.c */
int fj_netif_open(struct fj_stack *s);
void fj_netif_close(struct fj_stack *s);
void fj_netif_send(struct fj_stack *s, struct rte_mbuf *m);
void fj_netif_flush(struct fj_stack *s);
/* One frame up the layers (Ethernet dispatch); takes @m. */
void fj_eth_input(struct fj_stack *s, struct rte_mbuf *m);
void fj_drop(struct fj_stack *s, struct rte_mbuf *m, enum fj_drop why);

/* arp.c */
void fj_arp_input(struct fj_stack *s, struct rte_mbuf *m, const struct fj_eth *eth);
/* Send @m (an IPv4 datagram behind room for Ethernet) towards @next_hop. */
void fj_arp_output(struct fj_stack *s, struct rte_mbuf *m, uint32_t next_hop);
void fj_arp_announce(struct fj_stack *s);
void fj_arp_tick(struct fj_stack *s, uint64_t now);

/* ipv4.c */
void fj_ipv4_input(struct fj_stack *s, struct rte_mbuf *m);
/*
 * Prepend an IPv4 header to @m (whose data is the transport segment) and
 * send it to @dst. Takes @m.
 */
int fj_ipv4_output(struct fj_stack *s, struct rte_mbuf *m, uint32_t dst, uint8_t proto);
/* ICMP destination unreachable for the datagram in @m (at its IP header). */
void fj_icmp_unreachable(struct fj_stack *s, struct rte_mbuf *m, uint8_t code);

/* udp.c */
void fj_udp_input(struct fj_stack *s, struct rte_mbuf *m, const struct fj_ipv4 *ip);

/* socket.c */
int fj_socket_open(struct fj_stack *s);
int fj_socket_run(struct fj_stack *s);
void fj_socket_close(struct fj_stack *s);
void fj_socket_close_fd(struct fj_stack *s, int fd);
int fj_socket_udp_bind(struct fj_udp *u);
int fj_socket_udp_send(struct fj_udp *u, struct rte_mbuf *m, const struct fj_addr *to);
struct fj_listener *fj_socket_listen(struct fj_stack *s, uint16_t port, fj_flow_fn fn, void *arg);
struct fj_flow *fj_socket_connect(struct fj_stack *s, const struct fj_addr *to, fj_flow_fn fn,
				  void *arg);
enum fj_read fj_socket_flow_read(struct fj_flow *f, struct fj_buf **buf);
int fj_socket_flow_write(struct fj_flow *f, struct fj_buf *buf);
void fj_socket_flow_close(struct fj_flow *f);
void fj_socket_flow_abort(struct fj_flow *f);
int fj_socket_flow_keepalive(struct fj_flow *f, unsigned idle_s, unsigned interval_s,
			     unsigned probes);

/* stack.c */
int fj_stack_setup(struct fj_stack *s);
int fj_stack_parse_addr(struct fj_stack *s, const char *ip, const char *gw);
void fj_stack_timers(struct fj_stack *s, uint64_t now);
uint64_t fj_stack_next_timer(struct fj_stack *s);

/* The port finishes this TCP or UDP checksum (@flag), the L4 header being
 * @l4_len bytes; the field holds the pseudo-header sum. fj_ipv4_output
 * adds RTE_MBUF_F_TX_IPV4 and the L2/L3 lengths. */
static inline void
fj_tx_l4_csum(struct rte_mbuf *m, uint64_t flag, uint16_t l4_len)
{
	m->ol_flags = (m->ol_flags & ~RTE_MBUF_F_TX_L4_MASK) | flag;
	m->l4_len = l4_len;
}

/*
 * The port vouches for a received TCP or UDP checksum: it checked it, or
 * the packet carries a sender's partial sum over data that never left the
 * host (RTE_MBUF_F_RX_L4_CKSUM_NONE, a virtio NEEDS_CSUM packet).
 */
static inline bool
fj_rx_l4_vouched(const struct fj_stack *s, const struct rte_mbuf *m)
{
	uint64_t l4 = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;

	return s->rx_l4_csum && (l4 == RTE_MBUF_F_RX_L4_CKSUM_GOOD || l4 == RTE_MBUF_F_RX_L4_CKSUM_NONE);
}

#endif
