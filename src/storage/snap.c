/*
 * snap.c - snapshot file format.
 *
 * Format (little-endian; docs/formats/snapshot.md is the reference copy)
 *   +0  8  magic "ENGRMSNP"
 *   +8  4  format version (1)
 *   +12 4  header bytes (32)
 *   +16 8  lsn covered: the state after applying WAL records 1..lsn
 *   +24 8  creation time, unix ms
 *   then one entry per key:
 *     1 byte  entry kind 0x01
 *     1 byte  value type (the caller's code; 0 = string)
 *     2 bytes database number
 *     8 bytes absolute expiry, unix ms, or -1
 *     4 bytes key length, key bytes
 *     4 bytes value length, value bytes
 *   then the end:
 *     1 byte  0xFF
 *     8 bytes number of keys
 *     4 bytes crc32c of every byte before these four
 *
 * Design
 *   Written through a 1 MB buffer with pwrite, checksummed as it goes;
 *   committed with the D6 sequence: fsync the temp file, rename it, fsync
 *   the directory. A reader checks the trailer crc over the whole file
 *   (mapped) before it interprets a single entry, so a torn or corrupt
 *   snapshot is never half-loaded.
 *
 * Invariants
 *   (1) D6: a file named *.snap is complete and was fsynced before the
 *       rename made it visible.
 *   (2) Every length read is checked against the bytes that remain.
 *
 * Threads
 *   Writer: the snapshot child. Loader: start-up.
 */
#include "storage/snap.h"

#include "core/crc32c.h"
#include "core/mem.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define SNAP_KIND_KEY 0x01
#define SNAP_KIND_END 0xFF

static void put_le(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

void snap_path(char *out, size_t cap, const char *dir, lsn_t lsn)
{
    snprintf(out, cap, "%s/snap/%020" PRIu64 ".snap", dir, lsn);
}

static int flush_buf(struct snap_writer *w)
{
    int rc = io_pwrite_all(w->io, w->fd, w->buf, w->len, (off_t)w->offset);
    if (rc == 0) {
        w->offset += w->len;
        w->len = 0;
    }
    return rc;
}

static int put_bytes(struct snap_writer *w, const void *p, size_t n)
{
    const uint8_t *src = p;
    w->crc = crc32c(w->crc, p, n);
    while (n > 0) {
        size_t room = SNAP_WRITE_BUF_BYTES - w->len, take = n < room ? n : room;
        memcpy(w->buf + w->len, src, take);
        w->len += take;
        src += take;
        n -= take;
        if (w->len == SNAP_WRITE_BUF_BYTES) {
            int rc = flush_buf(w);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

int snap_writer_open(struct snap_writer *w, const char *dir, lsn_t lsn, int64_t now_ms)
{
    uint8_t hdr[SNAP_HEADER_BYTES];
    memset(w, 0, sizeof(*w));
    w->io = io_default();
    snprintf(w->snap_dir, sizeof(w->snap_dir), "%s/snap", dir);
    if (mkdir(w->snap_dir, 0755) != 0 && errno != EEXIST)
        return -errno;
    snap_path(w->final_path, sizeof(w->final_path), dir, lsn);
    snprintf(w->tmp_path, sizeof(w->tmp_path), "%s.tmp", w->final_path);
    w->fd = open(w->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w->fd < 0)
        return -errno;
    w->buf = mem_alloc(SNAP_WRITE_BUF_BYTES);
    memcpy(hdr, SNAP_MAGIC, 8);
    put_le(hdr + 8, SNAP_FORMAT_VERSION, 4);
    put_le(hdr + 12, SNAP_HEADER_BYTES, 4);
    put_le(hdr + 16, lsn, 8);
    put_le(hdr + 24, (uint64_t)now_ms, 8);
    return put_bytes(w, hdr, sizeof(hdr));
}

int snap_write_key(struct snap_writer *w, int db, uint8_t value_type, int64_t expire_ms,
                   const void *key, uint32_t key_len, const void *val, uint32_t val_len)
{
    uint8_t h[16], l[4];
    int rc;
    h[0] = SNAP_KIND_KEY;
    h[1] = value_type;
    put_le(h + 2, (uint64_t)db, 2);
    put_le(h + 4, (uint64_t)expire_ms, 8);
    put_le(h + 12, key_len, 4);
    if ((rc = put_bytes(w, h, sizeof(h))) != 0 || (rc = put_bytes(w, key, key_len)) != 0)
        return rc;
    put_le(l, val_len, 4);
    if ((rc = put_bytes(w, l, 4)) != 0 || (rc = put_bytes(w, val, val_len)) != 0)
        return rc;
    w->keys++;
    return 0;
}

int snap_writer_commit(struct snap_writer *w)
{
    uint8_t end[9], crc[4];
    int rc;
    end[0] = SNAP_KIND_END;
    put_le(end + 1, w->keys, 8);
    rc = put_bytes(w, end, sizeof(end));
    put_le(crc, w->crc, 4);
    if (rc == 0 && w->len + 4 > SNAP_WRITE_BUF_BYTES)
        rc = flush_buf(w);
    if (rc == 0) {
        memcpy(w->buf + w->len, crc, 4);
        w->len += 4;
        rc = flush_buf(w);
    }
    if (rc == 0)
        rc = w->io->fdatasync(w->fd);
    close(w->fd);
    w->fd = -1;
    if (rc == 0)
        rc = w->io->rename(w->tmp_path, w->final_path);
    if (rc == 0)
        rc = w->io->fsync_dir(w->snap_dir);
    if (rc != 0)
        unlink(w->tmp_path);
    mem_free(w->buf);
    w->buf = NULL;
    return rc;
}

void snap_writer_abort(struct snap_writer *w)
{
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
    unlink(w->tmp_path);
    mem_free(w->buf);
    w->buf = NULL;
}

/* Walk the verified entries of a mapped snapshot. */
static int load_entries(const uint8_t *p, size_t size, snap_key_fn *fn, void *ctx,
                        uint64_t *keys_out, char *err, size_t cap)
{
    size_t off = SNAP_HEADER_BYTES, end = size - 4;
    uint64_t keys = 0;
    while (off < end && p[off] == SNAP_KIND_KEY) {
        uint32_t klen, vlen;
        const uint8_t *e = p + off;
        if (end - off < 20)
            break;
        klen = (uint32_t)get_le(e + 12, 4);
        if (klen > end - off - 20)
            break;
        vlen = (uint32_t)get_le(e + 16 + klen, 4);
        if (vlen > end - off - 20 - klen)
            break;
        if (fn(ctx, (int)get_le(e + 2, 2), e[1], (int64_t)get_le(e + 4, 8),
               (const char *)e + 16, klen, (const char *)e + 20 + klen, vlen) != 0) {
            snprintf(err, cap, "entry %" PRIu64 " at offset %zu was refused", keys, off);
            return -1;
        }
        keys++;
        off += 20 + (size_t)klen + vlen;
    }
    if (off + 9 != end || p[off] != SNAP_KIND_END || get_le(p + off + 1, 8) != keys) {
        snprintf(err, cap, "bad entry or trailer at offset %zu", off);
        return -1;
    }
    *keys_out = keys;
    return 0;
}

static int check_file(const uint8_t *p, size_t size, lsn_t *lsn, char *err, size_t cap)
{
    if (size < SNAP_HEADER_BYTES + 13 || memcmp(p, SNAP_MAGIC, 8) != 0) {
        snprintf(err, cap, "not a snapshot (bad magic or too short)");
        return -1;
    }
    if (get_le(p + 8, 4) != SNAP_FORMAT_VERSION || get_le(p + 12, 4) != SNAP_HEADER_BYTES) {
        snprintf(err, cap, "unsupported snapshot version %" PRIu64, get_le(p + 8, 4));
        return -1;
    }
    if (crc32c(0, p, size - 4) != (uint32_t)get_le(p + size - 4, 4)) {
        snprintf(err, cap, "checksum mismatch");
        return -1;
    }
    *lsn = get_le(p + 16, 8);
    return 0;
}

int snap_load(const char *path, snap_begin_fn *begin, snap_key_fn *fn, void *ctx,
              lsn_t *lsn_out, uint64_t *keys_out, char *err, size_t cap)
{
    struct stat st;
    const uint8_t *p;
    int rc = -1, fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, cap, "can't open: %s", strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0 || st.st_size == 0) {
        snprintf(err, cap, "empty or unreadable");
        close(fd);
        return -1;
    }
    p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) {
        snprintf(err, cap, "can't map: %s", strerror(errno));
        return -1;
    }
    if (check_file(p, (size_t)st.st_size, lsn_out, err, cap) == 0) {
        if (begin)
            begin(ctx, get_le(p + st.st_size - 12, 8), (int64_t)get_le(p + 24, 8));
        rc = load_entries(p, (size_t)st.st_size, fn, ctx, keys_out, err, cap);
    }
    munmap((void *)p, (size_t)st.st_size);
    return rc;
}

int snap_list(const char *dir, lsn_t **lsns_out)
{
    char path[4096];
    int n;
    snprintf(path, sizeof(path), "%s/snap", dir);
    n = io_list_numbered(path, ".snap", lsns_out);
    /* Newest first. */
    for (int a = 0, b = n - 1; a < b; a++, b--) {
        lsn_t t = (*lsns_out)[a];
        (*lsns_out)[a] = (*lsns_out)[b];
        (*lsns_out)[b] = t;
    }
    return n;
}
