# Top-level build: packages (RPM, SRPM, DEB), install, tests, benchmarks.
#
#   make                 everything: RPMs in build-<os>-<arch>/RPMS/, SRPMs in build-src/, DEBs in build-deb/
#   make check           every test layer, stops at the first failure, ends with "N passed, N failed"
#   make rpm | srpm | deb | bench | install DESTDIR=... | print-config | clean
#   make check-bare | check-reproducible   (packaging checks run by make bench)
#
# Values come from package.mk, then native defaults derived from the build host, then every
# package-<name>.mk that applies (skipped with NATIVE=1), then the command line. Each component
# adds its own packaging/<component>/component.mk, rpm/<package>.spec and debian/ stanza; the
# COMPONENTS list in package.mk says which ones are built.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
TOP := $(CURDIR)

# ------------------------------------------------------------------------------------------------
# Configuration, with the origin of every value recorded for print-config
# ------------------------------------------------------------------------------------------------
CONFIG_VARS := NAME VERSION RELEASE PACKAGER COMPONENTS \
  OS_ID OS_VERSION_MAJOR OS_FAMILY ARCH RPM_OS DIST \
  PREFIX BINDIR SBINDIR LIBDIR XTLIBDIR MANDIR SYSCONFDIR LOCALSTATEDIR UNITDIR TMPFILESDIR \
  KERNEL_DIR KVERREL CARGO CARGO_TARGET_DIR RPM_DEBUGINFO RPM_NODEPS PACKAGE_FORMATS \
  RPMDIR SRPMDIR DEBDIR

# $(call config_snapshot) remembers the current values; $(call config_mark,LABEL) labels the
# values that changed since then with LABEL.
config_eq = $(and $(findstring x$(1),x$(2)),$(findstring x$(2),x$(1)))
config_snapshot = $(foreach v,$(CONFIG_VARS),$(eval __was_$(v) := $$(value $(v))))
config_mark = $(foreach v,$(CONFIG_VARS),$(if $(call config_eq,$(value __was_$(v)),$(value $(v))),,$(eval __from_$(v) := $(1))))

$(call config_snapshot)
include $(TOP)/package.mk
COMPONENTS ?=
$(call config_mark,package.mk)

# On a bare machine the native defaults below need tools that deps.sh installs (dpkg-architecture,
# pkg-config and the .pc files, find-debuginfo): it runs first, while this file is read, in the
# top-level make of every goal but print-config and clean (NO_DEPS=1: never). Otherwise the first
# `make` there would build packages for /usr/lib/xtables and the second for the multiarch dir.
# (Not under make -n.)
ifeq ($(MAKELEVEL)-$(NO_DEPS)-$(findstring n,$(firstword -$(MAKEFLAGS))),0--)
ifneq ($(filter-out print-config clean distclean,$(or $(MAKECMDGOALS),all)),)
$(if $(shell $(TOP)/packaging/deps.sh build >&2 || echo failed),$(error packaging/deps.sh build failed))
endif
endif

# Native defaults, derived from the build host.
$(call config_snapshot)
os_release = $(shell . /etc/os-release 2>/dev/null && echo "$${$(1):-}")
OS_ID := $(or $(call os_release,ID),unknown)
OS_VERSION_MAJOR := $(firstword $(subst ., ,$(call os_release,VERSION_ID)))
OS_FAMILY := $(strip $(if $(filter debian ubuntu,$(OS_ID) $(call os_release,ID_LIKE)),debian,\
               $(if $(filter rhel fedora centos,$(OS_ID) $(call os_release,ID_LIKE)),rhel,$(OS_ID))))
ARCH := $(shell uname -m)
RPM_OS := $(OS_ID)$(OS_VERSION_MAJOR)
DIST := .$(RPM_OS)
PREFIX := /usr
BINDIR := $(PREFIX)/bin
SBINDIR := $(PREFIX)/sbin
LIBDIR := $(or $(shell dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null | sed 's|^|/usr/lib/|'),/usr/lib)
XTLIBDIR := $(or $(shell pkg-config --variable=xtlibdir xtables 2>/dev/null),$(LIBDIR)/xtables)
MANDIR := $(PREFIX)/share/man
SYSCONFDIR := /etc
LOCALSTATEDIR := /var
UNITDIR := $(or $(shell pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null),/usr/lib/systemd/system)
TMPFILESDIR := /usr/lib/tmpfiles.d
# The reference guest kernel of tests/vm (built on demand), unless a package-<name>.mk names a tree.
KERNEL_DIR := reference
KVERREL := reference
# The first cargo >= the workspace's rust-version: PATH's, else the distribution's in /usr/bin,
# which deps.sh installs when there is none (packaging/cargo-path.sh). Looked up when first used,
# so after `deps` has run, and once.
CARGO = $(eval CARGO := $(or $(shell $(TOP)/packaging/cargo-path.sh 2>/dev/null),cargo))$(CARGO)
# The environment may name another (.ci/run keeps it under /var/cache/netedge).
CARGO_TARGET_DIR ?= $(TOP)/target
# -debuginfo packages need find-debuginfo (debugedit), which Debian's rpm lacks.
RPM_DEBUGINFO := $(if $(wildcard /usr/bin/find-debuginfo /usr/lib/rpm/find-debuginfo.sh),1,0)
# BuildRequires can only be checked where the rpm database holds the system's packages.
RPM_NODEPS := $(if $(shell rpm -q rpm 2>/dev/null | grep -v 'not installed'),0,1)
# What `make` builds: RPMs and SRPMs everywhere (Debian's rpm builds them too), DEBs where
# dpkg-buildpackage is at home (package-rhel.mk: RPMs only, RHEL has no debhelper).
PACKAGE_FORMATS := rpm deb
$(call config_mark,native (build host))

# Per-OS overrides. OS_FAMILY may be set on the command line to see another OS's values.
ifneq ($(NATIVE),1)
OVERRIDE_FILES := $(filter-out package.mk,$(sort $(wildcard $(TOP)/package-*.mk)))
$(foreach f,$(OVERRIDE_FILES),$(call config_snapshot)$(eval include $(f))$(call config_mark,$(notdir $(f))))
endif

# Output directories follow the OS the packages are for.
$(call config_snapshot)
RPMDIR := $(TOP)/build-$(RPM_OS)-$(ARCH)/RPMS
SRPMDIR := $(TOP)/build-src
DEBDIR := $(TOP)/build-deb
$(call config_mark,derived)

$(foreach v,$(CONFIG_VARS),$(if $(filter command line,$(origin $(v))),$(eval __from_$(v) := command line)))
$(foreach v,$(CONFIG_VARS),$(if $(filter environment%,$(origin $(v))),$(eval __from_$(v) := environment)))
export CARGO_TARGET_DIR
# Binaries the host and VM tests run (the VM sees this directory at /vm/bin).
export VM_BIN_DIR ?= $(CARGO_TARGET_DIR)/release

.PHONY: print-config
print-config:
	@$(foreach v,$(CONFIG_VARS),printf '%-18s = %-45s # %s\n' '$(v)' '$($(v))' '$(or $(__from_$(v)),unset)';)
	@$(if $(filter reference,$(KERNEL_DIR) $(KVERREL)),echo '# KERNEL_DIR/KVERREL "reference": the tests/vm guest kernel (make vm-kernel; its release is resolved when kmod-daddr is built)')

# ------------------------------------------------------------------------------------------------
# Dependencies (installed only when missing; NO_DEPS=1 inside package builds)
# ------------------------------------------------------------------------------------------------
.PHONY: deps deps-check
deps:
	@$(if $(filter 1,$(NO_DEPS)),true,$(TOP)/packaging/deps.sh build)
deps-check:
	@$(if $(filter 1,$(NO_DEPS)),true,$(TOP)/packaging/deps.sh build check)

# ------------------------------------------------------------------------------------------------
# Build and install, per component (packaging/<component>/component.mk defines the details:
# <c>_CRATES, <c>_RPM_SPECS, <c>_DEB_PACKAGES and an install-<c> rule)
# ------------------------------------------------------------------------------------------------
RELEASE_BIN = $(CARGO_TARGET_DIR)/release
# Reproducible binaries (issue 16): no build path in them (panic locations, debug info), so that
# two builds of one commit in different directories are bit for bit the same. The tree, the cargo
# home (registry sources, for builds that are not vendored) and the target dir (build scripts'
# generated code in OUT_DIR) get fixed names; the last matching prefix wins, so the target dir,
# often inside the tree, comes last. C code that build scripts compile (cc) gets the same maps.
CARGO_HOME_DIR := $(or $(CARGO_HOME),$(HOME)/.cargo)
REPRO_PATH_MAPS = $(TOP)=/usr/src/$(NAME)-$(VERSION) $(CARGO_HOME_DIR)=/usr/src/cargo-home \
  $(abspath $(CARGO_TARGET_DIR))=/usr/src/$(NAME)-$(VERSION)/target
REPRO_RUSTFLAGS = $(addprefix --remap-path-prefix=,$(REPRO_PATH_MAPS))
REPRO_CFLAGS = $(addprefix -ffile-prefix-map=,$(REPRO_PATH_MAPS))
CARGO_FLAGS ?= $(if $(filter 1,$(CARGO_OFFLINE)),--offline --frozen,--locked)
INSTALL ?= install

include $(foreach c,$(COMPONENTS),$(TOP)/packaging/$(c)/component.mk)

.PHONY: build install $(addprefix build-,$(COMPONENTS)) $(addprefix install-,$(COMPONENTS))
build: $(addprefix build-,$(COMPONENTS))
$(addprefix build-,$(COMPONENTS)): build-%: deps
	RUSTFLAGS="$(strip $(RUSTFLAGS) $(REPRO_RUSTFLAGS))" CFLAGS="$(strip $(CFLAGS) $(REPRO_CFLAGS))" \
	  $(CARGO) build $(CARGO_FLAGS) --release $(addprefix -p ,$($*_CRATES))

install: $(addprefix install-,$(COMPONENTS))

# ------------------------------------------------------------------------------------------------
# Source tarballs: the tree (tracked and new files, not ignored ones) and the vendored crates, so
# that rpmbuild and dpkg-buildpackage build offline from them.
# ------------------------------------------------------------------------------------------------
SRC_TARBALL := $(SRPMDIR)/$(NAME)-$(VERSION).tar.gz
VENDOR_TARBALL := $(SRPMDIR)/$(NAME)-$(VERSION)-vendor.tar.gz
# .cargo/ (the developers' resolver policy) stays out: the package builds write their own
# .cargo/config.toml pointing at the vendored crates, and Cargo.lock already holds the versions.
# Reproducible archives: files dated by the last commit, so an unchanged tree keeps its tarball.
# The name prefix is added to member names only (transform flag S): symlinks in the tree, such as
# kmod-daddr/daddr_core, keep their relative targets.
SOURCE_DATE_EPOCH ?= $(or $(shell git -C $(TOP) log -1 --format=%ct 2>/dev/null),1700000000)
export SOURCE_DATE_EPOCH
# Modes too: a checkout's follow its umask (0664 or 0644); the archive keeps only the exec bits.
TAR_REPRO := --sort=name --mtime=@$(SOURCE_DATE_EPOCH) --owner=0 --group=0 --numeric-owner --format=gnu \
  --mode=u=rwX,go=rX

.PHONY: tarball FORCE
tarball: $(SRC_TARBALL) $(VENDOR_TARBALL)
$(SRC_TARBALL): FORCE
	@mkdir -p $(@D)
	@if git -C $(TOP) rev-parse --git-dir >/dev/null 2>&1; then \
	  git -C $(TOP) ls-files -co --exclude-standard -z \
	    | while IFS= read -r -d '' f; do case $$f in .cargo/*) continue;; esac; \
	        if [ -e "$(TOP)/$$f" ]; then printf '%s\0' "$$f"; fi; done; \
	else find . -path ./target -prune -o -path './build-*' -prune -o \( -type f -o -type l \) -print0; fi \
	  | tar -C $(TOP) $(TAR_REPRO) --null -T - --transform 's|^\(\./\)\?|$(NAME)-$(VERSION)/|S' -cf - \
	  | gzip -n > $@.tmp
	@if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; echo "wrote $@"; fi
$(VENDOR_TARBALL): $(TOP)/Cargo.lock
	@mkdir -p $(@D); rm -rf $(SRPMDIR)/vendor.tmp
	$(CARGO) vendor --locked --versioned-dirs -q $(SRPMDIR)/vendor.tmp/vendor >/dev/null
	$(TOP)/packaging/prune-vendor.sh $(SRPMDIR)/vendor.tmp/vendor
	tar -C $(SRPMDIR)/vendor.tmp $(TAR_REPRO) -cf - vendor | gzip -n > $@
	rm -rf $(SRPMDIR)/vendor.tmp

# ------------------------------------------------------------------------------------------------
# RPM: one spec per package family under rpm/; SRPM first, then rpmbuild --rebuild of that SRPM,
# which proves the SRPM builds on its own.
# ------------------------------------------------------------------------------------------------
RPM_SPECS := $(foreach c,$(COMPONENTS),$($(c)_RPM_SPECS))
RPMBUILD_TOP := $(TOP)/build-rpmbuild
# rpmbuild --rebuild removes the sources it unpacked (--rmsource): it gets a _sourcedir of its own,
# so that the tarballs in build-src/ stay for the DEB build.
RPMBUILD_DEFINES = --define '_topdir $(RPMBUILD_TOP)' $(RPMBUILD_COMMON_DEFINES) \
  --define 'cargo_target_dir $(CARGO_TARGET_DIR)'
# The SRPM stores its spec as parsed, with %setup's and %install's paths expanded: it is made with
# the build tree and sources named relative to the top (rpmbuild runs there) and no target dir,
# so that it does not depend on where the tree is. (rpmbuild --rebuild parses the spec again.)
top_rel = $(patsubst $(TOP)/%,%,$(1))
SRPMBUILD_DEFINES = --define '_topdir $(call top_rel,$(RPMBUILD_TOP))' $(RPMBUILD_COMMON_DEFINES)
RPMBUILD_COMMON_DEFINES = --define '_srcrpmdir $(SRPMDIR)' --define '_rpmdir $(RPMDIR)' --define 'dist $(DIST)' \
  --define '_unitdir $(UNITDIR)' --define '_tmpfilesdir $(TMPFILESDIR)' \
  --define 'xtlibdir $(XTLIBDIR)' --define 'kernel_dir $(KERNEL_DIR)' \
  $(if $(filter kmod-%,$*),--define "kverrel $(KVERREL_RESOLVED)") \
  $(if $(filter 1,$(RPM_DEBUGINFO)),,--define 'debug_package %{nil}') \
  --define 'packager $(PACKAGER)' \
  $(RPM_REPRO_DEFINES) \
  $(if $(filter 1,$(RPM_NODEPS)),--nodeps $(RPM_FOREIGN_HOST_DEFINES))
# Reproducible RPMs and SRPMs (issue 16): the build time is SOURCE_DATE_EPOCH (the last commit's,
# exported above), file times are clamped to it and the build host is a fixed name.
RPM_REPRO_DEFINES := --define '_buildhost reproducible' --define 'use_source_date_epoch_as_buildtime 1' \
  --define 'clamp_mtime_to_source_date_epoch 1' --define '_source_date_epoch_from_changelog 0'
# Kernel module packages name their kernel release: KVERREL, or for the reference kernel the
# release of the tests/vm guest kernel (built on demand, cached), resolved when the recipe runs.
KVERREL_RESOLVED = $(if $(filter reference,$(KVERREL)),$$($(TOP)/tests/vm/vm.sh env | sed -n 's/^VM_KVER=//p' | grep . || echo vm-kernel-failed),$(KVERREL))
# On a non-RPM host (Debian's rpm): its brp-compress needs bash but says #!/bin/sh (dash there).
RPM_FOREIGN_HOST_DEFINES = --define '__brp_compress bash %{_rpmconfigdir}/brp-compress %{?_prefix}'
SRPM_FILES := $(foreach s,$(RPM_SPECS),$(SRPMDIR)/$(s)-$(VERSION)-$(RELEASE)$(DIST).src.rpm)

.PHONY: srpm rpm
srpm: deps $(SRPM_FILES)
$(SRPMDIR)/%-$(VERSION)-$(RELEASE)$(DIST).src.rpm: $(TOP)/rpm/%.spec $(SRC_TARBALL) $(VENDOR_TARBALL)
	@mkdir -p $(RPMBUILD_TOP)/SPECS
	sed -e 's/@VERSION@/$(VERSION)/g' -e 's/@RELEASE@/$(RELEASE)/g' -e 's/@NAME@/$(NAME)/g' \
	  $(if $(filter kmod-%,$*),-e "s|@KERNEL_DIR@|$(KERNEL_DIR)|g" -e "s|@KVERREL@|$(KVERREL_RESOLVED)|g") \
	  $< > $(RPMBUILD_TOP)/SPECS/$*.spec
	@# Sources and spec as 0644 whatever the umask: the SRPM records their modes.
	chmod 0644 $(RPMBUILD_TOP)/SPECS/$*.spec $(SRC_TARBALL) $(VENDOR_TARBALL)
	cd $(TOP) && rpmbuild -bs --quiet $(SRPMBUILD_DEFINES) --define '_sourcedir $(call top_rel,$(SRPMDIR))' $(RPMBUILD_TOP)/SPECS/$*.spec

# A stamp per SRPM: the binary RPM names depend on the spec's subpackages.
rpm: deps $(SRPM_FILES:.src.rpm=.rpm-stamp)
$(SRPMDIR)/%.rpm-stamp: $(SRPMDIR)/%.src.rpm
	rpmbuild --rebuild --quiet $(RPMBUILD_DEFINES) --define '_sourcedir $(RPMBUILD_TOP)/SOURCES' $< > $(RPMBUILD_TOP)/$*.log 2>&1 \
	  || { tail -n 40 $(RPMBUILD_TOP)/$*.log; echo "rpmbuild failed: $(RPMBUILD_TOP)/$*.log"; exit 1; }
	@grep '^Wrote: ' $(RPMBUILD_TOP)/$*.log || true
	@touch $@

# ------------------------------------------------------------------------------------------------
# DEB: the debian/ source package, built from the same tarballs (orig + vendor component).
# Packages of components not in COMPONENTS are left out with build profiles (pkg.netedge.no<c>).
# ------------------------------------------------------------------------------------------------
ALL_COMPONENTS := $(patsubst $(TOP)/packaging/%/component.mk,%,$(wildcard $(TOP)/packaging/*/component.mk))
empty :=
space := $(empty) $(empty)
comma := ,
DEB_PROFILES := $(subst $(space),$(comma),$(strip $(foreach c,$(filter-out $(COMPONENTS),$(ALL_COMPONENTS)),pkg.$(NAME).no$(c))))
DEB_VERSION := $(VERSION)-$(RELEASE)
DEB_SRCDIR := $(DEBDIR)/$(NAME)-$(VERSION)
DEB_STAMP := $(DEBDIR)/$(NAME)_$(DEB_VERSION).stamp

.PHONY: deb
deb: deps $(DEB_STAMP)
$(DEB_STAMP): $(SRC_TARBALL) $(VENDOR_TARBALL)
	@mkdir -p $(DEBDIR); rm -rf $(DEB_SRCDIR) $(DEBDIR)/*.deb $(DEBDIR)/$(NAME)_*
	cp $(SRC_TARBALL) $(DEBDIR)/$(NAME)_$(VERSION).orig.tar.gz
	cp $(VENDOR_TARBALL) $(DEBDIR)/$(NAME)_$(VERSION).orig-vendor.tar.gz
	tar -C $(DEBDIR) -xzf $(SRC_TARBALL)
	mkdir -p $(DEB_SRCDIR)/vendor && tar -C $(DEB_SRCDIR) -xzf $(VENDOR_TARBALL)
	$(TOP)/packaging/debian-changelog.sh $(NAME) $(DEB_VERSION) > $(DEB_SRCDIR)/debian/changelog
	@# The debian.tar records modes: those of the tarball's files, not the umask's (directories
	@# and the changelog are made here).
	chmod -R u+rwX,go=rX $(DEB_SRCDIR)/debian
	cd $(DEB_SRCDIR) && CARGO_TARGET_DIR=$(CARGO_TARGET_DIR) \
	  dpkg-buildpackage -us -uc -d $(if $(DEB_PROFILES),-P$(DEB_PROFILES)) > $(DEBDIR)/build.log 2>&1 \
	  || { tail -n 40 $(DEBDIR)/build.log; echo "dpkg-buildpackage failed: $(DEBDIR)/build.log"; exit 1; }
	@ls $(DEBDIR)/*.deb
	@touch $@

# ------------------------------------------------------------------------------------------------
# Everything
# ------------------------------------------------------------------------------------------------
.PHONY: all
all: $(PACKAGE_FORMATS)

# ------------------------------------------------------------------------------------------------
# Tests: each layer runs through tests/run-layer.sh, which logs to build-check/<layer>.log and
# counts results; the first failing layer stops make check.
# ------------------------------------------------------------------------------------------------
CHECK_DIR := $(TOP)/build-check
LAYER = $(TOP)/tests/run-layer.sh $(CHECK_DIR)

.PHONY: check check-start check-fmt check-clippy check-unit check-integration check-packaging check-vm-harness check-vm
check: check-start
	$(MAKE) --no-print-directory check-fmt
	$(MAKE) --no-print-directory check-clippy
	$(MAKE) --no-print-directory check-unit
	$(MAKE) --no-print-directory check-integration
	$(MAKE) --no-print-directory check-packaging
	$(MAKE) --no-print-directory check-vm-harness
	$(MAKE) --no-print-directory check-vm
	@$(TOP)/tests/summary.sh $(CHECK_DIR)

check-start: deps-check
	@rm -rf $(CHECK_DIR); mkdir -p $(CHECK_DIR)

check-fmt:
	@$(LAYER) fmt single -- $(CARGO) fmt --all --check
check-clippy:
	@$(LAYER) clippy single -- $(CARGO) clippy --locked --workspace --all-targets -- -D warnings
# xt-daddr's tests load the libxt_DADDR.so cdylib into the real iptables; cargo test does not
# build a cdylib-only library, so build it first.
check-unit:
	@$(CARGO) build --locked -p xt-daddr
	@$(LAYER) unit cargo -- $(CARGO) test --locked --workspace
check-integration:
	@$(LAYER) integration tap -- $(TOP)/tests/run-host-tests.sh
check-packaging:
	@$(LAYER) packaging tap -- $(TOP)/tests/packaging/check-packages.sh
check-vm-harness:
	@$(LAYER) vm-harness tap -- $(TOP)/tests/vm/selftest.sh
check-vm:
	@$(CARGO) build --locked --release --workspace --bins
	@$(CARGO) build --locked --release -p xt-daddr
	@$(TOP)/kmod-daddr/build-vm.sh >/dev/null
	@$(TOP)/tests/vm/stage-l3dsr.sh >/dev/null
	@$(LAYER) vm tap -- $(TOP)/tests/vm/vm.sh cases

# The reference kernel pipeline (tests/vm/README.md): a Debian trixie toolchain root and a
# Rust-enabled 6.12 guest kernel, cached under /var/cache/netedge/vm by content hash.
VM := $(TOP)/tests/vm/vm.sh
.PHONY: vm-hostdeps vm-root vm-kernel
vm-hostdeps: ; $(VM) hostdeps
vm-root: ; $(VM) root
vm-kernel: ; $(VM) kernel

# ------------------------------------------------------------------------------------------------
# Benchmarks (side by side with the reference implementations; see docs/BENCHMARKS.md)
# ------------------------------------------------------------------------------------------------
.PHONY: bench
# Each tests/bench/*-bench.sh runs in the reference VM (IPVS, PPP need the guest kernel), each
# tests/bench/host/*.sh on the host in its own network namespaces (TUN and UDP are enough); all
# print "# bench: ..." lines with both implementations' figures and their ratio.
BENCH_VM_TIMEOUT ?= 3600
bench: deps
	$(CARGO) build --locked --release --workspace --bins
	$(CARGO) build --locked --release -p xt-daddr
	$(TOP)/kmod-daddr/build-vm.sh >/dev/null
	$(TOP)/tests/bench/stage-perf.sh >/dev/null
	@for b in $(sort $(wildcard $(TOP)/tests/bench/*-bench.sh)); do \
	  echo "== $$b"; $(VM) run --timeout $(BENCH_VM_TIMEOUT) $$b || exit 1; done
	@for b in $(sort $(wildcard $(TOP)/tests/bench/host/*.sh)); do \
	  echo "== $$b"; NETEDGE_BIN_DIR=$(RELEASE_BIN) $$b || exit 1; done
	$(MAKE) --no-print-directory check-bare
	$(MAKE) --no-print-directory check-reproducible

# Packaging checks too long for make check (issue 16), run by make bench, each on its own too:
# check-bare      make in a git archive in a bare debootstrapped bookworm root (no rustup): the
#                 distribution's toolchain is installed and the packages appear (BARE_COMPONENTS)
# check-reproducible  two builds of HEAD in two clones give bit-identical packages (cmp; on a
#                 difference diffoscope's report in build-check/reproducible/; REPRO_COMPONENTS)
.PHONY: check-bare check-reproducible
check-bare:
	@$(if $(filter 1,$(NO_DEPS)),true,$(TOP)/packaging/deps.sh build bench)
	@$(LAYER) bare-bookworm tap -- $(TOP)/tests/packaging/bare-bookworm.sh
check-reproducible:
	@$(if $(filter 1,$(NO_DEPS)),true,$(TOP)/packaging/deps.sh build bench)
	@$(LAYER) reproducible tap -- $(TOP)/tests/packaging/reproducible.sh

# ------------------------------------------------------------------------------------------------
# Fuzzing: every cargo-fuzz target for FUZZ_SECONDS each (or only FUZZ_TARGETS="crate/target ...");
# `make check` replays the committed corpora, this searches for new inputs.
# ------------------------------------------------------------------------------------------------
.PHONY: fuzz
FUZZ_SECONDS ?= 600
FUZZ_TARGETS ?=
fuzz: deps
	$(TOP)/tests/fuzz/run-fuzz.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# ------------------------------------------------------------------------------------------------
.PHONY: clean distclean
clean:
	rm -rf $(TOP)/build-* $(CHECK_DIR)
distclean: clean
	$(CARGO) clean
