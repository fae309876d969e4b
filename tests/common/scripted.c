/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The scripted peer's fixture: a stack on the test port (fjord_testport.h)
 * whose clock and transmit callbacks reach the fixture through their ctx,
 * frames built for the peer's side below TCP, and the stack's frames
 * checked one by one.
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

uint64_t
clock_fn(void *ctx)
{
	const struct fixture *fx = ctx;
	return fx->now_us;
}

void
tx_fn(void *ctx, const uint8_t *f, uint32_t len)
{
	struct fixture *fx = ctx;
	/* IPv6 (a router solicitation at start, neighbour discovery) is
	 * kept only where a test asks for it (setup_ipv6). */
	if (fx->discard_tx || (!fx->ipv6 && len >= 14 && f[12] == 0x86 && f[13] == 0xdd))
		return;
	assert_true(fx->nout < MAXF);
	assert_true(len <= sizeof(fx->out[0].b));
	memcpy(fx->out[fx->nout].b, f, len);
	fx->out[fx->nout].len = len;
	fx->nout++;
}

static void
exc_fn(void *ctx, const uint8_t *f, uint32_t len)
{
	struct fixture *fx = ctx;
	assert_true(fx->nexc < (int)(sizeof(fx->exc) / sizeof(fx->exc[0])));
	assert_true(len <= sizeof(fx->exc[0].b));
	memcpy(fx->exc[fx->nexc].b, f, len);
	fx->exc[fx->nexc].len = len;
	fx->nexc++;
}

/* The next frame the stack emitted; fails if there is none. */
const uint8_t *
next_frame_at(struct fixture *fx, uint32_t *len, int line)
{
	if (fx->seen >= fx->nout)
		print_error("line %d: no frame from the stack\n", line);
	assert_true(fx->seen < fx->nout);
	*len = fx->out[fx->seen].len;
	return fx->out[fx->seen++].b;
}

void
expect_nothing_at(struct fixture *fx, int line)
{
	if (fx->seen != fx->nout)
		print_error("line %d: %d more frame(s) from the stack\n", line,
			    fx->nout - fx->seen);
	assert_int_equal(fx->seen, fx->nout);
}

void
checked_all(struct fixture *fx)
{
	expect_nothing(fx);
	fx->seen = fx->nout = 0;
}

void
advance(struct fixture *fx, uint64_t us)
{
	fx->now_us += us;
	fj_stack_poll(fx->stack);
}

void
advance_past(struct fixture *fx, uint64_t us)
{
	advance(fx, us - MS);
	expect_nothing(fx);
	advance(fx, 2 * MS);
}

void
advance_fresh(struct fixture *fx, uint64_t us)
{
	peer_arp_reply(fx, &PEER, PEER_IP);
	advance(fx, us);
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
peer_arp_reply(struct fixture *fx, const struct fj_mac *mac, uint32_t ip)
{
	uint8_t f[60];
	fj_stack_input(fx->stack, f, mk_arp(f, FJ_ARP_REPLY, &US, mac, ip, &US, US_IP));
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

void
peer_icmp_error(struct fixture *fx, uint32_t from, uint8_t type, uint8_t code, uint16_t mtu,
		const uint8_t *ours)
{
	uint8_t f[14 + 20 + 8 + 60 + 8];
	const uint8_t *ip = ours + 14;
	size_t q = (size_t)(ip[0] & 0xf) * 4 + 8;
	uint8_t *icmp = f + 14 + 20;
	fj_eth_build(f, &US, from == GW_IP ? &GW : &PEER, FJ_ETH_P_IPV4);
	icmp[0] = type, icmp[1] = code;
	memset(icmp + 2, 0, 6);
	icmp[6] = (uint8_t)(mtu >> 8), icmp[7] = (uint8_t)mtu;
	memcpy(icmp + 8, ip, q);
	uint16_t c = fj_csum_fold(fj_csum_add(0, icmp, 8 + q));
	icmp[2] = (uint8_t)(c >> 8), icmp[3] = (uint8_t)c;
	fj_ipv4_build(f + 14, from, US_IP, FJ_IP_PROTO_ICMP, (uint16_t)(8 + q), 9, 64, false);
	uint32_t n = (uint32_t)(14 + 20 + 8 + q);
	if (n < 60) {
		memset(f + n, 0, 60 - n);
		n = 60;
	}
	fj_stack_input(fx->stack, f, n);
}

const uint8_t *
last_frame(const struct fixture *fx)
{
	assert_true(fx->seen > 0);
	return fx->out[fx->seen - 1].b;
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

static int
setup_port6(void **state, bool tso, bool holds, bool gro, bool ipv6, uint8_t dad, bool exc)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	fx->ipv6 = ipv6;
	fx->param = *state;
	fx->now_us = 1000 * SEC;
	fx->peer_iss = 5000;
	fx->hs_rtt = HS_RTT;
	struct fj_testport_cfg cfg = { .ip = "10.0.0.2/24", .gw = "10.0.0.254", .hz = HZ,
				       .clock = clock_fn, .tx = tx_fn, .ctx = fx, .tso = tso,
				       .holds = holds, .gro = gro,
				       .ip6 = ipv6 ? "2001:db8::2/64" : NULL, .dad_transmits = dad,
				       .exception = exc ? exc_fn : NULL };
	if (holds && fx->param != NULL) {
		const struct holding *h = fx->param;
		cfg.flow_queue_bytes = h->flow_queue_bytes;
		cfg.hold_max = h->hold_max;
	}
	memcpy(cfg.mac, US.b, 6);
	fx->stack = fj_stack_testport(&cfg);
	assert_non_null(fx->stack);
	assert_non_null(fj_udp_bind(fx->stack, 7, echo, NULL));
	*state = fx;
	return 0;
}

static int
setup_port(void **state, bool tso, bool holds, bool gro)
{
	return setup_port6(state, tso, holds, gro, false, 0, false);
}

int
setup_ipv6(void **state)
{
	return setup_port6(state, false, false, false, true, 0, false);
}

int
setup_ipv6_dad(void **state)
{
	return setup_port6(state, false, false, false, true, 1, false);
}

int
setup_exception(void **state)
{
	return setup_port6(state, false, false, false, false, 0, true);
}

/* A fresh fixture; a parameterised case's prestate becomes its param. */
int
setup(void **state)
{
	return setup_port(state, false, false, false);
}

int
setup_tso(void **state)
{
	return setup_port(state, true, false, false);
}

int
setup_gro(void **state)
{
	return setup_port(state, false, false, true);
}

int
setup_holding(void **state)
{
	return setup_port(state, false, true, false);
}

int
teardown(void **state)
{
	struct fixture *fx = *state;
	fj_stack_free(fx->stack);
	free(fx);
	*state = NULL;
	return 0;
}

/* The stack starts by announcing itself, then knows PEER. */
void
start_and_learn_peer(struct fixture *fx)
{
	uint32_t len;
	const uint8_t *f = next_frame(fx, &len);
	struct fj_arp a = expect_arp(f, len, &BCAST, FJ_ARP_REQUEST);
	assert_int_equal(a.tpa, US_IP); /* gratuitous: asks for itself */
	uint8_t q[60];
	fj_stack_input(fx->stack, q,
		       mk_arp(q, FJ_ARP_REQUEST, &BCAST, &PEER, PEER_IP, &BCAST, US_IP));
	f = next_frame(fx, &len);
	a = expect_arp(f, len, &PEER, FJ_ARP_REPLY);
	assert_int_equal(a.tpa, PEER_IP);
	assert_true(fj_mac_eq(&a.tha, &PEER));
}

struct fj_ipv4
expect_next_ipv4(struct fixture *fx, const struct fj_mac *dst, uint8_t proto)
{
	uint32_t len;
	const uint8_t *f = next_frame(fx, &len);

	return expect_ipv4(f, len, dst, proto);
}

struct fj_arp
expect_next_arp(struct fixture *fx, const struct fj_mac *dst, uint16_t op)
{
	uint32_t len;
	const uint8_t *f = next_frame(fx, &len);

	return expect_arp(f, len, dst, op);
}
