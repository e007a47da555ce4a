/*
 * fork_server.c -- the fork server (zygote) of the fork placement.
 *
 * nng is not fork-safe: a child forked from a process that has used nng
 * panics when it uses nng itself ("nng is not fork-reentrant safe": nng
 * marks itself forked in a pthread_atfork handler).  So members are
 * never forked from a process that runs nng.  The first tr_init() of the
 * root forks this server before nng or any libuv thread exists; the
 * server stays single-threaded, never touches nng, and forks each member
 * on request.  A member therefore inherits the program as it was at the
 * first tr_init(): its code (behavior functions), and globals as they
 * were then -- nothing made later.
 *
 * The server lives as long as the root process: it is not remade by a
 * later tr_init(), since by then this process has used nng.  It dies
 * with the root (parent-death signal) and its members die with it.
 *
 * Wire: two SOCK_SEQPACKET pairs.  On `req` the root sends a request and
 * reads the answer (under a lock, one at a time); on `note` the server
 * reports every member that ended (pid and wait status).
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "process.h"
#include "runtime.h"

typedef struct fs_req {
	uint32_t proc;
	uint32_t threads; /* tasks the member will need (probe_threads) */
	char spec[512];
} fs_req;

typedef struct fs_ans {
	int32_t pid;
	int32_t err; /* errno of fork, or 0 */
} fs_ans;

static struct {
	pthread_mutex_t mtx;
	bool started;
	bool failed;
	pid_t pid;
	int req;
	int note;
} FS = {PTHREAD_MUTEX_INITIALIZER, false, false, 0, -1, -1};

static void
send_all(int fd, const void *buf, size_t len)
{
	while (send(fd, buf, len, MSG_NOSIGNAL) < 0 && errno == EINTR) {
	}
}

static void *
probe_wait(void *arg)
{
	pthread_mutex_t *mtx = arg;

	/* Held by the prober until every probe thread exists. */
	pthread_mutex_lock(mtx);
	pthread_mutex_unlock(mtx);
	return NULL;
}

/*
 * Whether n more tasks (threads) of this user can exist at once: made,
 * then let go.  A member that cannot make the threads nng starts in it
 * does not fail cleanly -- nng 1.5.2 crashes (signal 11) or the member
 * hangs -- so a fork is not tried without them.  Only under a finite
 * RLIMIT_NPROC, and not for root, whom it does not bind: elsewhere
 * only the system's own limits (threads-max, pid_max) apply, far away.
 * The limit counts every task of the user, so this is a check, not a
 * reservation: another process of the user can still take them first.
 */
static int
probe_threads(uint32_t n)
{
	struct rlimit rl;
	pthread_mutex_t mtx = PTHREAD_MUTEX_INITIALIZER;
	pthread_attr_t attr;
	pthread_t t[256];
	uint32_t made = 0;
	int err = 0;

	if (n == 0 || geteuid() == 0 || getrlimit(RLIMIT_NPROC, &rl) != 0 ||
	    rl.rlim_cur == RLIM_INFINITY) {
		return 0;
	}
	if (n > 256) {
		n = 256;
	}
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, PTHREAD_STACK_MIN);
	pthread_mutex_lock(&mtx);
	while (made < n &&
	    (err = pthread_create(&t[made], &attr, probe_wait, &mtx)) == 0) {
		made++;
	}
	pthread_mutex_unlock(&mtx);
	while (made > 0) {
		pthread_join(t[--made], NULL);
	}
	pthread_attr_destroy(&attr);
	pthread_mutex_destroy(&mtx);
	return err;
}

static void
server_main(int req, int note, pid_t root)
{
	sigset_t chld;
	int sfd;

	/* Die with the root; a root that died before this line is caught
	 * by the parent check. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != root) {
		_exit(0);
	}
	prctl(PR_SET_NAME, "troupe-forksrv");
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	if ((sfd = signalfd(-1, &chld, SFD_CLOEXEC)) < 0) {
		_exit(1);
	}
	for (;;) {
		struct pollfd p[2] = {{req, POLLIN, 0}, {sfd, POLLIN, 0}};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR) {
				continue;
			}
			_exit(1);
		}
		if (p[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			int st;
			pid_t pid;
			(void)!read(sfd, &si, sizeof(si));
			while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
				int32_t n[2] = {(int32_t)pid, (int32_t)st};
				send_all(note, n, sizeof(n));
			}
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			fs_req r;
			fs_ans a = {0, 0};
			ssize_t n = recv(req, &r, sizeof(r), 0);
			pid_t me = getpid();
			if (n <= 0) {
				_exit(0); /* the root is gone: members follow */
			}
			if (n != sizeof(r)) {
				continue;
			}
			r.spec[sizeof(r.spec) - 1] = '\0';
			if ((a.err = probe_threads(r.threads)) != 0) {
				a.pid = -1;
				send_all(req, &a, sizeof(a));
				continue;
			}
			a.pid = (int32_t)fork();
			if (a.pid == 0) {
				prctl(PR_SET_PDEATHSIG, SIGKILL);
				if (getppid() != me) {
					_exit(0);
				}
				prctl(PR_SET_NAME, "troupe-member");
				/* The program's signal handlers were made for
				 * the program, not for a member: a member that
				 * crashes must end with its signal (a test
				 * runner's SIGSEGV handler would jump back into
				 * the test). */
				for (int sig = 1; sig < NSIG; sig++) {
					if (sig != SIGKILL && sig != SIGSTOP) {
						signal(sig, SIG_DFL);
					}
				}
				close(req);
				close(note);
				close(sfd);
				sigprocmask(SIG_UNBLOCK, &chld, NULL);
				_exit(tri_member_main(r.spec));
			}
			if (a.pid < 0) {
				a.err = errno;
			}
			send_all(req, &a, sizeof(a));
		}
	}
}

int
tri_fork_server_start(void)
{
	int req[2], note[2];
	pid_t root = getpid(), pid;

	pthread_mutex_lock(&FS.mtx);
	if (FS.started || FS.failed) {
		pthread_mutex_unlock(&FS.mtx);
		return FS.started ? TR_OK : TR_ESYSTEM;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, req) != 0) {
		FS.failed = true;
		pthread_mutex_unlock(&FS.mtx);
		return TR_ESYSTEM;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, note) != 0) {
		close(req[0]);
		close(req[1]);
		FS.failed = true;
		pthread_mutex_unlock(&FS.mtx);
		return TR_ESYSTEM;
	}
	pid = fork();
	if (pid == 0) {
		close(req[0]);
		close(note[0]);
		server_main(req[1], note[1], root);
		_exit(0);
	}
	close(req[1]);
	close(note[1]);
	if (pid < 0) {
		close(req[0]);
		close(note[0]);
		FS.failed = true;
		pthread_mutex_unlock(&FS.mtx);
		return TR_ESYSTEM;
	}
	FS.pid = pid;
	FS.req = req[0];
	FS.note = note[0];
	FS.started = true;
	pthread_mutex_unlock(&FS.mtx);
	return TR_OK;
}

bool
tri_fork_server_running(void)
{
	return FS.started;
}

int
tri_fork_server_note_fd(void)
{
	return FS.note;
}

int
tri_fork_server_spawn(
    uint32_t proc, uint32_t threads, const char *spec, int *pid)
{
	fs_req r;
	fs_ans a;
	ssize_t n;

	if (!FS.started) {
		return TR_ENOTSUP;
	}
	memset(&r, 0, sizeof(r));
	r.proc = proc;
	r.threads = threads;
	if (strlen(spec) >= sizeof(r.spec)) {
		return TR_EINVAL;
	}
	strcpy(r.spec, spec);
	pthread_mutex_lock(&FS.mtx);
	send_all(FS.req, &r, sizeof(r));
	do {
		n = recv(FS.req, &a, sizeof(a), 0);
	} while (n < 0 && errno == EINTR);
	pthread_mutex_unlock(&FS.mtx);
	if (n != sizeof(a)) {
		return TR_ECLOSED; /* the server is gone */
	}
	if (a.pid < 0) {
		return tri_err_errno(a.err); /* EAGAIN: out of processes */
	}
	*pid = a.pid;
	return TR_OK;
}
