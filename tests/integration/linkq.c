/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fj-linkq: an impaired link in user space for the TCP tests. Packets that
 * iptables' NFQUEUE target hands over (one or more queues) are held and
 * given back late (a delay with jitter), some of them later than the rest
 * (reordering), and some are also sent a second time (duplication, through
 * a raw socket). The kernel keeps the packets; only verdicts go back.
 *
 *   fj-linkq --queue N [--queue M] [--delay-us D] [--jitter-us J]
 *            [--reorder PCT] [--reorder-us G] [--dup PCT] [--seed S]
 *
 * Without --reorder the order is kept (a late packet holds back those
 * after it); with it, PCT % of packets are held G us longer (default
 * 2000) so that later ones overtake them. SIGTERM/SIGINT: every held
 * packet is accepted, the counters are printed, exit 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>

#define MAX_QUEUES 4
#define MAX_HELD 65536

struct held {
	uint64_t at; /* release time, ns */
	uint32_t id;
	int q;
};

static struct {
	struct nfq_q_handle *qh[MAX_QUEUES];
	int nq;
	uint64_t delay, jitter, reorder_gap; /* ns */
	unsigned reorder_pct, dup_pct;
	uint64_t rng;
	uint64_t last_at[MAX_QUEUES]; /* in-order release, per queue */
	struct held heap[MAX_HELD];   /* a min-heap on .at */
	int nheld;
	int raw; /* for duplicates */
	uint64_t seen, reordered, duplicated, overflow, max_held;
} L;

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: deterministic for a seed. */
static uint64_t
rnd(void)
{
	L.rng ^= L.rng >> 12;
	L.rng ^= L.rng << 25;
	L.rng ^= L.rng >> 27;
	return L.rng * 2685821657736338717ull;
}

static void
heap_push(struct held h)
{
	int i = L.nheld++;
	while (i > 0 && L.heap[(i - 1) / 2].at > h.at) {
		L.heap[i] = L.heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	L.heap[i] = h;
	if ((uint64_t)L.nheld > L.max_held)
		L.max_held = (uint64_t)L.nheld;
}

static struct held
heap_pop(void)
{
	struct held top = L.heap[0], last = L.heap[--L.nheld];
	int i = 0;
	for (;;) {
		int c = 2 * i + 1;
		if (c >= L.nheld)
			break;
		if (c + 1 < L.nheld && L.heap[c + 1].at < L.heap[c].at)
			c++;
		if (last.at <= L.heap[c].at)
			break;
		L.heap[i] = L.heap[c];
		i = c;
	}
	if (L.nheld > 0)
		L.heap[i] = last;
	return top;
}

static void
accept_now(int q, uint32_t id)
{
	if (nfq_set_verdict(L.qh[q], id, NF_ACCEPT, 0, NULL) < 0)
		fprintf(stderr, "fj-linkq: verdict for %u failed: %s\n", id, strerror(errno));
}

/* A second copy of an IPv4 packet, sent as it is (IP_HDRINCL). */
static void
duplicate(const unsigned char *p, int len)
{
	struct sockaddr_in to = { .sin_family = AF_INET };

	if (len < 20 || (p[0] >> 4) != 4)
		return;
	memcpy(&to.sin_addr, p + 16, 4);
	if (sendto(L.raw, p, (size_t)len, 0, (struct sockaddr *)&to, sizeof(to)) == len)
		L.duplicated++;
}

static int
on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfa, void *data)
{
	struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
	int q = (int)(intptr_t)data;

	(void)qh;
	(void)msg;
	if (ph == NULL)
		return 0;
	uint32_t id = ntohl(ph->packet_id);
	L.seen++;
	if (L.dup_pct && rnd() % 100 < L.dup_pct) {
		unsigned char *p;
		int len = nfq_get_payload(nfa, &p);
		if (len > 0)
			duplicate(p, len);
	}
	uint64_t now = now_ns(), at = now + L.delay;
	if (L.jitter) {
		uint64_t j = rnd() % (2 * L.jitter + 1);
		at = at + j > L.jitter ? at + j - L.jitter : now;
	}
	if (L.reorder_pct && rnd() % 100 < L.reorder_pct) {
		at += L.reorder_gap; /* the ones after it overtake it */
		L.reordered++;
	} else if (!L.reorder_pct && at < L.last_at[q]) {
		at = L.last_at[q]; /* jitter alone keeps the order */
	}
	if (!L.reorder_pct || at > L.last_at[q])
		L.last_at[q] = at;
	if (L.nheld == MAX_HELD || (at <= now && L.nheld == 0)) {
		if (L.nheld == MAX_HELD)
			L.overflow++;
		accept_now(q, id);
		return 0;
	}
	heap_push((struct held){ at, id, q });
	return 0;
}

static void
release_due(uint64_t now)
{
	while (L.nheld > 0 && L.heap[0].at <= now) {
		struct held h = heap_pop();
		accept_now(h.q, h.id);
	}
}

static void
usage(FILE *out)
{
	fprintf(out, "usage: fj-linkq --queue N [--queue M] [--delay-us D] [--jitter-us J]\n"
		     "                [--reorder PCT] [--reorder-us G] [--dup PCT] [--seed S]\n");
}

static bool
num(const char *s, unsigned long max, unsigned long *v)
{
	char *end;
	errno = 0;
	*v = strtoul(s, &end, 10);
	return errno == 0 && *s && !*end && *v <= max;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "queue", required_argument, NULL, 'q' },    { "delay-us", required_argument, NULL, 'd' },
		{ "jitter-us", required_argument, NULL, 'j' }, { "reorder", required_argument, NULL, 'r' },
		{ "reorder-us", required_argument, NULL, 'g' }, { "dup", required_argument, NULL, 'u' },
		{ "seed", required_argument, NULL, 's' },      { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long queues[MAX_QUEUES], v;
	int nq = 0, c;

	L.rng = 0x9e3779b97f4a7c15ull;
	L.reorder_gap = 2000000;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		bool ok = true;
		switch (c) {
		case 'q':
			ok = nq < MAX_QUEUES && num(optarg, 65535, &queues[nq]);
			nq++;
			break;
		case 'd':
			ok = num(optarg, 10000000, &v), L.delay = v * 1000;
			break;
		case 'j':
			ok = num(optarg, 10000000, &v), L.jitter = v * 1000;
			break;
		case 'r':
			ok = num(optarg, 100, &v), L.reorder_pct = (unsigned)v;
			break;
		case 'g':
			ok = num(optarg, 10000000, &v), L.reorder_gap = v * 1000;
			break;
		case 'u':
			ok = num(optarg, 100, &v), L.dup_pct = (unsigned)v;
			break;
		case 's':
			ok = num(optarg, ULONG_MAX, &v), L.rng = v ? v : 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			ok = false;
		}
		if (!ok) {
			fprintf(stderr, "fj-linkq: bad option or value\n");
			usage(stderr);
			return 2;
		}
	}
	if (nq == 0 || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (L.dup_pct) {
		/* The copies carry mark 0x4c51 ("LQ"): rules that queue to us
		 * skip them (-m mark ! --mark 0x4c51), or they would be
		 * duplicated again. */
		int mark = 0x4c51;
		L.raw = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
		if (L.raw < 0 || setsockopt(L.raw, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0) {
			fprintf(stderr, "fj-linkq: raw socket: %s\n", strerror(errno));
			return 1;
		}
	}
	struct nfq_handle *nh = nfq_open();
	if (nh == NULL) {
		fprintf(stderr, "fj-linkq: nfq_open: %s\n", strerror(errno));
		return 1;
	}
	for (int i = 0; i < nq; i++) {
		L.qh[i] = nfq_create_queue(nh, (uint16_t)queues[i], on_packet, (void *)(intptr_t)i);
		if (L.qh[i] == NULL ||
		    nfq_set_mode(L.qh[i], L.dup_pct ? NFQNL_COPY_PACKET : NFQNL_COPY_META, 0xffff) < 0) {
			fprintf(stderr, "fj-linkq: queue %lu: %s\n", queues[i], strerror(errno));
			return 1;
		}
		nfq_set_queue_maxlen(L.qh[i], MAX_HELD);
		/* A full queue lets packets through rather than dropping them. */
		nfq_set_queue_flags(L.qh[i], NFQA_CFG_F_FAIL_OPEN, NFQA_CFG_F_FAIL_OPEN);
		L.nq++;
	}
	int fd = nfq_fd(nh);
	int big = 8 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	printf("fj-linkq: ready, %d queue(s), delay %lu us, jitter %lu us, reorder %u%%, dup %u%%\n",
	       nq, (unsigned long)(L.delay / 1000), (unsigned long)(L.jitter / 1000), L.reorder_pct,
	       L.dup_pct);
	fflush(stdout);

	static char buf[0x20000];
	while (!stop) {
		uint64_t now = now_ns();
		release_due(now);
		struct timespec ts = { 0, 100000000 };
		if (L.nheld > 0) {
			uint64_t wait = L.heap[0].at > now ? L.heap[0].at - now : 0;
			ts = (struct timespec){ (time_t)(wait / 1000000000u), (long)(wait % 1000000000u) };
		}
		struct pollfd p = { fd, POLLIN, 0 };
		int n = ppoll(&p, 1, &ts, NULL);
		if (n < 0 && errno != EINTR)
			break;
		if (n > 0) {
			/* Everything waiting, without blocking. */
			for (;;) {
				ssize_t r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
				if (r <= 0) {
					if (r < 0 && errno == ENOBUFS)
						continue; /* the kernel dropped some: fail-open */
					break;
				}
				nfq_handle_packet(nh, buf, (int)r);
			}
		}
	}
	while (L.nheld > 0) {
		struct held h = heap_pop();
		accept_now(h.q, h.id);
	}
	printf("fj-linkq: seen %lu reordered %lu duplicated %lu overflow %lu max_held %lu\n",
	       (unsigned long)L.seen, (unsigned long)L.reordered, (unsigned long)L.duplicated,
	       (unsigned long)L.overflow, (unsigned long)L.max_held);
	for (int i = 0; i < L.nq; i++)
		nfq_destroy_queue(L.qh[i]);
	nfq_close(nh);
	return 0;
}
