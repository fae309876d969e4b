/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fjord's flow API: the only header an application includes.
 *
 * One application source runs over either backend, chosen at start with
 * `--net direct` (fjord's run-to-completion stack on a DPDK port) or
 * `--net socket` (kernel sockets with epoll), like `mirage configure
 * --net direct|socket`:
 *
 *     static void echo(struct fj_udp *u, struct fj_buf *b,
 *                      const struct fj_addr *from, void *arg)
 *     {
 *         fj_udp_send(u, b, from);   // the same buffer goes back, no copy
 *     }
 *     int main(int argc, char **argv)
 *     {
 *         struct fj_stack *s = fj_stack_from_args(&argc, &argv);
 *         if (s == NULL || fj_udp_bind(s, 7, echo, NULL) == NULL)
 *             return 1;
 *         return fj_stack_run(s);
 *     }
 *
 * Everything runs on the calling thread: callbacks are called from
 * fj_stack_run and must not block. Buffers are views of packet memory (a
 * DPDK mbuf): a received buffer belongs to the callback, which sends it
 * (ownership passes to the stack, no copy) or frees it.
 */
#ifndef FJORD_H
#define FJORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct fj_stack;
struct fj_udp;
struct fj_buf;

/*
 * An address and port of either family: IPv4's `ip` (host byte order) when
 * `family` is FJ_AF_INET (0, so that { ip, port } is an IPv4 one), IPv6's
 * `ip6` (network byte order, as inet_pton writes it) when FJ_AF_INET6.
 * UDP and TCP speak both (a TCP listener takes either family on its port).
 */
#define FJ_AF_INET 0
#define FJ_AF_INET6 6
struct fj_addr {
	uint32_t ip;
	uint16_t port;
	uint8_t family;
	uint8_t ip6[16];
};

/* ------------------------------------------------------ the stack */

/*
 * Create a stack from the command line: EAL arguments, then `--` and the
 * stack's own (see fj_stack_usage). What neither EAL nor the stack knows is
 * left in argc/argv (argv[0] first) for the application. On error prints
 * one line to stderr and returns NULL.
 */
struct fj_stack *fj_stack_from_args(int *argc, char ***argv);
/* The stack's arguments, for an application's --help. */
void fj_stack_usage(FILE *out);
/* Run every shard until fj_stack_stop; returns 0, or a negative errno. */
int fj_stack_run(struct fj_stack *s);
/* Ask fj_stack_run to return (async-signal-safe). */
void fj_stack_stop(struct fj_stack *s);
/* Release everything (after fj_stack_run has returned). */
void fj_stack_free(struct fj_stack *s);
/* "direct" or "socket". */
const char *fj_stack_backend(const struct fj_stack *s);
/* Call @fn every @period_s seconds from the loop of shard @s (shard 0 for
 * the stack fj_stack_from_args returned). */
int fj_stack_every(struct fj_stack *s, double period_s, void (*fn)(struct fj_stack *, void *),
		   void *arg);
/* One line of the main counters, e.g. for a periodic print. */
size_t fj_stack_stats_line(struct fj_stack *s, char *buf, size_t len);
/* Every counter, "name value" per line. */
void fj_stack_stats_dump(struct fj_stack *s, FILE *out);
/* A counter by name (as in fj_stack_stats_dump); UINT64_MAX if unknown. */
uint64_t fj_stack_counter(struct fj_stack *s, const char *name);

/* ------------------------------------------------------ shards */

/*
 * The stack runs one shard per lcore of EAL's -l (Seastar's model): shard
 * i owns queue pair i of the port and its own flows, timers, buffers and
 * counters, and shares nothing writable with the others. The application
 * does not change with the count: fj_listen_tcp and fj_udp_bind serve on
 * every shard, and each callback runs on the shard of its flow or endpoint,
 * so state an application keeps per shard (indexed by fj_shard_id) needs
 * no lock. The counters above are summed over the shards.
 */
unsigned fj_stack_shards(const struct fj_stack *s);
/* Shard @i (NULL past the last); shard 0 is what fj_stack_from_args gave.
 * fj_stack_every and fj_connect_tcp on it act on that shard. */
struct fj_stack *fj_stack_shard(struct fj_stack *s, unsigned i);
unsigned fj_shard_id(const struct fj_stack *s);
/* The shard the calling thread runs (0 outside the stack's loops). */
unsigned fj_shard(void);
/* The shard that receives what @remote sends to local port @lport (UDP or
 * TCP): where an endpoint's or a connection's callbacks will run. */
unsigned fj_stack_shard_of(struct fj_stack *s, uint16_t lport, const struct fj_addr *remote);
/* One counter of one shard (fj_stack_counter sums them). */
uint64_t fj_shard_counter(struct fj_stack *s, const char *name);

/* ------------------------------------------------------ buffers */

/* The bytes of the first segment, and the whole length. */
void *fj_buf_data(struct fj_buf *b);
uint32_t fj_buf_len(const struct fj_buf *b);      /* first segment */
uint32_t fj_buf_pkt_len(const struct fj_buf *b);  /* all segments */
/* The next segment of a chained buffer, or NULL. */
struct fj_buf *fj_buf_next(struct fj_buf *b);
/*
 * A new buffer of @len bytes (headers go in front): one segment when it
 * fits, else a chain of segments (walk it with fj_buf_next). NULL when
 * the pool is short or @len exceeds FJ_BUF_MAX.
 */
#define FJ_BUF_MAX (256u * 1024)
struct fj_buf *fj_buf_alloc(struct fj_stack *s, uint32_t len);
void fj_buf_free(struct fj_buf *b);

/* ------------------------------------------------------ UDP (RFC 768) */

typedef void (*fj_udp_recv_fn)(struct fj_udp *u, struct fj_buf *b, const struct fj_addr *from,
			       void *arg);

/* Receive datagrams to @port on the stack's address, on every shard; NULL
 * and errno on error. The endpoint returned is the calling shard's. */
struct fj_udp *fj_udp_bind(struct fj_stack *s, uint16_t port, fj_udp_recv_fn recv, void *arg);
/*
 * Send @b (its whole content is the payload) to @to. Takes @b in every
 * case; returns 0, or a negative errno when it was dropped (counted).
 */
int fj_udp_send(struct fj_udp *u, struct fj_buf *b, const struct fj_addr *to);
void fj_udp_close(struct fj_udp *u);
/*
 * The last ICMP error about a datagram @u sent (RFC 1122 §4.1.3.3), as a
 * negative errno (-ECONNREFUSED: port unreachable; -EHOSTUNREACH,
 * -ENETUNREACH, -EACCES: prohibited, -EMSGSIZE: fragmentation needed,
 * ...), and in *@to, when not NULL, whom that datagram was for; 0 if none
 * came since the last call (each error is told once).
 */
int fj_udp_error(struct fj_udp *u, struct fj_addr *to);
/* The shard an endpoint is on (where its recv callback runs). */
struct fj_stack *fj_udp_stack(const struct fj_udp *u);

/* ------------------------------------------------------ TCP (RFC 9293) */

struct fj_flow;
struct fj_listener;

/*
 * Called when a connection is accepted, and again whenever it has
 * something new: data to read, room to write, the peer's end of stream,
 * an error. The callback reads until FJ_AGAIN.
 */
typedef void (*fj_flow_fn)(struct fj_flow *f, void *arg);

enum fj_read {
	FJ_DATA = 0,  /* *buf holds data; it is the caller's */
	FJ_AGAIN = 1, /* nothing now: the callback runs again when there is */
	FJ_EOF = 2,   /* the peer closed its direction */
	FJ_ERROR = 3, /* reset or timed out: see fj_flow_error */
};

struct fj_listener *fj_listen_tcp(struct fj_stack *s, uint16_t port, fj_flow_fn fn, void *arg);
/*
 * Open a connection to @to. @fn runs once it is established (reads give
 * FJ_AGAIN, writes are taken), and as for accepted flows after that; a
 * refused or unanswered attempt shows as FJ_ERROR (-ECONNREFUSED,
 * -ETIMEDOUT). NULL and errno if it cannot even start.
 */
struct fj_flow *fj_connect_tcp(struct fj_stack *s, const struct fj_addr *to, fj_flow_fn fn,
			       void *arg);
/* Read the next piece of the stream: a view of received packet memory. */
enum fj_read fj_flow_read(struct fj_flow *f, struct fj_buf **buf);
/*
 * Queue @buf for sending (no copy: a buffer just read can be written back).
 * Returns 0 when taken, -EAGAIN when the send buffer is full (the buffer
 * stays the caller's; the callback runs again when there is room), or
 * another negative errno (taken and freed).
 */
int fj_flow_write(struct fj_flow *f, struct fj_buf *buf);
/* Close our direction once everything queued is sent (FIN); the flow
 * must not be used after this. */
void fj_flow_close(struct fj_flow *f);
/* Send FIN after what is queued but keep reading (a half close). */
int fj_flow_shutdown(struct fj_flow *f);
/* Nagle's algorithm (RFC 9293 §3.7.4): off by default for flows. */
void fj_flow_set_nagle(struct fj_flow *f, bool on);
/*
 * Keepalive (RFC 1122 §4.2.3.6): after @idle_s seconds without hearing
 * from the peer, probe every @interval_s seconds; @probes unanswered end
 * the connection (FJ_ERROR, -ETIMEDOUT). Off by default; @idle_s 0 turns
 * it off. Returns 0 or -EINVAL.
 */
int fj_flow_set_keepalive(struct fj_flow *f, unsigned idle_s, unsigned interval_s,
			  unsigned probes);
/* Reset the connection now (RST) and release the flow. */
void fj_flow_abort(struct fj_flow *f);
/* The connection's error (a negative errno: -ECONNRESET, -ETIMEDOUT), or 0. */
int fj_flow_error(const struct fj_flow *f);
struct fj_addr fj_flow_peer(const struct fj_flow *f);
/* The shard a flow is on (where its callback runs). */
struct fj_stack *fj_flow_stack(const struct fj_flow *f);
/* One pointer of the application's per flow (NULL at first). */
void fj_flow_set_user(struct fj_flow *f, void *user);
void *fj_flow_user(const struct fj_flow *f);

#endif
