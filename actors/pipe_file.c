/* Pipeline stages over the file actors: a source stage fed by a file
 * source actor it spawns (its child), and a sink stage that feeds a file
 * sink actor and ends only once the file is written, synced and closed.
 * The file actor's done future tells the pipeline how it went: a failure
 * fails the pipeline with the file's error. */
#include "pipe_internal.h"

#include <string.h>

typedef struct file_args {
    char *path;
    size_t path_size;
    acto_file_source_opts src;
    acto_file_sink_opts sink;
} file_args;

static void
drop_args(file_args *a)
{
    acto_free(a->path, a->path_size);
    acto_free(a, sizeof(*a));
}

static void
free_args(acto_stage *st)
{
    if (st->own != NULL) {
        drop_args(st->own);
        st->own = NULL;
    }
    acto_future_release(st->ext_done);
    st->ext_done = NULL;
}

static int
finish_as_stage(acto_ctx *ctx, void *state, void *user)
{
    (void)state;
    acto__pipe_end_stream(ctx, user);
    return 0;
}

/* on_file_done: a file actor finished. A failure fails the pipeline; a
 * sink's success ends its stage. */
static void
on_file_done(acto_future *f, void *user)
{
    acto_stage *st = user;
    acto_system *sys = st->p->sys;
    acto_future_state fs = acto_future_state_of(f);
    if (fs == ACTO_FUTURE_FAILED) {
        acto__pipe_fail(st->p, st, acto_future_exception(f));
    } else if (fs == ACTO_FUTURE_DONE && st->kind == KIND_FORWARD) {
        (void)acto_call_as(sys, st->ref, &acto__pipe_stage_behaviour,
                           finish_as_stage, st);
    }
}

static int
watch_done(acto_stage *st)
{
    int rc = acto_future_add_done_cb(st->ext_done, on_file_done, st);
    if (rc != 0) {
        (void)acto_kill(st->p->sys, st->ext);
    }
    return rc;
}

static int
start_source(acto_ctx *ctx, acto_stage *st)
{
    file_args *a = st->own;
    a->src.to = acto_self(ctx);
    int rc = acto_file_source_spawn(acto_ctx_system(ctx), a->path, &a->src,
                                    &st->ext, &st->ext_done);
    return rc == 0 ? watch_done(st) : rc;
}

static int
start_sink(acto_ctx *ctx, acto_stage *st)
{
    file_args *a = st->own;
    int rc = acto_file_sink_spawn(acto_ctx_system(ctx), a->path, &a->sink,
                                  &st->ext, &st->ext_done);
    return rc == 0 ? watch_done(st) : rc;
}

/* stop_ext stops a file actor still running when its stage stops (the
 * pipeline failed or was cancelled). */
static void
stop_ext(acto_stage *st)
{
    if (st->ext_done != NULL) {
        (void)acto_future_remove_done_cb(st->ext_done, on_file_done, st);
    }
    (void)acto_kill(st->p->sys, st->ext);
}

static int
new_args(const char *path, file_args **out)
{
    if (path == NULL) {
        return ACTO_EINVAL;
    }
    file_args *a = acto_calloc(1, sizeof(*a));
    if (a == NULL) {
        return ACTO_ENOMEM;
    }
    a->path_size = strlen(path) + 1;
    a->path = acto_malloc(a->path_size);
    if (a->path == NULL) {
        acto_free(a, sizeof(*a));
        return ACTO_ENOMEM;
    }
    memcpy(a->path, path, a->path_size);
    *out = a;
    return 0;
}

static void
attach(acto_stage *st, file_args *a,
       int (*start)(acto_ctx *ctx, acto_stage *st))
{
    st->own = a;
    st->own_start = start;
    st->own_stop = stop_ext;
    st->own_free = free_args;
}

int
acto_pipeline_source_file(acto_pipeline *p, const char *path,
                          const acto_file_source_opts *fo,
                          const acto_stage_opts *opts, acto_stage **out)
{
    file_args *a;
    int rc = new_args(path, &a);
    if (rc != 0) {
        return rc;
    }
    if (fo != NULL) {
        a->src = *fo;
    }
    rc = acto_pipeline_input(p, opts, out);
    if (rc != 0) {
        drop_args(a);
        return rc;
    }
    attach(*out, a, start_source);
    return 0;
}

int
acto_pipeline_sink_file(acto_pipeline *p, acto_stage *from, const char *path,
                        const acto_file_sink_opts *fo,
                        const acto_stage_opts *opts, acto_stage **out)
{
    file_args *a;
    int rc = new_args(path, &a);
    if (rc != 0) {
        return rc;
    }
    if (fo != NULL) {
        a->sink = *fo;
    }
    rc = acto__pipe_add_stage(p, from, KIND_FORWARD, NULL, opts, out);
    if (rc != 0) {
        drop_args(a);
        return rc;
    }
    attach(*out, a, start_sink);
    return 0;
}

int
acto_pipeline_file_bytes(const acto_stage *s, uint64_t *bytes)
{
    if (s == NULL || bytes == NULL || s->own_free != free_args) {
        return ACTO_EINVAL;
    }
    if (s->ext_done == NULL || !acto_future_done(s->ext_done)) {
        return ACTO_EPENDING;
    }
    return acto_file_done_bytes(s->ext_done, bytes);
}
