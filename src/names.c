/* Array names at create and at mount.  An image is served as a file in the
 * mount's root next to mdstat and its NAME.md control directory, and
 * mdstat lists it as "NAME : active ...": a name must be a file name with
 * no whitespace, not one of the root's own entries, and not end in ".md". */
#include <string.h>
#include "names.h"
#include "raid.h"

static bool plain(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f || s[i] == '/')
			return false;
	return true;
}

const char *md_name_invalid(const char *name)
{
	static const char *const reserved[] = { ".", "..", "mdstat", NULL };

	if (!*name)
		return "it is empty";
	if (strlen(name) > MD_SET_NAME_MAX)
		return "it is longer than the 32 bytes md keeps";
	if (g_strv_contains(reserved, name))
		return "the mount has an entry of that name";
	if (g_str_has_suffix(name, ".md"))
		return "names ending in .md are the mount's control directories";
	if (!plain(name, strlen(name)))
		return "it holds a '/', a space or a control character";
	return NULL;
}

int md_set_name_compose(const char *name, const char *host,
			char out[MD_SET_NAME_MAX + 1], const char **why)
{
	const char *colon = strchr(name, ':');
	size_t len = strlen(name);

	*why = md_name_invalid(colon ? colon + 1 : name);
	if (!*why && colon && !plain(name, colon - name))
		*why = "its host part holds a '/', a space or a control character";
	if (*why)
		return -1;
	/* The mount serves what follows the first ':', so a host name
	 * holding one would change the name: then the name goes alone. */
	if (!colon && *host && !strchr(host, ':') &&
	    strlen(host) + 1 + len <= MD_SET_NAME_MAX)
		g_snprintf(out, MD_SET_NAME_MAX + 1, "%s:%s", host, name);
	else if (len <= MD_SET_NAME_MAX)
		g_strlcpy(out, name, MD_SET_NAME_MAX + 1);
	else
		return *why = "with its host it is longer than the 32 bytes md "
			      "keeps", -1;
	return 0;
}

char *md_array_name(const struct md_sb *sb, int unit)
{
	const char *colon = strchr(sb->set_name, ':');
	const char *name = colon ? colon + 1 : sb->set_name;
	const char *why = *name ? md_name_invalid(name) : NULL;
	char *fallback = g_strdup_printf("md%d", unit);
	char uuid[40];

	if (*name && !why) {
		g_free(fallback);
		return g_strdup(name);
	}
	if (why) {
		char *shown = g_strescape(sb->set_name, NULL);
		md_uuid_format(sb->set_uuid, uuid);
		fprintf(stderr, "raidfs: array %s is served as %s: its name \"%s\" "
			"cannot name a file in the mount (%s)\n", uuid, fallback,
			shown, why);
		g_free(shown);
	}
	return fallback;
}

void md_unique_names(GPtrArray *arrays)
{
	/* Threads of a running array may be printing its old name: it stays
	 * allocated, reachable from here. */
	static GPtrArray *retired;
	GHashTable *taken = g_hash_table_new(g_str_hash, g_str_equal);

	for (guint i = 0; i < arrays->len; i++) {
		struct mddev *mddev = g_ptr_array_index(arrays, i);
		struct mddev *owner = g_hash_table_lookup(taken, mddev->name);
		char *name = NULL;

		for (int k = 0; owner && (!name || g_hash_table_contains(taken, name)); k++) {
			g_free(name);
			name = g_strdup_printf("%s_%d", mddev->name, k);
		}
		if (name) {
			char uuid[40], first[40];
			md_uuid_format(mddev->sb.set_uuid, uuid);
			md_uuid_format(owner->sb.set_uuid, first);
			fprintf(stderr, "raidfs: array %s is served as %s: array %s "
				"is served as %s\n", uuid, name, first, owner->name);
			if (!retired)
				retired = g_ptr_array_new();
			g_ptr_array_add(retired, mddev->name);
			mddev->name = name;
		}
		g_hash_table_insert(taken, mddev->name, mddev);
	}
	g_hash_table_destroy(taken);
}
