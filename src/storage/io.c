/*
 * io.c - POSIX durable I/O and the error-injecting wrapper.
 *
 * Design
 *   io_errinj keeps one atomic countdown and errno per injection point.
 *   Each call decrements an armed countdown; the call that brings it to
 *   zero fails with the armed errno without touching the file (for writes)
 *   or after doing nothing (for fsync), which is what a failing disk looks
 *   like to the caller.
 *
 * Threads
 *   Any.
 */
#include "storage/io.h"

#include "core/mem.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

static ssize_t posix_pwrite(int fd, const void *buf, size_t bytes, off_t offset)
{
    ssize_t n = pwrite(fd, buf, bytes, offset);
    return n < 0 ? -errno : n;
}

static int posix_fdatasync(int fd)
{
    return fdatasync(fd) == 0 ? 0 : -errno;
}

static int posix_rename(const char *from, const char *to)
{
    return rename(from, to) == 0 ? 0 : -errno;
}

static int posix_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = 0;
    if (fd < 0)
        return -errno;
    if (fsync(fd) != 0)
        rc = -errno;
    close(fd);
    return rc;
}

const struct io_ops io_posix = {
    .pwrite = posix_pwrite,
    .fdatasync = posix_fdatasync,
    .rename = posix_rename,
    .fsync_dir = posix_fsync_dir,
};

int io_pwrite_all(const struct io_ops *io, int fd, const void *buf, size_t bytes, off_t offset)
{
    const char *p = buf;
    while (bytes > 0) {
        ssize_t n = io->pwrite(fd, p, bytes, offset);
        if (n == -EINTR)
            continue;
        if (n < 0)
            return (int)n;
        if (n == 0)
            return -EIO;
        p += n;
        bytes -= (size_t)n;
        offset += n;
    }
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* "00000000000000000042<suffix>" -> 42; false for other names. */
static bool parse_numbered(const char *name, const char *suffix, uint64_t *n)
{
    size_t len = strlen(name);
    uint64_t v = 0;
    if (len != 20 + strlen(suffix) || strcmp(name + 20, suffix) != 0)
        return false;
    for (int i = 0; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9' || v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(name[i] - '0');
    }
    *n = v;
    return true;
}

int io_list_numbered(const char *dir, const char *suffix, uint64_t **out)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    uint64_t *nums = NULL;
    int n = 0, cap = 0;
    *out = NULL;
    if (!d)
        return errno == ENOENT ? 0 : -errno;
    while ((de = readdir(d)) != NULL) {
        uint64_t v;
        if (!parse_numbered(de->d_name, suffix, &v))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            nums = mem_realloc(nums, (size_t)cap * sizeof(*nums));
        }
        nums[n++] = v;
    }
    closedir(d);
    if (n > 1)
        qsort(nums, (size_t)n, sizeof(*nums), cmp_u64);
    *out = nums;
    return n;
}

#ifdef DEBUG
static atomic_int countdowns[IO_ERRINJ_POINTS];
static atomic_int errnos[IO_ERRINJ_POINTS];

/* True if the armed injection at p fires now. */
static bool fires(enum io_errinj_point p, int *err)
{
    int left = atomic_load(&countdowns[p]);
    while (left > 0) {
        if (atomic_compare_exchange_weak(&countdowns[p], &left, left - 1)) {
            if (left - 1 == 0) {
                *err = atomic_load(&errnos[p]);
                return true;
            }
            return false;
        }
    }
    return false;
}

static ssize_t errinj_pwrite(int fd, const void *buf, size_t bytes, off_t offset)
{
    int err;
    if (fires(IO_ERRINJ_WRITE, &err))
        return -err;
    return posix_pwrite(fd, buf, bytes, offset);
}

static atomic_int fsync_delay_ms;

bool io_errinj_set_fsync_delay(int ms)
{
    atomic_store(&fsync_delay_ms, ms);
    return true;
}

static int errinj_fdatasync(int fd)
{
    int err, delay = atomic_load(&fsync_delay_ms);
    if (delay > 0)
        usleep((useconds_t)delay * 1000);
    if (fires(IO_ERRINJ_FSYNC, &err))
        return -err;
    return posix_fdatasync(fd);
}

static const struct io_ops io_errinj = {
    .pwrite = errinj_pwrite,
    .fdatasync = errinj_fdatasync,
    .rename = posix_rename,
    .fsync_dir = posix_fsync_dir,
};

const struct io_ops *io_default(void)
{
    return &io_errinj;
}

bool io_errinj_set(enum io_errinj_point p, int countdown, int err)
{
    atomic_store(&errnos[p], err);
    atomic_store(&countdowns[p], countdown);
    return true;
}
#else
const struct io_ops *io_default(void)
{
    return &io_posix;
}

bool io_errinj_set(enum io_errinj_point p, int countdown, int err)
{
    (void)p, (void)countdown, (void)err;
    return false;
}

bool io_errinj_set_fsync_delay(int ms)
{
    (void)ms;
    return false;
}
#endif
