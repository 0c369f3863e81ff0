// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* libpcap, opened on first use.
 *
 * Only `xwall test --pcap` and `xwall events --pcap` read or write captures,
 * but Debian's libpcap links D-Bus, systemd, libgcrypt and four compression
 * libraries: loading them at every start made each command (a fail2ban
 * `set add` above all) several milliseconds slower.  xwall is therefore not
 * linked with -lpcap; these definitions of the libpcap functions it calls
 * dlopen() the library the first time a capture is opened and forward to it.
 * The ones that take a pcap_t or pcap_dumper_t are only reached after an
 * open succeeded, so the library is loaded by then. */
#include <dlfcn.h>
#include <stdio.h>
#include <pcap/pcap.h>

#define XW_LIBPCAP "libpcap.so.0.8"   /* Debian's libpcap0.8 */

static void *lib;

/* The library's symbol name, or NULL (why in ebuf, if given). */
static void *sym(const char *name, char *ebuf)
{
	void *f;

	if (!lib)
		lib = dlopen(XW_LIBPCAP, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		if (ebuf)
			snprintf(ebuf, PCAP_ERRBUF_SIZE, "cannot load %s (install libpcap0.8): %s",
				 XW_LIBPCAP, dlerror());
		return NULL;
	}
	f = dlsym(lib, name);
	if (!f && ebuf)
		snprintf(ebuf, PCAP_ERRBUF_SIZE, "%s: no %s", XW_LIBPCAP, name);
	return f;
}

pcap_t *pcap_open_offline(const char *fname, char *ebuf)
{
	pcap_t *(*f)(const char *, char *) = (pcap_t *(*)(const char *, char *))sym(__func__, ebuf);

	return f ? f(fname, ebuf) : NULL;
}

pcap_t *pcap_open_dead(int linktype, int snaplen)
{
	pcap_t *(*f)(int, int) = (pcap_t *(*)(int, int))sym(__func__, NULL);

	if (!f)
		fprintf(stderr, "xwall: cannot load %s (install libpcap0.8)\n", XW_LIBPCAP);
	return f ? f(linktype, snaplen) : NULL;
}

/* The functions below are reached only with a handle an open returned,
 * so the library is loaded and sym() finds them. */
typedef int (*int_of_pcap)(pcap_t *);

int pcap_datalink(pcap_t *p)
{
	static int_of_pcap f;

	if (!f)
		f = (int_of_pcap)sym(__func__, NULL);
	return f(p);
}

int pcap_snapshot(pcap_t *p)
{
	static int_of_pcap f;

	if (!f)
		f = (int_of_pcap)sym(__func__, NULL);
	return f(p);
}

const char *pcap_datalink_val_to_name(int dlt)
{
	typedef const char *(*fn)(int);
	static fn f;

	if (!f)
		f = (fn)sym(__func__, NULL);
	return f ? f(dlt) : NULL;
}

int pcap_next_ex(pcap_t *p, struct pcap_pkthdr **h, const u_char **d)
{
	typedef int (*fn)(pcap_t *, struct pcap_pkthdr **, const u_char **);
	static fn f;

	if (!f)
		f = (fn)sym(__func__, NULL);
	return f(p, h, d);
}

char *pcap_geterr(pcap_t *p)
{
	typedef char *(*fn)(pcap_t *);
	static fn f;

	if (!f)
		f = (fn)sym(__func__, NULL);
	return f(p);
}

pcap_dumper_t *pcap_dump_open(pcap_t *p, const char *fname)
{
	typedef pcap_dumper_t *(*fn)(pcap_t *, const char *);
	static fn f;

	if (!f)
		f = (fn)sym(__func__, NULL);
	return f(p, fname);
}

int pcap_dump_flush(pcap_dumper_t *d)
{
	typedef int (*fn)(pcap_dumper_t *);
	static fn f;

	if (!f)
		f = (fn)sym(__func__, NULL);
	return f(d);
}

void pcap_close(pcap_t *p)
{
	void (*f)(pcap_t *) = (void (*)(pcap_t *))sym(__func__, NULL);

	f(p);
}

void pcap_dump(u_char *user, const struct pcap_pkthdr *h, const u_char *sp)
{
	static void (*f)(u_char *, const struct pcap_pkthdr *, const u_char *);

	if (!f)
		f = (void (*)(u_char *, const struct pcap_pkthdr *, const u_char *))sym(__func__, NULL);
	f(user, h, sp);
}

void pcap_dump_close(pcap_dumper_t *d)
{
	void (*f)(pcap_dumper_t *) = (void (*)(pcap_dumper_t *))sym(__func__, NULL);

	f(d);
}
