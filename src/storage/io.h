#pragma once
/*
 * io.h - durable I/O through a table of functions, so tests can break it
 * (STYLE.md example 10).
 *
 * io_posix is the real thing. In debug builds (-DDEBUG) io_errinj wraps it
 * and fails the operations armed with io_errinj_set() (DEBUG ERRINJ), which
 * is how the crash tests inject EIO and ENOSPC into a running server.
 * All functions return 0 / a byte count, or -errno.
 * Threads: any; io_errinj_set() is atomic.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct io_ops {
    ssize_t (*pwrite)(int fd, const void *buf, size_t bytes, off_t offset);
    int (*fdatasync)(int fd);
    int (*rename)(const char *from, const char *to);
    int (*fsync_dir)(const char *dir);
};

extern const struct io_ops io_posix;

/* The ops the storage layer uses: io_posix, or io_errinj in debug builds. */
const struct io_ops *io_default(void);

/* Write all of buf at offset (retrying short writes). 0 or -errno. */
int io_pwrite_all(const struct io_ops *io, int fd, const void *buf, size_t bytes, off_t offset);

/*
 * The numbers of the files in directory `dir` named "<20 decimal digits>"
 * followed by `suffix` (".wal", ".snap"), sorted ascending. Caller frees
 * *out with mem_free(). Returns the count, 0 if the directory does not
 * exist, or -errno.
 */
int io_list_numbered(const char *dir, const char *suffix, uint64_t **out);

/* Error injection points (debug builds; no-ops otherwise). */
enum io_errinj_point { IO_ERRINJ_WRITE = 0, IO_ERRINJ_FSYNC = 1, IO_ERRINJ_POINTS = 2 };
/* Debug builds: make every WAL fdatasync sleep ms first (0 = off), to
 * stand for a slow disk. Returns false if unsupported. */
bool io_errinj_set_fsync_delay(int ms);
/* Arm point p: fail the countdown-th next call (1 = the next one) with
 * -err, or disarm with countdown 0. Returns false if unsupported. */
bool io_errinj_set(enum io_errinj_point p, int countdown, int err);
