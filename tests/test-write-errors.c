/* md's answer to a member write error on the levels with redundancy: the
 * failed blocks go into the member's bad-block log (written back to the
 * member with the superblock, as mdadm reads it) and the member stays in
 * sync; reads of the range come from redundancy; later writes skip it
 * while the member has seen a write error, and a write or a resync that
 * lands there clears it.  Without a log the member fails instead. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "testlib.h"
#include "../src/ctl.h"

#define MEMBER_SECTORS 2048
#define BAD 64                    /* the failing range, data-area sectors */
#define BAD_LEN 16
#define LOG_OFFSET 8              /* sectors after the superblock (at 8) */
#define LOG_SIZE 8

/* The member's fault tree (dev-X/fault/), as a CI script writes it. */
static void fault_store(struct md_rdev *r, const char *file, const char *val)
{
	for (const struct md_attr *a = rdev_fault_attrs; a->name; a++)
		if (strcmp(a->name, file) == 0) {
			g_assert_cmpint(a->store(r->mddev, r, val), ==, 0);
			return;
		}
	g_assert_not_reached();
}

static void fail_writes(struct md_rdev *r, uint64_t sector, uint64_t sectors)
{
	char *v = g_strdup_printf("%" PRIu64 " %" PRIu64, sector, sectors);

	fault_store(r, "write_errors", v);
	g_free(v);
}

/* The write errors delivered so far. */
static unsigned long write_errors_injected(struct md_rdev *r)
{
	GString *s = g_string_new(NULL);
	unsigned long n = 0;

	for (const struct md_attr *a = rdev_fault_attrs; a->name; a++)
		if (strcmp(a->name, "injected") == 0)
			a->show(r->mddev, r, s);
	const char *p = strstr(s->str, "write_errors ");
	g_assert_nonnull(p);
	n = strtoul(p + strlen("write_errors "), NULL, 10);
	g_string_free(s, TRUE);
	return n;
}

/* Every member with a v1 bad-block log, as mdadm creates them; with_log
 * false: none, as 0.90 or a v1 member without one. */
static struct mddev *array(int level, uint32_t layout, int n, bool with_log)
{
	uint64_t sectors[8] = { 0 };

	for (int i = 0; i < n; i++)
		sectors[i] = MEMBER_SECTORS;
	struct mddev *m = test_array(level, layout, 64, n, sectors);
	for (int i = 0; i < n; i++) {
		struct md_rdev *r = m->slots[i];
		badblocks_init(&r->badblocks, with_log);
		if (!with_log)
			continue;
		r->sb.bblog_offset = LOG_OFFSET;
		r->sb.bblog_size = LOG_SIZE;
		r->badblocks.sector = LOG_OFFSET;
		r->badblocks.size = LOG_SIZE;
	}
	return m;
}

static void fill(char *buf, size_t len, int seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)(i / 512 * 131 + seed * 7 + i % 13);
}

static char *show(struct badblocks *bb, bool unack)
{
	GString *s = g_string_new(NULL);

	badblocks_show(bb, s, unack);
	return g_string_free(s, FALSE);
}

/* The log as it is on member i's file: superblock and log loaded the
 * way assembly does, shown as dev-X/bad_blocks would. */
static char *log_on_member(struct mddev *m, int i)
{
	struct md_rdev *r = m->slots[i];
	struct badblocks bb;
	struct md_sb sb;
	char err[256];

	g_assert_cmpint(md_sb_load(r->fd, &sb, err, sizeof(err)), ==, 0);
	if (badblocks_load(r->fd, &sb, rdev_file_sectors(r->fd), &bb, err,
			   sizeof(err)) < 0)
		g_error("badblocks_load: %s", err);
	char *s = show(&bb, false);
	badblocks_exit(&bb);
	return s;
}

static char *range(struct md_rdev *r, uint64_t s, uint64_t len)
{
	return g_strdup_printf("%" PRIu64 " %" PRIu64 "\n", r->data_offset + s, len);
}

static void check_reads(struct mddev *m, const char *want, size_t len)
{
	char *got = g_malloc(len);

	g_assert_cmpint(md_read(m, 0, len, got), ==, (int)len);
	g_assert_true(memcmp(got, want, len) == 0);
	g_free(got);
}

/* Write the whole array, then again with member victim failing writes
 * over BAD: the write stands, the range is recorded and in the log on the
 * member, the member is still in sync, and reads come from redundancy
 * (the member itself still holds the first write there). */
static void write_error_recorded(int level, uint32_t layout, int n, int victim)
{
	struct mddev *m = array(level, layout, n, true);
	size_t len = m->array_sectors << SECTOR_SHIFT;
	char *old = g_malloc(len), *new = g_malloc(len);
	struct md_rdev *r = m->slots[victim];

	fill(old, len, 1);
	fill(new, len, 2);
	g_assert_cmpint(md_write(m, 0, len, old), ==, (int)len);
	char before[BAD_LEN * 512], after[BAD_LEN * 512];
	member_read(m, victim, BAD, before, sizeof(before));
	fail_writes(r, BAD, BAD_LEN);
	g_assert_cmpint(md_write(m, 0, len, new), ==, (int)len);
	g_assert_cmpuint(write_errors_injected(r), >, 0);
	/* Not on the member, so what reads return comes from redundancy. */
	member_read(m, victim, BAD, after, sizeof(after));
	g_assert_true(memcmp(before, after, sizeof(after)) == 0);

	g_assert_cmpint(atomic_load(&r->flags) & (RDEV_FAULTY | RDEV_IN_SYNC), ==,
			RDEV_IN_SYNC);
	g_assert_cmpint(atomic_load(&m->degraded), ==, 0);
	g_assert_true(atomic_load(&r->flags) & RDEV_WRITE_ERROR);
	char *want = range(r, BAD, BAD_LEN), *got = show(&r->badblocks, false);
	g_assert_cmpstr(got, ==, want);
	g_free(got);
	got = show(&r->badblocks, true);
	g_assert_cmpstr(got, ==, "");    /* acknowledged: the log is written */
	g_free(got);
	got = log_on_member(m, victim);
	g_assert_cmpstr(got, ==, want);
	g_free(got);
	for (int i = 0; i < n; i++) {
		if (i == victim)
			continue;
		got = show(&m->slots[i]->badblocks, false);
		g_assert_cmpstr(got, ==, "");
		g_free(got);
	}
	check_reads(m, new, len);

	/* Seen a write error: the next write leaves the range alone. */
	unsigned long hits = write_errors_injected(r);
	g_assert_cmpint(md_write(m, 0, len, old), ==, (int)len);
	g_assert_cmpuint(write_errors_injected(r), ==, hits);
	check_reads(m, old, len);
	got = show(&r->badblocks, false);
	g_assert_cmpstr(got, ==, want);
	g_free(got);
	g_free(want);
	g_free(old);
	g_free(new);
	md_free(m);
}

/* The victims hold data at BAD (raid1's first copy, raid10's first copy
 * of array chunk 3, raid5/6's stripe 1) and raid6's Q. */
static void test_raid1(void) { write_error_recorded(1, 0, 2, 0); }
static void test_raid10(void) { write_error_recorded(10, 0x102, 4, 2); }
static void test_raid5(void) { write_error_recorded(5, 2, 4, 1); }
static void test_raid6(void)
{
	write_error_recorded(6, 2, 4, 0);
	write_error_recorded(6, 2, 4, 3);
}

/* No log to record in: md fails the member, the write stands on the
 * others and reads are right. */
static void write_error_no_log(int level, uint32_t layout, int n)
{
	struct mddev *m = array(level, layout, n, false);
	size_t len = m->array_sectors << SECTOR_SHIFT;
	char *data = g_malloc(len);

	fill(data, len, 3);
	fail_writes(m->slots[0], BAD, BAD_LEN);
	g_assert_cmpint(md_write(m, 0, len, data), ==, (int)len);
	g_assert_true(atomic_load(&m->slots[0]->flags) & RDEV_FAULTY);
	g_assert_cmpint(atomic_load(&m->degraded), ==, 1);
	check_reads(m, data, len);
	g_free(data);
	md_free(m);
}

/* md_error warns: only there is a warning expected. */
static void warnings_fatal(bool fatal)
{
	g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL |
			       (fatal ? G_LOG_LEVEL_WARNING : 0));
}

static void test_no_log(void)
{
	warnings_fatal(false);
	write_error_no_log(1, 0, 2);
	write_error_no_log(10, 0x102, 4);
	write_error_no_log(5, 2, 4);
	write_error_no_log(6, 2, 4);
	warnings_fatal(true);
}

/* md's list holds what the log can: a member whose log is full fails. */
static void test_log_full(void)
{
	struct mddev *m = array(1, 0, 2, true);
	struct md_rdev *r = m->slots[1];
	char buf[4096];

	/* Every other sector of the first 1024: a full 8-sector log. */
	for (uint64_t s = 0; s < 1024; s += 2)
		g_assert_true(badblocks_set(&r->badblocks, r->data_offset + s, 1, true));
	fill(buf, sizeof(buf), 4);
	fail_writes(r, 1500, 1);
	warnings_fatal(false);
	g_assert_cmpint(md_write(m, 1500 << SECTOR_SHIFT, 512, buf), ==, 512);
	warnings_fatal(true);
	g_assert_true(atomic_load(&r->flags) & RDEV_FAULTY);
	md_free(m);
}

enum rewrite { BY_WRITE, BY_REPAIR, BY_RECOVERY };

/* Rebuild member r from the others, as a re-added member is. */
static void recover(struct mddev *m, struct md_rdev *r)
{
	atomic_fetch_and(&r->flags, ~RDEV_IN_SYNC);
	r->recovery_offset = 0;
	atomic_fetch_add(&m->degraded, 1);
	run_sync(m, ACTION_RECOVER);
	atomic_fetch_or(&r->flags, RDEV_IN_SYNC);
	atomic_fetch_sub(&m->degraded, 1);
}

/* Once the member has not seen a write error (the array was assembled
 * again), what rewrites the range makes it good, as md's MadeGood: a
 * write, raid5/6's resync and repair (md writes the block it computed for
 * the member), recovery; the log follows with the next superblock. */
static void check_recorded(struct md_rdev *r)
{
	char *want = range(r, BAD, BAD_LEN), *got = show(&r->badblocks, false);

	g_assert_cmpstr(got, ==, want);
	g_free(got);
	g_free(want);
}

/* Write the whole array (returned) with the victim failing writes over
 * BAD; then the disk remaps the sectors and the array is assembled
 * again, so the member has seen no write error. */
static char *record_then_remap(struct mddev *m, struct md_rdev *r)
{
	size_t len = m->array_sectors << SECTOR_SHIFT;
	char *data = g_malloc(len);

	fill(data, len, 5);
	fail_writes(r, BAD, BAD_LEN);
	g_assert_cmpint(md_write(m, 0, len, data), ==, (int)len);
	check_recorded(r);
	fault_store(r, "write_errors", "clear");
	atomic_fetch_and(&r->flags, ~(RDEV_WRITE_ERROR | RDEV_WANT_REPLACEMENT));
	return data;
}

static void made_good(int level, uint32_t layout, int n, int victim,
		      enum rewrite how)
{
	struct mddev *m = array(level, layout, n, true);
	size_t len = m->array_sectors << SECTOR_SHIFT;
	struct md_rdev *r = m->slots[victim];
	char *data = record_then_remap(m, r), *got;

	if (how == BY_REPAIR)
		g_assert_cmpint(run_sync(m, ACTION_REPAIR), ==, 0);
	else if (how == BY_RECOVERY)
		recover(m, r);
	else
		g_assert_cmpint(md_write(m, 0, len, data), ==, (int)len);
	got = show(&r->badblocks, false);
	g_assert_cmpstr(got, ==, "");
	g_free(got);
	g_assert_cmpint(md_update_sb(m), ==, 0);
	got = log_on_member(m, victim);
	g_assert_cmpstr(got, ==, "");
	g_free(got);
	/* The member holds the data again: read it alone. */
	for (int i = 0; i < n; i++)
		if (i != victim && level == 1)
			atomic_fetch_or(&m->slots[i]->flags, RDEV_FAULTY);
	check_reads(m, data, len);
	g_free(data);
	md_free(m);
}

/* Each level with a victim holding data or parity at BAD. */
static const struct level {
	int level;
	uint32_t layout;
	int n, victim;
} levels[] = {
	{ 1, 0, 2, 1 }, { 10, 0x102, 4, 2 }, { 5, 2, 4, 1 }, { 6, 2, 4, 3 },
	{ 6, 2, 4, 0 },
};

static bool parity_level(const struct level *l)
{
	return l->level == 5 || l->level == 6;
}

static void made_good_all(enum rewrite how, bool parity_only)
{
	for (unsigned i = 0; i < G_N_ELEMENTS(levels); i++)
		if (!parity_only || parity_level(&levels[i]))
			made_good(levels[i].level, levels[i].layout, levels[i].n,
				  levels[i].victim, how);
}

static void test_made_good_by_write(void) { made_good_all(BY_WRITE, false); }
static void test_made_good_by_repair(void) { made_good_all(BY_REPAIR, true); }
static void test_made_good_by_recovery(void) { made_good_all(BY_RECOVERY, false); }

/* md's raid1 and raid10 sync leave an in-sync member's bad blocks alone:
 * repair neither reads nor rewrites them. */
static void test_repair_keeps(void)
{
	for (unsigned k = 0; !parity_level(&levels[k]); k++) {
		const struct level *l = &levels[k];
		struct mddev *m = array(l->level, l->layout, l->n, true);
		char *data = record_then_remap(m, m->slots[0]);
		g_assert_cmpint(run_sync(m, ACTION_REPAIR), ==, 0);
		check_recorded(m->slots[0]);
		check_reads(m, data, m->array_sectors << SECTOR_SHIFT);
		g_free(data);
		md_free(m);
	}
}

/* The log as md writes it: entries of at most 512 blocks, a long range
 * in several; decoding gives the list back, and a list the log cannot
 * hold is refused. */
static void test_log_encoding(void)
{
	struct badblocks bb, back;
	struct md_sb sb = { .major = 1, .bblog_size = LOG_SIZE, .data_size = 100000,
			    .feature_map = MD_FEATURE_BAD_BLOCKS };
	uint8_t log[LOG_SIZE * 512];
	char err[256];

	badblocks_init(&bb, true);
	bb.size = LOG_SIZE;
	g_assert_true(badblocks_set(&bb, 100, 1200, false));
	g_assert_true(badblocks_set(&bb, 5000, 1, false));
	g_assert_true(badblocks_encode(&bb, log, sizeof(log)));
	g_assert_false(badblocks_encode(&bb, log, sizeof(log)));  /* unchanged */
	badblocks_ack(&bb);
	char *unack = show(&bb, true);
	g_assert_cmpstr(unack, ==, "");
	g_free(unack);
	badblocks_init(&back, true);
	g_assert_cmpint(badblocks_decode(&sb, log, &back, err, sizeof(err)), ==, 0);
	char *want = show(&bb, false), *got = show(&back, false);
	g_assert_cmpstr(want, ==, "100 512\n612 512\n1124 176\n5000 1\n");
	g_assert_cmpstr(got, ==, want);
	g_free(want);
	g_free(got);
	/* 508 more single sectors fill the 512 entries; one more does not fit. */
	for (uint64_t s = 0; s < 508; s++)
		g_assert_true(badblocks_set(&bb, 10000 + 2 * s, 1, true));
	g_assert_false(badblocks_set(&bb, 20000, 1, true));
	g_assert_false(badblocks_set(&bb, 2000, 600, true));
	badblocks_exit(&bb);
	badblocks_exit(&back);
}

/* Recovery over a range every in-sync member has recorded bad (write
 * errors on the victims, then another member replaced): md records it bad
 * on the member it rebuilds and goes on; reading it fails, never serving
 * what the new member holds there. */
static void no_source(int level, uint32_t layout, int n, int v1, int v2,
		      int target)
{
	struct mddev *m = array(level, layout, n, true);
	size_t len = m->array_sectors << SECTOR_SHIFT;
	char *data = g_malloc(len);
	struct md_rdev *t = m->slots[target];

	fill(data, len, 7);
	fail_writes(m->slots[v1], BAD, BAD_LEN);
	if (v2 >= 0)
		fail_writes(m->slots[v2], BAD, BAD_LEN);
	g_assert_cmpint(md_write(m, 0, len, data), ==, (int)len);
	check_recorded(m->slots[v1]);
	recover(m, t);
	check_recorded(t);
	g_assert_false(atomic_load(&t->flags) & RDEV_FAULTY);
	char *got = log_on_member(m, target), *want = range(t, BAD, BAD_LEN);
	g_assert_cmpstr(got, ==, want);
	g_free(got);
	g_free(want);
	g_assert_cmpint(md_read(m, 0, len, data), ==, -EIO);
	g_free(data);
	md_free(m);
}

static void test_recovery_no_source(void)
{
	no_source(1, 0, 2, 0, -1, 1);
	no_source(10, 0x102, 4, 2, -1, 3);
	no_source(5, 2, 4, 1, -1, 2);
	no_source(6, 2, 4, 0, 1, 3);
}

/* Both copies have seen write errors, with bad blocks apart: md splits a
 * write at them and each part lands on the copy that holds it good, so
 * the write stands and reads back whole, neither copy written over its
 * bad blocks. */
static void copies_apart(int level, uint32_t layout, int n, int c0, int c1)
{
	struct mddev *m = array(level, layout, n, true);
	size_t len = m->array_sectors << SECTOR_SHIFT;
	char *old = g_malloc(len), *new = g_malloc(len);
	char before[2][8 * 512], after[8 * 512];
	int copy[2] = { c0, c1 };

	fill(old, len, 8);
	fill(new, len, 9);
	g_assert_cmpint(md_write(m, 0, len, old), ==, (int)len);
	for (int i = 0; i < 2; i++) {
		struct md_rdev *r = m->slots[copy[i]];
		g_assert_true(badblocks_set(&r->badblocks, r->data_offset + BAD + 8 * i,
					    8, true));
		atomic_fetch_or(&r->flags, RDEV_WRITE_ERROR);
		member_read(m, copy[i], BAD + 8 * i, before[i], sizeof(before[i]));
	}
	g_assert_cmpint(md_write(m, 0, len, new), ==, (int)len);
	for (int i = 0; i < 2; i++) {
		member_read(m, copy[i], BAD + 8 * i, after, sizeof(after));
		g_assert_true(memcmp(before[i], after, sizeof(after)) == 0);
	}
	check_reads(m, new, len);
	g_free(old);
	g_free(new);
	md_free(m);
}

static void test_copies_apart(void)
{
	copies_apart(1, 0, 2, 0, 1);
	copies_apart(10, 0x102, 4, 2, 3);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/write-errors/raid1", test_raid1);
	g_test_add_func("/write-errors/raid10", test_raid10);
	g_test_add_func("/write-errors/raid5", test_raid5);
	g_test_add_func("/write-errors/raid6", test_raid6);
	g_test_add_func("/write-errors/no-log", test_no_log);
	g_test_add_func("/write-errors/log-full", test_log_full);
	g_test_add_func("/write-errors/log-encoding", test_log_encoding);
	g_test_add_func("/write-errors/made-good-by-write", test_made_good_by_write);
	g_test_add_func("/write-errors/made-good-by-repair", test_made_good_by_repair);
	g_test_add_func("/write-errors/made-good-by-recovery", test_made_good_by_recovery);
	g_test_add_func("/write-errors/repair-keeps", test_repair_keeps);
	g_test_add_func("/write-errors/recovery-no-source", test_recovery_no_source);
	g_test_add_func("/write-errors/copies-apart", test_copies_apart);
	return g_test_run();
}
