/* What the superblock pieces share: md_p.h's on-disk offsets and bits,
 * byte access, and helpers each defined once.  superblock.c holds names,
 * placement, probing and storing; super1.c and super0.c the byte codecs;
 * examine.c mdadm's --examine output.  Private to those four files: the
 * rest of raidfs goes through superblock.h. */
#pragma once
#include "superblock.h"

#include <string.h>

#define SB_MAGIC            0xa92b4efcu
#define SB_V1_FIXED         256
#define SB_REGION           4096
#define ROLE_MAX            0xff00      /* highest real role */

/* feature_map bits (md_p.h) */
#define F_BITMAP_OFFSET     1u
#define F_RECOVERY_OFFSET   2u
#define F_RESHAPE_ACTIVE    4u
#define F_BAD_BLOCKS        8u
#define F_REPLACEMENT       16u
#define F_RESHAPE_BACKWARDS 32u
#define F_NEW_OFFSET        64u
#define F_RECOVERY_BITMAP   128u
#define F_CLUSTERED         256u
#define F_JOURNAL           512u
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

static inline uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}
static inline uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }
static inline void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }

/* 0.90 is host-endian: native word access */
static inline uint32_t hw(const uint8_t *buf, int word)
{
	uint32_t v;
	memcpy(&v, buf + 4 * word, 4);
	return v;
}
static inline void set_hw(uint8_t *buf, int word, uint32_t v) { memcpy(buf + 4 * word, &v, 4); }

static inline uint64_t round_up(uint64_t v, uint64_t to) { return (v + to - 1) / to * to; }

void seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Level and layout name tables (superblock.c), for examine's layout lines. */
struct name_map {
	const char *name;
	int num;
};
const char *map_num(const struct name_map *m, int num);
const struct name_map *layout_table(int level);
bool level_has_chunk(int level);

/* Member access (superblock.c). */
int member_bytes(int fd, uint64_t *bytes);
ssize_t read_at(int fd, uint8_t *buf, size_t len, uint64_t off);

/* Codec internals the prober and examine use (super1.c, super0.c).  The
 * decoders with strict false are md_sb_load's lenient mode. */
uint32_t v1_max_dev_of(const uint8_t *buf);
int v1_decode(const uint8_t *buf, size_t len, struct md_sb *sb, bool strict,
	      char *err, size_t errlen);
uint32_t csum_090(const uint8_t *buf);
void get_disk090(const uint8_t *buf, int word, struct md_sb090_disk *d);
void put_disk090(uint8_t *buf, int word, const struct md_sb090_disk *d);
uint32_t uuid_word(const uint8_t uuid[16], int i);
int decode_090(const uint8_t *buf, struct md_sb *sb, bool strict,
	       char *err, size_t errlen);
