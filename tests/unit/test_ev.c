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

/* A loop watching a pipe's read end, with a poll window. */
struct fixture {
    struct ev ev;
    struct hits h;
    int p[2];
};

static void fixture_open(struct fixture *f, int busy_poll_us)
{
    f->h.reads = 0;
    T_OK(pipe(f->p));
    T_OK(ev_create(&f->ev, 1024));
    f->ev.busy_poll_us = busy_poll_us;
    T_OK(ev_add(&f->ev, f->p[0], EV_READABLE, on_read, &f->h));
}

static void fixture_close(struct fixture *f)
{
    ev_destroy(&f->ev);
    close(f->p[0]);
    close(f->p[1]);
}

/* Make the pipe readable, run one blocking turn, check it read the byte;
 * returns whether the next wait will poll first. */
static bool data_turn(struct fixture *f)
{
    int before = f->h.reads;
    T_ASSERT(write(f->p[1], "x", 1) == 1);
    one_blocking_turn(&f->ev);
    T_EQ_INT(f->h.reads, before + 1);
    return f->ev.poll_next;
}

TEST(ev_busy_poll_follows_the_idle_gap)
{
    struct fixture f;
    fixture_open(&f, WINDOW_US);
    T_ASSERT(!f.ev.poll_next);

    /* A non-blocking turn never changes the state. */
    T_ASSERT(write(f.p[1], "x", 1) == 1);
    ev_run_once(&f.ev);
    T_EQ_INT(f.h.reads, 1);
    T_ASSERT(!f.ev.poll_next);

    /* A blocking turn that finds data at once (dense traffic): the next
     * wait polls first. */
    T_ASSERT(data_turn(&f));

    /* Nothing arrives: the poll spins for its window, no longer, then the
     * loop sleeps until the timer, and that gap turns polling off. */
    int64_t cpu0 = thread_cpu_us();
    one_blocking_turn(&f.ev);
    int64_t spun = thread_cpu_us() - cpu0;
    T_ASSERT(spun >= WINDOW_US / 2);
    T_ASSERT(spun < TIMER_MS * 1000 / 2);
    T_EQ_INT(f.h.reads, 2);
    T_ASSERT(!f.ev.poll_next);

    /* Data that arrives within the window turns it back on. */
    T_ASSERT(data_turn(&f));

    /* busy_poll_us 0 never polls, whatever the gap. */
    f.ev.busy_poll_us = 0;
    T_ASSERT(!data_turn(&f));
    one_blocking_turn(&f.ev); /* sleeps to the timer with no poll: still off */
    T_ASSERT(!f.ev.poll_next);

    fixture_close(&f);
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
    struct fixture f;
    fixture_open(&f, 10 * 1000 * 1000);

    /* Polling spins: most of the turn is CPU (a fair share on a loaded
     * machine is still far above a tenth). */
    int64_t spun = idle_turn_cpu_us(&f.ev);
    T_ASSERT(spun > SPIN_TURN_MS * 1000 / 10);
    T_ASSERT(!f.ev.poll_next);

    /* before_sleep's poll_skip: the same turn sleeps instead. */
    f.ev.before_sleep_fn = skip_poll;
    int64_t slept = idle_turn_cpu_us(&f.ev);
    T_ASSERT(slept < SPIN_TURN_MS * 1000 / 10);
    /* ... and only that turn: the flag is cleared before each hook. */
    f.ev.before_sleep_fn = NULL;
    ev_run_once(&f.ev);
    T_ASSERT(!f.ev.poll_skip);

    fixture_close(&f);
}
