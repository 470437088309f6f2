/* Test helper: mark a member's superblock as recovering, recovered up to
 * SECTORS, as md leaves a member whose recovery was interrupted. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <linux/raid/md_p.h>
#include "../src/superblock.h"

int main(int argc, char **argv)
{
	struct md_sb sb;
	char err[256];

	if (argc != 3) {
		fprintf(stderr, "usage: sb-recovering MEMBER SECTORS\n");
		return 2;
	}
	int fd = open(argv[1], O_RDWR);
	if (fd < 0 || md_sb_load(fd, &sb, err, sizeof(err)) < 0) {
		fprintf(stderr, "sb-recovering: %s: cannot load\n", argv[1]);
		return 1;
	}
	sb.feature_map |= MD_FEATURE_RECOVERY_OFFSET;
	sb.recovery_offset = strtoull(argv[2], NULL, 0);
	int r = md_sb_store(fd, &sb);
	close(fd);
	return r < 0;
}
