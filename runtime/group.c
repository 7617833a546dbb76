/* Groups (asyncio.TaskGroup): members added while the group runs, the
 * first failure cancels the others, and the group's future completes only
 * when every member has finished. See acto/combinators.h. */
#include <acto/combinators.h>

#include "internal.h"

/* ---- groups ----------------------------------------------------------- */

/* A member of a group: a node of its own, so members can come and go
 * while the group runs and each callback has a stable user pointer. */
typedef struct gnode {
    struct gnode *next;     /* every member, in the order added */
    struct gnode *next_err; /* the failed ones, in the order they failed */
    acto_group *g;
    acto_future *f; /* retained */
} gnode;

/* References: the caller's handle, one per member not yet done, one for
 * the callback on done. */
struct acto_group {
    acto_system *sys;
    uint32_t refs;
    size_t pending; /* members not yet done */
    gnode *head;
    gnode *tail;
    gnode *err_head;
    gnode *err_tail;
    size_t n_err;
    acto_future *done; /* from acto_group_close */
    bool closed;
    bool aborted;   /* a member failed or the group was cancelled */
    bool cancelled; /* acto_group_cancel, or done was cancelled */
    bool finished;  /* done was completed */
    bool freed;     /* the caller let go of the handle */
};

static void
group_unref(acto_group *g)
{
    if (--g->refs > 0) {
        return;
    }
    gnode *n = g->head;
    while (n != NULL) {
        gnode *next = n->next;
        acto_future_release(n->f);
        acto__free(n, sizeof(*n));
        n = next;
    }
    acto_future_release(g->done);
    acto__free(g, sizeof(*g));
}

/* group_abort cancels every member still pending; adds fail from now. */
static void
group_abort(acto_group *g, const char *why)
{
    g->aborted = true;
    for (gnode *n = g->head; n != NULL; n = n->next) {
        acto_future_cancel(n->f, why);
    }
}

/* group_finish completes done once the group is closed and empty. */
static void
group_finish(acto_group *g)
{
    if (!g->closed || g->pending > 0 || g->finished) {
        return;
    }
    g->finished = true;
    if (g->n_err > 0) {
        acto__future_fail_copy(g->done, acto_future_exception(g->err_head->f));
    } else if (g->cancelled) {
        acto_future_cancel(g->done, "group cancelled");
    } else {
        acto_future_set_result(g->done, NULL, NULL, NULL);
    }
}

static void
on_group_member(acto_future *f, void *user)
{
    gnode *n = user;
    acto_group *g = n->g;
    g->pending--;
    if (acto_future_state_of(f) == ACTO_FUTURE_FAILED) {
        acto_future_exception(f); /* reported through the group */
        if (g->err_tail != NULL) {
            g->err_tail->next_err = n;
        } else {
            g->err_head = n;
        }
        g->err_tail = n;
        g->n_err++;
        if (!g->aborted) {
            group_abort(g, "group: another member failed");
        }
    }
    group_finish(g);
    group_unref(g);
}

static void
on_group_done(acto_future *done, void *user)
{
    acto_group *g = user;
    if (!g->finished && acto_future_cancelled(done)) {
        g->finished = true; /* done is complete already */
        g->cancelled = true;
        group_abort(g, "group cancelled");
    }
    group_unref(g);
}

int
acto_group_new(acto_system *sys, acto_group **out)
{
    if (sys == NULL || out == NULL) {
        return ACTO_EINVAL;
    }
    acto_group *g = acto__malloc(sizeof(*g));
    if (g == NULL) {
        return ACTO_ENOMEM;
    }
    *g = (acto_group){.sys = sys, .refs = 1};
    *out = g;
    return 0;
}

int
acto_group_add(acto_group *g, acto_future *f)
{
    if (g == NULL || f == NULL || acto_future_system(f) != g->sys) {
        return ACTO_EINVAL;
    }
    if (g->closed) {
        return ACTO_ECLOSED;
    }
    if (g->aborted) {
        return ACTO_ECANCELED;
    }
    gnode *n = acto__malloc(sizeof(*n));
    if (n == NULL) {
        return ACTO_ENOMEM;
    }
    *n = (gnode){NULL, NULL, g, f};
    int rc = acto_future_add_done_cb(f, on_group_member, n);
    if (rc != 0) {
        acto__free(n, sizeof(*n));
        return rc;
    }
    acto_future_retain(f);
    if (g->tail != NULL) {
        g->tail->next = n;
    } else {
        g->head = n;
    }
    g->tail = n;
    g->pending++;
    g->refs++;
    return 0;
}

int
acto_group_close(acto_group *g, acto_future **done)
{
    if (g == NULL || done == NULL) {
        return ACTO_EINVAL;
    }
    if (g->closed) {
        return ACTO_ECLOSED;
    }
    acto_future *d;
    int rc = acto_future_new(g->sys, &d);
    if (rc != 0) {
        return rc;
    }
    if ((rc = acto_future_add_done_cb(d, on_group_done, g)) != 0) {
        acto_future_release(d);
        return rc;
    }
    g->refs++;
    g->done = d;
    g->closed = true;
    acto_future_retain(d);
    *done = d;
    group_finish(g);
    return 0;
}

int
acto_group_cancel(acto_group *g)
{
    if (g == NULL) {
        return ACTO_EINVAL;
    }
    if (g->finished) {
        return ACTO_EDONE;
    }
    g->cancelled = true;
    group_abort(g, "group cancelled");
    return 0;
}

size_t
acto_group_errors(const acto_group *g, const acto_error **errs, size_t cap)
{
    size_t i = 0;
    for (const gnode *n = g->err_head; n != NULL && i < cap; n = n->next_err) {
        /* Its state is FAILED for good, so this only reads. */
        errs[i++] = acto_future_exception(n->f);
    }
    return g->n_err;
}

void
acto_group_free(acto_group *g)
{
    if (g == NULL || g->freed) {
        return;
    }
    g->freed = true;
    if (!g->closed && !g->aborted) {
        g->cancelled = true;
        group_abort(g, "group freed");
    }
    group_unref(g);
}
