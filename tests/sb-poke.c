/* Test helper: set one field of a member's v1.x superblock to VALUE and fix
 * the checksum, so the superblock reaches raidfs's checks past the checksum
 * (as hostile superblocks do).  Without VALUE, print the field.
 *   sb-poke MEMBER FIELD [VALUE]
 *   sb-poke MEMBER bitmap            a fresh bitmap superblock (64K chunks)
 *   sb-poke MEMBER bitmap.FIELD [VALUE]   magic, version, sync_size,
 *                                    chunksize, daemon_sleep, write_behind
 * FIELD is md_p.h's name: level, layout, size, chunksize, raid_disks,
 * feature_map, logical_block_size, bitmap_offset, data_offset, data_size,
 * dev_number, events, resync_offset, recovery_offset, max_dev,
 * reshape_position, or
 * dev_roles[N]. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/raid/md_p.h>
#include <stddef.h>
#include "../src/superblock.h"

#define V1(f) offsetof(struct mdp_superblock_1, f), sizeof(((struct mdp_superblock_1 *)0)->f)

static const struct {
	const char *name;
	size_t off, len;
} fields[] = {
	{ "feature_map", V1(feature_map) }, { "logical_block_size", 12, 4 },
	{ "level", V1(level) }, { "layout", V1(layout) }, { "size", V1(size) },
	{ "chunksize", V1(chunksize) }, { "raid_disks", V1(raid_disks) },
	{ "bitmap_offset", V1(bitmap_offset) }, { "data_offset", V1(data_offset) },
	{ "data_size", V1(data_size) }, { "dev_number", V1(dev_number) },
	{ "events", V1(events) }, { "resync_offset", V1(resync_offset) },
	{ "recovery_offset", V1(recovery_offset) }, { "max_dev", V1(max_dev) },
	{ "reshape_position", V1(reshape_position) },
};

static const struct {
	const char *name;
	size_t off, len;
} bitmap_fields[] = {   /* bitmap_super_t, md-bitmap.h */
	{ "bitmap.magic", 0, 4 }, { "bitmap.version", 4, 4 }, { "bitmap.sync_size", 40, 8 },
	{ "bitmap.chunksize", 52, 4 }, { "bitmap.daemon_sleep", 56, 4 },
	{ "bitmap.write_behind", 60, 4 },
};

static void put(uint8_t *b, size_t off, size_t len, uint64_t v)
{
	for (size_t i = 0; i < len; i++)   /* little-endian, as md's __le fields */
		b[off + i] = (uint8_t)(v >> (8 * i));
}

static int field(const char *name, size_t *off, size_t *len)
{
	unsigned role;

	for (size_t i = 0; i < sizeof(bitmap_fields) / sizeof(bitmap_fields[0]); i++)
		if (!strcmp(bitmap_fields[i].name, name)) {
			*off = bitmap_fields[i].off;
			*len = bitmap_fields[i].len;
			return 0;
		}
	if (!strcmp(name, "bitmap")) {
		*off = *len = 0;
		return 0;
	}

	if (sscanf(name, "dev_roles[%u]", &role) == 1 && role < 1920) {
		*off = offsetof(struct mdp_superblock_1, dev_roles) + 2 * role;
		*len = 2;
		return 0;
	}
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (!strcmp(fields[i].name, name)) {
			*off = fields[i].off;
			*len = fields[i].len;
			return 0;
		}
	return -1;
}

/* What md_bitmap_write_sb leaves for a clean array. */
static void bitmap_init(uint8_t *b, const struct md_sb *sb)
{
	memset(b, 0, 512);
	put(b, 0, 4, 0x6d746962);
	put(b, 4, 4, 4);
	md_sb_uuid_kernel(sb, b + 8);
	put(b, 24, 8, sb->events);
	put(b, 32, 8, sb->events);
	put(b, 40, 8, sb->size);
	put(b, 52, 4, 64 << 10);
	put(b, 56, 4, 5);
}

int main(int argc, char **argv)
{
	struct md_sb sb;
	uint8_t buf[4096];
	uint64_t v = 0;
	size_t off, len;
	char err[256];

	if ((argc != 3 && argc != 4) || field(argv[2], &off, &len)) {
		fprintf(stderr, "usage: sb-poke MEMBER FIELD [VALUE]\n");
		return 2;
	}
	bool bitmap = !strcmp(argv[2], "bitmap") || !strncmp(argv[2], "bitmap.", 7);
	int fd = open(argv[1], O_RDWR);
	if (fd < 0 || md_sb_load_flags(fd, &sb, MD_SB_LOAD_LENIENT, err, sizeof(err)) < 0 ||
	    sb.major != 1) {
		fprintf(stderr, "sb-poke: %s: no v1 superblock\n", argv[1]);
		return 1;
	}
	off_t at = (off_t)(sb.super_offset + (bitmap ? sb.bitmap_offset : 0)) * 512;
	if (pread(fd, buf, sizeof(buf), at) != sizeof(buf)) {
		fprintf(stderr, "sb-poke: %s: cannot read at %lld\n", argv[1], (long long)at);
		return 1;
	}
	for (size_t i = 0; i < len; i++)
		v |= (uint64_t)buf[off + i] << (8 * i);
	if (argc == 3 && len) {
		printf("%" PRIu64 "\n", v);
		return 0;
	}
	if (len)
		put(buf, off, len, strtoull(argv[3], NULL, 0));
	else
		bitmap_init(buf, &sb);
	if (!bitmap)
		put(buf, offsetof(struct mdp_superblock_1, sb_csum), 4, md_sb_csum_v1(buf));
	if (pwrite(fd, buf, sizeof(buf), at) != sizeof(buf) || fsync(fd) < 0) {
		perror("sb-poke");
		return 1;
	}
	return close(fd) < 0;
}
