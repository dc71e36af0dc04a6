# daddr: the DADDR xtables target (kmod-daddr/, userspace/daddr-core, userspace/xt-daddr).
# Included by the top Makefile when COMPONENTS contains daddr.
#
#   build-daddr            libxt_DADDR.so (cargo, bindgen against the installed xtables.h)
#   install-daddr          libxt_DADDR.so -> $(XTLIBDIR); modprobe.d sample -> docs
#   build-kmod-daddr       xt_DADDR.ko against $(KERNEL_DIR) ("reference": the tests/vm kernel)
#   install-kmod-daddr     xt_DADDR.ko -> /lib/modules/<kver>/extra/
#   install-daddr-dkms     module sources + dkms.conf -> /usr/src/xt-daddr-$(VERSION)/
daddr_CRATES := xt-daddr
daddr_RPM_SPECS := iptables-daddr kmod-daddr
daddr_DEB_PACKAGES := iptables-daddr daddr-dkms

DADDR_KMOD_OUT := $(CARGO_TARGET_DIR)/kmod-daddr
# Every file of the module's source, as shipped (daddr_core/ is a symlink in git: copy files).
DADDR_KMOD_SRC := Kbuild Makefile daddr_main.rs daddr_shim.c daddr_shim.h xt_DADDR.h

install-daddr: build-daddr
	$(INSTALL) -D -m 0755 $(RELEASE_BIN)/libxt_DADDR.so $(DESTDIR)$(XTLIBDIR)/libxt_DADDR.so
	$(INSTALL) -D -m 0644 $(TOP)/packaging/daddr/xt_DADDR.modprobe.conf \
	  $(DESTDIR)$(PREFIX)/share/doc/iptables-daddr/examples/xt_DADDR.conf

.PHONY: build-kmod-daddr install-kmod-daddr install-daddr-dkms
build-kmod-daddr:
	$(TOP)/kmod-daddr/build.sh $(KERNEL_DIR) $(DADDR_KMOD_OUT)

install-kmod-daddr: build-kmod-daddr
	$(INSTALL) -D -m 0644 $(DADDR_KMOD_OUT)/xt_DADDR.ko \
	  $(DESTDIR)/lib/modules/$$(cat $(DADDR_KMOD_OUT)/kver)/extra/xt_DADDR.ko

install-daddr-dkms:
	$(INSTALL) -d $(DESTDIR)/usr/src/xt-daddr-$(VERSION)/daddr_core/rewrite
	cd $(TOP)/kmod-daddr && $(INSTALL) -m 0644 $(DADDR_KMOD_SRC) $(DESTDIR)/usr/src/xt-daddr-$(VERSION)/
	$(INSTALL) -m 0644 $(TOP)/userspace/daddr-core/src/checkentry.rs $(DESTDIR)/usr/src/xt-daddr-$(VERSION)/daddr_core/
	$(INSTALL) -m 0644 $(TOP)/userspace/daddr-core/src/rewrite/*.rs $(DESTDIR)/usr/src/xt-daddr-$(VERSION)/daddr_core/rewrite/
	sed 's/@VERSION@/$(VERSION)/' $(TOP)/packaging/daddr/dkms.conf > $(DESTDIR)/usr/src/xt-daddr-$(VERSION)/dkms.conf
