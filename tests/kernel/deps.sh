#!/bin/bash
# Install what the kernel-interop harness needs; safe to run repeatedly.
#
# Host tools come from apt.  The guest kernel is NOT installed: its .deb is
# downloaded and unpacked into the harness cache (see common.sh), so the
# host's /boot, initramfs-tools and bootloader hooks are never involved.
set -euo pipefail
. "$(dirname "$0")/common.sh"

missing_pkgs() {
    local p
    for p in "${KVM_HOST_PKGS[@]}"; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
            echo "$p"
    done
}

install_host_pkgs() {
    local -a missing
    mapfile -t missing < <(missing_pkgs)
    [ "${#missing[@]}" -gt 0 ] || return 0
    [ "$(id -u)" -eq 0 ] || kvm_die "need root to install: ${missing[*]}"
    kvm_log "installing ${missing[*]}"
    # Recommends would drag in GUI bits, OVMF and friends; seabios (a hard
    # dependency of qemu-system-x86) is all the VM needs.
    # apt-utils is absent on minimal systems; debconf's note about it is noise.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends "${missing[@]}" 2>&1 >/dev/null |
        { grep -v '^debconf: delaying package configuration' >&2 || true; }
}

# Unpacked kernels no kernel-* link points to any more (superseded ABIs).
prune_kernels() {
    local d l used
    for d in "$KVM_CACHE_DIR"/linux-image-*_*; do
        [ -d "$d" ] || continue
        used=
        for l in "$KVM_CACHE_DIR"/kernel-*; do
            [ "$(readlink "$l")" != "${d##*/}" ] || used=1
        done
        [ -n "$used" ] || rm -rf "$d"
    done
}

fetch_kernels() {
    local sel
    kvm_lock
    for sel in "$@"; do
        kvm_fetch_kernel "$sel"
        kvm_log "guest kernel $sel: $(readlink "$KVM_CACHE_DIR/kernel-$sel")"
    done
    prune_kernels
    kvm_unlock
}

# usage: deps.sh [KERNEL_PKG...]  -- extra guest kernels to cache, e.g.
# linux-image-6.12-cloud-amd64; the default one is always fetched.
install_host_pkgs
fetch_kernels "$KVM_DEFAULT_KERNEL_PKG" "$@"
kvm_log "cache: $KVM_CACHE_DIR"
