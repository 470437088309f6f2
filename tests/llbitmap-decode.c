/* llbitmap-decode MEMBER: read a member file's llbitmap as the reference's
 * md-llbitmap.c does (llbitmap_read_sb, then one state byte a chunk from
 * BITMAP_DATA_OFFSET), written apart from raidfs's own code so that the
 * format is checked against the reference and not against itself.  It
 * knows md's v1.2 superblock only as far as it must to find the bitmap.
 *
 * Prints "chunksize N", "chunks N", "events N" (the bitmap's), "sb_events
 * N" (the md superblock's), "flags N" and then one
 * "STATE FIRST LAST" line per run of equal states (unwritten, clean, dirty,
 * needsync, syncing, or invalid); exit 1 on what llbitmap_read_sb refuses,
 * with the reference's reason. */
#include <endian.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* md-bitmap.h's bitmap_super_t, as the reference's patch leaves it. */
struct bitmap_super {
	uint32_t magic;
	uint32_t version;
	uint8_t uuid[16];
	uint64_t events;
	uint64_t events_cleared;
	uint64_t sync_size;
	uint32_t state;
	uint32_t chunksize;
	uint32_t daemon_sleep;
	uint32_t write_behind;
	uint32_t sectors_reserved;
	uint32_t nodes;
	uint8_t cluster_name[64];
	uint8_t pad[256 - 136];
} __attribute__((packed));
_Static_assert(sizeof(struct bitmap_super) == 256, "bitmap_super_t is 256 bytes");
_Static_assert(offsetof(struct bitmap_super, sectors_reserved) == 64, "layout");

#define BITMAP_MAGIC 0x6d746962
#define BITMAP_MAJOR_LOCKLESS 6
#define BITMAP_FIRST_USE 3
#define BITMAP_DATA_OFFSET 1024
#define MD_SB_MAGIC 0xa92b4efc
#define SB_AT 4096                     /* v1.2 */

static const char *const states[] = {
	"unwritten", "clean", "dirty", "needsync", "syncing",
};

static uint32_t le32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return le32toh(v); }
static uint64_t le64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return le64toh(v); }

static int refuse(const char *why)
{
	fprintf(stderr, "llbitmap-decode: %s\n", why);
	return 1;
}

/* md's resync_max_sectors: the component for raid1/4/5/6, the array for
 * raid10 (raid10_size). */
static uint64_t resync_max_sectors(const uint8_t *sb)
{
	int32_t level = (int32_t)le32(sb + 72);
	uint32_t layout = le32(sb + 76), chunk = le32(sb + 88);
	uint32_t disks = le32(sb + 92);
	uint64_t size = le64(sb + 80);

	if (level != 10)
		return size;
	uint64_t near = layout & 0xff, far = (layout >> 8) & 0xff;
	uint64_t chunks = size / chunk / far * disks / near;
	return chunks * chunk;
}

static const char *state_name(uint8_t s)
{
	return s < sizeof(states) / sizeof(states[0]) ? states[s] : "invalid";
}

int main(int argc, char **argv)
{
	uint8_t sb[1024];
	struct bitmap_super bsb;

	if (argc != 2)
		return refuse("usage: llbitmap-decode MEMBER");
	FILE *f = fopen(argv[1], "rb");
	if (!f || fseek(f, SB_AT, SEEK_SET) || fread(sb, sizeof(sb), 1, f) != 1)
		return refuse("cannot read the md superblock");
	if (le32(sb) != MD_SB_MAGIC)
		return refuse("no md v1.2 superblock");
	int64_t at = SB_AT + (int64_t)(int32_t)le32(sb + 96) * 512;
	if (fseek(f, at, SEEK_SET) || fread(&bsb, sizeof(bsb), 1, f) != 1)
		return refuse("read super block failed");
	if (le32toh(bsb.magic) != BITMAP_MAGIC)
		return refuse("invalid super block magic number");
	if (le32toh(bsb.version) != BITMAP_MAJOR_LOCKLESS)
		return refuse("invalid super block version");
	if (memcmp(bsb.uuid, sb + 16, 16))
		return refuse("bitmap superblock UUID mismatch");
	uint32_t flags = le32toh(bsb.state);
	if (flags & 1u << BITMAP_FIRST_USE)
		return refuse("first use: no states written yet");
	uint64_t chunksize = le32toh(bsb.chunksize);
	uint64_t space = le32toh(bsb.sectors_reserved), max = resync_max_sectors(sb);
	if (!chunksize || chunksize & (chunksize - 1))
		return refuse("chunksize not a power of 2");
	if (!space || chunksize < (max + (space << 9) - 1) / (space << 9))
		return refuse("chunksize too small");
	uint32_t sleep = le32toh(bsb.daemon_sleep);
	if (sleep < 1)
		return refuse("daemon sleep period out of range");
	uint64_t chunks = (max + chunksize - 1) / chunksize;
	if (BITMAP_DATA_OFFSET + chunks > space << 9)
		return refuse("the chunks do not fit the space");
	uint8_t *map = malloc(chunks);
	if (!map || fseek(f, at + BITMAP_DATA_OFFSET, SEEK_SET) ||
	    fread(map, 1, chunks, f) != chunks)
		return refuse("cannot read the states");
	printf("chunksize %llu\nchunks %llu\nevents %llu\nsb_events %llu\nflags %u\n",
	       (unsigned long long)chunksize, (unsigned long long)chunks,
	       (unsigned long long)le64toh(bsb.events),
	       (unsigned long long)le64(sb + 200), flags);
	for (uint64_t i = 0, j; i < chunks; i = j) {
		for (j = i + 1; j < chunks && map[j] == map[i]; j++)
			;
		printf("%s %llu %llu\n", state_name(map[i]),
		       (unsigned long long)i, (unsigned long long)(j - 1));
	}
	free(map);
	fclose(f);
	return 0;
}
