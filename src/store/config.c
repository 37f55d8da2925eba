/*
 * stet.yaml, the archive's configuration, committed at its root so its
 * history is kept too. Read with libyaml; an error names the line and
 * column. An unknown key is a warning with its line (a typo such as
 * 'checkpoint_every:' did nothing, silently), not an error: a newer stet
 * may add keys that this one does not know. A bare archive has no work
 * tree: its stet.yaml is the one committed on main (changed by a commit,
 * pushed from a clone, like any file of it).
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

const char stet_default_config[] =
	"# stet archive configuration. This file is committed with the archive.\n"
	"#\n"
	"# Who commits: the archiver, at run time. Each article's commit is\n"
	"# authored by its source, at the article's own time.\n"
	"committer:\n"
	"  name: stet\n"
	"  email: stet@localhost\n"
	"\n"
	"# A long run moves the branch every this many commits, so that a run\n"
	"# killed midway keeps what it finished.\n"
	"checkpoint: 1000\n"
	"\n"
	"# A program run after each ingest that committed something, with the\n"
	"# run's JSON lines on standard input and STET_ARCHIVE in its\n"
	"# environment (a path relative to the archive root). Samples ship in\n"
	"# stet's hooks/ folder.\n"
	"# hooks:\n"
	"#   post-ingest: .stet/hooks/post-ingest\n";

static const char *scalar(yaml_document_t *d, yaml_node_t *n)
{
	(void)d;
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static yaml_node_t *get(yaml_document_t *d, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *p;
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const char *k = scalar(d, yaml_document_get_node(d, p->key));
		if (k && !strcmp(k, key))
			return yaml_document_get_node(d, p->value);
	}
	return NULL;
}

/* warn of every key of map not in known (NULL-terminated); prefix names
 * the mapping ("committer." ...) */
static void unknown_keys(stet_archive *a, const char *path, yaml_document_t *d, yaml_node_t *map, const char *prefix,
			 const char *const *known)
{
	yaml_node_pair_t *p;
	if (!map || map->type != YAML_MAPPING_NODE)
		return;
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(d, p->key);
		const char *k = scalar(d, kn);
		size_t i;
		int found = 0;
		for (i = 0; k && known[i] && !found; i++)
			found = !strcmp(k, known[i]);
		if (found || !kn)
			continue;
		{
			/* the key as a warning line can hold it: control characters
			 * shown as '?', cut after 64 bytes (at a character) */
			char shown[68];
			size_t n = 0;
			for (i = 0; k && k[i] && n < 64; i++)
				shown[n++] = (unsigned char)k[i] < 0x20 || k[i] == 0x7F ? '?' : k[i];
			if (k && k[i])
				while (n && ((unsigned char)shown[n - 1] & 0xC0) == 0x80)
					n--;
			if (k && k[i] && n && (unsigned char)shown[n - 1] >= 0xC0)
				n--;
			shown[n] = 0;
			stet_buf_printf(&a->warnings, "%s:%zu:%zu: unknown setting '%s%s%s' (ignored; known here:", path,
					(size_t)kn->start_mark.line + 1, (size_t)kn->start_mark.column + 1, prefix,
					k ? shown : "?", k && k[i] ? "..." : "");
		}
		for (i = 0; known[i]; i++)
			stet_buf_printf(&a->warnings, " %s%s", prefix, known[i]);
		stet_buf_puts(&a->warnings, ")\n");
	}
}

static int set(char **dst, const char *v)
{
	char *c;
	if (!v)
		return 0;
	if (!(c = stet_strdup(v)))
		return stet_error_oom();
	free(*dst);
	*dst = c;
	return 0;
}

int config_parse(stet_archive *a, const char *path, const char *data, size_t len)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root, *n;
	int error = 0, have_parser = 0, have_doc = 0;
	const char *v;

	if ((error = set(&a->committer_name, "stet")) < 0 || (error = set(&a->committer_email, "stet@localhost")) < 0)
		return error;
	a->checkpoint_every = 1000;
	if (!data)
		return 0; /* no stet.yaml: the defaults */
	if (memchr(data, '\0', len))
		return stet_error_set(STET_EINVALID, "%s: a NUL byte in the configuration", path);
	if (!yaml_parser_initialize(&parser))
		return stet_error_oom();
	have_parser = 1;
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	if (!yaml_parser_load(&parser, &doc)) {
		error = stet_error_set(STET_EINVALID, "%s:%zu:%zu: %s", path, (size_t)parser.problem_mark.line + 1,
				       (size_t)parser.problem_mark.column + 1,
				       parser.problem ? parser.problem : "malformed YAML");
		goto done;
	}
	have_doc = 1;
	root = yaml_document_get_root_node(&doc);
	if (!root)
		goto done;
	if (root->type != YAML_MAPPING_NODE) {
		error = stet_error_set(STET_EINVALID, "%s:%zu:1: stet.yaml must be a mapping of settings", path,
				       (size_t)root->start_mark.line + 1);
		goto done;
	}
	{
		static const char *const top[] = {"committer", "checkpoint", "hooks", NULL};
		static const char *const committer[] = {"name", "email", NULL};
		static const char *const hooks[] = {"post-ingest", NULL};
		unknown_keys(a, path, &doc, root, "", top);
		unknown_keys(a, path, &doc, get(&doc, root, "committer"), "committer.", committer);
		unknown_keys(a, path, &doc, get(&doc, root, "hooks"), "hooks.", hooks);
	}
	n = get(&doc, root, "committer");
	if ((error = set(&a->committer_name, scalar(&doc, get(&doc, n, "name")))) < 0 ||
	    (error = set(&a->committer_email, scalar(&doc, get(&doc, n, "email")))) < 0)
		goto done;
	if ((v = scalar(&doc, get(&doc, root, "checkpoint")))) {
		char *end;
		long k = strtol(v, &end, 10);
		if (*end || k < 1 || k > 100000000) {
			n = get(&doc, root, "checkpoint");
			error = stet_error_set(STET_EINVALID, "%s:%zu:%zu: checkpoint must be a whole number from 1",
					       path, (size_t)n->start_mark.line + 1, (size_t)n->start_mark.column + 1);
			goto done;
		}
		a->checkpoint_every = (size_t)k;
	}
	if ((v = scalar(&doc, get(&doc, get(&doc, root, "hooks"), "post-ingest"))) && *v) {
		stet_buf h = STET_BUF_INIT;
		if (v[0] == '/')
			stet_buf_puts(&h, v);
		else
			stet_buf_printf(&h, "%s/%s", a->root, v);
		if ((error = stet_buf_check(&h, "hook")) == 0)
			error = set(&a->hook, h.ptr);
		stet_buf_dispose(&h);
	}
done:
	if (have_doc)
		yaml_document_delete(&doc);
	if (have_parser)
		yaml_parser_delete(&parser);
	return error;
}

enum { CONFIG_MAX = 1 << 20 }; /* bytes of stet.yaml */

/* a bare archive's stet.yaml: the one committed on main, named
 * ARCHIVE:main:stet.yaml in messages (git's name for it, after the folder) */
static int config_load_committed(stet_archive *a)
{
	git_object *obj = NULL;
	stet_buf label = STET_BUF_INIT;
	int error;

	stet_buf_printf(&label, "%s:main:stet.yaml", a->root);
	if ((error = stet_buf_check(&label, "stet.yaml")) < 0)
		goto done;
	if ((error = git_revparse_single(&obj, a->repo, MAIN_REF ":stet.yaml")) == GIT_ENOTFOUND) {
		error = config_parse(a, label.ptr, NULL, 0); /* no stet.yaml: the defaults */
		goto done;
	}
	if (error < 0) {
		error = stet_git_error(error, label.ptr);
		goto done;
	}
	if (git_object_type(obj) != GIT_OBJECT_BLOB) {
		error = stet_error_set(STET_EINVALID, "%s: not a file", label.ptr);
		goto done;
	}
	if (git_blob_rawsize((git_blob *)obj) > CONFIG_MAX) {
		error = stet_error_set(STET_EINVALID, "%s: larger than %d bytes", label.ptr, CONFIG_MAX);
		goto done;
	}
	error = config_parse(a, label.ptr, git_blob_rawcontent((git_blob *)obj), (size_t)git_blob_rawsize((git_blob *)obj));
done:
	git_object_free(obj);
	stet_buf_dispose(&label);
	return error;
}

int config_load(stet_archive *a)
{
	stet_buf file = STET_BUF_INIT, path = STET_BUF_INIT;
	FILE *f;
	char chunk[4096];
	size_t r;
	int error = 0;

	if (a->bare)
		return config_load_committed(a);
	stet_buf_printf(&path, "%s/stet.yaml", a->root);
	if ((error = stet_buf_check(&path, "stet.yaml")) < 0)
		goto done;
	if (!(f = fopen(path.ptr, "r"))) {
		error = config_parse(a, path.ptr, NULL, 0); /* no stet.yaml: the defaults */
		goto done;
	}
	stet_buf_init(&file, CONFIG_MAX);
	while ((r = fread(chunk, 1, sizeof(chunk), f)) > 0)
		stet_buf_put(&file, chunk, r);
	fclose(f);
	if ((error = stet_buf_check(&file, path.ptr)) < 0)
		goto done;
	error = config_parse(a, path.ptr, file.ptr ? file.ptr : "", file.size);
done:
	stet_buf_dispose(&file);
	stet_buf_dispose(&path);
	return error;
}
