/* raid1: every in-sync mirror holds the whole component.  Reads spread over
 * the mirrors and fall back to another on error (rewriting the bad one, as
 * md's fix_read_error does); writes go to every working mirror at once. */
#include <errno.h>
#include <string.h>
#include "raid1-10.h"

struct r1conf {
	struct mirror_barrier barrier;    /* in array (= member) sectors */
};

static int raid1_run(struct mddev *mddev, char *err, size_t errlen)
{
	int working = 0;

	for (int i = 0; i < mddev->raid_disks; i++) {
		struct md_rdev *rdev = mddev->slots[i];
		if (!rdev_usable(rdev))
			continue;
		if (rdev->sectors < mddev->dev_sectors) {
			snprintf(err, errlen, "%s: member %s has %" PRIu64
				 " data sectors, the array needs %" PRIu64,
				 mddev->name, rdev->name, rdev->sectors,
				 mddev->dev_sectors);
			return -EINVAL;
		}
		working++;
	}
	if (!working) {
		snprintf(err, errlen, "%s: no working mirror", mddev->name);
		return -EINVAL;
	}
	struct r1conf *conf = g_new0(struct r1conf, 1);
	mirror_barrier_init(&conf->barrier, mddev->dev_sectors,
			    BARRIER_BUCKET_SHIFT);
	mddev->private = conf;
	mddev->array_sectors = mddev->dev_sectors;
	return 0;
}

static void raid1_free(struct mddev *mddev)
{
	struct r1conf *conf = mddev->private;

	if (conf)
		mirror_barrier_free(&conf->barrier);
	g_free(conf);
	mddev->private = NULL;
}

static uint64_t first_sector(uint64_t off)
{
	return off >> SECTOR_SHIFT;
}

static uint64_t nr_sectors(uint64_t off, uint64_t len)
{
	return ((off + len + 511) >> SECTOR_SHIFT) - first_sector(off);
}

/* Where the mirrors may differ (not yet resynced) only the first readable
 * one is the truth, as md's read_balance insists. */
static int raid1_read(struct mddev *mddev, uint64_t off, size_t len, void *buf)
{
	struct r1conf *conf = mddev->private;
	uint64_t sector = first_sector(off), sectors = nr_sectors(off, len);
	bool spread = sector + sectors <= md_synced_upto(mddev);
	int n = mddev->raid_disks;
	struct mio copies[n];

	for (int i = 0; i < n; i++)
		copies[i] = (struct mio){ .rdev = mddev->slots[i], .off = off,
					  .buf = buf, .len = len };
	wait_barrier(&conf->barrier, sector, sectors);
	int c = mirror_read_balance(copies, n, off, spread);
	int r = c < 0 ? -EIO : mio_run(&copies[c], 1);
	allow_barrier(&conf->barrier, sector, sectors);
	if (c < 0)
		return mirror_read_split(mddev, off, len, buf, raid1_read);
	if (r < 0)
		r = mirror_read_errors(mddev, &conf->barrier, sector, sectors,
				       copies, n, 1);
	return r;
}

static int raid1_write(struct mddev *mddev, uint64_t off, size_t len,
		       const void *buf)
{
	struct r1conf *conf = mddev->private;
	struct mio v[mddev->raid_disks];
	unsigned n = 0;

	for (int i = 0; i < mddev->raid_disks; i++) {
		struct md_rdev *rdev = mddev->slots[i];
		if (rdev_usable(rdev))
			v[n++] = (struct mio){ .rdev = rdev, .write = true,
					       .off = off, .buf = (void *)buf,
					       .len = len };
	}
	wait_barrier(&conf->barrier, first_sector(off), nr_sectors(off, len));
	md_write_batch(mddev, v, n, 0);
	bool ok = md_copies_written(v, n);
	allow_barrier(&conf->barrier, first_sector(off), nr_sectors(off, len));
	return ok ? 0 : -EIO;
}

static int raid1_discard(struct mddev *mddev, uint64_t off, uint64_t len)
{
	struct r1conf *conf = mddev->private;
	int r = 0;

	wait_barrier(&conf->barrier, first_sector(off), nr_sectors(off, len));
	for (int i = 0; i < mddev->raid_disks && r == 0; i++)
		r = rdev_discard(mddev->slots[i], off, len);
	allow_barrier(&conf->barrier, first_sector(off), nr_sectors(off, len));
	return r;
}

/* No in-sync mirror can give the window: none left, or all have it
 * recorded bad (md's read_targets == 0 with min_bad).  Then resync has
 * nothing to do there, and recovery records it bad on the mirrors it
 * rebuilds, as md's raid1_sync_request. */
static int64_t no_source(struct mddev *mddev, uint64_t sector,
			 uint64_t max_sectors, enum sync_action action)
{
	int n = mddev->raid_disks;
	struct mio targets[n];
	unsigned nt = 0;

	if (!md_in_sync_count(mddev))
		return -EIO;
	for (int i = 0; action == ACTION_RECOVER && i < n; i++)
		if (rdev_usable(mddev->slots[i]) && !rdev_in_sync(mddev->slots[i]))
			targets[nt++] = (struct mio){ .rdev = mddev->slots[i],
				.off = sector << SECTOR_SHIFT,
				.len = max_sectors << SECTOR_SHIFT };
	return md_record_no_source(mddev, targets, nt) ? (int64_t)max_sectors
						       : -EIO;
}

/* The mirrors' reads v of a sync window failed in part: md's
 * fix_sync_read_error over every mirror, each read into its part of bufs. */
static int fix_sync_reads(struct mddev *mddev, const struct mio *v, unsigned nv,
			  uint64_t off, char *bufs, size_t len)
{
	int n = mddev->raid_disks;
	struct mio copies[n];

	for (int i = 0; i < n; i++)
		copies[i] = (struct mio){ .rdev = mddev->slots[i], .off = off,
					  .buf = bufs + (size_t)i * len, .len = len };
	for (unsigned k = 0; k < nv; k++)
		copies[((char *)v[k].buf - bufs) / len].res = v[k].res;
	return mirror_fix_sync_reads(mddev, copies, n);
}

/* Recovery of a window the plain way round: the first readable mirror
 * copied by the kernel onto each mirror that lacks it, none of them with
 * a bad block there (those take the usual path, which records or clears
 * them).  False when it could not: the usual path does it all again. */
static bool recover_by_copy(struct mddev *mddev, uint64_t sector,
			    uint64_t sectors)
{
	int n = mddev->raid_disks, src = -1;

	for (int i = 0; i < n && src < 0; i++)
		if (rdev_readable(mddev->slots[i], sector, sectors))
			src = i;
	if (src < 0)
		return false;
	for (int i = 0; i < n; i++) {
		struct md_rdev *rdev = mddev->slots[i];
		if (i == src || !rdev_usable(rdev) ||
		    rdev_readable(rdev, sector, sectors))
			continue;
		if (rdev_has_badblock(rdev, sector, sectors) ||
		    rdev_copy(mddev->slots[src], rdev, sector << SECTOR_SHIFT,
			      sectors << SECTOR_SHIFT) < 0)
			return false;
	}
	return true;
}

static int64_t sync_window(struct mddev *mddev, uint64_t sector,
			   uint64_t max_sectors, enum sync_action action)
{

	size_t len = max_sectors << SECTOR_SHIFT;
	uint64_t off = sector << SECTOR_SHIFT;
	int n = mddev->raid_disks, src = -1;
	struct mio v[n];
	bool read[n];
	unsigned nv = 0;
	char *bufs = g_malloc((size_t)n * len);

	/* Read every in-sync mirror: the first is the source of truth.  A
	 * mirror with a bad block in the window is neither read nor compared. */
	memset(read, 0, sizeof(read));
	for (int i = 0; i < n; i++) {
		struct md_rdev *rdev = mddev->slots[i];
		read[i] = rdev_readable(rdev, sector, max_sectors);
		if (!read[i])
			continue;
		if (src < 0)
			src = i;
		v[nv++] = (struct mio){ .rdev = rdev, .off = off,
					.buf = bufs + (size_t)i * len, .len = len };
		if (action == ACTION_RESYNC || action == ACTION_RECOVER)
			break;    /* only the source need be read */
	}
	if (src < 0) {
		g_free(bufs);
		return no_source(mddev, sector, max_sectors, action);
	}
	if (mio_run(v, nv) < 0 && fix_sync_reads(mddev, v, nv, off, bufs, len) < 0) {
		g_free(bufs);
		return -EIO;
	}
	const char *truth = bufs + (size_t)src * len;
	nv = 0;
	for (int i = 0; i < n; i++) {
		struct md_rdev *rdev = mddev->slots[i];
		if (i == src || !rdev_usable(rdev))
			continue;
		/* md neither reads nor writes an in-sync mirror over its
		 * bad blocks: only recovery rewrites them. */
		if (rdev_in_sync(rdev) && rdev_has_badblock(rdev, sector, max_sectors))
			continue;
		/* Recovery writes only what a recovering mirror lacks. */
		bool write = action == ACTION_RESYNC ||
			     (action == ACTION_RECOVER &&
			      !rdev_readable(rdev, sector, max_sectors));
		if ((action == ACTION_CHECK || action == ACTION_REPAIR) && read[i]) {
			uint64_t bad = mirror_compare_blocks(truth, bufs + (size_t)i * len, len);
			atomic_fetch_add(&mddev->resync_mismatches, bad);
			write = bad && action == ACTION_REPAIR;
		}
		if (write)
			v[nv++] = (struct mio){ .rdev = rdev, .write = true, .off = off,
						.buf = (void *)truth, .len = len };
	}
	md_write_batch(mddev, v, nv, 0);
	g_free(bufs);
	return max_sectors;
}

/* Resync/check/repair one window, held off normal IO as md's sync_request
 * does with raise_barrier; the window ends at its bucket's end. */
static int64_t raid1_sync_request(struct mddev *mddev, uint64_t sector,
				  uint64_t max_sectors, enum sync_action action)
{
	struct r1conf *conf = mddev->private;

	max_sectors = MIN(max_sectors, barrier_bucket_left(&conf->barrier, sector));
	/* As md: each mirror all good or all bad over the window. */
	for (int i = 0; i < mddev->raid_disks; i++)
		max_sectors = rdev_badblock_run(mddev->slots[i], sector, max_sectors);
	raise_barrier(&conf->barrier, sector, max_sectors);
	int64_t r = action == ACTION_RECOVER &&
		    recover_by_copy(mddev, sector, max_sectors)
		    ? (int64_t)max_sectors
		    : sync_window(mddev, sector, max_sectors, action);
	lower_barrier(&conf->barrier, sector, max_sectors);
	return r;
}

static int64_t raid1_hold_window(struct mddev *mddev, uint64_t sector,
				 uint64_t max_sectors,
				 int64_t (*fn)(struct mddev *mddev,
					       uint64_t sector, uint64_t sectors))
{
	struct r1conf *conf = mddev->private;

	max_sectors = MIN(max_sectors, barrier_bucket_left(&conf->barrier, sector));
	raise_barrier(&conf->barrier, sector, max_sectors);
	int64_t r = fn(mddev, sector, max_sectors);
	lower_barrier(&conf->barrier, sector, max_sectors);
	return r;
}

/* Every member holds every chunk, in the same place. */
static int raid1_layout_rows(const struct md_geometry *g, int rows,
			     uint64_t *row_of, int64_t *cells)
{
	int n = MIN((uint64_t)rows, g->dev_sectors / g->chunk_sectors);

	for (int i = 0; i < n; i++) {
		row_of[i] = i;
		for (int s = 0; s < g->raid_disks; s++)
			cells[i * g->raid_disks + s] = i;
	}
	return n;
}

static void raid1_status(struct mddev *mddev, GString *out)
{
	g_string_append_printf(out, " [%d/%d] ", mddev->raid_disks,
			       md_in_sync_count(mddev));
	md_status_slots(mddev, out);
}

const struct md_personality raid1_personality = {
	.name = "raid1",
	.level = 1,
	.min_disks = 1,
	.max_degraded = -1,
	.uses_chunk = false,
	.keeps_last_copy = true,
	.run = raid1_run,
	.free = raid1_free,
	.read = raid1_read,
	.write = raid1_write,
	.sync_request = raid1_sync_request,
	.bitmap_bounds_sync = true,
	.layout_rows = raid1_layout_rows,
	.discard = raid1_discard,
	.status = raid1_status,
	.hold_window = raid1_hold_window,
};
