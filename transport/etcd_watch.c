/*
 * etcd_watch.c -- a watch of a prefix (etcd.h): one thread, one
 * streaming POST /v3/watch at a time.
 *
 * The gateway answers a watch with a stream of JSON objects, one a
 * line: {"result": {"header", "created"}} first, then {"result":
 * {"header", "events": [{"type", "kv"}]}} -- "type" left out for a PUT,
 * the zero value.  A watch from a revision etcd has compacted away is
 * answered {"result": {"canceled": true, "compact_revision": N}}.
 *
 * Resuming: a reply carries whole revisions (etcd batches events by
 * revision, and this watch never asks for fragments), so after a reply
 * whose last event is at revision r, nothing up to r is missing and the
 * next stream starts at r + 1.  The header's revision is not used for
 * this: while a watcher catches up, etcd stamps its replies with the
 * store's current revision, past events not yet sent.
 *
 * The transfer runs on a multi handle of the watch's own, polled with
 * curl_multi_poll(), so that stop and hold wake it at once through
 * curl_multi_wakeup() (the one multi call that may come from another
 * thread).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "alloc.h"
#include "etcd_impl.h"
#include "troupe.h"

#define DELAY_FIRST_MS 50
#define DELAY_MAX_MS 2000

struct tri_etcd_watch {
	tri_etcd *e;
	char *prefix;
	tri_etcd_watch_cb cb;
	pthread_t thread;
	CURLM *multi;
	CURL *h;

	pthread_mutex_t lock; /* guards stop, hold, parked */
	pthread_cond_t cond;  /* CLOCK_MONOTONIC */
	bool stop, hold, parked;

	/* The watch's thread only, from here on. */
	int64_t next_rev; /* where the next stream starts; 0: now */
	size_t ep;        /* endpoint of the next stream */
	char *line;       /* the line being received */
	size_t n, cap;
	bool up;          /* this stream was created */
	bool end;         /* this stream must end (bad reply, canceled) */
	bool need_resync; /* history compacted: read the keys again */
	bool checked;     /* the status of this stream's reply was 200 */
};

static bool
stopping(tri_etcd_watch *w)
{
	bool s;

	pthread_mutex_lock(&w->lock);
	s = w->stop || w->hold;
	pthread_mutex_unlock(&w->lock);
	return s;
}

/*
 * Waits delay_ms (0: not at all), parked while held.  Returns false if
 * the watch is stopping.
 */
static bool
wait_turn(tri_etcd_watch *w, unsigned delay_ms)
{
	struct timespec until;
	bool go;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += delay_ms / 1000;
	until.tv_nsec += (long)(delay_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w->lock);
	while (!w->stop) {
		if (w->hold) {
			if (!w->parked) {
				w->parked = true;
				pthread_cond_broadcast(&w->cond);
			}
			pthread_cond_wait(&w->cond, &w->lock);
			delay_ms = 0; /* released: go at once */
			continue;
		}
		if (delay_ms == 0 ||
		    pthread_cond_timedwait(&w->cond, &w->lock, &until) ==
		        ETIMEDOUT) {
			break;
		}
	}
	w->parked = false;
	go = !w->stop;
	pthread_mutex_unlock(&w->lock);
	return go;
}

/*
 * The events of one reply.  All are read and checked before any is
 * reported, so that a bad one ends the stream with none of its reply
 * reported: the next stream starts at the same revision, and nothing
 * is reported twice or lost.
 */
static void
events(tri_etcd_watch *w, const tri_json *d, uint32_t evs)
{
	size_t n = d->tok[evs].count, k = 0;
	tri_etcd_kv *kv;
	tri_etcd_ev *type;
	int64_t prev = 0;

	if (n == 0) {
		return;
	}
	kv = tri_calloc(n, sizeof(*kv));
	type = tri_calloc(n, sizeof(*type));
	if (kv == NULL || type == NULL) {
		w->end = true;
		goto out;
	}
	for (uint32_t t = tri_json_first(d, evs); t != TRI_JSON_NONE;
	     t = tri_json_next(d, evs, t), k++) {
		uint32_t ty = tri_json_get(d, t, "type");
		type[k] = TRI_ETCD_PUT; /* the zero value is left out */
		if (ty != TRI_JSON_NONE) {
			if (tri_json_str_eq(d, ty, "DELETE")) {
				type[k] = TRI_ETCD_DELETE;
			} else if (!tri_json_str_eq(d, ty, "PUT")) {
				w->end = true;
				goto out;
			}
		}
		if (tri_etcd_parse_kv(d, tri_json_get(d, t, "kv"), &kv[k]) !=
		        TR_OK ||
		    kv[k].mod_rev <= 0 || kv[k].mod_rev < prev) {
			w->end = true;
			goto out;
		}
		prev = kv[k].mod_rev;
	}
	for (k = 0; k < n; k++) {
		/* Never twice: a revision already reported is skipped. */
		if (kv[k].mod_rev >= w->next_rev) {
			w->cb.event(w->cb.arg, type[k], &kv[k]);
		}
	}
	if (prev >= w->next_rev) {
		w->next_rev = prev + 1;
	}
out:
	for (k = 0; kv != NULL && k < n; k++) {
		tri_etcd_kv_clear(&kv[k]);
	}
	tri_free(kv);
	tri_free(type);
}

/* One line of the stream: one WatchResponse. */
static void
on_line(tri_etcd_watch *w, const char *text, size_t len)
{
	tri_json d;
	uint32_t res, evs, t;
	int64_t compact = 0, rev;
	bool flag;

	while (len > 0 && (text[len - 1] == '\r' || text[len - 1] == ' ')) {
		len--;
	}
	if (len == 0) {
		return;
	}
	if (tri_json_parse(&d, text, len) != TR_OK) {
		w->end = true; /* reconnect, from next_rev: nothing lost */
		return;
	}
	res = tri_json_get(&d, 0, "result");
	if (tri_json_type_of(&d, res) != TRI_JSON_OBJECT) {
		w->end = true; /* {"error": ...}, or not etcd's */
		goto out;
	}
	t = tri_json_get(&d, res, "compact_revision");
	if (t != TRI_JSON_NONE &&
	    (tri_json_int(&d, t, &compact) != TR_OK || compact < 0)) {
		w->end = true;
		goto out;
	}
	if (compact > 0) {
		w->need_resync = true;
		w->end = true;
		goto out;
	}
	t = tri_json_get(&d, res, "canceled");
	if (t != TRI_JSON_NONE &&
	    (tri_json_bool(&d, t, &flag) != TR_OK || flag)) {
		w->end = true;
		goto out;
	}
	t = tri_json_get(&d, res, "created");
	if (t != TRI_JSON_NONE && tri_json_bool(&d, t, &flag) == TR_OK &&
	    flag && !w->up) {
		if (tri_etcd_header_rev(&d, res, &rev) != TR_OK) {
			w->end = true;
			goto out;
		}
		if (w->next_rev == 0) {
			w->next_rev = rev + 1;
		}
		w->up = true;
		if (w->cb.link != NULL) {
			w->cb.link(w->cb.arg, true);
		}
	}
	evs = tri_json_get(&d, res, "events");
	if (evs != TRI_JSON_NONE) {
		if (!w->up || tri_json_type_of(&d, evs) != TRI_JSON_ARRAY) {
			w->end = true;
			goto out;
		}
		events(w, &d, evs);
	}
out:
	tri_json_free(&d);
}

/* Adds to the line being received (at most TRI_JSON_MAX bytes). */
static bool
append(tri_etcd_watch *w, const char *data, size_t n)
{
	if (n == 0) {
		return true; /* and no memcpy to a NULL line */
	}
	if (n > TRI_JSON_MAX - w->n) {
		return false;
	}
	if (w->cap - w->n < n) {
		size_t cap = w->cap ? w->cap : 4096;
		while (cap - w->n < n) {
			cap *= 2;
		}
		char *p = tri_realloc(w->line, cap);
		if (p == NULL) {
			return false;
		}
		w->line = p;
		w->cap = cap;
	}
	memcpy(w->line + w->n, data, n);
	w->n += n;
	return true;
}

static size_t
on_data(char *data, size_t size, size_t nmemb, void *arg)
{
	tri_etcd_watch *w = arg;
	size_t n = size * nmemb, start = 0;

	if (!w->checked) {
		long status = 0;
		curl_easy_getinfo(w->h, CURLINFO_RESPONSE_CODE, &status);
		if (status != 200) {
			return 0; /* not a watch: end it */
		}
		w->checked = true;
	}
	/* Returning less than n ends the transfer. */
	for (size_t i = 0; i < n && !w->end; i++) {
		if (data[i] != '\n') {
			continue;
		}
		if (w->n == 0) {
			on_line(w, data + start, i - start);
		} else {
			if (!append(w, data + start, i - start)) {
				return 0;
			}
			on_line(w, w->line, w->n);
			w->n = 0;
		}
		start = i + 1;
	}
	if (w->end || !append(w, data + start, n - start)) {
		return 0;
	}
	return n;
}

/* TCP keepalives notice a peer gone silent: a few probes, then the
 * stream fails and the watch connects again. */
static int
on_socket(void *arg, curl_socket_t fd, curlsocktype purpose)
{
	int count = 3;

	(void)arg;
	if (purpose == CURLSOCKTYPE_IPCXN) {
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count));
	}
	return CURL_SOCKOPT_OK;
}

/* One stream, until it ends or the watch stops or is held. */
static void
stream(tri_etcd_watch *w)
{
	tri_etcd *e = w->e;
	struct curl_slist *hdr = NULL;
	tri_sb b = {0};
	size_t elen;
	char *end = NULL;
	long idle = e->timeout_ms / 1000 ? (long)(e->timeout_ms / 1000) : 1;
	int running = 1;
	CURLcode c = CURLE_OK;

	w->n = 0;
	w->up = w->end = w->checked = false;
	if ((end = tri_etcd_prefix_end(w->prefix, &elen)) == NULL) {
		return;
	}
	tri_sb_printf(&b, "{\"create_request\":{\"key\":\"");
	if (w->prefix[0] == '\0') {
		tri_sb_b64(&b, "", 1); /* every key: from "\0" */
	} else {
		tri_sb_b64(&b, w->prefix, strlen(w->prefix));
	}
	tri_sb_printf(&b, "\",\"range_end\":\"");
	tri_sb_b64(&b, end, elen);
	tri_sb_printf(
	    &b, "\",\"start_revision\":\"%lld\"}}", (long long)w->next_rev);
	tri_free(end);
	if (b.oom || (hdr = tri_etcd_headers()) == NULL ||
	    tri_etcd_easy_setup(e, w->h, e->ep[w->ep], "/v3/watch", hdr) !=
	        TR_OK) {
		goto out;
	}
	c |= curl_easy_setopt(w->h, CURLOPT_POSTFIELDS, b.p);
	c |= curl_easy_setopt(
	    w->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)b.n);
	c |= curl_easy_setopt(w->h, CURLOPT_WRITEFUNCTION, on_data);
	c |= curl_easy_setopt(w->h, CURLOPT_WRITEDATA, w);
	c |= curl_easy_setopt(w->h, CURLOPT_TCP_KEEPALIVE, 1L);
	c |= curl_easy_setopt(w->h, CURLOPT_TCP_KEEPIDLE, idle);
	c |= curl_easy_setopt(w->h, CURLOPT_TCP_KEEPINTVL, 1L);
	c |= curl_easy_setopt(w->h, CURLOPT_SOCKOPTFUNCTION, on_socket);
	if (c != CURLE_OK ||
	    curl_multi_add_handle(w->multi, w->h) != CURLM_OK) {
		goto out;
	}
	while (running && !w->end && !w->need_resync && !stopping(w)) {
		if (curl_multi_perform(w->multi, &running) != CURLM_OK) {
			break;
		}
		if (running && !w->end) {
			curl_multi_poll(w->multi, NULL, 0, 1000, NULL);
		}
	}
	curl_multi_remove_handle(w->multi, w->h);
out:
	if (w->up && w->cb.link != NULL) {
		w->cb.link(w->cb.arg, false);
	}
	curl_slist_free_all(hdr);
	tri_sb_free(&b);
	w->n = 0;
}

/* History lost: every key now, then events from after it. */
static bool
resync(tri_etcd_watch *w)
{
	tri_etcd_kvs kvs;

	if (tri_etcd_range(w->e, w->prefix, true, &kvs, NULL) != TR_OK) {
		return false;
	}
	if (w->cb.resync != NULL) {
		w->cb.resync(w->cb.arg, &kvs);
	}
	w->next_rev = kvs.rev + 1;
	w->need_resync = false;
	tri_etcd_kvs_free(&kvs);
	return true;
}

static void *
run(void *arg)
{
	tri_etcd_watch *w = arg;
	unsigned delay = 0;

	while (wait_turn(w, delay)) {
		if (w->need_resync && !resync(w)) {
			w->ep = (w->ep + 1) % w->e->nep;
			delay = delay ? delay * 2 : DELAY_FIRST_MS;
		} else {
			stream(w);
			if (w->up || w->need_resync) {
				delay = DELAY_FIRST_MS;
			} else {
				/* Never came up: try the next endpoint,
				 * waiting longer each time. */
				w->ep = (w->ep + 1) % w->e->nep;
				delay = delay ? delay * 2 : DELAY_FIRST_MS;
			}
			if (w->need_resync) {
				delay = 0;
			}
		}
		if (delay > DELAY_MAX_MS) {
			delay = DELAY_MAX_MS;
		}
	}
	return NULL;
}

static void
free_watch(tri_etcd_watch *w)
{
	if (w->h != NULL) {
		curl_easy_cleanup(w->h);
	}
	if (w->multi != NULL) {
		curl_multi_cleanup(w->multi);
	}
	tri_free(w->line);
	tri_free(w->prefix);
	tri_free(w);
}

int
tri_etcd_watch_start(tri_etcd *e, const char *prefix, int64_t from_rev,
    const tri_etcd_watch_cb *cb, tri_etcd_watch **out, tri_etcd_err *why)
{
	tri_etcd_watch *w;
	pthread_condattr_t ca;
	int rc = TR_ENOMEM;

	if (out != NULL) {
		*out = NULL;
	}
	if (e == NULL || prefix == NULL || cb == NULL || cb->event == NULL ||
	    out == NULL || from_rev < 0) {
		return TR_EINVAL;
	}
	if ((w = tri_calloc(1, sizeof(*w))) == NULL ||
	    (w->prefix = tri_strdup(prefix)) == NULL ||
	    (w->multi = curl_multi_init()) == NULL ||
	    (w->h = curl_easy_init()) == NULL) {
		goto fail;
	}
	w->e = e;
	w->cb = *cb;
	w->next_rev = from_rev;
	w->ep = atomic_load(&e->prefer) % e->nep;
	if (pthread_condattr_init(&ca) != 0) {
		goto fail;
	}
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (pthread_cond_init(&w->cond, &ca) != 0) {
		pthread_condattr_destroy(&ca);
		goto fail;
	}
	pthread_condattr_destroy(&ca);
	if (pthread_mutex_init(&w->lock, NULL) != 0) {
		pthread_cond_destroy(&w->cond);
		goto fail;
	}
	if (pthread_create(&w->thread, NULL, run, w) != 0) {
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->cond);
		rc = TR_ERESOURCE;
		goto fail;
	}
	*out = w;
	return TR_OK;
fail:
	tri_etcd_seterr(
	    why, rc == TR_ENOMEM ? "out of memory" : "no thread for the watch");
	if (w != NULL) {
		free_watch(w);
	}
	return rc;
}

void
tri_etcd_watch_stop(tri_etcd_watch *w)
{
	if (w == NULL) {
		return;
	}
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	curl_multi_wakeup(w->multi);
	pthread_join(w->thread, NULL);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	free_watch(w);
}

void
tri_etcd_watch_hold(tri_etcd_watch *w, bool hold)
{
	pthread_mutex_lock(&w->lock);
	w->hold = hold;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	if (!hold) {
		return;
	}
	curl_multi_wakeup(w->multi);
	pthread_mutex_lock(&w->lock);
	while (!w->parked && !w->stop) {
		pthread_cond_wait(&w->cond, &w->lock);
	}
	pthread_mutex_unlock(&w->lock);
}
