/* synack: a Linux TAP device (/dev/net/tun with IFF_TAP | IFF_NO_PI), outside the core.
 *
 * Each read returns one Ethernet frame (without FCS) the kernel sent into the interface; each
 * write hands the kernel one frame as if it had arrived on the wire. The descriptor is
 * non-blocking: poll it (struct sk_loop does).
 *
 * With offload (sk_tap_open_opts), every frame travels behind a 10-byte virtio-net header
 * (IFF_VNET_HDR, TUNSETVNETHDRSZ 10) whose fields are struct sk_frame_meta's: the stack may
 * write frames with a partial checksum (SK_FRAME_CSUM_PARTIAL) and TCP super-segments of up to
 * 64 KiB (SK_GSO_TCPV4) that the kernel completes and cuts, and the kernel may send frames
 * with a partial checksum (TUN_F_CSUM) and, if asked, coalesced GSO frames of up to 64 KiB
 * (TUN_F_TSO4/6). What was obtained is sk_tap_get_caps, to put in sk_config.caps.
 */
#ifndef SYNACK_TAP_H
#define SYNACK_TAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "synack/stack.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sk_tap;

#define SK_TAP_VNET_HDR_LEN 10 /* struct virtio_net_hdr, without num_buffers */

struct sk_tap_opts {
    /* The virtio-net header and TUNSETOFFLOAD. Negotiated step by step: a kernel that refuses
     * the header (EINVAL) gives a plain TAP, all caps zero; one that refuses some receive
     * offloads (TUNSETOFFLOAD EINVAL) gives fewer: CSUM|TSO4|TSO6, CSUM|TSO4, CSUM, none.
     * false: plain frames, as sk_tap_open. */
    bool offload;
    /* Also ask for TUN_F_TSO4|TUN_F_TSO6: the kernel then hands over coalesced segments of up
     * to 64 KiB. Only for a stack that accepts them (sk_link_caps.rx_large). */
    bool rx_large;
    /* IFF_MULTI_QUEUE: the device has several queues, one descriptor each (sk_tap_open_queue);
     * the kernel picks a queue per flow for the frames it sends. An existing device made with
     * `ip tuntap add ... multi_queue` is attached with it whatever this says. */
    bool multi_queue;
};

/* Attaches to the TAP interface `name` if it exists (made beforehand with `ip tuntap add dev
 * NAME mode tap`), else creates it (it then lives as long as the descriptor); name may be
 * empty or NULL for a kernel-chosen tapN. Needs CAP_NET_ADMIN to create. Returns 0 or a
 * negative errno (-EBUSY: another process has it open; -EPERM; -ENOENT: no /dev/net/tun).
 * opts NULL: all false. sk_tap_open is sk_tap_open_opts with opts NULL. */
SK_API int sk_tap_open_opts(const char *name, const struct sk_tap_opts *opts,
                            struct sk_tap **out);
SK_API int sk_tap_open(const char *name, struct sk_tap **out);
/* Another queue of the multi-queue device `first` was opened on, with the same header and
 * offloads (TUNSETOFFLOAD is per device). 0, -EINVAL (first is not multi-queue, or the new
 * queue did not get the same header), or another negative errno. */
SK_API int sk_tap_open_queue(const struct sk_tap *first, struct sk_tap **out);
/* Brings the interface up (SIOCSIFFLAGS IFF_UP), as `ip link set NAME up`. 0 or -errno. */
SK_API int sk_tap_set_up(struct sk_tap *t);
/* The interface's name and the descriptor to poll. */
SK_API const char *sk_tap_name(const struct sk_tap *t);
SK_API int sk_tap_fd(const struct sk_tap *t);
/* What the link does for the stack: with the header, tx_csum and tso_max 65535 (the kernel
 * accepts both from any descriptor with the header), rx_csum if TUN_F_CSUM was granted,
 * rx_large if TUN_F_TSO4 was; all zero without the header. */
SK_API void sk_tap_get_caps(const struct sk_tap *t, struct sk_link_caps *out);
/* 0 or SK_TAP_VNET_HDR_LEN: the bytes in front of each frame on the descriptor. */
SK_API size_t sk_tap_vnet_hdr_len(const struct sk_tap *t);
/* One frame into buf (the header, if any, removed into *meta, which may be NULL; all zero
 * without the header): its length, -EAGAIN when none waits, or another negative errno. A
 * frame longer than cap is truncated (give 65536 bytes to never see it). */
SK_API ssize_t sk_tap_read_meta(struct sk_tap *t, uint8_t *buf, size_t cap,
                                struct sk_frame_meta *meta);
SK_API ssize_t sk_tap_read(struct sk_tap *t, uint8_t *buf, size_t cap);
/* One frame to the kernel, with the header built from meta (NULL: a complete frame; ignored
 * without the header). 0 or a negative errno. sk_tap_write is meta NULL. */
SK_API int sk_tap_write_meta(struct sk_tap *t, const uint8_t *frame, size_t len,
                             const struct sk_frame_meta *meta);
SK_API int sk_tap_write(struct sk_tap *t, const uint8_t *frame, size_t len);
/* The same in one write(2) without a gather: the sk_tap_vnet_hdr_len bytes before frame are
 * the caller's and are overwritten with the header. */
SK_API int sk_tap_write_headroom(struct sk_tap *t, uint8_t *frame, size_t len,
                                 const struct sk_frame_meta *meta);
/* meta (NULL: a complete frame) as a virtio-net header, little-endian. */
SK_API void sk_tap_vnet_from_meta(const struct sk_frame_meta *meta,
                                  uint8_t hdr[SK_TAP_VNET_HDR_LEN]);
SK_API void sk_tap_close(struct sk_tap *t);

#ifdef __cplusplus
}
#endif
#endif
