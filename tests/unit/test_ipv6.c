/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv6 below the transports, frame by frame in virtual time through the
 * test port: Neighbor Discovery (RFC 4861) answering and resolving, the
 * neighbour states (INCOMPLETE, REACHABLE, STALE, DELAY, PROBE) and their
 * timers (§7.3, §10), the bounded queue of output waiting on resolution,
 * DAD probes answered (RFC 4862 §5.4.3), ICMPv6 echo (RFC 4443 §4), and
 * router advertisements (§6.3.4, RFC 4862 §5.5.3), fragments, UDP; and
 * TCP over IPv6 (RFC 9293 with RFC 8200 §8): the IPv6 pseudo-header, the
 * MSS of the IPv6 headers, packet too big lowering a flow's segments
 * (RFC 8201), ICMPv6 hard errors ending a connect.
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
#include "stack.h"

static struct fj_ip6 US6, PEER6, US_LL, PEER_LL;
static const struct fj_ip6 ALL_NODES_T = { { 0xff, 0x02, [15] = 1 } };

static void
addrs(void)
{
	fj_ip6_parse_text("2001:db8::2", &US6);
	fj_ip6_parse_text("2001:db8::1", &PEER6);
	fj_ip6_parse_text("fe80::1", &PEER_LL);
	US_LL = fj_ip6_link_local(&US);
}

/* A frame from PEER (MAC) with the ICMPv6 message @body (@n bytes) from
 * @src to @dst at hop limit @hl; its length. */
static uint32_t
mk_icmp6(uint8_t *f, const struct fj_mac *eth_dst, const struct fj_ip6 *src,
	 const struct fj_ip6 *dst, uint8_t hl, const uint8_t *body, size_t n)
{
	fj_eth_build(f, eth_dst, &PEER, FJ_ETH_P_IPV6);
	fj_ipv6_build(f + 14, src, dst, FJ_IP_PROTO_ICMPV6, (uint16_t)n, hl, 0);
	memcpy(f + 54, body, n);
	fj_icmp6_set_csum(f + 54, n, src, dst);
	return (uint32_t)(54 + n < 60 ? 60 : 54 + n);
}

static void
peer_echo(struct fixture *fx, uint16_t seq)
{
	uint8_t f[256], e[16] = { FJ_ICMP6_ECHO_REQUEST, 0, 0, 0, 0, 7, 0, 0, 'p', 'i', 'n', 'g' };
	e[7] = (uint8_t)seq;
	fj_stack_input(fx->stack, f, mk_icmp6(f, &US, &PEER6, &US6, 64, e, 12));
}

static void
peer_na(struct fixture *fx, uint8_t flags, const struct fj_mac *tll)
{
	uint8_t f[256], na[32];
	size_t n = fj_nd_build_na(na, &PEER6, flags, tll);
	fj_stack_input(fx->stack, f, mk_icmp6(f, &US, &PEER6, &US6, 255, na, n));
}

/* The next frame as IPv6 from us: its header parsed, its ICMPv6 message
 * checked, to @eth_dst. */
static struct fj_ipv6
expect_icmp6(struct fixture *fx, const struct fj_mac *eth_dst, uint8_t type, const uint8_t **msg,
	     size_t *len)
{
	uint32_t flen;
	const uint8_t *f = next_frame(fx, &flen);
	struct fj_eth e;
	struct fj_ipv6 ip;
	struct fj_icmp6 ic;
	assert_int_equal(fj_eth_parse(f, flen, &e), FJ_OK);
	assert_int_equal(e.type, FJ_ETH_P_IPV6);
	assert_true(fj_mac_eq(&e.dst, eth_dst));
	assert_true(fj_mac_eq(&e.src, &US));
	assert_int_equal(fj_ipv6_parse(f + 14, flen - 14, &ip), FJ_OK);
	assert_int_equal(ip.proto, FJ_IP_PROTO_ICMPV6);
	*msg = f + 14 + ip.l4_off;
	*len = ip.payload_len + 40u - ip.l4_off;
	assert_int_equal(fj_icmp6_parse(*msg, *len, &ip.src, &ip.dst, false, &ic), FJ_OK);
	assert_int_equal(ic.type, type);
	return ip;
}

/* A multicast NS for PEER6 (to its solicited-node group), or a unicast one
 * to PEER's MAC. */
static void
expect_ns(struct fixture *fx, bool unicast)
{
	struct fj_ip6 sn = fj_ip6_solicited_node(&PEER6);
	struct fj_mac mm = fj_ip6_multicast_mac(&sn);
	const uint8_t *msg;
	size_t len;
	struct fj_ipv6 ip = expect_icmp6(fx, unicast ? &PEER : &mm, FJ_ND_NEIGHBOR_SOLICIT, &msg,
					 &len);
	struct fj_nd nd;
	assert_int_equal(ip.hop_limit, 255);
	assert_true(fj_ip6_eq(&ip.dst, unicast ? &PEER6 : &sn));
	assert_int_equal(fj_nd_parse(msg, len, &ip, &nd), FJ_OK);
	assert_true(fj_ip6_eq(&nd.target, &PEER6));
	assert_true(nd.has_sll && fj_mac_eq(&nd.sll, &US));
}

static void
expect_echo_reply(struct fixture *fx, uint16_t seq)
{
	const uint8_t *msg;
	size_t len;
	struct fj_ipv6 ip = expect_icmp6(fx, &PEER, FJ_ICMP6_ECHO_REPLY, &msg, &len);
	assert_true(fj_ip6_eq(&ip.src, &US6) && fj_ip6_eq(&ip.dst, &PEER6));
	assert_int_equal(len, 12);
	assert_int_equal(msg[7], (uint8_t)seq);
	assert_memory_equal(msg + 8, "ping", 4);
}

static void
skip_router_solicitation(struct fixture *fx)
{
	static const struct fj_ip6 all_routers = { { 0xff, 0x02, [15] = 2 } };
	struct fj_mac mm = fj_ip6_multicast_mac(&all_routers);
	const uint8_t *msg;
	size_t len;
	uint32_t flen;
	next_frame(fx, &flen); /* the gratuitous ARP */
	struct fj_ipv6 ip = expect_icmp6(fx, &mm, FJ_ND_ROUTER_SOLICIT, &msg, &len);
	assert_true(fj_ip6_eq(&ip.src, &US_LL));
	expect_nothing(fx);
}

/* PEER solicits our address (so we learn its MAC and answer), then
 * confirms ours with a solicited NA: the entry is REACHABLE. */
static void
peer_knows_us(struct fixture *fx)
{
	uint8_t f[256], ns[32];
	struct fj_ip6 sn = fj_ip6_solicited_node(&US6);
	struct fj_mac mm = fj_ip6_multicast_mac(&sn);
	size_t nn = fj_nd_build_ns(ns, &US6, &PEER);
	fj_stack_input(fx->stack, f, mk_icmp6(f, &mm, &PEER6, &sn, 255, ns, nn));
	const uint8_t *m;
	size_t len;
	expect_icmp6(fx, &PEER, FJ_ND_NEIGHBOR_ADVERT, &m, &len);
	peer_na(fx, FJ_ND_NA_SOLICITED, &PEER);
}

static const struct fj_nd_entry *
entry(struct fixture *fx)
{
	return fj_nd_find(&((struct fj_stack *)fx->stack)->nd, &PEER6);
}

/* RFC 4861 §7.2.2, §7.2.5: a reply to an unknown neighbour waits while a
 * multicast solicitation asks, and leaves with the solicited
 * advertisement, which makes the entry REACHABLE. */
static void
test_reply_waits_for_resolution_then_leaves(void **state)
{
	struct fixture *fx = *state;
	addrs();
	skip_router_solicitation(fx);
	peer_echo(fx, 1);
	expect_ns(fx, false);
	expect_nothing(fx);
	assert_int_equal(entry(fx)->state, FJ_ND_INCOMPLETE);
	peer_na(fx, FJ_ND_NA_SOLICITED | FJ_ND_NA_OVERRIDE, &PEER);
	expect_echo_reply(fx, 1);
	expect_nothing(fx);
	assert_int_equal(entry(fx)->state, FJ_ND_REACHABLE);
}

/* RFC 4861 §7.3.3: REACHABLE for ReachableTime (30 s), then STALE; used
 * while STALE it goes DELAY (the reply leaves at once), and after 5 s
 * without confirmation PROBE: three unicast solicitations a second apart,
 * unanswered, remove it, and the next reply asks by multicast again. */
static void
test_entry_goes_stale_delay_probe_and_is_removed(void **state)
{
	struct fixture *fx = *state;
	addrs();
	skip_router_solicitation(fx);
	peer_echo(fx, 1);
	expect_ns(fx, false);
	peer_na(fx, FJ_ND_NA_SOLICITED, &PEER);
	expect_echo_reply(fx, 1);
	advance(fx, 29 * SEC);
	assert_int_equal(entry(fx)->state, FJ_ND_REACHABLE);
	advance(fx, 2 * SEC);
	assert_int_equal(entry(fx)->state, FJ_ND_STALE);
	expect_nothing(fx);
	peer_echo(fx, 2);
	expect_echo_reply(fx, 2);
	assert_int_equal(entry(fx)->state, FJ_ND_DELAY);
	advance(fx, 4 * SEC);
	expect_nothing(fx);
	advance(fx, 1 * SEC + 100 * MS);
	assert_int_equal(entry(fx)->state, FJ_ND_PROBE);
	expect_ns(fx, true);
	advance(fx, SEC);
	expect_ns(fx, true);
	advance(fx, SEC);
	expect_ns(fx, true);
	advance(fx, SEC);
	expect_nothing(fx);
	assert_null(entry(fx));
	peer_echo(fx, 3);
	expect_ns(fx, false);
}

/* RFC 4861 §7.3.3: a probe answered by a solicited NA makes the entry
 * REACHABLE again. */
static void
test_probe_answered_makes_the_entry_reachable(void **state)
{
	struct fixture *fx = *state;
	addrs();
	skip_router_solicitation(fx);
	peer_echo(fx, 1);
	expect_ns(fx, false);
	peer_na(fx, FJ_ND_NA_SOLICITED, &PEER);
	expect_echo_reply(fx, 1);
	advance(fx, 31 * SEC);
	peer_echo(fx, 2);
	expect_echo_reply(fx, 2);
	advance(fx, 5 * SEC + 100 * MS);
	expect_ns(fx, true);
	peer_na(fx, FJ_ND_NA_SOLICITED, &PEER);
	assert_int_equal(entry(fx)->state, FJ_ND_REACHABLE);
	advance(fx, 5 * SEC);
	expect_nothing(fx);
}

/* RFC 4861 §7.2.2, §10: three multicast solicitations a second apart;
 * unanswered, the waiting output goes (drop_nd_timeout); at most 8 wait
 * for one neighbour (drop_nd_pending_full). */
static void
test_unanswered_resolution_drops_what_waited(void **state)
{
	struct fixture *fx = *state;
	addrs();
	skip_router_solicitation(fx);
	for (uint16_t i = 0; i < 9; i++)
		peer_echo(fx, i);
	expect_ns(fx, false);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "drop_nd_pending_full"), 1);
	advance(fx, SEC);
	expect_ns(fx, false);
	advance(fx, SEC);
	expect_ns(fx, false);
	advance(fx, SEC);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "drop_nd_timeout"), 8);
	assert_null(entry(fx));
}

/* RFC 4861 §7.2.3-4: an NS for our address is answered by a solicited,
 * overriding NA with our MAC, to the soliciting address; the solicitor's
 * address is learnt (STALE, then DELAY as the NA uses it). One for
 * another address is not answered; one failing §7.1.1 (hop limit 254) is dropped; a DAD probe (from ::) for our
 * address is answered to all nodes, not solicited (RFC 4862 §5.4.3). */
static void
test_solicitations_are_answered(void **state)
{
	struct fixture *fx = *state;
	addrs();
	skip_router_solicitation(fx);
	uint8_t f[256], ns[32];
	struct fj_ip6 sn = fj_ip6_solicited_node(&US6);
	struct fj_mac mm = fj_ip6_multicast_mac(&sn);
	size_t n = fj_nd_build_ns(ns, &US6, &PEER);
	fj_stack_input(fx->stack, f, mk_icmp6(f, &mm, &PEER6, &sn, 255, ns, n));
	const uint8_t *msg;
	size_t len;
	struct fj_ipv6 ip = expect_icmp6(fx, &PEER, FJ_ND_NEIGHBOR_ADVERT, &msg, &len);
	struct fj_nd nd;
	assert_true(fj_ip6_eq(&ip.src, &US6) && fj_ip6_eq(&ip.dst, &PEER6));
	assert_int_equal(fj_nd_parse(msg, len, &ip, &nd), FJ_OK);
	assert_int_equal(nd.flags, FJ_ND_NA_SOLICITED | FJ_ND_NA_OVERRIDE);
	assert_true(fj_ip6_eq(&nd.target, &US6) && nd.has_tll && fj_mac_eq(&nd.tll, &US));
	/* learnt STALE, and used at once for the NA: DELAY (§7.3.3) */
	assert_int_equal(entry(fx)->state, FJ_ND_DELAY);
	/* for someone else */
	struct fj_ip6 other;
	fj_ip6_parse_text("2001:db8::77", &other);
	n = fj_nd_build_ns(ns, &other, &PEER);
	fj_stack_input(fx->stack, f, mk_icmp6(f, &US, &PEER6, &other, 255, ns, n));
	expect_nothing(fx);
	/* from beyond a router */
	n = fj_nd_build_ns(ns, &US6, &PEER);
	fj_stack_input(fx->stack, f, mk_icmp6(f, &mm, &PEER6, &sn, 254, ns, n));
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "drop_nd_format"), 1);
	/* DAD */
	static const struct fj_ip6 unspec, all_nodes = { { 0xff, 0x02, [15] = 1 } };
	n = fj_nd_build_ns(ns, &US6, NULL);
	fj_stack_input(fx->stack, f, mk_icmp6(f, &mm, &unspec, &sn, 255, ns, n));
	struct fj_mac an = fj_ip6_multicast_mac(&all_nodes);
	ip = expect_icmp6(fx, &an, FJ_ND_NEIGHBOR_ADVERT, &msg, &len);
	assert_true(fj_ip6_eq(&ip.dst, &all_nodes));
	assert_int_equal(fj_nd_parse(msg, len, &ip, &nd), FJ_OK);
	assert_int_equal(nd.flags, FJ_ND_NA_OVERRIDE);
	expect_nothing(fx);
}

/* RFC 4861 §6.3.4, RFC 4862 §5.5.3: an advertisement from a link-local
 * router makes it the default router and, for an autonomous /64, gives
 * an address of the prefix and our interface identifier, answered at. */
static void
test_router_advertisement_gives_router_and_address(void **state)
{
	struct fixture *fx = *state;
	addrs();
	skip_router_solicitation(fx);
	uint8_t f[256], ra[16 + 32 + 8] = { FJ_ND_ROUTER_ADVERT, 0, 0, 0, 64, 0, 0x07, 0x08 };
	uint8_t *o = ra + 16;
	o[0] = 3, o[1] = 4, o[2] = 64, o[3] = FJ_ND_PREFIX_ONLINK | FJ_ND_PREFIX_AUTO;
	o[6] = 0x0e, o[7] = 0x10, o[10] = 0x07, o[11] = 0x08;
	struct fj_ip6 pfx;
	fj_ip6_parse_text("2001:db8:9::", &pfx);
	memcpy(o + 16, pfx.b, 16);
	o = ra + 48;
	o[0] = 1, o[1] = 1;
	memcpy(o + 2, GW.b, 6);
	static const struct fj_ip6 all_nodes = { { 0xff, 0x02, [15] = 1 } };
	struct fj_mac an = fj_ip6_multicast_mac(&all_nodes);
	fj_stack_input(fx->stack, f, mk_icmp6(f, &an, &PEER_LL, &all_nodes, 255, ra, sizeof(ra)));
	expect_nothing(fx);
	struct fj_stack *s = fx->stack;
	assert_true(s->has_gw6 && fj_ip6_eq(&s->gw6, &PEER_LL));
	struct fj_ip6 mine = pfx;
	memcpy(mine.b + 8, US_LL.b + 8, 8);
	bool have = false;
	for (unsigned i = 0; i < s->nip6; i++)
		have |= fj_ip6_eq(&s->ip6[i].a, &mine);
	assert_true(have);
	assert_int_equal(fj_stack_counter(fx->stack, "ip6_slaac_addrs"), 1);
	/* the same advertisement again adds nothing */
	fj_stack_input(fx->stack, f, mk_icmp6(f, &an, &PEER_LL, &all_nodes, 255, ra, sizeof(ra)));
	assert_int_equal(fj_stack_counter(fx->stack, "ip6_slaac_addrs"), 1);
	/* from a global source it is not a router's (§6.1.2) */
	fj_stack_input(fx->stack, f, mk_icmp6(f, &an, &PEER6, &all_nodes, 255, ra, sizeof(ra)));
	assert_int_equal(fj_stack_counter(fx->stack, "drop_nd_format"), 1);
}


/* An IPv6 fragment from PEER6: @plen bytes of the ICMPv6 message @d at
 * @off, MF as @mf, identification @id (RFC 8200 §4.5). */
static uint32_t
mk_frag6(uint8_t *f, uint32_t id, uint32_t off, bool mf, const uint8_t *d, uint32_t plen)
{
	fj_eth_build(f, &US, &PEER, FJ_ETH_P_IPV6);
	fj_ipv6_build(f + 14, &PEER6, &US6, FJ_IPV6_NH_FRAGMENT, (uint16_t)(8 + plen), 64, 0);
	uint8_t *fh = f + 54;
	fh[0] = FJ_IP_PROTO_ICMPV6, fh[1] = 0;
	fh[2] = (uint8_t)(off >> 8), fh[3] = (uint8_t)((off & 0xf8) | (mf ? 1 : 0));
	fh[4] = (uint8_t)(id >> 24), fh[5] = (uint8_t)(id >> 16), fh[6] = (uint8_t)(id >> 8);
	fh[7] = (uint8_t)id;
	memcpy(f + 62, d, plen);
	return 62 + plen;
}

/* RFC 8200 §4.5: a 3,000-byte echo request in three fragments, out of
 * order, is reassembled and answered in three fragments of one new
 * identification whose data is the request's; one missing its last
 * fragment goes after 60 s with time exceeded, code 1. */
static void
test_ipv6_fragments_both_ways(void **state)
{
	struct fixture *fx = *state;
	addrs();
	skip_router_solicitation(fx);
	uint8_t req[3008], f[1600], msg[4000];
	const uint8_t *m;
	size_t len;
	peer_knows_us(fx); /* confirmed: no probe in what follows */
	req[0] = FJ_ICMP6_ECHO_REQUEST, req[1] = 0, req[2] = req[3] = 0;
	req[4] = 0, req[5] = 9, req[6] = 0, req[7] = 1;
	for (int i = 8; i < 3008; i++)
		req[i] = (uint8_t)(i * 11);
	fj_icmp6_set_csum(req, sizeof(req), &PEER6, &US6);
	fj_stack_input(fx->stack, f, mk_frag6(f, 0x1234, 2896, false, req + 2896, 112));
	fj_stack_input(fx->stack, f, mk_frag6(f, 0x1234, 0, true, req, 1448));
	expect_nothing(fx);
	fj_stack_input(fx->stack, f, mk_frag6(f, 0x1234, 1448, true, req + 1448, 1448));
	uint32_t have = 0, flen, id = 0;
	int n = 0;
	bool last = false;
	while (fx->seen < fx->nout) {
		const uint8_t *o = next_frame(fx, &flen);
		struct fj_ipv6 ip;
		assert_true(flen <= 1514);
		assert_int_equal(fj_ipv6_parse(o + 14, flen - 14, &ip), FJ_OK);
		assert_true(ip.frag && fj_ip6_eq(&ip.dst, &PEER6) && fj_ip6_eq(&ip.src, &US6));
		assert_int_equal(ip.frag_off, have);
		if (n++ == 0)
			id = ip.frag_id;
		assert_int_equal(ip.frag_id, id);
		uint32_t plen = 40u + ip.payload_len - ip.l4_off;
		memcpy(msg + have, o + 14 + ip.l4_off, plen);
		have += plen;
		last = !ip.mf;
	}
	assert_true(last && n == 3);
	assert_int_equal(have, sizeof(req));
	struct fj_icmp6 ic;
	assert_int_equal(fj_icmp6_parse(msg, have, &US6, &PEER6, false, &ic), FJ_OK);
	assert_int_equal(ic.type, FJ_ICMP6_ECHO_REPLY);
	assert_memory_equal(msg + 4, req + 4, sizeof(req) - 4);
	/* incomplete: time exceeded after 60 s */
	fj_stack_input(fx->stack, f, mk_frag6(f, 0x99, 0, true, req, 1448));
	advance(fx, 59 * SEC);
	expect_nothing(fx);
	advance(fx, 2 * SEC);
	struct fj_ipv6 ip = expect_icmp6(fx, &PEER, FJ_ICMP6_TIME_EXCEEDED, &m, &len);
	assert_true(fj_ip6_eq(&ip.dst, &PEER6));
	assert_int_equal(m[1], FJ_ICMP6_REASM_TIME_EXCEEDED);
	assert_int_equal(fj_stack_counter(fx->stack, "ip_reasm_timeouts"), 1);
}


/* RFC 8200 §8.1, RFC 768: UDP over IPv6 reaches the echo on port 7 with
 * the sender's IPv6 address, and the reply goes back with its checksum
 * over the IPv6 pseudo-header; a bad or zero checksum is dropped. */
static void
test_udp_over_ipv6_is_echoed(void **state)
{
	struct fixture *fx = *state;
	addrs();
	skip_router_solicitation(fx);
	uint8_t f[256];
	peer_knows_us(fx);
	for (int pass = 0; pass < 3; pass++) {
		uint8_t u[8 + 5] = { 0x13, 0x89, 0, 7, 0, 13, 0, 0, 'h', 'e', 'l', 'l', 'o' };
		fj_eth_build(f, &US, &PEER, FJ_ETH_P_IPV6);
		fj_ipv6_build(f + 14, &PEER6, &US6, FJ_IP_PROTO_UDP, sizeof(u), 64, 0);
		uint16_t c = fj_csum_fold(fj_csum_add(
			fj_csum_pseudo6(&PEER6, &US6, sizeof(u), FJ_IP_PROTO_UDP), u, sizeof(u)));
		u[6] = (uint8_t)(c >> 8), u[7] = (uint8_t)c;
		if (pass == 1)
			u[7] ^= 1; /* bad */
		if (pass == 2)
			u[6] = u[7] = 0; /* none: not allowed over IPv6 */
		memcpy(f + 54, u, sizeof(u));
		fj_stack_input(fx->stack, f, 60 + 7);
		if (pass > 0) {
			expect_nothing(fx);
			continue;
		}
		uint32_t flen;
		const uint8_t *o = next_frame(fx, &flen);
		struct fj_ipv6 ip;
		assert_int_equal(fj_ipv6_parse(o + 14, flen - 14, &ip), FJ_OK);
		assert_int_equal(ip.proto, FJ_IP_PROTO_UDP);
		assert_true(fj_ip6_eq(&ip.src, &US6) && fj_ip6_eq(&ip.dst, &PEER6));
		const uint8_t *r = o + 54;
		assert_int_equal(r[0] << 8 | r[1], 7);
		assert_int_equal(r[2] << 8 | r[3], 5001);
		assert_int_equal(fj_csum_fold(fj_csum_add(fj_csum_pseudo6(&US6, &PEER6, 13,
									   FJ_IP_PROTO_UDP),
							  r, 13)),
				 0);
		assert_memory_equal(r + 8, "hello", 5);
	}
	assert_int_equal(fj_stack_counter(fx->stack, "drop_udp_checksum"), 2);
	assert_int_equal(fj_stack_counter(fx->stack, "udp_rx"), 1);
}

/* RFC 4443 §3.1: a datagram to a UDP port nobody listens on is answered
 * with destination unreachable, code 4 (port unreachable), quoting it;
 * one to a multicast address is not. */
static void
test_udp_over_ipv6_to_a_closed_port_is_unreachable(void **state)
{
	struct fixture *fx = *state;
	addrs();
	skip_router_solicitation(fx);
	uint8_t f[256];
	peer_knows_us(fx);
	uint8_t u[8 + 5] = { 0x13, 0x89, 0x23, 0x28, 0, 13, 0, 0, 'h', 'e', 'l', 'l', 'o' };
	fj_eth_build(f, &US, &PEER, FJ_ETH_P_IPV6);
	fj_ipv6_build(f + 14, &PEER6, &US6, FJ_IP_PROTO_UDP, sizeof(u), 64, 0);
	uint16_t c = fj_csum_fold(fj_csum_add(
		fj_csum_pseudo6(&PEER6, &US6, sizeof(u), FJ_IP_PROTO_UDP), u, sizeof(u)));
	u[6] = (uint8_t)(c >> 8), u[7] = (uint8_t)c;
	memcpy(f + 54, u, sizeof(u));
	fj_stack_input(fx->stack, f, 60 + 7);
	const uint8_t *msg;
	size_t len;
	struct fj_ipv6 ip = expect_icmp6(fx, &PEER, FJ_ICMP6_DEST_UNREACH, &msg, &len);
	assert_true(fj_ip6_eq(&ip.src, &US6) && fj_ip6_eq(&ip.dst, &PEER6));
	assert_int_equal(msg[1], FJ_ICMP6_PORT_UNREACH);
	assert_int_equal(len, 8 + 40 + sizeof(u));
	assert_memory_equal(msg + 8, f + 14, 40 + sizeof(u));
	assert_int_equal(fj_stack_counter(fx->stack, "drop_udp_port_closed"), 1);
	expect_nothing(fx);
}

/* An ICMPv6 error from @from about the frame @ours we sent (RFC 4443 §3:
 * as much of it as fits in 1,280 bytes; here its first 200). */
static void
peer_icmp6_error(struct fixture *fx, const struct fj_ip6 *from, uint8_t type, uint8_t code,
		 uint32_t word, const uint8_t *ours)
{
	uint8_t f[400], e[8 + 200];
	e[0] = type, e[1] = code, e[2] = e[3] = 0;
	e[4] = (uint8_t)(word >> 24), e[5] = (uint8_t)(word >> 16), e[6] = (uint8_t)(word >> 8);
	e[7] = (uint8_t)word;
	memcpy(e + 8, ours + 14, 200);
	fj_stack_input(fx->stack, f, mk_icmp6(f, &US, from, &US6, 64, e, sizeof(e)));
}

static void
send_udp6(struct fixture *fx, struct fj_udp *u, uint32_t n)
{
	struct fj_addr to = { .port = 53, .family = FJ_AF_INET6 };
	memcpy(to.ip6, PEER6.b, 16);
	struct fj_buf *b = fj_buf_alloc(fx->stack, n);
	memset(fj_buf_data(b), 0x42, fj_buf_len(b));
	assert_int_equal(fj_udp_send(u, b, &to), 0);
	fj_stack_poll(fx->stack);
}

/* RFC 8201 §4, RFC 4443 §3.2: packet too big from a router lowers the
 * path MTU towards the destination (later datagrams leave in fragments
 * within it) for 10 minutes, and the UDP endpoint is told EMSGSIZE; one
 * below 1,280 is ignored (RFC 8021); port unreachable is ECONNREFUSED. */
static void
test_packet_too_big_and_udp_errors(void **state)
{
	struct fixture *fx = *state;
	addrs();
	skip_router_solicitation(fx);
	peer_knows_us(fx);
	struct fj_udp *u = fj_udp_bind(fx->stack, 99, echo, NULL);
	struct fj_ip6 router;
	fj_ip6_parse_text("2001:db8::fe", &router);
	uint32_t flen;
	send_udp6(fx, u, 1400);
	const uint8_t *o = next_frame(fx, &flen);
	assert_int_equal(flen, 14 + 40 + 8 + 1400);
	uint8_t ours[2048];
	memcpy(ours, o, flen);
	peer_icmp6_error(fx, &router, FJ_ICMP6_PKT_TOO_BIG, 0, 1000, ours); /* < 1,280 */
	assert_int_equal(fj_stack_counter(fx->stack, "ip6_pmtu_updates"), 0);
	assert_int_equal(fj_udp_error(u, NULL), 0);
	peer_icmp6_error(fx, &router, FJ_ICMP6_PKT_TOO_BIG, 0, 1280, ours);
	assert_int_equal(fj_stack_counter(fx->stack, "ip6_pmtu_updates"), 1);
	struct fj_addr who;
	assert_int_equal(fj_udp_error(u, &who), -EMSGSIZE);
	assert_int_equal(who.family, FJ_AF_INET6);
	assert_memory_equal(who.ip6, PEER6.b, 16);
	assert_int_equal(who.port, 53);
	assert_int_equal(fj_udp_error(u, &who), 0);
	send_udp6(fx, u, 1400);
	int n = 0;
	while (fx->seen < fx->nout) {
		o = next_frame(fx, &flen);
		assert_true(flen - 14 <= 1280);
		struct fj_ipv6 ip;
		assert_int_equal(fj_ipv6_parse(o + 14, flen - 14, &ip), FJ_OK);
		assert_true(ip.frag);
		n++;
	}
	assert_int_equal(n, 2);
	/* RFC 8201 §4: after 10 minutes the link's MTU is tried again. */
	advance(fx, 601 * SEC);
	while (fx->seen < fx->nout)
		next_frame(fx, &flen); /* the neighbour's probes */
	send_udp6(fx, u, 1400);
	o = next_frame(fx, &flen);
	assert_int_equal(flen, 14 + 40 + 8 + 1400);
	memcpy(ours, o, flen);
	peer_icmp6_error(fx, &PEER6, FJ_ICMP6_DEST_UNREACH, FJ_ICMP6_PORT_UNREACH, 0, ours);
	assert_int_equal(fj_udp_error(u, &who), -ECONNREFUSED);
	/* one about a datagram not from our address is ignored */
	ours[14 + 8 + 15] ^= 1;
	peer_icmp6_error(fx, &PEER6, FJ_ICMP6_DEST_UNREACH, FJ_ICMP6_PORT_UNREACH, 0, ours);
	assert_int_equal(fj_udp_error(u, &who), 0);
	assert_int_equal(fj_stack_counter(fx->stack, "drop_icmp_error_ignored"), 2);
}

/* ------------------------------------------------------ TCP over IPv6 */

#define P6PORT 40000

/* A TCP segment from PEER6:P6PORT (or @sport) to US6:@dport; its frame
 * length. */
static uint32_t
mk_tcp6(uint8_t *f, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
	const struct fj_tcp_opts *o, const char *data)
{
	struct fj_tcp_hdr h = { .sport = sport ? sport : P6PORT, .dport = dport, .seq = seq,
				.ack = ack, .flags = flags, .wnd = 65535 };
	uint32_t n = data ? (uint32_t)strlen(data) : 0;
	if (o)
		h.o = *o;
	size_t hl = FJ_TCP_HDR_LEN + fj_tcp_opts_len(&h.o);
	fj_eth_build(f, &US, &PEER, FJ_ETH_P_IPV6);
	memcpy(f + 54 + hl, data ? data : "", n);
	fj_tcp_build_ph(f + 54, &h, fj_csum_pseudo6(&PEER6, &US6, 0, FJ_IP_PROTO_TCP), n, false);
	fj_ipv6_build(f + 14, &PEER6, &US6, FJ_IP_PROTO_TCP, (uint16_t)(hl + n), 64, 0);
	return (uint32_t)(54 + hl + n < 60 ? 60 : 54 + hl + n);
}

static void
peer_tcp6(struct fixture *fx, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
	  const struct fj_tcp_opts *o, const char *data)
{
	uint8_t f[1600];
	fj_stack_input(fx->stack, f, mk_tcp6(f, 0, dport, seq, ack, flags, o, data));
}

/* The next frame as a TCP segment over IPv6 from US6 to PEER6, its
 * checksum over the IPv6 pseudo-header checked; its payload and length. */
static struct fj_tcp_hdr
expect_tcp6(struct fixture *fx, uint8_t flags, const uint8_t **pl, uint32_t *plen)
{
	uint32_t flen;
	const uint8_t *f = next_frame(fx, &flen);
	struct fj_ipv6 ip;
	struct fj_tcp_hdr h;
	assert_int_equal(f[12] << 8 | f[13], FJ_ETH_P_IPV6);
	assert_int_equal(fj_ipv6_parse(f + 14, flen - 14, &ip), FJ_OK);
	assert_int_equal(ip.proto, FJ_IP_PROTO_TCP);
	assert_false(ip.frag);
	assert_true(fj_ip6_eq(&ip.src, &US6) && fj_ip6_eq(&ip.dst, &PEER6));
	uint32_t tl = 40u + ip.payload_len - ip.l4_off;
	assert_int_equal(fj_tcp_parse_ph(f + 14 + ip.l4_off, tl,
					 fj_csum_pseudo6(&ip.src, &ip.dst, 0, FJ_IP_PROTO_TCP),
					 false, &h),
			 FJ_OK);
	assert_int_equal(h.flags & ~PSH, flags & ~PSH); /* (PSH as it comes) */
	if (pl)
		*pl = f + 14 + ip.l4_off + h.hdr_len;
	if (plen)
		*plen = tl - h.hdr_len;
	return h;
}

/* A TCP echo on the fixture's stack that remembers its flow and closes
 * on EOF. */
static struct fj_flow *echo6_flow;
static int echo6_events;

static void
echo6(struct fj_flow *f, void *arg)
{
	struct fj_buf *b;
	(void)arg;
	echo6_flow = f;
	echo6_events++;
	for (;;) {
		switch (fj_flow_read(f, &b)) {
		case FJ_DATA:
			assert_int_equal(fj_flow_write(f, b), 0);
			break;
		case FJ_AGAIN:
			return;
		default:
			fj_flow_close(f);
			echo6_flow = NULL;
			return;
		}
	}
}

static const struct fj_tcp_opts SYN_OPTS = { .has_mss = true, .mss = 1440, .sack_perm = true };

/* The peer opens to @port: its SYN (peer ISS 1000), our SYN-ACK (its MSS
 * option checked), its ACK. Our ISS + 1; what the ACK made is left. */
static uint32_t
handshake6(struct fixture *fx, uint16_t port)
{
	peer_tcp6(fx, port, 1000, 0, SYN, &SYN_OPTS, NULL);
	struct fj_tcp_hdr sa = expect_tcp6(fx, SYN | ACK, NULL, NULL);
	assert_int_equal(sa.ack, 1001);
	/* RFC 8200 §8.3: the link's MTU less 40 and 20. */
	assert_true(sa.o.has_mss);
	assert_int_equal(sa.o.mss, 1500 - 40 - 20);
	assert_true(sa.o.sack_perm);
	peer_tcp6(fx, port, 1001, sa.seq + 1, ACK, NULL, NULL);
	return sa.seq + 1;
}

/* A passive open over IPv6, data echoed both ways, the close; the flow
 * reports its peer's IPv6 address; a SYN to a closed port is refused
 * with a RST; a segment with a bad checksum is a counted drop. */
static void
test_tcp_over_ipv6(void **state)
{
	struct fixture *fx = *state;
	addrs();
	skip_router_solicitation(fx);
	peer_knows_us(fx);
	echo6_flow = NULL;
	echo6_events = 0;
	assert_non_null(fj_listen_tcp(fx->stack, 7, echo6, NULL));
	uint32_t iss1 = handshake6(fx, 7);
	expect_nothing(fx);
	assert_non_null(echo6_flow);
	struct fj_addr a = fj_flow_peer(echo6_flow);
	assert_int_equal(a.family, FJ_AF_INET6);
	assert_memory_equal(a.ip6, PEER6.b, 16);
	assert_int_equal(a.port, P6PORT);

	peer_tcp6(fx, 7, 1001, iss1, ACK | PSH, NULL, "hello over ipv6");
	const uint8_t *pl;
	uint32_t plen;
	struct fj_tcp_hdr h = expect_tcp6(fx, ACK | PSH, &pl, &plen);
	assert_int_equal(h.seq, iss1);
	assert_int_equal(h.ack, 1001 + 15);
	assert_int_equal(plen, 15);
	assert_memory_equal(pl, "hello over ipv6", 15);
	expect_nothing(fx);

	/* A bad checksum (the IPv4 pseudo-header's sum would not match it
	 * either): dropped, counted, nothing sent. */
	uint8_t f[256];
	uint32_t n = mk_tcp6(f, 0, 7, 1016, iss1 + 15, ACK, NULL, "x");
	f[54 + 16] ^= 0x40;
	fj_stack_input(fx->stack, f, n);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "drop_tcp_checksum"), 1);

	/* The peer closes; the echo closes; LAST-ACK, then CLOSED. */
	peer_tcp6(fx, 7, 1016, iss1 + 15, FIN | ACK, NULL, NULL);
	h = expect_tcp6(fx, ACK, NULL, NULL); /* the FIN's, before the echo hears */
	assert_int_equal(h.ack, 1017);
	h = expect_tcp6(fx, FIN | ACK, NULL, NULL);
	assert_int_equal(h.seq, iss1 + 15);
	assert_int_equal(h.ack, 1017);
	peer_tcp6(fx, 7, 1017, iss1 + 16, ACK, NULL, NULL);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows_closed"), 1);

	/* RFC 9293 §3.10.7.1: nobody listens on port 9. */
	peer_tcp6(fx, 9, 7000, 0, SYN, &SYN_OPTS, NULL);
	h = expect_tcp6(fx, RST | ACK, NULL, NULL);
	assert_int_equal(h.seq, 0);
	assert_int_equal(h.ack, 7001);
	expect_nothing(fx);
}

/* Port 20 here: writes 4,000 bytes once connected. */
static void
writer6(struct fj_flow *f, void *arg)
{
	struct fj_buf *b;
	(void)arg;
	if (echo6_events++ == 0) {
		b = fj_buf_alloc(fj_flow_stack(f), 4000);
		assert_non_null(b);
		memset(fj_buf_data(b), 'w', fj_buf_len(b));
		assert_int_equal(fj_flow_write(f, b), 0);
	}
	while (fj_flow_read(f, &b) == FJ_DATA)
		fj_buf_free(b);
}

/* RFC 8201 §4: a router's packet too big (1,280) about one of our
 * segments lowers the flow's segment size to 1,280 - 40 - 20, and what is
 * in flight goes again at once at that size; one below IPv6's minimum is
 * ignored (RFC 8021), as is one quoting a segment already acknowledged
 * (RFC 5927 §4.1). */
static void
test_tcp_ipv6_packet_too_big(void **state)
{
	struct fixture *fx = *state;
	addrs();
	skip_router_solicitation(fx);
	peer_knows_us(fx);
	echo6_events = 0;
	struct fj_ip6 router;
	fj_ip6_parse_text("2001:db8::fe", &router);
	assert_non_null(fj_listen_tcp(fx->stack, 20, writer6, NULL));
	uint32_t iss1 = handshake6(fx, 20);
	fj_stack_poll(fx->stack);
	uint8_t ours[2048];
	uint32_t plen, flen = fx->out[fx->seen].len;
	memcpy(ours, fx->out[fx->seen].b, flen);
	struct fj_tcp_hdr h = expect_tcp6(fx, ACK, NULL, &plen);
	assert_int_equal(h.seq, iss1);
	assert_int_equal(plen, 1440);
	h = expect_tcp6(fx, ACK, NULL, &plen);
	assert_int_equal(plen, 1440);
	h = expect_tcp6(fx, ACK | PSH, NULL, &plen);
	assert_int_equal(plen, 4000 - 2 * 1440);
	expect_nothing(fx);

	peer_icmp6_error(fx, &router, FJ_ICMP6_PKT_TOO_BIG, 0, 1200, ours);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_pmtu_updates"), 0);
	peer_icmp6_error(fx, &router, FJ_ICMP6_PKT_TOO_BIG, 0, 1280, ours);
	assert_int_equal(fj_stack_counter(fx->stack, "ip6_pmtu_updates"), 1);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_pmtu_updates"), 1);
	uint32_t seq = iss1, left = 4000;
	while (left > 0) {
		h = expect_tcp6(fx, left <= 1220 ? ACK | PSH : ACK, NULL, &plen);
		assert_int_equal(h.seq, seq);
		assert_int_equal(plen, RTE_MIN(left, 1220u));
		seq += plen;
		left -= plen;
	}
	expect_nothing(fx);
	/* Everything acknowledged: a late packet too big quoting the first
	 * segment is about nothing in flight. */
	peer_tcp6(fx, 20, 1001, iss1 + 4000, ACK, NULL, NULL);
	peer_icmp6_error(fx, &router, FJ_ICMP6_PKT_TOO_BIG, 0, 1280, ours);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_pmtu_updates"), 1);
	expect_nothing(fx);
}

static void
client6(struct fj_flow *f, void *arg)
{
	(void)f;
	(void)arg;
	echo6_events++;
}

/* An active open over IPv6 from our global address: the SYN carries the
 * IPv6 MSS; a soft error (no route, RFC 4443 §3.1 code 0) is only
 * recorded, port unreachable ends the connect at once with ECONNREFUSED
 * (RFC 1122 §4.2.3.9), and an error quoting a sequence number we did not
 * send is ignored (RFC 5927 §4.1). */
static void
test_tcp_ipv6_connect_and_icmp6_errors(void **state)
{
	struct fixture *fx = *state;
	addrs();
	skip_router_solicitation(fx);
	peer_knows_us(fx);
	echo6_events = 0;
	struct fj_addr to = { .port = 80, .family = FJ_AF_INET6 };
	memcpy(to.ip6, PEER6.b, 16);
	struct fj_flow *c = fj_connect_tcp(fx->stack, &to, client6, NULL);
	assert_non_null(c);
	fj_stack_poll(fx->stack);
	uint8_t syn[256];
	uint32_t flen = fx->out[fx->seen].len;
	memcpy(syn, fx->out[fx->seen].b, flen);
	struct fj_tcp_hdr h = expect_tcp6(fx, SYN, NULL, NULL);
	assert_int_equal(h.dport, 80);
	assert_true(h.o.has_mss && h.o.mss == 1440);
	assert_true(h.o.has_ts && h.o.sack_perm && h.o.has_ws);
	peer_icmp6_error(fx, &PEER6, FJ_ICMP6_DEST_UNREACH, 0, 0, syn);
	assert_int_equal(echo6_events, 0);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_icmp_aborts"), 0);
	uint8_t forged[256];
	memcpy(forged, syn, flen);
	forged[54 + 7] ^= 0x10; /* another sequence number */
	peer_icmp6_error(fx, &PEER6, FJ_ICMP6_DEST_UNREACH, FJ_ICMP6_PORT_UNREACH, 0, forged);
	assert_int_equal(echo6_events, 0);
	peer_icmp6_error(fx, &PEER6, FJ_ICMP6_DEST_UNREACH, FJ_ICMP6_PORT_UNREACH, 0, syn);
	assert_int_equal(echo6_events, 1);
	assert_int_equal(fj_flow_error(c), -ECONNREFUSED);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_icmp_aborts"), 1);
	fj_flow_close(c);
	expect_nothing(fx);
}

/* ------------------------------------------------------ DAD */

/* The next frame: a DAD probe (RFC 4862 §5.4.2) for @target, from the
 * unspecified address to its solicited-node group, without a source
 * link-layer address. */
static void
expect_dad_probe(struct fixture *fx, const struct fj_ip6 *target)
{
	struct fj_ip6 sn = fj_ip6_solicited_node(target);
	struct fj_mac mm = fj_ip6_multicast_mac(&sn);
	const uint8_t *msg;
	size_t len;
	struct fj_ipv6 ip = expect_icmp6(fx, &mm, FJ_ND_NEIGHBOR_SOLICIT, &msg, &len);
	struct fj_nd nd;
	assert_true(fj_ip6_is_unspecified(&ip.src));
	assert_true(fj_ip6_eq(&ip.dst, &sn));
	assert_int_equal(ip.hop_limit, 255);
	assert_int_equal(fj_nd_parse(msg, len, &ip, &nd), FJ_OK);
	assert_true(fj_ip6_eq(&nd.target, target));
	assert_false(nd.has_sll);
}

/* The gratuitous ARP, then the first tick's DAD probes for both
 * addresses. */
static void
dad_start(struct fixture *fx)
{
	uint32_t flen;
	next_frame(fx, &flen);
	advance(fx, MS);
	expect_dad_probe(fx, &US_LL);
	expect_dad_probe(fx, &US6);
}

/* PEER advertises tentative US6 as its own (RFC 4862 §5.4.4): counted a
 * duplicate. */
static void
peer_has_us6(struct fixture *fx)
{
	uint8_t f[256], na[32];
	size_t n = fj_nd_build_na(na, &US6, FJ_ND_NA_OVERRIDE, &PEER);
	fj_stack_input(fx->stack, f, mk_icmp6(f, &US, &PEER6, &ALL_NODES_T, 255, na, n));
	assert_int_equal(fj_stack_counter(fx->stack, "ip6_dad_duplicates"), 1);
}

/* PEER solicits US6 from its own address; the answer, if any. */
static void
peer_solicits_us(struct fixture *fx)
{
	uint8_t f[256], ns[32];
	struct fj_ip6 sn = fj_ip6_solicited_node(&US6);
	struct fj_mac mm = fj_ip6_multicast_mac(&sn);
	size_t nn = fj_nd_build_ns(ns, &US6, &PEER);
	fj_stack_input(fx->stack, f, mk_icmp6(f, &mm, &PEER6, &sn, 255, ns, nn));
}

/* RFC 4862 §5.4: at start both addresses are tentative: one probe each,
 * nothing answered for them (a solicitation, an echo request) and no
 * router solicitation; a second later they are ours, the router
 * solicitation leaves from the link-local address and the address is
 * answered for. */
static void
test_dad_probes_then_the_addresses_are_ours(void **state)
{
	struct fixture *fx = *state;
	addrs();
	dad_start(fx);
	expect_nothing(fx);
	peer_solicits_us(fx);
	peer_echo(fx, 1);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "ip6_dad_probes"), 2);
	advance(fx, 1001 * MS);
	static const struct fj_ip6 all_routers = { { 0xff, 0x02, [15] = 2 } };
	struct fj_mac mm = fj_ip6_multicast_mac(&all_routers);
	const uint8_t *msg;
	size_t len;
	struct fj_ipv6 ip = expect_icmp6(fx, &mm, FJ_ND_ROUTER_SOLICIT, &msg, &len);
	assert_true(fj_ip6_eq(&ip.src, &US_LL));
	expect_nothing(fx);
	peer_solicits_us(fx);
	expect_icmp6(fx, &PEER, FJ_ND_NEIGHBOR_ADVERT, &msg, &len);
	peer_echo(fx, 2);
	expect_echo_reply(fx, 2);
	assert_int_equal(fj_stack_counter(fx->stack, "ip6_dad_duplicates"), 0);
}

/* RFC 4862 §5.4.3-5.4.5: an advertisement for tentative US6 (another node
 * has it) and another node's probe for our link-local address: both are
 * duplicates, counted, never used: no router solicitation goes from the
 * link-local one, and the stack answers for neither. */
static void
test_dad_duplicates_are_not_used(void **state)
{
	struct fixture *fx = *state;
	addrs();
	dad_start(fx);
	peer_has_us6(fx);
	static const struct fj_ip6 unspecified;
	uint8_t f[256], ns[32];
	struct fj_ip6 sn = fj_ip6_solicited_node(&US_LL);
	struct fj_mac mm = fj_ip6_multicast_mac(&sn);
	size_t n = fj_nd_build_ns(ns, &US_LL, NULL);
	fj_stack_input(fx->stack, f, mk_icmp6(f, &mm, &unspecified, &sn, 255, ns, n));
	assert_int_equal(fj_stack_counter(fx->stack, "ip6_dad_duplicates"), 2);
	advance(fx, 5 * SEC);
	expect_nothing(fx); /* no router solicitation from a duplicate */
	peer_solicits_us(fx);
	peer_echo(fx, 3);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "icmp6_echo_replies"), 0);
}

/* RFC 4862 §5.4: a connect issued as the stack starts, while US6 is
 * tentative, picks US6 as its source but sends nothing from it: the SYN
 * waits for the address's DAD and leaves (after the neighbour's
 * resolution) once it is ours. */
static void
test_dad_a_connect_at_start_waits_for_its_source(void **state)
{
	struct fixture *fx = *state;
	addrs();
	echo6_events = 0;
	struct fj_addr to = { .port = 80, .family = FJ_AF_INET6 };
	memcpy(to.ip6, PEER6.b, 16);
	struct fj_flow *c = fj_connect_tcp(fx->stack, &to, client6, NULL);
	assert_non_null(c);
	dad_start(fx);
	expect_nothing(fx); /* no SYN, no solicitation from US6 */
	assert_int_equal(fj_stack_counter(fx->stack, "drop_ip6_source_unusable"), 0);
	advance(fx, 1001 * MS);
	const uint8_t *msg;
	size_t len;
	static const struct fj_ip6 all_routers = { { 0xff, 0x02, [15] = 2 } };
	struct fj_mac rm = fj_ip6_multicast_mac(&all_routers);
	/* The router solicitation and the SYN's neighbour solicitation, in
	 * the order the addresses were found unique. */
	expect_icmp6(fx, &rm, FJ_ND_ROUTER_SOLICIT, &msg, &len);
	expect_ns(fx, false);
	expect_nothing(fx);
	peer_na(fx, FJ_ND_NA_SOLICITED, &PEER);
	struct fj_tcp_hdr h = expect_tcp6(fx, SYN, NULL, NULL);
	assert_int_equal(h.dport, 80);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_retransmits"), 0);
	assert_int_equal(echo6_events, 0);
	fj_flow_close(c);
}

/* RFC 4862 §5.4.5: once US6 is found a duplicate, a datagram from it
 * (a connect's SYN waiting for its DAD) is dropped and counted, and a
 * later connect to a global destination has no global source: its SYN
 * goes nowhere either. */
static void
test_dad_nothing_leaves_from_a_duplicate(void **state)
{
	struct fixture *fx = *state;
	addrs();
	struct fj_addr to = { .port = 80, .family = FJ_AF_INET6 };
	memcpy(to.ip6, PEER6.b, 16);
	struct fj_flow *c = fj_connect_tcp(fx->stack, &to, client6, NULL);
	assert_non_null(c);
	dad_start(fx);
	peer_has_us6(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "drop_ip6_source_unusable"), 1);
	advance(fx, 1001 * MS);
	const uint8_t *msg;
	size_t len;
	static const struct fj_ip6 all_routers = { { 0xff, 0x02, [15] = 2 } };
	struct fj_mac rm = fj_ip6_multicast_mac(&all_routers);
	expect_icmp6(fx, &rm, FJ_ND_ROUTER_SOLICIT, &msg, &len);
	expect_nothing(fx);
	fj_flow_close(c);
	expect_nothing(fx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dad_probes_then_the_addresses_are_ours,
						setup_ipv6_dad, teardown),
		cmocka_unit_test_setup_teardown(test_dad_duplicates_are_not_used, setup_ipv6_dad,
						teardown),
		cmocka_unit_test_setup_teardown(test_dad_a_connect_at_start_waits_for_its_source,
						setup_ipv6_dad, teardown),
		cmocka_unit_test_setup_teardown(test_dad_nothing_leaves_from_a_duplicate,
						setup_ipv6_dad, teardown),
		cmocka_unit_test_setup_teardown(test_udp_over_ipv6_to_a_closed_port_is_unreachable,
						setup_ipv6, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_over_ipv6, setup_ipv6, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_ipv6_packet_too_big, setup_ipv6, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_ipv6_connect_and_icmp6_errors, setup_ipv6,
						teardown),
		cmocka_unit_test_setup_teardown(test_reply_waits_for_resolution_then_leaves,
						setup_ipv6, teardown),
		cmocka_unit_test_setup_teardown(test_entry_goes_stale_delay_probe_and_is_removed,
						setup_ipv6, teardown),
		cmocka_unit_test_setup_teardown(test_probe_answered_makes_the_entry_reachable,
						setup_ipv6, teardown),
		cmocka_unit_test_setup_teardown(test_unanswered_resolution_drops_what_waited,
						setup_ipv6, teardown),
		cmocka_unit_test_setup_teardown(test_solicitations_are_answered, setup_ipv6,
						teardown),
		cmocka_unit_test_setup_teardown(test_router_advertisement_gives_router_and_address,
						setup_ipv6, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_fragments_both_ways, setup_ipv6, teardown),
		cmocka_unit_test_setup_teardown(test_udp_over_ipv6_is_echoed, setup_ipv6, teardown),
		cmocka_unit_test_setup_teardown(test_packet_too_big_and_udp_errors, setup_ipv6,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
