/*
 * err.c - names for error codes.
 *
 * Threads
 *   Any thread (strerror_r would be needed for exotic errnos; strerror is
 *   thread-safe in glibc for valid codes).
 */
#include "core/err.h"

#include <string.h>

const char *err_str(int rc)
{
    switch (rc) {
    case 0:
        return "success";
    case ERR_PROTOCOL:
        return "protocol error";
    case ERR_CONFIG:
        return "configuration error";
    case ERR_CHECKSUM:
        return "checksum mismatch";
    case ERR_LIMIT:
        return "limit reached";
    case ERR_NOT_FOUND:
        return "not found";
    case ERR_EXISTS:
        return "already exists";
    default:
        return rc < 0 ? strerror(-rc) : "unknown";
    }
}
