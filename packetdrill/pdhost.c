/* libsynack-pdhost.so: preloaded into packetdrill by run-packetdrill.sh, never linked into
 * synack. packetdrill reads TCP_INFO (and TCP_CC_INFO, SO_MEMINFO) for a script's Python blocks
 * (`%{ assert tcpi_snd_cwnd == 10 }%`) with the host's getsockopt on the socket's descriptor,
 * which in --so_filename mode is the adapter's eventfd, not a socket. This object puts itself in
 * front of the host's getsockopt: the adapter, when loaded, registers its own getsockopt here
 * (found with dlsym; nothing is registered when the shim is absent), and a call on one of the
 * adapter's descriptors goes to it; every other call, and every descriptor the adapter does not
 * know (EBADF), goes on to the C library.
 * It also makes mlockall a no-op: packetdrill locks its memory, and as a non-root user that makes
 * creating its second thread fail. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <sys/socket.h>

#define PDHOST_EXPORT __attribute__((visibility("default")))

typedef int (*pdhost_getsockopt_fn)(void *u, int fd, int level, int name, void *val,
                                    socklen_t *len);

static pdhost_getsockopt_fn adapter_getsockopt;
static void *adapter_userdata;

PDHOST_EXPORT void synack_pdhost_register(pdhost_getsockopt_fn fn, void *userdata)
{
    adapter_getsockopt = fn;
    adapter_userdata = userdata;
}

PDHOST_EXPORT int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
    if (adapter_getsockopt) {
        int saved = errno;
        int r = adapter_getsockopt(adapter_userdata, fd, level, name, val, len);
        if (r == 0 || errno != EBADF)
            return r;
        errno = saved;
    }
    static int (*host)(int, int, int, void *, socklen_t *);
    if (host == NULL)
        host = (int (*)(int, int, int, void *, socklen_t *))dlsym(RTLD_NEXT, "getsockopt");
    if (host == NULL) {
        errno = ENOSYS;
        return -1;
    }
    return host(fd, level, name, val, len);
}

PDHOST_EXPORT int mlockall(int flags)
{
    (void)flags;
    return 0;
}
