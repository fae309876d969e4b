/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The kernel-sockets backend (`--net socket`): the same flow API over
 * nonblocking kernel sockets and epoll, one epoll per shard (lcore), whose
 * listening and UDP sockets share their ports by SO_REUSEPORT. Packet
 * buffers are still mbufs from the stack's pool, so applications see the
 * same buffers either way. This file: EAL without devices, the backend's
 * set-up and teardown, and its loop; udp.c and tcp.c the endpoints.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>

#include "socket.h"

#define MAX_EVENTS 64

/* EAL options that place threads; kept for the socket backend too. */
static bool
eal_placement_opt(const char *a, bool *has_value)
{
	static const char *const with[] = { "-l", "-c", "--lcores", "--main-lcore", "--log-level" };
	for (size_t i = 0; i < sizeof(with) / sizeof(with[0]); i++) {
		size_t n = strlen(with[i]);
		if (strncmp(a, with[i], n) == 0 && (a[n] == '\0' || a[n] == '=')) {
			*has_value = a[n] == '\0';
			return true;
		}
	}
	return false;
}

static int
sock_eal_init(int eal_argc, char **argv)
{
	/* Kernel sockets need no port or hugepages, only EAL memory for the
	 * packet buffers; where the user placed the thread still holds. EAL
	 * copies what it keeps of the arguments. */
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "--file-prefix=fjsock%d", (int)getpid());
	char *args[64] = { argv[0], "--no-huge", "-m", "512", "--no-pci", "--no-shconf", prefix,
			   "--no-telemetry", "--log-level=lib.eal:error" };
	int n = 9;

	for (int i = 1; i < eal_argc && n < 62; i++) {
		bool val;
		if (eal_placement_opt(argv[i], &val)) {
			args[n++] = argv[i];
			if (val && i + 1 < eal_argc)
				args[n++] = argv[++i];
		}
	}
	args[n] = NULL;
	return rte_eal_init(n, args);
}

static int
sock_open(struct fj_stack *s)
{
	s->sock = calloc(1, sizeof(*s->sock));
	if (s->sock == NULL)
		return -ENOMEM;
	s->sock->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->sock->epfd < 0) {
		int e = errno;
		fprintf(stderr, "fjord: epoll: %s\n", strerror(e));
		free(s->sock);
		s->sock = NULL;
		return -e;
	}
	return 0;
}

void
fj_sock_close_fd(struct fj_stack *s, int fd)
{
	epoll_ctl(s->sock->epfd, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
}

static void
sock_close(struct fj_stack *s)
{
	if (s->sock == NULL)
		return;
	fj_sock_tcp_close_all(s);
	close(s->sock->epfd);
	free(s->sock->udp_spill);
	free(s->sock);
	s->sock = NULL;
}

static unsigned
sock_nflows(const struct fj_stack *s)
{
	return s->sock->nflows;
}

static int
sock_run(struct fj_stack *s)
{
	struct epoll_event ev[MAX_EVENTS];
	uint64_t prev = fj_now(s);

	while (!s->stop) {
		uint64_t now = fj_now(s), next = fj_stack_next_timer(s);
		uint64_t waited_from = now;
		int timeout = 100;

		if (next != UINT64_MAX) {
			uint64_t ms = next > now ? (next - now) * 1000 / s->hz + 1 : 0;
			timeout = (int)RTE_MIN(ms, (uint64_t)100);
		}
		/* Busy polling: never sleep, as the direct backend never does. */
		int n = epoll_wait(s->sock->epfd, ev, MAX_EVENTS, s->busy_poll ? 0 : timeout);
		if (n < 0 && errno != EINTR)
			return -errno;
		uint64_t woke = fj_now(s);
		if (s->g->n > 1)
			fj_shard_poll(s);
		for (int i = 0; i < n; i++) {
			void *p = FJ_EP_PTR(ev[i].data.u64);
			switch (FJ_EP_KIND(ev[i].data.u64)) {
			case FJ_EP_UDP:
				fj_sock_udp_readable(s, p);
				break;
			case FJ_EP_LISTEN:
				fj_sock_accept(s, p);
				break;
			default:
				fj_sock_flow_event(p, ev[i].events);
			}
		}
		now = fj_now(s);
		if (now >= fj_stack_next_timer(s))
			fj_stack_timers(s, now);
		/* Busy: everything but the wait in epoll; when polling, the
		 * turns that found something (as on the direct backend). */
		s->c.loop_cycles += now - prev;
		if (!s->busy_poll)
			s->c.loop_busy_cycles += (waited_from - prev) + (now - woke);
		else if (n > 0)
			s->c.loop_busy_cycles += now - prev;
		prev = now;
	}
	return 0;
}

const struct fj_backend_ops fj_socket_ops = {
	.name = "socket",
	.eal_init = sock_eal_init,
	.open = sock_open,
	.run = sock_run,
	.close = sock_close,
	.nflows = sock_nflows,
	.udp_bind = fj_sock_udp_bind,
	.udp_send = fj_sock_udp_send,
	.udp_close = fj_sock_udp_close,
	.listen = fj_sock_listen,
	.connect = fj_sock_connect,
	.read = fj_sock_read,
	.write = fj_sock_write,
	.close_flow = fj_sock_close_flow,
	.shutdown = fj_sock_shutdown,
	.abort = fj_sock_abort,
	.set_nagle = fj_sock_set_nagle,
	.set_keepalive = fj_sock_set_keepalive,
	.peer = fj_sock_peer,
	.shard_of = fj_sock_shard_of,
};
