/*
 * error.c -- the one error space, and libuv's and the system's errors
 * mapped onto it.  (nng's are mapped in transport/socket.c, the only
 * file that sees it.)
 */
#include <errno.h>
#include <uv.h>

#include "runtime.h"

static const char *const messages[] = {
    [TR_OK] = "no error",
    [TR_EINVAL] = "invalid argument",
    [TR_ENOMEM] = "out of memory",
    [TR_ENOPROC] = "no such actor (never existed or has ended)",
    [TR_ENOENT] = "no such name, behavior, timer or program",
    [TR_EEXIST] = "already exists",
    [TR_EFULL] = "mailbox full",
    [TR_ETIMEDOUT] = "timed out",
    [TR_ECLOSED] = "runtime not running",
    [TR_EPROTO] = "malformed frame or message body",
    [TR_EMSGSIZE] = "message too large",
    [TR_EINIT] = "actor init failed",
    [TR_ESTATE] = "not allowed in this context",
    [TR_ECANCELED] = "canceled",
    [TR_EPERM] = "permission denied",
    [TR_ENOTSUP] = "not supported",
    [TR_ETRANSPORT] = "transport error",
    [TR_ESYSTEM] = "operating system error",
    [TR_ERESOURCE] =
        ("out of resources (file descriptors, processes or threads)"),
    [TR_EDETACHED] = "buffer was transferred away",
    [TR_ENOCONN] = "the actor's node is not connected",
};

const char *
tr_strerror(int err)
{
	if (err >= 0 && (size_t)err < sizeof(messages) / sizeof(messages[0]) &&
	    messages[err] != NULL) {
		return messages[err];
	}
	return "unknown error";
}

int
tri_err_uv(int e)
{
	switch (e) {
	case 0:
		return TR_OK;
	case UV_ENOMEM:
		return TR_ENOMEM;
	case UV_EMFILE:
	case UV_ENFILE:
	case UV_EAGAIN: /* from a call that makes something: a limit */
	case UV_ENOSPC:
		return TR_ERESOURCE;
	case UV_EINVAL:
		return TR_EINVAL;
	case UV_ENOENT:
		return TR_ENOENT;
	case UV_EEXIST:
	case UV_EADDRINUSE:
		return TR_EEXIST;
	case UV_ETIMEDOUT:
		return TR_ETIMEDOUT;
	case UV_EACCES:
	case UV_EPERM:
		return TR_EPERM;
	case UV_ECANCELED:
		return TR_ECANCELED;
	case UV_ENOTSUP:
	case UV_ENOSYS:
		return TR_ENOTSUP;
	case UV_ESRCH:
		return TR_ENOPROC;
	default:
		return TR_ESYSTEM;
	}
}

int
tri_err_errno(int e)
{
	switch (e) {
	case ENOMEM:
		return TR_ENOMEM;
	case EMFILE:
	case ENFILE:
	case EAGAIN: /* from a call that makes something: a limit */
	case ENOSPC:
	case EDQUOT:
		return TR_ERESOURCE;
	case EACCES:
	case EPERM:
		return TR_EPERM;
	case ENOENT:
		return TR_ENOENT;
	case EEXIST:
		return TR_EEXIST;
	case EINVAL:
		return TR_EINVAL;
	default:
		return TR_ESYSTEM;
	}
}
