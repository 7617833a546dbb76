/* Emitting: how a stage passes items on. While a stage's handler runs,
 * the items it emits wait in its outbox, up to the free places of its
 * reader's mailbox, and go together at the end (acto_send_many): one
 * delivery for the run instead of one per item. Only this handler could
 * fill those places meanwhile, so that is the same as sending each at
 * once; the first emit that finds no place is sent at once, after those
 * waiting, and parks the stage as before. Outside a handler's run (a
 * retry's timer, an async result) items go at once. */
#include "pipe_internal.h"

/* flush_out sends the items waiting in st's outbox. One that cannot be
 * sent (the system is closing) is freed: its reader counts it dropped. */
static void
flush_out(acto_stage *st)
{
    uint32_t n = st->out_n;
    if (n == 0) {
        return;
    }
    st->out_n = 0;
    st->reader->sent += n;
    st->stats.out += n;
    if (st->kind == KIND_SOURCE) {
        st->stats.in += n;
    }
    size_t sent = 0;
    (void)acto_send_many(st->emit.ctx, st->reader->ref, st->out_buf, n, &sent);
    for (size_t i = sent; i < n; i++) {
        acto_msg_free(st->out_buf[i]);
    }
}

/* refill gives st's outbox the room its reader has now. */
static void
refill(acto_stage *st)
{
    uint32_t room = acto_send_room(st->emit.ctx, st->reader->ref);
    st->out_room = room < PIPE_OUT_MAX ? room : PIPE_OUT_MAX;
}

void
acto__pipe_out_open(acto_ctx *ctx, acto_stage *st)
{
    st->emit.ctx = ctx;
    st->out_open = st->reader != NULL;
    st->held_up = false;
    if (st->out_open) {
        refill(st);
    }
}

void
acto__pipe_out_close(acto_stage *st)
{
    flush_out(st);
    st->out_room = 0;
    st->out_open = false;
}

/* emit_slow is acto_emit for all but an item that finds room in the
 * outbox. */
static __attribute__((noinline)) int
emit_slow(acto_emitter *out, acto_msg *m)
{
    if (out == NULL || m == NULL) {
        acto_msg_free(m);
        return ACTO_EINVAL;
    }
    acto_stage *st = out->st;
    if (st->reader == NULL) {
        acto_msg_free(m);
        return ACTO_EINVAL; /* a sink emits nothing */
    }
    if (st->p->phase >= PHASE_STOPPING) {
        acto_msg_free(m);
        return ACTO_ECANCELED;
    }
    if (m == st->current) {
        st->current_emitted = true;
    }
    if (st->out_open) {
        flush_out(st); /* what waits goes first */
        refill(st);
        if (st->out_room > 0) {
            st->out_buf[st->out_n++] = m;
            st->out_room--;
            return 0;
        }
        st->held_up = true; /* the send below parks the stage */
    }
    int rc = acto_send(out->ctx, st->reader->ref, m);
    if (rc != 0) {
        acto_msg_free(m);
        return rc;
    }
    st->reader->sent++;
    st->stats.out++;
    if (st->kind == KIND_SOURCE) {
        st->stats.in++;
    }
    return 0;
}

int
acto_emit(acto_emitter *out, acto_msg *m)
{
    /* The common case, kept small: a place in the outbox. */
    acto_stage *st;
    if (__builtin_expect(out != NULL && m != NULL &&
                             (st = out->st)->out_room > 0 &&
                             st->p->phase < PHASE_STOPPING,
                         1)) {
        st->current_emitted |= m == st->current;
        st->out_buf[st->out_n++] = m;
        st->out_room--;
        return 0;
    }
    return emit_slow(out, m);
}

int
acto_emit_bytes(acto_emitter *out, uint32_t type, const void *data, size_t len)
{
    if (out == NULL) {
        return ACTO_EINVAL;
    }
    acto_msg *m;
    int rc = acto_msg_new_bytes(out->st->p->sys, type, data, len, &m);
    return rc == 0 ? acto_emit(out, m) : rc;
}
