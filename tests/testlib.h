/* Unit-test arrays: an mddev run over O_TMPFILE members, no superblocks. */
#pragma once
#include "../src/raid.h"

/* n members of sectors[i] data sectors each, at unequal data offsets on
 * purpose, with room for v1.2 superblocks (none written yet); the
 * component size is the smallest member. */
struct mddev *test_array(int level, uint32_t layout, uint32_t chunk_sectors,
			 int n, const uint64_t *sectors);

/* Bytes at a sector of member i's data area, behind the array's back. */
void member_read(struct mddev *m, int i, uint64_t sector, void *buf, size_t len);
void member_write(struct mddev *m, int i, uint64_t sector, const void *buf,
		  size_t len);

/* One whole sync pass as the sync thread runs it; the mismatches found. */
uint64_t run_sync(struct mddev *m, enum sync_action action);
