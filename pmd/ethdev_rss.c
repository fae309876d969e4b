/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Receive-side scaling on the ethdev side (VIRTIO 1.2 §5.1.6.5.7): the
 * device's limits read at probe, RTE_ETH_RSS_* flags to and from virtio
 * hash types, the RETA and key operations, and the configuration sent
 * through the control queue at each start and with each change.
 */
#include <errno.h>
#include <string.h>

#include <ethdev_driver.h>

#include "ctrlq.h"
#include "ethdev_ops.h"
#include "virtio_features.h"

/* Each virtio hash type (§5.1.6.4.3) and the ethdev flow types it covers. */
static const struct {
	uint32_t type;
	uint64_t hf;
} hash_map[] = {
	{ VIRTIO_NET_HASH_TYPE_IPv4,
	  RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_FRAG_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_OTHER },
	{ VIRTIO_NET_HASH_TYPE_TCPv4, RTE_ETH_RSS_NONFRAG_IPV4_TCP },
	{ VIRTIO_NET_HASH_TYPE_UDPv4, RTE_ETH_RSS_NONFRAG_IPV4_UDP },
	{ VIRTIO_NET_HASH_TYPE_IPv6,
	  RTE_ETH_RSS_IPV6 | RTE_ETH_RSS_FRAG_IPV6 | RTE_ETH_RSS_NONFRAG_IPV6_OTHER },
	{ VIRTIO_NET_HASH_TYPE_TCPv6, RTE_ETH_RSS_NONFRAG_IPV6_TCP },
	{ VIRTIO_NET_HASH_TYPE_UDPv6, RTE_ETH_RSS_NONFRAG_IPV6_UDP },
	{ VIRTIO_NET_HASH_TYPE_IP_EX, RTE_ETH_RSS_IPV6_EX },
	{ VIRTIO_NET_HASH_TYPE_TCP_EX, RTE_ETH_RSS_IPV6_TCP_EX },
	{ VIRTIO_NET_HASH_TYPE_UDP_EX, RTE_ETH_RSS_IPV6_UDP_EX },
};

uint64_t
fj_rss_hf_of_types(uint32_t types)
{
	uint64_t hf = 0;

	for (size_t i = 0; i < RTE_DIM(hash_map); i++)
		if (types & hash_map[i].type)
			hf |= hash_map[i].hf;
	return hf;
}

uint32_t
fj_rss_types_of_hf(uint64_t hf)
{
	uint32_t types = 0;

	for (size_t i = 0; i < RTE_DIM(hash_map); i++)
		if (hf & hash_map[i].hf)
			types |= hash_map[i].type;
	return types;
}

static bool
rss_capable(const struct fj_dev *dev)
{
	return (dev->capable & FJ_BIT(VIRTIO_NET_F_RSS)) != 0;
}

static bool
rss_in_use(const struct fj_dev *dev)
{
	return (dev->features & FJ_BIT(VIRTIO_NET_F_RSS)) != 0;
}

/* §5.1.4: the RSS fields of the device configuration, present with the feature. */
static int
read_caps(struct fj_dev *dev, struct fj_rss_caps *c)
{
	int rc = -ENOTSUP;

	if (dev->ops->read_config == NULL || dev->ops->ctrl == NULL)
		return rc;
	rc = dev->ops->read_config(dev, VIRTIO_NET_CFG_RSS_MAX_KEY, &c->max_key, 1);
	if (rc == 0)
		rc = dev->ops->read_config(dev, VIRTIO_NET_CFG_RSS_MAX_RETA, &c->max_reta, 2);
	if (rc == 0)
		rc = dev->ops->read_config(dev, VIRTIO_NET_CFG_HASH_TYPES, &c->hash_types, 4);
	c->max_reta = rte_le_to_cpu_16(c->max_reta);
	c->hash_types = rte_le_to_cpu_32(c->hash_types);
	return rc;
}

void
fj_rss_probe(struct fj_dev *dev)
{
	const char *why = "its configuration space cannot be read";

	if (!rss_capable(dev))
		return;
	if (read_caps(dev, &dev->rss_caps) == 0 && fj_rss_caps_check(&dev->rss_caps, &why) == 0) {
		FJ_PMD_LOG(INFO, "%s: RSS: %u-byte key, %u-entry table, hash types 0x%x%s",
		           dev->name, fj_rss_key_len(&dev->rss_caps), fj_rss_reta_size(&dev->rss_caps),
		           dev->rss_caps.hash_types,
		           dev->capable & FJ_BIT(VIRTIO_NET_F_HASH_REPORT) ? ", hash reports" : "");
		fj_rss_defaults(&dev->rss, &dev->rss_caps, 1);
		return;
	}
	FJ_PMD_LOG(WARNING, "%s: the device offers VIRTIO_NET_F_RSS but %s: no RSS", dev->name,
	           why);
	dev->capable &= ~FJ_FEATURES_RSS;
	dev->features &= ~FJ_FEATURES_RSS;
}

void
fj_rss_infos(struct fj_dev *dev, struct rte_eth_dev_info *info)
{
	if (!rss_capable(dev))
		return; /* no RSS to report: flow types, key and table all 0 */
	info->flow_type_rss_offloads = fj_rss_hf_of_types(dev->rss_caps.hash_types);
	info->hash_key_size = fj_rss_key_len(&dev->rss_caps);
	info->reta_size = fj_rss_reta_size(&dev->rss_caps);
	if (dev->capable & FJ_BIT(VIRTIO_NET_F_HASH_REPORT))
		info->rx_offload_capa |= RTE_ETH_RX_OFFLOAD_RSS_HASH;
}

/*
 * @conf's key and flow types into @r: a key must have the device's key
 * length; flow types the device cannot hash are refused.
 */
static int
take_conf(struct fj_dev *dev, const struct rte_eth_rss_conf *conf, struct fj_rss *r)
{
	uint64_t supported = fj_rss_hf_of_types(dev->rss_caps.hash_types);

	if (conf->rss_hf & ~supported) {
		FJ_PMD_LOG(ERR, "%s: RSS flow types 0x%" PRIx64 " asked, the device hashes 0x%" PRIx64,
		           dev->name, conf->rss_hf, supported);
		return -EINVAL;
	}
	if (conf->rss_key != NULL) {
		if (conf->rss_key_len != r->key_len) {
			FJ_PMD_LOG(ERR, "%s: RSS key of %u bytes, the device's is %u bytes",
			           dev->name, conf->rss_key_len, r->key_len);
			return -EINVAL;
		}
		memcpy(r->key, conf->rss_key, r->key_len);
	}
	r->hash_types = fj_rss_types_of_hf(conf->rss_hf) & dev->rss_caps.hash_types;
	return 0;
}

int
fj_rss_configure(struct fj_dev *dev, struct rte_eth_conf *conf, uint16_t nb_rxq)
{
	if (!(conf->rxmode.mq_mode & RTE_ETH_MQ_RX_RSS_FLAG)) {
		dev->features &= ~FJ_FEATURES_RSS;
		return 0;
	}
	if (!rss_capable(dev)) {
		FJ_PMD_LOG(ERR, "%s: RSS asked (mq_mode), but the %s device has no RSS: %s",
		           dev->name, dev->ops->name,
		           dev->ops->ctrl == NULL ? "the transport has no control queue to set it"
		           : (dev->disabled & FJ_BIT(VIRTIO_NET_F_RSS)) ? "switched off by rss=0"
		           : "it does not offer VIRTIO_NET_F_RSS with MQ (QEMU: mq=on,rss=on)");
		return -ENOTSUP;
	}
	struct fj_rss r;
	fj_rss_defaults(&r, &dev->rss_caps, nb_rxq);
	int rc = take_conf(dev, &conf->rx_adv_conf.rss_conf, &r);
	if (rc < 0)
		return rc;
	dev->rss = r;
	dev->rss_hf = conf->rx_adv_conf.rss_conf.rss_hf;
	/* Both stay in this start's features; hashes are delivered as with most
	 * NICs under RSS: RTE_ETH_RX_OFFLOAD_RSS_HASH goes on with them. */
	if (dev->features & FJ_BIT(VIRTIO_NET_F_HASH_REPORT))
		conf->rxmode.offloads |= RTE_ETH_RX_OFFLOAD_RSS_HASH;
	return 0;
}

/* §5.1.6.5.7.1: the whole configuration, with the queue pairs in use. */
static int
rss_send(struct fj_dev *dev, const struct fj_rss *r)
{
	uint8_t cmd[FJ_RSS_CMD_MAX];
	uint16_t nb_rxq = fj_dev_nb_rxq(dev);

	if (!fj_rss_valid(r, nb_rxq)) {
		FJ_PMD_LOG(ERR, "%s: RSS table names a queue beyond rx queue %u", dev->name,
		           nb_rxq - 1);
		return -EINVAL;
	}
	int len = fj_rss_encode(r, dev->pairs, cmd, sizeof(cmd));
	if (len < 0)
		return len;
	return dev->ops->ctrl(dev, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_RSS_CONFIG, cmd,
			      (uint16_t)len);
}

int
fj_rss_start(struct fj_dev *dev)
{
	return rss_in_use(dev) ? rss_send(dev, &dev->rss) : 0;
}

/* A new configuration @r: sent at once to a started port, kept when taken. */
static int
rss_change(struct fj_dev *dev, const struct fj_rss *r)
{
	int rc = dev->started ? rss_send(dev, r) : 0;

	if (rc == 0)
		dev->rss = *r;
	return rc;
}

static int
need_rss(struct fj_dev *dev)
{
	if (rss_in_use(dev))
		return 0;
	FJ_PMD_LOG(ERR, "%s: RSS is not on: configure the port with mq_mode RSS first%s",
	           dev->name, rss_capable(dev) ? "" : " (the device has no RSS)");
	return -ENOTSUP;
}

int
fj_rss_hash_update(struct rte_eth_dev *eth_dev, struct rte_eth_rss_conf *conf)
{
	struct fj_dev *dev = to_dev(eth_dev);
	struct fj_rss r = dev->rss;
	int rc = need_rss(dev);

	if (rc == 0)
		rc = take_conf(dev, conf, &r);
	if (rc == 0)
		rc = rss_change(dev, &r);
	if (rc == 0)
		dev->rss_hf = conf->rss_hf;
	return rc;
}

int
fj_rss_hash_conf_get(struct rte_eth_dev *eth_dev, struct rte_eth_rss_conf *conf)
{
	struct fj_dev *dev = to_dev(eth_dev);

	if (!rss_capable(dev))
		return -ENOTSUP;
	/* The flow types as asked: each within a hash type the device computes. */
	conf->rss_hf = rss_in_use(dev) ? dev->rss_hf : 0;
	if (conf->rss_key != NULL) {
		if (conf->rss_key_len < dev->rss.key_len)
			return -EINVAL;
		memcpy(conf->rss_key, dev->rss.key, dev->rss.key_len);
	}
	conf->rss_key_len = dev->rss.key_len;
	return 0;
}

static bool
reta_entry_set(const struct rte_eth_rss_reta_entry64 *conf, uint16_t i)
{
	return (conf[i / RTE_ETH_RETA_GROUP_SIZE].mask >> (i % RTE_ETH_RETA_GROUP_SIZE)) & 1;
}

static uint16_t *
reta_entry(struct rte_eth_rss_reta_entry64 *conf, uint16_t i)
{
	return &conf[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE];
}

static int
reta_size_check(struct fj_dev *dev, uint16_t size)
{
	if (size == dev->rss.reta_size)
		return 0;
	FJ_PMD_LOG(ERR, "%s: RETA of %u entries given, the port's has %u", dev->name, size,
	           dev->rss.reta_size);
	return -EINVAL;
}

int
fj_rss_reta_update(struct rte_eth_dev *eth_dev, struct rte_eth_rss_reta_entry64 *conf,
		   uint16_t size)
{
	struct fj_dev *dev = to_dev(eth_dev);
	uint16_t nb_rxq = fj_dev_nb_rxq(dev);
	struct fj_rss r = dev->rss;
	int rc = need_rss(dev);

	if (rc == 0)
		rc = reta_size_check(dev, size);
	for (uint16_t i = 0; rc == 0 && i < size; i++) {
		if (!reta_entry_set(conf, i))
			continue;
		uint16_t q = *reta_entry(conf, i);
		if (q >= nb_rxq) {
			FJ_PMD_LOG(ERR, "%s: RETA entry %u names rx queue %u, the port has %u",
			           dev->name, i, q, nb_rxq);
			rc = -EINVAL;
		}
		r.reta[i] = q;
	}
	return rc == 0 ? rss_change(dev, &r) : rc;
}

int
fj_rss_reta_query(struct rte_eth_dev *eth_dev, struct rte_eth_rss_reta_entry64 *conf,
		  uint16_t size)
{
	struct fj_dev *dev = to_dev(eth_dev);
	int rc = rss_capable(dev) ? reta_size_check(dev, size) : -ENOTSUP;

	for (uint16_t i = 0; rc == 0 && i < size; i++)
		if (reta_entry_set(conf, i))
			*reta_entry(conf, i) = dev->rss.reta[i];
	return rc;
}
