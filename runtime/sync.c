/* acto_event and acto_semaphore: asyncio's Event and Semaphore on futures.
 *
 * Every wait is a heap waiter holding a reference to the future it
 * returned, with a done callback on that future, so a cancel made by
 * anyone (the caller, a combinator) is noticed on the loop and unlinks the
 * waiter. Futures complete once and report through their callbacks on a
 * later loop turn, so the waiter lists may still hold cancelled entries
 * whose callbacks have not run yet: every scan skips done futures.
 *
 * Semaphores reproduce asyncio's grant/cancel rule with two futures per
 * waiting acquire: the caller's (outer) and a private one (inner). A
 * release grants its permit to the first live waiter at once (the value
 * stays spent, the waiter moves to the granted list) by completing inner;
 * inner's callback, on a later turn, delivers the permit by completing
 * outer. If outer was cancelled in between, the permit goes back and on to
 * the next waiter. Outer done means the permit is its holder's; outer
 * cancelled means no permit, ever.
 */
#include <acto/error.h>
#include <acto/sync.h>

#include "alloc.h"
#include "list.h"

#include <limits.h>

/* ---- events ----------------------------------------------------------- */

struct acto_event {
    acto_system *sys;
    acto__link waiters; /* event_waiter.link, in arrival order */
    bool is_set;
};

typedef struct event_waiter {
    acto__link link; /* on the event's waiters until set, freed or cancelled */
    acto_future *f;  /* our reference */
} event_waiter;

int
acto_event_new(acto_system *sys, acto_event **out)
{
    if (sys == NULL || out == NULL) {
        return ACTO_EINVAL;
    }
    acto_event *ev = acto__malloc(sizeof(*ev));
    if (ev == NULL) {
        return ACTO_ENOMEM;
    }
    ev->sys = sys;
    ev->is_set = false;
    acto__list_init(&ev->waiters);
    *out = ev;
    return 0;
}

/* Runs once the wait future is done, by set, free or cancel. The waiter
 * is unlinked already unless the future was cancelled by someone else, and
 * removing an unlinked node is harmless, so the event is never needed
 * here (it may be gone). */
static void
on_event_wait_done(acto_future *f, void *user)
{
    (void)f;
    event_waiter *w = user;
    acto__list_remove(&w->link);
    acto_future_release(w->f);
    acto__free(w, sizeof(*w));
}

void
acto_event_free(acto_event *ev)
{
    if (ev == NULL) {
        return;
    }
    acto__link *l;
    while ((l = acto__list_first(&ev->waiters)) != NULL) {
        event_waiter *w = acto__container_of(l, event_waiter, link);
        acto__list_remove(l);
        acto_future_cancel(w->f, NULL); /* ACTO_EDONE: cancelled already */
    }
    acto__free(ev, sizeof(*ev));
}

void
acto_event_set(acto_event *ev)
{
    if (ev == NULL || ev->is_set) {
        return;
    }
    ev->is_set = true;
    acto__link *l;
    while ((l = acto__list_first(&ev->waiters)) != NULL) {
        event_waiter *w = acto__container_of(l, event_waiter, link);
        acto__list_remove(l);
        /* ACTO_EDONE: cancelled, its callback not run yet; nothing to do. */
        acto_future_set_result(w->f, NULL, NULL, NULL);
    }
}

void
acto_event_clear(acto_event *ev)
{
    if (ev != NULL) {
        ev->is_set = false;
    }
}

bool
acto_event_is_set(const acto_event *ev)
{
    return ev != NULL && ev->is_set;
}

int
acto_event_wait(acto_event *ev, acto_future **out)
{
    if (ev == NULL || out == NULL) {
        return ACTO_EINVAL;
    }
    acto_future *f;
    if (ev->is_set) {
        int rc = acto_future_new(ev->sys, &f);
        if (rc == 0) {
            acto_future_set_result(f, NULL, NULL, NULL);
            *out = f;
        }
        return rc;
    }
    event_waiter *w = acto__malloc(sizeof(*w));
    if (w == NULL) {
        return ACTO_ENOMEM;
    }
    int rc = acto_future_new(ev->sys, &f);
    if (rc == 0 && (rc = acto_future_add_done_cb(f, on_event_wait_done, w))) {
        acto_future_release(f);
    }
    if (rc != 0) {
        acto__free(w, sizeof(*w));
        return rc;
    }
    acto_future_retain(f);
    w->f = f;
    acto__list_push_back(&ev->waiters, &w->link);
    *out = f;
    return 0;
}

/* ---- semaphores ------------------------------------------------------- */

struct acto_semaphore {
    acto_system *sys;
    acto__link waiters; /* sem_waiter.link: waiting, FIFO */
    acto__link granted; /* sem_waiter.link: granted, not yet delivered */
    unsigned value;     /* free permits */
    unsigned bound;     /* the initial value, for a bounded semaphore */
    bool bounded;
};

typedef struct sem_waiter {
    acto__link link;     /* on waiters or granted; unlinked once decided */
    acto_semaphore *sem; /* NULL once the semaphore is freed */
    acto_future *outer;  /* the caller's future (our reference) */
    acto_future *inner;  /* done when granted (our only reference) */
    int callbacks;       /* done callbacks still to run; 0 frees */
    bool granted;
} sem_waiter;

int
acto_semaphore_new(acto_system *sys, unsigned value, bool bounded,
                   acto_semaphore **out)
{
    if (sys == NULL || out == NULL) {
        return ACTO_EINVAL;
    }
    acto_semaphore *s = acto__malloc(sizeof(*s));
    if (s == NULL) {
        return ACTO_ENOMEM;
    }
    s->sys = sys;
    acto__list_init(&s->waiters);
    acto__list_init(&s->granted);
    s->value = value;
    s->bound = value;
    s->bounded = bounded;
    *out = s;
    return 0;
}

/* Returns the first waiter still wanting a permit: cancelled ones whose
 * callback has not run yet are skipped (they leave on that callback), and
 * so are those whose inner future the closing system cancelled. */
static sem_waiter *
first_live(const acto_semaphore *s)
{
    for (acto__link *l = s->waiters.next; l != &s->waiters; l = l->next) {
        sem_waiter *w = acto__container_of(l, sem_waiter, link);
        if (!acto_future_done(w->outer) && !acto_future_done(w->inner)) {
            return w;
        }
    }
    return NULL;
}

/* Grants free permits to live waiters, first come first served. The
 * permit is spent now and delivered by on_inner_done. */
static void
wake(acto_semaphore *s)
{
    sem_waiter *w;
    while (s->value > 0 && (w = first_live(s)) != NULL) {
        acto__list_remove(&w->link);
        acto__list_push_back(&s->granted, &w->link);
        w->granted = true;
        s->value--;
        acto_future_set_result(w->inner, NULL, NULL, NULL);
    }
}

static void
drop_waiter(sem_waiter *w)
{
    if (--w->callbacks == 0) {
        acto_future_release(w->outer);
        acto_future_release(w->inner);
        acto__free(w, sizeof(*w));
    }
}

/* The caller's future is done: cancelled (by anyone, or by the semaphore's
 * free) or delivered by on_inner_done. A waiter cancelled before its grant
 * leaves the queue and completes inner so that its callback runs too. One
 * cancelled after its grant is on_inner_done's to settle. */
static void
on_outer_done(acto_future *f, void *user)
{
    (void)f;
    sem_waiter *w = user;
    acto_semaphore *s = w->sem;
    if (s != NULL && !w->granted) {
        acto__list_remove(&w->link);
        acto_future_cancel(w->inner, NULL);
        wake(s);
    }
    drop_waiter(w);
}

/* Inner is done: granted (deliver the permit, or give it back if outer was
 * cancelled meanwhile) or cancelled (the waiter left without a permit). */
static void
on_inner_done(acto_future *f, void *user)
{
    (void)f;
    sem_waiter *w = user;
    acto_semaphore *s = w->sem;
    if (s != NULL && w->granted) {
        acto__list_remove(&w->link);
        w->sem = NULL;
        if (acto_future_set_result(w->outer, NULL, NULL, NULL) != 0) {
            /* Cancelled between grant and delivery: nobody holds this
             * permit, so it goes back (asyncio's rule). */
            s->value++;
            wake(s);
        }
    }
    drop_waiter(w);
}

/* Detaches and cancels every waiter on list; the callbacks free them. */
static void
cancel_all(acto__link *list)
{
    acto__link *l;
    while ((l = acto__list_first(list)) != NULL) {
        sem_waiter *w = acto__container_of(l, sem_waiter, link);
        acto__list_remove(l);
        w->sem = NULL;
        acto_future_cancel(w->outer, NULL);
        acto_future_cancel(w->inner, NULL);
    }
}

void
acto_semaphore_free(acto_semaphore *s)
{
    if (s == NULL) {
        return;
    }
    cancel_all(&s->waiters);
    cancel_all(&s->granted);
    acto__free(s, sizeof(*s));
}

/* Whether a permit can be taken now without passing a waiter. */
static bool
can_take(const acto_semaphore *s)
{
    return s->value > 0 && first_live(s) == NULL;
}

/* Queues a waiting acquire. Inner's callback is added first: should
 * adding outer's then fail, the waiter is abandoned by cancelling inner
 * (which nobody else sees), and its callback frees it on the next futures
 * phase. Removing a callback instead would leave the future's callback
 * reference behind (see acto_future_remove_done_cb in future.c). */
static int
enqueue(acto_semaphore *s, acto_future **out)
{
    sem_waiter *w = acto__malloc(sizeof(*w));
    if (w == NULL) {
        return ACTO_ENOMEM;
    }
    *w = (sem_waiter){.sem = NULL, .callbacks = 1};
    acto__list_init(&w->link);
    int rc = acto_future_new(s->sys, &w->inner);
    if (rc == 0 && (rc = acto_future_new(s->sys, &w->outer)) != 0) {
        acto_future_release(w->inner);
    }
    if (rc == 0 &&
        (rc = acto_future_add_done_cb(w->inner, on_inner_done, w)) != 0) {
        acto_future_release(w->outer);
        acto_future_release(w->inner);
    }
    if (rc != 0) {
        acto__free(w, sizeof(*w));
        return rc;
    }
    if ((rc = acto_future_add_done_cb(w->outer, on_outer_done, w)) != 0) {
        acto_future_release(w->outer);
        w->outer = NULL;
        acto_future_cancel(w->inner, NULL);
        return rc;
    }
    acto_future_retain(w->outer);
    w->sem = s;
    w->callbacks = 2;
    acto__list_push_back(&s->waiters, &w->link);
    *out = w->outer;
    return 0;
}

int
acto_semaphore_acquire(acto_semaphore *s, acto_future **out)
{
    if (s == NULL || out == NULL) {
        return ACTO_EINVAL;
    }
    if (!can_take(s)) {
        return enqueue(s, out);
    }
    acto_future *f;
    int rc = acto_future_new(s->sys, &f);
    if (rc != 0) {
        return rc;
    }
    s->value--;
    acto_future_set_result(f, NULL, NULL, NULL);
    *out = f;
    return 0;
}

int
acto_semaphore_try_acquire(acto_semaphore *s)
{
    if (s == NULL) {
        return ACTO_EINVAL;
    }
    if (!can_take(s)) {
        return ACTO_EBUSY;
    }
    s->value--;
    return 0;
}

int
acto_semaphore_release(acto_semaphore *s)
{
    if (s == NULL || s->value == UINT_MAX ||
        (s->bounded && s->value >= s->bound)) {
        return ACTO_EINVAL;
    }
    s->value++;
    wake(s);
    return 0;
}

unsigned
acto_semaphore_value(const acto_semaphore *s)
{
    return s != NULL ? s->value : 0;
}

bool
acto_semaphore_locked(const acto_semaphore *s)
{
    return s == NULL || !can_take(s);
}
