/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The scripted peer shared by the whole-stack tests: a stack on the test
 * port (fjord_testport.h) with a clock advanced by hand, frames built for
 * the peer's side, and the stack's frames checked one by one.
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

/* What the stack sent, oldest first. */
struct scripted_frame out[MAXF];
int nout, seen;
bool discard_tx; /* count nothing: a flood's answers */
uint64_t now_us;
struct fj_stack *S;

uint64_t
clock_fn(void *ctx)
{
	(void)ctx;
	return now_us;
}

void
tx_fn(void *ctx, const uint8_t *f, uint32_t len)
{
	(void)ctx;
	if (discard_tx)
		return;
	assert_true(nout < MAXF);
	assert_true(len <= sizeof(out[0].b));
	memcpy(out[nout].b, f, len);
	out[nout].len = len;
	nout++;
}

/* The next frame the stack emitted; fails if there is none. */
const uint8_t *
(next_frame_at)(uint32_t *len, int line)
{
	if (seen >= nout)
		print_error("line %d: no frame from the stack\n", line);
	assert_true(seen < nout);
	*len = out[seen].len;
	return out[seen++].b;
}

void
(expect_nothing_at)(int line)
{
	if (seen != nout)
		print_error("line %d: %d more frame(s) from the stack\n", line, nout - seen);
	assert_int_equal(seen, nout);
}

void
advance(uint64_t us)
{
	now_us += us;
	fj_stack_poll(S);
}

/* ------------------------------------------------------ frames */

uint32_t
mk_arp(uint8_t *f, uint16_t op, const struct fj_mac *dst, const struct fj_mac *sha, uint32_t spa,
       const struct fj_mac *tha, uint32_t tpa)
{
	struct fj_arp a = { op, *sha, spa, *tha, tpa };
	memset(f, 0, 60);
	fj_eth_build(f, dst, sha, FJ_ETH_P_ARP);
	fj_arp_build(f + 14, &a);
	return 60;
}

void
peer_arp_reply(const struct fj_mac *mac, uint32_t ip)
{
	uint8_t f[60];
	fj_stack_input(S, f, mk_arp(f, FJ_ARP_REPLY, &US, mac, ip, &US, US_IP));
}

uint32_t
mk_udp(uint8_t *f, uint32_t src, uint16_t sport, uint16_t dport, const char *payload,
       const struct fj_mac *from)
{
	uint16_t plen = (uint16_t)strlen(payload);
	fj_eth_build(f, &US, from, FJ_ETH_P_IPV4);
	memcpy(f + 14 + 20 + 8, payload, plen);
	fj_udp_build(f + 14 + 20, src, US_IP, sport, dport, plen, false);
	fj_ipv4_build(f + 14, src, US_IP, FJ_IP_PROTO_UDP, (uint16_t)(8 + plen), 1, 64, false);
	uint32_t n = 14 + 20 + 8 + plen;
	if (n < 60) {
		memset(f + n, 0, 60 - n);
		n = 60;
	}
	return n;
}

uint32_t
mk_ping(uint8_t *f, uint32_t src, uint16_t id, uint16_t seq, uint16_t plen)
{
	uint8_t *icmp = f + 14 + 20;
	fj_eth_build(f, &US, &PEER, FJ_ETH_P_IPV4);
	icmp[0] = FJ_ICMP_ECHO_REQUEST, icmp[1] = 0, icmp[2] = icmp[3] = 0;
	icmp[4] = (uint8_t)(id >> 8), icmp[5] = (uint8_t)id;
	icmp[6] = (uint8_t)(seq >> 8), icmp[7] = (uint8_t)seq;
	for (uint16_t i = 0; i < plen; i++)
		icmp[8 + i] = (uint8_t)(i * 3);
	uint16_t c = fj_csum_fold(fj_csum_add(0, icmp, 8u + plen));
	icmp[2] = (uint8_t)(c >> 8), icmp[3] = (uint8_t)c;
	fj_ipv4_build(f + 14, src, US_IP, FJ_IP_PROTO_ICMP, (uint16_t)(8 + plen), 9, 64, false);
	return 14 + 20 + 8 + plen;
}

/* Parse an emitted frame as IPv4; checks every header checksum. */
struct fj_ipv4
expect_ipv4(const uint8_t *f, uint32_t len, const struct fj_mac *dst, uint8_t proto)
{
	struct fj_eth e;
	struct fj_ipv4 ip;
	assert_int_equal(fj_eth_parse(f, len, &e), FJ_OK);
	assert_int_equal(e.type, FJ_ETH_P_IPV4);
	assert_true(fj_mac_eq(&e.dst, dst));
	assert_true(fj_mac_eq(&e.src, &US));
	assert_int_equal(fj_ipv4_parse(f + 14, len - 14, false, &ip), FJ_OK);
	assert_int_equal(ip.src, US_IP);
	assert_int_equal(ip.proto, proto);
	assert_int_equal(ip.ttl, 64);
	return ip;
}

struct fj_arp
expect_arp(const uint8_t *f, uint32_t len, const struct fj_mac *dst, uint16_t op)
{
	struct fj_eth e;
	struct fj_arp a;
	assert_int_equal(fj_eth_parse(f, len, &e), FJ_OK);
	assert_int_equal(e.type, FJ_ETH_P_ARP);
	assert_true(fj_mac_eq(&e.dst, dst));
	assert_int_equal(fj_arp_parse(f + 14, len - 14, &a), FJ_OK);
	assert_int_equal(a.op, op);
	assert_true(fj_mac_eq(&a.sha, &US));
	assert_int_equal(a.spa, US_IP);
	return a;
}

/* ------------------------------------------------------ fixtures */

void
echo(struct fj_udp *u, struct fj_buf *b, const struct fj_addr *from, void *arg)
{
	(void)arg;
	fj_udp_send(u, b, from);
}

int
setup(void **state)
{
	(void)state;
	nout = seen = 0;
	discard_tx = false;
	now_us = 1000 * SEC;
	struct fj_testport_cfg cfg = { .ip = "10.0.0.2/24", .gw = "10.0.0.254", .hz = HZ,
				       .clock = clock_fn, .tx = tx_fn };
	memcpy(cfg.mac, US.b, 6);
	S = fj_stack_testport(&cfg);
	assert_non_null(S);
	assert_non_null(fj_udp_bind(S, 7, echo, NULL));
	return 0;
}

int
teardown(void **state)
{
	(void)state;
	fj_stack_free(S);
	S = NULL;
	return 0;
}

/* The stack starts by announcing itself, then knows PEER. */
void
start_and_learn_peer(void)
{
	uint32_t len;
	const uint8_t *f = next_frame(&len);
	struct fj_arp a = expect_arp(f, len, &BCAST, FJ_ARP_REQUEST);
	assert_int_equal(a.tpa, US_IP); /* gratuitous: asks for itself */
	uint8_t q[60];
	fj_stack_input(S, q, mk_arp(q, FJ_ARP_REQUEST, &BCAST, &PEER, PEER_IP, &BCAST, US_IP));
	f = next_frame(&len);
	a = expect_arp(f, len, &PEER, FJ_ARP_REPLY);
	assert_int_equal(a.tpa, PEER_IP);
	assert_true(fj_mac_eq(&a.tha, &PEER));
}

/* ------------------------------------------------------ TCP */

uint32_t peer_iss = 5000;

/* A segment from PEER:@sport to our @dport, padded to the minimum frame. */
static uint32_t
mk_tcp_from(uint8_t *f, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
	    uint8_t flags, uint16_t wnd, const struct fj_tcp_opts *o, const char *payload)
{
	struct fj_tcp_hdr h = { .sport = sport, .dport = dport, .seq = seq, .ack = ack,
				.flags = flags, .wnd = wnd };
	uint32_t plen = payload ? (uint32_t)strlen(payload) : 0;
	if (o)
		h.o = *o;
	size_t hl = FJ_TCP_HDR_LEN + fj_tcp_opts_len(&h.o);
	fj_eth_build(f, &US, &PEER, FJ_ETH_P_IPV4);
	memcpy(f + 34 + hl, payload ? payload : "", plen);
	fj_tcp_build(f + 34, &h, PEER_IP, US_IP, plen, false);
	fj_ipv4_build(f + 14, PEER_IP, US_IP, FJ_IP_PROTO_TCP, (uint16_t)(hl + plen), 3, 64, false);
	uint32_t n = (uint32_t)(34 + hl + plen);
	if (n < 60) {
		memset(f + n, 0, 60 - n);
		n = 60;
	}
	return n;
}

uint32_t
mk_tcp(uint8_t *f, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd,
       const struct fj_tcp_opts *o, const char *payload)
{
	return mk_tcp_from(f, PPORT, dport, seq, ack, flags, wnd, o, payload);
}

void
peer_tcp(uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd,
	 const struct fj_tcp_opts *o, const char *payload)
{
	uint8_t f[1600];
	fj_stack_input(S, f, mk_tcp(f, dport, seq, ack, flags, wnd, o, payload));
}

/* The next emitted frame as a TCP segment to PEER; its payload length. */
struct fj_tcp_hdr
(expect_tcp_at)(uint8_t flags, uint32_t *plen, const uint8_t **payload, int line)
{
	uint32_t len;
	const uint8_t *f = next_frame_at(&len, line);
	struct fj_ipv4 ip = expect_ipv4(f, len, &PEER, FJ_IP_PROTO_TCP);
	struct fj_tcp_hdr th;
	uint32_t tl = ip.total_len - 20u;
	assert_int_equal(fj_tcp_parse(f + 34, tl, US_IP, PEER_IP, false, &th), FJ_OK);
	if (th.flags != flags)
		print_error("line %d: flags %#x, not %#x\n", line, th.flags, flags);
	assert_int_equal(th.flags, flags);
	assert_int_equal(th.dport, PPORT);
	if (plen)
		*plen = tl - th.hdr_len;
	if (payload)
		*payload = f + 34 + th.hdr_len;
	return th;
}

void
echo_tcp(struct fj_flow *f, void *arg)
{
	struct fj_buf *b;
	(void)arg;
	for (;;) {
		switch (fj_flow_read(f, &b)) {
		case FJ_DATA:
			if (fj_flow_write(f, b) < 0)
				fj_buf_free(b);
			break;
		case FJ_AGAIN:
			return;
		default:
			fj_flow_close(f);
			return;
		}
	}
}

void
close_at_once(struct fj_flow *f, void *arg)
{
	(void)arg;
	fj_flow_close(f);
}

uint32_t half_closed_bytes;
void
half_close(struct fj_flow *f, void *arg)
{
	struct fj_buf *b;
	(void)arg;
	if (fj_flow_user(f) == NULL) {
		assert_int_equal(fj_flow_shutdown(f), 0);
		fj_flow_set_user(f, f);
	}
	while (fj_flow_read(f, &b) == FJ_DATA) {
		half_closed_bytes += fj_buf_pkt_len(b);
		fj_buf_free(b);
	}
}

void
echo_nagle(struct fj_flow *f, void *arg)
{
	fj_flow_set_nagle(f, true);
	echo_tcp(f, arg);
}

int events_seen;
void
never_read(struct fj_flow *f, void *arg)
{
	(void)f;
	(void)arg;
	events_seen++;
}

/* Handshake with the listener on @port; returns our ISS + 1. */
uint32_t
open_flow(uint16_t port, uint16_t peer_wnd, bool ws)
{
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1000, .has_ws = ws, .ws = 2 };
	peer_tcp(port, peer_iss, 0, FJ_TCP_SYN, peer_wnd, &o, NULL);
	struct fj_tcp_hdr sa = expect_tcp(FJ_TCP_SYN | FJ_TCP_ACK, NULL, NULL);
	assert_int_equal(sa.ack, peer_iss + 1);
	peer_tcp(port, peer_iss + 1, sa.seq + 1, FJ_TCP_ACK, peer_wnd, NULL, NULL);
	if (port != 8 && port != 11)
		expect_nothing(); /* these applications close or shut down at once */
	return sa.seq + 1;
}

int
tcp_setup(void **state)
{
	setup(state);
	assert_non_null(fj_listen_tcp(S, 7, echo_tcp, NULL));
	assert_non_null(fj_listen_tcp(S, 8, close_at_once, NULL));
	assert_non_null(fj_listen_tcp(S, 10, never_read, NULL));
	assert_non_null(fj_listen_tcp(S, 11, half_close, NULL));
	assert_non_null(fj_listen_tcp(S, 12, echo_nagle, NULL));
	half_closed_bytes = 0;
	events_seen = 0;
	start_and_learn_peer();
	return 0;
}


/* A client's view: what its callback saw. */
int client_events;
enum fj_read client_last;
struct fj_flow *client;

void
client_cb(struct fj_flow *f, void *arg)
{
	struct fj_buf *b;
	(void)arg;
	client_events++;
	client = f;
	client_last = fj_flow_read(f, &b);
	if (client_last == FJ_DATA)
		fj_buf_free(b);
}

/* The SYN we send for a connect; the port it came from. */
struct fj_tcp_hdr
expect_syn(uint16_t *sport)
{
	uint32_t len;
	const uint8_t *f = next_frame(&len);
	struct fj_ipv4 ip = expect_ipv4(f, len, &PEER, FJ_IP_PROTO_TCP);
	struct fj_tcp_hdr th;
	assert_int_equal(fj_tcp_parse(f + 34, ip.total_len - 20u, US_IP, PEER_IP, false, &th),
			 FJ_OK);
	assert_int_equal(th.flags, FJ_TCP_SYN);
	assert_int_equal(th.ack, 0);
	*sport = th.sport;
	return th;
}

void
peer_to(uint16_t our_port, uint32_t seq, uint32_t ack, uint8_t flags, const struct fj_tcp_opts *o,
	const char *payload)
{
	uint8_t f[1600];
	fj_stack_input(S, f, mk_tcp_from(f, 80, our_port, seq, ack, flags, 1000, o, payload));
}
