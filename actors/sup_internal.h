/* The supervisor's state, shared by supervisor.c (lifecycle, strategies)
 * and sup_admin.c (administration and reports). Private to actors/. */
#ifndef ACTO_SUP_INTERNAL_H
#define ACTO_SUP_INTERNAL_H

#include <acto/supervisor.h>

enum child_after {
    AFTER_NOTHING = 0, /* stopped on its own: the strategy decides */
    AFTER_TERMINATE,   /* terminated by the API or a shutdown: keep spec */
    AFTER_RESTART      /* stopped by a group restart: restart it */
};

typedef struct child {
    struct child *prev, *next;   /* all children, in start order */
    struct child *qprev, *qnext; /* the stop queue or the restart list */
    char *id;                    /* owned, except a dynamic child's */
    size_t id_size;              /* 0 when not owned */
    acto_child_start_fn start;
    void *arg; /* owned copy (in small, or allocated), or NULL */
    size_t arg_len;
    unsigned char small[16]; /* a small argument lives here */
    acto_ref ref;
    uint64_t monitor;
    uint64_t kill_timer; /* 0: none */
    uint64_t started_at;
    uint64_t failed_msg; /* the message its last failure was handling */
    int64_t shutdown_ms;
    uint32_t restarts; /* of this child, all time */
    uint32_t streak;   /* consecutive restarts, for the backoff */
    uint8_t restart;   /* acto_restart */
    uint8_t kind;      /* acto_child_kind */
    uint8_t state;     /* acto_child_state */
    uint8_t significant;
    uint8_t after;    /* enum child_after */
    uint8_t decision; /* 1 + the decider's action, until the DOWN */
    uint8_t queue;    /* which queue it is on: enum child_queue */
} child;

enum child_queue { Q_NONE = 0, Q_STOP, Q_RESTART };

/* A list of children through prev/next or qprev/qnext. */
typedef struct child_list {
    child *head, *tail;
    size_t n;
} child_list;

/* Maps running children's refs to them. */
/* One entry: the key is kept beside the pointer, so probing never
 * touches a child (a cache miss each with 100k children). */
typedef struct child_slot {
    uint64_t key; /* the child's ref id; 0: empty */
    child *c;
} child_slot;

typedef struct child_map {
    child_slot *slots;
    size_t cap; /* a power of two, or 0 */
    size_t n;
} child_map;

enum sup_phase {
    PHASE_RUNNING = 0,
    PHASE_SHUTTING_DOWN, /* stopping every child, then itself */
    PHASE_ESCALATING     /* stopping every child, then failing */
};

typedef struct sup {
    acto_system *sys;
    acto_ref self;
    acto_sup_flags flags;
    acto_child_spec pool_spec; /* the dynamic pool's spec (id owned) */
    child_list all;
    child_list stopq;    /* waiting to be asked to stop, in order */
    child_list restartq; /* waiting to be restarted, in start order */
    child_map by_ref;
    size_t stopping;   /* children asked to stop and not yet down */
    uint64_t *history; /* restart times within the window (a ring) */
    size_t hist_cap, hist_head, hist_n;
    uint64_t restarts;
    uint64_t retry_timer; /* the pending restart step, 0: none */
    uint64_t retry_seq;   /* which retry message is the live one */
    uint64_t rng;
    uint8_t phase;
    /* the error to fail with once everything has stopped */
    int esc_code;
    char esc_type[64];
    char esc_text[192];
    const void *starting;     /* the specs, during the start hook */
    int64_t budget;           /* own shutdown budget in the parent */
    uint64_t restart_product; /* restart budgets multiplied from the root */
} sup;

extern const acto_behaviour acto__sup_behaviour;

/* Lists and the map. */
void acto__sup_list_push(child_list *l, child *c);
void acto__sup_list_remove(child_list *l, child *c);
void acto__sup_queue_push(child_list *l, child *c, uint8_t which);
void acto__sup_queue_remove(child_list *l, child *c);
child *acto__sup_map_get(const child_map *m, acto_ref ref);
int acto__sup_map_put(child_map *m, child *c);
void acto__sup_map_del(child_map *m, child *c);

/* acto__sup_new_child makes a child record from spec (and a dynamic
 * child's own argument). Returns it, or NULL when out of memory. */
child *acto__sup_new_child(sup *s, const acto_child_spec *spec, const void *arg,
                           size_t len);
void acto__sup_free_child(sup *s, child *c);
/* acto__sup_drop_arg frees c's argument (a temporary child keeps none). */
void acto__sup_drop_arg(child *c);

/* acto__sup_start_one runs c's start function as the supervisor and
 * monitors the child. Returns 0 (c runs, or was ignored: state
 * TERMINATED), or the start function's error. */
int acto__sup_start_one(acto_ctx *ctx, sup *s, child *c);

/* acto__sup_stop_child queues c to be stopped within its budget; after
 * says what happens once it is down. */
void acto__sup_stop_child(sup *s, child *c, uint8_t after);

/* acto__sup_pump asks the next queued children to stop and, once all are
 * down, finishes what the phase asks. Returns 0, or the error the running
 * supervisor must fail with. */
int acto__sup_pump(acto_ctx *ctx, sup *s);

/* acto__sup_validate checks one spec for its supervisor's flags, and
 * acto__sup_validate_flags the flags with their specs. */
int acto__sup_validate(const acto_sup_flags *f, const acto_child_spec *c);
int acto__sup_validate_flags(const acto_sup_flags *f,
                             const acto_child_spec *specs, size_t n);

/* Restart budget and backoff (sup_restart.c): the intensity and period in
 * force; acto__sup_add_restart records a restart now and tells whether the
 * supervisor is still within its intensity; acto__sup_backoff_ms tells how
 * long c's next restart waits. */
uint32_t acto__sup_intensity(const sup *s);
uint64_t acto__sup_period(const sup *s);
bool acto__sup_add_restart(sup *s);
uint64_t acto__sup_backoff_ms(sup *s, child *c);

/* acto__sup_state returns the state of the live supervisor sup, or NULL. */
sup *acto__sup_state(acto_system *sys, acto_ref sup_ref);

#endif /* ACTO_SUP_INTERNAL_H */
