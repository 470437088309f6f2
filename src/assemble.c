/* Assembly: group member files by array UUID, let the freshest superblock
 * decide each member's role, leave out what is stale, faulty or foreign
 * (reported, never written), and start what has enough members. */
#include <errno.h>
#include <string.h>
#include "names.h"
#include "raid.h"

static void left_out(struct md_rdev *rdev, const char *why)
{
	fprintf(stderr, "raidfs: %s: %s; left out\n", rdev->path, why);
	rdev_close(rdev);
}

static struct md_rdev *freshest(GPtrArray *group)
{
	struct md_rdev *best = NULL;

	for (guint i = 0; i < group->len; i++) {
		struct md_rdev *rdev = g_ptr_array_index(group, i);
		if (!best || rdev->sb.events > best->sb.events)
			best = rdev;
	}
	return best;
}

static bool same_geometry(const struct md_sb *a, const struct md_sb *b)
{
	return a->level == b->level && a->raid_disks == b->raid_disks &&
	       a->chunk_sectors == b->chunk_sectors && a->layout == b->layout &&
	       a->major == b->major;
}

static uint16_t role_of(const struct md_sb *sb, int desc_nr)
{
	if (desc_nr < 0 || (uint32_t)desc_nr >= sb->max_dev ||
	    desc_nr >= MD_SB_MAX_ROLES)
		return MD_ROLE_SPARE;
	return sb->dev_roles[desc_nr];
}

/* Members the freshest superblock expects to be working. */
static int expected_members(const struct md_sb *sb)
{
	int n = 0;

	for (uint32_t i = 0; i < sb->max_dev && i < MD_SB_MAX_ROLES; i++)
		n += sb->dev_roles[i] < sb->raid_disks;
	return n;
}

/* md kicks a member whose events lag the freshest by more than one. */
static const char *place_member(struct mddev *mddev, struct md_rdev *rdev)
{
	const struct md_sb *best = &mddev->sb;

	if (!same_geometry(&rdev->sb, best))
		return "its geometry differs from the freshest member's";
	if (rdev->sb.events + 1 < best->events)
		return "stale (events older than the freshest member's)";
	uint16_t role = role_of(best, rdev->desc_nr);
	if (role == MD_ROLE_FAULTY)
		return "the array records it as faulty";
	if (role < best->raid_disks) {
		if (mddev->slots[role])
			return "another member already holds its slot";
		mddev->slots[role] = rdev;
		rdev->raid_disk = role;
		if (rdev->sb.feature_map & MD_FEATURE_RECOVERY_OFFSET)
			rdev->recovery_offset = rdev->sb.recovery_offset;
		else
			atomic_fetch_or(&rdev->flags, RDEV_IN_SYNC);
	} else if (role != MD_ROLE_SPARE) {
		return "its role is not one raidfs understands";
	}
	rdev->mddev = mddev;
	g_ptr_array_add(mddev->rdevs, rdev);
	return NULL;
}

/* Enough members to run?  Fewer than the superblock expects needs -o run.
 * As in md, a member still recovering holds no data yet: degraded counts
 * it. */
static int check_members(struct mddev *mddev, bool run)
{
	int present = 0, need = expected_members(&mddev->sb);
	int in_sync = md_in_sync_count(mddev);

	for (int i = 0; i < mddev->raid_disks; i++)
		present += mddev->slots[i] != NULL;
	atomic_store(&mddev->degraded, mddev->raid_disks - in_sync);
	if (!md_enough(mddev, -1)) {
		char recovering[32] = "";
		if (in_sync < present)
			snprintf(recovering, sizeof(recovering), " (%d in sync)",
				 in_sync);
		fprintf(stderr, "raidfs: %s: %d of %d members present%s, too few "
			"for %s to hold the data; not started\n", mddev->name,
			present, mddev->raid_disks, recovering, mddev->pers->name);
		return -EINVAL;
	}
	if (present < need && !run) {
		fprintf(stderr, "raidfs: %s: %d of %d members present, %d were "
			"working; use -o run to start it degraded\n",
			mddev->name, present, mddev->raid_disks, need);
		return -EINVAL;
	}
	return 0;
}

static struct mddev *assemble_group(GPtrArray *group, int unit, bool ro, bool run)
{
	struct mddev *mddev = g_new0(struct mddev, 1);
	struct md_rdev *best = freshest(group);

	mddev->sb = best->sb;
	mddev->unit = unit;
	mddev->ro = ro;
	mddev->ok_start_degraded = run;
	mddev->name = md_array_name(&best->sb, unit);
	mddev->raid_disks = best->sb.raid_disks;
	mddev->slots = g_new0(struct md_rdev *, mddev->raid_disks);
	mddev->rdevs = g_ptr_array_new();
	for (guint i = 0; i < group->len; i++) {
		struct md_rdev *rdev = g_ptr_array_index(group, i);
		const char *why = place_member(mddev, rdev);
		if (why)
			left_out(rdev, why);
	}
	mddev->pers = md_find_personality(best->sb.level);
	char err[256];
	int r = mddev->pers ? check_members(mddev, run) : 0;
	if (r == 0) {
		r = md_run(mddev, err, sizeof(err));
		if (r < 0)
			fprintf(stderr, "raidfs: %s\n", err);
	}
	if (r < 0) {
		md_free(mddev);
		return NULL;
	}
	return mddev;
}

static void close_group(GPtrArray *group)
{
	for (guint i = 0; i < group->len; i++)
		rdev_close(g_ptr_array_index(group, i));
}

/* Open every path, group by set UUID, assemble each group.  Returns the
 * number of arrays started (added to arrays), or -EBUSY (nothing started)
 * if a member is claimed elsewhere; *members counts the files that held a
 * superblock at all. */
int md_assemble(const char *const *paths, int npaths, bool ro, bool run,
		GPtrArray *arrays, int *members)
{
	*members = 0;
	GHashTable *groups = g_hash_table_new_full(g_bytes_hash, g_bytes_equal,
		(GDestroyNotify)g_bytes_unref, (GDestroyNotify)g_ptr_array_unref);
	GPtrArray *order = g_ptr_array_new();   /* groups in the order found */
	int started = 0;

	for (int i = 0; i < npaths; i++) {
		struct md_rdev *rdev;
		char err[512];
		int r = rdev_open(paths[i], ro, &rdev, err, sizeof(err));
		if (r == -ENOENT)
			continue;     /* not an md member: nothing to say */
		++*members;
		if (r == -EBUSY) {
			/* Another daemon serves it: two writers would corrupt
			 * the array, so serve none of this. */
			fprintf(stderr, "raidfs: %s\n", err);
			started = -EBUSY;
			break;
		}
		if (r < 0) {
			fprintf(stderr, "raidfs: %s; left out\n", err);
			continue;
		}
		GBytes *key = g_bytes_new(rdev->sb.set_uuid, 16);
		GPtrArray *group = g_hash_table_lookup(groups, key);
		if (!group) {
			group = g_ptr_array_new();
			g_hash_table_insert(groups, g_bytes_ref(key), group);
			g_ptr_array_add(order, group);
		}
		g_bytes_unref(key);
		g_ptr_array_add(group, rdev);
	}
	for (guint i = 0; i < order->len; i++) {
		if (started < 0) {
			close_group(g_ptr_array_index(order, i));
			continue;
		}
		struct mddev *mddev = assemble_group(g_ptr_array_index(order, i),
						     arrays->len, ro, run);
		if (mddev) {
			g_ptr_array_add(arrays, mddev);
			started++;
		}
	}
	g_ptr_array_free(order, TRUE);
	g_hash_table_destroy(groups);
	return started;
}
