/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Wire layout and constants of the virtio 1.x device model that fjord's PMD
 * drives, written from OASIS VIRTIO 1.2. Everything here is little-endian
 * (VIRTIO 1.2 §2.7: "VIRTIO_F_VERSION_1 ... little-endian"); x86 and arm64
 * hosts need no swapping, and the PMD refuses big-endian builds at compile
 * time instead of sprinkling conversions over the hot path.
 */
#ifndef FJ_VIRTIO_SPEC_H
#define FJ_VIRTIO_SPEC_H

#include <stdint.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "fjord's virtio PMD assumes a little-endian CPU (VIRTIO 1.2 §1.4)"
#endif

/* Device-independent feature bits, VIRTIO 1.2 §6. */
#define VIRTIO_F_INDIRECT_DESC      28
#define VIRTIO_F_EVENT_IDX          29
#define VIRTIO_F_VERSION_1          32
#define VIRTIO_F_ACCESS_PLATFORM    33
#define VIRTIO_F_RING_PACKED        34
#define VIRTIO_F_IN_ORDER           35
#define VIRTIO_F_ORDER_PLATFORM     36

/* virtio-net feature bits, VIRTIO 1.2 §5.1.3. */
#define VIRTIO_NET_F_CSUM           0
#define VIRTIO_NET_F_GUEST_CSUM     1
#define VIRTIO_NET_F_MTU            3
#define VIRTIO_NET_F_MAC            5
#define VIRTIO_NET_F_GUEST_TSO4     7
#define VIRTIO_NET_F_GUEST_TSO6     8
#define VIRTIO_NET_F_HOST_TSO4      11
#define VIRTIO_NET_F_HOST_TSO6      12
#define VIRTIO_NET_F_MRG_RXBUF      15
#define VIRTIO_NET_F_STATUS         16
#define VIRTIO_NET_F_CTRL_VQ        17
#define VIRTIO_NET_F_CTRL_RX        18
#define VIRTIO_NET_F_MQ             22
#define VIRTIO_NET_F_HASH_REPORT    57
#define VIRTIO_NET_F_RSS            60

#define FJ_BIT(b) (UINT64_C(1) << (b))

/* Device status field, VIRTIO 1.2 §2.1. */
#define VIRTIO_STATUS_ACKNOWLEDGE        1
#define VIRTIO_STATUS_DRIVER             2
#define VIRTIO_STATUS_DRIVER_OK          4
#define VIRTIO_STATUS_FEATURES_OK        8
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED             128

/* Split virtqueue, VIRTIO 1.2 §2.7. */
#define VRING_DESC_F_NEXT           1
#define VRING_DESC_F_WRITE          2
#define VRING_DESC_F_INDIRECT       4
#define VRING_AVAIL_F_NO_INTERRUPT  1
#define VRING_USED_F_NO_NOTIFY      1

/* §2.7.5 */
struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

/* §2.7.6 */
struct vring_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];
};

/* §2.7.8 */
struct vring_used_elem {
	uint32_t id;
	uint32_t len;
};

struct vring_used {
	uint16_t flags;
	uint16_t idx;
	struct vring_used_elem ring[];
};

/* §2.7: alignment of each part of a split virtqueue. */
#define VRING_DESC_ALIGN   16
#define VRING_AVAIL_ALIGN  2
#define VRING_USED_ALIGN   4
/* Split queues have power-of-two sizes up to 32768 (§2.7). */
#define VRING_MAX_SIZE     32768

/*
 * virtio-net header, VIRTIO 1.2 §5.1.6. With VIRTIO_F_VERSION_1 the header
 * always carries num_buffers, so it is 12 bytes whether or not
 * VIRTIO_NET_F_MRG_RXBUF is negotiated.
 */
struct virtio_net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
};
#define VIRTIO_NET_HDR_LEN 12
/* virtio_net_hdr.flags, VIRTIO 1.2 §5.1.6 */
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1 /* checksum from csum_start to go at csum_offset */
#define VIRTIO_NET_HDR_F_DATA_VALID 2 /* the device checked the packet's checksums */
/* virtio_net_hdr.gso_type, §5.1.6: what segmentation the packet needs (or had). */
#define VIRTIO_NET_HDR_GSO_NONE     0
#define VIRTIO_NET_HDR_GSO_TCPV4    1
#define VIRTIO_NET_HDR_GSO_TCPV6    4
#define VIRTIO_NET_HDR_GSO_ECN      0x80 /* only with VIRTIO_NET_F_{HOST,GUEST}_ECN */
_Static_assert(sizeof(struct virtio_net_hdr) == VIRTIO_NET_HDR_LEN,
	       "virtio_net_hdr is 12 bytes (VIRTIO 1.2 §5.1.6)");

/*
 * With VIRTIO_NET_F_HASH_REPORT the header of every buffer, received and
 * transmitted, is struct virtio_net_hdr_v1_hash (§5.1.6): the 12 bytes
 * above, then the packet's hash and what it was computed over
 * (§5.1.6.4.3). The driver leaves both zero on transmit.
 */
struct virtio_net_hdr_v1_hash {
	struct virtio_net_hdr hdr;
	uint32_t hash_value;
	uint16_t hash_report;
	uint16_t padding;
};
#define VIRTIO_NET_HDR_HASH_LEN 20
#define VIRTIO_NET_HDR_MAX_LEN  VIRTIO_NET_HDR_HASH_LEN
_Static_assert(sizeof(struct virtio_net_hdr_v1_hash) == VIRTIO_NET_HDR_HASH_LEN,
	       "virtio_net_hdr_v1_hash is 20 bytes (VIRTIO 1.2 §5.1.6)");

/* hash_report values, §5.1.6.4.3; anything above UDPv6_EX is unknown. */
#define VIRTIO_NET_HASH_REPORT_NONE     0
#define VIRTIO_NET_HASH_REPORT_UDPv6_EX 9

/* supported_hash_types and hash_types bits, §5.1.6.4.3. */
#define VIRTIO_NET_HASH_TYPE_IPv4   (1u << 0)
#define VIRTIO_NET_HASH_TYPE_TCPv4  (1u << 1)
#define VIRTIO_NET_HASH_TYPE_UDPv4  (1u << 2)
#define VIRTIO_NET_HASH_TYPE_IPv6   (1u << 3)
#define VIRTIO_NET_HASH_TYPE_TCPv6  (1u << 4)
#define VIRTIO_NET_HASH_TYPE_UDPv6  (1u << 5)
#define VIRTIO_NET_HASH_TYPE_IP_EX  (1u << 6)
#define VIRTIO_NET_HASH_TYPE_TCP_EX (1u << 7)
#define VIRTIO_NET_HASH_TYPE_UDP_EX (1u << 8)
#define VIRTIO_NET_HASH_TYPE_ALL    0x1ffu

/* virtio-net device configuration layout, VIRTIO 1.2 §5.1.4. */
#define VIRTIO_NET_CFG_MAC           0
#define VIRTIO_NET_CFG_STATUS        6
#define VIRTIO_NET_CFG_MAX_VQ_PAIRS  8
#define VIRTIO_NET_CFG_MTU           10
/* With VIRTIO_NET_F_RSS or VIRTIO_NET_F_HASH_REPORT (after speed, duplex). */
#define VIRTIO_NET_CFG_RSS_MAX_KEY   17 /* u8 rss_max_key_size */
#define VIRTIO_NET_CFG_RSS_MAX_RETA  18 /* le16 rss_max_indirection_table_length */
#define VIRTIO_NET_CFG_HASH_TYPES    20 /* le32 supported_hash_types */
#define VIRTIO_NET_S_LINK_UP         1

#endif
