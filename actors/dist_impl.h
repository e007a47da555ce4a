/*
 * dist_impl.h -- private to dist*.c: the peer table and a session's
 * parts.  Not API.
 */
#ifndef TRI_DIST_IMPL_H
#define TRI_DIST_IMPL_H

#include <pthread.h>
#include <stdatomic.h>

#include <msgpack.h>

#include "dist.h"
#include "peer.h"

/* Protocol versions this node speaks (HELLO). */
#define TRI_DIST_VMIN 1
#define TRI_DIST_VMAX 1
#define TRI_PEERS_MAX 256
/* Frames longer than this go in pieces of this size. */
#define TRI_FRAG 65536
/* An nng message on a session carries up to about this many bytes. */
#define TRI_BATCH 262144
/* Largest message a node listener takes: a batch, its last frame
 * whole (a frame up to TRI_FRAG plus headers). */
#define TRI_DIST_MAXMSG (TRI_BATCH + TRI_FRAG + 4096)
/* Credits a sender starts with for each actor of another node, and how
 * many the receiving node gathers before it gives them back (else each
 * dist loop).  A window of 64 was measured at 10-19 k msgs/s on a
 * loaded 2-core machine: every round trip of credits costs a wake-up
 * or two, some 4 ms each when the cores are busy. */
#define TRI_WINDOW 512
#define TRI_WINDOW_RETURN (TRI_WINDOW / 4)
#define TRI_CREDIT_BUCKETS 256

/* One encoded frame queued on a session. */
typedef struct tri_witem {
	struct tri_witem *next;
	uint8_t *data;
	size_t len, off; /* off: how much of a big one left already */
	uint64_t fragno; /* big ones: their number on the connection */
	bool user;       /* a user message: a dead letter if never sent */
} tri_witem;

/* The frames one actor sent, in order. */
typedef struct tri_wstream {
	tr_ref sender;
	tri_witem *head, *tail;
	struct tri_wstream *hnext; /* in the stream table */
	struct tri_wstream *rnext; /* in the ring of streams with frames */
	bool in_ring;
} tri_wstream;

typedef struct tri_credit {
	tr_ref dest;
	int32_t n; /* sender: credits left; receiver: credits owed */
	struct tri_credit *next;
} tri_credit;

/* A big frame coming in pieces. */
typedef struct tri_asm {
	uint64_t fragno;
	uint8_t *data;
	size_t len, got;
	struct tri_asm *next;
} tri_asm;

/* A frame waiting for room in a full mailbox of this node. */
typedef struct tri_held {
	struct tri_held *next;
	tr_ref dest;
	uint8_t *data; /* its encoding */
	size_t len;
} tri_held;

struct tri_peer {
	/* Under D.mtx: */
	char name[TR_NAME_MAX + 1]; /* "" for a seed not heard yet */
	char url[128];
	uint32_t id;         /* its node id in the last handshake */
	tr_node_state state; /* as tr_nodes() says */
	bool up;             /* a session is up: sends may go */
	bool used;
	uint64_t session; /* counts sessions; sends name theirs */
	tri_peer_dialer *out;
	bool out_verified; /* dialed as its name (or insecure) */
	bool dialing;
	bool close_out;   /* the dist thread closes `out` */
	uint64_t nonce;   /* sent on `out`; echoed back binds a pipe */
	uint32_t in_pipe; /* its connection to us, once bound */
	uint64_t their_nonce;
	bool echoed;    /* their_nonce was echoed on `out` */
	tr_ref service; /* its spawn service */
	uint64_t next_dial, backoff_ms;
	uint64_t dialed_at; /* when `out` connected */
	bool announce_up, announce_down;
	/* With etcd: whether its key is there (only members are dialed). */
	bool member;
	uint32_t down_id; /* the id to announce down */
	char why[256];    /* why the last session ended */

	/* Atomics, read by tr_nodes without locks: */
	_Atomic uint64_t last_heard, last_sent;
	_Atomic uint32_t rtt_us;
	_Atomic uint64_t sessions, frames_in, frames_out;

	/* Under mtx (the writer, credits, arrivals): */
	pthread_mutex_t mtx;
	pthread_cond_t credit_cv;
	tri_witem *prio_head, *prio_tail;
	tri_wstream *streams[TRI_CREDIT_BUCKETS];
	tri_wstream *ring; /* the stream whose turn is next */
	tri_wstream *ring_tail;
	tri_peer_dialer *wout; /* the connection the writer sends on */
	bool sending;
	uint8_t *batch;
	size_t batch_cap;
	uint64_t next_fragno;
	tri_credit *credits[TRI_CREDIT_BUCKETS]; /* to its actors */
	tri_credit *owed[TRI_CREDIT_BUCKETS];    /* to give back */
	uint32_t owed_total;
	tri_asm *asms;
	size_t asm_bytes;
	tri_held *held_head, *held_tail;
	/* Members' user messages (dist_gw.c) waiting for a credit, each
	 * holding a slot of the gateway. */
	tri_held *parked_head, *parked_tail;
	uint64_t wsession; /* the session the writer serves */
};

typedef struct tri_dist {
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	bool on, stopping;
	tr_cluster_opts o; /* strings below */
	char cluster[TR_NAME_MAX + 1];
	char name[TR_NAME_MAX + 1];
	char url[128];
	bool insecure;
	tri_tls_files tls;
	char *files[3];
	uint32_t tick_ms, timeout_ms;
	tri_peer_listener *listener;
	tri_peer peers[TRI_PEERS_MAX];
	uint32_t npeers;
	pthread_t thread;
	int dials; /* dial threads running */
	tr_ref service;
	/* membership: etcd (NULL: static) */
	struct tri_members *members;
	bool fenced; /* lost its lease: no session until it holds one */
} tri_dist;

extern tri_dist D;

/* dist.c */
void tri_dist_down_locked(tri_peer *p, const char *why);
void tri_dist_up_locked(tri_peer *p);
tri_peer *tri_dist_find_locked(const char *name);
tri_peer *tri_dist_add_locked(const char *name, const char *url);
void tri_dist_kick(void);
uint64_t tri_dist_now_us(void);

/* dist_members.c: joins through etcd and starts its watch (a sentence
 * on stderr if it cannot). */
int tri_dist_members_start(const tr_cluster_opts *o);

/* dist_hello.c */
typedef struct tri_hello {
	uint64_t vmin, vmax;
	char cluster[TR_NAME_MAX + 1];
	char name[TR_NAME_MAX + 1];
	uint32_t id;
	char url[128];
	uint64_t nonce, echo;
	tr_ref service;
	msgpack_object known; /* [[name, url], ...], inside u */
} tri_hello;
/* Reads a HELLO body into *h (pointing into u, which the caller
 * initialised and destroys): TR_OK, or TR_EPROTO for anything but
 * exactly one well-formed HELLO array. */
int tri_dist_hello_parse(
    const uint8_t *body, size_t len, msgpack_unpacked *u, tri_hello *h);
void tri_dist_hello_in(uint32_t pipe, const tri_frame *f);
int tri_dist_hello_out(tri_peer *p);

/* dist_wire.c (the writer), dist_credit.c, dist_recv.c (arrivals).
 * The peer's mtx is taken inside unless _locked. */
unsigned tri_dist_bucket(tr_ref r);
void tri_credits_free(tri_credit **v);
/* Credits back from the receiving node, for dest. */
void tri_credit_add_locked(tri_peer *p, tr_ref dest, uint32_t n);
/* dest took n credits' worth from p's node: give them back (soon). */
void tri_credit_owe(tri_peer *p, tr_ref dest, uint32_t n);
int tri_wire_queue(tri_peer *p, const tri_frame *f, bool prio);
void tri_wire_sent(void *arg, int rv);
void tri_wire_reset(tri_peer *p, uint64_t session);
void tri_wire_arrived(tri_peer *p, const tri_frame *f);
void tri_wire_retry_held(tri_peer *p);
void tri_wire_flush_owed(tri_peer *p);
void tri_wire_park(tri_peer *p, const tri_frame *f);
void tri_wire_retry_parked(tri_peer *p);

/* dist_gw.c */
int tri_dist_gate_start(void);
void tri_dist_gate_stop(void);
/* Gives back the gateway slot of a frame that left or was lost. */
void tri_dist_gate_release(void);

#endif
