/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The stack's counters by name: fj_stack_counter, the dump, the one-line
 * summary, and DPDK telemetry's /fjord/stack, all from the lists in
 * counters.h.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <rte_mempool.h>
#include <rte_telemetry.h>

#include "stack.h"

/*
 * Telemetry callbacks take no context, so the command serves the one stack
 * of the process that registered it (a process-wide fact, like EAL).
 */
static struct fj_stack *telemetry_stack;

static const struct {
	const char *name;
	size_t off;
} counter_fields[] = {
#define FIELD_(f) { #f, offsetof(struct fj_counters, f) },
	FJ_COUNTERS(FIELD_)
#undef FIELD_
};
#define NFIELDS (sizeof(counter_fields) / sizeof(counter_fields[0]))

static uint64_t
field(const struct fj_stack *s, size_t i)
{
	return *(const uint64_t *)((const char *)&s->c + counter_fields[i].off);
}

static uint64_t
drops_total(const struct fj_stack *s)
{
	uint64_t t = 0;

	for (int d = 1; d < FJ_DROP__COUNT; d++)
		t += s->c.drops[d];
	return t;
}

/* Gauges: what is held right now. */
static const char *const gauge_names[] = { "mbufs_in_use", "tcp_flows" };
#define NGAUGES (sizeof(gauge_names) / sizeof(gauge_names[0]))

static uint64_t
gauge(const struct fj_stack *s, size_t i)
{
	if (i == 0)
		return s->mp ? rte_mempool_in_use_count(s->mp) : 0;
	return s->ops->nflows(s);
}

/* Every value with its name, in dump order: gauges, counters, drops. */
static void
each_value(const struct fj_stack *s, void (*fn)(void *ctx, const char *name, uint64_t v),
	   void *ctx)
{
	char name[64];

	for (size_t i = 0; i < NGAUGES; i++)
		fn(ctx, gauge_names[i], gauge(s, i));
	for (size_t i = 0; i < NFIELDS; i++)
		fn(ctx, counter_fields[i].name, field(s, i));
	for (int d = 1; d < FJ_DROP__COUNT; d++) {
		snprintf(name, sizeof(name), "drop_%s", fj_drop_name((enum fj_drop)d));
		fn(ctx, name, s->c.drops[d]);
	}
}

uint64_t
fj_stack_counter(struct fj_stack *s, const char *name)
{
	for (size_t i = 0; i < NFIELDS; i++)
		if (strcmp(name, counter_fields[i].name) == 0)
			return field(s, i);
	if (strncmp(name, "drop_", 5) == 0)
		for (int d = 1; d < FJ_DROP__COUNT; d++)
			if (strcmp(name + 5, fj_drop_name((enum fj_drop)d)) == 0)
				return s->c.drops[d];
	if (strcmp(name, "drops") == 0)
		return drops_total(s);
	for (size_t i = 0; i < NGAUGES; i++)
		if (strcmp(name, gauge_names[i]) == 0)
			return gauge(s, i);
	return UINT64_MAX;
}

static void
print_value(void *ctx, const char *name, uint64_t v)
{
	fprintf(ctx, "%s %" PRIu64 "\n", name, v);
}

void
fj_stack_stats_dump(struct fj_stack *s, FILE *out)
{
	each_value(s, print_value, out);
}

size_t
fj_stack_stats_line(struct fj_stack *s, char *buf, size_t len)
{
	int n = snprintf(buf, len,
			 "rx %" PRIu64 " tx %" PRIu64 " | arp in %" PRIu64 " out %" PRIu64
			 " | icmp in %" PRIu64 " out %" PRIu64 " | udp in %" PRIu64 " out %" PRIu64
			 " | drops %" PRIu64,
			 s->c.rx_frames, s->c.tx_frames, s->c.arp_rx, s->c.arp_tx, s->c.icmp_rx,
			 s->c.icmp_tx, s->c.udp_rx, s->c.udp_tx, drops_total(s));
	return n < 0 ? 0 : (size_t)n;
}

static void
tel_value(void *ctx, const char *name, uint64_t v)
{
	rte_tel_data_add_dict_u64(ctx, name, v);
}

static int
telemetry_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	rte_tel_data_start_dict(d);
	if (telemetry_stack != NULL)
		each_value(telemetry_stack, tel_value, d);
	return 0;
}

void
fj_stack_telemetry_register(struct fj_stack *s)
{
	telemetry_stack = s;
	rte_telemetry_register_cmd("/fjord/stack", telemetry_stats,
				   "fjord stack counters. No parameters");
}

void
fj_stack_telemetry_unregister(struct fj_stack *s)
{
	if (telemetry_stack == s)
		telemetry_stack = NULL;
}
