/*
 * behaviors_buf.h -- the protocol of "buf.kit" (behaviors_buf.c), the
 * actor test_buffers.c hands shared buffers to.  It may run in another
 * process, so it reports everything by message.
 *
 * Calls (answered with tr_reply, body an array):
 *   TB_FILL   [buf, byte] -> [rv, addr]: takes a handle on buf, sets
 *             every byte to byte, lets the handle go; addr is where
 *             the bytes are mapped in its process
 *   TB_HOLD   [buf]       -> [rv]: keeps a handle on buf (in its state)
 *   TB_DROP   []          -> [rv, word]: reads the first 64-bit word of
 *             the kept buffer (atomically), then lets it go
 *   TB_MAKE   [size, byte] -> [rv, buf]: makes a buffer filled with
 *             byte, keeps a handle and shares it in the reply
 *   TB_BACK   [buf]       -> [buf, data_rv, pack_rv]: takes a handle,
 *             transfers it into the reply, then tries to use the
 *             detached handle (data_rv, pack_rv: what that returned)
 *   TB_UNPACK [ext]       -> [rv, bad_buffers]: what tr_unpack_buf said
 *             of ext, and its process's count of refused buffers after
 * Plain messages:
 *   TB_ADD    [buf, n]: adds 1 to the first 64-bit word of buf, n times,
 *             with atomic_fetch_add, keeping the handle (as TB_HOLD)
 */
#ifndef TEST_BEHAVIORS_BUF_H
#define TEST_BEHAVIORS_BUF_H

#define TB_BASE 0x4200u
#define TB_FILL (TB_BASE + 0x01)
#define TB_HOLD (TB_BASE + 0x02)
#define TB_DROP (TB_BASE + 0x03)
#define TB_MAKE (TB_BASE + 0x04)
#define TB_BACK (TB_BASE + 0x05)
#define TB_UNPACK (TB_BASE + 0x06)
#define TB_ADD (TB_BASE + 0x07)
#define TB_REPLY (TB_BASE + 0x10)

#endif
