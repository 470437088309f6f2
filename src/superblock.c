/* md superblocks: level and layout names, mdadm's placement rules, and
 * probing a member for a superblock and storing one.  The byte codecs are
 * super1.c (v1.x) and super0.c (0.90); examine output is examine.c. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "super_int.h"

#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* small helpers                                                        */

void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------ */
/* names                                                                */

/* First entry per number is the name mdadm prints (its map_num). */
static const struct name_map levels[] = {
	{ "linear", MD_LEVEL_LINEAR }, { "raid0", 0 }, { "0", 0 }, { "stripe", 0 },
	{ "raid1", 1 }, { "1", 1 }, { "mirror", 1 }, { "raid4", 4 }, { "4", 4 },
	{ "raid5", 5 }, { "5", 5 }, { "raid6", 6 }, { "6", 6 },
	{ "raid10", 10 }, { "10", 10 }, { NULL, 0 }
};

/* Levels md knows but raidfs does not run: named for examine only. */
static const struct name_map other_levels[] = {
	{ "multipath", -4 }, { "faulty", -5 }, { "container", -100 }, { NULL, 0 }
};

static const struct name_map r5layouts[] = {
	{ "left-asymmetric", 0 }, { "right-asymmetric", 1 },
	{ "left-symmetric", 2 }, { "right-symmetric", 3 },
	{ "default", 2 }, { "la", 0 }, { "ra", 1 }, { "ls", 2 }, { "rs", 3 },
	{ "parity-first", 4 }, { "parity-last", 5 },
	{ "ddf-zero-restart", 1 }, { "ddf-N-restart", 0 }, { "ddf-N-continue", 2 },
	{ NULL, 0 }
};

static const struct name_map r6layouts[] = {
	{ "left-asymmetric", 0 }, { "right-asymmetric", 1 },
	{ "left-symmetric", 2 }, { "right-symmetric", 3 },
	{ "default", 2 }, { "la", 0 }, { "ra", 1 }, { "ls", 2 }, { "rs", 3 },
	{ "parity-first", 4 }, { "parity-last", 5 },
	{ "ddf-zero-restart", 8 }, { "ddf-N-restart", 9 }, { "ddf-N-continue", 10 },
	{ "left-asymmetric-6", 16 }, { "right-asymmetric-6", 17 },
	{ "left-symmetric-6", 18 }, { "right-symmetric-6", 19 },
	{ "parity-first-6", 20 },
	/* md's own names for the ddf rotations, accepted as input only */
	{ "rotating-zero-restart", 8 }, { "rotating-n-restart", 9 },
	{ "rotating-n-continue", 10 },
	{ NULL, 0 }
};

static const struct name_map r0layouts[] = {
	{ "original", 1 }, { "alternate", 2 }, { "1", 1 }, { "2", 2 },
	{ "dangerous", 0 }, { NULL, 0 }
};

const char *map_num(const struct name_map *m, int num)
{
	for (; m->name; m++)
		if (m->num == num)
			return m->name;
	return NULL;
}

static int map_name(const struct name_map *m, const char *name, int *num)
{
	for (; m->name; m++)
		if (strcmp(m->name, name) == 0) {
			*num = m->num;
			return 0;
		}
	return -1;
}

const char *md_level_name(int level)
{
	const char *n = map_num(levels, level);

	return n ? n : map_num(other_levels, level);
}

int md_level_parse(const char *s, int *level)
{
	if (!s)
		return -1;
	return map_name(levels, s, level);
}

const struct name_map *layout_table(int level)
{
	switch (level) {
	case 0: return r0layouts;
	case 4:
	case 5: return r5layouts;
	case 6: return r6layouts;
	default: return NULL;
	}
}

/* raid10: near copies in bits 0-7, far copies in 8-15, bit 16 makes the
 * far copies "offset"; bits 17-18 pick md's far-set variants (1: sets of
 * disks/far, 2: sets of near*far), which mdadm has no names for.  mdadm's
 * "o1" sets the offset bit with one far copy (0x10101, not n1's 0x101):
 * the name keeps the bit so that it parses back to the same layout. */
static const char *r10_name(uint32_t layout, char *buf, size_t len)
{
	unsigned near = layout & 255, far = (layout >> 8) & 255;
	char kind = (layout & 0x10000) ? 'o' : 'f';

	if (layout >> 17 || !near || !far || !buf)
		return NULL;
	if (far == 1 && kind == 'f')
		snprintf(buf, len, "n%u", near);
	else if (near == 1)
		snprintf(buf, len, "%c%u", kind, far);
	else
		snprintf(buf, len, "n%u%c%u", near, kind, far);
	return buf;
}

const char *md_layout_name(int level, uint32_t layout, char *buf, size_t len)
{
	const struct name_map *t = layout_table(level);

	if (level == 10)
		return r10_name(layout, buf, len);
	if (!t || layout > INT_MAX)
		return NULL;
	return map_num(t, (int)layout);
}

static int parse_copies(const char *s, const char **end, unsigned *copies)
{
	char *e;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	v = strtoul(s, &e, 10);
	if (v < 1 || v > 200)   /* mdadm's bound */
		return -1;
	*copies = (unsigned)v;
	*end = e;
	return 0;
}

static int r10_parse(const char *s, uint32_t *layout)
{
	unsigned near = 1, far = 1, c;
	uint32_t offset = 0;
	const char *p = s;

	if (*p == 'n') {
		if (parse_copies(p + 1, &p, &near))
			return -1;
	}
	if (*p == 'f' || *p == 'o') {
		offset = *p == 'o' ? 0x10000 : 0;
		if (parse_copies(p + 1, &p, &c))
			return -1;
		far = c;
	}
	if (*p || p == s)
		return -1;
	*layout = near | far << 8 | offset;
	return 0;
}

int md_layout_parse(int level, const char *s, uint32_t *layout)
{
	const struct name_map *t = layout_table(level);
	int v;

	if (!s)
		return -1;
	if (level == 10)
		return r10_parse(s, layout);
	if (!t || map_name(t, s, &v))
		return -1;
	*layout = (uint32_t)v;
	return 0;
}

/* What mdadm 4.2's Create picks when no --layout is given. */
int md_layout_default(int level, int raid_disks, uint32_t *layout)
{
	(void)raid_disks;
	switch (level) {
	case 0: *layout = 1; return 0;          /* RAID0_ORIG_LAYOUT */
	case 5:
	case 6: *layout = 2; return 0;          /* left-symmetric */
	case 10: *layout = 0x102; return 0;     /* n2 */
	case MD_LEVEL_LINEAR:
	case 1:
	case 4: *layout = 0; return 0;
	default: return -1;
	}
}

void md_uuid_format(const uint8_t uuid[16], char out[36])
{
	char *p = out;

	for (int i = 0; i < 16; i++) {
		if (i && !(i & 3))
			*p++ = ':';
		p += sprintf(p, "%02x", uuid[i]);
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* Like mdadm, separators may sit anywhere; exactly 32 hex digits. */
int md_uuid_parse(const char *s, uint8_t uuid[16])
{
	uint8_t out[16] = { 0 };
	int n = 0;

	if (!s)
		return -1;
	for (; *s; s++) {
		int v = hexval(*s);

		if (v < 0) {
			if (!strchr(":-. ", *s))
				return -1;
			continue;
		}
		if (n == 32)
			return -1;
		out[n / 2] |= (uint8_t)(n & 1 ? v : v << 4);
		n++;
	}
	if (n != 32)
		return -1;
	memcpy(uuid, out, 16);
	return 0;
}

/* ------------------------------------------------------------------ */
/* placement                                                            */

/* mdadm's choose_bm_space: room kept for a bitmap, by device size. */
uint64_t md_sb_bm_space(uint64_t devsize)
{
	if (devsize < 64 * 2)
		return 0;
	if (devsize - 64 * 2 >= 200ull * 1024 * 1024 * 2)
		return 128 * 2;
	if (devsize - 4 * 2 > 8ull * 1024 * 1024 * 2)
		return 64 * 2;
	return 4 * 2;
}

bool level_has_chunk(int level)
{
	return level == 0 || level == 4 || level == 5 || level == 6 || level == 10;
}

/* mdadm's chunk in KiB as Create sees it: striped levels default to 512K. */
static uint64_t chunk_kib(const struct md_sb *sb)
{
	uint64_t c = sb->chunk_sectors / 2;

	if (!c && level_has_chunk(sb->level))
		c = 512;
	return c;
}

/* validate_geometry1: reshape headroom of 128M, halved while it exceeds
 * ~0.1% of the device (never below two chunks), plus metadata and bitmap
 * room, rounded up to 1M. */
static uint64_t default_data_offset(uint64_t devsize, uint64_t bmspace, uint64_t chunk)
{
	uint64_t headroom = 128 * 1024 * 2;

	while ((headroom << 10) > devsize && (chunk == 0 || headroom / 2 >= chunk * 2 * 2))
		headroom >>= 1;
	return round_up(12 * 2 + bmspace + headroom, 2 * 1024);
}

struct placement {
	uint64_t sb_offset, data_offset, freesize, bmspace;
};

static int place_front(struct md_sb *sb, int minor, uint64_t n, struct placement *p,
		       char *err, size_t errlen)
{
	p->sb_offset = minor == 2 ? 8 : 0;
	p->data_offset = sb->data_offset ? sb->data_offset
			 : default_data_offset(n, p->bmspace, chunk_kib(sb));
	if (p->data_offset < p->sb_offset + 8) {
		seterr(err, errlen, "data offset %" PRIu64 " overlaps the 1.%d superblock",
		       p->data_offset, minor);
		return -EINVAL;
	}
	if (n < p->data_offset) {
		seterr(err, errlen, "member too small for 1.%d metadata: needs %" PRIu64
		       " sectors, has %" PRIu64, minor, p->data_offset + 1, n);
		return -EINVAL;
	}
	p->freesize = n - p->data_offset;
	return 0;
}

static int place_end(int minor, uint64_t n, struct placement *p, char *err, size_t errlen)
{
	uint64_t overhead = minor == 90 ? SB090_RESERVED : 8 * 2 + 8 + p->bmspace;
	uint64_t aligned = minor == 90 ? n & ~(uint64_t)(SB090_RESERVED - 1) : n & ~7ull;

	if (aligned <= overhead) {
		seterr(err, errlen, "member too small for %s metadata: needs %" PRIu64
		       " sectors, has %" PRIu64, minor == 90 ? "0.90" : "1.0",
		       overhead + (minor == 90 ? SB090_RESERVED : 8), n);
		return -EINVAL;
	}
	p->freesize = aligned - overhead;
	p->sb_offset = minor == 90 ? aligned - SB090_RESERVED : (n - 16) & ~7ull;
	p->data_offset = 0;
	return 0;
}

/* Create's default component size: free space in KiB rounded to the
 * chunk, raid1 to 64K (so it can be reshaped to raid5 later). */
static uint64_t default_size(const struct md_sb *sb, uint64_t freesize)
{
	uint64_t kib = freesize / 2, c = chunk_kib(sb);

	if (c)
		kib &= ~(c - 1);
	if (sb->level == 1)
		kib &= ~63ull;
	return kib * 2;
}

static int set_size(struct md_sb *sb, const struct placement *p, int minor,
		    char *err, size_t errlen)
{
	if (sb->size == 0 && sb->level > 0) {
		sb->size = default_size(sb, p->freesize);
		if (sb->size == 0) {
			seterr(err, errlen, "no free space left on member (%" PRIu64 " sectors)",
			       p->freesize);
			return -EINVAL;
		}
	}
	/* 0.90 records the size in KiB in 32 bits: mdadm stops at 4 TiB */
	if (minor == 90 && sb->level > 0 && sb->size >= 4ull << 31) {
		seterr(err, errlen, "0.90 metadata supports at most 4 terabytes per device");
		return -EINVAL;
	}
	if (sb->size > p->freesize) {
		seterr(err, errlen, "member too small: needs %" PRIu64 " data sectors, has %" PRIu64,
		       sb->size, p->freesize);
		return -EINVAL;
	}
	return 0;
}

/* write_init_super1 for 1.0: bitmap and bad-block log sit below the sb. */
static void finish_end(struct md_sb *sb, const struct placement *p, uint64_t bitmap)
{
	uint64_t bm = (bitmap ? round_up(bitmap, 8) : md_sb_bm_space(sb->size)) + 8;

	if (p->sb_offset < sb->size + bm)
		bm = p->sb_offset - sb->size;
	sb->data_size = p->sb_offset - bm - sb->data_offset;
	sb->bblog_size = bm >= 8 ? 8 : 0;
	sb->bblog_offset = bm >= 8 ? (uint32_t)-8 : 0;
	if (bitmap)
		sb->bitmap_offset = -(int32_t)round_up(bitmap, 8) - 8;
}

/* write_init_super1 for 1.1/1.2: bitmap 4K after the sb, bblog after it. */
static void finish_front(struct md_sb *sb, const struct placement *p, uint64_t n,
			 uint64_t bitmap)
{
	uint64_t bm = bitmap ? round_up(bitmap, 8) : md_sb_bm_space(sb->size);
	uint64_t bm_offset = 8;

	sb->data_size = n - p->data_offset;
	sb->bblog_size = 0;
	sb->bblog_offset = 0;
	if (p->data_offset >= p->sb_offset + bm_offset + bm + 8) {
		sb->bblog_size = 8;
		sb->bblog_offset = (uint32_t)(bm_offset + bm);
	} else if (p->data_offset >= p->sb_offset + 16) {
		sb->bblog_size = 8;
		sb->bblog_offset = (uint32_t)(p->data_offset - 8 - p->sb_offset);
	}
	if (bitmap)
		sb->bitmap_offset = (int32_t)bm_offset;
}

static void finish_090(struct md_sb *sb, const struct placement *p)
{
	sb->data_offset = 0;
	sb->data_size = p->sb_offset;
	sb->max_dev = MD_SB090_DISKS;
	sb->bitmap_offset = sb->feature_map & F_BITMAP_OFFSET ? 8 : 0;
}

int md_sb_place(struct md_sb *sb, int minor, uint64_t member_sectors,
		uint64_t bitmap_sectors, char *err, size_t errlen)
{
	struct placement p = { 0 };
	int rc;

	if (minor != 0 && minor != 1 && minor != 2 && minor != 90) {
		seterr(err, errlen, "unknown metadata version %s%d", minor > 2 ? "0." : "1.", minor);
		return -EINVAL;
	}
	if (minor == 90 && bitmap_sectors > 120) {
		seterr(err, errlen, "0.90 bitmap must fit in 60K, asked for %" PRIu64 " sectors",
		       bitmap_sectors);
		return -EINVAL;
	}
	if (minor != 90 && member_sectors < 24) {
		seterr(err, errlen, "member too small for md: needs 24 sectors, has %" PRIu64,
		       member_sectors);
		return -EINVAL;
	}
	p.bmspace = md_sb_bm_space(member_sectors);
	if (bitmap_sectors > p.bmspace)
		p.bmspace = round_up(bitmap_sectors, 8);
	rc = minor == 1 || minor == 2 ? place_front(sb, minor, member_sectors, &p, err, errlen)
				      : place_end(minor, member_sectors, &p, err, errlen);
	if (rc == 0)
		rc = set_size(sb, &p, minor, err, errlen);
	if (rc)
		return rc;
	sb->major = minor == 90 ? 0 : 1;
	sb->minor = minor;
	sb->super_offset = p.sb_offset;
	sb->data_offset = p.data_offset;
	sb->member_sectors = member_sectors;
	if (bitmap_sectors)
		sb->feature_map |= F_BITMAP_OFFSET;
	if (minor == 90)
		finish_090(sb, &p);
	else if (minor == 0)
		finish_end(sb, &p, bitmap_sectors);
	else
		finish_front(sb, &p, member_sectors, bitmap_sectors);
	return 0;
}

/* ------------------------------------------------------------------ */
/* loading and storing                                                  */

int member_bytes(int fd, uint64_t *bytes)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISBLK(st.st_mode))
		return ioctl(fd, BLKGETSIZE64, bytes) < 0 ? -errno : 0;
	*bytes = (uint64_t)st.st_size;
	return 0;
}

ssize_t read_at(int fd, uint8_t *buf, size_t len, uint64_t off)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, buf + got, len - got, (off_t)(off + got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

enum probe_kind { P_11, P_12, P_10, P_090, P_COUNT };

static const char *const kind_name[P_COUNT] = { "1.1", "1.2", "1.0", "0.90" };

static bool probe_offset(enum probe_kind k, uint64_t sectors, uint64_t *off)
{
	switch (k) {
	case P_11: *off = 0; return true;
	case P_12: *off = 8; return true;
	case P_10: *off = (sectors - 16) & ~7ull; return sectors >= 24;
	default:
		*off = (sectors & ~(uint64_t)(SB090_RESERVED - 1)) - SB090_RESERVED;
		return sectors >= SB090_RESERVED;
	}
}

static int truncated(char *err, size_t errlen, const char *what, uint64_t need, uint64_t have)
{
	seterr(err, errlen, "member truncated: %s needs %" PRIu64 " sectors, has %" PRIu64,
	       what, need, have);
	return -EINVAL;
}

static int decode_at(const uint8_t *buf, size_t got, enum probe_kind k, uint64_t off,
		     struct md_sb *sb, bool strict, char *err, size_t errlen)
{
	size_t need = k == P_090 ? SB_REGION
		      : got >= V1_MAX_DEV + 4 ? SB_V1_FIXED + 2 * (size_t)v1_max_dev_of(buf)
		      : SB_V1_FIXED;
	char what[64];
	int rc;

	if (got < need) {
		snprintf(what, sizeof(what), "%s superblock at sector %" PRIu64, kind_name[k], off);
		return truncated(err, errlen, what, off + (need + 511) / 512, off + got / 512);
	}
	rc = k == P_090 ? decode_090(buf, sb, strict, err, errlen)
			: v1_decode(buf, got, sb, strict, err, errlen);
	if (rc)
		return rc;
	if (k != P_090 && sb->super_offset != off) {
		seterr(err, errlen, "superblock found at sector %" PRIu64 " records super_offset %"
		       PRIu64, off, sb->super_offset);
		return -EINVAL;
	}
	sb->super_offset = off;
	if (k == P_090)
		sb->data_size = off;
	return 0;
}

/* 0 and sb filled, 1 no superblock here, <0 with err for a bad one. */
static int probe(int fd, enum probe_kind k, uint64_t bytes, struct md_sb *sb,
		 bool strict, char *err, size_t errlen)
{
	uint8_t buf[SB_REGION];
	uint64_t off, n = bytes / 512;
	ssize_t got;
	int rc;

	if (!probe_offset(k, n, &off))
		return 1;
	got = read_at(fd, buf, sizeof(buf), off * 512);
	if (got < 0)
		return (int)got;
	if (got < 8 || get32(buf) != SB_MAGIC || get32(buf + 4) != (k == P_090 ? 0u : 1u))
		return 1;
	rc = decode_at(buf, (size_t)got, k, off, sb, strict, err, errlen);
	if (rc == 0)
		sb->member_sectors = n;
	if (rc == 0 && strict)
		rc = md_sb_check(sb, err, errlen);
	return rc;
}

int md_sb_load_flags(int fd, struct md_sb *sb, unsigned flags, char *err, size_t errlen)
{
	bool strict = !(flags & MD_SB_LOAD_LENIENT);
	struct md_sb *cand = g_new0(struct md_sb, 1);
	int first_err = 0, best = -1;
	char msg[256] = "";
	uint64_t bytes;
	int rc = member_bytes(fd, &bytes);

	for (int k = 0; rc == 0 && k < P_COUNT; k++) {
		char e[256] = "";
		int r = probe(fd, (enum probe_kind)k, bytes, cand, strict, e, sizeof(e));

		if (r == -EINVAL && !first_err) {
			first_err = r;
			snprintf(msg, sizeof(msg), "%s", e);
		} else if (r < 0 && r != -EINVAL) {
			rc = r;
		} else if (r == 0 && (best < 0 || cand->ctime > sb->ctime)) {
			/* several: the newest wins, as in mdadm's guess_super */
			*sb = *cand;
			best = k;
		}
	}
	g_free(cand);
	if (rc)
		return rc;
	if (best >= 0)
		return 0;
	if (first_err)
		seterr(err, errlen, "%s", msg);
	else
		seterr(err, errlen, "no md superblock found");
	return first_err ? first_err : -ENOENT;
}

int md_sb_load(int fd, struct md_sb *sb, char *err, size_t errlen)
{
	return md_sb_load_flags(fd, sb, 0, err, errlen);
}

static int write_all(int fd, const uint8_t *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pwrite(fd, buf + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	return 0;
}

static int expected_offset(const struct md_sb *sb, uint64_t sectors, uint64_t *off)
{
	enum probe_kind k;

	if (sb->major == 0)
		k = P_090;
	else if (sb->minor >= 0 && sb->minor <= 2)
		k = sb->minor == 0 ? P_10 : sb->minor == 1 ? P_11 : P_12;
	else
		return -EINVAL;
	return probe_offset(k, sectors, off) ? 0 : -EINVAL;
}

int md_sb_encode(int fd, const struct md_sb *sb, uint8_t buf[4096], uint64_t *pos)
{
	uint64_t bytes, off;
	size_t len = SB_REGION;
	int rc = member_bytes(fd, &bytes);

	if (rc)
		return rc;
	if (expected_offset(sb, bytes / 512, &off) || off != sb->super_offset)
		return -EINVAL;
	if (sb->major == 0)
		md_sb_encode_090(sb, buf);
	else
		len = md_sb_encode_v1(sb, buf);
	*pos = off * 512;
	return (int)len;
}

int md_sb_store(int fd, const struct md_sb *sb)
{
	uint8_t buf[SB_REGION];
	uint64_t pos;
	int rc = md_sb_encode(fd, sb, buf, &pos);

	if (rc < 0)
		return rc;
	rc = write_all(fd, buf, rc, pos);
	if (rc == 0 && fdatasync(fd) < 0)
		rc = -errno;
	return rc;
}
