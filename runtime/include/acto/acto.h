/* acto: an actor runtime for C on libuv. Includes the runtime's headers. */
#ifndef ACTO_ACTO_H
#define ACTO_ACTO_H

#include <acto/actor.h>
#include <acto/alloc.h>
#include <acto/combinators.h>
#include <acto/error.h>
#include <acto/future.h>
#include <acto/msg.h>
#include <acto/queue.h>
#include <acto/ref.h>
#include <acto/sync.h>
#include <acto/system.h>
#include <acto/thread.h>
#include <acto/trace.h>

#endif /* ACTO_ACTO_H */
