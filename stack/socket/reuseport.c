/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The socket backend's shards: every shard binds its own listening and UDP
 * socket to a port (SO_REUSEPORT), and a classic BPF program on the group
 * (SO_ATTACH_REUSEPORT_CBPF) makes the kernel pick, for each SYN or
 * datagram, the socket of the shard fj_flow_owner names: the same owner
 * the direct stack's software steering computes, so fj_stack_shard_of
 * answers for both backends. The program reads the IPv4 header at the
 * network offset and the ports behind a 20-byte header (no IP options;
 * with options it still picks one socket per flow, only not the
 * predicted one).
 */
#include <errno.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "flow_hash.h"
#include "socket.h"

#ifndef SO_ATTACH_REUSEPORT_CBPF
#define SO_ATTACH_REUSEPORT_CBPF 51
#endif

#define LD_ABS(size, off) BPF_STMT(BPF_LD | (size) | BPF_ABS, (uint32_t)(SKF_NET_OFF + (off)))
#define ALU_K(op, k) BPF_STMT(BPF_ALU | (op) | BPF_K, (k))
#define ALU_X(op) BPF_STMT(BPF_ALU | (op) | BPF_X, 0)

int
fj_sock_reuseport(struct fj_stack *s, int fd)
{
	int one = 1;

	if (s->g->n > 1 && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
		return -errno;
	return 0;
}

int
fj_sock_reuseport_steer(struct fj_stack *s, int fd)
{
	if (s->g->n == 1)
		return 0;
	/* fj_flow_hash (flow_hash.h) in classic BPF; M[0], M[1] scratch. */
	struct sock_filter code[] = {
		LD_ABS(BPF_W, 12),                  /* A = source address */
		BPF_STMT(BPF_MISC | BPF_TAX, 0),    /* X = A */
		LD_ABS(BPF_W, 16),                  /* A = destination address */
		ALU_X(BPF_XOR),
		BPF_STMT(BPF_ST, 0),                /* M[0] = saddr ^ daddr */
		LD_ABS(BPF_H, 20),                  /* A = source port */
		BPF_STMT(BPF_MISC | BPF_TAX, 0),
		LD_ABS(BPF_H, 22),                  /* A = destination port */
		ALU_X(BPF_XOR),                     /* p = sport ^ dport */
		BPF_STMT(BPF_MISC | BPF_TAX, 0),
		ALU_K(BPF_LSH, 16),
		ALU_X(BPF_OR),                      /* p << 16 | p */
		BPF_STMT(BPF_MISC | BPF_TAX, 0),
		BPF_STMT(BPF_LD | BPF_MEM, 0),
		ALU_X(BPF_XOR),                     /* x */
		BPF_STMT(BPF_ST, 1),
		ALU_K(BPF_RSH, 16),
		BPF_STMT(BPF_MISC | BPF_TAX, 0),
		BPF_STMT(BPF_LD | BPF_MEM, 1),
		ALU_X(BPF_XOR),                     /* x ^= x >> 16 */
		ALU_K(BPF_MUL, FJ_FLOW_HASH_MUL),   /* x *= MUL */
		BPF_STMT(BPF_ST, 1),
		ALU_K(BPF_RSH, 16),
		BPF_STMT(BPF_MISC | BPF_TAX, 0),
		BPF_STMT(BPF_LD | BPF_MEM, 1),
		ALU_X(BPF_XOR),                     /* x ^= x >> 16 */
		ALU_K(BPF_MOD, s->g->n),            /* the shard = the group's socket index */
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	struct sock_fprog prog = { .len = RTE_DIM(code), .filter = code };
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof(prog)) < 0)
		return -errno;
	return 0;
}

/* The address the kernel sends from towards @ip, or 0. */
static uint32_t
source_for(uint32_t ip)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(9), .sin_addr.s_addr = htonl(ip) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	uint32_t src = 0;

	if (fd < 0)
		return 0;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		src = ntohl(a.sin_addr.s_addr);
	close(fd);
	return src;
}

unsigned
fj_sock_shard_of(struct fj_stack *s, uint16_t lport, const struct fj_addr *remote)
{
	uint32_t lip = s->ip ? s->ip : source_for(remote->ip);

	return fj_flow_owner(lip, remote->ip, lport, remote->port, s->g->n);
}
