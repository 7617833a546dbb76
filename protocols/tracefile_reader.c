/* The trace file reader. It never trusts its input. A chunk record (the
 * bulk of a file) is decoded in a single pass: its short prefix (seq,
 * lost, actor table, names) is walked element by element first
 * (tracefile_walk.c: every length, count and depth checked against the
 * bytes there are, nothing allocated), then its events are decoded
 * straight from the buffer, every read bounds-checked against the bytes
 * there are and every count, index and range checked before use. Only
 * when something is wrong is the whole record walked, so the error
 * reported is the one a walk-first reader reports (the earliest damage).
 * Other records (header, end, unknown kinds) are walked, then decoded.
 * A damaged record is still decoded up to the damage, so every event
 * before it is returned; then its error is. */
#include "tracefile_fast.h"
#include "tracefile_int.h"
#include "tracefile_walk.h"

#include <acto/alloc.h>
#include <acto/error.h>
#include <acto/tracefile.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#define INITIAL_BUFFER (1u << 20)
#define MAX_EVENT_FIELDS (3 + ACTO__TF_NFIELDS)
#define FAST_EVENT_BYTES ACTO__TF_FAST_EVENT_BYTES

/* An error with its offset, before it becomes the reader's. */
typedef struct problem {
    int rc;
    uint64_t off;
    char text[192];
} problem;

struct acto_tracefile_reader {
    /* Input: data[0..hi) holds the file from offset base; pos is where
     * decoding is. A memory reader's data is the caller's buffer. */
    const uint8_t *data;
    uint8_t *owned;
    size_t cap;
    size_t hi;
    size_t pos;
    uint64_t base;
    int fd; /* -1: reading memory */
    bool eof;
    bool io_failed; /* read(2) failed: open reports it */
    size_t max_record;

    int status; /* 0 reading; 1 done (end record); < 0 failed */
    problem err;
    int header_rc;
    acto_tracefile_info info;
    size_t clock_size, writer_size;

    /* The record being decoded. */
    bool in_chunk;
    size_t rec_end; /* where the record ends (damaged: where input ends) */
    bool damaged;   /* its walk failed: pending holds why */
    problem pending;
    /* A chunk decoded in a single pass (streaming): its record starts at
     * rec_start (kept in the buffer by refill), its end is not known
     * until its last event, and it is walked only when something is
     * wrong (damage_known: that walk happened; damaged, pending, rec_end
     * then hold its result). fast_lim: while pos <= fast_lim, an event's
     * longest encoding (FAST_EVENT_BYTES) is buffered and within the
     * record limit. */
    bool streaming;
    bool damage_known;
    size_t rec_start;
    size_t fast_lim;
    uint32_t events_left;
    uint32_t extra_left; /* chunk elements after the events (newer writers) */
    uint64_t chunk_lost;
    uint64_t *actors; /* the chunk's actor table by index: [0] is 0 */
    uint32_t n_actors;
    size_t actors_cap;
    uint64_t ts0, msg0, fut0, flow0, hmsg;

    uint64_t next_seq;
    uint64_t events;
    uint64_t lost;
    acto__tf_map actor_names; /* ref -> name block */
    acto__tf_map type_names;  /* type + 1 -> name block */
};

/* A name block: its size, then the NUL-terminated name. */
typedef struct name_block {
    size_t size;
    char s[];
} name_block;

/* A cursor over data[p..end). */
typedef struct cur {
    const uint8_t *p;
    const uint8_t *end;
} cur;

static uint64_t
off_of(const acto_tracefile_reader *r, const uint8_t *p)
{
    return r->base + (uint64_t)(p - r->data);
}

static bool is_damaged(acto_tracefile_reader *r);

static void describe(problem *pr, int rc, uint64_t off, const char *fmt,
                     va_list ap) __attribute__((format(printf, 4, 0)));

static void
describe(problem *pr, int rc, uint64_t off, const char *fmt, va_list ap)
{
    int n = snprintf(pr->text, sizeof(pr->text),
                     "offset %llu: ", (unsigned long long)off);
    vsnprintf(pr->text + n, sizeof(pr->text) - (size_t)n, fmt, ap);
    pr->rc = rc;
    pr->off = off;
}

/* The reader fails with this problem, unless it failed already. */
static int
fail_with(acto_tracefile_reader *r, const problem *pr)
{
    if (r->status >= 0) {
        r->err = *pr;
        r->status = pr->rc;
    }
    return r->status;
}

static int fail(acto_tracefile_reader *r, int rc, const uint8_t *at,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
fail(acto_tracefile_reader *r, int rc, const uint8_t *at, const char *fmt, ...)
{
    problem pr;
    va_list ap;
    va_start(ap, fmt);
    describe(&pr, rc, off_of(r, at), fmt, ap);
    va_end(ap);
    /* In a damaged record, trouble at or past the damage is the damage. */
    if (is_damaged(r) && pr.off >= r->pending.off) {
        return fail_with(r, &r->pending);
    }
    return fail_with(r, &pr);
}

/* Reading past the end of a record: in a damaged record, the damage. */
static int
fail_short(acto_tracefile_reader *r, const cur *c)
{
    if (is_damaged(r)) {
        return fail_with(r, &r->pending);
    }
    return fail(r, UV_EPROTO, c->p, "a value runs past the end of its record");
}

/* ---- reading values ---------------------------------------------------- */

static uint64_t
be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++) {
        v = v << 8 | p[i];
    }
    return v;
}

/* Any msgpack integer, as the 64 bits of its two's complement value;
 * *neg tells whether it was negative. */
static int
rd_int(acto_tracefile_reader *r, cur *c, uint64_t *v, bool *neg,
       const char *what)
{
    *v = 0, *neg = false;
    if (c->p == c->end) {
        return fail_short(r, c);
    }
    uint8_t b = *c->p;
    if (b <= 0x7f) {
        c->p++;
        *v = b, *neg = false;
        return 0;
    }
    if (b >= 0xe0) {
        c->p++;
        *v = (uint64_t)(int64_t)(int8_t)b, *neg = true;
        return 0;
    }
    int n;
    bool sign;
    switch (b) {
    case 0xcc:
        n = 1, sign = false;
        break;
    case 0xcd:
        n = 2, sign = false;
        break;
    case 0xce:
        n = 4, sign = false;
        break;
    case 0xcf:
        n = 8, sign = false;
        break;
    case 0xd0:
        n = 1, sign = true;
        break;
    case 0xd1:
        n = 2, sign = true;
        break;
    case 0xd2:
        n = 4, sign = true;
        break;
    case 0xd3:
        n = 8, sign = true;
        break;
    default:
        return fail(r, UV_EPROTO, c->p, "%s: expected an integer, found 0x%02x",
                    what, b);
    }
    if (c->end - c->p < 1 + n) {
        return fail_short(r, c);
    }
    uint64_t x = be(c->p + 1, n);
    if (sign && n < 8 && (x >> (8 * n - 1)) != 0) {
        x |= ~0ull << (8 * n); /* sign-extend */
    }
    *v = x;
    *neg = sign && (int64_t)x < 0;
    c->p += 1 + n;
    return 0;
}

/* An integer in 0..max. */
static int
rd_uint(acto_tracefile_reader *r, cur *c, uint64_t max, uint64_t *v,
        const char *what)
{
    const uint8_t *at = c->p;
    bool neg = false;
    int rc = rd_int(r, c, v, &neg, what);
    if (rc == 0 && (neg || *v > max)) {
        if (neg) {
            return fail(r, UV_EPROTO, at, "%s: %lld is negative", what,
                        (long long)*v);
        }
        return fail(r, UV_EPROTO, at, "%s: %llu is above %llu", what,
                    (unsigned long long)*v, (unsigned long long)max);
    }
    return rc;
}

/* An array header; its count must be at most 65536 and, when bounded, at
 * most the bytes left (at least one per element). */
static int
rd_array(acto_tracefile_reader *r, cur *c, bool bounded, uint32_t *n,
         const char *what)
{
    if (c->p == c->end) {
        return fail_short(r, c);
    }
    const uint8_t *at = c->p;
    uint8_t b = *c->p;
    uint64_t count;
    if ((b & 0xf0) == 0x90) {
        count = b & 0x0f;
        c->p++;
    } else if (b == 0xdc || b == 0xdd) {
        int len = b == 0xdc ? 2 : 4;
        if (c->end - c->p < 1 + len) {
            return fail_short(r, c);
        }
        count = be(c->p + 1, len);
        c->p += 1 + len;
    } else {
        return fail(r, UV_EPROTO, at, "%s: expected an array, found 0x%02x",
                    what, b);
    }
    size_t left = (size_t)(c->end - c->p);
    if (count > ACTO__TF_MAX_COUNT) {
        return fail(r, UV_EPROTO, at,
                    "%s: array count %llu exceeds the limit "
                    "of %u",
                    what, (unsigned long long)count, ACTO__TF_MAX_COUNT);
    }
    if (bounded && count > left) {
        if (is_damaged(r)) {
            return fail_with(r, &r->pending);
        }
        return fail(r, UV_EPROTO, at,
                    "%s: array count %llu exceeds the %zu "
                    "bytes left",
                    what, (unsigned long long)count, left);
    }
    *n = (uint32_t)count;
    return 0;
}

static int
rd_str(acto_tracefile_reader *r, cur *c, const uint8_t **s, uint32_t *n,
       const char *what)
{
    if (c->p == c->end) {
        return fail_short(r, c);
    }
    const uint8_t *at = c->p;
    uint8_t b = *c->p;
    int hdr;
    uint64_t len;
    if ((b & 0xe0) == 0xa0) {
        hdr = 0, len = b & 0x1f;
    } else if (b == 0xd9 || b == 0xda || b == 0xdb) {
        hdr = b == 0xd9 ? 1 : b == 0xda ? 2 : 4;
        if (c->end - c->p < 1 + hdr) {
            return fail_short(r, c);
        }
        len = be(c->p + 1, hdr);
    } else {
        return fail(r, UV_EPROTO, at, "%s: expected a string, found 0x%02x",
                    what, b);
    }
    if (len > (uint64_t)(c->end - c->p - 1 - hdr)) {
        return fail_short(r, c);
    }
    *s = c->p + 1 + hdr;
    *n = (uint32_t)len;
    c->p += 1 + hdr + len;
    return 0;
}

/* Skips one object of any kind. */
static int
skip(acto_tracefile_reader *r, cur *c)
{
    acto__tf_walk w;
    int rc = acto__tf_walk_one(&w, c->p, (size_t)(c->end - c->p), true);
    if (rc != 0) {
        if (is_damaged(r)) {
            return fail_with(r, &r->pending);
        }
        return fail(r, rc, c->p + w.bad, "%s", w.msg);
    }
    c->p += w.len;
    return 0;
}

/* ---- input ------------------------------------------------------------- */

/* While streaming a chunk: pos < fast_lim says an event's longest
 * encoding is buffered from pos and ends within the record limit. */
static void
set_fast_lim(acto_tracefile_reader *r)
{
    if (!r->streaming) {
        return;
    }
    size_t lim = r->rec_start + r->max_record;
    lim = lim < r->hi ? lim : r->hi;
    r->fast_lim =
        lim - r->rec_start >= FAST_EVENT_BYTES ? lim - FAST_EVENT_BYTES + 1 : 0;
}

/* Reads more of the file, growing the buffer up to max_record. */
static int
refill(acto_tracefile_reader *r)
{
    if (r->fd < 0) {
        r->eof = true;
        return 0;
    }
    /* Keep the bytes from pos on, or from the start of a chunk being
     * streamed (its walk, when needed, starts there). */
    size_t keep = r->streaming ? r->rec_start : r->pos;
    if (keep > 0) {
        memmove(r->owned, r->owned + keep, r->hi - keep);
        r->base += keep;
        r->hi -= keep;
        r->pos -= keep;
        r->rec_start -= r->streaming ? keep : 0;
    }
    if (r->hi == r->cap) {
        if (r->cap >= r->max_record) {
            return fail(r, UV_EPROTO, r->data,
                        "a record longer than the %zu-byte limit",
                        r->max_record);
        }
        size_t cap = r->cap * 2 < r->max_record ? r->cap * 2 : r->max_record;
        uint8_t *p = acto_malloc(cap);
        if (p == NULL) {
            return fail(r, ACTO_ENOMEM, r->data, "out of memory");
        }
        memcpy(p, r->owned, r->hi);
        acto_free(r->owned, r->cap);
        r->owned = p;
        r->data = p;
        r->cap = cap;
    }
    for (;;) {
        ssize_t n = read(r->fd, r->owned + r->hi, r->cap - r->hi);
        if (n >= 0) {
            r->hi += (size_t)n;
            r->eof = n == 0;
            set_fast_lim(r);
            return 0;
        }
        if (errno != EINTR) {
            int rc = uv_translate_sys_error(errno);
            r->io_failed = true;
            return fail(r, rc, r->data + r->hi, "read: %s", acto_strerror(rc));
        }
    }
}

/* Finds the extent of the record at pos: 0 with *len; or a negative code
 * with r->pending describing the damage (r->status is untouched unless
 * reading failed). */
static int
fetch(acto_tracefile_reader *r, size_t *len)
{
    for (;;) {
        acto__tf_walk w;
        int rc =
            acto__tf_walk_one(&w, r->data + r->pos, r->hi - r->pos, r->eof);
        if (rc == 0 && w.len > r->max_record) {
            return fail(r, UV_EPROTO, r->data + r->pos,
                        "a record of %zu bytes exceeds the %zu-byte limit",
                        w.len, r->max_record);
        }
        if (rc == 0) {
            *len = w.len;
            return 0;
        }
        if (rc == ACTO__TF_WALK_MORE) {
            rc = refill(r);
            if (rc < 0) {
                return rc;
            }
            continue;
        }
        r->pending.rc = rc;
        r->pending.off = r->base + r->pos + w.bad;
        snprintf(r->pending.text, sizeof(r->pending.text), "offset %llu: %s",
                 (unsigned long long)r->pending.off, w.msg);
        return rc;
    }
}

/* Whether the record being decoded is damaged (r->pending says how). A
 * streamed chunk is walked now, the first time this is asked, as fetch
 * walks every other record before decoding it: its earliest damage is
 * what a decoding error at or past it reports. A read error or a record
 * over the limit found on the way fails the reader directly. */
static bool
is_damaged(acto_tracefile_reader *r)
{
    if (!r->streaming || r->damage_known) {
        return r->damaged;
    }
    r->damage_known = true;
    size_t rel = r->pos - r->rec_start;
    r->pos = r->rec_start; /* fetch walks from pos; refill may move both */
    size_t len = 0;
    int rc = fetch(r, &len);
    r->pos = r->rec_start + rel;
    if (rc < 0 && r->status >= 0) {
        r->damaged = true;
        r->rec_end = r->hi;
    } else if (rc == 0) {
        r->rec_end = r->rec_start + len;
    }
    return r->damaged;
}

/* While streaming: makes at least need bytes from pos available, unless
 * the file ends first or the record would outgrow max_record (then what
 * there is is decoded carefully, and running out is the error). */
static int
ensure(acto_tracefile_reader *r, size_t need)
{
    while (r->hi - r->pos < need && !r->eof &&
           r->hi - r->rec_start < r->max_record) {
        int rc = refill(r);
        if (rc < 0) {
            return rc;
        }
    }
    return 0;
}

/* ---- names and the actor table ----------------------------------------- */

static void
free_names(acto__tf_map *m)
{
    for (size_t i = 0; i < m->cap; i++) {
        if (m->keys[i] != 0) {
            name_block *nb = (name_block *)(uintptr_t)m->vals[i];
            acto_free(nb, nb->size);
        }
    }
    acto__tf_map_fini(m);
}

static int
set_name(acto_tracefile_reader *r, acto__tf_map *m, uint64_t key,
         const uint8_t *s, uint32_t n, const uint8_t *at)
{
    size_t size = sizeof(name_block) + n + 1;
    name_block *nb = acto_malloc(size);
    uint64_t old;
    bool had = acto__tf_map_get(m, key, &old);
    if (nb == NULL || acto__tf_map_put(m, key, (uintptr_t)nb) != 0) {
        acto_free(nb, size);
        return fail(r, ACTO_ENOMEM, at, "out of memory");
    }
    nb->size = size;
    memcpy(nb->s, s, n);
    nb->s[n] = '\0';
    if (had) {
        name_block *ob = (name_block *)(uintptr_t)old;
        acto_free(ob, ob->size);
    }
    return 0;
}

/* One string table entry: [what, id, name]. Unknown "what"s are skipped. */
static int
rd_name(acto_tracefile_reader *r, cur *c)
{
    uint32_t n = 0;
    uint64_t what = 0, id = 0;
    const uint8_t *s = NULL, *at = c->p;
    uint32_t len = 0;
    int rc = rd_array(r, c, true, &n, "name");
    if (rc == 0 && n != 3) {
        return fail(r, UV_EPROTO, at, "a name entry has %u elements, not 3", n);
    }
    if (rc == 0) {
        rc = rd_uint(r, c, UINT64_MAX, &what, "name kind");
    }
    if (rc == 0) {
        rc = rd_uint(r, c, UINT64_MAX, &id, "name id");
    }
    if (rc == 0) {
        rc = rd_str(r, c, &s, &len, "name");
    }
    if (rc != 0) {
        return rc;
    }
    if (what == ACTO__TF_NAME_ACTOR && id != 0) {
        return set_name(r, &r->actor_names, id, s, len, at);
    }
    if (what == ACTO__TF_NAME_TYPE && id <= UINT32_MAX) {
        return set_name(r, &r->type_names, id + 1, s, len, at);
    }
    return 0;
}

static int
rd_actors(acto_tracefile_reader *r, cur *c)
{
    uint32_t n;
    int rc = rd_array(r, c, true, &n, "actor table");
    if (rc != 0) {
        return rc;
    }
    if ((size_t)n + 1 > r->actors_cap) {
        uint64_t *a = acto_malloc(((size_t)n + 1) * sizeof(*a));
        if (a == NULL) {
            return fail(r, ACTO_ENOMEM, c->p, "out of memory");
        }
        acto_free(r->actors, r->actors_cap * sizeof(*a));
        r->actors = a;
        r->actors_cap = (size_t)n + 1;
    }
    r->actors[0] = 0; /* index 0: no actor */
    r->n_actors = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t ref;
        rc = rd_uint(r, c, UINT64_MAX, &ref, "actor ref");
        if (rc != 0) {
            return rc;
        }
        r->actors[++r->n_actors] = ref;
    }
    return 0;
}

/* ---- records ----------------------------------------------------------- */

/* The rest of a chunk record after its tag: seq, lost, actors, names, and
 * the events array's header (the events follow, one per next()). */
static int
start_chunk(acto_tracefile_reader *r, cur *c, uint32_t n, const uint8_t *at)
{
    uint64_t seq = 0;
    uint32_t n_names = 0, n_events = 0;
    if (n < 6) {
        return fail(r, UV_EPROTO, at,
                    "a chunk record has %u elements; "
                    "version 1 needs 6",
                    n);
    }
    int rc = rd_uint(r, c, UINT64_MAX, &seq, "chunk sequence number");
    if (rc == 0 && seq != r->next_seq) {
        return fail(r, UV_EPROTO, at,
                    "chunk %llu where chunk %llu was due "
                    "(a chunk is missing)",
                    (unsigned long long)seq, (unsigned long long)r->next_seq);
    }
    if (rc == 0) {
        rc = rd_uint(r, c, UINT64_MAX, &r->chunk_lost, "chunk lost count");
    }
    if (rc == 0) {
        rc = rd_actors(r, c);
    }
    if (rc == 0) {
        rc = rd_array(r, c, true, &n_names, "string table");
    }
    for (uint32_t i = 0; rc == 0 && i < n_names; i++) {
        rc = rd_name(r, c);
    }
    if (rc == 0) {
        /* Not bounded: a cut chunk still yields the events it holds. */
        rc = rd_array(r, c, false, &n_events, "events");
    }
    if (rc != 0) {
        return rc;
    }
    r->in_chunk = true;
    r->events_left = n_events;
    r->extra_left = n - 6;
    r->ts0 = r->msg0 = r->fut0 = r->flow0 = r->hmsg = 0;
    return 0;
}

/* A chunk record of 6 elements (acto's writer's), decoded in a single
 * pass: its prefix is walked element by element and decoded, and its
 * events are left to rd_event. Returns 1 when the record at pos is not
 * such a chunk (next_record then walks it whole first). */
static int
stream_chunk(acto_tracefile_reader *r)
{
    static const uint8_t head[] = "\x96\xa5" ACTO__TF_TAG_CHUNK;
    const size_t head_len = sizeof(head) - 1;
    while (r->hi - r->pos < head_len && !r->eof) {
        int rc = refill(r);
        if (rc < 0) {
            return rc;
        }
    }
    if (r->hi - r->pos < head_len ||
        memcmp(r->data + r->pos, head, head_len) != 0) {
        return 1;
    }
    r->streaming = true;
    r->damage_known = false;
    r->damaged = false;
    r->rec_start = r->pos;
    /* seq, lost, the actor table and the names: each walked whole (every
     * count and length against the bytes left) before it is decoded. */
    size_t off = head_len; /* from rec_start: refill may move the buffer */
    for (int k = 0; k < 4; k++) {
        for (;;) {
            acto__tf_walk w;
            const uint8_t *p = r->data + r->rec_start + off;
            int rc =
                acto__tf_walk_one(&w, p, r->hi - r->rec_start - off, r->eof);
            if (rc == 0) {
                off += w.len;
                break;
            }
            if (rc == ACTO__TF_WALK_MORE &&
                r->hi - r->rec_start < r->max_record) {
                if ((rc = refill(r)) < 0) {
                    return rc;
                }
                continue;
            }
            /* Report the record's earliest damage, as a walk-first
             * reader does (or the limit, when the walk runs into it). */
            if (is_damaged(r)) {
                return fail_with(r, &r->pending);
            }
            if (r->status < 0) {
                return r->status;
            }
            if (rc == ACTO__TF_WALK_MORE) {
                return fail(r, UV_EPROTO, r->data + r->rec_start,
                            "a record longer than the %zu-byte limit",
                            r->max_record);
            }
            return fail(r, rc, r->data + r->rec_start + off + w.bad, "%s",
                        w.msg);
        }
    }
    if (off > r->max_record) {
        return fail(r, UV_EPROTO, r->data + r->rec_start,
                    "a record longer than the %zu-byte limit", r->max_record);
    }
    int rc = ensure(r, off + 5); /* the events array's header */
    if (rc < 0) {
        return rc;
    }
    cur c = {r->data + r->rec_start + head_len, r->data + r->hi};
    rc = start_chunk(r, &c, 6, r->data + r->rec_start);
    if (rc == 0) {
        r->pos = (size_t)(c.p - r->data);
        set_fast_lim(r);
    }
    return rc;
}

static int
end_chunk(acto_tracefile_reader *r)
{
    if (r->streaming) {
        /* The record ends after its last event (extra_left is 0). */
        if (r->pos - r->rec_start > r->max_record) {
            return fail(r, UV_EPROTO, r->data + r->rec_start,
                        "a record longer than the %zu-byte limit",
                        r->max_record);
        }
        r->rec_end = r->pos;
    }
    cur c = {r->data + r->pos, r->data + r->rec_end};
    for (; r->extra_left > 0; r->extra_left--) {
        int rc = skip(r, &c);
        if (rc != 0) {
            return rc;
        }
    }
    if (r->damaged) {
        return fail_with(r, &r->pending);
    }
    if (r->chunk_lost != r->lost) {
        return fail(r, UV_EPROTO, c.p,
                    "chunk %llu counts %llu lost events, "
                    "its LOST events add up to %llu",
                    (unsigned long long)r->next_seq,
                    (unsigned long long)r->chunk_lost,
                    (unsigned long long)r->lost);
    }
    r->pos = r->rec_end;
    r->in_chunk = false;
    r->streaming = false;
    r->next_seq++;
    return 0;
}

/* Whether the input holds nothing past pos. */
static int
at_end(acto_tracefile_reader *r, bool *empty)
{
    while (r->pos == r->hi && !r->eof) {
        int rc = refill(r);
        if (rc < 0) {
            return rc;
        }
    }
    *empty = r->pos == r->hi;
    return 0;
}

static int
end_record(acto_tracefile_reader *r, cur *c, uint32_t n, const uint8_t *at)
{
    uint64_t v[3] = {0};
    static const char *const names[3] = {"chunks", "events", "lost events"};
    const uint64_t have[3] = {r->next_seq, r->events, r->lost};
    if (n < 4) {
        return fail(r, UV_EPROTO, at,
                    "the end record has %u elements; "
                    "version 1 needs 4",
                    n);
    }
    for (int i = 0; i < 3; i++) {
        int rc = rd_uint(r, c, UINT64_MAX, &v[i], "end record");
        if (rc != 0) {
            return rc;
        }
        if (v[i] != have[i]) {
            return fail(r, UV_EPROTO, at,
                        "the end record counts %llu %s, "
                        "the file holds %llu",
                        (unsigned long long)v[i], names[i],
                        (unsigned long long)have[i]);
        }
    }
    r->pos = r->rec_end;
    bool empty;
    int rc = at_end(r, &empty);
    if (rc != 0) {
        return rc;
    }
    if (!empty) {
        return fail(r, UV_EPROTO, r->data + r->pos,
                    "data after the end record");
    }
    r->status = 1;
    return 0;
}

/* Reads the next record: starts a chunk, ends the file, or skips a
 * record of a kind this version does not know. */
static int
next_record(acto_tracefile_reader *r)
{
    bool empty;
    int rc = at_end(r, &empty);
    if (rc != 0) {
        return rc;
    }
    if (empty) {
        return fail(r, UV_EOF, r->data + r->pos,
                    "the trace ends without its end record (the writer "
                    "was not closed, or the file was cut)");
    }
    rc = stream_chunk(r);
    if (rc != 1) {
        return rc;
    }
    size_t len = 0;
    r->damaged = false;
    rc = fetch(r, &len);
    if (rc < 0 && r->status < 0) {
        return rc;
    }
    if (rc < 0) {
        /* Decode what is there; the damage is reported when reached. */
        r->damaged = true;
        len = r->hi - r->pos;
    }
    r->rec_end = r->pos + len;
    cur c = {r->data + r->pos, r->data + r->rec_end};
    const uint8_t *at = c.p, *s = NULL;
    uint32_t n = 0, slen = 0;
    rc = rd_array(r, &c, false, &n, "record");
    if (rc == 0 && n == 0) {
        return fail(r, UV_EPROTO, at, "an empty record");
    }
    if (rc == 0) {
        rc = rd_str(r, &c, &s, &slen, "record tag");
    }
    if (rc != 0) {
        return rc;
    }
    if (slen == 5 && memcmp(s, ACTO__TF_TAG_CHUNK, 5) == 0) {
        rc = start_chunk(r, &c, n, at);
        r->pos = (size_t)(c.p - r->data);
        return rc;
    }
    if (slen == 3 && memcmp(s, ACTO__TF_TAG_END, 3) == 0) {
        return end_record(r, &c, n, at);
    }
    if (r->damaged) {
        return fail_with(r, &r->pending);
    }
    r->pos = r->rec_end; /* a newer kind of record: skipped */
    return 0;
}

/* ---- events ------------------------------------------------------------ */

static int
rd_actor(acto_tracefile_reader *r, cur *c, uint64_t *ref)
{
    const uint8_t *at = c->p;
    uint64_t i = 0;
    int rc = rd_uint(r, c, UINT64_MAX, &i, "actor index");
    if (rc != 0) {
        return rc;
    }
    if (i > r->n_actors) {
        return fail(r, UV_EPROTO, at,
                    "actor index %llu, but the chunk's "
                    "table has %u",
                    (unsigned long long)i, r->n_actors);
    }
    *ref = r->actors[i];
    return 0;
}

static int
rd_delta(acto_tracefile_reader *r, cur *c, uint64_t *v, const char *what)
{
    bool neg;
    return rd_int(r, c, v, &neg, what);
}

/* The fields the mask names, in its bit order. */
static int
rd_fields(acto_tracefile_reader *r, cur *c, unsigned mask, acto_trace_event *e)
{
    uint64_t v;
    int rc = 0;
    if (mask & ACTO__TF_F_ACTOR) {
        rc = rd_actor(r, c, &e->actor);
    }
    if (rc == 0 && (mask & ACTO__TF_F_PEER)) {
        rc = rd_actor(r, c, &e->peer);
    }
    if (rc == 0 && (mask & ACTO__TF_F_MSG) &&
        (rc = rd_delta(r, c, &v, "msg")) == 0) {
        uint64_t *base = e->kind == ACTO_TRACE_FUTURE ? &r->fut0 : &r->msg0;
        e->msg = *base += v;
    }
    if (rc == 0 && (mask & ACTO__TF_F_TYPE) &&
        (rc = rd_uint(r, c, UINT32_MAX, &v, "type")) == 0) {
        e->type = (uint32_t)v;
    }
    if (rc == 0 && (mask & ACTO__TF_F_ARG)) {
        const uint8_t *at = c->p;
        if ((rc = rd_delta(r, c, &v, "arg")) == 0) {
            if ((int64_t)v < INT32_MIN || (int64_t)v > INT32_MAX) {
                return fail(r, UV_EPROTO, at, "arg %lld is not an int32",
                            (long long)v);
            }
            e->arg = (uint32_t)v;
        }
    }
    if (rc == 0 && (mask & ACTO__TF_F_FLOW) &&
        (rc = rd_delta(r, c, &v, "flow")) == 0) {
        e->flow = r->flow0 += v;
    }
    if (rc == 0 && (mask & ACTO__TF_F_CAUSE) &&
        (rc = rd_delta(r, c, &v, "cause")) == 0) {
        e->cause = r->hmsg - v;
    }
    if (rc == 0 && (mask & ACTO__TF_F_FLAGS) &&
        (rc = rd_uint(r, c, UINT16_MAX, &v, "flags")) == 0) {
        e->flags = (uint16_t)v;
    }
    return rc;
}

/* The common case of rd_event without its error reporting, up to cap
 * events into out (acto__tf_fast_run). Returns how many; it stops at the
 * first event it cannot vouch for, which rd_event then decodes carefully
 * and so says what is wrong. */
static size_t
fast_run(acto_tracefile_reader *r, acto_trace_event *out, size_t cap)
{
    const uint8_t *const d = r->data;
    /* p < lim: FAST_EVENT_BYTES from p are there (and, streaming,
     * within the record limit). */
    const uint8_t *const lim = d + (r->streaming ? r->fast_lim
                                    : r->rec_end >= FAST_EVENT_BYTES
                                        ? r->rec_end - FAST_EVENT_BYTES + 1
                                        : 0);
    const uint8_t *p = d + r->pos;
    cap = cap < r->events_left ? cap : r->events_left;
    acto__tf_fast st = {
        .ts = r->ts0,
        .msg0 = r->msg0,
        .fut0 = r->fut0,
        .flow0 = r->flow0,
        .hmsg = r->hmsg,
        .lost = r->lost,
        .actors = r->actors,
        .n_actors = r->n_actors,
    };
    size_t i = acto__tf_fast_run(&p, lim, &st, out, cap);
    r->pos = (size_t)(p - d);
    r->ts0 = st.ts, r->msg0 = st.msg0, r->fut0 = st.fut0;
    r->flow0 = st.flow0, r->hmsg = st.hmsg, r->lost = st.lost;
    r->events_left -= (uint32_t)i;
    r->events += i;
    return i;
}

/* What every decoded event updates. */
static void
finish_event(acto_tracefile_reader *r, acto_trace_event *e, uint64_t dts,
             acto_trace_event *out)
{
    e->ts = r->ts0 += dts;
    if (e->kind == ACTO_TRACE_HANDLE) {
        r->hmsg = e->msg;
    }
    if (e->kind == ACTO_TRACE_LOST) {
        r->lost += e->arg;
    }
    r->events_left--;
    r->events++;
    *out = *e;
}

/* One event: [kind, ts delta, mask, fields...]. */
static int
rd_event(acto_tracefile_reader *r, acto_trace_event *out)
{
    size_t end = r->rec_end;
    bool room;
    if (r->streaming) {
        if (r->pos >= r->fast_lim) {
            /* An event needs at least a byte: none are left within the
             * limit. Otherwise buffer what the longest event needs. */
            if (r->pos - r->rec_start >= r->max_record) {
                return fail(r, UV_EPROTO, r->data + r->rec_start,
                            "a record longer than the %zu-byte limit",
                            r->max_record);
            }
            if (ensure(r, FAST_EVENT_BYTES) < 0) {
                return r->status;
            }
        }
        end = r->hi; /* the record's end is where its last event ends */
        room = r->pos < r->fast_lim;
    } else {
        room = r->rec_end - r->pos >= FAST_EVENT_BYTES;
    }
    acto_trace_event fast; /* *out is only written with a whole event */
    if (room && fast_run(r, &fast, 1) == 1) {
        *out = fast;
        return 0;
    }
    cur c = {r->data + r->pos, r->data + end};
    const uint8_t *at = c.p;
    acto_trace_event e = {0};
    uint32_t n = 0;
    uint64_t kind = 0, dts = 0, mask = 0;
    int rc = rd_array(r, &c, true, &n, "event");
    if (rc == 0 && (n < 3 || n > MAX_EVENT_FIELDS)) {
        return fail(r, UV_EPROTO, at, "an event of %u elements", n);
    }
    if (rc == 0) {
        rc = rd_uint(r, &c, UINT16_MAX, &kind, "kind");
    }
    if (rc == 0) {
        rc = rd_delta(r, &c, &dts, "ts");
    }
    if (rc == 0) {
        rc = rd_uint(r, &c, 0xFF, &mask, "field mask");
    }
    if (rc == 0 && n != 3u + acto__tf_popcount8((unsigned)mask)) {
        return fail(r, UV_EPROTO, at,
                    "an event of %u elements with field "
                    "mask 0x%02x",
                    n, (unsigned)mask);
    }
    if (rc == 0) {
        e.kind = (uint16_t)kind; /* rd_fields picks the msg base by kind */
        rc = rd_fields(r, &c, (unsigned)mask, &e);
    }
    if (rc != 0) {
        return rc;
    }
    r->pos = (size_t)(c.p - r->data);
    finish_event(r, &e, dts, out);
    return 0;
}

int
acto_tracefile_next(acto_tracefile_reader *r, acto_trace_event *out)
{
    if (r == NULL || out == NULL) {
        return ACTO_EINVAL;
    }
    while (r->status == 0) {
        if (r->in_chunk && r->events_left > 0) {
            return rd_event(r, out) == 0 ? 1 : r->status;
        }
        if (r->in_chunk) {
            end_chunk(r);
        } else {
            next_record(r);
        }
    }
    return r->status > 0 ? 0 : r->status;
}

int
acto_tracefile_next_batch(acto_tracefile_reader *r, acto_trace_event *out,
                          size_t cap, size_t *n)
{
    if (n != NULL) {
        *n = 0;
    }
    if (r == NULL || out == NULL || cap == 0 || n == NULL) {
        return ACTO_EINVAL;
    }
    size_t k = 0;
    while (r->status == 0 && k < cap) {
        if (r->in_chunk && r->events_left > 0) {
            k += fast_run(r, out + k, cap - k);
            if (k < cap && r->events_left > 0) {
                /* Buffer more, or decode carefully (and report). */
                if (rd_event(r, out + k) != 0) {
                    break;
                }
                k++;
            }
            continue;
        }
        if (k > 0) {
            break; /* names stay as next() shows them: chunk by chunk */
        }
        if (r->in_chunk) {
            end_chunk(r);
        } else {
            next_record(r);
        }
    }
    *n = k;
    if (k > 0) {
        return 1;
    }
    return r->status > 0 ? 0 : r->status;
}

/* ---- the header and opening -------------------------------------------- */

static int
copy_str(acto_tracefile_reader *r, cur *c, const char **out, size_t *size,
         const char *what)
{
    const uint8_t *s = NULL;
    uint32_t n = 0;
    int rc = rd_str(r, c, &s, &n, what);
    if (rc != 0) {
        return rc;
    }
    char *p = acto_malloc(n + 1u);
    if (p == NULL) {
        return fail(r, ACTO_ENOMEM, c->p, "out of memory");
    }
    memcpy(p, s, n);
    p[n] = '\0';
    *out = p;
    *size = n + 1u;
    return 0;
}

/* The header's fixed start, checked before walking it: an array whose
 * first element is the str "acto-trace", then the version. */
static int
check_magic(acto_tracefile_reader *r)
{
    static const uint8_t magic[] = "\xaa" ACTO__TF_MAGIC;
    while (r->hi - r->pos < 32 && !r->eof) {
        int rc = refill(r);
        if (rc < 0) {
            return rc;
        }
    }
    cur c = {r->data + r->pos, r->data + r->hi};
    if (c.p == c.end) {
        return fail(r, UV_EOF, c.p, "the file is empty");
    }
    /* An array of 2 to 65536 elements, as a header always is. */
    uint8_t b = *c.p;
    size_t hdr = b >= 0x92 && b <= 0x9f ? 1 : b == 0xdc ? 3 : b == 0xdd ? 5 : 0;
    if (hdr > (size_t)(c.end - c.p)) {
        return fail(r, UV_EOF, c.p, "the file ends inside the header");
    }
    if (hdr == 5 && be(c.p + 1, 4) > ACTO__TF_MAX_COUNT) {
        hdr = 0;
    }
    c.p += hdr;
    if (hdr == 0 || (size_t)(c.end - c.p) < sizeof(magic) - 1 ||
        memcmp(c.p, magic, sizeof(magic) - 1) != 0) {
        bool cut = (size_t)(c.end - c.p) < sizeof(magic) - 1 &&
                   c.p > r->data + r->pos &&
                   memcmp(c.p, magic, (size_t)(c.end - c.p)) == 0;
        return fail(r, cut ? UV_EOF : UV_EFTYPE, r->data + r->pos,
                    cut ? "the file ends inside the header"
                        : "not an acto trace (no \"" ACTO__TF_MAGIC
                          "\" header)");
    }
    c.p += sizeof(magic) - 1;
    const uint8_t *at = c.p;
    if (c.p == c.end) {
        return fail(r, UV_EOF, c.p, "the file ends inside the header");
    }
    uint64_t version;
    int rc = rd_uint(r, &c, UINT32_MAX, &version, "format version");
    if (rc == 0 && version != ACTO_TRACEFILE_VERSION) {
        return fail(r, UV_ENOTSUP, at,
                    "format version %llu is not supported "
                    "(this reader knows version %d)",
                    (unsigned long long)version, ACTO_TRACEFILE_VERSION);
    }
    if (rc != 0 && r->err.rc == UV_EPROTO) {
        r->err.rc = r->status = UV_EOF; /* cut inside the version */
    }
    return rc;
}

static int
read_header(acto_tracefile_reader *r)
{
    int rc = check_magic(r);
    size_t len;
    if (rc == 0 && (rc = fetch(r, &len)) < 0) {
        return r->status < 0 ? r->status : fail_with(r, &r->pending);
    }
    if (rc != 0) {
        return rc;
    }
    cur c = {r->data + r->pos, r->data + r->pos + len};
    const uint8_t *at = c.p, *s = NULL;
    uint32_t n = 0, slen = 0;
    uint64_t v = 0;
    acto_tracefile_info *i = &r->info;
    rc = rd_array(r, &c, true, &n, "header");
    if (rc == 0 && n < 7) {
        return fail(r, UV_EPROTO, at,
                    "the header has %u elements; version "
                    "1 needs 7",
                    n);
    }
    if (rc == 0 && (rc = rd_str(r, &c, &s, &slen, "magic")) == 0 &&
        (rc = rd_uint(r, &c, UINT32_MAX, &v, "version")) == 0 &&
        (rc = copy_str(r, &c, &i->clock, &r->clock_size, "clock")) == 0 &&
        (rc = rd_uint(r, &c, UINT64_MAX, &i->unix_ns, "unix_ns")) == 0 &&
        (rc = rd_uint(r, &c, UINT64_MAX, &i->clock_ns, "clock_ns")) == 0 &&
        (rc = rd_uint(r, &c, UINT64_MAX, &i->pid, "pid")) == 0) {
        i->version = (uint32_t)v;
        rc = copy_str(r, &c, &i->writer, &r->writer_size, "writer");
    }
    r->pos += len; /* elements past the seventh: newer writers' */
    return rc;
}

static acto_tracefile_reader *
reader_new(const acto_tracefile_reader_opts *opts)
{
    acto_tracefile_reader *r = acto_calloc(1, sizeof(*r));
    if (r == NULL) {
        return NULL;
    }
    size_t max = opts != NULL ? opts->max_record : 0;
    r->max_record = max == 0 ? ACTO__TF_MAX_RECORD_DEFAULT
                    : max > ACTO__TF_MAX_RECORD_CEILING
                        ? ACTO__TF_MAX_RECORD_CEILING
                        : max;
    if (r->max_record < 64) {
        r->max_record = 64;
    }
    r->fd = -1;
    return r;
}

/* Reads the header; a format error stays in the reader for next(). */
static int
finish_open(acto_tracefile_reader *r, acto_tracefile_reader **out)
{
    r->header_rc = read_header(r);
    if (r->header_rc == ACTO_ENOMEM || r->io_failed) {
        int rc = r->header_rc;
        acto_tracefile_reader_close(r);
        return rc;
    }
    *out = r;
    return 0;
}

int
acto_tracefile_reader_open_memory(const void *data, size_t len,
                                  const acto_tracefile_reader_opts *opts,
                                  acto_tracefile_reader **out)
{
    if (out == NULL || (data == NULL && len > 0)) {
        return ACTO_EINVAL;
    }
    acto_tracefile_reader *r = reader_new(opts);
    if (r == NULL) {
        return ACTO_ENOMEM;
    }
    static const uint8_t none[1];
    r->data = data != NULL ? data : none;
    r->hi = len;
    r->eof = true;
    return finish_open(r, out);
}

int
acto_tracefile_reader_open(const char *path,
                           const acto_tracefile_reader_opts *opts,
                           acto_tracefile_reader **out)
{
    if (path == NULL || out == NULL) {
        return ACTO_EINVAL;
    }
    acto_tracefile_reader *r = reader_new(opts);
    if (r == NULL) {
        return ACTO_ENOMEM;
    }
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (r->fd < 0 || fstat(r->fd, &st) != 0) {
        int rc = uv_translate_sys_error(errno);
        acto_tracefile_reader_close(r);
        return rc;
    }
    if (S_ISDIR(st.st_mode)) {
        acto_tracefile_reader_close(r);
        return UV_EISDIR;
    }
    r->cap = INITIAL_BUFFER < r->max_record ? INITIAL_BUFFER : r->max_record;
    if (st.st_size > 0 && (uint64_t)st.st_size < r->cap) {
        r->cap = (size_t)st.st_size + 1; /* + 1: see EOF in one read */
    }
    r->owned = acto_malloc(r->cap);
    if (r->owned == NULL) {
        acto_tracefile_reader_close(r);
        return ACTO_ENOMEM;
    }
    r->data = r->owned;
    return finish_open(r, out);
}

void
acto_tracefile_reader_close(acto_tracefile_reader *r)
{
    if (r == NULL) {
        return;
    }
    if (r->fd >= 0) {
        close(r->fd);
    }
    acto_free(r->owned, r->cap);
    acto_free(r->actors, r->actors_cap * sizeof(*r->actors));
    acto_free((void *)r->info.clock, r->clock_size);
    acto_free((void *)r->info.writer, r->writer_size);
    free_names(&r->actor_names);
    free_names(&r->type_names);
    acto_free(r, sizeof(*r));
}

/* ---- accessors --------------------------------------------------------- */

const char *
acto_tracefile_error(const acto_tracefile_reader *r)
{
    return r != NULL && r->status < 0 ? r->err.text : "";
}

uint64_t
acto_tracefile_error_offset(const acto_tracefile_reader *r)
{
    return r != NULL && r->status < 0 ? r->err.off : 0;
}

int
acto_tracefile_info_get(const acto_tracefile_reader *r,
                        acto_tracefile_info *out)
{
    if (r == NULL || out == NULL) {
        return ACTO_EINVAL;
    }
    if (r->header_rc != 0) {
        *out = (acto_tracefile_info){0};
        return r->header_rc;
    }
    *out = r->info;
    return 0;
}

static const char *
lookup(const acto__tf_map *m, uint64_t key)
{
    uint64_t v;
    if (key == 0 || !acto__tf_map_get(m, key, &v)) {
        return NULL;
    }
    return ((const name_block *)(uintptr_t)v)->s;
}

const char *
acto_tracefile_actor_name(const acto_tracefile_reader *r, acto_ref actor)
{
    return r != NULL ? lookup(&r->actor_names, actor.id) : NULL;
}

const char *
acto_tracefile_type_name(const acto_tracefile_reader *r, uint32_t type)
{
    return r != NULL ? lookup(&r->type_names, (uint64_t)type + 1) : NULL;
}

uint64_t
acto_tracefile_lost(const acto_tracefile_reader *r)
{
    return r != NULL ? r->lost : 0;
}

uint64_t
acto_tracefile_events_read(const acto_tracefile_reader *r)
{
    return r != NULL ? r->events : 0;
}
