/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The flow API of fjord.h: each call checks its arguments and goes to the
 * stack's backend (backend.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stack.h"

/*
 * Binding and listening reach every shard (a datagram or a SYN may arrive
 * at any); the caller gets its own shard's endpoint. Called from a shard's
 * callback while the stack runs, the others follow by message.
 */
static struct fj_stack *
caller_shard(struct fj_stack *s)
{
	struct fj_stack *me = fj_shard_self();

	return me != NULL && me->g == s->g ? me : s;
}

/* ------------------------------------------------------ UDP */

struct udp_bind_msg {
	fj_udp_recv_fn recv;
	void *arg;
	uint16_t port;
};

static struct fj_udp *
udp_bind_one(struct fj_stack *s, const struct udp_bind_msg *b)
{
	struct fj_udp *u = s->ops->udp_bind(s, b->port);

	if (u == NULL)
		return NULL;
	u->recv = b->recv;
	u->arg = b->arg;
	s->udp_ports[b->port] = u;
	return u;
}

static void
udp_bind_msg(struct fj_stack *s, void *payload)
{
	const struct udp_bind_msg *b = payload;

	if (s->udp_ports[b->port] == NULL && udp_bind_one(s, b) == NULL)
		FJ_STACK_LOG(ERR, "shard %u: cannot bind UDP port %u: %s", s->id, b->port,
			     strerror(errno));
}

static void
udp_close_msg(struct fj_stack *s, void *payload)
{
	uint16_t port;

	memcpy(&port, payload, sizeof(port));
	struct fj_udp *u = s->udp_ports[port];
	if (u != NULL) {
		s->udp_ports[port] = NULL;
		s->ops->udp_close(u);
	}
}

struct fj_udp *
fj_udp_bind(struct fj_stack *s, uint16_t port, fj_udp_recv_fn recv, void *arg)
{
	struct udp_bind_msg b = { recv, arg, port };
	struct fj_udp *u;

	if (port == 0 || recv == NULL) {
		errno = EINVAL;
		return NULL;
	}
	s = caller_shard(s);
	if (s->udp_ports[port] != NULL) {
		errno = EADDRINUSE;
		return NULL;
	}
	u = udp_bind_one(s, &b);
	if (u == NULL)
		return NULL;
	fj_shards_others(s, udp_bind_msg, &b, sizeof(b));
	if (!s->g->running)
		for (unsigned i = 0; i < s->g->n; i++)
			if (s->g->shard[i]->udp_ports[port] == NULL) {
				/* Not on every shard: on none. */
				int err = errno;
				fj_udp_close(u);
				errno = err;
				return NULL;
			}
	return u;
}

int
fj_udp_send(struct fj_udp *u, struct fj_buf *b, const struct fj_addr *to)
{
	/* Sent from the calling shard, whichever shard's endpoint it holds. */
	struct fj_stack *me = caller_shard(u->s);

	if (me != u->s && me->udp_ports[u->port] != NULL)
		u = me->udp_ports[u->port];
	return u->s->ops->udp_send(u, (struct rte_mbuf *)b, to);
}

void
fj_udp_close(struct fj_udp *u)
{
	if (u == NULL)
		return;
	/* The calling shard's own at once, the others' by message. */
	struct fj_stack *me = caller_shard(u->s);
	uint16_t port = u->port;
	fj_shards_others(me, udp_close_msg, &port, sizeof(port));
	udp_close_msg(me, &port);
}

int
fj_udp_error(struct fj_udp *u, struct fj_addr *to)
{
	int err = u->err;

	if (err != 0 && to != NULL)
		*to = u->err_to;
	u->err = 0;
	return err;
}

struct fj_stack *
fj_udp_stack(const struct fj_udp *u)
{
	return u->s;
}

/* ------------------------------------------------------ TCP */

struct listen_msg {
	fj_flow_fn fn;
	void *arg;
	uint16_t port;
};

static void
listen_msg(struct fj_stack *s, void *payload)
{
	const struct listen_msg *l = payload;

	if (s->ops->listen(s, l->port, l->fn, l->arg) == NULL)
		FJ_STACK_LOG(ERR, "shard %u: cannot listen on TCP port %u: %s", s->id, l->port,
			     strerror(errno));
}

struct fj_listener *
fj_listen_tcp(struct fj_stack *s, uint16_t port, fj_flow_fn fn, void *arg)
{
	struct listen_msg l = { fn, arg, port };
	struct fj_listener *mine;

	if (port == 0 || fn == NULL) {
		errno = EINVAL;
		return NULL;
	}
	s = caller_shard(s);
	mine = s->ops->listen(s, port, fn, arg);
	if (mine != NULL)
		fj_shards_others(s, listen_msg, &l, sizeof(l));
	return mine;
}

struct fj_stack *
fj_flow_stack(const struct fj_flow *f)
{
	return f->s;
}

/* A remote IPv6 end TCP can open to: not unspecified, nor multicast. */
static bool
fj_addr6_unicast(const struct fj_addr *a)
{
	static const uint8_t zero[16];

	return a->ip6[0] != 0xff && memcmp(a->ip6, zero, 16) != 0;
}

struct fj_flow *
fj_connect_tcp(struct fj_stack *s, const struct fj_addr *to, fj_flow_fn fn, void *arg)
{
	if (to != NULL && to->family != FJ_AF_INET && to->family != FJ_AF_INET6) {
		errno = EAFNOSUPPORT;
		return NULL;
	}
	if (to == NULL || to->port == 0 || fn == NULL ||
	    (to->family == FJ_AF_INET ? to->ip == 0 : !fj_addr6_unicast(to))) {
		errno = EINVAL;
		return NULL;
	}
	s = caller_shard(s);
	return s->ops->connect(s, to, fn, arg);
}

enum fj_read
fj_flow_read(struct fj_flow *f, struct fj_buf **buf)
{
	return f->s->ops->read(f, buf);
}

int
fj_flow_write(struct fj_flow *f, struct fj_buf *buf)
{
	return f->s->ops->write(f, buf);
}

void
fj_flow_close(struct fj_flow *f)
{
	f->s->ops->close_flow(f);
}

int
fj_flow_shutdown(struct fj_flow *f)
{
	return f->s->ops->shutdown(f);
}

void
fj_flow_set_nagle(struct fj_flow *f, bool on)
{
	f->s->ops->set_nagle(f, on);
}

int
fj_flow_set_keepalive(struct fj_flow *f, unsigned idle_s, unsigned interval_s, unsigned probes)
{
	if ((idle_s != 0 && (interval_s == 0 || probes == 0 || probes > 255)) ||
	    idle_s > 86400 * 7 || interval_s > 86400)
		return -EINVAL;
	return f->s->ops->set_keepalive(f, idle_s, interval_s, probes);
}

void
fj_flow_abort(struct fj_flow *f)
{
	f->s->ops->abort(f);
}

int
fj_flow_error(const struct fj_flow *f)
{
	return f->err;
}

struct fj_addr
fj_flow_peer(const struct fj_flow *f)
{
	return f->s->ops->peer(f);
}

void
fj_flow_set_user(struct fj_flow *f, void *user)
{
	f->user = user;
}

void *
fj_flow_user(const struct fj_flow *f)
{
	return f->user;
}
