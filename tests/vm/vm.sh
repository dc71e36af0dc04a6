#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# vm.sh - reference kernel pipeline and qemu test harness.
#
# A Debian trixie root (debootstrap minbase + packages.txt) is both the toolchain for a
# Rust-enabled Linux 6.12 (rustc/bindgen/clang must match the kernel exactly, which the host's
# rustup cannot provide) and the guest's root filesystem, shared read-only over 9p. Everything is
# cached under $VM_CACHE, keyed by content hashes, so an unchanged tree reuses the cache.
#
# Subcommands: hostdeps | root | kernel | env | chroot CMD... | run [opts] SCRIPT [ARGS...] |
#              cases [PATTERN] | clean          (see usage() below and tests/vm/README.md)
set -euo pipefail

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$VM_DIR/../.." && pwd)
VM_CACHE=${VM_CACHE:-/var/cache/netedge/vm}
VM_MIRROR=${VM_MIRROR:-http://deb.debian.org/debian}
VM_JOBS=${VM_JOBS:-$(nproc)}
VM_MEM=${VM_MEM:-1024}
VM_SMP=${VM_SMP:-2}
SUITE=trixie
KSERIES=6.12
KSRC=/build/linux-source-$KSERIES          # inside the root
# Bump these when the steps below change in a way that must invalidate existing caches.
ROOT_RECIPE_REV=1
KERNEL_RECIPE_REV=1
LOGS=$VM_CACHE/logs

usage() {
	cat <<'EOF'
usage: tests/vm/vm.sh SUBCOMMAND
  hostdeps                  install the host packages the harness needs (debootstrap, qemu)
  root                      build (or reuse) the trixie root; prints its host path
  kernel                    build (or reuse) the kernel and its module tree inside the root
  env                       print VM_ROOT VM_KSRC VM_KOUT VM_BZIMAGE VM_MODDIR VM_KVER
                            VM_INSTALL_MOD_PATH as shell assignments (for eval)
  chroot CMD...             run CMD inside the root (proc/dev and the repo at /vm/src are
                            mounted in a private mount namespace, gone when CMD exits)
  run [--timeout SEC] [--log FILE] [--output FILE] [--kernel BZIMAGE] SCRIPT [ARGS...]
                            boot the reference kernel (or BZIMAGE) under qemu and run SCRIPT
                            in the guest
  cases [PATTERN]           run tests/vm/cases/*.sh (names containing PATTERN), one boot each
  clean                     remove every cache under $VM_CACHE
environment: VM_CACHE VM_BIN_DIR VM_MIRROR VM_JOBS VM_MEM VM_SMP VM_ACCEL(kvm|tcg) VM_CPU VM_KEEP_SCRATCH
EOF
}

log() { echo "vm: $*" >&2; }
die() {
	echo "vm: error: $*" >&2
	exit 2
}
sha() { sha256sum | cut -c1-16; }

# Prints the package names of packages.txt, one per line.
package_list() { sed -e 's/#.*//' -e 's/[[:space:]]\+/\n/g' "$VM_DIR/packages.txt" | grep .; }

root_key() { { echo "rev=$ROOT_RECIPE_REV suite=$SUITE"; package_list | sort; } | sha; }
root_dir() { echo "$VM_CACHE/root-$(root_key)"; }

# Version of a package installed in root $1, read from its dpkg database (its binaries need
# trixie's glibc and may not run on the host).
root_pkg_version() { dpkg-query --admindir="$1/var/lib/dpkg" -W -f='${Version}' "$2"; }

kernel_key() {
	local root=$1 f
	{
		echo "rev=$KERNEL_RECIPE_REV"
		for p in linux-source-$KSERIES rustc rust-src bindgen clang lld; do
			echo "$p=$(root_pkg_version "$root" "$p")"
		done
		for f in "$VM_DIR"/config/*.config; do
			echo "== $(basename "$f")"
			cat "$f"
		done
	} | sha
}
kernel_dir() { echo "/build/kernel-$(kernel_key "$1")"; } # inside the root

# Timing helper: runs "$@" and appends the wall time to $LOGS/times.txt.
timed() {
	local s=$SECONDS rc=0
	"$@" || rc=$?
	echo "$(date -u +%FT%TZ) $((SECONDS - s))s rc=$rc: $*" >>"$LOGS/times.txt"
	return $rc
}

# Runs "$@" with an exclusive lock on the cache, so concurrent builders wait for one build.
with_build_lock() {
	mkdir -p "$VM_CACHE" "$LOGS"
	(
		flock -x 9
		"$@"
	) 9>"$VM_CACHE/.build.lock"
}

# Runs CMD inside root $1. proc, dev and the repository (at /vm/src, read-write here) are
# mounted in a private mount namespace: they vanish with the process, are never visible to the
# host (so a concurrent 9p export of the root stays clean) and never need unmounting.
in_root() {
	local root=$1
	shift
	unshare --mount --propagation private -- /bin/sh -ec '
		r=$1 repo=$2; shift 2
		mount -t proc proc "$r/proc"
		mount --rbind /dev "$r/dev"
		if [ -d "$r/vm/src" ]; then mount --bind "$repo" "$r/vm/src"; fi
		exec chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
			LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive TERM=dumb "$@"
	' in_root "$root" "$REPO" "$@"
}

# ---------------------------------------------------------------------------------------------
cmd_hostdeps() {
	local missing=() c
	for c in debootstrap:debootstrap qemu-system-x86_64:qemu-system-x86 unshare:util-linux \
		flock:util-linux sha256sum:coreutils; do
		command -v "${c%%:*}" >/dev/null || missing+=("${c#*:}")
	done
	# qemu's -kernel boot needs the linuxboot option ROM from qemu-system-data.
	[ -e /usr/share/qemu/linuxboot_dma.bin ] || missing+=(qemu-system-data)
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing host packages: ${missing[*]}"
	local out
	if ! out=$(apt-get install -y -qq --no-install-recommends "${missing[@]}" 2>&1); then
		apt-get update -qq >/dev/null 2>&1 || true
		out=$(apt-get install -y -qq --no-install-recommends "${missing[@]}" 2>&1) ||
			die "apt-get install ${missing[*]} failed:
$out"
	fi
}

# ---------------------------------------------------------------------------------------------
build_root() {
	local dir=$1 tmp=$1.tmp key
	key=$(basename "$dir")
	[ -e "$dir/.vm-root-complete" ] && return 0
	cmd_hostdeps
	local blog=$LOGS/$key.log
	log "building the $SUITE root $dir (log: $blog)"
	rm -rf "$tmp" "$dir"
	mkdir -p "$LOGS"
	: >"$blog"
	timed debootstrap --variant=minbase --components=main "$SUITE" "$tmp" "$VM_MIRROR" >>"$blog" 2>&1 ||
		{
			tail -20 "$blog" >&2
			die "debootstrap failed, see $blog"
		}
	# An apt source used only inside this root; the host's sources stay as they are.
	rm -f "$tmp/etc/apt/sources.list"
	cat >"$tmp/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $VM_MIRROR
Suites: $SUITE
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
	# Daemons' postinst must not start services in a build chroot.
	printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
	chmod 755 "$tmp/usr/sbin/policy-rc.d"
	cp /etc/resolv.conf "$tmp/etc/resolv.conf"
	echo vm >"$tmp/etc/hostname"
	local pkgs
	mapfile -t pkgs < <(package_list)
	{ in_root "$tmp" apt-get update && timed in_root "$tmp" apt-get install -y --no-install-recommends "${pkgs[@]}"; } >>"$blog" 2>&1 ||
		{
			tail -30 "$blog" >&2
			die "installing packages.txt in the root failed, see $blog"
		}
	in_root "$tmp" apt-get clean >>"$blog" 2>&1
	mkdir -p "$tmp/vm/src" "$tmp/vm/bin" "$tmp/vm/scratch" "$tmp/build" "$tmp/usr/lib/modules"
	{
		echo "key=$key"
		echo "built=$(date -u +%FT%TZ)"
		for p in rustc rust-src bindgen clang linux-source-$KSERIES; do
			echo "$p=$(root_pkg_version "$tmp" "$p")"
		done
	} >"$tmp/.vm-root-complete"
	mv "$tmp" "$dir"
	log "root ready: $dir ($(du -sh "$dir" | cut -f1))"
	remove_stale "$VM_CACHE" 'root-*' "$key"
}

# Removes the entries matching GLOB in DIR except KEEP, but only when no `run` holds the
# shared use lock (a guest might be booted from them).
remove_stale() {
	local dir=$1 glob=$2 keep=$3 d
	(
		flock -n -x 8 || exit 0
		for d in "$dir"/$glob; do
			[ -e "$d" ] || continue
			[ "$(basename "$d")" = "$keep" ] && continue
			log "removing stale cache $d"
			rm -rf "$d"
		done
	) 8>"$VM_CACHE/.use.lock"
}

ensure_root() {
	local dir
	dir=$(root_dir)
	[ -e "$dir/.vm-root-complete" ] || with_build_lock build_root "$dir"
	[ -e "$dir/.vm-root-complete" ] || die "root $dir was not built"
	echo "$dir"
}

# ---------------------------------------------------------------------------------------------
# Checks that every line of the fragments landed in the final .config. Kconfig silently drops
# a symbol whose dependencies are unmet, so without this a missing feature shows up only as a
# confusing test failure much later.
check_fragments() {
	local config=$1 f line sym bad=0
	shift
	for f in "$@"; do
		while IFS= read -r line; do
			case $line in
			CONFIG_*=*)
				grep -qxF "$line" "$config" || {
					echo "vm: config: '$line' from $(basename "$f") not in final .config (got: $(grep -E "^(# )?${line%%=*}[= ]" "$config" || echo unset))" >&2
					bad=1
				}
				;;
			"# CONFIG_"*" is not set")
				sym=${line#\# }
				sym=${sym%% *}
				if grep -q "^$sym=" "$config"; then
					echo "vm: config: '$line' from $(basename "$f") but final .config has $(grep "^$sym=" "$config")" >&2
					bad=1
				fi
				;;
			esac
		done <"$f"
	done
	return $bad
}

build_kernel() {
	local root=$1 kd=$2 key blog
	key=$(basename "$kd")
	[ -e "$root$kd/.complete" ] && return 0
	blog=$LOGS/$key.log
	log "building kernel $kd in $root (log: $blog; takes 10-20 min on 2 cores)"
	: >"$blog"
	if [ ! -e "$root$KSRC/.vm-extracted" ]; then
		rm -rf "${root:?}$KSRC"
		timed tar -C "$root/build" -xf "$root/usr/src/linux-source-$KSERIES.tar.xz"
		touch "$root$KSRC/.vm-extracted"
	fi
	rm -rf "${root:?}$kd"
	mkdir -p "$root$kd/obj" "$root$kd/config"
	# Seed from the newest complete build of the same root: Kbuild then rebuilds only what the
	# config change touches (minutes instead of most of an hour on a busy 2-core host).
	local prev
	# `|| true`: on a fresh cache there is no earlier build, ls fails, and under pipefail and
	# set -e the assignment would end the script without a word (the cold-cache CI failure).
	prev=$(ls -dt "$root"/build/kernel-*/.complete 2>/dev/null | head -1 || true)
	if [ -n "$prev" ]; then
		prev=$(dirname "$prev")
		log "seeding the build directory from $prev"
		cp -a "$prev/obj/." "$root$kd/obj/"
	fi
	cp "$VM_DIR"/config/*.config "$root$kd/config/"
	local mk=(make -C "$KSRC" LLVM=1 O="$kd/obj")
	{
		in_root "$root" make -C "$KSRC" LLVM=1 rustavailable &&
			in_root "$root" "${mk[@]}" tinyconfig &&
			in_root "$root" sh -c "cd $KSRC && scripts/kconfig/merge_config.sh -m -O $kd/obj $kd/obj/.config $kd/config/*.config" &&
			in_root "$root" "${mk[@]}" olddefconfig
	} >>"$blog" 2>&1 || {
		tail -30 "$blog" >&2
		die "kernel configuration failed, see $blog"
	}
	check_fragments "$root$kd/obj/.config" "$VM_DIR"/config/*.config ||
		die "kernel config fragments not applied (unmet dependencies?); fix tests/vm/config/"
	timed in_root "$root" nice -n 10 "${mk[@]}" -j"$VM_JOBS" >>"$blog" 2>&1 || {
		grep -E 'error|Error' "$blog" | tail -20 >&2
		die "kernel build failed, see $blog"
	}
	in_root "$root" "${mk[@]}" -s INSTALL_MOD_PATH="$kd/modroot" modules_install >>"$blog" 2>&1 ||
		die "modules_install failed, see $blog"
	in_root "$root" "${mk[@]}" -s kernelrelease >"$root$kd/kver"
	cp "$VM_DIR"/config/*.config "$root$kd/config/"
	touch "$root$kd/.complete"
	log "kernel ready: $kd ($(cat "$root$kd/kver"))"
	remove_stale "$root/build" 'kernel-*' "$key"
}

ensure_kernel() {
	local root kd
	root=$(ensure_root)
	kd=$(kernel_dir "$root")
	[ -e "$root$kd/.complete" ] || with_build_lock build_kernel "$root" "$kd"
	[ -e "$root$kd/.complete" ] || die "kernel $kd was not built"
	echo "$root $kd"
}

cmd_env() {
	local root kd
	read -r root kd < <(ensure_kernel)
	[ -n "$kd" ] || exit 2
	cat <<EOF
VM_ROOT=$root
VM_KSRC=$KSRC
VM_KOUT=$kd/obj
VM_BZIMAGE=$root$kd/obj/arch/x86/boot/bzImage
VM_MODDIR=$root$kd/modroot/lib/modules
VM_KVER=$(cat "$root$kd/kver")
VM_INSTALL_MOD_PATH=$kd/modroot
export VM_ROOT VM_KSRC VM_KOUT VM_BZIMAGE VM_MODDIR VM_KVER VM_INSTALL_MOD_PATH
EOF
}

# ---------------------------------------------------------------------------------------------
# Kernel messages that fail a run whatever the script says. Only lines with a printk timestamp
# count, so a script printing these words does not trip the check.
FAULT_RE='^\[ *[0-9]+\.[0-9]+\] .*(Kernel panic|Oops|BUG:|kernel BUG at|KASAN|UBSAN|general protection fault|WARNING: CPU:|watchdog: BUG|rcu: INFO)'

cmd_run() {
	local timeout=300 logfile="" outfile="" kernel=""
	while [ $# -gt 0 ]; do
		case $1 in
		--timeout)
			timeout=${2:?--timeout needs seconds}
			shift 2
			;;
		--timeout=*)
			timeout=${1#*=}
			shift
			;;
		--kernel)
			kernel=${2:?--kernel needs a bzImage}
			shift 2
			;;
		--kernel=*)
			kernel=${1#*=}
			shift
			;;
		--log)
			logfile=${2:?--log needs a file}
			shift 2
			;;
		--log=*)
			logfile=${1#*=}
			shift
			;;
		--output)
			outfile=${2:?--output needs a file}
			shift 2
			;;
		--output=*)
			outfile=${1#*=}
			shift
			;;
		--)
			shift
			break
			;;
		-*) die "run: unknown option $1" ;;
		*) break ;;
		esac
	done
	[ $# -ge 1 ] || die "run: missing SCRIPT"
	local script=$1
	shift
	[ -f "$script" ] || die "run: no such script: $script"
	case $timeout in '' | *[!0-9]*) die "run: --timeout must be whole seconds, got '$timeout'" ;; esac

	cmd_hostdeps
	local root kd
	read -r root kd < <(ensure_kernel)
	[ -n "$kd" ] || exit 2
	# Another kernel (--kernel) must have virtio-pci, 9p and the serial console built in; it boots
	# with the same root and scratch, without the reference module tree.
	local bzimage=$root$kd/obj/arch/x86/boot/bzImage moddir=$kd/modroot/lib/modules kver
	kver=$(cat "$root$kd/kver")
	if [ -n "$kernel" ]; then
		[ -f "$kernel" ] || die "run: no such kernel image: $kernel"
		bzimage=$kernel moddir="" kver=custom
	fi
	local bindir=${VM_BIN_DIR:-$REPO/target/release}

	# The guest's init lives in the root; refresh it atomically when the harness changed it.
	if ! cmp -s "$VM_DIR/guest-init.sh" "$root/vm/init"; then
		install -m 755 "$VM_DIR/guest-init.sh" "$root/vm/.init.$$"
		mv -f "$root/vm/.init.$$" "$root/vm/init"
	fi

	mkdir -p "$VM_CACHE/scratch"
	local scratch name
	scratch=$(mktemp -d "$VM_CACHE/scratch/run.XXXXXX")
	name=$(basename "$script")
	mkdir -p "$scratch/.vm"
	install -m 755 "$script" "$scratch/$name"
	{
		printf 'export VM_KVER=%q VM_CASE=%q\n' "$kver" "${name%.sh}"
		printf 'exec /vm/scratch/%q' "$name"
		[ $# -gt 0 ] && printf ' %q' "$@"
		echo
	} >"$scratch/.vm/cmd"

	local accel=${VM_ACCEL:-}
	if [ -z "$accel" ]; then
		# /dev/kvm can exist without hardware virtualisation (e.g. kvm_pvm), where guests die
		# with emulation failures: use KVM only when a hardware backend module is loaded.
		if [ -w /dev/kvm ] && { [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; }; then
			accel=kvm
		else accel=tcg; fi
	fi
	local qargs=()
	case $accel in
	kvm) qargs+=(-enable-kvm -cpu host) ;;
	# la57=off: with 5-level paging (which "max" enables) about one TCG boot in six faulted with a
	# KASAN wild-memory-access in identify_boot_cpu, before init; 4-level paging avoids it.
	tcg) qargs+=(-accel tcg -cpu "${VM_CPU:-max,la57=off}") ;;
	*) die "VM_ACCEL must be kvm or tcg" ;;
	esac
	qargs+=(-smp "$VM_SMP" -m "$VM_MEM" -nodefaults -display none -monitor none
		-serial stdio -no-reboot
		-fsdev "local,id=root,path=$root,security_model=none,multidevs=remap,readonly=on"
		-device virtio-9p-pci,fsdev=root,mount_tag=/dev/root
		-fsdev "local,id=scratch,path=$scratch,security_model=none,multidevs=remap"
		-device virtio-9p-pci,fsdev=scratch,mount_tag=vmscratch
		-fsdev "local,id=src,path=$REPO,security_model=none,multidevs=remap,readonly=on"
		-device virtio-9p-pci,fsdev=src,mount_tag=vmsrc)
	if [ -d "$bindir" ]; then
		qargs+=(-fsdev "local,id=bin,path=$(cd "$bindir" && pwd),security_model=none,multidevs=remap,readonly=on"
			-device virtio-9p-pci,fsdev=bin,mount_tag=vmbin)
	fi
	# oops=panic + panic=-1 + -no-reboot: a kernel Oops or KASAN report ends the VM at once
	# (the trace is on the console first); other faults (BUG:/WARNING) are caught by FAULT_RE.
	# The RCU stall timeout is raised from 21 s because a TCG guest on a loaded host can be
	# starved that long without anything being wrong inside it.
	# acpi=noirq: ACPI still enumerates the CPUs, but PCI interrupt routing does not run the
	# AML interpreter, which takes over a minute with KASAN under TCG.
	qargs+=(-kernel "$bzimage" -append "console=ttyS0 loglevel=6 panic=-1 oops=panic kasan.fault=panic acpi=noirq \
rcupdate.rcu_cpu_stall_timeout=60 \
rootfstype=9p root=/dev/root rootflags=trans=virtio,version=9p2000.L,cache=loose,msize=524288 ro \
init=/vm/init${moddir:+ vm_moddir=$moddir}${VM_APPEND:+ $VM_APPEND}")

	local console=$scratch/.vm/console.log
	: >"$console"
	local qpid reason="" start=$SECONDS deadline="" fault boot="" t_start=$EPOCHREALTIME
	# Keep stale-cache removal away while this guest may read from the root.
	exec 8>"$VM_CACHE/.use.lock"
	flock -s 8
	qemu-system-x86_64 "${qargs[@]}" </dev/null >"$console" 2>&1 &
	qpid=$!
	trap 'kill $qpid 2>/dev/null; rm -rf "$scratch"; exit 130' INT TERM
	while kill -0 "$qpid" 2>/dev/null; do
		# Boot to script, as the host sees it (qemu start to the init's first line), 0.3 s grain.
		if [ -z "$boot" ] && grep -q -a 'vm: init reached userspace' "$console"; then
			boot=$(awk -v a="$t_start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
		fi
		if [ -z "$reason" ] && fault=$(grep -m1 -aE "$FAULT_RE" "$console"); then
			reason="kernel fault: ${fault}"
			deadline=$((SECONDS + 3)) # let the rest of the trace reach the console
		fi
		if [ -n "$deadline" ] && [ $SECONDS -ge "$deadline" ]; then break; fi
		if [ $((SECONDS - start)) -ge "$timeout" ]; then
			reason="timeout after ${timeout}s"
			break
		fi
		sleep 0.3
	done
	kill "$qpid" 2>/dev/null || true
	local qrc=0
	wait "$qpid" || qrc=$?
	trap - INT TERM
	exec 8>&-
	local elapsed=$((SECONDS - start))
	# A panic reboots (and so ends qemu) before the poll above may have seen it.
	if [ -z "$reason" ] && fault=$(grep -m1 -aE "$FAULT_RE" "$console"); then
		reason="kernel fault: ${fault}"
	fi

	local rc status
	status=$(cat "$scratch/.vm/status" 2>/dev/null || true)
	if [ -n "$reason" ]; then
		rc=125
		[ "${reason#timeout}" != "$reason" ] && rc=124
	elif [ -z "$status" ]; then
		reason="no exit status from the guest (qemu exit code $qrc)"
		rc=99
	else
		rc=$status
	fi

	if [ -n "$logfile" ]; then cp "$console" "$logfile"; else cat "$console"; fi
	if [ -n "$outfile" ]; then cp "$scratch/.vm/output" "$outfile" 2>/dev/null || : >"$outfile"; fi
	if [ -n "$reason" ]; then
		log "FAIL $name: $reason${logfile:+ (console log: $logfile)}"
		echo "$reason" >"$scratch/.vm/reason"
	fi
	log "$name: exit status $rc after ${elapsed}s ($accel), boot to script ${boot:-?}s"
	if [ -n "${VM_KEEP_SCRATCH:-}" ]; then log "scratch kept: $scratch"; else rm -rf "$scratch"; fi
	VM_LAST_REASON=$reason
	return "$rc"
}

# ---------------------------------------------------------------------------------------------
cmd_cases() {
	local pattern=${1:-} f name passed=0 failed=0 rc t0 tmo
	local logdir=${VM_LOG_DIR:-$LOGS/cases}
	mkdir -p "$logdir"
	ensure_kernel >/dev/null
	shopt -s nullglob
	for f in "$VM_DIR"/cases/*.sh; do
		name=$(basename "$f" .sh)
		[ -n "$pattern" ] && [[ $name != *$pattern* ]] && continue
		# A case may ask for a longer timeout with a line "# vm-timeout: SEC".
		tmo=$(sed -n 's/^# vm-timeout: *\([0-9][0-9]*\).*/\1/p' "$f" | head -1)
		echo "# vm case $name"
		t0=$SECONDS
		rc=0
		VM_LAST_REASON=""
		(cmd_run --timeout "${tmo:-300}" --log "$logdir/$name.log" --output "$logdir/$name.out" "$f") 2>"$logdir/$name.err" || rc=$?
		grep -aE '^(not )?ok( |$)' "$logdir/$name.out" || true
		if [ $rc -eq 0 ]; then
			passed=$((passed + 1))
			echo "# vm case $name passed in $((SECONDS - t0))s"
		else
			failed=$((failed + 1))
			local why
			why=$(sed -n 's/^vm: FAIL [^:]*: //p' "$logdir/$name.err" | head -1)
			[ -n "$why" ] || why=$(grep -m1 '^vm: error' "$logdir/$name.err" || true)
			[ -n "$why" ] || why="exit status $rc"
			# One `not ok` per failed case at least, even if it printed none itself.
			if [ -n "$why" ] && [ "$why" != "exit status $rc" ] || ! grep -qa '^not ok' "$logdir/$name.out"; then
				echo "not ok - vm case $name: $why (log: $logdir/$name.log)"
			fi
			echo "# vm case $name FAILED in $((SECONDS - t0))s (exit $rc); console: $logdir/$name.log"
		fi
	done
	[ $((passed + failed)) -gt 0 ] || die "no case matches '${pattern}' in $VM_DIR/cases"
	echo "vm: $passed passed, $failed failed"
	[ $failed -eq 0 ]
}

cmd_clean() {
	mkdir -p "$VM_CACHE"
	(
		flock -x 9
		flock -x 8
		rm -rf "${VM_CACHE:?}"/root-* "$VM_CACHE"/scratch "$LOGS"
	) 9>"$VM_CACHE/.build.lock" 8>"$VM_CACHE/.use.lock"
}

main() {
	[ $# -ge 1 ] || {
		usage >&2
		exit 2
	}
	[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap, chroot, mounts)"
	mkdir -p "$LOGS"
	local sub=$1 r
	shift
	case $sub in
	hostdeps) cmd_hostdeps ;;
	root) ensure_root ;;
	kernel) cmd_env | sed -n 's/^VM_\(BZIMAGE\|KVER\)=/\1 /p' ;;
	env) cmd_env ;;
	chroot)
		[ $# -ge 1 ] || die "chroot: missing CMD"
		r=$(ensure_root)
		in_root "$r" "$@"
		;;
	run) cmd_run "$@" ;;
	cases) cmd_cases "$@" ;;
	clean) cmd_clean ;;
	-h | --help | help) usage ;;
	*)
		usage >&2
		exit 2
		;;
	esac
}

# Everything above is definitions; `exit` keeps bash from reading on if this file is replaced
# while it runs.
main "$@"
exit $?
