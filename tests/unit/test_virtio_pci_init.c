/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The PCI transport's device initialisation (VIRTIO 1.2 §3.1.1, §4.1.4.3,
 * §4.1.5) against a simulated virtio-net device behind the common and
 * device-specific configuration registers. The transport is compiled here
 * with FJ_VPCI_SIM, so the code under test is the driver's own.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <rte_eal.h>

#define FJ_VPCI_SIM
#include "../../pmd/virtio_pci.c"
#include "../../pmd/virtio_pci_intr.c"
#include "virtio_features.h"

int fj_logtype;

/* The ethdev layer is not under test: at most one rx queue, nothing to report. */
static struct fj_rxq *sim_rxq;
struct fj_rxq *fj_dev_rxq(struct fj_dev *dev, uint16_t q) { (void)dev; return q == 0 ? sim_rxq : NULL; }
struct fj_txq *fj_dev_txq(struct fj_dev *dev, uint16_t q) { (void)dev; (void)q; return NULL; }
uint16_t fj_dev_nb_rxq(struct fj_dev *dev) { (void)dev; return sim_rxq != NULL; }
void fj_ethdev_link_changed(struct fj_dev *dev) { (void)dev; }
int fj_ethdev_init(struct rte_eth_dev *e, struct fj_dev *d) { (void)e; (void)d; return 0; }
int fj_ethdev_close(struct rte_eth_dev *e) { (void)e; return 0; }

/* ------------------------------------------------------ the device */

#define SIM_QUEUES 8
#define SIM_NOTIFY_MULT 4

struct simq {
	uint16_t size, max, msix, enable, noff;
	uint64_t desc, driver, device;
	uint16_t last_avail;
	bool wrap;            /* packed: the device's wrap counter */
};

static struct sim {
	/* behaviour */
	uint64_t offer;
	bool refuse_features_ok;
	bool reset_stuck;
	bool removed;
	int churn;            /* config reads that see the generation move */
	bool nack;            /* control commands answered with an error */
	bool noff_outside;    /* queue_notify_off beyond the notify structure */
	uint16_t msix_table;  /* MSI-X vectors the device maps; 0: any */
	bool refuse_vectors;  /* ... or none at all */
	/* registers */
	uint8_t status;
	uint32_t dfsel, gfsel;
	uint64_t drv_features;
	uint16_t num_queues, qsel, msix;
	uint8_t gen;
	struct simq q[SIM_QUEUES];
	uint8_t devcfg[64];
	/* what the driver did */
	uint8_t status_log[16];
	int nstatus;
	uint64_t features_at_ok;
	int enabled_at_driver_ok;
	int cmds;
	uint8_t cmd[8];
	uint16_t cmd_len;
	uint16_t cfg_msix_set;         /* last config_msix_vector written */
	uint16_t q_msix_set[SIM_QUEUES]; /* last queue_msix_vector written, per queue */
} S;

/* §4.1.5.1.2: a vector the device cannot map reads back as NO_VECTOR. */
static uint16_t
sim_map_vector(uint16_t v)
{
	if (v == VIRTIO_MSI_NO_VECTOR || S.refuse_vectors)
		return VIRTIO_MSI_NO_VECTOR;
	return S.msix_table == 0 || v < S.msix_table ? v : VIRTIO_MSI_NO_VECTOR;
}

static uint8_t notify_area[SIM_QUEUES * SIM_NOTIFY_MULT];

static void
sim_reset_regs(void)
{
	S.status = 0;
	S.drv_features = 0;
	S.qsel = 0;
	S.num_queues = 3;
	for (int i = 0; i < SIM_QUEUES; i++) {
		S.q[i] = (struct simq){ .max = 256, .size = 256, .msix = 0, .wrap = true,
					.noff = S.noff_outside ? 1000 : (uint16_t)i };
	}
}

static void
sim_init(uint64_t offer)
{
	memset(&S, 0, sizeof(S));
	S.offer = offer;
	sim_reset_regs();
	/* mac, status (link up), max_virtqueue_pairs, mtu */
	const uint8_t mac[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };
	memcpy(S.devcfg, mac, 6);
	S.devcfg[6] = VIRTIO_NET_S_LINK_UP;
	S.devcfg[8] = 2;
	S.devcfg[10] = 0xdc;
	S.devcfg[11] = 0x05;
}

static void *
iova_to_va(struct fj_vpci *p, uint64_t iova)
{
	const struct rte_memzone *mz = p->cvq.mz;

	assert_non_null(mz);
	assert_true(iova >= mz->iova && iova < mz->iova + mz->len);
	return (uint8_t *)mz->addr + (iova - mz->iova);
}

/* One command's buffers, as the device reads them; returns its ack byte. */
static uint8_t *
sim_take_cmd(struct fj_vpci *p, uint64_t addr, uint32_t len, bool write, uint8_t *ack)
{
	uint8_t *b = iova_to_va(p, addr);

	if (write)
		return b;
	assert_true(S.cmd_len + len <= sizeof(S.cmd));
	memcpy(S.cmd + S.cmd_len, b, len);
	S.cmd_len = (uint16_t)(S.cmd_len + len);
	return ack;
}

static void
sim_run_cvq_split(struct fj_vpci *p, struct simq *q)
{
	struct vring_desc *desc = iova_to_va(p, q->desc);
	struct vring_avail *avail = iova_to_va(p, q->driver);
	struct vring_used *used = iova_to_va(p, q->device);

	while (q->last_avail != avail->idx) {
		uint16_t head = avail->ring[q->last_avail % q->size];
		uint16_t id = head;
		uint8_t *ack = NULL;
		S.cmd_len = 0;
		for (int n = 0; n < 4; n++) {
			struct vring_desc *d = &desc[id];
			ack = sim_take_cmd(p, d->addr, d->len, d->flags & VRING_DESC_F_WRITE, ack);
			if (!(d->flags & VRING_DESC_F_NEXT))
				break;
			id = d->next;
		}
		assert_non_null(ack);
		*ack = S.nack ? 1 : 0;
		used->ring[used->idx % q->size] = (struct vring_used_elem){ head, 1 };
		__atomic_store_n(&used->idx, (uint16_t)(used->idx + 1), __ATOMIC_RELEASE);
		q->last_avail++;
		S.cmds++;
	}
}

/* §2.8: a descriptor is available when AVAIL matches the device's wrap
 * counter and USED does not; the device writes one used descriptor, at the
 * head's slot, for the whole chain. */
static void
sim_run_cvq_packed(struct fj_vpci *p, struct simq *q)
{
	struct vring_packed_desc *ring = iova_to_va(p, q->desc);

	for (;;) {
		uint16_t head = q->last_avail;
		uint16_t f = __atomic_load_n(&ring[head].flags, __ATOMIC_ACQUIRE);
		if (!!(f & VRING_PACKED_DESC_F_AVAIL) != q->wrap ||
		    !!(f & VRING_PACKED_DESC_F_USED) == q->wrap)
			return;
		uint8_t *ack = NULL;
		uint16_t n = 0, id = 0;
		S.cmd_len = 0;
		for (;;) {
			struct vring_packed_desc *d = &ring[(head + n) % q->size];
			ack = sim_take_cmd(p, d->addr, d->len, d->flags & VRING_DESC_F_WRITE, ack);
			id = d->id;
			n++;
			if (!(d->flags & VRING_DESC_F_NEXT))
				break;
			assert_true(n < 4);
		}
		assert_non_null(ack);
		*ack = S.nack ? 1 : 0;
		ring[head].id = id;
		ring[head].len = 1;
		__atomic_store_n(&ring[head].flags,
				 q->wrap ? VRING_PACKED_DESC_F_AVAIL | VRING_PACKED_DESC_F_USED : 0,
				 __ATOMIC_RELEASE);
		q->last_avail = (uint16_t)(q->last_avail + n);
		if (q->last_avail >= q->size) {
			q->last_avail = (uint16_t)(q->last_avail - q->size);
			q->wrap = !q->wrap;
		}
		S.cmds++;
	}
}

/* The device side of the control queue: run on every register access. */
static void
sim_run_cvq(struct fj_vpci *p)
{
	uint16_t cq = (uint16_t)(2 * S.devcfg[8]);
	struct simq *q = &S.q[cq];

	if (!(S.status & VIRTIO_STATUS_DRIVER_OK) || !q->enable || p->cvq.mz == NULL)
		return;
	if (S.drv_features & FJ_BIT(VIRTIO_F_RING_PACKED))
		sim_run_cvq_packed(p, q);
	else
		sim_run_cvq_split(p, q);
}

uint32_t
fj_sim_read(struct fj_vpci *p, bool common, uint32_t off, int width)
{
	if (S.removed)
		return width == 1 ? 0xff : width == 2 ? 0xffff : 0xffffffffu;
	sim_run_cvq(p);
	if (!common) {
		assert_int_equal(width, 1);
		assert_true(off < sizeof(S.devcfg));
		if (S.churn > 0) {
			/* A config change lands between the driver's reads. */
			S.churn--;
			S.gen++;
			return (uint8_t)(S.devcfg[off] ^ 0x5a);
		}
		return S.devcfg[off];
	}
	struct simq *q = &S.q[S.qsel % SIM_QUEUES];
	switch (off) {
	case CC_DF:
		return (uint32_t)(S.offer >> (S.dfsel ? 32 : 0));
	case CC_GF:
		return (uint32_t)(S.drv_features >> (S.gfsel ? 32 : 0));
	case CC_NUMQ:
		return S.num_queues;
	case CC_STATUS:
		return S.status;
	case CC_CFGGEN:
		return S.gen;
	case CC_MSIX:
		return S.msix;
	case CC_Q_SIZE:
		return S.qsel < S.num_queues ? q->size : 0;
	case CC_Q_NOFF:
		return q->noff;
	case CC_Q_ENABLE:
		return q->enable;
	case CC_Q_MSIX:
		return q->msix;
	default:
		fail_msg("read of common config offset %#x", off);
	}
	return 0;
}

void
fj_sim_write(struct fj_vpci *p, uint32_t off, uint32_t v, int width)
{
	(void)p;
	(void)width;
	if (S.removed)
		return;
	struct simq *q = &S.q[S.qsel % SIM_QUEUES];
	switch (off) {
	case CC_DFSELECT: S.dfsel = v; break;
	case CC_GFSELECT: S.gfsel = v; break;
	case CC_GF:
		if (S.gfsel)
			S.drv_features = (S.drv_features & 0xffffffffu) | (uint64_t)v << 32;
		else
			S.drv_features = (S.drv_features & ~0xffffffffull) | v;
		break;
	case CC_MSIX:
		S.cfg_msix_set = (uint16_t)v;
		S.msix = sim_map_vector((uint16_t)v);
		break;
	case CC_STATUS:
		if (S.nstatus < (int)sizeof(S.status_log))
			S.status_log[S.nstatus++] = (uint8_t)v;
		if (v == 0) {
			if (!S.reset_stuck)
				sim_reset_regs();
			break;
		}
		if ((v & VIRTIO_STATUS_FEATURES_OK) && !(S.status & VIRTIO_STATUS_FEATURES_OK)) {
			/* §3.1.1: the driver must not have asked for more than offered. */
			assert_int_equal(S.drv_features & ~S.offer, 0);
			S.features_at_ok = S.drv_features;
			if (S.refuse_features_ok)
				v &= ~(uint32_t)VIRTIO_STATUS_FEATURES_OK;
			else if (S.drv_features & FJ_BIT(VIRTIO_NET_F_MQ))
				S.num_queues = (uint16_t)(2 * S.devcfg[8] + 1);
		}
		if ((v & VIRTIO_STATUS_DRIVER_OK) && !(S.status & VIRTIO_STATUS_DRIVER_OK)) {
			S.enabled_at_driver_ok = 0;
			for (int i = 0; i < SIM_QUEUES; i++)
				S.enabled_at_driver_ok += S.q[i].enable;
		}
		S.status = (uint8_t)v;
		break;
	case CC_Q_SELECT: S.qsel = (uint16_t)v; break;
	case CC_Q_SIZE:
		assert_false(S.status & VIRTIO_STATUS_DRIVER_OK);
		q->size = (uint16_t)v;
		break;
	case CC_Q_MSIX:
		S.q_msix_set[S.qsel % SIM_QUEUES] = (uint16_t)v;
		q->msix = sim_map_vector((uint16_t)v);
		break;
	case CC_Q_ENABLE: q->enable = (uint16_t)v; break;
	case CC_Q_DESC: q->desc = (q->desc & ~0xffffffffull) | v; break;
	case CC_Q_DESC + 4: q->desc = (q->desc & 0xffffffffu) | (uint64_t)v << 32; break;
	case CC_Q_DRIVER: q->driver = (q->driver & ~0xffffffffull) | v; break;
	case CC_Q_DRIVER + 4: q->driver = (q->driver & 0xffffffffu) | (uint64_t)v << 32; break;
	case CC_Q_DEVICE: q->device = (q->device & ~0xffffffffull) | v; break;
	case CC_Q_DEVICE + 4: q->device = (q->device & 0xffffffffu) | (uint64_t)v << 32; break;
	default:
		fail_msg("write of common config offset %#x", off);
	}
}

/* ------------------------------------------------------ a driver instance */

static struct fj_dev D;
static struct fj_vpci P;
static struct rte_pci_device PCI;
static uint8_t dummy_regs[256];

static void
drv_init(void)
{
	memset(&D, 0, sizeof(D));
	memset(&P, 0, sizeof(P));
	memset(&PCI, 0, sizeof(PCI));
	PCI.device.numa_node = SOCKET_ID_ANY;
	snprintf(D.name, sizeof(D.name), "sim");
	D.ops = &vpci_ops;
	D.tp = &P;
	P.pci = &PCI;
	/* Register accesses go to the simulation; these only need to be set. */
	P.common = dummy_regs;
	P.device = dummy_regs;
	P.device_len = sizeof(S.devcfg);
	P.notify = notify_area;
	P.notify_len = sizeof(notify_area);
	P.notify_mult = SIM_NOTIFY_MULT;
}

static void
drv_fini(void)
{
	fj_ctrlq_free(&P.cvq);
}

#define NET_OFFER                                                                  \
	(FJ_BIT(VIRTIO_F_VERSION_1) | FJ_BIT(VIRTIO_NET_F_MAC) | FJ_BIT(VIRTIO_NET_F_STATUS) | \
	 FJ_BIT(VIRTIO_NET_F_MRG_RXBUF) | FJ_BIT(VIRTIO_NET_F_CTRL_VQ) | FJ_BIT(VIRTIO_NET_F_MQ) | \
	 FJ_BIT(VIRTIO_NET_F_CTRL_RX) | FJ_BIT(VIRTIO_F_EVENT_IDX) | FJ_BIT(VIRTIO_F_ACCESS_PLATFORM))

/* Probe-time part of fj_pci_init plus feature negotiation, as ethdev does. */
static int
drv_probe(void)
{
	int rc = vpci_reset(&P);
	if (rc < 0)
		return rc;
	vpci_add_status(&P, VIRTIO_STATUS_ACKNOWLEDGE);
	vpci_add_status(&P, VIRTIO_STATUS_DRIVER);
	P.num_queues = cc_r16(&P, CC_NUMQ);
	rc = vpci_get_features(&D, &D.offered);
	if (rc < 0)
		return rc;
	const char *why;
	rc = fj_features_negotiate(D.offered, 0, vpci_ops.transport_features, &D.features, &why);
	if (rc < 0)
		return rc;
	rc = vpci_set_features(&D, D.features);
	if (rc < 0)
		return rc;
	return vpci_max_queue_pairs(&D, &D.max_pairs);
}

/* ------------------------------------------------------ tests */

static void
test_init_sequence_in_spec_order(void **state)
{
	(void)state;
	sim_init(NET_OFFER);
	drv_init();
	assert_int_equal(drv_probe(), 0);
	/* §3.1.1: reset, ACKNOWLEDGE, DRIVER, FEATURES_OK, each adding a bit. */
	const uint8_t A = VIRTIO_STATUS_ACKNOWLEDGE, Dr = VIRTIO_STATUS_DRIVER,
		      F = VIRTIO_STATUS_FEATURES_OK;
	assert_int_equal(S.nstatus, 4);
	assert_int_equal(S.status_log[0], 0);
	assert_int_equal(S.status_log[1], A);
	assert_int_equal(S.status_log[2], A | Dr);
	assert_int_equal(S.status_log[3], A | Dr | F);
	/* Only what fjord implements, never EVENT_IDX or CTRL_RX it does not. */
	assert_int_equal(S.features_at_ok,
			 FJ_BIT(VIRTIO_F_VERSION_1) | FJ_BIT(VIRTIO_NET_F_MAC) |
				 FJ_BIT(VIRTIO_NET_F_STATUS) | FJ_BIT(VIRTIO_NET_F_MRG_RXBUF) |
				 FJ_BIT(VIRTIO_NET_F_CTRL_VQ) | FJ_BIT(VIRTIO_NET_F_MQ) |
				 FJ_BIT(VIRTIO_F_ACCESS_PLATFORM));
	assert_int_equal(D.max_pairs, 2);
	assert_int_equal(P.cfg_pairs, 2);
	drv_fini();
}

static void
test_start_sets_up_control_queue_and_pairs(void **state)
{
	(void)state;
	sim_init(NET_OFFER);
	drv_init();
	assert_int_equal(drv_probe(), 0);
	D.pairs = 2;
	S.nstatus = 0;
	assert_int_equal(vpci_start(&D), 0);
	/* Start repeats §3.1.1 from a reset and ends with DRIVER_OK. */
	assert_int_equal(S.status_log[0], 0);
	assert_true(S.status & VIRTIO_STATUS_DRIVER_OK);
	/* The control queue (index 2 * max_virtqueue_pairs) was live before DRIVER_OK. */
	assert_int_equal(S.enabled_at_driver_ok, 1);
	assert_int_equal(S.q[4].enable, 1);
	assert_int_equal(S.q[4].msix, VIRTIO_MSI_NO_VECTOR);
	/* §5.1.6.5.5: VQ_PAIRS_SET 2 after DRIVER_OK. */
	assert_int_equal(S.cmds, 1);
	assert_int_equal(S.cmd_len, 4);
	assert_int_equal(S.cmd[0], VIRTIO_NET_CTRL_MQ);
	assert_int_equal(S.cmd[1], VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET);
	assert_int_equal(S.cmd[2] | S.cmd[3] << 8, 2);
	assert_true(vpci_link_up(&D));
	/* A second start (port restart) works on the reset device again. */
	vpci_stop(&D);
	assert_int_equal(S.status, 0);
	assert_int_equal(vpci_start(&D), 0);
	assert_int_equal(S.cmds, 2);
	vpci_stop(&D);
	drv_fini();
}

/*
 * §5.1.6.5.7.1: with VIRTIO_NET_F_RSS the RSS configuration sets the queue
 * pairs, sent by the ethdev layer through the transport's ctrl op after
 * start; the start itself sends no VQ_PAIRS_SET.
 */
static void
test_rss_start_leaves_the_pairs_to_the_rss_config(void **state)
{
	(void)state;
	const uint8_t cfg[4] = { 1, 2, 3, 4 };

	sim_init(NET_OFFER | FJ_BIT(VIRTIO_NET_F_RSS) | FJ_BIT(VIRTIO_NET_F_HASH_REPORT));
	drv_init();
	assert_int_equal(drv_probe(), 0);
	assert_true(D.features & FJ_BIT(VIRTIO_NET_F_RSS));
	assert_true(S.features_at_ok & FJ_BIT(VIRTIO_NET_F_HASH_REPORT));
	D.pairs = 2;
	assert_int_equal(vpci_start(&D), 0);
	assert_int_equal(S.cmds, 0);
	assert_int_equal(vpci_ops.ctrl(&D, VIRTIO_NET_CTRL_MQ, 1, cfg, sizeof(cfg)), 0);
	assert_int_equal(S.cmds, 1);
	assert_int_equal(S.cmd[0], VIRTIO_NET_CTRL_MQ);
	assert_int_equal(S.cmd[1], 1);
	assert_memory_equal(S.cmd + 2, cfg, sizeof(cfg));
	vpci_stop(&D);
	drv_fini();
}

/* Commands enough to wrap the control ring several times, on @packed rings. */
static void
control_queue_runs_many_commands(bool packed)
{
	sim_init(NET_OFFER | (packed ? FJ_BIT(VIRTIO_F_RING_PACKED) : 0));
	drv_init();
	assert_int_equal(drv_probe(), 0);
	assert_int_equal(!!(D.features & FJ_BIT(VIRTIO_F_RING_PACKED)), packed);
	D.pairs = 2;
	assert_int_equal(vpci_start(&D), 0);
	assert_int_equal(P.cvq.packed, packed);
	assert_int_equal(S.cmds, 1);
	for (uint16_t i = 0; i < 40; i++) {
		uint16_t pairs = (uint16_t)(1 + i % 2);
		assert_int_equal(fj_ctrlq_cmd(&P.cvq, "sim", VIRTIO_NET_CTRL_MQ,
					      VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &pairs, 2), 0);
		assert_int_equal(S.cmd_len, 4);
		assert_int_equal(S.cmd[2] | S.cmd[3] << 8, pairs);
	}
	assert_int_equal(S.cmds, 41);
	/* Every descriptor came back. */
	assert_int_equal(packed ? P.cvq.pr.nfree : P.cvq.vr.nfree, P.cvq.num);
	vpci_stop(&D);
	drv_fini();
}

static void
test_split_control_queue_wraps(void **state)
{
	(void)state;
	control_queue_runs_many_commands(false);
}

static void
test_packed_rings_make_the_control_queue_packed(void **state)
{
	(void)state;
	control_queue_runs_many_commands(true);
}

static void
test_packed_vq_devarg(void **state)
{
	(void)state;
	drv_init();
	assert_int_equal(vpci_parse_devargs(&D, NULL), 0);
	assert_int_equal(vpci_parse_devargs(&D, ""), 0);
	assert_int_equal(D.disabled, 0);
	assert_int_equal(vpci_parse_devargs(&D, "packed_vq=0"), 0);
	assert_int_equal(D.disabled, FJ_BIT(VIRTIO_F_RING_PACKED));
	assert_int_equal(vpci_parse_devargs(&D, "packed_vq=1"), 0);
	assert_int_equal(D.disabled, 0);
	assert_int_equal(vpci_parse_devargs(&D, "packed_vq=2"), -EINVAL);
	assert_int_equal(vpci_parse_devargs(&D, "packed_vq"), -EINVAL);
	assert_int_equal(vpci_parse_devargs(&D, "queues=2"), -EINVAL);
	/* With packed_vq=0 the device's RING_PACKED offer is declined. */
	uint64_t got;
	const char *why;
	assert_int_equal(fj_features_negotiate(NET_OFFER | FJ_BIT(VIRTIO_F_RING_PACKED),
					       FJ_BIT(VIRTIO_F_RING_PACKED), 0, &got, &why), 0);
	assert_false(got & FJ_BIT(VIRTIO_F_RING_PACKED));
}

static void
test_control_command_refused_fails_start(void **state)
{
	(void)state;
	sim_init(NET_OFFER);
	drv_init();
	assert_int_equal(drv_probe(), 0);
	D.pairs = 2;
	S.nack = true;
	assert_int_equal(vpci_start(&D), -EIO);
	/* A failed start leaves the device reset, not half-running. */
	assert_int_equal(S.status, 0);
	drv_fini();
}

/* ------------------------------------------------------ interrupts */

/* An ethdev port around the driver: intr_conf, dev_flags, one rx queue. */
static struct rte_eth_dev E;
static struct rte_eth_dev_data ED;
static struct fj_rxq RXQ;
static uint16_t rxq_link[256];

static struct rte_intr_handle *
intr_port(enum rte_intr_handle_type type, bool rxq_intr, bool lsc, uint16_t msix_vectors)
{
	memset(&E, 0, sizeof(E));
	memset(&ED, 0, sizeof(ED));
	E.data = &ED;
	ED.dev_conf.intr_conf.rxq = rxq_intr;
	ED.dev_conf.intr_conf.lsc = lsc;
	ED.dev_flags = lsc ? RTE_ETH_DEV_INTR_LSC : 0;
	D.eth_dev = &E;
	P.msix_vectors = msix_vectors;

	memset(&RXQ, 0, sizeof(RXQ));
	assert_int_equal(fj_vring_layout(256, RTE_CACHE_LINE_SIZE, &RXQ.lay), 0);
	RXQ.mz = rte_memzone_reserve_aligned("t_rxq", RXQ.lay.size, SOCKET_ID_ANY, 0, 4096);
	assert_non_null(RXQ.mz);
	assert_int_equal(fj_vring_init(&RXQ.vr, RXQ.mz->addr, &RXQ.lay, 256, false, rxq_link), 0);
	sim_rxq = &RXQ;

	struct rte_intr_handle *h = rte_intr_instance_alloc(RTE_INTR_INSTANCE_F_PRIVATE);
	assert_non_null(h);
	assert_int_equal(rte_intr_type_set(h, type), 0);
	PCI.intr_handle = h;
	return h;
}

static void
intr_port_free(void)
{
	rte_intr_instance_free(PCI.intr_handle);
	PCI.intr_handle = NULL;
	rte_memzone_free(RXQ.mz);
	sim_rxq = NULL;
	D.eth_dev = NULL;
}

static void
test_rx_interrupts_checked_at_configure(void **state)
{
	(void)state;
	sim_init(NET_OFFER);
	drv_init();
	/* Without rx queue interrupts nothing is asked of the device. */
	intr_port(RTE_INTR_HANDLE_UIO_INTX, false, false, 0);
	assert_int_equal(fj_vpci_intr_check(&D), 0);
	intr_port_free();
	/* INTx only (uio_pci_generic). */
	intr_port(RTE_INTR_HANDLE_UIO_INTX, true, false, 4);
	assert_int_equal(fj_vpci_intr_check(&D), -ENOTSUP);
	intr_port_free();
	/* vfio-pci on a device without MSI-X. */
	intr_port(RTE_INTR_HANDLE_VFIO_MSIX, true, false, 0);
	assert_int_equal(fj_vpci_intr_check(&D), -ENOTSUP);
	intr_port_free();
	/* One vector: config changes only. */
	intr_port(RTE_INTR_HANDLE_VFIO_MSIX, true, false, 1);
	assert_int_equal(fj_vpci_intr_check(&D), -ENOSPC);
	intr_port_free();
	intr_port(RTE_INTR_HANDLE_VFIO_MSIX, true, false, 2);
	assert_int_equal(fj_vpci_intr_check(&D), 0);
	intr_port_free();
	drv_fini();
}

static void
test_rx_queue_gets_vector_one_and_the_rest_none(void **state)
{
	(void)state;
	sim_init(NET_OFFER);
	drv_init();
	assert_int_equal(drv_probe(), 0);
	D.pairs = 1;
	struct rte_intr_handle *h = intr_port(RTE_INTR_HANDLE_VFIO_MSIX, true, false, 4);
	memset(S.q_msix_set, 0x55, sizeof(S.q_msix_set));
	/*
	 * No kernel driver behind this handle, so enabling the vectors fails
	 * last; by then every vector was written and read back.
	 */
	assert_int_equal(vpci_start(&D), -EIO);
	assert_int_equal(S.q_msix_set[0], RTE_INTR_VEC_RXTX_OFFSET); /* rx0 */
	assert_int_equal(S.q_msix_set[4], VIRTIO_MSI_NO_VECTOR);     /* control queue */
	assert_int_equal(S.cfg_msix_set, VIRTIO_MSI_NO_VECTOR);      /* no LSC asked */
	/* A failed start gives back the event fds and leaves the device reset. */
	assert_int_equal(rte_intr_nb_efd_get(h), 0);
	assert_false(P.rxq_intr);
	assert_int_equal(S.status, 0);
	intr_port_free();
	drv_fini();
}

static void
test_refused_rx_queue_vector_fails_start(void **state)
{
	(void)state;
	sim_init(NET_OFFER);
	S.msix_table = 1; /* maps vector 0 only */
	drv_init();
	assert_int_equal(drv_probe(), 0);
	D.pairs = 1;
	struct rte_intr_handle *h = intr_port(RTE_INTR_HANDLE_VFIO_MSIX, true, false, 4);
	assert_int_equal(vpci_start(&D), -ENOSPC);
	assert_int_equal(S.q_msix_set[0], RTE_INTR_VEC_RXTX_OFFSET);
	assert_int_equal(rte_intr_nb_efd_get(h), 0);
	assert_int_equal(S.status, 0);
	intr_port_free();
	drv_fini();
}

static void
test_refused_config_vector_falls_back_to_polling(void **state)
{
	(void)state;
	sim_init(NET_OFFER);
	S.refuse_vectors = true;
	drv_init();
	assert_int_equal(drv_probe(), 0);
	D.pairs = 1;
	intr_port(RTE_INTR_HANDLE_VFIO_MSIX, false, true, 4);
	/* LSC was promised at probe: the port starts, an alarm polls the link. */
	assert_int_equal(vpci_start(&D), 0);
	assert_int_equal(S.cfg_msix_set, RTE_INTR_VEC_ZERO_OFFSET);
	assert_true(P.lsc_poll);
	assert_false(P.lsc_cb);
	vpci_stop(&D);
	assert_false(P.lsc_poll);
	intr_port_free();
	drv_fini();
}

static void
test_features_ok_refused(void **state)
{
	(void)state;
	sim_init(NET_OFFER);
	S.refuse_features_ok = true;
	drv_init();
	assert_int_equal(drv_probe(), -ENOTSUP);
	/* §3.1.1 step 6: the driver gives up with FAILED. */
	assert_true(S.status & VIRTIO_STATUS_FAILED);
	drv_fini();
}

static void
test_legacy_only_device_refused(void **state)
{
	(void)state;
	sim_init(NET_OFFER & ~FJ_BIT(VIRTIO_F_VERSION_1));
	drv_init();
	assert_int_equal(drv_probe(), -ENOTSUP);
	assert_false(S.status & VIRTIO_STATUS_FEATURES_OK);
	drv_fini();
}

static void
test_reset_that_never_completes_is_bounded(void **state)
{
	(void)state;
	sim_init(NET_OFFER);
	drv_init();
	S.status = VIRTIO_STATUS_ACKNOWLEDGE;
	S.reset_stuck = true;
	assert_int_equal(vpci_reset(&P), -ETIMEDOUT);
	drv_fini();
}

static void
test_removed_device(void **state)
{
	(void)state;
	sim_init(NET_OFFER);
	drv_init();
	assert_int_equal(drv_probe(), 0);
	D.pairs = 1;
	assert_int_equal(vpci_start(&D), 0);
	/* Surprise removal: every read is all ones. */
	S.removed = true;
	assert_false(vpci_link_up(&D));
	assert_true(P.removed);
	vpci_stop(&D); /* no reset attempted, no hang */
	uint64_t f;
	assert_int_equal(vpci_get_features(&D, &f), -ENODEV);
	assert_int_equal(vpci_reset(&P), -ENODEV);
	drv_fini();
}

static void
test_device_needs_reset_means_link_down(void **state)
{
	(void)state;
	sim_init(NET_OFFER);
	drv_init();
	assert_int_equal(drv_probe(), 0);
	D.pairs = 1;
	assert_int_equal(vpci_start(&D), 0);
	assert_true(vpci_link_up(&D));
	S.status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	assert_false(vpci_link_up(&D));
	vpci_stop(&D);
	drv_fini();
}

static void
test_link_status_from_config(void **state)
{
	(void)state;
	sim_init(NET_OFFER);
	drv_init();
	assert_int_equal(drv_probe(), 0);
	D.pairs = 1;
	assert_int_equal(vpci_start(&D), 0);
	S.devcfg[6] = 0;
	assert_false(vpci_link_up(&D));
	S.devcfg[6] = VIRTIO_NET_S_LINK_UP;
	assert_true(vpci_link_up(&D));
	vpci_stop(&D);
	drv_fini();
}

static void
test_config_read_retries_until_generation_stable(void **state)
{
	(void)state;
	sim_init(NET_OFFER);
	drv_init();
	uint8_t mac[6];
	S.churn = 3; /* three torn reads first */
	assert_int_equal(vpci_read_config(&D, VIRTIO_NET_CFG_MAC, mac, 6), 0);
	assert_memory_equal(mac, S.devcfg, 6);
	/* A device whose generation never settles: bounded, -EAGAIN. */
	S.churn = INT_MAX;
	assert_int_equal(vpci_read_config(&D, VIRTIO_NET_CFG_MAC, mac, 6), -EAGAIN);
	/* Outside the device-specific structure: refused. */
	S.churn = 0;
	assert_int_equal(vpci_read_config(&D, 60, mac, 6), -ENOTSUP);
	drv_fini();
}

static void
test_queue_setup_checks(void **state)
{
	(void)state;
	sim_init(NET_OFFER);
	drv_init();
	assert_int_equal(drv_probe(), 0);
	struct fj_vring_layout lay;
	assert_int_equal(fj_vring_layout(256, RTE_CACHE_LINE_SIZE, &lay), 0);
	const struct rte_memzone *mz =
		rte_memzone_reserve_aligned("t_ring", lay.size, SOCKET_ID_ANY, 0, 4096);
	assert_non_null(mz);
	uint8_t *base = mz->addr;
	struct fj_ring_addrs r = { base, base + lay.avail_off, base + lay.used_off, 256, false, mz };
	struct fj_notify nt;

	/* The rings' IOVAs, the size, no interrupt vector; notify at off * mult. */
	assert_int_equal(vpci_setup_queue(&D, 1, r, &nt, VIRTIO_MSI_NO_VECTOR), 0);
	assert_int_equal(S.q[1].desc, mz->iova);
	assert_int_equal(S.q[1].driver, mz->iova + lay.avail_off);
	assert_int_equal(S.q[1].device, mz->iova + lay.used_off);
	assert_int_equal(S.q[1].enable, 1);
	assert_int_equal(S.q[1].msix, VIRTIO_MSI_NO_VECTOR);
	assert_ptr_equal(nt.addr, notify_area + 1 * SIM_NOTIFY_MULT);
	/* Beyond the device's queues. */
	assert_int_equal(vpci_setup_queue(&D, 7, r, &nt, VIRTIO_MSI_NO_VECTOR), -EINVAL);
	/* More descriptors than the device takes. */
	S.q[0].size = 128;
	assert_int_equal(vpci_setup_queue(&D, 0, r, &nt, VIRTIO_MSI_NO_VECTOR), -EINVAL);
	/* A notify offset outside the notify structure. */
	S.q[0].size = 256;
	S.q[0].noff = 1000;
	assert_int_equal(vpci_setup_queue(&D, 0, r, &nt, VIRTIO_MSI_NO_VECTOR), -EINVAL);
	rte_memzone_free(mz);
	drv_fini();
}

static void
test_mq_without_control_queue_is_one_pair(void **state)
{
	(void)state;
	sim_init(NET_OFFER & ~FJ_BIT(VIRTIO_NET_F_CTRL_VQ));
	drv_init();
	assert_int_equal(drv_probe(), 0);
	assert_int_equal(D.max_pairs, 1);
	D.pairs = 1;
	assert_int_equal(vpci_start(&D), 0);
	assert_int_equal(S.cmds, 0);
	vpci_stop(&D);
	drv_fini();
}

static void
test_iommu_bypass_refused_under_va(void **state)
{
	(void)state;
	if (rte_eal_iova_mode() != RTE_IOVA_VA)
		skip();
	sim_init(NET_OFFER);
	drv_init();
	assert_int_equal(vpci_check_dma(&D), 0);
	sim_init(NET_OFFER & ~FJ_BIT(VIRTIO_F_ACCESS_PLATFORM));
	assert_int_equal(vpci_check_dma(&D), -ENOTSUP);
	drv_fini();
}

/* Capability walk into mapped BARs: missing or bad structures, clear errors. */
static void
put_cap(uint8_t *cfg, uint8_t at, uint8_t next, uint8_t type, uint8_t bar, uint32_t off,
	uint32_t len, uint8_t caplen)
{
	cfg[at] = 0x09;
	cfg[at + 1] = next;
	cfg[at + 2] = caplen;
	cfg[at + 3] = type;
	cfg[at + 4] = bar;
	memcpy(cfg + at + 8, &off, 4);
	memcpy(cfg + at + 12, &len, 4);
}

static void
test_map_caps(void **state)
{
	(void)state;
	static uint8_t bar4[16384];
	uint8_t cfg[256] = { 0 };
	uint8_t *addr[6] = { NULL, NULL, NULL, NULL, bar4, NULL };
	uint64_t len[6] = { 0, 0, 0, 0, sizeof(bar4), 0 };
	uint32_t mult = 4;

	cfg[0x06] = 0x10; /* status: capability list */
	cfg[0x34] = 0x40;
	put_cap(cfg, 0x40, 0x50, 1, 4, 0x0000, 0x38, 16);   /* common */
	put_cap(cfg, 0x50, 0x60, 3, 4, 0x1000, 0x4, 16);    /* ISR */
	put_cap(cfg, 0x60, 0x70, 4, 4, 0x2000, 0x40, 16);   /* device */
	put_cap(cfg, 0x70, 0x00, 2, 4, 0x3000, 0x1000, 20); /* notify */
	memcpy(cfg + 0x70 + 16, &mult, 4);

	sim_init(NET_OFFER);
	drv_init();
	assert_int_equal(vpci_map_caps(&D, &P, cfg, sizeof(cfg), addr, len), 0);
	assert_ptr_equal(P.common, bar4);
	assert_ptr_equal(P.isr, bar4 + 0x1000);
	assert_ptr_equal(P.device, bar4 + 0x2000);
	assert_ptr_equal(P.notify, bar4 + 0x3000);
	assert_int_equal(P.notify_mult, 4);
	assert_int_equal(P.notify_len, 0x1000);

	/* The notify structure runs past a BAR only half as long as claimed. */
	uint64_t short_len[6] = { 0, 0, 0, 0, 0x3800, 0 };
	drv_init();
	P.common = NULL;
	assert_int_equal(vpci_map_caps(&D, &P, cfg, sizeof(cfg), addr, short_len), -ENODEV);
	assert_null(P.common);

	/* No common structure: the list skips it. */
	uint8_t cfg2[256];
	memcpy(cfg2, cfg, sizeof(cfg2));
	cfg2[0x34] = 0x50;
	drv_init();
	assert_int_equal(vpci_map_caps(&D, &P, cfg2, sizeof(cfg2), addr, len), -ENODEV);

	/* A capability pointer into the standard header. */
	memcpy(cfg2, cfg, sizeof(cfg2));
	cfg2[0x34] = 0x08;
	drv_init();
	assert_int_equal(vpci_map_caps(&D, &P, cfg2, sizeof(cfg2), addr, len), -ENODEV);
	drv_fini();
}

static int
setup(void **state)
{
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "--file-prefix=fjunit_pci_%d", (int)getpid());
	char *argv[] = { "test_virtio_pci_init", "--no-huge", "-m", "64", "--no-pci", "--no-shconf",
			 "--log-level=lib.eal:error", "--no-telemetry", prefix, NULL };
	(void)state;
	return rte_eal_init(9, argv) < 0 ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	rmdir(dir);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_sequence_in_spec_order),
		cmocka_unit_test(test_start_sets_up_control_queue_and_pairs),
		cmocka_unit_test(test_rss_start_leaves_the_pairs_to_the_rss_config),
		cmocka_unit_test(test_split_control_queue_wraps),
		cmocka_unit_test(test_packed_rings_make_the_control_queue_packed),
		cmocka_unit_test(test_packed_vq_devarg),
		cmocka_unit_test(test_control_command_refused_fails_start),
		cmocka_unit_test(test_rx_interrupts_checked_at_configure),
		cmocka_unit_test(test_rx_queue_gets_vector_one_and_the_rest_none),
		cmocka_unit_test(test_refused_rx_queue_vector_fails_start),
		cmocka_unit_test(test_refused_config_vector_falls_back_to_polling),
		cmocka_unit_test(test_features_ok_refused),
		cmocka_unit_test(test_legacy_only_device_refused),
		cmocka_unit_test(test_reset_that_never_completes_is_bounded),
		cmocka_unit_test(test_removed_device),
		cmocka_unit_test(test_device_needs_reset_means_link_down),
		cmocka_unit_test(test_link_status_from_config),
		cmocka_unit_test(test_config_read_retries_until_generation_stable),
		cmocka_unit_test(test_queue_setup_checks),
		cmocka_unit_test(test_mq_without_control_queue_is_one_pair),
		cmocka_unit_test(test_map_caps),
		cmocka_unit_test(test_iommu_bypass_refused_under_va),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
