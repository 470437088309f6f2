/* raidfs create: validate everything first, then write one superblock per
 * member, as mdadm --create does.  A refusal writes nothing. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"
#include "llbitmap.h"
#include "names.h"

/* A 4 KiB region create writes on an existing member, as it was. */
struct saved_region {
	uint64_t pos;
	uint8_t *old;
	ssize_t len;
};

#define MAX_REGIONS 5             /* the superblock's and four old places */
#define SB_BYTES 4096             /* what md_sb_store writes, at most */

struct create_member {
	const char *path;         /* NULL for "missing" */
	int fd;
	dev_t dev;
	ino_t ino;
	bool created;             /* create made the file: removed on failure */
	bool sized;               /* an empty file create sized: emptied again */
	bool written;             /* regions saved and (partly) written */
	uint64_t sectors;
	struct md_sb sb;
	uint8_t *bitmap;          /* -b internal: written after the sb */
	size_t bitmap_len;
	struct saved_region saved[MAX_REGIONS];
	int nsaved;
};

/* Open the member, creating it sparse (it is then create's to remove)
 * when it does not exist and --member-size says how large.  member_open
 * refuses what is no member (a FIFO or a tty never blocks it) by kind. */
static int open_member(struct create_member *c, const struct create_opts *o)
{
	char err[512];
	int r = member_open(c->path, O_RDWR, err, sizeof(err));

	c->fd = r < 0 ? -1 : r;
	if (r == -ENOENT && o->member_bytes) {
		c->fd = open(c->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (c->fd < 0 && errno == EEXIST)   /* O_EXCL: not through links */
			return refuse("%s is a symbolic link to nothing; give the "
				      "path of the file to create", c->path);
		if (c->fd < 0)
			return refuse("%s: cannot create it: %s", c->path,
				      g_strerror(errno));
		c->created = true;
	} else if (r == -ENOENT) {
		return refuse("%s does not exist; give --member-size to create "
			      "it sparse", c->path);
	} else if (r < 0) {
		return refuse("%s", err);
	}
	struct stat st;
	if (fstat(c->fd, &st) < 0)
		return refuse("%s: %s", c->path, g_strerror(errno));
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	c->sized = S_ISREG(st.st_mode) && st.st_size == 0 && o->member_bytes;
	return 0;
}

/* One file given twice (by another path, a link or a symbolic link) would
 * become two members of one array. */
static int check_duplicate(const struct create_member *m, int i)
{
	for (int j = 0; j < i; j++)
		if (m[j].path && m[j].dev == m[i].dev && m[j].ino == m[i].ino)
			return refuse("%s and %s are the same file: give each "
				      "member once", m[j].path, m[i].path);
	return 0;
}

/* Open or create each member and learn its size. */
static int open_members(struct create_member *m, int n, const struct create_opts *o)
{
	for (int i = 0; i < n; i++) {
		if (!m[i].path)
			continue;
		int r = open_member(&m[i], o);
		if (r == 0)
			r = check_duplicate(m, i);
		if (r)
			return r;
		char busy[512];
		if (rdev_claim(m[i].fd, false, m[i].path, busy, sizeof(busy)) < 0)
			return refuse("%s", busy);
		if (m[i].sized && ftruncate(m[i].fd, o->member_bytes) < 0)
			return refuse("%s: cannot make it %" PRIu64 " bytes long: %s",
				      m[i].path, o->member_bytes, g_strerror(errno));
		m[i].sectors = rdev_file_sectors(m[i].fd);
	}
	return 0;
}

/* An existing superblock is somebody's array: only --force overwrites it. */
static int check_existing(struct create_member *m, int n, bool force)
{
	for (int i = 0; i < n; i++) {
		struct md_sb old;
		char err[256], uuid[40];
		if (m[i].fd < 0 || m[i].sized)
			continue;
		int r = md_sb_load(m[i].fd, &old, err, sizeof(err));
		if (r == -ENOENT || (r < 0 && force) || (r == 0 && force))
			continue;
		if (r < 0)
			return refuse("%s holds a damaged md superblock (%s); use "
				      "--force to overwrite it", m[i].path, err);
		md_uuid_format(old.set_uuid, uuid);
		return refuse("%s already belongs to md array %s; use --force to "
			      "overwrite it", m[i].path, uuid);
	}
	return 0;
}

/* -N as md keeps it: every name the mount could not serve is refused. */
static int name_sb(struct md_sb *t, const struct create_opts *o)
{
	char host[64] = "";
	const char *why;

	if (!o->name)
		return 0;
	gethostname(host, sizeof(host) - 1);
	if (md_set_name_compose(o->name, host, t->set_name, &why) == 0) {
		/* As mdadm, which drops it without a word. */
		if (o->minor == 90)
			fprintf(stderr, "raidfs: note: 0.90 metadata has no name "
				"field: the mount serves the array as mdN\n");
		return 0;
	}
	char *shown = g_strescape(o->name, NULL);
	int r = refuse("--name \"%s\": %s", shown, why);
	g_free(shown);
	return r;
}

static void template_sb(struct md_sb *t, const struct create_opts *o, int total)
{
	memset(t, 0, sizeof(*t));
	t->major = o->minor == 90 ? 0 : 1;
	t->minor = o->minor;
	memcpy(t->set_uuid, o->uuid, 16);
	t->ctime = t->utime = g_get_real_time() / G_USEC_PER_SEC;
	t->level = o->level;
	t->layout = o->layout;
	t->chunk_sectors = o->chunk_bytes >> SECTOR_SHIFT;
	t->raid_disks = o->raid_disks;
	t->logical_block_size = o->logical_block_size;
	t->events = 1;
	t->resync_offset = o->assume_clean || !o->redundant ? MD_MAX_SECTOR : 0;
	t->max_dev = MAX(total, 128);   /* what mdadm reserves */
	if (o->bitmap)
		t->feature_map |= MD_FEATURE_BITMAP_OFFSET;
	for (int i = 0; i < MD_SB_MAX_ROLES; i++)
		t->dev_roles[i] = MD_ROLE_SPARE;
}

/* The room create leaves an internal bitmap (mdadm's choose_bm_space; 0.90
 * has 60K after its superblock), 0 for none. */
static uint64_t bitmap_room(const struct create_opts *o, uint64_t size)
{
	if (!o->bitmap)
		return 0;
	if (o->llbitmap)    /* md's llbitmap wants its 128 KiB whole */
		return MAX(md_sb_bm_space(size), LLBITMAP_RESERVED_SECTORS);
	return o->minor == 90 ? 120 : md_sb_bm_space(size);
}

/* Place every present member's superblock; 0 or a refusal's status. */
static int place_all(struct create_member *m, int n, const struct create_opts *o,
		     const struct md_sb *t, uint64_t size, uint64_t data_offset)
{
	char err[256];

	for (int i = 0; i < n; i++) {
		if (!m[i].path)
			continue;
		m[i].sb = *t;
		m[i].sb.size = size;
		m[i].sb.data_offset = data_offset;
		if (md_sb_place(&m[i].sb, o->minor, m[i].sectors,
				bitmap_room(o, size), err, sizeof(err)) < 0)
			return refuse("%s: %s", m[i].path, err);
	}
	return 0;
}

static int first_present(struct create_member *m, int n)
{
	int i = 0;

	while (i < n && !m[i].path)
		i++;
	return i;
}

/* Non-redundant levels use each member whole: at least one chunk each, and
 * md records no component size for them. */
static int check_whole_members(struct create_member *m, int n,
			       const struct create_opts *o, struct md_sb *t)
{
	uint64_t chunk = t->chunk_sectors ? t->chunk_sectors : 8;
	bool differ = false;

	if (o->size_sectors)
		return refuse("--size is meaningless for %s: every member is "
			      "used whole", md_level_name(o->level));
	for (int i = 0; i < n; i++) {
		uint64_t usable = m[i].sb.data_size - m[i].sb.data_size % chunk;
		if (!m[i].path)
			continue;
		if (usable < MAX(chunk, 128))
			return refuse("%s is too small: %" PRIu64 "K of data space, "
				      "need at least %" PRIu64 "K (64K, and a "
				      "whole chunk)", m[i].path,
				      m[i].sb.data_size / 2, MAX(chunk, 128) / 2);
		differ |= usable != m[0].sb.data_size - m[0].sb.data_size % chunk;
	}
	/* As mdadm: the raid0 layout is only recorded where it matters. */
	if (o->level == 0 && (differ || o->layout_given))
		t->feature_map |= MD_FEATURE_RAID0_LAYOUT;
	return 0;
}

/* mdadm's plan: the component size is the smallest member's, the data
 * offset the first member's, and every member is placed again with both. */
static int plan_members(struct create_member *m, int n, struct create_opts *o,
			struct md_sb *t)
{
	int first = first_present(m, n);   /* raidfs_create saw one */
	int r = place_all(m, n, o, t, 0, 0);
	if (r)
		return r;
	uint64_t data_offset = o->minor == 1 || o->minor == 2
			       ? m[first].sb.data_offset : 0;
	if (!o->redundant) {
		r = check_whole_members(m, n, o, t);
		if (r == 0)
			r = place_all(m, n, o, t, 0, data_offset);
	} else {
		uint64_t size = UINT64_MAX;
		for (int i = 0; i < n; i++)
			if (m[i].path)
				size = MIN(size, m[i].sb.size);
		if (o->size_sectors > size)
			return refuse("--size %" PRIu64 "K is larger than the "
				      "smallest member allows (%" PRIu64 "K)",
				      o->size_sectors / 2, size / 2);
		if (o->size_sectors)
			size = o->size_sectors;
		uint64_t need = MAX(t->chunk_sectors, 128);
		if (size < need)
			return refuse("members are too small: %" PRIu64 "K of data "
				      "space, need at least %" PRIu64 "K (64K, and "
				      "a whole chunk)", size / 2, need / 2);
		/* As mdadm: a striped level uses whole chunks of each member
		 * (md's raid5_run rounds the same way). */
		if (t->chunk_sectors)
			size -= size % t->chunk_sectors;
		t->size = size;
		r = place_all(m, n, o, t, size, data_offset);
	}
	if (r)
		return r;
	for (int i = 0; i < n; i++) {
		m[i].sb.dev_number = i;
		random_uuid(m[i].sb.device_uuid);
		if (m[i].path)
			t->dev_roles[i] = i < o->raid_disks ? i : MD_ROLE_SPARE;
	}
	for (int i = 0; i < n; i++) {
		memcpy(m[i].sb.dev_roles, t->dev_roles, sizeof(t->dev_roles));
		m[i].sb.feature_map = t->feature_map;
	}
	return 0;
}

/* Superblocks of other versions left from an earlier life would be found
 * by the probe before ours: the places md looks that hold md magic are
 * zeroed (the data area is new anyway).  Every region create writes is
 * saved first, so that a failed create leaves the member as it was. */
static void save_regions(struct create_member *c)
{
	uint64_t bytes = c->sectors << SECTOR_SHIFT;
	uint64_t sb_pos = c->sb.super_offset << SECTOR_SHIFT;
	uint64_t places[] = {
		sb_pos, 0, 4096,
		((bytes >> SECTOR_SHIFT) - 16) / 8 * 8 << SECTOR_SHIFT,  /* 1.0 */
		(bytes & ~(uint64_t)65535) - 65536,                     /* 0.90 */
	};
	G_STATIC_ASSERT(G_N_ELEMENTS(places) == MAX_REGIONS);

	for (unsigned i = 0; i < G_N_ELEMENTS(places); i++) {
		uint32_t magic = 0;
		if (i > 0 && (places[i] == sb_pos || places[i] + SB_BYTES > bytes ||
			      pread(c->fd, &magic, sizeof(magic), places[i]) !=
			      sizeof(magic) || GUINT32_FROM_LE(magic) != MD_SB_MAGIC))
			continue;
		struct saved_region *s = &c->saved[c->nsaved++];
		s->pos = places[i];
		s->old = g_malloc(SB_BYTES);
		s->len = pread(c->fd, s->old, SB_BYTES, s->pos);
	}
	c->written = true;
}

/* The sectors md's bitmap covers: raid10's array (raid10_size), the
 * component otherwise. */
static uint64_t bitmap_cover(const struct md_sb *t)
{
	if (t->level != 10 || !t->chunk_sectors)
		return t->size;
	uint64_t copies = (t->layout & 0xff) * ((t->layout >> 8) & 0xff);
	return t->size / t->chunk_sectors * t->raid_disks / MAX(copies, 1) *
	       t->chunk_sectors;
}

/* mdadm's --bitmap=lockless: llbitmap's area on every member, all of it
 * Unwritten (its first load leaves raid456 parity to be built lazily) or,
 * for an array created clean, Clean. */
static int plan_llbitmap(struct create_member *m, int n, const struct md_sb *t)
{
	bool clean = t->resync_offset == MD_MAX_SECTOR;

	for (int i = 0; i < n; i++) {
		if (!m[i].path)
			continue;
		m[i].bitmap = llbitmap_new_area(&m[i].sb, bitmap_cover(t),
						LLBITMAP_RESERVED_SECTORS, clean,
						&m[i].bitmap_len);
		if (!m[i].bitmap)
			return refuse("%s: no room for an llbitmap", m[i].path);
	}
	return 0;
}

/* mdadm's CreateBitmap: the file written before the members, every bit
 * set; created (O_EXCL) unless --force, never over a member.  *made: the
 * file is create's, to remove if the members cannot be written. */
static int write_bitmap_file(const struct create_member *m, int n,
			     const struct create_opts *o, const struct md_sb *t,
			     bool *made)
{
	uint32_t chunk;
	char err[200];
	struct stat st;

	if (md_bitmap_choose_chunk(bitmap_cover(t), 0, o->bitmap_chunk, &chunk, err,
				   sizeof(err)) < 0)
		return refuse("%s", err);
	for (int i = 0; i < n; i++)
		if (m[i].path && stat(o->bitmap_file, &st) == 0 &&
		    st.st_dev == m[i].dev && st.st_ino == m[i].ino)
			return refuse("bitmap file %s is the member %s", o->bitmap_file,
				      m[i].path);
	int fd = open(o->bitmap_file, O_WRONLY | O_CREAT | O_CLOEXEC |
		      (o->force ? O_TRUNC : O_EXCL), 0644);
	if (fd < 0 && errno == EEXIST)
		return refuse("bitmap file %s already exists; --force overwrites it",
			      o->bitmap_file);
	if (fd < 0)
		return refuse("bitmap file %s: %s", o->bitmap_file, g_strerror(errno));
	*made = true;
	size_t len;
	uint8_t *buf = md_bitmap_new(t, bitmap_cover(t), chunk, true, &len);
	int r = pwrite(fd, buf, len, 0) == (ssize_t)len && fsync(fd) == 0 ? 0 : -1;
	if (r < 0)
		r = refuse("bitmap file %s: %s", o->bitmap_file, g_strerror(errno));
	g_free(buf);
	close(fd);
	return r;
}

/* mdadm's add_internal_bitmap and write_bitmap: the chunk for the room
 * left, every member's bitmap with every bit set (the array's resync
 * says which need syncing). */
static int plan_bitmap(struct create_member *m, int n, const struct create_opts *o,
		       const struct md_sb *t)
{
	uint32_t chunk;
	char err[200];

	if (o->llbitmap)
		return plan_llbitmap(m, n, t);
	if (!o->bitmap)
		return 0;
	if (md_bitmap_choose_chunk(bitmap_cover(t), bitmap_room(o, t->size),
				   o->bitmap_chunk, &chunk, err, sizeof(err)) < 0)
		return refuse("%s", err);
	for (int i = 0; i < n; i++)
		if (m[i].path)
			m[i].bitmap = md_bitmap_new(&m[i].sb, bitmap_cover(t), chunk,
						    false, &m[i].bitmap_len);
	return 0;
}

static int write_bitmap(const struct create_member *c)
{
	int64_t at = ((int64_t)c->sb.super_offset + c->sb.bitmap_offset) << SECTOR_SHIFT;

	if (!c->bitmap)
		return 0;
	if (pwrite(c->fd, c->bitmap, c->bitmap_len, at) != (ssize_t)c->bitmap_len)
		return errno ? -errno : -EIO;
	return 0;
}

static int write_member(struct create_member *c)
{
	static const uint8_t zero[SB_BYTES];

	save_regions(c);
	for (int i = 1; i < c->nsaved; i++)
		if (pwrite(c->fd, zero, SB_BYTES, c->saved[i].pos) != SB_BYTES)
			return errno ? -errno : -EIO;
	int r = write_bitmap(c);
	if (r == 0)
		r = md_sb_store(c->fd, &c->sb);
	if (r == 0 && fsync(c->fd) < 0)
		r = -errno;
	return r;
}

static int write_members(struct create_member *m, int n)
{
	for (int i = 0; i < n; i++) {
		if (!m[i].path)
			continue;
		errno = 0;
		int r = write_member(&m[i]);
		if (r < 0) {
			fprintf(stderr, "raidfs: %s: writing the superblock: %s; "
				"nothing was changed\n", m[i].path, g_strerror(-r));
			return 1;
		}
	}
	return 0;
}

/* Put back a region a failed create changed (one whose write failed may
 * hold anything, or nothing new). */
static void restore_region(const struct create_member *c,
			   const struct saved_region *s)
{
	uint8_t now[SB_BYTES];

	if (s->len <= 0 || (pread(c->fd, now, s->len, s->pos) == s->len &&
			    memcmp(now, s->old, s->len) == 0))
		return;
	if (pwrite(c->fd, s->old, s->len, s->pos) != s->len || fsync(c->fd) < 0)
		fprintf(stderr, "raidfs: %s: putting back what was at byte %"
			PRIu64 ": %s\n", c->path, s->pos, g_strerror(errno));
}

/* After a refusal or a failed write: the files create made go, the empty
 * files it sized are empty again, the others get their regions back. */
static void undo_members(struct create_member *m, int n)
{
	for (int i = 0; i < n; i++) {
		if (m[i].created) {
			unlink(m[i].path);
		} else if (m[i].sized) {
			if (ftruncate(m[i].fd, 0) < 0)
				perror("raidfs: emptying a member again");
		} else if (m[i].written) {
			for (int k = 0; k < m[i].nsaved; k++)
				restore_region(&m[i], &m[i].saved[k]);
		}
	}
}

static void close_members(struct create_member *m, int n)
{
	for (int i = 0; i < n; i++) {
		if (m[i].fd >= 0)
			close(m[i].fd);
		for (int k = 0; k < m[i].nsaved; k++)
			g_free(m[i].saved[k].old);
		g_free(m[i].bitmap);
	}
}

/* Could md ever start the array with these members missing?  The level's
 * own answer (md's enough(), as assembly asks it) over stand-in members. */
static int check_startable(const struct create_opts *o, const struct md_sb *t,
			   const struct create_member *m, int nmissing)
{
	struct mddev mddev = {
		.pers = md_find_personality(o->level),
		.sb = *t, .level = o->level, .layout = o->layout,
		.chunk_sectors = t->chunk_sectors, .raid_disks = o->raid_disks,
	};
	struct md_rdev *present = g_new0(struct md_rdev, o->raid_disks);

	mddev.slots = g_new0(struct md_rdev *_Atomic, o->raid_disks);
	for (int i = 0; i < o->raid_disks; i++) {
		atomic_store(&present[i].flags, RDEV_IN_SYNC);
		mddev.slots[i] = m[i].path ? &present[i] : NULL;
	}
	atomic_store(&mddev.degraded, nmissing);
	bool enough = md_enough(&mddev, -1);
	g_free(mddev.slots);
	g_free(present);
	if (enough)
		return 0;
	return refuse("%s with %d of %d members missing could never start: "
		      "give more members", mddev.pers->name, nmissing,
		      o->raid_disks);
}

/* The members as given: "missing" leaves a gap; 0 or a refusal. */
static int take_paths(struct create_member *m, const struct create_opts *o,
		      char **paths, int total, int *nmissing)
{
	*nmissing = 0;
	for (int i = 0; i < total; i++)
		m[i].fd = -1;
	for (int i = 0; i < total; i++) {
		bool missing = g_ascii_strcasecmp(paths[i], "missing") == 0;
		if (missing && i >= o->raid_disks)
			return refuse("a spare cannot be \"missing\"");
		if (!*paths[i])
			return refuse("member %d is an empty path", i + 1);
		m[i].path = missing ? NULL : paths[i];
		*nmissing += missing;
	}
	return 0;
}

int raidfs_create(struct create_opts *o, char **paths, int npaths)
{
	int total = o->raid_disks + o->spare_disks;   /* each at most 384 */

	if (npaths != total)
		return refuse("%d member%s given, but --raid-devices=%d and "
			      "--spare-devices=%d need %d", npaths,
			      npaths == 1 ? "" : "s", o->raid_disks,
			      o->spare_disks, total);
	if (total > MD_SB_MAX_ROLES || (o->minor == 90 && total > 27))
		return refuse("too many members for this metadata: %d", total);
	struct create_member *m = g_new0(struct create_member, total);
	struct md_sb t;
	int nmissing;
	template_sb(&t, o, total);
	int r = take_paths(m, o, paths, total, &nmissing);
	if (r == 0)
		r = name_sb(&t, o);
	if (r == 0 && nmissing == total)
		r = refuse("every member is missing: nothing to create");
	if (r == 0)
		r = check_startable(o, &t, m, nmissing);
	/* As mdadm: raid4/5 with a member missing, raid6 with two, have no
	 * resync to run and start clean (md would not start them dirty). */
	if (((o->level == 4 || o->level == 5) && nmissing >= 1) ||
	    (o->level == 6 && nmissing >= 2))
		t.resync_offset = MD_MAX_SECTOR;
	if (r == 0)
		r = open_members(m, total, o);
	if (r == 0)
		r = check_existing(m, total, o->force);
	if (r == 0 && (o->bitmap || o->bitmap_file) && !o->redundant)
		r = refuse("--bitmap %s: %s has no redundancy to keep in step",
			   o->llbitmap ? "lockless" : o->bitmap ? "internal"
			   : o->bitmap_file, md_level_name(o->level));
	if (r == 0 && o->llbitmap && o->minor == 90)
		r = refuse("--bitmap lockless needs 1.x metadata (0.90 keeps 60K for a "
			   "bitmap)");
	if (r == 0)
		r = plan_members(m, total, o, &t);
	if (r == 0)
		r = plan_bitmap(m, total, o, &t);
	bool file_made = false;
	if (r == 0 && o->bitmap_file)
		r = write_bitmap_file(m, total, o, &t, &file_made);
	if (r == 0)
		r = write_members(m, total);
	if (r)
		undo_members(m, total);
	if (r && file_made)
		unlink(o->bitmap_file);
	close_members(m, total);
	if (r == 0) {
		char uuid[40];
		md_uuid_format(o->uuid, uuid);
		printf("raidfs: created %s array %s: %d member%s of %" PRIu64
		       "K, UUID %s\n", md_level_name(o->level),
		       *t.set_name ? t.set_name : "(unnamed)", o->raid_disks,
		       o->raid_disks == 1 ? "" : "s",
		       (o->redundant ? t.size
				     : m[first_present(m, total)].sb.data_size) / 2, uuid);
	}
	g_free(m);
	return r;
}
