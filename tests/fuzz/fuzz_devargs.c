/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer: arbitrary net_fjord_vhost devargs strings. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devargs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct fj_vhost_args a;
	char err[256];

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (fj_vhost_args_parse(s, &a, err, sizeof(err)) == 0) {
		/* Accepted values are within their documented ranges. */
		if (a.path[0] == '\0' || a.queues < 1 || a.queues > FJ_MAX_QUEUE_PAIRS ||
		    a.queue_size < FJ_QUEUE_SIZE_MIN || (a.queue_size & (a.queue_size - 1)) ||
		    (a.has_mac && (a.mac[0] & 1)))
			abort();
	} else if (memchr(err, '\0', sizeof(err)) == NULL) {
		abort();
	}
	free(s);
	return 0;
}
