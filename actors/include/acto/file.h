/* File actors: a source that streams a file as items and a sink that
 * writes items to a file (aiofiles for acto).
 *
 * Both run on libuv's fs API with callbacks on the system's loop (the
 * reads and writes themselves happen on libuv's thread pool); neither ever
 * blocks the loop. Items travel as <acto/stream.h> says: ordinary bytes
 * messages, then one ACTO_STREAM_EOS.
 *
 * Backpressure. The source reads its next buffer only once every item of
 * the previous one was accepted: when a send parks it on a full receiver,
 * it handles nothing (so reads nothing) until the receiver has taken them.
 * A file of any size costs one read buffer, one partial line and the
 * items of one buffer waiting for room in the receiver. The sink
 * keeps two buffers: one filling, one being written; when both are full it
 * suspends itself (acto_suspend), so its bounded mailbox fills and its
 * senders park until the write lands.
 *
 * Errors. A failing file actor fails as an actor (acto_fail), so its
 * parent, supervisor or pipeline sees the error, and fails its `done`
 * future with the same error. Types, codes and when they happen:
 *   "FileNotFound"     UV_ENOENT: no such file, or no such directory for
 *                      a sink
 *   "PermissionDenied" UV_EACCES or UV_EPERM
 *   "IsADirectory"     UV_EISDIR: the path is a directory
 *   "DiskFull"         UV_ENOSPC or UV_EDQUOT (sink)
 *   "FileTruncated"    UV_EIO: the file got shorter than it was when the
 *                      source opened it, while being read
 *   "LineTooLong"      UV_EMSGSIZE: a line longer than max_line (source)
 *   "ReceiverGone"     ACTO_ENOACTOR: the source's receiver stopped
 *   "IOError"          any other libuv error, passed through
 * Running out of memory while streaming fails the actor with ACTO_ENOMEM
 * and type "ACTO_ENOMEM". The text names the operation and the path, e.g.
 * "open /tmp/x: no such file or directory".
 *
 * The done future. Completed with the byte count (bytes read by a source,
 * written by a sink): read it with acto_file_done_bytes. Its result value
 * is a pointer to a uint64_t that the future owns (freed with it), for
 * code that reads futures generically (acto_future_result, gather).
 * Failed with the actor's error, or cancelled (acto_future_result returns
 * ACTO_ECANCELED) when the actor is stopped or killed before it finished.
 *
 * Message types from ACTO_STREAM_BASE + 0x40 to ACTO_STREAM_BASE + 0x4F
 * are the file actors' own; sending them to a file actor does nothing.
 *
 * Thread: everything here runs on the system's loop thread.
 */
#ifndef ACTO_FILE_H
#define ACTO_FILE_H

#include <acto/acto.h>
#include <acto/stream.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How a source cuts the file into items. */
typedef enum acto_file_mode {
    /* one item per line, without its '\n' and without a '\r' before it
     * (also at the end of a last line that has no '\n'); an empty line is
     * an empty item; a last line without '\n' is still an item */
    ACTO_FILE_LINES = 0,
    /* items of chunk_size bytes; only the last may be shorter */
    ACTO_FILE_CHUNKS
} acto_file_mode;

/* Zero-initialised fields give the defaults. */
typedef struct acto_file_source_opts {
    acto_ref to;         /* the receiver of the items (required) */
    uint32_t item_type;  /* the items' message type; below
                            ACTO_STREAM_BASE; default 0 */
    acto_file_mode mode; /* default ACTO_FILE_LINES */
    size_t chunk_size;   /* CHUNKS: the item size; LINES: the read size;
                            0: 64 KiB */
    size_t max_line;     /* LINES: the longest line accepted, in bytes
                            (without '\n' and '\r'); 0: 1 MiB */
} acto_file_source_opts;

/* acto_file_source_spawn spawns an actor that opens path and streams it
 * to opts->to as items of type opts->item_type (see acto_file_mode), then
 * sends ACTO_STREAM_EOS and stops itself normally. Called from inside a
 * handler, the running actor becomes its parent. An item sent to a
 * receiver that has stopped fails the source ("ReceiverGone"); the rest of
 * the file is not read. Regular files are read at explicit offsets and
 * checked for truncation; pipes and devices are read from where they are
 * until they report the end.
 * Returns 0 and sets *out (and *done when done is not NULL); ACTO_EINVAL
 * (NULL sys, path, opts or out; opts->to none; a mode not listed; an item
 * type at or above ACTO_STREAM_BASE); ACTO_ENOMEM; acto_spawn's errors.
 * Errors about the file itself arrive later, as the actor's failure.
 * On error nothing was spawned and *out, *done are untouched.
 * Ownership: path and opts are copied. *done is one reference to the
 * future, the caller's to release (the actor holds its own).
 * Thread: the loop thread. */
int acto_file_source_spawn(acto_system *sys, const char *path,
                           const acto_file_source_opts *opts, acto_ref *out,
                           acto_future **done);

/* Zero-initialised fields give the defaults. */
typedef struct acto_file_sink_opts {
    bool append;         /* append to the file; default: truncate it */
    bool newline;        /* write '\n' after each item */
    size_t buffer_bytes; /* each of the two buffers; 0: 64 KiB */
    uint32_t capacity;   /* the sink's mailbox bound, in messages;
                            0: 64 */
    unsigned perm;       /* mode of a created file; 0: 0644 (less umask) */
} acto_file_sink_opts;

/* acto_file_sink_spawn spawns an actor that creates or opens path for
 * writing and appends the bytes of every item it receives: messages of a
 * type below ACTO_STREAM_BASE with a bytes or msgpack payload (others are
 * ignored). On ACTO_STREAM_EOS it writes what it buffered, fsyncs (a
 * device or pipe that cannot be synced is not an error), closes the file
 * and stops itself normally; done then holds the bytes written. Items
 * after EOS are ignored. Stopped or killed before that, it closes the file
 * once any request in flight has finished, without writing what it
 * buffered, and cancels done. Called from inside a handler, the running
 * actor becomes its parent.
 * Returns 0 and sets *out (and *done when done is not NULL); ACTO_EINVAL
 * (NULL sys, path or out); ACTO_ENOMEM; acto_spawn's errors. On error
 * nothing was spawned and *out, *done are untouched.
 * Ownership: path and opts (may be NULL: the defaults) are copied. *done
 * is one reference to the future, the caller's to release.
 * Thread: the loop thread. */
int acto_file_sink_spawn(acto_system *sys, const char *path,
                         const acto_file_sink_opts *opts, acto_ref *out,
                         acto_future **done);

/* acto_file_done_bytes reads the outcome of a file actor's done future.
 * Returns 0 and sets *bytes (may be NULL); the error's code when it failed
 * (and marks the error retrieved); ACTO_ECANCELED; ACTO_EPENDING;
 * ACTO_EINVAL (NULL done).
 * Ownership: done is borrowed; the count is copied out.
 * Thread: the loop thread. */
int acto_file_done_bytes(acto_future *done, uint64_t *bytes);

#endif /* ACTO_FILE_H */
