/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The stack's life: made from the command line (EAL's arguments, then the
 * stack's), set up for the chosen backend, released with everything it
 * opened.
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

int
fj_stack_setup(struct fj_stack *s)
{
	char name[RTE_MEMPOOL_NAMESIZE];

	/* Pool names are unique per process: the stack's address is. */
	snprintf(name, sizeof(name), "fj_mbufs_%" PRIxPTR, (uintptr_t)s);
	s->udp_ports = calloc(65536, sizeof(*s->udp_ports));
	s->mp = rte_pktmbuf_pool_create(name, NB_MBUFS, MBUF_CACHE, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					(int)rte_socket_id());
	if (s->udp_ports == NULL || s->mp == NULL) {
		fprintf(stderr, "fjord: out of memory for packet buffers\n");
		return -ENOMEM;
	}
	return s->ops->open(s);
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
	if (fj_stack_setup(s) < 0)
		goto fail_eal;
	*argcp = nrest;
	*argvp = rest;
	return s;

fail_eal:
	rte_mempool_free(s->mp);
	free(s->udp_ports);
	rte_eal_cleanup();
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

void
fj_stack_free(struct fj_stack *s)
{
	if (s == NULL)
		return;
	for (uint32_t p = 0; p < 65536; p++)
		if (s->udp_ports[p] != NULL)
			fj_udp_close(s->udp_ports[p]);
	s->ops->close(s);
	rte_mempool_free(s->mp);
	free(s->udp_ports);
	if (s->test_tx != NULL) {
		/* A test port's EAL serves the next one. */
		free(s->test_frame);
		free(s);
		return;
	}
	/* EAL started without shared files (the socket backend's) leaves its
	 * empty runtime directory behind; rmdir leaves any other alone. */
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	rmdir(dir);
	free(s);
}
