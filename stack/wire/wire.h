/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pure parse and build of the headers the stack speaks: Ethernet II,
 * ARP (RFC 826), IPv4 (RFC 791/1122), ICMP (RFC 792), UDP (RFC 768), and
 * the Internet checksum (RFC 1071). No state, no allocation, no EAL: bytes
 * in, a result out. Parsers never read past @len and return a reason
 * (enum fj_drop) for everything they refuse; addresses are in host order.
 */
#ifndef FJ_WIRE_H
#define FJ_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Why a frame was not taken. Every value is a named stack counter. */
enum fj_drop {
	FJ_OK = 0,
	FJ_DROP_TRUNCATED,      /* shorter than its header(s) */
	FJ_DROP_NOT_FOR_US,     /* Ethernet or IP destination is someone else */
	FJ_DROP_ETHERTYPE,      /* neither IPv4 nor ARP (incl. VLAN-tagged) */
	FJ_DROP_ARP_FORMAT,     /* not Ethernet/IPv4 ARP, or an unknown op */
	FJ_DROP_IP_VERSION,
	FJ_DROP_IP_HDR_LEN,     /* IHL < 5 or beyond the frame */
	FJ_DROP_IP_TOTAL_LEN,   /* total length < IHL or beyond the frame */
	FJ_DROP_IP_CHECKSUM,
	FJ_DROP_IP_SOURCE,      /* broadcast, multicast, loopback source (RFC 1122 §3.2.1.3) */
	FJ_DROP_IP_FRAGMENT,    /* fragments are not reassembled */
	FJ_DROP_IP_PROTO,       /* neither ICMP nor UDP (nor TCP later) */
	FJ_DROP_ICMP_CHECKSUM,
	FJ_DROP_ICMP_TYPE,      /* a type we do not answer */
	FJ_DROP_UDP_LEN,
	FJ_DROP_UDP_CHECKSUM,
	FJ_DROP_UDP_PORT,       /* nobody bound (answered with port unreachable) */
	FJ_DROP_ARP_PENDING_FULL, /* output waiting on ARP beyond its bound */
	FJ_DROP_NO_ROUTE,
	FJ_DROP_NO_MBUF,
	FJ_DROP_TX_FULL,        /* the port did not take it */
	FJ_DROP_ARP_TIMEOUT,    /* resolution failed, waiting output dropped */
	FJ_DROP_ICMP_RATE,      /* an ICMP error suppressed by the rate limit */
	FJ_DROP_OVERSIZE,       /* beyond the MTU, or a chained frame on input */
	FJ_DROP_TCP_HDR_LEN,    /* data offset < 5 or beyond the segment */
	FJ_DROP_TCP_CHECKSUM,
	FJ_DROP_TCP_OPTIONS,    /* an option with an impossible length */
	FJ_DROP__COUNT
};

const char *fj_drop_name(enum fj_drop d);

/* ------------------------------------------------------ checksum */

/* One's-complement sum of @len bytes added to @sum (RFC 1071). */
uint32_t fj_csum_add(uint32_t sum, const void *data, size_t len);
/* Fold and complement: the value to put in a header. */
uint16_t fj_csum_fold(uint32_t sum);
/* Sum of the IPv4 pseudo-header (RFC 768, RFC 9293 §3.1). */
uint32_t fj_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len);

/* ------------------------------------------------------ Ethernet II */

#define FJ_ETH_HDR_LEN 14
#define FJ_ETH_P_IPV4 0x0800
#define FJ_ETH_P_ARP 0x0806

struct fj_mac {
	uint8_t b[6];
};

struct fj_eth {
	struct fj_mac dst;
	struct fj_mac src;
	uint16_t type;
};

enum fj_drop fj_eth_parse(const uint8_t *p, size_t len, struct fj_eth *out);
/* Writes 14 bytes. */
void fj_eth_build(uint8_t *p, const struct fj_mac *dst, const struct fj_mac *src, uint16_t type);

static inline bool
fj_mac_is_broadcast(const struct fj_mac *m)
{
	return (m->b[0] & m->b[1] & m->b[2] & m->b[3] & m->b[4] & m->b[5]) == 0xff;
}

static inline bool
fj_mac_is_multicast(const struct fj_mac *m)
{
	return m->b[0] & 1;
}

static inline bool
fj_mac_eq(const struct fj_mac *a, const struct fj_mac *b)
{
	for (int i = 0; i < 6; i++)
		if (a->b[i] != b->b[i])
			return false;
	return true;
}

/* ------------------------------------------------------ ARP (RFC 826) */

#define FJ_ARP_LEN 28
#define FJ_ARP_REQUEST 1
#define FJ_ARP_REPLY 2

struct fj_arp {
	uint16_t op;
	struct fj_mac sha;
	uint32_t spa;
	struct fj_mac tha;
	uint32_t tpa;
};

enum fj_drop fj_arp_parse(const uint8_t *p, size_t len, struct fj_arp *out);
/* Writes 28 bytes (Ethernet/IPv4 hardware and protocol types). */
void fj_arp_build(uint8_t *p, const struct fj_arp *a);

/* ------------------------------------------------------ IPv4 */

#define FJ_IPV4_HDR_LEN 20
#define FJ_IP_PROTO_ICMP 1
#define FJ_IP_PROTO_TCP 6
#define FJ_IP_PROTO_UDP 17
#define FJ_IPV4_BROADCAST 0xffffffffu

struct fj_ipv4 {
	uint8_t hdr_len;    /* bytes, 20-60 */
	uint8_t tos;
	uint8_t ttl;
	uint8_t proto;
	uint16_t total_len; /* header + payload, <= the frame's bytes */
	uint16_t id;
	uint32_t src;
	uint32_t dst;
};

/*
 * Validate an IPv4 header at @p with @len bytes after the Ethernet header:
 * version, IHL, total length against what arrived (trailing Ethernet
 * padding is allowed), header checksum unless @csum_ok (the port verified
 * it), fragments and source address. TTL is not a reason to drop a
 * datagram addressed to us (RFC 1122 §3.2.1.7).
 */
enum fj_drop fj_ipv4_parse(const uint8_t *p, size_t len, bool csum_ok, struct fj_ipv4 *out);
/*
 * Writes a 20-byte header, DF set, no options. The checksum is filled
 * unless @csum_offload (the port fills it; the field is left 0).
 */
void fj_ipv4_build(uint8_t *p, uint32_t src, uint32_t dst, uint8_t proto, uint16_t payload_len,
		   uint16_t id, uint8_t ttl, bool csum_offload);

static inline bool
fj_ipv4_is_multicast(uint32_t a)
{
	return (a >> 28) == 0xe;
}

/* ------------------------------------------------------ ICMP (RFC 792) */

#define FJ_ICMP_HDR_LEN 8
#define FJ_ICMP_ECHO_REPLY 0
#define FJ_ICMP_DEST_UNREACH 3
#define FJ_ICMP_ECHO_REQUEST 8
#define FJ_ICMP_PORT_UNREACH 3 /* code */

struct fj_icmp {
	uint8_t type;
	uint8_t code;
};

/* Checks the checksum over the whole message of @len bytes. */
enum fj_drop fj_icmp_parse(const uint8_t *p, size_t len, struct fj_icmp *out);
/* Turn an echo request of @len bytes into its reply, in place (RFC 792). */
void fj_icmp_echo_to_reply(uint8_t *p, size_t len);
/*
 * Build a destination-unreachable message at @p: 8 bytes of ICMP header,
 * then the offending datagram's IP header and the first 8 bytes of its
 * payload (RFC 792; RFC 1812 §4.3.2.3 allows more, we quote what fits in
 * @quote_len). Returns the message length.
 */
size_t fj_icmp_unreach_build(uint8_t *p, uint8_t code, const uint8_t *quote, size_t quote_len);

/* ------------------------------------------------------ UDP (RFC 768) */

#define FJ_UDP_HDR_LEN 8

struct fj_udp_hdr {
	uint16_t sport;
	uint16_t dport;
	uint16_t len; /* header + payload, from the header */
};

/*
 * Validate a UDP datagram of @len bytes (the IP payload): the length field
 * within what arrived and at least 8; the checksum, when the sender set one
 * (RFC 768: 0 means none) and @csum_ok is false.
 */
enum fj_drop fj_udp_parse(const uint8_t *p, size_t len, uint32_t src, uint32_t dst, bool csum_ok,
			  struct fj_udp_hdr *out);
/*
 * Writes the 8-byte header in front of @payload_len bytes of payload that
 * follow it. With @csum_offload, only the pseudo-header sum is stored (the
 * port completes it); else the full checksum over the payload.
 */
void fj_udp_build(uint8_t *p, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
		  uint16_t payload_len, bool csum_offload);

/* ------------------------------------------------------ TCP (RFC 9293) */

#define FJ_TCP_HDR_LEN 20
#define FJ_TCP_MAX_OPT_LEN 40
#define FJ_TCP_FIN 0x01
#define FJ_TCP_SYN 0x02
#define FJ_TCP_RST 0x04
#define FJ_TCP_PSH 0x08
#define FJ_TCP_ACK 0x10
#define FJ_TCP_URG 0x20
#define FJ_TCP_MAX_SACK 4

struct fj_sack_block {
	uint32_t left;  /* first sequence number of the block */
	uint32_t right; /* one past the last */
};

/* The options fjord speaks; others are skipped by their length. */
struct fj_tcp_opts {
	bool has_mss, has_ws, sack_perm, has_ts;
	uint16_t mss;                 /* RFC 9293 §3.7.1 */
	uint8_t ws;                   /* window scale shift, RFC 7323 §2 */
	uint32_t tsval, tsecr;        /* RFC 7323 §3 */
	uint8_t nsack;                /* SACK blocks, RFC 2018 §3 */
	struct fj_sack_block sack[FJ_TCP_MAX_SACK];
};

struct fj_tcp_hdr {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t hdr_len; /* bytes, 20-60 */
	uint8_t flags;
	uint16_t wnd;    /* as on the wire, unscaled */
	uint16_t urg;
	struct fj_tcp_opts o;
};

/*
 * Validate a TCP segment of @len bytes (the IP payload): data offset within
 * the segment, checksum unless @csum_ok, options well formed (RFC 9293
 * §3.1: an option length that runs past the header or is below 2 is an
 * error). The payload is the @len - hdr_len bytes after the header.
 */
enum fj_drop fj_tcp_parse(const uint8_t *p, size_t len, uint32_t src, uint32_t dst, bool csum_ok,
			  struct fj_tcp_hdr *out);
/* Bytes the options of @o take on the wire (a multiple of 4, at most 40). */
size_t fj_tcp_opts_len(const struct fj_tcp_opts *o);
/*
 * Write the header and options of @h at @p; the @payload_len payload bytes
 * follow them. Returns the header length. SACK blocks that do not fit in
 * 40 bytes of options are left out (the first ones are kept). With
 * @csum_offload only the pseudo-header sum is stored.
 */
size_t fj_tcp_build(uint8_t *p, const struct fj_tcp_hdr *h, uint32_t src, uint32_t dst,
		    uint32_t payload_len, bool csum_offload);

#endif
