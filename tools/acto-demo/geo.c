/* acto-demo: the "geo lookup" service, a worker that answers asks slowly.
 *
 * It answers where a client network is, after a latency it draws for
 * each ask (seeded): most answers take 1-8 ms, about one in ten takes
 * 30-90 ms, longer than the aggregator waits. It never blocks the loop to
 * be slow: an ask sets a timer (acto_send_after) carrying who asked and
 * the ask's correlation id, and the reply is sent when the timer fires,
 * to the asker with that id, which completes the ask's future. A reply
 * that comes after the asker gave up is dropped by the runtime and
 * counted (acto_stats.late_replies). */
#include "demo.h"

#include <acto/supervisor.h>
#include <string.h>

#define SLOW_PER_MILLE 100

const char *const demo_country_names[DEMO_COUNTRIES] = {
    "US", "DE", "FR", "GB", "JP", "BR", "IN", "NL", "SE", "CA", "AU", "ZA"};

/* A reply that is due: whom to answer, and about what. */
typedef struct geo_due {
    uint64_t to;          /* the asker's ref id */
    uint64_t correlation; /* the ask's */
    uint32_t net;
} geo_due;

unsigned
demo_country_of(uint32_t net)
{
    uint64_t h = (uint64_t)net * 0xff51afd7ed558ccdULL;
    return (unsigned)((h >> 33) % DEMO_COUNTRIES);
}

static uint64_t
draw(demo_geo *g)
{
    g->rng ^= g->rng >> 12;
    g->rng ^= g->rng << 25;
    g->rng ^= g->rng >> 27;
    return g->rng * 0x2545F4914F6CDD1DULL;
}

static uint64_t
latency_ms(demo_geo *g)
{
    uint64_t r = draw(g);
    if (r % 1000 < SLOW_PER_MILLE) {
        return 30 + (r >> 16) % 61;
    }
    return 1 + (r >> 16) % 8;
}

/* on_ask sets the timer that answers an ask later. */
static int
on_ask(acto_ctx *ctx, demo_geo *g, const acto_msg *m)
{
    size_t len;
    const void *data = acto_msg_data(m, &len);
    geo_due due = {acto_msg_sender(m).id, acto_msg_correlation(m), 0};
    if (data == NULL || len != sizeof(due.net) ||
        acto_ref_is_none(acto_msg_sender(m))) {
        return acto_fail(ctx, ACTO_EINVAL, "BadRequest",
                         "a geo ask carries one network and a sender");
    }
    memcpy(&due.net, data, sizeof(due.net));
    g->asked++;
    acto_system *sys = acto_ctx_system(ctx);
    acto_msg *t;
    int rc = acto_msg_new_bytes(sys, T_GEO_DUE, &due, sizeof(due), &t);
    if (rc == 0 && (rc = acto_send_after(sys, latency_ms(g), acto_self(ctx), t,
                                         NULL)) != 0) {
        acto_msg_free(t);
    }
    return rc;
}

/* on_due answers the ask a timer was set for. */
static int
on_due(acto_ctx *ctx, demo_geo *g, const acto_msg *m)
{
    size_t len;
    const void *data = acto_msg_data(m, &len);
    geo_due due;
    if (data == NULL || len != sizeof(due)) {
        return 0; /* not one of its own timers */
    }
    memcpy(&due, data, sizeof(due));
    uint8_t country = (uint8_t)demo_country_of(due.net);
    acto_msg *r;
    int rc = acto_msg_new_bytes(acto_ctx_system(ctx), T_GEO_REPLY, &country,
                                sizeof(country), &r);
    if (rc != 0) {
        return rc;
    }
    acto_msg_set_correlation(r, due.correlation);
    if ((rc = acto_send(ctx, (acto_ref){due.to}, r)) != 0) {
        acto_msg_free(r);
        return rc;
    }
    g->answered++;
    return 0;
}

static int
geo_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    demo_geo *g = state;
    switch (acto_msg_type(m)) {
    case T_GEO_ASK:
        return on_ask(ctx, g, m);
    case T_GEO_DUE:
        return on_due(ctx, g, m);
    default:
        return 0;
    }
}

static const acto_behaviour geo_b = {.receive = geo_receive};

int
demo_geo_start(acto_ctx *sup, const void *arg, size_t len, acto_ref *out)
{
    demo_app *a;
    if (len != sizeof(a)) {
        return ACTO_EINVAL;
    }
    memcpy(&a, arg, sizeof(a));
    acto_spawn_opts o = {.label = "geo", .capacity = 1024};
    int rc = acto_spawn(acto_ctx_system(sup), &geo_b, &a->geo_state, &o, out);
    if (rc == 0) {
        a->geo = *out;
    }
    return rc;
}
