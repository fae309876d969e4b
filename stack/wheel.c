/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "wheel.h"

void
fj_wheel_init(struct fj_wheel *w, uint64_t now, uint64_t tick)
{
	memset(w, 0, sizeof(*w));
	w->tick = tick ? tick : 1;
	w->cur = now / w->tick;
	w->quiet_until = 0;
}

void
fj_wheel_cancel(struct fj_wheel *w, struct fj_timer_node *t)
{
	if (t->pprev == NULL)
		return;
	*t->pprev = t->next;
	if (t->next)
		t->next->pprev = t->pprev;
	t->next = NULL;
	t->pprev = NULL;
	w->armed--;
}

void
fj_wheel_arm(struct fj_wheel *w, struct fj_timer_node *t, uint64_t expires, fj_timer_fn fn)
{
	fj_wheel_cancel(w, t);
	uint64_t at = expires / w->tick;
	/* Never behind the hand: a timer already due fires on the next visit. */
	if (at < w->cur)
		at = w->cur;
	struct fj_timer_node **head = &w->slot[at % FJ_WHEEL_SLOTS];
	t->expires = expires;
	t->fn = fn;
	t->next = *head;
	if (*head)
		(*head)->pprev = &t->next;
	*head = t;
	t->pprev = head;
	w->armed++;
	if (at == w->cur && expires < w->quiet_until)
		w->quiet_until = expires;
}

unsigned
fj_wheel_advance(struct fj_wheel *w, uint64_t now, void *ctx)
{
	if (now < w->quiet_until)
		return 0;
	uint64_t end = now / w->tick;
	unsigned fired = 0;

	if (end < w->cur)
		return 0;
	/* A long jump needs each slot once, not once per tick. */
	uint64_t start = end - w->cur >= FJ_WHEEL_SLOTS ? end - (FJ_WHEEL_SLOTS - 1) : w->cur;
	for (uint64_t s = start; s <= end; s++) {
		struct fj_timer_node **pp = &w->slot[s % FJ_WHEEL_SLOTS];
		while (*pp != NULL) {
			struct fj_timer_node *t = *pp;
			if (t->expires > now) {
				pp = &t->next;
				continue;
			}
			fj_wheel_cancel(w, t);
			/* A timer the callback arms for "now" lands in the next
			 * slot: it fires, but a callback re-arming itself for
			 * "now" cannot keep this loop going. */
			w->cur = s + 1;
			t->fn(w, t, ctx);
			fired++;
			/* The list may have changed: restart the slot. */
			pp = &w->slot[s % FJ_WHEEL_SLOTS];
		}
	}
	/* The slot of @now is visited again next time: what it holds may
	 * fall due later within the same tick, no sooner than its earliest. */
	w->cur = end;
	uint64_t quiet = (end + 1) * w->tick;
	for (const struct fj_timer_node *t = w->slot[end % FJ_WHEEL_SLOTS]; t != NULL; t = t->next)
		if (t->expires < quiet)
			quiet = t->expires;
	w->quiet_until = quiet;
	return fired;
}
