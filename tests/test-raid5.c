/* raid4, raid5 and raid6 against a reference written here from md's
 * formulas (raid5_compute_sector, raid6_d0 / raid6_idx_to_slot): placement
 * of every data sector, P and Q recomputed from the member files with a
 * plain GF(2^8) (poly 0x11d) after random unaligned writes, reads with any
 * member (raid6: any two) missing, recovery, check/repair counts, and
 * concurrent writers leaving parity consistent. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include "testlib.h"
#include "../src/ctl.h"

#define TAG_MAGIC 0x5241494435544147ull

struct geometry {
	int level;
	uint32_t layout;
	uint32_t chunk;           /* sectors */
	int n;
	int stripes;              /* component = stripes * chunk (+ a tail) */
};

/* ---- the reference: md's raid5_compute_sector, written out again ---- */

struct ref_stripe {
	int pd, qd;               /* qd -1 without Q */
	bool ddf;
};

static int ref_data_disks(const struct geometry *g)
{
	return g->n - (g->level == 6 ? 2 : 1);
}

/* Member of logical data chunk chunk_number, its stripe, P and Q. */
static int ref_compute(const struct geometry *g, uint64_t chunk_number,
		       uint64_t *stripe_out, struct ref_stripe *r)
{
	int n = g->n, data_disks = ref_data_disks(g);
	uint64_t stripe = chunk_number / data_disks;
	int dd_idx = chunk_number % data_disks;
	int pd = -1, qd = -1;
	bool ddf = false;

	*stripe_out = stripe;
	if (g->level == 4) {
		pd = data_disks;
	} else if (g->level == 5) {
		switch (g->layout) {
		case 0: pd = data_disks - stripe % n; if (dd_idx >= pd) dd_idx++; break;
		case 1: pd = stripe % n; if (dd_idx >= pd) dd_idx++; break;
		case 2: pd = data_disks - stripe % n; dd_idx = (pd + 1 + dd_idx) % n; break;
		case 3: pd = stripe % n; dd_idx = (pd + 1 + dd_idx) % n; break;
		case 4: pd = 0; dd_idx++; break;
		case 5: pd = data_disks; break;
		default: g_assert_not_reached();
		}
	} else {
		switch (g->layout) {
		case 0: case 1: case 8: case 9:
			if (g->layout == 0)
				pd = n - 1 - stripe % n;
			else if (g->layout == 9)
				pd = n - 1 - (stripe + 1) % n;
			else
				pd = stripe % n;
			qd = pd + 1;
			if (pd == n - 1) {
				dd_idx++;
				qd = 0;
			} else if (dd_idx >= pd) {
				dd_idx += 2;
			}
			ddf = g->layout >= 8;
			break;
		case 2: case 3:
			pd = g->layout == 2 ? n - 1 - stripe % n : stripe % n;
			qd = (pd + 1) % n;
			dd_idx = (pd + 2 + dd_idx) % n;
			break;
		case 4: pd = 0; qd = 1; dd_idx += 2; break;
		case 5: pd = data_disks; qd = data_disks + 1; break;
		case 10:
			pd = n - 1 - stripe % n;
			qd = (pd + n - 1) % n;
			dd_idx = (pd + 1 + dd_idx) % n;
			ddf = true;
			break;
		case 16: case 17:
			pd = g->layout == 16 ? data_disks - stripe % (n - 1) : stripe % (n - 1);
			if (dd_idx >= pd)
				dd_idx++;
			qd = n - 1;
			break;
		case 18: case 19:
			pd = g->layout == 18 ? data_disks - stripe % (n - 1) : stripe % (n - 1);
			dd_idx = (pd + 1 + dd_idx) % (n - 1);
			qd = n - 1;
			break;
		case 20: pd = 0; dd_idx++; qd = n - 1; break;
		default: g_assert_not_reached();
		}
	}
	r->pd = pd;
	r->qd = qd;
	r->ddf = ddf;
	return dd_idx;
}

static void ref_stripe_of(const struct geometry *g, uint64_t stripe,
			  struct ref_stripe *r)
{
	uint64_t s;

	ref_compute(g, stripe * ref_data_disks(g), &s, r);
}

/* md's raid6_d0 + raid6_idx_to_slot: the syndrome slot of member i. */
static int ref_slot(const struct geometry *g, const struct ref_stripe *r, int i)
{
	int disks = g->n, count = 0;
	int d0 = r->ddf ? 0 : (r->qd == disks - 1 ? 0 : r->qd + 1);
	int idx = d0;

	do {
		int slot = count;
		if (r->ddf)
			count++;
		if (idx != r->pd && idx != r->qd) {
			if (!r->ddf)
				count++;
			if (idx == i)
				return slot;
		}
		idx = (idx + 1) % disks;
	} while (idx != d0);
	g_assert_not_reached();
}

/* ---- a plain GF(2^8) with md's polynomial ---- */

static uint8_t gf_mul_ref(uint8_t a, uint8_t b)
{
	uint8_t p = 0;

	while (b) {
		if (b & 1)
			p ^= a;
		a = (a << 1) ^ ((a & 0x80) ? 0x1d : 0);
		b >>= 1;
	}
	return p;
}

static uint8_t gf_pow2(int e)
{
	uint8_t v = 1;

	while (e-- > 0)
		v = gf_mul_ref(v, 2);
	return v;
}

/* ---- arrays over O_TMPFILE members ---- */

static uint64_t member_sectors(const struct geometry *g)
{
	return (uint64_t)g->chunk * g->stripes + 5;   /* a tail md rounds off */
}

static struct mddev *make_array(const struct geometry *g)
{
	uint64_t sectors[g->n];

	for (int i = 0; i < g->n; i++)
		sectors[i] = member_sectors(g);
	return test_array(g->level, g->layout, g->chunk, g->n, sectors);
}

static uint64_t array_bytes(struct mddev *m)
{
	return m->array_sectors << 9;
}

/* ---- checks ---- */

static void fill_tags(char *buf, uint64_t first, size_t sectors)
{
	for (size_t i = 0; i < sectors; i++) {
		uint64_t tag[2] = { TAG_MAGIC, first + i };
		memset(buf + i * 512, (int)((first + i) * 7 & 0xff), 512);
		memcpy(buf + i * 512, tag, sizeof(tag));
	}
}

/* Every array sector, tagged through md_write, sits where md puts it. */
static void check_placement(const struct geometry *g, struct mddev *m, char *shadow)
{
	uint64_t sectors = m->array_sectors, chunk = g->chunk;
	size_t piece = 777;

	for (uint64_t s = 0; s < sectors; s += piece) {
		size_t k = MIN(piece, sectors - s);
		fill_tags(shadow + s * 512, s, k);
		g_assert_cmpint(md_write(m, s * 512, k * 512, shadow + s * 512), ==,
				(int)(k * 512));
	}
	g_assert_cmpint(md_flush(m), ==, 0);   /* nothing held back now */
	for (uint64_t s = 0; s < sectors; s++) {
		uint64_t stripe, tag[2];
		struct ref_stripe r;
		int dev = ref_compute(g, s / chunk, &stripe, &r);
		g_assert_cmpint(dev, !=, r.pd);
		g_assert_cmpint(dev, !=, r.qd);
		member_read(m, dev, stripe * chunk + s % chunk, tag, sizeof(tag));
		g_assert_cmphex(tag[0], ==, TAG_MAGIC);
		g_assert_cmpuint(tag[1], ==, s);
	}
}

/* P and Q of every stripe, recomputed from the member files. */
static void check_parity(const struct geometry *g, struct mddev *m)
{
	size_t len = (size_t)g->chunk * 512;
	char *d = g_malloc(len), *p = g_malloc0(len), *q = g_malloc0(len);
	char *disk = g_malloc(len);

	g_assert_cmpint(md_flush(m), ==, 0);

	for (uint64_t s = 0; s < m->dev_sectors / g->chunk; s++) {
		struct ref_stripe r;
		ref_stripe_of(g, s, &r);
		memset(p, 0, len);
		memset(q, 0, len);
		for (int i = 0; i < g->n; i++) {
			if (i == r.pd || i == r.qd)
				continue;
			member_read(m, i, s * g->chunk, d, len);
			uint8_t c = g->level == 6 ? gf_pow2(ref_slot(g, &r, i)) : 0;
			for (size_t b = 0; b < len; b++) {
				p[b] ^= d[b];
				if (c)
					q[b] ^= gf_mul_ref(c, d[b]);
			}
		}
		member_read(m, r.pd, s * g->chunk, disk, len);
		g_assert_true(memcmp(disk, p, len) == 0);
		if (g->level == 6) {
			member_read(m, r.qd, s * g->chunk, disk, len);
			g_assert_true(memcmp(disk, q, len) == 0);
		}
	}
	g_free(d);
	g_free(p);
	g_free(q);
	g_free(disk);
}

static void check_contents(struct mddev *m, const char *shadow)
{
	uint64_t size = array_bytes(m);
	char *got = g_malloc(size);
	size_t piece = 300001;    /* odd: reads straddle chunks and sectors */

	for (uint64_t o = 0; o < size; o += piece) {
		size_t k = MIN(piece, size - o);
		g_assert_cmpint(md_read(m, o, k, got + o), ==, (int)k);
	}
	g_assert_true(memcmp(got, shadow, size) == 0);
	g_free(got);
}

static void random_writes(struct mddev *m, char *shadow, GRand *rnd, int count,
			  size_t max_len)
{
	uint64_t size = array_bytes(m);
	char *buf = g_malloc(max_len);

	for (int w = 0; w < count; w++) {
		size_t len = g_rand_int_range(rnd, 1, (gint32)max_len);
		uint64_t off = (uint64_t)(g_rand_double(rnd) * (size - len));
		for (size_t b = 0; b < len; b++)
			buf[b] = (char)g_rand_int(rnd);
		g_assert_cmpint(md_write(m, off, len, buf), ==, (int)len);
		memcpy(shadow + off, buf, len);
	}
	g_free(buf);
}

static void check_geometry(gconstpointer data)
{
	const struct geometry *g = data;
	struct mddev *m = make_array(g);
	GRand *rnd = g_rand_new_with_seed(g->layout * 131 + g->n * 7 + g->chunk);

	g_assert_cmpuint(m->dev_sectors, ==, (uint64_t)g->chunk * g->stripes);
	g_assert_cmpuint(m->array_sectors, ==, m->dev_sectors * ref_data_disks(g));
	char *shadow = g_malloc(array_bytes(m));
	check_placement(g, m, shadow);
	check_parity(g, m);
	/* Small ones go read-modify-write, big ones reconstruct-write. */
	random_writes(m, shadow, rnd, 150, 3000);
	random_writes(m, shadow, rnd, 30, g->chunk * 512 * 3 + 1000);
	check_parity(g, m);
	check_contents(m, shadow);
	g_assert_cmpuint(run_sync(m, ACTION_CHECK), ==, 0);
	g_free(shadow);
	g_rand_free(rnd);
	md_free(m);
}

/* ---- degraded ---- */

static void set_missing(struct mddev *m, int i, bool missing, bool by_null)
{
	struct md_rdev *r = g_ptr_array_index(m->rdevs, i);

	if (missing) {
		if (by_null)
			m->slots[i] = NULL;           /* as assemble leaves a gap */
		else
			atomic_store(&r->flags, RDEV_FAULTY);
		atomic_fetch_add(&m->degraded, 1);
		return;
	}
	/* Back as a recovering member, rebuilt by a recover pass. */
	m->slots[i] = r;
	atomic_store(&r->flags, 0);
	r->recovery_offset = 0;
	atomic_fetch_sub(&m->degraded, 1);
}

/* A recover pass over recovering members; then they are in sync. */
static void recover(struct mddev *m, const int *lost, int nlost)
{
	run_sync(m, ACTION_RECOVER);
	for (int j = 0; j < nlost; j++)
		atomic_store(&((struct md_rdev *)g_ptr_array_index(m->rdevs, lost[j]))->flags,
			     RDEV_IN_SYNC);
}

/* With the members in lost gone: reads identical, writes land, and a
 * recover pass rebuilds them to a consistent array. */
static void degraded_case(const struct geometry *g, struct mddev *m, char *shadow,
			  GRand *rnd, const int *lost, int nlost)
{
	for (int j = 0; j < nlost; j++)
		set_missing(m, lost[j], true, j == 1);
	check_contents(m, shadow);
	random_writes(m, shadow, rnd, 20, 3000);
	random_writes(m, shadow, rnd, 4, g->chunk * 512 * 2 + 700);
	check_contents(m, shadow);
	for (int j = 0; j < nlost; j++)
		set_missing(m, lost[j], false, false);
	check_contents(m, shadow);    /* recovering members are not trusted */
	recover(m, lost, nlost);
	check_parity(g, m);
	check_contents(m, shadow);
}

static void check_degraded(gconstpointer data)
{
	const struct geometry *g = data;
	struct mddev *m = make_array(g);
	GRand *rnd = g_rand_new_with_seed(77 + g->layout);
	char *shadow = g_malloc(array_bytes(m));

	check_placement(g, m, shadow);
	random_writes(m, shadow, rnd, 40, 5000);
	for (int a = 0; a < g->n; a++) {
		if (g->level != 6) {
			degraded_case(g, m, shadow, rnd, &a, 1);
			continue;
		}
		for (int b = a + 1; b < g->n; b++) {
			int lost[2] = { a, b };
			degraded_case(g, m, shadow, rnd, lost, 2);
		}
	}
	/* One more than the level can lose: the array refuses. */
	for (int j = 0; j <= (g->level == 6 ? 2 : 1); j++)
		set_missing(m, j, true, false);
	char buf[512];
	g_assert_cmpint(md_read(m, 0, sizeof(buf), buf), ==, -EIO);
	g_free(shadow);
	g_rand_free(rnd);
	md_free(m);
}

/* ---- read errors: md's R5_ReadError, R5_ReWrite, R5_ReRead ---- */

/* The member and member sector of array sector s; the stripe's P and Q. */
static int data_member(const struct geometry *g, uint64_t s, uint64_t *sector,
		       struct ref_stripe *r)
{
	uint64_t stripe;
	int dev = ref_compute(g, s / g->chunk, &stripe, r);

	*sector = stripe * g->chunk + s % g->chunk;
	return dev;
}

static bool faulty(struct mddev *m, int i)
{
	return atomic_load(&m->slots[i]->flags) & RDEV_FAULTY;
}

/* Member a fails the read of two sectors of a data chunk; with `second`
 * another member fails the same stripe_head too (raid6): another data
 * member (chunk 2 is in chunk 3's row), or P.  Every read still returns the data, each failed piece is
 * rewritten (the member remaps it) and read back, counted one
 * stripe_head (8 sectors) corrected, and no member fails. */
static void read_errors_case(const struct geometry *g, int second)
{
	struct mddev *m = make_array(g);
	char *shadow = g_malloc(array_bytes(m));
	struct ref_stripe r;
	uint64_t sector, s2;

	check_placement(g, m, shadow);
	int a = data_member(g, 3 * g->chunk + 5, &sector, &r);
	struct ref_stripe r2;
	int b = second == 1 ? data_member(g, 2 * g->chunk + 5, &s2, &r2)
				   : second == 2 ? r.pd : -1;
	g_assert_cmpint(a, !=, b);
	g_assert_true(second != 1 || s2 == sector);
	member_read_errors(m, a, sector, 2);
	if (b >= 0)   /* the whole stripe_head: P is read whole */
		member_read_errors(m, b, sector & ~7ull, 8);
	check_contents(m, shadow);
	for (int i = 0; i < g->n; i++) {
		bool failed_read = i == a || i == b;
		g_assert_false(member_has_read_errors(m, i));
		g_assert_cmpuint(atomic_load(&m->slots[i]->corrected_errors), ==,
				 failed_read ? 8 : 0);
		g_assert_false(faulty(m, i));
	}
	g_assert_cmpint(atomic_load(&m->degraded), ==, 0);
	check_parity(g, m);
	g_free(shadow);
	md_free(m);
}

static void check_read_error(gconstpointer data)
{
	const struct geometry *g = data;

	read_errors_case(g, 0);
	if (g->level == 6) {
		read_errors_case(g, 1);
		read_errors_case(g, 2);
	}
}

static const struct md_attr *level_attr(struct mddev *m, const char *name)
{
	for (const struct md_attr *a = m->pers->attrs; a->name; a++)
		if (strcmp(a->name, name) == 0)
			return a;
	g_assert_not_reached();
}

/* md_error warns: not fatal while a member is expected to fail. */
static void warnings_fatal(bool fatal)
{
	g_log_set_always_fatal(G_LOG_FATAL_MASK |
			       (fatal ? G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL : 0));
}

/* An array of g with every sector written, and where array sector 5 is:
 * member a, its sector, the stripe's P and Q. */
struct placed {
	struct mddev *m;
	char *shadow;
	int a;
	uint64_t sector;
	struct ref_stripe r;
};

static void place(const struct geometry *g, struct placed *p)
{
	p->m = make_array(g);
	p->shadow = g_malloc(array_bytes(p->m));
	check_placement(g, p->m, p->shadow);
	p->a = data_member(g, 5, &p->sector, &p->r);
}

static void unplace(struct placed *p)
{
	g_free(p->shadow);
	md_free(p->m);
}

/* md fails a member with more read errors in a row than stripe_cache_size
 * (its max_nr_stripes); the data still comes from the others. */
static void test_too_many_read_errors(void)
{
	static const struct geometry g = { 5, 2, 16, 4, 64 };
	struct placed p;

	place(&g, &p);
	g_assert_cmpint(level_attr(p.m, "stripe_cache_size")->store(p.m, NULL, "17"),
			==, 0);
	member_read_errors(p.m, 1, 0, p.m->dev_sectors);
	warnings_fatal(false);
	check_contents(p.m, p.shadow);
	warnings_fatal(true);
	g_assert_true(faulty(p.m, 1));
	g_assert_cmpint(atomic_load(&p.m->degraded), ==, 1);
	unplace(&p);
}

/* Two members failing one stripe_head of raid5: nothing to rebuild it
 * from, the read fails. */
static void test_unreadable_stripe(void)
{
	static const struct geometry g = { 5, 2, 16, 4, 8 };
	struct placed p;
	char buf[512];

	place(&g, &p);
	member_read_errors(p.m, p.a, p.sector, 1);
	member_read_errors(p.m, p.r.pd, p.sector, 1);
	warnings_fatal(false);
	g_assert_cmpint(md_read(p.m, 5 * 512, sizeof(buf), buf), ==, -EIO);
	warnings_fatal(true);
	unplace(&p);
}

/* md's R5_ReRead: a rewrite that does not read back ("read error NOT
 * corrected!!") fails the member (no bad-block log); the data is right. */
static void test_rewrite_not_read_back(void)
{
	static const struct geometry g = { 5, 2, 16, 4, 8 };
	struct placed p;

	place(&g, &p);
	member_stuck_read_errors(p.m, p.a, p.sector, 1);
	warnings_fatal(false);
	check_contents(p.m, p.shadow);
	warnings_fatal(true);
	g_assert_true(faulty(p.m, p.a));
	g_assert_cmpuint(atomic_load(&p.m->slots[p.a]->corrected_errors), ==, 0);
	unplace(&p);
}

/* A write that must read meets read errors there: raid4/5 write a
 * sector range of one member by read-modify-write, P failing; raid6 by
 * reconstruct-write, two other data members failing.  What failed is
 * rebuilt, rewritten and read back as a read's is, and the write lands
 * with the parity right. */
static void check_write_read_error(gconstpointer data)
{
	const struct geometry *g = data;
	struct placed p;
	char buf[1024];
	int bad[2] = { -1, -1 };
	uint64_t sector;
	struct ref_stripe r;

	place(g, &p);
	/* The smallest cache keeps only the last rows written: the write
	 * reads row 0 from the members. */
	g_assert_cmpint(level_attr(p.m, "stripe_cache_size")->store(p.m, NULL, "17"),
			==, 0);
	if (g->level == 6) {
		bad[0] = data_member(g, g->chunk + 5, &sector, &r);
		bad[1] = data_member(g, 2 * g->chunk + 5, &sector, &r);
	} else {
		bad[0] = p.r.pd;
	}
	for (int k = 0; k < 2; k++)
		if (bad[k] >= 0)
			member_read_errors(p.m, bad[k], p.sector & ~7ull, 8);
	memset(buf, 'w', sizeof(buf));
	g_assert_cmpint(md_write(p.m, 5 * 512, sizeof(buf), buf), ==, sizeof(buf));
	memcpy(p.shadow + 5 * 512, buf, sizeof(buf));
	check_contents(p.m, p.shadow);
	check_parity(g, p.m);
	for (int i = 0; i < g->n; i++) {
		bool failed_read = i == bad[0] || i == bad[1];
		g_assert_false(member_has_read_errors(p.m, i));
		g_assert_cmpuint(atomic_load(&p.m->slots[i]->corrected_errors), ==,
				 failed_read ? 8 : 0);
		g_assert_false(faulty(p.m, i));
	}
	unplace(&p);
}

/* Writers of partial stripes, and readers, with every read of member 1
 * failing: each is fixed (rebuilt, rewritten, read back) under the
 * stripe locks, so no write comes between.  Every read sees its
 * sectors, the writes land, and the parity is right after. */
static void check_read_error_stress(gconstpointer data)
{
	const struct geometry *g = data;
	struct mddev *m = make_array(g);

	stress_read_errors(m, 1, 0, 0, 0);
	g_assert_cmpuint(run_sync(m, ACTION_CHECK), ==, 0);
	check_parity(g, m);
	md_free(m);
}

/* md rewrites nothing on a read-only array: the data is rebuilt, the
 * member keeps its bad sectors. */
static void test_read_error_ro(void)
{
	static const struct geometry g = { 6, 2, 16, 5, 8 };
	struct placed p;

	place(&g, &p);
	member_read_errors(p.m, p.a, p.sector, 1);
	p.m->ro = true;
	check_contents(p.m, p.shadow);
	g_assert_true(member_has_read_errors(p.m, p.a));
	g_assert_cmpuint(atomic_load(&p.m->slots[p.a]->corrected_errors), ==, 0);
	g_assert_false(faulty(p.m, p.a));
	p.m->ro = false;
	unplace(&p);
}

/* ---- check and repair count md's way ---- */

static void test_check_repair(void)
{
	static const struct geometry g = { 6, 2, 16, 5, 6 };
	struct mddev *m = make_array(&g);
	char *shadow = g_malloc(array_bytes(m));
	char junk[100];

	check_placement(&g, m, shadow);
	g_assert_cmpuint(run_sync(m, ACTION_CHECK), ==, 0);
	/* Two bytes in one 4K page of a data member, one in another page of
	 * another stripe's Q: two stripe_heads, 8 sectors each. */
	memset(junk, 0xa5, sizeof(junk));
	struct ref_stripe r;
	int data = 0;
	ref_stripe_of(&g, 2, &r);
	while (data == r.pd || data == r.qd)
		data++;
	member_write(m, data, 2 * g.chunk + 9, junk, 2);
	ref_stripe_of(&g, 4, &r);
	member_write(m, r.qd, 4 * g.chunk + 1, junk, 1);
	g_assert_cmpuint(run_sync(m, ACTION_CHECK), ==, 16);
	g_assert_cmpuint(run_sync(m, ACTION_CHECK), ==, 16);   /* check changes nothing */
	g_assert_cmpuint(run_sync(m, ACTION_REPAIR), ==, 16);
	g_assert_cmpuint(run_sync(m, ACTION_CHECK), ==, 0);
	check_parity(&g, m);
	g_free(shadow);
	md_free(m);
}

/* Change every byte of sectors of member i's data behind the array's back,
 * each by its own amount (salt: another pattern). */
static void garble_sectors(struct mddev *m, int i, uint64_t sector,
			   size_t sectors, unsigned salt)
{
	size_t len = sectors * 512;
	char *buf = g_malloc(len);

	member_read(m, i, sector, buf, len);
	for (size_t b = 0; b < len; b++)
		buf[b] ^= (char)((b * 37 + salt) % 255 + 1);
	member_write(m, i, sector, buf, len);
	g_free(buf);
}

/* raid6 repair, as mdadm's raid6check: in stripe s of the first 3n one
 * member goes bad, in turn data in every syndrome slot, P and Q (checked:
 * each role at least once), and repair gives each its exact bytes back.
 * Two bad members in one page are more than P and Q can place: md's
 * answer, P and Q rewritten, the data left alone. */
static void check_raid6_repair(gconstpointer data)
{
	const struct geometry *g = data;
	struct mddev *m = make_array(g);
	char *shadow = g_malloc(array_bytes(m));
	const int bad = 3 * g->n;
	const size_t sectors = 10, len = sectors * 512;
	char *before = g_malloc(bad * len), *after = g_malloc(len);
	int roles[3] = { 0 };     /* data, P, Q */

	g_assert_cmpint(g->stripes, >, bad);
	check_placement(g, m, shadow);
	for (int s = 0; s < bad; s++) {
		int i = (s + s / g->n) % g->n;
		struct ref_stripe r;
		ref_stripe_of(g, s, &r);
		roles[i == r.pd ? 1 : i == r.qd ? 2 : 0]++;
		member_read(m, i, s * g->chunk + 3, before + s * len, len);
		garble_sectors(m, i, s * g->chunk + 3, sectors, s);
	}
	g_assert_cmpint(roles[0], >, 0);
	g_assert_cmpint(roles[1], >, 0);
	g_assert_cmpint(roles[2], >, 0);
	/* sectors 3..12: two md pages of each stripe */
	g_assert_cmpuint(run_sync(m, ACTION_CHECK), ==, bad * 16);
	g_assert_cmpuint(run_sync(m, ACTION_REPAIR), ==, bad * 16);
	g_assert_cmpuint(run_sync(m, ACTION_CHECK), ==, 0);
	for (int s = 0; s < bad; s++) {
		int i = (s + s / g->n) % g->n;
		member_read(m, i, s * g->chunk + 3, after, len);
		g_assert_true(memcmp(after, before + s * len, len) == 0);
	}
	check_contents(m, shadow);
	check_parity(g, m);

	struct ref_stripe r;
	int d[2], k = 0;
	uint64_t at = (uint64_t)bad * g->chunk;
	ref_stripe_of(g, bad, &r);
	for (int i = 0; k < 2; i++)
		if (i != r.pd && i != r.qd)
			d[k++] = i;
	garble_sectors(m, d[0], at, 1, 1);
	garble_sectors(m, d[1], at, 1, 2);
	member_read(m, d[0], at, before, 512);
	member_read(m, d[1], at, before + 512, 512);
	g_assert_cmpuint(run_sync(m, ACTION_REPAIR), ==, 8);
	g_assert_cmpuint(run_sync(m, ACTION_CHECK), ==, 0);
	check_parity(g, m);
	member_read(m, d[0], at, after, 512);
	member_read(m, d[1], at, after + 512, 512);
	g_assert_true(memcmp(after, before, 1024) == 0);   /* no data touched */
	g_free(before);
	g_free(after);
	g_free(shadow);
	md_free(m);
}

/* raid6 with one data member gone still has Q to check and resync: the
 * data rebuilt from P, Q against it. */
static void test_raid6_sync_degraded(void)
{
	static const struct geometry g = { 6, 2, 16, 5, 6 };
	struct mddev *m = make_array(&g);
	char *shadow = g_malloc(array_bytes(m));
	char junk = 0x5a;
	struct ref_stripe r;
	int data = 0;

	check_placement(&g, m, shadow);
	ref_stripe_of(&g, 4, &r);
	while (data == r.pd || data == r.qd)
		data++;
	member_write(m, r.qd, 4 * g.chunk + 1, &junk, 1);
	set_missing(m, data, true, false);
	g_assert_cmpuint(run_sync(m, ACTION_CHECK), ==, 8);
	run_sync(m, ACTION_RESYNC);
	g_assert_cmpuint(run_sync(m, ACTION_CHECK), ==, 0);
	set_missing(m, data, false, false);
	recover(m, &data, 1);
	g_assert_cmpuint(run_sync(m, ACTION_CHECK), ==, 0);
	check_parity(&g, m);
	check_contents(m, shadow);
	g_free(shadow);
	md_free(m);
}

/* A fresh (all-zero) array resyncs without writing a byte: zero parity is
 * right, and sparse members stay sparse. */
static void test_resync(void)
{
	static const struct geometry g = { 5, 2, 8, 4, 10 };
	struct mddev *m = make_array(&g);
	char junk[512];

	memset(junk, 0x3c, sizeof(junk));
	g_assert_cmpuint(run_sync(m, ACTION_RESYNC), ==, 0);
	for (int i = 0; i < g.n; i++) {
		struct stat st;
		g_assert_cmpint(fstat(m->slots[i]->fd, &st), ==, 0);
		g_assert_cmpint(st.st_blocks, ==, 0);
	}
	member_write(m, 3, 5 * 8 + 2, junk, sizeof(junk));
	g_assert_cmpuint(run_sync(m, ACTION_RESYNC), ==, 8);
	g_assert_cmpuint(run_sync(m, ACTION_CHECK), ==, 0);
	check_parity(&g, m);
	md_free(m);
}

/* ---- concurrency ---- */

struct writer {
	struct mddev *m;
	guint32 seed;
	uint64_t span;
	size_t max_len;               /* 0: an fsync-er, not a writer */
};

static gpointer writer_thread(gpointer arg)
{
	struct writer *w = arg;
	GRand *rnd = g_rand_new_with_seed(w->seed);
	char *buf = g_malloc(w->max_len + 1);

	for (int i = 0; i < 300; i++) {
		if (!w->max_len) {
			g_assert_cmpint(md_flush(w->m), ==, 0);
			g_usleep(g_rand_int_range(rnd, 0, 2000));
			continue;
		}
		size_t len = g_rand_int_range(rnd, 1, (gint32)w->max_len);
		uint64_t off = g_rand_int_range(rnd, 0, (gint32)(w->span - len));
		if (g_rand_boolean(rnd)) {   /* whole sectors: may be held back */
			off &= ~511ull;
			len = MAX(len & ~511ul, 512ul);
		}
		memset(buf, (int)g_rand_int(rnd), len);
		g_assert_cmpint(md_write(w->m, off, len, buf), ==, (int)len);
	}
	g_free(buf);
	g_rand_free(rnd);
	return NULL;
}

static void check_concurrent(gconstpointer data)
{
	const struct geometry *g = data;
	struct mddev *m = make_array(g);
	struct writer w[6];
	GThread *t[6];
	/* Big chunks: writes large enough to be held back, one thread
	 * fsyncing, over a few stripes so that they collide on parity. */
	bool big = g->chunk >= 128;
	uint64_t span = MIN(array_bytes(m), big ? 3 * (uint64_t)g->chunk * 512 *
			    (g->n - (g->level == 6 ? 2 : 1)) : 3 * 65536);

	for (int i = 0; i < 6; i++) {
		size_t max_len = big ? (i == 5 ? 0 : g->chunk * 512 * 2) : 20000;
		w[i] = (struct writer){ m, 1000 + i, span, max_len };
		t[i] = g_thread_new("writer", writer_thread, &w[i]);
	}
	for (int i = 0; i < 6; i++)
		g_thread_join(t[i]);
	g_assert_cmpuint(run_sync(m, ACTION_CHECK), ==, 0);
	check_parity(g, m);
	md_free(m);
}

/* ---- partial stripes held back in the stripe cache ---- */

/* Whole-sector writes of 64K up to a stripe: most are held back to wait
 * for the rest of their stripe. */
static void held_back_writes(struct mddev *m, const struct geometry *g,
			     char *shadow, GRand *rnd, int count)
{
	size_t stripe = (size_t)g->chunk * 512 * ref_data_disks(g);
	uint64_t sectors = m->array_sectors;
	char *buf = g_malloc(stripe);

	for (int w = 0; w < count; w++) {
		size_t len = g_rand_int_range(rnd, 128, (gint32)(stripe / 512)) * 512;
		uint64_t off = g_rand_int_range(rnd, 0, (gint32)(sectors - len / 512)) * 512;
		for (size_t b = 0; b < len; b++)
			buf[b] = (char)g_rand_int(rnd);
		g_assert_cmpint(md_write(m, off, len, buf), ==, (int)len);
		memcpy(shadow + off, buf, len);
	}
	g_free(buf);
}

/* Reads see held-back data at once, healthy and degraded; writes and a
 * recovery while data is held back leave the array right once flushed. */
static void check_held_back(gconstpointer data)
{
	const struct geometry *g = data;
	struct mddev *m = make_array(g);
	GRand *rnd = g_rand_new_with_seed(4242 + g->level);
	char *shadow = g_malloc0(array_bytes(m));

	held_back_writes(m, g, shadow, rnd, 12);
	check_contents(m, shadow);
	for (int lost = 0; lost < g->n; lost++) {
		held_back_writes(m, g, shadow, rnd, 6);
		set_missing(m, lost, true, false);
		check_contents(m, shadow);          /* degraded, data held back */
		held_back_writes(m, g, shadow, rnd, 6);
		check_contents(m, shadow);
		set_missing(m, lost, false, false);
		held_back_writes(m, g, shadow, rnd, 4);
		recover(m, &lost, 1);
		check_contents(m, shadow);
		check_parity(g, m);
		check_contents(m, shadow);
	}
	g_assert_cmpuint(run_sync(m, ACTION_CHECK), ==, 0);
	g_free(shadow);
	g_rand_free(rnd);
	md_free(m);
}

/* Held back only for a while: the members get the data with no fsync. */
static void test_held_back_expires(void)
{
	static const struct geometry g = { 5, 2, 128, 4, 4 };
	struct mddev *m = make_array(&g);
	char *buf = g_malloc(65536), *got = g_malloc(65536);
	int64_t deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;

	fill_tags(buf, 0, 128);
	g_assert_cmpint(md_write(m, 0, 65536, buf), ==, 65536);
	do {   /* array chunk 0 is member 0's first chunk (left-symmetric) */
		g_usleep(10000);
		member_read(m, 0, 0, got, 65536);
	} while (memcmp(got, buf, 65536) && g_get_monotonic_time() < deadline);
	g_assert_true(memcmp(got, buf, 65536) == 0);
	g_free(buf);
	g_free(got);
	md_free(m);
}

/* ---- chunks past 4 GiB ---- */

/* P and Q over the member sectors [sector, sector + len/512) of stripe s. */
static void check_parity_range(const struct geometry *g, struct mddev *m,
			       uint64_t s, uint64_t sector, size_t len)
{
	char *d = g_malloc(len), *p = g_malloc0(len), *q = g_malloc0(len);
	char *disk = g_malloc(len);
	struct ref_stripe r;

	ref_stripe_of(g, s, &r);
	for (int i = 0; i < g->n; i++) {
		if (i == r.pd || i == r.qd)
			continue;
		member_read(m, i, sector, d, len);
		uint8_t c = g->level == 6 ? gf_pow2(ref_slot(g, &r, i)) : 0;
		for (size_t b = 0; b < len; b++) {
			p[b] ^= d[b];
			if (c)
				q[b] ^= gf_mul_ref(c, d[b]);
		}
	}
	member_read(m, r.pd, sector, disk, len);
	g_assert_true(memcmp(disk, p, len) == 0);
	if (g->level == 6) {
		member_read(m, r.qd, sector, disk, len);
		g_assert_true(memcmp(disk, q, len) == 0);
	}
	g_free(d);
	g_free(p);
	g_free(q);
	g_free(disk);
}

/* An 8 GiB chunk (md takes up to 2^30 sectors): bytes past 4 GiB into a
 * chunk land there, not 4 GiB lower, parity covers them, a degraded read
 * rebuilds them, and nothing the array allocates scales with the chunk. */
static void check_large_chunk(gconstpointer data)
{
	const struct geometry *g = data;
	struct mddev *m = make_array(g);
	const size_t len = 70000;                      /* unaligned, > a window */
	const uint64_t chunk_bytes = (uint64_t)g->chunk << 9;
	const uint64_t offs[] = { (4ull << 30) + 1536, chunk_bytes + (6ull << 30) - 333 };
	char *buf = g_malloc(len + 2048), *got = g_malloc(len + 2048);
	struct rusage ru;

	for (unsigned k = 0; k < G_N_ELEMENTS(offs); k++) {
		uint64_t first = offs[k] / 512, sectors = (len + 1023) / 512;
		uint64_t stripe, in_chunk = offs[k] % chunk_bytes;
		struct ref_stripe r;
		int dev = ref_compute(g, offs[k] / chunk_bytes, &stripe, &r);

		fill_tags(buf, first, sectors + 1);
		const char *data = buf + offs[k] % 512;
		g_assert_cmpint(md_write(m, offs[k], len, data), ==, (int)len);
		g_assert_cmpint(md_flush(m), ==, 0);
		g_assert_cmpint(md_read(m, offs[k], len, got), ==, (int)len);
		g_assert_true(memcmp(got, data, len) == 0);
		member_read(m, dev, stripe * g->chunk + in_chunk / 512, got, len);
		g_assert_true(memcmp(got + offs[k] % 512, data, len - 512) == 0);
		check_parity_range(g, m, stripe, stripe * g->chunk + in_chunk / 512,
				   sectors * 512);
		set_missing(m, dev, true, false);
		memset(got, 0, len);
		g_assert_cmpint(md_read(m, offs[k], len, got), ==, (int)len);
		g_assert_true(memcmp(got, data, len) == 0);
		set_missing(m, dev, false, false);
		atomic_store(&((struct md_rdev *)g_ptr_array_index(m->rdevs, dev))->flags,
			     RDEV_IN_SYNC);
	}
	g_assert_cmpint(getrusage(RUSAGE_SELF, &ru), ==, 0);
	/* Far below the 8 GiB a chunk-sized buffer would take, with room for
	 * the sanitizers' shadow memory. */
	g_assert_cmpint(ru.ru_maxrss, <, 2 << 20);   /* KiB */
	g_free(buf);
	g_free(got);
	md_free(m);
}

/* ---- the reference itself, against md's documented pictures ---- */

static void test_reference_tables(void)
{
	/* raid5 left-symmetric over 4: the data chunk on each member of the
	 * first four stripes (-1: P), as md.4 and mdadm draw it. */
	static const int ls[4][4] = {
		{ 0, 1, 2, -1 }, { 4, 5, -1, 3 }, { 8, -1, 6, 7 }, { -1, 9, 10, 11 },
	};
	static const int la[4][4] = {
		{ 0, 1, 2, -1 }, { 3, 4, -1, 5 }, { 6, -1, 7, 8 }, { -1, 9, 10, 11 },
	};
	const struct geometry g_ls = { 5, 2, 8, 4, 4 }, g_la = { 5, 0, 8, 4, 4 };

	for (int c = 0; c < 12; c++) {
		uint64_t s;
		struct ref_stripe r;
		int dev = ref_compute(&g_ls, c, &s, &r);
		g_assert_cmpint(ls[s][dev], ==, c);
		g_assert_cmpint(ls[s][r.pd], ==, -1);
		dev = ref_compute(&g_la, c, &s, &r);
		g_assert_cmpint(la[s][dev], ==, c);
		g_assert_cmpint(la[s][r.pd], ==, -1);
	}
	/* raid6 left-symmetric over 5: stripe 0 is Q D0 D1 D2 P, stripe 2
	 * D7 D8 P Q D6, and the syndrome starts after Q (D6 first). */
	const struct geometry g6 = { 6, 2, 8, 5, 4 };
	struct ref_stripe r;
	uint64_t s;
	g_assert_cmpint(ref_compute(&g6, 0, &s, &r), ==, 1);
	g_assert_cmpint(r.pd, ==, 4);
	g_assert_cmpint(r.qd, ==, 0);
	g_assert_cmpint(ref_compute(&g6, 6, &s, &r), ==, 4);
	g_assert_cmpint(r.pd, ==, 2);
	g_assert_cmpint(r.qd, ==, 3);
	g_assert_cmpint(ref_slot(&g6, &r, 4), ==, 0);
	g_assert_cmpint(ref_slot(&g6, &r, 0), ==, 1);
	g_assert_cmpint(ref_slot(&g6, &r, 1), ==, 2);
	/* ddf rotating-n-continue: a data member's slot is its own index. */
	const struct geometry gd = { 6, 10, 8, 5, 4 };
	ref_compute(&gd, 3, &s, &r);
	for (int i = 0; i < 5; i++)
		if (i != r.pd && i != r.qd)
			g_assert_cmpint(ref_slot(&gd, &r, i), ==, i);
}

static void test_hints_status(void)
{
	static const struct geometry g5 = { 5, 2, 1024, 4, 2 }, g6 = { 6, 18, 128, 5, 2 },
		g4 = { 4, 0, 16, 3, 2 };
	struct mddev *m = make_array(&g5);
	unsigned io_min, io_opt;
	GString *s = g_string_new(NULL);

	md_io_hints(m, &io_min, &io_opt);
	g_assert_cmpuint(io_min, ==, 512 * 1024);
	g_assert_cmpuint(io_opt, ==, 3 * 512 * 1024);
	m->pers->status(m, s);
	g_assert_cmpstr(s->str, ==, " level 5, 512k chunk, algorithm 2 [4/4] [UUUU]");
	md_free(m);

	m = make_array(&g6);
	set_missing(m, 1, true, true);
	g_string_truncate(s, 0);
	m->pers->status(m, s);
	g_assert_cmpstr(s->str, ==, " level 6, 64k chunk, algorithm 18 [5/4] [U_UUU]");
	md_io_hints(m, &io_min, &io_opt);
	g_assert_cmpuint(io_opt, ==, 3 * 64 * 1024);
	m->slots[1] = g_ptr_array_index(m->rdevs, 1);
	md_free(m);

	m = make_array(&g4);
	g_string_truncate(s, 0);
	m->pers->status(m, s);
	g_assert_cmpstr(s->str, ==, " level 4, 8k chunk, algorithm 0 [3/3] [UUU]");
	md_free(m);
	g_string_free(s, TRUE);
}

/* ---- the list ---- */

static const uint32_t r5_layouts[] = { 0, 1, 2, 3, 4, 5 };
static const uint32_t r6_layouts[] = { 0, 1, 2, 3, 4, 5, 8, 9, 10, 16, 17, 18, 19, 20 };
static const struct { int n; uint32_t chunk; int stripes; } shapes5[] = {
	{ 3, 8, 23 }, { 5, 16, 14 }, { 7, 128, 5 }, { 4, 1024, 3 }, { 2, 32, 6 },
};
static const struct { int n; uint32_t chunk; int stripes; } shapes6[] = {
	{ 4, 8, 19 }, { 5, 32, 11 }, { 7, 128, 8 }, { 6, 1024, 3 },
};

static void add(const char *kind, const struct geometry *proto, GTestDataFunc fn)
{
	struct geometry *g = g_memdup2(proto, sizeof(*g));
	char *name = g_strdup_printf("/raid5/%s/raid%d/layout%u/n%d/chunk%uk", kind,
				     g->level, g->layout, g->n, g->chunk / 2);

	g_test_add_data_func_full(name, g, fn, g_free);
	g_free(name);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/raid5/reference-tables", test_reference_tables);
	for (int level = 4; level <= 6; level++) {
		const uint32_t *layouts = level == 6 ? r6_layouts : r5_layouts;
		unsigned nl = level == 6 ? G_N_ELEMENTS(r6_layouts)
			     : level == 5 ? G_N_ELEMENTS(r5_layouts) : 1;
		for (unsigned l = 0; l < nl; l++) {
			unsigned ns = level == 6 ? G_N_ELEMENTS(shapes6) : G_N_ELEMENTS(shapes5);
			for (unsigned i = 0; i < ns; i++) {
				struct geometry g = { level, layouts[l], 0, 0, 0 };
				g.n = level == 6 ? shapes6[i].n : shapes5[i].n;
				g.chunk = level == 6 ? shapes6[i].chunk : shapes5[i].chunk;
				g.stripes = level == 6 ? shapes6[i].stripes : shapes5[i].stripes;
				add("placement", &g, check_geometry);
			}
			struct geometry d = { level, layouts[l], 8, level == 6 ? 5 : 4, 9 };
			add("degraded", &d, check_degraded);
			struct geometry r6 = { 6, layouts[l], 16, 5 + l % 2, 20 };
			if (level == 6)
				add("raid6-repair", &r6, check_raid6_repair);
		}
		struct geometry c = { level, 2, 16, level == 6 ? 6 : 5, 16 };
		add("concurrent", &c, check_concurrent);
		struct geometry cb = { level, 2, 128, level == 6 ? 6 : 4, 8 };
		add("concurrent", &cb, check_concurrent);
		struct geometry h = { level, 2, 128, level == 6 ? 5 : 4, 6 };
		add("held-back", &h, check_held_back);
		struct geometry re = { level, level == 4 ? 0 : 2, 16,
				       level == 6 ? 6 : 5, 8 };
		add("read-error", &re, check_read_error);
		struct geometry wre = { level, level == 4 ? 0 : 2, 16,
					level == 6 ? 6 : 5, 64 };
		add("write-read-error", &wre, check_write_read_error);
		struct geometry rs = { level, level == 4 ? 0 : 2, 16,
				       level == 6 ? 5 : 4, 16 };
		add("read-error-stress", &rs, check_read_error_stress);
	}
	static const struct geometry large[] = {
		{ 4, 0, 1u << 24, 3, 2 }, { 5, 2, 1u << 24, 3, 2 },
		{ 6, 2, 1u << 24, 4, 2 }, { 6, 8, 1u << 24, 4, 2 },
	};
	for (unsigned i = 0; i < G_N_ELEMENTS(large); i++)
		add("large-chunk", &large[i], check_large_chunk);
	g_test_add_func("/raid5/check-repair", test_check_repair);
	g_test_add_func("/raid5/resync", test_resync);
	g_test_add_func("/raid5/raid6-sync-one-missing", test_raid6_sync_degraded);
	g_test_add_func("/raid5/held-back-expires", test_held_back_expires);
	g_test_add_func("/raid5/hints-status", test_hints_status);
	g_test_add_func("/raid5/too-many-read-errors", test_too_many_read_errors);
	g_test_add_func("/raid5/unreadable-stripe", test_unreadable_stripe);
	g_test_add_func("/raid5/read-error-read-only", test_read_error_ro);
	g_test_add_func("/raid5/rewrite-not-read-back", test_rewrite_not_read_back);
	return g_test_run();
}
