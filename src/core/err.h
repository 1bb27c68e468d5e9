#pragma once
/*
 * err.h - engram's own error codes (STYLE.md C3).
 *
 * Functions return 0 or a negative code: -errno for system errors, or one
 * of these, all below -4000 so they cannot collide with errno values.
 */

enum {
    ERR_PROTOCOL = -4001,  /* malformed request from a client */
    ERR_CONFIG = -4002,    /* bad configuration value */
    ERR_CHECKSUM = -4003,  /* a checksum did not match */
    ERR_LIMIT = -4004,     /* a configured or built-in limit was reached */
    ERR_NOT_FOUND = -4005, /* no such item */
    ERR_EXISTS = -4006,    /* the item already exists */
};

/* A static string naming rc (an errno or ERR_*). Any thread. */
const char *err_str(int rc);
