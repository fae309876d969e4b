/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer: arbitrary frames into the stack's receive path (Ethernet
 * dispatch, ARP, IPv4 and its reassembly, ICMP, UDP and TCP, echo
 * services on port 7; IPv6, ICMPv6 and Neighbor Discovery), on
 * two shards: each frame arrives at shard 0 and is steered to the shard
 * owning its flow (shard.h), which then takes it. The
 * first input byte picks extras (time passes and timers run, promiscuous
 * mode); the rest is the frame. State carries over between inputs, so
 * sequences of segments drive TCP connections; with flag 0x80 the harness
 * writes into a TCP segment the sequence and acknowledgement numbers the
 * stack last asked for (and fixes the checksum), so that the fuzzer gets
 * past the handshake and into every state, over IPv4 or IPv6; with flags
 * 0x60 both set the frame arrives as a chain of two segments (as a port's
 * LRO or GRO would hand it up), cut in its middle. Whatever the stack sends is
 * checked to be a well-formed frame, and after each input every mbuf is
 * back in the pool except those waiting on ARP resolution or held in TCP
 * queues: no crash, no leak.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>

#include "direct.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fj_stack S; /* shard 0; shard 1 is S.g->shard[1] */
/* From the last TCP segment the stack sent: the numbers a peer would use. */
static uint32_t peer_seq, peer_ack;
static uint64_t clock_now = 1000000;

static uint64_t
fake_clock(void *ctx)
{
	(void)ctx;
	return clock_now;
}

static void
echo_tcp(struct fj_flow *f, void *arg)
{
	struct fj_buf *b;

	(void)arg;
	for (;;) {
		switch (fj_flow_read(f, &b)) {
		case FJ_DATA:
			if (fj_flow_write(f, b) == -EAGAIN)
				fj_buf_free(b);
			break;
		case FJ_AGAIN:
			return;
		default:
			fj_flow_close(f);
			return;
		}
	}
}

/* The kernel exception path, on for inputs whose flags say 0x20 without
 * 0x40: what the stack gives the kernel is read whole. */
static void
exc_sink(void *ctx, const uint8_t *frame, uint32_t len)
{
	(void)ctx;
	volatile uint8_t x = 0;
	for (uint32_t i = 0; i < len; i++)
		x ^= frame[i];
	(void)x;
}

static uint16_t
sink(struct fj_stack *s, struct rte_mbuf **pkts, uint16_t n)
{
	(void)s;
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		static uint8_t flat[1514];
		struct fj_eth e;
		/* (a fragment is a header and a reference to its data) */
		const uint8_t *f = m->pkt_len <= sizeof(flat) ?
					   rte_pktmbuf_read(m, 0, m->pkt_len, flat) : NULL;
		if (f == NULL || fj_eth_parse(f, m->pkt_len, &e) != FJ_OK) {
			fprintf(stderr, "bad frame: %u segments, %u bytes\n", m->nb_segs, m->pkt_len);
			abort();
		}
		if (e.type == FJ_ETH_P_IPV6) {
			/* What we send over IPv6 parses, from one of ours. */
			struct fj_ipv6 ip6;
			if (fj_ipv6_parse(f + 14, m->pkt_len - 14, &ip6) != FJ_OK ||
			    !(fj_ip6_eq(&ip6.src, &S.ip6[0].a) || fj_ip6_eq(&ip6.src, &S.ip6[1].a))) {
				fprintf(stderr, "bad IPv6 sent\n");
				abort();
			}
			if (ip6.proto == FJ_IP_PROTO_TCP) {
				/* TCP over IPv6, never in fragments, valid. */
				struct fj_tcp_hdr th;
				uint32_t tl = (uint32_t)FJ_IPV6_HDR_LEN + ip6.payload_len - ip6.l4_off;
				uint32_t ph = fj_csum_pseudo6(&ip6.src, &ip6.dst, 0, FJ_IP_PROTO_TCP);
				if (ip6.frag ||
				    fj_tcp_parse_ph(f + 14 + ip6.l4_off, tl, ph, false, &th) != FJ_OK) {
					fprintf(stderr, "bad TCP over IPv6 sent: %u bytes\n", tl);
					abort();
				}
				peer_seq = th.ack;
				peer_ack = th.seq + (tl - th.hdr_len) + !!(th.flags & FJ_TCP_SYN) +
					   !!(th.flags & FJ_TCP_FIN);
			}
		}
		if (e.type == FJ_ETH_P_IPV4) {
			struct fj_ipv4 ip;
			const uint8_t *p = f + 14;
			/* What we send is valid IPv4, checksum included. */
			enum fj_wire_err r = fj_ipv4_parse(p, m->pkt_len - 14, false, &ip);
			if (r != FJ_OK || ip.src != S.ip) {
				fprintf(stderr, "bad IPv4 sent: %s, src %08x\n", fj_drop_name(fj_drop_of(r)), ip.src);
				abort();
			}
			if (ip.proto == FJ_IP_PROTO_TCP && fj_ipv4_is_fragment(&ip)) {
				fprintf(stderr, "TCP sent in fragments\n");
				abort();
			}
			if (ip.proto == FJ_IP_PROTO_TCP) {
				struct fj_tcp_hdr th;
				uint32_t tl = ip.total_len - ip.hdr_len;
				r = fj_tcp_parse(p + ip.hdr_len, tl, ip.src, ip.dst, false, &th);
				if (r != FJ_OK) {
					fprintf(stderr, "bad TCP sent: %s, %u bytes\n", fj_drop_name(fj_drop_of(r)), tl);
					abort(); /* and valid TCP */
				}
				peer_seq = th.ack;
				peer_ack = th.seq + (tl - th.hdr_len) + !!(th.flags & FJ_TCP_SYN) +
					   !!(th.flags & FJ_TCP_FIN);
			}
		}
		rte_pktmbuf_free(m);
	}
	return n;
}

static void
echo(struct fj_udp *u, struct fj_buf *b, const struct fj_addr *from, void *arg)
{
	(void)arg;
	fj_udp_send(u, b, from);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char prefix[64];

	(void)argc;
	(void)argv;
	snprintf(prefix, sizeof(prefix), "--file-prefix=fjfuzz%d", (int)getpid());
	char *eal[] = { "fuzz", "--no-huge", "-m", "128", "--no-pci", "--no-shconf",
			"--no-telemetry", "--log-level=*:crit", prefix, NULL };
	if (rte_eal_init(9, eal) < 0)
		abort();
	/* EAL's empty runtime directory goes now; nothing needs it. */
	rmdir(rte_eal_get_runtime_dir());
	S.ops = &fj_direct_ops;
	S.hz = 1000000; /* a microsecond clock of our own */
	S.clock = fake_clock;
	S.ip = 0x0a000002;
	S.mask = 0xffffff00;
	S.gw = 0x0a000001;
	S.mtu = 1500;
	S.mac = (struct fj_mac){ { 0x02, 0, 0, 0, 0, 0x02 } };
	S.tx_fn = sink;
	S.icmp_tokens = 50;
	if (fj_shards_create(&S, 2) < 0)
		abort();
	S.g->steer = FJ_STEER_SOFTWARE;
	for (unsigned i = 0; i < 2; i++) {
		struct fj_stack *s = S.g->shard[i];
		char name[32];
		snprintf(name, sizeof(name), "fuzz%u", i);
		s->mp = rte_pktmbuf_pool_create(name, 8191, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
						SOCKET_ID_ANY);
		s->udp_ports = calloc(65536, sizeof(*s->udp_ports));
		if (s->mp == NULL || s->udp_ports == NULL)
			abort();
		struct fj_neigh_params np = { .reachable = 1000, .refresh = 800, .retry = 10,
					      .max_tries = 2 };
		fj_neigh_init(&s->neigh, &np);
		if (fj_tcp_init(s) < 0 || fj_reasm_init(s) < 0)
			abort();
		s->test_exc = exc_sink;
		s->test_frame = malloc(65536 + 128);
		if (s->test_frame == NULL)
			abort();
		s->ip6[1].plen = 64; /* 2001:db8::2/64 beside the link-local */
		fj_ip6_parse_text("2001:db8::2", &s->ip6[1].a);
		s->nip6 = 2;
		fj_ipv6_init(s);
	}
	if (fj_udp_bind(&S, 7, echo, NULL) == NULL || fj_listen_tcp(&S, 7, echo_tcp, NULL) == NULL)
		abort();
	/* The peer is known, so replies leave at once. */
	for (unsigned i = 0; i < 2; i++)
		fj_neigh_learn(&S.g->shard[i]->neigh, 0x0a000001,
			       &(struct fj_mac){ { 2, 0, 0, 0, 0, 1 } }, clock_now, true);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 1 + 2048 - RTE_PKTMBUF_HEADROOM)
		return 0;
	uint8_t flags = data[0];
	struct rte_mbuf *m = rte_pktmbuf_alloc(S.mp);
	if (m == NULL)
		abort();
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(size - 1));
	if (p == NULL && size > 1)
		abort();
	if (size > 1)
		memcpy(p, data + 1, size - 1);
	if ((flags & 0x80) && size - 1 >= 14 + 20 + 20 && p[12] == 0x08 && p[13] == 0 &&
	    p[14 + 9] == FJ_IP_PROTO_TCP && (p[14] & 0xf) == 5) {
		/* Play along with the connection: in-window numbers. */
		uint8_t *t = p + 14 + 20;
		uint32_t tl = (uint32_t)(p[16] << 8 | p[17]);
		if (tl >= 40 && tl <= size - 1 - 14) {
			tl -= 20;
			uint32_t v[2] = { peer_seq, peer_ack };
			for (int k = 0; k < 2; k++)
				for (int b = 0; b < 4; b++)
					t[4 + 4 * k + b] = (uint8_t)(v[k] >> (24 - 8 * b));
			t[16] = t[17] = 0;
			uint32_t src = (uint32_t)p[26] << 24 | (uint32_t)p[27] << 16 |
				       (uint32_t)p[28] << 8 | p[29];
			uint32_t dst = (uint32_t)p[30] << 24 | (uint32_t)p[31] << 16 |
				       (uint32_t)p[32] << 8 | p[33];
			uint16_t c = fj_csum_fold(fj_csum_add(
				fj_csum_pseudo(src, dst, FJ_IP_PROTO_TCP, (uint16_t)tl), t, tl));
			t[16] = (uint8_t)(c >> 8);
			t[17] = (uint8_t)c;
		}
	}
	if ((flags & 0x80) && size - 1 >= 14 + 40 + 20 && p[12] == 0x86 && p[13] == 0xdd &&
	    p[14 + 6] == FJ_IP_PROTO_TCP) {
		/* The same over IPv6 (TCP right behind the fixed header). */
		uint8_t *t = p + 14 + 40;
		uint32_t tl = (uint32_t)(p[18] << 8 | p[19]);
		if (tl >= 20 && tl <= size - 1 - 14 - 40) {
			uint32_t v[2] = { peer_seq, peer_ack };
			for (int k = 0; k < 2; k++)
				for (int b = 0; b < 4; b++)
					t[4 + 4 * k + b] = (uint8_t)(v[k] >> (24 - 8 * b));
			t[16] = t[17] = 0;
			struct fj_ip6 src, dst;
			memcpy(src.b, p + 14 + 8, 16);
			memcpy(dst.b, p + 14 + 24, 16);
			uint16_t c = fj_csum_fold(
				fj_csum_add(fj_csum_pseudo6(&src, &dst, tl, FJ_IP_PROTO_TCP), t, tl));
			t[16] = (uint8_t)(c >> 8);
			t[17] = (uint8_t)c;
		}
	}
	if ((flags & 0x60) == 0x60 && m->data_len >= 2) {
		/* A chain: the second half moves to a segment of its own. */
		struct rte_mbuf *m2 = rte_pktmbuf_alloc(S.mp);
		uint16_t half = (uint16_t)(m->data_len / 2), rest = (uint16_t)(m->data_len - half);
		if (m2 == NULL)
			abort();
		memcpy(rte_pktmbuf_append(m2, rest), p + half, rest);
		rte_pktmbuf_trim(m, rest);
		if (rte_pktmbuf_chain(m, m2) < 0)
			abort();
	}
	struct fj_stack *S1 = S.g->shard[1];
	S.promisc = S1->promisc = flags & 1;
	S.has_exc = S1->has_exc = (flags & 0x60) == 0x20;
	fj_steer_burst(&S, &m, 1);
	/* Shard 1 takes what was steered to it, and both what the other
	 * posted (ARP learnt). A fragment goes to the shard of its addresses
	 * and its whole datagram on to its flow's, which may be either:
	 * both rings are polled until empty. */
	for (int k = 0; k < 4; k++)
		if (fj_steer_poll(S1) + fj_steer_poll(&S) == 0)
			break;
	fj_shard_poll(S1);
	fj_shard_poll(&S);
	if (flags & 2) {
		/* Time passes: ARP retries and expiry, TCP retransmissions,
		 * delayed ACKs, probes, TIME_WAIT. */
		clock_now += 1 + (uint64_t)(flags >> 2) * 100000;
		for (unsigned i = 0; i < 2; i++) {
			fj_arp_tick(S.g->shard[i], clock_now);
			fj_reasm_tick(S.g->shard[i], clock_now);
			fj_ipv6_tick(S.g->shard[i], clock_now);
			fj_tcp_timers(S.g->shard[i], clock_now);
		}
	}
	unsigned held = 0, used = 0;
	for (unsigned i = 0; i < 2; i++)
		fj_netif_flush(S.g->shard[i]);
	/* (an mbuf may be any pool's: a steered frame's reply leaves from
	 * its owner) */
	for (unsigned i = 0; i < 2; i++) {
		struct fj_stack *s = S.g->shard[i];
		/* (by segment: a chained frame is several) */
		for (uint16_t k = 0; k < s->neigh.nq; k++)
			held += ((struct rte_mbuf *)s->neigh.q[k].pkt)->nb_segs;
		for (uint16_t k = 0; k < s->nd.nq; k++)
			held += ((struct rte_mbuf *)s->nd.q[k].pkt)->nb_segs;
		held += fj_tcp_mbufs_held(s) + fj_reasm_mbufs_held(s);
		used += rte_mempool_in_use_count(s->mp);
	}
	if (used != held) {
		fprintf(stderr, "%u mbufs in use, %u held (ARP, TCP, reassembly)\n", used, held);
		abort(); /* an mbuf leaked (or was freed twice) */
	}
	return 0;
}
