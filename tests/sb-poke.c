/* Test helper: set one field of a member's v1.x superblock to VALUE and fix
 * the checksum, so the superblock reaches raidfs's checks past the checksum
 * (as hostile superblocks do).  Without VALUE, print the field.
 *   sb-poke MEMBER FIELD [VALUE]
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

static int field(const char *name, size_t *off, size_t *len)
{
	unsigned role;

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
	int fd = open(argv[1], O_RDWR);
	if (fd < 0 || md_sb_load_flags(fd, &sb, MD_SB_LOAD_LENIENT, err, sizeof(err)) < 0 ||
	    sb.major != 1 || pread(fd, buf, sizeof(buf), (off_t)sb.super_offset * 512) != sizeof(buf)) {
		fprintf(stderr, "sb-poke: %s: no v1 superblock\n", argv[1]);
		return 1;
	}
	for (size_t i = 0; i < len; i++)   /* little-endian, as md_p.h's __le fields */
		v |= (uint64_t)buf[off + i] << (8 * i);
	if (argc == 3) {
		printf("%" PRIu64 "\n", v);
		return 0;
	}
	v = strtoull(argv[3], NULL, 0);
	for (size_t i = 0; i < len; i++)
		buf[off + i] = (uint8_t)(v >> (8 * i));
	uint32_t csum = md_sb_csum_v1(buf);
	for (size_t i = 0; i < 4; i++)
		buf[offsetof(struct mdp_superblock_1, sb_csum) + i] = (uint8_t)(csum >> (8 * i));
	if (pwrite(fd, buf, sizeof(buf), (off_t)sb.super_offset * 512) != sizeof(buf) ||
	    fsync(fd) < 0) {
		perror("sb-poke");
		return 1;
	}
	return close(fd) < 0;
}
