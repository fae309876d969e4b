/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fj-pingpong: how long one cache line takes to go from one CPU to another
 * and back, in nanoseconds (the median of several batches). On a shared
 * virtual machine this moves with where the host places the two vCPUs, and
 * every packet rate between two cores moves with it, so a benchmark runs it
 * before each measurement window to tell which phase the window ran in.
 *
 *   fj-pingpong [CPU_A CPU_B [ROUND_TRIPS]]     (defaults 0 1 20000)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define BATCHES 7

static _Alignas(64) _Atomic unsigned long line;
static long trips = 20000;

static int
pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* The other side: answers every odd value with the next even one. */
static void *
echo(void *arg)
{
	if (pin(*(int *)arg) != 0)
		fprintf(stderr, "fj-pingpong: cannot pin to CPU %d; answering unpinned\n",
			*(int *)arg);
	for (long i = 0; i < BATCHES * trips; i++) {
		unsigned long want = 2 * (unsigned long)i + 1;
		while (atomic_load_explicit(&line, memory_order_acquire) != want)
			;
		atomic_store_explicit(&line, want + 1, memory_order_release);
	}
	return NULL;
}

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	int a = argc > 2 ? atoi(argv[1]) : 0, b = argc > 2 ? atoi(argv[2]) : 1;
	double ns[BATCHES];
	pthread_t t;

	if (argc > 3)
		trips = atol(argv[3]);
	if (trips < 1 || trips > 10000000) {
		fprintf(stderr, "fj-pingpong: ROUND_TRIPS must be 1..10000000\n");
		return 2;
	}
	if (pin(a) != 0 || pthread_create(&t, NULL, echo, &b) != 0) {
		fprintf(stderr, "fj-pingpong: cannot run on CPUs %d and %d\n", a, b);
		return 1;
	}
	unsigned long v = 0;
	for (int k = 0; k < BATCHES; k++) {
		double t0 = now_ns();
		for (long i = 0; i < trips; i++) {
			atomic_store_explicit(&line, ++v, memory_order_release);
			/* The echo thread always answers (pinned or not). */
			while (atomic_load_explicit(&line, memory_order_acquire) != v + 1)
				;
			v++;
		}
		ns[k] = (now_ns() - t0) / (double)trips;
	}
	pthread_join(t, NULL);
	qsort(ns, BATCHES, sizeof(ns[0]), cmp);
	printf("%.1f\n", ns[BATCHES / 2]);
	return 0;
}
