/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Running the stack: fj_stack_run hands each shard's lcore to the backend's
 * loop, which calls the periodic timers here whenever the clock passes the
 * earliest of them.
 */
#include <errno.h>
#include <string.h>

#include <rte_common.h>
#include <rte_launch.h>

#include "stack.h"

int
fj_stack_timer_add(struct fj_stack *s, uint64_t period, uint64_t first,
		   void (*fn)(struct fj_stack *, void *), void *arg)
{
	if (s->ntimers == RTE_DIM(s->timers) || fn == NULL)
		return -EINVAL;
	struct fj_periodic *t = &s->timers[s->ntimers++];
	t->period = period;
	t->next = first;
	t->fn = fn;
	t->arg = arg;
	return 0;
}

int
fj_stack_every(struct fj_stack *s, double period_s, void (*fn)(struct fj_stack *, void *),
	       void *arg)
{
	if (s->napp_timers == FJ_MAX_TIMERS || period_s <= 0)
		return -EINVAL;
	uint64_t period = (uint64_t)(period_s * (double)s->hz);
	int rc = fj_stack_timer_add(s, period, fj_now(s) + period, fn, arg);
	if (rc == 0)
		s->napp_timers++;
	return rc;
}

uint64_t
fj_stack_next_timer(struct fj_stack *s)
{
	uint64_t next = UINT64_MAX;

	for (unsigned i = 0; i < s->ntimers; i++)
		next = RTE_MIN(next, s->timers[i].next);
	return next;
}

void
fj_stack_timers(struct fj_stack *s, uint64_t now)
{
	for (unsigned i = 0; i < s->ntimers; i++) {
		struct fj_periodic *t = &s->timers[i];
		if (now >= t->next) {
			t->next = now + t->period;
			t->fn(s, t->arg);
		}
	}
}

static int
shard_main(void *arg)
{
	struct fj_stack *s = arg;

	fj_shard_set_self(s);
	int rc = s->ops->run(s);
	fj_shard_set_self(NULL);
	return rc;
}

/*
 * Shard 0 runs on the calling (main) lcore, every other shard on its own
 * worker lcore; when one stops, all do.
 */
int
fj_stack_run(struct fj_stack *s)
{
	struct fj_shards *g = s->g;
	int rc = 0;

	for (unsigned i = 0; i < g->n; i++)
		g->shard[i]->stop = false;
	g->running = true;
	for (unsigned i = 1; i < g->n; i++) {
		int l = rte_eal_remote_launch(shard_main, g->shard[i], g->lcore[i]);
		if (l < 0) {
			FJ_STACK_LOG(ERR, "shard %u: cannot start on lcore %u: %s", i, g->lcore[i],
				     strerror(-l));
			rc = l;
			fj_stack_stop(s);
		}
	}
	if (rc == 0)
		rc = shard_main(g->shard[0]);
	fj_stack_stop(s);
	for (unsigned i = 1; i < g->n; i++) {
		int w = rte_eal_wait_lcore(g->lcore[i]);
		if (w < 0 && rc == 0)
			rc = w;
	}
	g->running = false;
	return rc;
}

void
fj_stack_stop(struct fj_stack *s)
{
	for (unsigned i = 0; i < s->g->n; i++)
		s->g->shard[i]->stop = true;
}
