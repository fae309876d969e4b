/* SPDX-License-Identifier: BSD-3-Clause */
/* Devargs of the vhost-user and PCI ports: parsed with rte_kvargs, validated here. */
#ifndef FJ_DEVARGS_H
#define FJ_DEVARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FJ_MAX_QUEUE_PAIRS   16
#define FJ_QUEUE_SIZE_MIN    64
#define FJ_QUEUE_SIZE_MAX    32768
#define FJ_QUEUE_SIZE_DEFAULT 1024

struct fj_vhost_args {
	char path[108];        /* sun_path of a struct sockaddr_un */
	uint16_t queues;       /* queue pairs */
	uint16_t queue_size;   /* descriptors per virtqueue (max and default) */
	bool has_mac;
	uint8_t mac[6];
	uint64_t disabled;     /* feature bits switched off (mrg_rxbuf=0, in_order=0, packed_vq=0,
				* csum=0, tso=0) */
	bool server;           /* server=1: fjord listens on path, the back-end connects */
	bool no_reconnect;     /* reconnect=0: a lost back-end stays lost until port restart */
};

#define FJ_VHOST_PARAMS                                                          \
	"path=<unix socket> queues=<1-16> queue_size=<64-32768, power of 2> "    \
	"mac=<xx:xx:xx:xx:xx:xx> mrg_rxbuf=<0|1> in_order=<0|1> packed_vq=<0|1> csum=<0|1> "  \
	"tso=<0|1> server=<0|1> reconnect=<0|1>"

/* The PCI port's devargs (-a BDF,packed_vq=0): features switched off. */
#define FJ_PCI_PARAMS "packed_vq=<0|1> rss=<0|1> hash_report=<0|1> tso=<0|1>"

/*
 * Parse the PCI port's @args (NULL or empty: nothing to change) into
 * @disabled: packed_vq=0 (split rings), rss=0 (no VIRTIO_NET_F_RSS nor
 * HASH_REPORT), hash_report=0 (RSS without hashes in the header), tso=0
 * (no HOST_TSO4/6 nor GUEST_TSO4/6: no TSO, no large receive); =1
 * takes the feature when offered, the default. Returns 0, or -EINVAL with
 * a sentence in @err.
 */
int fj_pci_args_parse(const char *args, uint64_t *disabled, char *err, size_t errlen);

/*
 * Parse @args ("path=/x,queues=2"). Returns 0, or -EINVAL with a sentence
 * naming the offending key and value in @err.
 */
int fj_vhost_args_parse(const char *args, struct fj_vhost_args *out, char *err, size_t errlen);

#endif
