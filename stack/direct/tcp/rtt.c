/* SPDX-License-Identifier: BSD-3-Clause */
#include "rtt.h"

#define INITIAL_RTO 1000000u /* 1 s, RFC 6298 §2.1 */

static uint64_t
clamp(const struct fj_rtt *r, uint64_t v)
{
	return v < r->min_rto ? r->min_rto : v > r->max_rto ? r->max_rto : v;
}

void
fj_rtt_init(struct fj_rtt *r, uint64_t min_rto, uint64_t max_rto, uint64_t granularity)
{
	r->min_rto = min_rto;
	r->max_rto = max_rto < 60000000u ? 60000000u : max_rto;
	r->granularity = granularity;
	r->srtt = r->rttvar = 0;
	r->sampled = false;
	r->backoffs = 0;
	r->rto = clamp(r, INITIAL_RTO);
}

void
fj_rtt_sample(struct fj_rtt *r, uint64_t rtt)
{
	if (!r->sampled) {
		/* §2.2: the first measurement. */
		r->srtt = rtt;
		r->rttvar = rtt / 2;
		r->sampled = true;
	} else {
		/* §2.3, alpha = 1/8, beta = 1/4; RTTVAR first, with the old SRTT. */
		uint64_t d = r->srtt > rtt ? r->srtt - rtt : rtt - r->srtt;
		r->rttvar = (3 * r->rttvar + d) / 4;
		r->srtt = (7 * r->srtt + rtt) / 8;
	}
	uint64_t k = 4 * r->rttvar;
	r->rto = clamp(r, r->srtt + (k > r->granularity ? k : r->granularity));
	r->backoffs = 0;
}

void
fj_rtt_backoff(struct fj_rtt *r)
{
	r->rto = clamp(r, 2 * r->rto);
	if (r->backoffs < UINT8_MAX)
		r->backoffs++;
}
