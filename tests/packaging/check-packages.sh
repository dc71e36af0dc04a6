#!/bin/bash
# Packaging tests (a layer of `make check`): build the packages of every component in COMPONENTS,
# lint them (rpmlint, lintian: no errors), install them into throwaway roots (rpm --root, and a
# debootstrap chroot of the build host's release where the maintainer scripts run for real) and
# check that every file lands in an FHS place. Prints "ok - ..." / "not ok - ..." lines.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
failed=0
ok()    { echo "ok - $*"; }
notok() { echo "not ok - $*"; failed=1; }
# check WHAT CMD...: one assertion; returns CMD's success, so that `check ... || show-details` works.
check() { local what=$1; shift; if "$@"; then ok "$what"; else notok "$what"; return 1; fi; }

cfg() { make -s --no-print-directory print-config | awk -v k="$1" '$1 == k { print $3 }'; }
components=$(make -s --no-print-directory print-config | sed -n 's/^COMPONENTS *= \(.*\) #.*/\1/p')
rpmdir=$(cfg RPMDIR) srpmdir=$(cfg SRPMDIR) debdir=$(cfg DEBDIR) version=$(cfg VERSION)
if [ -z "${components// /}" ]; then
    notok "COMPONENTS in package.mk names at least one component"; exit 1
fi

# --- per-OS overrides (package-rhel.mk) seen through print-config -------------------------------
native_cfg=$(make -s --no-print-directory print-config)
rhel_cfg=$(make -s --no-print-directory print-config OS_FAMILY=rhel OS_ID=rhel OS_VERSION_MAJOR=9)
forced_native=$(make -s --no-print-directory print-config OS_FAMILY=rhel OS_ID=rhel OS_VERSION_MAJOR=9 NATIVE=1)
check "print-config: package-rhel.mk sets the lib64 xtables dir for RHEL" \
    grep -qE '^XTLIBDIR += /usr/lib64/xtables +# package-rhel.mk$' <<<"$rhel_cfg"
check "print-config: RHEL values come from package-rhel.mk (DIST, UNITDIR, KERNEL_DIR)" \
    bash -c '[ "$(grep -cE "^(DIST +=  ?\.el9|UNITDIR += /usr/lib/systemd/system|KERNEL_DIR += /usr/src/kernels/.*) +# package-rhel.mk$" <<<"$1")" = 3 ]' _ "$rhel_cfg"
check "print-config: the native build uses no package-rhel.mk value" \
    bash -c '! grep -q "# package-rhel.mk" <<<"$1"' _ "$native_cfg"
check "print-config: NATIVE=1 ignores package-rhel.mk even for OS_FAMILY=rhel" \
    bash -c '! grep -q "# package-rhel.mk" <<<"$1"' _ "$forced_native"
check "print-config: native and RHEL differ in XTLIBDIR" \
    bash -c '[ "$(grep ^XTLIBDIR <<<"$1")" != "$(grep ^XTLIBDIR <<<"$2")" ]' _ "$native_cfg" "$rhel_cfg"

work=$(mktemp -d /var/tmp/netedge-pkgtest.XXXXXX)
cleanup() {
    for m in debroot/proc debroot/dev upgroot/proc; do mountpoint -q "$work/$m" && umount "$work/$m"; done
    rm -rf "$work"
}
trap cleanup EXIT

# --- build ---------------------------------------------------------------------------------------
if make --no-print-directory rpm srpm deb >"$work/build.log" 2>&1; then
    ok "make rpm srpm deb builds the packages"
else
    tail -n 30 "$work/build.log"; notok "make rpm srpm deb builds the packages"; exit 1
fi

# Files that may appear in a package: the FHS places for a distro package (/usr/src holds DKMS
# sources; no /usr/local, /opt, /home, /tmp, nothing at the top level).
fhs_ok() {
    # (dpkg -L lists the directories too, down to "/.")
    grep -vE '^/(\.|usr|etc|var|var/(lib|log|cache|spool)|lib|lib64|lib/systemd|lib/modules)$|^/(usr/(bin|sbin|lib|lib64|libexec|share|include|src)(/|$)|etc/|var/(lib|log|cache|spool)/|lib/(modules|systemd)/)' "$1" > "$1.bad"
    if [ -s "$1.bad" ]; then echo "  outside FHS places:"; sed 's/^/    /' "$1.bad"; return 1; fi
}

# --- RPM -----------------------------------------------------------------------------------------
rpms=$(ls "$rpmdir"/*/*.rpm 2>/dev/null)
srpms=$(ls "$srpmdir"/*.src.rpm 2>/dev/null)
for c in $components; do
    for spec in $(make -s --no-print-directory -f Makefile -f - print-list <<<"print-list: ; @echo \$(${c}_RPM_SPECS)"); do
        check "RPM package $spec (component $c) was built" grep -q "/$spec-$version-" <<<"$rpms"
        check "SRPM $spec was built" grep -q "/$spec-$version-" <<<"$srpms"
    done
done
for p in $rpms $srpms; do
    rpmlint -c "$top/rpm/rpmlint.toml" "$p" >"$work/rpmlint.out" 2>&1
    errors=$(sed -n 's/.* \([0-9]*\) errors, .*/\1/p' "$work/rpmlint.out" | tail -n 1)
    if [ "${errors:-1}" = 0 ]; then ok "rpmlint: no errors in $(basename "$p")"
    else notok "rpmlint: errors in $(basename "$p")"; grep -E ' E: |errors' "$work/rpmlint.out" | sed 's/^/  /'; fi
done
if [ -n "$rpms" ]; then
    rroot=$work/rpmroot
    mkdir -p "$rroot"
    rpm --root "$rroot" --initdb
    check "rpm --root -i --nodeps installs every RPM" rpm --root "$rroot" -i --nodeps --noscripts $rpms
    rpm --root "$rroot" -qal | sort > "$work/rpm-files"
    check "RPM files land in FHS places" fhs_ok "$work/rpm-files"
    for p in $rpms; do
        n=$(rpm -qp --qf '%{NAME}' "$p")
        check "rpm -V verifies $n in the throwaway root" rpm --root "$rroot" -V --nodeps --nouser --nogroup "$n"
    done
    if rpm --root "$rroot" -q l2tpns >/dev/null 2>&1; then
        check "RPM l2tpns: /etc/l2tpns/users is mode 0600, a %config(noreplace)" sh -c \
            "rpm --root '$rroot' -q --qf '[%{FILEMODES:perms} %{FILEFLAGS:fflags} %{FILENAMES}\n]' l2tpns | grep -qx -- '-rw------- cn /etc/l2tpns/users'"
        check "RPM l2tpns: ships l2tpns-capture and its man page" sh -c \
            "rpm --root '$rroot' -ql l2tpns | grep -qx /usr/sbin/l2tpns-capture && rpm --root '$rroot' -ql l2tpns | grep -q '^/usr/share/man/man8/l2tpns-capture.8'"
    fi
fi

# kmod-daddr in the reference kernel (tests/vm): the RPM's module loads, and its real %preun
# refuses the erase while legacy or nft rules use DADDR (tests/packaging/vm-kmod-daddr.sh).
kmod_rpm=$(grep '/kmod-daddr-[0-9]' <<<"$rpms" | head -n 1)
ext_rpm=$(grep '/iptables-daddr-[0-9]' <<<"$rpms" | head -n 1)
if [ -n "$kmod_rpm" ] && [ -n "$ext_rpm" ]; then
    vmbin=$work/vmbin
    mkdir -p "$vmbin/x"
    for p in "$kmod_rpm" "$ext_rpm"; do (cd "$vmbin/x" && rpm2cpio "$p" | cpio -idm --quiet); done
    find "$vmbin/x" \( -name xt_DADDR.ko -o -name libxt_DADDR.so \) -exec cp {} "$vmbin/" \;
    rpm -qp --qf '%{PREUN}\n' "$kmod_rpm" > "$vmbin/preun.sh"
    if VM_BIN_DIR=$vmbin "$top/tests/vm/vm.sh" run --timeout 300 --output "$work/vm-kmod.out" \
          "$top/tests/packaging/vm-kmod-daddr.sh" >"$work/vm-kmod.log" 2>&1; then
        grep -E '^(not )?ok - ' "$work/vm-kmod.out" | sed 's/^\(\(not \)\?ok - \)/\1kmod-daddr in the reference VM: /'
    else
        grep -E '^(not )?ok - ' "$work/vm-kmod.out" 2>/dev/null | sed 's/^\(\(not \)\?ok - \)/\1kmod-daddr in the reference VM: /'
        tail -n 20 "$work/vm-kmod.log" "$work/vm-kmod.out" 2>/dev/null | sed 's/^/  /'
        notok "kmod-daddr VM test (tests/packaging/vm-kmod-daddr.sh) passes"
    fi
fi

# --- DEB -----------------------------------------------------------------------------------------
debs=$(ls "$debdir"/*.deb 2>/dev/null)
for c in $components; do
    for pkg in $(make -s --no-print-directory -f Makefile -f - print-list <<<"print-list: ; @echo \$(${c}_DEB_PACKAGES)"); do
        check "DEB package $pkg (component $c) was built" grep -q "/${pkg}_$version-" <<<"$debs"
    done
done
changes=$(ls "$debdir"/*.changes 2>/dev/null | head -n 1)
if [ -n "$changes" ]; then
    if lintian --fail-on error --suppress-tags-from-file "$top/debian/lintian-suppressions" \
          "$changes" >"$work/lintian.out" 2>&1; then
        ok "lintian: no errors in $(basename "$changes")"
    else
        notok "lintian: errors in $(basename "$changes")"; grep '^E:' "$work/lintian.out" | sed 's/^/  /'
    fi
else
    notok "dpkg-buildpackage wrote a .changes file"
fi

if [ -n "$debs" ]; then
    # A minimal chroot of the build host's release, cached; each run installs into a fresh copy.
    # It holds the Debian packages ours depend on (iptables, dkms, procps), logrotate (which reads
    # the l2tpns snippet) and systemd (systemd-analyze verify of the units against this root), so
    # that dpkg -i resolves them and the maintainer scripts run for real.
    suite=$(. /etc/os-release; echo "${VERSION_CODENAME:-bookworm}")
    include=iptables,dkms,procps,logrotate,systemd
    cache=${NETEDGE_CACHE:-/var/cache/netedge}/debroot-$suite-$(echo "$include" | md5sum | cut -c1-8)
    if [ ! -x "$cache/usr/bin/dpkg" ]; then
        rm -rf "$cache.tmp"; mkdir -p "$(dirname "$cache")"
        debootstrap --variant=minbase --include="$include" "$suite" "$cache.tmp" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 \
            && mv "$cache.tmp" "$cache" || { tail -n 20 "$work/debootstrap.log"; notok "debootstrap $suite"; }
    fi
    droot=$work/debroot
    cp -a "$cache" "$droot"
    mkdir -p "$droot/tmp/debs"; cp $debs "$droot/tmp/debs/"
    mount -t proc proc "$droot/proc"
    check "dpkg -i installs every DEB in a clean $suite chroot (maintainer scripts run)" \
        sh -c "chroot '$droot' sh -c 'dpkg -i /tmp/debs/*.deb' >'$work/dpkg.log' 2>&1" || cat "$work/dpkg.log"
    check "dpkg --audit finds nothing half-installed" test -z "$(chroot "$droot" dpkg --audit)"
    for d in $debs; do
        p=$(dpkg-deb -f "$d" Package)
        chroot "$droot" dpkg -L "$p" | sort > "$work/deb-files-$p"
        check "DEB $p: files land in FHS places" fhs_ok "$work/deb-files-$p"
    done
    # Every installed program starts on a clean system (its libraries are declared and present).
    for f in $(cat "$work"/deb-files-* | grep -E '^/usr/s?bin/'); do
        check "$f --help runs in the clean chroot" sh -c "chroot '$droot' '$f' --help >/dev/null 2>&1"
    done
    if chroot "$droot" dpkg -s daddr-dkms >/dev/null 2>&1; then
        dkv=$(chroot "$droot" dpkg-query -W -f='${Version}' daddr-dkms); dkv=${dkv%-*}
        check "daddr-dkms: its postinst added daddr/$dkv to DKMS" sh -c \
            "chroot '$droot' dkms status daddr/$dkv | grep -q '^daddr/$dkv'"
        # A kernel without Rust: DKMS skips it (BUILD_EXCLUSIVE_CONFIG) instead of failing.
        mkdir -p "$droot/tmp/norust"
        printf 'CONFIG_MODULES=y\n# CONFIG_RUST is not set\n' > "$droot/tmp/norust/.config"
        chroot "$droot" dkms build -m daddr -v "$dkv" -k 6.1.0-norust --kernelsourcedir /tmp/norust \
            >"$work/dkms-norust.log" 2>&1; rc=$?
        check "daddr-dkms: dkms skips a kernel without CONFIG_RUST (exit 77, BUILD_EXCLUSIVE)" sh -c \
            "[ $rc = 77 ] && grep -q BUILD_EXCLUSIVE '$work/dkms-norust.log'" || cat "$work/dkms-norust.log"
        check "daddr-dkms: its build step names the missing Rust support" sh -c \
            "! chroot '$droot' sh -c 'cd /usr/src/daddr-$dkv && ./dkms-build.sh /tmp/norust' 2>'$work/dkms-build.err' && grep -q 'no Rust support' '$work/dkms-build.err'"
        # The shipped DKMS sources build xt_DADDR.ko against the Rust-enabled reference kernel, in
        # its toolchain root, the way dkms runs the build step.
        if vmenv=$("$top/tests/vm/vm.sh" env 2>"$work/vm-env.log"); then
            eval "$vmenv"
            rm -rf "$VM_ROOT/build/daddr-dkms-test"; mkdir -p "$VM_ROOT/build"
            cp -a "$droot/usr/src/daddr-$dkv" "$VM_ROOT/build/daddr-dkms-test"
            check "daddr-dkms: the shipped sources build xt_DADDR.ko for the reference kernel ($VM_KVER)" sh -c \
                "'$top/tests/vm/vm.sh' chroot sh -c 'cd /build/daddr-dkms-test && nice ./dkms-build.sh $VM_KOUT' >'$work/dkms-ref.log' 2>&1 \
                 && test -s '$VM_ROOT/build/daddr-dkms-test/xt_DADDR.ko'" || tail -n 20 "$work/dkms-ref.log"
            rm -rf "$VM_ROOT/build/daddr-dkms-test"
        else
            notok "tests/vm/vm.sh env (the reference kernel for the DKMS build)"; tail -n 5 "$work/vm-env.log"
        fi
    fi
    if chroot "$droot" dpkg -s l2tpns >/dev/null 2>&1; then
        check "l2tpns: the DEB's version sorts above Debian's own l2tpns (epoch)" sh -c \
            "dpkg --compare-versions \"\$(chroot '$droot' dpkg-query -W -f='\${Version}' l2tpns)\" gt 2.5.0-1"
        check "l2tpns: --check-config accepts the shipped /etc/l2tpns in the chroot" \
            chroot "$droot" /usr/sbin/l2tpns --check-config
        check "l2tpns: /etc/l2tpns/users is mode 0600 and a conffile" sh -c \
            "[ \"\$(stat -c %a '$droot/etc/l2tpns/users')\" = 600 ] && chroot '$droot' dpkg-query -W -f='\${Conffiles}' l2tpns | grep -q '/etc/l2tpns/users '"
        check "l2tpns: l2tpns-capture runs (--version) and has its man page" sh -c \
            "chroot '$droot' /usr/sbin/l2tpns-capture --version | grep -q '^l2tpns-capture ' && ls '$droot'/usr/share/man/man8/l2tpns-capture.8*"
        check "l2tpns: logrotate accepts /etc/logrotate.d/l2tpns" \
            chroot "$droot" logrotate -d /etc/logrotate.d/l2tpns
        check "l2tpns: systemd-analyze verify accepts l2tpns.service (no warning)" sh -c \
            "systemd-analyze verify --root='$droot' /lib/systemd/system/l2tpns.service >'$work/verify.log' 2>&1 && ! test -s '$work/verify.log'" \
            || sed 's/^/  /' "$work/verify.log"
    fi
    for p in $(for d in $debs; do dpkg-deb -f "$d" Package; done); do
        check "dpkg --purge $p leaves nothing behind" sh -c \
            "chroot '$droot' dpkg --purge '$p' >/dev/null && ! chroot '$droot' dpkg -s '$p' >/dev/null 2>&1"
    done
fi
# l2tpns replaces Debian's own l2tpns (same name, epoch 1): dpkg -i over Debian's C l2tpns in a
# fresh chroot is an ordinary upgrade; the C package's init script goes (maintscript), its
# plugins and nsctl with it, and the unmodified conffiles become ours.
l2deb=$(grep '/l2tpns_[0-9]' <<<"$debs" | head -n 1)
if [ -n "$l2deb" ] && [ -n "${cache:-}" ]; then
    cdeb=${NETEDGE_CACHE:-/var/cache/netedge}/debian-l2tpns-$suite
    if ! ls "$cdeb"/l2tpns_*.deb >/dev/null 2>&1; then
        mkdir -p "$cdeb.tmp" && (cd "$cdeb.tmp" && apt-get download -q l2tpns \
            && apt-get download -q "$(apt-cache depends l2tpns | sed -n 's/^ *Depends: \(libcli[^ ]*\).*/\1/p' | head -n 1)") \
            >"$work/apt-download.log" 2>&1 && rm -rf "$cdeb" && mv "$cdeb.tmp" "$cdeb"
    fi
    if ls "$cdeb"/l2tpns_*.deb >/dev/null 2>&1; then
        uroot=$work/upgroot
        cp -a "$cache" "$uroot"
        mkdir -p "$uroot/tmp/c" "$uroot/tmp/ours"; cp "$cdeb"/*.deb "$uroot/tmp/c/"; cp "$l2deb" "$uroot/tmp/ours/"
        # No daemon may start from a chroot (the C package's postinst starts its service).
        printf '#!/bin/sh\nexit 101\n' > "$uroot/usr/sbin/policy-rc.d"; chmod 0755 "$uroot/usr/sbin/policy-rc.d"
        mount -t proc proc "$uroot/proc"
        check "Debian's C l2tpns $(dpkg-deb -f "$cdeb"/l2tpns_*.deb Version) installs in a clean $suite chroot" \
            sh -c "chroot '$uroot' sh -c 'dpkg -i /tmp/c/*.deb' >'$work/dpkg-c.log' 2>&1" || tail -n 20 "$work/dpkg-c.log"
        check "our l2tpns upgrades Debian's l2tpns (dpkg -i, no conffile prompt)" \
            sh -c "chroot '$uroot' sh -c 'dpkg -i /tmp/ours/*.deb </dev/null' >'$work/dpkg-up.log' 2>&1" || tail -n 20 "$work/dpkg-up.log"
        check "after the upgrade: l2tpns is ours (epoch 1), so is nsctl (--version), the C init script is gone" sh -c \
            "chroot '$uroot' dpkg-query -W -f='\${Version}' l2tpns | grep -q '^1:' && chroot '$uroot' /usr/sbin/nsctl --version | grep -q '^nsctl ' && [ ! -e '$uroot/etc/init.d/l2tpns' ]"
        check "after the upgrade: --check-config accepts /etc/l2tpns" chroot "$uroot" /usr/sbin/l2tpns --check-config
        umount "$uroot/proc"
        rm -rf "$uroot"
    else
        notok "apt-get download of Debian's l2tpns (upgrade test)"; sed 's/^/  /' "$work/apt-download.log"
    fi
fi
exit $failed
