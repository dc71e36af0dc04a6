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
check() { local what=$1; shift; if "$@"; then ok "$what"; else notok "$what"; fi; }

cfg() { make -s --no-print-directory print-config | awk -v k="$1" '$1 == k { print $3 }'; }
components=$(make -s --no-print-directory print-config | sed -n 's/^COMPONENTS *= \(.*\) #.*/\1/p')
rpmdir=$(cfg RPMDIR) srpmdir=$(cfg SRPMDIR) debdir=$(cfg DEBDIR) version=$(cfg VERSION)
if [ -z "${components// /}" ]; then
    notok "COMPONENTS in package.mk names at least one component"; exit 1
fi

work=$(mktemp -d /var/tmp/netedge-pkgtest.XXXXXX)
cleanup() {
    for m in proc dev; do mountpoint -q "$work/debroot/$m" && umount "$work/debroot/$m"; done
    rm -rf "$work"
}
trap cleanup EXIT

# --- build ---------------------------------------------------------------------------------------
if make --no-print-directory rpm srpm deb >"$work/build.log" 2>&1; then
    ok "make rpm srpm deb builds the packages"
else
    tail -n 30 "$work/build.log"; notok "make rpm srpm deb builds the packages"; exit 1
fi

# Files that may appear in a package: the FHS places for a distro package (no /usr/local, /opt,
# /home, /tmp, nothing at the top level).
fhs_ok() {
    # (dpkg -L lists the directories too, down to "/.")
    grep -vE '^/(\.|usr|etc|var|lib|lib64|lib/systemd|lib/modules)$|^/(usr/(bin|sbin|lib|lib64|libexec|share|include)(/|$)|etc/|var/(lib|log|cache|spool)/|lib/(modules|systemd)/)' "$1" > "$1.bad"
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
    suite=$(. /etc/os-release; echo "${VERSION_CODENAME:-bookworm}")
    cache=${NETEDGE_CACHE:-/var/cache/netedge}/debroot-$suite
    if [ ! -x "$cache/usr/bin/dpkg" ]; then
        rm -rf "$cache.tmp"; mkdir -p "$(dirname "$cache")"
        debootstrap --variant=minbase "$suite" "$cache.tmp" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 \
            && mv "$cache.tmp" "$cache" || { tail -n 20 "$work/debootstrap.log"; notok "debootstrap $suite"; }
    fi
    droot=$work/debroot
    cp -a "$cache" "$droot"
    mkdir -p "$droot/tmp/debs"; cp $debs "$droot/tmp/debs/"
    mount -t proc proc "$droot/proc"
    check "dpkg -i installs every DEB in a clean $suite chroot (maintainer scripts run)" \
        chroot "$droot" sh -c 'dpkg -i /tmp/debs/*.deb' >"$work/dpkg.log" 2>&1 || cat "$work/dpkg.log"
    check "dpkg --audit finds nothing half-installed" test -z "$(chroot "$droot" dpkg --audit)"
    for d in $debs; do
        p=$(dpkg-deb -f "$d" Package)
        chroot "$droot" dpkg -L "$p" | sort > "$work/deb-files-$p"
        check "DEB $p: files land in FHS places" fhs_ok "$work/deb-files-$p"
    done
    # Every installed program starts on a clean system (its libraries are declared and present).
    for f in $(cat "$work"/deb-files-* | grep -E '^/usr/s?bin/'); do
        check "$f --help runs in the clean chroot" chroot "$droot" "$f" --help >/dev/null 2>&1
    done
    for p in $(for d in $debs; do dpkg-deb -f "$d" Package; done); do
        check "dpkg --purge $p leaves nothing behind" sh -c \
            "chroot '$droot' dpkg --purge '$p' >/dev/null && ! chroot '$droot' dpkg -s '$p' >/dev/null 2>&1"
    done
fi
exit $failed
