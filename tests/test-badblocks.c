/* md's bad-block list: set merges, clear splits, check finds the first
 * overlapping range, blocks round as md's, the list holds md's 512. */
#include <errno.h>
#include <string.h>
#include <linux/raid/md_p.h>
#include "../src/badblocks.h"
#include "../src/superblock.h"

static char *show(struct badblocks *bb)
{
	GString *s = g_string_new(NULL);

	badblocks_show(bb, s, false);
	return g_string_free(s, FALSE);
}

#define assert_show(bb, want) do { \
	char *got_ = show(bb); \
	g_assert_cmpstr(got_, ==, want); \
	g_free(got_); \
} while (0)

static void test_set_merges(void)
{
	struct badblocks bb;

	badblocks_init(&bb, true);
	g_assert_true(badblocks_set(&bb, 100, 10, true));
	g_assert_true(badblocks_set(&bb, 200, 10, true));
	g_assert_true(badblocks_set(&bb, 110, 5, true));      /* touches */
	assert_show(&bb, "100 15\n200 10\n");
	g_assert_true(badblocks_set(&bb, 90, 200, true));     /* swallows both */
	assert_show(&bb, "90 200\n");
	g_assert_true(badblocks_set(&bb, 0, 1, true));
	assert_show(&bb, "0 1\n90 200\n");
	badblocks_exit(&bb);
}

static void test_clear_splits(void)
{
	struct badblocks bb;

	badblocks_init(&bb, true);
	badblocks_set(&bb, 100, 100, true);
	g_assert_true(badblocks_clear(&bb, 120, 10));
	assert_show(&bb, "100 20\n130 70\n");
	g_assert_true(badblocks_clear(&bb, 0, 125));
	assert_show(&bb, "130 70\n");
	g_assert_true(badblocks_clear(&bb, 150, 1000));
	assert_show(&bb, "130 20\n");
	g_assert_true(badblocks_clear(&bb, 0, UINT64_MAX));
	assert_show(&bb, "");
	badblocks_exit(&bb);
}

static void test_check(void)
{
	struct badblocks bb;
	uint64_t first = 0, len = 0;

	badblocks_init(&bb, true);
	g_assert_cmpint(badblocks_check(&bb, 0, 1000, &first, &len), ==, 0);
	badblocks_set(&bb, 100, 10, true);
	badblocks_set(&bb, 300, 10, false);
	g_assert_cmpint(badblocks_check(&bb, 0, 100, &first, &len), ==, 0);
	g_assert_cmpint(badblocks_check(&bb, 110, 190, &first, &len), ==, 0);
	g_assert_cmpint(badblocks_check(&bb, 109, 1, &first, &len), ==, 1);
	g_assert_cmpuint(first, ==, 100);
	g_assert_cmpuint(len, ==, 10);
	g_assert_cmpint(badblocks_check(&bb, 0, 1000, &first, &len), ==, -1);
	g_assert_cmpuint(first, ==, 100);
	g_assert_cmpint(badblocks_check(&bb, 305, 1, &first, &len), ==, -1);
	g_assert_cmpuint(first, ==, 300);
	/* Merging an unacknowledged range leaves the whole unacknowledged. */
	badblocks_set(&bb, 105, 200, true);
	g_assert_cmpint(badblocks_check(&bb, 100, 1, &first, &len), ==, -1);
	badblocks_exit(&bb);
}

static void test_shift_and_show(void)
{
	struct badblocks bb;

	badblocks_init(&bb, true);
	bb.shift = 3;
	g_assert_true(badblocks_set(&bb, 9, 2, true));       /* block 1 */
	assert_show(&bb, "8 8\n");
	g_assert_true(badblocks_clear(&bb, 9, 6));           /* no whole block */
	assert_show(&bb, "8 8\n");
	g_assert_true(badblocks_set(&bb, 64, 8 * 600, true));
	/* md's entries hold at most 512 blocks. */
	assert_show(&bb, "8 8\n64 4096\n4160 704\n");
	badblocks_exit(&bb);
}

static void test_full_and_disabled(void)
{
	struct badblocks bb;

	badblocks_init(&bb, true);
	for (int i = 0; i < MAX_BADBLOCKS; i++)
		g_assert_true(badblocks_set(&bb, 10 * (uint64_t)i, 1, true));
	g_assert_false(badblocks_set(&bb, 10 * MAX_BADBLOCKS, 1, true));
	g_assert_true(badblocks_set(&bb, 1, 2, true));        /* merges: fits */
	/* Full: a clear that would split [0, 3) fails and changes nothing. */
	g_assert_false(badblocks_clear(&bb, 1, 1));
	g_assert_cmpint(atomic_load(&bb.count), ==, MAX_BADBLOCKS);
	g_assert_true(badblocks_clear(&bb, 2, 1));            /* trims: fits */
	badblocks_exit(&bb);

	badblocks_init(&bb, false);
	g_assert_false(badblocks_set(&bb, 0, 1, true));
	assert_show(&bb, "");
	badblocks_exit(&bb);
}

struct race {
	struct badblocks bb;
	atomic_bool stop;
};

static gpointer race_reader(gpointer p)
{
	struct race *r = p;
	uint64_t first, len;

	while (!atomic_load(&r->stop)) {
		/* The permanent range is always seen whole. */
		g_assert_cmpint(badblocks_check(&r->bb, 1005, 1, &first, &len), ==, 1);
		g_assert_cmpuint(first, ==, 1000);
		g_assert_cmpuint(len, ==, 10);
		badblocks_check(&r->bb, 2000, 100, &first, &len);
	}
	return NULL;
}

/* Checks run while ranges are set and cleared next to theirs. */
static void test_concurrent(void)
{
	struct race r = { .stop = false };
	GThread *t[4];

	badblocks_init(&r.bb, true);
	badblocks_set(&r.bb, 1000, 10, true);
	for (int i = 0; i < 4; i++)
		t[i] = g_thread_new("reader", race_reader, &r);
	for (int n = 0; n < 20000; n++) {
		g_assert_true(badblocks_set(&r.bb, 2000 + n % 64, 3, n % 2));
		g_assert_true(badblocks_clear(&r.bb, 2000 + (n * 7) % 64, 5));
	}
	atomic_store(&r.stop, true);
	for (int i = 0; i < 4; i++)
		g_thread_join(t[i]);
	badblocks_exit(&r.bb);
}

static void put_entry(uint8_t *log, int i, uint64_t e)
{
	for (int k = 0; k < 8; k++)
		log[i * 8 + k] = (uint8_t)(e >> (8 * k));
}

/* A 1.2 member's fields as mdadm writes them, bad blocks recorded. */
static void v12_sb(struct md_sb *sb)
{
	memset(sb, 0, sizeof(*sb));
	sb->major = 1;
	sb->super_offset = 8;
	sb->data_offset = 2048;
	sb->data_size = 10000;
	sb->max_dev = 384;
	sb->bblog_offset = 16;
	sb->bblog_size = 8;
	sb->feature_map = MD_FEATURE_BAD_BLOCKS;
}

/* md's super_1_load: le64 block << 10 | blocks, blocks of 1 << shift
 * sectors, zero entries skipped, all ones ends the list. */
static void test_decode(void)
{
	struct md_sb sb;
	struct badblocks bb;
	uint8_t log[8 * 512];
	char err[256];

	v12_sb(&sb);
	sb.bblog_shift = 1;
	memset(log, 0xff, sizeof(log));
	put_entry(log, 0, 1100ull << 10 | 3);     /* sectors 2200..2206 */
	put_entry(log, 1, 0);
	put_entry(log, 2, 1103ull << 10 | 1);     /* touches: merges */
	put_entry(log, 4, 1ull << 10 | 1);        /* after the end: ignored */
	g_assert_cmpint(badblocks_validate(&sb, 20000, err, sizeof(err)), ==, 0);
	badblocks_init(&bb, true);
	bb.shift = 1;
	g_assert_cmpint(badblocks_decode(&sb, log, &bb, err, sizeof(err)), ==, 0);
	assert_show(&bb, "2200 8\n");
	badblocks_exit(&bb);

	put_entry(log, 2, 6100ull << 10 | 1);     /* sector 12200: past the data */
	badblocks_init(&bb, true);
	g_assert_cmpint(badblocks_decode(&sb, log, &bb, err, sizeof(err)), ==, -EINVAL);
	g_assert_nonnull(strstr(err, "entry 2 "));
	badblocks_exit(&bb);
}

static void test_validate(void)
{
	struct md_sb sb;
	char err[256];

	v12_sb(&sb);
	g_assert_cmpint(badblocks_validate(&sb, 12048, err, sizeof(err)), ==, 0);
	g_assert_cmpint(badblocks_validate(&sb, 20, err, sizeof(err)), ==, -EINVAL);
	g_assert_nonnull(strstr(err, "outside the file"));
	sb.bblog_offset = (uint32_t)-9;           /* 1.2 has 8 sectors before */
	g_assert_cmpint(badblocks_validate(&sb, 12048, err, sizeof(err)), ==, -EINVAL);
	sb.bblog_offset = (uint32_t)-8;
	g_assert_cmpint(badblocks_validate(&sb, 12048, err, sizeof(err)), ==, 0);
	sb.bblog_offset = 2040 - 8 + 1;           /* last sector over the data */
	g_assert_cmpint(badblocks_validate(&sb, 12048, err, sizeof(err)), ==, -EINVAL);
	g_assert_nonnull(strstr(err, "over the data area"));
	sb.super_offset = UINT64_MAX;             /* no overflow */
	g_assert_cmpint(badblocks_validate(&sb, 12048, err, sizeof(err)), ==, -EINVAL);
	v12_sb(&sb);
	sb.feature_map = 0;
	sb.bblog_offset = 0;
	g_assert_cmpint(badblocks_validate(&sb, 12048, err, sizeof(err)), ==, 0);
	sb.major = 0;                              /* 0.90: no log at all */
	sb.feature_map = MD_FEATURE_BAD_BLOCKS;
	g_assert_cmpint(badblocks_validate(&sb, 12048, err, sizeof(err)), ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/badblocks/set-merges", test_set_merges);
	g_test_add_func("/badblocks/clear-splits", test_clear_splits);
	g_test_add_func("/badblocks/check", test_check);
	g_test_add_func("/badblocks/shift-and-show", test_shift_and_show);
	g_test_add_func("/badblocks/full-and-disabled", test_full_and_disabled);
	g_test_add_func("/badblocks/concurrent", test_concurrent);
	g_test_add_func("/badblocks/decode", test_decode);
	g_test_add_func("/badblocks/validate", test_validate);
	return g_test_run();
}
