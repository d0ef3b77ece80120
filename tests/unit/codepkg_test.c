// SPDX-License-Identifier: GPL-2.0
/*
 * Unit test of code package extraction (codepkg.c) and of the crypto
 * helpers (crypt.c). Zips are built in memory with libarchive's writer,
 * hostile ones by patching single header fields the writer will not set.
 * One line per case; exit status 1 when any case fails.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "userspace/codepkg.h"
#include "userspace/crypt.h"

#define ZIP_BUF_MAX (32u << 20)
#define MiB (1u << 20)

enum zb_format { ZB_ZIP, ZB_ZIP_GZIP, ZB_TAR };

/* A zip being written into memory. */
struct zb {
	struct archive *a;
	uint8_t *buf;
	size_t used;
};

struct suite {
	char base[64]; /* scratch directory */
	char pkg[96];  /* where packages are extracted */
	int failed;
};

static void __attribute__((noreturn)) die(const char *what, struct archive *a)
{
	printf("not ok - test setup: %s: %s\n", what,
	       a ? archive_error_string(a) : strerror(errno));
	exit(1);
}

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

static void zb_open_format(struct zb *z, enum zb_format fmt)
{
	z->a = archive_write_new();
	z->buf = malloc(ZIP_BUF_MAX);
	z->used = 0;
	if (!z->a || !z->buf)
		die("allocation", NULL);
	if (fmt == ZB_TAR) {
		if (archive_write_set_format_pax_restricted(z->a) != ARCHIVE_OK)
			die("tar format", z->a);
	} else if (archive_write_set_format_zip(z->a) != ARCHIVE_OK) {
		die("zip format", z->a);
	}
	if (fmt == ZB_ZIP_GZIP && archive_write_add_filter_gzip(z->a) != ARCHIVE_OK)
		die("gzip filter", z->a);
	if (archive_write_open_memory(z->a, z->buf, ZIP_BUF_MAX, &z->used) != ARCHIVE_OK)
		die("open memory", z->a);
}

static void zb_open(struct zb *z)
{
	zb_open_format(z, ZB_ZIP);
}

/* Bytes that did not come from the writer. */
static void zb_raw(struct zb *z, const void *data, size_t len)
{
	z->a = NULL;
	z->buf = malloc(len + 1);
	if (!z->buf)
		die("allocation", NULL);
	memcpy(z->buf, data, len);
	z->used = len;
}

static void zb_header(struct zb *z, const char *name, mode_t mode, size_t size, const char *symlink,
		      const char *hardlink)
{
	struct archive_entry *e = archive_entry_new();

	if (!e)
		die("entry", NULL);
	archive_entry_set_pathname(e, name);
	archive_entry_set_mode(e, mode);
	archive_entry_set_size(e, size);
	archive_entry_set_mtime(e, 1700000000, 0);
	if (symlink)
		archive_entry_set_symlink(e, symlink);
	if (hardlink)
		archive_entry_set_hardlink(e, hardlink);
	if (archive_write_header(z->a, e) != ARCHIVE_OK)
		die(name, z->a);
	archive_entry_free(e);
}

static void zb_data(struct zb *z, const void *data, size_t len)
{
	if (len && archive_write_data(z->a, data, len) != (la_ssize_t)len)
		die("write data", z->a);
}

static void zb_file(struct zb *z, const char *name, mode_t perm, const char *text)
{
	zb_header(z, name, AE_IFREG | perm, strlen(text), NULL, NULL);
	zb_data(z, text, strlen(text));
}

/* A highly compressible entry of len zero bytes. */
static void zb_zeros(struct zb *z, const char *name, size_t len)
{
	static const uint8_t zeros[64 << 10];

	zb_header(z, name, AE_IFREG | 0644, len, NULL, NULL);
	while (len) {
		size_t n = len < sizeof(zeros) ? len : sizeof(zeros);

		zb_data(z, zeros, n);
		len -= n;
	}
}

static void zb_dir(struct zb *z, const char *name)
{
	zb_header(z, name, AE_IFDIR | 0755, 0, NULL, NULL);
}

static void zb_link(struct zb *z, const char *name, const char *target)
{
	zb_header(z, name, AE_IFLNK | 0777, 0, target, NULL);
}

static void zb_close(struct zb *z)
{
	if (archive_write_close(z->a) != ARCHIVE_OK)
		die("close", z->a);
	archive_write_free(z->a);
	z->a = NULL;
}

static void zb_free(struct zb *z)
{
	free(z->buf);
	z->buf = NULL;
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static uint16_t le16(const uint8_t *p)
{
	return p[0] | p[1] << 8;
}

/*
 * The header of entry name: the central directory's ("PK\1\2", name at
 * offset 46) or the local one ("PK\3\4", name at offset 30).
 */
static uint8_t *zip_find(struct zb *z, bool central, const char *name)
{
	const char *sig = central ? "PK\1\2" : "PK\3\4";
	size_t name_off = central ? 46 : 30, len_off = central ? 28 : 26;
	size_t nlen = strlen(name), i;

	for (i = 0; i + name_off + nlen <= z->used; i++) {
		uint8_t *h = z->buf + i;

		if (!memcmp(h, sig, 4) && le16(h + len_off) == nlen &&
		    !memcmp(h + name_off, name, nlen))
			return h;
	}
	printf("not ok - test setup: no %s header for %s\n", central ? "central" : "local", name);
	exit(1);
}

/* Give entry name the Unix file type in mode, which the writer refuses. */
static void zip_set_mode(struct zb *z, const char *name, uint32_t mode)
{
	uint8_t *cd = zip_find(z, true, name);

	if (cd[5] != 3) {
		printf("not ok - test setup: %s not made by Unix\n", name);
		exit(1);
	}
	put_le32(cd + 38, mode << 16);
}

/* Make entry name's headers claim an uncompressed size of claim bytes. */
static void zip_set_size(struct zb *z, const char *name, uint32_t claim)
{
	uint8_t *cd = zip_find(z, true, name), *local = zip_find(z, false, name);

	put_le32(cd + 24, claim);
	if (le32(local + 22))
		put_le32(local + 22, claim);
}

static bool path_exists(const char *path)
{
	struct stat sb;

	return lstat(path, &sb) == 0;
}

/* Any "pkg.tmp.*" left in the scratch directory? */
static bool temp_left(struct suite *s)
{
	struct dirent *d;
	bool found = false;
	DIR *dir = opendir(s->base);

	if (!dir)
		die("opendir", NULL);
	while ((d = readdir(dir)))
		found |= !strncmp(d->d_name, "pkg.tmp.", 8);
	closedir(dir);
	return found;
}

/* Extract z with a byte budget and expect a refusal whose reason has want. */
static void expect_refused_max(struct suite *s, const char *name, struct zb *z, uint64_t max,
			       const char *want)
{
	char err[256], outside[128];
	int ret;

	ret = husk_code_extract_max(z->buf, z->used, s->pkg, max, err, sizeof(err));
	snprintf(outside, sizeof(outside), "%s/x", s->base);
	if (ret >= 0)
		report(s, name, false, "extraction succeeded");
	else if (!strstr(err, want))
		report(s, name, false, "reason '%s' lacks '%s'", err, want);
	else if (path_exists(s->pkg) || temp_left(s))
		report(s, name, false, "left a directory behind (%s)", err);
	else if (path_exists(outside) || path_exists("/etc/x"))
		report(s, name, false, "wrote outside the package");
	else if (strchr(err, '\n'))
		report(s, name, false, "reason has more than one line: %s", err);
	else
		report(s, name, true, "%s (%d)", err, ret);
	husk_code_remove(s->pkg);
	zb_free(z);
}

static void expect_refused(struct suite *s, const char *name, struct zb *z, const char *want)
{
	expect_refused_max(s, name, z, HUSK_CODE_UNZIPPED_MAX, want);
}

static bool extract_ok(struct suite *s, const char *name, struct zb *z, uint64_t max)
{
	char err[256];
	int ret;

	ret = husk_code_extract_max(z->buf, z->used, s->pkg, max, err, sizeof(err));
	zb_free(z);
	if (ret) {
		report(s, name, false, "extraction failed: %s (%d)", err, ret);
		return false;
	}
	return true;
}

/* Mode, type and (for files) content of one extracted path. */
static const char *check_path(struct suite *s, const char *rel, mode_t want_mode,
			      const char *want_text)
{
	static char why[640];
	char path[256], buf[256];
	struct stat sb;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", s->pkg, rel);
	if (lstat(path, &sb))
		return snprintf(why, sizeof(why), "%s: %s", rel, strerror(errno)), why;
	if ((sb.st_mode & (S_IFMT | 07777)) != want_mode)
		return snprintf(why, sizeof(why), "%s: mode %06o, want %06o", rel, sb.st_mode,
				want_mode),
		       why;
	if (sb.st_uid != geteuid())
		return snprintf(why, sizeof(why), "%s: owner %u", rel, sb.st_uid), why;
	if (!want_text)
		return NULL;
	fd = open(path, O_RDONLY | O_NOFOLLOW);
	n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	if (n < 0 || (size_t)n != strlen(want_text) || memcmp(buf, want_text, n))
		return snprintf(why, sizeof(why), "%s: wrong content", rel), why;
	return NULL;
}

static const char *check_link(struct suite *s, const char *rel, const char *want)
{
	static char why[640];
	char path[256], buf[256];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", s->pkg, rel);
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n < 0)
		return snprintf(why, sizeof(why), "%s: %s", rel, strerror(errno)), why;
	buf[n] = '\0';
	if (strcmp(buf, want))
		return snprintf(why, sizeof(why), "%s -> %s, want %s", rel, buf, want), why;
	return NULL;
}

static void test_good_package(struct suite *s)
{
	const char *why = NULL;
	struct zb z;

	zb_open(&z);
	zb_file(&z, "bootstrap", 0755, "#!/bin/sh\nexec ./lib/deep/run.sh\n");
	zb_dir(&z, "lib/");
	zb_file(&z, "lib/deep/mod.py", 0664, "print('hi')\n");
	zb_file(&z, "lib/deep/run.sh", 0700, "#!/bin/sh\n");
	zb_file(&z, "./lib/plain.txt", 04744, "setuid bit dropped, x kept\n");
	zb_link(&z, "current", "lib/deep");
	zb_link(&z, "lib/deep/up", "../../bootstrap");
	zb_link(&z, "lib/dangling", "nothing/here");
	zb_dir(&z, "lib/deep/");
	zb_close(&z);
	if (!extract_ok(s, "good package", &z, HUSK_CODE_UNZIPPED_MAX))
		return;
	/* umask 077 is in force: every mode below had to be set explicitly. */
	why = check_path(s, "", S_IFDIR | 0755, NULL);
	if (!why)
		why = check_path(s, "bootstrap", S_IFREG | 0755,
				 "#!/bin/sh\nexec ./lib/deep/run.sh\n");
	if (!why)
		why = check_path(s, "lib", S_IFDIR | 0755, NULL);
	if (!why)
		why = check_path(s, "lib/deep", S_IFDIR | 0755, NULL);
	if (!why)
		why = check_path(s, "lib/deep/mod.py", S_IFREG | 0644, "print('hi')\n");
	if (!why)
		why = check_path(s, "lib/deep/run.sh", S_IFREG | 0755, "#!/bin/sh\n");
	if (!why)
		why =
		    check_path(s, "lib/plain.txt", S_IFREG | 0755, "setuid bit dropped, x kept\n");
	if (!why)
		why = check_link(s, "current", "lib/deep");
	if (!why)
		why = check_link(s, "lib/deep/up", "../../bootstrap");
	if (!why)
		why = check_link(s, "lib/dangling", "nothing/here");
	if (!why && temp_left(s))
		why = "temporary directory left behind";
	report(s, "good package: modes, content, links", !why, "%s", why ? why : "as built");

	zb_open(&z);
	zb_file(&z, "other", 0644, "x");
	zb_close(&z);
	{
		char err[256];
		int ret = husk_code_extract(z.buf, z.used, s->pkg, err, sizeof(err));

		report(s, "existing directory refused", ret == -EEXIST, "%s (%d)", err, ret);
		zb_free(&z);
	}
}

static void test_remove(struct suite *s)
{
	char victim[128], link[160];
	int ret;

	/* The package from test_good_package is still there; add a link out. */
	snprintf(victim, sizeof(victim), "%s/victim", s->base);
	snprintf(link, sizeof(link), "%s/out", s->pkg);
	if (mkdir(victim, 0700) || symlink(victim, link))
		die("remove setup", NULL);
	ret = husk_code_remove(s->pkg);
	report(s, "remove: whole tree, links not followed",
	       !ret && !path_exists(s->pkg) && path_exists(victim), "ret %d", ret);
	rmdir(victim);
	ret = husk_code_remove(s->pkg);
	report(s, "remove: missing directory", ret == -ENOENT, "ret %d", ret);
}

static void test_paths(struct suite *s)
{
	struct zb z;

	zb_open(&z);
	zb_file(&z, "ok", 0644, "fine");
	zb_file(&z, "../x", 0644, "evil");
	zb_close(&z);
	expect_refused(s, "traversal ../x", &z, "escapes the package");

	zb_open(&z);
	zb_file(&z, "a/../../x", 0644, "evil");
	zb_close(&z);
	expect_refused(s, "traversal a/../../x", &z, "escapes the package");

	zb_open(&z);
	zb_file(&z, "a/b/../c", 0644, "inner .. refused too");
	zb_close(&z);
	expect_refused(s, "inner a/b/../c", &z, "escapes the package");

	zb_open(&z);
	zb_file(&z, "/etc/x", 0644, "evil");
	zb_close(&z);
	expect_refused(s, "absolute /etc/x", &z, "absolute path");

	zb_open(&z);
	zb_file(&z, "a\nb", 0644, "odd");
	zb_close(&z);
	expect_refused(s, "control character in name", &z, "control character");

	zb_open(&z);
	zb_file(&z, "a//b", 0644, "odd");
	zb_close(&z);
	expect_refused(s, "empty path component", &z, "empty path component");

	zb_open(&z);
	zb_file(&z, ".", 0644, "odd");
	zb_close(&z);
	expect_refused(s, "name with no component", &z, "has an empty name");

	zb_open(&z);
	zb_file(&z, "twice", 0644, "one");
	zb_file(&z, "twice", 0644, "two");
	zb_close(&z);
	expect_refused(s, "duplicate file", &z, "would replace an earlier entry");

	zb_open(&z);
	zb_file(&z, "f", 0644, "a file");
	zb_file(&z, "f/g", 0644, "below a file");
	zb_close(&z);
	expect_refused(s, "file below a file", &z, "goes through a file");
}

static void test_links(struct suite *s)
{
	struct zb z;

	zb_open(&z);
	zb_link(&z, "passwd", "/etc/passwd");
	zb_close(&z);
	expect_refused(s, "symlink to /etc/passwd", &z, "absolute path");

	zb_open(&z);
	zb_link(&z, "a", "../../");
	zb_close(&z);
	expect_refused(s, "symlink a -> ../../", &z, "leaves the package");

	zb_open(&z);
	zb_link(&z, "d/l", "../../etc");
	zb_close(&z);
	expect_refused(s, "symlink d/l -> ../../etc", &z, "leaves the package");

	zb_open(&z);
	zb_link(&z, "link", ".");
	zb_file(&z, "link/x", 0644, "through the link");
	zb_close(&z);
	expect_refused(s, "file through symlink to .", &z, "goes through a symbolic link");

	zb_open(&z);
	zb_dir(&z, "sub/");
	zb_link(&z, "link", "sub");
	zb_file(&z, "link/deeper/x", 0644, "through the link");
	zb_close(&z);
	expect_refused(s, "file through symlink to sub", &z, "goes through a symbolic link");

	zb_open(&z);
	zb_link(&z, "f", "target");
	zb_file(&z, "f", 0644, "replaces the link");
	zb_close(&z);
	expect_refused(s, "file replacing a symlink", &z, "would replace an earlier entry");

	zb_open(&z);
	zb_link(&z, "f", "target");
	zb_dir(&z, "f/");
	zb_close(&z);
	expect_refused(s, "directory replacing a symlink", &z, "would replace an earlier entry");

	zb_open(&z);
	zb_link(&z, "f", "one");
	zb_link(&z, "f", "two");
	zb_close(&z);
	expect_refused(s, "symlink replacing a symlink", &z, "would replace an earlier entry");

	/* Each link alone stays inside; followed together they climb out. */
	zb_open(&z);
	zb_dir(&z, "a/");
	zb_link(&z, "b", "a/l1/../..");
	zb_link(&z, "a/l1", ".");
	zb_close(&z);
	expect_refused(s, "chain of links out of the package", &z, "'..' after a name");

	/* Leading ".." within the depth, then names: in-tree, accepted. */
	zb_open(&z);
	zb_dir(&z, "a/b/");
	zb_file(&z, "a/target", 0644, "t");
	zb_link(&z, "a/b/up", "../../a/./target");
	zb_link(&z, "a/b/self", "./../b");
	zb_close(&z);
	if (extract_ok(s, "links with leading ..", &z, HUSK_CODE_UNZIPPED_MAX)) {
		const char *why = check_link(s, "a/b/up", "../../a/./target");

		report(s, "links with leading .. accepted", !why, "%s", why ? why : "in tree");
	}
	husk_code_remove(s->pkg);
}

static void test_types(struct suite *s)
{
	char err[256], path[160];
	struct stat sb;
	struct zb z;
	int ret;

	zb_open(&z);
	zb_file(&z, "dev", 0640, "");
	zb_close(&z);
	zip_set_mode(&z, "dev", S_IFCHR | 0640);
	expect_refused(s, "character device entry", &z, "device file");

	zb_open(&z);
	zb_file(&z, "blk", 0640, "");
	zb_close(&z);
	zip_set_mode(&z, "blk", S_IFBLK | 0640);
	expect_refused(s, "block device entry", &z, "device file");

	zb_open(&z);
	zb_file(&z, "sock", 0640, "");
	zb_close(&z);
	zip_set_mode(&z, "sock", S_IFSOCK | 0640);
	expect_refused(s, "socket entry", &z, "socket");

	/* libarchive reads a FIFO mode as a regular file (an Info-ZIP quirk). */
	zb_open(&z);
	zb_file(&z, "fifo", 0640, "");
	zb_close(&z);
	zip_set_mode(&z, "fifo", S_IFIFO | 0640);
	ret = husk_code_extract(z.buf, z.used, s->pkg, err, sizeof(err));
	snprintf(path, sizeof(path), "%s/fifo", s->pkg);
	report(s, "fifo entry never becomes a FIFO",
	       (ret < 0 && !path_exists(s->pkg)) ||
		   (!ret && !lstat(path, &sb) && S_ISREG(sb.st_mode)),
	       "%s", ret ? err : "extracted as a regular file");
	husk_code_remove(s->pkg);
	zb_free(&z);

	/* The writer drops the link; whatever arrives must not alias a file. */
	zb_open(&z);
	zb_header(&z, "hard", AE_IFREG | 0644, 0, NULL, "/etc/passwd");
	zb_close(&z);
	ret = husk_code_extract(z.buf, z.used, s->pkg, err, sizeof(err));
	snprintf(path, sizeof(path), "%s/hard", s->pkg);
	{
		struct stat passwd;
		bool ok = ret < 0 ? !path_exists(s->pkg)
				  : !lstat(path, &sb) && S_ISREG(sb.st_mode) && sb.st_nlink == 1 &&
					sb.st_size == 0 && !stat("/etc/passwd", &passwd) &&
					passwd.st_ino != sb.st_ino;

		report(s, "hard link entry never links", ok, "%s",
		       ret ? err : "zip has no hard links: extracted as an empty file");
	}
	husk_code_remove(s->pkg);
	zb_free(&z);
}

static void test_limits(struct suite *s)
{
	struct zb z;

	zb_open(&z);
	zb_zeros(&z, "bomb", 4 * MiB);
	zb_close(&z);
	if (extract_ok(s, "bomb under a 5 MiB budget", &z, 5 * MiB))
		report(s, "4 MiB entry under a 5 MiB budget", true, NULL);
	husk_code_remove(s->pkg);

	zb_open(&z);
	zb_zeros(&z, "bomb", 4 * MiB);
	zb_close(&z);
	printf("# bomb: %zu bytes of zip for %u bytes unzipped\n", z.used, 4 * MiB);
	expect_refused_max(s, "zip bomb over a 1 MiB budget", &z, MiB, "past 1048576 bytes");

	zb_open(&z);
	zb_zeros(&z, "a", 600 << 10);
	zb_zeros(&z, "b", 600 << 10);
	zb_close(&z);
	expect_refused_max(s, "budget counts all files", &z, MiB, "'b' takes the package past");

	/* Headers that lie: the budget is charged with the bytes written. */
	zb_open(&z);
	zb_zeros(&z, "liar", 4 * MiB);
	zb_close(&z);
	zip_set_size(&z, "liar", 100);
	expect_refused_max(s, "entry whose header claims 100 bytes", &z, MiB,
			   "'liar' takes the package past 1048576 bytes");
}

static void test_entry_count(struct suite *s)
{
	char name[32];
	struct zb z;
	int i;

	/* Repeated directory entries: cheap to extract, each one counted. */
	zb_open(&z);
	for (i = 0; i <= HUSK_CODE_ENTRIES_MAX; i++) {
		snprintf(name, sizeof(name), "d%d/", i % 10);
		zb_dir(&z, name);
	}
	zb_close(&z);
	expect_refused(s, "more than HUSK_CODE_ENTRIES_MAX entries", &z,
		       "more than 100000 entries");
}

static void test_not_zip(struct suite *s)
{
	static const char garbage[] = "this is not a zip file, just some text\n";
	struct zb z;

	zb_raw(&z, garbage, sizeof(garbage));
	expect_refused(s, "not a zip", &z, "could not unzip uploaded file: ");

	zb_raw(&z, "", 0);
	expect_refused(s, "zero bytes", &z, "could not unzip uploaded file: ");

	zb_open(&z);
	zb_close(&z);
	expect_refused(s, "empty zip", &z, "could not unzip uploaded file: ");

	zb_open_format(&z, ZB_TAR);
	zb_file(&z, "bootstrap", 0755, "tar, not zip");
	zb_close(&z);
	expect_refused(s, "tar archive", &z, "could not unzip uploaded file: ");

	zb_open_format(&z, ZB_ZIP_GZIP);
	zb_file(&z, "bootstrap", 0755, "gzip around zip");
	zb_close(&z);
	expect_refused(s, "gzip-compressed zip", &z, "could not unzip uploaded file: ");

	zb_open(&z);
	zb_file(&z, "bootstrap", 0755, "truncated");
	zb_close(&z);
	z.used /= 2;
	expect_refused(s, "truncated zip", &z, "could not unzip uploaded file: ");
}

/* --- crypt.c --- */

static void test_seal(struct suite *s)
{
	static const size_t lens[] = {0, 1, 15, 16, 17, 4096, 1 << 20};
	uint8_t key[HUSK_KEY_LEN], other[HUSK_KEY_LEN];
	size_t i, k, olen, slen, slen2;
	void *sealed, *sealed2, *opened;
	uint8_t *msg;
	bool ok = true;

	memset(key, 0x11, sizeof(key));
	memset(other, 0x22, sizeof(other));
	msg = malloc(1 << 20);
	if (!msg)
		die("allocation", NULL);
	for (k = 0; k < (1 << 20); k++)
		msg[k] = k * 7 + 3;
	for (i = 0; ok && i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t len = lens[i];

		ok = !husk_seal(key, NULL, 0, msg, len, &sealed, &slen) && slen == len + 28 &&
		     !husk_seal(key, NULL, 0, msg, len, &sealed2, &slen2);
		if (!ok)
			break;
		/* Random nonces: the same message never seals the same way. */
		ok = memcmp(sealed, sealed2, 12) &&
		     !husk_unseal(key, NULL, 0, sealed, slen, &opened, &olen) && olen == len &&
		     !memcmp(opened, msg, len);
		if (ok)
			free(opened);
		if (ok && len >= 16)
			ok = !memmem(sealed, slen, msg, 16); /* no plaintext in the output */
		free(sealed);
		free(sealed2);
	}
	report(s, "seal/unseal round trip", ok, "lengths 0 to 1 MiB");

	if (husk_seal(key, NULL, 0, msg, 1000, &sealed, &slen))
		die("seal", NULL);
	{
		static const size_t at[] = {0, 11, 12, 500, 1011, 1012, 1027};
		int ret, bad = 0;

		for (i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
			((uint8_t *)sealed)[at[i]] ^= 0x01;
			ret = husk_unseal(key, NULL, 0, sealed, slen, &opened, &olen);
			((uint8_t *)sealed)[at[i]] ^= 0x01;
			if (ret != -EBADMSG) {
				bad++;
				if (!ret)
					free(opened);
			}
		}
		report(s, "tampered nonce, ciphertext or tag -> -EBADMSG", !bad,
		       "%d of %zu flips accepted", bad, sizeof(at) / sizeof(at[0]));
		ret = husk_unseal(other, NULL, 0, sealed, slen, &opened, &olen);
		report(s, "wrong key -> -EBADMSG", ret == -EBADMSG, "ret %d", ret);
		ret = husk_unseal(key, NULL, 0, sealed, 27, &opened, &olen);
		report(s, "shorter than nonce and tag -> -EBADMSG", ret == -EBADMSG, "ret %d", ret);
		ret = husk_unseal(key, NULL, 0, sealed, slen - 1, &opened, &olen);
		report(s, "truncated -> -EBADMSG", ret == -EBADMSG, "ret %d", ret);
	}
	free(sealed);

	/* Sealed for one owner (the store uses the function's name), opened as another. */
	if (husk_seal(key, "alpha", 5, msg, 100, &sealed, &slen))
		die("seal", NULL);
	{
		int ret = husk_unseal(key, "alpha", 5, sealed, slen, &opened, &olen);

		report(s, "same additional data opens", !ret && olen == 100 && !memcmp(opened, msg, 100),
		       "ret %d", ret);
		if (!ret)
			free(opened);
		ret = husk_unseal(key, "beta", 4, sealed, slen, &opened, &olen);
		report(s, "other additional data -> -EBADMSG", ret == -EBADMSG, "ret %d", ret);
		ret = husk_unseal(key, NULL, 0, sealed, slen, &opened, &olen);
		report(s, "missing additional data -> -EBADMSG", ret == -EBADMSG, "ret %d", ret);
	}
	free(sealed);
	free(msg);
}

static void test_b64(struct suite *s)
{
	/* RFC 4648, section 10. */
	static const char *const vec[][2] = {
	    {"", ""},
	    {"f", "Zg=="},
	    {"fo", "Zm8="},
	    {"foo", "Zm9v"},
	    {"foob", "Zm9vYg=="},
	    {"fooba", "Zm9vYmE="},
	    {"foobar", "Zm9vYmFy"},
	};
	static const char *const bad[] = {
	    "Zg=",	"Zg",	"Z===", "====", "Zg=a",	    "Zm9v=Zg=",	   "Zm9v\n",	  "Zm 9v",
	    "Zm9v====", "Zh==", "Zm9=", "-_8A", "Zm9vYg=!", "\xc3\xa9Zm9", "Zm9vYmFy===="};
	size_t i, olen;
	void *out;
	char *enc;
	int bad_ok = 0, vec_bad = 0;

	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		enc = husk_b64_encode(vec[i][0], strlen(vec[i][0]));
		if (!enc || strcmp(enc, vec[i][1]))
			vec_bad++;
		free(enc);
		if (husk_b64_decode(vec[i][1], strlen(vec[i][1]), &out, &olen) ||
		    olen != strlen(vec[i][0]) || memcmp(out, vec[i][0], olen)) {
			vec_bad++;
			continue;
		}
		free(out);
	}
	report(s, "base64 RFC 4648 vectors", !vec_bad, "%d mismatches", vec_bad);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = husk_b64_decode(bad[i], strlen(bad[i]), &out, &olen);

		if (ret != -EINVAL) {
			printf("# accepted bad base64 '%s' (ret %d)\n", bad[i], ret);
			bad_ok++;
			if (!ret)
				free(out);
		}
	}
	{
		/* A NUL inside the given length is not base64 either. */
		int ret = husk_b64_decode("Zm\0v", 4, &out, &olen);

		if (ret != -EINVAL) {
			bad_ok++;
			if (!ret)
				free(out);
		}
	}
	report(s, "bad base64 rejected", !bad_ok, "%d accepted", bad_ok);

	{
		size_t n = (5 << 20) + 1, k;
		uint8_t *big = malloc(n);
		bool ok;

		if (!big)
			die("allocation", NULL);
		for (k = 0; k < n; k++)
			big[k] = k ^ (k >> 8);
		enc = husk_b64_encode(big, n);
		ok = enc && strlen(enc) == (n + 2) / 3 * 4 &&
		     !husk_b64_decode(enc, strlen(enc), &out, &olen) && olen == n &&
		     !memcmp(out, big, n);
		if (ok)
			free(out);
		report(s, "base64 round trip of 5 MiB", ok, NULL);
		free(enc);
		free(big);
	}
}

static void test_digest_uuid(struct suite *s)
{
	char digest[48], u1[37], u2[37];
	bool ok = true;
	int i;

	husk_sha256_b64("abc", 3, digest);
	report(s, "sha256_b64(\"abc\")",
	       !strcmp(digest, "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="), "%s", digest);

	husk_uuid4(u1);
	husk_uuid4(u2);
	ok = strlen(u1) == 36 && strcmp(u1, u2);
	for (i = 0; ok && i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			ok = u1[i] == '-';
		else
			ok = strchr("0123456789abcdef", u1[i]) && u1[i];
	}
	ok = ok && u1[14] == '4' && strchr("89ab", u1[19]);
	report(s, "uuid4 format", ok, "%s", u1);
}

int main(void)
{
	struct suite s = {.failed = 0};

	/* Every mode the extractor sets must be set explicitly. */
	umask(077);
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(s.base, sizeof(s.base), "/tmp/husk-codepkg-test.XXXXXX");
	if (!mkdtemp(s.base))
		die("mkdtemp", NULL);
	snprintf(s.pkg, sizeof(s.pkg), "%s/pkg", s.base);

	test_good_package(&s);
	test_remove(&s);
	test_paths(&s);
	test_links(&s);
	test_types(&s);
	test_limits(&s);
	test_entry_count(&s);
	test_not_zip(&s);
	test_seal(&s);
	test_b64(&s);
	test_digest_uuid(&s);

	husk_code_remove(s.base);
	if (s.failed)
		printf("%d case(s) failed\n", s.failed);
	return s.failed ? 1 : 0;
}
