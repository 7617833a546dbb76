/* The supervisor's restart budget (intensity within a sliding window) and
 * its restart backoff with jitter. */
#include "sup_internal.h"

#define DEFAULT_INTENSITY 1
#define DEFAULT_PERIOD_MS 5000
#define DEFAULT_BACKOFF_MAX 30000

uint32_t
acto__sup_intensity(const sup *s)
{
    uint32_t i = s->flags.intensity;
    return i == 0 ? DEFAULT_INTENSITY : i == ACTO_SUP_NO_RESTARTS ? 0 : i;
}

uint64_t
acto__sup_period(const sup *s)
{
    return s->flags.period_ms != 0 ? s->flags.period_ms : DEFAULT_PERIOD_MS;
}

static int
history_grow(sup *s)
{
    size_t cap = s->hist_cap != 0 ? s->hist_cap * 2 : 8;
    uint64_t *h = acto_malloc(cap * sizeof(*h));
    if (h == NULL) {
        return ACTO_ENOMEM;
    }
    for (size_t i = 0; i < s->hist_n; i++) {
        h[i] = s->history[(s->hist_head + i) % s->hist_cap];
    }
    acto_free(s->history, s->hist_cap * sizeof(*h));
    s->history = h;
    s->hist_cap = cap;
    s->hist_head = 0;
    return 0;
}

/* add_restart records a restart now. Returns whether the supervisor is
 * still within its intensity (more than intensity restarts within the
 * period are too many, as OTP counts them). */
bool
acto__sup_add_restart(sup *s)
{
    uint64_t now = acto_system_now(s->sys);
    while (s->hist_n > 0 &&
           now - s->history[s->hist_head] >= acto__sup_period(s)) {
        s->hist_head = (s->hist_head + 1) % s->hist_cap;
        s->hist_n--;
    }
    if (s->hist_n + 1 > acto__sup_intensity(s)) {
        return false;
    }
    if (s->hist_n == s->hist_cap && history_grow(s) != 0) {
        return false; /* cannot count it, so cannot allow it */
    }
    s->history[(s->hist_head + s->hist_n) % s->hist_cap] = now;
    s->hist_n++;
    s->restarts++;
    return true;
}

static double
next_random(sup *s)
{
    /* xorshift64*: repeatable for a given seed. */
    uint64_t x = s->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    s->rng = x;
    return (double)((x * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

/* backoff_ms returns how long c's restart waits. */
uint64_t
acto__sup_backoff_ms(sup *s, child *c)
{
    const acto_backoff *b = &s->flags.backoff;
    if (b->min_ms == 0) {
        return 0;
    }
    uint64_t max = b->max_ms != 0 ? b->max_ms : DEFAULT_BACKOFF_MAX;
    uint64_t reset = b->reset_ms != 0 ? b->reset_ms : max;
    uint64_t now = acto_system_now(s->sys);
    if (c->started_at != 0 && now - c->started_at >= reset) {
        c->streak = 0;
    }
    double mult = b->multiplier >= 1.0 ? b->multiplier : 2.0;
    double d = b->min_ms;
    for (uint32_t i = 0; i < c->streak && d < (double)max; i++) {
        d *= mult;
    }
    if (d > (double)max) {
        d = (double)max;
    }
    c->streak++;
    if (b->jitter > 0.0) {
        d *= 1.0 + b->jitter * (2.0 * next_random(s) - 1.0);
    }
    return (uint64_t)(d + 0.5);
}
