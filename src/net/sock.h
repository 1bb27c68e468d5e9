#pragma once
/*
 * sock.h - listening and accepted sockets (TCP and Unix domain).
 * All returned descriptors are non-blocking and close-on-exec.
 * Loop thread (or start-up).
 */
#include <stddef.h>

/* Listen on addr:port; fd or -errno. addr may be an IPv4 or IPv6 literal
 * or a host name. */
int sock_listen_tcp(const char *addr, int port, int backlog);
/* Listen on a Unix socket path (an old socket file there is removed) with
 * permission bits perm (0 = leave as umask gives). fd or -errno. */
int sock_listen_unix(const char *path, unsigned perm, int backlog);
/* Accept one connection; fd or -errno (-EAGAIN when none is pending).
 * addr receives "ip:port" (or the socket path's "/path:0"). */
int sock_accept(int lfd, char *addr, size_t addr_cap);
/* Set TCP_NODELAY and, if keepalive_s > 0, TCP keepalive. */
void sock_tune_tcp(int fd, int keepalive_s);
/* "ip:port" of the local end into out. */
void sock_local_addr(int fd, char *out, size_t cap);
