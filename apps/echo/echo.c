/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fjord-echo: the echo service (RFC 862) on port 7 over fjord's flow API,
 * on fjord's stack on a DPDK port (--net direct) or on kernel sockets
 * (--net socket). Every datagram goes back to its sender as it came, the
 * same buffer, no copy.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fjord.h"

static struct fj_stack *stack;
static unsigned long stats_period = 1;

static void
usage(const char *prog)
{
	printf("usage: %s [EAL arguments] -- [stack arguments] [--echo-port N] [--stats SECONDS]\n"
	       "\n"
	       "An echo server (RFC 862) on UDP and TCP port 7 (or --echo-port), and a\n"
	       "discard server (RFC 863) on TCP port 9.\n"
	       "  --stats SECONDS       print a line of counters this often (0: never; default 1)\n"
	       "\n"
	       "e.g.  %s -l 0 --vdev net_tap0,iface=fj0 -- --ip 10.77.0.2/24\n"
	       "      %s -- --net socket\n\n",
	       prog, prog, prog);
	fj_stack_usage(stdout);
}

static void
on_signal(int sig)
{
	(void)sig;
	if (stack != NULL)
		fj_stack_stop(stack);
}

static void
echo_udp(struct fj_udp *u, struct fj_buf *b, const struct fj_addr *from, void *arg)
{
	(void)arg;
	fj_udp_send(u, b, from);
}

/* RFC 862 over TCP: what is read is written back, the same buffers. A
 * buffer the send queue could not take waits in the flow's user pointer
 * until the callback runs again with room. */
static void
echo_tcp(struct fj_flow *f, void *arg)
{
	struct fj_buf *b = fj_flow_user(f);
	int rc;

	(void)arg;
	if (b != NULL) {
		if (fj_flow_write(f, b) == -EAGAIN)
			return;
		fj_flow_set_user(f, NULL);
	}
	for (;;) {
		switch (fj_flow_read(f, &b)) {
		case FJ_DATA:
			rc = fj_flow_write(f, b);
			if (rc == -EAGAIN) {
				fj_flow_set_user(f, b);
				return;
			}
			if (rc < 0) {
				fj_flow_close(f);
				return;
			}
			break;
		case FJ_AGAIN:
			return;
		default: /* FJ_EOF, FJ_ERROR */
			fj_flow_close(f);
			return;
		}
	}
}

/* RFC 863 over TCP: what is read is dropped (fjord-bench's bulk mode). */
static void
discard_tcp(struct fj_flow *f, void *arg)
{
	struct fj_buf *b;
	enum fj_read r;

	(void)arg;
	while ((r = fj_flow_read(f, &b)) == FJ_DATA)
		fj_buf_free(b);
	if (r != FJ_AGAIN)
		fj_flow_close(f);
}

static void
print_stats(struct fj_stack *s, void *arg)
{
	char line[256];

	(void)arg;
	fj_stack_stats_line(s, line, sizeof(line));
	printf("fjord-echo: %s\n", line);
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	unsigned long port = 7;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(argv[0]);
			return 0;
		}
	stack = fj_stack_from_args(&argc, &argv);
	if (stack == NULL)
		return 1;
	for (int i = 1; i < argc; i++) {
		char *end;
		unsigned long *dst = NULL, max = 0;
		if (strcmp(argv[i], "--echo-port") == 0)
			dst = &port, max = 65535;
		else if (strcmp(argv[i], "--stats") == 0)
			dst = &stats_period, max = 86400;
		if (dst == NULL || i + 1 >= argc) {
			fprintf(stderr, "fjord-echo: unknown or incomplete argument '%s' (see --help)\n",
				argv[i]);
			fj_stack_free(stack);
			return 1;
		}
		*dst = strtoul(argv[++i], &end, 10);
		if (*end || *dst > max || (dst == &port && *dst == 0)) {
			fprintf(stderr, "fjord-echo: bad value '%s' for %s\n", argv[i], argv[i - 1]);
			fj_stack_free(stack);
			return 1;
		}
	}
	if (fj_udp_bind(stack, (uint16_t)port, echo_udp, NULL) == NULL) {
		perror("fjord-echo: cannot bind the UDP port");
		fj_stack_free(stack);
		return 1;
	}
	if (fj_listen_tcp(stack, (uint16_t)port, echo_tcp, NULL) == NULL) {
		perror("fjord-echo: cannot listen on the TCP port");
		fj_stack_free(stack);
		return 1;
	}
	if (fj_listen_tcp(stack, 9, discard_tcp, NULL) == NULL && port != 9) {
		perror("fjord-echo: cannot listen on the discard port");
		fj_stack_free(stack);
		return 1;
	}
	if (stats_period > 0)
		fj_stack_every(stack, (double)stats_period, print_stats, NULL);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("fjord-echo: serving UDP port %lu and TCP port %lu over %s\n", port, port,
	       fj_stack_backend(stack));
	fflush(stdout);

	int rc = fj_stack_run(stack);
	/* Stopped: a later signal has nothing to stop (the stack is freed below). */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	printf("fjord-echo: stopped; final counters:\n");
	fj_stack_stats_dump(stack, stdout);
	fflush(stdout);
	free(argv);
	fj_stack_free(stack);
	return rc < 0 ? 1 : 0;
}
