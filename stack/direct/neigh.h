/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The neighbour side of IPv4 over Ethernet, pure: the ARP cache (RFC 826,
 * RFC 1122 §2.3.2.1 aging and refresh), the bounded queue of output waiting
 * on resolution, and the on-link / gateway routing decision. Time is a
 * number the caller passes in (any unit; the stack uses TSC cycles).
 */
#ifndef FJ_NEIGH_H
#define FJ_NEIGH_H

#include <stdbool.h>
#include <stdint.h>

#include "wire/wire.h"

#define FJ_NEIGH_MAX 64        /* cache entries */
#define FJ_NEIGH_PENDING_MAX 64 /* packets waiting on resolution, all entries */
#define FJ_NEIGH_PENDING_PER_IP 8

enum fj_neigh_state { FJ_NEIGH_FREE = 0, FJ_NEIGH_INCOMPLETE, FJ_NEIGH_REACHABLE };

struct fj_neigh_entry {
	uint32_t ip;
	struct fj_mac mac;
	uint8_t state;
	uint8_t tries;     /* requests sent for the current resolution/refresh */
	uint16_t pending;  /* packets queued for this entry */
	uint64_t confirmed; /* when the mapping was last learnt */
	uint64_t asked;     /* when we last sent a request */
};

struct fj_neigh_params {
	uint64_t reachable;   /* an entry is used this long after it was learnt */
	uint64_t refresh;     /* ...and re-asked for (unicast) from this age on */
	uint64_t retry;       /* between requests while resolving */
	uint8_t max_tries;    /* requests before giving up */
};

struct fj_neigh {
	struct fj_neigh_params p;
	struct fj_neigh_entry e[FJ_NEIGH_MAX];
	struct {
		uint32_t ip;
		void *pkt;
	} q[FJ_NEIGH_PENDING_MAX];
	uint16_t nq;
	uint16_t hint; /* the entry found last: the usual answer on output */
};

void fj_neigh_init(struct fj_neigh *n, const struct fj_neigh_params *p);

enum fj_neigh_result {
	FJ_NEIGH_HIT,      /* @mac filled */
	FJ_NEIGH_ASK,      /* unknown: send a request now (entry created) */
	FJ_NEIGH_WAIT,     /* a request is outstanding */
	FJ_NEIGH_FULL,     /* no entry can be made */
};

/* Look up @ip for output; a miss starts a resolution. */
enum fj_neigh_result fj_neigh_lookup(struct fj_neigh *n, uint32_t ip, uint64_t now,
				     struct fj_mac *mac);
/*
 * RFC 826 "merge": a sender mapping seen in an ARP packet updates an
 * existing entry; it creates one only when @create (the packet was for us).
 * Returns the entry's index if it is now resolved and has waiting packets
 * (take them with fj_neigh_take), else -1.
 */
int fj_neigh_learn(struct fj_neigh *n, uint32_t ip, const struct fj_mac *mac, uint64_t now,
		   bool create);
/* Queue @pkt for @ip; -1 when the bound is reached (the caller drops it). */
int fj_neigh_queue(struct fj_neigh *n, uint32_t ip, void *pkt);
/* Up to @max packets waiting for @ip, in the order they were queued. */
unsigned fj_neigh_take(struct fj_neigh *n, uint32_t ip, void **pkts, unsigned max);

/*
 * Timers: for each entry that needs a request @ask(ip, unicast mac or NULL)
 * is called; entries that failed to resolve are removed and their waiting
 * packets handed to @drop; expired entries are removed.
 */
void fj_neigh_tick(struct fj_neigh *n, uint64_t now,
		   void (*ask)(void *ctx, uint32_t ip, const struct fj_mac *mac),
		   void (*drop)(void *ctx, void *pkt), void *ctx);

const struct fj_neigh_entry *fj_neigh_find(const struct fj_neigh *n, uint32_t ip);

/* Where a datagram to @dst goes next: itself on-link, the gateway, or 0. */
static inline uint32_t
fj_route_next_hop(uint32_t ip, uint32_t mask, uint32_t gw, uint32_t dst)
{
	if (dst == FJ_IPV4_BROADCAST || ((dst ^ ip) & mask) == 0)
		return dst;
	return gw;
}

#endif
