/* The library's version, for `stet --version` and the commit trailers. */
#include "stet/stet.h"

const char *stet_version(void) { return STET_VERSION; }
