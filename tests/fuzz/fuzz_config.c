/* libFuzzer target: stet.yaml, the archive's configuration. Settings are
 * read into a bare archive struct; a failure must leave a message that
 * names the file, a success must leave sane settings, and every warning
 * (an unknown key) names the file. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	stet_archive a;
	int error;

	memset(&a, 0, sizeof(a));
	a.root = (char *)"/archive";
	a.warnings = (stet_buf)STET_BUF_INIT;
	error = config_parse(&a, "/archive/stet.yaml", (const char *)data, size);
	if (error < 0) {
		if (error != STET_EINVALID && error != STET_ENOMEM && error != STET_ETOOBIG)
			abort();
		if (strncmp(stet_error_last(), "/archive/stet.yaml", 18) != 0)
			abort();
	} else if (!a.committer_name || !a.committer_email || a.checkpoint_every < 1 ||
		   (a.hook && a.hook[0] != '/')) {
		abort();
	}
	/* every warning names the file */
	{
		const char *w;
		for (w = a.warnings.ptr; *w; w = strchr(w, '\n') + 1)
			if (strncmp(w, "/archive/stet.yaml:", 19) != 0 || !strchr(w, '\n'))
				abort();
	}
	stet_buf_dispose(&a.warnings);
	free(a.committer_name);
	free(a.committer_email);
	free(a.hook);
	return 0;
}
