/* The actors' one SIGPIPE policy, shared by the TCP and HTTP actors. */
#ifndef ACTO_ACTORS_SIGPIPE_H
#define ACTO_ACTORS_SIGPIPE_H

/* acto__sigpipe_ignore_default sets SIGPIPE to be ignored when it still
 * has its default action, so that a write to a peer that reset fails with
 * EPIPE instead of killing the process (libuv leaves SIGPIPE alone, and
 * libcurl does too under CURLOPT_NOSIGNAL). A handler or disposition the
 * program chose is kept.
 * Thread: any; process-wide, idempotent. */
void acto__sigpipe_ignore_default(void);

#endif
