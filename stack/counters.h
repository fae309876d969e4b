/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The stack's counters, each declared once here: the lists below make the
 * struct, the drop reasons, the names fj_stack_counter knows, the dump and
 * the telemetry dictionary (counters.c).
 */
#ifndef FJ_COUNTERS_H
#define FJ_COUNTERS_H

#include <stdint.h>

#include "wire/result.h"

/*
 * X(name): one uint64_t counter each, in dump order. loop_cycles is the run
 * loop's time (clock units, TSC cycles), loop_busy_cycles the part of it
 * spent on work: turns that received something (direct), time out of
 * epoll_wait (socket).
 */
#define FJ_COUNTERS(X)                                                              \
	X(rx_frames) X(tx_frames)                                                   \
	X(arp_rx) X(arp_tx) X(arp_requests_tx) X(arp_replies_tx)                    \
	X(ip_rx) X(ip_tx)                                                           \
	X(ip_frags_rx) X(ip_reassembled) X(ip_reasm_timeouts)                       \
	X(ip_fragmented) X(ip_frags_tx)                                             \
	X(ip6_rx) X(ip6_tx) X(icmp6_rx) X(icmp6_tx) X(icmp6_echo_replies)           \
	X(nd_ns_rx) X(nd_ns_tx) X(nd_na_rx) X(nd_na_tx) X(nd_ra_rx) X(ip6_slaac_addrs) \
	X(ip6_dad_probes) X(ip6_dad_duplicates)                                    \
	X(ip6_pmtu_updates)                                                         \
	X(icmp_rx) X(icmp_tx) X(icmp_echo_replies) X(icmp_unreach_tx)               \
	X(icmp_errors_rx) X(udp_icmp_errors)                                        \
	X(udp_rx) X(udp_tx) X(udp_rx_bytes) X(udp_tx_bytes)                         \
	X(tcp_rx) X(tcp_tx) X(tcp_rx_bytes) X(tcp_tx_bytes)                         \
	X(tcp_passive_opens) X(tcp_active_opens) X(tcp_established)                 \
	X(tcp_flows_closed) X(tcp_rst_rx) X(tcp_rst_tx)                             \
	X(tcp_retransmits) X(tcp_rto_timeouts) X(tcp_fast_retransmits)             \
	X(tcp_window_probes)                                                        \
	X(tcp_challenge_acks) X(tcp_out_of_window) X(tcp_ooo_dropped)               \
	X(tcp_syn_dropped) X(tcp_paws_rejected)                                     \
	X(tcp_syncookies_sent) X(tcp_syncookies_ok) X(tcp_syncookies_failed)        \
	X(tcp_keepalive_probes) X(tcp_keepalive_timeouts) X(tcp_sack_recoveries)    \
	X(tcp_time_wait_reused) X(tcp_state_changes)                                \
	X(tcp_tso_segs) X(tcp_tx_ref_segs) X(tcp_rx_large_segs) X(tcp_queue_waits)  \
	X(tcp_port_waits) X(tcp_icmp_aborts) X(tcp_pmtu_updates) X(gro_merged)      \
	X(exception_to_kernel) X(exception_from_kernel)                            \
	X(port_link_downs) X(port_link_ups)                                        \
	X(steered_out) X(steered_in) X(shard_msgs_rx)                              \
	X(loop_cycles) X(loop_busy_cycles)

/*
 * X(ENUM, counter name): why the stack itself did not take a frame, after
 * the header parsers' reasons (wire/result.h). Every reason is counted as
 * drop_<name>.
 */
#define FJ_STACK_DROPS(X)                                                           \
	X(NOT_FOR_US, "not_for_us")       /* Ethernet or IP destination is someone else */ \
	X(IP_PROTO, "ip_protocol")        /* a protocol the stack does not serve */    \
	X(ICMP_TYPE, "icmp_type")         /* a type we do not answer */               \
	X(ICMP_ERROR, "icmp_error_ignored") /* an ICMP error about no segment of ours in flight (RFC 5927) */ \
	X(UDP_PORT, "udp_port_closed")    /* nobody bound (answered with port unreachable) */ \
	X(ARP_PENDING_FULL, "arp_pending_full") /* output waiting on ARP beyond its bound */ \
	X(NO_ROUTE, "no_route")                                                     \
	X(NO_MBUF, "no_mbuf")                                                       \
	X(TX_FULL, "tx_full")             /* the port did not take it */              \
	X(ARP_TIMEOUT, "arp_timeout")     /* resolution failed, waiting output dropped */ \
	X(ICMP_RATE, "icmp_rate_limited") /* an ICMP error suppressed by the rate limit */ \
	X(OVERSIZE, "oversize")           /* beyond the MTU (TCP) or 64 KiB, or a chain whose headers do not fit its first segment */ \
	X(FRAG_OVERLAP, "ip_frag_overlap") /* a fragment overlapping another of its datagram, or after one did (RFC 5722) */ \
	X(FRAG_DUP, "ip_frag_duplicate")  /* a fragment received twice (RFC 8200 §4.5) */ \
	X(REASM_FULL, "ip_reasm_full")    /* beyond the reassembly bounds (datagrams, per source, buffers, pieces) */ \
	X(REASM_TIMEOUT, "ip_reasm_timeout") /* a fragment of a datagram not complete in time */ \
	X(ND_PENDING_FULL, "nd_pending_full") /* IPv6 output waiting on ND beyond its bound */ \
	X(ND_TIMEOUT, "nd_timeout")       /* neighbour unreachable, waiting output dropped */ \
	X(IP6_SRC_UNUSABLE, "ip6_source_unusable") /* output from an address found duplicate, or beyond the bound waiting for its DAD */ \
	X(EXCEPTION_FULL, "exception_full") /* the kernel exception tap did not take it */ \
	X(STEER_FULL, "steer_ring_full")  /* the owning shard's steering ring was full */ \
	X(SHARD_MSG_FULL, "shard_msg_full") /* a message to another shard did not fit */

/* A parser's reason keeps its value: FJ_DROP_X == FJ_WIRE_X. */
enum fj_drop {
	FJ_DROP_NONE = FJ_OK,
#define FJ_DROP_WIRE_(e, name) FJ_DROP_##e = FJ_WIRE_##e,
	FJ_WIRE_ERRORS(FJ_DROP_WIRE_)
#undef FJ_DROP_WIRE_
#define FJ_DROP_STACK_(e, name) FJ_DROP_##e,
	FJ_STACK_DROPS(FJ_DROP_STACK_)
#undef FJ_DROP_STACK_
	FJ_DROP__COUNT
};

/* The drop reason of a parser's refusal. */
static inline enum fj_drop
fj_drop_of(enum fj_wire_err e)
{
	return (enum fj_drop)e;
}

/* "truncated", "no_route", ...; "unknown" out of range. */
const char *fj_drop_name(enum fj_drop d);

struct fj_counters {
#define FJ_COUNTER_FIELD_(name) uint64_t name;
	FJ_COUNTERS(FJ_COUNTER_FIELD_)
#undef FJ_COUNTER_FIELD_
	uint64_t drops[FJ_DROP__COUNT];
};

#endif
