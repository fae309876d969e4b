/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shards: one instance of the stack (a struct fj_stack) per lcore of EAL's
 * -l, each owning rx/tx queue i of the port, its flow table, timer wheel,
 * packet buffers and counters. What they share is struct fj_shards: written
 * while the stack is set up, read-only while it runs (the shard table, the
 * steering parameters). Shards talk to each other only through bounded
 * rte_rings: the steering ring (frames that arrived at the wrong shard,
 * direct/steer.c) and the message ring (calls such as "a neighbour's MAC
 * is known", "bind this port too").
 */
#ifndef FJ_SHARD_H
#define FJ_SHARD_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_lcore.h>

struct fj_stack;
struct rte_mempool;

/* How frames reach the shard that owns their flow. */
enum fj_steer {
	FJ_STEER_NONE,     /* one shard: everything is its own */
	FJ_STEER_SOFTWARE, /* fj_flow_hash of the 4-tuple, frames passed on by ring */
	FJ_STEER_RSS,      /* the device's Toeplitz hash and indirection table */
};

#define FJ_RSS_KEY_MAX 64
#define FJ_RETA_MAX 512

struct fj_shards {
	unsigned n;
	struct fj_stack *shard[RTE_MAX_LCORE];
	unsigned lcore[RTE_MAX_LCORE]; /* shard i runs on lcore[i] */
	volatile bool running;
	struct rte_mempool *msgs; /* fj_msg objects for every shard's message ring */
	/* Steering, fixed when the port starts (direct backend). */
	enum fj_steer steer;
	uint8_t rss_key[FJ_RSS_KEY_MAX];
	uint8_t rss_key_len;
	bool rss_v6;        /* the port hashes TCP over IPv6 by its ports */
	uint16_t reta_size;
	uint16_t reta[FJ_RETA_MAX]; /* entry -> queue (= shard) */
};

/* A call to run on another shard: fn(shard, payload) on its own lcore. */
#define FJ_MSG_PAYLOAD 72 /* an ICMPv6 error (fj_icmp6_error) fits */
struct fj_msg {
	void (*fn)(struct fj_stack *s, void *payload);
	uint8_t payload[FJ_MSG_PAYLOAD];
};

/* The shard the calling thread runs (NULL outside the stack's loops). */
struct fj_stack *fj_shard_self(void);
void fj_shard_set_self(struct fj_stack *s);

/* Make the shards 1..@n-1 of @s0 (configured, not set up) and the rings
 * between them; 0 or a negative errno. */
int fj_shards_create(struct fj_stack *s0, unsigned n);
/* Free the frames still waiting in the steering rings (before the pools
 * they came from go), then the shards and their rings. */
void fj_shards_drain(struct fj_stack *s0);
void fj_shards_free(struct fj_stack *s0);
/* Post fn(@dst, copy of @payload) to shard @dst; -ENOBUFS (counted on
 * @from) when its ring or the message pool is full. */
int fj_shard_post(struct fj_stack *from, struct fj_stack *dst,
		  void (*fn)(struct fj_stack *s, void *payload), const void *payload, unsigned len);
/* The same to every shard but @from. */
void fj_shard_post_others(struct fj_stack *from, void (*fn)(struct fj_stack *s, void *payload),
			  const void *payload, unsigned len);
/* Run the calls posted to @s; how many. */
unsigned fj_shard_poll(struct fj_stack *s);
/* Run fn(shard, copy of @payload) on every shard but @me: directly while
 * the stack does not run, else by message (each on its own lcore). */
int fj_shards_others(struct fj_stack *me, void (*fn)(struct fj_stack *s, void *payload),
		     const void *payload, unsigned len);

#endif
