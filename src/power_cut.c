/* The power cut (NAME.md/fault/power_cut): a member IO layer that keeps the
 * previous contents of every 4 KiB block written since the member's last
 * fdatasync, which is what a power loss could take back.  A cut puts back
 * all of them, or a reproducible random subset, and the array stops as a
 * machine losing power would: writing nothing more, its files released. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "ctl.h"

#define PC_BLOCK 4096

struct pc_layer {
	struct member_io io;
	/* Writes and punches hold it shared across save and write; a flush
	 * and the cut hold it exclusive, so no write is half done under them. */
	pthread_rwlock_t lock;
	pthread_mutex_t map_lock;  /* saved, size, armed */
	GHashTable *saved;         /* block -> its bytes before the first write */
	uint64_t size;             /* the file's size when saved went non-empty */
	bool armed;
	atomic_bool cut;           /* after the cut every IO fails, writing nothing */
};

static const struct member_io_ops pc_ops;

static struct pc_layer *pc_of(struct md_rdev *rdev)
{
	return (struct pc_layer *)rdev_find_io(rdev, &pc_ops);
}

static uint64_t file_size(struct md_rdev *rdev)
{
	struct stat st;

	return fstat(rdev->fd, &st) < 0 ? 0 : (uint64_t)st.st_size;
}

/* Beyond the end of the file a block reads as zeros.  Saving and undoing
 * go to the file itself, under any fault layer: the power is physical. */
static int read_block(struct md_rdev *rdev, uint64_t b, uint8_t *buf)
{
	for (size_t done = 0; done < PC_BLOCK; ) {
		ssize_t r = member_pread(NULL, rdev, buf + done,
					 PC_BLOCK - done, b * PC_BLOCK + done);
		if (r == -EINTR)
			continue;
		if (r <= 0)
			return r;
		done += r;
	}
	return 0;
}

/* Keep the blocks of [pos, pos + len) not kept since the last flush. */
static int save_range(struct pc_layer *l, struct md_rdev *rdev, uint64_t pos,
		      uint64_t len)
{
	int r = 0;

	pthread_mutex_lock(&l->map_lock);
	if (l->armed && len && g_hash_table_size(l->saved) == 0)
		l->size = file_size(rdev);
	for (uint64_t b = pos / PC_BLOCK; l->armed && len && r == 0 &&
	     b <= (pos + len - 1) / PC_BLOCK; b++) {
		gpointer key = GSIZE_TO_POINTER(b);
		if (g_hash_table_contains(l->saved, key))
			continue;
		uint8_t *old = g_malloc0(PC_BLOCK);
		r = read_block(rdev, b, old);
		if (r < 0)
			g_free(old);
		else
			g_hash_table_insert(l->saved, key, old);
	}
	pthread_mutex_unlock(&l->map_lock);
	return r;
}

static ssize_t pc_pread(struct member_io *io, struct md_rdev *rdev, void *buf,
			size_t len, uint64_t pos)
{
	struct pc_layer *l = (struct pc_layer *)io;

	if (atomic_load(&l->cut))
		return -EIO;
	return member_pread(io->lower, rdev, buf, len, pos);
}

static ssize_t pc_pwrite(struct member_io *io, struct md_rdev *rdev,
			 const void *buf, size_t len, uint64_t pos)
{
	struct pc_layer *l = (struct pc_layer *)io;
	ssize_t r = -EIO;

	pthread_rwlock_rdlock(&l->lock);
	if (!atomic_load(&l->cut)) {
		r = save_range(l, rdev, pos, len);
		if (r == 0)
			r = member_pwrite(io->lower, rdev, buf, len, pos);
	}
	pthread_rwlock_unlock(&l->lock);
	return r;
}

static int pc_punch(struct member_io *io, struct md_rdev *rdev, uint64_t pos,
		    uint64_t len)
{
	struct pc_layer *l = (struct pc_layer *)io;
	int r = -EIO;

	pthread_rwlock_rdlock(&l->lock);
	if (!atomic_load(&l->cut)) {
		r = save_range(l, rdev, pos, len);
		if (r == 0)
			r = member_punch(io->lower, rdev, pos, len);
	}
	pthread_rwlock_unlock(&l->lock);
	return r;
}

static void forget_saved(struct pc_layer *l)
{
	pthread_mutex_lock(&l->map_lock);
	g_hash_table_remove_all(l->saved);
	pthread_mutex_unlock(&l->map_lock);
}

/* What a flush made durable no power loss can take back. */
static int pc_fdatasync(struct member_io *io, struct md_rdev *rdev)
{
	struct pc_layer *l = (struct pc_layer *)io;
	int r = -EIO;

	pthread_rwlock_wrlock(&l->lock);
	if (!atomic_load(&l->cut)) {
		r = member_fdatasync(io->lower, rdev);
		if (r == 0)
			forget_saved(l);
	}
	pthread_rwlock_unlock(&l->lock);
	return r;
}

static void pc_free(struct member_io *io)
{
	struct pc_layer *l = (struct pc_layer *)io;

	g_hash_table_destroy(l->saved);
	pthread_rwlock_destroy(&l->lock);
	pthread_mutex_destroy(&l->map_lock);
	g_free(l);
}

static const struct member_io_ops pc_ops = {
	.pread = pc_pread,
	.pwrite = pc_pwrite,
	.fdatasync = pc_fdatasync,
	.punch = pc_punch,
	.free = pc_free,
};

/* The layer goes on at the first arm and stays: IO that checked for layers
 * before it went on may still be in flight, the cut must not miss it. */
static void pc_arm(struct md_rdev *rdev, bool arm)
{
	struct pc_layer *l = pc_of(rdev);

	if (!l && arm) {
		l = g_new0(struct pc_layer, 1);
		l->io.ops = &pc_ops;
		pthread_rwlock_init(&l->lock, NULL);
		pthread_mutex_init(&l->map_lock, NULL);
		l->saved = g_hash_table_new_full(g_direct_hash, g_direct_equal,
						 NULL, g_free);
		rdev_push_io(rdev, &l->io);
	}
	if (!l)
		return;
	pthread_mutex_lock(&l->map_lock);
	l->armed = arm;
	g_hash_table_remove_all(l->saved);
	pthread_mutex_unlock(&l->map_lock);
}

void md_power_cut_join(struct mddev *mddev, struct md_rdev *rdev)
{
	if (atomic_load(&mddev->power_cut_armed))
		pc_arm(rdev, true);
}

/* What the power reaches: the members, and a bitmap file (md keeps it
 * on some other disk, but it goes down with the machine all the same). */
static GPtrArray *pc_targets(struct mddev *mddev)
{
	GPtrArray *v = md_rdevs_copy(mddev);

	if (mddev->bitmap_file)
		g_ptr_array_add(v, mddev->bitmap_file);
	return v;
}

/* Blocks at risk over the array's members; -1 when not armed. */
static int64_t pc_at_risk(struct mddev *mddev)
{
	int64_t n = -1;
	GPtrArray *rdevs = pc_targets(mddev);

	for (guint i = 0; i < rdevs->len; i++) {
		struct pc_layer *l = pc_of(g_ptr_array_index(rdevs, i));
		if (!l)
			continue;
		pthread_mutex_lock(&l->map_lock);
		if (l->armed && !atomic_load(&l->cut))
			n = MAX(n, 0) + g_hash_table_size(l->saved);
		pthread_mutex_unlock(&l->map_lock);
	}
	g_ptr_array_free(rdevs, TRUE);
	return n;
}

static gint by_block(gconstpointer a, gconstpointer b)
{
	guintptr x = GPOINTER_TO_SIZE(a), y = GPOINTER_TO_SIZE(b);

	return x < y ? -1 : x > y;
}

static gint by_desc_nr(gconstpointer a, gconstpointer b)
{
	const struct md_rdev *x = *(struct md_rdev *const *)a;
	const struct md_rdev *y = *(struct md_rdev *const *)b;

	return x->desc_nr - y->desc_nr;
}

/* Put back the kept blocks the cut takes (all without rand), in block
 * order; a file the writes grew shrinks back to what is left of them.
 * Called with the layer's lock held exclusive. */
static void undo_member(struct pc_layer *l, struct md_rdev *rdev, GRand *rand)
{
	pthread_mutex_lock(&l->map_lock);
	GList *blocks = g_list_sort(g_hash_table_get_keys(l->saved), by_block);
	uint64_t keep_size = l->size;

	for (GList *b = blocks; b; b = b->next) {
		uint64_t block = GPOINTER_TO_SIZE(b->data);
		if (rand && g_rand_boolean(rand)) {
			keep_size = MAX(keep_size, (block + 1) * PC_BLOCK);
			continue;
		}
		uint8_t *old = g_hash_table_lookup(l->saved, b->data);
		if (member_pwrite(NULL, rdev, old, PC_BLOCK,
				  block * PC_BLOCK) != PC_BLOCK)
			g_warning("%s: power cut: cannot restore block %" PRIu64,
				  rdev->name, block);
	}
	if (blocks && file_size(rdev) > keep_size &&
	    ftruncate(rdev->fd, keep_size) < 0)
		g_warning("%s: power cut: cannot restore the size", rdev->name);
	g_list_free(blocks);
	g_hash_table_remove_all(l->saved);
	pthread_mutex_unlock(&l->map_lock);
}

static int power_cut(struct mddev *mddev, bool seeded, uint64_t seed)
{
	if (pc_at_risk(mddev) < 0)
		return -EINVAL;
	atomic_store(&mddev->power_off, true);
	if (mddev->power_lost)
		mddev->power_lost(mddev);   /* no new requests from here */
	GPtrArray *rdevs = pc_targets(mddev);
	g_ptr_array_sort(rdevs, by_desc_nr);
	for (guint i = 0; i < rdevs->len; i++) {
		struct pc_layer *l = pc_of(g_ptr_array_index(rdevs, i));
		if (l) {
			pthread_rwlock_wrlock(&l->lock);
			atomic_store(&l->cut, true);
		}
	}
	guint32 words[2] = { seed, seed >> 32 };
	GRand *rand = seeded ? g_rand_new_with_seed_array(words, 2) : NULL;
	int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (guint i = 0; i < rdevs->len; i++) {
		struct md_rdev *rdev = g_ptr_array_index(rdevs, i);
		struct pc_layer *l = pc_of(rdev);
		if (l)
			undo_member(l, rdev, rand);
		rdev_release_file(rdev, null_fd);   /* for a remount to take */
		if (l)
			pthread_rwlock_unlock(&l->lock);
	}
	if (null_fd >= 0)
		close(null_fd);
	if (rand)
		g_rand_free(rand);
	g_ptr_array_free(rdevs, TRUE);
	return 0;
}

static void power_cut_show(struct mddev *mddev, struct md_rdev *rdev,
			   GString *out)
{
	int64_t n = pc_at_risk(mddev);

	(void)rdev;
	if (n < 0)
		g_string_append(out, "off");
	else
		g_string_append_printf(out, "armed %" PRId64, n);
}

static int power_cut_store(struct mddev *mddev, struct md_rdev *rdev,
			   const char *val)
{
	uint64_t seed;
	int cmd = ctl_parse_power_cut(val, &seed);

	(void)rdev;
	if (cmd == PC_ARM || cmd == PC_OFF) {
		/* before the copy: a member added meanwhile is armed by one */
		atomic_store(&mddev->power_cut_armed, cmd == PC_ARM);
		GPtrArray *rdevs = pc_targets(mddev);
		for (guint i = 0; i < rdevs->len; i++)
			pc_arm(g_ptr_array_index(rdevs, i), cmd == PC_ARM);
		g_ptr_array_free(rdevs, TRUE);
		return 0;
	}
	if (cmd == PC_CUT || cmd == PC_CUT_SEED)
		return power_cut(mddev, cmd == PC_CUT_SEED, seed);
	return -EINVAL;
}

const struct md_attr md_fault_attrs[] = {
	ATTR_RW(power_cut),
	{ NULL, 0, NULL, NULL },
};
