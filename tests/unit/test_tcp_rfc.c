/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP conformance, state by state, against the scripted peer: RFC 9293
 * §3.10 event processing, RFC 5961 (blind attacks), RFC 7323 (window
 * scaling, timestamps, PAWS), RFC 2018 (SACK), RFC 6298 (RTO), RFC 5681
 * and RFC 6582 (congestion control), RFC 6928 (IW10), RFC 1122 (delayed
 * ACK, zero windows), silly window avoidance, in virtual time.
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

#define RCVBUF (256u * 1024u) /* our receive buffer */
#define MS 1000u              /* clock units per millisecond */
#define ACK FJ_TCP_ACK
#define SYN FJ_TCP_SYN
#define FIN FJ_TCP_FIN
#define RST FJ_TCP_RST
#define PSH FJ_TCP_PSH
#define URG FJ_TCP_URG

static uint32_t
min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* ------------------------------------------------------ the peer's segments */

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
};

static uint32_t
build_seg(uint8_t *f, const struct pseg *p)
{
	struct fj_tcp_hdr h = { .sport = p->sport ? p->sport : PPORT, .dport = p->dport,
				.seq = p->seq, .ack = p->ack, .flags = p->flags, .wnd = p->wnd };
	if (p->o)
		h.o = *p->o;
	size_t hl = FJ_TCP_HDR_LEN + fj_tcp_opts_len(&h.o);
	assert_true(34 + hl + p->len <= 1600);
	fj_eth_build(f, &US, &PEER, FJ_ETH_P_IPV4);
	if (p->len)
		memcpy(f + 34 + hl, p->data, p->len);
	fj_tcp_build(f + 34, &h, PEER_IP, US_IP, p->len, false);
	if (p->urg) {
		/* fj_tcp_build writes no urgent pointer: set it, fix the sum. */
		uint8_t *t = f + 34;
		t[18] = (uint8_t)(p->urg >> 8), t[19] = (uint8_t)p->urg;
		t[16] = t[17] = 0;
		uint16_t seglen = (uint16_t)(hl + p->len);
		uint16_t c = fj_csum_fold(fj_csum_add(
			fj_csum_pseudo(PEER_IP, US_IP, FJ_IP_PROTO_TCP, seglen), t, seglen));
		t[16] = (uint8_t)(c >> 8), t[17] = (uint8_t)c;
	}
	if (p->bad_csum)
		f[34 + 16] ^= 0x5a;
	fj_ipv4_build(f + 14, PEER_IP, US_IP, FJ_IP_PROTO_TCP, (uint16_t)(hl + p->len), 3, 64,
		      false);
	uint32_t n = (uint32_t)(34 + hl + p->len);
	if (n < 60) {
		memset(f + n, 0, 60 - n);
		n = 60;
	}
	return n;
}

static void
send_seg(struct pseg p)
{
	uint8_t f[1600];
	fj_stack_input(S, f, build_seg(f, &p));
}

/* The byte at stream offset @i of what our writer sends (and blob holds). */
static uint8_t
pat(uint32_t i)
{
	return (uint8_t)('a' + i % 26);
}

static uint8_t blob[1600]; /* pat(0..), for the peer's bulk data */

/* @len bytes of pattern from the peer to @port at @seq. */
static void
peer_bytes(uint16_t port, uint32_t seq, uint32_t ack, uint16_t wnd, uint32_t len,
	   const struct fj_tcp_opts *o)
{
	send_seg((struct pseg){ .dport = port, .seq = seq, .ack = ack, .flags = ACK, .wnd = wnd,
				.o = o, .data = blob, .len = len });
}

/* ------------------------------------------------------ our segments */

struct seg {
	struct fj_tcp_hdr h;
	uint32_t plen;
	const uint8_t *pl;
};

/* The next frame, any TCP segment to PEER (any port). */
static struct seg
next_seg_at(int line)
{
	uint32_t len;
	const uint8_t *f = next_frame_at(&len, line);
	struct fj_ipv4 ip = expect_ipv4(f, len, &PEER, FJ_IP_PROTO_TCP);
	struct seg s;
	uint32_t tl = ip.total_len - 20u;
	assert_int_equal(fj_tcp_parse(f + 34, tl, US_IP, PEER_IP, false, &s.h), FJ_OK);
	s.plen = tl - s.h.hdr_len;
	s.pl = f + 34 + s.h.hdr_len;
	return s;
}
#define next_seg() next_seg_at(__LINE__)

/* The next segment to PEER:PPORT: exactly these flags, seq, ack, length. */
static struct fj_tcp_hdr
expect_seg_at(uint8_t flags, uint32_t seq, uint32_t ack, uint32_t plen, int line)
{
	uint32_t n;
	struct fj_tcp_hdr h = expect_tcp_at(flags, &n, NULL, line);
	if (h.seq != seq || h.ack != ack || n != plen)
		print_error("line %d: seq %u ack %u len %u, not %u %u %u\n", line, h.seq, h.ack,
			    n, seq, ack, plen);
	assert_int_equal(h.seq, seq);
	assert_int_equal(h.ack, ack);
	assert_int_equal(n, plen);
	return h;
}
#define expect_seg(fl, sq, ak, pl) expect_seg_at(fl, sq, ak, pl, __LINE__)
/* A pure ACK. */
#define expect_ack(sq, ak) expect_seg_at(ACK, sq, ak, 0, __LINE__)

/* A data segment (PSH or not) to PEER:PPORT carrying pat(@off..). */
static struct fj_tcp_hdr
expect_data_at(uint32_t seq, uint32_t ack, uint32_t plen, uint32_t off, int line)
{
	struct seg s = next_seg_at(line);
	if ((s.h.flags & ~PSH) != ACK || s.h.seq != seq || s.h.ack != ack || s.plen != plen)
		print_error("line %d: flags %#x seq %u ack %u len %u, not data %u %u %u\n", line,
			    s.h.flags, s.h.seq, s.h.ack, s.plen, seq, ack, plen);
	assert_int_equal(s.h.flags & ~PSH, ACK);
	assert_int_equal(s.h.dport, PPORT);
	assert_int_equal(s.h.seq, seq);
	assert_int_equal(s.h.ack, ack);
	assert_int_equal(s.plen, plen);
	for (uint32_t i = 0; i < plen; i++)
		assert_int_equal(s.pl[i], pat(off + i));
	return s.h;
}
#define expect_data(sq, ak, pl, off) expect_data_at(sq, ak, pl, off, __LINE__)

/* Whatever is left unchecked: pure ACKs of @ack only. */
static int
drain_acks_at(uint32_t ack, int line)
{
	int n = 0;
	while (seen < nout) {
		struct seg s = next_seg_at(line);
		if (s.h.flags != ACK || s.plen != 0 || s.h.ack != ack)
			print_error("line %d: flags %#x len %u ack %u, not a pure ACK of %u\n",
				    line, s.h.flags, s.plen, s.h.ack, ack);
		assert_int_equal(s.h.flags, ACK);
		assert_int_equal(s.plen, 0);
		assert_int_equal(s.h.ack, ack);
		n++;
	}
	return n;
}
#define drain_acks(ak) drain_acks_at(ak, __LINE__)

/* Advance a long way: the peer's ARP reply first keeps its neighbour
 * entry fresh (no refresh requests among the TCP segments). */
static void
advance_fresh(uint64_t us)
{
	peer_arp_reply(&PEER, PEER_IP);
	advance(us);
}

/* Forget what was sent so far (all of it checked): room for more frames. */
static void
checked_all(void)
{
	expect_nothing();
	seen = nout = 0;
}

/* ------------------------------------------------------ applications */

/* Port 20: writes wr_total bytes of pat() in wr_chunk pieces when
 * accepted (or, with wr_fill, until the send buffer refuses), again when
 * there is room; reads and drops what comes; closes after writing with
 * wr_close. */
static uint32_t wr_total, wr_chunk, wr_done;
static bool wr_fill, wr_close, wr_closed;
static int wr_calls, wr_eagain, wr_err;
static struct fj_flow *wr_flow;

static void
writer(struct fj_flow *f, void *arg)
{
	struct fj_buf *b;
	(void)arg;
	wr_flow = f;
	wr_calls++;
	for (;;) {
		enum fj_read r = fj_flow_read(f, &b);
		if (r == FJ_DATA) {
			fj_buf_free(b);
			continue;
		}
		if (r == FJ_ERROR) {
			wr_err = fj_flow_error(f);
			fj_flow_close(f);
			wr_flow = NULL;
			return;
		}
		break;
	}
	while (wr_fill || wr_done < wr_total) {
		uint32_t n = wr_fill ? wr_chunk : min_u32(wr_chunk, wr_total - wr_done);
		b = fj_buf_alloc(S, n);
		assert_non_null(b);
		uint8_t *p = fj_buf_data(b);
		for (uint32_t i = 0; i < n; i++)
			p[i] = pat(wr_done + i);
		int rc = fj_flow_write(f, b);
		if (rc == -EAGAIN) {
			fj_buf_free(b);
			wr_eagain++;
			return;
		}
		assert_int_equal(rc, 0);
		wr_done += n;
	}
	if (wr_close && !wr_closed) {
		wr_closed = true;
		fj_flow_close(f);
		wr_flow = NULL;
	}
}

/* Port 21: keeps the flow, never reads. */
static struct fj_flow *lazy_flow;
static int lazy_events;

static void
lazy(struct fj_flow *f, void *arg)
{
	(void)arg;
	lazy_flow = f;
	lazy_events++;
}

/* Ports 22 and 23 (23 shuts down at once): read everything; on an error
 * remember it and close. */
static struct fj_flow *obs;
static int obs_events, obs_err;
static enum fj_read obs_last;
static uint32_t obs_bytes;
static uint8_t obs_data[4096];

static void
observer(struct fj_flow *f, void *arg)
{
	struct fj_buf *b;
	obs = f;
	obs_events++;
	if (arg != NULL && fj_flow_user(f) == NULL) {
		assert_int_equal(fj_flow_shutdown(f), 0);
		fj_flow_set_user(f, f);
	}
	for (;;) {
		enum fj_read r = fj_flow_read(f, &b);
		obs_last = r;
		if (r == FJ_DATA) {
			uint32_t n = fj_buf_pkt_len(b);
			uint32_t k = min_u32(n, fj_buf_len(b));
			if (obs_bytes + k <= sizeof(obs_data))
				memcpy(obs_data + obs_bytes, fj_buf_data(b), k);
			obs_bytes += n;
			fj_buf_free(b);
			continue;
		}
		if (r == FJ_ERROR) {
			obs_err = fj_flow_error(f);
			fj_flow_close(f);
			obs = NULL;
		}
		return;
	}
}

/* Port 24: aborts the connection when data comes. */
static void
abort_on_data(struct fj_flow *f, void *arg)
{
	struct fj_buf *b;
	(void)arg;
	if (fj_flow_read(f, &b) == FJ_DATA) {
		fj_buf_free(b);
		fj_flow_abort(f);
	}
}

/* Port 25: at the peer's end of stream, a last word and close. */
static void
reply_on_eof(struct fj_flow *f, void *arg)
{
	struct fj_buf *b;
	(void)arg;
	for (;;) {
		enum fj_read r = fj_flow_read(f, &b);
		if (r == FJ_DATA) {
			fj_buf_free(b);
			continue;
		}
		if (r == FJ_EOF) {
			b = fj_buf_alloc(S, 7);
			memcpy(fj_buf_data(b), "bye now", 7);
			assert_int_equal(fj_flow_write(f, b), 0);
			fj_flow_close(f);
		}
		return;
	}
}

/* A client that writes cw_total bytes of pat() once connected. */
static uint32_t cw_total;
static int cw_events;

static void
client_writer(struct fj_flow *f, void *arg)
{
	struct fj_buf *b;
	(void)arg;
	client = f;
	if (cw_events++ == 0) {
		for (uint32_t off = 0; off < cw_total; off += 1000) {
			uint32_t n = min_u32(1000u, cw_total - off);
			b = fj_buf_alloc(S, n);
			uint8_t *p = fj_buf_data(b);
			for (uint32_t i = 0; i < n; i++)
				p[i] = pat(off + i);
			assert_int_equal(fj_flow_write(f, b), 0);
		}
	}
	while (fj_flow_read(f, &b) == FJ_DATA)
		fj_buf_free(b);
}

static int
rfc_setup(void **state)
{
	tcp_setup(state);
	assert_non_null(fj_listen_tcp(S, 20, writer, NULL));
	assert_non_null(fj_listen_tcp(S, 21, lazy, NULL));
	assert_non_null(fj_listen_tcp(S, 22, observer, NULL));
	assert_non_null(fj_listen_tcp(S, 23, observer, (void *)1));
	assert_non_null(fj_listen_tcp(S, 24, abort_on_data, NULL));
	assert_non_null(fj_listen_tcp(S, 25, reply_on_eof, NULL));
	wr_total = wr_done = 0;
	wr_chunk = 1000;
	wr_fill = wr_close = wr_closed = false;
	wr_calls = wr_eagain = wr_err = 0;
	wr_flow = NULL;
	lazy_flow = NULL;
	lazy_events = 0;
	obs = NULL;
	obs_events = obs_err = 0;
	obs_last = FJ_AGAIN;
	obs_bytes = 0;
	cw_total = 0;
	cw_events = 0;
	client_events = 0;
	client = NULL;
	for (uint32_t i = 0; i < sizeof(blob); i++)
		blob[i] = pat(i);
	return 0;
}

/* ------------------------------------------------------ handshakes */

/* The peer's SYN with @o to @port, our SYN-ACK (into *@sa), the peer's
 * ACK with window @wnd (and timestamps if @o has them: TSval + 1).
 * Returns our ISS + 1; checks nothing after the ACK. */
static uint32_t
hs_opts(uint16_t port, const struct fj_tcp_opts *o, uint16_t wnd, struct fj_tcp_hdr *sa)
{
	struct fj_tcp_hdr h;
	peer_tcp(port, peer_iss, 0, SYN, 65535, o, NULL);
	h = expect_tcp(SYN | ACK, NULL, NULL);
	assert_int_equal(h.ack, peer_iss + 1);
	struct fj_tcp_opts a = { 0 };
	if (o && o->has_ts) {
		a.has_ts = true;
		a.tsval = o->tsval + 1;
		a.tsecr = h.o.tsval;
	}
	peer_tcp(port, peer_iss + 1, h.seq + 1, ACK, wnd, &a, NULL);
	if (sa)
		*sa = h;
	return h.seq + 1;
}

/* A handshake as open_flow's (peer MSS 1000, shift 2 if @ws). */
static uint32_t
hs(uint16_t port, uint16_t wnd, bool ws)
{
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1000, .has_ws = ws, .ws = 2 };
	return hs_opts(port, &o, wnd, NULL);
}

/* ------------------------------------------------------ reaching a state */

enum st { ST_EST, ST_FW1, ST_FW2, ST_CW, ST_CLOSING, ST_LA, ST_TW };

/* A connection in a given state: its port, our SND.NXT, our RCV.NXT. */
struct conn {
	uint16_t port;
	uint32_t snd, rcv;
};

static struct conn
reach(enum st st)
{
	uint32_t iss1;
	switch (st) {
	case ST_EST: /* an application that reads */
		iss1 = hs(22, 65535, true);
		expect_nothing();
		return (struct conn){ 22, iss1, peer_iss + 1 };
	case ST_FW1: /* we shut down; our FIN unacknowledged */
	case ST_FW2: /* ...acknowledged */
	case ST_CLOSING: /* ...and the peer's FIN crossed ours */
		iss1 = hs(23, 65535, true);
		expect_seg(FIN | ACK, iss1, peer_iss + 1, 0);
		if (st == ST_FW2) {
			peer_tcp(23, peer_iss + 1, iss1 + 1, ACK, 65535, NULL, NULL);
		} else if (st == ST_CLOSING) {
			peer_tcp(23, peer_iss + 1, iss1, FIN | ACK, 65535, NULL, NULL);
			expect_ack(iss1 + 1, peer_iss + 2);
			expect_nothing();
			return (struct conn){ 23, iss1 + 1, peer_iss + 2 };
		}
		expect_nothing();
		return (struct conn){ 23, iss1 + 1, peer_iss + 1 };
	case ST_CW: /* the peer's FIN; our application stays */
		iss1 = hs(22, 65535, true);
		peer_tcp(22, peer_iss + 1, iss1, FIN | ACK, 65535, NULL, NULL);
		expect_ack(iss1, peer_iss + 2);
		expect_nothing();
		assert_int_equal(obs_last, FJ_EOF);
		return (struct conn){ 22, iss1, peer_iss + 2 };
	case ST_LA: /* the echo closes after the peer's FIN: ours unacknowledged */
		iss1 = hs(7, 65535, true);
		peer_tcp(7, peer_iss + 1, iss1, FIN | ACK, 65535, NULL, NULL);
		expect_ack(iss1, peer_iss + 2);
		expect_seg(FIN | ACK, iss1, peer_iss + 2, 0);
		expect_nothing();
		return (struct conn){ 7, iss1 + 1, peer_iss + 2 };
	case ST_TW: /* we closed first, both FINs acknowledged */
		iss1 = hs(8, 65535, true);
		expect_seg(FIN | ACK, iss1, peer_iss + 1, 0);
		peer_tcp(8, peer_iss + 1, iss1 + 1, FIN | ACK, 65535, NULL, NULL);
		expect_ack(iss1 + 1, peer_iss + 2);
		expect_nothing();
		return (struct conn){ 8, iss1 + 1, peer_iss + 2 };
	}
	fail();
	return (struct conn){ 0, 0, 0 };
}

/* RFC 5961 §3.2: a RST in the window but not at RCV.NXT: a challenge ACK,
 * the connection stays. */
static void
rst_in_window_case(enum st st)
{
	struct conn c = reach(st);
	peer_tcp(c.port, c.rcv + 10, 0, RST, 65535, NULL, NULL);
	expect_ack(c.snd, c.rcv);
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "tcp_challenge_acks"), 1);
	assert_int_equal(fj_stack_counter(S, "tcp_rst_rx"), 0);
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 1);
}

/* RFC 9293 §3.10.7.4 first check, RFC 5961 §3.2: a RST at exactly
 * RCV.NXT ends the connection: nothing more is sent, the flow is gone. */
static void
rst_exact_case(enum st st)
{
	struct conn c = reach(st);
	peer_tcp(c.port, c.rcv, 0, RST, 65535, NULL, NULL);
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "tcp_rst_rx"), 1);
	assert_int_equal(fj_stack_counter(S, "tcp_challenge_acks"), 0);
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 0);
	if (c.port == 22 || c.port == 23) {
		assert_int_equal(obs_last, FJ_ERROR);
		assert_int_equal(obs_err, -ECONNRESET);
	}
	/* Nothing is retransmitted for a connection that is gone. */
	advance(10 * SEC);
	expect_nothing();
}

/* RFC 5961 §3.2 (1): a RST outside the window is dropped silently. */
static void
rst_out_of_window_case(enum st st)
{
	struct conn c = reach(st);
	peer_tcp(c.port, c.rcv + 5 * RCVBUF, 0, RST, 65535, NULL, NULL);
	peer_tcp(c.port, c.rcv - 1000, 0, RST | ACK, 65535, NULL, NULL);
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "tcp_rst_rx"), 0);
	assert_int_equal(fj_stack_counter(S, "tcp_challenge_acks"), 0);
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 1);
}

/* RFC 9293 §3.10.7.4 fourth check, RFC 5961 §4.2: a SYN in a synchronized
 * state, whatever its sequence number: a challenge ACK, nothing else. */
static void
syn_case(enum st st)
{
	struct conn c = reach(st);
	peer_tcp(c.port, c.rcv, 0, SYN, 65535, NULL, NULL);
	expect_ack(c.snd, c.rcv);
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "tcp_challenge_acks"), 1);
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 1);
	assert_int_equal(fj_stack_counter(S, "tcp_passive_opens"), 1);
}

/* RFC 9293 §3.10.7.4 first check: data outside the window is not
 * acceptable: an ACK in reply, nothing delivered. */
static void
data_out_of_window_case(enum st st)
{
	struct conn c = reach(st);
	uint32_t bytes = obs_bytes;
	peer_tcp(c.port, c.rcv + 5 * RCVBUF, c.snd, ACK | PSH, 65535, NULL, "far away");
	expect_ack(c.snd, c.rcv);
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "tcp_out_of_window"), 1);
	assert_int_equal(obs_bytes, bytes);
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 1);
}

/* RFC 9293 §3.10.7.4 fifth check: an ACK of something not yet sent is
 * answered with an ACK and the segment dropped. */
static void
ack_too_new_case(enum st st)
{
	struct conn c = reach(st);
	peer_tcp(c.port, c.rcv, c.snd + 1000, ACK, 65535, NULL, NULL);
	expect_ack(c.snd, c.rcv);
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 1);
}

/* ====================================================== LISTEN */

/* RFC 9293 §3.10.7.2 first: a RST to a listener is ignored. */
static void
test_listen_rst_is_ignored(void **state)
{
	(void)state;
	peer_tcp(7, peer_iss, 0, RST, 65535, NULL, NULL);
	peer_tcp(7, peer_iss, 1234, RST | ACK, 65535, NULL, NULL);
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 0);
	assert_int_equal(fj_stack_counter(S, "tcp_rst_tx"), 0);
}

/* RFC 9293 §3.10.7.2 second: an ACK (here with data) to a listener: RST
 * <SEQ=SEG.ACK>, no ACK bit; no connection is made. */
static void
test_listen_ack_with_data_gets_rst_from_its_ack(void **state)
{
	(void)state;
	peer_tcp(7, peer_iss, 0x80000001u, ACK | PSH, 65535, NULL, "hello");
	expect_seg(RST, 0x80000001u, 0, 0);
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 0);
	assert_int_equal(fj_stack_counter(S, "tcp_rst_tx"), 1);
}

/* RFC 9293 §3.10.7.2: a SYN-ACK to a listener is an ACK: RST <SEQ=SEG.ACK>. */
static void
test_listen_syn_ack_gets_rst(void **state)
{
	(void)state;
	peer_tcp(7, peer_iss, 4242, SYN | ACK, 65535, NULL, NULL);
	expect_seg(RST, 4242, 0, 0);
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 0);
}

/* RFC 9293 §3.10.7.2: the RST check comes first: SYN+RST is ignored. */
static void
test_listen_syn_with_rst_is_ignored(void **state)
{
	(void)state;
	peer_tcp(7, peer_iss, 0, SYN | RST, 65535, NULL, NULL);
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 0);
	assert_int_equal(fj_stack_counter(S, "tcp_passive_opens"), 0);
}

/* RFC 9293 §3.10.7.2 fourth: neither SYN, ACK nor RST (a bare FIN with
 * data): "drop the segment and return" -- no reset. */
static void
test_listen_segment_without_syn_or_ack_is_dropped(void **state)
{
	(void)state;
	peer_tcp(7, peer_iss, 0, FIN | PSH, 65535, NULL, "stray");
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 0);
}

/* RFC 9293 §3.1: a bad checksum: dropped silently, counted, no state. */
static void
test_listen_syn_with_bad_checksum_is_dropped(void **state)
{
	(void)state;
	send_seg((struct pseg){ .dport = 7, .seq = peer_iss, .flags = SYN, .wnd = 65535,
				.bad_csum = true });
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "drop_tcp_checksum"), 1);
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 0);
}

/* RFC 9293 §3.10.7.2 third: the SYN-ACK acknowledges the SYN only; a FIN
 * on the SYN is handled later or retransmitted by the peer, never lost. */
static void
test_listen_syn_fin_is_handled_sanely(void **state)
{
	(void)state;
	peer_tcp(22, peer_iss, 0, SYN | FIN, 65535, NULL, NULL);
	struct fj_tcp_hdr sa = expect_tcp(SYN | ACK, NULL, NULL);
	assert_int_equal(sa.ack, peer_iss + 1);
	peer_tcp(22, peer_iss + 1, sa.seq + 1, ACK, 65535, NULL, NULL);
	while (seen < nout) {
		struct seg s = next_seg();
		assert_int_equal(s.h.flags, ACK);
		assert_true(s.h.ack == peer_iss + 1 || s.h.ack == peer_iss + 2);
	}
	/* The peer, unanswered, sends its FIN again: acknowledged, EOF. */
	peer_tcp(22, peer_iss + 1, sa.seq + 1, FIN | ACK, 65535, NULL, NULL);
	expect_ack(sa.seq + 1, peer_iss + 2);
	expect_nothing();
	assert_int_equal(obs_last, FJ_EOF);
	assert_int_equal(obs_bytes, 0);
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 1);
}

/* RFC 9293 §3.10.7.2 third: data on a SYN may be queued or left for the
 * peer to resend; either way it reaches the application once. */
static void
test_listen_syn_with_data_delivers_it_once(void **state)
{
	(void)state;
	peer_tcp(7, peer_iss, 0, SYN, 65535, NULL, "early");
	struct fj_tcp_hdr sa = expect_tcp(SYN | ACK, NULL, NULL);
	uint32_t iss1 = sa.seq + 1;
	if (sa.ack == peer_iss + 1) {
		/* Not taken: the peer sends it again with its ACK. */
		peer_tcp(7, peer_iss + 1, iss1, ACK | PSH, 65535, NULL, "early");
	} else {
		assert_int_equal(sa.ack, peer_iss + 6);
		peer_tcp(7, peer_iss + 6, iss1, ACK, 65535, NULL, NULL);
	}
	uint32_t plen;
	const uint8_t *pl;
	struct fj_tcp_hdr d = expect_tcp(ACK | PSH, &plen, &pl);
	assert_int_equal(d.seq, iss1);
	assert_int_equal(d.ack, peer_iss + 6);
	assert_int_equal(plen, 5);
	assert_memory_equal(pl, "early", 5);
	expect_nothing();
}

/* RFC 7323 §2.2: the window of a SYN-ACK is never scaled; after it, ours
 * is (shift 7) and its right edge is where the buffer ends. */
static void
test_syn_ack_window_is_unscaled_then_scaled(void **state)
{
	(void)state;
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1000, .has_ws = true, .ws = 2 };
	struct fj_tcp_hdr sa;
	uint32_t iss1 = hs_opts(10, &o, 65535, &sa);
	assert_int_equal(sa.wnd, 65535);
	assert_true(sa.o.has_ws);
	assert_int_equal(sa.o.ws, 7);
	peer_tcp(10, peer_iss + 1, iss1, ACK | PSH, 65535, NULL, "abc");
	advance(50 * MS);
	struct fj_tcp_hdr a = expect_ack(iss1, peer_iss + 4);
	uint32_t edge = a.ack + ((uint32_t)a.wnd << 7);
	/* The edge is the buffer's (to the scale's 128-byte precision). */
	assert_true(edge <= peer_iss + 1 + RCVBUF && edge + 128 > peer_iss + 1 + RCVBUF);
	expect_nothing();
}

/* RFC 7323 §2.2: no window scale option from the peer: our windows are
 * never scaled (at most 65535) and their right edge does not creep. */
static void
test_without_peer_window_scale_our_window_is_unscaled(void **state)
{
	(void)state;
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1000 };
	struct fj_tcp_hdr sa;
	uint32_t iss1 = hs_opts(10, &o, 65535, &sa);
	assert_false(sa.o.has_ws);
	assert_int_equal(sa.wnd, 65535);
	peer_tcp(10, peer_iss + 1, iss1, ACK | PSH, 65535, NULL, "abc");
	advance(50 * MS);
	struct fj_tcp_hdr a = expect_ack(iss1, peer_iss + 4);
	assert_int_equal(a.ack + a.wnd, peer_iss + 1 + 65535);
	expect_nothing();
}

/* RFC 6528 §3: ISN = M + F(4-tuple, key), M a 4-microsecond clock: the
 * same 4-tuple one second later starts 250000 further on. */
static void
test_isn_advances_with_a_4us_clock(void **state)
{
	(void)state;
	peer_tcp(7, peer_iss, 0, SYN, 65535, NULL, NULL);
	struct fj_tcp_hdr a = expect_tcp(SYN | ACK, NULL, NULL);
	peer_tcp(7, peer_iss + 1, 0, RST, 65535, NULL, NULL); /* gone again */
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 0);
	advance(SEC);
	expect_nothing();
	peer_tcp(7, peer_iss, 0, SYN, 65535, NULL, NULL);
	struct fj_tcp_hdr b = expect_tcp(SYN | ACK, NULL, NULL);
	assert_int_equal(b.seq - a.seq, SEC / 4);
	/* Another port of the peer: another, unrelated ISN. */
	send_seg((struct pseg){ .sport = PPORT + 1, .dport = 7, .seq = peer_iss, .flags = SYN,
				.wnd = 65535 });
	struct seg c = next_seg();
	assert_int_equal(c.h.flags, SYN | ACK);
	assert_int_equal(c.h.dport, PPORT + 1);
	assert_true(c.h.seq != b.seq);
}

/* RFC 9293 §3.10.7.1: an ACK for a connection that is over (not even
 * TIME_WAIT: we closed last) is answered with RST <SEQ=SEG.ACK>. */
static void
test_ack_for_a_finished_connection_gets_rst(void **state)
{
	(void)state;
	struct conn c = reach(ST_LA);
	peer_tcp(7, c.rcv, c.snd, ACK, 65535, NULL, NULL);
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 0);
	peer_tcp(7, c.rcv, c.snd, ACK | PSH, 65535, NULL, "late");
	expect_seg(RST, c.snd, 0, 0);
	expect_nothing();
}

/* ====================================================== SYN_RCVD */

/* RFC 5961 §3.2 (all states but SYN-SENT): a RST in the window, not exact:
 * a challenge ACK; the half-open connection still completes. */
static void
test_syn_rcvd_rst_in_window_gets_challenge_ack(void **state)
{
	(void)state;
	peer_tcp(22, peer_iss, 0, SYN, 65535, NULL, NULL);
	struct fj_tcp_hdr sa = expect_tcp(SYN | ACK, NULL, NULL);
	peer_tcp(22, peer_iss + 100, 0, RST, 65535, NULL, NULL);
	expect_ack(sa.seq + 1, peer_iss + 1);
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "tcp_challenge_acks"), 1);
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 1);
	peer_tcp(22, peer_iss + 1, sa.seq + 1, ACK, 65535, NULL, NULL);
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "tcp_established"), 1);
	assert_int_equal(obs_events, 1);
}

/* RFC 5961 §3.2 (1): a RST outside the window in SYN_RCVD: silence. */
static void
test_syn_rcvd_rst_out_of_window_is_ignored(void **state)
{
	(void)state;
	peer_tcp(22, peer_iss, 0, SYN, 65535, NULL, NULL);
	struct fj_tcp_hdr sa = expect_tcp(SYN | ACK, NULL, NULL);
	peer_tcp(22, peer_iss + 1 + 5 * RCVBUF, 0, RST, 65535, NULL, NULL);
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 1);
	peer_tcp(22, peer_iss + 1, sa.seq + 1, ACK, 65535, NULL, NULL);
	assert_int_equal(fj_stack_counter(S, "tcp_established"), 1);
}

/* RFC 9293 §3.10.7.4: our SYN-ACK lost, the peer's SYN again: the same
 * SYN-ACK (same ISN, same options), not a second connection. */
static void
test_syn_rcvd_repeated_syn_gets_the_same_syn_ack(void **state)
{
	(void)state;
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1200, .has_ws = true, .ws = 5,
				 .sack_perm = true };
	peer_tcp(7, peer_iss, 0, SYN, 65535, &o, NULL);
	struct fj_tcp_hdr a = expect_tcp(SYN | ACK, NULL, NULL);
	advance(300 * MS);
	peer_tcp(7, peer_iss, 0, SYN, 65535, &o, NULL);
	struct fj_tcp_hdr b = expect_tcp(SYN | ACK, NULL, NULL);
	expect_nothing();
	assert_int_equal(b.seq, a.seq);
	assert_int_equal(b.ack, peer_iss + 1);
	assert_int_equal(b.wnd, a.wnd);
	assert_true(b.o.has_mss && b.o.mss == 1460);
	assert_true(b.o.has_ws && b.o.ws == 7);
	assert_true(b.o.sack_perm);
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 1);
	assert_int_equal(fj_stack_counter(S, "tcp_passive_opens"), 1);
}

/* RFC 9293 §3.10.7.4 fifth, SYN-RECEIVED: an ACK of our ISS itself (too
 * old) is not acceptable: RST <SEQ=SEG.ACK>; the connection waits on. */
static void
test_syn_rcvd_ack_of_iss_gets_rst(void **state)
{
	(void)state;
	peer_tcp(7, peer_iss, 0, SYN, 65535, NULL, NULL);
	struct fj_tcp_hdr sa = expect_tcp(SYN | ACK, NULL, NULL);
	peer_tcp(7, peer_iss + 1, sa.seq, ACK, 65535, NULL, NULL);
	expect_seg(RST, sa.seq, 0, 0);
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "tcp_established"), 0);
	peer_tcp(7, peer_iss + 1, sa.seq + 1, ACK, 65535, NULL, NULL);
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "tcp_established"), 1);
}

/* RFC 9293 §3.10.7.4 fifth: without the ACK bit a segment is dropped, even
 * with data; the handshake completes later without it. */
static void
test_syn_rcvd_data_without_ack_is_dropped(void **state)
{
	(void)state;
	peer_tcp(22, peer_iss, 0, SYN, 65535, NULL, NULL);
	struct fj_tcp_hdr sa = expect_tcp(SYN | ACK, NULL, NULL);
	peer_tcp(22, peer_iss + 1, 0, PSH, 65535, NULL, "noack");
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "tcp_established"), 0);
	peer_tcp(22, peer_iss + 1, sa.seq + 1, ACK, 65535, NULL, NULL);
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "tcp_established"), 1);
	assert_int_equal(obs_bytes, 0);
	assert_int_equal(obs_last, FJ_AGAIN);
}

/* RFC 9293 §3.10.7.4: the ACK that completes the handshake may carry
 * data: it is taken (and echoed) at once. */
static void
test_syn_rcvd_handshake_ack_carries_data(void **state)
{
	(void)state;
	peer_tcp(7, peer_iss, 0, SYN, 65535, NULL, NULL);
	struct fj_tcp_hdr sa = expect_tcp(SYN | ACK, NULL, NULL);
	peer_tcp(7, peer_iss + 1, sa.seq + 1, ACK | PSH, 65535, NULL, "hello");
	uint32_t plen;
	const uint8_t *pl;
	struct fj_tcp_hdr d = expect_tcp(ACK | PSH, &plen, &pl);
	assert_int_equal(d.seq, sa.seq + 1);
	assert_int_equal(d.ack, peer_iss + 6);
	assert_int_equal(plen, 5);
	assert_memory_equal(pl, "hello", 5);
	expect_nothing();
}

/* RFC 9293 §3.10.7.4 eighth: a FIN on the handshake's ACK: CLOSE_WAIT;
 * the echo closes, our FIN follows. */
static void
test_syn_rcvd_handshake_ack_carries_fin(void **state)
{
	(void)state;
	peer_tcp(7, peer_iss, 0, SYN, 65535, NULL, NULL);
	struct fj_tcp_hdr sa = expect_tcp(SYN | ACK, NULL, NULL);
	peer_tcp(7, peer_iss + 1, sa.seq + 1, FIN | ACK, 65535, NULL, NULL);
	expect_ack(sa.seq + 1, peer_iss + 2);
	expect_seg(FIN | ACK, sa.seq + 1, peer_iss + 2, 0);
	expect_nothing();
	peer_tcp(7, peer_iss + 2, sa.seq + 2, ACK, 65535, NULL, NULL);
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 0);
}

/* ====================================================== RST, SYN, ACK by state */

static void
test_fin_wait_1_rst_in_window_gets_challenge_ack(void **state)
{
	(void)state;
	rst_in_window_case(ST_FW1);
}

static void
test_fin_wait_2_rst_in_window_gets_challenge_ack(void **state)
{
	(void)state;
	rst_in_window_case(ST_FW2);
}

static void
test_close_wait_rst_in_window_gets_challenge_ack(void **state)
{
	(void)state;
	rst_in_window_case(ST_CW);
}

static void
test_closing_rst_in_window_gets_challenge_ack(void **state)
{
	(void)state;
	rst_in_window_case(ST_CLOSING);
}

static void
test_last_ack_rst_in_window_gets_challenge_ack(void **state)
{
	(void)state;
	rst_in_window_case(ST_LA);
}

static void
test_time_wait_rst_in_window_gets_challenge_ack(void **state)
{
	(void)state;
	rst_in_window_case(ST_TW);
}


static void
test_established_exact_rst_tells_the_app(void **state)
{
	(void)state;
	rst_exact_case(ST_EST);
}

static void
test_fin_wait_1_exact_rst_ends_the_flow(void **state)
{
	(void)state;
	rst_exact_case(ST_FW1);
}

static void
test_fin_wait_2_exact_rst_ends_the_flow(void **state)
{
	(void)state;
	rst_exact_case(ST_FW2);
}

static void
test_close_wait_exact_rst_ends_the_flow(void **state)
{
	(void)state;
	rst_exact_case(ST_CW);
}

static void
test_closing_exact_rst_ends_the_flow(void **state)
{
	(void)state;
	rst_exact_case(ST_CLOSING);
}

static void
test_last_ack_exact_rst_ends_the_flow(void **state)
{
	(void)state;
	rst_exact_case(ST_LA);
}


static void
test_established_rst_out_of_window_is_ignored(void **state)
{
	(void)state;
	rst_out_of_window_case(ST_EST);
}

static void
test_close_wait_rst_out_of_window_is_ignored(void **state)
{
	(void)state;
	rst_out_of_window_case(ST_CW);
}

static void
test_time_wait_rst_out_of_window_is_ignored(void **state)
{
	(void)state;
	rst_out_of_window_case(ST_TW);
}


static void
test_fin_wait_1_syn_gets_challenge_ack(void **state)
{
	(void)state;
	syn_case(ST_FW1);
}

static void
test_fin_wait_2_syn_gets_challenge_ack(void **state)
{
	(void)state;
	syn_case(ST_FW2);
}

static void
test_close_wait_syn_gets_challenge_ack(void **state)
{
	(void)state;
	syn_case(ST_CW);
}

static void
test_closing_syn_gets_challenge_ack(void **state)
{
	(void)state;
	syn_case(ST_CLOSING);
}

static void
test_last_ack_syn_gets_challenge_ack(void **state)
{
	(void)state;
	syn_case(ST_LA);
}

static void
test_time_wait_syn_gets_challenge_ack(void **state)
{
	(void)state;
	syn_case(ST_TW);
}


static void
test_fin_wait_1_data_out_of_window_gets_ack(void **state)
{
	(void)state;
	data_out_of_window_case(ST_FW1);
}

static void
test_fin_wait_2_data_out_of_window_gets_ack(void **state)
{
	(void)state;
	data_out_of_window_case(ST_FW2);
}

static void
test_close_wait_data_out_of_window_gets_ack(void **state)
{
	(void)state;
	data_out_of_window_case(ST_CW);
}

static void
test_closing_data_out_of_window_gets_ack(void **state)
{
	(void)state;
	data_out_of_window_case(ST_CLOSING);
}

static void
test_last_ack_data_out_of_window_gets_ack(void **state)
{
	(void)state;
	data_out_of_window_case(ST_LA);
}

static void
test_time_wait_data_out_of_window_gets_ack(void **state)
{
	(void)state;
	data_out_of_window_case(ST_TW);
}


static void
test_fin_wait_2_ack_of_unsent_gets_ack(void **state)
{
	(void)state;
	ack_too_new_case(ST_FW2);
}

static void
test_close_wait_ack_of_unsent_gets_ack(void **state)
{
	(void)state;
	ack_too_new_case(ST_CW);
}

static void
test_closing_ack_of_unsent_gets_ack(void **state)
{
	(void)state;
	ack_too_new_case(ST_CLOSING);
}


/* RFC 9293 §3.10.7.4 fifth, FIN-WAIT-1: an ACK beyond SND.NXT does not
 * acknowledge our FIN: it is answered, and the FIN still goes again. */
static void
test_fin_wait_1_ack_of_unsent_does_not_ack_our_fin(void **state)
{
	(void)state;
	struct conn c = reach(ST_FW1);
	peer_tcp(c.port, c.rcv, c.snd + 1000, ACK, 65535, NULL, NULL);
	expect_ack(c.snd, c.rcv);
	expect_nothing();
	advance(SEC + 2 * MS);
	expect_seg(FIN | ACK, c.snd - 1, c.rcv, 0);
	expect_nothing();
}

/* ====================================================== other segments by state */

/* RFC 9293 §3.10.7.4 fifth: data without the ACK bit is dropped: not
 * delivered, not acknowledged. */
static void
test_established_data_without_ack_is_dropped(void **state)
{
	(void)state;
	struct conn c = reach(ST_EST);
	peer_tcp(c.port, c.rcv, 0, PSH, 65535, NULL, "naked");
	advance(100 * MS);
	expect_nothing();
	assert_int_equal(obs_bytes, 0);
	/* The same data with an ACK is taken. */
	peer_tcp(c.port, c.rcv, c.snd, ACK | PSH, 65535, NULL, "naked");
	advance(100 * MS);
	expect_ack(c.snd, c.rcv + 5);
	assert_int_equal(obs_bytes, 5);
}

/* RFC 9293 §3.10.7.4 fifth: a FIN without the ACK bit is dropped: no
 * ACK, no end of stream. */
static void
test_established_fin_without_ack_is_dropped(void **state)
{
	(void)state;
	struct conn c = reach(ST_EST);
	peer_tcp(c.port, c.rcv, 0, FIN, 65535, NULL, NULL);
	advance(100 * MS);
	expect_nothing();
	assert_int_not_equal(obs_last, FJ_EOF);
	peer_tcp(c.port, c.rcv, c.snd, ACK | PSH, 65535, NULL, "still open");
	advance(100 * MS);
	expect_ack(c.snd, c.rcv + 10);
	assert_int_equal(obs_bytes, 10);
}

/* RFC 9293 §3.10.7.4 seventh, FIN-WAIT-1: after our FIN the peer's data
 * is still delivered and acknowledged (with the usual delay). */
static void
test_fin_wait_1_data_is_delivered_and_acked(void **state)
{
	(void)state;
	struct conn c = reach(ST_FW1);
	peer_tcp(c.port, c.rcv, c.snd - 1, ACK | PSH, 65535, NULL, "data");
	assert_int_equal(obs_bytes, 4);
	assert_memory_equal(obs_data, "data", 4);
	advance(41 * MS);
	expect_ack(c.snd, c.rcv + 4);
	expect_nothing();
	/* Our FIN is still unacknowledged: it goes again at the RTO. */
	advance(SEC);
	expect_seg(FIN | ACK, c.snd - 1, c.rcv + 4, 0);
}

/* RFC 9293 §3.10.7.4, TIME-WAIT: a duplicate of the peer's last ACK needs
 * no answer. */
static void
test_time_wait_pure_ack_is_silent(void **state)
{
	(void)state;
	struct conn c = reach(ST_TW);
	peer_tcp(c.port, c.rcv, c.snd, ACK, 65535, NULL, NULL);
	expect_nothing();
	advance(SEC);
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 1);
}

/* RFC 9293 §3.10.7.4 fifth, FIN-WAIT-2: no ACK bit, no delivery. */
static void
test_fin_wait_2_data_without_ack_is_dropped(void **state)
{
	(void)state;
	struct conn c = reach(ST_FW2);
	peer_tcp(c.port, c.rcv, 0, PSH, 65535, NULL, "naked");
	advance(100 * MS);
	expect_nothing();
	assert_int_equal(obs_bytes, 0);
	peer_tcp(c.port, c.rcv, c.snd, ACK | PSH, 65535, NULL, "dressed");
	advance(100 * MS);
	expect_ack(c.snd, c.rcv + 7);
	assert_int_equal(obs_bytes, 7);
}

/* RFC 9293 §3.10.7.4 sixth (RFC 6093): URG with an urgent pointer: the
 * bytes are ordinary data in order; we send no URG back. */
static void
test_urgent_data_is_delivered_inline(void **state)
{
	(void)state;
	uint32_t iss1 = hs(7, 65535, true);
	send_seg((struct pseg){ .dport = 7, .seq = peer_iss + 1, .ack = iss1,
				.flags = URG | ACK | PSH, .wnd = 65535, .urg = 3,
				.data = "urgent!", .len = 7 });
	uint32_t plen;
	const uint8_t *pl;
	struct fj_tcp_hdr d = expect_tcp(ACK | PSH, &plen, &pl);
	assert_int_equal(d.seq, iss1);
	assert_int_equal(d.ack, peer_iss + 8);
	assert_int_equal(d.urg, 0);
	assert_int_equal(plen, 7);
	assert_memory_equal(pl, "urgent!", 7);
	expect_nothing();
}

/* RFC 6093 §3: an urgent pointer far past the segment is harmless. */
static void
test_urgent_pointer_beyond_the_data_is_harmless(void **state)
{
	(void)state;
	uint32_t iss1 = hs(7, 65535, true);
	send_seg((struct pseg){ .dport = 7, .seq = peer_iss + 1, .ack = iss1, .flags = URG | ACK,
				.wnd = 65535, .urg = 60000, .data = "ab", .len = 2 });
	uint32_t plen;
	const uint8_t *pl;
	struct fj_tcp_hdr d = expect_tcp(ACK | PSH, &plen, &pl);
	assert_int_equal(d.ack, peer_iss + 3);
	assert_int_equal(plen, 2);
	assert_memory_equal(pl, "ab", 2);
	/* ...and what follows is ordinary data too. */
	peer_tcp(7, peer_iss + 3, iss1 + 2, ACK, 65535, NULL, "cd");
	d = expect_tcp(ACK | PSH, &plen, &pl);
	assert_int_equal(d.seq, iss1 + 2);
	assert_memory_equal(pl, "cd", 2);
	expect_nothing();
}

/* RFC 9293 §3.10.7.4 fifth: an old ACK (below SND.UNA) is ignored: no
 * answer, nothing goes again. */
static void
test_established_old_ack_is_ignored(void **state)
{
	(void)state;
	uint32_t iss1 = hs(7, 65535, true);
	peer_tcp(7, peer_iss + 1, iss1, ACK | PSH, 65535, NULL, "hello");
	expect_seg(ACK | PSH, iss1, peer_iss + 6, 5);
	peer_tcp(7, peer_iss + 6, iss1 + 5, ACK, 65535, NULL, NULL);
	peer_tcp(7, peer_iss + 6, iss1, ACK, 65535, NULL, NULL);
	peer_tcp(7, peer_iss + 6, iss1 + 2, ACK, 65535, NULL, NULL);
	expect_nothing();
	advance(10 * SEC);
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "tcp_retransmits"), 0);
}

/* RFC 9293 §3.10.7.4 seventh, CLOSE-WAIT: text after the peer's FIN is
 * ignored: not delivered, never acknowledged. */
static void
test_close_wait_data_after_fin_is_ignored(void **state)
{
	(void)state;
	struct conn c = reach(ST_CW);
	peer_tcp(c.port, c.rcv, c.snd, ACK | PSH, 65535, NULL, "zombie");
	advance(100 * MS);
	drain_acks(c.rcv);
	assert_int_equal(obs_bytes, 0);
	assert_int_equal(obs_last, FJ_EOF);
}

/* RFC 9293 §3.10.7.4 first: the peer's FIN again in CLOSE_WAIT is an old
 * duplicate: an ACK, nothing else. */
static void
test_close_wait_retransmitted_fin_is_acked(void **state)
{
	(void)state;
	struct conn c = reach(ST_CW);
	peer_tcp(c.port, c.rcv - 1, c.snd, FIN | ACK, 65535, NULL, NULL);
	expect_ack(c.snd, c.rcv);
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 1);
}

/* RFC 9293 §3.10.7.4 first: in TIME_WAIT an old retransmission of data is
 * unacceptable: answered with an ACK of everything, FIN included. */
static void
test_time_wait_old_data_is_acked(void **state)
{
	(void)state;
	uint32_t iss1 = hs(23, 65535, true);
	expect_seg(FIN | ACK, iss1, peer_iss + 1, 0);
	peer_tcp(23, peer_iss + 1, iss1 + 1, ACK | PSH, 65535, NULL, "abc"); /* FIN_WAIT_2 */
	peer_tcp(23, peer_iss + 4, iss1 + 1, FIN | ACK, 65535, NULL, NULL);  /* TIME_WAIT */
	expect_ack(iss1 + 1, peer_iss + 5);
	expect_nothing();
	assert_int_equal(obs_bytes, 3);
	peer_tcp(23, peer_iss + 1, iss1 + 1, ACK | PSH, 65535, NULL, "abc");
	expect_ack(iss1 + 1, peer_iss + 5);
	expect_nothing();
	assert_int_equal(obs_bytes, 3);
}

/* RFC 9293 §3.10.7.4, TIME-WAIT: every retransmission of the peer's FIN
 * (its ACK was lost) is acknowledged again, exactly; the wait still ends
 * (whether or not a FIN restarts it). */
static void
test_time_wait_acks_every_retransmitted_fin(void **state)
{
	(void)state;
	struct conn c = reach(ST_TW);
	for (int i = 0; i < 3; i++) {
		advance_fresh(15 * SEC);
		peer_tcp(c.port, c.rcv - 1, c.snd, FIN | ACK, 65535, NULL, NULL);
		expect_ack(c.snd, c.rcv);
		expect_nothing();
	}
	advance_fresh(14 * SEC); /* 59 s after entering TIME_WAIT */
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 1);
	advance_fresh(47 * SEC); /* 61 s after the last FIN */
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 0);
	expect_nothing();
}

/* RFC 9293 §3.10.7.4 eighth, FIN-WAIT-1: a FIN that also acknowledges our
 * FIN: straight to TIME_WAIT, for 2 MSL. */
static void
test_fin_wait_1_fin_acking_our_fin_enters_time_wait(void **state)
{
	(void)state;
	uint32_t iss1 = hs(8, 65535, true);
	expect_seg(FIN | ACK, iss1, peer_iss + 1, 0);
	peer_tcp(8, peer_iss + 1, iss1 + 1, FIN | ACK, 65535, NULL, NULL);
	expect_ack(iss1 + 1, peer_iss + 2);
	expect_nothing();
	advance(59 * SEC);
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 1);
	expect_nothing(); /* no FIN again: it was acknowledged */
	advance(2 * SEC);
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 0);
}

/* RFC 9293 §3.10.7.4 eighth: a FIN beyond a hole is not processed before
 * the hole is filled; the stream ends after all the data. */
static void
test_out_of_order_fin_waits_for_the_gap(void **state)
{
	(void)state;
	struct conn c = reach(ST_EST);
	peer_tcp(c.port, c.rcv + 5, c.snd, FIN | ACK, 65535, NULL, "world");
	expect_ack(c.snd, c.rcv);
	expect_nothing();
	assert_int_equal(obs_bytes, 0);
	assert_int_not_equal(obs_last, FJ_EOF);
	peer_tcp(c.port, c.rcv, c.snd, ACK, 65535, NULL, "hello");
	struct fj_tcp_hdr a = expect_tcp(ACK, NULL, NULL);
	if (a.ack == c.rcv + 10) {
		/* The FIN was not kept: the peer sends it again. */
		drain_acks(c.rcv + 10);
		peer_tcp(c.port, c.rcv + 10, c.snd, FIN | ACK, 65535, NULL, NULL);
		expect_ack(c.snd, c.rcv + 11);
	} else {
		assert_int_equal(a.ack, c.rcv + 11);
	}
	drain_acks(c.rcv + 11);
	assert_int_equal(obs_bytes, 10);
	assert_memory_equal(obs_data, "helloworld", 10);
	assert_int_equal(obs_last, FJ_EOF);
}

/* ====================================================== closing */

/* RFC 9293 §3.10.2 (SEND in CLOSE-WAIT): after the peer's FIN we may still
 * send; our FIN follows the data. */
static void
test_peer_half_close_we_keep_sending(void **state)
{
	(void)state;
	uint32_t iss1 = hs(25, 65535, true);
	expect_nothing();
	peer_tcp(25, peer_iss + 1, iss1, FIN | ACK, 65535, NULL, NULL);
	expect_ack(iss1, peer_iss + 2);
	uint32_t plen;
	const uint8_t *pl;
	struct fj_tcp_hdr d = expect_tcp(ACK | PSH, &plen, &pl);
	assert_int_equal(d.seq, iss1);
	assert_int_equal(plen, 7);
	assert_memory_equal(pl, "bye now", 7);
	expect_seg(FIN | ACK, iss1 + 7, peer_iss + 2, 0);
	expect_nothing();
	peer_tcp(25, peer_iss + 2, iss1 + 8, ACK, 65535, NULL, NULL);
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 0);
}

/* RFC 9293 §3.10.4 (CLOSE): queued data goes first, as the window
 * allows; the FIN after the last byte. */
static void
test_close_sends_queued_data_then_fin(void **state)
{
	(void)state;
	wr_total = 3000;
	wr_close = true;
	uint32_t iss1 = hs(20, 1000, false);
	for (uint32_t off = 0; off < 3000; off += 1000) {
		struct seg s = next_seg();
		assert_int_equal(s.h.flags & ~(PSH | FIN), ACK);
		assert_int_equal(s.h.seq, iss1 + off);
		assert_int_equal(s.plen, 1000);
		assert_int_equal(s.pl[0], pat(off));
		expect_nothing();
		bool fin = s.h.flags & FIN;
		assert_true(!fin || off == 2000);
		peer_tcp(20, peer_iss + 1, iss1 + off + 1000, ACK, 1000, NULL, NULL);
		if (off == 2000 && !fin)
			expect_seg(FIN | ACK, iss1 + 3000, peer_iss + 1, 0);
	}
	expect_nothing();
	peer_tcp(20, peer_iss + 1, iss1 + 3001, FIN | ACK, 1000, NULL, NULL);
	expect_ack(iss1 + 3001, peer_iss + 2);
	expect_nothing();
}

/* RFC 9293 §3.10.5 (ABORT): a RST <SEQ=SND.NXT> at once; the connection
 * is gone, so a later segment of the peer gets a RST of its own. */
static void
test_abort_sends_rst_and_forgets(void **state)
{
	(void)state;
	uint32_t iss1 = hs(24, 65535, true);
	expect_nothing();
	peer_tcp(24, peer_iss + 1, iss1, ACK | PSH, 65535, NULL, "kill");
	struct seg r = next_seg();
	assert_int_equal(r.h.flags & ~ACK, RST);
	assert_int_equal(r.h.seq, iss1);
	assert_int_equal(r.plen, 0);
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 0);
	assert_int_equal(fj_stack_counter(S, "tcp_rst_tx"), 1);
	peer_tcp(24, peer_iss + 5, iss1, ACK | PSH, 65535, NULL, "more");
	expect_seg(RST, iss1, 0, 0);
	advance(5 * SEC);
	expect_nothing();
}

/* RFC 9293 §3.10.2 (SEND in FIN-WAIT-1): "connection closing": refused. */
static void
test_write_after_shutdown_is_refused(void **state)
{
	(void)state;
	reach(ST_FW1);
	assert_non_null(obs);
	struct fj_buf *b = fj_buf_alloc(S, 10);
	memset(fj_buf_data(b), 'x', 10);
	assert_int_equal(fj_flow_write(obs, b), -EPIPE);
	fj_stack_poll(S);
	expect_nothing();
}

/* RFC 9293 §3.10.7.4 (RST): the user is told "connection reset": reads
 * give the error and so do writes. */
static void
test_reset_connection_reports_econnreset_to_reads_and_writes(void **state)
{
	(void)state;
	uint32_t iss1 = hs(21, 65535, true);
	(void)iss1;
	assert_non_null(lazy_flow);
	int ev = lazy_events;
	peer_tcp(21, peer_iss + 1, 0, RST, 65535, NULL, NULL);
	assert_int_equal(lazy_events, ev + 1);
	struct fj_buf *b = NULL;
	assert_int_equal(fj_flow_read(lazy_flow, &b), FJ_ERROR);
	assert_int_equal(fj_flow_error(lazy_flow), -ECONNRESET);
	b = fj_buf_alloc(S, 10);
	memset(fj_buf_data(b), 'x', 10);
	assert_int_equal(fj_flow_write(lazy_flow, b), -ECONNRESET);
	fj_flow_close(lazy_flow);
	fj_stack_poll(S);
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 0);
}

/* ====================================================== window scaling, MSS */

/* Peer window @field under shift @ws (peer MSS 1000): exactly @bytes go. */
static void
window_case(uint8_t ws, uint16_t field, uint32_t bytes)
{
	wr_total = 10000;
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1000, .has_ws = true, .ws = ws };
	struct fj_tcp_hdr sa;
	uint32_t iss1 = hs_opts(20, &o, field, &sa);
	assert_int_equal(sa.o.ws, 7);
	for (uint32_t off = 0; off < bytes; off += 1000) {
		struct fj_tcp_hdr d = expect_data(iss1 + off, peer_iss + 1, 1000, off);
		assert_int_equal(d.wnd, RCVBUF >> 7); /* ours is scaled */
	}
	expect_nothing();
}

/* RFC 7323 §2.3: shift 0 is valid (scaling on, factor 1). */
static void
test_peer_window_shift_0(void **state)
{
	(void)state;
	window_case(0, 3000, 3000);
}

/* RFC 7323 §2.3: shift 1: a field of 1500 means 3000 bytes. */
static void
test_peer_window_shift_1(void **state)
{
	(void)state;
	window_case(1, 1500, 3000);
}

/* Peer MSS 1460 and shift @ws, window field 1: the sender never passes
 * SND.UNA + 16384 once the congestion window is larger. */
static void
window_shift_14_case(uint8_t ws)
{
	wr_total = 40000;
	wr_chunk = 1460;
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1460, .has_ws = true, .ws = ws };
	uint32_t iss1 = hs_opts(20, &o, 1, NULL);
	for (uint32_t i = 0; i < 10; i++) /* IW10: 14600 <= 16384 */
		expect_data(iss1 + i * 1460, peer_iss + 1, 1460, i * 1460);
	expect_nothing();
	peer_tcp(20, peer_iss + 1, iss1 + 1460, ACK, 1, NULL, NULL);
	expect_data(iss1 + 14600, peer_iss + 1, 1460, 14600);
	expect_data(iss1 + 16060, peer_iss + 1, 1460, 16060);
	expect_nothing();
	/* cwnd is now 17520 > 16384: the window is the limit. */
	peer_tcp(20, peer_iss + 1, iss1 + 2920, ACK, 1, NULL, NULL);
	expect_data(iss1 + 17520, peer_iss + 1, 1460, 17520);
	while (seen < nout) {
		struct seg s = next_seg();
		assert_true(s.h.seq - iss1 + s.plen <= 2920 + 16384);
	}
}

/* RFC 7323 §2.3: shift 14, the largest: a field of 1 is 16384 bytes. */
static void
test_peer_window_shift_14(void **state)
{
	(void)state;
	window_shift_14_case(14);
}

/* RFC 7323 §2.3: a shift above 14 MUST be used as 14. */
static void
test_peer_window_shift_above_14_is_used_as_14(void **state)
{
	(void)state;
	window_shift_14_case(15);
}

/* The peer's SYN @o (window 0 after it); the writer queues 3000 bytes;
 * the window opens: the segment sizes. */
static uint32_t
mss_case(const struct fj_tcp_opts *o)
{
	wr_total = 3000;
	uint32_t iss1 = hs_opts(20, o, 0, NULL);
	expect_nothing(); /* a closed window */
	struct fj_tcp_opts t = { .has_ts = o->has_ts, .tsval = o->tsval + 2 };
	peer_tcp(20, peer_iss + 1, iss1, ACK, 65535, &t, NULL);
	return iss1;
}

static void
expect_sizes(uint32_t iss1, const uint32_t *sizes, int n)
{
	uint32_t off = 0;
	for (int i = 0; i < n; i++) {
		expect_data(iss1 + off, peer_iss + 1, sizes[i], off);
		off += sizes[i];
	}
	expect_nothing();
}

/* RFC 9293 §3.7.1: no MSS option: 536 bytes. */
static void
test_no_mss_option_means_536(void **state)
{
	(void)state;
	struct fj_tcp_opts o = { 0 };
	uint32_t iss1 = mss_case(&o);
	const uint32_t sizes[] = { 536, 536, 536, 536, 536, 320 };
	expect_sizes(iss1, sizes, 6);
}

/* RFC 9293 §3.7.1: the peer's MSS below ours limits our segments. */
static void
test_peer_mss_limits_our_segments(void **state)
{
	(void)state;
	struct fj_tcp_opts o = { .has_mss = true, .mss = 700 };
	uint32_t iss1 = mss_case(&o);
	const uint32_t sizes[] = { 700, 700, 700, 700, 200 };
	expect_sizes(iss1, sizes, 5);
}

/* RFC 9293 §3.7.1: a peer MSS above our MTU's: ours (1460) holds. */
static void
test_large_peer_mss_is_capped_by_our_mtu(void **state)
{
	(void)state;
	struct fj_tcp_opts o = { .has_mss = true, .mss = 9000 };
	uint32_t iss1 = mss_case(&o);
	const uint32_t sizes[] = { 1460, 1460, 80 };
	expect_sizes(iss1, sizes, 3);
}

/* RFC 9293 §3.7.1 (Eff.snd.MSS counts TCP options), RFC 7323: with
 * timestamps each segment carries 12 bytes less data. */
static void
test_timestamps_take_room_from_each_segment(void **state)
{
	(void)state;
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1000, .has_ts = true, .tsval = 100 };
	uint32_t iss1 = mss_case(&o);
	const uint32_t sizes[] = { 988, 988, 988, 36 };
	uint32_t off = 0;
	for (int i = 0; i < 4; i++) {
		struct fj_tcp_hdr d = expect_data(iss1 + off, peer_iss + 1, sizes[i], off);
		assert_true(d.o.has_ts);
		assert_int_equal(d.o.tsecr, 102);
		off += sizes[i];
	}
	expect_nothing();
}

/* ====================================================== timestamps */

static struct fj_tcp_opts
ts(uint32_t tsval)
{
	return (struct fj_tcp_opts){ .has_ts = true, .tsval = tsval };
}

/* A handshake with timestamps (TSval 1000, then 1001) and optionally SACK. */
static uint32_t
hs_ts(uint16_t port, bool sack)
{
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1000, .has_ts = true, .tsval = 1000,
				 .sack_perm = sack };
	struct fj_tcp_hdr sa;
	uint32_t iss1 = hs_opts(port, &o, 65535, &sa);
	assert_true(sa.o.has_ts);
	assert_int_equal(sa.o.tsecr, 1000);
	return iss1;
}

/* RFC 7323 §4.3 (C): an out-of-order segment does not update TS.Recent
 * (its SEQ is beyond Last.ACK.sent); the segment filling the hole does,
 * and its TSval is echoed. */
static void
test_ts_echo_after_out_of_order_and_gap_fill(void **state)
{
	(void)state;
	uint32_t iss1 = hs_ts(10, false);
	struct fj_tcp_opts o = ts(1010);
	peer_tcp(10, peer_iss + 11, iss1, ACK, 65535, &o, "later");
	struct fj_tcp_hdr a = expect_ack(iss1, peer_iss + 1);
	assert_int_equal(a.o.tsecr, 1001);
	o = ts(1005);
	peer_tcp(10, peer_iss + 1, iss1, ACK, 65535, &o, "0123456789");
	a = expect_ack(iss1, peer_iss + 16);
	assert_int_equal(a.o.tsecr, 1005);
	expect_nothing();
}

/* RFC 7323 §4.3 (A): a delayed ACK covering two segments echoes the TSval
 * of the earlier one. */
static void
test_ts_delayed_ack_echoes_the_earliest_segment(void **state)
{
	(void)state;
	uint32_t iss1 = hs_ts(10, false);
	struct fj_tcp_opts o = ts(1002);
	peer_tcp(10, peer_iss + 1, iss1, ACK, 65535, &o, "aaaa");
	expect_nothing();
	o = ts(1003);
	peer_tcp(10, peer_iss + 5, iss1, ACK, 65535, &o, "bbbb");
	struct fj_tcp_hdr a = expect_ack(iss1, peer_iss + 9);
	assert_true(a.o.has_ts);
	assert_int_equal(a.o.tsecr, 1002);
	expect_nothing();
}

/* RFC 7323 §5.3 (R1): PAWS is not applied to a RST: an exact RST with an
 * old TSval resets the connection. */
static void
test_paws_does_not_apply_to_rst(void **state)
{
	(void)state;
	hs_ts(22, false);
	struct fj_tcp_opts o = ts(7); /* far older than 1001 */
	peer_tcp(22, peer_iss + 1, 0, RST, 65535, &o, NULL);
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "tcp_paws_rejected"), 0);
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 0);
	assert_int_equal(obs_err, -ECONNRESET);
}

/* RFC 7323 §3.2: only non-RST segments must carry TSopt: a RST without
 * it is processed. */
static void
test_rst_without_timestamp_is_accepted(void **state)
{
	(void)state;
	hs_ts(22, false);
	peer_tcp(22, peer_iss + 1, 0, RST, 65535, NULL, NULL);
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 0);
	assert_int_equal(obs_err, -ECONNRESET);
}

/* RFC 7323 §5.3: a segment PAWS rejects is not processed: the ACK it
 * carries does not acknowledge our data, which goes again. */
static void
test_paws_rejected_ack_does_not_acknowledge(void **state)
{
	(void)state;
	uint32_t iss1 = hs_ts(7, false);
	struct fj_tcp_opts o = ts(1005);
	peer_tcp(7, peer_iss + 1, iss1, ACK | PSH, 65535, &o, "ping");
	struct fj_tcp_hdr d = expect_seg(ACK | PSH, iss1, peer_iss + 5, 4);
	o = ts(900);
	o.tsecr = d.o.tsval;
	peer_tcp(7, peer_iss + 5, iss1 + 4, ACK, 65535, &o, NULL);
	struct fj_tcp_hdr a = expect_ack(iss1 + 4, peer_iss + 5);
	assert_int_equal(a.o.tsecr, 1005);
	assert_int_equal(fj_stack_counter(S, "tcp_paws_rejected"), 1);
	advance(SEC - 2 * MS);
	expect_nothing();
	advance(4 * MS);
	expect_seg(ACK | PSH, iss1, peer_iss + 5, 4);
	expect_nothing();
}

/* RFC 7323 §5.2: timestamps compare modulo 2^32: a TSval that wrapped
 * past zero is newer, not older. */
static void
test_paws_compares_timestamps_modulo_2_32(void **state)
{
	(void)state;
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1000, .has_ts = true,
				 .tsval = 0xfffffff0u };
	uint32_t iss1 = hs_opts(7, &o, 65535, NULL);
	o = ts(5);
	peer_tcp(7, peer_iss + 1, iss1, ACK | PSH, 65535, &o, "wrap");
	struct fj_tcp_hdr d = expect_seg(ACK | PSH, iss1, peer_iss + 5, 4);
	assert_int_equal(d.o.tsecr, 5);
	assert_int_equal(fj_stack_counter(S, "tcp_paws_rejected"), 0);
}

/* RFC 7323 §5.3: an equal TSval is not old (many segments per tick). */
static void
test_paws_accepts_equal_timestamps(void **state)
{
	(void)state;
	uint32_t iss1 = hs_ts(7, false);
	struct fj_tcp_opts o = ts(1001);
	const char *m[] = { "a", "b", "c" };
	for (uint32_t i = 0; i < 3; i++) {
		peer_tcp(7, peer_iss + 1 + i, iss1 + i, ACK | PSH, 65535, &o, m[i]);
		struct fj_tcp_hdr d = expect_seg(ACK | PSH, iss1 + i, peer_iss + 2 + i, 1);
		assert_int_equal(d.o.tsecr, 1001);
	}
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "tcp_paws_rejected"), 0);
}

/* RFC 7323 §3.2: after negotiation, a FIN without TSopt is dropped. */
static void
test_fin_without_timestamp_after_negotiation_is_dropped(void **state)
{
	(void)state;
	uint32_t iss1 = hs_ts(22, false);
	peer_tcp(22, peer_iss + 1, iss1, FIN | ACK, 65535, NULL, NULL);
	expect_nothing();
	assert_int_not_equal(obs_last, FJ_EOF);
	assert_int_equal(fj_stack_counter(S, "tcp_paws_rejected"), 1);
	struct fj_tcp_opts o = ts(1002);
	peer_tcp(22, peer_iss + 1, iss1, FIN | ACK, 65535, &o, NULL);
	struct fj_tcp_hdr a = expect_ack(iss1, peer_iss + 2);
	assert_int_equal(a.o.tsecr, 1002);
	assert_int_equal(obs_last, FJ_EOF);
}

/* RFC 7323 §3.2: no TSopt on the SYN: none from us ever, and a TSopt
 * that turns up later is ignored and the segment processed normally. */
static void
test_timestamps_not_negotiated_are_ignored(void **state)
{
	(void)state;
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1000 };
	struct fj_tcp_hdr sa;
	uint32_t iss1 = hs_opts(7, &o, 65535, &sa);
	assert_false(sa.o.has_ts);
	o = ts(77);
	peer_tcp(7, peer_iss + 1, iss1, ACK | PSH, 65535, &o, "hi");
	struct fj_tcp_hdr d = expect_seg(ACK | PSH, iss1, peer_iss + 3, 2);
	assert_false(d.o.has_ts);
	o = ts(3); /* "older": no PAWS without negotiation */
	peer_tcp(7, peer_iss + 3, iss1 + 2, ACK | PSH, 65535, &o, "yo");
	d = expect_seg(ACK | PSH, iss1 + 2, peer_iss + 5, 2);
	assert_false(d.o.has_ts);
	assert_int_equal(fj_stack_counter(S, "tcp_paws_rejected"), 0);
}

/* ====================================================== SACK (receiver) */

static uint32_t
hs_sack(uint16_t port)
{
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1000, .sack_perm = true };
	struct fj_tcp_hdr sa;
	uint32_t iss1 = hs_opts(port, &o, 65535, &sa);
	assert_true(sa.o.sack_perm);
	return iss1;
}

/* RFC 2018 §2: without SACK-permitted on the SYN, no SACK-permitted back
 * and no blocks; RFC 5681 §4.2: the duplicate ACK goes at once, so does
 * the ACK when the hole fills. */
static void
test_no_sack_blocks_unless_permitted(void **state)
{
	(void)state;
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1000 };
	struct fj_tcp_hdr sa;
	uint32_t iss1 = hs_opts(10, &o, 65535, &sa);
	assert_false(sa.o.sack_perm);
	peer_tcp(10, peer_iss + 6, iss1, ACK, 65535, NULL, "world");
	struct fj_tcp_hdr a = expect_ack(iss1, peer_iss + 1);
	assert_int_equal(a.o.nsack, 0);
	peer_tcp(10, peer_iss + 1, iss1, ACK, 65535, NULL, "hello");
	a = expect_ack(iss1, peer_iss + 11);
	assert_int_equal(a.o.nsack, 0);
	expect_nothing();
}

/* Five separate out-of-order pieces (5 bytes at 10, 30, 50, 70, 90 past
 * RCV.NXT); returns the last ACK's options. */
static struct fj_tcp_opts
five_islands(uint16_t port, uint32_t iss1, bool with_ts)
{
	struct fj_tcp_opts o = ts(1002), *op = with_ts ? &o : NULL;
	struct fj_tcp_hdr a = { 0 };
	for (uint32_t i = 0; i < 5; i++) {
		peer_tcp(port, peer_iss + 1 + 10 + 20 * i, iss1, ACK, 65535, op, "isle!");
		a = expect_ack(iss1, peer_iss + 1);
		/* RFC 2018 §4: the first block holds the segment just come. */
		assert_true(a.o.nsack >= 1);
		assert_int_equal(a.o.sack[0].left, peer_iss + 11 + 20 * i);
		assert_int_equal(a.o.sack[0].right, peer_iss + 16 + 20 * i);
	}
	expect_nothing();
	return a.o;
}

/* RFC 2018 §3: as many blocks as fit (4 without timestamps), distinct,
 * each exactly one of the islands, the newest first. */
static void
test_sack_reports_four_blocks_newest_first(void **state)
{
	(void)state;
	uint32_t iss1 = hs_sack(10);
	struct fj_tcp_opts o = five_islands(10, iss1, false);
	assert_int_equal(o.nsack, 4);
	for (int i = 0; i < 4; i++) {
		uint32_t off = o.sack[i].left - (peer_iss + 11);
		assert_int_equal(off % 20, 0);
		assert_true(off <= 80);
		assert_int_equal(o.sack[i].right - o.sack[i].left, 5);
		for (int j = 0; j < i; j++)
			assert_int_not_equal(o.sack[i].left, o.sack[j].left);
	}
}

/* RFC 2018 §4: after the first block, the most recently reported blocks
 * are repeated: 90, then 70, 50, 30 (not the oldest, 10). */
static void
test_sack_repeats_the_most_recently_reported_blocks(void **state)
{
	(void)state;
	uint32_t iss1 = hs_sack(10);
	struct fj_tcp_opts o = five_islands(10, iss1, false);
	assert_int_equal(o.nsack, 4);
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(o.sack[i].left, peer_iss + 11 + 20 * (4 - i));
}

/* RFC 2018 §3: with timestamps only 3 blocks fit in 40 bytes of options. */
static void
test_sack_with_timestamps_reports_three_blocks(void **state)
{
	(void)state;
	struct fj_tcp_opts so = { .has_mss = true, .mss = 1000, .sack_perm = true, .has_ts = true,
				  .tsval = 1000 };
	uint32_t iss1 = hs_opts(10, &so, 65535, NULL);
	struct fj_tcp_opts o = five_islands(10, iss1, true);
	assert_int_equal(o.nsack, 3);
	assert_true(o.has_ts);
	assert_int_equal(o.sack[0].left, peer_iss + 91);
}

/* RFC 2018 §4: blocks leave as the holes fill; RFC 5681 §4.2: an ACK at
 * once for each fill. */
static void
test_sack_blocks_go_as_holes_fill(void **state)
{
	(void)state;
	uint32_t iss1 = hs_sack(10);
	uint32_t o0 = peer_iss + 1;
	peer_tcp(10, o0 + 10, iss1, ACK, 65535, NULL, "BBBBB"); /* [10,15) */
	expect_ack(iss1, o0);
	peer_tcp(10, o0 + 20, iss1, ACK, 65535, NULL, "DDDDD"); /* [20,25) */
	struct fj_tcp_hdr a = expect_ack(iss1, o0);
	assert_int_equal(a.o.nsack, 2);
	peer_tcp(10, o0, iss1, ACK, 65535, NULL, "AAAAAAAAAA"); /* [0,10) */
	a = expect_ack(iss1, o0 + 15);
	assert_int_equal(a.o.nsack, 1);
	assert_int_equal(a.o.sack[0].left, o0 + 20);
	assert_int_equal(a.o.sack[0].right, o0 + 25);
	peer_tcp(10, o0 + 15, iss1, ACK, 65535, NULL, "CCCCC"); /* [15,20) */
	a = expect_ack(iss1, o0 + 25);
	assert_int_equal(a.o.nsack, 0);
	expect_nothing();
}

/* RFC 5681 §4.2, RFC 2018 §4: the same out-of-order segment twice: a
 * duplicate ACK each time, the same single block, nothing kept twice. */
static void
test_duplicate_out_of_order_segment(void **state)
{
	(void)state;
	uint32_t iss1 = hs_sack(10);
	for (int i = 0; i < 2; i++) {
		peer_tcp(10, peer_iss + 11, iss1, ACK, 65535, NULL, "twice");
		struct fj_tcp_hdr a = expect_ack(iss1, peer_iss + 1);
		assert_int_equal(a.o.nsack, 1);
		assert_int_equal(a.o.sack[0].left, peer_iss + 11);
		assert_int_equal(a.o.sack[0].right, peer_iss + 16);
	}
	peer_tcp(10, peer_iss + 1, iss1, ACK, 65535, NULL, "0123456789");
	struct fj_tcp_hdr a = expect_ack(iss1, peer_iss + 16);
	assert_int_equal(a.o.nsack, 0);
	expect_nothing();
}

/* ====================================================== delayed ACKs */

/* RFC 1122 §4.2.3.2, RFC 5681 §4.2: a lone segment is acknowledged by the
 * delayed-ACK timer (40 ms here), not at once. */
static void
test_delayed_ack_fires_after_40ms(void **state)
{
	(void)state;
	uint32_t iss1 = hs(10, 65535, true);
	peer_tcp(10, peer_iss + 1, iss1, ACK | PSH, 65535, NULL, "abc");
	expect_nothing();
	advance(39 * MS);
	expect_nothing();
	advance(2 * MS);
	expect_ack(iss1, peer_iss + 4);
	advance(SEC);
	expect_nothing();
}

/* RFC 5681 §4.2: an ACK for at least every second full-sized segment. */
static void
test_every_second_full_segment_is_acked_at_once(void **state)
{
	(void)state;
	uint32_t iss1 = hs(10, 65535, true);
	uint32_t seq = peer_iss + 1;
	for (int i = 1; i <= 4; i++) {
		peer_bytes(10, seq, iss1, 65535, 1460, NULL);
		seq += 1460;
		if (i % 2 == 0)
			expect_ack(iss1, seq);
		expect_nothing();
	}
}

/* RFC 1122 §4.2.3.2: data going back carries the ACK; no separate one
 * follows when the timer would have fired. */
static void
test_piggybacked_ack_cancels_the_delayed_ack(void **state)
{
	(void)state;
	uint32_t iss1 = hs(7, 65535, true);
	peer_tcp(7, peer_iss + 1, iss1, ACK | PSH, 65535, NULL, "hi");
	expect_seg(ACK | PSH, iss1, peer_iss + 3, 2);
	advance(100 * MS);
	expect_nothing();
}

/* RFC 9293 §3.10.7.4 eighth: a FIN is acknowledged at once. */
static void
test_fin_is_acked_at_once(void **state)
{
	(void)state;
	uint32_t iss1 = hs(10, 65535, true);
	peer_tcp(10, peer_iss + 1, iss1, FIN | ACK, 65535, NULL, NULL);
	expect_ack(iss1, peer_iss + 2);
	expect_nothing();
}

/* ====================================================== retransmission timer */

/* RFC 6298 §5.5, §2.5: each timeout doubles the RTO up to 60 s; after 12
 * retransmissions the connection is given up: a RST, -ETIMEDOUT. */
static void
test_rto_doubles_to_a_cap_then_gives_up(void **state)
{
	(void)state;
	wr_total = 100;
	wr_chunk = 100;
	uint32_t iss1 = hs(20, 65535, true);
	expect_data(iss1, peer_iss + 1, 100, 0);
	uint64_t wait = SEC;
	for (int i = 0; i < 12; i++) {
		advance_fresh(wait - MS);
		expect_nothing();
		advance(2 * MS);
		expect_data(iss1, peer_iss + 1, 100, 0);
		expect_nothing();
		wait = wait * 2 > 60 * SEC ? 60 * SEC : wait * 2;
	}
	assert_int_equal(wait, 60 * SEC);
	assert_int_equal(fj_stack_counter(S, "tcp_retransmits"), 12);
	advance_fresh(wait - MS);
	expect_nothing();
	advance(2 * MS);
	struct seg r = next_seg();
	assert_int_equal(r.h.flags & ~ACK, RST);
	assert_int_equal(r.h.seq, iss1 + 100);
	expect_nothing();
	assert_int_equal(wr_err, -ETIMEDOUT);
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 0);
	advance_fresh(60 * SEC);
	advance_fresh(60 * SEC);
	expect_nothing();
}

/* RFC 6298 §3 (Karn): no RTT sample from a retransmitted segment; the
 * backed-off RTO (2 s) stays for the next segment. */
static void
test_karn_no_sample_from_a_retransmission(void **state)
{
	(void)state;
	uint32_t iss1 = hs(7, 65535, true);
	peer_tcp(7, peer_iss + 1, iss1, ACK | PSH, 65535, NULL, "a");
	expect_seg(ACK | PSH, iss1, peer_iss + 2, 1);
	advance(SEC + MS);
	expect_seg(ACK | PSH, iss1, peer_iss + 2, 1);
	advance(50 * MS);
	peer_tcp(7, peer_iss + 2, iss1 + 1, ACK | PSH, 65535, NULL, "b");
	expect_seg(ACK | PSH, iss1 + 1, peer_iss + 3, 1);
	/* A sample of 50 ms would give 200 ms, of 1.05 s over 3 s. */
	advance(2 * SEC - MS);
	expect_nothing();
	advance(2 * MS);
	expect_seg(ACK | PSH, iss1 + 1, peer_iss + 3, 1);
}

/* RFC 6298 §5 (after 5.7): the first fresh sample recomputes the RTO
 * (SRTT 100 ms, RTTVAR 50 ms: 300 ms), collapsing the back-off. */
static void
test_rto_collapses_after_a_fresh_sample(void **state)
{
	(void)state;
	uint32_t iss1 = hs(7, 65535, true);
	peer_tcp(7, peer_iss + 1, iss1, ACK | PSH, 65535, NULL, "a");
	expect_seg(ACK | PSH, iss1, peer_iss + 2, 1);
	advance(SEC + MS);
	expect_seg(ACK | PSH, iss1, peer_iss + 2, 1); /* RTO now 2 s */
	peer_tcp(7, peer_iss + 2, iss1 + 1, ACK | PSH, 65535, NULL, "b");
	expect_seg(ACK | PSH, iss1 + 1, peer_iss + 3, 1);
	advance(100 * MS);
	peer_tcp(7, peer_iss + 3, iss1 + 2, ACK | PSH, 65535, NULL, "c"); /* "b" in 100 ms */
	expect_seg(ACK | PSH, iss1 + 2, peer_iss + 4, 1);
	advance(300 * MS - MS);
	expect_nothing();
	advance(2 * MS);
	expect_seg(ACK | PSH, iss1 + 2, peer_iss + 4, 1);
}

/* RFC 6298 §2.4: the computed RTO has a floor (200 ms here): a 10 ms
 * round trip does not make it 30 ms. */
static void
test_rto_has_a_200ms_floor(void **state)
{
	(void)state;
	uint32_t iss1 = hs(7, 65535, true);
	peer_tcp(7, peer_iss + 1, iss1, ACK | PSH, 65535, NULL, "a");
	expect_seg(ACK | PSH, iss1, peer_iss + 2, 1);
	advance(10 * MS);
	peer_tcp(7, peer_iss + 2, iss1 + 1, ACK | PSH, 65535, NULL, "b");
	expect_seg(ACK | PSH, iss1 + 1, peer_iss + 3, 1);
	advance(200 * MS - MS);
	expect_nothing();
	advance(2 * MS);
	expect_seg(ACK | PSH, iss1 + 1, peer_iss + 3, 1);
}

/* RFC 5681 §3.1 (4): after a timeout, one segment (cwnd = 1 SMSS), then
 * slow start from there: two when it is acknowledged. */
static void
test_timeout_restarts_from_one_segment(void **state)
{
	(void)state;
	wr_total = 3000;
	uint32_t iss1 = hs(20, 65535, true);
	for (uint32_t off = 0; off < 3000; off += 1000)
		expect_data(iss1 + off, peer_iss + 1, 1000, off);
	advance(SEC + MS);
	expect_data(iss1, peer_iss + 1, 1000, 0);
	expect_nothing();
	peer_tcp(20, peer_iss + 1, iss1 + 1000, ACK, 65535, NULL, NULL);
	expect_data(iss1 + 1000, peer_iss + 1, 1000, 1000);
	expect_data(iss1 + 2000, peer_iss + 1, 1000, 2000);
	expect_nothing();
}

/* ====================================================== congestion control */

/* RFC 6928 §2: the initial window is min(10 MSS, max(2 MSS, 14600)):
 * exactly ten 1460-byte segments before any ACK. */
static void
test_initial_window_is_ten_segments(void **state)
{
	(void)state;
	wr_total = 40000;
	wr_chunk = 1460;
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1460, .has_ws = true, .ws = 2 };
	uint32_t iss1 = hs_opts(20, &o, 65535, NULL);
	for (uint32_t i = 0; i < 10; i++)
		expect_data(iss1 + i * 1460, peer_iss + 1, 1460, i * 1460);
	expect_nothing();
	advance(500 * MS);
	expect_nothing();
}

/* RFC 5681 §3.1: in slow start each ACK grows cwnd by at most one SMSS,
 * even when it acknowledges two segments. */
static void
test_slow_start_grows_one_segment_per_ack(void **state)
{
	(void)state;
	wr_total = 40000;
	wr_chunk = 1460;
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1460, .has_ws = true, .ws = 2 };
	uint32_t iss1 = hs_opts(20, &o, 65535, NULL);
	for (uint32_t i = 0; i < 10; i++)
		expect_data(iss1 + i * 1460, peer_iss + 1, 1460, i * 1460);
	/* One segment acknowledged: it and one more (cwnd 11). */
	peer_tcp(20, peer_iss + 1, iss1 + 1460, ACK, 65535, NULL, NULL);
	for (uint32_t i = 10; i < 12; i++)
		expect_data(iss1 + i * 1460, peer_iss + 1, 1460, i * 1460);
	expect_nothing();
	/* Two at once: two replaced and one more (cwnd 12, not 13). */
	peer_tcp(20, peer_iss + 1, iss1 + 3 * 1460, ACK, 65535, NULL, NULL);
	for (uint32_t i = 12; i < 15; i++)
		expect_data(iss1 + i * 1460, peer_iss + 1, 1460, i * 1460);
	expect_nothing();
}

/* Ten 1000-byte segments out, the first acknowledged. */
static uint32_t
ten_out(void)
{
	wr_total = 10000;
	uint32_t iss1 = hs(20, 65535, true);
	for (uint32_t off = 0; off < 10000; off += 1000)
		expect_data(iss1 + off, peer_iss + 1, 1000, off);
	peer_tcp(20, peer_iss + 1, iss1 + 1000, ACK, 65535, NULL, NULL);
	expect_nothing();
	return iss1;
}

/* RFC 5681 §3.2: two duplicate ACKs are not enough; the third retransmits
 * the segment at SND.UNA; a fourth does not retransmit it again. */
static void
test_fast_retransmit_on_the_third_duplicate_only(void **state)
{
	(void)state;
	uint32_t iss1 = ten_out();
	for (int i = 0; i < 2; i++)
		peer_tcp(20, peer_iss + 1, iss1 + 1000, ACK, 65535, NULL, NULL);
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "tcp_fast_retransmits"), 0);
	peer_tcp(20, peer_iss + 1, iss1 + 1000, ACK, 65535, NULL, NULL);
	expect_data(iss1 + 1000, peer_iss + 1, 1000, 1000);
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "tcp_fast_retransmits"), 1);
	peer_tcp(20, peer_iss + 1, iss1 + 1000, ACK, 65535, NULL, NULL);
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "tcp_retransmits"), 1);
}

/* RFC 5681 §2 (DUPLICATE ACKNOWLEDGMENT (b)): an ACK that carries data is
 * not a duplicate (without SACK). */
static void
test_acks_carrying_data_are_not_duplicates(void **state)
{
	(void)state;
	uint32_t iss1 = ten_out();
	const char *m[] = { "x", "y", "z" };
	for (uint32_t i = 0; i < 3; i++)
		peer_tcp(20, peer_iss + 1 + i, iss1 + 1000, ACK | PSH, 65535, NULL, m[i]);
	expect_ack(iss1 + 10000, peer_iss + 3); /* the second segment's ACK */
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "tcp_fast_retransmits"), 0);
	advance(41 * MS);
	expect_ack(iss1 + 10000, peer_iss + 4);
	expect_nothing();
}

/* RFC 5681 §2 (e): an ACK that changes the window is not a duplicate;
 * three of them trigger nothing, three true duplicates afterwards do. */
static void
test_window_updates_are_not_duplicate_acks(void **state)
{
	(void)state;
	uint32_t iss1 = ten_out();
	for (uint16_t w = 60001; w <= 60003; w++)
		peer_tcp(20, peer_iss + 1, iss1 + 1000, ACK, w, NULL, NULL);
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "tcp_fast_retransmits"), 0);
	for (int i = 0; i < 2; i++)
		peer_tcp(20, peer_iss + 1, iss1 + 1000, ACK, 60003, NULL, NULL);
	expect_nothing();
	peer_tcp(20, peer_iss + 1, iss1 + 1000, ACK, 60003, NULL, NULL);
	expect_data(iss1 + 1000, peer_iss + 1, 1000, 1000);
	assert_int_equal(fj_stack_counter(S, "tcp_fast_retransmits"), 1);
}

/* ====================================================== the peer's window */

/* RFC 9293 §3.8.6: never beyond SND.UNA + SND.WND; an ACK that keeps the
 * right edge frees nothing, a window update that moves it does. */
static void
test_sender_stays_within_the_peer_window(void **state)
{
	(void)state;
	wr_total = 10000;
	uint32_t iss1 = hs(20, 3000, false);
	for (uint32_t off = 0; off < 3000; off += 1000)
		expect_data(iss1 + off, peer_iss + 1, 1000, off);
	expect_nothing();
	peer_tcp(20, peer_iss + 1, iss1 + 1000, ACK, 2000, NULL, NULL);
	expect_nothing();
	peer_tcp(20, peer_iss + 1, iss1 + 1000, ACK, 3000, NULL, NULL);
	expect_data(iss1 + 3000, peer_iss + 1, 1000, 3000);
	expect_nothing();
}

/* RFC 9293 §3.8.6.2.1 (MUST-38), RFC 1122 §4.2.3.4: sender silly window
 * avoidance: 100 usable bytes out of a 10100-byte window, plenty queued:
 * no tiny segment (it is less than an MSS and than half the largest
 * window seen); a full one goes once the window allows it. */
static void
test_sender_avoids_silly_window_segments(void **state)
{
	(void)state;
	wr_total = 20000;
	uint32_t iss1 = hs(20, 10100, false);
	for (uint32_t off = 0; off < 10000; off += 1000)
		expect_data(iss1 + off, peer_iss + 1, 1000, off);
	expect_nothing();
	peer_tcp(20, peer_iss + 1, iss1 + 1000, ACK, 9100, NULL, NULL);
	expect_nothing();
	peer_tcp(20, peer_iss + 1, iss1 + 2000, ACK, 9100, NULL, NULL);
	expect_data(iss1 + 10000, peer_iss + 1, 1000, 10000);
	expect_nothing();
}

/* Zero window: nothing but probes, at the RTO and then backing off. */
static uint32_t
zero_window_flow(uint32_t bytes)
{
	wr_total = bytes;
	uint32_t iss1 = hs(20, 0, false);
	expect_nothing();
	return iss1;
}

/* RFC 9293 §3.8.6.1, RFC 1122 §4.2.2.17: probes at 1, 2, 4, 8 s, each
 * answered with a zero window. */
static void
test_zero_window_probes_back_off(void **state)
{
	(void)state;
	uint32_t iss1 = zero_window_flow(1000);
	uint64_t wait = SEC;
	for (int i = 0; i < 4; i++) {
		advance(wait - MS);
		expect_nothing();
		advance(2 * MS);
		expect_data(iss1, peer_iss + 1, 1, 0);
		expect_nothing();
		peer_tcp(20, peer_iss + 1, iss1, ACK, 0, NULL, NULL);
		expect_nothing();
		wait *= 2;
	}
	assert_int_equal(fj_stack_counter(S, "tcp_window_probes"), 4);
}

/* RFC 1122 §4.2.2.17: a zero window that the peer keeps acknowledging
 * never ends the connection, however long (here 20 probes, ~15 min). */
static void
test_zero_window_probes_never_give_up(void **state)
{
	(void)state;
	uint32_t iss1 = zero_window_flow(1000);
	for (int i = 0; i < 20; i++) {
		advance_fresh(61 * SEC);
		expect_data(iss1, peer_iss + 1, 1, 0);
		expect_nothing();
		peer_tcp(20, peer_iss + 1, iss1, ACK, 0, NULL, NULL);
	}
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "tcp_window_probes"), 20);
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 1);
	assert_int_equal(fj_stack_counter(S, "tcp_rst_tx"), 0);
	assert_int_equal(wr_err, 0);
}

/* RFC 9293 §3.8.6.1: the probe is one new byte; a receiver whose window
 * has opened takes it and acknowledges it with the new window: the rest
 * follows from the next byte. */
static void
test_zero_window_probe_byte_taken_by_the_peer(void **state)
{
	(void)state;
	uint32_t iss1 = zero_window_flow(5);
	advance(SEC + MS);
	expect_data(iss1, peer_iss + 1, 1, 0);
	peer_tcp(20, peer_iss + 1, iss1 + 1, ACK, 1000, NULL, NULL);
	expect_data(iss1 + 1, peer_iss + 1, 4, 1);
	expect_nothing();
}

/* RFC 9293 §3.8.6.1: the window closes mid-stream: sending stops, a
 * probe after the RTO (200 ms after a 10 ms sample), the window opens:
 * the rest, from where it stopped. */
static void
test_window_closing_mid_stream_then_reopening(void **state)
{
	(void)state;
	wr_total = 5000;
	uint32_t iss1 = hs(20, 2000, false);
	expect_data(iss1, peer_iss + 1, 1000, 0);
	expect_data(iss1 + 1000, peer_iss + 1, 1000, 1000);
	expect_nothing();
	advance(10 * MS);
	peer_tcp(20, peer_iss + 1, iss1 + 2000, ACK, 0, NULL, NULL);
	expect_nothing();
	advance(200 * MS - MS);
	expect_nothing();
	advance(2 * MS);
	expect_data(iss1 + 2000, peer_iss + 1, 1, 2000);
	peer_tcp(20, peer_iss + 1, iss1 + 2000, ACK, 3000, NULL, NULL);
	for (uint32_t off = 2000; off < 5000; off += 1000)
		expect_data(iss1 + off, peer_iss + 1, 1000, off);
	expect_nothing();
}

/* ====================================================== our receive window */

/* RFC 9293 §3.8.6.2.2, RFC 7323 §2.4: unread data shrinks the window by
 * what came (to the scale's 128-byte precision): the right edge stays at
 * the buffer's end. */
static void
test_receive_window_shrinks_by_unread_data(void **state)
{
	(void)state;
	uint32_t iss1 = hs(10, 65535, true);
	uint32_t seq = peer_iss + 1;
	uint32_t end = peer_iss + 1 + RCVBUF, last = 0;
	for (int i = 1; i <= 40; i++) {
		peer_bytes(10, seq, iss1, 65535, 1460, NULL);
		seq += 1460;
		if (i % 2 == 0) {
			struct fj_tcp_hdr a = expect_ack(iss1, seq);
			uint32_t edge = a.ack + ((uint32_t)a.wnd << 7);
			assert_true(edge + 128 > end && edge < end + 128);
			/* (RFC 7323 appendix F: rounding may retract it by less
			 * than one unit of the scale, never more.) */
			assert_true(last == 0 || edge + 128 > last);
			last = edge;
		}
	}
	expect_nothing();
}

/* RFC 9293 §3.8.6.2.2, RFC 1122 §4.2.3.3: once the application reads, the
 * window reopens: an update with the whole buffer free. */
static void
test_receive_window_reopens_after_reads(void **state)
{
	(void)state;
	uint32_t iss1 = hs(21, 65535, true);
	uint32_t seq = peer_iss + 1;
	for (int i = 0; i < 50; i++) {
		peer_bytes(21, seq, iss1, 65535, 1460, NULL);
		seq += 1460;
	}
	struct seg last = { 0 };
	while (seen < nout) {
		last = next_seg();
		assert_int_equal(last.h.flags, ACK);
	}
	assert_int_equal(last.h.ack, seq);
	assert_true(last.h.wnd <= (RCVBUF - 50 * 1460 + 127) >> 7);
	checked_all();
	struct fj_buf *b;
	uint32_t got = 0;
	while (fj_flow_read(lazy_flow, &b) == FJ_DATA) {
		got += fj_buf_pkt_len(b);
		fj_buf_free(b);
	}
	assert_int_equal(got, 50 * 1460);
	fj_stack_poll(S);
	struct fj_tcp_hdr a = { 0 };
	int n = 0;
	while (seen < nout) {
		a = expect_ack(iss1, seq);
		n++;
	}
	assert_true(n >= 1);
	assert_int_equal(a.wnd, RCVBUF >> 7);
}

/* RFC 9293 §3.10.7.4: with a zero receive window no data is acceptable
 * (an ACK says so), but a RST at RCV.NXT still is. */
static void
test_zero_receive_window_refuses_data_but_takes_rst(void **state)
{
	(void)state;
	uint32_t iss1 = hs(10, 65535, true);
	uint32_t seq = peer_iss + 1;
	for (int i = 0; i < 180; i++) {
		uint32_t n = i < 179 ? 1460 : RCVBUF - 179 * 1460;
		peer_bytes(10, seq, iss1, 65535, n, NULL);
		seq += n;
	}
	struct seg last = { 0 };
	int acks = 0;
	while (seen < nout) {
		last = next_seg();
		assert_int_equal(last.h.flags, ACK);
		assert_int_equal(last.plen, 0);
		acks++;
	}
	assert_int_equal(acks, 90);
	assert_int_equal(last.h.ack, seq);
	assert_int_equal(last.h.wnd, 0);
	checked_all();
	/* One more byte: not acceptable, an ACK says where we are. */
	peer_bytes(10, seq, iss1, 65535, 1, NULL);
	struct fj_tcp_hdr a = expect_ack(iss1, seq);
	assert_int_equal(a.wnd, 0);
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "tcp_out_of_window"), 1);
	/* The RST at RCV.NXT is taken. */
	peer_tcp(10, seq, 0, RST, 65535, NULL, NULL);
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "tcp_rst_rx"), 1);
}

/* ====================================================== back-pressure */

/* fjord.h (fj_flow_write), RFC 9293 §3.10.2 SEND: a full send buffer
 * refuses with -EAGAIN; the callback runs again once ACKs free room, and
 * exactly the freed room is taken. */
static void
test_full_send_buffer_pushes_back_until_acks_free_room(void **state)
{
	(void)state;
	wr_fill = true;
	uint32_t iss1 = hs(20, 65535, true);
	assert_int_equal(wr_eagain, 1);
	assert_true(wr_done >= 256 * 1024 && wr_done < 256 * 1024 + 1000);
	for (uint32_t off = 0; off < 10000; off += 1000)
		expect_data(iss1 + off, peer_iss + 1, 1000, off);
	expect_nothing();
	uint32_t done = wr_done;
	int calls = wr_calls;
	/* A duplicate ACK frees nothing: no callback. */
	peer_tcp(20, peer_iss + 1, iss1, ACK, 65535, NULL, NULL);
	assert_int_equal(wr_calls, calls);
	peer_tcp(20, peer_iss + 1, iss1 + 10000, ACK, 65535, NULL, NULL);
	assert_int_equal(wr_calls, calls + 1);
	assert_int_equal(wr_done, done + 10000);
	assert_int_equal(wr_eagain, 2);
	/* What goes next starts right after the acknowledged data. */
	expect_data(iss1 + 10000, peer_iss + 1, 1000, 10000);
}

/* ====================================================== SYN_SENT (our connect) */

static uint16_t cport; /* the client's port */

static struct fj_tcp_hdr
connect_syn(fj_flow_fn fn)
{
	struct fj_addr to = { PEER_IP, 80 };
	assert_non_null(fj_connect_tcp(S, &to, fn, NULL));
	fj_stack_poll(S);
	return expect_syn(&cport);
}

/* A segment from PEER:80 to the client. */
static void
from80(uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd, const struct fj_tcp_opts *o,
       const char *data)
{
	send_seg((struct pseg){ .sport = 80, .dport = cport, .seq = seq, .ack = ack,
				.flags = flags, .wnd = wnd, .o = o, .data = data,
				.len = data ? (uint32_t)strlen(data) : 0 });
}

/* The next segment to PEER:80 from the client's port. */
static struct fj_tcp_hdr
expect_to80_at(uint8_t flags, uint32_t seq, uint32_t ack, uint32_t plen, int line)
{
	struct seg s = next_seg_at(line);
	if (s.h.flags != flags || s.h.seq != seq || s.h.ack != ack || s.plen != plen)
		print_error("line %d: flags %#x seq %u ack %u len %u, not %#x %u %u %u\n", line,
			    s.h.flags, s.h.seq, s.h.ack, s.plen, flags, seq, ack, plen);
	assert_int_equal(s.h.dport, 80);
	assert_int_equal(s.h.sport, cport);
	assert_int_equal(s.h.flags, flags);
	assert_int_equal(s.h.seq, seq);
	assert_int_equal(s.h.ack, ack);
	assert_int_equal(s.plen, plen);
	return s.h;
}
#define expect_to80(fl, sq, ak, pl) expect_to80_at(fl, sq, ak, pl, __LINE__)

/* RFC 9293 §3.7.1, RFC 7323 §2.2 and §3.2, RFC 2018 §2: our SYN offers
 * MSS 1460, shift 7, SACK, timestamps with TSecr 0; its window unscaled. */
static void
test_connect_syn_carries_all_options(void **state)
{
	(void)state;
	struct fj_tcp_hdr syn = connect_syn(client_cb);
	assert_int_equal(syn.dport, 80);
	assert_true(syn.o.has_mss);
	assert_int_equal(syn.o.mss, 1460);
	assert_true(syn.o.has_ws);
	assert_int_equal(syn.o.ws, 7);
	assert_true(syn.o.sack_perm);
	assert_true(syn.o.has_ts);
	assert_int_equal(syn.o.tsecr, 0);
	assert_int_equal(syn.wnd, 65535);
	assert_int_equal(syn.urg, 0);
	expect_nothing();
}

/* RFC 9293 §3.10.7.3 first: a SYN-ACK whose ACK is not ours (beyond
 * SND.NXT, or at or below ISS): RST <SEQ=SEG.ACK>; still connecting. */
static void
test_connect_syn_ack_with_bad_ack_gets_rst(void **state)
{
	(void)state;
	struct fj_tcp_hdr syn = connect_syn(client_cb);
	from80(9000, syn.seq + 5, SYN | ACK, 1000, NULL, NULL);
	expect_to80(RST, syn.seq + 5, 0, 0);
	from80(9000, syn.seq, SYN | ACK, 1000, NULL, NULL);
	expect_to80(RST, syn.seq, 0, 0);
	expect_nothing();
	assert_int_equal(client_events, 0);
	from80(9000, syn.seq + 1, SYN | ACK, 1000, NULL, NULL);
	expect_to80(ACK, syn.seq + 1, 9001, 0);
	assert_int_equal(client_events, 1);
	assert_int_equal(client_last, FJ_AGAIN);
}

/* RFC 9293 §3.10.7.3 second: a RST without ACK in SYN_SENT is dropped;
 * the SYN is retransmitted as if nothing came. */
static void
test_connect_rst_without_ack_is_ignored(void **state)
{
	(void)state;
	struct fj_tcp_hdr syn = connect_syn(client_cb);
	from80(9000, 0, RST, 1000, NULL, NULL);
	expect_nothing();
	assert_int_equal(client_events, 0);
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 1);
	advance(SEC + MS);
	uint16_t p;
	struct fj_tcp_hdr again = expect_syn(&p);
	assert_int_equal(p, cport);
	assert_int_equal(again.seq, syn.seq);
}

/* RFC 9293 §3.10.7.3 first: a RST whose ACK is not acceptable is dropped
 * (no RST answers a RST); the connection still completes. */
static void
test_connect_rst_with_wrong_ack_is_ignored(void **state)
{
	(void)state;
	struct fj_tcp_hdr syn = connect_syn(client_cb);
	from80(0, syn.seq + 77, RST | ACK, 1000, NULL, NULL);
	expect_nothing();
	assert_int_equal(client_events, 0);
	assert_int_equal(fj_stack_counter(S, "tcp_rst_rx"), 0);
	from80(9000, syn.seq + 1, SYN | ACK, 1000, NULL, NULL);
	expect_to80(ACK, syn.seq + 1, 9001, 0);
	assert_int_equal(client_last, FJ_AGAIN);
}

/* RFC 9293 §3.10.7.3 fifth: neither SYN nor RST (a plain ACK, even an
 * acceptable one): dropped; still SYN_SENT. */
static void
test_connect_plain_ack_in_syn_sent_is_dropped(void **state)
{
	(void)state;
	struct fj_tcp_hdr syn = connect_syn(client_cb);
	from80(9000, syn.seq + 1, ACK, 1000, NULL, NULL);
	expect_nothing();
	assert_int_equal(client_events, 0);
	advance(SEC + MS);
	uint16_t p;
	expect_syn(&p);
	assert_int_equal(p, cport);
}

/* RFC 9293 §3.10.7.3, RFC 7323: a good SYN-ACK: our ACK with the peer's
 * TSval echoed, our window now scaled (shift 7); the client is told. */
static void
test_connect_syn_ack_completes_with_scaling_and_timestamps(void **state)
{
	(void)state;
	struct fj_tcp_hdr syn = connect_syn(client_cb);
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1000, .has_ws = true, .ws = 3,
				 .sack_perm = true, .has_ts = true, .tsval = 5555,
				 .tsecr = syn.o.tsval };
	from80(9000, syn.seq + 1, SYN | ACK, 1000, &o, NULL);
	struct fj_tcp_hdr a = expect_to80(ACK, syn.seq + 1, 9001, 0);
	assert_true(a.o.has_ts);
	assert_int_equal(a.o.tsecr, 5555);
	assert_int_equal(a.wnd, RCVBUF >> 7);
	expect_nothing();
	assert_int_equal(client_events, 1);
	assert_int_equal(client_last, FJ_AGAIN);
	assert_int_equal(fj_stack_counter(S, "tcp_established"), 1);
}

/* RFC 7323 §2.2: a SYN-ACK without window scale: no scaling either way,
 * our windows at most 65535, their right edge steady. */
static void
test_connect_syn_ack_without_scale_keeps_windows_unscaled(void **state)
{
	(void)state;
	struct fj_tcp_hdr syn = connect_syn(client_cb);
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1000 };
	from80(9000, syn.seq + 1, SYN | ACK, 1000, &o, NULL);
	struct fj_tcp_hdr a = expect_to80(ACK, syn.seq + 1, 9001, 0);
	assert_false(a.o.has_ts);
	assert_int_equal(a.wnd, 65535);
	from80(9001, syn.seq + 1, ACK | PSH, 1000, NULL, "abc");
	advance(50 * MS);
	a = expect_to80(ACK, syn.seq + 1, 9004, 0);
	assert_int_equal(a.ack + a.wnd, 9001 + 65535);
	expect_nothing();
}

/* RFC 7323 §2.2, RFC 9293 §3.7.1: the SYN-ACK's window (1000) is not
 * scaled even though it carries a shift; its MSS (500) sizes our data. */
static void
test_connect_syn_ack_window_is_unscaled_and_mss_applies(void **state)
{
	(void)state;
	cw_total = 3000;
	struct fj_tcp_hdr syn = connect_syn(client_writer);
	struct fj_tcp_opts o = { .has_mss = true, .mss = 500, .has_ws = true, .ws = 3 };
	from80(9000, syn.seq + 1, SYN | ACK, 1000, &o, NULL);
	expect_to80(ACK, syn.seq + 1, 9001, 0);
	struct seg s = next_seg();
	assert_int_equal(s.h.flags & ~PSH, ACK);
	assert_int_equal(s.h.seq, syn.seq + 1);
	assert_int_equal(s.plen, 500);
	s = next_seg();
	assert_int_equal(s.h.flags & ~PSH, ACK);
	assert_int_equal(s.h.seq, syn.seq + 501);
	assert_int_equal(s.plen, 500);
	expect_nothing();
	/* The next ACK's window is scaled: 125 << 3 = 1000 bytes more. */
	from80(9001, syn.seq + 1001, ACK, 125, NULL, NULL);
	s = next_seg();
	assert_int_equal(s.h.seq, syn.seq + 1001);
	assert_int_equal(s.plen, 500);
	s = next_seg();
	assert_int_equal(s.h.seq, syn.seq + 1501);
	assert_int_equal(s.plen, 500);
	expect_nothing();
}

/* ====================================================== main */

int
main(void)
{
#define R(t) cmocka_unit_test_setup_teardown(t, rfc_setup, teardown)
	const struct CMUnitTest tests[] = {
		/* LISTEN */
		R(test_listen_rst_is_ignored),
		R(test_listen_ack_with_data_gets_rst_from_its_ack),
		R(test_listen_syn_ack_gets_rst),
		R(test_listen_syn_with_rst_is_ignored),
		R(test_listen_segment_without_syn_or_ack_is_dropped),
		R(test_listen_syn_with_bad_checksum_is_dropped),
		R(test_listen_syn_fin_is_handled_sanely),
		R(test_listen_syn_with_data_delivers_it_once),
		R(test_syn_ack_window_is_unscaled_then_scaled),
		R(test_without_peer_window_scale_our_window_is_unscaled),
		R(test_isn_advances_with_a_4us_clock),
		R(test_ack_for_a_finished_connection_gets_rst),
		/* SYN_RCVD */
		R(test_syn_rcvd_rst_in_window_gets_challenge_ack),
		R(test_syn_rcvd_rst_out_of_window_is_ignored),
		R(test_syn_rcvd_repeated_syn_gets_the_same_syn_ack),
		R(test_syn_rcvd_ack_of_iss_gets_rst),
		R(test_syn_rcvd_data_without_ack_is_dropped),
		R(test_syn_rcvd_handshake_ack_carries_data),
		R(test_syn_rcvd_handshake_ack_carries_fin),
		/* RST, SYN, ACK in the synchronized states */
		R(test_fin_wait_1_rst_in_window_gets_challenge_ack),
		R(test_fin_wait_2_rst_in_window_gets_challenge_ack),
		R(test_close_wait_rst_in_window_gets_challenge_ack),
		R(test_closing_rst_in_window_gets_challenge_ack),
		R(test_last_ack_rst_in_window_gets_challenge_ack),
		R(test_time_wait_rst_in_window_gets_challenge_ack),
		R(test_established_exact_rst_tells_the_app),
		R(test_fin_wait_1_exact_rst_ends_the_flow),
		R(test_fin_wait_2_exact_rst_ends_the_flow),
		R(test_close_wait_exact_rst_ends_the_flow),
		R(test_closing_exact_rst_ends_the_flow),
		R(test_last_ack_exact_rst_ends_the_flow),
		R(test_established_rst_out_of_window_is_ignored),
		R(test_close_wait_rst_out_of_window_is_ignored),
		R(test_time_wait_rst_out_of_window_is_ignored),
		R(test_fin_wait_1_syn_gets_challenge_ack),
		R(test_fin_wait_2_syn_gets_challenge_ack),
		R(test_close_wait_syn_gets_challenge_ack),
		R(test_closing_syn_gets_challenge_ack),
		R(test_last_ack_syn_gets_challenge_ack),
		R(test_time_wait_syn_gets_challenge_ack),
		R(test_fin_wait_1_ack_of_unsent_does_not_ack_our_fin),
		R(test_fin_wait_2_ack_of_unsent_gets_ack),
		R(test_fin_wait_1_data_out_of_window_gets_ack),
		R(test_fin_wait_2_data_out_of_window_gets_ack),
		R(test_close_wait_data_out_of_window_gets_ack),
		R(test_closing_data_out_of_window_gets_ack),
		R(test_last_ack_data_out_of_window_gets_ack),
		R(test_time_wait_data_out_of_window_gets_ack),
		R(test_close_wait_ack_of_unsent_gets_ack),
		R(test_closing_ack_of_unsent_gets_ack),
		/* other segments by state */
		R(test_established_data_without_ack_is_dropped),
		R(test_established_fin_without_ack_is_dropped),
		R(test_fin_wait_1_data_is_delivered_and_acked),
		R(test_fin_wait_2_data_without_ack_is_dropped),
		R(test_time_wait_pure_ack_is_silent),
		R(test_urgent_data_is_delivered_inline),
		R(test_urgent_pointer_beyond_the_data_is_harmless),
		R(test_established_old_ack_is_ignored),
		R(test_close_wait_data_after_fin_is_ignored),
		R(test_close_wait_retransmitted_fin_is_acked),
		R(test_time_wait_old_data_is_acked),
		R(test_time_wait_acks_every_retransmitted_fin),
		R(test_fin_wait_1_fin_acking_our_fin_enters_time_wait),
		R(test_out_of_order_fin_waits_for_the_gap),
		/* closing */
		R(test_peer_half_close_we_keep_sending),
		R(test_close_sends_queued_data_then_fin),
		R(test_abort_sends_rst_and_forgets),
		R(test_write_after_shutdown_is_refused),
		R(test_reset_connection_reports_econnreset_to_reads_and_writes),
		/* window scaling, MSS */
		R(test_peer_window_shift_0),
		R(test_peer_window_shift_1),
		R(test_peer_window_shift_14),
		R(test_peer_window_shift_above_14_is_used_as_14),
		R(test_no_mss_option_means_536),
		R(test_peer_mss_limits_our_segments),
		R(test_large_peer_mss_is_capped_by_our_mtu),
		R(test_timestamps_take_room_from_each_segment),
		/* timestamps */
		R(test_ts_echo_after_out_of_order_and_gap_fill),
		R(test_ts_delayed_ack_echoes_the_earliest_segment),
		R(test_paws_does_not_apply_to_rst),
		R(test_rst_without_timestamp_is_accepted),
		R(test_paws_rejected_ack_does_not_acknowledge),
		R(test_paws_compares_timestamps_modulo_2_32),
		R(test_paws_accepts_equal_timestamps),
		R(test_fin_without_timestamp_after_negotiation_is_dropped),
		R(test_timestamps_not_negotiated_are_ignored),
		/* SACK */
		R(test_no_sack_blocks_unless_permitted),
		R(test_sack_reports_four_blocks_newest_first),
		R(test_sack_repeats_the_most_recently_reported_blocks),
		R(test_sack_with_timestamps_reports_three_blocks),
		R(test_sack_blocks_go_as_holes_fill),
		R(test_duplicate_out_of_order_segment),
		/* delayed ACKs */
		R(test_delayed_ack_fires_after_40ms),
		R(test_every_second_full_segment_is_acked_at_once),
		R(test_piggybacked_ack_cancels_the_delayed_ack),
		R(test_fin_is_acked_at_once),
		/* retransmission timer */
		R(test_rto_doubles_to_a_cap_then_gives_up),
		R(test_karn_no_sample_from_a_retransmission),
		R(test_rto_collapses_after_a_fresh_sample),
		R(test_rto_has_a_200ms_floor),
		R(test_timeout_restarts_from_one_segment),
		/* congestion control */
		R(test_initial_window_is_ten_segments),
		R(test_slow_start_grows_one_segment_per_ack),
		R(test_fast_retransmit_on_the_third_duplicate_only),
		R(test_acks_carrying_data_are_not_duplicates),
		R(test_window_updates_are_not_duplicate_acks),
		/* the peer's window */
		R(test_sender_stays_within_the_peer_window),
		R(test_sender_avoids_silly_window_segments),
		R(test_zero_window_probes_back_off),
		R(test_zero_window_probes_never_give_up),
		R(test_zero_window_probe_byte_taken_by_the_peer),
		R(test_window_closing_mid_stream_then_reopening),
		/* our receive window */
		R(test_receive_window_shrinks_by_unread_data),
		R(test_receive_window_reopens_after_reads),
		R(test_zero_receive_window_refuses_data_but_takes_rst),
		/* back-pressure */
		R(test_full_send_buffer_pushes_back_until_acks_free_room),
		/* SYN_SENT */
		R(test_connect_syn_carries_all_options),
		R(test_connect_syn_ack_with_bad_ack_gets_rst),
		R(test_connect_rst_without_ack_is_ignored),
		R(test_connect_rst_with_wrong_ack_is_ignored),
		R(test_connect_plain_ack_in_syn_sent_is_dropped),
		R(test_connect_syn_ack_completes_with_scaling_and_timestamps),
		R(test_connect_syn_ack_without_scale_keeps_windows_unscaled),
		R(test_connect_syn_ack_window_is_unscaled_and_mss_applies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
