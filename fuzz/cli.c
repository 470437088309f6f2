/* Parsers of user text in the library: level, layout (every level), uuid,
 * sync action, the control files' unsigned.  What parses must print back
 * and parse again, to the same value where the name is one of a table
 * (raid10's "o1" is named "n1": the same placement, another number).  Input: a selector byte, a level byte for
 * layouts, then the text. */
#include <stdlib.h>
#include "common.h"
#include "../src/ctl.h"

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
	    (md_layout_parse(level, name, &again) || (again != v && level != 10)))
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz in = { data, size };
	uint8_t which = fz_u8(&in), lvl = fz_u8(&in);
	char *s = g_strndup((const char *)in.p, in.n);
	enum sync_action action;
	unsigned u;

	switch (which % 5) {
	case 0: level(s); break;
	case 1: layout(levels[lvl % G_N_ELEMENTS(levels)], s); break;
	case 2: uuid(s); break;
	case 3:
		if (md_sync_action_parse(s, &action) == 0 &&
		    !md_sync_action_name(action))
			abort();
		break;
	default: ctl_parse_uint(s, &u); break;
	}
	g_free(s);
	return 0;
}
