/* Control files with the names, formats and meanings of md's sysfs
 * attributes (Documentation/admin-guide/md.rst), and /proc/mdstat. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ctl.h"


static void level_show(struct mddev *mddev, struct md_rdev *rdev, GString *out)
{
	(void)rdev;
	g_string_append(out, md_level_name(mddev->level));
}

static void raid_disks_show(struct mddev *mddev, struct md_rdev *rdev, GString *out)
{
	(void)rdev;
	g_string_append_printf(out, "%d", mddev->raid_disks);
}

static void chunk_size_show(struct mddev *mddev, struct md_rdev *rdev, GString *out)
{
	(void)rdev;
	g_string_append_printf(out, "%u", mddev->chunk_sectors << SECTOR_SHIFT);
}

static void layout_show(struct mddev *mddev, struct md_rdev *rdev, GString *out)
{
	(void)rdev;
	g_string_append_printf(out, "%u", mddev->layout);
}

static void metadata_version_show(struct mddev *mddev, struct md_rdev *rdev,
				  GString *out)
{
	(void)rdev;
	if (mddev->sb.major == 0)
		g_string_append(out, "0.90");
	else
		g_string_append_printf(out, "1.%d", mddev->sb.minor);
}

static void uuid_show(struct mddev *mddev, struct md_rdev *rdev, GString *out)
{
	const uint8_t *u = mddev->sb.set_uuid;

	(void)rdev;
	for (int i = 0; i < 16; i++)
		g_string_append_printf(out, "%s%02x",
				       i == 4 || i == 6 || i == 8 || i == 10 ? "-" : "",
				       u[i]);
}

static void array_state_show(struct mddev *mddev, struct md_rdev *rdev,
			     GString *out)
{
	(void)rdev;
	g_string_append(out, md_array_state(mddev));
}

int ctl_parse_array_state(const char *val)
{
	static const char *const words[] = {
		[AS_CLEAR] = "clear", [AS_INACTIVE] = "inactive",
		[AS_SUSPENDED] = "suspended", [AS_READONLY] = "readonly",
		[AS_READ_AUTO] = "read-auto", [AS_CLEAN] = "clean",
		[AS_ACTIVE] = "active", [AS_WRITE_PENDING] = "write-pending",
		[AS_ACTIVE_IDLE] = "active-idle", [AS_BROKEN] = "broken",
	};

	for (unsigned i = 0; i < G_N_ELEMENTS(words); i++)
		if (strcmp(val, words[i]) == 0)
			return i;
	return -EINVAL;
}

/* md's array_state_store, for an array that runs: inactive and clear stop
 * it (it leaves the mount); clean marks it clean unless a write is in
 * flight; active leaves it as it is (md goes dirty only on a write).  A
 * read-only array cannot become writable here (md's EROFS for read-only
 * members), nor a writable one read-only: readonly and read-auto are
 * refused, and so are the states md never takes. */
static int array_state_store(struct mddev *mddev, struct md_rdev *rdev,
			     const char *val)
{
	(void)rdev;
	switch (ctl_parse_array_state(val)) {
	case AS_CLEAR:
	case AS_INACTIVE:
		return mddev->stop ? mddev->stop(mddev) : -EBUSY;
	case AS_CLEAN:
		return mddev->ro ? -EROFS : md_set_in_sync(mddev);
	case AS_ACTIVE:
		return mddev->ro ? -EROFS : 0;
	default:
		return -EINVAL;
	}
}

static void array_size_show(struct mddev *mddev, struct md_rdev *rdev,
			    GString *out)
{
	(void)rdev, (void)mddev;
	/* md's: a size set by hand, else the personality's, "default" */
	g_string_append(out, "default");
}

static void component_size_show(struct mddev *mddev, struct md_rdev *rdev,
				GString *out)
{
	(void)rdev;
	g_string_append_printf(out, "%" PRIu64, mddev->dev_sectors / 2);
}

static void degraded_show(struct mddev *mddev, struct md_rdev *rdev, GString *out)
{
	(void)rdev;
	g_string_append_printf(out, "%d", atomic_load(&mddev->degraded));
}

static void logical_block_size_show(struct mddev *mddev, struct md_rdev *rdev,
				    GString *out)
{
	(void)rdev;
	g_string_append_printf(out, "%u", mddev->logical_block_size);
}

/* md reports these through the block queue (queue/minimum_io_size and
 * queue/optimal_io_size); raidfs has no queue directory, so they live here
 * under the same names. */
static void minimum_io_size_show(struct mddev *mddev, struct md_rdev *rdev,
				 GString *out)
{
	unsigned io_min, io_opt;

	(void)rdev;
	md_io_hints(mddev, &io_min, &io_opt);
	g_string_append_printf(out, "%u", io_min);
}

static void optimal_io_size_show(struct mddev *mddev, struct md_rdev *rdev,
				 GString *out)
{
	unsigned io_min, io_opt;

	(void)rdev;
	md_io_hints(mddev, &io_min, &io_opt);
	g_string_append_printf(out, "%u", io_opt);
}

static void sync_action_show(struct mddev *mddev, struct md_rdev *rdev,
			     GString *out)
{
	(void)rdev;
	enum sync_action a = mddev->sync_frozen ? ACTION_FROZEN
						: atomic_load(&mddev->sync_action);
	g_string_append(out, md_sync_action_name(a));
}

static int sync_action_store(struct mddev *mddev, struct md_rdev *rdev,
			     const char *val)
{
	enum sync_action a;

	(void)rdev;
	if (md_sync_action_parse(val, &a) < 0)
		return -EINVAL;
	return md_sync_request_action(mddev, a);
}

static void last_sync_action_show(struct mddev *mddev, struct md_rdev *rdev,
				  GString *out)
{
	(void)rdev;
	/* md's before any sync ran: a pass never leaves idle here */
	g_string_append(out, mddev->last_sync_action == ACTION_IDLE ? "none" :
			md_sync_action_name(mddev->last_sync_action));
}

/* md's: no sync thread running (idle, or frozen) says none. */
static bool sync_running(struct mddev *mddev)
{
	return !mddev->sync_frozen &&
	       atomic_load(&mddev->sync_action) != ACTION_IDLE;
}

/* md's curr_resync_completed: where the pass began, then its checkpoints. */
static void sync_completed_show(struct mddev *mddev, struct md_rdev *rdev,
				GString *out)
{
	(void)rdev;
	if (!sync_running(mddev))
		g_string_append(out, "none");
	else
		g_string_append_printf(out, "%llu / %" PRIu64,
				       (unsigned long long)atomic_load(&mddev->resync_completed),
				       mddev->dev_sectors);
}

static unsigned sync_rate(struct mddev *mddev)
{
	return md_sync_speed(mddev, g_get_monotonic_time());
}

static void sync_speed_show(struct mddev *mddev, struct md_rdev *rdev, GString *out)
{
	(void)rdev;
	if (!sync_running(mddev))
		g_string_append(out, "none");
	else
		g_string_append_printf(out, "%u", sync_rate(mddev));
}

static void sync_min_show(struct mddev *mddev, struct md_rdev *rdev, GString *out)
{
	(void)rdev;
	g_string_append_printf(out, "%llu",
			       (unsigned long long)atomic_load(&mddev->resync_min));
}

/* md's min_sync_store: not while a sync runs, rounded down to 4 KiB. */
static int sync_min_store(struct mddev *mddev, struct md_rdev *rdev,
			  const char *val)
{
	uint64_t v;

	(void)rdev;
	if (ctl_parse_u64(val, &v) < 0)
		return -EINVAL;
	return md_sync_set_min(mddev, v & ~7ull);
}

static void sync_max_show(struct mddev *mddev, struct md_rdev *rdev, GString *out)
{
	uint64_t max = atomic_load(&mddev->resync_max);

	(void)rdev;
	if (max == MD_MAX_SECTOR)
		g_string_append(out, "max");
	else
		g_string_append_printf(out, "%llu", (unsigned long long)max);
}

/* md's max_sync_store: "max" or a sector on a chunk boundary. */
static int sync_max_store(struct mddev *mddev, struct md_rdev *rdev,
			  const char *val)
{
	uint64_t v = MD_MAX_SECTOR;

	(void)rdev;
	if (strcmp(val, "max") && (ctl_parse_u64(val, &v) < 0 || v == MD_MAX_SECTOR))
		return -EINVAL;
	return md_sync_set_max(mddev, v);
}

char *ctl_value(const char *buf, size_t size)
{
	if (size && buf[size - 1] == '\n')
		size--;
	if (memchr(buf, '\0', size))
		return NULL;
	return g_strndup(buf, size);
}

/* kstrtouint's digits, without its optional '+': a sign, a space, a base
 * prefix or a value past UINT_MAX is no number. */
int ctl_parse_uint(const char *val, unsigned *out)
{
	uint64_t v = 0;

	if (!*val)
		return -EINVAL;
	for (const char *p = val; *p; p++) {
		if (!g_ascii_isdigit(*p))
			return -EINVAL;
		v = v * 10 + (*p - '0');
		if (v > UINT_MAX)
			return -EINVAL;
	}
	*out = v;
	return 0;
}

int ctl_parse_u64(const char *val, uint64_t *out)
{
	guint64 v;

	if (!g_ascii_isdigit(*val) ||
	    !g_ascii_string_to_unsigned(val, 10, 0, G_MAXUINT64, &v, NULL))
		return -EINVAL;
	*out = v;
	return 0;
}

/* md's sync_speed_min/max: a positive number, or "system" (0) for the
 * default. */
int ctl_parse_speed(const char *val, unsigned *out)
{
	if (strcmp(val, "system") == 0) {
		*out = 0;
		return 0;
	}
	if (ctl_parse_uint(val, out) < 0 || *out == 0)
		return -EINVAL;
	return 0;
}

/* Seconds with up to three decimals, as md's strict_strtoul_scaled takes
 * safe_mode_delay, in milliseconds; at most max_ms. */
int ctl_parse_msec(const char *val, unsigned max_ms, unsigned *ms)
{
	uint64_t v = 0;
	int decimals = -1, digits = 0;

	for (const char *p = val; *p; p++) {
		if (*p == '.' && decimals < 0) {
			decimals = 0;
			continue;
		}
		if (!g_ascii_isdigit(*p) || decimals == 3)
			return -EINVAL;
		v = v * 10 + (*p - '0');
		digits++;
		decimals += decimals >= 0;
		if (v > max_ms)
			return -EINVAL;
	}
	for (int d = MAX(decimals, 0); d < 3; d++)
		v *= 10;
	if (!digits || v > max_ms)
		return -EINVAL;
	*ms = v;
	return 0;
}

/* 0: the system's default, as md shows it. */
static void speed_show(GString *out, unsigned v, unsigned system)
{
	g_string_append_printf(out, "%u (%s)", v ? v : system, v ? "local" : "system");
}

static void sync_speed_min_show(struct mddev *mddev, struct md_rdev *rdev,
				GString *out)
{
	(void)rdev;
	speed_show(out, mddev->sync_speed_min, MD_SPEED_MIN_DEFAULT);
}

static int sync_speed_min_store(struct mddev *mddev, struct md_rdev *rdev,
				const char *val)
{
	unsigned v;

	(void)rdev;
	if (ctl_parse_speed(val, &v) < 0)
		return -EINVAL;
	mddev->sync_speed_min = v;
	return 0;
}

static void sync_speed_max_show(struct mddev *mddev, struct md_rdev *rdev,
				GString *out)
{
	(void)rdev;
	speed_show(out, mddev->sync_speed_max, MD_SPEED_MAX_DEFAULT);
}

static int sync_speed_max_store(struct mddev *mddev, struct md_rdev *rdev,
				const char *val)
{
	unsigned v;

	(void)rdev;
	if (ctl_parse_speed(val, &v) < 0)
		return -EINVAL;
	mddev->sync_speed_max = v;
	return 0;
}

static void mismatch_cnt_show(struct mddev *mddev, struct md_rdev *rdev,
			      GString *out)
{
	(void)rdev;
	g_string_append_printf(out, "%llu",
			       (unsigned long long)atomic_load(&mddev->resync_mismatches));
}

static void resync_start_show(struct mddev *mddev, struct md_rdev *rdev,
			      GString *out)
{
	uint64_t r = atomic_load(&mddev->resync_offset);

	(void)rdev;
	if (r == MD_MAX_SECTOR)
		g_string_append(out, "none");
	else
		g_string_append_printf(out, "%" PRIu64, r);
}

static void consistency_policy_show(struct mddev *mddev, struct md_rdev *rdev,
				    GString *out)
{
	(void)rdev;
	g_string_append(out, mddev->bitmap_ops ? "bitmap"
			     : mddev->pers->sync_request ? "resync" : "none");
}

static const char *const bitmap_types[] = { "none", "bitmap", "llbitmap" };

static void bitmap_type_show(struct mddev *mddev, struct md_rdev *rdev,
			     GString *out)
{
	const char *cur = mddev->bitmap_ops ? mddev->bitmap_ops->name
					    : bitmap_types[atomic_load(&mddev->bitmap_id)];

	(void)rdev;
	/* md's bitmap_type_show: every type, the one in use bracketed */
	for (unsigned i = 0; i < G_N_ELEMENTS(bitmap_types); i++)
		g_string_append_printf(out, strcmp(bitmap_types[i], cur) ? "%s%s" : "%s[%s]",
				       i ? " " : "", bitmap_types[i]);
}

/* md's bitmap_type_store: the type a bitmap added later would be; none
 * can be chosen while one is in use. */
static int bitmap_type_store(struct mddev *mddev, struct md_rdev *rdev,
			     const char *val)
{
	(void)rdev;
	if (mddev->bitmap_ops)
		return -EBUSY;
	for (unsigned i = 0; i < G_N_ELEMENTS(bitmap_types); i++) {
		if (strcmp(val, bitmap_types[i]) == 0) {
			atomic_store(&mddev->bitmap_id, (int)i);
			return 0;
		}
	}
	return -EINVAL;
}

static void safe_mode_delay_show(struct mddev *mddev, struct md_rdev *rdev,
				 GString *out)
{
	(void)rdev;
	g_string_append_printf(out, "%u.%03u", mddev->safe_mode_delay_ms / 1000,
			       mddev->safe_mode_delay_ms % 1000);
}

static int safe_mode_delay_store(struct mddev *mddev, struct md_rdev *rdev,
				 const char *val)
{
	unsigned ms;

	(void)rdev;
	if (ctl_parse_msec(val, SAFE_MODE_DELAY_MAX_MS, &ms) < 0)
		return -EINVAL;
	pthread_mutex_lock(&mddev->sb_lock);
	mddev->safe_mode_delay_ms = ms;
	pthread_cond_broadcast(&mddev->sb_cond);
	pthread_mutex_unlock(&mddev->sb_lock);
	return 0;
}

/* md's kstrtobool: y/n, t/f, 1/0, on/off, by their first letters only. */
int ctl_parse_bool(const char *val, bool *out)
{
	switch (val[0]) {
	case 'y': case 'Y': case 't': case 'T': case '1':
		*out = true;
		return 0;
	case 'n': case 'N': case 'f': case 'F': case '0':
		*out = false;
		return 0;
	case 'o': case 'O':
		if (val[1] == 'n' || val[1] == 'N' || val[1] == 'f' || val[1] == 'F') {
			*out = val[1] == 'n' || val[1] == 'N';
			return 0;
		}
	}
	return -EINVAL;
}

static void fail_last_dev_show(struct mddev *mddev, struct md_rdev *rdev,
			       GString *out)
{
	(void)rdev;
	g_string_append_printf(out, "%d", atomic_load(&mddev->fail_last_dev));
}

static int fail_last_dev_store(struct mddev *mddev, struct md_rdev *rdev,
			       const char *val)
{
	bool v;

	(void)rdev;
	if (ctl_parse_bool(val, &v) < 0)
		return -EINVAL;
	atomic_store(&mddev->fail_last_dev, v);
	return 0;
}

static void max_read_errors_show(struct mddev *mddev, struct md_rdev *rdev,
				 GString *out)
{
	(void)rdev;
	g_string_append_printf(out, "%u", atomic_load(&mddev->max_corr_read_errors));
}

/* md's max_corr_read_errors_store: kstrtouint, at most INT_MAX. */
static int max_read_errors_store(struct mddev *mddev, struct md_rdev *rdev,
				 const char *val)
{
	unsigned v;

	(void)rdev;
	if (ctl_parse_uint(val, &v) < 0 || v > INT_MAX)
		return -EINVAL;
	atomic_store(&mddev->max_corr_read_errors, v);
	return 0;
}

/* Not in md's sysfs: mdadm --detail reads the event count from a member's
 * superblock, and raidfs detail reads only the control files. */
static void events_show(struct mddev *mddev, struct md_rdev *rdev, GString *out)
{
	(void)rdev;
	pthread_mutex_lock(&mddev->sb_lock);
	uint64_t events = mddev->events;
	pthread_mutex_unlock(&mddev->sb_lock);
	g_string_append_printf(out, "%" PRIu64, events);
}

/* md's new_dev takes major:minor; here the member file's absolute path,
 * opened by the daemon. */
static int new_dev_store(struct mddev *mddev, struct md_rdev *rdev,
			 const char *val)
{
	char err[512] = "";

	(void)rdev;
	int r = md_hot_add(mddev, val, err, sizeof(err));
	if (r < 0)
		g_warning("%s: new_dev %s: %s", mddev->name, val,
			  *err ? err : g_strerror(-r));
	return r;
}

const struct md_attr md_attrs[] = {
	ATTR_RO(level), ATTR_RO(raid_disks), ATTR_RO(chunk_size),
	ATTR_RO(layout), ATTR_RO(metadata_version), ATTR_RO(uuid),
	ATTR_RW(array_state), ATTR_RO(array_size), ATTR_RO(component_size),
	ATTR_RO(degraded), ATTR_RO(logical_block_size),
	ATTR_RO(minimum_io_size), ATTR_RO(optimal_io_size), ATTR_RW(sync_action),
	ATTR_RO(last_sync_action), ATTR_RO(sync_completed),
	ATTR_RO(sync_speed), ATTR_RW(sync_speed_min), ATTR_RW(sync_speed_max),
	ATTR_RW(sync_min),
	ATTR_RW(sync_max),
	ATTR_RO(mismatch_cnt), ATTR_RO(resync_start),
	ATTR_RO(consistency_policy), ATTR_RW(bitmap_type),
	ATTR_RW(safe_mode_delay), ATTR_RW(max_read_errors), ATTR_WO(new_dev),
	ATTR_RW(fail_last_dev),
	ATTR_RO(events),
	{ NULL, 0, NULL, NULL },
};

int ctl_parse_power_cut(const char *val, uint64_t *seed)
{
	*seed = 0;
	if (strcmp(val, "arm") == 0)
		return PC_ARM;
	if (strcmp(val, "off") == 0)
		return PC_OFF;
	if (strcmp(val, "cut") == 0)
		return PC_CUT;
	if (!g_str_has_prefix(val, "cut ") || ctl_parse_u64(val + 4, seed) < 0)
		return -EINVAL;
	return PC_CUT_SEED;
}

/* ---- per member: dev-NAME/ ---- */

/* The role, which a change of the member set moves under sb_lock. */
static int rdev_role(struct mddev *mddev, struct md_rdev *rdev)
{
	pthread_mutex_lock(&mddev->sb_lock);
	int role = rdev->raid_disk;
	pthread_mutex_unlock(&mddev->sb_lock);
	return role;
}

static void flag_show(GString *out, bool on, const char *name)
{
	if (on)
		g_string_append_printf(out, "%s%s", out->len ? "," : "", name);
}

/* md's state_show, its names in its order; unacknowledged bad blocks
 * show as faulty and blocked, as md's do. */
static void state_show(struct mddev *mddev, struct md_rdev *rdev, GString *out)
{
	int flags = atomic_load(&rdev->flags);
	bool faulty = flags & RDEV_FAULTY;
	GString *s = g_string_new(NULL);
	GString *unack = g_string_new(NULL);

	(void)mddev;
	badblocks_show(&rdev->badblocks, unack, true);
	flag_show(s, faulty || unack->len, "faulty");
	flag_show(s, flags & RDEV_IN_SYNC, "in_sync");
	flag_show(s, flags & RDEV_WRITEMOSTLY, "write_mostly");
	flag_show(s, (flags & RDEV_BLOCKED) || (unack->len && !faulty), "blocked");
	/* md's: a recovering member is a spare until it is in sync. */
	flag_show(s, !(flags & (RDEV_FAULTY | RDEV_IN_SYNC)), "spare");
	flag_show(s, flags & RDEV_WRITE_ERROR, "write_error");
	flag_show(s, flags & RDEV_WANT_REPLACEMENT, "want_replacement");
	flag_show(s, flags & RDEV_REPLACEMENT, "replacement");
	g_string_append(out, s->str);
	g_string_free(s, TRUE);
	g_string_free(unack, TRUE);
}

static const char *const rdev_state_cmds[] = {
	[RDEV_STATE_FAULTY] = "faulty", [RDEV_STATE_REMOVE] = "remove",
	[RDEV_STATE_READD] = "re-add", [RDEV_STATE_SPARE] = "spare",
	[RDEV_STATE_WANT_REPLACEMENT] = "want_replacement",
	[RDEV_STATE_NO_WANT_REPLACEMENT] = "-want_replacement",
	[RDEV_STATE_WRITEMOSTLY] = "writemostly",
	[RDEV_STATE_NO_WRITEMOSTLY] = "-writemostly",
	[RDEV_STATE_BLOCKED] = "blocked", [RDEV_STATE_NO_BLOCKED] = "-blocked",
};

/* The dev-NAME/state commands raidfs carries out. */
int ctl_parse_rdev_state(const char *val)
{
	for (unsigned i = 0; i < G_N_ELEMENTS(rdev_state_cmds); i++)
		if (strcmp(val, rdev_state_cmds[i]) == 0)
			return i;
	return -EINVAL;
}

/* md's state_store "faulty": EBUSY when the array broke, or the member
 * was kept as the last copy of its data. */
static int state_faulty(struct mddev *mddev, struct md_rdev *rdev)
{
	md_error(mddev, rdev);
	bool failed = atomic_load(&rdev->flags) & RDEV_FAULTY;
	return !failed || md_broken(mddev) ? -EBUSY : 0;
}

/* md's flags the superblock records: written at once, as md does. */
static int state_flag(struct mddev *mddev, struct md_rdev *rdev, int flag,
		      bool on, bool in_sb)
{
	if (on)
		atomic_fetch_or(&rdev->flags, flag);
	else
		atomic_fetch_and(&rdev->flags, ~flag);
	if (in_sb)
		md_update_sb(mddev);
	return 0;
}

/* md's "-blocked": unacknowledged bad blocks the superblock cannot take
 * fail the member; here the log takes them at the next update. */
static int state_unblock(struct mddev *mddev, struct md_rdev *rdev)
{
	state_flag(mddev, rdev, RDEV_BLOCKED, false, false);
	md_unblocked(mddev);
	md_update_sb(mddev);
	md_wakeup_recovery(mddev);
	return 0;
}

/* md's "want_replacement": only a member in a role.  A spare becomes
 * its replacement before the write returns when no sync runs (md's
 * md_check_recovery, a moment later), so a wait that follows sees the
 * copy; else the sync thread does it after its pass. */
static int state_want_replacement(struct mddev *mddev, struct md_rdev *rdev)
{
	if (rdev_role(mddev, rdev) >= 0)
		atomic_fetch_or(&rdev->flags, RDEV_WANT_REPLACEMENT);
	if (!md_sync_running(mddev))
		md_check_recovery(mddev);
	md_wakeup_recovery(mddev);
	return 0;
}

/* "spare": a member that is a spare already stays one; any other is
 * busy (md moves no member out of a role by it). */
static int state_spare(struct mddev *mddev, struct md_rdev *rdev)
{
	return rdev_role(mddev, rdev) < 0 && rdev_usable(rdev) ? 0 : -EBUSY;
}

static int state_store(struct mddev *mddev, struct md_rdev *rdev, const char *val)
{
	switch (ctl_parse_rdev_state(val)) {
	case RDEV_STATE_FAULTY: return state_faulty(mddev, rdev);
	case RDEV_STATE_REMOVE: return md_hot_remove(mddev, rdev);
	case RDEV_STATE_READD: return md_re_add(mddev, rdev);
	case RDEV_STATE_SPARE: return state_spare(mddev, rdev);
	case RDEV_STATE_WANT_REPLACEMENT: return state_want_replacement(mddev, rdev);
	case RDEV_STATE_NO_WANT_REPLACEMENT:
		return state_flag(mddev, rdev, RDEV_WANT_REPLACEMENT, false, false);
	case RDEV_STATE_WRITEMOSTLY:
		return state_flag(mddev, rdev, RDEV_WRITEMOSTLY, true, true);
	case RDEV_STATE_NO_WRITEMOSTLY:
		return state_flag(mddev, rdev, RDEV_WRITEMOSTLY, false, true);
	case RDEV_STATE_BLOCKED:
		return state_flag(mddev, rdev, RDEV_BLOCKED, true, false);
	case RDEV_STATE_NO_BLOCKED: return state_unblock(mddev, rdev);
	default: return -EINVAL;
	}
}

static void slot_show(struct mddev *mddev, struct md_rdev *rdev, GString *out)
{
	int role = rdev_role(mddev, rdev);

	if (role < 0)
		g_string_append(out, "none");
	else
		g_string_append_printf(out, "%d", role);
}

/* md's slot_store on a running array: "none" for a member in no role
 * already, or a role for a spare (mdadm --replace --with, the sync
 * frozen): it takes the role when empty, else replaces the member there
 * that wants a replacement. */
static int slot_store(struct mddev *mddev, struct md_rdev *rdev, const char *val)
{
	unsigned slot;

	if (strcmp(val, "none") == 0)
		return rdev_role(mddev, rdev) < 0 ? 0 : -EBUSY;
	if (ctl_parse_uint(val, &slot) < 0 || slot > INT_MAX)
		return -EINVAL;
	if ((int)slot >= mddev->raid_disks)
		return -ENOSPC;    /* md's, past raid_disks */
	return md_slot_store(mddev, rdev, (int)slot);
}

static void offset_show(struct mddev *mddev, struct md_rdev *rdev, GString *out)
{
	(void)mddev;
	g_string_append_printf(out, "%" PRIu64, rdev->data_offset);
}

static void size_show(struct mddev *mddev, struct md_rdev *rdev, GString *out)
{
	(void)mddev;
	g_string_append_printf(out, "%" PRIu64, rdev->sectors / 2);
}

static void errors_show(struct mddev *mddev, struct md_rdev *rdev, GString *out)
{
	(void)mddev;
	g_string_append_printf(out, "%lu", atomic_load(&rdev->corrected_errors));
}

static void recovery_start_show(struct mddev *mddev, struct md_rdev *rdev,
				GString *out)
{
	if (atomic_load(&rdev->flags) & (RDEV_IN_SYNC | RDEV_FAULTY) ||
	    rdev_role(mddev, rdev) < 0)
		g_string_append(out, "none");
	else
		g_string_append_printf(out, "%" PRIu64, rdev->recovery_offset);
}

static void bad_blocks_show(struct mddev *mddev, struct md_rdev *rdev,
			    GString *out)
{
	(void)mddev;
	badblocks_show(&rdev->badblocks, out, false);
}

/* Recorded, not yet in the log on the member. */
static void unacknowledged_bad_blocks_show(struct mddev *mddev,
					   struct md_rdev *rdev, GString *out)
{
	(void)mddev;
	badblocks_show(&rdev->badblocks, out, true);
}

/* Not in md's sysfs, where dev-NAME/block leads to the device: the file
 * the daemon holds, wherever it is now linked (absolute, whatever path the
 * mount was given), so that raidfs commands can tell which member a path
 * names. */
static void path_show(struct mddev *mddev, struct md_rdev *rdev, GString *out)
{
	char link[32], buf[4096];
	ssize_t n = -1;

	(void)mddev;
	if (rdev->fd >= 0) {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", rdev->fd);
		n = readlink(link, buf, sizeof(buf) - 1);
	}
	if (n > 0)
		g_string_append_len(out, buf, n);
	else
		g_string_append(out, rdev->path);
}

const struct md_attr rdev_attrs[] = {
	ATTR_RW(state), ATTR_RW(slot), ATTR_RO(offset), ATTR_RO(size),
	ATTR_RO(errors), ATTR_RO(recovery_start), ATTR_RO(bad_blocks),
	ATTR_RO(unacknowledged_bad_blocks),
	ATTR_RO(path),
	{ NULL, 0, NULL, NULL },
};

/* ---- mdstat ---- */

static void mdstat_devices(struct mddev *mddev, GString *out)
{
	pthread_mutex_lock(&mddev->sb_lock);
	for (int i = (int)mddev->rdevs->len - 1; i >= 0; i--) {
		struct md_rdev *rdev = g_ptr_array_index(mddev->rdevs, i);
		int flags = atomic_load(&rdev->flags);
		g_string_append_printf(out, " %s[%d]%s", rdev->name, rdev->desc_nr,
				       flags & RDEV_FAULTY ? "(F)"
				       : rdev->raid_disk < 0 ? "(S)"
				       : flags & RDEV_REPLACEMENT ? "(R)" : "");
	}
	pthread_mutex_unlock(&mddev->sb_lock);
}

/* md's status_resync: bar, percentage, position, finish estimate, speed. */
static void mdstat_resync(struct mddev *mddev, GString *out)
{
	enum sync_action a = atomic_load(&mddev->sync_action);
	uint64_t max = mddev->dev_sectors;

	if (a == ACTION_IDLE || mddev->sync_frozen) {
		if (atomic_load(&mddev->resync_offset) != MD_MAX_SECTOR &&
		    mddev->pers->sync_request)
			g_string_append(out, "\tresync=PENDING\n      ");
		return;
	}
	uint64_t curr = atomic_load(&mddev->curr_resync);   /* once: it moves */
	uint64_t done = MIN(curr, max);
	unsigned per_milli = max ? done * 1000 / max : 0;
	unsigned x = per_milli / 50;
	unsigned rate = sync_rate(mddev);
	uint64_t left_min10 = rate ? (max - done) / 2 / rate / 6 : 0;
	const char *name = a == ACTION_CHECK ? "check"
			   : a == ACTION_RECOVER ? "recovery" : "resync";

	g_string_append_c(out, '[');
	for (unsigned i = 0; i < x; i++)
		g_string_append_c(out, '=');
	g_string_append_c(out, '>');
	for (unsigned i = x; i < 20; i++)
		g_string_append_c(out, '.');
	g_string_append_printf(out, "]  %s =%3u.%u%% (%" PRIu64 "/%" PRIu64 ")"
			       " finish=%" PRIu64 ".%" PRIu64 "min speed=%uK/sec\n      ",
			       name, per_milli / 10, per_milli % 10, done / 2,
			       max / 2, left_min10 / 10, left_min10 % 10, rate);
}

void md_mdstat(GPtrArray *arrays, GString *out)
{
	g_string_append(out, "Personalities :");
	for (int i = 0; md_personalities[i]; i++)
		g_string_append_printf(out, " [%s]", md_personalities[i]->name);
	g_string_append(out, " \n");
	for (guint i = 0; i < arrays->len; i++) {
		struct mddev *mddev = g_ptr_array_index(arrays, i);
		g_string_append_printf(out, "%s : active%s %s", mddev->name,
				       mddev->ro ? " (read-only)" : "",
				       mddev->pers->name);
		mdstat_devices(mddev, out);
		g_string_append_printf(out, "\n      %" PRIu64 " blocks",
				       mddev->array_sectors / 2);
		if (mddev->sb.major != 0)
			g_string_append_printf(out, " super 1.%d", mddev->sb.minor);
		if (mddev->pers->status)
			mddev->pers->status(mddev, out);
		g_string_append(out, "\n      ");
		if (mddev->pers->sync_request)
			mdstat_resync(mddev, out);
		if (mddev->bitmap_ops)
			mddev->bitmap_ops->status(mddev, out);
		else
			g_string_append(out, "\n");
	}
	g_string_append(out, "unused devices: <none>\n");
}
