/* The mount's names as an array's members change (the members_changed
 * hook the core calls) and as array_state stops an array: raidfs_serve
 * runs in this process over unit-test arrays, and the test looks through
 * the kernel, as users do, so that what the kernel caches is tested too. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "testlib.h"
#include "../src/mount.h"

#define MEMBER_SECTORS 2048

struct served {
	GPtrArray *arrays;
	char *mnt;
	GThread *thread;
	int ret;
	GPtrArray *left;          /* members taken out: kept until md_free */
};

/* A failed assertion aborts with requests of ours in flight to the mount
 * this process serves, and the exit would wait on them for ever: the
 * handler drops the mount and aborts its connection (fusectl) first. */
static char mounted_at[256], abort_file[64];

static void on_abort(int sig)
{
	(void)sig;
	if (mounted_at[0])
		umount2(mounted_at, MNT_DETACH);
	int fd = abort_file[0] ? open(abort_file, O_WRONLY) : -1;
	if (fd >= 0) {
		if (write(fd, "1", 1) < 0)
			_exit(134);
		close(fd);
	}
}

/* A sanitizer's report ends the process through abort, so that the
 * handler above runs. */
const char *__tsan_default_options(void);
const char *__tsan_default_options(void)
{
	return "abort_on_error=1";
}

const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "abort_on_error=1";
}

static gpointer serve(gpointer p)
{
	struct served *s = p;
	struct mount_opts o = { .threads = 4, .ready_fd = -1 };

	s->ret = raidfs_serve(s->arrays, s->mnt, &o);
	return NULL;
}

static char *path(struct served *s, const char *rel)
{
	return g_strdup_printf("%s/%s", s->mnt, rel);
}

static bool exists(struct served *s, const char *rel)
{
	char *p = path(s, rel);
	struct stat st;
	int r = lstat(p, &st);
	int err = errno;

	g_free(p);
	if (r < 0)
		g_assert_cmpint(err, ==, ENOENT);
	return r == 0;
}

static char *read_text(struct served *s, const char *rel)
{
	char *p = path(s, rel), *text = NULL;

	g_assert_true(g_file_get_contents(p, &text, NULL, NULL));
	g_free(p);
	return text;
}

static struct mddev *raid1(const char *name)
{
	uint64_t sectors[] = { MEMBER_SECTORS, MEMBER_SECTORS };
	struct mddev *m = test_array(1, 0, 0, 2, sectors);

	g_free(m->name);
	m->name = g_strdup(name);
	m->in_sync = true;        /* safe mode stays asleep */
	return m;
}

/* Serve the arrays named; returns once the mount answers. */
static struct served *mount_arrays(const char *const *names)
{
	struct served *s = g_new0(struct served, 1);

	s->arrays = g_ptr_array_new();
	for (; *names; names++)
		g_ptr_array_add(s->arrays, raid1(*names));
	s->left = g_ptr_array_new_with_free_func((GDestroyNotify)rdev_close);
	s->mnt = g_dir_make_tmp("raidfs-mount-XXXXXX", NULL);
	g_assert_nonnull(s->mnt);
	s->thread = g_thread_new("serve", serve, s);
	for (int i = 0; !exists(s, "mdstat"); i++) {
		if (i == 1000)
			g_error("the mount at %s did not come up", s->mnt);
		g_usleep(10000);
	}
	struct stat st;
	g_assert_cmpint(stat(s->mnt, &st), ==, 0);
	snprintf(mounted_at, sizeof(mounted_at), "%s", s->mnt);
	snprintf(abort_file, sizeof(abort_file),
		 "/sys/fs/fuse/connections/%u/abort", minor(st.st_dev));
	/* This thread is none of the mount's (the core's threads are,
	 * ordered by their creation): a read of array_state has a thread
	 * of the mount take sb_lock, and taking it here orders what the
	 * mount did at start before this thread's changes.  A call of the
	 * hook with nothing changed must leave the names as they are (the
	 * tests look). */
	for (guint i = 0; i < s->arrays->len; i++) {
		struct mddev *m = g_ptr_array_index(s->arrays, i);
		char *rel = g_strdup_printf("%s.md/array_state", m->name);
		g_free(read_text(s, rel));
		g_free(rel);
		md_array_state(m);
		m->members_changed(m);
	}
	return s;
}

static void unmount(struct served *s)
{
	char *argv[] = { "fusermount3", "-u", s->mnt, NULL };
	int status;

	mounted_at[0] = abort_file[0] = '\0';
	g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL,
				   NULL, NULL, NULL, &status, NULL));
	g_assert_cmpint(status, ==, 0);
	g_thread_join(s->thread);
	g_assert_cmpint(s->ret, ==, 0);
	for (guint i = 0; i < s->arrays->len; i++)
		md_free(g_ptr_array_index(s->arrays, i));
	g_ptr_array_free(s->arrays, TRUE);
	g_ptr_array_free(s->left, TRUE);
	g_assert_cmpint(rmdir(s->mnt), ==, 0);
	g_free(s->mnt);
	g_free(s);
}

static char *link_target(struct served *s, const char *rel)
{
	char *p = path(s, rel), buf[256];
	ssize_t n = readlink(p, buf, sizeof(buf) - 1);

	g_free(p);
	return n < 0 ? NULL : g_strndup(buf, n);
}

/* The core's side of a change, as hot-add and remove will make it. */
static struct md_rdev *add_spare(struct mddev *m, const char *name)
{
	static int next_desc_nr;
	struct md_rdev *r = test_member(m, -1, MEMBER_SECTORS);

	/* A slot in dev_roles of its own (the core's hot-add finds one). */
	r->desc_nr = m->raid_disks + next_desc_nr++ % 64;
	g_free(r->name);
	r->name = g_strdup(name);
	atomic_store(&r->flags, 0);
	g_ptr_array_add(m->rdevs, r);
	m->members_changed(m);
	return r;
}

static void take_out(struct served *s, struct mddev *m, struct md_rdev *r)
{
	if (r->raid_disk >= 0)
		m->slots[r->raid_disk] = NULL;
	r->raid_disk = -1;
	g_assert_true(g_ptr_array_remove(m->rdevs, r));
	g_ptr_array_add(s->left, r);
	m->members_changed(m);
}

static gint by_name(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_members(void)
{
	const char *names[] = { "t", NULL };
	struct served *s = mount_arrays(names);
	struct mddev *m = g_ptr_array_index(s->arrays, 0);
	struct md_rdev *m1 = m->slots[1];
	char *t;

	g_assert_cmpstr(t = link_target(s, "t.md/rd0"), ==, "dev-m0"); g_free(t);
	g_assert_cmpstr(t = link_target(s, "t.md/rd1"), ==, "dev-m1"); g_free(t);

	/* A spare: its directory, whole; no role, no link. */
	struct md_rdev *sp = add_spare(m, "s0");
	g_assert_true(exists(s, "t.md/dev-s0/fault/read_errors"));
	g_assert_cmpstr(t = read_text(s, "t.md/dev-s0/state"), ==, "spare\n"); g_free(t);
	g_assert_cmpstr(t = read_text(s, "t.md/dev-s0/slot"), ==, "none\n"); g_free(t);
	g_assert_false(exists(s, "t.md/rd2"));

	/* m1 fails and is taken out: its names go at once, though the
	 * kernel had them cached, and its open handle fails. */
	char *state = path(s, "t.md/dev-m1/state");
	int fd = open(state, O_RDWR);
	g_assert_cmpint(fd, >=, 0);
	g_assert_true(exists(s, "t.md/dev-m1/fault"));
	atomic_store(&m1->flags, RDEV_FAULTY);    /* as md_error leaves it */
	atomic_fetch_add(&m->degraded, 1);
	take_out(s, m, m1);
	g_assert_false(exists(s, "t.md/dev-m1"));
	g_assert_false(exists(s, "t.md/dev-m1/state"));
	g_assert_false(exists(s, "t.md/rd1"));
	g_assert_cmpint(write(fd, "faulty", 6), ==, -1);
	g_assert_cmpint(errno, ==, EIO);
	char c;
	g_assert_cmpint(pread(fd, &c, 1, 0), ==, -1);
	g_assert_cmpint(errno, ==, EIO);
	close(fd);
	g_free(state);

	/* The spare takes the empty role (as recovery ends): rd1 names it. */
	sp->raid_disk = 1;
	m->slots[1] = sp;
	atomic_store(&sp->flags, RDEV_IN_SYNC);
	m->members_changed(m);
	g_assert_cmpstr(t = link_target(s, "t.md/rd1"), ==, "dev-s0"); g_free(t);
	g_assert_cmpstr(t = read_text(s, "t.md/rd1/slot"), ==, "1\n"); g_free(t);

	/* What readdir lists is what lookups find. */
	char *dir = path(s, "t.md");
	DIR *d = opendir(dir);
	GPtrArray *members = g_ptr_array_new_with_free_func(g_free);
	for (struct dirent *e; (e = readdir(d)); )
		if (g_str_has_prefix(e->d_name, "dev-") ||
		    g_str_has_prefix(e->d_name, "rd"))
			g_ptr_array_add(members, g_strdup(e->d_name));
	closedir(d);
	g_free(dir);
	g_ptr_array_sort(members, by_name);
	g_ptr_array_add(members, NULL);
	char *listed = g_strjoinv(" ", (char **)members->pdata);
	g_assert_cmpstr(listed, ==, "dev-m0 dev-s0 rd0 rd1");
	g_free(listed);
	g_ptr_array_free(members, TRUE);
	unmount(s);
}

struct churn {
	struct served *s;
	atomic_bool stop;
	atomic_uint rounds;
};

/* Lookups, readdirs, links and image reads while the table grows. */
static gpointer churn_reader(gpointer p)
{
	struct churn *c = p;
	char *img = path(c->s, "t"), *dir = path(c->s, "t.md");
	char buf[4096];
	int fd = open(img, O_RDONLY);

	g_assert_cmpint(fd, >=, 0);
	while (!atomic_load(&c->stop)) {
		g_assert_cmpint(pread(fd, buf, sizeof(buf), 0), ==, sizeof(buf));
		DIR *d = opendir(dir);
		g_assert_nonnull(d);
		unsigned n = 0;
		for (struct dirent *e; (e = readdir(d)); n++) {
			char *rel = g_strdup_printf("t.md/%s", e->d_name);
			exists(c->s, rel);
			g_free(rel);
		}
		closedir(d);
		g_assert_cmpuint(n, >, 4);
		char *t = link_target(c->s, "t.md/rd0");
		g_assert_cmpstr(t, ==, "dev-m0");
		g_free(t);
		atomic_fetch_add(&c->rounds, 1);
	}
	close(fd);
	g_free(img);
	g_free(dir);
	return NULL;
}

/* Enough members come and go to take the node table past a chunk. */
static void test_churn(void)
{
	const char *names[] = { "t", NULL };
	struct churn c = { .s = mount_arrays(names) };
	struct mddev *m = g_ptr_array_index(c.s->arrays, 0);
	GThread *readers[2];

	for (unsigned i = 0; i < G_N_ELEMENTS(readers); i++)
		readers[i] = g_thread_new("reader", churn_reader, &c);
	for (int i = 0; i < 80 || atomic_load(&c.rounds) < 10; i++) {
		char name[16], rel[64];
		snprintf(name, sizeof(name), "s%d", i % 3);
		struct md_rdev *r = add_spare(m, name);
		snprintf(rel, sizeof(rel), "t.md/dev-%s/fault/pull", name);
		g_assert_true(exists(c.s, rel));
		take_out(c.s, m, r);
		g_assert_false(exists(c.s, rel));
	}
	atomic_store(&c.stop, true);
	for (unsigned i = 0; i < G_N_ELEMENTS(readers); i++)
		g_thread_join(readers[i]);
	unmount(c.s);
}

/* One write(2) to a control file: 0 or the errno. */
static int put(struct served *s, const char *rel, const char *val)
{
	char *p = path(s, rel);
	int fd = open(p, O_WRONLY), r = 0;

	g_assert_cmpint(fd, >=, 0);
	if (write(fd, val, strlen(val)) < 0)
		r = errno;
	close(fd);
	g_free(p);
	return r;
}

static void test_stop(void)
{
	const char *names[] = { "t", "u", NULL };
	struct served *s = mount_arrays(names);
	struct mddev *t = g_ptr_array_index(s->arrays, 0);
	char *img = path(s, "t"), *uimg = path(s, "u"), *text, buf[4096];

	/* md: an open array does not stop; nothing changes. */
	int fd = open(img, O_RDONLY);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(put(s, "t.md/array_state", "inactive\n"), ==, EBUSY);
	g_assert_cmpint(put(s, "t.md/array_state", "clear"), ==, EBUSY);
	g_assert_cmpint(pread(fd, buf, sizeof(buf), 0), ==, sizeof(buf));
	g_assert_true(exists(s, "t.md/level"));
	g_assert_cmpint(put(s, "t.md/array_state", "readonly"), ==, EINVAL);
	g_assert_cmpint(put(s, "t.md/array_state", "write-pending"), ==, EINVAL);
	g_assert_cmpint(put(s, "t.md/array_state", "clean"), ==, 0);
	g_assert_cmpint(put(s, "t.md/array_state", "active"), ==, 0);
	close(fd);

	/* The release of the last handle reaches the mount after close. */
	int r;
	for (int i = 0; (r = put(s, "t.md/array_state", "inactive")) == EBUSY; i++) {
		g_assert_cmpint(i, <, 1000);
		g_usleep(10000);
	}
	g_assert_cmpint(r, ==, 0);
	g_assert_cmpstr(md_array_state(t), ==, "clean");   /* stopped cleanly */
	g_assert_false(exists(s, "t"));
	g_assert_false(exists(s, "t.md"));
	g_assert_false(exists(s, "t.md/array_state"));
	text = read_text(s, "mdstat");
	g_assert_null(strstr(text, "t : "));
	g_assert_nonnull(strstr(text, "u : "));
	g_free(text);
	/* The other array serves on, and leaves at the unmount. */
	fd = open(uimg, O_RDWR);
	g_assert_cmpint(fd, >=, 0);
	memset(buf, 0x5a, sizeof(buf));
	g_assert_cmpint(pwrite(fd, buf, sizeof(buf), 8192), ==, sizeof(buf));
	g_assert_cmpint(fsync(fd), ==, 0);
	close(fd);
	g_free(img);
	g_free(uimg);
	unmount(s);
}

int main(int argc, char **argv)
{
	char *fusermount = g_find_program_in_path("fusermount3");

	g_test_init(&argc, &argv, NULL);
	if (access("/dev/fuse", R_OK | W_OK) < 0 || !fusermount) {
		g_print("SKIP: no FUSE here\n");
		return 77;
	}
	g_free(fusermount);
	signal(SIGABRT, on_abort);
	g_test_add_func("/mount/members", test_members);
	g_test_add_func("/mount/churn", test_churn);
	g_test_add_func("/mount/stop", test_stop);
	return g_test_run();
}
