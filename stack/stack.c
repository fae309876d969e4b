/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The stack's life: made from the command line (EAL's arguments, then the
 * stack's), one shard per lcore, set up for the chosen backend, released
 * with everything it opened.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "config.h"
#include "stack.h"

RTE_LOG_REGISTER_DEFAULT(fj_stack_logtype, NOTICE);

#define NB_MBUFS 8191
#define MBUF_CACHE 256
#define NB_REFS 16383

/* A shard's packet buffers and UDP port table. */
static int
shard_buffers(struct fj_stack *s)
{
	char name[RTE_MEMPOOL_NAMESIZE];

	/* Pool names are unique per process: the shard's address is. */
	snprintf(name, sizeof(name), "fj_mbufs_%" PRIxPTR, (uintptr_t)s);
	/* A frame steered to another shard is freed there, into that lcore's
	 * cache of this pool (up to 1.5 times its size before a flush): room
	 * for every other lcore's cache, so that they cannot starve the rx
	 * queue this pool refills. */
	unsigned n = NB_MBUFS;
	if (s->ops == &fj_direct_ops)
		n += (s->g->n - 1) * (MBUF_CACHE * 3 / 2);
	s->udp_ports = calloc(65536, sizeof(*s->udp_ports));
	s->mp = rte_pktmbuf_pool_create(name, n, MBUF_CACHE, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					(int)rte_socket_id());
	/* TCP's references to send-queue buffers: no data room of their own.
	 * Each piece of a segment in the port's tx ring holds one until the
	 * port is done with it. */
	if (s->ops == &fj_direct_ops) {
		snprintf(name, sizeof(name), "fj_refs_%" PRIxPTR, (uintptr_t)s);
		s->ref_mp = rte_pktmbuf_pool_create(name, NB_REFS, MBUF_CACHE, 0, 0,
						    (int)rte_socket_id());
	}
	if (s->udp_ports == NULL || s->mp == NULL ||
	    (s->ops == &fj_direct_ops && s->ref_mp == NULL)) {
		fprintf(stderr, "fjord: out of memory for packet buffers\n");
		return -ENOMEM;
	}
	return 0;
}

static void
release_buffers(struct fj_stack *s0)
{
	for (unsigned i = 0; i < s0->g->n; i++) {
		struct fj_stack *s = s0->g->shard[i];
		if (s == NULL)
			continue;
		rte_mempool_free(s->mp);
		rte_mempool_free(s->ref_mp);
		free(s->udp_ports);
		s->mp = NULL;
		s->ref_mp = NULL;
		s->udp_ports = NULL;
	}
}

/* Close shards @from-1 down to 1, then 0: shard 0 holds the port, whose
 * queues hold every shard's buffers. */
static void
close_shards(struct fj_stack *s0, unsigned from)
{
	for (unsigned i = from; i-- > 0;)
		s0->g->shard[i]->ops->close(s0->g->shard[i]);
}

int
fj_stack_setup(struct fj_stack *s0)
{
	struct fj_shards *g = s0->g;
	int rc;

	for (unsigned i = 0; i < g->n; i++)
		if (shard_buffers(g->shard[i]) < 0)
			return -ENOMEM;
	/* Shard 0 first: it sets up the port for all. */
	for (unsigned i = 0; i < g->n; i++) {
		rc = g->shard[i]->ops->open(g->shard[i]);
		if (rc < 0) {
			close_shards(s0, i);
			return rc;
		}
	}
	return 0;
}

void
fj_stack_release(struct fj_stack *s0)
{
	if (s0->g != NULL) {
		fj_shards_drain(s0);
		release_buffers(s0);
		for (unsigned i = 1; i < s0->g->n; i++)
			if (s0->g->shard[i] != NULL)
				free(s0->g->shard[i]->test_frame);
		fj_shards_free(s0);
	}
	free(s0->test_frame);
	free(s0->test_q);
	free(s0);
}

struct fj_stack *
fj_stack_from_args(int *argcp, char ***argvp)
{
	int argc = *argcp;
	char **argv = *argvp;
	struct fj_cfg c = FJ_CFG_DEFAULTS;
	int eal_argc = argc, rc;
	struct fj_stack *s;
	char **rest;
	int nrest;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			eal_argc = i;
			break;
		}
	rest = calloc((size_t)argc + 1, sizeof(*rest));
	s = calloc(1, sizeof(*s));
	if (rest == NULL || s == NULL)
		goto fail;
	nrest = fj_cfg_args(&c, argc, argv, eal_argc + 1, rest);
	if (nrest < 0 || fj_cfg_apply(s, &c) < 0)
		goto fail;

	rc = s->ops->eal_init(eal_argc, argv);
	if (rc < 0) {
		fprintf(stderr, "fjord: EAL initialisation failed: %s\n", rte_strerror(rte_errno));
		goto fail;
	}
	s->hz = rte_get_tsc_hz();
	/* One shard per lcore of EAL's -l. */
	if (fj_shards_create(s, rte_lcore_count()) < 0) {
		fprintf(stderr, "fjord: out of memory for %u shards\n", rte_lcore_count());
		goto fail_eal;
	}
	if (fj_stack_setup(s) < 0)
		goto fail_eal;
	*argcp = nrest;
	*argvp = rest;
	return s;

fail_eal:
	fj_stack_release(s);
	rte_eal_cleanup();
	free(rest);
	return NULL;
fail:
	free(rest);
	free(s);
	return NULL;
}

const char *
fj_stack_backend(const struct fj_stack *s)
{
	return s->ops->name;
}

static void
close_udp(struct fj_stack *s, void *payload)
{
	RTE_SET_USED(payload);
	for (uint32_t p = 0; p < 65536; p++)
		if (s->udp_ports[p] != NULL) {
			struct fj_udp *u = s->udp_ports[p];
			s->udp_ports[p] = NULL;
			s->ops->udp_close(u);
		}
}

void
fj_stack_free(struct fj_stack *s)
{
	if (s == NULL)
		return;
	s = s->g->shard[0];
	for (unsigned i = 0; i < s->g->n; i++)
		close_udp(s->g->shard[i], NULL);
	close_shards(s, s->g->n);
	if (s->test_tx != NULL) {
		/* A test port's EAL serves the next one. */
		fj_stack_release(s);
		return;
	}
	/* EAL started without shared files (the socket backend's) leaves its
	 * empty runtime directory behind; rmdir leaves any other alone. */
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	fj_stack_release(s);
	rte_eal_cleanup();
	rmdir(dir);
}

/* ------------------------------------------------------ shards */

unsigned
fj_stack_shards(const struct fj_stack *s)
{
	return s->g->n;
}

struct fj_stack *
fj_stack_shard(struct fj_stack *s, unsigned i)
{
	return i < s->g->n ? s->g->shard[i] : NULL;
}

unsigned
fj_shard_id(const struct fj_stack *s)
{
	return s->id;
}

unsigned
fj_shard(void)
{
	struct fj_stack *s = fj_shard_self();

	return s ? s->id : 0;
}

unsigned
fj_stack_shard_of(struct fj_stack *s, uint16_t lport, const struct fj_addr *remote)
{
	return s->g->n == 1 ? 0 : s->ops->shard_of(s, lport, remote);
}
