/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include "rss.h"

/*
 * The default key is the well-known Microsoft RSS key (the one of
 * Microsoft's RSS verification suite, and the default of many NICs),
 * not a symmetric one: an application can reproduce every hash with
 * rte_softrss() and the key rss_hash_conf_get returns.
 */
const uint8_t fj_rss_default_key[FJ_RSS_KEY_LEN] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67,
	0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb,
	0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
	0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

int
fj_rss_caps_check(const struct fj_rss_caps *c, const char **why)
{
	*why = NULL;
	if (c->max_key < FJ_RSS_KEY_LEN)
		*why = "rss_max_key_size is below the 40 bytes the specification requires";
	else if (c->max_reta == 0)
		*why = "rss_max_indirection_table_length is 0";
	else if ((c->hash_types & VIRTIO_NET_HASH_TYPE_ALL) == 0)
		*why = "supported_hash_types names no hash type";
	return *why == NULL ? 0 : -ENOTSUP;
}

uint16_t
fj_rss_reta_size(const struct fj_rss_caps *c)
{
	uint16_t n = 1;

	while ((uint32_t)n * 2 <= c->max_reta && n * 2 <= FJ_RSS_RETA_MAX)
		n = (uint16_t)(n * 2);
	return n;
}

uint8_t
fj_rss_key_len(const struct fj_rss_caps *c)
{
	return c->max_key;
}

void
fj_rss_reta_spread(struct fj_rss *r, uint16_t nb_rxq)
{
	for (uint16_t i = 0; i < r->reta_size; i++)
		r->reta[i] = nb_rxq ? (uint16_t)(i % nb_rxq) : 0;
}

void
fj_rss_defaults(struct fj_rss *r, const struct fj_rss_caps *c, uint16_t nb_rxq)
{
	memset(r, 0, sizeof(*r));
	r->hash_types = c->hash_types & VIRTIO_NET_HASH_TYPE_ALL;
	r->reta_size = fj_rss_reta_size(c);
	r->key_len = fj_rss_key_len(c);
	/* Toeplitz reads key bits only as far as the input reaches (36 bytes
	 * of IPv6 addresses and ports, plus 4): zeros past 40 change nothing. */
	memcpy(r->key, fj_rss_default_key, FJ_RSS_KEY_LEN);
	fj_rss_reta_spread(r, nb_rxq);
}

bool
fj_rss_valid(const struct fj_rss *r, uint16_t nb_rxq)
{
	if (r->unclassified >= nb_rxq || r->reta_size > FJ_RSS_RETA_MAX)
		return false;
	for (uint16_t i = 0; i < r->reta_size; i++)
		if (r->reta[i] >= nb_rxq)
			return false;
	return true;
}

static uint8_t *
put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	return p + 2;
}

int
fj_rss_encode(const struct fj_rss *r, uint16_t max_tx_vq, uint8_t *buf, size_t len)
{
	size_t need = 4 + 2 + 2 + 2 * (size_t)r->reta_size + 2 + 1 + r->key_len;
	uint8_t *p = buf;

	if (r->reta_size == 0 || (r->reta_size & (r->reta_size - 1)) != 0 ||
	    r->reta_size > FJ_RSS_RETA_MAX)
		return -EINVAL;
	if (need > len)
		return -ENOSPC;
	p = put_le16(p, (uint16_t)r->hash_types);
	p = put_le16(p, (uint16_t)(r->hash_types >> 16));
	p = put_le16(p, (uint16_t)(r->reta_size - 1)); /* indirection_table_mask */
	p = put_le16(p, r->unclassified);
	for (uint16_t i = 0; i < r->reta_size; i++)
		p = put_le16(p, r->reta[i]);
	p = put_le16(p, max_tx_vq);
	*p++ = r->key_len;
	memcpy(p, r->key, r->key_len);
	return (int)need;
}
