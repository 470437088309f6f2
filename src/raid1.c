/* raid1: every in-sync mirror holds the whole component.  Reads spread over
 * the mirrors and fall back to another on error (rewriting the bad one, as
 * md's fix_read_error does); writes go to every working mirror at once. */
#include <errno.h>
#include <string.h>
#include "raid.h"


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
	mddev->array_sectors = mddev->dev_sectors;
	return 0;
}

/* Where the mirrors may differ (not yet resynced) only the first readable
 * one is the truth, as md's read_balance insists. */
static int first_mirror(struct mddev *mddev, uint64_t off, size_t len)
{
	uint64_t end = (off + len + 511) >> SECTOR_SHIFT;
	int n = mddev->raid_disks;
	int start = 0;

	if (end <= md_synced_upto(mddev))
		start = (off >> READ_SPREAD_SHIFT) % n;
	for (int i = 0; i < n; i++)
		if (rdev_readable(mddev->slots[(start + i) % n], end))
			return (start + i) % n;
	return -1;
}

static int raid1_read(struct mddev *mddev, uint64_t off, size_t len, void *buf)
{
	int first = first_mirror(mddev, off, len);
	uint64_t end = (off + len + 511) >> SECTOR_SHIFT;
	int n = mddev->raid_disks;

	if (first < 0)
		return -EIO;
	struct md_rdev *failed = NULL;
	for (int i = 0; i < n; i++) {
		int slot = (first + i) % n;
		if (!rdev_readable(mddev->slots[slot], end))
			continue;
		struct mio m = { .rdev = mddev->slots[slot], .off = off,
				 .buf = buf, .len = len };
		if (mio_run(&m, 1) == 0) {
			if (failed)
				md_fix_read_error(mddev, failed, off, buf, len,
						  len >> SECTOR_SHIFT);
			return 0;
		}
		if (!failed)
			failed = m.rdev;
		else
			md_error(mddev, m.rdev);
	}
	if (failed)
		md_error(mddev, failed);
	return -EIO;
}

static int raid1_write(struct mddev *mddev, uint64_t off, size_t len,
		       const void *buf)
{
	struct mio v[mddev->raid_disks];
	unsigned n = 0, ok = 0;

	for (int i = 0; i < mddev->raid_disks; i++) {
		struct md_rdev *rdev = mddev->slots[i];
		if (rdev_usable(rdev))
			v[n++] = (struct mio){ .rdev = rdev, .write = true,
					       .off = off, .buf = (void *)buf,
					       .len = len };
	}
	mio_run(v, n);
	for (unsigned i = 0; i < n; i++) {
		if (v[i].res < 0)
			md_error(mddev, v[i].rdev);
		else if (atomic_load(&v[i].rdev->flags) & RDEV_IN_SYNC)
			ok++;
	}
	return ok ? 0 : -EIO;
}

static int raid1_discard(struct mddev *mddev, uint64_t off, uint64_t len)
{
	for (int i = 0; i < mddev->raid_disks; i++) {
		int r = rdev_discard(mddev->slots[i], off, len);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Count, in md's resync-block units, where a mirror differs from the first
 * copy; repair and resync then overwrite it with the first copy. */
static uint64_t compare_blocks(const char *a, const char *b, size_t len)
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

static int64_t raid1_sync_request(struct mddev *mddev, uint64_t sector,
				  uint64_t max_sectors, enum sync_action action)
{
	size_t len = max_sectors << SECTOR_SHIFT;
	uint64_t off = sector << SECTOR_SHIFT;
	int n = mddev->raid_disks, src = -1;
	struct mio v[n];
	unsigned nv = 0;
	char *bufs = g_malloc((size_t)n * len);

	/* Read every in-sync mirror: the first is the source of truth. */
	for (int i = 0; i < n; i++) {
		struct md_rdev *rdev = mddev->slots[i];
		if (!rdev_readable(mddev->slots[i], sector + max_sectors))
			continue;
		if (src < 0)
			src = i;
		v[nv++] = (struct mio){ .rdev = rdev, .off = off,
					.buf = bufs + (size_t)i * len, .len = len };
		if (action == ACTION_RESYNC || action == ACTION_RECOVER)
			break;    /* only the source need be read */
	}
	if (src < 0 || mio_run(v, nv) < 0) {
		for (unsigned i = 0; i < nv; i++)
			if (v[i].res < 0)
				md_error(mddev, v[i].rdev);
		g_free(bufs);
		return -EIO;
	}
	const char *truth = bufs + (size_t)src * len;
	nv = 0;
	for (int i = 0; i < n; i++) {
		struct md_rdev *rdev = mddev->slots[i];
		if (i == src || !rdev_usable(rdev))
			continue;
		/* Recovery writes only what a recovering mirror lacks. */
		bool write = action == ACTION_RESYNC ||
			     (action == ACTION_RECOVER &&
			      !rdev_readable(rdev, sector + max_sectors));
		if (action == ACTION_CHECK || action == ACTION_REPAIR) {
			uint64_t bad = compare_blocks(truth, bufs + (size_t)i * len, len);
			atomic_fetch_add(&mddev->resync_mismatches, bad);
			write = bad && action == ACTION_REPAIR;
		}
		if (write)
			v[nv++] = (struct mio){ .rdev = rdev, .write = true, .off = off,
						.buf = (void *)truth, .len = len };
	}
	mio_run(v, nv);
	for (unsigned i = 0; i < nv; i++)
		if (v[i].res < 0)
			md_error(mddev, v[i].rdev);
	g_free(bufs);
	return max_sectors;
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
	.read = raid1_read,
	.write = raid1_write,
	.sync_request = raid1_sync_request,
	.discard = raid1_discard,
	.status = raid1_status,
};
