/* The core: running and stopping arrays, the IO entry points with md's
 * write-start/write-end safe mode, superblock updates, member failure, and
 * the generic striped mapping the non-redundant levels share. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "raid.h"

const struct md_personality *const md_personalities[] = {
	&linear_personality,
	&raid0_personality,
	&raid1_personality,
	&raid4_personality,
	&raid5_personality,
	&raid6_personality,
	&raid10_personality,
	NULL,
};

const struct md_personality *md_find_personality(int level)
{
	for (int i = 0; md_personalities[i]; i++)
		if (md_personalities[i]->level == level)
			return md_personalities[i];
	return NULL;
}

bool rdev_usable(const struct md_rdev *rdev)
{
	return rdev && !(atomic_load(&rdev->flags) & RDEV_FAULTY);
}

struct md_rdev *md_replacement(struct mddev *mddev, int slot)
{
	return mddev->replacements && slot >= 0 && slot < mddev->raid_disks
	       ? mddev->replacements[slot] : NULL;
}

bool md_replacing(struct mddev *mddev, int slot)
{
	struct md_rdev *rep = md_replacement(mddev, slot);

	return rdev_usable(rep) && !rdev_in_sync(rep) &&
	       rdev_in_sync(mddev->slots[slot]);
}

bool rdev_in_sync(const struct md_rdev *rdev)
{
	return rdev_usable(rdev) && (atomic_load(&rdev->flags) & RDEV_IN_SYNC);
}

bool rdev_readable(struct md_rdev *rdev, uint64_t sector, uint64_t sectors)
{
	return (rdev_in_sync(rdev) ||
		(rdev_usable(rdev) && rdev->recovery_offset >= sector + sectors)) &&
	       !rdev_has_badblock(rdev, sector, sectors);
}

int md_in_sync_count(struct mddev *mddev)
{
	int n = 0;

	for (int i = 0; i < mddev->raid_disks; i++)
		n += rdev_in_sync(mddev->slots[i]);
	return n;
}

void md_status_slots(struct mddev *mddev, GString *out)
{
	g_string_append_c(out, '[');
	for (int i = 0; i < mddev->raid_disks; i++)
		g_string_append_c(out, rdev_in_sync(mddev->slots[i]) ? 'U' : '_');
	g_string_append_c(out, ']');
}

void md_cond_init(pthread_cond_t *cond)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(cond, &attr);
	pthread_condattr_destroy(&attr);
}

void md_cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *lock,
			gint64 until_us)
{
	struct timespec ts = { .tv_sec = until_us / G_USEC_PER_SEC,
			       .tv_nsec = until_us % G_USEC_PER_SEC * 1000 };

	pthread_cond_timedwait(cond, lock, &ts);
}

/* How many members the array can lose and still hold all the data. */
static int md_max_degraded(struct mddev *mddev)
{
	int m = mddev->pers->max_degraded;

	return m < 0 ? mddev->raid_disks - 1 : m;
}

/* md's enough(): all the data still reachable without slot (-1: none)? */
bool md_enough(struct mddev *mddev, int slot)
{
	if (mddev->pers->enough)
		return mddev->pers->enough(mddev, slot);
	return atomic_load(&mddev->degraded) + (slot >= 0) <= md_max_degraded(mddev);
}

/* Lost data (too many members gone) or, with no redundancy, a member's
 * error (md's MD_BROKEN). */
bool md_broken(struct mddev *mddev)
{
	return atomic_load(&mddev->broken) || !md_enough(mddev, -1);
}

/* Sectors below this hold the same data on every in-sync member. */
uint64_t md_synced_upto(struct mddev *mddev)
{
	uint64_t upto = mddev->resync_offset;

	if (upto != MD_MAX_SECTOR && mddev->sync_action == ACTION_RESYNC)
		upto = MAX(upto, mddev->curr_resync);
	return upto;
}

/* ---- superblocks ---- */

#define SET_IF_DIFFERS(field, value) \
	do { if ((field) != (value)) (field) = (value); } while (0)

/* md's super_1_sync: array-wide fields from the mddev, per-member fields
 * kept, and dev_roles rebuilt so members we do not hold read as faulty. */
static void sync_rdev_sb(struct mddev *mddev, struct md_rdev *rdev)
{
	struct md_sb *sb = &rdev->sb;
	const struct md_sb *t = &mddev->sb;

	memcpy(sb->set_uuid, t->set_uuid, sizeof(sb->set_uuid));
	memcpy(sb->set_name, t->set_name, sizeof(sb->set_name));
	/* Where the superblock and the bitmap lie is set at assembly or add
	 * and does not move; the bitmaps read it without sb_lock (their
	 * area's place and room), so an update writes it only if it differs. */
	SET_IF_DIFFERS(sb->major, t->major);
	SET_IF_DIFFERS(sb->minor, t->minor);
	SET_IF_DIFFERS(sb->logical_block_size, mddev->logical_block_size);
	SET_IF_DIFFERS(sb->bitmap_offset, t->bitmap_offset);
	SET_IF_DIFFERS(sb->max_dev, t->max_dev);
	sb->ctime = t->ctime;
	sb->utime = g_get_real_time() / G_USEC_PER_SEC;
	sb->level = mddev->level;
	sb->layout = mddev->layout;
	sb->size = mddev->dev_sectors;
	sb->chunk_sectors = mddev->chunk_sectors;
	sb->raid_disks = mddev->raid_disks;
	sb->events = mddev->events;
	sb->resync_offset = mddev->in_sync ? mddev->resync_offset : 0;
	memcpy(sb->dev_roles, t->dev_roles, sizeof(sb->dev_roles));

	sb->feature_map = t->feature_map &
			  ~(MD_FEATURE_RECOVERY_OFFSET | MD_FEATURE_BAD_BLOCKS |
			    MD_FEATURE_REPLACEMENT);
	/* md's super_1_sync: a replacement says so, in the role it copies. */
	if (atomic_load(&rdev->flags) & RDEV_REPLACEMENT)
		sb->feature_map |= MD_FEATURE_REPLACEMENT;
	/* The log is the member's own: md sets the bit per member. */
	if (atomic_load(&rdev->badblocks.count))
		sb->feature_map |= MD_FEATURE_BAD_BLOCKS;
	sb->recovery_offset = 0;
	if (rdev->raid_disk >= 0 && !(atomic_load(&rdev->flags) & RDEV_IN_SYNC)) {
		sb->feature_map |= MD_FEATURE_RECOVERY_OFFSET;
		sb->recovery_offset = rdev->recovery_offset;
	}
	sb->dev_number = rdev->desc_nr;
	if (atomic_load(&rdev->flags) & RDEV_WRITEMOSTLY)
		sb->devflags |= MD_SB_WRITEMOSTLY;
	else
		sb->devflags &= ~MD_SB_WRITEMOSTLY;
	sb->cnt_corrected_read = atomic_load(&rdev->corrected_errors);
}

static void sync_dev_roles(struct mddev *mddev)
{
	struct md_sb *t = &mddev->sb;

	for (uint32_t i = 0; i < t->max_dev && i < MD_SB_MAX_ROLES; i++)
		t->dev_roles[i] = MD_ROLE_FAULTY;
	for (guint i = 0; i < mddev->rdevs->len; i++) {
		struct md_rdev *rdev = g_ptr_array_index(mddev->rdevs, i);
		int flags = atomic_load(&rdev->flags);
		uint16_t role;

		if (rdev->desc_nr >= MD_SB_MAX_ROLES)
			continue;
		if (flags & RDEV_FAULTY)
			role = MD_ROLE_FAULTY;
		else if (rdev->raid_disk >= 0)
			role = rdev->raid_disk;
		else
			role = MD_ROLE_SPARE;
		if ((uint32_t)rdev->desc_nr >= t->max_dev)
			t->max_dev = rdev->desc_nr + 1;
		t->dev_roles[rdev->desc_nr] = role;
	}
}

static bool needs_flush(struct md_rdev *rdev)
{
	return rdev_usable(rdev) && rdev_written(rdev);
}

/* fdatasync every working member written since its last one, replacements
 * too, at once; v has 2 * raid_disks entries and gets the results.
 * Returns how many ran. */
static unsigned flush_members(struct mddev *mddev, struct mio *v)
{
	unsigned n = 0;

	for (int i = 0; i < mddev->raid_disks; i++) {
		struct md_rdev *rep = md_replacement(mddev, i);
		if (needs_flush(mddev->slots[i]))
			v[n++] = (struct mio){ .rdev = mddev->slots[i], .flush = true };
		if (needs_flush(rep))
			v[n++] = (struct mio){ .rdev = rep, .flush = true };
	}
	mio_run(v, n);
	return n;
}

static bool md_error_locked(struct mddev *mddev, struct md_rdev *rdev);

/* md's superblock writes are REQ_PREFLUSH: every member's data is durable
 * before any superblock vouches for it (clean, a resync_offset or a
 * recovery_offset moved on), or a power cut between two superblock writes
 * would leave the freshest one vouching for a member that lost its last
 * writes.  A member that cannot flush is failed; true when one was. */
static bool flush_before_sb(struct mddev *mddev)
{
	struct mio *v = g_new(struct mio, 2 * mddev->raid_disks);
	unsigned n = flush_members(mddev, v);
	bool failed = false;

	for (unsigned i = 0; i < n; i++)
		if (v[i].res < 0)
			failed |= md_error_locked(mddev, v[i].rdev);
	g_free(v);
	return failed;
}

/* md's can_decrease_events: going clean right after going dirty, nothing
 * else changed, takes events back to what the clean superblocks said.  A
 * member the clean write misses is then the freshest, and dirty, rather
 * than one event behind a clean one, where assembly takes it as in sync. */
static void next_events(struct mddev *mddev, bool clean_change)
{
	/* Degraded: a failed member must stay behind (md's nospares). */
	bool nospares = clean_change && !atomic_load(&mddev->degraded);

	if (nospares && mddev->in_sync && mddev->resync_offset == MD_MAX_SECTOR &&
	    mddev->can_decrease_events && mddev->events != 1) {
		mddev->events--;
		mddev->can_decrease_events = false;
	} else {
		mddev->events++;
		mddev->can_decrease_events = nospares;
	}
}

void (*md_sb_write_hook)(struct mddev *mddev, struct md_rdev *rdev);

/* One member's bitmap, bad-block log and superblock.  The superblock
 * write flushes, so once it is done the log is on the member and its
 * entries are acknowledged (md's badblocks_ack after md_super_wait). */
static int write_member_state(struct mddev *mddev, struct md_rdev *rdev)
{
	bool bblog = false;
	int r = 0;

	if (mddev->bitmap_ops)
		r = mddev->bitmap_ops->update_sb(mddev, rdev);
	if (r == 0)
		r = rdev_write_bblog(rdev, &bblog);
	if (r == 0) {
		sync_rdev_sb(mddev, rdev);
		if (md_sb_write_hook)
			md_sb_write_hook(mddev, rdev);
		r = rdev_write_sb(rdev);
	}
	if (r == 0 && bblog)
		badblocks_ack(&rdev->badblocks);
	return r;
}

/* Write every working member's superblock; caller holds sb_lock.
 * clean_change: only the clean/dirty state changed.  A member whose
 * superblock cannot be written is failed, as md does, and the others are
 * written again to say so. */
static int update_sb_locked(struct mddev *mddev, bool clean_change)
{
	int written, r;
	bool failed;

	if (mddev->ro)
		return 0;
	if (atomic_load(&mddev->power_off))
		return -EIO;
	/* Going dirty vouches for nothing: the first write waits for no flush. */
	bool going_dirty = clean_change && !mddev->in_sync;
	if (!going_dirty && flush_before_sb(mddev))
		clean_change = false;
	do {
		next_events(mddev, clean_change);
		clean_change = false;
		sync_dev_roles(mddev);
		written = 0, r = 0, failed = false;
		for (guint i = 0; i < mddev->rdevs->len; i++) {
			struct md_rdev *rdev = g_ptr_array_index(mddev->rdevs, i);
			if (!rdev_usable(rdev))
				continue;
			int k = write_member_state(mddev, rdev);
			if (k == 0) {
				written++;
				continue;
			}
			if (atomic_load(&mddev->power_off))
				return -EIO;   /* the cut came while writing */
			r = k;
			g_warning("%s: %s: superblock write failed: %s", mddev->name,
				  rdev->name, g_strerror(-k));
			failed |= md_error_locked(mddev, rdev);
		}
	} while (failed);
	return written ? 0 : (r ? r : -EIO);
}

int md_update_sb(struct mddev *mddev)
{
	pthread_mutex_lock(&mddev->sb_lock);
	int r = update_sb_locked(mddev, false);
	pthread_mutex_unlock(&mddev->sb_lock);
	return r;
}

/* A member failing under its replacement: the role's writes reach
 * neither from now until the replacement takes the role (the level skips
 * a faulty member), so its copy starts over, and its superblock says so
 * before a crash could make it the role's member. */
static void lose_replacement_copy(struct mddev *mddev, struct md_rdev *rdev,
				  int flags)
{
	struct md_rdev *rep = (flags & RDEV_REPLACEMENT) ? NULL
			      : md_replacement(mddev, rdev->raid_disk);

	if (rep && mddev->slots[rdev->raid_disk] == rdev)
		rep->recovery_offset = 0;
}

/* md_error's work under sb_lock; true when the member has just failed and
 * the superblocks must say so. */
static bool md_error_locked(struct mddev *mddev, struct md_rdev *rdev)
{
	if (mddev->pers->error_handler) {
		mddev->pers->error_handler(mddev, rdev);
		return false;
	}
	int flags = atomic_load(&rdev->flags);
	/* A recovering member holds no data yet: degraded counts it already. */
	bool active = rdev->raid_disk >= 0 && (flags & RDEV_IN_SYNC);
	/* Mirrors keep the member holding the last copy of the data, so it
	 * can still be read, unless fail_last_dev says otherwise; either
	 * way the array is broken and refuses writes (md's raid1_error).
	 * Other levels fail the member and the array stops. */
	if (mddev->pers->keeps_last_copy && active &&
	    !md_enough(mddev, rdev->raid_disk)) {
		bool keep = !atomic_load(&mddev->fail_last_dev);
		if (!atomic_exchange(&mddev->broken, true) &&
		    !atomic_load(&mddev->power_off))
			g_warning("%s: member %s failed, the last copy of the data:"
				  " array has failed%s", mddev->name, rdev->name,
				  keep ? ", member kept for reads" : "");
		if (keep)
			return false;
	}
	if (!(flags & RDEV_FAULTY)) {
		atomic_fetch_or(&rdev->flags, RDEV_FAULTY);
		atomic_fetch_and(&rdev->flags, ~RDEV_IN_SYNC);
		if (active)
			atomic_fetch_add(&mddev->degraded, 1);
		lose_replacement_copy(mddev, rdev, flags);
		atomic_store(&mddev->recovery_intr, true);
		atomic_store(&mddev->recovery_needed, true);
		if (!atomic_load(&mddev->power_off))
			g_warning("%s: member %s failed; %s", mddev->name,
				  rdev->name, md_broken(mddev) ? "array has failed"
							       : "continuing degraded");
		return true;
	}
	return false;
}

/* md_error: fail a member, unless it is the last one holding the data, in
 * which case the IO error simply goes back to the caller. */
void md_error(struct mddev *mddev, struct md_rdev *rdev)
{
	pthread_mutex_lock(&mddev->sb_lock);
	bool failed = md_error_locked(mddev, rdev);
	if (failed)
		update_sb_locked(mddev, false);
	pthread_mutex_unlock(&mddev->sb_lock);
	/* A spare may take its role (md_check_recovery). */
	if (failed)
		md_wakeup_recovery(mddev);
}

/* The log goes out with the superblocks before the caller goes on, as
 * md's MD_SB_CHANGE_PENDING holds the request. */
void md_bad_sectors(struct mddev *mddev, struct md_rdev *rdev, uint64_t sector,
		    uint64_t sectors)
{
	if (!atomic_load(&mddev->power_off) &&
	    rdev_set_badblocks(rdev, sector, sectors))
		md_update_sb(mddev);
	else
		md_error(mddev, rdev);
}

/* md's raid0_error and linear_error: with no redundancy the array is only
 * marked broken, in memory.  Writes fail from now on, reads go on, and the
 * superblocks are left alone, so the members assemble again as they are. */

void md_fail_array(struct mddev *mddev, struct md_rdev *rdev)
{
	if (!atomic_exchange(&mddev->broken, true) &&
	    !atomic_load(&mddev->power_off))
		g_warning("%s: member %s failed; array has failed", mddev->name,
			  rdev->name);
}

void md_write_lost(struct mddev *mddev)
{
	atomic_store(&mddev->lost_writes, true);
}

/* ---- safe mode: md_write_start / md_write_end ---- */

int md_write_start(struct mddev *mddev)
{
	int r = 0;

	pthread_mutex_lock(&mddev->sb_lock);
	mddev->writes_pending++;
	if (mddev->in_sync) {
		mddev->in_sync = false;
		r = update_sb_locked(mddev, true);
	}
	pthread_mutex_unlock(&mddev->sb_lock);
	return r;
}

/* The write is done, in the members or failed: the next md_flush must
 * reach the members for it. */
void md_write_end(struct mddev *mddev)
{
	atomic_fetch_add(&mddev->writes_done, 1);
	pthread_mutex_lock(&mddev->sb_lock);
	mddev->last_write_us = g_get_monotonic_time();
	if (--mddev->writes_pending == 0 && mddev->safemode_waiting)
		pthread_cond_broadcast(&mddev->sb_cond);
	pthread_mutex_unlock(&mddev->sb_lock);
}

/* Mark the array clean once it has been idle for safe_mode_delay, as md's
 * safe mode does, so a crash then needs no resync. */
static gpointer safemode_thread(gpointer arg)
{
	struct mddev *mddev = arg;

	pthread_mutex_lock(&mddev->sb_lock);
	while (!mddev->stopping) {
		if (mddev->in_sync || mddev->writes_pending) {
			mddev->safemode_waiting = true;
			pthread_cond_wait(&mddev->sb_cond, &mddev->sb_lock);
			mddev->safemode_waiting = false;
			continue;
		}
		gint64 due = mddev->last_write_us +
			     (gint64)mddev->safe_mode_delay_ms * 1000;
		if (g_get_monotonic_time() < due) {
			md_cond_wait_until(&mddev->sb_cond, &mddev->sb_lock, due);
			continue;
		}
		mddev->in_sync = true;
		update_sb_locked(mddev, true);
	}
	pthread_mutex_unlock(&mddev->sb_lock);
	return NULL;
}

void md_safemode_start(struct mddev *mddev)
{
	if (!mddev->ro)
		mddev->safemode_thread = g_thread_new("safemode", safemode_thread,
						      mddev);
}

/* ---- IO ---- */

static int check_range(struct mddev *mddev, uint64_t off, size_t *len)
{
	uint64_t size = mddev->array_sectors << SECTOR_SHIFT;

	if (!md_enough(mddev, -1))
		return -EIO;
	if (off >= size) {
		*len = 0;
		return 0;
	}
	*len = MIN(*len, size - off);
	return 0;
}

/* Returns bytes read (short at the end of the array) or -errno. */
static int read_request(struct mddev *mddev, uint64_t off, size_t len, void *buf)
{
	int r = check_range(mddev, off, &len);

	if (r < 0 || len == 0)
		return r;
	atomic_fetch_add(&mddev->fg_sectors, (len + 511) >> SECTOR_SHIFT);
	r = mddev->pers->read(mddev, off, len, buf);
	return r < 0 ? r : (int)len;
}

/* The entry points run as one request each: the member set does not
 * change under them (md_suspend). */
int md_read(struct mddev *mddev, uint64_t off, size_t len, void *buf)
{
	md_io_enter(mddev);
	int r = read_request(mddev, off, len, buf);
	md_io_exit(mddev);
	return r;
}

/* ---- the write-intent bitmap around writes (md_bitmap_start) ---- */

uint64_t md_bitmap_sectors(struct mddev *mddev)
{
	return mddev->level == 10 ? mddev->array_sectors : mddev->dev_sectors;
}

gint64 md_bitmap_daemon_sleep_us(struct mddev *mddev)
{
	unsigned ms = atomic_load(&mddev->bitmap_daemon_sleep_ms);
	return (gint64)(ms ? ms : 5000) * 1000;   /* md's default: 5 s */
}

/* The bitmap's sectors an array byte range touches (pers->bitmap_sector). */
static void bitmap_range(struct mddev *mddev, uint64_t off, uint64_t len,
			 uint64_t *sector, uint64_t *sectors)
{
	*sector = off >> SECTOR_SHIFT;
	*sectors = ((off + len + 511) >> SECTOR_SHIFT) - *sector;
	if (mddev->bitmap_ops && mddev->pers->bitmap_sector)
		mddev->pers->bitmap_sector(mddev, sector, sectors);
}

bool md_bitmap_blocks_synced(struct mddev *mddev, uint64_t sector)
{
	const struct bitmap_operations *ops = mddev->bitmap_ops;

	return !ops || !ops->blocks_synced || ops->blocks_synced(mddev, sector);
}

bool md_bitmap_skips(struct mddev *mddev, uint64_t sector, uint64_t sectors)
{
	const struct bitmap_operations *ops = mddev->bitmap_ops;

	if (!ops || !ops->skip_sync_blocks)
		return false;
	while (sectors) {
		uint64_t n = ops->skip_sync_blocks(mddev, sector);
		if (!n)
			return false;
		n = MIN(n, sectors);
		sector += n;
		sectors -= n;
	}
	return true;
}

bool md_bitmap_sync_skips(struct mddev *mddev, uint64_t sector, uint64_t sectors)
{
	const struct bitmap_operations *ops = mddev->bitmap_ops;
	bool skip = true;

	if (!mddev->sync_bitmap_bounded)
		return false;
	/* every chunk is asked, so each one needing the sync is started */
	while (sectors) {
		uint64_t blocks = 0;
		if (ops->start_sync(mddev, sector, &blocks, mddev->sync_bitmap_degraded))
			skip = false;
		blocks = blocks ? MIN(blocks, sectors) : sectors;
		sector += blocks;
		sectors -= blocks;
	}
	return skip;
}

/* md's llbitmap sets MD_RECOVERY_NEEDED as a chunk's state asks for a
 * sync: the sync thread runs one bounded by the bitmap once it is free.
 * A request still pending is sent again, as md_check_recovery looks
 * again every daemon_sleep, for a sync thread that could not take it. */
void md_bitmap_check_wanted(struct mddev *mddev)
{
	const struct bitmap_operations *ops = mddev->bitmap_ops;

	if (!ops || !ops->sync_wanted)
		return;
	if (ops->sync_wanted(mddev))
		atomic_store(&mddev->bitmap_sync_pending, true);
	if (atomic_load(&mddev->bitmap_sync_pending))
		md_wakeup_recovery(mddev);
}

void md_bitmap_start_write(struct mddev *mddev, uint64_t sector, uint64_t sectors)
{
	const struct bitmap_operations *ops = mddev->bitmap_ops;

	if (!ops || !ops->start_write)
		return;
	ops->start_write(mddev, sector, sectors);
	if (ops->unplug)
		ops->unplug(mddev, true);
	/* Once a sync is asked for, a write into a NeedSync chunk need not
	 * ask again: the pass it starts, or the daemon's next request, finds
	 * the chunk, and a wakeup per write would wake the throttled sync
	 * thread at every write. */
	if (!atomic_load(&mddev->bitmap_sync_pending))
		md_bitmap_check_wanted(mddev);
}

void md_bitmap_end_write(struct mddev *mddev, uint64_t sector, uint64_t sectors)
{
	const struct bitmap_operations *ops = mddev->bitmap_ops;

	if (ops && ops->end_write)
		ops->end_write(mddev, sector, sectors);
}

/* md's bitmap daemon (md_check_recovery's daemon_work): every
 * daemon_sleep while the array runs. */
static gpointer bitmap_thread(gpointer arg)
{
	struct mddev *mddev = arg;

	pthread_mutex_lock(&mddev->sb_lock);
	gint64 last = g_get_monotonic_time();
	while (!mddev->stopping) {
		/* time_base may change meanwhile: due follows it */
		gint64 due = last + md_bitmap_daemon_sleep_us(mddev);
		if (g_get_monotonic_time() < due) {
			md_cond_wait_until(&mddev->bitmap_cond, &mddev->sb_lock,
					  MIN(due, g_get_monotonic_time() + G_USEC_PER_SEC));
			continue;
		}
		pthread_mutex_unlock(&mddev->sb_lock);
		mddev->bitmap_ops->daemon_work(mddev);
		md_bitmap_check_wanted(mddev);
		pthread_mutex_lock(&mddev->sb_lock);
		last = g_get_monotonic_time();
	}
	pthread_mutex_unlock(&mddev->sb_lock);
	return NULL;
}

static void bitmap_thread_start(struct mddev *mddev)
{
	if (!mddev->ro && mddev->bitmap_ops && mddev->bitmap_ops->daemon_work)
		mddev->bitmap_thread = g_thread_new("md_bitmap", bitmap_thread, mddev);
}

static int write_request(struct mddev *mddev, uint64_t off, size_t len,
			 const void *buf)
{
	if (mddev->ro)
		return -EROFS;
	if (atomic_load(&mddev->broken))
		return -EIO;
	uint64_t size = mddev->array_sectors << SECTOR_SHIFT;
	if (off + len > size)
		return -ENOSPC;
	int r = check_range(mddev, off, &len);
	if (r < 0 || len == 0)
		return r;
	atomic_fetch_add(&mddev->fg_sectors, (len + 511) >> SECTOR_SHIFT);
	r = md_write_start(mddev);
	if (r < 0) {
		md_write_end(mddev);
		return r;
	}
	uint64_t bs, bn;
	bitmap_range(mddev, off, len, &bs, &bn);
	md_bitmap_start_write(mddev, bs, bn);
	r = mddev->pers->write(mddev, off, len, buf);
	md_bitmap_end_write(mddev, bs, bn);
	md_write_end(mddev);
	return r < 0 ? r : (int)len;
}

int md_write(struct mddev *mddev, uint64_t off, size_t len, const void *buf)
{
	md_io_enter(mddev);
	int r = write_request(mddev, off, len, buf);
	md_io_exit(mddev);
	return r;
}

static int discard_request(struct mddev *mddev, uint64_t off, uint64_t len)
{
	uint64_t size = mddev->array_sectors << SECTOR_SHIFT;

	if (mddev->ro)
		return -EROFS;
	if (!mddev->pers->discard)
		return -EOPNOTSUPP;
	if (atomic_load(&mddev->broken))
		return -EIO;
	if (off >= size)
		return 0;
	len = MIN(len, size - off);
	int r = md_write_start(mddev);
	const struct bitmap_operations *ops = mddev->bitmap_ops;
	if (r == 0) {
		uint64_t bs, bn;
		bitmap_range(mddev, off, len, &bs, &bn);
		if (ops && ops->start_discard) {
			ops->start_discard(mddev, bs, bn);
			if (ops->unplug)
				ops->unplug(mddev, true);
		}
		r = mddev->pers->discard(mddev, off, len);
		if (ops && ops->end_discard)
			ops->end_discard(mddev, bs, bn);
	}
	md_write_end(mddev);
	return r;
}

int md_discard(struct mddev *mddev, uint64_t off, uint64_t len)
{
	md_io_enter(mddev);
	int r = discard_request(mddev, off, len);
	md_io_exit(mddev);
	return r;
}

void md_io_hints(struct mddev *mddev, unsigned *io_min, unsigned *io_opt)
{
	*io_min = mddev->logical_block_size;
	*io_opt = 0;
	if (mddev->pers->io_hints)
		mddev->pers->io_hints(mddev, io_min, io_opt);
}

/* st_blksize of the image: the optimal IO size, at least a page. */
unsigned md_io_opt(struct mddev *mddev)
{
	unsigned io_min, io_opt;

	md_io_hints(mddev, &io_min, &io_opt);
	return MAX(MAX(io_opt, io_min), 4096u);
}

/* fsync: every working member durable.  It covers the writes completed
 * when it starts, data a level held back then included (writeback); a
 * write still in flight, or held back later, is the next md_flush's.
 * Nothing written since the last flush means nothing to do, so a close
 * after reading costs no sync. */
static int flush_request(struct mddev *mddev)
{
	uint64_t done = atomic_load(&mddev->writes_done);
	int r = 0;

	if (mddev->ro)
		return md_broken(mddev) ? -EIO : 0;
	if (mddev->pers->writeback)
		r = mddev->pers->writeback(mddev);
	if (done != atomic_load(&mddev->writes_flushed)) {
		struct mio *v = g_new(struct mio, 2 * mddev->raid_disks);
		unsigned n = flush_members(mddev, v);
		bool all = true;
		for (unsigned i = 0; i < n; i++) {
			if (v[i].res < 0) {
				all = false;
				md_error(mddev, v[i].rdev);
				if (rdev_usable(v[i].rdev))
					r = v[i].res;   /* the last copy: the caller must know */
			}
		}
		g_free(v);
		/* A racing md_flush may store an older count: that only
		 * costs the next one a needless flush. */
		if (all)
			atomic_store(&mddev->writes_flushed, done);
	}
	if (atomic_load(&mddev->lost_writes))
		return -EIO;
	return md_broken(mddev) ? -EIO : r;
}

int md_flush(struct mddev *mddev)
{
	md_io_enter(mddev);
	int r = flush_request(mddev);
	md_io_exit(mddev);
	return r;
}

/* ---- write errors: md's bad-block log ---- */

static uint64_t mio_first_sector(const struct mio *m)
{
	return m->off >> SECTOR_SHIFT;
}

static uint64_t mio_sectors(const struct mio *m)
{
	return ((m->off + m->len + 511) >> SECTOR_SHIFT) - mio_first_sector(m);
}

/* md's narrow_write_error: write the failed range again block by block
 * (aligned blocks of block sectors) and record the blocks that fail
 * still; false when one cannot be recorded. */
static bool narrow_write_error(const struct mio *m, uint64_t block)
{
	uint64_t block_bytes = block << SECTOR_SHIFT, end = m->off + m->len;
	bool ok = true;

	for (uint64_t pos = m->off, next; pos < end; pos = next) {
		next = MIN(end, (pos / block_bytes + 1) * block_bytes);
		struct mio w = { .rdev = m->rdev, .write = true, .off = pos,
				 .buf = (char *)m->buf + (pos - m->off),
				 .len = next - pos };
		if (mio_run(&w, 1) < 0)
			ok = rdev_set_badblocks(m->rdev, mio_first_sector(&w),
						mio_sectors(&w)) && ok;
	}
	return ok;
}

/* md's block for narrowing: a bad-block log block, at least a logical
 * block of the array. */
static uint64_t narrow_block(struct mddev *mddev, struct md_rdev *rdev)
{
	uint64_t bb_block = 1ull << MAX(rdev->badblocks.shift, 0);

	return MAX(bb_block, (uint64_t)mddev->logical_block_size >> SECTOR_SHIFT);
}

/* A member write failed: md sets WriteErrorSeen and WantReplacement,
 * then records the failed blocks bad; true when they were recorded,
 * false when the member had to fail instead. */
static bool record_write_error(struct mddev *mddev, const struct mio *m,
			       uint64_t block)
{
	struct md_rdev *rdev = m->rdev;

	if (atomic_load(&rdev->flags) & RDEV_FAULTY)
		return false;
	/* After a power cut no log can be written: the member is gone with
	 * the power, failed in memory so that IO ends. */
	if (!atomic_load(&mddev->power_off)) {
		atomic_fetch_or(&rdev->flags, RDEV_WRITE_ERROR | RDEV_WANT_REPLACEMENT);
		md_wakeup_recovery(mddev);    /* a spare may replace it */
		if (narrow_write_error(m, block ? block : narrow_block(mddev, rdev)))
			return true;
	}
	md_error(mddev, rdev);
	return false;
}

/* Cut write m around the member's recorded bad blocks, as md's write
 * paths skip them on a member that has seen a write error; the pieces
 * go to out, each tagged with its index i in owner. */
static void skip_badblocks(const struct mio *m, unsigned i, GArray *out,
			   GArray *owner)
{
	uint64_t end = m->off + m->len;

	for (uint64_t pos = m->off, next; pos < end; pos = next) {
		uint64_t s = pos >> SECTOR_SHIFT;
		uint64_t e = (end + 511) >> SECTOR_SHIFT;
		uint64_t run = rdev_badblock_run(m->rdev, s, e - s);
		next = MIN(end, (s + run) << SECTOR_SHIFT);
		if (rdev_has_badblock(m->rdev, s, 1))
			continue;
		struct mio p = *m;
		p.off = pos;
		p.len = next - pos;
		p.buf = (char *)m->buf + (pos - m->off);
		g_array_append_val(out, p);
		g_array_append_val(owner, i);
	}
}

static bool skips_badblocks(const struct mio *m)
{
	return !m->flush && !m->abs &&
	       (atomic_load(&m->rdev->flags) & RDEV_WRITE_ERROR) &&
	       rdev_has_badblock(m->rdev, mio_first_sector(m), mio_sectors(m));
}

/* md's MadeGood: the whole sectors a write covered hold data again. */
static void made_good(const struct mio *m)
{
	uint64_t a = (m->off + 511) >> SECTOR_SHIFT;
	uint64_t b = (m->off + m->len) >> SECTOR_SHIFT;

	if (b > a && rdev_has_badblock(m->rdev, a, b - a))
		rdev_clear_badblocks(m->rdev, a, b - a);
}

/* After the batch w: clear what was made good, record what failed; the
 * first error of each write goes back into its res in v (owner: which
 * write of v each of w is a piece of; NULL: w is v).  The superblock
 * write carries the log: the batch is not done until its bad blocks are
 * acknowledged (md's MD_SB_CHANGE_PENDING). */
static void end_writes(struct mddev *mddev, struct mio *v, struct mio *w,
		       const unsigned *owner, unsigned n, uint64_t block)
{
	bool recorded = false;

	for (unsigned k = 0; k < n; k++) {
		if (w[k].res == 0) {
			made_good(&w[k]);
			continue;
		}
		recorded |= record_write_error(mddev, &w[k], block);
		if (owner && v[owner[k]].res == 0)
			v[owner[k]].res = w[k].res;
	}
	if (recorded)
		md_update_sb(mddev);
}

/* Some writes of v skip bad blocks: run their pieces instead. */
static int write_pieces(struct mddev *mddev, struct mio *v, unsigned n,
			uint64_t block)
{
	GArray *pieces = g_array_new(FALSE, FALSE, sizeof(struct mio));
	GArray *owner = g_array_new(FALSE, FALSE, sizeof(unsigned));

	for (unsigned i = 0; i < n; i++) {
		if (skips_badblocks(&v[i])) {
			skip_badblocks(&v[i], i, pieces, owner);
		} else {
			g_array_append_val(pieces, v[i]);
			g_array_append_val(owner, i);
		}
		v[i].res = 0;
	}
	struct mio *w = (struct mio *)pieces->data;
	int r = mio_run(w, pieces->len);
	end_writes(mddev, v, w, (unsigned *)owner->data, pieces->len, block);
	g_array_free(pieces, TRUE);
	g_array_free(owner, TRUE);
	return r;
}

static int write_batch(struct mddev *mddev, struct mio *v, unsigned n,
		       uint64_t block)
{
	for (unsigned i = 0; i < n; i++)
		if (skips_badblocks(&v[i]))
			return write_pieces(mddev, v, n, block);
	int r = mio_run(v, n);
	end_writes(mddev, v, v, NULL, n, block);
	return r;
}

/* The replacement of the member a data-area write goes to, if any. */
static struct md_rdev *write_replacement(struct mddev *mddev,
					 const struct mio *m)
{
	struct md_rdev *rdev = m->rdev;

	if (!m->write || m->abs || m->flush || !mddev->replacements ||
	    (atomic_load(&rdev->flags) & RDEV_REPLACEMENT) ||
	    mddev->slots[MAX(rdev->raid_disk, 0)] != rdev)
		return NULL;
	struct md_rdev *rep = md_replacement(mddev, rdev->raid_disk);
	return rdev_usable(rep) ? rep : NULL;
}

/* md's write paths send a role's writes to its replacement too (raid1's
 * and raid10's repl_bio, raid5's R5_NeedReplace); a replacement's own
 * errors are its own and leave the request's results alone. */
int md_write_batch(struct mddev *mddev, struct mio *v, unsigned n,
		   uint64_t block)
{
	unsigned extra = 0;

	md_wait_blocked(mddev, v, n);
	for (unsigned i = 0; i < n; i++)
		extra += write_replacement(mddev, &v[i]) != NULL;
	if (!extra)
		return write_batch(mddev, v, n, block);
	struct mio *w = g_new(struct mio, n + extra);
	unsigned k = n;
	memcpy(w, v, n * sizeof(*v));
	for (unsigned i = 0; i < n; i++) {
		struct md_rdev *rep = write_replacement(mddev, &v[i]);
		if (rep) {
			w[k] = v[i];
			w[k++].rdev = rep;
		}
	}
	write_batch(mddev, w, k, block);
	int r = 0;
	for (unsigned i = 0; i < n; i++) {
		v[i].res = w[i].res;
		if (v[i].res < 0 && r == 0)
			r = v[i].res;
	}
	g_free(w);
	return r;
}

bool md_record_no_source(struct mddev *mddev, const struct mio *targets,
			 unsigned n)
{
	bool ok = true;

	for (unsigned i = 0; i < n; i++)
		ok = rdev_set_badblocks(targets[i].rdev, mio_first_sector(&targets[i]),
					mio_sectors(&targets[i])) && ok;
	if (n)
		md_update_sb(mddev);
	return ok;
}

/* Of sector s of copy m, the sectors from there it holds as written
 * (at most left); 0 if it does not hold s. */
static uint64_t copy_holds(const struct mio *m, uint64_t s, uint64_t left)
{
	if (m->res < 0 || !rdev_in_sync(m->rdev) || rdev_has_badblock(m->rdev, s, 1))
		return 0;
	return rdev_badblock_run(m->rdev, s, left);
}

bool md_copies_written(const struct mio *copies, unsigned n)
{
	uint64_t sectors = n ? mio_sectors(&copies[0]) : 0;

	for (uint64_t t = 0, run; t < sectors; t += run) {
		run = 0;
		for (unsigned i = 0; i < n; i++) {
			/* Once: MAX evaluates its arguments twice, and a copy
			 * failing meanwhile would read as holding nothing. */
			uint64_t held = copy_holds(&copies[i],
						   mio_first_sector(&copies[i]) + t,
						   sectors - t);
			run = MAX(run, held);
		}
		if (!run)
			return false;
	}
	return n > 0;
}

/* Would reading bytes [off, off + len) of the data area touch a bad block? */
static bool mio_badblock(struct md_rdev *rdev, uint64_t off, size_t len)
{
	uint64_t s = off >> SECTOR_SHIFT;

	return rdev_has_badblock(rdev, s, ((off + len + 511) >> SECTOR_SHIFT) - s);
}

/* Split a request by the level's map into per-member pieces and run them as
 * one batch.  Non-redundant levels have nowhere else to go on error, nor
 * for a recorded bad block: that read fails, the array stays. */
int md_map_rw(struct mddev *mddev, md_map_fn map, bool write, uint64_t off,
	      size_t len, void *buf)
{
	struct mio stack[16], *v = stack;
	unsigned n = 0, cap = G_N_ELEMENTS(stack);

	while (len) {
		int slot;
		uint64_t dev_off;
		size_t k = map(mddev, off, len, &slot, &dev_off);
		struct md_rdev *rdev = mddev->slots[slot];
		if (!rdev_usable(rdev) ||
		    (!write && mio_badblock(rdev, dev_off, k))) {
			n = 0;
			goto fail;
		}
		if (n == cap) {
			struct mio *grown = g_new(struct mio, cap * 2);
			memcpy(grown, v, n * sizeof(*v));
			if (v != stack)
				g_free(v);
			v = grown;
			cap *= 2;
		}
		v[n++] = (struct mio){ .rdev = rdev, .write = write,
				       .off = dev_off, .buf = buf, .len = k };
		off += k;
		buf = (char *)buf + k;
		len -= k;
	}
	int r = mio_run(v, n);
	for (unsigned i = 0; i < n; i++)
		if (v[i].res < 0)
			md_error(mddev, v[i].rdev);
	if (v != stack)
		g_free(v);
	return r;
fail:
	if (v != stack)
		g_free(v);
	return -EIO;
}

int md_map_discard(struct mddev *mddev, md_map_fn map, uint64_t off,
		   uint64_t len)
{
	while (len) {
		int slot;
		uint64_t dev_off;
		size_t k = map(mddev, off, MIN(len, (uint64_t)SIZE_MAX), &slot, &dev_off);
		int r = rdev_discard(mddev->slots[slot], dev_off, k);
		if (r < 0)
			return r;
		off += k;
		len -= k;
	}
	return 0;
}

/* md_bitmap_create's choice by the version field of the bitmap superblock
 * (read from the first member that gives it): llbitmap's, or the
 * classic's, whose load refuses any other. */
static const struct bitmap_operations *bitmap_ops_on_disk(struct mddev *mddev)
{
	uint8_t sb[8];

	for (int i = 0; i < mddev->raid_disks; i++) {
		struct md_rdev *r = mddev->slots[i];
		if (!rdev_usable(r))
			continue;
		int64_t at = (int64_t)r->sb.super_offset + r->sb.bitmap_offset;
		if (mio_run(&(struct mio){ .rdev = r, .abs = true, .off = (uint64_t)at
					   << SECTOR_SHIFT, .buf = sb, .len = sizeof(sb) }, 1) < 0)
			continue;
		uint32_t version;
		memcpy(&version, sb + 4, 4);
		return GUINT32_FROM_LE(version) == BITMAP_MAJOR_LOCKLESS ? &llbitmap_ops
									 : &bitmap_ops;
	}
	return &bitmap_ops;
}

/* ---- run / stop ---- */

const char *md_array_state(struct mddev *mddev)
{
	if (md_broken(mddev))
		return "broken";
	if (mddev->ro)
		return "readonly";
	pthread_mutex_lock(&mddev->sb_lock);
	const char *s = mddev->in_sync ? "clean" : "active";
	pthread_mutex_unlock(&mddev->sb_lock);
	return s;
}

int md_set_in_sync(struct mddev *mddev)
{
	int r = 0;

	pthread_mutex_lock(&mddev->sb_lock);
	if (mddev->writes_pending) {
		r = -EBUSY;
	} else if (!mddev->in_sync) {
		mddev->in_sync = true;
		r = update_sb_locked(mddev, true);
	}
	pthread_mutex_unlock(&mddev->sb_lock);
	return r;
}

int md_run(struct mddev *mddev, char *err, size_t errlen)
{
	const struct md_sb *sb = &mddev->sb;

	mddev->pers = md_find_personality(sb->level);
	if (!mddev->pers) {
		snprintf(err, errlen, "%s: level %s is not supported yet",
			 mddev->name, md_level_name(sb->level));
		return -EINVAL;
	}
	/* md_sb_load checked it; arrays made otherwise (create, tests) too:
	 * the levels keep per-member arrays of raid_disks on the stack */
	if (sb->raid_disks < 1 || sb->raid_disks > MD_SB_MAX_ROLES) {
		snprintf(err, errlen, "%s: raid_disks %u is outside 1..%d", mddev->name,
			 sb->raid_disks, MD_SB_MAX_ROLES);
		return -EINVAL;
	}
	mddev->level = sb->level;
	mddev->layout = sb->layout;
	mddev->chunk_sectors = sb->chunk_sectors;
	mddev->raid_disks = sb->raid_disks;
	mddev->dev_sectors = sb->size;
	mddev->logical_block_size = sb->logical_block_size ? sb->logical_block_size : 512;
	mddev->events = sb->events;
	mddev->resync_offset = sb->resync_offset;
	mddev->resync_max = MD_MAX_SECTOR;
	if (!mddev->pers->sync_request)
		mddev->resync_offset = MD_MAX_SECTOR;   /* nothing to resync */
	mddev->in_sync = true;
	mddev->safe_mode_delay_ms = 200;
	mddev->max_corr_read_errors = MD_DEFAULT_MAX_CORRECTED_READ_ERRORS;
	mddev->sync_speed_min = 0;     /* the system's default */
	mddev->sync_speed_max = 0;
	pthread_mutex_init(&mddev->sb_lock, NULL);
	md_cond_init(&mddev->sb_cond);
	md_cond_init(&mddev->bitmap_cond);
	pthread_mutex_init(&mddev->sync_lock, NULL);
	md_cond_init(&mddev->sync_cond);
	pthread_mutex_init(&mddev->io_lock, NULL);
	md_cond_init(&mddev->io_cond);
	pthread_mutex_init(&mddev->reconfig_lock, NULL);

	if (!mddev->replacements)
		mddev->replacements = g_new0(struct md_rdev *_Atomic,
					     mddev->raid_disks);
	int r = mddev->pers->run(mddev, err, errlen);
	if (r < 0)
		return r;
	if (mddev->bitmap_file) {
		mddev->bitmap_ops = &bitmap_ops;   /* llbitmap has no file form */
		r = mddev->bitmap_ops->load(mddev, err, errlen);
		if (r < 0)
			return r;
	} else if ((sb->feature_map & MD_FEATURE_BITMAP_OFFSET) && sb->bitmap_offset) {
		mddev->bitmap_ops = bitmap_ops_on_disk(mddev);
		r = mddev->bitmap_ops->load(mddev, err, errlen);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Threads start apart from md_run so that the daemon can fork first. */
void md_start(struct mddev *mddev)
{
	md_safemode_start(mddev);
	bitmap_thread_start(mddev);
	md_sync_start(mddev);
}

/* Stop cleanly: sync thread checkpointed, data durable, superblocks clean
 * with events advanced. */
void md_stop(struct mddev *mddev)
{
	md_sync_stop(mddev);
	if (!mddev->ro && mddev->pers->writeback)
		mddev->pers->writeback(mddev);
	/* Before the superblocks say clean: the level's own threads (raid5d)
	 * may be finishing a write. */
	if (mddev->pers && mddev->pers->free)
		mddev->pers->free(mddev);
	mddev->private = NULL;
	pthread_mutex_lock(&mddev->sb_lock);
	mddev->stopping = true;
	pthread_cond_broadcast(&mddev->sb_cond);
	pthread_cond_broadcast(&mddev->bitmap_cond);
	pthread_mutex_unlock(&mddev->sb_lock);
	if (mddev->safemode_thread)
		g_thread_join(mddev->safemode_thread);
	mddev->safemode_thread = NULL;
	if (mddev->bitmap_thread)
		g_thread_join(mddev->bitmap_thread);
	mddev->bitmap_thread = NULL;
	/* md_bitmap_flush: the idle bits cleared before the clean superblocks */
	if (!mddev->ro && !atomic_load(&mddev->power_off) && mddev->bitmap_ops &&
	    mddev->bitmap_ops->flush)
		mddev->bitmap_ops->flush(mddev);

	pthread_mutex_lock(&mddev->sb_lock);
	mddev->in_sync = true;
	update_sb_locked(mddev, false);
	pthread_mutex_unlock(&mddev->sb_lock);
}

/* Release an array that md_stop has stopped, or that never started. */
void md_free(struct mddev *mddev)
{
	/* The level first: its threads may still be using the members. */
	if (mddev->pers && mddev->pers->free && mddev->private)
		mddev->pers->free(mddev);
	for (guint i = 0; i < mddev->rdevs->len; i++)
		rdev_close(g_ptr_array_index(mddev->rdevs, i));
	g_ptr_array_free(mddev->rdevs, TRUE);
	if (mddev->removed) {
		for (guint i = 0; i < mddev->removed->len; i++)
			rdev_close(g_ptr_array_index(mddev->removed, i));
		g_ptr_array_free(mddev->removed, TRUE);
	}
	if (mddev->bitmap_ops)
		mddev->bitmap_ops->destroy(mddev);
	rdev_close(mddev->bitmap_file);
	g_free(mddev->slots);
	g_free(mddev->replacements);
	g_free(mddev->name);
	g_free(mddev);
}
