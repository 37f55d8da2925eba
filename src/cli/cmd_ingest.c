/*
 * stet ingest [--json] [--source NAME] [--wait SECONDS] PATH... | -
 * Archive inputs: canonicalize each, decide, commit; one pack and one
 * move of main per run (or per checkpoint).
 */
#include "cli.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

/* inputs canonicalized ahead of their decisions, at most */
#define BATCH_INPUTS 20000
#define BATCH_BYTES (256u << 20)

/* threads for canonicalizing: the machine's cores, at most 8 */
static int cli_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 8 ? 8 : (int)n;
}

static const char help[] =
	"usage: stet ingest [--json] [--source NAME] [--wait SECONDS] PATH... | -\n"
	"\n"
	"Archive posts, pages and folders of them (walked recursively in byte\n"
	"order, hidden files skipped) or standard input (-). Each input is\n"
	"canonicalized and is then new; unchanged (nothing committed); a\n"
	"revision of the article with the same identity key (committed at the\n"
	"same path, graded cosmetic, minor, substantive or rewrite); a repost\n"
	"(the same text from another source: no second copy, the original\n"
	"records it) or an alias (same source, another URL); or a\n"
	"near-duplicate (a variant or partial repost: its own file, naming the\n"
	"original).\n"
	"\n"
	"  --json            one JSON object per input on stdout, in input order:\n"
	"                    input, verdict, path, key, grade, of, distance, error\n"
	"  --source NAME     the source of every input (instead of their own)\n"
	"  --wait SECONDS    wait this long for another run's lock (default: fail\n"
	"                    at once with 'archive is locked by pid N')\n"
	"\n"
	"After a run that committed something, the post-ingest hook set in\n"
	"stet.yaml runs with the run's JSON lines on its standard input. A\n"
	"setting stet.yaml has that stet does not know is a warning naming its\n"
	"line (stet: warning: FILE:LINE:COLUMN: unknown setting ...); the run\n"
	"goes on.\n"
	"Exit status: 0 ok, 1 failure (the archive could not be read or written:\n"
	"the run stops there, and nothing of the failed checkpoint is committed),\n"
	"2 usage, 3 some inputs rejected (the rest archived).\n";

typedef struct {
	char **v;
	size_t n, cap;
} pathlist;

static int add_path(const char *path, void *payload)
{
	pathlist *l = payload;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		char **v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	if (!(l->v[l->n] = strdup(path)))
		return -1;
	l->n++;
	return 0;
}

/* a walk error becomes an input that is rejected with that message */
static int add_error(const char *msg, void *payload)
{
	stet_buf b = STET_BUF_INIT;
	int r;
	stet_buf_printf(&b, "\x01%s", msg);
	r = add_path(b.ptr, payload);
	stet_buf_dispose(&b);
	return r;
}

static void json_str(stet_buf *b, const char *k, const char *v)
{
	size_t i;
	if (!v)
		return;
	stet_buf_printf(b, ",\"%s\":\"", k);
	for (i = 0; v[i]; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c == '"' || c == '\\')
			stet_buf_printf(b, "\\%c", c);
		else if (c < 0x20)
			stet_buf_printf(b, "\\u%04x", c);
		else
			stet_buf_putc(b, (char)c);
	}
	stet_buf_putc(b, '"');
}

static void progress(size_t done, size_t total, int final)
{
	static struct timespec last;
	struct timespec now;
	int width = 30, fill;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!final && (now.tv_sec - last.tv_sec) * 1000 + (now.tv_nsec - last.tv_nsec) / 1000000 < 100)
		return;
	last = now;
	fill = total ? (int)((double)done / (double)total * width) : width;
	fprintf(stderr, "\r[%.*s%*s] %zu/%zu", fill, "##############################", width - fill, "", done, total);
	if (final)
		fputs("\r\033[K", stderr);
	fflush(stderr);
}

/* the archive opened on a thread of its own while the first batch is
 * canonicalized: at 1,000,000 articles opening it is 0.05-0.1 s of
 * reading the multi-pack-index and the key cache on one core, with the
 * other idle */
typedef struct {
	const char *dir;
	double wait;
	stet_archive *a;
	int failed;
	char error[4352]; /* its message (the error is the opening thread's) */
	atomic_int done;
} opener;

static void *open_archive(void *p)
{
	opener *o = p;
	if (stet_archive_open(&o->a, o->dir, 1, o->wait) < 0) {
		const char *m = stet_error_last();
		o->failed = 1;
		snprintf(o->error, sizeof(o->error), "%s", m && *m ? m : stet_error_name(stet_error_code()));
	}
	atomic_store(&o->done, 1);
	return NULL;
}

/* a finished run's archive, freed by the process's exit (below) */
static stet_archive *volatile finished; /* volatile: a store never read is not dropped */

int cmd_ingest(cli_ctx *ctx, int argc, char **argv)
{
	const char *source = NULL, *dir = ctx->archive ? ctx->archive : ".";
	double wait = 0;
	int json = 0, i, rejected = 0, rc = EXIT_OK, tty, nargs = 0, stop = 0;
	size_t k, warned = 0, counts[STET_V_REJECTED + 1] = { 0 };
	pathlist inputs = { 0 };
	stet_archive *a = NULL;
	stet_buf lines = STET_BUF_INIT, line = STET_BUF_INIT;
	struct timespec t0, t1;
	opener op = { 0 };
	pthread_t opening;
	int joinable = 0;

	for (i = 1; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			fputs(help, stdout);
			return EXIT_OK;
		} else if (!strcmp(argv[i], "--json")) {
			json = 1;
		} else if (!strcmp(argv[i], "--source") || !strcmp(argv[i], "--wait")) {
			if (i + 1 >= argc) {
				cli_error("ingest: %s needs a value", argv[i]);
				return EXIT_USAGE;
			}
			if (!strcmp(argv[i], "--source")) {
				source = argv[++i];
			} else {
				char *end;
				wait = strtod(argv[++i], &end);
				if (*end || wait < 0) {
					cli_error("ingest: --wait takes a number of seconds, not '%s'", argv[i]);
					return EXIT_USAGE;
				}
			}
		} else if (!strcmp(argv[i], "-")) {
			nargs++; /* listed below, with the paths */
		} else if (argv[i][0] == '-') {
			cli_error("ingest: unknown option '%s'", argv[i]);
			fputs(help, stderr);
			return EXIT_USAGE;
		} else {
			nargs++;
		}
	}
	if (!nargs) {
		cli_error("ingest: no input; give PATH... or -");
		fputs(help, stderr);
		return EXIT_USAGE;
	}
	/* the list of inputs first: byte order within folders, args in order */
	inputs.n = 0;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--source") || !strcmp(argv[i], "--wait")) {
			i++;
			continue;
		}
		if (!strcmp(argv[i], "-"))
			add_path("-", &inputs);
		else if (argv[i][0] != '-')
			stet_input_walk(argv[i], add_path, add_error, &inputs);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	op.dir = dir;
	op.wait = wait;
	if (pthread_create(&opening, NULL, open_archive, &op) != 0)
		open_archive(&op); /* no thread: here, first */
	else
		joinable = 1;
	tty = isatty(STDERR_FILENO) && !json;
	for (k = 0; k < inputs.n && !stop;) {
		/* a batch: canonicalize and observe every input first, so that
		 * sentences many of them share are known as boilerplate before
		 * the first is judged */
		size_t start = k, end, bytes = 0, q;
		stet_canon **canons;
		stet_prepared **preps;
		char **errors;

		/* a batch is bounded by count and by the size of its files */
		for (end = k; end < inputs.n && end - start < BATCH_INPUTS && bytes < BATCH_BYTES; end++) {
			struct stat st;
			if (inputs.v[end][0] != '\x01' && strcmp(inputs.v[end], "-") && stat(inputs.v[end], &st) == 0)
				bytes += (size_t)st.st_size;
		}
		canons = calloc(end - start, sizeof(*canons));
		errors = calloc(end - start, sizeof(*errors));
		preps = calloc(end - start, sizeof(*preps));
		if (!canons || !errors || !preps) {
			cli_error("out of memory");
			free(canons);
			free(errors);
			free(preps);
			rc = EXIT_FAIL;
			goto done;
		}
		/* read, canonicalize and fingerprint on both cores, then observe
		 * in order; while the archive opens, a slice at a time, so that
		 * an archive that cannot be opened (locked, say) stops the run
		 * soon */
		for (q = start; q < end;) {
			size_t n = atomic_load(&op.done) ? end - q : end - q < 256 ? end - q : 256;
			if (atomic_load(&op.done) && op.failed)
				break;
			stet_canon_files(canons + (q - start), errors + (q - start),
					 (const char *const *)inputs.v + q, n, cli_threads());
			q += n;
		}
		if (q == end)
			stet_archive_prepare(preps, canons, end - start, source, cli_threads());
		if (joinable) {
			pthread_join(opening, NULL);
			joinable = 0;
		}
		if (!a && !op.failed) {
			a = op.a;
			warned = cli_warnings(a, 0);
		}
		if (op.failed) {
			cli_error("%s", op.error);
			for (q = start; q < end; q++) {
				stet_canon_free(canons[q - start]);
				stet_prepared_free(preps[q - start]);
				free(errors[q - start]);
			}
			free(canons);
			free(errors);
			free(preps);
			rc = EXIT_FAIL;
			goto done;
		}
		for (q = start; q < end; q++) {
			if (inputs.v[q][0] == '\x01' || !canons[q - start])
				continue;
			if (stet_archive_observe(a, canons[q - start], preps[q - start]) < 0)
				errors[q - start] = strdup(stet_error_last());
		}
		for (q = start; q < end; q++) {
		const char *in = inputs.v[q];
		stet_canon *c = canons[q - start];
		stet_event ev;
		int error = 0;

		if (stop) { /* the archive failed: the rest is not looked at */
			stet_canon_free(c);
			stet_prepared_free(preps[q - start]);
			free(errors[q - start]);
			continue;
		}

		memset(&ev, 0, sizeof(ev));
		if (in[0] == '\x01') {
			error = -1;
			cli_error("%s", in + 1);
		} else if (errors[q - start]) {
			error = -1;
			cli_error("%s", errors[q - start]);
		} else if ((error = stet_archive_put(a, c, source, preps[q - start], &ev)) < 0) {
			int code = stet_error_code();
			cli_lib_error();
			/* the archive's fault, not the input's: stop, keep what is done */
			if (code == STET_ECORRUPT || code == STET_EIO || code == STET_ENOMEM) {
				stop = 1;
				rc = EXIT_FAIL;
			}
		}
		stet_buf_clear(&line);
		stet_buf_putc(&line, '{');
		json_str(&line, "input", in[0] == '\x01' ? "" : in);
		/* the first field has no comma before it */
		memmove(line.ptr + 1, line.ptr + 2, line.size - 1);
		line.size--;
		if (error < 0) {
			rejected++;
			counts[STET_V_REJECTED]++;
			json_str(&line, "verdict", "rejected");
			json_str(&line, "error", in[0] == '\x01' ? in + 1 : errors[q - start] ? errors[q - start] : stet_error_last());
		} else {
			counts[ev.verdict]++;
			json_str(&line, "verdict", stet_verdict_name(ev.verdict));
			json_str(&line, "path", ev.path);
			json_str(&line, "key", ev.key);
			if (ev.verdict == STET_V_REVISION)
				json_str(&line, "grade", stet_grade_name(ev.grade));
			json_str(&line, "of", ev.of);
			if (ev.distance >= 0 && (ev.verdict == STET_V_NEAR || ev.verdict == STET_V_REPOST ||
						 ev.verdict == STET_V_ALIAS))
				stet_buf_printf(&line, ",\"distance\":%d", ev.distance);
		}
		stet_buf_puts(&line, "}\n");
		stet_buf_put(&lines, line.ptr, line.size);
		if (json && cli_write(line.ptr, line.size) < 0) {
			cli_error("writing output failed");
			rc = EXIT_FAIL;
		}
		stet_event_dispose(&ev);
		stet_canon_free(c);
		stet_prepared_free(preps[q - start]);
		free(errors[q - start]);
		if (tty)
			progress(q + 1, inputs.n, 0);
		}
		free(canons);
		free(errors);
		free(preps);
		k = end;
	}
	if (joinable) { /* no input to canonicalize meanwhile */
		pthread_join(opening, NULL);
		joinable = 0;
		a = op.a;
		if (op.failed) {
			cli_error("%s", op.error);
			rc = EXIT_FAIL;
			goto done;
		}
		warned = cli_warnings(a, 0);
	}
	if (tty)
		progress(inputs.n, inputs.n, 1);
	if (stet_archive_finish(a) < 0) {
		if (!stop) /* a failed checkpoint fails again here: said once */
			cli_lib_error();
		rc = EXIT_FAIL;
		goto done;
	}
	cli_warnings(a, warned); /* the end of the run's, if any */
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (!json) {
		double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		fprintf(stderr,
			"stet: %zu input%s: %zu new, %zu revision%s, %zu repost%s, %zu alias%s, %zu near-duplicate%s, "
			"%zu unchanged, %zu rejected; %zu commit%s in %.2f s\n",
			inputs.n, inputs.n == 1 ? "" : "s", counts[STET_V_NEW], counts[STET_V_REVISION],
			counts[STET_V_REVISION] == 1 ? "" : "s", counts[STET_V_REPOST], counts[STET_V_REPOST] == 1 ? "" : "s",
			counts[STET_V_ALIAS], counts[STET_V_ALIAS] == 1 ? "" : "es", counts[STET_V_NEAR],
			counts[STET_V_NEAR] == 1 ? "" : "s", counts[STET_V_UNCHANGED], counts[STET_V_REJECTED],
			stet_archive_commits(a), stet_archive_commits(a) == 1 ? "" : "s", secs);
	}
	if (stet_archive_commits(a) > 0)
		cli_run_hook(stet_archive_hook(a), stet_archive_root(a), lines.ptr, lines.size);
	if (rc == EXIT_OK && rejected)
		rc = EXIT_PARTIAL;
	/* the run is finished and the process ends: the archive is left to
	 * exit, as git leaves its object store. Freeing it unmaps each pack
	 * libgit2 mapped, one call and one flush of every core's TLB each
	 * (40 ms at 1,000,000 articles, docs/performance.md); exit drops the
	 * whole address space at once. Still reachable, so no leak. */
	finished = a;
	a = NULL;
done:
	if (joinable) /* failed before its first batch: the archive opened meanwhile is closed */
		pthread_join(opening, NULL);
	if (op.a && op.a != a && op.a != finished)
		stet_archive_free(op.a);
	stet_archive_free(a);
	for (k = 0; k < inputs.n; k++)
		free(inputs.v[k]);
	free(inputs.v);
	stet_buf_dispose(&lines);
	stet_buf_dispose(&line);
	return rc;
}
