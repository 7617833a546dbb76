/* acto-wordfreq: word frequencies of text files, as an acto pipeline.
 *
 *   acto-wordfreq [--top N] [--workers N] FILE...
 *
 * Prints "word count" lines, most frequent first, ties by word in byte
 * order. Words are runs of ASCII letters, lowercased.
 *
 * The flow, each box an actor with a bounded mailbox:
 *
 *   file source -> split --+                       (one pair per FILE)
 *   file source -> split --+-> merge -> tokenize pool -> count pool -> sink
 *                                      (N, round robin)  (N, by key)
 *
 * split: the file source cuts the file into 256 KiB chunks wherever the
 * bytes fall, so a word may straddle two chunks. One split stage per file
 * sees that file's chunks in order; it keeps the letters at the end of a
 * chunk (the carry), joins them with the letters at the start of the next
 * one and passes the joined word on as a small item of its own. Both
 * fragments are blanked in the chunk, which then goes on in place (no
 * copy).
 * tokenize: lowercases and hashes the words of a chunk and packs them into
 * one buffer per partition (8 partitions per counter), each passed on as
 * one item: a batch of words per message, never a message per word.
 * count: the pool routes a buffer by its partition (ACTO_ROUTE_KEY), so a
 * word always reaches the same counter, which adds it to its own map.
 * The counters' maps count disjoint sets of words.
 *
 * The end. Stage and sink functions are never called at the end of the
 * stream (the pipeline library handles ACTO_STREAM_EOS itself), so what a
 * stage holds then cannot flow on as items: the carry of each split (the
 * last word of a file that ends in a letter) and the counters' maps. They
 * are merged when the pipeline's done future resolves, which is exactly
 * once the sink has handled the end of the stream, after every counter
 * handled its last item. Nothing reaches the sink before that: the
 * counters keep their counts.
 *
 * Memory: chunks in flight are bounded by the mailboxes (a few per stage,
 * see CHUNK_CAPACITY), word buffers by the counters' mailboxes; the maps
 * grow with the number of distinct words, not with the input.
 */
#include <acto/acto.h>
#include <acto/pipeline.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool_num.h"
#include "wordmap.h"

#define DEFAULT_CHUNK ((size_t)256 * 1024)
#define MAX_CHUNK ((size_t)64 * 1024 * 1024)
#define DEFAULT_WORKERS 4
#define MAX_WORKERS 64
#define PARTS_PER_COUNTER 8
#define MAX_WORD ((size_t)1024 * 1024) /* letters in one word, at most */
#define CHUNK_CAPACITY 2  /* mailboxes that hold chunks, in chunks */
#define WORDS_CAPACITY 32 /* counters' mailboxes, in word buffers */

enum { T_TEXT = 0, T_WORDS = 1 };

typedef struct splitter splitter;

typedef struct app {
    acto_system *sys;
    size_t chunk;
    uint32_t workers;
    uint32_t parts;
    size_t top;
    splitter *split; /* one per file */
    size_t n_files;
    wf_map **maps; /* the counters', made by their init */
    size_t n_maps, maps_cap;
} app;

/* ---- split: words across chunk boundaries ---------------------------- */

struct splitter {
    const char *path;
    char *carry; /* the letters at the end of the last chunk */
    size_t len, cap;
};

/* carry_add appends n letters to the carry. Returns 0 or an error for the
 * stage. */
static int
carry_add(acto_emitter *out, splitter *s, const char *p, size_t n)
{
    if (n == 0) {
        return 0;
    }
    if (s->len + n > MAX_WORD) {
        return acto_stage_fail(out, UV_EMSGSIZE, "WordTooLong",
                               "%s: a word longer than %zu letters", s->path,
                               MAX_WORD);
    }
    if (s->len + n > s->cap) {
        size_t cap = s->cap > 0 ? s->cap : 64;
        while (cap < s->len + n) {
            cap *= 2;
        }
        char *nc = realloc(s->carry, cap);
        if (nc == NULL) {
            return acto_stage_fail(out, ACTO_ENOMEM, "OutOfMemory",
                                   "%s: no memory for a word", s->path);
        }
        s->carry = nc;
        s->cap = cap;
    }
    memcpy(s->carry + s->len, p, n);
    s->len += n;
    return 0;
}

static size_t
letters_at_start(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && wf_lower[(uint8_t)p[i]] != 0) {
        i++;
    }
    return i;
}

/* split passes a chunk on with the words it cuts at either end blanked:
 * the head completes the carry (passed on as an item of its own), the tail
 * becomes the new carry. */
static int
split(acto_emitter *out, void *state, acto_msg *item)
{
    splitter *s = state;
    size_t n;
    char *p = acto_msg_data_mut(item, &n);
    if (p == NULL || n == 0) {
        return 0;
    }
    size_t head = letters_at_start(p, n);
    if (head == n) {
        return carry_add(out, s, p, n); /* the word goes on and on */
    }
    int rc;
    if (s->len > 0) {
        if ((rc = carry_add(out, s, p, head)) != 0 ||
            (rc = acto_emit_bytes(out, T_TEXT, s->carry, s->len)) != 0) {
            return rc;
        }
        s->len = 0;
        memset(p, ' ', head);
    }
    size_t cut = wf_carry_cut(p, n);
    if ((rc = carry_add(out, s, p + cut, n - cut)) != 0) {
        return rc;
    }
    memset(p + cut, ' ', n - cut);
    return acto_emit(out, item);
}

/* ---- tokenize: words packed per partition ----------------------------- */

/* A batch of words of one partition: records back to back, each a
 * record head and, for a word longer than 8 letters, its letters (a
 * shorter one is all in the head). */
typedef struct words {
    uint32_t part;
    size_t len, cap;
    char data[];
} words;

typedef struct record {
    uint32_t len;
    uint32_t hash; /* the low half of the word's */
    uint64_t head;
} record;

static void
free_words(void *ptr, void *user)
{
    (void)user;
    free(ptr);
}

typedef struct tokenizer {
    app *a;
    words **part; /* a->parts buffers being filled, NULL when none */
} tokenizer;

static int
tokenizer_init(void *arg, void **state)
{
    app *a = arg;
    tokenizer *t = calloc(1, sizeof(*t));
    if (t == NULL || (t->part = calloc(a->parts, sizeof(words *))) == NULL) {
        free(t);
        return ACTO_ENOMEM;
    }
    t->a = a;
    *state = t;
    return 0;
}

static void
tokenizer_fini(void *state)
{
    tokenizer *t = state;
    for (uint32_t i = 0; i < t->a->parts; i++) {
        free(t->part[i]);
    }
    free(t->part);
    free(t);
}

/* room makes room for need more bytes in partition k's buffer. */
static words *
room(tokenizer *t, uint32_t k, size_t need)
{
    words *b = t->part[k];
    if (b != NULL && b->len + need <= b->cap) {
        return b;
    }
    /* A chunk's words, packed, take up to about 3 times its bytes (a
     * 16-byte record for a word of a few letters and a space). */
    size_t cap = b != NULL ? b->cap * 2 : 3 * t->a->chunk / t->a->parts;
    cap = cap < 1024 ? 1024 : cap;
    while (cap < (b != NULL ? b->len : 0) + need) {
        cap *= 2;
    }
    words *nb = realloc(b, sizeof(*nb) + cap);
    if (nb == NULL) {
        return NULL;
    }
    if (b == NULL) {
        nb->part = k;
        nb->len = 0;
    }
    nb->cap = cap;
    t->part[k] = nb;
    return nb;
}

/* pass_on emits every partition's buffer that holds words. */
static int
pass_on(acto_emitter *out, tokenizer *t)
{
    for (uint32_t k = 0; k < t->a->parts; k++) {
        words *b = t->part[k];
        if (b == NULL || b->len == 0) {
            continue;
        }
        acto_msg *m;
        int rc = acto_msg_new_ptr(t->a->sys, T_WORDS, b, free_words, NULL, &m);
        if (rc != 0) {
            return rc;
        }
        t->part[k] = NULL; /* the message's now */
        if ((rc = acto_emit(out, m)) != 0) {
            return rc;
        }
    }
    return 0;
}

static int
tokenize(acto_emitter *out, void *state, acto_msg *item)
{
    tokenizer *t = state;
    size_t n;
    char *p = acto_msg_data_mut(item, &n);
    if (p == NULL) {
        return 0;
    }
    char *end = p + n;
    wf_word w;
    while (wf_next_word(&p, end, &w)) {
        /* the high half of the hash picks the partition */
        uint32_t k = (uint32_t)(((w.hash >> 32) * t->a->parts) >> 32);
        size_t letters = w.len > 8 ? w.len : 0;
        size_t need = sizeof(record) + letters;
        words *b = t->part[k];
        if (b == NULL || b->len + need > b->cap) {
            if ((b = room(t, k, need)) == NULL) {
                return acto_stage_fail(out, ACTO_ENOMEM, "OutOfMemory",
                                       "no memory for a batch of words");
            }
        }
        record r = {(uint32_t)w.len, (uint32_t)w.hash, w.head};
        memcpy(b->data + b->len, &r, sizeof(r));
        memcpy(b->data + b->len + sizeof(r), w.p, letters);
        b->len += need;
    }
    return pass_on(out, t);
}

/* ---- count: one map per counter --------------------------------------- */

static uint64_t
words_key(const acto_msg *item, void *user)
{
    (void)user;
    const words *b = acto_msg_ptr(item);
    return b != NULL ? b->part : 0;
}

static int
counter_init(void *arg, void **state)
{
    app *a = arg;
    if (a->n_maps == a->maps_cap) {
        size_t cap = a->maps_cap > 0 ? a->maps_cap * 2 : 8;
        wf_map **nm = realloc(a->maps, cap * sizeof(*nm));
        if (nm == NULL) {
            return ACTO_ENOMEM;
        }
        a->maps = nm;
        a->maps_cap = cap;
    }
    wf_map *m = malloc(sizeof(*m));
    if (m == NULL || wf_map_init(m) != 0) {
        free(m);
        return ACTO_ENOMEM;
    }
    a->maps[a->n_maps++] = m; /* the app's: merged at the end */
    *state = m;
    return 0;
}

static int
count(acto_emitter *out, void *state, acto_msg *item)
{
    wf_map *m = state;
    const words *b = acto_msg_ptr(item);
    if (b == NULL) {
        return 0;
    }
    for (size_t at = 0; at < b->len;) {
        record r;
        memcpy(&r, b->data + at, sizeof(r));
        at += sizeof(r);
        wf_word w = {NULL, r.len, r.head, r.hash};
        if (r.len > 8) {
            w.p = b->data + at;
            at += r.len;
        }
        if (wf_map_add(m, &w, 1) != 0) {
            return acto_stage_fail(out, ACTO_ENOMEM, "OutOfMemory",
                                   "no memory for the counts");
        }
    }
    return 0;
}

/* The counters pass nothing on: the sink is where the end arrives. */
static int
sink(acto_emitter *out, void *state, const acto_msg *item)
{
    (void)out;
    (void)state;
    (void)item;
    return 0;
}

/* ---- building and running --------------------------------------------- */

static int
build(app *a, acto_pipeline *p, char **files)
{
    acto_stage **split_of = calloc(a->n_files, sizeof(*split_of));
    int rc = split_of != NULL ? 0 : ACTO_ENOMEM;
    for (size_t i = 0; i < a->n_files && rc == 0; i++) {
        acto_file_source_opts fo = {.item_type = T_TEXT,
                                    .mode = ACTO_FILE_CHUNKS,
                                    .chunk_size = a->chunk};
        char name[32];
        snprintf(name, sizeof(name), "read%zu", i + 1);
        acto_stage_opts ro = {.name = name, .capacity = CHUNK_CAPACITY};
        acto_stage *src;
        rc = acto_pipeline_source_file(p, files[i], &fo, &ro, &src);
        snprintf(name, sizeof(name), "split%zu", i + 1);
        a->split[i].path = files[i];
        if (rc == 0) {
            rc = acto_pipeline_stage(p, src, split, &a->split[i], &ro,
                                     &split_of[i]);
        }
    }
    acto_stage *text = rc == 0 ? split_of[0] : NULL, *tok, *cnt, *end;
    acto_stage_opts mo = {.name = "merge", .capacity = CHUNK_CAPACITY};
    if (rc == 0 && a->n_files > 1) {
        rc = acto_pipeline_merge(p, split_of, a->n_files, &mo, &text);
    }
    acto_pool_opts tp = {.workers = a->workers,
                         .route = ACTO_ROUTE_ROUND_ROBIN};
    acto_stage_opts to = {.name = "tokenize",
                          .capacity = CHUNK_CAPACITY,
                          .init = tokenizer_init,
                          .fini = tokenizer_fini};
    if (rc == 0) {
        rc = acto_pipeline_pool(p, text, &tp, tokenize, a, &to, &tok);
    }
    acto_pool_opts cp = {
        .workers = a->workers, .route = ACTO_ROUTE_KEY, .key = words_key};
    acto_stage_opts co = {
        .name = "count", .capacity = WORDS_CAPACITY, .init = counter_init};
    if (rc == 0) {
        rc = acto_pipeline_pool(p, tok, &cp, count, a, &co, &cnt);
    }
    acto_stage_opts so = {.name = "sink"};
    if (rc == 0) {
        rc = acto_pipeline_sink(p, cnt, sink, a, &so, &end);
    }
    free(split_of);
    return rc;
}

/* add_carries counts the last word of each file that ended in a letter,
 * in the map that already counts it or else in the first. */
static int
add_carries(app *a)
{
    for (size_t i = 0; i < a->n_files; i++) {
        splitter *s = &a->split[i];
        if (s->len == 0) {
            continue;
        }
        for (size_t k = 0; k < s->len; k++) {
            s->carry[k] = (char)wf_lower[(uint8_t)s->carry[k]];
        }
        wf_word w;
        wf_word_of(s->carry, s->len, &w);
        wf_map *m = a->maps[0];
        for (size_t k = 0; k < a->n_maps; k++) {
            if (wf_map_find(a->maps[k], &w) != NULL) {
                m = a->maps[k];
            }
        }
        if (wf_map_add(m, &w, 1) != 0) {
            return -1;
        }
        s->len = 0;
    }
    return 0;
}

/* report prints the counts, merged. Returns the exit status. */
static int
report(app *a)
{
    if (a->n_maps == 0 || add_carries(a) != 0) {
        fprintf(stderr, "acto-wordfreq: out of memory\n");
        return 1;
    }
    size_t n;
    wf_slot *v = wf_sorted(a->maps, a->n_maps, &n);
    if (v == NULL) {
        fprintf(stderr, "acto-wordfreq: out of memory\n");
        return 1;
    }
    int rc = wf_print(stdout, v, n, a->top);
    free(v);
    if (rc != 0) {
        fprintf(stderr, "acto-wordfreq: write: %s\n", strerror(errno));
        return 1;
    }
    return 0;
}

/* run builds the pipeline, runs it to its end and reports. Returns the
 * exit status. */
static int
run(app *a, char **files)
{
    int rc = acto_system_alloc(NULL, &a->sys);
    if (rc != 0) {
        fprintf(stderr, "acto-wordfreq: %s\n", acto_strerror(rc));
        return 1;
    }
    acto_pipeline *p = NULL;
    acto_future *done = NULL;
    rc = acto_pipeline_new(a->sys, NULL, &p);
    if (rc == 0 && (rc = build(a, p, files)) == 0 &&
        (rc = acto_pipeline_start(p, &done)) == 0) {
        rc = acto_system_run(a->sys);
    }
    int status = 1;
    if (rc != 0) {
        fprintf(stderr, "acto-wordfreq: %s\n", acto_strerror(rc));
    } else if (acto_future_state_of(done) == ACTO_FUTURE_DONE) {
        status = report(a);
    } else if (acto_future_state_of(done) == ACTO_FUTURE_FAILED) {
        const acto_error *e = acto_future_exception(done);
        fprintf(stderr, "acto-wordfreq: %s\n", e->text);
    } else {
        fprintf(stderr, "acto-wordfreq: the pipeline did not finish\n");
    }
    acto_future_release(done);
    if (p != NULL) {
        (void)acto_pipeline_free(p);
    }
    (void)acto_system_free(a->sys);
    return status;
}

/* ---- options ---------------------------------------------------------- */

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: acto-wordfreq [--top N] [--workers N] FILE...\n"
            "\n"
            "Prints the word frequencies of the files together as\n"
            "\"word count\" lines, most frequent first, ties by word.\n"
            "Words are runs of ASCII letters, lowercased.\n"
            "\n"
            "  --top N      print the N most frequent words only (0: all,\n"
            "               the default)\n"
            "  --workers N  tokenizers and counters, N of each (1 to %d,\n"
            "               default %d)\n"
            "  --help       print this help\n"
            "\n"
            "Exit status: 0 on success, 1 when a file cannot be read (the\n"
            "message names it), 2 for bad usage.\n",
            MAX_WORKERS, DEFAULT_WORKERS);
}

/* parse_size reads an unsigned number from min to max, or returns false. */
static bool
parse_size(const char *s, size_t min, size_t max, size_t *out)
{
    uint64_t v;
    if (!tool_parse_u64(s, 10, min, max, &v)) {
        return false;
    }
    *out = (size_t)v;
    return true;
}

static int bad_usage(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static int
bad_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "acto-wordfreq: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    usage(stderr);
    return 2;
}

/* parse_args reads the options into a and moves the files to the front of
 * argv. Returns -1 to go on, else an exit status. --chunk BYTES (the read
 * size, for tests) is not in the usage. */
static int
parse_args(app *a, int argc, char **argv)
{
    bool opts_done = false;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        size_t v;
        if (opts_done || s[0] != '-') {
            argv[a->n_files++] = argv[i];
        } else if (strcmp(s, "--") == 0) {
            opts_done = true;
        } else if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (i + 1 == argc &&
                   (strcmp(s, "--top") == 0 || strcmp(s, "--workers") == 0 ||
                    strcmp(s, "--chunk") == 0)) {
            return bad_usage("%s needs a value", s);
        } else if (strcmp(s, "--top") == 0) {
            if (!parse_size(argv[++i], 0, SIZE_MAX, &a->top)) {
                return bad_usage("--top takes a number, not '%s'", argv[i]);
            }
        } else if (strcmp(s, "--workers") == 0) {
            if (!parse_size(argv[++i], 1, MAX_WORKERS, &v)) {
                return bad_usage("--workers takes 1 to 64, not '%s'", argv[i]);
            }
            a->workers = (uint32_t)v;
        } else if (strcmp(s, "--chunk") == 0) {
            if (!parse_size(argv[++i], 1, MAX_CHUNK, &a->chunk)) {
                return bad_usage("--chunk takes 1 to 67108864, not '%s'",
                                 argv[i]);
            }
        } else {
            return bad_usage("unknown option '%s'", s);
        }
    }
    if (a->n_files == 0) {
        return bad_usage("%s", "no FILE given");
    }
    return -1;
}

int
main(int argc, char **argv)
{
    app a = {.chunk = DEFAULT_CHUNK, .workers = DEFAULT_WORKERS};
    int status = parse_args(&a, argc, argv);
    if (status >= 0) {
        return status;
    }
    a.parts = a.workers * PARTS_PER_COUNTER;
    a.split = calloc(a.n_files, sizeof(*a.split));
    if (a.split == NULL) {
        fprintf(stderr, "acto-wordfreq: out of memory\n");
        return 1;
    }
    status = run(&a, argv);
    for (size_t i = 0; i < a.n_files; i++) {
        free(a.split[i].carry);
    }
    for (size_t k = 0; k < a.n_maps; k++) {
        wf_map_fini(a.maps[k]);
        free(a.maps[k]);
    }
    free(a.maps);
    free(a.split);
    return status;
}
