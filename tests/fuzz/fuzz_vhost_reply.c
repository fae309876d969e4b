/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer: a hostile vhost-user back-end. The input is the byte stream
 * the back-end sends on the socket; fjord runs its opening handshake, asks
 * for the queue count and a ring base, and must end each exchange with
 * success or a clear error, never a crash or a hang.
 *
 * The transport's handshake is static, so the harness includes its
 * source (vhost_user.c); its messages (vhost_user_msg.c) and the rest of
 * the PMD are linked as usual.
 */
#include "../../pmd/vhost_user.c"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* Every refused reply is logged as an error; keep the run quiet. */
	rte_log_set_level(fj_logtype, RTE_LOG_CRIT);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fj_dev dev;
	struct fj_vhost vh;
	int sv[2];

	if (size > 4096)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		abort();
	/* The whole reply stream, then end-of-file: no exchange can wait. */
	if (size > 0 && write(sv[1], data, size) != (ssize_t)size)
		abort();
	shutdown(sv[1], SHUT_WR);

	memset(&dev, 0, sizeof(dev));
	memset(&vh, 0, sizeof(vh));
	snprintf(dev.name, sizeof(dev.name), "fuzz");
	vh.dev = &dev;
	vh.sock = sv[0];
	vh.connected = true;
	dev.tp = &vh;
	pthread_mutex_init(&vh.lock, NULL);

	if (vu_handshake(&vh) == 0) {
		uint16_t pairs = 0;

		dev.features = dev.offered | FJ_BIT(VIRTIO_NET_F_MQ);
		if (vu_max_queue_pairs(&dev, &pairs) == 0 &&
		    (pairs < 1 || pairs > FJ_MAX_QUEUE_PAIRS))
			abort();
		struct vu_msg m = { .request = VU_GET_VRING_BASE, .size = sizeof(m.p.state) };
		fj_vu_request(&vh, &m, NULL, 0);
		fj_vu_set_state(&vh, VU_SET_VRING_NUM, 0, 256);
	}
	pthread_mutex_destroy(&vh.lock);
	close(sv[0]);
	close(sv[1]);
	return 0;
}
