/* Addresses for the socket tests: an IPv4 address and port in host order made into the
 * struct sockaddr_in that the socket calls take (network order, as POSIX). */
#ifndef SK_TEST_SOCK_ADDR_H
#define SK_TEST_SOCK_ADDR_H

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include "synack/socket.h"

static inline struct sockaddr_in sa(uint32_t ip, uint16_t port)
{
    struct sockaddr_in s;
    memset(&s, 0, sizeof(s));
    s.sin_family = AF_INET;
    s.sin_addr.s_addr = htonl(ip);
    s.sin_port = htons(port);
    return s;
}

static inline int bind_to(struct sk_stack *st, int fd, uint32_t ip, uint16_t port)
{
    struct sockaddr_in s = sa(ip, port);
    return sk_bind(st, fd, (struct sockaddr *)&s, sizeof(s));
}

static inline int connect_to(struct sk_stack *st, int fd, uint32_t ip, uint16_t port)
{
    struct sockaddr_in s = sa(ip, port);
    return sk_connect(st, fd, (struct sockaddr *)&s, sizeof(s));
}

#endif
