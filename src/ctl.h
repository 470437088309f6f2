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

#define ATTR_RO(n) { #n, 0444, n##_show, NULL }
#define ATTR_RW(n) { #n, 0644, n##_show, n##_store }
#define ATTR_WO(n) { #n, 0200, NULL, n##_store }

extern const struct md_attr md_attrs[];     /* NULL-name terminated */
extern const struct md_attr rdev_attrs[];
extern const struct md_attr md_fault_attrs[];   /* NAME.md/fault/ */
extern const struct md_attr rdev_fault_attrs[]; /* dev-NAME/fault/ */

void md_mdstat(GPtrArray *arrays, GString *out);

/* The value of a write of size bytes: one trailing newline dropped (md's
 * stores take echo's); NULL for what no store takes (a NUL inside). */
char *ctl_value(const char *buf, size_t size);

/* The stores' value parsers, one function each (the fuzzers call them):
 * -EINVAL for whatever md's store would refuse.  sync_action's is
 * md_sync_action_parse (raid.h). */
/* Decimal digits, all of val, at most UINT_MAX. */
int ctl_parse_uint(const char *val, unsigned *out);
/* Decimal digits, all of val, 64 bits. */
int ctl_parse_u64(const char *val, uint64_t *out);
/* md's kstrtobool: y/n, t/f, 1/0, on/off, by their first letters. */
int ctl_parse_bool(const char *val, bool *out);
/* sync_speed_min/max: a positive number, or "system" giving 0. */
int ctl_parse_speed(const char *val, unsigned *out);
/* safe_mode_delay: seconds with up to 3 decimals, in ms, at most max_ms. */
int ctl_parse_msec(const char *val, unsigned max_ms, unsigned *ms);
#define SAFE_MODE_DELAY_MAX_MS 3600000u
/* fault/power_cut: arm, off, cut, or "cut SEED" (decimal, 64 bits). */
enum { PC_ARM, PC_OFF, PC_CUT, PC_CUT_SEED };
int ctl_parse_power_cut(const char *val, uint64_t *seed);
/* NAME.md/array_state: md's words, or -EINVAL. */
enum { AS_CLEAR, AS_INACTIVE, AS_SUSPENDED, AS_READONLY, AS_READ_AUTO,
       AS_CLEAN, AS_ACTIVE, AS_WRITE_PENDING, AS_ACTIVE_IDLE, AS_BROKEN };
int ctl_parse_array_state(const char *val);
/* dev-NAME/state: the command, or -EINVAL. */
enum {
	RDEV_STATE_FAULTY, RDEV_STATE_REMOVE, RDEV_STATE_READD, RDEV_STATE_SPARE,
	RDEV_STATE_WANT_REPLACEMENT, RDEV_STATE_NO_WANT_REPLACEMENT,
	RDEV_STATE_WRITEMOSTLY, RDEV_STATE_NO_WRITEMOSTLY, RDEV_STATE_BLOCKED,
	RDEV_STATE_NO_BLOCKED,
};
int ctl_parse_rdev_state(const char *val);
/* dev-NAME/fault/read_errors, write_errors, corrupt: "SECTOR LENGTH" adds,
 * "-SECTOR LENGTH" removes, "clear"; LENGTH at least 1, no wrap.  The op,
 * or -EINVAL; the bounds of the member are the store's to check. */
enum { FAULT_ADD, FAULT_REMOVE, FAULT_CLEAR };
int ctl_parse_fault_range(const char *val, uint64_t *sector, uint64_t *len);
