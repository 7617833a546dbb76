/* Taking the message being handled: forwarding it without a copy,
 * changing it in place, and what may not be taken. */
#include "acto_test.h"

#include <string.h>

enum { T_ITEM = 1, T_DONE };

typedef struct relay {
    acto_ref next;
    int handled;
    int took;
    int refused;
} relay;

/* Adds one to the item in place and forwards the same message. */
static int
relay_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    relay *r = state;
    r->handled++;
    acto_msg *own = acto_take_msg(ctx);
    if (own == NULL) {
        r->refused++;
        return 0;
    }
    assert_ptr_equal(own, m);
    assert_null(acto_take_msg(ctx)); /* only once */
    r->took++;
    size_t len;
    int *v = acto_msg_data_mut(own, &len);
    assert_int_equal(len, sizeof(int));
    (*v)++;
    acto_msg_set_type(own, T_DONE);
    acto_msg_set_type(own, ACTO_MSG_SYSTEM_BASE); /* ignored */
    int rc = acto_send(ctx, r->next, own);
    if (rc != 0) {
        acto_msg_free(own);
    }
    return rc;
}

static const acto_behaviour relay_b = {.receive = relay_receive};

typedef struct sink {
    int got, sum, type_ok;
} sink;

static int
sink_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)ctx;
    sink *k = state;
    k->got++;
    k->sum += acto_test_msg_int(m);
    k->type_ok += acto_msg_type(m) == T_DONE;
    return 0;
}

static const acto_behaviour sink_b = {.receive = sink_receive};

static void
take_forwards_the_same_message(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    sink k = {0};
    relay r2 = {0}, r1 = {0};
    acto_ref ks, a2, a1;
    assert_acto_ok(acto_spawn(sys, &sink_b, &k, NULL, &ks));
    r2.next = ks;
    assert_acto_ok(acto_spawn(sys, &relay_b, &r2, NULL, &a2));
    r1.next = a2;
    assert_acto_ok(acto_spawn(sys, &relay_b, &r1, NULL, &a1));
    for (int i = 0; i < 100; i++) {
        assert_acto_ok(acto_test_send_int(sys, a1, T_ITEM, i));
    }
    acto_test_settle(env);
    assert_int_equal(k.got, 100);
    assert_int_equal(k.sum, 4950 + 200);
    assert_int_equal(k.type_ok, 100);
    assert_int_equal(r1.took, 100);
    acto_test_assert_stats_balance(sys);
    acto_test_close_system(env, sys);
}

static bool
handled_two(void *arg)
{
    return ((relay *)arg)->handled == 2;
}

static void
take_refuses_messages_the_runtime_keeps(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    relay r = {0};
    acto_ref a;
    assert_acto_ok(acto_spawn(sys, &relay_b, &r, NULL, &a));
    assert_null(acto_take_msg(NULL));
    /* A request the runtime answers for: an ask's. */
    acto_msg *req;
    int v = 1;
    assert_acto_ok(acto_msg_new_bytes(sys, T_ITEM, &v, sizeof(v), &req));
    acto_future *f;
    assert_acto_ok(acto_ask(sys, a, req, 0, &f));
    acto_test_settle(env);
    assert_int_equal(r.handled, 1);
    assert_int_equal(r.refused, 1);
    acto_future_release(f);
    /* A message from another thread is an ordinary one once delivered. */
    acto_system_set_keep_alive(sys, true); /* the wake-up must be seen */
    assert_acto_ok(acto_send_threadsafe(sys, a, T_ITEM, &v, sizeof(v)));
    assert_true(acto_test_run_until(&env->loop, handled_two, &r, 5000));
    acto_system_set_keep_alive(sys, false);
    assert_int_equal(r.took, 1);
    acto_test_assert_stats_balance(sys);
    acto_test_close_system(env, sys);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        acto_unit_test(take_forwards_the_same_message),
        acto_unit_test(take_refuses_messages_the_runtime_keeps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
