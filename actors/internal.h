/*
 * internal.h -- private to troupe: every private header of actors/, for
 * code outside that folder that reaches into the runtime (the troupe
 * command's tree runner, white-box tests).  Not API.  Files of actors/
 * include the headers of the modules they use instead:
 *
 *   msg.h        messages and their queues          msg.c
 *   behavior.h   registered behaviors               behavior.c
 *   mailbox.h    an actor's mailbox                 mailbox.c
 *   ctx.h        contexts                           ctx.c
 *   target.h     where a ref leads                  target.c
 *   call.h       waits for replies and starts       send.c
 *   route.h      the control lane, an actor's turn  route.c, turn.c
 *   actor.h      thread actors                      actor.c
 *   link.h       links and monitors                 link.c
 *   registry.h   contexts by ref, names, placement  registry.c, names.c
 *   runtime.h    this process's runtime             runtime.c, clock.c,
 *                                                   info.c, error.c
 *   process.h    the node's processes               node.c, member.c, ...
 *   rundir.h     the run directory, descriptors     rundir.c, limits.c
 *   timer.h      delayed sends                      timer.c
 *   scheduler.h  scheduled actors                   scheduler.c, sched_*.c
 */
#ifndef TRI_INTERNAL_H
#define TRI_INTERNAL_H

#include "actor.h"
#include "alloc.h"
#include "behavior.h"
#include "call.h"
#include "ctx.h"
#include "link.h"
#include "mailbox.h"
#include "msg.h"
#include "process.h"
#include "registry.h"
#include "route.h"
#include "rundir.h"
#include "runtime.h"
#include "target.h"
#include "timer.h"

#endif
