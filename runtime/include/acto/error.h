/* acto error codes.
 *
 * Every acto function that can fail returns an int: 0 on success, a negative
 * code on failure. acto's own codes live in a block below -20000 that libuv
 * never uses, so libuv's UV_E* codes pass through acto calls unchanged and
 * both can be named by the functions below.
 */
#ifndef ACTO_ERROR_H
#define ACTO_ERROR_H

/* XX(name, value, message): the single table behind the enum and the
 * naming functions. Append only; values are part of the ABI. */
#define ACTO_ERRNO_MAP(XX)                                                     \
    XX(EINVAL, -20001, "invalid argument")                                     \
    XX(ENOMEM, -20002, "out of memory")                                        \
    XX(EQUEUEFULL, -20003, "queue is full")                                    \
    XX(EQUEUEEMPTY, -20004, "queue is empty")                                  \
    XX(ESHUTDOWN, -20005, "queue or system is shut down")                      \
    XX(ECANCELED, -20006, "operation canceled")                                \
    XX(ETIMEDOUT, -20007, "operation timed out")                               \
    XX(EBUSY, -20008, "operation already completing")                          \
    XX(ECLOSED, -20009, "handle is closing or closed")                         \
    XX(ENOACTOR, -20010, "no such actor (stopped or never spawned)")           \
    XX(EEXIST, -20011, "name already registered")                              \
    XX(EALREADY, -20012, "actor is already stopping")                          \
    XX(ENOTFOUND, -20013, "not found")                                         \
    XX(EFAILED, -20014, "handler failed")                                      \
    XX(EPENDING, -20015, "future is not done yet")                             \
    XX(EDONE, -20016, "future is already done")

typedef enum acto_errno {
#define ACTO__ERR_ENUM(name, value, msg) ACTO_##name = (value),
    ACTO_ERRNO_MAP(ACTO__ERR_ENUM)
#undef ACTO__ERR_ENUM
} acto_errno;

/* acto_strerror describes err in a short English phrase.
 * Returns a static string; acto's codes get acto's text, libuv's codes
 * libuv's text, anything else "unknown error".
 * Ownership: the string is static; never free it.
 * Thread: any thread. */
const char *acto_strerror(int err);

/* acto_err_name names err as a constant, e.g. "ACTO_EQUEUEFULL" or
 * "UV_EAGAIN"; 0 is "OK".
 * Returns a static string ("UNKNOWN" for codes no table knows).
 * Ownership: the string is static; never free it.
 * Thread: any thread. */
const char *acto_err_name(int err);

#endif /* ACTO_ERROR_H */
