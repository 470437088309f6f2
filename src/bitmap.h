/* Write-intent bitmaps, one ops table per type as md's bitmap_operations
 * (md-bitmap.h): the classic bitmap (version 4, bitmap.c) and the lockless
 * llbitmap (version 6, llbitmap.c); no table at all is md's "none".
 *
 * Offsets and lengths are in 512-byte sectors of the space the bitmap
 * covers (md's resync_max_sectors: the component for most levels, the
 * array for raid10), as md's personalities hand them over.  A member the
 * core does not call is optional: NULL means the type has nothing to do. */
#pragma once
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

struct mddev;
struct md_rdev;
struct md_attr;

/* start_write, end_write, start_discard, end_discard: md_bitmap_fn */
typedef void md_bitmap_fn(struct mddev *mddev, uint64_t offset, uint64_t sectors);

/* bitmap_super_t's version says the type (md's bitmap_type): */
#define BITMAP_MAJOR_HI 4          /* classic, bitmap.c (3: older, same) */
#define BITMAP_MAJOR_LOCKLESS 6    /* llbitmap.c */

#define MD_BITMAP_WANT_RESYNC 1u
#define MD_BITMAP_WANT_LAZY_RECOVER 2u

struct bitmap_operations {
	const char *name;         /* as bitmap_type shows it */

	/* Lifecycle.  create lays a new bitmap down on every member (raidfs
	 * create, or a bitmap added to a running array); load reads and checks
	 * the one the members carry, private state in mddev->bitmap; destroy
	 * frees it after flush made everything durable. */
	int (*create)(struct mddev *mddev, char *err, size_t errlen);
	int (*load)(struct mddev *mddev, char *err, size_t errlen);
	void (*flush)(struct mddev *mddev);
	void (*destroy)(struct mddev *mddev);

	/* The write path.  start_write before a write reaches any member,
	 * end_write once it reached all it will; unplug(mddev, true) returns
	 * when the bits start_write set are durable on every member, which
	 * the core calls before the data is written. */
	md_bitmap_fn *start_write;
	md_bitmap_fn *end_write;
	md_bitmap_fn *start_discard;
	md_bitmap_fn *end_discard;
	void (*unplug)(struct mddev *mddev, bool sync);

	/* Syncs.  skip_sync_blocks: sectors from offset the sync may skip (0:
	 * none); blocks_synced: whether raid456 may trust parity at offset;
	 * start_sync: whether the sync must do the *blocks sectors at offset
	 * (it sets how many the answer covers); end_sync, cond_end_sync and
	 * close_sync as md's. */
	uint64_t (*skip_sync_blocks)(struct mddev *mddev, uint64_t offset);
	bool (*blocks_synced)(struct mddev *mddev, uint64_t offset);
	bool (*start_sync)(struct mddev *mddev, uint64_t offset, uint64_t *blocks,
			   bool degraded);
	void (*end_sync)(struct mddev *mddev, uint64_t offset, uint64_t *blocks);
	void (*cond_end_sync)(struct mddev *mddev, uint64_t offset, bool force);
	void (*close_sync)(struct mddev *mddev);

	/* Every superblock write: the member's bitmap superblock follows the
	 * array's events (md's update_sb); -errno when it cannot. */
	int (*update_sb)(struct mddev *mddev, struct md_rdev *rdev);
	/* Mark [s, e] (bitmap chunks) to be synced: md's dirty_bits, for a
	 * member re-added with an older event count. */
	void (*dirty_bits)(struct mddev *mddev, uint64_t s, uint64_t e);
	/* The periodic work, every daemon_sleep: clear what went idle. */
	void (*daemon_work)(struct mddev *mddev);
	/* What state changes asked of the sync thread since the last call:
	 * 0 or MD_BITMAP_WANT_* bits (md's llbitmap sets MD_RECOVERY_NEEDED
	 * with MD_RECOVERY_SYNC, or MD_RECOVERY_LAZY_RECOVER for a raid456
	 * chunk's first write).  Cheap when there is nothing: the core asks
	 * after every write while no request is pending, and every
	 * daemon_sleep. */
	unsigned (*sync_wanted)(struct mddev *mddev);

	void (*status)(struct mddev *mddev, GString *out);   /* mdstat line */

	/* md's group: the type's control files, in NAME.md/group_name/
	 * (bitmap/, llbitmap/); NULL-name terminated, NULL for none. */
	const char *group_name;
	const struct md_attr *group;
};

extern const struct bitmap_operations bitmap_ops;     /* version 4 */
extern const struct bitmap_operations llbitmap_ops;   /* version 6 */
