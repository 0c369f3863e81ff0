// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* import nft|iptables FILE|-: print an xwall rule file for another
 * firewall's rule set (loader/import*.c).  The output is checked by parsing
 * it back before it is printed; nothing is printed when any construct cannot
 * be translated exactly. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ctl.h"
#include "import.h"

int cmd_import(int argc, char **argv)
{
	const char *kind, *path, *name;
	struct xw_ruleset rs;
	struct xw_err err;
	size_t len;
	char *text, *out;
	int rc;

	char only[1024] = "";
	int c;

	while ((c = xw_getopt("import", argc, argv)) != -1) {
		size_t n = strlen(only);

		if (c != 'C')
			return xw_usage("import", XW_EINPUT);
		if (!*optarg || strchr(optarg, ',') ||
		    snprintf(only + n, sizeof(only) - n, "%s%s", n ? "," : "", optarg) >= (int)(sizeof(only) - n))
			return xw_failf(XW_EINPUT, "--chain: bad chain name '%s'", optarg);
	}
	if (optind != argc - 2 || (strcmp(argv[optind], "nft") && strcmp(argv[optind], "iptables")))
		return xw_usage("import", XW_EINPUT);
	kind = argv[optind];
	path = argv[optind + 1];
	name = strcmp(path, "-") ? path : "<stdin>";
	text = xw_slurp(path, &len);
	if (!text)
		return xw_failf(XW_EINPUT, "%s: %s", path, strerror(errno));
	if (strlen(text) != len) {
		free(text);
		return xw_failf(XW_EINPUT, "%s: a NUL byte: not a rule set", name);
	}
	out = !strcmp(kind, "nft") ? xw_import_nft(text, len, name, *only ? only : NULL, &err)
				   : xw_import_iptables(text, len, name, *only ? only : NULL, &err);
	free(text);
	if (!out)
		return xw_fail(XW_EINPUT, &err);
	/* what we print must be a valid xwall rule file */
	xw_ruleset_init(&rs);
	rc = xw_parse_text(out, strlen(out), "<import output>", &rs, &err);
	xw_ruleset_free(&rs);
	if (rc) {
		free(out);
		return xw_failf(XW_EINPUT, "%s: the translation is not a valid rule file (%s)", name, err.msg);
	}
	fputs(out, stdout);
	free(out);
	return 0;
}
