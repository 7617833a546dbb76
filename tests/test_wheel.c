/* acto__wheel: firing order, exact next_due, changes from inside callbacks,
 * far-future deadlines, a million entries, and a seeded comparison with a
 * reference model. */
#include "acto_test.h"

#include "../runtime/wheel.h"

#include <stdlib.h>
#include <string.h>

typedef struct item {
    acto__wheel_entry entry;
    int id;
} item;

#define MAX_LOG 64

/* What fired, in order, and what the callback should do about it. */
typedef struct recorder {
    acto__wheel *w;
    int ids[MAX_LOG];
    size_t n;
    item *readd; /* re-added from its own callback, by interval */
    uint64_t interval;
    item *remove_other; /* removed by the first callback */
    item *add_other;    /* added by the first callback at add_due */
    uint64_t add_due;
} recorder;

static item *
item_of(acto__wheel_entry *e)
{
    return (item *)(void *)((char *)e - offsetof(item, entry));
}

static void
record_cb(acto__wheel_entry *e, void *user)
{
    recorder *r = user;
    item *it = item_of(e);
    assert_false(acto__wheel_entry_pending(e));
    assert_true(r->n < MAX_LOG);
    r->ids[r->n++] = it->id;
    if (it == r->readd) {
        acto__wheel_add(r->w, e, r->w->now + r->interval);
    }
    if (r->remove_other != NULL) {
        acto__wheel_remove(r->w, &r->remove_other->entry);
        r->remove_other = NULL;
    }
    if (r->add_other != NULL) {
        acto__wheel_add(r->w, &r->add_other->entry, r->add_due);
        r->add_other = NULL;
    }
}

static void
items_init(item *items, int n)
{
    for (int i = 0; i < n; i++) {
        acto__wheel_entry_init(&items[i].entry);
        items[i].id = i;
    }
}

static recorder
recorder_make(acto__wheel *w)
{
    recorder r;
    memset(&r, 0, sizeof r);
    r.w = w;
    return r;
}

static uint64_t
next_due(acto__wheel *w)
{
    uint64_t due = 0;
    assert_true(acto__wheel_next_due(w, &due));
    return due;
}

static void
assert_fired(recorder *r, const int *want, size_t n)
{
    assert_int_equal(r->n, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(r->ids[i], want[i]);
    }
    r->n = 0;
}

/* The wheel is about 17 KB: keep it off the stack. */
static acto__wheel *
wheel_new(uint64_t now)
{
    acto__wheel *w = malloc(sizeof *w);
    assert_non_null(w);
    acto__wheel_init(w, now);
    return w;
}

/* ---- order ------------------------------------------------------------ */

static void
test_wheel_fires_in_due_order_and_ties_in_add_order(void **state)
{
    (void)state;
    acto__wheel *w = wheel_new(1000);
    recorder r = recorder_make(w);
    item it[6];
    items_init(it, 6);
    /* Due times on three levels, with ties added apart in time. */
    acto__wheel_add(w, &it[0].entry, 1000 + 5000);
    acto__wheel_add(w, &it[1].entry, 1000 + 30);
    acto__wheel_add(w, &it[2].entry, 1000 + 5000);
    acto__wheel_add(w, &it[3].entry, 1000 + 300);
    acto__wheel_add(w, &it[4].entry, 1000 + 30);
    assert_int_equal(acto__wheel_count(w), 5);
    assert_int_equal(next_due(w), 1030);
    assert_int_equal(acto__wheel_expire(w, 1000 + 4000, record_cb, &r), 3);
    assert_fired(&r, (int[]){1, 4, 3}, 3);
    /* Same due time, added after the others cascaded part of the way. */
    acto__wheel_add(w, &it[5].entry, 1000 + 5000);
    assert_int_equal(next_due(w), 6000);
    assert_int_equal(acto__wheel_expire(w, 6000, record_cb, &r), 3);
    assert_fired(&r, (int[]){0, 2, 5}, 3);
    assert_int_equal(acto__wheel_count(w), 0);
    uint64_t due = 7;
    assert_false(acto__wheel_next_due(w, &due));
    assert_int_equal(due, 7);
    free(w);
}

static void
test_wheel_fires_nothing_before_the_due_time(void **state)
{
    (void)state;
    acto__wheel *w = wheel_new(0);
    recorder r = recorder_make(w);
    const uint64_t dues[] = {1, 63, 64, 65, 4095, 4096, 100000, 1u << 30};
    item it[8];
    items_init(it, 8);
    for (int i = 0; i < 8; i++) {
        acto__wheel_add(w, &it[i].entry, dues[i]);
    }
    for (int i = 0; i < 8; i++) {
        assert_int_equal(next_due(w), dues[i]);
        assert_int_equal(acto__wheel_expire(w, dues[i] - 1, record_cb, &r), 0);
        assert_true(acto__wheel_entry_pending(&it[i].entry));
        assert_int_equal(acto__wheel_expire(w, dues[i], record_cb, &r), 1);
        assert_fired(&r, (int[]){i}, 1);
        assert_int_equal(acto__wheel_count(w), (size_t)(7 - i));
    }
    free(w);
}

static void
test_wheel_smaller_now_counts_as_the_current_time(void **state)
{
    (void)state;
    acto__wheel *w = wheel_new(500);
    recorder r = recorder_make(w);
    item it[2];
    items_init(it, 2);
    acto__wheel_add(w, &it[0].entry, 400);
    acto__wheel_add(w, &it[1].entry, 501);
    assert_int_equal(next_due(w), 500);
    assert_int_equal(acto__wheel_expire(w, 10, record_cb, &r), 1);
    assert_fired(&r, (int[]){0}, 1);
    assert_int_equal(next_due(w), 501);
    assert_int_equal(acto__wheel_expire(w, 501, record_cb, &r), 1);
    assert_fired(&r, (int[]){1}, 1);
    free(w);
}

/* ---- remove ----------------------------------------------------------- */

static void
test_wheel_removed_entry_never_fires(void **state)
{
    (void)state;
    acto__wheel *w = wheel_new(0);
    recorder r = recorder_make(w);
    item it[3];
    items_init(it, 3);
    acto__wheel_remove(w, &it[0].entry); /* not linked: harmless */
    acto__wheel_add(w, &it[0].entry, 10);
    acto__wheel_add(w, &it[1].entry, 20);
    acto__wheel_add(w, &it[2].entry, 0); /* past due */
    acto__wheel_remove(w, &it[0].entry);
    acto__wheel_remove(w, &it[0].entry);
    acto__wheel_remove(w, &it[2].entry);
    assert_false(acto__wheel_entry_pending(&it[0].entry));
    assert_int_equal(acto__wheel_count(w), 1);
    assert_int_equal(next_due(w), 20);
    assert_int_equal(acto__wheel_expire(w, 1000, record_cb, &r), 1);
    assert_fired(&r, (int[]){1}, 1);
    free(w);
}

static void
test_wheel_next_due_is_exact_after_removing_the_earliest(void **state)
{
    (void)state;
    acto__wheel *w = wheel_new(0);
    item it[5];
    items_init(it, 5);
    /* One level 2 slot holds all of them. */
    const uint64_t dues[] = {5000, 5001, 6000, 7777, 8000};
    for (int i = 4; i >= 0; i--) {
        acto__wheel_add(w, &it[i].entry, dues[i]);
    }
    for (int i = 0; i < 5; i++) {
        assert_int_equal(next_due(w), dues[i]);
        acto__wheel_remove(w, &it[i].entry);
    }
    assert_int_equal(acto__wheel_count(w), 0);
    /* A stale slot that becomes the first one is exact too. */
    acto__wheel_add(w, &it[0].entry, 300000);
    acto__wheel_add(w, &it[1].entry, 300500);
    acto__wheel_add(w, &it[2].entry, 5000);
    acto__wheel_remove(w, &it[0].entry);
    assert_int_equal(next_due(w), 5000);
    acto__wheel_remove(w, &it[2].entry);
    assert_int_equal(next_due(w), 300500);
    free(w);
}

/* ---- changes from callbacks ------------------------------------------- */

static void
test_wheel_callback_may_remove_an_entry_due_in_the_same_call(void **state)
{
    (void)state;
    acto__wheel *w = wheel_new(0);
    recorder r = recorder_make(w);
    item it[4];
    items_init(it, 4);
    acto__wheel_add(w, &it[0].entry, 10);
    acto__wheel_add(w, &it[1].entry, 10); /* same slot, removed by 0 */
    acto__wheel_add(w, &it[2].entry, 5000);
    acto__wheel_add(w, &it[3].entry, 5000);
    r.remove_other = &it[1];
    assert_int_equal(acto__wheel_expire(w, 100000, record_cb, &r), 3);
    assert_fired(&r, (int[]){0, 2, 3}, 3);
    /* And one due later in the same call, on another level. */
    acto__wheel_add(w, &it[0].entry, 100001);
    acto__wheel_add(w, &it[1].entry, 200000);
    r.remove_other = &it[1];
    assert_int_equal(acto__wheel_expire(w, 300000, record_cb, &r), 1);
    assert_fired(&r, (int[]){0}, 1);
    assert_int_equal(acto__wheel_count(w), 0);
    free(w);
}

static void
test_wheel_callback_may_add_entries_that_fire_later(void **state)
{
    (void)state;
    acto__wheel *w = wheel_new(0);
    recorder r = recorder_make(w);
    item it[2];
    items_init(it, 2);
    acto__wheel_add(w, &it[0].entry, 10);
    /* Due within this call's range, added during it: next call. */
    r.add_other = &it[1];
    r.add_due = 50;
    assert_int_equal(acto__wheel_expire(w, 100, record_cb, &r), 1);
    assert_fired(&r, (int[]){0}, 1);
    assert_true(acto__wheel_entry_pending(&it[1].entry));
    assert_int_equal(next_due(w), 100);
    assert_int_equal(acto__wheel_expire(w, 100, record_cb, &r), 1);
    assert_fired(&r, (int[]){1}, 1);
    /* Due after this call: fires when reached. */
    acto__wheel_add(w, &it[0].entry, 110);
    r.add_other = &it[1];
    r.add_due = 70000;
    assert_int_equal(acto__wheel_expire(w, 200, record_cb, &r), 1);
    assert_int_equal(next_due(w), 70000);
    assert_int_equal(acto__wheel_expire(w, 69999, record_cb, &r), 0);
    assert_int_equal(acto__wheel_expire(w, 70000, record_cb, &r), 1);
    assert_fired(&r, (int[]){0, 1}, 2);
    free(w);
}

static void
test_wheel_readded_entry_fires_on_the_next_call_only(void **state)
{
    (void)state;
    acto__wheel *w = wheel_new(0);
    recorder r = recorder_make(w);
    item it[1];
    items_init(it, 1);
    /* A zero interval cannot loop inside one call. */
    r.readd = &it[0];
    r.interval = 0;
    acto__wheel_add(w, &it[0].entry, 5);
    for (int call = 0; call < 3; call++) {
        assert_int_equal(acto__wheel_expire(w, 1000, record_cb, &r), 1);
        assert_true(acto__wheel_entry_pending(&it[0].entry));
        assert_int_equal(next_due(w), 1000);
    }
    r.n = 0;
    /* A 10 ms interval fires once per call even when the clock jumps. */
    r.interval = 10;
    assert_int_equal(acto__wheel_expire(w, 5000, record_cb, &r), 1);
    assert_int_equal(next_due(w), 5010);
    assert_int_equal(acto__wheel_expire(w, 5009, record_cb, &r), 0);
    assert_int_equal(acto__wheel_expire(w, 5010, record_cb, &r), 1);
    assert_int_equal(next_due(w), 5020);
    r.readd = NULL;
    assert_int_equal(acto__wheel_expire(w, 5020, record_cb, &r), 1);
    assert_int_equal(acto__wheel_count(w), 0);
    free(w);
}

static void
test_wheel_past_due_entries_fire_at_the_next_expire_in_due_order(void **state)
{
    (void)state;
    acto__wheel *w = wheel_new(1000);
    recorder r = recorder_make(w);
    item it[4];
    items_init(it, 4);
    acto__wheel_add(w, &it[0].entry, 1000);
    acto__wheel_add(w, &it[1].entry, 10);
    acto__wheel_add(w, &it[2].entry, 1000);
    acto__wheel_add(w, &it[3].entry, 0);
    assert_int_equal(next_due(w), 1000);
    assert_int_equal(acto__wheel_expire(w, 1000, record_cb, &r), 4);
    assert_fired(&r, (int[]){3, 1, 0, 2}, 4);
    free(w);
}

/* ---- far future and clock jumps ---------------------------------------- */

static void
test_wheel_far_future_entries_fire_exactly_when_reached(void **state)
{
    (void)state;
    acto__wheel *w = wheel_new(12345);
    recorder r = recorder_make(w);
    item it[4];
    items_init(it, 4);
    const uint64_t far = 12345 + (UINT64_C(1) << 40);
    acto__wheel_add(w, &it[0].entry, UINT64_MAX);
    acto__wheel_add(w, &it[1].entry, UINT64_MAX - 1);
    acto__wheel_add(w, &it[2].entry, far);
    acto__wheel_add(w, &it[3].entry, far + 1);
    assert_int_equal(next_due(w), far);
    /* Walk up in steps that cascade through every level. */
    for (uint64_t t = 12345; t < far - 1; t += (far - t) / 2) {
        assert_int_equal(acto__wheel_expire(w, t, record_cb, &r), 0);
        assert_int_equal(next_due(w), far);
    }
    assert_int_equal(acto__wheel_expire(w, far - 1, record_cb, &r), 0);
    assert_int_equal(acto__wheel_expire(w, far, record_cb, &r), 1);
    assert_int_equal(next_due(w), far + 1);
    assert_int_equal(acto__wheel_expire(w, far + 1, record_cb, &r), 1);
    assert_fired(&r, (int[]){2, 3}, 2);
    assert_int_equal(next_due(w), UINT64_MAX - 1);
    assert_int_equal(acto__wheel_expire(w, UINT64_MAX - 2, record_cb, &r), 0);
    assert_int_equal(next_due(w), UINT64_MAX - 1);
    assert_int_equal(acto__wheel_expire(w, UINT64_MAX - 1, record_cb, &r), 1);
    assert_int_equal(next_due(w), UINT64_MAX);
    assert_int_equal(acto__wheel_expire(w, UINT64_MAX, record_cb, &r), 1);
    assert_fired(&r, (int[]){1, 0}, 2);
    assert_int_equal(acto__wheel_count(w), 0);
    /* Adds at the end of time still work. */
    acto__wheel_add(w, &it[0].entry, UINT64_MAX);
    assert_int_equal(next_due(w), UINT64_MAX);
    assert_int_equal(acto__wheel_expire(w, UINT64_MAX, record_cb, &r), 1);
    free(w);
}

static void
test_wheel_clock_jump_over_many_levels_fires_everything_in_order(void **state)
{
    (void)state;
    acto__wheel *w = wheel_new(7);
    recorder r = recorder_make(w);
    enum { N = 40 };
    item it[N];
    items_init(it, N);
    /* Due times 2^k + k, added from the farthest, on every level. */
    for (int k = N - 1; k >= 0; k--) {
        acto__wheel_add(w, &it[k].entry, 7 + (UINT64_C(1) << k) + (uint64_t)k);
    }
    assert_int_equal(next_due(w), 8);
    assert_int_equal(acto__wheel_expire(w, UINT64_C(1) << 50, record_cb, &r),
                     N);
    int want[N];
    for (int k = 0; k < N; k++) {
        want[k] = k;
    }
    assert_fired(&r, want, N);
    assert_int_equal(acto__wheel_count(w), 0);
    free(w);
}

/* ---- scale ------------------------------------------------------------- */

typedef struct big_check {
    uint64_t last_due;
    size_t fired;
    bool ordered;
} big_check;

static void
big_cb(acto__wheel_entry *e, void *user)
{
    big_check *c = user;
    if (e->due < c->last_due) {
        c->ordered = false;
    }
    c->last_due = e->due;
    c->fired++;
}

static void
test_wheel_million_entries_add_and_expire_in_order(void **state)
{
    (void)state;
    enum { N = 1000000 };
    acto__wheel *w = wheel_new(0);
    acto__wheel_entry *es = calloc(N, sizeof *es);
    assert_non_null(es);
    uint64_t x = 88172645463325252u;
    uint64_t min = UINT64_MAX;
    for (size_t i = 0; i < N; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint64_t due = 1 + x % (UINT64_C(1) << 24); /* up to ~4.6 hours */
        acto__wheel_entry_init(&es[i]);
        acto__wheel_add(w, &es[i], due);
        min = due < min ? due : min;
    }
    assert_int_equal(acto__wheel_count(w), N);
    assert_int_equal(next_due(w), min);
    /* Remove every tenth; the rest fire in order across a few jumps. */
    for (size_t i = 0; i < N; i += 10) {
        acto__wheel_remove(w, &es[i]);
    }
    assert_int_equal(acto__wheel_count(w), N - N / 10);
    big_check c = {0, 0, true};
    size_t total = 0;
    for (uint64_t t = 1000; t < (UINT64_C(1) << 25); t *= 7) {
        total += acto__wheel_expire(w, t, big_cb, &c);
        assert_int_equal(acto__wheel_count(w), N - N / 10 - total);
        uint64_t due;
        if (acto__wheel_next_due(w, &due)) {
            assert_true(due > t);
        }
    }
    total += acto__wheel_expire(w, UINT64_C(1) << 25, big_cb, &c);
    assert_true(c.ordered);
    assert_int_equal(total, N - N / 10);
    assert_int_equal(c.fired, total);
    assert_int_equal(acto__wheel_count(w), 0);
    free(es);
    free(w);
}

/* ---- reference model ---------------------------------------------------- */

enum { MODEL_N = 48 };

/* The model: each entry's due time and add sequence, scanned linearly. */
typedef struct model {
    acto__wheel *w;
    item items[MODEL_N];
    bool pending[MODEL_N];
    bool in_batch[MODEL_N]; /* may still fire in the running expire */
    uint64_t due[MODEL_N];
    uint64_t seq[MODEL_N];
    uint64_t next_seq;
    uint64_t now;
    uint64_t rng;
    size_t fired;
} model;

static uint64_t
rnd(model *m)
{
    m->rng ^= m->rng << 13;
    m->rng ^= m->rng >> 7;
    m->rng ^= m->rng << 17;
    return m->rng;
}

static uint64_t
sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* A due time: mostly near, sometimes past, far or at the end of time. */
static uint64_t
random_due(model *m)
{
    switch (rnd(m) % 10) {
    case 0:
        return m->now - (m->now < 100 ? m->now : rnd(m) % 100);
    case 1:
        return m->now;
    case 2:
    case 3:
    case 4:
        return sat_add(m->now, rnd(m) % 64);
    case 5:
    case 6:
        return sat_add(m->now, rnd(m) % 5000);
    case 7:
        return sat_add(m->now, rnd(m) % (UINT64_C(1) << 20));
    case 8:
        return sat_add(m->now, rnd(m) >> (rnd(m) % 64));
    default:
        return UINT64_MAX - rnd(m) % 3;
    }
}

static uint64_t
random_jump(model *m)
{
    switch (rnd(m) % 8) {
    case 0:
        return 0;
    case 1:
    case 2:
    case 3:
        return rnd(m) % 70;
    case 4:
    case 5:
        return rnd(m) % 10000;
    case 6:
        return rnd(m) % (UINT64_C(1) << 22);
    default:
        return rnd(m) >> (rnd(m) % 64);
    }
}

static void
model_add(model *m, int i, uint64_t due)
{
    acto__wheel_add(m->w, &m->items[i].entry, due);
    m->pending[i] = true;
    m->in_batch[i] = false;
    m->due[i] = due;
    m->seq[i] = m->next_seq++;
}

static void
model_remove(model *m, int i)
{
    acto__wheel_remove(m->w, &m->items[i].entry);
    m->pending[i] = false;
    m->in_batch[i] = false;
}

static void
model_check(model *m)
{
    size_t count = 0;
    uint64_t min = UINT64_MAX;
    for (int i = 0; i < MODEL_N; i++) {
        assert_int_equal(acto__wheel_entry_pending(&m->items[i].entry),
                         m->pending[i]);
        if (m->pending[i]) {
            count++;
            min = m->due[i] < min ? m->due[i] : min;
        }
    }
    assert_int_equal(acto__wheel_count(m->w), count);
    uint64_t due = 0;
    assert_int_equal(acto__wheel_next_due(m->w, &due), count > 0);
    if (count > 0) {
        assert_int_equal(due, min < m->now ? m->now : min);
    }
}

/* The entry that must fire next in the running expire, or -1. */
static int
model_next(const model *m)
{
    int best = -1;
    for (int i = 0; i < MODEL_N; i++) {
        if (m->in_batch[i] &&
            (best < 0 || m->due[i] < m->due[best] ||
             (m->due[i] == m->due[best] && m->seq[i] < m->seq[best]))) {
            best = i;
        }
    }
    return best;
}

static void
model_cb(acto__wheel_entry *e, void *user)
{
    model *m = user;
    int i = item_of(e)->id;
    assert_int_equal(i, model_next(m));
    m->pending[i] = false;
    m->in_batch[i] = false;
    m->fired++;
    model_check(m);
    switch (rnd(m) % 6) {
    case 0: /* an interval, possibly zero */
        model_add(m, i, sat_add(m->now, rnd(m) % 3 == 0 ? 0 : rnd(m) % 200));
        break;
    case 1:
        model_remove(m, (int)(rnd(m) % MODEL_N));
        break;
    case 2:
        model_add(m, (int)(rnd(m) % MODEL_N), random_due(m));
        break;
    default:
        break;
    }
    model_check(m);
}

static void
model_expire(model *m, uint64_t now)
{
    if (now > m->now) {
        m->now = now;
    }
    for (int i = 0; i < MODEL_N; i++) {
        m->in_batch[i] = m->pending[i] && m->due[i] <= m->now;
    }
    m->fired = 0;
    size_t n = acto__wheel_expire(m->w, now, model_cb, m);
    assert_int_equal(n, m->fired);
    assert_int_equal(model_next(m), -1);
}

static void
run_model(uint64_t seed, int ops)
{
    model *m = calloc(1, sizeof *m);
    assert_non_null(m);
    m->w = wheel_new(0);
    m->rng = seed * 0x9E3779B97F4A7C15u + 1;
    m->now = rnd(m) % 3 == 0 ? rnd(m) : rnd(m) % 100000;
    acto__wheel_init(m->w, m->now);
    items_init(m->items, MODEL_N);
    for (int op = 0; op < ops; op++) {
        int i = (int)(rnd(m) % MODEL_N);
        switch (rnd(m) % 10) {
        case 0:
        case 1:
        case 2:
        case 3:
            model_add(m, i, random_due(m));
            break;
        case 4:
        case 5:
            model_remove(m, i);
            break;
        case 6:
            /* Expire straight to the next due time, as a virtual clock. */
            if (m->pending[i]) {
                uint64_t due = 0;
                assert_true(acto__wheel_next_due(m->w, &due));
                model_expire(m, due);
                break;
            }
            model_expire(m, m->now - rnd(m) % 2);
            break;
        default:
            model_expire(m, sat_add(m->now, random_jump(m)));
            break;
        }
        model_check(m);
    }
    free(m->w);
    free(m);
}

static void
test_wheel_matches_a_reference_model_on_random_operations(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        run_model(seed, 5000);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wheel_fires_in_due_order_and_ties_in_add_order),
        cmocka_unit_test(test_wheel_fires_nothing_before_the_due_time),
        cmocka_unit_test(test_wheel_smaller_now_counts_as_the_current_time),
        cmocka_unit_test(test_wheel_removed_entry_never_fires),
        cmocka_unit_test(
            test_wheel_next_due_is_exact_after_removing_the_earliest),
        cmocka_unit_test(
            test_wheel_callback_may_remove_an_entry_due_in_the_same_call),
        cmocka_unit_test(test_wheel_callback_may_add_entries_that_fire_later),
        cmocka_unit_test(test_wheel_readded_entry_fires_on_the_next_call_only),
        cmocka_unit_test(
            test_wheel_past_due_entries_fire_at_the_next_expire_in_due_order),
        cmocka_unit_test(
            test_wheel_far_future_entries_fire_exactly_when_reached),
        cmocka_unit_test(
            test_wheel_clock_jump_over_many_levels_fires_everything_in_order),
        cmocka_unit_test(test_wheel_million_entries_add_and_expire_in_order),
        cmocka_unit_test(
            test_wheel_matches_a_reference_model_on_random_operations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
