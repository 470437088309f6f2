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
	member_write(m, 0, 16, "x", 1);      /* what mirror 0 returns is lost */
	int saved = swap_fd(m->slots[0], false);
	g_assert_cmpint(md_read(m, 8192, sizeof(got), got), ==, sizeof(got));
	restore_fd(m->slots[0], saved);
	g_assert_true(memcmp(got, data, sizeof(data)) == 0);
	check_mirrors(m, 16, data, sizeof(data));
	g_assert_cmpuint(atomic_load(&m->slots[0]->corrected_errors), ==, 8);
	g_assert_false(atomic_load(&m->slots[0]->flags) & RDEV_FAULTY);
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

/* Threads: writers each own a range about the bucket boundary and write
 * versions of it; readers read across it, member 1 failing every read
 * (each such read takes the fix path); a resync pass runs over and over
 * (it reads member 0 only).  Nothing may hang, every read sees its
 * sectors, and at the end every mirror holds each writer's last version. */
#define WRITERS 4
#define RANGE 16                  /* sectors per writer */
#define FIRST (BUCKET - 2 * RANGE)
#define VERSIONS 150

struct stress {
	struct mddev *m;
	atomic_int writers_left;
};

struct writer {
	struct stress *st;
	int id;
};

static void tag(char *buf, uint64_t sector, unsigned version)
{
	for (int i = 0; i < RANGE; i++) {
		uint64_t t[2] = { sector + i, version };
		memset(buf + i * 512, (int)version, 512);
		memcpy(buf + i * 512, t, sizeof(t));
	}
}

static gpointer writer(gpointer data)
{
	struct writer *w = data;
	uint64_t sector = FIRST + (uint64_t)w->id * RANGE;
	char buf[RANGE * 512];

	for (unsigned v = 1; v <= VERSIONS; v++) {
		tag(buf, sector, v);
		g_assert_cmpint(md_write(w->st->m, sector * 512, sizeof(buf), buf),
				==, sizeof(buf));
	}
	atomic_fetch_sub(&w->st->writers_left, 1);
	return NULL;
}

static gpointer reader(gpointer data)
{
	struct stress *st = data;
	char buf[WRITERS * RANGE * 512];
	GRand *rand = g_rand_new_with_seed(7);

	while (atomic_load(&st->writers_left)) {
		uint64_t s = FIRST + g_rand_int_range(rand, 0, WRITERS * RANGE);
		uint64_t n = g_rand_int_range(rand, 1, FIRST + WRITERS * RANGE - s + 1);
		g_assert_cmpint(md_read(st->m, s * 512, n * 512, buf), ==, (int)(n * 512));
		for (uint64_t i = 0; i < n; i++)
			g_assert_cmpuint(*(uint64_t *)(buf + i * 512), ==, s + i);
	}
	g_rand_free(rand);
	return NULL;
}

static gpointer syncer(gpointer data)
{
	struct stress *st = data;

	while (atomic_load(&st->writers_left))
		for (uint64_t s = FIRST & ~2047ull; s < FIRST + WRITERS * RANGE;) {
			int64_t r = st->m->pers->sync_request(st->m, s, 2048,
							      ACTION_RESYNC);
			g_assert_cmpint(r, >, 0);
			s += r;
		}
	return NULL;
}

static void test_stress(void)
{
	struct stress st = { .m = test_array(1, 0, 0, 3, big),
			     .writers_left = WRITERS };
	struct writer w[WRITERS];
	GThread *t[WRITERS + 3];
	char buf[RANGE * 512], want[RANGE * 512];

	for (int i = 0; i < WRITERS; i++) {
		tag(buf, FIRST + (uint64_t)i * RANGE, 0);
		g_assert_cmpint(md_write(st.m, (FIRST + (uint64_t)i * RANGE) * 512,
					 sizeof(buf), buf), ==, sizeof(buf));
	}
	int saved = swap_fd(st.m->slots[1], false);
	for (int i = 0; i < WRITERS; i++) {
		w[i] = (struct writer){ &st, i };
		t[i] = g_thread_new("writer", writer, &w[i]);
	}
	t[WRITERS] = g_thread_new("reader", reader, &st);
	t[WRITERS + 1] = g_thread_new("reader", reader, &st);
	t[WRITERS + 2] = g_thread_new("syncer", syncer, &st);
	for (int i = 0; i < WRITERS + 3; i++)
		g_thread_join(t[i]);
	restore_fd(st.m->slots[1], saved);
	g_assert_cmpint(atomic_load(&st.m->degraded), ==, 0);
	g_assert_cmpuint(atomic_load(&st.m->slots[1]->corrected_errors), >, 0);
	for (int i = 0; i < WRITERS; i++) {
		tag(want, FIRST + (uint64_t)i * RANGE, VERSIONS);
		check_mirrors(st.m, FIRST + (uint64_t)i * RANGE, want, sizeof(want));
	}
	md_free(st.m);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/raid1/read-error", test_read_error);
	g_test_add_data_func("/raid1/read-error-races-write/2", GINT_TO_POINTER(2),
			     test_read_error_races_write);
	g_test_add_data_func("/raid1/read-error-races-write/3", GINT_TO_POINTER(3),
			     test_read_error_races_write);
	g_test_add_func("/raid1/read-error-races-write/across-buckets",
			test_race_across_buckets);
	g_test_add_func("/raid1/read-errors-writes-and-resync", test_stress);
	return g_test_run();
}
