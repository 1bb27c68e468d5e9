#pragma once
/*
 * version.h - engram's version, and the Redis version whose behaviour it
 * implements (INFO redis_version, HELLO's version: client libraries such
 * as BullMQ gate features on it).
 */
#define ENGRAM_VERSION "0.1.0"
#define COMPAT_REDIS_VERSION "7.0.15"
