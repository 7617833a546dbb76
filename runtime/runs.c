/* Runs of messages: a handler taking the run of data messages waiting
 * behind the one it handles (acto_take_run, acto_put_back), and passing a
 * run on with one lookup of the receiver (acto_send_many, acto_send_room).
 * A pipeline stage moves its items this way: the scheduler and the
 * delivery are paid once per run instead of once per item. */
#include "deliver.h"

/* What a run may take and what it keeps: as acto_take_msg (internal.h),
 * but no MSG_SLOW message. */
#define TAKEABLE_FLAGS (MSG_TAKEABLE & ~MSG_SLOW)
#define KEPT_FLAGS (MSG_TAKE_KEPT & ~MSG_SLOW)

/* take_flags clears the flags of m, taken, but for those it keeps; false
 * when m cannot be taken. Apart, off the run's loop. */
static __attribute__((noinline)) bool
take_flags(acto_msg *m)
{
    if (m->flags & ~TAKEABLE_FLAGS) {
        return false;
    }
    m->flags &= KEPT_FLAGS;
    return true;
}

/* run_refused tells whether a's handler may take no run now (see
 * acto_take_run): shared by both ways of taking one. */
static inline bool
run_refused(const acto_actor *a, const acto_system *sys)
{
    return sys->turn_actor != a || sys->current != a || sys->special ||
           sys->trace_hot != NULL || a->lane_head != NULL ||
           a->life != LIFE_RUNNING ||
           (a->flags & (ACTOR_PARKED | ACTOR_SUSPENDED)) ||
           (a->ext != NULL && a->ext->recv_timeout_ms > 0);
}

/* run_bound is how many a run may take at most: max, within the turn's
 * budget and the messages listed (the mailbox's count but for those
 * already held), so a walk bounded by it needs no test of the list's end. */
static inline uint32_t
run_bound(const acto_actor *a, const acto_system *sys, size_t max)
{
    uint32_t bound = a->mb_count - sys->turn_held;
    if (bound > sys->turn_left) {
        bound = sys->turn_left;
    }
    return max < bound ? (uint32_t)max : bound;
}

/* run_max_type is the highest type a run takes: never a system message. */
static inline uint32_t
run_max_type(uint32_t max_type)
{
    return max_type < ACTO_MSG_SYSTEM_BASE ? max_type
                                           : ACTO_MSG_SYSTEM_BASE - 1;
}

/* count_taken counts n messages a run took off the list: held (still
 * counted in the mailbox, so no parked sender comes in before the handler
 * is done with them: acto__settle_held) and handled, in the turn's
 * budget. */
static inline void
count_taken(acto_system *sys, uint32_t n)
{
    sys->turn_held += n;
    sys->turn_left -= n;
    sys->stats.handled += n;
}

size_t
acto_take_run(acto_ctx *ctx, uint32_t max_type, acto_msg **msgs, size_t max)
{
    acto_actor *a = ctx_actor(ctx);
    acto_msg *m = a->mb_head;
    if (m == NULL) {
        return 0; /* the common end of a run: nothing more waits */
    }
    acto_system *sys = a->sys;
    /* Only inside the actor's own turn, nothing on its system lane to go
     * first, and neither debug mode nor a recorded flow, which follow
     * each message's handling on its own (a flow sampled out may). */
    if (unlikely(msgs == NULL || run_refused(a, sys))) {
        return 0;
    }
    max = run_bound(a, sys, max);
    max_type = run_max_type(max_type);
    size_t n = 0;
    /* Four at a time: one flag test and one count for the four. A group
     * with a message to stop at or to clear is left to the loop below. */
    for (; max - n >= 4; n += 4) {
        acto_msg *m1 = m->next, *m2 = m1->next, *m3 = m2->next;
        if (m->type > max_type || m1->type > max_type || m2->type > max_type ||
            m3->type > max_type ||
            unlikely((m->flags | m1->flags | m2->flags | m3->flags) &
                     (uint16_t)~KEPT_FLAGS)) {
            break;
        }
        msgs[n] = m;
        msgs[n + 1] = m1;
        msgs[n + 2] = m2;
        msgs[n + 3] = m3;
        m = m3->next;
    }
    for (; n < max; n++) {
        if (m->type > max_type) {
            break;
        }
        /* One test for the common case, on the flags as they are. */
        if (unlikely(m->flags & (uint16_t)~KEPT_FLAGS) && !take_flags(m)) {
            break; /* as acto_take_msg says */
        }
        msgs[n] = m;
        m = m->next;
    }
    if (n == 0) {
        return 0;
    }
    if ((a->mb_head = m) == NULL) {
        a->mb_tail = NULL;
    }
    count_taken(sys, (uint32_t)n);
    return n;
}

/* The three are inlined into a caller's loop where the build can (LTO),
 * so the run stays in registers and the next message's address is loaded
 * while the caller works on this one. */
__attribute__((always_inline)) inline bool
acto_run_begin(acto_ctx *ctx, uint32_t max_type, size_t max, acto_run *run)
{
    acto_actor *a = ctx_actor(ctx);
    acto_system *sys = a->sys;
    if (run == NULL || a->mb_head == NULL || unlikely(run_refused(a, sys))) {
        return false;
    }
    run->actor_ = a;
    run->next_ = a->mb_head; /* kept equal to it, in a register */
    run->max_type_ = run_max_type(max_type);
    run->left_ = run_bound(a, sys, max);
    run->taken_ = 0;
    return run->left_ > 0;
}

__attribute__((always_inline)) inline acto_msg *
acto_run_next(acto_run *run)
{
    acto_msg *m = run->next_;
    if (run->left_ == 0 || m->type > run->max_type_ ||
        (unlikely(m->flags & (uint16_t)~KEPT_FLAGS) && !take_flags(m))) {
        run->left_ = 0;
        return NULL;
    }
    acto_actor *a = run->actor_;
    /* Off the list at once: the list stays whole for any send meanwhile;
     * the counts follow at acto_run_end. */
    if ((a->mb_head = run->next_ = m->next) == NULL) {
        a->mb_tail = NULL;
    }
    run->left_--;
    run->taken_++;
    return m;
}

__attribute__((always_inline)) inline void
acto_run_end(acto_run *run)
{
    acto_actor *a = run->actor_;
    count_taken(a->sys, run->taken_);
    run->taken_ = 0;
}

int
acto_put_back(acto_ctx *ctx, acto_msg *const *msgs, size_t n)
{
    acto_actor *a = ctx_actor(ctx);
    acto_system *sys = a->sys;
    if (n == 0) {
        return 0;
    }
    if (msgs == NULL || sys->turn_actor != a || n > sys->turn_held) {
        return ACTO_EINVAL;
    }
    for (size_t i = n; i-- > 0;) {
        msgs[i]->next = a->mb_head;
        a->mb_head = msgs[i];
        if (a->mb_tail == NULL) {
            a->mb_tail = msgs[i];
        }
    }
    sys->turn_held -= (uint32_t)n;
    sys->stats.handled -= n;
    return 0;
}

/* settle_held ends the count of the messages a's handler took in runs and
 * lets as many parked messages in as now fit, oldest first. */
void
acto__settle_held(acto_actor *a)
{
    acto_system *sys = a->sys;
    a->mb_count -= sys->turn_held;
    sys->turn_held = 0;
    acto__actor_ext *x = a->ext;
    while (x != NULL && x->parked.count > 0 && a->mb_count < a->capacity) {
        acto_msg *p = mq_pop(&x->parked);
        mailbox_push(a, p);
        acto__landed(sys, p, 0);
    }
}

uint32_t
acto_send_room(const acto_ctx *ctx, acto_ref to)
{
    const acto_actor *a = ctx_actor(ctx);
    acto_actor *r = acto__lookup(a->sys, to);
    if (r == NULL || r->life != LIFE_RUNNING) {
        return 0;
    }
    if (r->capacity == 0 || r == a) {
        return UINT32_MAX;
    }
    /* A non-empty park list means a full mailbox. */
    return r->mb_count < r->capacity ? r->capacity - r->mb_count : 0;
}

/* send_rest sends msgs[done..n) one at a time, the common way (a full or
 * parking receiver, a message someone waits on, a NULL), and says how many
 * went in all. Apart, so that the run's fast path keeps few registers. */
static __attribute__((noinline)) int
send_rest(acto_ctx *ctx, acto_ref to, acto_msg *const *msgs, size_t n,
          size_t done, size_t *sent)
{
    int rc = 0;
    for (; done < n; done++) {
        if (msgs[done] == NULL) {
            rc = ACTO_EINVAL;
            break;
        }
        if ((rc = acto_send(ctx, to, msgs[done])) != 0) {
            break;
        }
    }
    if (sent != NULL) {
        *sent = done;
    }
    return rc;
}

/* stamp addresses and numbers m as sent by self. */
static inline void
stamp(acto_msg *m, acto_ref to, acto_ref self, uint64_t id, uint64_t cause)
{
    m->to = to;
    m->sender = self;
    m->id = id;
    m->cause = cause;
}

/* send_fitting puts in at once the messages of msgs that fit in to's
 * mailbox, as deliver's fast path would put them, with one lookup for all.
 * Returns how many went in (the first ones). */
static inline size_t
send_fitting(acto_actor *a, acto_ref to, acto_msg *const *msgs, size_t n)
{
    acto_system *sys = a->sys;
    acto_actor *r = acto__lookup(sys, to);
    if (unlikely(sys->current != a || sys->closing || sys->special ||
                 sys->trace_hot != NULL || r == NULL ||
                 r->life != LIFE_RUNNING)) {
        return 0;
    }
    uint32_t room = r->capacity == 0 || r == a  ? UINT32_MAX
                    : r->mb_count < r->capacity ? r->capacity - r->mb_count
                                                : 0;
    uint64_t cause = sys->current_msg != NULL ? sys->current_msg->id : 0;
    uint64_t id = sys->next_msg_id;
    acto_ref self = a->self;
    size_t fit = n < room ? n : room;
    size_t done = 0;
    /* Linked straight behind the mailbox's tail, as they are stamped; the
     * tail and the count follow once. */
    acto_msg **link = r->mb_tail != NULL ? &r->mb_tail->next : &r->mb_head;
    /* Four at a time: one flag test and one count for the four, and no
     * link pointer carried from one to the next. A group with a message
     * to send the common way is left to the loop below. */
    for (; fit - done >= 4; done += 4, id += 4) {
        acto_msg *m0 = msgs[done], *m1 = msgs[done + 1];
        acto_msg *m2 = msgs[done + 2], *m3 = msgs[done + 3];
        if (unlikely(m0 == NULL || m1 == NULL || m2 == NULL || m3 == NULL ||
                     ((m0->flags | m1->flags | m2->flags | m3->flags) &
                      (MSG_WAITED | MSG_SLOW)))) {
            break;
        }
        stamp(m0, to, self, id + 1, cause);
        stamp(m1, to, self, id + 2, cause);
        stamp(m2, to, self, id + 3, cause);
        stamp(m3, to, self, id + 4, cause);
        *link = m0;
        m0->next = m1;
        m1->next = m2;
        m2->next = m3;
        link = &m3->next;
    }
    for (; done < fit; done++) {
        acto_msg *m = msgs[done];
        if (unlikely(m == NULL || (m->flags & (MSG_WAITED | MSG_SLOW)))) {
            break; /* the common way: a recorded flow's is recorded */
        }
        stamp(m, to, self, ++id, cause);
        *link = m;
        link = &m->next;
    }
    if (done > 0) {
        acto_msg *tail = msgs[done - 1];
        sys->next_msg_id = id;
        tail->next = NULL;
        r->mb_tail = tail;
        r->mb_count += (uint32_t)done;
        sys->stats.sent += done;
        schedule(r);
    }
    return done;
}

int
acto_send_many(acto_ctx *ctx, acto_ref to, acto_msg *const *msgs, size_t n,
               size_t *sent)
{
    if (ctx == NULL || (msgs == NULL && n > 0)) {
        if (sent != NULL) {
            *sent = 0;
        }
        return ACTO_EINVAL;
    }
    size_t done = send_fitting(ctx_actor(ctx), to, msgs, n);
    if (likely(done == n)) {
        if (sent != NULL) {
            *sent = n;
        }
        return 0;
    }
    return send_rest(ctx, to, msgs, n, done, sent);
}
