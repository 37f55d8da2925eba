/*
 * stet: archive news articles into git. The umbrella header: include this
 * to get the whole public API.
 *
 *   input  -> canon  -> fp -> index -> store
 *   (read)    (text)
 */
#ifndef STET_H
#define STET_H

#define STET_VERSION "0.1.0"

#include "stet/error.h"
#include "stet/buf.h"
#include "stet/input.h"
#include "stet/canon.h"
#include "stet/fp.h"
#include "stet/index.h"
#include "stet/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The library's version string ("0.1.0"). */
const char *stet_version(void);

#ifdef __cplusplus
}
#endif
#endif
