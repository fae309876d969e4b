/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The flow API of fjord.h: each call checks its arguments and goes to the
 * stack's backend (backend.h).
 */
#include <errno.h>
#include <stdlib.h>

#include "stack.h"

/* ------------------------------------------------------ UDP */

struct fj_udp *
fj_udp_bind(struct fj_stack *s, uint16_t port, fj_udp_recv_fn recv, void *arg)
{
	struct fj_udp *u;

	if (port == 0 || recv == NULL) {
		errno = EINVAL;
		return NULL;
	}
	if (s->udp_ports[port] != NULL) {
		errno = EADDRINUSE;
		return NULL;
	}
	u = s->ops->udp_bind(s, port);
	if (u == NULL)
		return NULL;
	u->recv = recv;
	u->arg = arg;
	s->udp_ports[port] = u;
	return u;
}

int
fj_udp_send(struct fj_udp *u, struct fj_buf *b, const struct fj_addr *to)
{
	return u->s->ops->udp_send(u, (struct rte_mbuf *)b, to);
}

void
fj_udp_close(struct fj_udp *u)
{
	if (u == NULL)
		return;
	u->s->udp_ports[u->port] = NULL;
	u->s->ops->udp_close(u);
}

/* ------------------------------------------------------ TCP */

struct fj_listener *
fj_listen_tcp(struct fj_stack *s, uint16_t port, fj_flow_fn fn, void *arg)
{
	if (port == 0 || fn == NULL) {
		errno = EINVAL;
		return NULL;
	}
	return s->ops->listen(s, port, fn, arg);
}

struct fj_flow *
fj_connect_tcp(struct fj_stack *s, const struct fj_addr *to, fj_flow_fn fn, void *arg)
{
	if (to == NULL || to->port == 0 || to->ip == 0 || fn == NULL) {
		errno = EINVAL;
		return NULL;
	}
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
