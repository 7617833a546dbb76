/* Test helpers: see acto_test.h. */
#include "acto_test.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the counting allocator ------------------------------------------- */

/* A header before each block records its size so sized frees are checked. */
typedef union header {
    size_t size;
    max_align_t align;
} header;

static atomic_long live_blocks;
static atomic_long live_bytes;
static atomic_long total_blocks;
static atomic_long fail_countdown;
static atomic_bool fail_fired;

static void *
counting_malloc(size_t size, void *user)
{
    (void)user;
    if (atomic_load(&fail_countdown) > 0 &&
        atomic_fetch_sub(&fail_countdown, 1) == 1) {
        atomic_store(&fail_fired, true);
        return NULL;
    }
    header *h = malloc(sizeof(header) + size);
    if (h == NULL) {
        return NULL;
    }
    h->size = size;
    atomic_fetch_add(&live_blocks, 1);
    atomic_fetch_add(&live_bytes, (long)size);
    atomic_fetch_add(&total_blocks, 1);
    return h + 1;
}

static void
counting_free(void *ptr, size_t size, void *user)
{
    (void)user;
    header *h = (header *)ptr - 1;
    if (h->size != size) {
        fprintf(stderr,
                "acto_test: sized free of %zu bytes for a block of "
                "%zu\n",
                size, h->size);
        abort();
    }
    atomic_fetch_sub(&live_blocks, 1);
    atomic_fetch_sub(&live_bytes, (long)size);
    free(h);
}

void
acto_test_alloc_install(void)
{
    static const acto_allocator counting = {counting_malloc, counting_free,
                                            NULL};
    atomic_store(&live_blocks, 0);
    atomic_store(&live_bytes, 0);
    atomic_store(&total_blocks, 0);
    acto_test_alloc_fail_nth(0);
    if (acto_allocator_set(&counting) != 0) {
        abort();
    }
}

void
acto_test_alloc_uninstall(void)
{
    acto_allocator_set(NULL);
}

void
acto_test_alloc_fail_nth(long n)
{
    atomic_store(&fail_fired, false);
    atomic_store(&fail_countdown, n > 0 ? n : 0);
}

bool
acto_test_alloc_failed(void)
{
    return atomic_load(&fail_fired);
}

long
acto_test_alloc_live(void)
{
    return atomic_load(&live_blocks);
}

long
acto_test_alloc_live_bytes(void)
{
    return atomic_load(&live_bytes);
}

long
acto_test_alloc_total(void)
{
    return atomic_load(&total_blocks);
}

/* ---- running the loop ------------------------------------------------- */

static void
on_deadline(uv_timer_t *timer)
{
    *(bool *)timer->data = true;
}

static void
free_timer(uv_handle_t *handle)
{
    free(handle);
}

bool
acto_test_run_until(uv_loop_t *loop, acto_test_pred pred, void *arg,
                    uint64_t timeout_ms)
{
    if (pred(arg)) {
        return true;
    }
    bool expired = false;
    uv_timer_t *deadline = malloc(sizeof(*deadline));
    assert_non_null(deadline);
    uv_timer_init(loop, deadline);
    deadline->data = &expired;
    uv_timer_start(deadline, on_deadline, timeout_ms, 0);
    /* Unreferenced: it bounds how long the loop blocks without keeping an
     * otherwise finished loop alive. */
    uv_unref((uv_handle_t *)deadline);
    bool ok = false;
    for (;;) {
        if ((ok = pred(arg)) || expired) {
            break;
        }
        if (uv_run(loop, UV_RUN_ONCE) == 0) {
            ok = pred(arg);
            break;
        }
    }
    /* The close completes on a later iteration (teardown quiesces). */
    uv_close((uv_handle_t *)deadline, free_timer);
    return ok;
}

bool
acto_test_quiesce(uv_loop_t *loop, uint64_t timeout_ms)
{
    uint64_t end = uv_hrtime() + timeout_ms * 1000000u;
    while (uv_run(loop, UV_RUN_NOWAIT) != 0) {
        if (uv_hrtime() > end) {
            return false;
        }
    }
    return true;
}

void
acto_test_run_once(uv_loop_t *loop)
{
    uv_run(loop, UV_RUN_NOWAIT);
}

/* ---- the standard fixture --------------------------------------------- */

int
acto_test_setup(void **state)
{
    acto_test_env *env = calloc(1, sizeof(*env));
    if (env == NULL || uv_loop_init(&env->loop) != 0) {
        free(env);
        return -1;
    }
    acto_test_alloc_install();
    *state = env;
    return 0;
}

static void
report_handle(uv_handle_t *handle, void *arg)
{
    (void)arg;
    fprintf(stderr, "open handle: %s%s%s\n",
            uv_handle_type_name(uv_handle_get_type(handle)),
            uv_is_active(handle) ? " (active)" : "",
            uv_is_closing(handle) ? " (closing)" : "");
}

int
acto_test_teardown(void **state)
{
    acto_test_env *env = *state;
    bool quiet = acto_test_quiesce(&env->loop, 5000);
    int rc = uv_loop_close(&env->loop);
    if (rc != 0) {
        uv_walk(&env->loop, report_handle, NULL);
    }
    long leaked = acto_test_alloc_live();
    long leaked_bytes = acto_test_alloc_live_bytes();
    acto_test_alloc_uninstall();
    free(env);
    if (!quiet || rc != 0) {
        fail_msg("the loop is not quiet after the test: uv_loop_close: %s",
                 acto_err_name(rc));
    }
    if (leaked != 0) {
        fail_msg("%ld allocation(s), %ld bytes still live", leaked,
                 leaked_bytes);
    }
    return 0;
}

/* ---- systems and messages -------------------------------------------- */

bool
acto_test_flag(void *arg)
{
    return *(bool *)arg;
}

void
acto_test_on_system_closed(acto_system *sys, void *user)
{
    (void)sys;
    *(bool *)user = true;
}

acto_system *
acto_test_system(acto_test_env *env, const acto_system_opts *opts)
{
    acto_system_opts o = {0};
    if (opts != NULL) {
        o = *opts;
    }
    o.loop = &env->loop;
    acto_system *sys = NULL;
    assert_acto_ok(acto_system_alloc(&o, &sys));
    return sys;
}

void
acto_test_close_system(acto_test_env *env, acto_system *sys)
{
    bool closed = false;
    assert_acto_ok(acto_system_close(sys, acto_test_on_system_closed, &closed));
    assert_true(acto_test_run_until(&env->loop, acto_test_flag, &closed, 5000));
}

void
acto_test_settle(acto_test_env *env)
{
    assert_true(acto_test_quiesce(&env->loop, 5000));
}

int
acto_test_send_bytes(acto_system *sys, acto_ref to, uint32_t type,
                     const void *data, size_t len)
{
    acto_msg *m;
    int rc = acto_msg_new_bytes(sys, type, data, len, &m);
    if (rc == 0 && (rc = acto_system_send(sys, to, m)) != 0) {
        acto_msg_free(m);
    }
    return rc;
}

int
acto_test_send_int(acto_system *sys, acto_ref to, uint32_t type, int n)
{
    return acto_test_send_bytes(sys, to, type, &n, sizeof(n));
}

int
acto_test_msg_int(const acto_msg *m)
{
    size_t len;
    const void *d = acto_msg_data(m, &len);
    int n = -1;
    if (d != NULL && len == sizeof(n)) {
        memcpy(&n, d, sizeof(n));
    }
    return n;
}

void
acto_test_assert_stats_balance(acto_system *sys)
{
    acto_stats st;
    acto_system_stats(sys, &st);
    assert_int_equal(st.sent,
                     st.handled + st.dead_letters + st.dropped + st.queued);
}

/* ---- child processes -------------------------------------------------- */

static void
proc_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)hint;
    acto_test_proc *p = h->data;
    size_t room = sizeof(p->text) - 1 - p->len;
    *buf = uv_buf_init(p->text + p->len, (unsigned)room);
}

static void
proc_closed(uv_handle_t *h)
{
    ((acto_test_proc *)h->data)->closed++;
}

static void
proc_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    (void)buf;
    acto_test_proc *p = st->data;
    if (n > 0) {
        p->len += (size_t)n;
        p->text[p->len] = '\0';
    } else if (n < 0) {
        uv_close((uv_handle_t *)st, proc_closed);
    }
}

static void
proc_exit(uv_process_t *h, int64_t status, int sig)
{
    acto_test_proc *p = h->data;
    p->exited = true;
    p->status = status;
    p->term_signal = sig;
    uv_close((uv_handle_t *)h, proc_closed);
}

void
acto_test_proc_start(uv_loop_t *loop, acto_test_proc *p, char **args)
{
    memset(p, 0, sizeof(*p));
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE,
         .data.stream = (uv_stream_t *)&p->out},
        {.flags = UV_INHERIT_FD, .data.fd = 2},
    };
    uv_process_options_t o = {.exit_cb = proc_exit,
                              .file = args[0],
                              .args = args,
                              .stdio = stdio,
                              .stdio_count = 3};
    assert_int_equal(uv_pipe_init(loop, &p->out, 0), 0);
    p->out.data = p;
    p->proc.data = p;
    assert_int_equal(uv_spawn(loop, &p->proc, &o), 0);
    assert_int_equal(
        uv_read_start((uv_stream_t *)&p->out, proc_alloc, proc_read), 0);
}

bool
acto_test_proc_done(void *arg)
{
    acto_test_proc *p = arg;
    return p->exited && p->closed == 2;
}

typedef struct proc_text {
    acto_test_proc *p;
    const char *want;
} proc_text;

static bool
proc_said(void *arg)
{
    proc_text *w = arg;
    return strstr(w->p->text, w->want) != NULL;
}

void
acto_test_proc_wait_for(uv_loop_t *loop, acto_test_proc *p, const char *want,
                        uint64_t timeout_ms)
{
    proc_text w = {p, want};
    if (!acto_test_run_until(loop, proc_said, &w, timeout_ms)) {
        fail_msg("the process never said '%s'; it said:\n%s", want, p->text);
    }
}
