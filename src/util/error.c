/*
 * The thread-local last-error message. A failing function calls
 * stet_error_set() where the failure is found and returns the code it gives
 * back; callers higher up may prefix context with stet_error_wrap().
 */
#include "util.h"

#include <stdio.h>
#include <string.h>

static _Thread_local char last_msg[1024];
static _Thread_local int last_code;

const char *stet_error_last(void) { return last_msg; }
int stet_error_code(void) { return last_code; }

void stet_error_clear(void)
{
	last_msg[0] = '\0';
	last_code = 0;
}

int stet_error_set(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_msg, sizeof(last_msg), fmt, ap);
	va_end(ap);
	last_code = code;
	return code;
}

int stet_error_wrap(int code, const char *fmt, ...)
{
	char prefix[512], old[sizeof(last_msg)];
	va_list ap;

	memcpy(old, last_msg, sizeof(old));
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	if (old[0])
		snprintf(last_msg, sizeof(last_msg), "%.500s: %.500s", prefix, old);
	else
		snprintf(last_msg, sizeof(last_msg), "%.500s: %s", prefix, stet_error_name(code));
	last_code = code;
	return code;
}

int stet_error_oom(void)
{
	return stet_error_set(STET_ENOMEM, "out of memory");
}

const char *stet_error_name(int code)
{
	switch (code) {
	case STET_OK: return "ok";
	case STET_ENOMEM: return "out of memory";
	case STET_EINVALID: return "invalid input";
	case STET_ENOTFOUND: return "not found";
	case STET_EEXISTS: return "already exists";
	case STET_ECORRUPT: return "corrupt";
	case STET_ELOCKED: return "locked";
	case STET_EIO: return "i/o error";
	case STET_ETOOBIG: return "too big";
	case STET_EUSAGE: return "usage";
	default: return "failure";
	}
}
