/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer: arbitrary frames into the stack's receive path (Ethernet
 * dispatch, ARP, IPv4, ICMP, UDP and an echo service on port 7). The first
 * input byte picks extras (timers run, promiscuous mode); the rest is the
 * frame. Whatever the stack sends is checked to be a well-formed frame, and
 * after each input every mbuf is back in the pool except those waiting on
 * ARP resolution: no crash, no leak.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>

#include "stack_impl.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fj_stack S;
static uint64_t clock_now;

static uint16_t
sink(struct fj_stack *s, struct rte_mbuf **pkts, uint16_t n)
{
	(void)s;
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct fj_eth e;
		if (m->nb_segs != 1 || m->pkt_len > 1514 ||
		    fj_eth_parse(rte_pktmbuf_mtod(m, uint8_t *), m->data_len, &e) != FJ_OK)
			abort();
		if (e.type == FJ_ETH_P_IPV4) {
			struct fj_ipv4 ip;
			/* What we send is valid IPv4, checksum included. */
			if (fj_ipv4_parse(rte_pktmbuf_mtod_offset(m, uint8_t *, 14), m->data_len - 14,
					  false, &ip) != FJ_OK || ip.src != S.ip)
				abort();
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
	S.hz = rte_get_tsc_hz();
	S.mp = rte_pktmbuf_pool_create("fuzz", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	S.udp_ports = calloc(65536, sizeof(*S.udp_ports));
	if (S.mp == NULL || S.udp_ports == NULL)
		abort();
	S.ip = 0x0a000002;
	S.mask = 0xffffff00;
	S.gw = 0x0a000001;
	S.mtu = 1500;
	S.mac = (struct fj_mac){ { 0x02, 0, 0, 0, 0, 0x02 } };
	S.tx_fn = sink;
	S.icmp_tokens = 50;
	struct fj_neigh_params np = { .reachable = 1000, .refresh = 800, .retry = 10,
				      .max_tries = 2 };
	fj_neigh_init(&S.neigh, &np);
	if (fj_udp_bind(&S, 7, echo, NULL) == NULL)
		abort();
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
	S.promisc = flags & 1;
	fj_eth_input(&S, m);
	if (flags & 2) {
		/* Time passes: retries, refreshes, expiry, pending drops. */
		clock_now += 1 + (flags >> 2) * 100;
		fj_arp_tick(&S, clock_now);
	}
	fj_netif_flush(&S);
	if (rte_mempool_in_use_count(S.mp) != S.neigh.nq)
		abort(); /* an mbuf leaked (or was freed twice) */
	return 0;
}
