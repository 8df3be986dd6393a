/* epoll_create, epoll_ctl and epoll_wait over the sockets' readiness, as Linux's
 * fs/eventpoll.c behaves for TCP sockets.
 *
 * Level-triggered items report whatever poll(2) would (sock_revents). Edge-triggered ones
 * (EPOLLET) report only after a wakeup, and then the whole current mask: Linux queues an item
 * when the socket's wait queue is woken with a key that meets its interest, and epoll_wait
 * polls the socket afresh. The wakeups are Linux's socket callbacks, noted by
 * pd_epoll_scan after every step of the stack:
 *   - sk_data_ready (EPOLLIN): new bytes arrived, or a listener got a connection to accept;
 *   - sk_write_space (EPOLLOUT): an ACK shrank the send queue while a writer had found no
 *     room (SOCK_NOSPACE, set by a short send or by a poll that found the socket not
 *     writable), and the socket is writable now (tcp_check_space, sk_stream_write_space);
 *   - sk_state_change (any event): the TCP state or the error changed.
 * EPOLLONESHOT disables an item once it has reported, until EPOLL_CTL_MOD; EPOLLEXCLUSIVE
 * is accepted on EPOLL_CTL_ADD (one waiter per epoll here: nothing more to do) and refused by
 * EPOLL_CTL_MOD, as Linux. A blocking epoll_wait waits as poll does (wait_change).
 */
#include "adapter_int.h"

#define EP_IN_KEY (EPOLLIN | EPOLLRDNORM | EPOLLRDBAND | EPOLLPRI)
#define EP_OUT_KEY (EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND)
#define EP_FLAGS (EPOLLET | EPOLLONESHOT | EPOLLEXCLUSIVE | EPOLLWAKEUP)

static struct pd_epoll *ep_find(struct pd *pd, int fd)
{
    for (struct pd_epoll *e = pd->epolls; e; e = e->next)
        if (e->fd == fd)
            return e;
    return NULL;
}

static struct pd_epoll_item *item_find(struct pd_epoll *e, int fd)
{
    for (struct pd_epoll_item *it = e->items; it; it = it->next)
        if (it->fd == fd)
            return it;
    return NULL;
}

/* ---- Wakeups ---- */

static void scan_sock(struct pd_sock *s)
{
    if (s->tcp == NULL)
        return;
    if (s->listening) {
        bool acceptable = (sk_tcp_events(s->tcp) & SK_EV_ACCEPTABLE) != 0;
        if (acceptable && s->seen_rcv == 0)
            s->wake_in++;
        s->seen_rcv = acceptable;
        return;
    }
    struct sk_tcp_info info;
    sk_tcp_get_info(s->tcp, &info);
    if (info.bytes_received != s->seen_rcv) {
        s->seen_rcv = info.bytes_received;
        s->wake_in++;
    }
    if ((int)info.state != s->seen_state || info.error != s->seen_err) {
        s->seen_state = (int)info.state;
        s->seen_err = info.error;
        s->wake_any++;
    }
    if (info.snd_una != s->seen_una) {
        s->seen_una = info.snd_una;
        if (s->nospace && (sock_revents(s, POLLOUT) & POLLOUT)) {
            s->nospace = false;
            s->wake_out++;
        }
    }
}

void pd_epoll_scan(struct pd *pd)
{
    if (pd->epolls == NULL)
        return;
    for (struct pd_sock *s = pd->socks; s; s = s->next)
        scan_sock(s);
}

/* ---- The calls ---- */

int hook_epoll_create(void *u, int size)
{
    struct pd *pd = u;
    if (size <= 0)
        return fail(EINVAL);
    struct pd_epoll *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return fail(ENOMEM);
    e->fd = eventfd(0, EFD_CLOEXEC); /* a real descriptor number, as for sockets */
    if (e->fd < 0) {
        free(e);
        return fail(EMFILE);
    }
    pthread_mutex_lock(&pd->mu);
    e->next = pd->epolls;
    pd->epolls = e;
    return unlock_ret(pd, e->fd);
}

/* The socket's readiness for an item now; a socket found not writable sets SOCK_NOSPACE, as
 * Linux's tcp_poll does, so that the next ACK making room wakes it. */
static uint32_t item_mask(struct pd_sock *s, uint32_t events)
{
    short asked = (short)(events & (EPOLLIN | EPOLLOUT | EPOLLRDNORM | EPOLLWRNORM | EPOLLRDHUP |
                                    EPOLLPRI));
    short r = sock_revents(s, (short)(asked | POLLOUT));
    if (!(r & POLLOUT) && s->tcp && !s->listening)
        s->nospace = true;
    return (uint32_t)(unsigned short)r & (events | EPOLLERR | EPOLLHUP) & ~(uint32_t)EP_FLAGS;
}

static void item_sync(struct pd_epoll_item *it, const struct pd_sock *s)
{
    it->seen_in = s->wake_in;
    it->seen_out = s->wake_out;
    it->seen_any = s->wake_any;
}

static int ctl_add_mod(struct pd_epoll *e, struct pd_epoll_item *it, int op, struct pd_sock *s,
                       const struct epoll_event *ev)
{
    if (op == EPOLL_CTL_ADD) {
        if (it)
            return EEXIST;
        it = calloc(1, sizeof(*it));
        if (it == NULL)
            return ENOMEM;
        it->fd = s->fd;
        it->next = e->items;
        e->items = it;
    } else {
        if (it == NULL)
            return ENOENT;
        if ((ev->events | it->events) & EPOLLEXCLUSIVE)
            return EINVAL; /* ep_modify refuses EPOLLEXCLUSIVE, as Linux */
    }
    it->events = ev->events;
    it->data = ev->data.u64;
    it->disabled = false;
    scan_sock(s);
    item_sync(it, s);
    /* ep_insert / ep_modify poll the file and queue the item if it is ready. */
    it->ready = item_mask(s, it->events) != 0;
    return 0;
}

int hook_epoll_ctl(void *u, int epfd, int op, int fd, struct epoll_event *ev)
{
    struct pd *pd = u;
    pthread_mutex_lock(&pd->mu);
    struct pd_epoll *e = ep_find(pd, epfd);
    struct pd_sock *s = sock_find(pd, fd);
    if (e == NULL && sock_find(pd, epfd) == NULL)
        return unlock_ret(pd, fail(EBADF));
    if (s == NULL && ep_find(pd, fd) == NULL)
        return unlock_ret(pd, fail(EBADF));
    if (e == NULL || epfd == fd || s == NULL)
        return unlock_ret(pd, fail(EINVAL)); /* not an epoll, itself, or an epoll inside */
    struct pd_epoll_item *it = item_find(e, fd);
    if (op == EPOLL_CTL_DEL) {
        if (it == NULL)
            return unlock_ret(pd, fail(ENOENT));
        for (struct pd_epoll_item **pp = &e->items; *pp; pp = &(*pp)->next) {
            if (*pp == it) {
                *pp = it->next;
                break;
            }
        }
        free(it);
        return unlock_ret(pd, 0);
    }
    if (op != EPOLL_CTL_ADD && op != EPOLL_CTL_MOD)
        return unlock_ret(pd, fail(EINVAL));
    if (ev == NULL)
        return unlock_ret(pd, fail(EFAULT));
    int err = ctl_add_mod(e, it, op, s, ev);
    return unlock_ret(pd, err ? fail(err) : 0);
}

/* Fills evs with up to max ready items; returns how many. */
static int collect(struct pd *pd, struct pd_epoll *e, struct epoll_event *evs, int max)
{
    pd_epoll_scan(pd);
    int n = 0;
    for (struct pd_epoll_item *it = e->items; it && n < max; it = it->next) {
        struct pd_sock *s = sock_find(pd, it->fd);
        if (s == NULL || it->disabled)
            continue; /* a closed socket leaves its epolls (eventpoll_release) */
        bool in = (it->events & EP_IN_KEY) && s->wake_in != it->seen_in;
        bool out = (it->events & EP_OUT_KEY) && s->wake_out != it->seen_out;
        if (in || out || s->wake_any != it->seen_any)
            it->ready = true;
        item_sync(it, s);
        if (!(it->events & EPOLLET))
            it->ready = true; /* level: polled every time */
        if (!it->ready)
            continue;
        uint32_t mask = item_mask(s, it->events);
        if (mask == 0) {
            it->ready = false;
            continue;
        }
        evs[n].events = mask;
        evs[n].data.u64 = it->data;
        n++;
        if (it->events & EPOLLET)
            it->ready = false;
        if (it->events & EPOLLONESHOT) {
            it->disabled = true;
            it->ready = false;
        }
    }
    return n;
}

int hook_epoll_wait(void *u, int epfd, struct epoll_event *evs, int max, int timeout)
{
    struct pd *pd = u;
    if (max <= 0)
        return fail(EINVAL);
    if (evs == NULL)
        return fail(EFAULT);
    pthread_mutex_lock(&pd->mu);
    struct pd_epoll *e = ep_find(pd, epfd);
    if (e == NULL)
        return unlock_ret(pd, fail(sock_find(pd, epfd) ? EINVAL : EBADF));
    sk_time_us deadline = timeout < 0 ? SK_TIME_NEVER : pd->now + (sk_time_us)timeout * 1000;
    for (;;) {
        int n = collect(pd, e, evs, max);
        if (n > 0 || pd->now >= deadline)
            return unlock_ret(pd, n);
        wait_change(pd);
        e = ep_find(pd, epfd);
        if (e == NULL)
            return unlock_ret(pd, fail(EBADF));
    }
}

bool pd_epoll_close(struct pd *pd, int fd)
{
    for (struct pd_epoll **pp = &pd->epolls; *pp; pp = &(*pp)->next) {
        struct pd_epoll *e = *pp;
        if (e->fd != fd)
            continue;
        *pp = e->next;
        while (e->items) {
            struct pd_epoll_item *it = e->items;
            e->items = it->next;
            free(it);
        }
        close(e->fd);
        free(e);
        return true;
    }
    return false;
}

void pd_epoll_free_all(struct pd *pd)
{
    while (pd->epolls)
        pd_epoll_close(pd, pd->epolls->fd);
}

void pd_epoll_forget(struct pd *pd, int fd)
{
    for (struct pd_epoll *e = pd->epolls; e; e = e->next) {
        for (struct pd_epoll_item **pp = &e->items; *pp;) {
            struct pd_epoll_item *it = *pp;
            if (it->fd == fd) {
                *pp = it->next;
                free(it);
            } else {
                pp = &it->next;
            }
        }
    }
}
