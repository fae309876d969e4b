/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "neigh.h"

void
fj_neigh_init(struct fj_neigh *n, const struct fj_neigh_params *p)
{
	memset(n, 0, sizeof(*n));
	n->p = *p;
}

static struct fj_neigh_entry *
find(struct fj_neigh *n, uint32_t ip)
{
	struct fj_neigh_entry *h = &n->e[n->hint];

	if (h->state != FJ_NEIGH_FREE && h->ip == ip)
		return h;
	for (int i = 0; i < FJ_NEIGH_MAX; i++)
		if (n->e[i].state != FJ_NEIGH_FREE && n->e[i].ip == ip) {
			n->hint = (uint16_t)i;
			return &n->e[i];
		}
	return NULL;
}

const struct fj_neigh_entry *
fj_neigh_find(const struct fj_neigh *n, uint32_t ip)
{
	return find((struct fj_neigh *)n, ip);
}

/*
 * A slot for a new entry. Addresses that never answer (a spoofed SYN
 * flood's) must neither keep live ones out nor push them out:
 *  - a question (@answered false: a lookup that will send a request) may
 *    hold at most half the cache; past that it only replaces an unresolved
 *    entry that has had a retry interval to answer. Under that, a free
 *    slot, else the resolved entry confirmed longest ago with nothing
 *    waiting, else such a stale unresolved one.
 *  - an answer (@answered: a peer's MAC in hand) takes a free slot, else
 *    any unresolved entry (the stale first, then the one asked longest
 *    ago), else the oldest resolved one.
 * What waited for an evicted entry is dropped by the next fj_neigh_tick.
 */
static struct fj_neigh_entry *
alloc(struct fj_neigh *n, uint64_t now, bool answered)
{
	struct fj_neigh_entry *free_e = NULL, *victim = NULL, *stale = NULL, *asked = NULL;
	int incomplete = 0;

	for (int i = 0; i < FJ_NEIGH_MAX; i++) {
		struct fj_neigh_entry *e = &n->e[i];
		if (e->state == FJ_NEIGH_FREE) {
			if (free_e == NULL)
				free_e = e;
			continue;
		}
		if (e->state == FJ_NEIGH_REACHABLE && e->pending == 0 &&
		    (victim == NULL || e->confirmed < victim->confirmed))
			victim = e;
		if (e->state == FJ_NEIGH_INCOMPLETE) {
			incomplete++;
			if (asked == NULL || e->asked < asked->asked)
				asked = e;
			if (now - e->asked >= n->p.retry &&
			    (stale == NULL || e->asked < stale->asked))
				stale = e;
		}
	}
	if (answered) {
		if (free_e != NULL)
			return free_e;
		return asked != NULL ? asked : victim;
	}
	if (incomplete >= FJ_NEIGH_MAX / 2)
		return stale;
	if (free_e != NULL)
		return free_e;
	return victim != NULL ? victim : stale;
}

enum fj_neigh_result
fj_neigh_lookup(struct fj_neigh *n, uint32_t ip, uint64_t now, struct fj_mac *mac)
{
	struct fj_neigh_entry *e = find(n, ip);

	if (e != NULL && e->state == FJ_NEIGH_REACHABLE) {
		*mac = e->mac;
		return FJ_NEIGH_HIT;
	}
	if (e != NULL)
		return FJ_NEIGH_WAIT;
	e = alloc(n, now, false);
	if (e == NULL)
		return FJ_NEIGH_FULL;
	memset(e, 0, sizeof(*e));
	e->ip = ip;
	e->state = FJ_NEIGH_INCOMPLETE;
	e->tries = 1;
	e->asked = now;
	return FJ_NEIGH_ASK;
}

int
fj_neigh_learn(struct fj_neigh *n, uint32_t ip, const struct fj_mac *mac, uint64_t now,
	       bool create)
{
	struct fj_neigh_entry *e = find(n, ip);

	if (e == NULL) {
		if (!create || (e = alloc(n, now, true)) == NULL)
			return -1;
		memset(e, 0, sizeof(*e));
		e->ip = ip;
	}
	e->mac = *mac;
	e->state = FJ_NEIGH_REACHABLE;
	e->confirmed = now;
	e->tries = 0;
	return e->pending ? (int)(e - n->e) : -1;
}

int
fj_neigh_queue(struct fj_neigh *n, uint32_t ip, void *pkt)
{
	struct fj_neigh_entry *e = find(n, ip);

	if (e == NULL || n->nq >= FJ_NEIGH_PENDING_MAX || e->pending >= FJ_NEIGH_PENDING_PER_IP)
		return -1;
	n->q[n->nq].ip = ip;
	n->q[n->nq].pkt = pkt;
	n->nq++;
	e->pending++;
	return 0;
}

unsigned
fj_neigh_take(struct fj_neigh *n, uint32_t ip, void **pkts, unsigned max)
{
	struct fj_neigh_entry *e = find(n, ip);
	unsigned got = 0;
	uint16_t keep = 0;

	for (uint16_t i = 0; i < n->nq; i++) {
		if (n->q[i].ip == ip && got < max)
			pkts[got++] = n->q[i].pkt;
		else
			n->q[keep++] = n->q[i];
	}
	n->nq = keep;
	if (e != NULL)
		e->pending = (uint16_t)(e->pending > got ? e->pending - got : 0);
	return got;
}

void
fj_neigh_tick(struct fj_neigh *n, uint64_t now,
	      void (*ask)(void *ctx, uint32_t ip, const struct fj_mac *mac),
	      void (*drop)(void *ctx, void *pkt), void *ctx)
{
	/* Packets left by an evicted entry go. */
	uint16_t keep = 0;
	for (uint16_t i = 0; i < n->nq; i++) {
		struct fj_neigh_entry *e = find(n, n->q[i].ip);
		if (e != NULL)
			n->q[keep++] = n->q[i];
		else
			drop(ctx, n->q[i].pkt);
	}
	n->nq = keep;
	for (int i = 0; i < FJ_NEIGH_MAX; i++) {
		struct fj_neigh_entry *e = &n->e[i];

		if (e->state == FJ_NEIGH_INCOMPLETE) {
			if (now - e->asked < n->p.retry)
				continue;
			if (e->tries >= n->p.max_tries) {
				/* Unresolvable: what waited for it goes (RFC 1122 §2.3.2.2). */
				void *pkts[FJ_NEIGH_PENDING_PER_IP];
				unsigned k = fj_neigh_take(n, e->ip, pkts, FJ_NEIGH_PENDING_PER_IP);
				for (unsigned j = 0; j < k; j++)
					drop(ctx, pkts[j]);
				e->state = FJ_NEIGH_FREE;
				continue;
			}
			e->tries++;
			e->asked = now;
			ask(ctx, e->ip, NULL);
		} else if (e->state == FJ_NEIGH_REACHABLE) {
			uint64_t age = now - e->confirmed;
			if (age >= n->p.reachable) {
				e->state = FJ_NEIGH_FREE;
			} else if (age >= n->p.refresh && e->tries < n->p.max_tries &&
				   (e->tries == 0 || now - e->asked >= n->p.retry)) {
				/* Refresh before expiry with a unicast request
				 * (RFC 1122 §2.3.2.1), so a used entry never lapses. */
				e->tries++;
				e->asked = now;
				ask(ctx, e->ip, &e->mac);
			}
		}
	}
}
