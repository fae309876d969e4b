/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Running the stack: fj_stack_run hands the thread to the backend's loop,
 * which calls the periodic timers here whenever the clock passes the
 * earliest of them.
 */
#include <errno.h>

#include <rte_common.h>

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

int
fj_stack_run(struct fj_stack *s)
{
	s->stop = false;
	return s->ops->run(s);
}

void
fj_stack_stop(struct fj_stack *s)
{
	s->stop = true;
}
