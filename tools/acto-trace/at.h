/* acto-trace: shared parts of the trace tool. A trace is streamed through
 * the protocols/ reader once per pass; subcommands keep compact tables
 * (actors by ref, messages by id in open-addressing maps) rather than the
 * events themselves. */
#ifndef ACTO_TRACE_TOOL_H
#define ACTO_TRACE_TOOL_H

#include <acto/tracefile.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Exit codes: 0 fine, 1 a bad trace file or problems found, 2 bad usage. */
enum { AT_OK = 0, AT_FAIL = 1, AT_USAGE = 2 };

/* ---- memory, errors ---------------------------------------------------- */

/* The tool's allocation: out of memory prints a message and exits 1. */
void *at_alloc(size_t n);
void *at_calloc(size_t n, size_t size);
void *at_realloc(void *p, size_t n);
char *at_strdup(const char *s);
void at_die(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));

/* ---- a buffered writer ------------------------------------------------- */

typedef struct at_out {
    FILE *f;
    bool owned; /* fclose on at_out_close */
    char *buf;
    size_t len;
    uint64_t total; /* bytes written so far */
    int err;        /* errno of the first failed write */
    const char *path;
} at_out;

#define AT_OUT_BUF (1u << 16)

/* at_out_open writes to path ("-": stdout). Returns 0 or errno. */
int at_out_open(at_out *o, const char *path);
/* at_out_close flushes and closes. Returns 0 or errno of a failure. */
int at_out_close(at_out *o);
void at_out_flush(at_out *o);

static inline void
at_out_ch(at_out *o, char c)
{
    if (o->len == AT_OUT_BUF) {
        at_out_flush(o);
    }
    o->buf[o->len++] = c;
    o->total++;
}

/* at_out_mem_slow is at_out_mem when the buffer is full. */
void at_out_mem_slow(at_out *o, const char *s, size_t n);

/* Inline: most pieces are short literals, whose length and copy the
 * compiler then works out in place (exporters write a dozen per event). */
static inline void
at_out_mem(at_out *o, const char *s, size_t n)
{
    if (o->len + n > AT_OUT_BUF) {
        at_out_mem_slow(o, s, n);
        return;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->total += n;
}

static inline void
at_out_str(at_out *o, const char *s)
{
    at_out_mem(o, s, strlen(s));
}
void at_out_u64(at_out *o, uint64_t v);
void at_out_i64(at_out *o, int64_t v);
/* ns as microseconds with three decimals ("12.345"). */
void at_out_us(at_out *o, uint64_t ns);
/* v as exactly digits lowercase hex digits. */
void at_out_hex(at_out *o, uint64_t v, int digits);
/* s as a JSON string: quoted, escaped, invalid UTF-8 replaced. */
void at_out_json_str(at_out *o, const char *s);
/* s escaped for XML/HTML text and attribute values. */
void at_out_html(at_out *o, const char *s);
void at_out_printf(at_out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* at_fmt_dur formats ns for people ("850ns", "12.3us", "4.50ms"). */
const char *at_fmt_dur(uint64_t ns, char buf[32]);

/* ---- a hash map of nonzero 64-bit keys (open addressing) --------------- */

typedef struct at_map {
    uint64_t *keys; /* 0: empty */
    uint64_t *vals;
    size_t cap; /* a power of two, or 0 */
    size_t n;
} at_map;

/* at_map_get returns key's value slot, or NULL. */
uint64_t *at_map_get(const at_map *m, uint64_t key);
/* at_map_put returns key's value slot, made (value 0) when new. */
uint64_t *at_map_put(at_map *m, uint64_t key, bool *fresh);
/* at_map_del removes key; returns whether it was there (value in *val). */
bool at_map_del(at_map *m, uint64_t key, uint64_t *val);
void at_map_free(at_map *m);

/* ---- growable arrays of 64-bit values ---------------------------------- */

typedef struct at_vec {
    uint64_t *p;
    size_t n, cap;
} at_vec;

static inline void
at_vec_push(at_vec *v, uint64_t x)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 16;
        v->p = at_realloc(v->p, v->cap * sizeof(*v->p));
    }
    v->p[v->n++] = x;
}

/* at_vec_pct is the q-quantile (nearest rank) of v; reorders v. 0 if
 * empty. */
uint64_t at_vec_pct(at_vec *v, double q);
uint64_t at_vec_max(const at_vec *v);
void at_vec_free(at_vec *v);

/* ---- actors ------------------------------------------------------------ */

typedef struct at_actor {
    uint64_t ref; /* 0: "outside" (sends from no actor) */
    /* stats */
    uint64_t in, out, handled, failures, restarts, dead, dropped, parks;
    uint64_t peak_depth, depth;
    at_vec handle_ns, wait_ns;
    /* a handler in progress: the message, its start, cause and type */
    uint64_t open_msg, open_ts, open_cause;
    uint32_t open_type;
    uint64_t spawn_ts, stop_ts, parent;
    uint32_t exit_kind;
    bool spawned, stopped;
    /* free for a subcommand's use */
    uint64_t aux, aux2, aux3;
    char *name;   /* cached display name, or NULL */
    char *label;  /* a subcommand's cached label, or NULL */
    char *label2; /* another, or NULL */
} at_actor;

/* ---- the trace being read ---------------------------------------------- */

typedef struct at_trace {
    const char *path;
    acto_tracefile_reader *r;
    acto_tracefile_info info;
    bool info_ok;
    int status;    /* 0, or the reader's error once it failed */
    char err[320]; /* the reader's error text with the offset */
    uint64_t events;
    uint64_t first_ts, last_ts;
    bool progress;     /* stderr is a terminal */
    uint64_t size;     /* the file's size, for progress */
    at_actor **actors; /* stable: each allocated alone */
    size_t n_actors, cap_actors;
    at_map actor_ix; /* ref -> index + 1 */
    uint64_t last_ref;
    uint32_t last_ix;
    /* Events read ahead in one acto_tracefile_next_batch call (never
     * past a chunk, so names stay in step): batch[batch_i..batch_n). */
    size_t batch_i, batch_n;
    acto_trace_event batch[256];
} at_trace;

/* at_trace_open opens path. Returns 0, or AT_FAIL after printing why. */
int at_trace_open(at_trace *t, const char *path);
/* at_trace_next reads the next event: 1, 0 at a clean end, or -1 after a
 * read error (kept in t->status and t->err, not printed). Inline: most
 * events come from the batch read ahead; at_trace_next_batch reads the
 * next one (and shows progress). */
int at_trace_next_batch(at_trace *t, acto_trace_event *e);
static inline int
at_trace_next(at_trace *t, acto_trace_event *e)
{
    if (t->batch_i == t->batch_n) {
        return at_trace_next_batch(t, e);
    }
    const acto_trace_event *b = &t->batch[t->batch_i++];
    if (t->events++ == 0 || b->ts < t->first_ts) {
        t->first_ts = b->ts;
    }
    t->last_ts = b->ts > t->last_ts ? b->ts : t->last_ts;
    *e = *b;
    return 1;
}
/* at_trace_rewind reopens the file for another pass (actors kept). */
int at_trace_rewind(at_trace *t);
/* at_trace_report prints the reader's error, if any, on stderr; returns
 * AT_FAIL then, else AT_OK. */
int at_trace_report(const at_trace *t);
void at_trace_close(at_trace *t);

/* at_actor_of returns ref's actor, made on first sight. */
at_actor *at_actor_of(at_trace *t, uint64_t ref);
/* at_actor_find returns ref's actor or NULL. */
at_actor *at_actor_find(const at_trace *t, uint64_t ref);
/* at_ref_is_ask tells whether ref is a system's ask ref: replies to asks
 * are sent to it, and complete the ask's future (no actor). */
bool at_ref_is_ask(uint64_t ref);
/* at_actor_label is "name 3.1", "actor 3.1", "outside" or "ask". */
const char *at_actor_label(at_trace *t, at_actor *a);
/* at_actor_name is the file's name for the actor, or NULL. */
const char *at_actor_name(at_trace *t, at_actor *a);
/* at_ref_str writes "slot.gen" (or "shard:slot.gen") into buf. */
const char *at_ref_str(uint64_t ref, char buf[32]);
/* at_type_name names a message type: the file's name, a system
 * message's, or "0x1f". */
const char *at_type_name(const at_trace *t, uint32_t type, char buf[32]);
const char *at_kind_name(uint16_t kind);
const char *at_exit_name(uint32_t kind);

/* ---- subcommands ------------------------------------------------------- */

typedef struct at_args {
    const char *trace;
    const char *out;     /* -o, or NULL */
    uint64_t id;         /* flow/why/seq argument */
    uint64_t max_events; /* perfetto: events per file */
    unsigned max_edges;  /* graph */
    unsigned max_arrows; /* seq */
    bool tsv;            /* stats */
    bool quiet;          /* perfetto: no note on stderr once written */
} at_args;

int at_cmd_stats(const at_args *a);
int at_cmd_flow(const at_args *a, bool why);
int at_cmd_seq(const at_args *a);
int at_cmd_graph(const at_args *a);
int at_cmd_perfetto(const at_args *a);
int at_cmd_otlp(const at_args *a);
int at_cmd_html(const at_args *a);
int at_cmd_check(const at_args *a);
int at_cmd_decode(const at_args *a);
int at_cmd_dump(const at_args *a);

/* The stats pass, shared by stats and html: fills every actor's counters
 * and returns the trace-wide counts. */
typedef struct at_totals {
    uint64_t events, lost_events, lost, drops, dead, failures, restarts;
    uint64_t sends, handled;
} at_totals;
/* edges, when not NULL, gets (from index + 1) << 32 | (to index + 1) ->
 * sends, over the actor table's indexes. */
int at_stats_pass(at_trace *t, at_totals *tot, at_map *edges);

/* Edges between actors, shared by graph and html. */
typedef struct at_edge {
    uint32_t from, to; /* actor table indexes */
    uint64_t count;
} at_edge;
/* at_edges_sorted lists the edges map of at_stats_pass, by count, largest
 * first. */
at_edge *at_edges_sorted(const at_map *edges, size_t *n);

#endif /* ACTO_TRACE_TOOL_H */
