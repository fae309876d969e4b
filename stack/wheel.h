/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A hashed timing wheel (Varghese and Lauck's scheme 6): timers are nodes
 * embedded in their owners (no allocation per timer), O(1) to arm, re-arm
 * and cancel; advancing visits one slot per tick and fires what is due,
 * leaving in the slot what belongs to a later turn of the wheel. Time is
 * any monotonic unit (the stack uses TSC cycles); pure, no EAL.
 */
#ifndef FJ_WHEEL_H
#define FJ_WHEEL_H

#include <stdbool.h>
#include <stdint.h>

#define FJ_WHEEL_SLOTS 256

struct fj_wheel;
struct fj_timer_node;
typedef void (*fj_timer_fn)(struct fj_wheel *w, struct fj_timer_node *t, void *ctx);

struct fj_timer_node {
	struct fj_timer_node *next;
	struct fj_timer_node **pprev; /* NULL: not armed */
	uint64_t expires;
	fj_timer_fn fn;
};

struct fj_wheel {
	uint64_t tick;      /* time units per slot */
	uint64_t cur;       /* the slot index (in ticks) processed next */
	uint64_t armed;
	/* Nothing can fall due before this: the end of the current tick, or
	 * sooner when a timer in the current slot expires within it. Lets a
	 * poll loop call fj_wheel_advance every turn for one comparison. */
	uint64_t quiet_until;
	struct fj_timer_node *slot[FJ_WHEEL_SLOTS];
};

void fj_wheel_init(struct fj_wheel *w, uint64_t now, uint64_t tick);
/* Arm (or re-arm) @t to call @fn once at or after @expires. */
void fj_wheel_arm(struct fj_wheel *w, struct fj_timer_node *t, uint64_t expires, fj_timer_fn fn);
void fj_wheel_cancel(struct fj_wheel *w, struct fj_timer_node *t);
static inline bool fj_timer_armed(const struct fj_timer_node *t) { return t->pprev != 0; }
/* Fire every timer due by @now; callbacks may arm and cancel timers. */
unsigned fj_wheel_advance(struct fj_wheel *w, uint64_t now, void *ctx);

#endif
