/* raid1 read errors: the data comes from another mirror and the bad one is
 * rewritten; a write racing the rewrite must not be undone on one mirror. */
#include <string.h>
#include "testlib.h"

static const uint64_t sizes[] = { 2000, 2000, 2000 };

static struct mddev *make_array(int n)
{
	return test_array(1, 0, 0, n, sizes);
}

static void fill(char *buf, size_t len, char c)
{
	memset(buf, c, len);
}

/* Every mirror holds want at sector. */
static void check_mirrors(struct mddev *m, uint64_t sector, const char *want,
			  size_t len)
{
	char *got = g_malloc(len);

	for (int i = 0; i < m->raid_disks; i++) {
		member_read(m, i, sector, got, len);
		g_assert_true(memcmp(got, want, len) == 0);
	}
	g_free(got);
}

static void test_read_error(void)
{
	struct mddev *m = make_array(2);
	char data[4096], got[4096];

	fill(data, sizeof(data), 'a');
	g_assert_cmpint(md_write(m, 8192, sizeof(data), data), ==, sizeof(data));
	member_write(m, 0, 17, "x", 1);      /* what mirror 0 holds is lost */
	member_read_errors(m, 0, 17, 2);
	g_assert_cmpint(md_read(m, 8192, sizeof(got), got), ==, sizeof(got));
	g_assert_true(memcmp(got, data, sizeof(data)) == 0);
	check_mirrors(m, 16, data, sizeof(data));
	/* md's fix_read_error: the page rewritten and read back, counted. */
	g_assert_false(member_has_read_errors(m, 0));
	g_assert_cmpuint(atomic_load(&m->slots[0]->corrected_errors), ==, 8);
	g_assert_cmpuint(atomic_load(&m->slots[0]->read_errors), ==, 1);
	g_assert_false(atomic_load(&m->slots[0]->flags) & RDEV_FAULTY);
	md_free(m);
}

/* One read of a page mirror 0 fails; returns mirror 0's read error count. */
static unsigned fixed_read(struct mddev *m, const char *data)
{
	char got[4096];

	member_read_errors(m, 0, 0, 8);
	g_assert_cmpint(md_read(m, 0, sizeof(got), got), ==, sizeof(got));
	g_assert_true(memcmp(got, data, sizeof(got)) == 0);
	return atomic_load(&m->slots[0]->read_errors);
}

/* md's max_read_errors: each fix counts a read error, the count halved
 * for every hour since the last; past the limit the mirror is failed, not
 * rewritten, and the read served from the other one. */
static void test_max_read_errors(void)
{
	struct mddev *m = make_array(2);
	struct md_rdev *r = m->slots[0];
	char data[4096];

	fill(data, sizeof(data), 'a');
	g_assert_cmpint(md_write(m, 0, sizeof(data), data), ==, sizeof(data));
	atomic_store(&m->max_corr_read_errors, 2);
	g_assert_cmpuint(fixed_read(m, data), ==, 1);
	g_assert_cmpuint(fixed_read(m, data), ==, 2);
	atomic_fetch_sub(&r->last_read_error, 2 * 3600);
	g_assert_cmpuint(fixed_read(m, data), ==, 2 / 4 + 1);
	g_assert_cmpuint(fixed_read(m, data), ==, 2);
	g_assert_false(atomic_load(&r->flags) & RDEV_FAULTY);
	g_assert_false(member_has_read_errors(m, 0));
	g_assert_cmpuint(atomic_load(&r->corrected_errors), ==, 4 * 8);
	g_log_set_always_fatal(G_LOG_FATAL_MASK);   /* md_error warns */
	g_assert_cmpuint(fixed_read(m, data), ==, 3);
	g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_WARNING |
			       G_LOG_LEVEL_CRITICAL);
	g_assert_true(atomic_load(&r->flags) & RDEV_FAULTY);
	g_assert_true(member_has_read_errors(m, 0));
	g_assert_cmpuint(atomic_load(&r->corrected_errors), ==, 4 * 8);
	md_free(m);
}

/* md's fix_read_error reads the rewrite back: a mirror that still cannot
 * read it is failed (no bad-block log to record it in); the data comes
 * from the other. */
static void test_rewrite_not_read_back(void)
{
	struct mddev *m = make_array(2);
	char data[4096], got[4096];

	fill(data, sizeof(data), 'a');
	g_assert_cmpint(md_write(m, 0, sizeof(data), data), ==, sizeof(data));
	member_stuck_read_errors(m, 0, 3, 1);
	g_log_set_always_fatal(G_LOG_FATAL_MASK);   /* md_error warns */
	g_assert_cmpint(md_read(m, 0, sizeof(got), got), ==, sizeof(got));
	g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_WARNING |
			       G_LOG_LEVEL_CRITICAL);
	g_assert_true(memcmp(got, data, sizeof(data)) == 0);
	g_assert_true(atomic_load(&m->slots[0]->flags) & RDEV_FAULTY);
	g_assert_cmpuint(atomic_load(&m->slots[0]->corrected_errors), ==, 0);
	md_free(m);
}

/* md freezes the array around fix_read_error: the good copy is read again
 * after any write that landed since the failed read, and the rewrite
 * carries that. */
static void test_read_error_races_write(gconstpointer data)
{
	struct mddev *m = make_array(GPOINTER_TO_INT(data));
	char old[4096], new[4096], got[4096];

	fill(old, sizeof(old), 'o');
	fill(new, sizeof(new), 'n');
	read_error_races_write(m, 0, 8192, sizeof(old), old, new, got);
	check_mirrors(m, 16, new, sizeof(new));
	/* Read again under the barrier, after the write. */
	g_assert_true(memcmp(got, new, sizeof(new)) == 0);
	md_free(m);
}

/* Two barrier buckets (md's 64 MiB each) on sparse members. */
#define BUCKET (1ull << 17)
static const uint64_t big[] = { BUCKET + 4096, BUCKET + 4096, BUCKET + 4096 };

/* The fix holds off both buckets a read spans. */
static void test_race_across_buckets(void)
{
	struct mddev *m = test_array(1, 0, 0, 2, big);
	char old[8192], new[8192], got[8192];
	uint64_t sector = BUCKET - 8;

	fill(old, sizeof(old), 'o');
	fill(new, sizeof(new), 'n');
	/* Reads spread by MiB: this one goes to mirror 63 % 2. */
	read_error_races_write(m, 1, sector * 512, sizeof(old), old, new, got);
	check_mirrors(m, sector, new, sizeof(new));
	g_assert_true(memcmp(got, new, sizeof(new)) == 0);
	md_free(m);
}

/* Concurrent writers, readers taking the fix path and resync windows
 * about the boundary of the two buckets.  Reads spread by MiB: the ones
 * from 64 MiB on start at mirror 64 % 3, which fails them; resync reads
 * mirror 0 only. */
static void test_stress(void)
{
	struct mddev *m = test_array(1, 0, 0, 3, big);
	uint64_t first = BUCKET - 2 * STRESS_RANGE;

	stress_read_errors(m, 1, first, first & ~2047ull,
			   first + STRESS_WRITERS * STRESS_RANGE);
	md_free(m);
}

/* Bad blocks on both mirrors, apart: no mirror can serve the read whole,
 * so it is served in parts, each from a mirror that holds it good. */
static void test_badblocks_apart(void)
{
	struct mddev *m = make_array(2);

	check_badblocks_apart(m);
	md_free(m);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/raid1/read-error", test_read_error);
	g_test_add_func("/raid1/badblocks-apart", test_badblocks_apart);
	g_test_add_func("/raid1/max-read-errors", test_max_read_errors);
	g_test_add_func("/raid1/rewrite-not-read-back", test_rewrite_not_read_back);
	g_test_add_data_func("/raid1/read-error-races-write/2", GINT_TO_POINTER(2),
			     test_read_error_races_write);
	g_test_add_data_func("/raid1/read-error-races-write/3", GINT_TO_POINTER(3),
			     test_read_error_races_write);
	g_test_add_func("/raid1/read-error-races-write/across-buckets",
			test_race_across_buckets);
	g_test_add_func("/raid1/read-errors-writes-and-resync", test_stress);
	return g_test_run();
}
