/* The README's pipeline example, built and run by ctest so it stays true:
 * the error lines of a log, upper-cased, into another file, through a
 * pool of workers, with bounded memory whatever the file's size. */
#include <acto/acto.h>
#include <acto/pipeline.h>
#include <stdio.h>
#include <string.h>

/* Keeps error lines (a filter: an item not emitted is dropped). */
static int
errors_only(acto_emitter *out, void *state, acto_msg *line)
{
    (void)state;
    size_t len;
    const char *s = acto_msg_data(line, &len);
    return len >= 5 && memcmp(s, "ERROR", 5) == 0 ? acto_emit(out, line) : 0;
}

/* Upper-cases a line in place and passes the same message on. */
static int
shout(acto_emitter *out, void *state, acto_msg *line)
{
    (void)state;
    size_t len;
    char *s = acto_msg_data_mut(line, &len);
    for (size_t i = 0; i < len; i++) {
        if (s[i] >= 'a' && s[i] <= 'z') {
            s[i] = (char)(s[i] - 'a' + 'A');
        }
    }
    return acto_emit(out, line);
}

static int
write_input(const char *path)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        return -1;
    }
    for (int i = 0; i < 100000; i++) {
        fprintf(f, "%s request %d took %d ms\n", i % 1000 ? "INFO" : "ERROR", i,
                i % 97);
    }
    return fclose(f);
}

int
main(void)
{
    const char *in = "/tmp/acto-example-in.log";
    const char *out = "/tmp/acto-example-errors.log";
    if (write_input(in) != 0) {
        return 1;
    }
    acto_system *sys;
    acto_system_alloc(NULL, &sys);

    acto_pipeline *p;
    acto_stage *src, *filter, *pool, *sink;
    acto_pipeline_new(sys, NULL, &p);
    acto_pipeline_source_file(p, in, NULL, NULL, &src); /* lines */
    acto_pipeline_stage(p, src, errors_only, NULL, NULL, &filter);
    acto_pool_opts workers = {.workers = 4};
    acto_pipeline_pool(p, filter, &workers, shout, NULL, NULL, &pool);
    acto_file_sink_opts lines = {.newline = true};
    acto_pipeline_sink_file(p, pool, out, &lines, NULL, &sink);

    acto_future *done;
    acto_pipeline_start(p, &done);
    acto_system_run(sys); /* returns when the pipeline is over */

    acto_stage_stats st;
    acto_pipeline_stats(p, filter, &st);
    uint64_t bytes = 0;
    acto_pipeline_file_bytes(sink, &bytes);
    printf("%s: %llu lines read, %llu errors, %llu bytes written\n",
           acto_future_state_of(done) == ACTO_FUTURE_DONE ? "done" : "failed",
           (unsigned long long)st.in, (unsigned long long)st.out,
           (unsigned long long)bytes);
    acto_future_release(done);
    acto_pipeline_free(p);
    remove(in);
    remove(out);
    return acto_system_free(sys) == 0 ? 0 : 1;
}
