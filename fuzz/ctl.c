/* Control files: a started array (raid1, raid5, raid10 or raid0 over
 * memfd members) and a few stores, each followed by a show of every file.
 * Input: a level byte, then stores of (table, file, member, value up to a
 * NUL): the table is one of ctl.h's (array, member, fault, the level's
 * own, or the member's fault), the file its writable file by number, the
 * member for a member's file. */
#include "common.h"
#include "../src/ctl.h"

static const int levels[] = { 1, 5, 10, 0 };

/* The i-th (modulo their number) attribute with a store; NULL if none. */
static const struct md_attr *writable(const struct md_attr *t, unsigned i)
{
	unsigned n = 0;

	for (const struct md_attr *a = t; a && a->name; a++)
		n += a->store != NULL;
	i = n ? i % n : 0;
	for (const struct md_attr *a = t; n && a->name; a++)
		if (a->store && i-- == 0)
			return a;
	return NULL;
}

static void show_all(struct mddev *mddev, const struct md_attr *t,
		     struct md_rdev *rdev, GString *out)
{
	for (const struct md_attr *a = t; a && a->name; a++)
		if (a->show)
			a->show(mddev, rdev, out);
}

static void show_every(struct mddev *mddev)
{
	GString *out = g_string_new(NULL);
	GPtrArray *one = g_ptr_array_new();

	show_all(mddev, md_attrs, NULL, out);
	show_all(mddev, md_fault_attrs, NULL, out);
	show_all(mddev, mddev->pers->attrs, NULL, out);
	for (guint i = 0; i < mddev->rdevs->len; i++) {
		show_all(mddev, rdev_attrs, g_ptr_array_index(mddev->rdevs, i), out);
		show_all(mddev, rdev_fault_attrs, g_ptr_array_index(mddev->rdevs, i), out);
	}
	g_ptr_array_add(one, mddev);
	md_mdstat(one, out);
	g_ptr_array_free(one, TRUE);
	g_string_free(out, TRUE);
}

static void store(struct mddev *mddev, struct fz *in)
{
	uint8_t table = fz_u8(in) % 5, which = fz_u8(in), member = fz_u8(in);
	const struct md_attr *tables[] = { md_attrs, rdev_attrs, md_fault_attrs,
					   mddev->pers->attrs, rdev_fault_attrs };
	const struct md_attr *a = writable(tables[table], which);
	struct md_rdev *rdev = table == 1 || table == 4 ?
		g_ptr_array_index(mddev->rdevs, member % mddev->rdevs->len) : NULL;
	char *val = g_strndup((const char *)in->p, in->n);
	size_t len = strlen(val);

	in->p += MIN(len + 1, in->n);
	in->n -= MIN(len + 1, in->n);
	/* A latency would only slow the fuzzer down; new_dev would write a
	 * superblock onto whatever file a path names. */
	if (a && strcmp(a->name, "latency_us") && strcmp(a->name, "new_dev"))
		a->store(mddev, rdev, val);
	g_free(val);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz in = { data, size };
	int level = levels[fz_u8(&in) % G_N_ELEMENTS(levels)];
	struct fz_set s;

	fz_set_make(&s, level, 2, level == 5 ? 3 : 2, false,
		    FZ_MEMBER_BYTES);
	GPtrArray *arrays = fz_assemble(&s, false, false);
	if (arrays->len != 1)
		abort();      /* the template must start */
	struct mddev *mddev = g_ptr_array_index(arrays, 0);

	md_start(mddev);
	for (int i = 0; i < 4 && in.n; i++) {
		store(mddev, &in);
		show_every(mddev);
	}
	fz_stop(arrays);
	fz_set_close(&s);
	return 0;
}
