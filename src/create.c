/* raidfs create: validate everything first, then write one superblock per
 * member, as mdadm --create does.  A refusal writes nothing. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"
#include "names.h"

struct create_member {
	const char *path;         /* NULL for "missing" */
	int fd;
	bool created;
	uint64_t sectors;
	struct md_sb sb;
};

void random_uuid(uint8_t uuid[16])
{
	for (int i = 0; i < 16; i += 4) {
		guint32 r = g_random_int();
		memcpy(uuid + i, &r, 4);
	}
}

/* Open (or plan to create) each member and learn its size. */
static int open_members(struct create_member *m, int n, const struct create_opts *o)
{
	for (int i = 0; i < n; i++) {
		m[i].fd = -1;
		if (!m[i].path)
			continue;
		struct stat st;
		if (stat(m[i].path, &st) < 0) {
			if (errno != ENOENT)
				return refuse("%s: %s", m[i].path, g_strerror(errno));
			if (!o->member_bytes)
				return refuse("%s does not exist; give --member-size "
					      "to create it sparse", m[i].path);
			m[i].created = true;
			m[i].sectors = o->member_bytes >> SECTOR_SHIFT;
			continue;
		}
		if (S_ISDIR(st.st_mode))
			return refuse("%s is a directory, not a member file", m[i].path);
		m[i].fd = open(m[i].path, O_RDWR | O_CLOEXEC);
		if (m[i].fd < 0)
			return refuse("%s: %s", m[i].path, g_strerror(errno));
		char busy[512];
		if (rdev_claim(m[i].fd, false, m[i].path, busy, sizeof(busy)) < 0)
			return refuse("%s", busy);
		m[i].sectors = rdev_file_sectors(m[i].fd);
		if (m[i].sectors == 0 && o->member_bytes && S_ISREG(st.st_mode)) {
			m[i].created = true;   /* empty file: size it like a new one */
			m[i].sectors = o->member_bytes >> SECTOR_SHIFT;
		}
	}
	return 0;
}

/* An existing superblock is somebody's array: only --force overwrites it. */
static int check_existing(struct create_member *m, int n, bool force)
{
	for (int i = 0; i < n; i++) {
		struct md_sb old;
		char err[256], uuid[40];
		if (m[i].fd < 0 || m[i].created)
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
	for (int i = 0; i < MD_SB_MAX_ROLES; i++)
		t->dev_roles[i] = MD_ROLE_SPARE;
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
		if (md_sb_place(&m[i].sb, o->minor, m[i].sectors, 0, err,
				sizeof(err)) < 0)
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
		if (usable < 128)
			return refuse("%s is too small: %" PRIu64 "K of data space, "
				      "need at least 64K", m[i].path,
				      m[i].sb.data_size / 2);
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
	int first = first_present(m, n);

	if (first == n)
		return refuse("every member is missing: nothing to create");
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
		/* As mdadm: a striped level uses whole chunks of each member
		 * (md's raid5_run rounds the same way). */
		if (t->chunk_sectors)
			size -= size % t->chunk_sectors;
		if (size < 128)
			return refuse("members are too small: %" PRIu64 "K of data "
				      "space, need at least 64K", size / 2);
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
 * by the probe before ours: zero any md magic at the other places md looks
 * (the data area is new anyway). */
static int clear_old_superblocks(int fd, const struct md_sb *sb)
{
	static const uint8_t zero[4096];
	uint64_t bytes = rdev_file_sectors(fd) << SECTOR_SHIFT;
	uint64_t places[] = {
		0, 4096,
		((bytes >> SECTOR_SHIFT) - 16) / 8 * 8 << SECTOR_SHIFT,  /* 1.0 */
		(bytes & ~(uint64_t)65535) - 65536,                     /* 0.90 */
	};

	for (unsigned i = 0; i < G_N_ELEMENTS(places); i++) {
		uint32_t magic = 0;
		if (places[i] == sb->super_offset << SECTOR_SHIFT ||
		    places[i] + sizeof(zero) > bytes)
			continue;
		if (pread(fd, &magic, sizeof(magic), places[i]) != sizeof(magic) ||
		    GUINT32_FROM_LE(magic) != MD_SB_MAGIC)
			continue;
		if (pwrite(fd, zero, sizeof(zero), places[i]) < 0)
			return -errno;
	}
	return 0;
}

static int write_members(struct create_member *m, int n)
{
	for (int i = 0; i < n; i++) {
		if (!m[i].path)
			continue;
		if (m[i].fd < 0) {
			m[i].fd = open(m[i].path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
			if (m[i].fd < 0) {
				fprintf(stderr, "raidfs: %s: %s\n", m[i].path,
					g_strerror(errno));
				return 1;
			}
		}
		if (m[i].created &&
		    ftruncate(m[i].fd, m[i].sectors << SECTOR_SHIFT) < 0) {
			fprintf(stderr, "raidfs: %s: %s\n", m[i].path, g_strerror(errno));
			return 1;
		}
		int r = clear_old_superblocks(m[i].fd, &m[i].sb);
		if (r == 0)
			r = md_sb_store(m[i].fd, &m[i].sb);
		if (r == 0 && fsync(m[i].fd) < 0)
			r = -errno;
		if (r < 0) {
			fprintf(stderr, "raidfs: %s: writing the superblock: %s\n",
				m[i].path, g_strerror(-r));
			return 1;
		}
	}
	return 0;
}

static void close_members(struct create_member *m, int n)
{
	for (int i = 0; i < n; i++)
		if (m[i].fd >= 0)
			close(m[i].fd);
}

int raidfs_create(struct create_opts *o, char **paths, int npaths)
{
	int total = o->raid_disks + o->spare_disks;

	if (npaths != total)
		return refuse("%d member%s given, but --raid-devices=%d and "
			      "--spare-devices=%d need %d", npaths,
			      npaths == 1 ? "" : "s", o->raid_disks,
			      o->spare_disks, total);
	if (total > MD_SB_MAX_ROLES || (o->minor == 90 && total > 27))
		return refuse("too many members for this metadata: %d", total);
	struct create_member *m = g_new0(struct create_member, total);
	int nmissing = 0;
	for (int i = 0; i < total; i++) {
		bool missing = g_ascii_strcasecmp(paths[i], "missing") == 0;
		if (missing && i >= o->raid_disks) {
			g_free(m);
			return refuse("a spare cannot be \"missing\"");
		}
		m[i].path = missing ? NULL : paths[i];
		nmissing += missing;
	}
	struct md_sb t;
	template_sb(&t, o, total);
	/* As mdadm: raid4/5 with a member missing, raid6 with two, have no
	 * resync to run and start clean (md would not start them dirty). */
	if (((o->level == 4 || o->level == 5) && nmissing >= 1) ||
	    (o->level == 6 && nmissing >= 2))
		t.resync_offset = MD_MAX_SECTOR;
	int r = name_sb(&t, o);
	if (r == 0)
		r = open_members(m, total, o);
	if (r == 0)
		r = check_existing(m, total, o->force);
	if (r == 0)
		r = plan_members(m, total, o, &t);
	if (r == 0)
		r = write_members(m, total);
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
