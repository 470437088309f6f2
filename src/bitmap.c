/* The classic bitmap (md-bitmap.c, version 4), internal or in a file:
 * md's 16-bit counter per chunk, a chunk's bit set and durable on every
 * member (or in the file) before the first write to it (unplug), cleared
 * by the daemon after two idle passes of daemon_sleep; events and
 * events_cleared kept as md keeps them, so the kernel and `mdadm -X` read
 * what raidfs wrote. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "ctl.h"
#include "raid.h"
#include "bitmap_sb.h"

#define COUNTER_MAX 16383            /* md's bound on write_behind */


/* md's in-memory counter per chunk (bitmap_counter_t): writes in flight
 * plus 2 while the bit is set, so 2 and 1 are the daemon's two idle
 * passes; NEEDED: the chunk must be synced, RESYNC: a sync is on it. */
#define NEEDED_MASK 0x8000u
#define RESYNC_MASK 0x4000u
#define COUNTER_MASK 0x3fffu
#define NEEDED(c) ((c) & NEEDED_MASK)
#define RESYNC(c) ((c) & RESYNC_MASK)
#define COUNTER(c) ((c) & COUNTER_MASK)
#define MAP_PAGE 4096                /* md writes the bitmap a page at a time */

enum { PAGE_DIRTY = 1, PAGE_PENDING = 2, PAGE_NEEDWRITE = 4 };
enum { BITMAP_STALE = 1 };           /* bitmap_super_t state bit */

struct bitmap {
	uint64_t chunks;
	uint32_t chunksize;           /* bytes */
	unsigned chunkshift;          /* log2 of sectors a chunk */
	size_t bytes;                 /* sb + bits, rounded to 512 */
	bool stale;                   /* its events lag the array's */
	/* md's bitmap_info.file, and the events its superblock last got;
	 * kicked: a write to it failed, md's md_bitmap_file_kick. */
	struct md_rdev *file;
	uint64_t file_events;
	atomic_bool file_kicked;

	/* Counters, the bits as on disk (map: superblock then bits, the
	 * bitmap area's image) and each page's state, under lock. */
	pthread_mutex_t lock;
	pthread_cond_t overflow_wait;
	uint16_t *bmc;
	uint8_t *map;
	uint8_t *pages;
	unsigned npages;
	uint64_t set_seq;             /* bits set so far */
	uint64_t events_cleared;
	bool need_sync;               /* events_cleared moved: write the sb */
	bool allclean;
	gint64 daemon_lastrun, last_end_sync;   /* monotonic us */

	/* One writer of pages at a time; durable_seq: set_seq its last
	 * write covered. */
	pthread_mutex_t io_mutex;
	_Atomic uint64_t durable_seq;
};


/* Where the bitmap starts on rdev: a file's at its start. */
static uint64_t bitmap_pos(const struct bitmap *b, struct md_rdev *rdev)
{
	if (rdev == b->file)
		return 0;
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

/* md_bitmap_init_from_disk: a bitmap file holds every bit, to the byte
 * (mdadm's CreateBitmap makes it no longer). */
static int file_check(struct bitmap *b, char *err, size_t errlen)
{
	uint64_t bytes = BITMAP_SB_BYTES + (b->chunks + 7) / 8;
	uint64_t size = rdev_file_sectors(b->file->fd) << SECTOR_SHIFT;
	struct stat st;

	if (fstat(b->file->fd, &st) == 0 && S_ISREG(st.st_mode))
		size = (uint64_t)st.st_size;
	if (size < bytes) {
		snprintf(err, errlen, "%s: bitmap file too small: %" PRIu64 " bytes, "
			 "its %" PRIu64 " chunks need %" PRIu64, b->file->path, size,
			 b->chunks, bytes);
		return -ENOSPC;
	}
	b->bytes = (size_t)bytes;
	return 0;
}

/* md_bitmap_read_sb's checks, and that the bits md keeps for this array
 * fit where the bitmap lives, so a store never writes past it.  The size
 * comes from the array (md's resync_max_sectors: raid10's array size,
 * every other level's component size), not from sync_size. */
static int bitmap_check(struct mddev *mddev, struct md_rdev *rdev,
			const uint8_t *sb, struct bitmap *b, char *err, size_t errlen)
{
	uint32_t version = get32(sb + B_VERSION), sleep = get32(sb + B_DAEMON_SLEEP);
	uint32_t behind = get32(sb + B_WRITE_BEHIND);
	uint64_t sync_size = get64(sb + B_SYNC_SIZE);
	uint64_t cover = md_bitmap_sectors(mddev);
	char why[256] = "";

	b->chunksize = get32(sb + B_CHUNKSIZE);
	if (get32(sb + B_MAGIC) != BITMAP_MAGIC)
		snprintf(why, sizeof(why), "bitmap magic 0x%08x is not md's", get32(sb + B_MAGIC));
	else if (version < 3 || version > 4)
		snprintf(why, sizeof(why), "bitmap version %u is not 3 or 4", version);
	else if (!md_bitmap_uuid_matches(sb + B_UUID, &mddev->sb))
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
	b->chunkshift = (unsigned)__builtin_ctzll(per_chunk);
	b->chunks = (cover + per_chunk - 1) / per_chunk;
	if (b->file)
		return file_check(b, err, errlen);
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

/* ---- bits and counters (b->lock held) ---- */

static uint64_t chunk_of(const struct bitmap *b, uint64_t sector)
{
	return sector >> b->chunkshift;
}

/* Sectors from sector to the end of its chunk. */
static uint64_t chunk_rest(const struct bitmap *b, uint64_t sector)
{
	uint64_t size = 1ull << b->chunkshift;
	return size - (sector & (size - 1));
}

static void mark_page(struct bitmap *b, uint64_t chunk, uint8_t flag)
{
	b->pages[(BITMAP_SB_BYTES + chunk / 8) / MAP_PAGE] |= flag;
}

static bool file_test_bit(const struct bitmap *b, uint64_t chunk)
{
	return b->map[BITMAP_SB_BYTES + chunk / 8] & (1u << (chunk % 8));
}

/* md_bitmap_file_set_bit: unplug writes it before the data. */
static void file_set_bit(struct bitmap *b, uint64_t chunk)
{
	b->map[BITMAP_SB_BYTES + chunk / 8] |= 1u << (chunk % 8);
	mark_page(b, chunk, PAGE_DIRTY);
	b->set_seq++;
}

/* md_bitmap_file_clear_bit: written by the daemon's next pass. */
static void file_clear_bit(struct bitmap *b, uint64_t chunk)
{
	b->map[BITMAP_SB_BYTES + chunk / 8] &= ~(1u << (chunk % 8));
	mark_page(b, chunk, PAGE_PENDING);
}

/* md_bitmap_set_memory_bits: the chunk's bit is set; needed, it must be
 * synced too. */
static void set_memory_bits(struct bitmap *b, uint64_t chunk, bool needed)
{
	if (!b->bmc[chunk]) {
		b->bmc[chunk] = 2;
		b->allclean = false;
	}
	if (needed)
		b->bmc[chunk] |= NEEDED_MASK;
}

/* ---- writing pages to the members ---- */

/* The members that carry the bitmap: md writes every one in a role; a
 * bitmap file is the only place, unless it was kicked. */
static unsigned bitmap_members(struct mddev *mddev, struct md_rdev **out)
{
	struct bitmap *b = mddev->bitmap;
	unsigned n = 0;

	if (b->file) {
		out[0] = b->file;
		return !atomic_load(&b->file_kicked);
	}

	for (guint i = 0; i < mddev->rdevs->len; i++) {
		struct md_rdev *rdev = g_ptr_array_index(mddev->rdevs, i);
		if (rdev_usable(rdev) && rdev->raid_disk >= 0)
			out[n++] = rdev;
	}
	return n;
}

static size_t page_len(const struct bitmap *b, unsigned page)
{
	return MIN((size_t)MAP_PAGE, b->bytes - (size_t)page * MAP_PAGE);
}

/* The pages with a flag in mask, their flags taken and their bytes in
 * copy; returns the set_seq they cover (b->lock taken here). */
static uint64_t take_pages(struct bitmap *b, uint8_t mask, bool *todo,
			   uint8_t *copy, unsigned *want)
{
	pthread_mutex_lock(&b->lock);
	uint64_t seq = b->set_seq;
	for (unsigned j = 0; j < b->npages; j++) {
		if (b->pages[j] & mask) {
			todo[j] = true;
			(*want)++;
			b->pages[j] &= ~(PAGE_DIRTY | PAGE_NEEDWRITE);
		}
	}
	memcpy(copy, b->map, b->bytes);
	pthread_mutex_unlock(&b->lock);
	return seq;
}

/* Those pages onto every member, durable: md's write_sb_page with
 * REQ_PREFLUSH|REQ_FUA (the flush first, so the writes a cleared bit
 * stops covering are durable before it is).  A member that fails any
 * of it goes to failed; returns how many. */
static unsigned write_to_members(struct bitmap *b, struct md_rdev **members,
				 unsigned nm, const bool *todo, unsigned want,
				 uint8_t *copy, struct md_rdev **failed)
{
	struct mio *v = g_new0(struct mio, (size_t)nm * (want + 2));
	unsigned n = 0, nfail = 0;

	for (unsigned m = 0; m < nm; m++)
		v[n++] = (struct mio){ .rdev = members[m], .flush = true };
	mio_run(v, n);
	for (unsigned m = 0; m < nm; m++)
		for (unsigned j = 0; j < b->npages; j++)
			if (todo[j])
				v[n++] = (struct mio){ .rdev = members[m], .write = true,
					.abs = true, .buf = copy + (size_t)j * MAP_PAGE,
					.off = bitmap_pos(b, members[m]) + (uint64_t)j * MAP_PAGE,
					.len = page_len(b, j) };
	mio_run(v + nm, n - nm);
	unsigned nw = n;
	for (unsigned m = 0; m < nm; m++)
		v[n++] = (struct mio){ .rdev = members[m], .flush = true };
	mio_run(v + nw, nm);
	for (unsigned m = 0; m < nm; m++) {
		bool bad = false;
		for (unsigned k = 0; k < n; k++)
			bad |= v[k].rdev == members[m] && v[k].res < 0;
		if (bad)
			failed[nfail++] = members[m];
	}
	g_free(v);
	return nfail;
}

/* md_bitmap_file_kick: a bitmap file that cannot be written is used no
 * more.  The members' events then move on without it, so the next
 * assembly finds it behind and resyncs in full (md writes BITMAP_STALE
 * into it, which a failing file may not take). */
static bool kick_file(struct mddev *mddev, struct bitmap *b)
{
	if (atomic_exchange(&b->file_kicked, true))
		return false;
	g_warning("%s: kicking failed bitmap file %s from array", mddev->name,
		  b->file->path);
	return true;
}

static void file_kick(struct mddev *mddev)
{
	if (kick_file(mddev, mddev->bitmap))
		md_update_sb(mddev);
}

/* Write what mask says to every member, unless want is set and a write
 * since covered it already; the members it failed on are failed after
 * (md_super_write's md_error), with io_mutex let go.  The members are
 * taken under sb_lock before io_mutex: update_sb holds sb_lock and takes
 * io_mutex. */
static void write_pages_and_fail(struct mddev *mddev, uint8_t mask, uint64_t want)
{
	struct bitmap *b = mddev->bitmap;

	pthread_mutex_lock(&mddev->sb_lock);
	struct md_rdev **members = g_new(struct md_rdev *, mddev->rdevs->len + 1);
	unsigned nm = bitmap_members(mddev, members), nfail = 0, pages = 0;
	pthread_mutex_unlock(&mddev->sb_lock);
	struct md_rdev **failed = g_new(struct md_rdev *, nm + 1);

	pthread_mutex_lock(&b->io_mutex);
	if (!want || atomic_load(&b->durable_seq) < want) {
		uint8_t *copy = g_malloc(b->bytes);
		bool *todo = g_new0(bool, b->npages);
		uint64_t seq = take_pages(b, mask, todo, copy, &pages);
		if (pages)
			nfail = write_to_members(b, members, nm, todo, pages, copy,
						 failed);
		atomic_store(&b->durable_seq, seq);
		g_free(todo);
		g_free(copy);
	}
	pthread_mutex_unlock(&b->io_mutex);
	for (unsigned i = 0; i < nfail; i++) {
		if (failed[i] == b->file)
			file_kick(mddev);
		else
			md_error(mddev, failed[i]);
	}
	g_free(failed);
	g_free(members);
}

/* md_bitmap_unplug: the bits set so far are durable on every member
 * before this returns; a later write that finds them set waits for none. */
static void bitmap_unplug(struct mddev *mddev, bool sync)
{
	struct bitmap *b = mddev->bitmap;

	(void)sync;   /* writes here are always waited for */
	pthread_mutex_lock(&b->lock);
	uint64_t want = b->set_seq;
	pthread_mutex_unlock(&b->lock);
	if (want && atomic_load(&b->durable_seq) < want)
		write_pages_and_fail(mddev, PAGE_DIRTY | PAGE_NEEDWRITE, want);
}

/* ---- the write path ---- */

/* The counter of the chunk at offset while sectors remain (NULL past the
 * end), and the step to the next chunk. */
static uint16_t *range_counter(struct bitmap *b, uint64_t offset, uint64_t sectors)
{
	uint64_t chunk = chunk_of(b, offset);
	return sectors && chunk < b->chunks ? &b->bmc[chunk] : NULL;
}

static void range_next(struct bitmap *b, uint64_t *offset, uint64_t *sectors)
{
	uint64_t blocks = chunk_rest(b, *offset);

	*offset += blocks;
	*sectors -= MIN(*sectors, blocks);
}

static void bitmap_start_write(struct mddev *mddev, uint64_t offset, uint64_t sectors)
{
	struct bitmap *b = mddev->bitmap;
	uint16_t *bmc;

	pthread_mutex_lock(&b->lock);
	for (; (bmc = range_counter(b, offset, sectors)); range_next(b, &offset, &sectors)) {
		while (COUNTER(*bmc) == COUNTER_MAX)
			pthread_cond_wait(&b->overflow_wait, &b->lock);
		switch (*bmc) {
		case 0:
			file_set_bit(b, chunk_of(b, offset));
			/* fallthrough */
		case 1:
			*bmc = 2;
		}
		(*bmc)++;
	}
	pthread_mutex_unlock(&b->lock);
}

/* md_bitmap_endwrite: a write every member took lets events_cleared move
 * on; one made while degraded leaves its chunks NEEDED, for the member
 * that missed it. */
static void bitmap_end_write(struct mddev *mddev, uint64_t offset, uint64_t sectors)
{
	struct bitmap *b = mddev->bitmap;
	uint16_t *bmc;

	pthread_mutex_lock(&mddev->sb_lock);
	uint64_t events = mddev->events;
	pthread_mutex_unlock(&mddev->sb_lock);
	bool degraded = atomic_load(&mddev->degraded) > 0;

	pthread_mutex_lock(&b->lock);
	for (; (bmc = range_counter(b, offset, sectors)); range_next(b, &offset, &sectors)) {
		if (!degraded && b->events_cleared < events) {
			b->events_cleared = events;
			b->need_sync = true;
		} else if (degraded) {
			*bmc |= NEEDED_MASK;
		}
		if (COUNTER(*bmc) == COUNTER_MAX)
			pthread_cond_broadcast(&b->overflow_wait);
		(*bmc)--;
		if (*bmc <= 2)
			b->allclean = false;
	}
	pthread_mutex_unlock(&b->lock);
}

/* ---- syncs ---- */

static bool bitmap_start_sync(struct mddev *mddev, uint64_t offset,
			      uint64_t *blocks, bool degraded)
{
	struct bitmap *b = mddev->bitmap;
	bool rv = false;

	pthread_mutex_lock(&b->lock);
	uint64_t chunk = chunk_of(b, offset);
	*blocks = chunk_rest(b, offset);
	if (chunk < b->chunks) {
		uint16_t *bmc = &b->bmc[chunk];
		if (RESYNC(*bmc)) {
			rv = true;
		} else if (NEEDED(*bmc)) {
			rv = true;
			if (!degraded) {   /* degraded: the bit stays for later */
				*bmc |= RESYNC_MASK;
				*bmc &= ~NEEDED_MASK;
			}
		}
	}
	pthread_mutex_unlock(&b->lock);
	return rv;
}

static void end_sync_locked(struct bitmap *b, uint64_t offset, uint64_t *blocks)
{
	uint64_t chunk = chunk_of(b, offset);

	*blocks = chunk_rest(b, offset);
	if (chunk >= b->chunks)
		return;
	uint16_t *bmc = &b->bmc[chunk];
	if (RESYNC(*bmc)) {
		*bmc &= ~RESYNC_MASK;
		if (*bmc <= 2)
			b->allclean = false;
	}
}

static void bitmap_end_sync(struct mddev *mddev, uint64_t offset, uint64_t *blocks)
{
	struct bitmap *b = mddev->bitmap;

	pthread_mutex_lock(&b->lock);
	end_sync_locked(b, offset, blocks);
	pthread_mutex_unlock(&b->lock);
}

/* The sync is done below sector (whole chunks only). */
static void end_sync_below(struct bitmap *b, uint64_t sector)
{
	uint64_t blocks;

	pthread_mutex_lock(&b->lock);
	for (uint64_t s = 0; s < sector && chunk_of(b, s) < b->chunks; s += blocks)
		end_sync_locked(b, s, &blocks);
	pthread_mutex_unlock(&b->lock);
}

static void bitmap_close_sync(struct mddev *mddev)
{
	struct bitmap *b = mddev->bitmap;
	end_sync_below(b, b->chunks << b->chunkshift);
}

/* md_bitmap_cond_end_sync: every daemon_sleep (or forced) the chunks the
 * sync has passed lose RESYNC, so the daemon may clear them. */
static void bitmap_cond_end_sync(struct mddev *mddev, uint64_t sector, bool force)
{
	struct bitmap *b = mddev->bitmap;
	gint64 now = g_get_monotonic_time();

	if (sector == 0) {
		b->last_end_sync = now;
		return;
	}
	if (!force && now < b->last_end_sync + md_bitmap_daemon_sleep_us(mddev))
		return;
	end_sync_below(b, sector & ~((1ull << b->chunkshift) - 1));
	b->last_end_sync = now;
}

/* md_bitmap_dirty_bits: chunks s..e must be synced. */
static void bitmap_dirty_bits(struct mddev *mddev, uint64_t s, uint64_t e)
{
	struct bitmap *b = mddev->bitmap;

	pthread_mutex_lock(&b->lock);
	for (uint64_t c = s; c <= e && c < b->chunks; c++) {
		set_memory_bits(b, c, true);
		if (!file_test_bit(b, c))
			file_set_bit(b, c);
	}
	pthread_mutex_unlock(&b->lock);
	bitmap_unplug(mddev, true);
}

/* ---- the daemon ---- */

/* One of md's daemon passes over the counters (b->lock held): 2 -> 1 on
 * the first idle pass, 1 -> 0 and the bit cleared on the second. */
static void daemon_pass(struct bitmap *b)
{
	for (unsigned j = 0; j < b->npages; j++)
		if (b->pages[j] & PAGE_PENDING) {
			b->pages[j] &= ~PAGE_PENDING;
			b->pages[j] |= PAGE_NEEDWRITE;
		}
	if (b->need_sync) {
		b->need_sync = false;
		put64(b->map + B_EVENTS_CLEARED, b->events_cleared);
		b->pages[0] |= PAGE_NEEDWRITE;
	}
	for (uint64_t c = 0; c < b->chunks; c++) {
		uint16_t *bmc = &b->bmc[c];
		if (*bmc == 1) {
			*bmc = 0;
			file_clear_bit(b, c);
			b->allclean = false;   /* the cleared page is still to write */
		} else if (*bmc && *bmc <= 2) {
			*bmc = 1;
			b->allclean = false;
		}
	}
}

static void daemon_work(struct mddev *mddev, bool force)
{
	struct bitmap *b = mddev->bitmap;
	gint64 now = g_get_monotonic_time();

	pthread_mutex_lock(&b->lock);
	if (!force && now < b->daemon_lastrun + md_bitmap_daemon_sleep_us(mddev)) {
		pthread_mutex_unlock(&b->lock);
		return;
	}
	b->daemon_lastrun = now;
	bool pending = false;
	for (unsigned j = 0; j < b->npages; j++)
		pending |= b->pages[j] != 0;
	if (b->allclean && !pending && !b->need_sync) {
		pthread_mutex_unlock(&b->lock);
		return;
	}
	b->allclean = true;
	daemon_pass(b);
	pthread_mutex_unlock(&b->lock);
	write_pages_and_fail(mddev, PAGE_NEEDWRITE | PAGE_DIRTY, 0);
}

static void bitmap_daemon_work(struct mddev *mddev)
{
	if (!mddev->ro)
		daemon_work(mddev, false);
}

/* md_bitmap_flush: three passes, so every idle bit is cleared and written. */
static void bitmap_flush(struct mddev *mddev)
{
	if (mddev->ro)
		return;
	for (int i = 0; i < 3; i++)
		daemon_work(mddev, true);
}

/* ---- lifecycle ---- */

static void bitmap_alloc(struct bitmap *b)
{
	pthread_mutex_init(&b->lock, NULL);
	md_cond_init(&b->overflow_wait);
	pthread_mutex_init(&b->io_mutex, NULL);
	b->bmc = g_new0(uint16_t, b->chunks);
	b->map = g_malloc0(b->bytes);
	b->npages = (unsigned)((b->bytes + MAP_PAGE - 1) / MAP_PAGE);
	b->pages = g_new0(uint8_t, b->npages);
	b->daemon_lastrun = b->last_end_sync = g_get_monotonic_time();
}

static void bitmap_free(struct bitmap *b)
{
	if (!b)
		return;
	g_free(b->bmc);
	g_free(b->map);
	g_free(b->pages);
	pthread_mutex_destroy(&b->lock);
	pthread_cond_destroy(&b->overflow_wait);
	pthread_mutex_destroy(&b->io_mutex);
	g_free(b);
}

/* md_bitmap_init_from_disk and md_bitmap_load: each bit set on disk makes
 * its chunk's counter; NEEDED from start on (the resync's start, or all
 * of it when a member missed writes the bits must remember). */
static void init_from_disk(struct mddev *mddev, struct bitmap *b)
{
	bool degraded = atomic_load(&mddev->degraded) > 0;
	uint64_t start = 0;

	if (!degraded || b->events_cleared == mddev->events)
		start = mddev->resync_offset;
	for (uint64_t c = 0; c < b->chunks; c++) {
		if (b->stale)
			file_set_bit(b, c);
		if (file_test_bit(b, c))
			set_memory_bits(b, c, ((c + 1) << b->chunkshift) >= start);
	}
}

static int bitmap_load(struct mddev *mddev, char *err, size_t errlen)
{
	struct md_rdev *rdev = mddev->bitmap_file ? mddev->bitmap_file
						  : first_usable(mddev);
	struct bitmap *b = g_new0(struct bitmap, 1);
	uint8_t sb[BITMAP_SB_BYTES];

	b->file = mddev->bitmap_file;
	if (!rdev || mio_run(&(struct mio){ .rdev = rdev, .abs = true,
			.off = bitmap_pos(b, rdev), .buf = sb, .len = sizeof(sb) }, 1) < 0) {
		snprintf(err, errlen, "%s: cannot read the bitmap", mddev->name);
		g_free(b);
		return -EIO;
	}
	int r = bitmap_check(mddev, rdev, sb, b, err, errlen);
	if (r < 0) {
		g_free(b);
		return r;
	}
	bitmap_alloc(b);
	if (mio_run(&(struct mio){ .rdev = rdev, .abs = true, .off = bitmap_pos(b, rdev),
			.buf = b->map, .len = b->bytes }, 1) < 0) {
		snprintf(err, errlen, "%s: cannot read the bitmap", mddev->name);
		bitmap_free(b);
		return -EIO;
	}
	b->events_cleared = get64(sb + B_EVENTS_CLEARED);
	b->file_events = get64(sb + B_EVENTS);
	/* md_bitmap_read_sb: a bitmap behind the array forces a full sync */
	b->stale = get64(sb + B_EVENTS) < mddev->events ||
		   (get32(sb + B_STATE) & (1u << BITMAP_STALE));
	if (b->stale)   /* mdadm's new bitmaps say events 0: not news */
		g_debug("%s: bitmap is out of date: every bit set", mddev->name);
	atomic_store(&mddev->bitmap_daemon_sleep_ms, get32(sb + B_DAEMON_SLEEP) * 1000);
	mddev->bitmap = b;
	init_from_disk(mddev, b);
	b->stale = false;   /* md clears BITMAP_STALE once the bits are set */
	/* the in-memory image says not stale: written with the next sb */
	uint32_t state = get32(b->map + B_STATE) & ~(1u << BITMAP_STALE);
	state = GUINT32_TO_LE(state);
	memcpy(b->map + B_STATE, &state, 4);
	return 0;
}

static void bitmap_destroy(struct mddev *mddev)
{
	bitmap_free(mddev->bitmap);
	mddev->bitmap = NULL;
}

/* The bitmap superblock as md_bitmap_update_sb fills it in; returns the
 * first len bytes of the image (b->lock taken here). */
static uint8_t *sb_image(struct mddev *mddev, struct bitmap *b, size_t len)
{
	pthread_mutex_lock(&b->lock);
	if (mddev->events < b->events_cleared)
		b->events_cleared = mddev->events;
	put64(b->map + B_EVENTS, mddev->events);
	put64(b->map + B_EVENTS_CLEARED, b->events_cleared);
	put32(b->map + B_DAEMON_SLEEP,
	      (uint32_t)MAX(md_bitmap_daemon_sleep_us(mddev) / G_USEC_PER_SEC, 1));
	uint8_t *copy = g_memdup2(b->map, len);
	pthread_mutex_unlock(&b->lock);
	return copy;
}

static int write_sb_page(struct bitmap *b, struct md_rdev *rdev, uint8_t *copy,
			 size_t len)
{
	struct mio m = { .rdev = rdev, .write = true, .abs = true,
			 .off = bitmap_pos(b, rdev), .buf = copy, .len = len };
	int r = mio_run(&m, 1);

	g_free(copy);
	return r;
}

/* A bitmap file's superblock, once for each new events (md writes it
 * once an update, not once a member).  A file that fails is kicked, not
 * the member whose superblock is being written. */
static void file_update_sb(struct mddev *mddev, struct bitmap *b)
{
	int r = 0;

	pthread_mutex_lock(&b->io_mutex);
	if (!atomic_load(&b->file_kicked) && b->file_events != mddev->events) {
		r = write_sb_page(b, b->file, sb_image(mddev, b, page_len(b, 0)),
				  page_len(b, 0));
		if (r == 0)
			b->file_events = mddev->events;
	}
	pthread_mutex_unlock(&b->io_mutex);
	if (r < 0)
		kick_file(mddev, b);   /* this very update leaves it behind */
}

/* md_bitmap_update_sb, with each superblock write: events follow the
 * array's (events_cleared follows them down, md's rocking back), and the
 * member gets the bitmap's first page. */
static int bitmap_update_sb(struct mddev *mddev, struct md_rdev *rdev)
{
	struct bitmap *b = mddev->bitmap;

	if (b->file) {
		file_update_sb(mddev, b);
		return 0;
	}
	/* a member that joined after the load: its area may be smaller */
	if (b->bytes > bitmap_room(rdev, b->map, NULL, 0) * 512)
		return -ENOSPC;
	/* a member still recovering may have joined with no bits at all:
	 * all of them, as md's write_all for a new device */
	size_t len = rdev_in_sync(rdev) ? page_len(b, 0) : b->bytes;
	pthread_mutex_lock(&b->io_mutex);
	int r = write_sb_page(b, rdev, sb_image(mddev, b, len), len);
	pthread_mutex_unlock(&b->io_mutex);
	return r;
}

/* md_bitmap_status: pages of counters in use (md allocates one a 2048
 * chunks as their counters are first needed). */
static void bitmap_status(struct mddev *mddev, GString *out)
{
	struct bitmap *b = mddev->bitmap;
	uint64_t per_page = 4096 / sizeof(uint16_t);
	uint64_t pages = (b->chunks + per_page - 1) / per_page, used = 0;

	pthread_mutex_lock(&b->lock);
	for (uint64_t p = 0; p < pages; p++)
		for (uint64_t c = p * per_page; c < MIN(b->chunks, (p + 1) * per_page); c++)
			if (b->bmc[c]) {
				used++;
				break;
			}
	pthread_mutex_unlock(&b->lock);
	g_string_append_printf(out, "bitmap: %" PRIu64 "/%" PRIu64 " pages [%" PRIu64
			       "KB], %uKB chunk", used, pages, used * 4,
			       b->chunksize >> 10);
	if (b->file)
		g_string_append_printf(out, ", file: %s", b->file->path);
	g_string_append_c(out, '\n');
}

/* ---- bitmap/: md's bitmap sysfs group ---- */

static void location_show(struct mddev *mddev, struct md_rdev *rdev, GString *out)
{
	struct md_rdev *r = first_usable(mddev);
	(void)rdev;
	if (mddev->bitmap_file)
		g_string_append(out, "file");
	else
		g_string_append_printf(out, "%+d", r ? r->sb.bitmap_offset : 0);
}

static void chunksize_show(struct mddev *mddev, struct md_rdev *rdev, GString *out)
{
	(void)rdev;
	g_string_append_printf(out, "%u", mddev->bitmap->chunksize);
}

/* md's timeout_show: seconds, and milliseconds when there are any. */
static void time_base_show(struct mddev *mddev, struct md_rdev *rdev, GString *out)
{
	unsigned ms = (unsigned)(md_bitmap_daemon_sleep_us(mddev) / 1000);
	(void)rdev;
	g_string_append_printf(out, "%u", ms / 1000);
	if (ms % 1000)
		g_string_append_printf(out, ".%03u", ms % 1000);
}

/* md's timeout_store: seconds with up to 3 decimals, not 0. */
static int time_base_store(struct mddev *mddev, struct md_rdev *rdev, const char *val)
{
	unsigned ms;
	(void)rdev;
	if (ctl_parse_msec(val, SAFE_MODE_DELAY_MAX_MS, &ms) < 0 || ms == 0)
		return -EINVAL;
	atomic_store(&mddev->bitmap_daemon_sleep_ms, ms);
	return 0;
}

static void metadata_show(struct mddev *mddev, struct md_rdev *rdev, GString *out)
{
	(void)mddev, (void)rdev;
	g_string_append(out, "internal");
}

/* md: bits may be cleared unless events_cleared is held back. */
static void can_clear_show(struct mddev *mddev, struct md_rdev *rdev, GString *out)
{
	struct bitmap *b = mddev->bitmap;
	(void)rdev;
	pthread_mutex_lock(&b->lock);
	g_string_append(out, b->need_sync ? "false" : "true");
	pthread_mutex_unlock(&b->lock);
}

static void backlog_show(struct mddev *mddev, struct md_rdev *rdev, GString *out)
{
	(void)rdev;
	g_string_append_printf(out, "%u", get32(mddev->bitmap->map + B_WRITE_BEHIND));
}

/* No write-behind here: none ever waited. */
static void max_backlog_used_show(struct mddev *mddev, struct md_rdev *rdev,
				  GString *out)
{
	(void)mddev, (void)rdev;
	g_string_append(out, "0");
}

static const struct md_attr bitmap_group[] = {
	ATTR_RO(location), ATTR_RO(chunksize), ATTR_RW(time_base),
	ATTR_RO(metadata), ATTR_RO(can_clear), ATTR_RO(backlog),
	ATTR_RO(max_backlog_used),
	{ NULL, 0, NULL, NULL },
};

const struct bitmap_operations bitmap_ops = {
	.name = "bitmap",
	.load = bitmap_load,
	.flush = bitmap_flush,
	.destroy = bitmap_destroy,
	.start_write = bitmap_start_write,
	.end_write = bitmap_end_write,
	/* md's classic bitmap marks a discard as it marks a write */
	.start_discard = bitmap_start_write,
	.end_discard = bitmap_end_write,
	.unplug = bitmap_unplug,
	.start_sync = bitmap_start_sync,
	.end_sync = bitmap_end_sync,
	.cond_end_sync = bitmap_cond_end_sync,
	.close_sync = bitmap_close_sync,
	.update_sb = bitmap_update_sb,
	.dirty_bits = bitmap_dirty_bits,
	.daemon_work = bitmap_daemon_work,
	.status = bitmap_status,
	.group_name = "bitmap",
	.group = bitmap_group,
};

bool md_bitmap_covers_since(struct mddev *mddev, uint64_t events)
{
	struct bitmap *b = mddev->bitmap;

	if (mddev->bitmap_ops != &bitmap_ops || !b)
		return false;
	pthread_mutex_lock(&b->lock);
	bool covers = events >= b->events_cleared;
	pthread_mutex_unlock(&b->lock);
	return covers;
}

/* ---- a bitmap file, for mount ---- */

int md_bitmap_file_open(const char *path, bool ro, struct md_rdev **out,
			uint8_t uuid[16], char *err, size_t errlen)
{
	uint8_t sb[BITMAP_SB_BYTES];
	int r = rdev_open_bitmap_file(path, ro, out, err, errlen);

	if (r < 0)
		return r;
	ssize_t n = member_pread(NULL, *out, sb, sizeof(sb), 0);
	const char *why = NULL;
	if (n != (ssize_t)sizeof(sb) || get32(sb + B_MAGIC) != BITMAP_MAGIC)
		why = "no md bitmap superblock at its start";
	else if (get32(sb + B_VERSION) == BITMAP_MAJOR_LOCKLESS)
		why = "an llbitmap, which md keeps only on the members";
	else if (get32(sb + B_VERSION) < 3 || get32(sb + B_VERSION) > 4)
		why = "bitmap version is not 3 or 4";
	if (why) {
		snprintf(err, errlen, "bitmap file %s: %s", path, why);
		rdev_close(*out);
		*out = NULL;
		return -EINVAL;
	}
	memcpy(uuid, sb + B_UUID, 16);
	return 0;
}

/* mdadm writes a bitmap's uuid as it reads the array's, which for 0.90
 * is the kernel's word order. */
bool md_bitmap_uuid_matches(const uint8_t uuid[16], const struct md_sb *sb)
{
	uint8_t k[16];

	md_sb_uuid_kernel(sb, k);
	return !memcmp(uuid, sb->set_uuid, 16) || !memcmp(uuid, k, 16);
}

/* ---- a new bitmap, for create ---- */

/* mdadm's CreateBitmap: 4K, doubled until 2^20 chunks cover the array. */
static uint64_t file_chunk(uint64_t size)
{
	uint64_t c = 4096;

	while (size > c << (20 - SECTOR_SHIFT))
		c <<= 1;
	return c;
}

int md_bitmap_choose_chunk(uint64_t size, uint64_t room, uint64_t want,
			   uint32_t *chunk, char *err, size_t errlen)
{
	if (!room) {
		want = want ? want : file_chunk(size);
		room = UINT32_MAX;
	} else if (!want && room > 256)
		room = 256;   /* mdadm: 128K of bitmap unless a chunk is asked */
	if (room * 512 <= BITMAP_SB_BYTES) {
		snprintf(err, errlen, "no room for a bitmap");
		return -EINVAL;
	}
	uint64_t max_bits = (room * 512 - BITMAP_SB_BYTES) * 8;
	uint64_t min_chunk = 4096, bits = size * 512 / min_chunk + 1;
	while (bits > max_bits) {
		min_chunk *= 2;
		bits = (bits + 1) / 2;
	}
	uint64_t c = want ? want : MAX(min_chunk, 64ull << 20);
	if (want && (want < min_chunk || (want & (want - 1)))) {
		snprintf(err, errlen, "--bitmap-chunk %" PRIu64 "K: the bitmap needs "
			 "a power of two of at least %" PRIu64 "K here", want >> 10,
			 min_chunk >> 10);
		return -EINVAL;
	}
	if (c > (1ull << 31)) {
		snprintf(err, errlen, "bitmap chunk %" PRIu64 "K is too large", c >> 10);
		return -EINVAL;
	}
	*chunk = (uint32_t)c;
	return 0;
}


uint8_t *md_bitmap_new(const struct md_sb *sb, uint64_t cover, uint32_t chunk,
		       bool file, size_t *len)
{
	uint64_t chunks = (cover + (chunk >> SECTOR_SHIFT) - 1) / (chunk >> SECTOR_SHIFT);

	*len = BITMAP_SB_BYTES + (chunks + 7) / 8;
	if (!file)
		*len = (*len + 4095) & ~(size_t)4095;
	uint8_t *buf = g_malloc(*len);
	memset(buf, 0xff, *len);
	memset(buf, 0, BITMAP_SB_BYTES);
	put32(buf + B_MAGIC, BITMAP_MAGIC);
	put32(buf + B_VERSION, 4);
	memcpy(buf + B_UUID, sb->set_uuid, 16);
	put64(buf + B_SYNC_SIZE, cover);
	put32(buf + B_CHUNKSIZE, chunk);
	put32(buf + B_DAEMON_SLEEP, 5);    /* mdadm's DEFAULT_BITMAP_DELAY */
	return buf;
}
