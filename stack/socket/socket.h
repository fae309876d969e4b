/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The kernel-sockets backend's inside: its state (s->sock) and its
 * endpoint, listener and flow types, each beginning with the public one.
 * The backend keeps a list of every listener and flow it opened, so that
 * closing the stack closes them all.
 */
#ifndef FJ_SOCKET_H
#define FJ_SOCKET_H

#include <stdbool.h>
#include <stdint.h>

#include "stack.h"

#define FJ_SOCK_IOV 32u /* segments per read or send call (64 KiB) */

/* What an epoll event is for: the low bits of its pointer. */
enum { FJ_EP_UDP = 0, FJ_EP_LISTEN = 1, FJ_EP_FLOW = 2 };
#define FJ_EP_TAG(p, t) ((uint64_t)(uintptr_t)(p) | (t))
#define FJ_EP_PTR(v) ((void *)(uintptr_t)((v) & ~(uint64_t)3))
#define FJ_EP_KIND(v) ((int)((v) & 3))

struct fj_sock_udp {
	struct fj_udp base;
	int fd;
};

struct fj_sock_listener {
	struct fj_listener base;
	int fd;
	struct fj_sock_listener *next;
};

struct fj_sock_flow {
	struct fj_flow base;
	int fd;
	struct fj_addr peer;
	bool connecting;
	bool app_closed;          /* closed by the application: nobody to tell */
	bool want_write;          /* a write met a full buffer */
	bool fin_rcvd;
	struct rte_mbuf *pending; /* written, not yet taken by the kernel */
	uint8_t rd_segs;          /* segments for the next read (0: 1) */
	uint32_t events;
	struct fj_sock_flow *next, *prev; /* every flow of the stack */
};

struct fj_sock {
	int epfd;
	struct fj_sock_listener *listeners;
	struct fj_sock_flow *flows;
	unsigned nflows;
	/* Where the part of a received datagram beyond its first buffer
	 * lands (FJ_BURST x 64 KiB, made at the first such read). */
	uint8_t *udp_spill;
};

static inline struct fj_sock_flow *
sock_flow(struct fj_flow *f)
{
	return (struct fj_sock_flow *)f;
}

void fj_sock_close_fd(struct fj_stack *s, int fd);

/* reuseport.c: with several shards, @fd joins its port's SO_REUSEPORT
 * group (before bind), which gives each flow to the shard fj_flow_owner
 * names (steer, after bind). */
int fj_sock_reuseport(struct fj_stack *s, int fd);
int fj_sock_reuseport_steer(struct fj_stack *s, int fd);
unsigned fj_sock_shard_of(struct fj_stack *s, uint16_t lport, const struct fj_addr *remote);

/* udp.c */
struct fj_udp *fj_sock_udp_bind(struct fj_stack *s, uint16_t port);
int fj_sock_udp_send(struct fj_udp *u, struct rte_mbuf *m, const struct fj_addr *to);
void fj_sock_udp_close(struct fj_udp *u);
void fj_sock_udp_readable(struct fj_stack *s, struct fj_sock_udp *u);

/* tcp.c */
struct fj_listener *fj_sock_listen(struct fj_stack *s, uint16_t port, fj_flow_fn fn, void *arg);
struct fj_flow *fj_sock_connect(struct fj_stack *s, const struct fj_addr *to, fj_flow_fn fn,
				void *arg);
enum fj_read fj_sock_read(struct fj_flow *f, struct fj_buf **buf);
int fj_sock_write(struct fj_flow *f, struct fj_buf *buf);
void fj_sock_close_flow(struct fj_flow *f);
int fj_sock_shutdown(struct fj_flow *f);
void fj_sock_abort(struct fj_flow *f);
void fj_sock_set_nagle(struct fj_flow *f, bool on);
int fj_sock_set_keepalive(struct fj_flow *f, unsigned idle_s, unsigned interval_s,
			  unsigned probes);
struct fj_addr fj_sock_peer(const struct fj_flow *f);
void fj_sock_accept(struct fj_stack *s, struct fj_sock_listener *l);
void fj_sock_flow_event(struct fj_sock_flow *f, uint32_t events);
/* Close every flow and listener still open. */
void fj_sock_tcp_close_all(struct fj_stack *s);

#endif
