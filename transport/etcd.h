/*
 * etcd.h -- private to troupe: a client of etcd's v3 API through its
 * HTTP/JSON gateway (POST /v3/..., keys and values in base64), over
 * libcurl.  Not API.
 *
 * It knows HTTP, JSON and etcd; nothing of troupe's keys (that is
 * actors/members.c).  Keys are C strings, values bytes.
 *
 * Endpoints: a call tries the endpoint that answered last, then each
 * other in turn, until one answers; each try is bounded by timeout_ms
 * (connection and reply together), so a call returns within
 * timeout_ms times the number of endpoints, whether etcd is down,
 * unreachable or stopped.  A call that timed out may still have been
 * applied by etcd (its reply was lost): a call is tried again on the
 * next endpoint, so txns are written to be safe to repeat (see
 * tri_etcd_create()).
 *
 * Errors, for every call: TR_OK; TR_EINVAL (bad arguments, or etcd
 * refused the request as invalid); TR_ENOENT (etcd: no such lease);
 * TR_EPERM (etcd refused: authentication, permission); TR_ETRANSPORT
 * (no endpoint answered in time, or each answered with an error: etcd
 * down, no leader, not etcd); TR_EPROTO (a reply that is not what etcd
 * sends: malformed JSON, bad base64, missing fields, too large);
 * TR_ENOMEM.  why, if not NULL, gets a sentence on failure.
 *
 * Threads: a tri_etcd may be used by several threads at once (each
 * request takes an easy handle of its own from a small pool; idle
 * handles keep their connection for the next request).  Blocking:
 * every call does network I/O and waits for it.
 */
#ifndef TRI_ETCD_H
#define TRI_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tri_etcd tri_etcd;
typedef struct tri_etcd_watch tri_etcd_watch;

typedef struct tri_etcd_opts {
	/* "http://host:port" or "https://host:port", NULL-terminated,
	 * at least one (required).  Copied. */
	const char *const *endpoints;
	/* For https:// endpoints (PEM file paths, copied; NULL: curl's
	 * default CA store, no client certificate).  A client
	 * certificate authenticates troupe to etcd; etcd's gateway does
	 * not map its CN to an etcd user. */
	const char *ca;
	const char *cert;
	const char *key;
	/* Bound of each try of a request on one endpoint, and of a
	 * watch's connection; 0: 2000. */
	uint32_t timeout_ms;
} tri_etcd_opts;

/* Why a call failed: a sentence, for logs and error messages. */
typedef struct tri_etcd_err {
	char msg[256];
} tri_etcd_err;

/*
 * A key and its value as etcd holds them.  key and value are
 * NUL-terminated too (value "" if absent); *_len exclude the NUL.
 * A kv of a DELETE event has key and mod_rev only.
 */
typedef struct tri_etcd_kv {
	char *key;
	size_t key_len;
	char *value;
	size_t value_len;
	int64_t create_rev;
	int64_t mod_rev;
	int64_t version;
	int64_t lease; /* 0: none */
} tri_etcd_kv;

/* Keys read at one revision (rev: the store's revision then). */
typedef struct tri_etcd_kvs {
	tri_etcd_kv *kv;
	size_t n;
	int64_t rev;
} tri_etcd_kvs;

/* Frees what a range or a create put in *kvs (not kvs itself); a
 * zeroed one is fine. */
void tri_etcd_kvs_free(tri_etcd_kvs *kvs);

/*
 * A client of the endpoints of *o.  Makes no request (etcd may be down
 * now and come up later).  TR_EINVAL (no endpoint, one that is not
 * http:// or https://), TR_ENOMEM, TR_ETRANSPORT (libcurl could not
 * start).  Close with tri_etcd_close(), after stopping its watches.
 */
int tri_etcd_open(const tri_etcd_opts *o, tri_etcd **out, tri_etcd_err *why);
void tri_etcd_close(tri_etcd *e);

/*
 * Leases.  grant: a new lease of ttl_s seconds (etcd may raise a TTL
 * below its minimum); *id and *granted (may be NULL) as etcd says.
 * keepalive: renews lease id; *ttl = the TTL it now has from this
 * moment.  TR_ENOENT if the lease is gone (expired or revoked).
 * revoke: deletes the lease and every key attached to it at once;
 * TR_ENOENT if it was gone already.
 */
int tri_etcd_lease_grant(tri_etcd *e, int64_t ttl_s, int64_t *id,
    int64_t *granted, tri_etcd_err *why);
int tri_etcd_lease_keepalive(
    tri_etcd *e, int64_t id, int64_t *ttl, tri_etcd_err *why);
int tri_etcd_lease_revoke(tri_etcd *e, int64_t id, tri_etcd_err *why);

/* key = value, attached to lease (0: none).  *rev (may be NULL): the
 * revision of the write.  TR_ENOENT if the lease does not exist. */
int tri_etcd_put(tri_etcd *e, const char *key, const void *value,
    size_t value_len, int64_t lease, int64_t *rev, tri_etcd_err *why);

/*
 * key alone, or (prefix) every key starting with key, in key order,
 * into *out (the caller's on TR_OK: tri_etcd_kvs_free; zeroed on
 * failure).  out->rev is the revision the keys were read at: a watch
 * from out->rev + 1 misses nothing after them.
 */
int tri_etcd_range(tri_etcd *e, const char *key, bool prefix, tri_etcd_kvs *out,
    tri_etcd_err *why);

/* Deletes key (or every key with prefix key); *deleted (may be NULL):
 * how many. */
int tri_etcd_delete(tri_etcd *e, const char *key, bool prefix, int64_t *deleted,
    tri_etcd_err *why);

/* One key to create. */
typedef struct tri_etcd_put_op {
	const char *key;
	const void *value;
	size_t value_len;
} tri_etcd_put_op;

/*
 * Creates ops[0..n) (1 <= n <= 8) attached to lease, all or none: a txn
 * that compares each key's create_revision with 0 (it does not exist)
 * and puts them all if every compare holds.  *created says whether it
 * did.  If not, found (may be NULL) receives those of the keys that
 * exist, with their values and leases (the caller's: tri_etcd_kvs_free),
 * so that the caller can tell another holder from its own earlier
 * write whose reply was lost (same lease, same value: it did create
 * them).  *rev (may be NULL): the store's revision after the txn.
 * TR_ENOENT if the lease does not exist.
 */
int tri_etcd_create(tri_etcd *e, const tri_etcd_put_op *ops, size_t n,
    int64_t lease, bool *created, tri_etcd_kvs *found, int64_t *rev,
    tri_etcd_err *why);

/* Deletes key if it is attached to lease (a txn comparing the key's
 * lease): *deleted says whether it was.  *rev (may be NULL): the
 * store's revision after the txn. */
int tri_etcd_delete_if_lease(tri_etcd *e, const char *key, int64_t lease,
    bool *deleted, int64_t *rev, tri_etcd_err *why);

/* Compacts the history up to rev (operators and tests: a watch that
 * must resume before it gets a resync). */
int tri_etcd_compact(tri_etcd *e, int64_t rev, tri_etcd_err *why);

/* ------------------------------------------------------------------ */
/* Watch                                                               */
/* ------------------------------------------------------------------ */

typedef enum tri_etcd_ev {
	TRI_ETCD_PUT = 1,
	TRI_ETCD_DELETE = 2,
} tri_etcd_ev;

/*
 * What a watch reports.  Every callback runs on the watch's own
 * thread, one at a time, and never after tri_etcd_watch_stop()
 * returned.  A callback may call any tri_etcd_* function except
 * tri_etcd_watch_stop() and tri_etcd_watch_hold() on its own watch.
 * Arguments are borrowed for the call.
 */
typedef struct tri_etcd_watch_cb {
	/* A change under the prefix: in revision order, each exactly
	 * once, across reconnections. */
	void (*event)(void *arg, tri_etcd_ev type, const tri_etcd_kv *kv);
	/* The history the watch needed to resume was compacted away, so
	 * some changes cannot be told one by one: kvs is every key under
	 * the prefix at kvs->rev, and events go on after it.  The
	 * receiver compares it with what it knew.  May be NULL (the
	 * watch then goes on from kvs->rev + 1 without telling). */
	void (*resync)(void *arg, const tri_etcd_kvs *kvs);
	/* The watch's stream came up (true) or went down (false).  May be
	 * NULL. */
	void (*link)(void *arg, bool up);
	void *arg;
} tri_etcd_watch_cb;

/*
 * Watches every key starting with prefix, from revision from_rev (0:
 * from now), on a thread of its own, with a streaming request.  When
 * the stream breaks (etcd restarted, an endpoint died), it connects
 * again -- to the next endpoint, after a delay growing from 50 ms to
 * 2 s -- and resumes after the last revision it reported, so no event
 * is lost or repeated.  A silent connection (a host gone) is found by
 * TCP keepalives within a few timeout_ms.  *cb is copied.  TR_EINVAL,
 * TR_ENOMEM, TR_ERESOURCE (no thread).  Stop with tri_etcd_watch_stop()
 * before closing e.
 */
int tri_etcd_watch_start(tri_etcd *e, const char *prefix, int64_t from_rev,
    const tri_etcd_watch_cb *cb, tri_etcd_watch **out, tri_etcd_err *why);

/* Ends the stream, joins the thread, frees.  From any thread but the
 * watch's own (a callback). */
void tri_etcd_watch_stop(tri_etcd_watch *w);

/*
 * Test hook: hold (true) drops the stream and keeps the watch from
 * connecting again until released (false), as a long outage would.
 * Returns once the watch is disconnected and waiting (hold) or allowed
 * to go on (release).
 */
void tri_etcd_watch_hold(tri_etcd_watch *w, bool hold);

#endif
