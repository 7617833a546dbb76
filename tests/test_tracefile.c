/* The trace file: writer, reader, the format's size target, and a reader
 * that survives every truncation, random corruption and hostile input. */
#include "acto_test.h"

#include <acto/tracefile.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <msgpack.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- helpers ----------------------------------------------------------- */

static char tmpdir[64];

static int
group_setup(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/acto-tracefile-XXXXXX");
    return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int
group_teardown(void **state)
{
    (void)state;
    DIR *d = opendir(tmpdir);
    struct dirent *de;
    char path[512];
    while (d != NULL && (de = readdir(d)) != NULL) {
        if (de->d_name[0] != '.') {
            snprintf(path, sizeof(path), "%s/%s", tmpdir, de->d_name);
            unlink(path);
        }
    }
    if (d != NULL) {
        closedir(d);
    }
    rmdir(tmpdir);
    return 0;
}

static const char *
tmp_path(const char *name)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    return path;
}

static uint64_t rng_state;

static uint64_t
rng(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static acto_tracefile_stats last_stats;
static int closes;

static void
on_close(const acto_tracefile_stats *st, void *user)
{
    (void)user;
    last_stats = *st;
    closes++;
}

/* Writes events to path in batches of batch, then closes the sink. */
static void
write_events(const char *path, const acto_trace_event *ev, size_t n,
             size_t batch, const acto_tracefile_opts *opts)
{
    acto_tracefile_opts o = opts != NULL ? *opts : (acto_tracefile_opts){0};
    o.on_close = on_close;
    acto_trace_sink sink;
    assert_acto_ok(acto_tracefile_open(path, &o, &sink));
    for (size_t i = 0; i < n; i += batch) {
        size_t k = n - i < batch ? n - i : batch;
        assert_acto_ok(sink.write(ev + i, k, sink.user));
    }
    int before = closes;
    sink.close(sink.user);
    assert_int_equal(closes, before + 1);
    assert_acto_ok(last_stats.status);
}

/* The file's bytes, from malloc (the caller frees). */
static uint8_t *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc((size_t)n + 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return p;
}

static void
assert_event_equal(const acto_trace_event *a, const acto_trace_event *b,
                   size_t i)
{
    if (memcmp(a, b, sizeof(*a)) != 0) {
        fail_msg("event %zu differs: kind %u/%u ts %llu/%llu msg %llu/%llu "
                 "flow %llu/%llu cause %llu/%llu actor %llx/%llx "
                 "peer %llx/%llx type %u/%u arg %u/%u flags %u/%u",
                 i, a->kind, b->kind, (unsigned long long)a->ts,
                 (unsigned long long)b->ts, (unsigned long long)a->msg,
                 (unsigned long long)b->msg, (unsigned long long)a->flow,
                 (unsigned long long)b->flow, (unsigned long long)a->cause,
                 (unsigned long long)b->cause, (unsigned long long)a->actor,
                 (unsigned long long)b->actor, (unsigned long long)a->peer,
                 (unsigned long long)b->peer, a->type, b->type, a->arg, b->arg,
                 a->flags, b->flags);
    }
}

/* Reads r to its end, checking each event against want[0..n). Returns
 * the final code and the number of events read. */
static int
read_check(acto_tracefile_reader *r, const acto_trace_event *want, size_t n,
           size_t *got)
{
    acto_trace_event e;
    int rc;
    size_t i = 0;
    while ((rc = acto_tracefile_next(r, &e)) == 1) {
        if (i >= n) {
            fail_msg("more events than written");
        }
        assert_event_equal(&e, &want[i], i);
        i++;
    }
    *got = i;
    return rc;
}

/* An error must say where: "offset N: ...". */
static void
assert_error_has_offset(const acto_tracefile_reader *r)
{
    const char *msg = acto_tracefile_error(r);
    if (strncmp(msg, "offset ", 7) != 0) {
        fail_msg("error without an offset: '%s'", msg);
    }
}

static acto_trace_event
ev(uint16_t kind, uint64_t ts, uint64_t actor, uint64_t peer, uint64_t msg,
   uint32_t type, uint32_t arg, uint64_t flow, uint64_t cause)
{
    return (acto_trace_event){.kind = kind,
                              .ts = ts,
                              .actor = actor,
                              .peer = peer,
                              .msg = msg,
                              .type = type,
                              .arg = arg,
                              .flow = flow,
                              .cause = cause};
}

#define REF(gen, slot) (((uint64_t)(gen) << 32) | (uint64_t)(slot))

/* ---- round trips ------------------------------------------------------- */

static void
test_tracefile_round_trips_every_kind(void **state)
{
    (void)state;
    const uint64_t a = REF(1, 3), b = REF(7, 4), sup = (5ull << 56) | 9;
    acto_trace_event want[] = {
        ev(ACTO_TRACE_SPAWN, 1000, a, sup, 0, 0, 0, 0, 0),
        ev(ACTO_TRACE_SPAWN, 1000, b, a, 0, 0, 0, 0, 0),
        ev(ACTO_TRACE_SEND, 1010, 0, a, 1, 7, 1, 1, 0),
        ev(ACTO_TRACE_HANDLE, 1020, a, 0, 1, 7, 0, 1, 0),
        ev(ACTO_TRACE_SEND, 1030, a, b, 2, 8, 3, 1, 1),
        ev(ACTO_TRACE_PARK, 1031, a, b, 3, 0, 0, 1, 1),
        ev(ACTO_TRACE_UNPARK, 1500, a, b, 3, 0, 0, 1, 1),
        ev(ACTO_TRACE_HANDLED, 1600, a, 0, 1, 0, (uint32_t)ACTO_EINVAL, 1, 0),
        ev(ACTO_TRACE_FAIL, 1600, a, 0, 1, 0, (uint32_t)ACTO_EFAILED, 1, 0),
        ev(ACTO_TRACE_STOP, 1601, a, 0, 0, 0, 3, 0, 0),
        ev(ACTO_TRACE_RESTART, 1700, REF(2, 3), sup, 0, 0, 0, 1, 1),
        ev(ACTO_TRACE_FUTURE, 1800, 0, 0, 77, 0, 2, 0, 2),
        ev(ACTO_TRACE_TIMER_SET, 1900, b, 0, 4, 9, UINT32_MAX, 0, 2),
        ev(ACTO_TRACE_TIMER_FIRE, 900, 0, b, 4, 9, 0, 4, 0), /* ts back */
        ev(ACTO_TRACE_DEAD, 2000, 0, a, 5, 8, 0, 1, 2),
        ev(ACTO_TRACE_DROP, 2001, 0, b, 6, 8, 0, 1, 2),
        ev(ACTO_TRACE_LOST, 2002, 0, 0, 0, 0, 12345, 0, 0),
        /* A kind this version does not know, every field at its extreme. */
        {.kind = 999,
         .ts = UINT64_MAX,
         .flow = UINT64_MAX,
         .msg = UINT64_MAX,
         .cause = 1,
         .actor = UINT64_MAX,
         .peer = 1,
         .type = UINT32_MAX,
         .arg = 0x80000000u,
         .flags = UINT16_MAX},
        {.kind = UINT16_MAX, .ts = 0, .msg = 1, .cause = UINT64_MAX},
        {.kind = ACTO_TRACE_SEND},
    };
    size_t n = sizeof(want) / sizeof(want[0]);
    const char *path = tmp_path("kinds.acto");
    write_events(path, want, n, 3, NULL);
    assert_int_equal(last_stats.events, n);
    assert_int_equal(last_stats.lost, 12345);

    acto_tracefile_reader *r;
    assert_acto_ok(acto_tracefile_reader_open(path, NULL, &r));
    acto_tracefile_info info;
    assert_acto_ok(acto_tracefile_info_get(r, &info));
    assert_int_equal(info.version, ACTO_TRACEFILE_VERSION);
    assert_string_equal(info.clock, "monotonic-ns");
    assert_int_equal(info.pid, (uint64_t)getpid());
    assert_true(info.unix_ns > 1600000000ull * 1000000000ull);
    assert_true(strncmp(info.writer, "acto ", 5) == 0);
    size_t got;
    assert_int_equal(read_check(r, want, n, &got), 0);
    assert_int_equal(got, n);
    assert_int_equal(acto_tracefile_lost(r), 12345);
    assert_int_equal(acto_tracefile_events_read(r), n);
    assert_string_equal(acto_tracefile_error(r), "");
    acto_trace_event e;
    assert_int_equal(acto_tracefile_next(r, &e), 0); /* stays at the end */
    acto_tracefile_reader_close(r);
}

static void
test_tracefile_pad_is_not_stored(void **state)
{
    (void)state;
    acto_trace_event e = ev(ACTO_TRACE_SEND, 5, 1, 2, 3, 4, 5, 6, 7);
    e.pad = 0xdeadbeef;
    const char *path = tmp_path("pad.acto");
    write_events(path, &e, 1, 1, NULL);
    acto_tracefile_reader *r;
    assert_acto_ok(acto_tracefile_reader_open(path, NULL, &r));
    acto_trace_event got;
    assert_int_equal(acto_tracefile_next(r, &got), 1);
    e.pad = 0;
    assert_event_equal(&got, &e, 0);
    acto_tracefile_reader_close(r);
}

static void
test_tracefile_records_names(void **state)
{
    (void)state;
    const char *path = tmp_path("names.acto");
    acto_trace_sink sink;
    acto_tracefile_opts o = {.on_close = on_close, .flush_ms = -1};
    assert_acto_ok(acto_tracefile_open(path, &o, &sink));
    char longname[3000];
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    sink.name((acto_ref){REF(1, 1)}, "pinger", sink.user);
    sink.name((acto_ref){REF(1, 2)}, "ponger", sink.user);
    sink.name((acto_ref){REF(1, 3)}, longname, sink.user);
    sink.name((acto_ref){0}, "nobody", sink.user); /* ignored */
    assert_acto_ok(acto_tracefile_name_type(&sink, 7, "Ping"));
    assert_acto_ok(acto_tracefile_name_type(&sink, 0, "Zero"));
    assert_acto_ok(acto_tracefile_name_type(&sink, UINT32_MAX, "Max"));
    acto_trace_event e =
        ev(ACTO_TRACE_SEND, 1, REF(1, 1), REF(1, 2), 1, 7, 0, 1, 0);
    assert_acto_ok(sink.write(&e, 1, sink.user));
    /* A later name wins; names may come in any chunk. */
    sink.name((acto_ref){REF(1, 2)}, "ponger-2", sink.user);
    acto_trace_sink fake = sink;
    fake.write = NULL;
    assert_acto_err(acto_tracefile_name_type(&fake, 1, "x"), ACTO_EINVAL);
    assert_acto_err(acto_tracefile_name_type(&sink, 1, NULL), ACTO_EINVAL);
    sink.close(sink.user);
    assert_acto_ok(last_stats.status);
    assert_int_equal(last_stats.chunks, 2);

    acto_tracefile_reader *r;
    assert_acto_ok(acto_tracefile_reader_open(path, NULL, &r));
    size_t got;
    assert_int_equal(read_check(r, &e, 1, &got), 0);
    assert_string_equal(acto_tracefile_actor_name(r, (acto_ref){REF(1, 1)}),
                        "pinger");
    assert_string_equal(acto_tracefile_actor_name(r, (acto_ref){REF(1, 2)}),
                        "ponger-2");
    const char *l = acto_tracefile_actor_name(r, (acto_ref){REF(1, 3)});
    assert_non_null(l);
    assert_int_equal(strlen(l), 1024);
    assert_null(acto_tracefile_actor_name(r, (acto_ref){REF(1, 4)}));
    assert_null(acto_tracefile_actor_name(r, (acto_ref){0}));
    assert_string_equal(acto_tracefile_type_name(r, 7), "Ping");
    assert_string_equal(acto_tracefile_type_name(r, 0), "Zero");
    assert_string_equal(acto_tracefile_type_name(r, UINT32_MAX), "Max");
    assert_null(acto_tracefile_type_name(r, 8));
    acto_tracefile_reader_close(r);
}

static void
test_tracefile_counts_lost_events(void **state)
{
    (void)state;
    acto_trace_event want[300];
    uint64_t lost = 0;
    for (size_t i = 0; i < 300; i++) {
        if (i % 10 == 9) {
            uint32_t k = (uint32_t)(i * 1000 + 1);
            want[i] = ev(ACTO_TRACE_LOST, i * 100, 0, 0, 0, 0, k, 0, 0);
            lost += k;
        } else {
            want[i] = ev(ACTO_TRACE_SEND, i * 100, REF(1, 1), REF(1, 2), i + 1,
                         1, 1, 1, i);
        }
    }
    const char *path = tmp_path("lost.acto");
    acto_tracefile_opts o = {.chunk_events = 32};
    write_events(path, want, 300, 50, &o);
    assert_int_equal(last_stats.lost, lost);
    assert_true(last_stats.chunks >= 300 / 32);
    acto_tracefile_reader *r;
    assert_acto_ok(acto_tracefile_reader_open(path, NULL, &r));
    acto_trace_event e;
    uint64_t seen = 0;
    for (size_t i = 0; i < 300; i++) {
        assert_int_equal(acto_tracefile_next(r, &e), 1);
        if (e.kind == ACTO_TRACE_LOST) {
            seen += e.arg;
        }
        assert_int_equal(acto_tracefile_lost(r), seen);
    }
    assert_int_equal(acto_tracefile_next(r, &e), 0);
    assert_int_equal(acto_tracefile_lost(r), lost);
    acto_tracefile_reader_close(r);
}

/* ---- realistic sequences ----------------------------------------------- */

/* A ping-pong between two actors, with the fields the runtime fills:
 * each turn is HANDLE (peer: the sender; cause: the message handled when
 * it was sent), SEND (arg: the receiver's mailbox depth), HANDLED (type,
 * flow, result); timestamps 20-80 ns apart or shared; one flow. */
static size_t
make_pingpong(acto_trace_event *out, size_t n)
{
    const uint64_t actors[2] = {REF(1, 1), REF(1, 2)};
    uint64_t ts = 1000000000ull + rng() % 1000000, msg = 1000, cause = 999;
    size_t i = 0;
    int who = 0;
    while (i + 3 <= n) {
        uint64_t me = actors[who], other = actors[!who];
        uint32_t type = (uint32_t)(1 + who);
        out[i++] =
            ev(ACTO_TRACE_HANDLE, ts, me, other, msg, type, 0, 1000, cause);
        ts += rng() % 3 == 0 ? 0 : 20 + rng() % 60;
        out[i++] =
            ev(ACTO_TRACE_SEND, ts, me, other, msg + 1, 3 - type, 1, 1000, msg);
        ts += rng() % 3 == 0 ? 0 : 20 + rng() % 60;
        out[i++] = ev(ACTO_TRACE_HANDLED, ts, me, 0, msg, type, 0, 1000, 0);
        ts += 20 + rng() % 60;
        cause = msg;
        msg++;
        who = !who;
    }
    return i;
}

/* A pipeline as the runtime traces it: a source actor that, handling a
 * demand message, sends as many items as its stage-1 mailbox (64) has
 * room for (they share the demand's flow), 4 stages and a sink that each
 * handle their whole mailbox in a turn (HANDLE, SEND on, HANDLED), and
 * now and then the source parking on a full mailbox. */
static size_t
make_pipeline(acto_trace_event *out, size_t n)
{
    enum { STAGES = 6, CAP = 64 };
    typedef struct item {
        uint64_t msg, flow, cause;
    } item;
    static item q[STAGES][CAP];
    size_t qlen[STAGES] = {0};
    uint64_t actors[STAGES];
    for (int s = 0; s < STAGES; s++) {
        actors[s] = REF(3, 10 + s);
    }
    uint64_t ts = 5000000000ull, next_msg = 1, prev_demand = 0;
    size_t i = 0;
    while (i + 3 * CAP * STAGES + 16 <= n) {
        /* The source's turn. */
        uint64_t d = next_msg++;
        out[i++] = ev(ACTO_TRACE_HANDLE, ts, actors[0], actors[1], d, 99, 0, d,
                      prev_demand);
        for (size_t room = CAP - qlen[1]; room > 0; room--) {
            uint64_t m = next_msg++;
            out[i++] = ev(ACTO_TRACE_SEND, ts, actors[0], actors[1], m, 10,
                          (uint32_t)qlen[1] + 1, d, d);
            q[1][qlen[1]++] = (item){m, d, d};
            ts += 15 + rng() % 30;
        }
        if (rng() % 4 == 0) {
            out[i++] = ev(ACTO_TRACE_PARK, ts, actors[0], actors[1], next_msg,
                          0, 0, d, d);
            out[i++] = ev(ACTO_TRACE_UNPARK, ts + 500, actors[0], actors[1],
                          next_msg, 0, 0, d, d);
            ts += 600;
        }
        out[i++] = ev(ACTO_TRACE_HANDLED, ts, actors[0], 0, d, 99, 0, d, 0);
        prev_demand = d;
        /* Each stage in turn handles its whole mailbox. */
        for (int s = 1; s < STAGES; s++) {
            for (size_t k = 0; k < qlen[s]; k++) {
                item it = q[s][k];
                uint32_t type = (uint32_t)(9 + s);
                out[i++] = ev(ACTO_TRACE_HANDLE, ts, actors[s], actors[s - 1],
                              it.msg, type, 0, it.flow, it.cause);
                ts += 10 + rng() % 40;
                if (s + 1 < STAGES) {
                    uint64_t m2 = next_msg++;
                    size_t dep = qlen[s + 1];
                    out[i++] =
                        ev(ACTO_TRACE_SEND, ts, actors[s], actors[s + 1], m2,
                           type + 1, (uint32_t)dep + 1, it.flow, it.msg);
                    q[s + 1][qlen[s + 1]++] = (item){m2, it.flow, it.msg};
                }
                out[i++] = ev(ACTO_TRACE_HANDLED, ts, actors[s], 0, it.msg,
                              type, 0, it.flow, 0);
                ts += 10 + rng() % 40;
            }
            qlen[s] = 0;
        }
    }
    return i;
}

static double
bytes_per_event(const char *name, const acto_trace_event *e, size_t n)
{
    const char *path = tmp_path(name);
    write_events(path, e, n, 4096, NULL);
    double per = (double)last_stats.bytes / (double)last_stats.events;
    print_message("%s: %zu events, %llu bytes in %llu chunks: %.2f bytes "
                  "per event (%.2f in the events alone)\n",
                  name, n, (unsigned long long)last_stats.bytes,
                  (unsigned long long)last_stats.chunks, per,
                  (double)last_stats.event_bytes / (double)last_stats.events);
    /* And it reads back exactly. */
    acto_tracefile_reader *r;
    assert_acto_ok(acto_tracefile_reader_open(path, NULL, &r));
    size_t got;
    assert_int_equal(read_check(r, e, n, &got), 0);
    assert_int_equal(got, n);
    acto_tracefile_reader_close(r);
    return per;
}

static void
test_tracefile_stays_under_24_bytes_per_event(void **state)
{
    (void)state;
    size_t cap = 1u << 20;
    acto_trace_event *e = malloc(cap * sizeof(*e));
    assert_non_null(e);
    rng_state = 42;
    size_t n = make_pingpong(e, cap);
    assert_true(bytes_per_event("pingpong.acto", e, n) <= 24.0);
    n = make_pipeline(e, cap);
    assert_true(bytes_per_event("pipeline.acto", e, n) <= 24.0);
    free(e);
}

/* ---- large batches, streaming, speed ----------------------------------- */

static void
random_events(acto_trace_event *e, size_t n)
{
    uint64_t ts = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t x = rng();
        ts += x % 200;
        e[i] =
            (acto_trace_event){.kind = (uint16_t)(1 + x % 15),
                               .ts = ts,
                               .msg = x % 3 ? i + 1 : rng(),
                               .flow = x % 5 ? i / 10 + 1 : 0,
                               .cause = x % 7 ? i : rng() % 3,
                               .actor = x % 11 ? REF(1, rng() % 300) : rng(),
                               .peer = x % 13 ? REF(1, rng() % 300) : 0,
                               .type = (uint32_t)(x % 17 ? rng() % 20 : rng()),
                               .arg = (uint32_t)(x % 19 ? rng() % 100 : rng()),
                               .flags = (uint16_t)(x % 23 ? 0 : rng())};
    }
}

static double
seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
test_tracefile_round_trips_large_batches(void **state)
{
    (void)state;
    size_t n = 1000000;
    acto_trace_event *e = malloc(n * sizeof(*e));
    assert_non_null(e);
    rng_state = 7;
    random_events(e, n);
    const size_t batches[] = {1, 7, 1000, 65536, 1000000};
    const char *path = tmp_path("large.acto");
    for (size_t b = 0; b < sizeof(batches) / sizeof(batches[0]); b++) {
        size_t count = batches[b] == 1 ? 20000 : n; /* 1: slow, fewer */
        acto_tracefile_opts o = {.chunk_bytes = b % 2 ? 4096 : 0,
                                 .flush_ms = b == 2 ? -1 : 0};
        write_events(path, e, count, batches[b], &o);
        assert_int_equal(last_stats.events, count);
        /* A file reader with a small buffer streams it. */
        acto_tracefile_reader_opts ro = {.max_record = 1u << 20};
        acto_tracefile_reader *r;
        assert_acto_ok(acto_tracefile_reader_open(path, &ro, &r));
        size_t got;
        assert_int_equal(read_check(r, e, count, &got), 0);
        assert_int_equal(got, count);
        acto_tracefile_reader_close(r);
    }
    free(e);
}

static void
test_tracefile_measures_decode_speed(void **state)
{
    (void)state;
    size_t cap = 1u << 21;
    acto_trace_event *e = malloc(cap * sizeof(*e));
    assert_non_null(e);
    rng_state = 9;
    size_t n = make_pipeline(e, cap);
    const char *path = tmp_path("speed.acto");
    double t0 = seconds();
    write_events(path, e, n, 4096, NULL);
    double t1 = seconds();
    size_t len;
    uint8_t *data = slurp(path, &len);
    acto_tracefile_reader *r;
    double best = 1e9;
    for (int round = 0; round < 3; round++) {
        double t2 = seconds();
        assert_acto_ok(acto_tracefile_reader_open_memory(data, len, NULL, &r));
        acto_trace_event x;
        size_t got = 0;
        uint64_t sum = 0;
        while (acto_tracefile_next(r, &x) == 1) {
            got++;
            sum += x.msg;
        }
        double t3 = seconds();
        assert_int_equal(got, n);
        assert_true(sum != 0);
        acto_tracefile_reader_close(r);
        best = t3 - t2 < best ? t3 - t2 : best;
    }
    print_message("%zu events: encoded and written at %.1fM events/s, decoded "
                  "at %.1fM events/s (from memory)\n",
                  n, (double)n / (t1 - t0) / 1e6, (double)n / best / 1e6);
    free(data);
    free(e);
}

static void
test_tracefile_limits_record_size(void **state)
{
    (void)state;
    size_t n = 20000;
    acto_trace_event *e = malloc(n * sizeof(*e));
    assert_non_null(e);
    rng_state = 3;
    random_events(e, n);
    const char *path = tmp_path("big-chunks.acto");
    acto_tracefile_opts o = {.chunk_bytes = 1u << 20};
    write_events(path, e, n, n, &o);
    acto_tracefile_reader_opts ro = {.max_record = 16384};
    acto_tracefile_reader *r;
    assert_acto_ok(acto_tracefile_reader_open(path, &ro, &r));
    /* A chunk is decoded in a single pass: the events of the first chunk
     * that lie within the limit are returned (correct, as read_check
     * checks), then the error; never more than fit in 16384 bytes. */
    size_t got;
    assert_acto_err(read_check(r, e, n, &got), UV_EPROTO);
    assert_true(got < 16384 / 4);
    assert_error_has_offset(r);
    assert_non_null(strstr(acto_tracefile_error(r), "16384-byte limit"));
    acto_tracefile_reader_close(r);
    /* The same from memory. */
    size_t len;
    uint8_t *data = slurp(path, &len);
    assert_acto_ok(acto_tracefile_reader_open_memory(data, len, &ro, &r));
    assert_acto_err(read_check(r, e, n, &got), UV_EPROTO);
    assert_true(got < 16384 / 4);
    assert_error_has_offset(r);
    assert_non_null(strstr(acto_tracefile_error(r), "16384-byte limit"));
    acto_tracefile_reader_close(r);
    free(data);
    free(e);
}

/* ---- damaged input ----------------------------------------------------- */

/* A small valid file of three chunks with names. */
static uint8_t *
small_file(acto_trace_event *want, size_t *n, size_t *len)
{
    rng_state = 11;
    *n = make_pingpong(want, 24);
    want[4] = ev(ACTO_TRACE_LOST, want[4].ts, 0, 0, 0, 0, 3, 0, 0);
    const char *path = tmp_path("small.acto");
    acto_trace_sink sink;
    acto_tracefile_opts o = {.chunk_events = 9, .flush_ms = -1};
    assert_acto_ok(acto_tracefile_open(path, &o, &sink));
    sink.name((acto_ref){REF(1, 1)}, "pinger", sink.user);
    assert_acto_ok(sink.write(want, 10, sink.user));
    sink.name((acto_ref){REF(1, 2)}, "ponger", sink.user);
    assert_acto_ok(sink.write(want + 10, *n - 10, sink.user));
    sink.close(sink.user);
    return slurp(path, len);
}

static void
test_tracefile_reader_survives_every_truncation(void **state)
{
    (void)state;
    acto_trace_event want[32];
    size_t n, len;
    uint8_t *full = small_file(want, &n, &len);
    size_t max_got = 0;
    const char *path = tmp_path("cut.acto");
    for (size_t cut = 0; cut <= len; cut++) {
        for (int from_file = 0; from_file < 2; from_file++) {
            acto_tracefile_reader *r;
            if (from_file) {
                FILE *f = fopen(path, "wb");
                assert_non_null(f);
                assert_int_equal(fwrite(full, 1, cut, f), cut);
                fclose(f);
                assert_acto_ok(acto_tracefile_reader_open(path, NULL, &r));
            } else {
                /* A copy of exactly cut bytes, so ASan sees any overread. */
                uint8_t *copy = malloc(cut + 1);
                memcpy(copy, full, cut);
                assert_acto_ok(
                    acto_tracefile_reader_open_memory(copy, cut, NULL, &r));
                size_t got;
                int rc = read_check(r, want, n, &got);
                if (cut == len) {
                    assert_int_equal(rc, 0);
                    assert_int_equal(got, n);
                } else {
                    assert_true(rc < 0);
                    assert_error_has_offset(r);
                    assert_true(acto_tracefile_error_offset(r) <= cut);
                }
                max_got = got > max_got && cut < len ? got : max_got;
                acto_tracefile_reader_close(r);
                free(copy);
                continue;
            }
            size_t got;
            int rc = read_check(r, want, n, &got);
            assert_true(cut == len ? rc == 0 : rc < 0);
            if (rc < 0) {
                assert_error_has_offset(r);
            }
            acto_tracefile_reader_close(r);
        }
    }
    /* Events of a cut chunk are returned: all but the last event at
     * least once the cut falls inside the last event. */
    assert_int_equal(max_got, n);
    free(full);
}

static void
test_tracefile_reader_names_the_truncation(void **state)
{
    (void)state;
    acto_trace_event want[32];
    size_t n, len;
    uint8_t *full = small_file(want, &n, &len);
    acto_tracefile_reader *r;
    /* Cut in the middle of the file: some events, then UV_EOF. */
    assert_acto_ok(acto_tracefile_reader_open_memory(full, len / 2, NULL, &r));
    size_t got;
    assert_acto_err(read_check(r, want, n, &got), UV_EOF);
    assert_true(got > 0 && got < n);
    print_message("cut at %zu of %zu: %zu of %zu events, then '%s'\n", len / 2,
                  len, got, n, acto_tracefile_error(r));
    acto_tracefile_reader_close(r);
    /* Without only its end record: every event, then UV_EOF. */
    assert_acto_ok(acto_tracefile_reader_open_memory(full, len - 1, NULL, &r));
    assert_acto_err(read_check(r, want, n, &got), UV_EOF);
    assert_int_equal(got, n);
    acto_tracefile_reader_close(r);
    free(full);
}

static void
test_tracefile_reader_survives_random_corruption(void **state)
{
    (void)state;
    acto_trace_event want[32];
    size_t n, len;
    uint8_t *full = small_file(want, &n, &len);
    uint8_t *copy = malloc(len);
    rng_state = 20240601;
    int outcomes[3] = {0}; /* clean end, error, events only differ */
    for (int iter = 0; iter < 20000; iter++) {
        memcpy(copy, full, len);
        int flips = 1 + (int)(rng() % 4);
        for (int k = 0; k < flips; k++) {
            size_t at = rng() % len;
            copy[at] = iter % 3 == 0 ? (uint8_t)(copy[at] ^ (1u << (rng() % 8)))
                                     : (uint8_t)rng();
        }
        acto_tracefile_reader *r;
        assert_acto_ok(acto_tracefile_reader_open_memory(copy, len, NULL, &r));
        acto_trace_event e;
        int rc;
        while ((rc = acto_tracefile_next(r, &e)) == 1) {
        }
        if (rc < 0) {
            assert_error_has_offset(r);
            assert_true(acto_tracefile_error_offset(r) <= len);
        }
        outcomes[rc == 0 ? 0 : 1]++;
        acto_tracefile_reader_close(r);
    }
    print_message("20000 corrupted files: %d read to the end record, %d "
                  "errors\n",
                  outcomes[0], outcomes[1]);
    /* Random bytes, too. */
    for (int iter = 0; iter < 2000; iter++) {
        size_t l = rng() % len;
        for (size_t k = 0; k < l; k++) {
            copy[k] = (uint8_t)rng();
        }
        if (iter % 2 == 0 && l > 12) {
            memcpy(copy, full, 12); /* past the magic */
        }
        acto_tracefile_reader *r;
        assert_acto_ok(acto_tracefile_reader_open_memory(copy, l, NULL, &r));
        acto_trace_event e;
        while (acto_tracefile_next(r, &e) == 1) {
        }
        acto_tracefile_reader_close(r);
    }
    free(copy);
    free(full);
}

/* Packs with msgpack-c (trusted, test-made input) into sb. */
static void
pack_header(msgpack_packer *pk, uint32_t version)
{
    msgpack_pack_array(pk, 7);
    msgpack_pack_str_with_body(pk, "acto-trace", 10);
    msgpack_pack_uint32(pk, version);
    msgpack_pack_str_with_body(pk, "monotonic-ns", 12);
    msgpack_pack_uint64(pk, 1);
    msgpack_pack_uint64(pk, 2);
    msgpack_pack_uint64(pk, 3);
    msgpack_pack_str_with_body(pk, "test", 4);
}

static void
pack_chunk_head(msgpack_packer *pk, uint64_t seq, uint32_t n_events)
{
    msgpack_pack_array(pk, 6);
    msgpack_pack_str_with_body(pk, "chunk", 5);
    msgpack_pack_uint64(pk, seq);
    msgpack_pack_uint64(pk, 0);
    msgpack_pack_array(pk, 1);
    msgpack_pack_uint64(pk, REF(1, 1));
    msgpack_pack_array(pk, 0);
    msgpack_pack_array(pk, n_events);
}

static void
pack_event(msgpack_packer *pk, uint64_t dts)
{
    msgpack_pack_array(pk, 4);
    msgpack_pack_uint32(pk, ACTO_TRACE_HANDLE);
    msgpack_pack_uint64(pk, dts);
    msgpack_pack_uint32(pk, 1); /* mask: actor */
    msgpack_pack_uint32(pk, 1);
}

/* Reads buf to the end; returns the code, with the event count and the
 * error text. */
static int
read_buf(const void *buf, size_t len, size_t *events, char *err, size_t n)
{
    acto_tracefile_reader *r;
    assert_acto_ok(acto_tracefile_reader_open_memory(buf, len, NULL, &r));
    acto_trace_event e;
    int rc;
    *events = 0;
    while ((rc = acto_tracefile_next(r, &e)) == 1) {
        ++*events;
    }
    snprintf(err, n, "%s", acto_tracefile_error(r));
    if (rc < 0) {
        assert_error_has_offset(r);
    }
    acto_tracefile_reader_close(r);
    return rc;
}

static void
expect(const void *buf, size_t len, int want_rc, size_t want_events,
       const char *want_text)
{
    size_t events;
    char err[256];
    int rc = read_buf(buf, len, &events, err, sizeof(err));
    if (rc != want_rc || events != want_events ||
        strstr(err, want_text) == NULL) {
        fail_msg("got %s, %zu events, '%s'; want %s, %zu events, '%s'",
                 acto_err_name(rc), events, err, acto_err_name(want_rc),
                 want_events, want_text);
    }
}

static void
test_tracefile_reader_rejects_hostile_input(void **state)
{
    (void)state;
    /* msgpack-c's famous 5 bytes (32 GiB from its unpacker). */
    expect("\xdd\x42\x7f\xff\x1e", 5, UV_EFTYPE, 0, "not an acto trace");
    expect("", 0, UV_EOF, 0, "offset 0: the file is empty");
    expect("hello, world", 12, UV_EFTYPE, 0, "not an acto trace");
    expect("\x97\xaa"
           "acto-tr",
           9, UV_EOF, 0, "ends inside the header");

    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);

    /* An unknown version. */
    pack_header(&pk, 2);
    expect(sb.data, sb.size, UV_ENOTSUP, 0,
           "offset 12: format version 2 is not supported");
    msgpack_sbuffer_clear(&sb);

    /* A chunk whose events array claims 4,000,000 events. */
    pack_header(&pk, 1);
    size_t hdr = sb.size;
    pack_chunk_head(&pk, 0, 2);
    pack_event(&pk, 5);
    pack_event(&pk, 6);
    size_t good = sb.size;
    msgpack_pack_array(&pk, 4);
    msgpack_pack_str_with_body(&pk, "end", 3);
    msgpack_pack_uint64(&pk, 1);
    msgpack_pack_uint64(&pk, 2);
    msgpack_pack_uint64(&pk, 0);
    expect(sb.data, sb.size, 0, 2, ""); /* valid as built */
    char *bad = malloc(sb.size + 64);
    memcpy(bad, sb.data, sb.size);
    size_t ev_at = good - 2 * 5 - 1; /* the events array header */
    assert_int_equal((uint8_t)bad[ev_at], 0x92);
    uint8_t huge[] = {0xdd, 0x00, 0x3d, 0x09, 0x00}; /* 4,000,000 */
    memcpy(bad + ev_at, huge, sizeof(huge));
    memcpy(bad + ev_at + 5, sb.data + ev_at + 1, good - ev_at - 1);
    expect(bad, good + 4, UV_EPROTO, 0, "array count 4000000 exceeds");
    /* A count within the limit but past the end: a cut file. */
    uint8_t many[] = {0xdc, 0x10, 0x00}; /* 4096 */
    memcpy(bad + ev_at, many, sizeof(many));
    memcpy(bad + ev_at + 3, sb.data + ev_at + 1, good - ev_at - 1);
    expect(bad, good + 2, UV_EOF, 2, "array count 4096 exceeds the");

    /* Nesting bombs, ext types, 0xc1, floats where ints go. */
    memcpy(bad, sb.data, hdr);
    memset(bad + hdr, 0x91, 40);
    memcpy(bad + hdr, "\x92\xa1x", 3); /* ["x", [[[[...]]]]] */
    expect(bad, hdr + 40, UV_EPROTO, 0, "nesting deeper than 16");
    bad[hdr] = (char)0xc7;
    expect(bad, hdr + 40, UV_EPROTO, 0, "ext type 0xc7");
    bad[hdr] = (char)0xc1;
    expect(bad, hdr + 40, UV_EPROTO, 0, "byte 0xc1");
    memcpy(bad, sb.data, sb.size);
    bad[ev_at + 3] = (char)0xcb; /* the first event's dts: a double */
    expect(bad, sb.size, UV_EPROTO, 0, "expected an integer");
    /* An actor index past the chunk's table. */
    memcpy(bad, sb.data, sb.size);
    bad[ev_at + 5] = 2;
    expect(bad, sb.size, UV_EPROTO, 0, "actor index 2");
    /* A mask that does not match the element count. */
    memcpy(bad, sb.data, sb.size);
    bad[ev_at + 4] = 3;
    expect(bad, sb.size, UV_EPROTO, 0, "field mask 0x03");
    /* A wrong sequence number, a wrong end count. */
    memcpy(bad, sb.data, sb.size);
    bad[hdr + 7] = 5;
    expect(bad, sb.size, UV_EPROTO, 0, "chunk 5 where chunk 0 was due");
    memcpy(bad, sb.data, sb.size);
    bad[sb.size - 2] = 3;
    expect(bad, sb.size, UV_EPROTO, 2, "end record counts 3 events");
    /* Bytes after the end record. */
    memcpy(bad, sb.data, sb.size);
    bad[sb.size] = 0;
    expect(bad, sb.size + 1, UV_EPROTO, 2, "data after the end record");
    free(bad);

    /* An event of 11 integers, each in a 9-byte encoding (valid, if not
     * what acto writes), read whole and cut at every point near its end:
     * the reader must never read past the buffer. */
    msgpack_sbuffer_clear(&sb);
    pack_header(&pk, 1);
    pack_chunk_head(&pk, 0, 1);
    uint8_t longev[100] = {0x9b};
    const uint64_t vals[11] = {3, 5, 0xff, 1, 1, 1, 1, 1, 1, 0, 0};
    for (int i = 0; i < 11; i++) {
        longev[1 + 9 * i] = 0xcf;
        for (int k = 0; k < 8; k++) {
            longev[2 + 9 * i + k] = (uint8_t)(vals[i] >> (56 - 8 * k));
        }
    }
    msgpack_sbuffer_write(&sb, (const char *)longev, sizeof(longev));
    for (size_t cut = sb.size - 20; cut <= sb.size; cut++) {
        char *exact = malloc(cut);
        memcpy(exact, sb.data, cut);
        expect(exact, cut, UV_EOF, cut == sb.size ? 1 : 0, "offset");
        free(exact);
    }

    /* A record of an unknown kind is skipped. */
    msgpack_sbuffer_clear(&sb);
    pack_header(&pk, 1);
    msgpack_pack_array(&pk, 2);
    msgpack_pack_str_with_body(&pk, "index", 5);
    msgpack_pack_map(&pk, 1);
    msgpack_pack_nil(&pk);
    msgpack_pack_double(&pk, 1.5);
    pack_chunk_head(&pk, 0, 1);
    pack_event(&pk, 5);
    msgpack_pack_array(&pk, 4);
    msgpack_pack_str_with_body(&pk, "end", 3);
    msgpack_pack_uint64(&pk, 1);
    msgpack_pack_uint64(&pk, 1);
    msgpack_pack_uint64(&pk, 0);
    expect(sb.data, sb.size, 0, 1, "");
    msgpack_sbuffer_destroy(&sb);
}

/* Every record of a file the writer made unpacks with msgpack-c (our own
 * output: trusted) into the documented shapes. */
static void
test_tracefile_is_plain_msgpack(void **state)
{
    (void)state;
    acto_trace_event want[32];
    size_t n, len;
    uint8_t *full = small_file(want, &n, &len);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0, records = 0, events = 0;
    while (off < len) {
        assert_int_equal(msgpack_unpack_next(&u, (const char *)full, len, &off),
                         MSGPACK_UNPACK_SUCCESS);
        msgpack_object o = u.data;
        assert_int_equal(o.type, MSGPACK_OBJECT_ARRAY);
        msgpack_object tag = o.via.array.ptr[0];
        assert_int_equal(tag.type, MSGPACK_OBJECT_STR);
        if (records == 0) {
            assert_int_equal(o.via.array.size, 7);
            assert_memory_equal(tag.via.str.ptr, "acto-trace", 10);
            assert_int_equal(o.via.array.ptr[1].via.u64, 1);
        } else if (tag.via.str.size == 5) {
            assert_int_equal(o.via.array.size, 6);
            msgpack_object evs = o.via.array.ptr[5];
            for (uint32_t i = 0; i < evs.via.array.size; i++) {
                msgpack_object e = evs.via.array.ptr[i];
                assert_int_equal(e.type, MSGPACK_OBJECT_ARRAY);
                assert_int_equal(e.via.array.ptr[0].via.u64, want[events].kind);
                events++;
            }
        } else {
            assert_memory_equal(tag.via.str.ptr, "end", 3);
            assert_int_equal(o.via.array.ptr[2].via.u64, n);
        }
        records++;
    }
    assert_int_equal(events, n);
    assert_int_equal(records, 1 + 4 + 1); /* 9 + 1, 9 + 5 events */
    msgpack_unpacked_destroy(&u);
    free(full);
}

/* ---- writer errors ----------------------------------------------------- */

static void
test_tracefile_writer_reports_errors(void **state)
{
    (void)state;
    acto_trace_sink sink;
    assert_acto_err(
        acto_tracefile_open(tmp_path("no/such/dir.acto"), NULL, &sink),
        UV_ENOENT);
    assert_acto_err(acto_tracefile_open(NULL, NULL, &sink), ACTO_EINVAL);
    assert_acto_err(acto_tracefile_open("x", NULL, NULL), ACTO_EINVAL);
    assert_acto_err(acto_tracefile_open(tmpdir, NULL, &sink), UV_EISDIR);
    if (access("/dev/full", W_OK) == 0) {
        assert_acto_err(acto_tracefile_open("/dev/full", NULL, &sink),
                        UV_ENOSPC);
    }
    /* A write that fails later (a file size limit: EFBIG), and a close
     * that reports it; nothing leaks. */
    const char *path = tmp_path("limited.acto");
    acto_tracefile_opts o = {.on_close = on_close, .flush_ms = -1};
    assert_acto_ok(acto_tracefile_open(path, &o, &sink));
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = 4096;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    acto_trace_event e[256];
    rng_state = 5;
    random_events(e, 256);
    int rc = 0;
    for (int i = 0; i < 100 && rc == 0; i++) {
        rc = sink.write(e, 256, sink.user);
    }
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, prev);
    assert_acto_err(rc, UV_EFBIG);
    assert_acto_err(sink.write(e, 1, sink.user), UV_EFBIG); /* sticky */
    sink.name((acto_ref){1}, "late", sink.user);            /* ignored */
    sink.close(sink.user);
    assert_acto_err(last_stats.status, UV_EFBIG);
    /* What was written before the error reads back, then UV_EOF. */
    acto_tracefile_reader *r;
    assert_acto_ok(acto_tracefile_reader_open(path, NULL, &r));
    size_t got;
    assert_acto_err(read_check(r, e, 256, &got), UV_EOF);
    acto_tracefile_reader_close(r);
    /* The reader's own open errors. */
    assert_acto_err(acto_tracefile_reader_open(tmp_path("none"), NULL, &r),
                    UV_ENOENT);
    assert_acto_err(acto_tracefile_reader_open(tmpdir, NULL, &r), UV_EISDIR);
    assert_acto_err(acto_tracefile_reader_open_memory(NULL, 1, NULL, &r),
                    ACTO_EINVAL);
}

static void
test_tracefile_survives_allocation_failures(void **state)
{
    (void)state;
    acto_trace_event want[32];
    size_t n, len;
    uint8_t *full = small_file(want, &n, &len);
    const char *path = tmp_path("oom.acto");
    bool reader_done = false, writer_done = false;
    for (long nth = 1; !(reader_done && writer_done); nth++) {
        /* The writer. */
        acto_test_alloc_fail_nth(nth);
        acto_trace_sink sink;
        acto_tracefile_opts o = {.on_close = on_close, .chunk_events = 9};
        int rc = acto_tracefile_open(path, &o, &sink);
        if (rc == 0) {
            sink.name((acto_ref){REF(1, 1)}, "pinger", sink.user);
            rc = sink.write(want, n, sink.user);
            sink.close(sink.user);
            if (rc == 0) {
                rc = last_stats.status;
            }
        }
        writer_done = !acto_test_alloc_failed();
        if (!writer_done) {
            assert_acto_err(rc, ACTO_ENOMEM);
        }
        assert_no_leaks();
        /* The reader. */
        acto_test_alloc_fail_nth(nth);
        acto_tracefile_reader *r;
        rc = acto_tracefile_reader_open_memory(full, len, NULL, &r);
        size_t got = 0;
        if (rc == 0) {
            rc = read_check(r, want, n, &got);
            acto_tracefile_reader_close(r);
        }
        reader_done = !acto_test_alloc_failed();
        assert_acto_err(rc, reader_done ? 0 : ACTO_ENOMEM);
        assert_no_leaks();
        acto_test_alloc_fail_nth(0);
    }
    free(full);
}

static void
test_tracefile_env_factory_names_files(void **state)
{
    (void)state;
    char pattern[256], first[256], second[300];
    snprintf(pattern, sizeof(pattern), "%s/env-%%p.acto", tmpdir);
    snprintf(first, sizeof(first), "%s/env-%ld.acto", tmpdir, (long)getpid());
    snprintf(second, sizeof(second), "%s.1", first);
    acto_trace_sink a, b;
    assert_acto_err(acto_tracefile_env_factory("", &a), ACTO_EINVAL);
    assert_acto_ok(acto_tracefile_env_factory(pattern, &a));
    assert_acto_ok(acto_tracefile_env_factory(pattern, &b));
    a.close(a.user);
    b.close(b.user);
    struct stat st;
    assert_int_equal(stat(first, &st), 0);
    assert_int_equal(stat(second, &st), 0);
}

/* ---- a real system, traced through ACTO_TRACE -------------------------- */

enum { T_BALL = 1 };

typedef struct player {
    acto_ref other;
} player;

static int
player_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    player *p = state;
    int n = acto_test_msg_int(m);
    if (n <= 0) {
        return 0;
    }
    n--;
    return acto_tell(ctx, p->other, T_BALL, &n, sizeof(n));
}

static const acto_behaviour player_b = {.receive = player_receive};

static void
test_tracefile_traces_a_real_system_through_acto_trace(void **state)
{
    acto_test_env *env = *state;
    const char *path = tmp_path("real.acto");
    setenv("ACTO_TRACE", path, 1);
    setenv("ACTO_TRACE_MODE", "block", 1); /* nothing lost */
    acto_system *sys = acto_test_system(env, NULL);
    unsetenv("ACTO_TRACE");
    unsetenv("ACTO_TRACE_MODE");
    assert_true(acto_trace_enabled(sys));
    assert_acto_ok(acto_msg_type_name(sys, T_BALL, "Ball")); /* to the file */
    player a = {{0}}, b = {{0}};
    acto_ref ra, rb;
    assert_acto_ok(acto_spawn(sys, &player_b, &a,
                              &(acto_spawn_opts){.label = "pinger"}, &ra));
    assert_acto_ok(acto_spawn(sys, &player_b, &b,
                              &(acto_spawn_opts){.label = "ponger"}, &rb));
    a.other = rb;
    b.other = ra;
    const int rounds = 20000;
    assert_acto_ok(acto_test_send_int(sys, ra, T_BALL, rounds));
    acto_test_settle(env);
    acto_test_close_system(env, sys); /* stops tracing: the file is closed */

    acto_tracefile_reader *r;
    assert_acto_ok(acto_tracefile_reader_open(path, NULL, &r));
    acto_trace_event e;
    size_t kinds[16] = {0}, n = 0;
    int rc;
    while ((rc = acto_tracefile_next(r, &e)) == 1) {
        kinds[e.kind < 16 ? e.kind : 0]++;
        n++;
    }
    assert_int_equal(rc, 0);
    assert_string_equal(acto_tracefile_actor_name(r, ra), "pinger");
    assert_string_equal(acto_tracefile_actor_name(r, rb), "ponger");
    assert_string_equal(acto_tracefile_type_name(r, T_BALL), "Ball");
    assert_int_equal(acto_tracefile_lost(r), 0);
    assert_int_equal(kinds[ACTO_TRACE_SPAWN], 2);
    assert_int_equal(kinds[ACTO_TRACE_SEND], rounds + 1);
    assert_int_equal(kinds[ACTO_TRACE_HANDLE], rounds + 1);
    assert_int_equal(kinds[ACTO_TRACE_HANDLED], rounds + 1);
    acto_tracefile_reader_close(r);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    print_message("a real ping-pong: %zu events, %lld bytes: %.2f bytes per "
                  "event\n",
                  n, (long long)st.st_size, (double)st.st_size / (double)n);
    assert_true((double)st.st_size / (double)n <= 24.0);
}

/* ---- batches ----------------------------------------------------------- */

/* Reads data one event at a time and in batches of cap: the same events,
 * the same result and the same error, whatever the damage. */
static void
batch_matches_next(const uint8_t *data, size_t len, size_t cap)
{
    acto_tracefile_reader *a, *b;
    acto_tracefile_reader_opts o = {.max_record = len % 2 ? 4096 : 0};
    assert_acto_ok(acto_tracefile_reader_open_memory(data, len, &o, &a));
    assert_acto_ok(acto_tracefile_reader_open_memory(data, len, &o, &b));
    acto_trace_event one, many[64];
    assert_true(cap <= 64);
    size_t i = 0, n = 0, k = 0;
    int ra, rb = 1;
    while ((ra = acto_tracefile_next(a, &one)) == 1) {
        if (k == n) {
            rb = acto_tracefile_next_batch(b, many, cap, &n);
            k = 0;
            if (rb != 1) {
                fail_msg("batch ended (%d) where next has event %zu", rb, i);
            }
            assert_true(n >= 1 && n <= cap);
        }
        assert_event_equal(&many[k++], &one, i++);
    }
    if (k == n) {
        rb = acto_tracefile_next_batch(b, many, cap, &n);
    }
    assert_int_equal(rb, ra);
    assert_int_equal(n, 0);
    assert_string_equal(acto_tracefile_error(b), acto_tracefile_error(a));
    assert_int_equal(acto_tracefile_events_read(b),
                     acto_tracefile_events_read(a));
    assert_int_equal(acto_tracefile_lost(b), acto_tracefile_lost(a));
    assert_int_equal(acto_tracefile_next_batch(b, many, cap, &n), ra);
    acto_tracefile_reader_close(a);
    acto_tracefile_reader_close(b);
}

static void
test_tracefile_batch_matches_next(void **state)
{
    (void)state;
    acto_trace_event want[32];
    size_t n, len;
    uint8_t *full = small_file(want, &n, &len);
    static const size_t caps[] = {1, 2, 7, 64};
    for (size_t cut = 0; cut <= len; cut++) {
        uint8_t *copy = malloc(cut + 1);
        memcpy(copy, full, cut);
        for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
            batch_matches_next(copy, cut, caps[c]);
        }
        free(copy);
    }
    uint8_t *copy = malloc(len);
    rng_state = 77;
    for (int iter = 0; iter < 3000; iter++) {
        memcpy(copy, full, len);
        copy[rng() % len] = (uint8_t)rng();
        batch_matches_next(copy, len, caps[iter % 4]);
    }
    free(copy);
    /* A batch does not run into the next chunk (its names). */
    acto_tracefile_reader *r;
    assert_acto_ok(acto_tracefile_reader_open_memory(full, len, NULL, &r));
    acto_trace_event e[64];
    size_t got;
    assert_int_equal(acto_tracefile_next_batch(r, e, 64, &got), 1);
    assert_int_equal(got, 9); /* chunk_events = 9 */
    assert_int_equal(acto_tracefile_next_batch(r, e, 0, &got), ACTO_EINVAL);
    assert_int_equal(acto_tracefile_next_batch(r, NULL, 1, &got), ACTO_EINVAL);
    acto_tracefile_reader_close(r);
    free(full);
}

/* ---- the fuzzer's corpus ----------------------------------------------- */

static void
test_tracefile_replays_the_fuzz_corpus(void **state)
{
    (void)state;
    DIR *d = opendir(ACTO_TRACEFILE_CORPUS);
    assert_non_null(d);
    struct dirent *de;
    int files = 0, complete = 0;
    char path[1024];
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') {
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s", ACTO_TRACEFILE_CORPUS,
                 de->d_name);
        size_t len;
        uint8_t *data = slurp(path, &len);
        for (int small = 0; small < 2; small++) {
            acto_tracefile_reader_opts o = {.max_record = small ? 4096 : 0};
            acto_tracefile_reader *r;
            assert_acto_ok(
                acto_tracefile_reader_open_memory(data, len, &o, &r));
            acto_trace_event e;
            int rc;
            while ((rc = acto_tracefile_next(r, &e)) == 1) {
                (void)acto_tracefile_actor_name(r, (acto_ref){e.actor});
            }
            if (rc < 0) {
                assert_error_has_offset(r);
            } else if (!small) {
                complete++;
            }
            acto_tracefile_reader_close(r);
        }
        free(data);
        files++;
    }
    closedir(d);
    print_message("%d corpus files replayed, %d complete traces\n", files,
                  complete);
    assert_true(files >= 10);
    assert_true(complete >= 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        acto_unit_test(test_tracefile_round_trips_every_kind),
        acto_unit_test(test_tracefile_pad_is_not_stored),
        acto_unit_test(test_tracefile_records_names),
        acto_unit_test(test_tracefile_counts_lost_events),
        acto_unit_test(test_tracefile_stays_under_24_bytes_per_event),
        acto_unit_test(test_tracefile_round_trips_large_batches),
        acto_unit_test(test_tracefile_measures_decode_speed),
        acto_unit_test(test_tracefile_limits_record_size),
        acto_unit_test(test_tracefile_reader_survives_every_truncation),
        acto_unit_test(test_tracefile_reader_names_the_truncation),
        acto_unit_test(test_tracefile_reader_survives_random_corruption),
        acto_unit_test(test_tracefile_batch_matches_next),
        acto_unit_test(test_tracefile_reader_rejects_hostile_input),
        acto_unit_test(test_tracefile_is_plain_msgpack),
        acto_unit_test(test_tracefile_writer_reports_errors),
        acto_unit_test(test_tracefile_survives_allocation_failures),
        acto_unit_test(test_tracefile_env_factory_names_files),
        acto_unit_test(test_tracefile_traces_a_real_system_through_acto_trace),
        acto_unit_test(test_tracefile_replays_the_fuzz_corpus),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
