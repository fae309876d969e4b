/* SPDX-License-Identifier: BSD-3-Clause */
/* fj_buf: the application's view of packet memory (an mbuf, or a chain). */
#include <rte_mbuf.h>

#include "stack.h"

void *
fj_buf_data(struct fj_buf *b)
{
	return rte_pktmbuf_mtod((struct rte_mbuf *)b, void *);
}

uint32_t
fj_buf_len(const struct fj_buf *b)
{
	return ((const struct rte_mbuf *)b)->data_len;
}

uint32_t
fj_buf_pkt_len(const struct fj_buf *b)
{
	return ((const struct rte_mbuf *)b)->pkt_len;
}

struct fj_buf *
fj_buf_next(struct fj_buf *b)
{
	return (struct fj_buf *)((struct rte_mbuf *)b)->next;
}

struct fj_buf *
fj_buf_alloc(struct fj_stack *s, uint32_t len)
{
	struct rte_mbuf *head = NULL, *tail = NULL;

	if (len > FJ_BUF_MAX)
		return NULL;
	/* One segment when it fits, else a chain of full segments. */
	do {
		struct rte_mbuf *m = rte_pktmbuf_alloc(s->mp);
		if (m == NULL)
			goto fail;
		uint32_t n = RTE_MIN(len, (uint32_t)rte_pktmbuf_tailroom(m));
		rte_pktmbuf_append(m, (uint16_t)n);
		if (head == NULL) {
			head = m;
		} else {
			tail->next = m;
			head->nb_segs++;
			head->pkt_len += n;
		}
		tail = m;
		len -= n;
	} while (len > 0);
	return (struct fj_buf *)head;
fail:
	rte_pktmbuf_free(head);
	return NULL;
}

void
fj_buf_free(struct fj_buf *b)
{
	rte_pktmbuf_free((struct rte_mbuf *)b);
}
