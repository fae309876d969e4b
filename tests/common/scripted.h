/* SPDX-License-Identifier: BSD-3-Clause */
/* The scripted peer for whole-stack tests in virtual time (scripted.c). */
#ifndef FJ_TEST_SCRIPTED_H
#define FJ_TEST_SCRIPTED_H

#include <stdbool.h>
#include <stdint.h>

#include "fjord.h"
#include "fjord_testport.h"
#include "wire/wire.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))
#define HZ 1000000u /* the clock counts microseconds */
#define SEC HZ
#define MAXF 256
#define PPORT 40000 /* the peer's port for flows to our listeners */

static const struct fj_mac US = { { 0x02, 0, 0, 0, 0, 0x02 } };
static const struct fj_mac PEER = { { 0x02, 0, 0, 0, 0, 0x01 } };
static const struct fj_mac GW = { { 0x02, 0, 0, 0, 0, 0xfe } };
static const struct fj_mac BCAST = { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
static const uint32_t US_IP = IP(10, 0, 0, 2), PEER_IP = IP(10, 0, 0, 1), GW_IP = IP(10, 0, 0, 254);

/* What the stack sent, oldest first; `seen` of them checked so far. */
struct scripted_frame {
	uint8_t b[2048];
	uint32_t len;
};
extern struct scripted_frame out[MAXF];
extern int nout, seen;
extern bool discard_tx; /* count nothing: a flood's answers */
extern uint64_t now_us;
extern struct fj_stack *S;

uint64_t clock_fn(void *ctx);
void tx_fn(void *ctx, const uint8_t *f, uint32_t len);
/* The next frame the stack emitted; fails if there is none. (The _at
 * forms name the caller's line in the failure.) */
const uint8_t *next_frame_at(uint32_t *len, int line);
#define next_frame(len) next_frame_at(len, __LINE__)
/* Every emitted frame has been checked. */
void expect_nothing_at(int line);
#define expect_nothing() expect_nothing_at(__LINE__)
/* Move the clock and run the timers. */
void advance(uint64_t us);

uint32_t mk_arp(uint8_t *f, uint16_t op, const struct fj_mac *dst, const struct fj_mac *sha,
		uint32_t spa, const struct fj_mac *tha, uint32_t tpa);
void peer_arp_reply(const struct fj_mac *mac, uint32_t ip);
uint32_t mk_udp(uint8_t *f, uint32_t src, uint16_t sport, uint16_t dport, const char *payload,
		const struct fj_mac *from);
uint32_t mk_ping(uint8_t *f, uint32_t src, uint16_t id, uint16_t seq, uint16_t plen);
/* Parse an emitted frame as IPv4 to @dst; checks every header checksum. */
struct fj_ipv4 expect_ipv4(const uint8_t *f, uint32_t len, const struct fj_mac *dst, uint8_t proto);
struct fj_arp expect_arp(const uint8_t *f, uint32_t len, const struct fj_mac *dst, uint16_t op);

/* A UDP echo on port 7. */
void echo(struct fj_udp *u, struct fj_buf *b, const struct fj_addr *from, void *arg);
/* A stack at 10.0.0.2/24 (gateway .254) with the UDP echo; and its end. */
int setup(void **state);
int teardown(void **state);
/* The stack starts by announcing itself, then learns PEER. */
void start_and_learn_peer(void);

/* ------------------------------------------------------ TCP */

extern uint32_t peer_iss;
/* A segment from PEER:PPORT to our @dport. */
uint32_t mk_tcp(uint8_t *f, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
		uint16_t wnd, const struct fj_tcp_opts *o, const char *payload);
void peer_tcp(uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd,
	      const struct fj_tcp_opts *o, const char *payload);
/* The next emitted frame as a TCP segment to PEER:PPORT with @flags. */
struct fj_tcp_hdr expect_tcp_at(uint8_t flags, uint32_t *plen, const uint8_t **payload, int line);
#define expect_tcp(flags, plen, payload) expect_tcp_at(flags, plen, payload, __LINE__)

/* Applications behind the listeners tcp_setup opens. */
void echo_tcp(struct fj_flow *f, void *arg);      /* port 7 */
void close_at_once(struct fj_flow *f, void *arg); /* port 8 */
void never_read(struct fj_flow *f, void *arg);    /* port 10: counts events_seen */
void half_close(struct fj_flow *f, void *arg);    /* port 11: shuts down, reads */
void echo_nagle(struct fj_flow *f, void *arg);    /* port 12 */
extern uint32_t half_closed_bytes;
extern int events_seen;

/* Handshake with the listener on @port (peer MSS 1000, shift 2 if @ws);
 * returns our ISS + 1. */
uint32_t open_flow(uint16_t port, uint16_t peer_wnd, bool ws);
/* setup() with the TCP listeners, PEER learnt. */
int tcp_setup(void **state);

/* A client's view (fj_connect_tcp to PEER:80): what its callback saw. */
extern int client_events;
extern enum fj_read client_last;
extern struct fj_flow *client;
void client_cb(struct fj_flow *f, void *arg);
/* The SYN we send for a connect; the port it came from. */
struct fj_tcp_hdr expect_syn(uint16_t *sport);
/* A segment from PEER:80 to our @our_port (window 1000). */
void peer_to(uint16_t our_port, uint32_t seq, uint32_t ack, uint8_t flags,
	     const struct fj_tcp_opts *o, const char *payload);

#endif
