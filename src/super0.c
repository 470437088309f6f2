/* The 0.90 superblock codec (mdp_super_t): host-endian 32-bit words. */
#include "super_int.h"

#include <errno.h>

/* md's calc_sb_csum over all 4096 bytes, csum word counted as zero. */
uint32_t csum_090(const uint8_t *buf)
{
	uint64_t sum = 0;

	for (int i = 0; i < SB_REGION / 4; i++)
		if (i != W_CSUM)
			sum += hw(buf, i);
	return (uint32_t)((sum & 0xffffffff) + (sum >> 32));
}

static uint32_t csum_fold(uint32_t c)
{
	c = (c & 0xffff) + (c >> 16);
	return (c & 0xffff) + (c >> 16);
}

void get_disk090(const uint8_t *buf, int word, struct md_sb090_disk *d)
{
	d->number = hw(buf, word);
	d->major = hw(buf, word + 1);
	d->minor = hw(buf, word + 2);
	d->raid_disk = hw(buf, word + 3);
	d->state = hw(buf, word + 4);
}

void put_disk090(uint8_t *buf, int word, const struct md_sb090_disk *d)
{
	set_hw(buf, word, d->number);
	set_hw(buf, word + 1, d->major);
	set_hw(buf, word + 2, d->minor);
	set_hw(buf, word + 3, d->raid_disk);
	set_hw(buf, word + 4, d->state);
}

/* mdadm prints each uuid word as %08x, so keep them big-endian in bytes */
static void uuid_from_words(uint8_t uuid[16], const uint32_t w[4])
{
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 4; j++)
			uuid[4 * i + j] = (uint8_t)(w[i] >> (24 - 8 * j));
}

uint32_t uuid_word(const uint8_t uuid[16], int i)
{
	return (uint32_t)uuid[4 * i] << 24 | (uint32_t)uuid[4 * i + 1] << 16 |
	       (uint32_t)uuid[4 * i + 2] << 8 | uuid[4 * i + 3];
}

/* md keeps 0.90's uuid words in host order in mddev->uuid, and that is
 * what it puts in a bitmap superblock. */
void md_sb_uuid_kernel(const struct md_sb *sb, uint8_t out[16])
{
	if (sb->major != 0) {
		memcpy(out, sb->set_uuid, 16);
		return;
	}
	for (int i = 0; i < 4; i++) {
		uint32_t w = uuid_word(sb->set_uuid, i);

		memcpy(out + 4 * i, &w, 4);
	}
}

static uint16_t role_from_disk090(const struct md_sb090_disk *d)
{
	if (d->state & D_FAULTY)
		return MD_ROLE_FAULTY;
	if ((d->state & (D_ACTIVE | D_SYNC)) == (D_ACTIVE | D_SYNC) && d->raid_disk < ROLE_MAX)
		return (uint16_t)d->raid_disk;
	return MD_ROLE_SPARE;
}

static int check_090(const uint8_t *buf, char *err, size_t errlen)
{
	if (hw(buf, W_MAGIC) != SB_MAGIC) {
		seterr(err, errlen, "bad 0.90 superblock magic 0x%08x", hw(buf, W_MAGIC));
		return -EINVAL;
	}
	if (hw(buf, W_MAJOR) != 0 || hw(buf, W_MINOR) < 90 || hw(buf, W_MINOR) > 91) {
		seterr(err, errlen, "superblock major_version %u minor_version %u is not "
		       "one md reads (super_90_load: 0.90 or 0.91)",
		       hw(buf, W_MAJOR), hw(buf, W_MINOR));
		return -EINVAL;
	}
	if (hw(buf, W_THIS_DISK) >= MD_SB090_DISKS) {
		seterr(err, errlen, "superblock this_disk.number %u is not below the %d "
		       "disks 0.90 can carry", hw(buf, W_THIS_DISK), MD_SB090_DISKS);
		return -EINVAL;
	}
	return 0;
}

static void decode_090_array(const uint8_t *buf, struct md_sb *sb)
{
	uint32_t w[4] = { hw(buf, W_UUID0), hw(buf, W_UUID1), hw(buf, W_UUID2), hw(buf, W_UUID3) };
	uint64_t cp_events = (uint64_t)hw(buf, W_CP_EVENTS_HI) << 32 | hw(buf, W_CP_EVENTS_LO);

	sb->major = 0;
	sb->minor = 90;
	uuid_from_words(sb->set_uuid, w);
	sb->ctime = hw(buf, W_CTIME);
	sb->utime = hw(buf, W_UTIME);
	sb->level = (int32_t)hw(buf, W_LEVEL);
	sb->layout = hw(buf, W_LAYOUT);
	sb->size = (uint64_t)hw(buf, W_SIZE) * 2;
	sb->chunk_sectors = hw(buf, W_CHUNK_SIZE) >> 9;
	sb->raid_disks = hw(buf, W_RAID_DISKS);
	sb->logical_block_size = 512;
	sb->events = (uint64_t)hw(buf, W_EVENTS_HI) << 32 | hw(buf, W_EVENTS_LO);
	/* as super_90_validate: a checkpoint counts only if written with these events */
	if (hw(buf, W_STATE) & SB090_CLEAN)
		sb->resync_offset = MD_MAX_SECTOR;
	else if (cp_events == sb->events)
		sb->resync_offset = hw(buf, W_RECOVERY_CP);
	else
		sb->resync_offset = 0;
	if (hw(buf, W_STATE) & SB090_BITMAP) {
		sb->feature_map |= F_BITMAP_OFFSET;
		sb->bitmap_offset = SB_REGION / 512;    /* md's default: right after the sb */
	}
}

static void decode_090_reshape(const uint8_t *buf, struct md_sb *sb)
{
	uint64_t pos;

	sb->new_level = (uint32_t)sb->level;
	sb->new_layout = sb->layout;
	sb->new_chunk = sb->chunk_sectors;
	if (hw(buf, W_MINOR) < 91)
		return;
	memcpy(&pos, buf + 4 * W_RESHAPE_POS, 8);
	sb->feature_map |= F_RESHAPE_ACTIVE;
	sb->reshape_position = pos;
	sb->new_level = hw(buf, W_NEW_LEVEL);
	sb->delta_disks = (int32_t)hw(buf, W_DELTA_DISKS);
	sb->new_layout = hw(buf, W_NEW_LAYOUT);
	sb->new_chunk = hw(buf, W_NEW_CHUNK) >> 9;
}

static void decode_090_disks(const uint8_t *buf, struct md_sb *sb)
{
	struct md_sb090 *x = &sb->v090;

	x->patch_version = hw(buf, W_PATCH);
	x->md_minor = hw(buf, W_MD_MINOR);
	x->nr_disks = hw(buf, W_NR_DISKS);
	x->active_disks = hw(buf, W_ACTIVE);
	x->working_disks = hw(buf, W_WORKING);
	x->failed_disks = hw(buf, W_FAILED);
	x->spare_disks = hw(buf, W_SPARE);
	for (int d = 0; d < MD_SB090_DISKS; d++) {
		get_disk090(buf, W_DISKS + d * W_DISK_WORDS, &x->disks[d]);
		sb->dev_roles[d] = role_from_disk090(&x->disks[d]);
	}
	for (int d = MD_SB090_DISKS; d < MD_SB_MAX_ROLES; d++)
		sb->dev_roles[d] = MD_ROLE_SPARE;
	get_disk090(buf, W_THIS_DISK, &x->this_disk);
	sb->max_dev = MD_SB090_DISKS;
	sb->dev_number = x->this_disk.number;
	if (x->this_disk.state & D_WRITEMOSTLY)
		sb->devflags |= 1;
	if (x->this_disk.state & D_FAILFAST)
		sb->devflags |= 2;
}

int decode_090(const uint8_t *buf, struct md_sb *sb, bool strict,
		      char *err, size_t errlen)
{
	int rc = check_090(buf, err, errlen);

	if (rc)
		return rc;
	memset(sb, 0, sizeof(*sb));
	sb->csum_known = true;
	sb->sb_csum = hw(buf, W_CSUM);
	sb->sb_csum_expected = csum_090(buf);
	/* the kernel compares folded sums: older arches stored 16-bit ones */
	if (strict && csum_fold(sb->sb_csum) != csum_fold(sb->sb_csum_expected)) {
		seterr(err, errlen, "superblock checksum mismatch (stored 0x%08x, computed 0x%08x)",
		       sb->sb_csum, sb->sb_csum_expected);
		return -EINVAL;
	}
	if (strict && hw(buf, W_RAID_DISKS) == 0) {
		seterr(err, errlen, "superblock raid_disks 0: the array has no members");
		return -EINVAL;
	}
	decode_090_array(buf, sb);
	for (int i = 0; i < 32; i++)
		sb->v090.constant[i] = i == W_NR_DISKS ? 0 : hw(buf, i);
	decode_090_reshape(buf, sb);
	decode_090_disks(buf, sb);
	return 0;
}

int md_sb_decode_090(const uint8_t *buf, struct md_sb *sb, char *err, size_t errlen)
{
	return decode_090(buf, sb, true, err, errlen);
}

struct disk_counts {
	uint32_t nr, active, working, failed, spare;
};

/* Does slot d hold a device, as opposed to being unused?  Roles cannot
 * tell a spare from an empty slot, so the old table decides. */
static bool present_090(const struct md_sb *sb, int d)
{
	const struct md_sb090_disk *o = &sb->v090.disks[d];

	if ((uint32_t)d == sb->dev_number)
		return true;
	if (o->state & D_REMOVED)
		return false;
	return (o->state & (D_ACTIVE | D_SYNC | D_FAULTY)) || o->major || o->minor ||
	       (d > 0 && o->number == (uint32_t)d);
}

static uint32_t flags_090(const struct md_sb *sb, int d)
{
	uint32_t f = sb->v090.disks[d].state & (D_WRITEMOSTLY | D_FAILFAST);

	if ((uint32_t)d != sb->dev_number)
		return f;
	return (sb->devflags & 1 ? D_WRITEMOSTLY : 0) | (sb->devflags & 2 ? D_FAILFAST : 0);
}

static bool recovering_090(const struct md_sb *sb, int d)
{
	return (uint32_t)d == sb->dev_number && (sb->feature_map & F_RECOVERY_OFFSET) &&
	       sb->recovery_offset != MD_MAX_SECTOR;
}

/* One slot of disks[], rebuilt the way super_90_sync lays it out. */
static void build_disk090(const struct md_sb *sb, int d, struct md_sb090_disk *e,
			  struct disk_counts *c)
{
	const struct md_sb090_disk *o = &sb->v090.disks[d];
	uint16_t role = (uint32_t)d < sb->max_dev ? sb->dev_roles[d] : MD_ROLE_SPARE;

	memset(e, 0, sizeof(*e));
	if (role == MD_ROLE_FAULTY) {
		*e = *o;
		e->number = (uint32_t)d;
		e->state = D_FAULTY | (o->state & D_REMOVED);
		if (!(o->state & (D_FAULTY | D_ACTIVE | D_SYNC | D_REMOVED)))
			e->raid_disk = (uint32_t)d;
		if (o->state & D_REMOVED)
			c->failed++;
		else
			c->nr++;
		return;
	}
	if (role >= ROLE_MAX && !present_090(sb, d))
		return;
	e->number = (uint32_t)d;
	e->major = o->major;
	e->minor = o->minor;
	c->nr++;
	c->working++;
	if (role < ROLE_MAX && !recovering_090(sb, d)) {
		e->raid_disk = role;
		e->state = D_ACTIVE | D_SYNC | flags_090(sb, d);
		c->active++;
	} else {
		e->raid_disk = (uint32_t)d;     /* "compatibility", as md writes it */
		e->state = flags_090(sb, d);
		c->spare++;
	}
}

static bool role_active(const struct md_sb *sb, uint32_t r)
{
	for (uint32_t d = 0; d < MD_SB090_DISKS && d < sb->max_dev; d++)
		if (sb->dev_roles[d] == r && !recovering_090(sb, (int)d))
			return true;
	return false;
}

/* Missing raid slots become removed+faulty, as super_90_sync marks them. */
static void mark_missing090(const struct md_sb *sb, struct md_sb090_disk *t,
			    struct disk_counts *c)
{
	for (uint32_t i = 0; i < sb->raid_disks && i < MD_SB090_DISKS; i++) {
		if (t[i].state || t[i].number || role_active(sb, i))
			continue;
		t[i].number = i;
		t[i].raid_disk = i;
		t[i].state = D_REMOVED | D_FAULTY;
		c->failed++;
	}
}

static void encode_090_state(const struct md_sb *sb, uint8_t *buf)
{
	uint32_t state = 0, rcp = 0;
	uint64_t cp = sb->events;

	if (sb->resync_offset == MD_MAX_SECTOR) {
		state |= SB090_CLEAN;
		rcp = UINT32_MAX;               /* (u32)MaxSector, as md stores it */
	} else if (sb->resync_offset == 0 || sb->resync_offset > UINT32_MAX) {
		cp = 0;                         /* needs a full resync */
	} else {
		rcp = (uint32_t)sb->resync_offset;
	}
	if (sb->feature_map & F_BITMAP_OFFSET)
		state |= SB090_BITMAP;
	set_hw(buf, W_STATE, state);
	set_hw(buf, W_RECOVERY_CP, rcp);
	set_hw(buf, W_EVENTS_HI, (uint32_t)(sb->events >> 32));
	set_hw(buf, W_EVENTS_LO, (uint32_t)sb->events);
	set_hw(buf, W_CP_EVENTS_HI, (uint32_t)(cp >> 32));
	set_hw(buf, W_CP_EVENTS_LO, (uint32_t)cp);
}

static void encode_090_array(const struct md_sb *sb, uint8_t *buf)
{
	bool reshape = sb->feature_map & F_RESHAPE_ACTIVE;

	set_hw(buf, W_MAGIC, SB_MAGIC);
	set_hw(buf, W_MAJOR, 0);
	set_hw(buf, W_MINOR, reshape ? 91 : 90);
	set_hw(buf, W_PATCH, sb->v090.patch_version);
	for (int i = 0; i < 4; i++)
		set_hw(buf, i ? W_UUID1 + i - 1 : W_UUID0, uuid_word(sb->set_uuid, i));
	set_hw(buf, W_CTIME, (uint32_t)sb->ctime);
	set_hw(buf, W_UTIME, (uint32_t)sb->utime);
	set_hw(buf, W_LEVEL, (uint32_t)sb->level);
	set_hw(buf, W_SIZE, (uint32_t)(sb->size / 2));
	set_hw(buf, W_RAID_DISKS, sb->raid_disks);
	set_hw(buf, W_MD_MINOR, sb->v090.md_minor);
	set_hw(buf, W_LAYOUT, sb->layout);
	set_hw(buf, W_CHUNK_SIZE, sb->chunk_sectors << 9);
	if (reshape) {
		memcpy(buf + 4 * W_RESHAPE_POS, &sb->reshape_position, 8);
		set_hw(buf, W_NEW_LEVEL, sb->new_level);
		set_hw(buf, W_DELTA_DISKS, (uint32_t)sb->delta_disks);
		set_hw(buf, W_NEW_LAYOUT, sb->new_layout);
		set_hw(buf, W_NEW_CHUNK, sb->new_chunk << 9);
	}
	encode_090_state(sb, buf);
}

void md_sb_encode_090(const struct md_sb *sb, uint8_t buf[4096])
{
	struct md_sb090_disk t[MD_SB090_DISKS];
	struct disk_counts c = { 0 };
	uint32_t me = sb->dev_number < MD_SB090_DISKS ? sb->dev_number : 0;

	memset(buf, 0, SB_REGION);
	encode_090_array(sb, buf);
	for (int d = 0; d < MD_SB090_DISKS; d++)
		build_disk090(sb, d, &t[d], &c);
	mark_missing090(sb, t, &c);
	for (int d = 0; d < MD_SB090_DISKS; d++)
		put_disk090(buf, W_DISKS + d * W_DISK_WORDS, &t[d]);
	put_disk090(buf, W_THIS_DISK, &t[me]);
	set_hw(buf, W_NR_DISKS, c.nr);
	set_hw(buf, W_ACTIVE, c.active);
	set_hw(buf, W_WORKING, c.working);
	set_hw(buf, W_FAILED, c.failed);
	set_hw(buf, W_SPARE, c.spare);
	set_hw(buf, W_CSUM, csum_090(buf));
}
