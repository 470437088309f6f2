/* Test helper: write md's bad-block log into a member, as md's super_1_sync
 * leaves it, or set its bblog fields to anything; the checksum is fixed.
 *   sb-badblocks MEMBER [ARG...]
 * ARG is SECTOR:LEN (a bad range in absolute member sectors, stored in
 * entries of at most 512 blocks), raw=0xENTRY (an entry as is), or
 * bblog_offset=N, bblog_size=N, bblog_shift=N, feature=0|1 (the
 * superblock's fields and MD_FEATURE_BAD_BLOCKS).  Ranges or raw entries
 * rewrite the whole log (the rest all ones) and set the feature bit. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/raid/md_p.h>
#include "../src/superblock.h"

#define MAX_ENTRIES 512

static uint64_t entries[MAX_ENTRIES];
static int nentries;

static int add_entry(uint64_t e)
{
	if (nentries == MAX_ENTRIES)
		return -1;
	entries[nentries++] = e;
	return 0;
}

static int add_range(const struct md_sb *sb, uint64_t s, uint64_t len)
{
	uint64_t block = s >> sb->bblog_shift;
	uint64_t blocks = (len + (1ull << sb->bblog_shift) - 1) >> sb->bblog_shift;

	while (blocks) {
		uint64_t k = blocks > 512 ? 512 : blocks;
		if (add_entry(block << 10 | k) < 0)
			return -1;
		block += k;
		blocks -= k;
	}
	return 0;
}

static int apply(struct md_sb *sb, const char *arg)
{
	unsigned long long a, b;
	long long v;
	char c;

	if (sscanf(arg, "%llu:%llu%c", &a, &b, &c) == 2)
		return add_range(sb, a, b);
	if (strncmp(arg, "raw=", 4) == 0) {
		char *end;
		uint64_t e = strtoull(arg + 4, &end, 0);
		return *end ? -1 : add_entry(e);
	}
	if (sscanf(arg, "bblog_offset=%lli%c", &v, &c) == 1)
		sb->bblog_offset = (uint32_t)v;
	else if (sscanf(arg, "bblog_size=%lli%c", &v, &c) == 1)
		sb->bblog_size = (uint16_t)v;
	else if (sscanf(arg, "bblog_shift=%lli%c", &v, &c) == 1)
		sb->bblog_shift = (uint8_t)v;
	else if (strcmp(arg, "feature=1") == 0)
		sb->feature_map |= MD_FEATURE_BAD_BLOCKS;
	else if (strcmp(arg, "feature=0") == 0)
		sb->feature_map &= ~MD_FEATURE_BAD_BLOCKS;
	else
		return -1;
	return 0;
}

static int write_log(int fd, const struct md_sb *sb)
{
	size_t len = (size_t)sb->bblog_size * 512;
	uint8_t *buf = malloc(len ? len : 1);
	off_t pos = (off_t)(sb->super_offset + (int32_t)sb->bblog_offset) * 512;

	memset(buf, 0xff, len);
	for (int i = 0; i < nentries && (size_t)i * 8 < len; i++)
		for (int k = 0; k < 8; k++)
			buf[i * 8 + k] = (uint8_t)(entries[i] >> (8 * k));
	int r = pwrite(fd, buf, len, pos) == (ssize_t)len ? 0 : -1;
	free(buf);
	return r;
}

int main(int argc, char **argv)
{
	struct md_sb sb;
	char err[256];

	if (argc < 2) {
		fprintf(stderr, "usage: sb-badblocks MEMBER [SECTOR:LEN | raw=ENTRY | "
			"bblog_offset=N | bblog_size=N | bblog_shift=N | feature=0|1]...\n");
		return 2;
	}
	int fd = open(argv[1], O_RDWR);
	if (fd < 0 || md_sb_load(fd, &sb, err, sizeof(err)) < 0) {
		fprintf(stderr, "sb-badblocks: %s: cannot load\n", argv[1]);
		return 1;
	}
	for (int i = 2; i < argc; i++) {
		if (apply(&sb, argv[i]) < 0) {
			fprintf(stderr, "sb-badblocks: bad argument %s\n", argv[i]);
			return 2;
		}
	}
	if (nentries) {
		sb.feature_map |= MD_FEATURE_BAD_BLOCKS;
		if (write_log(fd, &sb) < 0) {
			fprintf(stderr, "sb-badblocks: %s: cannot write the log\n", argv[1]);
			return 1;
		}
	}
	int r = md_sb_store(fd, &sb);
	close(fd);
	return r < 0;
}
