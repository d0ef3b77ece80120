// SPDX-License-Identifier: GPL-2.0
/*
 * The embedded store backend: SQLite in the state directory. Every call is
 * a single SQL statement run in autocommit mode, which SQLite makes one
 * transaction; with WAL and synchronous=FULL the commit is fsync'd before
 * sqlite3_step returns. One connection serves all API threads, serialised
 * by a mutex that also keeps sqlite3_changes() tied to our own statement.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <sqlite3.h>

#include "crypt.h"
#include "log.h"
#include "store.h"

#define STORE_DB_NAME "husk.db"
#define STORE_BUSY_TIMEOUT_MS 5000

enum store_stmt {
	STMT_INSERT,
	STMT_UPDATE_CONFIG,
	STMT_UPDATE_ALL,
	STMT_DELETE,
	STMT_GET_CODE,
	STMT_LIST,
	STMT_COUNT,
};

static const char *const stmt_sql[STMT_COUNT] = {
    [STMT_INSERT] = "INSERT INTO functions (name, config, code, updated_at) "
		    "VALUES (?1, ?2, ?3, ?4)",
    [STMT_UPDATE_CONFIG] = "UPDATE functions SET config = ?2, updated_at = ?4 "
			   "WHERE name = ?1",
    [STMT_UPDATE_ALL] = "UPDATE functions SET config = ?2, code = ?3, updated_at = ?4 "
			"WHERE name = ?1",
    [STMT_DELETE] = "DELETE FROM functions WHERE name = ?1",
    [STMT_GET_CODE] = "SELECT code FROM functions WHERE name = ?1",
    [STMT_LIST] = "SELECT name, config FROM functions ORDER BY name",
};

static const char schema_sql[] = "CREATE TABLE IF NOT EXISTS functions ("
				 "name TEXT PRIMARY KEY, "
				 "config TEXT NOT NULL, "
				 "code BLOB NOT NULL, " /* sealed with husk_seal */
				 "updated_at INTEGER)";

struct husk_store {
	pthread_mutex_t lock;
	sqlite3 *db;
	sqlite3_stmt *stmt[STMT_COUNT];
	uint8_t key[HUSK_KEY_LEN];
};

/* A snapshot of the table for husk_store_foreach. */
struct store_row {
	char *name;
	char *config;
};

static int sqlite_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	case SQLITE_TOOBIG:
		return -EFBIG;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -EUCLEAN;
	default:
		return -EIO;
	}
}

/* Log what SQLite said about a failed call and turn it into an errno. */
static int store_fail(struct husk_store *st, int rc, const char *what)
{
	pr_err("store: %s: %s", what, sqlite3_errmsg(st->db));
	return sqlite_errno(rc);
}

/* Run one statement that returns no rows; the caller holds the lock. */
static int stmt_exec(struct husk_store *st, enum store_stmt id, const char *what)
{
	sqlite3_stmt *s = st->stmt[id];
	int rc = sqlite3_step(s), ret = 0;

	/* A taken name is the caller's conflict, not a store failure to log. */
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		ret = -EEXIST;
	else if (rc != SQLITE_DONE)
		ret = store_fail(st, rc, what);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return ret;
}

static int ensure_state_dir(const char *state_dir)
{
	struct stat sb;

	if (!mkdir(state_dir, 0700))
		return 0;
	if (errno != EEXIST) {
		pr_err("store: cannot create state directory %s: %s", state_dir, strerror(errno));
		return -errno;
	}
	if (stat(state_dir, &sb))
		return -errno;
	if (!S_ISDIR(sb.st_mode)) {
		pr_err("store: state directory %s is not a directory", state_dir);
		return -ENOTDIR;
	}
	return 0;
}

/*
 * Create the database file ourselves so that it is 0600 whatever the umask;
 * SQLite gives its -wal and -shm files the mode of the database file.
 */
static int ensure_db_file(const char *path)
{
	int fd, ret = 0;

	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		pr_err("store: cannot open %s: %s", path, strerror(-ret));
		return ret;
	}
	if (fchmod(fd, 0600)) {
		ret = -errno;
		pr_err("store: cannot make %s mode 0600: %s", path, strerror(-ret));
	}
	close(fd);
	return ret;
}

static int store_exec(struct husk_store *st, const char *sql, const char *what)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return store_fail(st, rc, what);
	return 0;
}

static int set_wal(struct husk_store *st)
{
	sqlite3_stmt *s;
	int rc, ret = 0;

	rc = sqlite3_prepare_v2(st->db, "PRAGMA journal_mode=WAL", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return store_fail(st, rc, "journal_mode=WAL");
	rc = sqlite3_step(s);
	/* The pragma answers with the mode now in force. */
	if (rc != SQLITE_ROW) {
		ret = store_fail(st, rc, "journal_mode=WAL");
	} else {
		const char *mode = (const char *)sqlite3_column_text(s, 0);

		if (!mode || sqlite3_stricmp(mode, "wal")) {
			pr_err("store: journal_mode=WAL refused, database stays in %s mode",
			       mode ? mode : "another");
			ret = -EIO;
		}
	}
	sqlite3_finalize(s);
	return ret;
}

static int store_setup(struct husk_store *st)
{
	int i, rc, ret;

	sqlite3_extended_result_codes(st->db, 1);
	rc = sqlite3_busy_timeout(st->db, STORE_BUSY_TIMEOUT_MS);
	if (rc != SQLITE_OK)
		return store_fail(st, rc, "busy_timeout");
	ret = set_wal(st);
	if (!ret)
		ret = store_exec(st, "PRAGMA synchronous=FULL", "synchronous=FULL");
	if (!ret)
		ret = store_exec(st, "PRAGMA foreign_keys=ON", "foreign_keys=ON");
	if (!ret)
		ret = store_exec(st, schema_sql, "create table functions");
	for (i = 0; !ret && i < STMT_COUNT; i++) {
		rc = sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
					&st->stmt[i], NULL);
		if (rc != SQLITE_OK)
			ret = store_fail(st, rc, "prepare statement");
	}
	return ret;
}

int husk_store_open(const char *state_dir, const uint8_t key[32], struct husk_store **out)
{
	struct husk_store *st;
	char path[PATH_MAX];
	int rc, ret;

	if (snprintf(path, sizeof(path), "%s/%s", state_dir, STORE_DB_NAME) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	ret = ensure_state_dir(state_dir);
	if (!ret)
		ret = ensure_db_file(path);
	if (ret)
		return ret;

	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	ret = pthread_mutex_init(&st->lock, NULL);
	if (ret) {
		free(st);
		return -ret;
	}
	memcpy(st->key, key, HUSK_KEY_LEN);
	/* Our mutex serialises every use of the connection: no SQLite mutex. */
	rc = sqlite3_open_v2(path, &st->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
			     NULL);
	if (rc != SQLITE_OK) {
		pr_err("store: cannot open database %s: %s", path,
		       st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
		ret = sqlite_errno(rc);
		husk_store_close(st);
		return ret;
	}
	ret = store_setup(st);
	if (ret) {
		husk_store_close(st);
		return ret;
	}
	*out = st;
	return 0;
}

void husk_store_close(struct husk_store *st)
{
	int i;

	if (!st)
		return;
	for (i = 0; i < STMT_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	/* With every statement finalised, the close cannot be deferred. */
	if (sqlite3_close(st->db) != SQLITE_OK)
		pr_err("store: close: %s", sqlite3_errmsg(st->db));
	pthread_mutex_destroy(&st->lock);
	OPENSSL_cleanse(st->key, sizeof(st->key));
	free(st);
}

static sqlite3_int64 now_seconds(void)
{
	return (sqlite3_int64)time(NULL);
}

/* Bind the parameters shared by insert and both updates; lock held. */
static int bind_function(struct husk_store *st, sqlite3_stmt *s, const char *name,
			 const char *config_json, const void *sealed, size_t sealed_len)
{
	int rc;

	rc = sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(s, 2, config_json, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK && sealed)
		rc = sqlite3_bind_blob64(s, 3, sealed, sealed_len, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 4, now_seconds());
	if (rc != SQLITE_OK) {
		sqlite3_clear_bindings(s);
		return store_fail(st, rc, "bind parameters");
	}
	return 0;
}

/* Insert or update one row; code is sealed outside the lock. */
static int store_write(struct husk_store *st, enum store_stmt id, const char *name,
		       const char *config_json, const void *zip, size_t zip_len)
{
	void *sealed = NULL;
	size_t sealed_len = 0;
	int ret;

	if (!name || !config_json || (id != STMT_UPDATE_CONFIG && !zip && zip_len))
		return -EINVAL;
	if (id != STMT_UPDATE_CONFIG) {
		/* Bound to its function: code swapped between rows fails to unseal. */
		ret = husk_seal(st->key, name, strlen(name), zip, zip_len, &sealed, &sealed_len);
		if (ret) {
			pr_err("store: sealing the code of %s failed: %s", name, strerror(-ret));
			return ret;
		}
	}
	pthread_mutex_lock(&st->lock);
	ret = bind_function(st, st->stmt[id], name, config_json, sealed, sealed_len);
	if (!ret)
		ret = stmt_exec(st, id, id == STMT_INSERT ? "insert function" : "update function");
	if (!ret && id != STMT_INSERT && sqlite3_changes(st->db) == 0)
		ret = -ENOENT;
	pthread_mutex_unlock(&st->lock);
	free(sealed);
	return ret;
}

int husk_store_insert(struct husk_store *st, const char *name, const char *config_json,
		      const void *zip, size_t zip_len)
{
	return store_write(st, STMT_INSERT, name, config_json, zip, zip_len);
}

int husk_store_update(struct husk_store *st, const char *name, const char *config_json,
		      const void *zip, size_t zip_len)
{
	return store_write(st, zip ? STMT_UPDATE_ALL : STMT_UPDATE_CONFIG, name, config_json, zip,
			   zip_len);
}

int husk_store_delete(struct husk_store *st, const char *name)
{
	sqlite3_stmt *s = st->stmt[STMT_DELETE];
	int rc, ret;

	pthread_mutex_lock(&st->lock);
	rc = sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if (rc != SQLITE_OK)
		ret = store_fail(st, rc, "bind parameters");
	else
		ret = stmt_exec(st, STMT_DELETE, "delete function");
	if (!ret && sqlite3_changes(st->db) == 0)
		ret = -ENOENT;
	pthread_mutex_unlock(&st->lock);
	return ret;
}

int husk_store_get_code(struct husk_store *st, const char *name, void **zip, size_t *zip_len)
{
	sqlite3_stmt *s = st->stmt[STMT_GET_CODE];
	int rc, ret;

	pthread_mutex_lock(&st->lock);
	rc = sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if (rc != SQLITE_OK) {
		ret = store_fail(st, rc, "bind parameters");
		goto out;
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		ret = -ENOENT;
	} else if (rc != SQLITE_ROW) {
		ret = store_fail(st, rc, "read code");
	} else {
		/* The blob is valid until the reset below. */
		const void *blob = sqlite3_column_blob(s, 0);
		size_t blob_len = sqlite3_column_bytes(s, 0);

		ret = husk_unseal(st->key, name, strlen(name), blob, blob_len, zip, zip_len);
		if (ret == -EBADMSG)
			pr_err("store: code of %s fails its authentication tag: modified, "
			       "sealed under another key, or moved from another function",
			       name);
	}
out:
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	pthread_mutex_unlock(&st->lock);
	return ret;
}

static void rows_free(struct store_row *rows, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(rows[i].name);
		free(rows[i].config);
	}
	free(rows);
}

static int rows_append(struct store_row **rows, size_t *n, size_t *cap, sqlite3_stmt *s)
{
	const char *name, *config;
	struct store_row *row;

	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct store_row *grown = realloc(*rows, ncap * sizeof(**rows));

		if (!grown)
			return -ENOMEM;
		*rows = grown;
		*cap = ncap;
	}
	name = (const char *)sqlite3_column_text(s, 0);
	config = (const char *)sqlite3_column_text(s, 1);
	if (!name || !config) /* NULL columns: SQLite ran out of memory */
		return -ENOMEM;
	row = &(*rows)[*n];
	row->name = strdup(name);
	row->config = strdup(config);
	if (!row->name || !row->config) {
		free(row->name);
		free(row->config);
		return -ENOMEM;
	}
	(*n)++;
	return 0;
}

/* Read every (name, config) in name order in one read transaction. */
static int store_snapshot(struct husk_store *st, struct store_row **rows, size_t *n)
{
	sqlite3_stmt *s = st->stmt[STMT_LIST];
	size_t cap = 0;
	int rc, ret = 0;

	*rows = NULL;
	*n = 0;
	pthread_mutex_lock(&st->lock);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		ret = rows_append(rows, n, &cap, s);
		if (ret)
			break;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = store_fail(st, rc, "list functions");
	sqlite3_reset(s);
	pthread_mutex_unlock(&st->lock);
	if (ret) {
		rows_free(*rows, *n);
		*rows = NULL;
		*n = 0;
	}
	return ret;
}

/*
 * fn runs without the lock held and after the read transaction ended, so
 * it may call back into the store (the registry fetches code while it
 * loads functions).
 */
int husk_store_foreach(struct husk_store *st,
		       int (*fn)(void *arg, const char *name, const char *config_json), void *arg)
{
	struct store_row *rows;
	size_t n, i;
	int ret;

	ret = store_snapshot(st, &rows, &n);
	for (i = 0; !ret && i < n; i++)
		ret = fn(arg, rows[i].name, rows[i].config);
	rows_free(rows, n);
	return ret;
}
