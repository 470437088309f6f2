/* Member IO: a batch whose io_uring submit or wait fails still completes
 * every mio exactly once, and leaves nothing in the ring for the next; a
 * member IO layer sees every kind of IO of its member. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include "../src/raid.h"

#define MEMBERS 4
#define LEN 65536

static struct md_rdev *tmp_rdev(void)
{
	struct md_rdev *r = g_new0(struct md_rdev, 1);

	r->fd = open("/tmp", O_TMPFILE | O_RDWR, 0600);
	g_assert_cmpint(r->fd, >=, 0);
	r->data_offset = 8;
	return r;
}

/* One batch over every member; each res starts as a value no IO returns. */
static int batch(struct md_rdev **r, bool write, uint8_t (*buf)[LEN],
		 struct mio *v)
{
	for (int i = 0; i < MEMBERS; i++)
		v[i] = (struct mio){ .rdev = r[i], .write = write, .off = 4096,
				     .buf = buf[i], .len = LEN, .res = 1 };
	return mio_run(v, MEMBERS);
}

/* Write a pattern with the seam armed, read it back in the next batch. */
static void round_trip(atomic_uint *seam)
{
	static uint8_t out[MEMBERS][LEN], in[MEMBERS][LEN];
	struct md_rdev *r[MEMBERS];
	struct mio w[MEMBERS], rd[MEMBERS];

	for (int i = 0; i < MEMBERS; i++) {
		r[i] = tmp_rdev();
		memset(out[i], 'a' + i, LEN);
	}
	atomic_store(seam, 1);
	g_assert_cmpint(batch(r, true, out, w), ==, 0);
	g_assert_cmpuint(atomic_load(seam), ==, 0);
	for (int round = 0; round < 3; round++) {
		memset(in, 0, sizeof(in));
		g_assert_cmpint(batch(r, false, in, rd), ==, 0);
		for (int i = 0; i < MEMBERS; i++) {
			g_assert_cmpint(w[i].res, ==, 0);
			g_assert_cmpint(rd[i].res, ==, 0);
			g_assert_cmpmem(in[i], LEN, out[i], LEN);
		}
	}
	for (int i = 0; i < MEMBERS; i++) {
		close(r[i]->fd);
		g_free(r[i]);
	}
}

static void test_wait_fails(void)
{
	round_trip(&mio_fail_waits);
}

static void test_submit_fails(void)
{
	round_trip(&mio_fail_submits);
}

/* A layer that counts what passes through it to the plain file. */
struct counting {
	struct member_io io;
	unsigned reads, writes, syncs, punches;
};

static ssize_t count_pread(struct member_io *io, struct md_rdev *rdev,
			   void *buf, size_t len, uint64_t pos)
{
	((struct counting *)io)->reads++;
	return member_pread(io->lower, rdev, buf, len, pos);
}

static ssize_t count_pwrite(struct member_io *io, struct md_rdev *rdev,
			    const void *buf, size_t len, uint64_t pos)
{
	((struct counting *)io)->writes++;
	return member_pwrite(io->lower, rdev, buf, len, pos);
}

static int count_fdatasync(struct member_io *io, struct md_rdev *rdev)
{
	((struct counting *)io)->syncs++;
	return member_fdatasync(io->lower, rdev);
}

static int count_punch(struct member_io *io, struct md_rdev *rdev,
		       uint64_t pos, uint64_t len)
{
	((struct counting *)io)->punches++;
	return member_punch(io->lower, rdev, pos, len);
}

static void count_free(struct member_io *io)
{
	g_free(io);
}

static const struct member_io_ops counting_ops = {
	.pread = count_pread, .pwrite = count_pwrite,
	.fdatasync = count_fdatasync, .punch = count_punch, .free = count_free,
};

/* With a layer on one member, a whole batch, flushes and discards go
 * through it, and the data lands where io_uring would have put it. */
static void test_layer(void)
{
	static uint8_t out[MEMBERS][LEN], in[MEMBERS][LEN];
	struct md_rdev *r[MEMBERS];
	struct mio v[MEMBERS];
	struct counting *c = g_new0(struct counting, 1);

	for (int i = 0; i < MEMBERS; i++) {
		r[i] = tmp_rdev();
		memset(out[i], 'k' + i, LEN);
	}
	c->io.ops = &counting_ops;
	rdev_push_io(r[1], &c->io);
	g_assert_cmpint(batch(r, true, out, v), ==, 0);
	g_assert_cmpint(batch(r, false, in, v), ==, 0);
	g_assert_cmpmem(in, sizeof(in), out, sizeof(out));
	g_assert_cmpint(rdev_flush(r[1]), ==, 0);
	g_assert_cmpint(rdev_discard(r[1], 4096, 4096), ==, 0);
	g_assert_cmpuint(c->reads, ==, 1);
	g_assert_cmpuint(c->writes, ==, 1);
	g_assert_cmpuint(c->syncs, ==, 1);
	g_assert_cmpuint(c->punches, ==, 1);
	uint8_t zero[4096] = { 0 };
	g_assert_cmpint(pread(r[1]->fd, in[1], 4096, (8 << 9) + 4096), ==, 4096);
	g_assert_cmpmem(in[1], 4096, zero, 4096);
	for (int i = 0; i < MEMBERS; i++)
		rdev_close(r[i]);
}

/* tmpfs has no RWF_NOWAIT IO: io_uring would pass each IO to a worker.
 * A member that says so has its batches run in the caller, the ring (its
 * submit seam armed) untouched. */
static void test_worker_io(void)
{
	static uint8_t out[MEMBERS][LEN], in[MEMBERS][LEN];
	struct md_rdev *r[MEMBERS];
	struct mio v[MEMBERS];
	struct statfs st;

	if (statfs("/dev/shm", &st) < 0 || st.f_type != TMPFS_MAGIC) {
		g_test_skip("no tmpfs at /dev/shm");
		return;
	}
	int fd = open("/dev/shm", O_TMPFILE | O_RDWR, 0600);
	g_assert_cmpint(fd, >=, 0);
	g_assert_false(member_takes_nowait(fd));
	close(fd);
	for (int i = 0; i < MEMBERS; i++) {
		r[i] = tmp_rdev();
		r[i]->worker_io = true;
		memset(out[i], 'p' + i, LEN);
	}
	atomic_store(&mio_fail_submits, 1);
	g_assert_cmpint(batch(r, true, out, v), ==, 0);
	g_assert_cmpint(batch(r, false, in, v), ==, 0);
	g_assert_cmpmem(in, sizeof(in), out, sizeof(out));
	g_assert_cmpuint(atomic_load(&mio_fail_submits), ==, 1);
	atomic_store(&mio_fail_submits, 0);
	for (int i = 0; i < MEMBERS; i++)
		rdev_close(r[i]);
}

/* A flush covers the writes done when it began: one in the same batch is
 * the next flush's. */
static void test_written(void)
{
	static uint8_t buf[4096];
	struct md_rdev *r = tmp_rdev();
	struct mio w = { .rdev = r, .write = true, .buf = buf, .len = sizeof(buf) };
	struct mio f = { .rdev = r, .flush = true };

	g_assert_false(rdev_written(r));
	g_assert_cmpint(mio_run(&w, 1), ==, 0);
	g_assert_true(rdev_written(r));
	g_assert_cmpint(mio_run(&f, 1), ==, 0);
	g_assert_false(rdev_written(r));
	struct mio both[2] = { w, f };
	g_assert_cmpint(mio_run(both, 2), ==, 0);
	g_assert_true(rdev_written(r));
	g_assert_cmpint(mio_run(&f, 1), ==, 0);
	g_assert_false(rdev_written(r));
	rdev_close(r);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/member/wait-fails", test_wait_fails);
	g_test_add_func("/member/submit-fails", test_submit_fails);
	g_test_add_func("/member/layer", test_layer);
	g_test_add_func("/member/worker-io", test_worker_io);
	g_test_add_func("/member/written", test_written);
	return g_test_run();
}
