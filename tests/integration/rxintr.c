/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fj-rxintr: does an idle port wake its lcore on the first frame? Port 0,
 * one rx queue, configured with intr_conf.rxq = 1; the queue's event fd in
 * this thread's epoll set. Each round drains the queue, enables its
 * interrupt, sleeps in rte_epoll_wait (bounded), and after waking polls the
 * frames the host sent. Lines for the test to read:
 *
 *   FJRX port lsc=0|1                  LSC interrupts on beside the rx ones
 *   FJRX sleeping round=R              about to sleep: inject now
 *   FJRX paused round=R                not polling, interrupt still off
 *   FJRX round=R woke=0|1 rx=N slept_ms=T
 *   FJRX idle wakeups=N                a last sleep with nothing sent
 *   FJRX error: ...                    (exit status 2)
 *
 *   fj-rxintr <EAL args> -- [--rounds R] [--frames N] [--timeout-ms T]
 *                           [--pause-ms P]
 *
 * After the R rounds, one more ("late") round pauses P ms with the
 * interrupt off while the host sends, then enables it and sleeps without
 * polling first: only the driver's enable-then-recheck (VIRTIO 1.2
 * §2.7.14) can wake it then.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_epoll.h>
#include <rte_ethdev.h>
#include <rte_interrupts.h>
#include <rte_mbuf.h>

#define BURST 32

static unsigned int rounds = 3;
static unsigned int frames = 8;
static unsigned int timeout_ms = 30000;
static unsigned int pause_ms = 3000;
static const uint16_t port = 0;
static unsigned int lsc_events; /* written by EAL's interrupt thread */

static int
fail(const char *what, int rc)
{
	printf("FJRX error: %s: %s\n", what, rte_strerror(-rc));
	fflush(stdout);
	return 2;
}

static uint64_t
now_ms(void)
{
	return rte_get_timer_cycles() * 1000 / rte_get_timer_hz();
}

/* Poll until @want frames came or @ms passed; returns how many came. */
static unsigned int
poll_frames(unsigned int want, unsigned int ms)
{
	struct rte_mbuf *pkts[BURST];
	uint64_t end = now_ms() + ms;
	unsigned int got = 0;

	while (got < want && now_ms() < end) {
		uint16_t n = rte_eth_rx_burst(port, 0, pkts, BURST);

		rte_pktmbuf_free_bulk(pkts, n);
		got += n;
		if (n == 0)
			rte_delay_us_sleep(1000);
	}
	return got;
}

static unsigned int
drain(void)
{
	return poll_frames(UINT32_MAX, 200);
}

/* Sleep on the queue's interrupt; returns the events and the time slept. */
static int
sleep_on_queue(unsigned int ms, uint64_t *slept)
{
	struct rte_epoll_event ev[1];
	uint64_t t0 = now_ms();
	int n = rte_epoll_wait(RTE_EPOLL_PER_THREAD, ev, 1, (int)ms);

	*slept = now_ms() - t0;
	return n;
}

static int
round_trip(unsigned int r, bool late)
{
	uint64_t slept;
	int rc, n;

	drain();
	if (late) {
		printf("FJRX paused round=%u\n", r);
		fflush(stdout);
		rte_delay_us_sleep(pause_ms * 1000);
	}
	rc = rte_eth_dev_rx_intr_enable(port, 0);
	if (rc < 0)
		return fail("rte_eth_dev_rx_intr_enable", rc);
	if (!late) {
		printf("FJRX sleeping round=%u\n", r);
		fflush(stdout);
	}
	n = sleep_on_queue(timeout_ms, &slept);
	rc = rte_eth_dev_rx_intr_disable(port, 0);
	if (rc < 0)
		return fail("rte_eth_dev_rx_intr_disable", rc);
	unsigned int got = n > 0 ? poll_frames(frames, 3000) : 0;
	printf("FJRX round=%u woke=%d rx=%u slept_ms=%llu\n", r, n > 0, got,
	       (unsigned long long)slept);
	fflush(stdout);
	return 0;
}

/* A last sleep with nothing sent: nothing may wake it. */
static int
idle_check(void)
{
	uint64_t slept;
	int rc, n;

	drain();
	rc = rte_eth_dev_rx_intr_enable(port, 0);
	if (rc < 0)
		return fail("rte_eth_dev_rx_intr_enable", rc);
	n = sleep_on_queue(1500, &slept);
	rte_eth_dev_rx_intr_disable(port, 0);
	printf("FJRX idle wakeups=%d rx=%u slept_ms=%llu lsc_events=%u\n", n > 0 ? n : 0, drain(),
	       (unsigned long long)slept, __atomic_load_n(&lsc_events, __ATOMIC_RELAXED));
	fflush(stdout);
	return 0;
}

static int
on_lsc(uint16_t port_id, enum rte_eth_event_type type, void *arg, void *ret)
{
	(void)port_id;
	(void)type;
	(void)arg;
	(void)ret;
	__atomic_fetch_add(&lsc_events, 1, __ATOMIC_RELAXED);
	return 0;
}

static int
port_up(void)
{
	struct rte_eth_conf conf = { .intr_conf = { .rxq = 1 } };
	struct rte_eth_dev_info info;
	struct rte_mempool *mp;
	struct rte_eth_link link;
	int rc;

	/* Config-change interrupts too where the port has them: both kinds of
	 * vector live at once (MSI-X vector 0 and the rx queue's). */
	rc = rte_eth_dev_info_get(port, &info);
	if (rc < 0)
		return fail("rte_eth_dev_info_get", rc);
	conf.intr_conf.lsc = (*info.dev_flags & RTE_ETH_DEV_INTR_LSC) != 0;
	if (conf.intr_conf.lsc)
		rte_eth_dev_callback_register(port, RTE_ETH_EVENT_INTR_LSC, on_lsc, NULL);
	printf("FJRX port lsc=%d\n", conf.intr_conf.lsc);

	mp = rte_pktmbuf_pool_create("rxintr", 2047, 64, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				     rte_socket_id());
	if (mp == NULL)
		return fail("mempool", -rte_errno);
	rc = rte_eth_dev_configure(port, 1, 1, &conf);
	if (rc < 0)
		return fail("rte_eth_dev_configure", rc);
	rc = rte_eth_rx_queue_setup(port, 0, 256, rte_eth_dev_socket_id(port), NULL, mp);
	if (rc == 0)
		rc = rte_eth_tx_queue_setup(port, 0, 256, rte_eth_dev_socket_id(port), NULL);
	if (rc < 0)
		return fail("queue setup", rc);
	rc = rte_eth_dev_start(port);
	if (rc < 0)
		return fail("rte_eth_dev_start", rc);
	rc = rte_eth_dev_rx_intr_ctl_q(port, 0, RTE_EPOLL_PER_THREAD, RTE_INTR_EVENT_ADD, NULL);
	if (rc < 0)
		return fail("rte_eth_dev_rx_intr_ctl_q", rc);
	for (int i = 0; i < 100; i++) {
		if (rte_eth_link_get_nowait(port, &link) == 0 && link.link_status)
			return 0;
		rte_delay_us_sleep(100000);
	}
	return fail("link", -ENETDOWN);
}

static int
parse(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rounds", required_argument, NULL, 'r' },
		{ "frames", required_argument, NULL, 'f' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "pause-ms", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	int o;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		unsigned long v = strtoul(optarg != NULL ? optarg : "", NULL, 10);

		switch (o) {
		case 'r': rounds = (unsigned int)v; break;
		case 'f': frames = (unsigned int)v; break;
		case 't': timeout_ms = (unsigned int)v; break;
		case 'p': pause_ms = (unsigned int)v; break;
		default: return -EINVAL;
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	int rc = rte_eal_init(argc, argv);

	if (rc < 0)
		return fail("rte_eal_init", -rte_errno);
	if (parse(argc - rc, argv + rc) < 0)
		return fail("arguments", -EINVAL);
	if (rte_eth_dev_count_avail() == 0)
		return fail("no port", -ENODEV);
	rc = port_up();
	for (unsigned int r = 1; rc == 0 && r <= rounds + 1; r++)
		rc = round_trip(r, r == rounds + 1);
	if (rc == 0)
		rc = idle_check();
	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);
	rte_eal_cleanup();
	return rc;
}
