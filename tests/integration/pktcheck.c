/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fj-pktcheck: send numbered frames of many sizes through port 0 to a peer
 * that swaps MAC addresses and sends them back (testpmd macswap), and check
 * every byte of every frame that returns, and that all return in order.
 *
 *   fj-pktcheck <EAL args> -- [--count N] [--window W] [--cycles C]
 *                             [--max-queues Q] [--sizes a,b,c]
 *
 * --cycles C stops, reconfigures (alternating 1..Q queue pairs) and
 * restarts the port C times, checking the exchange after each restart and
 * that every mbuf is back in the pool while the port is stopped.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#define MAGIC 0x666a6f72u /* "fjor" */
#define BURST 32
#define MBUF_ROOM RTE_MBUF_DEFAULT_BUF_SIZE

static uint32_t count = 10000;
static uint32_t window = 96;
static uint32_t cycles;
static uint16_t max_queues = 1;
static uint32_t sizes[32] = { 60, 64, 65, 128, 511, 1024, 1500, 1514, 1515, 2047, 2048,
			      2049, 3000, 4096, 8192, 9000 };
static unsigned int nsizes = 16;
static struct rte_mempool *mp;

/* Frames leave from the port's own address: it filters what is not for it. */
static struct rte_ether_addr src;
static const struct rte_ether_addr dst = { { 0x02, 0xf7, 0, 0, 0, 0x02 } };

static uint8_t
pattern(uint32_t seq, uint32_t i)
{
	return (uint8_t)((seq * 131u) ^ (i * 7u) ^ (i >> 8));
}

/* Frame: dst, src, ethertype 0x88b5 (local experimental), magic, seq, len, pattern. */
static struct rte_mbuf *
build(uint32_t seq, uint32_t len)
{
	struct rte_mbuf *head = NULL, *tail = NULL;
	uint32_t off = 0;

	while (off < len) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
		if (m == NULL) {
			rte_pktmbuf_free(head);
			return NULL;
		}
		uint32_t n = RTE_MIN(len - off, (uint32_t)rte_pktmbuf_tailroom(m));
		uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)n);
		for (uint32_t i = 0; i < n; i++)
			p[i] = pattern(seq, off + i);
		if (head == NULL) {
			struct rte_ether_hdr *eh = (struct rte_ether_hdr *)p;
			eh->dst_addr = dst;
			eh->src_addr = src;
			eh->ether_type = rte_cpu_to_be_16(0x88b5);
			uint32_t meta[3] = { MAGIC, seq, len };
			memcpy(p + 14, meta, sizeof(meta));
			head = m;
		} else {
			tail->next = m;
			head->nb_segs++;
			head->pkt_len += n;
		}
		tail = m;
		off += n;
	}
	return head;
}

/* Returns the sequence number of a good frame, -1 if it is not ours, -2 if damaged. */
static int64_t
verify(const struct rte_mbuf *m, uint32_t expect_seq, char *why, size_t wl)
{
	uint8_t flat[9216];
	uint32_t len = m->pkt_len;
	uint32_t meta[3];

	if (len < 26 || len > sizeof(flat)) {
		snprintf(why, wl, "length %u", len);
		return -1;
	}
	const uint8_t *p = rte_pktmbuf_read(m, 0, len, flat);
	memcpy(meta, p + 14, sizeof(meta));
	if (meta[0] != MAGIC)
		return -1;
	const struct rte_ether_hdr *eh = (const struct rte_ether_hdr *)p;
	/* macswap: the addresses come back exchanged. */
	if (!rte_is_same_ether_addr(&eh->dst_addr, &src) ||
	    !rte_is_same_ether_addr(&eh->src_addr, &dst)) {
		snprintf(why, wl, "seq %u: addresses not swapped", meta[1]);
		return -2;
	}
	if (meta[1] != expect_seq) {
		snprintf(why, wl, "seq %u arrived, %u expected", meta[1], expect_seq);
		return -2;
	}
	if (meta[2] != len) {
		snprintf(why, wl, "seq %u: length %u, sent %u", meta[1], len, meta[2]);
		return -2;
	}
	for (uint32_t i = 26; i < len; i++) {
		if (p[i] != pattern(meta[1], i)) {
			snprintf(why, wl, "seq %u len %u: byte %u is %02x, sent %02x", meta[1], len,
				 i, p[i], pattern(meta[1], i));
			return -2;
		}
	}
	return meta[1];
}

static int
port_up(uint16_t port, uint16_t queues)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	int rc;

	memset(&conf, 0, sizeof(conf));
	rc = rte_eth_dev_info_get(port, &info);
	if (rc < 0)
		return rc;
	conf.txmode.offloads = RTE_ETH_TX_OFFLOAD_MULTI_SEGS & info.tx_offload_capa;
	conf.rxmode.offloads = RTE_ETH_RX_OFFLOAD_SCATTER & info.rx_offload_capa;
	conf.rxmode.mtu = 9000 < info.max_mtu ? 9000 : info.max_mtu;
	rc = rte_eth_dev_configure(port, queues, queues, &conf);
	for (uint16_t q = 0; q < queues && rc == 0; q++) {
		rc = rte_eth_rx_queue_setup(port, q, 512, rte_socket_id(), NULL, mp);
		if (rc == 0)
			rc = rte_eth_tx_queue_setup(port, q, 512, rte_socket_id(), NULL);
	}
	if (rc == 0)
		rc = rte_eth_dev_start(port);
	if (rc < 0)
		return rc;
	for (int i = 0; i < 100; i++) {
		struct rte_eth_link link;
		rte_eth_link_get_nowait(port, &link);
		if (link.link_status)
			return 0;
		rte_delay_ms(100);
	}
	fprintf(stderr, "pktcheck: link did not come up\n");
	return -ETIMEDOUT;
}

/* One exchange of @n frames on queue @q; returns 0 when all came back intact. */
static int
exchange(uint16_t port, uint16_t q, uint32_t n, uint32_t seq0)
{
	uint32_t sent = 0, got = 0, foreign = 0;
	uint64_t bytes = 0;
	uint64_t deadline = rte_get_timer_cycles() + rte_get_timer_hz() * (30 + n / 1000);
	char why[160];

	while (got < n) {
		if (rte_get_timer_cycles() > deadline) {
			fprintf(stderr, "pktcheck: q%u timed out: %u sent, %u of %u back\n", q, sent,
				got, n);
			return -1;
		}
		struct rte_mbuf *tx[BURST];
		uint16_t ntx = 0;
		while (ntx < BURST && sent + ntx < n && sent + ntx - got < window) {
			uint32_t seq = seq0 + sent + ntx;
			tx[ntx] = build(seq, sizes[seq % nsizes]);
			if (tx[ntx] == NULL)
				break;
			ntx++;
		}
		uint16_t ok = ntx ? rte_eth_tx_burst(port, q, tx, ntx) : 0;
		for (uint16_t i = ok; i < ntx; i++)
			rte_pktmbuf_free(tx[i]);
		sent += ok;

		struct rte_mbuf *rx[BURST];
		uint16_t nrx = rte_eth_rx_burst(port, q, rx, BURST);
		for (uint16_t i = 0; i < nrx; i++) {
			int64_t s = verify(rx[i], seq0 + got, why, sizeof(why));
			if (s == -1) {
				foreign++;
			} else if (s < 0) {
				fprintf(stderr, "pktcheck: q%u: %s\n", q, why);
				rte_pktmbuf_free_bulk(rx + i, nrx - i);
				return -1;
			} else {
				got++;
				bytes += rx[i]->pkt_len;
			}
			rte_pktmbuf_free(rx[i]);
		}
	}
	printf("pktcheck: q%u: %u frames, %" PRIu64 " bytes back intact and in order "
	       "(%u foreign frames ignored)\n", q, got, bytes, foreign);
	return 0;
}

static int
parse(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", 1, NULL, 'n' }, { "window", 1, NULL, 'w' },
		{ "cycles", 1, NULL, 'c' }, { "max-queues", 1, NULL, 'q' },
		{ "sizes", 1, NULL, 's' }, { NULL, 0, NULL, 0 },
	};
	int o;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'n': count = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'w': window = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'c': cycles = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'q': max_queues = (uint16_t)strtoul(optarg, NULL, 0); break;
		case 's': {
			nsizes = 0;
			for (char *t = strtok(optarg, ","); t && nsizes < 32; t = strtok(NULL, ","))
				sizes[nsizes++] = (uint32_t)strtoul(t, NULL, 0);
			break;
		}
		default: return -1;
		}
	}
	if (count == 0 || window == 0 || nsizes == 0 || max_queues == 0)
		return -1;
	for (unsigned int i = 0; i < nsizes; i++)
		if (sizes[i] < 60 || sizes[i] > 9000)
			return -1;
	return 0;
}

int
main(int argc, char **argv)
{
	int rc = rte_eal_init(argc, argv);
	uint16_t port = 0;
	uint32_t seq = 0;

	if (rc < 0) {
		fprintf(stderr, "pktcheck: EAL init failed\n");
		return 2;
	}
	argc -= rc;
	argv += rc;
	if (parse(argc, argv) < 0) {
		fprintf(stderr, "usage: fj-pktcheck <EAL> -- [--count N] [--window W] [--cycles C] "
				"[--max-queues Q] [--sizes 60,...,9000]\n");
		return 2;
	}
	if (rte_eth_dev_count_avail() < 1) {
		fprintf(stderr, "pktcheck: no port\n");
		return 2;
	}
	mp = rte_pktmbuf_pool_create("pktcheck", 8191, 256, 0, MBUF_ROOM, rte_socket_id());
	if (mp == NULL)
		return 2;
	rte_eth_macaddr_get(port, &src);
	rc = port_up(port, 1);
	if (rc < 0) {
		fprintf(stderr, "pktcheck: port start: %s\n", strerror(-rc));
		return 1;
	}
	rc = exchange(port, 0, count, seq);
	seq += count;
	for (uint32_t c = 1; c <= cycles && rc == 0; c++) {
		uint16_t queues = (uint16_t)(1 + c % max_queues);

		rc = rte_eth_dev_stop(port);
		if (rc < 0)
			break;
		/* Stopped: every rx buffer went back to the pool (tx were freed). */
		unsigned int in_use = rte_mempool_in_use_count(mp);
		if (in_use != 0) {
			fprintf(stderr, "pktcheck: cycle %u: %u mbufs still held by a stopped port\n",
				c, in_use);
			rc = -1;
			break;
		}
		rc = port_up(port, queues);
		if (rc < 0) {
			fprintf(stderr, "pktcheck: cycle %u: restart with %u queues: %s\n", c, queues,
				strerror(-rc));
			break;
		}
		for (uint16_t q = 0; q < queues && rc == 0; q++) {
			rc = exchange(port, q, count / 4 + 1, seq);
			seq += count / 4 + 1;
		}
		printf("pktcheck: cycle %u with %u queue pair(s) ok\n", c, queues);
	}
	struct rte_eth_stats st;
	rte_eth_stats_get(port, &st);
	printf("pktcheck: port stats: %" PRIu64 " rx, %" PRIu64 " tx, %" PRIu64 " rx errors, %" PRIu64
	       " rx nombuf\n", st.ipackets, st.opackets, st.ierrors, st.rx_nombuf);
	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);
	rte_mempool_free(mp);
	rte_eal_cleanup();
	printf("pktcheck: %s\n", rc == 0 ? "PASS" : "FAIL");
	return rc == 0 ? 0 : 1;
}
