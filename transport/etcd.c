/*
 * etcd.c -- the etcd client's calls (etcd.h): leases, keys, txns.
 *
 * Each call builds a JSON body, has tri_etcd_request() (etcd_http.c)
 * POST it, and reads the reply with json.c.  The gateway writes etcd's
 * protobuf messages as JSON: bytes in base64, 64-bit integers as quoted
 * decimals, fields at their zero value left out (a missing "succeeded"
 * is false, a missing "TTL" is 0).
 */
#include <string.h>

#include "alloc.h"
#include "base64.h"
#include "etcd_impl.h"
#include "troupe.h"

/* ------------------------------------------------------------------ */
/* Keys and values in replies                                          */

char *
tri_etcd_prefix_end(const char *prefix, size_t *len)
{
	size_t n = strlen(prefix);
	char *end = tri_malloc(n + 1);

	if (end == NULL) {
		return NULL;
	}
	memcpy(end, prefix, n + 1);
	/* The last byte that can grow grows; the 0xff bytes after it go.
	 * A prefix of 0xff bytes only (or empty) has no end but "\0":
	 * etcd's "every key from here on". */
	while (n > 0 && (unsigned char)end[n - 1] == 0xff) {
		n--;
	}
	if (n == 0) {
		end[0] = '\0';
		*len = 1;
		return end;
	}
	end[n - 1] = (char)((unsigned char)end[n - 1] + 1);
	end[n] = '\0';
	*len = n;
	return end;
}

void
tri_etcd_kv_clear(tri_etcd_kv *kv)
{
	tri_free(kv->key); /* key and value share one allocation */
	memset(kv, 0, sizeof(*kv));
}

void
tri_etcd_kvs_free(tri_etcd_kvs *kvs)
{
	if (kvs == NULL) {
		return;
	}
	for (size_t i = 0; i < kvs->n; i++) {
		tri_etcd_kv_clear(&kvs->kv[i]);
	}
	tri_free(kvs->kv);
	memset(kvs, 0, sizeof(*kvs));
}

/* An optional integer member: absent is 0 (protobuf's zero value). */
static int
opt_int(const tri_json *d, uint32_t obj, const char *name, int64_t *out)
{
	uint32_t t = tri_json_get(d, obj, name);

	*out = 0;
	return t == TRI_JSON_NONE ? TR_OK : tri_json_int(d, t, out);
}

/* An optional bytes member (base64 string) as its raw length. */
static int
opt_b64_len(
    const tri_json *d, uint32_t obj, const char *name, uint32_t *t, size_t *enc)
{
	*t = tri_json_get(d, obj, name);
	*enc = 0;
	if (*t == TRI_JSON_NONE) {
		return TR_OK;
	}
	if (tri_json_type_of(d, *t) != TRI_JSON_STRING) {
		return TR_EPROTO;
	}
	*enc = d->tok[*t].len - 2;
	return TR_OK;
}

static size_t
b64_tok(const tri_json *d, uint32_t t, char *out)
{
	if (t == TRI_JSON_NONE) {
		out[0] = '\0';
		return 0;
	}
	return tri_b64_decode(
	    d->text + d->tok[t].start + 1, d->tok[t].len - 2, out);
}

int
tri_etcd_parse_kv(const tri_json *d, uint32_t t, tri_etcd_kv *out)
{
	uint32_t kt, vt;
	size_t kenc, venc;
	char *buf;

	memset(out, 0, sizeof(*out));
	if (tri_json_type_of(d, t) != TRI_JSON_OBJECT) {
		return TR_EPROTO;
	}
	if (opt_int(d, t, "create_revision", &out->create_rev) != TR_OK ||
	    opt_int(d, t, "mod_revision", &out->mod_rev) != TR_OK ||
	    opt_int(d, t, "version", &out->version) != TR_OK ||
	    opt_int(d, t, "lease", &out->lease) != TR_OK ||
	    opt_b64_len(d, t, "key", &kt, &kenc) != TR_OK ||
	    opt_b64_len(d, t, "value", &vt, &venc) != TR_OK) {
		return TR_EPROTO;
	}
	/* Base64 needs no escapes: a string with one is not etcd's. */
	if (kt == TRI_JSON_NONE ||
	    memchr(d->text + d->tok[kt].start, '\\', d->tok[kt].len) ||
	    (vt != TRI_JSON_NONE &&
	        memchr(d->text + d->tok[vt].start, '\\', d->tok[vt].len))) {
		return TR_EPROTO;
	}
	/* Both decoded, each with a NUL, in one buffer. */
	if ((buf = tri_malloc(kenc / 4 * 3 + 1 + venc / 4 * 3 + 1)) == NULL) {
		return TR_ENOMEM;
	}
	out->key = buf;
	out->key_len = b64_tok(d, kt, buf);
	if (out->key_len == (size_t)-1 || out->key_len == 0) {
		tri_free(buf);
		memset(out, 0, sizeof(*out));
		return TR_EPROTO;
	}
	out->value = buf + out->key_len + 1;
	out->value_len = b64_tok(d, vt, out->value);
	if (out->value_len == (size_t)-1) {
		tri_free(buf);
		memset(out, 0, sizeof(*out));
		return TR_EPROTO;
	}
	return TR_OK;
}

int
tri_etcd_header_rev(const tri_json *d, uint32_t obj, int64_t *rev)
{
	uint32_t h = tri_json_get(d, obj, "header");

	if (tri_json_type_of(d, h) != TRI_JSON_OBJECT ||
	    opt_int(d, h, "revision", rev) != TR_OK || *rev < 0) {
		return TR_EPROTO;
	}
	return TR_OK;
}

static void
done(tri_json *doc, char *text, tri_sb *body)
{
	tri_json_free(doc);
	tri_free(text);
	tri_sb_free(body);
}

static int
bad_reply(const char *what, tri_etcd_err *why)
{
	tri_etcd_seterr(
	    why, "etcd's reply to %s lacks what it must hold", what);
	return TR_EPROTO;
}

/* ------------------------------------------------------------------ */
/* Leases                                                              */

int
tri_etcd_lease_grant(tri_etcd *e, int64_t ttl_s, int64_t *id, int64_t *granted,
    tri_etcd_err *why)
{
	tri_sb b = {0};
	tri_json d;
	char *text;
	int64_t got_id, got_ttl;
	int rc;

	if (e == NULL || id == NULL || ttl_s <= 0) {
		return TR_EINVAL;
	}
	tri_sb_printf(&b, "{\"TTL\":%lld}", (long long)ttl_s);
	if ((rc = tri_etcd_request(e, "/v3/lease/grant", &b, &d, &text, why)) !=
	    TR_OK) {
		goto out;
	}
	if (opt_int(&d, 0, "ID", &got_id) != TR_OK || got_id == 0 ||
	    opt_int(&d, 0, "TTL", &got_ttl) != TR_OK || got_ttl <= 0) {
		rc = bad_reply("lease grant", why);
		goto out;
	}
	*id = got_id;
	if (granted != NULL) {
		*granted = got_ttl;
	}
out:
	done(&d, text, &b);
	return rc;
}

int
tri_etcd_lease_keepalive(
    tri_etcd *e, int64_t id, int64_t *ttl, tri_etcd_err *why)
{
	tri_sb b = {0};
	tri_json d;
	char *text;
	uint32_t res;
	int64_t got;
	int rc;

	if (e == NULL || ttl == NULL || id == 0) {
		return TR_EINVAL;
	}
	tri_sb_printf(&b, "{\"ID\":\"%lld\"}", (long long)id);
	rc = tri_etcd_request(e, "/v3/lease/keepalive", &b, &d, &text, why);
	if (rc != TR_OK) {
		goto out;
	}
	/* A streaming call: one {"result": ...} per request, or an
	 * {"error": {...}} in place of it. */
	res = tri_json_get(&d, 0, "result");
	if (tri_json_type_of(&d, res) != TRI_JSON_OBJECT) {
		rc = tri_json_get(&d, 0, "error") != TRI_JSON_NONE ?
		    TR_ETRANSPORT :
		    TR_EPROTO;
		tri_etcd_seterr(why, "etcd: lease keepalive %s",
		    rc == TR_EPROTO ? "reply without a result" : "failed");
		goto out;
	}
	if (opt_int(&d, res, "TTL", &got) != TR_OK) {
		rc = bad_reply("lease keepalive", why);
		goto out;
	}
	if (got <= 0) {
		/* etcd answers TTL 0 for a lease it does not have. */
		tri_etcd_seterr(
		    why, "etcd: lease %llx not found", (unsigned long long)id);
		rc = TR_ENOENT;
		goto out;
	}
	*ttl = got;
out:
	done(&d, text, &b);
	return rc;
}

int
tri_etcd_lease_revoke(tri_etcd *e, int64_t id, tri_etcd_err *why)
{
	tri_sb b = {0};
	tri_json d;
	char *text;
	int rc;

	if (e == NULL || id == 0) {
		return TR_EINVAL;
	}
	tri_sb_printf(&b, "{\"ID\":\"%lld\"}", (long long)id);
	rc = tri_etcd_request(e, "/v3/lease/revoke", &b, &d, &text, why);
	done(&d, text, &b);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Keys                                                                */

static void
key_fields(tri_sb *b, const char *key, bool prefix)
{
	/* The empty prefix is every key: from "\0" (etcd wants a key). */
	size_t n = strlen(key);
	tri_sb_printf(b, "\"key\":\"");
	tri_sb_b64(b, n == 0 && prefix ? "" : key, n == 0 && prefix ? 1 : n);
	tri_sb_printf(b, "\"");
	if (prefix) {
		size_t elen;
		char *end = tri_etcd_prefix_end(key, &elen);
		if (end == NULL) {
			b->oom = true;
			return;
		}
		tri_sb_printf(b, ",\"range_end\":\"");
		tri_sb_b64(b, end, elen);
		tri_sb_printf(b, "\"");
		tri_free(end);
	}
}

static void
put_fields(
    tri_sb *b, const char *key, const void *value, size_t len, int64_t lease)
{
	key_fields(b, key, false);
	tri_sb_printf(b, ",\"value\":\"");
	tri_sb_b64(b, value, len);
	tri_sb_printf(b, "\"");
	if (lease != 0) {
		tri_sb_printf(b, ",\"lease\":\"%lld\"", (long long)lease);
	}
}

int
tri_etcd_put(tri_etcd *e, const char *key, const void *value, size_t value_len,
    int64_t lease, int64_t *rev, tri_etcd_err *why)
{
	tri_sb b = {0};
	tri_json d;
	char *text;
	int64_t r;
	int rc;

	if (e == NULL || key == NULL || key[0] == '\0' ||
	    (value == NULL && value_len > 0)) {
		return TR_EINVAL;
	}
	tri_sb_printf(&b, "{");
	put_fields(&b, key, value != NULL ? value : "", value_len, lease);
	tri_sb_printf(&b, "}");
	if ((rc = tri_etcd_request(e, "/v3/kv/put", &b, &d, &text, why)) !=
	    TR_OK) {
		goto out;
	}
	if (tri_etcd_header_rev(&d, 0, &r) != TR_OK) {
		rc = bad_reply("put", why);
		goto out;
	}
	if (rev != NULL) {
		*rev = r;
	}
out:
	done(&d, text, &b);
	return rc;
}

/* Appends the kvs of array arr to *out. */
static int
add_kvs(const tri_json *d, uint32_t arr, tri_etcd_kvs *out)
{
	tri_json_type type = tri_json_type_of(d, arr);
	size_t n;

	if (arr == TRI_JSON_NONE) {
		return TR_OK;
	}
	if (type != TRI_JSON_ARRAY) {
		return TR_EPROTO;
	}
	n = d->tok[arr].count;
	if (n == 0) {
		return TR_OK;
	}
	tri_etcd_kv *kv = tri_realloc(out->kv, (out->n + n) * sizeof(*kv));
	if (kv == NULL) {
		return TR_ENOMEM;
	}
	out->kv = kv;
	for (uint32_t t = tri_json_first(d, arr); t != TRI_JSON_NONE;
	     t = tri_json_next(d, arr, t)) {
		int rc = tri_etcd_parse_kv(d, t, &out->kv[out->n]);
		if (rc != TR_OK) {
			return rc;
		}
		out->n++;
	}
	return TR_OK;
}

int
tri_etcd_range(tri_etcd *e, const char *key, bool prefix, tri_etcd_kvs *out,
    tri_etcd_err *why)
{
	tri_sb b = {0};
	tri_json d;
	char *text;
	int rc;

	if (out != NULL) {
		memset(out, 0, sizeof(*out));
	}
	if (e == NULL || key == NULL || out == NULL ||
	    (key[0] == '\0' && !prefix)) {
		return TR_EINVAL;
	}
	tri_sb_printf(&b, "{");
	key_fields(&b, key, prefix);
	tri_sb_printf(&b, "}");
	if ((rc = tri_etcd_request(e, "/v3/kv/range", &b, &d, &text, why)) !=
	    TR_OK) {
		goto out;
	}
	if (tri_etcd_header_rev(&d, 0, &out->rev) != TR_OK ||
	    (rc = add_kvs(&d, tri_json_get(&d, 0, "kvs"), out)) != TR_OK) {
		if (rc != TR_ENOMEM) {
			rc = bad_reply("range", why);
		}
		tri_etcd_kvs_free(out);
		goto out;
	}
out:
	done(&d, text, &b);
	return rc;
}

int
tri_etcd_delete(tri_etcd *e, const char *key, bool prefix, int64_t *deleted,
    tri_etcd_err *why)
{
	tri_sb b = {0};
	tri_json d;
	char *text;
	int64_t n;
	int rc;

	if (e == NULL || key == NULL || key[0] == '\0') {
		return TR_EINVAL;
	}
	tri_sb_printf(&b, "{");
	key_fields(&b, key, prefix);
	tri_sb_printf(&b, "}");
	rc = tri_etcd_request(e, "/v3/kv/deleterange", &b, &d, &text, why);
	if (rc != TR_OK) {
		goto out;
	}
	if (opt_int(&d, 0, "deleted", &n) != TR_OK || n < 0) {
		rc = bad_reply("delete", why);
		goto out;
	}
	if (deleted != NULL) {
		*deleted = n;
	}
out:
	done(&d, text, &b);
	return rc;
}

/* "succeeded" and the header's revision of a txn reply. */
static int
txn_result(const tri_json *d, bool *ok, int64_t *rev)
{
	uint32_t s = tri_json_get(d, 0, "succeeded");

	*ok = false;
	if ((s != TRI_JSON_NONE && tri_json_bool(d, s, ok) != TR_OK) ||
	    tri_etcd_header_rev(d, 0, rev) != TR_OK) {
		return TR_EPROTO;
	}
	return TR_OK;
}

int
tri_etcd_create(tri_etcd *e, const tri_etcd_put_op *ops, size_t n,
    int64_t lease, bool *created, tri_etcd_kvs *found, int64_t *rev,
    tri_etcd_err *why)
{
	tri_sb b = {0};
	tri_json d;
	char *text;
	int64_t r;
	int rc;

	if (found != NULL) {
		memset(found, 0, sizeof(*found));
	}
	if (e == NULL || ops == NULL || created == NULL || n == 0 || n > 8) {
		return TR_EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (ops[i].key == NULL || ops[i].key[0] == '\0' ||
		    (ops[i].value == NULL && ops[i].value_len > 0)) {
			return TR_EINVAL;
		}
	}
	tri_sb_printf(&b, "{\"compare\":[");
	for (size_t i = 0; i < n; i++) {
		tri_sb_printf(&b, "%s{", i ? "," : "");
		key_fields(&b, ops[i].key, false);
		tri_sb_printf(&b,
		    ",\"target\":\"CREATE\",\"result\":\"EQUAL\","
		    "\"create_revision\":\"0\"}");
	}
	tri_sb_printf(&b, "],\"success\":[");
	for (size_t i = 0; i < n; i++) {
		tri_sb_printf(&b, "%s{\"request_put\":{", i ? "," : "");
		put_fields(&b, ops[i].key,
		    ops[i].value != NULL ? ops[i].value : "", ops[i].value_len,
		    lease);
		tri_sb_printf(&b, "}}");
	}
	tri_sb_printf(&b, "],\"failure\":[");
	for (size_t i = 0; i < n; i++) {
		tri_sb_printf(&b, "%s{\"request_range\":{", i ? "," : "");
		key_fields(&b, ops[i].key, false);
		tri_sb_printf(&b, "}}");
	}
	tri_sb_printf(&b, "]}");
	if ((rc = tri_etcd_request(e, "/v3/kv/txn", &b, &d, &text, why)) !=
	    TR_OK) {
		goto out;
	}
	if (txn_result(&d, created, &r) != TR_OK) {
		rc = bad_reply("txn", why);
		goto out;
	}
	if (!*created && found != NULL) {
		uint32_t resp = tri_json_get(&d, 0, "responses");
		found->rev = r;
		for (uint32_t t = tri_json_first(&d, resp); t != TRI_JSON_NONE;
		     t = tri_json_next(&d, resp, t)) {
			uint32_t rr = tri_json_get(&d, t, "response_range");
			if (rr == TRI_JSON_NONE ||
			    (rc = add_kvs(&d, tri_json_get(&d, rr, "kvs"),
			         found)) != TR_OK) {
				if (rc != TR_ENOMEM) {
					rc = bad_reply("txn", why);
				}
				tri_etcd_kvs_free(found);
				goto out;
			}
		}
	}
	if (rev != NULL) {
		*rev = r;
	}
out:
	done(&d, text, &b);
	return rc;
}

int
tri_etcd_delete_if_lease(tri_etcd *e, const char *key, int64_t lease,
    bool *deleted, int64_t *rev, tri_etcd_err *why)
{
	tri_sb b = {0};
	tri_json d;
	char *text;
	int64_t r;
	int rc;

	if (e == NULL || key == NULL || key[0] == '\0' || deleted == NULL ||
	    lease == 0) {
		return TR_EINVAL;
	}
	tri_sb_printf(&b, "{\"compare\":[{");
	key_fields(&b, key, false);
	tri_sb_printf(&b,
	    ",\"target\":\"LEASE\",\"result\":\"EQUAL\",\"lease\":\"%lld\"}],"
	    "\"success\":[{\"request_delete_range\":{",
	    (long long)lease);
	key_fields(&b, key, false);
	tri_sb_printf(&b, "}}]}");
	if ((rc = tri_etcd_request(e, "/v3/kv/txn", &b, &d, &text, why)) !=
	    TR_OK) {
		goto out;
	}
	if (txn_result(&d, deleted, &r) != TR_OK) {
		rc = bad_reply("txn", why);
		goto out;
	}
	if (rev != NULL) {
		*rev = r;
	}
out:
	done(&d, text, &b);
	return rc;
}

int
tri_etcd_compact(tri_etcd *e, int64_t rev, tri_etcd_err *why)
{
	tri_sb b = {0};
	tri_json d;
	char *text;
	int rc;

	if (e == NULL || rev <= 0) {
		return TR_EINVAL;
	}
	tri_sb_printf(
	    &b, "{\"revision\":\"%lld\",\"physical\":true}", (long long)rev);
	rc = tri_etcd_request(e, "/v3/kv/compaction", &b, &d, &text, why);
	done(&d, text, &b);
	return rc;
}
