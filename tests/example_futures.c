/* The README's futures example, built and run by ctest: three asks to a
 * server that ignores negative numbers, gathered with return_exceptions, so
 * the third reports its timeout in place. */
#include <acto/acto.h>
#include <stdio.h>
#include <string.h>

enum { MSG_SQUARE = 1, MSG_RESULT };

static int
square(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)state;
    int n;
    memcpy(&n, acto_msg_data(m, NULL), sizeof(n));
    if (n < 0) {
        return 0; /* never answers: the caller's timeout will */
    }
    n *= n;
    return acto_reply(ctx, MSG_RESULT, &n, sizeof(n));
}

static const acto_behaviour square_b = {.receive = square};

int
main(void)
{
    acto_system *sys;
    acto_ref server;
    if (acto_system_alloc(NULL, &sys) != 0 ||
        acto_spawn(sys, &square_b, NULL, NULL, &server) != 0) {
        return 1;
    }
    int inputs[3] = {2, 3, -1};
    acto_future *asks[3], *all;
    for (int i = 0; i < 3; i++) {
        acto_msg *req;
        if (acto_msg_new_bytes(sys, MSG_SQUARE, &inputs[i], sizeof(int),
                               &req) != 0 ||
            acto_ask(sys, server, req, 50 /* ms */, &asks[i]) != 0) {
            return 1;
        }
    }
    if (acto_gather(sys, asks, 3, true, &all) != 0) {
        return 1;
    }
    acto_system_run(sys); /* until the last ask answered or timed out */
    void *value;
    if (acto_future_result(all, &value) != 0) {
        return 1;
    }
    const acto_gather_result *r = value;
    for (size_t i = 0; i < r->n; i++) {
        if (r->items[i].state == ACTO_FUTURE_DONE) {
            int n;
            memcpy(&n, acto_msg_data(r->items[i].value, NULL), sizeof(n));
            printf("%d ", n);
        } else {
            printf("%s ", acto_err_name(r->items[i].error->code));
        }
    }
    printf("\n");
    for (int i = 0; i < 3; i++) {
        acto_future_release(asks[i]);
    }
    acto_future_release(all);
    return acto_system_free(sys) == 0 ? 0 : 1;
}
