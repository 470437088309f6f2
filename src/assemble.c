/* Assembly: group member files by array UUID (md_sb_load has refused each
 * bad superblock on its own), let the freshest superblock the majority of
 * the freshest members agrees with decide each member's role, leave out
 * what is stale, faulty, foreign or disagrees (reported, never written),
 * refuse what nothing can settle, and start what has enough members. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include "names.h"
#include "raid.h"

static void left_out(struct md_rdev *rdev, const char *why)
{
	fprintf(stderr, "raidfs: %s: %s; left out\n", rdev->path, why);
	rdev_close(rdev);
}

static void free_reasons(char **v, guint n)
{
	for (guint i = 0; i < n; i++)
		g_free(v[i]);
	g_free(v);
}

/* The fields every member must agree on, named as md_p.h spells them:
 * those the level uses (level is compared before the rest).  size and
 * dev_roles only among the freshest members: md takes them from the
 * freshest superblock, and one that missed the last update may record an
 * older state. */
enum array_field {
	AF_MAJOR, AF_LEVEL, AF_RAID_DISKS, AF_LAYOUT, AF_CHUNK, AF_LBS,
	AF_SIZE, AF_ROLES, AF_COUNT,
};

static const char *const af_name[AF_COUNT] = {
	"major_version", "level", "raid_disks", "layout", "chunksize",
	"logical_block_size", "size", "dev_roles",
};

static int first_role_differing(const struct md_sb *a, const struct md_sb *b)
{
	for (int i = 0; i < MD_SB_MAX_ROLES; i++)
		if (a->dev_roles[i] != b->dev_roles[i])
			return i;
	return -1;
}

static bool af_get(const struct md_sb *sb, enum array_field f, int64_t *v)
{
	const struct md_personality *pers = md_find_personality(sb->level);

	switch (f) {
	case AF_MAJOR: *v = sb->major; return true;
	case AF_LEVEL: *v = sb->level; return true;
	case AF_RAID_DISKS: *v = sb->raid_disks; return true;
	case AF_LAYOUT: *v = sb->layout; return pers && pers->uses_chunk;
	case AF_CHUNK: *v = sb->chunk_sectors; return pers && pers->uses_chunk;
	case AF_LBS: *v = sb->logical_block_size; return true;
	case AF_SIZE: *v = (int64_t)sb->size; return sb->level >= 1;
	default: return false;
	}
}

/* The first array-wide field a and b disagree on, or AF_COUNT. */
static enum array_field differs(const struct md_sb *a, const struct md_sb *b, bool freshest)
{
	for (int f = 0; f < (freshest ? AF_ROLES : AF_SIZE); f++) {
		int64_t x, y;
		if (af_get(a, f, &x) && af_get(b, f, &y) && x != y)
			return f;
	}
	if (freshest && first_role_differing(a, b) >= 0)
		return AF_ROLES;
	return AF_COUNT;
}

/* "superblock layout 7 differs from layout 2 on PATH" */
static char *field_reason(const struct md_sb *sb, const struct md_sb *ref,
			  enum array_field f, const char *ref_path, const char *why)
{
	int64_t x = 0, y = 0;
	int i = first_role_differing(sb, ref);

	if (f == AF_ROLES)
		return g_strdup_printf("superblock dev_roles[%d] %u differs from "
				       "dev_roles[%d] %u on %s%s", i, sb->dev_roles[i],
				       i, ref->dev_roles[i], ref_path, why);
	af_get(sb, f, &x);
	af_get(ref, f, &y);
	return g_strdup_printf("superblock %s %" PRId64 " differs from %s %" PRId64
			       " on %s%s", af_name[f], x, af_name[f], y, ref_path, why);
}

static uint64_t max_events(GPtrArray *group)
{
	uint64_t e = 0;

	for (guint i = 0; i < group->len; i++) {
		struct md_rdev *rdev = g_ptr_array_index(group, i);
		e = MAX(e, rdev->sb.events);
	}
	return e;
}

static int agreeing(GPtrArray *group, const struct md_rdev *a, uint64_t top)
{
	int votes = 0;

	for (guint j = 0; j < group->len; j++) {
		struct md_rdev *b = g_ptr_array_index(group, j);
		votes += b->sb.events == top && differs(&a->sb, &b->sb, true) == AF_COUNT;
	}
	return votes;
}

/* The superblock that decides: md takes the freshest one.  When the
 * freshest members disagree on the array's fields, the one a majority of
 * them agrees with wins, so one bad member cannot lead the array; with no
 * majority nothing tells which is right, and the array is refused. */
static struct md_rdev *freshest(GPtrArray *group)
{
	uint64_t top = max_events(group);
	struct md_rdev *best = NULL, *other = NULL;
	int ntop = 0, best_votes = 0;

	for (guint i = 0; i < group->len; i++) {
		struct md_rdev *a = g_ptr_array_index(group, i);
		int votes = a->sb.events == top ? agreeing(group, a, top) : 0;
		ntop += a->sb.events == top;
		if (votes > best_votes) {
			best = a;
			best_votes = votes;
		}
	}
	if (2 * best_votes > ntop)
		return best;
	for (guint j = 0; j < group->len && !other; j++) {
		struct md_rdev *b = g_ptr_array_index(group, j);
		if (b->sb.events == top && differs(&b->sb, &best->sb, true) != AF_COUNT)
			other = b;
	}
	char *why = field_reason(&other->sb, &best->sb, differs(&other->sb, &best->sb, true),
				 best->path, " at the same events, and no majority tells "
				 "which is right; array not started");
	fprintf(stderr, "raidfs: %s: %s\n", other->path, why);
	g_free(why);
	return NULL;
}

/* Why rdev cannot join the array best leads (to be freed), or NULL. */
static char *unfit(const struct md_rdev *rdev, const struct md_rdev *best)
{
	enum array_field f = differs(&rdev->sb, &best->sb, rdev->sb.events == best->sb.events);

	if (f != AF_COUNT)
		return field_reason(&rdev->sb, &best->sb, f, best->path,
				    ", which the freshest members agree on");
	/* md kicks a member whose events lag the freshest by more than one */
	if (rdev->sb.events + 1 < best->sb.events)
		return g_strdup("stale (events older than the freshest member's)");
	return NULL;
}

/* Two members with one dev_number: md's bind_rdev_to_array refuses the
 * second.  The one with newer events keeps the slot; at equal events
 * nothing tells which one the array knows (mdadm stops there too), so the
 * array is refused rather than risk serving one's data as the other's. */
static bool one_per_slot(GPtrArray *group, char **why)
{
	for (guint i = 0; i < group->len; i++) {
		struct md_rdev *a = g_ptr_array_index(group, i);
		for (guint j = i + 1; j < group->len && !why[i]; j++) {
			struct md_rdev *b = g_ptr_array_index(group, j);
			if (why[j] || a->desc_nr != b->desc_nr)
				continue;
			if (a->sb.events == b->sb.events) {
				fprintf(stderr, "raidfs: %s: superblock dev_number %d is also "
					"%s's, at the same events; array not started\n",
					b->path, b->desc_nr, a->path);
				return false;
			}
			guint lose = a->sb.events < b->sb.events ? i : j;
			struct md_rdev *keep = lose == i ? b : a;
			why[lose] = g_strdup_printf("superblock dev_number %d is also %s's, "
						    "which has newer events", keep->desc_nr,
						    keep->path);
		}
	}
	return true;
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

static const char *place_member(struct mddev *mddev, struct md_rdev *rdev)
{
	const struct md_sb *best = &mddev->sb;
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

static void close_group(GPtrArray *group);

static struct mddev *assemble_group(GPtrArray *group, int unit, bool ro, bool run)
{
	struct md_rdev *best = freshest(group);
	char **why = g_new0(char *, group->len);

	for (guint i = 0; best && i < group->len; i++)
		why[i] = unfit(g_ptr_array_index(group, i), best);
	if (!best || !one_per_slot(group, why)) {
		close_group(group);
		free_reasons(why, group->len);
		return NULL;
	}
	/* The leader may itself be left out (and freed) below: from here on
	 * the array's copy of its superblock decides. */
	struct mddev *mddev = g_new0(struct mddev, 1);
	mddev->sb = best->sb;
	mddev->unit = unit;
	mddev->ro = ro;
	mddev->ok_start_degraded = run;
	mddev->name = md_array_name(&mddev->sb, unit);
	mddev->raid_disks = mddev->sb.raid_disks;
	mddev->pers = md_find_personality(mddev->sb.level);
	mddev->slots = g_new0(struct md_rdev *, mddev->raid_disks);
	mddev->rdevs = g_ptr_array_new();
	for (guint i = 0; i < group->len; i++) {
		struct md_rdev *rdev = g_ptr_array_index(group, i);
		const char *r = why[i] ? why[i] : place_member(mddev, rdev);
		if (r)
			left_out(rdev, r);
	}
	free_reasons(why, group->len);
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
