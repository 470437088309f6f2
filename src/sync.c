/* The sync thread, md_do_sync's counterpart: resync after an unclean stop,
 * recovery of members not in sync, and check/repair on request.  It walks
 * the component one window at a time (the level holds normal IO off the
 * window) at up to sync_speed_max, yielding to foreground IO once above
 * sync_speed_min, and checkpoints resync_offset (recovery: each recovering
 * member's recovery_offset) so a restart resumes.  An interrupted check or
 * repair goes on from resync_min at the next request, as md's; a restart
 * forgets it, as md does. */
#include <errno.h>
#include <string.h>
#include "raid.h"

#define SYNC_WINDOW_SECTORS 2048            /* 1 MiB per sync_request */
#define CHECKPOINT_US (2 * G_USEC_PER_SEC)
/* md_do_sync's speed marks: SYNC_MARKS of them, one every SYNC_MARK_STEP. */
#define SYNC_MARK_STEP_US (3 * G_USEC_PER_SEC)
/* How long the sync stands aside for foreground IO before it looks again
 * (md's msleep before it waited on recovery_active instead). */
#define SYNC_YIELD_US (100 * 1000)
/* md's is_mddev_idle: more foreground sectors than this since the last
 * look means busy. */
#define SYNC_IDLE_SECTORS 64

static const char *const action_names[] = {
	[ACTION_IDLE] = "idle", [ACTION_FROZEN] = "frozen",
	[ACTION_RESYNC] = "resync", [ACTION_RECOVER] = "recover",
	[ACTION_CHECK] = "check", [ACTION_REPAIR] = "repair",
};

const char *md_sync_action_name(enum sync_action action)
{
	return action_names[action];
}

int md_sync_action_parse(const char *s, enum sync_action *action)
{
	for (unsigned i = 0; i < G_N_ELEMENTS(action_names); i++) {
		if (strcmp(s, action_names[i]) == 0) {
			*action = i;
			return 0;
		}
	}
	return -EINVAL;
}

/* A member with a role but not in sync: md's recovering member. */
static bool rdev_recovering(const struct md_rdev *rdev)
{
	return rdev_usable(rdev) && !rdev_in_sync(rdev);
}

static bool recovery_needed(struct mddev *mddev)
{
	for (int i = 0; i < mddev->raid_disks; i++)
		if (rdev_recovering(mddev->slots[i]) || md_replacing(mddev, i))
			return true;
	return false;
}

/* A resync needs redundancy left to make consistent: some in-sync member
 * the array could still lose.  raid4/5/6 with a member missing (raid1 with
 * a single mirror) have none; their resync_offset stays as it is. */
static bool resync_possible(struct mddev *mddev)
{
	for (int i = 0; i < mddev->raid_disks; i++)
		if (rdev_in_sync(mddev->slots[i]) && md_enough(mddev, i))
			return true;
	return false;
}

/* md_choose_sync_action: a resync owed first, then recovery, which needs
 * the data still whole to rebuild from.  A member failing from now on
 * interrupts what is chosen (md clears MD_RECOVERY_INTR as it starts it). */
static enum sync_action needed_action(struct mddev *mddev)
{
	atomic_store(&mddev->recovery_intr, false);
	if (mddev->resync_offset != MD_MAX_SECTOR && resync_possible(mddev))
		return ACTION_RESYNC;
	if (recovery_needed(mddev) && md_enough(mddev, -1))
		return ACTION_RECOVER;
	if (atomic_load(&mddev->bitmap_sync_pending) && resync_possible(mddev)) {
		atomic_store(&mddev->bitmap_sync_pending, false);
		return ACTION_RESYNC;
	}
	return ACTION_IDLE;
}

/* Caller holds sync_lock. */
static bool interrupted_locked(struct mddev *mddev)
{
	return mddev->stopping || mddev->sync_frozen ||
	       mddev->sync_action == ACTION_IDLE ||
	       atomic_load(&mddev->recovery_intr);
}

/* md_do_sync's wait at resync_max, which user space controls: as long
 * as it takes.  Timed, as not every interruption signals sync_cond. */
static void wait_resync_max(struct mddev *mddev, uint64_t s)
{
	pthread_mutex_lock(&mddev->sync_lock);
	while (s >= atomic_load(&mddev->resync_max) && !interrupted_locked(mddev))
		md_cond_wait_until(&mddev->sync_cond, &mddev->sync_lock,
				   g_get_monotonic_time() + G_USEC_PER_SEC);
	pthread_mutex_unlock(&mddev->sync_lock);
}

static bool sync_interrupted(struct mddev *mddev)
{
	pthread_mutex_lock(&mddev->sync_lock);
	bool stop = interrupted_locked(mddev);
	pthread_mutex_unlock(&mddev->sync_lock);
	return stop;
}

/* md's is_mddev_idle: no more than SYNC_IDLE_SECTORS of foreground IO
 * since it last found the array busy (init: start counting now). */
bool md_sync_idle(struct mddev *mddev, struct sync_state *st, bool init)
{
	uint64_t events = atomic_load(&mddev->fg_sectors);

	if (init || events - st->last_events > SYNC_IDLE_SECTORS) {
		st->last_events = events;
		return false;
	}
	return true;
}

void md_sync_marks_init(struct mddev *mddev, struct sync_state *st,
			uint64_t pos, gint64 now)
{
	for (int m = 0; m < SYNC_MARKS; m++) {
		st->mark_us[m] = now;
		st->mark_pos[m] = pos;
	}
	st->last_mark = 0;
	atomic_store(&mddev->resync_mark, pos);
	atomic_store(&mddev->resync_mark_us, now);
	md_sync_idle(mddev, st, true);
}

/* md steps its marks every SYNC_MARK_STEP: resync_mark becomes the oldest,
 * so sync_speed is the rate over the last half minute. */
static void mark_step(struct mddev *mddev, struct sync_state *st, uint64_t pos,
		      gint64 now)
{
	if (now < st->mark_us[st->last_mark] + SYNC_MARK_STEP_US)
		return;
	int next = (st->last_mark + 1) % SYNC_MARKS;
	atomic_store(&mddev->resync_mark, st->mark_pos[next]);
	atomic_store(&mddev->resync_mark_us, st->mark_us[next]);
	st->mark_us[next] = now;
	st->mark_pos[next] = pos;
	st->last_mark = next;
}

/* md_do_sync's currspeed, KiB/s since the oldest mark (+1 s, +1 as md). */
static uint64_t currspeed(struct mddev *mddev, uint64_t pos, gint64 now)
{
	uint64_t done = pos - atomic_load(&mddev->resync_mark);
	gint64 secs = (now - atomic_load(&mddev->resync_mark_us)) / G_USEC_PER_SEC;

	return done / 2 / (uint64_t)(MAX(secs, 0) + 1) + 1;
}

static unsigned speed_limit(unsigned v, unsigned system)
{
	return v ? v : system;
}

gint64 md_sync_delay(struct mddev *mddev, struct sync_state *st, uint64_t pos,
		     gint64 now)
{
	/* The hard limit, kept since the newest mark (not md's coarser
	 * currspeed, whose first second allows a whole second's worth). */
	unsigned max = speed_limit(mddev->sync_speed_max, MD_SPEED_MAX_DEFAULT);
	uint64_t done = pos - st->mark_pos[st->last_mark];
	gint64 due = st->mark_us[st->last_mark] +
		     (gint64)(done / 2 * G_USEC_PER_SEC / max);
	if (due > now)
		return due - now;
	mark_step(mddev, st, pos, now);
	/* Above the floor, foreground IO goes first. */
	if (currspeed(mddev, pos, now) >
		speed_limit(mddev->sync_speed_min, MD_SPEED_MIN_DEFAULT) &&
	    !md_sync_idle(mddev, st, false))
		return SYNC_YIELD_US;
	return 0;
}

/* md's sync_speed: KiB/s since the oldest mark, over whole seconds. */
unsigned md_sync_speed(struct mddev *mddev, gint64 now)
{
	uint64_t mark = atomic_load(&mddev->resync_mark);
	uint64_t pos = atomic_load(&mddev->curr_resync);
	gint64 secs = (now - atomic_load(&mddev->resync_mark_us)) / G_USEC_PER_SEC;

	if (pos < mark || pos - mark > mddev->dev_sectors)
		return 0;     /* a pass starting: its marks are not set yet */
	return (pos - mark) / 2 / (uint64_t)MAX(secs, 1);
}

/* Each delay is waited out whole: a wakeup of sync_cond (llbitmap sends
 * one for every chunk a write makes NeedSync) must not have md_sync_idle
 * look again microseconds later and find the array idle. */
void md_sync_throttle(struct mddev *mddev, struct sync_state *st, uint64_t pos)
{
	gint64 now = g_get_monotonic_time(), d;

	while ((d = md_sync_delay(mddev, st, pos, now)) > 0) {
		gint64 until = now + d;
		bool stop;
		pthread_mutex_lock(&mddev->sync_lock);
		while (!(stop = interrupted_locked(mddev)) &&
		       g_get_monotonic_time() < until)
			md_cond_wait_until(&mddev->sync_cond, &mddev->sync_lock,
					  until);
		pthread_mutex_unlock(&mddev->sync_lock);
		if (stop)
			return;
		now = g_get_monotonic_time();
	}
}

/* The members a recovery pass brings up to date: those recovering when it
 * starts (one added later has missed the windows already done), the
 * roles' members in targets[0, raid_disks), their replacements in
 * targets[raid_disks, 2 * raid_disks). */
static void recovery_targets(struct mddev *mddev, struct md_rdev **targets)
{
	int n = mddev->raid_disks;

	for (int i = 0; i < n; i++) {
		targets[i] = rdev_recovering(mddev->slots[i]) ? mddev->slots[i]
							      : NULL;
		targets[n + i] = md_replacing(mddev, i) ? md_replacement(mddev, i)
							: NULL;
	}
}

static int nr_targets(struct mddev *mddev)
{
	return 2 * mddev->raid_disks;
}

/* Record progress in the superblocks: resync_offset, or the recovery
 * targets' recovery_offset (a pass starts at the least of them: the others
 * move only once it passes them). */
static void checkpoint(struct mddev *mddev, enum sync_action action,
		       struct md_rdev **targets, uint64_t sector)
{
	/* md_update_sb makes what the pass wrote durable before recording it. */
	pthread_mutex_lock(&mddev->sb_lock);
	if (action == ACTION_RESYNC && (sector > mddev->resync_offset ||
					mddev->resync_offset == MD_MAX_SECTOR))
		mddev->resync_offset = sector;
	for (int i = 0; action == ACTION_RECOVER && i < nr_targets(mddev); i++) {
		struct md_rdev *rdev = targets[i];
		/* A replacement whose member failed has lost its copy. */
		if (i >= mddev->raid_disks &&
		    !md_replacing(mddev, i - mddev->raid_disks))
			continue;
		if (rdev_recovering(rdev) && rdev->recovery_offset < sector)
			rdev->recovery_offset = sector;
	}
	pthread_mutex_unlock(&mddev->sb_lock);
	md_update_sb(mddev);
}

/* md's spare_active: the targets, recovered to the end, are in sync and
 * the array no longer degraded by them; the replacements take their
 * roles. */
static void recovery_done(struct mddev *mddev, struct md_rdev **targets)
{
	for (int i = 0; i < mddev->raid_disks; i++)
		if (rdev_recovering(targets[mddev->raid_disks + i]))
			md_replace_done(mddev, targets[mddev->raid_disks + i]);
	pthread_mutex_lock(&mddev->sb_lock);
	for (int i = 0; i < mddev->raid_disks; i++) {
		struct md_rdev *rdev = targets[i];
		if (!rdev_recovering(rdev))
			continue;
		rdev->recovery_offset = MD_MAX_SECTOR;
		rdev->bitmap_recovery = false;
		atomic_fetch_or(&rdev->flags, RDEV_IN_SYNC);
		atomic_fetch_sub(&mddev->degraded, 1);
		g_message("%s: %s recovered", mddev->name, rdev->name);
	}
	pthread_mutex_unlock(&mddev->sb_lock);
	md_update_sb(mddev);
}

static bool requested(enum sync_action action)
{
	return action == ACTION_CHECK || action == ACTION_REPAIR;
}

/* md_do_sync's j: a resync from resync_offset, a recovery from the least
 * recovery_offset of its targets, a check or repair from resync_min. */
static uint64_t pass_start(struct mddev *mddev, enum sync_action action,
			   struct md_rdev **targets)
{
	uint64_t start = mddev->dev_sectors;

	/* md_do_sync: with a bitmap a resync the array does not owe (the
	 * bitmap asked for it) goes over everything, the bitmap bounding it */
	if (action == ACTION_RESYNC)
		return mddev->resync_offset == MD_MAX_SECTOR ? 0 : mddev->resync_offset;
	if (requested(action))
		return MIN(atomic_load(&mddev->resync_min), mddev->dev_sectors);
	for (int i = 0; action == ACTION_RECOVER && i < nr_targets(mddev); i++)
		if (targets[i])
			start = MIN(start, targets[i]->recovery_offset);
	return start;
}

/* Choose what the sync thread runs next (caller holds sync_lock, or the
 * thread is not started), showing from now on where it will start. */
static void set_action(struct mddev *mddev, enum sync_action action)
{
	struct md_rdev **targets = g_new(struct md_rdev *, nr_targets(mddev));

	recovery_targets(mddev, targets);
	uint64_t start = action == ACTION_IDLE ? 0
			 : pass_start(mddev, action, targets);
	g_free(targets);
	atomic_store(&mddev->curr_resync, start);
	atomic_store(&mddev->resync_completed, start);
	atomic_store(&mddev->resync_mark, start);
	atomic_store(&mddev->resync_mark_us, g_get_monotonic_time());
	atomic_store(&mddev->sync_action, action);
}

static bool checkpointed(enum sync_action action)
{
	return action == ACTION_RESYNC || action == ACTION_RECOVER;
}

/* md's curr_resync_completed moves on: the superblocks record it for a
 * resync or recovery; a check or repair only shows it. */
static void completed(struct mddev *mddev, enum sync_action action,
		      struct md_rdev **targets, uint64_t s)
{
	if (checkpointed(action))
		checkpoint(mddev, action, targets, s);
	atomic_store(&mddev->resync_completed, s);
}

/* The replacements' window that the member it replaces cannot give (bad
 * blocks, a read error): md rebuilds it from the other members; here it
 * is recorded bad on the replacement, whose role's data the others still
 * hold. */
static bool copy_failed(struct mddev *mddev, struct md_rdev *rep,
			uint64_t sector, uint64_t sectors)
{
	struct mio t = { .rdev = rep, .off = sector << SECTOR_SHIFT,
			 .len = sectors << SECTOR_SHIFT };

	return md_record_no_source(mddev, &t, 1);
}

/* Copy [sector, sector + sectors) of role slot's member onto its
 * replacement, in the kernel when it can; 0 or -errno. */
static int copy_to_replacement(struct mddev *mddev, int slot, uint64_t sector,
			       uint64_t sectors, void *buf)
{
	struct md_rdev *old = mddev->slots[slot];
	struct md_rdev *rep = md_replacement(mddev, slot);
	size_t len = sectors << SECTOR_SHIFT;
	struct mio m = { .rdev = old, .off = sector << SECTOR_SHIFT, .buf = buf,
			 .len = len };

	if (!rdev_readable(old, sector, sectors))
		return copy_failed(mddev, rep, sector, sectors) ? 0 : -EIO;
	if (!rdev_has_badblock(rep, sector, sectors) &&
	    rdev_copy(old, rep, m.off, len) == 0)
		return 0;
	if (mio_run(&m, 1) < 0)
		return copy_failed(mddev, rep, sector, sectors) ? 0 : -EIO;
	m.rdev = rep;
	m.write = true;
	md_write_batch(mddev, &m, 1, 0);
	return 0;
}

/* How far the bitmap is probed at a time: the smallest chunk of a
 * bitmap that skips (llbitmap's 64 KiB). */
#define SKIP_PROBE_SECTORS 128

/* The sectors from s (before end) of slot's member that all need copying
 * onto its replacement, or (*skip) that none do, by the bitmap of a level
 * whose members hold the array out of order (member_bitmap_skips). */
static uint64_t replace_run(struct mddev *mddev, int slot, uint64_t s,
			    uint64_t end, bool *skip)
{
	bool (*skips)(struct mddev *, int, uint64_t, uint64_t) =
		mddev->pers->member_bitmap_skips;
	uint64_t e = s;

	*skip = false;
	if (!skips || !mddev->bitmap_ops)
		return end - s;
	do {
		uint64_t next = MIN(end, (e / SKIP_PROBE_SECTORS + 1) * SKIP_PROBE_SECTORS);
		bool k = skips(mddev, slot, e, next - e);
		if (e == s)
			*skip = k;
		else if (k != *skip)
			break;
		e = next;
	} while (e < end);
	return e - s;
}

/* md's recovery onto a replacement reads the member it replaces while
 * that one works (raid1's and raid10's sync_request, raid5's
 * want_replace): the role's bytes, whatever the level keeps there.  The
 * level holds normal IO off the window meanwhile.  A replacement failing
 * only stops being copied. */
static int64_t copy_replacements(struct mddev *mddev, uint64_t sector,
				 uint64_t sectors)
{
	void *buf = NULL;
	int r = 0;

	for (int i = 0; i < mddev->raid_disks && r == 0; i++) {
		if (!md_replacing(mddev, i))
			continue;
		if (!buf)
			buf = g_malloc(sectors << SECTOR_SHIFT);
		for (uint64_t s = sector, n; s < sector + sectors && r == 0; s += n) {
			bool skip;
			n = replace_run(mddev, i, s, sector + sectors, &skip);
			if (!skip)
				r = copy_to_replacement(mddev, i, s, n, buf);
		}
	}
	g_free(buf);
	return r < 0 ? r : (int64_t)sectors;
}

static bool any_target(struct md_rdev **targets, int n)
{
	for (int i = 0; i < n; i++)
		if (targets[i])
			return true;
	return false;
}

/* One window: the level's sync_request, and for a recovery with
 * replacements among its targets, their copy over the same sectors. */
static int64_t sync_window(struct mddev *mddev, uint64_t sector,
			   uint64_t max_sectors, enum sync_action action,
			   struct md_rdev **targets)
{
	int n = mddev->raid_disks;
	bool replace = action == ACTION_RECOVER && mddev->pers->hold_window &&
		       any_target(targets + n, n);
	int64_t r = max_sectors;

	if (!replace || any_target(targets, n))
		r = mddev->pers->sync_request(mddev, sector, max_sectors, action);
	if (replace && r > 0)
		r = mddev->pers->hold_window(mddev, sector, r, copy_replacements);
	return r;
}

/* md's sync_request asks the bitmap (md_bitmap_start_sync) on a resync,
 * and on a recovery when every member it rebuilds was re-added to its
 * role (md's fullsync otherwise); a check or repair reads everything. */
static bool bitmap_bounds(struct mddev *mddev, enum sync_action action,
			  struct md_rdev **targets)
{
	int n = mddev->raid_disks;

	if (!mddev->bitmap_ops || !mddev->bitmap_ops->start_sync ||
	    !(mddev->pers->bitmap_bounds_sync || mddev->pers->bitmap_synced_below))
		return false;
	if (action == ACTION_RESYNC)
		return true;
	if (action != ACTION_RECOVER || any_target(targets + n, n))
		return false;
	for (int i = 0; i < n; i++)
		if (targets[i] && !targets[i]->bitmap_recovery)
			return false;
	return true;
}

/* md's still_degraded: a role stays without a working member after this
 * pass, so the bits must stay for it. */
static bool still_degraded(struct mddev *mddev)
{
	for (int i = 0; i < mddev->raid_disks; i++)
		if (!rdev_usable(mddev->slots[i]))
			return true;
	return false;
}

/* The sectors from s the bitmap lets the pass skip (0: sync them), and
 * in *n at most how many to sync at once. */
static uint64_t bitmap_skip(struct mddev *mddev, uint64_t s, uint64_t *n,
			    bool degraded)
{
	uint64_t blocks = 0;

	if (mddev->bitmap_ops->start_sync(mddev, s, &blocks, degraded)) {
		if (blocks)
			*n = MIN(*n, blocks);
		return 0;
	}
	return blocks ? blocks : *n;
}

/* md_do_sync's skip_sync_blocks, for every action: what the bitmap says
 * was never written (llbitmap's Unwritten) has nothing to sync.  md asks
 * before each small sync_request; a window here is larger, so it ends
 * where the bitmap would skip again (probed every SKIP_PROBE_SECTORS),
 * lest a check read what was never written. */
static uint64_t unwritten_skip(struct mddev *mddev, uint64_t s, uint64_t *n)
{
	const struct bitmap_operations *ops = mddev->bitmap_ops;

	if (!ops || !ops->skip_sync_blocks || !mddev->pers->bitmap_bounds_sync)
		return 0;
	uint64_t skip = ops->skip_sync_blocks(mddev, s);
	if (skip)
		return skip;
	uint64_t p = (s / SKIP_PROBE_SECTORS + 1) * SKIP_PROBE_SECTORS;
	for (; p < s + *n; p += SKIP_PROBE_SECTORS)
		if (ops->skip_sync_blocks(mddev, p)) {
			*n = p - s;
			break;
		}
	return 0;
}

/* The bitmap sector below which a pass that reached s synced all. */
static uint64_t bitmap_done(struct mddev *mddev, uint64_t s, enum sync_action action)
{
	if (mddev->pers->bitmap_synced_below)
		return mddev->pers->bitmap_synced_below(mddev, s, action);
	return s;
}

static void bitmap_pass_end(struct mddev *mddev, enum sync_action action,
			    uint64_t s, uint64_t end)
{
	const struct bitmap_operations *ops = mddev->bitmap_ops;

	if (s >= end && ops->close_sync)
		ops->close_sync(mddev);
	else if (ops->cond_end_sync)
		ops->cond_end_sync(mddev, bitmap_done(mddev, s, action), true);
}

/* One pass of action over the component: 1 when it finished, 0 when
 * interrupted, -errno when it failed. */
static int sync_pass(struct mddev *mddev, enum sync_action action,
		     struct md_rdev **targets)
{
	uint64_t start = pass_start(mddev, action, targets);
	uint64_t end = mddev->dev_sectors;
	gint64 last_ckpt = g_get_monotonic_time();
	struct sync_state st;
	uint64_t s = start;
	int64_t r = 0;

	if (requested(action))
		atomic_store(&mddev->resync_mismatches, 0);
	bool bounded = bitmap_bounds(mddev, action, targets);
	bool degraded = bounded && (action == ACTION_RESYNC
				    ? atomic_load(&mddev->degraded) > 0
				    : still_degraded(mddev));
	uint64_t synced = 0;

	mddev->sync_bitmap_bounded = bounded;
	mddev->sync_bitmap_degraded = degraded;
	mddev->sync_skipped = 0;
	if (bounded && mddev->bitmap_ops->cond_end_sync)
		mddev->bitmap_ops->cond_end_sync(mddev, 0, false);
	md_sync_marks_init(mddev, &st, start, last_ckpt);
	while (s < end) {
		if (s >= atomic_load(&mddev->resync_max)) {
			/* md: sync_completed shows sync_max reached */
			completed(mddev, action, targets, s);
			wait_resync_max(mddev, s);
		}
		if (sync_interrupted(mddev))
			break;
		uint64_t stop = MIN(end, atomic_load(&mddev->resync_max));
		uint64_t n = MIN(stop - s, SYNC_WINDOW_SECTORS);
		uint64_t skip = unwritten_skip(mddev, s, &n);

		if (!skip && bounded && !mddev->pers->bitmap_synced_below)
			skip = bitmap_skip(mddev, s, &n, degraded);
		if (skip) {
			s = MIN(stop, s + skip);
			atomic_store(&mddev->curr_resync, s);
			continue;
		}
		md_io_enter(mddev);
		r = sync_window(mddev, s, n, action, targets);
		md_io_exit(mddev);
		if (r < 0 && atomic_load(&mddev->recovery_intr)) {
			r = 0;   /* a member failed under it: choose again */
			break;
		}
		if (r < 0) {
			if (!atomic_load(&mddev->power_off))
				g_warning("%s: %s stopped at sector %" PRIu64
					  ": %s", mddev->name,
					  md_sync_action_name(action), s,
					  g_strerror(-r));
			break;
		}
		s += r;
		synced += r - MIN(mddev->sync_skipped, (uint64_t)r);
		mddev->sync_skipped = 0;
		atomic_store(&mddev->curr_resync, s);
		if (bounded && mddev->bitmap_ops->cond_end_sync)
			mddev->bitmap_ops->cond_end_sync(mddev, bitmap_done(mddev, s, action),
							 false);
		if (g_get_monotonic_time() - last_ckpt > CHECKPOINT_US) {
			completed(mddev, action, targets, s);
			last_ckpt = g_get_monotonic_time();
		}
		/* md's speed counts the IO done (io_sectors), not what the
		 * bitmap let the pass skip */
		md_sync_throttle(mddev, &st, start + synced);
	}
	completed(mddev, action, targets, s);
	mddev->sync_bitmap_bounded = false;
	if (bounded) {
		bitmap_pass_end(mddev, action, s, end);
		g_message("%s: %s by the bitmap: %" PRIu64 " of %" PRIu64
			  " sectors synced", mddev->name,
			  md_sync_action_name(action), synced, s - start);
	}
	/* md: a requested pass that ends early leaves resync_min where it
	 * stopped, for the next request; one that finishes, 0. */
	if (requested(action))
		atomic_store(&mddev->resync_min, s >= end ? 0 : s);
	if (s >= end)
		atomic_store(&mddev->resync_max, MD_MAX_SECTOR);
	return r < 0 ? (int)r : s >= end;
}

static bool any_replacing(struct mddev *mddev)
{
	for (int i = 0; i < mddev->raid_disks; i++)
		if (md_replacing(mddev, i))
			return true;
	return false;
}

/* md_check_recovery between passes: spares take the empty roles or
 * replace the members that want it, and a recovery starts onto them (or
 * onto a replacement md_slot_store made) when nothing else runs.  Not
 * frozen: md adds no spares then.  sync_lock not held. */
void md_check_recovery(struct mddev *mddev)
{
	atomic_store(&mddev->recovery_needed, false);
	if (mddev->ro || !mddev->pers->sync_request || mddev->sync_frozen ||
	    (!md_add_spares(mddev) && !any_replacing(mddev) &&
	     !atomic_load(&mddev->bitmap_sync_pending)))
		return;
	pthread_mutex_lock(&mddev->sync_lock);
	if (mddev->sync_action == ACTION_IDLE)
		mddev->sync_action = needed_action(mddev);
	pthread_mutex_unlock(&mddev->sync_lock);
}

static enum sync_action wait_for_work(struct mddev *mddev)
{
	pthread_mutex_lock(&mddev->sync_lock);
	while (!mddev->stopping &&
	       (mddev->sync_frozen || mddev->sync_action == ACTION_IDLE)) {
		if (atomic_load(&mddev->recovery_needed) && !mddev->sync_frozen) {
			pthread_mutex_unlock(&mddev->sync_lock);
			md_check_recovery(mddev);
			pthread_mutex_lock(&mddev->sync_lock);
			continue;
		}
		pthread_cond_wait(&mddev->sync_cond, &mddev->sync_lock);
	}
	enum sync_action a = mddev->stopping ? ACTION_IDLE : mddev->sync_action;
	pthread_mutex_unlock(&mddev->sync_lock);
	return a;
}

static gpointer sync_thread(gpointer arg)
{
	struct mddev *mddev = arg;
	/* on the heap: raid_disks comes from a superblock */
	struct md_rdev **targets = g_new(struct md_rdev *, nr_targets(mddev));
	enum sync_action action;

	while ((action = wait_for_work(mddev)) != ACTION_IDLE) {
		recovery_targets(mddev, targets);
		mddev->last_sync_action = action;
		int r = sync_pass(mddev, action, targets);
		bool done = r > 0;
		bool intr = !done && atomic_load(&mddev->recovery_intr);
		if (intr && !mddev->stopping)
			g_message("%s: %s interrupted: a member failed",
				  mddev->name, md_sync_action_name(action));
		if (done && action == ACTION_RESYNC) {
			pthread_mutex_lock(&mddev->sb_lock);
			mddev->resync_offset = MD_MAX_SECTOR;
			pthread_mutex_unlock(&mddev->sb_lock);
			md_update_sb(mddev);
		}
		if (done && action == ACTION_RECOVER)
			recovery_done(mddev, targets);
		if (done || intr)
			md_check_recovery(mddev);
		pthread_mutex_lock(&mddev->sync_lock);
		/* After a member failed, as md_check_recovery once it has
		 * reaped the interrupted pass: the faulty member is out, an
		 * owed resync or recovery goes on from its checkpoint when
		 * the array can still do it, and a check or repair (md's
		 * requested sync) ends there. */
		if (done || intr || mddev->sync_action == ACTION_IDLE)
			set_action(mddev, needed_action(mddev));
		else if (r < 0)
			/* Retrying at once would fail the same way; what it
			 * owes stays recorded for the next start. */
			set_action(mddev, ACTION_IDLE);
		pthread_cond_broadcast(&mddev->sync_cond);
		pthread_mutex_unlock(&mddev->sync_lock);
	}
	g_free(targets);
	return NULL;
}

/* Start the thread; an array that was not clean starts resyncing at once,
 * one with members not in sync recovering them. */
void md_sync_start(struct mddev *mddev)
{
	if (mddev->ro || !mddev->pers->sync_request)
		return;
	md_bitmap_check_wanted(mddev);    /* what the load found to sync */
	set_action(mddev, needed_action(mddev));
	/* Spares found at mount take the empty roles first. */
	atomic_store(&mddev->recovery_needed, true);
	mddev->sync_thread = g_thread_new("md_sync", sync_thread, mddev);
}

/* Interrupt whatever runs (checkpointed) and end the thread. */
void md_sync_stop(struct mddev *mddev)
{
	if (!mddev->sync_thread)
		return;
	pthread_mutex_lock(&mddev->sync_lock);
	mddev->stopping = true;
	pthread_cond_broadcast(&mddev->sync_cond);
	pthread_mutex_unlock(&mddev->sync_lock);
	g_thread_join(mddev->sync_thread);
	mddev->sync_thread = NULL;
}

/* sync_action writes as md's action_store: idle interrupts, frozen pauses;
 * while a pass runs the others are EBUSY; else they unfreeze and start
 * what is owed (a resync, then a recovery) before a requested check or
 * repair, and nothing when nothing is owed, as md_check_recovery does. */
int md_sync_request_action(struct mddev *mddev, enum sync_action action)
{
	if (!mddev->sync_thread)
		return -EINVAL;
	pthread_mutex_lock(&mddev->sync_lock);
	bool running = !mddev->sync_frozen && mddev->sync_action != ACTION_IDLE;
	int r = 0;
	switch (action) {
	case ACTION_FROZEN:
		mddev->sync_frozen = true;
		break;
	case ACTION_IDLE:
		/* md restarts an owed resync or recovery at once. */
		mddev->sync_frozen = false;
		if (mddev->sync_action != ACTION_RESYNC &&
		    mddev->sync_action != ACTION_RECOVER)
			set_action(mddev, ACTION_IDLE);
		break;
	default:
		if (running) {
			r = -EBUSY;
			break;
		}
		mddev->sync_frozen = false;
		enum sync_action owed = needed_action(mddev);
		set_action(mddev, owed == ACTION_IDLE && requested(action) ? action
									    : owed);
		break;
	}
	if (action != ACTION_FROZEN)
		atomic_store(&mddev->recovery_needed, true);
	pthread_cond_broadcast(&mddev->sync_cond);
	pthread_mutex_unlock(&mddev->sync_lock);
	return r;
}

bool md_sync_running(struct mddev *mddev)
{
	pthread_mutex_lock(&mddev->sync_lock);
	bool running = !mddev->sync_frozen && mddev->sync_action != ACTION_IDLE;
	pthread_mutex_unlock(&mddev->sync_lock);
	return running;
}

/* Caller holds sync_lock. */
static bool pass_running_locked(struct mddev *mddev)
{
	return mddev->sync_thread && !mddev->sync_frozen &&
	       mddev->sync_action != ACTION_IDLE;
}

int md_sync_set_min(struct mddev *mddev, uint64_t sector)
{
	int r = 0;

	pthread_mutex_lock(&mddev->sync_lock);
	if (sector > atomic_load(&mddev->resync_max))
		r = -EINVAL;
	else if (pass_running_locked(mddev))
		r = -EBUSY;
	else
		atomic_store(&mddev->resync_min, sector);
	pthread_mutex_unlock(&mddev->sync_lock);
	return r;
}

int md_sync_set_max(struct mddev *mddev, uint64_t sector)
{
	int r = 0;

	pthread_mutex_lock(&mddev->sync_lock);
	if (sector == MD_MAX_SECTOR)
		;
	else if (sector < atomic_load(&mddev->resync_min) ||
		 (mddev->chunk_sectors && sector % mddev->chunk_sectors))
		r = -EINVAL;
	else if (sector < atomic_load(&mddev->resync_max) &&
		 pass_running_locked(mddev) && !mddev->ro)
		r = -EBUSY;
	if (r == 0) {
		atomic_store(&mddev->resync_max, sector);
		pthread_cond_broadcast(&mddev->sync_cond);
	}
	pthread_mutex_unlock(&mddev->sync_lock);
	return r;
}
