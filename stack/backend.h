/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A backend: what the flow API runs on. The public functions (api.c) check
 * their arguments and call through the stack's table; nothing else in the
 * stack asks which backend it is on. Two exist, chosen at start like
 * `mirage configure --net direct|socket`:
 *   direct/  fjord's own stack on a DPDK port (netif, ARP, IPv4, ICMP,
 *            UDP, TCP);
 *   socket/  kernel sockets with epoll.
 * Flows and endpoints are each backend's own types, which begin with the
 * public ones (struct fj_udp, struct fj_flow, struct fj_listener).
 */
#ifndef FJ_BACKEND_H
#define FJ_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include "fjord.h"

struct fj_stack;
struct rte_mbuf;

/*
 * What every backend's flow and listener begin with: the public types the
 * flow API works on. A backend's own type starts with one of these (as
 * member `base`), or with the same fields through the macro inside an
 * anonymous union with it, so that its code can write f->s, f->err.
 */
#define FJ_FLOW_FIELDS     \
	struct fj_stack *s; \
	fj_flow_fn fn;      \
	void *arg;          \
	void *user;         /* the application's (fj_flow_set_user) */ \
	int err             /* a negative errno once the connection failed */
#define FJ_LISTENER_FIELDS \
	struct fj_stack *s; \
	uint16_t port;      \
	fj_flow_fn fn;      \
	void *arg

struct fj_flow {
	FJ_FLOW_FIELDS;
};

struct fj_listener {
	FJ_LISTENER_FIELDS;
};

struct fj_backend_ops {
	const char *name; /* "direct", "socket" */
	/* Start EAL as the backend needs it, from the application's EAL
	 * arguments. */
	int (*eal_init)(int argc, char **argv);
	/* After the shared set-up (configuration, buffers): the backend's own;
	 * on failure it has released what it took. */
	int (*open)(struct fj_stack *s);
	int (*run)(struct fj_stack *s);
	/* Close every endpoint, listener and flow still open, then the
	 * backend itself. */
	void (*close)(struct fj_stack *s);
	/* Connections held right now (the tcp_flows gauge). */
	unsigned (*nflows)(const struct fj_stack *s);

	/* UDP: a new endpoint on @port (its recv set by the caller), send
	 * (takes @m), close (frees @u). */
	struct fj_udp *(*udp_bind)(struct fj_stack *s, uint16_t port);
	int (*udp_send)(struct fj_udp *u, struct rte_mbuf *m, const struct fj_addr *to);
	void (*udp_close)(struct fj_udp *u);

	/* TCP: as the fj_listen_tcp / fj_connect_tcp / fj_flow_* calls of
	 * fjord.h, arguments already checked. */
	struct fj_listener *(*listen)(struct fj_stack *s, uint16_t port, fj_flow_fn fn, void *arg);
	struct fj_flow *(*connect)(struct fj_stack *s, const struct fj_addr *to, fj_flow_fn fn,
				   void *arg);
	enum fj_read (*read)(struct fj_flow *f, struct fj_buf **buf);
	int (*write)(struct fj_flow *f, struct fj_buf *buf);
	void (*close_flow)(struct fj_flow *f);
	int (*shutdown)(struct fj_flow *f);
	void (*abort)(struct fj_flow *f);
	void (*set_nagle)(struct fj_flow *f, bool on);
	int (*set_keepalive)(struct fj_flow *f, unsigned idle_s, unsigned interval_s,
			     unsigned probes);
	struct fj_addr (*peer)(const struct fj_flow *f);
	/* Which shard receives what @remote sends to @lport (more than one
	 * shard). */
	unsigned (*shard_of)(struct fj_stack *s, uint16_t lport, const struct fj_addr *remote);
};

extern const struct fj_backend_ops fj_direct_ops;
extern const struct fj_backend_ops fj_socket_ops;

#endif
