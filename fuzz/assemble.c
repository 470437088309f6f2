/* Assembly from fuzzed superblocks: 2-4 members made as create makes them,
 * field bytes patched (checksums fixed up unless asked not to), assembled
 * read-only or read-write, a read and a write of each array started, then
 * md_stop and md_free.  Input: a geometry byte (level, metadata, members),
 * a flags byte, with the IMAGE flag IMAGE_BYTES for each member to lay at
 * its superblock (superblock and bitmap superblock, from the mdadm-made
 * seeds' 24 MiB members), then patches of (member, offset, length, bytes);
 * member n patches every member.  The offset's top bits pick what is
 * patched: the superblock, the bitmap superblock (with BITMAP) or the v1
 * bad-block log, each where create put it. */
#include <unistd.h>
#include "common.h"

enum { RO = 1, RUN = 2, BAD_CSUM = 4, BITMAP = 8, IMAGE = 16 };
#define IMAGE_BYTES 4352      /* superblock region and bitmap superblock */
#define IMAGE_MEMBER_BYTES (24ull << 20)

static const int levels[] = { 1, 5, 10, 0, MD_LEVEL_LINEAR, 6, 4 };
static const int minors[] = { 0, 1, 2, 90 };

/* Each member's patchable bytes, read from and written back to the file. */
enum area { SB, BITMAP_SB, BBLOG, AREAS };
static const size_t area_len[AREAS] = { 4096, 256, 4096 };

struct member_bytes {
	uint8_t area[AREAS][4096];
	int64_t pos[AREAS];       /* bytes; -1: the member has none */
};

static void locate(const struct fz_set *s, int i, struct member_bytes *m)
{
	const struct md_sb *sb = &s->sb[i];

	m->pos[SB] = (int64_t)s->sb_pos[i];
	m->pos[BITMAP_SB] = s->bitmap_pos[i] ? (int64_t)s->bitmap_pos[i] : -1;
	m->pos[BBLOG] = sb->major == 1 && sb->bblog_size ?
		m->pos[SB] + (int64_t)(int32_t)sb->bblog_offset * 512 : -1;
}

/* Offsets 0x0000-0x7fff: the superblock's (v1: its fields and 384 roles);
 * 0x8000-0xbfff: the bitmap superblock's; 0xc000-0xffff: the log's. */
static void patch(struct fz_set *s, struct fz *in, struct member_bytes *m)
{
	int member = fz_u8(in) % (s->n + 1);
	uint32_t off = fz_u8(in);
	off |= (uint32_t)fz_u8(in) << 8;
	size_t len = 1 + fz_u8(in) % 8;
	enum area a = off < 0x8000 ? SB : off < 0xc000 ? BITMAP_SB : BBLOG;
	uint8_t val[8];

	off = a == SB ? off % (s->sb[0].major ? 1024 : 4096) : (off & 0x3fff) % area_len[a];
	for (size_t i = 0; i < len; i++)
		val[i] = fz_u8(in);
	len = MIN(len, area_len[a] - off);
	for (int i = 0; i < s->n; i++)
		if (member == s->n || member == i)
			memcpy(m[i].area[a] + off, val, len);
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
	struct member_bytes m[FZ_MAX_MEMBERS];

	fz_set_make(&s, level, minors[(geo >> 3) & 3], n,
		    (flags & BITMAP) && level > 0,
		    flags & IMAGE ? IMAGE_MEMBER_BYTES : FZ_MEMBER_BYTES);
	for (int i = 0; i < n && (flags & IMAGE); i++) {
		size_t len = MIN(in.n, IMAGE_BYTES);
		(void)!pwrite(s.fds[i], in.p, len, (off_t)s.sb_pos[i]);
		in.p += len, in.n -= len;
	}
	for (int i = 0; i < n; i++) {
		locate(&s, i, &m[i]);
		for (int a = 0; a < AREAS; a++)
			if (m[i].pos[a] >= 0)
				(void)!pread(s.fds[i], m[i].area[a], area_len[a], m[i].pos[a]);
	}
	while (in.n)
		patch(&s, &in, m);
	for (int i = 0; i < n; i++) {
		if (!(flags & BAD_CSUM))
			fz_fix_csum(m[i].area[SB], s.sb[i].major);
		/* the superblock last: it wins where areas overlap */
		for (int a = AREAS - 1; a >= 0; a--)
			if (m[i].pos[a] >= 0)
				(void)!pwrite(s.fds[i], m[i].area[a], area_len[a], m[i].pos[a]);
	}
	GPtrArray *arrays = fz_assemble(&s, flags & RO, flags & RUN);
	for (guint i = 0; i < arrays->len; i++)
		io(g_ptr_array_index(arrays, i));
	fz_stop(arrays);
	fz_set_close(&s);
	return 0;
}
