/* "raidfs examine": a superblock in mdadm --examine's words and format,
 * reading from the member what mdadm would (bitmap superblock, raw bytes). */
#include "super_int.h"

#include <fcntl.h>
#include <glib.h>
#include <inttypes.h>
#include <limits.h>
#include <time.h>
#include <unistd.h>

#define BITMAP_MAGIC        0x6d746962u

/* mdadm's human_size: MiB/MB below 2GiB, GiB/GB below 2TiB, else TiB/TB,
 * each rounded to hundredths. */
static const char *human_size(long long bytes, char *buf, size_t len)
{
	long long c1, c2;
	const char *u1, *u2;

	if (bytes < 5000 * 1024) {
		buf[0] = 0;
		return buf;
	}
	if (bytes < 2 * 1024LL * 1024 * 1024) {
		c1 = (bytes * 200 / (1LL << 20) + 1) / 2;
		c2 = (bytes / (1000000LL / 200) + 1) / 2;
		u1 = "MiB", u2 = "MB";
	} else if (bytes < 2 * 1024LL * 1024 * 1024 * 1024) {
		c1 = (bytes * 200 / (1LL << 30) + 1) / 2;
		c2 = (bytes / (1000000000LL / 200) + 1) / 2;
		u1 = "GiB", u2 = "GB";
	} else {   /* 128 bits: a hostile size must not overflow bytes * 200 */
		c1 = (long long)(((__int128)bytes * 200 / (1LL << 40) + 1) / 2);
		c2 = (bytes / (1000000000000LL / 200) + 1) / 2;
		u1 = "TiB", u2 = "TB";
	}
	snprintf(buf, len, " (%lld.%02lld %s %lld.%02lld %s)", c1 / 100, c1 % 100, u1,
		 c2 / 100, c2 % 100, u2);
	return buf;
}

static void print_time(FILE *out, const char *label, uint64_t t)
{
	time_t tt = (time_t)t;
	char buf[64];

	if (!ctime_r(&tt, buf))
		snprintf(buf, sizeof(buf), "%" PRIu64, t);
	fprintf(out, "%s : %.24s\n", label, buf);
}

static void print_uuid(FILE *out, const char *label, const uint8_t uuid[16])
{
	char u[36];

	md_uuid_format(uuid, u);
	fprintf(out, "%s : %s\n", label, u);
}

static const char *homehost(char *buf, size_t len)
{
	if (gethostname(buf, len - 1) < 0)
		return NULL;
	buf[len - 1] = 0;
	return buf;
}

static void print_r10_layout(FILE *out, uint32_t layout)
{
	unsigned near = layout & 255, far = (layout >> 8) & 255;
	const char *sep = "";

	if (near != 1) {
		fprintf(out, "%s near=%u", sep, near);
		sep = ",";
	}
	if (far != 1)
		fprintf(out, "%s %s=%u", sep, layout & 0x10000 ? "offset" : "far", far);
	if (near * far == 1)
		fprintf(out, "NO REDUNDANCY");
}

static void print_layout_line(FILE *out, const char *label, int level, uint32_t layout)
{
	const struct name_map *t = layout_table(level);
	const char *n = t && layout <= INT_MAX ? map_num(t, (int)layout) : NULL;

	if (level == 10) {
		fprintf(out, "%s :", label);
		print_r10_layout(out, layout);
		fprintf(out, "\n");
		return;
	}
	fprintf(out, "%s : %s\n", label, n ? n : "-unknown-");
}

/* What examine needs from the member beyond the superblock itself. */
struct exam_ctx {
	uint64_t dev_sectors;
	bool have_csum;           /* checksum of the bytes on the member */
	uint32_t csum, csum_expected;
	uint32_t feature_map;     /* bitmap bit dropped if its sb is unusable */
	bool have_bms;
	uint64_t bm_sync_size;
	uint32_t bm_chunk, bm_nodes;
	char cluster[65];
};

static void read_bitmap_sb(int fd, const struct md_sb *sb, struct exam_ctx *x)
{
	uint8_t b[512];
	int64_t at = (int64_t)sb->super_offset + sb->bitmap_offset;

	if (at < 0 || read_at(fd, b, sizeof(b), (uint64_t)at * 512) != sizeof(b) ||
	    get32(b) != BITMAP_MAGIC || memcmp(b + 8, sb->set_uuid, 16)) {
		/* mdadm's load_super1 forgets a bitmap it cannot verify */
		x->feature_map &= ~F_BITMAP_OFFSET;
		return;
	}
	x->have_bms = true;
	x->bm_sync_size = get64(b + 40);
	x->bm_chunk = get32(b + 52);
	x->bm_nodes = get32(b + 68);
	memcpy(x->cluster, b + 72, 64);
	x->cluster[64] = 0;
}

/* mdadm checksums the superblock as it holds it in memory, i.e. after
 * dropping an unverifiable bitmap bit; so do the same on the real bytes. */
static void read_csum(int fd, const struct md_sb *sb, struct exam_ctx *x)
{
	uint8_t b[SB_REGION];

	if (read_at(fd, b, sizeof(b), sb->super_offset * 512) != sizeof(b) ||
	    get32(b + V1_MAGIC) != SB_MAGIC || get64(b + V1_SUPER_OFFSET) != sb->super_offset)
		return;
	put32(b + V1_FEATURE, get32(b + V1_FEATURE) & (x->feature_map | ~F_BITMAP_OFFSET));
	x->have_csum = true;
	x->csum = get32(b + V1_SB_CSUM);
	x->csum_expected = md_sb_csum_v1(b);
}

static void exam_ctx_init(const char *path, const struct md_sb *sb, struct exam_ctx *x)
{
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	uint64_t bytes;

	memset(x, 0, sizeof(*x));
	x->dev_sectors = sb->member_sectors;
	x->feature_map = sb->feature_map;
	if (fd < 0)
		return;
	if (!x->dev_sectors && member_bytes(fd, &bytes) == 0)
		x->dev_sectors = bytes / 512;
	if (sb->feature_map & F_BITMAP_OFFSET)
		read_bitmap_sb(fd, sb, x);
	if (sb->csum_known)
		read_csum(fd, sb, x);
	close(fd);
}

static uint64_t bitmap_bytes(const struct exam_ctx *x)
{
	uint64_t bits, bytes;

	if (!x->have_bms || !x->bm_chunk)
		return 0;
	bits = (x->bm_sync_size * 512 + x->bm_chunk - 1) / x->bm_chunk;
	bytes = (bits + 7) / 8 + 256;
	return round_up(bytes, 4096);
}

static bool any_ppl(uint32_t f) { return f & (F_PPL | F_MULTIPLE_PPLS); }

/* getinfo_super1's space_before/space_after, quirks included. */
static void unused_space(const struct md_sb *sb, const struct exam_ctx *x,
			 uint64_t *before, uint64_t *after)
{
	int64_t bmoff = (x->feature_map & F_BITMAP_OFFSET) ? sb->bitmap_offset : 0;
	int64_t pploff = !(x->feature_map & F_BITMAP_OFFSET) && any_ppl(sb->feature_map)
			 ? (int16_t)(sb->bitmap_offset & 0xffff) : 0;
	uint64_t pplsize = pploff ? (uint32_t)sb->bitmap_offset >> 16 : 0;
	uint64_t data_size = sb->level <= 0 ? sb->data_size : sb->size;
	uint64_t so = sb->super_offset;
	bool bblog = sb->bblog_offset && sb->bblog_size;

	*before = *after = 0;
	if (sb->data_offset < so) {
		uint64_t end = so;

		if (bblog && so + (int32_t)sb->bblog_offset < end)
			end = so + (int32_t)sb->bblog_offset;
		if (so + bmoff + pploff < end)
			end = so + bmoff + pploff;
		*before = sb->data_offset;
		if (sb->data_offset + data_size < end)
			*after = end - data_size - sb->data_offset;
	} else {
		uint64_t earliest = so + (32 + 4) * 2;

		/* mdadm compares bitmap/ppl ends without adding super_offset */
		if (bmoff > 0 && (uint64_t)bmoff + bitmap_bytes(x) / 512 > earliest)
			earliest = (uint64_t)bmoff + bitmap_bytes(x) / 512;
		else if (bmoff <= 0 && pploff > 0 && (uint64_t)pploff + pplsize > earliest)
			earliest = (uint64_t)pploff + pplsize;
		if (bblog && so + (int32_t)sb->bblog_offset + sb->bblog_size > earliest)
			earliest = so + (int32_t)sb->bblog_offset + sb->bblog_size;
		*before = earliest < sb->data_offset ? sb->data_offset - earliest : 0;
		*after = x->dev_sectors - data_size - sb->data_offset;
	}
	if (*before == 0 && *after == 0)
		*after = 1;
}

static uint16_t own_role(const struct md_sb *sb)
{
	if (sb->dev_number < sb->max_dev && sb->dev_number < MD_SB_MAX_ROLES)
		return sb->dev_roles[sb->dev_number];
	return MD_ROLE_SPARE;
}

static uint32_t roles_held(const struct md_sb *sb)
{
	return sb->max_dev < MD_SB_MAX_ROLES ? sb->max_dev : MD_SB_MAX_ROLES;
}

/* Slots a shrinking reshape still has; unsigned, as delta_disks may be
 * INT32_MIN. */
static uint32_t delta_extra(const struct md_sb *sb)
{
	return (sb->feature_map & F_RESHAPE_ACTIVE) && sb->delta_disks < 0
	       ? 0u - (uint32_t)sb->delta_disks : 0;
}

static void exam_v1_head(FILE *out, const struct md_sb *sb, const struct exam_ctx *x)
{
	char host[256];
	const char *hh = homehost(host, sizeof(host));
	size_t l = hh ? strlen(hh) : 0;
	const char *lvl = md_level_name(sb->level);

	fprintf(out, "          Magic : %08x\n", SB_MAGIC);
	fprintf(out, "        Version : 1.%d\n",
		sb->super_offset <= 4 ? 1 : sb->super_offset <= 8 ? 2 : 0);
	fprintf(out, "    Feature Map : 0x%x\n", x->feature_map);
	print_uuid(out, "     Array UUID", sb->set_uuid);
	fprintf(out, "           Name : %.32s", sb->set_name);
	if (l > 0 && l < 32 && sb->set_name[l] == ':' && strncmp(sb->set_name, hh, l) == 0)
		fprintf(out, "  (local to host %s)", hh);
	fprintf(out, "\n");
	if (x->have_bms && x->bm_nodes > 0 && (x->feature_map & F_BITMAP_OFFSET))
		fprintf(out, "   Cluster Name : %-64s\n", x->cluster);
	print_time(out, "  Creation Time", sb->ctime);
	fprintf(out, "     Raid Level : %s\n", lvl ? lvl : "-unknown-");
	fprintf(out, "   Raid Devices : %u\n\n", sb->raid_disks);
}

/* mdadm reads level as unsigned here, so linear (-1) counts as "> 0". */
/* mdadm's Array Size is a member's size times ddsks / denom: the data
 * members of a parity level, one of a mirror, raid10's members over its
 * copies.  ddsks 0: not printed. */
static void data_share(const struct md_sb *sb, long long *ddsks, long long *denom)
{
	switch (sb->level) {
	case 1: *ddsks = 1; break;
	case 4:
	case 5: *ddsks = (long long)sb->raid_disks - 1; break;
	case 6: *ddsks = (long long)sb->raid_disks - 2; break;
	case 10:
		*ddsks = sb->raid_disks;
		*denom = (long long)(sb->layout & 255) * ((sb->layout >> 8) & 255);
		break;
	}
}

/* A member's size times ddsks / denom, in 128 bits as a hostile size or
 * raid_disks would overflow 64; what does not fit prints as mdadm's
 * wrapped arithmetic would. */
static long long share_bytes(uint64_t bytes, long long ddsks, long long denom)
{
	return (long long)((__int128)bytes * ddsks / denom);
}

static void exam_v1_sizes(FILE *out, const struct md_sb *sb)
{
	char h[64];
	long long ddsks = 0, denom = 1;

	fprintf(out, " Avail Dev Size : %" PRIu64 " sectors%s\n", sb->data_size,
		human_size((long long)(sb->data_size << 9), h, sizeof(h)));
	if (sb->level == 0)
		return;
	data_share(sb, &ddsks, &denom);
	if (ddsks && denom) {
		long long asize = share_bytes(sb->size << 9, ddsks, denom);

		fprintf(out, "     Array Size : %llu KiB%s\n", (unsigned long long)asize >> 10,
			human_size(asize, h, sizeof(h)));
	}
	if (sb->size != sb->data_size)
		fprintf(out, "  Used Dev Size : %" PRIu64 " sectors%s\n", sb->size,
			human_size((long long)(sb->size << 9), h, sizeof(h)));
}

static void exam_v1_offsets(FILE *out, const struct md_sb *sb, const struct exam_ctx *x)
{
	uint64_t before, after;

	if (sb->data_offset)
		fprintf(out, "    Data Offset : %" PRIu64 " sectors\n", sb->data_offset);
	if (sb->new_offset && (sb->feature_map & F_NEW_OFFSET))
		fprintf(out, "     New Offset : %" PRIu64 " sectors\n",
			sb->data_offset + (uint64_t)(int64_t)sb->new_offset);
	fprintf(out, "   Super Offset : %" PRIu64 " sectors\n", sb->super_offset);
	if (sb->feature_map & F_RECOVERY_OFFSET)
		fprintf(out, "Recovery Offset : %" PRIu64 " sectors\n", sb->recovery_offset);
	unused_space(sb, x, &before, &after);
	if (after != 1 && !(sb->feature_map & F_NEW_OFFSET))
		fprintf(out, "   Unused Space : before=%" PRIu64 " sectors, after=%" PRIu64
			" sectors\n", before, after);
	fprintf(out, "          State : %s\n",
		sb->resync_offset == MD_MAX_SECTOR ? "clean" : "active");
	print_uuid(out, "    Device UUID", sb->device_uuid);
	fprintf(out, "\n");
}

/* The reshape lines both formats print alike; the new raid10 layout and
 * chunk size follow, each format its own way. */
static void exam_reshape_common(FILE *out, const struct md_sb *sb)
{
	char h[64];

	fprintf(out, "  Reshape pos'n : %" PRIu64 "%s\n", sb->reshape_position / 2,
		human_size((long long)(sb->reshape_position << 9), h, sizeof(h)));
	if (sb->delta_disks)
		fprintf(out, "  Delta Devices : %d (%d->%u)\n", sb->delta_disks,
			(int)(sb->raid_disks - (uint32_t)sb->delta_disks), sb->raid_disks);
	if (sb->new_level != (uint32_t)sb->level) {
		const char *c = md_level_name((int)sb->new_level);

		fprintf(out, "      New Level : %s\n", c ? c : "-unknown-");
	}
	if (sb->new_layout != sb->layout && (sb->level == 5 || sb->level == 6))
		print_layout_line(out, "     New Layout", sb->level, sb->new_layout);
}

static void exam_v1_reshape(FILE *out, const struct md_sb *sb)
{
	exam_reshape_common(out, sb);
	if (sb->new_layout != sb->layout && sb->level == 10)
		print_layout_line(out, "     New Layout", 10, sb->new_layout);
	if (sb->new_chunk != sb->chunk_sectors)
		fprintf(out, "  New Chunksize : %uK\n", sb->new_chunk / 2);
	fprintf(out, "\n");
}

static void exam_v1_state(FILE *out, const struct md_sb *sb, const struct exam_ctx *x)
{
	uint32_t csum = sb->sb_csum, expect = sb->sb_csum_expected;

	if (x->feature_map & F_BITMAP_OFFSET)
		fprintf(out, "Internal Bitmap : %ld sectors from superblock\n", (long)sb->bitmap_offset);
	else if (any_ppl(sb->feature_map))
		fprintf(out, "            PPL : %u sectors at offset %d sectors from superblock\n",
			(uint32_t)sb->bitmap_offset >> 16, (int16_t)(sb->bitmap_offset & 0xffff));
	if (sb->feature_map & F_RESHAPE_ACTIVE)
		exam_v1_reshape(out, sb);
	if (sb->devflags) {
		fprintf(out, "          Flags :%s%s\n", sb->devflags & 1 ? " write-mostly" : "",
			sb->devflags & 2 ? " failfast" : "");
	}
	print_time(out, "    Update Time", sb->utime);
	if (sb->bblog_size && sb->bblog_offset)
		fprintf(out, "  Bad Block Log : %d entries available at offset %ld sectors%s\n",
			sb->bblog_size * 512 / 8, (long)(int32_t)sb->bblog_offset,
			sb->feature_map & 8 ? " - bad blocks present." : "");
	if (x->have_csum) {
		csum = x->csum;
		expect = x->csum_expected;
	} else if (!sb->csum_known) {
		uint8_t buf[SB_REGION];

		md_sb_encode_v1(sb, buf);
		csum = expect = get32(buf + V1_SB_CSUM);
	}
	if (csum == expect)
		fprintf(out, "       Checksum : %x - correct\n", csum);
	else
		fprintf(out, "       Checksum : %x - expected %x\n", csum, expect);
	fprintf(out, "         Events : %" PRIu64 "\n\n", sb->events);
}

static void exam_v1_geometry(FILE *out, const struct md_sb *sb)
{
	if (sb->level == 0 && (sb->feature_map & F_RAID0_LAYOUT))
		print_layout_line(out, "         Layout", 0, sb->layout);
	if (sb->level == 5 || sb->level == 6 || sb->level == 10)
		print_layout_line(out, "         Layout", sb->level, sb->layout);
	if (level_has_chunk(sb->level))
		fprintf(out, "     Chunk Size : %uK\n", sb->chunk_sectors / 2);
	else if (sb->level == MD_LEVEL_LINEAR)
		fprintf(out, "       Rounding : %uK\n", sb->chunk_sectors / 2);
	fprintf(out, "\n");
}

static void exam_v1_role(FILE *out, const struct md_sb *sb)
{
	uint16_t role = own_role(sb);

	fprintf(out, "   Device Role : ");
	if (role >= MD_ROLE_FAULTY)
		fprintf(out, "spare\n");
	else if (role == MD_ROLE_JOURNAL)
		fprintf(out, "Journal\n");
	else if (sb->feature_map & F_REPLACEMENT)
		fprintf(out, "Replacement device %u\n", role);
	else
		fprintf(out, "Active device %u\n", role);
}

/* One letter per raid slot: how many devices claim it.  Slots past the
 * roles a superblock holds can only be missing: a hostile raid_disks
 * prints "..." for them, not billions of dots. */
static bool exam_v1_array_state(FILE *out, const struct md_sb *sb)
{
	uint64_t slots = (uint64_t)sb->raid_disks + delta_extra(sb);
	uint64_t shown = slots < MD_SB_MAX_ROLES ? slots : MD_SB_MAX_ROLES;
	bool inconsistent = false;

	fprintf(out, "   Array State : ");
	for (uint32_t d = 0; d < shown; d++) {
		int cnt = 0;

		for (uint32_t i = 0; i < roles_held(sb); i++)
			cnt += sb->dev_roles[i] == d;
		if (cnt == 2 && sb->level != 0)
			fputc('R', out);
		else if (cnt == 1 || cnt == 0)
			fputc(cnt ? 'A' : '.', out);
		else {
			fputc('?', out);
			inconsistent = true;
		}
	}
	if (shown < slots)
		fprintf(out, "...");
	fprintf(out, " ('A' == active, '.' == missing, 'R' == replacing)\n");
	for (uint32_t i = 0; i < roles_held(sb); i++)
		if (sb->dev_roles[i] <= ROLE_MAX && sb->dev_roles[i] > slots)
			inconsistent = true;
	return inconsistent;
}

static void exam_v1(FILE *out, const struct md_sb *sb, const struct exam_ctx *x)
{
	exam_v1_head(out, sb, x);
	exam_v1_sizes(out, sb);
	exam_v1_offsets(out, sb, x);
	exam_v1_state(out, sb, x);
	exam_v1_geometry(out, sb);
	exam_v1_role(out, sb);
	if (!exam_v1_array_state(out, sb))
		return;
	fprintf(out, "WARNING Array state is inconsistent - each number should appear only once\n");
	for (uint32_t d = 0; d < roles_held(sb); d++)
		if (sb->dev_roles[d] >= MD_ROLE_FAULTY)
			fprintf(out, " %u:-", d);
		else
			fprintf(out, " %u:%u", d, sb->dev_roles[d]);
	fprintf(out, "\n");
}

/* 0.90 "local to host": set_uuid2..3 hold the first 8 bytes of
 * sha1(homehost) in host byte order. */
static bool local_090(const struct md_sb *sb)
{
	char host[256];
	const char *hh = homehost(host, sizeof(host));
	uint8_t digest[20], mine[8];
	gsize dlen = sizeof(digest);
	GChecksum *ck;

	if (!hh)
		return false;
	ck = g_checksum_new(G_CHECKSUM_SHA1);
	g_checksum_update(ck, (const guchar *)hh, (gssize)strlen(hh));
	g_checksum_get_digest(ck, digest, &dlen);
	g_checksum_free(ck);
	for (int i = 0; i < 2; i++) {
		uint32_t w = uuid_word(sb->set_uuid, 2 + i);

		memcpy(mine + 4 * i, &w, 4);
	}
	return memcmp(mine, digest, 8) == 0;
}

static void exam_090_sizes(FILE *out, const struct md_sb *sb, const uint8_t *raw)
{
	char h[64];
	long long ddsks = 0, denom = 1, kib = hw(raw, W_SIZE);

	if (sb->level <= 0)
		return;
	fprintf(out, "  Used Dev Size : %d%s\n", (int)hw(raw, W_SIZE),
		human_size(kib << 10, h, sizeof(h)));
	data_share(sb, &ddsks, &denom);
	if (ddsks && denom) {
		long long asize = share_bytes((uint64_t)kib << 10, ddsks, denom);

		fprintf(out, "     Array Size : %llu%s\n", (unsigned long long)asize >> 10,
			human_size(asize, h, sizeof(h)));
	}
}

static void exam_090_reshape(FILE *out, const struct md_sb *sb, const uint8_t *raw)
{
	if (hw(raw, W_MINOR) <= 90 || sb->reshape_position == MD_MAX_SECTOR)
		return;
	exam_reshape_common(out, sb);
	if (sb->new_layout != sb->layout && sb->level == 10)
		fprintf(out, "     New Layout : near=%u, %s=%u\n", sb->new_layout & 255,
			sb->new_layout & 0x10000 ? "offset" : "far",
			(sb->new_layout >> 8) & 255);
	if (hw(raw, W_NEW_CHUNK) != hw(raw, W_CHUNK_SIZE))
		fprintf(out, "  New Chunksize : %u\n", hw(raw, W_NEW_CHUNK));
	fprintf(out, "\n");
}

/* mdadm's map_dev, for the block devices it can find through sysfs */
static bool dev_name(uint32_t major, uint32_t minor, char *buf, size_t len)
{
	char path[128], line[256];
	FILE *f;
	bool found = false;

	if (!major && !minor)
		return false;
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/uevent", major, minor);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		if (strncmp(line, "DEVNAME=", 8) == 0) {
			line[strcspn(line, "\n")] = 0;
			snprintf(buf, len, "/dev/%s", line + 8);
			found = access(buf, F_OK) == 0;
		}
	fclose(f);
	return found;
}

static void exam_090_disk(FILE *out, int d, const struct md_sb090_disk *dp)
{
	uint32_t state = dp->state & ~(D_WRITEMOSTLY | D_FAILFAST);
	char nb[12], dv[300];

	snprintf(nb, sizeof(nb), "%4d", d);
	fprintf(out, "%4s %5d   %5d    %5d    %5d     ", d < 0 ? "this" : nb,
		(int)dp->number, (int)dp->major, (int)dp->minor, (int)dp->raid_disk);
	if (state & D_FAULTY) fprintf(out, " faulty");
	if (state & D_ACTIVE) fprintf(out, " active");
	if (state & D_SYNC) fprintf(out, " sync");
	if (state & D_REMOVED) fprintf(out, " removed");
	if (dp->state & D_WRITEMOSTLY) fprintf(out, " write-mostly");
	if (dp->state & D_FAILFAST) fprintf(out, " failfast");
	if (state == 0) fprintf(out, " spare");
	if (dev_name(dp->major, dp->minor, dv, sizeof(dv)))
		fprintf(out, "   %s", dv);
	fprintf(out, "\n");
	if (d < 0)
		fprintf(out, "\n");
}

static void exam_090_counts(FILE *out, const struct md_sb *sb, const uint8_t *raw,
			    uint32_t stored, uint32_t expect)
{
	fprintf(out, " Active Devices : %d\n", (int)hw(raw, W_ACTIVE));
	fprintf(out, "Working Devices : %d\n", (int)hw(raw, W_WORKING));
	fprintf(out, " Failed Devices : %d\n", (int)hw(raw, W_FAILED));
	fprintf(out, "  Spare Devices : %d\n", (int)hw(raw, W_SPARE));
	if (stored == expect)
		fprintf(out, "       Checksum : %x - correct\n", stored);
	else
		fprintf(out, "       Checksum : %x - expected %x\n", stored, expect);
	fprintf(out, "         Events : %" PRIu64 "\n\n", sb->events);
}

/* Printed from the decoded view where 0.90 and md_sb agree, else from the
 * raw fields a decode kept (sb->v090) — re-encoded, as md would write it. */
static void exam_090(FILE *out, const struct md_sb *sb, const uint8_t *raw,
		     uint32_t stored, uint32_t expect)
{
	char u[36];
	int64_t last = (int64_t)sb->raid_disks + delta_extra(sb) + hw(raw, W_SPARE);
	const char *lvl = md_level_name(sb->level);

	fprintf(out, "          Magic : %08x\n", SB_MAGIC);
	fprintf(out, "        Version : 0.%02u.%02u\n", hw(raw, W_MINOR), hw(raw, W_PATCH));
	md_uuid_format(sb->set_uuid, u);
	fprintf(out, "           UUID : %s", u);
	if (local_090(sb)) {
		char host[256];

		fprintf(out, " (local to host %s)", homehost(host, sizeof(host)));
	}
	fprintf(out, "\n");
	print_time(out, "  Creation Time", sb->ctime);
	fprintf(out, "     Raid Level : %s\n", lvl ? lvl : "-unknown-");
	exam_090_sizes(out, sb, raw);
	fprintf(out, "   Raid Devices : %d\n", (int)sb->raid_disks);
	fprintf(out, "  Total Devices : %d\n", (int)hw(raw, W_NR_DISKS));
	fprintf(out, "Preferred Minor : %d\n\n", (int)hw(raw, W_MD_MINOR));
	exam_090_reshape(out, sb, raw);
	print_time(out, "    Update Time", sb->utime);
	fprintf(out, "          State : %s\n", hw(raw, W_STATE) & SB090_CLEAN ? "clean" : "active");
	if (hw(raw, W_STATE) & SB090_BITMAP)
		fprintf(out, "Internal Bitmap : present\n");
	exam_090_counts(out, sb, raw, stored, expect);
	if (sb->level == 5 || sb->level == 6 || sb->level == 10)
		print_layout_line(out, "         Layout", sb->level, sb->layout);
	if (level_has_chunk(sb->level))
		fprintf(out, "     Chunk Size : %uK\n", hw(raw, W_CHUNK_SIZE) / 1024);
	else if (sb->level == MD_LEVEL_LINEAR)
		fprintf(out, "       Rounding : %uK\n", hw(raw, W_CHUNK_SIZE) / 1024);
	fprintf(out, "\n      Number   Major   Minor   RaidDevice State\n");
	for (int d = -1; d < last && d < MD_SB090_DISKS; d++) {
		struct md_sb090_disk dp;

		get_disk090(raw, d < 0 ? W_THIS_DISK : W_DISKS + d * W_DISK_WORDS, &dp);
		exam_090_disk(out, d, &dp);
	}
}

/* For 0.90 the table and counters come from the decoded raw fields when
 * the sb was read from disk; otherwise from what encode would write. */
static void raw_090(const struct md_sb *sb, uint8_t *raw)
{
	const struct md_sb090 *x = &sb->v090;

	md_sb_encode_090(sb, raw);
	if (!sb->csum_known)
		return;
	set_hw(raw, W_NR_DISKS, x->nr_disks);
	set_hw(raw, W_ACTIVE, x->active_disks);
	set_hw(raw, W_WORKING, x->working_disks);
	set_hw(raw, W_FAILED, x->failed_disks);
	set_hw(raw, W_SPARE, x->spare_disks);
	for (int d = 0; d < MD_SB090_DISKS; d++)
		put_disk090(raw, W_DISKS + d * W_DISK_WORDS, &x->disks[d]);
	put_disk090(raw, W_THIS_DISK, &x->this_disk);
}

/* The 0.90 bytes as they are on the member, with the bitmap bit dropped
 * if no valid bitmap superblock follows (mdadm's load_super0 does so). */
static bool read_raw_090(const char *path, const struct md_sb *sb, uint8_t *raw)
{
	int fd = path && sb->csum_known ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	uint8_t bms[512], uuid[16];
	bool ok;

	if (fd < 0)
		return false;
	ok = read_at(fd, raw, SB_REGION, sb->super_offset * 512) == SB_REGION &&
	     hw(raw, W_MAGIC) == SB_MAGIC && hw(raw, W_MAJOR) == 0;
	if (ok && (hw(raw, W_STATE) & SB090_BITMAP)) {
		md_sb_uuid_kernel(sb, uuid);
		if (read_at(fd, bms, sizeof(bms), sb->super_offset * 512 + SB_REGION) != sizeof(bms) ||
		    get32(bms) != BITMAP_MAGIC || memcmp(bms + 8, uuid, 16))
			set_hw(raw, W_STATE, hw(raw, W_STATE) & ~SB090_BITMAP);
	}
	close(fd);
	return ok;
}

static void examine_090(FILE *out, const char *path, const struct md_sb *sb)
{
	uint8_t raw[SB_REGION];
	uint32_t stored, expect;

	if (read_raw_090(path, sb, raw)) {
		stored = hw(raw, W_CSUM);
		expect = csum_090(raw);
	} else {
		raw_090(sb, raw);
		stored = expect = hw(raw, W_CSUM);
		if (sb->csum_known) {
			stored = sb->sb_csum;
			expect = sb->sb_csum_expected;
		}
	}
	exam_090(out, sb, raw, stored, expect);
}

void md_sb_examine(FILE *out, const char *path, const struct md_sb *sb)
{
	struct exam_ctx x;

	if (path)
		fprintf(out, "%s:\n", path);
	if (sb->major == 0) {
		examine_090(out, path, sb);
		return;
	}
	exam_ctx_init(path, sb, &x);
	exam_v1(out, sb, &x);
}

/* For raidfs detail, which prints these as mdadm --detail does. */
const char *md_human_size(long long bytes, char *buf, size_t len)
{
	return human_size(bytes, buf, len);
}

void md_print_layout(FILE *out, const char *label, int level, uint32_t layout)
{
	print_layout_line(out, label, level, layout);
}
