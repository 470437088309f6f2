#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "testlib.h"
#include "../src/raid1-10.h"

static struct md_rdev *tmp_member(struct mddev *m, int slot, uint64_t sectors)
{
	struct md_rdev *r = g_new0(struct md_rdev, 1);

	r->fd = open("/tmp", O_TMPFILE | O_RDWR, 0600);
	g_assert_cmpint(r->fd, >=, 0);
	r->data_offset = 8 * (slot + 3);
	r->sectors = sectors;
	g_assert_cmpint(ftruncate(r->fd, (r->data_offset + r->sectors) << 9), ==, 0);
	r->raid_disk = slot;
	r->desc_nr = slot;
	/* Where a v1.2 superblock goes, so that superblock writes work. */
	r->sb.super_offset = 8;
	r->sb.data_offset = r->data_offset;
	r->sb.data_size = sectors;
	r->name = g_strdup_printf("m%d", slot);
	r->mddev = m;
	atomic_store(&r->flags, RDEV_IN_SYNC);
	return r;
}

struct mddev *test_array(int level, uint32_t layout, uint32_t chunk_sectors,
			 int n, const uint64_t *sectors)
{
	struct mddev *m = g_new0(struct mddev, 1);
	uint64_t smallest = UINT64_MAX;
	char err[256];

	m->name = g_strdup("t");
	m->rdevs = g_ptr_array_new();
	m->slots = g_new0(struct md_rdev *, n);
	for (int i = 0; i < n; i++) {
		m->slots[i] = tmp_member(m, i, sectors[i]);
		g_ptr_array_add(m->rdevs, m->slots[i]);
		smallest = MIN(smallest, sectors[i]);
	}
	m->sb.major = 1;
	m->sb.minor = 2;
	m->sb.level = level;
	m->sb.layout = layout;
	m->sb.chunk_sectors = chunk_sectors;
	m->sb.raid_disks = n;
	m->sb.size = smallest;
	m->sb.resync_offset = MD_MAX_SECTOR;
	if (level == 0 && layout)
		m->sb.feature_map = MD_FEATURE_RAID0_LAYOUT;
	if (md_run(m, err, sizeof(err)) < 0)
		g_error("md_run: %s", err);
	m->in_sync = false;       /* no superblock writes in unit tests */
	return m;
}

void member_read(struct mddev *m, int i, uint64_t sector, void *buf, size_t len)
{
	struct md_rdev *r = g_ptr_array_index(m->rdevs, i);

	g_assert_cmpint(pread(r->fd, buf, len, (r->data_offset + sector) * 512), ==,
			(ssize_t)len);
}

void member_write(struct mddev *m, int i, uint64_t sector, const void *buf,
		  size_t len)
{
	struct md_rdev *r = g_ptr_array_index(m->rdevs, i);

	g_assert_cmpint(pwrite(r->fd, buf, len, (r->data_offset + sector) * 512), ==,
			(ssize_t)len);
}

void member_badblocks(struct mddev *m, int i, uint64_t sector, uint64_t sectors)
{
	struct md_rdev *r = g_ptr_array_index(m->rdevs, i);
	char *junk = g_malloc(sectors * 512);

	memset(junk, 0xa5, sectors * 512);
	member_write(m, i, sector, junk, sectors * 512);
	g_free(junk);
	if (!r->badblocks.ranges)
		badblocks_init(&r->badblocks, true);
	g_assert_true(badblocks_set(&r->badblocks, r->data_offset + sector,
				    sectors, true));
}

void check_badblocks_apart(struct mddev *m)
{
	char data[65536], got[65536];

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 7 / 512);
	g_assert_cmpint(md_write(m, 0, sizeof(data), data), ==, sizeof(data));
	member_badblocks(m, 0, 16, 32);
	member_badblocks(m, 1, 60, 32);
	g_assert_cmpint(md_read(m, 0, sizeof(got), got), ==, sizeof(got));
	g_assert_true(memcmp(got, data, sizeof(data)) == 0);
	member_badblocks(m, 1, 20, 1);
	g_assert_cmpint(md_read(m, 0, sizeof(got), got), ==, -EIO);
	g_assert_cmpint(md_read(m, 21 * 512, 512, got), ==, 512);
	for (int i = 0; i < 2; i++)
		g_assert_false(atomic_load(&m->slots[i]->flags) & RDEV_FAULTY);
}

int swap_fd(struct md_rdev *r, bool writes_fail)
{
	int saved = r->fd;

	if (writes_fail) {
		r->fd = open("/tmp", O_RDONLY | O_DIRECTORY);
	} else {
		char path[64];
		snprintf(path, sizeof(path), "/proc/self/fd/%d", saved);
		r->fd = open(path, O_WRONLY);
	}
	g_assert_cmpint(r->fd, >=, 0);
	return saved;
}

void restore_fd(struct md_rdev *r, int saved)
{
	close(r->fd);
	r->fd = saved;
}

static struct {
	uint64_t off;
	size_t len;
	const void *data;
	int runs;
} racing_write;

static void write_in_race(struct mddev *m)
{
	g_assert_cmpint(md_write(m, racing_write.off, racing_write.len,
				 racing_write.data), ==, (int)racing_write.len);
	racing_write.runs++;
}

void read_error_races_write(struct mddev *m, int slot, uint64_t off,
			    size_t len, const void *old, const void *new,
			    void *got)
{
	g_assert_cmpint(md_write(m, off, len, old), ==, (int)len);
	racing_write.off = off;
	racing_write.len = len;
	racing_write.data = new;
	racing_write.runs = 0;
	mirror_read_error_hook = write_in_race;
	int saved = swap_fd(m->slots[slot], false);
	g_assert_cmpint(md_read(m, off, len, got), ==, (int)len);
	restore_fd(m->slots[slot], saved);
	mirror_read_error_hook = NULL;
	g_assert_cmpint(racing_write.runs, ==, 1);
	g_assert_false(atomic_load(&m->slots[slot]->flags) & RDEV_FAULTY);
}

/* Threads: writers each own a range from first on and write versions of
 * it; two readers read across the ranges, member slot failing every read
 * (each such read takes the fix path); resync windows run over and over
 * across sync_from..sync_to (the level's sync sectors).  Nothing may hang,
 * every read sees its sectors, and at the end a check finds the copies
 * equal and the ranges read back their writer's last version. */
#define VERSIONS 150

struct stress {
	struct mddev *m;
	uint64_t first, sync_from, sync_to;
	atomic_int writers_left;
};

struct writer {
	struct stress *st;
	int id;
};

static void tag(char *buf, uint64_t sector, unsigned version)
{
	for (int i = 0; i < STRESS_RANGE; i++) {
		uint64_t t[2] = { sector + i, version };
		memset(buf + i * 512, (int)version, 512);
		memcpy(buf + i * 512, t, sizeof(t));
	}
}

static void write_version(struct mddev *m, uint64_t sector, unsigned version)
{
	char buf[STRESS_RANGE * 512];

	tag(buf, sector, version);
	g_assert_cmpint(md_write(m, sector * 512, sizeof(buf), buf), ==,
			sizeof(buf));
}

static gpointer writer(gpointer data)
{
	struct writer *w = data;

	for (unsigned v = 1; v <= VERSIONS; v++)
		write_version(w->st->m, w->st->first + (uint64_t)w->id * STRESS_RANGE, v);
	atomic_fetch_sub(&w->st->writers_left, 1);
	return NULL;
}

static gpointer reader(gpointer data)
{
	struct stress *st = data;
	const int span = STRESS_WRITERS * STRESS_RANGE;
	char buf[span * 512];
	GRand *rand = g_rand_new_with_seed(7);

	while (atomic_load(&st->writers_left)) {
		uint64_t at = g_rand_int_range(rand, 0, span);
		uint64_t n = g_rand_int_range(rand, 1, span - at + 1);
		g_assert_cmpint(md_read(st->m, (st->first + at) * 512, n * 512, buf),
				==, (int)(n * 512));
		for (uint64_t i = 0; i < n; i++)
			g_assert_cmpuint(*(uint64_t *)(buf + i * 512), ==,
					 st->first + at + i);
	}
	g_rand_free(rand);
	return NULL;
}

static void sync_range(struct stress *st, enum sync_action action)
{
	for (uint64_t s = st->sync_from; s < st->sync_to;) {
		int64_t r = st->m->pers->sync_request(st->m, s,
						      MIN(2048, st->sync_to - s),
						      action);
		g_assert_cmpint(r, >, 0);
		s += r;
	}
}

static gpointer syncer(gpointer data)
{
	struct stress *st = data;

	while (atomic_load(&st->writers_left))
		sync_range(st, ACTION_RESYNC);
	return NULL;
}

void stress_read_errors(struct mddev *m, int slot, uint64_t first,
			uint64_t sync_from, uint64_t sync_to)
{
	struct stress st = { m, first, sync_from, sync_to, STRESS_WRITERS };
	struct writer w[STRESS_WRITERS];
	GThread *t[STRESS_WRITERS + 3];
	char got[STRESS_RANGE * 512], want[STRESS_RANGE * 512];

	for (int i = 0; i < STRESS_WRITERS; i++)
		write_version(m, first + (uint64_t)i * STRESS_RANGE, 0);
	int saved = swap_fd(m->slots[slot], false);
	for (int i = 0; i < STRESS_WRITERS; i++) {
		w[i] = (struct writer){ &st, i };
		t[i] = g_thread_new("writer", writer, &w[i]);
	}
	t[STRESS_WRITERS] = g_thread_new("reader", reader, &st);
	t[STRESS_WRITERS + 1] = g_thread_new("reader", reader, &st);
	t[STRESS_WRITERS + 2] = g_thread_new("syncer", syncer, &st);
	for (int i = 0; i < STRESS_WRITERS + 3; i++)
		g_thread_join(t[i]);
	restore_fd(m->slots[slot], saved);
	g_assert_cmpint(atomic_load(&m->degraded), ==, 0);
	g_assert_cmpuint(atomic_load(&m->slots[slot]->corrected_errors), >, 0);
	atomic_store(&m->resync_mismatches, 0);
	sync_range(&st, ACTION_CHECK);
	g_assert_cmpuint(atomic_load(&m->resync_mismatches), ==, 0);
	for (int i = 0; i < STRESS_WRITERS; i++) {
		uint64_t sector = first + (uint64_t)i * STRESS_RANGE;
		tag(want, sector, VERSIONS);
		g_assert_cmpint(md_read(m, sector * 512, sizeof(got), got), ==,
				sizeof(got));
		g_assert_true(memcmp(got, want, sizeof(want)) == 0);
	}
}

uint64_t run_sync(struct mddev *m, enum sync_action action)
{
	atomic_store(&m->resync_mismatches, 0);
	for (uint64_t s = 0; s < m->dev_sectors;) {
		int64_t r = m->pers->sync_request(m, s, MIN(2048, m->dev_sectors - s),
						  action);
		g_assert_cmpint(r, >, 0);
		s += r;
	}
	return atomic_load(&m->resync_mismatches);
}
