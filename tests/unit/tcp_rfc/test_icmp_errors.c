/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ICMP errors about our own datagrams against the scripted peer: hard
 * errors end a connection in SYN-SENT (RFC 1122 §4.2.3.9), soft ones are
 * kept and told if the connection times out, errors quoting a segment not
 * in flight are ignored (RFC 5927 §4.1), "fragmentation needed" lowers
 * the segment size and sends again (RFC 1191), and a UDP endpoint hears
 * of its datagrams' errors (RFC 1122 §4.1.3.3).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scripted.h"

#define UNREACH FJ_ICMP_DEST_UNREACH

static uint64_t
counter(struct fixture *fx, const char *name)
{
	return fj_stack_counter(fx->stack, name);
}

/* ------------------------------------------------------ SYN-SENT */

/* RFC 1122 §4.2.3.9: port unreachable quoting our SYN: the connect fails
 * at once with ECONNREFUSED, not after the SYN's retries. */
static void
test_port_unreachable_refuses_a_connect_at_once(void **state)
{
	struct fixture *fx = *state;
	connect_syn(fx, client_cb);
	struct fj_flow *c = fx->client.flow;
	peer_icmp_error(fx, PEER_IP, UNREACH, FJ_ICMP_PORT_UNREACH, 0, last_frame(fx));
	assert_int_equal(fx->client.events, 1);
	assert_int_equal(fx->client.last, FJ_ERROR);
	assert_int_equal(fj_flow_error(c), -ECONNREFUSED);
	assert_int_equal(counter(fx, "tcp_icmp_aborts"), 1);
	assert_int_equal(counter(fx, "icmp_errors_rx"), 1);
	fj_flow_close(c);
	assert_int_equal(counter(fx, "tcp_flows"), 0);
	advance(fx, 10 * SEC);
	expect_nothing(fx); /* no SYN again */
}

/* The other hard codes, each with its own errno; from a router too. */
static void
test_hard_codes_end_a_connect_each_with_its_error(void **state)
{
	struct fixture *fx = *state;
	static const struct {
		uint8_t code;
		int err;
	} hard[] = {
		{ FJ_ICMP_PROTO_UNREACH, -ENOPROTOOPT }, { FJ_ICMP_NET_UNKNOWN, -ENETUNREACH },
		{ FJ_ICMP_HOST_UNKNOWN, -EHOSTDOWN },    { FJ_ICMP_NET_PROHIBITED, -EACCES },
		{ FJ_ICMP_HOST_PROHIBITED, -EACCES },    { FJ_ICMP_ADMIN_PROHIBITED, -EACCES },
	};
	for (unsigned i = 0; i < sizeof(hard) / sizeof(hard[0]); i++) {
		fx->client.events = 0;
		connect_syn(fx, client_cb);
		struct fj_flow *c = fx->client.flow;
		peer_icmp_error(fx, GW_IP, UNREACH, hard[i].code, 0, last_frame(fx));
		assert_int_equal(fx->client.events, 1);
		assert_int_equal(fj_flow_error(c), hard[i].err);
		fj_flow_close(c);
		assert_int_equal(counter(fx, "tcp_flows"), 0);
	}
	assert_int_equal(counter(fx, "tcp_icmp_aborts"), 6);
}

/* RFC 5927 §4.1: an error quoting a sequence number that is not our
 * SYN's, or another port pair, or a datagram not from us, is ignored
 * (counted); the connect goes on. */
static void
test_error_not_quoting_our_syn_is_ignored(void **state)
{
	struct fixture *fx = *state;
	struct fj_tcp_hdr syn = connect_syn(fx, client_cb);
	uint8_t q[2048];
	memcpy(q, last_frame(fx), sizeof(q));
	uint8_t *tcp = q + 14 + 20;
	tcp[7] ^= 1; /* the sequence number */
	peer_icmp_error(fx, PEER_IP, UNREACH, FJ_ICMP_PORT_UNREACH, 0, q);
	tcp[7] ^= 1;
	tcp[1] ^= 1; /* our port */
	peer_icmp_error(fx, PEER_IP, UNREACH, FJ_ICMP_PORT_UNREACH, 0, q);
	tcp[1] ^= 1;
	q[14 + 15] ^= 1; /* the quoted source address */
	peer_icmp_error(fx, PEER_IP, UNREACH, FJ_ICMP_PORT_UNREACH, 0, q);
	q[14 + 15] ^= 1;
	assert_int_equal(fx->client.events, 0);
	assert_int_equal(counter(fx, "drop_icmp_error_ignored"), 3);
	assert_int_equal(counter(fx, "icmp_errors_rx"), 0);
	/* Source quench is ignored however good its quote (RFC 6633). */
	peer_icmp_error(fx, PEER_IP, FJ_ICMP_SOURCE_QUENCH, 0, 0, q);
	assert_int_equal(counter(fx, "drop_icmp_error_ignored"), 4);
	expect_nothing(fx);
	advance(fx, SEC + MS);
	uint16_t p;
	assert_int_equal(expect_syn(fx, &p).seq, syn.seq);
	assert_int_equal(p, fx->cport);
	from80(fx, 9000, syn.seq + 1, SYN | ACK, 1000, NULL, NULL);
	expect_to80(fx, ACK, syn.seq + 1, 9001, 0);
	assert_int_equal(fx->client.last, FJ_AGAIN);
}

/* RFC 1122 §4.2.3.9, RFC 5461 §4: host unreachable and time exceeded are
 * soft: the SYN goes on being retried, and when the attempt times out it
 * fails with the error seen rather than ETIMEDOUT. */
static void
test_soft_error_in_syn_sent_is_told_at_the_timeout(void **state)
{
	struct fixture *fx = *state;
	connect_syn(fx, client_cb);
	struct fj_flow *c = fx->client.flow;
	peer_icmp_error(fx, GW_IP, FJ_ICMP_TIME_EXCEEDED, 0, 0, last_frame(fx));
	peer_icmp_error(fx, GW_IP, UNREACH, FJ_ICMP_HOST_UNREACH, 0, last_frame(fx));
	assert_int_equal(fx->client.events, 0);
	assert_int_equal(counter(fx, "icmp_errors_rx"), 2);
	uint64_t wait = SEC;
	for (int i = 0; i < 6; i++) {
		advance(fx, wait + 1000);
		expect_syn(fx, NULL);
		wait *= 2;
	}
	advance(fx, wait + 1000);
	assert_int_equal(fx->client.last, FJ_ERROR);
	assert_int_equal(fj_flow_error(c), -EHOSTUNREACH);
	fj_flow_close(c);
	assert_int_equal(counter(fx, "tcp_icmp_aborts"), 0);
}

/* ------------------------------------------------------ synchronized states */

/* RFC 1122 §4.2.3.9, RFC 5461 §4: in ESTABLISHED even port unreachable
 * is soft: the flow goes on, the peer's ACK is taken. After twelve
 * retransmissions the give-up names the soft error. (Round trips of
 * 10 ms: the RTO starts from its 200 ms floor.) */
static void
test_errors_on_an_established_flow_are_soft(void **state)
{
	struct fixture *fx = *state;
	fx->hs_rtt = 10 * MS;
	fx->wr.total = 100;
	fx->wr.chunk = 100;
	uint32_t iss1 = hs(fx, 20, 65535, true);
	expect_data(fx, iss1, fx->peer_iss + 1, 100, 0);
	peer_icmp_error(fx, PEER_IP, UNREACH, FJ_ICMP_PORT_UNREACH, 0, last_frame(fx));
	advance(fx, 10 * MS);
	assert_int_equal(counter(fx, "icmp_errors_rx"), 1);
	assert_int_equal(counter(fx, "tcp_flows"), 1);
	expect_nothing(fx);
	/* Acknowledged data clears it: the next loss times out as ETIMEDOUT
	 * unless another error comes; this one does. */
	peer_tcp(fx, 20, fx->peer_iss + 1, iss1 + 100, ACK, 65535, NULL, NULL);
	assert_int_equal(fx->wr.err, 0);
	fx->wr.total = 200;
	struct fj_buf *b = fj_buf_alloc(fx->stack, 100);
	memset(fj_buf_data(b), 'x', 100);
	assert_int_equal(fj_flow_write(fx->wr.flow, b), 0);
	fj_stack_poll(fx->stack);
	struct seg d = next_seg(fx);
	assert_int_equal(d.h.seq, iss1 + 100);
	peer_icmp_error(fx, GW_IP, UNREACH, FJ_ICMP_NET_UNREACH, 0, last_frame(fx));
	uint64_t wait = 200 * MS;
	for (int i = 0; i < 12; i++) {
		advance_fresh(fx, wait + MS);
		d = next_seg(fx);
		assert_int_equal(d.h.seq, iss1 + 100);
		wait = wait * 2 > 60 * SEC ? 60 * SEC : wait * 2;
	}
	advance_fresh(fx, wait + MS);
	struct seg r = next_seg(fx);
	assert_int_equal(r.h.flags & ~ACK, RST);
	assert_int_equal(fx->wr.err, -ENETUNREACH);
	assert_int_equal(counter(fx, "tcp_flows"), 0);
}

/* RFC 5927 §4.1: an error quoting data already acknowledged is old (or
 * forged): ignored. */
static void
test_error_quoting_acknowledged_data_is_ignored(void **state)
{
	struct fixture *fx = *state;
	fx->wr.total = 100;
	fx->wr.chunk = 100;
	uint32_t iss1 = hs(fx, 20, 65535, true);
	expect_data(fx, iss1, fx->peer_iss + 1, 100, 0);
	uint8_t q[2048];
	memcpy(q, last_frame(fx), sizeof(q));
	peer_tcp(fx, 20, fx->peer_iss + 1, iss1 + 100, ACK, 65535, NULL, NULL);
	peer_icmp_error(fx, PEER_IP, UNREACH, FJ_ICMP_FRAG_NEEDED, 576, q);
	assert_int_equal(counter(fx, "drop_icmp_error_ignored"), 1);
	assert_int_equal(counter(fx, "tcp_pmtu_updates"), 0);
	expect_nothing(fx);
}

/* ------------------------------------------------------ path MTU */

/* RFC 1191 §6.3: "fragmentation needed" with the next hop's MTU 800: the
 * segments in flight go again at once cut to 800 - 40 bytes; the window
 * is not shrunk (no congestion) and the new size stays. */
static void
test_frag_needed_lowers_the_segment_size_and_sends_again(void **state)
{
	struct fixture *fx = *state;
	fx->wr.total = 3000;
	fx->wr.chunk = 1000;
	uint32_t iss1 = hs(fx, 20, 65535, true);
	expect_data(fx, iss1, fx->peer_iss + 1, 1000, 0);
	const uint8_t *first = last_frame(fx);
	expect_data(fx, iss1 + 1000, fx->peer_iss + 1, 1000, 1000);
	expect_data(fx, iss1 + 2000, fx->peer_iss + 1, 1000, 2000);
	expect_nothing(fx);
	peer_icmp_error(fx, GW_IP, UNREACH, FJ_ICMP_FRAG_NEEDED, 800, first);
	assert_int_equal(counter(fx, "tcp_pmtu_updates"), 1);
	expect_data(fx, iss1, fx->peer_iss + 1, 760, 0);
	expect_data(fx, iss1 + 760, fx->peer_iss + 1, 760, 760);
	expect_data(fx, iss1 + 1520, fx->peer_iss + 1, 760, 1520);
	expect_data(fx, iss1 + 2280, fx->peer_iss + 1, 720, 2280);
	expect_nothing(fx);
	/* The same error again (about another of the big segments) changes
	 * nothing: the size only goes down. A larger MTU neither. */
	const uint8_t *later = fx->out[fx->seen - 5].b;
	peer_icmp_error(fx, GW_IP, UNREACH, FJ_ICMP_FRAG_NEEDED, 800, later);
	peer_icmp_error(fx, GW_IP, UNREACH, FJ_ICMP_FRAG_NEEDED, 1400, later);
	expect_nothing(fx);
	assert_int_equal(counter(fx, "tcp_pmtu_updates"), 1);
	peer_tcp(fx, 20, fx->peer_iss + 1, iss1 + 3000, ACK, 65535, NULL, NULL);
	assert_int_equal(counter(fx, "tcp_retransmits"), 0);
	/* New data at the new size. */
	struct fj_buf *b = fj_buf_alloc(fx->stack, 1000);
	memset(fj_buf_data(b), 'y', 1000);
	assert_int_equal(fj_flow_write(fx->wr.flow, b), 0);
	fj_stack_poll(fx->stack);
	struct seg d = next_seg(fx);
	assert_int_equal(d.h.seq, iss1 + 3000);
	assert_int_equal(d.plen, 760);
	d = next_seg(fx);
	assert_int_equal(d.plen, 240);
}

/* RFC 1191 §5: a router that does not say its MTU (0): the plateau below
 * the quoted datagram's length (1040 -> 1006); RFC 5927 §7.2: an MTU
 * below 552 is taken as 552. */
static void
test_frag_needed_without_mtu_takes_a_plateau_and_tiny_ones_a_floor(void **state)
{
	struct fixture *fx = *state;
	fx->wr.total = 1000;
	fx->wr.chunk = 1000;
	uint32_t iss1 = hs(fx, 20, 65535, true);
	expect_data(fx, iss1, fx->peer_iss + 1, 1000, 0);
	peer_icmp_error(fx, GW_IP, UNREACH, FJ_ICMP_FRAG_NEEDED, 0, last_frame(fx));
	expect_data(fx, iss1, fx->peer_iss + 1, 1006 - 40, 0);
	expect_data(fx, iss1 + 966, fx->peer_iss + 1, 34, 966);
	peer_icmp_error(fx, GW_IP, UNREACH, FJ_ICMP_FRAG_NEEDED, 68, last_frame(fx));
	expect_data(fx, iss1, fx->peer_iss + 1, 552 - 40, 0);
	expect_data(fx, iss1 + 512, fx->peer_iss + 1, 488, 512);
	expect_nothing(fx);
	assert_int_equal(counter(fx, "tcp_pmtu_updates"), 2);
}

/* With timestamps the options' 12 bytes come off too: MSS 1000 from the
 * peer, 988 bytes of data a segment; MTU 700, 648. */
static void
test_frag_needed_leaves_room_for_timestamps(void **state)
{
	struct fixture *fx = *state;
	fx->wr.total = 2000;
	fx->wr.chunk = 1000;
	uint32_t i2 = hs_ts(fx, 20, false);
	struct seg d = next_seg(fx);
	assert_int_equal(d.h.seq, i2);
	assert_int_equal(d.plen, 988);
	const uint8_t *first = last_frame(fx);
	/* (the two writes went together: full segments, then the rest) */
	assert_int_equal(next_seg(fx).plen, 988);
	assert_int_equal(next_seg(fx).plen, 24);
	expect_nothing(fx);
	peer_icmp_error(fx, GW_IP, UNREACH, FJ_ICMP_FRAG_NEEDED, 700, first);
	uint32_t sent = 0;
	while (sent < 2000) {
		d = next_seg(fx);
		assert_int_equal(d.h.seq, i2 + sent);
		assert_true(d.h.o.has_ts);
		assert_int_equal(d.plen, sent + 648 <= 2000 ? 648 : 2000 - sent);
		sent += d.plen;
	}
	expect_nothing(fx);
}

/* ------------------------------------------------------ UDP */

static void
sink(struct fj_udp *u, struct fj_buf *b, const struct fj_addr *from, void *arg)
{
	(void)u, (void)from, (void)arg;
	fj_buf_free(b);
}

/* RFC 1122 §4.1.3.3: the endpoint a datagram came from is told of the
 * ICMP error about it, once, with whom it was for. */
static void
test_udp_endpoint_hears_of_its_datagrams_errors(void **state)
{
	struct fixture *fx = *state;
	struct fj_udp *u = fj_udp_bind(fx->stack, 5000, sink, NULL);
	assert_non_null(u);
	assert_int_equal(fj_udp_error(u, NULL), 0);
	struct fj_buf *b = fj_buf_alloc(fx->stack, 4);
	memcpy(fj_buf_data(b), "ping", 4);
	struct fj_addr to = { .ip = PEER_IP, .port = 53 };
	assert_int_equal(fj_udp_send(u, b, &to), 0);
	fj_stack_poll(fx->stack);
	expect_next_ipv4(fx, &PEER, FJ_IP_PROTO_UDP);
	const uint8_t *dgram = last_frame(fx);
	peer_icmp_error(fx, PEER_IP, UNREACH, FJ_ICMP_PORT_UNREACH, 0, dgram);
	struct fj_addr who = { .ip = 0, .port = 0 };
	assert_int_equal(fj_udp_error(u, &who), -ECONNREFUSED);
	assert_int_equal(who.ip, PEER_IP);
	assert_int_equal(who.port, 53);
	assert_int_equal(fj_udp_error(u, &who), 0);
	peer_icmp_error(fx, GW_IP, UNREACH, FJ_ICMP_FRAG_NEEDED, 576, dgram);
	assert_int_equal(fj_udp_error(u, NULL), -EMSGSIZE);
	assert_int_equal(counter(fx, "udp_icmp_errors"), 2);
	/* Nobody on the quoted port: ignored. */
	fj_udp_close(u);
	peer_icmp_error(fx, PEER_IP, UNREACH, FJ_ICMP_PORT_UNREACH, 0, dgram);
	assert_int_equal(counter(fx, "udp_icmp_errors"), 2);
	assert_int_equal(counter(fx, "drop_icmp_error_ignored"), 1);
}

/* A truncated quote (less than an IP header and 8 bytes) is a counted
 * malformed message, not a read past its end. */
static void
test_short_quote_is_a_counted_drop(void **state)
{
	struct fixture *fx = *state;
	uint8_t f[60] = { 0 };
	uint8_t *icmp = f + 14 + 20;
	fj_eth_build(f, &US, &PEER, FJ_ETH_P_IPV4);
	icmp[0] = UNREACH, icmp[1] = FJ_ICMP_PORT_UNREACH;
	icmp[8] = 0x45; /* a quote of 12 bytes only */
	uint16_t c = fj_csum_fold(fj_csum_add(0, icmp, 20));
	icmp[2] = (uint8_t)(c >> 8), icmp[3] = (uint8_t)c;
	fj_ipv4_build(f + 14, PEER_IP, US_IP, FJ_IP_PROTO_ICMP, 20, 9, 64, false);
	fj_stack_input(fx->stack, f, sizeof(f));
	assert_int_equal(counter(fx, "drop_icmp_quote"), 1);
	assert_int_equal(counter(fx, "icmp_errors_rx"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TCP_CASE(test_port_unreachable_refuses_a_connect_at_once),
		TCP_CASE(test_hard_codes_end_a_connect_each_with_its_error),
		TCP_CASE(test_error_not_quoting_our_syn_is_ignored),
		TCP_CASE(test_soft_error_in_syn_sent_is_told_at_the_timeout),
		TCP_CASE(test_errors_on_an_established_flow_are_soft),
		TCP_CASE(test_error_quoting_acknowledged_data_is_ignored),
		TCP_CASE(test_frag_needed_lowers_the_segment_size_and_sends_again),
		TCP_CASE(test_frag_needed_without_mtu_takes_a_plateau_and_tiny_ones_a_floor),
		TCP_CASE(test_frag_needed_leaves_room_for_timestamps),
		TCP_CASE(test_udp_endpoint_hears_of_its_datagrams_errors),
		TCP_CASE(test_short_quote_is_a_counted_drop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
