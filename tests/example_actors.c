/* The README's actor example, built and run by ctest so it stays true:
 * a producer floods a consumer whose mailbox holds 8 messages; the
 * producer is parked whenever the mailbox is full, so memory stays flat. */
#include <acto/acto.h>
#include <stdio.h>
#include <string.h>

enum { MSG_GO = 1, MSG_NUM, MSG_DONE };

typedef struct consumer {
    long sum;
} consumer;

static int
consumer_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    consumer *c = state;
    if (acto_msg_type(m) == MSG_NUM) {
        int n;
        memcpy(&n, acto_msg_data(m, NULL), sizeof(n));
        c->sum += n;
    } else if (acto_msg_type(m) == MSG_DONE) {
        return acto_stop(acto_ctx_system(ctx), acto_self(ctx));
    }
    return 0;
}

static int
producer_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    acto_ref *to = state;
    (void)m;
    for (int n = 1; n <= 1000; n++) {
        /* Parks this actor when the consumer's mailbox is full. */
        int rc = acto_tell(ctx, *to, MSG_NUM, &n, sizeof(n));
        if (rc != 0) {
            return rc; /* fails the actor; its parent would be told */
        }
    }
    return acto_tell(ctx, *to, MSG_DONE, NULL, 0);
}

static const acto_behaviour consumer_b = {.receive = consumer_receive};
static const acto_behaviour producer_b = {.receive = producer_receive};

int
main(void)
{
    acto_system *sys;
    int rc = acto_system_alloc(NULL, &sys); /* its own libuv loop */
    if (rc != 0) {
        fprintf(stderr, "acto_system_alloc: %s\n", acto_strerror(rc));
        return 1;
    }
    consumer c = {0};
    acto_ref cons, prod;
    acto_spawn_opts bounded = {.label = "consumer", .capacity = 8};
    if ((rc = acto_spawn(sys, &consumer_b, &c, &bounded, &cons)) != 0 ||
        (rc = acto_spawn(sys, &producer_b, &cons, NULL, &prod)) != 0) {
        fprintf(stderr, "acto_spawn: %s\n", acto_strerror(rc));
        return 1;
    }
    acto_msg *go;
    if (acto_msg_new_bytes(sys, MSG_GO, NULL, 0, &go) != 0 ||
        acto_system_send(sys, prod, go) != 0) {
        return 1;
    }
    acto_system_run(sys); /* returns when nothing is left to do */
    acto_stats st;
    acto_system_stats(sys, &st);
    printf("sum %ld, parked sends %llu, dead letters %llu\n", c.sum,
           (unsigned long long)st.parks, (unsigned long long)st.dead_letters);
    return acto_system_free(sys) == 0 && c.sum == 500500 ? 0 : 1;
}
