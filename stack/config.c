/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The stack's arguments and configuration: the command line after EAL's
 * `--`, a `--config FILE` of `key value` lines (the command line wins), and
 * their checks, each refusal one line on stderr.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>

#include "config.h"
#include "stack.h"
#include "wire/ipv4.h"
#include "wire/ipv6.h"

void
fj_stack_usage(FILE *out)
{
	fprintf(out,
		"stack arguments (after EAL's, behind --):\n"
		"  --net direct|socket   fjord's stack on a DPDK port (default) or kernel sockets\n"
		"  --ip A.B.C.D/LEN      the stack's address and prefix (direct: required)\n"
		"  --gw A.B.C.D          default gateway (off-link destinations)\n"
		"  --ip6 ADDR[/LEN]      an IPv6 address and prefix (LEN 64 if none; up to 4\n"
		"                        times); a link-local one from the MAC always, and\n"
		"                        one of each autonomous /64 routers advertise\n"
		"  --gw6 ADDR            IPv6 default router (else the advertised one)\n"
		"  --port N              DPDK port to use (default 0)\n"
		"  --mtu N               IP MTU (default 1500)\n"
		"  --promisc             take frames for any MAC address\n"
		"  --no-csum-offload     compute every checksum in software, even where\n"
		"                        the port offers to\n"
		"  --no-tso              TCP payload copied into each segment, one MSS each,\n"
		"                        even where the port takes chains (by default the\n"
		"                        payload refers to the send queue's buffers and, where\n"
		"                        the port offers TSO, segments reach 64 KiB; --tso\n"
		"                        says so explicitly)\n"
		"  --no-lro              take no coalesced segments (LRO) even where the port\n"
		"                        offers them\n"
		"  --no-gro              no software coalescing (rte_gro) of received TCP\n"
		"                        segments\n"
		"  --turn-bytes N        the most one TCP flow sends in one loop turn before\n"
		"                        the others' turn (default 131072; at least 1 MSS)\n"
		"  --flow-queue-bytes N  the most of one TCP flow's data waiting in the port's\n"
		"                        transmit queue, so that other flows' segments do not\n"
		"                        queue behind a bulk flow's (default 65536; 0: no\n"
		"                        limit; on ports that give sent buffers back on\n"
		"                        request, rte_eth_tx_done_cleanup)\n"
		"  --busy-poll           socket backend: spin on epoll instead of sleeping in\n"
		"                        it (the direct backend always polls)\n"
		"  --idle-yield          direct backend: a turn that found nothing gives the\n"
		"                        CPU away (sched_yield), for more spinning threads\n"
		"                        than cores (shards of two processes on one CPU)\n"
		"  --steer auto|software|rss  with several lcores (one shard each): how frames\n"
		"                        reach their flow's shard; auto takes the port's RSS\n"
		"                        where it has it, else steers in software\n"
		"  --msl SECONDS         TCP maximum segment lifetime; TIME_WAIT is twice it\n"
		"                        (default 30)\n"
		"  --dad-transmits N     duplicate address detection probes per IPv6 address,\n"
		"                        a second apart (RFC 4862; default 1, 0: none)\n"
		"  --kernel-exception IFNAME\n"
		"                        what the stack does not take goes to the kernel\n"
		"                        through a tap interface IFNAME with the port's MAC,\n"
		"                        and what the kernel sends there leaves by the port\n"
		"  --pcap FILE           write every frame the port receives and sends to FILE\n"
		"                        (pcapng; direct backend)\n"
		"  --pcap-snaplen N      bytes kept of each frame in FILE (default 2176)\n"
		"  --config FILE         the same as 'key value' lines (ip, gw, ip6, gw6, net,\n"
		"                        port, mtu,\n"
		"                        msl, dad_transmits, pcap, pcap_snaplen,\n"
		"                        kernel_exception, steer,\n"
		"                        promisc, csum_offload,\n"
		"                        tso, lro, gro,\n"
		"                        turn_bytes, flow_queue_bytes); command-line\n"
		"                        arguments win\n");
}


static int
parse_ipv4(const char *s, uint32_t *out)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -EINVAL;
	*out = ntohl(a.s_addr);
	return 0;
}

int
fj_cfg_set(struct fj_cfg *c, const char *key, const char *val, const char *where)
{
	char *end;

	if (strcmp(key, "net") == 0) {
		if (strcmp(val, "direct") && strcmp(val, "socket"))
			goto bad;
		c->net = strcmp(val, "direct") == 0 ? "direct" : "socket";
	} else if (strcmp(key, "ip") == 0) {
		if (snprintf(c->ip, sizeof(c->ip), "%s", val) >= (int)sizeof(c->ip))
			goto bad;
		c->have_ip = true;
	} else if (strcmp(key, "ip6") == 0) {
		if (c->nip6 >= FJ_CFG_IP6_MAX ||
		    snprintf(c->ip6[c->nip6], sizeof(c->ip6[0]), "%s", val) >= (int)sizeof(c->ip6[0]))
			goto bad;
		c->nip6++;
	} else if (strcmp(key, "gw6") == 0) {
		if (snprintf(c->gw6, sizeof(c->gw6), "%s", val) >= (int)sizeof(c->gw6))
			goto bad;
		c->have_gw6 = true;
	} else if (strcmp(key, "gw") == 0) {
		if (snprintf(c->gw, sizeof(c->gw), "%s", val) >= (int)sizeof(c->gw))
			goto bad;
		c->have_gw = true;
	} else if (strcmp(key, "port") == 0) {
		c->port = strtol(val, &end, 10);
		if (*val == '\0' || *end || c->port < 0 || c->port >= RTE_MAX_ETHPORTS)
			goto bad;
	} else if (strcmp(key, "mtu") == 0) {
		c->mtu = strtol(val, &end, 10);
		if (*val == '\0' || *end || c->mtu < 576 || c->mtu > 9000)
			goto bad;
	} else if (strcmp(key, "dad-transmits") == 0 || strcmp(key, "dad_transmits") == 0) {
		c->dad_transmits = strtol(val, &end, 10);
		if (*val == '\0' || *end || c->dad_transmits < 0 || c->dad_transmits > 8)
			goto bad;
	} else if (strcmp(key, "kernel-exception") == 0 || strcmp(key, "kernel_exception") == 0) {
		if (*val == '\0' || strchr(val, '/') != NULL || strchr(val, ',') != NULL ||
		    snprintf(c->kernel_exception, sizeof(c->kernel_exception), "%s", val) >=
			    (int)sizeof(c->kernel_exception))
			goto bad;
	} else if (strcmp(key, "pcap") == 0) {
		if (*val == '\0' || snprintf(c->pcap, sizeof(c->pcap), "%s", val) >= (int)sizeof(c->pcap))
			goto bad;
	} else if (strcmp(key, "pcap-snaplen") == 0 || strcmp(key, "pcap_snaplen") == 0) {
		c->pcap_snaplen = strtol(val, &end, 10);
		if (*val == '\0' || *end || c->pcap_snaplen < 64 || c->pcap_snaplen > 65535)
			goto bad;
	} else if (strcmp(key, "msl") == 0) {
		c->msl = strtol(val, &end, 10);
		if (*val == '\0' || *end || c->msl < 0 || c->msl > 3600)
			goto bad;
	} else if (strcmp(key, "steer") == 0) {
		if (strcmp(val, "auto") == 0)
			c->steer = "auto";
		else if (strcmp(val, "software") == 0)
			c->steer = "software";
		else if (strcmp(val, "rss") == 0)
			c->steer = "rss";
		else
			goto bad;
	} else if (strcmp(key, "promisc") == 0) {
		c->promisc = strcmp(val, "0") != 0 && strcmp(val, "no") != 0;
	} else if (strcmp(key, "csum_offload") == 0) {
		c->no_csum_offload = strcmp(val, "0") == 0 || strcmp(val, "no") == 0;
	} else if (strcmp(key, "tso") == 0) {
		c->no_tso = strcmp(val, "0") == 0 || strcmp(val, "no") == 0;
	} else if (strcmp(key, "lro") == 0) {
		c->no_lro = strcmp(val, "0") == 0 || strcmp(val, "no") == 0;
	} else if (strcmp(key, "gro") == 0) {
		c->no_gro = strcmp(val, "0") == 0 || strcmp(val, "no") == 0;
	} else if (strcmp(key, "turn_bytes") == 0 || strcmp(key, "turn-bytes") == 0) {
		char *end;
		errno = 0;
		long v = strtol(val, &end, 10);
		if (errno || *end || end == val || v < 1 || v > (1L << 30))
			goto bad;
		c->turn_bytes = v;
	} else if (strcmp(key, "flow_queue_bytes") == 0 || strcmp(key, "flow-queue-bytes") == 0) {
		char *end;
		errno = 0;
		long v = strtol(val, &end, 10);
		if (errno || *end || end == val || v < 0 || v > (1L << 30))
			goto bad;
		c->flow_queue_bytes = v;
	} else {
		fprintf(stderr, "fjord: %s: unknown setting '%s'\n", where, key);
		return -EINVAL;
	}
	return 0;
bad:
	fprintf(stderr, "fjord: %s: bad value '%s' for %s\n", where, val, key);
	return -EINVAL;
}

int
fj_cfg_file(struct fj_cfg *c, const char *path)
{
	char line[256], where[300];
	FILE *f = fopen(path, "r");
	int n = 0, rc = 0;

	if (f == NULL) {
		fprintf(stderr, "fjord: cannot read %s: %s\n", path, strerror(errno));
		return -errno;
	}
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		char *k = line, *v, *e, *hash = strchr(line, '#');
		n++;
		if (hash != NULL)
			*hash = '\0'; /* a comment runs to the end of the line */
		while (isspace((unsigned char)*k))
			k++;
		if (*k == '#' || *k == '\0')
			continue;
		v = k;
		while (*v && !isspace((unsigned char)*v) && *v != '=')
			v++;
		if (*v)
			*v++ = '\0';
		while (isspace((unsigned char)*v) || *v == '=')
			v++;
		e = v + strlen(v);
		while (e > v && isspace((unsigned char)e[-1]))
			*--e = '\0';
		snprintf(where, sizeof(where), "%s:%d", path, n);
		rc = fj_cfg_set(c, k, *v ? v : "1", where);
	}
	fclose(f);
	return rc;
}

int
fj_cfg_apply(struct fj_stack *s, const struct fj_cfg *c)
{
	char ip[64], *slash;
	long len = 32;

	s->port = (uint16_t)c->port;
	s->mtu = (uint16_t)c->mtu;
	s->msl_s = (uint32_t)c->msl;
	s->dad_transmits = (uint8_t)c->dad_transmits;
	memcpy(s->pcap_path, c->pcap, sizeof(s->pcap_path));
	memcpy(s->exc_ifname, c->kernel_exception, sizeof(s->exc_ifname));
	s->pcap_snaplen = (uint32_t)c->pcap_snaplen;
	s->promisc = c->promisc;
	s->no_csum_offload = c->no_csum_offload;
	s->no_lro = c->no_lro;
	s->no_gro = c->no_gro;
	s->no_tso = c->no_tso;
	s->turn_bytes = c->turn_bytes > 0 ? (uint32_t)c->turn_bytes : FJ_TURN_BYTES_DEFAULT;
	s->flow_queue_bytes = (uint32_t)c->flow_queue_bytes;
	s->busy_poll = c->busy_poll;
	s->idle_yield = c->idle_yield;
	s->steer_want = strcmp(c->steer, "rss") == 0 ? FJ_STEER_RSS :
			strcmp(c->steer, "software") == 0 ? FJ_STEER_SOFTWARE : FJ_STEER_NONE;
	if (c->have_ip) {
		snprintf(ip, sizeof(ip), "%s", c->ip);
		slash = strchr(ip, '/');
		if (slash != NULL) {
			char *end;
			*slash = '\0';
			len = strtol(slash + 1, &end, 10);
			if (slash[1] == '\0' || *end || len < 1 || len > 32) {
				fprintf(stderr, "fjord: bad prefix length in --ip %s\n", c->ip);
				return -EINVAL;
			}
		}
		if (parse_ipv4(ip, &s->ip) < 0 || s->ip == 0 || fj_ipv4_is_multicast(s->ip)) {
			fprintf(stderr, "fjord: bad address in --ip %s\n", c->ip);
			return -EINVAL;
		}
		s->mask = len == 32 ? 0xffffffffu : ~(0xffffffffu >> len);
	}
	if (c->have_gw) {
		if (parse_ipv4(c->gw, &s->gw) < 0) {
			fprintf(stderr, "fjord: bad address in --gw %s\n", c->gw);
			return -EINVAL;
		}
		if (c->have_ip && ((s->gw ^ s->ip) & s->mask) != 0) {
			fprintf(stderr, "fjord: gateway %s is not on the link of %s\n", c->gw, c->ip);
			return -EINVAL;
		}
	}
	/* IPv6 (RFC 4291): ADDR/LEN, 64 if no length; never multicast or
	 * unspecified. The link-local address comes from the MAC. */
	s->nip6 = 1;
	for (unsigned i = 0; i < c->nip6; i++) {
		char a[64], *slash;
		long plen = 64;
		snprintf(a, sizeof(a), "%s", c->ip6[i]);
		if ((slash = strchr(a, '/')) != NULL) {
			char *end;
			*slash = '\0';
			plen = strtol(slash + 1, &end, 10);
			if (slash[1] == '\0' || *end || plen < 1 || plen > 128) {
				fprintf(stderr, "fjord: bad prefix length in --ip6 %s\n", c->ip6[i]);
				return -EINVAL;
			}
		}
		struct fj_ip6 *x = &s->ip6[s->nip6].a;
		if (!fj_ip6_parse_text(a, x) || fj_ip6_is_multicast(x) || fj_ip6_is_unspecified(x)) {
			fprintf(stderr, "fjord: bad address in --ip6 %s\n", c->ip6[i]);
			return -EINVAL;
		}
		s->ip6[s->nip6++].plen = (uint8_t)plen;
	}
	if (c->have_gw6) {
		if (!fj_ip6_parse_text(c->gw6, &s->gw6) || fj_ip6_is_multicast(&s->gw6) ||
		    fj_ip6_is_unspecified(&s->gw6)) {
			fprintf(stderr, "fjord: bad address in --gw6 %s\n", c->gw6);
			return -EINVAL;
		}
		s->has_gw6 = s->gw6_configured = true;
	}
	if (strcmp(c->net, "direct") == 0 && !c->have_ip) {
		fprintf(stderr, "fjord: --net direct needs --ip A.B.C.D/LEN\n");
		return -EINVAL;
	}
	s->ops = strcmp(c->net, "direct") == 0 ? &fj_direct_ops : &fj_socket_ops;
	return 0;
}

int
fj_cfg_args(struct fj_cfg *c, int argc, char **argv, int first, char **rest)
{
	int nrest = 1;

	rest[0] = argv[0];
	/* A config file first, so that command-line settings win. */
	for (int i = first; i < argc; i++)
		if (strcmp(argv[i], "--config") == 0) {
			if (i + 1 >= argc || fj_cfg_file(c, argv[i + 1]) < 0) {
				if (i + 1 >= argc)
					fprintf(stderr, "fjord: --config needs a file\n");
				return -EINVAL;
			}
		}
	for (int i = first; i < argc; i++) {
		static const char *const keys[] = { "net", "ip", "gw", "ip6", "gw6", "port", "mtu",
						    "msl", "steer", "dad-transmits", "pcap", "kernel-exception",
						    "pcap-snaplen",
						    "turn-bytes", "flow-queue-bytes" };
		const char *a = argv[i];
		bool known = false;

		if (strcmp(a, "--config") == 0) {
			i++;
			continue;
		}
		if (strcmp(a, "--promisc") == 0) {
			c->promisc = true;
			continue;
		}
		if (strcmp(a, "--no-csum-offload") == 0) {
			c->no_csum_offload = true;
			continue;
		}
		if (strcmp(a, "--tso") == 0 || strcmp(a, "--no-tso") == 0) {
			c->no_tso = a[2] == 'n';
			continue;
		}
		if (strcmp(a, "--no-lro") == 0) {
			c->no_lro = true;
			continue;
		}
		if (strcmp(a, "--no-gro") == 0) {
			c->no_gro = true;
			continue;
		}
		if (strcmp(a, "--busy-poll") == 0) {
			c->busy_poll = true;
			continue;
		}
		if (strcmp(a, "--idle-yield") == 0) {
			c->idle_yield = true;
			continue;
		}
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			if (strncmp(a, "--", 2) == 0 && strcmp(a + 2, keys[k]) == 0) {
				if (i + 1 >= argc) {
					fprintf(stderr, "fjord: %s needs a value\n", a);
					return -EINVAL;
				}
				if (fj_cfg_set(c, keys[k], argv[++i], "command line") < 0)
					return -EINVAL;
				known = true;
				break;
			}
		}
		if (!known)
			rest[nrest++] = argv[i];
	}
	rest[nrest] = NULL;
	return nrest;
}

int
fj_stack_parse_addr(struct fj_stack *s, const char *ip, const char *gw, const char *ip6)
{
	struct fj_cfg c = { .net = "direct", .steer = "auto", .port = 0, .mtu = s->mtu ? s->mtu : 1500,
			    .msl = 30, .turn_bytes = FJ_TURN_BYTES_DEFAULT,
			    .flow_queue_bytes = FJ_FLOW_QUEUE_BYTES_DEFAULT };

	if (ip != NULL && fj_cfg_set(&c, "ip", ip, "test port") < 0)
		return -EINVAL;
	if (gw != NULL && fj_cfg_set(&c, "gw", gw, "test port") < 0)
		return -EINVAL;
	if (ip6 != NULL && fj_cfg_set(&c, "ip6", ip6, "test port") < 0)
		return -EINVAL;
	return fj_cfg_apply(s, &c);
}
