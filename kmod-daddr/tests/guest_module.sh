# SPDX-License-Identifier: GPL-2.0-only
# Sourced by tests/vm/cases/daddr-*.sh inside the guest.
#
# daddr_build_module: use the xt_DADDR.ko that kmod-daddr/build-vm.sh installed into the guest's
# module tree if it is newer than every source file; otherwise build xt_DADDR.ko from the repository (/vm/src/kmod-daddr, the sources as
# they are now) against the running kernel's build tree, which is part of the guest's root (the
# toolchain root), and install it under /lib/modules/<kver>/extra (a writable overlay), so
# modprobe and netfilter's autoload by alias find it.
daddr_build_module() {
	local kver kdir d work=/tmp/kmod-daddr
	kver=$(uname -r)
	kdir=/lib/modules/$kver/build
	if [ ! -e "$kdir/Makefile" ]; then
		for d in /build/kernel-*/obj; do
			[ "$(cat "$d/include/config/kernel.release" 2>/dev/null)" = "$kver" ] && kdir=$d
		done
	fi
	local ko=/lib/modules/$kver/extra/xt_DADDR.ko
	if [ -e "$ko" ] && [ -z "$(find -L /vm/src/kmod-daddr -type f \( -name '*.rs' -o -name '*.c' -o -name '*.h' -o -name Kbuild \) -newer "$ko" | head -1)" ]; then
		echo "using $ko (built on the host by kmod-daddr/build-vm.sh, newer than the sources)"
		return 0
	fi
	[ -e "$kdir/Makefile" ] || {
		echo "no build tree for $kver"
		return 1
	}
	rm -rf "$work"
	mkdir -p "$work"
	(cd /vm/src/kmod-daddr && cp -rL Kbuild Makefile ./*.c ./*.h ./*.rs daddr_core "$work/") || return 1
	make -s -C "$work" KDIR="$kdir" || return 1
	install -D -m 0644 "$work/xt_DADDR.ko" "/lib/modules/$kver/extra/xt_DADDR.ko" || return 1
	depmod -a "$kver"
}

# daddr_guest_ready: what every DADDR case needs first, the extension in /vm/bin and the module of
# the current sources; a case without them ends here (tap_done), saying what is missing.
daddr_guest_ready() {
	if [ ! -e /vm/bin/libxt_DADDR.so ]; then
		tap_not_ok "libxt_DADDR.so in /vm/bin" "build it (cargo build --release -p xt-daddr) and set VM_BIN_DIR"
		tap_done
	fi
	check "xt_DADDR.ko of the current sources installed for the running kernel" daddr_build_module ||
		tap_done
}
