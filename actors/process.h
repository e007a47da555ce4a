/*
 * process.h -- private to troupe: the processes of a node: spec files
 * (pspec.c), the fork server (fork_server.c), members (member.c), the
 * root's node service (node.c), process and wrapped placements
 * (process.c, wrap.c).  Not API.
 */
#ifndef TRI_PROCESS_H
#define TRI_PROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "behavior.h"
#include "frame.h"
#include "troupe.h"

/* What a new process needs to join the node (pspec.c). */
typedef struct tri_pspec {
	uint32_t node, proc, root_pid, capacity, max_body, arg_tag;
	char rundir[256], sockdir[256];
	tr_ref spawner;
	uint64_t corr;
	char behavior[TR_NAME_MAX + 1];
	char name[TR_NAME_MAX + 1];
	uint64_t fn_init, fn_handle, fn_terminate, state_size;
	bool have_fns, link, trap, has_arg;
	uint8_t *arg;
	size_t arg_len;
} tri_pspec;

int tri_pspec_write(const tri_pspec *s, const char *path);
int tri_pspec_read(const char *path, tri_pspec *s);
void tri_pspec_free(tri_pspec *s);

/* Runtime start for a process that joins a node (member.c). */
int tri_init_member(const tr_options *opts, const tri_pspec *s);
int tri_exec_join(const char *spec_path);

/* Fork server (fork_server.c) and members (member.c). */
int tri_fork_server_start(void);
bool tri_fork_server_running(void);
int tri_fork_server_note_fd(void);
/* Forks member proc with its spec file; threads: the tasks it will
 * need, which the server makes sure it can have first (TR_ERESOURCE if
 * not, as for a fork that fails with EAGAIN). */
int tri_fork_server_spawn(
    uint32_t proc, uint32_t threads, const char *spec, int *pid);
int tri_member_main(const char *spec_path);
/* The exit status of a member that could not join the node for want of
 * descriptors, threads or memory (EX_TEMPFAIL): before its READY, its
 * spawner reads it as TR_ERESOURCE. */
#define TRI_MEMBER_EX_RESOURCE 75
/* Joins the node described by s instead of making one (tr_init). */
int tri_member_boot(const tri_pspec *s);
/* Runs the actor s asks for; returns the process's exit status. */
int tri_member_run(const tri_pspec *s, const tri_behavior *b);

/* The root's node service (node.c): processes of the node. */
int tri_node_start(void);
void tri_node_stop(void);
/* Registers a process about to start; returns its proc id. */
int tri_node_proc_new(tr_placement place, uint32_t *proc);
void tri_node_proc_started(uint32_t proc, int pid);
void tri_node_proc_ready(uint32_t proc, tr_ref actor);
/* Starts an exec'd troupe program (through the service's loop). */
int tri_node_exec(
    uint32_t proc, const tr_spec *spec, const char *spec_path, int *pid);
/* Why proc ended, once it has (false if it has not), and the actor it
 * had started, if any (TR_REF_NIL). */
bool tri_node_proc_reason(uint32_t proc, tr_reason *why, tr_ref *actor);
/* Whether the node's process proc has ended.  Any thread. */
bool tri_node_proc_ended(uint32_t proc);
void tri_node_kill(uint32_t proc, int sig);
/* Root: hands f to the main context of every other live process of the
 * node (each tells its own contexts). */
void tri_node_broadcast(const tri_frame *f);
/* Stops every process newest first (shutdown). */
int tri_node_stop_all(uint64_t deadline);
/* Test hook: fn (NULL: none) runs on the service's thread in each
 * announcement of a process's end, after the root's contexts were told
 * and before its schedulers are (tests/test_node_stop.c). */
void tri_node_test_hook_announce(void (*fn)(void));

/* Resolves a program like execvp would: TR_OK, TR_ENOENT, TR_EPERM. */
int tri_find_program(const char *prog, char *out, size_t len);

/* Any program, wrapped by a thread actor (wrap.c). */
int tri_wrap_spawn(const tr_spec *spec, tr_ref *out, tr_reason *why);

/* Process placements (process.c). */
int tri_process_spawn(const tr_spec *spec, const tri_behavior *b,
    tr_placement place, tr_ref *out, tr_reason *why);

#endif
