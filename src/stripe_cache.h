/* raid5's stripe cache (md's stripe_head pages kept between requests): the
 * contents of every member over a window of a chunk row, so that the next
 * partial write of that row computes its parity from memory instead of
 * reading the members.
 *
 * Valid sectors hold what the member holds, or what it is about to hold:
 * dirty sectors are written data not yet on the member (a partial-stripe
 * write held back so the rest of its stripe can join it).  Dirty is always
 * valid.  Dirty entries are never evicted; they wait on the dirty list,
 * oldest first, until raid5 writes them back and cleans them.
 *
 * Locking: the cache's mutex guards the table, the LRU and the valid bits.
 * The pages themselves are guarded by raid5's stripe locks: a request
 * touches only the sectors it holds locks for. */
#pragma once
#include <glib.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define VEC_ALIGN 64              /* ISA-L wants 32-byte aligned vectors */

struct sc_entry {
	uint64_t key;                 /* chunk row * windows per chunk + window */
	unsigned refs;                /* requests using it; idle ones sit in the LRU */
	struct sc_entry *prev, *next; /* the LRU, oldest first */
	struct sc_entry *dprev, *dnext; /* the dirty list, oldest first */
	gint64 dirty_since;           /* monotonic us */
	unsigned ndirty;              /* dirty sectors, all members */
	char **page;                  /* per member: the window's bytes */
	uint64_t *valid;              /* per member: one bit per sector */
	uint64_t *dirty;
};

struct stripe_cache {
	pthread_mutex_t lock;
	GHashTable *table;            /* &key -> entry */
	struct sc_entry lru;          /* list heads */
	struct sc_entry dirty;
	atomic_uint ndirty;           /* dirty entries: none, no lookup */
	int members;
	uint32_t window;              /* sectors */
	unsigned words;               /* of valid bits per member */
	unsigned nr, max;             /* entries, and how many may be */
};

void sc_init(struct stripe_cache *sc, int members, uint32_t window, unsigned max);
/* Allow max entries; idle clean ones beyond are freed. */
void sc_set_max(struct stripe_cache *sc, unsigned max);
/* Entries in use or holding data back. */
unsigned sc_active(struct stripe_cache *sc);
void sc_destroy(struct stripe_cache *sc);
/* The entry for key, held; NULL when every entry is held and no new one
 * may be made (the caller works without the cache). */
struct sc_entry *sc_get(struct stripe_cache *sc, uint64_t key);
void sc_put(struct stripe_cache *sc, struct sc_entry *e);
/* The entry for key if there is one, held. */
struct sc_entry *sc_find(struct stripe_cache *sc, uint64_t key);
/* Sectors [a, b) of the window, member m. */
bool sc_valid(struct stripe_cache *sc, struct sc_entry *e, int m,
	      uint32_t a, uint32_t b);
void sc_set_valid(struct stripe_cache *sc, struct sc_entry *e, int m,
		  uint32_t a, uint32_t b, bool valid);
/* The first run [*a, end) of sectors in [*a, b) that are valid (or dirty,
 * with want_dirty) exactly when want is; false when there is none. */
bool sc_next_run(struct stripe_cache *sc, struct sc_entry *e, int m,
		 bool want_dirty, bool want, uint32_t *a, uint32_t b,
		 uint32_t *end);
bool sc_any_dirty(struct stripe_cache *sc, struct sc_entry *e, int m,
		  uint32_t a, uint32_t b);
/* Written data held back: valid and dirty.  True if the entry was clean. */
bool sc_set_dirty(struct stripe_cache *sc, struct sc_entry *e, int m,
		  uint32_t a, uint32_t b);
/* Sectors [a, b) of every member are on the members now. */
void sc_clean(struct stripe_cache *sc, struct sc_entry *e, uint32_t a, uint32_t b);
/* The smallest [*a, *b) holding every dirty sector; false: none. */
bool sc_dirty_span(struct stripe_cache *sc, struct sc_entry *e, uint32_t *a,
		   uint32_t *b);
/* The oldest dirty entry, held, if it has been dirty since before
 * `before` (monotonic us); NULL if none. */
struct sc_entry *sc_oldest_dirty(struct stripe_cache *sc, gint64 before);
/* When the oldest dirty entry became dirty; G_MAXINT64 if none is. */
gint64 sc_oldest_since(struct stripe_cache *sc);
/* Forget what is valid but not dirty of sectors [a, b) of every member in
 * the window key, if cached: the members were written behind the cache. */
void sc_forget(struct stripe_cache *sc, uint64_t key, uint32_t a, uint32_t b);
