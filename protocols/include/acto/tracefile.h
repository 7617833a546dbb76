/* The acto trace file: a msgpack file of trace events, its writer (an
 * acto_trace_sink) and a reader that never trusts its input.
 *
 * The format is versioned and documented field by field in
 * protocols/TRACE-FORMAT.md, so any msgpack library can read a trace
 * without acto. In short: a header record, then chunks of events (each
 * with the actor refs and names it introduces, its events delta-encoded,
 * about 10-16 bytes per event), then an end record written on close.
 *
 * Linking acto::protocols registers acto_tracefile_env_factory with the
 * runtime, so ACTO_TRACE=out.acto ./prog traces any acto program.
 */
#ifndef ACTO_TRACEFILE_H
#define ACTO_TRACEFILE_H

#include <acto/ref.h>
#include <acto/trace.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The format version this library writes and reads. */
#define ACTO_TRACEFILE_VERSION 1

/* ---- the writer -------------------------------------------------------- */

/* What a writer did, reported once by its close. */
typedef struct acto_tracefile_stats {
    int status;           /* 0, or the first error (then the file is cut) */
    uint64_t events;      /* events written (LOST events included) */
    uint64_t lost;        /* the sum of the LOST events' counts */
    uint64_t chunks;      /* chunk records written */
    uint64_t bytes;       /* bytes written, header and end record included */
    uint64_t event_bytes; /* of which the events themselves (arrays) */
} acto_tracefile_stats;

typedef void (*acto_tracefile_close_cb)(const acto_tracefile_stats *stats,
                                        void *user);

typedef struct acto_tracefile_opts {
    /* A chunk is written once its encoding reaches this size; 0: 256 KiB.
     * Clamped to 4 KiB..8 MiB. */
    size_t chunk_bytes;
    /* ... or holds this many events; 0 and anything above 32768: 16384. */
    uint32_t chunk_events;
    /* A write() call that ends at least this long after the open chunk
     * began writes it out, so a quiet program's trace reaches the disk;
     * 0: 200 ms; negative: at the end of every write() call. */
    int flush_ms;
    /* fsync the file before closing it. */
    bool fsync;
    /* Called once from the sink's close with what was written; may be
     * NULL. The stats are borrowed for the call. */
    acto_tracefile_close_cb on_close;
    void *on_close_user;
} acto_tracefile_opts;

/* acto_tracefile_open creates (or truncates) the file at path, writes the
 * format's header record and fills *out with a sink that writes events
 * there: pass it to acto_trace_start, or call its functions directly.
 * The sink's write() encodes each batch into the open chunk and writes
 * full chunks with write(2), blocking, as one large block each: the
 * runtime calls write() off the hot path (at the end of a scheduler round
 * or when its ring is half full), and a chunk is at most chunk_bytes.
 * name() and type_name() record an actor's name and a message type's
 * name (acto_msg_type_name) in the file's string table. close()
 * writes the open chunk and the end record, closes the file and frees
 * the writer. After an error (a full disk, ...) write() keeps returning
 * it and nothing more is written; close() still frees everything.
 * opts may be NULL (the defaults).
 * Returns 0; ACTO_EINVAL (NULL path or out); ACTO_ENOMEM; a UV_E* code
 * from opening or writing the header (UV_ENOENT, UV_EACCES, UV_ENOSPC).
 * On error nothing is left open and *out is untouched.
 * Ownership: path and opts are copied from; the sink owns the writer
 * until its close() runs, which must happen exactly once.
 * Thread: any, but the sink's functions are called from one thread at a
 * time (the system's loop thread). */
int acto_tracefile_open(const char *path, const acto_tracefile_opts *opts,
                        acto_trace_sink *out);

/* acto_tracefile_name_type records a name for a message type in the
 * file's string table (the last name given wins).
 * Returns 0; ACTO_EINVAL when sink is not a trace file writer's or name
 * is NULL; ACTO_ENOMEM; the writer's earlier error.
 * Ownership: name is copied (names longer than 1024 bytes are cut).
 * Thread: the thread calling the sink's functions. */
int acto_tracefile_name_type(const acto_trace_sink *sink, uint32_t type,
                             const char *name);

/* acto_tracefile_env_factory is the acto_trace_sink_factory behind
 * ACTO_TRACE=path: it opens a trace file with the default options. "%p"
 * in path becomes the process id; the second and later systems of one
 * process using the same path get path.1, path.2, ... so no system
 * overwrites another's trace. A library constructor registers it with
 * acto_trace_set_env_factory when acto::protocols is linked in.
 * Returns as acto_tracefile_open (ACTO_EINVAL for an empty path).
 * Thread: any. */
int acto_tracefile_env_factory(const char *path, acto_trace_sink *out);

/* ---- the reader -------------------------------------------------------- */

typedef struct acto_tracefile_reader acto_tracefile_reader;

typedef struct acto_tracefile_reader_opts {
    /* The largest record (chunk) accepted, in bytes; 0: 16 MiB. Capped at
     * the hard ceiling of 64 MiB. A file reader's memory is about this. */
    size_t max_record;
} acto_tracefile_reader_opts;

/* What the header record says. Strings are NUL-terminated and live as
 * long as the reader. */
typedef struct acto_tracefile_info {
    uint32_t version;   /* ACTO_TRACEFILE_VERSION */
    const char *clock;  /* what ts counts: "monotonic-ns" */
    uint64_t unix_ns;   /* wall clock when the file was opened */
    uint64_t clock_ns;  /* the trace clock at the same moment */
    uint64_t pid;       /* the writing process */
    const char *writer; /* e.g. "acto 0.1.0" */
} acto_tracefile_info;

/* acto_tracefile_reader_open opens the trace file at path for reading,
 * streaming it through a buffer of at most opts->max_record bytes, and
 * reads its header record. A file that is not a trace, has an unknown
 * format version or is damaged still opens: acto_tracefile_next then
 * reports the problem (and acto_tracefile_info_get the header's).
 * Returns 0; ACTO_EINVAL (NULL path or out); ACTO_ENOMEM; a UV_E* code
 * from open/read (UV_ENOENT, UV_EACCES, UV_EISDIR).
 * Ownership: *out is the caller's until acto_tracefile_reader_close.
 * Thread: a reader is used by one thread at a time. */
int acto_tracefile_reader_open(const char *path,
                               const acto_tracefile_reader_opts *opts,
                               acto_tracefile_reader **out);

/* acto_tracefile_reader_open_memory reads a trace held in memory, as
 * acto_tracefile_reader_open. len may be 0 (an empty, invalid trace).
 * Returns 0; ACTO_EINVAL (NULL out, or NULL data with len > 0);
 * ACTO_ENOMEM.
 * Ownership: data is borrowed: keep it unchanged until the reader is
 * closed. */
int acto_tracefile_reader_open_memory(const void *data, size_t len,
                                      const acto_tracefile_reader_opts *opts,
                                      acto_tracefile_reader **out);

/* acto_tracefile_next stores the next event in *out, with every field
 * absolute again (deltas decoded, actor indexes turned back into refs;
 * pad is 0). Events of kinds this library does not know are returned as
 * they were written.
 * Returns 1 (an event), 0 (the end record was reached: the trace is
 * complete), or a negative error once nothing more can be read, every
 * event before the problem having been returned: UV_EFTYPE (not an acto
 * trace), UV_ENOTSUP (an unknown format version), UV_EPROTO (corrupt:
 * a bad msgpack structure, a limit exceeded, an inconsistent count),
 * UV_EOF (the file ends early: cut inside a record, or without the end
 * record a closed writer writes), ACTO_ENOMEM, or a read error. Each error
 * has its text with the byte offset in acto_tracefile_error. Once it
 * returned 0 or an error, it returns the same again.
 * Thread: the reader's thread. */
int acto_tracefile_next(acto_tracefile_reader *r, acto_trace_event *out);

/* acto_tracefile_next_batch stores up to cap next events in out[0..*n),
 * as acto_tracefile_next stores one, for less work per event. A batch
 * ends at the end of a chunk record, so acto_tracefile_actor_name and
 * acto_tracefile_type_name answer for a batch's events as they would
 * for the same events read one by one.
 * Returns 1 (*n events, 1..cap), 0 (the end record was reached: *n is
 * 0), or a negative error as acto_tracefile_next (*n is 0): events
 * decoded before an error are returned first, the error by the next
 * call. ACTO_EINVAL for a NULL r, out or n, or cap 0.
 * Ownership: out is the caller's, cap elements long.
 * Thread: the reader's thread. */
int acto_tracefile_next_batch(acto_tracefile_reader *r, acto_trace_event *out,
                              size_t cap, size_t *n);

/* acto_tracefile_error describes the reader's error, e.g. "offset 1234:
 * array count 4000000 exceeds the 12 bytes left"; "" when there is none.
 * Ownership: the string lives until the next call on r. */
const char *acto_tracefile_error(const acto_tracefile_reader *r);

/* acto_tracefile_error_offset is the byte offset the error refers to. */
uint64_t acto_tracefile_error_offset(const acto_tracefile_reader *r);

/* acto_tracefile_info_get copies the header record's fields into *out.
 * Returns 0, or the header's error (then *out is zeroed). */
int acto_tracefile_info_get(const acto_tracefile_reader *r,
                            acto_tracefile_info *out);

/* acto_tracefile_actor_name is actor's name as far as the file has been
 * read (names precede the events that use them in a file written by
 * acto), or NULL. */
const char *acto_tracefile_actor_name(const acto_tracefile_reader *r,
                                      acto_ref actor);

/* acto_tracefile_type_name is a message type's name, or NULL. */
const char *acto_tracefile_type_name(const acto_tracefile_reader *r,
                                     uint32_t type);

/* acto_tracefile_lost is the number of events the runtime lost (the sum
 * of the LOST events returned so far). */
uint64_t acto_tracefile_lost(const acto_tracefile_reader *r);

/* acto_tracefile_events_read is the number of events returned so far. */
uint64_t acto_tracefile_events_read(const acto_tracefile_reader *r);

/* acto_tracefile_reader_close frees the reader (NULL is ignored). */
void acto_tracefile_reader_close(acto_tracefile_reader *r);

#endif /* ACTO_TRACEFILE_H */
