/* The trace file writer: an acto_trace_sink that encodes batches of
 * events into chunks (TRACE-FORMAT.md) and writes each chunk with one
 * writev(2) from the sink's write callback, which the runtime calls off
 * its hot path. */
#include "tracefile_int.h"

#include <acto/alloc.h>
#include <acto/error.h>
#include <acto/tracefile.h>

#include <errno.h>
#include <fcntl.h>
#include <msgpack.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#ifndef ACTO__VERSION
#define ACTO__VERSION "0"
#endif

#define DEFAULT_CHUNK_BYTES (256u << 10)
#define DEFAULT_CHUNK_EVENTS 16384u
#define MAX_CHUNK_EVENTS 32768u /* two actor refs per event fit 65536 */
#define DEFAULT_FLUSH_MS 200

typedef struct writer {
    int fd;
    int status; /* the first error; nothing is written after it */
    size_t chunk_bytes;
    uint32_t chunk_events;
    int flush_ms;
    bool fsync;
    acto_tracefile_close_cb on_close;
    void *on_close_user;

    /* The open chunk: its actor table, names and events, encoded. */
    acto__tf_buf actors;
    acto__tf_buf names;
    acto__tf_buf ev;
    uint32_t n_actors;
    uint32_t n_names;
    uint32_t n_ev;
    acto__tf_map index; /* actor ref -> index in this chunk */
    uint64_t began;     /* uv_hrtime() when the chunk got its first event */
    /* The delta state, reset at each chunk. */
    uint64_t ts0, msg0, fut0, flow0, hmsg;

    acto_tracefile_stats stats;
} writer;

static int write_cb(const acto_trace_event *events, size_t n, void *user);
static void close_cb(void *user);
static void name_cb(acto_ref actor, const char *name, void *user);

static int
sys_error(void)
{
    return uv_translate_sys_error(errno);
}

/* Writes every byte of iov[0..n), retrying short writes and EINTR. */
static int
write_all(int fd, struct iovec *iov, int n)
{
    while (n > 0) {
        ssize_t done = writev(fd, iov, n);
        if (done < 0) {
            if (errno == EINTR) {
                continue;
            }
            return sys_error();
        }
        while (n > 0 && (size_t)done >= iov->iov_len) {
            done -= (ssize_t)iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + done;
            iov->iov_len -= (size_t)done;
        }
    }
    return 0;
}

static int
write_buf(writer *w, const uint8_t *p, size_t len)
{
    struct iovec iov = {.iov_base = (void *)p, .iov_len = len};
    int rc = write_all(w->fd, &iov, 1);
    if (rc == 0) {
        w->stats.bytes += len;
    }
    return rc;
}

/* msgpack-c's packer writes the header and end records into a buffer. */
static int
pack_to_buf(void *data, const char *buf, size_t len)
{
    acto__tf_buf *b = data;
    if (acto__tf_buf_reserve(b, len) != 0) {
        return -1;
    }
    memcpy(b->p + b->len, buf, len);
    b->len += len;
    return 0;
}

static int
pack_cstr(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s);
    return msgpack_pack_str(pk, n) == 0 && msgpack_pack_str_body(pk, s, n) == 0
               ? 0
               : -1;
}

static int
write_header(writer *w)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t unix_ns =
        (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
    acto__tf_buf b = {0};
    msgpack_packer pk;
    msgpack_packer_init(&pk, &b, pack_to_buf);
    int bad = msgpack_pack_array(&pk, 7) | pack_cstr(&pk, ACTO__TF_MAGIC) |
              msgpack_pack_uint32(&pk, ACTO_TRACEFILE_VERSION) |
              pack_cstr(&pk, ACTO__TF_CLOCK) |
              msgpack_pack_uint64(&pk, unix_ns) |
              msgpack_pack_uint64(&pk, uv_hrtime()) |
              msgpack_pack_uint64(&pk, (uint64_t)getpid()) |
              pack_cstr(&pk, "acto " ACTO__VERSION);
    int rc = bad != 0 ? ACTO_ENOMEM : write_buf(w, b.p, b.len);
    acto__tf_buf_fini(&b);
    return rc;
}

static int
write_end(writer *w)
{
    acto__tf_buf b = {0};
    msgpack_packer pk;
    msgpack_packer_init(&pk, &b, pack_to_buf);
    int bad = msgpack_pack_array(&pk, 4) | pack_cstr(&pk, ACTO__TF_TAG_END) |
              msgpack_pack_uint64(&pk, w->stats.chunks) |
              msgpack_pack_uint64(&pk, w->stats.events) |
              msgpack_pack_uint64(&pk, w->stats.lost);
    int rc = bad != 0 ? ACTO_ENOMEM : write_buf(w, b.p, b.len);
    acto__tf_buf_fini(&b);
    return rc;
}

static void
reset_chunk(writer *w)
{
    w->actors.len = 0;
    w->names.len = 0;
    w->ev.len = 0;
    w->n_actors = 0;
    w->n_names = 0;
    w->n_ev = 0;
    acto__tf_map_clear(&w->index);
    w->ts0 = w->msg0 = w->fut0 = w->flow0 = w->hmsg = 0;
}

/* Writes the open chunk, if it holds anything, as one record. */
static int
finish_chunk(writer *w)
{
    if (w->status != 0) {
        return w->status;
    }
    if (w->n_ev == 0 && w->n_names == 0) {
        return 0;
    }
    uint8_t head[64], mid[8], tail[8];
    uint8_t *h = acto__tf_pack_array(head, 6);
    h = acto__tf_pack_str(h, ACTO__TF_TAG_CHUNK, 5);
    h = acto__tf_pack_uint(h, w->stats.chunks);
    h = acto__tf_pack_uint(h, w->stats.lost);
    h = acto__tf_pack_array(h, w->n_actors);
    uint8_t *m = acto__tf_pack_array(mid, w->n_names);
    uint8_t *t = acto__tf_pack_array(tail, w->n_ev);
    struct iovec iov[6] = {
        {head, (size_t)(h - head)}, {w->actors.p, w->actors.len},
        {mid, (size_t)(m - mid)},   {w->names.p, w->names.len},
        {tail, (size_t)(t - tail)}, {w->ev.p, w->ev.len},
    };
    size_t total = 0;
    for (int i = 0; i < 6; i++) {
        total += iov[i].iov_len;
    }
    int rc = write_all(w->fd, iov, 6);
    if (rc != 0) {
        w->status = rc;
        return rc;
    }
    w->stats.bytes += total;
    w->stats.event_bytes += w->ev.len;
    w->stats.chunks++;
    reset_chunk(w);
    return 0;
}

/* The chunk-local index of ref (0 for none), adding it to the table. */
static int
actor_index(writer *w, uint64_t ref, uint64_t *out)
{
    if (ref == 0) {
        *out = 0;
        return 0;
    }
    if (acto__tf_map_get(&w->index, ref, out)) {
        return 0;
    }
    int rc = acto__tf_buf_reserve(&w->actors, 9);
    if (rc == 0) {
        rc = acto__tf_map_put(&w->index, ref, w->n_actors + 1u);
    }
    if (rc != 0) {
        return rc;
    }
    w->actors.len =
        (size_t)(acto__tf_pack_uint(w->actors.p + w->actors.len, ref) -
                 w->actors.p);
    *out = ++w->n_actors;
    return 0;
}

static unsigned
mask_of(const acto_trace_event *e)
{
    return (e->actor != 0 ? ACTO__TF_F_ACTOR : 0) |
           (e->peer != 0 ? ACTO__TF_F_PEER : 0) |
           (e->msg != 0 ? ACTO__TF_F_MSG : 0) |
           (e->type != 0 ? ACTO__TF_F_TYPE : 0) |
           (e->arg != 0 ? ACTO__TF_F_ARG : 0) |
           (e->flow != 0 ? ACTO__TF_F_FLOW : 0) |
           (e->cause != 0 ? ACTO__TF_F_CAUSE : 0) |
           (e->flags != 0 ? ACTO__TF_F_FLAGS : 0);
}

/* Appends e to the open chunk: [kind, dts, mask, fields...]. */
static int
encode(writer *w, const acto_trace_event *e)
{
    uint64_t actor, peer;
    int rc = actor_index(w, e->actor, &actor);
    if (rc == 0) {
        rc = actor_index(w, e->peer, &peer);
    }
    if (rc == 0) {
        rc = acto__tf_buf_reserve(&w->ev, ACTO__TF_MAX_EVENT_BYTES);
    }
    if (rc != 0) {
        return rc;
    }
    unsigned mask = mask_of(e);
    uint8_t *p = w->ev.p + w->ev.len;
    p = acto__tf_pack_array(p, 3u + acto__tf_popcount8(mask));
    p = acto__tf_pack_uint(p, e->kind);
    p = acto__tf_pack_int(p, (int64_t)(e->ts - w->ts0));
    p = acto__tf_pack_uint(p, mask);
    if (mask & ACTO__TF_F_ACTOR) {
        p = acto__tf_pack_uint(p, actor);
    }
    if (mask & ACTO__TF_F_PEER) {
        p = acto__tf_pack_uint(p, peer);
    }
    if (mask & ACTO__TF_F_MSG) {
        /* A future's id is its address: a base of its own. */
        uint64_t *base = e->kind == ACTO_TRACE_FUTURE ? &w->fut0 : &w->msg0;
        p = acto__tf_pack_int(p, (int64_t)(e->msg - *base));
        *base = e->msg;
    }
    if (mask & ACTO__TF_F_TYPE) {
        p = acto__tf_pack_uint(p, e->type);
    }
    if (mask & ACTO__TF_F_ARG) {
        p = acto__tf_pack_int(p, (int32_t)e->arg);
    }
    if (mask & ACTO__TF_F_FLOW) {
        p = acto__tf_pack_int(p, (int64_t)(e->flow - w->flow0));
        w->flow0 = e->flow;
    }
    if (mask & ACTO__TF_F_CAUSE) {
        p = acto__tf_pack_int(p, (int64_t)(w->hmsg - e->cause));
    }
    if (mask & ACTO__TF_F_FLAGS) {
        p = acto__tf_pack_uint(p, e->flags);
    }
    w->ts0 = e->ts;
    if (e->kind == ACTO_TRACE_HANDLE) {
        w->hmsg = e->msg;
    }
    if (e->kind == ACTO_TRACE_LOST) {
        w->stats.lost += e->arg;
    }
    w->ev.len = (size_t)(p - w->ev.p);
    w->n_ev++;
    w->stats.events++;
    return 0;
}

static bool
chunk_full(const writer *w)
{
    return w->n_ev >= w->chunk_events ||
           w->ev.len + w->actors.len + w->names.len >= w->chunk_bytes;
}

static int
write_cb(const acto_trace_event *events, size_t n, void *user)
{
    writer *w = user;
    for (size_t i = 0; i < n && w->status == 0; i++) {
        if (chunk_full(w) && finish_chunk(w) != 0) {
            break;
        }
        if (w->n_ev == 0) {
            w->began = uv_hrtime();
        }
        int rc = encode(w, &events[i]);
        if (rc != 0) {
            w->status = rc;
        }
    }
    if (w->status == 0 && w->n_ev != 0 &&
        (w->flush_ms < 0 ||
         uv_hrtime() - w->began >= (uint64_t)w->flush_ms * 1000000u)) {
        finish_chunk(w);
    }
    return w->status;
}

static int
add_name(writer *w, unsigned what, uint64_t id, const char *name)
{
    size_t len = strlen(name);
    if (len > ACTO__TF_MAX_NAME) {
        len = ACTO__TF_MAX_NAME;
    }
    if (w->n_names + 1 >= ACTO__TF_MAX_COUNT ||
        w->names.len + len >= w->chunk_bytes) {
        /* Rare: a flood of names between two batches of events. */
        int rc = finish_chunk(w);
        if (rc != 0) {
            return rc;
        }
    }
    int rc = acto__tf_buf_reserve(&w->names, 1 + 1 + 9 + 5 + len);
    if (rc != 0) {
        return rc;
    }
    uint8_t *p = w->names.p + w->names.len;
    p = acto__tf_pack_array(p, 3);
    p = acto__tf_pack_uint(p, what);
    p = acto__tf_pack_uint(p, id);
    p = acto__tf_pack_str(p, name, (uint32_t)len);
    w->names.len = (size_t)(p - w->names.p);
    w->n_names++;
    return 0;
}

static void
name_cb(acto_ref actor, const char *name, void *user)
{
    writer *w = user;
    if (w->status == 0 && name != NULL && actor.id != 0) {
        int rc = add_name(w, ACTO__TF_NAME_ACTOR, actor.id, name);
        if (rc != 0) {
            w->status = rc;
        }
    }
}

/* type_cb takes the runtime's message type names (acto_msg_type_name). */
static void
type_cb(uint32_t type, const char *name, void *user)
{
    writer *w = user;
    if (w->status == 0 && name != NULL) {
        int rc = add_name(w, ACTO__TF_NAME_TYPE, type, name);
        if (rc != 0) {
            w->status = rc;
        }
    }
}

int
acto_tracefile_name_type(const acto_trace_sink *sink, uint32_t type,
                         const char *name)
{
    if (sink == NULL || sink->write != write_cb || name == NULL) {
        return ACTO_EINVAL;
    }
    writer *w = sink->user;
    if (w->status == 0) {
        int rc = add_name(w, ACTO__TF_NAME_TYPE, type, name);
        if (rc != 0) {
            w->status = rc;
        }
    }
    return w->status;
}

static void
writer_free(writer *w)
{
    acto__tf_buf_fini(&w->actors);
    acto__tf_buf_fini(&w->names);
    acto__tf_buf_fini(&w->ev);
    acto__tf_map_fini(&w->index);
    acto_free(w, sizeof(*w));
}

static void
close_cb(void *user)
{
    writer *w = user;
    if (w->status == 0 && finish_chunk(w) == 0) {
        w->status = write_end(w);
    }
    if (w->status == 0 && w->fsync && fsync(w->fd) != 0) {
        w->status = sys_error();
    }
    if (close(w->fd) != 0 && w->status == 0 && errno != EINTR) {
        w->status = sys_error();
    }
    w->stats.status = w->status;
    if (w->on_close != NULL) {
        w->on_close(&w->stats, w->on_close_user);
    }
    writer_free(w);
}

static void
apply_opts(writer *w, const acto_tracefile_opts *opts)
{
    acto_tracefile_opts o = opts != NULL ? *opts : (acto_tracefile_opts){0};
    w->chunk_bytes = o.chunk_bytes != 0 ? o.chunk_bytes : DEFAULT_CHUNK_BYTES;
    if (w->chunk_bytes < 4096) {
        w->chunk_bytes = 4096;
    } else if (w->chunk_bytes > (8u << 20)) {
        w->chunk_bytes = 8u << 20;
    }
    w->chunk_events = o.chunk_events != 0 && o.chunk_events <= MAX_CHUNK_EVENTS
                          ? o.chunk_events
                          : DEFAULT_CHUNK_EVENTS;
    w->flush_ms = o.flush_ms != 0 ? o.flush_ms : DEFAULT_FLUSH_MS;
    w->fsync = o.fsync;
    w->on_close = o.on_close;
    w->on_close_user = o.on_close_user;
}

int
acto_tracefile_open(const char *path, const acto_tracefile_opts *opts,
                    acto_trace_sink *out)
{
    if (path == NULL || out == NULL) {
        return ACTO_EINVAL;
    }
    writer *w = acto_calloc(1, sizeof(*w));
    if (w == NULL) {
        return ACTO_ENOMEM;
    }
    apply_opts(w, opts);
    w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        int rc = sys_error();
        writer_free(w);
        return rc;
    }
    int rc = write_header(w);
    if (rc != 0) {
        close(w->fd);
        writer_free(w);
        return rc;
    }
    *out = (acto_trace_sink){.write = write_cb,
                             .close = close_cb,
                             .name = name_cb,
                             .user = w,
                             .type_name = type_cb};
    return 0;
}
