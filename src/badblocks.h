/* md's bad-block list of a member (struct badblocks, block/badblocks.c):
 * the ranges of member sectors md recorded as holding no data, kept as the
 * v1 superblock's bad-block log.  Sectors are absolute on the member, as in
 * md (is_badblock adds data_offset).  Every member read asks, so checks
 * share the lock and an empty list costs one atomic load; set and clear
 * (recording new bad blocks on write errors) take it alone. */
#pragma once
#include <glib.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define MAX_BADBLOCKS 512         /* md: one page of entries */
#define BB_MAX_LEN    512         /* md: blocks one entry covers at most */
#define BB_MAX_SHIFT  16          /* md writes 0; beyond a 32 MiB block is no disk's */
#define BB_LOG_MAX_SECTORS 8      /* md reads at most one page of log */

struct bb_range {
	uint64_t start, len;      /* sectors */
	bool ack;                 /* in the on-disk log (md's BB_ACK) */
};

struct badblocks {
	pthread_rwlock_t lock;
	struct bb_range *ranges;  /* sorted, neither overlapping nor adjacent */
	atomic_int count;
	int shift;                /* blocks of 1 << shift sectors; -1: no log */
	bool changed;             /* differs from the log on the member */
	int64_t sector;           /* the log: sectors from the superblock */
	unsigned size;            /* its sectors */
};

/* enable false: the member has no log, so nothing can be recorded. */
void badblocks_init(struct badblocks *bb, bool enable);
void badblocks_exit(struct badblocks *bb);
/* Record [s, s + sectors), widened to whole blocks; false when the list
 * is full or there is no log (md then fails the member). */
bool badblocks_set(struct badblocks *bb, uint64_t s, uint64_t sectors, bool ack);
/* Forget the whole blocks of [s, s + sectors); false when a split would
 * overflow the list. */
bool badblocks_clear(struct badblocks *bb, uint64_t s, uint64_t sectors);
/* 0: [s, s + sectors) holds no bad block; 1: it does, all acknowledged;
 * -1: some not yet acknowledged.  *first_bad and *bad_sectors: the first
 * range that overlaps. */
int badblocks_check(struct badblocks *bb, uint64_t s, uint64_t sectors,
		    uint64_t *first_bad, uint64_t *bad_sectors);
/* md's badblocks_show: "SECTOR LENGTH\n" per entry (at most BB_MAX_LEN
 * blocks each, as md keeps them); unack: only unacknowledged ones. */
void badblocks_show(struct badblocks *bb, GString *out, bool unack);

/* md's super_1_sync: a list changed since the last encode, and not
 * empty, as the on-disk log of bytes (little-endian entries of at most
 * BB_MAX_LEN blocks, all-ones after the last); it counts as written from
 * now on.  False, log untouched, otherwise. */
bool badblocks_encode(struct badblocks *bb, uint8_t *log, size_t bytes);
/* md's badblocks_ack: the log is on the member; unless the list changed
 * since it was encoded, every entry is acknowledged. */
void badblocks_ack(struct badblocks *bb);

struct md_rdev;
struct md_sb;
/* md's rdev_set_badblocks: record data-area sectors [s, s + sectors) as
 * bad, unacknowledged until the log is written; false when they cannot
 * be (no log, list or log full), and the member must fail.  A faulty
 * member records nothing and needs nothing. */
bool rdev_set_badblocks(struct md_rdev *rdev, uint64_t s, uint64_t sectors);
/* md's rdev_clear_badblocks: those sectors were written (MadeGood); the
 * log follows with the next superblock write. */
void rdev_clear_badblocks(struct md_rdev *rdev, uint64_t s, uint64_t sectors);
/* Write the member's log when the list changed (md's bb_page write with
 * the superblock); *written says whether it was, for badblocks_ack. */
int rdev_write_bblog(struct md_rdev *rdev, bool *written);
/* md's is_badblock: s in the member's data area; *first_bad is too. */
int is_badblock(struct md_rdev *rdev, uint64_t s, uint64_t sectors,
		uint64_t *first_bad, uint64_t *bad_sectors);
bool rdev_has_badblock(struct md_rdev *rdev, uint64_t s, uint64_t sectors);
/* The sectors from s (at most sectors) that are all bad or all good on
 * the member: md's sync_request ends its window there. */
uint64_t rdev_badblock_run(struct md_rdev *rdev, uint64_t s, uint64_t sectors);

/* At member open: badblocks_validate, then bb initialised (recording
 * disabled without a log) and the log read and decoded (md's
 * super_1_load).  0, or -EINVAL/-EIO with one line in err naming the
 * field or entry. */
int badblocks_load(int fd, const struct md_sb *sb, uint64_t member_sectors,
		   struct badblocks *bb, char *err, size_t errlen);
/* The bblog_* fields against the member file (member_sectors long): a log
 * of at most md's 8 sectors and shift 16, inside the file, clear of the
 * superblock and the data area; no recorded bad blocks without a log. */
int badblocks_validate(const struct md_sb *sb, uint64_t member_sectors,
		       char *err, size_t errlen);
/* The log's bblog_size * 512 bytes, as on the member, into bb: entries of
 * nonzero length inside the data area, up to md's list size. */
int badblocks_decode(const struct md_sb *sb, const uint8_t *log,
		     struct badblocks *bb, char *err, size_t errlen);
