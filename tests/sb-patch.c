/* Test helper: sb-patch [--no-csum] [--copy-from FILE] MEMBER FIELD VALUE...
 *
 * With --copy-from FILE, MEMBER is first made a sparse copy of FILE.
 * Sets fields of a member's md superblock (v1.x or 0.90) or of its
 * internal bitmap's superblock at their raw on-disk places, then recomputes
 * the superblock checksum (unless --no-csum), so that hostile values get
 * past the checksum.  Field names are md_p.h's (struct mdp_superblock_1,
 * mdp_super_t with disks[N].number ... and this_disk.state) plus
 * logical_block_size (v1 byte 12, pad0 in older headers), and
 * bitmap.<field> of md-bitmap.h's bitmap_super_t.  An array field takes an
 * index: set_uuid[3], dev_roles[1], gstate_creserved[0].  VALUE is decimal
 * or 0x hex, up to 64 bits; a negative one is stored in two's complement.
 * With a FIELD and no VALUE, the superblock field is printed in decimal.
 *
 * The superblock is found as md_sb_load finds it (leniently, so that a
 * field raidfs would refuse can be patched again); the bitmap superblock is
 * at super_offset + bitmap_offset (v1, as on disk before this patch) or
 * 4 KiB after the 0.90 superblock.  Setting sb_csum implies --no-csum. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/raid/md_p.h>
#include "../src/super_int.h"

struct field {
	const char *name;
	size_t off;      /* bytes from the start of the structure */
	size_t width;    /* bytes of one element: 1, 2, 4 or 8 */
	size_t count;    /* elements; 1 for a scalar */
};

#define V1 struct mdp_superblock_1
#define SCALAR(T, f) { #f, offsetof(T, f), sizeof(((T *)0)->f), 1 }
#define ARRAY(T, f) { #f, offsetof(T, f), sizeof(((T *)0)->f[0]), \
		      sizeof(((T *)0)->f) / sizeof(((T *)0)->f[0]) }

static const struct field v1_fields[] = {
	SCALAR(V1, magic), SCALAR(V1, major_version), SCALAR(V1, feature_map),
	SCALAR(V1, pad0), { "logical_block_size", V1_LBS, 4, 1 },
	ARRAY(V1, set_uuid), ARRAY(V1, set_name), SCALAR(V1, ctime),
	SCALAR(V1, level), SCALAR(V1, layout), SCALAR(V1, size),
	SCALAR(V1, chunksize), SCALAR(V1, raid_disks), SCALAR(V1, bitmap_offset),
	{ "ppl.offset", offsetof(V1, ppl.offset), 2, 1 },
	{ "ppl.size", offsetof(V1, ppl.size), 2, 1 },
	SCALAR(V1, new_level), SCALAR(V1, reshape_position),
	SCALAR(V1, delta_disks), SCALAR(V1, new_layout), SCALAR(V1, new_chunk),
	SCALAR(V1, new_offset), SCALAR(V1, data_offset), SCALAR(V1, data_size),
	SCALAR(V1, super_offset), SCALAR(V1, recovery_offset),
	SCALAR(V1, journal_tail), SCALAR(V1, dev_number),
	SCALAR(V1, cnt_corrected_read), ARRAY(V1, device_uuid),
	SCALAR(V1, devflags), SCALAR(V1, bblog_shift), SCALAR(V1, bblog_size),
	SCALAR(V1, bblog_offset), SCALAR(V1, utime), SCALAR(V1, events),
	SCALAR(V1, resync_offset), SCALAR(V1, sb_csum), SCALAR(V1, max_dev),
	ARRAY(V1, pad3),
	{ "dev_roles", offsetof(V1, dev_roles), 2, (SB_REGION - SB_V1_FIXED) / 2 },
	{ NULL, 0, 0, 0 },
};

#define S0 mdp_super_t
static const struct field v090_fields[] = {
	SCALAR(S0, md_magic), SCALAR(S0, major_version), SCALAR(S0, minor_version),
	SCALAR(S0, patch_version), SCALAR(S0, gvalid_words), SCALAR(S0, set_uuid0),
	SCALAR(S0, ctime), SCALAR(S0, level), SCALAR(S0, size),
	SCALAR(S0, nr_disks), SCALAR(S0, raid_disks), SCALAR(S0, md_minor),
	SCALAR(S0, not_persistent), SCALAR(S0, set_uuid1), SCALAR(S0, set_uuid2),
	SCALAR(S0, set_uuid3), ARRAY(S0, gstate_creserved),
	SCALAR(S0, utime), SCALAR(S0, state), SCALAR(S0, active_disks),
	SCALAR(S0, working_disks), SCALAR(S0, failed_disks),
	SCALAR(S0, spare_disks), SCALAR(S0, sb_csum), SCALAR(S0, events_hi),
	SCALAR(S0, events_lo), SCALAR(S0, cp_events_hi), SCALAR(S0, cp_events_lo),
	SCALAR(S0, recovery_cp), SCALAR(S0, reshape_position),
	SCALAR(S0, new_level), SCALAR(S0, delta_disks), SCALAR(S0, new_layout),
	SCALAR(S0, new_chunk), ARRAY(S0, gstate_sreserved),
	SCALAR(S0, layout), SCALAR(S0, chunk_size), SCALAR(S0, root_pv),
	SCALAR(S0, root_block), ARRAY(S0, pstate_reserved), ARRAY(S0, reserved),
	{ NULL, 0, 0, 0 },
};

/* mdp_disk_t, the element of disks[] and this_disk */
static const struct field disk_fields[] = {
	SCALAR(mdp_disk_t, number), SCALAR(mdp_disk_t, major),
	SCALAR(mdp_disk_t, minor), SCALAR(mdp_disk_t, raid_disk),
	SCALAR(mdp_disk_t, state), ARRAY(mdp_disk_t, reserved),
	{ NULL, 0, 0, 0 },
};

/* bitmap_super_t (md-bitmap.h; not a uapi header), little-endian */
static const struct field bitmap_fields[] = {
	{ "magic", 0, 4, 1 }, { "version", 4, 4, 1 }, { "uuid", 8, 1, 16 },
	{ "events", 24, 8, 1 }, { "events_cleared", 32, 8, 1 },
	{ "sync_size", 40, 8, 1 }, { "state", 48, 4, 1 },
	{ "chunksize", 52, 4, 1 }, { "daemon_sleep", 56, 4, 1 },
	{ "write_behind", 60, 4, 1 }, { "sectors_reserved", 64, 4, 1 },
	{ "nodes", 68, 4, 1 }, { "cluster_name", 72, 1, 64 },
	{ NULL, 0, 0, 0 },
};
#define BITMAP_SB_BYTES 256

/* "name" or "name[i]" at s, against table t: the field's byte offset and
 * width, and the rest of s after it.  NULL if there is no such field. */
static const struct field *lookup(const struct field *t, const char *s,
				  size_t *off, const char **rest)
{
	for (; t->name; t++) {
		size_t n = strlen(t->name);
		if (strncmp(t->name, s, n) || (s[n] && s[n] != '[' && s[n] != '.'))
			continue;
		unsigned long i = 0;
		const char *p = s + n;
		if (t->count > 1 || *p == '[') {
			char *end;
			if (*p != '[')
				return NULL;
			errno = 0;
			i = strtoul(p + 1, &end, 10);
			if (errno || end == p + 1 || *end != ']' || i >= t->count)
				return NULL;
			p = end + 1;
		}
		*off = t->off + i * t->width;
		*rest = p;
		return t;
	}
	return NULL;
}

enum area { AREA_SB, AREA_BITMAP };

/* Where FIELD lives: area, byte offset in it, width.  0.90 nests
 * disks[N].<mdp_disk_t field> and this_disk.<field>. */
static int resolve(const char *name, bool v090, enum area *area,
		   size_t *off, size_t *width)
{
	const struct field *f;
	const char *rest;
	size_t base = 0;

	*area = AREA_SB;
	if (!strncmp(name, "bitmap.", 7)) {
		*area = AREA_BITMAP;
		f = lookup(bitmap_fields, name + 7, off, &rest);
	} else if (!v090) {
		f = lookup(v1_fields, name, off, &rest);
	} else if (!strncmp(name, "disks[", 6) || !strncmp(name, "this_disk.", 10)) {
		char *end;
		unsigned long d = 0;
		if (name[0] == 'd') {
			d = strtoul(name + 6, &end, 10);
			if (end == name + 6 || strncmp(end, "].", 2) || d >= MD_SB_DISKS)
				return -1;
			base = offsetof(mdp_super_t, disks) + d * sizeof(mdp_disk_t);
			name = end + 2;
		} else {
			base = offsetof(mdp_super_t, this_disk);
			name += 10;
		}
		f = lookup(disk_fields, name, off, &rest);
	} else {
		f = lookup(v090_fields, name, off, &rest);
	}
	if (!f || *rest)
		return -1;
	*off += base;
	*width = f->width;
	return 0;
}

/* VALUE, checked to fit width bytes (signed or unsigned). */
static int parse_value(const char *s, size_t width, uint64_t *v)
{
	char *end;
	uint64_t max = width == 8 ? UINT64_MAX : (1ull << (8 * width)) - 1;

	errno = 0;
	if (*s == '-') {
		int64_t n = strtoll(s, &end, 0);
		if (errno || *end || end == s || (width < 8 && n < -(1ll << (8 * width - 1))))
			return -1;
		*v = (uint64_t)n & max;
		return 0;
	}
	*v = strtoull(s, &end, 0);
	return errno || *end || end == s || *v > max ? -1 : 0;
}

/* v1 and the bitmap are little-endian, 0.90 host-endian. */
static void store(uint8_t *p, size_t width, uint64_t v, bool host)
{
	if (host) {
		uint8_t b1 = (uint8_t)v; uint16_t b2 = (uint16_t)v;
		uint32_t b4 = (uint32_t)v;
		memcpy(p, width == 1 ? (void *)&b1 : width == 2 ? (void *)&b2 :
		       width == 4 ? (void *)&b4 : (void *)&v, width);
		return;
	}
	for (size_t i = 0; i < width; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t fetch(const uint8_t *p, size_t width, bool host)
{
	uint64_t v = 0;

	if (host) {
		uint8_t b1; uint16_t b2; uint32_t b4;
		switch (width) {
		case 1: memcpy(&b1, p, 1); return b1;
		case 2: memcpy(&b2, p, 2); return b2;
		case 4: memcpy(&b4, p, 4); return b4;
		default: memcpy(&v, p, 8); return v;
		}
	}
	for (size_t i = 0; i < width; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static int io_all(int fd, uint8_t *buf, size_t len, uint64_t off, bool wr)
{
	ssize_t n = wr ? pwrite(fd, buf, len, (off_t)off) : pread(fd, buf, len, (off_t)off);

	return n == (ssize_t)len ? 0 : -1;
}

/* MEMBER as a sparse copy of FROM, so that a test makes a case in one step. */
static int copy_sparse(const char *from, const char *to)
{
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	static uint8_t buf[1 << 16];
	off_t end = in < 0 ? -1 : lseek(in, 0, SEEK_END), pos = 0;
	int rc = in < 0 || out < 0 || end < 0 || ftruncate(out, end) < 0 ? -1 : 0;

	while (rc == 0 && (pos = lseek(in, pos, SEEK_DATA)) >= 0) {
		off_t hole = lseek(in, pos, SEEK_HOLE);
		while (rc == 0 && pos < hole) {
			size_t len = hole - pos < (off_t)sizeof(buf) ? (size_t)(hole - pos) : sizeof(buf);
			rc = io_all(in, buf, len, (uint64_t)pos, false) < 0 ||
			     io_all(out, buf, len, (uint64_t)pos, true) < 0 ? -1 : 0;
			pos += (off_t)len;
		}
	}
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out) < 0)
		rc = -1;
	if (rc < 0)
		fprintf(stderr, "sb-patch: cannot copy %s to %s: %s\n", from, to, strerror(errno));
	return rc;
}

static int usage(void)
{
	fprintf(stderr, "usage: sb-patch [--no-csum] [--copy-from FILE] MEMBER FIELD VALUE [FIELD VALUE...]\n"
			"       sb-patch MEMBER FIELD   (prints a superblock field)\n");
	return 2;
}

int main(int argc, char **argv)
{
	bool csum = true;
	struct md_sb sb;
	char err[256];
	uint8_t sbuf[SB_REGION], bbuf[BITMAP_SB_BYTES];
	bool bitmap_touched = false;
	const char *from = NULL;

	for (;;) {
		if (argc > 1 && !strcmp(argv[1], "--no-csum")) {
			csum = false;
			argc--, argv++;
		} else if (argc > 2 && !strcmp(argv[1], "--copy-from")) {
			from = argv[2];
			argc -= 2, argv += 2;
		} else {
			break;
		}
	}
	bool print = argc == 3 && !from;
	if (!print && (argc < 4 || argc % 2))
		return usage();
	const char *path = argv[1];
	if (from && copy_sparse(from, path) < 0)
		return 1;
	int fd = open(path, O_RDWR);
	if (fd < 0 || md_sb_load_flags(fd, &sb, MD_SB_LOAD_LENIENT, err, sizeof(err)) < 0) {
		fprintf(stderr, "sb-patch: %s: no superblock to patch (%s)\n", path,
			fd < 0 ? strerror(errno) : err);
		return 1;
	}
	bool v090 = sb.major == 0;
	uint64_t sb_pos = sb.super_offset * 512;
	if (io_all(fd, sbuf, sizeof(sbuf), sb_pos, false) < 0) {
		fprintf(stderr, "sb-patch: %s: cannot read the superblock\n", path);
		return 1;
	}
	/* the bitmap is where the superblock on disk puts it, before patching */
	uint64_t bm_pos = v090 ? sb_pos + MD_SB_BYTES
		: (uint64_t)((int64_t)sb.super_offset + (int32_t)get32(sbuf + V1_BITMAP_OFFSET)) * 512;
	for (int i = 2; i < argc; i += 2) {
		enum area area;
		size_t off, width;
		uint64_t v;
		if (resolve(argv[i], v090, &area, &off, &width) < 0 ||
		    (print && area != AREA_SB)) {
			fprintf(stderr, "sb-patch: no %s field %s\n", v090 ? "0.90" : "v1", argv[i]);
			return 2;
		}
		if (print) {
			printf("%" PRIu64 "\n", fetch(sbuf + off, width, v090));
			return 0;
		}
		if (parse_value(argv[i + 1], width, &v) < 0) {
			fprintf(stderr, "sb-patch: %s: %s does not fit %zu bytes\n",
				argv[i], argv[i + 1], width);
			return 2;
		}
		if (area == AREA_BITMAP && !bitmap_touched) {
			if (io_all(fd, bbuf, sizeof(bbuf), bm_pos, false) < 0) {
				fprintf(stderr, "sb-patch: %s: cannot read the bitmap superblock\n", path);
				return 1;
			}
			bitmap_touched = true;
		}
		/* a checksum set by hand is the point of the patch */
		csum &= !(area == AREA_SB && !strcmp(argv[i], "sb_csum"));
		store(area == AREA_SB ? sbuf + off : bbuf + off, width, v,
		      area == AREA_SB && v090);
	}
	if (bitmap_touched && io_all(fd, bbuf, sizeof(bbuf), bm_pos, true) < 0) {
		fprintf(stderr, "sb-patch: %s: cannot write the bitmap superblock\n", path);
		return 1;
	}
	if (csum) {
		if (v090)
			set_hw(sbuf, W_CSUM, csum_090(sbuf));
		else
			put32(sbuf + V1_SB_CSUM, md_sb_csum_v1(sbuf));
	}
	if (io_all(fd, sbuf, sizeof(sbuf), sb_pos, true) < 0) {
		fprintf(stderr, "sb-patch: %s: cannot write the superblock\n", path);
		return 1;
	}
	close(fd);
	return 0;
}
