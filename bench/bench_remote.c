/*
 * bench_remote.c -- what troupe costs between two nodes: bench/run.sh
 * remote runs it as remote_floors is run, `--serve URL` on host 1 (node
 * n1) and `--client URL` on host 2 (node n2), over tcp:// or tls+tcp://
 * (bench/remote.sh).
 *
 * The client prints, as the floors do (impl troupe_tcp / troupe_tls):
 *   remote_roundtrip   tr_call of a 64-byte body to an actor on n1
 *   remote_oneway      tr_send of 64 B and 4 KiB bodies, flooded, then
 *                      one call to learn that all arrived
 *   remote_bulk        1 MiB bodies, the same way
 *   remote_spawn       tr_spawn on n1 to the first call's answer
 * and detection times, {"bench":"detect","impl":"partition"|"kill",
 * "ms":N} and {"bench":"reconnect","impl":"partition","ms":N}: with
 * NETNS_SH and NETNS_PREFIX set (bench/remote.sh sets them), a silent
 * partition made with netns.sh drop (both ways) until n1 is down, then
 * healed until it is up; last, n1 is killed (-9, by itself, on our
 * word) until it is down.  Default tick 500 ms, timeout 2500 ms.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <troupe.h>

#include "bench.h"
#include "remote_opts.h"

#define T_ECHO 1
#define T_SINK 2
#define T_COUNT 3
#define T_DIE 4

typedef remote_opts opts;

/* --- behaviors, on n1 ------------------------------------------------- */

static int
echo_handle(void *state, tr_msg *msg)
{
	tr_msg *copy;

	(void)state;
	if (tr_msg_tag(msg) == T_DIE) {
		kill(getpid(), SIGKILL); /* the node dies: kill -9 */
	}
	if (tr_msg_is_call(msg) && tr_msg_dup(&copy, msg) == TR_OK &&
	    tr_reply(tr_msg_from(msg), copy) != TR_OK) {
		tr_msg_free(copy);
	}
	return TR_OK;
}

static int
sink_handle(void *state, tr_msg *msg)
{
	uint64_t *count = state;

	if (tr_msg_is_call(msg) && tr_msg_tag(msg) == T_COUNT) {
		(void)tr_replyf(tr_msg_from(msg), T_COUNT, "Q", *count);
		*count = 0;
		return TR_OK;
	}
	(*count)++;
	return TR_OK;
}

static void
register_behaviors(void)
{
	static const tr_behavior b[] = {
	    {.name = "bench.echo", .handle = echo_handle},
	    {.name = "bench.sink",
	        .state_size = sizeof(uint64_t),
	        .handle = sink_handle},
	};
	for (size_t i = 0; i < 2; i++) {
		(void)tr_behavior_register(&b[i]);
	}
}

/* --- the client's figures --------------------------------------------- */

static const char *impl;

static tr_ref
spawn_on_n1(const char *behavior)
{
	tr_spec s;
	tr_ref r = TR_REF_NIL;
	int rv;

	memset(&s, 0, sizeof(s));
	s.behavior = behavior;
	s.node = "n1";
	s.mailbox_capacity = 4096;
	if ((rv = tr_spawn(&s, &r, NULL)) != TR_OK) {
		bench_fail("spawn %s on n1: %s", behavior, tr_strerror(rv));
	}
	return r;
}

static tr_msg *
body_of(uint32_t tag, size_t size)
{
	static uint8_t junk[1 << 20];
	tr_msg *m;

	if (tr_msg_newf(&m, tag, "b", junk, size > 8 ? size - 8 : 0) != TR_OK) {
		return NULL;
	}
	return m;
}

static void
roundtrip(tr_ref e, uint64_t rounds)
{
	uint64_t *lat = calloc(rounds, sizeof(*lat));
	tr_msg *rep;

	for (uint64_t i = 0; i < rounds / 10 + rounds; i++) {
		tr_msg *m = body_of(T_ECHO, BENCH_BODY_BYTES);
		uint64_t t0 = bench_now_ns();
		bool sent;
		int rv = tr_call(e, m, BENCH_CALL_TIMEOUT_MS, &rep, &sent);
		if (!sent) {
			tr_msg_free(m);
		}
		if (rv != TR_OK) {
			bench_fail("remote call: %s", tr_strerror(rv));
			free(lat);
			return;
		}
		tr_msg_free(rep);
		if (i >= rounds / 10) {
			lat[i - rounds / 10] = bench_now_ns() - t0;
		}
	}
	bench_print_lat("remote_roundtrip", impl, bench_is_pinned(),
	    bench_lat_of(lat, rounds), BENCH_BODY_BYTES);
	free(lat);
}

static void
oneway(tr_ref sink, uint64_t n, size_t size)
{
	uint64_t t0, got = 0;
	tr_msg *rep;
	double secs;

	for (int pass = 0; pass < 2; pass++) {
		uint64_t count = pass == 0 ? n / 10 + 1 : n;
		t0 = bench_now_ns();
		for (uint64_t i = 0; i < count; i++) {
			tr_msg *m = body_of(T_SINK, size);
			int rv = tr_send_timed(sink, m, BENCH_CALL_TIMEOUT_MS);
			if (rv != TR_OK) {
				tr_msg_free(m);
				bench_fail("remote send: %s", tr_strerror(rv));
				return;
			}
		}
		if (tr_callf(sink, T_COUNT, 60000, &rep, "") != TR_OK ||
		    tr_msg_unpackf(rep, "Q", &got) != TR_OK) {
			bench_fail("remote count");
			return;
		}
		tr_msg_free(rep);
		if (got != count) {
			bench_fail("remote oneway: %llu sent, %llu arrived",
			    (unsigned long long)count, (unsigned long long)got);
		}
	}
	secs = (double)(bench_now_ns() - t0) / 1e9;
	if (size >= (1u << 20)) {
		printf("{\"bench\":\"remote_bulk\",\"impl\":\"%s\","
		       "\"pinned\":%s,\"mb_per_s\":%.1f,\"msgs_per_s\":%.1f,"
		       "\"n\":%llu,\"body_bytes\":%zu,\"elapsed_s\":%.4f}\n",
		    impl, bench_is_pinned() ? "true" : "false",
		    (double)n * (double)size / secs / 1e6, (double)n / secs,
		    (unsigned long long)n, size, secs);
		fflush(stdout);
	} else {
		bench_print_rate("remote_oneway", impl, bench_is_pinned(),
		    (double)n / secs, n, size, secs);
	}
}

static void
spawn_time(int times)
{
	uint64_t *lat = calloc((size_t)times, sizeof(*lat));
	tr_msg *rep;

	for (int i = 0; i < times; i++) {
		uint64_t t0 = bench_now_ns();
		tr_ref e = spawn_on_n1("bench.echo");
		if (tr_ref_is_nil(e) ||
		    tr_callf(e, T_ECHO, 5000, &rep, "") != TR_OK) {
			bench_fail("remote spawn");
			free(lat);
			return;
		}
		lat[i] = bench_now_ns() - t0;
		tr_msg_free(rep);
		(void)tr_stop(e, TR_REASON_SHUTDOWN);
	}
	bench_print_lat("remote_spawn", impl, bench_is_pinned(),
	    bench_lat_of(lat, (uint64_t)times), 0);
	free(lat);
}

/* Waits for NODEUP (up) or NODEDOWN of n1; ms it took, -1 after 30 s. */
static long
wait_n1(bool up, uint64_t t0)
{
	uint32_t want = up ? TR_TAG_NODEUP : TR_TAG_NODEDOWN;
	tr_msg *m;

	while (tr_recv(&m, 30000) == TR_OK) {
		uint32_t tag = tr_msg_tag(m);
		tr_msg_free(m);
		if (tag == want) {
			return (long)((bench_now_ns() - t0) / 1000000u);
		}
	}
	return -1;
}

static void
print_ms(const char *bench, const char *what, long ms)
{
	if (ms < 0) {
		bench_fail("%s %s: not seen within 30 s", bench, what);
		return;
	}
	printf("{\"bench\":\"%s\",\"impl\":\"%s\",\"transport\":\"%s\","
	       "\"pinned\":false,\"median_ms\":%ld}\n",
	    bench, what, strncmp(impl, "troupe_tls", 10) == 0 ? "tls" : "tcp",
	    ms);
	fflush(stdout);
}

static void
detect(tr_ref e)
{
	const char *netns = getenv("NETNS_SH");
	char cmd[1024];
	uint64_t t0;

	if (netns != NULL && getenv("NETNS_PREFIX") != NULL) {
		snprintf(cmd, sizeof(cmd), "'%s' drop 2 1 both", netns);
		t0 = bench_now_ns();
		if (system(cmd) != 0) {
			bench_fail("netns.sh drop");
			return;
		}
		print_ms("detect", "partition", wait_n1(false, t0));
		snprintf(cmd, sizeof(cmd), "'%s' heal 2", netns);
		t0 = bench_now_ns();
		if (system(cmd) != 0) {
			bench_fail("netns.sh heal");
			return;
		}
		print_ms("reconnect", "partition", wait_n1(true, t0));
	} else {
		fprintf(stderr,
		    "bench_remote: no NETNS_SH/NETNS_PREFIX: no "
		    "partition figure\n");
	}
	/* Its old incarnation's actors live on after a partition. */
	t0 = bench_now_ns();
	if (tr_sendf(e, T_DIE, "") != TR_OK) {
		bench_fail("kill: send");
		return;
	}
	print_ms("detect", "kill", wait_n1(false, t0));
}

static int
client(const opts *o)
{
	tr_ref e, sink;

	impl = strncmp(o->url, "tls+tcp://", 10) == 0 ? "troupe_tls" :
	                                                "troupe_tcp";
	if (wait_n1(true, bench_now_ns()) < 0) {
		fprintf(stderr, "bench_remote: n1 never came up\n");
		return 1;
	}
	fprintf(stderr, "bench_remote: %s: n1 up\n", impl);
	e = spawn_on_n1("bench.echo");
	sink = spawn_on_n1("bench.sink");
	if (bench_failed()) {
		return 1;
	}
	roundtrip(e, o->rounds);
	oneway(sink, o->n, BENCH_BODY_BYTES);
	oneway(sink, o->n4k, 4096);
	oneway(sink, o->bulk_n, 1u << 20);
	spawn_time(o->quick ? 5 : 50);
	detect(e);
	return bench_failed() ? 1 : 0;
}

/* The client's own listen URL: the address this host uses to reach the
 * server (a UDP socket "connected" to it says which), the same port. */
static int
own_url(const char *server, char *out, size_t len)
{
	const char *scheme =
	    strncmp(server, "tls+tcp://", 10) == 0 ? "tls+tcp://" : "tcp://";
	const char *host = server + strlen(scheme);
	const char *colon = strrchr(host, ':');
	char ip[64], mine[INET_ADDRSTRLEN];
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int s;

	if (colon == NULL || (size_t)(colon - host) >= sizeof(ip)) {
		return -1;
	}
	memcpy(ip, host, (size_t)(colon - host));
	ip[colon - host] = '\0';
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(9);
	if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1 ||
	    (s = socket(AF_INET, SOCK_DGRAM, 0)) < 0) {
		return -1;
	}
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockname(s, (struct sockaddr *)&sa, &sl) != 0 ||
	    inet_ntop(AF_INET, &sa.sin_addr, mine, sizeof(mine)) == NULL) {
		close(s);
		return -1;
	}
	close(s);
	snprintf(out, len, "%s%s%s", scheme, mine, colon);
	return 0;
}

int
main(int argc, char **argv)
{
	static const char *seeds[2];
	char url[256];
	tr_cluster_opts c;
	tr_options to;
	tr_msg *m;
	opts o;
	int rv;

	if ((rv = remote_opts_parse(argc, argv, "bench_remote", &o)) >= 0) {
		return rv;
	}
	memset(&c, 0, sizeof(c));
	c.cluster = "bench";
	c.ca = o.ca;
	c.cert = o.cert;
	c.key = o.key;
	c.insecure = strncmp(o.url, "tcp://", 6) == 0;
	if (o.serve) {
		c.node = "n1";
		c.listen = o.url;
	} else {
		if (own_url(o.url, url, sizeof(url)) != 0) {
			fprintf(stderr,
			    "bench_remote: %s: an IPv4 address and a "
			    "port, please\n",
			    o.url);
			return 2;
		}
		c.node = "n2";
		c.listen = url;
		seeds[0] = o.url;
		c.seeds = seeds;
	}
	memset(&to, 0, sizeof(to));
	to.cluster = &c;
	if ((rv = tr_init(&to)) != TR_OK) {
		fprintf(stderr, "bench_remote: tr_init: %s\n", tr_strerror(rv));
		return 1;
	}
	register_behaviors();
	if (o.serve) {
		/* Until killed: the client's last figure kills it (-9). */
		fprintf(stderr, "bench_remote: n1 serving at %s\n", o.url);
		while (tr_recv(&m, TR_FOREVER) == TR_OK) {
			tr_msg_free(m);
		}
		tr_shutdown();
		return 0;
	}
	(void)tr_node_monitor("n1", true);
	rv = client(&o);
	tr_shutdown();
	return rv;
}
