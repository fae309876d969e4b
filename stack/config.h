/* SPDX-License-Identifier: BSD-3-Clause */
/* The stack's settings on their way from arguments or a file (config.c). */
#ifndef FJ_CONFIG_H
#define FJ_CONFIG_H

#include <stdbool.h>

struct fj_stack;

/* What one flow may send in one loop turn by default (--turn-bytes). */
#define FJ_TURN_BYTES_DEFAULT (128 * 1024)
#define FJ_PCAP_SNAPLEN_DEFAULT 2176 /* as dpdk-dumpcap's */
/* How much of one TCP flow's data may wait in the port's transmit queue by
 * default (--flow-queue-bytes): as much as one TSO segment; measured on
 * fjord's PMD to DPDK's vhost library, no slower for one bulk flow than no
 * limit, and an echo beside a bulk flow waits a third as long. */
#define FJ_FLOW_QUEUE_BYTES_DEFAULT (64 * 1024)

#define FJ_CFG_IP6_MAX 4 /* --ip6 given at most (stack.h: FJ_IP6_ARGS) */

struct fj_cfg {
	const char *net;
	const char *steer; /* auto, software, rss */
	char ip[64];
	char gw[64];
	char ip6[FJ_CFG_IP6_MAX][64];
	unsigned nip6;
	char gw6[64];
	bool have_gw6;
	long port, mtu, msl, turn_bytes, flow_queue_bytes, dad_transmits, pcap_snaplen;
	char pcap[256];
	char kernel_exception[16];
	bool promisc, no_csum_offload, busy_poll, idle_yield, no_tso, no_lro, no_gro;
	bool have_ip, have_gw;
};

#define FJ_CFG_DEFAULTS { .net = "direct", .steer = "auto", .port = 0, .mtu = 1500, .msl = 30, \
			 .dad_transmits = 1, .pcap_snaplen = FJ_PCAP_SNAPLEN_DEFAULT, \
			 .turn_bytes = FJ_TURN_BYTES_DEFAULT, \
			 .flow_queue_bytes = FJ_FLOW_QUEUE_BYTES_DEFAULT }

/* One setting; @where names its origin in the error line. */
int fj_cfg_set(struct fj_cfg *c, const char *key, const char *val, const char *where);
/* The settings of a file of `key value` lines. */
int fj_cfg_file(struct fj_cfg *c, const char *path);
/*
 * The stack's arguments argv[@first..argc-1] (after EAL's `--`): a config
 * file first, so that the command line wins. What the stack does not know
 * goes to @rest (argv[0] first, NULL-terminated); returns how many, or
 * -EINVAL after an error line.
 */
int fj_cfg_args(struct fj_cfg *c, int argc, char **argv, int first, char **rest);
/* Check the settings together and put them into @s (backend, addresses). */
int fj_cfg_apply(struct fj_stack *s, const struct fj_cfg *c);

#endif
