# daddr: the DADDR xtables target (kmod-daddr/, userspace/daddr-core, userspace/xt-daddr).
# Included by the top Makefile when COMPONENTS contains daddr.
#
#   build-daddr            libxt_DADDR.so (cargo, bindgen against the installed xtables.h)
#   install-daddr          libxt_DADDR.so -> $(XTLIBDIR); modprobe.d sample -> docs
#   build-kmod-daddr       xt_DADDR.ko against $(KERNEL_DIR) ("reference": the tests/vm kernel)
#   install-kmod-daddr     xt_DADDR.ko -> /lib/modules/<kver>/extra/ (+ modprobe.d sample -> docs)
#   install-daddr-dkms     module sources + dkms.conf -> /usr/src/daddr-$(VERSION)/
daddr_CRATES := xt-daddr
daddr_RPM_SPECS := iptables-daddr kmod-daddr
daddr_DEB_PACKAGES := iptables-daddr daddr-dkms

DADDR_KMOD_OUT := $(CARGO_TARGET_DIR)/kmod-daddr
# Every file of the module's source, as shipped (daddr_core/ is a symlink in git: copy files).
DADDR_KMOD_SRC := Kbuild Makefile daddr_main.rs daddr_shim.c daddr_shim.h xt_DADDR.h
DADDR_DKMS_DIR := $(DESTDIR)/usr/src/daddr-$(VERSION)

install-daddr: build-daddr
	$(INSTALL) -D -m 0755 $(RELEASE_BIN)/libxt_DADDR.so $(DESTDIR)$(XTLIBDIR)/libxt_DADDR.so
	$(INSTALL) -D -m 0644 $(TOP)/packaging/daddr/xt_DADDR.modprobe.conf \
	  $(DESTDIR)$(PREFIX)/share/doc/iptables-daddr/examples/xt_DADDR.conf

.PHONY: build-kmod-daddr install-kmod-daddr install-daddr-dkms
build-kmod-daddr:
	$(TOP)/kmod-daddr/build.sh $(KERNEL_DIR) $(DADDR_KMOD_OUT)
	@kver=$$(cat $(DADDR_KMOD_OUT)/kver); \
	if [ "$(KVERREL)" != reference ] && [ "$$kver" != "$(KVERREL)" ]; then \
	  echo "xt_DADDR.ko was built for $$kver, but KVERREL is $(KVERREL): set KVERREL to the release of KERNEL_DIR" >&2; exit 1; fi

# The module's mode is 0644 (no strip: rpm's brp-strip skips relocatable objects anyway, and a
# stripped module loses the symbols modprobe --dump-modversions and crash dumps need).
install-kmod-daddr: build-kmod-daddr
	$(INSTALL) -D -m 0644 $(DADDR_KMOD_OUT)/xt_DADDR.ko \
	  $(DESTDIR)/lib/modules/$$(cat $(DADDR_KMOD_OUT)/kver)/extra/xt_DADDR.ko

# DKMS builds the module on the target from these sources (dkms.conf, dkms-build.sh).
install-daddr-dkms:
	$(INSTALL) -d $(DADDR_DKMS_DIR)/daddr_core/rewrite
	cd $(TOP)/kmod-daddr && $(INSTALL) -m 0644 $(DADDR_KMOD_SRC) $(DADDR_DKMS_DIR)/
	$(INSTALL) -m 0644 $(TOP)/userspace/daddr-core/src/checkentry.rs $(DADDR_DKMS_DIR)/daddr_core/
	$(INSTALL) -m 0644 $(TOP)/userspace/daddr-core/src/rewrite/*.rs $(DADDR_DKMS_DIR)/daddr_core/rewrite/
	$(INSTALL) -m 0755 $(TOP)/packaging/daddr/dkms-build.sh $(DADDR_DKMS_DIR)/dkms-build.sh
	sed 's/@VERSION@/$(VERSION)/' $(TOP)/packaging/daddr/dkms.conf > $(DADDR_DKMS_DIR)/dkms.conf
	chmod 0644 $(DADDR_DKMS_DIR)/dkms.conf

# The DKMS source tarball, for hosts that take the module's sources with `dkms ldtarball` rather
# than the daddr-dkms DEB: the /usr/src/daddr-$(VERSION) tree in the layout of `dkms mktarball
# --source-only` (dkms_source_tree/), sorted and dated like the other tarballs. Part of `make`.
DADDR_DKMS_TARBALL := $(SRPMDIR)/daddr-dkms-$(VERSION)-source-only.tar.gz
.PHONY: dkms-tarball
all: dkms-tarball
dkms-tarball: $(DADDR_DKMS_TARBALL)
$(DADDR_DKMS_TARBALL): FORCE
	@rm -rf $(@D)/dkms.tmp
	@$(MAKE) --no-print-directory -s install-daddr-dkms DESTDIR=$(@D)/dkms.tmp
	@mv $(@D)/dkms.tmp/usr/src/daddr-$(VERSION) $(@D)/dkms.tmp/dkms_source_tree
	@tar -C $(@D)/dkms.tmp $(TAR_REPRO) -cf - dkms_source_tree | gzip -n > $@.tmp
	@rm -rf $(@D)/dkms.tmp
	@if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; echo "wrote $@"; fi
