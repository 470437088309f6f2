/* Subcommands of the raidfs program. */
#pragma once
#include "raid.h"

struct create_opts {
	int level;
	uint32_t layout;
	int raid_disks, spare_disks;
	uint64_t chunk_bytes;
	int minor;                /* 0, 1, 2 for v1.x; 90 for 0.90 */
	const char *name;
	uint8_t uuid[16];
	uint64_t size_sectors;    /* 0: as large as the members allow */
	uint64_t member_bytes;    /* size of member files we create */
	uint32_t logical_block_size;
	bool assume_clean, force, redundant, layout_given;
	bool bitmap;              /* -b internal or lockless */
	bool llbitmap;            /* -b lockless (llbitmap): version 6 */
	const char *bitmap_file;  /* -b PATH: the classic bitmap in a file */
	uint64_t bitmap_chunk;    /* --bitmap-chunk bytes; 0: mdadm's default */
};

int raidfs_create(struct create_opts *o, char **paths, int npaths);
/* Create's option texts (parse.c): 0, or -EINVAL. */
int parse_size(const char *s, uint64_t *bytes);   /* mdadm's K default */
int parse_metadata(const char *s, int *minor);    /* 0, 1, 2 or 90 */
void random_uuid(uint8_t uuid[16]);
int refuse(const char *fmt, ...) G_GNUC_PRINTF(1, 2);   /* prints, returns 2 */
/* Option parsing shared by the commands: false after saying why. */
bool parse_options(GOptionEntry *entries, const char *params,
		   const char *summary, int *argc, char ***argv);

/* manage-cli.c: detail, fail, remove, add, re-add, replace, check, repair,
 * stop and wait over an image's control files.  raidfs_manage takes the
 * command's name as argv[0]. */
bool raidfs_manage_known(const char *name);
void raidfs_manage_help(FILE *out);
/* raidfs status [MOUNTPOINT...]: argv[0] is "status". */
int raidfs_status(int argc, char **argv);
int raidfs_manage(int argc, char **argv);
