/* The core's data safety: going clean, fsync and md's error handling, on
 * unit-test arrays whose members carry real v1.2 superblocks. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "testlib.h"
#include "../src/ctl.h"

static struct mddev *make_array(int level, int n)
{
	uint64_t sectors[8];

	for (int i = 0; i < n; i++)
		sectors[i] = 4 * 128 + 5;
	return test_array(level, level == 5 ? 2 : 0, 128, n, sectors);
}

static struct md_rdev *member(struct mddev *m, int i)
{
	return g_ptr_array_index(m->rdevs, i);
}

/* Member i's superblock as it is on the file. */
static void load_sb(struct mddev *m, int i, struct md_sb *sb)
{
	char err[256];

	g_assert_cmpint(md_sb_load(member(m, i)->fd, sb, err, sizeof(err)), ==, 0);
}

/* Start from clean superblocks with events 10, as an assembled array. */
static void start_clean(struct mddev *m)
{
	m->events = 9;
	m->in_sync = true;
	g_assert_cmpint(md_update_sb(m), ==, 0);
}

/* Replace member i's fd: writes_fail makes it read-only, else it becomes
 * /dev/null, which takes writes but cannot fdatasync.  Returns the saved
 * fd for put_back_member. */
static int reopen_member(struct mddev *m, int i, bool writes_fail)
{
	struct md_rdev *r = member(m, i);
	char path[64];
	int saved = dup(r->fd), fd;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", r->fd);
	fd = writes_fail ? open(path, O_RDONLY) : open("/dev/null", O_RDWR);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(dup2(fd, r->fd), ==, r->fd);
	close(fd);
	return saved;
}

static void put_back_member(struct mddev *m, int i, int saved)
{
	g_assert_cmpint(dup2(saved, member(m, i)->fd), >=, 0);
	close(saved);
}

/* md_error and a failing superblock write warn. */
static void warnings_fatal(bool fatal)
{
	g_log_set_always_fatal(G_LOG_FATAL_MASK |
			       (fatal ? G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL : 0));
}

static void wait_state(struct mddev *m, const char *state)
{
	gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

	while (strcmp(md_array_state(m), state) && g_get_monotonic_time() < deadline)
		g_usleep(2000);
	g_assert_cmpstr(md_array_state(m), ==, state);
}

/* ---- going clean ---- */

/* Dirty and then clean again with nothing else changed: the clean
 * superblocks carry the events of the clean ones before (md's
 * can_decrease_events), so a member the clean write misses stays the
 * freshest and says dirty. */
static void test_clean_events(void)
{
	struct mddev *m = make_array(1, 2);
	struct md_sb sb;

	start_clean(m);
	load_sb(m, 0, &sb);
	g_assert_cmpuint(sb.events, ==, 10);
	g_assert_cmpuint(sb.resync_offset, ==, MD_MAX_SECTOR);
	m->safe_mode_delay_ms = 1;
	md_safemode_start(m);

	for (int round = 0; round < 2; round++) {
		/* A write in progress keeps safe mode off. */
		g_assert_cmpint(md_write_start(m), ==, 0);
		for (int i = 0; i < 2; i++) {
			load_sb(m, i, &sb);
			g_assert_cmpuint(sb.events, ==, 11);
			g_assert_cmpuint(sb.resync_offset, ==, 0);
		}
		md_write_end(m);
		wait_state(m, "clean");
		for (int i = 0; i < 2; i++) {
			load_sb(m, i, &sb);
			g_assert_cmpuint(sb.events, ==, 10);
			g_assert_cmpuint(sb.resync_offset, ==, MD_MAX_SECTOR);
		}
	}
	md_stop(m);
	md_free(m);
}

static struct md_rdev *no_flush_member;
static int clean_sb_writes;

/* Any clean superblock written must come after every member's flush: the
 * member that cannot flush is out of the array by then. */
static void check_clean_write(struct mddev *m, struct md_rdev *rdev)
{
	(void)m;
	if (rdev->sb.resync_offset != MD_MAX_SECTOR)
		return;
	clean_sb_writes++;
	g_assert_true(atomic_load(&no_flush_member->flags) & RDEV_FAULTY);
	g_assert_cmphex(rdev->sb.dev_roles[no_flush_member->desc_nr], ==,
			MD_ROLE_FAULTY);
}

/* Going clean flushes every member's data before the first clean
 * superblock: the last member cannot flush, and no superblock may say
 * clean while it still counts as in sync. */
static void test_clean_after_all_flushed(void)
{
	struct mddev *m = make_array(1, 3);
	char buf[4096] = "data";

	start_clean(m);
	g_assert_cmpint(md_write(m, 0, sizeof(buf), buf), ==, sizeof(buf));
	int saved = reopen_member(m, 2, false);
	no_flush_member = member(m, 2);
	md_sb_write_hook = check_clean_write;
	clean_sb_writes = 0;
	warnings_fatal(false);

	pthread_mutex_lock(&m->sb_lock);
	m->in_sync = true;    /* what safe mode does, and md_update_sb writes */
	pthread_mutex_unlock(&m->sb_lock);
	g_assert_cmpint(md_update_sb(m), ==, 0);

	warnings_fatal(true);
	md_sb_write_hook = NULL;
	g_assert_cmpint(clean_sb_writes, ==, 2);
	g_assert_cmpint(atomic_load(&m->degraded), ==, 1);
	put_back_member(m, 2, saved);
	md_free(m);
}

/* ---- superblocks vouch only for durable data ---- */

/* A member IO layer counting the writes since the member's last flush. */
struct unflushed {
	struct member_io io;
	atomic_int writes;
};

static ssize_t unflushed_pread(struct member_io *io, struct md_rdev *rdev,
			       void *buf, size_t len, uint64_t pos)
{
	return member_pread(io->lower, rdev, buf, len, pos);
}

static ssize_t unflushed_pwrite(struct member_io *io, struct md_rdev *rdev,
				const void *buf, size_t len, uint64_t pos)
{
	atomic_fetch_add(&((struct unflushed *)io)->writes, 1);
	return member_pwrite(io->lower, rdev, buf, len, pos);
}

static int unflushed_punch(struct member_io *io, struct md_rdev *rdev,
			   uint64_t pos, uint64_t len)
{
	atomic_fetch_add(&((struct unflushed *)io)->writes, 1);
	return member_punch(io->lower, rdev, pos, len);
}

static int unflushed_fdatasync(struct member_io *io, struct md_rdev *rdev)
{
	struct unflushed *u = (struct unflushed *)io;
	int seen = atomic_load(&u->writes);
	int r = member_fdatasync(io->lower, rdev);

	if (r == 0)
		atomic_fetch_sub(&u->writes, seen);
	return r;
}

static const struct member_io_ops unflushed_ops = {
	.pread = unflushed_pread,
	.pwrite = unflushed_pwrite,
	.fdatasync = unflushed_fdatasync,
	.punch = unflushed_punch,
	.free = (void (*)(struct member_io *))g_free,
};

static void track_unflushed(struct mddev *m)
{
	for (guint i = 0; i < m->rdevs->len; i++) {
		struct unflushed *u = g_new0(struct unflushed, 1);
		u->io.ops = &unflushed_ops;
		rdev_push_io(member(m, i), &u->io);
	}
}

static int sb_writes;

/* Whatever a superblock records (progress, clean) must not outrun the
 * data on any member: every one has flushed before it is written. */
static void check_all_flushed(struct mddev *m, struct md_rdev *rdev)
{
	(void)rdev;
	sb_writes++;
	for (guint i = 0; i < m->rdevs->len; i++) {
		struct member_io *io = atomic_load(&member(m, i)->io);
		g_assert_true(io->ops == &unflushed_ops);
		g_assert_cmpint(atomic_load(&((struct unflushed *)io)->writes), ==, 0);
	}
}

/* Start the sync thread and wait for what it owes to be done.  No safe
 * mode: going clean would flush, as it would not under writes. */
static void sync_to_the_end(struct mddev *m)
{
	gint64 deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;

	md_sync_start(m);
	while ((atomic_load(&m->sync_action) != ACTION_IDLE ||
		atomic_load(&m->degraded) || m->resync_offset != MD_MAX_SECTOR) &&
	       g_get_monotonic_time() < deadline)
		g_usleep(2000);
	g_assert_cmpint(atomic_load(&m->sync_action), ==, ACTION_IDLE);
}

/* A resync's checkpoints (resync_offset) and a recovery's
 * (recovery_offset) are written only once what the pass wrote below them
 * is durable on every member, as md's REQ_PREFLUSH superblock writes. */
static void test_progress_after_flush(gconstpointer recover)
{
	struct mddev *m = make_array(1, 2);

	start_clean(m);
	pthread_mutex_lock(&m->sb_lock);
	m->in_sync = false;      /* dirty, as under writes */
	if (recover) {
		struct md_rdev *r = member(m, 1);
		r->recovery_offset = 0;
		atomic_fetch_and(&r->flags, ~RDEV_IN_SYNC);
		atomic_fetch_add(&m->degraded, 1);
	} else {
		m->resync_offset = 0;
	}
	pthread_mutex_unlock(&m->sb_lock);
	g_assert_cmpint(md_update_sb(m), ==, 0);
	track_unflushed(m);
	md_sb_write_hook = check_all_flushed;
	sb_writes = 0;

	sync_to_the_end(m);
	g_assert_cmpint(atomic_load(&m->degraded), ==, 0);
	g_assert_cmpuint(m->resync_offset, ==, MD_MAX_SECTOR);
	md_stop(m);
	md_sb_write_hook = NULL;
	g_assert_cmpint(sb_writes, >=, 4);   /* progress, done, stop: 2 each */
	md_free(m);
}

/* ---- error handling ---- */

/* A member whose superblock cannot be written is failed, and the other
 * superblocks say so, as md's super_written does. */
static void test_sb_write_fails_member(void)
{
	struct mddev *m = make_array(1, 3);
	struct md_sb sb;

	start_clean(m);
	int saved = reopen_member(m, 1, true);
	warnings_fatal(false);
	g_assert_cmpint(md_update_sb(m), ==, 0);
	warnings_fatal(true);
	put_back_member(m, 1, saved);

	g_assert_true(atomic_load(&member(m, 1)->flags) & RDEV_FAULTY);
	g_assert_cmpint(atomic_load(&m->degraded), ==, 1);
	for (int i = 0; i < 3; i += 2) {
		load_sb(m, i, &sb);
		g_assert_cmphex(sb.dev_roles[1], ==, MD_ROLE_FAULTY);
		g_assert_cmphex(sb.dev_roles[2 - i], ==, 2 - i);
	}
	load_sb(m, 1, &sb);
	g_assert_cmpuint(sb.events, ==, 10);   /* never written again */
	md_free(m);
}

/* raid0 and linear: a member's write error breaks the array in memory
 * only (md's raid0_error): later writes fail, reads go on, and no
 * superblock is touched, so the members assemble as they were. */
static void check_broken(int level)
{
	struct mddev *m = make_array(level, 2);
	size_t len = 2 * 128 * 512;   /* a chunk on each member */
	char *buf = g_malloc(len), *got = g_malloc(len);
	struct md_sb before[2], sb;
	/* linear: the last chunk of member 0 and the first of member 1 */
	uint64_t off = level == 0 ? 0 : (4 * 128 - 128) * 512;

	start_clean(m);
	memset(buf, 'a', len);
	g_assert_cmpint(md_write(m, off, len, buf), ==, (int)len);
	for (int i = 0; i < 2; i++)
		load_sb(m, i, &before[i]);

	int saved = reopen_member(m, 1, true);
	warnings_fatal(false);
	memset(buf, 'b', len);
	g_assert_cmpint(md_write(m, off, len, buf), <, 0);
	warnings_fatal(true);
	put_back_member(m, 1, saved);   /* the error was transient */

	g_assert_cmpstr(md_array_state(m), ==, "broken");
	g_assert_false(atomic_load(&member(m, 1)->flags) & RDEV_FAULTY);
	g_assert_cmpint(atomic_load(&m->degraded), ==, 0);
	g_assert_cmpint(md_write(m, off, 512, buf), ==, -EIO);
	g_assert_cmpint(md_flush(m), ==, -EIO);
	g_assert_cmpint(md_read(m, off, len, got), ==, (int)len);
	g_assert_true(memcmp(got + len / 2, "aaaa", 4) == 0);   /* member 1 */
	for (int i = 0; i < 2; i++) {
		load_sb(m, i, &sb);
		g_assert_cmpuint(sb.events, ==, before[i].events);
		g_assert_cmphex(sb.dev_roles[0], ==, 0);
		g_assert_cmphex(sb.dev_roles[1], ==, 1);
	}
	g_free(buf);
	g_free(got);
	md_free(m);
}

static void test_raid0_error(void)
{
	check_broken(0);
}

static void test_linear_error(void)
{
	check_broken(MD_LEVEL_LINEAR);
}

/* raid5 holds a partial stripe back; raid5d's write-back of it then
 * cannot mark the array dirty (no superblock can be written) and the data
 * is lost.  The next fsync must say so, the members long since fine. */
static void test_raid5_lost_writeback(void)
{
	struct mddev *m = make_array(5, 4);
	size_t len = 128 * 512;   /* one chunk of three: held back */
	char *buf = g_malloc(len);
	int saved[4];

	memset(buf, 'x', len);
	g_assert_cmpint(md_write(m, 0, len, buf), ==, (int)len);
	pthread_mutex_lock(&m->sb_lock);
	m->in_sync = true;    /* safe mode: the held-back data is not written */
	pthread_mutex_unlock(&m->sb_lock);
	warnings_fatal(false);
	for (int i = 0; i < 4; i++)
		saved[i] = reopen_member(m, i, true);

	/* raid5d's write-back, up to its md_write_end */
	gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
	bool done = false;
	while (!done && g_get_monotonic_time() < deadline) {
		g_usleep(2000);
		pthread_mutex_lock(&m->sb_lock);
		done = !m->in_sync && !m->writes_pending;
		pthread_mutex_unlock(&m->sb_lock);
	}
	g_assert_true(done);
	for (int i = 0; i < 4; i++)
		put_back_member(m, i, saved[i]);
	g_assert_cmpint(md_flush(m), ==, -EIO);
	g_assert_cmpint(md_flush(m), ==, -EIO);
	warnings_fatal(true);
	g_free(buf);
	md_free(m);
}

/* ---- fsync ---- */

struct held_write {
	struct mddev *m;
	void *page;
	int r;
	atomic_bool done;
};

static gpointer write_thread(gpointer arg)
{
	struct held_write *w = arg;

	w->r = md_write(w->m, 0, 4096, w->page);
	atomic_store(&w->done, true);
	return NULL;
}

/* A write still in flight while an fsync runs is not covered by it: the
 * next fsync must reach the members.  The write is held in flight on a
 * page it copies from, which userfaultfd keeps missing until the first
 * fsync has returned. */
static void test_flush_racing_write(void)
{
	int uffd = syscall(SYS_userfaultfd, O_CLOEXEC);
	if (uffd < 0) {
		g_test_skip("no userfaultfd");
		return;
	}
	struct uffdio_api api = { .api = UFFD_API };
	g_assert_cmpint(ioctl(uffd, UFFDIO_API, &api), ==, 0);
	char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	g_assert_true(page != MAP_FAILED);
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)page, .len = 4096 },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	g_assert_cmpint(ioctl(uffd, UFFDIO_REGISTER, &reg), ==, 0);

	uint64_t sectors[1] = { 1024 };
	struct mddev *m = test_array(MD_LEVEL_LINEAR, 0, 0, 1, sectors);
	struct held_write w = { .m = m, .page = page };
	GThread *t = g_thread_new("writer", write_thread, &w);

	struct uffd_msg msg;   /* the write is copying from the page now */
	g_assert_cmpint(read(uffd, &msg, sizeof(msg)), ==, sizeof(msg));
	g_assert_cmpint(msg.event, ==, UFFD_EVENT_PAGEFAULT);
	g_assert_cmpint(md_flush(m), ==, 0);

	static char data[4096] = "the data";
	struct uffdio_copy copy = { .dst = (uintptr_t)page, .src = (uintptr_t)data,
				    .len = 4096 };
	g_assert_cmpint(ioctl(uffd, UFFDIO_COPY, &copy), ==, 0);
	g_thread_join(t);
	g_assert_cmpint(w.r, ==, 4096);

	/* The member cannot flush now: only an fsync that tries sees it. */
	int saved = reopen_member(m, 0, false);
	warnings_fatal(false);
	g_assert_cmpint(md_flush(m), ==, -EIO);
	warnings_fatal(true);
	put_back_member(m, 0, saved);
	md_free(m);
	munmap(page, 4096);
	close(uffd);
}

/* Nothing written since the last fsync: no member flush at all. */
static void test_flush_idle(void)
{
	struct mddev *m = make_array(1, 2);
	char buf[4096] = "data";

	g_assert_cmpint(md_write(m, 0, sizeof(buf), buf), ==, sizeof(buf));
	g_assert_cmpint(md_flush(m), ==, 0);
	int saved = reopen_member(m, 0, false);
	g_assert_cmpint(md_flush(m), ==, 0);
	put_back_member(m, 0, saved);
	md_free(m);
}

/* After a power cut every member IO fails, and the errors still fail the
 * members in memory: a raid5 write ends with EIO once too many have
 * failed, rather than retrying from redundancy for ever. */
static void test_power_off_write_ends(void)
{
	struct mddev *m = make_array(5, 3);
	static char page[4096] = "data";
	struct held_write w = { .m = m, .page = page };
	int saved[3];

	start_clean(m);
	g_assert_cmpint(md_write_start(m), ==, 0);   /* dirty before the cut */
	atomic_store(&m->power_off, true);
	for (int i = 0; i < 3; i++)
		saved[i] = reopen_member(m, i, true);
	GThread *t = g_thread_new("writer", write_thread, &w);
	gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
	while (!atomic_load(&w.done) && g_get_monotonic_time() < deadline)
		g_usleep(2000);
	g_assert_true(atomic_load(&w.done));
	g_thread_join(t);
	g_assert_cmpint(w.r, ==, -EIO);
	md_write_end(m);
	for (int i = 0; i < 3; i++)
		put_back_member(m, i, saved[i]);
	md_free(m);
}

/* ---- a member failing under a sync ---- */

/* Member i vanishes after ios more IOs (its fault/fail_after), as a disk
 * pulled in the middle of a pass. */
static void vanish_after(struct mddev *m, int i, int ios)
{
	char val[16];
	const struct md_attr *a = rdev_fault_attrs;

	while (strcmp(a->name, "fail_after"))
		a++;
	snprintf(val, sizeof(val), "%d", ios);
	g_assert_cmpint(a->store(m, member(m, i), val), ==, 0);
}

/* Sync windows enough that a member can fail half-way (2048 sectors each). */
#define SYNC_TEST_SECTORS (8 * 2048)

static struct mddev *sync_test_array(int level, int n)
{
	uint64_t sectors[8];

	for (int i = 0; i < n; i++)
		sectors[i] = SYNC_TEST_SECTORS;
	/* raid5's left-symmetric, raid10's near 2 */
	struct mddev *m = test_array(level, level == 10 ? 0x102 : 2, 128, n,
				     sectors);
	start_clean(m);
	return m;
}

/* Start the sync thread and wait until it has nothing left to run. */
static void sync_until_idle(struct mddev *m)
{
	gint64 deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;

	g_usleep(1000);
	while (atomic_load(&m->sync_action) != ACTION_IDLE &&
	       g_get_monotonic_time() < deadline)
		g_usleep(2000);
	g_assert_cmpint(atomic_load(&m->sync_action), ==, ACTION_IDLE);
}

/* Member slot vanishes after ios more IOs; the sync thread runs what the
 * array owes (and action, if a check) until it is idle. */
static void sync_while_vanishing(struct mddev *m, int slot, int ios,
				 enum sync_action action)
{
	vanish_after(m, slot, ios);
	warnings_fatal(false);
	md_sync_start(m);
	if (action == ACTION_CHECK)
		g_assert_cmpint(md_sync_request_action(m, action), ==, 0);
	sync_until_idle(m);
	warnings_fatal(true);
}

static void fill_members(struct mddev *m, int n)
{
	size_t len = SYNC_TEST_SECTORS * 512;
	char *buf = g_malloc(len);

	for (int i = 0; i < n; i++) {
		for (size_t k = 0; k < len; k++)
			buf[k] = (char)(k / 512 * 31 + i);
		member_write(m, i, 0, buf, len);
	}
	g_free(buf);
}

/* The whole array written with a pattern, held back data included;
 * returns the pattern. */
static char *fill_array(struct mddev *m)
{
	size_t len = (size_t)m->array_sectors * 512;
	char *data = g_malloc(len);

	for (size_t k = 0; k < len; k++)
		data[k] = (char)(k / 4096 * 13 + 1);
	g_assert_cmpint(md_write(m, 0, len, data), ==, (int)len);
	if (m->pers->writeback)
		m->pers->writeback(m);
	return data;
}

/* The array still reads back data; then it is stopped and freed. */
static void stop_holding(struct mddev *m, char *data)
{
	size_t len = (size_t)m->array_sectors * 512;
	char *got = g_malloc(len);

	g_assert_cmpint(md_read(m, 0, len, got), ==, (int)len);
	g_assert_true(memcmp(got, data, len) == 0);
	md_stop(m);
	md_free(m);
	g_free(got);
	g_free(data);
}

static void assert_members_equal(struct mddev *m, int a, int b)
{
	size_t len = SYNC_TEST_SECTORS * 512;
	char *x = g_malloc(len), *y = g_malloc(len);

	member_read(m, a, 0, x, len);
	member_read(m, b, 0, y, len);
	g_assert_true(memcmp(x, y, len) == 0);
	g_free(x);
	g_free(y);
}

static void assert_recorded_faulty(struct mddev *m, int survivor, int failed)
{
	struct md_sb sb;

	g_assert_true(atomic_load(&member(m, failed)->flags) & RDEV_FAULTY);
	load_sb(m, survivor, &sb);
	g_assert_cmphex(sb.dev_roles[failed], ==, MD_ROLE_FAULTY);
	g_assert_cmpuint(sb.events, >, 10);
}

/* A dirty raid1 of n mirrors resyncs while mirror slot vanishes. */
static struct mddev *resync_losing_mirror(int n, int slot)
{
	struct mddev *m = sync_test_array(1, n);

	fill_members(m, n);
	m->resync_offset = 0;
	g_assert_cmpint(md_update_sb(m), ==, 0);
	sync_while_vanishing(m, slot, 3, ACTION_RESYNC);
	assert_recorded_faulty(m, slot ? 0 : 1, slot);
	return m;
}

/* raid1 over three mirrors, dirty: the resync's source mirror vanishes
 * half-way.  As md (the member failure interrupts the pass, md's
 * remove_spares takes the faulty member out and the resync starts again
 * from its checkpoint) the resync goes on from the next mirror and ends:
 * the two left agree and the array is in sync. */
static void test_resync_member_fails(void)
{
	struct mddev *m = resync_losing_mirror(3, 0);

	g_assert_cmpint(atomic_load(&m->degraded), ==, 1);
	g_assert_cmpuint(m->resync_offset, ==, MD_MAX_SECTOR);
	g_assert_cmpint(m->last_sync_action, ==, ACTION_RESYNC);
	assert_members_equal(m, 1, 2);
	md_stop(m);
	md_free(m);
}

/* raid1 over two mirrors: with one gone nothing is left to resync
 * against, and the resync stops where it was, owed still. */
static void test_resync_stops_without_redundancy(void)
{
	struct mddev *m = resync_losing_mirror(2, 1);

	g_assert_cmpuint(m->resync_offset, <, SYNC_TEST_SECTORS);
	md_stop(m);
	md_free(m);
}

/* A check is md's requested sync: a member failing interrupts it and it
 * is not started again (md_reap_sync_thread forgets it).  It has counted
 * no mismatch for the member's errors. */
static void test_check_member_fails(gconstpointer level)
{
	int n = GPOINTER_TO_INT(level) == 1 ? 3 : 5;
	struct mddev *m = sync_test_array(GPOINTER_TO_INT(level), n);
	char *data = fill_array(m);

	sync_while_vanishing(m, 1, 3, ACTION_CHECK);
	assert_recorded_faulty(m, 0, 1);
	g_assert_cmpint(m->last_sync_action, ==, ACTION_CHECK);
	g_assert_cmpuint(atomic_load(&m->resync_mismatches), ==, 0);
	stop_holding(m, data);
}

/* raid6 recovering a member when another vanishes: two missing is within
 * its redundancy, so the recovery goes on and the recovered member holds
 * the data. */
static void test_recovery_member_fails(void)
{
	struct mddev *m = sync_test_array(6, 5);
	char *data = fill_array(m);
	struct md_rdev *r = member(m, 4);
	pthread_mutex_lock(&m->sb_lock);
	r->recovery_offset = 0;
	atomic_fetch_and(&r->flags, ~RDEV_IN_SYNC);
	atomic_fetch_add(&m->degraded, 1);
	pthread_mutex_unlock(&m->sb_lock);
	char *junk = g_malloc0(SYNC_TEST_SECTORS * 512);
	member_write(m, 4, 0, junk, SYNC_TEST_SECTORS * 512);
	g_free(junk);
	g_assert_cmpint(md_update_sb(m), ==, 0);
	sync_while_vanishing(m, 2, 3, ACTION_RECOVER);
	assert_recorded_faulty(m, 0, 2);
	g_assert_true(rdev_in_sync(r));
	g_assert_cmpint(atomic_load(&m->degraded), ==, 1);
	g_assert_cmpint(m->last_sync_action, ==, ACTION_RECOVER);
	stop_holding(m, data);
}

/* ---- md_do_sync's speed control, on made-up clocks ---- */

#define SEC G_USEC_PER_SEC
#define T0 (1000 * SEC)
#define MIB_SECTORS 2048

/* An array as the throttle sees it: limits and the foreground count. */
static void throttle_start(struct mddev *m, struct sync_state *st,
			   unsigned min, unsigned max)
{
	memset(m, 0, sizeof(*m));
	m->sync_speed_min = min;
	m->sync_speed_max = max;
	m->dev_sectors = 1ull << 40;
	md_sync_marks_init(m, st, 0, T0);
}

/* Idle, a sync runs as fast as it can up to sync_speed_max: 1 GiB within
 * a tenth of a second goes on at 20 GiB/s allowed. */
static void test_throttle_idle_full_speed(void)
{
	struct mddev m;
	struct sync_state st;

	throttle_start(&m, &st, 0, 20u << 20);
	for (uint64_t mib = 1; mib <= 1024; mib++)
		g_assert_cmpint(md_sync_delay(&m, &st, mib * MIB_SECTORS,
					      T0 + SEC / 10), ==, 0);
}

/* Above sync_speed_max it waits until the pass is back at that rate. */
static void test_throttle_max(void)
{
	struct mddev m;
	struct sync_state st;

	throttle_start(&m, &st, 0, 1024);          /* 1 MiB/s */
	g_assert_cmpint(md_sync_delay(&m, &st, 4 * MIB_SECTORS, T0), ==, 4 * SEC);
	g_assert_cmpint(md_sync_delay(&m, &st, 4 * MIB_SECTORS, T0 + 3 * SEC),
			==, SEC);
	g_assert_cmpint(md_sync_delay(&m, &st, 4 * MIB_SECTORS, T0 + 4 * SEC),
			==, 0);
	/* "system" (0) is md's speed_limit_max. */
	throttle_start(&m, &st, 0, 0);
	gint64 d = md_sync_delay(&m, &st, 1000 * MIB_SECTORS, T0);
	g_assert_cmpint(d, ==, (gint64)1000 * 1024 * SEC / MD_SPEED_MAX_DEFAULT);
}

/* Foreground IO since the last look (more than md's 64 sectors) makes a
 * sync above sync_speed_min stand aside; once none comes, it goes on. */
static void test_throttle_yields_to_foreground(void)
{
	struct mddev m;
	struct sync_state st;
	uint64_t pos = 100 * MIB_SECTORS;    /* 100 MiB in a second */

	throttle_start(&m, &st, 0, 1u << 30);
	atomic_fetch_add(&m.fg_sectors, 8);
	g_assert_cmpint(md_sync_delay(&m, &st, pos, T0 + SEC), ==, 0);
	atomic_fetch_add(&m.fg_sectors, 64);      /* 72 since the start */
	gint64 d = md_sync_delay(&m, &st, pos, T0 + SEC);
	g_assert_cmpint(d, >, 0);
	/* Nothing new since it looked: idle again. */
	g_assert_cmpint(md_sync_delay(&m, &st, pos, T0 + SEC + d), ==, 0);
	atomic_fetch_add(&m.fg_sectors, 4096);
	g_assert_cmpint(md_sync_delay(&m, &st, pos, T0 + SEC + d), >, 0);
}

/* At or below sync_speed_min the sync goes on whatever the foreground
 * does: 1000 KiB/s (md's default) over the marks is its floor. */
static void test_throttle_min_floor(void)
{
	struct mddev m;
	struct sync_state st;

	throttle_start(&m, &st, 0, 1u << 30);
	/* 9 seconds, 8 MiB: md's currspeed 8192 / (9 + 1) + 1 = 820 KiB/s. */
	atomic_fetch_add(&m.fg_sectors, 1 << 20);
	g_assert_cmpint(md_sync_delay(&m, &st, 8 * MIB_SECTORS, T0 + 2 * SEC),
			>, 0);
	atomic_fetch_add(&m.fg_sectors, 1 << 20);
	g_assert_cmpint(md_sync_delay(&m, &st, 8 * MIB_SECTORS, T0 + 9 * SEC),
			==, 0);
	/* A local floor of 500 KiB/s: the same pass is above it. */
	m.sync_speed_min = 500;
	atomic_fetch_add(&m.fg_sectors, 1 << 20);
	g_assert_cmpint(md_sync_delay(&m, &st, 8 * MIB_SECTORS, T0 + 9 * SEC),
			>, 0);
}

/* The marks move every 3 s, so under steady foreground IO the speed over
 * the last ones falls back to sync_speed_min: a burst at the start is
 * forgotten within half a minute, and the sync goes on at the floor. */
static void test_throttle_marks_forget(void)
{
	struct mddev m;
	struct sync_state st;
	uint64_t pos = 2048 * MIB_SECTORS;       /* 2 GiB at once, idle */
	gint64 now = T0;

	throttle_start(&m, &st, 0, 1u << 30);
	g_assert_cmpint(md_sync_delay(&m, &st, pos, now + SEC / 10), ==, 0);
	int windows = 0;
	for (now = T0 + SEC; now < T0 + 60 * SEC; now += SEC) {
		atomic_fetch_add(&m.fg_sectors, 1 << 12);
		if (md_sync_delay(&m, &st, pos, now) == 0) {
			pos += MIB_SECTORS;      /* one window */
			windows++;
		}
	}
	/* Nothing for about 30 s, then about one MiB a second (the floor). */
	g_assert_cmpint(windows, >, 15);
	g_assert_cmpint(windows, <, 40);
	m.curr_resync = pos;
	unsigned speed = md_sync_speed(&m, now);
	g_assert_cmpuint(speed, >=, 500);
	g_assert_cmpuint(speed, <=, 1100);
}

/* Foreground writes that each wake the sync thread (llbitmap's NeedSync
 * does): 8 sectors and a broadcast of sync_cond every millisecond for
 * 300 ms, as a write load of 4K at a time. */
static gpointer waking_writer(gpointer data)
{
	struct mddev *m = data;

	for (int i = 0; i < 300; i++) {
		atomic_fetch_add(&m->fg_sectors, 8);
		pthread_mutex_lock(&m->sync_lock);
		pthread_cond_broadcast(&m->sync_cond);
		pthread_mutex_unlock(&m->sync_lock);
		g_usleep(1000);
	}
	return NULL;
}

/* A sync above the floor stands aside for the whole of each delay, however
 * often it is woken: looked at again a moment after a wakeup, the array
 * seemed idle (a write or two since), and the sync ran at full speed
 * under the writes. */
static void test_throttle_waits_out_wakeups(void)
{
	struct mddev m;
	struct sync_state st;

	throttle_start(&m, &st, 0, 1u << 30);
	pthread_mutex_init(&m.sync_lock, NULL);
	md_cond_init(&m.sync_cond);
	m.sync_action = ACTION_RESYNC;
	gint64 t0 = g_get_monotonic_time();
	md_sync_marks_init(&m, &st, 0, t0);
	atomic_fetch_add(&m.fg_sectors, 4096);   /* busy from the start */
	GThread *w = g_thread_new("writer", waking_writer, &m);
	md_sync_throttle(&m, &st, 100 * MIB_SECTORS);
	gint64 waited = g_get_monotonic_time() - t0;
	g_thread_join(w);
	/* at least one delay of md_sync_delay, whole */
	g_assert_cmpint(waited, >=, 100 * 1000);
	pthread_cond_destroy(&m.sync_cond);
	pthread_mutex_destroy(&m.sync_lock);
}

/* ---- the bitmap's requests to the sync thread ---- */

static unsigned asked;

static void no_write(struct mddev *mddev, uint64_t offset, uint64_t sectors)
{
	(void)mddev, (void)offset, (void)sectors;
}

/* Every write lands in a NeedSync chunk: each asks for a sync. */
static unsigned always_wanted(struct mddev *mddev)
{
	(void)mddev;
	asked++;
	return MD_BITMAP_WANT_RESYNC;
}

/* Writes into NeedSync chunks wake the sync thread once per request, not
 * once each: every wakeup broke the throttled sync thread's wait, a
 * context switch per write.  Once the request is taken, the next write
 * asks again; the daemon sends a pending request again. */
static void test_bitmap_wakeup_once(void)
{
	static const struct bitmap_operations ops = {
		.name = "fake", .start_write = no_write, .sync_wanted = always_wanted,
	};
	struct mddev m = { .bitmap_ops = &ops };

	pthread_mutex_init(&m.sync_lock, NULL);
	md_cond_init(&m.sync_cond);
	asked = 0;
	md_bitmap_start_write(&m, 0, 8);
	g_assert_true(atomic_load(&m.recovery_needed));
	g_assert_true(atomic_load(&m.bitmap_sync_pending));
	atomic_store(&m.recovery_needed, false);
	for (int i = 1; i < 1000; i++)
		md_bitmap_start_write(&m, (uint64_t)i * 8, 8);
	g_assert_false(atomic_load(&m.recovery_needed));
	g_assert_cmpuint(asked, ==, 1);
	/* the sync thread takes the request (needed_action) */
	atomic_store(&m.bitmap_sync_pending, false);
	md_bitmap_start_write(&m, 0, 8);
	g_assert_true(atomic_load(&m.recovery_needed));
	/* the bitmap daemon, with the request still pending */
	atomic_store(&m.recovery_needed, false);
	md_bitmap_check_wanted(&m);
	g_assert_true(atomic_load(&m.recovery_needed));
	pthread_cond_destroy(&m.sync_cond);
	pthread_mutex_destroy(&m.sync_lock);
}

/* ---- member set changes (manage.c) ---- */

/* Until nothing is degraded and the sync thread is idle. */
static void wait_whole(struct mddev *m)
{
	gint64 deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;

	while ((atomic_load(&m->degraded) ||
		atomic_load(&m->sync_action) != ACTION_IDLE) &&
	       g_get_monotonic_time() < deadline)
		g_usleep(2000);
	g_assert_cmpint(atomic_load(&m->degraded), ==, 0);
	g_assert_cmpint(atomic_load(&m->sync_action), ==, ACTION_IDLE);
}

static void check_no_mismatch(struct mddev *m)
{
	g_assert_cmpint(md_sync_request_action(m, ACTION_CHECK), ==, 0);
	sync_until_idle(m);
	g_assert_cmpint(m->last_sync_action, ==, ACTION_CHECK);
	g_assert_cmpuint(atomic_load(&m->resync_mismatches), ==, 0);
}

/* md_check_recovery: a member fails with a spare present; the spare takes
 * its role, the faulty member leaves it (listed still, remembering the
 * role), the recovery runs by itself and the superblocks record it. */
static void test_spare_recovers(gconstpointer level)
{
	int n = GPOINTER_TO_INT(level) == 1 ? 2 : 4;
	struct mddev *m = sync_test_array(GPOINTER_TO_INT(level), n);
	struct md_rdev *spare = test_spare(m, SYNC_TEST_SECTORS);
	struct md_rdev *victim = member(m, 1);
	char *data = fill_array(m);
	struct md_sb sb;

	md_sync_start(m);
	warnings_fatal(false);
	md_error(m, victim);
	warnings_fatal(true);
	wait_whole(m);
	g_assert_true(m->slots[1] == spare);
	g_assert_cmpint(spare->raid_disk, ==, 1);
	g_assert_true(rdev_in_sync(spare));
	g_assert_cmpint(victim->raid_disk, ==, -1);
	g_assert_cmpint(victim->saved_raid_disk, ==, 1);
	g_assert_true(atomic_load(&victim->flags) & RDEV_FAULTY);
	load_sb(m, 0, &sb);
	g_assert_cmpuint(sb.dev_roles[spare->desc_nr], ==, 1);
	g_assert_cmphex(sb.dev_roles[victim->desc_nr], ==, MD_ROLE_FAULTY);
	load_sb(m, n, &sb);
	g_assert_false(sb.feature_map & MD_FEATURE_RECOVERY_OFFSET);
	check_no_mismatch(m);
	stop_holding(m, data);
}

/* md's state_store "remove": EBUSY for a working member, nothing changed;
 * a faulty one leaves the array and its file, its struct kept. */
static void test_hot_remove(void)
{
	struct mddev *m = sync_test_array(1, 3);
	struct md_rdev *victim = member(m, 2);
	struct md_sb sb;

	g_assert_cmpint(md_hot_remove(m, victim), ==, -EBUSY);
	g_assert_true(m->slots[2] == victim);
	g_assert_cmpuint(m->rdevs->len, ==, 3);
	warnings_fatal(false);
	md_error(m, victim);
	warnings_fatal(true);
	g_assert_cmpint(md_hot_remove(m, victim), ==, 0);
	g_assert_null(m->slots[2]);
	g_assert_cmpuint(m->rdevs->len, ==, 2);
	g_assert_cmpint(victim->fd, ==, -1);
	g_assert_true(m->removed && m->removed->len == 1);
	g_assert_cmpint(md_hot_remove(m, victim), ==, -ENODEV);
	g_assert_cmpint(md_re_add(m, victim), ==, -EBUSY);
	load_sb(m, 0, &sb);
	g_assert_cmphex(sb.dev_roles[2], ==, MD_ROLE_FAULTY);
	md_stop(m);
	md_free(m);
}

/* md's state_store "re-add": a faulty member comes back as a spare for
 * its old role and, with no bitmap, is recovered in full. */
static void test_re_add(void)
{
	struct mddev *m = sync_test_array(5, 3);
	struct md_rdev *victim = member(m, 1);
	char *data = fill_array(m);

	md_sync_start(m);
	g_assert_cmpint(md_re_add(m, victim), ==, -EBUSY);
	warnings_fatal(false);
	md_error(m, victim);
	warnings_fatal(true);
	char *junk = g_malloc0(SYNC_TEST_SECTORS * 512);
	member_write(m, 1, 0, junk, SYNC_TEST_SECTORS * 512);
	g_free(junk);
	g_assert_cmpint(md_re_add(m, victim), ==, 0);
	wait_whole(m);
	g_assert_true(m->slots[1] == victim);
	g_assert_true(rdev_in_sync(victim));
	check_no_mismatch(m);
	stop_holding(m, data);
}

struct churn_writer {
	struct mddev *m;
	uint64_t off;             /* its own 64 KiB of the array */
	atomic_bool stop;
	uint8_t last;
};

static gpointer churn_write(gpointer arg)
{
	struct churn_writer *w = arg;
	char buf[65536];

	while (!atomic_load(&w->stop)) {
		w->last++;
		memset(buf, w->last, sizeof(buf));
		g_assert_cmpint(md_write(w->m, w->off, sizeof(buf), buf), ==,
				(int)sizeof(buf));
	}
	return NULL;
}

/* Writers run on while members fail, are re-added, taken into their role
 * and recovered, again and again: every write lands on each member the
 * array holds when it runs (the member set never changes under one), so
 * the mirrors agree at the end and hold the last writes. */
static void test_churn_under_writes(void)
{
	struct mddev *m = sync_test_array(1, 3);
	struct churn_writer w[2] = { { .m = m, .off = 0 },
				     { .m = m, .off = 3 << 20 } };
	GThread *t[2];
	char got[65536];

	md_sync_start(m);
	for (int i = 0; i < 2; i++)
		t[i] = g_thread_new("writer", churn_write, &w[i]);
	warnings_fatal(false);
	for (int round = 0; round < 6; round++) {
		struct md_rdev *victim = member(m, 1 + round % 2);
		md_error(m, victim);
		g_assert_cmpint(md_re_add(m, victim), ==, 0);
		wait_whole(m);
	}
	warnings_fatal(true);
	for (int i = 0; i < 2; i++) {
		atomic_store(&w[i].stop, true);
		g_thread_join(t[i]);
		g_assert_cmpint(md_read(m, w[i].off, sizeof(got), got), ==,
				(int)sizeof(got));
		for (size_t k = 0; k < sizeof(got); k++)
			g_assert_cmpuint((uint8_t)got[k], ==, w[i].last);
	}
	check_no_mismatch(m);
	md_stop(m);
	md_free(m);
}

/* md's replace under writes: a member wants a replacement and a spare
 * becomes it (written with every write to the role, copied from the
 * member while it serves), then takes the role over; the member is
 * faulty, the array never degraded, the role's superblock entry the
 * replacement's.  The writers' last writes are on the new member. */
static void test_replace_under_writes(gconstpointer level)
{
	int lvl = GPOINTER_TO_INT(level), n = lvl == 1 || lvl == 5 ? 3 : 4;
	struct mddev *m = sync_test_array(lvl, n);
	struct md_rdev *spare = test_spare(m, SYNC_TEST_SECTORS);
	struct md_rdev *old = member(m, 1);
	struct churn_writer w[2] = { { .m = m, .off = 0 },
				     { .m = m, .off = 3 << 20 } };
	GThread *t[2];
	char got[65536];
	struct md_sb sb;

	m->sync_speed_min = MD_SPEED_MAX_DEFAULT;   /* no yielding to the writers */
	md_sync_start(m);
	for (int i = 0; i < 2; i++)
		t[i] = g_thread_new("writer", churn_write, &w[i]);
	atomic_fetch_or(&old->flags, RDEV_WANT_REPLACEMENT);
	md_wakeup_recovery(m);
	gint64 deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
	while (m->slots[1] != spare && g_get_monotonic_time() < deadline)
		g_usleep(2000);
	for (int i = 0; i < 2; i++) {
		atomic_store(&w[i].stop, true);
		g_thread_join(t[i]);
	}
	wait_whole(m);
	g_assert_true(m->slots[1] == spare);
	g_assert_null(md_replacement(m, 1));
	g_assert_true(rdev_in_sync(spare));
	g_assert_false(atomic_load(&spare->flags) & RDEV_REPLACEMENT);
	g_assert_true(atomic_load(&old->flags) & RDEV_FAULTY);
	g_assert_cmpint(atomic_load(&m->degraded), ==, 0);
	for (int i = 0; i < 2; i++) {
		g_assert_cmpint(md_read(m, w[i].off, sizeof(got), got), ==,
				(int)sizeof(got));
		for (size_t k = 0; k < sizeof(got); k++)
			g_assert_cmpuint((uint8_t)got[k], ==, w[i].last);
	}
	load_sb(m, 0, &sb);
	g_assert_cmpuint(sb.dev_roles[spare->desc_nr], ==, 1);
	g_assert_cmphex(sb.dev_roles[old->desc_nr], ==, MD_ROLE_FAULTY);
	load_sb(m, n, &sb);
	g_assert_false(sb.feature_map & (MD_FEATURE_REPLACEMENT |
					 MD_FEATURE_RECOVERY_OFFSET));
	check_no_mismatch(m);
	md_stop(m);
	md_free(m);
}

/* A slow copy of member 2 of a raid5 onto a spare under way. */
static struct mddev *replacing_array(struct md_rdev **spare, char **data)
{
	struct mddev *m = sync_test_array(5, 3);

	*spare = test_spare(m, SYNC_TEST_SECTORS);
	*data = fill_array(m);
	m->sync_speed_max = 1000;
	md_sync_start(m);
	atomic_fetch_or(&member(m, 2)->flags, RDEV_WANT_REPLACEMENT);
	md_wakeup_recovery(m);
	gint64 deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
	while (md_replacement(m, 2) != *spare && g_get_monotonic_time() < deadline)
		g_usleep(2000);
	g_assert_true(md_replacement(m, 2) == *spare);
	return m;
}

/* During the copy the replacement fails (it leaves, the member stays in
 * its role), or the member being replaced does (its replacement becomes
 * the role's recovering member, md's raid5_remove_disk, its copy lost:
 * writes since reached neither); either way the sync then runs to its
 * end and the role has one member in sync. */
static void test_fails_during_copy(gconstpointer member_fails)
{
	struct md_rdev *spare;
	char *data;
	struct mddev *m = replacing_array(&spare, &data);
	struct md_rdev *old = member(m, 2);
	struct md_rdev *victim = member_fails ? old : spare;
	struct md_rdev *holder = member_fails ? spare : old;
	gint64 deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;

	/* A checkpoint of the copy first (every 2 s), for the member's
	 * failure to take back. */
	while (!atomic_load(&spare->recovery_offset) &&
	       g_get_monotonic_time() < deadline)
		g_usleep(2000);
	g_assert_cmpuint(atomic_load(&spare->recovery_offset), >, 0);
	warnings_fatal(false);
	md_error(m, victim);
	warnings_fatal(true);
	if (member_fails)
		g_assert_cmpuint(atomic_load(&spare->recovery_offset), ==, 0);
	m->sync_speed_max = 0;
	wait_whole(m);
	g_assert_null(md_replacement(m, 2));
	g_assert_true(m->slots[2] == holder && rdev_in_sync(holder));
	g_assert_false(atomic_load(&holder->flags) & RDEV_REPLACEMENT);
	g_assert_cmpint(victim->raid_disk, ==, -1);
	check_no_mismatch(m);
	stop_holding(m, data);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/core/clean/events-roll-back", test_clean_events);
	g_test_add_func("/core/clean/after-all-flushed", test_clean_after_all_flushed);
	g_test_add_data_func("/core/sync/resync-progress-after-flush", NULL,
			     test_progress_after_flush);
	g_test_add_data_func("/core/sync/recovery-progress-after-flush", "",
			     test_progress_after_flush);
	g_test_add_func("/core/sync/resync-member-fails", test_resync_member_fails);
	g_test_add_func("/core/sync/resync-stops-without-redundancy",
			test_resync_stops_without_redundancy);
	g_test_add_data_func("/core/sync/raid1-check-member-fails",
			     GINT_TO_POINTER(1), test_check_member_fails);
	g_test_add_data_func("/core/sync/raid6-check-member-fails",
			     GINT_TO_POINTER(6), test_check_member_fails);
	g_test_add_func("/core/sync/recovery-member-fails", test_recovery_member_fails);
	g_test_add_func("/core/sync/throttle-idle-full-speed",
			test_throttle_idle_full_speed);
	g_test_add_func("/core/sync/throttle-max", test_throttle_max);
	g_test_add_func("/core/sync/throttle-yields-to-foreground",
			test_throttle_yields_to_foreground);
	g_test_add_func("/core/sync/throttle-min-floor", test_throttle_min_floor);
	g_test_add_func("/core/sync/throttle-marks-forget",
			test_throttle_marks_forget);
	g_test_add_func("/core/sync/throttle-waits-out-wakeups",
			test_throttle_waits_out_wakeups);
	g_test_add_func("/core/bitmap/wakeup-once-per-request", test_bitmap_wakeup_once);
	g_test_add_func("/core/error/sb-write-fails-member", test_sb_write_fails_member);
	g_test_add_func("/core/error/raid0-broken", test_raid0_error);
	g_test_add_func("/core/error/linear-broken", test_linear_error);
	g_test_add_func("/core/error/raid5-lost-writeback", test_raid5_lost_writeback);
	g_test_add_func("/core/flush/racing-write", test_flush_racing_write);
	g_test_add_func("/core/flush/idle", test_flush_idle);
	g_test_add_func("/core/power-off/raid5-write-ends", test_power_off_write_ends);
	g_test_add_data_func("/core/manage/raid1-spare-recovers", GINT_TO_POINTER(1),
			     test_spare_recovers);
	g_test_add_data_func("/core/manage/raid6-spare-recovers", GINT_TO_POINTER(6),
			     test_spare_recovers);
	g_test_add_func("/core/manage/hot-remove", test_hot_remove);
	g_test_add_func("/core/manage/re-add", test_re_add);
	g_test_add_func("/core/manage/churn-under-writes", test_churn_under_writes);
	g_test_add_data_func("/core/manage/raid1-replace-under-writes",
			     GINT_TO_POINTER(1), test_replace_under_writes);
	g_test_add_data_func("/core/manage/raid5-replace-under-writes",
			     GINT_TO_POINTER(5), test_replace_under_writes);
	g_test_add_data_func("/core/manage/raid6-replace-under-writes",
			     GINT_TO_POINTER(6), test_replace_under_writes);
	g_test_add_data_func("/core/manage/raid10-replace-under-writes",
			     GINT_TO_POINTER(10), test_replace_under_writes);
	g_test_add_data_func("/core/manage/replacement-fails", NULL,
			     test_fails_during_copy);
	g_test_add_data_func("/core/manage/replaced-member-fails", "",
			     test_fails_during_copy);
	return g_test_run();
}
