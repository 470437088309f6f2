/* Claiming member files: one daemon (or create) at a time may write a
 * member, so two never serve the same array.  The claim is a flock on the
 * member's open file, held as long as that file is open: exclusive for
 * writers, shared for read-only mounts (which then exclude writers only). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include "raid.h"

/* The pid holding a lock on fd's file, from /proc/locks; 0 if unknown.
 * The device there is the filesystem's, which stat may not show (btrfs
 * subvolumes), so an inode match alone is the fallback. */
static pid_t lock_holder(int fd)
{
	struct stat st;
	FILE *f = fstat(fd, &st) == 0 ? fopen("/proc/locks", "re") : NULL;
	char line[256];
	pid_t found = 0;

	while (f && fgets(line, sizeof(line), f)) {
		unsigned maj, min;
		unsigned long ino;
		int pid;
		if (sscanf(line, "%*d: %*s %*s %*s %d %x:%x:%lu", &pid, &maj,
			   &min, &ino) != 4 || ino != st.st_ino)
			continue;
		if (maj == major(st.st_dev) && min == minor(st.st_dev)) {
			found = pid;
			break;
		}
		if (!found)
			found = pid;
	}
	if (f)
		fclose(f);
	return found;
}

/* "PATH is in use by raidfs pid N (its command line)". */
static void describe_holder(int fd, const char *path, char *err, size_t errlen)
{
	pid_t pid = lock_holder(fd);
	char *file = g_strdup_printf("/proc/%d/cmdline", pid);
	char *cmd = NULL;
	gsize len = 0;

	if (pid > 0 && g_file_get_contents(file, &cmd, &len, NULL) && len) {
		char *prog = g_path_get_basename(cmd);    /* argv[0] */
		for (gsize i = 0; i + 1 < len; i++)
			if (!cmd[i])
				cmd[i] = ' ';
		snprintf(err, errlen, "%s is in use by %s pid %d (%s)", path,
			 prog, pid, cmd);
		g_free(prog);
	} else if (pid > 0) {
		snprintf(err, errlen, "%s is in use by pid %d", path, pid);
	} else {
		snprintf(err, errlen, "%s is in use by another process", path);
	}
	g_free(cmd);
	g_free(file);
}

/* 0, or -EBUSY with err naming who holds the member. */
int rdev_claim(int fd, bool shared, const char *path, char *err, size_t errlen)
{
	if (flock(fd, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) == 0)
		return 0;
	if (errno != EWOULDBLOCK)
		return 0;     /* a filesystem without locks: nothing to learn */
	describe_holder(fd, path, err, errlen);
	return -EBUSY;
}
