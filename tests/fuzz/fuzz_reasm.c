/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer: IPv4 and IPv6 reassembly (stack/direct/reasm.c) fed sequences of
 * fragments. Each 8-byte record of the input is one fragment, its header
 * valid (so that it reaches reassembly) and its place chosen by the fuzzer:
 *
 *   [0] bits 0-1 source (of 4), bit 2 MF, bit 3 ICMP (else UDP), bits 4-7
 *       seconds to pass before it (0-30: timeouts fall between fragments)
 *   [1] datagram ID (of 4: datagrams collide)
 *   [2..3] offset in 8-byte units (13 bits)
 *   [4..5] payload length (up to 1,480; odd ones are malformed with MF)
 *   [6] payload fill byte
 *   [7] bit 0: sent twice; bit 1: IPv6 (a fragment header; ICMPv6 or
 *       UDP behind it)
 *
 * A first fragment carries a UDP header to the echo on port 7 (no
 * checksum) or an echo request, so that whole datagrams go up and are
 * answered, in fragments when large. Whatever the stack sends must be
 * well formed; after each fragment every mbuf is back in the pool but
 * those reassembly and ARP hold, and after the last the timeout empties
 * the table: no crash, no leak, no bound exceeded. Replies to IPv6
 * sources wait on neighbour discovery (bounded) until it gives up.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>

#include "direct.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fj_stack S;
static uint64_t clock_now = 1000000;

static uint64_t
fake_clock(void *ctx)
{
	(void)ctx;
	return clock_now;
}

static uint16_t
sink(struct fj_stack *s, struct rte_mbuf **pkts, uint16_t n)
{
	static uint8_t flat[1514];

	(void)s;
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const uint8_t *f = m->pkt_len <= sizeof(flat) && m->pkt_len >= 34 ?
					   rte_pktmbuf_read(m, 0, m->pkt_len, flat) : NULL;
		struct fj_ipv4 ip;
		struct fj_ipv6 ip6;
		if (f == NULL || (f[12] == 0x08 && f[13] == 0 &&
				  fj_ipv4_parse(f + 14, m->pkt_len - 14, false, &ip) != FJ_OK) ||
		    (f[12] == 0x86 && f[13] == 0xdd &&
		     fj_ipv6_parse(f + 14, m->pkt_len - 14, &ip6) != FJ_OK)) {
			fprintf(stderr, "bad frame sent: %u bytes\n", m->pkt_len);
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
	snprintf(prefix, sizeof(prefix), "--file-prefix=fjfuzzr%d", (int)getpid());
	char *eal[] = { "fuzz", "--no-huge", "-m", "128", "--no-pci", "--no-shconf",
			"--no-telemetry", "--log-level=*:crit", prefix, NULL };
	if (rte_eal_init(9, eal) < 0)
		abort();
	rmdir(rte_eal_get_runtime_dir());
	S.ops = &fj_direct_ops;
	S.hz = 1000000;
	S.clock = fake_clock;
	S.ip = 0x0a000002;
	S.mask = 0xffffff00;
	S.gw = 0x0a000001;
	S.mtu = 1500;
	S.mac = (struct fj_mac){ { 0x02, 0, 0, 0, 0, 0x02 } };
	S.tx_fn = sink;
	S.icmp_tokens = 50;
	if (fj_shards_create(&S, 1) < 0)
		abort();
	S.mp = rte_pktmbuf_pool_create("fuzzr", 8191, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	S.ref_mp = rte_pktmbuf_pool_create("fuzzr_ref", 8191, 0, 0, 0, SOCKET_ID_ANY);
	S.udp_ports = calloc(65536, sizeof(*S.udp_ports));
	if (S.mp == NULL || S.ref_mp == NULL || S.udp_ports == NULL)
		abort();
	struct fj_neigh_params np = { .reachable = 3600000000u, .refresh = 3500000000u,
				      .retry = 1000000, .max_tries = 2 };
	fj_neigh_init(&S.neigh, &np);
	if (fj_tcp_init(&S) < 0 || fj_reasm_init(&S) < 0 || fj_udp_bind(&S, 7, echo, NULL) == NULL)
		abort();
	fj_ip6_parse_text("2001:db8::2", &S.ip6[1].a);
	S.ip6[1].plen = 64;
	S.nip6 = 2;
	fj_ipv6_init(&S);
	/* Every source is a known neighbour, so replies leave at once. */
	for (uint32_t i = 0; i < 4; i++)
		fj_neigh_learn(&S.neigh, 0x0a000010 + i, &(struct fj_mac){ { 2, 0, 0, 0, 0, 1 } },
			       clock_now, true);
	return 0;
}

static void
check_held(const char *when)
{
	unsigned held = S.neigh.nq + S.nd.nq + fj_reasm_mbufs_held(&S);
	unsigned used = rte_mempool_in_use_count(S.mp);

	if (used != held || fj_reasm_mbufs_held(&S) > 1024) {
		fprintf(stderr, "%s: %u mbufs in use, %u held (ARP, reassembly)\n", when, used, held);
		abort();
	}
}

static void
send_fragment6(const uint8_t *r)
{
	struct fj_ip6 src, dst = S.ip6[1].a;
	bool mf = r[0] & 4, icmp = r[0] & 8;
	uint32_t off = ((uint32_t)(r[2] << 8 | r[3]) & 0x1fff) * 8;
	uint32_t len = (uint32_t)(r[4] << 8 | r[5]) % 1449;
	struct rte_mbuf *m = rte_pktmbuf_alloc(S.mp);
	if (m == NULL)
		abort();
	fj_ip6_parse_text("2001:db8::10", &src);
	src.b[15] = (uint8_t)(0x10 + (r[0] & 3));
	uint8_t *f = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(62 + len));
	fj_eth_build(f, &S.mac, &(struct fj_mac){ { 2, 0, 0, 0, 0, 1 } }, FJ_ETH_P_IPV6);
	fj_ipv6_build(f + 14, &src, &dst, FJ_IPV6_NH_FRAGMENT, (uint16_t)(8 + len), 64, 0);
	uint8_t *fh = f + 54;
	fh[0] = icmp ? FJ_IP_PROTO_ICMPV6 : FJ_IP_PROTO_UDP, fh[1] = 0;
	fh[2] = (uint8_t)(off >> 8), fh[3] = (uint8_t)((off & 0xf8) | mf);
	fh[4] = fh[5] = fh[6] = 0, fh[7] = r[1] & 3;
	memset(f + 62, r[6], len);
	if (off == 0 && len >= 8 && icmp)
		f[62] = FJ_ICMP6_ECHO_REQUEST, f[63] = 0;
	fj_eth_input(&S, m);
	fj_netif_flush(&S);
}

static void
send_fragment(const uint8_t *r)
{
	if (r[7] & 2) {
		send_fragment6(r);
		return;
	}
	uint32_t src = 0x0a000010 + (r[0] & 3);
	bool mf = r[0] & 4, icmp = r[0] & 8;
	uint32_t off = ((uint32_t)(r[2] << 8 | r[3]) & 0x1fff) * 8;
	uint32_t len = (uint32_t)(r[4] << 8 | r[5]) % 1481;
	struct rte_mbuf *m = rte_pktmbuf_alloc(S.mp);
	if (m == NULL)
		abort();
	uint8_t *f = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)RTE_MAX(60u, 34 + len));
	memset(f, 0, RTE_MAX(60u, 34 + len));
	fj_eth_build(f, &S.mac, &(struct fj_mac){ { 2, 0, 0, 0, 0, 1 } }, FJ_ETH_P_IPV4);
	fj_ipv4_build(f + 14, src, S.ip, icmp ? FJ_IP_PROTO_ICMP : FJ_IP_PROTO_UDP, (uint16_t)len,
		      r[1] & 3, 64, false);
	uint16_t ff = (uint16_t)((mf ? FJ_IPV4_MF : 0) | off / 8);
	f[20] = (uint8_t)(ff >> 8), f[21] = (uint8_t)ff;
	f[24] = f[25] = 0;
	uint16_t c = fj_csum_fold(fj_csum_add(0, f + 14, 20));
	f[24] = (uint8_t)(c >> 8), f[25] = (uint8_t)c;
	memset(f + 34, r[6], len);
	if (off == 0 && len >= 8) {
		uint8_t *l4 = f + 34;
		if (icmp) {
			l4[0] = FJ_ICMP_ECHO_REQUEST, l4[1] = 0;
		} else {
			/* to the echo, no checksum, a length within most
			 * datagrams: whole ones are echoed */
			l4[0] = 0x13, l4[1] = 0x88, l4[2] = 0, l4[3] = 7;
			l4[4] = 0, l4[5] = (uint8_t)(8 + r[6] % 200);
			l4[6] = l4[7] = 0;
		}
	}
	fj_eth_input(&S, m);
	fj_netif_flush(&S);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (size_t k = 0; k + 8 <= size && k < 8 * 512; k += 8) {
		const uint8_t *r = data + k;
		clock_now += (uint64_t)(r[0] >> 4) * 2 * 1000000;
		fj_reasm_tick(&S, clock_now);
		fj_ipv6_tick(&S, clock_now);
		send_fragment(r);
		if (r[7] & 1)
			send_fragment(r);
		check_held("after a fragment");
	}
	/* Past the timeout, nothing is left. */
	clock_now += 61 * 1000000ull; /* IPv6's timeout, IPv4's being 30 s */
	fj_reasm_tick(&S, clock_now);
	fj_netif_flush(&S);
	check_held("after the timeout");
	if (fj_reasm_mbufs_held(&S) != 0)
		abort();
	return 0;
}
