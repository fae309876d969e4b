/* SPDX-License-Identifier: BSD-3-Clause */
/* ICMP messages (RFC 792). */
#include <string.h>

#include "bytes.h"
#include "icmp.h"

#include "checksum.h"

enum fj_wire_err
fj_icmp_parse(const uint8_t *p, size_t len, struct fj_icmp *out)
{
	if (len < FJ_ICMP_HDR_LEN)
		return FJ_WIRE_TRUNCATED;
	if (fj_csum_fold(fj_csum_add(0, p, len)) != 0)
		return FJ_WIRE_ICMP_CHECKSUM;
	out->type = p[0];
	out->code = p[1];
	return FJ_OK;
}

void
fj_icmp_echo_to_reply(uint8_t *p, size_t len)
{
	p[0] = FJ_ICMP_ECHO_REPLY;
	p[1] = 0;
	wr16(p + 2, 0);
	wr16(p + 2, fj_csum_fold(fj_csum_add(0, p, len)));
}

size_t
fj_icmp_unreach_build(uint8_t *p, uint8_t code, const uint8_t *quote, size_t quote_len)
{
	p[0] = FJ_ICMP_DEST_UNREACH;
	p[1] = code;
	memset(p + 2, 0, 6);
	memmove(p + FJ_ICMP_HDR_LEN, quote, quote_len);
	size_t len = FJ_ICMP_HDR_LEN + quote_len;
	wr16(p + 2, fj_csum_fold(fj_csum_add(0, p, len)));
	return len;
}

