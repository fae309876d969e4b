/* SPDX-License-Identifier: BSD-3-Clause */
/* TCP headers and options (RFC 9293 §3.1, RFC 7323, RFC 2018). */
#ifndef FJ_WIRE_TCP_H
#define FJ_WIRE_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "result.h"

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
enum fj_wire_err fj_tcp_parse(const uint8_t *p, size_t len, uint32_t src, uint32_t dst,
			      bool csum_ok, struct fj_tcp_hdr *out);
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
/*
 * Both for either family: @ph is the pseudo-header's sum without its
 * length, fj_csum_pseudo(src, dst, FJ_IP_PROTO_TCP, 0) for IPv4 or
 * fj_csum_pseudo6(src, dst, 0, FJ_IP_PROTO_TCP) for IPv6 (RFC 8200 §8.1).
 */
enum fj_wire_err fj_tcp_parse_ph(const uint8_t *p, size_t len, uint32_t ph, bool csum_ok,
				 struct fj_tcp_hdr *out);
size_t fj_tcp_build_ph(uint8_t *p, const struct fj_tcp_hdr *h, uint32_t ph,
		       uint32_t payload_len, bool csum_offload);

#endif
