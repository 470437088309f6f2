/* raid4, raid5 and raid6: md's striping with parity, the personality.
 * Placement (raid5-map.c) follows md's raid5_compute_sector exactly; the
 * parity maths is raid5-parity.c's.
 *
 * A request is cut into md "stripes" (one row of chunks, one per member),
 * each worked over the sectors [lo, hi) of the chunk it touches.  Writes
 * choose full-stripe, read-modify-write or reconstruct-write as md's
 * handle_stripe_dirtying does; the member IO of all stripes of a request
 * goes out as one read batch and one write batch.  Stripe locks, hashed by
 * member sector in md's STRIPE_SECTORS units and taken in ascending order,
 * keep concurrent writers of the same parity apart; they are busy bits
 * under one mutex (as md's STRIPE_ACTIVE), not a mutex each, since a
 * request may hold hundreds and TSan tracks only 64 held mutexes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <isa-l/erasure_code.h>
#include "ctl.h"
#include "raid5.h"

#define MAX_WINDOW 1024           /* sectors of a chunk a cache entry holds */
G_STATIC_ASSERT(MAX_WINDOW <= MAX_STRIPE_SECTORS);
#define NR_STRIPES 256            /* md's default stripe_cache_size */
#define MAX_NR_STRIPES 32768
#define MIN_CACHED_WINDOWS 16
/* A partial-stripe write of at least this much, which would have to read,
 * waits in the stripe cache for the rest of its stripe instead: at most
 * WRITEBACK_DELAY_MS, or until an fsync. */
#define DEFER_MIN_BYTES (64 << 10)
#define WRITEBACK_DELAY_MS 20

/* ---- stripes of a request ---- */

static void *vec_push(struct vec *a, size_t size)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? 2 * a->cap : 16;
		a->v = g_realloc(a->v, a->cap * size);
	}
	return (char *)a->v + (size_t)a->n++ * size;
}

static struct stripe *stripe_at(struct req *rq, unsigned i)
{
	return ((struct stripe **)rq->stripes.v)[i];
}

char *req_alloc(struct req *rq, size_t len)
{
	void *p;

	if (posix_memalign(&p, VEC_ALIGN, MAX(len, (size_t)VEC_ALIGN)))
		g_error("out of memory");
	*(void **)vec_push(&rq->bufs, sizeof(void *)) = p;
	return p;
}

static uint64_t dev_sector(const struct req *rq, const struct stripe *sh,
			   uint32_t in_chunk)
{
	return sh->nr * rq->conf->chunk + in_chunk;
}

static uint64_t window_key(const struct r5conf *c, uint64_t nr, uint32_t wbase)
{
	return nr * (c->chunk / c->window) + wbase / c->window;
}

static struct stripe *new_stripe(struct req *rq, uint64_t nr)
{
	int n = rq->conf->raid_disks;
	struct stripe *sh = g_malloc0(sizeof(*sh) + n * sizeof(struct r5dev));

	sh->nr = nr;
	sh->lo = UINT32_MAX;
	stripe_map(rq->conf, nr, &sh->map);
	*(struct stripe **)vec_push(&rq->stripes, sizeof(sh)) = sh;
	return sh;
}

/* The request's stripe of row nr, piece pbase; the stripes of one row are
 * the last ones made. */
static struct stripe *find_stripe(struct req *rq, uint64_t nr, uint32_t pbase)
{
	for (unsigned i = rq->stripes.n; i-- > 0;) {
		struct stripe *sh = stripe_at(rq, i);
		if (sh->nr != nr)
			break;
		if (sh->pbase == pbase)
			return sh;
	}
	struct stripe *sh = new_stripe(rq, nr);
	sh->pbase = pbase;
	sh->wbase = pbase / rq->conf->window * rq->conf->window;
	return sh;
}

/* Cut [off, off + len) of the array into stripes, one per row and piece
 * of rq->piece sectors, and the chunk pieces each data member holds of
 * them. */
static void build_stripes(struct req *rq, uint64_t off, size_t len, char *buf)
{
	struct r5conf *c = rq->conf;
	uint64_t chunk_bytes = c->chunk << SECTOR_SHIFT;
	uint32_t piece_bytes = rq->piece << SECTOR_SHIFT;

	rq->off = off, rq->len = len, rq->buf = buf;
	for (uint64_t pos = off; pos < off + len;) {
		uint64_t chunk_nr = pos / chunk_bytes;
		uint64_t in_chunk = pos % chunk_bytes;
		uint32_t pbase = in_chunk / piece_bytes * rq->piece;
		uint64_t k = MIN(off + len - pos,
				 piece_bytes - in_chunk % piece_bytes);
		uint64_t nr = chunk_nr / c->data_disks;
		struct stripe *sh = find_stripe(rq, nr, pbase);
		struct r5dev *dev = &sh->dev[sh->map.dev_of[chunk_nr % c->data_disks]];
		dev->wa = in_chunk;
		dev->wb = in_chunk + k;
		dev->user = buf + (pos - off);
		sh->lo = MIN(sh->lo, in_chunk >> SECTOR_SHIFT);
		sh->hi = MAX(sh->hi, (uint32_t)((in_chunk + k + 511) >> SECTOR_SHIFT));
		pos += k;
	}
}

static void req_init(struct req *rq, struct mddev *mddev)
{
	memset(rq, 0, sizeof(*rq));
	rq->mddev = mddev;
	rq->conf = mddev->private;
	rq->piece = rq->conf->window;
}

static void free_stripes(struct req *rq)
{
	for (unsigned i = 0; i < rq->stripes.n; i++) {
		struct stripe *sh = stripe_at(rq, i);
		if (sh->entry)
			sc_put(&rq->conf->cache, sh->entry);
		g_free(sh);
	}
	rq->stripes.n = 0;
}

static void req_free(struct req *rq)
{
	free_stripes(rq);
	for (unsigned i = 0; i < rq->bufs.n; i++)
		free(((void **)rq->bufs.v)[i]);
	g_free(rq->stripes.v);
	g_free(rq->bufs.v);
	g_free(rq->mios.v);
}

/* ---- stripe locks ---- */

static unsigned lock_index(uint64_t sector)
{
	return (sector / STRIPE_SECTORS) % NR_STRIPE_LOCKS;
}

/* The locks of every md stripe_head the request works on, ascending by
 * lock index so that two requests can never wait on each other. */
static void lock_set(struct req *rq, uint64_t *set)
{
	memset(set, 0, NR_STRIPE_LOCKS / 8);
	for (unsigned i = 0; i < rq->stripes.n; i++) {
		struct stripe *sh = stripe_at(rq, i);
		uint64_t a = dev_sector(rq, sh, sh->lo) / STRIPE_SECTORS;
		uint64_t b = (dev_sector(rq, sh, sh->hi) - 1) / STRIPE_SECTORS;
		for (uint64_t u = a; u <= b && u - a < NR_STRIPE_LOCKS; u++) {
			unsigned k = lock_index(u * STRIPE_SECTORS);
			set[k / 64] |= 1ull << (k % 64);
		}
	}
}

static bool set_has(const uint64_t *set, unsigned k)
{
	return set[k / 64] & (1ull << (k % 64));
}

/* The first lock at or after k in set; NR_STRIPE_LOCKS if none. */
static unsigned set_next(const uint64_t *set, unsigned k)
{
	while (k < NR_STRIPE_LOCKS) {
		uint64_t w = set[k / 64] >> (k % 64);
		if (w)
			return k + __builtin_ctzll(w);
		k = (k / 64 + 1) * 64;
	}
	return NR_STRIPE_LOCKS;
}

/* Take each busy bit in ascending order, waiting while another holds it:
 * everyone climbs the same way, so nobody waits in a circle. */
static void stripes_lock(struct req *rq, uint64_t *set)
{
	struct r5conf *c = rq->conf;

	lock_set(rq, set);
	pthread_mutex_lock(&c->stripe_lock);
	for (unsigned k = set_next(set, 0); k < NR_STRIPE_LOCKS;
	     k = set_next(set, k + 1)) {
		while (set_has(c->busy, k))
			pthread_cond_wait(&c->stripe_wait[k % NR_STRIPE_WAITQS],
					  &c->stripe_lock);
		c->busy[k / 64] |= 1ull << (k % 64);
	}
	pthread_mutex_unlock(&c->stripe_lock);
}

static void stripes_unlock(struct req *rq, const uint64_t *set)
{
	struct r5conf *c = rq->conf;
	uint64_t wake = 0;

	pthread_mutex_lock(&c->stripe_lock);
	for (unsigned k = set_next(set, 0); k < NR_STRIPE_LOCKS;
	     k = set_next(set, k + 1)) {
		c->busy[k / 64] &= ~(1ull << (k % 64));
		wake |= 1ull << (k % NR_STRIPE_WAITQS);
	}
	for (unsigned q = 0; q < NR_STRIPE_WAITQS; q++)
		if (wake & (1ull << q))
			pthread_cond_broadcast(&c->stripe_wait[q]);
	pthread_mutex_unlock(&c->stripe_lock);
}

/* ---- member IO ---- */

/* Mark each member good (readable over the stripe: recovering members only
 * below recovery_offset, none over a recorded bad block) or not; returns
 * how many are not. */
static int stripe_check_devs(struct req *rq, struct stripe *sh)
{
	int failed = 0;

	for (int i = 0; i < rq->conf->raid_disks; i++) {
		sh->dev[i].good = !sh->dev[i].bad &&
			rdev_readable(rq->mddev->slots[i],
				      dev_sector(rq, sh, sh->lo), sh->hi - sh->lo);
		failed += !sh->dev[i].good;
	}
	return failed;
}

static void queue_io(struct req *rq, struct stripe *sh, int i, bool write,
		     uint32_t a, uint32_t b, char *page)
{
	if (a >= b)
		return;
	struct mio m = {
		.rdev = rq->mddev->slots[i], .write = write,
		.off = dev_sector(rq, sh, a) << SECTOR_SHIFT,
		.buf = page + ((size_t)(a - sh->lo) << SECTOR_SHIFT),
		.len = (size_t)(b - a) << SECTOR_SHIFT,
	};
	*(struct mio *)vec_push(&rq->mios, sizeof(m)) = m;
}

/* Run the queued writes: md's R5_WriteError records what failed as bad
 * blocks (or fails the member); the request stands while every stripe
 * keeps enough members readable over it, -EAGAIN says redundancy holds
 * what failed. */
static int run_write_batch(struct req *rq)
{
	int r = md_write_batch(rq->mddev, rq->mios.v, rq->mios.n, STRIPE_SECTORS);

	rq->mios.n = 0;
	if (r == 0)
		return 0;
	if (!md_enough(rq->mddev, -1))
		return -EIO;
	for (unsigned i = 0; i < rq->stripes.n; i++)
		if (stripe_check_devs(rq, stripe_at(rq, i)) > rq->conf->max_degraded)
			return -EIO;
	return -EAGAIN;
}

static void alloc_pages(struct req *rq, struct stripe *sh)
{
	for (int i = 0; i < rq->conf->raid_disks; i++)
		sh->dev[i].page = req_alloc(rq, stripe_bytes(sh));
}

/* ---- writes ---- */

static bool dev_full(const struct stripe *sh, const struct r5dev *dev)
{
	return dev->wa < dev->wb && dev->wa <= (uint64_t)sh->lo << SECTOR_SHIFT &&
	       dev->wb >= (uint64_t)sh->hi << SECTOR_SHIFT;
}

static uint32_t sector_floor(uint64_t bytes) { return bytes >> SECTOR_SHIFT; }
static uint32_t sector_ceil(uint64_t bytes) { return (bytes + 511) >> SECTOR_SHIFT; }

/* Work in the window's cache entry when one is to be had, so what this
 * write reads and writes stays for the next; else in private pages. */
static void attach_pages(struct req *rq, struct stripe *sh)
{
	struct r5conf *c = rq->conf;

	if (!sh->entry)
		sh->entry = sc_get(&c->cache, window_key(c, sh->nr, sh->wbase));
	if (!sh->entry) {
		alloc_pages(rq, sh);
		return;
	}
	for (int i = 0; i < c->raid_disks; i++)
		sh->dev[i].page = sh->entry->page[i] +
				  ((size_t)(sh->lo - sh->wbase) << SECTOR_SHIFT);
}

/* Must sectors [a, b) of member i come from the member? */
static bool must_read(struct req *rq, struct stripe *sh, int i,
		      uint32_t a, uint32_t b)
{
	if (a >= b)
		return false;
	return !sh->entry || !sc_valid(&rq->conf->cache, sh->entry, i,
				       a - sh->wbase, b - sh->wbase);
}

/* Which members' [lo, hi) hold written data the member lacks; under the
 * stripe locks that cannot change until the request is done. */
static void note_held_back(struct req *rq, struct stripe *sh)
{
	struct stripe_cache *sc = &rq->conf->cache;

	sh->held = false;
	for (int i = 0; i < rq->conf->raid_disks; i++) {
		sh->dev[i].held = sh->entry && atomic_load(&sc->ndirty) &&
			sc_any_dirty(sc, sh->entry, i, sh->lo - sh->wbase,
				     sh->hi - sh->wbase);
		sh->held |= sh->dev[i].held;
	}
}

/* Queue reads of what the cache does not hold of sectors [a, b). */
static void queue_read(struct req *rq, struct stripe *sh, int i,
		       uint32_t a, uint32_t b)
{
	uint32_t w = sh->wbase, end;

	if (!sh->entry) {
		queue_io(rq, sh, i, false, a, b, sh->dev[i].page);
		return;
	}
	for (a -= w, b -= w; sc_next_run(&rq->conf->cache, sh->entry, i, false,
					 false, &a, b, &end); a = end)
		queue_io(rq, sh, i, false, a + w, end + w, sh->dev[i].page);
}

/* What reconstruct-write reads of data member dev: [lo, hi) but for the
 * whole sectors the request overwrites, as two gaps [g0, g1) [g2, g3). */
static void rcw_gaps(const struct stripe *sh, const struct r5dev *dev,
		     uint32_t g[4])
{
	uint32_t fa = sector_ceil(dev->wa), fb = sector_floor(dev->wb);

	if (dev->wa == dev->wb || fa > fb)
		fa = fb = sh->hi;
	g[0] = sh->lo, g[1] = fa, g[2] = fb, g[3] = sh->hi;
}

/* md's need_this_block: where the bitmap says parity was never built
 * (llbitmap's lazy initial recovery not there yet) rmw would keep it
 * wrong; both ends, as the stripe's range may cross a bitmap chunk. */
static bool bitmap_synced(struct req *rq, const struct stripe *sh)
{
	return md_bitmap_blocks_synced(rq->mddev, dev_sector(rq, sh, sh->lo)) &&
	       md_bitmap_blocks_synced(rq->mddev, dev_sector(rq, sh, sh->hi) - 1);
}

/* md's handle_stripe_dirtying: count the members each method must read,
 * what the stripe cache holds not counted; rmw when cheaper (on a tie too
 * with rmw_level 2, never with 0), never where parity may be stale nor
 * over data still held back (the member's old data is not what the cache
 * holds).  rmw needs new data to fold into the parity: a write-back whose
 * data another wrote back meanwhile has none, and reconstructs, as md
 * does when neither method has anything to read. */
static enum stripe_mode choose_mode(struct req *rq, struct stripe *sh, int failed)
{
	struct r5conf *c = rq->conf;
	int rmw = 0, rcw = 0, full = 0, written = 0;
	uint32_t g[4];

	for (int i = 0; i < c->raid_disks; i++) {
		struct r5dev *dev = &sh->dev[i];
		if (!is_data(sh, i)) {
			rmw += must_read(rq, sh, i, sh->lo, sh->hi);
			continue;
		}
		if (!dev->good)
			return MODE_DEGRADED;
		if (dev->wa < dev->wb) {
			written++;
			rmw += must_read(rq, sh, i, sector_floor(dev->wa),
					 sector_ceil(dev->wb));
		}
		full += dev_full(sh, dev);
		rcw_gaps(sh, dev, g);
		rcw += must_read(rq, sh, i, g[0], g[1]) ||
		       must_read(rq, sh, i, g[2], g[3]);
	}
	if (full == c->data_disks)
		return MODE_FULL;
	sh->reads = rcw;
	int level = atomic_load(&c->rmw_level);
	bool cheaper = level == PARITY_PREFER_RMW ? rmw <= rcw : rmw < rcw;
	if (failed || dev_sector(rq, sh, sh->hi) > md_synced_upto(rq->mddev) ||
	    !bitmap_synced(rq, sh) || sh->held || level == PARITY_DISABLE_RMW ||
	    !cheaper || !written || rcw == 0)
		return MODE_RCW;
	sh->reads = rmw;
	return MODE_RMW;
}

/* Hold a large partial write that would have to read, in whole sectors,
 * with every member there: the rest of its stripe is likely on its way. */
static bool should_defer(struct req *rq, struct stripe *sh, int failed)
{
	size_t bytes = 0;

	if (!sh->entry || failed || sh->reads == 0 ||
	    (sh->mode != MODE_RCW && sh->mode != MODE_RMW))
		return false;
	for (int i = 0; i < rq->conf->raid_disks; i++) {
		struct r5dev *dev = &sh->dev[i];
		if ((dev->wa | dev->wb) % 512)
			return false;
		bytes += dev->wb - dev->wa;
	}
	return bytes >= DEFER_MIN_BYTES;
}

/* Degraded: reconstruction needs the members' own contents, which the
 * cache's held-back data is not; read them into pages of their own. */
static void plan_degraded_reads(struct req *rq, struct stripe *sh)
{
	for (int i = 0; i < rq->conf->raid_disks; i++) {
		struct r5dev *dev = &sh->dev[i];
		dev->disk = sh->entry ? req_alloc(rq, stripe_bytes(sh)) : dev->page;
		if (dev->good)
			queue_io(rq, sh, i, false, sh->lo, sh->hi, dev->disk);
	}
}

/* Queue the reads the chosen method needs. */
static void plan_write_reads(struct req *rq, struct stripe *sh)
{
	uint32_t g[4];

	if (sh->mode == MODE_DEGRADED) {
		plan_degraded_reads(rq, sh);
		return;
	}
	for (int i = 0; i < rq->conf->raid_disks; i++) {
		struct r5dev *dev = &sh->dev[i];
		if (!dev->good)
			continue;
		if (sh->mode == MODE_RCW && is_data(sh, i)) {
			rcw_gaps(sh, dev, g);
			queue_read(rq, sh, i, g[0], g[1]);
			queue_read(rq, sh, i, g[2], g[3]);
		} else if (sh->mode == MODE_RMW && !is_data(sh, i)) {
			queue_read(rq, sh, i, sh->lo, sh->hi);
		} else if (sh->mode == MODE_RMW && dev->wa < dev->wb) {
			queue_read(rq, sh, i, sector_floor(dev->wa),
				   sector_ceil(dev->wb));
		}
	}
}

static int plan_write(struct req *rq, struct stripe *sh)
{
	int failed = stripe_check_devs(rq, sh);

	if (failed > rq->conf->max_degraded)
		return -EIO;
	attach_pages(rq, sh);
	note_held_back(rq, sh);
	sh->mode = choose_mode(rq, sh, failed);
	if (should_defer(rq, sh, failed))
		sh->mode = MODE_DEFER;
	else
		plan_write_reads(rq, sh);
	return 0;
}

static void merge_new_data(struct stripe *sh, struct r5dev *dev)
{
	if (dev->wa < dev->wb)
		memcpy(dev->page + dev->wa - ((size_t)sh->lo << SECTOR_SHIFT),
		       dev->user, dev->wb - dev->wa);
}

/* rmw: the old contents; outside what the request writes old and new are
 * the same bytes, so they add nothing to the parity change. */
static void keep_orig(struct req *rq, struct stripe *sh, struct r5dev *dev)
{
	dev->orig = req_alloc(rq, stripe_bytes(sh));
	memcpy(dev->orig, dev->page, stripe_bytes(sh));
}

static void swap_views(struct stripe *sh, int n)
{
	for (int i = 0; i < n; i++) {
		char *p = sh->dev[i].page;
		sh->dev[i].page = sh->dev[i].disk;
		sh->dev[i].disk = p;
	}
}

/* Rebuild the missing members from the members' contents, then take into
 * the cache what it does not already hold better. */
static void reconstruct_degraded(struct req *rq, struct stripe *sh)
{
	struct r5conf *c = rq->conf;
	uint32_t w = sh->wbase, a, end;

	if (!sh->entry) {
		reconstruct(c, sh);
		return;
	}
	swap_views(sh, c->raid_disks);
	reconstruct(c, sh);
	swap_views(sh, c->raid_disks);
	for (int i = 0; i < c->raid_disks; i++)
		for (a = sh->lo - w; sc_next_run(&c->cache, sh->entry, i, false,
						 false, &a, sh->hi - w, &end); a = end)
			memcpy(sh->dev[i].page + ((size_t)(a + w - sh->lo) << SECTOR_SHIFT),
			       sh->dev[i].disk + ((size_t)(a + w - sh->lo) << SECTOR_SHIFT),
			       (size_t)(end - a) << SECTOR_SHIFT);
}

static void compute_write(struct req *rq, struct stripe *sh)
{
	struct r5conf *c = rq->conf;

	if (sh->mode == MODE_DEGRADED)
		reconstruct_degraded(rq, sh);
	for (int i = 0; i < c->raid_disks; i++) {
		struct r5dev *dev = &sh->dev[i];
		if (sh->mode == MODE_RMW && dev->wa < dev->wb)
			keep_orig(rq, sh, dev);
		merge_new_data(sh, dev);
	}
	if (sh->mode != MODE_RMW) {
		compute_parity(c, sh);
		return;
	}
	rmw_parity(rq, sh);
	memcpy(sh->dev[sh->map.pd].page, sh->pnew, stripe_bytes(sh));
	if (sh->map.qd >= 0)
		memcpy(sh->dev[sh->map.qd].page, sh->qnew, stripe_bytes(sh));
}

/* Parity over [lo, hi) covers what the cache held back there: that data
 * goes out with it. */
static void queue_writes(struct req *rq, struct stripe *sh)
{
	for (int i = 0; i < rq->conf->raid_disks; i++) {
		struct r5dev *dev = &sh->dev[i];
		if (!rdev_usable(rq->mddev->slots[i]))
			continue;
		if (is_data(sh, i) && !dev->held)
			queue_io(rq, sh, i, true, sector_floor(dev->wa),
				 sector_ceil(dev->wb), dev->page);
		else
			queue_io(rq, sh, i, true, sh->lo, sh->hi, dev->page);
	}
}

static void defer_write(struct req *rq, struct stripe *sh)
{
	struct r5conf *c = rq->conf;
	bool woke = false;

	for (int i = 0; i < c->raid_disks; i++) {
		struct r5dev *dev = &sh->dev[i];
		if (dev->wa == dev->wb)
			continue;
		merge_new_data(sh, dev);
		woke |= sc_set_dirty(&c->cache, sh->entry, i,
				     sector_floor(dev->wa) - sh->wbase,
				     sector_floor(dev->wb) - sh->wbase);
	}
	if (woke) {
		pthread_mutex_lock(&c->wb_lock);
		pthread_cond_signal(&c->wb_cond);
		pthread_mutex_unlock(&c->wb_lock);
	}
}

/* The members hold what was written: so does the cache now.  rmw left the
 * data members it did not write as they were. */
static void cache_written(struct req *rq, struct stripe *sh)
{
	uint32_t w = sh->wbase;

	if (!sh->entry)
		return;
	for (int i = 0; i < rq->conf->raid_disks; i++) {
		struct r5dev *dev = &sh->dev[i];
		uint32_t a = sh->lo, b = sh->hi;
		if (sh->mode == MODE_RMW && is_data(sh, i)) {
			a = sector_floor(dev->wa);
			b = sector_ceil(dev->wb);
		}
		if (a < b)
			sc_set_valid(&rq->conf->cache, sh->entry, i, a - w, b - w,
				     true);
	}
	sc_clean(&rq->conf->cache, sh->entry, sh->lo - w, sh->hi - w);
}

/* After an error the pages may hold half a write: trust the members, and
 * keep what is still held back. */
static void cache_forget(struct r5conf *c, uint64_t nr, uint32_t lo, uint32_t hi)
{
	for (uint32_t w = lo / c->window * c->window; w < hi; w += c->window)
		sc_forget(&c->cache, window_key(c, nr, w), MAX(lo, w) - w,
			  MIN(hi, w + c->window) - w);
}

static void forget_stripes(struct req *rq)
{
	for (unsigned i = 0; i < rq->stripes.n; i++) {
		struct stripe *sh = stripe_at(rq, i);
		cache_forget(rq->conf, sh->nr, sh->lo, sh->hi);
	}
}

static bool run_reads(struct req *rq);
static int repair_reads(struct req *rq);

/* One attempt at the whole request: reads, parity, writes.  A read that
 * fails is fixed as a read's are, and the attempt made again. */
static int write_stripes(struct req *rq)
{
	for (unsigned i = 0; i < rq->stripes.n; i++) {
		int r = plan_write(rq, stripe_at(rq, i));
		if (r < 0)
			return r;
	}
	if (run_reads(rq)) {
		forget_stripes(rq);
		int r = repair_reads(rq);
		return r < 0 ? r : -EAGAIN;
	}
	for (unsigned i = 0; i < rq->stripes.n; i++) {
		struct stripe *sh = stripe_at(rq, i);
		if (sh->mode == MODE_DEFER) {
			defer_write(rq, sh);
			continue;
		}
		compute_write(rq, sh);
		queue_writes(rq, sh);
	}
	int r = run_write_batch(rq);
	if (r < 0) {
		forget_stripes(rq);
		return r == -EAGAIN ? 0 : r;   /* redundancy holds what failed */
	}
	for (unsigned i = 0; i < rq->stripes.n; i++) {
		struct stripe *sh = stripe_at(rq, i);
		if (sh->mode != MODE_DEFER)
			cache_written(rq, sh);
	}
	return 0;
}

static int raid5_write(struct mddev *mddev, uint64_t off, size_t len,
		       const void *buf)
{
	struct req rq;
	uint64_t set[NR_STRIPE_LOCKS / 64];
	int r;

	req_init(&rq, mddev);
	build_stripes(&rq, off, len, (char *)buf);
	stripes_lock(&rq, set);
	do
		r = write_stripes(&rq);
	while (r == -EAGAIN);
	stripes_unlock(&rq, set);
	req_free(&rq);
	return r;
}

/* ---- reads ---- */

static bool touched_good(struct stripe *sh, int n)
{
	for (int i = 0; i < n; i++)
		if (sh->dev[i].wa < sh->dev[i].wb && !sh->dev[i].good)
			return false;
	return true;
}

/* Straight from the data members when they are all there, else the
 * whole [lo, hi) of every good member for reconstruction.  The latter
 * needs the stripe locks: parity and data must be of one write. */
static int plan_read(struct req *rq, struct stripe *sh, bool locked)
{
	struct r5conf *c = rq->conf;
	int failed = stripe_check_devs(rq, sh);

	if (touched_good(sh, c->raid_disks)) {
		sh->mode = MODE_DIRECT;
		for (int i = 0; i < c->raid_disks; i++) {
			struct r5dev *dev = &sh->dev[i];
			if (dev->wa == dev->wb)
				continue;
			struct mio m = {
				.rdev = rq->mddev->slots[i],
				.off = (dev_sector(rq, sh, 0) << SECTOR_SHIFT) + dev->wa,
				.buf = dev->user, .len = dev->wb - dev->wa,
			};
			*(struct mio *)vec_push(&rq->mios, sizeof(m)) = m;
		}
		return 0;
	}
	if (!locked)
		return -EAGAIN;
	if (failed > c->max_degraded)
		return -EIO;
	sh->mode = MODE_DEGRADED;
	alloc_pages(rq, sh);
	for (int i = 0; i < c->raid_disks; i++)
		if (sh->dev[i].good)
			queue_io(rq, sh, i, false, sh->lo, sh->hi, sh->dev[i].page);
	return 0;
}

static void copy_out(struct stripe *sh, int n)
{
	for (int i = 0; i < n; i++) {
		struct r5dev *dev = &sh->dev[i];
		if (dev->wa < dev->wb)
			memcpy(dev->user, dev->page + dev->wa -
			       ((size_t)sh->lo << SECTOR_SHIFT), dev->wb - dev->wa);
	}
}

#define READ_ERROR 1              /* read_stripes: a member read failed */

static bool read_held_back(struct req *rq, bool copy);

/* md's raid5_end_read_request on a failed read: counted (a member with
 * more read errors in a row than the stripe cache has stripes is failed),
 * and the member's part of each stripe the read covers is marked
 * R5_ReadError: not read again, rebuilt from the rest. */
static void note_read_error(struct req *rq, const struct mio *m)
{
	struct md_rdev *rdev = m->rdev;
	unsigned n = atomic_fetch_add(&rdev->read_errors, 1) + 1;
	unsigned max = atomic_load(&rq->conf->stripe_cache_size);
	uint64_t a = m->off >> SECTOR_SHIFT;
	uint64_t b = (m->off + m->len + 511) >> SECTOR_SHIFT;

	if (n > max && rdev_usable(rdev)) {
		g_warning("%s: %u read_errors > %u stripes: too many read errors, "
			  "failing %s", rq->mddev->name, n, max, rdev->name);
		md_error(rq->mddev, rdev);
	}
	for (unsigned s = 0; s < rq->stripes.n; s++) {
		struct stripe *sh = stripe_at(rq, s);
		for (int i = 0; i < rq->conf->raid_disks; i++)
			if (rq->mddev->slots[i] == rdev &&
			    a < dev_sector(rq, sh, sh->hi) &&
			    dev_sector(rq, sh, sh->lo) < b)
				sh->dev[i].bad = true;
	}
}

/* Run the queued reads; true when one failed.  A read that succeeds ends
 * its member's run of read errors, as in md. */
static bool run_reads(struct req *rq)
{
	struct mio *v = rq->mios.v;
	bool err = false;

	mio_run(v, rq->mios.n);
	for (unsigned i = 0; i < rq->mios.n; i++) {
		if (v[i].res < 0) {
			note_read_error(rq, &v[i]);
			err = true;
		} else if (atomic_load(&v[i].rdev->read_errors)) {
			atomic_store(&v[i].rdev->read_errors, 0);
		}
	}
	rq->mios.n = 0;
	return err;
}

static int read_stripes(struct req *rq, bool locked)
{
	rq->mios.n = 0;
	for (unsigned i = 0; i < rq->stripes.n; i++) {
		int r = plan_read(rq, stripe_at(rq, i), locked);
		if (r < 0)
			return r;
	}
	if (run_reads(rq))
		return READ_ERROR;
	for (unsigned i = 0; i < rq->stripes.n; i++) {
		struct stripe *sh = stripe_at(rq, i);
		if (sh->mode == MODE_DEGRADED) {
			reconstruct(rq->conf, sh);
			copy_out(sh, rq->conf->raid_disks);
		}
	}
	return 0;
}

/* After a read error, work in md's stripe_heads: each STRIPE_SECTORS of
 * the members is read, rebuilt and rewritten on its own, so two members
 * failing apart in one chunk row are both rebuilt.  The stripe locks
 * held are the same: they are taken per STRIPE_SECTORS. */
static void cut_stripe_heads(struct req *rq)
{
	free_stripes(rq);
	rq->piece = STRIPE_SECTORS;
	build_stripes(rq, rq->off, rq->len, rq->buf);
	for (unsigned i = 0; i < rq->stripes.n; i++) {
		struct stripe *sh = stripe_at(rq, i);
		sh->lo = sh->pbase;
		sh->hi = MIN(sh->pbase + STRIPE_SECTORS, rq->conf->chunk);
	}
}

static bool any_bad(const struct stripe *sh, int n)
{
	for (int i = 0; i < n; i++)
		if (sh->dev[i].bad)
			return true;
	return false;
}

/* md's handle_failed_stripe: a member whose read failed where the stripe
 * cannot be rebuilt gets the sectors recorded bad, or is failed. */
static void fail_unreadable(struct req *rq)
{
	struct r5conf *c = rq->conf;

	for (unsigned s = 0; s < rq->stripes.n; s++) {
		struct stripe *sh = stripe_at(rq, s);
		if (!any_bad(sh, c->raid_disks) ||
		    stripe_check_devs(rq, sh) <= c->max_degraded)
			continue;
		for (int i = 0; i < c->raid_disks; i++)
			if (sh->dev[i].bad && rdev_in_sync(rq->mddev->slots[i]))
				md_bad_sectors(rq->mddev, rq->mddev->slots[i],
					       dev_sector(rq, sh, sh->lo),
					       sh->hi - sh->lo);
	}
}

/* Queue, for each rebuilt stripe, IO of what its members failed to read:
 * the rebuilt contents (write), or a read into fresh pages to compare
 * with them (read back). */
static unsigned queue_rewrites(struct req *rq, bool write, char **back)
{
	struct r5conf *c = rq->conf;
	unsigned n = 0;

	for (unsigned s = 0; s < rq->stripes.n; s++) {
		struct stripe *sh = stripe_at(rq, s);
		if (sh->mode != MODE_DEGRADED)
			continue;
		for (int i = 0; i < c->raid_disks; i++) {
			if (!sh->dev[i].bad || !rdev_usable(rq->mddev->slots[i]))
				continue;
			if (!write)
				back[n] = req_alloc(rq, stripe_bytes(sh));
			queue_io(rq, sh, i, write, sh->lo, sh->hi,
				 write ? sh->dev[i].page : back[n]);
			n++;
		}
	}
	return n;
}

/* md's R5_ReWrite, then R5_ReRead: the rebuilt contents are written over
 * what a member failed to read and read back.  Read back as written: the
 * member's corrected_errors grow ("read error corrected"); else the
 * sectors are recorded bad or the member failed.  Parity a member failed
 * to read is recomputed from the rebuilt data first. */
static void fix_read_errors(struct req *rq)
{
	struct r5conf *c = rq->conf;
	unsigned n = 0;

	if (rq->mddev->ro)
		return;
	for (unsigned s = 0; s < rq->stripes.n; s++) {
		struct stripe *sh = stripe_at(rq, s);
		if (sh->mode == MODE_DEGRADED &&
		    (sh->dev[sh->map.pd].bad || (sh->map.qd >= 0 && sh->dev[sh->map.qd].bad)))
			compute_parity(c, sh);
	}
	n = queue_rewrites(rq, true, NULL);
	if (n == 0)
		return;
	char *back[n];
	mio_run(rq->mios.v, n);
	struct mio *w = g_memdup2(rq->mios.v, n * sizeof(struct mio));
	rq->mios.n = 0;
	queue_rewrites(rq, false, back);
	struct mio *r = rq->mios.v;
	for (unsigned i = 0; i < n; i++)
		if (w[i].res == 0)
			mio_run(&r[i], 1);
	for (unsigned i = 0; i < n; i++) {
		uint64_t sector = w[i].off >> SECTOR_SHIFT, sectors = w[i].len >> SECTOR_SHIFT;
		struct md_rdev *rdev = w[i].rdev;
		if (w[i].res == 0 && r[i].res == 0 && !memcmp(w[i].buf, r[i].buf, w[i].len)) {
			atomic_fetch_add(&rdev->corrected_errors, sectors);
			atomic_store(&rdev->read_errors, 0);
			g_message("%s: read error corrected (%" PRIu64 " sectors at %"
				  PRIu64 " on %s)", rq->mddev->name, sectors,
				  sector + rdev->data_offset, rdev->name);
			continue;
		}
		g_warning("%s: read error NOT corrected!! (sector %" PRIu64 " on %s)",
			  rq->mddev->name, sector + rdev->data_offset, rdev->name);
		md_bad_sectors(rq->mddev, rdev, sector, sectors);
	}
	rq->mios.n = 0;
	g_free(w);
}

/* Under the stripe locks: parity and data are of one write, so what a
 * member cannot give is rebuilt from the rest; after a read error, in
 * stripe_heads, each failed one rebuilt and rewritten. */
static int read_locked(struct req *rq, bool read_error)
{
	int r;

	do {
		if (read_error && rq->piece != STRIPE_SECTORS)
			cut_stripe_heads(rq);
		r = read_stripes(rq, true);
		read_error |= r == READ_ERROR;
	} while (r == READ_ERROR);
	if (r < 0) {
		fail_unreadable(rq);
		return r;
	}
	fix_read_errors(rq);
	read_held_back(rq, true);
	return 0;
}

/* Fix what member i failed to read of sectors [lo, hi) of row nr, in
 * stripe_heads, as a read of them would: a read of the member's own
 * pieces, rebuilt, rewritten and read back where they fail. */
static int repair_member(struct mddev *mddev, uint64_t nr, int i,
			 uint32_t lo, uint32_t hi)
{
	struct req rq;

	req_init(&rq, mddev);
	rq.piece = STRIPE_SECTORS;
	for (uint32_t u = lo / STRIPE_SECTORS * STRIPE_SECTORS; u < hi;
	     u += STRIPE_SECTORS) {
		struct stripe *sh = new_stripe(&rq, nr);
		sh->pbase = sh->lo = u;
		sh->hi = MIN(u + STRIPE_SECTORS, rq.conf->chunk);
		sh->wbase = u / rq.conf->window * rq.conf->window;
		struct r5dev *dev = &sh->dev[i];
		dev->wa = (uint64_t)sh->lo << SECTOR_SHIFT;
		dev->wb = (uint64_t)sh->hi << SECTOR_SHIFT;
		dev->user = req_alloc(&rq, stripe_bytes(sh));
	}
	int r = read_locked(&rq, true);
	req_free(&rq);
	return r;
}

/* md's R5_ReadError under a write: each member's part of a stripe that
 * failed a read the write needed is fixed before the write starts again,
 * which works around it (rebuilds it) as md uses the block it computed:
 * every retry has a member fewer to read, so it ends.  The caller holds
 * the stripe locks. */
static int repair_reads(struct req *rq)
{
	for (unsigned s = 0; s < rq->stripes.n; s++) {
		struct stripe *sh = stripe_at(rq, s);
		for (int i = 0; i < rq->conf->raid_disks; i++) {
			int r = sh->dev[i].bad && !sh->dev[i].repaired ?
				repair_member(rq->mddev, sh->nr, i, sh->lo, sh->hi) : 0;
			if (r < 0)
				return r;
			sh->dev[i].repaired = sh->dev[i].bad;
		}
	}
	return 0;
}

/* Data held back in the stripe cache is newer than the members': find
 * whether the request reads any, and with copy give it to the reader. */
static bool read_held_back(struct req *rq, bool copy)
{
	struct r5conf *c = rq->conf;
	bool any = false;

	if (atomic_load(&c->cache.ndirty) == 0)
		return false;
	for (unsigned s = 0; s < rq->stripes.n; s++) {
		struct stripe *sh = stripe_at(rq, s);
		struct sc_entry *e = sc_find(&c->cache, window_key(c, sh->nr, sh->wbase));
		size_t base = (size_t)sh->wbase << SECTOR_SHIFT;
		for (int i = 0; e && i < c->raid_disks; i++) {
			struct r5dev *dev = &sh->dev[i];
			uint32_t a = sector_floor(dev->wa) - sh->wbase, end;
			uint32_t b = sector_ceil(dev->wb) - sh->wbase;
			for (; dev->wa < dev->wb && sc_next_run(&c->cache, e, i, true,
				true, &a, b, &end); a = end) {
				any = true;
				if (!copy)
					break;
				size_t from = MAX(base + ((size_t)a << SECTOR_SHIFT), dev->wa);
				size_t to = MIN(base + ((size_t)end << SECTOR_SHIFT), dev->wb);
				memcpy(dev->user + (from - dev->wa), e->page[i] + (from - base),
				       to - from);
			}
		}
		if (e)
			sc_put(&c->cache, e);
	}
	return any;
}

static int raid5_read(struct mddev *mddev, uint64_t off, size_t len, void *buf)
{
	struct req rq;
	uint64_t set[NR_STRIPE_LOCKS / 64];

	req_init(&rq, mddev);
	build_stripes(&rq, off, len, buf);
	int r = read_held_back(&rq, false) ? -EAGAIN : read_stripes(&rq, false);
	if (r == -EAGAIN || r == READ_ERROR) {
		stripes_lock(&rq, set);
		r = read_locked(&rq, r == READ_ERROR);
		stripes_unlock(&rq, set);
	}
	req_free(&rq);
	return r;
}

/* ---- resync, check, repair, recover ---- */

/* md's handle_parity_checks5/6: every STRIPE_SECTORS page whose parity is
 * wrong counts STRIPE_SECTORS mismatches. */
static uint64_t count_mismatches(struct stripe *sh, int pd, int qd)
{
	const size_t unit = STRIPE_SECTORS << SECTOR_SHIFT;
	size_t len = stripe_bytes(sh);
	uint64_t bad = 0;

	for (size_t o = 0; o < len; o += unit) {
		size_t k = MIN(unit, len - o);
		bool wrong = false;
		for (int i = 0; i < 2; i++) {
			int p = i ? qd : pd;
			if (p >= 0 && sh->dev[p].good &&
			    memcmp(sh->dev[p].page + o, sh->dev[p].orig + o, k))
				wrong = true;
		}
		bad += wrong ? STRIPE_SECTORS : 0;
	}
	return bad;
}

/* md's handle_parity_checks5/6 with a member failed in the stripe (a
 * recorded bad block): the block computed for it is written, which makes
 * it good again unless the member skips it (WriteErrorSeen). */
static void queue_rebuilt(struct req *rq, struct stripe *sh)
{
	for (int i = 0; i < rq->conf->raid_disks; i++)
		if (!sh->dev[i].good && rdev_usable(rq->mddev->slots[i]))
			queue_io(rq, sh, i, true, sh->lo, sh->hi, sh->dev[i].page);
}

/* Queue a write of sectors [a, b) of member i's page, joined to the write
 * queued last when it goes on from there. */
static void queue_write_joined(struct req *rq, struct stripe *sh, int i,
			       uint32_t a, uint32_t b, char *page)
{
	struct mio *last = rq->mios.n ? (struct mio *)rq->mios.v + rq->mios.n - 1 : NULL;
	char *buf = page + ((size_t)(a - sh->lo) << SECTOR_SHIFT);

	if (last && last->rdev == rq->mddev->slots[i] &&
	    last->off + last->len == dev_sector(rq, sh, a) << SECTOR_SHIFT &&
	    (char *)last->buf + last->len == buf) {
		last->len += (size_t)(b - a) << SECTOR_SHIFT;
		return;
	}
	queue_io(rq, sh, i, true, a, b, page);
}

/* raid6 repair with every member read: where md rewrites P and Q, find
 * the one member of each page that explains its discrepancy, as mdadm's
 * raid6check does, and rewrite that member alone; when no single member
 * does, rewrite P and Q as md.  Like raid6check, it cannot tell a bad
 * data member from its error folded into P and Q by a later
 * read-modify-write over it (which leaves the member right): both look
 * the same, and the single member wins.  Pages run member by member, so
 * that the writes of one member join up. */
static void repair_pq(struct req *rq, struct stripe *sh)
{
	const size_t unit = STRIPE_SECTORS << SECTOR_SHIFT;
	struct r5conf *c = rq->conf;
	int pd = sh->map.pd, qd = sh->map.qd;
	size_t len = stripe_bytes(sh), npages = (len + unit - 1) / unit;
	int16_t *who = g_malloc(npages * sizeof(*who));
	char *scratch = req_alloc(rq, 3 * unit);

	for (size_t o = 0, j = 0; o < len; o += unit, j++) {
		size_t k = MIN(unit, len - o);
		bool wrong = memcmp(sh->dev[pd].page + o, sh->dev[pd].orig + o, k) ||
			     memcmp(sh->dev[qd].page + o, sh->dev[qd].orig + o, k);
		who[j] = wrong ? raid6_bad_member(c, sh, o, k, scratch) : -2;
	}
	for (int i = 0; i < c->raid_disks; i++) {
		if (!rdev_usable(rq->mddev->slots[i]))
			continue;
		for (size_t j = 0; j < npages; j++) {
			bool pq = i == pd || i == qd;
			if (who[j] != i && !(pq && who[j] == -1))
				continue;
			uint32_t a = sh->lo + j * STRIPE_SECTORS;
			queue_write_joined(rq, sh, i, a, MIN(a + STRIPE_SECTORS, sh->hi),
					   sh->dev[i].page);
		}
	}
	g_free(who);
}

static void sync_stripe(struct req *rq, struct stripe *sh, enum sync_action action)
{
	struct r5conf *c = rq->conf;
	int pd = sh->map.pd, qd = sh->map.qd;

	if (action == ACTION_RECOVER) {
		reconstruct(c, sh);
		/* Parity read good is what it would compute again. */
		if (!sh->dev[pd].good || (qd >= 0 && !sh->dev[qd].good))
			compute_parity(c, sh);
		for (int i = 0; i < c->raid_disks; i++)
			if (!sh->dev[i].good && rdev_usable(rq->mddev->slots[i]))
				queue_io(rq, sh, i, true, sh->lo, sh->hi, sh->dev[i].page);
		return;
	}
	int failed = 0;
	for (int i = 0; i < c->raid_disks; i++)
		failed += !sh->dev[i].good;
	if (failed >= c->max_degraded) {
		/* Nothing to check parity against; resync and repair write
		 * what they compute for the members missing here. */
		if (action != ACTION_CHECK) {
			reconstruct(c, sh);
			compute_parity(c, sh);
			queue_rebuilt(rq, sh);
		}
		return;
	}
	for (int i = 0; i < c->raid_disks; i++) {
		if (!is_data(sh, i) || sh->dev[i].good)
			continue;
		/* raid6, one data member gone: rebuilt from P, so Q is what
		 * gets checked, as md's handle_parity_checks6 does. */
		reconstruct(c, sh);
		break;
	}
	for (int i = 0; i < c->raid_disks; i++) {
		if (is_data(sh, i))
			continue;
		sh->dev[i].orig = sh->dev[i].page;
		sh->dev[i].page = req_alloc(rq, stripe_bytes(sh));
	}
	compute_parity(c, sh);
	uint64_t bad = count_mismatches(sh, pd, qd);
	atomic_fetch_add(&rq->mddev->resync_mismatches, bad);
	if (action == ACTION_CHECK)
		return;
	queue_rebuilt(rq, sh);
	if (bad && qd >= 0 && failed == 0) {
		repair_pq(rq, sh);
		return;
	}
	for (int i = 0; bad && i < c->raid_disks; i++)
		if (!is_data(sh, i) && sh->dev[i].good &&
		    rdev_usable(rq->mddev->slots[i]))
			queue_io(rq, sh, i, true, sh->lo, sh->hi, sh->dev[i].page);
}

static int sync_stripes(struct req *rq, enum sync_action action)
{
	for (unsigned i = 0; i < rq->stripes.n; i++) {
		struct stripe *sh = stripe_at(rq, i);
		if (stripe_check_devs(rq, sh) > rq->conf->max_degraded)
			return -EIO;
		alloc_pages(rq, sh);
		for (int d = 0; d < rq->conf->raid_disks; d++)
			if (sh->dev[d].good)
				queue_io(rq, sh, d, false, sh->lo, sh->hi, sh->dev[d].page);
	}
	if (run_reads(rq)) {   /* md fixes read errors on check too */
		int r = repair_reads(rq);
		return r < 0 ? r : -EAGAIN;
	}
	for (unsigned i = 0; i < rq->stripes.n; i++)
		sync_stripe(rq, stripe_at(rq, i), action);
	int r = run_write_batch(rq);
	return r == -EAGAIN ? 0 : r;
}

static int window_failed(struct mddev *mddev, uint64_t sector, uint64_t sectors)
{
	int failed = 0;

	for (int d = 0; d < mddev->raid_disks; d++)
		failed += !rdev_readable(mddev->slots[d], sector, sectors);
	return failed;
}

/* Too few members readable over the window, for its bad blocks: md's
 * handle_failed_sync skips it, and recovery records it bad on the
 * members it rebuilds.  With members missing, the array has failed. */
static int64_t no_source(struct mddev *mddev, uint64_t sector, uint64_t sectors,
			 enum sync_action action)
{
	struct mio targets[mddev->raid_disks];
	unsigned nt = 0;

	if (!md_enough(mddev, -1))
		return -EIO;
	for (int d = 0; action == ACTION_RECOVER && d < mddev->raid_disks; d++)
		if (rdev_usable(mddev->slots[d]) && !rdev_in_sync(mddev->slots[d]))
			targets[nt++] = (struct mio){ .rdev = mddev->slots[d],
				.off = sector << SECTOR_SHIFT,
				.len = sectors << SECTOR_SHIFT };
	return md_record_no_source(mddev, targets, nt) ? (int64_t)sectors : -EIO;
}

/* The stripes of member sectors [sector, end), into rq. */
static void window_stripes(struct req *rq, uint64_t sector, uint64_t end)
{
	struct r5conf *c = rq->conf;

	for (uint64_t s = sector; s < end;) {
		uint64_t nr = s / c->chunk;
		struct stripe *sh = new_stripe(rq, nr);
		sh->lo = s % c->chunk;
		sh->hi = MIN(end - nr * c->chunk, c->chunk);
		s = nr * c->chunk + sh->hi;
	}
}

/* The window is in member sectors; it may hold several stripes or part of
 * one.  The stripe locks keep writers out. */
static int64_t raid5_sync_request(struct mddev *mddev, uint64_t sector,
				  uint64_t max_sectors, enum sync_action action)
{
	struct r5conf *c = mddev->private;
	uint64_t end = MIN(sector + MIN(max_sectors, MAX_STRIPE_SECTORS),
			   mddev->dev_sectors);
	uint64_t set[NR_STRIPE_LOCKS / 64];
	struct req rq;
	int r;

	if (sector >= end)
		return max_sectors;
	/* As md's stripes: each member all good or all bad over the window. */
	for (int d = 0; d < c->raid_disks; d++)
		end = sector + rdev_badblock_run(mddev->slots[d], sector, end - sector);
	if (window_failed(mddev, sector, end - sector) > c->max_degraded)
		return no_source(mddev, sector, end - sector, action);
	req_init(&rq, mddev);
	window_stripes(&rq, sector, end);
	stripes_lock(&rq, set);
	do {
		for (unsigned i = 0; i < rq.stripes.n; i++) {
			struct stripe *sh = stripe_at(&rq, i);
			for (int d = 0; d < c->raid_disks; d++)
				sh->dev[d].orig = NULL;
		}
		r = sync_stripes(&rq, action);
	} while (r == -EAGAIN);
	if (action != ACTION_CHECK)
		forget_stripes(&rq);   /* parity or a member was rewritten */
	stripes_unlock(&rq, set);
	req_free(&rq);
	return r < 0 ? r : (int64_t)(end - sector);
}

/* The window's stripe locks keep writers out while fn copies it. */
static int64_t raid5_hold_window(struct mddev *mddev, uint64_t sector,
				 uint64_t max_sectors,
				 int64_t (*fn)(struct mddev *mddev,
					       uint64_t sector, uint64_t sectors))
{
	uint64_t end = MIN(sector + MIN(max_sectors, MAX_STRIPE_SECTORS),
			   mddev->dev_sectors);
	uint64_t set[NR_STRIPE_LOCKS / 64];
	struct req rq;

	if (sector >= end)
		return max_sectors;
	req_init(&rq, mddev);
	window_stripes(&rq, sector, end);
	stripes_lock(&rq, set);
	int64_t r = fn(mddev, sector, end - sector);
	stripes_unlock(&rq, set);
	req_free(&rq);
	return r;
}

/* ---- write-back of held-back stripes ---- */

/* Write the held-back data of entry e, and the parity over it: a write of
 * no new data over the span of its dirty sectors.  Takes over the caller's
 * hold on e. */
static int writeback_entry(struct mddev *mddev, struct sc_entry *e)
{
	struct r5conf *c = mddev->private;
	uint32_t per_chunk = c->chunk / c->window, a, b;
	uint64_t set[NR_STRIPE_LOCKS / 64];
	struct req rq;
	int r = 0;

	req_init(&rq, mddev);
	struct stripe *sh = new_stripe(&rq, e->key / per_chunk);
	sh->wbase = e->key % per_chunk * c->window;
	sh->entry = e;
	if (!sc_dirty_span(&c->cache, e, &a, &b))
		goto out;
	sh->lo = sh->wbase + a;
	sh->hi = sh->wbase + b;
	r = md_write_start(mddev);
	uint64_t bs = dev_sector(&rq, sh, sh->lo), bn = sh->hi - sh->lo;
	md_bitmap_start_write(mddev, bs, bn);
	/* Under the locks nothing in [lo, hi) changes; what was written back
	 * meanwhile is clean, and the write then costs parity only. */
	stripes_lock(&rq, set);
	while (r == 0 && (r = write_stripes(&rq)) == -EAGAIN)
		;
	if (r < 0) {   /* what was held back is lost: fsync must say so */
		sc_clean(&c->cache, e, a, b);
		md_write_lost(mddev);
	}
	stripes_unlock(&rq, set);
	md_bitmap_end_write(mddev, bs, bn);
	md_write_end(mddev);
out:
	req_free(&rq);
	return r;
}

/* Write back every entry dirty since before `before`. */
static int writeback_older(struct mddev *mddev, gint64 before)
{
	struct r5conf *c = mddev->private;
	struct sc_entry *e;
	int r = 0;

	while ((e = sc_oldest_dirty(&c->cache, before))) {
		int k = writeback_entry(mddev, e);
		r = r ? r : k;
	}
	return r;
}

/* fsync and stop: everything held back goes to the members. */
static int raid5_writeback(struct mddev *mddev)
{
	return writeback_older(mddev, g_get_monotonic_time() + 1);
}

/* md's raid5d, for the one job left to a thread here: a stripe held back
 * WRITEBACK_DELAY_MS without the rest of it arriving is written as it is. */
static gpointer raid5d(gpointer arg)
{
	struct mddev *mddev = arg;
	struct r5conf *c = mddev->private;
	const gint64 delay = WRITEBACK_DELAY_MS * 1000;

	pthread_mutex_lock(&c->wb_lock);
	while (!c->wb_stop) {
		gint64 since = sc_oldest_since(&c->cache);
		if (since == G_MAXINT64) {
			pthread_cond_wait(&c->wb_cond, &c->wb_lock);
			continue;
		}
		gint64 now = g_get_monotonic_time();
		if (now < since + delay) {
			md_cond_wait_until(&c->wb_cond, &c->wb_lock, since + delay);
			continue;
		}
		pthread_mutex_unlock(&c->wb_lock);
		md_io_enter(mddev);    /* a request of its own */
		writeback_older(mddev, now - delay + 1);
		md_io_exit(mddev);
		pthread_mutex_lock(&c->wb_lock);
	}
	pthread_mutex_unlock(&c->wb_lock);
	return NULL;
}

/* ---- setup ---- */

static int check_geometry(struct mddev *mddev, char *err, size_t errlen)
{
	const struct md_personality *pers = mddev->pers;
	uint32_t chunk = mddev->chunk_sectors;

	if (!chunk || (chunk & (chunk - 1)) || chunk < 8) {
		snprintf(err, errlen, "%s: %s needs a power-of-two chunk of at least "
			 "4K, not %u sectors", mddev->name, pers->name, chunk);
		return -EINVAL;
	}
	if (mddev->raid_disks < pers->min_disks || mddev->raid_disks > MAX_DISKS) {
		snprintf(err, errlen, "%s: %s cannot run on %d members",
			 mddev->name, pers->name, mddev->raid_disks);
		return -EINVAL;
	}
	if (!layout_valid(mddev->level, mddev->layout)) {
		snprintf(err, errlen, "%s: layout %u is not a %s layout",
			 mddev->name, mddev->layout, pers->name);
		return -EINVAL;
	}
	for (int i = 0; i < mddev->raid_disks; i++) {
		struct md_rdev *rdev = mddev->slots[i];
		if (rdev && rdev->sectors < mddev->dev_sectors) {
			snprintf(err, errlen, "%s: member %s has %" PRIu64 " data "
				 "sectors, the array needs %" PRIu64, mddev->name,
				 rdev->name, rdev->sectors, mddev->dev_sectors);
			return -EINVAL;
		}
	}
	return 0;
}

/* md sizes its cache in stripe_heads (a page per member); ours holds
 * windows, never fewer than a few threads' worth. */
/* md's raid5_bitmap_sector: the whole stripes an array range touches,
 * in component sectors, since its parity changes over all of them. */
static void raid5_bitmap_sector(struct mddev *mddev, uint64_t *sector,
				uint64_t *sectors)
{
	struct r5conf *c = mddev->private;
	uint64_t row = (uint64_t)c->chunk * c->data_disks;
	uint64_t first = *sector / row, last = (*sector + *sectors + row - 1) / row;

	*sector = first * c->chunk;
	*sectors = (last - first) * c->chunk;
}

static unsigned cache_windows(struct r5conf *c)
{
	return MAX(MIN_CACHED_WINDOWS,
		   atomic_load(&c->stripe_cache_size) * STRIPE_SECTORS / c->window);
}

/* md's raid5_run: after an unclean stop, parity may disagree with the
 * data, and a missing data member rebuilt from it would be garbage.  Only
 * a recovering member that holds nothing but parity is harmless. */
static int check_dirty_degraded(struct mddev *mddev, const struct r5conf *c,
				char *err, size_t errlen)
{
	int dirty_parity_disks = 0;

	if (mddev->resync_offset == MD_MAX_SECTOR)
		return 0;
	for (int i = 0; i < c->raid_disks; i++)
		dirty_parity_disks += rdev_usable(mddev->slots[i]) &&
				      !rdev_in_sync(mddev->slots[i]) &&
				      only_parity(i, c->algorithm, c->raid_disks,
						  c->max_degraded);
	if (atomic_load(&mddev->degraded) <= dirty_parity_disks)
		return 0;
	if (!mddev->ok_start_degraded) {
		snprintf(err, errlen, "%s: cannot start dirty degraded array: its "
			 "parity may be stale; -o run starts it, risking corrupt "
			 "data where a member is missing", mddev->name);
		return -EINVAL;
	}
	g_warning("%s: starting dirty degraded array - data corruption possible",
		  mddev->name);
	return 0;
}

static int raid5_run(struct mddev *mddev, char *err, size_t errlen)
{
	int r = check_geometry(mddev, err, errlen);

	if (r < 0)
		return r;
	struct r5conf *c = g_new0(struct r5conf, 1);
	c->level = mddev->level;
	c->algorithm = mddev->level == 4 ? ALGORITHM_PARITY_N : (int)mddev->layout;
	c->raid_disks = mddev->raid_disks;
	c->max_degraded = mddev->pers->max_degraded;
	c->data_disks = c->raid_disks - c->max_degraded;
	c->chunk = mddev->chunk_sectors;
	r = check_dirty_degraded(mddev, c, err, errlen);
	if (r < 0) {
		g_free(c);
		return r;
	}
	if (posix_memalign((void **)&c->zero, VEC_ALIGN,
			   MAX_STRIPE_SECTORS << SECTOR_SHIFT))
		g_error("out of memory");
	memset(c->zero, 0, MAX_STRIPE_SECTORS << SECTOR_SHIFT);
	c->window = MIN(c->chunk, MAX_WINDOW);
	c->stripe_cache_size = NR_STRIPES;
	/* md defaults to 1.  A member here is a file: the reads bring its
	 * pages into the page cache, and rmw writes back the very pages it
	 * read, where rcw writes two more that must be looked up (and,
	 * below a page, read) anew.  So on a tie rmw is the cheaper. */
	c->rmw_level = PARITY_PREFER_RMW;
	sc_init(&c->cache, c->raid_disks, c->window, cache_windows(c));
	pthread_mutex_init(&c->wb_lock, NULL);
	md_cond_init(&c->wb_cond);
	c->gexp[0] = 1;
	for (int i = 1; i < 256; i++)
		c->gexp[i] = gf_mul(c->gexp[i - 1], 2);
	pthread_mutex_init(&c->stripe_lock, NULL);
	for (int i = 0; i < NR_STRIPE_WAITQS; i++)
		pthread_cond_init(&c->stripe_wait[i], NULL);
	/* As md's raid5_run: the component is whole chunks. */
	mddev->dev_sectors -= mddev->dev_sectors % c->chunk;
	mddev->array_sectors = mddev->dev_sectors * c->data_disks;
	mddev->private = c;
	c->raid5d = g_thread_new("raid5d", raid5d, mddev);
	return 0;
}

static void raid5_free(struct mddev *mddev)
{
	struct r5conf *c = mddev->private;

	if (!c)
		return;
	pthread_mutex_lock(&c->wb_lock);
	c->wb_stop = true;
	pthread_cond_signal(&c->wb_cond);
	pthread_mutex_unlock(&c->wb_lock);
	g_thread_join(c->raid5d);
	pthread_mutex_destroy(&c->wb_lock);
	pthread_cond_destroy(&c->wb_cond);
	pthread_mutex_destroy(&c->stripe_lock);
	for (int i = 0; i < NR_STRIPE_WAITQS; i++)
		pthread_cond_destroy(&c->stripe_wait[i]);
	sc_destroy(&c->cache);
	free(c->zero);
	g_free(c);
	mddev->private = NULL;
}

static void raid5_io_hints(struct mddev *mddev, unsigned *io_min, unsigned *io_opt)
{
	struct r5conf *c = mddev->private;

	*io_min = mddev->chunk_sectors << SECTOR_SHIFT;
	*io_opt = *io_min * c->data_disks;
}

/* Row r is stripe r: its data chunks in order, and P (and Q) where the
 * layout rotates them. */
static int raid5_layout_rows(const struct md_geometry *g, int rows,
			     uint64_t *row_of, int64_t *cells)
{
	const struct md_personality *pers = md_find_personality(g->level);
	struct r5conf *c = g_new0(struct r5conf, 1);
	struct rowmap m;
	int n = MIN((uint64_t)rows, g->dev_sectors / g->chunk_sectors);

	if (g->raid_disks > MAX_DISKS || g->raid_disks <= pers->max_degraded)
		n = 0;        /* no array the level runs */
	c->level = g->level;
	c->algorithm = g->level == 4 ? ALGORITHM_PARITY_N : (int)g->layout;
	c->raid_disks = g->raid_disks;
	c->max_degraded = pers->max_degraded;
	c->data_disks = c->raid_disks - c->max_degraded;
	for (int i = 0; i < n; i++) {
		int64_t *row = cells + (size_t)i * g->raid_disks;
		stripe_map(c, i, &m);
		row_of[i] = i;
		row[m.pd] = CELL_P;
		if (m.qd >= 0)
			row[m.qd] = CELL_Q;
		for (int d = 0; d < c->data_disks; d++)
			row[m.dev_of[d]] = (int64_t)i * c->data_disks + d;
	}
	g_free(c);
	return n;
}

/* md's raid5_status. */
static void raid5_status(struct mddev *mddev, GString *out)
{
	int n = mddev->raid_disks;

	g_string_append_printf(out, " level %d, %uk chunk, algorithm %u [%d/%d] ",
			       mddev->level, mddev->chunk_sectors / 2, mddev->layout,
			       n, n - atomic_load(&mddev->degraded));
	md_status_slots(mddev, out);
}

/* ---- md's raid5 attributes ---- */

static void stripe_cache_size_show(struct mddev *mddev, struct md_rdev *rdev,
				   GString *out)
{
	struct r5conf *c = mddev->private;

	(void)rdev;
	g_string_append_printf(out, "%u", atomic_load(&c->stripe_cache_size));
}

/* md's raid5_set_cache_size bounds. */
static int stripe_cache_size_store(struct mddev *mddev, struct md_rdev *rdev,
				   const char *val)
{
	struct r5conf *c = mddev->private;
	unsigned v;

	(void)rdev;
	if (ctl_parse_uint(val, &v) < 0 || v <= 16 || v > MAX_NR_STRIPES)
		return -EINVAL;
	atomic_store(&c->stripe_cache_size, v);
	sc_set_max(&c->cache, cache_windows(c));
	return 0;
}

/* In use or holding data back, in stripe_heads as stripe_cache_size. */
static void stripe_cache_active_show(struct mddev *mddev, struct md_rdev *rdev,
				     GString *out)
{
	struct r5conf *c = mddev->private;

	(void)rdev;
	g_string_append_printf(out, "%u",
			       sc_active(&c->cache) * (c->window / STRIPE_SECTORS));
}

static void rmw_level_show(struct mddev *mddev, struct md_rdev *rdev, GString *out)
{
	struct r5conf *c = mddev->private;

	(void)rdev;
	g_string_append_printf(out, "%d", atomic_load(&c->rmw_level));
}

static int rmw_level_store(struct mddev *mddev, struct md_rdev *rdev, const char *val)
{
	struct r5conf *c = mddev->private;
	unsigned v;

	(void)rdev;
	if (ctl_parse_uint(val, &v) < 0 || v > PARITY_PREFER_RMW)
		return -EINVAL;
	atomic_store(&c->rmw_level, (int)v);
	return 0;
}

/* md's stripe_size: a stripe_head's bytes, a multiple of 4096 up to the
 * page, so on a 4K-page machine 4096 and nothing else. */
static void stripe_size_show(struct mddev *mddev, struct md_rdev *rdev, GString *out)
{
	(void)mddev, (void)rdev;
	g_string_append_printf(out, "%d", STRIPE_SECTORS << SECTOR_SHIFT);
}

static int stripe_size_store(struct mddev *mddev, struct md_rdev *rdev, const char *val)
{
	unsigned v;

	(void)mddev, (void)rdev;
	if (ctl_parse_uint(val, &v) < 0 || v != STRIPE_SECTORS << SECTOR_SHIFT)
		return -EINVAL;
	return 0;
}

static const struct md_attr raid5_attrs[] = {
	{ "stripe_cache_size", 0644, stripe_cache_size_show, stripe_cache_size_store },
	{ "stripe_cache_active", 0444, stripe_cache_active_show, NULL },
	{ "rmw_level", 0644, rmw_level_show, rmw_level_store },
	{ "stripe_size", 0644, stripe_size_show, stripe_size_store },
	{ NULL, 0, NULL, NULL },
};

#define RAID456(lvl, min, maxdeg)                                       \
	.name = "raid" #lvl, .level = lvl, .min_disks = min,            \
	.max_degraded = maxdeg, .uses_chunk = true, .run = raid5_run,   \
	.free = raid5_free, .read = raid5_read, .write = raid5_write,   \
	.sync_request = raid5_sync_request,                             \
	.bitmap_sector = raid5_bitmap_sector, .bitmap_bounds_sync = true, \
	.hold_window = raid5_hold_window,                               \
	.io_hints = raid5_io_hints,                                     \
	.layout_rows = raid5_layout_rows,                               \
	.writeback = raid5_writeback, .attrs = raid5_attrs,             \
	.status = raid5_status

const struct md_personality raid4_personality = { RAID456(4, 2, 1) };
const struct md_personality raid5_personality = { RAID456(5, 2, 1) };
const struct md_personality raid6_personality = { RAID456(6, 4, 2) };
