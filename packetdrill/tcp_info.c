/* TCP_INFO: Linux's struct tcp_info filled from sk_tcp_get_info. */
#include "adapter_int.h"

int pd_tcp_info(struct pd *pd, struct pd_sock *s, void *val, socklen_t *len)
{
    (void)pd;
    (void)s;
    (void)val;
    (void)len;
    return fail(ENOPROTOOPT);
}
