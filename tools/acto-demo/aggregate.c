/* acto-demo: the aggregator and the report sink.
 *
 * aggregate is an async stage: for each batch of records it counts the
 * requests by status code and path at once, then finds where the clients
 * are. Networks it knows already are counted at once; for the others it
 * asks geo, each ask under acto_wait_for (the deadline), all of the
 * batch's under one acto_gather with return_exceptions, and its future
 * completes with the batch's summary once the gather has: a network whose
 * ask timed out counts as "no country" (and is asked again when it shows
 * up in a later batch). The stage keeps a few batches in flight and passes
 * their summaries on in order to the report sink, which adds them up. */
#include "demo.h"

#include <stdlib.h>
#include <string.h>

void
demo_free_msg(void *ptr, void *user)
{
    (void)user;
    acto_msg_free(ptr);
}

/* ---- the table by status and path -------------------------------------- */

static uint64_t
entry_hash(uint16_t status, const char *path, size_t len)
{
    uint64_t h = 1469598103934665603ULL ^ status;
    for (size_t i = 0; i < len; i++) {
        h = (h ^ (uint8_t)path[i]) * 1099511628211ULL;
    }
    return h;
}

static demo_entry *
entry_slot(demo_entry *slots, size_t cap, uint16_t status, const char *path,
           size_t len)
{
    size_t i = (size_t)entry_hash(status, path, len) & (cap - 1);
    while (slots[i].count != 0 &&
           (slots[i].status != status || slots[i].path_len != len ||
            memcmp(slots[i].path, path, len) != 0)) {
        i = (i + 1) & (cap - 1);
    }
    return &slots[i];
}

static int
table_grow(demo_table *t)
{
    size_t cap = t->cap != 0 ? t->cap * 2 : 64;
    demo_entry *s = calloc(cap, sizeof(*s));
    if (s == NULL) {
        return ACTO_ENOMEM;
    }
    for (size_t i = 0; i < t->cap; i++) {
        demo_entry *e = &t->slots[i];
        if (e->count != 0) {
            *entry_slot(s, cap, e->status, e->path, e->path_len) = *e;
        }
    }
    free(t->slots);
    t->slots = s;
    t->cap = cap;
    return 0;
}

int
demo_table_add(demo_table *t, const demo_rec *r)
{
    if ((t->n + 1) * 4 > t->cap * 3 && table_grow(t) != 0) {
        return ACTO_ENOMEM;
    }
    demo_entry *e =
        entry_slot(t->slots, t->cap, r->status, r->path, r->path_len);
    if (e->count == 0) {
        e->status = r->status;
        e->path_len = r->path_len;
        memcpy(e->path, r->path, r->path_len);
        e->path[r->path_len] = '\0';
        t->n++;
    }
    e->count++;
    e->bytes += r->bytes;
    return 0;
}

static int
by_count(const void *x, const void *y)
{
    const demo_entry *a = x, *b = y;
    if (a->count != b->count) {
        return a->count < b->count ? 1 : -1;
    }
    if (a->status != b->status) {
        return a->status < b->status ? -1 : 1;
    }
    return strcmp(a->path, b->path);
}

demo_entry *
demo_table_sorted(const demo_table *t)
{
    demo_entry *v = malloc((t->n + 1) * sizeof(*v));
    if (v == NULL) {
        return NULL;
    }
    size_t n = 0;
    for (size_t i = 0; i < t->cap; i++) {
        if (t->slots[i].count != 0) {
            v[n++] = t->slots[i];
        }
    }
    qsort(v, n, sizeof(*v), by_count);
    return v;
}

void
demo_table_free(demo_table *t)
{
    free(t->slots);
    *t = (demo_table){0};
}

/* ---- networks known: net + 1 -> country + 1 ---------------------------- */

static uint64_t *
known_slot(uint64_t *slots, size_t cap, uint32_t net)
{
    uint64_t key = (uint64_t)net + 1;
    size_t i = (size_t)(key * 0x9E3779B97F4A7C15ULL >> 20) & (cap - 1);
    while (slots[i] != 0 && slots[i] >> 8 != key) {
        i = (i + 1) & (cap - 1);
    }
    return &slots[i];
}

/* country_known returns a known network's country + 1, or 0. */
static unsigned
country_known(const demo_agg *g, uint32_t net)
{
    if (g->known_cap == 0) {
        return 0;
    }
    uint64_t s = *known_slot(g->known, g->known_cap, net);
    return s != 0 ? (unsigned)(s & 0xff) : 0;
}

static int
learn(demo_agg *g, uint32_t net, unsigned country)
{
    if ((g->known_n + 1) * 2 > g->known_cap) {
        size_t cap = g->known_cap != 0 ? g->known_cap * 2 : 1024;
        uint64_t *s = calloc(cap, sizeof(*s));
        if (s == NULL) {
            return ACTO_ENOMEM;
        }
        for (size_t i = 0; i < g->known_cap; i++) {
            if (g->known[i] != 0) {
                uint32_t n = (uint32_t)((g->known[i] >> 8) - 1);
                *known_slot(s, cap, n) = g->known[i];
            }
        }
        free(g->known);
        g->known = s;
        g->known_cap = cap;
    }
    uint64_t *slot = known_slot(g->known, g->known_cap, net);
    if (*slot == 0) {
        g->known_n++;
    }
    *slot = ((uint64_t)net + 1) << 8 | (country + 1);
    return 0;
}

void
demo_agg_free(demo_agg *g)
{
    demo_table_free(&g->table);
    free(g->known);
    g->known = NULL;
    g->known_cap = g->known_n = 0;
}

/* ---- a batch in flight ------------------------------------------------- */

/* A batch waiting for geo: its summary so far, the networks asked and how
 * many of its records each has. */
typedef struct job {
    demo_agg *g;
    acto_future *result; /* the stage's future: the summary, as a message */
    demo_summary sum;
    size_t n, cap;   /* networks asked; room for (the batch's size) */
    uint32_t nets[]; /* then uint32_t records[cap] */
} job;

static uint32_t *
job_records(job *j)
{
    return j->nets + j->cap;
}

/* ask_net asks geo about one network; *out is the ask under the deadline. */
static int
ask_net(demo_agg *g, uint32_t net, acto_future **out)
{
    acto_system *sys = g->app->sys;
    acto_msg *m;
    acto_future *ask;
    int rc = acto_msg_new_bytes(sys, T_GEO_ASK, &net, sizeof(net), &m);
    if (rc != 0) {
        return rc;
    }
    if ((rc = acto_ask(sys, g->app->geo, m, 0, &ask)) != 0) {
        acto_msg_free(m);
        return rc;
    }
    rc = acto_wait_for(sys, ask, g->app->o.deadline_ms, out);
    acto_future_release(ask); /* the wait holds it */
    g->asks += rc == 0;
    return rc;
}

/* finish completes a job's future with its summary. */
static void
finish(job *j)
{
    acto_msg *m;
    acto_system *sys = j->g->app->sys;
    if (acto_msg_new_bytes(sys, T_SUMMARY, &j->sum, sizeof(j->sum), &m) != 0) {
        (void)acto_future_set_error(j->result, ACTO_ENOMEM, "OutOfMemory",
                                    "no memory for a summary");
    } else if (acto_future_set_result(j->result, m, demo_free_msg, NULL) != 0) {
        acto_msg_free(m); /* cancelled: the pipeline is stopping */
    }
    acto_future_release(j->result);
    free(j);
}

/* on_gathered counts the answers of a batch's asks. */
static void
on_gathered(acto_future *f, void *user)
{
    job *j = user;
    demo_agg *g = j->g;
    uint32_t *recs = job_records(j);
    void *v = NULL;
    const acto_gather_result *res = acto_future_result(f, &v) == 0 ? v : NULL;
    for (size_t i = 0; i < j->n; i++) {
        const acto_gather_item *it = res != NULL ? &res->items[i] : NULL;
        size_t len;
        const uint8_t *c =
            it != NULL && it->state == ACTO_FUTURE_DONE
                ? acto_msg_data((const acto_msg *)it->value, &len)
                : NULL;
        if (c != NULL && len == 1 && *c < DEMO_COUNTRIES &&
            learn(g, j->nets[i], *c) == 0) {
            g->answers++;
            j->sum.country[*c] += recs[i];
        } else {
            bool late = it != NULL && it->state == ACTO_FUTURE_FAILED &&
                        it->error->code == ACTO_ETIMEDOUT;
            g->timeouts += late;
            g->failures += !late;
            j->sum.no_country += recs[i];
        }
    }
    acto_future_release(f);
    finish(j);
}

/* count adds a batch's records to the table and the summary, and lists
 * the networks to ask about. Returns 0 or ACTO_ENOMEM. */
static int
count(demo_agg *g, job *j, const acto_pipe_batch *b)
{
    uint32_t *recs = job_records(j);
    for (size_t i = 0; i < b->n; i++) {
        size_t len;
        const demo_rec *r = acto_msg_data(b->items[i], &len);
        if (r == NULL || len < offsetof(demo_rec, path) + 1) {
            continue;
        }
        if (demo_table_add(&g->table, r) != 0) {
            return ACTO_ENOMEM;
        }
        j->sum.records++;
        unsigned c = country_known(g, r->net);
        if (c != 0) {
            j->sum.country[c - 1]++;
            continue;
        }
        size_t k = 0;
        while (k < j->n && j->nets[k] != r->net) {
            k++;
        }
        if (k == j->n) {
            j->nets[j->n] = r->net;
            recs[j->n++] = 0;
        }
        recs[k]++;
    }
    g->records += j->sum.records;
    g->batches++;
    return 0;
}

/* ask_all asks geo about the job's networks and gathers the answers. */
static int
ask_all(demo_agg *g, job *j)
{
    acto_future **asks = calloc(j->n, sizeof(*asks));
    if (asks == NULL) {
        return ACTO_ENOMEM;
    }
    int rc = 0;
    size_t n = 0;
    while (n < j->n && (rc = ask_net(g, j->nets[n], &asks[n])) == 0) {
        n++;
    }
    acto_future *all = NULL;
    if (rc == 0) {
        rc = acto_gather(g->app->sys, asks, n, true, &all);
    }
    for (size_t i = 0; i < n; i++) {
        if (rc != 0) {
            (void)acto_future_cancel(asks[i], NULL);
        }
        acto_future_release(asks[i]);
    }
    free(asks);
    if (rc == 0 && (rc = acto_future_add_done_cb(all, on_gathered, j)) != 0) {
        (void)acto_future_cancel(all, NULL);
        acto_future_release(all);
    }
    return rc;
}

int
demo_aggregate(void *state, const acto_msg *item, acto_future **out)
{
    demo_agg *g = state;
    const acto_pipe_batch *b = acto_pipe_batch_of(item);
    if (b == NULL) {
        return ACTO_EINVAL;
    }
    job *j = calloc(1, sizeof(*j) + 2 * b->n * sizeof(uint32_t));
    if (j == NULL) {
        return ACTO_ENOMEM;
    }
    j->g = g;
    j->cap = b->n;
    int rc = count(g, j, b);
    if (rc == 0) {
        rc = acto_future_new(g->app->sys, &j->result);
    }
    if (rc != 0) {
        free(j);
        return rc;
    }
    *out = j->result;
    acto_future_retain(j->result); /* the job's, until it finishes */
    if (j->n == 0) {
        finish(j);
        return 0;
    }
    if ((rc = ask_all(g, j)) != 0) {
        acto_future_release(j->result);
        acto_future_release(j->result);
        free(j);
        return rc;
    }
    return 0;
}

/* ---- the report sink --------------------------------------------------- */

int
demo_report(acto_emitter *out, void *state, const acto_msg *item)
{
    demo_totals *t = state;
    size_t len;
    const demo_summary *s = acto_msg_data(item, &len);
    if (s == NULL || len != sizeof(*s)) {
        return acto_stage_fail(out, ACTO_EINVAL, "BadSummary",
                               "not a batch summary");
    }
    t->batches++;
    t->records += s->records;
    t->no_country += s->no_country;
    for (size_t i = 0; i < DEMO_COUNTRIES; i++) {
        t->country[i] += s->country[i];
    }
    return 0;
}
