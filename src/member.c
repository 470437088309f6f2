/* Member files: opening them, their superblocks, and member IO.  A request's
 * member IO is one batch submitted together through a per-thread io_uring,
 * so a mirror write or a stripe touches every member at once. */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "raid.h"

#define RING_DEPTH 64

static void ring_free(gpointer p)
{
	io_uring_queue_exit(p);
	g_free(p);
}

static GPrivate ring_key = G_PRIVATE_INIT(ring_free);
static GPrivate ring_failed;

/* NULL when io_uring is unavailable; callers then fall back to syscalls. */
static struct io_uring *thread_ring(void)
{
	struct io_uring *ring = g_private_get(&ring_key);

	if (ring || g_private_get(&ring_failed))
		return ring;
	ring = g_new0(struct io_uring, 1);
	if (io_uring_queue_init(RING_DEPTH, ring, 0) < 0) {
		g_free(ring);
		g_private_set(&ring_failed, GINT_TO_POINTER(1));
		return NULL;
	}
	g_private_set(&ring_key, ring);
	return ring;
}

static uint64_t mio_pos(const struct mio *m)
{
	return (m->rdev->data_offset << SECTOR_SHIFT) + m->off;
}

/* Finish an IO synchronously from byte done onwards. */
static int mio_sync(struct mio *m, size_t done)
{
	if (m->flush)
		return fdatasync(m->rdev->fd) < 0 ? -errno : 0;
	while (done < m->len) {
		char *p = (char *)m->buf + done;
		ssize_t r = m->write
			? pwrite(m->rdev->fd, p, m->len - done, mio_pos(m) + done)
			: pread(m->rdev->fd, p, m->len - done, mio_pos(m) + done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EIO;   /* past the end of a member: never expected */
		done += r;
	}
	return 0;
}

static void mio_prep(struct io_uring *ring, struct mio *m)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (m->flush)
		io_uring_prep_fsync(sqe, m->rdev->fd, IORING_FSYNC_DATASYNC);
	else if (m->write)
		io_uring_prep_write(sqe, m->rdev->fd, m->buf, m->len, mio_pos(m));
	else
		io_uring_prep_read(sqe, m->rdev->fd, m->buf, m->len, mio_pos(m));
	io_uring_sqe_set_data(sqe, m);
}

static int mio_ring(struct io_uring *ring, struct mio *v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		mio_prep(ring, &v[i]);
	int r = io_uring_submit_and_wait(ring, n);
	if (r < 0)
		return r;
	for (unsigned done = 0; done < n; done++) {
		struct io_uring_cqe *cqe;
		r = io_uring_wait_cqe(ring, &cqe);
		if (r < 0)
			return r;
		struct mio *m = io_uring_cqe_get_data(cqe);
		int res = cqe->res;
		io_uring_cqe_seen(ring, cqe);
		if (res < 0 && res != -EAGAIN && res != -EINTR)
			m->res = res;
		else if (m->flush && res >= 0)
			m->res = 0;
		else
			m->res = mio_sync(m, res < 0 ? 0 : (size_t)res);
	}
	return 0;
}

/* Run a batch of member IOs concurrently.  Each mio gets its own result;
 * the return is the first error, so callers that need not care which member
 * failed can just test it. */
int mio_run(struct mio *v, unsigned n)
{
	struct io_uring *ring = n > 1 ? thread_ring() : NULL;
	int first = 0;

	if (ring) {
		for (unsigned i = 0; i < n; i += RING_DEPTH) {
			unsigned k = MIN(n - i, RING_DEPTH);
			if (mio_ring(ring, v + i, k) < 0)
				for (unsigned j = i; j < i + k; j++)
					v[j].res = mio_sync(&v[j], 0);
		}
	} else {
		for (unsigned i = 0; i < n; i++)
			v[i].res = mio_sync(&v[i], 0);
	}
	for (unsigned i = 0; i < n && !first; i++)
		first = v[i].res;
	return first;
}

uint64_t rdev_file_sectors(int fd)
{
	struct stat st;
	uint64_t bytes = 0;

	if (fstat(fd, &st) < 0)
		return 0;
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &bytes) < 0)
			return 0;
	} else {
		bytes = st.st_size;
	}
	return bytes >> SECTOR_SHIFT;
}

int rdev_open(const char *path, bool ro, struct md_rdev **out, char *err,
	      size_t errlen)
{
	int fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);

	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", path, g_strerror(e));
		return -e;
	}
	struct md_rdev *rdev = g_new0(struct md_rdev, 1);
	char why[256] = "";
	int r = md_sb_load(fd, &rdev->sb, why, sizeof(why));
	if (r < 0)
		snprintf(err, errlen, "%s: %s", path, why);
	else
		r = rdev_claim(fd, ro, path, err, errlen);
	if (r < 0) {
		close(fd);
		g_free(rdev);
		return r;
	}
	rdev->fd = fd;
	rdev->path = g_strdup(path);
	rdev->name = g_path_get_basename(path);
	rdev->desc_nr = rdev->sb.dev_number;
	rdev->raid_disk = -1;
	rdev->data_offset = rdev->sb.data_offset;
	rdev->sectors = rdev->sb.data_size;
	rdev->recovery_offset = rdev->sb.recovery_offset;
	*out = rdev;
	return 0;
}

void rdev_close(struct md_rdev *rdev)
{
	if (!rdev)
		return;
	close(rdev->fd);
	g_free(rdev->path);
	g_free(rdev->name);
	g_free(rdev);
}

int rdev_flush(struct md_rdev *rdev)
{
	return fdatasync(rdev->fd) < 0 ? -errno : 0;
}

/* The superblock, made durable. */
int rdev_write_sb(struct md_rdev *rdev)
{
	int r = md_sb_store(rdev->fd, &rdev->sb);

	return r < 0 ? r : rdev_flush(rdev);
}

/* Discard: the member's range becomes a hole and reads back as zeros. */
int rdev_discard(struct md_rdev *rdev, uint64_t off, uint64_t len)
{
	if (!rdev_usable(rdev))
		return 0;
	if (fallocate(rdev->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (rdev->data_offset << SECTOR_SHIFT) + off, len) < 0)
		return -errno;
	return 0;
}
