#!/bin/bash
# The README's set-up on a bare machine (issue 16): a clean Debian bookworm root (debootstrap
# minbase, plus make, which the first command needs), no Rust toolchain and no rustup in it; a
# `git archive` of the commit copied in; `make` run there as root with a plain environment.
# deps.sh must install everything, the distribution's toolchain included (bookworm: cargo-web and
# rustc-web, 1.85), and the packages must appear. Prints "ok - ..." / "not ok - ...".
#   tests/packaging/bare-bookworm.sh [COMMIT]   (default HEAD)
#   BARE_COMPONENTS="iptoip l2tpns" (the default): the components built. daddr's kmod-daddr RPM
#   is built against the tests/vm reference kernel, a pipeline of its own that is not run in here:
#   BARE_COMPONENTS="iptoip daddr l2tpns" BARE_MAKE_ARGS=daddr_RPM_SPECS=iptables-daddr builds
#   the rest of daddr (libxt_DADDR.so's RPM and DEB, the daddr-dkms DEB, the DKMS tarball).
# Run by `make check-bare` (part of `make bench`: it installs the build dependencies from the
# archive and builds every crate from scratch, too long for make check).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
commit=$(git -C "$top" rev-parse "${1:-HEAD}")
components=${BARE_COMPONENTS:-iptoip l2tpns}
make_args=${BARE_MAKE_ARGS:-}
suite=bookworm mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
failed=0
ok()    { echo "ok - $*"; }
notok() { echo "not ok - $*"; failed=1; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else notok "$what"; return 1; fi; }

work=$(mktemp -d /var/tmp/netedge-bare.XXXXXX)
root=$work/root
log=${BARE_LOG_DIR:-$top/build-check}/bare-$suite
rm -rf "$log"; mkdir -p "$log"
cleanup() {
    for m in var/cache/apt/archives proc sys dev/pts dev; do mountpoint -q "$root/$m" 2>/dev/null && umount -l "$root/$m"; done
    rm -rf "$work"
}
trap cleanup EXIT

# A bare root, cached (debootstrap takes minutes); each run works in a fresh copy of it.
cache=${NETEDGE_CACHE:-/var/cache/netedge}/bareroot-$suite
if [ ! -x "$cache/usr/bin/make" ]; then
    rm -rf "$cache.tmp"; mkdir -p "$(dirname "$cache")"
    if debootstrap --variant=minbase --include=make "$suite" "$cache.tmp" "$mirror" >"$log/debootstrap.log" 2>&1; then
        mv "$cache.tmp" "$cache"
    else
        tail -n 20 "$log/debootstrap.log"; notok "debootstrap --variant=minbase $suite"; exit 1
    fi
fi
cp -a "$cache" "$root"
check "the bare $suite root has no cargo, rustc or rustup" \
    chroot "$root" sh -c '! command -v cargo && ! command -v rustc && ! command -v rustup && [ ! -e /root/.cargo ]'

mkdir -p "$root/build"
git -C "$top" archive --format=tar --prefix=netedge/ "$commit" | tar -C "$root/build" -xf -
cp /etc/resolv.conf "$root/etc/resolv.conf"
# The site's own certificate authorities (a TLS-inspecting proxy's, say), as the admin of a real
# machine there would have added them: cargo fetches crates.io over https, and the
# ca-certificates package deps.sh installs takes them in (update-ca-certificates).
if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
    mkdir -p "$root/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
fi
# Downloaded .debs are kept between runs (the build dependencies are some 300 MB).
mkdir -p "$cache-apt-archives/partial"
mount --bind "$cache-apt-archives" "$root/var/cache/apt/archives"
mount -t proc proc "$root/proc"
mount -t sysfs sys "$root/sys"
mount --bind /dev "$root/dev"; mount --bind /dev/pts "$root/dev/pts"

# The README's first command, with the environment of a fresh root login (no ~/.cargo/bin).
start=$(date +%s)
if chroot "$root" env -i HOME=/root TERM=dumb LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      sh -c "cd /build/netedge && nice -n 19 make COMPONENTS='$components' $make_args" >"$log/make.log" 2>&1; then
    ok "make in a git archive of $commit in the bare $suite root succeeds ($(( $(date +%s) - start )) s)"
else
    notok "make in a git archive of $commit in the bare $suite root succeeds ($(( $(date +%s) - start )) s)"
    tail -n 40 "$log/make.log" | sed 's/^/  /'
fi
check "deps.sh installed the distribution's toolchain (cargo-web, rustc-web)" sh -c \
    "chroot '$root' dpkg-query -W cargo-web rustc-web >/dev/null 2>&1"
echo "# toolchain in the root: $(chroot "$root" cargo --version 2>&1), $(chroot "$root" rustc --version 2>&1)"
check "the cargo on PATH is the distribution's /usr/bin/cargo, new enough (packaging/cargo-path.sh)" \
    chroot "$root" sh -c 'cd /build/netedge && [ "$(command -v cargo)" = /usr/bin/cargo ] && [ "$(packaging/cargo-path.sh)" = cargo ]' 

out=$root/build/netedge
rpms=$(ls "$out"/build-*-*/RPMS/*/*.rpm 2>/dev/null) srpms=$(ls "$out"/build-src/*.src.rpm 2>/dev/null)
debs=$(ls "$out"/build-deb/*.deb 2>/dev/null)
for c in $components; do
    # (the list as the make above had it: BARE_MAKE_ARGS may have set it)
    specs=$(make -C "$top" -s --no-print-directory NO_DEPS=1 COMPONENTS="$components" $make_args \
        --eval "print-specs-$c: ; @echo \$(${c}_RPM_SPECS)" "print-specs-$c")
    pkgs=$(sed -n "s/^${c}_DEB_PACKAGES := //p" "$top/packaging/$c/component.mk")
    for s in $specs; do
        check "RPM $s was built" grep -q "/$s-[0-9]" <<<"$rpms"
        check "SRPM $s was built" grep -q "/$s-[0-9].*\.src\.rpm" <<<"$srpms"
    done
    for p in $pkgs; do check "DEB $p was built" grep -q "/${p}_[0-9]" <<<"$debs"; done
done
case " $components " in *" daddr "*)
    check "the DKMS source tarball was built" sh -c "ls '$out'/build-src/daddr-dkms-*-source-only.tar.gz >/dev/null 2>&1" ;;
esac
# The packages' programs run (here, in the root they were built in).
for d in $debs; do
    name=$(basename "$d")
    mkdir -p "$work/x/$name"; dpkg-deb -x "$d" "$work/x/$name"
    for f in "$work/x/$name"/usr/sbin/* "$work/x/$name"/usr/bin/*; do
        [ -x "$f" ] || continue
        cp "$f" "$root/tmp/"
        check "$(basename "$f") from $name runs (--help)" sh -c "chroot '$root' '/tmp/$(basename "$f")' --help >/dev/null 2>&1"
    done
done
ls "$out"/build-*-*/RPMS/*/*.rpm "$out"/build-src/*.src.rpm "$out"/build-deb/*.deb 2>/dev/null | sed "s|^$out/|# built: |"
exit $failed
