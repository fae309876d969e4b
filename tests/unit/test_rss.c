/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Receive-side scaling (VIRTIO 1.2 §5.1.6.5.7): the configuration's wire
 * encoding, the defaults, the device's limits, and the ethdev operations
 * (ethdev_rss.c) against a fake transport that records each control
 * command, with hostile input: RETA entries beyond the rx queues, keys of
 * the wrong length, flow types the device cannot hash.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ethdev_ops.h"
#include "virtio_features.h"

int fj_logtype;

static uint16_t nb_rxq = 2;
uint16_t fj_dev_nb_rxq(struct fj_dev *dev) { (void)dev; return nb_rxq; }

/* ------------------------------------------------------ the transport */

static struct {
	int cmds;
	uint8_t cls, cmd;
	uint8_t data[FJ_RSS_CMD_MAX];
	uint16_t len;
	int answer;       /* what the device says: 0 or -EIO */
	uint8_t cfg[32];  /* device configuration space */
} T;

static int
fake_read_config(struct fj_dev *dev, uint32_t off, void *buf, uint32_t len)
{
	(void)dev;
	assert_true(off + len <= sizeof(T.cfg));
	memcpy(buf, T.cfg + off, len);
	return 0;
}

static int
fake_ctrl(struct fj_dev *dev, uint8_t cls, uint8_t cmd, const void *data, uint16_t len)
{
	(void)dev;
	T.cmds++;
	T.cls = cls;
	T.cmd = cmd;
	assert_true(len <= sizeof(T.data));
	memcpy(T.data, data, len);
	T.len = len;
	return T.answer;
}

static const struct fj_transport_ops fake_ops = {
	.name = "fake", .read_config = fake_read_config, .ctrl = fake_ctrl,
};

static struct fj_dev dev;
static struct rte_eth_dev_data edata;
static struct rte_eth_dev edev;

/* A device offering RSS with QEMU's limits: 40-byte key, 128 entries, all types. */
static void
dev_new(uint8_t max_key, uint16_t max_reta, uint32_t types, uint64_t features)
{
	memset(&T, 0, sizeof(T));
	memset(&dev, 0, sizeof(dev));
	T.cfg[VIRTIO_NET_CFG_RSS_MAX_KEY] = max_key;
	memcpy(T.cfg + VIRTIO_NET_CFG_RSS_MAX_RETA, &max_reta, 2);
	memcpy(T.cfg + VIRTIO_NET_CFG_HASH_TYPES, &types, 4);
	dev.ops = &fake_ops;
	dev.capable = dev.features = features;
	dev.pairs = 2;
	edata.dev_private = &dev;
	edev.data = &edata;
	dev.eth_dev = &edev;
	nb_rxq = 2;
	fj_rss_probe(&dev);
}

#define RSS_FEATURES (FJ_BIT(VIRTIO_F_VERSION_1) | FJ_BIT(VIRTIO_NET_F_CTRL_VQ) | \
		      FJ_BIT(VIRTIO_NET_F_MQ) | FJ_FEATURES_RSS)

static int
configure(enum rte_eth_rx_mq_mode mode, uint64_t hf, uint8_t *key, uint8_t key_len)
{
	struct rte_eth_conf conf = { 0 };

	conf.rxmode.mq_mode = mode;
	conf.rx_adv_conf.rss_conf.rss_hf = hf;
	conf.rx_adv_conf.rss_conf.rss_key = key;
	conf.rx_adv_conf.rss_conf.rss_key_len = key_len;
	dev.features = dev.capable;
	int rc = fj_rss_configure(&dev, &conf, nb_rxq);
	if (rc == 0 && (dev.features & FJ_BIT(VIRTIO_NET_F_HASH_REPORT)))
		assert_true(conf.rxmode.offloads & RTE_ETH_RX_OFFLOAD_RSS_HASH);
	return rc;
}

static uint16_t
le16_at(size_t off)
{
	return (uint16_t)(T.data[off] | T.data[off + 1] << 8);
}

static uint32_t
le32_at(size_t off)
{
	return le16_at(off) | (uint32_t)le16_at(off + 2) << 16;
}

/* ------------------------------------------------------ encoding */

static void
test_encoding_follows_virtio_net_rss_config(void **state)
{
	(void)state;
	struct fj_rss r = { .hash_types = 0x1a5, .reta_size = 4, .unclassified = 1, .key_len = 3,
			    .key = { 0xaa, 0xbb, 0xcc }, .reta = { 0, 1, 1, 0 } };
	uint8_t buf[64];
	const uint8_t want[] = { 0xa5, 0x01, 0, 0,   /* le32 hash_types */
				 3, 0,               /* le16 indirection_table_mask */
				 1, 0,               /* le16 unclassified_queue */
				 0, 0, 1, 0, 1, 0, 0, 0, /* le16 indirection_table[4] */
				 2, 0,               /* le16 max_tx_vq */
				 3, 0xaa, 0xbb, 0xcc /* u8 hash_key_length, hash_key_data */ };

	assert_int_equal(fj_rss_encode(&r, 2, buf, sizeof(buf)), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(fj_rss_encode(&r, 2, buf, sizeof(want) - 1), -ENOSPC);
	r.reta_size = 3; /* mask + 1 must be a power of two */
	assert_int_equal(fj_rss_encode(&r, 2, buf, sizeof(buf)), -EINVAL);
	r.reta_size = 0;
	assert_int_equal(fj_rss_encode(&r, 2, buf, sizeof(buf)), -EINVAL);
}

static void
test_table_size_is_the_largest_power_of_two_the_device_takes(void **state)
{
	(void)state;
	struct fj_rss_caps c = { .max_key = 40, .hash_types = 1 };

	c.max_reta = 128;
	assert_int_equal(fj_rss_reta_size(&c), 128);
	c.max_reta = 200;
	assert_int_equal(fj_rss_reta_size(&c), 128);
	c.max_reta = 1;
	assert_int_equal(fj_rss_reta_size(&c), 1);
	c.max_reta = 65535;
	assert_int_equal(fj_rss_reta_size(&c), FJ_RSS_RETA_MAX);
}

static void
test_device_limits_out_of_spec_are_refused(void **state)
{
	(void)state;
	const char *why;
	struct fj_rss_caps c = { .max_key = 40, .max_reta = 128, .hash_types = 0x1ff };

	assert_int_equal(fj_rss_caps_check(&c, &why), 0);
	c.max_key = 39;
	assert_int_equal(fj_rss_caps_check(&c, &why), -ENOTSUP);
	assert_non_null(strstr(why, "40"));
	c.max_key = 40;
	c.max_reta = 0;
	assert_int_equal(fj_rss_caps_check(&c, &why), -ENOTSUP);
	c.max_reta = 128;
	c.hash_types = 1u << 12; /* no type fjord knows */
	assert_int_equal(fj_rss_caps_check(&c, &why), -ENOTSUP);
}

static void
test_defaults_spread_and_use_the_microsoft_key(void **state)
{
	(void)state;
	struct fj_rss_caps c = { .max_key = 52, .max_reta = 128, .hash_types = 0xffffffff };
	struct fj_rss r;
	static const uint8_t ms_head[] = { 0x6d, 0x5a, 0x56, 0xda };

	fj_rss_defaults(&r, &c, 3);
	assert_int_equal(r.key_len, 52);
	assert_memory_equal(r.key, ms_head, sizeof(ms_head));
	assert_int_equal(r.key[40], 0); /* padded with zeros */
	assert_int_equal(r.hash_types, VIRTIO_NET_HASH_TYPE_ALL);
	assert_int_equal(r.reta_size, 128);
	for (int i = 0; i < 128; i++)
		assert_int_equal(r.reta[i], i % 3);
	assert_true(fj_rss_valid(&r, 3));
	assert_false(fj_rss_valid(&r, 2));
}

/* ------------------------------------------------------ ethdev side */

static void
test_flow_types_map_both_ways(void **state)
{
	(void)state;
	assert_int_equal(fj_rss_types_of_hf(RTE_ETH_RSS_UDP),
			 VIRTIO_NET_HASH_TYPE_UDPv4 | VIRTIO_NET_HASH_TYPE_UDPv6 |
				 VIRTIO_NET_HASH_TYPE_UDP_EX);
	assert_int_equal(fj_rss_types_of_hf(RTE_ETH_RSS_NONFRAG_IPV4_TCP), VIRTIO_NET_HASH_TYPE_TCPv4);
	assert_int_equal(fj_rss_types_of_hf(RTE_ETH_RSS_FRAG_IPV4), VIRTIO_NET_HASH_TYPE_IPv4);
	assert_int_equal(fj_rss_types_of_hf(RTE_ETH_RSS_L2_PAYLOAD), 0);
	uint64_t all = fj_rss_hf_of_types(VIRTIO_NET_HASH_TYPE_ALL);
	assert_true((all & RTE_ETH_RSS_IP) == RTE_ETH_RSS_IP);
	assert_true((all & RTE_ETH_RSS_TCP) == RTE_ETH_RSS_TCP);
	assert_int_equal(fj_rss_types_of_hf(all), VIRTIO_NET_HASH_TYPE_ALL);
	assert_int_equal(fj_rss_hf_of_types(VIRTIO_NET_HASH_TYPE_UDPv4), RTE_ETH_RSS_NONFRAG_IPV4_UDP);
}

static void
test_infos_report_the_device_limits(void **state)
{
	(void)state;
	struct rte_eth_dev_info info = { 0 };

	dev_new(40, 200, VIRTIO_NET_HASH_TYPE_TCPv4 | VIRTIO_NET_HASH_TYPE_UDPv4, RSS_FEATURES);
	fj_rss_infos(&dev, &info);
	assert_int_equal(info.hash_key_size, 40);
	assert_int_equal(info.reta_size, 128);
	assert_int_equal(info.flow_type_rss_offloads,
			 RTE_ETH_RSS_NONFRAG_IPV4_TCP | RTE_ETH_RSS_NONFRAG_IPV4_UDP);
	assert_true(info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_RSS_HASH);
}

static void
test_a_device_without_rss_reports_none_and_refuses_rss_mode(void **state)
{
	(void)state;
	struct rte_eth_dev_info info = { 0 };

	dev_new(40, 128, 0x1ff, FJ_BIT(VIRTIO_F_VERSION_1));
	fj_rss_infos(&dev, &info);
	assert_int_equal(info.flow_type_rss_offloads, 0);
	assert_int_equal(info.hash_key_size, 0);
	assert_int_equal(info.reta_size, 0);
	assert_int_equal(configure(RTE_ETH_MQ_RX_RSS, RTE_ETH_RSS_UDP, NULL, 0), -ENOTSUP);
	assert_int_equal(configure(RTE_ETH_MQ_RX_NONE, 0, NULL, 0), 0);
	struct rte_eth_rss_conf conf = { .rss_hf = RTE_ETH_RSS_UDP };
	assert_int_equal(fj_rss_hash_update(&edev, &conf), -ENOTSUP);
	assert_int_equal(T.cmds, 0);
}

static void
test_device_limits_below_spec_drop_rss_at_probe(void **state)
{
	(void)state;
	dev_new(16, 128, 0x1ff, RSS_FEATURES);
	assert_false(dev.capable & FJ_FEATURES_RSS);
	assert_int_equal(configure(RTE_ETH_MQ_RX_RSS, 0, NULL, 0), -ENOTSUP);
}

static void
test_rss_mode_keeps_the_features_and_start_sends_the_config(void **state)
{
	(void)state;
	dev_new(40, 128, 0x1ff, RSS_FEATURES);
	assert_int_equal(configure(RTE_ETH_MQ_RX_RSS, RTE_ETH_RSS_NONFRAG_IPV4_UDP, NULL, 0), 0);
	assert_true(dev.features & FJ_BIT(VIRTIO_NET_F_RSS));
	assert_true(dev.features & FJ_BIT(VIRTIO_NET_F_HASH_REPORT));
	assert_int_equal(fj_rss_start(&dev), 0);
	assert_int_equal(T.cmds, 1);
	assert_int_equal(T.cls, 4);  /* VIRTIO_NET_CTRL_MQ */
	assert_int_equal(T.cmd, 1);  /* VIRTIO_NET_CTRL_MQ_RSS_CONFIG */
	assert_int_equal(T.len, 4 + 2 + 2 + 2 * 128 + 2 + 1 + 40);
	assert_int_equal(le32_at(0), VIRTIO_NET_HASH_TYPE_UDPv4);
	assert_int_equal(le16_at(4), 127);
	assert_int_equal(le16_at(6), 0);
	for (int i = 0; i < 128; i++)
		assert_int_equal(le16_at(8 + 2 * i), i % 2);
	assert_int_equal(le16_at(8 + 256), 2);  /* max_tx_vq: the queue pairs */
	assert_int_equal(T.data[8 + 258], 40);
	assert_memory_equal(T.data + 8 + 259, fj_rss_default_key, 40);
	/* Other modes: neither feature, nothing sent. */
	assert_int_equal(configure(RTE_ETH_MQ_RX_NONE, 0, NULL, 0), 0);
	assert_false(dev.features & FJ_FEATURES_RSS);
	assert_int_equal(fj_rss_start(&dev), 0);
	assert_int_equal(T.cmds, 1);
}

static void
test_key_of_another_length_is_refused(void **state)
{
	(void)state;
	uint8_t key[52] = { 1, 2, 3 };

	dev_new(40, 128, 0x1ff, RSS_FEATURES);
	assert_int_equal(configure(RTE_ETH_MQ_RX_RSS, RTE_ETH_RSS_UDP, key, 52), -EINVAL);
	assert_int_equal(configure(RTE_ETH_MQ_RX_RSS, RTE_ETH_RSS_UDP, key, 40), 0);
	dev.started = true;
	struct rte_eth_rss_conf conf = { .rss_hf = RTE_ETH_RSS_UDP, .rss_key = key, .rss_key_len = 39 };
	assert_int_equal(fj_rss_hash_update(&edev, &conf), -EINVAL);
	assert_int_equal(T.cmds, 0);
	key[0] = 9;
	conf.rss_key_len = 40;
	assert_int_equal(fj_rss_hash_update(&edev, &conf), 0);
	assert_int_equal(T.cmds, 1);
	assert_int_equal(T.data[8 + 259], 9);
	/* conf_get gives the key back, for rte_softrss. */
	uint8_t got[40];
	struct rte_eth_rss_conf back = { .rss_key = got, .rss_key_len = sizeof(got) };
	assert_int_equal(fj_rss_hash_conf_get(&edev, &back), 0);
	assert_int_equal(back.rss_key_len, 40);
	assert_memory_equal(got, key, 40);
	assert_int_equal(back.rss_hf, RTE_ETH_RSS_UDP);
	back.rss_key_len = 8; /* too small a buffer */
	assert_int_equal(fj_rss_hash_conf_get(&edev, &back), -EINVAL);
}

static void
test_flow_types_the_device_cannot_hash_are_refused(void **state)
{
	(void)state;
	dev_new(40, 128, VIRTIO_NET_HASH_TYPE_UDPv4, RSS_FEATURES);
	assert_int_equal(configure(RTE_ETH_MQ_RX_RSS, RTE_ETH_RSS_NONFRAG_IPV4_TCP, NULL, 0), -EINVAL);
	assert_int_equal(configure(RTE_ETH_MQ_RX_RSS, RTE_ETH_RSS_NONFRAG_IPV4_UDP, NULL, 0), 0);
}

static void
reta_all(struct rte_eth_rss_reta_entry64 *conf, uint16_t q)
{
	for (int g = 0; g < 2; g++) {
		conf[g].mask = UINT64_MAX;
		for (int i = 0; i < RTE_ETH_RETA_GROUP_SIZE; i++)
			conf[g].reta[i] = q;
	}
}

static void
test_reta_update_refuses_queues_beyond_the_port_and_wrong_sizes(void **state)
{
	(void)state;
	struct rte_eth_rss_reta_entry64 conf[2];

	dev_new(40, 128, 0x1ff, RSS_FEATURES);
	assert_int_equal(configure(RTE_ETH_MQ_RX_RSS, RTE_ETH_RSS_UDP, NULL, 0), 0);
	dev.started = true;
	reta_all(conf, 0);
	conf[1].reta[63] = 2; /* the port has rx queues 0 and 1 */
	assert_int_equal(fj_rss_reta_update(&edev, conf, 128), -EINVAL);
	conf[1].reta[63] = 0xffff;
	assert_int_equal(fj_rss_reta_update(&edev, conf, 128), -EINVAL);
	reta_all(conf, 0);
	assert_int_equal(fj_rss_reta_update(&edev, conf, 64), -EINVAL);
	assert_int_equal(T.cmds, 0);
	/* Nothing changed by the refusals. */
	memset(conf, 0xff, sizeof(conf));
	conf[0].mask = conf[1].mask = UINT64_MAX;
	assert_int_equal(fj_rss_reta_query(&edev, conf, 128), 0);
	assert_int_equal(conf[1].reta[63], 127 % 2);
}

static void
test_reta_update_changes_only_masked_entries_and_is_sent(void **state)
{
	(void)state;
	struct rte_eth_rss_reta_entry64 conf[2] = { 0 };

	dev_new(40, 128, 0x1ff, RSS_FEATURES);
	assert_int_equal(configure(RTE_ETH_MQ_RX_RSS, RTE_ETH_RSS_UDP, NULL, 0), 0);
	dev.started = true;
	conf[0].mask = 1u << 1;
	conf[0].reta[1] = 0;
	conf[0].reta[3] = 0; /* not in the mask */
	assert_int_equal(fj_rss_reta_update(&edev, conf, 128), 0);
	assert_int_equal(T.cmds, 1);
	assert_int_equal(le16_at(8 + 2 * 1), 0);
	assert_int_equal(le16_at(8 + 2 * 3), 1);
	/* A device that refuses leaves the table as it was. */
	T.answer = -EIO;
	reta_all(conf, 0);
	assert_int_equal(fj_rss_reta_update(&edev, conf, 128), -EIO);
	memset(conf, 0, sizeof(conf));
	conf[0].mask = conf[1].mask = UINT64_MAX;
	assert_int_equal(fj_rss_reta_query(&edev, conf, 128), 0);
	assert_int_equal(conf[0].reta[3], 1);
	assert_int_equal(conf[0].reta[1], 0);
}

static void
test_a_stopped_port_keeps_changes_for_its_start(void **state)
{
	(void)state;
	struct rte_eth_rss_reta_entry64 conf[2];

	dev_new(40, 128, 0x1ff, RSS_FEATURES);
	assert_int_equal(configure(RTE_ETH_MQ_RX_RSS, RTE_ETH_RSS_UDP, NULL, 0), 0);
	reta_all(conf, 1);
	assert_int_equal(fj_rss_reta_update(&edev, conf, 128), 0);
	assert_int_equal(T.cmds, 0);
	assert_int_equal(fj_rss_start(&dev), 0);
	assert_int_equal(T.cmds, 1);
	for (int i = 0; i < 128; i++)
		assert_int_equal(le16_at(8 + 2 * i), 1);
	/* Fewer rx queues at the next start: a stale table is not sent. */
	nb_rxq = 1;
	assert_int_equal(fj_rss_start(&dev), -EINVAL);
	assert_int_equal(T.cmds, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encoding_follows_virtio_net_rss_config),
		cmocka_unit_test(test_table_size_is_the_largest_power_of_two_the_device_takes),
		cmocka_unit_test(test_device_limits_out_of_spec_are_refused),
		cmocka_unit_test(test_defaults_spread_and_use_the_microsoft_key),
		cmocka_unit_test(test_flow_types_map_both_ways),
		cmocka_unit_test(test_infos_report_the_device_limits),
		cmocka_unit_test(test_a_device_without_rss_reports_none_and_refuses_rss_mode),
		cmocka_unit_test(test_device_limits_below_spec_drop_rss_at_probe),
		cmocka_unit_test(test_rss_mode_keeps_the_features_and_start_sends_the_config),
		cmocka_unit_test(test_key_of_another_length_is_refused),
		cmocka_unit_test(test_flow_types_the_device_cannot_hash_are_refused),
		cmocka_unit_test(test_reta_update_refuses_queues_beyond_the_port_and_wrong_sizes),
		cmocka_unit_test(test_reta_update_changes_only_masked_entries_and_is_sent),
		cmocka_unit_test(test_a_stopped_port_keeps_changes_for_its_start),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
