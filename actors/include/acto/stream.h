/* Streams: how items travel between acto's ready-made actors (pipeline
 * stages, file sources and sinks).
 *
 * An item is an ordinary message (any type below ACTO_STREAM_BASE) sent
 * to the next actor; bounded mailboxes give backpressure (a producer
 * sending to a full one parks). After its last item a producer sends one
 * ACTO_STREAM_EOS, in order, so the receiver knows nothing follows. A
 * producer that fails fails as an actor (acto_fail): whoever watches it
 * (its supervisor, the pipeline) sees the error; no EOS is sent then.
 */
#ifndef ACTO_STREAM_H
#define ACTO_STREAM_H

#include <acto/acto.h>

/* Stream control messages sit just below the runtime's own types. */
#define ACTO_STREAM_BASE (ACTO_MSG_SYSTEM_BASE - 0x100u)
/* End of stream: no item follows (no payload). */
#define ACTO_STREAM_EOS (ACTO_STREAM_BASE + 0u)

/* acto_stream_send_eos sends ACTO_STREAM_EOS from the running actor to
 * to. Returns as acto_send. */
static inline int
acto_stream_send_eos(acto_ctx *ctx, acto_ref to)
{
    return acto_tell(ctx, to, ACTO_STREAM_EOS, NULL, 0);
}

#endif /* ACTO_STREAM_H */
