/* raid10: md's near, far and offset layouts with any copy count, and md's
 * far sets.  The geometry (setup_geo, calc_sectors, find_phys, raid10_size,
 * _enough) follows drivers/md/raid10.c so member files are interchangeable
 * with the kernel's.  Reads pick one copy and fall back to the others on
 * error (rewriting the bad copy); writes go to every working copy in one
 * batch; check/repair/resync compare the copies of each virtual block. */
#include <errno.h>
#include <string.h>
#include "raid1-10.h"

#define MIN_CHUNK_SECTORS 8        /* md: at least PAGE_SIZE */

struct geom {
	int raid_disks;
	int near_copies;
	int far_copies;
	bool far_offset;
	int far_set_size;
	unsigned chunk_shift;
	uint64_t chunk_mask;
	uint64_t stride;          /* sectors between far copies on a member */
};

struct r10conf {
	struct geom geo;
	int copies;
	uint64_t dev_sectors;     /* sectors used on each member */
	/* Sync windows hold off all normal IO: a window of member sectors
	 * touches scattered virtual sectors, so the barrier has one bucket
	 * (IO names it as sector 0, one sector). */
	struct mirror_barrier barrier;
	/* Virtual sectors the running sync_request visited, and of those
	 * the ones the bitmap let it skip (the sync thread's own). */
	uint64_t sync_seen, sync_skipped;
};

/* One copy of a virtual sector: md's r10bio->devs[]. */
struct r10dev {
	int devnum;
	uint64_t addr;
};

/* A request piece that stays within one chunk, with where its copies are. */
struct r10piece {
	uint64_t off;             /* array bytes */
	size_t len;
	char *buf;
	struct r10dev *devs;      /* conf->copies entries */
	int chosen;               /* read: the copy read */
	bool written;             /* write: an in-sync copy took it */
};

/* ---- geometry ---- */

/* md's setup_geo: copies, or -1 for a bad layout, -2 for a bad chunk. */
static int setup_geo(struct geom *geo, uint32_t layout, uint32_t chunk,
		     int disks)
{
	if (layout >> 19)
		return -1;
	if (chunk < MIN_CHUNK_SECTORS || (chunk & (chunk - 1)))
		return -2;
	geo->raid_disks = disks;
	geo->near_copies = layout & 255;
	geo->far_copies = (layout >> 8) & 255;
	geo->far_offset = layout & (1 << 16);
	if (!geo->near_copies || !geo->far_copies)
		return -1;
	switch (layout >> 17) {
	case 0:   /* original: far copies shift over the whole array */
		geo->far_set_size = disks;
		break;
	case 1:   /* md's first far-sets layout, kept for compatibility */
		geo->far_set_size = disks / geo->far_copies;
		break;
	case 2:   /* far sets as documented */
		geo->far_set_size = geo->far_copies * geo->near_copies;
		break;
	default:
		return -1;
	}
	if (geo->far_set_size < 1)
		return -1;
	geo->chunk_mask = chunk - 1;
	geo->chunk_shift = __builtin_ctz(chunk);
	return geo->near_copies * geo->far_copies;
}

/* As mdadm: every copy needs its own member, and one copy is no raid10. */
static int raid10_check_geometry(int raid_disks, uint32_t layout, char *err,
				 size_t errlen)
{
	struct geom geo;
	int copies = setup_geo(&geo, layout, MIN_CHUNK_SECTORS, raid_disks);

	if (copies < 0)
		snprintf(err, errlen, "not a raid10 layout");
	else if (copies > raid_disks)
		snprintf(err, errlen, "that layout requires at least %d devices",
			 copies);
	else if (copies < 2)
		snprintf(err, errlen, "keeps one copy: raid10 needs at least 2");
	else
		return 0;
	return -EINVAL;
}

/* Array chunks that dev_sectors per member hold (md's raid10_size). */
static uint64_t array_chunks(const struct geom *geo, uint64_t dev_sectors)
{
	uint64_t size = (dev_sectors >> geo->chunk_shift) / geo->far_copies;

	return size * geo->raid_disks / geo->near_copies;
}

/* md's calc_sectors: the member sectors actually used, and the stride. */
static void calc_sectors(struct r10conf *conf, uint64_t size)
{
	struct geom *geo = &conf->geo;
	uint64_t used = array_chunks(geo, size) * conf->copies;

	used = (used + geo->raid_disks - 1) / geo->raid_disks;
	conf->dev_sectors = used << geo->chunk_shift;
	if (geo->far_offset)
		geo->stride = 1ull << geo->chunk_shift;
	else
		geo->stride = (used / geo->far_copies) << geo->chunk_shift;
}

/* The member holding the next far copy: md shifts by near_copies within a
 * far set, the last set taking the remainder of the members.  The "set"
 * and the "> last start" test are md's exactly, quirks included. */
static int far_next(const struct geom *geo, int d)
{
	int fss = geo->far_set_size;
	int rem = geo->raid_disks % fss;
	int last_start = (geo->raid_disks / fss - 1) * fss;
	int set = d / fss;

	d += geo->near_copies;
	if (rem && d > last_start)
		return (d - last_start) % (fss + rem) + last_start;
	return d % fss + fss * set;
}

/* md's __raid10_find_phys: every copy of a virtual sector, near copies
 * first, each followed by its far copies. */
static void find_phys(const struct geom *geo, uint64_t sector,
		      struct r10dev *devs)
{
	uint64_t chunk = (sector >> geo->chunk_shift) * geo->near_copies;
	uint64_t stripe = chunk / geo->raid_disks;
	int dev = chunk % geo->raid_disks;
	int slot = 0;

	if (geo->far_offset)
		stripe *= geo->far_copies;
	sector = (stripe << geo->chunk_shift) + (sector & geo->chunk_mask);
	for (int n = 0; n < geo->near_copies; n++) {
		int d = dev;
		uint64_t s = sector;
		devs[slot++] = (struct r10dev){ d, s };
		for (int f = 1; f < geo->far_copies; f++) {
			d = far_next(geo, d);
			s += geo->stride;
			devs[slot++] = (struct r10dev){ d, s };
		}
		if (++dev >= geo->raid_disks) {
			dev = 0;
			sector += geo->chunk_mask + 1;
		}
	}
}

/* ---- members ---- */

/* md's _enough: every run of `copies` members starting at each multiple of
 * near_copies must keep one working.  It reads the layout from the
 * superblock because assembly asks before the array runs. */
static bool raid10_enough(struct mddev *mddev, int ignore)
{
	struct geom geo;
	int disks = mddev->raid_disks, first = 0;
	int copies = setup_geo(&geo, mddev->sb.layout, MIN_CHUNK_SECTORS, disks);
	int nc = geo.near_copies;

	if (copies < 1 || copies > disks)
		return true;    /* a bad layout: let run() say what is wrong */
	do {
		int cnt = 0;
		for (int k = 0, d = first; k < copies; k++, d = (d + 1) % disks)
			cnt += d != ignore && rdev_in_sync(mddev->slots[d]);
		if (!cnt)
			return false;
		first = (first + nc) % disks;
	} while (first != 0);
	return true;
}

/* A copy may be read when its member is in sync, or recovered past it. */
static bool copy_readable(struct mddev *mddev, const struct r10dev *dev,
			  uint64_t sectors)
{
	return rdev_readable(mddev->slots[dev->devnum], dev->addr, sectors);
}

static uint64_t piece_sectors(const struct r10piece *p)
{
	return ((p->off & 511) + p->len + 511) >> SECTOR_SHIFT;
}

static uint64_t piece_dev_off(const struct r10piece *p, int copy)
{
	return (p->devs[copy].addr << SECTOR_SHIFT) + (p->off & 511);
}

/* Split a request at chunk boundaries; each piece gets its copies. */
static unsigned split_pieces(struct r10conf *conf, uint64_t off, size_t len,
			     void *buf, struct r10piece **out)
{
	uint64_t chunk_bytes = (conf->geo.chunk_mask + 1) << SECTOR_SHIFT;
	unsigned max = len / chunk_bytes + 2, n = 0;
	struct r10piece *p = g_new(struct r10piece, max);
	struct r10dev *devs = g_new(struct r10dev, (size_t)max * conf->copies);

	while (len) {
		size_t k = MIN(len, chunk_bytes - off % chunk_bytes);
		p[n] = (struct r10piece){ .off = off, .len = k, .buf = buf,
					  .devs = devs + (size_t)n * conf->copies };
		find_phys(&conf->geo, off >> SECTOR_SHIFT, p[n].devs);
		n++;
		off += k;
		len -= k;
		buf = (char *)buf + k;
	}
	*out = p;
	return n;
}

static void free_pieces(struct r10piece *p)
{
	if (p)
		g_free(p[0].devs);
	g_free(p);
}

/* ---- read ---- */

/* md's read_balance, simplified: outside the synced region only the first
 * copy is the truth; far layouts read the lowest address (the first copy);
 * near layouts spread 1 MiB runs over the copies. */
static int pick_copy(struct mddev *mddev, struct r10conf *conf,
		     const struct r10piece *p, struct mio *copies)
{
	bool spread = conf->geo.far_copies == 1 &&
		      p->devs[0].addr + piece_sectors(p) <= md_synced_upto(mddev);

	for (int c = 0; c < conf->copies; c++)
		copies[c] = (struct mio){ .rdev = mddev->slots[p->devs[c].devnum],
					  .off = piece_dev_off(p, c),
					  .buf = p->buf, .len = p->len };
	return mirror_read_balance(copies, conf->copies, p->off, spread);
}

static int raid10_read(struct mddev *mddev, uint64_t off, size_t len, void *buf)
{
	struct r10conf *conf = mddev->private;
	int nc = conf->copies, r = 0;
	struct r10piece *p;
	unsigned n = split_pieces(conf, off, len, buf, &p), nfailed = 0;
	struct mio *copies = g_new(struct mio, (size_t)n * (nc + 1));
	struct mio *v = copies + (size_t)n * nc;    /* the reads chosen */

	wait_barrier(&conf->barrier, 0, 1);
	for (unsigned i = 0; i < n && r == 0; i++) {
		int c = p[i].chosen = pick_copy(mddev, conf, &p[i], copies + i * nc);
		if (c < 0)
			r = -EIO;
		else
			v[i] = copies[i * nc + c];
	}
	bool uncovered = r < 0;    /* a piece no copy can serve whole */
	if (r == 0 && mio_run(v, n) < 0) {
		/* Gather the copies of the failed pieces for the fix. */
		for (unsigned i = 0; i < n; i++) {
			if (v[i].res == 0)
				continue;
			copies[i * nc + p[i].chosen].res = v[i].res;
			memmove(copies + nfailed++ * nc, copies + i * nc,
				nc * sizeof(*copies));
		}
	}
	allow_barrier(&conf->barrier, 0, 1);
	if (nfailed)
		r = mirror_read_errors(mddev, &conf->barrier, 0, 1, copies, nc,
				       nfailed);
	g_free(copies);
	free_pieces(p);
	if (uncovered)
		return mirror_read_split(mddev, off, len, buf, raid10_read);
	return r;
}

/* ---- write and discard ---- */

static int raid10_write(struct mddev *mddev, uint64_t off, size_t len,
			const void *buf)
{
	struct r10conf *conf = mddev->private;
	struct r10piece *p;
	int r = 0;

	wait_barrier(&conf->barrier, 0, 1);
	unsigned n = split_pieces(conf, off, len, (void *)buf, &p);
	struct mio *v = g_new(struct mio, (size_t)n * conf->copies);
	unsigned *owner = g_new(unsigned, (size_t)n * conf->copies);
	unsigned nv = 0;
	for (unsigned i = 0; i < n; i++) {
		for (int c = 0; c < conf->copies; c++) {
			struct md_rdev *rdev = mddev->slots[p[i].devs[c].devnum];
			if (!rdev_usable(rdev))
				continue;
			owner[nv] = i;
			v[nv++] = (struct mio){ .rdev = rdev, .write = true,
						.off = piece_dev_off(&p[i], c),
						.buf = p[i].buf, .len = p[i].len };
		}
	}
	md_write_batch(mddev, v, nv, 0);
	/* A piece is written when its in-sync copies hold all of it; its
	 * copies are neighbours in v. */
	for (unsigned j = 0, k; j < nv; j = k) {
		for (k = j; k < nv && owner[k] == owner[j]; k++)
			;
		p[owner[j]].written = md_copies_written(v + j, k - j);
	}
	for (unsigned i = 0; i < n; i++)
		if (!p[i].written)
			r = -EIO;
	allow_barrier(&conf->barrier, 0, 1);
	g_free(owner);
	g_free(v);
	free_pieces(p);
	return r;
}

static int raid10_discard(struct mddev *mddev, uint64_t off, uint64_t len)
{
	struct r10conf *conf = mddev->private;
	uint64_t chunk_bytes = (conf->geo.chunk_mask + 1) << SECTOR_SHIFT;
	struct r10dev devs[conf->copies];
	int r = 0;

	wait_barrier(&conf->barrier, 0, 1);
	while (len && r == 0) {
		uint64_t k = MIN(len, chunk_bytes - off % chunk_bytes);
		find_phys(&conf->geo, off >> SECTOR_SHIFT, devs);
		for (int c = 0; c < conf->copies && r == 0; c++)
			r = rdev_discard(mddev->slots[devs[c].devnum],
					 (devs[c].addr << SECTOR_SHIFT) + (off & 511), k);
		off += k;
		len -= k;
	}
	allow_barrier(&conf->barrier, 0, 1);
	return r;
}

/* ---- resync, check, repair ---- */

/* What a sync block does to one copy after the reads. */
static bool sync_wants_write(struct mddev *mddev, enum sync_action action,
			     bool readable, const struct mio *m,
			     const char *truth)
{
	/* A recovering member is brought up to date; md leaves an in-sync
	 * one's bad blocks alone. */
	if (!readable)
		return action != ACTION_CHECK && !rdev_in_sync(m->rdev);
	if (action == ACTION_RECOVER)
		return false;    /* recovery writes only what members lack */
	if (m->res < 0) {        /* unreadable: md rewrites it, even on check */
		atomic_fetch_add(&m->rdev->read_errors, 1);
		return true;
	}
	uint64_t bad = mirror_compare_blocks(truth, m->buf, m->len);
	if (!bad)
		return false;
	if (action == ACTION_CHECK || action == ACTION_REPAIR)
		atomic_fetch_add(&mddev->resync_mismatches, bad);
	return action != ACTION_CHECK;
}

/* Read every readable copy of a block in one batch; returns the first
 * copy read successfully (md's authoritative one) or -1. */
static int sync_read_copies(struct mddev *mddev, int copies,
			    const struct r10dev *devs, uint64_t sectors,
			    char *bufs, struct mio *rd, bool *readable)
{
	size_t len = sectors << SECTOR_SHIFT;
	struct mio batch[copies];
	unsigned nr = 0;

	for (int i = 0; i < copies; i++) {
		readable[i] = copy_readable(mddev, &devs[i], sectors);
		rd[i] = (struct mio){ .rdev = mddev->slots[devs[i].devnum],
				      .off = devs[i].addr << SECTOR_SHIFT,
				      .buf = bufs + (size_t)i * len, .len = len };
		if (readable[i])
			batch[nr++] = rd[i];
	}
	mio_run(batch, nr);
	int truth = -1;
	for (int i = 0, j = 0; i < copies; i++) {
		if (!readable[i])
			continue;
		rd[i].res = batch[j++].res;
		if (truth < 0 && rd[i].res == 0)
			truth = i;
	}
	return truth;
}

/* No copy of the block could be read: none in sync, or all in sync have
 * it recorded bad.  md's raid10_sync_request skips it then, and recovery
 * records it bad on the copies it rebuilds. */
static int no_source(struct mddev *mddev, enum sync_action action,
		     const struct mio *rd, int copies)
{
	struct mio targets[copies];
	unsigned nt = 0;
	bool in_sync = false;

	for (int i = 0; i < copies; i++) {
		in_sync |= rdev_in_sync(rd[i].rdev);
		if (action == ACTION_RECOVER && rdev_usable(rd[i].rdev) &&
		    !rdev_in_sync(rd[i].rdev))
			targets[nt++] = rd[i];
	}
	if (!in_sync)
		return -EIO;
	return md_record_no_source(mddev, targets, nt) ? 0 : -EIO;
}

/* md's raid10 sync of one r10bio: read every copy, the first readable one
 * is the truth, and a differing copy counts the whole block as mismatched.
 * -EIO when no copy could be read. */
static int sync_one(struct mddev *mddev, struct r10conf *conf,
		    uint64_t sector, uint64_t sectors, enum sync_action action)
{
	int copies = conf->copies, usable = 0;
	struct r10dev devs[copies];
	struct mio rd[copies], wr[copies];
	bool readable[copies], fixing[copies];
	unsigned nw = 0;

	find_phys(&conf->geo, sector, devs);
	for (int i = 0; i < copies; i++)
		usable += rdev_usable(mddev->slots[devs[i].devnum]);
	if (usable < 2)
		return 0;        /* md: only one live copy, nothing to sync */
	char *bufs = g_malloc((size_t)copies * (sectors << SECTOR_SHIFT));
	int truth = sync_read_copies(mddev, copies, devs, sectors, bufs, rd,
				     readable);
	for (int i = 0; truth >= 0 && i < copies; i++) {
		if (i == truth || !rdev_usable(rd[i].rdev) ||
		    !sync_wants_write(mddev, action, readable[i], &rd[i],
				      rd[truth].buf))
			continue;
		fixing[nw] = readable[i] && rd[i].res < 0;  /* a read error */
		wr[nw++] = (struct mio){ .rdev = rd[i].rdev, .write = true,
					 .off = rd[i].off, .buf = rd[truth].buf,
					 .len = rd[i].len };
	}
	md_write_batch(mddev, wr, nw, 0);
	for (unsigned i = 0; i < nw; i++)
		if (wr[i].res == 0 && fixing[i])
			atomic_fetch_add(&wr[i].rdev->corrected_errors, sectors);
	g_free(bufs);
	if (truth < 0 && !memchr(readable, true, sizeof(readable)))
		return no_source(mddev, action, rd, copies);
	return truth < 0 ? -EIO : 0;
}

/* A block in r10bios that end, as md's, where a copy's bad blocks begin or
 * end: each copy is all good or all bad over one. */
static int sync_block(struct mddev *mddev, struct r10conf *conf,
		      uint64_t sector, uint64_t sectors, enum sync_action action)
{
	struct r10dev devs[conf->copies];
	int r = 0;

	/* The sync walks member rows, the bitmap covers the array: asked
	 * here, per virtual block, as md's raid10_sync_request asks it. */
	conf->sync_seen += sectors;
	if (md_bitmap_skips(mddev, sector, sectors) ||
	    md_bitmap_sync_skips(mddev, sector, sectors)) {
		conf->sync_skipped += sectors;
		return 0;
	}
	while (sectors) {
		uint64_t k = sectors;
		find_phys(&conf->geo, sector, devs);
		for (int i = 0; i < conf->copies; i++)
			k = rdev_badblock_run(mddev->slots[devs[i].devnum],
					      devs[i].addr, k);
		int r1 = sync_one(mddev, conf, sector, k, action);
		r = r < 0 ? r : r1;
		sector += k;
		sectors -= k;
	}
	return r;
}

/* Sync a virtual range in md's blocks: at most RESYNC_BLOCK_SECTORS and,
 * where chunks matter (near_copies < raid_disks), never across a chunk. */
static void sync_virtual(struct mddev *mddev, struct r10conf *conf,
			 uint64_t from, uint64_t to, enum sync_action action)
{
	uint64_t block = RESYNC_BLOCK_SECTORS;

	if (conf->geo.near_copies < conf->geo.raid_disks)
		block = MIN(block, conf->geo.chunk_mask + 1);
	while (from < to) {
		uint64_t end = MIN(to, (from | (block - 1)) + 1);
		sync_block(mddev, conf, from, end - from, action);
		from = end;
	}
}

static uint64_t div_up(uint64_t a, uint64_t b)
{
	return (a + b - 1) / b;
}

/* The sync thread walks member sectors.  Each virtual sector is synced
 * once, in the window that holds its first copy: member chunk row k holds
 * the first copies of virtual chunks c with floor(c * nc / disks) == k
 * (offset layouts: only rows that are multiples of far_copies). */
static void sync_rows(struct mddev *mddev, struct r10conf *conf,
		      uint64_t from, uint64_t to, enum sync_action action)
{
	const struct geom *geo = &conf->geo;
	uint64_t nchunks = mddev->array_sectors >> geo->chunk_shift;
	unsigned shift = geo->chunk_shift;

	for (uint64_t k = from >> shift; (k << shift) < to; k++) {
		if (geo->far_offset && k % geo->far_copies)
			continue;
		uint64_t row = geo->far_offset ? k / geo->far_copies : k;
		uint64_t lo = MAX(from, k << shift) - (k << shift);
		uint64_t hi = MIN(to, (k + 1) << shift) - (k << shift);
		uint64_t c0 = div_up(row * geo->raid_disks, geo->near_copies);
		uint64_t c1 = MIN(div_up((row + 1) * geo->raid_disks,
					 geo->near_copies), nchunks);
		for (uint64_t c = c0; c < c1; c++)
			sync_virtual(mddev, conf, (c << shift) + lo,
				     (c << shift) + hi, action);
	}
}

/* Does a chunk of the given stripe put a copy on member dev at sector?
 * find_phys decides, so the answer is exact whatever the layout. */
static bool virt_in_stripe(const struct r10conf *conf, uint64_t nchunks,
			   uint64_t stripe, int dev, uint64_t sector,
			   uint64_t *virt)
{
	const struct geom *geo = &conf->geo;
	int disks = geo->raid_disks, nc = geo->near_copies;
	uint64_t hi = MIN(((stripe + 1) * disks + nc - 1) / nc, nchunks);
	struct r10dev devs[conf->copies];

	for (uint64_t c = stripe * disks / nc; c < hi; c++) {
		uint64_t v = (c << geo->chunk_shift) + (sector & geo->chunk_mask);
		find_phys(geo, v, devs);
		for (int i = 0; i < conf->copies; i++) {
			if (devs[i].devnum == dev && devs[i].addr == sector) {
				*virt = v;
				return true;
			}
		}
	}
	return false;
}

/* md's raid10_find_virt: the virtual sector whose copy member dev holds at
 * sector, false where the member holds no data.  Far copy f lies f strides
 * on; the first near copy lies on its row or, wrapped, the row below. */
static bool find_virt(struct mddev *mddev, const struct r10conf *conf,
		      int dev, uint64_t sector, uint64_t *virt)
{
	const struct geom *geo = &conf->geo;
	uint64_t nchunks = mddev->array_sectors >> geo->chunk_shift;

	for (int f = 0; f < geo->far_copies && f * geo->stride <= sector; f++) {
		uint64_t row = (sector - f * geo->stride) >> geo->chunk_shift;
		for (uint64_t k = 0; k < 2 && k <= row; k++) {
			uint64_t r = row - k;
			uint64_t stripe = geo->far_offset ? r / geo->far_copies : r;
			if (virt_in_stripe(conf, nchunks, stripe, dev, sector, virt))
				return true;
		}
	}
	return false;
}

/* md's raid10 recovery: walk each recovering member's own sectors, and
 * rebuild each block there from a readable copy of what it holds. */
static int recover_rows(struct mddev *mddev, struct r10conf *conf,
			uint64_t from, uint64_t to)
{
	uint64_t block = MIN(RESYNC_BLOCK_SECTORS, conf->geo.chunk_mask + 1);
	uint64_t virt;

	for (int d = 0; d < conf->geo.raid_disks; d++) {
		struct md_rdev *rdev = mddev->slots[d];
		if (!rdev_usable(rdev) || rdev_in_sync(rdev))
			continue;
		for (uint64_t s = from, end; s < to; s = end) {
			end = MIN(to, (s | (block - 1)) + 1);
			if (rdev_readable(rdev, s, end - s) ||
			    !find_virt(mddev, conf, d, s, &virt))
				continue;
			int r = sync_block(mddev, conf, virt, end - s,
					   ACTION_RECOVER);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int64_t raid10_sync_request(struct mddev *mddev, uint64_t sector,
				   uint64_t max_sectors, enum sync_action action)
{
	struct r10conf *conf = mddev->private;
	uint64_t end = sector + max_sectors;
	int r = 0;

	conf->sync_seen = conf->sync_skipped = 0;
	raise_barrier(&conf->barrier, 0, 1);
	if (action == ACTION_RECOVER)
		r = recover_rows(mddev, conf, sector, MIN(end, conf->dev_sectors));
	else if (conf->geo.near_copies == conf->geo.raid_disks)
		/* Every member is a full mirror: member and array sectors
		 * coincide, and md's blocks ignore the chunk. */
		sync_virtual(mddev, conf, sector, MIN(end, mddev->array_sectors),
			     action);
	else
		sync_rows(mddev, conf, sector, end, action);
	lower_barrier(&conf->barrier, 0, 1);
	/* the window's share done without IO, for the speed (md's *skipped,
	 * which raid10 says per block): what the bitmap skipped, or all of
	 * a window holding no sector to sync (far copies' rows) */
	mddev->sync_skipped = conf->sync_seen
		? max_sectors * conf->sync_skipped / conf->sync_seen : max_sectors;
	return r < 0 ? r : (int64_t)max_sectors;
}

/* A resync that reached member sector s finished every row before it,
 * so every virtual chunk whose first copy lies there (sync_rows).  A
 * recovery walks each member's sectors, which hold copies of virtual
 * sectors out of order: nothing is known before it ends. */
static uint64_t raid10_bitmap_synced_below(struct mddev *mddev, uint64_t s,
					   enum sync_action action)
{
	struct r10conf *conf = mddev->private;
	const struct geom *geo = &conf->geo;
	uint64_t nchunks = mddev->array_sectors >> geo->chunk_shift;

	if (action == ACTION_RECOVER)
		return 0;
	if (geo->near_copies == geo->raid_disks)
		return s;
	uint64_t k = s >> geo->chunk_shift;
	uint64_t row = geo->far_offset ? k / geo->far_copies : k;
	return MIN(div_up(row * geo->raid_disks, geo->near_copies), nchunks)
	       << geo->chunk_shift;
}

static bool raid10_member_bitmap_skips(struct mddev *mddev, int slot,
				       uint64_t sector, uint64_t sectors)
{
	struct r10conf *conf = mddev->private;
	uint64_t virt;

	for (uint64_t s = sector, n; s < sector + sectors; s += n) {
		n = MIN(sector + sectors, (s | conf->geo.chunk_mask) + 1) - s;
		if (find_virt(mddev, conf, slot, s, &virt) &&
		    !md_bitmap_skips(mddev, virt, n))
			return false;
	}
	return true;
}

/* Member and array sectors differ: the whole array is held, as the
 * sync windows hold it. */
static int64_t raid10_hold_window(struct mddev *mddev, uint64_t sector,
				  uint64_t max_sectors,
				  int64_t (*fn)(struct mddev *mddev,
						uint64_t sector, uint64_t sectors))
{
	struct r10conf *conf = mddev->private;

	raise_barrier(&conf->barrier, 0, 1);
	int64_t r = fn(mddev, sector, max_sectors);
	lower_barrier(&conf->barrier, 0, 1);
	return r;
}

/* ---- run, hints, status ---- */

static int check_members(struct mddev *mddev, struct r10conf *conf,
			 char *err, size_t errlen)
{
	for (int i = 0; i < mddev->raid_disks; i++) {
		struct md_rdev *rdev = mddev->slots[i];
		if (rdev_usable(rdev) && rdev->sectors < conf->dev_sectors) {
			snprintf(err, errlen, "%s: member %s has %" PRIu64
				 " data sectors, raid10 needs %" PRIu64,
				 mddev->name, rdev->name, rdev->sectors,
				 conf->dev_sectors);
			return -EINVAL;
		}
	}
	if (!raid10_enough(mddev, -1)) {
		snprintf(err, errlen, "%s: not enough operational mirrors: a "
			 "whole mirror set is missing", mddev->name);
		return -EINVAL;
	}
	return 0;
}

/* md records raid10 resync progress in array sectors; the sync thread here
 * walks member sectors.  Resume at the member row holding the first copy
 * of the recorded sector: rows before it hold only first copies of earlier
 * sectors, so nothing md left unsynced is skipped.  A member-sector
 * checkpoint of our own only moves back (first copies never lie past their
 * array sector), and md reading ours as an array sector resyncs more, not
 * less. */
static void resync_start_row(struct mddev *mddev, struct r10conf *conf)
{
	uint64_t at = mddev->resync_offset;
	struct r10dev devs[conf->copies];

	if (at == MD_MAX_SECTOR || at >= mddev->array_sectors)
		return;
	find_phys(&conf->geo, at, devs);
	mddev->resync_offset = devs[0].addr & ~conf->geo.chunk_mask;
}

static int raid10_run(struct mddev *mddev, char *err, size_t errlen)
{
	struct geom geo;
	int copies = setup_geo(&geo, mddev->layout, mddev->chunk_sectors,
			       mddev->raid_disks);

	if (copies == -2) {
		snprintf(err, errlen, "%s: raid10 chunk size must be a power of "
			 "2 of at least 4K", mddev->name);
		return -EINVAL;
	}
	if (copies < 2 || copies > mddev->raid_disks) {
		snprintf(err, errlen, "%s: unsupported raid10 layout 0x%x for %d "
			 "members", mddev->name, mddev->layout, mddev->raid_disks);
		return -EINVAL;
	}
	struct r10conf *conf = g_new0(struct r10conf, 1);
	conf->geo = geo;
	conf->copies = copies;
	calc_sectors(conf, mddev->dev_sectors);
	int r = -EINVAL;
	if (!conf->dev_sectors)
		snprintf(err, errlen, "%s: members too small for one raid10 "
			 "stripe", mddev->name);
	else
		r = check_members(mddev, conf, err, errlen);
	if (r < 0) {
		g_free(conf);
		return r;
	}
	mirror_barrier_init(&conf->barrier, 0, 63);
	mddev->private = conf;
	mddev->dev_sectors = conf->dev_sectors;     /* as md's raid10_run */
	mddev->array_sectors = array_chunks(&geo, conf->dev_sectors)
			       << geo.chunk_shift;
	resync_start_row(mddev, conf);
	return 0;
}

static void raid10_free(struct mddev *mddev)
{
	struct r10conf *conf = mddev->private;

	if (conf)
		mirror_barrier_free(&conf->barrier);
	g_free(conf);
	mddev->private = NULL;
}

/* md: io_min a chunk, io_opt a chunk per member carrying distinct data
 * (all members when near copies do not divide them). */
static void raid10_io_hints(struct mddev *mddev, unsigned *io_min,
			    unsigned *io_opt)
{
	struct r10conf *conf = mddev->private;
	int disks = conf->geo.raid_disks;

	if (disks % conf->geo.near_copies == 0)
		disks /= conf->geo.near_copies;
	*io_min = mddev->chunk_sectors << SECTOR_SHIFT;
	*io_opt = *io_min * disks;
}

static void raid10_status(struct mddev *mddev, GString *out)
{
	struct r10conf *conf = mddev->private;
	const struct geom *geo = &conf->geo;

	if (geo->near_copies < geo->raid_disks)
		g_string_append_printf(out, " %uK chunks", mddev->chunk_sectors / 2);
	if (geo->near_copies > 1)
		g_string_append_printf(out, " %d near-copies", geo->near_copies);
	if (geo->far_copies > 1) {
		g_string_append_printf(out, " %d %s-copies", geo->far_copies,
				       geo->far_offset ? "offset" : "far");
		if (geo->far_set_size != geo->raid_disks)
			g_string_append_printf(out, " %d devices per set",
					       geo->far_set_size);
	}
	g_string_append_printf(out, " [%d/%d] ", geo->raid_disks,
			       md_in_sync_count(mddev));
	md_status_slots(mddev, out);
}

/* The picture's rows: from the start, and with far copies (not offset)
 * half of them from where the first far copies begin. */
static int picture_rows(const struct r10conf *conf, int rows, uint64_t *row_of)
{
	const struct geom *geo = &conf->geo;
	int bands = geo->far_copies > 1 && !geo->far_offset ? 2 : 1;
	uint64_t member_rows = conf->dev_sectors >> geo->chunk_shift;
	uint64_t stride = geo->stride >> geo->chunk_shift;
	int per = MIN((uint64_t)rows / bands, member_rows / bands);

	for (int i = 0; i < per * bands; i++)
		row_of[i] = (i / per) * stride + i % per;
	return per * bands;
}

/* Every copy of the chunks near the start lands in a picture row (a far
 * copy in the second band), wherever the layout puts it. */
static int raid10_layout_rows(const struct md_geometry *g, int rows,
			      uint64_t *row_of, int64_t *cells)
{
	struct r10conf *conf = g_new0(struct r10conf, 1);
	int copies = setup_geo(&conf->geo, g->layout, g->chunk_sectors,
			       g->raid_disks);
	int n = 0;

	if (copies > 0) {
		conf->copies = copies;
		calc_sectors(conf, g->dev_sectors);
		n = picture_rows(conf, rows, row_of);
	}
	struct r10dev *devs = g_new(struct r10dev, MAX(copies, 1));
	uint64_t chunks = n ? array_chunks(&conf->geo, g->dev_sectors) : 0;
	for (uint64_t c = 0; n && c < MIN(chunks, (uint64_t)(n + 2) * g->raid_disks); c++) {
		find_phys(&conf->geo, c << conf->geo.chunk_shift, devs);
		for (int k = 0; k < copies; k++)
			for (int i = 0; i < n; i++)
				if (row_of[i] == devs[k].addr >> conf->geo.chunk_shift)
					cells[i * g->raid_disks + devs[k].devnum] = c;
	}
	g_free(devs);
	g_free(conf);
	return n;
}

const struct md_personality raid10_personality = {
	.name = "raid10",
	.level = 10,
	.min_disks = 2,
	.uses_chunk = true,
	.keeps_last_copy = true,
	.enough = raid10_enough,
	.check_geometry = raid10_check_geometry,
	.run = raid10_run,
	.free = raid10_free,
	.read = raid10_read,
	.write = raid10_write,
	.sync_request = raid10_sync_request,
	.hold_window = raid10_hold_window,
	.bitmap_synced_below = raid10_bitmap_synced_below,
	.member_bitmap_skips = raid10_member_bitmap_skips,
	.discard = raid10_discard,
	.io_hints = raid10_io_hints,
	.layout_rows = raid10_layout_rows,
	.status = raid10_status,
};
