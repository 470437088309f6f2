/* llbitmap, md's lockless write-intent bitmap (md-llbitmap.c, bitmap
 * version 6): one byte of state per chunk.  The ops table is
 * llbitmap_ops (bitmap.h); this header holds what the control files
 * (NAME.md/llbitmap/) and the unit tests need besides. */
#pragma once
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include "bitmap.h"

#define LLBITMAP_DATA_OFFSET 1024           /* the byte map starts here */
#define LLBITMAP_RESERVED_SECTORS 256       /* 128 KiB: superblock + map */
#define LLBITMAP_MIN_CHUNK 128              /* sectors: 64 KiB */
#define LLBITMAP_PAGE 4096                  /* the barrier's and daemon's unit */

/* bitmap_super_t's state bits (md-bitmap.h's enum bitmap_state) */
#define LLBITMAP_STALE       (1u << 1)
#define LLBITMAP_WRITE_ERROR (1u << 2)
#define LLBITMAP_FIRST_USE   (1u << 3)     /* just created: load initialises */
#define LLBITMAP_CLEAN       (1u << 4)     /* created with --assume-clean */

enum llbitmap_state {
	BitUnwritten = 0,   /* no valid data */
	BitClean,           /* consistent */
	BitDirty,           /* consistent once the writes in flight are done */
	BitNeedSync,        /* to be synced */
	BitSyncing,         /* being synced */
	BitStateCount,
	BitNone = 0xff,     /* "x": the action leaves the state alone */
};

enum llbitmap_action {
	BitmapActionStartwrite = 0,
	BitmapActionStartsync,
	BitmapActionEndsync,
	BitmapActionAbortsync,
	BitmapActionReload,
	BitmapActionDaemon,
	BitmapActionDiscard,
	BitmapActionStale,
	BitmapActionCount,
};

/* The state after action on a chunk in state c (BitNone: unchanged), with
 * the reference's two cases for a write that would make it Dirty: raid456's
 * first write to a chunk builds parity lazily, and a degraded array's
 * writes are synced onto the member that comes back: NeedSync.  And md's
 * as merged: a degraded array's sync takes Dirty chunks too (Syncing). */
enum llbitmap_state llbitmap_next_state(enum llbitmap_state c,
					enum llbitmap_action action,
					bool raid456, bool degraded);

/* bitmap_super_t as llbitmap uses it (little-endian, 256 bytes). */
struct llbitmap_sb {
	uint32_t magic, version;
	uint8_t uuid[16];
	uint64_t events, events_cleared, sync_size;
	uint32_t state;
	uint32_t chunksize;          /* sectors (the classic's is bytes) */
	uint32_t daemon_sleep;       /* seconds */
	uint32_t write_behind, sectors_reserved, nodes;
};
#define LLBITMAP_SB_BYTES 256
void llbitmap_sb_encode(const struct llbitmap_sb *sb, uint8_t *buf);
void llbitmap_sb_decode(const uint8_t *buf, struct llbitmap_sb *sb);

/* md's llbitmap_init: the chunk size in sectors for sectors of space
 * covered, the byte map in space_sectors of area after the superblock. */
uint32_t llbitmap_chunksize(uint64_t sectors, uint64_t space_sectors);

/* For raidfs create (mdadm's --bitmap=lockless): the area a member
 * gets, *len bytes: the superblock saying FIRST_USE (and CLEAN for an
 * array created clean), the byte map as the first load will make it;
 * NULL when space (sectors) holds no map for cover sectors. */
struct md_sb;
uint8_t *llbitmap_new_area(const struct md_sb *msb, uint64_t cover, uint32_t space,
			   bool clean, size_t *len);

/* What a state change asked of the sync thread since the last call (md
 * sets MD_RECOVERY_NEEDED with MD_RECOVERY_SYNC, or LAZY_RECOVER for a
 * raid456 chunk first written): 0, or these bits. */
#define LLBITMAP_WANT_RESYNC MD_BITMAP_WANT_RESYNC
#define LLBITMAP_WANT_LAZY_RECOVER MD_BITMAP_WANT_LAZY_RECOVER
unsigned llbitmap_sync_wanted(struct mddev *mddev);
/* Seconds between daemon_work calls. */
unsigned llbitmap_daemon_sleep(struct mddev *mddev);
/* The chunk state (tests, examine). */
enum llbitmap_state llbitmap_chunk_state(struct mddev *mddev, uint64_t chunk);

/* NAME.md/llbitmap/ contents, as md's sysfs files (reads end in a
 * newline; "no bitmap\n" without one).  A store returns 0, -EINVAL for
 * what it does not accept (changing nothing), -ENODEV without a bitmap. */
void llbitmap_bits_show(struct mddev *mddev, GString *out);
void llbitmap_metadata_show(struct mddev *mddev, GString *out);
void llbitmap_daemon_sleep_show(struct mddev *mddev, GString *out);
int llbitmap_daemon_sleep_store(struct mddev *mddev, const char *buf);
void llbitmap_barrier_idle_show(struct mddev *mddev, GString *out);
int llbitmap_barrier_idle_store(struct mddev *mddev, const char *buf);
