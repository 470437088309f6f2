#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <unistd.h>
#include "testlib.h"

static struct md_rdev *tmp_member(struct mddev *m, int slot, uint64_t sectors)
{
	struct md_rdev *r = g_new0(struct md_rdev, 1);

	r->fd = open("/tmp", O_TMPFILE | O_RDWR, 0600);
	g_assert_cmpint(r->fd, >=, 0);
	r->data_offset = 8 * (slot + 3);
	r->sectors = sectors;
	g_assert_cmpint(ftruncate(r->fd, (r->data_offset + r->sectors) << 9), ==, 0);
	r->raid_disk = slot;
	r->desc_nr = slot;
	/* Where a v1.2 superblock goes, so that superblock writes work. */
	r->sb.super_offset = 8;
	r->sb.data_offset = r->data_offset;
	r->sb.data_size = sectors;
	r->name = g_strdup_printf("m%d", slot);
	r->mddev = m;
	atomic_store(&r->flags, RDEV_IN_SYNC);
	return r;
}

struct mddev *test_array(int level, uint32_t layout, uint32_t chunk_sectors,
			 int n, const uint64_t *sectors)
{
	struct mddev *m = g_new0(struct mddev, 1);
	uint64_t smallest = UINT64_MAX;
	char err[256];

	m->name = g_strdup("t");
	m->rdevs = g_ptr_array_new();
	m->slots = g_new0(struct md_rdev *, n);
	for (int i = 0; i < n; i++) {
		m->slots[i] = tmp_member(m, i, sectors[i]);
		g_ptr_array_add(m->rdevs, m->slots[i]);
		smallest = MIN(smallest, sectors[i]);
	}
	m->sb.major = 1;
	m->sb.minor = 2;
	m->sb.level = level;
	m->sb.layout = layout;
	m->sb.chunk_sectors = chunk_sectors;
	m->sb.raid_disks = n;
	m->sb.size = smallest;
	m->sb.resync_offset = MD_MAX_SECTOR;
	if (level == 0 && layout)
		m->sb.feature_map = MD_FEATURE_RAID0_LAYOUT;
	if (md_run(m, err, sizeof(err)) < 0)
		g_error("md_run: %s", err);
	m->in_sync = false;       /* no superblock writes in unit tests */
	return m;
}

void member_read(struct mddev *m, int i, uint64_t sector, void *buf, size_t len)
{
	struct md_rdev *r = g_ptr_array_index(m->rdevs, i);

	g_assert_cmpint(pread(r->fd, buf, len, (r->data_offset + sector) * 512), ==,
			(ssize_t)len);
}

void member_write(struct mddev *m, int i, uint64_t sector, const void *buf,
		  size_t len)
{
	struct md_rdev *r = g_ptr_array_index(m->rdevs, i);

	g_assert_cmpint(pwrite(r->fd, buf, len, (r->data_offset + sector) * 512), ==,
			(ssize_t)len);
}

uint64_t run_sync(struct mddev *m, enum sync_action action)
{
	atomic_store(&m->resync_mismatches, 0);
	for (uint64_t s = 0; s < m->dev_sectors; s += 2048) {
		uint64_t n = MIN(2048, m->dev_sectors - s);
		md_raise_barrier(m, s);
		g_assert_cmpint(m->pers->sync_request(m, s, n, action), ==, (int64_t)n);
		md_lower_barrier(m, s);
	}
	return atomic_load(&m->resync_mismatches);
}
