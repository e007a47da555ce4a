/*
 * http_worker.c -- the cluster example's behavior, "cluster.http": an
 * HTTP/1.1 server answering every request with "Hello from worker <n>".
 *
 * Each pool member is a forked actor running one of these on its own
 * libuv loop (tr_loop()).  They all accept on ONE listening socket: the
 * tree opened it (the YAML's `sockets:`) before the runtime started, so
 * every member, forked from the fork server, inherits it, and one
 * member's end loses none of the connections queued on it -- the
 * others accept them (Node's cluster shares its port the same way, in
 * its "shared handle" mode).
 *
 * Requests are parsed by http-parser (Debian's libhttp-parser, the
 * parser Node.js was built on).  Per connection: one allocation at
 * accept, a fixed input and output buffer, and back-pressure -- while a
 * response waits for the client to read it, the connection reads
 * nothing more.
 *
 * A member asked to stop (a rolling restart, or the tree stopping)
 * drains in its terminate callback: it stops accepting, answers the
 * request each open connection sends next with "Connection: close", and
 * closes idle ones, so that clients lose no request.
 *
 * The init argument is optional: a map whose `socket` names the tree's
 * socket to serve (default "http").  The worker number n is the suffix
 * of the member's registered name (`http.3` -> 3; 1 without one).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <http_parser.h>
#include <uv.h>

#include <troupe.h>

#include "http_worker.h"

/* Bytes read at a time, and the most that waits to be written: a
 * connection's whole buffer space (about 8 KiB), whatever the client
 * does. */
#define IN_MAX 4096
#define OUT_MAX 4096
/* The longest response we make; the parser is paused before out[] has
 * less room than this. */
#define RESP_MAX 320

/* Idle keep-alive connections are closed after this long (nginx: 75 s),
 * and so is one whose peer neither sends nor reads. */
#define IDLE_MS 60000
/* A connection is closed (gracefully: "Connection: close" on its last
 * response) after this many requests, as nginx does by default: clients
 * then reconnect, and so spread again over the members -- after a
 * rolling restart, the last member replaced would otherwise get none of
 * a busy client's long-lived connections. */
#define CONN_REQUESTS 1000
/* After our last response on a connection, how long we wait for the
 * client to close it before we do (a "lingering close": closing with
 * unread input would reset the connection and could lose the response
 * on the client's side). */
#define LINGER_MS 2000
/* Draining: how long an idle connection may stay silent before it is
 * closed, and how long the whole drain may take at most (the tree's
 * shutdown timeout must be longer; cluster.yaml gives 5000 ms). */
#define DRAIN_IDLE_MS 200
#define DRAIN_MS 3000

typedef struct server server;

typedef struct conn {
	uv_tcp_t tcp; /* first: the handle's address is the conn's */
	uv_write_t wreq;
	uv_shutdown_t sreq;
	http_parser parser;
	server *srv;
	struct conn *prev, *next;
	uint64_t last_ms; /* last read or write done: for the idle sweep */
	size_t in_off;    /* in[in_off..in_len) not parsed yet */
	size_t in_len;
	size_t out_len;  /* bytes of out[] not yet with the kernel */
	size_t hf_len;   /* length of the header field being read */
	unsigned served; /* requests answered on this connection */
	bool hf_is_host; /* ...and whether it still spells "host" */
	bool in_field;   /* between a header field and its value */
	bool has_host;   /* the request has a Host header */
	bool in_message; /* a request has begun and not ended */
	bool paused;     /* parser paused: out[] is full */
	bool writing;    /* out[] is being written (uv_write) */
	bool last;       /* our last response is in out[]: then close */
	bool lingering;  /* FIN sent; waiting for the client's close */
	char in[IN_MAX];
	char out[OUT_MAX];
} conn;

struct server {
	uv_tcp_t listener;
	uv_timer_t sweep;
	bool listening;    /* listener open */
	bool sweep_closed; /* the sweep timer's close callback ran */
	bool draining;     /* stopping: every response is the last */
	conn *conns;       /* open connections */
	unsigned nconns;
	unsigned worker;   /* n of "Hello from worker n" */
	uint64_t requests; /* answered */
	/* The two 200 responses, kept ready: [0] keep-alive, [1] close.
	 * Only the Date header changes, once a second. */
	char resp[2][RESP_MAX];
	size_t resp_len[2];
	size_t body_len;
	time_t resp_date;
};

static const char bad_request[] = "HTTP/1.1 400 Bad Request\r\n"
                                  "Content-Type: text/plain\r\n"
                                  "Content-Length: 12\r\n"
                                  "Connection: close\r\n"
                                  "\r\n"
                                  "Bad Request\n";

static void conn_feed(conn *c);

/* ------------------------------------------------------------------ */
/* Responses                                                           */

/* Rebuilds the two responses if the second changed (Date header). */
static void
refresh_responses(server *s)
{
	time_t now = time(NULL);
	char date[64], body[64];
	struct tm tm;
	int blen;

	if (now == s->resp_date) {
		return;
	}
	s->resp_date = now;
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	blen =
	    snprintf(body, sizeof(body), "Hello from worker %u\n", s->worker);
	s->body_len = (size_t)blen;
	for (int close = 0; close < 2; close++) {
		int n = snprintf(s->resp[close], RESP_MAX,
		    "HTTP/1.1 200 OK\r\n"
		    "Server: troupe-cluster\r\n"
		    "Date: %s\r\n"
		    "Content-Type: text/plain\r\n"
		    "Content-Length: %d\r\n"
		    "Connection: %s\r\n"
		    "\r\n"
		    "%s",
		    date, blen, close ? "close" : "keep-alive", body);
		s->resp_len[close] = (size_t)n; /* < RESP_MAX: see init */
	}
}

static void
append(conn *c, const char *data, size_t len)
{
	/* Room is guaranteed: the parser pauses before out[] has less
	 * than RESP_MAX free, and nothing longer is appended. */
	memcpy(c->out + c->out_len, data, len);
	c->out_len += len;
}

/* The request is malformed: answer 400 and close. */
static void
reject(conn *c)
{
	append(c, bad_request, sizeof(bad_request) - 1);
	c->last = true;
}

/* ------------------------------------------------------------------ */
/* Parser callbacks                                                    */

static int
on_message_begin(http_parser *p)
{
	conn *c = p->data;

	c->in_message = true;
	c->has_host = false;
	c->in_field = false;
	return 0;
}

static int
on_header_field(http_parser *p, const char *at, size_t len)
{
	static const char host[] = "host";
	conn *c = p->data;

	/* A field can come in pieces (split across reads). */
	if (!c->in_field) {
		c->in_field = true;
		c->hf_len = 0;
		c->hf_is_host = true;
	}
	for (size_t i = 0; i < len && c->hf_is_host; i++, c->hf_len++) {
		if (c->hf_len >= 4 || (at[i] | 0x20) != host[c->hf_len]) {
			c->hf_is_host = false;
		}
	}
	return 0;
}

static int
on_header_value(http_parser *p, const char *at, size_t len)
{
	conn *c = p->data;

	(void)at;
	(void)len;
	if (c->in_field) {
		c->in_field = false;
		c->has_host |= c->hf_is_host && c->hf_len == 4;
	}
	return 0;
}

static int
on_message_complete(http_parser *p)
{
	conn *c = p->data;
	server *s = c->srv;
	bool close;

	c->in_message = false;
	/* HTTP/1.1 requires a Host header (RFC 9112, 3.2). */
	if (p->http_major == 1 && p->http_minor >= 1 && !c->has_host) {
		reject(c);
		http_parser_pause(p, 1);
		return 0;
	}
	/* Keep-alive unless the client asked to close (or spoke HTTP/1.0
	 * without keep-alive), asked for a protocol upgrade we do not
	 * speak, we are draining, or the connection has had its share. */
	close = !http_should_keep_alive(p) || p->upgrade || s->draining ||
	    ++c->served >= CONN_REQUESTS;
	refresh_responses(s);
	append(c, s->resp[close],
	    p->method == HTTP_HEAD ? s->resp_len[close] - s->body_len :
	                             s->resp_len[close]);
	s->requests++;
	if (close) {
		c->last = true;
		http_parser_pause(p, 1); /* anything after it is ignored */
	} else if (OUT_MAX - c->out_len < RESP_MAX) {
		c->paused = true;
		http_parser_pause(p, 1); /* resumed once out[] is written */
	}
	return 0;
}

static const http_parser_settings settings = {
    .on_message_begin = on_message_begin,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_message_complete = on_message_complete,
};

/* ------------------------------------------------------------------ */
/* Connections                                                         */

static void
on_close(uv_handle_t *h)
{
	conn *c = (conn *)h;
	server *s = c->srv;

	if (c->prev != NULL) {
		c->prev->next = c->next;
	} else {
		s->conns = c->next;
	}
	if (c->next != NULL) {
		c->next->prev = c->prev;
	}
	s->nconns--;
	free(c);
}

static void
conn_close(conn *c)
{
	if (!uv_is_closing((uv_handle_t *)&c->tcp)) {
		uv_close((uv_handle_t *)&c->tcp, on_close);
	}
}

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	conn *c = (conn *)h;

	(void)suggested;
	/* Reading is on only when in[] has been parsed through. */
	*buf = uv_buf_init(c->in, IN_MAX);
}

static void
on_shutdown(uv_shutdown_t *req, int status)
{
	if (status < 0) {
		conn_close(req->data);
	}
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);

static void
on_write(uv_write_t *req, int status)
{
	conn *c = req->data;

	c->writing = false;
	if (status < 0) {
		conn_close(c);
		return;
	}
	c->out_len = 0;
	c->last_ms = uv_now(c->tcp.loop);
	if (c->paused) {
		c->paused = false;
		http_parser_pause(&c->parser, 0);
	}
	conn_feed(c); /* the rest of in[], then reading again */
}

/*
 * Hands out[] to the kernel: at once if it takes it all (the usual
 * case), else through uv_write, and then the connection reads nothing
 * until on_write.  Returns false if the connection failed.
 */
static bool
conn_flush(conn *c)
{
	uv_buf_t b = uv_buf_init(c->out, (unsigned)c->out_len);
	int n;

	if (c->out_len == 0 || c->writing) {
		return true;
	}
	n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
	if (n == UV_EAGAIN) {
		n = 0;
	} else if (n < 0) {
		conn_close(c);
		return false;
	}
	if ((size_t)n == c->out_len) {
		c->out_len = 0;
		return true;
	}
	memmove(c->out, c->out + n, c->out_len - (size_t)n);
	c->out_len -= (size_t)n;
	b = uv_buf_init(c->out, (unsigned)c->out_len);
	c->wreq.data = c;
	if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, on_write) != 0) {
		conn_close(c);
		return false;
	}
	c->writing = true;
	return true;
}

/*
 * Parses what is left of in[], writes the answers, and decides what the
 * connection waits for next: the write to finish, the client's close,
 * or more input.
 */
static void
conn_feed(conn *c)
{
	while (c->in_off < c->in_len && !c->last) {
		size_t n = http_parser_execute(&c->parser, &settings,
		    c->in + c->in_off, c->in_len - c->in_off);
		enum http_errno err = HTTP_PARSER_ERRNO(&c->parser);

		c->in_off += n;
		if (err == HPE_PAUSED && c->paused) {
			/* out[] is full: send it before parsing on. */
			if (!conn_flush(c)) {
				return;
			}
			if (c->writing) {
				break;
			}
			c->paused = false;
			http_parser_pause(&c->parser, 0);
		} else if (err != HPE_OK && err != HPE_PAUSED) {
			reject(c);
		}
	}
	if (!conn_flush(c)) {
		return;
	}
	if (c->writing) {
		uv_read_stop((uv_stream_t *)&c->tcp);
	} else if (c->last && !c->lingering) {
		/* All is written: send our FIN, then read (and drop) until
		 * the client closes its side, or the sweep gives up after
		 * LINGER_MS. */
		c->lingering = true;
		c->last_ms = uv_now(c->tcp.loop);
		c->in_off = c->in_len = 0;
		c->sreq.data = c;
		if (uv_shutdown(
		        &c->sreq, (uv_stream_t *)&c->tcp, on_shutdown) != 0) {
			conn_close(c);
			return;
		}
		uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
	} else if (!c->last) {
		c->in_off = c->in_len = 0;
		uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
	}
}

static void
on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
	conn *c = (conn *)st;

	(void)buf;
	if (nread < 0) {
		/* The client closed (or the connection failed).  A response
		 * still being written is not waited for: nobody reads it
		 * unless the client only half-closed, which HTTP/1.1
		 * clients do not do. */
		conn_close(c);
		return;
	}
	if (nread == 0 || c->lingering) {
		return; /* nothing, or input after our last response */
	}
	c->last_ms = uv_now(c->tcp.loop);
	c->in_off = 0;
	c->in_len = (size_t)nread;
	conn_feed(c);
}

static void
free_handle(uv_handle_t *h)
{
	free(h); /* a conn: its handle comes first */
}

static void
on_connection(uv_stream_t *listener, int status)
{
	server *s = listener->data;
	conn *c;

	if (status < 0) {
		fprintf(stderr, "cluster: worker %u: accept: %s\n", s->worker,
		    uv_strerror(status));
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		return; /* stays queued: another member may take it */
	}
	c->srv = s;
	uv_tcp_init(listener->loop, &c->tcp);
	if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
		/* Another member took it first: they all watch the socket. */
		uv_close((uv_handle_t *)&c->tcp, free_handle);
		return;
	}
	uv_tcp_nodelay(&c->tcp, 1);
	http_parser_init(&c->parser, HTTP_REQUEST);
	c->parser.data = c;
	c->last_ms = uv_now(listener->loop);
	c->next = s->conns;
	if (s->conns != NULL) {
		s->conns->prev = c;
	}
	s->conns = c;
	s->nconns++;
	uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

/* Closes connections that have been quiet too long (see IDLE_MS,
 * LINGER_MS, DRAIN_IDLE_MS). */
static void
on_sweep(uv_timer_t *t)
{
	server *s = t->data;
	uint64_t now = uv_now(t->loop);

	for (conn *c = s->conns, *next; c != NULL; c = next) {
		bool busy = c->in_message || c->writing || c->paused;
		uint64_t limit = c->lingering ? LINGER_MS :
		    s->draining && !busy      ? DRAIN_IDLE_MS :
		                                IDLE_MS;
		next = c->next;
		if (now - c->last_ms >= limit) {
			conn_close(c);
		}
	}
}

/* ------------------------------------------------------------------ */
/* The behavior                                                        */

/* n of "worker n": the suffix of our registered name ("http.3"). */
static unsigned
worker_number(void)
{
	tr_actor_info info;
	const char *dot;

	char *end;
	unsigned long n;

	if (tr_actor_info_get(tr_self(), &info) != TR_OK ||
	    (dot = strrchr(info.name, '.')) == NULL) {
		return 1;
	}
	n = strtoul(dot + 1, &end, 10);
	return *end == '\0' && n > 0 && n <= 1000000 ? (unsigned)n : 1;
}

/* The socket name from the init argument {socket: NAME}, into buf. */
static void
socket_name(tr_msg *arg, char *buf, size_t len)
{
	msgpack_object o;

	snprintf(buf, len, "http");
	if (arg == NULL || tr_msg_body(arg, &o) != TR_OK ||
	    o.type != MSGPACK_OBJECT_MAP) {
		return;
	}
	for (uint32_t i = 0; i < o.via.map.size; i++) {
		msgpack_object *k = &o.via.map.ptr[i].key;
		msgpack_object *v = &o.via.map.ptr[i].val;
		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == 6 &&
		    memcmp(k->via.str.ptr, "socket", 6) == 0 &&
		    v->type == MSGPACK_OBJECT_STR) {
			snprintf(buf, len, "%.*s", (int)v->via.str.size,
			    v->via.str.ptr);
		}
	}
}

static int
http_init(void *state, tr_msg *arg)
{
	server *s = state;
	uv_loop_t *loop = (uv_loop_t *)tr_loop();
	char name[TR_NAME_MAX + 1];
	int rv, fd, own;

	/* The longest response must fit RESP_MAX (worker numbers are at
	 * most 10 digits, the date 29 characters). */
	_Static_assert(RESP_MAX > 200, "RESP_MAX too small");
	_Static_assert(OUT_MAX >= 2 * RESP_MAX, "OUT_MAX too small");

	s->worker = worker_number();
	socket_name(arg, name, sizeof(name));
	if ((rv = tr_tree_socket(name, &fd)) != TR_OK) {
		fprintf(stderr, "cluster: worker %u: no socket '%s': %s\n",
		    s->worker, name, tr_strerror(rv));
		return rv;
	}
	/* Our own descriptor of the shared socket: closing it (uv_close)
	 * leaves the tree's, and every other member's, open. */
	if ((own = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0) {
		return TR_ESYSTEM;
	}
	uv_tcp_init(loop, &s->listener);
	s->listener.data = s;
	if ((rv = uv_tcp_open(&s->listener, own)) != 0 ||
	    (rv = uv_listen((uv_stream_t *)&s->listener, 511, on_connection)) !=
	        0) {
		fprintf(stderr, "cluster: worker %u: listen: %s\n", s->worker,
		    uv_strerror(rv));
		uv_close((uv_handle_t *)&s->listener, NULL);
		return TR_ESYSTEM;
	}
	s->listening = true;
	uv_timer_init(loop, &s->sweep);
	s->sweep.data = s;
	uv_timer_start(&s->sweep, on_sweep, 1000, 1000);
	refresh_responses(s);
	return 0;
}

static int
http_handle(void *state, tr_msg *msg)
{
	(void)state;
	(void)msg;
	return 0; /* this actor talks HTTP, not messages */
}

/*
 * The actor is ending.  The runtime calls this after its loop stopped
 * and closes whatever handles are left once it returns, so this is the
 * place to drain: stop accepting (the connections queued on the shared
 * socket wait for the other members), answer each connection's next
 * request with "Connection: close", close idle ones, and turn the loop
 * ourselves until they are all closed or DRAIN_MS is over.
 */
static void
on_sweep_closed(uv_handle_t *h)
{
	server *s = h->data;

	s->sweep_closed = true;
}

static void
http_terminate(void *state, tr_reason why)
{
	server *s = state;
	uv_loop_t *loop = s->listener.loop;
	uint64_t deadline;
	uint64_t drained;

	(void)why;
	if (!s->listening) {
		return;
	}
	s->listening = false;
	s->draining = true;
	drained = s->nconns;
	uv_close((uv_handle_t *)&s->listener, NULL);
	uv_update_time(loop);
	/* Idle connections get DRAIN_IDLE_MS from now: a request may be
	 * on its way. */
	for (conn *c = s->conns; c != NULL; c = c->next) {
		c->last_ms = uv_now(loop);
	}
	uv_timer_start(&s->sweep, on_sweep, 20, 20);
	deadline = uv_now(loop) + DRAIN_MS;
	while (s->conns != NULL && uv_now(loop) < deadline) {
		uv_run(loop, UV_RUN_ONCE);
	}
	for (conn *c = s->conns; c != NULL; c = c->next) {
		conn_close(c);
	}
	uv_close((uv_handle_t *)&s->sweep, on_sweep_closed);
	/* Run the close callbacks (they free the connections): closing
	 * handles make an iteration of the loop return at once. */
	while (s->conns != NULL || !s->sweep_closed) {
		uv_run(loop, UV_RUN_NOWAIT);
	}
	fprintf(stderr,
	    "cluster: worker %u (pid %d) stopped: %llu request%s answered, "
	    "%llu connection%s drained\n",
	    s->worker, (int)getpid(), (unsigned long long)s->requests,
	    s->requests == 1 ? "" : "s", (unsigned long long)drained,
	    drained == 1 ? "" : "s");
}

static const tr_behavior cluster_http = {
    .name = CLUSTER_HTTP_BEHAVIOR,
    .state_size = sizeof(server),
    .init = http_init,
    .handle = http_handle,
    .terminate = http_terminate,
};

int
cluster_http_register(void)
{
	return tr_behavior_register(&cluster_http);
}
