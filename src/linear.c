/* linear: members concatenated in slot order, each rounded down to the
 * chunk size ("rounding") when one is set, as md's linear.c does. */
#include <errno.h>
#include "raid.h"


static uint64_t rounded_sectors(struct mddev *mddev, struct md_rdev *rdev)
{
	uint64_t s = rdev->sectors;

	if (mddev->chunk_sectors)
		s -= s % mddev->chunk_sectors;
	return s;
}

static int linear_run(struct mddev *mddev, char *err, size_t errlen)
{
	uint64_t *end = g_new(uint64_t, mddev->raid_disks);
	uint64_t total = 0;

	for (int i = 0; i < mddev->raid_disks; i++) {
		struct md_rdev *rdev = mddev->slots[i];
		if (!rdev) {
			snprintf(err, errlen, "%s: linear member %d is missing",
				 mddev->name, i);
			g_free(end);
			return -EINVAL;
		}
		total += rounded_sectors(mddev, rdev);
		end[i] = total;
	}
	mddev->private = end;
	mddev->array_sectors = total;
	return 0;
}

static void linear_free(struct mddev *mddev)
{
	g_free(mddev->private);
	mddev->private = NULL;
}

static size_t linear_map(struct mddev *mddev, uint64_t off, size_t len,
			 int *slot, uint64_t *dev_off)
{
	const uint64_t *end = mddev->private;
	uint64_t sector = off >> SECTOR_SHIFT;
	int lo = 0, hi = mddev->raid_disks - 1;

	while (lo < hi) {         /* first slot whose end lies past sector */
		int mid = (lo + hi) / 2;
		if (end[mid] > sector)
			hi = mid;
		else
			lo = mid + 1;
	}
	uint64_t start = lo ? end[lo - 1] << SECTOR_SHIFT : 0;
	*slot = lo;
	*dev_off = off - start;
	return MIN(len, (end[lo] << SECTOR_SHIFT) - off);
}

static int linear_read(struct mddev *mddev, uint64_t off, size_t len, void *buf)
{
	return md_map_rw(mddev, linear_map, false, off, len, buf);
}

static int linear_write(struct mddev *mddev, uint64_t off, size_t len,
			const void *buf)
{
	return md_map_rw(mddev, linear_map, true, off, len, (void *)buf);
}

static int linear_discard(struct mddev *mddev, uint64_t off, uint64_t len)
{
	return md_map_discard(mddev, linear_map, off, len);
}

/* Each member holds one run of the array, after the members before it. */
static int linear_layout_rows(const struct md_geometry *g, int rows,
			      uint64_t *row_of, int64_t *cells)
{
	uint64_t most = 0, start = 0;

	for (int s = 0; s < g->raid_disks; s++)
		most = MAX(most, g->member_sectors[s] / g->chunk_sectors);
	int n = MIN((uint64_t)rows, most);
	for (int i = 0; i < n; i++)
		row_of[i] = i;
	for (int s = 0; s < g->raid_disks; s++) {
		uint64_t have = g->member_sectors[s] / g->chunk_sectors;
		for (int i = 0; i < n; i++)
			cells[i * g->raid_disks + s] = (uint64_t)i < have
				? (int64_t)(start + i) : CELL_NONE;
		start += have;
	}
	return n;
}

static void linear_status(struct mddev *mddev, GString *out)
{
	g_string_append_printf(out, " %uk rounding", mddev->chunk_sectors / 2);
}

const struct md_personality linear_personality = {
	.name = "linear",
	.level = MD_LEVEL_LINEAR,
	.min_disks = 1,
	.max_degraded = 0,
	.uses_chunk = false,
	.run = linear_run,
	.free = linear_free,
	.read = linear_read,
	.write = linear_write,
	.error_handler = md_fail_array,
	.discard = linear_discard,
	.layout_rows = linear_layout_rows,
	.status = linear_status,
};
