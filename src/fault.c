/* Fault injection (NAME.md/dev-X/fault/): a member IO layer that fails or
 * delays a member's IO the way real disks do, so CI can watch md's answer.
 * It is put on a member the first time one of its fault files is written:
 * a member that never had a fault keeps the io_uring fast path. */
#include <errno.h>
#include <string.h>
#include "ctl.h"

#define FAULT_MAX_RANGES 4096
#define FAULT_MAX_LATENCY_US 10000000u   /* 10 s: slow, but never a hang */
#define CORRUPT_PIECE (1u << 20)

/* Sorted, disjoint, never adjacent: [start, end) in data-area sectors. */
struct fault_range {
	uint64_t start, end;
};

struct fault_layer {
	struct member_io io;
	pthread_mutex_t lock;      /* the two range lists */
	GArray *read_errors, *write_errors;
	atomic_uint latency_us;
	atomic_bool pulled;
	atomic_llong fail_after;   /* IOs left before the pull; -1: off */
	atomic_ulong n_read_errors, n_write_errors, n_pulled;
};

static const struct member_io_ops fault_ops;

static struct fault_layer *fault_of(struct md_rdev *rdev)
{
	return (struct fault_layer *)rdev_find_io(rdev, &fault_ops);
}

/* ---- range lists ---- */

static bool ranges_overlap(GArray *a, uint64_t s, uint64_t e)
{
	for (guint i = 0; i < a->len; i++) {
		struct fault_range *r = &g_array_index(a, struct fault_range, i);
		if (r->start < e && s < r->end)
			return true;
	}
	return false;
}

static void ranges_remove(GArray *a, uint64_t s, uint64_t e)
{
	GArray *out = g_array_new(FALSE, FALSE, sizeof(struct fault_range));

	for (guint i = 0; i < a->len; i++) {
		struct fault_range r = g_array_index(a, struct fault_range, i);
		if (r.end <= s || e <= r.start) {
			g_array_append_val(out, r);
			continue;
		}
		struct fault_range left = { r.start, s }, right = { e, r.end };
		if (left.start < left.end)
			g_array_append_val(out, left);
		if (right.start < right.end)
			g_array_append_val(out, right);
	}
	g_array_set_size(a, 0);
	g_array_append_vals(a, out->data, out->len);
	g_array_free(out, TRUE);
}

/* Merges what it touches; -ENOSPC past FAULT_MAX_RANGES, changing nothing. */
static int ranges_add(GArray *a, uint64_t s, uint64_t e)
{
	struct fault_range n = { s, e };
	guint at = 0;

	for (guint i = 0; i < a->len; ) {
		struct fault_range *r = &g_array_index(a, struct fault_range, i);
		if (r->end < n.start) {
			at = ++i;
		} else if (r->start > n.end) {
			break;
		} else {
			n.start = MIN(n.start, r->start);
			n.end = MAX(n.end, r->end);
			g_array_remove_index(a, i);
		}
	}
	if (a->len >= FAULT_MAX_RANGES)
		return -ENOSPC;   /* nothing merged: n touched no range */
	g_array_insert_val(a, at, n);
	return 0;
}

/* ---- the layer ---- */

/* Data-area sectors an IO at absolute bytes [pos, pos + len) touches;
 * false when it is all before the data area (superblock, bitmap). */
static bool io_sectors(struct md_rdev *rdev, uint64_t pos, uint64_t len,
		       uint64_t *s, uint64_t *e)
{
	uint64_t start = pos >> SECTOR_SHIFT;
	uint64_t end = (pos + len + 511) >> SECTOR_SHIFT;

	if (end <= rdev->data_offset)
		return false;
	*s = start > rdev->data_offset ? start - rdev->data_offset : 0;
	*e = end - rdev->data_offset;
	return true;
}

/* Every IO: the latency, then the pull (fail_after counting down to it). */
static bool io_pulled(struct fault_layer *l)
{
	unsigned us = atomic_load(&l->latency_us);

	if (us)
		g_usleep(us);
	long long n = atomic_load(&l->fail_after);
	while (n > 0 && !atomic_compare_exchange_weak(&l->fail_after, &n, n - 1))
		;
	if (n == 0)
		atomic_store(&l->pulled, true);
	if (!atomic_load(&l->pulled))
		return false;
	atomic_fetch_add(&l->n_pulled, 1);
	return true;
}

static bool hits(struct fault_layer *l, GArray *a, struct md_rdev *rdev,
		 uint64_t pos, uint64_t len)
{
	uint64_t s, e;

	if (!io_sectors(rdev, pos, len, &s, &e))
		return false;
	pthread_mutex_lock(&l->lock);
	bool hit = ranges_overlap(a, s, e);
	pthread_mutex_unlock(&l->lock);
	return hit;
}

static ssize_t fault_pread(struct member_io *io, struct md_rdev *rdev,
			   void *buf, size_t len, uint64_t pos)
{
	struct fault_layer *l = (struct fault_layer *)io;

	if (io_pulled(l))
		return -EIO;
	if (hits(l, l->read_errors, rdev, pos, len)) {
		atomic_fetch_add(&l->n_read_errors, 1);
		return -EIO;
	}
	return member_pread(io->lower, rdev, buf, len, pos);
}

/* A disk remaps the sectors a write fully covers: they read again. */
static void remap(struct fault_layer *l, struct md_rdev *rdev, uint64_t pos,
		  uint64_t len)
{
	uint64_t first = (pos + 511) >> SECTOR_SHIFT, end = (pos + len) >> SECTOR_SHIFT;

	if (end <= MAX(first, rdev->data_offset))
		return;
	first = MAX(first, rdev->data_offset);
	pthread_mutex_lock(&l->lock);
	ranges_remove(l->read_errors, first - rdev->data_offset,
		      end - rdev->data_offset);
	pthread_mutex_unlock(&l->lock);
}

/* A write over a write error writes nothing. */
static int write_fault(struct fault_layer *l, struct md_rdev *rdev,
		       uint64_t pos, uint64_t len)
{
	if (io_pulled(l))
		return -EIO;
	if (hits(l, l->write_errors, rdev, pos, len)) {
		atomic_fetch_add(&l->n_write_errors, 1);
		return -EIO;
	}
	return 0;
}

static ssize_t fault_pwrite(struct member_io *io, struct md_rdev *rdev,
			    const void *buf, size_t len, uint64_t pos)
{
	struct fault_layer *l = (struct fault_layer *)io;
	ssize_t r = write_fault(l, rdev, pos, len);

	if (r == 0)
		r = member_pwrite(io->lower, rdev, buf, len, pos);
	if (r > 0)
		remap(l, rdev, pos, r);
	return r;
}

static int fault_punch(struct member_io *io, struct md_rdev *rdev,
		       uint64_t pos, uint64_t len)
{
	struct fault_layer *l = (struct fault_layer *)io;
	int r = write_fault(l, rdev, pos, len);

	if (r == 0)
		r = member_punch(io->lower, rdev, pos, len);
	if (r == 0)
		remap(l, rdev, pos, len);
	return r;
}

static int fault_fdatasync(struct member_io *io, struct md_rdev *rdev)
{
	if (io_pulled((struct fault_layer *)io))
		return -EIO;
	return member_fdatasync(io->lower, rdev);
}

static void fault_free(struct member_io *io)
{
	struct fault_layer *l = (struct fault_layer *)io;

	g_array_free(l->read_errors, TRUE);
	g_array_free(l->write_errors, TRUE);
	pthread_mutex_destroy(&l->lock);
	g_free(l);
}

static const struct member_io_ops fault_ops = {
	.pread = fault_pread,
	.pwrite = fault_pwrite,
	.fdatasync = fault_fdatasync,
	.punch = fault_punch,
	.free = fault_free,
};

static pthread_mutex_t push_lock = PTHREAD_MUTEX_INITIALIZER;

/* The member's layer, put on at the first fault. */
static struct fault_layer *fault_layer(struct md_rdev *rdev)
{
	pthread_mutex_lock(&push_lock);
	struct fault_layer *l = fault_of(rdev);
	if (!l) {
		l = g_new0(struct fault_layer, 1);
		l->io.ops = &fault_ops;
		pthread_mutex_init(&l->lock, NULL);
		l->read_errors = g_array_new(FALSE, FALSE, sizeof(struct fault_range));
		l->write_errors = g_array_new(FALSE, FALSE, sizeof(struct fault_range));
		l->fail_after = -1;
		rdev_push_io(rdev, &l->io);
	}
	pthread_mutex_unlock(&push_lock);
	return l;
}

/* ---- dev-X/fault/ ---- */

int ctl_parse_fault_range(const char *val, uint64_t *sector, uint64_t *len)
{
	int op = FAULT_ADD;

	if (strcmp(val, "clear") == 0)
		return FAULT_CLEAR;
	if (*val == '-') {
		op = FAULT_REMOVE;
		val++;
	}
	const char *sp = strchr(val, ' ');
	if (!sp)
		return -EINVAL;
	char *first = g_strndup(val, sp - val);
	int r = ctl_parse_u64(first, sector);
	g_free(first);
	if (r == 0)
		r = ctl_parse_u64(sp + 1, len);
	if (r == 0 && (*len == 0 || *sector > UINT64_MAX - *len))
		r = -EINVAL;
	return r < 0 ? r : op;
}

/* A member without a layer has no ranges. */
static void ranges_show(struct md_rdev *rdev, bool reads, GString *out)
{
	struct fault_layer *l = fault_of(rdev);

	if (!l)
		return;
	GArray *a = reads ? l->read_errors : l->write_errors;
	pthread_mutex_lock(&l->lock);
	for (guint i = 0; i < a->len; i++) {
		struct fault_range *r = &g_array_index(a, struct fault_range, i);
		g_string_append_printf(out, "%s%" PRIu64 " %" PRIu64, i ? "\n" : "",
				       r->start, r->end - r->start);
	}
	pthread_mutex_unlock(&l->lock);
}

/* A range of the member's data area, or -EINVAL. */
static int parse_member_range(struct md_rdev *rdev, const char *val,
			      uint64_t *s, uint64_t *len)
{
	int op = ctl_parse_fault_range(val, s, len);

	if (op >= 0 && op != FAULT_CLEAR && *s + *len > rdev->sectors)
		return -EINVAL;
	return op;
}

static int ranges_store(struct md_rdev *rdev, bool reads, const char *val)
{
	uint64_t s, len;
	int op = parse_member_range(rdev, val, &s, &len);

	if (op < 0)
		return op;
	struct fault_layer *l = fault_layer(rdev);
	GArray *a = reads ? l->read_errors : l->write_errors;
	int r = 0;
	pthread_mutex_lock(&l->lock);
	if (op == FAULT_CLEAR)
		g_array_set_size(a, 0);
	else if (op == FAULT_REMOVE)
		ranges_remove(a, s, s + len);
	else
		r = ranges_add(a, s, s + len);
	pthread_mutex_unlock(&l->lock);
	return r;
}

static void read_errors_show(struct mddev *mddev, struct md_rdev *rdev,
			     GString *out)
{
	(void)mddev;
	ranges_show(rdev, true, out);
}

static int read_errors_store(struct mddev *mddev, struct md_rdev *rdev,
			     const char *val)
{
	(void)mddev;
	return ranges_store(rdev, true, val);
}

static void write_errors_show(struct mddev *mddev, struct md_rdev *rdev,
			      GString *out)
{
	(void)mddev;
	ranges_show(rdev, false, out);
}

static int write_errors_store(struct mddev *mddev, struct md_rdev *rdev,
			      const char *val)
{
	(void)mddev;
	return ranges_store(rdev, false, val);
}

static void latency_us_show(struct mddev *mddev, struct md_rdev *rdev,
			    GString *out)
{
	struct fault_layer *l = fault_of(rdev);

	(void)mddev;
	g_string_append_printf(out, "%u", l ? atomic_load(&l->latency_us) : 0);
}

static int latency_us_store(struct mddev *mddev, struct md_rdev *rdev,
			    const char *val)
{
	unsigned us;

	(void)mddev;
	if (ctl_parse_uint(val, &us) < 0 || us > FAULT_MAX_LATENCY_US)
		return -EINVAL;
	atomic_store(&fault_layer(rdev)->latency_us, us);
	return 0;
}

static void pull_show(struct mddev *mddev, struct md_rdev *rdev, GString *out)
{
	struct fault_layer *l = fault_of(rdev);

	(void)mddev;
	g_string_append(out, l && atomic_load(&l->pulled) ? "1" : "0");
}

static int pull_store(struct mddev *mddev, struct md_rdev *rdev,
		      const char *val)
{
	(void)mddev;
	if (strcmp(val, "0") && strcmp(val, "1"))
		return -EINVAL;
	struct fault_layer *l = fault_layer(rdev);
	if (val[0] == '0')
		atomic_store(&l->fail_after, -1);   /* the disk is back for good */
	atomic_store(&l->pulled, val[0] == '1');
	return 0;
}

static void fail_after_show(struct mddev *mddev, struct md_rdev *rdev,
			    GString *out)
{
	struct fault_layer *l = fault_of(rdev);
	long long n = l ? atomic_load(&l->fail_after) : -1;

	(void)mddev;
	if (n < 0)
		g_string_append(out, "off");
	else
		g_string_append_printf(out, "%lld", n);
}

static int fail_after_store(struct mddev *mddev, struct md_rdev *rdev,
			    const char *val)
{
	unsigned n;
	bool off = strcmp(val, "off") == 0;

	(void)mddev;
	if (!off && ctl_parse_uint(val, &n) < 0)
		return -EINVAL;
	atomic_store(&fault_layer(rdev)->fail_after, off ? -1 : (long long)n);
	return 0;
}

/* Silent corruption needs no layer: the bytes change in the file itself,
 * under every layer, as rot on a platter would. */
static int corrupt_range(struct md_rdev *rdev, uint64_t s, uint64_t len)
{
	uint64_t pos = (rdev->data_offset + s) << SECTOR_SHIFT;
	uint64_t end = pos + (len << SECTOR_SHIFT);
	uint8_t *buf = g_malloc(CORRUPT_PIECE);
	int r = 0;

	for (; pos < end && r == 0; pos += CORRUPT_PIECE) {
		size_t k = MIN(CORRUPT_PIECE, end - pos);
		ssize_t n = member_pread(NULL, rdev, buf, k, pos);
		if (n < 0) {
			r = n;
			break;
		}
		memset(buf + n, 0, k - n);   /* past the end of a sparse file */
		for (size_t i = 0; i < k; i++)
			buf[i] = ~buf[i];
		n = member_pwrite(NULL, rdev, buf, k, pos);
		r = n < 0 ? n : n == (ssize_t)k ? 0 : -EIO;
	}
	g_free(buf);
	return r;
}

static int corrupt_store(struct mddev *mddev, struct md_rdev *rdev,
			 const char *val)
{
	uint64_t s, len;

	(void)mddev;
	if (parse_member_range(rdev, val, &s, &len) != FAULT_ADD)
		return -EINVAL;
	return corrupt_range(rdev, s, len);
}

static void injected_show(struct mddev *mddev, struct md_rdev *rdev,
			  GString *out)
{
	struct fault_layer *l = fault_of(rdev);

	(void)mddev;
	g_string_append_printf(out, "read_errors %lu\nwrite_errors %lu\n"
			       "pulled_ios %lu",
			       l ? atomic_load(&l->n_read_errors) : 0,
			       l ? atomic_load(&l->n_write_errors) : 0,
			       l ? atomic_load(&l->n_pulled) : 0);
}

const struct md_attr rdev_fault_attrs[] = {
	ATTR_RW(read_errors), ATTR_RW(write_errors), ATTR_RW(latency_us),
	ATTR_RW(pull), ATTR_RW(fail_after), ATTR_WO(corrupt),
	ATTR_RO(injected),
	{ NULL, 0, NULL, NULL },
};
