/* acto-demo: --rate, replaying a log at a steady pace (to watch it, or to
 * interrupt it). An async stage with one item in flight: an item goes on
 * at once while the pace allows, else its future completes when a timer
 * (every 10 ms) has let enough time pass. Nothing blocks the loop, and
 * the stage's full mailbox holds the file source back. */
#include "demo.h"

#include <stdlib.h>

#define TICK_MS 10

struct demo_pacer {
    acto_system *sys;
    double per_tick; /* lines a tick lets through */
    double credit;
    acto_future *waiting; /* the item held until the next tick */
    acto_msg *held;
    uint64_t timer;
};

struct demo_pacer *
demo_pacer_new(acto_system *sys, uint32_t rate)
{
    struct demo_pacer *pc = calloc(1, sizeof(*pc));
    if (pc != NULL) {
        pc->sys = sys;
        pc->per_tick = (double)rate * TICK_MS / 1000.0;
        pc->credit = 1;
    }
    return pc;
}

/* release completes a future with an item (or frees the item when the
 * future was cancelled: the pipeline is stopping). */
static void
release(acto_future *f, acto_msg *m)
{
    if (acto_future_set_result(f, m, demo_free_msg, NULL) != 0) {
        acto_msg_free(m);
    }
    acto_future_release(f);
}

static void
tick(acto_system *sys, void *user)
{
    (void)sys;
    struct demo_pacer *pc = user;
    pc->timer = 0;
    pc->credit += pc->per_tick;
    if (pc->credit > pc->per_tick + 1) {
        pc->credit = pc->per_tick + 1; /* no burst after a pause */
    }
    if (pc->waiting != NULL && pc->credit >= 1) {
        pc->credit -= 1;
        acto_future *f = pc->waiting;
        acto_msg *m = pc->held;
        pc->waiting = NULL;
        pc->held = NULL;
        release(f, m);
    }
    if (pc->waiting != NULL &&
        acto_call_after(pc->sys, TICK_MS, tick, pc, &pc->timer) != 0) {
        (void)acto_future_set_error(pc->waiting, ACTO_ENOMEM, "OutOfMemory",
                                    "the pace's timer");
        acto_future_release(pc->waiting);
        acto_msg_free(pc->held);
        pc->waiting = NULL;
        pc->held = NULL;
    }
}

int
demo_pace(void *state, const acto_msg *item, acto_future **out)
{
    struct demo_pacer *pc = state;
    size_t len;
    const void *data = acto_msg_data(item, &len);
    acto_msg *m;
    acto_future *f;
    int rc = acto_msg_new_bytes(pc->sys, acto_msg_type(item), data, len, &m);
    if (rc != 0) {
        return rc;
    }
    if ((rc = acto_future_new(pc->sys, &f)) != 0) {
        acto_msg_free(m);
        return rc;
    }
    *out = f;
    acto_future_retain(f);
    if (pc->credit >= 1) {
        pc->credit -= 1;
        release(f, m);
        return 0;
    }
    pc->waiting = f;
    pc->held = m;
    if (pc->timer == 0 &&
        acto_call_after(pc->sys, TICK_MS, tick, pc, &pc->timer) != 0) {
        pc->waiting = NULL;
        pc->held = NULL;
        acto_future_release(f);
        acto_future_release(f);
        acto_msg_free(m);
        return ACTO_ENOMEM;
    }
    return 0;
}

void
demo_pacer_unpace(struct demo_pacer *pc)
{
    if (pc != NULL) {
        pc->per_tick = 1e18; /* the held item goes at the next tick */
        pc->credit = 1e18;
    }
}

void
demo_pacer_free(struct demo_pacer *pc)
{
    if (pc == NULL) {
        return;
    }
    if (pc->timer != 0) {
        (void)acto_timer_cancel(pc->sys, pc->timer);
    }
    if (pc->waiting != NULL) {
        (void)acto_future_cancel(pc->waiting, NULL);
        acto_future_release(pc->waiting);
    }
    acto_msg_free(pc->held);
    free(pc);
}
