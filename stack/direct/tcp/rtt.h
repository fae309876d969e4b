/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The retransmission timer's value (RFC 6298): SRTT and RTTVAR from RTT
 * samples, RTO = SRTT + max(G, 4 * RTTVAR) within [min, max], doubled on
 * each expiry (§5.5). Karn's rule (§3) is the caller's: no samples from
 * retransmitted segments unless timestamps tell them apart (RFC 7323 §4).
 * Times are microseconds.
 */
#ifndef FJ_TCP_RTT_H
#define FJ_TCP_RTT_H

#include <stdbool.h>
#include <stdint.h>

struct fj_rtt {
	uint64_t srtt, rttvar, rto;
	uint64_t min_rto, max_rto, granularity;
	bool sampled;
	uint8_t backoffs;
};

/*
 * RFC 6298 §2.1: RTO starts at 1 s. @min_rto: §2.4 says 1 s; many stacks
 * (Linux: 200 ms) use less on fast paths; @max_rto at least 60 s (§2.5).
 */
void fj_rtt_init(struct fj_rtt *r, uint64_t min_rto, uint64_t max_rto, uint64_t granularity);
void fj_rtt_sample(struct fj_rtt *r, uint64_t rtt);
/* The timer expired: back off (§5.5). */
void fj_rtt_backoff(struct fj_rtt *r);

#endif
