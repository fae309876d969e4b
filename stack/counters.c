/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The stack's counters by name: fj_stack_counter, the dump, the one-line
 * summary, and DPDK telemetry's /fjord/stack, all from the lists in
 * counters.h. Every shard counts its own; what the application and
 * telemetry see first is their sum over the shards.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
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

/* Gauges: what is held right now. */
static const char *const gauge_names[] = { "mbufs_in_use", "tcp_flows" };
#define NGAUGES (sizeof(gauge_names) / sizeof(gauge_names[0]))

/* Every value of a shard, in dump order: gauges, counters, drops. */
#define NVALUES (NGAUGES + NFIELDS + FJ_DROP__COUNT - 1)

static const char *
value_name(size_t i, char *buf, size_t len)
{
	if (i < NGAUGES)
		return gauge_names[i];
	if (i < NGAUGES + NFIELDS)
		return counter_fields[i - NGAUGES].name;
	snprintf(buf, len, "drop_%s", fj_drop_name((enum fj_drop)(i - NGAUGES - NFIELDS + 1)));
	return buf;
}

static void
shard_values(const struct fj_stack *s, uint64_t *v)
{
	size_t k = 0;

	v[k++] = s->mp ? rte_mempool_in_use_count(s->mp) : 0;
	v[k++] = s->ops->nflows(s);
	for (size_t i = 0; i < NFIELDS; i++)
		v[k++] = *(const uint64_t *)((const char *)&s->c + counter_fields[i].off);
	for (int d = 1; d < FJ_DROP__COUNT; d++)
		v[k++] = s->c.drops[d];
}

/* The sum over every shard of @s's stack. */
static void
total_values(const struct fj_stack *s, uint64_t *v)
{
	uint64_t one[NVALUES];

	memset(v, 0, NVALUES * sizeof(*v));
	for (unsigned i = 0; i < s->g->n; i++) {
		shard_values(s->g->shard[i], one);
		for (size_t k = 0; k < NVALUES; k++)
			v[k] += one[k];
	}
}

static uint64_t
drops_total(const uint64_t *v)
{
	uint64_t t = 0;

	for (size_t k = NGAUGES + NFIELDS; k < NVALUES; k++)
		t += v[k];
	return t;
}

static uint64_t
lookup(const uint64_t *v, const char *name)
{
	char buf[64];

	if (strcmp(name, "drops") == 0)
		return drops_total(v);
	for (size_t k = 0; k < NVALUES; k++)
		if (strcmp(name, value_name(k, buf, sizeof(buf))) == 0)
			return v[k];
	return UINT64_MAX;
}

uint64_t
fj_stack_counter(struct fj_stack *s, const char *name)
{
	uint64_t v[NVALUES];

	total_values(s, v);
	return lookup(v, name);
}

uint64_t
fj_shard_counter(struct fj_stack *s, const char *name)
{
	uint64_t v[NVALUES];

	shard_values(s, v);
	return lookup(v, name);
}

void
fj_stack_stats_dump(struct fj_stack *s, FILE *out)
{
	uint64_t v[NVALUES];
	char buf[64];

	total_values(s, v);
	for (size_t k = 0; k < NVALUES; k++)
		fprintf(out, "%s %" PRIu64 "\n", value_name(k, buf, sizeof(buf)), v[k]);
	if (s->g->n == 1)
		return;
	/* Then each shard's, where a value is not zero. */
	for (unsigned i = 0; i < s->g->n; i++) {
		shard_values(s->g->shard[i], v);
		for (size_t k = 0; k < NVALUES; k++)
			if (v[k] != 0)
				fprintf(out, "shard%u.%s %" PRIu64 "\n", i,
					value_name(k, buf, sizeof(buf)), v[k]);
	}
}

size_t
fj_stack_stats_line(struct fj_stack *s, char *buf, size_t len)
{
	uint64_t v[NVALUES];

	total_values(s, v);
#define V(name) lookup(v, #name)
	int n = snprintf(buf, len,
			 "rx %" PRIu64 " tx %" PRIu64 " | arp in %" PRIu64 " out %" PRIu64
			 " | icmp in %" PRIu64 " out %" PRIu64 " | udp in %" PRIu64 " out %" PRIu64
			 " | tcp accepted %" PRIu64 " opened %" PRIu64 " active %" PRIu64
			 " retransmits %" PRIu64 " | drops %" PRIu64,
			 V(rx_frames), V(tx_frames), V(arp_rx), V(arp_tx), V(icmp_rx), V(icmp_tx),
			 V(udp_rx), V(udp_tx), V(tcp_passive_opens), V(tcp_active_opens),
			 V(tcp_flows), V(tcp_retransmits), drops_total(v));
#undef V
	if (n >= 0 && (size_t)n < len && s->g->n > 1)
		n += snprintf(buf + n, len - (size_t)n, " | %u shards, steered %" PRIu64,
			      s->g->n, lookup(v, "steered_in"));
	return n < 0 ? 0 : (size_t)n;
}

static void
tel_dict(struct rte_tel_data *d, const uint64_t *v)
{
	char buf[64];

	for (size_t k = 0; k < NVALUES; k++)
		rte_tel_data_add_dict_u64(d, value_name(k, buf, sizeof(buf)), v[k]);
}

/* /fjord/stack: the sum over the shards, with "shards"; /fjord/stack,N:
 * shard N's own values. */
static int
telemetry_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct fj_stack *s = telemetry_stack;
	uint64_t v[NVALUES];

	RTE_SET_USED(cmd);
	rte_tel_data_start_dict(d);
	if (s == NULL)
		return 0;
	if (params != NULL && *params != '\0') {
		char *end;
		unsigned long i = strtoul(params, &end, 10);
		if (*end || i >= s->g->n)
			return -EINVAL;
		shard_values(s->g->shard[i], v);
		rte_tel_data_add_dict_u64(d, "shard", i);
	} else {
		total_values(s, v);
		rte_tel_data_add_dict_u64(d, "shards", s->g->n);
	}
	tel_dict(d, v);
	return 0;
}

void
fj_stack_telemetry_register(struct fj_stack *s)
{
	telemetry_stack = s;
	rte_telemetry_register_cmd("/fjord/stack", telemetry_stats,
				   "fjord stack counters, summed over the shards. "
				   "Parameters: none, or a shard number for its own");
}

void
fj_stack_telemetry_unregister(struct fj_stack *s)
{
	if (telemetry_stack == s)
		telemetry_stack = NULL;
}
