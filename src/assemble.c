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
	AF_MAJOR, AF_LEVEL, AF_RAID_DISKS, AF_LAYOUT, AF_CHUNK, AF_LBS, AF_SB090,
	AF_BITMAP, AF_SIZE, AF_ROLES, AF_COUNT,
};

static const char *const af_name[AF_COUNT] = {
	"major_version", "level", "raid_disks", "layout", "chunksize",
	"logical_block_size", "0.90 constant words", "bitmap_offset", "size", "dev_roles",
};

/* md_p.h's names of the 0.90 words 0-31 super_90_load's md_sb_equal
 * compares that the fields above do not cover; NULL: covered elsewhere
 * (magic, major, level, size, raid_disks), the uuid (it groups the
 * members) or nr_disks (md_sb_equal skips it). */
static const char *const sb090_word[32] = {
	[2] = "minor_version", [3] = "patch_version", [4] = "gvalid_words",
	[6] = "ctime", [11] = "md_minor", [12] = "not_persistent",
	[16] = "gstate_creserved[0]", "gstate_creserved[1]", "gstate_creserved[2]",
	"gstate_creserved[3]", "gstate_creserved[4]", "gstate_creserved[5]",
	"gstate_creserved[6]", "gstate_creserved[7]", "gstate_creserved[8]",
	"gstate_creserved[9]", "gstate_creserved[10]", "gstate_creserved[11]",
	"gstate_creserved[12]", "gstate_creserved[13]", "gstate_creserved[14]",
	"gstate_creserved[15]",
};

static int first_sb090_word_differing(const struct md_sb *a, const struct md_sb *b)
{
	if (a->major != 0 || b->major != 0)
		return -1;
	for (int i = 0; i < 32; i++)
		if (sb090_word[i] && a->v090.constant[i] != b->v090.constant[i])
			return i;
	return -1;
}

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
	/* super_1_load kicks a v1 member whose layout or chunksize differs
	 * from the freshest's, whatever the level; 0.90 (sb_equal) leaves
	 * them out of the comparison, so only the levels using them here */
	case AF_LAYOUT: *v = sb->layout; return sb->major == 1 || (pers && pers->uses_chunk);
	case AF_CHUNK: *v = sb->chunk_sectors; return sb->major == 1 || (pers && pers->uses_chunk);
	case AF_LBS: *v = sb->logical_block_size; return true;
	/* md writes every member's bitmap where the freshest superblock puts
	 * it (super_1_validate); bitmap.c writes each member's where its own
	 * does, so a member whose bitmap lies elsewhere stays out rather than
	 * have that place written.  Offset 0 is no bitmap (md_bitmap_create). */
	case AF_BITMAP:
		*v = sb->feature_map & MD_FEATURE_BITMAP_OFFSET ? sb->bitmap_offset : 0;
		return sb->major == 1;
	case AF_SIZE: *v = (int64_t)sb->size; return sb->level >= 1;
	default: return false;
	}
}

/* The first array-wide field a and b disagree on, or AF_COUNT. */
static enum array_field differs(const struct md_sb *a, const struct md_sb *b, bool freshest)
{
	for (int f = 0; f < (freshest ? AF_ROLES : AF_SIZE); f++) {
		int64_t x, y;
		if (f == AF_SB090 ? first_sb090_word_differing(a, b) >= 0
				  : af_get(a, f, &x) && af_get(b, f, &y) && x != y)
			return f;
	}
	/* 0.90 members each carry their own role (super_90_validate) */
	if (freshest && a->major != 0 && first_role_differing(a, b) >= 0)
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
	if (f == AF_SB090) {
		i = first_sb090_word_differing(sb, ref);
		return g_strdup_printf("superblock %s %u differs from %s %u on %s%s",
				       sb090_word[i], sb->v090.constant[i], sb090_word[i],
				       ref->v090.constant[i], ref_path, why);
	}
	const char *name = f == AF_CHUNK && sb->major == 0 ? "chunk_size" : af_name[f];
	af_get(sb, f, &x);
	af_get(ref, f, &y);
	return g_strdup_printf("superblock %s %" PRId64 " differs from %s %" PRId64
			       " on %s%s", name, x, name, y, ref_path, why);
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

static uint16_t role_of(const struct md_sb *sb, int desc_nr)
{
	if (desc_nr < 0 || (uint32_t)desc_nr >= sb->max_dev ||
	    desc_nr >= MD_SB_MAX_ROLES)
		return MD_ROLE_SPARE;
	return sb->dev_roles[desc_nr];
}

/* rdev's role in the array whose freshest superblock is best: v1 takes it
 * from the freshest superblock (super_1_validate), 0.90 from the member's
 * own (super_90_validate reads its own disks[this_disk.number]). */
static uint16_t member_role(const struct md_sb *best, const struct md_rdev *rdev)
{
	return role_of(best->major == 0 ? &rdev->sb : best, rdev->desc_nr);
}

static bool is_replacement(const struct md_rdev *rdev)
{
	return rdev->sb.major != 0 && (rdev->sb.feature_map & MD_FEATURE_REPLACEMENT);
}

/* Two members in one role below raid_disks: nothing tells which one holds
 * its data (md's personalities refuse such a set in their run), so the
 * array is refused, unless one of them says it is the other's replacement
 * (MD_FEATURE_REPLACEMENT), as md's run takes them.  best: a freshest
 * member not left out. */
static bool one_per_role(GPtrArray *group, char **why, const struct md_rdev *best)
{
	const char *field = best->sb.major == 0 ? "disks" : "dev_roles";

	for (guint i = 0; i < group->len; i++) {
		struct md_rdev *a = g_ptr_array_index(group, i);
		uint16_t r = member_role(&best->sb, a);
		for (guint j = i + 1; j < group->len && !why[i]; j++) {
			struct md_rdev *b = g_ptr_array_index(group, j);
			if (why[j] || r >= best->sb.raid_disks || member_role(&best->sb, b) != r ||
			    is_replacement(a) != is_replacement(b))
				continue;
			fprintf(stderr, "raidfs: %s: superblock %s[%d] and %s[%d] both hold "
				"role %u; array not started\n", b->path, field, a->desc_nr,
				field, b->desc_nr, r);
			return false;
		}
	}
	return true;
}

/* Two members with one dev_number: md's bind_rdev_to_array refuses the
 * second.  The one with newer events keeps the slot; at equal events
 * nothing tells which one the array knows (mdadm stops there too), so the
 * array is refused rather than risk serving one's data as the other's.
 * The same for two members in one role. */
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
	struct md_rdev *best = NULL;
	for (guint i = 0; i < group->len; i++) {
		struct md_rdev *a = g_ptr_array_index(group, i);
		if (!why[i] && (!best || a->sb.events > best->sb.events))
			best = a;
	}
	return !best || one_per_role(group, why, best);
}

/* Members the freshest superblock expects to be working. */
static int expected_members(const struct md_sb *sb)
{
	int n = 0;

	for (uint32_t i = 0; i < sb->max_dev && i < MD_SB_MAX_ROLES; i++)
		n += sb->dev_roles[i] < sb->raid_disks;
	return n;
}

/* A replacement goes beside the member of its role (md's
 * super_1_validate sets Replacement from its own feature_map); copied
 * whole (no recovery_offset), the sync thread's next pass ends it. */
static const char *place_in_role(struct mddev *mddev, struct md_rdev *rdev,
				 uint16_t role)
{
	bool rep = is_replacement(rdev);
	struct md_rdev *_Atomic *where = rep ? &mddev->replacements[role]
					     : &mddev->slots[role];

	if (*where)
		return rep ? "another member already replaces the member of its slot"
			   : "another member already holds its slot";
	*where = rdev;
	rdev->raid_disk = role;
	if (rep)
		atomic_fetch_or(&rdev->flags, RDEV_REPLACEMENT);
	if (rdev->sb.feature_map & MD_FEATURE_RECOVERY_OFFSET)
		rdev->recovery_offset = rdev->sb.recovery_offset;
	else if (rep)
		rdev->recovery_offset = MD_MAX_SECTOR;
	else
		atomic_fetch_or(&rdev->flags, RDEV_IN_SYNC);
	return NULL;
}

/* md's run: a replacement whose role has no member is all there is, and
 * takes the role (in sync when it was copied whole). */
static void lone_replacements(struct mddev *mddev)
{
	for (int i = 0; i < mddev->raid_disks; i++) {
		struct md_rdev *rep = mddev->replacements[i];
		if (!rep || mddev->slots[i])
			continue;
		mddev->replacements[i] = NULL;
		mddev->slots[i] = rep;
		atomic_fetch_and(&rep->flags, ~RDEV_REPLACEMENT);
		if (rep->recovery_offset == MD_MAX_SECTOR)
			atomic_fetch_or(&rep->flags, RDEV_IN_SYNC);
	}
}

static const char *place_member(struct mddev *mddev, struct md_rdev *rdev)
{
	const struct md_sb *best = &mddev->sb;
	uint16_t role = member_role(best, rdev);
	if (role == MD_ROLE_FAULTY)
		return "the array records it as faulty";
	if (role < best->raid_disks) {
		const char *why = place_in_role(mddev, rdev, role);
		if (why)
			return why;
	} else if (role == MD_ROLE_JOURNAL) {
		/* super_1_validate kicks it: no MD_FEATURE_JOURNAL here */
		return "its dev_roles entry is the journal role, which raidfs does not implement";
	}
	/* any other role at or past raid_disks: analyze_sbs makes it a spare */
	if (rdev->sb.devflags & MD_SB_WRITEMOSTLY)
		atomic_fetch_or(&rdev->flags, RDEV_WRITEMOSTLY);
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
		present += (mddev->slots[i] != NULL) + (mddev->replacements[i] != NULL);
	atomic_store(&mddev->degraded, mddev->raid_disks - in_sync);
	if (!md_enough(mddev, -1)) {
		char recovering[32] = "";
		if (in_sync < present)
			snprintf(recovering, sizeof(recovering), " (%d in sync)",
				 in_sync);
		/* name what keeps each present member out of sync */
		for (int i = 0; i < mddev->raid_disks; i++) {
			struct md_rdev *rdev = mddev->slots[i];
			if (rdev && !(atomic_load(&rdev->flags) & RDEV_IN_SYNC))
				fprintf(stderr, "raidfs: %s: superblock recovery_offset %"
					PRIu64 ": still recovering\n", rdev->path,
					rdev->recovery_offset);
		}
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

static struct mddev *assemble_group(GPtrArray *group, int unit, bool ro, bool run,
				    struct md_rdev *bitmap_file)
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
	mddev->slots = g_new0(struct md_rdev *_Atomic, mddev->raid_disks);
	mddev->replacements = g_new0(struct md_rdev *_Atomic, mddev->raid_disks);
	mddev->rdevs = g_ptr_array_new();
	mddev->bitmap_file = bitmap_file;
	for (guint i = 0; i < group->len; i++) {
		struct md_rdev *rdev = g_ptr_array_index(group, i);
		const char *r = why[i] ? why[i] : place_member(mddev, rdev);
		if (r)
			left_out(rdev, r);
	}
	free_reasons(why, group->len);
	lone_replacements(mddev);
	char err[256];
	int r = mddev->pers ? check_members(mddev, run) : 0;
	if (r == 0) {
		r = md_run(mddev, err, sizeof(err));
		if (r < 0)
			fprintf(stderr, "raidfs: %s\n", err);
	}
	if (r < 0) {
		mddev->bitmap_file = NULL;   /* md_assemble's still */
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

/* The bitmap files given (mdadm -A --bitmap=FILE), opened; -EINVAL
 * with the reason said for one that is not a classic md bitmap. */
static int open_bitmap_files(const char *const *paths, bool ro, GPtrArray *files,
			     GArray *uuids)
{
	for (; paths && *paths; paths++) {
		struct md_rdev *rdev;
		uint8_t uuid[16];
		char err[512];
		int r = md_bitmap_file_open(*paths, ro, &rdev, uuid, err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "raidfs: %s\n", err);
			return r;
		}
		g_ptr_array_add(files, rdev);
		g_array_append_vals(uuids, uuid, 16);
	}
	return 0;
}

/* Which group each bitmap file is for (by the uuid in it, as the kernel
 * checks it), into for_group; -EINVAL, said, for a file of no group or
 * one whose array has an internal bitmap (md's SET_BITMAP_FILE: EEXIST). */
static int match_bitmap_files(GPtrArray *order, GPtrArray *files, GArray *uuids,
			      struct md_rdev **for_group)
{
	for (guint f = 0; f < files->len; f++) {
		struct md_rdev *file = g_ptr_array_index(files, f);
		const uint8_t *uuid = &g_array_index(uuids, uint8_t, 16 * f);
		guint g = 0;
		const struct md_sb *sb = NULL;
		for (; g < order->len; g++) {
			GPtrArray *group = g_ptr_array_index(order, g);
			sb = &((struct md_rdev *)g_ptr_array_index(group, 0))->sb;
			if (md_bitmap_uuid_matches(uuid, sb))
				break;
		}
		if (g == order->len) {
			fprintf(stderr, "raidfs: bitmap file %s: no array given has its "
				"uuid\n", file->path);
			return -EINVAL;
		}
		if (sb->feature_map & MD_FEATURE_BITMAP_OFFSET) {
			fprintf(stderr, "raidfs: bitmap file %s: its array has an internal "
				"bitmap\n", file->path);
			return -EINVAL;
		}
		if (for_group[g]) {
			fprintf(stderr, "raidfs: bitmap files %s and %s are for the same "
				"array\n", for_group[g]->path, file->path);
			return -EINVAL;
		}
		for_group[g] = file;
	}
	return 0;
}

/* Open every path, group by set UUID, assemble each group, each with its
 * bitmap file if one is given.  Returns the number of arrays started
 * (added to arrays), or (nothing started) -EBUSY if a member is claimed
 * elsewhere or -EINVAL for a bitmap file that fits no array; *members
 * counts the files that held a superblock at all. */
int md_assemble(const char *const *paths, int npaths,
		const char *const *bitmap_paths, bool ro, bool run,
		GPtrArray *arrays, int *members)
{
	*members = 0;
	GHashTable *groups = g_hash_table_new_full(g_bytes_hash, g_bytes_equal,
		(GDestroyNotify)g_bytes_unref, (GDestroyNotify)g_ptr_array_unref);
	GPtrArray *order = g_ptr_array_new();   /* groups in the order found */
	GPtrArray *files = g_ptr_array_new();
	GArray *uuids = g_array_new(FALSE, FALSE, 1);
	int started = open_bitmap_files(bitmap_paths, ro, files, uuids);

	for (int i = 0; started == 0 && i < npaths; i++) {
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
	struct md_rdev **for_group = g_new0(struct md_rdev *, order->len + 1);
	if (started == 0)
		started = match_bitmap_files(order, files, uuids, for_group);
	for (guint i = 0; i < order->len; i++) {
		if (started < 0) {
			close_group(g_ptr_array_index(order, i));
			continue;
		}
		struct mddev *mddev = assemble_group(g_ptr_array_index(order, i),
						     arrays->len, ro, run, for_group[i]);
		if (mddev) {
			g_ptr_array_add(arrays, mddev);
			started++;
		}
	}
	/* The files no array took: the array's md_free closes the others. */
	for (guint f = 0; f < files->len; f++) {
		bool taken = false;
		for (guint i = 0; started >= 0 && i < arrays->len; i++)
			taken |= ((struct mddev *)g_ptr_array_index(arrays, i))->bitmap_file ==
				 g_ptr_array_index(files, f);
		if (!taken)
			rdev_close(g_ptr_array_index(files, f));
	}
	g_free(for_group);
	g_ptr_array_free(files, TRUE);
	g_array_free(uuids, TRUE);
	g_ptr_array_free(order, TRUE);
	g_hash_table_destroy(groups);
	return started;
}
