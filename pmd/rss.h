/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Receive-side scaling (VIRTIO 1.2 §5.1.6.5.7): the device's limits, the
 * configuration the driver keeps and its wire encoding as struct
 * virtio_net_rss_config. Pure: no DPDK, so the encoding is tested alone;
 * the ethdev side (rte_eth RSS flags, the RETA API) is in ethdev_rss.c.
 */
#ifndef FJ_RSS_H
#define FJ_RSS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio_spec.h"

#define VIRTIO_NET_CTRL_MQ_RSS_CONFIG 1

/*
 * The device MUST offer keys of at least 40 bytes and an indirection
 * table of at least 128 entries (§5.1.4.1); fjord needs the 40 bytes of
 * its default key, and keeps at most FJ_RSS_RETA_MAX table entries.
 */
#define FJ_RSS_KEY_LEN  40
#define FJ_RSS_KEY_MAX  255
#define FJ_RSS_RETA_MAX 512

/* The device's limits, from its configuration space (§5.1.4). */
struct fj_rss_caps {
	uint8_t max_key;     /* rss_max_key_size */
	uint16_t max_reta;   /* rss_max_indirection_table_length */
	uint32_t hash_types; /* supported_hash_types, VIRTIO_NET_HASH_TYPE_* */
};

/* What the driver asks for; sent whole with each change. */
struct fj_rss {
	uint32_t hash_types;   /* enabled, a subset of the supported ones */
	uint16_t reta_size;    /* indirection_table_mask + 1, a power of two */
	uint16_t unclassified; /* receive queue of packets no hash type covers */
	uint8_t key_len;
	uint8_t key[FJ_RSS_KEY_MAX];
	uint16_t reta[FJ_RSS_RETA_MAX]; /* receive queue indexes, receiveq1 = 0 */
};

/* Largest encoding: the fixed fields, a full table and the longest key. */
#define FJ_RSS_CMD_MAX (4 + 2 + 2 + 2 * FJ_RSS_RETA_MAX + 2 + 1 + FJ_RSS_KEY_MAX)

/* The default key (fj_rss_defaults). */
extern const uint8_t fj_rss_default_key[FJ_RSS_KEY_LEN];

/*
 * Whether fjord can use the device's limits: 0, or -ENOTSUP with the
 * reason in @why.
 */
int fj_rss_caps_check(const struct fj_rss_caps *c, const char **why);

/*
 * The table size fjord uses: mask + 1 must be a power of two (§5.1.6.5.7.1)
 * no larger than the device's rss_max_indirection_table_length, and at
 * most FJ_RSS_RETA_MAX.
 */
uint16_t fj_rss_reta_size(const struct fj_rss_caps *c);

/* The key length fjord uses: the device's rss_max_key_size. */
uint8_t fj_rss_key_len(const struct fj_rss_caps *c);

/*
 * A fresh configuration within @c: every supported hash type, the
 * default key (zero-padded to the key length), and a table spreading
 * over @nb_rxq receive queues round-robin.
 */
void fj_rss_defaults(struct fj_rss *r, const struct fj_rss_caps *c, uint16_t nb_rxq);

/* Fill the whole table round-robin over @nb_rxq queues. */
void fj_rss_reta_spread(struct fj_rss *r, uint16_t nb_rxq);

/* Every table entry and the unclassified queue below @nb_rxq. */
bool fj_rss_valid(const struct fj_rss *r, uint16_t nb_rxq);

/*
 * struct virtio_net_rss_config for @r with max_tx_vq = @max_tx_vq, little
 * endian (§5.1.6.5.7.1), into @buf of @len bytes. Returns its length, or
 * -ENOSPC when it does not fit, -EINVAL for a table size that is not a
 * power of two.
 */
int fj_rss_encode(const struct fj_rss *r, uint16_t max_tx_vq, uint8_t *buf, size_t len);

#endif
