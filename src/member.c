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
#include <sys/uio.h>
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
	return m->abs ? m->off : (m->rdev->data_offset << SECTOR_SHIFT) + m->off;
}

/* ---- the member IO layers; NULL is the plain file ---- */

ssize_t member_pread(struct member_io *io, struct md_rdev *rdev, void *buf,
		     size_t len, uint64_t pos)
{
	if (io)
		return io->ops->pread(io, rdev, buf, len, pos);
	ssize_t r = pread(rdev->fd, buf, len, pos);
	return r < 0 ? -errno : r;
}

ssize_t member_pwrite(struct member_io *io, struct md_rdev *rdev,
		      const void *buf, size_t len, uint64_t pos)
{
	if (io)
		return io->ops->pwrite(io, rdev, buf, len, pos);
	ssize_t r = pwrite(rdev->fd, buf, len, pos);
	return r < 0 ? -errno : r;
}

int member_fdatasync(struct member_io *io, struct md_rdev *rdev)
{
	if (io)
		return io->ops->fdatasync(io, rdev);
	return fdatasync(rdev->fd) < 0 ? -errno : 0;
}

int member_punch(struct member_io *io, struct md_rdev *rdev, uint64_t pos,
		 uint64_t len)
{
	if (io)
		return io->ops->punch(io, rdev, pos, len);
	if (fallocate(rdev->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      pos, len) < 0)
		return -errno;
	return 0;
}

void rdev_push_io(struct md_rdev *rdev, struct member_io *io)
{
	io->lower = atomic_load(&rdev->io);
	atomic_store(&rdev->io, io);
}

struct member_io *rdev_find_io(struct md_rdev *rdev,
			       const struct member_io_ops *ops)
{
	for (struct member_io *io = atomic_load(&rdev->io); io; io = io->lower)
		if (io->ops == ops)
			return io;
	return NULL;
}

/* Finish an IO synchronously from byte done onwards. */
static int mio_sync(struct mio *m, size_t done)
{
	struct member_io *io = atomic_load(&m->rdev->io);

	if (m->flush)
		return member_fdatasync(io, m->rdev);
	while (done < m->len) {
		char *p = (char *)m->buf + done;
		ssize_t r = m->write
			? member_pwrite(io, m->rdev, p, m->len - done, mio_pos(m) + done)
			: member_pread(io, m->rdev, p, m->len - done, mio_pos(m) + done);
		if (r == -EINTR)
			continue;
		if (r < 0)
			return r;
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

/* Test seams: the next N io_uring submits or waits fail as if interrupted. */
atomic_uint mio_fail_submits, mio_fail_waits;

static bool seam_fires(atomic_uint *left)
{
	unsigned n = atomic_load(left);

	while (n && !atomic_compare_exchange_weak(left, &n, n - 1))
		;
	return n != 0;
}

/* One syscall submits and waits for wait_nr completions; the kernel does
 * not wait after a short submit. */
static int ring_submit(struct io_uring *ring, unsigned wait_nr)
{
	if (seam_fires(&mio_fail_submits))
		return -EINTR;
	return io_uring_submit_and_wait(ring, wait_nr);
}

static int ring_wait(struct io_uring *ring, struct io_uring_cqe **cqe)
{
	return seam_fires(&mio_fail_waits) ? -EINTR : io_uring_wait_cqe(ring, cqe);
}

static void mio_complete(struct io_uring *ring, struct io_uring_cqe *cqe)
{
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

#define WAIT_RETRIES 1000

/* Run v[0..n) on the ring; returns how many ran there, in order.  Every
 * submitted IO is reaped before we return, whatever fails: its mio and
 * buffer belong to the caller's stack, and a completion left behind would
 * land in the next batch.  SQEs a failed submit left unsubmitted stay in
 * the ring, so the caller must drop it when we return less than n. */
static unsigned mio_ring(struct io_uring *ring, struct mio *v, unsigned n)
{
	unsigned submitted = 0, reaped = 0, failed_waits = 0;
	bool give_up = false;

	for (unsigned i = 0; i < n; i++)
		mio_prep(ring, &v[i]);
	while (reaped < n) {
		if (submitted < n && !give_up) {
			int r = ring_submit(ring, n - reaped);
			if (r > 0)
				submitted += r;
			else if (reaped == submitted)
				give_up = true;   /* nothing in flight to make room */
		}
		if (reaped == submitted)
			break;
		struct io_uring_cqe *cqe;
		if (ring_wait(ring, &cqe) < 0) {
			if (++failed_waits > WAIT_RETRIES)
				g_error("io_uring: cannot reap in-flight member IO");
			continue;
		}
		failed_waits = 0;
		mio_complete(ring, cqe);
		reaped++;
	}
	return submitted;
}

/* A batch touching a member with a layer runs synchronously through the
 * layers (test mode), as does one touching a member whose IO io_uring
 * would only pass to its workers; io_uring is the fast path of plain
 * files that take IO without blocking. */
static bool ring_pays(const struct mio *v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (atomic_load(&v[i].rdev->io) || v[i].rdev->worker_io)
			return false;
	return n > 1;
}

bool rdev_written(struct md_rdev *rdev)
{
	return atomic_load(&rdev->writes_done) != atomic_load(&rdev->writes_synced);
}

/* A write counts once it is done, so that a flush that saw the count
 * started after it; failed ones too, as they may have reached the file. */
static void note_written(struct md_rdev *rdev)
{
	atomic_fetch_add(&rdev->writes_done, 1);
}

/* The flush covered the writes counted before it began; a racing flush
 * that saw fewer never takes the mark back. */
static void note_synced(struct md_rdev *rdev, uint64_t covered)
{
	uint64_t s = atomic_load(&rdev->writes_synced);

	while (s < covered &&
	       !atomic_compare_exchange_weak(&rdev->writes_synced, &s, covered))
		;
}

static void note_batch(struct mio *v, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (v[i].write)
			note_written(v[i].rdev);
		else if (v[i].flush && v[i].res == 0)
			note_synced(v[i].rdev, v[i].covers);
	}
}

static void note_flush_starts(struct mio *v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (v[i].flush)
			v[i].covers = atomic_load(&v[i].rdev->writes_done);
}

/* Run a batch of member IOs concurrently.  Each mio gets its own result;
 * the return is the first error, so callers that need not care which member
 * failed can just test it. */
int mio_run(struct mio *v, unsigned n)
{
	struct io_uring *ring = ring_pays(v, n) ? thread_ring() : NULL;
	unsigned i = 0;
	int first = 0;

	note_flush_starts(v, n);
	while (ring && i < n) {
		unsigned k = MIN(n - i, RING_DEPTH);
		unsigned done = mio_ring(ring, v + i, k);
		i += done;
		if (done < k) {
			/* A fresh ring next time, without the unsubmitted SQEs. */
			g_private_replace(&ring_key, NULL);
			ring = NULL;
		}
	}
	for (; i < n; i++)
		v[i].res = mio_sync(&v[i], 0);
	note_batch(v, n);
	for (i = 0; i < n && !first; i++)
		first = v[i].res;
	return first;
}

static int copy_range(struct md_rdev *src, struct md_rdev *dst, uint64_t off,
		      size_t len)
{
	loff_t in = (loff_t)(src->data_offset << SECTOR_SHIFT) + (loff_t)off;
	loff_t out = (loff_t)(dst->data_offset << SECTOR_SHIFT) + (loff_t)off;

	while (len) {
		ssize_t r = copy_file_range(src->fd, &in, dst->fd, &out, len, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		len -= r;
	}
	return 0;
}

int rdev_copy(struct md_rdev *src, struct md_rdev *dst, uint64_t off,
	      size_t len)
{
	if (atomic_load(&src->io) || atomic_load(&dst->io))
		return -EOPNOTSUPP;
	int r = copy_range(src, dst, off, len);
	note_written(dst);
	return r;
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

static const char *file_kind(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFDIR: return "a directory";
	case S_IFIFO: return "a FIFO";
	case S_IFSOCK: return "a socket";
	case S_IFCHR: return "a character device";
	case S_IFLNK: return "a symbolic link";
	default: return "not a file";
	}
}

static int refuse_kind(const char *path, mode_t mode, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: %s, not a regular file or block device",
		 path, file_kind(mode));
	return -ENODEV;
}

int member_open(const char *path, int flags, char *err, size_t errlen)
{
	/* Non-blocking: a FIFO would wait for a writer, a tty for carrier;
	 * no controlling terminal for the daemon either. */
	int fd = open(path, flags | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	struct stat st;

	if (fd < 0) {
		int e = errno;
		/* A directory (EISDIR) or socket (ENXIO) cannot be opened
		 * at all: say what it is rather than the errno. */
		if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) &&
		    !S_ISBLK(st.st_mode))
			return refuse_kind(path, st.st_mode, err, errlen);
		snprintf(err, errlen, "%s: %s", path, g_strerror(e));
		return -e;
	}
	int e = 0;
	if (fstat(fd, &st) < 0) {
		e = errno;
	} else if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		close(fd);
		return refuse_kind(path, st.st_mode, err, errlen);
	} else if (fcntl(fd, F_SETFL, 0) < 0) {   /* blocking IO from here */
		e = errno;
	}
	if (e) {
		close(fd);
		snprintf(err, errlen, "%s: %s", path, g_strerror(e));
		return -e;
	}
	return fd;
}

int member_open_claimed(const char *path, bool ro, char *err, size_t errlen)
{
	int fd = member_open(path, ro ? O_RDONLY : O_RDWR, err, errlen);

	if (fd < 0)
		return fd;
	int r = rdev_claim(fd, ro, path, err, errlen);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

/* A one-byte RWF_NOWAIT read: EOPNOTSUPP where the file system has no
 * non-blocking IO, which is where io_uring punts to its workers. */
bool member_takes_nowait(int fd)
{
	char c;
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };

	return preadv2(fd, &iov, 1, 0, RWF_NOWAIT) >= 0 || errno != EOPNOTSUPP;
}

void rdev_set_file(struct md_rdev *rdev, int fd, const char *path)
{
	rdev->fd = fd;
	rdev->worker_io = !member_takes_nowait(fd);
	/* What an earlier daemon wrote may not be durable: flush it once. */
	atomic_store(&rdev->writes_done, 1);
	atomic_store(&rdev->writes_synced, 0);
	rdev->path = g_strdup(path);
	rdev->name = g_path_get_basename(path);
	rdev->raid_disk = -1;
	rdev->saved_raid_disk = -1;
}

/* A bitmap file (mdadm --bitmap=FILE): no superblock and no role, but
 * member IO all the same, so that the power cut reaches it. */
int rdev_open_bitmap_file(const char *path, bool ro, struct md_rdev **out,
			  char *err, size_t errlen)
{
	int fd = member_open_claimed(path, ro, err, errlen);

	if (fd < 0)
		return fd;
	/* absolute, as md's mdstat names the file */
	char *abs = realpath(path, NULL);
	*out = g_new0(struct md_rdev, 1);
	rdev_set_file(*out, fd, abs ? abs : path);
	free(abs);
	(*out)->desc_nr = -1;
	return 0;
}

int rdev_open(const char *path, bool ro, struct md_rdev **out, char *err,
	      size_t errlen)
{
	int fd = member_open(path, ro ? O_RDONLY : O_RDWR, err, errlen);

	if (fd < 0)
		return fd;
	struct md_rdev *rdev = g_new0(struct md_rdev, 1);
	char why[256] = "";
	int r = md_sb_load(fd, &rdev->sb, why, sizeof(why));
	if (r == 0)
		r = badblocks_load(fd, &rdev->sb, rdev_file_sectors(fd),
				   &rdev->badblocks, why, sizeof(why));
	if (r < 0)
		snprintf(err, errlen, "%s: %s", path,
			 why[0] ? why : g_strerror(-r));
	else
		r = rdev_claim(fd, ro, path, err, errlen);
	if (r < 0) {
		badblocks_exit(&rdev->badblocks);
		close(fd);
		g_free(rdev);
		return r;
	}
	rdev_set_file(rdev, fd, path);
	rdev->desc_nr = rdev->sb.dev_number;
	rdev->data_offset = rdev->sb.data_offset;
	rdev->sectors = rdev->sb.data_size;
	rdev->recovery_offset = rdev->sb.recovery_offset;
	/* md's super_1_validate: the count goes on from the superblock's. */
	rdev->corrected_errors = rdev->sb.cnt_corrected_read;
	*out = rdev;
	return 0;
}

void rdev_close(struct md_rdev *rdev)
{
	if (!rdev)
		return;
	for (struct member_io *io = rdev->io, *lower; io; io = lower) {
		lower = io->lower;
		io->ops->free(io);
	}
	badblocks_exit(&rdev->badblocks);
	close(rdev->fd);
	g_free(rdev->path);
	g_free(rdev->name);
	g_free(rdev);
}

void rdev_release_file(struct md_rdev *rdev, int null_fd)
{
	if (null_fd < 0 || dup3(null_fd, rdev->fd, O_CLOEXEC) < 0)
		g_warning("%s: cannot release the member file", rdev->name);
}

int rdev_flush(struct md_rdev *rdev)
{
	struct mio m = { .rdev = rdev, .flush = true };

	return mio_run(&m, 1);
}

/* The superblock, made durable. */
int rdev_write_sb(struct md_rdev *rdev)
{
	uint8_t buf[4096];
	struct mio m = { .rdev = rdev, .write = true, .abs = true, .buf = buf };
	int r = md_sb_encode(rdev->fd, &rdev->sb, buf, &m.off);

	if (r < 0)
		return r;
	m.len = r;
	r = mio_run(&m, 1);
	return r < 0 ? r : rdev_flush(rdev);
}

/* Discard: the member's range becomes a hole and reads back as zeros. */
static int punch_data(struct md_rdev *rdev, uint64_t off, uint64_t len)
{
	if (!rdev_usable(rdev))
		return 0;
	int r = member_punch(atomic_load(&rdev->io), rdev,
			     (rdev->data_offset << SECTOR_SHIFT) + off, len);
	note_written(rdev);
	return r;
}

/* A role's replacement takes its discards as it takes its writes. */
int rdev_discard(struct md_rdev *rdev, uint64_t off, uint64_t len)
{
	struct mddev *mddev = rdev ? rdev->mddev : NULL;
	int r = punch_data(rdev, off, len);

	if (r == 0 && mddev && rdev_usable(rdev) &&
	    !(atomic_load(&rdev->flags) & RDEV_REPLACEMENT))
		r = punch_data(md_replacement(mddev, rdev->raid_disk), off, len);
	return r;
}
