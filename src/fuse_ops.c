/* The mount: a FUSE low-level filesystem holding mdstat, one image file per
 * array and its control directory.  The tree is a flat node table indexed by
 * inode number, built once the arrays are assembled and grown as members
 * come and go. */
#define FUSE_USE_VERSION FUSE_MAKE_VERSION(3, 14)
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <malloc.h>
#include <string.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "ctl.h"
#include "log.h"
#include "mount.h"
#include "names.h"

#define MAX_IO (1u << 20)

enum node_kind { NODE_DIR, NODE_MDSTAT, NODE_IMAGE, NODE_ATTR, NODE_LINK };

/* An array in the mount.  The power cut or a stop (array_state inactive)
 * takes it away: from then on its nodes are gone (names ENOENT, handles
 * EIO), and once no other request is inside it the array is stopped and
 * the kernel's names for it dropped. */
struct mount_array {
	struct raidfs *fs;
	struct mddev *mddev;
	fuse_ino_t dir;           /* NAME.md/ */
	pthread_mutex_t lock;
	pthread_cond_t idle;
	unsigned busy;            /* requests inside the array */
	unsigned openers;         /* open handles of the image */
	bool gone;
	bool stopped;             /* by array_state, in a request */
	GThread *leaving;         /* the power cut's stop */
};

struct node {
	fuse_ino_t ino, parent;
	char *name;
	enum node_kind kind;
	struct mddev *mddev;
	struct mount_array *ma;   /* NULL: the root and mdstat */
	struct md_rdev *rdev;     /* dev-NAME/ and what is below it */
	const struct md_attr *attr;
	char *target;             /* symlinks */
	int role;                 /* rdN's N */
	/* A member that left takes its names along; the node stays, so
	 * that its inode number is never given to another. */
	atomic_bool removed;
	/* The image's chmod, chown and utimens, kept for the mount's life. */
	mode_t perm;
	uid_t uid;
	gid_t gid;
	struct timespec atime, mtime, ctime;
};

/* Room for 16M nodes; each member that comes adds about twenty. */
#define NODE_CHUNK_SHIFT 10
#define NODE_CHUNK (1u << NODE_CHUNK_SHIFT)
#define NODE_CHUNKS 16384

struct raidfs {
	GPtrArray *arrays;
	/* The node for inode i at index i - 1, in chunks that never move:
	 * requests (image IO above all) find their node without a lock while
	 * a member change appends.  A node is whole before nnodes counts it,
	 * and only its removed flag changes afterwards. */
	struct node **chunks[NODE_CHUNKS];
	atomic_uint nnodes;
	pthread_mutex_t nodes_lock;   /* appends and removals */
	GPtrArray *mounted;       /* struct mount_array, as arrays */
	struct fuse_session *se;
	time_t started;
	GMutex image_attr;        /* guards the images' perm .. ctime */
	/* Control files' rendered text, per open handle; freed at release,
	 * or at exit for handles whose release the unmount dropped. */
	GMutex texts_lock;
	GHashTable *texts;
	/* Notifications go to the device only while it is open: a cut
	 * array's leave thread may outlive the loop. */
	pthread_mutex_t notify_lock;
	bool notifying;
	bool writeback_cache;
};

static struct raidfs *fs_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static unsigned nodes_len(struct raidfs *fs)
{
	return atomic_load_explicit(&fs->nnodes, memory_order_acquire);
}

/* Index i below a nodes_len() read. */
static struct node *node_at(struct raidfs *fs, unsigned i)
{
	return fs->chunks[i >> NODE_CHUNK_SHIFT][i & (NODE_CHUNK - 1)];
}

static struct node *node_get(struct raidfs *fs, fuse_ino_t ino)
{
	if (ino < 1 || ino > nodes_len(fs))
		return NULL;
	return node_at(fs, ino - 1);
}

/* A node below parent (NULL: the root itself), of parent's array and
 * member, for node_add to publish. */
static struct node *node_new(const struct node *parent, const char *name,
			     enum node_kind kind)
{
	struct node *n = g_new0(struct node, 1);

	n->name = g_strdup(name);
	n->kind = kind;
	if (parent) {
		n->parent = parent->ino;
		n->mddev = parent->mddev;
		n->ma = parent->ma;
		n->rdev = parent->rdev;
	}
	return n;
}

static void node_free(gpointer p)
{
	struct node *n = p;

	g_free(n->name);
	g_free(n->target);
	g_free(n);
}

/* Publish a node made by node_new: from here on requests see it.  Under
 * nodes_lock, or before the mount serves.  NULL when the table is full. */
static struct node *node_add(struct raidfs *fs, struct node *n)
{
	unsigned i = atomic_load_explicit(&fs->nnodes, memory_order_relaxed);

	if (i == NODE_CHUNK * NODE_CHUNKS) {
		g_warning("raidfs: no room for %s in the mount's node table",
			  n->name);
		node_free(n);
		return NULL;
	}
	struct node ***chunk = &fs->chunks[i >> NODE_CHUNK_SHIFT];
	if (!*chunk)
		*chunk = g_new0(struct node *, NODE_CHUNK);
	n->ino = i + 1;
	(*chunk)[i & (NODE_CHUNK - 1)] = n;
	atomic_store_explicit(&fs->nnodes, i + 1, memory_order_release);
	return n;
}

static bool node_live(struct node *n)
{
	return !atomic_load(&n->removed);
}

/* Enter the node's array for one request; false once it is gone, or the
 * node is. */
static bool node_enter(struct node *n)
{
	struct mount_array *a = n->ma;

	if (!node_live(n))
		return false;
	if (!a)
		return true;
	pthread_mutex_lock(&a->lock);
	bool ok = !a->gone;
	if (ok)
		a->busy++;
	pthread_mutex_unlock(&a->lock);
	return ok;
}

static void node_exit(struct node *n)
{
	struct mount_array *a = n->ma;

	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	if (--a->busy <= 1 && a->gone)
		pthread_cond_broadcast(&a->idle);
	pthread_mutex_unlock(&a->lock);
}

/* The kernel forgets names below parent (their dentries may be cached for
 * a second) and what it read of parent.  Only while the device is open: a
 * leave thread may outlive the loop. */
static void forget_names(struct raidfs *fs, fuse_ino_t parent, GPtrArray *names)
{
	pthread_mutex_lock(&fs->notify_lock);
	if (fs->notifying && names->len) {
		for (guint i = 0; i < names->len; i++) {
			const char *name = g_ptr_array_index(names, i);
			fuse_lowlevel_notify_inval_entry(fs->se, parent, name,
							 strlen(name));
		}
		fuse_lowlevel_notify_inval_inode(fs->se, parent, 0, 0);
	}
	pthread_mutex_unlock(&fs->notify_lock);
}

/* The array's names at the root: its image and NAME.md/. */
static void forget_array(struct mount_array *a)
{
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);

	g_ptr_array_add(names, g_strdup(a->mddev->name));
	g_ptr_array_add(names, g_strdup_printf("%s.md", a->mddev->name));
	forget_names(a->fs, FUSE_ROOT_ID, names);
	g_ptr_array_free(names, TRUE);
}

/* Until at most self requests are inside the gone array (the caller's
 * own, when it is a request). */
static void array_wait_idle(struct mount_array *a, unsigned self)
{
	pthread_mutex_lock(&a->lock);
	while (a->busy > self)
		pthread_cond_wait(&a->idle, &a->lock);
	pthread_mutex_unlock(&a->lock);
}

/* The power cut's: not on a request's own path, the kernel may wait on
 * our requests to drop its names.  The names go first, the stop waits for
 * the requests still inside (the cut's own write among them). */
static gpointer array_leave(gpointer p)
{
	struct mount_array *a = p;

	forget_array(a);
	array_wait_idle(a, 0);
	md_stop(a->mddev);
	return NULL;
}

/* An array a stop takes away already stops without the cut's thread. */
static void array_power_lost(struct mddev *mddev)
{
	struct mount_array *a = mddev->mount;

	pthread_mutex_lock(&a->lock);
	bool leave = !a->gone;
	a->gone = true;
	pthread_mutex_unlock(&a->lock);
	if (leave)
		a->leaving = g_thread_new("leave", array_leave, a);
}

/* array_state inactive or clear, from a request on the array's control
 * file: md's do_md_stop.  md refuses while the array is open; then the
 * array leaves as at the power cut, but stopped cleanly and at once (the
 * writer learns that it stopped), its member files let go for another
 * mount to take. */
static int array_stop(struct mddev *mddev)
{
	struct mount_array *a = mddev->mount;

	pthread_mutex_lock(&a->lock);
	int r = a->gone ? -ENODEV : a->openers ? -EBUSY : 0;
	a->gone |= r == 0;
	pthread_mutex_unlock(&a->lock);
	if (r)
		return r;
	forget_array(a);
	array_wait_idle(a, 1);
	md_stop(mddev);
	int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (guint i = 0; i < mddev->rdevs->len; i++)
		rdev_release_file(g_ptr_array_index(mddev->rdevs, i), null_fd);
	if (null_fd >= 0)
		close(null_fd);
	pthread_mutex_lock(&a->lock);
	a->stopped = true;
	pthread_mutex_unlock(&a->lock);
	return 0;
}

static void array_members_changed(struct mddev *mddev);

static struct mount_array *mount_array_new(struct raidfs *fs,
					   struct mddev *mddev)
{
	struct mount_array *a = g_new0(struct mount_array, 1);

	a->fs = fs;
	a->mddev = mddev;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->idle, NULL);
	mddev->mount = a;
	mddev->power_lost = array_power_lost;
	mddev->stop = array_stop;
	mddev->members_changed = array_members_changed;
	return a;
}

/* Arrays still in the mount are stopped cleanly; the cut ones stopped
 * when they left, and so did the ones array_state stopped. */
static void mount_array_stop(struct mount_array *a)
{
	pthread_mutex_lock(&a->lock);
	bool stopped = a->stopped;
	pthread_mutex_unlock(&a->lock);
	if (a->leaving)
		g_thread_join(a->leaving);
	else if (!stopped)
		md_stop(a->mddev);
}

static void mount_array_free(gpointer p)
{
	struct mount_array *a = p;

	a->mddev->power_lost = NULL;
	a->mddev->stop = NULL;
	a->mddev->members_changed = NULL;
	a->mddev->mount = NULL;
	pthread_mutex_destroy(&a->lock);
	pthread_cond_destroy(&a->idle);
	g_free(a);
}

static void add_attrs(struct raidfs *fs, struct node *dir,
		      const struct md_attr *attrs)
{
	for (const struct md_attr *a = attrs; dir && a->name; a++) {
		struct node *n = node_new(dir, a->name, NODE_ATTR);
		n->attr = a;
		node_add(fs, n);
	}
}

/* ---- members: dev-NAME/ and rdN follow mddev->rdevs and slots ---- */

static bool is_member(GPtrArray *rdevs, struct md_rdev *rdev)
{
	for (guint i = 0; i < rdevs->len; i++)
		if (g_ptr_array_index(rdevs, i) == rdev)
			return true;
	return false;
}

/* The live dev-NAME/ of rdev, or NULL. */
static struct node *member_dir(struct raidfs *fs, struct mount_array *a,
			       struct md_rdev *rdev)
{
	unsigned len = nodes_len(fs);

	for (unsigned i = 0; i < len; i++) {
		struct node *n = node_at(fs, i);
		if (n->ma == a && n->parent == a->dir && n->kind == NODE_DIR &&
		    n->rdev == rdev && node_live(n))
			return n;
	}
	return NULL;
}

/* dev-NAME/ with its files and fault/. */
static void add_member(struct raidfs *fs, struct node *dir,
		       struct md_rdev *rdev, GPtrArray *changed)
{
	char *name = g_strdup_printf("dev-%s", rdev->name);
	struct node *d = node_new(dir, name, NODE_DIR);

	d->rdev = rdev;
	if ((d = node_add(fs, d))) {
		add_attrs(fs, d, rdev_attrs);
		struct node *f = node_add(fs, node_new(d, "fault", NODE_DIR));
		add_attrs(fs, f, rdev_fault_attrs);
	}
	g_ptr_array_add(changed, name);
}

/* The nodes of members no longer in the array go, dev-NAME/ and all
 * below it; a request inside them finishes on the member's struct,
 * which stays until md_free. */
static void remove_members(struct raidfs *fs, struct mount_array *a,
			   GPtrArray *rdevs, GPtrArray *changed)
{
	unsigned len = nodes_len(fs);

	for (unsigned i = 0; i < len; i++) {
		struct node *n = node_at(fs, i);
		if (n->ma != a || !n->rdev || !node_live(n) ||
		    is_member(rdevs, n->rdev))
			continue;
		atomic_store(&n->removed, true);
		if (n->parent == a->dir)
			g_ptr_array_add(changed, g_strdup(n->name));
	}
}

/* md's rdN names the member in role N, absent while the role is empty. */
static char *role_target(struct mddev *mddev, int role)
{
	struct md_rdev *rdev = role < mddev->raid_disks ? mddev->slots[role] : NULL;

	return rdev ? g_strdup_printf("dev-%s", rdev->name) : NULL;
}

/* A link whose role changed hands goes; a new one (a new inode) takes its
 * name. */
static void relink_roles(struct raidfs *fs, struct mount_array *a,
			 GPtrArray *changed)
{
	struct mddev *mddev = a->mddev;
	bool *kept = g_new0(bool, mddev->raid_disks);
	unsigned len = nodes_len(fs);

	for (unsigned i = 0; i < len; i++) {
		struct node *n = node_at(fs, i);
		if (n->ma != a || n->kind != NODE_LINK || !node_live(n))
			continue;
		char *want = role_target(mddev, n->role);
		if (want && strcmp(want, n->target) == 0) {
			kept[n->role] = true;
		} else {
			atomic_store(&n->removed, true);
			g_ptr_array_add(changed, g_strdup(n->name));
		}
		g_free(want);
	}
	struct node *dir = node_get(fs, a->dir);
	for (int role = 0; role < mddev->raid_disks; role++) {
		char *target = role_target(mddev, role);
		if (!target || kept[role]) {
			g_free(target);
			continue;
		}
		char *rd = g_strdup_printf("rd%d", role);
		struct node *l = node_new(dir, rd, NODE_LINK);
		l->target = target;
		l->role = role;
		node_add(fs, l);
		g_ptr_array_add(changed, rd);
	}
	g_free(kept);
}

/* Bring the array's member names in line with rdevs and slots; the names
 * that came or went are added to changed. */
static void sync_members(struct raidfs *fs, struct mount_array *a,
			 GPtrArray *changed)
{
	GPtrArray *rdevs = md_rdevs_copy(a->mddev);

	/* The old names first: a new member may take one of them. */
	remove_members(fs, a, rdevs, changed);
	for (guint i = 0; i < rdevs->len; i++) {
		struct md_rdev *rdev = g_ptr_array_index(rdevs, i);
		if (!member_dir(fs, a, rdev))
			add_member(fs, node_get(fs, a->dir), rdev, changed);
	}
	g_ptr_array_free(rdevs, TRUE);
	relink_roles(fs, a, changed);
}

/* mddev->members_changed: the core added, removed or moved a member. */
static void array_members_changed(struct mddev *mddev)
{
	struct mount_array *a = mddev->mount;
	struct raidfs *fs = a->fs;
	GPtrArray *changed = g_ptr_array_new_with_free_func(g_free);

	pthread_mutex_lock(&fs->nodes_lock);
	pthread_mutex_lock(&a->lock);
	bool gone = a->gone;
	pthread_mutex_unlock(&a->lock);
	if (!gone)
		sync_members(fs, a, changed);
	pthread_mutex_unlock(&fs->nodes_lock);
	forget_names(fs, a->dir, changed);
	g_ptr_array_free(changed, TRUE);
}

static void add_array(struct raidfs *fs, struct mddev *mddev)
{
	struct mount_array *ma = mount_array_new(fs, mddev);
	g_ptr_array_add(fs->mounted, ma);
	struct node *root = node_get(fs, FUSE_ROOT_ID);
	struct node *img = node_new(root, mddev->name, NODE_IMAGE);
	img->mddev = mddev;
	img->ma = ma;
	img->perm = mddev->ro ? 0444 : 0644;
	img->uid = getuid();
	img->gid = getgid();
	img->atime = img->mtime = img->ctime =
		(struct timespec){ .tv_sec = fs->started };
	node_add(fs, img);
	char *dname = g_strdup_printf("%s.md", mddev->name);
	struct node *dir = node_new(root, dname, NODE_DIR);
	g_free(dname);
	dir->mddev = mddev;
	dir->ma = ma;
	if (!(dir = node_add(fs, dir)))
		return;
	ma->dir = dir->ino;
	add_attrs(fs, dir, md_attrs);
	if (mddev->pers && mddev->pers->attrs)
		add_attrs(fs, dir, mddev->pers->attrs);
	struct node *fault = node_add(fs, node_new(dir, "fault", NODE_DIR));
	add_attrs(fs, fault, md_fault_attrs);
	const struct bitmap_operations *bops = mddev->bitmap_ops;
	if (bops && bops->group && bops->group_name)
		add_attrs(fs, node_add(fs, node_new(dir, bops->group_name, NODE_DIR)),
			  bops->group);
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	sync_members(fs, ma, names);
	g_ptr_array_free(names, TRUE);
}

static void fill_attr(struct raidfs *fs, const struct node *n, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = n->ino;
	st->st_uid = getuid();
	st->st_gid = getgid();
	st->st_atime = st->st_mtime = st->st_ctime = fs->started;
	st->st_nlink = 1;
	switch (n->kind) {
	case NODE_DIR:
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		break;
	case NODE_MDSTAT:
		st->st_mode = S_IFREG | 0444;
		st->st_size = 4096;
		break;
	case NODE_ATTR:
		st->st_mode = S_IFREG | n->attr->mode;
		st->st_size = 4096;
		break;
	case NODE_LINK:
		st->st_mode = S_IFLNK | 0777;
		st->st_size = strlen(n->target);
		break;
	case NODE_IMAGE:
		g_mutex_lock(&fs->image_attr);
		st->st_mode = S_IFREG | n->perm;
		st->st_uid = n->uid;
		st->st_gid = n->gid;
		st->st_atim = n->atime;
		st->st_mtim = n->mtime;
		st->st_ctim = n->ctime;
		g_mutex_unlock(&fs->image_attr);
		st->st_size = n->mddev->array_sectors << SECTOR_SHIFT;
		st->st_blocks = n->mddev->array_sectors;
		st->st_blksize = md_io_opt(n->mddev);
		break;
	}
}

static void reply_entry(fuse_req_t req, const struct node *n)
{
	struct fuse_entry_param e = { .ino = n->ino, .attr_timeout = 1.0,
				      .entry_timeout = 1.0 };

	fill_attr(fs_of(req), n, &e.attr);
	fuse_reply_entry(req, &e);
}

static void fs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct raidfs *fs = fs_of(req);
	struct node *dir = node_get(fs, parent);

	if (!dir || dir->kind != NODE_DIR) {
		fuse_reply_err(req, dir ? ENOTDIR : ENOENT);
		return;
	}
	unsigned len = nodes_len(fs);
	for (unsigned i = 0; i < len; i++) {
		struct node *n = node_at(fs, i);
		if (n->parent == parent && n->ino != parent &&
		    strcmp(n->name, name) == 0 && node_enter(n)) {
			reply_entry(req, n);
			node_exit(n);
			return;
		}
	}
	fuse_reply_err(req, ENOENT);
}

static void fs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct node *n = node_get(fs_of(req), ino);
	struct stat st;

	(void)fi;
	if (!n || !node_enter(n)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	fill_attr(fs_of(req), n, &st);
	fuse_reply_attr(req, &st, 1.0);
	node_exit(n);
}

/* A size change, as on a block device or a sysfs file: the image keeps its
 * geometry's size, a writable control file takes O_TRUNC as sysfs does. */
static int set_size(const struct node *n, off_t size)
{
	switch (n->kind) {
	case NODE_IMAGE:
		return (uint64_t)size == n->mddev->array_sectors << SECTOR_SHIFT
			? 0 : EINVAL;
	case NODE_ATTR:
		return n->attr->store ? 0 : EACCES;
	case NODE_MDSTAT:
		return EACCES;
	case NODE_DIR:
		return EISDIR;
	case NODE_LINK:
		break;
	}
	return EINVAL;
}

static struct timespec time_to_set(const struct timespec *t, bool now)
{
	struct timespec ts = *t;

	if (now)
		clock_gettime(CLOCK_REALTIME, &ts);
	return ts;
}

/* The image's mode, owner and times; the kernel (default_permissions) has
 * checked that the caller may change them. */
static void set_image_attr(struct raidfs *fs, struct node *n,
			   const struct stat *attr, int to_set)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	g_mutex_lock(&fs->image_attr);
	if (to_set & FUSE_SET_ATTR_MODE)
		n->perm = attr->st_mode & 07777;
	if (to_set & FUSE_SET_ATTR_UID)
		n->uid = attr->st_uid;
	if (to_set & FUSE_SET_ATTR_GID)
		n->gid = attr->st_gid;
	if (to_set & FUSE_SET_ATTR_ATIME)
		n->atime = time_to_set(&attr->st_atim,
				       to_set & FUSE_SET_ATTR_ATIME_NOW);
	if (to_set & FUSE_SET_ATTR_MTIME)
		n->mtime = time_to_set(&attr->st_mtim,
				       to_set & FUSE_SET_ATTR_MTIME_NOW);
	n->ctime = to_set & FUSE_SET_ATTR_CTIME ? attr->st_ctim : now;
	g_mutex_unlock(&fs->image_attr);
}

static void fs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int to_set, struct fuse_file_info *fi)
{
	struct node *n = node_get(fs_of(req), ino);
	int err = 0;

	/* An open image whose array is gone answers EIO, as its IO does:
	 * the writeback cache sends its times at every fsync and close. */
	if (!n || !node_enter(n)) {
		fuse_reply_err(req, n && n->kind == NODE_IMAGE ? EIO : ENOENT);
		return;
	}
	/* A truncate brings its time update along: that goes with the size. */
	if (to_set & FUSE_SET_ATTR_SIZE)
		err = set_size(n, attr->st_size);
	else if (n->kind == NODE_IMAGE)
		set_image_attr(fs_of(req), n, attr, to_set);
	/* The tree's modes and owners are fixed.  Its times are the kernel's
	 * to keep under the writeback cache, which sends them at fsync:
	 * accepted and dropped, as kernfs takes them. */
	else if (to_set & ~(FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_CTIME))
		err = EPERM;
	if (err)
		fuse_reply_err(req, err);
	else
		fs_getattr(req, ino, fi);
	node_exit(n);
}

static void fs_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct node *n = node_get(fs_of(req), ino);

	if (!n || n->kind != NODE_LINK)
		fuse_reply_err(req, EINVAL);
	else if (!node_enter(n))
		fuse_reply_err(req, ENOENT);
	else {
		fuse_reply_readlink(req, n->target);
		node_exit(n);
	}
}

static void fs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct node *n = node_get(fs_of(req), ino);

	if (!n || n->kind != NODE_DIR)
		fuse_reply_err(req, n ? ENOTDIR : ENOENT);
	else
		fuse_reply_open(req, fi);
}

static void fs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	struct raidfs *fs = fs_of(req);
	struct node *dir = node_get(fs, ino);
	char *buf = g_malloc(size);
	size_t used = 0;

	(void)fi;
	if (!dir || dir->kind != NODE_DIR) {
		g_free(buf);
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	if (!node_enter(dir)) {
		g_free(buf);
		fuse_reply_err(req, ENOENT);
		return;
	}
	/* Offsets: 1 ".", 2 "..", then i + 3 for node index i. */
	for (off_t o = off; ; o++) {
		const char *name;
		struct stat st = { 0 };
		if (o == 0) {
			name = ".";
			st.st_ino = ino;
		} else if (o == 1) {
			name = "..";
			st.st_ino = dir->parent ? dir->parent : ino;
		} else if ((uint64_t)(o - 2) < nodes_len(fs)) {
			struct node *n = node_at(fs, o - 2);
			if (n->parent != ino || n->ino == ino || !node_enter(n))
				continue;
			fill_attr(fs, n, &st);
			node_exit(n);
			name = n->name;
		} else {
			break;
		}
		size_t k = fuse_add_direntry(req, buf + used, size - used, name,
					     &st, o + 1);
		if (k > size - used)
			break;
		used += k;
	}
	fuse_reply_buf(req, buf, used);
	node_exit(dir);
	g_free(buf);
}

/* mdstat lists the arrays still in the mount. */
static void mdstat(struct raidfs *fs, GString *text)
{
	GPtrArray *live = g_ptr_array_new();

	for (guint i = 0; i < fs->mounted->len; i++) {
		struct mount_array *a = g_ptr_array_index(fs->mounted, i);
		struct node n = { .ma = a };
		if (node_enter(&n))
			g_ptr_array_add(live, a->mddev);
	}
	md_mdstat(live, text);
	for (guint i = 0; i < live->len; i++) {
		struct node n = { .ma = ((struct mddev *)live->pdata[i])->mount };
		node_exit(&n);
	}
	g_ptr_array_free(live, TRUE);
}

/* An image's fh: opened for writing.  A control file's: its text. */
#define IMAGE_WRITER 1

/* An open of the image counts against a stop, as md's openers do; in the
 * same breath as the stop's test, so that no open slips past a stop. */
static bool image_opened(struct mount_array *a)
{
	pthread_mutex_lock(&a->lock);
	bool ok = !a->gone;
	a->openers += ok;
	pthread_mutex_unlock(&a->lock);
	return ok;
}

static void image_closed(struct mount_array *a)
{
	pthread_mutex_lock(&a->lock);
	a->openers--;
	pthread_mutex_unlock(&a->lock);
}

/* Control files and mdstat are rendered at open, as sysfs does per read. */
static void open_node(fuse_req_t req, struct raidfs *fs, struct node *n,
		      struct fuse_file_info *fi)
{
	bool writing = (fi->flags & O_ACCMODE) != O_RDONLY;
	if (n->kind == NODE_DIR || n->kind == NODE_LINK) {
		fuse_reply_err(req, n->kind == NODE_DIR ? EISDIR : ELOOP);
		return;
	}
	if (n->kind == NODE_IMAGE) {
		if (writing && n->mddev->ro) {
			fuse_reply_err(req, EROFS);
			return;
		}
		if (!image_opened(n->ma)) {
			fuse_reply_err(req, ENOENT);
			return;
		}
		fi->fh = IMAGE_WRITER * writing;
		fuse_reply_open(req, fi);
		return;
	}
	bool reading = (fi->flags & O_ACCMODE) != O_WRONLY;
	/* As kernfs: no opening a file for what it cannot do, root or not. */
	if ((writing && (n->kind == NODE_MDSTAT || !n->attr->store)) ||
	    (reading && n->kind == NODE_ATTR && !n->attr->show)) {
		fuse_reply_err(req, EACCES);
		return;
	}
	GString *text = g_string_new(NULL);
	if (n->kind == NODE_MDSTAT) {
		mdstat(fs, text);
	} else if (n->attr->show) {
		n->attr->show(n->mddev, n->rdev, text);
		g_string_append_c(text, '\n');
	}
	g_mutex_lock(&fs->texts_lock);
	g_hash_table_add(fs->texts, text);
	g_mutex_unlock(&fs->texts_lock);
	fi->fh = (uintptr_t)text;
	fi->direct_io = 1;
	fuse_reply_open(req, fi);
}

static void fs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct raidfs *fs = fs_of(req);
	struct node *n = node_get(fs, ino);

	if (!n || !node_enter(n)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	open_node(req, fs, n, fi);
	node_exit(n);
}

static void fs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct raidfs *fs = fs_of(req);

	struct node *n = node_get(fs, ino);

	if (n && n->kind == NODE_IMAGE)
		image_closed(n->ma);
	if (fi->fh && n && n->kind != NODE_IMAGE) {
		g_mutex_lock(&fs->texts_lock);
		g_hash_table_remove(fs->texts, (GString *)(uintptr_t)fi->fh);
		g_mutex_unlock(&fs->texts_lock);
	}
	fuse_reply_err(req, 0);
}

static void fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct node *n = node_get(fs_of(req), ino);

	if (!n || n->kind == NODE_DIR || n->kind == NODE_LINK) {
		fuse_reply_err(req, n && n->kind == NODE_DIR ? EISDIR : EBADF);
		return;
	}
	if (n->kind != NODE_IMAGE && !node_live(n)) {
		fuse_reply_err(req, EIO);    /* its member left */
		return;
	}
	if (n->kind != NODE_IMAGE) {
		/* Reply from a copy: the moment the kernel has the bytes, the
		 * reader may close and a release on another thread frees text,
		 * while writev (and ASan's check after it) may still look. */
		GString *text = (GString *)(uintptr_t)fi->fh;
		size_t start = MIN((size_t)off, text->len);
		size_t n = MIN(size, text->len - start);
		char *copy = g_memdup2(text->str + start, n);
		fuse_reply_buf(req, copy, n);
		g_free(copy);
		return;
	}
	if (!node_enter(n)) {
		fuse_reply_err(req, EIO);
		return;
	}
	char *buf = g_malloc(size);
	int r = md_read(n->mddev, off, size, buf);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_buf(req, buf, r);
	g_free(buf);
	node_exit(n);
}

/* A control write is one store of the value. */
static int store_attr(struct node *n, const char *buf, size_t size)
{
	char *val = ctl_value(buf, size);
	int r = val ? n->attr->store(n->mddev, n->rdev, val) : -EINVAL;
	g_free(val);
	return r;
}

static void fs_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		     size_t size, off_t off, struct fuse_file_info *fi)
{
	struct node *n = node_get(fs_of(req), ino);
	int r;

	(void)fi;
	if (!n || !node_enter(n)) {
		fuse_reply_err(req, n ? EIO : ENOENT);
		return;
	}
	if (n->kind == NODE_IMAGE)
		r = n->mddev->ro ? -EROFS : md_write(n->mddev, off, size, buf);
	else if (n->kind == NODE_ATTR && n->attr->store)
		r = store_attr(n, buf, size);
	else
		r = n && n->kind == NODE_DIR ? -EISDIR : -EBADF;
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_write(req, size);
	node_exit(n);
}

static void flush_image(fuse_req_t req, fuse_ino_t ino)
{
	struct node *n = node_get(fs_of(req), ino);
	int r = 0;

	if (n && n->kind == NODE_IMAGE) {
		if (!node_enter(n)) {
			fuse_reply_err(req, EIO);
			return;
		}
		r = md_flush(n->mddev);
		node_exit(n);
	}
	fuse_reply_err(req, -r);
}

/* The close of a descriptor that wrote flushes, as fsync would; a reader's
 * close has nothing to flush (and must not fail on a broken array, where
 * md refuses every flush). */
static void fs_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (fi->fh == IMAGE_WRITER)
		flush_image(req, ino);
	else
		fuse_reply_err(req, 0);
}

static void fs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		     struct fuse_file_info *fi)
{
	(void)datasync;
	(void)fi;
	flush_image(req, ino);
}

/* Only the image, and only the discard a loop device sends: md serves no
 * other fallocate (mode 0 included) on its block device. */
static void fs_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off,
			 off_t len, struct fuse_file_info *fi)
{
	struct node *n = node_get(fs_of(req), ino);

	(void)fi;
	if (!n || n->kind == NODE_DIR)
		fuse_reply_err(req, n ? EISDIR : ENOENT);
	else if (n->kind != NODE_IMAGE ||
		 mode != (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE))
		fuse_reply_err(req, EOPNOTSUPP);
	else if (n->mddev->ro)
		fuse_reply_err(req, EROFS);
	else if (!node_enter(n))
		fuse_reply_err(req, EIO);
	else {
		fuse_reply_err(req, -md_discard(n->mddev, off, len));
		node_exit(n);
	}
}

/* Names are the arrays': nothing is made, removed or renamed here, as in
 * sysfs. */
static void fs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode, dev_t rdev)
{
	(void)parent; (void)name; (void)mode; (void)rdev;
	fuse_reply_err(req, EPERM);
}

static void fs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode)
{
	(void)parent; (void)name; (void)mode;
	fuse_reply_err(req, EPERM);
}

static void fs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	(void)parent; (void)name;
	fuse_reply_err(req, EPERM);
}

static void fs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		       const char *name)
{
	(void)link; (void)parent; (void)name;
	fuse_reply_err(req, EPERM);
}

static void fs_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname,
		      unsigned int flags)
{
	(void)parent; (void)name; (void)newparent; (void)newname; (void)flags;
	fuse_reply_err(req, EPERM);
}

static void fs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		    const char *newname)
{
	(void)ino; (void)newparent; (void)newname;
	fuse_reply_err(req, EPERM);
}

static void fs_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs st = { .f_bsize = 4096, .f_frsize = 4096,
			      .f_namemax = 255 };

	(void)ino;
	fuse_reply_statfs(req, &st);
}

/* Async direct IO and writeback are FUSE background requests, of which
 * the kernel keeps only 12 in flight by default: a QD32 writer then
 * waits in the kernel's queue while raidfs's threads idle (4K random
 * writes at QD32: +9% on raid5, +12% on raid0 with 64 here).  The kernel
 * caps it for users without CAP_SYS_ADMIN (fs.fuse.max_user_bgreq). */
#define MAX_BACKGROUND 64

/* The image's page cache works as a block device's does: writes wait in
 * it and fsync sends them, then its own request, which flushes the
 * members.  A loop device's small writes then reach raidfs merged. */
static void fs_init(void *userdata, struct fuse_conn_info *conn)
{
	struct raidfs *fs = userdata;

	conn->max_write = MAX_IO;
	conn->max_readahead = MAX_IO;
	conn->max_background = MAX_BACKGROUND;
	conn->congestion_threshold = MAX_BACKGROUND * 3 / 4;
	if (conn->capable & FUSE_CAP_ASYNC_DIO)
		conn->want |= FUSE_CAP_ASYNC_DIO;
	if (fs->writeback_cache && (conn->capable & FUSE_CAP_WRITEBACK_CACHE))
		conn->want |= FUSE_CAP_WRITEBACK_CACHE;
	else
		conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
}

static const struct fuse_lowlevel_ops raidfs_ops = {
	.init = fs_init,
	.lookup = fs_lookup,
	.getattr = fs_getattr,
	.setattr = fs_setattr,
	.readlink = fs_readlink,
	.mknod = fs_mknod,
	.mkdir = fs_mkdir,
	.unlink = fs_unlink,
	.rmdir = fs_unlink,
	.symlink = fs_symlink,
	.rename = fs_rename,
	.link = fs_link,
	.opendir = fs_opendir,
	.readdir = fs_readdir,
	.open = fs_open,
	.release = fs_release,
	.read = fs_read,
	.write = fs_write,
	.flush = fs_flush,
	.fsync = fs_fsync,
	.fallocate = fs_fallocate,
	.statfs = fs_statfs,
};

static void free_text(gpointer text)
{
	g_string_free(text, TRUE);
}

static struct raidfs *raidfs_new(GPtrArray *arrays)
{
	struct raidfs *fs = g_new0(struct raidfs, 1);

	fs->arrays = arrays;
	fs->mounted = g_ptr_array_new_with_free_func(mount_array_free);
	fs->started = time(NULL);
	g_mutex_init(&fs->image_attr);
	pthread_mutex_init(&fs->notify_lock, NULL);
	g_mutex_init(&fs->texts_lock);
	fs->texts = g_hash_table_new_full(NULL, NULL, free_text, NULL);
	pthread_mutex_init(&fs->nodes_lock, NULL);
	node_add(fs, node_new(NULL, "", NODE_DIR));
	node_add(fs, node_new(node_get(fs, FUSE_ROOT_ID), "mdstat", NODE_MDSTAT));
	md_unique_names(arrays);
	for (guint i = 0; i < arrays->len; i++)
		add_array(fs, g_ptr_array_index(arrays, i));
	return fs;
}

static void nodes_free(struct raidfs *fs)
{
	unsigned len = nodes_len(fs);

	for (unsigned i = 0; i < len; i++)
		node_free(node_at(fs, i));
	for (unsigned c = 0; c < NODE_CHUNKS && fs->chunks[c]; c++)
		g_free(fs->chunks[c]);
	pthread_mutex_destroy(&fs->nodes_lock);
}

static void add_arg(struct fuse_args *args, const char *a)
{
	fuse_opt_add_arg(args, a);
}

/* Requests and stripes take buffers of up to a few MiB each.  glibc would
 * mmap each one and unmap it on free, so every request paid a page fault
 * per 4K touched (a third of the raid5 write path's CPU); keep them on the
 * heap, and keep the heap, so freed buffers are reused warm. */
static void keep_buffers(void)
{
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

/* systemd's Type=notify without libsystemd: STATE to $NOTIFY_SOCKET, a
 * path or, after '@', a name in the abstract namespace. */
static void notify_systemd(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (!path || (path[0] != '/' && path[0] != '@') ||
	    strlen(path) >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, strlen(path));
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, state, strlen(state), 0, (struct sockaddr *)&sa,
		   offsetof(struct sockaddr_un, sun_path) + strlen(path)) < 0)
		g_warning("cannot tell systemd %s: %s", state, g_strerror(errno));
	close(fd);
}

/* The mount is up: hold no directory, tell systemd, and let the parent
 * that waits for "ready" return, its stdio released (a caller reading our
 * output gets its end of file), our messages going to the system log. */
static void daemon_ready(int ready_fd)
{
	if (chdir("/") < 0)
		perror("raidfs: chdir /");
	notify_systemd("READY=1");
	if (ready_fd < 0)
		return;
	log_to_system();
	int null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
	if (write(ready_fd, "", 1) != 1)
		_exit(1);     /* the parent is gone: nobody wants this mount */
	close(ready_fd);
}

/* Mount, serve until unmount or a signal, then stop every array cleanly. */
int raidfs_serve(GPtrArray *arrays, const char *mountpoint,
		 const struct mount_opts *o)
{
	struct raidfs *fs = raidfs_new(arrays);
	fs->writeback_cache = !o->no_writeback_cache;
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	int ret = 1;

	add_arg(&args, "raidfs");
	if (o->debug)
		add_arg(&args, "-d");
	/* The kernel checks modes against the caller: with allow_other, a
	 * user must not write a root-owned image or control file. */
	char *opts = g_strdup_printf("-ofsname=raidfs,subtype=raidfs,"
				     "default_permissions%s%s",
				     o->allow_other ? ",allow_other" : "",
				     o->ro ? ",ro" : "");
	add_arg(&args, opts);
	g_free(opts);
	struct fuse_session *se = fuse_session_new(&args, &raidfs_ops,
						   sizeof(raidfs_ops), fs);
	if (!se)
		goto out_args;
	fs->se = se;
	if (fuse_set_signal_handlers(se) != 0)
		goto out_session;
	if (fuse_session_mount(se, mountpoint) != 0) {
		fprintf(stderr, "raidfs: cannot mount on %s\n", mountpoint);
		goto out_signals;
	}
	fs->notifying = true;
	for (guint i = 0; i < arrays->len; i++)
		md_start(g_ptr_array_index(arrays, i));
	daemon_ready(o->ready_fd);

	keep_buffers();
	struct fuse_loop_config *cfg = fuse_loop_cfg_create();
	fuse_loop_cfg_set_clone_fd(cfg, 1);
	fuse_loop_cfg_set_max_threads(cfg, o->threads);
	/* The loop returns the signal that ended it, or -errno on failure. */
	ret = fuse_session_loop_mt(se, cfg) < 0 ? 1 : 0;
	fuse_loop_cfg_destroy(cfg);
	notify_systemd("STOPPING=1");
	pthread_mutex_lock(&fs->notify_lock);
	fs->notifying = false;   /* the unmount closes the device */
	pthread_mutex_unlock(&fs->notify_lock);
	fuse_session_unmount(se);
	/* No request can arrive now: stop the arrays cleanly. */
	for (guint i = 0; i < fs->mounted->len; i++)
		mount_array_stop(g_ptr_array_index(fs->mounted, i));
out_signals:
	fuse_remove_signal_handlers(se);
out_session:
	fuse_session_destroy(se);
out_args:
	fuse_opt_free_args(&args);
	g_ptr_array_free(fs->mounted, TRUE);
	nodes_free(fs);
	g_mutex_clear(&fs->image_attr);
	g_hash_table_destroy(fs->texts);
	g_mutex_clear(&fs->texts_lock);
	pthread_mutex_destroy(&fs->notify_lock);
	g_free(fs);
	return ret;
}
