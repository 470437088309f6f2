/* Shared set-up of the libFuzzer targets (see common.h). */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "common.h"
#include "../src/super_int.h"

uint8_t fz_u8(struct fz *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

uint32_t fz_u32(struct fz *in)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v |= (uint32_t)fz_u8(in) << (8 * i);
	return v;
}

/* Set-up failures are the harness's, not findings: stop loudly. */
static void must(bool ok, const char *what)
{
	if (!ok) {
		perror(what);
		abort();
	}
}

int fz_member(uint64_t bytes)
{
	int fd = memfd_create("member", MFD_CLOEXEC);

	must(fd >= 0 && ftruncate(fd, (off_t)bytes) == 0, "memfd");
	return fd;
}

void fz_path(int fd, char path[32])
{
	snprintf(path, 32, "/proc/self/fd/%d", fd);
}

void fz_fix_csum(uint8_t buf[4096], int major)
{
	if (major == 0)
		set_hw(buf, W_CSUM, csum_090(buf));
	else
		put32(buf + V1_SB_CSUM, md_sb_csum_v1(buf));
}

static bool has_chunk(int level)
{
	return level == 0 || level == 4 || level == 5 || level == 6 || level == 10;
}

static void template(struct md_sb *t, int level, int minor, int n)
{
	memset(t, 0, sizeof(*t));
	t->major = minor == 90 ? 0 : 1;
	t->minor = minor;
	memset(t->set_uuid, 0x5a, sizeof(t->set_uuid));
	strcpy(t->set_name, "fuzz:fz");
	t->ctime = t->utime = 1700000000;
	t->level = level;
	md_layout_default(level, n, &t->layout);
	t->chunk_sectors = has_chunk(level) ? 128 : 0;
	t->raid_disks = n;
	t->events = 1;
	t->resync_offset = MD_MAX_SECTOR;
	t->max_dev = 128;
	for (int i = 0; i < MD_SB_MAX_ROLES; i++)
		t->dev_roles[i] = i < n ? i : MD_ROLE_SPARE;
	if (level == 0)
		t->feature_map = MD_FEATURE_RAID0_LAYOUT;
}

/* md-bitmap.h's bitmap_super_t, version 4, every bit clean. */
static void write_bitmap(int fd, const struct md_sb *sb, uint64_t pos)
{
	uint8_t b[256] = { 0 };

	put32(b, 0x6d746962);
	put32(b + 4, 4);
	md_sb_uuid_kernel(sb, b + 8);
	put64(b + 24, sb->events);
	put64(b + 32, sb->events);
	put64(b + 40, sb->size);
	put32(b + 52, 64 << 10);      /* chunksize */
	put32(b + 56, 5);             /* daemon_sleep */
	must(pwrite(fd, b, sizeof(b), (off_t)pos) == sizeof(b), "bitmap");
}

void fz_set_make(struct fz_set *s, int level, int minor, int n, bool bitmap,
		 uint64_t bytes)
{
	struct md_sb t;
	char err[256];

	template(&t, level, minor, n);
	memset(s, 0, sizeof(*s));
	s->n = n;
	for (int i = 0; i < n; i++) {
		struct md_sb *sb = &s->sb[i];
		*sb = t;
		must(md_sb_place(sb, minor, bytes >> SECTOR_SHIFT,
				 bitmap ? 8 : 0, err, sizeof(err)) == 0, err);
		if (t.chunk_sectors && sb->size)
			sb->size -= sb->size % t.chunk_sectors;
		sb->dev_number = i;
		memset(sb->device_uuid, i + 1, sizeof(sb->device_uuid));
		s->fds[i] = fz_member(bytes);
		must(md_sb_store(s->fds[i], sb) == 0, "md_sb_store");
		s->sb_pos[i] = sb->super_offset << SECTOR_SHIFT;
		if (bitmap) {
			s->bitmap_pos[i] = (uint64_t)((int64_t)sb->super_offset +
						      sb->bitmap_offset) << SECTOR_SHIFT;
			write_bitmap(s->fds[i], sb, s->bitmap_pos[i]);
		}
	}
}

void fz_set_close(struct fz_set *s)
{
	for (int i = 0; i < s->n; i++)
		close(s->fds[i]);
}

GPtrArray *fz_assemble(struct fz_set *s, bool ro, bool run)
{
	char paths[FZ_MAX_MEMBERS][32];
	const char *p[FZ_MAX_MEMBERS];
	GPtrArray *arrays = g_ptr_array_new();
	int members;

	for (int i = 0; i < s->n; i++) {
		fz_path(s->fds[i], paths[i]);
		p[i] = paths[i];
	}
	md_assemble(p, s->n, NULL, ro, run, arrays, &members);
	return arrays;
}

void fz_stop(GPtrArray *arrays)
{
	for (guint i = 0; i < arrays->len; i++) {
		struct mddev *mddev = g_ptr_array_index(arrays, i);
		md_stop(mddev);
		md_free(mddev);
	}
	g_ptr_array_free(arrays, TRUE);
}
