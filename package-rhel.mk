# Overrides for RHEL 9/10 and their clones (Rocky, Alma, CentOS Stream) and Fedora.
# Included by the Makefile like every package-<name>.mk (unless NATIVE=1); it applies only when the
# target OS family is rhel: on such a host by detection, elsewhere with `make OS_FAMILY=rhel ...`
# (e.g. `make print-config OS_FAMILY=rhel` to see what a RHEL build would use).
ifeq ($(OS_FAMILY),rhel)

# %dist as the build host's rpm defines it (.el9, .el10, .fc41); derived from the version otherwise.
DIST := $(or $(shell rpm --eval '%{?dist}' 2>/dev/null | grep '^\.'),.el$(OS_VERSION_MAJOR))
RPM_OS := el$(OS_VERSION_MAJOR)

# Red Hat's multilib layout: xtables extensions and libraries in lib64.
LIBDIR := /usr/lib64
XTLIBDIR := /usr/lib64/xtables
UNITDIR := /usr/lib/systemd/system
TMPFILESDIR := /usr/lib/tmpfiles.d

# Kernel modules are built against the installed kernel-devel tree (newest one unless KVERREL is
# given), the way kmod packages for RHEL are built.
KVERREL := $(or $(shell rpm -q --qf '%{VERSION}-%{RELEASE}.%{ARCH}\n' kernel-devel 2>/dev/null \
                      | grep -v 'not installed' | sort -V | tail -n 1),$(shell uname -r))
KERNEL_DIR := /usr/src/kernels/$(KVERREL)

# `make` builds RPMs and SRPMs: no dpkg-buildpackage or debhelper here (deps.sh installs none).
PACKAGE_FORMATS := rpm

endif
