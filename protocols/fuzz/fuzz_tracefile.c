/* libFuzzer target: the trace file reader on arbitrary bytes. Every
 * input must end in events and then 0 or a clear error, without a crash,
 * a leak or an out-of-bounds read (run it with ASan + UBSan). Build with
 * cmake -DCMAKE_C_COMPILER=clang -DACTO_FUZZ=ON -DACTO_SANITIZE=address;
 * run as fuzz_tracefile protocols/fuzz/corpus (see TRACE-FORMAT.md). */
#include <acto/tracefile.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A small record limit reaches the limit checks too. */
    acto_tracefile_reader_opts opts = {.max_record = size % 2 ? 4096 : 0};
    acto_tracefile_reader *r;
    if (acto_tracefile_reader_open_memory(data, size, &opts, &r) != 0) {
        return 0;
    }
    acto_tracefile_info info;
    if (acto_tracefile_info_get(r, &info) == 0 &&
        (info.clock == NULL || info.writer == NULL)) {
        abort();
    }
    acto_trace_event e;
    int rc;
    uint64_t n = 0;
    while ((rc = acto_tracefile_next(r, &e)) == 1) {
        n++;
        const char *name = acto_tracefile_actor_name(r, (acto_ref){e.actor});
        if (name != NULL && strlen(name) > 1 << 20) {
            abort();
        }
        (void)acto_tracefile_type_name(r, e.type);
    }
    if (rc < 0 && strncmp(acto_tracefile_error(r), "offset ", 7) != 0) {
        fprintf(stderr, "an error without an offset: %s\n",
                acto_tracefile_error(r));
        abort();
    }
    if (n != acto_tracefile_events_read(r) ||
        acto_tracefile_next(r, &e) != rc) {
        abort();
    }
    acto_tracefile_reader_close(r);
    return 0;
}
