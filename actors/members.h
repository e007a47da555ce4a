/*
 * members.h -- private to troupe: the nodes of a cluster, and names
 * unique in it, kept in etcd (members*.c).  Not API.
 *
 * Keys, under /troupe/<cluster>/ (every one held by its node's lease,
 * so that all of a node's keys vanish with it):
 *
 *   nodes/<name>  = {"id":<id>,"url":"<listen url>"}   (JSON)
 *                   a node is a member while this key exists
 *   ids/<id>      = <name>   (decimal id; the value is the bare name)
 *                   claims the id, so two live nodes never share one
 *   names/<name>  = {"node":N,"proc":P,"slot":S,"gen":G}   (JSON)
 *                   a cluster-wide name: the tr_ref it names
 *
 * Node names and global names: 1 to TR_NAME_MAX bytes, printable
 * ASCII, no '/' (it would move the key).  The cluster name likewise.
 * Both records are created with a txn that compares create_revision
 * with 0, so that a second holder is refused while the first lives.
 *
 * Lease: TTL = etcd_ttl_ms rounded up to whole seconds (etcd's unit;
 * 0: 5 s), renewed every TTL/3.  Each etcd request is bounded by
 * TTL/3 (at least 100 ms, at most 2 s) per endpoint.
 *
 * Self-fencing: a node that has not renewed its lease within the TTL
 * -- counted from when it sent its last successful renewal, which is
 * no later than etcd's own count, so the node knows before etcd lets
 * its keys go -- or that learns its lease is gone, or sees its own
 * nodes/ key deleted (by hand: others see it gone), is fenced: `fenced`
 * is called once, the names it held leave the cache, and it tries to
 * join again (revokes the old lease if it still exists, grants a new
 * one, creates the same nodes/ and ids/ keys) with a delay growing from
 * 100 ms to 2 s; `unfenced` says it is back.  Other members see the
 * fenced node leave when etcd expires its lease (TTL plus etcd's check,
 * up to 0.5 s), and join again once it is back.
 *
 * Threads: three of the module's own -- the keeper (lease renewal,
 * fencing, re-joining), the watch (etcd_watch.c: keeps the cache of
 * nodes and names) and the notifier, which makes every callback.  The
 * calls below may come from any thread; each blocks on etcd where it
 * says so.
 */
#ifndef TRI_MEMBERS_H
#define TRI_MEMBERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "troupe.h"

/* The longest listen URL a node may publish. */
#define TRI_MEMBERS_URL_MAX 255

/*
 * What a member is told.  Every callback runs on the module's notifier
 * thread, one at a time, in the order the changes happened, and never
 * after tri_members_stop() returned.  A callback may call
 * tri_members_whereis, _register and _unregister (the last two wait on
 * etcd, delaying the next callbacks), but not tri_members_stop().  Any
 * pointer may be NULL.  Strings are borrowed for the call.
 */
typedef struct tri_members_cb {
	/* A node (never this one) is a member; also, once for each
	 * member at the time, from tri_members_watch(). */
	void (*join)(void *arg, const char *name, uint32_t id, const char *url);
	/* A node's key went: it left, its lease expired, or it changed
	 * its id or URL (a leave, then a join). */
	void (*leave)(void *arg, const char *name, uint32_t id);
	/* This node's lease was lost: its global names are gone; stop
	 * what must not run outside the cluster. */
	void (*fenced)(void *arg);
	/* This node holds a new lease again, under the same name, id and
	 * URL. */
	void (*unfenced)(void *arg);
	void *arg;
} tri_members_cb;

typedef struct tri_members tri_members;

/*
 * Joins the cluster o->cluster as node o->node with id self_id and
 * listen URL self_url, through the etcd endpoints o->etcd (o->membership
 * is not looked at: the caller chose etcd).  Blocks on etcd: grants the
 * lease, creates nodes/<name> and ids/<id> together, reads the cluster's
 * keys, then starts the threads.  On TR_OK *out is the caller's (stop
 * it with tri_members_stop()); no callback runs before
 * tri_members_watch().
 *
 * TR_EINVAL (a NULL argument, no endpoint, a name, cluster or URL that
 * is too long or holds '/' or a control character, id 0), TR_EEXIST (a
 * live node holds the name, or the id: err says which and who),
 * TR_ETRANSPORT (no etcd answered in time), TR_EPERM (etcd refused),
 * TR_EPROTO (replies that are not etcd's), TR_ENOMEM, TR_ERESOURCE (no
 * thread).  err (errlen bytes, may be NULL) gets a sentence on
 * failure.  A failed join leaves no key behind.
 */
int tri_members_etcd_join(const tr_cluster_opts *o, uint32_t self_id,
    const char *self_url, tri_members **out, char *err, size_t errlen);

/*
 * Starts the callbacks: a join for each member now (not this node),
 * and `fenced` if this node is fenced now; then each change as the
 * watch sees it.  *cb is copied.  Does not block on etcd.  TR_EINVAL
 * (NULL), TR_ESTATE (called before).
 */
int tri_members_watch(tri_members *m, const tri_members_cb *cb);

/*
 * Leaves: stops renewing, revokes the lease (so the node's keys vanish
 * at once, not after the TTL: others see the leave within their watch's
 * latency), joins the threads, frees m.  Blocks on etcd for one request
 * at most (bounded as above; if etcd is unreachable the keys go when
 * the lease expires).  Not from a callback.  NULL is fine.
 */
void tri_members_stop(tri_members *m);

/*
 * Registers name for ref in the whole cluster: names/<name> held by
 * this node's lease, created only if absent.  Blocks on etcd, then
 * waits (at most one request timeout) until the watch has the name in
 * the cache, so that tri_members_whereis() on this node finds it at
 * once.  TR_OK; TR_EINVAL (bad name, m NULL, ref nil); TR_EEXIST (held
 * by anyone, this node included); TR_ETRANSPORT (etcd unreachable, or
 * this node is fenced: no lease to hold the name by); TR_EPERM (etcd
 * refused: authentication); TR_ENOMEM; TR_EPROTO.  A TR_ETRANSPORT
 * after a timeout may leave the name registered (etcd applied the
 * request, its reply was lost): the watch then shows it as this
 * node's, a second register answers TR_EEXIST, and unregister takes it
 * out.
 */
int tri_members_register(tri_members *m, const char *name, tr_ref ref);

/*
 * Unregisters a name this node holds (compared in etcd: names/<name>
 * held by this node's lease).  Blocks on etcd, then waits for the cache
 * as register does.  TR_ENOENT if this node does not hold it (someone
 * else does, or nobody); TR_EINVAL; TR_ETRANSPORT (etcd unreachable or
 * this node fenced).
 */
int tri_members_unregister(tri_members *m, const char *name);

/*
 * The ref a global name stands for, from the cache the watch keeps
 * (never blocks on etcd; while etcd is unreachable the cache is as the
 * watch last saw it, less this node's names once it is fenced).
 * TR_ENOENT, TR_EINVAL.
 */
int tri_members_whereis(tri_members *m, const char *name, tr_ref *out);

/*
 * Whether this node is fenced now; why (may be NULL) gets the reason
 * its last try at re-joining failed ("" if none yet, or not fenced):
 * etcd unreachable, or another live node took the name or the id
 * meanwhile (it keeps trying).  Does not block on etcd.  m NULL:
 * false.
 */
bool tri_members_fenced(tri_members *m, char *why, size_t len);

/* ------------------------------------------------------------------ */
/* Test hooks                                                          */

/* hold true: the keeper neither renews the lease nor re-joins (as a
 * node cut off from etcd would), but still fences itself on time;
 * false: it goes on. */
void tri_members_test_hold_lease(tri_members *m, bool hold);

/* hold true: the watch drops its stream and does not connect again
 * until released; returns once it is disconnected. */
void tri_members_test_hold_watch(tri_members *m, bool hold);

#endif
