/* TCP Fast Open's socket calls (RFC 7413): TCP_FASTOPEN on listeners, TCP_FASTOPEN_CONNECT,
 * sendto with MSG_FASTOPEN. */
#include "adapter_int.h"

int pd_fastopen_getsockopt(struct pd *pd, struct pd_sock *s, int level, int name, void *val,
                           socklen_t *len)
{
    (void)pd, (void)s, (void)level, (void)name, (void)val, (void)len;
    return PD_NOT_MINE;
}

int pd_fastopen_setsockopt(struct pd *pd, struct pd_sock *s, int level, int name,
                           const void *val, socklen_t len)
{
    (void)pd, (void)s, (void)level, (void)name, (void)val, (void)len;
    return PD_NOT_MINE;
}
