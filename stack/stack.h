/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The stack object, shared by the stack's modules and never seen by
 * applications: configuration, counters, clock and periodic timers, the
 * packet-buffer pool, and each backend's state. Every piece of per-stack
 * state hangs off struct fj_stack.
 */
#ifndef FJ_STACK_H
#define FJ_STACK_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_cycles.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include "fjord.h"
#include "counters.h"
#include "backend.h"
#include "shard.h"
#include "neigh.h"
#include "nd.h"
#include "tcp/tcp.h"
#include "wire/ethernet.h"

extern int fj_stack_logtype;
#define FJ_STACK_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, fj_stack_logtype, "fjord-stack: " fmt "\n", ##__VA_ARGS__)

#define FJ_BURST 32
#define FJ_TX_BATCH 64
/* Places in the batch that a flow's data leaves for what cannot wait in a
 * send queue (ACKs, ARP, ICMP, UDP) while the port's ring refuses. */
#define FJ_TX_RESERVE 16
#define FJ_TX_SEGS_MAX 64     /* pieces of one TCP segment, header included */
#define FJ_TX_SEGS_DEFAULT 32 /* ...on a port that gives no limit */
#define FJ_MAX_TIMERS 8 /* the application's (fj_stack_every) */
#define FJ_HEADROOM_NEEDED (FJ_ETH_HDR_LEN + 60 + 60) /* Ethernet, IPv4, TCP with options */

/* A periodic callback on the stack's loop (fj_stack_every), not to be
 * confused with the flows' one-shot timers on TCP's wheel (wheel.h). */
struct fj_reasm;
struct fj_capture;

#define FJ_IP6_MAX 8      /* addresses: the link-local, --ip6's, advertised */
#define FJ_IP6_PREFIXES 4 /* on-link prefixes from router advertisements */
#define FJ_PMTU6_MAX 16   /* destinations with a smaller path MTU kept */
#define FJ_DAD_HELD 16    /* datagrams waiting for their source's DAD, per shard */
/* An address of ours and its duplicate address detection (RFC 4862
 * §5.4): tentative until its probes went unanswered, then preferred (the
 * only state that receives and sends); duplicate if another node has it. */
enum fj_ip6_state { FJ_IP6_PREFERRED = 0, FJ_IP6_TENTATIVE, FJ_IP6_DUPLICATE };
struct fj_ip6_pfx {
	struct fj_ip6 a;
	uint8_t plen;
	uint8_t state;    /* enum fj_ip6_state */
	uint8_t dad_left; /* probes still to send */
	uint64_t dad_next;
};

struct fj_periodic {
	uint64_t period; /* clock units */
	uint64_t next;
	void (*fn)(struct fj_stack *, void *);
	void *arg;
};

struct fj_udp {
	struct fj_stack *s;
	uint16_t port;
	fj_udp_recv_fn recv;
	void *arg;
	/* The last ICMP error about a datagram it sent, and to whom
	 * (fj_udp_error); 0 for none. */
	int err;
	struct fj_addr err_to;
};

struct fj_stack {
	const struct fj_backend_ops *ops;
	volatile bool stop;
	/* This shard among the others (shard.h): index, queue pair, and the
	 * rings other shards reach it by. */
	struct fj_shards *g;
	unsigned id;
	struct rte_ring *msg_ring;   /* struct fj_msg *, many producers */
	struct rte_ring *steer_ring; /* struct rte_mbuf *, many producers (direct) */
	uint64_t hz;
	/* The clock: the TSC, unless a test port injects its own. */
	uint64_t (*clock)(void *ctx);
	void *clock_ctx;
	struct fj_counters c;
	/* The application's periodic timers, then the backend's own. */
	struct fj_periodic timers[FJ_MAX_TIMERS + 2];
	unsigned ntimers, napp_timers;
	struct rte_mempool *mp;

	/* addressing and configuration */
	uint32_t ip, mask, gw; /* host order; gw 0: none */
	uint16_t mtu;
	uint32_t msl_s;        /* TCP maximum segment lifetime, seconds */
	uint16_t port;         /* the DPDK port (direct); this shard has queue pair id */
	enum fj_steer steer_want; /* --steer: FJ_STEER_NONE for auto */
	bool promisc;
	bool no_csum_offload;  /* --no-csum-offload */
	bool no_tso;           /* --no-tso: payload copied, no TSO even where the port has it */
	bool no_lro;           /* --no-lro */
	bool no_gro;           /* --no-gro */
	uint32_t turn_bytes;   /* --turn-bytes: one flow's sending per loop turn */
	uint32_t flow_queue_bytes; /* --flow-queue-bytes: one flow's data in the port, 0: any */
	bool busy_poll;        /* --busy-poll (socket backend) */
	bool idle_yield;       /* --idle-yield (direct backend) */
	char pcap_path[256];   /* --pcap: "" for none */
	char exc_ifname[16];   /* --kernel-exception: "" for none */
	uint32_t pcap_snaplen; /* --pcap-snaplen */
	struct fj_capture *capture; /* the --pcap file's writer (capture.c), on shard 0 */
	/* The kernel exception path (exception.c): its tap port, this
	 * shard's frames for it, shard 0's next read of it. */
	bool link_up;          /* the port's link as last seen (link_watch, shard 0) */
	bool has_exc;
	uint16_t exc_port;
	uint16_t nexc;
	struct rte_mbuf *exc_tx[FJ_BURST * 2];
	uint64_t exc_next;

	struct fj_udp **udp_ports; /* 65536 entries: who is bound where */

	/* direct backend: the port's queue pair `id` */
	struct fj_mac mac;
	uint16_t ip_id;
	bool tx_ip_csum, tx_udp_csum, tx_tcp_csum; /* the port fills these checksums */
	bool rx_ip_csum, rx_l4_csum;  /* the port flags checked checksums */
	/* TCP's transmit: segments up to tso_max payload bytes that the port
	 * cuts (TSO), payload referenced from the send queues through
	 * segments of ref_mp (the port takes chains of up to tx_max_segs),
	 * large received segments (LRO). */
	bool tx_tso, tx_refs, rx_lro;
	bool tx_tso6;         /* ...and TSO for TCP over IPv6 too */
	bool rx_gro;          /* no LRO: rte_gro merges the bursts' TCP segments (gro.c) */
	uint16_t tx_max_segs;
	uint32_t tso_max;
	uint16_t tso_short;   /* taken off the MSS in tso_segsz (a port quirk) */
	uint16_t tso_pieces;  /* most pieces a TSO segment may be cut into; 0: no limit */
	struct rte_mempool *ref_mp;
	struct rte_mbuf *tx[FJ_TX_BATCH];
	uint16_t ntx;
	/* Where frames go out; rte_eth_tx_burst on the port unless a test or
	 * fuzzer replaces it. */
	uint16_t (*tx_fn)(struct fj_stack *s, struct rte_mbuf **pkts, uint16_t n);
	/* Have the port give back the buffers of what it has sent
	 * (rte_eth_tx_done_cleanup), or NULL where it cannot: TCP's per-flow
	 * queue limit works only with it. */
	void (*tx_clean_fn)(struct fj_stack *s);
	struct fj_neigh neigh;
	struct fj_reasm *reasm; /* IPv4 datagrams being reassembled (reasm.c) */
	/* IPv6 (ipv6.c): ip6[0] the link-local address from the MAC, then
	 * --ip6's and those made from advertised prefixes; prefixes on the
	 * link from advertisements; the default router (--gw6, or the last
	 * advertising one); the neighbour cache. */
	struct fj_ip6_pfx ip6[FJ_IP6_MAX];
	unsigned nip6;
	struct fj_ip6_pfx prefix6[FJ_IP6_PREFIXES];
	unsigned nprefix6;
	struct fj_ip6 gw6;
	bool has_gw6, gw6_configured;
	uint8_t dad_transmits; /* --dad-transmits: DAD probes per address (0: none) */
	bool rs_after_dad;     /* the router solicitation waits for the link-local */
	/* Datagrams from a tentative address of ours, held until its DAD ends. */
	struct {
		struct rte_mbuf *m;
		struct fj_ip6 next; /* the next hop */
		uint16_t mtu;       /* fragments of at most this, or 0: whole */
	} dad_held[FJ_DAD_HELD];
	unsigned ndad_held;
	uint32_t frag6_id; /* the next fragmented datagram's identification */
	/* Path MTUs below the link's, from packet too big (RFC 8201). */
	struct {
		struct fj_ip6 dst;
		uint16_t mtu;
		uint64_t expires;
	} pmtu6[FJ_PMTU6_MAX];
	struct fj_nd_cache nd;
	/* ICMP error rate limit: a token bucket (RFC 1812 §4.3.2.8). */
	double icmp_tokens;
	uint64_t icmp_last;
	struct fj_tcp tcp;

	/* socket backend (socket/socket.h) */
	struct fj_sock *sock;

	/* test port: frames out through a callback, no DPDK port */
	void (*test_tx)(void *ctx, const uint8_t *frame, uint32_t len);
	void (*test_exc)(void *ctx, const uint8_t *frame, uint32_t len);
	void *test_ctx;
	uint8_t *test_frame; /* a frame's bytes on their way to test_tx */
	/* A holding test port (cfg.hold): test_q[0..test_ndone) were sent
	 * and wait to be freed, test_q[test_ndone..test_nq) wait to be sent. */
	struct rte_mbuf **test_q;
	uint32_t test_nq, test_ndone, test_qmax;
};

static inline uint64_t
fj_now(const struct fj_stack *s)
{
	return s->clock ? s->clock(s->clock_ctx) : rte_rdtsc();
}

/* Count @m as dropped for @why and free it. */
static inline void
fj_drop(struct fj_stack *s, struct rte_mbuf *m, enum fj_drop why)
{
	s->c.drops[why]++;
	rte_pktmbuf_free(m);
}

/* stack.c: the set-up both backends share (buffers, then the backend's
 * open), the test port's way in. */
int fj_stack_setup(struct fj_stack *s);
/* What a failed start or fj_stack_free releases after the backend: the
 * frames in the steering rings, every shard's buffers, the shards. */
void fj_stack_release(struct fj_stack *s0);

/* config.c */
int fj_stack_parse_addr(struct fj_stack *s, const char *ip, const char *gw, const char *ip6);

/* loop.c: periodic timers. A backend's own (first at @first) do not count
 * against the application's FJ_MAX_TIMERS. */
int fj_stack_timer_add(struct fj_stack *s, uint64_t period, uint64_t first,
		       void (*fn)(struct fj_stack *, void *), void *arg);
void fj_stack_timers(struct fj_stack *s, uint64_t now);
uint64_t fj_stack_next_timer(struct fj_stack *s);

/* counters.c */
void fj_stack_telemetry_register(struct fj_stack *s);
void fj_stack_telemetry_unregister(struct fj_stack *s);

#endif
