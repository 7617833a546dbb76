/* The README's queue example, built and run by ctest so it stays true. */
#include <acto/acto.h>
#include <stdint.h>
#include <stdio.h>

typedef struct app {
    acto_queue *q;
    acto_queue_req put_req, get_req, join_req;
    intptr_t next; /* the next item the producer puts */
    intptr_t sum;
} app;

static void on_put(acto_queue *q, int status, void *item, void *user);
static void on_joined(acto_queue *q, int status, void *item, void *user);

static void
produce(app *a)
{
    if (a->next <= 5) {
        /* Waits for room when the queue is full, like await q.put(x). */
        acto_queue_put(a->q, &a->put_req, (void *)a->next++, on_put, a);
    } else {
        /* All put: wait until each item is marked done, like q.join(). */
        acto_queue_join(a->q, &a->join_req, on_joined, a);
    }
}

static void
on_put(acto_queue *q, int status, void *item, void *user)
{
    (void)q;
    (void)item;
    if (status == 0) {
        produce(user);
    }
}

static void
on_get(acto_queue *q, int status, void *item, void *user)
{
    app *a = user;
    if (status != 0) {
        return; /* ACTO_ESHUTDOWN once the queue is shut down and empty */
    }
    a->sum += (intptr_t)item;
    acto_queue_task_done(q);
    acto_queue_get(q, &a->get_req, on_get, a); /* the next one */
}

static void
on_joined(acto_queue *q, int status, void *item, void *user)
{
    (void)item;
    app *a = user;
    printf("joined (%s): sum %ld\n", acto_err_name(status), (long)a->sum);
    acto_queue_shutdown(q, false); /* the pending get fails: consumer ends */
    acto_queue_close(q, NULL, NULL);
}

int
main(void)
{
    uv_loop_t *loop = uv_default_loop();
    app a = {.next = 1};
    acto_queue_opts opts = {.kind = ACTO_QUEUE_FIFO, .maxsize = 2};
    int rc = acto_queue_alloc(loop, &opts, &a.q);
    if (rc != 0) {
        fprintf(stderr, "acto_queue_alloc: %s\n", acto_strerror(rc));
        return 1;
    }
    produce(&a);
    acto_queue_get(a.q, &a.get_req, on_get, &a);
    uv_run(loop, UV_RUN_DEFAULT);
    return uv_loop_close(loop) == 0 && a.sum == 15 ? 0 : 1;
}
