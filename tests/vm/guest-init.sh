#!/usr/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-only
#
# PID 1 of a vm.sh guest (vm.sh installs it as /vm/init in the root before each boot).
# The root is the trixie toolchain root, read-only over 9p. This makes the writable places a
# test needs, mounts the host shares, runs /vm/scratch/.vm/cmd (written by `vm.sh run`), records
# its exit status in /vm/scratch/.vm/status and powers the VM off (qemu runs with -no-reboot).
# Kernel arguments without a dot reach init as environment variables: vm_moddir is the module
# tree (inside the root) to show at /lib/modules.
# busybox sh runs its applets (mount, mkdir, ip, ...) without exec'ing dynamically linked
# binaries over 9p, which costs about 0.3 s each under TCG with KASAN: boot stays fast.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb LANG=C.UTF-8

# vm_debug=1 (VM_APPEND) timestamps each step in the kernel log.
mark() { [ -z "$vm_debug" ] || echo "vm-init: $*" >/dev/kmsg; }
mount -t proc proc /proc
mount -t sysfs sysfs /sys
grep -q ' /dev ' /proc/mounts || mount -t devtmpfs devtmpfs /dev
mark "proc sys dev"
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
# devtmpfs has none of these; bash process substitution and many scripts need them.
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
[ -e /dev/stdin ] || ln -s /proc/self/fd/0 /dev/stdin
[ -e /dev/stdout ] || ln -s /proc/self/fd/1 /dev/stdout
[ -e /dev/stderr ] || ln -s /proc/self/fd/2 /dev/stderr
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/lock
mount -t tmpfs -o mode=700 tmpfs /root

# Writable views (changes live in RAM) of directories of the read-only root: tests write
# daemon configs under /etc, daemons write state under /var, and a test may add modules and
# run depmod under /lib/modules.
overlay() { # overlay DIR [LOWER]
	up=/run/.vm-overlay$1
	mkdir -p "$up/upper" "$up/work"
	mount -t overlay overlay -o "lowerdir=${2:-$1},upperdir=$up/upper,workdir=$up/work" "$1" || {
		echo "vm: warning: cannot make $1 writable" >&2
		return 1
	}
}
mark "tmpfs"
overlay /etc
mark "overlay /etc"
overlay /var
mark "overlay /var"
if [ -n "$vm_moddir" ]; then
	overlay /usr/lib/modules "$vm_moddir" || mount --bind "$vm_moddir" /usr/lib/modules
fi

mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288 vmscratch /vm/scratch
mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288,cache=loose,ro vmsrc /vm/src
mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288,cache=loose,ro vmbin /vm/bin 2>/dev/null
mark "overlay modules, 9p shares"
hostname vm
ip link set lo up
mark "lo up"

echo "vm: init reached userspace at uptime $(cut -d' ' -f1 /proc/uptime)s, kernel $(uname -r)"
export VM_SRC=/vm/src VM_BIN=/vm/bin VM_SCRATCH=/vm/scratch
cd /vm/scratch
# The script's output goes to a file (not a pipe: daemons it leaves running would hold a pipe
# open forever) and is mirrored to the console by tail, interleaved with kernel messages.
out=/vm/scratch/.vm/output
: >"$out"
bash /vm/scratch/.vm/cmd </dev/null >"$out" 2>&1 &
pid=$!
/usr/bin/tail -s 0.2 -n +1 -f --pid=$pid "$out" & # coreutils: --pid
tailpid=$!
wait $pid
rc=$?
wait $tailpid
echo "vm: script exit status $rc at uptime $(cut -d' ' -f1 /proc/uptime)s"
echo $rc >/vm/scratch/.vm/status
sync
reboot -f
