/* The supervisor's bookkeeping: child lists, the ref map, child records
 * and spec validation. */
#include "sup_internal.h"

#include <string.h>

#define MAX_ID 255
#define DEFAULT_WORKER_BUDGET 5000

/* ---- lists and the ref map ------------------------------------------- */

void
acto__sup_list_push(child_list *l, child *c)
{
    c->next = NULL;
    c->prev = l->tail;
    if (l->tail != NULL) {
        l->tail->next = c;
    } else {
        l->head = c;
    }
    l->tail = c;
    l->n++;
}

void
acto__sup_list_remove(child_list *l, child *c)
{
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        l->head = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    } else {
        l->tail = c->prev;
    }
    c->prev = c->next = NULL;
    l->n--;
}

void
acto__sup_queue_push(child_list *l, child *c, uint8_t which)
{
    c->qnext = NULL;
    c->qprev = l->tail;
    if (l->tail != NULL) {
        l->tail->qnext = c;
    } else {
        l->head = c;
    }
    l->tail = c;
    l->n++;
    c->queue = which;
}

void
acto__sup_queue_remove(child_list *l, child *c)
{
    if (c->qprev != NULL) {
        c->qprev->qnext = c->qnext;
    } else {
        l->head = c->qnext;
    }
    if (c->qnext != NULL) {
        c->qnext->qprev = c->qprev;
    } else {
        l->tail = c->qprev;
    }
    c->qprev = c->qnext = NULL;
    c->queue = Q_NONE;
    l->n--;
}

static size_t
map_hash(uint64_t id, size_t cap)
{
    /* By slot: live actors never share one, the runtime hands them out
     * densely, and children spawned (and stopped) in turn then sit side
     * by side, so a large map costs few cache misses. */
    return (size_t)acto_ref_slot((acto_ref){id}) & (cap - 1);
}

child *
acto__sup_map_get(const child_map *m, acto_ref ref)
{
    if (m->cap == 0 || ref.id == 0) {
        return NULL;
    }
    size_t mask = m->cap - 1;
    for (size_t i = map_hash(ref.id, m->cap);; i = (i + 1) & mask) {
        if (m->slots[i].key == ref.id) {
            return m->slots[i].c;
        }
        if (m->slots[i].key == 0) {
            return NULL;
        }
    }
}

static void
map_insert(child_map *m, uint64_t key, child *c)
{
    size_t i = map_hash(key, m->cap);
    while (m->slots[i].key != 0) {
        i = (i + 1) & (m->cap - 1);
    }
    m->slots[i] = (child_slot){key, c};
    m->n++;
}

static int
map_grow(child_map *m)
{
    size_t cap = m->cap != 0 ? m->cap * 2 : 16;
    child_slot *slots = acto_calloc(cap, sizeof(*slots));
    if (slots == NULL) {
        return ACTO_ENOMEM;
    }
    child_map old = *m;
    *m = (child_map){slots, cap, 0};
    for (size_t i = 0; i < old.cap; i++) {
        if (old.slots[i].key != 0) {
            map_insert(m, old.slots[i].key, old.slots[i].c);
        }
    }
    acto_free(old.slots, old.cap * sizeof(*old.slots));
    return 0;
}

int
acto__sup_map_put(child_map *m, child *c)
{
    if ((m->n + 1) * 4 > m->cap * 3) {
        int rc = map_grow(m);
        if (rc != 0) {
            return rc;
        }
    }
    map_insert(m, c->ref.id, c);
    return 0;
}

/* Deletes with backward shifting, so lookups never need tombstones. */
void
acto__sup_map_del(child_map *m, child *c)
{
    if (m->cap == 0) {
        return;
    }
    size_t mask = m->cap - 1;
    size_t i = map_hash(c->ref.id, m->cap);
    while (m->slots[i].key != c->ref.id) {
        if (m->slots[i].key == 0) {
            return;
        }
        i = (i + 1) & mask;
    }
    m->slots[i] = (child_slot){0, NULL};
    m->n--;
    for (size_t j = (i + 1) & mask; m->slots[j].key != 0; j = (j + 1) & mask) {
        size_t home = map_hash(m->slots[j].key, m->cap);
        /* Move j back into the hole when its home is not in (i, j]. */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            m->slots[i] = m->slots[j];
            m->slots[j] = (child_slot){0, NULL};
            i = j;
        }
    }
}

/* ---- child records ---------------------------------------------------- */

static void *
dup_bytes(const void *p, size_t n)
{
    if (n == 0) {
        return NULL;
    }
    void *d = acto_malloc(n);
    if (d != NULL) {
        memcpy(d, p, n);
    }
    return d;
}

child *
acto__sup_new_child(sup *s, const acto_child_spec *spec, const void *arg,
                    size_t len)
{
    child *c = acto_calloc(1, sizeof(*c));
    if (c == NULL) {
        return NULL;
    }
    bool dynamic = s->flags.strategy == ACTO_SIMPLE_ONE_FOR_ONE;
    if (dynamic) {
        c->id = (char *)spec->id; /* the pool spec's, owned by s */
    } else {
        c->id_size = strlen(spec->id) + 1;
        c->id = dup_bytes(spec->id, c->id_size);
        arg = spec->arg;
        len = spec->arg_len;
    }
    if (len > 0 && len <= sizeof(c->small)) {
        memcpy(c->small, arg, len); /* no allocation for small ones */
        c->arg = c->small;
    } else {
        c->arg = dup_bytes(arg, len);
    }
    c->arg_len = len;
    if ((!dynamic && c->id == NULL) || (len > 0 && c->arg == NULL)) {
        acto__sup_free_child(s, c);
        return NULL;
    }
    c->start = spec->start;
    c->restart = (uint8_t)spec->restart;
    c->kind = (uint8_t)spec->kind;
    c->significant = spec->significant;
    c->shutdown_ms =
        spec->shutdown_ms != ACTO_SHUTDOWN_DEFAULT ? spec->shutdown_ms
        : spec->kind == ACTO_CHILD_SUPERVISOR      ? ACTO_SHUTDOWN_INFINITY
                                                   : DEFAULT_WORKER_BUDGET;
    c->state = ACTO_CHILD_TERMINATED;
    return c;
}

void
acto__sup_drop_arg(child *c)
{
    if (c->arg != NULL && c->arg != c->small) {
        acto_free(c->arg, c->arg_len);
    }
    c->arg = NULL;
    c->arg_len = 0;
}

void
acto__sup_free_child(sup *s, child *c)
{
    (void)s;
    if (c->id_size > 0) {
        acto_free(c->id, c->id_size);
    }
    acto__sup_drop_arg(c);
    acto_free(c, sizeof(*c));
}

/* ---- validation ------------------------------------------------------- */

int
acto__sup_validate(const acto_sup_flags *f, const acto_child_spec *c)
{
    if (c == NULL || c->id == NULL || c->id[0] == '\0' ||
        strlen(c->id) > MAX_ID || c->start == NULL ||
        (c->arg == NULL && c->arg_len > 0) ||
        (unsigned)c->restart > ACTO_RESTART_TEMPORARY ||
        (unsigned)c->kind > ACTO_CHILD_SUPERVISOR ||
        (c->shutdown_ms < 0 && c->shutdown_ms != ACTO_SHUTDOWN_BRUTAL_KILL &&
         c->shutdown_ms != ACTO_SHUTDOWN_INFINITY)) {
        return ACTO_EINVAL;
    }
    /* OTP's bad_combination. */
    if (c->significant && (c->restart == ACTO_RESTART_PERMANENT ||
                           f->auto_shutdown == ACTO_AUTO_SHUTDOWN_NEVER)) {
        return ACTO_EINVAL;
    }
    return 0;
}

int
acto__sup_validate_flags(const acto_sup_flags *f, const acto_child_spec *specs,
                         size_t n)
{
    const acto_backoff *b = &f->backoff;
    if ((unsigned)f->strategy > ACTO_SIMPLE_ONE_FOR_ONE ||
        (unsigned)f->auto_shutdown > ACTO_AUTO_SHUTDOWN_ALL_SIGNIFICANT ||
        !(b->jitter >= 0.0 && b->jitter <= 1.0) ||
        (b->max_ms != 0 && b->max_ms < b->min_ms) || (n > 0 && specs == NULL)) {
        return ACTO_EINVAL;
    }
    if (f->strategy == ACTO_SIMPLE_ONE_FOR_ONE &&
        (n != 1 || f->auto_shutdown != ACTO_AUTO_SHUTDOWN_NEVER)) {
        return ACTO_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        int rc = acto__sup_validate(f, &specs[i]);
        if (rc != 0) {
            return rc;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(specs[i].id, specs[j].id) == 0) {
                return ACTO_EINVAL;
            }
        }
    }
    return 0;
}
