/* raid0: md's strip zones.  Members are rounded down to the chunk size;
 * zone 0 stripes over all of them up to the smallest, each later zone over
 * the members still longer.  With more than one zone the layout decides how
 * a chunk picks its member: RAID0_ORIG_LAYOUT counts chunks from the array
 * start, RAID0_ALT_MULTIZONE_LAYOUT from the zone start. */
#include <errno.h>
#include "raid.h"

enum { RAID0_ORIG_LAYOUT = 1, RAID0_ALT_MULTIZONE_LAYOUT = 2 };

struct strip_zone {
	uint64_t zone_end;        /* array sector where the zone ends */
	uint64_t dev_start;       /* member sector where the zone begins */
	int nb_dev;
	int *slots;               /* the zone's members, in slot order */
};

struct r0conf {
	int nr_zones;
	uint32_t layout;
	struct strip_zone zones[];
};

static uint64_t r0_sectors(struct mddev *mddev, int slot)
{
	uint64_t s = mddev->slots[slot]->sectors;

	return s - s % mddev->chunk_sectors;
}

static int count_zones(struct mddev *mddev)
{
	int zones = 0;

	for (int i = 0; i < mddev->raid_disks; i++) {
		bool seen = false;
		for (int j = 0; j < i && !seen; j++)
			seen = r0_sectors(mddev, i) == r0_sectors(mddev, j);
		zones += !seen;
	}
	return zones;
}

/* Zone z covers, on every member longer than its dev_start, the sectors up
 * to the smallest such member's end. */
static void build_zones(struct mddev *mddev, struct r0conf *conf)
{
	uint64_t dev_start = 0, zone_end = 0;

	for (int z = 0; z < conf->nr_zones; z++) {
		struct strip_zone *zone = &conf->zones[z];
		uint64_t smallest = UINT64_MAX;

		zone->slots = g_new(int, mddev->raid_disks);
		zone->dev_start = dev_start;
		for (int i = 0; i < mddev->raid_disks; i++) {
			uint64_t s = r0_sectors(mddev, i);
			if (s <= dev_start)
				continue;
			zone->slots[zone->nb_dev++] = i;
			smallest = MIN(smallest, s);
		}
		zone_end += (smallest - dev_start) * zone->nb_dev;
		zone->zone_end = zone_end;
		dev_start = smallest;
	}
}

static int raid0_run(struct mddev *mddev, char *err, size_t errlen)
{
	for (int i = 0; i < mddev->raid_disks; i++) {
		if (!mddev->slots[i]) {
			snprintf(err, errlen, "%s: raid0 member %d is missing",
				 mddev->name, i);
			return -EINVAL;
		}
	}
	if (!mddev->chunk_sectors) {
		snprintf(err, errlen, "%s: raid0 needs a chunk size", mddev->name);
		return -EINVAL;
	}
	int nr_zones = count_zones(mddev);
	struct r0conf *conf = g_malloc0(sizeof(*conf) +
					nr_zones * sizeof(struct strip_zone));
	conf->nr_zones = nr_zones;
	/* Without MD_FEATURE_RAID0_LAYOUT the layout field means nothing. */
	conf->layout = (mddev->sb.feature_map & MD_FEATURE_RAID0_LAYOUT)
		       ? mddev->layout : 0;
	if (nr_zones == 1)
		conf->layout = RAID0_ORIG_LAYOUT;
	if (conf->layout != RAID0_ORIG_LAYOUT &&
	    conf->layout != RAID0_ALT_MULTIZONE_LAYOUT) {
		snprintf(err, errlen, "%s: multi-zone raid0 without a layout: "
			 "md cannot tell which of its two layouts wrote it",
			 mddev->name);
		g_free(conf);
		return -EINVAL;
	}
	build_zones(mddev, conf);
	mddev->private = conf;
	mddev->array_sectors = conf->zones[nr_zones - 1].zone_end;
	return 0;
}

static void raid0_free(struct mddev *mddev)
{
	struct r0conf *conf = mddev->private;

	for (int z = 0; conf && z < conf->nr_zones; z++)
		g_free(conf->zones[z].slots);
	g_free(conf);
	mddev->private = NULL;
}

static size_t raid0_map(struct mddev *mddev, uint64_t off, size_t len,
			int *slot, uint64_t *dev_off)
{
	struct r0conf *conf = mddev->private;
	uint64_t sector = off >> SECTOR_SHIFT;
	uint64_t chunk = mddev->chunk_sectors;
	int z = 0;

	while (sector >= conf->zones[z].zone_end)
		z++;
	const struct strip_zone *zone = &conf->zones[z];
	uint64_t zone_start = z ? conf->zones[z - 1].zone_end : 0;
	uint64_t in_zone = sector - zone_start;
	uint64_t picker = conf->layout == RAID0_ORIG_LAYOUT ? sector : in_zone;
	uint64_t in_chunk = sector % chunk;
	uint64_t dev_chunk = in_zone / (chunk * zone->nb_dev);

	*slot = zone->slots[(picker / chunk) % zone->nb_dev];
	*dev_off = ((zone->dev_start + dev_chunk * chunk + in_chunk) << SECTOR_SHIFT)
		   + (off & 511);
	return MIN(len, ((chunk - in_chunk) << SECTOR_SHIFT) - (off & 511));
}

static int raid0_read(struct mddev *mddev, uint64_t off, size_t len, void *buf)
{
	return md_map_rw(mddev, raid0_map, false, off, len, buf);
}

static int raid0_write(struct mddev *mddev, uint64_t off, size_t len,
		       const void *buf)
{
	return md_map_rw(mddev, raid0_map, true, off, len, (void *)buf);
}

static int raid0_discard(struct mddev *mddev, uint64_t off, uint64_t len)
{
	return md_map_discard(mddev, raid0_map, off, len);
}

static void raid0_io_hints(struct mddev *mddev, unsigned *io_min, unsigned *io_opt)
{
	*io_min = mddev->chunk_sectors << SECTOR_SHIFT;
	*io_opt = *io_min * mddev->raid_disks;
}

/* Zone 0's rows, every member taking a chunk in turn; a picture's first
 * rows lie in it unless a member is smaller than they reach. */
static int raid0_layout_rows(const struct md_geometry *g, int rows,
			     uint64_t *row_of, int64_t *cells)
{
	uint64_t zone0 = UINT64_MAX;

	for (int s = 0; s < g->raid_disks; s++)
		zone0 = MIN(zone0, g->member_sectors[s] / g->chunk_sectors);
	int n = MIN((uint64_t)rows, zone0);
	for (int i = 0; i < n; i++) {
		row_of[i] = i;
		for (int s = 0; s < g->raid_disks; s++)
			cells[i * g->raid_disks + s] = (int64_t)i * g->raid_disks + s;
	}
	return n;
}

static void raid0_status(struct mddev *mddev, GString *out)
{
	g_string_append_printf(out, " %uk chunks", mddev->chunk_sectors / 2);
}

const struct md_personality raid0_personality = {
	.name = "raid0",
	.level = 0,
	.min_disks = 1,
	.max_degraded = 0,
	.uses_chunk = true,
	.run = raid0_run,
	.free = raid0_free,
	.read = raid0_read,
	.write = raid0_write,
	.error_handler = md_fail_array,
	.layout_rows = raid0_layout_rows,
	.discard = raid0_discard,
	.io_hints = raid0_io_hints,
	.status = raid0_status,
};
