/*
 * test_resp_write.c - unit tests of the reply encoder (src/proto/resp_write.h).
 *
 * Design
 *   Each test encodes into a fresh struct buf and compares the exact bytes
 *   with T_EQ_MEM, for RESP2 (proto 2) and RESP3 (proto 3). The expected
 *   bytes are what Redis 7.0 sends for the same reply. Several elements are
 *   also encoded one after another into one buffer, since every function
 *   must append exactly one element (resp_write.c invariant (1)) and must
 *   not disturb what the buffer already holds.
 *
 * Invariants
 *   (1) Every buffer is destroyed before the test returns (LeakSanitizer
 *       checks the child after a pass).
 *
 * Threads
 *   Single-threaded.
 */
#include "harness/test.h"

#include "core/buf.h"
#include "proto/resp_write.h"

#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Compares the bytes of b with the string literal `lit` (embedded NULs allowed). */
#define T_BUF(b, lit) T_EQ_MEM((b)->data, (b)->len, (lit), sizeof(lit) - 1)

TEST(resp_write_simple)
{
    struct buf b;
    buf_create(&b);
    resp_w_simple(&b, "OK", 2);
    T_BUF(&b, "+OK\r\n");
    buf_clear(&b);
    resp_w_simple(&b, "", 0);
    T_BUF(&b, "+\r\n");
    buf_clear(&b);
    resp_w_simple(&b, "QUEUED", 6);
    resp_w_simple(&b, "PONG", 4);
    T_BUF(&b, "+QUEUED\r\n+PONG\r\n");
    buf_destroy(&b);
}

TEST(resp_write_error)
{
    struct buf b;
    const char *multi = "ERR bad\r\nthing\nhere\r";
    buf_create(&b);
    resp_w_error(&b, "ERR unknown command", 19);
    T_BUF(&b, "-ERR unknown command\r\n");
    buf_clear(&b);
    /* Embedded CR and LF become spaces: an error is one line. */
    resp_w_error(&b, multi, strlen(multi));
    T_BUF(&b, "-ERR bad  thing here \r\n");
    /* Only the new element is rewritten, not bytes already in the buffer. */
    buf_clear(&b);
    buf_append(&b, "\r\n", 2);
    resp_w_error(&b, "E\n", 2);
    T_BUF(&b, "\r\n-E \r\n");
    buf_destroy(&b);
}

TEST(resp_write_int)
{
    struct buf b;
    buf_create(&b);
    resp_w_int(&b, 0);
    resp_w_int(&b, 1);
    resp_w_int(&b, -1);
    resp_w_int(&b, 42);
    resp_w_int(&b, 1000000);
    T_BUF(&b, ":0\r\n:1\r\n:-1\r\n:42\r\n:1000000\r\n");
    buf_clear(&b);
    resp_w_int(&b, LLONG_MIN);
    T_BUF(&b, ":-9223372036854775808\r\n");
    buf_clear(&b);
    resp_w_int(&b, LLONG_MAX);
    T_BUF(&b, ":9223372036854775807\r\n");
    buf_destroy(&b);
}

TEST(resp_write_bulk)
{
    struct buf b;
    buf_create(&b);
    resp_w_bulk(&b, "", 0);
    T_BUF(&b, "$0\r\n\r\n");
    buf_clear(&b);
    resp_w_bulk(&b, NULL, 0);
    T_BUF(&b, "$0\r\n\r\n");
    buf_clear(&b);
    resp_w_bulk(&b, "hello", 5);
    T_BUF(&b, "$5\r\nhello\r\n");
    buf_clear(&b);
    resp_w_bulk(&b, "a\0\r\n\xff", 5);
    T_BUF(&b, "$5\r\na\0\r\n\xff\r\n");
    buf_clear(&b);
    resp_w_bulk_ll(&b, 0);
    resp_w_bulk_ll(&b, -12);
    resp_w_bulk_ll(&b, LLONG_MIN);
    T_BUF(&b, "$1\r\n0\r\n$3\r\n-12\r\n$20\r\n-9223372036854775808\r\n");
    buf_destroy(&b);
}

TEST(resp_write_bulk_large)
{
    struct buf b;
    size_t n = 100000;
    char *big = malloc(n);
    T_NOT_NULL(big);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)(i * 31);
    buf_create(&b);
    resp_w_bulk(&b, big, n);
    T_EQ_U64(b.len, 9 + n + 2);
    T_EQ_MEM(b.data, 9, "$100000\r\n", 9);
    T_EQ_MEM(b.data + 9, n, big, n);
    T_EQ_MEM(b.data + 9 + n, 2, "\r\n", 2);
    buf_destroy(&b);
    free(big);
}

TEST(resp_write_null)
{
    struct buf b;
    buf_create(&b);
    resp_w_null(&b, 2);
    T_BUF(&b, "$-1\r\n");
    buf_clear(&b);
    resp_w_null(&b, 3);
    T_BUF(&b, "_\r\n");
    buf_clear(&b);
    resp_w_null_array(&b, 2);
    T_BUF(&b, "*-1\r\n");
    buf_clear(&b);
    resp_w_null_array(&b, 3);
    T_BUF(&b, "_\r\n");
    buf_destroy(&b);
}

TEST(resp_write_aggregate_headers)
{
    struct buf b;
    buf_create(&b);
    resp_w_array(&b, 0);
    resp_w_array(&b, 3);
    resp_w_array(&b, -1);
    T_BUF(&b, "*0\r\n*3\r\n*-1\r\n");
    buf_clear(&b);
    resp_w_map(&b, 2, 3);
    resp_w_map(&b, 3, 3);
    resp_w_map(&b, 2, 0);
    resp_w_map(&b, 3, 0);
    T_BUF(&b, "*6\r\n%3\r\n*0\r\n%0\r\n");
    buf_clear(&b);
    resp_w_set(&b, 2, 5);
    resp_w_set(&b, 3, 5);
    T_BUF(&b, "*5\r\n~5\r\n");
    buf_clear(&b);
    resp_w_push(&b, 2, 3);
    resp_w_push(&b, 3, 3);
    T_BUF(&b, "*3\r\n>3\r\n");
    buf_clear(&b);
    resp_w_array(&b, 123456789012LL);
    T_BUF(&b, "*123456789012\r\n");
    buf_destroy(&b);
}

TEST(resp_write_double_resp3)
{
    struct buf b;
    buf_create(&b);
    resp_w_double(&b, 3, 1);
    T_BUF(&b, ",1\r\n");
    buf_clear(&b);
    resp_w_double(&b, 3, 0.1);
    T_BUF(&b, ",0.10000000000000001\r\n");
    buf_clear(&b);
    resp_w_double(&b, 3, INFINITY);
    T_BUF(&b, ",inf\r\n");
    buf_clear(&b);
    resp_w_double(&b, 3, -INFINITY);
    T_BUF(&b, ",-inf\r\n");
    buf_clear(&b);
    resp_w_double(&b, 3, -2.5);
    resp_w_double(&b, 3, 0);
    resp_w_double(&b, 3, 1e17);
    resp_w_double(&b, 3, 1e16);
    T_BUF(&b, ",-2.5\r\n,0\r\n,1e+17\r\n,10000000000000000\r\n");
    buf_destroy(&b);
}

TEST(resp_write_double_resp2)
{
    struct buf b;
    buf_create(&b);
    resp_w_double(&b, 2, 1);
    T_BUF(&b, "$1\r\n1\r\n");
    buf_clear(&b);
    resp_w_double(&b, 2, 0.1);
    T_BUF(&b, "$19\r\n0.10000000000000001\r\n");
    buf_clear(&b);
    resp_w_double(&b, 2, INFINITY);
    resp_w_double(&b, 2, -INFINITY);
    T_BUF(&b, "$3\r\ninf\r\n$4\r\n-inf\r\n");
    buf_clear(&b);
    resp_w_double(&b, 2, 3.5);
    T_BUF(&b, "$3\r\n3.5\r\n");
    buf_destroy(&b);
}

TEST(resp_write_bool)
{
    struct buf b;
    buf_create(&b);
    resp_w_bool(&b, 3, true);
    resp_w_bool(&b, 3, false);
    T_BUF(&b, "#t\r\n#f\r\n");
    buf_clear(&b);
    resp_w_bool(&b, 2, true);
    resp_w_bool(&b, 2, false);
    T_BUF(&b, ":1\r\n:0\r\n");
    buf_destroy(&b);
}

TEST(resp_write_verbatim)
{
    struct buf b;
    buf_create(&b);
    resp_w_verbatim(&b, 3, "abcd", 4);
    T_BUF(&b, "=8\r\ntxt:abcd\r\n");
    buf_clear(&b);
    resp_w_verbatim(&b, 3, "", 0);
    T_BUF(&b, "=4\r\ntxt:\r\n");
    buf_clear(&b);
    resp_w_verbatim(&b, 3, "a\r\nb", 4);
    T_BUF(&b, "=8\r\ntxt:a\r\nb\r\n");
    buf_clear(&b);
    resp_w_verbatim(&b, 2, "abcd", 4);
    T_BUF(&b, "$4\r\nabcd\r\n");
    buf_destroy(&b);
}

TEST(resp_write_mixed_reply)
{
    /* HELLO-like map reply, RESP3 and RESP2, appended into one buffer each. */
    struct buf b;
    buf_create(&b);
    resp_w_map(&b, 3, 2);
    resp_w_bulk(&b, "server", 6);
    resp_w_bulk(&b, "engram", 6);
    resp_w_bulk(&b, "proto", 5);
    resp_w_int(&b, 3);
    T_BUF(&b, "%2\r\n$6\r\nserver\r\n$6\r\nengram\r\n$5\r\nproto\r\n:3\r\n");
    buf_clear(&b);
    resp_w_map(&b, 2, 2);
    resp_w_bulk(&b, "server", 6);
    resp_w_bulk(&b, "engram", 6);
    resp_w_bulk(&b, "proto", 5);
    resp_w_int(&b, 2);
    T_BUF(&b, "*4\r\n$6\r\nserver\r\n$6\r\nengram\r\n$5\r\nproto\r\n:2\r\n");
    buf_destroy(&b);
}
