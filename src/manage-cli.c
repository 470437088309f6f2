/* raidfs fail, remove, add, re-add, replace, check, repair and stop, and
 * the table of these commands with detail and wait (detail-cli.c):
 * conveniences over an array's control files, IMAGE.md/ beside IMAGE, as
 * mdadm's Manage, Detail and Wait are over md's sysfs.  Nothing here
 * touches a member of the array; every change is one control file write,
 * checked first so that a refusal writes nothing. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "manage-cli.h"

/* ---- control files ---- */

/* To the end: the mount says 4096 bytes for every file, as sysfs does,
 * and mdstat may be longer (g_file_get_contents would stop there). */
static char *read_all(const char *path)
{
	int fd = open(path, O_RDONLY);
	char buf[4096];
	ssize_t n;

	if (fd < 0)
		return NULL;
	GString *s = g_string_new(NULL);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		g_string_append_len(s, buf, n);
	close(fd);
	return g_string_free(s, n < 0);
}

char *ctl_read(const struct array_ctl *a, const char *file)
{
	char *p = g_build_filename(a->dir, file, NULL);
	char *s = read_all(p);

	g_free(p);
	return s ? g_strchomp(s) : NULL;
}

/* The value, "" when the file cannot be read. */
char *ctl_get(const struct array_ctl *a, const char *file)
{
	char *s = ctl_read(a, file);

	return s ? s : g_strdup("");
}

bool ctl_is(const struct array_ctl *a, const char *file,
		   const char *value)
{
	char *s = ctl_get(a, file);
	bool r = strcmp(s, value) == 0;

	g_free(s);
	return r;
}

long long ctl_num(const struct array_ctl *a, const char *file)
{
	char *s = ctl_get(a, file);
	long long v = strtoll(s, NULL, 10);

	g_free(s);
	return v;
}

/* One write, as echo does it: 0, -errno, or -ENOSYS when the daemon has no
 * such control file. */
static int ctl_write(const struct array_ctl *a, const char *file,
		     const char *val)
{
	char *p = g_build_filename(a->dir, file, NULL);
	int fd = open(p, O_WRONLY);
	int r = 0;

	g_free(p);
	if (fd < 0)
		return errno == ENOENT ? -ENOSYS : -errno;
	char *line = g_strconcat(val, "\n", NULL);
	if (write(fd, line, strlen(line)) < 0)
		r = -errno;
	g_free(line);
	if (close(fd) < 0 && !r)
		r = -errno;
	return r;
}

void array_ctl_free(struct array_ctl *a)
{
	g_free(a->image);
	g_free(a->dir);
	g_free(a->name);
}

int array_ctl_open(const char *image, struct array_ctl *a)
{
	struct stat st;

	a->image = g_strdup(image);
	a->dir = g_strconcat(image, ".md", NULL);
	a->name = g_path_get_basename(image);
	char *state = g_build_filename(a->dir, "array_state", NULL);
	bool ok = stat(image, &st) == 0 && S_ISREG(st.st_mode) &&
		  access(state, R_OK) == 0;
	g_free(state);
	if (ok)
		return 0;
	array_ctl_free(a);
	return refuse("%s is not an array image in a raidfs mount (no %s.md/ "
		      "beside it): give the image file, e.g. MOUNTPOINT/md0",
		      image, image);
}

int level_of(const struct array_ctl *a)
{
	char *s = ctl_get(a, "level");
	int level;

	if (md_level_parse(s, &level) < 0)
		level = 0;
	g_free(s);
	return level;
}

/* Levels with redundancy: spares, replacement, check and repair. */
static int need_redundancy(const struct array_ctl *a, const char *what)
{
	const struct md_personality *pers = md_find_personality(level_of(a));

	if (pers && pers->sync_request)
		return 0;
	char *level = ctl_get(a, "level");
	int r = refuse("%s is %s, which has no redundancy: it cannot %s",
		       a->name, level, what);
	g_free(level);
	return r;
}

/* ---- members ---- */

bool has_flag(const char *state, const char *flag)
{
	char **v = g_strsplit(state, ",", -1);
	bool r = g_strv_contains((const char *const *)v, flag);

	g_strfreev(v);
	return r;
}

bool member_faulty(const struct cli_member *m)
{
	return has_flag(m->state, "faulty");
}

bool member_in_sync(const struct cli_member *m)
{
	return has_flag(m->state, "in_sync") && !member_faulty(m);
}

static bool member_spare(const struct cli_member *m)
{
	return m->slot < 0 && !member_faulty(m);
}

static void member_free(gpointer p)
{
	struct cli_member *m = p;

	g_free(m->dev);
	g_free(m->path);
	g_free(m->state);
	g_free(m);
}

static char *member_read(const struct array_ctl *a, const char *dev,
			 const char *file)
{
	char *f = g_build_filename(dev, file, NULL);
	char *s = ctl_get(a, f);

	g_free(f);
	return s;
}

/* An array's lines in mdstat are indented; md ends them with a blank
 * one, and the next array's starts with its name. */
static bool array_line(const char *l)
{
	if (*l != ' ')
		return false;
	while (*l == ' ')
		l++;
	return *l != '\0';
}

char **ctl_mdstat(const struct array_ctl *a)
{
	char *dir = g_path_get_dirname(a->image);
	char *p = g_build_filename(dir, "mdstat", NULL), *text = read_all(p);
	char *head = g_strconcat(a->name, " : ", NULL);
	char **lines = g_strsplit(text ? text : "", "\n", -1);
	GPtrArray *out = g_ptr_array_new();

	for (int i = 0; lines[i]; i++) {
		if (!g_str_has_prefix(lines[i], head))
			continue;
		g_ptr_array_add(out, g_strdup(lines[i] + strlen(head)));
		for (i++; lines[i] && array_line(lines[i]); i++)
			g_ptr_array_add(out, g_strdup(lines[i]));
		break;
	}
	g_ptr_array_add(out, NULL);
	g_strfreev(lines);
	g_free(text); g_free(head); g_free(p); g_free(dir);
	return (char **)g_ptr_array_free(out, FALSE);
}

/* mdstat's "NAME : active raid1 b[1] a[0](F)": each member's desc_nr. */
static int mdstat_number(const struct array_ctl *a, const char *member)
{
	char **lines = ctl_mdstat(a);
	int number = -1;

	if (lines[0]) {
		char **tok = g_strsplit(lines[0], " ", -1);
		for (int j = 0; tok[j]; j++) {
			char *b = strrchr(tok[j], '[');
			if (b && (size_t)(b - tok[j]) == strlen(member) &&
			    strncmp(tok[j], member, b - tok[j]) == 0)
				number = atoi(b + 1);
		}
		g_strfreev(tok);
	}
	g_strfreev(lines);
	return number;
}

static struct cli_member *member_load(const struct array_ctl *a,
				      const char *dev)
{
	struct cli_member *m = g_new0(struct cli_member, 1);
	char *slot = member_read(a, dev, "slot");

	m->dev = g_strdup(dev);
	m->path = member_read(a, dev, "path");
	m->state = member_read(a, dev, "state");
	m->slot = g_ascii_isdigit(slot[0]) ? atoi(slot) : -1;
	m->number = mdstat_number(a, dev + 4);
	g_free(slot);
	return m;
}

static gint member_cmp(gconstpointer pa, gconstpointer pb)
{
	const struct cli_member *x = *(struct cli_member *const *)pa;
	const struct cli_member *y = *(struct cli_member *const *)pb;

	return x->number != y->number ? x->number - y->number
				      : strcmp(x->dev, y->dev);
}

/* Every dev-NAME/ of the array, in md's descriptor order. */
GPtrArray *members_list(const struct array_ctl *a)
{
	GPtrArray *v = g_ptr_array_new_with_free_func(member_free);
	GDir *d = g_dir_open(a->dir, 0, NULL);
	const char *e;

	while (d && (e = g_dir_read_name(d)))
		if (g_str_has_prefix(e, "dev-"))
			g_ptr_array_add(v, member_load(a, e));
	if (d)
		g_dir_close(d);
	g_ptr_array_sort(v, member_cmp);
	return v;
}

/* Do the two stats name the same member: one block device, or one file? */
static bool same_file(const struct stat *x, const struct stat *y)
{
	if (S_ISBLK(x->st_mode) || S_ISBLK(y->st_mode))
		return S_ISBLK(x->st_mode) && S_ISBLK(y->st_mode) &&
		       x->st_rdev == y->st_rdev;
	return x->st_dev == y->st_dev && x->st_ino == y->st_ino;
}

static struct cli_member *member_by_file(GPtrArray *v, const struct stat *st)
{
	for (guint i = 0; i < v->len; i++) {
		struct cli_member *m = g_ptr_array_index(v, i);
		struct stat mst;
		if (stat(m->path, &mst) == 0 && same_file(st, &mst))
			return m;
	}
	return NULL;
}

static struct cli_member *member_by_name(GPtrArray *v, const char *arg)
{
	char *dev = g_str_has_prefix(arg, "dev-") ? g_strdup(arg)
						  : g_strconcat("dev-", arg, NULL);
	struct cli_member *found = NULL;

	for (guint i = 0; i < v->len && !found; i++) {
		struct cli_member *m = g_ptr_array_index(v, i);
		if (strcmp(m->dev, dev) == 0)
			found = m;
	}
	g_free(dev);
	return found;
}

/* MEMBER as a command names it: its dev-NAME, the path of its file, or
 * NAME alone once the file is gone (a pulled or deleted member). */
static struct cli_member *member_find(GPtrArray *v, const char *arg)
{
	struct stat st;

	if (g_str_has_prefix(arg, "dev-") && member_by_name(v, arg))
		return member_by_name(v, arg);
	if (stat(arg, &st) == 0)
		return member_by_file(v, &st);
	return strchr(arg, '/') ? NULL : member_by_name(v, arg);
}

static int not_a_member(const struct array_ctl *a, const char *arg)
{
	return refuse("%s is not a member of %s: give a member's file or its "
		      "dev-NAME from %s/ (raidfs detail %s lists them)",
		      arg, a->name, a->dir, a->image);
}

/* ---- what the level can lose (the core's own rules) ---- */

/* Would the array keep all its data without m?  The level's enough()
 * on a stand-in array holding the in-sync members the control files show. */
static bool array_survives_without(const struct array_ctl *a, GPtrArray *v,
				   const struct cli_member *m)
{
	struct mddev md = { .level = level_of(a) };
	md.pers = md_find_personality(md.level);
	md.raid_disks = ctl_num(a, "raid_disks");
	if (!md.pers || md.raid_disks < 1 || md.raid_disks > MD_SB_MAX_ROLES ||
	    !member_in_sync(m) || m->slot < 0 || m->slot >= md.raid_disks)
		return true;
	md.sb.layout = md.layout = ctl_num(a, "layout");
	md.slots = g_new0(struct md_rdev *_Atomic, md.raid_disks);
	struct md_rdev *in_sync = g_new0(struct md_rdev, v->len);
	for (guint i = 0; i < v->len; i++) {
		struct cli_member *x = g_ptr_array_index(v, i);
		if (member_in_sync(x) && x->slot >= 0 && x->slot < md.raid_disks) {
			atomic_init(&in_sync[i].flags, RDEV_IN_SYNC);
			md.slots[x->slot] = &in_sync[i];
		}
	}
	int degraded = 0;
	for (int s = 0; s < md.raid_disks; s++)
		degraded += md.slots[s] == NULL;
	atomic_init(&md.degraded, degraded);
	bool ok = md_enough(&md, m->slot);
	g_free(md.slots);
	g_free(in_sync);
	return ok;
}

/* ---- the errors a control file write can meet ---- */

/* A write the daemon refused for a reason the command could not check
 * first: the operation failed (1). */
static int daemon_refused(const struct array_ctl *a, const char *file,
			  const char *val, int err)
{
	if (err == -ENOSYS)
		fprintf(stderr, "raidfs: %s/%s does not exist: the raidfs "
			"serving %s cannot do this\n", a->dir, file, a->name);
	else
		fprintf(stderr, "raidfs: %s: writing '%s' to %s failed: %s\n",
			a->name, val, file, g_strerror(-err));
	return 1;
}

/* new_dev's refusals as md's new_dev_store makes them. */
static int new_dev_refused(const struct array_ctl *a, const char *path,
			   int err)
{
	switch (-err) {
	case ENOSPC:
	case EFBIG:
		return refuse("%s is too small to be a member of %s: give a file "
			      "of at least its members' size", path, a->name);
	case EBUSY:
		return refuse("%s is in use (a member of another array, or served "
			      "by another raidfs): give a free file", path);
	case EEXIST:
		return refuse("%s is already a member of %s", path, a->name);
	case ENOENT:
		return refuse("%s does not exist", path);
	default:
		return daemon_refused(a, "new_dev", path, err);
	}
}

/* ---- fail, remove, re-add ---- */

/* Write val to m's state; on success say so as mdadm does, done being
 * its words with the member's path and the array's name for the %s. */
static int set_state(const struct array_ctl *a, const struct cli_member *m,
		     const char *val, const char *done)
{
	char *file = g_build_filename(m->dev, "state", NULL);
	int r = ctl_write(a, file, val);

	if (r == 0) {
		fputs("raidfs: ", stderr);
		fprintf(stderr, done, m->path, a->name);
		fputc('\n', stderr);
	} else {
		r = daemon_refused(a, file, val, r);
	}
	g_free(file);
	return r;
}

static int do_fail(const struct array_ctl *a, GPtrArray *v,
		   struct cli_member *m)
{
	const struct md_personality *pers = md_find_personality(level_of(a));

	if (!array_survives_without(a, v, m))
		return refuse("cannot fail %s: %s would fail with it (it holds "
			      "data no other member has)%s", m->dev, a->name,
			      pers && pers->sync_request ? "; add a member and let "
			      "it recover first" : "");
	return set_state(a, m, "faulty", "set %s faulty in %s");
}

static int do_remove(const struct array_ctl *a, struct cli_member *m)
{
	if (m->slot >= 0 && !member_faulty(m))
		return refuse("%s is active in %s (slot %d): fail it first "
			      "(raidfs fail %s %s)", m->dev, a->name, m->slot,
			      a->image, m->dev);
	return set_state(a, m, "remove", "hot removed %s from %s");
}

static int do_readd(const struct array_ctl *a, struct cli_member *m)
{
	if (!member_faulty(m))
		return refuse("%s is %s in %s, not faulty: there is nothing to "
			      "re-add", m->dev, m->slot >= 0 ? "active" : "a spare",
			      a->name);
	return set_state(a, m, "re-add", "re-added %s to %s");
}

/* ---- add ---- */

/* A file that could be a new member: it exists, it is not one already,
 * and it holds the component size.  Its absolute path, or NULL after the
 * refusal (*r). */
static char *new_member_check(const struct array_ctl *a, GPtrArray *v,
			      const char *path, int *r)
{
	char err[512], *abspath;
	int fd = member_open(path, O_RDONLY, err, sizeof(err));

	if (fd < 0) {
		*r = refuse("%s", err);
		return NULL;
	}
	struct stat st = { 0 };
	uint64_t sectors = rdev_file_sectors(fd);
	uint64_t need = (uint64_t)ctl_num(a, "component_size") * 2;
	fstat(fd, &st);
	close(fd);
	struct cli_member *m = member_by_file(v, &st);
	if (m)
		*r = refuse("%s is already a member of %s (%s)", path, a->name,
			    m->dev);
	else if (sectors < need)
		*r = refuse("%s is too small to be a member of %s: it holds %"
			    PRIu64 "K, the members use %" PRIu64 "K each; give a "
			    "larger file", path, a->name, sectors / 2, need / 2);
	else if ((abspath = realpath(path, NULL)))
		return abspath;
	else
		*r = refuse("%s: %s", path, g_strerror(errno));
	return NULL;
}

static int add_file(const struct array_ctl *a, const char *abspath)
{
	int r = ctl_write(a, "new_dev", abspath);

	if (r < 0)
		return new_dev_refused(a, abspath, r);
	fprintf(stderr, "raidfs: added %s to %s\n", abspath, a->name);
	return 0;
}

/* new_dev: FILE checked, then added. */
static int add_new(const struct array_ctl *a, GPtrArray *v, const char *path)
{
	int r = 0;
	char *abspath = new_member_check(a, v, path, &r);

	if (abspath)
		r = add_file(a, abspath);
	free(abspath);
	return r;
}

static int do_add(const struct array_ctl *a, GPtrArray *v, const char *path)
{
	int r = need_redundancy(a, "take spares");

	return r ? r : add_new(a, v, path);
}

/* The array's UUID as its uuid file reads it, without the dashes. */
char *uuid_hex(const struct array_ctl *a)
{
	char *u = ctl_get(a, "uuid");
	char **parts = g_strsplit(u, "-", -1);
	char *hex = g_strjoinv("", parts);

	g_strfreev(parts);
	g_free(u);
	return hex;
}

/* A file re-add finds outside the array must have been in it: md's
 * new_dev takes such a file back into its old role. */
static int former_member_check(const struct array_ctl *a, const char *path)
{
	char err[512], hex[33];
	struct md_sb sb;
	int fd = member_open(path, O_RDONLY, err, sizeof(err));

	if (fd < 0)
		return refuse("%s", err);
	int e = md_sb_load(fd, &sb, err, sizeof(err));
	close(fd);
	for (int i = 0; e == 0 && i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", sb.set_uuid[i]);
	char *want = uuid_hex(a);
	bool former = e == 0 && strcmp(hex, want) == 0;
	g_free(want);
	if (former)
		return 0;
	return refuse("%s was not a member of %s (%s): use raidfs add", path,
		      a->name, e == 0 ? "its superblock names another array"
				      : "it has no md superblock");
}

static int do_readd_file(const struct array_ctl *a, GPtrArray *v,
			 const char *path)
{
	int r = need_redundancy(a, "take members back");

	if (r || (r = former_member_check(a, path)))
		return r;
	return add_new(a, v, path);
}

/* ---- replace ---- */

static int replacement_check(const struct array_ctl *a, GPtrArray *v,
			     const struct cli_member *m, const char *with)
{
	if (m->slot < 0 || !member_in_sync(m))
		return refuse("%s is not active in %s and so cannot be replaced",
			      m->dev, a->name);
	if (with)
		return 0;
	for (guint i = 0; i < v->len; i++)
		if (member_spare(g_ptr_array_index(v, i)))
			return 0;
	return refuse("%s has no spare to replace %s with: add one (raidfs add "
		      "%s FILE) or give --with FILE", a->name, m->dev, a->image);
}

/* --with NEW: a spare of the array, or a file to add as one. */
static int replacement_add(const struct array_ctl *a, GPtrArray *v,
			   const char *with)
{
	struct cli_member *w = member_find(v, with);

	if (w && !member_spare(w))
		return refuse("%s is %s in %s and cannot be a replacement", with,
			      member_faulty(w) ? "faulty" : "active", a->name);
	return w ? 0 : add_new(a, v, with);
}

/* mdadm --replace [--with]: the new member first, so that a refused add
 * leaves the array as it was; md copies onto a spare while m serves.
 * mdadm freezes the array around it to write the spare's slot before
 * recovery can take it elsewhere; slot is read-only here, so the spare
 * goes where md_check_recovery puts it (a missing role first, as md). */
static int do_replace(const struct array_ctl *a, GPtrArray *v,
		      struct cli_member *m, const char *with)
{
	int r = need_redundancy(a, "replace members");

	if (r || (r = replacement_check(a, v, m, with)))
		return r;
	if (with && (r = replacement_add(a, v, with)))
		return r;
	return set_state(a, m, "want_replacement", "marked %s in %s for "
			 "replacement");
}

/* ---- check, repair, stop ---- */

static int sync_busy(const struct array_ctl *a, const char *action)
{
	return refuse("%s is busy with %s (sync_action); wait for it (raidfs "
		      "wait %s) or write idle to %s/sync_action", a->name, action,
		      a->image, a->dir);
}

static int request_sync(const struct array_ctl *a, const char *action)
{
	int r = need_redundancy(a, action);

	if (r)
		return r;
	if (ctl_is(a, "array_state", "readonly"))
		return refuse("%s is read-only: mount it read-write to %s it",
			      a->name, action);
	char *now = ctl_get(a, "sync_action");
	if (strcmp(now, "idle") != 0 && strcmp(now, "frozen") != 0)
		r = sync_busy(a, now);
	g_free(now);
	if (r)
		return r;
	r = ctl_write(a, "sync_action", action);
	if (r == -EBUSY)
		return sync_busy(a, "a sync");
	return r < 0 ? daemon_refused(a, "sync_action", action, r) : 0;
}

/* mdadm --stop: like STOP_ARRAY, a use of the image that may be transient
 * (a closing loop device) is given five seconds. */
static int do_stop(const struct array_ctl *a)
{
	int r;

	for (int tries = 25; (r = ctl_write(a, "array_state", "inactive")) ==
			     -EBUSY && --tries; )
		g_usleep(G_USEC_PER_SEC / 5);
	if (r == -EBUSY) {
		fprintf(stderr, "raidfs: cannot get exclusive access to %s: its "
			"image is open (a process, a mounted filesystem or a loop "
			"device); close it and retry\n", a->name);
		return 1;
	}
	if (r < 0)
		return daemon_refused(a, "array_state", "inactive", r);
	fprintf(stderr, "raidfs: stopped %s\n", a->name);
	return 0;
}

/* ---- the commands ---- */

/* What a command works on: the array, its members, MEMBER when it takes
 * one (NULL when no member of the array matches it) and its text. */
struct target {
	struct array_ctl a;
	GPtrArray *members;
	struct cli_member *m;
	const char *arg;
	const char *file;         /* replace --with, show --png */
};

static int need_member(const struct target *t)
{
	return not_a_member(&t->a, t->arg);
}

static int run_detail(struct target *t) { return do_detail(&t->a, t->members); }
static int run_check(struct target *t) { return request_sync(&t->a, "check"); }
static int run_repair(struct target *t) { return request_sync(&t->a, "repair"); }
static int run_stop(struct target *t) { return do_stop(&t->a); }
static int run_wait(struct target *t) { return do_wait(&t->a); }
static int run_show(struct target *t) { return do_show(&t->a, t->members, t->file); }
static int run_add(struct target *t) { return do_add(&t->a, t->members, t->arg); }

static int run_fail(struct target *t)
{
	return t->m ? do_fail(&t->a, t->members, t->m) : need_member(t);
}

static int run_remove(struct target *t)
{
	return t->m ? do_remove(&t->a, t->m) : need_member(t);
}

/* A member still in the array, or a former member's file. */
static int run_readd(struct target *t)
{
	return t->m ? do_readd(&t->a, t->m)
		    : do_readd_file(&t->a, t->members, t->arg);
}

static int run_replace(struct target *t)
{
	return t->m ? do_replace(&t->a, t->members, t->m, t->file)
		    : need_member(t);
}

struct manage_cmd {
	const char *name;
	const char *params;       /* after IMAGE */
	const char *help;         /* raidfs --help's line */
	const char *summary;      /* raidfs NAME --help's */
	int (*run)(struct target *t);
};

static const struct manage_cmd manage_cmds[] = {
	{ "detail", "", "the array as mdadm --detail shows it",
	  "Print the array's state and members as mdadm --detail does.", run_detail },
	{ "fail", " MEMBER", "mark a member faulty",
	  "Mark MEMBER faulty (dev-NAME/state: faulty).", run_fail },
	{ "remove", " MEMBER", "take a faulty or spare member out",
	  "Take a faulty or spare MEMBER out of the array (state: remove).", run_remove },
	{ "add", " FILE", "add a spare (recovered onto if degraded)",
	  "Add FILE as a spare (new_dev); a degraded array recovers onto it.", run_add },
	{ "re-add", " MEMBER", "take a former member back",
	  "Take a faulty MEMBER, or a removed member's file, back into its role.", run_readd },
	{ "replace", " MEMBER [--with FILE]", "copy a member onto a spare",
	  "Copy MEMBER onto a spare (or FILE, added first) while it keeps "
	  "serving, then fail it (state: want_replacement).", run_replace },
	{ "check", "", "count mismatches (sync_action)",
	  "Read every copy and parity and count mismatches (sync_action: check).", run_check },
	{ "repair", "", "rewrite mismatches (sync_action)",
	  "Rewrite mismatched copies and parity (sync_action: repair).", run_repair },
	{ "stop", "", "stop one array; the others go on",
	  "Stop the array cleanly (array_state: inactive); the mount serves the others.", run_stop },
	{ "show", " [--png FILE]", "members, layout, sync and bitmap at a glance",
	  "Show the members and their states, where each keeps which chunks (the "
	  "layout's first rows), the sync's progress and the bitmap's chunks: as "
	  "text, or as a picture in FILE (PNG, 1024x768).", run_show },
	{ "wait", "", "wait for the running sync",
	  "Wait for the running sync, showing its progress; exit 0 when the array "
	  "is then idle and whole, 1 when not.", run_wait },
};

static const struct manage_cmd *manage_cmd_find(const char *name)
{
	for (size_t i = 0; i < G_N_ELEMENTS(manage_cmds); i++)
		if (strcmp(manage_cmds[i].name, name) == 0)
			return &manage_cmds[i];
	return NULL;
}

bool raidfs_manage_known(const char *name)
{
	return manage_cmd_find(name) != NULL;
}

void raidfs_manage_help(FILE *out)
{
	for (size_t i = 0; i < G_N_ELEMENTS(manage_cmds); i++) {
		const struct manage_cmd *c = &manage_cmds[i];
		char *use = g_strdup_printf("%s IMAGE%s", c->name, c->params);
		fprintf(out, "  %-39s %s\n", use, c->help);
		g_free(use);
	}
}

static int run_target(const struct manage_cmd *c, char **args, const char *file)
{
	struct target t = { .arg = args[1], .file = file };
	int r = array_ctl_open(args[0], &t.a);

	if (r)
		return r;
	t.members = members_list(&t.a);
	if (t.arg && c->run != run_add)
		t.m = member_find(t.members, t.arg);
	r = c->run(&t);
	g_ptr_array_free(t.members, TRUE);
	array_ctl_free(&t.a);
	return r;
}

/* raidfs NAME ...: argv[0] is NAME. */
int raidfs_manage(int argc, char **argv)
{
	const struct manage_cmd *c = manage_cmd_find(argv[0]);
	char *file = NULL;
	GOptionEntry none[] = { { NULL, 0, 0, 0, NULL, NULL, NULL } };
	GOptionEntry replace[] = {
		{ "with", 0, 0, G_OPTION_ARG_FILENAME, &file, "The file to replace MEMBER with (added first)", "FILE" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	GOptionEntry show[] = {
		{ "png", 0, 0, G_OPTION_ARG_FILENAME, &file, "Draw the picture into FILE instead", "FILE" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	char *params = g_strconcat("IMAGE", c->params, NULL);
	/* IMAGE, and MEMBER or FILE unless the parameters are all options */
	int want = *c->params && c->params[1] != '[' ? 3 : 2, r = 2;

	if (parse_options(c->run == run_replace ? replace
			  : c->run == run_show ? show : none,
			  params, c->summary, &argc, &argv))
		r = argc == want ? run_target(c, argv + 1, file)
				 : refuse("usage: raidfs %s %s", c->name, params);
	g_free(params);
	g_free(file);
	return r;
}
