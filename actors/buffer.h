/*
 * buffer.h -- private to troupe: shared buffers.  Not API.
 *
 * Two files: the node's table of buffers and their backing files, shared
 * by every process of the node (buftab.c), and this process's handles,
 * mappings and the holds its messages carry (buffer.c).  docs/design.md,
 * "Shared buffers", says why it is built so.
 */
#ifndef TRI_BUFFER_H
#define TRI_BUFFER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "troupe.h"

/* The node's table (buftab.c)                                         */

/* Buffers alive at once in a node, and processes holding one at once. */
#define TRI_BUF_ENTRIES 4096
#define TRI_BUF_HOLDERS 32
/* A proc no process has: an ext whose hold was not taken over. */
#define TRI_BUF_NOPROC UINT32_MAX

/* What a buffer ext names (TR_MSGPACK_EXT_BUF, 32 bytes big-endian:
 * node, id, gen, proc, size, key). */
typedef struct tri_bufname {
	uint32_t node;
	uint32_t id;
	uint32_t gen;
	uint32_t proc; /* whose hold the message carries */
	uint64_t size;
	uint64_t key;
} tri_bufname;

#define TRI_BUF_EXT_LEN 32
void tri_bufname_put(uint8_t *p, const tri_bufname *n);
void tri_bufname_get(const uint8_t *p, tri_bufname *n);

/* Maps the table (the root makes it).  TR_OK, or the open's error. */
int tri_buftab_open(bool create);
void tri_buftab_close(void);
/* A new buffer held once by this process, its zeroed backing file made
 * (mode 0600) and open in *fd for the caller to map and close.
 * TR_ERESOURCE (table full, no space), TR_ENOMEM. */
int tri_buftab_new(uint64_t size, tri_bufname *out, int *fd);
/* Opens n's backing file for reading and writing after checking it as
 * the run directory's files are (ours, regular, no access for others,
 * of n's size).  TR_EPROTO if it does not pass. */
int tri_buftab_open_file(const tri_bufname *n, int *fd);
/* n names a live buffer (key included): one more hold for proc.
 * alive, if not NULL, is proc's slot table's flag: a process the root
 * has marked gone is refused (TR_ENOPROC), so that no hold is taken for
 * it after the root dropped its holds.  TR_EPROTO if n names none
 * (forged, foreign or gone), TR_ERESOURCE if TRI_BUF_HOLDERS processes
 * hold it already. */
int tri_buftab_hold(
    const tri_bufname *n, uint32_t proc, _Atomic uint32_t *alive);
/* Whether proc has a hold on the live buffer n names. */
bool tri_buftab_held(const tri_bufname *n, uint32_t proc);
/* Drops one hold of proc; the last hold of all frees the buffer (its
 * backing file goes; mappings stay valid until unmapped). */
void tri_buftab_release(const tri_bufname *n, uint32_t proc);
/* Root: a process of the node ended; its holds go. */
void tri_buftab_drop_proc(uint32_t proc);
/* Buffers alive in the node (tests, soak). */
uint32_t tri_buftab_live(void);
/* Tests: what a process killed inside tri_buftab_release() leaves -- one
 * hold of proc on n counted down, the buffer not freed even if it was
 * the last, the table's lock held.  Only for a child process that ends
 * at once. */
void tri_buftab_test_die_releasing(const tri_bufname *n, uint32_t proc);

/* This process (buffer.c)                                             */

int tri_buf_init(void);
void tri_buf_fini(void);
/* The context ref ended: the handles it made or received go. */
void tri_buf_owner_gone(tr_ref owner);
/* A message's body carries holds (msg->bufs of them): frames made from
 * it carry TRI_F_BUFS. */
struct tr_msg;
/* The packer is a message's: that message, else NULL (msg.c). */
struct tr_msg *tri_msg_of_packer(msgpack_packer *pk);
/*
 * The holds a body of this process carries: the exts that name this
 * process as their holder.  map: a message's holds also keep the
 * buffer mapped here; a frame's do not.
 *  - hold: one more each (a message copied, a frame sent); all or
 *    nothing: TR_ERESOURCE or TR_ENOMEM and none taken;
 *  - release: one fewer each (a message freed, a frame not sent).
 */
int tri_buf_body_hold(const uint8_t *body, size_t len, bool map);
void tri_buf_body_release(const uint8_t *body, size_t len, bool map);
/*
 * A frame made from a body of this process, on its way to the process
 * proc (this one, or another of the node): one hold per buffer its body
 * holds, for proc -- so that if proc dies before it reads the frame, the
 * root's drop of proc's holds frees them, and if it reads it, the holds
 * are its own already.  alive: proc's slot table's flag (NULL for this
 * process): a process marked gone gets none (TR_ENOPROC).  All or none;
 * TR_OK at once for a frame without TRI_F_BUFS.
 */
int tri_buf_frame_hold(
    const tri_frame *f, uint32_t proc, _Atomic uint32_t *alive);
/* The frame was not sent after all: the holds taken for proc go. */
void tri_buf_frame_unhold(const tri_frame *f, uint32_t proc);
/* A frame's body, copied into a message of this process: the holds it
 * carried for us are the message's, and its exts say so (an ext we hold
 * nothing for, or cannot map, is marked TRI_BUF_NOPROC).  Returns how
 * many it took over. */
uint32_t tri_buf_body_adopt(uint8_t *body, size_t len);
/* A frame with TRI_F_BUFS that came to this process and is dropped
 * before it became a message: the holds it carried for us go. */
void tri_buf_frame_drop(const tri_frame *f);

#endif
