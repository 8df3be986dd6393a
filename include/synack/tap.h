/* synack: a Linux TAP device (/dev/net/tun with IFF_TAP | IFF_NO_PI), outside the core.
 *
 * Each read returns one Ethernet frame (without FCS) the kernel sent into the interface; each
 * write hands the kernel one frame as if it had arrived on the wire. The descriptor is
 * non-blocking: poll it (struct sk_loop does).
 */
#ifndef SYNACK_TAP_H
#define SYNACK_TAP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "synack/stack.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sk_tap;

/* Attaches to the TAP interface `name` if it exists (made beforehand with `ip tuntap add dev
 * NAME mode tap`), else creates it (it then lives as long as the descriptor); name may be
 * empty or NULL for a kernel-chosen tapN. Needs CAP_NET_ADMIN to create. Returns 0 or a
 * negative errno (-EBUSY: another process has it open; -EPERM; -ENOENT: no /dev/net/tun). */
SK_API int sk_tap_open(const char *name, struct sk_tap **out);
/* Brings the interface up (SIOCSIFFLAGS IFF_UP), as `ip link set NAME up`. 0 or -errno. */
SK_API int sk_tap_set_up(struct sk_tap *t);
/* The interface's name and the descriptor to poll. */
SK_API const char *sk_tap_name(const struct sk_tap *t);
SK_API int sk_tap_fd(const struct sk_tap *t);
/* One frame into buf: its length, -EAGAIN when none waits, or another negative errno. A
 * frame longer than cap is truncated (give 65536 bytes to never see it). */
SK_API ssize_t sk_tap_read(struct sk_tap *t, uint8_t *buf, size_t cap);
/* One frame to the kernel. 0 or a negative errno. */
SK_API int sk_tap_write(struct sk_tap *t, const uint8_t *frame, size_t len);
SK_API void sk_tap_close(struct sk_tap *t);

#ifdef __cplusplus
}
#endif
#endif
