/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fj-xfer: one-direction TCP transfers over fjord's flow API, for tests
 * against kernel clients, on either backend.
 *
 *   --source         every accepted connection asks for N bytes (its first
 *                    8 bytes, little-endian) and is sent N bytes of a known
 *                    stream (64-bit little-endian words K, K+1, ...;
 *                    K = --seed), then closed by us first
 *   --sink DIR       every accepted connection's bytes are stored in
 *                    DIR/sink-N until the peer closes; then we close
 *   --get IP N       the client of a --source: connects to IP (v4 or v6), asks for N
 *                    bytes, checks every byte of the stream (--seed) and
 *                    its end, prints "get N bytes OK" (or FAILED), exits
 *
 * Listens on --xfer-port (default 9). A line per finished connection on
 * stdout: "source N bytes" or "sink N bytes PATH".
 */
#include <errno.h>
#include <signal.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fjord.h"

#define CHUNK 1400 /* bytes per buffer, a multiple of 8 */

static struct fj_stack *stack;
static bool source_mode;
static unsigned long long seed = 1;
static const char *sink_dir;
static unsigned sinks;
static const char *get_ip;
static unsigned long long get_size;
static int get_rc = 1; /* the client's exit status */

struct conn {
	unsigned long long off, want;
	uint8_t req[8];
	unsigned nreq; /* request bytes read so far */
	FILE *out;
	char path[512];
};

static void
on_signal(int sig)
{
	(void)sig;
	if (stack != NULL)
		fj_stack_stop(stack);
}

static void
finish(struct fj_flow *f, struct conn *c, bool ok)
{
	if (c->out != NULL) {
		if (fclose(c->out) != 0)
			ok = false;
		printf("sink %llu bytes %s%s\n", c->off, c->path, ok ? "" : " FAILED");
	} else {
		printf("source %llu bytes%s\n", c->off, ok ? "" : " FAILED");
	}
	fflush(stdout);
	free(c);
	fj_flow_set_user(f, NULL);
	fj_flow_close(f);
}

/* Words K + i for the stream's bytes [off, off + len), off and len
 * multiples of 8 except at the very end. */
static void
fill(uint8_t *p, unsigned long long off, uint32_t len)
{
	for (uint32_t i = 0; i < len; i += 8) {
		unsigned long long w = seed + (off + i) / 8;
		uint8_t b[8];
		for (int k = 0; k < 8; k++)
			b[k] = (uint8_t)(w >> (8 * k));
		memcpy(p + i, b, len - i < 8 ? len - i : 8);
	}
}

static void
source(struct fj_flow *f, struct conn *c)
{
	struct fj_buf *b;

	/* The request: 8 bytes of size; anything after it is dropped. */
	for (;;) {
		enum fj_read r = fj_flow_read(f, &b);
		if (r == FJ_DATA) {
			for (struct fj_buf *s = b; s != NULL && c->nreq < 8; s = fj_buf_next(s)) {
				const uint8_t *p = fj_buf_data(s);
				for (uint32_t i = 0; i < fj_buf_len(s) && c->nreq < 8; i++)
					c->req[c->nreq++] = p[i];
			}
			fj_buf_free(b);
			continue;
		}
		if (r == FJ_ERROR || (r == FJ_EOF && c->nreq < 8)) {
			finish(f, c, false);
			return;
		}
		break;
	}
	if (c->nreq < 8)
		return;
	c->want = 0;
	for (int i = 7; i >= 0; i--)
		c->want = c->want << 8 | c->req[i];
	while (c->off < c->want) {
		uint32_t len = c->want - c->off < CHUNK ? (uint32_t)(c->want - c->off) : CHUNK;
		b = fj_buf_alloc(stack, len);
		if (b == NULL)
			return; /* no buffers now: again on the next event */
		fill(fj_buf_data(b), c->off, len);
		int rc = fj_flow_write(f, b);
		if (rc == -EAGAIN) {
			fj_buf_free(b); /* the callback comes again with room */
			return;
		}
		if (rc < 0) {
			finish(f, c, false);
			return;
		}
		c->off += len;
	}
	finish(f, c, true); /* we close first */
}

static void
sink(struct fj_flow *f, struct conn *c)
{
	struct fj_buf *b;

	for (;;) {
		switch (fj_flow_read(f, &b)) {
		case FJ_DATA:
			for (struct fj_buf *s = b; s != NULL; s = fj_buf_next(s)) {
				if (fwrite(fj_buf_data(s), 1, fj_buf_len(s), c->out) != fj_buf_len(s)) {
					fj_buf_free(b);
					finish(f, c, false);
					return;
				}
				c->off += fj_buf_len(s);
			}
			fj_buf_free(b);
			break;
		case FJ_AGAIN:
			return;
		case FJ_EOF:
			finish(f, c, true);
			return;
		default:
			finish(f, c, false);
			return;
		}
	}
}

/* Byte @off of the stream: little-endian words K, K+1, ... */
static uint8_t
stream_byte(unsigned long long off)
{
	return (uint8_t)((seed + off / 8) >> (8 * (off % 8)));
}

/* --get: the request once connected, then every byte checked to the end. */
static void
on_get(struct fj_flow *f, void *arg)
{
	struct conn *c = arg;
	struct fj_buf *b;
	bool ok = true;

	if (c->nreq == 0 && fj_flow_error(f) == 0) {
		b = fj_buf_alloc(stack, 8);
		if (b == NULL) {
			fprintf(stderr, "fj-xfer: no buffer for the request\n");
			fj_stack_stop(stack);
			return;
		}
		for (int i = 0; i < 8; i++)
			((uint8_t *)fj_buf_data(b))[i] = (uint8_t)(c->want >> (8 * i));
		if (fj_flow_write(f, b) < 0) {
			fprintf(stderr, "fj-xfer: cannot send the request\n");
			fj_stack_stop(stack);
			return;
		}
		c->nreq = 8;
	}
	for (;;) {
		enum fj_read r = fj_flow_read(f, &b);
		if (r == FJ_AGAIN)
			return;
		if (r == FJ_DATA) {
			for (struct fj_buf *s = b; s != NULL; s = fj_buf_next(s)) {
				const uint8_t *p = fj_buf_data(s);
				for (uint32_t i = 0; i < fj_buf_len(s); i++, c->off++)
					ok = ok && p[i] == stream_byte(c->off);
			}
			fj_buf_free(b);
			if (!ok) {
				printf("get: the stream differs before byte %llu\n", c->off);
				break;
			}
			continue;
		}
		ok = r == FJ_EOF && c->off == c->want;
		if (r == FJ_ERROR)
			printf("get: the connection failed: %s\n", strerror(-fj_flow_error(f)));
		break;
	}
	printf("get %llu bytes %s\n", c->off, ok ? "OK" : "FAILED");
	fflush(stdout);
	get_rc = ok ? 0 : 1;
	fj_flow_close(f);
	fj_stack_stop(stack);
}

static void
on_flow(struct fj_flow *f, void *arg)
{
	struct conn *c = fj_flow_user(f);

	(void)arg;
	if (c == NULL) {
		c = calloc(1, sizeof(*c));
		if (c == NULL) {
			fj_flow_abort(f);
			return;
		}
		if (sink_dir != NULL) {
			snprintf(c->path, sizeof(c->path), "%s/sink-%u", sink_dir, sinks++);
			c->out = fopen(c->path, "wb");
			if (c->out == NULL) {
				fprintf(stderr, "fj-xfer: %s: %s\n", c->path, strerror(errno));
				free(c);
				fj_flow_abort(f);
				return;
			}
		}
		fj_flow_set_user(f, c);
	}
	if (sink_dir != NULL)
		sink(f, c);
	else
		source(f, c);
}

int
main(int argc, char **argv)
{
	unsigned long port = 9;

	stack = fj_stack_from_args(&argc, &argv);
	if (stack == NULL)
		return 1;
	for (int i = 1; i < argc; i++) {
		char *end = NULL;
		if (strcmp(argv[i], "--source") == 0) {
			source_mode = true;
		} else if (strcmp(argv[i], "--sink") == 0 && i + 1 < argc) {
			sink_dir = argv[++i];
		} else if (strcmp(argv[i], "--get") == 0 && i + 2 < argc) {
			get_ip = argv[++i];
			get_size = strtoull(argv[++i], &end, 10);
		} else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
			seed = strtoull(argv[++i], &end, 10);
		} else if (strcmp(argv[i], "--xfer-port") == 0 && i + 1 < argc) {
			port = strtoul(argv[++i], &end, 10);
			if (port == 0 || port > 65535)
				end = NULL;
		} else {
			fprintf(stderr, "fj-xfer: unknown argument %s\n", argv[i]);
			return 2;
		}
		if (end != NULL && *end != '\0') {
			fprintf(stderr, "fj-xfer: bad value for %s\n", argv[i - 1]);
			return 2;
		}
	}
	if ((int)source_mode + (sink_dir != NULL) + (get_ip != NULL) != 1) {
		fprintf(stderr, "fj-xfer: one of --source, --sink DIR or --get IP N\n");
		return 2;
	}
	if (get_ip != NULL) {
		struct in_addr in;
		static struct conn getter;
		struct fj_addr to = { .port = (uint16_t)port };
		if (inet_pton(AF_INET, get_ip, &in) == 1) {
			to.ip = ntohl(in.s_addr);
		} else if (inet_pton(AF_INET6, get_ip, to.ip6) == 1) {
			to.family = FJ_AF_INET6;
		} else {
			fprintf(stderr, "fj-xfer: bad address %s\n", get_ip);
			return 2;
		}
		getter.want = get_size;
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		if (fj_connect_tcp(stack, &to, on_get, &getter) == NULL) {
			fprintf(stderr, "fj-xfer: cannot connect to %s: %s\n", get_ip, strerror(errno));
			return 1;
		}
		int rc = fj_stack_run(stack);
		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		fj_stack_stats_dump(stack, stdout);
		fj_stack_free(stack);
		return rc < 0 ? 1 : get_rc;
	}
	if (fj_listen_tcp(stack, (uint16_t)port, on_flow, NULL) == NULL) {
		fprintf(stderr, "fj-xfer: cannot listen on %lu: %s\n", port, strerror(errno));
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("fj-xfer: serving TCP port %lu (%s)\n", port, fj_stack_backend(stack));
	fflush(stdout);
	int rc = fj_stack_run(stack);
	/* Stopped: a later signal has nothing to stop (the stack is freed below). */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	fj_stack_stats_dump(stack, stdout);
	fj_stack_free(stack);
	return rc < 0 ? 1 : 0;
}
