/*
 * The stet command: shared bits of the subcommands. The CLI uses only the
 * public API in include/stet/, and is the only place that prints or exits.
 */
#ifndef STET_CLI_H
#define STET_CLI_H

#include <stdio.h>
#include "stet/stet.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_PARTIAL = 3 };

typedef struct {
	const char *archive; /* -C DIR, or NULL */
} cli_ctx;

/* "stet: error: <msg>" on stderr */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* the library's last error, prefixed */
void cli_lib_error(void);
/* print the archive's warnings from byte `from` on (stet.yaml when it was
 * opened, the packs' index at the end of a run), "stet: warning: ...";
 * returns where the next call starts */
size_t cli_warnings(const stet_archive *a, size_t from);
/* write a whole buffer to stdout; 0 or -1 */
int cli_write(const char *s, size_t n);
/* 1 if `arg` is "-h" or "--help" */
int cli_is_help(const char *arg);

/* run the archive's post-ingest hook with `input` on its stdin */
void cli_run_hook(const char *hook, const char *archive, const char *input, size_t len);

/* history helpers (history.c) */
int cli_color(void);
void cli_date(char out[32], long long t);
int cli_open_read(stet_archive **a, cli_ctx *ctx);
long cli_pick_version(const stet_revinfo *v, size_t n, const char *path, const char *rev);
char *cli_split_rev(char *arg);
void cli_json_string(stet_buf *out, const char *s);
void cli_json_stringn(stet_buf *out, const char *s, size_t len);

int cmd_canon(cli_ctx *ctx, int argc, char **argv);
int cmd_log(cli_ctx *ctx, int argc, char **argv);
int cmd_show(cli_ctx *ctx, int argc, char **argv);
int cmd_diff(cli_ctx *ctx, int argc, char **argv);
int cmd_dups(cli_ctx *ctx, int argc, char **argv);
int cmd_similar(cli_ctx *ctx, int argc, char **argv);
int cmd_reindex(cli_ctx *ctx, int argc, char **argv);
int cmd_fsck(cli_ctx *ctx, int argc, char **argv);
int cmd_init(cli_ctx *ctx, int argc, char **argv);
int cmd_ingest(cli_ctx *ctx, int argc, char **argv);

#endif
