/* The mirror levels' shared logic (the kernel's raid1-10.c): barrier
 * buckets, read balancing, read-error fixing and the check/repair block
 * compare, used by raid1.c and raid10.c. */
#include <errno.h>
#include <inttypes.h>
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

static bool write_mostly(const struct mio *m)
{
	return m->rdev && (atomic_load(&m->rdev->flags) & RDEV_WRITEMOSTLY);
}

/* A write-mostly copy is read only when no other copy is readable, as
 * md's read_balance keeps it for last. */
int mirror_read_balance(const struct mio *copies, int n, uint64_t array_off,
			bool spread)
{
	int start = spread ? (array_off >> READ_SPREAD_SHIFT) % n : 0;
	int fallback = -1;

	for (int i = 0; i < n; i++) {
		int c = (start + i) % n;
		if (!copy_readable(&copies[c]))
			continue;
		if (!write_mostly(&copies[c]))
			return c;
		if (fallback < 0)
			fallback = c;
	}
	return fallback;
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

/* md's check_decay_read_errors: the count halves for every hour since the
 * last read error. */
static void check_decay_read_errors(struct md_rdev *rdev)
{
	gint64 now = g_get_monotonic_time() / G_USEC_PER_SEC;
	gint64 last = atomic_exchange(&rdev->last_read_error, now);

	if (last == 0)
		return;   /* the first read error seen */
	gint64 hours = (now - last) / 3600;
	unsigned n = atomic_load(&rdev->read_errors);
	atomic_store(&rdev->read_errors, hours >= 32 ? 0 : n >> hours);
}

bool exceed_read_errors(struct mddev *mddev, struct md_rdev *rdev)
{
	check_decay_read_errors(rdev);
	unsigned n = atomic_fetch_add(&rdev->read_errors, 1) + 1;
	unsigned max = atomic_load(&mddev->max_corr_read_errors);
	if (n <= max)
		return false;
	g_warning("%s: %s: exceeded read_error threshold [cur %u:max %u], "
		  "failing it", mddev->name, rdev->name, n, max);
	md_error(mddev, rdev);
	return true;
}

/* A copy's member IO over sectors [s, s + sectors) of the failed copy's
 * range: the copies of a set differ in offset only. */
static struct mio copy_page(const struct mio *c, uint64_t s, uint64_t sectors,
			    void *buf, bool write)
{
	return (struct mio){ .rdev = c->rdev, .write = write,
			     .off = ((c->off >> SECTOR_SHIFT) + s) << SECTOR_SHIFT,
			     .buf = buf, .len = sectors << SECTOR_SHIFT };
}

static bool page_readable(const struct mio *m)
{
	return rdev_readable(m->rdev, m->off >> SECTOR_SHIFT,
			     m->len >> SECTOR_SHIFT);
}

/* md's r1_sync_page_io/r10_sync_page_io: write the good page over a copy
 * that failed to read it and read it back; counted corrected when it
 * reads back as written, else recorded bad or the member failed. */
static void rewrite_page(struct mddev *mddev, const struct mio *c, uint64_t s,
			 uint64_t sectors, void *good, void *scratch)
{
	struct mio w = copy_page(c, s, sectors, good, true);
	struct mio r = copy_page(c, s, sectors, scratch, false);

	if (mio_run(&w, 1) == 0 && mio_run(&r, 1) == 0 &&
	    memcmp(good, scratch, w.len) == 0) {
		atomic_fetch_add(&c->rdev->corrected_errors, sectors);
		g_message("%s: read error corrected (%" PRIu64 " sectors at %"
			  PRIu64 " on %s)", mddev->name, sectors,
			  (w.off >> SECTOR_SHIFT) + c->rdev->data_offset,
			  c->rdev->name);
		return;
	}
	g_warning("%s: read error not corrected (%" PRIu64 " sectors at %" PRIu64
		  " on %s)", mddev->name, sectors,
		  (w.off >> SECTOR_SHIFT) + c->rdev->data_offset, c->rdev->name);
	md_bad_sectors(mddev, c->rdev, w.off >> SECTOR_SHIFT, sectors);
}

/* Read one page of the set from the copies in turn from first (skipping
 * skip), into page; marks in tried the copies that failed to read it.
 * Returns the copy that read it, or -1. */
static int read_page(struct mio *copies, int n, int first, int skip,
		     uint64_t s, uint64_t sectors, void *page, bool *tried)
{
	for (int i = 0; i < n; i++) {
		int k = (first + i) % n;
		struct mio m = copy_page(&copies[k], s, sectors, page, false);
		tried[k] = false;
		if (k == skip || !page_readable(&m))
			continue;
		if (mio_run(&m, 1) == 0)
			return k;
		tried[k] = true;
	}
	return -1;
}

/* The bytes of the failed copy's request that page [s, s + sectors) of
 * its sector range holds, into the request's buffer. */
static void copy_out_page(const struct mio *f, uint64_t s, uint64_t sectors,
			  const char *page)
{
	uint64_t base = f->off >> SECTOR_SHIFT << SECTOR_SHIFT;
	uint64_t a = MAX(base + (s << SECTOR_SHIFT), f->off);
	uint64_t b = MIN(base + ((s + sectors) << SECTOR_SHIFT), f->off + f->len);

	memcpy((char *)f->buf + (a - f->off), page + (a - base - (s << SECTOR_SHIFT)),
	       b - a);
}

/* md's fix_read_error for the set whose copy `failed` could not be read:
 * page by page, the failed copy is read again (the error may have been
 * passing), then the others in turn; the copies that failed the page
 * before one read it are rewritten from it.  Past max_read_errors (which
 * normal reads count), or on a read-only array, nothing is rewritten and
 * the failed copy is not read again. */
static int fix_copies(struct mddev *mddev, struct mio *copies, int n,
		      bool count)
{
	int failed = 0, r = 0;

	while (failed < n - 1 && copies[failed].res == 0)
		failed++;
	struct mio *f = &copies[failed];
	bool fix = !mddev->ro && !(atomic_load(&f->rdev->flags) & RDEV_FAULTY) &&
		   !(count && exceed_read_errors(mddev, f->rdev));
	uint64_t sectors = mio_end_sector(f) - (f->off >> SECTOR_SHIFT);
	char *page = g_malloc(2 * FIX_PAGE_SECTORS << SECTOR_SHIFT);
	char *scratch = page + (FIX_PAGE_SECTORS << SECTOR_SHIFT);
	bool tried[n];

	for (uint64_t s = 0; s < sectors; s += FIX_PAGE_SECTORS) {
		uint64_t k = MIN(FIX_PAGE_SECTORS, sectors - s);
		int good = read_page(copies, n, failed, fix ? -1 : failed, s, k,
				     page, tried);
		if (good < 0) {
			/* No copy readable: md_error keeps the last copy's
			 * member. */
			for (int i = 0; i < n; i++)
				if (tried[i])
					md_bad_sectors(mddev, copies[i].rdev,
						       (copies[i].off >> SECTOR_SHIFT) + s, k);
			r = -EIO;
			break;
		}
		for (int i = failed; fix && i != good; i = (i + 1) % n)
			if (tried[i])
				rewrite_page(mddev, &copies[i], s, k, page, scratch);
		copy_out_page(f, s, k, page);
	}
	g_free(page);
	return r;
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
		if (fix_copies(mddev, copies + (size_t)i * n, n, true) < 0)
			r = -EIO;
	lower_barrier(b, sector, sectors);
	return r;
}

int mirror_fix_sync_reads(struct mddev *mddev, struct mio *copies, int n)
{
	for (int i = 0; i < n; i++) {
		if (copies[i].res == 0)
			continue;
		if (fix_copies(mddev, copies, n, false) < 0)
			return -EIO;
		copies[i].res = 0;
	}
	return 0;
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
