/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The neighbour cache of IPv6 (RFC 4861 §7.3): entries INCOMPLETE while
 * solicited, REACHABLE for ReachableTime after a solicited advertisement,
 * then STALE; a STALE entry used for output goes DELAY, and PROBE (unicast
 * solicitations) when nothing confirmed it meanwhile; unanswered probes
 * remove it. Output waiting on resolution is bounded per entry and in all.
 * Pure: time is a number the caller passes in, sending is the caller's.
 */
#ifndef FJ_ND_H
#define FJ_ND_H

#include <stdbool.h>
#include <stdint.h>

#include "wire/wire.h"

#define FJ_ND_MAX 64
#define FJ_ND_PENDING_MAX 64
#define FJ_ND_PENDING_PER_IP 8

enum fj_nd_state {
	FJ_ND_FREE = 0,
	FJ_ND_INCOMPLETE,
	FJ_ND_REACHABLE,
	FJ_ND_STALE,
	FJ_ND_DELAY,
	FJ_ND_PROBE,
};

struct fj_nd_entry {
	struct fj_ip6 ip;
	struct fj_mac mac;
	uint8_t state;
	uint8_t probes;   /* solicitations sent in this state */
	uint16_t pending;
	uint64_t at;      /* the state's next event: retransmit, or its end */
};

/* RFC 4861 §10's constants, in the caller's time unit. */
struct fj_nd_params {
	uint64_t reachable;    /* REACHABLE_TIME (30 s) */
	uint64_t retrans;      /* RETRANS_TIMER (1 s) */
	uint64_t delay;        /* DELAY_FIRST_PROBE_TIME (5 s) */
	uint8_t max_multicast; /* MAX_MULTICAST_SOLICIT (3) */
	uint8_t max_unicast;   /* MAX_UNICAST_SOLICIT (3) */
};

struct fj_nd_cache {
	struct fj_nd_params p;
	struct fj_nd_entry e[FJ_ND_MAX];
	struct {
		uint16_t entry;
		void *pkt;
	} q[FJ_ND_PENDING_MAX];
	uint16_t nq;
};

void fj_nd_init(struct fj_nd_cache *c, const struct fj_nd_params *p);

enum fj_nd_lookup {
	FJ_ND_HIT,      /* @mac filled: send now */
	FJ_ND_SOLICIT,  /* unknown: an entry made INCOMPLETE; send a multicast NS */
	FJ_ND_WAIT,     /* being resolved: queue */
	FJ_ND_NOROOM,   /* no entry can be made */
};

/* Look @ip up for output at @now (a STALE entry goes DELAY). */
enum fj_nd_lookup fj_nd_lookup(struct fj_nd_cache *c, const struct fj_ip6 *ip, uint64_t now,
			       struct fj_mac *mac);
/* Queue @pkt for @ip's resolution; false when a bound says no. */
bool fj_nd_queue(struct fj_nd_cache *c, const struct fj_ip6 *ip, void *pkt);
/*
 * What an NS with a source link-layer option (@solicited false, RFC 4861
 * §7.2.3) or an NA (§7.2.5: @solicited and @override its flags) says of
 * @ip: the entry is made or updated. An NS makes unknown neighbours STALE
 * and so does a changed address. Returns the entry's index if it became
 * usable and has output waiting (take it with fj_nd_take), else -1.
 */
int fj_nd_learn(struct fj_nd_cache *c, const struct fj_ip6 *ip, const struct fj_mac *mac,
		bool is_na, bool solicited, bool override, uint64_t now);
/* The output waiting for @ip, into @pkts; how many. */
unsigned fj_nd_take(struct fj_nd_cache *c, const struct fj_ip6 *ip, void **pkts, unsigned max);
/* The entry of @ip, or NULL. */
const struct fj_nd_entry *fj_nd_find(const struct fj_nd_cache *c, const struct fj_ip6 *ip);

/*
 * Timers at @now: @solicit(ctx, ip, mac) to send an NS (@mac NULL:
 * multicast, else unicast to it), @drop(ctx, pkt) for output whose
 * resolution failed.
 */
void fj_nd_tick(struct fj_nd_cache *c, uint64_t now,
		void (*solicit)(void *ctx, const struct fj_ip6 *ip, const struct fj_mac *mac),
		void (*drop)(void *ctx, void *pkt), void *ctx);

#endif
