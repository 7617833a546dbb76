/* acto-trace: one flow's messages, loaded from a trace, as a causal tree
 * (shared by flow, why and seq). */
#ifndef ACTO_TRACE_FLOW_H
#define ACTO_TRACE_FLOW_H

#include "at.h"

enum {
    FM_SEND = 1u << 0,
    FM_HANDLE = 1u << 1,
    FM_HANDLED = 1u << 2,
    FM_TIMER = 1u << 3, /* a timer's message: set, then fired */
    FM_FIRED = 1u << 4,
    FM_DEAD = 1u << 5,
    FM_DROPPED = 1u << 6,
    FM_FAILED = 1u << 7,
    FM_PARKED = 1u << 8,
    FM_CRITICAL = 1u << 9,
    FM_REPLY = 1u << 10,   /* a reply to an ask: completes its future */
    FM_RESOLVED = 1u << 11 /* the future completed, at t_handle */
};

#define FM_NONE UINT32_MAX

typedef struct fmsg {
    uint64_t id, cause;
    uint64_t from, to; /* refs: sender (or timer setter), receiver */
    uint32_t type;
    uint32_t flags;
    uint64_t t_set, t_fire, t_send, t_handle, t_handled, t_end_event;
    int32_t rc, fail_code;
    uint32_t delay_ms; /* a timer's */
    uint32_t parent, first_child, last_child, next;
    uint64_t sub_end; /* the latest time in its subtree */
} fmsg;

/* A restart caused by a failure in the flow. */
typedef struct frestart {
    uint64_t ts, child, sup, cause;
    uint32_t count;
} frestart;

typedef struct flow_model {
    uint64_t flow;
    fmsg *m;
    size_t n, cap;
    at_map ix; /* message id -> index + 1 */
    frestart *restarts;
    size_t n_restarts, cap_restarts;
    uint64_t t0, t1; /* the flow's first and last event */
    uint32_t n_roots;
} flow_model;

/* flow_load reads the flow id (or, when no flow has that id, the flow of
 * the message id) into fm, with every actor's spawn and stop in t. With
 * msg_of set, id is taken as a message id first. Returns AT_OK, or
 * AT_FAIL after printing why. */
int flow_load(at_trace *t, uint64_t id, bool msg_of, flow_model *fm);
void flow_free(flow_model *fm);
/* flow_find is id's index or FM_NONE. */
uint32_t flow_find(const flow_model *fm, uint64_t id);
/* flow_start is when the message entered the flow (set or sent). */
uint64_t flow_start(const fmsg *m);
/* flow_end is the message's last moment of its own. */
uint64_t flow_end(const fmsg *m);

#endif /* ACTO_TRACE_FLOW_H */
