/* llbitmap: md's lockless write-intent bitmap (md-llbitmap.c), bitmap
 * version 6.
 *
 * On disk, at the bitmap area of every member (super_offset +
 * bitmap_offset): bitmap_super_t in the first 1 KiB, then one byte per
 * chunk holding its state; 128 KiB reserved.  In memory the whole area is
 * kept and is the authority; a member gets the blocks (the array's logical
 * block size) that changed, before the data they cover.
 *
 * The state machine below is md's, cell for cell, with its two cases for
 * writes (raid456's lazy parity, degraded arrays).  The write path takes no
 * lock once a chunk is Dirty: it holds a per-page barrier (a counter, md's
 * percpu ref) with an expiry time, and the daemon clears only pages idle
 * past their expiry, suspending each against writes while it does. */
#include <errno.h>
#include <sched.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "ctl.h"
#include "raid.h"
#include "llbitmap.h"
#include "bitmap_sb.h"

#define DEFAULT_DAEMON_SLEEP 30     /* seconds */
#define DEFAULT_BARRIER_IDLE 5      /* seconds */
#define MAX_DAEMON_SLEEP (1u << 20) /* seconds: what we accept from a file */
#define PAGE_DIRTY 1u               /* md's LLPageDirty */
#define PAGE_FLUSH 2u               /* md's LLPageFlush */

#define X BitNone
static const uint8_t state_machine[BitStateCount][BitmapActionCount] = {
	/*               Startwrite Startsync   Endsync   Abortsync
	 *               Reload     Daemon      Discard       Stale */
	[BitUnwritten] = { BitDirty, X,          X,        X,
			   X,        X,          X,            X },
	[BitClean]     = { BitDirty, X,          X,        X,
			   X,        X,          BitUnwritten, BitNeedSync },
	[BitDirty]     = { X,        X,          X,        X,
			   BitNeedSync, BitClean, BitUnwritten, BitNeedSync },
	[BitNeedSync]  = { X,        BitSyncing, X,        X,
			   X,        X,          BitUnwritten, X },
	[BitSyncing]   = { X,        BitSyncing, BitDirty, BitNeedSync,
			   BitNeedSync, X,        BitUnwritten, BitNeedSync },
};
#undef X

struct llpage {                 /* md's llbitmap_page_ctl */
	atomic_int active;      /* writes in flight (md's percpu ref) */
	atomic_int marking;     /* chunks changing, their block not marked yet */
	atomic_bool dying;      /* suspended by the daemon */
	_Atomic gint64 expire;  /* monotonic us; the daemon may clean after */
	atomic_uint flags;
	atomic_ulong dirty;     /* blocks to write, one bit each */
};

struct llbitmap {
	struct mddev *mddev;
	uint8_t *area;          /* superblock + byte map, nr_pages pages */
	struct llpage *pages;
	unsigned nr_pages;
	unsigned io_size, blocks_per_page;
	size_t area_bytes;      /* what goes to disk: map rounded to io_size */
	uint32_t chunksize;     /* sectors */
	unsigned chunkshift;
	uint64_t chunks;
	uint32_t space;         /* sectors reserved */
	bool raid456;
	atomic_uint flags;      /* LLBITMAP_* */
	atomic_uint daemon_sleep, barrier_idle;   /* seconds */
	atomic_uint want;       /* LLBITMAP_WANT_* */
	uint64_t events_cleared;
	gint64 last_end_sync;

	/* Dirty marks made vs made durable: unplug's fast path. */
	atomic_ullong dirty_seq, durable_seq;
	atomic_bool sb_dirty;   /* the superblock's blocks to write too */
	/* One bitmap writer at a time, so the newest snapshot of a block
	 * is the last to land; members known to hold the whole map. */
	pthread_mutex_t io_lock;
	GPtrArray *has_map;
	/* Waits on the page barriers. */
	pthread_mutex_t wait_lock;
	pthread_cond_t wait_cond;
};

/* mddev->bitmap is the type's own state: ours. */
static struct llbitmap *ll(struct mddev *mddev)
{
	return (struct llbitmap *)(void *)mddev->bitmap;
}


/* ---- the state machine ---- */

enum llbitmap_state llbitmap_next_state(enum llbitmap_state c,
					enum llbitmap_action action,
					bool raid456, bool degraded)
{
	if (c >= BitStateCount || action >= BitmapActionCount)
		return BitNone;
	enum llbitmap_state s = state_machine[c][action];
	/* The daemon leaves a degraded array's Dirty chunks Dirty, so the
	 * member that comes back may lack them: a sync then takes them too
	 * (md's llbitmap as merged; the v4 patch skipped them, and a re-add
	 * after a resync of the degraded array missed what it wrote). */
	if (degraded && c == BitDirty && action == BitmapActionStartsync)
		return BitSyncing;
	if (s != BitDirty || action != BitmapActionStartwrite)
		return s;
	/* raid456 skips the initial parity build: a chunk's first write
	 * leaves it to a lazy recovery.  A degraded array's writes are to
	 * be synced onto the member that comes back (the reference's
	 * BitNeedSync, case 1). */
	if ((c == BitUnwritten && raid456) || degraded)
		s = BitNeedSync;
	return s;
}

static unsigned page_of(uint64_t chunk)
{
	return (unsigned)((chunk + LLBITMAP_DATA_OFFSET) / LLBITMAP_PAGE);
}

static uint8_t *chunk_byte(struct llbitmap *b, uint64_t chunk)
{
	return &b->area[LLBITMAP_DATA_OFFSET + chunk];
}

/* Acquire: a writer finding a chunk Dirty sees the marking count that
 * the writer who made it so raised first (wait_marked). */
static uint8_t read_state(struct llbitmap *b, uint64_t chunk)
{
	return __atomic_load_n(chunk_byte(b, chunk), __ATOMIC_ACQUIRE);
}

static bool swap_state(uint8_t *byte, uint8_t *old, uint8_t new)
{
	return __atomic_compare_exchange_n(byte, old, new, false,
					   __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
}

/* md's need_resync, not while degraded (md's llbitmap as merged): the
 * chunks wait, NeedSync or Dirty, for the member that comes back, which
 * a resync now would not reach. */
static void want_sync(struct llbitmap *b, unsigned want)
{
	/* read first: writes into NeedSync chunks ask again and again */
	if (want && !atomic_load(&b->mddev->degraded) &&
	    (atomic_load(&b->want) & want) != want)
		atomic_fetch_or(&b->want, want);
}

static enum llbitmap_state next_of(struct llbitmap *b, uint8_t c,
				   enum llbitmap_action action, unsigned *want)
{
	if (c >= BitStateCount)     /* garbage: force a resync */
		return BitNeedSync;
	if (c == BitNeedSync)
		*want |= LLBITMAP_WANT_RESYNC;
	/* the array's degraded count only where it changes the answer: a
	 * write to a Dirty chunk, the fast path, reads nothing shared */
	bool degraded = ((action == BitmapActionStartwrite && c <= BitClean) ||
			 (action == BitmapActionStartsync && c == BitDirty)) &&
			atomic_load(&b->mddev->degraded) > 0;

	return llbitmap_next_state(c, action, b->raid456, degraded);
}

/* md's llbitmap_infect_dirty_bits: the block is written anyway, so every
 * chunk in it takes what a write would make of it (Dirty, or NeedSync for
 * raid456 chunks never written and on a degraded array), and later writes
 * there cost nothing. */
static void infect_block(struct llbitmap *b, size_t block_start, size_t skip)
{
	unsigned want = 0;
	size_t lo = MAX(block_start, (size_t)LLBITMAP_DATA_OFFSET);
	size_t hi = MIN(block_start + b->io_size, LLBITMAP_DATA_OFFSET + b->chunks);

	for (size_t pos = lo; pos < hi; pos++) {
		if (pos == skip)
			continue;
		uint8_t c = __atomic_load_n(&b->area[pos], __ATOMIC_RELAXED);
		for (;;) {
			uint8_t s = c == BitUnwritten || c == BitClean
				    ? next_of(b, c, BitmapActionStartwrite, &want) : BitNone;
			if (s == BitNone || swap_state(&b->area[pos], &c, s)) {
				if (s == BitNeedSync)
					want |= b->raid456 && c == BitUnwritten
						? LLBITMAP_WANT_LAZY_RECOVER : LLBITMAP_WANT_RESYNC;
				break;
			}
		}
	}
	want_sync(b, want);
}

/* md's llbitmap_set_page_dirty: the chunk's block must reach the members
 * before the write; a second change in the block before it does, or a
 * block already holding dirty chunks, infects the whole block.  The block
 * is marked after its bytes changed, so a writer that takes the mark
 * writes them. */
static void mark_block(struct llbitmap *b, uint64_t chunk)
{
	size_t pos = LLBITMAP_DATA_OFFSET + chunk;
	struct llpage *pg = &b->pages[pos / LLBITMAP_PAGE];
	unsigned long bit = 1ul << (pos % LLBITMAP_PAGE / b->io_size);
	size_t block_start = pos - pos % b->io_size;
	size_t end = MIN(block_start + b->io_size, LLBITMAP_DATA_OFFSET + b->chunks);
	bool infect = atomic_load(&pg->dirty) & bit;

	for (size_t p = MAX(block_start, (size_t)LLBITMAP_DATA_OFFSET); !infect && p < end; p++) {
		uint8_t c = __atomic_load_n(&b->area[p], __ATOMIC_RELAXED);
		infect = p != pos && (c == BitDirty || c == BitNeedSync);
	}
	if (infect)
		infect_block(b, block_start, pos);
	atomic_fetch_or(&pg->dirty, bit);
	atomic_fetch_or(&pg->flags, PAGE_DIRTY);
	atomic_fetch_add(&b->dirty_seq, 1);
}

/* One chunk through the table; BitNone when it stays.  A page's marking
 * count covers the time between a chunk turning Dirty and its block's
 * mark, which a write finding it Dirty waits out (wait_marked). */
static enum llbitmap_state transition(struct llbitmap *b, uint64_t p,
				      enum llbitmap_action action, unsigned *want)
{
	struct llpage *pg = &b->pages[page_of(p)];
	uint8_t c = read_state(b, p);
	enum llbitmap_state state = next_of(b, c, action, want);

	if (state == BitNone)       /* the fast path: nothing shared written */
		return BitNone;
	atomic_fetch_add(&pg->marking, 1);
	while (state != BitNone && !swap_state(chunk_byte(b, p), &c, state))
		state = next_of(b, c, action, want);
	if (state == BitDirty || state == BitNeedSync)
		mark_block(b, p);
	atomic_fetch_sub(&pg->marking, 1);
	if (b->raid456 && c == BitUnwritten && state == BitNeedSync &&
	    action == BitmapActionStartwrite)
		*want |= LLBITMAP_WANT_LAZY_RECOVER;
	else if (state == BitNeedSync)
		*want |= LLBITMAP_WANT_RESYNC;
	return state;
}

static void wait_marked(struct llbitmap *b, unsigned idx)
{
	while (atomic_load(&b->pages[idx].marking))
		sched_yield();
}

/* md's llbitmap_state_machine over chunks [start, end]; the state the
 * last chunk took (BitNone: unchanged), which start_sync asks for. */
static enum llbitmap_state state_machine_run(struct llbitmap *b, uint64_t start,
					     uint64_t end, enum llbitmap_action action)
{
	enum llbitmap_state state = BitNone;
	unsigned want = 0;

	if (atomic_load(&b->flags) & LLBITMAP_WRITE_ERROR)
		return BitNone;
	for (uint64_t p = start; p <= end && p < b->chunks; p++)
		state = transition(b, p, action, &want);
	want_sync(b, want);
	return state;
}

/* ---- the on-disk superblock ---- */

void llbitmap_sb_encode(const struct llbitmap_sb *sb, uint8_t *buf)
{
	memset(buf, 0, LLBITMAP_SB_BYTES);
	put32(buf + B_MAGIC, sb->magic);
	put32(buf + B_VERSION, sb->version);
	memcpy(buf + B_UUID, sb->uuid, 16);
	put64(buf + B_EVENTS, sb->events);
	put64(buf + B_EVENTS_CLEARED, sb->events_cleared);
	put64(buf + B_SYNC_SIZE, sb->sync_size);
	put32(buf + B_STATE, sb->state);
	put32(buf + B_CHUNKSIZE, sb->chunksize);
	put32(buf + B_DAEMON_SLEEP, sb->daemon_sleep);
	put32(buf + B_WRITE_BEHIND, sb->write_behind);
	put32(buf + B_SECTORS_RESERVED, sb->sectors_reserved);
	put32(buf + B_NODES, sb->nodes);
}

void llbitmap_sb_decode(const uint8_t *buf, struct llbitmap_sb *sb)
{
	sb->magic = get32(buf + B_MAGIC);
	sb->version = get32(buf + B_VERSION);
	memcpy(sb->uuid, buf + B_UUID, 16);
	sb->events = get64(buf + B_EVENTS);
	sb->events_cleared = get64(buf + B_EVENTS_CLEARED);
	sb->sync_size = get64(buf + B_SYNC_SIZE);
	sb->state = get32(buf + B_STATE);
	sb->chunksize = get32(buf + B_CHUNKSIZE);
	sb->daemon_sleep = get32(buf + B_DAEMON_SLEEP);
	sb->write_behind = get32(buf + B_WRITE_BEHIND);
	sb->sectors_reserved = get32(buf + B_SECTORS_RESERVED);
	sb->nodes = get32(buf + B_NODES);
}

/* md's llbitmap_init doubles from 64 KiB while the chunks outnumber the
 * bytes of the whole space; the map starts 1 KiB in, so it is held to
 * what really fits (127 KiB of 128, as md's own comment says). */
uint32_t llbitmap_chunksize(uint64_t sectors, uint64_t space_sectors)
{
	uint64_t room = space_sectors * 512 > LLBITMAP_DATA_OFFSET
			? space_sectors * 512 - LLBITMAP_DATA_OFFSET : 1;
	uint64_t chunksize = LLBITMAP_MIN_CHUNK;

	while (chunksize <= UINT32_MAX && (sectors + chunksize - 1) / chunksize > room)
		chunksize <<= 1;
	return chunksize > UINT32_MAX ? 0 : (uint32_t)chunksize;
}

/* md's resync_max_sectors: the array for raid10, the component else. */
static uint64_t covered_sectors(struct mddev *mddev)
{
	return mddev->level == 10 ? mddev->array_sectors : mddev->dev_sectors;
}

static uint64_t area_pos(const struct md_rdev *rdev)
{
	return (uint64_t)((int64_t)rdev->sb.super_offset + rdev->sb.bitmap_offset)
	       << SECTOR_SHIFT;
}

/* Sectors of bitmap area on rdev: 0 (reason in why) when it has none. */
static uint64_t area_room(const struct md_rdev *rdev, char *why, size_t whylen)
{
	uint64_t start, sectors;

	if (!rdev->sb.bitmap_offset) {
		snprintf(why, whylen, "no bitmap area (superblock bitmap_offset 0)");
		return 0;
	}
	if (md_sb_bitmap_space(&rdev->sb, &start, &sectors, why, whylen) < 0)
		return 0;
	return sectors;
}

static const char *label(const struct md_rdev *rdev)
{
	return rdev->path ? rdev->path : rdev->name;
}

static uint64_t round_up_to(uint64_t v, uint64_t to)
{
	return (v + to - 1) / to * to;
}

/* The area fits on every member: 0, or -EINVAL with the member named. */
static int check_room(struct mddev *mddev, uint64_t need, char *err, size_t errlen)
{
	GPtrArray *rdevs = md_rdevs_copy(mddev);
	int r = 0;

	for (guint i = 0; i < rdevs->len && !r; i++) {
		struct md_rdev *rdev = g_ptr_array_index(rdevs, i);
		char why[200] = "";
		uint64_t room = area_room(rdev, why, sizeof(why));
		if (need > room * 512) {
			snprintf(err, errlen, "%s: the llbitmap needs %" PRIu64 " bytes, the "
				 "bitmap area has %" PRIu64 "%s%s", label(rdev), need, room * 512,
				 *why ? ": " : "", why);
			r = -EINVAL;
		}
	}
	g_ptr_array_unref(rdevs);
	return r;
}

/* The sectors the bitmap may use: all of the smallest area, at most the
 * 128 KiB md reserves. */
static uint32_t area_space(struct mddev *mddev)
{
	GPtrArray *rdevs = md_rdevs_copy(mddev);
	uint64_t space = LLBITMAP_RESERVED_SECTORS;
	char why[200];

	for (guint i = 0; i < rdevs->len; i++)
		space = MIN(space, area_room(g_ptr_array_index(rdevs, i), why, sizeof(why)));
	g_ptr_array_unref(rdevs);
	return (uint32_t)space;
}

static unsigned io_size(struct mddev *mddev)
{
	unsigned s = mddev->logical_block_size;

	return s >= 512 && s <= LLBITMAP_PAGE && !(s & (s - 1)) ? s : 512;
}

static void fill_sb_of(const struct md_sb *msb, uint64_t events, uint64_t cover,
		       struct llbitmap_sb *sb, uint32_t chunksize, uint32_t space,
		       uint32_t state, uint32_t daemon_sleep)
{
	memset(sb, 0, sizeof(*sb));
	sb->magic = BITMAP_MAGIC;
	sb->version = BITMAP_MAJOR_LOCKLESS;
	md_sb_uuid_kernel(msb, sb->uuid);
	sb->events = events;
	sb->events_cleared = events;
	sb->sync_size = cover;
	sb->state = state;
	sb->chunksize = chunksize;
	sb->daemon_sleep = daemon_sleep;
	sb->sectors_reserved = space;
}

static void fill_sb(struct mddev *mddev, struct llbitmap_sb *sb, uint32_t chunksize,
		    uint32_t space, uint32_t state, uint32_t daemon_sleep)
{
	fill_sb_of(&mddev->sb, mddev->events, covered_sectors(mddev), sb, chunksize,
		   space, state, daemon_sleep);
}

uint8_t *llbitmap_new_area(const struct md_sb *msb, uint64_t cover, uint32_t space,
			   bool clean, size_t *len)
{
	uint32_t chunksize = llbitmap_chunksize(cover, space);
	unsigned lbs = msb->logical_block_size;
	unsigned io = lbs >= 512 && lbs <= LLBITMAP_PAGE && !(lbs & (lbs - 1)) ? lbs : 512;
	struct llbitmap_sb sb;

	if (!chunksize || space * 512 <= LLBITMAP_DATA_OFFSET)
		return NULL;
	uint64_t chunks = (cover + chunksize - 1) / chunksize;
	*len = round_up_to(LLBITMAP_DATA_OFFSET + chunks, io);
	uint8_t *buf = g_malloc0(*len);
	fill_sb_of(msb, msb->events, cover, &sb, chunksize, space,
		   LLBITMAP_FIRST_USE | (clean ? LLBITMAP_CLEAN : 0), DEFAULT_DAEMON_SLEEP);
	llbitmap_sb_encode(&sb, buf);
	memset(buf + LLBITMAP_DATA_OFFSET, clean ? BitClean : BitUnwritten, chunks);
	return buf;
}

/* ---- member IO ---- */

/* The members a bitmap write goes to: every working one in a role, and
 * the replacements (md: raid_disk >= 0 and not Faulty); one without room
 * for the map (joined after the load) is left out rather than written
 * over whatever lies there. */
static bool takes_map(struct llbitmap *b, struct md_rdev *r)
{
	char why[200];

	return rdev_usable(r) && area_room(r, why, sizeof(why)) * 512 >= b->area_bytes;
}

static GPtrArray *targets(struct llbitmap *b)
{
	struct mddev *mddev = b->mddev;
	GPtrArray *t = g_ptr_array_new();

	for (int i = 0; i < mddev->raid_disks; i++) {
		if (takes_map(b, mddev->slots[i]))
			g_ptr_array_add(t, mddev->slots[i]);
		if (takes_map(b, md_replacement(mddev, i)))
			g_ptr_array_add(t, md_replacement(mddev, i));
	}
	return t;
}

/* Bytes [off, off + len) of the area as they are now. */
static uint8_t *snapshot(struct llbitmap *b, size_t off, size_t len)
{
	uint8_t *buf = g_malloc(len);

	for (size_t i = 0; i < len; i++)
		buf[i] = __atomic_load_n(&b->area[off + i], __ATOMIC_RELAXED);
	return buf;
}

/* Write each range (area offsets, pairs in ranges) to each member, then
 * make it durable; the members that failed are returned for md_error
 * once the bitmap's locks are let go. */
static GPtrArray *write_ranges(struct llbitmap *b, GPtrArray *members, GArray *ranges)
{
	unsigned nr = ranges->len / 2, n = 0;
	struct mio *v = g_new0(struct mio, (size_t)members->len * (nr + 1));
	uint8_t **bufs = g_new0(uint8_t *, nr);
	GPtrArray *failed = g_ptr_array_new();

	for (unsigned k = 0; k < nr; k++) {
		size_t off = g_array_index(ranges, size_t, 2 * k);
		size_t len = g_array_index(ranges, size_t, 2 * k + 1);
		bufs[k] = snapshot(b, off, len);
		for (guint i = 0; i < members->len; i++) {
			struct md_rdev *r = g_ptr_array_index(members, i);
			v[n++] = (struct mio){ .rdev = r, .write = true, .abs = true,
					       .off = area_pos(r) + off, .buf = bufs[k],
					       .len = len };
		}
	}
	/* the flushes after the writes: one batch has no order */
	mio_run(v, n);
	for (guint i = 0; i < members->len; i++)
		v[n++] = (struct mio){ .rdev = g_ptr_array_index(members, i), .flush = true };
	mio_run(v + n - members->len, members->len);
	for (unsigned i = 0; i < n; i++)
		if (v[i].res < 0 && !g_ptr_array_find(failed, v[i].rdev, NULL))
			g_ptr_array_add(failed, v[i].rdev);
	for (unsigned k = 0; k < nr; k++)
		g_free(bufs[k]);
	g_free(bufs);
	g_free(v);
	return failed;
}

static void fail_members(struct mddev *mddev, GPtrArray *failed)
{
	for (guint i = 0; i < failed->len; i++)
		md_error(mddev, g_ptr_array_index(failed, i));
	g_ptr_array_unref(failed);
}

/* Adjacent blocks go as one IO. */
static void add_range(GArray *ranges, size_t off, size_t len)
{
	guint n = ranges->len;

	if (n && g_array_index(ranges, size_t, n - 2) + g_array_index(ranges, size_t, n - 1)
	    == off) {
		g_array_index(ranges, size_t, n - 1) += len;
		return;
	}
	g_array_append_val(ranges, off);
	g_array_append_val(ranges, len);
}

static bool range_has(GArray *ranges, size_t off)
{
	for (guint i = 0; i < ranges->len; i += 2)
		if (off >= g_array_index(ranges, size_t, i) &&
		    off < g_array_index(ranges, size_t, i) + g_array_index(ranges, size_t, i + 1))
			return true;
	return false;
}

/* The blocks marked dirty (all: every block of the map), taken off the
 * marks; call under io_lock. */
static GArray *take_dirty_blocks(struct llbitmap *b, bool all)
{
	GArray *ranges = g_array_new(false, false, sizeof(size_t));
	/* the superblock's blocks, outside the marks (no infection) */
	unsigned long sb_blocks = atomic_exchange(&b->sb_dirty, false)
				  ? (1ul << ((LLBITMAP_DATA_OFFSET - 1) / b->io_size + 1)) - 1 : 0;

	for (unsigned i = 0; i < b->nr_pages; i++) {
		struct llpage *pg = &b->pages[i];
		bool marked = atomic_fetch_and(&pg->flags, ~PAGE_DIRTY) & PAGE_DIRTY;
		unsigned long dirty = i ? 0 : sb_blocks;
		if (all || marked)
			dirty |= atomic_exchange(&pg->dirty, 0);
		for (unsigned bit = 0; bit < b->blocks_per_page; bit++) {
			size_t off = (size_t)i * LLBITMAP_PAGE + (size_t)bit * b->io_size;
			if ((all || (dirty & (1ul << bit))) && off < b->area_bytes)
				add_range(ranges, off, b->io_size);
		}
	}
	return ranges;
}

/* Only members that take every bitmap write keep their mark of holding
 * the whole map: one failed, or a spare, gets it whole again with its
 * next superblock write.  Under io_lock. */
static void prune_has_map(struct llbitmap *b, GPtrArray *members)
{
	for (guint i = b->has_map->len; i-- > 0;)
		if (!g_ptr_array_find(members, g_ptr_array_index(b->has_map, i), NULL))
			g_ptr_array_remove_index_fast(b->has_map, i);
}

/* md's llbitmap_unplug_fn / __llbitmap_flush: the marked blocks (all:
 * every block), and those of more (area offsets and lengths). */
static void write_blocks(struct llbitmap *b, bool all, GArray *more)
{
	struct mddev *mddev = b->mddev;

	pthread_mutex_lock(&b->io_lock);
	uint64_t seq = atomic_load(&b->dirty_seq);
	GArray *ranges = take_dirty_blocks(b, all);
	/* a block once: two snapshots of it in one batch land in no order */
	for (guint i = 0; more && i < more->len; i += 2)
		if (!range_has(ranges, g_array_index(more, size_t, i)))
			add_range(ranges, g_array_index(more, size_t, i),
				  g_array_index(more, size_t, i + 1));
	GPtrArray *members = targets(b);
	GPtrArray *failed = ranges->len && members->len
			    ? write_ranges(b, members, ranges) : g_ptr_array_new();
	prune_has_map(b, members);
	if (seq > atomic_load(&b->durable_seq))
		atomic_store(&b->durable_seq, seq);
	pthread_mutex_unlock(&b->io_lock);
	g_array_unref(ranges);
	g_ptr_array_unref(members);
	fail_members(mddev, failed);
}

/* ---- page barriers (md's percpu ref per page) ---- */

static void wake_waiters(struct llbitmap *b)
{
	pthread_mutex_lock(&b->wait_lock);
	pthread_cond_broadcast(&b->wait_cond);
	pthread_mutex_unlock(&b->wait_lock);
}

static void release_barrier(struct llbitmap *b, unsigned idx)
{
	struct llpage *pg = &b->pages[idx];

	if (atomic_fetch_sub(&pg->active, 1) == 1 && atomic_load(&pg->dying))
		wake_waiters(b);
}

/* md's llbitmap_raise_barrier: no lock unless the daemon holds the page. */
static void raise_barrier(struct llbitmap *b, unsigned idx)
{
	struct llpage *pg = &b->pages[idx];

	for (;;) {
		atomic_fetch_add(&pg->active, 1);
		if (!atomic_load(&pg->dying)) {
			atomic_store_explicit(&pg->expire, g_get_monotonic_time() +
					      (gint64)atomic_load(&b->barrier_idle) * G_USEC_PER_SEC,
					      memory_order_relaxed);
			return;
		}
		release_barrier(b, idx);
		pthread_mutex_lock(&b->wait_lock);
		while (atomic_load(&pg->dying))
			pthread_cond_wait(&b->wait_cond, &b->wait_lock);
		pthread_mutex_unlock(&b->wait_lock);
	}
}

static void unsuspend_page(struct llbitmap *b, unsigned idx)
{
	atomic_store(&b->pages[idx].dying, false);
	wake_waiters(b);
}

/* Cleaned: idle until the next write sets an expiry. */
static void resume_page(struct llbitmap *b, unsigned idx)
{
	atomic_store(&b->pages[idx].expire, G_MAXINT64);
	unsuspend_page(b, idx);
}

/* md's llbitmap_suspend_timeout: hold new writes off the page and wait
 * for those in flight, at most daemon_sleep; -ETIMEDOUT when they do not
 * end, the page let go with its expiry (md's stays killed). */
static int suspend_page(struct llbitmap *b, unsigned idx)
{
	struct llpage *pg = &b->pages[idx];
	gint64 until = g_get_monotonic_time() +
		       (gint64)atomic_load(&b->daemon_sleep) * G_USEC_PER_SEC;

	atomic_store(&pg->dying, true);
	pthread_mutex_lock(&b->wait_lock);
	while (atomic_load(&pg->active) > 0 && g_get_monotonic_time() < until)
		md_cond_wait_until(&b->wait_cond, &b->wait_lock, until);
	bool idle = atomic_load(&pg->active) == 0;
	pthread_mutex_unlock(&b->wait_lock);
	if (!idle) {
		unsuspend_page(b, idx);
		return -ETIMEDOUT;
	}
	return 0;
}

/* ---- lifecycle ---- */

static struct llbitmap *bitmap_new(struct mddev *mddev, uint32_t chunksize, uint32_t space)
{
	struct llbitmap *b = g_new0(struct llbitmap, 1);

	b->mddev = mddev;
	b->chunksize = chunksize;
	b->chunkshift = (unsigned)__builtin_ctz(chunksize);
	b->chunks = (covered_sectors(mddev) + chunksize - 1) / chunksize;
	b->space = space;
	b->io_size = io_size(mddev);
	b->blocks_per_page = LLBITMAP_PAGE / b->io_size;
	b->area_bytes = round_up_to(LLBITMAP_DATA_OFFSET + b->chunks, b->io_size);
	b->nr_pages = (unsigned)((LLBITMAP_DATA_OFFSET + b->chunks + LLBITMAP_PAGE - 1)
				 / LLBITMAP_PAGE);
	b->area = g_malloc0((size_t)b->nr_pages * LLBITMAP_PAGE);
	b->pages = g_new0(struct llpage, b->nr_pages);
	b->raid456 = mddev->level >= 4 && mddev->level <= 6;
	atomic_store(&b->daemon_sleep, DEFAULT_DAEMON_SLEEP);
	atomic_store(&b->barrier_idle, DEFAULT_BARRIER_IDLE);
	b->has_map = g_ptr_array_new();
	pthread_mutex_init(&b->io_lock, NULL);
	pthread_mutex_init(&b->wait_lock, NULL);
	md_cond_init(&b->wait_cond);
	return b;
}

static void bitmap_free(struct llbitmap *b)
{
	pthread_mutex_destroy(&b->io_lock);
	pthread_mutex_destroy(&b->wait_lock);
	pthread_cond_destroy(&b->wait_cond);
	g_ptr_array_unref(b->has_map);
	g_free(b->pages);
	g_free(b->area);
	g_free(b);
}

/* A new bitmap on every member: the superblock says FIRST_USE (and CLEAN
 * for an array created clean), as mdadm leaves it for md's llbitmap_init,
 * and the map holds what that init will make of it. */
static int llbitmap_create(struct mddev *mddev, char *err, size_t errlen)
{
	uint32_t space = area_space(mddev);
	uint32_t chunksize = llbitmap_chunksize(covered_sectors(mddev), space);
	bool clean = atomic_load(&mddev->resync_offset) == MD_MAX_SECTOR;
	struct llbitmap_sb sb;

	if (!chunksize || space * 512 <= LLBITMAP_DATA_OFFSET) {
		snprintf(err, errlen, "%s: no room for an llbitmap (%u sectors of bitmap "
			 "area)", mddev->name, space);
		return -ENOSPC;
	}
	struct llbitmap *b = bitmap_new(mddev, chunksize, space);
	int r = check_room(mddev, b->area_bytes, err, errlen);
	if (r < 0) {
		bitmap_free(b);
		return r;
	}
	fill_sb(mddev, &sb, chunksize, space,
		LLBITMAP_FIRST_USE | (clean ? LLBITMAP_CLEAN : 0), DEFAULT_DAEMON_SLEEP);
	llbitmap_sb_encode(&sb, b->area);
	memset(b->area + LLBITMAP_DATA_OFFSET, clean ? BitClean : BitUnwritten, b->chunks);

	GPtrArray *members = md_rdevs_copy(mddev);
	GArray *ranges = g_array_new(false, false, sizeof(size_t));
	add_range(ranges, 0, b->area_bytes);
	GPtrArray *failed = write_ranges(b, members, ranges);
	r = failed->len ? -EIO : 0;
	if (r < 0)
		snprintf(err, errlen, "%s: cannot write the llbitmap",
			 label(g_ptr_array_index(failed, 0)));
	g_ptr_array_unref(failed);
	g_array_unref(ranges);
	g_ptr_array_unref(members);
	bitmap_free(b);
	return r;
}

static struct md_rdev *first_usable(struct mddev *mddev)
{
	for (int i = 0; i < mddev->raid_disks; i++)
		if (rdev_usable(mddev->slots[i]))
			return mddev->slots[i];
	return NULL;
}

/* md_llbitmap's read_sb checks; 0 or -EINVAL with the reason. */
static int check_sb(struct mddev *mddev, const struct llbitmap_sb *sb, uint32_t space,
		    char *why, size_t whylen)
{
	uint8_t uuid[16];
	uint64_t cover = covered_sectors(mddev);

	md_sb_uuid_kernel(&mddev->sb, uuid);
	if (sb->magic != BITMAP_MAGIC)
		snprintf(why, whylen, "bitmap magic 0x%08x is not md's", sb->magic);
	else if (sb->version != BITMAP_MAJOR_LOCKLESS)
		snprintf(why, whylen, "bitmap version %u is not llbitmap's %d", sb->version,
			 BITMAP_MAJOR_LOCKLESS);
	else if (memcmp(sb->uuid, uuid, 16))
		snprintf(why, whylen, "bitmap uuid is not this array's");
	else if (space * 512 <= LLBITMAP_DATA_OFFSET)
		snprintf(why, whylen, "bitmap sectors_reserved %u leave no room for the "
			 "map", space);
	else if (sb->state & LLBITMAP_FIRST_USE)
		return 0;       /* the rest is made at load */
	else if (!sb->chunksize || (sb->chunksize & (sb->chunksize - 1)))
		snprintf(why, whylen, "bitmap chunksize %u is not a power of two",
			 sb->chunksize);
	else if ((cover + sb->chunksize - 1) / sb->chunksize >
		 (uint64_t)space * 512 - LLBITMAP_DATA_OFFSET)
		snprintf(why, whylen, "bitmap chunksize %u sectors is too small for %"
			 PRIu64 " sectors in %u sectors reserved", sb->chunksize, cover,
			 space);
	else if (sb->daemon_sleep < 1 || sb->daemon_sleep > MAX_DAEMON_SLEEP)
		snprintf(why, whylen, "bitmap daemon_sleep %u is out of range",
			 sb->daemon_sleep);
	else
		return 0;
	return -EINVAL;
}

static int read_area(struct md_rdev *rdev, struct llbitmap *b, size_t len)
{
	return mio_run(&(struct mio){ .rdev = rdev, .abs = true, .off = area_pos(rdev),
				      .buf = b->area, .len = len }, 1);
}

/* The superblock leaves FIRST_USE with the first bitmap write, before
 * any data: md's waits for the next superblock write, and a crash before
 * it would init again over the chunks already written. */
static void first_use_done(struct llbitmap *b, struct llbitmap_sb *sb)
{
	sb->state = atomic_load(&b->flags);
	sb->chunksize = b->chunksize;
	sb->sectors_reserved = b->space;
	llbitmap_sb_encode(sb, b->area);
	atomic_store(&b->sb_dirty, true);
	atomic_fetch_add(&b->dirty_seq, 1);
}

/* md's llbitmap_create (read_sb) and llbitmap_load: the members' bitmap,
 * then Reload over every chunk (Stale when its events lag the array's). */
static int llbitmap_load(struct mddev *mddev, char *err, size_t errlen)
{
	struct md_rdev *rdev = first_usable(mddev);
	uint8_t raw[LLBITMAP_SB_BYTES];
	struct llbitmap_sb sb;
	char why[256] = "";

	if (!rdev) {
		snprintf(err, errlen, "%s: no working member to read the llbitmap from",
			 mddev->name);
		return -EIO;
	}
	if (!area_room(rdev, why, sizeof(why))) {
		snprintf(err, errlen, "%s: %s", label(rdev), why);
		return -EINVAL;
	}
	if (mio_run(&(struct mio){ .rdev = rdev, .abs = true, .off = area_pos(rdev),
				   .buf = raw, .len = sizeof(raw) }, 1) < 0) {
		snprintf(err, errlen, "%s: cannot read the llbitmap", label(rdev));
		return -EIO;
	}
	llbitmap_sb_decode(raw, &sb);
	uint32_t space = sb.sectors_reserved ? sb.sectors_reserved : area_space(mddev);
	bool first = sb.state & LLBITMAP_FIRST_USE;
	uint32_t chunksize = first ? llbitmap_chunksize(covered_sectors(mddev), space)
			     : sb.chunksize;
	if (check_sb(mddev, &sb, space, why, sizeof(why)) < 0 || !chunksize) {
		snprintf(err, errlen, "%s: %s", label(rdev),
			 *why ? why : "no chunk size fits the bitmap area");
		return -EINVAL;
	}
	struct llbitmap *b = bitmap_new(mddev, chunksize, space);
	int r = check_room(mddev, b->area_bytes, err, errlen);
	if (!r && !first && read_area(rdev, b, b->area_bytes) < 0) {
		snprintf(err, errlen, "%s: cannot read the llbitmap", label(rdev));
		r = -EIO;
	}
	if (r < 0) {
		bitmap_free(b);
		return r;
	}
	memcpy(b->area, raw, sizeof(raw));
	b->events_cleared = sb.events_cleared;
	atomic_store(&b->flags, sb.state & ~(LLBITMAP_FIRST_USE | LLBITMAP_CLEAN |
					     LLBITMAP_STALE));
	if (first) {
		memset(b->area + LLBITMAP_DATA_OFFSET,
		       sb.state & LLBITMAP_CLEAN ? BitClean : BitUnwritten, b->chunks);
		first_use_done(b, &sb);
	} else {
		atomic_store(&b->daemon_sleep, sb.daemon_sleep);
		bool stale = sb.events < mddev->events;
		state_machine_run(b, 0, b->chunks - 1,
				  stale ? BitmapActionStale : BitmapActionReload);
	}
	/* the core's daemon runs daemon_work this often */
	atomic_store(&mddev->bitmap_daemon_sleep_ms, atomic_load(&b->daemon_sleep) * 1000);
	mddev->bitmap = (struct bitmap *)(void *)b;
	return 0;
}

/* md's llbitmap_flush: the daemon over every page whatever its expiry,
 * then the whole map to every member. */
static void llbitmap_flush(struct mddev *mddev)
{
	struct llbitmap *b = ll(mddev);

	for (unsigned i = 0; i < b->nr_pages; i++)
		atomic_fetch_or(&b->pages[i].flags, PAGE_FLUSH);
	llbitmap_ops.daemon_work(mddev);
	for (unsigned i = 0; i < b->nr_pages; i++)
		atomic_fetch_and(&b->pages[i].flags, ~PAGE_FLUSH);
	write_blocks(b, true, NULL);
}

static void llbitmap_destroy(struct mddev *mddev)
{
	if (mddev->bitmap)
		bitmap_free(ll(mddev));
	mddev->bitmap = NULL;
}

/* ---- the write path ---- */

static bool chunk_range(struct llbitmap *b, uint64_t offset, uint64_t sectors,
			uint64_t *start, uint64_t *end)
{
	if (!sectors || offset >= b->chunks << b->chunkshift)
		return false;
	*start = offset >> b->chunkshift;
	*end = MIN((offset + sectors - 1) >> b->chunkshift, b->chunks - 1);
	return true;
}

/* Raise or release the barriers of the pages holding chunks start..end. */
static void page_barriers(struct llbitmap *b, uint64_t start, uint64_t end, bool raise)
{
	for (unsigned i = page_of(start); i <= page_of(end); i++) {
		if (raise)
			raise_barrier(b, i);
		else
			release_barrier(b, i);
	}
}

/* The barrier first, then the state: md's order lets the daemon clean the
 * chunk between the two. */
static void llbitmap_start_write(struct mddev *mddev, uint64_t offset, uint64_t sectors)
{
	struct llbitmap *b = ll(mddev);
	uint64_t start, end;

	if (!chunk_range(b, offset, sectors, &start, &end))
		return;
	page_barriers(b, start, end, true);
	state_machine_run(b, start, end, BitmapActionStartwrite);
	/* a chunk found Dirty may be another writer's, not yet marked for
	 * the unplug to write */
	for (unsigned i = page_of(start); i <= page_of(end); i++)
		wait_marked(b, i);
}

static void llbitmap_end_write(struct mddev *mddev, uint64_t offset, uint64_t sectors)
{
	struct llbitmap *b = ll(mddev);
	uint64_t start, end;

	if (!chunk_range(b, offset, sectors, &start, &end))
		return;
	page_barriers(b, start, end, false);
}

/* Only chunks the discard covers whole go back to Unwritten (md's also
 * takes a partly covered last chunk, whose data stays). */
static bool discard_range(struct llbitmap *b, uint64_t offset, uint64_t sectors,
			  uint64_t *start, uint64_t *end)
{
	*start = (offset + b->chunksize - 1) >> b->chunkshift;
	*end = MIN((offset + sectors) >> b->chunkshift, b->chunks);
	if (!sectors || *start >= *end)
		return false;
	(*end)--;
	return true;
}

static void llbitmap_start_discard(struct mddev *mddev, uint64_t offset, uint64_t sectors)
{
	struct llbitmap *b = ll(mddev);
	uint64_t start, end;

	if (!discard_range(b, offset, sectors, &start, &end))
		return;
	page_barriers(b, start, end, true);
	state_machine_run(b, start, end, BitmapActionDiscard);
}

static void llbitmap_end_discard(struct mddev *mddev, uint64_t offset, uint64_t sectors)
{
	struct llbitmap *b = ll(mddev);
	uint64_t start, end;

	if (!discard_range(b, offset, sectors, &start, &end))
		return;
	page_barriers(b, start, end, false);
}

/* The blocks start_write marked reach every member before this returns;
 * with nothing marked since the last write, no lock and no IO.  md's
 * always waits too, whatever sync says. */
static void llbitmap_unplug(struct mddev *mddev, bool sync)
{
	struct llbitmap *b = ll(mddev);

	(void)sync;
	if (atomic_load(&b->durable_seq) >= atomic_load(&b->dirty_seq))
		return;
	write_blocks(b, false, NULL);
}

/* ---- the daemon ---- */

/* The blocks of chunks first..last holding a Dirty chunk. */
static void dirty_blocks(struct llbitmap *b, uint64_t first, uint64_t last, GArray *ranges)
{
	size_t prev = SIZE_MAX;

	for (uint64_t p = first; p <= last; p++) {
		size_t block = (LLBITMAP_DATA_OFFSET + p) / b->io_size * b->io_size;
		if (block != prev && read_state(b, p) == BitDirty) {
			add_range(ranges, block, b->io_size);
			prev = block;
		}
	}
}

/* md's md_llbitmap_daemon_fn: Dirty -> Clean on each page idle past its
 * expiry, none while degraded (a re-added member recovers what was
 * written meanwhile).  md leaves the cleaned bytes for the next write of
 * their block; they are written here, so that a crash resyncs only what
 * was at risk. */
static void llbitmap_daemon_work(struct mddev *mddev)
{
	struct llbitmap *b = ll(mddev);
	gint64 now = g_get_monotonic_time();
	GArray *cleaned = g_array_new(false, false, sizeof(size_t));

	if (atomic_load(&mddev->degraded) > 0)
		goto out;
	for (unsigned idx = 0; idx < b->nr_pages; idx++) {
		struct llpage *pg = &b->pages[idx];
		uint64_t first = idx ? (uint64_t)idx * LLBITMAP_PAGE - LLBITMAP_DATA_OFFSET : 0;
		uint64_t last = MIN((uint64_t)(idx + 1) * LLBITMAP_PAGE - LLBITMAP_DATA_OFFSET,
				    b->chunks) - 1;

		if (!(atomic_load(&pg->flags) & PAGE_FLUSH) && now < atomic_load(&pg->expire))
			continue;
		if (suspend_page(b, idx) < 0) {
			g_message("%s: llbitmap page %u busy past daemon_sleep", mddev->name, idx);
			continue;
		}
		dirty_blocks(b, first, last, cleaned);
		state_machine_run(b, first, last, BitmapActionDaemon);
		resume_page(b, idx);
	}
	if (cleaned->len)
		write_blocks(b, false, cleaned);
out:
	g_array_unref(cleaned);
}

/* ---- syncs ---- */

static uint64_t to_chunk_end(struct llbitmap *b, uint64_t offset)
{
	return b->chunksize - (offset & (b->chunksize - 1));
}

/* raid456 may trust parity only where a sync or create built it. */
static bool llbitmap_blocks_synced(struct mddev *mddev, uint64_t offset)
{
	struct llbitmap *b = ll(mddev);
	uint64_t p = offset >> b->chunkshift;
	uint8_t c = p < b->chunks ? read_state(b, p) : BitClean;

	return c == BitClean || c == BitDirty;
}

/* Never written: nothing to sync.  A resync (not check or repair) also
 * skips what is consistent or consistent once its writes end. */
static uint64_t llbitmap_skip_sync_blocks(struct mddev *mddev, uint64_t offset)
{
	struct llbitmap *b = ll(mddev);
	uint64_t p = offset >> b->chunkshift;

	if (p >= b->chunks)
		return 0;
	uint8_t c = read_state(b, p);
	if (c == BitUnwritten)
		return to_chunk_end(b, offset);
	if ((c == BitClean || c == BitDirty) &&
	    atomic_load(&mddev->sync_action) == ACTION_RESYNC)
		return to_chunk_end(b, offset);
	return 0;
}

/* One chunk at a time: true when it needed the sync (now Syncing). */
static bool llbitmap_start_sync(struct mddev *mddev, uint64_t offset, uint64_t *blocks,
				bool degraded)
{
	struct llbitmap *b = ll(mddev);
	uint64_t p = offset >> b->chunkshift;

	(void)degraded;
	*blocks = to_chunk_end(b, offset);
	return state_machine_run(b, p, p, BitmapActionStartsync) == BitSyncing;
}

/* The sync stopped at offset: what it had not finished needs it again. */
static void llbitmap_end_sync(struct mddev *mddev, uint64_t offset, uint64_t *blocks)
{
	struct llbitmap *b = ll(mddev);

	*blocks = to_chunk_end(b, offset);
	state_machine_run(b, offset >> b->chunkshift, b->chunks - 1, BitmapActionAbortsync);
}

/* A whole pass finished: Syncing -> Dirty, for the daemon to clean now. */
static void llbitmap_close_sync(struct mddev *mddev)
{
	struct llbitmap *b = ll(mddev);
	gint64 now = g_get_monotonic_time();

	for (unsigned i = 0; i < b->nr_pages; i++)
		atomic_store(&b->pages[i].expire, now);
	state_machine_run(b, 0, b->chunks - 1, BitmapActionEndsync);
}

/* The pass reached sector: every daemon_sleep (or when forced) what lies
 * behind it is done and the map is written, so a restart after a power
 * cut does not do it again.  md's waits for its sync IO in flight here;
 * the core calls this between windows. */
static void llbitmap_cond_end_sync(struct mddev *mddev, uint64_t sector, bool force)
{
	struct llbitmap *b = ll(mddev);
	gint64 now = g_get_monotonic_time();

	if (sector == 0) {
		b->last_end_sync = now;
		return;
	}
	if (!force && now < b->last_end_sync +
	    (gint64)atomic_load(&b->daemon_sleep) * G_USEC_PER_SEC)
		return;
	uint64_t p = sector >> b->chunkshift;
	if (p)
		state_machine_run(b, 0, MIN(p, b->chunks) - 1, BitmapActionEndsync);
	write_blocks(b, true, NULL);
	b->last_end_sync = now;
}

/* Chunks s..e to be synced (md: Startwrite, so Clean becomes Dirty and,
 * written before the member's recovery, is copied). */
static void llbitmap_dirty_bits(struct mddev *mddev, uint64_t s, uint64_t e)
{
	state_machine_run(ll(mddev), s, e, BitmapActionStartwrite);
}

/* ---- superblock ---- */

/* With each superblock write: the bitmap superblock follows the array's
 * events; a member not known to hold the whole map (first written here
 * since the load, back after failing, a spare) gets it whole, so every
 * member holds the same. */
static int llbitmap_update_sb(struct mddev *mddev, struct md_rdev *rdev)
{
	struct llbitmap *b = ll(mddev);
	struct llbitmap_sb sb;
	char why[200];

	if (atomic_load(&b->flags) & LLBITMAP_WRITE_ERROR)
		return -EIO;
	if (area_room(rdev, why, sizeof(why)) * 512 < b->area_bytes)
		return -ENOSPC;
	pthread_mutex_lock(&b->io_lock);
	if (mddev->events < b->events_cleared)
		b->events_cleared = mddev->events;
	fill_sb(mddev, &sb, b->chunksize, b->space, atomic_load(&b->flags),
		atomic_load(&b->daemon_sleep));
	sb.events_cleared = b->events_cleared;
	llbitmap_sb_encode(&sb, b->area);
	bool whole = !g_ptr_array_find(b->has_map, rdev, NULL);
	size_t len = whole ? b->area_bytes : round_up_to(LLBITMAP_DATA_OFFSET, b->io_size);
	uint8_t *buf = snapshot(b, 0, len);
	int r = mio_run(&(struct mio){ .rdev = rdev, .write = true, .abs = true,
				       .off = area_pos(rdev), .buf = buf, .len = len }, 1);
	GPtrArray *members = targets(b);
	if (!r && whole)
		g_ptr_array_add(b->has_map, rdev);
	prune_has_map(b, members);
	pthread_mutex_unlock(&b->io_lock);
	g_ptr_array_unref(members);
	g_free(buf);
	return r;
}

static void llbitmap_status(struct mddev *mddev, GString *out)
{
	struct llbitmap *b = ll(mddev);
	uint64_t kb = (uint64_t)b->chunksize * 512 / 1024;

	g_string_append_printf(out, "bitmap: %u/%u pages [%uKB], %" PRIu64 "KB chunk\n",
			       b->nr_pages, b->nr_pages, b->nr_pages * (LLBITMAP_PAGE / 1024),
			       kb);
}

/* NAME.md/llbitmap/: md's llbitmap sysfs group.  The control files add
 * the last newline themselves. */
static void group_show(void (*show)(struct mddev *, GString *), struct mddev *mddev,
		       GString *out)
{
	show(mddev, out);
	if (out->len && out->str[out->len - 1] == '\n')
		g_string_truncate(out, out->len - 1);
}

static void bits_show(struct mddev *mddev, struct md_rdev *rdev, GString *out)
{
	(void)rdev;
	group_show(llbitmap_bits_show, mddev, out);
}

static void metadata_show(struct mddev *mddev, struct md_rdev *rdev, GString *out)
{
	(void)rdev;
	group_show(llbitmap_metadata_show, mddev, out);
}

static void daemon_sleep_show(struct mddev *mddev, struct md_rdev *rdev, GString *out)
{
	(void)rdev;
	group_show(llbitmap_daemon_sleep_show, mddev, out);
}

static int daemon_sleep_store(struct mddev *mddev, struct md_rdev *rdev, const char *val)
{
	(void)rdev;
	return llbitmap_daemon_sleep_store(mddev, val);
}

static void barrier_idle_show(struct mddev *mddev, struct md_rdev *rdev, GString *out)
{
	(void)rdev;
	group_show(llbitmap_barrier_idle_show, mddev, out);
}

static int barrier_idle_store(struct mddev *mddev, struct md_rdev *rdev, const char *val)
{
	(void)rdev;
	return llbitmap_barrier_idle_store(mddev, val);
}

static const struct md_attr llbitmap_group[] = {
	ATTR_RO(bits), ATTR_RO(metadata), ATTR_RW(daemon_sleep), ATTR_RW(barrier_idle),
	{ NULL, 0, NULL, NULL },
};

const struct bitmap_operations llbitmap_ops = {
	.name = "llbitmap",
	.create = llbitmap_create,
	.load = llbitmap_load,
	.flush = llbitmap_flush,
	.destroy = llbitmap_destroy,
	.start_write = llbitmap_start_write,
	.end_write = llbitmap_end_write,
	.start_discard = llbitmap_start_discard,
	.end_discard = llbitmap_end_discard,
	.unplug = llbitmap_unplug,
	.skip_sync_blocks = llbitmap_skip_sync_blocks,
	.blocks_synced = llbitmap_blocks_synced,
	.start_sync = llbitmap_start_sync,
	.end_sync = llbitmap_end_sync,
	.cond_end_sync = llbitmap_cond_end_sync,
	.close_sync = llbitmap_close_sync,
	.update_sb = llbitmap_update_sb,
	.dirty_bits = llbitmap_dirty_bits,
	.daemon_work = llbitmap_daemon_work,
	.sync_wanted = llbitmap_sync_wanted,
	.status = llbitmap_status,
	.group_name = "llbitmap",
	.group = llbitmap_group,
};

/* ---- for the core and the control files ---- */

/* A load first: the core asks after every write, and a shared line
 * written each time would undo the lockless write path. */
unsigned llbitmap_sync_wanted(struct mddev *mddev)
{
	struct llbitmap *b = ll(mddev);

	return atomic_load(&b->want) ? atomic_exchange(&b->want, 0) : 0;
}

unsigned llbitmap_daemon_sleep(struct mddev *mddev)
{
	return atomic_load(&ll(mddev)->daemon_sleep);
}

enum llbitmap_state llbitmap_chunk_state(struct mddev *mddev, uint64_t chunk)
{
	struct llbitmap *b = ll(mddev);

	return chunk < b->chunks ? read_state(b, chunk) : BitNone;
}

void llbitmap_bits_show(struct mddev *mddev, GString *out)
{
	struct llbitmap *b = ll(mddev);
	uint64_t bits[BitStateCount] = { 0 };

	if (!b) {
		g_string_append(out, "no bitmap\n");
		return;
	}
	if (atomic_load(&b->flags) & LLBITMAP_WRITE_ERROR) {
		g_string_append(out, "bitmap io error\n");
		return;
	}
	for (uint64_t p = 0; p < b->chunks; p++) {
		uint8_t c = read_state(b, p);
		if (c < BitStateCount)
			bits[c]++;
	}
	g_string_append_printf(out, "unwritten %" PRIu64 "\nclean %" PRIu64 "\ndirty %"
			       PRIu64 "\nneed sync %" PRIu64 "\nsyncing %" PRIu64 "\n",
			       bits[BitUnwritten], bits[BitClean], bits[BitDirty],
			       bits[BitNeedSync], bits[BitSyncing]);
}

/* offset: md's bitmap_info.offset, sectors from the superblock, which md
 * prints unsigned (a bitmap before a 1.0 superblock shows 2^64 - n). */
void llbitmap_metadata_show(struct mddev *mddev, GString *out)
{
	struct llbitmap *b = ll(mddev);
	struct md_rdev *rdev = first_usable(mddev);

	if (!b) {
		g_string_append(out, "no bitmap\n");
		return;
	}
	g_string_append_printf(out, "chunksize %u\nchunkshift %u\nchunks %" PRIu64
			       "\noffset %" PRIu64 "\ndaemon_sleep %u\n", b->chunksize,
			       b->chunkshift, b->chunks,
			       (uint64_t)(int64_t)(rdev ? rdev->sb.bitmap_offset : 0),
			       atomic_load(&b->daemon_sleep));
}

static void show_seconds(struct mddev *mddev, GString *out, bool idle)
{
	struct llbitmap *b = ll(mddev);

	if (!b)
		g_string_append(out, "no bitmap\n");
	else
		g_string_append_printf(out, "%u\n", atomic_load(idle ? &b->barrier_idle
								     : &b->daemon_sleep));
}

void llbitmap_daemon_sleep_show(struct mddev *mddev, GString *out)
{
	show_seconds(mddev, out, false);
}

void llbitmap_barrier_idle_show(struct mddev *mddev, GString *out)
{
	show_seconds(mddev, out, true);
}

/* kstrtoul's input: decimal, one optional trailing newline; lo..hi. */
static int store_seconds(struct mddev *mddev, const char *buf, unsigned lo, bool idle)
{
	struct llbitmap *b = ll(mddev);
	char *s = g_strdup(buf);
	size_t n = strlen(s);
	guint64 v;

	if (n && s[n - 1] == '\n')
		s[n - 1] = 0;
	bool ok = g_ascii_string_to_unsigned(s, 10, lo, MAX_DAEMON_SLEEP, &v, NULL);
	g_free(s);
	if (!b)
		return -ENODEV;
	if (!ok)
		return -EINVAL;
	atomic_store(idle ? &b->barrier_idle : &b->daemon_sleep, (unsigned)v);
	if (!idle)
		atomic_store(&mddev->bitmap_daemon_sleep_ms, (unsigned)v * 1000);
	return 0;
}

/* md takes any number; 0 would have the daemon run without pause and
 * wait for nothing, so 1 s up to MAX_DAEMON_SLEEP, as a loaded
 * superblock's. */
int llbitmap_daemon_sleep_store(struct mddev *mddev, const char *buf)
{
	return store_seconds(mddev, buf, 1, false);
}

/* 0 (clean as soon as the daemon runs) up to MAX_DAEMON_SLEEP. */
int llbitmap_barrier_idle_store(struct mddev *mddev, const char *buf)
{
	return store_seconds(mddev, buf, 0, true);
}
