# iptoip: IPVS table from an XML file (userspace/iptoip). Included by the top Makefile.
iptoip_CRATES := iptoip
iptoip_RPM_SPECS := iptoip
iptoip_DEB_PACKAGES := iptoip

# The sample goes to the documentation, not to /etc: a service that programs IPVS must not start
# from an example config. The unit only starts once /etc/iptoip.xml exists (ConditionPathExists).
install-iptoip: build-iptoip
	$(INSTALL) -D -m 0755 $(RELEASE_BIN)/iptoip $(DESTDIR)$(SBINDIR)/iptoip
	$(INSTALL) -D -m 0644 $(TOP)/packaging/iptoip/iptoip.8 $(DESTDIR)$(MANDIR)/man8/iptoip.8
	$(INSTALL) -D -m 0644 $(TOP)/packaging/iptoip/iptoip.xml.5 $(DESTDIR)$(MANDIR)/man5/iptoip.xml.5
	$(INSTALL) -D -m 0644 $(TOP)/packaging/iptoip/iptoip.service $(DESTDIR)$(UNITDIR)/iptoip.service
	$(INSTALL) -D -m 0644 $(TOP)/packaging/iptoip/iptoip.xml $(DESTDIR)$(PREFIX)/share/doc/iptoip/examples/iptoip.xml
