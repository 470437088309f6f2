/* The v1.x superblock codec (struct mdp_superblock_1).
 *
 * Layouts follow <linux/raid/md_p.h>; the codec works on explicit byte
 * offsets so that it is endian-clean and independent of that header's
 * version (recent kernels renamed pad0 to logical_block_size). */
#include "super_int.h"

#include <errno.h>

#define TIME_SEC_MASK       ((1ull << 40) - 1)

uint32_t v1_max_dev_of(const uint8_t *buf)
{
	uint32_t m = get32(buf + V1_MAX_DEV);

	return m > MD_SB_V1_MAX_DEV ? MD_SB_V1_MAX_DEV : m;
}

/* calc_sb_1_csum: le32 words over 256 + 2*max_dev bytes, the csum word
 * counted as zero, a trailing le16 if max_dev is odd, folded to 32 bits. */
uint32_t md_sb_csum_v1(const uint8_t *buf)
{
	size_t size = SB_V1_FIXED + 2 * (size_t)v1_max_dev_of(buf);
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i + 4 <= size; i += 4)
		if (i != V1_SB_CSUM)
			sum += get32(buf + i);
	if (size - i == 2)
		sum += get16(buf + i);
	return (uint32_t)((sum & 0xffffffff) + (sum >> 32));
}

static void v1_put_fixed(const struct md_sb *sb, uint8_t *b)
{
	put32(b + V1_MAGIC, SB_MAGIC);
	put32(b + V1_MAJOR, 1);
	put32(b + V1_FEATURE, sb->feature_map);
	/* 512 is written as 0: kernels before the field reject a nonzero pad0 */
	put32(b + V1_LBS, sb->logical_block_size == 512 ? 0 : sb->logical_block_size);
	memcpy(b + V1_SET_UUID, sb->set_uuid, 16);
	/* 32 bytes, NUL-padded; a full 32-character name has no terminator */
	memcpy(b + V1_SET_NAME, sb->set_name, strnlen(sb->set_name, 32));
	put64(b + V1_CTIME, sb->ctime & TIME_SEC_MASK);
	put32(b + V1_LEVEL, (uint32_t)sb->level);
	put32(b + V1_LAYOUT, sb->layout);
	put64(b + V1_SIZE, sb->size);
	put32(b + V1_CHUNK, sb->chunk_sectors);
	put32(b + V1_RAID_DISKS, sb->raid_disks);
	put32(b + V1_BITMAP_OFFSET, (uint32_t)sb->bitmap_offset);
	put32(b + V1_NEW_LEVEL, sb->new_level);
	put64(b + V1_RESHAPE_POS, sb->reshape_position);
	put32(b + V1_DELTA_DISKS, (uint32_t)sb->delta_disks);
	put32(b + V1_NEW_LAYOUT, sb->new_layout);
	put32(b + V1_NEW_CHUNK, sb->new_chunk);
	put32(b + V1_NEW_OFFSET, (uint32_t)sb->new_offset);
}

static void v1_put_device(const struct md_sb *sb, uint8_t *b)
{
	put64(b + V1_DATA_OFFSET, sb->data_offset);
	put64(b + V1_DATA_SIZE, sb->data_size);
	put64(b + V1_SUPER_OFFSET, sb->super_offset);
	put64(b + V1_RECOVERY_OFFSET, sb->recovery_offset);
	put32(b + V1_DEV_NUMBER, sb->dev_number);
	put32(b + V1_CNT_CORRECTED, sb->cnt_corrected_read);
	memcpy(b + V1_DEVICE_UUID, sb->device_uuid, 16);
	b[V1_DEVFLAGS] = sb->devflags;
	b[V1_BBLOG_SHIFT] = sb->bblog_shift;
	put16(b + V1_BBLOG_SIZE, sb->bblog_size);
	put32(b + V1_BBLOG_OFFSET, sb->bblog_offset);
	put64(b + V1_UTIME, sb->utime & TIME_SEC_MASK);
	put64(b + V1_EVENTS, sb->events);
	put64(b + V1_RESYNC_OFFSET, sb->resync_offset);
	put32(b + V1_MAX_DEV, sb->max_dev);
}

/* Returns the bytes to write: 256 + 2*max_dev rounded up to a sector.
 * Role slots past max_dev are 0xff-filled as mdadm leaves them. */
size_t md_sb_encode_v1(const struct md_sb *sb, uint8_t buf[4096])
{
	uint32_t max_dev = sb->max_dev > MD_SB_V1_MAX_DEV ? MD_SB_V1_MAX_DEV : sb->max_dev;
	struct md_sb tmp;

	memset(buf, 0, SB_V1_FIXED);
	memset(buf + SB_V1_FIXED, 0xff, SB_REGION - SB_V1_FIXED);
	tmp = *sb;
	tmp.max_dev = max_dev;
	v1_put_fixed(&tmp, buf);
	v1_put_device(&tmp, buf);
	for (uint32_t i = 0; i < max_dev && i < MD_SB_MAX_ROLES; i++)
		put16(buf + V1_ROLES + 2 * i, sb->dev_roles[i]);
	put32(buf + V1_SB_CSUM, md_sb_csum_v1(buf));
	return (size_t)round_up(SB_V1_FIXED + 2 * (size_t)max_dev, 512);
}

static void v1_get_fixed(const uint8_t *b, struct md_sb *sb)
{
	uint32_t lbs = get32(b + V1_LBS);

	sb->major = 1;
	sb->feature_map = get32(b + V1_FEATURE);
	sb->logical_block_size = lbs ? lbs : 512;
	memcpy(sb->set_uuid, b + V1_SET_UUID, 16);
	memcpy(sb->set_name, b + V1_SET_NAME, 32);
	sb->set_name[32] = 0;
	sb->ctime = get64(b + V1_CTIME) & TIME_SEC_MASK;
	sb->level = (int32_t)get32(b + V1_LEVEL);
	sb->layout = get32(b + V1_LAYOUT);
	sb->size = get64(b + V1_SIZE);
	sb->chunk_sectors = get32(b + V1_CHUNK);
	sb->raid_disks = get32(b + V1_RAID_DISKS);
	sb->bitmap_offset = (int32_t)get32(b + V1_BITMAP_OFFSET);
	sb->new_level = get32(b + V1_NEW_LEVEL);
	sb->reshape_position = get64(b + V1_RESHAPE_POS);
	sb->delta_disks = (int32_t)get32(b + V1_DELTA_DISKS);
	sb->new_layout = get32(b + V1_NEW_LAYOUT);
	sb->new_chunk = get32(b + V1_NEW_CHUNK);
	sb->new_offset = (int32_t)get32(b + V1_NEW_OFFSET);
}

static void v1_get_device(const uint8_t *b, struct md_sb *sb)
{
	sb->data_offset = get64(b + V1_DATA_OFFSET);
	sb->data_size = get64(b + V1_DATA_SIZE);
	sb->super_offset = get64(b + V1_SUPER_OFFSET);
	sb->recovery_offset = get64(b + V1_RECOVERY_OFFSET);
	sb->dev_number = get32(b + V1_DEV_NUMBER);
	sb->cnt_corrected_read = get32(b + V1_CNT_CORRECTED);
	memcpy(sb->device_uuid, b + V1_DEVICE_UUID, 16);
	sb->devflags = b[V1_DEVFLAGS];
	sb->bblog_shift = b[V1_BBLOG_SHIFT];
	sb->bblog_size = get16(b + V1_BBLOG_SIZE);
	sb->bblog_offset = get32(b + V1_BBLOG_OFFSET);
	sb->utime = get64(b + V1_UTIME) & TIME_SEC_MASK;
	sb->events = get64(b + V1_EVENTS);
	sb->resync_offset = get64(b + V1_RESYNC_OFFSET);
	sb->max_dev = get32(b + V1_MAX_DEV);
}

/* Roles past what md_sb holds must be unused, or we would lose devices. */
static int v1_get_roles(const uint8_t *b, struct md_sb *sb, char *err, size_t errlen)
{
	for (uint32_t i = 0; i < sb->max_dev; i++) {
		uint16_t r = get16(b + V1_ROLES + 2 * i);

		if (i < MD_SB_MAX_ROLES) {
			sb->dev_roles[i] = r;
		} else if (r != MD_ROLE_SPARE) {
			seterr(err, errlen, "superblock uses device slot %u; at most %d are supported",
			       i, MD_SB_MAX_ROLES);
			return -EINVAL;
		}
	}
	for (uint32_t i = sb->max_dev; i < MD_SB_MAX_ROLES; i++)
		sb->dev_roles[i] = MD_ROLE_SPARE;
	return 0;
}

static int v1_check_header(const uint8_t *b, size_t len, char *err, size_t errlen)
{
	uint32_t max_dev;

	if (len < SB_V1_FIXED) {
		seterr(err, errlen, "superblock buffer too short (%zu bytes)", len);
		return -EINVAL;
	}
	if (get32(b + V1_MAGIC) != SB_MAGIC) {
		seterr(err, errlen, "bad superblock magic 0x%08x", get32(b + V1_MAGIC));
		return -EINVAL;
	}
	if (get32(b + V1_MAJOR) != 1) {
		seterr(err, errlen, "superblock major_version %u, expected 1", get32(b + V1_MAJOR));
		return -EINVAL;
	}
	max_dev = get32(b + V1_MAX_DEV);
	if (max_dev > MD_SB_V1_MAX_DEV) {
		seterr(err, errlen, "superblock max_dev %u exceeds %d", max_dev, MD_SB_V1_MAX_DEV);
		return -EINVAL;
	}
	if (len < SB_V1_FIXED + 2 * (size_t)max_dev) {
		seterr(err, errlen, "superblock with max_dev %u needs %zu bytes, have %zu",
		       max_dev, SB_V1_FIXED + 2 * (size_t)max_dev, len);
		return -EINVAL;
	}
	return 0;
}

/* Checks the kernel makes that lenient loading skips. */
static int v1_check_strict(const uint8_t *b, const struct md_sb *sb, char *err, size_t errlen)
{
	if (sb->sb_csum != sb->sb_csum_expected) {
		seterr(err, errlen, "superblock checksum mismatch (stored 0x%08x, computed 0x%08x)",
		       sb->sb_csum, sb->sb_csum_expected);
		return -EINVAL;
	}
	for (int i = V1_PAD3; i < V1_ROLES; i++)
		if (b[i]) {
			seterr(err, errlen, "superblock pad3[%d] is not zero", i - V1_PAD3);
			return -EINVAL;
		}
	return 0;
}

int v1_decode(const uint8_t *buf, size_t len, struct md_sb *sb, bool strict,
		     char *err, size_t errlen)
{
	int rc = v1_check_header(buf, len, err, errlen);

	if (rc)
		return rc;
	memset(sb, 0, sizeof(*sb));
	v1_get_fixed(buf, sb);
	v1_get_device(buf, sb);
	sb->csum_known = true;
	sb->sb_csum = get32(buf + V1_SB_CSUM);
	sb->sb_csum_expected = md_sb_csum_v1(buf);
	if (strict && (rc = v1_check_strict(buf, sb, err, errlen)))
		return rc;
	rc = v1_get_roles(buf, sb, err, errlen);
	if (rc)
		return rc;
	/* which of 1.0/1.1/1.2: the same rule mdadm's examine uses */
	sb->minor = sb->super_offset <= 4 ? 1 : sb->super_offset <= 8 ? 2 : 0;
	return 0;
}

int md_sb_decode_v1(const uint8_t *buf, size_t len, struct md_sb *sb,
		    char *err, size_t errlen)
{
	return v1_decode(buf, len, sb, true, err, errlen);
}
