/* Create's option texts, parsed without side effects (the cli fuzz
 * target runs them). */
#include <errno.h>
#include <string.h>
#include "cli.h"

/* A size as mdadm takes it: a number of KiB, or with a K/M/G/T suffix. */
int parse_size(const char *s, uint64_t *bytes)
{
	char *end;
	errno = 0;
	/* strtoull would take " 5" and "-5" (as 2^64 - 5): digits only. */
	if (!g_ascii_isdigit(*s))
		return -EINVAL;
	guint64 v = g_ascii_strtoull(s, &end, 10);

	if (errno || end == s)
		return -EINVAL;
	int shift = 10;
	switch (g_ascii_toupper(*end)) {
	case '\0': break;
	case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	case 'T': shift = 40; end++; break;
	default: return -EINVAL;
	}
	if (*end == 'i' || *end == 'B')
		end += *end == 'i' && end[1] == 'B' ? 2 : 1;
	if (*end || v > (UINT64_MAX >> shift))
		return -EINVAL;
	*bytes = v << shift;
	return 0;
}

/* -e as mdadm names the versions; none given is 1.2. */
int parse_metadata(const char *s, int *minor)
{
	if (!s || !strcmp(s, "default") || !strcmp(s, "1.2") || !strcmp(s, "1"))
		*minor = 2;
	else if (!strcmp(s, "1.1"))
		*minor = 1;
	else if (!strcmp(s, "1.0"))
		*minor = 0;
	else if (!strcmp(s, "0.90") || !strcmp(s, "0.9") || !strcmp(s, "0"))
		*minor = 90;
	else
		return -EINVAL;
	return 0;
}
