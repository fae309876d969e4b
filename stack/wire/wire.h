/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pure parse and build of the headers the stack speaks, one file a
 * protocol: Ethernet II, ARP (RFC 826), IPv4 (RFC 791/1122), ICMP
 * (RFC 792), IPv6 (RFC 8200), ICMPv6 and Neighbor Discovery (RFC 4443,
 * RFC 4861), UDP (RFC 768), TCP (RFC 9293), and the Internet checksum
 * (RFC 1071). No state, no allocation, no EAL: bytes in, a result out.
 * Parsers never read past @len and return a reason (enum fj_wire_err) for
 * everything they refuse; addresses are in host order.
 */
#ifndef FJ_WIRE_H
#define FJ_WIRE_H

#include "result.h"
#include "checksum.h"
#include "ethernet.h"
#include "arp.h"
#include "ipv4.h"
#include "icmp.h"
#include "ipv6.h"
#include "icmp6.h"
#include "udp.h"
#include "tcp.h"

#endif
