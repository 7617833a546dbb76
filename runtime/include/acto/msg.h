/* acto_msg: messages and their payloads.
 *
 * A message has a type tag, a sender, a correlation id, trace ids and one
 * payload: bytes (copied; up to ACTO_MSG_INLINE bytes live inside the
 * message, so small messages never allocate beyond the system's pool), a
 * pointer with a destructor (in-process only), or msgpack bytes (copied;
 * opaque to the runtime, they can be traced and sent remotely by later
 * layers).
 *
 * Ownership: a message built with acto_msg_new_* belongs to the caller
 * until a send takes it (a send takes it only when it returns 0). The
 * runtime frees every message it took exactly once: after it is handled,
 * when it becomes a dead letter, when it is dropped, or when a mailbox is
 * discarded. Handlers borrow the message they are given.
 *
 * Thread: messages are built and read on the system's loop thread (the
 * thread-safe send builds its own).
 */
#ifndef ACTO_MSG_H
#define ACTO_MSG_H

#include <acto/ref.h>
#include <stddef.h>
#include <stdint.h>

typedef struct acto_msg acto_msg;
typedef struct acto_system acto_system;
typedef struct acto_error acto_error;

/* Bytes that fit inside a message without a separate allocation. */
#define ACTO_MSG_INLINE 32

/* Message types at or above this value are the runtime's own. */
#define ACTO_MSG_SYSTEM_BASE 0xFFFF0000u

/* A child of the receiver failed: acto_msg_error() has the error,
 * acto_msg_sender() is the child. */
#define ACTO_MSG_CHILD_FAILED (ACTO_MSG_SYSTEM_BASE + 0u)
/* A monitored actor stopped: acto_msg_down() has the details. */
#define ACTO_MSG_DOWN (ACTO_MSG_SYSTEM_BASE + 1u)
/* Nothing arrived within the receive timeout. */
#define ACTO_MSG_RECEIVE_TIMEOUT (ACTO_MSG_SYSTEM_BASE + 2u)
/* acto_shutdown asked an actor spawned with ACTO_SHUTDOWN_NOTIFY to stop:
 * finish the work in flight, then acto_stop yourself. */
#define ACTO_MSG_SHUTDOWN (ACTO_MSG_SYSTEM_BASE + 3u)

typedef enum acto_payload_kind {
    ACTO_PAYLOAD_NONE = 0,
    ACTO_PAYLOAD_BYTES,
    ACTO_PAYLOAD_PTR,
    ACTO_PAYLOAD_MSGPACK
} acto_payload_kind;

/* Frees a pointer payload; user is the pointer given with it. */
typedef void (*acto_free_fn)(void *ptr, void *user);

/* Why an actor stopped. */
typedef enum acto_exit_kind {
    ACTO_EXIT_NORMAL = 0, /* acto_stop, or returned from its start hook */
    ACTO_EXIT_KILLED,     /* acto_kill */
    ACTO_EXIT_FAILED,     /* a handler failed: see the error */
    ACTO_EXIT_SHUTDOWN,   /* acto_shutdown, or the system closed */
    ACTO_EXIT_NOACTOR     /* monitored a ref that was already dead */
} acto_exit_kind;

typedef struct acto_exit_reason {
    acto_exit_kind kind;
    const acto_error *error; /* ACTO_EXIT_FAILED only, else NULL */
} acto_exit_reason;

/* The payload of ACTO_MSG_DOWN. */
typedef struct acto_down {
    acto_ref actor;   /* the actor that stopped */
    uint64_t monitor; /* the id acto_monitor returned */
    acto_exit_reason reason;
} acto_down;

/* acto_msg_new_bytes builds a message of type carrying a copy of len bytes
 * of data (data may be NULL when len is 0).
 * Returns 0 and sets *out; ACTO_EINVAL (NULL sys/out, or data NULL with
 * len > 0); ACTO_ENOMEM.
 * Ownership: *out is the caller's until a send takes it.
 * Thread: the system's loop thread. */
int acto_msg_new_bytes(acto_system *sys, uint32_t type, const void *data,
                       size_t len, acto_msg **out);

/* acto_msg_new_ptr builds a message carrying ptr; free_fn(ptr, user) runs
 * exactly once when the runtime frees the message (free_fn may be NULL).
 * Returns 0; ACTO_EINVAL; ACTO_ENOMEM (then ptr stays the caller's).
 * Ownership: ptr belongs to the message from a successful return.
 * Thread: the system's loop thread. */
int acto_msg_new_ptr(acto_system *sys, uint32_t type, void *ptr,
                     acto_free_fn free_fn, void *user, acto_msg **out);

/* acto_msg_new_msgpack builds a message carrying a copy of len msgpack
 * bytes. The runtime does not parse them. Returns, ownership and thread as
 * acto_msg_new_bytes. */
int acto_msg_new_msgpack(acto_system *sys, uint32_t type, const void *data,
                         size_t len, acto_msg **out);

/* acto_msg_free frees a message the caller still owns (one that was never
 * sent, or whose send failed). NULL is ignored.
 * Thread: the system's loop thread. */
void acto_msg_free(acto_msg *m);

/* acto_msg_data_mut is acto_msg_data for a message the caller owns (one
 * it built, or took with acto_take_msg), to change its bytes in place. */
void *acto_msg_data_mut(acto_msg *m, size_t *len);

/* acto_msg_set_type changes the type of a message the caller owns (types
 * at or above ACTO_MSG_SYSTEM_BASE are ignored). */
void acto_msg_set_type(acto_msg *m, uint32_t type);

/* acto_msg_set_correlation sets the id that ties a reply to its request. */
void acto_msg_set_correlation(acto_msg *m, uint64_t id);

/* Readers. They never fail; the message is borrowed.
 * acto_msg_data returns the bytes of a BYTES or MSGPACK payload (NULL for
 * other kinds) and their length in *len (len may be NULL).
 * acto_msg_ptr returns a PTR payload's pointer (NULL for other kinds).
 * acto_msg_id is unique per system; acto_msg_cause is the id of the message
 * being handled when this one was sent (0 when sent from outside).
 * acto_msg_error: the error of ACTO_MSG_CHILD_FAILED, else NULL.
 * acto_msg_down: the payload of ACTO_MSG_DOWN, else NULL. */
uint32_t acto_msg_type(const acto_msg *m);
acto_payload_kind acto_msg_kind(const acto_msg *m);
const void *acto_msg_data(const acto_msg *m, size_t *len);
void *acto_msg_ptr(const acto_msg *m);
acto_ref acto_msg_sender(const acto_msg *m);
uint64_t acto_msg_correlation(const acto_msg *m);
uint64_t acto_msg_id(const acto_msg *m);
uint64_t acto_msg_cause(const acto_msg *m);
const acto_error *acto_msg_error(const acto_msg *m);
const acto_down *acto_msg_down(const acto_msg *m);

/* ---- message type names ------------------------------------------------ */

#define ACTO_MSG_TYPE_NAME_MAX 255   /* bytes in a type's name */
#define ACTO_MSG_TYPE_NAMES_MAX 4096 /* named types per system */

/* acto_msg_type_name names message type for sys, so traces show the name
 * rather than the number: trace files (acto-trace prints "handle Ping")
 * and any trace sink with a type_name function get it, now if tracing is
 * on and when tracing starts. A type keeps its name for the system's
 * life.
 * Returns 0; ACTO_EINVAL (sys or name NULL; a system type, at or above
 * ACTO_MSG_SYSTEM_BASE: those have names already; a name empty, longer
 * than ACTO_MSG_TYPE_NAME_MAX bytes or holding a control character);
 * ACTO_EEXIST (the type has a name, or another type has this one);
 * ACTO_ENOMEM (out of memory, or ACTO_MSG_TYPE_NAMES_MAX types named).
 * Ownership: name is copied.
 * Thread: the system's loop thread. */
int acto_msg_type_name(acto_system *sys, uint32_t type, const char *name);

/* acto_msg_type_name_of is the name acto_msg_type_name gave type, or NULL
 * (none, or sys NULL).
 * Ownership: the system's; valid until the system is freed.
 * Thread: the system's loop thread. */
const char *acto_msg_type_name_of(const acto_system *sys, uint32_t type);

#endif /* ACTO_MSG_H */
