/* raid5's stripe cache: see stripe_cache.h. */
#include <stdlib.h>
#include <string.h>
#include "stripe_cache.h"

static void lru_unlink(struct sc_entry *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
	e->prev = e->next = NULL;
}

static void lru_append(struct stripe_cache *sc, struct sc_entry *e)
{
	e->prev = sc->lru.prev;
	e->next = &sc->lru;
	sc->lru.prev->next = e;
	sc->lru.prev = e;
}

static void dirty_unlink(struct stripe_cache *sc, struct sc_entry *e)
{
	e->dprev->dnext = e->dnext;
	e->dnext->dprev = e->dprev;
	e->dprev = e->dnext = NULL;
	atomic_fetch_sub(&sc->ndirty, 1);
}

static void dirty_append(struct stripe_cache *sc, struct sc_entry *e)
{
	e->dprev = sc->dirty.dprev;
	e->dnext = &sc->dirty;
	sc->dirty.dprev->dnext = e;
	sc->dirty.dprev = e;
	e->dirty_since = g_get_monotonic_time();
	atomic_fetch_add(&sc->ndirty, 1);
}

void sc_init(struct stripe_cache *sc, int members, uint32_t window, unsigned max)
{
	memset(sc, 0, sizeof(*sc));
	pthread_mutex_init(&sc->lock, NULL);
	sc->table = g_hash_table_new(g_int64_hash, g_int64_equal);
	sc->lru.prev = sc->lru.next = &sc->lru;
	sc->dirty.dprev = sc->dirty.dnext = &sc->dirty;
	sc->members = members;
	sc->window = window;
	sc->words = (window + 63) / 64;
	sc->max = max;
}

static size_t bitmap_words(struct stripe_cache *sc)
{
	return (size_t)sc->members * sc->words;
}

static struct sc_entry *entry_new(struct stripe_cache *sc);
static void entry_free(struct stripe_cache *sc, struct sc_entry *e);

void sc_set_max(struct stripe_cache *sc, unsigned max)
{
	pthread_mutex_lock(&sc->lock);
	sc->max = max;
	while (sc->nr > sc->max && sc->lru.next != &sc->lru) {
		struct sc_entry *e = sc->lru.next;
		lru_unlink(e);
		g_hash_table_remove(sc->table, &e->key);
		entry_free(sc, e);
	}
	pthread_mutex_unlock(&sc->lock);
}

unsigned sc_active(struct stripe_cache *sc)
{
	unsigned idle = 0;

	pthread_mutex_lock(&sc->lock);
	for (struct sc_entry *e = sc->lru.next; e != &sc->lru; e = e->next)
		idle++;
	unsigned active = sc->nr - idle;
	pthread_mutex_unlock(&sc->lock);
	return active;
}

static struct sc_entry *entry_new(struct stripe_cache *sc)
{
	struct sc_entry *e = g_new0(struct sc_entry, 1);
	size_t bytes = (size_t)sc->window << 9;

	e->page = g_new(char *, sc->members);
	for (int m = 0; m < sc->members; m++)
		if (posix_memalign((void **)&e->page[m], VEC_ALIGN, bytes))
			g_error("out of memory");
	e->valid = g_new0(uint64_t, bitmap_words(sc));
	e->dirty = g_new0(uint64_t, bitmap_words(sc));
	sc->nr++;
	return e;
}

static void entry_free(struct stripe_cache *sc, struct sc_entry *e)
{
	for (int m = 0; m < sc->members; m++)
		free(e->page[m]);
	g_free(e->page);
	g_free(e->valid);
	g_free(e->dirty);
	g_free(e);
	sc->nr--;
}

void sc_destroy(struct stripe_cache *sc)
{
	GHashTableIter it;
	gpointer e;

	g_hash_table_iter_init(&it, sc->table);
	while (g_hash_table_iter_next(&it, NULL, &e))
		entry_free(sc, e);
	g_hash_table_destroy(sc->table);
	pthread_mutex_destroy(&sc->lock);
}

static void hold(struct sc_entry *e)
{
	if (e->refs++ == 0 && e->prev)
		lru_unlink(e);
}

struct sc_entry *sc_get(struct stripe_cache *sc, uint64_t key)
{
	pthread_mutex_lock(&sc->lock);
	struct sc_entry *e = g_hash_table_lookup(sc->table, &key);
	if (e) {
		hold(e);
	} else if (sc->nr < sc->max || sc->lru.next != &sc->lru) {
		if (sc->nr < sc->max) {
			e = entry_new(sc);
		} else {
			e = sc->lru.next;          /* the least recently used */
			lru_unlink(e);
			g_hash_table_remove(sc->table, &e->key);
			memset(e->valid, 0, bitmap_words(sc) * 8);
		}
		e->key = key;
		e->refs = 1;
		g_hash_table_insert(sc->table, &e->key, e);
	}
	pthread_mutex_unlock(&sc->lock);
	return e;
}

struct sc_entry *sc_find(struct stripe_cache *sc, uint64_t key)
{
	pthread_mutex_lock(&sc->lock);
	struct sc_entry *e = g_hash_table_lookup(sc->table, &key);
	if (e)
		hold(e);
	pthread_mutex_unlock(&sc->lock);
	return e;
}

/* Idle and clean: evictable.  Idle and dirty: only on the dirty list. */
static void settle(struct stripe_cache *sc, struct sc_entry *e)
{
	if (e->refs == 0 && e->ndirty == 0 && !e->prev)
		lru_append(sc, e);
}

void sc_put(struct stripe_cache *sc, struct sc_entry *e)
{
	pthread_mutex_lock(&sc->lock);
	e->refs--;
	settle(sc, e);
	if (sc->nr > sc->max && e->prev) {   /* the cache was made smaller */
		lru_unlink(e);
		g_hash_table_remove(sc->table, &e->key);
		entry_free(sc, e);
	}
	pthread_mutex_unlock(&sc->lock);
}

static uint64_t *bits(struct stripe_cache *sc, uint64_t *map, int m)
{
	return map + (size_t)m * sc->words;
}

static bool test_bit(const uint64_t *v, uint32_t i)
{
	return v[i / 64] & (1ull << (i % 64));
}

/* Set or clear bits [a, b); returns how many changed. */
static unsigned change_bits(uint64_t *v, uint32_t a, uint32_t b, bool set)
{
	unsigned changed = 0;

	for (uint32_t i = a; i < b; i++) {
		uint64_t bit = 1ull << (i % 64);
		if (!(v[i / 64] & bit) == set) {
			v[i / 64] ^= bit;
			changed++;
		}
	}
	return changed;
}

/* The end of the run of bits equal to want from a, at most b. */
static uint32_t run_end(const uint64_t *v, uint32_t a, uint32_t b, bool want)
{
	while (a < b && test_bit(v, a) == want)
		a++;
	return a;
}

bool sc_valid(struct stripe_cache *sc, struct sc_entry *e, int m,
	      uint32_t a, uint32_t b)
{
	pthread_mutex_lock(&sc->lock);
	uint32_t i = run_end(bits(sc, e->valid, m), a, b, true);
	pthread_mutex_unlock(&sc->lock);
	return i == b;
}

bool sc_any_dirty(struct stripe_cache *sc, struct sc_entry *e, int m,
		  uint32_t a, uint32_t b)
{
	pthread_mutex_lock(&sc->lock);
	uint32_t i = run_end(bits(sc, e->dirty, m), a, b, false);
	pthread_mutex_unlock(&sc->lock);
	return i < b;
}

void sc_set_valid(struct stripe_cache *sc, struct sc_entry *e, int m,
		  uint32_t a, uint32_t b, bool valid)
{
	pthread_mutex_lock(&sc->lock);
	change_bits(bits(sc, e->valid, m), a, b, valid);
	pthread_mutex_unlock(&sc->lock);
}

bool sc_next_run(struct stripe_cache *sc, struct sc_entry *e, int m,
		 bool want_dirty, bool want, uint32_t *a, uint32_t b,
		 uint32_t *end)
{
	pthread_mutex_lock(&sc->lock);
	const uint64_t *v = bits(sc, want_dirty ? e->dirty : e->valid, m);
	*a = run_end(v, *a, b, !want);
	*end = run_end(v, *a, b, want);
	pthread_mutex_unlock(&sc->lock);
	return *a < b;
}

bool sc_set_dirty(struct stripe_cache *sc, struct sc_entry *e, int m,
		  uint32_t a, uint32_t b)
{
	pthread_mutex_lock(&sc->lock);
	change_bits(bits(sc, e->valid, m), a, b, true);
	bool was_clean = e->ndirty == 0;
	e->ndirty += change_bits(bits(sc, e->dirty, m), a, b, true);
	bool became_dirty = was_clean && e->ndirty;
	if (became_dirty)
		dirty_append(sc, e);
	pthread_mutex_unlock(&sc->lock);
	return became_dirty;
}

void sc_clean(struct stripe_cache *sc, struct sc_entry *e, uint32_t a, uint32_t b)
{
	pthread_mutex_lock(&sc->lock);
	for (int m = 0; m < sc->members && e->ndirty; m++)
		e->ndirty -= change_bits(bits(sc, e->dirty, m), a, b, false);
	if (e->ndirty == 0 && e->dprev)
		dirty_unlink(sc, e);
	settle(sc, e);
	pthread_mutex_unlock(&sc->lock);
}

bool sc_dirty_span(struct stripe_cache *sc, struct sc_entry *e, uint32_t *a,
		   uint32_t *b)
{
	uint32_t lo = sc->window, hi = 0;

	pthread_mutex_lock(&sc->lock);
	for (int m = 0; m < sc->members && e->ndirty; m++) {
		const uint64_t *v = bits(sc, e->dirty, m);
		uint32_t first = run_end(v, 0, sc->window, false);
		if (first == sc->window)
			continue;
		uint32_t last = sc->window;
		while (!test_bit(v, last - 1))
			last--;
		lo = MIN(lo, first);
		hi = MAX(hi, last);
	}
	pthread_mutex_unlock(&sc->lock);
	*a = lo;
	*b = hi;
	return lo < hi;
}

struct sc_entry *sc_oldest_dirty(struct stripe_cache *sc, gint64 before)
{
	struct sc_entry *e = NULL;

	pthread_mutex_lock(&sc->lock);
	if (sc->dirty.dnext != &sc->dirty &&
	    sc->dirty.dnext->dirty_since < before) {
		e = sc->dirty.dnext;
		hold(e);
	}
	pthread_mutex_unlock(&sc->lock);
	return e;
}

gint64 sc_oldest_since(struct stripe_cache *sc)
{
	gint64 since = G_MAXINT64;

	pthread_mutex_lock(&sc->lock);
	if (sc->dirty.dnext != &sc->dirty)
		since = sc->dirty.dnext->dirty_since;
	pthread_mutex_unlock(&sc->lock);
	return since;
}

void sc_forget(struct stripe_cache *sc, uint64_t key, uint32_t a, uint32_t b)
{
	pthread_mutex_lock(&sc->lock);
	struct sc_entry *e = g_hash_table_lookup(sc->table, &key);
	for (int m = 0; e && m < sc->members; m++) {
		uint64_t *valid = bits(sc, e->valid, m);
		const uint64_t *dirty = bits(sc, e->dirty, m);
		for (uint32_t i = a; i < b; i++)
			if (!test_bit(dirty, i))
				valid[i / 64] &= ~(1ull << (i % 64));
	}
	pthread_mutex_unlock(&sc->lock);
}
