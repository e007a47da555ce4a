/* etcd_server.c -- a real etcd server for a test (etcd_server.h). */
#define _GNU_SOURCE /* nftw's FTW_DEPTH and FTW_PHYS */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "etcd.h"
#include "etcd_server.h"
#include "troupe.h"

const char *
etcd_binary(void)
{
	static char found[4096];
	const char *env = getenv("TROUPE_ETCD");
	const char *path = getenv("PATH");

	if (env != NULL && env[0] != '\0') {
		if (access(env, X_OK) == 0) {
			return env;
		}
		fprintf(stderr,
		    "etcd_server: TROUPE_ETCD=%s is not an "
		    "executable\n",
		    env);
		return NULL;
	}
	while (path != NULL && *path != '\0') {
		const char *colon = strchr(path, ':');
		size_t n = colon ? (size_t)(colon - path) : strlen(path);
		snprintf(found, sizeof(found), "%.*s/etcd", (int)n, path);
		if (n > 0 && access(found, X_OK) == 0) {
			return found;
		}
		path = colon ? colon + 1 : NULL;
	}
	if (access("/usr/bin/etcd", X_OK) == 0) {
		return "/usr/bin/etcd";
	}
	fprintf(stderr,
	    "etcd_server: FAIL: no etcd binary on PATH (the etcd tests need "
	    "a real server: install Debian's etcd-server -- ./dev.sh does -- "
	    "or set TROUPE_ETCD)\n");
	return NULL;
}

int
etcd_free_port(void)
{
	struct sockaddr_in a = {0};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd < 0) {
		return -1;
	}
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0) {
		port = ntohs(a.sin_port);
	}
	close(fd);
	return port;
}

static int
spawn(etcd_server *s)
{
	char name[32], curls[64], purls[64], cluster[96];
	const char *bin = etcd_binary();

	if (bin == NULL) {
		return -1;
	}
	snprintf(name, sizeof(name), "t%d", (int)getpid());
	snprintf(curls, sizeof(curls), "http://127.0.0.1:%d", s->client_port);
	snprintf(purls, sizeof(purls), "http://127.0.0.1:%d", s->peer_port);
	snprintf(cluster, sizeof(cluster), "%s=%s", name, purls);
	snprintf(s->url, sizeof(s->url), "%s", curls);
	char *argv[] = {(char *)bin, "--name", name, "--data-dir", s->data,
	    "--listen-client-urls", curls, "--advertise-client-urls", curls,
	    "--listen-peer-urls", purls, "--initial-advertise-peer-urls", purls,
	    "--initial-cluster", cluster, "--heartbeat-interval", "10",
	    "--election-timeout", "100", NULL};
	/* fork and exec rather than posix_spawn: the child asks to be
	 * killed when this process dies, so that a test that crashes or
	 * is killed at its timeout leaves no server behind. */
	pid_t parent = getpid();
	int fd = open(s->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(
		    stderr, "etcd_server: %s: %s\n", s->log, strerror(errno));
		return -1;
	}
	s->pid = fork();
	if (s->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent) {
			_exit(127);
		}
		int null = open("/dev/null", O_RDONLY);
		dup2(null, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		execv(bin, argv);
		_exit(127);
	}
	close(fd);
	if (s->pid < 0) {
		fprintf(stderr, "etcd_server: cannot start %s: %s\n", bin,
		    strerror(errno));
		s->pid = 0;
		return -1;
	}
	s->stopped = false;
	return 0;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The last lines of the server's output, for a failure's message. */
static void
show_log(const etcd_server *s)
{
	static char ring[40][256];
	FILE *f = fopen(s->log, "r");
	int n = 0;

	if (f == NULL) {
		return;
	}
	while (fgets(ring[n % 40], sizeof(ring[0]), f) != NULL) {
		n++;
	}
	fclose(f);
	fprintf(stderr, "etcd_server: the end of %s:\n", s->log);
	for (int i = n > 40 ? n - 40 : 0; i < n; i++) {
		fputs(ring[i % 40], stderr);
	}
}

/*
 * Polls the server with a range until it answers, it exits, or 20 s
 * pass.  The pause between polls is no synchronisation: each poll asks
 * the server whether it serves, and only its answer ends the wait.
 */
static int
wait_ready(etcd_server *s)
{
	const char *eps[] = {s->url, NULL};
	tri_etcd_opts o = {.endpoints = eps, .timeout_ms = 500};
	uint64_t deadline = now_ms() + 20000;
	tri_etcd *e;
	int status;

	if (tri_etcd_open(&o, &e, NULL) != TR_OK) {
		return -1;
	}
	while (now_ms() < deadline) {
		tri_etcd_kvs kvs;
		if (tri_etcd_range(e, "/ready", false, &kvs, NULL) == TR_OK) {
			tri_etcd_kvs_free(&kvs);
			tri_etcd_close(e);
			return 0;
		}
		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			s->pid = 0;
			fprintf(stderr, "etcd_server: etcd exited at start\n");
			show_log(s);
			tri_etcd_close(e);
			return -1;
		}
		/* etcd tells nobody when it serves: asking again is the
		 * only way, every 20 ms up to the deadline above. */
		nanosleep(&(struct timespec){0, 20000000L}, NULL);
	}
	tri_etcd_close(e);
	fprintf(stderr, "etcd_server: etcd did not answer within 20 s\n");
	show_log(s);
	return -1;
}

int
etcd_start(etcd_server *s)
{
	const char *tmp = getenv("TMPDIR");

	memset(s, 0, sizeof(*s));
	if (etcd_binary() == NULL) {
		return -1;
	}
	snprintf(s->dir, sizeof(s->dir), "%s/troupe-etcd.XXXXXX",
	    tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	if (mkdtemp(s->dir) == NULL) {
		fprintf(stderr, "etcd_server: mkdtemp %s: %s\n", s->dir,
		    strerror(errno));
		s->dir[0] = '\0';
		return -1;
	}
	snprintf(s->data, sizeof(s->data), "%s/data", s->dir);
	snprintf(s->log, sizeof(s->log), "%s/etcd.log", s->dir);
	/* A port found free may be taken before etcd binds it: then
	 * etcd exits, and another pair is tried. */
	for (int tries = 0; tries < 3; tries++) {
		s->client_port = etcd_free_port();
		s->peer_port = etcd_free_port();
		if (s->client_port <= 0 || s->peer_port <= 0 ||
		    s->client_port == s->peer_port) {
			continue;
		}
		if (spawn(s) != 0) {
			return -1;
		}
		if (wait_ready(s) == 0) {
			return 0;
		}
		etcd_kill(s);
	}
	return -1;
}

void
etcd_kill(etcd_server *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
		s->stopped = false;
	}
}

int
etcd_restart(etcd_server *s)
{
	etcd_kill(s);
	if (spawn(s) != 0) {
		return -1;
	}
	return wait_ready(s);
}

/* Returns once the server is stopped (a signal is delivered later
 * than kill() returns: a request sent at once could still be served). */
void
etcd_pause(etcd_server *s)
{
	int status;

	if (s->pid > 0 && kill(s->pid, SIGSTOP) == 0) {
		while (waitpid(s->pid, &status, WUNTRACED) == -1 &&
		    errno == EINTR) {
		}
		s->stopped = true;
	}
}

void
etcd_resume(etcd_server *s)
{
	int status;

	if (s->pid > 0 && s->stopped) {
		kill(s->pid, SIGCONT);
		while (waitpid(s->pid, &status, WCONTINUED) == -1 &&
		    errno == EINTR) {
		}
		s->stopped = false;
	}
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

void
etcd_destroy(etcd_server *s)
{
	if (s->stopped) {
		etcd_resume(s);
	}
	etcd_kill(s);
	if (s->dir[0] != '\0') {
		nftw(s->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		s->dir[0] = '\0';
	}
}
