/* Parsers of user text in the library: level, layout (every level), uuid,
 * sync action, the control files' unsigned, create's sizes and metadata
 * versions, and the array name rules.  What parses must print back and
 * parse again, to the same value; a name create accepts must be the name
 * the mount serves, and every name the mount serves must pass its own
 * rules.  Input: a selector byte, a level byte for layouts, then the text
 * (for -N: the name, then after a newline the host name). */
#include <inttypes.h>
#include <stdlib.h>
#include "common.h"
#include "../src/cli.h"
#include "../src/ctl.h"
#include "../src/names.h"

static const int levels[] = { MD_LEVEL_LINEAR, 0, 1, 4, 5, 6, 10 };

static void level(const char *s)
{
	int l, again;

	if (md_level_parse(s, &l) == 0 &&
	    (!md_level_name(l) || md_level_parse(md_level_name(l), &again) ||
	     again != l))
		abort();
}

static void layout(int level, const char *s)
{
	uint32_t v, again;
	char buf[64];
	const char *name;

	if (md_layout_parse(level, s, &v) == 0 &&
	    (name = md_layout_name(level, v, buf, sizeof(buf))) &&
	    (md_layout_parse(level, name, &again) || again != v))
		abort();
}

static void uuid(const char *s)
{
	uint8_t u[16], again[16];
	char text[40];

	if (md_uuid_parse(s, u) == 0) {
		md_uuid_format(u, text);
		if (md_uuid_parse(text, again) || memcmp(u, again, 16))
			abort();
	}
}

/* -z, -c, --member-size: a multiple of 1K that prints back in K. */
static void sizes(const char *s)
{
	uint64_t bytes, again;
	char text[32];

	if (parse_size(s, &bytes) == 0) {
		snprintf(text, sizeof(text), "%" PRIu64 "K", bytes >> 10);
		if (bytes % 1024 || parse_size(text, &again) || again != bytes)
			abort();
	}
}

static void metadata(const char *s)
{
	int minor;

	if (parse_metadata(s, &minor) == 0 && minor != 0 && minor != 1 &&
	    minor != 2 && minor != 90)
		abort();
}

/* The image name the mount serves for set_name; it must be servable. */
static char *served(const char *set_name)
{
	struct md_sb *sb = g_new0(struct md_sb, 1);

	g_strlcpy(sb->set_name, set_name, sizeof(sb->set_name));
	char *name = md_array_name(sb, 0);
	g_free(sb);
	if (md_name_invalid(name))
		abort();
	return name;
}

/* create -N name on host: what it stores is served as the name given. */
static void names(char *s)
{
	char *nl = strchr(s, '\n'), out[MD_SET_NAME_MAX + 1];
	const char *host = nl ? nl + 1 : "", *why;

	if (nl)
		*nl = '\0';
	if (strlen(host) >= 64)
		return;               /* create asks gethostname for 63 bytes */
	if (md_set_name_compose(s, host, out, &why) == 0) {
		const char *colon = strchr(s, ':');
		char *name = served(out);
		if (strlen(out) > MD_SET_NAME_MAX || strcmp(name, colon ? colon + 1 : s))
			abort();
		g_free(name);
	}
	g_free(served(s));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz in = { data, size };
	uint8_t which = fz_u8(&in), lvl = fz_u8(&in);
	char *s = g_strndup((const char *)in.p, in.n);
	enum sync_action action;
	unsigned u;

	switch (which % 8) {
	case 0: level(s); break;
	case 1: layout(levels[lvl % G_N_ELEMENTS(levels)], s); break;
	case 2: uuid(s); break;
	case 3:
		if (md_sync_action_parse(s, &action) == 0 &&
		    !md_sync_action_name(action))
			abort();
		break;
	case 4: ctl_parse_uint(s, &u); break;
	case 5: sizes(s); break;
	case 6: metadata(s); break;
	default: names(s); break;
	}
	g_free(s);
	return 0;
}
