/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The one place a flow changes state (RFC 9293 §3.3.2): each change is
 * counted (tcp_state_changes) and traced at DEBUG on the log type
 * fjord.stack.tcp.state, e.g.
 *   flow 10.0.0.2:49152 -> 10.0.0.1:80 SYN-SENT -> ESTABLISHED
 *   flow [2001:db8::1]:7 -> [2001:db8::2]:41234 SYN-RECEIVED -> ESTABLISHED
 * (--log-level=fjord.stack.tcp.state:debug).
 */
#include <arpa/inet.h>
#include <stdio.h>

#include <rte_log.h>

#include "tcp_impl.h"

RTE_LOG_REGISTER_SUFFIX(tcp_state_logtype, tcp.state, NOTICE);

/* RFC 9293's names. */
static const char *const state_names[FJ_TCP__NSTATES] = {
	[FJ_TCP_CLOSED] = "CLOSED",
	[FJ_TCP_SYN_SENT] = "SYN-SENT",
	[FJ_TCP_SYN_RCVD] = "SYN-RECEIVED",
	[FJ_TCP_ESTABLISHED] = "ESTABLISHED",
	[FJ_TCP_FIN_WAIT_1] = "FIN-WAIT-1",
	[FJ_TCP_FIN_WAIT_2] = "FIN-WAIT-2",
	[FJ_TCP_CLOSE_WAIT] = "CLOSE-WAIT",
	[FJ_TCP_CLOSING] = "CLOSING",
	[FJ_TCP_LAST_ACK] = "LAST-ACK",
	[FJ_TCP_TIME_WAIT] = "TIME-WAIT",
};

const char *
tcp_state_name(enum fj_tcp_state st)
{
	return (unsigned)st < FJ_TCP__NSTATES ? state_names[st] : "?";
}

/* An address as text: dotted IPv4, or IPv6 in brackets (RFC 5952's
 * form from inet_ntop). */
static void
addr_text(char *buf, size_t n, bool v6, uint32_t a4, const struct fj_ip6 *a6)
{
	char t[INET6_ADDRSTRLEN];

	if (v6 && inet_ntop(AF_INET6, a6->b, t, sizeof(t)) != NULL)
		snprintf(buf, n, "[%s]", t);
	else
		snprintf(buf, n, "%u.%u.%u.%u", a4 >> 24, (a4 >> 16) & 0xff, (a4 >> 8) & 0xff,
			 a4 & 0xff);
}

static void
trace(const struct fj_tcp_flow *f, enum fj_tcp_state from, enum fj_tcp_state to)
{
	const struct fj_tcp_key *k = &f->key;
	char l[INET6_ADDRSTRLEN + 2], r[INET6_ADDRSTRLEN + 2];

	addr_text(l, sizeof(l), f->v6, k->laddr, &f->key6.laddr);
	addr_text(r, sizeof(r), f->v6, k->raddr, &f->key6.raddr);
	rte_log(RTE_LOG_DEBUG, tcp_state_logtype, "flow %s:%u -> %s:%u %s -> %s\n", l, k->lport, r,
		k->rport, tcp_state_name(from), tcp_state_name(to));
}

void
tcp_set_state(struct fj_tcp_flow *f, enum fj_tcp_state to)
{
	enum fj_tcp_state from = f->state;

	if (to == from)
		return;
	f->state = to;
	f->s->c.tcp_state_changes++;
	if (rte_log_can_log(tcp_state_logtype, RTE_LOG_DEBUG))
		trace(f, from, to);
}
