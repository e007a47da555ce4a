/*
 * pspec.c -- what a new process needs to know to join the node and run
 * its actor, written by the spawner to <rundir>/<proc>.spec as one
 * msgpack map and read back by the member (fork) or program (exec).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "frame.h"
#include "process.h"
#include "runtime.h"

static void
pack_str(msgpack_packer *pk, const char *k, const char *v)
{
	msgpack_pack_str_with_body(pk, k, strlen(k));
	msgpack_pack_str_with_body(pk, v, strlen(v));
}

static void
pack_u64(msgpack_packer *pk, const char *k, uint64_t v)
{
	msgpack_pack_str_with_body(pk, k, strlen(k));
	msgpack_pack_uint64(pk, v);
}

int
tri_pspec_write(const tri_pspec *s, const char *path)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	FILE *f;
	int rv = TR_OK;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 21);
	pack_u64(&pk, "node", s->node);
	pack_u64(&pk, "proc", s->proc);
	pack_u64(&pk, "root_pid", s->root_pid);
	pack_u64(&pk, "capacity", s->capacity);
	pack_u64(&pk, "max_body", s->max_body);
	pack_str(&pk, "rundir", s->rundir);
	pack_str(&pk, "sockdir", s->sockdir);
	msgpack_pack_str_with_body(&pk, "spawner", 7);
	tr_pack_ref(&pk, s->spawner);
	pack_u64(&pk, "corr", s->corr);
	pack_str(&pk, "behavior", s->behavior);
	pack_str(&pk, "name", s->name);
	pack_u64(&pk, "fn_init", s->fn_init);
	pack_u64(&pk, "fn_handle", s->fn_handle);
	pack_u64(&pk, "fn_terminate", s->fn_terminate);
	pack_u64(&pk, "state_size", s->state_size);
	pack_u64(&pk, "have_fns", s->have_fns);
	pack_u64(&pk, "link", s->link);
	pack_u64(&pk, "trap", s->trap);
	pack_u64(&pk, "has_arg", s->has_arg);
	pack_u64(&pk, "arg_tag", s->arg_tag);
	msgpack_pack_str_with_body(&pk, "arg", 3);
	msgpack_pack_bin_with_body(&pk, s->arg, s->arg_len);

	if ((f = fopen(path, "wbx")) == NULL) {
		rv = tri_err_errno(errno); /* EMFILE, ENOSPC: TR_ERESOURCE */
	} else {
		if (fwrite(sb.data, 1, sb.size, f) != sb.size) {
			rv = tri_err_errno(errno);
		}
		if (fclose(f) != 0 && rv == TR_OK) {
			rv = tri_err_errno(errno);
		}
		if (rv != TR_OK) {
			unlink(path);
		}
	}
	msgpack_sbuffer_destroy(&sb);
	return rv;
}

static bool
key_is(const msgpack_object *k, const char *name)
{
	return k->type == MSGPACK_OBJECT_STR &&
	    k->via.str.size == strlen(name) &&
	    memcmp(k->via.str.ptr, name, k->via.str.size) == 0;
}

static void
get_str(const msgpack_object *v, char *out, size_t len)
{
	if (v->type == MSGPACK_OBJECT_STR && v->via.str.size < len) {
		memcpy(out, v->via.str.ptr, v->via.str.size);
		out[v->via.str.size] = '\0';
	}
}

int
tri_pspec_read(const char *path, tri_pspec *s)
{
	msgpack_zone z;
	msgpack_object o;
	uint8_t *buf = NULL;
	size_t len = 0, off = 0;
	long n;
	FILE *f;
	int rv = TR_EPROTO;

	memset(s, 0, sizeof(*s));
	if ((f = fopen(path, "rb")) == NULL) {
		return TR_ENOENT;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    n > (long)TR_MSG_MAX + 65536 || fseek(f, 0, SEEK_SET) != 0 ||
	    (buf = malloc((size_t)n + 1)) == NULL ||
	    fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(buf);
		return TR_ESYSTEM;
	}
	fclose(f);
	len = (size_t)n;
	if (tri_body_check(buf, len) != TR_OK || !msgpack_zone_init(&z, 1024)) {
		free(buf);
		return TR_EPROTO;
	}
	if (msgpack_unpack((const char *)buf, len, &off, &z, &o) ==
	        MSGPACK_UNPACK_SUCCESS &&
	    o.type == MSGPACK_OBJECT_MAP) {
		for (uint32_t i = 0; i < o.via.map.size; i++) {
			const msgpack_object *k = &o.via.map.ptr[i].key;
			const msgpack_object *v = &o.via.map.ptr[i].val;
			uint64_t u =
			    v->type == MSGPACK_OBJECT_POSITIVE_INTEGER ?
			    v->via.u64 :
			    0;
			if (key_is(k, "node"))
				s->node = (uint32_t)u;
			else if (key_is(k, "proc"))
				s->proc = (uint32_t)u;
			else if (key_is(k, "root_pid"))
				s->root_pid = (uint32_t)u;
			else if (key_is(k, "capacity"))
				s->capacity = (uint32_t)u;
			else if (key_is(k, "max_body"))
				s->max_body = (uint32_t)u;
			else if (key_is(k, "rundir"))
				get_str(v, s->rundir, sizeof(s->rundir));
			else if (key_is(k, "sockdir"))
				get_str(v, s->sockdir, sizeof(s->sockdir));
			else if (key_is(k, "spawner"))
				(void)tr_unpack_ref(v, &s->spawner);
			else if (key_is(k, "corr"))
				s->corr = u;
			else if (key_is(k, "behavior"))
				get_str(v, s->behavior, sizeof(s->behavior));
			else if (key_is(k, "name"))
				get_str(v, s->name, sizeof(s->name));
			else if (key_is(k, "fn_init"))
				s->fn_init = u;
			else if (key_is(k, "fn_handle"))
				s->fn_handle = u;
			else if (key_is(k, "fn_terminate"))
				s->fn_terminate = u;
			else if (key_is(k, "state_size"))
				s->state_size = u;
			else if (key_is(k, "have_fns"))
				s->have_fns = u != 0;
			else if (key_is(k, "link"))
				s->link = u != 0;
			else if (key_is(k, "trap"))
				s->trap = u != 0;
			else if (key_is(k, "has_arg"))
				s->has_arg = u != 0;
			else if (key_is(k, "arg_tag"))
				s->arg_tag = (uint32_t)u;
			else if (key_is(k, "arg") &&
			    v->type == MSGPACK_OBJECT_BIN &&
			    v->via.bin.size > 0) {
				if ((s->arg = tri_malloc(v->via.bin.size)) !=
				    NULL) {
					memcpy(s->arg, v->via.bin.ptr,
					    v->via.bin.size);
					s->arg_len = v->via.bin.size;
				}
			}
		}
		rv = (s->node != 0 && s->proc != 0 && s->rundir[0] != '\0' &&
		         s->corr != 0) ?
		    TR_OK :
		    TR_EPROTO;
	}
	msgpack_zone_destroy(&z);
	free(buf);
	if (rv != TR_OK) {
		tri_free(s->arg);
		s->arg = NULL;
	}
	return rv;
}

void
tri_pspec_free(tri_pspec *s)
{
	tri_free(s->arg);
	s->arg = NULL;
}
