/* acto-trace: reading a trace through the protocols/ reader, with
 * progress on a terminal, and the table of actors met along the way. */
#include "at.h"

#include <acto/error.h>
#include <acto/msg.h>

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* How often progress is considered, in events (a power of two). */
#define PROGRESS_EVERY (1u << 20)

static int
open_reader(at_trace *t)
{
    int rc = acto_tracefile_reader_open(t->path, NULL, &t->r);
    if (rc != 0) {
        fprintf(stderr, "acto-trace: %s: %s\n", t->path, acto_strerror(rc));
        return AT_FAIL;
    }
    t->info_ok = acto_tracefile_info_get(t->r, &t->info) == 0;
    t->status = 0;
    t->err[0] = '\0';
    t->events = 0;
    t->batch_i = t->batch_n = 0;
    return AT_OK;
}

int
at_trace_open(at_trace *t, const char *path)
{
    memset(t, 0, sizeof(*t));
    t->path = path;
    struct stat st;
    if (stat(path, &st) == 0) {
        t->size = (uint64_t)st.st_size;
    }
    t->progress =
        isatty(STDERR_FILENO) && getenv("ACTO_TRACE_NO_PROGRESS") == NULL;
    at_actor_of(t, 0); /* index 0: outside */
    return open_reader(t);
}

int
at_trace_rewind(at_trace *t)
{
    acto_tracefile_reader_close(t->r);
    t->r = NULL;
    return open_reader(t);
}

static void
show_progress(at_trace *t, bool done)
{
    static time_t last;
    time_t now = time(NULL);
    if (!done && now == last) {
        return;
    }
    last = now;
    fprintf(stderr, "\racto-trace: %llu events read",
            (unsigned long long)t->events);
    if (t->size > 0 && !done) {
        /* About 12 bytes per event in the file. */
        double share = (double)t->events * 12.0 / (double)t->size;
        fprintf(stderr, " (~%.0f%%)", share > 0.99 ? 99.0 : share * 100.0);
    }
    fputs(done ? "\n" : "   ", stderr);
}

int
at_trace_next_batch(at_trace *t, acto_trace_event *e)
{
    if (t->status != 0) {
        return t->status > 0 ? 0 : -1;
    }
    if (t->progress && t->events >= PROGRESS_EVERY) {
        show_progress(t, false); /* at most once a second */
    }
    size_t n = 0;
    int rc = acto_tracefile_next_batch(
        t->r, t->batch, sizeof(t->batch) / sizeof(t->batch[0]), &n);
    t->batch_i = 0;
    t->batch_n = rc == 1 ? n : 0;
    if (rc == 1) {
        return at_trace_next(t, e);
    }
    if (t->progress && t->events >= PROGRESS_EVERY) {
        show_progress(t, true);
    }
    if (rc == 0) {
        t->status = 1;
        return 0;
    }
    t->status = rc;
    const char *why = acto_tracefile_error(t->r);
    snprintf(t->err, sizeof(t->err), "%s (%s)",
             why[0] != '\0' ? why : acto_strerror(rc), acto_err_name(rc));
    return -1;
}

int
at_trace_report(const at_trace *t)
{
    if (t->status < 0) {
        fprintf(stderr, "acto-trace: %s: %s\n", t->path, t->err);
        return AT_FAIL;
    }
    return AT_OK;
}

void
at_trace_close(at_trace *t)
{
    acto_tracefile_reader_close(t->r);
    for (size_t i = 0; i < t->n_actors; i++) {
        at_vec_free(&t->actors[i]->handle_ns);
        at_vec_free(&t->actors[i]->wait_ns);
        free(t->actors[i]->name);
        free(t->actors[i]->label);
        free(t->actors[i]->label2);
        free(t->actors[i]);
    }
    free(t->actors);
    at_map_free(&t->actor_ix);
    memset(t, 0, sizeof(*t));
}

/* ---- actors ------------------------------------------------------------ */

at_actor *
at_actor_find(const at_trace *t, uint64_t ref)
{
    if (ref == 0) {
        return t->n_actors > 0 ? t->actors[0] : NULL;
    }
    uint64_t *ix = at_map_get(&t->actor_ix, ref);
    return ix != NULL ? t->actors[*ix - 1] : NULL;
}

at_actor *
at_actor_of(at_trace *t, uint64_t ref)
{
    if (ref == t->last_ref && t->n_actors > 0) {
        return t->actors[t->last_ix];
    }
    size_t ix;
    if (ref == 0 && t->n_actors > 0) {
        ix = 0;
    } else {
        bool fresh;
        uint64_t *v = at_map_put(&t->actor_ix, ref == 0 ? ~0ull : ref, &fresh);
        if (fresh) {
            if (t->n_actors == t->cap_actors) {
                t->cap_actors = t->cap_actors ? t->cap_actors * 2 : 64;
                t->actors =
                    at_realloc(t->actors, t->cap_actors * sizeof(*t->actors));
            }
            t->actors[t->n_actors] = at_calloc(1, sizeof(at_actor));
            t->actors[t->n_actors]->ref = ref;
            *v = ++t->n_actors;
        }
        ix = (size_t)*v - 1;
    }
    t->last_ref = ref;
    t->last_ix = (uint32_t)ix;
    return t->actors[ix];
}

const char *
at_ref_str(uint64_t ref, char buf[32])
{
    acto_ref r = {ref};
    if (acto_ref_shard(r) != 0) {
        snprintf(buf, 32, "%u:%u.%u", acto_ref_shard(r), acto_ref_slot(r),
                 acto_ref_generation(r));
    } else {
        snprintf(buf, 32, "%u.%u", acto_ref_slot(r), acto_ref_generation(r));
    }
    return buf;
}

bool
at_ref_is_ask(uint64_t ref)
{
    return acto_ref_slot((acto_ref){ref}) == UINT32_MAX;
}

const char *
at_actor_name(at_trace *t, at_actor *a)
{
    if (a->ref == 0) {
        return "outside";
    }
    if (at_ref_is_ask(a->ref)) {
        return "ask";
    }
    if (t->r != NULL) {
        const char *n = acto_tracefile_actor_name(t->r, (acto_ref){a->ref});
        if (n != NULL && (a->name == NULL || strcmp(n, a->name) != 0)) {
            free(a->name);
            a->name = at_strdup(n);
        }
    }
    return a->name;
}

const char *
at_actor_label(at_trace *t, at_actor *a)
{
    static char buf[4][1100];
    static int turn;
    char *b = buf[turn++ & 3];
    char ref[32];
    const char *n = at_actor_name(t, a);
    if (a->ref == 0 || at_ref_is_ask(a->ref)) {
        return n;
    }
    at_ref_str(a->ref, ref);
    if (n != NULL) {
        snprintf(b, sizeof(buf[0]), "%s %s", n, ref);
    } else {
        snprintf(b, sizeof(buf[0]), "actor %s", ref);
    }
    return b;
}

const char *
at_type_name(const at_trace *t, uint32_t type, char buf[32])
{
    const char *n = t->r != NULL ? acto_tracefile_type_name(t->r, type) : NULL;
    if (n != NULL) {
        return n;
    }
    switch (type) {
    case ACTO_MSG_CHILD_FAILED:
        return "CHILD_FAILED";
    case ACTO_MSG_DOWN:
        return "DOWN";
    case ACTO_MSG_RECEIVE_TIMEOUT:
        return "RECEIVE_TIMEOUT";
    case ACTO_MSG_SYSTEM_BASE + 0x100u:
        return "THEN";
    default:
        break;
    }
    snprintf(buf, 32, "0x%x", type);
    return buf;
}

const char *
at_kind_name(uint16_t kind)
{
    static const char *const names[] = {
        "?",          "SPAWN",  "STOP", "SEND",    "HANDLE", "HANDLED",
        "PARK",       "UNPARK", "FAIL", "RESTART", "FUTURE", "TIMER_SET",
        "TIMER_FIRE", "DEAD",   "DROP", "LOST"};
    return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "?";
}

const char *
at_exit_name(uint32_t kind)
{
    static const char *const names[] = {"normal", "killed", "failed",
                                        "shutdown", "noactor"};
    return kind < 5 ? names[kind] : "?";
}
