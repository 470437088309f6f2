/* Write-intent bitmaps, one ops table per type as md's bitmap_operations:
 * none, the classic internal bitmap (version 4) and, later, llbitmap. */
#pragma once
#include <glib.h>
#include <stdbool.h>

struct mddev;
struct md_rdev;

struct bitmap_operations {
	const char *name;         /* as bitmap_type shows it */
	/* Read and check the bitmap superblock; private state in mddev. */
	int (*load)(struct mddev *mddev, char *err, size_t errlen);
	void (*free)(struct mddev *mddev);
	/* With every superblock write: the member's bitmap follows the array,
	 * dirty (bits set) before data may change, clean once it is safe. */
	int (*store)(struct mddev *mddev, struct md_rdev *rdev, bool dirty);
	void (*status)(struct mddev *mddev, GString *out);   /* mdstat line */
};

extern const struct bitmap_operations bitmap_ops;
