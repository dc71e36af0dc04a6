# l2tpns: the L2TP Network Server (userspace/l2tpns, lns, lns-core, lns-config, lns-dataplane) and the LAC simulator
# (userspace/l2tp-lac). Included by the top Makefile when COMPONENTS contains l2tpns.
#
#   build-l2tpns           l2tpns, nsctl, l2tpns-capture and l2tp-lac (cargo)
#   install-l2tpns         /usr/sbin/l2tpns, /usr/sbin/nsctl, /usr/sbin/l2tpns-capture, /usr/bin/l2tp-lac, man pages, unit, tmpfiles.d,
#                          logrotate, and the configuration in /etc/l2tpns (users mode 0600:
#                          it holds passwords)
l2tpns_CRATES := l2tpns l2tp-lac nsctl l2tpns-capture
l2tpns_RPM_SPECS := l2tpns
l2tpns_DEB_PACKAGES := l2tpns

install-l2tpns: build-l2tpns
	$(INSTALL) -D -m 0755 $(RELEASE_BIN)/l2tpns $(DESTDIR)$(SBINDIR)/l2tpns
	$(INSTALL) -D -m 0755 $(RELEASE_BIN)/nsctl $(DESTDIR)$(SBINDIR)/nsctl
	$(INSTALL) -D -m 0755 $(RELEASE_BIN)/l2tpns-capture $(DESTDIR)$(SBINDIR)/l2tpns-capture
	$(INSTALL) -D -m 0755 $(RELEASE_BIN)/l2tp-lac $(DESTDIR)$(BINDIR)/l2tp-lac
	$(INSTALL) -D -m 0644 $(TOP)/packaging/l2tpns/l2tpns.8 $(DESTDIR)$(MANDIR)/man8/l2tpns.8
	$(INSTALL) -D -m 0644 $(TOP)/packaging/l2tpns/nsctl.8 $(DESTDIR)$(MANDIR)/man8/nsctl.8
	$(INSTALL) -D -m 0644 $(TOP)/packaging/l2tpns/l2tpns-capture.8 $(DESTDIR)$(MANDIR)/man8/l2tpns-capture.8
	$(INSTALL) -D -m 0644 $(TOP)/packaging/l2tpns/l2tp-lac.1 $(DESTDIR)$(MANDIR)/man1/l2tp-lac.1
	$(INSTALL) -D -m 0644 $(TOP)/packaging/l2tpns/l2tpns.service $(DESTDIR)$(UNITDIR)/l2tpns.service
	$(INSTALL) -D -m 0644 $(TOP)/packaging/l2tpns/l2tpns.tmpfiles $(DESTDIR)$(TMPFILESDIR)/l2tpns.conf
	$(INSTALL) -D -m 0644 $(TOP)/packaging/l2tpns/l2tpns.logrotate $(DESTDIR)$(SYSCONFDIR)/logrotate.d/l2tpns
	$(INSTALL) -D -m 0644 $(TOP)/packaging/l2tpns/startup-config $(DESTDIR)$(SYSCONFDIR)/l2tpns/startup-config
	$(INSTALL) -D -m 0644 $(TOP)/packaging/l2tpns/ip_pool $(DESTDIR)$(SYSCONFDIR)/l2tpns/ip_pool
	$(INSTALL) -D -m 0600 $(TOP)/packaging/l2tpns/users $(DESTDIR)$(SYSCONFDIR)/l2tpns/users
	$(INSTALL) -d -m 0750 $(DESTDIR)$(LOCALSTATEDIR)/lib/l2tpns
