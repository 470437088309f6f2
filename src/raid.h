/* The raidfs core: arrays (struct mddev), their members (struct md_rdev) and
 * the personality ops table each RAID level fills in.  The core owns IO
 * bookkeeping, superblock state and sync threads; a level owns only its
 * mapping and its redundancy. */
#pragma once
#include <glib.h>
#include <inttypes.h>
#include <pthread.h>
#include <linux/raid/md_p.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "badblocks.h"
#include "bitmap.h"
#include "superblock.h"

#define SECTOR_SHIFT 9

struct mddev;
struct md_attr;

/* Member flags, as md's rdev->flags. */
enum {
	RDEV_FAULTY     = 1 << 0,
	RDEV_IN_SYNC    = 1 << 1,
	RDEV_WRITEMOSTLY = 1 << 2,
	RDEV_WRITE_ERROR = 1 << 3,        /* md's WriteErrorSeen */
	RDEV_WANT_REPLACEMENT = 1 << 4,
	RDEV_BLOCKED    = 1 << 5,         /* md's Blocked, set from dev-NAME/state */
	/* md's Replacement: the member is copied from the one in its role
	 * (raid_disk), takes every write to it, and is read only once it
	 * has taken the role over. */
	RDEV_REPLACEMENT = 1 << 6,
};
#define MD_SB_WRITEMOSTLY 1       /* the superblock's devflags WriteMostly1 */

/* Member IO at absolute file offsets.  Every byte raidfs writes to a member
 * goes through one of these; a layer (fault injection, the power cut)
 * wraps the one below it, and NULL below means the plain file.  pread and
 * pwrite return bytes or -errno, the others 0 or -errno. */
struct member_io;
struct md_rdev;
struct member_io_ops {
	ssize_t (*pread)(struct member_io *io, struct md_rdev *rdev, void *buf,
			 size_t len, uint64_t pos);
	ssize_t (*pwrite)(struct member_io *io, struct md_rdev *rdev,
			  const void *buf, size_t len, uint64_t pos);
	int (*fdatasync)(struct member_io *io, struct md_rdev *rdev);
	/* PUNCH_HOLE|KEEP_SIZE */
	int (*punch)(struct member_io *io, struct md_rdev *rdev, uint64_t pos,
		     uint64_t len);
	void (*free)(struct member_io *io);
};

struct member_io {
	const struct member_io_ops *ops;
	struct member_io *lower;
};

struct md_rdev {
	struct mddev *mddev;
	char *path;
	char *name;               /* basename, as mdstat and dev-NAME show it */
	int fd;
	/* The top layer; NULL: plain file IO, batches through io_uring. */
	struct member_io *_Atomic io;
	/* The file takes no RWF_NOWAIT IO (tmpfs): io_uring would hand each
	 * of its reads and writes to a worker thread, which costs more than
	 * the copy itself, so its IO runs in the caller. */
	bool worker_io;
	/* Writes to the member that completed, and how many of them the
	 * last fdatasync covered: a flush passes over a member with nothing
	 * new, which on a disk is a cache flush command saved. */
	atomic_ullong writes_done, writes_synced;
	struct md_sb sb;          /* as loaded, then as last written */
	int desc_nr;              /* the slot in dev_roles (sb.dev_number) */
	int raid_disk;            /* role in the array, -1 for a spare */
	/* md's saved_raid_disk: the role a former member (re-added, or taken
	 * out of its role as faulty) goes back to when it is free; -1 none. */
	int saved_raid_disk;
	uint64_t data_offset;     /* sectors */
	uint64_t sectors;         /* data sectors usable on this member */
	/* Not in sync: sectors below it are recovered (the sync thread
	 * advances it while readers test it). */
	_Atomic uint64_t recovery_offset;
	atomic_int flags;
	/* md's: read errors lately (decayed by half per hour since the last,
	 * raid1/10) or in a row (raid456), and when the last one was. */
	atomic_uint read_errors;
	_Atomic gint64 last_read_error;   /* monotonic seconds; 0: none yet */
	atomic_ulong corrected_errors;    /* sectors rewritten and read back */
	struct badblocks badblocks;
	/* Re-added with a bitmap to its former role (md's saved_raid_disk
	 * with a bitmap): its recovery copies only the chunks the bitmap
	 * says it missed. */
	bool bitmap_recovery;
};

/* One piece of member IO; a request becomes a batch of these. */
struct mio {
	struct md_rdev *rdev;
	bool write;
	bool flush;               /* fdatasync the member; off/buf/len unused */
	bool abs;                 /* off is from the start of the file */
	uint64_t off;             /* bytes into the member's data area */
	void *buf;
	size_t len;
	int res;                  /* 0 or -errno once run */
	uint64_t covers;          /* a flush: the member's writes_done as it began */
};

/* md's sync_action values. */
enum sync_action {
	ACTION_IDLE, ACTION_FROZEN, ACTION_RESYNC, ACTION_RECOVER,
	ACTION_CHECK, ACTION_REPAIR,
};

/* The geometry alone, for a picture of where md keeps what (raidfs show):
 * the array need not run, or be here at all. */
struct md_geometry {
	int level;
	uint32_t layout;
	uint32_t chunk_sectors;   /* the picture's unit: the chunk, or 64 KiB */
	int raid_disks;
	uint64_t dev_sectors;     /* component size */
	const uint64_t *member_sectors; /* per slot: linear's and raid0's */
};
enum { CELL_P = -1, CELL_Q = -2, CELL_NONE = -3 };

struct md_personality {
	const char *name;         /* "raid1", as mdstat lists it */
	int level;
	int min_disks;
	int max_degraded;         /* members the level can lose (-1: any but one) */
	bool uses_chunk;          /* chunk size is part of the geometry */
	bool keeps_last_copy;     /* never fail the member holding the last copy */

	/* Would the array still hold all its data with the missing and faulty
	 * members gone, and slot too (-1: none)?  Absent: max_degraded says. */
	bool (*enough)(struct mddev *mddev, int slot);

	/* Refuse, before anything is written, a layout the level cannot run
	 * on raid_disks members (create's check; optional). */
	int (*check_geometry)(int raid_disks, uint32_t layout, char *err,
			      size_t errlen);
	/* Check geometry, build private state, set array_sectors. */
	int (*run)(struct mddev *mddev, char *err, size_t errlen);
	void (*free)(struct mddev *mddev);
	int (*read)(struct mddev *mddev, uint64_t off, size_t len, void *buf);
	int (*write)(struct mddev *mddev, uint64_t off, size_t len, const void *buf);
	/* The level's own files in NAME.md/ (md's raid5 sysfs group). */
	const struct md_attr *attrs;
	/* Write to the members what the level holds back (raid5's partial
	 * stripes waiting for the rest); md_flush and md_stop call it. */
	int (*writeback)(struct mddev *mddev);
	/* Resync/check/repair from sector; returns sectors covered or -errno.
	 * The level holds normal IO off what it works on itself (md's
	 * raise_barrier in raid1's sync_request, raid5's stripe locks). */
	int64_t (*sync_request)(struct mddev *mddev, uint64_t sector,
				uint64_t max_sectors, enum sync_action action);
	/* Punch the range out of the members (PUNCH_HOLE|KEEP_SIZE). */
	int (*discard)(struct mddev *mddev, uint64_t off, uint64_t len);
	/* md's io_min and io_opt in bytes; absent: logical block size and 0. */
	void (*io_hints)(struct mddev *mddev, unsigned *io_min, unsigned *io_opt);
	/* Instead of failing the member (levels without redundancy, as md's
	 * raid0_error and linear_error: md_fail_array). */
	void (*error_handler)(struct mddev *mddev, struct md_rdev *rdev);
	/* md's bitmap_sector: the array range [*sector, + *sectors) as the
	 * range of the space the bitmap covers it touches (raid456: whole
	 * stripes on the components).  Absent: the same sectors (raid1's
	 * component is the array, raid10's bitmap covers the array). */
	void (*bitmap_sector)(struct mddev *mddev, uint64_t *sector,
			      uint64_t *sectors);
	/* sync_request's sectors are the bitmap's too, so a resync or a
	 * re-add's recovery may skip what it says is in sync. */
	bool bitmap_bounds_sync;
	/* A level whose sync walks other sectors than the bitmap covers
	 * (raid10: member rows; its bitmap covers the array) asks the bitmap
	 * itself, block by block (md_bitmap_sync_skips), and says here below
	 * which bitmap sector a pass that reached sector has synced all
	 * (0: not known before the pass ends). */
	uint64_t (*bitmap_synced_below)(struct mddev *mddev, uint64_t sector,
					enum sync_action action);
	/* For such a level: whether the bitmap says nothing the member in
	 * role slot keeps at [sector, sector + sectors) was ever written, so
	 * a replacement need not copy it (md_do_sync's skip_sync_blocks). */
	bool (*member_bitmap_skips)(struct mddev *mddev, int slot, uint64_t sector,
				    uint64_t sectors);
	/* For pictures: up to rows rows of chunks that show the layout, the
	 * level choosing which (raid10's far copies sit far down).  row_of[i]
	 * is the member chunk row of picture row i, cells[i * raid_disks +
	 * slot] what is there: an array chunk number, CELL_P, CELL_Q or
	 * CELL_NONE.  Returns the rows filled. */
	int (*layout_rows)(const struct md_geometry *g, int rows,
			   uint64_t *row_of, int64_t *cells);
	/* Extra status in mdstat's second line ("[2/2] [UU]"). */
	void (*status)(struct mddev *mddev, GString *out);
	/* Hold normal IO off member sectors [sector, sector + max_sectors)
	 * of every member (md's raise_barrier, raid5's stripe locks) while
	 * fn copies them onto the replacements; the level may shorten the
	 * window.  Returns fn's result (sectors done or -errno). */
	int64_t (*hold_window)(struct mddev *mddev, uint64_t sector,
			       uint64_t max_sectors,
			       int64_t (*fn)(struct mddev *mddev, uint64_t sector,
					     uint64_t sectors));
};

/* The linear sector map a striping level exposes: array byte offset to
 * (slot, member byte offset), returning bytes contiguous on that member. */
typedef size_t (*md_map_fn)(struct mddev *mddev, uint64_t off, size_t len,
			    int *slot, uint64_t *dev_off);

struct mddev {
	char *name;               /* image name */
	int unit;                 /* N of mdN */
	const struct md_personality *pers;
	void *private;
	struct md_sb sb;          /* array-wide fields; per-member ones are rdev's */
	int level;
	uint32_t layout;
	uint32_t chunk_sectors;
	int raid_disks;
	uint64_t dev_sectors;     /* component size */
	uint64_t array_sectors;
	uint32_t logical_block_size;
	bool ro;
	bool ok_start_degraded;   /* -o run: md's start_dirty_degraded */

	const struct bitmap_operations *bitmap_ops;   /* NULL: no bitmap */
	/* md's bitmap_id while no bitmap is in use: what bitmap_type was last
	 * set to (an index of its types; 0: none). */
	atomic_int bitmap_id;
	struct bitmap *bitmap;
	/* md's bitmap_info.file: the classic bitmap lives in this file (at
	 * its start) rather than on the members; NULL: internal or none. */
	struct md_rdev *bitmap_file;
	/* md's bitmap_info.daemon_sleep, set by the bitmap's load or create:
	 * the core's bitmap daemon calls daemon_work this often. */
	atomic_uint bitmap_daemon_sleep_ms;
	GThread *bitmap_thread;

	/* Every member we hold, spares too; changed under sb_lock (readers
	 * outside the IO paths take it too). */
	GPtrArray *rdevs;
	/* raid_disks entries; NULL when missing.  Changed only with the array
	 * suspended (md_suspend), so a request sees one member set; atomic
	 * for the readers outside requests (control files, the sync thread
	 * between windows). */
	struct md_rdev *_Atomic *slots;
	/* md's mirrors[i].replacement / raid5's disks[i].replacement:
	 * raid_disks entries (NULL: none; the array NULL before md_run),
	 * changed as slots are. */
	struct md_rdev *_Atomic *replacements;
	/* Members removed at run time: their structs live until md_free. */
	GPtrArray *removed;
	atomic_int degraded;
	atomic_bool broken;       /* md's MD_BROKEN: writes fail, reads go on */
	atomic_bool fail_last_dev; /* md's: the last copy's member fails too */
	/* fsync: md_write_end counts completed writes; md_flush records the
	 * count it sampled once every member has flushed. */
	atomic_ullong writes_done;
	atomic_ullong writes_flushed;
	atomic_bool lost_writes;  /* acknowledged data never reached the members */
	/* The power cut: the members are gone with the power.  Their errors
	 * still fail them in memory, so IO ends, but no superblock is
	 * written and nothing is said. */
	atomic_bool power_off;
	atomic_bool power_cut_armed;  /* fault/power_cut armed: members added
	                                 since get the layer too */

	/* Superblock state, serialised by sb_lock. */
	pthread_mutex_t sb_lock;
	pthread_cond_t sb_cond;
	/* The bitmap daemon's own (under sb_lock): sb_cond wakes at every
	 * write's end, as safe mode needs; the daemon only at the stop. */
	pthread_cond_t bitmap_cond;
	uint64_t events;
	atomic_ullong resync_offset; /* MD_MAX_SECTOR when in sync */
	bool in_sync;             /* superblocks say clean */
	bool can_decrease_events; /* md's: the last update only went dirty */
	int writes_pending;
	gint64 last_write_us;
	/* Safe mode waits for the writes to end (not for its delay, which
	 * reads last_write_us when it runs out): only then does a write's
	 * end wake it. */
	bool safemode_waiting;
	atomic_uint safe_mode_delay_ms;
	/* md's max_corr_read_errors: a mirror past this many read errors
	 * (check_decay_read_errors' count) is failed, not fixed. */
	atomic_uint max_corr_read_errors;
#define MD_DEFAULT_MAX_CORRECTED_READ_ERRORS 20

	/* Sync thread (sync.c). */
	GThread *sync_thread;
	GThread *safemode_thread;
	pthread_mutex_t sync_lock;
	pthread_cond_t sync_cond;
	_Atomic enum sync_action sync_action; /* what runs or is requested */
	atomic_bool sync_frozen;
	/* md's MD_RECOVERY_INTR: a member failed, so the running pass stops
	 * and the sync thread chooses again without it. */
	atomic_bool recovery_intr;
	atomic_bool stopping;
	atomic_ullong curr_resync;        /* sector the running pass has reached */
	/* The running pass may skip what the bitmap says is in sync (md:
	 * not conf->fullsync), and whether the array stays degraded after
	 * it (start_sync's degraded); the sync thread's own. */
	bool sync_bitmap_bounded, sync_bitmap_degraded;
	/* Sectors of the window that sync_request covered without IO, the
	 * bitmap saying so inside it (md's *skipped), which the speed and the
	 * pass's count of sectors synced leave out; the sync thread's own. */
	uint64_t sync_skipped;
	/* md's curr_resync_completed: where the pass began, then its last
	 * checkpoint; sync_completed shows it. */
	atomic_ullong resync_completed;
	/* md's resync_min: where the next check or repair starts (an
	 * interrupted one's end; 0 once one finishes), in memory only. */
	atomic_ullong resync_min;
	/* md's resync_max: every pass waits at it (MD_MAX_SECTOR: "max");
	 * back to MD_MAX_SECTOR when a pass finishes. */
	atomic_ullong resync_max;
	/* md's oldest speed mark (position and time): sync_speed is the
	 * rate since then. */
	atomic_ullong resync_mark;
	atomic_llong resync_mark_us;
	/* Sectors of foreground IO (md_read, md_write) so far: the sync
	 * yields when it grows (md's is_mddev_idle over the disk stats). */
	atomic_ullong fg_sectors;
	atomic_ullong resync_mismatches;
	atomic_uint sync_speed_min, sync_speed_max;   /* KiB/s; 0: the default */
#define MD_SPEED_MIN_DEFAULT 1000     /* md's speed_limit_min sysctl */
#define MD_SPEED_MAX_DEFAULT 200000   /* and speed_limit_max */
	_Atomic enum sync_action last_sync_action;

	/* md's mddev_suspend, manage.c: requests (md_read, md_write, md_flush,
	 * md_discard), sync windows and the levels' own threads run between
	 * md_io_enter and md_io_exit; a change of the member set waits for
	 * none to run and holds new ones off meanwhile. */
	pthread_mutex_t io_lock;
	pthread_cond_t io_cond;
	atomic_int active_io;         /* no lock on a request's way in or out */
	atomic_int suspended;
	pthread_mutex_t reconfig_lock;    /* one member set change at a time */
	/* md's MD_RECOVERY_NEEDED: the sync thread should look for spares to
	 * put into empty roles (md_check_recovery). */
	atomic_bool recovery_needed;
	/* The bitmap asked for a resync bounded by it (its sync_wanted: md's
	 * llbitmap setting MD_RECOVERY_SYNC or MD_RECOVERY_LAZY_RECOVER). */
	atomic_bool bitmap_sync_pending;

	/* The mount's: the power cut calls it before touching the members, to
	 * take the array out of service and stop it once idle. */
	void (*power_lost)(struct mddev *mddev);
	/* The mount's: array_state inactive or clear (md's do_md_stop), from
	 * a request on the array's own control file.  The array leaves the
	 * mount stopped cleanly, its member files released; -EBUSY while its
	 * image is open. */
	int (*stop)(struct mddev *mddev);
	/* The mount's too: called after mddev->rdevs or slots changed (a
	 * member added, removed, or moved into or out of a role), with nothing
	 * locked, so its names (dev-NAME/, rdN) follow.  A removed member's
	 * struct stays allocated until md_free: a request may still be on
	 * its nodes. */
	void (*members_changed)(struct mddev *mddev);
	void *mount;
};

/* Locks are pthread's (GLib's futex-based ones are invisible to TSan);
 * condition variables wait on the monotonic clock, in GLib's microseconds. */
void md_cond_init(pthread_cond_t *cond);
void md_cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *lock,
			gint64 until_us);

/* raid.c */
extern const struct md_personality *const md_personalities[];
const struct md_personality *md_find_personality(int level);
int md_run(struct mddev *mddev, char *err, size_t errlen);
void md_start(struct mddev *mddev);
void md_stop(struct mddev *mddev);
void md_free(struct mddev *mddev);
int md_read(struct mddev *mddev, uint64_t off, size_t len, void *buf);
int md_write(struct mddev *mddev, uint64_t off, size_t len, const void *buf);
int md_flush(struct mddev *mddev);
/* Safe mode around member writes a level makes outside md_write. */
int md_write_start(struct mddev *mddev);
void md_write_end(struct mddev *mddev);
int md_update_sb(struct mddev *mddev);
/* Unit tests watch each superblock as it is about to be written. */
extern void (*md_sb_write_hook)(struct mddev *mddev, struct md_rdev *rdev);
void md_error(struct mddev *mddev, struct md_rdev *rdev);
/* md's "rdev_set_badblocks, else md_error" for data-area sectors a member
 * could neither read nor have rewritten. */
void md_bad_sectors(struct mddev *mddev, struct md_rdev *rdev, uint64_t sector,
		    uint64_t sectors);
void md_fail_array(struct mddev *mddev, struct md_rdev *rdev);
/* Data lost, or a member's error on a level without redundancy. */
bool md_broken(struct mddev *mddev);
/* Held-back data was dropped: every later md_flush reports EIO. */
void md_write_lost(struct mddev *mddev);
int md_in_sync_count(struct mddev *mddev);
bool md_enough(struct mddev *mddev, int slot);
uint64_t md_synced_upto(struct mddev *mddev);
bool rdev_usable(const struct md_rdev *rdev);
/* The replacement of role slot, or NULL. */
struct md_rdev *md_replacement(struct mddev *mddev, int slot);
/* The replacement the sync thread copies onto: working, not yet in sync,
 * its role's member in sync to copy from. */
bool md_replacing(struct mddev *mddev, int slot);
bool rdev_in_sync(const struct md_rdev *rdev);
/* Data-area sectors [sector, sector + sectors) may be read: the member is
 * in sync or recovered past them, and holds no recorded bad block there. */
bool rdev_readable(struct md_rdev *rdev, uint64_t sector, uint64_t sectors);
/* mdstat's [UU_] of the slots. */
void md_status_slots(struct mddev *mddev, GString *out);
const char *md_array_state(struct mddev *mddev);
/* md's set_in_sync (array_state clean): the superblocks say clean now;
 * -EBUSY while a write is in flight. */
int md_set_in_sync(struct mddev *mddev);

int md_discard(struct mddev *mddev, uint64_t off, uint64_t len);
/* The write-intent bitmap around member writes of the bitmap's sectors
 * (md_bitmap_start/md_bitmap_end): the bits are durable on every member
 * when start returns.  No bitmap: nothing. */
void md_bitmap_start_write(struct mddev *mddev, uint64_t sector, uint64_t sectors);
void md_bitmap_end_write(struct mddev *mddev, uint64_t sector, uint64_t sectors);
/* bitmap.c, for create: mdadm's add_internal_bitmap chunk (bytes) for
 * size sectors in room sectors (want 0: mdadm's default, at least 64M;
 * room 0: a bitmap file, CreateBitmap's default), or -EINVAL with a line
 * in err; and the new bitmap (superblock, every bit set, as mdadm's
 * write_bitmap) of *len bytes over cover sectors (raid10's array, the
 * component otherwise), for the member of sb or, as long as its bits and
 * no longer, a file. */
int md_bitmap_choose_chunk(uint64_t size, uint64_t room, uint64_t want,
			   uint32_t *chunk, char *err, size_t errlen);
uint8_t *md_bitmap_new(const struct md_sb *sb, uint64_t cover, uint32_t chunk,
		       bool file, size_t *len);
/* md's re-add test (super_1_validate, events_cleared from get_stats): the
 * classic bitmap holds every write since events, so a member that left
 * then needs only the chunks it says; false for no bitmap or another. */
bool md_bitmap_covers_since(struct mddev *mddev, uint64_t events);
/* A bitmap file given to mount (mdadm -A --bitmap=FILE): opened as a
 * role-less rdev once its superblock is md's classic one, whose uuid goes
 * to uuid; and whether that uuid is the array of sb's. */
int md_bitmap_file_open(const char *path, bool ro, struct md_rdev **out,
			uint8_t uuid[16], char *err, size_t errlen);
bool md_bitmap_uuid_matches(const uint8_t uuid[16], const struct md_sb *sb);
/* Sectors the bitmap covers: md's resync_max_sectors. */
uint64_t md_bitmap_sectors(struct mddev *mddev);
/* Whether parity at sector (of the bitmap's space) may be trusted: md's
 * blocks_synced, true without a bitmap that says otherwise. */
bool md_bitmap_blocks_synced(struct mddev *mddev, uint64_t sector);
/* md_do_sync's skip_sync_blocks over a whole range of the bitmap's
 * space: true when the bitmap says none of it needs the sync (llbitmap:
 * never written, or in sync on a resync), for a level whose sync windows
 * are not the bitmap's sectors and that asks block by block (raid10). */
bool md_bitmap_skips(struct mddev *mddev, uint64_t sector, uint64_t sectors);
/* md's md_bitmap_start_sync over a range of the bitmap's space, for a
 * level with bitmap_synced_below: true when the running pass is bounded
 * by the bitmap and no chunk of the range needs the sync; the chunks
 * that do are started. */
bool md_bitmap_sync_skips(struct mddev *mddev, uint64_t sector, uint64_t sectors);
/* Ask the bitmap what it wants of the sync thread and pass it on. */
void md_bitmap_check_wanted(struct mddev *mddev);
gint64 md_bitmap_daemon_sleep_us(struct mddev *mddev);
void md_io_hints(struct mddev *mddev, unsigned *io_min, unsigned *io_opt);
unsigned md_io_opt(struct mddev *mddev);

/* Member writes of a level with redundancy (md's write paths and their
 * end_write/handle_write_finished): on a member that has seen a write
 * error its recorded bad blocks are not written (WriteErrorSeen); a write
 * that fails is retried in blocks of block sectors (0: md's
 * narrow_write_error block) and the blocks that fail still are recorded
 * bad, the log written with the superblocks before this returns, or the
 * member fails when they cannot be (md's rdev_set_badblocks); a write
 * that lands over recorded bad blocks clears them (MadeGood).  Each
 * res is the write's first error, 0 for a skipped part. */
int md_write_batch(struct mddev *mddev, struct mio *v, unsigned n,
		   uint64_t block);
/* md's answer to a recovery window no in-sync member can give (all have
 * it recorded bad): the members being rebuilt, targets (rdev, off and
 * len), get it recorded bad too and recovery goes on; false when one
 * cannot record it, and recovery must stop (md's recovery_disabled). */
bool md_record_no_source(struct mddev *mddev, const struct mio *targets,
			 unsigned n);
/* The n copies of one write (the same bytes, each at its member's
 * offset), after md_write_batch: is every sector on an in-sync copy that
 * took the write without error and holds no bad block there?  md splits a
 * write at its copies' bad blocks and each part is done when one copy
 * took it whole. */
bool md_copies_written(const struct mio *copies, unsigned n);

/* Generic striped IO over a level's map function (linear, raid0). */
int md_map_rw(struct mddev *mddev, md_map_fn map, bool write, uint64_t off,
	      size_t len, void *buf);
int md_map_discard(struct mddev *mddev, md_map_fn map, uint64_t off,
		   uint64_t len);
int rdev_discard(struct md_rdev *rdev, uint64_t off, uint64_t len);

/* member.c */
int mio_run(struct mio *v, unsigned n);
/* Written since its last fdatasync began: a flush has work there. */
bool rdev_written(struct md_rdev *rdev);
/* The file fd (at path) becomes rdev's member file. */
void rdev_set_file(struct md_rdev *rdev, int fd, const char *path);
/* Whether fd's file system does IO without blocking (RWF_NOWAIT), as
 * io_uring needs to run it without a worker thread. */
bool member_takes_nowait(int fd);
/* Test seams: the next N io_uring submits / waits of mio_run fail. */
extern atomic_uint mio_fail_submits, mio_fail_waits;
/* open(2) of a member file: only a regular file or block device, never
 * blocking on another kind; on failure -errno and a line in err. */
int member_open(const char *path, int flags, char *err, size_t errlen);
/* member_open, read-only or read-write, and rdev_claim'ed. */
int member_open_claimed(const char *path, bool ro, char *err, size_t errlen);
int rdev_open(const char *path, bool ro, struct md_rdev **out, char *err, size_t errlen);
int rdev_open_bitmap_file(const char *path, bool ro, struct md_rdev **out,
			  char *err, size_t errlen);
void rdev_close(struct md_rdev *rdev);
/* Let the member's file go (and its claim) at once, the fd number kept by
 * null_fd's file (/dev/null) so that nothing stray reaches another file
 * opened under that number; rdev_close closes it later. */
void rdev_release_file(struct md_rdev *rdev, int null_fd);
int rdev_flush(struct md_rdev *rdev);
int rdev_write_sb(struct md_rdev *rdev);
/* One op through the layers from io down (io NULL: the plain file). */
ssize_t member_pread(struct member_io *io, struct md_rdev *rdev, void *buf,
		     size_t len, uint64_t pos);
ssize_t member_pwrite(struct member_io *io, struct md_rdev *rdev,
		      const void *buf, size_t len, uint64_t pos);
int member_fdatasync(struct member_io *io, struct md_rdev *rdev);
int member_punch(struct member_io *io, struct md_rdev *rdev, uint64_t pos,
		 uint64_t len);
/* Put a layer on top of the member's IO. */
void rdev_push_io(struct md_rdev *rdev, struct member_io *io);
/* The member's layer of that kind, or NULL. */
struct member_io *rdev_find_io(struct md_rdev *rdev,
			       const struct member_io_ops *ops);
/* Copy len bytes of the data area at off from src to dst inside the
 * kernel (copy_file_range: one copy, no user buffer; a reflink where the
 * file system shares blocks).  Only between plain member files; any
 * error, -EOPNOTSUPP for a member with an IO layer, and the caller goes
 * the usual way, which handles it. */
int rdev_copy(struct md_rdev *src, struct md_rdev *dst, uint64_t off,
	      size_t len);
uint64_t rdev_file_sectors(int fd);

/* claim.c */
int rdev_claim(int fd, bool shared, const char *path, char *err, size_t errlen);

/* sync.c */
void md_sync_start(struct mddev *mddev);
void md_sync_stop(struct mddev *mddev);
int md_sync_request_action(struct mddev *mddev, enum sync_action action);
/* md_check_recovery: spares into empty roles or as replacements, and
 * the recovery onto them started; the sync thread runs it between passes,
 * a control file may at once. */
void md_check_recovery(struct mddev *mddev);
/* A sync pass runs (not frozen, not idle). */
bool md_sync_running(struct mddev *mddev);
/* sync_min: EBUSY while a sync runs, EINVAL above sync_max. */
int md_sync_set_min(struct mddev *mddev, uint64_t sector);
/* sync_max (MD_MAX_SECTOR for "max"): EINVAL below sync_min or off a
 * chunk boundary, EBUSY lowered while a sync runs; wakes a waiting pass. */
int md_sync_set_max(struct mddev *mddev, uint64_t sector);
/* sync_speed: KiB/s over md's last marks. */
unsigned md_sync_speed(struct mddev *mddev, gint64 now_us);
/* md_do_sync's speed control, apart so the unit tests can drive it. */
#define SYNC_MARKS 10
struct sync_state {
	gint64 mark_us[SYNC_MARKS];
	uint64_t mark_pos[SYNC_MARKS];
	int last_mark;
	uint64_t last_events;     /* fg_sectors when last found busy */
};
void md_sync_marks_init(struct mddev *mddev, struct sync_state *st,
			uint64_t pos, gint64 now_us);
/* md's is_mddev_idle (init: start counting from now, and say busy). */
bool md_sync_idle(struct mddev *mddev, struct sync_state *st, bool init);
/* With the pass at pos: 0 to go on, else microseconds to wait before
 * asking again (above sync_speed_max, or above sync_speed_min with
 * foreground IO since the last look). */
gint64 md_sync_delay(struct mddev *mddev, struct sync_state *st, uint64_t pos,
		     gint64 now_us);
/* Wait as md_sync_delay says, each delay whole, until it says go or the
 * pass is interrupted (sync_lock not held). */
void md_sync_throttle(struct mddev *mddev, struct sync_state *st, uint64_t pos);
const char *md_sync_action_name(enum sync_action action);
int md_sync_action_parse(const char *s, enum sync_action *action);
void md_safemode_start(struct mddev *mddev);

/* manage.c: changing the member set of a running array (md's hot_add,
 * hot_remove, remove_and_add_spares, state_store). */
void md_io_enter(struct mddev *mddev);
void md_io_exit(struct mddev *mddev);
void md_suspend(struct mddev *mddev);
void md_resume(struct mddev *mddev);
/* power_cut.c: a member joining an array whose power cut is armed is
 * armed as well, before anything is written to it. */
void md_power_cut_join(struct mddev *mddev, struct md_rdev *rdev);
/* md_wait_for_blocked_rdev: a write to a member flagged blocked waits
 * until the flag goes (dev-NAME/state "-blocked"), the member fails, or
 * the array is being suspended or stopped; md_unblocked wakes it. */
void md_wait_blocked(struct mddev *mddev, const struct mio *v, unsigned n);
void md_unblocked(struct mddev *mddev);
/* md's new_dev_store and mdadm --add: open and claim the file at path,
 * write it a superblock of this array as a spare and add it; a former
 * member goes back to its old role when that is free.  0 or -errno
 * (nothing written on a refusal), with a line in err. */
int md_hot_add(struct mddev *mddev, const char *path, char *err, size_t errlen);
/* dev-NAME/state "remove": a faulty member or a spare leaves the array and
 * its file is released; -EBUSY for a working member. */
int md_hot_remove(struct mddev *mddev, struct md_rdev *rdev);
/* dev-NAME/state "re-add": a faulty member comes back as a spare for its
 * old role (no bitmap: recovered in full); -EBUSY when it is not faulty. */
int md_re_add(struct mddev *mddev, struct md_rdev *rdev);
/* md's remove_and_add_spares: spares take the empty roles (a faulty
 * member is taken out of its role first); true when one did.  The sync
 * thread calls it between passes. */
bool md_add_spares(struct mddev *mddev);
/* Wake the sync thread to look for spares (md's MD_RECOVERY_NEEDED). */
void md_wakeup_recovery(struct mddev *mddev);
/* md's end of a replacement (spare_active, then raid1_remove_disk's swap):
 * the replacement, copied to the end, takes its role; the member it
 * replaced is marked faulty and leaves the role. */
void md_replace_done(struct mddev *mddev, struct md_rdev *rep);
/* md's slot_store on a spare with the sync frozen: it takes role slot
 * when that is empty, or becomes the replacement of the member there
 * that wants one; -EBUSY otherwise. */
int md_slot_store(struct mddev *mddev, struct md_rdev *rdev, int slot);
/* The members' set changed: tell the mount (nothing may be locked). */
void md_members_changed(struct mddev *mddev);
/* A copy of mddev->rdevs, taken under sb_lock (the core changes the list
 * only under it): for readers outside the core's locks. */
GPtrArray *md_rdevs_copy(struct mddev *mddev);
void random_uuid(uint8_t uuid[16]);

/* assemble.c */
int md_assemble(const char *const *paths, int npaths,
		const char *const *bitmap_paths, bool ro, bool run,
		GPtrArray *arrays, int *members);

/* personalities */
extern const struct md_personality linear_personality;
extern const struct md_personality raid0_personality;
extern const struct md_personality raid1_personality;
extern const struct md_personality raid4_personality;
extern const struct md_personality raid5_personality;
extern const struct md_personality raid6_personality;
extern const struct md_personality raid10_personality;
