/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The kernel-sockets backend on loopback: fj_stack_free closes every
 * endpoint, listener and flow the stack opened, accepted ones included,
 * whatever state they are in (EAL starts once per process: one test);
 * and a UDP endpoint hears of the ICMP error about its datagram.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "fjord.h"

#define PORT 47123

static int accepted, connected;
static struct fj_udp *sender;
static int udp_err;
static struct fj_addr udp_err_to;
static int open_fds(void);

static void
on_accepted(struct fj_flow *f, void *arg)
{
	struct fj_buf *b;

	(void)arg;
	if (fj_flow_user(f) == NULL) {
		fj_flow_set_user(f, f);
		accepted++;
	}
	while (fj_flow_read(f, &b) == FJ_DATA)
		fj_buf_free(b); /* left open on purpose */
}

static void
on_connected(struct fj_flow *f, void *arg)
{
	struct fj_stack *s = arg;

	if (fj_flow_user(f) == NULL) {
		fj_flow_set_user(f, f);
		connected++;
		struct fj_buf *b = fj_buf_alloc(s, 5);
		memcpy(fj_buf_data(b), "hello", 5);
		assert_int_equal(fj_flow_write(f, b), 0);
	}
}

static void
on_datagram(struct fj_udp *u, struct fj_buf *b, const struct fj_addr *from, void *arg)
{
	(void)u;
	(void)from;
	(void)arg;
	fj_buf_free(b);
}

static void
stop_when_up(struct fj_stack *s, void *arg)
{
	int *turns = arg;

	/* A datagram to a closed port: the kernel's ICMP port unreachable
	 * reaches the endpoint (IP_RECVERR). */
	if (*turns % 20 == 0 && udp_err == 0) {
		struct fj_buf *b = fj_buf_alloc(s, 4);
		memcpy(fj_buf_data(b), "ping", 4);
		const struct fj_addr closed = { .ip = 0x7f000001, .port = PORT + 2 };
		assert_int_equal(fj_udp_send(sender, b, &closed), 0);
	}
	if (udp_err == 0)
		udp_err = fj_udp_error(sender, &udp_err_to);
	if ((accepted == 2 && connected == 3 && udp_err != 0) || ++*turns == 200)
		fj_stack_stop(s);
}

static int
open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

static void
test_free_closes_every_listener_flow_and_endpoint(void **state)
{
	(void)state;
	char *args[] = { "test", "-l", "0", "--", "--net", "socket", "--ip", "127.0.0.1/8", NULL };
	int argc = 8;
	char **argv = args;
	struct fj_stack *s = fj_stack_from_args(&argc, &argv);
	assert_non_null(s);
	assert_string_equal(fj_stack_backend(s), "socket");
	/* A kernel listener on [::1]: a connect over IPv6 reaches it. */
	int l6 = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(PORT + 3),
				   .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	assert_true(l6 >= 0);
	assert_int_equal(bind(l6, (struct sockaddr *)&a6, sizeof(a6)), 0);
	assert_int_equal(listen(l6, 4), 0);
	int before = open_fds();

	assert_non_null(fj_listen_tcp(s, PORT, on_accepted, NULL));
	assert_non_null(fj_udp_bind(s, PORT, on_datagram, NULL));
	sender = fj_udp_bind(s, PORT + 1, on_datagram, NULL);
	assert_non_null(sender);
	const struct fj_addr to = { .ip = 0x7f000001, .port = PORT };
	assert_non_null(fj_connect_tcp(s, &to, on_connected, s));
	assert_non_null(fj_connect_tcp(s, &to, on_connected, s));
	struct fj_addr to6 = { .port = PORT + 3, .family = FJ_AF_INET6 };
	memcpy(to6.ip6, &a6.sin6_addr, 16);
	struct fj_flow *c6 = fj_connect_tcp(s, &to6, on_connected, s);
	assert_non_null(c6);
	int turns = 0;
	assert_int_equal(fj_stack_every(s, 0.01, stop_when_up, &turns), 0);
	assert_int_equal(fj_stack_run(s), 0);
	assert_int_equal(accepted, 2);
	assert_int_equal(connected, 3);
	struct fj_addr p6 = fj_flow_peer(c6);
	assert_int_equal(p6.family, FJ_AF_INET6);
	assert_memory_equal(p6.ip6, &a6.sin6_addr, 16);
	assert_int_equal(p6.port, PORT + 3);
	assert_int_equal(udp_err, -ECONNREFUSED);
	assert_int_equal(udp_err_to.ip, 0x7f000001);
	assert_int_equal(udp_err_to.port, PORT + 2);
	assert_int_equal(fj_udp_error(sender, NULL), 0); /* told once */
	assert_int_equal(fj_stack_counter(s, "tcp_flows"), 5);
	/* listener, two endpoints, three connections and two accepted ends */
	assert_int_equal(open_fds(), before + 8);

	fj_stack_free(s);
	/* EAL's own descriptors go with it too: nothing of ours is left. */
	assert_true(open_fds() <= before);
	close(l6);
	free(argv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_free_closes_every_listener_flow_and_endpoint),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
