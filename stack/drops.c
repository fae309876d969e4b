/* SPDX-License-Identifier: BSD-3-Clause */
/* The names of the drop reasons (counters.h), without EAL. */
#include "counters.h"

static const char *const drop_names[FJ_DROP__COUNT] = {
	[FJ_DROP_NONE] = "ok",
#define NAME_(e, name) [FJ_DROP_##e] = name,
	FJ_WIRE_ERRORS(NAME_)
	FJ_STACK_DROPS(NAME_)
#undef NAME_
};

const char *
fj_drop_name(enum fj_drop d)
{
	return (unsigned)d < FJ_DROP__COUNT && drop_names[d] ? drop_names[d] : "unknown";
}
