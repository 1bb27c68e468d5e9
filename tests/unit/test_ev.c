/*
 * test_ev.c - unit tests for net/ev.c: dispatch and busy polling.
 *
 * Design
 *   A pipe is the fd; a write makes it readable. Busy polling is checked
 *   through its state (ev.poll_next) and the one time it must take: an
 *   empty poll lasts its whole window. Times are asserted only as lower
 *   bounds, so a loaded machine cannot fail them; the gap that turns
 *   polling off (the timer) is 10x the window.
 */
#include "harness/test.h"

#include "core/clock.h"
#include "net/ev.h"

#include <unistd.h>

/* The poll window: wide, so that a turn whose data is already there stays
 * inside it even when the test thread is preempted (under ASan, on a
 * loaded 2-core machine, once by more than 500 us). */
#define WINDOW_US 5000
#define TIMER_MS 50 /* an idle turn's gap: 10x the window */

struct hits {
    int reads;
};

/* Readable: count it and end ev_run after this turn. */
static void on_read(struct ev *ev, int fd, void *data, unsigned mask)
{
    struct hits *h = data;
    char b[64];
    (void)mask;
    if (read(fd, b, sizeof(b)) > 0)
        h->reads++;
    ev->stop = true;
}

/* Due: end ev_run after this turn. */
static void stop_timer(struct ev *ev, void *data)
{
    (void)data;
    ev->stop = true;
}

/* Run one blocking turn: it ends with the first readable fd or, with
 * nothing to read, with the timer TIMER_MS on. */
static void one_blocking_turn(struct ev *ev)
{
    ev_set_timer(ev, TIMER_MS, stop_timer);
    ev_run(ev);
}

TEST(ev_busy_poll_follows_the_idle_gap)
{
    struct ev ev;
    struct hits h = {0};
    int p[2];

    T_OK(pipe(p));
    T_OK(ev_create(&ev, 1024));
    ev.busy_poll_us = WINDOW_US;
    T_OK(ev_add(&ev, p[0], EV_READABLE, on_read, &h));
    T_ASSERT(!ev.poll_next);

    /* A non-blocking turn never changes the state. */
    T_ASSERT(write(p[1], "x", 1) == 1);
    ev_run_once(&ev);
    T_EQ_INT(h.reads, 1);
    T_ASSERT(!ev.poll_next);

    /* A blocking turn that finds data at once (dense traffic): the next
     * wait polls first. */
    T_ASSERT(write(p[1], "y", 1) == 1);
    one_blocking_turn(&ev);
    T_EQ_INT(h.reads, 2);
    T_ASSERT(ev.poll_next);

    /* Nothing arrives: the poll runs its whole window, then the loop sleeps
     * until the timer, and that gap (TIMER_MS) turns polling off. */
    int64_t t0 = clock_mono_us();
    one_blocking_turn(&ev);
    T_ASSERT(clock_mono_us() - t0 >= WINDOW_US);
    T_EQ_INT(h.reads, 2);
    T_ASSERT(!ev.poll_next);

    /* Data that arrives within the window turns it back on. */
    T_ASSERT(write(p[1], "z", 1) == 1);
    one_blocking_turn(&ev);
    T_EQ_INT(h.reads, 3);
    T_ASSERT(ev.poll_next);

    /* busy_poll_us 0 never polls, whatever the gap. */
    ev.busy_poll_us = 0;
    T_ASSERT(write(p[1], "w", 1) == 1);
    one_blocking_turn(&ev);
    T_EQ_INT(h.reads, 4);
    T_ASSERT(!ev.poll_next);
    one_blocking_turn(&ev); /* sleeps to the timer with no poll: still off */
    T_ASSERT(!ev.poll_next);

    ev_destroy(&ev);
    close(p[0]);
    close(p[1]);
}
