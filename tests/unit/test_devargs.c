/* SPDX-License-Identifier: BSD-3-Clause */
/* net_fjord_vhost devargs: good values parse, bad ones say why. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "devargs.h"
#include "virtio_features.h"

static char err[256];

static int
parse(const char *s, struct fj_vhost_args *a)
{
	return fj_vhost_args_parse(s, a, err, sizeof(err));
}

static void
expect_rejected(const char *s, const char *mentions)
{
	struct fj_vhost_args a;
	assert_int_equal(parse(s, &a), -EINVAL);
	if (strstr(err, mentions) == NULL)
		fail_msg("error for \"%s\" is \"%s\", expected it to mention \"%s\"", s, err, mentions);
}

static void
test_all_keys_parse(void **state)
{
	struct fj_vhost_args a;
	(void)state;
	assert_int_equal(parse("path=/run/vu.sock,queues=4,queue_size=512,mac=02:00:00:0a:0b:0c,"
			       "mrg_rxbuf=0,in_order=0,packed_vq=1,csum=0,tso=0", &a), 0);
	assert_string_equal(a.path, "/run/vu.sock");
	assert_int_equal(a.queues, 4);
	assert_int_equal(a.queue_size, 512);
	assert_true(a.has_mac);
	assert_memory_equal(a.mac, ((uint8_t[]){ 2, 0, 0, 0x0a, 0x0b, 0x0c }), 6);
	assert_int_equal(a.disabled, FJ_BIT(VIRTIO_NET_F_MRG_RXBUF) | FJ_BIT(VIRTIO_F_IN_ORDER) |
					     FJ_BIT(VIRTIO_NET_F_CSUM) | FJ_BIT(VIRTIO_NET_F_GUEST_CSUM) |
					     FJ_FEATURES_TSO);
}

static void
test_defaults_when_only_path_is_given(void **state)
{
	struct fj_vhost_args a;
	(void)state;
	assert_int_equal(parse("path=/x", &a), 0);
	assert_int_equal(a.queues, 1);
	assert_int_equal(a.queue_size, FJ_QUEUE_SIZE_DEFAULT);
	assert_false(a.has_mac);
	/* Everything the back-end offers, packed rings included. */
	assert_int_equal(a.disabled, 0);
	assert_int_equal(parse("path=/x,packed_vq=0", &a), 0);
	assert_int_equal(a.disabled, FJ_BIT(VIRTIO_F_RING_PACKED));
}

/* The default is a client that reconnects; server=1 listens, reconnect=0
 * gives up on a lost back-end; both take only 0 or 1. */
static void
test_server_and_reconnect(void **state)
{
	struct fj_vhost_args a;
	(void)state;
	assert_int_equal(parse("path=/x", &a), 0);
	assert_false(a.server);
	assert_false(a.no_reconnect);
	assert_int_equal(parse("path=/x,server=1,reconnect=0", &a), 0);
	assert_true(a.server);
	assert_true(a.no_reconnect);
	assert_int_equal(parse("path=/x,server=0,reconnect=1", &a), 0);
	assert_false(a.server);
	assert_false(a.no_reconnect);
	expect_rejected("path=/x,server=2", "server=2: must be 0 or 1");
	expect_rejected("path=/x,reconnect=yes", "reconnect=yes: must be 0 or 1");
	expect_rejected("path=/x,server=1,server=0", "more than once");
}

static void
test_path_is_required(void **state)
{
	(void)state;
	expect_rejected("", "path");
	expect_rejected("queues=2", "path");
	expect_rejected("path=", "path");
}

static void
test_unknown_keys_are_rejected(void **state)
{
	(void)state;
	expect_rejected("path=/x,iface=/y", "unknown key");
	expect_rejected("path=/x,queue=2", "unknown key");
}

static void
test_bad_queue_counts_are_rejected(void **state)
{
	(void)state;
	expect_rejected("path=/x,queues=0", "queues=0");
	expect_rejected("path=/x,queues=17", "queues=17");
	expect_rejected("path=/x,queues=two", "queues=two");
	expect_rejected("path=/x,queues=-1", "queues=-1");
	expect_rejected("path=/x,queues=1x", "queues=1x");
}

static void
test_queue_size_must_be_a_power_of_two_in_range(void **state)
{
	(void)state;
	expect_rejected("path=/x,queue_size=1000", "power of two");
	expect_rejected("path=/x,queue_size=32", "power of two");
	expect_rejected("path=/x,queue_size=65536", "power of two");
	expect_rejected("path=/x,queue_size=99999999999999999999", "power of two");
}

static void
test_bad_macs_are_rejected(void **state)
{
	(void)state;
	expect_rejected("path=/x,mac=01:00:5e:00:00:01", "unicast");
	expect_rejected("path=/x,mac=00:00:00:00:00:00", "unicast");
	expect_rejected("path=/x,mac=02:00:00:00:00", "unicast");
	expect_rejected("path=/x,mac=02-00-00-00-00-01", "unicast");
	expect_rejected("path=/x,mac=zz:00:00:00:00:01", "unicast");
	expect_rejected("path=/x,mac=02:00:00:00:00:011", "unicast");
}

static void
test_switches_take_only_zero_or_one(void **state)
{
	(void)state;
	expect_rejected("path=/x,mrg_rxbuf=2", "0 or 1");
	expect_rejected("path=/x,in_order=yes", "0 or 1");
	expect_rejected("path=/x,packed_vq=-1", "0 or 1");
}

static void
test_repeated_keys_are_rejected(void **state)
{
	(void)state;
	expect_rejected("path=/x,path=/y", "more than once");
	expect_rejected("path=/x,queues=1,queues=2", "more than once");
}

static void
test_overlong_socket_paths_are_rejected(void **state)
{
	char s[200] = "path=/";
	(void)state;
	memset(s + 6, 'a', 150);
	s[156] = '\0';
	expect_rejected(s, "longer");
}

/* ------------------------------------------------------ PCI */

static void
test_pci_switches_turn_features_off_and_on(void **state)
{
	uint64_t off = 0;
	(void)state;
	assert_int_equal(fj_pci_args_parse(NULL, &off, err, sizeof(err)), 0);
	assert_int_equal(fj_pci_args_parse("", &off, err, sizeof(err)), 0);
	assert_int_equal(off, 0);
	assert_int_equal(fj_pci_args_parse("rss=0", &off, err, sizeof(err)), 0);
	assert_int_equal(off, FJ_BIT(VIRTIO_NET_F_RSS) | FJ_BIT(VIRTIO_NET_F_HASH_REPORT));
	off = 0;
	assert_int_equal(fj_pci_args_parse("hash_report=0,packed_vq=0", &off, err, sizeof(err)), 0);
	assert_int_equal(off, FJ_BIT(VIRTIO_NET_F_HASH_REPORT) | FJ_BIT(VIRTIO_F_RING_PACKED));
	assert_int_equal(fj_pci_args_parse("rss=1,packed_vq=1", &off, err, sizeof(err)), 0);
	assert_int_equal(off, 0);
	assert_int_equal(fj_pci_args_parse("tso=0", &off, err, sizeof(err)), 0);
	assert_int_equal(off, FJ_FEATURES_TSO);
	assert_int_equal(fj_pci_args_parse("tso=1", &off, err, sizeof(err)), 0);
	assert_int_equal(off, 0);
	/* Whatever their order: RSS on, its hash reports off. */
	assert_int_equal(fj_pci_args_parse("hash_report=0,rss=1", &off, err, sizeof(err)), 0);
	assert_int_equal(off, FJ_BIT(VIRTIO_NET_F_HASH_REPORT));
}

static void
test_pci_bad_devargs_say_what_is_taken(void **state)
{
	uint64_t off = 0;
	(void)state;
	assert_int_equal(fj_pci_args_parse("queues=2", &off, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "bad device arguments"));
	assert_non_null(strstr(err, "packed_vq=<0|1> rss=<0|1> hash_report=<0|1> tso=<0|1>"));
	assert_int_equal(fj_pci_args_parse("rss=2", &off, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "rss"));
	assert_int_equal(fj_pci_args_parse("rss", &off, err, sizeof(err)), -EINVAL);
	assert_int_equal(fj_pci_args_parse("rss=0,rss=1", &off, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "once"));
	assert_int_equal(off, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_keys_parse),
		cmocka_unit_test(test_defaults_when_only_path_is_given),
		cmocka_unit_test(test_path_is_required),
		cmocka_unit_test(test_server_and_reconnect),
		cmocka_unit_test(test_unknown_keys_are_rejected),
		cmocka_unit_test(test_bad_queue_counts_are_rejected),
		cmocka_unit_test(test_queue_size_must_be_a_power_of_two_in_range),
		cmocka_unit_test(test_bad_macs_are_rejected),
		cmocka_unit_test(test_switches_take_only_zero_or_one),
		cmocka_unit_test(test_repeated_keys_are_rejected),
		cmocka_unit_test(test_overlong_socket_paths_are_rejected),
		cmocka_unit_test(test_pci_switches_turn_features_off_and_on),
		cmocka_unit_test(test_pci_bad_devargs_say_what_is_taken),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
