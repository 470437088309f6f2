#!/bin/bash
# Run a shell script inside a qemu VM that has the real Linux md driver,
# with host files attached as virtio disks /dev/vda, /dev/vdb, ...
#
# usage: vm.sh [-t TIMEOUT] [-f FILE]... SCRIPT [MEMBER...]
# SCRIPT "-" reads the script from stdin.
#
# Exit status: the script's own, or 124 (timeout), 125 (the VM died before
# the script finished, e.g. a kernel panic), 99 (harness set-up error).
# See README.md for the guest environment and the VM_* variables.
set -euo pipefail
. "$(dirname "$0")/common.sh"

# Bump when the initramfs layout below changes, to invalidate caches.
INITRD_FORMAT=3
# What every VM loads at boot; VM_MODULES adds more.
BASE_MODULES="virtio_pci virtio_blk md_mod linear raid0 raid1 raid10 raid456"
OPTIONAL_MODULES="linear"

usage() {
    echo "usage: ${0##*/} [-t TIMEOUT] [-f FILE]... SCRIPT [MEMBER...]" >&2
    exit 99
}

# ---------------------------------------------------------------- kernel --

# Sets KTREE, KVER, KIMAGE, KMODDIR for the selected kernel, fetching it
# into the cache on first use.
kernel_tree() {
    local link=$KVM_CACHE_DIR/kernel-${KVM_KERNEL_PKG:-$KVM_DEFAULT_KERNEL_PKG}
    if [ ! -e "$link/boot" ]; then
        kvm_lock
        [ -e "$link/boot" ] || kvm_fetch_kernel "${KVM_KERNEL_PKG:-$KVM_DEFAULT_KERNEL_PKG}"
        kvm_unlock
    fi
    KTREE=$(readlink -f "$link")
    KVER=$(kvm_kernel_release "$KTREE")
    KIMAGE=$KTREE/boot/vmlinuz-$KVER
    KMODDIR=$KTREE/lib/modules/$KVER
    [ -r "$KIMAGE" ] || kvm_die "no kernel image in $KTREE (run deps.sh)"
}

# Print module paths (relative to KMODDIR) so that each comes after its
# dependencies, using the modules.dep depmod wrote into the cache.  Modules
# built into the kernel are fine; so is the lack of one in OPTIONAL_MODULES
# (linear: removed in 6.8, then back as CONFIG_MD_LINEAR, which Debian's
# 6.12 leaves off).
resolve_modules() {
    awk -v want="$*" -v optional="$OPTIONAL_MODULES" '
        function norm(s) { sub(/.*\//, "", s); sub(/\.ko.*$/, "", s); gsub(/-/, "_", s); return s }
        function visit(n,   i, d, k) {
            if (n in done || n in builtin) return
            done[n] = 1
            if (!(n in path)) {
                if (index(" " optional " ", " " n " ")) return
                print "vm.sh: kernel has no module " n > "/dev/stderr"; bad = 1; return
            }
            k = split(deps[n], d, " ")
            for (i = k; i >= 1; i--) visit(norm(d[i]))
            print path[n]
        }
        FILENAME ~ /modules\.builtin$/ { builtin[norm($1)] = 1; next }
        { sub(/:$/, "", $1); n = norm($1); path[n] = $1; $1 = ""; deps[n] = $0 }
        END {
            k = split(want, w, " ")
            for (i = 1; i <= k; i++) { gsub(/-/, "_", w[i]); visit(w[i]) }
            exit bad
        }' "$KMODDIR/modules.builtin" "$KMODDIR/modules.dep"
}

# -------------------------------------------------------------- initramfs --

host_tools() {
    BUSYBOX=$(command -v busybox || true)
    MDADM=$(command -v mdadm || true)
    if [ -z "$BUSYBOX" ] || [ -z "$MDADM" ]; then
        kvm_die "busybox or mdadm missing (run deps.sh)"
    fi
    # A dynamic busybox would need its libs too; only busybox-static will do.
    ! ldd "$BUSYBOX" >/dev/null 2>&1 || kvm_die "$BUSYBOX is not static (install busybox-static)"
    mapfile -t MDADM_LIBS < <(ldd "$MDADM" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
    # shellcheck disable=SC2086  # both are space-separated lists
    mapfile -t MODULES < <(resolve_modules $BASE_MODULES ${VM_MODULES:-})
}

# Everything that ends up in the base archive, hashed: any change in the
# host's busybox/mdadm/libs, the kernel or guest-init.sh yields a new key.
initrd_key() {
    {
        echo "format $INITRD_FORMAT $KVER"
        printf '%s\n' "${MODULES[@]}"
        (cd "$KMODDIR" && sha256sum "${MODULES[@]}")
        sha256sum "$KVM_DIR/guest-init.sh" "$BUSYBOX" "$MDADM" "${MDADM_LIBS[@]}"
    } | sha256sum | cut -c1-16
}

# Lay out the guest root in $1.
stage_root() {
    local root=$1 a lib m
    mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,run,tmp,host,vm,lib/modules/"$KVER"}
    cp "$BUSYBOX" "$root/bin/busybox"
    for a in $("$BUSYBOX" --list); do
        [ "$a" = busybox ] || ln -s busybox "$root/bin/$a"
    done
    # No /sbin/modprobe on purpose: the kernel's request_module() execs it
    # for crypto algorithms during boot, and each exec costs ~0.1s under
    # TCG.  Everything md needs is loaded up front; /bin/modprobe (busybox,
    # with the modules.dep below) still serves explicit calls.
    cp "$MDADM" "$root/sbin/mdadm"
    for lib in "${MDADM_LIBS[@]}"; do
        mkdir -p "$root${lib%/*}"
        cp -L "$lib" "$root$lib"
    done
    for m in "${MODULES[@]}"; do
        mkdir -p "$root/lib/modules/$KVER/${m%/*}"
        cp "$KMODDIR/$m" "$root/lib/modules/$KVER/$m"
    done
    # Newer Debian kernels ship .ko.xz/.ko.zst; busybox insmod wants .ko.
    find "$root/lib/modules" -name '*.ko.xz' -exec xz -d {} +
    find "$root/lib/modules" -name '*.ko.zst' -exec zstd -q -d --rm {} +
    find "$root/lib/modules" -name '*.ko.gz' -exec gzip -d {} +
    # modules.dep etc. for busybox modprobe.
    cp "$KMODDIR"/modules.{order,builtin,builtin.modinfo} "$root/lib/modules/$KVER/"
    depmod -b "$root" "$KVER"
    printf '%s\n' "${MODULES[@]%.ko*}" | sed 's/$/.ko/' >"$root/etc/vm-modules"
    install -m 0755 "$KVM_DIR/guest-init.sh" "$root/init"
}

# cpio newc of directory $1 on stdout, owned by root whoever builds it.
cpio_of() {
    (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet)
}

build_initrd() {
    local out=$1 tmp
    tmp=$(mktemp -d "$KVM_CACHE_DIR/initrd.XXXXXX")
    stage_root "$tmp/root"
    cpio_of "$tmp/root" | gzip -6 >"$tmp/initrd"
    # The per-run archive is appended uncompressed; the kernel only
    # recognises a cpio header at a 4-byte aligned offset, and zero bytes
    # in between are skipped.
    local pad=$(( (4 - $(stat -c %s "$tmp/initrd") % 4) % 4 ))
    head -c "$pad" /dev/zero >>"$tmp/initrd"
    mv "$tmp/initrd" "$out"
    rm -rf "$tmp"
}

# Sets BASE_INITRD to the cached archive for the current inputs.
base_initrd() {
    host_tools
    BASE_INITRD=$KVM_CACHE_DIR/initrd-$(initrd_key).cpio.gz
    # The mtime says when an archive was last used; see the pruning below.
    if [ -e "$BASE_INITRD" ]; then
        touch "$BASE_INITRD" 2>/dev/null || true
        return
    fi
    kvm_lock
    if [ ! -e "$BASE_INITRD" ]; then
        [ -z "$DEBUG" ] || kvm_log "building $BASE_INITRD"
        build_initrd "$BASE_INITRD"
        # Inputs change rarely; archives unused for two days are stale.
        find "$KVM_CACHE_DIR" -maxdepth 1 -name 'initrd-*.cpio.gz' -mtime +2 -delete
    fi
    kvm_unlock
}

# Per-run archive: the script, its environment, and -f files under /host.
run_initrd() {
    local stage=$RUN/stage f i=0 disks=""
    mkdir -p "$stage/vm" "$stage/host"
    if [ "$SCRIPT" = - ]; then
        cat >"$stage/vm/script"
    else
        cp "$SCRIPT" "$stage/vm/script"
    fi
    for f in "${FILES[@]}"; do cp "$f" "$stage/host/"; done
    for f in "${MEMBERS[@]}"; do disks+=" /dev/$(disk_name $i)"; i=$((i + 1)); done
    {
        echo "VM_NONCE=$NONCE"
        echo "VM_DISKS='${disks# }'"
        echo "export VM_DISKS VM_NONCE"
    } >"$stage/vm/env"
    { cat "$BASE_INITRD"; cpio_of "$stage"; } >"$RUN/initrd"
}

# ------------------------------------------------------------------- qemu --

# Guest name of the i-th virtio disk (vda..vdz; more would not fit the
# PCI slots of the pc machine anyway).
disk_name() {
    local letters=abcdefghijklmnopqrstuvwxyz
    echo "vd${letters:$1:1}"
}

# A /dev/kvm that opens is not enough: nested set-ups such as PVM
# (kvm_pvm, no VMX) accept the VM and then hang in early boot, because they
# only run specially built guests.  So boot once with KVM and remember the
# verdict for this host boot.
kvm_works() {
    [ -r /dev/kvm ] && [ -w /dev/kvm ] || return 1
    if [ -d /sys/module/kvm_pvm ] && [ ! -d /sys/module/kvm_intel ] &&
        [ ! -d /sys/module/kvm_amd ]; then
        return 1
    fi
    local verdict boot_id
    boot_id=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || uname -r)
    verdict=$KVM_CACHE_DIR/kvm-verdict-$boot_id
    if [ ! -e "$verdict" ]; then
        kvm_lock
        [ -e "$verdict" ] || probe_kvm >"$verdict"
        kvm_unlock
    fi
    [ "$(cat "$verdict")" = yes ]
}

probe_kvm() {
    local script
    script=$(mktemp "${TMPDIR:-/tmp}/raidfs-kvm-probe.XXXXXX")
    echo 'exit 0' >"$script"
    # The child must not inherit our lock, or it could wait on itself.
    if VM_ACCEL=kvm VM_DEBUG='' "$0" -t 20 "$script" >/dev/null 2>&1 {KVM_LOCK_FD}>&-; then
        echo yes
    else
        kvm_log "KVM does not boot the guest kernel; using TCG"
        echo no
    fi
    rm -f "$script"
}

accel_args() {
    case ${VM_ACCEL:-auto} in
    kvm) echo "-accel kvm" ;;
    tcg) echo "-accel tcg" ;;
    auto) if kvm_works; then echo "-accel kvm"; else echo "-accel tcg"; fi ;;
    *) kvm_die "VM_ACCEL must be auto, kvm or tcg" ;;
    esac
}

disk_args() {
    local i=0 f dev
    for f in "${MEMBERS[@]}"; do
        dev="virtio-blk-pci,drive=d$i,serial=member$i"
        [ -z "${VM_BLKSIZE:-}" ] ||
            dev+=",logical_block_size=$VM_BLKSIZE,physical_block_size=$VM_BLKSIZE"
        # cache=unsafe: guest flushes are free; the data still reaches the
        # host page cache before qemu exits, which is all tests need.
        QEMU+=(-drive "if=none,id=d$i,format=raw,cache=unsafe,file=${f//,/,,}" -device "$dev")
        i=$((i + 1))
    done
}

kernel_cmdline() {
    # Boot-time savers under TCG: no crypto self-tests (~0.5s), and trust
    # the TSC instead of calibrating and watching it.
    local cmd="console=ttyS0 rdinit=/init panic=-1 raid=noautodetect"
    cmd+=" cryptomgr.notests=1 tsc=reliable no_timer_check"
    if [ -n "$DEBUG" ]; then
        cmd+=" loglevel=7"
    else
        cmd+=" quiet loglevel=3"
    fi
    echo "$cmd ${VM_APPEND:-}"
}

build_qemu_cmd() {
    local accel
    accel=$(accel_args)
    # shellcheck disable=SC2206  # $accel is one or more words
    QEMU=(qemu-system-x86_64 -nodefaults -no-user-config -machine pc $accel
        -cpu max -smp "${VM_SMP:-2}" -m "${VM_MEM:-768}"
        -display none -monitor none -serial stdio -no-reboot
        -kernel "$KIMAGE" -initrd "$RUN/initrd" -append "$(kernel_cmdline)")
    disk_args
    # shellcheck disable=SC2206  # word splitting is the point here
    [ -z "${VM_QEMU_ARGS:-}" ] || QEMU+=($VM_QEMU_ARGS)
}

# Copy the serial console to stdout minus the exit marker (whose status
# goes to $1) and, unless debugging, the shutdown chatter after it.
read_console() {
    local line after=0 blanks=0 re="@@VM-EXIT:$NONCE:([0-9]+)@@"
    while IFS= read -r line || [ -n "$line" ]; do
        line=${line%$'\r'}
        if [[ $line =~ $re ]]; then
            echo "${BASH_REMATCH[1]}" >"$1"
            after=1
            # The marker brings one newline of its own; the rest are the script's.
            for (( ; blanks > 1; blanks--)); do echo; done
            blanks=0
            continue
        fi
        [ "$after" -eq 0 ] || [ -n "$DEBUG" ] || continue
        # Hold blank lines back until we know the marker does not follow.
        if [ -z "$line" ]; then
            blanks=$((blanks + 1))
            continue
        fi
        for (( ; blanks > 0; blanks--)); do echo; done
        printf '%s\n' "$line"
    done
}

cleanup() {
    [ -z "${QPID:-}" ] || kill "$QPID" 2>/dev/null || true
    [ -z "${RUN:-}" ] || rm -rf "$RUN"
}

# qemu under TCG has been seen to die of a segfault of its own (CI, qemu
# 7.2). That says nothing about md, so such a run is tried once more, from
# the members as they were before it.
snapshot_members() {
    local i
    for i in "${!MEMBERS[@]}"; do
        cp --sparse=always "${MEMBERS[i]}" "$RUN/snap$i"
    done
}

restore_members() {
    local i
    for i in "${!MEMBERS[@]}"; do
        cp --sparse=always "$RUN/snap$i" "${MEMBERS[i]}"
    done
}

qemu_crashed() { # QEMU_RC
    # 124 is timeout's own verdict and 137 its KILL; both are ours.
    [ "$1" -gt 128 ] && [ "$1" -ne 137 ] && [ ! -s "$RUN/status" ]
}

run_vm_once() {
    rm -f "$RUN/console" "$RUN/status"
    mkfifo "$RUN/console"
    read_console "$RUN/status" <"$RUN/console" &
    local rpid=$! qrc=0
    # --foreground: stay in our process group so our traps can reach it;
    # timeout still forwards TERM to qemu and escalates to KILL.
    timeout --foreground -k 5 "$TIMEOUT" "${QEMU[@]}" </dev/null >"$RUN/console" &
    QPID=$!
    wait "$QPID" || qrc=$?
    QPID=
    wait "$rpid" || true
    QRC=$qrc
    if [ "$qrc" -eq 124 ]; then
        kvm_log "timeout after ${TIMEOUT}s"
        return 124
    fi
    if [ ! -s "$RUN/status" ]; then
        kvm_log "VM ended without reporting a status (qemu rc $qrc)"
        return 125
    fi
    return "$(cat "$RUN/status")"
}

main() {
    TIMEOUT=${VM_TIMEOUT:-120}
    DEBUG=${VM_DEBUG:-}
    [ "$DEBUG" != 0 ] || DEBUG=
    FILES=()
    local opt
    while getopts "t:f:h" opt; do
        case $opt in
        t) TIMEOUT=$OPTARG ;;
        f) [ -r "$OPTARG" ] || kvm_die "cannot read $OPTARG"; FILES+=("$OPTARG") ;;
        *) usage ;;
        esac
    done
    shift $((OPTIND - 1))
    [ $# -ge 1 ] || usage
    SCRIPT=$1
    shift
    MEMBERS=("$@")
    [ "$SCRIPT" = - ] || [ -r "$SCRIPT" ] || kvm_die "cannot read script $SCRIPT"
    [ "${#MEMBERS[@]}" -le 26 ] || kvm_die "at most 26 members"
    local f
    for f in "${MEMBERS[@]}"; do
        if [ ! -r "$f" ] || [ ! -w "$f" ]; then
            kvm_die "member $f must exist and be read-write"
        fi
    done
    command -v qemu-system-x86_64 >/dev/null || kvm_die "qemu-system-x86_64 missing (run deps.sh)"

    kernel_tree
    base_initrd
    RUN=$(mktemp -d "${TMPDIR:-/tmp}/raidfs-vm.XXXXXX")
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    NONCE=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
    run_initrd
    build_qemu_cmd
    [ -z "$DEBUG" ] || kvm_log "${QEMU[*]}"
    run_vm
}

run_vm() {
    local rc=0
    snapshot_members
    run_vm_once || rc=$?
    if qemu_crashed "$QRC"; then
        kvm_log "qemu itself died (rc $QRC); running the VM once more"
        restore_members
        rc=0
        run_vm_once || rc=$?
    fi
    return "$rc"
}

main "$@"
