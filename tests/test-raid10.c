/* raid10 against a reference written here from md's formulas (setup_geo,
 * calc_sectors, raid10_size, __raid10_find_phys, _enough): every array
 * sector is written with its own number through the engine and looked for
 * on the member files at every place the reference says md keeps a copy.
 * Then: degraded reads, md's _enough, read-error fallback and rewrite,
 * check/repair/resync with md's mismatch units, io hints and mdstat. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>
#include "testlib.h"

#define TAG_MAGIC 0x5241494431305441ull
#define NEAR(n) ((uint32_t)(n) | 1u << 8)
#define NF(n, f) ((uint32_t)(n) | (uint32_t)(f) << 8)
#define FAR(f) (1u | (uint32_t)(f) << 8)
#define OFFSET(f) (FAR(f) | 1u << 16)
#define SETS_V1 (1u << 17)       /* far sets of raid_disks / far_copies */
#define SETS_V2 (2u << 17)       /* far sets of near * far copies */

struct geometry {
	uint32_t layout;
	uint32_t chunk;           /* sectors */
	int n;
	uint64_t sizes[6];        /* data sectors per member */
};

/* ---- the reference ---- */

struct ref {
	int disks, nc, fc, copies, fss;
	bool offset;
	uint64_t chunk, dev_sectors, stride, array_sectors;
};

struct copy {
	int dev;
	uint64_t sector;
};

static void ref_init(const struct geometry *g, struct ref *r)
{
	uint64_t size = UINT64_MAX;

	for (int i = 0; i < g->n; i++)
		size = MIN(size, g->sizes[i]);
	r->disks = g->n;
	r->nc = g->layout & 0xff;
	r->fc = (g->layout >> 8) & 0xff;
	r->offset = (g->layout >> 16) & 1;
	r->copies = r->nc * r->fc;
	r->chunk = g->chunk;
	switch (g->layout >> 17) {
	case 0: r->fss = r->disks; break;
	case 1: r->fss = r->disks / r->fc; break;
	default: r->fss = r->nc * r->fc; break;
	}
	/* Chunks of array data the smallest member allows, then the chunks
	 * each member really carries (rounded up), the far stride, and the
	 * array size md computes back from the used member size. */
	uint64_t data_chunks = size / r->chunk / r->fc * r->disks / r->nc;
	uint64_t used = (data_chunks * r->copies + r->disks - 1) / r->disks;
	r->dev_sectors = used * r->chunk;
	r->stride = r->offset ? r->chunk : used / r->fc * r->chunk;
	r->array_sectors = used / r->fc * r->disks / r->nc * r->chunk;
}

/* The member a far copy moves to: near_copies members on, wrapping inside
 * the far set; md's last set also takes the leftover members, and md picks
 * it whenever the moved index lies past the last set's start. */
static int ref_far_step(const struct ref *r, int d)
{
	int rem = r->disks % r->fss;
	int last = (r->disks / r->fss - 1) * r->fss;
	int e = d + r->nc;

	if (rem && e > last)
		return last + (e - last) % (r->fss + rem);
	return d / r->fss * r->fss + e % r->fss;
}

/* Near copy n of chunk c is the (c * nc + n)-th chunk slot, raid0-style
 * over the members.  Offset layouts spread each row over far_copies rows,
 * but a near copy wrapping to the next member row moves one row only. */
static int ref_copies(const struct ref *r, uint64_t v, struct copy *out)
{
	uint64_t c = v / r->chunk, in = v % r->chunk;
	uint64_t first_row = c * r->nc / r->disks;
	int k = 0;

	for (int n = 0; n < r->nc; n++) {
		uint64_t slot = c * r->nc + n;
		uint64_t row = slot / r->disks;
		if (r->offset)
			row = first_row * r->fc + (row - first_row);
		int dev = slot % r->disks;
		for (int f = 0; f < r->fc; f++) {
			out[k++] = (struct copy){ dev, row * r->chunk + in +
						  f * r->stride };
			dev = ref_far_step(r, dev);
		}
	}
	return k;
}

/* ---- arrays over temporary member files ---- */

static struct mddev *make_array(const struct geometry *g)
{
	return test_array(10, g->layout, g->chunk, g->n, g->sizes);
}

static void fill_tags(char *buf, uint64_t first, size_t sectors)
{
	for (size_t i = 0; i < sectors; i++) {
		uint64_t tag[2] = { TAG_MAGIC, first + i };
		memset(buf + i * 512, (int)((first + i) & 0xff), 512);
		memcpy(buf + i * 512, tag, sizeof(tag));
	}
}

static void write_all(struct mddev *m)
{
	uint64_t sectors = m->array_sectors;
	size_t piece = 777;       /* odd-sized: requests straddle chunks */
	char *buf = g_malloc(piece * 512);

	for (uint64_t s = 0; s < sectors; s += piece) {
		size_t k = MIN(piece, sectors - s);
		fill_tags(buf, s, k);
		g_assert_cmpint(md_write(m, s * 512, k * 512, buf), ==, (int)(k * 512));
	}
	g_free(buf);
}

static uint64_t member_tag(struct mddev *m, int dev, uint64_t sector)
{
	uint64_t tag[2];

	member_read(m, dev, sector, tag, sizeof(tag));
	return tag[0] == TAG_MAGIC ? tag[1] : UINT64_MAX;
}

/* Every copy where the reference puts it, and no tag anywhere else. */
static void check_placement(struct mddev *m, const struct ref *r)
{
	struct copy c[r->copies];

	for (uint64_t v = 0; v < r->array_sectors; v++) {
		g_assert_cmpint(ref_copies(r, v, c), ==, r->copies);
		for (int k = 0; k < r->copies; k++)
			g_assert_cmpuint(member_tag(m, c[k].dev, c[k].sector), ==, v);
	}
	uint64_t tagged = 0;
	for (int d = 0; d < r->disks; d++)
		for (uint64_t s = 0; s < m->slots[d]->sectors; s++)
			tagged += member_tag(m, d, s) != UINT64_MAX;
	g_assert_cmpuint(tagged, ==, r->array_sectors * r->copies);
}

/* The whole image through md_read, aligned and not, against the tags. */
static bool reads_match(struct mddev *m)
{
	uint64_t sectors = m->array_sectors;
	size_t piece = 300;
	char *want = g_malloc(piece * 512), *got = g_malloc(piece * 512);
	bool same = true;

	for (uint64_t s = 0; s < sectors && same; s += piece) {
		size_t k = MIN(piece, sectors - s);
		fill_tags(want, s, k);
		same = md_read(m, s * 512, k * 512, got) == (int)(k * 512) &&
		       memcmp(got, want, k * 512) == 0;
	}
	for (uint64_t s = 0; s + 3 < sectors && same; s += 97) {
		fill_tags(want, s, 3);
		same = md_read(m, s * 512 + 100, 1000, got) == 1000 &&
		       memcmp(got, want + 100, 1000) == 0;
	}
	g_free(want);
	g_free(got);
	return same;
}

static void set_missing(struct mddev *m, int dev, bool missing)
{
	struct md_rdev *r = m->slots[dev];

	atomic_store(&r->flags, missing ? RDEV_FAULTY : RDEV_IN_SYNC);
	atomic_fetch_add(&m->degraded, missing ? 1 : -1);
}

/* Does losing members a and b (b may be -1) lose a chunk's every copy? */
static bool ref_lost(const struct ref *r, int a, int b)
{
	struct copy c[r->copies];

	for (uint64_t v = 0; v < r->array_sectors; v += r->chunk) {
		int left = 0;
		ref_copies(r, v, c);
		for (int k = 0; k < r->copies; k++)
			left += c[k].dev != a && c[k].dev != b;
		if (!left)
			return true;
	}
	return false;
}

static void check_degraded(struct mddev *m, const struct ref *r, uint32_t layout)
{
	for (int a = 0; a < r->disks; a++) {
		set_missing(m, a, true);
		g_assert_true(md_enough(m, -1));
		g_assert_true(reads_match(m));
		for (int b = a + 1; b < r->disks; b++) {
			bool predicted = md_enough(m, b);   /* "and b too?" */
			set_missing(m, b, true);
			bool lost = ref_lost(r, a, b), enough = md_enough(m, -1);
			g_assert_cmpint(enough, ==, predicted);
			/* md's _enough looks at runs of consecutive members and
			 * ignores far sets: with them it can be wrong both ways,
			 * and md then runs and fails the lost chunks' IO. */
			if (!(layout >> 17))
				g_assert_true(enough == !lost);
			if (enough)
				g_assert_true(reads_match(m) == !lost);
			set_missing(m, b, false);
		}
		set_missing(m, a, false);
	}
}

static void test_geometry(gconstpointer data)
{
	const struct geometry *g = data;
	struct ref r;
	ref_init(g, &r);
	struct mddev *m = make_array(g);

	g_assert_cmpuint(m->array_sectors, ==, r.array_sectors);
	g_assert_cmpuint(m->dev_sectors, ==, r.dev_sectors);
	write_all(m);
	check_placement(m, &r);
	g_assert_true(reads_match(m));
	check_degraded(m, &r, g->layout);
	md_free(m);
}

static const struct geometry geometries[] = {
	{ NEAR(2), 16, 2, { 2000, 2000 } },
	{ NEAR(2), 64, 3, { 3000, 2500, 2700 } },
	{ NEAR(2), 8, 4, { 1000, 1000, 1000, 1000 } },
	{ NEAR(2), 128, 5, { 3000, 3100, 3200, 3300, 2900 } },
	{ NEAR(2), 1024, 4, { 8192, 9000, 8192, 10000 } },
	{ NEAR(3), 16, 3, { 1500, 1500, 1500 } },
	{ NEAR(3), 32, 4, { 2000, 2100, 2200, 2000 } },
	{ NEAR(3), 8, 5, { 1000, 1000, 1000, 1000, 1000 } },
	{ FAR(2), 16, 2, { 2000, 2000 } },
	{ FAR(2), 64, 3, { 1000, 1100, 1000 } },
	{ FAR(2), 8, 4, { 1000, 1003, 1000, 1000 } },
	{ FAR(2), 128, 5, { 3000, 3000, 3000, 3000, 3000 } },
	{ FAR(2), 1024, 4, { 8192, 8192, 9000, 8192 } },
	{ FAR(3), 16, 4, { 1000, 1000, 1000, 1000 } },
	{ OFFSET(2), 16, 3, { 1000, 1000, 1000 } },
	{ OFFSET(2), 64, 4, { 2000, 2000, 2048, 2000 } },
	{ OFFSET(2), 1024, 3, { 8192, 8192, 8192 } },
	{ OFFSET(3), 16, 4, { 1000, 1000, 1000, 1000 } },
	{ NF(2, 2), 16, 4, { 1000, 1000, 1000, 1000 } },   /* n2f2 */
	{ NF(2, 2) | 1u << 16, 16, 4, { 1000, 1000, 1000, 1000 } },
	{ FAR(2) | SETS_V1, 16, 4, { 1000, 1000, 1000, 1000 } },
	{ FAR(2) | SETS_V1, 32, 5, { 1000, 1000, 1000, 1000, 1000 } },
	{ FAR(2) | SETS_V2, 16, 5, { 1000, 1000, 1000, 1000, 1000 } },
	{ OFFSET(2) | SETS_V1, 16, 4, { 1000, 1000, 1000, 1000 } },
	{ OFFSET(2) | SETS_V2, 8, 5, { 1000, 1000, 1000, 1000, 1000 } },
	{ NF(2, 2) | SETS_V2, 16, 6, { 900, 900, 900, 900, 900, 900 } },
};

/* ---- md's _enough, spelled out ---- */

static void test_enough(void)
{
	static const struct { struct geometry g; int a, b; bool ok; } cases[] = {
		/* n2 over 4: mirror sets {0,1} and {2,3} */
		{ { NEAR(2), 16, 4, { 512, 512, 512, 512 } }, 0, 1, false },
		{ { NEAR(2), 16, 4, { 512, 512, 512, 512 } }, 2, 3, false },
		{ { NEAR(2), 16, 4, { 512, 512, 512, 512 } }, 0, 2, true },
		{ { NEAR(2), 16, 4, { 512, 512, 512, 512 } }, 0, 3, true },
		{ { NEAR(2), 16, 4, { 512, 512, 512, 512 } }, 1, 2, true },
		{ { NEAR(2), 16, 4, { 512, 512, 512, 512 } }, 1, 3, true },
		/* f2 over 4: each chunk on d and d+1 */
		{ { FAR(2), 16, 4, { 512, 512, 512, 512 } }, 1, 2, false },
		{ { FAR(2), 16, 4, { 512, 512, 512, 512 } }, 0, 3, false },
		{ { FAR(2), 16, 4, { 512, 512, 512, 512 } }, 0, 2, true },
		{ { FAR(2), 16, 4, { 512, 512, 512, 512 } }, 1, 3, true },
		/* n2 over 3: any two members share a chunk */
		{ { NEAR(2), 16, 3, { 512, 512, 512 } }, 0, 2, false },
		/* n3 over 3: one member is enough */
		{ { NEAR(3), 16, 3, { 512, 512, 512 } }, 0, 2, true },
	};

	for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct mddev *m = make_array(&cases[i].g);
		set_missing(m, cases[i].a, true);
		g_assert_cmpint(md_enough(m, cases[i].b), ==, cases[i].ok);
		set_missing(m, cases[i].b, true);
		g_assert_cmpint(md_enough(m, -1), ==, cases[i].ok);
		md_free(m);
	}
}

/* Assembly refuses what md refuses: a whole mirror set missing. */
static void test_run_refuses(void)
{
	const struct geometry g = { NEAR(2), 16, 4, { 512, 512, 512, 512 } };
	struct mddev *m = make_array(&g);
	char err[256];

	m->pers->free(m);         /* stop without superblock writes */
	set_missing(m, 2, true);
	set_missing(m, 3, true);
	m->slots[2] = m->slots[3] = NULL;
	g_assert_cmpint(md_run(m, err, sizeof(err)), <, 0);
	g_assert_nonnull(strstr(err, "mirror"));
	m->private = NULL;
	md_free(m);
}

/* ---- read errors ---- */

static void test_read_error(gconstpointer data)
{
	const struct geometry *g = data;
	struct ref r;
	ref_init(g, &r);
	struct mddev *m = make_array(g);
	write_all(m);

	/* Reads fail on member 0 until rewritten: the data comes from the
	 * other copies and member 0 is corrected, not failed (the many
	 * requests each count a read error: no limit here). */
	atomic_store(&m->max_corr_read_errors, UINT_MAX);
	member_read_errors(m, 0, 0, m->slots[0]->sectors);
	g_assert_true(reads_match(m));
	member_fail_reads(m, 0, false);
	g_assert_false(atomic_load(&m->slots[0]->flags) & RDEV_FAULTY);
	g_assert_cmpuint(atomic_load(&m->slots[0]->corrected_errors), >, 0);
	check_placement(m, &r);

	/* Member 1 fails reads and writes: md_error fails it and the
	 * array carries on degraded with the right data. */
	g_log_set_always_fatal(G_LOG_FATAL_MASK);   /* md_error warns */
	int saved = swap_fd(m->slots[1], true);
	g_assert_true(reads_match(m));
	g_assert_true(atomic_load(&m->slots[1]->flags) & RDEV_FAULTY);
	g_assert_cmpint(atomic_load(&m->degraded), ==, 1);
	restore_fd(m->slots[1], saved);
	g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_WARNING |
			       G_LOG_LEVEL_CRITICAL);
	md_free(m);
}

/* A write landing between a failed read and the rewrite of the bad copy
 * must not be undone there: every copy ends up holding it. */
static void test_read_error_races_write(gconstpointer data)
{
	const struct geometry *g = data;
	struct ref r;
	ref_init(g, &r);
	struct mddev *m = make_array(g);
	struct copy c[r.copies];
	char old[8 * 512], new[8 * 512], read[8 * 512], got[512];

	fill_tags(old, 0, 8);
	fill_tags(new, 1000, 8);
	read_error_races_write(m, 0, 0, sizeof(old), old, new, read);
	for (uint64_t v = 0; v < 8; v++) {
		ref_copies(&r, v, c);
		for (int k = 0; k < r.copies; k++) {
			member_read(m, c[k].dev, c[k].sector, got, sizeof(got));
			g_assert_true(memcmp(got, new + v * 512, 512) == 0);
		}
	}
	g_assert_true(memcmp(read, new, sizeof(new)) == 0);
	md_free(m);
}

/* Concurrent writers, readers taking the fix path and sync windows over
 * every member sector.  Reads spread by MiB over the near copies: pieces
 * from 2 MiB (chunk 64, on members 0 and 1) on start at member 0, which
 * fails them. */
static void test_stress(void)
{
	static const struct geometry g = { NEAR(2), 64, 4,
					   { 8192, 8192, 8192, 8192 } };
	struct mddev *m = make_array(&g);

	stress_read_errors(m, 0, 4096 - 2 * STRESS_RANGE, 0, m->dev_sectors);
	md_free(m);
}

/* Where the array is not in sync only the first copy is the truth. */
static void test_unsynced_first_copy(gconstpointer data)
{
	const struct geometry *g = data;
	struct ref r;
	ref_init(g, &r);
	struct mddev *m = make_array(g);
	struct copy c[r.copies];
	static const char zero[512];

	write_all(m);
	for (uint64_t v = 0; v < r.array_sectors; v++) {
		ref_copies(&r, v, c);
		for (int k = 1; k < r.copies; k++)
			member_write(m, c[k].dev, c[k].sector, zero, 512);
	}
	m->resync_offset = 0;
	g_assert_true(reads_match(m));
	md_free(m);
}

/* ---- check, repair, resync ---- */

/* md counts a mismatch per differing copy in r10bio units: 128 sectors,
 * or the chunk when smaller and chunks matter. */
static uint64_t md_block(const struct ref *r)
{
	return r->nc < r->disks ? MIN(128, r->chunk) : 128;
}

static void corrupt(struct mddev *m, const struct copy *c)
{
	static const char junk[512] = "junk";

	member_write(m, c->dev, c->sector, junk, 512);
}

static void test_sync(gconstpointer data)
{
	const struct geometry *g = data;
	struct ref r;
	ref_init(g, &r);
	struct mddev *m = make_array(g);
	struct copy c[r.copies];
	write_all(m);

	run_sync(m, ACTION_CHECK);
	g_assert_cmpuint(m->resync_mismatches, ==, 0);

	/* One bad sector in the last copy of sector v: one block. */
	uint64_t v = r.array_sectors / 2 + 5;
	ref_copies(&r, v, c);
	corrupt(m, &c[r.copies - 1]);
	run_sync(m, ACTION_CHECK);
	g_assert_cmpuint(m->resync_mismatches, ==, md_block(&r));
	g_assert_cmpuint(member_tag(m, c[r.copies - 1].dev, c[r.copies - 1].sector),
			 ==, UINT64_MAX);        /* check changes nothing */
	run_sync(m, ACTION_REPAIR);
	g_assert_cmpuint(m->resync_mismatches, ==, md_block(&r));
	run_sync(m, ACTION_CHECK);
	g_assert_cmpuint(m->resync_mismatches, ==, 0);
	check_placement(m, &r);

	/* Every non-first copy of every sector bad: each block is counted
	 * once per copy, so every virtual sector is visited exactly once. */
	for (uint64_t s = 0; s < r.array_sectors; s++) {
		ref_copies(&r, s, c);
		for (int k = 1; k < r.copies; k++)
			corrupt(m, &c[k]);
	}
	run_sync(m, ACTION_CHECK);
	g_assert_cmpuint(m->resync_mismatches, ==, r.array_sectors * (r.copies - 1));
	run_sync(m, ACTION_RESYNC);
	run_sync(m, ACTION_CHECK);
	g_assert_cmpuint(m->resync_mismatches, ==, 0);
	check_placement(m, &r);
	md_free(m);
}

/* A member recovered up to R (not chunk aligned) with junk beyond: reads
 * never take the junk, and a recovery from R, walking the member's own
 * sectors as md's does, puts every copy it holds back in place. */
static void test_recovery(gconstpointer data)
{
	const struct geometry *g = data;
	struct ref r;
	ref_init(g, &r);
	struct mddev *m = make_array(g);
	write_all(m);

	for (int d = 0; d < r.disks; d++) {
		struct md_rdev *rdev = m->slots[d];
		uint64_t from = m->dev_sectors / 3 + 5;
		static const char junk[512] = "junk";
		for (uint64_t s = from; s < rdev->sectors; s++)
			member_write(m, d, s, junk, 512);
		atomic_store(&rdev->flags, 0);
		rdev->recovery_offset = from;
		atomic_fetch_add(&m->degraded, 1);
		g_assert_true(reads_match(m));
		for (uint64_t s = from; s < m->dev_sectors; s += 2048) {
			uint64_t n = MIN(2048, m->dev_sectors - s);
			g_assert_cmpint(m->pers->sync_request(m, s, n, ACTION_RECOVER),
					==, (int64_t)n);
		}
		atomic_store(&rdev->flags, RDEV_IN_SYNC);
		atomic_fetch_sub(&m->degraded, 1);
		check_placement(m, &r);
	}
	md_free(m);
}

static const struct geometry sync_geometries[] = {
	{ NEAR(2), 16, 4, { 3000, 3000, 3000, 3000 } },
	{ NEAR(2), 16, 2, { 3000, 3000 } },
	{ NEAR(3), 256, 5, { 3000, 3000, 3000, 3000, 3000 } },
	{ FAR(2), 256, 4, { 5000, 5000, 5000, 5000 } },
	{ FAR(2) | SETS_V1, 64, 5, { 3000, 3000, 3000, 3000, 3000 } },
	{ OFFSET(2), 64, 3, { 3000, 3000, 3000 } },
	{ NF(2, 2), 32, 5, { 3000, 3000, 3000, 3000, 3000 } },
};

/* md's recorded resync point is an array sector: resume at the member row
 * holding its first copy, so every row before holds earlier sectors only. */
static void test_resync_offset(void)
{
	static const struct geometry geos[] = {
		{ NEAR(2), 16, 4, { 2000, 2000, 2000, 2000 } },
		{ FAR(2), 16, 3, { 2000, 2000, 2000 } },
		{ OFFSET(2), 16, 4, { 2000, 2000, 2000, 2000 } },
	};

	for (unsigned i = 0; i < G_N_ELEMENTS(geos); i++) {
		struct ref r;
		ref_init(&geos[i], &r);
		struct copy c[r.copies];
		uint64_t v = r.array_sectors / 3 + 5;
		ref_copies(&r, v, c);
		uint64_t row = c[0].sector / r.chunk * r.chunk;
		/* every sector whose first copy lies below row is before v */
		for (uint64_t s = 0; s < r.array_sectors; s += r.chunk) {
			ref_copies(&r, s, c);
			if (c[0].sector < row)
				g_assert_cmpuint(s, <, v);
		}
		struct mddev *m = make_array(&geos[i]);
		m->pers->free(m);
		m->resync_offset = v;
		char err[256];
		g_assert_cmpint(m->pers->run(m, err, sizeof(err)), ==, 0);
		g_assert_cmpuint(m->resync_offset, ==, row);
		md_free(m);
	}
}

/* ---- io hints and mdstat ---- */

static void test_status(void)
{
	static const struct { struct geometry g; const char *status; unsigned opt; } cases[] = {
		{ { NEAR(2), 1024, 4, { 8192, 8192, 8192, 8192 } },
		  " 512K chunks 2 near-copies [4/4] [UUUU]", 2 },
		{ { NEAR(2), 1024, 3, { 8192, 8192, 8192 } },
		  " 512K chunks 2 near-copies [3/3] [UUU]", 3 },
		{ { NEAR(2), 128, 2, { 8192, 8192 } }, " 2 near-copies [2/2] [UU]", 1 },
		{ { FAR(2), 1024, 4, { 8192, 8192, 8192, 8192 } },
		  " 512K chunks 2 far-copies [4/4] [UUUU]", 4 },
		{ { OFFSET(2), 128, 3, { 8192, 8192, 8192 } },
		  " 64K chunks 2 offset-copies [3/3] [UUU]", 3 },
		{ { FAR(2) | SETS_V1, 128, 4, { 8192, 8192, 8192, 8192 } },
		  " 64K chunks 2 far-copies 2 devices per set [4/4] [UUUU]", 4 },
	};

	for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct mddev *m = make_array(&cases[i].g);
		GString *s = g_string_new(NULL);
		unsigned io_min, io_opt;
		m->pers->status(m, s);
		g_assert_cmpstr(s->str, ==, cases[i].status);
		md_io_hints(m, &io_min, &io_opt);
		g_assert_cmpuint(io_min, ==, cases[i].g.chunk * 512);
		g_assert_cmpuint(io_opt, ==, cases[i].g.chunk * 512 * cases[i].opt);
		set_missing(m, 1, true);
		g_string_truncate(s, 0);
		m->pers->status(m, s);
		g_assert_nonnull(strstr(s->str, "/"));
		g_assert_nonnull(strstr(s->str, "[U_"));
		g_string_free(s, TRUE);
		md_free(m);
	}
}

static char *geometry_name(const char *what, const struct geometry *g, unsigned i)
{
	char buf[32];
	const char *layout = md_layout_name(10, g->layout, buf, sizeof(buf));

	if (!layout) {            /* far sets have no mdadm name */
		snprintf(buf, sizeof(buf), "0x%x", g->layout);
		layout = buf;
	}
	return g_strdup_printf("/raid10/%s/%s/over%d/chunk%u/%u", what, layout,
			       g->n, g->chunk, i);
}

/* Bad blocks on both copies of a chunk, apart: the read is served in
 * parts, each from a copy that holds it good. */
static void test_badblocks_apart(void)
{
	static const uint64_t sz[] = { 4096, 4096 };
	struct mddev *m = test_array(10, 0x102, 128, 2, sz);

	check_badblocks_apart(m);
	md_free(m);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (unsigned i = 0; i < G_N_ELEMENTS(geometries); i++) {
		char *name = geometry_name("placement", &geometries[i], i);
		g_test_add_data_func(name, &geometries[i], test_geometry);
		g_free(name);
	}
	for (unsigned i = 0; i < G_N_ELEMENTS(sync_geometries); i++) {
		char *name = geometry_name("sync", &sync_geometries[i], i);
		g_test_add_data_func(name, &sync_geometries[i], test_sync);
		g_free(name);
	}
	for (unsigned i = 0; i < G_N_ELEMENTS(geometries); i++) {
		char *name = geometry_name("recovery", &geometries[i], i);
		g_test_add_data_func(name, &geometries[i], test_recovery);
		g_free(name);
	}
	static const struct geometry err_geos[] = {
		{ NEAR(2), 16, 4, { 2000, 2000, 2000, 2000 } },
		{ FAR(2), 64, 4, { 2000, 2000, 2000, 2000 } },
		{ OFFSET(2), 16, 3, { 2000, 2000, 2000 } },
	};
	for (unsigned i = 0; i < G_N_ELEMENTS(err_geos); i++) {
		char *name = geometry_name("read-error", &err_geos[i], i);
		g_test_add_data_func(name, &err_geos[i], test_read_error);
		g_free(name);
		name = geometry_name("read-error-races-write", &err_geos[i], i);
		g_test_add_data_func(name, &err_geos[i],
				     test_read_error_races_write);
		g_free(name);
		name = geometry_name("unsynced-first-copy", &err_geos[i], i);
		g_test_add_data_func(name, &err_geos[i], test_unsynced_first_copy);
		g_free(name);
	}
	g_test_add_func("/raid10/read-errors-writes-and-sync", test_stress);
	g_test_add_func("/raid10/enough", test_enough);
	g_test_add_func("/raid10/badblocks-apart", test_badblocks_apart);
	g_test_add_func("/raid10/run-refuses-lost-mirror-set", test_run_refuses);
	g_test_add_func("/raid10/status-and-io-hints", test_status);
	g_test_add_func("/raid10/resync-offset-is-an-array-sector", test_resync_offset);
	return g_test_run();
}
