/*
 * dist.h -- private to troupe: this node among other nodes (dist*.c).
 * Not API.
 *
 * The root of a node in a cluster keeps a session with every other node
 * it knows: one connection each way (transport/peer.h), a handshake
 * that binds the inbound one to the node it claims to be (dist_hello.c),
 * ticks both ways, and a writer that batches frames and cuts big ones
 * in pieces that take turns by sender (dist_wire.c).  A session that
 * ends is over for good: both connections are closed, what was queued
 * in it is counted as dead letters, and every context of the node hears
 * TRI_K_NODE_DOWN; the next session is a new one.
 *
 * Threads: frames arrive on nng's threads (delivered to local actors
 * there); the node's dist thread ticks, times out, dials (each dial on a
 * thread of its own), retries what waits for room in a full mailbox,
 * and announces sessions that went up or down.
 *
 * Locks: D.mtx (the peer table, handshakes) before a peer's own mtx
 * (its writer, credits); neither is held while calling into the rest of
 * the runtime.
 */
#ifndef TRI_DIST_H
#define TRI_DIST_H

#include <stdbool.h>
#include <stdint.h>

#include "frame.h"
#include "troupe.h"

typedef struct tri_peer tri_peer;

/* Starts the cluster side of a root (tr_init with opts->cluster):
 * listens, dials the seeds.  A sentence for the user on stderr for
 * every error: TR_EINVAL (options), TR_EEXIST (address in use),
 * TR_ENOENT/TR_EPROTO (certificate files), TR_ETRANSPORT. */
int tri_dist_start(const tr_cluster_opts *o);
/* Ends every session (their links and monitors fire as for a node that
 * went down), stops listening, joins the threads. */
void tri_dist_stop(void);
/* Whether this root is in a cluster. */
bool tri_dist_on(void);

/* The monitor a call to an actor of another node is watched by: made
 * by the callee's node as the call is put into the callee's mailbox,
 * dropped as the callee replies, so that the call costs no frames of
 * its own.  (Monitor ids of tr_monitor never reach bit 63.) */
#define TRI_REMOTE_CALL_MON(corr) ((corr) | (1ull << 63))

/* Whether node (a tr_spec.node) names this node. */
bool tri_dist_is_self(const char *node);
/* tr_spawn() of a spec whose node is another one (dist_spawn.c). */
int tri_dist_spawn(const tr_spec *spec, tr_ref *out, tr_reason *why);
/* The spawn service of this node (dist_spawn.c), started by
 * tri_dist_start; its ref is told to other nodes in the handshake. */
int tri_dist_service_start(tr_ref *out);

/*
 * The session with r's node, for a send: *p stays valid while the
 * runtime runs; *session names the session (a later one refuses what
 * is meant for this one).  TR_ENOPROC: no node of that id is known (an
 * old incarnation, or never seen: the actor cannot be alive);
 * TR_ENOCONN: known, no session up; TR_ENOTSUP: a member process
 * (its root carries its frames: not yet).
 */
int tri_dist_peer(tr_ref r, tri_peer **p, uint64_t *session);
/* What a user message of body_len bytes costs in credits: one, and one
 * more per TRI_FRAG bytes, so that big ones in flight stay bounded in
 * bytes too. */
uint32_t tri_dist_cost(uint32_t body_len);
/* Takes the credits of a user message to dest, waiting as the timeout
 * says (TR_EFULL for TR_NOWAIT, TR_ETIMEDOUT); TR_ENOCONN if the
 * session ended meanwhile. */
int tri_dist_credit_take(
    tri_peer *p, uint64_t session, tr_ref dest, uint32_t cost, int timeout_ms);
/* Gives back credits taken for a send that then failed. */
void tri_dist_credit_give(
    tri_peer *p, uint64_t session, tr_ref dest, uint32_t cost);
/* Queues f (copied) on the session, in order after what f.sender sent
 * before.  TR_ENOCONN if the session ended, TR_EMSGSIZE, TR_ENOMEM. */
int tri_dist_send(tri_peer *p, uint64_t session, const tri_frame *f);

/* dist_svc.c: the node's service actor and node monitors. */
/* Node `node`'s id and the ref of its service (from its handshake):
 * TR_OK, TR_ENOENT (no such node known), TR_ENOCONN (known, not up),
 * TR_ENOTSUP (no cluster). */
int tri_dist_service_of(const char *node, tr_ref *out, uint32_t *id);
void tri_dist_tell_monitors(const char *name, uint32_t id, bool up);
void tri_dist_monitors_fini(void);

#endif
