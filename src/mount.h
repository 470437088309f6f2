/* The daemon: options of "raidfs mount" and the FUSE service. */
#pragma once
#include "raid.h"

struct mount_opts {
	bool ro, allow_other, debug, foreground, run;
	bool no_writeback_cache;  /* every write a round trip to the daemon */
	unsigned threads;
	unsigned sync_speed_min, sync_speed_max;   /* 0: md's defaults */
	GPtrArray *bitmaps; /* bitmap=PATH and --bitmap: classic bitmap files */
	int ready_fd;       /* the waiting parent's pipe; -1 in the foreground */
};

int raidfs_serve(GPtrArray *arrays, const char *mountpoint,
		 const struct mount_opts *o);
