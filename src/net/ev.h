#pragma once
/*
 * ev.h - the event loop: epoll for file descriptors, one periodic timer,
 * and a before-sleep hook.
 *
 * Handlers are looked up by fd in a table sized at ev_create(). One loop
 * per process, owned by the loop thread.
 */
#include <stdbool.h>
#include <stdint.h>

#define EV_READABLE 1u
#define EV_WRITABLE 2u

struct ev;
typedef void ev_file_fn(struct ev *ev, int fd, void *data, unsigned mask);
typedef void ev_hook_fn(struct ev *ev, void *data);

struct ev_file {
    unsigned mask;     /* EV_READABLE | EV_WRITABLE registered */
    ev_file_fn *rfn;   /* called when readable */
    ev_file_fn *wfn;   /* called when writable */
    void *data;        /* borrowed, passed to the callbacks */
};

struct ev {
    int epfd;                   /* epoll instance */
    int fds_max;                /* size of files[] */
    struct ev_file *files;      /* owned, indexed by fd */
    void *events;               /* owned struct epoll_event[fds_max] */
    bool stop;                  /* ev_run() returns at the next turn */
    int timer_interval_ms;      /* period of timer_fn */
    int64_t timer_next_us;      /* monotonic time of the next tick */
    ev_hook_fn *timer_fn;       /* periodic callback, may be NULL */
    int64_t wake_us;            /* also wake at this monotonic time; 0 = not needed */
    ev_hook_fn *before_sleep_fn;/* called before each epoll_wait, may be NULL */
    int busy_poll_us;           /* poll this long before sleeping; 0 = never */
    bool poll_next;             /* the last idle gap was <= busy_poll_us */
    bool poll_skip;             /* this turn does not poll (set by before_sleep) */
    void *hook_data;            /* borrowed, passed to the hooks */
};

/* 0 or -errno. */
int ev_create(struct ev *ev, int fds_max);
void ev_destroy(struct ev *ev);
/* Register interest; 0 or -errno (-ERANGE if fd >= fds_max). */
int ev_add(struct ev *ev, int fd, unsigned mask, ev_file_fn *fn, void *data);
/* Drop interest in mask; with both bits, forget the fd. */
void ev_del(struct ev *ev, int fd, unsigned mask);
void ev_set_timer(struct ev *ev, int interval_ms, ev_hook_fn *fn);
/* Do not sleep past wake_us (monotonic us) this turn (the earliest of the
 * calls wins; cleared before each before_sleep). Used by before_sleep:
 * blocked clients' timeouts, a delayed group commit. */
void ev_wake_at(struct ev *ev, int64_t wake_us);
/* One turn that does not wait: before-sleep hook, ready fds. No timer. */
void ev_run_once(struct ev *ev);
/* Run until ev->stop. */
void ev_run(struct ev *ev);
