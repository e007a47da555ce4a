/*
 * remote_opts.c -- the command line of the remote benchmarks
 * (remote_opts.h).
 */
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "remote_opts.h"

static void
usage(FILE *f, const char *prog)
{
	fprintf(f,
	    "usage: %s --serve URL [TLS options]\n"
	    "       %s --client URL [TLS options] [--quick]\n"
	    "           [--rounds N] [--n N] [--n4k N] [--bulk-n N]\n"
	    "TLS options: --ca FILE --cert FILE [--key FILE] "
	    "[--server-name NAME]\n"
	    "URL: tcp://ADDR:PORT or tls+tcp://ADDR:PORT\n",
	    prog, prog);
}

int
remote_opts_parse(int argc, char **argv, const char *prog, remote_opts *o)
{
	bool client = false, tls;

	memset(o, 0, sizeof(*o));
	o->rounds = 10000;
	o->n = 200000;
	o->n4k = 50000;
	o->bulk_n = 200;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		uint64_t *count = NULL;

		if (strcmp(a, "--quick") == 0) {
			o->quick = true;
			o->rounds = 200;
			o->n = 2000;
			o->n4k = 500;
			o->bulk_n = 5;
			continue;
		}
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout, prog);
			return 0;
		}
		if (v == NULL) {
			usage(stderr, prog);
			return 2;
		}
		i++;
		if (strcmp(a, "--serve") == 0 || strcmp(a, "--client") == 0) {
			o->url = v;
			o->serve = a[2] == 's';
			client = !o->serve;
		} else if (strcmp(a, "--ca") == 0) {
			o->ca = v;
		} else if (strcmp(a, "--cert") == 0) {
			o->cert = v;
		} else if (strcmp(a, "--key") == 0) {
			o->key = v;
		} else if (strcmp(a, "--server-name") == 0) {
			o->server_name = v;
		} else if (strcmp(a, "--rounds") == 0) {
			count = &o->rounds;
		} else if (strcmp(a, "--n") == 0) {
			count = &o->n;
		} else if (strcmp(a, "--n4k") == 0) {
			count = &o->n4k;
		} else if (strcmp(a, "--bulk-n") == 0) {
			count = &o->bulk_n;
		} else {
			usage(stderr, prog);
			return 2;
		}
		if (count != NULL && bench_parse_count(v, count) != 0) {
			fprintf(
			    stderr, "%s: %s needs a positive count\n", prog, a);
			return 2;
		}
	}
	tls = o->url != NULL && strncmp(o->url, "tls+tcp://", 10) == 0;
	if (o->url == NULL || o->serve == client ||
	    (tls && (o->ca == NULL || o->cert == NULL)) ||
	    (!tls && strncmp(o->url, "tcp://", 6) != 0)) {
		usage(stderr, prog);
		return 2;
	}
	return -1;
}
