/* raidfs show: an array as text, or as a picture with --png: its members
 * and their states, where each member keeps which chunks (the layout's
 * first rows, as the level places them), the sync's progress, and the
 * write-intent bitmap's chunks as a heat map.  What the daemon knows comes
 * from the control files; the bitmap as the members hold it, read from a
 * member in sync. */
#include <cairo.h>
#include <fcntl.h>
#include <linux/raid/md_p.h>
#include <string.h>
#include <unistd.h>
#include "bitmap_sb.h"
#include "llbitmap.h"
#include "manage-cli.h"
#include "raid.h"

#define SHOW_ROWS 8
#define HEAT_COLS 64
#define HEAT_ROWS 16
#define HEAT_W 14             /* a heat map cell's pixels */
#define HEAT_H 12
#define PNG_W 1024            /* the picture's size, whatever the array */
#define PNG_H 768

/* A chunk's bitmap state, the more urgent the higher: llbitmap's own;
 * the classic bitmap's bit says Clean or Dirty. */
static const char *const heat_names[BitStateCount] = {
	"Unwritten", "Clean", "Dirty", "NeedSync", "Syncing",
};
static const double heat_rgb[BitStateCount][3] = {
	{ 224 / 255.0, 224 / 255.0, 224 / 255.0 }, { 0.40, 0.73, 0.42 },
	{ 1.00, 0.65, 0.15 },
	{ 0.90, 0.22, 0.21 }, { 0.26, 0.55, 0.96 },
};

struct picture {
	const struct array_ctl *a;
	const struct md_personality *pers;
	struct md_geometry g;
	uint64_t *member_sectors;
	const struct cli_member **slot;  /* by role; NULL: missing */
	int rows;
	uint64_t row_of[SHOW_ROWS];
	int64_t *cells;
	char *state, *action;            /* array_state, sync_action */
	uint64_t done, total;            /* sync_completed, sectors */
	char *bitmap;                    /* bitmap_type */
	char *bitmap_note;               /* why no heat map, NULL if there is one */
	uint64_t chunks, chunk_bytes;
	uint8_t heat[HEAT_COLS * HEAT_ROWS];
	int heat_cells;
	uint64_t counts[BitStateCount];
};

/* ---- what the picture shows ---- */

static void load_layout(struct picture *p, GPtrArray *members)
{
	const struct array_ctl *a = p->a;
	int n = p->g.raid_disks;

	p->g.layout = ctl_num(a, "layout");
	p->g.chunk_sectors = ctl_num(a, "chunk_size") >> SECTOR_SHIFT;
	if (!p->g.chunk_sectors)
		p->g.chunk_sectors = 128;
	p->g.dev_sectors = ctl_num(a, "component_size") * 2;
	p->member_sectors = g_new0(uint64_t, n);
	p->slot = g_new0(const struct cli_member *, n);
	for (guint i = 0; i < members->len; i++) {
		const struct cli_member *m = g_ptr_array_index(members, i);
		if (m->slot < 0 || m->slot >= n)
			continue;
		char *f = g_strconcat(m->dev, "/size", NULL);
		p->member_sectors[m->slot] = ctl_num(a, f) * 2;
		g_free(f);
		if (!p->slot[m->slot] || member_in_sync(m))
			p->slot[m->slot] = m;
	}
	p->g.member_sectors = p->member_sectors;
	p->cells = g_new(int64_t, (size_t)SHOW_ROWS * n);
	for (int i = 0; i < SHOW_ROWS * n; i++)
		p->cells[i] = CELL_NONE;
	p->rows = p->pers->layout_rows(&p->g, SHOW_ROWS, p->row_of, p->cells);
}

static void load_sync(struct picture *p)
{
	char *c = ctl_get(p->a, "sync_completed");

	p->state = ctl_get(p->a, "array_state");
	p->action = ctl_get(p->a, "sync_action");
	if (sscanf(c, "%" SCNu64 " / %" SCNu64, &p->done, &p->total) != 2)
		p->done = p->total = 0;
	g_free(c);
}

/* The bitmap's states per chunk, as the member at path holds them. */
static const char *read_bitmap(struct picture *p, const char *path,
			       uint8_t **map, size_t *len)
{
	char err[256];
	struct md_sb sb;
	uint64_t start, sectors;
	uint8_t bsb[BITMAP_SB_BYTES];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	const char *why = NULL;

	if (fd < 0)
		return "its member cannot be opened";
	if (md_sb_load(fd, &sb, err, sizeof(err)) < 0)
		why = "its member's superblock cannot be read";
	else if (!(sb.feature_map & MD_FEATURE_BITMAP_OFFSET))
		why = "kept in a file";
	else if (md_sb_bitmap_space(&sb, &start, &sectors, err, sizeof(err)) < 0 ||
		 pread(fd, bsb, sizeof(bsb), start << SECTOR_SHIFT) != sizeof(bsb) ||
		 get32(bsb + B_MAGIC) != BITMAP_MAGIC)
		why = "no bitmap superblock on its member";
	if (!why) {
		uint32_t version = get32(bsb + B_VERSION);
		uint64_t chunk = get32(bsb + B_CHUNKSIZE);
		uint64_t sync = get64(bsb + B_SYNC_SIZE);
		bool ll = version == BITMAP_MAJOR_LOCKLESS;
		uint64_t at = ll ? LLBITMAP_DATA_OFFSET : BITMAP_SB_BYTES;

		p->chunk_bytes = ll ? chunk << SECTOR_SHIFT : chunk;
		p->chunks = p->chunk_bytes ? ((sync << SECTOR_SHIFT) + p->chunk_bytes - 1) /
					     p->chunk_bytes : 0;
		*len = ll ? p->chunks : (p->chunks + 7) / 8;
		*map = g_malloc(*len + 1);
		if (!p->chunks || at + *len > sectors << SECTOR_SHIFT ||
		    pread(fd, *map, *len, (start << SECTOR_SHIFT) + at) != (ssize_t)*len)
			why = "its bitmap cannot be read";
	}
	close(fd);
	return why;
}

static uint8_t chunk_heat(const struct picture *p, const uint8_t *map,
			  uint64_t c)
{
	if (!strcmp(p->bitmap, "llbitmap"))   /* unknown bytes: md would sync them */
		return MIN(map[c], (uint8_t)BitNeedSync);
	return map[c / 8] >> (c % 8) & 1 ? BitDirty : BitClean;
}

/* Each heat map cell shows the most urgent state of the chunks it covers. */
static void load_bitmap(struct picture *p, GPtrArray *members)
{
	const struct cli_member *src = NULL;
	uint8_t *map = NULL;
	size_t len = 0;

	p->bitmap = bitmap_in_use(p->a);
	if (!*p->bitmap || !strcmp(p->bitmap, "none"))
		return;
	for (guint i = 0; i < members->len && !src; i++)
		if (member_in_sync(g_ptr_array_index(members, i)))
			src = g_ptr_array_index(members, i);
	const char *why = src ? read_bitmap(p, src->path, &map, &len)
			      : "no member in sync";
	if (why) {
		p->bitmap_note = g_strdup(why);
		g_free(map);
		return;
	}
	p->heat_cells = MIN(p->chunks, (uint64_t)HEAT_COLS * HEAT_ROWS);
	for (int i = 0; i < p->heat_cells; i++) {
		uint64_t lo = p->chunks * i / p->heat_cells;
		uint64_t hi = p->chunks * (i + 1) / p->heat_cells;
		for (uint64_t c = lo; c < hi; c++) {
			uint8_t h = chunk_heat(p, map, c);
			p->counts[h]++;
			p->heat[i] = MAX(p->heat[i], h);
		}
	}
	g_free(map);
}

static void picture_free(struct picture *p)
{
	g_free(p->member_sectors);
	g_free(p->slot);
	g_free(p->cells);
	g_free(p->state);
	g_free(p->action);
	g_free(p->bitmap);
	g_free(p->bitmap_note);
}

/* ---- words ---- */

/* "64K", "31.0M", "2.00G": mdadm's units, no locale's spaces. */
static void size_text(uint64_t bytes, char *buf, size_t len)
{
	if (bytes < (1 << 20))
		snprintf(buf, len, "%" PRIu64 "K", bytes >> 10);
	else if (bytes < (1ull << 30))
		snprintf(buf, len, "%.1fM", bytes / 1048576.0);
	else
		snprintf(buf, len, "%.2fG", bytes / 1073741824.0);
}

static const char *member_name(const struct cli_member *m)
{
	return m ? m->dev + strlen("dev-") : "(missing)";
}

static const char *member_word(const struct cli_member *m)
{
	if (!m)
		return "missing";
	if (member_faulty(m))
		return "faulty";
	if (member_in_sync(m))
		return "in sync";
	return has_flag(m->state, "replacement") ? "replacing" : "recovering";
}

/* "0", "P", "Q" or "" for a cell. */
static void cell_text(int64_t c, char *buf, size_t len)
{
	if (c == CELL_P || c == CELL_Q)
		snprintf(buf, len, "%s", c == CELL_P ? "P" : "Q");
	else if (c >= 0)
		snprintf(buf, len, "%" PRId64, c);
	else
		*buf = 0;
}

/* "md0: raid5 left-symmetric, 4 members of 31.0M, 64K chunks; clean" */
static char *title(const struct picture *p)
{
	char size[32], chunk[32], name[48], layout[64] = "";
	const struct md_personality *pers = p->pers;

	if (p->g.level == 5 || p->g.level == 6 || p->g.level == 10)
		snprintf(layout, sizeof(layout), " %s",
			 md_layout_name(p->g.level, p->g.layout, name, sizeof(name)));
	size_text(p->g.dev_sectors << SECTOR_SHIFT, size, sizeof(size));
	size_text((uint64_t)p->g.chunk_sectors << SECTOR_SHIFT, chunk, sizeof(chunk));
	return g_strdup_printf("%s: %s%s, %d members of %s, %s %s; %s",
			       p->a->name, pers->name, layout, p->g.raid_disks,
			       size, chunk, pers->uses_chunk ? "chunks" : "rows",
			       p->state);
}

static char *sync_text(const struct picture *p)
{
	if (!p->total || !strcmp(p->action, "idle") || !strcmp(p->action, "frozen"))
		return g_strdup_printf("sync: %s", p->action);
	return g_strdup_printf("sync: %s %.1f%% (%" PRIu64 " of %" PRIu64 " MiB)",
			       p->action, 100.0 * p->done / p->total,
			       p->done >> 11, p->total >> 11);
}

static char *bitmap_text(const struct picture *p)
{
	GString *s = g_string_new("bitmap: ");

	if (!*p->bitmap || !strcmp(p->bitmap, "none"))
		g_string_append(s, "none");
	else if (p->bitmap_note)
		g_string_append_printf(s, "%s, %s", p->bitmap, p->bitmap_note);
	else {
		char unit[32];
		size_text(p->chunk_bytes, unit, sizeof(unit));
		g_string_append_printf(s, "%s, %" PRIu64 " chunks of %s:", p->bitmap,
				       p->chunks, unit);
		for (int h = 0; h < BitStateCount; h++)
			if (p->counts[h] || !strcmp(p->bitmap, "llbitmap") ||
			    h == BitClean || h == BitDirty)
				g_string_append_printf(s, " %" PRIu64 " %s", p->counts[h],
						       heat_names[h]);
	}
	return g_string_free(s, FALSE);
}

static void print_text(const struct picture *p)
{
	char *t = title(p), *sync = sync_text(p), *bm = bitmap_text(p), cell[24];
	int n = p->g.raid_disks;

	printf("%s\n%-10s", t, "member");
	for (int s = 0; s < n; s++)
		printf(" %-12s", member_name(p->slot[s]));
	printf("\n%-10s", "state");
	for (int s = 0; s < n; s++)
		printf(" %-12s", member_word(p->slot[s]));
	putchar('\n');
	for (int i = 0; i < p->rows; i++) {
		char *off = g_strdup_printf("%" PRIu64 "K", p->row_of[i] *
					    p->g.chunk_sectors / 2);
		printf("%-10s", off);
		for (int s = 0; s < n; s++) {
			cell_text(p->cells[i * n + s], cell, sizeof(cell));
			printf(" %-12s", cell);
		}
		putchar('\n');
		g_free(off);
	}
	printf("%s\n%s\n", sync, bm);
	g_free(t), g_free(sync), g_free(bm);
}

/* ---- the picture ---- */

#define LEFT 90.0             /* row labels */
#define MEMBERS_Y 80.0
#define LAYOUT_Y 170.0
#define ROW_H 28.0
#define SYNC_Y 430.0
#define BITMAP_Y 520.0

static void rgb(cairo_t *cr, const double c[3])
{
	cairo_set_source_rgb(cr, c[0], c[1], c[2]);
}

static void text_at(cairo_t *cr, double x, double y, double size, bool bold,
		    const char *s)
{
	cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
			       bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
	cairo_set_font_size(cr, size);
	cairo_move_to(cr, x, y);
	cairo_show_text(cr, s);
}

/* Text centred in a box, left out when it does not fit. */
static void text_in(cairo_t *cr, double x, double y, double w, double size,
		    const char *s)
{
	cairo_text_extents_t e;

	cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
			       CAIRO_FONT_WEIGHT_NORMAL);
	cairo_set_font_size(cr, size);
	cairo_text_extents(cr, s, &e);
	if (e.width > w - 4)
		return;
	cairo_move_to(cr, x + (w - e.width) / 2 - e.x_bearing, y);
	cairo_show_text(cr, s);
}

static void box(cairo_t *cr, double x, double y, double w, double h,
		const double c[3])
{
	rgb(cr, c);
	cairo_rectangle(cr, x, y, w, h);
	cairo_fill(cr);
}

static double column_w(const struct picture *p)
{
	return MIN(150.0, (PNG_W - LEFT - 20) / p->g.raid_disks);
}

static void draw_members(cairo_t *cr, const struct picture *p)
{
	static const double in_sync[3] = { 0.40, 0.73, 0.42 };
	static const double syncing[3] = { 1.00, 0.76, 0.20 };
	static const double missing[3] = { 0.80, 0.80, 0.80 };
	static const double faulty[3] = { 0.90, 0.22, 0.21 };
	static const double ink[3] = { 0.1, 0.1, 0.1 };
	double w = column_w(p);

	text_at(cr, 10, MEMBERS_Y + 36, 13, true, "members");
	for (int s = 0; s < p->g.raid_disks; s++) {
		const struct cli_member *m = p->slot[s];
		double x = LEFT + s * w;
		char slot[24];
		box(cr, x + 2, MEMBERS_Y, w - 4, 60,
		    !m ? missing : member_faulty(m) ? faulty
		    : member_in_sync(m) ? in_sync : syncing);
		rgb(cr, ink);
		snprintf(slot, sizeof(slot), "slot %d", s);
		text_in(cr, x, MEMBERS_Y + 18, w, 11, slot);
		text_in(cr, x, MEMBERS_Y + 35, w, 12, member_name(m));
		text_in(cr, x, MEMBERS_Y + 52, w, 11, member_word(m));
	}
}

static const double *cell_rgb(int64_t c)
{
	static const double data[3] = { 0.62, 0.77, 0.95 };
	static const double parity[3] = { 0.74, 0.60, 0.88 };
	static const double q[3] = { 0.58, 0.45, 0.78 };
	static const double none[3] = { 0.95, 0.95, 0.95 };

	return c >= 0 ? data : c == CELL_P ? parity : c == CELL_Q ? q : none;
}

static void draw_layout(cairo_t *cr, const struct picture *p)
{
	static const double ink[3] = { 0.1, 0.1, 0.1 };
	int n = p->g.raid_disks;
	double w = column_w(p);
	char cell[24];

	rgb(cr, ink);
	text_at(cr, 10, LAYOUT_Y - 6, 13, true,
		"array chunks on each member (P, Q: parity), by member offset");
	for (int i = 0; i < p->rows; i++) {
		double y = LAYOUT_Y + 4 + i * ROW_H;
		char *off = g_strdup_printf("%" PRIu64 "K", p->row_of[i] *
					    p->g.chunk_sectors / 2);
		rgb(cr, ink);
		text_at(cr, 10, y + 18, 11, false, off);
		g_free(off);
		for (int s = 0; s < n; s++) {
			int64_t c = p->cells[i * n + s];
			box(cr, LEFT + s * w + 2, y, w - 4, ROW_H - 3, cell_rgb(c));
			rgb(cr, ink);
			cell_text(c, cell, sizeof(cell));
			text_in(cr, LEFT + s * w, y + 18, w, 12, cell);
		}
	}
}

static void draw_sync(cairo_t *cr, const struct picture *p)
{
	static const double ink[3] = { 0.1, 0.1, 0.1 };
	static const double track[3] = { 0.90, 0.90, 0.90 };
	static const double bar[3] = { 0.26, 0.55, 0.96 };
	char *s = sync_text(p);
	double w = PNG_W - LEFT - 20;

	rgb(cr, ink);
	text_at(cr, 10, SYNC_Y, 13, true, s);
	box(cr, LEFT, SYNC_Y + 12, w, 22, track);
	if (p->total)
		box(cr, LEFT, SYNC_Y + 12, w * MIN(p->done, p->total) / p->total,
		    22, bar);
	g_free(s);
}

static void draw_bitmap(cairo_t *cr, const struct picture *p)
{
	static const double ink[3] = { 0.1, 0.1, 0.1 };
	char *s = bitmap_text(p);
	double cw = HEAT_W, ch = HEAT_H;

	rgb(cr, ink);
	text_at(cr, 10, BITMAP_Y, 13, true, s);
	g_free(s);
	for (int i = 0; i < p->heat_cells; i++)
		box(cr, LEFT + i % HEAT_COLS * cw, BITMAP_Y + 12 + i / HEAT_COLS * ch,
		    cw - 1, ch - 1, heat_rgb[p->heat[i]]);
	for (int h = 0; p->heat_cells && h < BitStateCount; h++) {
		double x = LEFT + h * 130, y = BITMAP_Y + 24 + HEAT_ROWS * ch;
		box(cr, x, y - 10, 12, 12, heat_rgb[h]);
		rgb(cr, ink);
		text_at(cr, x + 18, y, 12, false, heat_names[h]);
	}
}

static int write_png(const struct picture *p, const char *file)
{
	static const double white[3] = { 1, 1, 1 };
	cairo_surface_t *sf = cairo_image_surface_create(CAIRO_FORMAT_RGB24,
							 PNG_W, PNG_H);
	cairo_t *cr = cairo_create(sf);
	char *t = title(p);

	box(cr, 0, 0, PNG_W, PNG_H, white);
	cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
	text_at(cr, 10, 34, 20, true, t);
	g_free(t);
	draw_members(cr, p);
	draw_layout(cr, p);
	draw_sync(cr, p);
	draw_bitmap(cr, p);
	cairo_status_t st = cairo_status(cr);
	if (st == CAIRO_STATUS_SUCCESS)
		st = cairo_surface_write_to_png(sf, file);
	cairo_destroy(cr);
	cairo_surface_destroy(sf);
	if (st != CAIRO_STATUS_SUCCESS) {
		fprintf(stderr, "raidfs show: %s: %s\n", file,
			cairo_status_to_string(st));
		return 1;
	}
	return 0;
}

int do_show(const struct array_ctl *a, GPtrArray *members, const char *png)
{
	struct picture p = { .a = a };

	p.g.level = level_of(a);
	p.g.raid_disks = ctl_num(a, "raid_disks");
	p.pers = md_find_personality(p.g.level);
	if (!p.pers || !p.pers->layout_rows || p.g.raid_disks < 1 ||
	    p.g.raid_disks > MD_SB_MAX_ROLES)
		return refuse("%s: not an array raidfs can show", a->name);
	load_layout(&p, members);
	load_sync(&p);
	load_bitmap(&p, members);
	int r = png ? write_png(&p, png) : (print_text(&p), 0);
	picture_free(&p);
	return r;
}
