/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What a header parser says: FJ_OK, or why it refused its input. The stack
 * counts each refusal under the name given here (drop_<name>), its own
 * policy reasons following them (stack/counters.h).
 */
#ifndef FJ_WIRE_RESULT_H
#define FJ_WIRE_RESULT_H

/* X(ENUM, counter name): the parsers' reasons, in counter order. */
#define FJ_WIRE_ERRORS(X)                                                        \
	X(TRUNCATED, "truncated")           /* shorter than its header(s) */     \
	X(ETHERTYPE, "ethertype")           /* not IPv4, IPv6 or ARP (incl. VLAN) */ \
	X(ARP_FORMAT, "arp_format")         /* not Ethernet/IPv4 ARP, or an unknown op */ \
	X(IP_VERSION, "ip_version")                                              \
	X(IP_HDR_LEN, "ip_header_length")   /* IHL < 5 or beyond the frame */    \
	X(IP_TOTAL_LEN, "ip_total_length")  /* total length < IHL or beyond the frame */ \
	X(IP_CHECKSUM, "ip_checksum")                                            \
	X(IP_SOURCE, "ip_source")           /* broadcast, multicast, loopback (RFC 1122 §3.2.1.3) */ \
	X(IP_FRAGMENT, "ip_fragment")       /* a fragment not in whole 8-byte units, or past 64 KiB */ \
	X(ICMP_CHECKSUM, "icmp_checksum")                                        \
	X(ICMP_QUOTE, "icmp_quote")         /* an ICMP error quoting no IPv4 header and 8 bytes */ \
	X(UDP_LEN, "udp_length")                                                 \
	X(UDP_CHECKSUM, "udp_checksum")                                          \
	X(TCP_HDR_LEN, "tcp_header_length") /* data offset < 5 or beyond the segment */ \
	X(TCP_CHECKSUM, "tcp_checksum")                                          \
	X(TCP_OPTIONS, "tcp_options")       /* an option with an impossible length */ \
	X(IP6_PAYLOAD_LEN, "ip6_payload_length") /* beyond the frame, or a jumbogram */ \
	X(IP6_EXT, "ip6_extension_header")  /* truncated, misplaced, too many, or routing with segments left */ \
	X(IP6_OPTION, "ip6_option")         /* an unknown option whose type says discard (RFC 8200 §4.2) */ \
	X(IP6_SOURCE, "ip6_source")         /* a multicast source */          \
	X(ICMP6_CHECKSUM, "icmp6_checksum")                                     \
	X(ND_FORMAT, "nd_format")           /* a Neighbor Discovery message failing RFC 4861's checks */

enum fj_wire_err {
	FJ_OK = 0,
#define FJ_WIRE_ENUM_(e, name) FJ_WIRE_##e,
	FJ_WIRE_ERRORS(FJ_WIRE_ENUM_)
#undef FJ_WIRE_ENUM_
	FJ_WIRE__COUNT
};

#endif
