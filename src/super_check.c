/* One superblock against md's rules and the member it came from.  What md
 * refuses raidfs refuses too, and so is what md would run but raidfs cannot
 * serve correctly (a reshape, a journal, PPL, ...), all before a number
 * from the superblock sizes an allocation or picks a sector to write.
 * Each refusal names the field as md_p.h spells it. */
#include "super_int.h"

#include <errno.h>
#include <inttypes.h>

#define REFUSE(...) (seterr(err, errlen, __VA_ARGS__), -EINVAL)

/* Feature bits md defines that raidfs does not implement.  BITMAP_OFFSET,
 * RECOVERY_OFFSET, BAD_BLOCKS, REPLACEMENT and RAID0_LAYOUT are served.  md reads
 * RESHAPE_BACKWARDS and NEW_OFFSET only with RESHAPE_ACTIVE (super_1_load,
 * super_1_validate) and RECOVERY_BITMAP only with RECOVERY_OFFSET
 * (super_1_validate): alone they mean nothing, and md serves them. */
static const struct {
	uint32_t bit;
	const char *name;
} unsupported[] = {
	{ F_RESHAPE_ACTIVE, "RESHAPE_ACTIVE (a reshape in progress)" },
	{ F_CLUSTERED, "CLUSTERED (an array shared by a cluster)" },
	{ F_JOURNAL, "JOURNAL (a write journal)" },
	{ F_PPL, "PPL (a partial parity log)" },
	{ F_MULTIPLE_PPLS, "MULTIPLE_PPLS (a partial parity log)" },
};

static int check_version(const struct md_sb *sb, char *err, size_t errlen)
{
	if ((sb->major == 0 && sb->minor == 90) ||
	    (sb->major == 1 && sb->minor >= 0 && sb->minor <= 2))
		return 0;
	return REFUSE("superblock major_version %d minor_version %d is not one md writes",
		      sb->major, sb->minor);
}

static int check_features(const struct md_sb *sb, char *err, size_t errlen)
{
	uint32_t f = sb->feature_map;

	/* 0.90 has no feature_map: minor 91 is how it records a reshape */
	if (sb->major == 0 && (f & F_RESHAPE_ACTIVE))
		return REFUSE("superblock minor_version 91 records a reshape in progress, "
			      "which raidfs does not implement");
	if (f & ~F_ALL)
		return REFUSE("superblock feature_map 0x%x has bits 0x%x md does not define",
			      f, f & ~F_ALL);
	for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++)
		if (f & unsupported[i].bit)
			return REFUSE("superblock feature_map 0x%x has MD_FEATURE_%s, which "
				      "raidfs does not implement", f, unsupported[i].name);
	/* super_1_load refuses raid0's layout flag on any other level */
	if ((f & F_RAID0_LAYOUT) && sb->level != 0)
		return REFUSE("superblock feature_map 0x%x has MD_FEATURE_RAID0_LAYOUT "
			      "on level %d", f, sb->level);
	if ((f & F_RECOVERY_BITMAP) && (f & F_RECOVERY_OFFSET))
		return REFUSE("superblock feature_map 0x%x has MD_FEATURE_RECOVERY_BITMAP "
			      "(a recovery guided by the bitmap), which raidfs does not "
			      "implement", f);
	return 0;
}

/* The personalities' min_disks, for the levels raidfs runs. */
static int min_disks(int level)
{
	switch (level) {
	case MD_LEVEL_LINEAR:
	case 0:
	case 1: return 1;
	case 4:
	case 5:
	case 10: return 2;
	case 6: return 4;
	default: return -1;
	}
}

static int check_level(const struct md_sb *sb, char *err, size_t errlen)
{
	const char *name = md_level_name(sb->level);
	uint32_t roles = sb->major == 0 ? MD_SB090_DISKS : MD_SB_MAX_ROLES;
	int min = min_disks(sb->level);

	if (min < 0)
		return REFUSE("superblock level %d (%s) is not one raidfs runs",
			      sb->level, name ? name : "unknown");
	/* raid_disks sizes allocations: bound it before anything else uses it */
	if (sb->raid_disks > roles)
		return REFUSE("superblock raid_disks %u exceeds the %u roles it can carry",
			      sb->raid_disks, roles);
	/* raid_disks past max_dev is no refusal: super_1_validate makes a
	 * member numbered at or past max_dev a spare (assemble.c's role_of) */
	if (sb->raid_disks < (uint32_t)min)
		return REFUSE("superblock raid_disks %u is below the %d %s needs",
			      sb->raid_disks, min, name);
	return 0;
}

/* raid10: near and far copies of at least one, md's three far-set
 * variants, at least two copies and no more than members. */
static bool r10_layout_ok(uint32_t layout, uint32_t raid_disks)
{
	uint32_t near = layout & 255, far = (layout >> 8) & 255;

	return near && far && layout >> 17 <= 2 && near * far >= 2 &&
	       near * far <= raid_disks;
}

/* linear and raid1 have no layout, raid4 ignores it, raid0's depends on
 * the zones (raid0.c decides); raid5, raid6 and raid10 must name one. */
static int check_layout(const struct md_sb *sb, char *err, size_t errlen)
{
	bool ok = true;

	if (sb->level == 5 || sb->level == 6)
		ok = md_layout_name(sb->level, sb->layout, NULL, 0) != NULL;
	else if (sb->level == 10)
		ok = r10_layout_ok(sb->layout, sb->raid_disks);
	if (ok)
		return 0;
	return REFUSE("superblock layout 0x%x is not a %s layout for %u members",
		      sb->layout, md_level_name(sb->level), sb->raid_disks);
}

/* raid5/6 and raid10 need a power of two of at least a page; raid0 any
 * multiple of the logical block size (md's create_strip_zones). */
static int check_chunk(const struct md_sb *sb, char *err, size_t errlen)
{
	const char *field = sb->major == 0 ? "chunk_size" : "chunksize";
	uint32_t c = sb->chunk_sectors;

	if (!level_has_chunk(sb->level))
		return 0;
	if (c == 0 || c > MD_MAX_CHUNK_SECTORS)
		return REFUSE("superblock %s %u sectors is outside 1..%u", field, c,
			      MD_MAX_CHUNK_SECTORS);
	if (sb->level != 0 && (c < 8 || (c & (c - 1))))
		return REFUSE("superblock %s %u sectors is not a power of two of at least 4K",
			      field, c);
	if (sb->level == 0 && c % (sb->logical_block_size / 512))
		return REFUSE("superblock %s %u sectors is not a multiple of "
			      "logical_block_size %u", field, c, sb->logical_block_size);
	return 0;
}

/* This member's slot within the roles.  Which member holds which role is
 * assemble.c's: md reads the roles of the members present (super_1_validate,
 * super_90_validate) and makes one at or past raid_disks a spare
 * (analyze_sbs); an entry of an absent device means nothing. */
static int check_roles(const struct md_sb *sb, char *err, size_t errlen)
{
	uint32_t slots = sb->max_dev < MD_SB_MAX_ROLES ? sb->max_dev : MD_SB_MAX_ROLES;

	if (sb->dev_number >= sb->max_dev)
		return REFUSE("superblock dev_number %u is not below max_dev %u",
			      sb->dev_number, sb->max_dev);
	if (sb->dev_number >= slots)
		return REFUSE("superblock dev_number %u exceeds the %u roles it can carry",
			      sb->dev_number, slots);
	return 0;
}

static int check_numbers(const struct md_sb *sb, char *err, size_t errlen)
{
	uint32_t lbs = sb->logical_block_size;

	if (lbs < 512 || lbs > 65536 || (lbs & (lbs - 1)))
		return REFUSE("superblock logical_block_size %u is not a power of two "
			      "from 512 to 65536", lbs);
	/* every update writes events + 1 */
	if (sb->events == UINT64_MAX)
		return REFUSE("superblock events %" PRIu64 " cannot advance", sb->events);
	return 0;
}

/* The sectors the v1 superblock occupies (md writes 256 + 2 * max_dev
 * bytes, in logical blocks); 0.90's is 4 KiB. */
static uint64_t sb_sectors(const struct md_sb *sb)
{
	uint64_t s = sb->major == 0 ? SB_REGION / 512
		     : round_up(SB_V1_FIXED + 2 * (uint64_t)sb->max_dev, 512) / 512;

	return s > sb->logical_block_size / 512 ? s : sb->logical_block_size / 512;
}

/* 1.1/1.2 keep the data after the superblock and inside the member, 1.0
 * before it; 0.90's decode derives the data area from the superblock. */
static int check_data(const struct md_sb *sb, char *err, size_t errlen)
{
	uint64_t n = sb->member_sectors, end;

	if (sb->data_offset > UINT64_MAX - sb->data_size)
		return REFUSE("superblock data_offset %" PRIu64 " + data_size %" PRIu64
			      " wraps", sb->data_offset, sb->data_size);
	if (sb->data_offset > UINT64_MAX - sb->size)
		return REFUSE("superblock data_offset %" PRIu64 " + size %" PRIu64 " wraps",
			      sb->data_offset, sb->size);
	if (sb->major == 1 && sb->data_size < 10)      /* super_1_load's bound */
		return REFUSE("superblock data_size %" PRIu64 " is below the 10 sectors md "
			      "requires", sb->data_size);
	end = sb->data_offset + sb->data_size;
	if (sb->major == 1 && sb->minor == 0 && end > sb->super_offset)
		return REFUSE("superblock data_offset %" PRIu64 " + data_size %" PRIu64
			      " runs into the superblock at sector %" PRIu64,
			      sb->data_offset, sb->data_size, sb->super_offset);
	if (sb->major == 1 && sb->minor != 0 &&
	    sb->data_offset < sb->super_offset + sb_sectors(sb))
		return REFUSE("superblock data_offset %" PRIu64 " overlaps the superblock "
			      "at sector %" PRIu64, sb->data_offset, sb->super_offset);
	if (n && end > n)
		return REFUSE("member truncated: superblock data_offset %" PRIu64
			      " + data_size %" PRIu64 " needs %" PRIu64 " sectors, has %"
			      PRIu64, sb->data_offset, sb->data_size, end, n);
	return 0;
}

/* size is the used part of each member for the levels with redundancy
 * (linear and raid0 use data_size). */
static int check_size(const struct md_sb *sb, char *err, size_t errlen)
{
	if (sb->level < 1)
		return 0;
	if (sb->size == 0)
		return REFUSE("superblock size 0 leaves the array no data");
	if (sb->size > sb->data_size)
		return REFUSE("superblock size %" PRIu64 " exceeds data_size %" PRIu64,
			      sb->size, sb->data_size);
	/* resync_offset and recovery_offset beyond size are not checked: md
	 * takes them as they are (super_1_validate) and md_do_sync then finds
	 * nothing left to do, as the sync thread here does. */
	return 0;
}

int md_sb_bitmap_space(const struct md_sb *sb, uint64_t *start, uint64_t *sectors,
		       char *err, size_t errlen)
{
	int64_t at = (int64_t)sb->super_offset + sb->bitmap_offset;
	uint64_t lo = 0, hi = sb->member_sectors ? sb->member_sectors : UINT64_MAX;
	uint64_t sb_end = sb->super_offset + sb_sectors(sb);

	if (sb->major == 0) {           /* in the 64 KiB reserved after the sb */
		lo = sb_end;
		hi = sb->super_offset + SB090_RESERVED;
	} else if (at < (int64_t)sb->super_offset) {
		hi = sb->super_offset;
		if (sb->minor == 0)     /* 1.0: between the data and the sb */
			lo = sb->data_offset + sb->data_size;
	} else {
		lo = sb_end;
		if (sb->minor != 0)     /* 1.1/1.2: between the sb and the data */
			hi = sb->data_offset;
	}
	if (at < 0 || (uint64_t)at < lo || (uint64_t)at >= hi)
		return REFUSE("superblock bitmap_offset %d puts the bitmap at sector %" PRId64
			      ", outside sectors %" PRIu64 "..%" PRIu64 " it may use",
			      sb->bitmap_offset, at, lo, hi);
	*start = (uint64_t)at;
	*sectors = hi - (uint64_t)at;
	return 0;
}

int md_sb_check(const struct md_sb *sb, char *err, size_t errlen)
{
	uint64_t start, sectors;
	int rc;

	if ((rc = check_version(sb, err, errlen)) || (rc = check_features(sb, err, errlen)) ||
	    (rc = check_level(sb, err, errlen)) || (rc = check_numbers(sb, err, errlen)) ||
	    (rc = check_layout(sb, err, errlen)) || (rc = check_chunk(sb, err, errlen)) ||
	    (rc = check_roles(sb, err, errlen)) || (rc = check_data(sb, err, errlen)) ||
	    (rc = check_size(sb, err, errlen)))
		return rc;
	/* md_bitmap_create: offset 0 is no bitmap, whatever feature_map says */
	if ((sb->feature_map & F_BITMAP_OFFSET) && sb->bitmap_offset)
		return md_sb_bitmap_space(sb, &start, &sectors, err, errlen);
	return 0;
}
