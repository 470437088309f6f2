/* The sync thread, md_do_sync's counterpart: resync after an unclean stop,
 * and check/repair on request.  It walks the component one window at a
 * time under a barrier that holds normal IO off that window, throttled to
 * sync_speed_max, checkpointing resync_offset so a restart resumes. */
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

static bool sync_interrupted(struct mddev *mddev)
{
	pthread_mutex_lock(&mddev->sync_lock);
	bool stop = mddev->stopping || mddev->sync_frozen ||
		    mddev->sync_action == ACTION_IDLE;
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

static void checkpoint(struct mddev *mddev, uint64_t sector)
{
	pthread_mutex_lock(&mddev->sb_lock);
	if (sector > mddev->resync_offset || mddev->resync_offset == MD_MAX_SECTOR)
		mddev->resync_offset = sector;
	pthread_mutex_unlock(&mddev->sb_lock);
	md_update_sb(mddev);
}

/* One pass of action over the component; returns true when it finished. */
static bool sync_pass(struct mddev *mddev, enum sync_action action)
{
	uint64_t start = action == ACTION_RESYNC ? mddev->resync_offset : 0;
	uint64_t end = mddev->dev_sectors;
	gint64 t0 = g_get_monotonic_time(), last_ckpt = t0;
	uint64_t s = start;

	if (action == ACTION_CHECK || action == ACTION_REPAIR)
		atomic_store(&mddev->resync_mismatches, 0);
	mddev->resync_mark = start;
	mddev->resync_mark_us = t0;
	while (s < end && !sync_interrupted(mddev)) {
		uint64_t bucket_end = ((s >> BARRIER_BUCKET_SHIFT) + 1)
				      << BARRIER_BUCKET_SHIFT;
		uint64_t n = MIN(MIN(end, bucket_end) - s, SYNC_WINDOW_SECTORS);

		md_raise_barrier(mddev, s);
		int64_t r = mddev->pers->sync_request(mddev, s, n, action);
		md_lower_barrier(mddev, s);
		if (r < 0) {
			g_warning("%s: %s stopped at sector %" PRIu64 ": %s",
				  mddev->name, md_sync_action_name(action), s,
				  g_strerror(-r));
			break;
		}
		s += r;
		mddev->curr_resync = s;
		sync_throttle(mddev, s - start, t0);
		if (action == ACTION_RESYNC &&
		    g_get_monotonic_time() - last_ckpt > CHECKPOINT_US) {
			checkpoint(mddev, s);
			last_ckpt = g_get_monotonic_time();
		}
	}
	if (action == ACTION_RESYNC)
		checkpoint(mddev, s);
	return s >= end;
}

static enum sync_action wait_for_work(struct mddev *mddev)
{
	pthread_mutex_lock(&mddev->sync_lock);
	while (!mddev->stopping &&
	       (mddev->sync_frozen || mddev->sync_action == ACTION_IDLE))
		pthread_cond_wait(&mddev->sync_cond, &mddev->sync_lock);
	enum sync_action a = mddev->stopping ? ACTION_IDLE : mddev->sync_action;
	pthread_mutex_unlock(&mddev->sync_lock);
	return a;
}

static gpointer sync_thread(gpointer arg)
{
	struct mddev *mddev = arg;
	enum sync_action action;

	while ((action = wait_for_work(mddev)) != ACTION_IDLE) {
		mddev->curr_resync = action == ACTION_RESYNC ? mddev->resync_offset : 0;
		bool done = sync_pass(mddev, action);
		if (done && action == ACTION_RESYNC) {
			pthread_mutex_lock(&mddev->sb_lock);
			mddev->resync_offset = MD_MAX_SECTOR;
			pthread_mutex_unlock(&mddev->sb_lock);
			md_update_sb(mddev);
		}
		pthread_mutex_lock(&mddev->sync_lock);
		if (done || mddev->sync_action == ACTION_IDLE) {
			mddev->last_sync_action = action;
			mddev->sync_action = ACTION_IDLE;
		}
		mddev->curr_resync = 0;
		pthread_cond_broadcast(&mddev->sync_cond);
		pthread_mutex_unlock(&mddev->sync_lock);
	}
	return NULL;
}

/* Start the thread; an array that was not clean starts resyncing at once. */
void md_sync_start(struct mddev *mddev)
{
	if (mddev->ro || !mddev->pers->sync_request)
		return;
	if (mddev->resync_offset != MD_MAX_SECTOR && resync_possible(mddev))
		mddev->sync_action = ACTION_RESYNC;
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

/* sync_action writes: idle interrupts, frozen pauses, the rest request a
 * pass.  A resync still owed takes precedence over check, as in md. */
int md_sync_request_action(struct mddev *mddev, enum sync_action action)
{
	if (!mddev->sync_thread)
		return -EINVAL;
	pthread_mutex_lock(&mddev->sync_lock);
	int r = 0;
	switch (action) {
	case ACTION_FROZEN:
		mddev->sync_frozen = true;
		break;
	case ACTION_IDLE:
		mddev->sync_frozen = false;
		if (mddev->sync_action != ACTION_RESYNC)
			mddev->sync_action = ACTION_IDLE;
		break;
	case ACTION_RESYNC:
	case ACTION_RECOVER:
		mddev->sync_frozen = false;
		break;
	case ACTION_CHECK:
	case ACTION_REPAIR:
		if (mddev->sync_action != ACTION_IDLE) {
			r = -EBUSY;
			break;
		}
		mddev->sync_frozen = false;
		mddev->sync_action = action;
		break;
	}
	pthread_cond_broadcast(&mddev->sync_cond);
	pthread_mutex_unlock(&mddev->sync_lock);
	return r;
}
