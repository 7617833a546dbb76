/* acto-trace otlp: OpenTelemetry JSON (the OTLP/JSON encoding of an
 * ExportTraceServiceRequest), FIELD-NOTES "OpenTelemetry JSON". One span
 * per handled message, kind CONSUMER (5), named "process <actor>"; its
 * parent is the span of the message being handled when it was sent (a
 * timer's message: when the timer was set; a continuation of an ask: when
 * the reply that completed it was sent, the handling of the request);
 * traceId is the flow id as 32 hex digits, spanId the message id as 16.
 * Written in one pass. */
#include "at.h"

#include <acto/error.h>

#include <stdlib.h>
#include <string.h>

typedef struct ot {
    at_trace *t;
    at_out o;
    bool first;
    at_map sent; /* msg -> send ts + 1, while in flight */
    at_map via;  /* a message with no span of its own (a timer's, a reply
                    to an ask) -> its cause */
    uint64_t spans;
} ot;

/* The wall clock of a trace timestamp. */
static uint64_t
unix_ns(const at_trace *t, uint64_t ts)
{
    if (!t->info_ok) {
        return ts;
    }
    int64_t d = (int64_t)(ts - t->info.clock_ns);
    return (uint64_t)((int64_t)t->info.unix_ns + d);
}

static void
attr_str(at_out *o, const char *key, const char *v, bool comma)
{
    if (comma) {
        at_out_ch(o, ',');
    }
    at_out_str(o, "{\"key\":\"");
    at_out_str(o, key);
    at_out_str(o, "\",\"value\":{\"stringValue\":");
    at_out_json_str(o, v);
    at_out_str(o, "}}");
}

static void
attr_int(at_out *o, const char *key, uint64_t v)
{
    at_out_str(o, ",{\"key\":\"");
    at_out_str(o, key);
    at_out_str(o, "\",\"value\":{\"intValue\":\"");
    at_out_u64(o, v);
    at_out_str(o, "\"}}");
}

static const char *
destination(at_trace *t, at_actor *a)
{
    if (a->label == NULL) {
        const char *n = at_actor_name(t, a);
        char ref[32], buf[1100];
        snprintf(buf, sizeof(buf), "%s", n != NULL ? n : "");
        if (n == NULL) {
            snprintf(buf, sizeof(buf), "actor %s", at_ref_str(a->ref, ref));
        }
        a->label = at_strdup(buf);
    }
    return a->label;
}

static void
span(ot *s, at_actor *a, const acto_trace_event *e)
{
    at_out *o = &s->o;
    char tb[32], idb[24];
    uint64_t flow = a->aux != 0 ? a->aux : e->msg;
    /* The nearest cause with a span: through timers and replies. */
    uint64_t parent = a->open_cause;
    uint64_t *via;
    for (int hops = 0; parent != 0 && hops < 16 &&
                       (via = at_map_get(&s->via, parent)) != NULL;
         hops++) {
        parent = *via;
    }
    at_out_str(o, s->first ? "\n" : ",\n");
    s->first = false;
    at_out_str(o, "{\"traceId\":\"");
    at_out_hex(o, flow, 32);
    at_out_str(o, "\",\"spanId\":\"");
    at_out_hex(o, e->msg, 16);
    if (parent != 0) {
        at_out_str(o, "\",\"parentSpanId\":\"");
        at_out_hex(o, parent, 16);
    }
    const char *dest = destination(s->t, a);
    at_out_str(o, "\",\"name\":");
    char name[1200];
    snprintf(name, sizeof(name), "process %s", dest);
    at_out_json_str(o, name);
    at_out_str(o, ",\"kind\":5,\"startTimeUnixNano\":\"");
    at_out_u64(o, unix_ns(s->t, a->open_ts));
    at_out_str(o, "\",\"endTimeUnixNano\":\"");
    at_out_u64(o, unix_ns(s->t, e->ts));
    at_out_str(o, "\",\"attributes\":[");
    attr_str(o, "messaging.system", "acto", false);
    attr_str(o, "messaging.operation.name", "process", true);
    attr_str(o, "messaging.operation.type", "process", true);
    attr_str(o, "messaging.destination.name", dest, true);
    snprintf(idb, sizeof(idb), "%llu", (unsigned long long)e->msg);
    attr_str(o, "messaging.message.id", idb, true);
    attr_str(o, "acto.message.type", at_type_name(s->t, a->open_type, tb),
             true);
    attr_int(o, "acto.flow", flow);
    if (a->aux3 != 0) {
        attr_int(o, "acto.mailbox.wait_ns", a->aux3 - 1);
    }
    int32_t rc = (int32_t)e->arg;
    if (rc != 0) {
        attr_str(o, "error.type", acto_err_name(rc), true);
    }
    at_out_str(o, "],\"status\":{");
    if (rc != 0) {
        at_out_str(o, "\"code\":2,\"message\":");
        at_out_json_str(o, acto_strerror(rc));
    } else {
        at_out_str(o, "\"code\":0");
    }
    at_out_str(o, "}}");
    s->spans++;
}

static void
on_event(ot *s, const acto_trace_event *e)
{
    at_actor *a;
    uint64_t sent;
    switch (e->kind) {
    case ACTO_TRACE_SEND:
        if (at_ref_is_ask(e->peer)) { /* a reply: never handled */
            if (e->cause != 0) {
                *at_map_put(&s->via, e->msg, NULL) = e->cause;
            }
            break;
        }
        *at_map_put(&s->sent, e->msg, NULL) = e->ts + 1;
        break;
    case ACTO_TRACE_TIMER_SET:
        if (e->cause != 0) {
            *at_map_put(&s->via, e->msg, NULL) = e->cause;
        }
        break;
    case ACTO_TRACE_DEAD:
    case ACTO_TRACE_DROP:
        at_map_del(&s->sent, e->msg, NULL);
        break;
    case ACTO_TRACE_HANDLE:
        a = at_actor_of(s->t, e->actor);
        a->open_msg = e->msg;
        a->open_ts = e->ts;
        a->open_cause = e->cause;
        a->open_type = e->type;
        a->aux = e->flow;
        a->aux3 = at_map_del(&s->sent, e->msg, &sent) && e->ts + 1 >= sent
                      ? e->ts + 1 - (sent - 1)
                      : 0;
        break;
    case ACTO_TRACE_HANDLED:
        a = at_actor_of(s->t, e->actor);
        if (a->open_msg != 0 && a->open_msg == e->msg) {
            span(s, a, e);
            a->open_msg = 0;
        }
        break;
    default:
        break;
    }
}

int
at_cmd_otlp(const at_args *args)
{
    at_trace t;
    if (at_trace_open(&t, args->trace) != AT_OK) {
        return AT_FAIL;
    }
    ot s = {.t = &t, .first = true};
    int err = at_out_open(&s.o, args->out);
    if (err != 0) {
        fprintf(stderr, "acto-trace: %s: %s\n", args->out, strerror(err));
        at_trace_close(&t);
        return AT_FAIL;
    }
    at_out *o = &s.o;
    at_out_str(o, "{\"resourceSpans\":[{\"resource\":{\"attributes\":[");
    attr_str(o, "service.name", "acto", false);
    attr_int(o, "process.pid", t.info_ok ? t.info.pid : 0);
    if (t.info_ok && t.info.writer != NULL) {
        attr_str(o, "acto.trace.writer", t.info.writer, true);
    }
    at_out_str(o, "]},\"scopeSpans\":[{\"scope\":{\"name\":\"acto-trace\","
                  "\"version\":\"1\"},\"spans\":[");
    acto_trace_event e;
    while (at_trace_next(&t, &e) == 1) {
        on_event(&s, &e);
    }
    at_out_str(o, "\n]}]}]}\n");
    int rc = AT_OK;
    if ((err = at_out_close(o)) != 0) {
        fprintf(stderr, "acto-trace: %s: %s\n", o->path, strerror(err));
        rc = AT_FAIL;
    }
    if (at_trace_report(&t) != AT_OK) {
        rc = AT_FAIL;
    }
    at_map_free(&s.sent);
    at_map_free(&s.via);
    at_trace_close(&t);
    return rc;
}
