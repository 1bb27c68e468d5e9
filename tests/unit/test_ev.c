/*
 * test_ev.c - unit tests for net/ev.c: dispatch and busy polling.
 *
 * Design
 *   A pipe is the fd; a write makes it readable. Busy polling is checked
 *   through its state (ev.poll_next) and through the thread's CPU time: a
 *   poll spins, a sleep does not. Margins are wide for a loaded 2-core
 *   machine under ASan: a turn whose data is already there must return
 *   within the 20 ms window, and the CPU bounds are half a window (a poll
 *   that ran) and half the 200 ms timer (a poll that stopped at its
 *   window rather than at the timer).
 */
#include "harness/test.h"

#include "core/clock.h"
#include "net/ev.h"

#include <time.h>
#include <unistd.h>

/* The poll window: wide, so that a turn whose data is already there stays
 * inside it even when the test thread is preempted (under ASan, on a
 * loaded 2-core machine, once by more than 500 us). */
#define WINDOW_US 20000
#define TIMER_MS 200 /* an idle turn's gap: 10x the window */

struct hits {
    int reads;
};

static int64_t thread_cpu_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

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

    /* Nothing arrives: the poll spins for its window, no longer, then the
     * loop sleeps until the timer, and that gap turns polling off. */
    int64_t cpu0 = thread_cpu_us();
    one_blocking_turn(&ev);
    int64_t spun = thread_cpu_us() - cpu0;
    T_ASSERT(spun >= WINDOW_US / 2);
    T_ASSERT(spun < TIMER_MS * 1000 / 2);
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

static void skip_poll(struct ev *ev, void *data)
{
    (void)data;
    ev->poll_skip = true;
}

/* An idle turn of SPIN_TURN_MS with polling on: returns the thread's CPU
 * time over it, in us. */
#define SPIN_TURN_MS 200
static int64_t idle_turn_cpu_us(struct ev *ev)
{
    int64_t cpu0 = thread_cpu_us(), t0 = clock_mono_us();
    ev->poll_next = true;
    ev_set_timer(ev, SPIN_TURN_MS, stop_timer);
    ev_run(ev);
    /* The poll window (10 s) is far past the timer: the poll ends at the
     * timer's deadline, not at its window. */
    T_ASSERT(clock_mono_us() - t0 < 5 * 1000 * 1000);
    return thread_cpu_us() - cpu0;
}

TEST(ev_busy_poll_ends_at_the_deadline_and_can_be_skipped)
{
    struct ev ev;
    struct hits h = {0};
    int p[2];

    T_OK(pipe(p));
    T_OK(ev_create(&ev, 1024));
    ev.busy_poll_us = 10 * 1000 * 1000;
    T_OK(ev_add(&ev, p[0], EV_READABLE, on_read, &h));

    /* Polling spins: most of the turn is CPU (a fair share on a loaded
     * machine is still far above a tenth). */
    int64_t spun = idle_turn_cpu_us(&ev);
    T_ASSERT(spun > SPIN_TURN_MS * 1000 / 10);
    T_ASSERT(!ev.poll_next);

    /* before_sleep's poll_skip: the same turn sleeps instead. */
    ev.before_sleep_fn = skip_poll;
    int64_t slept = idle_turn_cpu_us(&ev);
    T_ASSERT(slept < SPIN_TURN_MS * 1000 / 10);
    /* ... and only that turn: the flag is cleared before each hook. */
    ev.before_sleep_fn = NULL;
    ev_run_once(&ev);
    T_ASSERT(!ev.poll_skip);

    ev_destroy(&ev);
    close(p[0]);
    close(p[1]);
}
