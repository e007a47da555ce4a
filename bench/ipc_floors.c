/*
 * ipc_floors.c -- the raw figures that troupe's process placements are
 * measured against: nng over ipc:// between two processes, no troupe
 * code in the path.
 *
 * The peer process is this program exec'd afresh (posix_spawn of
 * /proc/self/exe with --floor-peer), never a fork of the benchmark
 * process: that one has used nng, and nng is not fork-safe.  The
 * benchmark process listens on three ipc paths in a private directory
 * under /tmp; the peer dials them:
 *
 *   data  bench push -> peer pull   one-way payload (64 bytes), received
 *                                   by a self-re-arming aio callback that
 *                                   counts (as the inproc floor)
 *   req   bench push -> peer pull   control and round-trip requests,
 *                                   read by the peer's main thread
 *   rep   peer push -> bench pull   hello, phase done, echoes
 *
 * Requests on req (first byte): 'P' + u64 total: answer 'D' + u64 count
 * once the data count reached total; 'E' + u64: sent back unchanged
 * (the round trip: 9 bytes, as troupe's echo body); 'Q': quit.
 *
 *  - oneway nng_ipc_aio:      n data messages, then 'P'; timed from the
 *                             first send to the 'D' (troupe's one-way
 *                             figure likewise ends with a call);
 *  - roundtrip nng_ipc_pushpull: one 'E' at a time, blocking on both
 *                             sides (as the inproc nng_pushpull floor).
 */
#define _GNU_SOURCE /* mkdtemp */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>

#include "placement.h"

extern char **environ;

/* Socket buffers, as the inproc floors and troupe's default mailbox. */
#define IPC_SOCKBUF 1024
/* Longest a step may take before it counts as a failure, not a hang. */
#define IPC_WAIT_MS 60000
/* How long the peer may take to connect and say hello. */
#define IPC_HELLO_MS 10000
/* Round-trip request / echo size: kind byte + u64. */
#define IPC_RT_BYTES 9

static int
nng_check(int rv, const char *what)
{
	if (rv != 0)
		bench_fail("ipc floor: %s: %s", what, nng_strerror(rv));
	return rv;
}

static void
urls(const char *dir, char *data, char *req, char *rep, size_t len)
{
	snprintf(data, len, "ipc://%s/data", dir);
	snprintf(req, len, "ipc://%s/req", dir);
	snprintf(rep, len, "ipc://%s/rep", dir);
}

/* A message of kind k with an optional u64 after it. */
static int
msg_kind(nng_msg **m, char k, bool with_u64, uint64_t v)
{
	int rv = nng_msg_alloc(m, with_u64 ? 1 + sizeof(v) : 1);

	if (rv != 0)
		return rv;
	((char *)nng_msg_body(*m))[0] = k;
	if (with_u64)
		memcpy((char *)nng_msg_body(*m) + 1, &v, sizeof(v));
	return 0;
}

static int
send_kind(nng_socket s, char k, bool with_u64, uint64_t v)
{
	nng_msg *m;
	int rv;

	if ((rv = msg_kind(&m, k, with_u64, v)) != 0)
		return rv;
	if ((rv = nng_sendmsg(s, m, 0)) != 0)
		nng_msg_free(m);
	return rv;
}

/* Reads a message's kind and u64 (0 if it has none). */
static char
read_kind(nng_msg *m, uint64_t *v)
{
	*v = 0;
	if (nng_msg_len(m) == 0)
		return '\0';
	if (nng_msg_len(m) >= 1 + sizeof(*v))
		memcpy(v, (char *)nng_msg_body(m) + 1, sizeof(*v));
	return ((char *)nng_msg_body(m))[0];
}

/* ------------------------------------------------------------------ */
/* The peer                                                            */
/* ------------------------------------------------------------------ */

struct peer_sink {
	nng_socket pull;
	nng_aio *aio;
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	uint64_t count;
	int err;
};

/* On an nng task thread: count, re-arm. */
static void
peer_sink_cb(void *arg)
{
	struct peer_sink *s = arg;
	int rv = nng_aio_result(s->aio);

	pthread_mutex_lock(&s->mtx);
	if (rv != 0) {
		s->err = rv;
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mtx);
		return;
	}
	s->count++;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mtx);
	nng_msg_free(nng_aio_get_msg(s->aio));
	nng_recv_aio(s->pull, s->aio);
}

static int
peer_fail(const char *what, int rv)
{
	fprintf(stderr, "bench floor peer: %s: %s\n", what, nng_strerror(rv));
	return 1;
}

int
place_floor_peer_main(int argc, char **argv)
{
	char data[256], req[256], rep[256];
	struct peer_sink s = {0};
	nng_socket dpull, rpull, rpush;
	long ppid;
	int rv, status = 1;

	if (argc != 4 || (ppid = strtol(argv[3], NULL, 10)) <= 1) {
		fprintf(stderr, "bench floor peer: bad arguments\n");
		return 2;
	}
	/* Die with the benchmark, whatever happens to it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != (pid_t)ppid)
		return 1;
	urls(argv[2], data, req, rep, sizeof(data));
	pthread_mutex_init(&s.mtx, NULL);
	pthread_cond_init(&s.cv, NULL);

	if ((rv = nng_pull0_open(&dpull)) != 0 ||
	    (rv = nng_socket_set_int(dpull, NNG_OPT_RECVBUF, IPC_SOCKBUF)) !=
	        0 ||
	    (rv = nng_dial(dpull, data, NULL, 0)) != 0)
		return peer_fail("data socket", rv);
	if ((rv = nng_pull0_open(&rpull)) != 0 ||
	    (rv = nng_socket_set_int(rpull, NNG_OPT_RECVBUF, IPC_SOCKBUF)) !=
	        0 ||
	    (rv = nng_dial(rpull, req, NULL, 0)) != 0)
		return peer_fail("req socket", rv);
	if ((rv = nng_push0_open(&rpush)) != 0 ||
	    (rv = nng_socket_set_int(rpush, NNG_OPT_SENDBUF, IPC_SOCKBUF)) !=
	        0 ||
	    (rv = nng_dial(rpush, rep, NULL, 0)) != 0)
		return peer_fail("rep socket", rv);
	if ((rv = nng_aio_alloc(&s.aio, peer_sink_cb, &s)) != 0)
		return peer_fail("nng_aio_alloc", rv);
	s.pull = dpull;
	nng_recv_aio(dpull, s.aio);
	if ((rv = send_kind(rpush, 'H', false, 0)) != 0)
		return peer_fail("hello", rv);

	for (;;) {
		nng_msg *m;
		uint64_t v, count;
		int err;

		if ((rv = nng_recvmsg(rpull, &m, 0)) != 0) {
			peer_fail("receive request", rv);
			break;
		}
		switch (read_kind(m, &v)) {
		case 'E':
			if ((rv = nng_sendmsg(rpush, m, 0)) != 0) {
				nng_msg_free(m);
				peer_fail("echo", rv);
				goto out;
			}
			continue;
		case 'P':
			nng_msg_free(m);
			pthread_mutex_lock(&s.mtx);
			while (s.count < v && s.err == 0)
				pthread_cond_wait(&s.cv, &s.mtx);
			count = s.count;
			err = s.err;
			pthread_mutex_unlock(&s.mtx);
			if (err != 0) {
				peer_fail("data receive", err);
				goto out;
			}
			if ((rv = send_kind(rpush, 'D', true, count)) != 0) {
				peer_fail("done", rv);
				goto out;
			}
			continue;
		case 'Q':
			nng_msg_free(m);
			status = 0;
			goto out;
		default:
			nng_msg_free(m);
			fprintf(stderr, "bench floor peer: unknown request\n");
			goto out;
		}
	}
out:
	nng_aio_stop(s.aio);
	nng_aio_free(s.aio);
	nng_close(dpull);
	nng_close(rpull);
	nng_close(rpush);
	return status;
}

/* ------------------------------------------------------------------ */
/* The benchmark side                                                  */
/* ------------------------------------------------------------------ */

struct floor_conn {
	char dir[64];
	char data_url[256], req_url[256], rep_url[256];
	nng_socket data, req, rep; /* push, push, pull */
	pid_t peer;
};

static int
listen_push(nng_socket *s, const char *url)
{
	if (nng_check(nng_push0_open(s), "nng_push0_open") != 0)
		return -1;
	if (nng_check(nng_socket_set_int(*s, NNG_OPT_SENDBUF, IPC_SOCKBUF),
	        "set SENDBUF") != 0 ||
	    nng_check(nng_socket_set_ms(*s, NNG_OPT_SENDTIMEO, IPC_WAIT_MS),
	        "set SENDTIMEO") != 0 ||
	    nng_check(nng_listen(*s, url, NULL, 0), "nng_listen") != 0) {
		nng_close(*s);
		return -1;
	}
	return 0;
}

static int
listen_pull(nng_socket *s, const char *url)
{
	if (nng_check(nng_pull0_open(s), "nng_pull0_open") != 0)
		return -1;
	if (nng_check(nng_socket_set_int(*s, NNG_OPT_RECVBUF, IPC_SOCKBUF),
	        "set RECVBUF") != 0 ||
	    nng_check(nng_socket_set_ms(*s, NNG_OPT_RECVTIMEO, IPC_WAIT_MS),
	        "set RECVTIMEO") != 0 ||
	    nng_check(nng_listen(*s, url, NULL, 0), "nng_listen") != 0) {
		nng_close(*s);
		return -1;
	}
	return 0;
}

/* Receives the next message on rep; it must be of kind k.  *v gets its
 * u64. */
static int
expect_kind(struct floor_conn *c, char k, uint64_t *v, const char *what)
{
	nng_msg *m;
	char got;

	if (nng_check(nng_recvmsg(c->rep, &m, 0), what) != 0)
		return -1;
	got = read_kind(m, v);
	nng_msg_free(m);
	if (got != k) {
		bench_fail("ipc floor: %s: got '%c', expected '%c'", what,
		    got ? got : '?', k);
		return -1;
	}
	return 0;
}

/* Waits for the peer to exit, SIGKILLing it after a while. */
static int
reap_peer(pid_t pid)
{
	int st = 0;

	for (int i = 0; i < 500; i++) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
		if (r < 0)
			return -1;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

static int
floor_open(const place_cfg *cfg, struct floor_conn *c)
{
	char ppid[32];
	char *argv[5];
	int rv;

	snprintf(c->dir, sizeof(c->dir), "/tmp/troupe-bench-XXXXXX");
	if (mkdtemp(c->dir) == NULL) {
		bench_fail("ipc floor: mkdtemp: %s", strerror(errno));
		return -1;
	}
	urls(c->dir, c->data_url, c->req_url, c->rep_url, sizeof(c->data_url));
	if (listen_push(&c->data, c->data_url) != 0)
		goto fail_dir;
	if (listen_push(&c->req, c->req_url) != 0)
		goto fail_data;
	if (listen_pull(&c->rep, c->rep_url) != 0)
		goto fail_req;

	snprintf(ppid, sizeof(ppid), "%ld", (long)getpid());
	argv[0] = (char *)cfg->self_exe;
	argv[1] = "--floor-peer";
	argv[2] = c->dir;
	argv[3] = ppid;
	argv[4] = NULL;
	if ((rv = posix_spawn(
	         &c->peer, cfg->self_exe, NULL, NULL, argv, environ)) != 0) {
		bench_fail("ipc floor: posix_spawn %s: %s", cfg->self_exe,
		    strerror(rv));
		goto fail_rep;
	}
	fprintf(stderr, "bench: ipc floor peer pid %ld on ipc://%s/...\n",
	    (long)c->peer, c->dir);
	/* A peer that could not start shows up here: wait less for it. */
	nng_socket_set_ms(c->rep, NNG_OPT_RECVTIMEO, IPC_HELLO_MS);
	rv = expect_kind(c, 'H', &(uint64_t){0}, "peer hello");
	nng_socket_set_ms(c->rep, NNG_OPT_RECVTIMEO, IPC_WAIT_MS);
	if (rv != 0) {
		kill(c->peer, SIGKILL);
		reap_peer(c->peer);
		goto fail_rep;
	}
	return 0;
fail_rep:
	nng_close(c->rep);
fail_req:
	nng_close(c->req);
fail_data:
	nng_close(c->data);
fail_dir:
	rmdir(c->dir);
	return -1;
}

static void
floor_close(struct floor_conn *c, bool ok)
{
	char path[300];

	if (!ok || nng_check(send_kind(c->req, 'Q', false, 0), "quit") != 0)
		kill(c->peer, SIGKILL);
	if (reap_peer(c->peer) != 0 && ok)
		bench_fail("ipc floor: the peer did not exit cleanly");
	nng_close(c->data);
	nng_close(c->req);
	nng_close(c->rep);
	/* nng removes its listeners' socket files; in case it did not: */
	snprintf(path, sizeof(path), "%s/data", c->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/req", c->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/rep", c->dir);
	unlink(path);
	rmdir(c->dir);
}

/* Sends n data messages, then asks for the count; it must be total. */
static int
oneway_phase(struct floor_conn *c, uint64_t n, uint64_t total)
{
	uint64_t count;

	for (uint64_t i = 0; i < n; i++) {
		nng_msg *m;
		int rv;

		if (nng_check(nng_msg_alloc(&m, BENCH_BODY_BYTES),
		        "nng_msg_alloc") != 0)
			return -1;
		memset(nng_msg_body(m), 0xA5, BENCH_BODY_BYTES);
		if ((rv = nng_sendmsg(c->data, m, 0)) != 0) {
			nng_msg_free(m);
			nng_check(rv, "nng_sendmsg (data)");
			return -1;
		}
	}
	if (nng_check(send_kind(c->req, 'P', true, total), "send 'P'") != 0 ||
	    expect_kind(c, 'D', &count, "phase done") != 0)
		return -1;
	if (count != total) {
		bench_fail("ipc floor: peer counted %llu, expected %llu",
		    (unsigned long long)count, (unsigned long long)total);
		return -1;
	}
	return 0;
}

static int
floor_oneway(const place_cfg *cfg, struct floor_conn *c, place_results *res)
{
	uint64_t t0, t1;
	double secs, rate;

	fprintf(stderr, "bench: floor nng ipc one-way, %llu msgs...\n",
	    (unsigned long long)cfg->oneway_n);
	if (oneway_phase(c, cfg->oneway_warm, cfg->oneway_warm) != 0)
		return -1;
	t0 = bench_now_ns();
	if (oneway_phase(c, cfg->oneway_n, cfg->oneway_warm + cfg->oneway_n) !=
	    0)
		return -1;
	t1 = bench_now_ns();
	secs = (double)(t1 - t0) / 1e9;
	rate = (double)cfg->oneway_n / secs;
	bench_print_rate_at("oneway", "nng_ipc_aio", "process", cfg->pinned,
	    rate, cfg->oneway_n, BENCH_BODY_BYTES, secs);
	res->ipc_oneway_msgs_per_s = rate;
	return 0;
}

static int
floor_rt(const place_cfg *cfg, struct floor_conn *c, place_results *res)
{
	uint64_t total = cfg->rounds_warm + cfg->rounds;
	uint64_t *samples;
	bench_lat lat;
	int rc = -1;

	if ((samples = malloc(cfg->rounds * sizeof(*samples))) == NULL) {
		bench_fail("out of memory");
		return -1;
	}
	fprintf(stderr, "bench: floor nng ipc round trip, %llu...\n",
	    (unsigned long long)cfg->rounds);
	for (uint64_t i = 0; i < total; i++) {
		uint64_t t0 = bench_now_ns(), t1, got;

		if (nng_check(send_kind(c->req, 'E', true, i), "send echo") !=
		        0 ||
		    expect_kind(c, 'E', &got, "echo") != 0)
			goto out;
		t1 = bench_now_ns();
		if (got != i) {
			bench_fail("ipc floor: echo %llu to request %llu",
			    (unsigned long long)got, (unsigned long long)i);
			goto out;
		}
		if (i >= cfg->rounds_warm)
			samples[i - cfg->rounds_warm] = t1 - t0;
	}
	lat = bench_lat_of(samples, cfg->rounds);
	bench_print_lat_at("roundtrip", "nng_ipc_pushpull", "process",
	    cfg->pinned, lat, IPC_RT_BYTES, 0);
	res->ipc_rt_median_us = lat.median_us;
	rc = 0;
out:
	free(samples);
	return rc;
}

int
place_floors(const place_cfg *cfg, place_results *res)
{
	struct floor_conn c;
	int rc = 0;

	memset(&c, 0, sizeof(c));
	if (floor_open(cfg, &c) != 0)
		return -1;
	if (floor_oneway(cfg, &c, res) != 0)
		rc = -1;
	if (rc == 0 && floor_rt(cfg, &c, res) != 0)
		rc = -1;
	floor_close(&c, rc == 0);
	return rc;
}
