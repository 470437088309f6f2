/* The sync thread, md_do_sync's counterpart: resync after an unclean stop,
 * recovery of members not in sync, and check/repair on request.  It walks
 * the component one window at a time (the level holds normal IO off the
 * window), throttled to sync_speed_max, checkpointing resync_offset
 * (recovery: each recovering member's recovery_offset) so a restart
 * resumes. */
#include <errno.h>
#include <string.h>
#include "raid.h"

#define SYNC_WINDOW_SECTORS 2048            /* 1 MiB per sync_request */
#define CHECKPOINT_US (2 * G_USEC_PER_SEC)

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
		if (rdev_recovering(mddev->slots[i]))
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
	return ACTION_IDLE;
}

static bool sync_interrupted(struct mddev *mddev)
{
	pthread_mutex_lock(&mddev->sync_lock);
	bool stop = mddev->stopping || mddev->sync_frozen ||
		    mddev->sync_action == ACTION_IDLE ||
		    atomic_load(&mddev->recovery_intr);
	pthread_mutex_unlock(&mddev->sync_lock);
	return stop;
}

/* Sleep as needed to keep the pass at sync_speed_max KiB/s. */
static void sync_throttle(struct mddev *mddev, uint64_t done_sectors,
			  gint64 start_us)
{
	gint64 due = start_us + (gint64)(done_sectors / 2) * G_USEC_PER_SEC /
				MAX(mddev->sync_speed_max, 1u);
	gint64 now = g_get_monotonic_time();

	if (due > now) {
		pthread_mutex_lock(&mddev->sync_lock);
		if (!mddev->stopping)
			md_cond_wait_until(&mddev->sync_cond, &mddev->sync_lock,
					  g_get_monotonic_time() + (due - now));
		pthread_mutex_unlock(&mddev->sync_lock);
	}
}

/* The members a recovery pass brings up to date: those recovering when it
 * starts (one added later has missed the windows already done). */
static void recovery_targets(struct mddev *mddev, struct md_rdev **targets)
{
	for (int i = 0; i < mddev->raid_disks; i++)
		targets[i] = rdev_recovering(mddev->slots[i]) ? mddev->slots[i]
							      : NULL;
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
	for (int i = 0; action == ACTION_RECOVER && i < mddev->raid_disks; i++) {
		struct md_rdev *rdev = targets[i];
		if (rdev_recovering(rdev) && rdev->recovery_offset < sector)
			rdev->recovery_offset = sector;
	}
	pthread_mutex_unlock(&mddev->sb_lock);
	md_update_sb(mddev);
}

/* md's spare_active: the targets, recovered to the end, are in sync and
 * the array no longer degraded by them. */
static void recovery_done(struct mddev *mddev, struct md_rdev **targets)
{
	pthread_mutex_lock(&mddev->sb_lock);
	for (int i = 0; i < mddev->raid_disks; i++) {
		struct md_rdev *rdev = targets[i];
		if (!rdev_recovering(rdev))
			continue;
		rdev->recovery_offset = MD_MAX_SECTOR;
		atomic_fetch_or(&rdev->flags, RDEV_IN_SYNC);
		atomic_fetch_sub(&mddev->degraded, 1);
		g_message("%s: %s recovered", mddev->name, rdev->name);
	}
	pthread_mutex_unlock(&mddev->sb_lock);
	md_update_sb(mddev);
}

static uint64_t pass_start(struct mddev *mddev, enum sync_action action,
			   struct md_rdev **targets)
{
	uint64_t start = mddev->dev_sectors;

	if (action == ACTION_RESYNC)
		return mddev->resync_offset;
	if (action != ACTION_RECOVER)
		return 0;
	for (int i = 0; i < mddev->raid_disks; i++)
		if (targets[i])
			start = MIN(start, targets[i]->recovery_offset);
	return start;
}

static bool checkpointed(enum sync_action action)
{
	return action == ACTION_RESYNC || action == ACTION_RECOVER;
}

/* One pass of action over the component: 1 when it finished, 0 when
 * interrupted, -errno when it failed. */
static int sync_pass(struct mddev *mddev, enum sync_action action,
		     struct md_rdev **targets)
{
	uint64_t start = pass_start(mddev, action, targets);
	uint64_t end = mddev->dev_sectors;
	gint64 t0 = g_get_monotonic_time(), last_ckpt = t0;
	uint64_t s = start;
	int64_t r = 0;

	if (action == ACTION_CHECK || action == ACTION_REPAIR)
		atomic_store(&mddev->resync_mismatches, 0);
	mddev->resync_mark = start;
	mddev->resync_mark_us = t0;
	while (s < end && !sync_interrupted(mddev)) {
		uint64_t n = MIN(end - s, SYNC_WINDOW_SECTORS);

		md_io_enter(mddev);
		r = mddev->pers->sync_request(mddev, s, n, action);
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
		mddev->curr_resync = s;
		sync_throttle(mddev, s - start, t0);
		if (checkpointed(action) &&
		    g_get_monotonic_time() - last_ckpt > CHECKPOINT_US) {
			checkpoint(mddev, action, targets, s);
			last_ckpt = g_get_monotonic_time();
		}
	}
	if (checkpointed(action))
		checkpoint(mddev, action, targets, s);
	return r < 0 ? (int)r : s >= end;
}

/* md_check_recovery between passes: spares take the empty roles, and a
 * recovery starts onto them when nothing else runs.  Not frozen: md adds
 * no spares then.  sync_lock not held. */
static void check_recovery(struct mddev *mddev)
{
	atomic_store(&mddev->recovery_needed, false);
	if (mddev->sync_frozen || !md_add_spares(mddev))
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
			check_recovery(mddev);
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
	struct md_rdev **targets = g_new(struct md_rdev *, mddev->raid_disks);
	enum sync_action action;

	while ((action = wait_for_work(mddev)) != ACTION_IDLE) {
		recovery_targets(mddev, targets);
		mddev->curr_resync = pass_start(mddev, action, targets);
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
			check_recovery(mddev);
		pthread_mutex_lock(&mddev->sync_lock);
		/* After a member failed, as md_check_recovery once it has
		 * reaped the interrupted pass: the faulty member is out, an
		 * owed resync or recovery goes on from its checkpoint when
		 * the array can still do it, and a check or repair (md's
		 * requested sync) ends there. */
		if (done || intr || mddev->sync_action == ACTION_IDLE) {
			mddev->last_sync_action = action;
			mddev->sync_action = needed_action(mddev);
		} else if (r < 0) {
			/* Retrying at once would fail the same way; what it
			 * owes stays recorded for the next start. */
			mddev->last_sync_action = action;
			mddev->sync_action = ACTION_IDLE;
		}
		mddev->curr_resync = 0;
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
	mddev->sync_action = needed_action(mddev);
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
			mddev->sync_action = ACTION_IDLE;
		break;
	default:
		if (running) {
			r = -EBUSY;
			break;
		}
		mddev->sync_frozen = false;
		mddev->sync_action = needed_action(mddev);
		if (mddev->sync_action == ACTION_IDLE &&
		    (action == ACTION_CHECK || action == ACTION_REPAIR))
			mddev->sync_action = action;
		break;
	}
	if (action != ACTION_FROZEN)
		atomic_store(&mddev->recovery_needed, true);
	pthread_cond_broadcast(&mddev->sync_cond);
	pthread_mutex_unlock(&mddev->sync_lock);
	return r;
}
