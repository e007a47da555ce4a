/*
 * test_etcd.c -- membership in etcd: the client of etcd's gateway
 * (transport/etcd.h) and the members built on it (actors/members.h),
 * against a real etcd server started for each case (etcd_server.h), and
 * the client against a fake server that answers what etcd never would.
 *
 * Cases wait for what they expect -- a callback recorded, a name seen
 * by another member, a server that answers -- each with a deadline,
 * never for a fixed time.  Two member objects in this process stand for
 * two nodes.  Leases are 1 s where a case waits one out (etcd's floor
 * with the fast elections etcd_server.c asks for).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "etcd.h"
#include "etcd_server.h"
#include "members.h"
#include "troupe.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static uint64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void
pause_ms(long ms)
{
	nanosleep(&(struct timespec){ms / 1000, (ms % 1000) * 1000000L}, NULL);
}

/*
 * What callbacks said, one line each, in order, with the time of each.
 * Tests wait on it for a line to appear.
 */
#define REC_MAX 512

typedef struct rec {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	char line[REC_MAX][200];
	uint64_t at[REC_MAX];
	int n;
	int ups, downs, resyncs;
	char resync[400]; /* keys of the last resync, space-separated */
	pthread_t thread; /* the thread of the last callback */
} rec;

static void
rec_init(rec *r)
{
	pthread_condattr_t ca;

	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cond, &ca);
	pthread_condattr_destroy(&ca);
}

static void
rec_fini(rec *r)
{
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
}

static void rec_add(rec *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
rec_add(rec *r, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&r->lock);
	if (r->n < REC_MAX) {
		va_start(ap, fmt);
		vsnprintf(r->line[r->n], sizeof(r->line[0]), fmt, ap);
		va_end(ap);
		r->at[r->n] = now_ms();
		r->n++;
	}
	r->thread = pthread_self();
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

static void
timed_wait(rec *r, uint64_t deadline)
{
	struct timespec ts = {
	    (time_t)(deadline / 1000), (long)(deadline % 1000) * 1000000L};
	pthread_cond_timedwait(&r->cond, &r->lock, &ts);
}

/* Index of the first line from index from on that equals s, waiting
 * up to timeout_ms for it; -1 if it did not come. */
static int
rec_wait(rec *r, int from, const char *s, int timeout_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	int found = -1;

	pthread_mutex_lock(&r->lock);
	while (found < 0) {
		for (int i = from; i < r->n && found < 0; i++) {
			if (strcmp(r->line[i], s) == 0) {
				found = i;
			}
		}
		if (found >= 0 || now_ms() >= deadline) {
			break;
		}
		timed_wait(r, deadline);
	}
	pthread_mutex_unlock(&r->lock);
	return found;
}

static int
rec_count(rec *r, const char *s)
{
	int c = 0;

	pthread_mutex_lock(&r->lock);
	for (int i = 0; i < r->n; i++) {
		c += strcmp(r->line[i], s) == 0;
	}
	pthread_mutex_unlock(&r->lock);
	return c;
}

static int
rec_n(rec *r)
{
	int n;

	pthread_mutex_lock(&r->lock);
	n = r->n;
	pthread_mutex_unlock(&r->lock);
	return n;
}

static void
rec_dump(rec *r, const char *who)
{
	pthread_mutex_lock(&r->lock);
	for (int i = 0; i < r->n; i++) {
		fprintf(stderr, "  %s[%d] %s\n", who, i, r->line[i]);
	}
	pthread_mutex_unlock(&r->lock);
}

/* Asserts that line s comes (from index from on); returns its index.
 * On failure, shows what came instead. */
static int
expect_line(rec *r, const char *who, int from, const char *s, int ms)
{
	int at = rec_wait(r, from, s, ms);

	if (at < 0) {
		rec_dump(r, who);
		fail_msg("%s: '%s' did not come within %d ms", who, s, ms);
	}
	return at;
}

#define EXPECT_LINE(r, from, s, ms) expect_line((r), #r, (from), (s), (ms))

/* --- The watch's callbacks ----------------------------------------- */

static void
w_event(void *arg, tri_etcd_ev type, const tri_etcd_kv *kv)
{
	if (type == TRI_ETCD_PUT) {
		rec_add(arg, "PUT %s=%s", kv->key, kv->value);
	} else {
		rec_add(arg, "DEL %s", kv->key);
	}
}

static void
w_resync(void *arg, const tri_etcd_kvs *kvs)
{
	rec *r = arg;
	size_t n = 0;

	pthread_mutex_lock(&r->lock);
	r->resyncs++;
	r->resync[0] = '\0';
	for (size_t i = 0; i < kvs->n; i++) {
		n += (size_t)snprintf(r->resync + n,
		    n < sizeof(r->resync) ? sizeof(r->resync) - n : 0, "%s%s",
		    i ? " " : "", kvs->kv[i].key);
		if (n >= sizeof(r->resync)) {
			break;
		}
	}
	pthread_mutex_unlock(&r->lock);
	rec_add(r, "RESYNC");
}

static void
w_link(void *arg, bool up)
{
	rec *r = arg;

	pthread_mutex_lock(&r->lock);
	if (up) {
		r->ups++;
	} else {
		r->downs++;
	}
	pthread_mutex_unlock(&r->lock);
	rec_add(r, up ? "UP" : "DOWN");
}

static tri_etcd_watch_cb
watch_cb(rec *r)
{
	return (tri_etcd_watch_cb){w_event, w_resync, w_link, r};
}

/* --- The members' callbacks ---------------------------------------- */

static void
m_join(void *arg, const char *name, uint32_t id, const char *url)
{
	rec_add(arg, "join %s %u %s", name, (unsigned)id, url);
}

static void
m_leave(void *arg, const char *name, uint32_t id)
{
	rec_add(arg, "leave %s %u", name, (unsigned)id);
}

static void
m_fenced(void *arg)
{
	rec_add(arg, "fenced");
}

static void
m_unfenced(void *arg)
{
	rec_add(arg, "unfenced");
}

static tri_members_cb
members_cb(rec *r)
{
	return (tri_members_cb){m_join, m_leave, m_fenced, m_unfenced, r};
}

/* ------------------------------------------------------------------ */
/* A fake server: answers each request with a canned reply             */
/* ------------------------------------------------------------------ */

typedef struct fake {
	int fd, port;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	const char *raw;    /* sent as it is, then closed */
	const char *status; /* or: "200 OK", with body as JSON */
	const char *body;
	size_t big; /* or: a 200 reply of that many bytes */
	/* none of them: the request is read and nothing said */
	bool stop;
	int conns;
	int held[16]; /* silent connections, closed at the end */
	int nheld;
} fake;

static void
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0) {
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

/* Reads a request's header and body (Content-Length). */
static void
read_request(int fd)
{
	char buf[8192];
	size_t n = 0;
	long body = -1;

	while (n < sizeof(buf) - 1) {
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, 2000) <= 0) {
			return;
		}
		ssize_t r = recv(fd, buf + n, sizeof(buf) - 1 - n, 0);
		if (r <= 0) {
			return;
		}
		n += (size_t)r;
		buf[n] = '\0';
		char *end = strstr(buf, "\r\n\r\n");
		if (end == NULL) {
			continue;
		}
		if (body < 0) {
			char *cl = strcasestr(buf, "Content-Length:");
			body = cl ? strtol(cl + 15, NULL, 10) : 0;
		}
		if ((long)(n - (size_t)(end + 4 - buf)) >= body) {
			return;
		}
	}
}

static void *
fake_run(void *arg)
{
	fake *f = arg;

	for (;;) {
		struct pollfd p = {f->fd, POLLIN, 0};
		pthread_mutex_lock(&f->lock);
		bool stop = f->stop;
		pthread_mutex_unlock(&f->lock);
		if (stop) {
			break;
		}
		if (poll(&p, 1, 20) <= 0) {
			continue;
		}
		int c = accept(f->fd, NULL, NULL);
		if (c < 0) {
			continue;
		}
		read_request(c);
		pthread_mutex_lock(&f->lock);
		const char *raw = f->raw, *status = f->status, *body = f->body;
		size_t big = f->big;
		f->conns++;
		pthread_cond_broadcast(&f->cond);
		pthread_mutex_unlock(&f->lock);
		if (big > 0) {
			char head[128], chunk[65536];
			snprintf(head, sizeof(head),
			    "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
			    "Connection: close\r\n\r\n",
			    big);
			write_all(c, head, strlen(head));
			memset(chunk, ' ', sizeof(chunk));
			for (size_t left = big; left > 0;) {
				size_t k =
				    left < sizeof(chunk) ? left : sizeof(chunk);
				write_all(c, chunk, k);
				left -= k;
			}
		} else if (raw != NULL) {
			write_all(c, raw, strlen(raw));
		} else if (status != NULL) {
			char head[256];
			snprintf(head, sizeof(head),
			    "HTTP/1.1 %s\r\nConnection: close\r\n"
			    "Content-Type: application/json\r\n"
			    "Content-Length: %zu\r\n\r\n",
			    status, strlen(body));
			write_all(c, head, strlen(head));
			write_all(c, body, strlen(body));
		} else if (f->nheld < 16) {
			f->held[f->nheld++] = c;
			continue;
		}
		close(c);
	}
	return NULL;
}

static void
fake_start(fake *f)
{
	struct sockaddr_in a = {0};
	socklen_t len = sizeof(a);

	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	f->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(f->fd >= 0);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(f->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(f->fd, 16), 0);
	assert_int_equal(getsockname(f->fd, (struct sockaddr *)&a, &len), 0);
	f->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&f->thread, NULL, fake_run, f), 0);
}

static void
fake_set(
    fake *f, const char *raw, const char *status, const char *body, size_t big)
{
	pthread_mutex_lock(&f->lock);
	f->raw = raw;
	f->status = status;
	f->body = body;
	f->big = big;
	pthread_mutex_unlock(&f->lock);
}

/* A JSON reply. */
static void
fake_json(fake *f, const char *status, const char *body)
{
	fake_set(f, NULL, status, body, 0);
}

/* Waits until the fake has had n connections in all. */
static bool
fake_wait_conns(fake *f, int n, int timeout_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	bool ok;

	pthread_mutex_lock(&f->lock);
	while (f->conns < n && now_ms() < deadline) {
		pthread_mutex_unlock(&f->lock);
		pause_ms(10);
		pthread_mutex_lock(&f->lock);
	}
	ok = f->conns >= n;
	pthread_mutex_unlock(&f->lock);
	return ok;
}

static void
fake_stop(fake *f)
{
	pthread_mutex_lock(&f->lock);
	f->stop = true;
	pthread_mutex_unlock(&f->lock);
	pthread_join(f->thread, NULL);
	for (int i = 0; i < f->nheld; i++) {
		close(f->held[i]);
	}
	close(f->fd);
	pthread_cond_destroy(&f->cond);
	pthread_mutex_destroy(&f->lock);
}

/* --- Fixtures ------------------------------------------------------ */

/*
 * A case's state, on the heap: its etcd server (if any), a client of
 * it, its recorders, and the members and watches it made -- which the
 * teardown stops even when the case failed halfway, so that no thread
 * of a failed case goes on into the next one.
 */
typedef struct fx {
	etcd_server srv;
	tri_etcd *e;
	const char *eps[2];
	rec rec[2];
	tri_members *m[8];
	tri_etcd_watch *w[4];
	fake fk;
	bool fk_started;
} fx;

static int
bare_setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));

	if (f == NULL) {
		return -1;
	}
	rec_init(&f->rec[0]);
	rec_init(&f->rec[1]);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fx *f = *state;

	if (f == NULL) {
		return 0;
	}
	for (size_t i = 0; i < sizeof(f->m) / sizeof(f->m[0]); i++) {
		tri_members_stop(f->m[i]);
	}
	for (size_t i = 0; i < sizeof(f->w) / sizeof(f->w[0]); i++) {
		tri_etcd_watch_stop(f->w[i]);
	}
	if (f->fk_started) {
		fake_stop(&f->fk);
	}
	tri_etcd_close(f->e);
	etcd_destroy(&f->srv);
	rec_fini(&f->rec[0]);
	rec_fini(&f->rec[1]);
	free(f);
	return 0;
}

static int
srv_setup(void **state)
{
	tri_etcd_opts o = {0};
	fx *f;

	if (bare_setup(state) != 0) {
		return -1;
	}
	f = *state;
	f->eps[0] = f->srv.url;
	o.endpoints = f->eps;
	o.timeout_ms = 1000;
	if (etcd_start(&f->srv) != 0 ||
	    tri_etcd_open(&o, &f->e, NULL) != TR_OK) {
		fprintf(stderr, "test_etcd: no etcd server for this case\n");
		teardown(state); /* cmocka runs no teardown after this */
		*state = NULL;
		return -1;
	}
	return 0;
}

/* The case owns m / w until it stops them with these. */
static tri_members *
keep_member(fx *f, tri_members *m)
{
	for (size_t i = 0; i < sizeof(f->m) / sizeof(f->m[0]); i++) {
		if (f->m[i] == NULL) {
			f->m[i] = m;
			return m;
		}
	}
	fail_msg("more members than the fixture holds");
	return m;
}

static void
stop_member(fx *f, tri_members *m)
{
	for (size_t i = 0; i < sizeof(f->m) / sizeof(f->m[0]); i++) {
		if (f->m[i] == m) {
			f->m[i] = NULL;
		}
	}
	tri_members_stop(m);
}

static tri_etcd_watch *
watch(fx *f, tri_etcd *e, const char *prefix, int64_t from, rec *r)
{
	tri_etcd_watch_cb cb = watch_cb(r);
	tri_etcd_watch *w = NULL;

	assert_int_equal(
	    tri_etcd_watch_start(e, prefix, from, &cb, &w, NULL), TR_OK);
	for (size_t i = 0; i < sizeof(f->w) / sizeof(f->w[0]); i++) {
		if (f->w[i] == NULL) {
			f->w[i] = w;
			return w;
		}
	}
	fail_msg("more watches than the fixture holds");
	return w;
}

static void
stop_watch(fx *f, tri_etcd_watch *w)
{
	for (size_t i = 0; i < sizeof(f->w) / sizeof(f->w[0]); i++) {
		if (f->w[i] == w) {
			f->w[i] = NULL;
		}
	}
	tri_etcd_watch_stop(w);
}

#define SRV_TEST(fn) cmocka_unit_test_setup_teardown(fn, srv_setup, teardown)
#define BARE_TEST(fn) cmocka_unit_test_setup_teardown(fn, bare_setup, teardown)

/* An endpoint where nothing listens. */
static void
dead_endpoint(char *buf, size_t len)
{
	snprintf(buf, len, "http://127.0.0.1:%d", etcd_free_port());
}

static tr_cluster_opts
copts(const char *node, const char *const *eps, uint32_t ttl_ms)
{
	return (tr_cluster_opts){.cluster = "c1",
	    .node = node,
	    .listen = "tcp://127.0.0.1:1",
	    .insecure = true,
	    .membership = "etcd",
	    .etcd = eps,
	    .etcd_ttl_ms = ttl_ms};
}

/* Joins, and asserts that it worked. */
static tri_members *
join(fx *f, const char *node, uint32_t id, uint32_t ttl_ms)
{
	tr_cluster_opts o = copts(node, f->eps, ttl_ms);
	char url[64], err[256] = "";
	tri_members *m = NULL;

	snprintf(url, sizeof(url), "tcp://10.0.0.%u:4400", (unsigned)id);
	int rc = tri_members_etcd_join(&o, id, url, &m, err, sizeof(err));
	if (rc != TR_OK) {
		fail_msg("join %s/%u: %s (%s)", node, (unsigned)id,
		    tr_strerror(rc), err);
	}
	return keep_member(f, m);
}

/* Waits until whereis on m answers want (TR_OK or TR_ENOENT). */
static int
whereis_becomes(
    tri_members *m, const char *name, int want, tr_ref *ref, int timeout_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	int rc;

	/* The other member's view follows the watch: asked again until
	 * it says what is expected, or the deadline. */
	while ((rc = tri_members_whereis(m, name, ref)) != want &&
	    now_ms() < deadline) {
		pause_ms(10);
	}
	return rc;
}

/* The number of keys under prefix. */
static size_t
count_keys(fx *f, const char *prefix)
{
	tri_etcd_kvs kvs;
	size_t n;

	assert_int_equal(tri_etcd_range(f->e, prefix, true, &kvs, NULL), TR_OK);
	n = kvs.n;
	tri_etcd_kvs_free(&kvs);
	return n;
}

#define HTTP200 "HTTP/1.1 200 OK\r\nConnection: close\r\n"

/* ------------------------------------------------------------------ */
/* The client: bad arguments, no server, a server that is not etcd     */
/* ------------------------------------------------------------------ */

static void
test_client_bad_args(void **state)
{
	const char *none[] = {NULL};
	const char *ftp[] = {"ftp://127.0.0.1:2379", NULL};
	const char *bare[] = {"http://", NULL};
	const char *ok[] = {"http://127.0.0.1:1/", NULL};
	tri_etcd_opts o = {0};
	tri_etcd_err why = {""};
	tri_etcd *e = (tri_etcd *)1;
	tri_etcd_kvs kvs;
	tri_etcd_put_op op = {"/k", "v", 1};
	tri_etcd_watch_cb cb = {0};
	tri_etcd_watch *w;
	int64_t v;
	bool b;

	(void)state;
	assert_int_equal(tri_etcd_open(NULL, &e, &why), TR_EINVAL);
	assert_null(e);
	assert_int_equal(tri_etcd_open(&o, &e, &why), TR_EINVAL);
	o.endpoints = none;
	assert_int_equal(tri_etcd_open(&o, &e, &why), TR_EINVAL);
	o.endpoints = ftp;
	assert_int_equal(tri_etcd_open(&o, &e, &why), TR_EINVAL);
	assert_non_null(strstr(why.msg, "http://"));
	o.endpoints = bare;
	assert_int_equal(tri_etcd_open(&o, &e, &why), TR_EINVAL);
	o.endpoints = ok;
	assert_int_equal(tri_etcd_open(&o, NULL, &why), TR_EINVAL);
	assert_int_equal(tri_etcd_open(&o, &e, &why), TR_OK);

	assert_int_equal(
	    tri_etcd_lease_grant(NULL, 5, &v, NULL, NULL), TR_EINVAL);
	assert_int_equal(tri_etcd_lease_grant(e, 0, &v, NULL, NULL), TR_EINVAL);
	assert_int_equal(
	    tri_etcd_lease_grant(e, 5, NULL, NULL, NULL), TR_EINVAL);
	assert_int_equal(tri_etcd_lease_keepalive(e, 0, &v, NULL), TR_EINVAL);
	assert_int_equal(tri_etcd_lease_keepalive(e, 1, NULL, NULL), TR_EINVAL);
	assert_int_equal(tri_etcd_lease_revoke(e, 0, NULL), TR_EINVAL);
	assert_int_equal(
	    tri_etcd_put(e, NULL, "v", 1, 0, NULL, NULL), TR_EINVAL);
	assert_int_equal(tri_etcd_put(e, "", "v", 1, 0, NULL, NULL), TR_EINVAL);
	assert_int_equal(
	    tri_etcd_put(e, "/k", NULL, 1, 0, NULL, NULL), TR_EINVAL);
	assert_int_equal(tri_etcd_range(e, "/k", false, NULL, NULL), TR_EINVAL);
	assert_int_equal(tri_etcd_range(e, "", false, &kvs, NULL), TR_EINVAL);
	assert_int_equal(
	    tri_etcd_range(NULL, "/k", false, &kvs, NULL), TR_EINVAL);
	assert_int_equal(tri_etcd_delete(e, "", true, NULL, NULL), TR_EINVAL);
	assert_int_equal(
	    tri_etcd_delete(e, NULL, false, NULL, NULL), TR_EINVAL);
	assert_int_equal(
	    tri_etcd_create(e, &op, 0, 0, &b, NULL, NULL, NULL), TR_EINVAL);
	assert_int_equal(
	    tri_etcd_create(e, &op, 9, 0, &b, NULL, NULL, NULL), TR_EINVAL);
	assert_int_equal(
	    tri_etcd_create(e, &op, 1, 0, NULL, NULL, NULL, NULL), TR_EINVAL);
	assert_int_equal(
	    tri_etcd_create(e, NULL, 1, 0, &b, NULL, NULL, NULL), TR_EINVAL);
	op.key = "";
	assert_int_equal(
	    tri_etcd_create(e, &op, 1, 0, &b, NULL, NULL, NULL), TR_EINVAL);
	assert_int_equal(
	    tri_etcd_delete_if_lease(e, "/k", 0, &b, NULL, NULL), TR_EINVAL);
	assert_int_equal(
	    tri_etcd_delete_if_lease(e, "/k", 1, NULL, NULL, NULL), TR_EINVAL);
	assert_int_equal(tri_etcd_compact(e, 0, NULL), TR_EINVAL);
	assert_int_equal(tri_etcd_watch_start(e, "/k", 0, &cb, &w, NULL),
	    TR_EINVAL); /* no event callback */
	cb.event = w_event;
	assert_int_equal(
	    tri_etcd_watch_start(e, "/k", -1, &cb, &w, NULL), TR_EINVAL);
	assert_int_equal(
	    tri_etcd_watch_start(e, NULL, 0, &cb, &w, NULL), TR_EINVAL);
	assert_int_equal(
	    tri_etcd_watch_start(NULL, "/k", 0, &cb, &w, NULL), TR_EINVAL);
	assert_int_equal(
	    tri_etcd_watch_start(e, "/k", 0, NULL, &w, NULL), TR_EINVAL);
	assert_int_equal(
	    tri_etcd_watch_start(e, "/k", 0, &cb, NULL, NULL), TR_EINVAL);
	tri_etcd_watch_stop(NULL);
	tri_etcd_close(e);
	tri_etcd_close(NULL);
	tri_etcd_kvs_free(NULL);
}

/* No server at all: every call fails at once, and says where. */
static void
test_client_no_server(void **state)
{
	fx *f = *state;
	char ep[64];
	const char *eps[] = {ep, NULL};
	tri_etcd_opts o = {.endpoints = eps, .timeout_ms = 2000};
	tri_etcd_err why = {""};
	tri_etcd *e;
	tri_etcd_kvs kvs;
	tri_etcd_put_op op = {"/k", "v", 1};
	tri_etcd_watch *w;
	rec *r = &f->rec[0];
	int64_t v;
	bool b;
	uint64_t t0;

	dead_endpoint(ep, sizeof(ep));
	assert_int_equal(tri_etcd_open(&o, &e, &why), TR_OK);
	t0 = now_ms();
	assert_int_equal(
	    tri_etcd_lease_grant(e, 5, &v, NULL, &why), TR_ETRANSPORT);
	assert_non_null(strstr(why.msg, ep));
	assert_int_equal(
	    tri_etcd_lease_keepalive(e, 1, &v, NULL), TR_ETRANSPORT);
	assert_int_equal(tri_etcd_lease_revoke(e, 1, NULL), TR_ETRANSPORT);
	assert_int_equal(
	    tri_etcd_put(e, "/k", "v", 1, 0, NULL, NULL), TR_ETRANSPORT);
	assert_int_equal(
	    tri_etcd_range(e, "/k", true, &kvs, NULL), TR_ETRANSPORT);
	assert_null(kvs.kv);
	assert_int_equal(
	    tri_etcd_delete(e, "/k", false, NULL, NULL), TR_ETRANSPORT);
	assert_int_equal(
	    tri_etcd_create(e, &op, 1, 0, &b, &kvs, NULL, NULL), TR_ETRANSPORT);
	assert_int_equal(tri_etcd_delete_if_lease(e, "/k", 1, &b, NULL, NULL),
	    TR_ETRANSPORT);
	assert_int_equal(tri_etcd_compact(e, 1, NULL), TR_ETRANSPORT);
	/* Refused connections: far below one timeout for all of them. */
	assert_true(now_ms() - t0 < 1000);

	/* A watch starts (etcd may come up later), never comes up, and
	 * stops at once. */
	w = watch(f, e, "/k", 0, r);
	t0 = now_ms();
	stop_watch(f, w);
	assert_true(now_ms() - t0 < 1000);
	assert_int_equal(rec_n(r), 0);
	tri_etcd_close(e);
}

/* A server that answers what etcd never would. */
static void
test_client_hostile_server(void **state)
{
	fx *x = *state;
	fake *f = &x->fk;
	static const struct {
		const char *status, *body;
		int rc;
	} put_cases[] = {
	    {"200 OK", "{\"a\":", TR_EPROTO}, /* cut short */
	    {"200 OK", "[]", TR_EPROTO},      /* not an object */
	    {"200 OK", "{}", TR_EPROTO},      /* no header */
	    {"200 OK", "{\"header\":null}", TR_EPROTO},
	    {"200 OK", "{\"header\":{\"revision\":\"-4\"}}", TR_EPROTO},
	    {"200 OK", "{\"header\":{\"revision\":1e3}}", TR_EPROTO},
	    {"200 OK", "Not etcd!", TR_EPROTO},
	    {"404 Not Found", "Not Found", TR_ETRANSPORT},
	    {"503 Unavailable",
	        "{\"error\":\"no leader\",\"code\":14,\"message\":\"no "
	        "leader\"}",
	        TR_ETRANSPORT},
	    {"404 Not Found", "{\"code\":5,\"message\":\"lease \\u0007\"}",
	        TR_ENOENT},
	    {"400 Bad Request", "{\"code\":3,\"error\":\"x\"}", TR_EINVAL},
	    {"403 Forbidden", "{\"code\":7}", TR_EPERM},
	    {"500 Oops", "{\"code\":\"x\"}", TR_ETRANSPORT},
	};
	char ep[64];
	const char *eps[] = {ep, NULL};
	tri_etcd_opts o = {.endpoints = eps, .timeout_ms = 300};
	tri_etcd_err why = {""};
	tri_etcd *e;
	tri_etcd_kvs kvs;
	int64_t v;
	uint64_t t0;

	fake_start(f);
	x->fk_started = true;
	snprintf(ep, sizeof(ep), "http://127.0.0.1:%d", f->port);
	assert_int_equal(tri_etcd_open(&o, &e, NULL), TR_OK);
	for (size_t i = 0; i < sizeof(put_cases) / sizeof(put_cases[0]); i++) {
		fake_json(f, put_cases[i].status, put_cases[i].body);
		int rc = tri_etcd_put(e, "/k", "v", 1, 0, &v, &why);
		if (rc != put_cases[i].rc) {
			fail_msg("reply #%zu: %s, not %s (%s)", i,
			    tr_strerror(rc), tr_strerror(put_cases[i].rc),
			    why.msg);
		}
	}
	/* Not HTTP at all. */
	fake_set(f, "garbage\r\n\r\n", NULL, NULL, 0);
	assert_int_equal(
	    tri_etcd_put(e, "/k", "v", 1, 0, NULL, NULL), TR_ETRANSPORT);
	/* The error's text is cleaned of control characters. */
	fake_json(f, put_cases[9].status, put_cases[9].body);
	assert_int_equal(tri_etcd_lease_revoke(e, 7, &why), TR_ENOENT);
	assert_non_null(strstr(why.msg, "lease ?"));
	for (const char *p = why.msg; *p; p++) {
		assert_true(*p >= 0x20 && *p < 0x7f);
	}

	/* A grant without an ID; a keepalive without a TTL (the lease is
	 * gone), with an error, or without a result. */
	fake_json(f, "200 OK", "{\"header\":{\"revision\":\"1\"},\"TTL\":5}");
	assert_int_equal(tri_etcd_lease_grant(e, 5, &v, NULL, NULL), TR_EPROTO);
	fake_json(f, "200 OK", "{\"result\":{\"ID\":\"12\"}}");
	assert_int_equal(tri_etcd_lease_keepalive(e, 12, &v, NULL), TR_ENOENT);
	fake_json(f, "200 OK", "{\"error\":{\"grpc_code\":14}}");
	assert_int_equal(
	    tri_etcd_lease_keepalive(e, 12, &v, NULL), TR_ETRANSPORT);
	fake_json(f, "200 OK", "{}");
	assert_int_equal(tri_etcd_lease_keepalive(e, 12, &v, NULL), TR_EPROTO);

	/* A range whose kvs lie: bad base64, no key, not an array. */
	fake_json(f, "200 OK",
	    "{\"header\":{\"revision\":\"3\"},\"kvs\":[{\"key\":\"L2E=x\"}]}");
	assert_int_equal(tri_etcd_range(e, "/a", true, &kvs, NULL), TR_EPROTO);
	assert_null(kvs.kv);
	fake_json(f, "200 OK",
	    "{\"header\":{\"revision\":\"3\"},\"kvs\":[{\"a\":1}]}");
	assert_int_equal(tri_etcd_range(e, "/a", true, &kvs, NULL), TR_EPROTO);
	fake_json(f, "200 OK", "{\"header\":{\"revision\":\"3\"},\"kvs\":{}}");
	assert_int_equal(tri_etcd_range(e, "/a", true, &kvs, NULL), TR_EPROTO);
	/* A txn whose failure branch is not what was asked. */
	bool b;
	tri_etcd_put_op op = {"/k", "v", 1};
	fake_json(f, "200 OK",
	    "{\"header\":{\"revision\":\"3\"},\"succeeded\":\"no\"}");
	assert_int_equal(
	    tri_etcd_create(e, &op, 1, 0, &b, &kvs, NULL, NULL), TR_EPROTO);
	fake_json(f, "200 OK",
	    "{\"header\":{\"revision\":\"3\"},\"responses\":[{\"x\":{}}]}");
	assert_int_equal(
	    tri_etcd_create(e, &op, 1, 0, &b, &kvs, NULL, NULL), TR_EPROTO);
	assert_null(kvs.kv);

	/* A reply over the cap is cut off, not buffered (a client with
	 * time enough to receive 64 MiB on a busy machine). */
	tri_etcd *slow;
	o.timeout_ms = 20000;
	assert_int_equal(tri_etcd_open(&o, &slow, NULL), TR_OK);
	fake_set(f, NULL, NULL, NULL, ((size_t)64 << 20) + 1);
	int rc = tri_etcd_put(slow, "/k", "v", 1, 0, NULL, &why);
	tri_etcd_close(slow);
	assert_int_equal(rc, TR_EPROTO);
	assert_non_null(strstr(why.msg, "over"));

	/* A server that takes the request and says nothing: the call
	 * ends at its timeout. */
	fake_set(f, NULL, NULL, NULL, 0);
	t0 = now_ms();
	assert_int_equal(
	    tri_etcd_put(e, "/k", "v", 1, 0, NULL, &why), TR_ETRANSPORT);
	uint64_t took = now_ms() - t0;
	assert_true(took >= 250 && took < 1500);
	tri_etcd_close(e);
}

/*
 * A watch fed what etcd never sends: garbage before anything; events
 * before the stream is created.  Each such stream ends before it comes
 * up, nothing is reported, and the watch keeps trying.
 */
static void
test_watch_hostile_server(void **state)
{
	fx *x = *state;
	fake *f = &x->fk;
	static const char garbage[] =
	    HTTP200 "Content-Type: application/json\r\n\r\n"
	            "garbage\n"
	            "{\"result\":{\"header\":{\"revision\":\"10\"},"
	            "\"created\":true}}\n";
	static const char early[] =
	    HTTP200 "\r\n"
	            "{\"result\":{\"events\":[{\"kv\":{\"key\":\"L2svZA==\","
	            "\"mod_revision\":\"20\"}}]}}\n"
	            "{\"result\":{\"header\":{\"revision\":\"10\"},"
	            "\"created\":true}}\n";
	static const char not_found[] = "HTTP/1.1 404 Not Found\r\n"
	                                "Connection: close\r\n\r\n"
	                                "{\"result\":{\"header\":{\"revision\":"
	                                "\"10\"},\"created\":true}}\n";
	const char *const streams[] = {garbage, early, not_found};
	char ep[64];
	const char *eps[] = {ep, NULL};
	tri_etcd_opts o = {.endpoints = eps, .timeout_ms = 500};
	tri_etcd *e;
	tri_etcd_watch *w;
	rec *r = &x->rec[0];

	fake_start(f);
	x->fk_started = true;
	snprintf(ep, sizeof(ep), "http://127.0.0.1:%d", f->port);
	assert_int_equal(tri_etcd_open(&o, &e, NULL), TR_OK);
	for (int i = 0; i < 3; i++) {
		fake_set(f, streams[i], NULL, NULL, 0);
		pthread_mutex_lock(&f->lock);
		int before = f->conns;
		pthread_mutex_unlock(&f->lock);
		w = watch(x, e, "/k/", 0, r);
		/* It tried, was refused, and tried again. */
		assert_true(fake_wait_conns(f, before + 2, 5000));
		stop_watch(x, w);
		if (rec_n(r) != 0) {
			rec_dump(r, "r");
			fail_msg("stream #%d reported something", i);
		}
	}
	tri_etcd_close(e);
}

/* The same, with the garbage line left out: created at 10, an event
 * at 5 (before the watch's start: skipped), one at 12 (reported), a
 * bad one at 13 (ends the stream).  The server repeats all of it on
 * each connection; 12 is reported once. */
static void
test_watch_never_twice(void **state)
{
	fx *x = *state;
	fake *f = &x->fk;
	static const char stream[] =
	    HTTP200 "Content-Type: application/json\r\n\r\n"
	            "{\"result\":{\"header\":{\"revision\":\"10\"},"
	            "\"created\":true}}\n"
	            "{\"result\":{\"header\":{\"revision\":\"10\"},"
	            "\"events\":[{\"kv\":{\"key\":\"L2svYQ==\","
	            "\"mod_revision\":\"5\",\"value\":\"MQ==\"}}]}}\n"
	            "{\"result\":{\"header\":{\"revision\":\"12\"},"
	            "\"events\":[{\"kv\":{\"key\":\"L2svYg==\","
	            "\"mod_revision\":\"12\",\"value\":\"Mg==\"}},"
	            "{\"type\":\"DELETE\",\"kv\":{\"key\":\"L2svYQ==\","
	            "\"mod_revision\":\"12\"}}]}}\n"
	            "{\"result\":{\"events\":[{\"type\":\"BOGUS\",\"kv\":"
	            "{\"key\":\"L2svYw==\",\"mod_revision\":\"13\"}}]}}\n";
	char ep[64];
	const char *eps[] = {ep, NULL};
	tri_etcd_opts o = {.endpoints = eps, .timeout_ms = 500};
	tri_etcd *e;
	tri_etcd_watch *w;
	rec *r = &x->rec[0];

	fake_start(f);
	x->fk_started = true;
	snprintf(ep, sizeof(ep), "http://127.0.0.1:%d", f->port);
	fake_set(f, stream, NULL, NULL, 0);
	assert_int_equal(tri_etcd_open(&o, &e, NULL), TR_OK);
	w = watch(x, e, "/k/", 0, r);
	assert_true(fake_wait_conns(f, 3, 5000));
	stop_watch(x, w);
	/* Both events of revision 12 (one txn), once; never 5 or 13. */
	assert_int_equal(rec_count(r, "PUT /k/b=2"), 1);
	assert_int_equal(rec_count(r, "DEL /k/a"), 1);
	assert_int_equal(rec_count(r, "PUT /k/a=1"), 0);
	assert_int_equal(rec_count(r, "DEL /k/c"), 0);
	/* Three connections: two streams at least came up (and went
	 * down: every up has its down by the time stop returns). */
	assert_true(r->ups >= 2 && r->downs == r->ups);
	tri_etcd_close(e);
}

/* ------------------------------------------------------------------ */
/* The client against etcd                                             */
/* ------------------------------------------------------------------ */

static void
test_kv(void **state)
{
	fx *f = *state;
	tri_etcd_kvs kvs;
	int64_t r1, r2, n;

	assert_int_equal(
	    tri_etcd_put(f->e, "/t/a", "1", 1, 0, &r1, NULL), TR_OK);
	assert_true(r1 > 1);
	assert_int_equal(
	    tri_etcd_put(f->e, "/t/b", "a\0b", 3, 0, &r2, NULL), TR_OK);
	assert_true(r2 == r1 + 1);
	assert_int_equal(
	    tri_etcd_put(f->e, "/tz", "", 0, 0, NULL, NULL), TR_OK);
	assert_int_equal(
	    tri_etcd_range(f->e, "/t/a", false, &kvs, NULL), TR_OK);
	assert_int_equal(kvs.n, 1);
	assert_string_equal(kvs.kv[0].key, "/t/a");
	assert_string_equal(kvs.kv[0].value, "1");
	assert_int_equal(kvs.kv[0].mod_rev, r1);
	assert_int_equal(kvs.kv[0].create_rev, r1);
	assert_int_equal(kvs.kv[0].version, 1);
	assert_int_equal(kvs.kv[0].lease, 0);
	assert_true(kvs.rev >= r2);
	tri_etcd_kvs_free(&kvs);
	/* A prefix: in key order, "/tz" outside; bytes kept. */
	assert_int_equal(tri_etcd_range(f->e, "/t/", true, &kvs, NULL), TR_OK);
	assert_int_equal(kvs.n, 2);
	assert_string_equal(kvs.kv[1].key, "/t/b");
	assert_int_equal(kvs.kv[1].value_len, 3);
	assert_memory_equal(kvs.kv[1].value, "a\0b", 3);
	tri_etcd_kvs_free(&kvs);
	/* The empty prefix is every key. */
	assert_int_equal(tri_etcd_range(f->e, "", true, &kvs, NULL), TR_OK);
	assert_int_equal(kvs.n, 3);
	tri_etcd_kvs_free(&kvs);
	assert_int_equal(
	    tri_etcd_range(f->e, "/none", false, &kvs, NULL), TR_OK);
	assert_int_equal(kvs.n, 0);
	assert_null(kvs.kv);
	assert_true(kvs.rev >= r2);
	tri_etcd_kvs_free(&kvs);
	assert_int_equal(tri_etcd_delete(f->e, "/t/a", false, &n, NULL), TR_OK);
	assert_int_equal(n, 1);
	assert_int_equal(tri_etcd_delete(f->e, "/t/a", false, &n, NULL), TR_OK);
	assert_int_equal(n, 0);
	assert_int_equal(tri_etcd_delete(f->e, "/t", true, &n, NULL), TR_OK);
	assert_int_equal(n, 2);
	/* Compaction: again at the same revision is out of range. */
	assert_int_equal(tri_etcd_compact(f->e, r2, NULL), TR_OK);
	assert_int_equal(tri_etcd_compact(f->e, r2, NULL), TR_EINVAL);
	assert_int_equal(tri_etcd_compact(f->e, r2 + 1000, NULL), TR_EINVAL);
}

static void
test_leases(void **state)
{
	fx *f = *state;
	tri_etcd_kvs kvs;
	int64_t id, ttl, granted;

	assert_int_equal(
	    tri_etcd_lease_grant(f->e, 5, &id, &granted, NULL), TR_OK);
	assert_true(id != 0);
	assert_int_equal(granted, 5);
	assert_int_equal(tri_etcd_lease_keepalive(f->e, id, &ttl, NULL), TR_OK);
	assert_int_equal(ttl, 5);
	assert_int_equal(
	    tri_etcd_put(f->e, "/l/a", "x", 1, id, NULL, NULL), TR_OK);
	assert_int_equal(
	    tri_etcd_range(f->e, "/l/a", false, &kvs, NULL), TR_OK);
	assert_int_equal(kvs.n, 1);
	assert_true(kvs.kv[0].lease == id);
	tri_etcd_kvs_free(&kvs);
	/* Revoked: its key goes at once; it is gone for every call. */
	assert_int_equal(tri_etcd_lease_revoke(f->e, id, NULL), TR_OK);
	assert_int_equal(count_keys(f, "/l/"), 0);
	assert_int_equal(tri_etcd_lease_revoke(f->e, id, NULL), TR_ENOENT);
	assert_int_equal(
	    tri_etcd_lease_keepalive(f->e, id, &ttl, NULL), TR_ENOENT);
	assert_int_equal(
	    tri_etcd_put(f->e, "/l/a", "x", 1, id, NULL, NULL), TR_ENOENT);
	assert_int_equal(count_keys(f, "/l/"), 0);
}

static void
test_txns(void **state)
{
	fx *f = *state;
	tri_etcd_put_op two[] = {{"/c/x", "v", 1}, {"/c/y", "w", 1}};
	tri_etcd_put_op other[] = {{"/c/x", "q", 1}, {"/c/z", "q", 1}};
	tri_etcd_kvs found;
	int64_t lease, lease2, rev = 0;
	bool created, deleted;

	assert_int_equal(
	    tri_etcd_lease_grant(f->e, 30, &lease, NULL, NULL), TR_OK);
	assert_int_equal(
	    tri_etcd_lease_grant(f->e, 30, &lease2, NULL, NULL), TR_OK);
	assert_int_equal(
	    tri_etcd_create(f->e, two, 2, lease, &created, &found, &rev, NULL),
	    TR_OK);
	assert_true(created);
	assert_int_equal(found.n, 0);
	assert_true(rev > 0);
	/* Again: refused, and what is there comes back. */
	assert_int_equal(
	    tri_etcd_create(f->e, two, 2, lease2, &created, &found, NULL, NULL),
	    TR_OK);
	assert_false(created);
	assert_int_equal(found.n, 2);
	assert_string_equal(found.kv[0].key, "/c/x");
	assert_string_equal(found.kv[0].value, "v");
	assert_true(found.kv[0].lease == lease);
	assert_int_equal(found.kv[0].create_rev, rev);
	assert_string_equal(found.kv[1].key, "/c/y");
	tri_etcd_kvs_free(&found);
	/* All or none: /c/z is not made because /c/x exists. */
	assert_int_equal(tri_etcd_create(f->e, other, 2, lease2, &created,
	                     &found, NULL, NULL),
	    TR_OK);
	assert_false(created);
	assert_int_equal(found.n, 1);
	assert_string_equal(found.kv[0].key, "/c/x");
	tri_etcd_kvs_free(&found);
	assert_int_equal(count_keys(f, "/c/z"), 0);
	/* found may be NULL. */
	assert_int_equal(
	    tri_etcd_create(f->e, other, 2, lease2, &created, NULL, NULL, NULL),
	    TR_OK);
	assert_false(created);
	/* Deleting under another lease does nothing; under its own, it
	 * deletes. */
	assert_int_equal(tri_etcd_delete_if_lease(
	                     f->e, "/c/x", lease2, &deleted, NULL, NULL),
	    TR_OK);
	assert_false(deleted);
	assert_int_equal(
	    tri_etcd_delete_if_lease(f->e, "/c/x", lease, &deleted, &rev, NULL),
	    TR_OK);
	assert_true(deleted);
	assert_int_equal(count_keys(f, "/c/x"), 0);
	assert_int_equal(
	    tri_etcd_delete_if_lease(f->e, "/c/x", lease, &deleted, NULL, NULL),
	    TR_OK);
	assert_false(deleted);
	/* A create under a lease that is gone. */
	assert_int_equal(tri_etcd_lease_revoke(f->e, lease2, NULL), TR_OK);
	assert_int_equal(
	    tri_etcd_create(f->e, other, 2, lease2, &created, NULL, NULL, NULL),
	    TR_ENOENT);
}

/* Endpoints are tried in turn; the one that answered is tried first
 * next time. */
static void
test_endpoints_in_turn(void **state)
{
	fx *f = *state;
	char dead1[64], dead2[64];
	const char *eps[] = {dead1, f->srv.url, NULL};
	const char *deads[] = {dead1, dead2, NULL};
	tri_etcd_opts o = {.endpoints = eps, .timeout_ms = 1000};
	tri_etcd_err why = {""};
	tri_etcd *e;

	dead_endpoint(dead1, sizeof(dead1));
	dead_endpoint(dead2, sizeof(dead2));
	assert_int_equal(tri_etcd_open(&o, &e, NULL), TR_OK);
	assert_int_equal(tri_etcd_put(e, "/e/a", "1", 1, 0, NULL, NULL), TR_OK);
	assert_int_equal(tri_etcd_put(e, "/e/b", "1", 1, 0, NULL, NULL), TR_OK);
	tri_etcd_close(e);
	o.endpoints = deads;
	assert_int_equal(tri_etcd_open(&o, &e, NULL), TR_OK);
	assert_int_equal(
	    tri_etcd_put(e, "/e/a", "1", 1, 0, NULL, &why), TR_ETRANSPORT);
	/* The last one tried is named. */
	assert_non_null(strstr(why.msg, dead2));
	tri_etcd_close(e);
	assert_int_equal(count_keys(f, "/e/"), 2);
}

/* A server that accepts and answers nothing (SIGSTOP): every call ends
 * at its timeout, TR_ETRANSPORT; then it answers again. */
static void
test_server_hung(void **state)
{
	fx *f = *state;
	tri_etcd_opts o = {.endpoints = f->eps, .timeout_ms = 300};
	tri_etcd_put_op op = {"/h/x", "1", 1};
	tri_etcd *e;
	tri_etcd_kvs kvs;
	int64_t v;
	bool b;
	uint64_t t0;

	assert_int_equal(tri_etcd_open(&o, &e, NULL), TR_OK);
	etcd_pause(&f->srv);
	t0 = now_ms();
	assert_int_equal(
	    tri_etcd_put(e, "/h/x", "1", 1, 0, NULL, NULL), TR_ETRANSPORT);
	assert_int_equal(
	    tri_etcd_range(e, "/h/", true, &kvs, NULL), TR_ETRANSPORT);
	assert_int_equal(
	    tri_etcd_lease_grant(e, 5, &v, NULL, NULL), TR_ETRANSPORT);
	assert_int_equal(
	    tri_etcd_lease_keepalive(e, 1, &v, NULL), TR_ETRANSPORT);
	assert_int_equal(
	    tri_etcd_create(e, &op, 1, 0, &b, NULL, NULL, NULL), TR_ETRANSPORT);
	uint64_t took = now_ms() - t0;
	/* Five calls, 300 ms each, with slack for a busy machine. */
	assert_true(took >= 5 * 250 && took < 5 * 300 + 1500);
	etcd_resume(&f->srv);
	assert_int_equal(tri_etcd_put(e, "/h/x", "1", 1, 0, NULL, NULL), TR_OK);
	tri_etcd_close(e);
}

/* ------------------------------------------------------------------ */
/* Watches against etcd                                                */
/* ------------------------------------------------------------------ */

static void
test_watch_events(void **state)
{
	fx *f = *state;
	tri_etcd_put_op two[] = {{"/w/c", "3", 1}, {"/w/d", "4", 1}};
	tri_etcd_watch *w, *w0;
	tri_etcd_kvs kvs;
	int64_t first;
	bool created;
	rec *r = &f->rec[0], *r0 = &f->rec[1];

	assert_int_equal(
	    tri_etcd_put(f->e, "/w/old", "0", 1, 0, &first, NULL), TR_OK);
	assert_int_equal(tri_etcd_range(f->e, "/w/", true, &kvs, NULL), TR_OK);
	w = watch(f, f->e, "/w/", kvs.rev + 1, r);
	tri_etcd_kvs_free(&kvs);
	assert_int_equal(
	    tri_etcd_put(f->e, "/w/a", "1", 1, 0, NULL, NULL), TR_OK);
	assert_int_equal(
	    tri_etcd_put(f->e, "/x/other", "1", 1, 0, NULL, NULL), TR_OK);
	assert_int_equal(
	    tri_etcd_put(f->e, "/w/b", "2", 1, 0, NULL, NULL), TR_OK);
	assert_int_equal(
	    tri_etcd_delete(f->e, "/w/a", false, NULL, NULL), TR_OK);
	assert_int_equal(
	    tri_etcd_create(f->e, two, 2, 0, &created, NULL, NULL, NULL),
	    TR_OK);
	assert_true(created);
	int at = EXPECT_LINE(r, 0, "PUT /w/d=4", 5000);
	stop_watch(f, w);
	/* In order, each once, nothing outside the prefix, nothing from
	 * before the start. */
	assert_int_equal(at, 5);
	assert_string_equal(r->line[0], "UP");
	assert_string_equal(r->line[1], "PUT /w/a=1");
	assert_string_equal(r->line[2], "PUT /w/b=2");
	assert_string_equal(r->line[3], "DEL /w/a");
	assert_string_equal(r->line[4], "PUT /w/c=3");
	assert_int_equal(rec_n(r), 7); /* and "DOWN" at the stop */
	assert_string_equal(r->line[6], "DOWN");

	/* From an old revision: the history, from there. */
	w0 = watch(f, f->e, "/w/", first, r0);
	EXPECT_LINE(r0, 0, "PUT /w/d=4", 5000);
	stop_watch(f, w0);
	assert_string_equal(r0->line[1], "PUT /w/old=0");
	assert_string_equal(r0->line[2], "PUT /w/a=1");
}

/*
 * etcd killed and started again under a watch: the watch notices, waits
 * for it, and resumes where it was.  Then the same with the watch kept
 * off (the hook) until writes were made while it was away: it gets
 * each of them, once, in order.
 */
static void
test_watch_resumes_after_restart(void **state)
{
	fx *f = *state;
	tri_etcd_watch *w;
	rec *r = &f->rec[0];

	w = watch(f, f->e, "/r/", 0, r);
	EXPECT_LINE(r, 0, "UP", 5000);
	assert_int_equal(
	    tri_etcd_put(f->e, "/r/1", "a", 1, 0, NULL, NULL), TR_OK);
	EXPECT_LINE(r, 0, "PUT /r/1=a", 5000);

	etcd_kill(&f->srv);
	EXPECT_LINE(r, 0, "DOWN", 5000);
	assert_int_equal(etcd_restart(&f->srv), 0);
	assert_int_equal(
	    tri_etcd_put(f->e, "/r/2", "b", 1, 0, NULL, NULL), TR_OK);
	EXPECT_LINE(r, 0, "PUT /r/2=b", 10000);

	tri_etcd_watch_hold(w, true);
	etcd_kill(&f->srv);
	assert_int_equal(etcd_restart(&f->srv), 0);
	assert_int_equal(
	    tri_etcd_put(f->e, "/r/3", "c", 1, 0, NULL, NULL), TR_OK);
	assert_int_equal(
	    tri_etcd_delete(f->e, "/r/1", false, NULL, NULL), TR_OK);
	assert_int_equal(
	    tri_etcd_put(f->e, "/r/4", "d", 1, 0, NULL, NULL), TR_OK);
	int n = rec_n(r);
	tri_etcd_watch_hold(w, false);
	int a = EXPECT_LINE(r, n, "PUT /r/3=c", 10000);
	int b = EXPECT_LINE(r, a, "DEL /r/1", 5000);
	int c = EXPECT_LINE(r, b, "PUT /r/4=d", 5000);
	assert_true(a < b && b < c);
	/* One more write shows nothing was reported twice meanwhile. */
	assert_int_equal(
	    tri_etcd_put(f->e, "/r/5", "e", 1, 0, NULL, NULL), TR_OK);
	EXPECT_LINE(r, c, "PUT /r/5=e", 5000);
	stop_watch(f, w);
	assert_int_equal(rec_count(r, "PUT /r/1=a"), 1);
	assert_int_equal(rec_count(r, "PUT /r/2=b"), 1);
	assert_int_equal(rec_count(r, "PUT /r/3=c"), 1);
	assert_int_equal(rec_count(r, "DEL /r/1"), 1);
	assert_int_equal(rec_count(r, "PUT /r/4=d"), 1);
	assert_int_equal(rec_count(r, "PUT /r/5=e"), 1);
	assert_int_equal(r->resyncs, 0);
}

/* The history a watch needs was compacted while it was away: it reads
 * the keys again (resync) and goes on from there. */
static void
test_watch_compacted(void **state)
{
	fx *f = *state;
	tri_etcd_watch *w;
	int64_t rev;
	rec *r = &f->rec[0];

	w = watch(f, f->e, "/k/", 0, r);
	EXPECT_LINE(r, 0, "UP", 5000);
	assert_int_equal(
	    tri_etcd_put(f->e, "/k/a", "1", 1, 0, NULL, NULL), TR_OK);
	EXPECT_LINE(r, 0, "PUT /k/a=1", 5000);
	tri_etcd_watch_hold(w, true);
	assert_int_equal(
	    tri_etcd_put(f->e, "/k/b", "2", 1, 0, NULL, NULL), TR_OK);
	assert_int_equal(
	    tri_etcd_delete(f->e, "/k/a", false, NULL, NULL), TR_OK);
	assert_int_equal(
	    tri_etcd_put(f->e, "/k/c", "3", 1, 0, &rev, NULL), TR_OK);
	assert_int_equal(tri_etcd_compact(f->e, rev, NULL), TR_OK);
	tri_etcd_watch_hold(w, false);
	EXPECT_LINE(r, 0, "RESYNC", 10000);
	pthread_mutex_lock(&r->lock);
	assert_string_equal(r->resync, "/k/b /k/c");
	pthread_mutex_unlock(&r->lock);
	assert_int_equal(
	    tri_etcd_put(f->e, "/k/d", "4", 1, 0, NULL, NULL), TR_OK);
	EXPECT_LINE(r, 0, "PUT /k/d=4", 5000);
	stop_watch(f, w);
	/* What was compacted away came only through the resync. */
	assert_int_equal(rec_count(r, "PUT /k/b=2"), 0);
	assert_int_equal(rec_count(r, "DEL /k/a"), 0);
	assert_int_equal(r->resyncs, 1);
}

/* ------------------------------------------------------------------ */
/* Members: arguments, no etcd                                         */
/* ------------------------------------------------------------------ */

static void
test_members_bad_args(void **state)
{
	char ep[64], err[256], longname[TR_NAME_MAX + 2], longurl[300];
	const char *eps[] = {ep, NULL};
	const char *none[] = {NULL};
	tr_cluster_opts o;
	tri_members *m = (tri_members *)1;
	tri_members_cb cb = {0};
	tr_ref ref;
	static const char *const bad_names[] = {
	    NULL, "", "a/b", "a b", "a\nb", "\x7f", "caf\xc3\xa9"};

	(void)state;
	dead_endpoint(ep, sizeof(ep));
	memset(longname, 'n', TR_NAME_MAX + 1);
	longname[TR_NAME_MAX + 1] = '\0';
	memset(longurl, 'u', sizeof(longurl) - 1);
	longurl[sizeof(longurl) - 1] = '\0';

	assert_int_equal(
	    tri_members_etcd_join(NULL, 1, "u", &m, err, sizeof(err)),
	    TR_EINVAL);
	assert_null(m);
	assert_true(err[0] != '\0');
	o = copts("a", eps, 0);
	assert_int_equal(
	    tri_members_etcd_join(&o, 1, "u", NULL, err, sizeof(err)),
	    TR_EINVAL);
	assert_int_equal(
	    tri_members_etcd_join(&o, 1, NULL, &m, err, sizeof(err)),
	    TR_EINVAL);
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		o = copts(bad_names[i], eps, 0);
		err[0] = '\0';
		assert_int_equal(
		    tri_members_etcd_join(&o, 1, "u", &m, err, sizeof(err)),
		    TR_EINVAL);
		assert_non_null(strstr(err, "node name"));
		o = copts("a", eps, 0);
		o.cluster = bad_names[i];
		assert_int_equal(
		    tri_members_etcd_join(&o, 1, "u", &m, err, sizeof(err)),
		    TR_EINVAL);
		assert_non_null(strstr(err, "cluster"));
	}
	o = copts(longname, eps, 0);
	assert_int_equal(
	    tri_members_etcd_join(&o, 1, "u", &m, NULL, 0), TR_EINVAL);
	longname[TR_NAME_MAX] = '\0'; /* exactly TR_NAME_MAX: fine */
	assert_true(strlen(longname) == TR_NAME_MAX);
	o = copts("a", eps, 0);
	assert_int_equal(
	    tri_members_etcd_join(&o, 0, "u", &m, err, sizeof(err)), TR_EINVAL);
	assert_non_null(strstr(err, "id 0"));
	assert_int_equal(
	    tri_members_etcd_join(&o, 1, "", &m, err, sizeof(err)), TR_EINVAL);
	assert_int_equal(
	    tri_members_etcd_join(&o, 1, longurl, &m, err, sizeof(err)),
	    TR_EINVAL);
	assert_int_equal(
	    tri_members_etcd_join(&o, 1, "tcp://a\n", &m, err, sizeof(err)),
	    TR_EINVAL);
	o.etcd = NULL;
	assert_int_equal(
	    tri_members_etcd_join(&o, 1, "u", &m, err, sizeof(err)), TR_EINVAL);
	assert_non_null(strstr(err, "etcd"));
	o.etcd = none;
	assert_int_equal(
	    tri_members_etcd_join(&o, 1, "u", &m, err, sizeof(err)), TR_EINVAL);

	assert_int_equal(tri_members_watch(NULL, &cb), TR_EINVAL);
	assert_int_equal(
	    tri_members_register(NULL, "x", (tr_ref){1, 0, 1, 1}), TR_EINVAL);
	assert_int_equal(tri_members_unregister(NULL, "x"), TR_EINVAL);
	assert_int_equal(tri_members_whereis(NULL, "x", &ref), TR_EINVAL);
	tri_members_stop(NULL);
	assert_false(tri_members_fenced(NULL, err, sizeof(err)));
	assert_string_equal(err, "");
}

static void
test_members_no_etcd(void **state)
{
	char ep[64], err[256] = "";
	const char *eps[] = {ep, NULL};
	tr_cluster_opts o;
	tri_members *m = NULL;
	uint64_t t0;

	(void)state;
	dead_endpoint(ep, sizeof(ep));
	o = copts("a", eps, 0);
	t0 = now_ms();
	assert_int_equal(
	    tri_members_etcd_join(&o, 1, "tcp://a:1", &m, err, sizeof(err)),
	    TR_ETRANSPORT);
	assert_true(now_ms() - t0 < 1000);
	assert_null(m);
	assert_non_null(strstr(err, ep));
}

/* ------------------------------------------------------------------ */
/* Members against etcd                                                */
/* ------------------------------------------------------------------ */

static void
test_members_join_leave(void **state)
{
	fx *f = *state;
	tri_members *a, *b, *c;
	tri_members_cb cba, cbb;
	rec *ra = &f->rec[0], *rb = &f->rec[1];
	uint64_t t0;

	a = join(f, "a", 1, 0);
	b = join(f, "b", 2, 0);
	cba = members_cb(ra);
	cbb = members_cb(rb);
	assert_int_equal(tri_members_watch(a, &cba), TR_OK);
	assert_int_equal(tri_members_watch(a, &cba), TR_ESTATE);
	assert_int_equal(tri_members_watch(b, NULL), TR_EINVAL);
	assert_int_equal(tri_members_watch(b, &cbb), TR_OK);
	/* Each sees the other as it starts watching, never itself. */
	EXPECT_LINE(ra, 0, "join b 2 tcp://10.0.0.2:4400", 5000);
	EXPECT_LINE(rb, 0, "join a 1 tcp://10.0.0.1:4400", 5000);
	/* The callbacks come from the module's thread. */
	assert_false(pthread_equal(ra->thread, pthread_self()));

	c = join(f, "c", 3, 0);
	EXPECT_LINE(ra, 0, "join c 3 tcp://10.0.0.3:4400", 5000);
	EXPECT_LINE(rb, 0, "join c 3 tcp://10.0.0.3:4400", 5000);
	/* A stop revokes the lease: the others see the leave at once,
	 * not after the TTL (5 s). */
	t0 = now_ms();
	stop_member(f, c);
	EXPECT_LINE(ra, 0, "leave c 3", 5000);
	EXPECT_LINE(rb, 0, "leave c 3", 5000);
	uint64_t seen = now_ms() - t0;
	assert_true(seen < 2500);
	print_message("leave seen %llu ms after stop (TTL 5 s)\n",
	    (unsigned long long)seen);
	assert_int_equal(rec_count(ra, "join a 1 tcp://10.0.0.1:4400"), 0);
	assert_int_equal(count_keys(f, "/troupe/c1/nodes/"), 2);
	assert_int_equal(count_keys(f, "/troupe/c1/ids/"), 2);

	stop_member(f, a);
	EXPECT_LINE(rb, 0, "leave a 1", 5000);
	stop_member(f, b);
	assert_int_equal(count_keys(f, "/troupe/"), 0);
	/* After stop, no callback came: b's last line is a's leave. */
	int n = rec_n(rb);
	assert_string_equal(rb->line[n - 1], "leave a 1");
}

static void
test_members_duplicates(void **state)
{
	fx *f = *state;
	tr_cluster_opts o;
	char err[256] = "";
	tri_members *a, *m = NULL;

	a = join(f, "a", 1, 0);
	/* The same name, another id. */
	o = copts("a", f->eps, 0);
	assert_int_equal(
	    tri_members_etcd_join(&o, 2, "tcp://x:1", &m, err, sizeof(err)),
	    TR_EEXIST);
	assert_null(m);
	assert_non_null(strstr(err, "node name 'a' is held by a live node"));
	assert_non_null(strstr(err, "tcp://10.0.0.1:4400"));
	/* Another name, the same id. */
	o = copts("z", f->eps, 0);
	assert_int_equal(
	    tri_members_etcd_join(&o, 1, "tcp://x:1", &m, err, sizeof(err)),
	    TR_EEXIST);
	assert_non_null(strstr(err, "node id 1 is taken by live node 'a'"));
	/* Both refusals left nothing behind. */
	assert_int_equal(count_keys(f, "/troupe/c1/"), 2);
	/* Another cluster is another namespace. */
	o = copts("a", f->eps, 0);
	o.cluster = "c2";
	assert_int_equal(
	    tri_members_etcd_join(&o, 1, "tcp://x:1", &m, err, sizeof(err)),
	    TR_OK);
	keep_member(f, m);
	stop_member(f, m);
	/* Once a leaves, its name and id are free. */
	stop_member(f, a);
	o = copts("a", f->eps, 0);
	assert_int_equal(
	    tri_members_etcd_join(&o, 1, "tcp://x:1", &m, err, sizeof(err)),
	    TR_OK);
	keep_member(f, m);
	stop_member(f, m);
}

static void
test_members_names(void **state)
{
	fx *f = *state;
	tri_members *a, *b;
	tr_ref r1 = {1, 0, 7, 3}, r2 = {2, 1, 9, 1}, got;

	a = join(f, "a", 1, 0);
	b = join(f, "b", 2, 0);
	assert_int_equal(tri_members_register(a, "svc", r1), TR_OK);
	/* Read-your-writes on the registering node. */
	assert_int_equal(tri_members_whereis(a, "svc", &got), TR_OK);
	assert_true(tr_ref_equal(got, r1));
	assert_int_equal(whereis_becomes(b, "svc", TR_OK, &got, 5000), TR_OK);
	assert_true(tr_ref_equal(got, r1));
	/* Taken: by another node, and by this one. */
	assert_int_equal(tri_members_register(b, "svc", r2), TR_EEXIST);
	assert_int_equal(tri_members_register(a, "svc", r1), TR_EEXIST);
	assert_int_equal(tri_members_register(a, "svc", r2), TR_EEXIST);
	/* Only the holder unregisters. */
	assert_int_equal(tri_members_unregister(b, "svc"), TR_ENOENT);
	assert_int_equal(tri_members_unregister(a, "nope"), TR_ENOENT);
	assert_int_equal(tri_members_whereis(a, "nope", &got), TR_ENOENT);
	assert_int_equal(tri_members_unregister(a, "svc"), TR_OK);
	assert_int_equal(tri_members_whereis(a, "svc", &got), TR_ENOENT);
	assert_int_equal(
	    whereis_becomes(b, "svc", TR_ENOENT, &got, 5000), TR_ENOENT);
	assert_int_equal(tri_members_unregister(a, "svc"), TR_ENOENT);
	/* Free again: b takes it.  When b leaves, it goes with b. */
	assert_int_equal(tri_members_register(b, "svc", r2), TR_OK);
	assert_int_equal(tri_members_register(b, "other", r2), TR_OK);
	assert_int_equal(whereis_becomes(a, "svc", TR_OK, &got, 5000), TR_OK);
	assert_true(tr_ref_equal(got, r2));
	stop_member(f, b);
	assert_int_equal(
	    whereis_becomes(a, "svc", TR_ENOENT, &got, 5000), TR_ENOENT);
	assert_int_equal(tri_members_whereis(a, "other", &got), TR_ENOENT);
	/* Bad arguments. */
	assert_int_equal(tri_members_register(a, NULL, r1), TR_EINVAL);
	assert_int_equal(tri_members_register(a, "a/b", r1), TR_EINVAL);
	assert_int_equal(tri_members_register(a, "", r1), TR_EINVAL);
	assert_int_equal(tri_members_register(a, "x", TR_REF_NIL), TR_EINVAL);
	assert_int_equal(tri_members_unregister(a, "a b"), TR_EINVAL);
	assert_int_equal(tri_members_whereis(a, "x", NULL), TR_EINVAL);
	assert_int_equal(tri_members_whereis(a, "\x01", &got), TR_EINVAL);
	stop_member(f, a);
	assert_int_equal(count_keys(f, "/troupe/"), 0);
}

/*
 * A node that cannot renew its lease (the hook stops its keeper's
 * renewals): it fences itself within the TTL and drops its names; the
 * other node sees it leave when etcd expires the lease, and its names
 * go; once it renews again, it re-joins and both see it.
 */
static void
test_members_lease_loss(void **state)
{
	fx *f = *state;
	tri_members *a, *b;
	tri_members_cb cba, cbb;
	tr_ref r1 = {1, 0, 7, 3}, got;
	rec *ra = &f->rec[0], *rb = &f->rec[1];

	a = join(f, "a", 1, 1000);
	b = join(f, "b", 2, 1000);
	cba = members_cb(ra);
	cbb = members_cb(rb);
	assert_int_equal(tri_members_watch(a, &cba), TR_OK);
	assert_int_equal(tri_members_watch(b, &cbb), TR_OK);
	EXPECT_LINE(rb, 0, "join a 1 tcp://10.0.0.1:4400", 5000);
	assert_int_equal(tri_members_register(a, "g", r1), TR_OK);
	assert_int_equal(whereis_becomes(b, "g", TR_OK, &got, 5000), TR_OK);

	uint64_t t0 = now_ms();
	tri_members_test_hold_lease(a, true);
	int fen = EXPECT_LINE(ra, 0, "fenced", 3000);
	/* Within the TTL (1 s) of the last renewal, which was at most a
	 * third of it before the hold. */
	uint64_t fenced_after = ra->at[fen] - t0;
	assert_true(fenced_after <= 1000 + 300);
	assert_true(tri_members_fenced(a, NULL, 0));
	assert_false(tri_members_fenced(b, NULL, 0));
	/* Fenced: its names are gone from its own view at once, and it
	 * can hold none. */
	assert_int_equal(tri_members_whereis(a, "g", &got), TR_ENOENT);
	assert_int_equal(tri_members_register(a, "h", r1), TR_ETRANSPORT);
	assert_int_equal(tri_members_unregister(a, "g"), TR_ENOENT);
	/* etcd lets the lease go: b sees a leave, and its name go. */
	int lv = EXPECT_LINE(rb, 0, "leave a 1", 5000);
	assert_int_equal(
	    whereis_becomes(b, "g", TR_ENOENT, &got, 5000), TR_ENOENT);
	print_message("a fenced %llu ms after its renewals stopped; b saw "
	              "it leave %lld ms after that\n",
	    (unsigned long long)fenced_after,
	    (long long)rb->at[lv] - (long long)ra->at[fen]);
	assert_int_equal(rec_count(ra, "unfenced"), 0);

	/* Renewals allowed again: a re-joins, under a new lease. */
	tri_members_test_hold_lease(a, false);
	int un = EXPECT_LINE(ra, fen, "unfenced", 5000);
	EXPECT_LINE(rb, lv, "join a 1 tcp://10.0.0.1:4400", 5000);
	assert_false(tri_members_fenced(a, NULL, 0));
	assert_int_equal(tri_members_register(a, "g", r1), TR_OK);
	assert_int_equal(whereis_becomes(b, "g", TR_OK, &got, 5000), TR_OK);
	/* Fenced once, unfenced once; b never saw itself. */
	assert_int_equal(rec_count(ra, "fenced"), 1);
	assert_int_equal(rec_count(ra, "unfenced"), 1);
	assert_true(un > fen);
	assert_int_equal(rec_count(rb, "fenced"), 0);
	stop_member(f, a);
	stop_member(f, b);
}

/*
 * While a node is fenced, another takes its name: the fenced node
 * cannot re-join, keeps trying, and says why; once the other leaves,
 * it is back.
 */
static void
test_members_name_taken_while_fenced(void **state)
{
	fx *f = *state;
	tri_members *a, *x;
	tri_members_cb cba;
	char why[256] = "";
	uint64_t t0;
	rec *ra = &f->rec[0];

	a = join(f, "a", 1, 1000);
	cba = members_cb(ra);
	assert_int_equal(tri_members_watch(a, &cba), TR_OK);
	tri_members_test_hold_lease(a, true);
	int fen = EXPECT_LINE(ra, 0, "fenced", 3000);
	/* etcd frees the name when the lease expires: x takes it. */
	t0 = now_ms();
	while (
	    count_keys(f, "/troupe/c1/nodes/a") != 0 && now_ms() - t0 < 5000) {
		pause_ms(20);
	}
	x = join(f, "a", 9, 0); /* a's view never shows its own name */
	tri_members_test_hold_lease(a, false);
	t0 = now_ms();
	while ((tri_members_fenced(a, why, sizeof(why)), why[0] == '\0') &&
	    now_ms() - t0 < 5000) {
		pause_ms(20);
	}
	assert_true(tri_members_fenced(a, NULL, 0));
	assert_non_null(strstr(why, "node name 'a' is held by a live node"));
	stop_member(f, x);
	EXPECT_LINE(ra, fen, "unfenced", 10000);
	assert_false(tri_members_fenced(a, why, sizeof(why)));
	assert_string_equal(why, "");
	stop_member(f, a);
}

/* Its key deleted by hand, a node is out for everybody: it fences
 * itself and joins again. */
static void
test_members_key_deleted(void **state)
{
	fx *f = *state;
	tri_members *a, *b;
	tri_members_cb cba, cbb;
	rec *ra = &f->rec[0], *rb = &f->rec[1];

	a = join(f, "a", 1, 0);
	b = join(f, "b", 2, 0);
	cba = members_cb(ra);
	cbb = members_cb(rb);
	assert_int_equal(tri_members_watch(a, &cba), TR_OK);
	assert_int_equal(tri_members_watch(b, &cbb), TR_OK);
	EXPECT_LINE(rb, 0, "join a 1 tcp://10.0.0.1:4400", 5000);
	assert_int_equal(
	    tri_etcd_delete(f->e, "/troupe/c1/nodes/a", false, NULL, NULL),
	    TR_OK);
	int lv = EXPECT_LINE(rb, 0, "leave a 1", 5000);
	int fen = EXPECT_LINE(ra, 0, "fenced", 5000);
	EXPECT_LINE(ra, fen, "unfenced", 5000);
	EXPECT_LINE(rb, lv, "join a 1 tcp://10.0.0.1:4400", 5000);
	assert_int_equal(rec_count(ra, "fenced"), 1);
	stop_member(f, a);
	stop_member(f, b);
}

/*
 * etcd down: calls that need it fail with TR_ETRANSPORT within their
 * timeouts, whereis answers from the cache; the nodes fence themselves
 * within the TTL and come back when etcd does, each seeing the other
 * leave and join again.
 */
static void
test_members_etcd_down(void **state)
{
	fx *f = *state;
	tri_members *a, *d, *m = NULL;
	tri_members_cb cba;
	tr_cluster_opts o;
	tr_ref r1 = {1, 0, 7, 3}, got;
	char err[256] = "";
	uint64_t t0;
	rec *ra = &f->rec[0], *rb = &f->rec[1];

	a = join(f, "a", 1, 1000);
	d = join(f, "d", 4, 1000);
	cba = members_cb(ra);
	assert_int_equal(tri_members_watch(a, &cba), TR_OK);
	EXPECT_LINE(ra, 0, "join d 4 tcp://10.0.0.4:4400", 5000);
	assert_int_equal(tri_members_register(a, "x", r1), TR_OK);

	etcd_kill(&f->srv);
	t0 = now_ms();
	assert_int_equal(tri_members_register(a, "y", r1), TR_ETRANSPORT);
	assert_int_equal(tri_members_unregister(a, "x"), TR_ETRANSPORT);
	o = copts("c", f->eps, 1000);
	assert_int_equal(
	    tri_members_etcd_join(&o, 3, "tcp://c:1", &m, err, sizeof(err)),
	    TR_ETRANSPORT);
	assert_non_null(strstr(err, f->srv.url));
	assert_true(now_ms() - t0 < 1000);
	/* Fenced within the TTL; its own names leave its cache; it says
	 * why it cannot join again. */
	int fen = EXPECT_LINE(ra, 0, "fenced", 3000);
	assert_int_equal(tri_members_whereis(a, "x", &got), TR_ENOENT);
	char why[256] = "";
	t0 = now_ms();
	while ((tri_members_fenced(a, why, sizeof(why)), why[0] == '\0') &&
	    now_ms() - t0 < 5000) {
		pause_ms(20);
	}
	assert_non_null(strstr(why, f->srv.url));
	/* Watching starts without etcd: from the cache, and "fenced". */
	tri_members_cb cbd = members_cb(rb);
	assert_int_equal(tri_members_watch(d, &cbd), TR_OK);
	EXPECT_LINE(rb, 0, "join a 1 tcp://10.0.0.1:4400", 5000);
	EXPECT_LINE(rb, 0, "fenced", 5000);

	assert_int_equal(etcd_restart(&f->srv), 0);
	int un = EXPECT_LINE(ra, fen, "unfenced", 10000);
	/* d re-joined too: it left (its old lease revoked, or expired)
	 * and joined again. */
	int lv = EXPECT_LINE(ra, fen, "leave d 4", 10000);
	EXPECT_LINE(ra, lv, "join d 4 tcp://10.0.0.4:4400", 10000);
	assert_true(un > fen);
	assert_int_equal(tri_members_register(a, "y", r1), TR_OK);
	assert_int_equal(tri_members_whereis(a, "y", &got), TR_OK);

	/* A stop while etcd is gone returns, bounded by its timeout. */
	etcd_kill(&f->srv);
	t0 = now_ms();
	stop_member(f, d);
	stop_member(f, a);
	assert_true(now_ms() - t0 < 3000);
}

/* etcd hung (SIGSTOP): the calls end at their timeouts. */
static void
test_members_etcd_hung(void **state)
{
	fx *f = *state;
	tri_members *a, *m = NULL;
	tr_cluster_opts o;
	tr_ref r1 = {1, 0, 7, 3};
	char err[256] = "";
	uint64_t t0;

	a = join(f, "a", 1, 3000); /* requests bounded by 1 s */
	etcd_pause(&f->srv);
	t0 = now_ms();
	assert_int_equal(tri_members_register(a, "y", r1), TR_ETRANSPORT);
	assert_int_equal(tri_members_unregister(a, "y"), TR_ETRANSPORT);
	o = copts("c", f->eps, 1000); /* requests bounded by 333 ms */
	assert_int_equal(
	    tri_members_etcd_join(&o, 3, "tcp://c:1", &m, err, sizeof(err)),
	    TR_ETRANSPORT);
	uint64_t took = now_ms() - t0;
	assert_true(took >= 2 * 900 + 300 && took < 2 * 1000 + 333 + 1500);
	etcd_resume(&f->srv);
	/* Paused that long, the lease may have run out (by a's count or
	 * by etcd's, whose clock jumped): a is usable again once it has
	 * re-joined, if it had to. */
	t0 = now_ms();
	int rc;
	while ((rc = tri_members_register(a, "y", r1)) != TR_OK &&
	    now_ms() - t0 < 10000) {
		assert_int_equal(rc, TR_ETRANSPORT);
		pause_ms(50);
	}
	assert_int_equal(rc, TR_OK);
	stop_member(f, a);
}

/*
 * The watch of a member kept away (the hook) while etcd restarts and
 * nodes come and go: once back, it reports each change, once, in order.
 */
static void
test_members_watch_resumes(void **state)
{
	fx *f = *state;
	tri_members *a, *b, *c;
	tri_members_cb cbb;
	rec *rb = &f->rec[0];

	a = join(f, "a", 1, 0);
	b = join(f, "b", 2, 0);
	cbb = members_cb(rb);
	assert_int_equal(tri_members_watch(b, &cbb), TR_OK);
	EXPECT_LINE(rb, 0, "join a 1 tcp://10.0.0.1:4400", 5000);

	tri_members_test_hold_watch(b, true);
	etcd_kill(&f->srv);
	assert_int_equal(etcd_restart(&f->srv), 0);
	c = join(f, "c", 3, 0);
	stop_member(f, a);
	int n = rec_n(rb);
	assert_int_equal(n, 1); /* nothing while away */
	tri_members_test_hold_watch(b, false);
	int j = EXPECT_LINE(rb, n, "join c 3 tcp://10.0.0.3:4400", 10000);
	int l = EXPECT_LINE(rb, n, "leave a 1", 10000);
	assert_true(j < l);
	stop_member(f, c);
	EXPECT_LINE(rb, l, "leave c 3", 5000);
	assert_int_equal(rec_n(rb), 4);
	stop_member(f, b);
}

/* The same across a compaction: the changes come from the resync. */
static void
test_members_resync(void **state)
{
	fx *f = *state;
	tri_members *a, *b, *c;
	tri_members_cb cbb;
	tri_etcd_kvs kvs;
	tr_ref r1 = {3, 0, 1, 1}, got;
	rec *rb = &f->rec[0];

	a = join(f, "a", 1, 0);
	b = join(f, "b", 2, 0);
	cbb = members_cb(rb);
	assert_int_equal(tri_members_watch(b, &cbb), TR_OK);
	EXPECT_LINE(rb, 0, "join a 1 tcp://10.0.0.1:4400", 5000);
	tri_members_test_hold_watch(b, true);
	c = join(f, "c", 3, 0);
	assert_int_equal(tri_members_register(c, "n", r1), TR_OK);
	stop_member(f, a);
	assert_int_equal(tri_etcd_range(f->e, "/", true, &kvs, NULL), TR_OK);
	assert_int_equal(tri_etcd_compact(f->e, kvs.rev, NULL), TR_OK);
	tri_etcd_kvs_free(&kvs);
	tri_members_test_hold_watch(b, false);
	EXPECT_LINE(rb, 1, "leave a 1", 10000);
	EXPECT_LINE(rb, 1, "join c 3 tcp://10.0.0.3:4400", 10000);
	assert_int_equal(whereis_becomes(b, "n", TR_OK, &got, 5000), TR_OK);
	assert_true(tr_ref_equal(got, r1));
	stop_member(f, c);
	stop_member(f, b);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_client_bad_args),
	    BARE_TEST(test_client_no_server),
	    BARE_TEST(test_client_hostile_server),
	    BARE_TEST(test_watch_hostile_server),
	    BARE_TEST(test_watch_never_twice),
	    SRV_TEST(test_kv),
	    SRV_TEST(test_leases),
	    SRV_TEST(test_txns),
	    SRV_TEST(test_endpoints_in_turn),
	    SRV_TEST(test_server_hung),
	    SRV_TEST(test_watch_events),
	    SRV_TEST(test_watch_resumes_after_restart),
	    SRV_TEST(test_watch_compacted),
	    cmocka_unit_test(test_members_bad_args),
	    cmocka_unit_test(test_members_no_etcd),
	    SRV_TEST(test_members_join_leave),
	    SRV_TEST(test_members_duplicates),
	    SRV_TEST(test_members_names),
	    SRV_TEST(test_members_lease_loss),
	    SRV_TEST(test_members_name_taken_while_fenced),
	    SRV_TEST(test_members_key_deleted),
	    SRV_TEST(test_members_etcd_down),
	    SRV_TEST(test_members_etcd_hung),
	    SRV_TEST(test_members_watch_resumes),
	    SRV_TEST(test_members_resync),
	};

	/* An optional pattern runs only the matching cases; "!pattern"
	 * skips them. */
	if (argc > 1 && argv[1][0] == '!') {
		cmocka_set_skip_filter(argv[1] + 1);
	} else if (argc > 1) {
		cmocka_set_test_filter(argv[1]);
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
