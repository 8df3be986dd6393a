/* Key material from the operating system, for every driver that faces a real network (the TAP
 * event loop's users, the blocking layer, the CLI, the examples). Outside the core: the core
 * never makes system calls and takes its secret from sk_config (see sk_config.secret).
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "synack/loop.h"

int sk_config_secret_from_os(struct sk_config *cfg)
{
    uint8_t key[SK_SECRET_BYTES];
    size_t got = 0;
    /* getrandom(2) with no flags blocks only until the kernel's pool is first seeded, then
     * never; a signal may interrupt it and a large request may come back short. */
    while (got < sizeof(key)) {
        ssize_t n = getrandom(key + got, sizeof(key) - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        got += (size_t)n;
    }
    int r = sk_config_set_secret(cfg, key, sizeof(key));
    explicit_bzero(key, sizeof(key));
    return r;
}
