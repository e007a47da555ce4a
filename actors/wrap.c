/*
 * wrap.c -- exec placement for any program (a shell command, a Python
 * script, node): an actor of this process starts it with uv_spawn on its
 * own loop and stands for it.  The program's stdout and stderr come to
 * the spawner as TR_TAG_STDOUT / TR_TAG_STDERR messages (lines, or raw
 * chunks); messages sent to the actor are written to its stdin; its end
 * ends the actor, with reason normal, status(n) or signal(n), once its
 * output has been read to the end.
 *
 * The program runs in a session of its own (a new process group, no
 * controlling terminal): a Ctrl-C at the terminal of the tree, which the
 * terminal sends to its whole foreground group, must not end it behind
 * its supervisor's back -- only its actor's end does, with SIGTERM to
 * its group (so to the children it made, too), then the parent-death
 * signal as the actor's thread ends.
 *
 * Output pushes back: if the spawner's mailbox is full, the actor stops
 * reading the program's pipes until there is room, so a program that
 * floods its stdout is slowed down by its pipe, not buffered without
 * bound here.
 */
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actor.h"
#include "alloc.h"
#include "behavior.h"
#include "ctx.h"
#include "msg.h"
#include "process.h"
#include "runtime.h"

extern char **environ;

#define LINE_MAX_BYTES 65536
#define RETRY_MS 1
#define SEND_WAIT_MS 50

typedef struct wrap_out {
	uv_pipe_t pipe;
	uint32_t tag;
	char *line; /* partial line, lines mode */
	size_t len, cap;
	bool eof;
	struct wrap *w;
} wrap_out;

typedef struct wrap {
	uv_process_t proc;
	uv_pipe_t in;
	wrap_out out, err;
	uv_timer_t retry;
	tr_ref owner;
	bool raw;
	bool exited;
	bool in_open;
	bool reading;
	tr_reason reason;
	tri_msgq held; /* output the owner had no room for yet */
} wrap;

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

static void
alloc_cb(uv_handle_t *h, size_t want, uv_buf_t *buf)
{
	(void)h;
	(void)want;
	buf->base = tri_malloc(16384);
	buf->len = buf->base != NULL ? 16384 : 0;
}

static void
set_reading(wrap *w, bool on)
{
	if (w->reading == on) {
		return;
	}
	w->reading = on;
	if (!w->out.eof) {
		on ? uv_read_start(
		         (uv_stream_t *)&w->out.pipe, alloc_cb, on_read) :
		     uv_read_stop((uv_stream_t *)&w->out.pipe);
	}
	if (!w->err.eof) {
		on ? uv_read_start(
		         (uv_stream_t *)&w->err.pipe, alloc_cb, on_read) :
		     uv_read_stop((uv_stream_t *)&w->err.pipe);
	}
}

static void
maybe_end(wrap *w)
{
	if (w->exited && w->out.eof && w->err.eof && w->held.head == NULL) {
		tr_stop(tr_self(), w->reason);
	}
}

static void flush(wrap *w);

static void
on_retry(uv_timer_t *t)
{
	flush(t->data);
}

/* Sends what is held, in order, as far as the owner has room. */
static void
flush(wrap *w)
{
	tr_msg *m;

	while ((m = tri_msgq_pop(&w->held)) != NULL) {
		/* Wait a little for room: the owner's taking a message wakes
		 * us at once (a futex on its slot), where a timer would add
		 * its period per mailbox-full of output.  Past that, let the
		 * loop see stdin writes and the exit, and come back. */
		int rv = tr_send_timed(w->owner, m, SEND_WAIT_MS);
		if (rv == TR_EFULL || rv == TR_ETIMEDOUT) {
			/* Back at the head, and no more reading until the owner
			 * has room. */
			m->next = w->held.head;
			w->held.head = m;
			if (w->held.tail == NULL) {
				w->held.tail = m;
			}
			w->held.n++;
			set_reading(w, false);
			uv_timer_start(&w->retry, on_retry, RETRY_MS, 0);
			return;
		}
		if (rv != TR_OK) {
			tr_msg_free(m); /* the owner is gone: nobody to tell */
		}
	}
	set_reading(w, true);
	maybe_end(w);
}

static void
emit(wrap *w, uint32_t tag, const char *p, size_t n)
{
	tr_msg *m;

	if (tr_msg_new(&m, 0) != TR_OK) {
		return;
	}
	m->tag = tag; /* a system tag: made here, not by tr_msg_new */
	if (w->raw) {
		msgpack_pack_bin_with_body(tr_msg_packer(m), p, n);
	} else {
		msgpack_pack_str_with_body(tr_msg_packer(m), p, n);
	}
	tri_msgq_push(&w->held, m);
}

static void
on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	wrap_out *o = s->data;
	wrap *w = o->w;

	if (n > 0 && w->raw) {
		emit(w, o->tag, buf->base, (size_t)n);
	} else if (n > 0) {
		for (ssize_t i = 0; i < n; i++) {
			char ch = buf->base[i];
			if (ch == '\n' || o->len == LINE_MAX_BYTES) {
				emit(w, o->tag, o->line != NULL ? o->line : "",
				    o->len);
				o->len = 0;
				if (ch == '\n') {
					continue;
				}
			}
			if (o->len == o->cap) {
				size_t nc = o->cap ? o->cap * 2 : 256;
				char *nl = tri_realloc(o->line, nc);
				if (nl == NULL) {
					continue; /* drop the byte rather than
					             crash */
				}
				o->line = nl;
				o->cap = nc;
			}
			o->line[o->len++] = ch;
		}
	} else if (n < 0) {
		/* EOF or error: the last partial line, then this pipe is done.
		 */
		if (!w->raw && o->len > 0) {
			emit(w, o->tag, o->line, o->len);
			o->len = 0;
		}
		o->eof = true;
		uv_read_stop(s);
	}
	tri_free(buf->base);
	flush(w);
}

static void
on_exit_cb(uv_process_t *p, int64_t status, int sig)
{
	wrap *w = p->data;

	w->exited = true;
	if (sig != 0) {
		w->reason = TR_REASON(TR_EXIT_SIGNAL, sig);
	} else if (status != 0) {
		w->reason = TR_REASON(TR_EXIT_STATUS, (int32_t)status);
	} else {
		w->reason = TR_REASON_NORMAL;
	}
	maybe_end(w);
}

/* ------------------------------------------------------------------ */

typedef struct wrap_args {
	char prog[PATH_MAX];
	char cwd[PATH_MAX];
	char **argv;
	char **env;
	size_t nargv, nenv;
	bool raw;
	tr_ref owner;
} wrap_args;

static void
args_free(wrap_args *a)
{
	for (size_t i = 0; i < a->nargv; i++) {
		tri_free(a->argv[i]);
	}
	for (size_t i = 0; i < a->nenv; i++) {
		tri_free(a->env[i]);
	}
	tri_free(a->argv);
	tri_free(a->env);
}

static char *
dup_obj_str(const msgpack_object *o)
{
	char *s;

	if (o->type != MSGPACK_OBJECT_STR ||
	    (s = tri_malloc(o->via.str.size + 1)) == NULL) {
		return NULL;
	}
	memcpy(s, o->via.str.ptr, o->via.str.size);
	s[o->via.str.size] = '\0';
	return s;
}

static char **
dup_obj_strv(const msgpack_object *o, size_t *n)
{
	char **v;

	*n = 0;
	if (o->type != MSGPACK_OBJECT_ARRAY ||
	    (v = tri_calloc(o->via.array.size + 1, sizeof(*v))) == NULL) {
		return NULL;
	}
	for (uint32_t i = 0; i < o->via.array.size; i++) {
		if ((v[i] = dup_obj_str(&o->via.array.ptr[i])) == NULL) {
			break;
		}
		(*n)++;
	}
	return v;
}

/* Init argument: [prog, cwd, [argv...], [env...], raw, owner]. */
static int
args_parse(tr_msg *arg, wrap_args *a)
{
	msgpack_object o;
	char *s;

	memset(a, 0, sizeof(*a));
	if (arg == NULL || tr_msg_body(arg, &o) != TR_OK ||
	    o.type != MSGPACK_OBJECT_ARRAY || o.via.array.size != 6) {
		return TR_EINVAL;
	}
	if ((s = dup_obj_str(&o.via.array.ptr[0])) == NULL) {
		return TR_EINVAL;
	}
	snprintf(a->prog, sizeof(a->prog), "%s", s);
	tri_free(s);
	if ((s = dup_obj_str(&o.via.array.ptr[1])) != NULL) {
		snprintf(a->cwd, sizeof(a->cwd), "%s", s);
		tri_free(s);
	}
	a->argv = dup_obj_strv(&o.via.array.ptr[2], &a->nargv);
	a->env = dup_obj_strv(&o.via.array.ptr[3], &a->nenv);
	a->raw = o.via.array.ptr[4].type == MSGPACK_OBJECT_BOOLEAN &&
	    o.via.array.ptr[4].via.boolean;
	if (a->argv == NULL || a->env == NULL ||
	    tr_unpack_ref(&o.via.array.ptr[5], &a->owner) != TR_OK) {
		args_free(a);
		return TR_EINVAL;
	}
	return TR_OK;
}

static int
wrap_init(void *state, tr_msg *arg)
{
	wrap *w = state;
	uv_loop_t *loop = (uv_loop_t *)tr_loop();
	const char *pre[] = {"/usr/bin/setpriv", "--pdeathsig", "KILL", "--"};
	size_t npre = access(pre[0], X_OK) == 0 ? 4 : 0, nenv = 0, k = 0;
	uv_process_options_t o;
	uv_stdio_container_t stdio[3];
	char **argv, **env;
	wrap_args a;
	int rv;

	if ((rv = args_parse(arg, &a)) != TR_OK) {
		return rv;
	}
	while (environ[nenv] != NULL) {
		nenv++;
	}
	argv = tri_calloc(npre + a.nargv + 2, sizeof(*argv));
	env = tri_calloc(nenv + a.nenv + 1, sizeof(*env));
	if (argv == NULL || env == NULL) {
		tri_free(argv);
		tri_free(env);
		args_free(&a);
		return TR_ENOMEM;
	}
	/* setpriv makes the program die with this actor's thread. */
	for (size_t i = 0; i < npre; i++) {
		argv[k++] = (char *)pre[i];
	}
	argv[k++] = a.prog;
	for (size_t i = 1; i < a.nargv; i++) {
		argv[k++] = a.argv[i];
	}
	k = 0;
	for (size_t i = 0; i < nenv; i++) {
		env[k++] = environ[i];
	}
	for (size_t i = 0; i < a.nenv; i++) {
		env[k++] = a.env[i];
	}

	w->owner = a.owner;
	w->raw = a.raw;
	w->out.tag = TR_TAG_STDOUT;
	w->err.tag = TR_TAG_STDERR;
	w->out.w = w->err.w = w;
	uv_pipe_init(loop, &w->in, 0);
	uv_pipe_init(loop, &w->out.pipe, 0);
	uv_pipe_init(loop, &w->err.pipe, 0);
	uv_timer_init(loop, &w->retry);
	w->retry.data = w;
	w->out.pipe.data = &w->out;
	w->err.pipe.data = &w->err;
	w->proc.data = w;
	stdio[0].flags = UV_CREATE_PIPE | UV_READABLE_PIPE;
	stdio[0].data.stream = (uv_stream_t *)&w->in;
	stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[1].data.stream = (uv_stream_t *)&w->out.pipe;
	stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[2].data.stream = (uv_stream_t *)&w->err.pipe;
	memset(&o, 0, sizeof(o));
	o.file = argv[0];
	o.args = argv;
	o.env = env;
	o.cwd = a.cwd[0] != '\0' ? a.cwd : NULL;
	o.exit_cb = on_exit_cb;
	o.flags = UV_PROCESS_DETACHED; /* setsid(): see the top */
	o.stdio = stdio;
	o.stdio_count = 3;
	rv = uv_spawn(loop, &w->proc, &o);
	tri_free(argv);
	tri_free(env);
	args_free(&a);
	if (rv != 0) {
		/* The runtime closes the pipes and timer with the loop. */
		return tri_err_uv(rv);
	}
	/* Its pid is the program's (setpriv execs it): what status and the
	 * logs show for this actor. */
	atomic_store(&tri_self()->mb.rec->pid, (int32_t)w->proc.pid);
	w->in_open = true;
	set_reading(w, true);
	return 0;
}

static void
on_written(uv_write_t *req, int status)
{
	(void)status; /* a program that closed its stdin: nothing to do */
	tri_free(req->data);
	tri_free(req);
}

static int
wrap_handle(void *state, tr_msg *msg)
{
	wrap *w = state;
	msgpack_object o;
	const char *p;
	size_t n;
	uv_write_t *req;
	uv_buf_t buf;

	if (tr_msg_body(msg, &o) != TR_OK || !w->in_open) {
		return 0;
	}
	if (o.type == MSGPACK_OBJECT_NIL) {
		w->in_open = false;
		uv_close((uv_handle_t *)&w->in, NULL);
		return 0;
	}
	if (o.type == MSGPACK_OBJECT_STR) {
		p = o.via.str.ptr;
		n = o.via.str.size;
	} else if (o.type == MSGPACK_OBJECT_BIN) {
		p = o.via.bin.ptr;
		n = o.via.bin.size;
	} else {
		return 0; /* nothing a program's stdin could take */
	}
	if ((req = tri_malloc(sizeof(*req))) == NULL ||
	    (req->data = tri_malloc(n ? n : 1)) == NULL) {
		tri_free(req);
		return TR_ENOMEM;
	}
	memcpy(req->data, p, n);
	buf = uv_buf_init(req->data, (unsigned)n);
	if (uv_write(req, (uv_stream_t *)&w->in, &buf, 1, on_written) != 0) {
		tri_free(req->data);
		tri_free(req);
	}
	return 0;
}

static void
wrap_terminate(void *state, tr_reason why)
{
	wrap *w = state;

	(void)why;
	if (!w->exited) {
		/* Its group: the program leads it (a session of its own), and
		 * is not reaped yet, so the id is still its. */
		if (kill(-w->proc.pid, SIGTERM) != 0) {
			uv_process_kill(&w->proc, SIGTERM);
		}
	}
	tri_msgq_clear(&w->held);
	tri_free(w->out.line);
	tri_free(w->err.line);
}

static const tri_behavior wrap_behavior = {
    "troupe.exec", sizeof(wrap), wrap_init, wrap_handle, wrap_terminate};

int
tri_wrap_spawn(const tr_spec *spec, tr_ref *out, tr_reason *why)
{
	char prog[PATH_MAX];
	tr_spec s = *spec;
	tr_msg *arg;
	msgpack_packer *pk;
	size_t n;
	int rv;

	if (tri_self() == NULL) {
		return TR_ESTATE; /* its output needs somewhere to go */
	}
	if ((rv = tri_find_program(spec->program, prog, sizeof(prog))) !=
	    TR_OK) {
		return rv;
	}
	if ((rv = tr_msg_new(&arg, 0)) != TR_OK) {
		return rv;
	}
	pk = tr_msg_packer(arg);
	msgpack_pack_array(pk, 6);
	msgpack_pack_str_with_body(pk, prog, strlen(prog));
	if (spec->cwd != NULL) {
		msgpack_pack_str_with_body(pk, spec->cwd, strlen(spec->cwd));
	} else {
		msgpack_pack_nil(pk);
	}
	for (n = 0; spec->argv != NULL && spec->argv[n] != NULL; n++) {
	}
	msgpack_pack_array(pk, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		msgpack_pack_str_with_body(
		    pk, spec->argv[i], strlen(spec->argv[i]));
	}
	for (n = 0; spec->env != NULL && spec->env[n] != NULL; n++) {
	}
	msgpack_pack_array(pk, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		msgpack_pack_str_with_body(
		    pk, spec->env[i], strlen(spec->env[i]));
	}
	if (spec->raw_output) {
		msgpack_pack_true(pk);
	} else {
		msgpack_pack_false(pk);
	}
	tr_pack_ref(pk, tr_self());
	s.init_arg = arg;
	s.placement = TR_PLACE_EXEC;
	rv = tri_actor_spawn(&s, &wrap_behavior, out, why);
	tr_msg_free(arg);
	if (rv == TR_EINIT && why != NULL && why->kind == TR_EXIT_ERROR &&
	    (why->code == TR_ENOENT || why->code == TR_EPERM ||
	        why->code == TR_ERESOURCE || why->code == TR_ENOMEM)) {
		return why->code; /* uv_spawn could not start it */
	}
	return rv;
}
