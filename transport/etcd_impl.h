/*
 * etcd_impl.h -- private to transport/etcd*.c: what the client
 * (etcd.c) and its watches (etcd_watch.c) share.  Not API.
 */
#ifndef TRI_ETCD_IMPL_H
#define TRI_ETCD_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

#include "etcd.h"
#include "json.h"

/* Easy handles kept for the next request (each keeps its connection). */
#define TRI_ETCD_IDLE 4

struct tri_etcd {
	char **ep; /* endpoints, without a trailing '/' */
	size_t nep;
	char *ca, *cert, *key;
	uint32_t timeout_ms;
	atomic_uint prefer;   /* the endpoint that answered last */
	pthread_mutex_t lock; /* guards idle, nidle */
	CURL *idle[TRI_ETCD_IDLE];
	size_t nidle;
};

/* A growing text; a failed allocation sticks in oom (checked once, at
 * the end). */
typedef struct tri_sb {
	char *p;
	size_t n, cap;
	bool oom;
} tri_sb;

void tri_sb_printf(tri_sb *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends bytes as base64 (no quotes). */
void tri_sb_b64(tri_sb *b, const void *data, size_t n);
void tri_sb_free(tri_sb *b);

/*
 * POSTs body (a JSON text) to path on the endpoint that answered last,
 * then on each other until one answers.  On TR_OK, *doc is the reply
 * (an object), borrowing *text: free both (tri_json_free, tri_free).
 * etcd's own refusals (TR_EINVAL, TR_ENOENT, TR_EPERM) are returned at
 * once; TR_ETRANSPORT and TR_EPROTO only once every endpoint failed.
 */
int tri_etcd_request(tri_etcd *e, const char *path, tri_sb *body, tri_json *doc,
    char **text, tri_etcd_err *why);

/* Sets what every request of e to endpoint ep shares: URL ep + path,
 * no signals, no proxy, the connect timeout, TLS files, headers.
 * Resets h first.  TR_OK, TR_ENOMEM. */
int tri_etcd_easy_setup(tri_etcd *e, CURL *h, const char *ep, const char *path,
    struct curl_slist *headers);

/* Headers of every request: JSON, and no "Expect: 100-continue" (curl
 * would wait a second for it).  NULL without memory. */
struct curl_slist *tri_etcd_headers(void);

/* The key just past every key that starts with prefix (etcd's
 * range_end for a prefix), into a new buffer; *len its length. */
char *tri_etcd_prefix_end(const char *prefix, size_t *len);

/* Reads a mvccpb.KeyValue object at token t into *out (allocated:
 * tri_etcd_kv_clear).  TR_EPROTO, TR_ENOMEM. */
int tri_etcd_parse_kv(const tri_json *d, uint32_t t, tri_etcd_kv *out);
void tri_etcd_kv_clear(tri_etcd_kv *kv);

/* The revision in object obj's "header". */
int tri_etcd_header_rev(const tri_json *d, uint32_t obj, int64_t *rev);

/* Writes a sentence into why (if not NULL). */
void tri_etcd_seterr(tri_etcd_err *why, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Copies text from the network into dst for a message: printable
 * ASCII only, at most dstlen - 1 bytes. */
void tri_etcd_clean(char *dst, size_t dstlen, const char *src);

#endif
