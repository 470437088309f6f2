/* Unit-test arrays: an mddev run over O_TMPFILE members, no superblocks. */
#pragma once
#include "../src/raid.h"

/* n members of sectors[i] data sectors each, at unequal data offsets on
 * purpose; the component size is the smallest member. */
struct mddev *test_array(int level, uint32_t layout, uint32_t chunk_sectors,
			 int n, const uint64_t *sectors);
