/* Member IO: a batch whose io_uring submit or wait fails still completes
 * every mio exactly once, and leaves nothing in the ring for the next. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
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

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/member/wait-fails", test_wait_fails);
	g_test_add_func("/member/submit-fails", test_submit_fails);
	return g_test_run();
}
