/* Unit tests for the superblock code (src/superblock.c, super1.c, super0.c,
 * examine.c).
 *
 * The reference for on-disk bytes is the kernel's <linux/raid/md_p.h>:
 * buffers are built field by field at offsetof() of its structures with
 * explicit little-endian stores, and checksums are recomputed here by an
 * independent loop, so the codec is checked against md, not against itself. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "../src/names.h"
#include "../src/raid.h"
#include "../src/superblock.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <linux/raid/md_p.h>
#include <malloc.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#define V1(f) offsetof(struct mdp_superblock_1, f)

static void le16(uint8_t *b, size_t off, uint16_t v)
{
	b[off] = v & 0xff;
	b[off + 1] = v >> 8;
}

static void le32(uint8_t *b, size_t off, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		b[off + i] = (v >> (8 * i)) & 0xff;
}

static void le64(uint8_t *b, size_t off, uint64_t v)
{
	le32(b, off, (uint32_t)v);
	le32(b, off + 4, (uint32_t)(v >> 32));
}

static uint32_t rd32(const uint8_t *b, size_t off)
{
	return b[off] | b[off + 1] << 8 | b[off + 2] << 16 | (uint32_t)b[off + 3] << 24;
}

/* calc_sb_1_csum, written again from its description in md.c */
static uint32_t ref_csum_v1(const uint8_t *b)
{
	uint32_t max_dev = rd32(b, V1(max_dev));
	size_t size = 256 + 2 * (size_t)max_dev;
	uint8_t tmp[4096];
	uint64_t sum = 0;
	size_t i;

	memcpy(tmp, b, size);
	le32(tmp, V1(sb_csum), 0);
	for (i = 0; i + 4 <= size; i += 4)
		sum += rd32(tmp, i);
	if (size - i == 2)
		sum += tmp[i] | tmp[i + 1] << 8;
	return (uint32_t)((sum & 0xffffffff) + (sum >> 32));
}

/* calc_sb_csum for 0.90: host u32 words over 4096 bytes, csum zeroed */
static uint32_t ref_csum_090(const mdp_super_t *sb)
{
	mdp_super_t tmp = *sb;
	const uint32_t *w = (const uint32_t *)&tmp;
	uint64_t sum = 0;

	tmp.sb_csum = 0;
	for (size_t i = 0; i < sizeof(tmp) / 4; i++)
		sum += w[i];
	return (uint32_t)((sum & 0xffffffff) + (sum >> 32));
}

static const uint8_t uuid_a[16] = {
	0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
	0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10,
};
static const uint8_t uuid_d[16] = {
	0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
	0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
};

/* A v1 superblock with every field distinct, and its bytes. */
static void sample_v1(struct md_sb *sb)
{
	memset(sb, 0, sizeof(*sb));
	sb->major = 1;
	sb->minor = 2;
	memcpy(sb->set_uuid, uuid_a, 16);
	strcpy(sb->set_name, "host:array");
	sb->ctime = 1700000000;
	sb->utime = 1700000123;
	sb->level = 6;
	sb->layout = 18;
	sb->size = 2093056;
	sb->chunk_sectors = 1024;
	sb->raid_disks = 4;
	sb->logical_block_size = 4096;
	sb->feature_map = 1 | 2;
	sb->bitmap_offset = -72;
	sb->new_level = 6;
	sb->reshape_position = 0x123456789ull;
	sb->delta_disks = -1;
	sb->new_layout = 2;
	sb->new_chunk = 256;
	sb->new_offset = -2048;
	sb->data_offset = 4096;
	sb->data_size = 2093056;
	sb->super_offset = 8;
	sb->recovery_offset = 777;
	sb->dev_number = 3;
	sb->cnt_corrected_read = 9;
	memcpy(sb->device_uuid, uuid_d, 16);
	sb->devflags = 1;
	sb->bblog_shift = 3;
	sb->bblog_size = 8;
	sb->bblog_offset = 16;
	sb->events = 0x1122334455ull;
	sb->resync_offset = MD_MAX_SECTOR;
	sb->max_dev = 5;        /* odd: the checksum ends in a le16 */
	for (int i = 0; i < MD_SB_MAX_ROLES; i++)
		sb->dev_roles[i] = MD_ROLE_SPARE;
	sb->dev_roles[0] = 0;
	sb->dev_roles[1] = 1;
	sb->dev_roles[2] = MD_ROLE_FAULTY;
	sb->dev_roles[3] = 2;
	sb->dev_roles[4] = MD_ROLE_SPARE;
}

static void sample_v1_bytes(uint8_t b[4096])
{
	memset(b, 0, 4096);
	le32(b, V1(magic), 0xa92b4efc);
	le32(b, V1(major_version), 1);
	le32(b, V1(feature_map), 3);
	le32(b, 12, 4096);                     /* logical_block_size (pad0 here) */
	memcpy(b + V1(set_uuid), uuid_a, 16);
	memcpy(b + V1(set_name), "host:array", 10);
	le64(b, V1(ctime), 1700000000);
	le32(b, V1(level), 6);
	le32(b, V1(layout), 18);
	le64(b, V1(size), 2093056);
	le32(b, V1(chunksize), 1024);
	le32(b, V1(raid_disks), 4);
	le32(b, V1(bitmap_offset), (uint32_t)-72);
	le32(b, V1(new_level), 6);
	le64(b, V1(reshape_position), 0x123456789ull);
	le32(b, V1(delta_disks), (uint32_t)-1);
	le32(b, V1(new_layout), 2);
	le32(b, V1(new_chunk), 256);
	le32(b, V1(new_offset), (uint32_t)-2048);
	le64(b, V1(data_offset), 4096);
	le64(b, V1(data_size), 2093056);
	le64(b, V1(super_offset), 8);
	le64(b, V1(recovery_offset), 777);
	le32(b, V1(dev_number), 3);
	le32(b, V1(cnt_corrected_read), 9);
	memcpy(b + V1(device_uuid), uuid_d, 16);
	b[V1(devflags)] = 1;
	b[V1(bblog_shift)] = 3;
	le16(b, V1(bblog_size), 8);
	le32(b, V1(bblog_offset), 16);
	le64(b, V1(utime), 1700000123);
	le64(b, V1(events), 0x1122334455ull);
	le64(b, V1(resync_offset), ~0ull);
	le32(b, V1(max_dev), 5);
	le16(b, V1(dev_roles) + 0, 0);
	le16(b, V1(dev_roles) + 2, 1);
	le16(b, V1(dev_roles) + 4, 0xfffe);
	le16(b, V1(dev_roles) + 6, 2);
	le16(b, V1(dev_roles) + 8, 0xffff);
	le32(b, V1(sb_csum), ref_csum_v1(b));
}

static void assert_same_v1(const struct md_sb *a, const struct md_sb *b)
{
	g_assert_cmpint(a->major, ==, b->major);
	g_assert_cmpint(a->minor, ==, b->minor);
	g_assert_cmpmem(a->set_uuid, 16, b->set_uuid, 16);
	g_assert_cmpstr(a->set_name, ==, b->set_name);
	g_assert_cmpuint(a->ctime, ==, b->ctime);
	g_assert_cmpuint(a->utime, ==, b->utime);
	g_assert_cmpint(a->level, ==, b->level);
	g_assert_cmpuint(a->layout, ==, b->layout);
	g_assert_cmpuint(a->size, ==, b->size);
	g_assert_cmpuint(a->chunk_sectors, ==, b->chunk_sectors);
	g_assert_cmpuint(a->raid_disks, ==, b->raid_disks);
	g_assert_cmpuint(a->logical_block_size, ==, b->logical_block_size);
	g_assert_cmpuint(a->feature_map, ==, b->feature_map);
	g_assert_cmpint(a->bitmap_offset, ==, b->bitmap_offset);
	g_assert_cmpuint(a->new_level, ==, b->new_level);
	g_assert_cmpuint(a->reshape_position, ==, b->reshape_position);
	g_assert_cmpint(a->delta_disks, ==, b->delta_disks);
	g_assert_cmpuint(a->new_layout, ==, b->new_layout);
	g_assert_cmpuint(a->new_chunk, ==, b->new_chunk);
	g_assert_cmpint(a->new_offset, ==, b->new_offset);
	g_assert_cmpuint(a->data_offset, ==, b->data_offset);
	g_assert_cmpuint(a->data_size, ==, b->data_size);
	g_assert_cmpuint(a->super_offset, ==, b->super_offset);
	g_assert_cmpuint(a->recovery_offset, ==, b->recovery_offset);
	g_assert_cmpuint(a->dev_number, ==, b->dev_number);
	g_assert_cmpuint(a->cnt_corrected_read, ==, b->cnt_corrected_read);
	g_assert_cmpmem(a->device_uuid, 16, b->device_uuid, 16);
	g_assert_cmpuint(a->devflags, ==, b->devflags);
	g_assert_cmpuint(a->bblog_shift, ==, b->bblog_shift);
	g_assert_cmpuint(a->bblog_size, ==, b->bblog_size);
	g_assert_cmpuint(a->bblog_offset, ==, b->bblog_offset);
	g_assert_cmpuint(a->events, ==, b->events);
	g_assert_cmpuint(a->resync_offset, ==, b->resync_offset);
	g_assert_cmpuint(a->max_dev, ==, b->max_dev);
	for (uint32_t i = 0; i < a->max_dev && i < MD_SB_MAX_ROLES; i++)
		g_assert_cmpuint(a->dev_roles[i], ==, b->dev_roles[i]);
}

static void test_v1_layout_matches_header(void)
{
	/* the codec hard-codes offsets; they must be md_p.h's */
	g_assert_cmpuint(sizeof(struct mdp_superblock_1), ==, 256);
	g_assert_cmpuint(V1(data_offset), ==, 128);
	g_assert_cmpuint(V1(utime), ==, 192);
	g_assert_cmpuint(V1(sb_csum), ==, 216);
	g_assert_cmpuint(sizeof(mdp_super_t), ==, 4096);
}

static void test_v1_encode_matches_hand_built(void)
{
	struct md_sb sb;
	uint8_t want[4096], got[4096];
	size_t n;

	sample_v1(&sb);
	sample_v1_bytes(want);
	n = md_sb_encode_v1(&sb, got);
	g_assert_cmpuint(n, ==, 512);                   /* 256 + 2*5, to a sector */
	g_assert_cmpmem(got, 256 + 2 * 5, want, 256 + 2 * 5);
	for (size_t i = 256 + 2 * 5; i < n; i++)        /* unused role slots */
		g_assert_cmpuint(got[i], ==, 0xff);
}

static void test_v1_decode_hand_built(void)
{
	struct md_sb want, got;
	uint8_t b[4096];
	char err[256] = "";

	sample_v1(&want);
	sample_v1_bytes(b);
	g_assert_cmpint(md_sb_decode_v1(b, sizeof(b), &got, err, sizeof(err)), ==, 0);
	assert_same_v1(&want, &got);
	g_assert_true(got.csum_known);
	g_assert_cmpuint(got.sb_csum, ==, ref_csum_v1(b));
	g_assert_cmpuint(got.sb_csum, ==, got.sb_csum_expected);
}

static void test_v1_csum_matches_reference(void)
{
	uint8_t b[4096];

	sample_v1_bytes(b);
	g_assert_cmpuint(md_sb_csum_v1(b), ==, ref_csum_v1(b));
	/* the stored csum field itself must not count */
	le32(b, V1(sb_csum), 0xdeadbeef);
	g_assert_cmpuint(md_sb_csum_v1(b), ==, ref_csum_v1(b));
	/* even max_dev: no trailing half word */
	le32(b, V1(max_dev), 384);
	memset(b + 256, 0xff, 2 * 384);
	g_assert_cmpuint(md_sb_csum_v1(b), ==, ref_csum_v1(b));
}

static void test_v1_csum_mismatch_rejected(void)
{
	struct md_sb sb;
	uint8_t b[4096];
	char err[256] = "";

	sample_v1_bytes(b);
	b[V1(events)] ^= 1;
	g_assert_cmpint(md_sb_decode_v1(b, sizeof(b), &sb, err, sizeof(err)), ==, -EINVAL);
	g_assert_nonnull(strstr(err, "checksum mismatch"));
	g_assert_null(strchr(err, '\n'));
}

static void test_v1_bad_header_rejected(void)
{
	struct md_sb sb;
	uint8_t b[4096];
	char err[256];

	sample_v1_bytes(b);
	le32(b, V1(magic), 0xa92b4efd);
	g_assert_cmpint(md_sb_decode_v1(b, sizeof(b), &sb, err, sizeof(err)), ==, -EINVAL);
	g_assert_nonnull(strstr(err, "magic"));

	sample_v1_bytes(b);
	le32(b, V1(major_version), 2);
	le32(b, V1(sb_csum), ref_csum_v1(b));
	g_assert_cmpint(md_sb_decode_v1(b, sizeof(b), &sb, err, sizeof(err)), ==, -EINVAL);
	g_assert_nonnull(strstr(err, "major_version"));

	sample_v1_bytes(b);
	le32(b, V1(max_dev), 1921);                     /* more than 4 KiB holds */
	g_assert_cmpint(md_sb_decode_v1(b, sizeof(b), &sb, err, sizeof(err)), ==, -EINVAL);
	g_assert_nonnull(strstr(err, "max_dev"));
}

static void test_v1_roles_beyond_supported(void)
{
	struct md_sb sb;
	uint8_t b[4096];
	char err[256];

	/* 1920 slots is legal for md; fine while the ones past 384 are unused */
	sample_v1_bytes(b);
	le32(b, V1(max_dev), 1920);
	memset(b + 256 + 10, 0xff, 4096 - 256 - 10);
	le32(b, V1(sb_csum), ref_csum_v1(b));
	g_assert_cmpint(md_sb_decode_v1(b, sizeof(b), &sb, err, sizeof(err)), ==, 0);
	g_assert_cmpuint(sb.max_dev, ==, 1920);
	g_assert_cmpuint(sb.dev_roles[3], ==, 2);

	le16(b, 256 + 2 * 400, 3);
	le32(b, V1(sb_csum), ref_csum_v1(b));
	g_assert_cmpint(md_sb_decode_v1(b, sizeof(b), &sb, err, sizeof(err)), ==, -EINVAL);
	g_assert_nonnull(strstr(err, "slot 400"));
}

static void test_v1_logical_block_size(void)
{
	struct md_sb sb;
	uint8_t b[4096];
	char err[256];

	sample_v1_bytes(b);
	le32(b, 12, 0);
	le32(b, V1(sb_csum), ref_csum_v1(b));
	g_assert_cmpint(md_sb_decode_v1(b, sizeof(b), &sb, err, sizeof(err)), ==, 0);
	g_assert_cmpuint(sb.logical_block_size, ==, 512);      /* 0 means 512 */

	md_sb_encode_v1(&sb, b);
	g_assert_cmpuint(rd32(b, 12), ==, 0);                   /* old kernels need pad0 == 0 */

	sb.logical_block_size = 4096;
	md_sb_encode_v1(&sb, b);
	g_assert_cmpuint(rd32(b, 12), ==, 4096);
	g_assert_cmpint(md_sb_decode_v1(b, sizeof(b), &sb, err, sizeof(err)), ==, 0);
	g_assert_cmpuint(sb.logical_block_size, ==, 4096);
}

static void test_v1_time_low_40_bits(void)
{
	struct md_sb sb;
	uint8_t b[4096];
	char err[256];

	sample_v1_bytes(b);
	/* top 24 bits hold microseconds: not part of the seconds */
	le64(b, V1(ctime), (123456ull << 40) | 1700000000);
	le64(b, V1(utime), (999ull << 40) | 1700000123);
	le32(b, V1(sb_csum), ref_csum_v1(b));
	g_assert_cmpint(md_sb_decode_v1(b, sizeof(b), &sb, err, sizeof(err)), ==, 0);
	g_assert_cmpuint(sb.ctime, ==, 1700000000);
	g_assert_cmpuint(sb.utime, ==, 1700000123);
}

static void test_v1_round_trip(void)
{
	struct md_sb a, b;
	uint8_t buf[4096];
	char err[256];

	sample_v1(&a);
	a.max_dev = 128;
	strcpy(a.set_name, "0123456789abcdef0123456789abcdef");   /* 32: no NUL on disk */
	md_sb_encode_v1(&a, buf);
	g_assert_cmpint(md_sb_decode_v1(buf, sizeof(buf), &b, err, sizeof(err)), ==, 0);
	assert_same_v1(&a, &b);
}

/* ------------------------------------------------------------------ */
/* 0.90                                                                 */

static void sample_090_bytes(mdp_super_t *s, uint32_t state, uint32_t rcp, uint64_t cp_ev)
{
	memset(s, 0, sizeof(*s));
	s->md_magic = MD_SB_MAGIC;
	s->minor_version = 90;
	s->set_uuid0 = 0x01234567;
	s->set_uuid1 = 0x89abcdef;
	s->set_uuid2 = 0xfedcba98;
	s->set_uuid3 = 0x76543210;
	s->ctime = 1600000000;
	s->utime = 1600000999;
	s->level = 5;
	s->size = 65472;                /* KiB */
	s->nr_disks = 4;
	s->raid_disks = 3;
	s->md_minor = 7;
	s->state = state;
	s->active_disks = 2;
	s->working_disks = 3;
	s->failed_disks = 1;
	s->spare_disks = 1;
	s->events_hi = 1;
	s->events_lo = 5;
	s->cp_events_hi = (uint32_t)(cp_ev >> 32);
	s->cp_events_lo = (uint32_t)cp_ev;
	s->recovery_cp = rcp;
	s->layout = 2;
	s->chunk_size = 65536;
	s->disks[0] = (mdp_disk_t){ .number = 0, .major = 7, .minor = 0, .raid_disk = 0,
				    .state = 6 };
	s->disks[1] = (mdp_disk_t){ .number = 1, .raid_disk = 1, .state = 9 };  /* removed+faulty */
	s->disks[2] = (mdp_disk_t){ .number = 2, .major = 7, .minor = 2, .raid_disk = 2,
				    .state = 6 | 1 << MD_DISK_WRITEMOSTLY };
	s->disks[3] = (mdp_disk_t){ .number = 3, .major = 7, .minor = 3, .raid_disk = 3 };
	s->this_disk = s->disks[2];
	s->sb_csum = ref_csum_090(s);
}

static void test_090_decode_hand_built(void)
{
	mdp_super_t s;
	struct md_sb sb;
	char err[256] = "";
	char u[36];

	sample_090_bytes(&s, 1 << MD_SB_CLEAN, 0xffffffff, (1ull << 32) | 5);
	g_assert_cmpint(md_sb_decode_090((const uint8_t *)&s, &sb, err, sizeof(err)), ==, 0);
	g_assert_cmpint(sb.major, ==, 0);
	g_assert_cmpint(sb.minor, ==, 90);
	md_uuid_format(sb.set_uuid, u);
	g_assert_cmpstr(u, ==, "01234567:89abcdef:fedcba98:76543210");
	g_assert_cmpint(sb.level, ==, 5);
	g_assert_cmpuint(sb.layout, ==, 2);
	g_assert_cmpuint(sb.size, ==, 65472 * 2);
	g_assert_cmpuint(sb.chunk_sectors, ==, 128);
	g_assert_cmpuint(sb.raid_disks, ==, 3);
	g_assert_cmpuint(sb.events, ==, (1ull << 32) | 5);
	g_assert_cmpuint(sb.resync_offset, ==, MD_MAX_SECTOR);
	g_assert_cmpuint(sb.ctime, ==, 1600000000);
	g_assert_cmpuint(sb.utime, ==, 1600000999);
	g_assert_cmpuint(sb.dev_number, ==, 2);
	g_assert_cmpuint(sb.max_dev, ==, 27);
	g_assert_cmpuint(sb.dev_roles[0], ==, 0);
	g_assert_cmpuint(sb.dev_roles[1], ==, MD_ROLE_FAULTY);
	g_assert_cmpuint(sb.dev_roles[2], ==, 2);
	g_assert_cmpuint(sb.dev_roles[3], ==, MD_ROLE_SPARE);
	g_assert_cmpuint(sb.devflags, ==, 1);            /* write-mostly */
	g_assert_cmpuint(sb.data_offset, ==, 0);
	g_assert_cmpuint(sb.logical_block_size, ==, 512);
	g_assert_cmpuint(sb.v090.md_minor, ==, 7);
	g_assert_cmpuint(sb.v090.disks[0].major, ==, 7);
}

static void test_090_resync_offset(void)
{
	mdp_super_t s;
	struct md_sb sb;
	char err[256];

	/* not clean, checkpoint written with these events: honour it */
	sample_090_bytes(&s, 0, 4096, (1ull << 32) | 5);
	g_assert_cmpint(md_sb_decode_090((const uint8_t *)&s, &sb, err, sizeof(err)), ==, 0);
	g_assert_cmpuint(sb.resync_offset, ==, 4096);
	/* not clean, stale checkpoint: resync from 0 */
	sample_090_bytes(&s, 0, 4096, 3);
	g_assert_cmpint(md_sb_decode_090((const uint8_t *)&s, &sb, err, sizeof(err)), ==, 0);
	g_assert_cmpuint(sb.resync_offset, ==, 0);
}

static void test_090_csum_mismatch_rejected(void)
{
	mdp_super_t s;
	struct md_sb sb;
	char err[256] = "";

	sample_090_bytes(&s, 1, 0xffffffff, (1ull << 32) | 5);
	s.level = 6;
	g_assert_cmpint(md_sb_decode_090((const uint8_t *)&s, &sb, err, sizeof(err)), ==, -EINVAL);
	g_assert_nonnull(strstr(err, "checksum mismatch"));
}

static void test_090_encode_is_consistent(void)
{
	mdp_super_t in, out;
	struct md_sb sb, back;
	char err[256];

	sample_090_bytes(&in, 1 << MD_SB_CLEAN, 0xffffffff, (1ull << 32) | 5);
	g_assert_cmpint(md_sb_decode_090((const uint8_t *)&in, &sb, err, sizeof(err)), ==, 0);
	sb.events++;
	md_sb_encode_090(&sb, (uint8_t *)&out);

	g_assert_cmphex(out.md_magic, ==, MD_SB_MAGIC);
	g_assert_cmpuint(out.minor_version, ==, 90);
	g_assert_cmphex(out.sb_csum, ==, ref_csum_090(&out));
	g_assert_cmphex(out.set_uuid0, ==, 0x01234567);
	g_assert_cmphex(out.set_uuid3, ==, 0x76543210);
	g_assert_cmpuint(out.size, ==, 65472);
	g_assert_cmpuint(out.chunk_size, ==, 65536);
	g_assert_cmpuint(out.md_minor, ==, 7);
	g_assert_cmpuint(out.events_lo, ==, 6);
	g_assert_cmpuint(out.events_hi, ==, 1);
	g_assert_true(out.state & (1 << MD_SB_CLEAN));
	/* disks[] rebuilt as super_90_sync would: counts agree with the table */
	g_assert_cmpuint(out.disks[0].state, ==, 6);
	g_assert_cmpuint(out.disks[1].state, ==, 9);
	g_assert_cmpuint(out.disks[2].state, ==, 6 | 1 << MD_DISK_WRITEMOSTLY);
	g_assert_cmpuint(out.disks[3].state, ==, 0);
	g_assert_cmpuint(out.disks[3].raid_disk, ==, 3);
	g_assert_cmpuint(out.disks[2].major, ==, 7);
	g_assert_cmpuint(out.active_disks, ==, 2);
	g_assert_cmpuint(out.working_disks, ==, 3);
	g_assert_cmpuint(out.spare_disks, ==, 1);
	g_assert_cmpuint(out.failed_disks, ==, 1);
	g_assert_cmpuint(out.nr_disks, ==, 3);
	g_assert_cmpmem(&out.this_disk, sizeof(mdp_disk_t), &out.disks[2], sizeof(mdp_disk_t));

	g_assert_cmpint(md_sb_decode_090((const uint8_t *)&out, &back, err, sizeof(err)), ==, 0);
	g_assert_cmpuint(back.events, ==, sb.events);
	for (int i = 0; i < 27; i++)
		g_assert_cmpuint(back.dev_roles[i], ==, sb.dev_roles[i]);
}

static void test_090_encode_fresh_and_dirty(void)
{
	mdp_super_t out;
	struct md_sb sb;

	/* a new member with nothing decoded: missing slot 1 must show removed */
	memset(&sb, 0, sizeof(sb));
	sb.major = 0;
	sb.minor = 90;
	sb.level = 1;
	sb.raid_disks = 2;
	sb.size = 2048;
	sb.events = 1;
	sb.resync_offset = 0;
	sb.max_dev = 27;
	for (int i = 0; i < MD_SB_MAX_ROLES; i++)
		sb.dev_roles[i] = MD_ROLE_SPARE;
	sb.dev_roles[0] = 0;
	md_sb_encode_090(&sb, (uint8_t *)&out);
	g_assert_cmphex(out.sb_csum, ==, ref_csum_090(&out));
	g_assert_false(out.state & (1 << MD_SB_CLEAN));
	g_assert_cmpuint(out.recovery_cp, ==, 0);
	g_assert_cmpuint(out.disks[0].state, ==, 6);
	g_assert_cmpuint(out.disks[1].state, ==, (1 << MD_DISK_REMOVED) | (1 << MD_DISK_FAULTY));
	g_assert_cmpuint(out.failed_disks, ==, 1);
	g_assert_cmpuint(out.active_disks, ==, 1);
	g_assert_cmpuint(out.nr_disks, ==, 1);
}

/* ------------------------------------------------------------------ */
/* placement (numbers from mdadm 4.2's validate_geometry1 and           */
/* write_init_super1, worked through for each size)                     */

struct place_case {
	int level, minor;
	uint64_t sectors;
	uint64_t super_offset, data_offset, data_size, size;
	uint32_t bblog_offset;
};

static const struct place_case place_cases[] = {
	/* raid1: no chunk, so reshape headroom may shrink freely */
	{ 1, 0, 16384, 16368, 0, 16352, 16256, (uint32_t)-8 },
	{ 1, 1, 16384, 0, 2048, 14336, 14336, 16 },
	{ 1, 2, 16384, 8, 2048, 14336, 14336, 16 },
	{ 1, 0, 131072, 131056, 0, 131040, 130944, (uint32_t)-8 },
	{ 1, 2, 131072, 8, 2048, 129024, 129024, 16 },
	{ 1, 2, 2097152, 8, 4096, 2093056, 2093056, 16 },
	{ 1, 0, 209715200, 209715184, 0, 209715048, 209714944, (uint32_t)-8 },
	{ 1, 1, 209715200, 0, 133120, 209582080, 209582080, 136 },
	{ 1, 2, 209715200, 8, 133120, 209582080, 209582080, 136 },
	/* raid5, 512K chunk: headroom never below two chunks */
	{ 5, 0, 16384, 16368, 0, 16352, 15360, (uint32_t)-8 },
	{ 5, 1, 16384, 0, 4096, 12288, 12288, 16 },
	{ 5, 2, 16384, 8, 4096, 12288, 12288, 16 },
	{ 5, 2, 131072, 8, 4096, 126976, 126976, 16 },
	{ 5, 0, 2097152, 2097136, 0, 2097120, 2096128, (uint32_t)-8 },
	{ 5, 2, 2097152, 8, 4096, 2093056, 2093056, 16 },
	{ 5, 0, 209715200, 209715184, 0, 209715048, 209714176, (uint32_t)-8 },
	{ 5, 2, 209715200, 8, 133120, 209582080, 209582080, 136 },
	/* raid0: mdadm records no size, so no bitmap room is counted */
	{ 0, 0, 131072, 131056, 0, 131048, 0, (uint32_t)-8 },
	{ 0, 2, 131072, 8, 4096, 126976, 0, 8 },
	{ 0, 1, 209715200, 0, 133120, 209582080, 0, 8 },
	/* 0.90: last 64K-aligned 64K */
	{ 1, 90, 16384, 16256, 0, 16256, 16256, 0 },
	{ 5, 90, 131072 + 100, 131072 - 128, 0, 131072 - 128, 130048, 0 },
};

static void test_place_mdadm_numbers(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(place_cases); i++) {
		const struct place_case *c = &place_cases[i];
		struct md_sb sb;
		char err[256] = "";

		memset(&sb, 0, sizeof(sb));
		sb.level = c->level;
		g_test_message("case %zu: level %d minor %d, %" G_GUINT64_FORMAT " sectors",
			       i, c->level, c->minor, c->sectors);
		g_assert_cmpint(md_sb_place(&sb, c->minor, c->sectors, 0, err, sizeof(err)), ==, 0);
		g_assert_cmpint(sb.major, ==, c->minor == 90 ? 0 : 1);
		g_assert_cmpint(sb.minor, ==, c->minor);
		g_assert_cmpuint(sb.super_offset, ==, c->super_offset);
		g_assert_cmpuint(sb.data_offset, ==, c->data_offset);
		g_assert_cmpuint(sb.data_size, ==, c->data_size);
		g_assert_cmpuint(sb.size, ==, c->size);
		g_assert_cmpuint(sb.bblog_offset, ==, c->bblog_offset);
		g_assert_cmpuint(sb.bblog_size, ==, c->minor == 90 ? 0 : 8);
		g_assert_cmpuint(sb.member_sectors, ==, c->sectors);
	}
}

static void test_place_rules(void)
{
	struct md_sb sb;
	char err[256];

	/* 1.0 superblock: 8K back from the end, aligned down to 4K */
	for (uint64_t n = 100000; n < 100016; n++) {
		memset(&sb, 0, sizeof(sb));
		sb.level = 1;
		g_assert_cmpint(md_sb_place(&sb, 0, n, 0, err, sizeof(err)), ==, 0);
		g_assert_cmpuint(sb.super_offset, ==, (n - 16) & ~7ull);
		g_assert_cmpuint(sb.super_offset % 8, ==, 0);
		g_assert_cmpuint(n - sb.super_offset, >=, 16);
		g_assert_cmpuint(n - sb.super_offset, <, 24);
		g_assert_cmpuint(sb.data_offset + sb.data_size, <=, sb.super_offset);
	}
	/* a given size is kept, and data_offset given for 1.2 too */
	memset(&sb, 0, sizeof(sb));
	sb.level = 5;
	sb.size = 100000;
	sb.data_offset = 6144;
	g_assert_cmpint(md_sb_place(&sb, 2, 1 << 20, 0, err, sizeof(err)), ==, 0);
	g_assert_cmpuint(sb.size, ==, 100000);
	g_assert_cmpuint(sb.data_offset, ==, 6144);
	g_assert_cmpuint(sb.data_size, ==, (1 << 20) - 6144);
}

static void test_place_bitmap(void)
{
	struct md_sb sb;
	char err[256];

	memset(&sb, 0, sizeof(sb));
	sb.level = 1;
	g_assert_cmpint(md_sb_place(&sb, 2, 209715200, 16, err, sizeof(err)), ==, 0);
	g_assert_cmpint(sb.bitmap_offset, ==, 8);               /* 4K after the sb */
	g_assert_true(sb.feature_map & 1);
	g_assert_cmpuint(sb.bblog_offset, ==, 8 + 16);          /* right after the bitmap */

	memset(&sb, 0, sizeof(sb));
	sb.level = 1;
	g_assert_cmpint(md_sb_place(&sb, 0, 209715200, 16, err, sizeof(err)), ==, 0);
	g_assert_cmpint(sb.bitmap_offset, ==, -16 - 8);         /* below sb and bblog */
	g_assert_cmpuint(sb.data_offset + sb.data_size, <=,
			 sb.super_offset + (int64_t)sb.bitmap_offset);
}

static void test_place_too_small(void)
{
	struct md_sb sb;
	char err[256] = "";

	memset(&sb, 0, sizeof(sb));
	sb.level = 5;
	g_assert_cmpint(md_sb_place(&sb, 2, 3000, 0, err, sizeof(err)), ==, -EINVAL);
	g_assert_nonnull(strstr(err, "too small"));
	g_assert_cmpint(md_sb_place(&sb, 0, 20, 0, err, sizeof(err)), ==, -EINVAL);
	g_assert_cmpint(md_sb_place(&sb, 90, 127, 0, err, sizeof(err)), ==, -EINVAL);
	sb.size = 1 << 20;
	g_assert_cmpint(md_sb_place(&sb, 1, 1 << 20, 0, err, sizeof(err)), ==, -EINVAL);
	g_assert_cmpint(md_sb_place(&sb, 3, 1 << 20, 0, err, sizeof(err)), ==, -EINVAL);
}

/* ------------------------------------------------------------------ */
/* names                                                                */

static void test_level_names(void)
{
	static const struct { const char *in; int level; const char *name; } t[] = {
		{ "linear", -1, "linear" }, { "raid0", 0, "raid0" }, { "0", 0, "raid0" },
		{ "stripe", 0, "raid0" }, { "raid1", 1, "raid1" }, { "1", 1, "raid1" },
		{ "mirror", 1, "raid1" }, { "raid4", 4, "raid4" }, { "4", 4, "raid4" },
		{ "raid5", 5, "raid5" }, { "5", 5, "raid5" }, { "raid6", 6, "raid6" },
		{ "6", 6, "raid6" }, { "raid10", 10, "raid10" }, { "10", 10, "raid10" },
	};
	int level;

	for (size_t i = 0; i < G_N_ELEMENTS(t); i++) {
		g_assert_cmpint(md_level_parse(t[i].in, &level), ==, 0);
		g_assert_cmpint(level, ==, t[i].level);
		g_assert_cmpstr(md_level_name(level), ==, t[i].name);
	}
	g_assert_cmpint(md_level_parse("raid7", &level), ==, -1);
	g_assert_cmpint(md_level_parse("RAID5", &level), ==, -1);
	g_assert_null(md_level_name(7));
}

static void test_layout_names(void)
{
	static const struct { int level; const char *in; uint32_t layout; const char *name; } t[] = {
		{ 5, "left-asymmetric", 0, "left-asymmetric" }, { 5, "la", 0, "left-asymmetric" },
		{ 5, "right-asymmetric", 1, "right-asymmetric" }, { 5, "ra", 1, "right-asymmetric" },
		{ 5, "left-symmetric", 2, "left-symmetric" }, { 5, "ls", 2, "left-symmetric" },
		{ 5, "right-symmetric", 3, "right-symmetric" }, { 5, "rs", 3, "right-symmetric" },
		{ 5, "parity-first", 4, "parity-first" }, { 5, "parity-last", 5, "parity-last" },
		{ 5, "default", 2, "left-symmetric" },
		{ 6, "parity-last", 5, "parity-last" },
		{ 6, "ddf-zero-restart", 8, "ddf-zero-restart" },
		{ 6, "rotating-zero-restart", 8, "ddf-zero-restart" },
		{ 6, "ddf-N-restart", 9, "ddf-N-restart" },
		{ 6, "rotating-n-restart", 9, "ddf-N-restart" },
		{ 6, "ddf-N-continue", 10, "ddf-N-continue" },
		{ 6, "rotating-n-continue", 10, "ddf-N-continue" },
		{ 6, "left-asymmetric-6", 16, "left-asymmetric-6" },
		{ 6, "right-asymmetric-6", 17, "right-asymmetric-6" },
		{ 6, "left-symmetric-6", 18, "left-symmetric-6" },
		{ 6, "right-symmetric-6", 19, "right-symmetric-6" },
		{ 6, "parity-first-6", 20, "parity-first-6" },
		{ 10, "n2", 0x102, "n2" }, { 10, "n3", 0x103, "n3" },
		{ 10, "f2", 0x201, "f2" }, { 10, "o2", 0x10201, "o2" },
		{ 10, "n2f2", 0x202, "n2f2" },
		/* one far copy: mdadm's parse_layout_10 keeps o1's offset bit */
		{ 10, "n1", 0x101, "n1" }, { 10, "f1", 0x101, "n1" },
		{ 10, "o1", 0x10101, "o1" }, { 10, "n2o1", 0x10102, "n2o1" },
		{ 0, "original", 1, "original" }, { 0, "alternate", 2, "alternate" },
		{ 0, "dangerous", 0, "dangerous" },
	};
	char buf[32];
	uint32_t l;

	for (size_t i = 0; i < G_N_ELEMENTS(t); i++) {
		g_assert_cmpint(md_layout_parse(t[i].level, t[i].in, &l), ==, 0);
		g_assert_cmphex(l, ==, t[i].layout);
		g_assert_cmpstr(md_layout_name(t[i].level, l, buf, sizeof(buf)), ==, t[i].name);
	}
	g_assert_cmpint(md_layout_parse(5, "left-symmetric-6", &l), ==, -1);
	g_assert_cmpint(md_layout_parse(10, "x2", &l), ==, -1);
	g_assert_cmpint(md_layout_parse(10, "n0", &l), ==, -1);
	g_assert_cmpint(md_layout_parse(10, "n2x", &l), ==, -1);
	g_assert_null(md_layout_name(5, 7, buf, sizeof(buf)));
	g_assert_null(md_layout_name(10, 1 << 17 | 0x102, buf, sizeof(buf)));
}

/* What create stores for -N is served as the name given, whatever the
 * host is called: a host name with ':' would move where the name starts. */
static void test_set_name_compose(void)
{
	static const struct { const char *name, *host, *stored; } t[] = {
		{ "data", "host", "host:data" }, { "h:data", "host", "h:data" },
		{ "data", "", "data" }, { "data", "ho:st", "data" },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "host", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },
	};
	char out[MD_SET_NAME_MAX + 1];
	const char *why;
	struct md_sb sb = { 0 };

	for (size_t i = 0; i < G_N_ELEMENTS(t); i++) {
		g_assert_cmpint(md_set_name_compose(t[i].name, t[i].host, out, &why), ==, 0);
		g_assert_cmpstr(out, ==, t[i].stored);
		g_strlcpy(sb.set_name, out, sizeof(sb.set_name));
		char *served = md_array_name(&sb, 0);
		const char *colon = strchr(t[i].name, ':');
		g_assert_cmpstr(served, ==, colon ? colon + 1 : t[i].name);
		g_free(served);
	}
	g_assert_cmpint(md_set_name_compose("a/b", "host", out, &why), ==, -1);
}

static void test_layout_defaults(void)
{
	uint32_t l;

	g_assert_cmpint(md_layout_default(5, 3, &l), ==, 0);
	g_assert_cmpuint(l, ==, 2);
	g_assert_cmpint(md_layout_default(6, 4, &l), ==, 0);
	g_assert_cmpuint(l, ==, 2);
	g_assert_cmpint(md_layout_default(10, 4, &l), ==, 0);
	g_assert_cmphex(l, ==, 0x102);
	g_assert_cmpint(md_layout_default(0, 2, &l), ==, 0);
	g_assert_cmpuint(l, ==, 1);
	g_assert_cmpint(md_layout_default(1, 2, &l), ==, 0);
	g_assert_cmpuint(l, ==, 0);
	g_assert_cmpint(md_layout_default(7, 2, &l), ==, -1);
}

static void test_uuid(void)
{
	uint8_t u[16];
	char s[36];

	md_uuid_format(uuid_a, s);
	g_assert_cmpstr(s, ==, "01234567:89abcdef:fedcba98:76543210");
	g_assert_cmpint(md_uuid_parse(s, u), ==, 0);
	g_assert_cmpmem(u, 16, uuid_a, 16);
	memset(u, 0, 16);
	g_assert_cmpint(md_uuid_parse("0123456789ABCDEFfedcba9876543210", u), ==, 0);
	g_assert_cmpmem(u, 16, uuid_a, 16);
	memset(u, 0, 16);
	g_assert_cmpint(md_uuid_parse("01234567-89ab-cdef-fedc-ba9876543210", u), ==, 0);
	g_assert_cmpmem(u, 16, uuid_a, 16);
	g_assert_cmpint(md_uuid_parse("01234567:89abcdef:fedcba98:7654321", u), ==, -1);
	g_assert_cmpint(md_uuid_parse("01234567:89abcdef:fedcba98:765432100", u), ==, -1);
	g_assert_cmpint(md_uuid_parse("0123456g:89abcdef:fedcba98:76543210", u), ==, -1);
}

/* ------------------------------------------------------------------ */
/* load/store on member files                                           */

static int temp_member(uint64_t bytes, char **path)
{
	GError *e = NULL;
	int fd = g_file_open_tmp("test-sb-XXXXXX", path, &e);

	g_assert_no_error(e);
	g_assert_cmpint(ftruncate(fd, (off_t)bytes), ==, 0);
	return fd;
}

static void drop_member(int fd, char *path)
{
	close(fd);
	g_unlink(path);
	g_free(path);
}

static void member_sb(struct md_sb *sb, int level)
{
	memset(sb, 0, sizeof(*sb));
	sb->level = level;
	sb->raid_disks = 2;
	memcpy(sb->set_uuid, uuid_a, 16);
	strcpy(sb->set_name, "t:m");
	sb->ctime = sb->utime = 1700000000;
	sb->logical_block_size = 512;
	sb->events = 10;
	sb->resync_offset = MD_MAX_SECTOR;
	sb->max_dev = 128;
	for (int i = 0; i < MD_SB_MAX_ROLES; i++)
		sb->dev_roles[i] = MD_ROLE_SPARE;
	sb->dev_roles[0] = 0;
	sb->dev_roles[1] = 1;
	sb->dev_number = 1;
}

static void check_found_at(int minor, uint64_t bytes, uint64_t want_offset)
{
	struct md_sb sb, got;
	char *path, err[256] = "";
	int fd = temp_member(bytes, &path);
	uint8_t magic[4];

	member_sb(&sb, 1);
	if (minor == 90)
		sb.max_dev = 27;
	g_assert_cmpint(md_sb_place(&sb, minor, bytes / 512, 0, err, sizeof(err)), ==, 0);
	g_assert_cmpuint(sb.super_offset, ==, want_offset);
	g_assert_cmpint(md_sb_store(fd, &sb), ==, 0);
	/* the magic really is at that byte offset */
	g_assert_cmpint(pread(fd, magic, 4, (off_t)(want_offset * 512)), ==, 4);
	g_assert_cmpuint(rd32(magic, 0), ==, 0xa92b4efc);
	g_assert_cmpint(md_sb_load(fd, &got, err, sizeof(err)), ==, 0);
	g_assert_cmpint(got.major, ==, minor == 90 ? 0 : 1);
	g_assert_cmpint(got.minor, ==, minor);
	g_assert_cmpuint(got.super_offset, ==, want_offset);
	g_assert_cmpuint(got.events, ==, 10);
	g_assert_cmpuint(got.dev_number, ==, 1);
	g_assert_cmpuint(got.dev_roles[1], ==, 1);
	g_assert_cmpuint(got.member_sectors, ==, bytes / 512);
	drop_member(fd, path);
}

static void test_load_found_at_each_location(void)
{
	uint64_t n = 64ull << 20;

	check_found_at(1, n, 0);
	check_found_at(2, n, 8);
	check_found_at(0, n, (n / 512 - 16) & ~7ull);
	check_found_at(0, n + 1536, (n / 512 + 3 - 16) & ~7ull);
	check_found_at(90, n, n / 512 - 128);
	check_found_at(90, n + 4096, n / 512 - 128);
}

static void test_load_none(void)
{
	struct md_sb sb;
	char *path, err[256] = "";
	int fd = temp_member(8 << 20, &path);

	g_assert_cmpint(md_sb_load(fd, &sb, err, sizeof(err)), ==, -ENOENT);
	drop_member(fd, path);
	fd = temp_member(0, &path);
	g_assert_cmpint(md_sb_load(fd, &sb, err, sizeof(err)), ==, -ENOENT);
	drop_member(fd, path);
}

static void test_load_truncated(void)
{
	struct md_sb sb, got;
	char *path, err[256] = "";
	int fd = temp_member(64 << 20, &path);

	member_sb(&sb, 1);
	g_assert_cmpint(md_sb_place(&sb, 2, (64 << 20) / 512, 0, err, sizeof(err)), ==, 0);
	g_assert_cmpint(md_sb_store(fd, &sb), ==, 0);
	g_assert_cmpint(ftruncate(fd, 32 << 20), ==, 0);
	g_assert_cmpint(md_sb_load(fd, &got, err, sizeof(err)), ==, -EINVAL);
	g_assert_nonnull(strstr(err, "member truncated"));
	g_assert_nonnull(strstr(err, "needs 131072 sectors, has 65536"));
	/* cut inside the superblock itself */
	g_assert_cmpint(ftruncate(fd, 4096 + 100), ==, 0);
	g_assert_cmpint(md_sb_load(fd, &got, err, sizeof(err)), ==, -EINVAL);
	g_assert_nonnull(strstr(err, "member truncated"));
	drop_member(fd, path);
}

static void test_load_corrupt(void)
{
	struct md_sb sb, got;
	char *path, err[256] = "";
	int fd = temp_member(16 << 20, &path);
	uint8_t byte;

	member_sb(&sb, 1);
	g_assert_cmpint(md_sb_place(&sb, 1, (16 << 20) / 512, 0, err, sizeof(err)), ==, 0);
	g_assert_cmpint(md_sb_store(fd, &sb), ==, 0);
	g_assert_cmpint(pread(fd, &byte, 1, V1(events)), ==, 1);
	byte ^= 0x40;
	g_assert_cmpint(pwrite(fd, &byte, 1, V1(events)), ==, 1);
	g_assert_cmpint(md_sb_load(fd, &got, err, sizeof(err)), ==, -EINVAL);
	g_assert_nonnull(strstr(err, "checksum mismatch (stored 0x"));
	/* examine still wants to see it, as mdadm does */
	g_assert_cmpint(md_sb_load_flags(fd, &got, MD_SB_LOAD_LENIENT, err, sizeof(err)), ==, 0);
	g_assert_cmpuint(got.sb_csum, !=, got.sb_csum_expected);
	drop_member(fd, path);
}

static void test_load_prefers_newest(void)
{
	struct md_sb a, b, got;
	char *path, err[256] = "";
	uint64_t n = 16 << 20;
	int fd = temp_member(n, &path);

	/* an old 1.2 (probed first) and a newer 0.90 (probed last) */
	member_sb(&a, 1);
	g_assert_cmpint(md_sb_place(&a, 2, n / 512, 0, err, sizeof(err)), ==, 0);
	g_assert_cmpint(md_sb_store(fd, &a), ==, 0);
	member_sb(&b, 1);
	b.max_dev = 27;
	b.ctime = a.ctime + 100;
	g_assert_cmpint(md_sb_place(&b, 90, n / 512, 0, err, sizeof(err)), ==, 0);
	g_assert_cmpint(md_sb_store(fd, &b), ==, 0);
	g_assert_cmpint(md_sb_load(fd, &got, err, sizeof(err)), ==, 0);
	g_assert_cmpint(got.major, ==, 0);
	g_assert_cmpuint(got.ctime, ==, b.ctime);
	/* and the other way round */
	a.ctime = b.ctime + 100;
	g_assert_cmpint(md_sb_store(fd, &a), ==, 0);
	g_assert_cmpint(md_sb_load(fd, &got, err, sizeof(err)), ==, 0);
	g_assert_cmpint(got.major, ==, 1);
	g_assert_cmpint(got.minor, ==, 2);
	drop_member(fd, path);
}

static void test_store_refuses_wrong_place(void)
{
	struct md_sb sb;
	char *path, err[256];
	int fd = temp_member(16 << 20, &path);

	member_sb(&sb, 1);
	g_assert_cmpint(md_sb_place(&sb, 0, (32 << 20) / 512, 0, err, sizeof(err)), ==, 0);
	g_assert_cmpint(md_sb_store(fd, &sb), ==, -EINVAL);     /* placed for another size */
	drop_member(fd, path);
}

/* ------------------------------------------------------------------ */
/* md_sb_check: one hostile field at a time                             */

enum field {
	C_RAID_DISKS, C_LEVEL, C_LAYOUT, C_CHUNK, C_DEV_NUMBER, C_ROLE, C_DATA_OFFSET,
	C_DATA_SIZE, C_SIZE, C_LBS, C_EVENTS, C_RESYNC, C_RECOVERY, C_BITMAP, C_FEATURE,
};

struct check_case {
	int level, minor;
	enum field field;
	uint64_t value;
	const char *want;       /* NULL: accepted */
};

static const struct check_case check_cases[] = {
	{ 5, 2, C_RAID_DISKS, 0xffffffffu, "raid_disks 4294967295 exceeds the 384 roles it can carry" },
	{ 5, 2, C_RAID_DISKS, 385, "raid_disks 385 exceeds the 384 roles" },
	{ 5, 2, C_RAID_DISKS, 129, NULL },       /* past max_dev: spares (role_of) */
	{ 0, 2, C_RAID_DISKS, 0, "raid_disks 0 is below the 1 raid0 needs" },
	{ 6, 2, C_RAID_DISKS, 3, "raid_disks 3 is below the 4 raid6 needs" },
	{ 5, 2, C_LEVEL, 7, "level 7 (unknown) is not one raidfs runs" },
	{ 5, 2, C_LEVEL, (uint32_t)-4, "level -4 (multipath)" },
	{ 5, 2, C_LAYOUT, 99, "layout 0x63 is not a raid5 layout" },
	{ 10, 2, C_LAYOUT, 0x104, "layout 0x104 is not a raid10 layout for 3 members" },
	{ 10, 2, C_LAYOUT, 0x101, "layout 0x101" },
	{ 10, 2, C_LAYOUT, 0x80102, "layout 0x80102" },
	{ 1, 2, C_LAYOUT, 99, NULL },            /* md ignores raid1's layout */
	{ 5, 2, C_CHUNK, 0, "chunksize 0 sectors is outside 1..2097152" },
	{ 5, 2, C_CHUNK, 12, "chunksize 12 sectors is not a power of two of at least 4K" },
	{ 10, 2, C_CHUNK, 4, "chunksize 4 sectors is not a power of two" },
	{ 5, 2, C_CHUNK, 1u << 22, "chunksize 4194304 sectors is outside" },
	{ 0, 2, C_CHUNK, 0, "chunksize 0 sectors" },
	{ 0, 2, C_CHUNK, 24, NULL },             /* raid0: any multiple of the block */
	{ 1, 2, C_CHUNK, 0, NULL },
	{ 5, 2, C_DEV_NUMBER, 0x80000000u, "dev_number 2147483648 is not below max_dev 128" },
	{ 5, 2, C_DEV_NUMBER, 128, "dev_number 128 is not below max_dev 128" },
	{ 5, 2, C_ROLE, 3, NULL },              /* analyze_sbs: a spare */
	{ 5, 2, C_ROLE, 0, NULL },              /* assemble.c: the members present */
	{ 5, 2, C_ROLE, MD_ROLE_JOURNAL, NULL },
	{ 5, 2, C_ROLE, 0xff00, NULL },
	{ 5, 2, C_ROLE, MD_ROLE_FAULTY, NULL },
	{ 5, 2, C_DATA_OFFSET, 0, "data_offset 0 overlaps the superblock at sector 8" },
	{ 5, 2, C_DATA_OFFSET, 8, "data_offset 8 overlaps the superblock at sector 8" },
	{ 5, 1, C_DATA_OFFSET, 0, "data_offset 0 overlaps the superblock at sector 0" },
	{ 5, 1, C_DATA_OFFSET, 1, NULL },          /* a 1 KiB superblock fits one sector */
	{ 5, 2, C_DATA_OFFSET, UINT64_MAX - 1023, "data_offset 18446744073709550592 + data_size" },
	{ 5, 2, C_DATA_SIZE, UINT64_MAX - 100, "wraps" },
	{ 0, 2, C_DATA_SIZE, 9, "data_size 9 is below the 10 sectors md requires" },
	{ 5, 2, C_DATA_SIZE, 1 << 20, "member truncated: superblock data_offset 2048 + data_size 1048576" },
	{ 5, 0, C_DATA_SIZE, 131072, "runs into the superblock" },
	{ 5, 2, C_SIZE, 0, "size 0 leaves the array no data" },
	{ 5, 2, C_SIZE, 1 << 20, "size 1048576 exceeds data_size" },
	{ 0, 2, C_SIZE, 0, NULL },               /* raid0 uses data_size */
	{ 5, 2, C_LBS, 3, "logical_block_size 3 is not a power of two" },
	{ 5, 2, C_LBS, 1 << 20, "logical_block_size 1048576" },
	{ 5, 2, C_LBS, 4096, NULL },
	{ 5, 2, C_EVENTS, UINT64_MAX, "events 18446744073709551615 cannot advance" },
	{ 5, 2, C_EVENTS, UINT64_MAX - 1, NULL },
	{ 5, 2, C_RESYNC, 1 << 20, NULL },      /* md_do_sync: nothing left */
	{ 10, 2, C_RESYNC, 129024 + 64000, NULL },   /* raid10 resyncs array sectors */
	{ 10, 2, C_RESYNC, 1 << 20, NULL },
	{ 5, 2, C_RESYNC, 100, NULL },
	{ 5, 2, C_RECOVERY, 1 << 20, NULL },
	{ 5, 2, C_RECOVERY, 100, NULL },
	{ 5, 2, C_BITMAP, 0, NULL },            /* md_bitmap_create: no bitmap */
	{ 5, 2, C_BITMAP, 4088, "bitmap_offset 4088" },        /* into the data */
	{ 5, 2, C_BITMAP, (uint32_t)-16, "bitmap_offset -16" },   /* before the file */
	{ 5, 0, C_BITMAP, 8, NULL },             /* 1.0: after the sb, in the file */
	{ 5, 0, C_BITMAP, (uint32_t)-1000000, "bitmap_offset -1000000" },
	{ 5, 2, C_BITMAP, 8, NULL },
	{ 5, 2, C_FEATURE, 4, "MD_FEATURE_RESHAPE_ACTIVE" },
	{ 5, 2, C_FEATURE, 16, NULL },          /* a replacement: served */
	{ 5, 2, C_FEATURE, 32, NULL },          /* without RESHAPE_ACTIVE */
	{ 5, 2, C_FEATURE, 64, NULL },
	{ 5, 2, C_FEATURE, 128, NULL },         /* without RECOVERY_OFFSET */
	{ 5, 2, C_FEATURE, 128 | 2, "MD_FEATURE_RECOVERY_BITMAP" },
	{ 5, 2, C_FEATURE, 256, "MD_FEATURE_CLUSTERED" },
	{ 5, 2, C_FEATURE, 512, "MD_FEATURE_JOURNAL" },
	{ 5, 2, C_FEATURE, 1024, "MD_FEATURE_PPL" },
	{ 5, 2, C_FEATURE, 2048, "MD_FEATURE_MULTIPLE_PPLS" },
	{ 5, 2, C_FEATURE, 0x4000, "feature_map 0x4000 has bits 0x4000 md does not define" },
	{ 5, 2, C_FEATURE, 8, NULL },            /* the bad-block log is read */
	{ 0, 2, C_FEATURE, 4096, NULL },         /* RAID0_LAYOUT */
};

/* A healthy 3-member (raid6: 4) array's superblock on a 64 MiB member. */
static void check_base(struct md_sb *sb, int level, int minor)
{
	char err[256];

	member_sb(sb, level);
	sb->raid_disks = level == 6 ? 4 : 3;
	for (uint32_t i = 2; i < sb->raid_disks; i++)
		sb->dev_roles[i] = (uint16_t)i;
	md_layout_default(level, (int)sb->raid_disks, &sb->layout);
	if (level != 1)
		sb->chunk_sectors = 128;
	g_assert_cmpint(md_sb_place(sb, minor, (64 << 20) / 512, 0, err, sizeof(err)), ==, 0);
}

static void set_field(struct md_sb *sb, enum field f, uint64_t v)
{
	switch (f) {
	case C_RAID_DISKS: sb->raid_disks = (uint32_t)v; break;
	case C_LEVEL: sb->level = (int32_t)v; break;
	case C_LAYOUT: sb->layout = (uint32_t)v; break;
	case C_CHUNK: sb->chunk_sectors = (uint32_t)v; break;
	case C_DEV_NUMBER: sb->dev_number = (uint32_t)v; break;
	case C_ROLE: sb->dev_roles[1] = (uint16_t)v; break;
	case C_DATA_OFFSET: sb->data_offset = v; break;
	case C_DATA_SIZE: sb->data_size = v; break;
	case C_SIZE: sb->size = v; break;
	case C_LBS: sb->logical_block_size = (uint32_t)v; break;
	case C_EVENTS: sb->events = v; break;
	case C_RESYNC: sb->resync_offset = v; break;
	case C_RECOVERY:
		sb->feature_map |= MD_FEATURE_RECOVERY_OFFSET;
		sb->recovery_offset = v;
		break;
	case C_BITMAP:
		sb->feature_map |= MD_FEATURE_BITMAP_OFFSET;
		sb->bitmap_offset = (int32_t)v;
		break;
	case C_FEATURE: sb->feature_map |= (uint32_t)v; break;
	}
}

/* Encode with the one field changed, decode the bytes, check. */
static void test_check_fields(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(check_cases); i++) {
		const struct check_case *c = &check_cases[i];
		struct md_sb sb, got;
		uint8_t buf[4096];
		char err[256] = "";

		check_base(&sb, c->level, c->minor);
		g_assert_cmpint(md_sb_check(&sb, err, sizeof(err)), ==, 0);
		set_field(&sb, c->field, c->value);
		md_sb_encode_v1(&sb, buf);
		g_assert_cmpint(md_sb_decode_v1(buf, sizeof(buf), &got, err, sizeof(err)), ==, 0);
		got.member_sectors = sb.member_sectors;
		int r = md_sb_check(&got, err, sizeof(err));
		g_test_message("case %zu: %s", i, r ? err : "accepted");
		if (!c->want) {
			g_assert_cmpint(r, ==, 0);
			continue;
		}
		g_assert_cmpint(r, ==, -EINVAL);
		g_assert_nonnull(strstr(err, c->want));
		g_assert_null(strchr(err, '\n'));
	}
}

/* 0.90: the same checks on what decode_090 makes of the words. */
static void test_check_090(void)
{
	struct md_sb sb, got;
	uint8_t buf[4096];
	uint32_t *w = (uint32_t *)buf;
	char err[256] = "";

	check_base(&sb, 5, 90);
	sb.max_dev = 27;
	md_sb_encode_090(&sb, buf);
	g_assert_cmpint(md_sb_decode_090(buf, &got, err, sizeof(err)), ==, 0);
	got.super_offset = sb.super_offset;
	got.data_size = sb.super_offset;
	got.member_sectors = sb.member_sectors;
	g_assert_cmpint(md_sb_check(&got, err, sizeof(err)), ==, 0);

	w[offsetof(mdp_super_t, raid_disks) / 4] = 28;
	w[offsetof(mdp_super_t, sb_csum) / 4] = ref_csum_090((mdp_super_t *)buf);
	g_assert_cmpint(md_sb_decode_090(buf, &got, err, sizeof(err)), ==, 0);
	g_assert_cmpint(md_sb_check(&got, err, sizeof(err)), ==, -EINVAL);
	g_assert_nonnull(strstr(err, "raid_disks 28 exceeds the 27 roles it can carry"));

	/* two active disks in one raid slot: super_90_validate reads only the
	 * member's own entry; assemble.c refuses two present members in one */
	md_sb_encode_090(&sb, buf);
	w[(offsetof(mdp_super_t, disks) + sizeof(mdp_disk_t) + offsetof(mdp_disk_t, raid_disk)) / 4] = 0;
	w[offsetof(mdp_super_t, sb_csum) / 4] = ref_csum_090((mdp_super_t *)buf);
	g_assert_cmpint(md_sb_decode_090(buf, &got, err, sizeof(err)), ==, 0);
	got.super_offset = sb.super_offset;
	got.data_size = sb.data_size;
	got.member_sectors = sb.member_sectors;
	g_assert_cmpint(md_sb_check(&got, err, sizeof(err)), ==, 0);

	/* minor 91: an interrupted reshape */
	md_sb_encode_090(&sb, buf);
	w[offsetof(mdp_super_t, minor_version) / 4] = 91;
	w[offsetof(mdp_super_t, sb_csum) / 4] = ref_csum_090((mdp_super_t *)buf);
	g_assert_cmpint(md_sb_decode_090(buf, &got, err, sizeof(err)), ==, 0);
	g_assert_cmpint(md_sb_check(&got, err, sizeof(err)), ==, -EINVAL);
	g_assert_nonnull(strstr(err, "minor_version 91 records a reshape in progress"));
}

/* md_sb_load refuses what md_sb_check refuses; the lenient load shows it. */
static void test_check_on_load(void)
{
	struct md_sb sb, got;
	char *path, err[256] = "";
	int fd = temp_member(64 << 20, &path);

	check_base(&sb, 5, 2);
	sb.raid_disks = 0xffffffff;
	sb.feature_map |= MD_FEATURE_RESHAPE_ACTIVE;
	g_assert_cmpint(md_sb_store(fd, &sb), ==, 0);
	g_assert_cmpint(md_sb_load(fd, &got, err, sizeof(err)), ==, -EINVAL);
	g_assert_nonnull(strstr(err, "superblock feature_map 0x4 has MD_FEATURE_RESHAPE_ACTIVE"));
	g_assert_cmpint(md_sb_load_flags(fd, &got, MD_SB_LOAD_LENIENT, err, sizeof(err)), ==, 0);
	g_assert_cmpuint(got.raid_disks, ==, 0xffffffff);

	/* 0.90 minor 91 on a member: refused, shown by the lenient load */
	g_assert_cmpint(ftruncate(fd, 0), ==, 0);
	g_assert_cmpint(ftruncate(fd, 64 << 20), ==, 0);
	check_base(&sb, 5, 90);
	sb.max_dev = 27;
	sb.feature_map |= MD_FEATURE_RESHAPE_ACTIVE;
	sb.reshape_position = 1024;
	g_assert_cmpint(md_sb_store(fd, &sb), ==, 0);
	g_assert_cmpint(md_sb_load(fd, &got, err, sizeof(err)), ==, -EINVAL);
	g_assert_nonnull(strstr(err, "superblock minor_version 91 records a reshape in progress"));
	g_assert_cmpint(md_sb_load_flags(fd, &got, MD_SB_LOAD_LENIENT, err, sizeof(err)), ==, 0);
	g_assert_cmpuint(got.reshape_position, ==, 1024);
	drop_member(fd, path);
}

/* ------------------------------------------------------------------ */
/* assembly                                                             */

/* Every member agrees member 0 is faulty, so member 0 leads (it is listed
 * first) and is left out: what the array needs is still what the leader's
 * superblock says after its member file is closed.  Without member 2 the
 * array is degraded and needs -o run.  M_PERTURB makes freed memory
 * garbage, so a read of the freed leader shows without a sanitizer. */
static void test_assemble_leader_left_out(void)
{
	char *paths[3], err[256];
	int fds[3], members;
	GPtrArray *arrays = g_ptr_array_new();

	for (int i = 0; i < 3; i++) {
		struct md_sb sb;
		fds[i] = temp_member(16 << 20, &paths[i]);
		member_sb(&sb, 1);
		sb.dev_roles[0] = MD_ROLE_FAULTY;
		sb.dev_roles[1] = 0;
		sb.dev_roles[2] = 1;
		sb.dev_number = (uint32_t)i;
		g_assert_cmpint(md_sb_place(&sb, 2, (16 << 20) / 512, 0, err, sizeof(err)), ==, 0);
		g_assert_cmpint(md_sb_store(fds[i], &sb), ==, 0);
	}
	mallopt(M_PERTURB, 0xa5);
	g_assert_cmpint(md_assemble((const char *const *)paths, 2, NULL, true, false, arrays,
				    &members), ==, 0);
	g_assert_cmpint(md_assemble((const char *const *)paths, 3, NULL, true, false, arrays,
				    &members), ==, 1);
	mallopt(M_PERTURB, 0);
	g_assert_cmpint(members, ==, 3);
	struct mddev *mddev = g_ptr_array_index(arrays, 0);
	g_assert_cmpint(mddev->pers->level, ==, 1);
	g_assert_cmpstr(mddev->name, ==, "m");
	g_assert_cmpuint(mddev->rdevs->len, ==, 2);
	md_stop(mddev);
	md_free(mddev);
	g_ptr_array_free(arrays, TRUE);
	for (int i = 0; i < 3; i++)
		drop_member(fds[i], paths[i]);
}

static char *examine_to_string(const char *path, const struct md_sb *sb);

/* examine stays bounded whatever raid_disks and delta_disks say. */
static void test_examine_hostile_counts(void)
{
	static const struct { uint32_t raid_disks; int32_t delta; } cases[] = {
		{ 0xffffffff, 0 }, { 0x7fffffff, INT32_MIN }, { 3, INT32_MIN }, { 0, 0 },
	};
	struct md_sb sb, got;
	char *path, err[256] = "";
	int fd = temp_member(64 << 20, &path);

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		check_base(&sb, 5, 2);
		sb.raid_disks = cases[i].raid_disks;
		sb.delta_disks = cases[i].delta;
		sb.feature_map |= MD_FEATURE_RESHAPE_ACTIVE;
		g_assert_cmpint(md_sb_store(fd, &sb), ==, 0);
		g_assert_cmpint(md_sb_load_flags(fd, &got, MD_SB_LOAD_LENIENT, err,
						 sizeof(err)), ==, 0);
		char *out = examine_to_string(path, &got);
		g_assert_cmpuint(strlen(out), <, 8192);
		g_assert_nonnull(strstr(out, "   Array State : "));
		free(out);
	}
	/* sizes whose Array Size overflows 64 bits (UBSan in check-sanitizers) */
	check_base(&sb, 5, 2);
	sb.size = sb.data_size = 1ull << 60;
	sb.raid_disks = sb.max_dev = MD_SB_MAX_ROLES;
	g_assert_cmpint(md_sb_store(fd, &sb), ==, 0);
	g_assert_cmpint(md_sb_load_flags(fd, &got, MD_SB_LOAD_LENIENT, err, sizeof(err)), ==, 0);
	char *out = examine_to_string(path, &got);
	g_assert_nonnull(strstr(out, "     Array Size : "));
	free(out);
	drop_member(fd, path);
}

/* ------------------------------------------------------------------ */
/* examine                                                              */

static char *examine_to_string(const char *path, const struct md_sb *sb)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	md_sb_examine(f, path, sb);
	fclose(f);
	return buf;
}

static void test_examine_fields(void)
{
	struct md_sb sb, got;
	char *path, err[256];
	int fd = temp_member(64 << 20, &path);
	char *out;

	member_sb(&sb, 5);
	sb.raid_disks = 3;
	sb.layout = 2;
	sb.chunk_sectors = 1024;
	g_assert_cmpint(md_sb_place(&sb, 2, (64 << 20) / 512, 0, err, sizeof(err)), ==, 0);
	g_assert_cmpint(md_sb_store(fd, &sb), ==, 0);
	g_assert_cmpint(md_sb_load(fd, &got, err, sizeof(err)), ==, 0);
	out = examine_to_string(path, &got);
	g_assert_nonnull(strstr(out, "          Magic : a92b4efc\n"));
	g_assert_nonnull(strstr(out, "        Version : 1.2\n"));
	g_assert_nonnull(strstr(out, "     Array UUID : 01234567:89abcdef:fedcba98:76543210\n"));
	g_assert_nonnull(strstr(out, " Avail Dev Size : 126976 sectors (62.00 MiB 65.01 MB)\n"));
	g_assert_nonnull(strstr(out, "     Array Size : 126976 KiB (124.00 MiB 130.02 MB)\n"));
	g_assert_nonnull(strstr(out, "    Data Offset : 4096 sectors\n"));
	g_assert_nonnull(strstr(out, "   Super Offset : 8 sectors\n"));
	g_assert_nonnull(strstr(out, "   Unused Space : before=4016 sectors, after=0 sectors\n"));
	g_assert_nonnull(strstr(out, "          State : clean\n"));
	g_assert_nonnull(strstr(out, "  Bad Block Log : 512 entries available at offset 16 sectors\n"));
	g_assert_nonnull(strstr(out, " - correct\n"));
	g_assert_nonnull(strstr(out, "         Layout : left-symmetric\n"));
	g_assert_nonnull(strstr(out, "     Chunk Size : 512K\n"));
	g_assert_nonnull(strstr(out, "   Device Role : Active device 1\n"));
	g_assert_nonnull(strstr(out, "   Array State : AA. ('A' == active, '.' == missing, 'R' == replacing)\n"));
	free(out);
	drop_member(fd, path);
}

/* Byte for byte against mdadm --examine, when mdadm is installed. */
static void compare_with_mdadm(int minor, int level)
{
	gchar *mdadm = g_find_program_in_path("mdadm");
	gchar *argv[] = { mdadm, (gchar *)"--examine", NULL, NULL };
	gchar *theirs = NULL;
	struct md_sb sb, got;
	char *path, err[256], *ours;
	int fd, status;

	if (!mdadm) {
		g_test_skip("mdadm not installed");
		return;
	}
	fd = temp_member(256 << 20, &path);
	member_sb(&sb, level);
	sb.raid_disks = 4;
	md_layout_default(level, 4, &sb.layout);
	if (level != 1)
		sb.chunk_sectors = 1024;   /* md_sb_load refuses a striped level without */
	sb.dev_roles[2] = MD_ROLE_FAULTY;
	sb.dev_roles[3] = 3;
	sb.dev_roles[4] = MD_ROLE_SPARE;
	if (minor == 90) {
		sb.max_dev = 27;
		sb.v090.disks[4].number = 4;
	}
	g_assert_cmpint(md_sb_place(&sb, minor, (256 << 20) / 512, 0, err, sizeof(err)), ==, 0);
	g_assert_cmpint(md_sb_store(fd, &sb), ==, 0);
	g_assert_cmpint(md_sb_load(fd, &got, err, sizeof(err)), ==, 0);
	ours = examine_to_string(path, &got);
	argv[2] = path;
	g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
				   &theirs, NULL, &status, NULL));
	g_assert_cmpstr(ours, ==, theirs);
	free(ours);
	g_free(theirs);
	g_free(mdadm);
	drop_member(fd, path);
}

static void test_examine_like_mdadm_v1(void)
{
	compare_with_mdadm(0, 5);
	compare_with_mdadm(1, 6);
	compare_with_mdadm(2, 10);
	compare_with_mdadm(2, 1);
	compare_with_mdadm(2, 0);
}

static void test_examine_like_mdadm_090(void)
{
	compare_with_mdadm(90, 5);
	compare_with_mdadm(90, 1);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/superblock/v1/layout-matches-md_p.h", test_v1_layout_matches_header);
	g_test_add_func("/superblock/v1/encode-matches-hand-built", test_v1_encode_matches_hand_built);
	g_test_add_func("/superblock/v1/decode-hand-built", test_v1_decode_hand_built);
	g_test_add_func("/superblock/v1/csum-matches-reference", test_v1_csum_matches_reference);
	g_test_add_func("/superblock/v1/csum-mismatch-rejected", test_v1_csum_mismatch_rejected);
	g_test_add_func("/superblock/v1/bad-header-rejected", test_v1_bad_header_rejected);
	g_test_add_func("/superblock/v1/roles-beyond-supported", test_v1_roles_beyond_supported);
	g_test_add_func("/superblock/v1/logical-block-size-byte-12", test_v1_logical_block_size);
	g_test_add_func("/superblock/v1/time-low-40-bits", test_v1_time_low_40_bits);
	g_test_add_func("/superblock/v1/round-trip", test_v1_round_trip);
	g_test_add_func("/superblock/090/decode-hand-built", test_090_decode_hand_built);
	g_test_add_func("/superblock/090/resync-offset", test_090_resync_offset);
	g_test_add_func("/superblock/090/csum-mismatch-rejected", test_090_csum_mismatch_rejected);
	g_test_add_func("/superblock/090/encode-is-consistent", test_090_encode_is_consistent);
	g_test_add_func("/superblock/090/encode-fresh-and-dirty", test_090_encode_fresh_and_dirty);
	g_test_add_func("/superblock/place/mdadm-numbers", test_place_mdadm_numbers);
	g_test_add_func("/superblock/place/rules", test_place_rules);
	g_test_add_func("/superblock/place/bitmap", test_place_bitmap);
	g_test_add_func("/superblock/place/too-small", test_place_too_small);
	g_test_add_func("/superblock/names/levels", test_level_names);
	g_test_add_func("/superblock/names/layouts", test_layout_names);
	g_test_add_func("/superblock/names/set-name-compose", test_set_name_compose);
	g_test_add_func("/superblock/names/layout-defaults", test_layout_defaults);
	g_test_add_func("/superblock/names/uuid", test_uuid);
	g_test_add_func("/superblock/load/found-at-each-location", test_load_found_at_each_location);
	g_test_add_func("/superblock/load/none", test_load_none);
	g_test_add_func("/superblock/load/truncated", test_load_truncated);
	g_test_add_func("/superblock/load/corrupt", test_load_corrupt);
	g_test_add_func("/superblock/load/prefers-newest", test_load_prefers_newest);
	g_test_add_func("/superblock/store/refuses-wrong-place", test_store_refuses_wrong_place);
	g_test_add_func("/superblock/check/fields", test_check_fields);
	g_test_add_func("/superblock/check/090", test_check_090);
	g_test_add_func("/superblock/check/on-load", test_check_on_load);
	g_test_add_func("/superblock/assemble/leader-left-out", test_assemble_leader_left_out);
	g_test_add_func("/superblock/examine/hostile-counts", test_examine_hostile_counts);
	g_test_add_func("/superblock/examine/fields", test_examine_fields);
	g_test_add_func("/superblock/examine/like-mdadm-v1", test_examine_like_mdadm_v1);
	g_test_add_func("/superblock/examine/like-mdadm-090", test_examine_like_mdadm_090);
	return g_test_run();
}
