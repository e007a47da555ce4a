/*
 * remote_opts.h -- private to bench/: the command line that
 * remote_floors and bench_remote share (bench/run.sh remote calls both
 * the same way).  Not API.
 */
#ifndef REMOTE_OPTS_H
#define REMOTE_OPTS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct remote_opts {
	const char *url; /* --serve URL or --client URL */
	const char *ca, *cert, *key, *server_name;
	bool serve, quick;
	uint64_t rounds, n, n4k, bulk_n;
} remote_opts;

/*
 * Parses
 *   PROG --serve URL [TLS options]
 *   PROG --client URL [TLS options] [--quick] [--rounds N] [--n N]
 *        [--n4k N] [--bulk-n N]
 *   TLS options: --ca FILE --cert FILE [--key FILE] [--server-name NAME]
 * into *o (defaults: 10000 rounds, 200000, 50000 and 200 messages;
 * --quick: 200, 2000, 500, 5).  Returns -1 to go on, else the exit
 * status to end with (0 for --help; 2 after a usage message).
 */
int remote_opts_parse(int argc, char **argv, const char *prog, remote_opts *o);

#endif
