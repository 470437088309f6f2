/* Superblock probe, decode and validation (v1.0/1.1/1.2 and 0.90), the
 * bad-block log of what a strict load accepts (read where bblog_offset
 * puts it: 8 sectors on, that is the input's second 4 KiB), and examine of
 * what a lenient load accepts.  Input: a kind byte (which probe offset;
 * 0x80: fix the checksum up), a member size byte, then the bytes placed at
 * that offset. */
#include <unistd.h>
#include "common.h"
#include "../src/badblocks.h"

/* 0x80: a tiny member of 0-127 sectors; else 1-64 units of 64 KiB, or
 * of 1 MiB with 0x40 (mdadm's seed members are 24 MiB). */
static uint64_t member_size(uint8_t b)
{
	if (b & 0x80)
		return (uint64_t)(b & 0x7f) * 512;
	return ((uint64_t)(b & 0x3f) + 1) << (b & 0x40 ? 20 : 16);
}

/* Where md_sb_load looks for each kind; -1 when the member is too small. */
static int64_t probe_offset(int kind, uint64_t bytes)
{
	uint64_t sectors = bytes >> SECTOR_SHIFT;

	switch (kind) {
	case 0: return 0;                                     /* 1.1 */
	case 1: return 4096;                                  /* 1.2 */
	case 2: return sectors < 16 ? -1 : (int64_t)((sectors - 16) & ~7ull) << 9;
	default: return bytes < 65536 ? -1 : (int64_t)((bytes & ~65535ull) - 65536);
	}
}

/* As rdev_open loads the log; then every member read's check, and the
 * control file's listing. */
static void bad_blocks(int fd, const struct md_sb *sb, uint64_t bytes)
{
	struct badblocks bb;
	uint64_t first, len;
	char err[512];

	if (badblocks_load(fd, sb, bytes >> SECTOR_SHIFT, &bb, err, sizeof(err)))
		return;
	badblocks_check(&bb, sb->data_offset, sb->data_size, &first, &len);
	GString *out = g_string_new(NULL);
	badblocks_show(&bb, out, false);
	g_string_free(out, TRUE);
	badblocks_exit(&bb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *null;
	struct fz in = { data, size };
	uint8_t kind = fz_u8(&in);
	uint64_t bytes = member_size(fz_u8(&in));
	int64_t off = probe_offset(kind & 3, bytes);
	uint8_t buf[8192] = { 0 };
	size_t len = MIN(in.n, sizeof(buf));

	if (!null)
		null = fopen("/dev/null", "w");
	memcpy(buf, in.p, len);
	if (kind & 0x80) {
		fz_fix_csum(buf, (kind & 3) == 3 ? 0 : 1);
		len = MAX(len, 4096);
	}
	int fd = fz_member(bytes);
	if (off >= 0 && (uint64_t)off < bytes)
		(void)!pwrite(fd, buf, MIN(len, bytes - (uint64_t)off), off);

	struct md_sb *sb = g_new0(struct md_sb, 1);
	char err[512];
	if (md_sb_load_flags(fd, sb, 0, err, sizeof(err)) == 0)
		bad_blocks(fd, sb, bytes);
	if (md_sb_load_flags(fd, sb, MD_SB_LOAD_LENIENT, err, sizeof(err)) == 0)
		md_sb_examine(null, "member", sb);
	g_free(sb);
	close(fd);
	return 0;
}
