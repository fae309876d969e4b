/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fj-rxintr: does an idle port wake its lcore on the first frame? Port 0,
 * Q rx queues, configured with intr_conf.rxq = 1; every queue's event fd
 * in this thread's epoll set. Each round drains the queues, enables their
 * interrupts, sleeps in rte_epoll_wait (bounded), and after waking polls
 * the frames the host sent. Lines for the test to read:
 *
 *   FJRX port lsc=0|1                  LSC interrupts on beside the rx ones
 *   FJRX sleeping round=R              about to sleep: inject now
 *   FJRX paused round=R                not polling, interrupts still off
 *   FJRX round=R woke=0|1 rx=N slept_ms=T spurious=S queues=q,... per_queue=a,...
 *   FJRX idle woke=0|1 rx=N slept_ms=T spurious=S queues=... lsc_events=N
 *                                      a last sleep with nothing sent
 *
 * woke: a wake that found frames; slept_ms: the time until it (or the
 * timeout); queues: whose events brought it. A wake that finds no frame
 * (an interrupt that fired after the wake before the application turned
 * it off, left for the next sleep) is spurious: counted, and the
 * application sleeps again, as a real one would.
 *   FJRX error: ...                    (exit status 2)
 *
 *   fj-rxintr <EAL args> -- [--queues Q] [--rounds R] [--frames N]
 *                           [--timeout-ms T] [--pause-ms P]
 *
 * After the R rounds, one more ("late") round pauses P ms with the
 * interrupts off while the host sends, then enables them and sleeps
 * without polling first: only the driver's enable-then-recheck (VIRTIO 1.2
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
#define MAX_QUEUES 16

static unsigned int rounds = 3;
static unsigned int frames = 8;
static unsigned int timeout_ms = 30000;
static unsigned int pause_ms = 3000;
static uint16_t nq = 1;
static unsigned int per_queue[MAX_QUEUES];
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

/* Poll every queue until @want frames came or @ms passed; returns how many. */
static unsigned int
poll_frames(unsigned int want, unsigned int ms)
{
	struct rte_mbuf *pkts[BURST];
	uint64_t end = now_ms() + ms;
	unsigned int got = 0;

	while (got < want && now_ms() < end) {
		unsigned int burst = 0;

		for (uint16_t q = 0; q < nq; q++) {
			uint16_t n = rte_eth_rx_burst(port, q, pkts, BURST);

			rte_pktmbuf_free_bulk(pkts, n);
			per_queue[q] += n;
			burst += n;
		}
		got += burst;
		if (burst == 0)
			rte_delay_us_sleep(1000);
	}
	return got;
}

static unsigned int
drain(void)
{
	return poll_frames(UINT32_MAX, 200);
}

static int
intr_all(bool on)
{
	for (uint16_t q = 0; q < nq; q++) {
		int rc = on ? rte_eth_dev_rx_intr_enable(port, q)
			    : rte_eth_dev_rx_intr_disable(port, q);
		if (rc < 0)
			return fail(on ? "rte_eth_dev_rx_intr_enable" : "rte_eth_dev_rx_intr_disable",
				    rc);
	}
	return 0;
}

/*
 * Sleep on the queues' interrupts; returns the events, the time slept and
 * which queues' events woke us (written as "q,q" to @woken).
 */
static int
sleep_on_queues(unsigned int ms, uint64_t *slept, char *woken, size_t len)
{
	struct rte_epoll_event ev[MAX_QUEUES];
	uint64_t t0 = now_ms();
	int n = rte_epoll_wait(RTE_EPOLL_PER_THREAD, ev, MAX_QUEUES, (int)ms);
	size_t off = 0;

	*slept = now_ms() - t0;
	woken[0] = '\0';
	for (int i = 0; i < n && off + 8 < len; i++)
		off += (size_t)snprintf(woken + off, len - off, "%s%u", i ? "," : "",
					(unsigned int)(uintptr_t)ev[i].epdata.data);
	return n;
}

static void
print_per_queue(void)
{
	for (uint16_t q = 0; q < nq; q++)
		printf("%s%u", q ? "," : " per_queue=", per_queue[q]);
	printf("\n");
}

struct wake {
	bool woke;             /* a wake that found frames */
	unsigned int got;
	unsigned int spurious; /* wakes that found none */
	uint64_t slept;
	char queues[64];
};

/* Sleep until a wake finds frames, or @ms in all; then poll them all. */
static int
wait_frames(unsigned int ms, struct wake *w)
{
	uint64_t t0 = now_ms(), el;
	int rc;

	memset(w, 0, sizeof(*w));
	memset(per_queue, 0, sizeof(per_queue));
	while ((el = now_ms() - t0) < ms) {
		uint64_t dt;

		rc = intr_all(true);
		if (rc != 0)
			return rc;
		int n = sleep_on_queues((unsigned int)(ms - el), &dt, w->queues, sizeof(w->queues));
		rc = intr_all(false);
		if (rc != 0)
			return rc;
		if (n <= 0)
			break;
		w->got = poll_frames(frames, 20);
		if (w->got > 0) {
			w->woke = true;
			w->slept = now_ms() - t0;
			w->got += poll_frames(frames - w->got, 3000);
			return 0;
		}
		w->spurious++;
	}
	w->slept = now_ms() - t0;
	return 0;
}

static int
round_trip(unsigned int r, bool late)
{
	struct wake w;
	int rc;

	drain();
	if (late) {
		printf("FJRX paused round=%u\n", r);
		fflush(stdout);
		rte_delay_us_sleep(pause_ms * 1000);
	} else {
		printf("FJRX sleeping round=%u\n", r);
		fflush(stdout);
	}
	rc = wait_frames(timeout_ms, &w);
	if (rc != 0)
		return rc;
	printf("FJRX round=%u woke=%d rx=%u slept_ms=%llu spurious=%u queues=%s", r, w.woke,
	       w.got, (unsigned long long)w.slept, w.spurious, w.queues);
	print_per_queue();
	fflush(stdout);
	return 0;
}

/* A last sleep with nothing sent: nothing may bring frames. */
static int
idle_check(void)
{
	struct wake w;
	int rc;

	drain();
	rc = wait_frames(1500, &w);
	if (rc != 0)
		return rc;
	printf("FJRX idle woke=%d rx=%u slept_ms=%llu spurious=%u queues=%s lsc_events=%u\n",
	       w.woke, w.got, (unsigned long long)w.slept, w.spurious, w.queues,
	       __atomic_load_n(&lsc_events, __ATOMIC_RELAXED));
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

	mp = rte_pktmbuf_pool_create("rxintr", 1024u * nq + 1023, 64, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				     rte_socket_id());
	if (mp == NULL)
		return fail("mempool", -rte_errno);
	rc = rte_eth_dev_configure(port, nq, nq, &conf);
	if (rc < 0)
		return fail("rte_eth_dev_configure", rc);
	for (uint16_t q = 0; q < nq && rc == 0; q++) {
		rc = rte_eth_rx_queue_setup(port, q, 256, rte_eth_dev_socket_id(port), NULL, mp);
		if (rc == 0)
			rc = rte_eth_tx_queue_setup(port, q, 256, rte_eth_dev_socket_id(port), NULL);
	}
	if (rc < 0)
		return fail("queue setup", rc);
	rc = rte_eth_dev_start(port);
	if (rc < 0)
		return fail("rte_eth_dev_start", rc);
	/* The queue number comes back as the event's data. */
	for (uint16_t q = 0; q < nq && rc == 0; q++)
		rc = rte_eth_dev_rx_intr_ctl_q(port, q, RTE_EPOLL_PER_THREAD, RTE_INTR_EVENT_ADD,
					       (void *)(uintptr_t)q);
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
		{ "queues", required_argument, NULL, 'q' },
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
		case 'q':
			if (v < 1 || v > MAX_QUEUES)
				return -EINVAL;
			nq = (uint16_t)v;
			break;
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
