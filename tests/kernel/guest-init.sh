#!/bin/sh
# /init of the harness VM (busybox sh).  Copied verbatim into the initramfs
# by vm.sh; editing it rebuilds the cached initramfs.
#
# Contract with vm.sh: /vm/env (sourced) and /vm/script come from the per-run
# archive; the script's exit status is reported as "@@VM-EXIT:<nonce>:<n>@@"
# on the serial console, then the VM resets, which ends qemu.
# shellcheck disable=SC3043  # busybox sh has local
export PATH=/sbin:/bin
umask 022

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /run /tmp
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs tmpfs /tmp
# The console the kernel opened for us lives in the initramfs' /dev, which
# devtmpfs now hides; reopen it so output keeps flowing.
exec </dev/null >/dev/console 2>&1

# shellcheck source=/dev/null
. /vm/env

load_modules() {
    local m
    while read -r m; do
        insmod "/lib/modules/$(uname -r)/$m" || echo "vm: insmod $m failed"
    done </etc/vm-modules
}

# virtio_blk probes synchronously, but give stragglers a moment anyway.
# vm.sh gives member i the serial "member<i>": check that vda, vdb, ... are
# really the members in the order the caller listed them.
wait_disks() {
    local d i=0 tries=0 serial
    for d in $VM_DISKS; do
        while [ ! -b "$d" ]; do
            tries=$((tries + 1))
            [ "$tries" -le 500 ] || { echo "vm: $d did not appear"; return 1; }
            usleep 10000
        done
        serial=$(cat "/sys/block/${d#/dev/}/serial" 2>/dev/null)
        [ "$serial" = "member$i" ] || { echo "vm: $d is '$serial', not member$i"; return 1; }
        i=$((i + 1))
    done
}

# write() to the console returns once the bytes are in the tty buffer; a
# reset right after can lose the tail (the exit marker!).  Re-applying the
# current settings makes busybox stty call tcsetattr(TCSADRAIN), which
# waits until the UART has sent everything.
drain_console() {
    stty -F /dev/console "$(stty -F /dev/console -g)" 2>/dev/null || sleep 1
}

# Orderly end unless the script asked for a crash: stop arrays so their
# superblocks say clean, flush, and reset through reboot(2).  With
# /run/vm-crash none of that happens: sysrq-b resets at once, skipping even
# md's reboot notifier (which would mark arrays clean), so the members look
# exactly as after a power cut.  qemu runs with -no-reboot, so a reset ends
# it; unlike poweroff this needs no ACPI.
finish() {
    if [ -e /run/vm-crash ]; then
        printf '\n@@VM-EXIT:%s:%d@@\n' "$VM_NONCE" "$1"
        drain_console
        echo b >/proc/sysrq-trigger
    fi
    [ ! -e /proc/mdstat ] || mdadm --stop --scan >/dev/null 2>&1
    sync
    printf '\n@@VM-EXIT:%s:%d@@\n' "$VM_NONCE" "$1"
    drain_console
    reboot -f
    echo b >/proc/sysrq-trigger
}

load_modules
rc=0
wait_disks || rc=125
if [ "$rc" -eq 0 ]; then
    cd /tmp || true
    sh /vm/script
    rc=$?
fi
finish "$rc"
