# Runs in the VM: make md arrays with the real mdadm on vda..vdd and copy each
# member's first 64 KiB and last 128 KiB to the output disk vde.
set -e
OUT=/dev/vde
SZ=$(cat /sys/block/vda/size)           # sectors
LAST=$((SZ / 128 - 2))                  # 64 KiB blocks: the last two
k=0
make() {   # metadata level n bitmap
    disks=""
    for d in a b c d; do
        dd if=/dev/zero of=/dev/vd$d bs=65536 count=1 2>/dev/null
        dd if=/dev/zero of=/dev/vd$d bs=65536 count=2 seek=$LAST 2>/dev/null
    done
    bm=; [ "$4" = none ] || bm=--bitmap=$4
    case $3 in 2) disks="/dev/vda /dev/vdb";; 3) disks="/dev/vda /dev/vdb /dev/vdc";; 4) disks="/dev/vda /dev/vdb /dev/vdc /dev/vdd";; esac
    mdadm --create /dev/md0 --run --quiet --metadata=$1 --level=$2 -n $3 $bm --name=seed$k --assume-clean $disks
    dd if=/dev/urandom of=/dev/md0 bs=4096 count=4 2>/dev/null
    mdadm --stop /dev/md0 >/dev/null 2>&1
    i=0
    for d in $disks; do
        base=$(((k * 4 + i) * 3))
        dd if=$d of=$OUT bs=65536 count=1 seek=$base 2>/dev/null
        dd if=$d of=$OUT bs=65536 count=2 skip=$LAST seek=$((base + 1)) 2>/dev/null
        i=$((i + 1))
    done
    echo "seed $k: metadata=$1 level=$2 n=$3 bitmap=$4"
    k=$((k + 1))
}
for md in 1.0 1.1 1.2 0.90; do
    make $md raid1 2 internal
    make $md raid5 3 internal
    make $md raid10 4 internal
done
make 1.2 raid5 3 none
make 1.2 raid6 4 none
make 1.2 raid0 2 none
make 1.0 linear 2 none
sync
