/* What the libFuzzer targets share: reading the input, member files in
 * memory (memfd) and member sets made as raidfs create makes them. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "../src/raid.h"

#define FZ_MAX_MEMBERS 4
#define FZ_MEMBER_BYTES (4ull << 20)

/* The fuzz input, consumed from the front; exhausted reads give 0. */
struct fz {
	const uint8_t *p;
	size_t n;
};
uint8_t fz_u8(struct fz *in);
uint32_t fz_u32(struct fz *in);

/* An empty member file of bytes, in memory; its path for md_assemble. */
int fz_member(uint64_t bytes);
void fz_path(int fd, char path[32]);

/* The superblock's 4 KiB region at pos: checksum recomputed so that the
 * fuzz reaches validation (major 0: 0.90, else v1). */
void fz_fix_csum(uint8_t buf[4096], int major);

/* Members of one array, made as create makes them: v1.minor or 0.90
 * (minor 90), clean, one role each, with an internal bitmap on request,
 * each member of bytes (FZ_MEMBER_BYTES unless seeds need another). */
struct fz_set {
	int n;
	int fds[FZ_MAX_MEMBERS];
	struct md_sb sb[FZ_MAX_MEMBERS];
	uint64_t sb_pos[FZ_MAX_MEMBERS];      /* bytes */
	uint64_t bitmap_pos[FZ_MAX_MEMBERS];  /* bytes; 0 without a bitmap */
};
void fz_set_make(struct fz_set *s, int level, int minor, int n, bool bitmap,
		 uint64_t bytes);
void fz_set_close(struct fz_set *s);

/* md_assemble over the set's files; the arrays started. */
GPtrArray *fz_assemble(struct fz_set *s, bool ro, bool run);
/* md_stop and md_free each array of fz_assemble, and the list. */
void fz_stop(GPtrArray *arrays);
