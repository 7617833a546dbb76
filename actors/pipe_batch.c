/* Batch stages: items gathered into one item of type ACTO_PIPE_BATCH by
 * count, by a time window (a PIPE_MSG_FLUSH message the stage sends itself
 * after the window, stale once the batch went by count), or at the end of
 * the stream. */
#include "pipe_internal.h"

#include <string.h>

static void
free_batch(void *ptr, void *user)
{
    (void)user;
    acto_pipe_batch *b = ptr;
    for (size_t i = 0; i < b->n; i++) {
        acto_msg_free(b->items[i]);
    }
    acto_free(b, sizeof(*b) + b->n * sizeof(acto_msg *));
}

const acto_pipe_batch *
acto_pipe_batch_of(const acto_msg *m)
{
    return m != NULL && acto_msg_type(m) == ACTO_PIPE_BATCH ? acto_msg_ptr(m)
                                                            : NULL;
}

/* acto__pipe_batch_emit passes the items gathered so far on as one batch
 * item. */
void
acto__pipe_batch_emit(acto_ctx *ctx, acto_stage *st)
{
    if (st->window_timer != 0) {
        (void)acto_timer_cancel(acto_ctx_system(ctx), st->window_timer);
        st->window_timer = 0;
    }
    st->window_seq++; /* a flush already queued is stale */
    if (st->buf_n == 0) {
        return;
    }
    size_t n = st->buf_n;
    acto_pipe_batch *b = acto_malloc(sizeof(*b) + n * sizeof(acto_msg *));
    acto_msg *m = NULL;
    if (b != NULL) {
        b->n = n;
        b->items = (acto_msg **)(b + 1);
        memcpy(b->items, st->buf, n * sizeof(acto_msg *));
        if (acto_msg_new_ptr(acto_ctx_system(ctx), ACTO_PIPE_BATCH, b,
                             free_batch, NULL, &m) != 0) {
            acto_free(b, sizeof(*b) + n * sizeof(acto_msg *));
            b = NULL;
        }
    }
    if (b == NULL) {
        acto_error e = {ACTO_ENOMEM, "OutOfMemory", "a batch could not be made",
                        st->ref, NULL};
        acto__pipe_fail(st->p, st, &e);
        return; /* the items stay in buf, freed when the stage stops */
    }
    st->buf_n = 0;
    st->stats.out += n - 1; /* acto_emit counts the batch item once */
    (void)acto_emit(&st->emit, m);
}

void
acto__pipe_batch_on_flush(acto_ctx *ctx, acto_stage *st, const acto_msg *m)
{
    size_t len;
    const void *p = acto_msg_data(m, &len);
    uint64_t seq;
    if (p != NULL && len == sizeof(seq)) {
        memcpy(&seq, p, sizeof(seq));
        if (seq == st->window_seq) {
            st->window_timer = 0;
            acto__pipe_batch_emit(ctx, st);
        }
    }
}

int
acto__pipe_batch_add(acto_ctx *ctx, acto_stage *st, acto_msg *item)
{
    acto_msg **buf =
        acto__pipe_grown(st->buf, sizeof(*buf), st->buf_n, &st->buf_cap, 16);
    if (buf == NULL) {
        return ACTO_ENOMEM;
    }
    st->buf = buf;
    st->buf[st->buf_n++] = item;
    if (st->buf_n == 1 && st->batch_window_ms > 0) {
        acto_msg *m;
        uint64_t seq = ++st->window_seq;
        if (acto_msg_new_bytes(acto_ctx_system(ctx), PIPE_MSG_FLUSH, &seq,
                               sizeof(seq), &m) == 0 &&
            acto_send_after(acto_ctx_system(ctx), st->batch_window_ms,
                            acto_self(ctx), m, &st->window_timer) != 0) {
            acto_msg_free(m);
        }
    }
    if (st->batch_count > 0 && st->buf_n >= st->batch_count) {
        acto__pipe_batch_emit(ctx, st);
    }
    return 0;
}
