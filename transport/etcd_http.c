/*
 * etcd_http.c -- the etcd client itself (etcd.h): its endpoints, its
 * pool of curl handles, and one request POSTed to one endpoint after
 * another (tri_etcd_request), with what etcd answers as an error mapped
 * to troupe's codes.  The calls themselves are in etcd.c.
 *
 * The gateway answers an error with a non-200 status and a body
 * {"error", "code" (a gRPC code), "message"}.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "base64.h"
#include "etcd_impl.h"
#include "troupe.h"

/* ------------------------------------------------------------------ */
/* Small helpers shared with etcd.c and etcd_watch.c                    */

void
tri_etcd_seterr(tri_etcd_err *why, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(why->msg, sizeof(why->msg), fmt, ap);
	va_end(ap);
}

void
tri_etcd_clean(char *dst, size_t dstlen, const char *src)
{
	size_t n = 0;

	for (; src != NULL && *src != '\0' && n + 1 < dstlen; src++) {
		unsigned char c = (unsigned char)*src;
		dst[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	if (dstlen > 0) {
		dst[n] = '\0';
	}
}

static void
sb_reserve(tri_sb *b, size_t more)
{
	if (b->oom || b->cap - b->n > more) {
		return;
	}
	size_t cap = b->cap ? b->cap : 256;
	while (cap - b->n <= more) {
		cap *= 2;
	}
	char *p = tri_realloc(b->p, cap);
	if (p == NULL) {
		b->oom = true;
		return;
	}
	b->p = p;
	b->cap = cap;
}

void
tri_sb_printf(tri_sb *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	sb_reserve(b, (size_t)n);
	if (b->oom) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
	va_end(ap);
	b->n += (size_t)n;
}

void
tri_sb_b64(tri_sb *b, const void *data, size_t n)
{
	size_t len = tri_b64_len(n);

	sb_reserve(b, len);
	if (!b->oom) {
		b->n += tri_b64_encode(data, n, b->p + b->n);
	}
}

void
tri_sb_free(tri_sb *b)
{
	tri_free(b->p);
	memset(b, 0, sizeof(*b));
}

/* ------------------------------------------------------------------ */
/* The client                                                          */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void
curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static bool
valid_endpoint(const char *ep)
{
	return (strncmp(ep, "http://", 7) == 0 && ep[7] != '\0') ||
	    (strncmp(ep, "https://", 8) == 0 && ep[8] != '\0');
}

static char *
dup_opt(const char *s, bool *oom)
{
	char *d;

	if (s == NULL) {
		return NULL;
	}
	if ((d = tri_strdup(s)) == NULL) {
		*oom = true;
	}
	return d;
}

int
tri_etcd_open(const tri_etcd_opts *o, tri_etcd **out, tri_etcd_err *why)
{
	tri_etcd *e = NULL;
	size_t n = 0;
	bool oom = false;

	if (out != NULL) {
		*out = NULL;
	}
	if (o == NULL || out == NULL || o->endpoints == NULL ||
	    o->endpoints[0] == NULL) {
		tri_etcd_seterr(why, "no etcd endpoint given");
		return TR_EINVAL;
	}
	for (; o->endpoints[n] != NULL; n++) {
		if (!valid_endpoint(o->endpoints[n])) {
			tri_etcd_seterr(why,
			    "etcd endpoint %zu is not an http:// or https:// "
			    "URL",
			    n);
			return TR_EINVAL;
		}
	}
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK) {
		tri_etcd_seterr(
		    why, "libcurl: %s", curl_easy_strerror(curl_init_rc));
		return TR_ETRANSPORT;
	}
	if ((e = tri_calloc(1, sizeof(*e))) == NULL ||
	    (e->ep = tri_calloc(n, sizeof(*e->ep))) == NULL) {
		goto nomem;
	}
	e->nep = n;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(o->endpoints[i]);
		if ((e->ep[i] = tri_strdup(o->endpoints[i])) == NULL) {
			goto nomem;
		}
		while (len > 0 && e->ep[i][len - 1] == '/') {
			e->ep[i][--len] = '\0';
		}
	}
	e->ca = dup_opt(o->ca, &oom);
	e->cert = dup_opt(o->cert, &oom);
	e->key = dup_opt(o->key, &oom);
	if (oom) {
		goto nomem;
	}
	e->timeout_ms = o->timeout_ms ? o->timeout_ms : 2000;
	atomic_init(&e->prefer, 0);
	if (pthread_mutex_init(&e->lock, NULL) != 0) {
		goto nomem;
	}
	*out = e;
	return TR_OK;
nomem:
	if (e != NULL) {
		for (size_t i = 0; e->ep != NULL && i < e->nep; i++) {
			tri_free(e->ep[i]);
		}
		tri_free(e->ep);
		tri_free(e->ca);
		tri_free(e->cert);
		tri_free(e->key);
		tri_free(e);
	}
	tri_etcd_seterr(why, "out of memory");
	return TR_ENOMEM;
}

void
tri_etcd_close(tri_etcd *e)
{
	if (e == NULL) {
		return;
	}
	for (size_t i = 0; i < e->nidle; i++) {
		curl_easy_cleanup(e->idle[i]);
	}
	for (size_t i = 0; i < e->nep; i++) {
		tri_free(e->ep[i]);
	}
	pthread_mutex_destroy(&e->lock);
	tri_free(e->ep);
	tri_free(e->ca);
	tri_free(e->cert);
	tri_free(e->key);
	tri_free(e);
}

struct curl_slist *
tri_etcd_headers(void)
{
	struct curl_slist *h, *h2;

	if ((h = curl_slist_append(NULL, "Content-Type: application/json")) ==
	    NULL) {
		return NULL;
	}
	if ((h2 = curl_slist_append(h, "Expect:")) == NULL) {
		curl_slist_free_all(h);
		return NULL;
	}
	return h2;
}

int
tri_etcd_easy_setup(tri_etcd *e, CURL *h, const char *ep, const char *path,
    struct curl_slist *headers)
{
	char *url;
	size_t n = strlen(ep) + strlen(path) + 1;
	CURLcode c = CURLE_OK;

	curl_easy_reset(h);
	if ((url = tri_malloc(n)) == NULL) {
		return TR_ENOMEM;
	}
	snprintf(url, n, "%s%s", ep, path);
	/* CURLOPT_URL copies the string. */
	c |= curl_easy_setopt(h, CURLOPT_URL, url);
	tri_free(url);
	/* Threads: no SIGALRM for timeouts.  No proxy from the
	 * environment: etcd is reached directly. */
	c |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	c |= curl_easy_setopt(h, CURLOPT_PROXY, "");
#if LIBCURL_VERSION_NUM >= 0x075500
	c |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	c |=
	    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)e->timeout_ms);
	c |= curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	if (e->ca != NULL) {
		c |= curl_easy_setopt(h, CURLOPT_CAINFO, e->ca);
	}
	if (e->cert != NULL) {
		c |= curl_easy_setopt(h, CURLOPT_SSLCERT, e->cert);
	}
	if (e->key != NULL) {
		c |= curl_easy_setopt(h, CURLOPT_SSLKEY, e->key);
	}
	return c == CURLE_OK ? TR_OK : TR_ENOMEM;
}

static CURL *
take_handle(tri_etcd *e)
{
	CURL *h = NULL;

	pthread_mutex_lock(&e->lock);
	if (e->nidle > 0) {
		h = e->idle[--e->nidle];
	}
	pthread_mutex_unlock(&e->lock);
	return h != NULL ? h : curl_easy_init();
}

static void
give_handle(tri_etcd *e, CURL *h)
{
	pthread_mutex_lock(&e->lock);
	if (e->nidle < TRI_ETCD_IDLE) {
		e->idle[e->nidle++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&e->lock);
	if (h != NULL) {
		curl_easy_cleanup(h);
	}
}

/* A reply being received: at most TRI_JSON_MAX bytes. */
typedef struct reply {
	char *p;
	size_t n, cap;
	bool too_big, oom;
} reply;

static size_t
on_data(char *data, size_t size, size_t nmemb, void *arg)
{
	reply *r = arg;
	size_t n = size * nmemb;

	if (n > TRI_JSON_MAX - r->n) {
		r->too_big = true;
		return 0;
	}
	if (r->cap - r->n < n) {
		size_t cap = r->cap ? r->cap : 1024;
		while (cap - r->n < n) {
			cap *= 2;
		}
		char *p = tri_realloc(r->p, cap);
		if (p == NULL) {
			r->oom = true;
			return 0;
		}
		r->p = p;
		r->cap = cap;
	}
	memcpy(r->p + r->n, data, n);
	r->n += n;
	return n;
}

/* The error etcd answered with (a non-200 reply). */
static int
etcd_error(const tri_json *d, const char *ep, long status, tri_etcd_err *why)
{
	int64_t code = -1;
	uint32_t m = tri_json_get(d, 0, "message");
	char *msg = NULL;
	char clean[160] = "";

	if (m == TRI_JSON_NONE) {
		m = tri_json_get(d, 0, "error");
	}
	if (tri_json_str(d, m, &msg, NULL) == TR_OK) {
		tri_etcd_clean(clean, sizeof(clean), msg);
		tri_free(msg);
	}
	if (tri_json_int(d, tri_json_get(d, 0, "code"), &code) != TR_OK) {
		code = -1;
	}
	tri_etcd_seterr(why, "etcd at %s: %s (HTTP %ld, gRPC code %lld)", ep,
	    clean[0] ? clean : "error", status, (long long)code);
	switch (code) {
	case 3:  /* INVALID_ARGUMENT */
	case 11: /* OUT_OF_RANGE: a compacted or future revision */
		return TR_EINVAL;
	case 5: /* NOT_FOUND: the lease */
		return TR_ENOENT;
	case 7:  /* PERMISSION_DENIED */
	case 16: /* UNAUTHENTICATED */
		return TR_EPERM;
	default: /* UNAVAILABLE (no leader), DEADLINE_EXCEEDED, ... */
		return TR_ETRANSPORT;
	}
}

/* One try of a request on endpoint ep.  On TR_OK *doc is the reply,
 * borrowing *text (both the caller's). */
static int
try_one(tri_etcd *e, const char *ep, const char *path, const tri_sb *body,
    tri_json *doc, char **text, tri_etcd_err *why)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdr = NULL;
	reply r = {0};
	long status = 0;
	CURLcode cc;
	CURL *h;
	int rc;

	if ((h = take_handle(e)) == NULL) {
		tri_etcd_seterr(why, "out of memory");
		return TR_ENOMEM;
	}
	if ((hdr = tri_etcd_headers()) == NULL ||
	    tri_etcd_easy_setup(e, h, ep, path, hdr) != TR_OK ||
	    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body->p) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
	        (curl_off_t)body->n) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)e->timeout_ms) !=
	        CURLE_OK) {
		rc = TR_ENOMEM;
		tri_etcd_seterr(why, "out of memory");
		goto out;
	}
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (cc != CURLE_OK) {
		if (r.oom) {
			rc = TR_ENOMEM;
			tri_etcd_seterr(why, "out of memory");
		} else if (r.too_big) {
			rc = TR_EPROTO;
			tri_etcd_seterr(why, "etcd at %s: reply over %zu bytes",
			    ep, TRI_JSON_MAX);
		} else {
			rc = TR_ETRANSPORT;
			tri_etcd_seterr(why, "etcd at %s: %s", ep,
			    errbuf[0] ? errbuf : curl_easy_strerror(cc));
		}
		goto out;
	}
	rc = tri_json_parse(doc, r.p != NULL ? r.p : "", r.n);
	if (rc == TR_ENOMEM) {
		tri_etcd_seterr(why, "out of memory");
		goto out;
	}
	if (rc != TR_OK || tri_json_type_of(doc, 0) != TRI_JSON_OBJECT) {
		tri_json_free(doc);
		if (status != 200) {
			rc = TR_ETRANSPORT;
			tri_etcd_seterr(
			    why, "HTTP %ld from %s%s", status, ep, path);
		} else {
			rc = TR_EPROTO;
			tri_etcd_seterr(why,
			    "etcd at %s: reply to %s is not "
			    "a JSON object",
			    ep, path);
		}
		goto out;
	}
	if (status != 200) {
		rc = etcd_error(doc, ep, status, why);
		tri_json_free(doc);
		goto out;
	}
	*text = r.p;
	r.p = NULL;
out:
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
	give_handle(e, h);
	curl_slist_free_all(hdr);
	tri_free(r.p);
	return rc;
}

/* Tries endpoints in turn (etcd_impl.h). */
int
tri_etcd_request(tri_etcd *e, const char *path, tri_sb *body, tri_json *doc,
    char **text, tri_etcd_err *why)
{
	unsigned first = atomic_load(&e->prefer);
	int rc = TR_ETRANSPORT;

	*text = NULL;
	memset(doc, 0, sizeof(*doc));
	if (body->oom) {
		tri_etcd_seterr(why, "out of memory");
		return TR_ENOMEM;
	}
	for (size_t k = 0; k < e->nep; k++) {
		size_t i = (first + k) % e->nep;
		rc = try_one(e, e->ep[i], path, body, doc, text, why);
		if (rc == TR_OK) {
			atomic_store(&e->prefer, (unsigned)i);
			return TR_OK;
		}
		if (rc != TR_ETRANSPORT && rc != TR_EPROTO) {
			return rc;
		}
	}
	return rc;
}
