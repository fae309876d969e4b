/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The scripted peer's TCP: its segments with any field (RFC 9293 §3.1
 * header, RFC 6093 urgent pointer, a broken checksum), ours parsed and
 * checked, the handshakes of RFC 9293 §3.5, and the way into each
 * synchronized state of RFC 9293 §3.3.2.
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

/* ------------------------------------------------------ the peer's segments */

/* The frame of @p in @f (@cap bytes), padded to the minimum frame; its length. */
static uint32_t
build_seg(uint8_t *f, const struct pseg *p, uint32_t cap)
{
	struct fj_tcp_hdr h = { .sport = p->sport ? p->sport : PPORT, .dport = p->dport,
				.seq = p->seq, .ack = p->ack, .flags = p->flags, .wnd = p->wnd };
	if (p->o)
		h.o = *p->o;
	size_t hl = FJ_TCP_HDR_LEN + fj_tcp_opts_len(&h.o);
	assert_true(34 + hl + p->len <= cap);
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
	fj_ipv4_build(f + 14, PEER_IP, US_IP, FJ_IP_PROTO_TCP, (uint16_t)(hl + p->len),
		      p->ip_id ? p->ip_id : 3, 64, false);
	uint32_t n = (uint32_t)(34 + hl + p->len);
	if (n < 60) {
		memset(f + n, 0, 60 - n);
		n = 60;
	}
	return n;
}

uint32_t
mk_seg(uint8_t *f, const struct pseg *p, uint32_t cap)
{
	return build_seg(f, p, cap);
}

void
send_seg(struct fixture *fx, struct pseg p)
{
	uint8_t f[1600];
	fj_stack_input(fx->stack, f, build_seg(f, &p, sizeof(f)));
}

void
peer_big(struct fixture *fx, uint16_t port, uint32_t seq, uint32_t ack, uint16_t wnd,
	 uint32_t len, uint32_t off, const struct fj_tcp_opts *o)
{
	uint32_t cap = 34 + 60 + len;
	uint8_t *f = malloc(cap), *data = malloc(len ? len : 1);
	assert_non_null(f);
	assert_non_null(data);
	for (uint32_t i = 0; i < len; i++)
		data[i] = pat(off + i);
	struct pseg p = { .dport = port, .seq = seq, .ack = ack, .flags = ACK, .wnd = wnd, .o = o,
			  .data = data, .len = len };
	fj_stack_input(fx->stack, f, build_seg(f, &p, cap));
	free(data);
	free(f);
}

void
peer_tcp(struct fixture *fx, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
	 uint16_t wnd, const struct fj_tcp_opts *o, const char *payload)
{
	send_seg(fx, (struct pseg){ .dport = dport, .seq = seq, .ack = ack, .flags = flags,
				    .wnd = wnd, .o = o, .data = payload,
				    .len = payload ? (uint32_t)strlen(payload) : 0 });
}

uint8_t
pat(uint32_t i)
{
	return (uint8_t)('a' + i % 26);
}

void
peer_bytes(struct fixture *fx, uint16_t port, uint32_t seq, uint32_t ack, uint16_t wnd,
	   uint32_t len, const struct fj_tcp_opts *o)
{
	uint8_t blob[1600];
	assert_true(len <= sizeof(blob));
	for (uint32_t i = 0; i < len; i++)
		blob[i] = pat(i);
	send_seg(fx, (struct pseg){ .dport = port, .seq = seq, .ack = ack, .flags = ACK,
				    .wnd = wnd, .o = o, .data = blob, .len = len });
}

void
from80(struct fixture *fx, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd,
       const struct fj_tcp_opts *o, const char *data)
{
	send_seg(fx, (struct pseg){ .sport = 80, .dport = fx->cport, .seq = seq, .ack = ack,
				    .flags = flags, .wnd = wnd, .o = o, .data = data,
				    .len = data ? (uint32_t)strlen(data) : 0 });
}

/* ------------------------------------------------------ our segments */

struct seg
next_seg_at(struct fixture *fx, int line)
{
	uint32_t len;
	const uint8_t *f = next_frame_at(fx, &len, line);
	struct fj_ipv4 ip = expect_ipv4(f, len, &PEER, FJ_IP_PROTO_TCP);
	struct seg s;
	uint32_t tl = ip.total_len - 20u;
	assert_int_equal(fj_tcp_parse(f + 34, tl, US_IP, PEER_IP, false, &s.h), FJ_OK);
	s.plen = tl - s.h.hdr_len;
	s.pl = f + 34 + s.h.hdr_len;
	return s;
}

/* The next segment to PEER:PPORT, with exactly @flags. */
static struct seg
expect_flags(struct fixture *fx, uint8_t flags, int line)
{
	struct seg s = next_seg_at(fx, line);
	if (s.h.flags != flags)
		print_error("line %d: flags %#x, not %#x\n", line, s.h.flags, flags);
	assert_int_equal(s.h.flags, flags);
	assert_int_equal(s.h.dport, PPORT);
	return s;
}

struct fj_tcp_hdr
expect_tcp_at(struct fixture *fx, uint8_t flags, uint32_t *plen, const uint8_t **payload,
	      int line)
{
	struct seg s = expect_flags(fx, flags, line);
	if (plen)
		*plen = s.plen;
	if (payload)
		*payload = s.pl;
	return s.h;
}

/* ...and exactly this seq, ack and length. */
static struct seg
expect_exact(struct fixture *fx, uint8_t flags, uint32_t seq, uint32_t ack, uint32_t plen,
	     int line)
{
	struct seg s = expect_flags(fx, flags, line);
	if (s.h.seq != seq || s.h.ack != ack || s.plen != plen)
		print_error("line %d: seq %u ack %u len %u, not %u %u %u\n", line, s.h.seq,
			    s.h.ack, s.plen, seq, ack, plen);
	assert_int_equal(s.h.seq, seq);
	assert_int_equal(s.h.ack, ack);
	assert_int_equal(s.plen, plen);
	return s;
}

struct fj_tcp_hdr
expect_seg_at(struct fixture *fx, uint8_t flags, uint32_t seq, uint32_t ack, uint32_t plen,
	      int line)
{
	return expect_exact(fx, flags, seq, ack, plen, line).h;
}

struct fj_tcp_hdr
expect_text_at(struct fixture *fx, uint8_t flags, uint32_t seq, uint32_t ack, const char *text,
	       int line)
{
	uint32_t n = (uint32_t)strlen(text);
	struct seg s = expect_exact(fx, flags, seq, ack, n, line);
	assert_memory_equal(s.pl, text, n);
	return s.h;
}

struct fj_tcp_hdr
expect_data_at(struct fixture *fx, uint32_t seq, uint32_t ack, uint32_t plen, uint32_t off,
	       int line)
{
	struct seg s = next_seg_at(fx, line);
	if ((s.h.flags & ~PSH) != ACK || s.h.seq != seq || s.h.ack != ack || s.plen != plen)
		print_error("line %d: flags %#x seq %u ack %u len %u, not data %u %u %u\n", line,
			    s.h.flags, s.h.seq, s.h.ack, s.plen, seq, ack, plen);
	assert_int_equal(s.h.flags & ~PSH, ACK);
	assert_int_equal(s.h.dport, PPORT);
	assert_int_equal(s.h.seq, seq);
	assert_int_equal(s.h.ack, ack);
	assert_int_equal(s.plen, plen);
	for (uint32_t i = 0; i < plen; i++) {
		if (s.pl[i] != pat(off + i))
			print_error("line %d: byte %u of the segment at %u is not pat(%u)\n", line,
				    i, seq, off + i);
		assert_int_equal(s.pl[i], pat(off + i));
	}
	return s.h;
}

int
drain_acks_at(struct fixture *fx, uint32_t ack, int line)
{
	int n = 0;
	while (fx->seen < fx->nout) {
		struct seg s = next_seg_at(fx, line);
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

struct fj_tcp_hdr
expect_syn(struct fixture *fx, uint16_t *sport)
{
	struct seg s = next_seg(fx);
	assert_int_equal(s.h.flags, SYN);
	assert_int_equal(s.h.ack, 0);
	if (sport)
		*sport = s.h.sport;
	return s.h;
}

struct fj_tcp_hdr
expect_to80_at(struct fixture *fx, uint8_t flags, uint32_t seq, uint32_t ack, uint32_t plen,
	       int line)
{
	struct seg s = next_seg_at(fx, line);
	if (s.h.flags != flags || s.h.seq != seq || s.h.ack != ack || s.plen != plen)
		print_error("line %d: flags %#x seq %u ack %u len %u, not %#x %u %u %u\n", line,
			    s.h.flags, s.h.seq, s.h.ack, s.plen, flags, seq, ack, plen);
	assert_int_equal(s.h.dport, 80);
	assert_int_equal(s.h.sport, fx->cport);
	assert_int_equal(s.h.flags, flags);
	assert_int_equal(s.h.seq, seq);
	assert_int_equal(s.h.ack, ack);
	assert_int_equal(s.plen, plen);
	return s.h;
}

/* ------------------------------------------------------ handshakes */

uint32_t
handshake(struct fixture *fx, uint16_t port, const struct fj_tcp_opts *o, uint16_t syn_wnd,
	  uint16_t wnd, struct fj_tcp_hdr *sa)
{
	struct fj_tcp_hdr h;
	peer_tcp(fx, port, fx->peer_iss, 0, SYN, syn_wnd, o, NULL);
	h = expect_tcp(fx, SYN | ACK, NULL, NULL);
	assert_int_equal(h.ack, fx->peer_iss + 1);
	struct fj_tcp_opts a = { 0 };
	if (o && o->has_ts) {
		a.has_ts = true;
		a.tsval = o->tsval + 1;
		a.tsecr = h.o.tsval;
	}
	advance(fx, fx->hs_rtt);
	peer_tcp(fx, port, fx->peer_iss + 1, h.seq + 1, ACK, wnd, &a, NULL);
	if (sa)
		*sa = h;
	return h.seq + 1;
}

uint32_t
hs_opts(struct fixture *fx, uint16_t port, const struct fj_tcp_opts *o, uint16_t wnd,
	struct fj_tcp_hdr *sa)
{
	return handshake(fx, port, o, 65535, wnd, sa);
}

uint32_t
hs(struct fixture *fx, uint16_t port, uint16_t wnd, bool ws)
{
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1000, .has_ws = ws, .ws = 2 };
	return hs_opts(fx, port, &o, wnd, NULL);
}

uint32_t
open_flow(struct fixture *fx, uint16_t port, uint16_t wnd, bool ws)
{
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1000, .has_ws = ws, .ws = 2 };
	uint32_t iss1 = handshake(fx, port, &o, wnd, wnd, NULL);
	if (port != 8 && port != 23)
		expect_nothing(fx); /* these applications close or shut down at once */
	return iss1;
}

uint32_t
hs_ts(struct fixture *fx, uint16_t port, bool sack)
{
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1000, .has_ts = true, .tsval = 1000,
				 .sack_perm = sack };
	struct fj_tcp_hdr sa;
	uint32_t iss1 = hs_opts(fx, port, &o, 65535, &sa);
	assert_true(sa.o.has_ts);
	assert_int_equal(sa.o.tsecr, 1000);
	return iss1;
}

uint32_t
open_flow_ts(struct fixture *fx, uint32_t tsval, uint32_t *ours)
{
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1460, .has_ts = true, .tsval = tsval };
	struct fj_tcp_hdr sa;
	uint32_t iss1 = hs_opts(fx, 7, &o, 65535, &sa);
	assert_true(sa.o.has_ts);
	assert_int_equal(sa.o.tsecr, tsval); /* RFC 7323 §3.2: echoed */
	*ours = sa.o.tsval;
	expect_nothing(fx);
	return iss1;
}

uint32_t
hs_sack(struct fixture *fx, uint16_t port)
{
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1000, .sack_perm = true };
	struct fj_tcp_hdr sa;
	uint32_t iss1 = hs_opts(fx, port, &o, 65535, &sa);
	assert_true(sa.o.sack_perm); /* RFC 2018 §2: answered */
	return iss1;
}

struct fj_tcp_hdr
connect_syn(struct fixture *fx, fj_flow_fn fn)
{
	struct fj_addr to = { .ip = PEER_IP, .port = 80 };
	fx->client.flow = fj_connect_tcp(fx->stack, &to, fn, fx);
	assert_non_null(fx->client.flow);
	fj_stack_poll(fx->stack); /* the SYN leaves with the loop's turn */
	return expect_syn(fx, &fx->cport);
}

/* ------------------------------------------------------ reaching a state */

struct conn
reach(struct fixture *fx, enum st st)
{
	uint32_t iss1, p1 = fx->peer_iss + 1;
	switch (st) {
	case ST_EST: /* an application that reads */
		iss1 = hs(fx, 22, 65535, true);
		expect_nothing(fx);
		return (struct conn){ 22, iss1, p1 };
	case ST_FW1: /* we shut down; our FIN unacknowledged */
	case ST_FW2: /* ...acknowledged */
	case ST_CLOSING: /* ...and the peer's FIN crossed ours */
		iss1 = hs(fx, 23, 65535, true);
		expect_seg(fx, FIN | ACK, iss1, p1, 0);
		if (st == ST_FW2) {
			peer_tcp(fx, 23, p1, iss1 + 1, ACK, 65535, NULL, NULL);
		} else if (st == ST_CLOSING) {
			peer_tcp(fx, 23, p1, iss1, FIN | ACK, 65535, NULL, NULL);
			expect_ack(fx, iss1 + 1, p1 + 1);
			expect_nothing(fx);
			return (struct conn){ 23, iss1 + 1, p1 + 1 };
		}
		expect_nothing(fx);
		return (struct conn){ 23, iss1 + 1, p1 };
	case ST_CW: /* the peer's FIN; our application stays */
		iss1 = hs(fx, 22, 65535, true);
		peer_tcp(fx, 22, p1, iss1, FIN | ACK, 65535, NULL, NULL);
		expect_ack(fx, iss1, p1 + 1);
		expect_nothing(fx);
		assert_int_equal(fx->obs.last, FJ_EOF);
		return (struct conn){ 22, iss1, p1 + 1 };
	case ST_LA: /* the echo closes after the peer's FIN: ours unacknowledged */
		iss1 = hs(fx, 7, 65535, true);
		peer_tcp(fx, 7, p1, iss1, FIN | ACK, 65535, NULL, NULL);
		expect_ack(fx, iss1, p1 + 1);
		expect_seg(fx, FIN | ACK, iss1, p1 + 1, 0);
		expect_nothing(fx);
		return (struct conn){ 7, iss1 + 1, p1 + 1 };
	case ST_TW: /* we closed first, both FINs acknowledged */
		iss1 = hs(fx, 8, 65535, true);
		expect_seg(fx, FIN | ACK, iss1, p1, 0);
		peer_tcp(fx, 8, p1, iss1 + 1, FIN | ACK, 65535, NULL, NULL);
		expect_ack(fx, iss1 + 1, p1 + 1);
		expect_nothing(fx);
		return (struct conn){ 8, iss1 + 1, p1 + 1 };
	}
	fail();
	return (struct conn){ 0, 0, 0 };
}
