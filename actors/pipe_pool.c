/* A pool's workers are supervised children of the pool: a one-for-one
 * supervisor (the pool's child) starts them, and restarts one that is
 * killed or fails as an actor, on the same stage record, so it goes on
 * counting and its place in the routing stays. Their error policy still
 * handles a stage function's errors in place, keeping the mailbox; a
 * supervisor restart is for a worker actor that died (its mailbox is then
 * lost, counted as dropped). Workers are transient and significant, so a
 * worker that ends normally (after the end of stream, or stopped by the
 * pipeline) is not restarted, and once all have ended the supervisor
 * shuts itself down. If it gives up (too many restarts) the pipeline
 * fails with its error. */
#include "pipe_internal.h"

#include <acto/supervisor.h>
#include <stdio.h>
#include <string.h>

#define POOL_INTENSITY 10
#define POOL_PERIOD_MS 1000

static int
start_worker(acto_ctx *sup, const void *arg, size_t len, acto_ref *out)
{
    acto_stage *w;
    if (len != sizeof(w)) {
        return ACTO_EINVAL;
    }
    memcpy(&w, arg, sizeof(w));
    acto_spawn_opts o = {
        .label = w->name,
        .capacity = acto__pipe_capacity_of(&w->opts),
        .batch = acto__pipe_batch_of(&w->opts),
    };
    return acto_spawn(acto_ctx_system(sup), &acto__pipe_stage_behaviour, w, &o,
                      out);
}

int
acto__pipe_pool_start(acto_ctx *ctx, acto_stage *pool)
{
    size_t n = pool->n_outs;
    acto_child_spec *sp = acto_calloc(n, sizeof(*sp));
    if (sp == NULL) {
        return ACTO_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        sp[i] = (acto_child_spec){
            .id = pool->outs[i]->name,
            .start = start_worker,
            .arg = &pool->outs[i],
            .arg_len = sizeof(acto_stage *),
            .restart = ACTO_RESTART_TRANSIENT,
            .significant = true,
        };
    }
    acto_sup_flags f = {.strategy = ACTO_ONE_FOR_ONE,
                        .intensity = POOL_INTENSITY,
                        .period_ms = POOL_PERIOD_MS,
                        .auto_shutdown = ACTO_AUTO_SHUTDOWN_ALL_SIGNIFICANT,
                        .label = pool->name};
    (void)ctx;
    int rc = acto_sup_start(pool->p->sys, &f, sp, n, &pool->ext);
    acto_free(sp, n * sizeof(*sp));
    return rc;
}

void
acto__pipe_pool_child_failed(acto_stage *pool, const acto_msg *m)
{
    const acto_error *e = acto_msg_error(m);
    if (acto_ref_eq(acto_msg_sender(m), pool->ext) && e != NULL) {
        acto__pipe_fail(pool->p, pool, e); /* its supervisor gave up */
    }
}
