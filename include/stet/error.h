/*
 * stet error codes and the thread-local last-error message.
 *
 * Every stet function returns 0 on success or one of the negative codes
 * below; the message that says what failed and where is then available from
 * stet_error_last() until the next failing call on the same thread.
 */
#ifndef STET_ERROR_H
#define STET_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

enum {
	STET_OK = 0,
	STET_ERROR = -1,    /* generic failure */
	STET_ENOMEM = -2,   /* out of memory */
	STET_EINVALID = -3, /* malformed input */
	STET_ENOTFOUND = -4,
	STET_EEXISTS = -5,
	STET_ECORRUPT = -6, /* archive or index damaged */
	STET_ELOCKED = -7,  /* another run holds the archive */
	STET_EIO = -8,      /* file system error */
	STET_ETOOBIG = -9,  /* input over a size or depth bound */
	STET_EUSAGE = -10   /* wrong call (bad argument) */
};

/** The message of the last failure on this thread ("" if none). Borrowed:
 *  valid until the next stet call on this thread. */
const char *stet_error_last(void);

/** The code of the last failure on this thread (0 if none). */
int stet_error_code(void);

/** Forget the last failure. */
void stet_error_clear(void);

/** A short English name of a code ("invalid input"). */
const char *stet_error_name(int code);

#ifdef __cplusplus
}
#endif
#endif
