/* md's bitmap_super_t (md-bitmap.h), the superblock the classic bitmap
 * (version 4) and llbitmap (version 6) share: its offsets and
 * little-endian field access.  Private to bitmap.c and llbitmap.c. */
#pragma once
#include <glib.h>
#include <stdint.h>
#include <string.h>

#define BITMAP_MAGIC 0x6d746962      /* "bitm" */
#define BITMAP_SB_BYTES 256

enum {
	B_MAGIC = 0, B_VERSION = 4, B_UUID = 8, B_EVENTS = 24,
	B_EVENTS_CLEARED = 32, B_SYNC_SIZE = 40, B_STATE = 48, B_CHUNKSIZE = 52,
	B_DAEMON_SLEEP = 56, B_WRITE_BEHIND = 60, B_SECTORS_RESERVED = 64,
	B_NODES = 68,
};

static inline uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return GUINT32_FROM_LE(v); }
static inline uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return GUINT64_FROM_LE(v); }
static inline void put32(uint8_t *p, uint32_t v) { v = GUINT32_TO_LE(v); memcpy(p, &v, 4); }
static inline void put64(uint8_t *p, uint64_t v) { v = GUINT64_TO_LE(v); memcpy(p, &v, 8); }
