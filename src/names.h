/* Array names: what create stores for -N and what the mount serves each
 * array as.  One set of rules, so that create never makes a name the mount
 * would refuse, and the mount survives names made elsewhere. */
#pragma once
#include <glib.h>
#include "superblock.h"

#define MD_SET_NAME_MAX 32        /* v1 set_name bytes, "host:" included */

/* Why name cannot be an image's name in the mount, or NULL. */
const char *md_name_invalid(const char *name);

/* The set_name create stores for -N name: "host:name" where it fits (and
 * the host name holds no ':'), else
 * the name alone (as mdadm's super1 init_super).  0, or -1 with *why. */
int md_set_name_compose(const char *name, const char *host,
			char out[MD_SET_NAME_MAX + 1], const char **why);

/* The image name of an array with this superblock: the part of set_name
 * after "host:", else mdN; a name the mount cannot serve becomes mdN, with
 * a note on stderr. */
char *md_array_name(const struct md_sb *sb, int unit);

/* Give arrays whose names clash distinct ones, as mdadm's mdopen does
 * (NAME_0, NAME_1, ...), with a note on stderr for each renamed array. */
void md_unique_names(GPtrArray *arrays);
