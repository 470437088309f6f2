#!/usr/bin/env python3
"""Seed corpus for the fuzz targets (see README): superblocks and bitmaps
of the mdadm-made members that mdadm-seeds.sh copied to OUT, plus seeds
for the control files and the parsers, and hostile ones for the bad-block
log and the bitmap superblock.  usage: extract.py OUT CORPUS_DIR (OUT "-":
keep the mdadm-* seeds already in CORPUS_DIR, write the others)"""
import os
import struct
import sys

MEMBER = 24 << 20
K = 64 << 10
# What mdadm-seeds.sh made, in order: metadata, level, members.
SEEDS = [(m, l, n) for m in ('1.0', '1.1', '1.2', '0.90')
         for l, n in ((1, 2), (5, 3), (10, 4))]
SEEDS += [('1.2', 5, 3), ('1.2', 6, 4), ('1.2', 0, 2), ('1.0', -1, 2)]
# The targets' tables (fuzz/*.c).
ASM_LEVELS = [1, 5, 10, 0, -1, 6, 4]
ASM_MINORS = ['1.0', '1.1', '1.2', '0.90']
IMAGE, IMAGE_BYTES = 16, 4352


def regions(out, k, i):
    base = (k * 4 + i) * 3 * K
    return out[base:base + K], out[base + K:base + 3 * K]


def sb_at(meta, head, tail, length):
    """length bytes from the superblock on (where the probe looks)."""
    start = {'1.1': (head, 0), '1.2': (head, 4096),
             '1.0': (tail, 2 * K - 8192), '0.90': (tail, K)}[meta]
    return start[0][start[1]:start[1] + length]


def bitmap_sb(meta, head, tail):
    sb = sb_at(meta, head, tail, 4096)
    if meta == '0.90':
        return sb_at(meta, head, tail, 4096 + 256)[4096:]
    off = struct.unpack_from('<i', sb, 96)[0] * 512
    buf, at = (head, {'1.1': 0, '1.2': 4096}[meta]) if meta != '1.0' \
        else (tail, 2 * K - 8192)
    return buf[at + off:at + off + 256]


def write(corpus, target, name, data):
    os.makedirs(os.path.join(corpus, target), exist_ok=True)
    with open(os.path.join(corpus, target, name), 'wb') as f:
        f.write(data)


def geo_byte(level, meta, n):
    for g in range(256):
        if (ASM_LEVELS[g % 7] == level and ASM_MINORS[(g >> 3) & 3] == meta
                and (level == 6 or 2 + (g >> 6) % 3 == n)):
            return g
    return None


def mdadm_seeds(out, corpus):
    for k, (meta, level, n) in enumerate(SEEDS):
        tag = 'mdadm-%s-%s-%d' % (meta, 'linear' if level < 0 else 'raid%d' % level, n)
        head, tail = regions(out, k, 0)
        kind = {'1.1': 0, '1.2': 1, '1.0': 2, '0.90': 3}[meta]
        sb = sb_at(meta, head, tail, 8192).rstrip(b'\0')
        write(corpus, 'sb', tag, bytes([kind, 0x40 | 23]) + sb)
        write(corpus, 'sb', tag + '-fixcsum', bytes([kind | 0x80, 0x40 | 23]) + sb)
        if level == 1:
            bm = bitmap_sb(meta, head, tail)
            flags = 1 if meta == '0.90' else 0
            write(corpus, 'bitmap', tag, bytes([flags]) + bm)
            write(corpus, 'bitmap', tag + '-run-own-uuid', bytes([flags | 4 | 8]) + bm)
        g = geo_byte(level, meta, n)
        if g is None:
            continue
        image = b''.join(sb_at(meta, *regions(out, k, i), IMAGE_BYTES)
                         for i in range(n))
        write(corpus, 'assemble', tag, bytes([g, IMAGE]) + image)


def raidfs_seeds(corpus):
    """Members the harness makes itself, unpatched: every level and version."""
    for level in ASM_LEVELS:
        for meta in ASM_MINORS:
            g = geo_byte(level, meta, 6 if level == 6 else 3 if level == 5 else 2)
            if g is not None:
                name = 'raidfs-%s-%d' % (meta, level)
                write(corpus, 'assemble', name, bytes([g, 0]))
                write(corpus, 'assemble', name + '-bitmap', bytes([g, 8]))


def ctl_seeds(corpus):
    # table 0: md_attrs' writable files in order; 1: dev-*/state;
    # 2: fault/power_cut; 3: raid5's stripe_cache_size.
    values = {(0, 0): ['idle', 'frozen', 'check', 'repair', 'resync', 'recover'],
              (0, 1): ['1000', '0', '-0', '4294967295'],
              (0, 2): ['200000', '1'],
              (0, 3): ['0.2', '5', 'nan', '0x10', ' 5', '1e9'],
              (1, 0): ['faulty', '-blocked', 'writemostly', 'in_sync', 'spare'],
              (2, 0): ['arm', 'off', 'cut', 'cut 7'],
              (3, 0): ['256', '17', '32768', '0']}
    for (table, which), vals in values.items():
        for j, v in enumerate(vals):
            level = 1 if table == 3 else 0   # raid5 (index 1) for its attrs
            write(corpus, 'ctl', 't%d-w%d-%d' % (table, which, j),
                  bytes([level, table, which, j]) + v.encode())
    # Sequences: a check frozen and resumed, a member failed mid-check.
    rec = lambda t, w, v, m=0: bytes([t, w, m]) + v.encode() + b'\0'
    write(corpus, 'ctl', 'seq-check-frozen', bytes([0]) + rec(0, 0, 'check')
          + rec(0, 0, 'frozen') + rec(0, 0, 'idle') + rec(0, 0, 'repair'))
    write(corpus, 'ctl', 'seq-fail-in-check', bytes([1]) + rec(0, 0, 'check')
          + rec(1, 0, 'faulty', 1) + rec(0, 0, 'recover'))
    write(corpus, 'ctl', 'seq-power-cut', bytes([2]) + rec(2, 0, 'arm')
          + rec(0, 3, '0') + rec(2, 0, 'cut 3'))


def cli_seeds(corpus):
    texts = {0: ['raid5', '10', 'linear', 'mirror', 'stripe', 'raid6'],
             1: ['left-symmetric', 'n2', 'f2', 'o3', 'n2f2', 'original', 'ls',
                 'parity-first-6', 'o1', 'n2o1'],
             2: ['5a5a5a5a:5a5a5a5a:5a5a5a5a:5a5a5a5a',
                 '01234567-89ab-cdef-0123-456789abcdef'],
             3: ['idle', 'check', 'repair', 'frozen'],
             4: ['0', '4294967295', '10'],
             # create's -z/-c/--member-size, -e, and -N NAME "\n" HOST
             5: ['512', '64K', '1M', '8G', '2T', '1KiB', '1MB', '0', '-5', ' 5',
                 '18014398509481983', '18014398509481984', '5X'],
             6: ['1.2', '1.1', '1.0', '0.90', '0.9', '1', '0', 'default', '1.3'],
             7: ['data', 'home:data', 'a/b', '.', '..', 'mdstat', 'x.md', 'a b',
                 'data\nhost', 'data\nho:st', 'a' * 29 + '\nhostname',
                 'h/x:data', 'a' * 33, ':']}
    for which, vals in texts.items():
        for j, v in enumerate(vals):
            lvl = {1: 4, 6: 5}.get(j, 6) if which == 1 else 0
            write(corpus, 'cli', 's%d-%d' % (which, j), bytes([which, lvl]) + v.encode())


V1_FEATURE_MAP, V1_DATA_OFFSET = 8, 128
V1_BBLOG_SHIFT, V1_BBLOG_SIZE, V1_BBLOG_OFFSET = 185, 186, 188
BB_FEATURE = 8          # MD_FEATURE_BAD_BLOCKS


def bb_entry(sector, count, shift=0):
    return struct.pack('<Q', (sector >> shift) << 10 | count)


def badblock_seeds(corpus):
    """sb: an mdadm 1.2 superblock given a log 8 sectors on (the input's
    second 4 KiB) recording bad blocks, at shifts 0 and 3, and with hostile
    entries; assemble: the harness's members with the log's feature bit,
    an entry, and the bitmap superblock's sync_size and chunksize made
    hostile."""
    base = open(os.path.join(corpus, 'sb', 'mdadm-1.2-raid5-3'), 'rb').read()
    sb = bytearray(base[2:].ljust(8192, b'\0')[:4096])
    doff = struct.unpack_from('<Q', sb, V1_DATA_OFFSET)[0]
    struct.pack_into('<I', sb, V1_FEATURE_MAP,
                     struct.unpack_from('<I', sb, V1_FEATURE_MAP)[0] | BB_FEATURE)
    end = b'\xff' * 8
    logs = {'bblog': (0, bb_entry(doff + 64, 8) + bb_entry(doff + 1000, 1) + end),
            'bblog-shift3': (3, bb_entry(doff + 64, 2, 3) + end),
            'bblog-before-data': (0, bb_entry(doff - 8, 8) + end),
            'bblog-no-length': (0, bb_entry(doff + 64, 0) + end),
            'bblog-full': (0, b''.join(bb_entry(doff + 2 * i, 1) for i in range(512)))}
    for name, (shift, log) in logs.items():
        sb[V1_BBLOG_SHIFT] = shift
        struct.pack_into('<HI', sb, V1_BBLOG_SIZE, 8, 8)
        write(corpus, 'sb', 'hostile-1.2-raid5-3-' + name,
              bytes([0x81, 0x40 | 23]) + bytes(sb) + log.ljust(4096, b'\0'))

    def patch(member, area, off, value):
        return bytes([member, off & 255, area | off >> 8, len(value) - 1]) + value
    for level, n in ((1, 2), (5, 3), (10, 2)):
        g = geo_byte(level, '1.2', n)
        tag = 'hostile-1.2-%d' % level
        feature = patch(n, 0, V1_FEATURE_MAP, bytes([BB_FEATURE]))
        write(corpus, 'assemble', tag + '-bblog', bytes([g, 0]) + feature +
              patch(0, 0xc0, 0, bb_entry(4096, 8)))
        write(corpus, 'assemble', tag + '-bitmap-sync-size', bytes([g, 8]) +
              patch(n, 0x80, 40, struct.pack('<Q', 1 << 40)))
        write(corpus, 'assemble', tag + '-bitmap-chunksize', bytes([g, 8]) +
              patch(n, 0x80, 52, struct.pack('<I', 512)))


def main():
    corpus = sys.argv[2]
    if sys.argv[1] != '-':
        mdadm_seeds(open(sys.argv[1], 'rb').read(), corpus)
    raidfs_seeds(corpus)
    ctl_seeds(corpus)
    cli_seeds(corpus)
    badblock_seeds(corpus)


main()
