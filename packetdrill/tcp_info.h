/* Linux's struct tcp_info (TCP_INFO) from what the adapter knows of a socket. Kept apart from
 * adapter_int.h: <linux/tcp.h>, which declares the struct, cannot be included next to glibc's
 * <netinet/tcp.h>. */
#ifndef SYNACK_PD_TCP_INFO_H
#define SYNACK_PD_TCP_INFO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "synack/tcp.h"

struct pd_info_in {
    bool connection;           /* false: a listener or a socket without a connection */
    bool listening;
    struct sk_tcp_info ti;     /* valid when connection */
    uint16_t advmss;           /* the MSS we announce (Linux's tcpi_advmss) */
};

/* Fills *val (up to *len bytes, Linux copies min(len, sizeof)) and sets *len. 0 or an errno. */
int pd_linux_tcp_info(const struct pd_info_in *in, void *val, socklen_t *len);

#endif
