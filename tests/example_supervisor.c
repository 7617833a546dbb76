/* The README's supervision example, built and run by ctest so it stays
 * true: a parser that fails on bad lines under a one-for-one supervisor.
 * A decider resumes it after a ParseError (the line is dropped, its state
 * kept) and lets any other failure restart it; then the tree shuts down
 * gracefully. */
#include <acto/acto.h>
#include <acto/supervisor.h>
#include <stdio.h>
#include <string.h>

enum { MSG_LINE = 1 };

typedef struct parser {
    int parsed;
} parser;

static int parsed_total; /* across restarts, for the printout */

static int
parse(acto_ctx *ctx, void *state, const acto_msg *m)
{
    parser *p = state;
    size_t len;
    const char *line = acto_msg_data(m, &len);
    if (len == 0) {
        return ACTO_EINVAL; /* a plain failure: restart */
    }
    if (line[0] == '#') {
        return acto_fail(ctx, ACTO_EINVAL, "ParseError", "bad line '%.*s'",
                         (int)len, line);
    }
    p->parsed++;
    parsed_total++;
    return 0;
}

static void
parser_stop(acto_ctx *ctx, void *state, const acto_exit_reason *why)
{
    (void)ctx;
    (void)why;
    acto_free(state, sizeof(parser)); /* the stop hook owns the state */
}

static const acto_behaviour parser_b = {.receive = parse, .stop = parser_stop};

static int
start_parser(acto_ctx *sup, const void *arg, size_t len, acto_ref *out)
{
    (void)arg;
    (void)len;
    parser *p = acto_calloc(1, sizeof(*p));
    if (p == NULL) {
        return ACTO_ENOMEM;
    }
    int rc = acto_spawn(acto_ctx_system(sup), &parser_b, p, NULL, out);
    if (rc != 0) {
        acto_free(p, sizeof(*p));
    }
    return rc;
}

static acto_sup_action
decide(const acto_child_failure *f, void *user)
{
    (void)user;
    if (strcmp(f->error->type, "ParseError") == 0) {
        return ACTO_SUP_RESUME; /* drop the line, keep the parser */
    }
    return ACTO_SUP_RESTART;
}

static void
send_line(acto_system *sys, acto_ref to, const char *line)
{
    acto_msg *m;
    if (acto_msg_new_bytes(sys, MSG_LINE, line, strlen(line), &m) == 0 &&
        acto_system_send(sys, to, m) != 0) {
        acto_msg_free(m);
    }
}

int
main(void)
{
    acto_system *sys;
    if (acto_system_alloc(NULL, &sys) != 0) {
        return 1;
    }
    acto_sup_flags flags = {.strategy = ACTO_ONE_FOR_ONE,
                            .intensity = 3,
                            .period_ms = 5000,
                            .decider = decide};
    acto_child_spec parser_spec = {.id = "parser", .start = start_parser};
    acto_ref root, worker;
    acto_sup_start(sys, &flags, &parser_spec, 1, &root);
    acto_child_info info;
    size_t n;
    acto_sup_which_children(sys, root, &info, 1, &n);
    worker = info.ref;
    send_line(sys, worker, "GET /index.html 200");
    send_line(sys, worker, "#garbage"); /* resumed */
    send_line(sys, worker, "GET /about.html 200");
    send_line(sys, worker, ""); /* restarted */
    acto_system_run(sys);
    acto_sup_which_children(sys, root, &info, 1, &n);
    send_line(sys, info.ref, "GET /late.html 404"); /* the new parser */
    acto_system_run(sys);
    acto_stats st;
    acto_system_stats(sys, &st);
    printf("parsed %d, failures %llu, restarts %llu\n", parsed_total,
           (unsigned long long)st.failures,
           (unsigned long long)acto_sup_restarts(sys, root));
    acto_shutdown(sys, root); /* children stop in reverse order, then it */
    acto_system_run(sys);
    printf("root alive: %s\n", acto_alive(sys, root) ? "yes" : "no");
    return acto_system_free(sys) == 0 ? 0 : 1;
}
