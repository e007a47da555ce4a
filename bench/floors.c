/*
 * floors.c -- the raw figures troupe is measured against: nng and pipes
 * used directly, with no troupe code in the path.
 *
 *  - nng_aio:      inproc push/pull, the receiver an aio callback that
 *                  re-arms itself (the fastest raw nng pattern);
 *  - pipe:         a one-byte ping-pong between two threads over two
 *                  pipes (the cost of two thread wake-ups, nothing more);
 *  - nng_pushpull: a round trip over inproc push/pull sockets, one pair
 *                  each way, with a blocking echo thread.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>

#include "bench.h"

/* Socket buffers of the raw figures.  At nng's default SENDBUF of 0 an
 * inproc push blocks until the receiver has an aio posted, and a sender
 * in a tight loop stalls; 1024 is also troupe's default mailbox. */
#define FLOOR_SOCKBUF 1024

static int
nng_check(int rv, const char *what)
{
	if (rv != 0)
		bench_fail("%s: %s", what, nng_strerror(rv));
	return rv;
}

/* Opens a pull socket listening on url and a push socket dialed to it. */
static int
pushpull_open(const char *url, nng_socket *push, nng_socket *pull)
{
	*push = (nng_socket)NNG_SOCKET_INITIALIZER;
	*pull = (nng_socket)NNG_SOCKET_INITIALIZER;
	if (nng_check(nng_pull0_open(pull), "nng_pull0_open") != 0)
		goto fail;
	if (nng_check(nng_push0_open(push), "nng_push0_open") != 0)
		goto fail;
	if (nng_check(nng_socket_set_int(*pull, NNG_OPT_RECVBUF, FLOOR_SOCKBUF),
	        "set RECVBUF") != 0 ||
	    nng_check(nng_socket_set_int(*push, NNG_OPT_SENDBUF, FLOOR_SOCKBUF),
	        "set SENDBUF") != 0)
		goto fail;
	if (nng_check(nng_listen(*pull, url, NULL, 0), "nng_listen") != 0)
		goto fail;
	if (nng_check(nng_dial(*push, url, NULL, 0), "nng_dial") != 0)
		goto fail;
	return 0;
fail:
	if (nng_socket_id(*push) > 0)
		nng_close(*push);
	if (nng_socket_id(*pull) > 0)
		nng_close(*pull);
	return -1;
}

/* ------------------------------------------------------------------ */
/* One-way throughput: push/pull, receive by self-re-arming aio        */
/* ------------------------------------------------------------------ */

struct aio_sink {
	nng_socket pull;
	nng_aio *aio;
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	uint64_t count;  /* messages received in this phase */
	uint64_t target; /* phase ends when count reaches it */
	uint64_t end_ns; /* when it did */
	bool done;
	int err; /* nng error that stopped the receiver, 0 if none */
};

/* Runs on an nng task thread for each completed receive. */
static void
aio_sink_cb(void *arg)
{
	struct aio_sink *s = arg;
	int rv = nng_aio_result(s->aio);

	if (rv != 0) {
		/* Closed or stopped at teardown, or a real error: either way
		 * the receiver does not re-arm. */
		pthread_mutex_lock(&s->mtx);
		if (!s->done)
			s->err = rv;
		s->done = true;
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mtx);
		return;
	}
	nng_msg_free(nng_aio_get_msg(s->aio));
	pthread_mutex_lock(&s->mtx);
	if (++s->count == s->target) {
		s->end_ns = bench_now_ns();
		s->done = true;
		pthread_cond_broadcast(&s->cv);
	}
	pthread_mutex_unlock(&s->mtx);
	nng_recv_aio(s->pull, s->aio);
}

static void
aio_sink_arm_phase(struct aio_sink *s, uint64_t target)
{
	pthread_mutex_lock(&s->mtx);
	s->count = 0;
	s->target = target;
	s->done = false;
	pthread_mutex_unlock(&s->mtx);
}

static int
aio_sink_wait(struct aio_sink *s)
{
	int err;

	pthread_mutex_lock(&s->mtx);
	while (!s->done)
		pthread_cond_wait(&s->cv, &s->mtx);
	err = s->err;
	pthread_mutex_unlock(&s->mtx);
	return err;
}

static int
send_burst(nng_socket push, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		nng_msg *m;
		int rv;

		if (nng_check(nng_msg_alloc(&m, BENCH_BODY_BYTES),
		        "nng_msg_alloc") != 0)
			return -1;
		memset(nng_msg_body(m), 0xA5, BENCH_BODY_BYTES);
		if ((rv = nng_sendmsg(push, m, 0)) != 0) {
			nng_msg_free(m);
			nng_check(rv, "nng_sendmsg");
			return -1;
		}
	}
	return 0;
}

int
bench_floor_nng_oneway(const bench_cfg *cfg, bench_results *res)
{
	struct aio_sink s = {0};
	nng_socket push, pull;
	uint64_t t0;
	int rc = -1;

	pthread_mutex_init(&s.mtx, NULL);
	pthread_cond_init(&s.cv, NULL);
	if (pushpull_open("inproc://bench-floor-oneway", &push, &pull) != 0)
		goto out;
	s.pull = pull;
	if (nng_check(
	        nng_aio_alloc(&s.aio, aio_sink_cb, &s), "nng_aio_alloc") != 0)
		goto close;

	fprintf(stderr, "bench: floor nng_aio one-way, %llu msgs...\n",
	    (unsigned long long)cfg->oneway_n);
	/* Warm-up: the same traffic, untimed, so that allocator caches and
	 * nng's task threads are as warm as they are for the timed part. */
	aio_sink_arm_phase(&s, cfg->oneway_warm);
	nng_recv_aio(pull, s.aio);
	if (send_burst(push, cfg->oneway_warm) != 0)
		goto stop;
	if (nng_check(aio_sink_wait(&s), "receiver (warm-up)") != 0)
		goto stop;

	aio_sink_arm_phase(&s, cfg->oneway_n);
	t0 = bench_now_ns();
	if (send_burst(push, cfg->oneway_n) != 0)
		goto stop;
	if (nng_check(aio_sink_wait(&s), "receiver") != 0)
		goto stop;
	{
		double secs = (double)(s.end_ns - t0) / 1e9;
		double rate = (double)cfg->oneway_n / secs;

		bench_print_rate("oneway", "nng_aio", cfg->pinned, rate,
		    cfg->oneway_n, BENCH_BODY_BYTES, secs);
		res->nng_oneway_msgs_per_s = rate;
	}
	rc = 0;
stop:
	/* Cancels the receive left pending; its callback sees an error and
	 * does not re-arm. */
	nng_aio_stop(s.aio);
	nng_aio_free(s.aio);
close:
	nng_close(push);
	nng_close(pull);
out:
	pthread_cond_destroy(&s.cv);
	pthread_mutex_destroy(&s.mtx);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Round trip: pipe ping-pong between two threads                      */
/* ------------------------------------------------------------------ */

struct pipe_pair {
	int ping[2]; /* main -> echo */
	int pong[2]; /* echo -> main */
};

static int
read_byte(int fd, char *c)
{
	for (;;) {
		ssize_t r = read(fd, c, 1);

		if (r == 1)
			return 1;
		if (r == 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

static int
write_byte(int fd, char c)
{
	for (;;) {
		ssize_t r = write(fd, &c, 1);

		if (r == 1)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

/* Echoes bytes until the ping pipe is closed. */
static void *
pipe_echo(void *arg)
{
	struct pipe_pair *p = arg;
	char c;

	while (read_byte(p->ping[0], &c) == 1)
		if (write_byte(p->pong[1], c) != 0)
			break;
	return NULL;
}

int
bench_floor_pipe_rt(const bench_cfg *cfg, bench_results *res)
{
	struct pipe_pair p;
	pthread_t echo;
	uint64_t *samples;
	uint64_t total = cfg->rounds_warm + cfg->rounds;
	int rc = -1;

	samples = malloc(cfg->rounds * sizeof(*samples));
	if (samples == NULL) {
		bench_fail("out of memory");
		return -1;
	}
	if (pipe(p.ping) != 0) {
		bench_fail("pipe: %s", strerror(errno));
		goto out;
	}
	if (pipe(p.pong) != 0) {
		bench_fail("pipe: %s", strerror(errno));
		goto close_ping;
	}
	if (pthread_create(&echo, NULL, pipe_echo, &p) != 0) {
		bench_fail("pthread_create failed");
		goto close_pong;
	}
	fprintf(stderr, "bench: floor pipe ping-pong, %llu round trips...\n",
	    (unsigned long long)cfg->rounds);
	for (uint64_t i = 0; i < total; i++) {
		uint64_t t0 = bench_now_ns();
		char c;

		if (write_byte(p.ping[1], (char)i) != 0 ||
		    read_byte(p.pong[0], &c) != 1) {
			bench_fail("pipe ping-pong: %s", strerror(errno));
			break;
		}
		if (i >= cfg->rounds_warm)
			samples[i - cfg->rounds_warm] = bench_now_ns() - t0;
		if (i + 1 == total)
			rc = 0;
	}
	/* Closing the write end of ping ends the echo thread's loop. */
	close(p.ping[1]);
	p.ping[1] = -1;
	pthread_join(echo, NULL);
	if (rc == 0) {
		bench_lat lat = bench_lat_of(samples, cfg->rounds);

		bench_print_lat("roundtrip", "pipe", cfg->pinned, lat, 1);
		res->pipe_rt_median_us = lat.median_us;
	}
close_pong:
	close(p.pong[0]);
	close(p.pong[1]);
close_ping:
	close(p.ping[0]);
	if (p.ping[1] >= 0)
		close(p.ping[1]);
out:
	free(samples);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Round trip: inproc push/pull each way, blocking echo thread         */
/* ------------------------------------------------------------------ */

struct nng_echo {
	nng_socket in;  /* pull: requests */
	nng_socket out; /* push: replies */
	int err;
};

/* Sends every request back as its reply, until the sockets close. */
static void *
nng_echo_main(void *arg)
{
	struct nng_echo *e = arg;

	for (;;) {
		nng_msg *m;
		int rv;

		if ((rv = nng_recvmsg(e->in, &m, 0)) != 0) {
			if (rv != NNG_ECLOSED)
				e->err = rv;
			return NULL;
		}
		if ((rv = nng_sendmsg(e->out, m, 0)) != 0) {
			nng_msg_free(m);
			if (rv != NNG_ECLOSED)
				e->err = rv;
			return NULL;
		}
	}
}

int
bench_floor_nng_rt(const bench_cfg *cfg, bench_results *res)
{
	nng_socket req_push, req_pull, rep_push, rep_pull;
	struct nng_echo e = {0};
	pthread_t echo;
	uint64_t *samples;
	uint64_t total = cfg->rounds_warm + cfg->rounds;
	int rc = -1;

	samples = malloc(cfg->rounds * sizeof(*samples));
	if (samples == NULL) {
		bench_fail("out of memory");
		return -1;
	}
	if (pushpull_open(
	        "inproc://bench-floor-rt-req", &req_push, &req_pull) != 0)
		goto out;
	if (pushpull_open(
	        "inproc://bench-floor-rt-rep", &rep_push, &rep_pull) != 0)
		goto close_req;
	e.in = req_pull;
	e.out = rep_push;
	if (pthread_create(&echo, NULL, nng_echo_main, &e) != 0) {
		bench_fail("pthread_create failed");
		goto close_rep;
	}
	fprintf(stderr, "bench: floor nng push/pull round trip, %llu...\n",
	    (unsigned long long)cfg->rounds);
	for (uint64_t i = 0; i < total; i++) {
		uint64_t t0 = bench_now_ns();
		uint64_t got;
		nng_msg *m;
		int rv;

		if (nng_check(nng_msg_alloc(&m, sizeof(i)), "nng_msg_alloc") !=
		    0)
			break;
		memcpy(nng_msg_body(m), &i, sizeof(i));
		if ((rv = nng_sendmsg(req_push, m, 0)) != 0) {
			nng_msg_free(m);
			nng_check(rv, "nng_sendmsg (request)");
			break;
		}
		if (nng_check(nng_recvmsg(rep_pull, &m, 0),
		        "nng_recvmsg (reply)") != 0)
			break;
		if (nng_msg_len(m) != sizeof(got)) {
			bench_fail("nng round trip: reply of %zu bytes",
			    nng_msg_len(m));
			nng_msg_free(m);
			break;
		}
		memcpy(&got, nng_msg_body(m), sizeof(got));
		nng_msg_free(m);
		if (got != i) {
			bench_fail("nng round trip: reply %llu to request %llu",
			    (unsigned long long)got, (unsigned long long)i);
			break;
		}
		if (i >= cfg->rounds_warm)
			samples[i - cfg->rounds_warm] = bench_now_ns() - t0;
		if (i + 1 == total)
			rc = 0;
	}
	/* Closing the sockets ends the echo thread's blocking receive. */
	nng_close(req_push);
	nng_close(req_pull);
	nng_close(rep_push);
	nng_close(rep_pull);
	pthread_join(echo, NULL);
	if (e.err != 0) {
		nng_check(e.err, "nng echo thread");
		rc = -1;
	}
	if (rc == 0) {
		bench_lat lat = bench_lat_of(samples, cfg->rounds);

		bench_print_lat("roundtrip", "nng_pushpull", cfg->pinned, lat,
		    sizeof(uint64_t));
		res->nng_rt_median_us = lat.median_us;
	}
	goto out;
close_rep:
	nng_close(rep_push);
	nng_close(rep_pull);
close_req:
	nng_close(req_push);
	nng_close(req_pull);
out:
	free(samples);
	return rc;
}
