#!/bin/bash
# make install into a DESTDIR, then what was installed used as a user
# would: mount -t raidfs and an fstab line through the mount helper, the
# type /proc/mounts shows (fuse.raidfs) mounted back, the man pages, the
# bash completion completing, systemd-analyze verifying the unit.  The
# helpers go where mount(8) looks, /sbin: here a /sbin of the test's own,
# in a private mount namespace.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse
command -v unshare >/dev/null || skip "no unshare (package util-linux)"
[ -n "${TOP_BUILDDIR:-}" ] || skip "run from make check (it installs the build)"

root=$T/root
${MAKE:-make} -s -C "$TOP_BUILDDIR" install DESTDIR="$root" >"$T/install.log" 2>&1 ||
	fail "make install failed: $(tail -n 20 "$T/install.log")"
bin=$(find "$root" -path '*/bin/raidfs' -type f)
[ -x "$bin" ] || fail "no raidfs installed under bin/"
bindir=${bin#"$root"}
bindir=${bindir%/raidfs}
for h in mount.raidfs mount.fuse.raidfs; do
	link=$(find "$root" -path "*sbin/$h" -type l)
	[ -n "$link" ] || fail "no $h installed"
	[ "$(readlink "$link")" = "$bindir/raidfs" ] ||
		fail "$h points at $(readlink "$link"), not $bindir/raidfs"
done
for p in raidfs.8 mount.raidfs.8; do
	page=$(find "$root" -path "*/man8/$p")
	[ -f "$page" ] || fail "no $p installed"
	[ -n "$(MANWIDTH=80 man -l "$page" 2>/dev/null | head -n 3)" ] || fail "$p does not render"
done
unit=$(find "$root" -path '*/systemd/system/raidfs@.service')
[ -f "$unit" ] || fail "no raidfs@.service installed"
grep -q "^ExecStart=$bindir/raidfs mount -f " "$unit" || fail "the unit does not run $bindir/raidfs"
comp=$(find "$root" -path '*/bash-completion/completions/raidfs')
[ -f "$comp" ] || fail "no bash completion installed as completions/raidfs"
note "installed: $bindir/raidfs, the helpers, two man pages, the unit, the completion"

# systemd-analyze checks the unit as an instance, the installed program in
# place (the DESTDIR's, ExecStart's path pointed at it).
if command -v systemd-analyze >/dev/null; then
	mkdir "$T/units"
	sed "s|$bindir/raidfs|$root$bindir/raidfs|" "$unit" >"$T/units/raidfs@srv-md.service"
	# it runs man for the unit's Documentation=man:raidfs(8)
	out=$(MANPATH=$(dirname "$(dirname "$page")") \
		systemd-analyze verify "$T/units/raidfs@srv-md.service" 2>&1) ||
		fail "systemd-analyze verify: $out"
	! grep -v 'is not a symlink\|Failed to connect\|Cannot find unit' <<<"$out" | grep -q . ||
		fail "systemd-analyze verify says: $out"
	note "systemd-analyze verify: clean"
else
	fail "no systemd-analyze (package systemd) to verify the unit"
fi

# The completion, with bash-completion's functions and without them.
[ -f /usr/share/bash-completion/bash_completion ] ||
	skip "no bash-completion (package bash-completion)"
complete_words() {   # WORDS...: what completing the last word offers
	bash -c '. /usr/share/bash-completion/bash_completion; . "$0"
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_raidfs raidfs "${@: -1}" "${@: -2:1}"
		printf "%s\n" "${COMPREPLY[@]}"' "$comp" "$@"
}
[ "$(complete_words raidfs cre)" = create ] || fail "raidfs cre<TAB> offers: $(complete_words raidfs cre)"
# (whole, then grep: grep -q leaving early would fail the pipe)
offered=$(complete_words raidfs create -b '')
grep -qx internal <<<"$offered" || fail "create -b <TAB> offers: $offered"
offered=$(complete_words raidfs create --le)
grep -qx -- --level <<<"$offered" || fail "create --le<TAB> offers: $offered"
out=$(bash -c '. "$0"' "$comp" 2>&1) && fail "sourced without bash-completion, it says nothing"
grep -q 'needs bash-completion' <<<"$out" || fail "without bash-completion it says: $out"
note "completion: commands, -b values, options; alone it says it needs bash-completion"

# mount(8) through the installed helper names, in a namespace with a /sbin
# (= /usr/sbin) holding only them, pointed at the DESTDIR's program.
mkdir "$T/src"
"$RAIDFS" create -l 1 -n 2 -N inst --assume-clean --member-size 16M "$T/src/m0" "$T/src/m1" >/dev/null
cat >"$T/inner.sh" <<'SH'
set -euo pipefail
T=$1 bin=$2 mnt=$1/mnt
# the helper's command line: SOURCE MNT, then any -o mount(8) passes
served=" $mnt( |\$)"
trap 'pkill -9 -f -- "$served" || true' EXIT
sbin=$(readlink -f /sbin)
mount -t tmpfs -o mode=755 none "$sbin"
for h in mount.raidfs mount.fuse.raidfs; do ln -s "$bin" "$sbin/$h"; done
mkdir -p "$mnt"
up() {   # HOW: the image served, then unmounted
	[ -e "$mnt/inst" ] || { echo "$1: no image"; exit 1; }
	grep -E " $mnt fuse.raidfs " /proc/mounts >/dev/null ||
		{ echo "$1: /proc/mounts: $(grep " $mnt " /proc/mounts)"; exit 1; }
	umount "$mnt"
	while pgrep -f -- "$served" >/dev/null; do sleep 0.1; done
	echo "$1: ok"
}
mount -t raidfs "$T/src" "$mnt"; up "mount -t raidfs"
mount -t raidfs -o ro,nofail,sync_speed_max=5000 "$T/src" "$mnt"
grep -E " $mnt fuse.raidfs ro[ ,]" /proc/mounts >/dev/null || { echo "-o ro not read-only"; exit 1; }
up "mount -t raidfs -o ro,..."
echo "$T/src $mnt raidfs defaults,nofail 0 0" >"$T/fstab"
mount -T "$T/fstab" "$mnt"; up "an fstab line"
mount -t fuse.raidfs "$T/src" "$mnt"; up "mount -t fuse.raidfs"
SH
out=$(unshare -m --propagation private bash "$T/inner.sh" "$T" "$root$bindir/raidfs" 2>&1) ||
	fail "mount(8) through the helpers: $out"
note "$(tr '\n' ';' <<<"$out")"
