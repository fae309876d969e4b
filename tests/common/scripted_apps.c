/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The applications behind the scripted tests' listeners and clients, on
 * fjord.h's flow API alone; what they saw goes into the fixture their
 * callback's arg points to.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scripted.h"

static uint32_t
min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* Port 7: echoes what comes; closes at the end of stream. */
static void
echo_tcp(struct fj_flow *f, void *arg)
{
	struct fj_buf *b;
	(void)arg;
	for (;;) {
		switch (fj_flow_read(f, &b)) {
		case FJ_DATA:
			if (fj_flow_write(f, b) < 0)
				fj_buf_free(b);
			break;
		case FJ_AGAIN:
			return;
		default:
			fj_flow_close(f);
			return;
		}
	}
}

/* Port 8: closes as soon as it is accepted. */
static void
close_at_once(struct fj_flow *f, void *arg)
{
	(void)arg;
	fj_flow_close(f);
}

/* Port 10: never reads; counts its events. */
static void
never_read(struct fj_flow *f, void *arg)
{
	struct fixture *fx = arg;
	(void)f;
	fx->events_seen++;
}

/* Port 12: the echo with Nagle's algorithm (RFC 1122 §4.2.3.4). */
static void
echo_nagle(struct fj_flow *f, void *arg)
{
	fj_flow_set_nagle(f, true);
	echo_tcp(f, arg);
}

/* Port 20: struct writer_app. */
static void
writer(struct fj_flow *f, void *arg)
{
	struct fixture *fx = arg;
	struct writer_app *w = &fx->wr;
	struct fj_buf *b;
	w->flow = f;
	w->calls++;
	for (;;) {
		enum fj_read r = fj_flow_read(f, &b);
		if (r == FJ_DATA) {
			fj_buf_free(b);
			continue;
		}
		if (r == FJ_ERROR) {
			w->err = fj_flow_error(f);
			fj_flow_close(f);
			w->flow = NULL;
			return;
		}
		break;
	}
	while (w->fill || w->done < w->total) {
		uint32_t n = w->fill ? w->chunk : min_u32(w->chunk, w->total - w->done);
		b = fj_buf_alloc(fx->stack, n);
		assert_non_null(b);
		uint8_t *p = fj_buf_data(b);
		for (uint32_t i = 0; i < n; i++)
			p[i] = pat(w->done + i);
		int rc = fj_flow_write(f, b);
		if (rc == -EAGAIN) {
			fj_buf_free(b);
			w->eagain++;
			return;
		}
		assert_int_equal(rc, 0);
		w->done += n;
	}
	if (w->close && !w->closed) {
		w->closed = true;
		fj_flow_close(f);
		w->flow = NULL;
	}
}

/* Port 21: keeps the flow, never reads. */
static void
lazy(struct fj_flow *f, void *arg)
{
	struct fixture *fx = arg;
	fx->lazy_flow = f;
	fx->lazy_events++;
}

/* Ports 22 and 23 (23 shuts down at once): read everything; on an error
 * remember it and close. */
static void
observe(struct fixture *fx, struct fj_flow *f, bool shut)
{
	struct observer_app *o = &fx->obs;
	struct fj_buf *b;
	o->flow = f;
	o->events++;
	if (shut && fj_flow_user(f) == NULL) {
		assert_int_equal(fj_flow_shutdown(f), 0);
		fj_flow_set_user(f, f);
	}
	for (;;) {
		enum fj_read r = fj_flow_read(f, &b);
		o->last = r;
		if (r == FJ_DATA) {
			uint32_t n = fj_buf_pkt_len(b);
			uint32_t k = min_u32(n, fj_buf_len(b));
			if (o->bytes + k <= sizeof(o->data))
				memcpy(o->data + o->bytes, fj_buf_data(b), k);
			/* Every byte of every piece against the stream pat() sends. */
			uint32_t at = o->bytes;
			for (struct fj_buf *s = b; s != NULL; s = fj_buf_next(s)) {
				const uint8_t *p = fj_buf_data(s);
				for (uint32_t i = 0; i < fj_buf_len(s); i++, at++)
					o->not_pat += p[i] != pat(at);
			}
			o->bytes += n;
			fj_buf_free(b);
			continue;
		}
		if (r == FJ_ERROR) {
			o->err = fj_flow_error(f);
			fj_flow_close(f);
			o->flow = NULL;
		}
		return;
	}
}

static void
observer(struct fj_flow *f, void *arg)
{
	observe(arg, f, false);
}

static void
observer_shut(struct fj_flow *f, void *arg)
{
	observe(arg, f, true);
}

/* Port 24: aborts the connection when data comes. */
static void
abort_on_data(struct fj_flow *f, void *arg)
{
	struct fj_buf *b;
	(void)arg;
	if (fj_flow_read(f, &b) == FJ_DATA) {
		fj_buf_free(b);
		fj_flow_abort(f);
	}
}

/* Port 25: at the peer's end of stream, a last word and close. */
static void
reply_on_eof(struct fj_flow *f, void *arg)
{
	struct fixture *fx = arg;
	struct fj_buf *b;
	for (;;) {
		enum fj_read r = fj_flow_read(f, &b);
		if (r == FJ_DATA) {
			fj_buf_free(b);
			continue;
		}
		if (r == FJ_EOF) {
			b = fj_buf_alloc(fx->stack, 7);
			memcpy(fj_buf_data(b), "bye now", 7);
			assert_int_equal(fj_flow_write(f, b), 0);
			fj_flow_close(f);
		}
		return;
	}
}

/* A client: counts its events, keeps its last read's result. */
void
client_cb(struct fj_flow *f, void *arg)
{
	struct fixture *fx = arg;
	struct fj_buf *b;
	fx->client.events++;
	fx->client.flow = f;
	fx->client.last = fj_flow_read(f, &b);
	if (fx->client.last == FJ_DATA)
		fj_buf_free(b);
}

/* A client that writes client.write_total bytes of pat() once connected. */
void
client_writer(struct fj_flow *f, void *arg)
{
	struct fixture *fx = arg;
	struct fj_buf *b;
	fx->client.flow = f;
	if (fx->client.writer_events++ == 0) {
		uint32_t total = fx->client.write_total;
		for (uint32_t off = 0; off < total; off += 1000) {
			uint32_t n = min_u32(1000u, total - off);
			b = fj_buf_alloc(fx->stack, n);
			uint8_t *p = fj_buf_data(b);
			for (uint32_t i = 0; i < n; i++)
				p[i] = pat(off + i);
			assert_int_equal(fj_flow_write(f, b), 0);
		}
	}
	while (fj_flow_read(f, &b) == FJ_DATA)
		fj_buf_free(b);
}

static int
tcp_setup_port(void **state, int kind)
{
	static const struct {
		uint16_t port;
		fj_flow_fn fn;
	} apps[] = {
		{ 7, echo_tcp },       { 8, close_at_once }, { 10, never_read },
		{ 12, echo_nagle },    { 20, writer },       { 21, lazy },
		{ 22, observer },      { 23, observer_shut }, { 24, abort_on_data },
		{ 25, reply_on_eof },
	};
	if (kind == 1)
		setup_tso(state);
	else if (kind == 2)
		setup_holding(state);
	else if (kind == 3)
		setup_gro(state);
	else
		setup(state);
	struct fixture *fx = *state;
	for (size_t i = 0; i < sizeof(apps) / sizeof(apps[0]); i++)
		assert_non_null(fj_listen_tcp(fx->stack, apps[i].port, apps[i].fn, fx));
	fx->wr.chunk = 1000;
	fx->obs.last = FJ_AGAIN;
	start_and_learn_peer(fx);
	return 0;
}

int
tcp_setup(void **state)
{
	return tcp_setup_port(state, 0);
}

int
tcp_setup_tso(void **state)
{
	return tcp_setup_port(state, 1);
}

int
tcp_setup_holding(void **state)
{
	return tcp_setup_port(state, 2);
}

int
tcp_setup_gro(void **state)
{
	return tcp_setup_port(state, 3);
}
