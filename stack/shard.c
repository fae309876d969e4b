/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The shards of one stack and the rings between them (shard.h): making
 * them, messages from one to another, and the calls that must reach all.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mempool.h>
#include <rte_ring.h>

#include "stack.h"

#define MSG_RING 1024  /* messages waiting per shard */
#define STEER_RING 4096 /* frames waiting per shard (a few bursts of every other) */

static __thread struct fj_stack *self;

struct fj_stack *
fj_shard_self(void)
{
	return self;
}

void
fj_shard_set_self(struct fj_stack *s)
{
	self = s;
}

static int
shard_rings(struct fj_stack *s)
{
	char name[RTE_RING_NAMESIZE];

	/* Names are unique per process: the shard's address is. */
	snprintf(name, sizeof(name), "fjm_%" PRIxPTR, (uintptr_t)s);
	s->msg_ring = rte_ring_create(name, MSG_RING, SOCKET_ID_ANY, RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "fjs_%" PRIxPTR, (uintptr_t)s);
	s->steer_ring = rte_ring_create(name, STEER_RING, SOCKET_ID_ANY, RING_F_SC_DEQ);
	return s->msg_ring && s->steer_ring ? 0 : -ENOMEM;
}

int
fj_shards_create(struct fj_stack *s0, unsigned n)
{
	struct fj_shards *g = calloc(1, sizeof(*g));
	char name[RTE_MEMPOOL_NAMESIZE];

	if (g == NULL || n == 0 || n > RTE_MAX_LCORE) {
		free(g);
		return -ENOMEM;
	}
	g->n = n;
	g->steer = FJ_STEER_NONE;
	s0->g = g;
	g->shard[0] = s0;
	for (unsigned i = 1; i < n; i++) {
		struct fj_stack *s = malloc(sizeof(*s));
		if (s == NULL)
			return -ENOMEM; /* fj_shards_free releases the rest */
		/* Configured like shard 0; nothing is set up yet. */
		*s = *s0;
		s->id = i;
		s->test_frame = NULL;
		s->test_q = NULL;
		g->shard[i] = s;
	}
	if (n == 1)
		return 0;
	snprintf(name, sizeof(name), "fjmsg_%" PRIxPTR, (uintptr_t)g);
	g->msgs = rte_mempool_create(name, n * MSG_RING + 1, sizeof(struct fj_msg), 32, 0, NULL,
				     NULL, NULL, NULL, SOCKET_ID_ANY, 0);
	if (g->msgs == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++)
		if (shard_rings(g->shard[i]) < 0)
			return -ENOMEM;
	unsigned lc, k = 1;
	g->lcore[0] = rte_get_main_lcore();
	RTE_LCORE_FOREACH_WORKER(lc)
		if (k < n)
			g->lcore[k++] = lc;
	return 0;
}

void
fj_shards_drain(struct fj_stack *s0)
{
	struct fj_shards *g = s0->g;

	for (unsigned i = 0; g != NULL && i < g->n; i++) {
		struct fj_stack *s = g->shard[i];
		void *m;
		while (s != NULL && s->steer_ring != NULL && rte_ring_dequeue(s->steer_ring, &m) == 0)
			rte_pktmbuf_free(m);
	}
}

void
fj_shards_free(struct fj_stack *s0)
{
	struct fj_shards *g = s0->g;

	if (g == NULL)
		return;
	for (unsigned i = 0; i < g->n; i++) {
		struct fj_stack *s = g->shard[i];
		if (s == NULL)
			continue;
		if (s->msg_ring != NULL) {
			void *m;
			while (rte_ring_dequeue(s->msg_ring, &m) == 0)
				rte_mempool_put(g->msgs, m);
		}
		rte_ring_free(s->steer_ring);
		rte_ring_free(s->msg_ring);
		if (i > 0)
			free(s);
	}
	rte_mempool_free(g->msgs);
	free(g);
	s0->g = NULL;
}

int
fj_shard_post(struct fj_stack *from, struct fj_stack *dst,
	      void (*fn)(struct fj_stack *s, void *payload), const void *payload, unsigned len)
{
	void *obj;

	if (len > FJ_MSG_PAYLOAD || rte_mempool_get(from->g->msgs, &obj) < 0) {
		from->c.drops[FJ_DROP_SHARD_MSG_FULL]++;
		return -ENOBUFS;
	}
	struct fj_msg *m = obj;
	m->fn = fn;
	memcpy(m->payload, payload, len);
	if (rte_ring_mp_enqueue(dst->msg_ring, m) < 0) {
		rte_mempool_put(from->g->msgs, m);
		from->c.drops[FJ_DROP_SHARD_MSG_FULL]++;
		return -ENOBUFS;
	}
	return 0;
}

void
fj_shard_post_others(struct fj_stack *from, void (*fn)(struct fj_stack *s, void *payload),
		     const void *payload, unsigned len)
{
	for (unsigned i = 0; i < from->g->n; i++)
		if (i != from->id)
			fj_shard_post(from, from->g->shard[i], fn, payload, len);
}

unsigned
fj_shard_poll(struct fj_stack *s)
{
	void *msgs[32];
	unsigned n;

	if (s->msg_ring == NULL)
		return 0;
	n = rte_ring_sc_dequeue_burst(s->msg_ring, msgs, RTE_DIM(msgs), NULL);
	for (unsigned i = 0; i < n; i++) {
		struct fj_msg *m = msgs[i];
		m->fn(s, m->payload);
		rte_mempool_put(s->g->msgs, m);
	}
	s->c.shard_msgs_rx += n;
	return n;
}

int
fj_shards_others(struct fj_stack *me, void (*fn)(struct fj_stack *s, void *payload),
		 const void *payload, unsigned len)
{
	struct fj_shards *g = me->g;
	char copy[FJ_MSG_PAYLOAD];
	int rc = 0;

	if (len > sizeof(copy))
		return -EINVAL;
	for (unsigned i = 0; i < g->n; i++) {
		if (g->shard[i] == me)
			continue;
		if (!g->running) {
			memcpy(copy, payload, len); /* each call its own copy, as by message */
			fn(g->shard[i], copy);
		} else if (fj_shard_post(me, g->shard[i], fn, payload, len) < 0) {
			rc = -ENOBUFS;
		}
	}
	return rc;
}
