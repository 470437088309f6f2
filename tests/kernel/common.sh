# shellcheck shell=bash
# Shared helpers for the kernel-interop harness; sourced by deps.sh and
# vm.sh.  Not executable on its own.
#
# Environment (all optional):
#   KVM_CACHE       where the extracted kernel and built initramfs live
#                   (default: tests/kernel/.cache, or a per-user dir in
#                   $TMPDIR when the source tree is read-only)
#   KVM_KERNEL_PKG  Debian package to take the guest kernel from
#                   (default: linux-image-cloud-amd64, i.e. Debian 12's 6.1)

KVM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Packages the harness runs on.  cpio and kmod (depmod) build the initramfs.
# shellcheck disable=SC2034  # used by deps.sh
KVM_HOST_PKGS=(qemu-system-x86 busybox-static mdadm cpio kmod e2fsprogs)

kvm_log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
kvm_die() { kvm_log "$*"; exit 99; }

# The cache must be writable; a read-only source tree (make distcheck)
# falls back to a per-user directory so runs still share one cache.
kvm_cache_dir() {
    local dir=${KVM_CACHE:-$KVM_DIR/.cache}
    if ! mkdir -p "$dir" 2>/dev/null || [ ! -w "$dir" ]; then
        [ -z "${KVM_CACHE:-}" ] || kvm_die "KVM_CACHE=$dir is not writable"
        dir=${TMPDIR:-/tmp}/raidfs-kvm-cache-$(id -u)
        mkdir -p "$dir"
    fi
    (cd "$dir" && pwd)
}

# Parallel test runs share the cache: serialise every change to it.
kvm_lock() {
    exec {KVM_LOCK_FD}>"$KVM_CACHE_DIR/lock"
    flock "$KVM_LOCK_FD"
}
kvm_unlock() { exec {KVM_LOCK_FD}>&-; }

# The kernel a VM boots is chosen by a Debian package name, a metapackage
# (linux-image-cloud-amd64 = 6.1, linux-image-6.12-cloud-amd64 = 6.12) or
# a concrete linux-image-<abi> package.
# shellcheck disable=SC2034  # used by deps.sh and vm.sh
KVM_DEFAULT_KERNEL_PKG=linux-image-cloud-amd64

# Concrete package behind $1: metapackages depend on exactly one image.
kvm_concrete_pkg() {
    local dep
    dep=$(apt-cache depends --important "$1" 2>/dev/null |
        awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
    echo "${dep:-$1}"
}

# Download the kernel .deb and unpack it into the cache instead of
# installing it: the host keeps its own kernel, /boot and bootloader
# untouched, and no root is needed.  Afterwards $KVM_CACHE_DIR/kernel-$1
# points at a tree holding boot/vmlinuz-* and lib/modules/<release>/ with
# a fresh modules.dep.  Call with the cache lock held.
kvm_fetch_kernel() {
    local sel=$1 pkg ver dir tmp deb kver
    pkg=$(kvm_concrete_pkg "$sel")
    ver=$(apt-cache show --no-all-versions "$pkg" 2>/dev/null | awk '/^Version:/ { print $2; exit }')
    [ -n "$ver" ] || kvm_die "apt does not know $pkg (apt-get update?)"
    dir=$KVM_CACHE_DIR/${pkg}_$ver
    if [ ! -d "$dir" ]; then
        tmp=$(mktemp -d "$KVM_CACHE_DIR/fetch.XXXXXX")
        # As root apt warns that it cannot drop privileges for the
        # download; that is expected here and not worth showing.
        (cd "$tmp" && apt-get download -qq "$pkg=$ver" 2>&1) |
            { grep -v '^W: Download is performed unsandboxed' >&2 || true; }
        deb=$(find "$tmp" -maxdepth 1 -name '*.deb' | head -n1)
        [ -n "$deb" ] || { rm -rf "$tmp"; kvm_die "apt-get download $pkg failed"; }
        mkdir "$tmp/root"
        dpkg-deb -x "$deb" "$tmp/root"
        # Docs and the bug-script are dead weight in the cache.
        rm -rf "$tmp/root/usr" "$deb"
        kver=$(kvm_kernel_release "$tmp/root")
        # The package's postinst would run depmod; we do it in our tree.
        depmod -b "$tmp/root" "$kver"
        mv "$tmp/root" "$dir"
        rmdir "$tmp"
    fi
    ln -sfn "${dir##*/}" "$KVM_CACHE_DIR/kernel-$sel.tmp"
    mv -T "$KVM_CACHE_DIR/kernel-$sel.tmp" "$KVM_CACHE_DIR/kernel-$sel"
}

# Print the kernel release found in an unpacked kernel tree.
kvm_kernel_release() { find "$1/lib/modules" -mindepth 1 -maxdepth 1 -printf '%f\n' | head -n1; }

# Debian's depmod is in /sbin, which non-root PATHs often lack.
PATH=$PATH:/usr/sbin:/sbin
KVM_CACHE_DIR=$(kvm_cache_dir)
