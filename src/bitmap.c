/* The classic internal bitmap (md-bitmap.c, version 4), kept coarse: while
 * the array is dirty every bit is set, and all are cleared when it is
 * clean again.  That is always a superset of what md would mark, so a crash
 * resyncs at least what it must; the bitmap's events follow the
 * superblock's so the kernel trusts it (a stale bitmap forces a full
 * recovery).  Per-chunk bits are future work. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>
#include "raid.h"

#define BITMAP_MAGIC 0x6d746962      /* "bitm" */
#define BITMAP_SB_BYTES 256
#define COUNTER_MAX 16383            /* md's bound on write_behind */

enum {  /* bitmap_super_t offsets, md-bitmap.h */
	B_MAGIC = 0, B_VERSION = 4, B_UUID = 8, B_EVENTS = 24,
	B_EVENTS_CLEARED = 32, B_SYNC_SIZE = 40, B_STATE = 48, B_CHUNKSIZE = 52,
	B_DAEMON_SLEEP = 56, B_WRITE_BEHIND = 60, B_SECTORS_RESERVED = 64,
};

struct bitmap {
	uint8_t sb[BITMAP_SB_BYTES];  /* as found: fields we do not own stay */
	uint64_t chunks;
	uint32_t chunksize;           /* bytes */
	size_t bytes;                 /* sb + bits, rounded to 512 */
};

static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return GUINT32_FROM_LE(v); }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return GUINT64_FROM_LE(v); }
static void put64(uint8_t *p, uint64_t v) { v = GUINT64_TO_LE(v); memcpy(p, &v, 8); }

static uint64_t bitmap_pos(struct md_rdev *rdev)
{
	return (uint64_t)((int64_t)rdev->sb.super_offset + rdev->sb.bitmap_offset)
	       << SECTOR_SHIFT;
}

static struct md_rdev *first_usable(struct mddev *mddev)
{
	for (int i = 0; i < mddev->raid_disks; i++)
		if (rdev_usable(mddev->slots[i]))
			return mddev->slots[i];
	return NULL;
}

/* The sectors the bitmap may use on rdev: up to the superblock, the data,
 * the bad-block log or what the bitmap superblock reserves. */
static uint64_t bitmap_room(const struct md_rdev *rdev, const uint8_t *bsb,
			    char *err, size_t errlen)
{
	const struct md_sb *sb = &rdev->sb;
	uint64_t start, sectors, reserved = get32(bsb + B_SECTORS_RESERVED);
	int64_t bblog = (int64_t)sb->super_offset + (int32_t)sb->bblog_offset;

	if (md_sb_bitmap_space(sb, &start, &sectors, err, errlen) < 0)
		return 0;
	if (sb->bblog_size && bblog > (int64_t)start && (uint64_t)bblog < start + sectors)
		sectors = (uint64_t)bblog - start;
	if (reserved && reserved < sectors)
		sectors = reserved;
	return sectors;
}

/* md_bitmap_read_sb's checks, and that the bits md keeps for this array
 * fit where the bitmap lives, so a store never writes past it.  The size
 * comes from the array (md's resync_max_sectors: raid10's array size,
 * every other level's component size), not from sync_size. */
static int bitmap_check(struct mddev *mddev, struct md_rdev *rdev, struct bitmap *b,
			char *err, size_t errlen)
{
	const uint8_t *sb = b->sb;
	uint32_t version = get32(sb + B_VERSION), sleep = get32(sb + B_DAEMON_SLEEP);
	uint32_t behind = get32(sb + B_WRITE_BEHIND);
	uint64_t sync_size = get64(sb + B_SYNC_SIZE);
	uint64_t cover = mddev->level == 10 ? mddev->array_sectors : mddev->dev_sectors;
	uint8_t uuid[16];
	char why[256] = "";

	md_sb_uuid_kernel(&mddev->sb, uuid);
	b->chunksize = get32(sb + B_CHUNKSIZE);
	if (get32(sb + B_MAGIC) != BITMAP_MAGIC)
		snprintf(why, sizeof(why), "bitmap magic 0x%08x is not md's", get32(sb + B_MAGIC));
	else if (version < 3 || version > 4)
		snprintf(why, sizeof(why), "bitmap version %u is not 3 or 4", version);
	else if (memcmp(sb + B_UUID, mddev->sb.set_uuid, 16) && memcmp(sb + B_UUID, uuid, 16))
		snprintf(why, sizeof(why), "bitmap uuid is not this array's");
	else if (b->chunksize < 512 || (b->chunksize & (b->chunksize - 1)))
		snprintf(why, sizeof(why), "bitmap chunksize %u is not a power of two of at "
			 "least 512", b->chunksize);
	else if (sleep == 0)
		snprintf(why, sizeof(why), "bitmap daemon_sleep 0 is out of range");
	else if (behind > COUNTER_MAX)
		snprintf(why, sizeof(why), "bitmap write_behind %u exceeds %d", behind, COUNTER_MAX);
	else if (sync_size > cover)
		snprintf(why, sizeof(why), "bitmap sync_size %" PRIu64 " exceeds the %" PRIu64
			 " sectors the array syncs", sync_size, cover);
	if (*why) {
		snprintf(err, errlen, "%s: %s", rdev->path, why);
		return -EINVAL;
	}
	uint64_t per_chunk = b->chunksize >> SECTOR_SHIFT;
	b->chunks = (cover + per_chunk - 1) / per_chunk;
	uint64_t bytes = (BITMAP_SB_BYTES + (b->chunks + 7) / 8 + 511) & ~(uint64_t)511;
	for (guint i = 0; i < mddev->rdevs->len; i++) {
		struct md_rdev *r = g_ptr_array_index(mddev->rdevs, i);
		uint64_t room = bitmap_room(r, sb, why, sizeof(why));
		if (bytes > room * 512) {
			snprintf(err, errlen, "%s: bitmap chunksize %u needs %" PRIu64 " bytes "
				 "for %" PRIu64 " sectors, the bitmap area has %" PRIu64 "%s%s",
				 r->path, b->chunksize, bytes, cover, room * 512,
				 *why ? ": " : "", why);
			return -EINVAL;
		}
	}
	b->bytes = (size_t)bytes;
	return 0;
}

static int bitmap_load(struct mddev *mddev, char *err, size_t errlen)
{
	struct md_rdev *rdev = first_usable(mddev);
	struct bitmap *b = g_new0(struct bitmap, 1);

	if (!rdev || mio_run(&(struct mio){ .rdev = rdev, .abs = true,
			.off = bitmap_pos(rdev), .buf = b->sb,
			.len = sizeof(b->sb) }, 1) < 0) {
		snprintf(err, errlen, "%s: cannot read the bitmap", mddev->name);
		g_free(b);
		return -EIO;
	}
	int r = bitmap_check(mddev, rdev, b, err, errlen);
	if (r < 0) {
		g_free(b);
		return r;
	}
	mddev->bitmap = b;
	return 0;
}

static void bitmap_destroy(struct mddev *mddev)
{
	g_free(mddev->bitmap);
	mddev->bitmap = NULL;
}

/* One write of superblock and bits: all set while dirty, all clear after
 * (the superblock writer holds sb_lock, so in_sync is stable). */
static int bitmap_update_sb(struct mddev *mddev, struct md_rdev *rdev)
{
	struct bitmap *b = mddev->bitmap;
	bool dirty = !mddev->in_sync;

	/* a member that joined after the load: its area may be smaller */
	if (b->bytes > bitmap_room(rdev, b->sb, NULL, 0) * 512)
		return -ENOSPC;
	uint8_t *buf = g_malloc0(b->bytes);

	memcpy(buf, b->sb, BITMAP_SB_BYTES);
	put64(buf + B_EVENTS, mddev->events);
	if (!dirty)
		put64(buf + B_EVENTS_CLEARED, mddev->events);
	memcpy(b->sb, buf, BITMAP_SB_BYTES);
	if (dirty) {
		uint8_t *bits = buf + BITMAP_SB_BYTES;
		memset(bits, 0xff, b->chunks / 8);
		if (b->chunks % 8)
			bits[b->chunks / 8] = (1u << (b->chunks % 8)) - 1;
	}
	struct mio m = { .rdev = rdev, .write = true, .abs = true,
			 .off = bitmap_pos(rdev), .buf = buf, .len = b->bytes };
	int r = mio_run(&m, 1);
	g_free(buf);
	return r;
}

/* md_bitmap_status: the in-memory page counts are md's; ours has one. */
static void bitmap_status(struct mddev *mddev, GString *out)
{
	struct bitmap *b = mddev->bitmap;
	uint64_t pages = (b->chunks * 2 + 4095) / 4096;   /* md: 16 bits a chunk */

	pthread_mutex_lock(&mddev->sb_lock);
	uint64_t used = mddev->in_sync ? 0 : pages;   /* md allocates on write */
	pthread_mutex_unlock(&mddev->sb_lock);

	g_string_append_printf(out, "bitmap: %" PRIu64 "/%" PRIu64 " pages [%" PRIu64
			       "KB], %uKB chunk\n", used, pages, used * 4,
			       b->chunksize >> 10);
}

const struct bitmap_operations bitmap_ops = {
	.name = "bitmap",
	.load = bitmap_load,
	.destroy = bitmap_destroy,
	.update_sb = bitmap_update_sb,
	.status = bitmap_status,
};
