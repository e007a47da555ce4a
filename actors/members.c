/*
 * members.c -- a node's membership in etcd (members.h): joining, the
 * lease and its keeper thread (renewal, self-fencing, re-joining), and
 * the global names held by the lease.  The view of the cluster (the
 * watch, the cache, the callbacks) is members_view.c.
 *
 * Time is counted on the monotonic clock in ms (tri_now_ms).  A
 * renewal's deadline starts when its request was sent, before etcd
 * saw it: etcd's own count starts later, so the node fences itself
 * before etcd can give its names to anyone else.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "members_impl.h"
#include "runtime.h"

#define RETRY_FIRST_MS 100
#define RETRY_MAX_MS 2000

static void seterr(char *err, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || len == 0) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

/* What an etcd failure means to a caller of members: etcd could not be
 * used (TR_ETRANSPORT), except out of memory and replies not etcd's. */
static int
etcd_rc(int rc)
{
	return rc == TR_ENOMEM || rc == TR_EPROTO || rc == TR_EPERM ?
	    rc :
	    TR_ETRANSPORT;
}

static void
key_of(const tri_members *m, char *buf, const char *folder, const char *leaf)
{
	snprintf(buf, TRI_MEMBERS_KEY_MAX, "%s%s%s", m->prefix, folder, leaf);
}

/* Waits on the keeper's condition until deadline (ms).  Lock held. */
static void
wait_until(tri_members *m, pthread_cond_t *c, uint64_t deadline)
{
	struct timespec ts;

	tri_deadline_ts(deadline, &ts);
	pthread_cond_timedwait(c, &m->lock, &ts);
}

/* ------------------------------------------------------------------ */
/* The node's keys                                                     */

/* Text from etcd, for a message: printable ASCII only. */
static void
clean(char *dst, size_t len, const char *src)
{
	size_t n = 0;

	for (; *src != '\0' && n + 1 < len; src++) {
		unsigned char c = (unsigned char)*src;
		dst[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	dst[n] = '\0';
}

/* Sentence for a key that someone else holds. */
static void
explain_taken(
    const tri_members *m, const tri_etcd_kv *kv, char *err, size_t len)
{
	char value[TRI_MEMBERS_URL_MAX + 64];

	clean(value, sizeof(value), kv->value);
	if (strstr(kv->key, "/nodes/") != NULL) {
		seterr(err, len,
		    "node name '%s' is held by a live node (%s) under %s",
		    m->name, m->prefix, value);
	} else {
		seterr(err, len,
		    "node id %u is taken by live node '%s' under %s",
		    (unsigned)m->id, value, m->prefix);
	}
}

/*
 * Creates nodes/<name> and ids/<id> under lease, together.  *rev: the
 * revision they were created at.  TR_EEXIST if a live node holds
 * either (err says which).
 */
static int
create_keys(tri_members *m, int64_t lease, int64_t *rev, char *err, size_t len)
{
	char nkey[TRI_MEMBERS_KEY_MAX], ikey[TRI_MEMBERS_KEY_MAX];
	char idtext[16], value[2 * TRI_MEMBERS_URL_MAX + 64];
	tri_etcd_put_op ops[2];
	tri_etcd_kvs found;
	tri_etcd_err why = {""};
	size_t vlen;
	bool created, ours;
	int rc;

	vlen = tri_members_node_value(m->url, m->id, value, sizeof(value));
	snprintf(idtext, sizeof(idtext), "%u", (unsigned)m->id);
	key_of(m, nkey, "nodes/", m->name);
	key_of(m, ikey, "ids/", idtext);
	ops[0] = (tri_etcd_put_op){nkey, value, vlen};
	ops[1] = (tri_etcd_put_op){ikey, m->name, strlen(m->name)};
	rc = tri_etcd_create(
	    m->etcd, ops, 2, lease, &created, &found, rev, &why);
	if (rc != TR_OK) {
		seterr(err, len, "%s", why.msg);
		return etcd_rc(rc);
	}
	if (created) {
		return TR_OK;
	}
	/* Both there, both ours: our own txn, whose reply was lost and
	 * which tri_etcd_create() tried again. */
	ours = found.n == 2;
	for (size_t i = 0; i < found.n; i++) {
		const tri_etcd_kv *kv = &found.kv[i];
		const tri_etcd_put_op *op =
		    strcmp(kv->key, nkey) == 0 ? &ops[0] : &ops[1];
		if (kv->lease != lease || kv->value_len != op->value_len ||
		    memcmp(kv->value, op->value, op->value_len) != 0) {
			ours = false;
			explain_taken(m, kv, err, len);
			break;
		}
		*rev = kv->create_rev;
	}
	if (!ours && found.n < 2 && err != NULL && err[0] == '\0') {
		seterr(err, len, "node name '%s' or id %u is taken", m->name,
		    (unsigned)m->id);
	}
	tri_etcd_kvs_free(&found);
	return ours ? TR_OK : TR_EEXIST;
}

/*
 * A new lease and the node's keys under it.  *deadline: when the
 * lease ends unless renewed.  On failure nothing is left behind (the
 * new lease is revoked, if etcd lets it).
 */
static int
claim(tri_members *m, int64_t *lease, int64_t *rev, uint64_t *deadline,
    char *err, size_t len)
{
	tri_etcd_err why = {""};
	int64_t granted;
	uint64_t sent = tri_now_ms();
	int rc;

	if (err != NULL && len > 0) {
		err[0] = '\0';
	}
	rc = tri_etcd_lease_grant(m->etcd, m->ttl_s, lease, &granted, &why);
	if (rc != TR_OK) {
		seterr(err, len, "%s", why.msg);
		return etcd_rc(rc);
	}
	if ((rc = create_keys(m, *lease, rev, err, len)) != TR_OK) {
		tri_etcd_lease_revoke(m->etcd, *lease, NULL);
		*lease = 0;
		return rc;
	}
	*deadline = sent + (uint64_t)granted * 1000u;
	return TR_OK;
}

/* ------------------------------------------------------------------ */
/* The keeper                                                          */

/* The lease is lost.  Lock held. */
static void
fence(tri_members *m)
{
	int64_t lost = m->lease;

	m->lease = 0;
	m->old_lease = lost;
	m->lost = false;
	tri_members_drop_names(m, lost);
	tri_members_notify(m, TRI_NOTE_FENCED, NULL);
	m->next_try = tri_now_ms();
	m->retry_ms = RETRY_FIRST_MS;
}

/* One renewal.  Lock held on entry and return, dropped meanwhile. */
static void
renew(tri_members *m)
{
	int64_t lease = m->lease, ttl;
	uint64_t sent;
	int rc;

	pthread_mutex_unlock(&m->lock);
	sent = tri_now_ms();
	rc = tri_etcd_lease_keepalive(m->etcd, lease, &ttl, NULL);
	pthread_mutex_lock(&m->lock);
	if (m->lease != lease) {
		return;
	}
	if (rc == TR_OK) {
		m->deadline = sent + (uint64_t)ttl * 1000u;
		m->next_renew = sent + m->period_ms;
	} else if (rc == TR_ENOENT) {
		fence(m); /* etcd says the lease is gone */
	} else {
		/* etcd unreachable: try again soon, until the deadline. */
		m->next_renew = tri_now_ms() + m->period_ms / 4 + 1;
	}
}

/* One try at joining again.  Lock held on entry and return. */
static void
rejoin(tri_members *m)
{
	int64_t old = m->old_lease, lease = 0, rev = 0;
	uint64_t deadline = 0;
	bool revoked = old == 0;
	char err[sizeof(m->why)] = "";
	int rc = TR_OK;

	pthread_mutex_unlock(&m->lock);
	/* The old lease may live still (etcd was unreachable, the lease
	 * did not expire; etcd even extends leases when it restarts):
	 * revoke it, so that the node's keys are free. */
	if (!revoked) {
		tri_etcd_err why = {""};
		rc = tri_etcd_lease_revoke(m->etcd, old, &why);
		if (rc == TR_OK || rc == TR_ENOENT) {
			revoked = true;
			rc = TR_OK;
		} else {
			snprintf(err, sizeof(err), "%s", why.msg);
		}
	}
	if (revoked) {
		rc = claim(m, &lease, &rev, &deadline, err, sizeof(err));
	}
	pthread_mutex_lock(&m->lock);
	if (revoked && m->old_lease == old) {
		m->old_lease = 0;
	}
	if (rc != TR_OK) {
		snprintf(m->why, sizeof(m->why), "%s", err);
		m->retry_ms = m->retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS :
		                                               m->retry_ms * 2;
		m->next_try = tri_now_ms() + m->retry_ms;
		return;
	}
	m->lease = lease;
	m->self_rev = rev;
	m->deadline = deadline;
	m->next_renew = tri_now_ms() + m->period_ms;
	m->lost = false;
	m->why[0] = '\0';
	tri_members_notify(m, TRI_NOTE_UNFENCED, NULL);
}

static void *
keeper(void *arg)
{
	tri_members *m = arg;

	pthread_mutex_lock(&m->lock);
	while (!m->stopping) {
		uint64_t now = tri_now_ms();
		if (m->lease != 0) {
			/* Out: the lease ran out, or this node's key
			 * went (whatever the lease says, others see the
			 * node gone: it joins again). */
			if (now >= m->deadline || m->lost) {
				fence(m);
			} else if (m->hold_lease || now < m->next_renew) {
				wait_until(m, &m->keeper_cond,
				    m->hold_lease ||
				            m->next_renew > m->deadline ?
				        m->deadline :
				        m->next_renew);
			} else {
				renew(m);
			}
		} else if (m->hold_lease) {
			pthread_cond_wait(&m->keeper_cond, &m->lock);
		} else if (now < m->next_try) {
			wait_until(m, &m->keeper_cond, m->next_try);
		} else {
			rejoin(m);
		}
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Joining and leaving                                                 */

static int
init_sync(tri_members *m)
{
	if (pthread_mutex_init(&m->lock, NULL) != 0) {
		return TR_ENOMEM;
	}
	if (tri_cond_init(&m->keeper_cond) != 0) {
		goto mutex;
	}
	if (tri_cond_init(&m->view_cond) != 0) {
		goto keeper;
	}
	if (pthread_cond_init(&m->note_cond, NULL) != 0) {
		goto view;
	}
	return TR_OK;
view:
	pthread_cond_destroy(&m->view_cond);
keeper:
	pthread_cond_destroy(&m->keeper_cond);
mutex:
	pthread_mutex_destroy(&m->lock);
	return TR_ENOMEM;
}

static void
fini_sync(tri_members *m)
{
	pthread_cond_destroy(&m->note_cond);
	pthread_cond_destroy(&m->view_cond);
	pthread_cond_destroy(&m->keeper_cond);
	pthread_mutex_destroy(&m->lock);
}

static int
check_args(const tr_cluster_opts *o, uint32_t self_id, const char *self_url,
    tri_members **out, char *err, size_t len)
{
	if (o == NULL || self_url == NULL || out == NULL) {
		seterr(err, len, "a required argument is NULL");
		return TR_EINVAL;
	}
	if (!tri_members_name_ok(o->cluster)) {
		seterr(err, len,
		    "cluster name missing, too long, or with '/' "
		    "or a control character");
		return TR_EINVAL;
	}
	if (!tri_members_name_ok(o->node)) {
		seterr(err, len,
		    "node name missing, too long, or with '/' "
		    "or a control character");
		return TR_EINVAL;
	}
	if (self_id == 0) {
		seterr(err, len, "node id 0 is not an id");
		return TR_EINVAL;
	}
	size_t n = strlen(self_url);
	if (n == 0 || n > TRI_MEMBERS_URL_MAX) {
		seterr(err, len, "listen URL empty or over %d bytes",
		    TRI_MEMBERS_URL_MAX);
		return TR_EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)self_url[i] < 0x20 ||
		    (unsigned char)self_url[i] >= 0x7f) {
			seterr(err, len, "listen URL with a control character");
			return TR_EINVAL;
		}
	}
	if (o->etcd == NULL || o->etcd[0] == NULL) {
		seterr(err, len, "no etcd endpoint");
		return TR_EINVAL;
	}
	return TR_OK;
}

int
tri_members_etcd_join(const tr_cluster_opts *o, uint32_t self_id,
    const char *self_url, tri_members **out, char *err, size_t errlen)
{
	tri_members *m;
	tri_etcd_opts eo = {0};
	tri_etcd_err why = {""};
	tri_etcd_watch_cb wcb = {0};
	tri_etcd_kvs kvs = {0};
	uint32_t ttl_ms;
	int rc;

	if (err != NULL && errlen > 0) {
		err[0] = '\0';
	}
	if (out != NULL) {
		*out = NULL;
	}
	if ((rc = check_args(o, self_id, self_url, out, err, errlen)) !=
	    TR_OK) {
		return rc;
	}
	if ((m = tri_calloc(1, sizeof(*m))) == NULL) {
		seterr(err, errlen, "out of memory");
		return TR_ENOMEM;
	}
	if ((rc = init_sync(m)) != TR_OK) {
		tri_free(m);
		seterr(err, errlen, "out of memory");
		return rc;
	}
	snprintf(m->prefix, sizeof(m->prefix), "/troupe/%s/", o->cluster);
	snprintf(m->name, sizeof(m->name), "%s", o->node);
	snprintf(m->url, sizeof(m->url), "%s", self_url);
	m->id = self_id;
	ttl_ms = o->etcd_ttl_ms ? o->etcd_ttl_ms : 5000;
	m->ttl_s = (ttl_ms + 999) / 1000;
	m->period_ms = (uint32_t)(m->ttl_s * 1000 / 3);
	m->timeout_ms = m->period_ms < 100 ? 100 :
	    m->period_ms > 2000            ? 2000 :
	                                     m->period_ms;
	m->retry_ms = RETRY_FIRST_MS;
	eo.endpoints = o->etcd;
	eo.timeout_ms = m->timeout_ms;
	if ((rc = tri_etcd_open(&eo, &m->etcd, &why)) != TR_OK) {
		seterr(err, errlen, "%s", why.msg);
		goto fail;
	}
	rc = claim(m, &m->lease, &m->self_rev, &m->deadline, err, errlen);
	if (rc != TR_OK) {
		goto fail;
	}
	m->next_renew = tri_now_ms() + m->period_ms;
	/* What the cluster holds now, then every change after it. */
	if ((rc = tri_etcd_range(m->etcd, m->prefix, true, &kvs, &why)) !=
	    TR_OK) {
		seterr(err, errlen, "%s", why.msg);
		rc = etcd_rc(rc);
		goto fail;
	}
	tri_members_on_resync(m, &kvs);
	wcb.event = tri_members_on_event;
	wcb.resync = tri_members_on_resync;
	wcb.arg = m;
	rc = tri_etcd_watch_start(
	    m->etcd, m->prefix, kvs.rev + 1, &wcb, &m->watch, &why);
	tri_etcd_kvs_free(&kvs);
	if (rc != TR_OK) {
		seterr(err, errlen, "%s", why.msg);
		goto fail;
	}
	if ((rc = tri_members_notifier_start(m)) != TR_OK) {
		seterr(err, errlen, "no thread for the notifier");
		goto fail;
	}
	if (pthread_create(&m->keeper, NULL, keeper, m) != 0) {
		rc = TR_ERESOURCE;
		seterr(err, errlen, "no thread for the lease keeper");
		goto fail;
	}
	m->keeper_started = true;
	*out = m;
	return TR_OK;
fail:
	tri_members_notifier_stop(m);
	tri_etcd_watch_stop(m->watch);
	if (m->lease != 0) {
		tri_etcd_lease_revoke(m->etcd, m->lease, NULL);
	}
	tri_etcd_close(m->etcd);
	tri_members_view_free(m);
	fini_sync(m);
	tri_free(m);
	return rc;
}

void
tri_members_stop(tri_members *m)
{
	if (m == NULL) {
		return;
	}
	pthread_mutex_lock(&m->lock);
	m->stopping = true;
	pthread_cond_broadcast(&m->keeper_cond);
	pthread_cond_broadcast(&m->view_cond);
	pthread_mutex_unlock(&m->lock);
	if (m->keeper_started) {
		pthread_join(m->keeper, NULL);
	}
	/* The keeper is gone: the leases are this thread's now. */
	if (m->lease != 0) {
		tri_etcd_lease_revoke(m->etcd, m->lease, NULL);
	}
	if (m->old_lease != 0) {
		tri_etcd_lease_revoke(m->etcd, m->old_lease, NULL);
	}
	tri_etcd_watch_stop(m->watch);
	tri_members_notifier_stop(m);
	tri_etcd_close(m->etcd);
	tri_members_view_free(m);
	fini_sync(m);
	tri_free(m);
}

/* ------------------------------------------------------------------ */
/* Global names                                                        */

/* Waits (at most a request's timeout) until the view has applied
 * revision rev, so that this node reads its own write. */
static void
wait_view(tri_members *m, int64_t rev)
{
	uint64_t deadline = tri_now_ms() + m->timeout_ms;

	pthread_mutex_lock(&m->lock);
	while (m->view_rev < rev && !m->stopping && tri_now_ms() < deadline) {
		wait_until(m, &m->view_cond, deadline);
	}
	pthread_mutex_unlock(&m->lock);
}

/* The lease was found gone by a call: the keeper checks at once. */
static void
lease_gone(tri_members *m, int64_t lease)
{
	pthread_mutex_lock(&m->lock);
	if (m->lease == lease) {
		m->lost = true;
		pthread_cond_signal(&m->keeper_cond);
	}
	pthread_mutex_unlock(&m->lock);
}

int
tri_members_register(tri_members *m, const char *name, tr_ref ref)
{
	char key[TRI_MEMBERS_KEY_MAX], value[128];
	tri_etcd_put_op op;
	tri_etcd_kvs found;
	int64_t lease, held = 0, rev = 0;
	bool created = false, mine;
	int rc;

	if (m == NULL || !tri_members_name_ok(name) || tr_ref_is_nil(ref)) {
		return TR_EINVAL;
	}
	key_of(m, key, "names/", name);
	op = (tri_etcd_put_op){
	    key, value, tri_members_ref_value(ref, value, sizeof(value))};
	pthread_mutex_lock(&m->lock);
	lease = m->lease;
	mine = lease != 0 && tri_members_name_find(m, name, NULL, &held) &&
	    held == lease;
	pthread_mutex_unlock(&m->lock);
	if (lease == 0) {
		return TR_ETRANSPORT; /* fenced: no lease to hold it by */
	}
	if (mine) {
		return TR_EEXIST; /* this node holds it already */
	}
	rc = tri_etcd_create(
	    m->etcd, &op, 1, lease, &created, &found, &rev, NULL);
	if (rc == TR_ENOENT) {
		lease_gone(m, lease);
		return TR_ETRANSPORT;
	}
	if (rc != TR_OK) {
		return etcd_rc(rc);
	}
	if (!created && found.n == 1 && found.kv[0].lease == lease &&
	    found.kv[0].value_len == op.value_len &&
	    memcmp(found.kv[0].value, value, op.value_len) == 0) {
		/* Written by this very call, on an endpoint whose reply
		 * was lost, or an earlier call that looked failed. */
		created = true;
		rev = found.kv[0].mod_rev;
	}
	tri_etcd_kvs_free(&found);
	if (!created) {
		return TR_EEXIST;
	}
	wait_view(m, rev);
	return TR_OK;
}

int
tri_members_unregister(tri_members *m, const char *name)
{
	char key[TRI_MEMBERS_KEY_MAX];
	int64_t lease, rev = 0;
	bool deleted = false;
	int rc;

	if (m == NULL || !tri_members_name_ok(name)) {
		return TR_EINVAL;
	}
	key_of(m, key, "names/", name);
	pthread_mutex_lock(&m->lock);
	lease = m->lease;
	pthread_mutex_unlock(&m->lock);
	if (lease == 0) {
		return TR_ENOENT; /* fenced: it holds no name */
	}
	rc =
	    tri_etcd_delete_if_lease(m->etcd, key, lease, &deleted, &rev, NULL);
	if (rc != TR_OK) {
		return etcd_rc(rc);
	}
	if (!deleted) {
		return TR_ENOENT;
	}
	wait_view(m, rev);
	return TR_OK;
}

bool
tri_members_fenced(tri_members *m, char *why, size_t len)
{
	bool fenced;

	if (m == NULL) {
		if (why != NULL && len > 0) {
			why[0] = '\0';
		}
		return false;
	}
	pthread_mutex_lock(&m->lock);
	fenced = m->lease == 0;
	if (why != NULL && len > 0) {
		snprintf(why, len, "%s", fenced ? m->why : "");
	}
	pthread_mutex_unlock(&m->lock);
	return fenced;
}

/* ------------------------------------------------------------------ */
/* Test hooks                                                          */

void
tri_members_test_hold_lease(tri_members *m, bool hold)
{
	pthread_mutex_lock(&m->lock);
	m->hold_lease = hold;
	pthread_cond_broadcast(&m->keeper_cond);
	pthread_mutex_unlock(&m->lock);
}

void
tri_members_test_hold_watch(tri_members *m, bool hold)
{
	tri_etcd_watch_hold(m->watch, hold);
}
