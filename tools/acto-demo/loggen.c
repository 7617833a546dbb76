/* acto-demo: a web server's access log in the combined format, made up
 * from a seed so every run reads the same lines:
 *
 *   203.0.113.7 - - [22/Nov/2026:03:40:12 +0000] "GET /cart HTTP/1.1" 200
 *   5123 "-" "Mozilla/5.0 (X11; Linux x86_64)"
 *
 * Clients come from a few thousand /24 networks, a few of them busy;
 * paths, methods and statuses follow a skewed mix. About one line in 200
 * is malformed the ways real logs are: cut short, a status that is not a
 * number, a request without its quotes, binary noise. */
#include "demo.h"

#include <errno.h>
#include <string.h>

#define NETWORKS 4000
#define BAD_EVERY 200 /* one malformed line in about this many */

static uint64_t
next(uint64_t *s)
{
    /* xorshift64*: small, fast and good enough for made-up logs */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

static const char *const paths[] = {
    "/",
    "/index.html",
    "/cart",
    "/checkout",
    "/login",
    "/logout",
    "/search",
    "/api/items",
    "/api/items/42",
    "/api/items/1337",
    "/api/cart",
    "/api/orders",
    "/api/users/me",
    "/static/app.js",
    "/static/app.css",
    "/static/logo.png",
    "/favicon.ico",
    "/robots.txt",
    "/blog",
    "/blog/actors-in-c",
    "/blog/backpressure",
    "/docs",
    "/docs/supervisors",
    "/wp-login.php",
    "/.env",
};
#define N_PATHS (sizeof(paths) / sizeof(paths[0]))

static const char *const agents[] = {
    "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X)",
    "curl/7.88.1",
    "Googlebot/2.1 (+http://www.google.com/bot.html)",
};
#define N_AGENTS (sizeof(agents) / sizeof(agents[0]))

static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* skewed picks an index below n, low ones far more often. */
static size_t
skewed(uint64_t *s, size_t n)
{
    uint64_t a = next(s) % n, b = next(s) % n;
    return (size_t)(a * b / n);
}

static uint16_t
pick_status(uint64_t *s, size_t path)
{
    unsigned r = (unsigned)(next(s) % 1000);
    if (path >= N_PATHS - 2) {
        return r < 900 ? 404 : 403; /* scanners */
    }
    return r < 780   ? 200
           : r < 860 ? 304
           : r < 900 ? 301
           : r < 960 ? 404
           : r < 990 ? 500
                     : 503;
}

/* good_line writes one well-formed line for request i. */
static int
good_line(char *buf, size_t cap, uint64_t *s, uint64_t i)
{
    size_t net = skewed(s, NETWORKS);
    uint64_t h = (uint64_t)net * 0x9E3779B97F4A7C15ULL;
    unsigned a = 1 + (unsigned)(h >> 56) % 223, b = (unsigned)(h >> 48) & 255,
             c = (unsigned)(h >> 40) & 255, d = 1 + (unsigned)(next(s) % 254);
    size_t path = skewed(s, N_PATHS);
    uint64_t t = i / 40; /* seconds since midnight: 40 requests a second */
    const char *method =
        path >= 10 && path <= 11 && next(s) % 3 == 0 ? "POST" : "GET";
    return snprintf(buf, cap,
                    "%u.%u.%u.%u - - [22/%s/2026:%02u:%02u:%02u +0000] "
                    "\"%s %s HTTP/1.1\" %u %u \"-\" \"%s\"\n",
                    a, b, c, d, months[10], (unsigned)(t / 3600 % 24),
                    (unsigned)(t / 60 % 60), (unsigned)(t % 60), method,
                    paths[path], pick_status(s, path),
                    (unsigned)(200 + next(s) % 40000),
                    agents[skewed(s, N_AGENTS)]);
}

/* spoil turns a good line into a malformed one, as logs get them. */
static int
spoil(char *buf, int len, uint64_t *s)
{
    char *q;
    switch (next(s) % 4) {
    case 0: /* cut short, as by a crash while writing */
        len = 8 + (int)(next(s) % (uint64_t)(len - 12));
        buf[len++] = '\n';
        buf[len] = '\0';
        return len;
    case 1: /* a status that is not a number */
        q = strstr(buf, "\" ");
        if (q != NULL) {
            q[2] = 'X';
        }
        return len;
    case 2: /* the request without its opening quote */
        q = strchr(buf, '"');
        if (q != NULL) {
            *q = '_';
        }
        return len;
    default:
        return snprintf(buf, 64, "\x16\x03\x01\x02%c binary noise %u\n",
                        (char)(next(s) % 26 + 'a'),
                        (unsigned)(next(s) % 100000));
    }
}

int
demo_generate(const char *path, uint64_t lines, uint64_t seed,
              uint64_t *malformed)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        return errno;
    }
    uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 1, bad = 0;
    char buf[512];
    for (uint64_t i = 0; i < lines; i++) {
        int len = good_line(buf, sizeof(buf), &s, i);
        if (next(&s) % BAD_EVERY == 0) {
            len = spoil(buf, len, &s);
            bad++;
        }
        if (fwrite(buf, 1, (size_t)len, f) != (size_t)len) {
            break;
        }
    }
    int err = ferror(f) ? errno : 0;
    if (fclose(f) != 0 && err == 0) {
        err = errno;
    }
    *malformed = bad;
    return err != 0 ? err : 0;
}
