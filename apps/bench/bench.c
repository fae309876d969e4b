/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fjord-bench: a load client on fjord's flow API, so it runs on fjord's
 * stack (--net direct) or on kernel sockets (--net socket) like the server
 * it measures.
 *
 *   --mode echo   closed loop: each of --conns connections (TCP) or flows
 *                 (UDP, one local port each) sends a --size message, waits
 *                 for the whole echo, checks every byte, sends the next
 *   --mode churn  TCP: connect, one --size exchange, close, again
 *   --mode bulk   TCP: write to the discard port (RFC 863) as fast as the
 *                 send buffers take it
 *   --bulk-beside N  with --mode echo over TCP: N more connections write
 *                 64 KiB buffers to the echo port all along and drop what
 *                 comes back, so the server receives and sends bulk flows
 *                 on the shard that serves the measured echo (their Gbit/s
 *                 written in the result)
 *
 * After --warmup seconds, --duration seconds are measured: requests/s (or
 * connections/s, Gbit/s), latency percentiles from a log-linear histogram
 * (about 3 % resolution, fixed size), errors. The last line is
 * "RESULT key=value ...", for scripts.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>

#include "fjord.h"

enum mode { ECHO, CHURN, BULK };

static struct {
	struct fj_stack *s;
	enum mode mode;
	bool udp;
	struct fj_addr server;
	unsigned conns, size, bulk_beside;
	double duration, warmup;
	uint64_t t_start, t_measure, t_end; /* ns */
} B;

/* What each shard measures on its own (no locks); summed at the end. */
struct shard {
	struct fj_stack *s;
	unsigned id;
	bool measuring, done;
	uint64_t requests, errors, bytes, conns_done;
	uint64_t hist[64 * 32];
	uint64_t hist_n;
};
static struct shard *shards;
static unsigned nshards;

/* The calling shard's state: a callback's, or shard 0's before the run. */
#define ME (&shards[fj_shard()])

struct conn {
	unsigned idx;
	unsigned shard;   /* where its callbacks run */
	struct fj_flow *f;
	struct fj_udp *u;
	uint64_t seq;     /* message number */
	uint64_t sent_at; /* ns; 0: not waiting */
	uint32_t got;     /* bytes of the echo so far */
	bool dead;
	bool bulk;        /* writes to the discard port (--mode bulk, --bulk-beside) */
	bool up;          /* connected: its flow has called back */
};

static struct conn *conns;

static uint64_t
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------ histogram */

/* Values below 64 exactly; above, 32 buckets per power of two. */
static unsigned
hbucket(uint64_t v)
{
	if (v < 64)
		return (unsigned)v;
	unsigned lz = 63u - (unsigned)__builtin_clzll(v);
	unsigned b = (lz - 5) * 32 + (unsigned)((v >> (lz - 5)) & 31);
	return b < 64 * 32 ? b : 64 * 32 - 1;
}

static uint64_t
hvalue(unsigned b)
{
	if (b < 64)
		return b;
	unsigned lz = b / 32 + 5;
	return (uint64_t)(32 + b % 32) << (lz - 5);
}

static void
record(uint64_t ns)
{
	struct shard *me = ME;

	if (!me->measuring)
		return;
	me->hist[hbucket(ns)]++;
	me->hist_n++;
	me->requests++;
}

/* Of @t, which holds every shard's sum. */
static double
percentile_us(const struct shard *t, double p)
{
	uint64_t want = (uint64_t)(p * (double)t->hist_n + 0.5), seen = 0;

	if (t->hist_n == 0)
		return 0;
	if (want == 0)
		want = 1;
	for (unsigned b = 0; b < 64 * 32; b++) {
		seen += t->hist[b];
		if (seen >= want)
			return (double)hvalue(b) / 1000.0;
	}
	return 0;
}

/* ------------------------------------------------------ messages */

/*
 * Message @seq of connection @idx is the byte ramp starting at
 * seq * 31 + idx * 7 (mod 256): every message differs from its
 * neighbours, and filling or checking one is a copy or compare from a
 * table, so the load client stays cheap next to the server it measures.
 */
#define SEG_MAX 4096 /* longer than any one segment of a buffer */
static uint8_t ramp[256 + SEG_MAX];

static uint8_t
pattern_base(const struct conn *c)
{
	return (uint8_t)(c->seq * 31u + c->idx * 7u);
}

static struct fj_buf *
message(struct conn *c)
{
	struct fj_buf *b = fj_buf_alloc(ME->s, B.size);
	if (b == NULL)
		return NULL;
	uint32_t k = 0;
	for (struct fj_buf *s = b; s != NULL; s = fj_buf_next(s)) {
		uint32_t len = fj_buf_len(s);
		memcpy(fj_buf_data(s), &ramp[(uint8_t)(pattern_base(c) + k)], len);
		k += len;
	}
	return b;
}

/* Check @len bytes of the echo at offset c->got; false on a mismatch. */
static bool
check(struct conn *c, const uint8_t *p, uint32_t len)
{
	return len <= SEG_MAX &&
	       memcmp(p, &ramp[(uint8_t)(pattern_base(c) + c->got)], len) == 0;
}

static void open_conn(struct conn *c);

static void
conn_failed(struct conn *c)
{
	if (ME->measuring)
		ME->errors++;
	if (c->f != NULL) {
		fj_flow_abort(c->f);
		c->f = NULL;
	}
	c->up = false;
	c->sent_at = 0;
	if (!ME->done)
		open_conn(c);
}

static void
send_next(struct conn *c)
{
	if (ME->done)
		return;
	struct fj_buf *b = message(c);
	if (b == NULL) {
		conn_failed(c);
		return;
	}
	c->got = 0;
	c->sent_at = now_ns();
	if (B.udp) {
		if (fj_udp_send(c->u, b, &B.server) < 0 && ME->measuring)
			ME->errors++; /* the timeout resends */
		return;
	}
	int rc = fj_flow_write(c->f, b);
	if (rc == -EAGAIN) {
		fj_buf_free(b); /* (a message never fills a send buffer) */
		conn_failed(c);
	} else if (rc < 0) {
		conn_failed(c);
	}
}

/* ------------------------------------------------------ TCP */

static bool clock_check(uint64_t now);

#define BESIDE_SIZE 65536 /* the writes of --bulk-beside connections */
#define BESIDE_BURST 1    /* ... one per call, then the echo's turn */

static void
bulk_write(struct conn *c)
{
	/* A sink as fast as the writer may never push back: the clock is
	 * looked at every 64 buffers. Beside an echo flow a call writes a
	 * bounded burst, so the client serves the echo in between (its
	 * replies and the tick call again). */
	for (unsigned n = 1; !ME->done; n++) {
		if (B.mode != BULK && n > BESIDE_BURST)
			return;
		if (n % 64 == 0 && clock_check(now_ns()))
			return;
		uint32_t size = B.mode == BULK ? B.size : BESIDE_SIZE;
		struct fj_buf *b = fj_buf_alloc(ME->s, size);
		if (b == NULL)
			return;
		for (struct fj_buf *s = b; s != NULL; s = fj_buf_next(s))
			memset(fj_buf_data(s), 0x5a, fj_buf_len(s));
		int rc = fj_flow_write(c->f, b);
		if (rc == -EAGAIN) {
			fj_buf_free(b);
			return; /* again when there is room */
		}
		if (rc < 0) {
			conn_failed(c);
			return;
		}
		if (ME->measuring)
			ME->bytes += size;
	}
}

/* The bulk connections beside the echo on the calling shard, a burst each. */
static void
beside_kick(void)
{
	for (unsigned i = B.conns; i < B.conns + B.bulk_beside; i++)
		if (conns[i].shard == ME->id && conns[i].up)
			bulk_write(&conns[i]);
}

static void
on_flow(struct fj_flow *f, void *arg)
{
	struct conn *c = arg;
	struct fj_buf *b;

	if (c->f == NULL)
		c->f = f;
	if (c->bulk) {
		enum fj_read r;
		c->up = true;
		while ((r = fj_flow_read(f, &b)) == FJ_DATA)
			fj_buf_free(b);
		if (r == FJ_ERROR || r == FJ_EOF)
			conn_failed(c);
		else
			bulk_write(c);
		return;
	}
	if (B.bulk_beside)
		beside_kick();
	if (c->sent_at == 0 && c->got == 0) {
		send_next(c); /* connected */
		return;
	}
	for (;;) {
		enum fj_read r = fj_flow_read(f, &b);
		if (r == FJ_AGAIN)
			return;
		if (r != FJ_DATA) {
			conn_failed(c);
			return;
		}
		for (struct fj_buf *s = b; s != NULL; s = fj_buf_next(s)) {
			uint32_t len = fj_buf_len(s);
			if (c->got + len > B.size || !check(c, fj_buf_data(s), len)) {
				fprintf(stderr, "fjord-bench: connection %u: echo differs\n", c->idx);
				fj_buf_free(b);
				conn_failed(c);
				return;
			}
			c->got += len;
		}
		fj_buf_free(b);
		if (c->got < B.size)
			continue;
		record(now_ns() - c->sent_at);
		c->seq++;
		if (B.mode == CHURN) {
			if (ME->measuring)
				ME->conns_done++;
			fj_flow_close(f);
			c->f = NULL;
			c->sent_at = 0;
			c->got = 0;
			if (!ME->done)
				open_conn(c);
			return;
		}
		send_next(c);
		if (c->f == NULL)
			return;
	}
}

static void
open_conn(struct conn *c)
{
	c->up = false;
	c->got = 0;
	c->sent_at = 0;
	c->f = fj_connect_tcp(shards[c->shard].s, &B.server, on_flow, c);
	if (c->f == NULL) {
		if (ME->measuring)
			ME->errors++;
		c->dead = true; /* retried by the tick */
	}
}

/* ------------------------------------------------------ UDP */

static void
on_datagram(struct fj_udp *u, struct fj_buf *b, const struct fj_addr *from, void *arg)
{
	struct conn *c = arg;

	(void)u;
	(void)from;
	c->got = 0;
	bool ok = c->sent_at != 0 && fj_buf_pkt_len(b) == B.size;
	for (struct fj_buf *s = b; ok && s != NULL; s = fj_buf_next(s)) {
		ok = check(c, fj_buf_data(s), fj_buf_len(s));
		c->got += fj_buf_len(s);
	}
	fj_buf_free(b);
	if (!ok)
		return; /* a late or foreign datagram: the timeout deals with it */
	record(now_ns() - c->sent_at);
	c->seq++;
	send_next(c);
}

/* ------------------------------------------------------ the run */

/* Warm-up over, or the run (the calling shard's view): true when it is
 * done. The first shard done stops them all. */
static bool
clock_check(uint64_t now)
{
	struct shard *me = ME;

	if (!me->measuring && now >= B.t_measure)
		me->measuring = true;
	if (!me->done && now >= B.t_end) {
		me->done = true;
		me->measuring = false;
		fj_stack_stop(B.s);
	}
	return me->done;
}

/* Every 10 ms on each shard: its connections' retries and UDP timeouts. */
static void
tick(struct fj_stack *s, void *arg)
{
	struct shard *me = arg;
	uint64_t now = now_ns();

	(void)s;
	if (clock_check(now))
		return;
	for (unsigned i = 0; i < B.conns + B.bulk_beside; i++) {
		struct conn *c = &conns[i];
		if (c->shard != me->id)
			continue;
		if (c->dead) {
			c->dead = false;
			open_conn(c);
		} else if (c->bulk && c->up && B.mode != BULK) {
			bulk_write(c);
		} else if (B.udp && c->sent_at != 0 && now - c->sent_at > 200000000u) {
			/* A datagram or its echo was lost: count it, go on. */
			if (me->measuring)
				me->errors++;
			c->seq++;
			send_next(c);
		}
	}
}

static void
on_signal(int sig)
{
	(void)sig;
	fj_stack_stop(B.s);
}

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: fjord-bench [EAL arguments] -- [stack arguments] --server IP[:PORT]\n"
		"         [--mode echo|churn|bulk] [--proto tcp|udp] [--conns N] [--size BYTES]\n"
		"         [--duration S] [--warmup S] [--bulk-beside N]\n"
		"  echo: closed-loop requests (TCP or UDP, port 7 unless given); churn: a\n"
		"  connection per request (TCP); bulk: one way to the discard port (9);\n"
		"  --bulk-beside N: TCP echo with N bulk connections echoed beside it\n\n");
	fj_stack_usage(out);
}

static bool
parse_server(const char *arg, struct fj_addr *a)
{
	char ip[64];
	const char *colon = strchr(arg, ':');
	size_t n = colon ? (size_t)(colon - arg) : strlen(arg);
	struct in_addr in;

	if (n >= sizeof(ip))
		return false;
	memcpy(ip, arg, n);
	ip[n] = 0;
	if (inet_pton(AF_INET, ip, &in) != 1)
		return false;
	a->ip = ntohl(in.s_addr);
	a->port = 0;
	if (colon) {
		char *end;
		unsigned long p = strtoul(colon + 1, &end, 10);
		if (*end || p == 0 || p > 65535)
			return false;
		a->port = (uint16_t)p;
	}
	return true;
}

int
main(int argc, char **argv)
{
	const char *mode = "echo", *proto = "tcp", *server = NULL;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		}
	for (unsigned i = 0; i < sizeof(ramp); i++)
		ramp[i] = (uint8_t)i;
	B.conns = 1;
	B.size = 64;
	B.duration = 5;
	B.warmup = 1;
	B.s = fj_stack_from_args(&argc, &argv);
	if (B.s == NULL)
		return 1;
	for (int i = 1; i < argc; i += 2) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end = NULL;
		bool ok = v != NULL;
		if (ok && strcmp(a, "--mode") == 0)
			mode = v;
		else if (ok && strcmp(a, "--proto") == 0)
			proto = v;
		else if (ok && strcmp(a, "--server") == 0)
			server = v;
		else if (ok && strcmp(a, "--conns") == 0)
			B.conns = (unsigned)strtoul(v, &end, 10), ok = *end == 0 && B.conns >= 1 && B.conns <= 10000;
		else if (ok && strcmp(a, "--size") == 0)
			B.size = (unsigned)strtoul(v, &end, 10), ok = *end == 0 && B.size >= 1 && B.size <= FJ_BUF_MAX;
		else if (ok && strcmp(a, "--duration") == 0)
			B.duration = strtod(v, &end), ok = *end == 0 && B.duration > 0 && B.duration <= 3600;
		else if (ok && strcmp(a, "--bulk-beside") == 0)
			B.bulk_beside = (unsigned)strtoul(v, &end, 10), ok = *end == 0 && B.bulk_beside <= 64;
		else if (ok && strcmp(a, "--warmup") == 0)
			B.warmup = strtod(v, &end), ok = *end == 0 && B.warmup >= 0 && B.warmup <= 600;
		else
			ok = false;
		if (!ok) {
			fprintf(stderr, "fjord-bench: bad or unknown argument '%s' (see --help)\n", a);
			return 2;
		}
	}
	if (strcmp(mode, "echo") == 0)
		B.mode = ECHO;
	else if (strcmp(mode, "churn") == 0)
		B.mode = CHURN;
	else if (strcmp(mode, "bulk") == 0)
		B.mode = BULK;
	else
		server = NULL;
	B.udp = strcmp(proto, "udp") == 0;
	if (server == NULL || !parse_server(server, &B.server) ||
	    (!B.udp && strcmp(proto, "tcp") != 0) || (B.udp && (B.mode != ECHO || B.size > 1472)) ||
	    (B.bulk_beside && (B.udp || B.mode != ECHO))) {
		fprintf(stderr, "fjord-bench: needs --server IP[:PORT], --mode echo|churn|bulk, "
				"--proto tcp|udp (udp: echo only, --size up to 1472; --bulk-beside: "
				"TCP echo only)\n");
		return 2;
	}
	if (B.server.port == 0)
		B.server.port = B.mode == BULK ? 9 : 7;
	conns = calloc(B.conns + B.bulk_beside, sizeof(*conns));
	if (conns == NULL)
		return 1;
	B.t_start = now_ns();
	B.t_measure = B.t_start + (uint64_t)(B.warmup * 1e9);
	B.t_end = B.t_measure + (uint64_t)(B.duration * 1e9);
	nshards = fj_stack_shards(B.s);
	shards = calloc(nshards, sizeof(*shards));
	if (shards == NULL)
		return 1;
	for (unsigned k = 0; k < nshards; k++) {
		shards[k].s = fj_stack_shard(B.s, k);
		shards[k].id = k;
		shards[k].measuring = B.warmup == 0;
		fj_stack_every(shards[k].s, 0.01, tick, &shards[k]);
	}
	/* Connections spread over the shards; a UDP flow is where its replies
	 * arrive (the stack says which shard that is). */
	for (unsigned i = 0; i < B.conns + B.bulk_beside; i++) {
		struct conn *c = &conns[i];
		c->idx = i;
		c->shard = i % nshards;
		c->bulk = B.mode == BULK || i >= B.conns;
		if (B.udp) {
			uint16_t port = (uint16_t)(20000 + i);
			c->shard = fj_stack_shard_of(B.s, port, &B.server);
			c->u = fj_udp_bind(B.s, port, on_datagram, c);
			if (c->u == NULL) {
				fprintf(stderr, "fjord-bench: cannot bind UDP port %u: %s\n", 20000 + i,
					strerror(errno));
				return 1;
			}
			send_next(c);
		} else {
			open_conn(c);
		}
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	int rc = fj_stack_run(B.s);
	/* Stopped: a later signal has nothing to stop (the stack is freed below). */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	uint64_t stopped = now_ns();
	struct shard *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return 1;
	for (unsigned k = 0; k < nshards; k++) {
		t->requests += shards[k].requests;
		t->errors += shards[k].errors;
		t->bytes += shards[k].bytes;
		t->conns_done += shards[k].conns_done;
		t->hist_n += shards[k].hist_n;
		for (unsigned b = 0; b < 64 * 32; b++)
			t->hist[b] += shards[k].hist[b];
	}
	double secs = (double)((stopped < B.t_end ? stopped : B.t_end) - B.t_measure) / 1e9;
	if (stopped <= B.t_measure || secs <= 0)
		secs = 1e-9;
	double rate = (double)(B.mode == CHURN ? t->conns_done : t->requests) / secs;
	printf("RESULT backend=%s mode=%s proto=%s conns=%u size=%u seconds=%.2f rate=%.0f "
	       "gbps=%.3f p50_us=%.1f p90_us=%.1f p99_us=%.1f p999_us=%.1f errors=%" PRIu64
	       " shards=%u\n",
	       fj_stack_backend(B.s), mode, proto, B.conns, B.size, secs, rate,
	       (double)t->bytes * 8 / secs / 1e9, percentile_us(t, 0.5), percentile_us(t, 0.9),
	       percentile_us(t, 0.99), percentile_us(t, 0.999), t->errors, nshards);
	printf("fjord-bench: final counters:\n");
	fj_stack_stats_dump(B.s, stdout);
	fflush(stdout);
	for (unsigned i = 0; i < B.conns + B.bulk_beside; i++)
		if (conns[i].f != NULL)
			fj_flow_abort(conns[i].f);
	free(conns);
	free(shards);
	free(t);
	fj_stack_free(B.s);
	return rc < 0 ? 1 : 0;
}
