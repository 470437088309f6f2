/* What raid4, raid5 and raid6's pieces share, as md's drivers/md/raid5.h:
 * the layouts, the conf and a request's stripes.  raid5-map.c holds md's
 * placement, raid5-parity.c the parity maths over a stripe's pages, raid5.c
 * the personality (stripe locks, writes, reads, sync, raid5d, attributes).
 * Private to those three files: the core knows only the personalities. */
#pragma once
#include "raid.h"
#include "stripe_cache.h"

/* md's layouts (drivers/md/raid5.h). */
enum {
	ALGORITHM_LEFT_ASYMMETRIC = 0,
	ALGORITHM_RIGHT_ASYMMETRIC = 1,
	ALGORITHM_LEFT_SYMMETRIC = 2,
	ALGORITHM_RIGHT_SYMMETRIC = 3,
	ALGORITHM_PARITY_0 = 4,
	ALGORITHM_PARITY_N = 5,
	ALGORITHM_ROTATING_ZERO_RESTART = 8,
	ALGORITHM_ROTATING_N_RESTART = 9,
	ALGORITHM_ROTATING_N_CONTINUE = 10,
	ALGORITHM_LEFT_ASYMMETRIC_6 = 16,
	ALGORITHM_RIGHT_ASYMMETRIC_6 = 17,
	ALGORITHM_LEFT_SYMMETRIC_6 = 18,
	ALGORITHM_RIGHT_SYMMETRIC_6 = 19,
	ALGORITHM_PARITY_0_6 = 20,
};

/* The most sectors of a chunk one stripe works over: a cache window
 * (MAX_WINDOW) or a sync request's piece; nothing sized by the chunk. */
#define MAX_STRIPE_SECTORS 2048
#define STRIPE_SECTORS 8          /* md's stripe_head: mismatch unit, lock unit */
#define NR_STRIPE_LOCKS 1024
#define NR_STRIPE_WAITQS 64
#define MAX_DISKS 256             /* GF(2^8) has 255 distinct Q coefficients */

struct r5conf {
	int level, algorithm;
	int raid_disks, data_disks, max_degraded;
	uint64_t chunk;               /* sectors */
	uint8_t gexp[256];            /* g^i, g = 2: the Q coefficient of slot i */
	char *zero;                   /* MAX_STRIPE_SECTORS of zeros: ddf's empty
				       * syndrome slots */
	pthread_mutex_t stripe_lock;  /* guards busy */
	pthread_cond_t stripe_wait[NR_STRIPE_WAITQS];
	uint64_t busy[NR_STRIPE_LOCKS / 64];
	uint32_t window;              /* sectors: the chunk, or MAX_WINDOW of it */
	atomic_uint stripe_cache_size; /* md's, in STRIPE_SECTORS stripe_heads */
	atomic_int rmw_level;         /* md's PARITY_*_RMW */
	struct stripe_cache cache;
	GThread *raid5d;              /* writes back what waits too long */
	pthread_mutex_t wb_lock;      /* guards wb_stop, raid5d's sleep */
	pthread_cond_t wb_cond;
	bool wb_stop;
};

/* Where one stripe keeps what (md's sh->pd_idx, qd_idx, ddf_layout). */
struct rowmap {
	int pd, qd;                   /* qd: -1 without Q */
	int syndrome_disks;           /* pq_gen's data vectors */
	int16_t dev_of[MAX_DISKS];    /* data index -> member */
	int16_t slot_of[MAX_DISKS];   /* member -> syndrome slot, -1 for P/Q */
};

/* md's rmw_level: whether a partial write may read-modify-write. */
enum {
	PARITY_DISABLE_RMW = 0,       /* reconstruct-write only */
	PARITY_ENABLE_RMW,            /* the cheaper; reconstruct on a tie */
	PARITY_PREFER_RMW,            /* the cheaper; read-modify on a tie */
};

enum stripe_mode {
	MODE_DIRECT, MODE_FULL, MODE_RCW, MODE_RMW, MODE_DEGRADED,
	MODE_DEFER,                   /* write held back in the stripe cache */
};

struct r5dev {
	char *page;                   /* the member's [lo, hi) of the stripe */
	char *orig;                   /* rmw, sync: contents as read */
	char *disk;                   /* degraded: the member's, not the cache's */
	bool held;                    /* writes: cache data of [lo, hi) not yet here */
	uint64_t wa, wb;              /* bytes of the chunk requested; equal: none */
	char *user;                   /* the caller's bytes at wa */
	bool good;                    /* readable and trusted for this stripe */
	bool bad;                     /* md's R5_ReadError: its read failed in
				       * this request; rebuilt, then rewritten */
	bool repaired;                /* writes: the rewrite of it was made */
};

struct stripe {
	uint64_t nr;                  /* md's stripe number: a row of chunks */
	uint32_t lo, hi;              /* sectors of the chunk worked on */
	uint32_t wbase;               /* the cache window [lo, hi) is in */
	uint32_t pbase;               /* the piece of the chunk it was cut at */
	struct sc_entry *entry;       /* writes: that window's cache entry */
	enum stripe_mode mode;
	int reads;                    /* members the mode must read */
	bool held;                    /* writes: some member's dev->held */
	char *pnew, *qnew;            /* rmw results */
	struct rowmap map;
	struct r5dev dev[];
};

/* A growing array on plain malloc: GLib 2.74's containers sit on
 * g_slice, whose cross-thread recycling TSan cannot see. */
struct vec {
	void *v;
	unsigned n, cap;
};

/* Per-request scratch: stripes, aligned buffers, the member IO batch. */
struct req {
	struct mddev *mddev;
	struct r5conf *conf;
	struct vec stripes;           /* struct stripe * */
	struct vec bufs;              /* void *, from posix_memalign */
	struct vec mios;              /* struct mio */
	uint32_t piece;               /* sectors stripes are cut at: the cache
				       * window, or STRIPE_SECTORS after a
				       * read error (md's stripe_heads) */
	void *buf;                    /* the caller's, as built */
	uint64_t off;
	size_t len;
};

static inline size_t stripe_bytes(const struct stripe *sh)
{
	return (size_t)(sh->hi - sh->lo) << SECTOR_SHIFT;
}

static inline bool is_data(const struct stripe *sh, int i)
{
	return i != sh->map.pd && i != sh->map.qd;
}

/* raid5-map.c: md's placement */
/* Where stripe s (a row of chunks) keeps its data, P and Q. */
void stripe_map(const struct r5conf *c, uint64_t s, struct rowmap *m);
/* Is layout one of md's for level? */
bool layout_valid(int level, uint32_t layout);
bool only_parity(int slot, int algorithm, int raid_disks, int max_degraded);

/* raid5-parity.c: the parity maths, ISA-L's */
void compute_parity(struct r5conf *c, struct stripe *sh);
void reconstruct(struct r5conf *c, struct stripe *sh);
void rmw_parity(struct req *rq, struct stripe *sh);
int raid6_bad_member(struct r5conf *c, struct stripe *sh, size_t o,
		     size_t len, char *scratch);

/* raid5.c */
/* A buffer of len bytes, aligned for ISA-L, freed with the request. */
char *req_alloc(struct req *rq, size_t len);
