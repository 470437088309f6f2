/* md superblocks: byte codecs for v1.x and 0.90, mdadm's placement rules,
 * probing a member, and "examine" output in mdadm's words.
 *
 * Layouts follow <linux/raid/md_p.h>; the v1 codec works on explicit byte
 * offsets so that it is endian-clean and independent of that header's
 * version (recent kernels renamed pad0 to logical_block_size). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "superblock.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SB_MAGIC            0xa92b4efcu
#define SB_V1_FIXED         256
#define SB_REGION           4096
#define TIME_SEC_MASK       ((1ull << 40) - 1)
#define ROLE_MAX            0xff00      /* highest real role */
#define BITMAP_MAGIC        0x6d746962u

/* feature_map bits (md_p.h) */
#define F_BITMAP_OFFSET     1u
#define F_RECOVERY_OFFSET   2u
#define F_RESHAPE_ACTIVE    4u
#define F_REPLACEMENT       16u
#define F_NEW_OFFSET        64u
#define F_PPL               1024u
#define F_MULTIPLE_PPLS     2048u
#define F_RAID0_LAYOUT      4096u
#define F_ALL               0x1fffu

/* 0.90 disk and array state bits (md_p.h) */
#define D_FAULTY            (1u << 0)
#define D_ACTIVE            (1u << 1)
#define D_SYNC              (1u << 2)
#define D_REMOVED           (1u << 3)
#define D_WRITEMOSTLY       (1u << 9)
#define D_FAILFAST          (1u << 10)
#define SB090_CLEAN         (1u << 0)
#define SB090_BITMAP        (1u << 8)
#define SB090_RESERVED      128u        /* MD_RESERVED_SECTORS: 64 KiB */

/* byte offsets in struct mdp_superblock_1 */
enum {
	V1_MAGIC = 0, V1_MAJOR = 4, V1_FEATURE = 8, V1_LBS = 12,
	V1_SET_UUID = 16, V1_SET_NAME = 32, V1_CTIME = 64, V1_LEVEL = 72,
	V1_LAYOUT = 76, V1_SIZE = 80, V1_CHUNK = 88, V1_RAID_DISKS = 92,
	V1_BITMAP_OFFSET = 96, V1_NEW_LEVEL = 100, V1_RESHAPE_POS = 104,
	V1_DELTA_DISKS = 112, V1_NEW_LAYOUT = 116, V1_NEW_CHUNK = 120,
	V1_NEW_OFFSET = 124, V1_DATA_OFFSET = 128, V1_DATA_SIZE = 136,
	V1_SUPER_OFFSET = 144, V1_RECOVERY_OFFSET = 152, V1_DEV_NUMBER = 160,
	V1_CNT_CORRECTED = 164, V1_DEVICE_UUID = 168, V1_DEVFLAGS = 184,
	V1_BBLOG_SHIFT = 185, V1_BBLOG_SIZE = 186, V1_BBLOG_OFFSET = 188,
	V1_UTIME = 192, V1_EVENTS = 200, V1_RESYNC_OFFSET = 208,
	V1_SB_CSUM = 216, V1_MAX_DEV = 220, V1_PAD3 = 224, V1_ROLES = 256,
};

/* 32-bit word indexes in mdp_super_t */
enum {
	W_MAGIC = 0, W_MAJOR = 1, W_MINOR = 2, W_PATCH = 3, W_GVALID = 4,
	W_UUID0 = 5, W_CTIME = 6, W_LEVEL = 7, W_SIZE = 8, W_NR_DISKS = 9,
	W_RAID_DISKS = 10, W_MD_MINOR = 11, W_NOT_PERSISTENT = 12,
	W_UUID1 = 13, W_UUID2 = 14, W_UUID3 = 15,
	W_UTIME = 32, W_STATE = 33, W_ACTIVE = 34, W_WORKING = 35,
	W_FAILED = 36, W_SPARE = 37, W_CSUM = 38,
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	W_EVENTS_HI = 39, W_EVENTS_LO = 40, W_CP_EVENTS_HI = 41, W_CP_EVENTS_LO = 42,
#else
	W_EVENTS_LO = 39, W_EVENTS_HI = 40, W_CP_EVENTS_LO = 41, W_CP_EVENTS_HI = 42,
#endif
	W_RECOVERY_CP = 43, W_RESHAPE_POS = 44, W_NEW_LEVEL = 46,
	W_DELTA_DISKS = 47, W_NEW_LAYOUT = 48, W_NEW_CHUNK = 49,
	W_LAYOUT = 64, W_CHUNK_SIZE = 65,
	W_DISKS = 128, W_DISK_WORDS = 32, W_THIS_DISK = 992,
};

/* ------------------------------------------------------------------ */
/* small helpers                                                        */

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }

/* 0.90 is host-endian: native word access */
static uint32_t hw(const uint8_t *buf, int word)
{
	uint32_t v;
	memcpy(&v, buf + 4 * word, 4);
	return v;
}
static void set_hw(uint8_t *buf, int word, uint32_t v) { memcpy(buf + 4 * word, &v, 4); }

static void seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static uint64_t round_up(uint64_t v, uint64_t to) { return (v + to - 1) / to * to; }

/* ------------------------------------------------------------------ */
/* names                                                                */

struct name_map {
	const char *name;
	int num;
};

/* First entry per number is the name mdadm prints (its map_num). */
static const struct name_map levels[] = {
	{ "linear", MD_LEVEL_LINEAR }, { "raid0", 0 }, { "0", 0 }, { "stripe", 0 },
	{ "raid1", 1 }, { "1", 1 }, { "mirror", 1 }, { "raid4", 4 }, { "4", 4 },
	{ "raid5", 5 }, { "5", 5 }, { "raid6", 6 }, { "6", 6 },
	{ "raid10", 10 }, { "10", 10 }, { NULL, 0 }
};

/* Levels md knows but raidfs does not run: named for examine only. */
static const struct name_map other_levels[] = {
	{ "multipath", -4 }, { "faulty", -5 }, { "container", -100 }, { NULL, 0 }
};

static const struct name_map r5layouts[] = {
	{ "left-asymmetric", 0 }, { "right-asymmetric", 1 },
	{ "left-symmetric", 2 }, { "right-symmetric", 3 },
	{ "default", 2 }, { "la", 0 }, { "ra", 1 }, { "ls", 2 }, { "rs", 3 },
	{ "parity-first", 4 }, { "parity-last", 5 },
	{ "ddf-zero-restart", 1 }, { "ddf-N-restart", 0 }, { "ddf-N-continue", 2 },
	{ NULL, 0 }
};

static const struct name_map r6layouts[] = {
	{ "left-asymmetric", 0 }, { "right-asymmetric", 1 },
	{ "left-symmetric", 2 }, { "right-symmetric", 3 },
	{ "default", 2 }, { "la", 0 }, { "ra", 1 }, { "ls", 2 }, { "rs", 3 },
	{ "parity-first", 4 }, { "parity-last", 5 },
	{ "ddf-zero-restart", 8 }, { "ddf-N-restart", 9 }, { "ddf-N-continue", 10 },
	{ "left-asymmetric-6", 16 }, { "right-asymmetric-6", 17 },
	{ "left-symmetric-6", 18 }, { "right-symmetric-6", 19 },
	{ "parity-first-6", 20 },
	/* md's own names for the ddf rotations, accepted as input only */
	{ "rotating-zero-restart", 8 }, { "rotating-n-restart", 9 },
	{ "rotating-n-continue", 10 },
	{ NULL, 0 }
};

static const struct name_map r0layouts[] = {
	{ "original", 1 }, { "alternate", 2 }, { "1", 1 }, { "2", 2 },
	{ "dangerous", 0 }, { NULL, 0 }
};

static const char *map_num(const struct name_map *m, int num)
{
	for (; m->name; m++)
		if (m->num == num)
			return m->name;
	return NULL;
}

static int map_name(const struct name_map *m, const char *name, int *num)
{
	for (; m->name; m++)
		if (strcmp(m->name, name) == 0) {
			*num = m->num;
			return 0;
		}
	return -1;
}

const char *md_level_name(int level)
{
	const char *n = map_num(levels, level);

	return n ? n : map_num(other_levels, level);
}

int md_level_parse(const char *s, int *level)
{
	if (!s)
		return -1;
	return map_name(levels, s, level);
}

static const struct name_map *layout_table(int level)
{
	switch (level) {
	case 0: return r0layouts;
	case 4:
	case 5: return r5layouts;
	case 6: return r6layouts;
	default: return NULL;
	}
}

/* raid10: near copies in bits 0-7, far copies in 8-15, bit 16 makes the
 * far copies "offset"; bits 17-18 pick md's far-set variants (1: sets of
 * disks/far, 2: sets of near*far), which mdadm has no names for. */
static const char *r10_name(uint32_t layout, char *buf, size_t len)
{
	unsigned near = layout & 255, far = (layout >> 8) & 255;
	char kind = (layout & 0x10000) ? 'o' : 'f';

	if (layout >> 17 || !near || !far || !buf)
		return NULL;
	if (far == 1)
		snprintf(buf, len, "n%u", near);
	else if (near == 1)
		snprintf(buf, len, "%c%u", kind, far);
	else
		snprintf(buf, len, "n%u%c%u", near, kind, far);
	return buf;
}

const char *md_layout_name(int level, uint32_t layout, char *buf, size_t len)
{
	const struct name_map *t = layout_table(level);

	if (level == 10)
		return r10_name(layout, buf, len);
	if (!t || layout > INT_MAX)
		return NULL;
	return map_num(t, (int)layout);
}

static int parse_copies(const char *s, const char **end, unsigned *copies)
{
	char *e;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	v = strtoul(s, &e, 10);
	if (v < 1 || v > 200)   /* mdadm's bound */
		return -1;
	*copies = (unsigned)v;
	*end = e;
	return 0;
}

static int r10_parse(const char *s, uint32_t *layout)
{
	unsigned near = 1, far = 1, c;
	uint32_t offset = 0;
	const char *p = s;

	if (*p == 'n') {
		if (parse_copies(p + 1, &p, &near))
			return -1;
	}
	if (*p == 'f' || *p == 'o') {
		offset = *p == 'o' ? 0x10000 : 0;
		if (parse_copies(p + 1, &p, &c))
			return -1;
		far = c;
	}
	if (*p || p == s)
		return -1;
	*layout = near | far << 8 | offset;
	return 0;
}

int md_layout_parse(int level, const char *s, uint32_t *layout)
{
	const struct name_map *t = layout_table(level);
	int v;

	if (!s)
		return -1;
	if (level == 10)
		return r10_parse(s, layout);
	if (!t || map_name(t, s, &v))
		return -1;
	*layout = (uint32_t)v;
	return 0;
}

/* What mdadm 4.2's Create picks when no --layout is given. */
int md_layout_default(int level, int raid_disks, uint32_t *layout)
{
	(void)raid_disks;
	switch (level) {
	case 0: *layout = 1; return 0;          /* RAID0_ORIG_LAYOUT */
	case 5:
	case 6: *layout = 2; return 0;          /* left-symmetric */
	case 10: *layout = 0x102; return 0;     /* n2 */
	case MD_LEVEL_LINEAR:
	case 1:
	case 4: *layout = 0; return 0;
	default: return -1;
	}
}

void md_uuid_format(const uint8_t uuid[16], char out[36])
{
	char *p = out;

	for (int i = 0; i < 16; i++) {
		if (i && !(i & 3))
			*p++ = ':';
		p += sprintf(p, "%02x", uuid[i]);
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* Like mdadm, separators may sit anywhere; exactly 32 hex digits. */
int md_uuid_parse(const char *s, uint8_t uuid[16])
{
	uint8_t out[16] = { 0 };
	int n = 0;

	if (!s)
		return -1;
	for (; *s; s++) {
		int v = hexval(*s);

		if (v < 0) {
			if (!strchr(":-. ", *s))
				return -1;
			continue;
		}
		if (n == 32)
			return -1;
		out[n / 2] |= (uint8_t)(n & 1 ? v : v << 4);
		n++;
	}
	if (n != 32)
		return -1;
	memcpy(uuid, out, 16);
	return 0;
}

/* ------------------------------------------------------------------ */
/* v1 codec                                                             */

static uint32_t v1_max_dev_of(const uint8_t *buf)
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
	if (sb->feature_map & ~F_ALL) {
		seterr(err, errlen, "superblock has unknown feature bits 0x%x",
		       sb->feature_map & ~F_ALL);
		return -EINVAL;
	}
	for (int i = V1_PAD3; i < V1_ROLES; i++)
		if (b[i]) {
			seterr(err, errlen, "superblock padding at byte %d is not zero", i);
			return -EINVAL;
		}
	return 0;
}

static int v1_decode(const uint8_t *buf, size_t len, struct md_sb *sb, bool strict,
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

/* ------------------------------------------------------------------ */
/* 0.90 codec                                                           */

/* md's calc_sb_csum over all 4096 bytes, csum word counted as zero. */
static uint32_t csum_090(const uint8_t *buf)
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

static void get_disk090(const uint8_t *buf, int word, struct md_sb090_disk *d)
{
	d->number = hw(buf, word);
	d->major = hw(buf, word + 1);
	d->minor = hw(buf, word + 2);
	d->raid_disk = hw(buf, word + 3);
	d->state = hw(buf, word + 4);
}

static void put_disk090(uint8_t *buf, int word, const struct md_sb090_disk *d)
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

static uint32_t uuid_word(const uint8_t uuid[16], int i)
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
		seterr(err, errlen, "unsupported superblock version %u.%u",
		       hw(buf, W_MAJOR), hw(buf, W_MINOR));
		return -EINVAL;
	}
	if (hw(buf, W_THIS_DISK) >= MD_SB090_DISKS) {
		seterr(err, errlen, "0.90 superblock names device %u of at most %d",
		       hw(buf, W_THIS_DISK), MD_SB090_DISKS);
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

static int decode_090(const uint8_t *buf, struct md_sb *sb, bool strict,
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
		seterr(err, errlen, "0.90 superblock has no raid disks");
		return -EINVAL;
	}
	decode_090_array(buf, sb);
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

/* ------------------------------------------------------------------ */
/* placement                                                            */

/* mdadm's choose_bm_space: room kept for a bitmap, by device size. */
static uint64_t choose_bm_space(uint64_t devsize)
{
	if (devsize < 64 * 2)
		return 0;
	if (devsize - 64 * 2 >= 200ull * 1024 * 1024 * 2)
		return 128 * 2;
	if (devsize - 4 * 2 > 8ull * 1024 * 1024 * 2)
		return 64 * 2;
	return 4 * 2;
}

static bool level_has_chunk(int level)
{
	return level == 0 || level == 4 || level == 5 || level == 6 || level == 10;
}

/* mdadm's chunk in KiB as Create sees it: striped levels default to 512K. */
static uint64_t chunk_kib(const struct md_sb *sb)
{
	uint64_t c = sb->chunk_sectors / 2;

	if (!c && level_has_chunk(sb->level))
		c = 512;
	return c;
}

/* validate_geometry1: reshape headroom of 128M, halved while it exceeds
 * ~0.1% of the device (never below two chunks), plus metadata and bitmap
 * room, rounded up to 1M. */
static uint64_t default_data_offset(uint64_t devsize, uint64_t bmspace, uint64_t chunk)
{
	uint64_t headroom = 128 * 1024 * 2;

	while ((headroom << 10) > devsize && (chunk == 0 || headroom / 2 >= chunk * 2 * 2))
		headroom >>= 1;
	return round_up(12 * 2 + bmspace + headroom, 2 * 1024);
}

struct placement {
	uint64_t sb_offset, data_offset, freesize, bmspace;
};

static int place_front(struct md_sb *sb, int minor, uint64_t n, struct placement *p,
		       char *err, size_t errlen)
{
	p->sb_offset = minor == 2 ? 8 : 0;
	p->data_offset = sb->data_offset ? sb->data_offset
			 : default_data_offset(n, p->bmspace, chunk_kib(sb));
	if (p->data_offset < p->sb_offset + 8) {
		seterr(err, errlen, "data offset %" PRIu64 " overlaps the 1.%d superblock",
		       p->data_offset, minor);
		return -EINVAL;
	}
	if (n < p->data_offset) {
		seterr(err, errlen, "member too small for 1.%d metadata: needs %" PRIu64
		       " sectors, has %" PRIu64, minor, p->data_offset + 1, n);
		return -EINVAL;
	}
	p->freesize = n - p->data_offset;
	return 0;
}

static int place_end(int minor, uint64_t n, struct placement *p, char *err, size_t errlen)
{
	uint64_t overhead = minor == 90 ? SB090_RESERVED : 8 * 2 + 8 + p->bmspace;
	uint64_t aligned = minor == 90 ? n & ~(uint64_t)(SB090_RESERVED - 1) : n & ~7ull;

	if (aligned <= overhead) {
		seterr(err, errlen, "member too small for %s metadata: needs %" PRIu64
		       " sectors, has %" PRIu64, minor == 90 ? "0.90" : "1.0",
		       overhead + (minor == 90 ? SB090_RESERVED : 8), n);
		return -EINVAL;
	}
	p->freesize = aligned - overhead;
	p->sb_offset = minor == 90 ? aligned - SB090_RESERVED : (n - 16) & ~7ull;
	p->data_offset = 0;
	return 0;
}

/* Create's default component size: free space in KiB rounded to the
 * chunk, raid1 to 64K (so it can be reshaped to raid5 later). */
static uint64_t default_size(const struct md_sb *sb, uint64_t freesize)
{
	uint64_t kib = freesize / 2, c = chunk_kib(sb);

	if (c)
		kib &= ~(c - 1);
	if (sb->level == 1)
		kib &= ~63ull;
	return kib * 2;
}

static int set_size(struct md_sb *sb, const struct placement *p, int minor,
		    char *err, size_t errlen)
{
	if (sb->size == 0 && sb->level > 0) {
		sb->size = default_size(sb, p->freesize);
		if (sb->size == 0) {
			seterr(err, errlen, "no free space left on member (%" PRIu64 " sectors)",
			       p->freesize);
			return -EINVAL;
		}
	}
	/* 0.90 records the size in KiB in 32 bits: mdadm stops at 4 TiB */
	if (minor == 90 && sb->level > 0 && sb->size >= 4ull << 31) {
		seterr(err, errlen, "0.90 metadata supports at most 4 terabytes per device");
		return -EINVAL;
	}
	if (sb->size > p->freesize) {
		seterr(err, errlen, "member too small: needs %" PRIu64 " data sectors, has %" PRIu64,
		       sb->size, p->freesize);
		return -EINVAL;
	}
	return 0;
}

/* write_init_super1 for 1.0: bitmap and bad-block log sit below the sb. */
static void finish_end(struct md_sb *sb, const struct placement *p, uint64_t bitmap)
{
	uint64_t bm = (bitmap ? round_up(bitmap, 8) : choose_bm_space(sb->size)) + 8;

	if (p->sb_offset < sb->size + bm)
		bm = p->sb_offset - sb->size;
	sb->data_size = p->sb_offset - bm - sb->data_offset;
	sb->bblog_size = bm >= 8 ? 8 : 0;
	sb->bblog_offset = bm >= 8 ? (uint32_t)-8 : 0;
	if (bitmap)
		sb->bitmap_offset = -(int32_t)round_up(bitmap, 8) - 8;
}

/* write_init_super1 for 1.1/1.2: bitmap 4K after the sb, bblog after it. */
static void finish_front(struct md_sb *sb, const struct placement *p, uint64_t n,
			 uint64_t bitmap)
{
	uint64_t bm = bitmap ? round_up(bitmap, 8) : choose_bm_space(sb->size);
	uint64_t bm_offset = 8;

	sb->data_size = n - p->data_offset;
	sb->bblog_size = 0;
	sb->bblog_offset = 0;
	if (p->data_offset >= p->sb_offset + bm_offset + bm + 8) {
		sb->bblog_size = 8;
		sb->bblog_offset = (uint32_t)(bm_offset + bm);
	} else if (p->data_offset >= p->sb_offset + 16) {
		sb->bblog_size = 8;
		sb->bblog_offset = (uint32_t)(p->data_offset - 8 - p->sb_offset);
	}
	if (bitmap)
		sb->bitmap_offset = (int32_t)bm_offset;
}

static void finish_090(struct md_sb *sb, const struct placement *p)
{
	sb->data_offset = 0;
	sb->data_size = p->sb_offset;
	sb->max_dev = MD_SB090_DISKS;
	sb->bitmap_offset = sb->feature_map & F_BITMAP_OFFSET ? 8 : 0;
}

int md_sb_place(struct md_sb *sb, int minor, uint64_t member_sectors,
		uint64_t bitmap_sectors, char *err, size_t errlen)
{
	struct placement p = { 0 };
	int rc;

	if (minor != 0 && minor != 1 && minor != 2 && minor != 90) {
		seterr(err, errlen, "unknown metadata version %s%d", minor > 2 ? "0." : "1.", minor);
		return -EINVAL;
	}
	if (minor == 90 && bitmap_sectors > 120) {
		seterr(err, errlen, "0.90 bitmap must fit in 60K, asked for %" PRIu64 " sectors",
		       bitmap_sectors);
		return -EINVAL;
	}
	if (minor != 90 && member_sectors < 24) {
		seterr(err, errlen, "member too small for md: needs 24 sectors, has %" PRIu64,
		       member_sectors);
		return -EINVAL;
	}
	p.bmspace = choose_bm_space(member_sectors);
	if (bitmap_sectors > p.bmspace)
		p.bmspace = round_up(bitmap_sectors, 8);
	rc = minor == 1 || minor == 2 ? place_front(sb, minor, member_sectors, &p, err, errlen)
				      : place_end(minor, member_sectors, &p, err, errlen);
	if (rc == 0)
		rc = set_size(sb, &p, minor, err, errlen);
	if (rc)
		return rc;
	sb->major = minor == 90 ? 0 : 1;
	sb->minor = minor;
	sb->super_offset = p.sb_offset;
	sb->data_offset = p.data_offset;
	sb->member_sectors = member_sectors;
	if (bitmap_sectors)
		sb->feature_map |= F_BITMAP_OFFSET;
	if (minor == 90)
		finish_090(sb, &p);
	else if (minor == 0)
		finish_end(sb, &p, bitmap_sectors);
	else
		finish_front(sb, &p, member_sectors, bitmap_sectors);
	return 0;
}

/* ------------------------------------------------------------------ */
/* loading and storing                                                  */

static int member_bytes(int fd, uint64_t *bytes)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISBLK(st.st_mode))
		return ioctl(fd, BLKGETSIZE64, bytes) < 0 ? -errno : 0;
	*bytes = (uint64_t)st.st_size;
	return 0;
}

static ssize_t read_at(int fd, uint8_t *buf, size_t len, uint64_t off)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, buf + got, len - got, (off_t)(off + got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

enum probe_kind { P_11, P_12, P_10, P_090, P_COUNT };

static const char *const kind_name[P_COUNT] = { "1.1", "1.2", "1.0", "0.90" };

static bool probe_offset(enum probe_kind k, uint64_t sectors, uint64_t *off)
{
	switch (k) {
	case P_11: *off = 0; return true;
	case P_12: *off = 8; return true;
	case P_10: *off = (sectors - 16) & ~7ull; return sectors >= 24;
	default:
		*off = (sectors & ~(uint64_t)(SB090_RESERVED - 1)) - SB090_RESERVED;
		return sectors >= SB090_RESERVED;
	}
}

static int truncated(char *err, size_t errlen, const char *what, uint64_t need, uint64_t have)
{
	seterr(err, errlen, "member truncated: %s needs %" PRIu64 " sectors, has %" PRIu64,
	       what, need, have);
	return -EINVAL;
}

/* Does the decoded sb fit the member it came from? */
static int check_fit(const struct md_sb *sb, enum probe_kind k, uint64_t n,
		     char *err, size_t errlen)
{
	uint64_t end;

	if (k == P_090) {
		if (sb->level >= 1 && sb->size > sb->super_offset)
			return truncated(err, errlen, "0.90 data area", sb->size + SB090_RESERVED, n);
		return 0;
	}
	end = k == P_10 ? sb->super_offset : n;
	if (sb->data_offset + sb->data_size > end || sb->data_offset + sb->size > end)
		return truncated(err, errlen, "data area",
				 sb->data_offset + (sb->data_size > sb->size ? sb->data_size : sb->size) +
				 (k == P_10 ? n - end : 0), n);
	return 0;
}

static int decode_at(const uint8_t *buf, size_t got, enum probe_kind k, uint64_t off,
		     struct md_sb *sb, bool strict, char *err, size_t errlen)
{
	size_t need = k == P_090 ? SB_REGION
		      : got >= V1_MAX_DEV + 4 ? SB_V1_FIXED + 2 * (size_t)v1_max_dev_of(buf)
		      : SB_V1_FIXED;
	char what[64];
	int rc;

	if (got < need) {
		snprintf(what, sizeof(what), "%s superblock at sector %" PRIu64, kind_name[k], off);
		return truncated(err, errlen, what, off + (need + 511) / 512, off + got / 512);
	}
	rc = k == P_090 ? decode_090(buf, sb, strict, err, errlen)
			: v1_decode(buf, got, sb, strict, err, errlen);
	if (rc)
		return rc;
	if (k != P_090 && sb->super_offset != off) {
		seterr(err, errlen, "superblock found at sector %" PRIu64 " records super_offset %"
		       PRIu64, off, sb->super_offset);
		return -EINVAL;
	}
	sb->super_offset = off;
	if (k == P_090)
		sb->data_size = off;
	return 0;
}

/* 0 and sb filled, 1 no superblock here, <0 with err for a bad one. */
static int probe(int fd, enum probe_kind k, uint64_t bytes, struct md_sb *sb,
		 bool strict, char *err, size_t errlen)
{
	uint8_t buf[SB_REGION];
	uint64_t off, n = bytes / 512;
	ssize_t got;
	int rc;

	if (!probe_offset(k, n, &off))
		return 1;
	got = read_at(fd, buf, sizeof(buf), off * 512);
	if (got < 0)
		return (int)got;
	if (got < 8 || get32(buf) != SB_MAGIC || get32(buf + 4) != (k == P_090 ? 0u : 1u))
		return 1;
	rc = decode_at(buf, (size_t)got, k, off, sb, strict, err, errlen);
	if (rc == 0 && strict)
		rc = check_fit(sb, k, n, err, errlen);
	if (rc == 0)
		sb->member_sectors = n;
	return rc;
}

int md_sb_load_flags(int fd, struct md_sb *sb, unsigned flags, char *err, size_t errlen)
{
	bool strict = !(flags & MD_SB_LOAD_LENIENT);
	struct md_sb *cand = g_new0(struct md_sb, 1);
	int first_err = 0, best = -1;
	char msg[256] = "";
	uint64_t bytes;
	int rc = member_bytes(fd, &bytes);

	for (int k = 0; rc == 0 && k < P_COUNT; k++) {
		char e[256] = "";
		int r = probe(fd, (enum probe_kind)k, bytes, cand, strict, e, sizeof(e));

		if (r == -EINVAL && !first_err) {
			first_err = r;
			snprintf(msg, sizeof(msg), "%s", e);
		} else if (r < 0 && r != -EINVAL) {
			rc = r;
		} else if (r == 0 && (best < 0 || cand->ctime > sb->ctime)) {
			/* several: the newest wins, as in mdadm's guess_super */
			*sb = *cand;
			best = k;
		}
	}
	g_free(cand);
	if (rc)
		return rc;
	if (best >= 0)
		return 0;
	if (first_err)
		seterr(err, errlen, "%s", msg);
	else
		seterr(err, errlen, "no md superblock found");
	return first_err ? first_err : -ENOENT;
}

int md_sb_load(int fd, struct md_sb *sb, char *err, size_t errlen)
{
	return md_sb_load_flags(fd, sb, 0, err, errlen);
}

static int write_all(int fd, const uint8_t *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pwrite(fd, buf + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	return 0;
}

static int expected_offset(const struct md_sb *sb, uint64_t sectors, uint64_t *off)
{
	enum probe_kind k;

	if (sb->major == 0)
		k = P_090;
	else if (sb->minor >= 0 && sb->minor <= 2)
		k = sb->minor == 0 ? P_10 : sb->minor == 1 ? P_11 : P_12;
	else
		return -EINVAL;
	return probe_offset(k, sectors, off) ? 0 : -EINVAL;
}

int md_sb_encode(int fd, const struct md_sb *sb, uint8_t buf[4096], uint64_t *pos)
{
	uint64_t bytes, off;
	size_t len = SB_REGION;
	int rc = member_bytes(fd, &bytes);

	if (rc)
		return rc;
	if (expected_offset(sb, bytes / 512, &off) || off != sb->super_offset)
		return -EINVAL;
	if (sb->major == 0)
		md_sb_encode_090(sb, buf);
	else
		len = md_sb_encode_v1(sb, buf);
	*pos = off * 512;
	return (int)len;
}

int md_sb_store(int fd, const struct md_sb *sb)
{
	uint8_t buf[SB_REGION];
	uint64_t pos;
	int rc = md_sb_encode(fd, sb, buf, &pos);

	if (rc < 0)
		return rc;
	rc = write_all(fd, buf, rc, pos);
	if (rc == 0 && fdatasync(fd) < 0)
		rc = -errno;
	return rc;
}

/* ------------------------------------------------------------------ */
/* examine                                                              */

/* mdadm's human_size: MiB/MB below 2GiB, GiB/GB below 2TiB, else TiB/TB,
 * each rounded to hundredths. */
static const char *human_size(long long bytes, char *buf, size_t len)
{
	long long c1, c2;
	const char *u1, *u2;

	if (bytes < 5000 * 1024) {
		buf[0] = 0;
		return buf;
	}
	if (bytes < 2 * 1024LL * 1024 * 1024) {
		c1 = (bytes * 200 / (1LL << 20) + 1) / 2;
		c2 = (bytes / (1000000LL / 200) + 1) / 2;
		u1 = "MiB", u2 = "MB";
	} else if (bytes < 2 * 1024LL * 1024 * 1024 * 1024) {
		c1 = (bytes * 200 / (1LL << 30) + 1) / 2;
		c2 = (bytes / (1000000000LL / 200) + 1) / 2;
		u1 = "GiB", u2 = "GB";
	} else {
		c1 = (bytes * 200 / (1LL << 40) + 1) / 2;
		c2 = (bytes / (1000000000000LL / 200) + 1) / 2;
		u1 = "TiB", u2 = "TB";
	}
	snprintf(buf, len, " (%lld.%02lld %s %lld.%02lld %s)", c1 / 100, c1 % 100, u1,
		 c2 / 100, c2 % 100, u2);
	return buf;
}

static void print_time(FILE *out, const char *label, uint64_t t)
{
	time_t tt = (time_t)t;
	char buf[64];

	if (!ctime_r(&tt, buf))
		snprintf(buf, sizeof(buf), "%" PRIu64, t);
	fprintf(out, "%s : %.24s\n", label, buf);
}

static void print_uuid(FILE *out, const char *label, const uint8_t uuid[16])
{
	char u[36];

	md_uuid_format(uuid, u);
	fprintf(out, "%s : %s\n", label, u);
}

static const char *homehost(char *buf, size_t len)
{
	if (gethostname(buf, len - 1) < 0)
		return NULL;
	buf[len - 1] = 0;
	return buf;
}

static void print_r10_layout(FILE *out, uint32_t layout)
{
	unsigned near = layout & 255, far = (layout >> 8) & 255;
	const char *sep = "";

	if (near != 1) {
		fprintf(out, "%s near=%u", sep, near);
		sep = ",";
	}
	if (far != 1)
		fprintf(out, "%s %s=%u", sep, layout & 0x10000 ? "offset" : "far", far);
	if (near * far == 1)
		fprintf(out, "NO REDUNDANCY");
}

static void print_layout_line(FILE *out, const char *label, int level, uint32_t layout)
{
	const struct name_map *t = layout_table(level);
	const char *n = t && layout <= INT_MAX ? map_num(t, (int)layout) : NULL;

	if (level == 10) {
		fprintf(out, "%s :", label);
		print_r10_layout(out, layout);
		fprintf(out, "\n");
		return;
	}
	fprintf(out, "%s : %s\n", label, n ? n : "-unknown-");
}

/* What examine needs from the member beyond the superblock itself. */
struct exam_ctx {
	uint64_t dev_sectors;
	bool have_csum;           /* checksum of the bytes on the member */
	uint32_t csum, csum_expected;
	uint32_t feature_map;     /* bitmap bit dropped if its sb is unusable */
	bool have_bms;
	uint64_t bm_sync_size;
	uint32_t bm_chunk, bm_nodes;
	char cluster[65];
};

static void read_bitmap_sb(int fd, const struct md_sb *sb, struct exam_ctx *x)
{
	uint8_t b[512];
	int64_t at = (int64_t)sb->super_offset + sb->bitmap_offset;

	if (at < 0 || read_at(fd, b, sizeof(b), (uint64_t)at * 512) != sizeof(b) ||
	    get32(b) != BITMAP_MAGIC || memcmp(b + 8, sb->set_uuid, 16)) {
		/* mdadm's load_super1 forgets a bitmap it cannot verify */
		x->feature_map &= ~F_BITMAP_OFFSET;
		return;
	}
	x->have_bms = true;
	x->bm_sync_size = get64(b + 40);
	x->bm_chunk = get32(b + 52);
	x->bm_nodes = get32(b + 68);
	memcpy(x->cluster, b + 72, 64);
	x->cluster[64] = 0;
}

/* mdadm checksums the superblock as it holds it in memory, i.e. after
 * dropping an unverifiable bitmap bit; so do the same on the real bytes. */
static void read_csum(int fd, const struct md_sb *sb, struct exam_ctx *x)
{
	uint8_t b[SB_REGION];

	if (read_at(fd, b, sizeof(b), sb->super_offset * 512) != sizeof(b) ||
	    get32(b + V1_MAGIC) != SB_MAGIC || get64(b + V1_SUPER_OFFSET) != sb->super_offset)
		return;
	put32(b + V1_FEATURE, get32(b + V1_FEATURE) & (x->feature_map | ~F_BITMAP_OFFSET));
	x->have_csum = true;
	x->csum = get32(b + V1_SB_CSUM);
	x->csum_expected = md_sb_csum_v1(b);
}

static void exam_ctx_init(const char *path, const struct md_sb *sb, struct exam_ctx *x)
{
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	uint64_t bytes;

	memset(x, 0, sizeof(*x));
	x->dev_sectors = sb->member_sectors;
	x->feature_map = sb->feature_map;
	if (fd < 0)
		return;
	if (!x->dev_sectors && member_bytes(fd, &bytes) == 0)
		x->dev_sectors = bytes / 512;
	if (sb->feature_map & F_BITMAP_OFFSET)
		read_bitmap_sb(fd, sb, x);
	if (sb->csum_known)
		read_csum(fd, sb, x);
	close(fd);
}

static uint64_t bitmap_bytes(const struct exam_ctx *x)
{
	uint64_t bits, bytes;

	if (!x->have_bms || !x->bm_chunk)
		return 0;
	bits = (x->bm_sync_size * 512 + x->bm_chunk - 1) / x->bm_chunk;
	bytes = (bits + 7) / 8 + 256;
	return round_up(bytes, 4096);
}

static bool any_ppl(uint32_t f) { return f & (F_PPL | F_MULTIPLE_PPLS); }

/* getinfo_super1's space_before/space_after, quirks included. */
static void unused_space(const struct md_sb *sb, const struct exam_ctx *x,
			 uint64_t *before, uint64_t *after)
{
	int64_t bmoff = (x->feature_map & F_BITMAP_OFFSET) ? sb->bitmap_offset : 0;
	int64_t pploff = !(x->feature_map & F_BITMAP_OFFSET) && any_ppl(sb->feature_map)
			 ? (int16_t)(sb->bitmap_offset & 0xffff) : 0;
	uint64_t pplsize = pploff ? (uint32_t)sb->bitmap_offset >> 16 : 0;
	uint64_t data_size = sb->level <= 0 ? sb->data_size : sb->size;
	uint64_t so = sb->super_offset;
	bool bblog = sb->bblog_offset && sb->bblog_size;

	*before = *after = 0;
	if (sb->data_offset < so) {
		uint64_t end = so;

		if (bblog && so + (int32_t)sb->bblog_offset < end)
			end = so + (int32_t)sb->bblog_offset;
		if (so + bmoff + pploff < end)
			end = so + bmoff + pploff;
		*before = sb->data_offset;
		if (sb->data_offset + data_size < end)
			*after = end - data_size - sb->data_offset;
	} else {
		uint64_t earliest = so + (32 + 4) * 2;

		/* mdadm compares bitmap/ppl ends without adding super_offset */
		if (bmoff > 0 && (uint64_t)bmoff + bitmap_bytes(x) / 512 > earliest)
			earliest = (uint64_t)bmoff + bitmap_bytes(x) / 512;
		else if (bmoff <= 0 && pploff > 0 && (uint64_t)pploff + pplsize > earliest)
			earliest = (uint64_t)pploff + pplsize;
		if (bblog && so + (int32_t)sb->bblog_offset + sb->bblog_size > earliest)
			earliest = so + (int32_t)sb->bblog_offset + sb->bblog_size;
		*before = earliest < sb->data_offset ? sb->data_offset - earliest : 0;
		*after = x->dev_sectors - data_size - sb->data_offset;
	}
	if (*before == 0 && *after == 0)
		*after = 1;
}

static uint16_t own_role(const struct md_sb *sb)
{
	if (sb->dev_number < sb->max_dev && sb->dev_number < MD_SB_MAX_ROLES)
		return sb->dev_roles[sb->dev_number];
	return MD_ROLE_SPARE;
}

static uint32_t roles_held(const struct md_sb *sb)
{
	return sb->max_dev < MD_SB_MAX_ROLES ? sb->max_dev : MD_SB_MAX_ROLES;
}

static int delta_extra(const struct md_sb *sb)
{
	return (sb->feature_map & F_RESHAPE_ACTIVE) && sb->delta_disks < 0 ? -sb->delta_disks : 0;
}

static void exam_v1_head(FILE *out, const struct md_sb *sb, const struct exam_ctx *x)
{
	char host[256];
	const char *hh = homehost(host, sizeof(host));
	size_t l = hh ? strlen(hh) : 0;
	const char *lvl = md_level_name(sb->level);

	fprintf(out, "          Magic : %08x\n", SB_MAGIC);
	fprintf(out, "        Version : 1.%d\n",
		sb->super_offset <= 4 ? 1 : sb->super_offset <= 8 ? 2 : 0);
	fprintf(out, "    Feature Map : 0x%x\n", x->feature_map);
	print_uuid(out, "     Array UUID", sb->set_uuid);
	fprintf(out, "           Name : %.32s", sb->set_name);
	if (l > 0 && l < 32 && sb->set_name[l] == ':' && strncmp(sb->set_name, hh, l) == 0)
		fprintf(out, "  (local to host %s)", hh);
	fprintf(out, "\n");
	if (x->have_bms && x->bm_nodes > 0 && (x->feature_map & F_BITMAP_OFFSET))
		fprintf(out, "   Cluster Name : %-64s\n", x->cluster);
	print_time(out, "  Creation Time", sb->ctime);
	fprintf(out, "     Raid Level : %s\n", lvl ? lvl : "-unknown-");
	fprintf(out, "   Raid Devices : %u\n\n", sb->raid_disks);
}

/* mdadm reads level as unsigned here, so linear (-1) counts as "> 0". */
static void exam_v1_sizes(FILE *out, const struct md_sb *sb)
{
	char h[64];
	long long ddsks = 0, denom = 1;

	fprintf(out, " Avail Dev Size : %" PRIu64 " sectors%s\n", sb->data_size,
		human_size((long long)(sb->data_size << 9), h, sizeof(h)));
	if (sb->level == 0)
		return;
	switch (sb->level) {
	case 1: ddsks = 1; break;
	case 4:
	case 5: ddsks = (long long)sb->raid_disks - 1; break;
	case 6: ddsks = (long long)sb->raid_disks - 2; break;
	case 10:
		ddsks = sb->raid_disks;
		denom = (long long)(sb->layout & 255) * ((sb->layout >> 8) & 255);
		break;
	}
	if (ddsks && denom) {
		long long asize = (long long)(sb->size << 9) * ddsks / denom;

		fprintf(out, "     Array Size : %llu KiB%s\n", (unsigned long long)asize >> 10,
			human_size(asize, h, sizeof(h)));
	}
	if (sb->size != sb->data_size)
		fprintf(out, "  Used Dev Size : %" PRIu64 " sectors%s\n", sb->size,
			human_size((long long)(sb->size << 9), h, sizeof(h)));
}

static void exam_v1_offsets(FILE *out, const struct md_sb *sb, const struct exam_ctx *x)
{
	uint64_t before, after;

	if (sb->data_offset)
		fprintf(out, "    Data Offset : %" PRIu64 " sectors\n", sb->data_offset);
	if (sb->new_offset && (sb->feature_map & F_NEW_OFFSET))
		fprintf(out, "     New Offset : %" PRIu64 " sectors\n",
			sb->data_offset + (uint64_t)(int64_t)sb->new_offset);
	fprintf(out, "   Super Offset : %" PRIu64 " sectors\n", sb->super_offset);
	if (sb->feature_map & F_RECOVERY_OFFSET)
		fprintf(out, "Recovery Offset : %" PRIu64 " sectors\n", sb->recovery_offset);
	unused_space(sb, x, &before, &after);
	if (after != 1 && !(sb->feature_map & F_NEW_OFFSET))
		fprintf(out, "   Unused Space : before=%" PRIu64 " sectors, after=%" PRIu64
			" sectors\n", before, after);
	fprintf(out, "          State : %s\n",
		sb->resync_offset == MD_MAX_SECTOR ? "clean" : "active");
	print_uuid(out, "    Device UUID", sb->device_uuid);
	fprintf(out, "\n");
}

/* The reshape lines both formats print alike; the new raid10 layout and
 * chunk size follow, each format its own way. */
static void exam_reshape_common(FILE *out, const struct md_sb *sb)
{
	char h[64];

	fprintf(out, "  Reshape pos'n : %" PRIu64 "%s\n", sb->reshape_position / 2,
		human_size((long long)(sb->reshape_position << 9), h, sizeof(h)));
	if (sb->delta_disks)
		fprintf(out, "  Delta Devices : %d (%d->%u)\n", sb->delta_disks,
			(int)(sb->raid_disks - (uint32_t)sb->delta_disks), sb->raid_disks);
	if (sb->new_level != (uint32_t)sb->level) {
		const char *c = md_level_name((int)sb->new_level);

		fprintf(out, "      New Level : %s\n", c ? c : "-unknown-");
	}
	if (sb->new_layout != sb->layout && (sb->level == 5 || sb->level == 6))
		print_layout_line(out, "     New Layout", sb->level, sb->new_layout);
}

static void exam_v1_reshape(FILE *out, const struct md_sb *sb)
{
	exam_reshape_common(out, sb);
	if (sb->new_layout != sb->layout && sb->level == 10)
		print_layout_line(out, "     New Layout", 10, sb->new_layout);
	if (sb->new_chunk != sb->chunk_sectors)
		fprintf(out, "  New Chunksize : %uK\n", sb->new_chunk / 2);
	fprintf(out, "\n");
}

static void exam_v1_state(FILE *out, const struct md_sb *sb, const struct exam_ctx *x)
{
	uint32_t csum = sb->sb_csum, expect = sb->sb_csum_expected;

	if (x->feature_map & F_BITMAP_OFFSET)
		fprintf(out, "Internal Bitmap : %ld sectors from superblock\n", (long)sb->bitmap_offset);
	else if (any_ppl(sb->feature_map))
		fprintf(out, "            PPL : %u sectors at offset %d sectors from superblock\n",
			(uint32_t)sb->bitmap_offset >> 16, (int16_t)(sb->bitmap_offset & 0xffff));
	if (sb->feature_map & F_RESHAPE_ACTIVE)
		exam_v1_reshape(out, sb);
	if (sb->devflags) {
		fprintf(out, "          Flags :%s%s\n", sb->devflags & 1 ? " write-mostly" : "",
			sb->devflags & 2 ? " failfast" : "");
	}
	print_time(out, "    Update Time", sb->utime);
	if (sb->bblog_size && sb->bblog_offset)
		fprintf(out, "  Bad Block Log : %d entries available at offset %ld sectors%s\n",
			sb->bblog_size * 512 / 8, (long)(int32_t)sb->bblog_offset,
			sb->feature_map & 8 ? " - bad blocks present." : "");
	if (x->have_csum) {
		csum = x->csum;
		expect = x->csum_expected;
	} else if (!sb->csum_known) {
		uint8_t buf[SB_REGION];

		md_sb_encode_v1(sb, buf);
		csum = expect = get32(buf + V1_SB_CSUM);
	}
	if (csum == expect)
		fprintf(out, "       Checksum : %x - correct\n", csum);
	else
		fprintf(out, "       Checksum : %x - expected %x\n", csum, expect);
	fprintf(out, "         Events : %" PRIu64 "\n\n", sb->events);
}

static void exam_v1_geometry(FILE *out, const struct md_sb *sb)
{
	if (sb->level == 0 && (sb->feature_map & F_RAID0_LAYOUT))
		print_layout_line(out, "         Layout", 0, sb->layout);
	if (sb->level == 5 || sb->level == 6 || sb->level == 10)
		print_layout_line(out, "         Layout", sb->level, sb->layout);
	if (level_has_chunk(sb->level))
		fprintf(out, "     Chunk Size : %uK\n", sb->chunk_sectors / 2);
	else if (sb->level == MD_LEVEL_LINEAR)
		fprintf(out, "       Rounding : %uK\n", sb->chunk_sectors / 2);
	fprintf(out, "\n");
}

static void exam_v1_role(FILE *out, const struct md_sb *sb)
{
	uint16_t role = own_role(sb);

	fprintf(out, "   Device Role : ");
	if (role >= MD_ROLE_FAULTY)
		fprintf(out, "spare\n");
	else if (role == MD_ROLE_JOURNAL)
		fprintf(out, "Journal\n");
	else if (sb->feature_map & F_REPLACEMENT)
		fprintf(out, "Replacement device %u\n", role);
	else
		fprintf(out, "Active device %u\n", role);
}

/* One letter per raid slot: how many devices claim it. */
static bool exam_v1_array_state(FILE *out, const struct md_sb *sb)
{
	uint32_t slots = sb->raid_disks + (uint32_t)delta_extra(sb);
	bool inconsistent = false;

	fprintf(out, "   Array State : ");
	for (uint32_t d = 0; d < slots; d++) {
		int cnt = 0;

		for (uint32_t i = 0; i < roles_held(sb); i++)
			cnt += sb->dev_roles[i] == d;
		if (cnt == 2 && sb->level != 0)
			fputc('R', out);
		else if (cnt == 1 || cnt == 0)
			fputc(cnt ? 'A' : '.', out);
		else {
			fputc('?', out);
			inconsistent = true;
		}
	}
	fprintf(out, " ('A' == active, '.' == missing, 'R' == replacing)\n");
	for (uint32_t i = 0; i < roles_held(sb); i++)
		if (sb->dev_roles[i] <= ROLE_MAX && sb->dev_roles[i] > slots)
			inconsistent = true;
	return inconsistent;
}

static void exam_v1(FILE *out, const struct md_sb *sb, const struct exam_ctx *x)
{
	exam_v1_head(out, sb, x);
	exam_v1_sizes(out, sb);
	exam_v1_offsets(out, sb, x);
	exam_v1_state(out, sb, x);
	exam_v1_geometry(out, sb);
	exam_v1_role(out, sb);
	if (!exam_v1_array_state(out, sb))
		return;
	fprintf(out, "WARNING Array state is inconsistent - each number should appear only once\n");
	for (uint32_t d = 0; d < roles_held(sb); d++)
		if (sb->dev_roles[d] >= MD_ROLE_FAULTY)
			fprintf(out, " %u:-", d);
		else
			fprintf(out, " %u:%u", d, sb->dev_roles[d]);
	fprintf(out, "\n");
}

/* 0.90 "local to host": set_uuid2..3 hold the first 8 bytes of
 * sha1(homehost) in host byte order. */
static bool local_090(const struct md_sb *sb)
{
	char host[256];
	const char *hh = homehost(host, sizeof(host));
	uint8_t digest[20], mine[8];
	gsize dlen = sizeof(digest);
	GChecksum *ck;

	if (!hh)
		return false;
	ck = g_checksum_new(G_CHECKSUM_SHA1);
	g_checksum_update(ck, (const guchar *)hh, (gssize)strlen(hh));
	g_checksum_get_digest(ck, digest, &dlen);
	g_checksum_free(ck);
	for (int i = 0; i < 2; i++) {
		uint32_t w = uuid_word(sb->set_uuid, 2 + i);

		memcpy(mine + 4 * i, &w, 4);
	}
	return memcmp(mine, digest, 8) == 0;
}

static void exam_090_sizes(FILE *out, const struct md_sb *sb, const uint8_t *raw)
{
	char h[64];
	long long ddsks = 0, denom = 1, kib = hw(raw, W_SIZE);

	if (sb->level <= 0)
		return;
	fprintf(out, "  Used Dev Size : %d%s\n", (int)hw(raw, W_SIZE),
		human_size(kib << 10, h, sizeof(h)));
	switch (sb->level) {
	case 1: ddsks = 1; break;
	case 4:
	case 5: ddsks = (long long)sb->raid_disks - 1; break;
	case 6: ddsks = (long long)sb->raid_disks - 2; break;
	case 10:
		ddsks = sb->raid_disks;
		denom = (long long)(sb->layout & 255) * ((sb->layout >> 8) & 255);
		break;
	}
	if (ddsks && denom) {
		long long asize = (kib << 10) * ddsks / denom;

		fprintf(out, "     Array Size : %llu%s\n", (unsigned long long)asize >> 10,
			human_size(asize, h, sizeof(h)));
	}
}

static void exam_090_reshape(FILE *out, const struct md_sb *sb, const uint8_t *raw)
{
	if (hw(raw, W_MINOR) <= 90 || sb->reshape_position == MD_MAX_SECTOR)
		return;
	exam_reshape_common(out, sb);
	if (sb->new_layout != sb->layout && sb->level == 10)
		fprintf(out, "     New Layout : near=%u, %s=%u\n", sb->new_layout & 255,
			sb->new_layout & 0x10000 ? "offset" : "far",
			(sb->new_layout >> 8) & 255);
	if (hw(raw, W_NEW_CHUNK) != hw(raw, W_CHUNK_SIZE))
		fprintf(out, "  New Chunksize : %u\n", hw(raw, W_NEW_CHUNK));
	fprintf(out, "\n");
}

/* mdadm's map_dev, for the block devices it can find through sysfs */
static bool dev_name(uint32_t major, uint32_t minor, char *buf, size_t len)
{
	char path[128], line[256];
	FILE *f;
	bool found = false;

	if (!major && !minor)
		return false;
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/uevent", major, minor);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		if (strncmp(line, "DEVNAME=", 8) == 0) {
			line[strcspn(line, "\n")] = 0;
			snprintf(buf, len, "/dev/%s", line + 8);
			found = access(buf, F_OK) == 0;
		}
	fclose(f);
	return found;
}

static void exam_090_disk(FILE *out, int d, const struct md_sb090_disk *dp)
{
	uint32_t state = dp->state & ~(D_WRITEMOSTLY | D_FAILFAST);
	char nb[12], dv[300];

	snprintf(nb, sizeof(nb), "%4d", d);
	fprintf(out, "%4s %5d   %5d    %5d    %5d     ", d < 0 ? "this" : nb,
		(int)dp->number, (int)dp->major, (int)dp->minor, (int)dp->raid_disk);
	if (state & D_FAULTY) fprintf(out, " faulty");
	if (state & D_ACTIVE) fprintf(out, " active");
	if (state & D_SYNC) fprintf(out, " sync");
	if (state & D_REMOVED) fprintf(out, " removed");
	if (dp->state & D_WRITEMOSTLY) fprintf(out, " write-mostly");
	if (dp->state & D_FAILFAST) fprintf(out, " failfast");
	if (state == 0) fprintf(out, " spare");
	if (dev_name(dp->major, dp->minor, dv, sizeof(dv)))
		fprintf(out, "   %s", dv);
	fprintf(out, "\n");
	if (d < 0)
		fprintf(out, "\n");
}

static void exam_090_counts(FILE *out, const struct md_sb *sb, const uint8_t *raw,
			    uint32_t stored, uint32_t expect)
{
	fprintf(out, " Active Devices : %d\n", (int)hw(raw, W_ACTIVE));
	fprintf(out, "Working Devices : %d\n", (int)hw(raw, W_WORKING));
	fprintf(out, " Failed Devices : %d\n", (int)hw(raw, W_FAILED));
	fprintf(out, "  Spare Devices : %d\n", (int)hw(raw, W_SPARE));
	if (stored == expect)
		fprintf(out, "       Checksum : %x - correct\n", stored);
	else
		fprintf(out, "       Checksum : %x - expected %x\n", stored, expect);
	fprintf(out, "         Events : %" PRIu64 "\n\n", sb->events);
}

/* Printed from the decoded view where 0.90 and md_sb agree, else from the
 * raw fields a decode kept (sb->v090) — re-encoded, as md would write it. */
static void exam_090(FILE *out, const struct md_sb *sb, const uint8_t *raw,
		     uint32_t stored, uint32_t expect)
{
	char u[36];
	int last = (int)(sb->raid_disks + (uint32_t)delta_extra(sb) + hw(raw, W_SPARE));
	const char *lvl = md_level_name(sb->level);

	fprintf(out, "          Magic : %08x\n", SB_MAGIC);
	fprintf(out, "        Version : 0.%02u.%02u\n", hw(raw, W_MINOR), hw(raw, W_PATCH));
	md_uuid_format(sb->set_uuid, u);
	fprintf(out, "           UUID : %s", u);
	if (local_090(sb)) {
		char host[256];

		fprintf(out, " (local to host %s)", homehost(host, sizeof(host)));
	}
	fprintf(out, "\n");
	print_time(out, "  Creation Time", sb->ctime);
	fprintf(out, "     Raid Level : %s\n", lvl ? lvl : "-unknown-");
	exam_090_sizes(out, sb, raw);
	fprintf(out, "   Raid Devices : %d\n", (int)sb->raid_disks);
	fprintf(out, "  Total Devices : %d\n", (int)hw(raw, W_NR_DISKS));
	fprintf(out, "Preferred Minor : %d\n\n", (int)hw(raw, W_MD_MINOR));
	exam_090_reshape(out, sb, raw);
	print_time(out, "    Update Time", sb->utime);
	fprintf(out, "          State : %s\n", hw(raw, W_STATE) & SB090_CLEAN ? "clean" : "active");
	if (hw(raw, W_STATE) & SB090_BITMAP)
		fprintf(out, "Internal Bitmap : present\n");
	exam_090_counts(out, sb, raw, stored, expect);
	if (sb->level == 5 || sb->level == 6 || sb->level == 10)
		print_layout_line(out, "         Layout", sb->level, sb->layout);
	if (level_has_chunk(sb->level))
		fprintf(out, "     Chunk Size : %uK\n", hw(raw, W_CHUNK_SIZE) / 1024);
	else if (sb->level == MD_LEVEL_LINEAR)
		fprintf(out, "       Rounding : %uK\n", hw(raw, W_CHUNK_SIZE) / 1024);
	fprintf(out, "\n      Number   Major   Minor   RaidDevice State\n");
	for (int d = -1; d < last && d < MD_SB090_DISKS; d++) {
		struct md_sb090_disk dp;

		get_disk090(raw, d < 0 ? W_THIS_DISK : W_DISKS + d * W_DISK_WORDS, &dp);
		exam_090_disk(out, d, &dp);
	}
}

/* For 0.90 the table and counters come from the decoded raw fields when
 * the sb was read from disk; otherwise from what encode would write. */
static void raw_090(const struct md_sb *sb, uint8_t *raw)
{
	const struct md_sb090 *x = &sb->v090;

	md_sb_encode_090(sb, raw);
	if (!sb->csum_known)
		return;
	set_hw(raw, W_NR_DISKS, x->nr_disks);
	set_hw(raw, W_ACTIVE, x->active_disks);
	set_hw(raw, W_WORKING, x->working_disks);
	set_hw(raw, W_FAILED, x->failed_disks);
	set_hw(raw, W_SPARE, x->spare_disks);
	for (int d = 0; d < MD_SB090_DISKS; d++)
		put_disk090(raw, W_DISKS + d * W_DISK_WORDS, &x->disks[d]);
	put_disk090(raw, W_THIS_DISK, &x->this_disk);
}

/* The 0.90 bytes as they are on the member, with the bitmap bit dropped
 * if no valid bitmap superblock follows (mdadm's load_super0 does so). */
static bool read_raw_090(const char *path, const struct md_sb *sb, uint8_t *raw)
{
	int fd = path && sb->csum_known ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	uint8_t bms[512], uuid[16];
	bool ok;

	if (fd < 0)
		return false;
	ok = read_at(fd, raw, SB_REGION, sb->super_offset * 512) == SB_REGION &&
	     hw(raw, W_MAGIC) == SB_MAGIC && hw(raw, W_MAJOR) == 0;
	if (ok && (hw(raw, W_STATE) & SB090_BITMAP)) {
		md_sb_uuid_kernel(sb, uuid);
		if (read_at(fd, bms, sizeof(bms), sb->super_offset * 512 + SB_REGION) != sizeof(bms) ||
		    get32(bms) != BITMAP_MAGIC || memcmp(bms + 8, uuid, 16))
			set_hw(raw, W_STATE, hw(raw, W_STATE) & ~SB090_BITMAP);
	}
	close(fd);
	return ok;
}

static void examine_090(FILE *out, const char *path, const struct md_sb *sb)
{
	uint8_t raw[SB_REGION];
	uint32_t stored, expect;

	if (read_raw_090(path, sb, raw)) {
		stored = hw(raw, W_CSUM);
		expect = csum_090(raw);
	} else {
		raw_090(sb, raw);
		stored = expect = hw(raw, W_CSUM);
		if (sb->csum_known) {
			stored = sb->sb_csum;
			expect = sb->sb_csum_expected;
		}
	}
	exam_090(out, sb, raw, stored, expect);
}

void md_sb_examine(FILE *out, const char *path, const struct md_sb *sb)
{
	struct exam_ctx x;

	if (path)
		fprintf(out, "%s:\n", path);
	if (sb->major == 0) {
		examine_090(out, path, sb);
		return;
	}
	exam_ctx_init(path, sb, &x);
	exam_v1(out, sb, &x);
}
