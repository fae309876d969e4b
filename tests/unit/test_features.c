/* SPDX-License-Identifier: BSD-3-Clause */
/* Feature negotiation, VIRTIO 1.2 §2.2 and §3.1.1. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "virtio_features.h"

#define PROTO FJ_BIT(30)

static void
test_device_without_version_1_is_refused_with_a_reason(void **state)
{
	uint64_t acc = 0xdead;
	const char *why = NULL;
	(void)state;
	uint64_t legacy = FJ_BIT(VIRTIO_NET_F_MAC) | FJ_BIT(VIRTIO_NET_F_MRG_RXBUF);
	assert_int_equal(fj_features_negotiate(legacy, 0, 0, &acc, &why), -ENOTSUP);
	assert_non_null(why);
	assert_non_null(strstr(why, "VERSION_1"));
}

static void
test_only_offered_and_supported_bits_are_accepted(void **state)
{
	uint64_t acc;
	const char *why;
	(void)state;
	uint64_t offer = FJ_BIT(VIRTIO_F_VERSION_1) | FJ_BIT(VIRTIO_NET_F_MRG_RXBUF) |
			 FJ_BIT(VIRTIO_NET_F_CSUM) | FJ_BIT(VIRTIO_F_RING_PACKED) |
			 FJ_BIT(VIRTIO_F_EVENT_IDX) | FJ_BIT(VIRTIO_F_INDIRECT_DESC) |
			 FJ_BIT(VIRTIO_NET_F_MQ) | FJ_BIT(VIRTIO_F_IN_ORDER) |
			 FJ_BIT(13) /* HOST_ECN: ECN with TSO is not driven */;
	assert_int_equal(fj_features_negotiate(offer, 0, 0, &acc, &why), 0);
	assert_int_equal(acc, FJ_BIT(VIRTIO_F_VERSION_1) | FJ_BIT(VIRTIO_NET_F_MRG_RXBUF) |
				      FJ_BIT(VIRTIO_NET_F_MQ) | FJ_BIT(VIRTIO_F_IN_ORDER) |
				      FJ_BIT(VIRTIO_F_RING_PACKED) | FJ_BIT(VIRTIO_NET_F_CSUM));
}

static void
test_supported_bits_not_offered_are_never_accepted(void **state)
{
	uint64_t acc;
	const char *why;
	(void)state;
	assert_int_equal(fj_features_negotiate(FJ_BIT(VIRTIO_F_VERSION_1), 0, PROTO, &acc, &why), 0);
	assert_int_equal(acc, FJ_BIT(VIRTIO_F_VERSION_1));
}

static void
test_devargs_can_switch_off_mergeable_buffers_and_in_order(void **state)
{
	uint64_t acc;
	const char *why;
	(void)state;
	uint64_t offer = FJ_BIT(VIRTIO_F_VERSION_1) | FJ_BIT(VIRTIO_NET_F_MRG_RXBUF) |
			 FJ_BIT(VIRTIO_F_IN_ORDER) | FJ_BIT(VIRTIO_NET_F_STATUS);
	assert_int_equal(fj_features_negotiate(offer,
			 FJ_BIT(VIRTIO_NET_F_MRG_RXBUF) | FJ_BIT(VIRTIO_F_IN_ORDER), 0, &acc, &why), 0);
	assert_int_equal(acc, FJ_BIT(VIRTIO_F_VERSION_1) | FJ_BIT(VIRTIO_NET_F_STATUS));
}

static void
test_version_1_cannot_be_switched_off(void **state)
{
	uint64_t acc;
	const char *why;
	(void)state;
	assert_int_equal(fj_features_negotiate(FJ_BIT(VIRTIO_F_VERSION_1),
			 FJ_BIT(VIRTIO_F_VERSION_1), 0, &acc, &why), 0);
	assert_true(acc & FJ_BIT(VIRTIO_F_VERSION_1));
}

static void
test_access_platform_is_accepted_when_offered(void **state)
{
	uint64_t acc;
	const char *why;
	(void)state;
	uint64_t offer = FJ_BIT(VIRTIO_F_VERSION_1) | FJ_BIT(VIRTIO_F_ACCESS_PLATFORM);
	assert_int_equal(fj_features_negotiate(offer, FJ_BIT(VIRTIO_F_ACCESS_PLATFORM), 0,
					       &acc, &why), 0);
	assert_true(acc & FJ_BIT(VIRTIO_F_ACCESS_PLATFORM));
}

static void
test_transport_bits_are_accepted_only_when_offered(void **state)
{
	uint64_t acc;
	const char *why;
	(void)state;
	assert_int_equal(fj_features_negotiate(FJ_BIT(VIRTIO_F_VERSION_1) | PROTO, 0, PROTO,
					       &acc, &why), 0);
	assert_true(acc & PROTO);
	assert_int_equal(fj_features_negotiate(FJ_BIT(VIRTIO_F_VERSION_1) | PROTO, 0, 0,
					       &acc, &why), 0);
	assert_false(acc & PROTO);
}

#define RSS_OFFER (FJ_BIT(VIRTIO_F_VERSION_1) | FJ_BIT(VIRTIO_NET_F_CTRL_VQ) | \
		   FJ_BIT(VIRTIO_NET_F_MQ) | FJ_BIT(VIRTIO_NET_F_RSS) | \
		   FJ_BIT(VIRTIO_NET_F_HASH_REPORT))
#define CTRL FJ_BIT(VIRTIO_NET_F_CTRL_VQ) /* the PCI transport's own bit */

static void
test_rss_and_hash_reports_are_taken_with_the_control_queue_and_mq(void **state)
{
	uint64_t acc;
	const char *why;
	(void)state;
	assert_int_equal(fj_features_negotiate(RSS_OFFER, 0, CTRL, &acc, &why), 0);
	assert_int_equal(acc, RSS_OFFER);
}

static void
test_rss_needs_the_control_queue_and_mq(void **state)
{
	uint64_t acc;
	const char *why;
	(void)state;
	/* §5.1.3.1: no control queue (vhost-user takes none): neither feature. */
	assert_int_equal(fj_features_negotiate(RSS_OFFER, 0, 0, &acc, &why), 0);
	assert_false(acc & (FJ_BIT(VIRTIO_NET_F_RSS) | FJ_BIT(VIRTIO_NET_F_HASH_REPORT)));
	assert_int_equal(fj_features_negotiate(RSS_OFFER & ~FJ_BIT(VIRTIO_NET_F_MQ), 0, CTRL,
					       &acc, &why), 0);
	assert_false(acc & (FJ_BIT(VIRTIO_NET_F_RSS) | FJ_BIT(VIRTIO_NET_F_HASH_REPORT)));
	assert_true(acc & CTRL);
}

static void
test_hash_reports_need_rss(void **state)
{
	uint64_t acc;
	const char *why;
	(void)state;
	assert_int_equal(fj_features_negotiate(RSS_OFFER & ~FJ_BIT(VIRTIO_NET_F_RSS), 0, CTRL,
					       &acc, &why), 0);
	assert_false(acc & FJ_BIT(VIRTIO_NET_F_HASH_REPORT));
	/* rss=0 switches both off, hash_report=0 only the reports. */
	assert_int_equal(fj_features_negotiate(RSS_OFFER, FJ_BIT(VIRTIO_NET_F_RSS), CTRL, &acc,
					       &why), 0);
	assert_false(acc & (FJ_BIT(VIRTIO_NET_F_RSS) | FJ_BIT(VIRTIO_NET_F_HASH_REPORT)));
	assert_int_equal(fj_features_negotiate(RSS_OFFER, FJ_BIT(VIRTIO_NET_F_HASH_REPORT), CTRL,
					       &acc, &why), 0);
	assert_true(acc & FJ_BIT(VIRTIO_NET_F_RSS));
	assert_false(acc & FJ_BIT(VIRTIO_NET_F_HASH_REPORT));
}

#define TSO_OFFER                                                                   \
	(FJ_BIT(VIRTIO_F_VERSION_1) | FJ_BIT(VIRTIO_NET_F_CSUM) | FJ_BIT(VIRTIO_NET_F_GUEST_CSUM) | \
	 FJ_BIT(VIRTIO_NET_F_MRG_RXBUF) | FJ_FEATURES_TSO)

static void
test_tso_is_taken_with_its_checksum_features(void **state)
{
	uint64_t acc;
	const char *why;
	(void)state;
	assert_int_equal(fj_features_negotiate(TSO_OFFER, 0, 0, &acc, &why), 0);
	assert_int_equal(acc, TSO_OFFER);
	/* §5.1.3.1: HOST_TSO needs CSUM, GUEST_TSO needs GUEST_CSUM. */
	assert_int_equal(fj_features_negotiate(TSO_OFFER & ~FJ_BIT(VIRTIO_NET_F_CSUM), 0, 0, &acc,
					       &why), 0);
	assert_false(acc & FJ_FEATURES_HOST_TSO);
	assert_int_equal(acc & FJ_FEATURES_GUEST_TSO, FJ_FEATURES_GUEST_TSO);
	assert_int_equal(fj_features_negotiate(TSO_OFFER & ~FJ_BIT(VIRTIO_NET_F_GUEST_CSUM), 0, 0,
					       &acc, &why), 0);
	assert_false(acc & FJ_FEATURES_GUEST_TSO);
	assert_int_equal(acc & FJ_FEATURES_HOST_TSO, FJ_FEATURES_HOST_TSO);
	/* Large receive only into mergeable buffers (§5.1.6.3.1). */
	assert_int_equal(fj_features_negotiate(TSO_OFFER, FJ_BIT(VIRTIO_NET_F_MRG_RXBUF), 0, &acc,
					       &why), 0);
	assert_false(acc & FJ_FEATURES_GUEST_TSO);
	assert_int_equal(acc & FJ_FEATURES_HOST_TSO, FJ_FEATURES_HOST_TSO);
	/* csum=0 takes TSO with it; tso=0 leaves the checksums. */
	assert_int_equal(fj_features_negotiate(TSO_OFFER, FJ_BIT(VIRTIO_NET_F_CSUM) |
							       FJ_BIT(VIRTIO_NET_F_GUEST_CSUM),
					       0, &acc, &why), 0);
	assert_false(acc & FJ_FEATURES_TSO);
	assert_int_equal(fj_features_negotiate(TSO_OFFER, FJ_FEATURES_TSO, 0, &acc, &why), 0);
	assert_int_equal(acc, TSO_OFFER & ~FJ_FEATURES_TSO);
}

static void
test_feature_names_are_listed_for_logs(void **state)
{
	char buf[128];
	(void)state;
	fj_features_str(FJ_BIT(VIRTIO_F_VERSION_1) | FJ_BIT(VIRTIO_NET_F_MRG_RXBUF), buf, sizeof(buf));
	assert_string_equal(buf, "MRG_RXBUF VERSION_1");
	/* Truncation never overruns. */
	fj_features_str(~UINT64_C(0), buf, 16);
	assert_true(strlen(buf) < 16);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_device_without_version_1_is_refused_with_a_reason),
		cmocka_unit_test(test_only_offered_and_supported_bits_are_accepted),
		cmocka_unit_test(test_supported_bits_not_offered_are_never_accepted),
		cmocka_unit_test(test_devargs_can_switch_off_mergeable_buffers_and_in_order),
		cmocka_unit_test(test_version_1_cannot_be_switched_off),
		cmocka_unit_test(test_access_platform_is_accepted_when_offered),
		cmocka_unit_test(test_transport_bits_are_accepted_only_when_offered),
		cmocka_unit_test(test_feature_names_are_listed_for_logs),
		cmocka_unit_test(test_rss_and_hash_reports_are_taken_with_the_control_queue_and_mq),
		cmocka_unit_test(test_rss_needs_the_control_queue_and_mq),
		cmocka_unit_test(test_hash_reports_need_rss),
		cmocka_unit_test(test_tso_is_taken_with_its_checksum_features),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
