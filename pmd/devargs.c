/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_kvargs.h>

#include "devargs.h"
#include "virtio_features.h"

static const char *const valid_keys[] = {
	"path", "queues", "queue_size", "mac", "mrg_rxbuf", "in_order", "packed_vq", "csum", "tso",
	"server", "reconnect", NULL,
};

struct parse_ctx {
	struct fj_vhost_args *out;
	char *err;
	size_t errlen;
};

static int
parse_uint(const char *v, unsigned long min, unsigned long max, unsigned long *res)
{
	char *end;

	if (v == NULL || *v == '\0' || *v == '-' || *v == '+')
		return -EINVAL;
	errno = 0;
	unsigned long n = strtoul(v, &end, 0);
	if (errno != 0 || *end != '\0' || n < min || n > max)
		return -EINVAL;
	*res = n;
	return 0;
}

static int
parse_mac(const char *v, uint8_t mac[6])
{
	unsigned int b[6];
	char tail;

	if (v == NULL || strlen(v) != 17)
		return -EINVAL;
	if (sscanf(v, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
		   &b[5], &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		if (v[i * 3] == ' ' || v[i * 3 + 1] == ' ' || (i < 5 && v[i * 3 + 2] != ':'))
			return -EINVAL;
		mac[i] = (uint8_t)b[i];
	}
	/* A port address must be unicast and not all zeros. */
	if (mac[0] & 1)
		return -EINVAL;
	if ((mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) == 0)
		return -EINVAL;
	return 0;
}

static int
on_key(const char *key, const char *value, void *opaque)
{
	struct parse_ctx *c = opaque;
	struct fj_vhost_args *a = c->out;
	unsigned long n;
	const char *why = NULL;

	if (strcmp(key, "path") == 0) {
		if (value == NULL || *value == '\0')
			why = "must name a unix socket";
		else if (strlen(value) >= sizeof(a->path))
			why = "is longer than a unix socket path can be (107 bytes)";
		else
			snprintf(a->path, sizeof(a->path), "%s", value);
	} else if (strcmp(key, "queues") == 0) {
		if (parse_uint(value, 1, FJ_MAX_QUEUE_PAIRS, &n) < 0)
			why = "must be a number of queue pairs from 1 to 16";
		else
			a->queues = (uint16_t)n;
	} else if (strcmp(key, "queue_size") == 0) {
		if (parse_uint(value, FJ_QUEUE_SIZE_MIN, FJ_QUEUE_SIZE_MAX, &n) < 0 ||
		    (n & (n - 1)) != 0)
			why = "must be a power of two from 64 to 32768 (VIRTIO 1.2 §2.7)";
		else
			a->queue_size = (uint16_t)n;
	} else if (strcmp(key, "mac") == 0) {
		if (parse_mac(value, a->mac) < 0)
			why = "must be a unicast address like 02:00:00:00:00:01";
		else
			a->has_mac = true;
	} else if (strcmp(key, "server") == 0 || strcmp(key, "reconnect") == 0) {
		if (parse_uint(value, 0, 1, &n) < 0)
			why = "must be 0 or 1";
		else if (key[0] == 's')
			a->server = n == 1;
		else
			a->no_reconnect = n == 0;
	} else if (strcmp(key, "mrg_rxbuf") == 0 || strcmp(key, "in_order") == 0 ||
		   strcmp(key, "packed_vq") == 0 || strcmp(key, "csum") == 0 ||
		   strcmp(key, "tso") == 0) {
		uint64_t bit = key[0] == 'm'   ? FJ_BIT(VIRTIO_NET_F_MRG_RXBUF)
			       : key[0] == 'i' ? FJ_BIT(VIRTIO_F_IN_ORDER)
			       : key[0] == 'c' ? FJ_BIT(VIRTIO_NET_F_CSUM) | FJ_BIT(VIRTIO_NET_F_GUEST_CSUM)
			       : key[0] == 't' ? FJ_FEATURES_TSO
					       : FJ_BIT(VIRTIO_F_RING_PACKED);
		if (parse_uint(value, 0, 1, &n) < 0)
			why = "must be 0 or 1";
		else if (n == 0)
			a->disabled |= bit;
		else
			a->disabled &= ~bit;
	}
	if (why != NULL) {
		snprintf(c->err, c->errlen, "invalid devarg %s=%s: %s", key,
			 value ? value : "", why);
		return -EINVAL;
	}
	return 0;
}

int
fj_vhost_args_parse(const char *args, struct fj_vhost_args *out, char *err, size_t errlen)
{
	struct parse_ctx c = { out, err, errlen };
	struct rte_kvargs *kv;
	int rc;

	memset(out, 0, sizeof(*out));
	out->queues = 1;
	out->queue_size = FJ_QUEUE_SIZE_DEFAULT;
	/*
	 * Every feature fjord drives is used when the back-end offers it:
	 * packed rings (§2.8) too, which DPDK's vhost library serves with
	 * fewer cache lines per packet; packed_vq=0 asks for split rings.
	 */
	out->disabled = 0;
	snprintf(err, errlen, "no error");

	kv = rte_kvargs_parse(args ? args : "", valid_keys);
	if (kv == NULL) {
		snprintf(err, errlen,
			 "cannot parse devargs \"%s\": unknown key or bad syntax; valid: %s",
			 args ? args : "", FJ_VHOST_PARAMS);
		return -EINVAL;
	}
	for (const char *const *k = valid_keys; *k != NULL; k++) {
		if (rte_kvargs_count(kv, *k) > 1) {
			snprintf(err, errlen, "devarg %s given more than once", *k);
			rte_kvargs_free(kv);
			return -EINVAL;
		}
	}
	rc = rte_kvargs_process(kv, NULL, on_key, &c);
	rte_kvargs_free(kv);
	if (rc < 0)
		return -EINVAL;
	if (out->path[0] == '\0') {
		snprintf(err, errlen, "devarg path=<unix socket> is required");
		return -EINVAL;
	}
	return 0;
}

/* ------------------------------------------------------ PCI */

static const char *const pci_keys[] = { "packed_vq", "rss", "hash_report", "tso", NULL };

static uint64_t
pci_key_bits(const char *key)
{
	if (strcmp(key, "packed_vq") == 0)
		return FJ_BIT(VIRTIO_F_RING_PACKED);
	if (strcmp(key, "rss") == 0)
		return FJ_BIT(VIRTIO_NET_F_RSS) | FJ_BIT(VIRTIO_NET_F_HASH_REPORT);
	if (strcmp(key, "tso") == 0)
		return FJ_FEATURES_TSO;
	return FJ_BIT(VIRTIO_NET_F_HASH_REPORT);
}

static int
on_pci_key(const char *key, const char *value, void *opaque)
{
	uint64_t *disabled = opaque;

	if (value == NULL || (strcmp(value, "0") != 0 && strcmp(value, "1") != 0))
		return -EINVAL;
	if (value[0] == '0')
		*disabled |= pci_key_bits(key);
	else
		*disabled &= ~pci_key_bits(key);
	return 0;
}

int
fj_pci_args_parse(const char *args, uint64_t *disabled, char *err, size_t errlen)
{
	struct rte_kvargs *kv;

	snprintf(err, errlen, "no error");
	if (args == NULL || args[0] == '\0')
		return 0;
	kv = rte_kvargs_parse(args, pci_keys);
	if (kv == NULL) {
		snprintf(err, errlen, "bad device arguments \"%s\": net_fjord on PCI takes %s",
			 args, FJ_PCI_PARAMS);
		return -EINVAL;
	}
	/* rss=0 wins over hash_report=1: HASH_REPORT is never taken without RSS. */
	for (const char *const *k = pci_keys; *k != NULL; k++) {
		if (rte_kvargs_count(kv, *k) > 1 ||
		    rte_kvargs_process(kv, *k, on_pci_key, disabled) < 0) {
			snprintf(err, errlen, "devarg %s must be given once, as 0 or 1 (%s)", *k,
				 FJ_PCI_PARAMS);
			rte_kvargs_free(kv);
			return -EINVAL;
		}
	}
	rte_kvargs_free(kv);
	return 0;
}
