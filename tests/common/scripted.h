/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The scripted peer for whole-stack tests in virtual time: a stack on the
 * test port (fjord_testport.h), a clock advanced by hand, the peer's
 * frames built field by field, the stack's frames captured and checked
 * one by one. Everything a test touches lives in its struct fixture,
 * which cmocka's setup hands to the test through `void **state`.
 *
 * scripted.c      the fixture, clock, capture, Ethernet/ARP/IPv4/UDP/ICMP
 * scripted_tcp.c  the peer's TCP segments, ours parsed, handshakes, states
 * scripted_apps.c the applications behind the listeners, tcp_setup
 */
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
#define MS 1000u    /* clock units per millisecond */
#define MAXF 256
#define PPORT 40000 /* the peer's port for flows to our listeners */
#define RCVBUF (256u * 1024u) /* our receive buffer */
/* The default round trip of the peer's handshake with our listeners
 * (fixture.hs_rtt: its ACK comes this long after our SYN-ACK): the
 * stack's RTT sample from the SYN exchange (RFC 6298 §2) then puts the
 * first RTO at 3 x HS_RTT, 1 s, the timings the loss tests count with. */
#define HS_RTT 333333u

#define ACK FJ_TCP_ACK
#define SYN FJ_TCP_SYN
#define FIN FJ_TCP_FIN
#define RST FJ_TCP_RST
#define PSH FJ_TCP_PSH
#define URG FJ_TCP_URG

static const struct fj_mac US = { { 0x02, 0, 0, 0, 0, 0x02 } };
static const struct fj_mac PEER = { { 0x02, 0, 0, 0, 0, 0x01 } };
static const struct fj_mac GW = { { 0x02, 0, 0, 0, 0, 0xfe } };
static const struct fj_mac BCAST = { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
static const uint32_t US_IP = IP(10, 0, 0, 2), PEER_IP = IP(10, 0, 0, 1), GW_IP = IP(10, 0, 0, 254);

/* A frame the stack sent. */
struct scripted_frame {
	uint8_t b[2048];
	uint32_t len;
};

/* Port 20's writer: writes `total` bytes of pat() in `chunk` pieces when
 * accepted (or, with `fill`, until the send buffer refuses), again when
 * there is room; reads and drops what comes; closes after writing with
 * `close`. */
struct writer_app {
	uint32_t total, chunk, done;
	bool fill, close, closed;
	int calls, eagain, err;
	struct fj_flow *flow;
};

/* Ports 22 and 23's observer: everything it read, its last read's result,
 * the error it saw. */
struct observer_app {
	struct fj_flow *flow;
	int events, err;
	enum fj_read last;
	uint32_t bytes;
	uint32_t not_pat; /* bytes read that differ from pat() at their offset */
	uint8_t data[4096];
};

/* A client's view (fj_connect_tcp to PEER:80): what its callback saw;
 * client_writer writes `write_total` bytes of pat() once connected. */
struct client_app {
	struct fj_flow *flow;
	int events;
	enum fj_read last;
	uint32_t write_total;
	int writer_events;
};

struct fixture {
	struct fj_stack *stack;
	uint64_t now_us;
	/* What the stack sent, oldest first; `seen` of them checked so far;
	 * with discard_tx nothing is kept (a flood's answers). */
	struct scripted_frame out[MAXF];
	int nout, seen;
	bool discard_tx;
	bool ipv6; /* IPv6 frames kept (setup_ipv6); else left out */
	/* The peer's ISS for flows to our listeners; our client's port. */
	uint32_t peer_iss;
	uint64_t hs_rtt; /* from our SYN-ACK to the peer's ACK (setup: HS_RTT) */
	uint16_t cport;
	/* The cmocka prestate of a parameterised case. */
	const void *param;
	/* The applications. */
	struct writer_app wr;
	struct observer_app obs;
	struct client_app client;
	struct fj_flow *lazy_flow; /* port 21 */
	int lazy_events;
	int events_seen; /* port 10 */
	/* What the stack gave the kernel (setup_exception). */
	struct scripted_frame exc[16];
	int nexc;
};

/* ------------------------------------------------------ scripted.c */

/* A stack at 10.0.0.2/24 (gateway .254) with a UDP echo on port 7; and
 * its end. *state: a struct fixture *. */
int setup(void **state);
/* setup() on a test port with TSO. */
int setup_tso(void **state);
/* setup() on a test port that can hold what it is given
 * (fj_testport_hold); a prestate, if any, points at its settings. */
struct holding {
	uint32_t flow_queue_bytes; /* 0: the default; UINT32_MAX: none */
	uint32_t hold_max;         /* 0: FJ_TESTPORT_HOLD_MAX */
};
int setup_holding(void **state);
/* setup() with the stack's software coalescing (rte_gro) of bursts. */
int setup_gro(void **state);
/* setup() with 2001:db8::2/64 beside the link-local address, and the
 * stack's IPv6 frames kept. */
int setup_ipv6(void **state);
/* The same with duplicate address detection (one probe an address, the
 * stack's default; the fixtures above have none). */
int setup_ipv6_dad(void **state);
/* setup() with a kernel exception path whose frames land in fx->exc. */
int setup_exception(void **state);
int teardown(void **state);
/* The test port's callbacks; ctx is the fixture. */
uint64_t clock_fn(void *ctx);
void tx_fn(void *ctx, const uint8_t *f, uint32_t len);

/* The next frame the stack emitted; fails if there is none. (The _at
 * forms name the caller's line in the failure.) */
const uint8_t *next_frame_at(struct fixture *fx, uint32_t *len, int line);
#define next_frame(fx, len) next_frame_at(fx, len, __LINE__)
/* Every emitted frame has been checked. */
void expect_nothing_at(struct fixture *fx, int line);
#define expect_nothing(fx) expect_nothing_at(fx, __LINE__)
/* Forget what was sent so far (all of it checked): room for more frames. */
void checked_all(struct fixture *fx);
/* Move the clock and run the timers. */
void advance(struct fixture *fx, uint64_t us);
/* A timer due in @us: nothing until a millisecond before, then advance
 * to a millisecond past it. */
void advance_past(struct fixture *fx, uint64_t us);
/* Advance a long way: the peer's ARP reply first keeps its neighbour
 * entry fresh (no refresh requests among the TCP segments). */
void advance_fresh(struct fixture *fx, uint64_t us);

uint32_t mk_arp(uint8_t *f, uint16_t op, const struct fj_mac *dst, const struct fj_mac *sha,
		uint32_t spa, const struct fj_mac *tha, uint32_t tpa);
void peer_arp_reply(struct fixture *fx, const struct fj_mac *mac, uint32_t ip);
uint32_t mk_udp(uint8_t *f, uint32_t src, uint16_t sport, uint16_t dport, const char *payload,
		const struct fj_mac *from);
uint32_t mk_ping(uint8_t *f, uint32_t src, uint16_t id, uint16_t seq, uint16_t plen);
/* An ICMP error (@type, @code; @mtu in the word after the checksum) from
 * @from (PEER's MAC, or GW's for GW_IP) about the IP datagram in @ours, one
 * of our frames: its IP header and the 8 bytes behind it quoted. */
void peer_icmp_error(struct fixture *fx, uint32_t from, uint8_t type, uint8_t code,
		     uint16_t mtu, const uint8_t *ours);
/* The frame the last next_frame (or expect_*) returned. */
const uint8_t *last_frame(const struct fixture *fx);
/* Parse an emitted frame as IPv4 to @dst; checks every header checksum. */
struct fj_ipv4 expect_ipv4(const uint8_t *f, uint32_t len, const struct fj_mac *dst, uint8_t proto);
struct fj_arp expect_arp(const uint8_t *f, uint32_t len, const struct fj_mac *dst, uint16_t op);
/* The same on the next emitted frame (taken before its length is read). */
struct fj_ipv4 expect_next_ipv4(struct fixture *fx, const struct fj_mac *dst, uint8_t proto);
struct fj_arp expect_next_arp(struct fixture *fx, const struct fj_mac *dst, uint16_t op);

/* A UDP echo. */
void echo(struct fj_udp *u, struct fj_buf *b, const struct fj_addr *from, void *arg);
/* The stack starts by announcing itself, then learns PEER. */
void start_and_learn_peer(struct fixture *fx);

/* ------------------------------------------------------ scripted_tcp.c */

/* A segment from the peer, any field; sport 0 means PPORT. */
struct pseg {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t wnd, urg;
	const struct fj_tcp_opts *o;
	const void *data;
	uint32_t len;
	bool bad_csum;
	uint16_t ip_id; /* 0: 3 */
};
/* The frame of @p in @f (@cap bytes, padded to the minimum); its length. */
uint32_t mk_seg(uint8_t *f, const struct pseg *p, uint32_t cap);
/* The peer sends @p (padded to the minimum frame). */
void send_seg(struct fixture *fx, struct pseg p);
/* A segment from PEER:PPORT to our @dport, a string as its payload. */
void peer_tcp(struct fixture *fx, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
	      uint16_t wnd, const struct fj_tcp_opts *o, const char *payload);
/* The byte at stream offset @i of what the writers send. */
uint8_t pat(uint32_t i);
/* @len bytes of pat(@off..) from the peer to @port at @seq, in one segment
 * of any length up to an IP datagram's (the port hands it up chained, as
 * after LRO). */
void peer_big(struct fixture *fx, uint16_t port, uint32_t seq, uint32_t ack, uint16_t wnd,
	      uint32_t len, uint32_t off, const struct fj_tcp_opts *o);
/* @len bytes of pat(0..) from the peer to @port at @seq. */
void peer_bytes(struct fixture *fx, uint16_t port, uint32_t seq, uint32_t ack, uint16_t wnd,
		uint32_t len, const struct fj_tcp_opts *o);
/* A segment from PEER:80 to our client's port. */
void from80(struct fixture *fx, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd,
	    const struct fj_tcp_opts *o, const char *data);
static inline struct fj_tcp_opts
ts(uint32_t tsval)
{
	return (struct fj_tcp_opts){ .has_ts = true, .tsval = tsval };
}

/* Our segment, parsed. */
struct seg {
	struct fj_tcp_hdr h;
	uint32_t plen;
	const uint8_t *pl;
};
/* The next frame, any TCP segment to PEER (any port). */
struct seg next_seg_at(struct fixture *fx, int line);
#define next_seg(fx) next_seg_at(fx, __LINE__)
/* The next frame as a TCP segment to PEER:PPORT with @flags. */
struct fj_tcp_hdr expect_tcp_at(struct fixture *fx, uint8_t flags, uint32_t *plen,
				const uint8_t **payload, int line);
#define expect_tcp(fx, flags, plen, payload) expect_tcp_at(fx, flags, plen, payload, __LINE__)
/* The next segment to PEER:PPORT: exactly these flags, seq, ack, length. */
struct fj_tcp_hdr expect_seg_at(struct fixture *fx, uint8_t flags, uint32_t seq, uint32_t ack,
				uint32_t plen, int line);
#define expect_seg(fx, fl, sq, ak, pl) expect_seg_at(fx, fl, sq, ak, pl, __LINE__)
/* A pure ACK. */
#define expect_ack(fx, sq, ak) expect_seg_at(fx, ACK, sq, ak, 0, __LINE__)
/* The next segment to PEER:PPORT: these flags, seq, ack, and @text. */
struct fj_tcp_hdr expect_text_at(struct fixture *fx, uint8_t flags, uint32_t seq, uint32_t ack,
				 const char *text, int line);
#define expect_text(fx, fl, sq, ak, text) expect_text_at(fx, fl, sq, ak, text, __LINE__)
/* A data segment (PSH or not) to PEER:PPORT carrying pat(@off..). */
struct fj_tcp_hdr expect_data_at(struct fixture *fx, uint32_t seq, uint32_t ack, uint32_t plen,
				 uint32_t off, int line);
#define expect_data(fx, sq, ak, pl, off) expect_data_at(fx, sq, ak, pl, off, __LINE__)
/* Whatever is left unchecked: pure ACKs of @ack only; how many. */
int drain_acks_at(struct fixture *fx, uint32_t ack, int line);
#define drain_acks(fx, ak) drain_acks_at(fx, ak, __LINE__)
/* The SYN we send for a connect; the port it came from. */
struct fj_tcp_hdr expect_syn(struct fixture *fx, uint16_t *sport);
/* The next segment to PEER:80 from the client's port. */
struct fj_tcp_hdr expect_to80_at(struct fixture *fx, uint8_t flags, uint32_t seq, uint32_t ack,
				 uint32_t plen, int line);
#define expect_to80(fx, fl, sq, ak, pl) expect_to80_at(fx, fl, sq, ak, pl, __LINE__)

/* The peer's SYN with @o and window @syn_wnd to @port, our SYN-ACK (into
 * *@sa), the peer's ACK with window @wnd (and timestamps if @o has them:
 * TSval + 1). Returns our ISS + 1; checks nothing after the ACK. */
uint32_t handshake(struct fixture *fx, uint16_t port, const struct fj_tcp_opts *o,
		   uint16_t syn_wnd, uint16_t wnd, struct fj_tcp_hdr *sa);
/* The same with a SYN window of 65535. */
uint32_t hs_opts(struct fixture *fx, uint16_t port, const struct fj_tcp_opts *o, uint16_t wnd,
		 struct fj_tcp_hdr *sa);
/* Peer MSS 1000, shift 2 if @ws. */
uint32_t hs(struct fixture *fx, uint16_t port, uint16_t wnd, bool ws);
/* As hs, with @wnd on the SYN too; then nothing from us, unless the
 * application closes (port 8) or shuts down (port 23) at once. */
uint32_t open_flow(struct fixture *fx, uint16_t port, uint16_t wnd, bool ws);
/* Timestamps (TSval 1000, then 1001), MSS 1000, SACK-permitted if @sack. */
uint32_t hs_ts(struct fixture *fx, uint16_t port, bool sack);
/* To port 7: MSS 1460, timestamps from @tsval; *@ours: our first TSval. */
uint32_t open_flow_ts(struct fixture *fx, uint32_t tsval, uint32_t *ours);
/* MSS 1000, SACK-permitted (checked answered). */
uint32_t hs_sack(struct fixture *fx, uint16_t port);
/* fj_connect_tcp to PEER:80 with @fn (into fx->client.flow), the loop's
 * turn, our SYN. */
struct fj_tcp_hdr connect_syn(struct fixture *fx, fj_flow_fn fn);

/* A connection brought into a synchronized state of RFC 9293 §3.3.2: its
 * port, our SND.NXT, our RCV.NXT. */
enum st { ST_EST, ST_FW1, ST_FW2, ST_CW, ST_CLOSING, ST_LA, ST_TW };
struct conn {
	uint16_t port;
	uint32_t snd, rcv;
};
struct conn reach(struct fixture *fx, enum st st);

/* ------------------------------------------------------ scripted_apps.c */

/* setup() with the TCP listeners, PEER learnt:
 *   7 echo_tcp        8 close_at_once   10 never_read (events_seen)
 *  12 echo_nagle     20 writer (wr)     21 lazy (lazy_flow, never reads)
 *  22 observer (obs) 23 observer, shut down at once
 *  24 abort_on_data  25 reply_on_eof (a last word at the peer's EOF) */
int tcp_setup(void **state);
/* The same on a test port that offers TSO (it cuts as a NIC would). */
int tcp_setup_tso(void **state);
/* tcp_setup on a test port that can hold (setup_holding), or with GRO. */
int tcp_setup_holding(void **state);
int tcp_setup_gro(void **state);
/* A cmocka case on tcp_setup's fixture, or tcp_setup_tso's. */
#define TCP_CASE(t) cmocka_unit_test_setup_teardown(t, tcp_setup, teardown)
#define TSO_CASE(t) cmocka_unit_test_setup_teardown(t, tcp_setup_tso, teardown)
#define GRO_CASE(t) cmocka_unit_test_setup_teardown(t, tcp_setup_gro, teardown)
/* Client callbacks; arg is the fixture. */
void client_cb(struct fj_flow *f, void *arg);
void client_writer(struct fj_flow *f, void *arg);

#endif
