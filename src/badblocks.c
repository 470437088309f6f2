/* md's bad-block list: set, clear, check and show over sorted ranges, and
 * loading the v1 superblock's bad-block log.  The on-disk log (md.c's
 * super_1_load, mdadm's examine_badblocks_super1): bblog_size sectors at
 * bblog_offset (signed) sectors from the superblock, little-endian u64
 * entries of (block << 10 | blocks), blocks of 1 << bblog_shift sectors,
 * absolute on the member; all-ones ends the list, and the log is read
 * only while MD_FEATURE_BAD_BLOCKS is set. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "badblocks.h"
#include "raid.h"

#define BB_ENTRY_LEN_BITS 10

void badblocks_init(struct badblocks *bb, bool enable)
{
	pthread_rwlockattr_t attr;

	memset(bb, 0, sizeof(*bb));
	/* Every member read checks the list: glibc's default, readers first,
	 * would let a stream of reads hold off recording a write error. */
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr,
				      PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&bb->lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	bb->ranges = g_new(struct bb_range, MAX_BADBLOCKS);
	bb->shift = enable ? 0 : -1;
}

void badblocks_exit(struct badblocks *bb)
{
	if (!bb->ranges)
		return;
	pthread_rwlock_destroy(&bb->lock);
	g_free(bb->ranges);
	bb->ranges = NULL;
}

static uint64_t round_down_block(const struct badblocks *bb, uint64_t s)
{
	return s >> bb->shift << bb->shift;
}

static uint64_t round_up_block(const struct badblocks *bb, uint64_t s)
{
	uint64_t mask = (1ull << bb->shift) - 1;

	return s > UINT64_MAX - mask ? UINT64_MAX : (s + mask) & ~mask;
}

/* The first range ending after s. */
static int first_after(const struct badblocks *bb, int n, uint64_t s)
{
	int lo = 0, hi = n;

	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (bb->ranges[mid].start + bb->ranges[mid].len <= s)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The log entries a range takes: md's entries cover BB_MAX_LEN blocks. */
static int range_entries(const struct badblocks *bb, uint64_t len)
{
	uint64_t max = (uint64_t)BB_MAX_LEN << bb->shift;

	return (int)MIN((len + max - 1) / max, (uint64_t)MAX_BADBLOCKS + 1);
}

/* The entries the log holds: md's one page, or less where the member's
 * log is smaller. */
static int log_capacity(const struct badblocks *bb)
{
	int size = bb->size ? (int)(bb->size * 512 / 8) : MAX_BADBLOCKS;

	return MIN(size, MAX_BADBLOCKS);
}

/* Would the list fit the log with ranges [i, j) replaced by with? */
static bool fits(const struct badblocks *bb, int n, int i, int j,
		 const struct bb_range *with, int k)
{
	int entries = 0;

	for (int x = 0; x < n; x++)
		if (x < i || x >= j)
			entries += range_entries(bb, bb->ranges[x].len);
	for (int x = 0; x < k; x++)
		entries += range_entries(bb, with[x].len);
	return entries <= log_capacity(bb);
}

/* Replace ranges [i, j) by the k ranges in with; false if it would not fit. */
static bool splice(struct badblocks *bb, int i, int j, const struct bb_range *with,
		   int k)
{
	int n = atomic_load(&bb->count);

	if (n - (j - i) + k > MAX_BADBLOCKS || !fits(bb, n, i, j, with, k))
		return false;
	memmove(&bb->ranges[i + k], &bb->ranges[j], (n - j) * sizeof(*bb->ranges));
	memcpy(&bb->ranges[i], with, k * sizeof(*with));
	atomic_store(&bb->count, n - (j - i) + k);
	bb->changed = true;
	return true;
}

/* Ranges that overlap or touch [s, e) merge into one; it is acknowledged
 * only if all of it was, so an unacknowledged part is never hidden. */
bool badblocks_set(struct badblocks *bb, uint64_t s, uint64_t sectors, bool ack)
{
	if (bb->shift < 0 || sectors == 0)
		return false;
	uint64_t e = round_up_block(bb, s + MIN(sectors, UINT64_MAX - s));
	struct bb_range r = { round_down_block(bb, s), 0, ack };

	pthread_rwlock_wrlock(&bb->lock);
	int n = atomic_load(&bb->count);
	int i = first_after(bb, n, r.start ? r.start - 1 : 0), j = i;
	for (; j < n && bb->ranges[j].start <= e; j++) {
		r.start = MIN(r.start, bb->ranges[j].start);
		e = MAX(e, bb->ranges[j].start + bb->ranges[j].len);
		r.ack &= bb->ranges[j].ack;
	}
	r.len = e - r.start;
	/* Already recorded (a write failing again): nothing to rewrite. */
	const struct bb_range *p = &bb->ranges[i];
	bool same = j == i + 1 && p->start == r.start && p->len == r.len;
	bool ok = same || splice(bb, i, j, &r, 1);
	pthread_rwlock_unlock(&bb->lock);
	return ok;
}

bool badblocks_clear(struct badblocks *bb, uint64_t s, uint64_t sectors)
{
	if (bb->shift < 0)
		return true;
	uint64_t a = round_up_block(bb, s);
	uint64_t e = round_down_block(bb, s + MIN(sectors, UINT64_MAX - s));
	if (a >= e)
		return true;

	pthread_rwlock_wrlock(&bb->lock);
	int n = atomic_load(&bb->count);
	int i = first_after(bb, n, a), j = i, k = 0;
	struct bb_range keep[2];
	for (; j < n && bb->ranges[j].start < e; j++) {
		struct bb_range *p = &bb->ranges[j];
		uint64_t pe = p->start + p->len;
		if (p->start < a)
			keep[k++] = (struct bb_range){ p->start, a - p->start, p->ack };
		if (pe > e)
			keep[k++] = (struct bb_range){ e, pe - e, p->ack };
	}
	bool ok = i == j || splice(bb, i, j, keep, k);
	pthread_rwlock_unlock(&bb->lock);
	return ok;
}

int badblocks_check(struct badblocks *bb, uint64_t s, uint64_t sectors,
		    uint64_t *first_bad, uint64_t *bad_sectors)
{
	uint64_t e = s + MIN(sectors, UINT64_MAX - s);
	int rv = 0;

	if (atomic_load(&bb->count) == 0)
		return 0;
	pthread_rwlock_rdlock(&bb->lock);
	int n = atomic_load(&bb->count);
	for (int i = first_after(bb, n, s); i < n && bb->ranges[i].start < e; i++) {
		if (rv == 0) {
			*first_bad = bb->ranges[i].start;
			*bad_sectors = bb->ranges[i].len;
			rv = 1;
		}
		if (!bb->ranges[i].ack) {
			rv = -1;
			break;
		}
	}
	pthread_rwlock_unlock(&bb->lock);
	return rv;
}

void badblocks_show(struct badblocks *bb, GString *out, bool unack)
{
	uint64_t max = (uint64_t)BB_MAX_LEN << MAX(bb->shift, 0);

	pthread_rwlock_rdlock(&bb->lock);
	for (int i = 0; i < atomic_load(&bb->count); i++) {
		const struct bb_range *p = &bb->ranges[i];
		if (unack && p->ack)
			continue;
		for (uint64_t o = 0; o < p->len; o += max)
			g_string_append_printf(out, "%" PRIu64 " %" PRIu64 "\n",
					       p->start + o, MIN(max, p->len - o));
	}
	pthread_rwlock_unlock(&bb->lock);
}

bool badblocks_encode(struct badblocks *bb, uint8_t *log, size_t bytes)
{
	uint64_t max = (uint64_t)BB_MAX_LEN << bb->shift;
	size_t k = 0;

	pthread_rwlock_wrlock(&bb->lock);
	/* md's super_1_sync: an empty list needs no log (the superblock
	 * then says so); a changed one is written whole. */
	if (!bb->changed || atomic_load(&bb->count) == 0) {
		pthread_rwlock_unlock(&bb->lock);
		return false;
	}
	memset(log, 0xff, bytes);
	for (int i = 0; i < atomic_load(&bb->count); i++) {
		const struct bb_range *p = &bb->ranges[i];
		for (uint64_t o = 0; o < p->len && (k + 1) * 8 <= bytes; o += max) {
			uint64_t blocks = MIN(max, p->len - o) >> bb->shift;
			uint64_t entry = (p->start + o) >> bb->shift << BB_ENTRY_LEN_BITS |
					 blocks;
			for (int b = 0; b < 8; b++)
				log[k * 8 + b] = entry >> (8 * b);
			k++;
		}
	}
	bb->changed = false;
	pthread_rwlock_unlock(&bb->lock);
	return true;
}

void badblocks_ack(struct badblocks *bb)
{
	pthread_rwlock_wrlock(&bb->lock);
	if (!bb->changed)
		for (int i = 0; i < atomic_load(&bb->count); i++)
			bb->ranges[i].ack = true;
	pthread_rwlock_unlock(&bb->lock);
}

bool rdev_set_badblocks(struct md_rdev *rdev, uint64_t s, uint64_t sectors)
{
	if (atomic_load(&rdev->flags) & RDEV_FAULTY)
		return true;
	if (!rdev->badblocks.ranges)
		return false;
	return badblocks_set(&rdev->badblocks, rdev->data_offset + s, sectors,
			     false);
}

void rdev_clear_badblocks(struct md_rdev *rdev, uint64_t s, uint64_t sectors)
{
	if (!rdev->badblocks.ranges)
		return;
	badblocks_clear(&rdev->badblocks, rdev->data_offset + s, sectors);
}

int rdev_write_bblog(struct md_rdev *rdev, bool *written)
{
	struct badblocks *bb = &rdev->badblocks;
	uint8_t buf[BB_LOG_MAX_SECTORS * 512];

	*written = false;
	if (bb->shift < 0 || !bb->size)
		return 0;
	size_t len = MIN((size_t)bb->size, (size_t)BB_LOG_MAX_SECTORS) * 512;
	if (!badblocks_encode(bb, buf, len))
		return 0;
	rdev->sb.bblog_shift = bb->shift;
	struct mio m = { .rdev = rdev, .write = true, .abs = true, .buf = buf,
			 .len = len,
			 .off = (rdev->sb.super_offset + (int64_t)bb->sector) * 512 };
	*written = true;
	return mio_run(&m, 1);
}

int is_badblock(struct md_rdev *rdev, uint64_t s, uint64_t sectors,
		uint64_t *first_bad, uint64_t *bad_sectors)
{
	int rv = badblocks_check(&rdev->badblocks, rdev->data_offset + s, sectors,
				 first_bad, bad_sectors);

	if (rv)
		*first_bad -= MIN(*first_bad, rdev->data_offset);
	return rv;
}

bool rdev_has_badblock(struct md_rdev *rdev, uint64_t s, uint64_t sectors)
{
	uint64_t first_bad, bad_sectors;

	return is_badblock(rdev, s, sectors, &first_bad, &bad_sectors) != 0;
}

uint64_t rdev_badblock_run(struct md_rdev *rdev, uint64_t s, uint64_t sectors)
{
	uint64_t first_bad, bad_sectors;

	if (!rdev || !is_badblock(rdev, s, sectors, &first_bad, &bad_sectors))
		return sectors;
	if (first_bad > s)
		return first_bad - s;
	return MIN(sectors, first_bad + bad_sectors - s);
}

/* ---- the log on the member ---- */

static bool overlaps(int64_t a, int64_t alen, int64_t b, int64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* A log md would read and write: v1, with an offset and a size. */
static bool sb_has_log(const struct md_sb *sb)
{
	return sb->major == 1 && sb->bblog_offset && sb->bblog_size;
}

static bool sb_records(const struct md_sb *sb)
{
	return sb->major == 1 && (sb->feature_map & MD_FEATURE_BAD_BLOCKS);
}

/* Where the log lies against the file, the superblock and the data area;
 * NULL if clear of them all. */
static const char *log_misplaced(const struct md_sb *sb, uint64_t member_sectors)
{
	if (sb->super_offset >= member_sectors)
		return "outside the file";
	int64_t start = (int64_t)sb->super_offset + (int32_t)sb->bblog_offset;
	int64_t sb_sectors = (256 + 2 * (int64_t)sb->max_dev + 511) / 512;

	if (start < 0 || (uint64_t)start + sb->bblog_size > member_sectors)
		return "outside the file";
	if (overlaps(start, sb->bblog_size, sb->super_offset, sb_sectors))
		return "over the superblock";
	if (sb->data_offset < member_sectors &&
	    overlaps(start, sb->bblog_size, sb->data_offset,
		     MIN(sb->data_size, member_sectors - sb->data_offset)))
		return "over the data area";
	return NULL;
}

int badblocks_validate(const struct md_sb *sb, uint64_t member_sectors,
		       char *err, size_t errlen)
{
	if (sb_records(sb) && !sb_has_log(sb)) {
		snprintf(err, errlen, "superblock records bad blocks but bblog_%s "
			 "is 0", sb->bblog_offset ? "size" : "offset");
		return -EINVAL;
	}
	if (!sb_has_log(sb))
		return 0;
	if (sb->bblog_size > BB_LOG_MAX_SECTORS) {
		snprintf(err, errlen, "superblock bblog_size %u sectors exceeds "
			 "md's %d", sb->bblog_size, BB_LOG_MAX_SECTORS);
		return -EINVAL;
	}
	/* super_1_load reads bblog_shift only with MD_FEATURE_BAD_BLOCKS;
	 * without it md starts the log afresh at shift 0 */
	if (sb_records(sb) && sb->bblog_shift > BB_MAX_SHIFT) {
		snprintf(err, errlen, "superblock bblog_shift %u exceeds %d",
			 sb->bblog_shift, BB_MAX_SHIFT);
		return -EINVAL;
	}
	const char *where = log_misplaced(sb, member_sectors);
	if (where) {
		snprintf(err, errlen, "superblock bblog_offset %" PRId32 " puts "
			 "the bad-block log %s", (int32_t)sb->bblog_offset, where);
		return -EINVAL;
	}
	return 0;
}

/* One log entry into bb: inside the data area, as md records them. */
static int load_entry(const struct md_sb *sb, struct badblocks *bb,
		      uint64_t entry, int i, char *err, size_t errlen)
{
	uint64_t block = entry >> BB_ENTRY_LEN_BITS;
	uint64_t len = (entry & ((1u << BB_ENTRY_LEN_BITS) - 1)) << sb->bblog_shift;
	uint64_t s = block << sb->bblog_shift;

	if (len == 0) {
		snprintf(err, errlen, "bad-block log entry %d (0x%" PRIx64 ") has "
			 "no length", i, entry);
		return -EINVAL;
	}
	if (block > UINT64_MAX >> sb->bblog_shift || s < sb->data_offset ||
	    s - sb->data_offset >= sb->data_size ||
	    len > sb->data_size - (s - sb->data_offset)) {
		snprintf(err, errlen, "bad-block log entry %d (0x%" PRIx64 ") lies "
			 "outside the data area", i, entry);
		return -EINVAL;
	}
	if (!badblocks_set(bb, s, len, true)) {
		snprintf(err, errlen, "bad-block log entry %d does not fit md's "
			 "%d entries", i, MAX_BADBLOCKS);
		return -EINVAL;
	}
	return 0;
}

int badblocks_decode(const struct md_sb *sb, const uint8_t *log,
		     struct badblocks *bb, char *err, size_t errlen)
{
	for (size_t i = 0; i < (size_t)sb->bblog_size * 512 / 8; i++) {
		uint64_t entry = 0;
		for (int b = 7; b >= 0; b--)
			entry = entry << 8 | log[i * 8 + b];
		if (entry == UINT64_MAX)
			break;
		if (entry == 0)
			continue;     /* md skips an empty slot */
		int r = load_entry(sb, bb, entry, (int)i, err, errlen);
		if (r < 0)
			return r;
	}
	return 0;
}

static int read_log(int fd, const struct md_sb *sb, struct badblocks *bb,
		    char *err, size_t errlen)
{
	uint8_t buf[BB_LOG_MAX_SECTORS * 512];
	size_t len = (size_t)sb->bblog_size * 512;
	uint64_t pos = (sb->super_offset + (int32_t)sb->bblog_offset) * 512;

	if (pread(fd, buf, len, (off_t)pos) != (ssize_t)len) {
		snprintf(err, errlen, "cannot read the bad-block log at sector %"
			 PRIu64, pos / 512);
		return -EIO;
	}
	return badblocks_decode(sb, buf, bb, err, errlen);
}

int badblocks_load(int fd, const struct md_sb *sb, uint64_t member_sectors,
		   struct badblocks *bb, char *err, size_t errlen)
{
	int r = badblocks_validate(sb, member_sectors, err, errlen);

	if (r < 0)
		return r;
	badblocks_init(bb, sb_has_log(sb));
	if (!sb_has_log(sb))
		return 0;
	bb->shift = sb_records(sb) ? sb->bblog_shift : 0;
	bb->sector = (int32_t)sb->bblog_offset;
	bb->size = sb->bblog_size;
	r = sb_records(sb) ? read_log(fd, sb, bb, err, errlen) : 0;
	bb->changed = false;
	if (r < 0)
		badblocks_exit(bb);
	return r;
}
