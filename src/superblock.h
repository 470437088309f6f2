/* md superblocks: v1.x (struct mdp_superblock_1) and 0.90, decoded into one
 * native-endian form so the rest of raidfs never touches on-disk bytes. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define MD_MAX_SECTOR      UINT64_MAX  /* md's MaxSector: "fully in sync" */
#define MD_ROLE_SPARE      0xffff
#define MD_ROLE_FAULTY     0xfffe
#define MD_ROLE_JOURNAL    0xfffd
#define MD_SB_MAX_ROLES    384   /* roles that fit in a 4 KiB v1 superblock region */

#define MD_LEVEL_LINEAR    (-1)

#define MD_SB_V1_MAX_DEV   1920  /* dev_roles a 4 KiB v1 superblock can carry (kernel limit);
				 * only the first MD_SB_MAX_ROLES may be in use */
#define MD_SB090_DISKS     27    /* MD_SB_DISKS */
/* md keeps a chunk's byte count in an int (chunk_sectors << 9): 1 GiB is
 * the largest power of two it can hold. */
#define MD_MAX_CHUNK_SECTORS (1u << 21)

struct md_sb090_disk {     /* mdp_disk_t, host-endian as on disk */
	uint32_t number, major, minor, raid_disk, state;
};

/* What 0.90 records that v1 has no place for.  Decode fills it; encode
 * rebuilds disks[] from dev_roles but keeps major/minor and a device's
 * presence from here.  When creating 0.90 by hand, mark every spare other
 * than this member with disks[d].number = d (d > 0) so it is listed. */
struct md_sb090 {
	uint32_t patch_version;
	uint32_t md_minor;        /* preferred minor: must match on all members */
	uint32_t nr_disks, active_disks, working_disks, failed_disks, spare_disks;
	/* words 0-31 as on disk with nr_disks zeroed: what super_90_load's
	 * md_sb_equal requires every member to share */
	uint32_t constant[32];
	struct md_sb090_disk disks[MD_SB090_DISKS];
	struct md_sb090_disk this_disk;
};

struct md_sb {
	int major;                /* 0 (0.90) or 1 */
	int minor;                /* 90 for 0.90; 0, 1 or 2 for v1.x */
	uint8_t set_uuid[16];
	char set_name[33];        /* NUL-terminated, may hold "host:name" */
	uint64_t ctime, utime;    /* seconds (the v1 low 40 bits) */
	int32_t level;            /* MD_LEVEL_LINEAR, 0, 1, 4, 5, 6, 10 */
	uint32_t layout;
	uint64_t size;            /* used sectors per member (component size) */
	uint32_t chunk_sectors;
	uint32_t raid_disks;
	uint32_t logical_block_size; /* bytes; on-disk 0 decodes to 512 */
	uint32_t feature_map;
	int32_t bitmap_offset;    /* sectors from the superblock, signed */

	uint32_t new_level;       /* reshape fields, carried through unchanged */
	uint64_t reshape_position;
	int32_t delta_disks;
	uint32_t new_layout, new_chunk;
	int32_t new_offset;

	uint64_t data_offset;     /* sectors from start of member */
	uint64_t data_size;       /* sectors usable for data on this member */
	uint64_t super_offset;    /* sectors from start of member */
	uint64_t recovery_offset;
	uint32_t dev_number;
	uint32_t cnt_corrected_read;
	uint8_t device_uuid[16];
	uint8_t devflags;         /* WriteMostly1 = 1, FailFast1 = 2 */
	uint8_t bblog_shift;
	uint16_t bblog_size;
	uint32_t bblog_offset;

	uint64_t events;
	uint64_t resync_offset;   /* MD_MAX_SECTOR when clean */
	uint32_t max_dev;
	uint16_t dev_roles[MD_SB_MAX_ROLES];

	/* Added on load and decode; ignored by the encoders unless noted. */
	uint64_t member_sectors;  /* member size seen by md_sb_load/md_sb_place; 0 unknown */
	bool csum_known;          /* decode saw an on-disk checksum: */
	uint32_t sb_csum;         /*   as stored */
	uint32_t sb_csum_expected;/*   as computed over the stored bytes */
	struct md_sb090 v090;     /* 0.90 only; decode fills it, encode_090 uses it */
};

/* Placement of the superblock and data area on a member of member_sectors
 * sectors, by mdadm's rules for each minor version.  bitmap_sectors is room
 * to reserve for an internal bitmap (0 for none).
 * Details (superblock.c): minor is 0, 1, 2 or 90.  Reads sb->level and
 * sb->chunk_sectors (0 means mdadm's default 512K for striped levels).  Sets
 * major/minor, super_offset, data_offset, data_size, bblog_*, member_sectors;
 * with bitmap_sectors > 0 also bitmap_offset and MD_FEATURE_BITMAP_OFFSET.
 * If sb->size is 0 and the level has redundancy (> 0) it is set to the
 * component size mdadm would pick for this member alone (for members of
 * differing sizes: take the smallest, set it and place every member again).
 * A nonzero sb->data_offset on entry is kept for 1.1/1.2, as mdadm uses the
 * first member's choice for the whole array. */
int md_sb_place(struct md_sb *sb, int minor, uint64_t member_sectors,
		uint64_t bitmap_sectors, char *err, size_t errlen);

/* Probe a member for a superblock: 1.1 at 0, 1.2 at 4 KiB, 1.0 near the end,
 * 0.90 in the last 64 KiB-aligned 64 KiB.  Returns 0 and fills sb, -ENOENT if
 * there is none, -EINVAL (with a one-line reason in err) if one is present
 * but unusable (bad checksum, truncated member, ...), or -errno on IO error. */
int md_sb_load(int fd, struct md_sb *sb, char *err, size_t errlen);

/* md_sb_load with flags.  MD_SB_LOAD_LENIENT loads what mdadm --examine
 * would show: a bad checksum, unknown feature bits or a truncated member
 * do not refuse the superblock (csum_known/sb_csum* tell the examiner). */
#define MD_SB_LOAD_LENIENT 1u
int md_sb_load_flags(int fd, struct md_sb *sb, unsigned flags, char *err,
		     size_t errlen);

/* The checks md (super_1_load, super_1_validate, super_90_load, the
 * personalities' run) and mdadm make on one superblock, done before raidfs
 * allocates, starts or writes anything for it: version, level, layout,
 * chunk, raid_disks, dev_number, dev_roles, the data area and bitmap
 * against the member (sb->member_sectors; 0 skips the checks against the
 * file), size, logical_block_size, events, resync/recovery offsets, and
 * feature bits raidfs does not implement.  Returns 0, or -EINVAL with one
 * line in err naming the field as md_p.h spells it.  md_sb_load calls it;
 * the lenient load does not. */
int md_sb_check(const struct md_sb *sb, char *err, size_t errlen);

/* mdadm's choose_bm_space: sectors kept for a bitmap on a member whose
 * component is devsize sectors. */
uint64_t md_sb_bm_space(uint64_t devsize);

/* Where an internal bitmap of sb (MD_FEATURE_BITMAP_OFFSET) may live on its
 * member: *start sector and *sectors up to the superblock, the data area or
 * the end of the member, whichever comes first.  -EINVAL with a reason when
 * bitmap_offset points into the superblock, the data or outside the file. */
int md_sb_bitmap_space(const struct md_sb *sb, uint64_t *start, uint64_t *sectors,
		       char *err, size_t errlen);

/* Write sb to its place on the member (v1.x or 0.90), checksum computed.
 * Refuses (-EINVAL) when super_offset is not where a load would look on a
 * member of this size; fdatasync()s before returning 0. */
int md_sb_store(int fd, const struct md_sb *sb);
/* md_sb_store's first half: the bytes to write and their file offset;
 * returns their length or -errno.  fd is only measured. */
int md_sb_encode(int fd, const struct md_sb *sb, uint8_t buf[4096], uint64_t *pos);

/* Byte-level codecs, public for the unit tests. */
size_t md_sb_encode_v1(const struct md_sb *sb, uint8_t buf[4096]);
int md_sb_decode_v1(const uint8_t *buf, size_t len, struct md_sb *sb,
		    char *err, size_t errlen);
uint32_t md_sb_csum_v1(const uint8_t *buf);
void md_sb_encode_090(const struct md_sb *sb, uint8_t buf[4096]);
int md_sb_decode_090(const uint8_t *buf, struct md_sb *sb, char *err,
		     size_t errlen);

/* "raidfs examine": the fields mdadm --examine prints, with its names. */
void md_sb_examine(FILE *out, const char *path, const struct md_sb *sb);
/* mdadm's " (1.00 GiB 1.07 GB)" after a size ("" below 5000 KiB), and its
 * "label : layout" line (raid10's " near=2" form). */
const char *md_human_size(long long bytes, char *buf, size_t len);
void md_print_layout(FILE *out, const char *label, int level, uint32_t layout);

/* Names as mdadm spells them.  Parsers return -1 for an unknown name;
 * md_level_name and md_layout_name return NULL for a value with no name. */
const char *md_level_name(int level);          /* "raid5", "linear" */
int md_level_parse(const char *s, int *level); /* "5", "raid5", "linear" */
const char *md_layout_name(int level, uint32_t layout, char *buf, size_t len);
int md_layout_parse(int level, const char *s, uint32_t *layout);
int md_layout_default(int level, int raid_disks, uint32_t *layout);
void md_uuid_format(const uint8_t uuid[16], char out[36]); /* mdadm's xxxxxxxx:xxxxxxxx:... */
/* The array uuid as md holds it in memory (mddev->uuid) and writes it into
 * bitmap superblocks: set_uuid for v1; for 0.90 each 32-bit word in host
 * order, whereas set_uuid keeps the words in the order mdadm prints them. */
void md_sb_uuid_kernel(const struct md_sb *sb, uint8_t out[16]);
int md_uuid_parse(const char *s, uint8_t uuid[16]);
