/*
 * remote_floors.c -- the raw floors of troupe's distribution: nng over
 * tcp:// and tls+tcp:// between two hosts (in bench/run.sh remote: two
 * network namespaces on a bridge), no troupe code in the path.
 *
 *   remote_floors --serve URL [TLS options]       one host
 *   remote_floors --client URL [TLS options] [counts]   the other
 *
 * TLS options (tls+tcp:// only; both ends need all of --ca and --cert):
 *   --ca FILE --cert FILE [--key FILE] [--server-name NAME]
 * (--cert holding the key too when --key is absent; --server-name: what
 * the client expects the server's certificate to name).  Authentication
 * is required both ways, as between troupe nodes.
 *
 * The shape is the one troupe's node links use: one push -> pull
 * connection per direction, each a TCP (or TLS) connection of its own.
 * The server listens with a pull socket on URL (client -> server) and
 * a push socket on URL's port + 1 (server -> client); the client dials
 * both.  (In troupe each node dials the other's pull socket; which end
 * dialed makes no difference to the figures.)
 *
 * Messages client -> server, first byte the kind:
 *   'H'            hello: answered 'H' (both connections work)
 *   'E' ...        round trip: sent back unchanged (64 bytes)
 *   'D' ...        one-way data: counted, not answered
 *   'P' + u64 n    answered 'C' + u64 count once the data count since
 *                  the last 'P' is n (a connection keeps order: at
 *                  once, if nothing was lost)
 *   'Q'            quit: answered 'Q'; the server exits 0 once the
 *                  client's connection is gone (the client exits on the
 *                  answer), or after QUIT_MS
 *
 * Figures (client side, JSON lines as bench/README.md describes):
 *   remote_roundtrip  64-byte 'E' there and back, one at a time:
 *                     median / p99 over --rounds
 *   remote_oneway     --n messages of 64 bytes and --n4k of 4 KiB, sent
 *                     as fast as push takes them; msgs/s from the first
 *                     send to the 'C' answer
 *   remote_bulk       --bulk-n messages of 1 MiB, the same way; MB/s
 *                     (10^6 bytes) of message bodies
 * impl: nng_tcp or nng_tls.  Exit: 0, 1 if a figure failed, 2 for bad
 * arguments.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>
#include <nng/supplemental/tls/tls.h>

#include "bench.h"
#include "remote_opts.h"

/* Socket buffers, as the other floors and troupe's default mailbox. */
#define SOCKBUF 1024
/* Largest message the pull sockets take: 1 MiB bodies and a little. */
#define RECVMAX (2u * 1024u * 1024u)
#define RT_BYTES 64
#define SMALL_BYTES 64
#define MID_BYTES 4096
#define BULK_BYTES (1024u * 1024u)
/* How long the client waits for the server to answer its hello (the
 * server may still be starting: the dialers retry every REDIAL_MS). */
#define HELLO_MS 15000
#define REDIAL_MS 20
/* Longest any one answer may take before it counts as a failure. */
#define WAIT_MS 120000
/* How long the ends wait for each other to go. */
#define QUIT_MS 5000

typedef remote_opts opts;

static int
nng_check(int rv, const char *what)
{
	if (rv != 0)
		bench_fail("remote floor: %s: %s", what, nng_strerror(rv));
	return rv;
}

static bool
is_tls(const char *url)
{
	return strncmp(url, "tls+tcp://", 10) == 0;
}

/* URL with its port plus one: the second connection's address. */
static int
next_port(const char *url, char *out, size_t len)
{
	const char *colon = strrchr(url, ':');
	char *end;
	long port;

	if (colon == NULL || colon[1] == '\0')
		return -1;
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 1 || port > 65534)
		return -1;
	snprintf(out, len, "%.*s:%ld", (int)(colon - url), url, port + 1);
	return 0;
}

static char *
slurp(const char *file)
{
	FILE *f = fopen(file, "r");
	char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = calloc(1, (size_t)n + 1)) != NULL &&
	    fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* The TLS configuration of one end, or NULL after bench_fail. */
static nng_tls_config *
tls_config(const opts *o, nng_tls_mode mode)
{
	nng_tls_config *cfg;
	int rv;

	if (nng_check(nng_tls_config_alloc(&cfg, mode), "tls config") != 0)
		return NULL;
	rv = nng_tls_config_auth_mode(cfg, NNG_TLS_AUTH_MODE_REQUIRED);
	if (rv == 0 && (rv = nng_tls_config_ca_file(cfg, o->ca)) != 0)
		bench_fail(
		    "remote floor: CA file %s: %s", o->ca, nng_strerror(rv));
	if (rv == 0 && o->key == NULL &&
	    (rv = nng_tls_config_cert_key_file(cfg, o->cert, NULL)) != 0)
		bench_fail("remote floor: cert+key file %s: %s", o->cert,
		    nng_strerror(rv));
	if (rv == 0 && o->key != NULL) {
		char *crt = slurp(o->cert);
		char *key = slurp(o->key);

		rv = crt == NULL || key == NULL ?
		    NNG_ENOENT :
		    nng_tls_config_own_cert(cfg, crt, key, NULL);
		if (rv != 0)
			bench_fail("remote floor: cert %s, key %s: %s", o->cert,
			    o->key, nng_strerror(rv));
		free(crt);
		free(key);
	}
	if (rv == 0 && o->server_name != NULL &&
	    (rv = nng_tls_config_server_name(cfg, o->server_name)) != 0)
		bench_fail("remote floor: server name: %s", nng_strerror(rv));
	if (rv != 0) {
		nng_tls_config_free(cfg);
		return NULL;
	}
	return cfg;
}

/* Opens a push or pull socket and listens on (server) or dials (client)
 * url.  A client's dial is asynchronous and retried every REDIAL_MS
 * until the server is there. */
static int
open_end(const opts *o, bool push, const char *url, nng_socket *s)
{
	nng_tls_config *cfg = NULL;
	nng_listener l;
	nng_dialer d;
	int rv;

	rv = push ? nng_push0_open(s) : nng_pull0_open(s);
	if (nng_check(rv, "open socket") != 0)
		return rv;
	if (push)
		rv = nng_socket_set_int(*s, NNG_OPT_SENDBUF, SOCKBUF);
	else if ((rv = nng_socket_set_int(*s, NNG_OPT_RECVBUF, SOCKBUF)) == 0)
		rv = nng_socket_set_size(*s, NNG_OPT_RECVMAXSZ, RECVMAX);
	if (rv == 0)
		rv = nng_socket_set_ms(*s, NNG_OPT_RECONNMINT, REDIAL_MS);
	if (rv == 0)
		rv = nng_socket_set_ms(*s, NNG_OPT_RECONNMAXT, REDIAL_MS);
	if (nng_check(rv, "socket options") != 0)
		return rv;
	if (is_tls(url) &&
	    (cfg = tls_config(o,
	         o->serve ? NNG_TLS_MODE_SERVER : NNG_TLS_MODE_CLIENT)) == NULL)
		return NNG_ECRYPTO;
	if (o->serve) {
		rv = nng_listener_create(&l, *s, url);
		if (rv == 0 && cfg != NULL)
			rv = nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, cfg);
		if (rv == 0)
			rv = nng_listener_start(l, 0);
	} else {
		rv = nng_dialer_create(&d, *s, url);
		if (rv == 0 && cfg != NULL)
			rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, cfg);
		if (rv == 0)
			rv = nng_dialer_start(d, NNG_FLAG_NONBLOCK);
	}
	if (cfg != NULL)
		nng_tls_config_free(cfg); /* the listener or dialer holds it */
	if (rv != 0)
		bench_fail("remote floor: %s %s: %s",
		    o->serve ? "listen on" : "dial", url, nng_strerror(rv));
	return rv;
}

static int
send_kind(nng_socket s, char kind, size_t size, uint64_t v)
{
	nng_msg *m;
	int rv;

	if (size < 1 + sizeof(v))
		size = 1 + sizeof(v);
	if ((rv = nng_msg_alloc(&m, size)) != 0)
		return rv;
	/* The rest of the body is left as nng_msg_alloc made it: what a
	 * sender fills in is its own cost, not the link's. */
	((char *)nng_msg_body(m))[0] = kind;
	memcpy((char *)nng_msg_body(m) + 1, &v, sizeof(v));
	if ((rv = nng_sendmsg(s, m, 0)) != 0)
		nng_msg_free(m);
	return rv;
}

static char
kind_of(nng_msg *m, uint64_t *v)
{
	*v = 0;
	if (nng_msg_len(m) == 0)
		return '\0';
	if (nng_msg_len(m) >= 1 + sizeof(*v))
		memcpy(v, (char *)nng_msg_body(m) + 1, sizeof(*v));
	return ((char *)nng_msg_body(m))[0];
}

/* ------------------------------------------------------------------ */
/* Server                                                              */
/* ------------------------------------------------------------------ */

/*
 * Neither end calls nng_close at the end: with nng 1.5.2, nng_close of a
 * tls+tcp push socket whose last message was still on its way hung for
 * good (seen here: the client's close after its 'Q').  So the ends say
 * goodbye by message ('Q' and its answer) and by the connection going
 * (the server waits for its pipe's removal), then exit; the process's
 * end closes the connections.
 */
static pthread_mutex_t gone_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gone_cv = PTHREAD_COND_INITIALIZER;
static bool gone;

/* On an nng thread: the client's connection was removed. */
static void
on_pipe_gone(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	(void)p;
	(void)ev;
	(void)arg;
	pthread_mutex_lock(&gone_mtx);
	gone = true;
	pthread_cond_broadcast(&gone_cv);
	pthread_mutex_unlock(&gone_mtx);
}

/* Answers 'Q' and waits (bounded) for the client to go. */
static int
quit(nng_socket out)
{
	struct timespec ts;

	if (nng_check(send_kind(out, 'Q', 0, 0), "quit answer") != 0)
		return 1;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += QUIT_MS / 1000;
	pthread_mutex_lock(&gone_mtx);
	while (!gone && pthread_cond_timedwait(&gone_cv, &gone_mtx, &ts) == 0) {
	}
	pthread_mutex_unlock(&gone_mtx);
	return 0;
}

/*
 * The server's work is done in its receive callback, on an nng thread,
 * as troupe's inboxes do (transport/socket.c): no hand-over to another
 * thread per message, so the floor is the cheapest raw nng round trip.
 * The answers go with nng_sendmsg, which does not wait: the push socket
 * has room (one echo at a time; 'C', 'H' and 'Q' alone).
 */
typedef struct server {
	nng_socket in, out;
	nng_aio *aio;
	uint64_t count;
	int result; /* -1 while serving; then the exit status */
} server;

static void
server_done(server *sv, int status)
{
	pthread_mutex_lock(&gone_mtx);
	sv->result = status;
	pthread_cond_broadcast(&gone_cv);
	pthread_mutex_unlock(&gone_mtx);
}

/* On an nng thread: one message from the client. */
static void
server_cb(void *arg)
{
	server *sv = arg;
	nng_msg *m;
	uint64_t v;
	int rv;

	if ((rv = nng_aio_result(sv->aio)) != 0) {
		nng_check(rv, "server receive");
		server_done(sv, 1);
		return;
	}
	m = nng_aio_get_msg(sv->aio);
	switch (kind_of(m, &v)) {
	case 'D':
		sv->count++;
		nng_msg_free(m);
		break;
	case 'E':
		/* The same message goes back: no copy. */
		if ((rv = nng_sendmsg(sv->out, m, 0)) != 0) {
			nng_msg_free(m);
			nng_check(rv, "server echo");
			server_done(sv, 1);
			return;
		}
		break;
	case 'H':
		nng_msg_free(m);
		if (nng_check(send_kind(sv->out, 'H', 0, 0), "hello") != 0) {
			server_done(sv, 1);
			return;
		}
		break;
	case 'P':
		nng_msg_free(m);
		if (sv->count != v)
			fprintf(stderr,
			    "remote_floors: server counted %llu of %llu\n",
			    (unsigned long long)sv->count,
			    (unsigned long long)v);
		if (nng_check(send_kind(sv->out, 'C', 0, sv->count), "count") !=
		    0) {
			server_done(sv, 1);
			return;
		}
		sv->count = 0;
		break;
	case 'Q':
		nng_msg_free(m);
		server_done(sv, 0);
		return;
	default:
		nng_msg_free(m);
		fprintf(stderr, "remote_floors: server: unknown message\n");
		server_done(sv, 1);
		return;
	}
	nng_recv_aio(sv->in, sv->aio);
}

static int
serve(const opts *o)
{
	char url2[256];
	server sv = {.result = -1};
	int status;

	if (next_port(o->url, url2, sizeof(url2)) != 0) {
		fprintf(stderr, "remote_floors: no port in %s\n", o->url);
		return 2;
	}
	if (open_end(o, false, o->url, &sv.in) != 0 ||
	    open_end(o, true, url2, &sv.out) != 0 ||
	    nng_check(nng_pipe_notify(
	                  sv.in, NNG_PIPE_EV_REM_POST, on_pipe_gone, NULL),
	        "pipe notify") != 0 ||
	    nng_check(nng_aio_alloc(&sv.aio, server_cb, &sv), "aio") != 0)
		return 1;
	fprintf(stderr, "remote_floors: serving on %s and %s\n", o->url, url2);
	nng_recv_aio(sv.in, sv.aio);
	pthread_mutex_lock(&gone_mtx);
	while (sv.result < 0)
		pthread_cond_wait(&gone_cv, &gone_mtx);
	status = sv.result;
	pthread_mutex_unlock(&gone_mtx);
	if (status == 0)
		status = quit(sv.out);
	return status;
}

/* ------------------------------------------------------------------ */
/* Client                                                              */
/* ------------------------------------------------------------------ */

typedef struct link {
	nng_socket up;   /* push: client -> server */
	nng_socket down; /* pull: server -> client */
	const char *impl;
} link;

/* Receives one message of kind k; its u64 in *v. */
static int
recv_kind(link *l, char k, uint64_t *v, nng_msg **keep)
{
	nng_msg *m;
	int rv;

	if ((rv = nng_recvmsg(l->down, &m, 0)) != 0)
		return rv;
	if (kind_of(m, v) != k) {
		nng_msg_free(m);
		bench_fail("remote floor: expected '%c' from the server", k);
		return NNG_EPROTO;
	}
	if (keep != NULL)
		*keep = m;
	else
		nng_msg_free(m);
	return 0;
}

static int
hello(link *l, bool tls)
{
	nng_msg *m;
	uint64_t v;
	bool verified = false;
	int rv;

	nng_socket_set_ms(l->down, NNG_OPT_RECVTIMEO, HELLO_MS);
	if (nng_check(send_kind(l->up, 'H', 0, 0), "hello") != 0)
		return -1;
	if ((rv = recv_kind(l, 'H', &v, &m)) != 0) {
		bench_fail("remote floor: no hello from the server within %d "
		           "ms: %s",
		    HELLO_MS, nng_strerror(rv));
		return -1;
	}
	/* The figures are worth something only if TLS did authenticate. */
	if (tls &&
	    (nng_pipe_get_bool(
	         nng_msg_get_pipe(m), NNG_OPT_TLS_VERIFIED, &verified) != 0 ||
	        !verified)) {
		nng_msg_free(m);
		bench_fail("remote floor: the server's TLS is not verified");
		return -1;
	}
	nng_msg_free(m);
	nng_socket_set_ms(l->down, NNG_OPT_RECVTIMEO, WAIT_MS);
	return 0;
}

static int
roundtrip(link *l, uint64_t rounds)
{
	uint64_t warm = rounds / 10 + 1, i;
	uint64_t *samples = calloc(rounds, sizeof(*samples));
	int rv = 0;

	if (samples == NULL) {
		bench_fail("remote floor: out of memory");
		return -1;
	}
	for (i = 0; i < warm + rounds && rv == 0; i++) {
		uint64_t t0 = bench_now_ns(), v;

		rv = send_kind(l->up, 'E', RT_BYTES, i);
		if (rv == 0)
			rv = recv_kind(l, 'E', &v, NULL);
		if (rv == 0 && v != i) {
			bench_fail("remote floor: echo %llu came back as %llu",
			    (unsigned long long)i, (unsigned long long)v);
			rv = NNG_EPROTO;
		}
		if (i >= warm)
			samples[i - warm] = bench_now_ns() - t0;
	}
	if (nng_check(rv, "round trip") == 0)
		bench_print_lat("remote_roundtrip", l->impl, bench_is_pinned(),
		    bench_lat_of(samples, rounds), RT_BYTES);
	free(samples);
	return rv == 0 ? 0 : -1;
}

/* n messages of size bytes, then 'P': the elapsed time in *secs. */
static int
flood(link *l, uint64_t n, size_t size, double *secs)
{
	uint64_t t0 = bench_now_ns(), i, count;
	int rv = 0;

	for (i = 0; i < n && rv == 0; i++)
		rv = send_kind(l->up, 'D', size, i);
	if (rv == 0)
		rv = send_kind(l->up, 'P', 0, n);
	if (rv == 0)
		rv = recv_kind(l, 'C', &count, NULL);
	*secs = (double)(bench_now_ns() - t0) / 1e9;
	if (nng_check(rv, "one-way") != 0)
		return -1;
	if (count != n) {
		bench_fail("remote floor: the server counted %llu of %llu",
		    (unsigned long long)count, (unsigned long long)n);
		return -1;
	}
	return 0;
}

static int
oneway(link *l, uint64_t n, size_t size)
{
	double secs;

	if (flood(l, n / 10 + 1, size, &secs) != 0 ||
	    flood(l, n, size, &secs) != 0)
		return -1;
	if (size == BULK_BYTES) {
		double mbps = (double)n * (double)size / secs / 1e6;

		if (!(mbps > 0))
			bench_fail(
			    "remote_bulk/%s: figure is %g", l->impl, mbps);
		printf("{\"bench\":\"remote_bulk\",\"impl\":\"%s\","
		       "\"pinned\":%s,\"mb_per_s\":%.1f,\"msgs_per_s\":%.1f,"
		       "\"n\":%llu,\"body_bytes\":%zu,\"elapsed_s\":%.4f}\n",
		    l->impl, bench_is_pinned() ? "true" : "false", mbps,
		    (double)n / secs, (unsigned long long)n, size, secs);
		fflush(stdout);
	} else {
		bench_print_rate("remote_oneway", l->impl, bench_is_pinned(),
		    (double)n / secs, n, size, secs);
	}
	return 0;
}

static int
client(const opts *o)
{
	char url2[256];
	link l;
	int bad = 0;

	if (next_port(o->url, url2, sizeof(url2)) != 0) {
		fprintf(stderr, "remote_floors: no port in %s\n", o->url);
		return 2;
	}
	l.impl = is_tls(o->url) ? "nng_tls" : "nng_tcp";
	if (open_end(o, true, o->url, &l.up) != 0 ||
	    open_end(o, false, url2, &l.down) != 0 || hello(&l, is_tls(o->url)))
		return 1;
	fprintf(stderr, "remote_floors: %s: connected\n", l.impl);
	bad |= roundtrip(&l, o->rounds);
	bad |= oneway(&l, o->n, SMALL_BYTES);
	bad |= oneway(&l, o->n4k, MID_BYTES);
	bad |= oneway(&l, o->bulk_n, BULK_BYTES);
	/* Goodbye (see above the server): 'Q', its answer, exit. */
	nng_socket_set_ms(l.down, NNG_OPT_RECVTIMEO, QUIT_MS);
	if (nng_check(send_kind(l.up, 'Q', 0, 0), "quit") == 0) {
		uint64_t v;

		nng_check(recv_kind(&l, 'Q', &v, NULL), "quit answer");
	}
	return bad || bench_failed() ? 1 : 0;
}

int
main(int argc, char **argv)
{
	opts o;
	int rv;

	if ((rv = remote_opts_parse(argc, argv, "remote_floors", &o)) >= 0) {
		return rv;
	}
	return o.serve ? serve(&o) : client(&o);
}
