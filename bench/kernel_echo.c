/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fjord-kernel-echo: the same service as fjord-echo (RFC 862 echo on UDP
 * and TCP --port, RFC 863 discard on TCP --discard-port) written as fast
 * as kernel sockets allow, as the baseline fjord is measured against.
 *
 *   --mode epoll       level-triggered epoll, non-blocking sockets,
 *                      recvmmsg/sendmmsg for datagrams
 *   --mode epoll-busy  the same, spinning on epoll_wait with timeout 0
 *   --mode uring       io_uring: multishot accept, multishot recv and
 *                      recvmsg into provided buffer rings, send from them
 *
 * --threads N threads, thread i pinned to the i-th CPU of --cpus, each with
 * its own sockets (SO_REUSEPORT) and epoll set or ring. On SIGINT/SIGTERM
 * it prints per thread and in total, one "key value" a line:
 * cpu_ns (getrusage RUSAGE_THREAD user + system), busy_ns (spinning modes:
 * the turns that found work), requests, bytes, errors.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <x86intrin.h>

#include "kecho.h"

atomic_bool kecho_stop;
static atomic_uint ready_threads;

static uint64_t
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The TSC's rate against CLOCK_MONOTONIC over @ms milliseconds. */
static double
tsc_hz(unsigned ms)
{
	uint64_t t0 = now_ns(), c0 = __rdtsc();
	struct timespec d = { .tv_sec = 0, .tv_nsec = (long)ms * 1000000 };
	nanosleep(&d, NULL);
	uint64_t t1 = now_ns(), c1 = __rdtsc();
	return (double)(c1 - c0) * 1e9 / (double)(t1 - t0);
}

/* ------------------------------------------------------ arguments */

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: fjord-kernel-echo [--mode epoll|epoll-busy|uring] [--threads N] [--cpus LIST]\n"
		"         [--port N] [--discard-port N] [--sock-busy-poll US] [--prefer-busy-poll]\n"
		"         [--uring-busy] [--uring-udp-single]\n"
		"       fjord-kernel-echo --tsc-hz\n"
		"  echo on UDP and TCP --port (7), discard on TCP --discard-port (9), on kernel\n"
		"  sockets; N threads (1), thread i pinned to the i-th CPU of LIST (0,1,...,N-1;\n"
		"  ranges as 0-3), each with its own SO_REUSEPORT sockets. --sock-busy-poll sets\n"
		"  SO_BUSY_POLL on every socket, --prefer-busy-poll SO_PREFER_BUSY_POLL;\n"
		"  --uring-busy spins on the completion queue instead of waiting;\n"
		"  --uring-udp-single receives datagrams one recvmsg at a time (what the\n"
		"  uring mode falls back to without multishot recvmsg).\n"
		"  At exit (SIGINT, SIGTERM): cpu_ns, busy_ns, requests, bytes, errors per\n"
		"  thread and in total. --tsc-hz prints the TSC's rate and exits.\n");
}

static bool
parse_uint(const char *v, unsigned long max, unsigned long *out)
{
	char *end;
	if (v == NULL || *v < '0' || *v > '9')
		return false;
	errno = 0;
	*out = strtoul(v, &end, 10);
	return errno == 0 && *end == 0 && *out <= max;
}

/* "0,2-3" into @cpus; the count of CPUs, or -1. */
static int
parse_cpus(const char *v, int *cpus)
{
	int n = 0;
	char buf[256], *save = NULL;

	if (v == NULL || strlen(v) >= sizeof(buf))
		return -1;
	strcpy(buf, v);
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *dash = strchr(tok, '-');
		unsigned long lo, hi;
		if (dash)
			*dash = 0;
		if (!parse_uint(tok, CPU_SETSIZE - 1, &lo) ||
		    !parse_uint(dash ? dash + 1 : tok, CPU_SETSIZE - 1, &hi) || hi < lo)
			return -1;
		for (unsigned long c = lo; c <= hi; c++) {
			if (n == KECHO_MAX_THREADS)
				return -1;
			cpus[n++] = (int)c;
		}
	}
	return n;
}

static bool
parse_mode(const char *v, enum kecho_mode *m)
{
	if (v == NULL)
		return false;
	if (strcmp(v, "epoll") == 0)
		*m = MODE_EPOLL;
	else if (strcmp(v, "epoll-busy") == 0)
		*m = MODE_EPOLL_BUSY;
	else if (strcmp(v, "uring") == 0)
		*m = MODE_URING;
	else
		return false;
	return true;
}

/* One option and its value; false on anything wrong. */
static bool
parse_opt(struct kecho_opts *o, const char *a, const char *v, int *ncpus, int *used)
{
	unsigned long x;

	*used = 2;
	if (strcmp(a, "--mode") == 0)
		return parse_mode(v, &o->mode);
	if (strcmp(a, "--threads") == 0 && parse_uint(v, KECHO_MAX_THREADS, &x) && x >= 1)
		return o->threads = (unsigned)x, true;
	if (strcmp(a, "--cpus") == 0)
		return (*ncpus = parse_cpus(v, o->cpus)) > 0;
	if (strcmp(a, "--port") == 0 && parse_uint(v, 65535, &x) && x >= 1)
		return o->port = (uint16_t)x, true;
	if (strcmp(a, "--discard-port") == 0 && parse_uint(v, 65535, &x) && x >= 1)
		return o->discard_port = (uint16_t)x, true;
	if (strcmp(a, "--sock-busy-poll") == 0 && parse_uint(v, 1000000, &x))
		return o->sock_busy_poll_us = (int)x, true;
	*used = 1;
	if (strcmp(a, "--prefer-busy-poll") == 0)
		return o->prefer_busy_poll = true, true;
	if (strcmp(a, "--uring-busy") == 0)
		return o->uring_busy = true, true;
	if (strcmp(a, "--uring-udp-single") == 0)
		return o->uring_udp_single = true, true;
	return false;
}

/* 0, or the exit code after a message: 2 for bad arguments. */
static int
parse_args(int argc, char **argv, struct kecho_opts *o)
{
	int ncpus = 0;

	*o = (struct kecho_opts){ .mode = MODE_EPOLL, .port = 7, .discard_port = 9, .threads = 1 };
	for (int i = 1, used; i < argc; i += used) {
		if (!parse_opt(o, argv[i], i + 1 < argc ? argv[i + 1] : NULL, &ncpus, &used)) {
			fprintf(stderr, "fjord-kernel-echo: bad or unknown argument '%s'%s%s%s "
					"(see --help)\n", argv[i], i + 1 < argc ? " '" : "",
				i + 1 < argc ? argv[i + 1] : "", i + 1 < argc ? "'" : "");
			return 2;
		}
	}
	if (ncpus == 0)
		for (unsigned i = 0; i < o->threads; i++)
			o->cpus[i] = (int)i;
	else if ((unsigned)ncpus < o->threads) {
		fprintf(stderr, "fjord-kernel-echo: --cpus names %d CPUs for %u threads\n", ncpus,
			o->threads);
		return 2;
	}
	if (o->port == o->discard_port) {
		fprintf(stderr, "fjord-kernel-echo: --port and --discard-port must differ\n");
		return 2;
	}
	return 0;
}

/* ------------------------------------------------------ sockets */

void
kecho_count_errno(struct kecho_stats *st, int err)
{
	if (err == ENOBUFS || err == ENOMEM)
		st->enobufs++;
	else if (err == ECONNRESET || err == EPIPE || err == ETIMEDOUT)
		st->resets++;
	else
		st->errors++;
}

void
kecho_set_nodelay(int fd)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

void
kecho_busy_poll_opts(const struct kecho_opts *o, int fd)
{
	int one = 1;
	if (o->sock_busy_poll_us > 0)
		setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL, &o->sock_busy_poll_us, sizeof(int));
	if (o->prefer_busy_poll)
		setsockopt(fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &one, sizeof(one));
}

/* A non-blocking SO_REUSEPORT socket bound to INADDR_ANY:@port, or -1. */
static int
bound_socket(const struct kecho_opts *o, int type, uint16_t port)
{
	int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_ANY) };

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 4096) < 0)) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (type == SOCK_DGRAM) {
		int sz = 4 << 20;
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	}
	kecho_busy_poll_opts(o, fd);
	return fd;
}

static int
open_sockets(struct kecho_thread *t)
{
	const struct kecho_opts *o = t->o;
	const char *what = "UDP";

	t->udp = bound_socket(o, SOCK_DGRAM, o->port);
	if (t->udp >= 0) {
		what = "TCP";
		t->tcp = bound_socket(o, SOCK_STREAM, o->port);
	}
	if (t->udp >= 0 && t->tcp >= 0)
		t->discard = bound_socket(o, SOCK_STREAM, o->discard_port);
	if (t->udp < 0 || t->tcp < 0 || t->discard < 0) {
		fprintf(stderr, "fjord-kernel-echo: thread %u: cannot bind %s port %u: %s\n", t->idx,
			what, t->tcp < 0 ? o->port : o->discard_port, strerror(errno));
		return -1;
	}
	return 0;
}

static void
close_sockets(struct kecho_thread *t)
{
	int *fds[] = { &t->udp, &t->tcp, &t->discard };
	for (unsigned i = 0; i < 3; i++)
		if (*fds[i] >= 0) {
			close(*fds[i]);
			*fds[i] = -1;
		}
}

/* ------------------------------------------------------ threads */

void
kecho_ready(struct kecho_thread *t)
{
	(void)t;
	atomic_fetch_add(&ready_threads, 1);
}

static uint64_t
thread_cpu_ns(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_THREAD, &ru) < 0)
		return 0;
	return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000u +
	       ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000u;
}

static void *
worker(void *arg)
{
	struct kecho_thread *t = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(t->cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0) {
		fprintf(stderr, "fjord-kernel-echo: thread %u: cannot pin to CPU %d\n", t->idx, t->cpu);
		t->rc = -1;
	} else if (open_sockets(t) == 0) {
		t->rc = t->o->mode == MODE_URING ? kecho_run_uring(t) : kecho_run_epoll(t);
	} else {
		t->rc = -1;
	}
	close_sockets(t);
	t->st.cpu_ns = thread_cpu_ns();
	if (t->rc != 0)
		atomic_store(&kecho_stop, true); /* the others stop too */
	return NULL;
}

static const char *
mode_name(enum kecho_mode m)
{
	return m == MODE_EPOLL ? "epoll" : m == MODE_EPOLL_BUSY ? "epoll-busy" : "uring";
}

static void
print_stats(const char *pre, const struct kecho_stats *s, double hz)
{
	printf("%scpu_ns %" PRIu64 "\n%sbusy_ns %.0f\n%srequests %" PRIu64 "\n%sbytes %" PRIu64
	       "\n%saccepts %" PRIu64 "\n%serrors %" PRIu64 "\n%senobufs %" PRIu64 "\n%sresets %"
	       PRIu64 "\n", pre, s->cpu_ns, pre, (double)s->busy_cycles * 1e9 / hz, pre,
	       s->requests, pre, s->bytes, pre, s->accepts, pre, s->errors, pre, s->enobufs, pre,
	       s->resets);
}

/* Per thread ("thread I key value") and the totals ("key value"). */
static void
report(const struct kecho_thread *t, unsigned n, double hz)
{
	struct kecho_stats tot = { 0 };
	char pre[32];

	for (unsigned i = 0; i < n; i++) {
		const struct kecho_stats *s = &t[i].st;
		snprintf(pre, sizeof(pre), "thread %u ", i);
		printf("thread %u cpu %d\n", i, t[i].cpu);
		print_stats(pre, s, hz);
		tot.cpu_ns += s->cpu_ns, tot.busy_cycles += s->busy_cycles;
		tot.requests += s->requests, tot.bytes += s->bytes, tot.accepts += s->accepts;
		tot.errors += s->errors, tot.enobufs += s->enobufs, tot.resets += s->resets;
	}
	print_stats("", &tot, hz);
	fflush(stdout);
}

/* Wait for SIGINT/SIGTERM (blocked in every thread) or a thread's failure. */
static void
wait_for_stop(const sigset_t *sigs)
{
	struct timespec tick = { .tv_sec = 0, .tv_nsec = 100000000 };
	while (!atomic_load(&kecho_stop)) {
		if (sigtimedwait(sigs, NULL, &tick) > 0)
			atomic_store(&kecho_stop, true);
	}
}

static int
serve(const struct kecho_opts *o)
{
	static struct kecho_thread t[KECHO_MAX_THREADS];
	pthread_t th[KECHO_MAX_THREADS];
	sigset_t sigs;
	int stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), rc = 0;
	double hz = tsc_hz(20);

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	if (stop_fd < 0) {
		perror("fjord-kernel-echo: eventfd");
		return 1;
	}
	unsigned started = 0;
	for (; started < o->threads; started++) {
		t[started] = (struct kecho_thread){ .idx = started, .cpu = o->cpus[started], .o = o,
						   .udp = -1, .tcp = -1, .discard = -1,
						   .stop_fd = stop_fd };
		if (pthread_create(&th[started], NULL, worker, &t[started]) != 0) {
			fprintf(stderr, "fjord-kernel-echo: cannot start thread %u\n", started);
			atomic_store(&kecho_stop, true);
			rc = 1;
			break;
		}
	}
	while (!atomic_load(&kecho_stop) && atomic_load(&ready_threads) < o->threads)
		usleep(1000);
	if (!atomic_load(&kecho_stop)) {
		printf("fjord-kernel-echo: mode %s, %u thread(s) on CPUs", mode_name(o->mode),
		       o->threads);
		for (unsigned i = 0; i < o->threads; i++)
			printf("%s%d", i ? "," : " ", o->cpus[i]);
		printf("; serving UDP port %u, TCP ports %u (echo) and %u (discard)\n", o->port,
		       o->port, o->discard_port);
		fflush(stdout);
	}
	wait_for_stop(&sigs);
	uint64_t one = 1;
	if (write(stop_fd, &one, sizeof(one)) < 0)
		perror("fjord-kernel-echo: eventfd write");
	for (unsigned i = 0; i < started; i++) {
		pthread_join(th[i], NULL);
		if (t[i].rc != 0)
			rc = 1;
	}
	close(stop_fd);
	report(t, started, hz);
	return rc;
}

int
main(int argc, char **argv)
{
	struct kecho_opts o;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(argv[i], "--tsc-hz") == 0 && argc == 2) {
			printf("tsc_hz %.0f\n", tsc_hz(200));
			return 0;
		}
	}
	int rc = parse_args(argc, argv, &o);
	if (rc != 0)
		return rc;
	return serve(&o);
}
