// SPDX-License-Identifier: GPL-2.0
/*
 * The function registry: a table of the current version of every function,
 * sorted by name, read on every invocation and changed by the control plane.
 *
 * Two locks. change_lock serialises the control-plane calls (create, update,
 * delete) from their first check to their publication, so that two of them
 * never race on one name and the store and the table agree. table_lock is a
 * rwlock held only for the few instructions that read or swap a table slot,
 * so that an invocation never waits for a zip to be extracted.
 *
 * Environments are retired after change_lock is dropped: destroying them can
 * take a while and must not hold up every other control-plane call. Retiring
 * by name may then also retire environments of a version published in
 * between; that costs them a cold start, never a wrong version.
 *
 * Extracted code lives in <run_dir>/code/<revision id>; every version has its
 * own directory, removed by the last husk_fn_put of that version, so an
 * environment still running an old version keeps its code until it is gone.
 */
#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codepkg.h"
#include "crypt.h"
#include "fn_config.h"
#include "log.h"
#include "pool.h"
#include "registry.h"
#include "store.h"

struct husk_registry {
	pthread_mutex_t change_lock;
	pthread_rwlock_t table_lock;
	struct husk_function **fns; /* sorted by name; one reference each */
	size_t n, cap;
};

/* Index of name in the table, or of where it would go; *found says which. */
static size_t table_find(const struct husk_registry *reg, const char *name, bool *found)
{
	size_t lo = 0, hi = reg->n;
	int cmp;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		cmp = strcmp(reg->fns[mid]->name, name);
		if (!cmp) {
			*found = true;
			return mid;
		}
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

/* Make room for one more slot, outside table_lock (realloc may move the array). */
static int table_reserve(struct husk_registry *reg)
{
	struct husk_function **fns;
	size_t cap;

	if (reg->n < reg->cap)
		return 0;
	cap = reg->cap ? reg->cap * 2 : 16;
	fns = malloc(cap * sizeof(*fns));
	if (!fns)
		return -ENOMEM;
	pthread_rwlock_wrlock(&reg->table_lock);
	if (reg->n)
		memcpy(fns, reg->fns, reg->n * sizeof(*fns));
	free(reg->fns);
	reg->fns = fns;
	reg->cap = cap;
	pthread_rwlock_unlock(&reg->table_lock);
	return 0;
}

/* Publish fn, which takes over the reference it was created with. */
static void table_insert(struct husk_registry *reg, struct husk_function *fn)
{
	bool found;
	size_t i;

	pthread_rwlock_wrlock(&reg->table_lock);
	i = table_find(reg, fn->name, &found);
	memmove(reg->fns + i + 1, reg->fns + i, (reg->n - i) * sizeof(*reg->fns));
	reg->fns[i] = fn;
	reg->n++;
	pthread_rwlock_unlock(&reg->table_lock);
}

/* Swap in fn for the entry at i; returns the table's reference to the old one. */
static struct husk_function *table_replace(struct husk_registry *reg, size_t i,
					   struct husk_function *fn)
{
	struct husk_function *old;

	pthread_rwlock_wrlock(&reg->table_lock);
	old = reg->fns[i];
	reg->fns[i] = fn;
	pthread_rwlock_unlock(&reg->table_lock);
	return old;
}

static struct husk_function *table_remove(struct husk_registry *reg, size_t i)
{
	struct husk_function *old;

	pthread_rwlock_wrlock(&reg->table_lock);
	old = reg->fns[i];
	memmove(reg->fns + i, reg->fns + i + 1, (reg->n - i - 1) * sizeof(*reg->fns));
	reg->n--;
	pthread_rwlock_unlock(&reg->table_lock);
	return old;
}

static int code_dir_path(const struct husk_ctx *ctx, const char *revision_id, char **out)
{
	if (asprintf(out, "%s/code/%s", ctx->cfg.run_dir, revision_id) < 0) {
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

static bool server_side_errno(int rc)
{
	switch (-rc) {
	case ENOMEM:
	case ENOSPC:
	case EDQUOT:
	case EIO:
	case EROFS:
	case EMFILE:
	case ENFILE:
	case EACCES:
	case EPERM:
	case EEXIST:
		return true;
	}
	return false;
}

/*
 * Extract zip into fn's own directory. A package the extractor refuses is the
 * caller's fault (400 with the extractor's reason); a host failure is ours.
 */
static int extract_code(struct husk_ctx *ctx, struct husk_function *fn, const void *zip, size_t len,
			struct husk_err *err)
{
	char why[400];
	int rc;

	rc = code_dir_path(ctx, fn->revision_id, &fn->code_dir);
	if (rc) {
		husk_err_set(err, 500, HUSK_E_SERVICE, "out of memory");
		return rc;
	}
	rc = husk_code_extract(zip, len, fn->code_dir, why, sizeof(why));
	if (!rc)
		return 0;
	if (server_side_errno(rc)) {
		pr_err("function %s: cannot extract its code into %s: %s", fn->name, fn->code_dir,
		       why);
		husk_err_set(err, 500, HUSK_E_SERVICE, "Could not extract the code package: %s",
			     why);
	} else {
		husk_err_set(err, 400, HUSK_E_INVALID_PARAM, "%s", why);
	}
	free(fn->code_dir);
	fn->code_dir = NULL;
	return rc;
}

/* Undo extract_code: fn stays the caller's, without a code directory. */
static void drop_code(struct husk_function *fn)
{
	int rc;

	if (!fn->code_dir)
		return;
	rc = husk_code_remove(fn->code_dir);
	if (rc)
		pr_warn("function %s: cannot remove %s: %s", fn->name, fn->code_dir, strerror(-rc));
	free(fn->code_dir);
	fn->code_dir = NULL;
}

/* A new version: new revision id and time stamp, the code's identity, its own code dir. */
static int prepare_version(struct husk_ctx *ctx, struct husk_function *fn, const void *zip,
			   size_t len, struct husk_err *err)
{
	husk_uuid4(fn->revision_id);
	husk_fn_timestamp(fn->last_modified);
	husk_sha256_b64(zip, len, fn->code_sha256);
	fn->code_size = len;
	return extract_code(ctx, fn, zip, len, err);
}

static int serialize(const struct husk_function *fn, char **out, struct husk_err *err)
{
	struct json_object *doc = husk_fn_to_json(fn);
	const char *s = doc ? json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN) : NULL;

	*out = s ? strdup(s) : NULL;
	json_object_put(doc);
	if (!*out) {
		husk_err_set(err, 500, HUSK_E_SERVICE, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

/* op: what failed, e.g. "insert", "read the code of". */
static void store_error(const char *op, const char *name, int rc, struct husk_err *err)
{
	const char *why = rc == -EBADMSG ? "the sealed package does not verify" : strerror(-rc);

	pr_err("store: %s %s: %s", op, name, why);
	husk_err_set(err, 500, HUSK_E_SERVICE, "store: %s %s: %s", op, name, why);
}

static void publish_new(struct husk_registry *reg, struct husk_function *fn,
			struct husk_function **out)
{
	atomic_store(&fn->refs, 1); /* the table's */
	*out = husk_fn_get(fn);
	table_insert(reg, fn);
}

static int create_locked(struct husk_ctx *ctx, struct husk_function *fn, const void *zip,
			 size_t zip_len, struct husk_function **out, struct husk_err *err)
{
	struct husk_registry *reg = ctx->registry;
	char *doc = NULL;
	bool found;
	int rc;

	table_find(reg, fn->name, &found);
	if (found) {
		husk_err_set(err, 409, HUSK_E_CONFLICT, "Function already exist: %s", fn->name);
		return -EEXIST;
	}
	rc = table_reserve(reg);
	if (rc) {
		husk_err_set(err, 500, HUSK_E_SERVICE, "out of memory");
		return rc;
	}
	rc = prepare_version(ctx, fn, zip, zip_len, err);
	if (!rc)
		rc = serialize(fn, &doc, err);
	if (!rc) {
		rc = husk_store_insert(ctx->store, fn->name, doc, zip, zip_len);
		if (rc == -EEXIST)
			husk_err_set(err, 409, HUSK_E_CONFLICT, "Function already exist: %s",
				     fn->name);
		else if (rc)
			store_error("insert", fn->name, rc, err);
	}
	free(doc);
	if (rc) {
		drop_code(fn);
		return rc;
	}
	publish_new(reg, fn, out);
	return 0;
}

int husk_registry_create(struct husk_ctx *ctx, struct husk_function *fn, const void *zip,
			 size_t zip_len, struct husk_function **out, struct husk_err *err)
{
	struct husk_registry *reg = ctx->registry;
	int rc;

	pthread_mutex_lock(&reg->change_lock);
	rc = create_locked(ctx, fn, zip, zip_len, out, err);
	pthread_mutex_unlock(&reg->change_lock);
	return rc;
}

/* Without new code, the new version gets its own copy of the current package. */
static int prepare_same_code(struct husk_ctx *ctx, struct husk_function *fn,
			     const struct husk_function *cur, struct husk_err *err)
{
	void *zip;
	size_t len;
	int rc;

	rc = husk_store_get_code(ctx->store, cur->name, &zip, &len);
	if (rc) {
		store_error("read the code of", cur->name, rc, err);
		return rc;
	}
	rc = prepare_version(ctx, fn, zip, len, err);
	free(zip);
	return rc;
}

static int update_locked(struct husk_ctx *ctx, struct husk_function *fn, const void *zip,
			 size_t zip_len, const char *if_revision_id, struct husk_function **out,
			 struct husk_err *err)
{
	struct husk_registry *reg = ctx->registry;
	struct husk_function *cur, *old;
	char *doc = NULL;
	bool found;
	size_t i;
	int rc;

	i = table_find(reg, fn->name, &found);
	if (!found) {
		husk_fn_err_not_found(&ctx->cfg, fn->name, NULL, err);
		return -ENOENT;
	}
	cur = reg->fns[i];
	if (if_revision_id && strcmp(if_revision_id, cur->revision_id)) {
		return husk_fn_err_stale_revision(err);
	}
	rc = zip ? prepare_version(ctx, fn, zip, zip_len, err)
		 : prepare_same_code(ctx, fn, cur, err);
	if (!rc)
		rc = serialize(fn, &doc, err);
	if (!rc) {
		rc = husk_store_update(ctx->store, fn->name, doc, zip, zip_len);
		if (rc)
			store_error("update", fn->name, rc, err);
	}
	free(doc);
	if (rc) {
		drop_code(fn);
		return rc;
	}
	atomic_store(&fn->refs, 1);
	*out = husk_fn_get(fn);
	old = table_replace(reg, i, fn);
	husk_fn_put(old);
	return 0;
}

int husk_registry_update(struct husk_ctx *ctx, struct husk_function *fn, const void *zip,
			 size_t zip_len, const char *if_revision_id, struct husk_function **out,
			 struct husk_err *err)
{
	struct husk_registry *reg = ctx->registry;
	int rc;

	pthread_mutex_lock(&reg->change_lock);
	rc = update_locked(ctx, fn, zip, zip_len, if_revision_id, out, err);
	pthread_mutex_unlock(&reg->change_lock);
	/* New invocations get the new version now; the old one's environments go. */
	if (!rc)
		husk_pool_retire(ctx, (*out)->name);
	return rc;
}

int husk_registry_delete(struct husk_ctx *ctx, const char *name, struct husk_err *err)
{
	struct husk_registry *reg = ctx->registry;
	struct husk_function *old = NULL;
	bool found;
	size_t i;
	int rc;

	pthread_mutex_lock(&reg->change_lock);
	i = table_find(reg, name, &found);
	rc = found ? husk_store_delete(ctx->store, name) : -ENOENT;
	if (rc == -ENOENT)
		husk_fn_err_not_found(&ctx->cfg, name, NULL, err);
	else if (rc)
		store_error("delete", name, rc, err);
	else
		old = table_remove(reg, i);
	pthread_mutex_unlock(&reg->change_lock);
	if (old) {
		husk_pool_retire(ctx, old->name);
		husk_fn_put(old);
	}
	return rc;
}

struct husk_function *husk_registry_lookup(struct husk_ctx *ctx, const char *name)
{
	struct husk_registry *reg = ctx->registry;
	struct husk_function *fn = NULL;
	bool found;
	size_t i;

	pthread_rwlock_rdlock(&reg->table_lock);
	i = table_find(reg, name, &found);
	if (found)
		fn = husk_fn_get(reg->fns[i]);
	pthread_rwlock_unlock(&reg->table_lock);
	return fn;
}

int husk_registry_list(struct husk_ctx *ctx, struct husk_function ***out, size_t *n)
{
	struct husk_registry *reg = ctx->registry;
	struct husk_function **fns;
	size_t i;

	pthread_rwlock_rdlock(&reg->table_lock);
	fns = malloc((reg->n + 1) * sizeof(*fns));
	if (fns) {
		for (i = 0; i < reg->n; i++)
			fns[i] = husk_fn_get(reg->fns[i]);
		*n = reg->n;
	}
	pthread_rwlock_unlock(&reg->table_lock);
	if (!fns)
		return -ENOMEM;
	*out = fns;
	return 0;
}

int husk_registry_code(struct husk_ctx *ctx, const char *name, void **zip, size_t *len)
{
	return husk_store_get_code(ctx->store, name, zip, len);
}

/* Loading at start: the code directory of a stored version, extracted unless it still is. */
static int load_code(struct husk_ctx *ctx, struct husk_function *fn)
{
	char why[400];
	struct stat st;
	void *zip;
	size_t len;
	int rc;

	rc = code_dir_path(ctx, fn->revision_id, &fn->code_dir);
	if (rc)
		return rc;
	/* Left by a previous run: the extraction renames into place, so it is whole. */
	if (!lstat(fn->code_dir, &st) && S_ISDIR(st.st_mode))
		return 0;
	rc = husk_store_get_code(ctx->store, fn->name, &zip, &len);
	if (rc) {
		pr_err("function %s: cannot read its code from the store: %s%s", fn->name,
		       strerror(-rc),
		       rc == -EBADMSG ? " (the sealed package does not verify)" : "");
		return rc;
	}
	rc = husk_code_extract(zip, len, fn->code_dir, why, sizeof(why));
	free(zip);
	if (rc)
		pr_err("function %s: cannot extract its code into %s: %s", fn->name, fn->code_dir,
		       why);
	return rc;
}

static int load_one(void *arg, const char *name, const char *config_json)
{
	struct husk_ctx *ctx = arg;
	struct husk_registry *reg = ctx->registry;
	struct husk_function *fn;
	char why[512];
	int rc;

	rc = husk_fn_from_json(config_json, &fn, why, sizeof(why));
	if (rc) {
		pr_err("function %s: its stored configuration is invalid: %s", name, why);
		return rc;
	}
	if (strcmp(fn->name, name)) {
		pr_err("function %s: its stored configuration names %s", name, fn->name);
		husk_fn_free(fn);
		return -EINVAL;
	}
	rc = table_reserve(reg);
	if (!rc)
		rc = load_code(ctx, fn);
	if (rc) {
		husk_fn_free(fn);
		return rc;
	}
	atomic_store(&fn->refs, 1);
	table_insert(reg, fn);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The revision ids of the loaded functions, sorted for bsearch. */
static const char **current_revisions(const struct husk_registry *reg)
{
	const char **revs = malloc((reg->n + 1) * sizeof(*revs));
	size_t i;

	if (!revs)
		return NULL;
	for (i = 0; i < reg->n; i++)
		revs[i] = reg->fns[i]->revision_id;
	qsort(revs, reg->n, sizeof(*revs), cmp_str);
	return revs;
}

/* Remove what a previous run left in <run_dir>/code that no current version uses. */
static int remove_leftovers(struct husk_ctx *ctx, const char *dir)
{
	const char **revs = current_revisions(ctx->registry), *name;
	struct dirent *de;
	char path[PATH_MAX];
	DIR *d;
	int rc;

	if (!revs)
		return -ENOMEM;
	d = opendir(dir);
	if (!d) {
		rc = -errno;
		pr_err("cannot open %s: %s", dir, strerror(errno));
		free(revs);
		return rc;
	}
	while ((de = readdir(d))) {
		name = de->d_name;
		if (!strcmp(name, ".") || !strcmp(name, "..") ||
		    bsearch(&name, revs, ctx->registry->n, sizeof(*revs), cmp_str))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		rc = husk_code_remove(path);
		if (rc)
			pr_warn("cannot remove leftover %s: %s", path, strerror(-rc));
		else
			pr_info("removed leftover code directory %s", path);
	}
	closedir(d);
	free(revs);
	return 0;
}

static int make_dir(const char *path)
{
	int rc;

	if (!mkdir(path, 0755) || errno == EEXIST)
		return 0;
	rc = -errno;
	pr_err("cannot create %s: %s", path, strerror(errno));
	return rc;
}

static int make_code_root(struct husk_ctx *ctx, char **dir)
{
	int rc;

	if (asprintf(dir, "%s/code", ctx->cfg.run_dir) < 0) {
		*dir = NULL;
		return -ENOMEM;
	}
	rc = make_dir(ctx->cfg.run_dir);
	if (!rc)
		rc = make_dir(*dir);
	return rc;
}

int husk_registry_open(struct husk_ctx *ctx)
{
	struct husk_registry *reg = calloc(1, sizeof(*reg));
	char *dir = NULL;
	int rc;

	if (!reg)
		return -ENOMEM;
	pthread_mutex_init(&reg->change_lock, NULL);
	pthread_rwlock_init(&reg->table_lock, NULL);
	ctx->registry = reg;
	rc = make_code_root(ctx, &dir);
	if (!rc)
		rc = husk_store_foreach(ctx->store, load_one, ctx);
	if (!rc)
		rc = remove_leftovers(ctx, dir);
	free(dir);
	if (rc) {
		husk_registry_close(ctx);
		return rc;
	}
	pr_info("registry: %zu function%s", reg->n, reg->n == 1 ? "" : "s");
	return 0;
}

void husk_registry_close(struct husk_ctx *ctx)
{
	struct husk_registry *reg = ctx->registry;
	size_t i;

	if (!reg)
		return;
	for (i = 0; i < reg->n; i++)
		husk_fn_put(reg->fns[i]);
	free(reg->fns);
	pthread_rwlock_destroy(&reg->table_lock);
	pthread_mutex_destroy(&reg->change_lock);
	free(reg);
	ctx->registry = NULL;
}
