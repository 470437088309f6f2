/* The control directory NAME.md/ (md's sysfs attributes) and mdstat. */
#pragma once
#include "raid.h"

struct md_attr {
	const char *name;
	mode_t mode;
	/* rdev is NULL for array attributes. */
	void (*show)(struct mddev *mddev, struct md_rdev *rdev, GString *out);
	int (*store)(struct mddev *mddev, struct md_rdev *rdev, const char *val);
};

extern const struct md_attr md_attrs[];     /* NULL-name terminated */
extern const struct md_attr rdev_attrs[];
extern const struct md_attr md_fault_attrs[];   /* NAME.md/fault/ */

void md_mdstat(GPtrArray *arrays, GString *out);
/* A decimal unsigned, all of val: 0, or -EINVAL. */
int ctl_parse_uint(const char *val, unsigned *out);
