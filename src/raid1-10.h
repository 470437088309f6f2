/* What the mirror levels (raid1, raid10) share, as the kernel's raid1-10.c:
 * the barrier between sync windows or read-error fixes and normal IO, read
 * balancing over copies, fixing a read error, and the block compare of
 * check and repair.  A copy is described by the member read that fetches
 * it: a struct mio with rdev, off (member bytes), buf and len. */
#pragma once
#include "raid.h"

#define RESYNC_BLOCK_SECTORS 128  /* md's RESYNC_BLOCK_SIZE: mismatch unit of mirrors */
#define READ_SPREAD_SHIFT 20      /* 1 MiB runs of reads alternate between copies */
#define BARRIER_BUCKET_SHIFT 17   /* sectors: 64 MiB buckets */

/* md's barrier buckets: normal IO counts itself pending in the buckets it
 * touches; a sync window or a read-error fix raises the barrier on a
 * bucket, which holds new IO off and waits for the pending to drain.
 * Buckets are taken in ascending order, so there is no deadlock. */
struct mirror_barrier {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned nr_buckets;
	unsigned shift;           /* sectors >> shift: the bucket */
	atomic_uint *nr_pending;
	atomic_bool *barrier;
};

/* Buckets of 1 << shift sectors covering sectors (shift 63: one bucket). */
void mirror_barrier_init(struct mirror_barrier *b, uint64_t sectors,
			 unsigned shift);
void mirror_barrier_free(struct mirror_barrier *b);
void wait_barrier(struct mirror_barrier *b, uint64_t sector, uint64_t sectors);
void allow_barrier(struct mirror_barrier *b, uint64_t sector, uint64_t sectors);
void raise_barrier(struct mirror_barrier *b, uint64_t sector, uint64_t sectors);
void lower_barrier(struct mirror_barrier *b, uint64_t sector, uint64_t sectors);
/* The sectors from sector up to the end of its bucket. */
uint64_t barrier_bucket_left(const struct mirror_barrier *b, uint64_t sector);

/* md's read_balance: the first readable copy from a start that spreads
 * 1 MiB runs of the array over the copies (spread), or from the first
 * copy, the only truth where the copies may differ; a write-mostly copy
 * only when no other is readable; -1 if none. */
int mirror_read_balance(const struct mio *copies, int n, uint64_t array_off,
			bool spread);

/* md's read_balance shortens a read to the sectors one copy holds good:
 * a request no copy can serve whole (bad blocks on several copies) is
 * read by read() in two halves, split at a sector, until each part has a
 * copy; -EIO for a single sector none can serve. */
int mirror_read_split(struct mddev *mddev, uint64_t off, size_t len, void *buf,
		      int (*read)(struct mddev *mddev, uint64_t off, size_t len,
				  void *buf));

/* md's handle_read_error, for nsets sets of n copies (a request's pieces),
 * in each of which the copy read failed (res < 0).  With normal IO held
 * off sector..+sectors (the request's own pending count released first),
 * fix_read_error: page by page, read the copies in turn into their buf,
 * rewrite and read back the bad ones from the first good one and return
 * 0; or fail them, -EIO.  The good copy is read again under the barrier:
 * a write may have changed it since the failed read, and rewriting older
 * data would undo it. */
int mirror_read_errors(struct mddev *mddev, struct mirror_barrier *b,
		       uint64_t sector, uint64_t sectors, struct mio *copies,
		       int n, unsigned nsets);
/* md's fix_sync_read_error, for a sync window's copies (each its own buf)
 * with normal IO already held off: each copy whose read failed gets the
 * data of another into its buf, page by page, rewritten on it and read
 * back (no read error counted, as md's sync path); -EIO when a page could
 * be read from none. */
int mirror_fix_sync_reads(struct mddev *mddev, struct mio *copies, int n);
/* Test seam: runs after a failed read, before the fix holds IO off. */
extern void (*mirror_read_error_hook)(struct mddev *mddev);

/* md's fix_read_error works a page at a time. */
#define FIX_PAGE_SECTORS 8

/* md's exceed_read_errors: count a read error on rdev (decayed by half per
 * hour since the last) and fail rdev once the count passes the array's
 * max_read_errors; true then. */
bool exceed_read_errors(struct mddev *mddev, struct md_rdev *rdev);

/* Sectors, in md's resync-block units, where b differs from a. */
uint64_t mirror_compare_blocks(const char *a, const char *b, size_t len);
