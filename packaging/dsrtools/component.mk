# dsrtools: dsrctl, the L2DSR/L3DSR real-server tool (userspace/dsrctl), under the package name of
# the upstream dsrtools so that `yum install dsrtools` / `apt install dsrtools` keep working.
# Included by the top Makefile when COMPONENTS contains dsrtools.
dsrtools_CRATES := dsrctl
dsrtools_RPM_SPECS := dsrtools
dsrtools_DEB_PACKAGES := dsrtools

# /etc/dsr.d gets a commented example (only comments: it configures nothing, and dsrctl reads
# every *.conf there). The unit is installed, not enabled: the operator enables it once the VIPs
# are written (systemctl enable --now dsr).
install-dsrtools: build-dsrtools
	$(INSTALL) -D -m 0755 $(RELEASE_BIN)/dsrctl $(DESTDIR)$(SBINDIR)/dsrctl
	$(INSTALL) -D -m 0644 $(TOP)/packaging/dsrtools/dsrctl.8 $(DESTDIR)$(MANDIR)/man8/dsrctl.8
	$(INSTALL) -D -m 0644 $(TOP)/packaging/dsrtools/dsr.conf.5 $(DESTDIR)$(MANDIR)/man5/dsr.conf.5
	$(INSTALL) -D -m 0644 $(TOP)/packaging/dsrtools/dsr.service $(DESTDIR)$(UNITDIR)/dsr.service
	$(INSTALL) -D -m 0644 $(TOP)/packaging/dsrtools/example.conf $(DESTDIR)$(SYSCONFDIR)/dsr.d/example.conf
