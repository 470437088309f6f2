/* Test helper: write NAME (any bytes, up to 32) into a member's v1
 * set_name with a valid checksum, as another tool or a patched image
 * would leave it. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "../src/superblock.h"

int main(int argc, char **argv)
{
	struct md_sb sb;
	char err[256];

	if (argc != 3 || strlen(argv[2]) > 32) {
		fprintf(stderr, "usage: sb-setname MEMBER NAME (32 bytes at most)\n");
		return 2;
	}
	int fd = open(argv[1], O_RDWR);
	if (fd < 0 || md_sb_load(fd, &sb, err, sizeof(err)) < 0) {
		fprintf(stderr, "sb-setname: %s: cannot load\n", argv[1]);
		return 1;
	}
	memset(sb.set_name, 0, sizeof(sb.set_name));
	memcpy(sb.set_name, argv[2], strlen(argv[2]));
	int r = md_sb_store(fd, &sb);
	close(fd);
	return r < 0;
}
