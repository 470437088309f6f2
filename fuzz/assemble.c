/* Assembly from fuzzed superblocks: 2-4 members made as create makes them,
 * field bytes patched (checksums fixed up unless asked not to), assembled
 * read-only or read-write, a read and a write of each array started, then
 * md_stop and md_free.  Input: a geometry byte (level, metadata, members),
 * a flags byte, with the IMAGE flag IMAGE_BYTES for each member to lay at
 * its superblock (superblock and bitmap superblock, from the mdadm-made
 * seeds' 24 MiB members), then patches of (member, offset, length, bytes)
 * to the superblocks; member n patches every member. */
#include <unistd.h>
#include "common.h"

enum { RO = 1, RUN = 2, BAD_CSUM = 4, BITMAP = 8, IMAGE = 16 };
#define IMAGE_BYTES 4352      /* superblock region and bitmap superblock */
#define IMAGE_MEMBER_BYTES (24ull << 20)

static const int levels[] = { 1, 5, 10, 0, MD_LEVEL_LINEAR, 6, 4 };
static const int minors[] = { 0, 1, 2, 90 };

static void patch(struct fz_set *s, struct fz *in, uint8_t sbs[][4096])
{
	int member = fz_u8(in) % (s->n + 1);
	uint32_t off = fz_u8(in);
	off |= (uint32_t)fz_u8(in) << 8;
	size_t len = 1 + fz_u8(in) % 8;
	uint8_t val[8];

	off %= s->sb[0].major ? 1024 : 4096;   /* v1: fields and 384 roles */
	for (size_t i = 0; i < len; i++)
		val[i] = fz_u8(in);
	len = MIN(len, 4096 - off);
	for (int i = 0; i < s->n; i++)
		if (member == s->n || member == i)
			memcpy(sbs[i] + off, val, len);
}

static void io(struct mddev *mddev)
{
	static uint8_t buf[4096];
	uint64_t end = mddev->array_sectors << SECTOR_SHIFT;
	uint64_t off = end > sizeof(buf) ? end - sizeof(buf) : 0;

	md_read(mddev, 0, sizeof(buf), buf);
	if (!mddev->ro)
		md_write(mddev, off, sizeof(buf), buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz in = { data, size };
	uint8_t geo = fz_u8(&in), flags = fz_u8(&in);
	int level = levels[geo % G_N_ELEMENTS(levels)];
	int n = level == 6 ? 4 : 2 + (geo >> 6) % 3;
	struct fz_set s;
	uint8_t sbs[FZ_MAX_MEMBERS][4096];

	fz_set_make(&s, level, minors[(geo >> 3) & 3], n,
		    (flags & BITMAP) && level > 0,
		    flags & IMAGE ? IMAGE_MEMBER_BYTES : FZ_MEMBER_BYTES);
	for (int i = 0; i < n && (flags & IMAGE); i++) {
		size_t len = MIN(in.n, IMAGE_BYTES);
		(void)!pwrite(s.fds[i], in.p, len, (off_t)s.sb_pos[i]);
		in.p += len, in.n -= len;
	}
	for (int i = 0; i < n; i++)
		(void)!pread(s.fds[i], sbs[i], 4096, (off_t)s.sb_pos[i]);
	while (in.n)
		patch(&s, &in, sbs);
	for (int i = 0; i < n; i++) {
		if (!(flags & BAD_CSUM))
			fz_fix_csum(sbs[i], s.sb[i].major);
		(void)!pwrite(s.fds[i], sbs[i], 4096, (off_t)s.sb_pos[i]);
	}
	GPtrArray *arrays = fz_assemble(&s, flags & RO, flags & RUN);
	for (guint i = 0; i < arrays->len; i++)
		io(g_ptr_array_index(arrays, i));
	fz_stop(arrays);
	fz_set_close(&s);
	return 0;
}
