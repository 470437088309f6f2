/* The engine's data placement for linear, raid0 and raid1 against a plain
 * reference written here from md's rules: every array sector is written with
 * its own number through the engine, then looked for on the member files
 * where the reference says md keeps it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "testlib.h"

#define TAG_MAGIC 0x5241494446535441ull

struct geometry {
	int level;
	uint32_t layout;          /* raid0: 1 original, 2 alternate */
	uint32_t chunk;           /* sectors */
	int n;
	uint64_t sizes[6];        /* data sectors per member */
};

static struct mddev *make_array(const struct geometry *g)
{
	return test_array(g->level, g->layout, g->chunk, g->n, g->sizes);
}

/* ---- the reference ---- */

static uint64_t round_chunk(uint64_t s, uint32_t chunk)
{
	return chunk ? s - s % chunk : s;
}

static void ref_linear(const struct geometry *g, uint64_t s, int *slot, uint64_t *dev)
{
	for (int i = 0; i < g->n; i++) {
		uint64_t size = round_chunk(g->sizes[i], g->chunk);
		if (s < size) {
			*slot = i;
			*dev = s;
			return;
		}
		s -= size;
	}
	g_assert_not_reached();
}

/* Zones, by walking distinct member sizes upwards: each zone stripes over
 * the members that reach past the previous zone's end on disk. */
static void ref_raid0(const struct geometry *g, uint64_t s, int *slot, uint64_t *dev)
{
	uint64_t c = g->chunk, floor = 0, zone_start = 0;

	for (;;) {
		int members[6], nb = 0;
		uint64_t top = UINT64_MAX;
		for (int i = 0; i < g->n; i++) {
			uint64_t size = round_chunk(g->sizes[i], c);
			if (size > floor) {
				members[nb++] = i;
				top = MIN(top, size);
			}
		}
		g_assert_cmpint(nb, >, 0);
		uint64_t zone_len = (top - floor) * nb;
		if (s < zone_start + zone_len) {
			uint64_t chunk_in_zone = (s - zone_start) / c;
			uint64_t global_chunk = s / c;
			uint64_t pick = g->layout == 2 || zone_start == 0
					? chunk_in_zone : global_chunk;
			*slot = members[pick % nb];
			*dev = floor + chunk_in_zone / nb * c + s % c;
			return;
		}
		zone_start += zone_len;
		floor = top;
	}
}

static uint64_t ref_size(const struct geometry *g)
{
	uint64_t total = 0, smallest = UINT64_MAX;

	for (int i = 0; i < g->n; i++) {
		total += round_chunk(g->sizes[i], g->level == 1 ? 0 : g->chunk);
		smallest = MIN(smallest, g->sizes[i]);
	}
	return g->level == 1 ? smallest : total;
}


/* Where the reference puts array sector s: a slot and a sector on it
 * (raid1 and raid10 map sector to itself on slot 0). */
static void ref_map(const struct geometry *g, uint64_t s, int *slot, uint64_t *dev)
{
	*slot = 0;
	*dev = s;
	if (g->level == MD_LEVEL_LINEAR)
		ref_linear(g, s, slot, dev);
	else if (g->level == 0)
		ref_raid0(g, s, slot, dev);
}
/* ---- the check ---- */

static void fill_tags(char *buf, uint64_t first, size_t sectors)
{
	for (size_t i = 0; i < sectors; i++) {
		uint64_t tag[2] = { TAG_MAGIC, first + i };
		memset(buf + i * 512, (int)((first + i) & 0xff), 512);
		memcpy(buf + i * 512, tag, sizeof(tag));
	}
}

static void check_geometry(gconstpointer data)
{
	const struct geometry *g = data;
	struct mddev *m = make_array(g);
	uint64_t sectors = ref_size(g);

	g_assert_cmpuint(m->array_sectors, ==, sectors);
	/* Write everything in odd-sized pieces so requests straddle chunks. */
	size_t piece = 777;
	char *buf = g_malloc(piece * 512);
	for (uint64_t s = 0; s < sectors; s += piece) {
		size_t k = MIN(piece, sectors - s);
		fill_tags(buf, s, k);
		g_assert_cmpint(md_write(m, s * 512, k * 512, buf), ==, (int)(k * 512));
	}
	for (uint64_t s = 0; s < sectors; s++) {
		int slot;
		uint64_t dev;
		ref_map(g, s, &slot, &dev);
		for (int i = 0; i < g->n; i++) {
			if (g->level != 1 && i != slot)
				continue;
			struct md_rdev *r = m->slots[i];
			uint64_t tag[2];
			g_assert_cmpint(pread(r->fd, tag, sizeof(tag),
					      (r->data_offset + dev) * 512), ==, sizeof(tag));
			g_assert_cmphex(tag[0], ==, TAG_MAGIC);
			g_assert_cmpuint(tag[1], ==, s);
		}
	}
	/* Unaligned reads through the engine see the same bytes. */
	char *want = g_malloc(3 * 512), *got = g_malloc(3 * 512);
	for (uint64_t s = 0; s + 3 < sectors; s += 97) {
		fill_tags(want, s, 3);
		g_assert_cmpint(md_read(m, s * 512 + 100, 1000, got), ==, 1000);
		g_assert_cmpmem(got, 1000, want + 100, 1000);
	}
	g_free(want);
	g_free(got);
	g_free(buf);
	md_free(m);
}

/* Chunks past 4 GiB (md runs up to 2^30 sectors): sectors 4 GiB and more
 * into each chunk, written and looked for where the reference puts them;
 * the members are sparse. */
static void check_large_chunk(gconstpointer data)
{
	const struct geometry *g = data;
	struct mddev *m = make_array(g);
	uint64_t sectors = g->level == 10 ? g->sizes[0] : ref_size(g);
	uint64_t c = g->chunk;
	char buf[3 * 512], got[3 * 512];

	g_assert_cmpuint(m->array_sectors, ==, sectors);
	for (uint64_t base = 0; base + c <= sectors; base += c) {
		uint64_t s = base + (4ull << 21) + 5;    /* 4 GiB + 5 sectors in */
		fill_tags(buf, s, 3);
		g_assert_cmpint(md_write(m, s * 512, sizeof(buf), buf), ==, sizeof(buf));
		g_assert_cmpint(md_read(m, s * 512, sizeof(got), got), ==, sizeof(got));
		g_assert_cmpmem(got, sizeof(got), buf, sizeof(buf));
		int slot;
		uint64_t dev;
		ref_map(g, s, &slot, &dev);
		struct md_rdev *r = m->slots[slot];
		g_assert_cmpint(pread(r->fd, got, sizeof(got), (r->data_offset + dev) * 512),
				==, sizeof(got));
		g_assert_cmpmem(got, sizeof(got), buf, sizeof(buf));
	}
	md_free(m);
}

#define GiB8 (1ull << 24)             /* sectors */
static const struct geometry large[] = {
	{ MD_LEVEL_LINEAR, 0, GiB8, 2, { 2 * GiB8 + 99, 3 * GiB8 } },
	{ 0, 1, GiB8, 2, { 2 * GiB8, 2 * GiB8 + 5 } },
	{ 0, 2, GiB8, 3, { 2 * GiB8, 3 * GiB8, 2 * GiB8 } },
	{ 10, 0x102, GiB8, 2, { 2 * GiB8, 2 * GiB8 } },   /* n2 on 2: raid1's */
};

static const struct geometry geometries[] = {
	{ MD_LEVEL_LINEAR, 0, 0, 3, { 1000, 3000, 2000 } },
	{ MD_LEVEL_LINEAR, 0, 128, 2, { 1000, 3000 } },
	{ 0, 0, 128, 2, { 4096, 4096 } },
	{ 0, 0, 8, 5, { 2000, 2000, 2000, 2000, 2000 } },
	{ 0, 1, 64, 3, { 1000, 3000, 2000 } },
	{ 0, 2, 64, 3, { 1000, 3000, 2000 } },
	{ 0, 1, 16, 4, { 700, 300, 900, 300 } },
	{ 0, 2, 16, 4, { 700, 300, 900, 300 } },
	{ 0, 1, 1024, 3, { 4096, 8192, 6144 } },
	{ 1, 0, 0, 2, { 3000, 3000 } },
	{ 1, 0, 0, 3, { 2000, 2500, 3000 } },
};

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (unsigned i = 0; i < G_N_ELEMENTS(geometries); i++) {
		const struct geometry *g = &geometries[i];
		char *name = g_strdup_printf("/mapping/%s/n%d/chunk%u/layout%u/%u",
					     md_level_name(g->level), g->n, g->chunk,
					     g->layout, i);
		g_test_add_data_func(name, g, check_geometry);
		g_free(name);
	}
	for (unsigned i = 0; i < G_N_ELEMENTS(large); i++) {
		char *name = g_strdup_printf("/mapping/large-chunk/%s/layout%u/%u",
					     md_level_name(large[i].level),
					     large[i].layout, i);
		g_test_add_data_func(name, &large[i], check_large_chunk);
		g_free(name);
	}
	return g_test_run();
}
