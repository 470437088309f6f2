/* Unit-test arrays: an mddev run over O_TMPFILE members, no superblocks. */
#pragma once
#include "../src/raid.h"

/* n members of sectors[i] data sectors each, at unequal data offsets on
 * purpose, with room for v1.2 superblocks (none written yet); the
 * component size is the smallest member. */
struct mddev *test_array(int level, uint32_t layout, uint32_t chunk_sectors,
			 int n, const uint64_t *sectors);

/* A spare of sectors data sectors added to m (its next dev_number), as
 * assembly adds one found with the members. */
struct md_rdev *test_spare(struct mddev *m, uint64_t sectors);
/* A member of m over an O_TMPFILE, in role slot (-1: none), named mSLOT,
 * in sync; the caller puts it in m->rdevs and m->slots. */
struct md_rdev *test_member(struct mddev *m, int slot, uint64_t sectors);

/* Bytes at a sector of member i's data area, behind the array's back. */
void member_read(struct mddev *m, int i, uint64_t sector, void *buf, size_t len);
void member_write(struct mddev *m, int i, uint64_t sector, const void *buf,
		  size_t len);

/* Garbage over sectors of member i's data area, recorded there as bad
 * blocks (acknowledged, as loaded from the log). */
void member_badblocks(struct mddev *m, int i, uint64_t sector, uint64_t sectors);

/* Members 0 and 1 both hold the array's first 64 KiB (mirrors): with bad
 * blocks on each, apart, a read over them still returns the data (md's
 * read_balance serves it in parts); a sector bad on both fails, the
 * sectors around it read, and no member fails. */
void check_badblocks_apart(struct mddev *m);

/* A layer on member i (pushed once, kept) fails with EIO every read that
 * overlaps the ranges of data-area sectors given, until a write covers
 * them (a disk remapping on write, as the fault tree's read_errors). */
void member_read_errors(struct mddev *m, int i, uint64_t sector,
			uint64_t sectors);
/* The same, but writes do not remap them: a rewrite never reads back. */
void member_stuck_read_errors(struct mddev *m, int i, uint64_t sector,
			      uint64_t sectors);
bool member_has_read_errors(struct mddev *m, int i);
/* on: every read of member i fails, but for one read of exactly what the
 * same thread wrote there lately (md's read-back after its rewrite); off:
 * every read works again. */
void member_fail_reads(struct mddev *m, int i, bool on);

/* Swap a member's fd for one that fails reads (write-only) or everything
 * (a directory), as a failing disk would; returns the fd to restore. */
int swap_fd(struct md_rdev *r, bool writes_fail);
void restore_fd(struct md_rdev *r, int saved);

/* A read of off..+len into got fails on member slot, and a write of new
 * over the same range (the range held old) lands before the read error
 * is fixed.  The caller checks the copies and what the read returned. */
void read_error_races_write(struct mddev *m, int slot, uint64_t off,
			    size_t len, const void *old, const void *new,
			    void *got);

/* Writers, readers hitting read errors on member slot and resync windows
 * over sync_from..sync_to (none if empty) at once, on STRESS_WRITERS ranges of
 * STRESS_RANGE sectors from first; then checks the copies agree and hold
 * the last writes. */
#define STRESS_WRITERS 4
#define STRESS_RANGE 16
void stress_read_errors(struct mddev *m, int slot, uint64_t first,
			uint64_t sync_from, uint64_t sync_to);

/* One whole sync pass as the sync thread runs it; the mismatches found. */
uint64_t run_sync(struct mddev *m, enum sync_action action);
