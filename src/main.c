/* The raidfs program: subcommands with mdadm's option names and letters.
 * Exit status: 0 success, 1 the operation failed, 2 bad usage or input. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cli.h"
#include "log.h"
#include "mount.h"

/* One line saying what is wrong; the exit status for bad input. */
int refuse(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("raidfs: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return 2;
}

bool parse_options(GOptionEntry *entries, const char *params,
		   const char *summary, int *argc, char ***argv)
{
	GOptionContext *ctx = g_option_context_new(params);
	GError *err = NULL;

	/* the usage line names the program: "raidfs create", not "create" */
	if (!g_get_prgname()) {
		char *base = g_path_get_basename((*argv)[0]);
		char *name = g_str_has_prefix(base, "mount.") ? g_strdup(base) :
			     g_strconcat("raidfs ", base, NULL);
		g_set_prgname(name);
		g_free(name);
		g_free(base);
	}
	g_option_context_set_summary(ctx, summary);
	g_option_context_add_main_entries(ctx, entries, NULL);
	bool ok = g_option_context_parse(ctx, argc, argv, &err);
	if (!ok) {
		fprintf(stderr, "raidfs: %s\n", err->message);
		g_error_free(err);
	}
	g_option_context_free(ctx);
	return ok;
}

/* ---- create ---- */

static bool power_of_two(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* md's chunk rules.  raid4/5/6 and raid10 need a power of two of at least
 * a page (raid5's setup_conf, raid10's setup_geo); raid0 and linear's
 * rounding take any multiple of 1K from 4K (mdadm's parse of -c), raid0
 * also a multiple of the logical block size (create_strip_zones).  md and
 * mdadm hold the chunk as an int of bytes (mdu_array_info_t.chunk_size). */
#define MAX_CHUNK_BYTES ((uint64_t)G_MAXINT)

static int check_chunk(struct create_opts *o, const char *chunk,
		       const struct md_personality *pers)
{
	bool any = o->level == 0 || o->level == MD_LEVEL_LINEAR;
	uint64_t bytes = 512 << 10;

	if (chunk && parse_size(chunk, &bytes) < 0)
		return refuse("--chunk %s is not a size (a number of KiB, or with "
			      "a K, M or G suffix)", chunk);
	if (!pers->uses_chunk && o->level != MD_LEVEL_LINEAR) {
		o->chunk_bytes = 0;      /* md ignores it for mirrors */
		return 0;
	}
	if (o->level == MD_LEVEL_LINEAR && !chunk)
		bytes = 0;               /* no rounding unless asked */
	if (chunk && any && (bytes < 4096 || bytes % 1024 ||
			     bytes > MAX_CHUNK_BYTES))
		return refuse("--chunk %s: give a multiple of 1K from 4K to "
			      "2097151K", chunk);
	if (chunk && !any && (!power_of_two(bytes) || bytes < 4096 ||
			      bytes > MAX_CHUNK_BYTES))
		return refuse("--chunk %s: %s needs a power of two from 4K to 1G",
			      chunk, pers->name);
	o->chunk_bytes = bytes;
	return 0;
}

static int check_geometry(struct create_opts *o, const char *level,
			  const char *layout, const char *metadata,
			  const char *chunk, const char *uuid, const char *size,
			  const char *member_size, int lbs)
{
	if (!level)
		return refuse("--level is required (linear, 0, 1, 4, 5, 6, 10)");
	if (md_level_parse(level, &o->level) < 0)
		return refuse("--level %s is not an md level", level);
	const struct md_personality *pers = md_find_personality(o->level);
	if (!pers)
		return refuse("level %s is not supported yet",
				   md_level_name(o->level));
	o->redundant = pers->sync_request != NULL;
	if (o->raid_disks < 1 || o->raid_disks > MD_SB_MAX_ROLES)
		return refuse("--raid-devices %d: give the number of active "
			      "members, 1 to %d", o->raid_disks, MD_SB_MAX_ROLES);
	if (o->raid_disks < 2 && !o->force)
		return refuse("%d is an unusual number of members for an "
				   "array; use --force if you mean it", o->raid_disks);
	if (o->raid_disks < pers->min_disks)
		return refuse("%s needs at least %d members", pers->name,
				   pers->min_disks);
	if (o->spare_disks < 0 || o->spare_disks > MD_SB_MAX_ROLES)
		return refuse("--spare-devices %d: give the number of spares, 0 "
			      "to %d", o->spare_disks, MD_SB_MAX_ROLES);
	o->layout_given = layout != NULL;
	if (layout ? md_layout_parse(o->level, layout, &o->layout) < 0
		   : md_layout_default(o->level, o->raid_disks, &o->layout) < 0)
		return refuse("--layout %s is not a %s layout", layout,
				   pers->name);
	char why[160];
	if (pers->check_geometry &&
	    pers->check_geometry(o->raid_disks, o->layout, why, sizeof(why)) < 0)
		return refuse("--layout %s: %s", layout ? layout : "(default)", why);
	if (parse_metadata(metadata, &o->minor) < 0)
		return refuse("--metadata %s: use 1.2, 1.1, 1.0 or 0.90",
				   metadata);
	int r = check_chunk(o, chunk, pers);
	if (r)
		return r;
	if (uuid ? md_uuid_parse(uuid, o->uuid) < 0 : false)
		return refuse("--uuid %s is not a UUID", uuid);
	uint64_t bytes;
	if (size && strcmp(size, "max") != 0) {
		if (parse_size(size, &bytes) < 0 || bytes < 1024)
			return refuse("--size %s: give the space to use on each "
				      "member (KiB, or with a K, M, G or T suffix), "
				      "or max", size);
		o->size_sectors = bytes >> SECTOR_SHIFT;
	}
	/* A file offset is an off_t. */
	if (member_size && (parse_size(member_size, &o->member_bytes) < 0 ||
			    o->member_bytes < (1 << 20) ||
			    o->member_bytes > (uint64_t)G_MAXINT64))
		return refuse("--member-size %s: give a size from 1M to 8388607T",
				   member_size);
	if (lbs != G_MININT && (lbs < 512 || lbs > 65536 || !power_of_two(lbs)))
		return refuse("--logical-block-size %d: use a power of two "
				   "from 512 to 65536", lbs);
	o->logical_block_size = lbs == G_MININT ? 0 : lbs;
	if (o->level == 0 && lbs > 0 && o->chunk_bytes % lbs)
		return refuse("--chunk %" PRIu64 "K is not a multiple of the "
			      "logical block size %d", o->chunk_bytes >> 10, lbs);
	return 0;
}

/* -b none|internal|lockless|PATH and --bitmap-chunk, as mdadm's Create
 * takes them (llbitmap is mdadm's alias of lockless, whose chunk md
 * chooses). */
static int check_bitmap(struct create_opts *o, const char *bitmap,
			const char *chunk)
{
	o->llbitmap = bitmap && (strcmp(bitmap, "lockless") == 0 ||
				 strcmp(bitmap, "llbitmap") == 0);
	o->bitmap = o->llbitmap || (bitmap && strcmp(bitmap, "internal") == 0);
	/* a slash, so that a mistyped type is not taken for a file name */
	if (bitmap && !o->bitmap && strchr(bitmap, '/'))
		o->bitmap_file = bitmap;
	else if (bitmap && !o->bitmap && strcmp(bitmap, "none") != 0)
		return refuse("--bitmap %s: give none, internal, lockless or the path "
			      "of a bitmap file (with a /, as ./%s)", bitmap, bitmap);
	if (chunk && ((!o->bitmap && !o->bitmap_file) || o->llbitmap))
		return refuse("--bitmap-chunk needs --bitmap internal or a bitmap file");
	if (chunk && (parse_size(chunk, &o->bitmap_chunk) < 0 ||
		      o->bitmap_chunk < 4096 || !power_of_two(o->bitmap_chunk)))
		return refuse("--bitmap-chunk %s: give a power of two of at least "
			      "4K", chunk);
	return 0;
}

static int cmd_create(int argc, char **argv)
{
	struct create_opts o = { .raid_disks = 0 };
	char *level = NULL, *layout = NULL, *metadata = NULL, *chunk = NULL;
	char *uuid = NULL, *size = NULL, *member_size = NULL, *bitmap = NULL;
	char *bitmap_chunk = NULL;
	int lbs = G_MININT;           /* not given */
	gboolean assume_clean = FALSE, force = FALSE;
	char *name = NULL;
	GOptionEntry entries[] = {
		{ "level", 'l', 0, G_OPTION_ARG_STRING, &level, "RAID level: linear, 0, 1, 4, 5, 6, 10", "LEVEL" },
		{ "raid-devices", 'n', 0, G_OPTION_ARG_INT, &o.raid_disks, "Number of active members", "N" },
		{ "spare-devices", 'x', 0, G_OPTION_ARG_INT, &o.spare_disks, "Number of spares", "N" },
		{ "chunk", 'c', 0, G_OPTION_ARG_STRING, &chunk, "Chunk size (default 512K)", "SIZE" },
		{ "layout", 'p', 0, G_OPTION_ARG_STRING, &layout, "md layout name", "LAYOUT" },
		{ "metadata", 'e', 0, G_OPTION_ARG_STRING, &metadata, "Superblock: 1.2 (default), 1.1, 1.0, 0.90", "VER" },
		{ "bitmap", 'b', 0, G_OPTION_ARG_STRING, &bitmap, "Write-intent bitmap: none (default), internal, lockless (llbitmap) or a file's path", "TYPE" },
		{ "bitmap-chunk", 0, 0, G_OPTION_ARG_STRING, &bitmap_chunk, "Bitmap chunk (KiB or suffix; default as mdadm: at least 64M)", "SIZE" },
		{ "assume-clean", 0, 0, G_OPTION_ARG_NONE, &assume_clean, "Skip the initial resync", NULL },
		{ "name", 'N', 0, G_OPTION_ARG_STRING, &name, "Array name (the image's name)", "NAME" },
		{ "uuid", 'u', 0, G_OPTION_ARG_STRING, &uuid, "Array UUID", "UUID" },
		{ "size", 'z', 0, G_OPTION_ARG_STRING, &size, "Space used on each member (KiB or suffix)", "SIZE" },
		{ "logical-block-size", 0, 0, G_OPTION_ARG_INT, &lbs, "Logical block size, 512..65536", "BYTES" },
		{ "member-size", 0, 0, G_OPTION_ARG_STRING, &member_size, "Create missing member files sparse, this large", "SIZE" },
		{ "force", 'f', 0, G_OPTION_ARG_NONE, &force, "Overwrite existing superblocks, allow odd geometry", NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	int r = 2;

	if (!parse_options(entries, "MEMBER...", "Write md superblocks to member files.",
			   &argc, &argv))
		goto out;
	o.assume_clean = assume_clean;
	o.force = force;
	o.name = name;
	random_uuid(o.uuid);
	r = check_bitmap(&o, bitmap, bitmap_chunk);
	if (r)
		goto out;
	r = check_geometry(&o, level, layout, metadata, chunk, uuid, size,
			   member_size, lbs);
	if (r == 0)
		r = raidfs_create(&o, argv + 1, argc - 1);
out:
	g_free(level); g_free(layout); g_free(metadata); g_free(chunk);
	g_free(uuid); g_free(size); g_free(member_size); g_free(bitmap);
	g_free(bitmap_chunk);
	g_free(name);
	return r;
}

/* ---- examine ---- */

static int cmd_examine(int argc, char **argv)
{
	GOptionEntry entries[] = { { NULL, 0, 0, 0, NULL, NULL, NULL } };
	int r = 0;

	if (!parse_options(entries, "MEMBER...", "Print md superblocks as mdadm --examine does.",
			   &argc, &argv))
		return 2;
	if (argc < 2)
		return refuse("examine needs at least one member file");
	for (int i = 1; i < argc; i++) {
		struct md_sb sb;
		char err[512] = "";
		int fd = member_open(argv[i], O_RDONLY, err, sizeof(err));
		if (fd < 0) {
			r = refuse("%s", err);
			continue;
		}
		/* Like mdadm, show a damaged superblock, checksum verdict and all. */
		int e = md_sb_load_flags(fd, &sb, MD_SB_LOAD_LENIENT, err, sizeof(err));
		close(fd);
		if (e == -ENOENT)
			r = refuse("%s: no md superblock found", argv[i]);
		else if (e < 0)
			r = refuse("%s: %s", argv[i], err[0] ? err : g_strerror(-e));
		else
			md_sb_examine(stdout, argv[i], &sb);
	}
	return r;
}

/* ---- mount ---- */

static int parse_mount_option(struct mount_opts *o, const char *opt)
{
	static const char *const ignored[] = {
		"rw", "defaults", "auto", "noauto", "user", "nouser", "nofail",
		"_netdev", "nosuid", "suid", "nodev", "dev", "exec", "noexec",
		"atime", "noatime", "relatime", "default_permissions", NULL,
	};
	const char *eq = strchr(opt, '=');
	size_t klen = eq ? (size_t)(eq - opt) : strlen(opt);
	unsigned *num = NULL;

	if (!strcmp(opt, "ro"))
		o->ro = true;
	else if (!strcmp(opt, "allow_other"))
		o->allow_other = true;
	else if (!strcmp(opt, "debug"))
		o->debug = o->foreground = true;
	else if (!strcmp(opt, "run"))
		o->run = true;
	else if (!strcmp(opt, "writeback_cache"))
		o->no_writeback_cache = false;
	else if (!strcmp(opt, "no_writeback_cache"))
		o->no_writeback_cache = true;
	else if (eq && klen == 14 && !strncmp(opt, "sync_speed_min", klen))
		num = &o->sync_speed_min;
	else if (eq && klen == 14 && !strncmp(opt, "sync_speed_max", klen))
		num = &o->sync_speed_max;
	else if (eq && klen == 7 && !strncmp(opt, "threads", klen))
		num = &o->threads;
	else if (eq && klen == 6 && !strncmp(opt, "bitmap", klen) && eq[1])
		g_ptr_array_add(o->bitmaps, g_strdup(eq + 1));
	else if (!g_strv_contains(ignored, opt))
		return refuse("unknown mount option '%s'", opt);
	if (num) {
		char *end;
		unsigned long v = strtoul(eq + 1, &end, 10);
		if (end == eq + 1 || *end || v == 0 || v > 1000000000)
			return refuse("mount option %s needs a positive number", opt);
		*num = v;
	}
	return 0;
}

static int parse_mount_options(struct mount_opts *o, char **opts)
{
	for (int i = 0; opts && opts[i]; i++) {
		char **list = g_strsplit(opts[i], ",", -1);
		for (int j = 0; list[j]; j++) {
			if (*list[j] && parse_mount_option(o, list[j])) {
				g_strfreev(list);
				return 2;
			}
		}
		g_strfreev(list);
	}
	return 0;
}

/* A SOURCE is a directory (every file in it, sorted) or a member file. */
static int collect_sources(char **sources, int n, GPtrArray *paths)
{
	for (int i = 0; i < n; i++) {
		struct stat st;
		if (stat(sources[i], &st) < 0)
			return refuse("%s: %s", sources[i], g_strerror(errno));
		if (!S_ISDIR(st.st_mode)) {
			char err[512];
			int fd = member_open(sources[i], O_RDONLY, err, sizeof(err));
			if (fd < 0)
				return refuse("%s", err);
			close(fd);
			g_ptr_array_add(paths, g_strdup(sources[i]));
			continue;
		}
		struct dirent **list;
		int k = scandir(sources[i], &list, NULL, alphasort);
		if (k < 0)
			return refuse("%s: %s", sources[i], g_strerror(errno));
		for (int j = 0; j < k; j++) {
			char *p = g_build_filename(sources[i], list[j]->d_name, NULL);
			struct stat fst;
			if (list[j]->d_name[0] != '.' && stat(p, &fst) == 0 &&
			    (S_ISREG(fst.st_mode) || S_ISBLK(fst.st_mode)))
				g_ptr_array_add(paths, p);
			else
				g_free(p);
			free(list[j]);
		}
		free(list);
	}
	return 0;
}

/* Descriptors beside the members' and those open now (stdio, what the
 * caller left open): /dev/fuse, the pipe to the waiting parent, and spares
 * (/dev/null at daemon start, the power cut's).  io_uring rings and
 * libfuse's per-thread /dev/fuse clones are extras: without them IO falls
 * back to syscalls and one queue. */
#define FD_MARGIN 13

static unsigned open_fds(void)
{
	GDir *dir = g_dir_open("/proc/self/fd", 0, NULL);
	unsigned n = 0;

	if (!dir)
		return 3;
	while (g_dir_read_name(dir))
		n++;
	g_dir_close(dir);
	return n - 1;    /* not the directory's own */
}

/* Room for every member file open at once, the soft limit raised to the
 * hard one first as daemons do: a member left out for want of a descriptor
 * would make the array degraded, and that would be written. */
static int check_fd_limit(unsigned files)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	unsigned need = open_fds() + files + FD_MARGIN;
	if (rl.rlim_cur == RLIM_INFINITY || need <= rl.rlim_cur)
		return 0;
	return refuse("%u member file%s need %u file descriptors, the limit is "
		      "%llu: raise it (ulimit -n)", files, files == 1 ? "" : "s",
		      need, (unsigned long long)rl.rlim_cur);
}

/* glibc unwinds pthread_exit and pthread_cancel (libfuse cancels its
 * workers at unmount) with libgcc_s, which it dlopens on first use: load
 * it now, while a descriptor is free, or the unmount would abort with
 * descriptors exhausted and leave the arrays unstopped. */
static void preload_unwinder(void)
{
	if (!dlopen("libgcc_s.so.1", RTLD_NOW | RTLD_NODELETE))
		fprintf(stderr, "raidfs: warning: %s\n", dlerror());
}

static void apply_speed_limits(GPtrArray *arrays, const struct mount_opts *o)
{
	for (guint i = 0; i < arrays->len; i++) {
		struct mddev *mddev = g_ptr_array_index(arrays, i);
		if (o->sync_speed_min)
			mddev->sync_speed_min = o->sync_speed_min;
		if (o->sync_speed_max)
			mddev->sync_speed_max = o->sync_speed_max;
	}
}

/* Without -f the daemon is a child forked before assembly, so that every
 * thread the arrays start (raid5d, sync, safe mode) is born in it.  Returns
 * -1 in the child, which signals *ready_fd once the mount is up; in the
 * parent, the exit status: 0 once the child is ready, else the child's. */
static int daemon_fork(int *ready_fd)
{
	int p[2], status;
	char c;
	ssize_t n;

	if (pipe2(p, O_CLOEXEC) < 0)
		return perror("raidfs: pipe"), 1;
	pid_t pid = fork();
	if (pid < 0)
		return perror("raidfs: fork"), 1;
	if (pid == 0) {
		close(p[0]);
		setsid();
		*ready_fd = p[1];
		return -1;
	}
	close(p[1]);
	do
		n = read(p[0], &c, 1);
	while (n < 0 && errno == EINTR);
	close(p[0]);
	if (n == 1)
		return 0;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 1;
	return WIFEXITED(status) && WEXITSTATUS(status) ? WEXITSTATUS(status) : 1;
}

static int cmd_mount(int argc, char **argv)
{
	struct mount_opts o = { .threads = 16, .ready_fd = -1,
				.bitmaps = g_ptr_array_new_with_free_func(g_free) };
	char **opts = NULL;
	gboolean fg = FALSE, debug = FALSE, sloppy = FALSE, verbose = FALSE;
	gboolean fake = FALSE, nomtab = FALSE;
	char *type = NULL, **bitmaps = NULL;
	GOptionEntry entries[] = {
		{ "options", 'o', 0, G_OPTION_ARG_STRING_ARRAY, &opts, "ro, allow_other, debug, run, [no_]writeback_cache, sync_speed_min=N, sync_speed_max=N, threads=N, bitmap=FILE", "OPTS" },
		{ "foreground", 'f', 0, G_OPTION_ARG_NONE, &fg, "Stay in the foreground", NULL },
		{ "debug", 'd', 0, G_OPTION_ARG_NONE, &debug, "FUSE debug output (implies -f)", NULL },
		{ "sloppy", 's', G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &sloppy, NULL, NULL },
		{ "verbose", 'v', G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &verbose, NULL, NULL },
		{ "fake", 'F', G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &fake, NULL, NULL },
		{ "no-mtab", 'n', G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &nomtab, NULL, NULL },
		{ "type", 't', G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &type, NULL, NULL },
		{ "bitmap", 'b', 0, G_OPTION_ARG_FILENAME_ARRAY, &bitmaps, "The classic bitmap of an array is in FILE (mdadm -A --bitmap; repeat for more arrays)", "FILE" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	GPtrArray *paths = g_ptr_array_new_with_free_func(g_free);
	GPtrArray *arrays = g_ptr_array_new();
	char *mnt = NULL;
	int r = 2;

	if (!parse_options(entries, "SOURCE... MOUNTPOINT",
			   "Assemble the md arrays in SOURCE and serve them at MOUNTPOINT.",
			   &argc, &argv))
		goto out;
	o.foreground = fg || debug;
	o.debug = debug;
	if ((r = parse_mount_options(&o, opts)))
		goto out;
	for (char **b = bitmaps; b && *b; b++)
		g_ptr_array_add(o.bitmaps, g_strdup(*b));
	g_ptr_array_add(o.bitmaps, NULL);
	r = 2;
	if (argc < 3) {
		refuse("mount needs SOURCE and MOUNTPOINT");
		goto out;
	}
	struct stat st;
	if (stat(argv[argc - 1], &st) < 0 || !S_ISDIR(st.st_mode)) {
		refuse("mount point %s %s", argv[argc - 1], errno == ENOENT ?
			    "does not exist" : "is not a directory");
		goto out;
	}
	/* The daemon leaves its directory; unmounting must still find it. */
	if (!(mnt = realpath(argv[argc - 1], NULL))) {
		refuse("mount point %s: %s", argv[argc - 1], g_strerror(errno));
		goto out;
	}
	if ((r = collect_sources(argv + 1, argc - 2, paths)) ||
	    (r = check_fd_limit(paths->len)))
		goto out;
	preload_unwinder();
	if (!o.foreground && (r = daemon_fork(&o.ready_fd)) >= 0)
		goto out;
	int members;
	int started = md_assemble((const char *const *)paths->pdata, paths->len,
				  (const char *const *)o.bitmaps->pdata, o.ro, o.run,
				  arrays, &members);
	if (started == -EBUSY || started == -EINVAL) {
		r = 2;        /* said which file, and why */
		goto out;
	}
	if (members == 0) {
		r = refuse("no md superblock in %s (%u file%s probed); make an "
				"array with 'raidfs create'", argv[1], paths->len,
				paths->len == 1 ? "" : "s");
		goto out;
	}
	if (started <= 0) {
		r = refuse("no array could be started from %s: see the reasons "
				"above", argv[1]);
		goto out;
	}
	apply_speed_limits(arrays, &o);
	r = raidfs_serve(arrays, mnt, &o);
out:
	for (guint i = 0; i < arrays->len; i++)
		md_free(g_ptr_array_index(arrays, i));
	g_ptr_array_free(arrays, TRUE);
	g_ptr_array_free(paths, TRUE);
	g_strfreev(opts);
	g_strfreev(bitmaps);
	g_ptr_array_free(o.bitmaps, TRUE);
	g_free(type);
	free(mnt);
	return r;
}

static int help(FILE *out, int status)
{
	fputs("usage: raidfs COMMAND [OPTIONS] ...\n\n"
	      "  create  [-l LEVEL -n N ...] MEMBER...   write md superblocks\n"
	      "  examine MEMBER...                       print superblocks (-E)\n"
	      "  mount   [-o OPTS] [-f] SOURCE... DIR    serve arrays over FUSE\n"
	      "  status  [MOUNTPOINT...]                 every array, a line each\n\n"
	      "On an array image in the mount (IMAGE, its control files in "
	      "IMAGE.md/):\n", out);
	raidfs_manage_help(out);
	fputs("\n'raidfs COMMAND --help' lists a command's options.\n", out);
	return status;
}

int main(int argc, char **argv)
{
	char *prog = g_path_get_basename(argv[0]);
	/* mount(8)'s helpers: -t raidfs, and -t fuse.raidfs as /proc/mounts
	 * shows the type */
	bool as_mount = !strcmp(prog, "mount.raidfs") ||
			!strcmp(prog, "mount.fuse.raidfs");

	g_free(prog);
	log_init();
	if (as_mount)
		return cmd_mount(argc, argv);
	if (argc < 2)
		return help(stderr, 2);
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help"))
		return help(stdout, 0);
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
		printf("raidfs %s\n", PACKAGE_VERSION);
		return 0;
	}
	/* mdadm's spellings of the same commands */
	if (!strcmp(cmd, "--create") || !strcmp(cmd, "-C"))
		cmd = argv[1] = "create";
	if (!strcmp(cmd, "--examine") || !strcmp(cmd, "-E"))
		cmd = argv[1] = "examine";
	if (!strcmp(cmd, "--detail") || !strcmp(cmd, "-D"))
		cmd = argv[1] = "detail";
	if (!strcmp(cmd, "create"))
		return cmd_create(argc - 1, argv + 1);
	if (!strcmp(cmd, "examine"))
		return cmd_examine(argc - 1, argv + 1);
	if (!strcmp(cmd, "mount"))
		return cmd_mount(argc - 1, argv + 1);
	if (!strcmp(cmd, "status"))
		return raidfs_status(argc - 1, argv + 1);
	if (raidfs_manage_known(cmd))
		return raidfs_manage(argc - 1, argv + 1);
	return refuse("unknown command '%s'; 'raidfs --help' lists the commands", cmd);
}
