/* SPDX-License-Identifier: BSD-3-Clause */
/* The virtio PCI capability walk (VIRTIO 1.2 §4.1.4) against fake config space. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "virtio_pci_caps.h"

struct fake {
	uint8_t cfg[256];
	uint64_t bar_len[6];
	uint8_t last; /* offset of the last capability, 0 if none */
};

static void
wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void
fake_init(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	f->cfg[0x06] = 0x10; /* capability list present */
	f->bar_len[4] = 0x4000;
}

/* Append a capability at @at (linked after the previous one). */
static uint8_t *
add_cap(struct fake *f, uint8_t at, uint8_t id, uint8_t len)
{
	uint8_t *c = f->cfg + at;
	c[0] = id;
	c[1] = 0;
	c[2] = len;
	if (f->last == 0)
		f->cfg[0x34] = at;
	else
		f->cfg[f->last + 1] = at;
	f->last = at;
	return c;
}

static void
add_virtio(struct fake *f, uint8_t at, uint8_t type, uint8_t bar, uint32_t off, uint32_t len,
	   uint32_t mult)
{
	uint8_t *c = add_cap(f, at, 0x09, type == 2 ? 20 : 16);
	c[3] = type;
	c[4] = bar;
	wr32(c + 8, off);
	wr32(c + 12, len);
	if (type == 2)
		wr32(c + 16, mult);
}

/* What QEMU's virtio-net-pci presents: MSI-X, then the four virtio structures. */
static void
fake_qemu(struct fake *f)
{
	fake_init(f);
	uint8_t *msix = add_cap(f, 0x98, 0x11, 0);
	msix[2] = 3; /* Message Control: table size 4, QEMU's default for one pair */
	msix[3] = 0;
	add_virtio(f, 0x84, 1, 4, 0x0000, 0x1000, 0);
	add_virtio(f, 0x70, 3, 4, 0x1000, 0x1000, 0);
	add_virtio(f, 0x60, 4, 4, 0x2000, 0x1000, 0);
	add_virtio(f, 0x4c, 2, 4, 0x3000, 0x1000, 4);
}

static const char *why;

static int
parse(struct fake *f, struct fj_pci_caps *c)
{
	return fj_pci_caps_parse(f->cfg, sizeof(f->cfg), f->bar_len, c, &why);
}

static void
test_qemu_layout_is_found(void **state)
{
	struct fake f;
	struct fj_pci_caps c;
	(void)state;
	fake_qemu(&f);
	assert_int_equal(parse(&f, &c), 0);
	assert_true(c.common.present && c.notify.present && c.isr.present && c.device.present);
	assert_int_equal(c.common.bar, 4);
	assert_int_equal(c.isr.offset, 0x1000);
	assert_int_equal(c.device.offset, 0x2000);
	assert_int_equal(c.notify.offset, 0x3000);
	assert_int_equal(c.notify_off_multiplier, 4);
}

static void
test_msix_table_size_is_read(void **state)
{
	struct fake f;
	struct fj_pci_caps caps;
	(void)state;

	fake_qemu(&f);
	assert_int_equal(fj_pci_caps_parse(f.cfg, 256, f.bar_len, &caps, &why), 0);
	assert_int_equal(caps.msix_vectors, 4);
	/* The largest table PCI allows: 2048 entries (§4.1.5.1.2: 0 to 0x7ff). */
	f.cfg[0x98 + 2] = 0xff;
	f.cfg[0x98 + 3] = 0xc7; /* enable and mask bits are not part of the size */
	assert_int_equal(fj_pci_caps_parse(f.cfg, 256, f.bar_len, &caps, &why), 0);
	assert_int_equal(caps.msix_vectors, 2048);
	/* No MSI-X capability: no vectors. */
	fake_init(&f);
	add_virtio(&f, 0x84, 1, 4, 0x0000, 0x1000, 0);
	add_virtio(&f, 0x70, 3, 4, 0x1000, 0x1000, 0);
	add_virtio(&f, 0x4c, 2, 4, 0x3000, 0x1000, 4);
	assert_int_equal(fj_pci_caps_parse(f.cfg, 256, f.bar_len, &caps, &why), 0);
	assert_int_equal(caps.msix_vectors, 0);
}

static void
test_device_without_capability_list_is_legacy(void **state)
{
	struct fake f;
	struct fj_pci_caps c;
	(void)state;
	fake_qemu(&f);
	f.cfg[0x06] = 0;
	assert_int_equal(parse(&f, &c), -ENODEV);
	assert_non_null(strstr(why, "legacy"));
}

static void
test_missing_notify_structure_is_refused(void **state)
{
	struct fake f;
	struct fj_pci_caps c;
	(void)state;
	fake_init(&f);
	add_virtio(&f, 0x40, 1, 4, 0, 0x100, 0);
	add_virtio(&f, 0x50, 3, 4, 0x100, 4, 0);
	assert_int_equal(parse(&f, &c), -ENODEV);
	assert_non_null(strstr(why, "notify"));
}

static void
test_looping_capability_list_is_refused(void **state)
{
	struct fake f;
	struct fj_pci_caps c;
	(void)state;
	fake_qemu(&f);
	f.cfg[0x4c + 1] = 0x98; /* last points back to the first */
	assert_int_equal(parse(&f, &c), -EINVAL);
	assert_non_null(strstr(why, "loop"));
}

static void
test_pointer_into_the_standard_header_is_refused(void **state)
{
	struct fake f;
	struct fj_pci_caps c;
	(void)state;
	fake_qemu(&f);
	f.cfg[0x34] = 0x10;
	assert_int_equal(parse(&f, &c), -EINVAL);
}

static void
test_structure_beyond_its_bar_is_refused(void **state)
{
	struct fake f;
	struct fj_pci_caps c;
	(void)state;
	fake_qemu(&f);
	f.bar_len[4] = 0x3800; /* notify at 0x3000 + 0x1000 no longer fits */
	assert_int_equal(parse(&f, &c), -EINVAL);
	assert_non_null(strstr(why, "BAR"));
	fake_qemu(&f);
	wr32(f.cfg + 0x84 + 8, 0xfffff000); /* offset + length overflows 32 bits */
	assert_int_equal(parse(&f, &c), -EINVAL);
	fake_qemu(&f);
	f.bar_len[4] = 0;
	assert_int_equal(parse(&f, &c), -EINVAL);
}

static void
test_truncated_capabilities_are_refused(void **state)
{
	struct fake f;
	struct fj_pci_caps c;
	(void)state;
	fake_qemu(&f);
	f.cfg[0x4c + 2] = 16; /* notify cap without its multiplier */
	assert_int_equal(parse(&f, &c), -EINVAL);
	fake_qemu(&f);
	f.cfg[0x84 + 2] = 8;
	assert_int_equal(parse(&f, &c), -EINVAL);
	fake_init(&f);
	add_virtio(&f, 0xf8, 1, 4, 0, 0x100, 0); /* runs past byte 255 */
	assert_int_equal(parse(&f, &c), -EINVAL);
}

static void
test_odd_notify_multiplier_is_refused(void **state)
{
	struct fake f;
	struct fj_pci_caps c;
	(void)state;
	fake_qemu(&f);
	wr32(f.cfg + 0x4c + 16, 3);
	assert_int_equal(parse(&f, &c), -EINVAL);
	wr32(f.cfg + 0x4c + 16, 1);
	assert_int_equal(parse(&f, &c), -EINVAL);
	wr32(f.cfg + 0x4c + 16, 0); /* 0: every queue notifies at one address */
	assert_int_equal(parse(&f, &c), 0);
}

static void
test_short_common_structure_is_refused(void **state)
{
	struct fake f;
	struct fj_pci_caps c;
	(void)state;
	fake_qemu(&f);
	wr32(f.cfg + 0x84 + 12, 40);
	assert_int_equal(parse(&f, &c), -EINVAL);
}

static void
test_first_usable_structure_of_a_type_wins_and_unknown_ones_are_skipped(void **state)
{
	struct fake f;
	struct fj_pci_caps c;
	(void)state;
	fake_init(&f);
	f.bar_len[2] = 0x1000;
	add_virtio(&f, 0x40, 1, 7, 0, 0x100, 0);   /* reserved bar: ignored */
	add_virtio(&f, 0x50, 9, 4, 0, 0x100, 0);   /* vendor data: ignored */
	add_virtio(&f, 0x60, 1, 2, 0x0, 0x100, 0); /* first usable common */
	add_virtio(&f, 0x70, 1, 4, 0x0, 0x100, 0); /* second common: not used */
	add_virtio(&f, 0x80, 2, 4, 0x100, 0x100, 2);
	add_virtio(&f, 0x98, 3, 4, 0x200, 1, 0);
	assert_int_equal(parse(&f, &c), 0);
	assert_int_equal(c.common.bar, 2);
	assert_false(c.device.present);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qemu_layout_is_found),
		cmocka_unit_test(test_msix_table_size_is_read),
		cmocka_unit_test(test_device_without_capability_list_is_legacy),
		cmocka_unit_test(test_missing_notify_structure_is_refused),
		cmocka_unit_test(test_looping_capability_list_is_refused),
		cmocka_unit_test(test_pointer_into_the_standard_header_is_refused),
		cmocka_unit_test(test_structure_beyond_its_bar_is_refused),
		cmocka_unit_test(test_truncated_capabilities_are_refused),
		cmocka_unit_test(test_odd_notify_multiplier_is_refused),
		cmocka_unit_test(test_short_common_structure_is_refused),
		cmocka_unit_test(test_first_usable_structure_of_a_type_wins_and_unknown_ones_are_skipped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
