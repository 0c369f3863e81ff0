# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# make install / make uninstall (included by the top-level Makefile).
#   make install [PREFIX=/usr/local] [DESTDIR=]
# Configuration goes to $(DESTDIR)/etc/xwall/ and is never overwritten; uninstall
# removes it only if it is still the shipped example.
PREFIX    ?= /usr/local
DESTDIR   ?=
SBINDIR   := $(PREFIX)/sbin
PKGLIBDIR := $(PREFIX)/lib/xwall
MAN8DIR   := $(PREFIX)/share/man/man8
COMPDIR   := $(PREFIX)/share/bash-completion/completions
UNITDIR   := $(PREFIX)/lib/systemd/system
CONFDIR   := /etc/xwall

.PHONY: install uninstall
install: all
	install -D -m 0755 $(BUILD)/xwall $(DESTDIR)$(SBINDIR)/xwall
	@# The binary embeds both BPF objects (libbpf skeletons) and never reads
	@# these copies: they are installed for inspection (bpftool, llvm-objdump).
	install -D -m 0644 $(BUILD)/xwall.bpf.o $(DESTDIR)$(PKGLIBDIR)/xwall.bpf.o
	install -D -m 0644 $(BUILD)/xwall_tc.bpf.o $(DESTDIR)$(PKGLIBDIR)/xwall_tc.bpf.o
	install -D -m 0755 packaging/xwall-service $(DESTDIR)$(PKGLIBDIR)/xwall-service
	gzip -9n < docs/xwall.8 > $(BUILD)/xwall.8.gz
	install -D -m 0644 $(BUILD)/xwall.8.gz $(DESTDIR)$(MAN8DIR)/xwall.8.gz
	install -D -m 0644 packaging/xwall.bash-completion $(DESTDIR)$(COMPDIR)/xwall
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@PKGLIBDIR@|$(PKGLIBDIR)|g' \
		packaging/xwall.service.in > $(BUILD)/xwall.service
	install -D -m 0644 $(BUILD)/xwall.service $(DESTDIR)$(UNITDIR)/xwall.service
	@# named sets: expiry sweep, fail2ban action, CrowdSec bouncer (README "Blocklists and bans")
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' packaging/xwall-set-gc.service.in > $(BUILD)/xwall-set-gc.service
	install -D -m 0644 $(BUILD)/xwall-set-gc.service $(DESTDIR)$(UNITDIR)/xwall-set-gc.service
	install -D -m 0644 packaging/xwall-set-gc.timer $(DESTDIR)$(UNITDIR)/xwall-set-gc.timer
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' packaging/fail2ban/xwall.conf > $(BUILD)/fail2ban-xwall.conf
	install -D -m 0644 $(BUILD)/fail2ban-xwall.conf $(DESTDIR)$(PKGLIBDIR)/fail2ban/action.d/xwall.conf
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' packaging/crowdsec/xwall-crowdsec-feed > $(BUILD)/xwall-crowdsec-feed
	install -D -m 0755 $(BUILD)/xwall-crowdsec-feed $(DESTDIR)$(PKGLIBDIR)/xwall-crowdsec-feed
	sed -e 's|@PKGLIBDIR@|$(PKGLIBDIR)|g' packaging/crowdsec/crowdsec-custom-bouncer-xwall.yaml \
		> $(BUILD)/crowdsec-custom-bouncer-xwall.yaml
	install -D -m 0644 $(BUILD)/crowdsec-custom-bouncer-xwall.yaml \
		$(DESTDIR)$(PKGLIBDIR)/crowdsec/crowdsec-custom-bouncer-xwall.yaml
	test -e $(DESTDIR)$(CONFDIR)/xwall.conf || \
		install -D -m 0644 packaging/xwall.conf $(DESTDIR)$(CONFDIR)/xwall.conf
	test -e $(DESTDIR)$(CONFDIR)/rules.conf || \
		install -D -m 0644 packaging/rules.conf $(DESTDIR)$(CONFDIR)/rules.conf

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/xwall $(DESTDIR)$(MAN8DIR)/xwall.8.gz \
		$(DESTDIR)$(COMPDIR)/xwall $(DESTDIR)$(UNITDIR)/xwall.service \
		$(DESTDIR)$(UNITDIR)/xwall-set-gc.service $(DESTDIR)$(UNITDIR)/xwall-set-gc.timer
	rm -f $(DESTDIR)$(PKGLIBDIR)/xwall.bpf.o $(DESTDIR)$(PKGLIBDIR)/xwall_tc.bpf.o \
		$(DESTDIR)$(PKGLIBDIR)/xwall-service $(DESTDIR)$(PKGLIBDIR)/xwall-crowdsec-feed \
		$(DESTDIR)$(PKGLIBDIR)/fail2ban/action.d/xwall.conf \
		$(DESTDIR)$(PKGLIBDIR)/crowdsec/crowdsec-custom-bouncer-xwall.yaml
	rmdir $(DESTDIR)$(PKGLIBDIR)/fail2ban/action.d $(DESTDIR)$(PKGLIBDIR)/fail2ban \
		$(DESTDIR)$(PKGLIBDIR)/crowdsec 2>/dev/null || true
	rmdir $(DESTDIR)$(PKGLIBDIR) 2>/dev/null || true
	@for f in xwall.conf rules.conf; do \
		if cmp -s packaging/$$f $(DESTDIR)$(CONFDIR)/$$f; then \
			rm -f $(DESTDIR)$(CONFDIR)/$$f; \
		elif [ -e $(DESTDIR)$(CONFDIR)/$$f ]; then \
			echo "uninstall: keeping $(DESTDIR)$(CONFDIR)/$$f (changed by you)"; \
		fi; \
	done
	rmdir $(DESTDIR)$(CONFDIR) 2>/dev/null || true
