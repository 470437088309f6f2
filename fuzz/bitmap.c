/* The internal bitmap superblock: a clean raid1 pair (v1.2, or 0.90 when
 * the flags byte has 1) whose bitmap superblocks are the input's (the
 * second member's own with flags 2, else the same), then assembled
 * read-write (-o run with 4), written (the bitmap goes dirty) and stopped.
 * The array's uuid replaces the input's unless flags has 8, so that seeds
 * from other arrays get past the uuid check. */
#include <unistd.h>
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz in = { data, size };
	struct fz_set s;
	uint8_t flags = fz_u8(&in);
	uint8_t bsb[2][256] = { { 0 } };

	fz_set_make(&s, 1, flags & 1 ? 90 : 2, 2, true, FZ_MEMBER_BYTES);
	/* The second member gets its own bytes or, mostly, the same. */
	for (int i = 0; i < 2; i++) {
		size_t len = MIN(in.n, sizeof(bsb[i]));
		memcpy(bsb[i], in.p, len);
		if (!(flags & 8))
			md_sb_uuid_kernel(&s.sb[i], bsb[i] + 8);
		if (i == 0 && (flags & 2) && in.n > 256)
			in.p += 256, in.n -= 256;
		(void)!pwrite(s.fds[i], bsb[i], sizeof(bsb[i]), (off_t)s.bitmap_pos[i]);
	}
	GPtrArray *arrays = fz_assemble(&s, false, flags & 4);
	for (guint i = 0; i < arrays->len; i++) {
		static const char block[4096];
		md_write(g_ptr_array_index(arrays, i), 0, sizeof(block), block);
	}
	fz_stop(arrays);
	fz_set_close(&s);
	return 0;
}
