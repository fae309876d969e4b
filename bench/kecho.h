/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fjord-kernel-echo: what its threads share. Each thread owns its
 * sockets (SO_REUSEPORT), its epoll set or io_uring and its counters;
 * nothing is shared between threads but the stop flag.
 */
#ifndef KECHO_H
#define KECHO_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define KECHO_MAX_THREADS 64

enum kecho_mode { MODE_EPOLL, MODE_EPOLL_BUSY, MODE_URING };

struct kecho_opts {
	enum kecho_mode mode;
	uint16_t port, discard_port;
	unsigned threads;
	int cpus[KECHO_MAX_THREADS];
	int sock_busy_poll_us; /* SO_BUSY_POLL on every socket; 0: off */
	bool prefer_busy_poll;  /* SO_PREFER_BUSY_POLL */
	bool uring_busy;        /* uring: spin on the completion queue */
	bool uring_udp_single;  /* uring: one recvmsg at a time, not multishot */
};

/* One thread's counters; requests are datagrams echoed and TCP reads
 * with data on the echo port. */
struct kecho_stats {
	uint64_t requests, bytes, accepts, closes;
	uint64_t errors, enobufs, resets;
	uint64_t busy_cycles; /* spinning modes: turns that found work (TSC) */
	uint64_t cpu_ns;      /* getrusage(RUSAGE_THREAD) utime + stime at exit */
};

struct kecho_thread {
	unsigned idx;
	int cpu;
	const struct kecho_opts *o;
	int udp, tcp, discard; /* this thread's sockets */
	int stop_fd;           /* an eventfd, readable once stopping */
	struct kecho_stats st;
	int rc; /* 0, or why the thread could not start or went on */
};

extern atomic_bool kecho_stop;

/* kernel_echo.c: the thread has its sockets and is about to serve. */
void kecho_ready(struct kecho_thread *t);
/* Errors on a connection or datagram: counted, never fatal. */
void kecho_count_errno(struct kecho_stats *st, int err);
void kecho_set_nodelay(int fd);
void kecho_busy_poll_opts(const struct kecho_opts *o, int fd);

int kecho_run_epoll(struct kecho_thread *t);
int kecho_run_uring(struct kecho_thread *t);

#endif
