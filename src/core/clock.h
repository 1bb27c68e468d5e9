#pragma once
/*
 * clock.h - time sources.
 *
 * Wall-clock milliseconds are what expiry times are made of (absolute unix
 * time, as Redis). Monotonic time measures durations. Any thread.
 */
#include <stdint.h>

/* Unix time in milliseconds. */
int64_t clock_wall_ms(void);
/* Unix time in microseconds. */
int64_t clock_wall_us(void);
/* Monotonic microseconds since an arbitrary origin. */
int64_t clock_mono_us(void);
