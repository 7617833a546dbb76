/* A small HTTP/1.1 server for the HTTP client's tests and benchmark.
 *
 * It runs on its own thread and libuv loop, listens on 127.0.0.1 at a port
 * the kernel picks, keeps connections alive (HTTP/1.1 default) and answers
 * these routes:
 *   /ok                 200, body "ok"
 *   /slow?ms=N          200, body "slow", after N ms
 *   /slowbody?ms=N      200 headers at once, the 4-byte body after N ms
 *   /big?bytes=N        200, N bytes of a pattern (byte i is 'a' + i % 26),
 *                       written 64 KiB at a time, each write once the last
 *                       one left (so a reader that stops stops it)
 *   /chunked?bytes=N    as /big, in chunked transfer encoding
 *   /status/N           status N, body "status N"
 *   /echo               200, the request's body; X-Method: the method;
 *                       X-Got-Header: the request's X-Test header
 *   /tree/N             a page of a binary tree of 63 pages (1 to 63):
 *                       its links /tree/2N and /tree/2N+1, one a line
 *   /redirect           302 to /ok
 *   /close              200, body "bye", then closes the connection
 *   /drop               200, body "ok", kept alive as far as the answer
 *                       says, then closed: the client's pooled connection
 *                       is dead when it picks it next
 *   /garbage            bytes that are not HTTP, then closes
 *   anything else       404
 * Input that does not start like an HTTP request (a TLS hello, say) gets
 * "not http\r\n" and a close.
 *
 * Counters (connections accepted and closed, most open at once, requests,
 * body bytes written) are atomic, readable from any thread.
 */
#ifndef HTTP_SERVER_H
#define HTTP_SERVER_H

#include <stdint.h>

typedef struct http_server http_server;

typedef struct http_server_stats {
    uint64_t accepted;   /* connections accepted */
    uint64_t closed;     /* connections closed, by either side */
    uint64_t open_max;   /* most connections open at once */
    uint64_t requests;   /* requests read */
    uint64_t body_bytes; /* /big and /chunked body bytes written */
} http_server_stats;

/* http_server_start starts a server on its own thread. Returns 0 and sets
 * *out, or a libuv error. */
int http_server_start(http_server **out);

/* The port the server listens on. */
int http_server_port(const http_server *s);

/* http_server_stats_get copies the counters (any thread). */
void http_server_stats_get(http_server *s, http_server_stats *out);

/* http_server_stop closes every connection, stops the thread and frees s. */
void http_server_stop(http_server *s);

/* http_closed_port returns a loopback port nothing listens on (bound, then
 * closed), or a negative libuv error. */
int http_closed_port(void);

#endif /* HTTP_SERVER_H */
