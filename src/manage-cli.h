/* What raidfs's commands over control files share (manage-cli.c, and
 * detail-cli.c for detail and wait). */
#pragma once
#include "cli.h"

struct array_ctl {
	char *image;
	char *dir;                /* IMAGE.md */
	char *name;               /* the image's name, md's array name */
};

/* A member as its dev-NAME/ directory shows it. */
struct cli_member {
	char *dev;                /* "dev-NAME" */
	char *path;               /* the file the daemon holds */
	char *state;              /* dev-NAME/state, md's comma list */
	int slot;                 /* -1: none */
	int number;               /* md's desc_nr, from mdstat; -1 unknown */
};

/* IMAGE is an array image in a raidfs mount: IMAGE.md/ is beside it;
 * else a refusal (2), said. */
int array_ctl_open(const char *image, struct array_ctl *a);
void array_ctl_free(struct array_ctl *a);

/* IMAGE.md/FILE without its newline; NULL when it cannot be read. */
char *ctl_read(const struct array_ctl *a, const char *file);
/* The same, "" when it cannot be read. */
char *ctl_get(const struct array_ctl *a, const char *file);
bool ctl_is(const struct array_ctl *a, const char *file, const char *value);
/* The array's lines in the mount's mdstat, the first after "NAME : ";
 * none when it is not there (g_strfreev). */
char **ctl_mdstat(const struct array_ctl *a);
long long ctl_num(const struct array_ctl *a, const char *file);
int level_of(const struct array_ctl *a);
/* The array's UUID as its uuid file reads it, without the dashes. */
char *uuid_hex(const struct array_ctl *a);

/* Every dev-NAME/ of the array, in md's descriptor order. */
GPtrArray *members_list(const struct array_ctl *a);
bool has_flag(const char *state, const char *flag);
bool member_faulty(const struct cli_member *m);
bool member_in_sync(const struct cli_member *m);

/* detail-cli.c */
int do_detail(const struct array_ctl *a, GPtrArray *members);
int do_wait(const struct array_ctl *a);
/* bitmap_type's word in brackets: "none", "bitmap" or "llbitmap" */
char *bitmap_in_use(const struct array_ctl *a);

/* show-cli.c: as text, or the picture into png */
int do_show(const struct array_ctl *a, GPtrArray *members, const char *png);
