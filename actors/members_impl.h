/*
 * members_impl.h -- private to actors/members*.c: the state a member
 * object shares between its lease (members.c) and its view of the
 * cluster (members_view.c).  Not API.
 *
 * One lock guards everything below it; etcd is never called with it
 * held, and neither is a callback.
 */
#ifndef TRI_MEMBERS_IMPL_H
#define TRI_MEMBERS_IMPL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "etcd.h"
#include "members.h"

/* "/troupe/" + cluster + "/names/" + name, with room. */
#define TRI_MEMBERS_KEY_MAX (2 * TR_NAME_MAX + 32)

/* A node the view knows (never this one). */
typedef struct tri_mnode {
	char name[TR_NAME_MAX + 1];
	uint32_t id;
	char url[TRI_MEMBERS_URL_MAX + 1];
} tri_mnode;

/* A global name the view knows. */
typedef struct tri_mname {
	char name[TR_NAME_MAX + 1];
	tr_ref ref;
	int64_t lease; /* the holder's lease */
} tri_mname;

typedef enum tri_notice_kind {
	TRI_NOTE_JOIN = 1,
	TRI_NOTE_LEAVE,
	TRI_NOTE_FENCED,
	TRI_NOTE_UNFENCED,
} tri_notice_kind;

/* A callback to make, queued for the notifier. */
typedef struct tri_notice {
	struct tri_notice *next;
	tri_notice_kind kind;
	tri_mnode node;
} tri_notice;

struct tri_members {
	tri_etcd *etcd;
	char prefix[TR_NAME_MAX + 16]; /* "/troupe/<cluster>/" */
	char name[TR_NAME_MAX + 1];
	uint32_t id;
	char url[TRI_MEMBERS_URL_MAX + 1];
	int64_t ttl_s;       /* the lease's TTL asked for */
	uint32_t period_ms;  /* between renewals */
	uint32_t timeout_ms; /* of each etcd request */
	tri_etcd_watch *watch;
	pthread_t keeper, notifier;
	bool keeper_started, notifier_started;

	pthread_mutex_t lock;
	pthread_cond_t keeper_cond; /* the keeper's wake-up */
	pthread_cond_t view_cond;   /* view_rev moved */
	pthread_cond_t note_cond;   /* a notice, or stop */

	/* The lease (the keeper's; others read it). */
	int64_t lease;       /* 0: fenced */
	int64_t old_lease;   /* a lease lost, to revoke before re-joining */
	int64_t self_rev;    /* revision of this node's key, this lease */
	uint64_t deadline;   /* ms: fenced if not renewed by then */
	uint64_t next_renew; /* ms */
	uint64_t next_try;   /* ms: the next re-join */
	uint32_t retry_ms;   /* delay between re-joins */
	bool lost;           /* the watch saw this node's key go */
	bool hold_lease;     /* test hook */
	bool stopping;
	char why[256]; /* the last re-join's failure */

	/* The view. */
	tri_mnode *nodes;
	size_t nnodes, capnodes;
	tri_mname *names; /* sorted by name */
	size_t nnames, capnames;
	int64_t view_rev; /* the last revision applied */

	/* The notices. */
	tri_members_cb cb;
	bool watching;
	bool note_stop;
	tri_notice *head, *tail;
};

/* --- members_view.c ------------------------------------------------ */

/* The watch's callbacks (arg: the tri_members). */
void tri_members_on_event(void *arg, tri_etcd_ev type, const tri_etcd_kv *kv);
void tri_members_on_resync(void *arg, const tri_etcd_kvs *kvs);

/* Queues a notice, if the callbacks have started.  Lock held. */
void tri_members_notify(
    tri_members *m, tri_notice_kind kind, const tri_mnode *node);

/* Whether the view knows name; its ref and holder's lease (either may
 * be NULL).  Lock held. */
bool tri_members_name_find(
    tri_members *m, const char *name, tr_ref *ref, int64_t *lease);

/* Drops the names held by lease from the view.  Lock held. */
void tri_members_drop_names(tri_members *m, int64_t lease);

/* Starts and stops the notifier thread (stop drops what is queued). */
int tri_members_notifier_start(tri_members *m);
void tri_members_notifier_stop(tri_members *m);

/* Frees the view and the queue. */
void tri_members_view_free(tri_members *m);

/* Records: writes a node's / a ref's value into buf (size len);
 * returns its length, or 0 if it does not fit. */
size_t tri_members_node_value(
    const char *url, uint32_t id, char *buf, size_t len);
size_t tri_members_ref_value(tr_ref ref, char *buf, size_t len);

/* Whether s is a valid node, cluster or global name. */
bool tri_members_name_ok(const char *s);

#endif
