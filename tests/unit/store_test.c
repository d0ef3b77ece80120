// SPDX-License-Identifier: GPL-2.0
/*
 * Unit test of the SQLite store (store.c) and of key files (crypt.c), in a
 * scratch directory below /tmp. One line per case; exit status 1 when any
 * case fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "userspace/crypt.h"
#include "userspace/store.h"

/* Appears in every code package, never in the configs. */
#define CODE_MARKER "HUSK-CODE-MARKER-5f0e1d"
/* Appears in every config: configs are stored in clear, as a control. */
#define CONFIG_MARKER "husk-config-marker-a9c4"

#define THREADS 4
#define PER_THREAD 40

struct suite {
	char base[64];
	char state[96];
	int failed;
};

/* What a foreach walk saw. */
struct walk {
	char names[4096];
	char configs[16384];
	int calls;
	int stop_at;	       /* return 7 on this call, 0 for never */
	struct husk_store *st; /* fetch each function's code from the callback */
	int code_errors;
};

static void __attribute__((format(printf, 4, 5)))
report(struct suite *s, const char *name, bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s - %s", ok ? "ok" : "not ok", name);
	if (fmt) {
		printf(": ");
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
	}
	printf("\n");
	if (!ok)
		s->failed++;
}

static void __attribute__((noreturn)) die(const char *what, int err)
{
	printf("not ok - test setup: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

/* Append "item," to buf while it fits; a walk that overflows fails its checks. */
static void append(char *buf, size_t size, const char *item)
{
	size_t used = strlen(buf);

	if (used + strlen(item) + 2 <= size) {
		strcpy(buf + used, item);
		strcat(buf, ",");
	}
}

static int walk_fn(void *arg, const char *name, const char *config_json)
{
	struct walk *w = arg;

	w->calls++;
	append(w->names, sizeof(w->names), name);
	append(w->configs, sizeof(w->configs), config_json);
	if (w->st) {
		void *zip;
		size_t len;

		if (husk_store_get_code(w->st, name, &zip, &len))
			w->code_errors++;
		else
			free(zip);
	}
	return w->calls == w->stop_at ? 7 : 0;
}

static void walk(struct husk_store *st, struct walk *w)
{
	memset(w, 0, sizeof(*w));
	if (husk_store_foreach(st, walk_fn, w))
		die("foreach", EIO);
}

static char *code_of(const char *name, size_t *len)
{
	char *buf;
	int n = asprintf(&buf, "PK\3\4 fake zip of %s " CODE_MARKER " end", name);

	if (n < 0)
		die("asprintf", ENOMEM);
	*len = n;
	return buf;
}

static char *config_of(const char *name, int rev)
{
	char *buf;

	if (asprintf(&buf, "{\"FunctionName\":\"%s\",\"Rev\":%d,\"M\":\"" CONFIG_MARKER "\"}", name,
		     rev) < 0)
		die("asprintf", ENOMEM);
	return buf;
}

static int insert(struct husk_store *st, const char *name)
{
	size_t len;
	char *code = code_of(name, &len), *config = config_of(name, 1);
	int ret = husk_store_insert(st, name, config, code, len);

	free(code);
	free(config);
	return ret;
}

static bool code_is(struct husk_store *st, const char *name, const void *want, size_t want_len)
{
	void *zip;
	size_t len;
	bool ok;

	if (husk_store_get_code(st, name, &zip, &len))
		return false;
	ok = len == want_len && !memcmp(zip, want, len);
	free(zip);
	return ok;
}

static mode_t mode_of(const char *path)
{
	struct stat sb;

	return stat(path, &sb) ? (mode_t)-1 : sb.st_mode & 07777;
}

static void test_key(struct suite *s, uint8_t key[HUSK_KEY_LEN])
{
	uint8_t again[HUSK_KEY_LEN], zero[HUSK_KEY_LEN] = {0};
	char path[128], bad[128];
	struct stat sb;
	int ret, fd;

	snprintf(path, sizeof(path), "%s/key", s->base);
	ret = husk_key_load(path, key);
	report(s, "key created",
	       !ret && !stat(path, &sb) && (sb.st_mode & 07777) == 0600 &&
		   sb.st_size == HUSK_KEY_LEN && memcmp(key, zero, HUSK_KEY_LEN),
	       "ret %d, mode %04o", ret, mode_of(path));
	ret = husk_key_load(path, again);
	report(s, "key loaded again", !ret && !memcmp(key, again, HUSK_KEY_LEN), "ret %d", ret);

	chmod(path, 0640);
	ret = husk_key_load(path, again);
	report(s, "key readable by group refused", ret == -EINVAL, "ret %d", ret);
	chmod(path, 0600);

	snprintf(bad, sizeof(bad), "%s/short-key", s->base);
	fd = open(bad, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || write(fd, key, HUSK_KEY_LEN - 1) != HUSK_KEY_LEN - 1)
		die("short key", errno);
	close(fd);
	ret = husk_key_load(bad, again);
	report(s, "key of 31 bytes refused", ret == -EINVAL, "ret %d", ret);
}

static void test_crud(struct suite *s, struct husk_store *st)
{
	size_t len, len2;
	struct walk w;
	char *code, *code2, *config;
	int ret;

	ret = insert(st, "beta");
	if (!ret)
		ret = insert(st, "alpha");
	if (!ret)
		ret = insert(st, "gamma");
	report(s, "insert three functions", !ret, "ret %d", ret);

	code = code_of("alpha", &len);
	report(s, "get code", code_is(st, "alpha", code, len), NULL);
	free(code);

	ret = insert(st, "alpha");
	report(s, "duplicate insert -> -EEXIST", ret == -EEXIST, "ret %d", ret);

	walk(st, &w);
	report(s, "foreach in name order", !strcmp(w.names, "alpha,beta,gamma,"), "%s", w.names);

	memset(&w, 0, sizeof(w));
	w.stop_at = 2;
	ret = husk_store_foreach(st, walk_fn, &w);
	report(s, "foreach stops on non-zero", ret == 7 && w.calls == 2, "ret %d, calls %d", ret,
	       w.calls);

	memset(&w, 0, sizeof(w));
	w.st = st;
	ret = husk_store_foreach(st, walk_fn, &w);
	report(s, "foreach callback may call the store", !ret && w.calls == 3 && !w.code_errors,
	       "ret %d, code errors %d", ret, w.code_errors);

	config = config_of("beta", 2);
	ret = husk_store_update(st, "beta", config, NULL, 0);
	code = code_of("beta", &len);
	walk(st, &w);
	report(s, "update config only",
	       !ret && strstr(w.configs, "\"beta\",\"Rev\":2") && code_is(st, "beta", code, len),
	       "ret %d", ret);
	free(config);

	config = config_of("beta", 3);
	code2 = strdup("PK\3\4 new code " CODE_MARKER);
	len2 = strlen(code2);
	ret = husk_store_update(st, "beta", config, code2, len2);
	walk(st, &w);
	report(s, "update config and code",
	       !ret && strstr(w.configs, "\"beta\",\"Rev\":3") &&
		   code_is(st, "beta", code2, len2) && !code_is(st, "beta", code, len),
	       "ret %d", ret);
	free(config);
	free(code);
	free(code2);

	ret = husk_store_update(st, "nobody", "{}", NULL, 0);
	report(s, "update missing -> -ENOENT", ret == -ENOENT, "ret %d", ret);
	ret = husk_store_update(st, "nobody", "{}", "x", 1);
	report(s, "update code of missing -> -ENOENT", ret == -ENOENT, "ret %d", ret);
	ret = husk_store_delete(st, "nobody");
	report(s, "delete missing -> -ENOENT", ret == -ENOENT, "ret %d", ret);
	{
		void *zip;

		ret = husk_store_get_code(st, "nobody", &zip, &len);
		report(s, "get code of missing -> -ENOENT", ret == -ENOENT, "ret %d", ret);
	}

	ret = husk_store_delete(st, "gamma");
	walk(st, &w);
	report(s, "delete", !ret && !strcmp(w.names, "alpha,beta,"), "ret %d, left %s", ret,
	       w.names);

	ret = husk_store_insert(st, "empty", "{}", NULL, 0);
	report(s, "empty code package", !ret && code_is(st, "empty", "", 0), "ret %d", ret);
	husk_store_delete(st, "empty");
}

struct worker {
	struct husk_store *st;
	int id;
	int errors;
};

static void *worker_fn(void *arg)
{
	struct worker *wk = arg;
	char name[32];
	size_t len;
	char *code;
	int i;

	for (i = 0; i < PER_THREAD; i++) {
		snprintf(name, sizeof(name), "t%d-%03d", wk->id, i);
		code = code_of(name, &len);
		if (insert(wk->st, name) || !code_is(wk->st, name, code, len) ||
		    (i % 2 && husk_store_delete(wk->st, name)))
			wk->errors++;
		free(code);
	}
	return NULL;
}

static void test_threads(struct suite *s, struct husk_store *st)
{
	struct worker wk[THREADS];
	pthread_t tid[THREADS];
	struct walk w;
	int i, errors = 0, ret;

	for (i = 0; i < THREADS; i++) {
		wk[i] = (struct worker){.st = st, .id = i};
		ret = pthread_create(&tid[i], NULL, worker_fn, &wk[i]);
		if (ret)
			die("pthread_create", ret);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(tid[i], NULL);
		errors += wk[i].errors;
	}
	walk(st, &w);
	/* alpha, beta and the even-numbered half of every thread's names. */
	report(s, "threads share one store", !errors && w.calls == 2 + THREADS * PER_THREAD / 2,
	       "%d errors, %d functions", errors, w.calls);
}

static bool file_has(const char *path, const char *needle)
{
	bool found = false;
	struct stat sb;
	char *buf;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return false;
	if (!fstat(fd, &sb) && sb.st_size > 0) {
		buf = malloc(sb.st_size);
		if (buf && read(fd, buf, sb.st_size) == sb.st_size)
			found = memmem(buf, sb.st_size, needle, strlen(needle)) != NULL;
		free(buf);
	}
	close(fd);
	return found;
}

/* Look at the database's bytes while the store is open (WAL in use). */
static void test_at_rest(struct suite *s, const char *when)
{
	char db[160], wal[176], name[128];
	bool code_seen, config_seen;

	snprintf(db, sizeof(db), "%s/husk.db", s->state);
	snprintf(wal, sizeof(wal), "%s-wal", db);
	code_seen = file_has(db, CODE_MARKER) || file_has(wal, CODE_MARKER);
	config_seen = file_has(db, CONFIG_MARKER) || file_has(wal, CONFIG_MARKER);
	snprintf(name, sizeof(name), "code not plaintext at rest (%s)", when);
	/* The config marker proves that the bytes were read at all. */
	report(s, name, !code_seen && config_seen, "code marker %s, config marker %s",
	       code_seen ? "found" : "absent", config_seen ? "found" : "absent");
}

static void test_files(struct suite *s)
{
	char db[160], wal[176];

	snprintf(db, sizeof(db), "%s/husk.db", s->state);
	snprintf(wal, sizeof(wal), "%s-wal", db);
	report(s, "state dir created 0700", mode_of(s->state) == 0700, "%04o", mode_of(s->state));
	report(s, "database file 0600", mode_of(db) == 0600, "%04o", mode_of(db));
	report(s, "WAL file 0600", access(wal, F_OK) || mode_of(wal) == 0600, "%04o", mode_of(wal));
}

static void check_journal_mode(struct suite *s)
{
	char db[160];
	sqlite3 *h;
	sqlite3_stmt *q;
	bool wal = false;

	snprintf(db, sizeof(db), "%s/husk.db", s->state);
	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		die("sqlite3_open", EIO);
	if (sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW)
		wal = !strcmp((const char *)sqlite3_column_text(q, 0), "wal");
	sqlite3_finalize(q);
	sqlite3_close(h);
	report(s, "database in WAL mode", wal, NULL);
}

/* Flip one bit of name's sealed code, behind the store's back. */
static void tamper(struct suite *s, const char *name)
{
	char db[160];
	sqlite3 *h;
	sqlite3_stmt *q;
	uint8_t *blob = NULL;
	int len = 0;

	snprintf(db, sizeof(db), "%s/husk.db", s->state);
	if (sqlite3_open(db, &h) != SQLITE_OK)
		die("sqlite3_open", EIO);
	sqlite3_busy_timeout(h, 5000);
	if (sqlite3_prepare_v2(h, "SELECT code FROM functions WHERE name = ?1", -1, &q, NULL) ||
	    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC) || sqlite3_step(q) != SQLITE_ROW)
		die(sqlite3_errmsg(h), EIO);
	len = sqlite3_column_bytes(q, 0);
	blob = malloc(len);
	if (!blob)
		die("malloc", ENOMEM);
	memcpy(blob, sqlite3_column_blob(q, 0), len);
	sqlite3_finalize(q);
	blob[len / 2] ^= 0x04;
	if (sqlite3_prepare_v2(h, "UPDATE functions SET code = ?2 WHERE name = ?1", -1, &q, NULL) ||
	    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC) ||
	    sqlite3_bind_blob(q, 2, blob, len, SQLITE_STATIC) || sqlite3_step(q) != SQLITE_DONE)
		die(sqlite3_errmsg(h), EIO);
	sqlite3_finalize(q);
	sqlite3_close(h);
	free(blob);
}

/* Give function to the sealed code of function from, as someone with the db file could. */
static void swap_code(struct suite *s, const char *from, const char *to)
{
	char db[160];
	sqlite3 *h;
	sqlite3_stmt *q;

	snprintf(db, sizeof(db), "%s/husk.db", s->state);
	if (sqlite3_open(db, &h) != SQLITE_OK)
		die("sqlite3_open", EIO);
	sqlite3_busy_timeout(h, 5000);
	if (sqlite3_prepare_v2(h,
			       "UPDATE functions SET code = (SELECT code FROM functions WHERE "
			       "name = ?1) WHERE name = ?2",
			       -1, &q, NULL) ||
	    sqlite3_bind_text(q, 1, from, -1, SQLITE_STATIC) ||
	    sqlite3_bind_text(q, 2, to, -1, SQLITE_STATIC) || sqlite3_step(q) != SQLITE_DONE ||
	    sqlite3_changes(h) != 1)
		die(sqlite3_errmsg(h), EIO);
	sqlite3_finalize(q);
	sqlite3_close(h);
}

static int remove_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	return remove(path) ? -errno : 0;
}

int main(void)
{
	struct suite s = {.failed = 0};
	uint8_t key[HUSK_KEY_LEN], other[HUSK_KEY_LEN];
	struct husk_store *st;
	struct walk w;
	void *zip;
	size_t len;
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(s.base, sizeof(s.base), "/tmp/husk-store-test.XXXXXX");
	if (!mkdtemp(s.base))
		die("mkdtemp", errno);
	snprintf(s.state, sizeof(s.state), "%s/state", s.base);

	test_key(&s, key);

	ret = husk_store_open(s.state, key, &st);
	if (ret)
		die("husk_store_open", ret);
	test_files(&s);
	test_crud(&s, st);
	test_threads(&s, st);
	test_at_rest(&s, "store open");
	husk_store_close(st);
	test_at_rest(&s, "store closed");
	check_journal_mode(&s);

	ret = husk_store_open(s.state, key, &st);
	if (ret)
		die("husk_store_open again", ret);
	walk(st, &w);
	report(&s, "reopen: functions persist",
	       w.calls == 2 + THREADS * PER_THREAD / 2 && !strncmp(w.names, "alpha,beta,", 11) &&
		   strstr(w.configs, "\"beta\",\"Rev\":3"),
	       "%d functions", w.calls);
	{
		size_t clen;
		char *code = code_of("alpha", &clen);

		report(&s, "reopen: code intact", code_is(st, "alpha", code, clen), NULL);
		free(code);
	}

	tamper(&s, "alpha");
	ret = husk_store_get_code(st, "alpha", &zip, &len);
	report(&s, "tampered code -> -EBADMSG", ret == -EBADMSG, "ret %d", ret);
	if (!ret)
		free(zip);

	ret = insert(st, "delta");
	if (ret)
		die("insert delta", ret);
	swap_code(&s, "beta", "delta");
	ret = husk_store_get_code(st, "delta", &zip, &len);
	report(&s, "code moved to another function -> -EBADMSG", ret == -EBADMSG, "ret %d", ret);
	if (!ret)
		free(zip);
	husk_store_close(st);

	memset(other, 0x5a, sizeof(other));
	ret = husk_store_open(s.state, other, &st);
	if (ret)
		die("husk_store_open with another key", ret);
	ret = husk_store_get_code(st, "beta", &zip, &len);
	report(&s, "another key -> -EBADMSG", ret == -EBADMSG, "ret %d", ret);
	if (!ret)
		free(zip);
	husk_store_close(st);

	nftw(s.base, remove_entry, 16, FTW_PHYS | FTW_DEPTH);
	report(&s, "scratch directory removed", access(s.base, F_OK) != 0, "%s", s.base);
	if (s.failed)
		printf("%d case(s) failed\n", s.failed);
	return s.failed ? 1 : 0;
}
