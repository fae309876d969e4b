/* SPDX-License-Identifier: BSD-3-Clause */
/* The IPv6 neighbour cache (RFC 4861 §7.3), pure (nd.h). */
#include <string.h>

#include "nd.h"

void
fj_nd_init(struct fj_nd_cache *c, const struct fj_nd_params *p)
{
	memset(c, 0, sizeof(*c));
	c->p = *p;
}

static struct fj_nd_entry *
find(struct fj_nd_cache *c, const struct fj_ip6 *ip)
{
	for (int i = 0; i < FJ_ND_MAX; i++)
		if (c->e[i].state != FJ_ND_FREE && fj_ip6_eq(&c->e[i].ip, ip))
			return &c->e[i];
	return NULL;
}

const struct fj_nd_entry *
fj_nd_find(const struct fj_nd_cache *c, const struct fj_ip6 *ip)
{
	return find((struct fj_nd_cache *)c, ip);
}

/* A free entry, else the STALE one unused longest (none waits on it);
 * NULL when every entry is in use. */
static struct fj_nd_entry *
make(struct fj_nd_cache *c, const struct fj_ip6 *ip)
{
	struct fj_nd_entry *victim = NULL;

	for (int i = 0; i < FJ_ND_MAX; i++) {
		struct fj_nd_entry *e = &c->e[i];
		if (e->state == FJ_ND_FREE) {
			victim = e;
			break;
		}
		if (e->state == FJ_ND_STALE && e->pending == 0 && (victim == NULL || e->at < victim->at))
			victim = e;
	}
	if (victim != NULL) {
		memset(victim, 0, sizeof(*victim));
		victim->ip = *ip;
	}
	return victim;
}

enum fj_nd_lookup
fj_nd_lookup(struct fj_nd_cache *c, const struct fj_ip6 *ip, uint64_t now, struct fj_mac *mac)
{
	struct fj_nd_entry *e = find(c, ip);

	if (e == NULL) {
		if ((e = make(c, ip)) == NULL)
			return FJ_ND_NOROOM;
		e->state = FJ_ND_INCOMPLETE;
		e->probes = 1;
		e->at = now + c->p.retrans;
		return FJ_ND_SOLICIT;
	}
	switch (e->state) {
	case FJ_ND_INCOMPLETE:
		return FJ_ND_WAIT;
	case FJ_ND_REACHABLE:
		if (now < e->at)
			break;
		/* ReachableTime ran out: stale (§7.3.3), and used now. */
		/* fall through */
	case FJ_ND_STALE:
		e->state = FJ_ND_DELAY;
		e->at = now + c->p.delay;
		break;
	default: /* DELAY, PROBE: used as they are */
		break;
	}
	*mac = e->mac;
	return FJ_ND_HIT;
}

bool
fj_nd_queue(struct fj_nd_cache *c, const struct fj_ip6 *ip, void *pkt)
{
	struct fj_nd_entry *e = find(c, ip);

	if (e == NULL || e->state != FJ_ND_INCOMPLETE || e->pending >= FJ_ND_PENDING_PER_IP ||
	    c->nq >= FJ_ND_PENDING_MAX)
		return false;
	c->q[c->nq].entry = (uint16_t)(e - c->e);
	c->q[c->nq++].pkt = pkt;
	e->pending++;
	return true;
}

int
fj_nd_learn(struct fj_nd_cache *c, const struct fj_ip6 *ip, const struct fj_mac *mac, bool is_na,
	    bool solicited, bool override, uint64_t now)
{
	struct fj_nd_entry *e = find(c, ip);

	if (e == NULL) {
		/* §7.2.5: an unsolicited NA for no entry is silently
		 * discarded; an NS's source makes one (§7.2.3). */
		if (is_na || (e = make(c, ip)) == NULL)
			return -1;
		e->mac = *mac;
		e->state = FJ_ND_STALE;
		e->at = now;
		return -1;
	}
	bool changed = !fj_mac_eq(&e->mac, mac);
	if (e->state == FJ_ND_INCOMPLETE) {
		e->mac = *mac;
		e->state = is_na && solicited ? FJ_ND_REACHABLE : FJ_ND_STALE;
		e->at = e->state == FJ_ND_REACHABLE ? now + c->p.reachable : now;
		e->probes = 0;
		return e->pending > 0 ? (int)(e - c->e) : -1;
	}
	if (!is_na) {
		/* §7.2.3: a different address makes the entry STALE. */
		if (changed) {
			e->mac = *mac;
			e->state = FJ_ND_STALE;
			e->at = now;
		}
		return -1;
	}
	/* §7.2.5: without override a different address only makes a
	 * REACHABLE entry STALE; otherwise the advertisement is taken. */
	if (!override && changed) {
		if (e->state == FJ_ND_REACHABLE) {
			e->state = FJ_ND_STALE;
			e->at = now;
		}
		return -1;
	}
	e->mac = *mac;
	if (solicited) {
		e->state = FJ_ND_REACHABLE;
		e->at = now + c->p.reachable;
		e->probes = 0;
	} else if (changed) {
		e->state = FJ_ND_STALE;
		e->at = now;
	}
	return -1;
}

unsigned
fj_nd_take(struct fj_nd_cache *c, const struct fj_ip6 *ip, void **pkts, unsigned max)
{
	struct fj_nd_entry *e = find(c, ip);
	unsigned n = 0, keep = 0;

	if (e == NULL)
		return 0;
	uint16_t idx = (uint16_t)(e - c->e);
	for (unsigned i = 0; i < c->nq; i++) {
		if (c->q[i].entry == idx && n < max)
			pkts[n++] = c->q[i].pkt;
		else
			c->q[keep++] = c->q[i];
	}
	c->nq = (uint16_t)keep;
	e->pending = (uint16_t)(e->pending - n);
	return n;
}

/* The entry goes, and the output waiting on it with @drop. */
static void
remove_entry(struct fj_nd_cache *c, struct fj_nd_entry *e, void (*drop)(void *ctx, void *pkt),
	     void *ctx)
{
	uint16_t idx = (uint16_t)(e - c->e);
	unsigned keep = 0;

	for (unsigned i = 0; i < c->nq; i++) {
		if (c->q[i].entry == idx)
			drop(ctx, c->q[i].pkt);
		else
			c->q[keep++] = c->q[i];
	}
	c->nq = (uint16_t)keep;
	memset(e, 0, sizeof(*e));
}

void
fj_nd_tick(struct fj_nd_cache *c, uint64_t now,
	   void (*solicit)(void *ctx, const struct fj_ip6 *ip, const struct fj_mac *mac),
	   void (*drop)(void *ctx, void *pkt), void *ctx)
{
	for (int i = 0; i < FJ_ND_MAX; i++) {
		struct fj_nd_entry *e = &c->e[i];
		if (e->state == FJ_ND_FREE || e->state == FJ_ND_STALE || now < e->at)
			continue;
		switch (e->state) {
		case FJ_ND_INCOMPLETE:
			if (e->probes >= c->p.max_multicast) {
				remove_entry(c, e, drop, ctx);
				continue;
			}
			e->probes++;
			e->at = now + c->p.retrans;
			solicit(ctx, &e->ip, NULL);
			break;
		case FJ_ND_REACHABLE:
			e->state = FJ_ND_STALE; /* §7.3.3 */
			e->at = now;
			break;
		case FJ_ND_DELAY:
			/* §7.3.3: nothing confirmed it: probe, unicast. */
			e->state = FJ_ND_PROBE;
			e->probes = 1;
			e->at = now + c->p.retrans;
			solicit(ctx, &e->ip, &e->mac);
			break;
		case FJ_ND_PROBE:
			if (e->probes >= c->p.max_unicast) {
				remove_entry(c, e, drop, ctx);
				continue;
			}
			e->probes++;
			e->at = now + c->p.retrans;
			solicit(ctx, &e->ip, &e->mac);
			break;
		}
	}
}
