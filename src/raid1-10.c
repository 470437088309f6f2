/* The mirror levels' shared logic (the kernel's raid1-10.c): barrier
 * buckets, read balancing, read-error fixing and the check/repair block
 * compare, used by raid1.c and raid10.c. */
#include <errno.h>
#include <string.h>
#include "raid1-10.h"

void (*mirror_read_error_hook)(struct mddev *mddev);

/* ---- barrier buckets ---- */

void mirror_barrier_init(struct mirror_barrier *b, uint64_t sectors,
			 unsigned shift)
{
	pthread_mutex_init(&b->lock, NULL);
	md_cond_init(&b->cond);
	b->shift = shift;
	b->nr_buckets = (sectors >> shift) + 1;
	b->nr_pending = g_new0(atomic_uint, b->nr_buckets);
	b->barrier = g_new0(atomic_bool, b->nr_buckets);
}

void mirror_barrier_free(struct mirror_barrier *b)
{
	pthread_mutex_destroy(&b->lock);
	pthread_cond_destroy(&b->cond);
	g_free(b->nr_pending);
	g_free(b->barrier);
}

static unsigned first_bucket(const struct mirror_barrier *b, uint64_t sector)
{
	return MIN(sector >> b->shift, b->nr_buckets - 1);
}

static unsigned last_bucket(const struct mirror_barrier *b, uint64_t sector,
			    uint64_t sectors)
{
	return first_bucket(b, sector + MAX(sectors, 1) - 1);
}

uint64_t barrier_bucket_left(const struct mirror_barrier *b, uint64_t sector)
{
	return (((sector >> b->shift) + 1) << b->shift) - sector;
}

/* md's fast path: count ourselves pending, then look for a barrier.  The
 * raiser sets the barrier, then looks at the count (both seq_cst), so one
 * of the two always sees the other. */
static void wait_bucket(struct mirror_barrier *b, unsigned i)
{
	atomic_fetch_add(&b->nr_pending[i], 1);
	if (!atomic_load(&b->barrier[i]))
		return;
	pthread_mutex_lock(&b->lock);
	atomic_fetch_sub(&b->nr_pending[i], 1);
	pthread_cond_broadcast(&b->cond);
	while (atomic_load(&b->barrier[i]))
		pthread_cond_wait(&b->cond, &b->lock);
	atomic_fetch_add(&b->nr_pending[i], 1);
	pthread_mutex_unlock(&b->lock);
}

static void allow_bucket(struct mirror_barrier *b, unsigned i)
{
	if (atomic_fetch_sub(&b->nr_pending[i], 1) == 1 &&
	    atomic_load(&b->barrier[i])) {
		pthread_mutex_lock(&b->lock);
		pthread_cond_broadcast(&b->cond);
		pthread_mutex_unlock(&b->lock);
	}
}

void wait_barrier(struct mirror_barrier *b, uint64_t sector, uint64_t sectors)
{
	for (unsigned i = first_bucket(b, sector);
	     i <= last_bucket(b, sector, sectors); i++)
		wait_bucket(b, i);
}

void allow_barrier(struct mirror_barrier *b, uint64_t sector, uint64_t sectors)
{
	for (unsigned i = first_bucket(b, sector);
	     i <= last_bucket(b, sector, sectors); i++)
		allow_bucket(b, i);
}

void raise_barrier(struct mirror_barrier *b, uint64_t sector, uint64_t sectors)
{
	pthread_mutex_lock(&b->lock);
	for (unsigned i = first_bucket(b, sector);
	     i <= last_bucket(b, sector, sectors); i++) {
		while (atomic_load(&b->barrier[i]))
			pthread_cond_wait(&b->cond, &b->lock);
		atomic_store(&b->barrier[i], true);
		while (atomic_load(&b->nr_pending[i]))
			pthread_cond_wait(&b->cond, &b->lock);
	}
	pthread_mutex_unlock(&b->lock);
}

void lower_barrier(struct mirror_barrier *b, uint64_t sector, uint64_t sectors)
{
	pthread_mutex_lock(&b->lock);
	for (unsigned i = first_bucket(b, sector);
	     i <= last_bucket(b, sector, sectors); i++)
		atomic_store(&b->barrier[i], false);
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
}

/* ---- reads ---- */

static uint64_t mio_end_sector(const struct mio *m)
{
	return (m->off + m->len + 511) >> SECTOR_SHIFT;
}

static bool copy_readable(const struct mio *m)
{
	uint64_t s = m->off >> SECTOR_SHIFT;

	return rdev_readable(m->rdev, s, mio_end_sector(m) - s);
}

int mirror_read_balance(const struct mio *copies, int n, uint64_t array_off,
			bool spread)
{
	int start = spread ? (array_off >> READ_SPREAD_SHIFT) % n : 0;

	for (int i = 0; i < n; i++)
		if (copy_readable(&copies[(start + i) % n]))
			return (start + i) % n;
	return -1;
}

int mirror_read_split(struct mddev *mddev, uint64_t off, size_t len, void *buf,
		      int (*read)(struct mddev *mddev, uint64_t off, size_t len,
				  void *buf))
{
	uint64_t s = off >> SECTOR_SHIFT, e = (off + len + 511) >> SECTOR_SHIFT;

	if (e - s < 2)
		return -EIO;
	size_t half = ((s + (e - s) / 2) << SECTOR_SHIFT) - off;
	int r = read(mddev, off, half, buf);
	return r < 0 ? r : read(mddev, off + half, len - half, (char *)buf + half);
}

void md_fix_read_error(struct mddev *mddev, struct md_rdev *rdev, uint64_t off,
		       void *good, size_t len, uint64_t sectors)
{
	struct mio m = { .rdev = rdev, .write = true, .off = off, .buf = good,
			 .len = len };

	atomic_fetch_add(&rdev->read_errors, 1);
	if (mio_run(&m, 1) < 0)
		md_error(mddev, rdev);
	else
		atomic_fetch_add(&rdev->corrected_errors, sectors);
}

/* Read the copies after the failed one in turn; rewrite the bad ones from
 * the first good one, or fail them all when none reads. */
static int fix_copies(struct mddev *mddev, struct mio *copies, int n)
{
	int failed = 0, bad[n], nbad = 0;

	while (failed < n - 1 && copies[failed].res == 0)
		failed++;
	bad[nbad++] = failed;
	for (int i = 1; i < n; i++) {
		struct mio *m = &copies[(failed + i) % n];
		if (!copy_readable(m))
			continue;
		if (mio_run(m, 1) == 0) {
			for (int j = 0; j < nbad; j++) {
				struct mio *f = &copies[bad[j]];
				md_fix_read_error(mddev, f->rdev, f->off, m->buf,
						  m->len, mio_end_sector(f) -
						  (f->off >> SECTOR_SHIFT));
			}
			return 0;
		}
		bad[nbad++] = (failed + i) % n;
	}
	/* No copy readable: md_error keeps the last copy's member. */
	for (int j = 0; j < nbad; j++)
		md_error(mddev, copies[bad[j]].rdev);
	return -EIO;
}

int mirror_read_errors(struct mddev *mddev, struct mirror_barrier *b,
		       uint64_t sector, uint64_t sectors, struct mio *copies,
		       int n, unsigned nsets)
{
	int r = 0;

	if (mirror_read_error_hook)
		mirror_read_error_hook(mddev);
	/* md freezes the whole array; holding off the range is enough. */
	raise_barrier(b, sector, sectors);
	for (unsigned i = 0; i < nsets; i++)
		if (fix_copies(mddev, copies + (size_t)i * n, n) < 0)
			r = -EIO;
	lower_barrier(b, sector, sectors);
	return r;
}

/* ---- check and repair ---- */

uint64_t mirror_compare_blocks(const char *a, const char *b, size_t len)
{
	const size_t block = RESYNC_BLOCK_SECTORS << SECTOR_SHIFT;
	uint64_t mismatches = 0;

	for (size_t o = 0; o < len; o += block) {
		size_t k = MIN(block, len - o);
		if (memcmp(a + o, b + o, k))
			mismatches += k >> SECTOR_SHIFT;
	}
	return mismatches;
}
