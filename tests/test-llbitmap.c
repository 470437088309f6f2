/* llbitmap (src/llbitmap.c) against the reference, md-llbitmap.c of
 * "[PATCH v4 11/11] md/md-llbitmap: introduce new lockless bitmap": the
 * state table cell for cell, the on-disk layout, and the write path,
 * daemon and syncs driven on arrays over member files. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "testlib.h"
#include "../src/llbitmap.h"

/* ---- the state table, as the reference's comment writes it ---- */

static const char *const state_names[] = {
	"Unwritten", "Clean", "Dirty", "NeedSync", "Syncing",
};

/* Rows Unwritten..Syncing; columns Startwrite Startsync Endsync Abortsync
 * Reload Daemon Discard Stale; "x": no change. */
static const char *const reference_table[5][8] = {
	{ "Dirty", "x", "x", "x", "x", "x", "x", "x" },
	{ "Dirty", "x", "x", "x", "x", "x", "Unwritten", "NeedSync" },
	{ "x", "x", "x", "x", "NeedSync", "Clean", "Unwritten", "NeedSync" },
	{ "x", "Syncing", "x", "x", "x", "x", "Unwritten", "x" },
	{ "x", "Syncing", "Dirty", "NeedSync", "NeedSync", "x", "Unwritten", "NeedSync" },
};

static int state_by_name(const char *name)
{
	for (int i = 0; i < 5; i++)
		if (!strcmp(state_names[i], name))
			return i;
	g_assert_cmpstr(name, ==, "x");
	return BitNone;
}

/* The reference's two cases beside the table, for a write that would make
 * a chunk Dirty: raid456 (a chunk never written: parity not built) and a
 * degraded array (to be synced onto the member that comes back); and md's
 * as merged, a degraded array's sync of a Dirty chunk. */
static int special_case(int c, int a, int cell, bool raid456, bool degraded)
{
	if (degraded && c == BitDirty && a == BitmapActionStartsync)
		return BitSyncing;
	if (a != BitmapActionStartwrite || cell != BitDirty)
		return cell;
	if ((raid456 && c == BitUnwritten) || degraded)
		return BitNeedSync;
	return cell;
}

static void test_state_table(void)
{
	for (int c = 0; c < 5; c++)
		for (int a = 0; a < 8; a++) {
			int cell = state_by_name(reference_table[c][a]);
			for (int k = 0; k < 4; k++) {
				bool raid456 = k & 1, degraded = k & 2;
				g_assert_cmpint(llbitmap_next_state(c, a, raid456, degraded), ==,
						special_case(c, a, cell, raid456, degraded));
			}
		}
	/* the cases spelled out */
	g_assert_cmpint(llbitmap_next_state(BitUnwritten, BitmapActionStartwrite, true, false),
			==, BitNeedSync);
	g_assert_cmpint(llbitmap_next_state(BitClean, BitmapActionStartwrite, true, false),
			==, BitDirty);
	g_assert_cmpint(llbitmap_next_state(BitClean, BitmapActionStartwrite, false, true),
			==, BitNeedSync);
	g_assert_cmpint(llbitmap_next_state(BitDirty, BitmapActionStartwrite, false, true),
			==, BitNone);
	g_assert_cmpint(llbitmap_next_state(BitSyncing, BitmapActionEndsync, false, true),
			==, BitDirty);
	g_assert_cmpint(llbitmap_next_state(BitDirty, BitmapActionStartsync, false, true),
			==, BitSyncing);
	g_assert_cmpint(llbitmap_next_state(BitDirty, BitmapActionStartsync, false, false),
			==, BitNone);
	g_assert_cmpint(llbitmap_next_state(BitStateCount, BitmapActionStartwrite, false, false),
			==, BitNone);
}

/* ---- on disk ---- */

static void test_sb_encode(void)
{
	struct llbitmap_sb sb = {
		.magic = 0x6d746962, .version = 6, .events = 0x1122334455667788ull,
		.events_cleared = 7, .sync_size = 123456789, .state = 1u << 3,
		.chunksize = 128, .daemon_sleep = 30, .sectors_reserved = 256,
	}, back;
	uint8_t buf[LLBITMAP_SB_BYTES];

	for (int i = 0; i < 16; i++)
		sb.uuid[i] = (uint8_t)(0xa0 + i);
	llbitmap_sb_encode(&sb, buf);
	/* bitmap_super_t, little-endian */
	g_assert_cmpmem(buf, 4, "bitm", 4);
	g_assert_cmpint(buf[4], ==, 6);
	g_assert_cmpint(buf[8], ==, 0xa0);
	g_assert_cmpint(buf[24], ==, 0x88);
	g_assert_cmpint(buf[31], ==, 0x11);
	g_assert_cmpint(buf[32], ==, 7);
	g_assert_cmpint(buf[48], ==, 8);
	g_assert_cmpint(buf[52], ==, 128);
	g_assert_cmpint(buf[56], ==, 30);
	g_assert_cmpint(buf[64], ==, 0);
	g_assert_cmpint(buf[65], ==, 1);
	llbitmap_sb_decode(buf, &back);
	g_assert_cmpmem(&back, sizeof(back), &sb, sizeof(sb));
}

static void test_chunksize(void)
{
	uint64_t room = 256 * 512 - 1024;    /* bytes of map in 128 KiB */

	g_assert_cmpuint(llbitmap_chunksize(8, 256), ==, 128);
	g_assert_cmpuint(llbitmap_chunksize(128 * room, 256), ==, 128);
	g_assert_cmpuint(llbitmap_chunksize(128 * room + 1, 256), ==, 256);
	g_assert_cmpuint(llbitmap_chunksize(1024 * room, 256), ==, 1024);
	/* 16 TiB of sectors */
	g_assert_cmpuint(llbitmap_chunksize(1ull << 35, 256), ==, 1u << 19);
	/* a smaller area: 4 KiB, 3072 bytes of map */
	g_assert_cmpuint(llbitmap_chunksize(128 * 3072 + 1, 8), ==, 256);
}

/* ---- arrays with a bitmap area ---- */

#define AREA_SECTOR 16
#define DATA_OFFSET 2048

/* n members of sectors each, the v1.2 superblock at 8, the bitmap area
 * from 16 up to the data at 1 MiB. */
static struct mddev *ll_array(int level, int n, uint64_t sectors)
{
	uint64_t sizes[8];

	for (int i = 0; i < n; i++)
		sizes[i] = sectors;
	struct mddev *m = test_array(level, 2, level == 1 ? 0 : 128, n, sizes);
	random_uuid(m->sb.set_uuid);
	m->events = 5;
	/* what the superblocks written from here on carry */
	m->sb.feature_map |= MD_FEATURE_BITMAP_OFFSET;
	m->sb.bitmap_offset = AREA_SECTOR - 8;
	for (int i = 0; i < n; i++) {
		struct md_rdev *r = m->slots[i];
		r->data_offset = DATA_OFFSET;
		g_assert_cmpint(ftruncate(r->fd, (DATA_OFFSET + sectors) << 9), ==, 0);
		r->sb.major = 1;
		r->sb.minor = 2;
		r->sb.feature_map |= MD_FEATURE_BITMAP_OFFSET;
		r->sb.bitmap_offset = AREA_SECTOR - 8;
		r->sb.data_offset = DATA_OFFSET;
	}
	return m;
}

static void raw_read(struct mddev *m, int i, uint64_t pos, void *buf, size_t len)
{
	g_assert_cmpint(pread(m->slots[i]->fd, buf, len, AREA_SECTOR * 512 + pos), ==,
			(ssize_t)len);
}

static void raw_write(struct mddev *m, int i, uint64_t pos, const void *buf, size_t len)
{
	g_assert_cmpint(pwrite(m->slots[i]->fd, buf, len, AREA_SECTOR * 512 + pos), ==,
			(ssize_t)len);
}

static uint8_t disk_state(struct mddev *m, int i, uint64_t chunk)
{
	uint8_t c;

	raw_read(m, i, LLBITMAP_DATA_OFFSET + chunk, &c, 1);
	return c;
}

static struct llbitmap_sb disk_sb(struct mddev *m, int i)
{
	uint8_t raw[LLBITMAP_SB_BYTES];
	struct llbitmap_sb sb;

	raw_read(m, i, 0, raw, sizeof(raw));
	llbitmap_sb_decode(raw, &sb);
	return sb;
}

static void ll_load(struct mddev *m)
{
	char err[256] = "";

	g_assert_cmpint(llbitmap_ops.load(m, err, sizeof(err)), ==, 0);
	g_assert_cmpstr(err, ==, "");
	g_assert_nonnull(m->bitmap);
}

static struct mddev *ll_created(int level, int n, uint64_t sectors, bool clean)
{
	struct mddev *m = ll_array(level, n, sectors);
	char err[256] = "";

	atomic_store(&m->resync_offset, clean ? MD_MAX_SECTOR : 0);
	g_assert_cmpint(llbitmap_ops.create(m, err, sizeof(err)), ==, 0);
	g_assert_cmpstr(err, ==, "");
	ll_load(m);
	return m;
}

static void ll_free(struct mddev *m)
{
	llbitmap_ops.destroy(m);
	md_stop(m);
	md_free(m);
}

static uint64_t count_state(struct mddev *m, enum llbitmap_state s)
{
	uint64_t n = 0;

	for (uint64_t p = 0; llbitmap_chunk_state(m, p) != BitNone; p++)
		n += llbitmap_chunk_state(m, p) == s;
	return n;
}

/* 64 MiB members: 1024 chunks of 64 KiB */
#define SECTORS (128 * 1024)
#define CHUNKS 1024

static void test_create_layout(gconstpointer clean)
{
	struct mddev *m = ll_created(1, 3, SECTORS, clean != NULL);
	uint8_t sb0[LLBITMAP_SB_BYTES], map0[LLBITMAP_DATA_OFFSET + CHUNKS];
	uint8_t uuid[16];
	struct llbitmap_sb sb;

	raw_read(m, 0, 0, map0, sizeof(map0));
	memcpy(sb0, map0, sizeof(sb0));
	llbitmap_sb_decode(sb0, &sb);
	md_sb_uuid_kernel(&m->sb, uuid);
	g_assert_cmphex(sb.magic, ==, 0x6d746962);
	g_assert_cmpuint(sb.version, ==, BITMAP_MAJOR_LOCKLESS);
	g_assert_cmpmem(sb.uuid, 16, uuid, 16);
	g_assert_cmpuint(sb.events, ==, 5);
	g_assert_cmpuint(sb.sync_size, ==, SECTORS);
	g_assert_cmphex(sb.state, ==, LLBITMAP_FIRST_USE | (clean ? LLBITMAP_CLEAN : 0));
	g_assert_cmpuint(sb.chunksize, ==, 128);
	g_assert_cmpuint(sb.daemon_sleep, ==, 30);
	g_assert_cmpuint(sb.sectors_reserved, ==, LLBITMAP_RESERVED_SECTORS);
	for (int p = 0; p < CHUNKS; p++)
		g_assert_cmpint(map0[LLBITMAP_DATA_OFFSET + p], ==, clean ? BitClean : BitUnwritten);
	for (int i = 1; i < 3; i++) {
		uint8_t map[sizeof(map0)];
		raw_read(m, i, 0, map, sizeof(map));
		g_assert_cmpmem(map, sizeof(map), map0, sizeof(map0));
	}
	g_assert_cmpuint(count_state(m, clean ? BitClean : BitUnwritten), ==, CHUNKS);

	GString *s = g_string_new("");
	llbitmap_ops.status(m, s);
	g_assert_cmpstr(s->str, ==, "bitmap: 1/1 pages [4KB], 64KB chunk\n");
	g_string_truncate(s, 0);
	llbitmap_metadata_show(m, s);
	g_assert_cmpstr(s->str, ==, "chunksize 128\nchunkshift 7\nchunks 1024\noffset 8\n"
			"daemon_sleep 30\n");
	g_string_free(s, true);
	ll_free(m);
}

/* Bad input is refused with one line, nothing loaded or written. */
static void expect_refused(struct mddev *m, size_t pos, const void *bad, size_t len,
			   const char *reason)
{
	uint8_t saved[64], after[64];
	char err[256] = "";

	raw_read(m, 0, pos, saved, len);
	raw_write(m, 0, pos, bad, len);
	g_assert_cmpint(llbitmap_ops.load(m, err, sizeof(err)), ==, -EINVAL);
	g_assert_nonnull(strstr(err, reason));
	g_assert_null(strchr(err, '\n'));
	g_assert_null(m->bitmap);
	raw_read(m, 0, pos, after, len);
	g_assert_cmpmem(after, len, bad, len);
	raw_write(m, 0, pos, saved, len);
}

static void test_load_refuses(void)
{
	struct mddev *m = ll_array(1, 2, SECTORS);
	char err[256];
	uint32_t v;

	atomic_store(&m->resync_offset, 0);
	g_assert_cmpint(llbitmap_ops.create(m, err, sizeof(err)), ==, 0);
	v = GUINT32_TO_LE(0x12345678);
	expect_refused(m, 0, &v, 4, "magic");
	v = GUINT32_TO_LE(4);
	expect_refused(m, 4, &v, 4, "version");
	expect_refused(m, 8, "0123456789abcdef", 16, "uuid");
	/* past the first use, chunksize and daemon_sleep count */
	v = GUINT32_TO_LE(0);
	raw_write(m, 0, 48, &v, 4);
	v = GUINT32_TO_LE(96);
	expect_refused(m, 52, &v, 4, "chunksize 96");
	v = GUINT32_TO_LE(1);         /* 131072 chunks, 127 KiB of room */
	expect_refused(m, 52, &v, 4, "too small");
	v = GUINT32_TO_LE(0);
	expect_refused(m, 56, &v, 4, "daemon_sleep");
	/* no bitmap area: nothing read from where the superblock is */
	m->slots[0]->sb.bitmap_offset = 0;
	g_assert_cmpint(llbitmap_ops.load(m, err, sizeof(err)), ==, -EINVAL);
	g_assert_nonnull(strstr(err, "bitmap_offset 0"));
	g_assert_null(m->bitmap);
	m->slots[0]->sb.bitmap_offset = AREA_SECTOR - 8;
	ll_load(m);
	ll_free(m);
}

static void test_no_room(void)
{
	struct mddev *m = ll_array(1, 2, SECTORS);
	char err[256] = "";

	m->slots[1]->sb.bitmap_offset = 0;
	g_assert_cmpint(llbitmap_ops.create(m, err, sizeof(err)), ==, -ENOSPC);
	g_assert_nonnull(strstr(err, "no room"));
	ll_free(m);
}

/* ---- the write path ---- */

/* Counts the writes into each member's bitmap area. */
struct counter {
	struct member_io io;
	atomic_uint writes;
	atomic_bool fail;       /* writes into the bitmap area fail */
};

static ssize_t count_pread(struct member_io *io, struct md_rdev *r, void *buf, size_t len,
			   uint64_t pos)
{
	return member_pread(io->lower, r, buf, len, pos);
}

static ssize_t count_pwrite(struct member_io *io, struct md_rdev *r, const void *buf,
			    size_t len, uint64_t pos)
{
	if (pos < DATA_OFFSET * 512) {
		atomic_fetch_add(&((struct counter *)io)->writes, 1);
		if (atomic_load(&((struct counter *)io)->fail))
			return -EIO;
	}
	return member_pwrite(io->lower, r, buf, len, pos);
}

static int count_fdatasync(struct member_io *io, struct md_rdev *r)
{
	return member_fdatasync(io->lower, r);
}

static int count_punch(struct member_io *io, struct md_rdev *r, uint64_t pos, uint64_t len)
{
	return member_punch(io->lower, r, pos, len);
}

static void count_free(struct member_io *io)
{
	g_free(io);
}

static const struct member_io_ops count_ops = {
	count_pread, count_pwrite, count_fdatasync, count_punch, count_free,
};

static struct counter *counted(struct mddev *m, int i)
{
	struct counter *c = g_new0(struct counter, 1);

	c->io.ops = &count_ops;
	rdev_push_io(m->slots[i], &c->io);
	return c;
}

static void write_chunk(struct mddev *m, uint64_t chunk, const char *fill)
{
	char buf[4096];

	memset(buf, fill[0], sizeof(buf));
	llbitmap_ops.start_write(m, chunk * 128, 8);
	llbitmap_ops.unplug(m, true);
	g_assert_cmpint(md_write(m, chunk * 65536, sizeof(buf), buf), ==, sizeof(buf));
	llbitmap_ops.end_write(m, chunk * 128, 8);
}

static void test_write_path(void)
{
	struct mddev *m = ll_created(1, 2, SECTORS, false);
	struct counter *c[2] = { counted(m, 0), counted(m, 1) };

	/* the first write: the byte on every member before unplug returns */
	llbitmap_ops.start_write(m, 600 * 128 + 8, 16);
	g_assert_cmpint(llbitmap_chunk_state(m, 600), ==, BitDirty);
	g_assert_cmpint(disk_state(m, 0, 600), ==, BitUnwritten);
	llbitmap_ops.unplug(m, true);
	/* the chunk's block, and the superblock's two out of FIRST_USE (as
	 * one write) */
	for (int i = 0; i < 2; i++) {
		g_assert_cmpuint(disk_sb(m, i).state, ==, 0);
		g_assert_cmpint(disk_state(m, i, 600), ==, BitDirty);
		g_assert_cmpuint(atomic_load(&c[i]->writes), ==, 2);
	}
	llbitmap_ops.end_write(m, 600 * 128 + 8, 16);
	/* the second: no bitmap IO */
	write_chunk(m, 600, "b");
	for (int i = 0; i < 2; i++)
		g_assert_cmpuint(atomic_load(&c[i]->writes), ==, 2);
	g_assert_cmpuint(count_state(m, BitDirty), ==, 1);
	g_assert_cmpuint(llbitmap_sync_wanted(m), ==, 0);

	/* a second chunk of the same block before the daemon: the block
	 * is infected, all its chunks (1024 + 600 is in block 3, chunks
	 * 512..1023) Dirty, and a third write there costs nothing */
	write_chunk(m, 700, "c");
	g_assert_cmpuint(count_state(m, BitDirty), ==, 512);
	g_assert_cmpint(llbitmap_chunk_state(m, 511), ==, BitUnwritten);
	for (int p = 512; p < 1024; p++)
		g_assert_cmpint(disk_state(m, 1, p), ==, BitDirty);
	unsigned before = atomic_load(&c[0]->writes);
	write_chunk(m, 900, "d");
	g_assert_cmpuint(atomic_load(&c[0]->writes), ==, before);

	/* another block: written on its own */
	write_chunk(m, 3, "e");
	g_assert_cmpint(llbitmap_chunk_state(m, 3), ==, BitDirty);
	g_assert_cmpint(llbitmap_chunk_state(m, 4), ==, BitUnwritten);
	g_assert_cmpuint(atomic_load(&c[1]->writes), ==, before + 1);
	ll_free(m);
}

/* 4 KiB logical blocks: the superblock shares block 0 with the first
 * 3072 chunks; infecting that block leaves the superblock alone (md's
 * loop over the block would turn its zero bytes Dirty). */
static void test_4k_blocks(void)
{
	struct mddev *m = ll_array(1, 2, SECTORS);
	char err[256];

	m->logical_block_size = 4096;
	atomic_store(&m->resync_offset, 0);
	g_assert_cmpint(llbitmap_ops.create(m, err, sizeof(err)), ==, 0);
	ll_load(m);
	struct counter *c = counted(m, 1);
	write_chunk(m, 600, "a");
	g_assert_cmpuint(atomic_load(&c->writes), ==, 1);
	write_chunk(m, 700, "b");
	g_assert_cmpuint(atomic_load(&c->writes), ==, 2);
	g_assert_cmpuint(count_state(m, BitDirty), ==, CHUNKS);
	for (int i = 0; i < 2; i++) {
		uint8_t raw[LLBITMAP_DATA_OFFSET];
		struct llbitmap_sb sb = disk_sb(m, i);
		g_assert_cmphex(sb.magic, ==, 0x6d746962);
		g_assert_cmpuint(sb.chunksize, ==, 128);
		raw_read(m, i, 0, raw, sizeof(raw));
		for (size_t k = 72; k < sizeof(raw); k++)
			g_assert_cmpint(raw[k], ==, 0);
		g_assert_cmpint(disk_state(m, i, 0), ==, BitDirty);
	}
	llbitmap_ops.destroy(m);
	ll_load(m);
	g_assert_cmpuint(count_state(m, BitNeedSync), ==, CHUNKS);
	ll_free(m);
}

static void test_daemon(void)
{
	struct mddev *m = ll_created(1, 2, SECTORS, false);

	g_assert_cmpint(llbitmap_barrier_idle_store(m, "0\n"), ==, 0);
	g_assert_cmpint(llbitmap_daemon_sleep_store(m, "1"), ==, 0);
	write_chunk(m, 10, "a");
	/* a write in flight holds the daemon off its page */
	llbitmap_ops.start_write(m, 10 * 128, 8);
	llbitmap_ops.daemon_work(m);
	g_assert_cmpint(llbitmap_chunk_state(m, 10), ==, BitDirty);
	llbitmap_ops.end_write(m, 10 * 128, 8);
	/* degraded: never cleared */
	atomic_store(&m->degraded, 1);
	llbitmap_ops.daemon_work(m);
	g_assert_cmpint(llbitmap_chunk_state(m, 10), ==, BitDirty);
	atomic_store(&m->degraded, 0);
	llbitmap_ops.daemon_work(m);
	g_assert_cmpint(llbitmap_chunk_state(m, 10), ==, BitClean);
	/* and on the members at once: a crash now resyncs nothing */
	for (int i = 0; i < 2; i++)
		g_assert_cmpint(disk_state(m, i, 10), ==, BitClean);
	llbitmap_ops.destroy(m);
	ll_load(m);
	g_assert_cmpuint(count_state(m, BitNeedSync), ==, 0);
	g_assert_cmpuint(llbitmap_sync_wanted(m), ==, 0);
	g_assert_cmpint(llbitmap_barrier_idle_store(m, "0"), ==, 0);
	g_assert_cmpint(llbitmap_daemon_sleep_store(m, "1"), ==, 0);
	/* idle not yet past barrier_idle: kept */
	g_assert_cmpint(llbitmap_barrier_idle_store(m, "3600"), ==, 0);
	write_chunk(m, 10, "b");
	llbitmap_ops.daemon_work(m);
	g_assert_cmpint(llbitmap_chunk_state(m, 10), ==, BitDirty);
	/* the flush cleans whatever the expiry, and writes it all */
	llbitmap_ops.flush(m);
	g_assert_cmpint(llbitmap_chunk_state(m, 10), ==, BitClean);
	for (int i = 0; i < 2; i++)
		g_assert_cmpint(disk_state(m, i, 10), ==, BitClean);
	ll_free(m);
}

/* A crash with a chunk Dirty: the load makes it NeedSync and wants a
 * resync; one whose events lag the array's makes everything written
 * NeedSync (Stale). */
static void test_reload(void)
{
	struct mddev *m = ll_created(1, 2, SECTORS, false);

	write_chunk(m, 5, "a");
	llbitmap_ops.destroy(m);
	ll_load(m);
	g_assert_cmpint(llbitmap_chunk_state(m, 5), ==, BitNeedSync);
	g_assert_cmpuint(count_state(m, BitUnwritten), ==, CHUNKS - 1);
	g_assert_cmpuint(llbitmap_sync_wanted(m), ==, LLBITMAP_WANT_RESYNC);

	/* update_sb: the events follow, every member gets the whole map */
	m->events = 9;
	for (int i = 0; i < 2; i++)
		g_assert_cmpint(llbitmap_ops.update_sb(m, m->slots[i]), ==, 0);
	for (int i = 0; i < 2; i++) {
		struct llbitmap_sb sb = disk_sb(m, i);
		g_assert_cmpuint(sb.events, ==, 9);
		g_assert_cmphex(sb.state, ==, 0);
		g_assert_cmpint(disk_state(m, i, 5), ==, BitNeedSync);
	}
	/* a sync of it: NeedSync -> Syncing -> Dirty */
	uint64_t blocks;
	g_assert_true(llbitmap_ops.start_sync(m, 5 * 128 + 4, &blocks, false));
	g_assert_cmpuint(blocks, ==, 124);
	g_assert_cmpint(llbitmap_chunk_state(m, 5), ==, BitSyncing);
	llbitmap_ops.close_sync(m);
	g_assert_cmpint(llbitmap_chunk_state(m, 5), ==, BitDirty);

	/* the second change to block 2 before it was written infected it:
	 * the flush cleans all its chunks */
	llbitmap_ops.flush(m);
	g_assert_cmpuint(count_state(m, BitClean), ==, 512);
	g_assert_cmpuint(count_state(m, BitUnwritten), ==, 512);
	/* stale: the array went on without this bitmap */
	llbitmap_ops.destroy(m);
	m->events = 12;
	ll_load(m);
	g_assert_cmpuint(count_state(m, BitNeedSync), ==, 512);
	g_assert_cmpint(llbitmap_chunk_state(m, 5), ==, BitNeedSync);
	g_assert_cmpint(llbitmap_chunk_state(m, 600), ==, BitUnwritten);
	g_assert_cmpuint(llbitmap_sync_wanted(m), ==, LLBITMAP_WANT_RESYNC);
	ll_free(m);
}

static void test_sync_skip(void)
{
	struct mddev *m = ll_created(1, 2, SECTORS, true);
	uint64_t blocks;

	write_chunk(m, 1, "a");
	llbitmap_ops.dirty_bits(m, 600, 600);     /* another block: no infection */
	g_assert_cmpint(llbitmap_chunk_state(m, 600), ==, BitDirty);
	g_assert_cmpuint(count_state(m, BitDirty), ==, 2);
	/* a resync skips Clean and Dirty; check, repair and recovery only
	 * what was never written */
	atomic_store(&m->sync_action, ACTION_RESYNC);
	g_assert_cmpuint(llbitmap_ops.skip_sync_blocks(m, 0), ==, 128);
	g_assert_cmpuint(llbitmap_ops.skip_sync_blocks(m, 128 + 100), ==, 28);
	atomic_store(&m->sync_action, ACTION_CHECK);
	g_assert_cmpuint(llbitmap_ops.skip_sync_blocks(m, 0), ==, 0);
	g_assert_cmpuint(llbitmap_ops.skip_sync_blocks(m, 128), ==, 0);
	llbitmap_ops.start_discard(m, 64, 3 * 128);       /* chunks 1 and 2 whole */
	llbitmap_ops.end_discard(m, 64, 3 * 128);
	g_assert_cmpint(llbitmap_chunk_state(m, 0), ==, BitClean);
	g_assert_cmpint(llbitmap_chunk_state(m, 1), ==, BitUnwritten);
	g_assert_cmpint(llbitmap_chunk_state(m, 2), ==, BitUnwritten);
	g_assert_cmpint(llbitmap_chunk_state(m, 3), ==, BitClean);
	g_assert_cmpuint(llbitmap_ops.skip_sync_blocks(m, 128), ==, 128);
	atomic_store(&m->sync_action, ACTION_RECOVER);
	g_assert_cmpuint(llbitmap_ops.skip_sync_blocks(m, 2 * 128), ==, 128);
	g_assert_cmpuint(llbitmap_ops.skip_sync_blocks(m, 3 * 128), ==, 0);
	/* Clean needs no sync */
	g_assert_false(llbitmap_ops.start_sync(m, 0, &blocks, false));
	g_assert_cmpuint(blocks, ==, 128);
	llbitmap_ops.start_discard(m, 0, SECTORS);
	g_assert_cmpuint(count_state(m, BitUnwritten), ==, CHUNKS);
	llbitmap_ops.end_discard(m, 0, SECTORS);
	ll_free(m);
}

/* raid5: no initial build; a first write makes its chunk NeedSync for
 * the lazy recovery, parity untrusted until then. */
static void test_raid5_lazy(void)
{
	struct mddev *m = ll_created(5, 3, SECTORS, false);
	uint64_t blocks;

	g_assert_false(llbitmap_ops.blocks_synced(m, 0));
	llbitmap_ops.start_write(m, 7 * 128, 8);
	llbitmap_ops.unplug(m, true);
	llbitmap_ops.end_write(m, 7 * 128, 8);
	g_assert_cmpint(llbitmap_chunk_state(m, 7), ==, BitNeedSync);
	g_assert_cmpint(disk_state(m, 2, 7), ==, BitNeedSync);
	g_assert_cmpuint(llbitmap_sync_wanted(m), ==, LLBITMAP_WANT_LAZY_RECOVER);
	g_assert_false(llbitmap_ops.blocks_synced(m, 7 * 128));
	atomic_store(&m->sync_action, ACTION_RECOVER);
	g_assert_cmpuint(llbitmap_ops.skip_sync_blocks(m, 6 * 128), ==, 128);
	g_assert_cmpuint(llbitmap_ops.skip_sync_blocks(m, 7 * 128), ==, 0);
	g_assert_true(llbitmap_ops.start_sync(m, 7 * 128, &blocks, false));
	/* the sync fails there: NeedSync again, to be done later */
	llbitmap_ops.end_sync(m, 7 * 128, &blocks);
	g_assert_cmpint(llbitmap_chunk_state(m, 7), ==, BitNeedSync);
	g_assert_true(llbitmap_ops.start_sync(m, 7 * 128, &blocks, false));
	llbitmap_ops.cond_end_sync(m, 0, false);
	llbitmap_ops.cond_end_sync(m, 8 * 128, true);
	g_assert_cmpint(llbitmap_chunk_state(m, 7), ==, BitDirty);
	g_assert_cmpint(disk_state(m, 0, 7), ==, BitDirty);
	g_assert_true(llbitmap_ops.blocks_synced(m, 7 * 128));
	ll_free(m);
}

/* Degraded: writes are NeedSync, which the daemon leaves, and no resync
 * is wanted; a recovery onto the member coming back (the array degraded
 * until it ends) copies them and what was Dirty when it left (md's
 * llbitmap as merged), not what was Clean. */
static void test_degraded(void)
{
	struct mddev *m = ll_created(1, 2, SECTORS, true);
	uint64_t blocks;

	g_assert_cmpint(llbitmap_barrier_idle_store(m, "0"), ==, 0);
	write_chunk(m, 3, "a");
	atomic_store(&m->degraded, 1);
	write_chunk(m, 600, "b");
	g_assert_cmpint(llbitmap_chunk_state(m, 600), ==, BitNeedSync);
	g_assert_cmpint(disk_state(m, 0, 600), ==, BitNeedSync);
	g_assert_cmpuint(llbitmap_sync_wanted(m), ==, 0);
	llbitmap_ops.daemon_work(m);
	g_assert_cmpint(llbitmap_chunk_state(m, 3), ==, BitDirty);
	g_assert_cmpint(llbitmap_chunk_state(m, 600), ==, BitNeedSync);
	atomic_store(&m->sync_action, ACTION_RECOVER);
	g_assert_cmpuint(llbitmap_ops.skip_sync_blocks(m, 600 * 128), ==, 0);
	g_assert_false(llbitmap_ops.start_sync(m, 4 * 128, &blocks, false));
	g_assert_true(llbitmap_ops.start_sync(m, 3 * 128, &blocks, false));
	g_assert_true(llbitmap_ops.start_sync(m, 600 * 128, &blocks, false));
	llbitmap_ops.close_sync(m);
	atomic_store(&m->degraded, 0);
	llbitmap_ops.daemon_work(m);
	g_assert_cmpuint(count_state(m, BitClean), ==, CHUNKS);
	ll_free(m);
}

/* A member that missed bitmap writes (failed meanwhile) gets the whole
 * map with its next superblock write; one that did not, the superblock. */
static void test_update_sb_whole_map(void)
{
	struct mddev *m = ll_created(1, 2, SECTORS, false);

	for (int i = 0; i < 2; i++)
		g_assert_cmpint(llbitmap_ops.update_sb(m, m->slots[i]), ==, 0);
	atomic_fetch_or(&m->slots[1]->flags, RDEV_FAULTY);
	write_chunk(m, 600, "a");
	g_assert_cmpint(disk_state(m, 0, 600), ==, BitDirty);
	g_assert_cmpint(disk_state(m, 1, 600), ==, BitUnwritten);
	g_assert_cmpint(llbitmap_ops.update_sb(m, m->slots[0]), ==, 0);
	atomic_fetch_and(&m->slots[1]->flags, ~RDEV_FAULTY);
	struct counter *c = counted(m, 0);
	g_assert_cmpint(llbitmap_ops.update_sb(m, m->slots[0]), ==, 0);
	g_assert_cmpint(llbitmap_ops.update_sb(m, m->slots[1]), ==, 0);
	g_assert_cmpint(disk_state(m, 1, 600), ==, BitDirty);
	g_assert_cmpuint(atomic_load(&c->writes), ==, 1);
	uint8_t a[LLBITMAP_DATA_OFFSET + CHUNKS], b[sizeof(a)];
	raw_read(m, 0, 0, a, sizeof(a));
	raw_read(m, 1, 0, b, sizeof(b));
	g_assert_cmpmem(a, sizeof(a), b, sizeof(b));
	ll_free(m);
}

/* A member that cannot take a bitmap write fails; the others have it
 * before unplug returns. */
static void test_write_error(void)
{
	struct mddev *m = ll_created(1, 2, SECTORS, false);
	struct counter *c = counted(m, 1);

	atomic_store(&c->fail, true);
	llbitmap_ops.start_write(m, 42 * 128, 8);
	g_log_set_always_fatal(G_LOG_FATAL_MASK);   /* md_error warns */
	llbitmap_ops.unplug(m, true);
	g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_WARNING |
			       G_LOG_LEVEL_CRITICAL);
	g_assert_cmpint(disk_state(m, 0, 42), ==, BitDirty);
	g_assert_true(atomic_load(&m->slots[1]->flags) & RDEV_FAULTY);
	llbitmap_ops.end_write(m, 42 * 128, 8);
	/* the next writes go to the working member only */
	unsigned before = atomic_load(&c->writes);
	write_chunk(m, 900, "a");
	g_assert_cmpuint(atomic_load(&c->writes), ==, before);
	g_assert_cmpint(llbitmap_chunk_state(m, 900), ==, BitNeedSync);
	g_assert_cmpint(disk_state(m, 0, 900), ==, BitNeedSync);
	ll_free(m);
}

/* A member whose superblock has no bitmap area (bitmap_offset 0) gets no
 * bitmap write: at offset 0 from its superblock it would land on it. */
static void test_no_area_no_write(void)
{
	struct mddev *m = ll_created(1, 2, SECTORS, false);
	struct md_rdev *r = m->slots[1];
	uint8_t got[8 * 512], zero[sizeof(got)] = { 0 };

	r->sb.bitmap_offset = 0;
	write_chunk(m, 600, "a");
	g_assert_cmpint(disk_state(m, 0, 600), ==, BitDirty);
	g_assert_cmpint(pread(r->fd, got, sizeof(got), 8 * 512), ==, sizeof(got));
	g_assert_cmpmem(got, sizeof(got), zero, sizeof(zero));
	g_assert_cmpint(llbitmap_ops.update_sb(m, r), ==, -ENOSPC);
	ll_free(m);
}

static void test_control_files(void)
{
	struct mddev *m = ll_created(1, 2, SECTORS, false);
	GString *s = g_string_new("");

	write_chunk(m, 0, "a");
	llbitmap_bits_show(m, s);
	g_assert_cmpstr(s->str, ==, "unwritten 1023\nclean 0\ndirty 1\nneed sync 0\n"
			"syncing 0\n");
	const char *bad[] = { "", "x", "-1", "1.5", "1 2", "99999999999", "0x10" };
	for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_assert_cmpint(llbitmap_daemon_sleep_store(m, bad[i]), ==, -EINVAL);
		g_assert_cmpint(llbitmap_barrier_idle_store(m, bad[i]), ==, -EINVAL);
	}
	g_assert_cmpint(llbitmap_daemon_sleep_store(m, "0"), ==, -EINVAL);
	g_assert_cmpint(llbitmap_daemon_sleep_store(m, "7\n"), ==, 0);
	g_assert_cmpint(llbitmap_barrier_idle_store(m, "0"), ==, 0);
	g_string_truncate(s, 0);
	llbitmap_daemon_sleep_show(m, s);
	llbitmap_barrier_idle_show(m, s);
	g_assert_cmpstr(s->str, ==, "7\n0\n");
	g_assert_cmpuint(llbitmap_daemon_sleep(m), ==, 7);
	/* daemon_sleep is kept in the superblock */
	g_assert_cmpint(llbitmap_ops.update_sb(m, m->slots[0]), ==, 0);
	llbitmap_ops.destroy(m);
	ll_load(m);
	g_assert_cmpuint(llbitmap_daemon_sleep(m), ==, 7);
	/* md prints the offset unsigned: a bitmap before the superblock */
	m->slots[0]->sb.bitmap_offset = -16;
	g_string_truncate(s, 0);
	llbitmap_metadata_show(m, s);
	g_assert_nonnull(strstr(s->str, "\noffset 18446744073709551600\n"));
	/* no bitmap */
	llbitmap_ops.destroy(m);
	g_string_truncate(s, 0);
	llbitmap_bits_show(m, s);
	llbitmap_metadata_show(m, s);
	llbitmap_daemon_sleep_show(m, s);
	llbitmap_barrier_idle_show(m, s);
	g_assert_cmpstr(s->str, ==, "no bitmap\nno bitmap\nno bitmap\nno bitmap\n");
	g_assert_cmpint(llbitmap_daemon_sleep_store(m, "5"), ==, -ENODEV);
	g_assert_cmpint(llbitmap_barrier_idle_store(m, "5"), ==, -ENODEV);
	g_string_free(s, true);
	ll_free(m);
}

/* Writers and the daemon at once: while a write is in flight its chunk's
 * byte says Dirty on every member (durable before the data, and no
 * daemon cleaning it under the write); at the end the members hold the
 * map in memory. */
#define WRITERS 4
#define ROUNDS 100

struct stress {
	struct mddev *m;
	atomic_bool stop;
	unsigned seed;
};

static gpointer stress_writer(gpointer data)
{
	struct stress *st = data;
	GRand *rand = g_rand_new_with_seed(st->seed);

	for (int i = 0; i < ROUNDS; i++) {
		uint64_t chunk = (uint64_t)g_rand_int_range(rand, 0, CHUNKS);
		llbitmap_ops.start_write(st->m, chunk * 128 + 16, 64);
		llbitmap_ops.unplug(st->m, true);
		for (int d = 0; d < 2; d++)
			g_assert_cmpint(disk_state(st->m, d, chunk), ==, BitDirty);
		llbitmap_ops.end_write(st->m, chunk * 128 + 16, 64);
	}
	g_rand_free(rand);
	return NULL;
}

static gpointer stress_daemon(gpointer data)
{
	struct stress *st = data;

	while (!atomic_load(&st->stop))
		llbitmap_ops.daemon_work(st->m);
	return NULL;
}

static void test_stress(void)
{
	struct mddev *m = ll_created(1, 2, SECTORS, false);
	struct stress st[WRITERS];
	GThread *w[WRITERS];

	g_assert_cmpint(llbitmap_barrier_idle_store(m, "0"), ==, 0);
	struct stress daemon = { .m = m };
	GThread *d = g_thread_new("daemon", stress_daemon, &daemon);
	for (int i = 0; i < WRITERS; i++) {
		st[i] = (struct stress){ .m = m, .seed = (unsigned)i + 1 };
		w[i] = g_thread_new("writer", stress_writer, &st[i]);
	}
	for (int i = 0; i < WRITERS; i++)
		g_thread_join(w[i]);
	atomic_store(&daemon.stop, true);
	g_thread_join(d);
	llbitmap_ops.flush(m);
	g_assert_cmpuint(count_state(m, BitClean) + count_state(m, BitUnwritten), ==, CHUNKS);
	g_assert_cmpuint(count_state(m, BitClean), >, 0);
	for (int i = 0; i < 2; i++)
		for (uint64_t p = 0; p < CHUNKS; p++)
			g_assert_cmpint(disk_state(m, i, p), ==, llbitmap_chunk_state(m, p));
	ll_free(m);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/llbitmap/state-table", test_state_table);
	g_test_add_func("/llbitmap/sb-encode", test_sb_encode);
	g_test_add_func("/llbitmap/chunksize", test_chunksize);
	g_test_add_data_func("/llbitmap/create/unwritten", NULL, test_create_layout);
	g_test_add_data_func("/llbitmap/create/clean", "", test_create_layout);
	g_test_add_func("/llbitmap/load/refuses", test_load_refuses);
	g_test_add_func("/llbitmap/create/no-room", test_no_room);
	g_test_add_func("/llbitmap/write-path", test_write_path);
	g_test_add_func("/llbitmap/4k-blocks", test_4k_blocks);
	g_test_add_func("/llbitmap/daemon", test_daemon);
	g_test_add_func("/llbitmap/reload-stale", test_reload);
	g_test_add_func("/llbitmap/sync-skip", test_sync_skip);
	g_test_add_func("/llbitmap/raid5-lazy", test_raid5_lazy);
	g_test_add_func("/llbitmap/degraded", test_degraded);
	g_test_add_func("/llbitmap/no-area-no-write", test_no_area_no_write);
	g_test_add_func("/llbitmap/write-error", test_write_error);
	g_test_add_func("/llbitmap/update-sb-whole-map", test_update_sb_whole_map);
	g_test_add_func("/llbitmap/control-files", test_control_files);
	g_test_add_func("/llbitmap/stress", test_stress);
	return g_test_run();
}
