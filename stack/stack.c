/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The stack object: arguments and configuration, EAL and the chosen
 * backend, the run-to-completion loop with its TSC-driven timers, buffers,
 * and statistics (also served through DPDK telemetry as /fjord/stack).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_telemetry.h>

#include "stack_impl.h"

RTE_LOG_REGISTER_DEFAULT(fj_stack_logtype, NOTICE);

#define NB_MBUFS 8191
#define MBUF_CACHE 256
#define TICK_MS 100

static struct fj_stack *telemetry_stack; /* the process's one direct stack */

/* ------------------------------------------------------ counters */

#define C(f) { #f, offsetof(struct fj_counters, f) }
static const struct {
	const char *name;
	size_t off;
} counter_fields[] = {
	C(rx_frames), C(tx_frames), C(arp_rx), C(arp_tx), C(arp_requests_tx), C(arp_replies_tx),
	C(ip_rx), C(ip_tx), C(icmp_rx), C(icmp_tx), C(icmp_echo_replies), C(icmp_unreach_tx),
	C(udp_rx), C(udp_tx), C(udp_rx_bytes), C(udp_tx_bytes),
	C(tcp_rx), C(tcp_tx), C(tcp_rx_bytes), C(tcp_tx_bytes), C(tcp_passive_opens),
	C(tcp_active_opens),
	C(tcp_established), C(tcp_flows_closed), C(tcp_rst_rx), C(tcp_rst_tx), C(tcp_retransmits),
	C(tcp_fast_retransmits), C(tcp_window_probes), C(tcp_challenge_acks), C(tcp_out_of_window),
	C(tcp_ooo_dropped), C(tcp_syn_dropped), C(tcp_paws_rejected), C(tcp_syncookies_sent),
	C(tcp_syncookies_ok), C(tcp_syncookies_failed), C(tcp_keepalive_probes),
	C(tcp_keepalive_timeouts), C(tcp_sack_recoveries), C(tcp_time_wait_reused),
	C(tcp_state_changes),
	C(loop_cycles), C(loop_busy_cycles),
};
#undef C
#define NFIELDS (sizeof(counter_fields) / sizeof(counter_fields[0]))

static uint64_t
field(const struct fj_stack *s, size_t i)
{
	return *(const uint64_t *)((const char *)&s->c + counter_fields[i].off);
}

static uint64_t
drops_total(const struct fj_stack *s)
{
	uint64_t t = 0;

	for (int d = 1; d < FJ_DROP__COUNT; d++)
		t += s->c.drops[d];
	return t;
}

/* Gauges: what is held right now. */
static uint64_t
gauge(const struct fj_stack *s, int i)
{
	if (i == 0)
		return s->mp ? rte_mempool_in_use_count(s->mp) : 0;
	return s->backend == FJ_NET_DIRECT ? s->tcp.nflows : 0;
}
static const char *const gauge_names[] = { "mbufs_in_use", "tcp_flows" };

uint64_t
fj_stack_counter(struct fj_stack *s, const char *name)
{
	for (size_t i = 0; i < NFIELDS; i++)
		if (strcmp(name, counter_fields[i].name) == 0)
			return field(s, i);
	if (strncmp(name, "drop_", 5) == 0)
		for (int d = 1; d < FJ_DROP__COUNT; d++)
			if (strcmp(name + 5, fj_drop_name((enum fj_drop)d)) == 0)
				return s->c.drops[d];
	if (strcmp(name, "drops") == 0)
		return drops_total(s);
	for (int i = 0; i < 2; i++)
		if (strcmp(name, gauge_names[i]) == 0)
			return gauge(s, i);
	return UINT64_MAX;
}

void
fj_stack_stats_dump(struct fj_stack *s, FILE *out)
{
	for (int i = 0; i < 2; i++)
		fprintf(out, "%s %" PRIu64 "\n", gauge_names[i], gauge(s, i));
	for (size_t i = 0; i < NFIELDS; i++)
		fprintf(out, "%s %" PRIu64 "\n", counter_fields[i].name, field(s, i));
	for (int d = 1; d < FJ_DROP__COUNT; d++)
		fprintf(out, "drop_%s %" PRIu64 "\n", fj_drop_name((enum fj_drop)d), s->c.drops[d]);
}

size_t
fj_stack_stats_line(struct fj_stack *s, char *buf, size_t len)
{
	int n = snprintf(buf, len,
			 "rx %" PRIu64 " tx %" PRIu64 " | arp in %" PRIu64 " out %" PRIu64
			 " | icmp in %" PRIu64 " out %" PRIu64 " | udp in %" PRIu64 " out %" PRIu64
			 " | drops %" PRIu64,
			 s->c.rx_frames, s->c.tx_frames, s->c.arp_rx, s->c.arp_tx, s->c.icmp_rx,
			 s->c.icmp_tx, s->c.udp_rx, s->c.udp_tx, drops_total(s));
	return n < 0 ? 0 : (size_t)n;
}

static int
telemetry_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct fj_stack *s = telemetry_stack;
	char name[64];

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	rte_tel_data_start_dict(d);
	if (s == NULL)
		return 0;
	for (int i = 0; i < 2; i++)
		rte_tel_data_add_dict_u64(d, gauge_names[i], gauge(s, i));
	for (size_t i = 0; i < NFIELDS; i++)
		rte_tel_data_add_dict_u64(d, counter_fields[i].name, field(s, i));
	for (int k = 1; k < FJ_DROP__COUNT; k++) {
		snprintf(name, sizeof(name), "drop_%s", fj_drop_name((enum fj_drop)k));
		rte_tel_data_add_dict_u64(d, name, s->c.drops[k]);
	}
	return 0;
}

/* ------------------------------------------------------ arguments */

void
fj_stack_usage(FILE *out)
{
	fprintf(out,
		"stack arguments (after EAL's, behind --):\n"
		"  --net direct|socket   fjord's stack on a DPDK port (default) or kernel sockets\n"
		"  --ip A.B.C.D/LEN      the stack's address and prefix (direct: required)\n"
		"  --gw A.B.C.D          default gateway (off-link destinations)\n"
		"  --port N              DPDK port to use (default 0)\n"
		"  --mtu N               IP MTU (default 1500)\n"
		"  --promisc             take frames for any MAC address\n"
		"  --no-csum-offload     compute every checksum in software, even where\n"
		"                        the port offers to\n"
		"  --busy-poll           socket backend: spin on epoll instead of sleeping in\n"
		"                        it (the direct backend always polls)\n"
		"  --msl SECONDS         TCP maximum segment lifetime; TIME_WAIT is twice it\n"
		"                        (default 30)\n"
		"  --config FILE         the same as 'key value' lines (ip, gw, net, port, mtu,\n"
		"                        msl, promisc, csum_offload); command-line arguments win\n");
}

struct cfg {
	const char *net;
	char ip[64];
	char gw[64];
	long port, mtu, msl;
	bool promisc, no_csum_offload, busy_poll;
	bool have_ip, have_gw;
};

static int
parse_ipv4(const char *s, uint32_t *out)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -EINVAL;
	*out = ntohl(a.s_addr);
	return 0;
}

static int
cfg_set(struct cfg *c, const char *key, const char *val, const char *where)
{
	char *end;

	if (strcmp(key, "net") == 0) {
		if (strcmp(val, "direct") && strcmp(val, "socket"))
			goto bad;
		c->net = strcmp(val, "direct") == 0 ? "direct" : "socket";
	} else if (strcmp(key, "ip") == 0) {
		if (snprintf(c->ip, sizeof(c->ip), "%s", val) >= (int)sizeof(c->ip))
			goto bad;
		c->have_ip = true;
	} else if (strcmp(key, "gw") == 0) {
		if (snprintf(c->gw, sizeof(c->gw), "%s", val) >= (int)sizeof(c->gw))
			goto bad;
		c->have_gw = true;
	} else if (strcmp(key, "port") == 0) {
		c->port = strtol(val, &end, 10);
		if (*val == '\0' || *end || c->port < 0 || c->port >= RTE_MAX_ETHPORTS)
			goto bad;
	} else if (strcmp(key, "mtu") == 0) {
		c->mtu = strtol(val, &end, 10);
		if (*val == '\0' || *end || c->mtu < 576 || c->mtu > 9000)
			goto bad;
	} else if (strcmp(key, "msl") == 0) {
		c->msl = strtol(val, &end, 10);
		if (*val == '\0' || *end || c->msl < 0 || c->msl > 3600)
			goto bad;
	} else if (strcmp(key, "promisc") == 0) {
		c->promisc = strcmp(val, "0") != 0 && strcmp(val, "no") != 0;
	} else if (strcmp(key, "csum_offload") == 0) {
		c->no_csum_offload = strcmp(val, "0") == 0 || strcmp(val, "no") == 0;
	} else {
		fprintf(stderr, "fjord: %s: unknown setting '%s'\n", where, key);
		return -EINVAL;
	}
	return 0;
bad:
	fprintf(stderr, "fjord: %s: bad value '%s' for %s\n", where, val, key);
	return -EINVAL;
}

static int
cfg_file(struct cfg *c, const char *path)
{
	char line[256], where[300];
	FILE *f = fopen(path, "r");
	int n = 0, rc = 0;

	if (f == NULL) {
		fprintf(stderr, "fjord: cannot read %s: %s\n", path, strerror(errno));
		return -errno;
	}
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		char *k = line, *v, *e, *hash = strchr(line, '#');
		n++;
		if (hash != NULL)
			*hash = '\0'; /* a comment runs to the end of the line */
		while (isspace((unsigned char)*k))
			k++;
		if (*k == '#' || *k == '\0')
			continue;
		v = k;
		while (*v && !isspace((unsigned char)*v) && *v != '=')
			v++;
		if (*v)
			*v++ = '\0';
		while (isspace((unsigned char)*v) || *v == '=')
			v++;
		e = v + strlen(v);
		while (e > v && isspace((unsigned char)e[-1]))
			*--e = '\0';
		snprintf(where, sizeof(where), "%s:%d", path, n);
		rc = cfg_set(c, k, *v ? v : "1", where);
	}
	fclose(f);
	return rc;
}

static int
apply_cfg(struct fj_stack *s, const struct cfg *c)
{
	char ip[64], *slash;
	long len = 32;

	s->port = (uint16_t)c->port;
	s->mtu = (uint16_t)c->mtu;
	s->msl_s = (uint32_t)c->msl;
	s->promisc = c->promisc;
	s->no_csum_offload = c->no_csum_offload;
	s->busy_poll = c->busy_poll;
	if (c->have_ip) {
		snprintf(ip, sizeof(ip), "%s", c->ip);
		slash = strchr(ip, '/');
		if (slash != NULL) {
			char *end;
			*slash = '\0';
			len = strtol(slash + 1, &end, 10);
			if (slash[1] == '\0' || *end || len < 1 || len > 32) {
				fprintf(stderr, "fjord: bad prefix length in --ip %s\n", c->ip);
				return -EINVAL;
			}
		}
		if (parse_ipv4(ip, &s->ip) < 0 || s->ip == 0 || fj_ipv4_is_multicast(s->ip)) {
			fprintf(stderr, "fjord: bad address in --ip %s\n", c->ip);
			return -EINVAL;
		}
		s->mask = len == 32 ? 0xffffffffu : ~(0xffffffffu >> len);
	}
	if (c->have_gw) {
		if (parse_ipv4(c->gw, &s->gw) < 0) {
			fprintf(stderr, "fjord: bad address in --gw %s\n", c->gw);
			return -EINVAL;
		}
		if (c->have_ip && ((s->gw ^ s->ip) & s->mask) != 0) {
			fprintf(stderr, "fjord: gateway %s is not on the link of %s\n", c->gw, c->ip);
			return -EINVAL;
		}
	}
	if (strcmp(c->net, "direct") == 0 && !c->have_ip) {
		fprintf(stderr, "fjord: --net direct needs --ip A.B.C.D/LEN\n");
		return -EINVAL;
	}
	s->backend = strcmp(c->net, "direct") == 0 ? FJ_NET_DIRECT : FJ_NET_SOCKET;
	return 0;
}

/* EAL options that place threads; kept for the socket backend too. */
static bool
eal_placement_opt(const char *a, bool *has_value)
{
	static const char *const with[] = { "-l", "-c", "--lcores", "--main-lcore", "--log-level" };
	for (size_t i = 0; i < sizeof(with) / sizeof(with[0]); i++) {
		size_t n = strlen(with[i]);
		if (strncmp(a, with[i], n) == 0 && (a[n] == '\0' || a[n] == '=')) {
			*has_value = a[n] == '\0';
			return true;
		}
	}
	return false;
}

static int
eal_init_socket(int eal_argc, char **argv)
{
	/* Kernel sockets need no port or hugepages, only EAL memory for the
	 * packet buffers; where the user placed the thread still holds. */
	static char prefix[64];
	snprintf(prefix, sizeof(prefix), "--file-prefix=fjsock%d", (int)getpid());
	char *args[64] = { argv[0], "--no-huge", "-m", "128", "--no-pci", "--no-shconf", prefix,
			   "--no-telemetry", "--log-level=lib.eal:error" };
	int n = 9;

	for (int i = 1; i < eal_argc && n < 62; i++) {
		bool val;
		if (eal_placement_opt(argv[i], &val)) {
			args[n++] = argv[i];
			if (val && i + 1 < eal_argc)
				args[n++] = argv[++i];
		}
	}
	args[n] = NULL;
	return rte_eal_init(n, args);
}

int
fj_stack_setup(struct fj_stack *s)
{
	static unsigned serial;
	char name[RTE_MEMPOOL_NAMESIZE];

	s->icmp_last = fj_now(s);
	s->icmp_tokens = 50;
	s->udp_ports = calloc(65536, sizeof(*s->udp_ports));
	snprintf(name, sizeof(name), "fj_mbufs%u", serial++);
	s->mp = rte_pktmbuf_pool_create(name, NB_MBUFS, MBUF_CACHE, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					(int)rte_socket_id());
	if (s->udp_ports == NULL || s->mp == NULL) {
		fprintf(stderr, "fjord: out of memory for packet buffers\n");
		return -ENOMEM;
	}
	/* RFC 1122 §2.3.2.1: entries time out; used ones are re-asked for by
	 * unicast first. Requests go every second, three times. */
	struct fj_neigh_params np = {
		.reachable = 120 * s->hz, .refresh = 90 * s->hz, .retry = s->hz, .max_tries = 3,
	};
	fj_neigh_init(&s->neigh, &np);
	if (s->backend == FJ_NET_DIRECT && fj_tcp_init(s) < 0) {
		fprintf(stderr, "fjord: out of memory for the TCP tables\n");
		return -ENOMEM;
	}
	return 0;
}

int
fj_stack_parse_addr(struct fj_stack *s, const char *ip, const char *gw)
{
	struct cfg c = { .net = "direct", .port = 0, .mtu = s->mtu ? s->mtu : 1500, .msl = 30 };

	if (ip != NULL && cfg_set(&c, "ip", ip, "test port") < 0)
		return -EINVAL;
	if (gw != NULL && cfg_set(&c, "gw", gw, "test port") < 0)
		return -EINVAL;
	return apply_cfg(s, &c);
}

struct fj_stack *
fj_stack_from_args(int *argcp, char ***argvp)
{
	int argc = *argcp;
	char **argv = *argvp;
	struct cfg c = { .net = "direct", .port = 0, .mtu = 1500, .msl = 30 };
	int eal_argc = argc, rc;
	struct fj_stack *s;
	char **rest;
	int nrest = 1;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			eal_argc = i;
			break;
		}
	rest = calloc((size_t)argc + 1, sizeof(*rest));
	s = calloc(1, sizeof(*s));
	if (rest == NULL || s == NULL)
		goto fail;
	rest[0] = argv[0];
	/* A config file first, so that command-line settings win. */
	for (int i = eal_argc + 1; i < argc; i++)
		if (strcmp(argv[i], "--config") == 0) {
			if (i + 1 >= argc || cfg_file(&c, argv[i + 1]) < 0) {
				if (i + 1 >= argc)
					fprintf(stderr, "fjord: --config needs a file\n");
				goto fail;
			}
		}
	for (int i = eal_argc + 1; i < argc; i++) {
		static const char *const keys[] = { "net", "ip", "gw", "port", "mtu", "msl" };
		const char *a = argv[i];
		bool known = false;

		if (strcmp(a, "--config") == 0) {
			i++;
			continue;
		}
		if (strcmp(a, "--promisc") == 0) {
			c.promisc = true;
			continue;
		}
		if (strcmp(a, "--no-csum-offload") == 0) {
			c.no_csum_offload = true;
			continue;
		}
		if (strcmp(a, "--busy-poll") == 0) {
			c.busy_poll = true;
			continue;
		}
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			if (strncmp(a, "--", 2) == 0 && strcmp(a + 2, keys[k]) == 0) {
				if (i + 1 >= argc) {
					fprintf(stderr, "fjord: %s needs a value\n", a);
					goto fail;
				}
				if (cfg_set(&c, keys[k], argv[++i], "command line") < 0)
					goto fail;
				known = true;
				break;
			}
		}
		if (!known)
			rest[nrest++] = argv[i];
	}
	if (apply_cfg(s, &c) < 0)
		goto fail;

	rc = s->backend == FJ_NET_DIRECT ? rte_eal_init(eal_argc, argv)
					 : eal_init_socket(eal_argc, argv);
	if (rc < 0) {
		fprintf(stderr, "fjord: EAL initialisation failed: %s\n", rte_strerror(rte_errno));
		goto fail;
	}
	s->hz = rte_get_tsc_hz();
	if (fj_stack_setup(s) < 0)
		goto fail_eal;
	if (s->backend == FJ_NET_DIRECT) {
		if (fj_netif_open(s) < 0) {
			fprintf(stderr, "fjord: cannot use port %u\n", s->port);
			goto fail_eal;
		}
		telemetry_stack = s;
		rte_telemetry_register_cmd("/fjord/stack", telemetry_stats,
					   "fjord stack counters. No parameters");
		fj_arp_announce(s);
		fj_netif_flush(s);
	} else if (fj_socket_open(s) < 0) {
		goto fail_eal;
	}
	rest[nrest] = NULL;
	*argcp = nrest;
	*argvp = rest;
	return s;

fail_eal:
	rte_mempool_free(s->mp);
	free(s->udp_ports);
	rte_eal_cleanup();
fail:
	free(rest);
	free(s);
	return NULL;
}

/* ------------------------------------------------------ the loop */

int
fj_stack_every(struct fj_stack *s, double period_s, void (*fn)(struct fj_stack *, void *),
	       void *arg)
{
	if (s->ntimers == FJ_MAX_TIMERS || period_s <= 0 || fn == NULL)
		return -EINVAL;
	struct fj_timer *t = &s->timers[s->ntimers++];
	t->period = (uint64_t)(period_s * (double)s->hz);
	t->next = fj_now(s) + t->period;
	t->fn = fn;
	t->arg = arg;
	return 0;
}

uint64_t
fj_stack_next_timer(struct fj_stack *s)
{
	uint64_t next = UINT64_MAX;

	for (unsigned i = 0; i < s->ntimers; i++)
		next = RTE_MIN(next, s->timers[i].next);
	if (s->backend == FJ_NET_DIRECT)
		next = RTE_MIN(next, s->next_neigh_tick);
	return next;
}

void
fj_stack_timers(struct fj_stack *s, uint64_t now)
{
	if (s->backend == FJ_NET_DIRECT && now >= s->next_neigh_tick) {
		fj_arp_tick(s, now);
		s->next_neigh_tick = now + s->hz * TICK_MS / 1000;
	}
	for (unsigned i = 0; i < s->ntimers; i++) {
		struct fj_timer *t = &s->timers[i];
		if (now >= t->next) {
			t->next = now + t->period;
			t->fn(s, t->arg);
		}
	}
}

static int
direct_run(struct fj_stack *s)
{
	struct rte_mbuf *pkts[FJ_BURST];
	uint64_t next = fj_stack_next_timer(s), prev = fj_now(s);

	while (!s->stop) {
		uint16_t n = rte_eth_rx_burst(s->port, 0, pkts, FJ_BURST);

		for (uint16_t i = 0; i < n; i++) {
			if (i + 1 < n)
				rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
			fj_eth_input(s, pkts[i]);
		}
		uint64_t now = fj_now(s);
		/* TCP's wheel every turn (cheap when nothing is due); the
		 * coarser timers when one is. */
		fj_tcp_timers(s, now);
		if (now >= next) {
			fj_stack_timers(s, now);
			next = fj_stack_next_timer(s);
		}
		/* Everything this turn produced leaves in one burst. */
		fj_netif_flush(s);
		/* A turn that received something was busy (its timers and
		 * flush land in the next turn's share). */
		s->c.loop_cycles += now - prev;
		if (n > 0)
			s->c.loop_busy_cycles += now - prev;
		prev = now;
	}
	return 0;
}

int
fj_stack_run(struct fj_stack *s)
{
	s->stop = false;
	return s->backend == FJ_NET_DIRECT ? direct_run(s) : fj_socket_run(s);
}

void
fj_stack_stop(struct fj_stack *s)
{
	s->stop = true;
}

const char *
fj_stack_backend(const struct fj_stack *s)
{
	return s->backend == FJ_NET_DIRECT ? "direct" : "socket";
}

void
fj_stack_free(struct fj_stack *s)
{
	if (s == NULL)
		return;
	for (uint32_t p = 0; p < 65536; p++)
		if (s->udp_ports[p] != NULL)
			fj_udp_close(s->udp_ports[p]);
	if (s->backend == FJ_NET_DIRECT) {
		void *pkts[FJ_NEIGH_PENDING_MAX];
		for (int i = 0; i < FJ_NEIGH_MAX; i++)
			if (s->neigh.e[i].state != FJ_NEIGH_FREE) {
				unsigned n = fj_neigh_take(&s->neigh, s->neigh.e[i].ip, pkts,
							   FJ_NEIGH_PENDING_MAX);
				for (unsigned k = 0; k < n; k++)
					rte_pktmbuf_free(pkts[k]);
			}
		fj_tcp_fini(s);
		if (s->test_tx == NULL) {
			fj_netif_close(s);
			telemetry_stack = NULL;
		}
	} else {
		fj_socket_close(s);
	}
	rte_mempool_free(s->mp);
	free(s->udp_ports);
	if (s->test_tx != NULL) {
		/* A test port's EAL serves the next one. */
		free(s);
		return;
	}
	/* With --no-shconf EAL leaves its empty runtime directory behind. */
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	bool socket_mode = s->backend == FJ_NET_SOCKET;
	rte_eal_cleanup();
	if (socket_mode)
		rmdir(dir);
	free(s);
}

/* ------------------------------------------------------ buffers */

void *
fj_buf_data(struct fj_buf *b)
{
	return rte_pktmbuf_mtod((struct rte_mbuf *)b, void *);
}

uint32_t
fj_buf_len(const struct fj_buf *b)
{
	return ((const struct rte_mbuf *)b)->data_len;
}

uint32_t
fj_buf_pkt_len(const struct fj_buf *b)
{
	return ((const struct rte_mbuf *)b)->pkt_len;
}

struct fj_buf *
fj_buf_next(struct fj_buf *b)
{
	return (struct fj_buf *)((struct rte_mbuf *)b)->next;
}

struct fj_buf *
fj_buf_alloc(struct fj_stack *s, uint32_t len)
{
	struct rte_mbuf *head = NULL, *tail = NULL;

	if (len > FJ_BUF_MAX)
		return NULL;
	/* One segment when it fits, else a chain of full segments. */
	do {
		struct rte_mbuf *m = rte_pktmbuf_alloc(s->mp);
		if (m == NULL)
			goto fail;
		uint32_t n = RTE_MIN(len, (uint32_t)rte_pktmbuf_tailroom(m));
		rte_pktmbuf_append(m, (uint16_t)n);
		if (head == NULL) {
			head = m;
		} else {
			tail->next = m;
			head->nb_segs++;
			head->pkt_len += n;
		}
		tail = m;
		len -= n;
	} while (len > 0);
	return (struct fj_buf *)head;
fail:
	rte_pktmbuf_free(head);
	return NULL;
}

void
fj_buf_free(struct fj_buf *b)
{
	rte_pktmbuf_free((struct rte_mbuf *)b);
}
