/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP state changes (RFC 9293 §3.3.2): each one is counted
 * (tcp_state_changes) and traced at DEBUG on fjord.stack.tcp.state as
 * "flow local -> remote FROM -> TO", against the scripted peer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <rte_log.h>

#include "scripted.h"

/* The scripted fixture and the log stream the state changes go to. */
struct trace_fixture {
	struct fixture *fx;
	FILE *trace;
	char *buf;
	size_t len;
};

/* The state log at @level into a buffer, the rest of the log as it was. */
static struct fixture *
trace_start(void **state, uint32_t level)
{
	struct trace_fixture *t = *state;

	t->trace = open_memstream(&t->buf, &t->len);
	assert_non_null(t->trace);
	assert_int_equal(rte_openlog_stream(t->trace), 0);
	assert_int_equal(rte_log_set_level_pattern("fjord.stack.tcp.state", level), 0);
	return t->fx;
}

/* What was traced, as one string (freed at teardown). */
static const char *
traced(void **state)
{
	struct trace_fixture *t = *state;

	fflush(t->trace);
	return t->buf;
}

/* The next emitted frame is a TCP segment with @flags (byte 13 of the
 * header, behind Ethernet and a 20-byte IPv4 header). */
static void
expect_flags(struct fixture *fx, uint8_t flags)
{
	uint32_t len;
	const uint8_t *f = next_frame(fx, &len);

	assert_true(len >= 14 + 20 + 20);
	assert_int_equal(f[23], FJ_IP_PROTO_TCP);
	assert_int_equal(f[14 + 20 + 13], flags);
}

static int
state_setup(void **state)
{
	struct trace_fixture *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	tcp_setup(state);
	t->fx = *state;
	*state = t;
	return 0;
}

static int
state_teardown(void **state)
{
	struct trace_fixture *t = *state;

	*state = t->fx;
	teardown(state);
	rte_openlog_stream(NULL);
	rte_log_set_level_pattern("fjord.stack.tcp.state", RTE_LOG_NOTICE);
	if (t->trace != NULL)
		fclose(t->trace);
	free(t->buf);
	free(t);
	return 0;
}

/* A passive open and the peer's close: CLOSED, SYN-RECEIVED, ESTABLISHED,
 * CLOSE-WAIT, LAST-ACK (the echo closes on end-of-file), CLOSED. */
static void
test_passive_open_and_close_are_counted_and_traced(void **state)
{
	struct fixture *fx = trace_start(state, RTE_LOG_DEBUG);
	struct fj_stack *S = fx->stack;
	uint32_t iss1 = open_flow(fx, 7, 65535, false);
	assert_int_equal(fj_stack_counter(S, "tcp_state_changes"), 2);
	peer_tcp(fx, 7, fx->peer_iss + 1, iss1, FIN | ACK, 65535, NULL, NULL);
	expect_tcp(fx, ACK, NULL, NULL);
	struct fj_tcp_hdr fin = expect_tcp(fx, FIN | ACK, NULL, NULL);
	assert_int_equal(fj_stack_counter(S, "tcp_state_changes"), 4);
	peer_tcp(fx, 7, fx->peer_iss + 2, fin.seq + 1, ACK, 65535, NULL, NULL);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(S, "tcp_state_changes"), 5);
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 0);
	const char *t = traced(state);
	assert_non_null(t);
	assert_non_null(strstr(t, "flow 10.0.0.2:7 -> 10.0.0.1:40000 CLOSED -> SYN-RECEIVED\n"
				  "flow 10.0.0.2:7 -> 10.0.0.1:40000 SYN-RECEIVED -> ESTABLISHED\n"
				  "flow 10.0.0.2:7 -> 10.0.0.1:40000 ESTABLISHED -> CLOSE-WAIT\n"
				  "flow 10.0.0.2:7 -> 10.0.0.1:40000 CLOSE-WAIT -> LAST-ACK\n"
				  "flow 10.0.0.2:7 -> 10.0.0.1:40000 LAST-ACK -> CLOSED\n"));
}

/* An active open and an abort: CLOSED, SYN-SENT, ESTABLISHED, CLOSED. */
static void
test_active_open_and_abort_are_counted_and_traced(void **state)
{
	char line[128];

	struct fixture *fx = trace_start(state, RTE_LOG_DEBUG);
	struct fj_stack *S = fx->stack;
	struct fj_tcp_hdr syn = connect_syn(fx, client_cb); /* the SYN goes out */
	struct fj_flow *f = fx->client.flow;
	uint16_t sport = fx->cport;
	assert_int_equal(fj_stack_counter(S, "tcp_state_changes"), 1);
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1000 };
	from80(fx, 9000, syn.seq + 1, SYN | ACK, 1000, &o, NULL);
	expect_flags(fx, ACK);
	assert_int_equal(fj_stack_counter(S, "tcp_state_changes"), 2);
	fj_flow_abort(f);
	fj_stack_poll(S); /* the RST goes out */
	expect_flags(fx, FJ_TCP_RST | ACK);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(S, "tcp_state_changes"), 3);
	snprintf(line, sizeof(line), "flow 10.0.0.2:%u -> 10.0.0.1:80 SYN-SENT -> ESTABLISHED\n",
		 sport);
	const char *t = traced(state);
	assert_non_null(t);
	assert_non_null(strstr(t, line));
	snprintf(line, sizeof(line), "flow 10.0.0.2:%u -> 10.0.0.1:80 CLOSED -> SYN-SENT\n", sport);
	assert_non_null(strstr(t, line));
	snprintf(line, sizeof(line), "flow 10.0.0.2:%u -> 10.0.0.1:80 ESTABLISHED -> CLOSED\n",
		 sport);
	assert_non_null(strstr(t, line));
}

/* Below DEBUG nothing is traced; the counter counts all the same. */
static void
test_state_changes_are_quiet_below_debug(void **state)
{
	struct fixture *fx = trace_start(state, RTE_LOG_INFO);
	open_flow(fx, 7, 65535, false);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_state_changes"), 2);
	const char *t = traced(state);
	assert_true(t == NULL || strstr(t, "ESTABLISHED") == NULL);
}

int
main(void)
{
#define R(t) cmocka_unit_test_setup_teardown(t, state_setup, state_teardown)
	const struct CMUnitTest tests[] = {
		R(test_passive_open_and_close_are_counted_and_traced),
		R(test_active_open_and_abort_are_counted_and_traced),
		R(test_state_changes_are_quiet_below_debug),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
