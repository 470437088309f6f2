/* raidfs detail and wait: the array as mdadm --detail shows it, and the
 * running sync's progress to its end, read from the control files and
 * mdstat (never from a member). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "manage-cli.h"

/* ---- wait ---- */

struct sync_status {
	char *action;             /* sync_action */
	uint64_t done, total;     /* sync_completed, sectors */
	unsigned speed;           /* sync_speed, KiB/s */
};

/* false once the array has left the mount. */
static bool sync_status_read(const struct array_ctl *a, struct sync_status *s)
{
	char *completed = ctl_read(a, "sync_completed");

	g_free(s->action);
	s->action = ctl_read(a, "sync_action");
	s->done = s->total = 0;
	if (completed && sscanf(completed, "%" SCNu64 " / %" SCNu64, &s->done,
				&s->total) != 2)
		s->done = s->total = 0;
	s->speed = ctl_num(a, "sync_speed");
	g_free(completed);
	return s->action != NULL;
}

/* "check  42.3% (884/2048 MiB), 85.0 MiB/s, 0:00:14 left" */
static void progress_text(const struct sync_status *s, unsigned per_mille,
			  GString *out)
{
	g_string_append_printf(out, "%s %3u.%u%% (%" PRIu64 "/%" PRIu64 " MiB), ",
			       s->action, per_mille / 10, per_mille % 10,
			       s->done >> 11, s->total >> 11);
	if (!s->speed) {
		g_string_append(out, "speed unknown");
		return;
	}
	uint64_t left = (s->total - MIN(s->done, s->total)) / 2 / s->speed;
	g_string_append_printf(out, "%.1f MiB/s, %" PRIu64 ":%02u:%02u left",
			       s->speed / 1024.0, left / 3600,
			       (unsigned)(left / 60 % 60), (unsigned)(left % 60));
}

/* On a terminal, a bar redrawn in place; else a line a call. */
static void progress_show(const struct array_ctl *a,
			  const struct sync_status *s, bool tty)
{
	unsigned per_mille = s->total ? MIN(s->done, s->total) * 1000 / s->total
				      : 0;
	GString *out = g_string_new(tty ? "\r[" : "");

	for (unsigned i = 0; tty && i < 20; i++)
		g_string_append_c(out, i < per_mille / 50 ? '=' :
				       i == per_mille / 50 ? '>' : '.');
	g_string_append_printf(out, "%s%s: ", tty ? "] " : "", a->name);
	progress_text(s, per_mille, out);
	g_string_append(out, tty ? "\033[K" : "\n");
	fputs(out->str, stdout);
	fflush(stdout);
	g_string_free(out, TRUE);
}

#define WAIT_POLL_US (G_USEC_PER_SEC / 2)
#define WAIT_LINE_US (5 * G_USEC_PER_SEC)    /* mdadm --wait's mdstat_wait(5) */
#define GRACE_POLLS 6          /* 3 s: mdadm --wait's three looks (frozen_remaining) */

/* Degraded with a member that is neither faulty nor in sync: md's
 * md_check_recovery starts recovering it a moment later. */
static bool recovery_owed(const struct array_ctl *a)
{
	if (ctl_num(a, "degraded") == 0)
		return false;
	GPtrArray *v = members_list(a);
	bool owed = false;
	for (guint i = 0; i < v->len; i++) {
		struct cli_member *m = g_ptr_array_index(v, i);
		owed |= !member_faulty(m) && !member_in_sync(m);
	}
	g_ptr_array_free(v, TRUE);
	return owed;
}

/* Go on waiting on what sync_action says?  While a sync runs; and for
 * GRACE_POLLS polls in a row while it is frozen (mdadm --wait gives up on
 * a frozen array: *r 1) or idle with a recovery about to start. */
static bool keep_waiting(const struct array_ctl *a, const char *action,
			 int *grace, int *r)
{
	bool frozen = strcmp(action, "frozen") == 0;
	bool idle = strcmp(action, "idle") == 0;

	if (!frozen && !(idle && recovery_owed(a))) {
		*grace = 0;
		return !idle;
	}
	if (++*grace < GRACE_POLLS)
		return true;
	*r = frozen;
	return false;
}

/* Until sync_action is idle: 0, 1 when it stayed frozen, -1 when the
 * array left the mount. */
static int wait_idle(const struct array_ctl *a, bool tty, char **last)
{
	struct sync_status s = { NULL, 0, 0, 0 };
	gint64 shown = 0;
	int grace = 0, r;

	while ((r = sync_status_read(a, &s) ? 0 : -1) == 0 &&
	       keep_waiting(a, s.action, &grace, &r)) {
		gint64 now = g_get_monotonic_time();
		if (!grace && (tty || now - shown >= WAIT_LINE_US)) {
			progress_show(a, &s, tty);
			g_free(*last);
			*last = g_strdup(s.action);
			shown = now;
		}
		g_usleep(WAIT_POLL_US);
	}
	if (tty && shown)
		fputs("\r\033[K", stdout);
	g_free(s.action);
	return r;
}

/* mdadm's State: what the sync left the array as; 0 when idle and whole. */
static int wait_verdict(const struct array_ctl *a)
{
	long long degraded = ctl_num(a, "degraded");
	char *resync = ctl_get(a, "resync_start");
	const struct md_personality *pers = md_find_personality(level_of(a));
	int r = 1;

	if (ctl_is(a, "array_state", "broken"))
		fprintf(stderr, "raidfs: %s has failed: too many members are "
			"missing or faulty\n", a->name);
	else if (degraded)
		fprintf(stderr, "raidfs: %s is degraded: %lld of %lld roles have "
			"no member in sync\n", a->name, degraded,
			ctl_num(a, "raid_disks"));
	else if (pers && pers->sync_request && strcmp(resync, "none") != 0)
		fprintf(stderr, "raidfs: %s still needs a resync from sector %s\n",
			a->name, resync);
	else
		r = 0;
	g_free(resync);
	return r;
}

int do_wait(const struct array_ctl *a)
{
	char *last = NULL;
	int r = wait_idle(a, isatty(STDOUT_FILENO), &last);

	if (r < 0) {
		fprintf(stderr, "raidfs: %s left the mount\n", a->name);
	} else if (r > 0) {
		fprintf(stderr, "raidfs: %s: the sync is frozen; write idle to "
			"%s/sync_action to let it go on\n", a->name, a->dir);
	} else {
		if (last)
			printf("%s: %s finished\n", a->name, last);
		r = wait_verdict(a);
	}
	g_free(last);
	return r ? 1 : 0;
}

/* ---- detail ---- */

/* What mdadm --detail counts (md's GET_ARRAY_INFO). */
struct counts {
	int active, working, failed, spare;
};

static struct counts count_members(GPtrArray *v)
{
	struct counts c = { 0, 0, 0, 0 };

	for (guint i = 0; i < v->len; i++) {
		struct cli_member *m = g_ptr_array_index(v, i);
		if (member_faulty(m)) {
			c.failed++;
			continue;
		}
		c.working++;
		if (member_in_sync(m))
			c.active++;
		else
			c.spare++;
	}
	return c;
}

static void print_size(const char *label, long long kib)
{
	char h[64];

	printf("%s : %lld%s\n", label, kib, md_human_size(kib << 10, h, sizeof(h)));
}

/* mdadm's "Intent Bitmap": Internal, or a bitmap file's path (mdadm asks
 * md with GET_BITMAP_FILE; mdstat names it). */
static void print_bitmap(const struct array_ctl *a)
{
	char **lines = ctl_mdstat(a);
	const char *where = "Internal";

	for (int i = 0; lines[i]; i++) {
		char *f = strstr(lines[i], ", file: ");
		if (f && strstr(lines[i], "bitmap: "))
			where = f + strlen(", file: ");
	}
	printf("     Intent Bitmap : %s\n\n", where);
	g_strfreev(lines);
}

/* The image's size, as mdadm takes the device's (array_size says
 * "default" unless a size was set). */
static long long image_kib(const struct array_ctl *a)
{
	struct stat st;

	return stat(a->image, &st) < 0 ? -1 : (long long)(st.st_size >> 10);
}

static void detail_sizes(const struct array_ctl *a, int level, int members)
{
	char *version = ctl_get(a, "metadata_version");
	char *lname = ctl_get(a, "level");

	printf("%s:\n           Version : %s\n", a->image, version);
	printf("        Raid Level : %s\n", lname);
	print_size("        Array Size", image_kib(a));
	if (level >= 1)
		print_size("     Used Dev Size", ctl_num(a, "component_size"));
	printf("      Raid Devices : %lld\n", ctl_num(a, "raid_disks"));
	printf("     Total Devices : %d\n", members);
	printf("       Persistence : Superblock is persistent\n\n");
	if (ctl_is(a, "consistency_policy", "bitmap"))
		print_bitmap(a);
	g_free(version);
	g_free(lname);
}

/* What sync_action says runs, in mdadm's words: its State part
 * (", recovering") and its status line's name ("Rebuild"). */
struct sync_words {
	const char *action, *state, *status;
};

static const struct sync_words sync_words[] = {
	{ "resync", ", resyncing", "Resync" }, { "repair", ", resyncing", "Resync" },
	{ "recover", ", recovering", "Rebuild" }, { "check", ", checking", "Check" },
};

static const struct sync_words *sync_words_of(const char *action)
{
	for (size_t i = 0; i < G_N_ELEMENTS(sync_words); i++)
		if (strcmp(sync_words[i].action, action) == 0)
			return &sync_words[i];
	return NULL;
}

/* mdadm's "clean, degraded, recovering " (its trailing space too). */
static void detail_state(const struct array_ctl *a, int level,
			 const struct sync_words *w)
{
	char *state = ctl_get(a, "array_state");
	const char *word = w ? w->state : "", *pending = "";
	bool active = !strcmp(state, "active") || !strcmp(state, "active-idle") ||
		      !strcmp(state, "write-pending");
	const struct md_personality *pers = md_find_personality(level);

	/* mdstat's resync=PENDING: owed, not running (frozen, read-only) */
	if (!w && pers && pers->sync_request &&
	    !ctl_is(a, "resync_start", "none")) {
		word = ", resyncing";
		pending = " (PENDING)";
	}
	printf("             State : %s%s%s%s \n",
	       level <= 0 ? state : active ? "active" : "clean",
	       ctl_num(a, "degraded") == 0 ? ""
	       : !strcmp(state, "broken") ? ", FAILED" : ", degraded",
	       word, pending);
	g_free(state);
}

static void detail_counts(GPtrArray *v)
{
	struct counts c = count_members(v);

	printf("    Active Devices : %d\n   Working Devices : %d\n"
	       "    Failed Devices : %d\n     Spare Devices : %d\n\n",
	       c.active, c.working, c.failed, c.spare);
}

static void detail_geometry(const struct array_ctl *a, int level)
{
	uint32_t layout = ctl_num(a, "layout");
	long long chunk = ctl_num(a, "chunk_size") >> 10;
	char *policy = ctl_get(a, "consistency_policy");

	if (level == 5 || level == 6 || level == 10 || (level == 0 && layout))
		md_print_layout(stdout, "            Layout", level, layout);
	if (level == MD_LEVEL_LINEAR)
		printf("          Rounding : %lldK\n\n", chunk);
	else if (level != 1 && level != MD_LEVEL_LINEAR && chunk)
		printf("        Chunk Size : %lldK\n\n", chunk);
	if (*policy)
		printf("Consistency Policy : %s\n\n", policy);
	g_free(policy);
}

/* Name, UUID as mdadm prints it (8:8:8:8), Events. */
static void detail_super(const struct array_ctl *a)
{
	char *hex = uuid_hex(a);
	unsigned long long events = ctl_num(a, "events");

	bool v090 = ctl_is(a, "metadata_version", "0.90");

	if (!v090)    /* mdadm's detail_super0 has no name to show */
		printf("              Name : %s\n", a->name);
	printf("              UUID : ");
	for (int i = 0; hex[i]; i++)
		printf("%s%c", i && i % 8 == 0 ? ":" : "", hex[i]);
	/* 0.90 keeps it as two 32-bit halves, and mdadm prints them so */
	if (v090)
		printf("\n            Events : %llu.%llu\n\n", events >> 32,
		       events & 0xffffffffu);
	else
		printf("\n            Events : %llu\n\n", events);
	g_free(hex);
}

static void member_devnum(const struct cli_member *m, unsigned *maj,
			  unsigned *min)
{
	struct stat st;
	dev_t d = 0;

	if (stat(m->path, &st) == 0)
		d = S_ISBLK(st.st_mode) ? st.st_rdev : st.st_dev;
	*maj = major(d);
	*min = minor(d);
}

/* mdadm's " set-A": raid10 near copies alone divide the members. */
static void print_set(int level, uint32_t layout, int raid_disks, int slot)
{
	int near = layout & 255, far = (layout >> 8) & 255, copies = near * far;

	if (level == 10 && !(layout & ~0x1FFFFu) && far == 1 && copies &&
	    raid_disks % copies == 0 && copies <= 26)
		printf(" set-%c", 'A' + slot % copies);
}

static void print_member_state(const struct array_ctl *a,
			       const struct cli_member *m, int raid_disks)
{
	bool faulty = member_faulty(m), sync = member_in_sync(m);

	if (faulty)
		printf(" faulty");
	if (sync) {
		printf(" active sync");
		print_set(level_of(a), ctl_num(a, "layout"), raid_disks, m->slot);
	}
	if (has_flag(m->state, "write_mostly"))
		printf(" writemostly");
	if (!faulty && !sync)
		printf(" spare%s", m->slot >= 0 && m->slot < raid_disks
				   ? " rebuilding" : "");
}

/* mdadm's columns: Number, Major, Minor, RaidDevice ("-" for none). */
static void print_row(int number, unsigned maj, unsigned min, int slot)
{
	if (number < 0)
		printf("       -   %5u    %5u    ", maj, min);
	else
		printf("   %5d   %5u    %5u    ", number, maj, min);
	if (slot < 0)
		printf("    -     ");
	else
		printf("%5d     ", slot);
}

static void print_member(const struct array_ctl *a, const struct cli_member *m,
			 int raid_disks)
{
	unsigned maj, min;

	member_devnum(m, &maj, &min);
	print_row(m->number, maj, min, m->slot);
	print_member_state(a, m, raid_disks);
	printf("   %s\n", m->path);
}

/* The roles in order, each with its member and then its replacement
 * (md's disks[2d] and disks[2d+1]), "removed" for a role with none; then
 * the members in no role. */
static void detail_members(const struct array_ctl *a, GPtrArray *v)
{
	int raid_disks = ctl_num(a, "raid_disks");
	bool first_other = true;

	printf("    Number   Major   Minor   RaidDevice State\n");
	for (int d = 0; d < raid_disks; d++) {
		int n = 0;
		for (int pass = 0; pass < 2; pass++)
			for (guint i = 0; i < v->len; i++) {
				struct cli_member *m = g_ptr_array_index(v, i);
				if (m->slot == d && member_in_sync(m) == !pass) {
					print_member(a, m, raid_disks);
					n++;
				}
			}
		if (!n) {
			print_row(-1, 0, 0, d);
			printf(" removed\n");
		}
	}
	for (guint i = 0; i < v->len; i++) {
		struct cli_member *m = g_ptr_array_index(v, i);
		if (m->slot >= 0 && m->slot < raid_disks)
			continue;
		if (first_other)
			printf("\n");
		first_other = false;
		print_member(a, m, raid_disks);
	}
}

int do_detail(const struct array_ctl *a, GPtrArray *v)
{
	struct sync_status s = { NULL, 0, 0, 0 };
	int level = level_of(a);

	sync_status_read(a, &s);
	const struct sync_words *w = sync_words_of(s.action ? s.action : "");
	detail_sizes(a, level, v->len);
	detail_state(a, level, w);
	detail_counts(v);
	detail_geometry(a, level);
	if (w && s.total)
		printf("    %7s Status : %d%% complete\n\n", w->status,
		       (int)(MIN(s.done, s.total) * 100 / s.total));
	detail_super(a);
	detail_members(a, v);
	g_free(s.action);
	return 0;
}

/* ---- status: every array of a mount, a line each ---- */

/* mdstat's "[UU_]": which roles are up. */
static char *roles_up(const struct array_ctl *a)
{
	char **lines = ctl_mdstat(a);
	GRegex *re = g_regex_new("\\[[U_]+\\]", 0, 0, NULL);
	char *up = NULL;

	for (int i = 0; lines[i] && !up; i++) {
		GMatchInfo *m;
		if (g_regex_match(re, lines[i], 0, &m))
			up = g_match_info_fetch(m, 0);
		g_match_info_free(m);
	}
	g_regex_unref(re);
	g_strfreev(lines);
	return up ? up : g_strdup("");
}

/* bitmap_type's bracketed choice, as md shows it: "none [bitmap] llbitmap" */
char *bitmap_in_use(const struct array_ctl *a)
{
	char *types = ctl_get(a, "bitmap_type");
	char *open = strchr(types, '['), *close = open ? strchr(open, ']') : NULL;
	char *in_use = close ? g_strndup(open + 1, close - open - 1) : g_strdup(types);

	g_free(types);
	return in_use;
}

static int by_name(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

#define STATUS_FORMAT "  %-12s %-7s %10s  %-8s %-15s %-9s"

/* "data  raid5  2.0 GiB  clean  [UU_] degraded  llbitmap  recover 42.3% ..." */
static void status_line(const struct array_ctl *a, GString *out)
{
	char *level = ctl_get(a, "level"), *state = ctl_get(a, "array_state");
	char *bitmap = bitmap_in_use(a), *up = roles_up(a);
	char *glib = g_format_size_full((guint64)image_kib(a) << 10,
					G_FORMAT_SIZE_IEC_UNITS);
	/* GLib puts a no-break space before the unit: a plain one for awk */
	char **words = g_strsplit(glib, "\xc2\xa0", -1);
	char *size = g_strjoinv(" ", words);
	struct sync_status s = { 0 };

	g_strfreev(words);
	g_free(glib);
	if (ctl_num(a, "degraded") > 0) {
		char *d = g_strconcat(up, " degraded", NULL);
		g_free(up);
		up = d;
	}
	g_string_append_printf(out, STATUS_FORMAT, a->name, level, size, state, up,
			       bitmap);
	if (sync_status_read(a, &s) && strcmp(s.action, "idle") &&
	    strcmp(s.action, "frozen")) {
		g_string_append_c(out, ' ');
		progress_text(&s, s.total ? MIN(s.done, s.total) * 1000 / s.total : 0, out);
	}
	g_string_append_c(out, '\n');
	g_free(s.action);
	g_free(level), g_free(state), g_free(bitmap), g_free(up), g_free(size);
}

/* The arrays of one mount: every NAME with NAME.md/ beside it.  One
 * named by the user that is none is refused; one /proc/mounts listed may
 * be gone or dead by now, which a line says. */
static int status_mount(const char *mnt, bool named, GString *out)
{
	char *mdstat = g_build_filename(mnt, "mdstat", NULL);
	GDir *d = g_dir_open(mnt, 0, NULL);
	bool ours = d && g_file_test(mdstat, G_FILE_TEST_IS_REGULAR);
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	const char *n;

	g_free(mdstat);
	while (ours && (n = g_dir_read_name(d)))
		if (g_str_has_suffix(n, ".md"))
			g_ptr_array_add(names, g_strndup(n, strlen(n) - 3));
	if (d)
		g_dir_close(d);
	if (!ours) {
		g_ptr_array_free(names, TRUE);
		if (!named) {
			g_string_append_printf(out, "%s: not answering\n", mnt);
			return 0;
		}
		return refuse("%s is not a raidfs mount (no mdstat in it)", mnt);
	}
	g_ptr_array_sort(names, by_name);
	g_string_append_printf(out, "%s:%s\n", mnt, names->len ? "" : " no arrays");
	if (names->len)
		g_string_append_printf(out, STATUS_FORMAT " %s\n", "ARRAY", "LEVEL",
				       "SIZE", "STATE", "ROLES", "BITMAP", "SYNC");
	for (guint i = 0; i < names->len; i++) {
		char *image = g_build_filename(mnt, g_ptr_array_index(names, i), NULL);
		struct array_ctl a;
		if (array_ctl_open(image, &a) == 0) {
			status_line(&a, out);
			array_ctl_free(&a);
		}
		g_free(image);
	}
	g_ptr_array_free(names, TRUE);
	return 0;
}

/* Every raidfs mount /proc/mounts lists. */
static GPtrArray *raidfs_mounts(void)
{
	GPtrArray *v = g_ptr_array_new_with_free_func(g_free);
	char *text = NULL;

	if (!g_file_get_contents("/proc/mounts", &text, NULL, NULL))
		return v;
	char **lines = g_strsplit(text, "\n", -1);
	for (int i = 0; lines[i]; i++) {
		char **f = g_strsplit(lines[i], " ", 4);
		if (g_strv_length(f) >= 3 && !strcmp(f[2], "fuse.raidfs"))
			g_ptr_array_add(v, g_strcompress(f[1]));   /* \040 and such */
		g_strfreev(f);
	}
	g_strfreev(lines);
	g_free(text);
	return v;
}

int raidfs_status(int argc, char **argv)
{
	GOptionEntry none[] = { { NULL, 0, 0, 0, NULL, NULL, NULL } };

	if (!parse_options(none, "[MOUNTPOINT...]",
			   "Every array of each raidfs mount (all of them when none is "
			   "given), a line each: level, size, state, members, bitmap, sync.",
			   &argc, &argv))
		return 2;
	GPtrArray *mnts = raidfs_mounts();
	bool named = argc > 1;
	int r = 0;
	if (named) {
		g_ptr_array_set_size(mnts, 0);
		for (int i = 1; i < argc; i++)
			g_ptr_array_add(mnts, g_strdup(argv[i]));
	}
	if (!mnts->len)
		printf("no raidfs mount\n");
	for (guint i = 0; i < mnts->len; i++) {
		GString *out = g_string_new(NULL);
		r = status_mount(g_ptr_array_index(mnts, i), named, out) ?: r;
		fputs(out->str, stdout);
		g_string_free(out, TRUE);
	}
	g_ptr_array_free(mnts, TRUE);
	return r;
}
