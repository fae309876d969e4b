/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The kernel exception path (--kernel-exception IFNAME): what the stack
 * does not take goes to the kernel, and what the kernel sends leaves
 * through the stack's port, so a host whose only NIC runs fjord is still
 * reached by its own services (sshd) on the ports fjord does not serve.
 *
 * The kernel's side is a tap interface IFNAME made with DPDK's net_tap,
 * with the port's MAC address: the user gives it the stack's address
 * (ip addr add ... dev IFNAME), so that the kernel and the stack are one
 * host to the network. Taken by the kernel: TCP segments for no flow and
 * no listener (instead of a RST), UDP datagrams to unbound ports (instead
 * of port unreachable), IP protocols and Ethernet types the stack does not
 * speak, ICMP messages other than echo requests and the errors it acts
 * on; copied to it: ARP replies, which both need. The kernel's frames are
 * read every 50 us by shard 0 and sent as they are; each shard hands its
 * exceptions to its own queue of the tap.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_ethdev.h>

#include "direct.h"

#define EXC_VDEV "net_tap_fjexc" /* (net_tap names its pools after it: short) */
#define EXC_NB_DESC 512
#define EXC_POLL_US 50

int
fj_exception_open(struct fj_stack *s)
{
	char args[128];
	struct rte_eth_conf conf;
	uint16_t port, nq = (uint16_t)s->g->n;
	int rc;

	if (s->exc_ifname[0] == '\0')
		return 0;
	snprintf(args, sizeof(args), "iface=%s,mac=%02x:%02x:%02x:%02x:%02x:%02x", s->exc_ifname,
		 s->mac.b[0], s->mac.b[1], s->mac.b[2], s->mac.b[3], s->mac.b[4], s->mac.b[5]);
	rc = rte_eal_hotplug_add("vdev", EXC_VDEV, args);
	if (rc == 0)
		rc = rte_eth_dev_get_port_by_name(EXC_VDEV, &port);
	if (rc < 0) {
		FJ_STACK_LOG(ERR, "--kernel-exception %s: cannot make the tap interface (net_tap): %s",
			     s->exc_ifname, rte_strerror(-rc));
		return rc;
	}
	memset(&conf, 0, sizeof(conf));
	rc = rte_eth_dev_configure(port, 1, nq, &conf);
	for (uint16_t q = 0; q < nq && rc == 0; q++)
		rc = rte_eth_tx_queue_setup(port, q, EXC_NB_DESC, (unsigned)rte_socket_id(), NULL);
	if (rc == 0)
		rc = rte_eth_rx_queue_setup(port, 0, EXC_NB_DESC, (unsigned)rte_socket_id(), NULL,
					    s->mp);
	if (rc == 0)
		rc = rte_eth_dev_start(port);
	if (rc < 0) {
		FJ_STACK_LOG(ERR, "--kernel-exception %s: the tap port did not start: %s",
			     s->exc_ifname, rte_strerror(-rc));
		rte_eth_dev_close(port);
		rte_eal_hotplug_remove("vdev", EXC_VDEV);
		return rc;
	}
	/* Whatever the kernel sends, to any address. */
	rte_eth_promiscuous_enable(port);
	s->exc_port = port;
	s->has_exc = true;
	FJ_STACK_LOG(NOTICE, "kernel exception path: tap %s (port %u), MAC of port %u: what the "
		     "stack does not take goes to the kernel there", s->exc_ifname, port, s->port);
	return 0;
}

void
fj_exception_close(struct fj_stack *s)
{
	if (!s->has_exc || s->test_exc != NULL)
		return;
	rte_eth_dev_stop(s->exc_port);
	rte_eth_dev_close(s->exc_port);
	rte_eal_hotplug_remove("vdev", EXC_VDEV);
	s->has_exc = false;
}

void
fj_exception_flush(struct fj_stack *s)
{
	uint16_t n = s->nexc, sent = 0;

	if (n == 0)
		return;
	for (int tries = 0; sent < n && tries < 4; tries++)
		sent = (uint16_t)(sent + rte_eth_tx_burst(s->exc_port, (uint16_t)s->id, s->exc_tx + sent,
						    (uint16_t)(n - sent)));
	s->c.exception_to_kernel += sent;
	for (uint16_t i = sent; i < n; i++)
		fj_drop(s, s->exc_tx[i], FJ_DROP_EXCEPTION_FULL);
	s->nexc = 0;
}

bool
fj_exception_take(struct fj_stack *s, struct rte_mbuf *m)
{
	if (!s->has_exc)
		return false;
	if (s->test_exc != NULL) {
		s->c.exception_to_kernel++;
		fj_testport_exception(s, m);
		return true;
	}
	if (s->nexc == RTE_DIM(s->exc_tx))
		fj_exception_flush(s);
	/* (as it came: the tap sends nothing of the port's receive flags) */
	m->ol_flags = 0;
	s->exc_tx[s->nexc++] = m;
	return true;
}

void
fj_exception_copy(struct fj_stack *s, const struct rte_mbuf *m)
{
	if (!s->has_exc)
		return;
	struct rte_mbuf *c = rte_pktmbuf_copy(m, s->mp, 0, UINT32_MAX);
	if (c == NULL) {
		s->c.drops[FJ_DROP_NO_MBUF]++;
		return;
	}
	fj_exception_take(s, c);
}

/* Shard 0: the kernel's frames out through the port, every EXC_POLL_US
 * at most (each read of the tap is a system call). */
void
fj_exception_poll(struct fj_stack *s, uint64_t now)
{
	struct rte_mbuf *pkts[FJ_BURST];

	if (now < s->exc_next)
		return;
	s->exc_next = now + s->hz * EXC_POLL_US / 1000000;
	uint16_t n = rte_eth_rx_burst(s->exc_port, 0, pkts, FJ_BURST);
	for (uint16_t i = 0; i < n; i++) {
		pkts[i]->ol_flags = 0;
		s->c.exception_from_kernel++;
		fj_netif_send(s, pkts[i]);
	}
}
