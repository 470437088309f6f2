/* Changing the member set of a running array: md's mddev_suspend around
 * the change, hot_add (new_dev_store, mdadm --add), hot_remove and re-add
 * (state_store), and remove_and_add_spares, which the sync thread runs
 * between passes as md_check_recovery does. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "raid.h"

/* ---- suspend: md's active_io and mddev_suspend ---- */

/* A thread inside a request may enter again (a level calling back into
 * the core): only its outermost entry counts, or a pending suspend would
 * hold it off its own request. */
static __thread unsigned io_depth;

/* Wake who waits on io_cond (a suspend for requests to drain, blocked
 * writers): under io_lock, so none misses it between check and wait. */
static void io_wake(struct mddev *mddev)
{
	pthread_mutex_lock(&mddev->io_lock);
	pthread_cond_broadcast(&mddev->io_cond);
	pthread_mutex_unlock(&mddev->io_lock);
}

/* As md's percpu active_io: no lock unless a suspend is pending.  The
 * count goes up before suspended is read, md_suspend raises suspended
 * before it reads the count (both sequentially consistent), so one of
 * the two always sees the other. */
void md_io_enter(struct mddev *mddev)
{
	if (io_depth++)
		return;
	for (;;) {
		atomic_fetch_add(&mddev->active_io, 1);
		if (!atomic_load(&mddev->suspended))
			return;
		/* A suspend waiting holds new requests off, so a stream of
		 * them cannot starve it. */
		if (atomic_fetch_sub(&mddev->active_io, 1) == 1)
			io_wake(mddev);
		pthread_mutex_lock(&mddev->io_lock);
		while (atomic_load(&mddev->suspended))
			pthread_cond_wait(&mddev->io_cond, &mddev->io_lock);
		pthread_mutex_unlock(&mddev->io_lock);
	}
}

void md_io_exit(struct mddev *mddev)
{
	if (--io_depth)
		return;
	if (atomic_fetch_sub(&mddev->active_io, 1) == 1 &&
	    atomic_load(&mddev->suspended))
		io_wake(mddev);
}

static bool any_blocked(const struct mio *v, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		int flags = atomic_load(&v[i].rdev->flags);
		if (v[i].write && (flags & RDEV_BLOCKED) && !(flags & RDEV_FAULTY))
			return true;
	}
	return false;
}

static bool write_blocked(struct mddev *mddev, const struct mio *v, unsigned n)
{
	if (atomic_load(&mddev->suspended) || atomic_load(&mddev->stopping) ||
	    atomic_load(&mddev->power_off))
		return false;    /* a change or a stop waits on this writer */
	return any_blocked(v, n);
}

void md_wait_blocked(struct mddev *mddev, const struct mio *v, unsigned n)
{
	if (!any_blocked(v, n))
		return;    /* every write but the rare held one: no lock */
	pthread_mutex_lock(&mddev->io_lock);
	/* Timed: "faulty" and a stop change state without a wakeup here. */
	while (write_blocked(mddev, v, n))
		md_cond_wait_until(&mddev->io_cond, &mddev->io_lock,
				   g_get_monotonic_time() + G_USEC_PER_SEC / 10);
	pthread_mutex_unlock(&mddev->io_lock);
}

void md_unblocked(struct mddev *mddev)
{
	io_wake(mddev);
}

/* Never called from inside a request (io_depth 0): it waits for them all.
 * reconfig_lock makes one change at a time. */
void md_suspend(struct mddev *mddev)
{
	g_assert(io_depth == 0);
	pthread_mutex_lock(&mddev->reconfig_lock);
	pthread_mutex_lock(&mddev->io_lock);
	atomic_fetch_add(&mddev->suspended, 1);
	pthread_cond_broadcast(&mddev->io_cond);   /* blocked writers go on */
	while (atomic_load(&mddev->active_io))
		pthread_cond_wait(&mddev->io_cond, &mddev->io_lock);
	pthread_mutex_unlock(&mddev->io_lock);
}

void md_resume(struct mddev *mddev)
{
	pthread_mutex_lock(&mddev->io_lock);
	atomic_fetch_sub(&mddev->suspended, 1);
	pthread_cond_broadcast(&mddev->io_cond);
	pthread_mutex_unlock(&mddev->io_lock);
	pthread_mutex_unlock(&mddev->reconfig_lock);
}

void md_members_changed(struct mddev *mddev)
{
	if (mddev->members_changed)
		mddev->members_changed(mddev);
}

GPtrArray *md_rdevs_copy(struct mddev *mddev)
{
	pthread_mutex_lock(&mddev->sb_lock);
	GPtrArray *v = g_ptr_array_copy(mddev->rdevs, NULL, NULL);
	pthread_mutex_unlock(&mddev->sb_lock);
	return v;
}

void md_wakeup_recovery(struct mddev *mddev)
{
	atomic_store(&mddev->recovery_needed, true);
	pthread_mutex_lock(&mddev->sync_lock);
	pthread_cond_broadcast(&mddev->sync_cond);
	pthread_mutex_unlock(&mddev->sync_lock);
}

void random_uuid(uint8_t uuid[16])
{
	for (int i = 0; i < 16; i += 4) {
		guint32 r = g_random_int();
		memcpy(uuid + i, &r, 4);
	}
}

/* ---- remove_and_add_spares ---- */

static bool in_array(struct mddev *mddev, struct md_rdev *rdev)
{
	for (guint i = 0; i < mddev->rdevs->len; i++)
		if (g_ptr_array_index(mddev->rdevs, i) == rdev)
			return true;
	return false;
}

/* A faulty member leaves its role (md's hot_remove_disk); it stays listed
 * as faulty and remembers the role for a re-add.  Suspended, sb_lock. */
static void take_out_of_role(struct mddev *mddev, struct md_rdev *rdev)
{
	if (rdev->raid_disk < 0)
		return;
	if (atomic_fetch_and(&rdev->flags, ~RDEV_REPLACEMENT) & RDEV_REPLACEMENT) {
		/* It never held the role: nothing to go back to. */
		mddev->replacements[rdev->raid_disk] = NULL;
		rdev->raid_disk = -1;
		return;
	}
	mddev->slots[rdev->raid_disk] = NULL;
	rdev->saved_raid_disk = rdev->raid_disk;
	rdev->raid_disk = -1;
}

static bool role_free(struct mddev *mddev, int slot)
{
	return slot >= 0 && slot < mddev->raid_disks &&
	       !rdev_usable(mddev->slots[slot]);
}

/* md's hot_add_disk: the role a spare takes, its former one first. */
static int free_role(struct mddev *mddev, struct md_rdev *spare)
{
	if (role_free(mddev, spare->saved_raid_disk))
		return spare->saved_raid_disk;
	for (int i = 0; i < mddev->raid_disks; i++)
		if (role_free(mddev, i))
			return i;
	return -1;
}

static bool is_spare(const struct md_rdev *rdev)
{
	return rdev->raid_disk < 0 && rdev_usable(rdev);
}

static bool spare_fits(struct mddev *mddev, struct md_rdev *rdev)
{
	return is_spare(rdev) && rdev->sectors >= mddev->dev_sectors;
}

/* A spare into the empty role slot, to be recovered (suspended,
 * sb_lock held). */
static void take_role(struct mddev *mddev, struct md_rdev *rdev, int slot)
{
	if (mddev->slots[slot])
		take_out_of_role(mddev, mddev->slots[slot]);
	atomic_fetch_and(&rdev->flags, ~RDEV_IN_SYNC);
	rdev->recovery_offset = 0;
	/* md: only a re-add to its former role recovers by the bitmap */
	if (slot != rdev->saved_raid_disk)
		rdev->bitmap_recovery = false;
	rdev->raid_disk = slot;
	rdev->saved_raid_disk = -1;
	mddev->slots[slot] = rdev;
	g_message("%s: %s takes role %d", mddev->name, rdev->name, slot);
}

/* md's hot_add_disk with no empty role: the member in role slot wants a
 * replacement and has none.  0.90 superblocks cannot say which of two
 * members of a role is the replacement (md records it as a spare there,
 * so a restart loses the copy): raidfs replaces on v1 arrays only. */
static bool wants_replacement(struct mddev *mddev, int slot)
{
	struct md_rdev *rdev = mddev->slots[slot];

	return mddev->pers->hold_window && mddev->sb.major != 0 &&
	       rdev_in_sync(rdev) &&
	       !md_replacement(mddev, slot) &&
	       (atomic_load(&rdev->flags) & RDEV_WANT_REPLACEMENT);
}

static void become_replacement(struct mddev *mddev, struct md_rdev *rdev,
			       int slot)
{
	atomic_fetch_and(&rdev->flags, ~RDEV_IN_SYNC);
	atomic_fetch_or(&rdev->flags, RDEV_REPLACEMENT);
	rdev->recovery_offset = 0;
	rdev->bitmap_recovery = false;
	rdev->raid_disk = slot;
	rdev->saved_raid_disk = -1;
	mddev->replacements[slot] = rdev;
	g_message("%s: %s replaces %s in role %d", mddev->name, rdev->name,
		  mddev->slots[slot]->name, slot);
}

static int replacement_role(struct mddev *mddev)
{
	for (int i = 0; mddev->replacements && i < mddev->raid_disks; i++)
		if (wants_replacement(mddev, i))
			return i;
	return -1;
}

/* md's raid1_remove_disk and raid5_remove_disk for a role with a
 * replacement: a faulty replacement goes; a faulty member leaves the role
 * to its replacement, which becomes an ordinary member recovering it.
 * Writes to the role reached neither since the member failed, so the
 * copy starts over.  True when a replacement took the role. */
static bool reap_replacement(struct mddev *mddev, int slot)
{
	struct md_rdev *rep = md_replacement(mddev, slot);

	if (!rep || (rdev_usable(rep) && rdev_usable(mddev->slots[slot])))
		return false;
	take_out_of_role(mddev, rep);
	if (!rdev_usable(rep))
		return false;
	take_role(mddev, rep, slot);
	return true;
}

/* Suspended, sb_lock held. */
static bool add_spares_locked(struct mddev *mddev)
{
	bool added = false;

	for (int i = 0; i < mddev->raid_disks; i++)
		added |= reap_replacement(mddev, i);
	for (guint i = 0; i < mddev->rdevs->len; i++) {
		struct md_rdev *rdev = g_ptr_array_index(mddev->rdevs, i);
		if (!spare_fits(mddev, rdev))
			continue;
		int slot = free_role(mddev, rdev);
		if (slot >= 0) {
			take_role(mddev, rdev, slot);
			added = true;
		} else if ((slot = replacement_role(mddev)) >= 0) {
			become_replacement(mddev, rdev, slot);
			added = true;
		}
	}
	return added;
}

/* A replacement to reap, or a spare for an empty role or a member that
 * wants a replacement. */
static bool spares_wanted(struct mddev *mddev)
{
	bool any = false;

	pthread_mutex_lock(&mddev->sb_lock);
	for (int i = 0; i < mddev->raid_disks && !any; i++) {
		struct md_rdev *rep = md_replacement(mddev, i);
		any = rep && (!rdev_usable(rep) || !rdev_usable(mddev->slots[i]));
	}
	for (guint i = 0; i < mddev->rdevs->len && !any; i++) {
		struct md_rdev *rdev = g_ptr_array_index(mddev->rdevs, i);
		any = spare_fits(mddev, rdev) &&
		      (free_role(mddev, rdev) >= 0 || replacement_role(mddev) >= 0);
	}
	pthread_mutex_unlock(&mddev->sb_lock);
	return any;
}

void md_replace_done(struct mddev *mddev, struct md_rdev *rep)
{
	md_suspend(mddev);
	pthread_mutex_lock(&mddev->sb_lock);
	int slot = rep->raid_disk;
	bool done = md_replacement(mddev, slot) == rep && rdev_usable(rep) &&
		    rdev_in_sync(mddev->slots[slot]);
	struct md_rdev *old = done ? mddev->slots[slot] : NULL;
	if (done) {
		/* The role stays whole: degraded does not move. */
		atomic_fetch_or(&old->flags, RDEV_FAULTY);
		atomic_fetch_and(&old->flags, ~RDEV_IN_SYNC);
		take_out_of_role(mddev, old);
		take_out_of_role(mddev, rep);
		atomic_fetch_or(&rep->flags, RDEV_IN_SYNC);
		rep->recovery_offset = MD_MAX_SECTOR;
		rep->raid_disk = slot;
		mddev->slots[slot] = rep;
	}
	pthread_mutex_unlock(&mddev->sb_lock);
	md_resume(mddev);
	if (!done)
		return;
	g_message("%s: %s replaced %s in role %d", mddev->name, rep->name,
		  old->name, slot);
	md_update_sb(mddev);
	md_members_changed(mddev);
}

int md_slot_store(struct mddev *mddev, struct md_rdev *rdev, int slot)
{
	int r = -EBUSY;

	if (mddev->ro)
		return -EROFS;
	if (slot < 0 || slot >= mddev->raid_disks)
		return -EINVAL;
	if (md_sync_running(mddev))
		return -EBUSY;
	md_suspend(mddev);
	pthread_mutex_lock(&mddev->sb_lock);
	if (in_array(mddev, rdev) && spare_fits(mddev, rdev)) {
		if (role_free(mddev, slot)) {
			take_role(mddev, rdev, slot);
			r = 0;
		} else if (wants_replacement(mddev, slot)) {
			become_replacement(mddev, rdev, slot);
			r = 0;
		}
	}
	pthread_mutex_unlock(&mddev->sb_lock);
	md_resume(mddev);
	if (r == 0) {
		md_update_sb(mddev);
		md_members_changed(mddev);
		md_wakeup_recovery(mddev);
	}
	return r;
}

/* Recovery onto them needs the data whole (md's enough()). */
bool md_add_spares(struct mddev *mddev)
{
	if (mddev->ro || !mddev->pers->sync_request || !md_enough(mddev, -1) ||
	    atomic_load(&mddev->power_off) || !spares_wanted(mddev))
		return false;
	md_suspend(mddev);
	pthread_mutex_lock(&mddev->sb_lock);
	bool added = add_spares_locked(mddev);
	pthread_mutex_unlock(&mddev->sb_lock);
	md_resume(mddev);
	if (added) {
		md_update_sb(mddev);
		md_members_changed(mddev);
	}
	return added;
}

/* ---- state_store: remove, re-add ---- */

int md_hot_remove(struct mddev *mddev, struct md_rdev *rdev)
{
	int r = 0;

	md_suspend(mddev);
	pthread_mutex_lock(&mddev->sb_lock);
	if (!in_array(mddev, rdev)) {
		r = -ENODEV;
	} else if (rdev->raid_disk >= 0 && rdev_usable(rdev)) {
		r = -EBUSY;    /* md: only a faulty member or a spare */
	} else {
		take_out_of_role(mddev, rdev);
		g_ptr_array_remove(mddev->rdevs, rdev);
		if (!mddev->removed)
			mddev->removed = g_ptr_array_new();
		g_ptr_array_add(mddev->removed, rdev);
	}
	pthread_mutex_unlock(&mddev->sb_lock);
	if (r == 0) {
		/* The claim goes with the file; the struct stays for requests
		 * the mount may still hold on its nodes. */
		close(rdev->fd);
		rdev->fd = -1;
		g_message("%s: %s removed", mddev->name, rdev->name);
	}
	md_resume(mddev);
	if (r == 0) {
		md_update_sb(mddev);
		md_members_changed(mddev);
	}
	return r;
}

int md_re_add(struct mddev *mddev, struct md_rdev *rdev)
{
	int r = 0;

	if (mddev->ro)
		return -EROFS;
	md_suspend(mddev);
	pthread_mutex_lock(&mddev->sb_lock);
	if (!in_array(mddev, rdev) || !(atomic_load(&rdev->flags) & RDEV_FAULTY)) {
		r = -EBUSY;
	} else {
		take_out_of_role(mddev, rdev);
		/* With a bitmap, its recovery copies the chunks written
		 * since it left (they stay NEEDED while degraded); without
		 * one it is recovered in full. */
		atomic_fetch_and(&rdev->flags, ~(RDEV_FAULTY | RDEV_IN_SYNC));
		rdev->recovery_offset = 0;
		rdev->bitmap_recovery = mddev->bitmap_ops != NULL;
	}
	pthread_mutex_unlock(&mddev->sb_lock);
	md_resume(mddev);
	if (r == 0) {
		g_message("%s: %s re-added", mddev->name, rdev->name);
		md_update_sb(mddev);
		md_members_changed(mddev);
		md_wakeup_recovery(mddev);
	}
	return r;
}

/* ---- new_dev: hot add ---- */

/* A working member whose superblock the new one's is modelled on. */
static struct md_rdev *template_member(struct mddev *mddev)
{
	for (guint i = 0; i < mddev->rdevs->len; i++) {
		struct md_rdev *rdev = g_ptr_array_index(mddev->rdevs, i);
		if (rdev_usable(rdev))
			return rdev;
	}
	return NULL;
}

static bool desc_nr_used(struct mddev *mddev, int nr)
{
	for (guint i = 0; i < mddev->rdevs->len; i++)
		if (((struct md_rdev *)g_ptr_array_index(mddev->rdevs, i))->desc_nr == nr)
			return true;
	return false;
}

/* mdadm's choice: the first dev_number no member holds (a former member
 * keeps its own when it is free). */
static int free_desc_nr(struct mddev *mddev, int want)
{
	int max = mddev->sb.major == 0 ? MD_SB090_DISKS : MD_SB_MAX_ROLES;

	if (want >= 0 && want < max && !desc_nr_used(mddev, want))
		return want;
	for (int nr = 0; nr < max; nr++)
		if (!desc_nr_used(mddev, nr))
			return nr;
	return -1;
}

struct new_member {
	int fd;
	const char *path;
	struct md_sb sb;
	int saved_raid_disk;
	uint64_t old_events;      /* a former member's own superblock's */
};

/* What the file holds: a superblock of this array makes it a former
 * member, which keeps its dev_number and goes back to its role. */
static int former_role(struct mddev *mddev, struct new_member *n, int *want_nr)
{
	struct md_sb old;
	char why[256];

	*want_nr = -1;
	if (md_sb_load(n->fd, &old, why, sizeof(why)) < 0 ||
	    memcmp(old.set_uuid, mddev->sb.set_uuid, 16) != 0)
		return -1;
	*want_nr = old.dev_number;
	n->old_events = old.events;
	memcpy(n->sb.device_uuid, old.device_uuid, 16);
	uint16_t role = old.dev_number < MD_SB_MAX_ROLES
			? old.dev_roles[old.dev_number] : MD_ROLE_SPARE;
	return role < mddev->raid_disks ? role : -1;
}

/* The superblock mdadm --add writes: the array's version and data offset,
 * a free dev_number, role spare.  sb_lock held. */
static int plan_member(struct mddev *mddev, struct new_member *n, char *err,
		       size_t errlen)
{
	struct md_rdev *t = template_member(mddev);
	uint64_t sectors = rdev_file_sectors(n->fd), bitmap_sectors = 0, start;
	int want_nr;

	if (!t) {
		snprintf(err, errlen, "no working member to model it on");
		return -EINVAL;
	}
	n->sb = t->sb;
	random_uuid(n->sb.device_uuid);
	n->saved_raid_disk = former_role(mddev, n, &want_nr);
	if (mddev->bitmap_ops && !mddev->bitmap_file &&
	    md_sb_bitmap_space(&t->sb, &start, &bitmap_sectors, err, errlen) < 0)
		return -EINVAL;
	n->sb.size = mddev->dev_sectors;
	if (mddev->sb.major == 0)
		n->sb.data_offset = 0;
	/* md's bind_rdev_to_array: ENOSPC for a member too small. */
	if (md_sb_place(&n->sb, mddev->sb.minor, sectors, bitmap_sectors, err,
			errlen) < 0)
		return -ENOSPC;
	if (n->sb.data_size < mddev->dev_sectors) {
		snprintf(err, errlen, "%s is too small: %" PRIu64 "K of data space, "
			 "the array needs %" PRIu64 "K", n->path,
			 n->sb.data_size / 2, mddev->dev_sectors / 2);
		return -ENOSPC;
	}
	int nr = free_desc_nr(mddev, want_nr);
	if (nr < 0) {
		snprintf(err, errlen, "no free dev_number left");
		return -ENOSPC;
	}
	n->sb.dev_number = nr;
	/* The member's own: no recovery yet, no bad block. */
	n->sb.feature_map &= ~(MD_FEATURE_RECOVERY_OFFSET | MD_FEATURE_BAD_BLOCKS |
			       MD_FEATURE_REPLACEMENT);
	n->sb.recovery_offset = 0;
	n->sb.cnt_corrected_read = 0;
	n->sb.devflags = 0;
	n->sb.events = mddev->events;
	if (md_sb_check(&n->sb, err, errlen) < 0)
		return -EINVAL;
	return 0;
}

/* 0.90 lists a spare in disks[] only where an entry says it is there:
 * every member's superblock gets one for the new member (sb_lock). */
static void list_in_090(struct mddev *mddev, int nr)
{
	for (guint i = 0; mddev->sb.major == 0 && i < mddev->rdevs->len; i++) {
		struct md_sb090_disk *d =
			&((struct md_rdev *)g_ptr_array_index(mddev->rdevs, i))->sb.v090.disks[nr];
		d->number = nr;
		d->state &= ~(1u << MD_DISK_REMOVED);
	}
}

static struct md_rdev *new_rdev(struct mddev *mddev, struct new_member *n,
			       char *err, size_t errlen)
{
	struct md_rdev *rdev = g_new0(struct md_rdev, 1);

	/* An empty list where the log goes (nothing recorded to read). */
	if (badblocks_load(n->fd, &n->sb, n->sb.member_sectors, &rdev->badblocks,
			   err, errlen) < 0) {
		g_free(rdev);
		return NULL;
	}
	rdev->mddev = mddev;
	rdev_set_file(rdev, n->fd, n->path);
	rdev->sb = n->sb;
	rdev->desc_nr = n->sb.dev_number;
	rdev->saved_raid_disk = n->saved_raid_disk;
	/* md's super_1_validate: with a bitmap a former member not older
	 * than events_cleared missed only what the bits say */
	rdev->bitmap_recovery = n->saved_raid_disk >= 0 &&
				md_bitmap_covers_since(mddev, n->old_events);
	rdev->data_offset = n->sb.data_offset;
	rdev->sectors = n->sb.data_size;
	return rdev;
}

/* Open and claim as assembly does: only a regular file or block device
 * nobody else holds. */
static int open_new(const char *path, char *err, size_t errlen)
{
	if (!g_path_is_absolute(path)) {
		snprintf(err, errlen, "%s: give the member's absolute path", path);
		return -EINVAL;
	}
	int fd = member_open_claimed(path, false, err, errlen);
	return fd == -ENODEV ? -EINVAL : fd;
}

int md_hot_add(struct mddev *mddev, const char *path, char *err, size_t errlen)
{
	if (mddev->ro)
		return -EROFS;
	if (!mddev->pers->sync_request) {
		snprintf(err, errlen, "%s has no redundancy to add a member to",
			 mddev->pers->name);
		return -EINVAL;
	}
	struct new_member n = { .path = path };
	n.fd = open_new(path, err, errlen);
	if (n.fd < 0)
		return n.fd;
	/* Planned and added under one hold of sb_lock, so no other add takes
	 * its dev_number meanwhile. */
	pthread_mutex_lock(&mddev->sb_lock);
	int r = plan_member(mddev, &n, err, errlen);
	struct md_rdev *rdev = r == 0 ? new_rdev(mddev, &n, err, errlen) : NULL;
	if (rdev) {
		md_power_cut_join(mddev, rdev);
		g_ptr_array_add(mddev->rdevs, rdev);
		list_in_090(mddev, rdev->desc_nr);
	} else if (r == 0)
		r = -EINVAL;
	pthread_mutex_unlock(&mddev->sb_lock);
	if (r < 0) {
		close(n.fd);
		return r;
	}
	/* Its superblock and the others' roles, as md_update_sb after
	 * bind_rdev_to_array. */
	md_update_sb(mddev);
	if (atomic_load(&rdev->flags) & RDEV_FAULTY) {
		snprintf(err, errlen, "%s: writing its superblock failed", path);
		md_hot_remove(mddev, rdev);
		return -EIO;
	}
	g_message("%s: %s added as a spare", mddev->name, rdev->name);
	md_members_changed(mddev);
	md_wakeup_recovery(mddev);
	return 0;
}
