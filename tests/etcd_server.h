/*
 * etcd_server.h -- a real etcd server for a test: started on loopback
 * ports of its own with a data directory of its own, killed and
 * removed at the end.
 *
 * The binary is $TROUPE_ETCD if set, else `etcd` on $PATH (Debian's
 * etcd-server; ./dev.sh installs it).  No etcd is a failure of the
 * test, with a message saying so, never a skip.
 *
 * Elections are made fast (heartbeat 10 ms, election 100 ms) so that a
 * restarted server serves within a few hundred ms, and so that etcd
 * accepts 1 s leases (its floor is 1.5 election timeouts).
 */
#ifndef ETCD_SERVER_H
#define ETCD_SERVER_H

#include <stdbool.h>
#include <sys/types.h>

typedef struct etcd_server {
	pid_t pid;      /* 0: not running */
	char dir[256];  /* the test's temporary directory */
	char data[300]; /* dir/data */
	char log[300];  /* dir/etcd.log: the server's output */
	char url[64];   /* http://127.0.0.1:<client port> */
	int client_port, peer_port;
	bool stopped; /* SIGSTOP'd */
} etcd_server;

/* The etcd binary's path, or NULL (and a message on stderr). */
const char *etcd_binary(void);

/* Makes the directory, picks ports, starts etcd, and waits (at most
 * 20 s) until it answers a range.  0 or -1 (with a message). */
int etcd_start(etcd_server *s);

/* Kills it with SIGKILL and reaps it (no-op if not running). */
void etcd_kill(etcd_server *s);

/* Starts it again on the same ports and data, and waits as
 * etcd_start does.  0 or -1. */
int etcd_restart(etcd_server *s);

/* SIGSTOP / SIGCONT: a server that accepts connections and answers
 * nothing, as a hung or cut-off one would.  Each returns once the
 * server is stopped / running again. */
void etcd_pause(etcd_server *s);
void etcd_resume(etcd_server *s);

/* Kills it and removes its directory. */
void etcd_destroy(etcd_server *s);

/* A loopback port nobody listens on now. */
int etcd_free_port(void);

#endif
