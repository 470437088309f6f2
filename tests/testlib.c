#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include "testlib.h"
#include "../src/raid1-10.h"

struct md_rdev *test_member(struct mddev *m, int slot, uint64_t sectors)
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

struct md_rdev *test_spare(struct mddev *m, uint64_t sectors)
{
	struct md_rdev *r = test_member(m, m->rdevs->len, sectors);

	r->raid_disk = -1;
	r->saved_raid_disk = -1;
	atomic_store(&r->flags, 0);
	pthread_mutex_lock(&m->sb_lock);
	g_ptr_array_add(m->rdevs, r);
	pthread_mutex_unlock(&m->sb_lock);
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
	m->slots = g_new0(struct md_rdev *_Atomic, n);
	for (int i = 0; i < n; i++) {
		m->slots[i] = test_member(m, i, sectors[i]);
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

/* ---- read errors: a member IO layer ---- */

struct read_faults {
	struct member_io io;
	pthread_mutex_t lock;
	GArray *ranges;               /* uint64_t pairs [s, e), data sectors */
	GArray *stuck;                /* the same, never remapped */
	bool all;
	unsigned injected;
};

/* This thread's writes not yet read back, which all-failing reads let
 * be read back once (md's read-back follows its rewrite; raid456 writes
 * a batch, then reads it back). */
#define READ_BACKS 64
static __thread struct {
	struct md_rdev *rdev;
	uint64_t pos;
	size_t len;
} wrote[READ_BACKS];
static __thread unsigned nwrote;

static bool read_back(struct md_rdev *rdev, uint64_t pos, size_t len)
{
	for (unsigned i = 0; i < MIN(nwrote, READ_BACKS); i++) {
		if (wrote[i].rdev == rdev && wrote[i].pos == pos && wrote[i].len == len) {
			wrote[i].rdev = NULL;
			return true;
		}
	}
	return false;
}

static bool overlaps(GArray *ranges, uint64_t s, uint64_t e)
{
	for (guint i = 0; i < ranges->len; i += 2) {
		uint64_t *r = &g_array_index(ranges, uint64_t, i);
		if (s < r[1] && r[0] < e)
			return true;
	}
	return false;
}

static ssize_t faults_pread(struct member_io *io, struct md_rdev *rdev,
			    void *buf, size_t len, uint64_t pos)
{
	struct read_faults *f = (struct read_faults *)io;
	uint64_t s = (pos >> 9) - rdev->data_offset;
	uint64_t e = ((pos + len + 511) >> 9) - rdev->data_offset;
	bool back = read_back(rdev, pos, len);

	pthread_mutex_lock(&f->lock);
	bool fail = (f->all && !back) || overlaps(f->ranges, s, e) ||
		    overlaps(f->stuck, s, e);
	f->injected += fail;
	pthread_mutex_unlock(&f->lock);
	return fail ? -EIO : member_pread(io->lower, rdev, buf, len, pos);
}

/* A disk remaps the sectors a write covers whole. */
static void remap(struct read_faults *f, uint64_t s, uint64_t e)
{
	GArray *keep = g_array_new(FALSE, FALSE, sizeof(uint64_t));

	for (guint i = 0; i < f->ranges->len; i += 2) {
		uint64_t *r = &g_array_index(f->ranges, uint64_t, i);
		uint64_t piece[4] = { r[0], MIN(r[1], s), MAX(r[0], e), r[1] };
		for (int k = 0; k < 4; k += 2)
			if (piece[k] < piece[k + 1])
				g_array_append_vals(keep, piece + k, 2);
	}
	g_array_free(f->ranges, TRUE);
	f->ranges = keep;
}

static ssize_t faults_pwrite(struct member_io *io, struct md_rdev *rdev,
			     const void *buf, size_t len, uint64_t pos)
{
	struct read_faults *f = (struct read_faults *)io;
	ssize_t r = member_pwrite(io->lower, rdev, buf, len, pos);

	if (r == (ssize_t)len && pos >= rdev->data_offset << 9) {
		pthread_mutex_lock(&f->lock);
		remap(f, ((pos + 511) >> 9) - rdev->data_offset,
		      ((pos + len) >> 9) - rdev->data_offset);
		pthread_mutex_unlock(&f->lock);
		unsigned k = nwrote++ % READ_BACKS;
		wrote[k].rdev = rdev;
		wrote[k].pos = pos;
		wrote[k].len = len;
	}
	return r;
}

static int faults_fdatasync(struct member_io *io, struct md_rdev *rdev)
{
	return member_fdatasync(io->lower, rdev);
}

static int faults_punch(struct member_io *io, struct md_rdev *rdev,
			uint64_t pos, uint64_t len)
{
	return member_punch(io->lower, rdev, pos, len);
}

static void faults_free(struct member_io *io)
{
	struct read_faults *f = (struct read_faults *)io;

	g_array_free(f->ranges, TRUE);
	g_array_free(f->stuck, TRUE);
	pthread_mutex_destroy(&f->lock);
	g_free(f);
}

static const struct member_io_ops faults_ops = {
	.pread = faults_pread, .pwrite = faults_pwrite,
	.fdatasync = faults_fdatasync, .punch = faults_punch,
	.free = faults_free,
};

static struct read_faults *faults_of(struct md_rdev *r)
{
	struct member_io *io = atomic_load(&r->io);

	if (io && io->ops == &faults_ops)
		return (struct read_faults *)io;
	struct read_faults *f = g_new0(struct read_faults, 1);
	f->io.ops = &faults_ops;
	pthread_mutex_init(&f->lock, NULL);
	f->ranges = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	f->stuck = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	rdev_push_io(r, &f->io);
	return f;
}

static void add_range(struct mddev *m, int i, uint64_t sector,
		      uint64_t sectors, bool stuck)
{
	struct read_faults *f = faults_of(m->slots[i]);
	uint64_t r[2] = { sector, sector + sectors };

	pthread_mutex_lock(&f->lock);
	g_array_append_vals(stuck ? f->stuck : f->ranges, r, 2);
	pthread_mutex_unlock(&f->lock);
}

void member_read_errors(struct mddev *m, int i, uint64_t sector,
			uint64_t sectors)
{
	add_range(m, i, sector, sectors, false);
}

void member_stuck_read_errors(struct mddev *m, int i, uint64_t sector,
			      uint64_t sectors)
{
	add_range(m, i, sector, sectors, true);
}

bool member_has_read_errors(struct mddev *m, int i)
{
	struct read_faults *f = faults_of(m->slots[i]);

	pthread_mutex_lock(&f->lock);
	bool any = f->ranges->len > 0;
	pthread_mutex_unlock(&f->lock);
	return any;
}

void member_fail_reads(struct mddev *m, int i, bool on)
{
	struct read_faults *f = faults_of(m->slots[i]);

	pthread_mutex_lock(&f->lock);
	f->all = on;
	if (!on) {
		g_array_set_size(f->ranges, 0);
		g_array_set_size(f->stuck, 0);
	}
	pthread_mutex_unlock(&f->lock);
	nwrote = 0;
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

static gpointer racing_writer(gpointer data)
{
	struct mddev *m = data;

	g_assert_cmpint(md_write(m, racing_write.off, racing_write.len,
				 racing_write.data), ==, (int)racing_write.len);
	return NULL;
}

/* From another thread: the reader's own writes are what its member lets
 * it read back. */
static void write_in_race(struct mddev *m)
{
	g_thread_join(g_thread_new("racing-writer", racing_writer, m));
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
	member_fail_reads(m, slot, true);
	g_assert_cmpint(md_read(m, off, len, got), ==, (int)len);
	member_fail_reads(m, slot, false);
	mirror_read_error_hook = NULL;
	g_assert_cmpint(racing_write.runs, ==, 1);
	g_assert_false(atomic_load(&m->slots[slot]->flags) & RDEV_FAULTY);
	g_assert_cmpuint(atomic_load(&m->slots[slot]->corrected_errors), >, 0);
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
	atomic_int reads;         /* writers start once readers are reading */
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

	while (atomic_load(&w->st->reads) < 2)
		g_thread_yield();
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
		atomic_fetch_add(&st->reads, 1);
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

	while (st->sync_from < st->sync_to && atomic_load(&st->writers_left))
		sync_range(st, ACTION_RESYNC);
	return NULL;
}

void stress_read_errors(struct mddev *m, int slot, uint64_t first,
			uint64_t sync_from, uint64_t sync_to)
{
	struct stress st = { m, first, sync_from, sync_to, STRESS_WRITERS, 0 };
	struct writer w[STRESS_WRITERS];
	GThread *t[STRESS_WRITERS + 3];
	char got[STRESS_RANGE * 512], want[STRESS_RANGE * 512];

	for (int i = 0; i < STRESS_WRITERS; i++)
		write_version(m, first + (uint64_t)i * STRESS_RANGE, 0);
	/* Every read of slot fails and is fixed: past any limit. */
	atomic_store(&m->max_corr_read_errors, UINT_MAX);
	member_fail_reads(m, slot, true);
	for (int i = 0; i < STRESS_WRITERS; i++) {
		w[i] = (struct writer){ &st, i };
		t[i] = g_thread_new("writer", writer, &w[i]);
	}
	t[STRESS_WRITERS] = g_thread_new("reader", reader, &st);
	t[STRESS_WRITERS + 1] = g_thread_new("reader", reader, &st);
	t[STRESS_WRITERS + 2] = g_thread_new("syncer", syncer, &st);
	for (int i = 0; i < STRESS_WRITERS + 3; i++)
		g_thread_join(t[i]);
	member_fail_reads(m, slot, false);
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
