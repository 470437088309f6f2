/* The classic bitmap's counters (md-bitmap.c's bitmap_counter_t logic)
 * through its ops table, on unit-test arrays: bits set and durable on every
 * member before a write, kept while it runs, cleared on the daemon's second
 * idle pass (and written with its third), NEEDED while degraded and for a resync, RESYNC while synced;
 * and raid5's bitmap_sector. */
#include <string.h>
#include <unistd.h>
#include "testlib.h"

#define SECTORS 2048
#define CHUNK 4096                 /* bytes: 8 sectors a bit, 256 bits */
#define BITS_AT ((8 + 8) * 512 + 256)

/* A raid1 of two members whose bitmaps say `set` for every chunk (as
 * create leaves them), loaded with the array's resync at resync_offset. */
static struct mddev *bitmap_array(uint64_t resync_offset, bool set)
{
	uint64_t sectors[] = { SECTORS, SECTORS };
	struct mddev *m = test_array(1, 0, 0, 2, sectors);
	size_t len;
	char err[256];

	m->sb.feature_map |= MD_FEATURE_BITMAP_OFFSET;
	for (int i = 0; i < 2; i++) {
		struct md_rdev *r = m->slots[i];
		r->sb.feature_map |= MD_FEATURE_BITMAP_OFFSET;
		r->sb.bitmap_offset = 8;
		uint8_t *img = md_bitmap_new(&m->sb, SECTORS, CHUNK, false, &len);
		if (!set)
			memset(img + 256, 0, len - 256);
		/* the area ends at the data (24 sectors): 4K holds it */
		g_assert_cmpint(pwrite(r->fd, img, 4096, 16 * 512), ==, 4096);
		g_free(img);
	}
	m->resync_offset = resync_offset;
	m->bitmap_ops = &bitmap_ops;
	g_assert_cmpint(bitmap_ops.load(m, err, sizeof(err)), ==, 0);
	atomic_store(&m->bitmap_daemon_sleep_ms, 1);
	return m;
}

static void free_array(struct mddev *m)
{
	md_stop(m);
	md_free(m);
}

/* Is chunk's bit set on member i's disk? */
static bool disk_bit(struct mddev *m, int i, unsigned chunk)
{
	uint8_t byte;
	g_assert_cmpint(pread(m->slots[i]->fd, &byte, 1, BITS_AT + chunk / 8), ==, 1);
	return byte >> (chunk % 8) & 1;
}

static unsigned disk_bits(struct mddev *m, int i)
{
	unsigned n = 0;
	for (unsigned c = 0; c < SECTORS * 512 / CHUNK; c++)
		n += disk_bit(m, i, c);
	return n;
}

/* One daemon pass (daemon_sleep is 1 ms). */
static void daemon_pass(struct mddev *m)
{
	g_usleep(2000);
	m->bitmap_ops->daemon_work(m);
}

static void test_idle_bits_clear(void)
{
	struct mddev *m = bitmap_array(MD_MAX_SECTOR, true);
	uint64_t blocks;

	/* a clean array: set bits need no sync */
	g_assert_false(bitmap_ops.start_sync(m, 0, &blocks, false));
	g_assert_cmpuint(blocks, ==, CHUNK / 512);
	g_assert_cmpuint(disk_bits(m, 0), ==, 256);
	daemon_pass(m);                   /* 2 -> 1 */
	g_assert_cmpuint(disk_bits(m, 0), ==, 256);
	daemon_pass(m);                   /* 1 -> 0, cleared in memory */
	g_assert_cmpuint(disk_bits(m, 0), ==, 256);
	daemon_pass(m);                   /* the cleared page written */
	g_assert_cmpuint(disk_bits(m, 0), ==, 0);
	g_assert_cmpuint(disk_bits(m, 1), ==, 0);
	free_array(m);
}

static void test_write_sets_bit(void)
{
	struct mddev *m = bitmap_array(MD_MAX_SECTOR, false);

	/* sectors 20..27 touch chunks 2 and 3 */
	md_bitmap_start_write(m, 20, 8);
	for (int i = 0; i < 2; i++) {
		g_assert_true(disk_bit(m, i, 2));
		g_assert_true(disk_bit(m, i, 3));
		g_assert_cmpuint(disk_bits(m, i), ==, 2);
	}
	/* in flight: no pass clears it */
	for (int k = 0; k < 4; k++)
		daemon_pass(m);
	g_assert_true(disk_bit(m, 0, 2));
	md_bitmap_start_write(m, 16, 1);  /* a second writer of chunk 2 */
	md_bitmap_end_write(m, 20, 8);
	for (int k = 0; k < 4; k++)
		daemon_pass(m);
	g_assert_true(disk_bit(m, 0, 2));
	g_assert_false(disk_bit(m, 0, 3));
	md_bitmap_end_write(m, 16, 1);
	daemon_pass(m);
	daemon_pass(m);
	g_assert_true(disk_bit(m, 1, 2));  /* two idle passes, then written */
	daemon_pass(m);
	g_assert_false(disk_bit(m, 1, 2));
	free_array(m);
}

static void test_degraded_needed(void)
{
	struct mddev *m = bitmap_array(MD_MAX_SECTOR, false);
	uint64_t blocks;

	atomic_store(&m->degraded, 1);
	md_bitmap_start_write(m, 5 * 8, 8);
	md_bitmap_end_write(m, 5 * 8, 8);
	for (int k = 0; k < 4; k++)
		daemon_pass(m);
	g_assert_true(disk_bit(m, 0, 5));   /* kept for the missing member */
	/* still degraded: the sync does it, the bit stays NEEDED */
	g_assert_true(bitmap_ops.start_sync(m, 5 * 8, &blocks, true));
	g_assert_true(bitmap_ops.start_sync(m, 5 * 8, &blocks, true));
	g_assert_false(bitmap_ops.start_sync(m, 6 * 8, &blocks, false));
	atomic_store(&m->degraded, 0);
	/* whole again: NEEDED becomes RESYNC, asked again it still says sync */
	g_assert_true(bitmap_ops.start_sync(m, 5 * 8 + 3, &blocks, false));
	g_assert_cmpuint(blocks, ==, 5);
	g_assert_true(bitmap_ops.start_sync(m, 5 * 8, &blocks, false));
	bitmap_ops.close_sync(m);
	g_assert_false(bitmap_ops.start_sync(m, 5 * 8, &blocks, false));
	for (int k = 0; k < 3; k++)
		daemon_pass(m);
	g_assert_false(disk_bit(m, 0, 5));
	free_array(m);
}

/* md_bitmap_load: bits on disk are NEEDED from the resync's offset on. */
static void test_load_needed_from_resync(void)
{
	struct mddev *m = bitmap_array(7 * 8, true);
	uint64_t blocks;

	/* md's test: the chunk's end reaching the offset counts */
	g_assert_false(bitmap_ops.start_sync(m, 5 * 8, &blocks, false));
	g_assert_true(bitmap_ops.start_sync(m, 6 * 8, &blocks, false));
	g_assert_true(bitmap_ops.start_sync(m, 7 * 8, &blocks, false));
	g_assert_true(bitmap_ops.start_sync(m, 200 * 8, &blocks, false));
	/* the sync passed 100 chunks: those may be cleared */
	bitmap_ops.cond_end_sync(m, 0, false);
	bitmap_ops.cond_end_sync(m, 100 * 8 + 3, true);
	g_assert_true(bitmap_ops.start_sync(m, 200 * 8, &blocks, false));
	g_assert_false(bitmap_ops.start_sync(m, 7 * 8, &blocks, false));
	free_array(m);
}

/* md's raid5_bitmap_sector: whole stripes of the components. */
static void test_raid5_bitmap_sector(void)
{
	uint64_t sectors[] = { 1024, 1024, 1024 };
	struct mddev *m = test_array(5, 2, 8, 3, sectors);
	uint64_t s = 0, n = 1;

	m->pers->bitmap_sector(m, &s, &n);
	g_assert_cmpuint(s, ==, 0);
	g_assert_cmpuint(n, ==, 8);
	s = 15, n = 2;                    /* rows 0 and 1 (16 sectors a row) */
	m->pers->bitmap_sector(m, &s, &n);
	g_assert_cmpuint(s, ==, 0);
	g_assert_cmpuint(n, ==, 16);
	s = 40, n = 8;                    /* row 2 */
	m->pers->bitmap_sector(m, &s, &n);
	g_assert_cmpuint(s, ==, 16);
	g_assert_cmpuint(n, ==, 8);
	free_array(m);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/bitmap/idle-bits-clear", test_idle_bits_clear);
	g_test_add_func("/bitmap/write-sets-bit", test_write_sets_bit);
	g_test_add_func("/bitmap/degraded-needed", test_degraded_needed);
	g_test_add_func("/bitmap/load-needed-from-resync", test_load_needed_from_resync);
	g_test_add_func("/bitmap/raid5-bitmap-sector", test_raid5_bitmap_sector);
	return g_test_run();
}
