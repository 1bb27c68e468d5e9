/*
 * engram-check.c - offline verifier, dumper and repairer of the WAL.
 *
 *   engram-check verify DIR
 *   engram-check dump DIR [--from-lsn N] [--to-lsn N]
 *   engram-check dump-snapshot DIR
 *   engram-check repair DIR
 *
 * Design
 *   One scanner, scan_wal(), walks <DIR>/wal segment by segment in lsn
 *   order with the server's own decoder (wal_check_segment_header,
 *   wal_decode_batch, wal_decode) and stops at the first problem, which it
 *   classifies with the rule of recovery.c (DESIGN.md D5,
 *   docs/formats/wal.md):
 *
 *     torn tail  a bad batch in the newest segment with no valid batch
 *                header of a later lsn after it, or a newest segment whose
 *                creation was interrupted: a crash mid-write. The server
 *                cuts it at start-up; verify reports it and exits 0.
 *     corrupt    anything else: a bad segment header, a bad batch in an
 *                older segment or followed by a valid one, an lsn out of
 *                sequence (within or across segments), a body that is not
 *                whole effects (proto/effect_codec.h). The server refuses
 *                to start.
 *
 *   The scanner is stricter than the server in one place, because the
 *   server never writes such data: zero bytes followed by non-zero bytes
 *   (treated, as by the server, as a bad record). An empty body is refused
 *   by both (apply_record in src/server/durable.c). A gap in
 *   lsns between two segments is accepted only if the newest finished
 *   snapshot (<DIR>/snap/<lsn>.snap) covers it, as recovery_run() does.
 *   verify also loads every finished snapshot (CRC32C over the file) and
 *   checks each value's layout for its type (docs/formats/snapshot.md): a
 *   bad snapshot is invalid data (exit 1), though the server would fall
 *   back to an older one. dump-snapshot prints the newest snapshot's keys.
 *
 *   verify prints a line per segment, dump a line per record (the audit
 *   trail; values are quoted like redis-cli quotes them), and repair acts
 *   on the problem found.
 *
 * Repair, in this order (nothing is destroyed before its copy is durable)
 *   1. flock <DIR>/engram.lock; refuse if a server holds it. Held to exit.
 *   2. Copy the bad segment from the cut point to its end into
 *      <segment>.cut-<unix time>, fsync it and the wal directory.
 *   3. Truncate the segment at the cut point and fsync it. A segment that
 *      would keep no record is removed instead (all of it is in the .cut
 *      file); this also covers a bad header and an lsn gap at its start.
 *   4. Rename every later segment to <segment>.after-repair-<unix time>:
 *      nothing after the cut can be replayed past the gap. These names do
 *      not look like segments, so the server ignores them.
 *   5. fsync the wal directory, scan again and print the result.
 *
 * Invariants
 *   (1) Only repair writes, and only while it holds <DIR>/engram.lock.
 *   (2) problem.offset is the cut point: the end of the last valid batch
 *       of its segment, or 0 for a bad segment header.
 *   (3) Exit codes: 0 valid (a torn tail included) or repaired, 1 invalid
 *       data, an I/O error or a refused repair, 2 usage errors.
 *
 * Threads
 *   Single-threaded. Reads only the WAL format code of src/storage, the
 *   effect decoder of src/proto and src/core; no server code is linked.
 */
#include "core/mem.h"
#include "core/util.h"
#include "core/varint.h"
#include "proto/effect_codec.h"
#include "storage/snap.h"
#include "storage/io.h"
#include "storage/recovery.h"
#include "storage/wal.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Paths are <dir>/wal/<20 digits>.wal plus a suffix; PATH_MAX is 4096. */
#define CHECK_PATH_BYTES 4200
/* Copy buffer of repair's .cut file. */
#define CHECK_COPY_BYTES (1024u * 1024u)
/* Unique-name attempts for .cut/.after-repair files made in one second. */
#define CHECK_UNIQUE_TRIES_MAX 1000

enum check_exit { CHECK_EXIT_OK = 0, CHECK_EXIT_BAD = 1, CHECK_EXIT_USAGE = 2 };

enum problem_kind { PROBLEM_NONE = 0, PROBLEM_TORN = 1, PROBLEM_CORRUPT = 2 };

struct problem {
    enum problem_kind kind;      /* PROBLEM_NONE while the WAL is clean */
    int seg;                     /* index in scan.lsns of the bad segment */
    uint64_t offset;             /* cut point, invariant (2) */
    lsn_t lsn;                   /* lsn expected at offset (0 if unknown) */
    char path[CHECK_PATH_BYTES]; /* the bad segment */
    char why[1024];              /* what is wrong, and what the server does */
    bool other_version;          /* a segment of another format version: not damage */
};

struct seg_summary {
    const char *path; /* segment file */
    uint64_t records; /* valid records read */
    lsn_t first_lsn;  /* lsn of the first of them, 0 if none */
    lsn_t last_lsn;   /* lsn of the last of them, 0 if none */
    uint64_t bytes;   /* file size */
};

struct scan;
/* Called for each valid record; a nonzero return stops the scan. */
typedef int scan_record_fn(struct scan *s, const struct wal_record *r);
/* Called after each segment that was read, even partly. */
typedef void scan_segment_fn(struct scan *s, const struct seg_summary *sum);

struct scan {
    const char *dir;             /* data directory, borrowed */
    lsn_t *lsns;                 /* segment names, ascending; owned */
    int count;                   /* segments */
    lsn_t snap_lsn;              /* newest finished snapshot, 0 if none */
    lsn_t expect;                /* lsn of the next record, 0 before the first */
    uint64_t records;            /* valid records read */
    lsn_t first_lsn;             /* first valid lsn, 0 if none */
    lsn_t last_lsn;              /* last valid lsn, 0 if none */
    int segs_read;               /* segments read, even partly */
    bool stopped;                /* on_record asked to stop */
    struct problem problem;      /* first problem found */
    scan_record_fn *on_record;   /* or NULL */
    scan_segment_fn *on_segment; /* or NULL */
    FILE *notes;                 /* informational lines, or NULL */
    lsn_t from_lsn;              /* dump: first lsn to print */
    lsn_t to_lsn;                /* dump: last lsn to print, 0 = no limit */
    struct effect_view effect;   /* decodes bodies */
};

static void usage(FILE *out)
{
    fprintf(out, "usage: engram-check verify DIR\n"
                 "       engram-check dump DIR [--from-lsn N] [--to-lsn N]\n"
                 "       engram-check dump-snapshot DIR\n"
                 "       engram-check repair DIR\n"
                 "\n"
                 "DIR is an engram data directory (the server's --dir); the WAL is DIR/wal.\n"
                 "\n"
                 "verify  check every WAL segment: header, each record's magic, length and\n"
                 "        CRC32C, lsn continuity within and across segments, and that each\n"
                 "        body is RESP arrays of bulk strings with a numeric db first. A torn\n"
                 "        tail in the newest segment (the server cuts it at start-up) is\n"
                 "        reported and still valid.\n"
                 "dump    print one line per record: lsn, UTC time, db and effect of each\n"
                 "        effect, arguments quoted like redis-cli (the audit trail).\n"
                 "dump-snapshot  print the newest snapshot's keys: db, type, expiry, key\n"
                 "        and value (fields, members, elements and scores quoted).\n"
                 "repair  cut the WAL at the first bad record: the cut bytes are kept as\n"
                 "        <segment>.cut-<time>, later segments are renamed to\n"
                 "        <segment>.after-repair-<time>. Refused while a server runs on DIR.\n"
                 "\n"
                 "verify also loads every finished snapshot in DIR/snap: its CRC32C and the\n"
                 "layout of every value for its type. Only an lsn gap between segments that\n"
                 "the newest snapshot covers is accepted.\n"
                 "\n"
                 "Exit status: 0 valid (or repaired), 1 invalid data or refused, 2 usage.\n");
}

/* ---- Body decoding and printing ------------------------------------- */

/* Print s[0..len) quoted and escaped as redis-cli does (sdscatrepr). */
static void print_repr(FILE *out, const char *s, size_t len)
{
    fputc('"', out);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '\\':
        case '"':
            fputc('\\', out);
            fputc(c, out);
            break;
        case '\n':
            fputs("\\n", out);
            break;
        case '\r':
            fputs("\\r", out);
            break;
        case '\t':
            fputs("\\t", out);
            break;
        case '\a':
            fputs("\\a", out);
            break;
        case '\b':
            fputs("\\b", out);
            break;
        default:
            if (isprint(c))
                fputc(c, out);
            else
                fprintf(out, "\\x%02x", c);
        }
    }
    fputc('"', out);
}

/* Effect names are printed bare when they are plain words (they always
 * are when the server wrote them), quoted otherwise. */
static void print_name(FILE *out, const char *s, size_t len)
{
    bool plain = len > 0;
    for (size_t i = 0; i < len && plain; i++)
        plain = isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '-';
    if (plain)
        fwrite(s, 1, len, out);
    else
        print_repr(out, s, len);
}

static void print_effect(FILE *out, const struct effect_view *v)
{
    fprintf(out, "db=%d ", v->db);
    print_name(out, v->args[0].p, v->args[0].len);
    for (int i = 1; i < v->argc; i++) {
        fputc(' ', out);
        print_repr(out, v->args[i].p, v->args[i].len);
    }
}

/*
 * Check that the body of r is one or more effects; if out is not NULL,
 * print them, separated by " ; ". 0, or -1 with the reason in why.
 */
static int check_body(struct effect_view *v, const struct wal_record *r, FILE *out, char *why,
                      size_t cap)
{
    size_t off = 0;
    int effects = 0;
    if (r->body_bytes == 0) {
        snprintf(why, cap, "empty body (a record holds at least one effect)");
        return -1;
    }
    while (off < r->body_bytes) {
        const char *reason;
        int64_t n = effect_decode(r->body + off, r->body_bytes - off, v, &reason);
        if (n < 0) {
            snprintf(why, cap, "%s", reason);
            return -1;
        }
        if (out) {
            if (effects > 0) fputs(" ; ", out);
            print_effect(out, v);
        }
        off += (size_t)n;
        effects++;
    }
    return 0;
}

/* ---- Scanner ---------------------------------------------------------- */


__attribute__((format(printf, 6, 7))) static void set_problem(struct scan *s,
                                                              enum problem_kind kind, int seg,
                                                              uint64_t offset, lsn_t lsn,
                                                              const char *fmt, ...)
{
    va_list ap;
    s->problem.kind = kind;
    s->problem.seg = seg;
    s->problem.offset = offset;
    s->problem.lsn = lsn;
    wal_segment_path(s->problem.path, sizeof(s->problem.path), s->dir, s->lsns[seg]);
    va_start(ap, fmt);
    vsnprintf(s->problem.why, sizeof(s->problem.why), fmt, ap);
    va_end(ap);
}

/* Newest finished snapshot in <dir>/snap ("<20 digits>.snap"), 0 if none. */
static lsn_t newest_snapshot(const char *dir)
{
    char path[CHECK_PATH_BYTES];
    DIR *d;
    struct dirent *de;
    lsn_t newest = 0;
    snprintf(path, sizeof(path), "%s/snap", dir);
    d = opendir(path);
    if (!d) return 0;
    while ((de = readdir(d)) != NULL) {
        const char *n = de->d_name;
        bool digits = strlen(n) == 25 && strcmp(n + 20, ".snap") == 0;
        for (int i = 0; i < 20 && digits; i++)
            digits = n[i] >= '0' && n[i] <= '9';
        if (digits && strtoull(n, NULL, 10) > newest) newest = strtoull(n, NULL, 10);
    }
    closedir(d);
    return newest;
}

/* A bad batch (WAL_DECODE_TORN) at off: torn tail or corruption. */
static void bad_batch(struct scan *s, int seg, const uint8_t *p, size_t size, uint64_t off)
{
    bool newest = seg == s->count - 1;
    if (newest && !wal_valid_batch_after(p, size, off, s->expect)) {
        set_problem(s, PROBLEM_TORN, seg, off, s->expect, "would be truncated at start");
        return;
    }
    set_problem(s, PROBLEM_CORRUPT, seg, off, s->expect,
                "bad batch or record header or checksum%s",
                newest ? ", and a valid batch with a later lsn follows it"
                       : ", in a segment that is not the newest");
}

/* Reading stopped at zero bytes at off: fine if only zeros follow. */
static void zero_fill(struct scan *s, int seg, const uint8_t *p, size_t size, uint64_t off)
{
    if (!wal_nonzero_after(p, size, off)) return;
    /* As the server: zeros followed by data are a bad record (D5). */
    bad_batch(s, seg, p, size, off);
}

/* Check and count the records of the valid batch b at p; false (and a
 * problem set) if a body is not valid effects. */
static bool scan_batch(struct scan *s, int seg, const uint8_t *p, uint64_t off,
                       const struct wal_batch *b, struct seg_summary *sum)
{
    uint64_t at = off + WAL_BATCH_HEADER_BYTES;
    char why[256];
    for (uint32_t i = 0; i < b->records && !s->stopped; i++) {
        struct wal_record r;
        size_t rec_size = wal_record_at(p + at, &r); /* checked by wal_decode_batch */
        if (check_body(&s->effect, &r, NULL, why, sizeof(why)) != 0) {
            set_problem(s, PROBLEM_CORRUPT, seg, off, b->first_lsn,
                        "invalid effects in the record of lsn %" PRIu64 " (offset %" PRIu64
                        "): %s", r.lsn, at, why);
            return false;
        }
        if (sum->records++ == 0) sum->first_lsn = r.lsn;
        sum->last_lsn = r.lsn;
        if (s->records++ == 0) s->first_lsn = r.lsn;
        s->last_lsn = r.lsn;
        s->expect = r.lsn + 1;
        at += rec_size;
        if (s->on_record && s->on_record(s, &r) != 0) s->stopped = true;
    }
    return true;
}

/* Walk the batches of a mapped segment; fills sum. */
static void scan_records(struct scan *s, int seg, const uint8_t *p, size_t size,
                         struct seg_summary *sum)
{
    uint64_t off = WAL_SEGMENT_HEADER_BYTES;
    while (!s->stopped && s->problem.kind == PROBLEM_NONE) {
        struct wal_batch b;
        int rc = wal_decode_batch(p + off, size - off, &b);
        if (rc == WAL_DECODE_END) {
            zero_fill(s, seg, p, size, off);
            break;
        }
        if (rc == WAL_DECODE_TORN) {
            bad_batch(s, seg, p, size, off);
            break;
        }
        if (b.first_lsn != s->expect) {
            set_problem(s, PROBLEM_CORRUPT, seg, off, s->expect,
                        "batch starts at lsn %" PRIu64 " where %" PRIu64 " was expected",
                        b.first_lsn, s->expect);
            break;
        }
        if (!scan_batch(s, seg, p, off, &b, sum)) break;
        off += b.size;
    }
}

/* Check the header of segment seg and its place in the lsn sequence.
 * true if its records can be read. */
static bool check_segment_start(struct scan *s, int seg, const uint8_t *p, size_t size)
{
    lsn_t first = 0, name = s->lsns[seg];
    int rc = p ? wal_check_segment_header(p, size, &first) : -1;
    if (rc == -2) {
        char advice[900], path[CHECK_PATH_BYTES];
        wal_segment_path(path, sizeof(path), s->dir, name);
        wal_version_advice(advice, sizeof(advice), path, p);
        set_problem(s, PROBLEM_CORRUPT, seg, 0, s->expect, "%s", advice);
        s->problem.other_version = true;
        return false;
    }
    if (rc != 0 || first != name) {
        if (seg == s->count - 1 && size < 2 * WAL_SEGMENT_HEADER_BYTES) {
            set_problem(s, PROBLEM_TORN, seg, 0, s->expect,
                        "segment creation was interrupted; would be removed at start");
        } else if (rc != 0) {
            set_problem(s, PROBLEM_CORRUPT, seg, 0, s->expect, "bad segment header (%s)",
                        rc == -2 ? "unknown format version" : "bad magic or checksum");
        } else {
            set_problem(s, PROBLEM_CORRUPT, seg, 0, s->expect,
                        "segment header says lsn %" PRIu64 ", its file name %" PRIu64, first, name);
        }
        return false;
    }
    if (s->expect != 0 && first != s->expect) {
        if (first < s->expect || first > s->snap_lsn + 1) {
            set_problem(s, PROBLEM_CORRUPT, seg, WAL_SEGMENT_HEADER_BYTES, s->expect,
                        "segment starts at lsn %" PRIu64 " where %" PRIu64
                        " was expected (a segment is missing or extra)",
                        first, s->expect);
            return false;
        }
        if (s->notes)
            fprintf(s->notes,
                    "lsn %" PRIu64 "..%" PRIu64 " not in the WAL: covered by the "
                    "snapshot at lsn %" PRIu64 "\n",
                    s->expect, first - 1, s->snap_lsn);
    }
    s->expect = first;
    return true;
}

/* Map and scan segment seg. false on an I/O error (already printed). */
static bool scan_segment(struct scan *s, int seg)
{
    char path[CHECK_PATH_BYTES];
    struct seg_summary sum = {.path = path};
    struct stat st;
    const uint8_t *p = NULL;
    int fd;
    wal_segment_path(path, sizeof(path), s->dir, s->lsns[seg]);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        fprintf(stderr, "engram-check: can't read %s: %s\n", path, strerror(errno));
        if (fd >= 0) close(fd);
        return false;
    }
    if (st.st_size > 0) {
        p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            fprintf(stderr, "engram-check: can't map %s: %s\n", path, strerror(errno));
            close(fd);
            return false;
        }
    }
    close(fd);
    sum.bytes = (uint64_t)st.st_size;
    if (check_segment_start(s, seg, p, (size_t)st.st_size))
        scan_records(s, seg, p, (size_t)st.st_size, &sum);
    s->segs_read++;
    if (s->on_segment) s->on_segment(s, &sum);
    if (p) munmap((void *)p, (size_t)st.st_size);
    return true;
}

/* Scan the WAL of s->dir. 0, or -1 on an I/O error (printed). The
 * outcome is in s->problem. */
static int scan_wal(struct scan *s)
{
    int n;
    s->snap_lsn = newest_snapshot(s->dir);
    n = recovery_list_segments(s->dir, &s->lsns);
    if (n < 0) {
        fprintf(stderr, "engram-check: can't list %s/wal: %s\n", s->dir, strerror(-n));
        return -1;
    }
    s->count = n;
    for (int i = 0; i < n && !s->stopped && s->problem.kind == PROBLEM_NONE; i++) {
        if (!scan_segment(s, i)) return -1;
    }
    return 0;
}

static void scan_create(struct scan *s, const char *dir)
{
    memset(s, 0, sizeof(*s));
    s->dir = dir;
}

static void scan_destroy(struct scan *s)
{
    effect_view_free(&s->effect);
    mem_free(s->lsns);
}

/* ---- verify ----------------------------------------------------------- */

static void print_problem(FILE *out, const struct problem *pb)
{
    if (pb->kind == PROBLEM_TORN) {
        fprintf(out, "torn tail at %s offset %" PRIu64 " (%s)\n", pb->path, pb->offset, pb->why);
        return;
    }
    fprintf(out, "CORRUPT: %s offset %" PRIu64 " lsn %" PRIu64 ": %s\n", pb->path, pb->offset,
            pb->lsn, pb->why);
}

static void print_summary(FILE *out, const struct scan *s)
{
    fprintf(out, "%d segment%s, %" PRIu64 " record%s", s->count, s->count == 1 ? "" : "s",
            s->records, s->records == 1 ? "" : "s");
    if (s->records) fprintf(out, ", lsn %" PRIu64 "..%" PRIu64, s->first_lsn, s->last_lsn);
    fputc('\n', out);
}

static void verify_segment_line(struct scan *s, const struct seg_summary *sum)
{
    (void)s;
    printf("%s: %" PRIu64 " records, lsn ", sum->path, sum->records);
    if (sum->records)
        printf("%" PRIu64 "..%" PRIu64, sum->first_lsn, sum->last_lsn);
    else
        printf("-");
    printf(", %" PRIu64 " bytes\n", sum->bytes);
}

static int check_snapshots(const char *dir, bool print);

static int cmd_verify(const char *dir)
{
    struct scan s;
    int rc = CHECK_EXIT_BAD;
    scan_create(&s, dir);
    s.on_segment = verify_segment_line;
    s.notes = stdout;
    if (scan_wal(&s) != 0) goto out;
    if (s.problem.kind != PROBLEM_NONE) print_problem(stdout, &s.problem);
    if (s.problem.kind == PROBLEM_CORRUPT) {
        if (s.count > s.segs_read)
            printf("%d later segment(s) not checked: they can't be replayed past this point\n",
                   s.count - s.segs_read);
        printf("(repair with: engram-check repair %s)\n", dir);
        goto out;
    }
    if (check_snapshots(dir, false) != 0)
        goto out;
    printf("OK: ");
    print_summary(stdout, &s);
    rc = CHECK_EXIT_OK;
out:
    scan_destroy(&s);
    fflush(stdout);
    return rc;
}

/* ---- dump ------------------------------------------------------------- */

/* "2024-05-01T12:00:00.123Z" */
static void format_time(char *out, size_t cap, int64_t time_ms)
{
    int64_t sec = time_ms / 1000, ms = time_ms % 1000;
    time_t t;
    struct tm tm;
    size_t n;
    if (ms < 0) {
        ms += 1000;
        sec--;
    }
    t = (time_t)sec;
    n = gmtime_r(&t, &tm) ? strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm) : 0;
    if (n == 0) {
        snprintf(out, cap, "%" PRId64 "ms", time_ms);
        return;
    }
    snprintf(out + n, cap - n, ".%03dZ", (int)ms);
}

static int dump_record(struct scan *s, const struct wal_record *r)
{
    char when[64], why[256];
    if (s->to_lsn && r->lsn > s->to_lsn) return 1;
    if (r->lsn < s->from_lsn) return 0;
    format_time(when, sizeof(when), r->time_ms);
    printf("lsn=%" PRIu64 " time=%s ", r->lsn, when);
    /* The scanner checked the body already; this decodes it again to print. */
    (void)check_body(&s->effect, r, stdout, why, sizeof(why));
    putchar('\n');
    return 0;
}

static int cmd_dump(const char *dir, lsn_t from_lsn, lsn_t to_lsn)
{
    struct scan s;
    int rc = CHECK_EXIT_BAD;
    scan_create(&s, dir);
    s.on_record = dump_record;
    s.from_lsn = from_lsn;
    s.to_lsn = to_lsn;
    if (scan_wal(&s) != 0) goto out;
    fflush(stdout);
    if (s.problem.kind != PROBLEM_NONE) print_problem(stderr, &s.problem);
    if (s.problem.kind != PROBLEM_CORRUPT) rc = CHECK_EXIT_OK;
out:
    scan_destroy(&s);
    fflush(stdout);
    return rc;
}

/* ---- snapshots ------------------------------------------------------ */

/* Value type codes of docs/formats/snapshot.md (the server's obj types). */
enum { SNAP_STRING = 0, SNAP_LIST = 1, SNAP_SET = 2, SNAP_ZSET = 3, SNAP_HASH = 4 };
static const char *const snap_type_names[] = {"string", "list", "set", "zset", "hash"};

struct snap_check {
    bool print;       /* dump-snapshot: print every key */
    uint64_t keys;    /* keys seen */
    char why[160];    /* first problem */
};

/*
 * Walk a collection value: a varint count, then per element (a score for
 * sorted sets, then) a varint length and bytes; hashes have two strings
 * per element. Prints the elements if out. False if the layout is wrong.
 */
static bool walk_collection(uint8_t type, const char *v, size_t len, FILE *out)
{
    uint64_t n;
    size_t pos = varint_get(v, v + len, &n);
    int strings = type == SNAP_HASH ? 2 : 1;
    if (pos == 0 || n == 0 || n > len)
        return false;
    for (uint64_t i = 0; i < n; i++) {
        double score = 0;
        if (type == SNAP_ZSET) {
            if (len - pos < sizeof(double))
                return false;
            memcpy(&score, v + pos, sizeof(double));
            pos += sizeof(double);
            if (score != score)
                return false; /* NaN */
        }
        for (int k = 0; k < strings; k++) {
            const char *p;
            size_t plen;
            if (!varint_get_bytes(v, len, &pos, &p, &plen))
                return false;
            if (out) {
                fputc(i == 0 && k == 0 ? ' ' : (k ? ':' : ','), out);
                print_repr(out, p, plen);
            }
        }
        if (out && type == SNAP_ZSET)
            fprintf(out, "=%.17g", score);
    }
    return pos == len;
}

static int snap_check_key(void *ctx, int db, uint8_t type, int64_t expire_ms, const char *key,
                          uint32_t key_len, const char *val, uint32_t val_len)
{
    struct snap_check *x = ctx;
    FILE *out = x->print ? stdout : NULL;
    x->keys++;
    if (type > SNAP_HASH) {
        snprintf(x->why, sizeof(x->why), "key %" PRIu64 ": unknown value type %u", x->keys,
                 (unsigned)type);
        return -1;
    }
    if (out) {
        printf("db=%d type=%s expire=%" PRId64 " key=", db, snap_type_names[type], expire_ms);
        print_repr(out, key, key_len);
        fputs(" value=", out);
        if (type == SNAP_STRING)
            print_repr(out, val, val_len);
    }
    if (type != SNAP_STRING && !walk_collection(type, val, val_len, out)) {
        if (out)
            putchar('\n');
        snprintf(x->why, sizeof(x->why), "key %" PRIu64 ": malformed %s value", x->keys,
                 snap_type_names[type]);
        return -1;
    }
    if (out)
        putchar('\n');
    return 0;
}

/* Check every finished snapshot of dir (print: also print the newest's
 * keys and check only it). 0 if all are valid, 1 otherwise (reported). */
static int check_snapshots(const char *dir, bool print)
{
    lsn_t *lsns = NULL;
    int n = snap_list(dir, &lsns), bad = 0;
    if (n < 0) {
        if (n == -ENOENT)
            return 0;
        fprintf(stderr, "engram-check: can't list %s/snap: %s\n", dir, strerror(-n));
        return 1;
    }
    for (int i = 0; i < n && (!print || i == 0); i++) {
        char path[4200], err[256];
        struct snap_check x = {.print = print};
        lsn_t lsn;
        uint64_t keys;
        snap_path(path, sizeof(path), dir, lsns[i]);
        if (snap_load(path, NULL, snap_check_key, &x, &lsn, &keys, err, sizeof(err)) != 0) {
            printf("CORRUPT: snapshot %s: %s\n", path, x.why[0] ? x.why : err);
            bad = 1;
        } else if (!print) {
            printf("%s: %" PRIu64 " keys, covers lsn %" PRIu64 "\n", path, keys, lsn);
        }
    }
    if (print && n == 0)
        fprintf(stderr, "engram-check: no snapshot in %s/snap\n", dir);
    mem_free(lsns);
    return bad;
}

static int cmd_dump_snapshot(const char *dir)
{
    int rc = check_snapshots(dir, true);
    fflush(stdout);
    return rc ? CHECK_EXIT_BAD : CHECK_EXIT_OK;
}

/* ---- repair ----------------------------------------------------------- */

/* Hold <dir>/engram.lock as the server does; refuse if a server has it. */
static int lock_data_dir(const char *dir, int *fd_out)
{
    char path[CHECK_PATH_BYTES], pid[32];
    int fd, n;
    snprintf(path, sizeof(path), "%s/engram.lock", dir);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "engram-check: can't open %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        n = (int)pread(fd, pid, sizeof(pid) - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        fprintf(stderr,
                "engram-check: refusing to repair: %s is locked by a running engram "
                "server (pid %s); stop it first\n",
                path, pid[0] ? pid : "unknown");
        close(fd);
        return -1;
    }
    *fd_out = fd;
    return 0;
}

/* base, or base.1, base.2 ... whichever does not exist yet. */
static int unique_path(char *out, size_t cap, const char *base)
{
    snprintf(out, cap, "%s", base);
    for (int i = 1; i <= CHECK_UNIQUE_TRIES_MAX; i++) {
        if (access(out, F_OK) != 0 && errno == ENOENT) return 0;
        snprintf(out, cap, "%s.%d", base, i);
    }
    return -EEXIST;
}

/* Copy src[from..end) into a new file dst and fsync it. Bytes copied or -errno. */
static int64_t copy_tail(const char *src, uint64_t from, const char *dst)
{
    char *buf = mem_alloc(CHECK_COPY_BYTES);
    int in = open(src, O_RDONLY | O_CLOEXEC), out = -1;
    int64_t total = 0, rc = 0;
    if (in < 0 || (out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0) {
        rc = -errno;
        goto out;
    }
    for (;;) {
        ssize_t n = pread(in, buf, CHECK_COPY_BYTES, (off_t)(from + (uint64_t)total));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            rc = -errno;
            goto out;
        }
        if (n == 0) break;
        rc = io_pwrite_all(&io_posix, out, buf, (size_t)n, (off_t)total);
        if (rc != 0) goto out;
        total += n;
    }
    rc = fsync(out) != 0 ? -errno : total;
out:
    if (out >= 0) close(out);
    if (in >= 0) close(in);
    mem_free(buf);
    return rc;
}

static int truncate_durable(const char *path, uint64_t size)
{
    int rc = 0, fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    if (ftruncate(fd, (off_t)size) != 0 || fsync(fd) != 0) rc = -errno;
    close(fd);
    return rc;
}

/* Steps 2 and 3 of the header comment. 0 or -errno (reported). */
static int cut_segment(const struct problem *pb, const char *wal_dir, long now)
{
    char base[CHECK_PATH_BYTES + 32], cut[CHECK_PATH_BYTES + 48];
    bool whole = pb->offset <= WAL_SEGMENT_HEADER_BYTES;
    uint64_t from = whole ? 0 : pb->offset;
    int64_t n;
    int rc;
    snprintf(base, sizeof(base), "%s.cut-%ld", pb->path, now);
    if ((rc = unique_path(cut, sizeof(cut), base)) != 0) goto fail;
    n = copy_tail(pb->path, from, cut);
    if (n < 0) {
        rc = (int)n;
        goto fail;
    }
    if ((rc = io_posix.fsync_dir(wal_dir)) != 0) goto fail;
    printf("saved bytes %" PRIu64 "..%" PRIu64 " of %s to %s\n", from, from + (uint64_t)n, pb->path,
           cut);
    if (whole) {
        rc = unlink(pb->path) != 0 ? -errno : 0;
        if (rc == 0) printf("removed %s (no valid record before the cut)\n", pb->path);
    } else {
        rc = truncate_durable(pb->path, pb->offset);
        if (rc == 0) printf("truncated %s at offset %" PRIu64 "\n", pb->path, pb->offset);
    }
    if (rc == 0) return 0;
fail:
    fprintf(stderr, "engram-check: repair of %s failed: %s\n", pb->path, strerror(-rc));
    return rc;
}

/* Step 4: rename the segments after the bad one. 0 or -errno (reported). */
static int move_later_segments(const struct scan *s, long now)
{
    for (int i = s->problem.seg + 1; i < s->count; i++) {
        char path[CHECK_PATH_BYTES], base[CHECK_PATH_BYTES + 32], to[CHECK_PATH_BYTES + 48];
        int rc;
        wal_segment_path(path, sizeof(path), s->dir, s->lsns[i]);
        snprintf(base, sizeof(base), "%s.after-repair-%ld", path, now);
        rc = unique_path(to, sizeof(to), base);
        if (rc == 0) rc = io_posix.rename(path, to);
        if (rc != 0) {
            fprintf(stderr, "engram-check: can't move %s aside: %s\n", path, strerror(-rc));
            return rc;
        }
        printf("moved %s to %s (can't be replayed past the cut)\n", path, to);
    }
    return 0;
}

/* Step 5: scan again; the WAL must now be clean. */
static int repair_check(const char *dir)
{
    struct scan s;
    int rc = CHECK_EXIT_BAD;
    scan_create(&s, dir);
    if (scan_wal(&s) == 0 && s.problem.kind == PROBLEM_NONE) {
        printf("repaired: ");
        print_summary(stdout, &s);
        rc = CHECK_EXIT_OK;
    } else if (s.problem.kind != PROBLEM_NONE) {
        printf("after repair: ");
        print_problem(stdout, &s.problem);
    }
    scan_destroy(&s);
    return rc;
}

static int repair_apply(struct scan *s)
{
    const struct problem *pb = &s->problem;
    char wal_dir[CHECK_PATH_BYTES];
    long now = (long)time(NULL);
    int rc;
    /* A segment that the snapshot wholly covers is not read by the server;
     * cutting there would throw away later segments the server needs. */
    if (pb->seg + 1 < s->count && s->lsns[pb->seg + 1] <= s->snap_lsn + 1) {
        fprintf(stderr,
                "engram-check: refusing to repair: %s is wholly covered by the "
                "snapshot at lsn %" PRIu64 " and is not replayed; cutting it would drop the "
                "later segments\n",
                pb->path, s->snap_lsn);
        return CHECK_EXIT_BAD;
    }
    snprintf(wal_dir, sizeof(wal_dir), "%s/wal", s->dir);
    if (cut_segment(pb, wal_dir, now) != 0 || move_later_segments(s, now) != 0)
        return CHECK_EXIT_BAD;
    rc = io_posix.fsync_dir(wal_dir);
    if (rc != 0) {
        fprintf(stderr, "engram-check: can't fsync %s: %s\n", wal_dir, strerror(-rc));
        return CHECK_EXIT_BAD;
    }
    if (s->last_lsn)
        printf("the WAL now ends at lsn %" PRIu64 "; records from lsn %" PRIu64 " on were cut\n",
               s->last_lsn, s->last_lsn + 1);
    else
        printf("the WAL now holds no record\n");
    return repair_check(s->dir);
}

static int cmd_repair(const char *dir)
{
    struct scan s;
    int lock_fd = -1, rc = CHECK_EXIT_BAD;
    if (lock_data_dir(dir, &lock_fd) != 0) return CHECK_EXIT_BAD;
    scan_create(&s, dir);
    if (scan_wal(&s) != 0) goto out;
    if (s.problem.kind == PROBLEM_NONE) {
        printf("nothing to repair: ");
        print_summary(stdout, &s);
        rc = CHECK_EXIT_OK;
        goto out;
    }
    print_problem(stdout, &s.problem);
    if (s.problem.other_version) {
        fprintf(stderr, "engram-check: refusing to repair: %s is not damaged, it is in "
                        "another WAL format version (see above)\n", s.problem.path);
        goto out;
    }
    rc = repair_apply(&s);
out:
    scan_destroy(&s);
    fflush(stdout);
    close(lock_fd); /* releases the lock, after everything is durable */
    return rc;
}

/* ---- main ------------------------------------------------------------- */

static bool parse_lsn(const char *s, lsn_t *out)
{
    char *end;
    if (!*s || *s < '0' || *s > '9') return false;
    errno = 0;
    *out = strtoull(s, &end, 10);
    return errno == 0 && *end == '\0';
}

/* Parse dump's options in argv[3..]. 0, or -1 (reported). */
static int parse_dump_args(int argc, char **argv, lsn_t *from_lsn, lsn_t *to_lsn)
{
    for (int i = 3; i < argc; i += 2) {
        lsn_t *dst = strcmp(argv[i], "--from-lsn") == 0 ? from_lsn
                     : strcmp(argv[i], "--to-lsn") == 0 ? to_lsn
                                                        : NULL;
        if (!dst) {
            fprintf(stderr, "engram-check: unknown option '%s'\n", argv[i]);
            return -1;
        }
        if (i + 1 >= argc || !parse_lsn(argv[i + 1], dst)) {
            fprintf(stderr, "engram-check: %s needs a number\n", argv[i]);
            return -1;
        }
    }
    if (*to_lsn && *from_lsn > *to_lsn) {
        fprintf(stderr, "engram-check: --from-lsn is above --to-lsn\n");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct stat st;
    lsn_t from_lsn = 0, to_lsn = 0;
    const char *cmd = argc > 1 ? argv[1] : "";
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return CHECK_EXIT_OK;
    }
    if (argc < 3 || (strcmp(cmd, "dump") != 0 && argc != 3)) {
        usage(stderr);
        return CHECK_EXIT_USAGE;
    }
    if (stat(argv[2], &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "engram-check: %s is not a directory\n", argv[2]);
        return CHECK_EXIT_USAGE;
    }
    if (strcmp(cmd, "verify") == 0) return cmd_verify(argv[2]);
    if (strcmp(cmd, "repair") == 0) return cmd_repair(argv[2]);
    if (strcmp(cmd, "dump-snapshot") == 0) return cmd_dump_snapshot(argv[2]);
    if (strcmp(cmd, "dump") == 0) {
        if (parse_dump_args(argc, argv, &from_lsn, &to_lsn) != 0) return CHECK_EXIT_USAGE;
        return cmd_dump(argv[2], from_lsn, to_lsn);
    }
    fprintf(stderr, "engram-check: unknown command '%s'\n", cmd);
    usage(stderr);
    return CHECK_EXIT_USAGE;
}
