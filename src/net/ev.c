/*
 * ev.c - epoll event loop.
 *
 * Design
 *   Level-triggered epoll. Each turn: before_sleep hook, epoll_wait with a
 *   timeout reaching to the next timer tick, dispatch ready fds (read
 *   before write), then run the timer if due. Handlers may delete any fd,
 *   including ones later in this turn's ready list: a deleted fd's mask is
 *   0, and dispatch checks the mask before each call.
 *
 * Busy polling
 *   A client writing to a loop asleep in epoll_wait pays, inside its own
 *   send(), for waking the loop thread; on the 2-core dev VM that made
 *   redis-benchmark, the limit at -P 1, spend about 10% more CPU per
 *   request on engram than on a busier server. So when the last idle gap
 *   (from the turn's first poll to its first event) was at most
 *   busy_poll_us, the next wait first polls (epoll_wait with timeout 0)
 *   for up to busy_poll_us and only then sleeps. Under sparse traffic a
 *   poll comes up empty once and the gap then measured is long, so polling
 *   stops until traffic is dense again: the CPU it can waste is bounded by
 *   busy_poll_us per change from dense to sparse traffic. before_sleep can
 *   skip the poll for one turn (poll_skip): the server does while a WAL
 *   batch is being synced, when polling measurably took CPU from the WAL
 *   thread and the clients (durable LPUSH -P 1: 16 against 11 us of server
 *   CPU per request, no faster).
 *
 * Invariants
 *   (1) files[fd].mask is exactly what epoll has registered for fd.
 *
 * Threads
 *   The loop thread only.
 */
#include "net/ev.h"

#include "core/assert.h"
#include "core/clock.h"
#include "core/mem.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

int ev_create(struct ev *ev, int fds_max)
{
    ev->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (ev->epfd < 0)
        return -errno;
    ev->fds_max = fds_max;
    ev->files = mem_calloc((size_t)fds_max * sizeof(struct ev_file));
    ev->events = mem_calloc((size_t)fds_max * sizeof(struct epoll_event));
    ev->stop = false;
    ev->timer_interval_ms = 0;
    ev->timer_fn = NULL;
    ev->before_sleep_fn = NULL;
    ev->hook_data = NULL;
    ev->wake_us = 0;
    ev->busy_poll_us = 0;
    ev->poll_next = false;
    ev->poll_skip = false;
    return 0;
}

void ev_destroy(struct ev *ev)
{
    close(ev->epfd);
    mem_free(ev->files);
    mem_free(ev->events);
}

static int apply(struct ev *ev, int fd, unsigned old_mask, unsigned mask)
{
    struct epoll_event ee = {0};
    int op = old_mask == 0 ? EPOLL_CTL_ADD : (mask == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD);
    ee.events = ((mask & EV_READABLE) ? EPOLLIN : 0) | ((mask & EV_WRITABLE) ? EPOLLOUT : 0);
    ee.data.fd = fd;
    if (epoll_ctl(ev->epfd, op, fd, &ee) != 0)
        return -errno;
    return 0;
}

int ev_add(struct ev *ev, int fd, unsigned mask, ev_file_fn *fn, void *data)
{
    struct ev_file *f;
    unsigned new_mask;
    int rc;
    if (fd < 0 || fd >= ev->fds_max)
        return -ERANGE;
    f = &ev->files[fd];
    new_mask = f->mask | mask;
    if (new_mask != f->mask) {
        rc = apply(ev, fd, f->mask, new_mask);
        if (rc != 0)
            return rc;
    }
    f->mask = new_mask;
    if (mask & EV_READABLE)
        f->rfn = fn;
    if (mask & EV_WRITABLE)
        f->wfn = fn;
    f->data = data;
    return 0;
}

void ev_del(struct ev *ev, int fd, unsigned mask)
{
    struct ev_file *f;
    unsigned new_mask;
    if (fd < 0 || fd >= ev->fds_max)
        return;
    f = &ev->files[fd];
    new_mask = f->mask & ~mask;
    if (new_mask == f->mask)
        return;
    /* Failure here means the fd is already closed, which removes it. */
    (void)apply(ev, fd, f->mask, new_mask);
    f->mask = new_mask;
}

void ev_set_timer(struct ev *ev, int interval_ms, ev_hook_fn *fn)
{
    ASSERT(interval_ms > 0);
    ev->timer_interval_ms = interval_ms;
    ev->timer_fn = fn;
    ev->timer_next_us = clock_mono_us() + (int64_t)interval_ms * 1000;
}

void ev_wake_at(struct ev *ev, int64_t wake_us)
{
    if (wake_us > 0 && (ev->wake_us == 0 || wake_us < ev->wake_us))
        ev->wake_us = wake_us;
}

/* Monotonic us of the turn's next timer tick or wake-up; INT64_MAX if none. */
static int64_t deadline_us(const struct ev *ev)
{
    int64_t at = ev->timer_fn ? ev->timer_next_us : INT64_MAX;
    if (ev->wake_us && ev->wake_us < at)
        at = ev->wake_us;
    return at;
}

/* epoll_wait's timeout to reach deadline_us: -1 (none), 0 (due) or ms. */
static int timeout_ms_to(int64_t at, int64_t now)
{
    if (at == INT64_MAX)
        return -1;
    if (at <= now)
        return 0;
    return (int)((at - now + 999) / 1000);
}

/* Wait for events as the turn allows (see "Busy polling"); epoll_wait's
 * result. */
static int wait_events(struct ev *ev, bool block)
{
    struct epoll_event *events = ev->events;
    int64_t at = deadline_us(ev), start = clock_mono_us(), now = start;
    int n;

    if (!block || at <= start)
        return epoll_wait(ev->epfd, events, ev->fds_max, 0);
    if (ev->poll_next && !ev->poll_skip && ev->busy_poll_us > 0) {
        int64_t poll_end = start + ev->busy_poll_us < at ? start + ev->busy_poll_us : at;
        do {
            n = epoll_wait(ev->epfd, events, ev->fds_max, 0);
            now = clock_mono_us();
        } while (n == 0 && now < poll_end);
        if (n != 0)
            return n; /* events (or EINTR): poll_next stays true */
    }
    n = epoll_wait(ev->epfd, events, ev->fds_max, timeout_ms_to(at, now));
    ev->poll_next = ev->busy_poll_us > 0 && n > 0 && clock_mono_us() - start <= ev->busy_poll_us;
    return n;
}

static void run_turn_with(struct ev *ev, bool block)
{
    struct epoll_event *events = ev->events;
    int n;
    ev->wake_us = 0; /* before_sleep sets this turn's wake-ups ... */
    ev->poll_skip = false; /* ... and whether it may poll */
    if (ev->before_sleep_fn)
        ev->before_sleep_fn(ev, ev->hook_data);
    if (ev->stop)
        return;
    n = wait_events(ev, block);
    /* n is -1 on EINTR (a signal): nothing to dispatch this turn. */
    for (int i = 0; i < n; i++) {
        int fd = events[i].data.fd;
        struct ev_file *f = &ev->files[fd];
        unsigned got = events[i].events;
        bool readable = got & (EPOLLIN | EPOLLERR | EPOLLHUP);
        bool writable = got & (EPOLLOUT | EPOLLERR | EPOLLHUP);
        if (readable && (f->mask & EV_READABLE))
            f->rfn(ev, fd, f->data, EV_READABLE);
        if (writable && (f->mask & EV_WRITABLE))
            f->wfn(ev, fd, f->data, EV_WRITABLE);
    }
    if (block && ev->timer_fn && clock_mono_us() >= ev->timer_next_us) {
        ev->timer_next_us = clock_mono_us() + (int64_t)ev->timer_interval_ms * 1000;
        ev->timer_fn(ev, ev->hook_data);
    }
}

void ev_run_once(struct ev *ev)
{
    run_turn_with(ev, false);
}

void ev_run(struct ev *ev)
{
    ev->stop = false;
    while (!ev->stop)
        run_turn_with(ev, true);
}
