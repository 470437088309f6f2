#!/bin/bash
# The image's writeback cache, as a block device's page cache: a buffered
# write waits in the kernel (it has not reached raidfs, so no power cut
# can take it from the members) until fsync or the writer's close sends
# it and flushes the members.  With -o no_writeback_cache every write
# reaches raidfs before it returns.  The connection keeps 64 background
# requests (writeback, async direct IO) in flight, not the kernel's 12.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse
command -v python3 >/dev/null || skip "no python3"

"$RAIDFS" create -l 1 -n 2 -N a -b none --assume-clean --member-size 8M \
	"$T/a1" "$T/a2" >/dev/null

# steps IMAGE MEMBER: a 4 KiB buffered write of 0x5a, then an fsync, then
# another at a new place and the close; after each, power_cut's count of
# blocks at risk and how many of the written blocks the member holds.
steps() {
	python3 -c '
import os, sys
img, member = sys.argv[1], sys.argv[2]
pc = os.path.join(os.path.dirname(img), "a.md/fault/power_cut")
def state(what):
    with open(pc) as f, open(member, "rb") as m:
        print(what, f.read().strip(), m.read().count(b"\x5a" * 4096))
fd = os.open(img, os.O_WRONLY)
os.pwrite(fd, b"\x5a" * 4096, 65536)
state("write")
os.fsync(fd)
state("fsync")
os.pwrite(fd, b"\x5a" * 4096, 131072)
state("write")
os.close(fd)
state("close")
' "$@"
}

note "by default, writes wait in the page cache until fsync or close"
rf_mount "$T/mnt" "$T/a1" "$T/a2"
echo arm >"$T/mnt/a.md/fault/power_cut"
expect_eq "writeback cache" "$(steps "$T/mnt/a" "$T/a1")" "write armed 0 0
fsync armed 0 1
write armed 0 1
close armed 0 2"

note "the kernel keeps up to 64 of the image's requests in the background"
conns=/sys/fs/fuse/connections
mountpoint -q "$conns" || mount -t fusectl none "$conns" 2>/dev/null ||
	fail "no fusectl at $conns to read the connection's limits from"
conn=$conns/$(stat -c %d "$T/mnt")
expect_eq "max_background" "$(cat "$conn/max_background")" 64
expect_eq "congestion_threshold" "$(cat "$conn/congestion_threshold")" 48
rf_umount "$T/mnt"

note "no_writeback_cache: every write reaches the members at once"
"$RAIDFS" create -l 1 -n 2 -N a -b none --assume-clean --member-size 8M \
	"$T/b1" "$T/b2" >/dev/null
rf_mount "$T/mnt" -o no_writeback_cache "$T/b1" "$T/b2"
echo arm >"$T/mnt/a.md/fault/power_cut"
expect_eq "no writeback cache" "$(steps "$T/mnt/a" "$T/b1")" "write armed 2 1
fsync armed 0 1
write armed 2 2
close armed 0 2"
rf_umount "$T/mnt"
echo PASS
