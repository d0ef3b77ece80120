// SPDX-License-Identifier: GPL-2.0
/*
 * Code package extraction. libarchive reads the zip; we do the writing
 * ourselves, relative to a directory fd and without following any symbolic
 * link, so that no entry can place a file outside the package, not even
 * through a link an earlier entry created.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "codepkg.h"

/* How much of a hostile entry name goes into an error message. */
#define SHOWN_NAME_MAX 160

struct extract {
	struct archive *a;
	int root;	  /* the temporary directory being filled */
	uint64_t written; /* bytes written so far, all files */
	uint64_t max_bytes;
	unsigned long entries;
	char *err;
	size_t errlen;
};

static int __attribute__((format(printf, 3, 4)))
fail(struct extract *x, int ret, const char *fmt, ...)
{
	va_list ap;

	if (x->errlen) {
		va_start(ap, fmt);
		vsnprintf(x->err, x->errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

/* Names come from the uploader: keep them to one printable line. */
static void show_name(const char *name, char *out, size_t outlen)
{
	size_t i;

	for (i = 0; name[i] && i + 4 < outlen && i < SHOWN_NAME_MAX; i++) {
		unsigned char c = name[i];

		out[i] = c < 0x20 || c == 0x7f ? '?' : c;
	}
	if (name[i]) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
}

static int entry_fail(struct extract *x, int ret, const char *name, const char *why)
{
	char shown[SHOWN_NAME_MAX + 4];

	show_name(name, shown, sizeof(shown));
	return fail(x, ret, "zip entry '%s' %s", shown, why);
}

/* libarchive's reason, on one line: some of its messages end in '\n'. */
static void archive_reason(struct extract *x, char *out, size_t outlen)
{
	const char *why = archive_error_string(x->a);
	size_t i;

	snprintf(out, outlen, "%s", why ? why : "libarchive gave no reason");
	for (i = 0; out[i]; i++) {
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			out[i] = ' ';
	}
	while (i && out[i - 1] == ' ')
		out[--i] = '\0';
}

static int unzip_fail(struct extract *x)
{
	char why[256];

	archive_reason(x, why, sizeof(why));
	return fail(x, -EINVAL, "could not unzip uploaded file: %s", why);
}

static int unzip_entry_fail(struct extract *x, const char *name)
{
	char shown[SHOWN_NAME_MAX + 4], why[256];

	show_name(name, shown, sizeof(shown));
	archive_reason(x, why, sizeof(why));
	return fail(x, -EINVAL, "could not unzip uploaded file: zip entry '%s': %s", shown, why);
}

/*
 * Turn an entry name into a clean package-relative path in out: no
 * absolute path, no "..", no empty or "." components, nothing that is not
 * printable. *depth is the number of components. A directory's trailing
 * '/' is dropped; "" means the package root itself.
 */
static int entry_path(struct extract *x, const char *name, char out[PATH_MAX], unsigned *depth)
{
	const char *p = name, *end = name + strlen(name);
	size_t used = 0;

	*depth = 0;
	if (!*name)
		return fail(x, -EINVAL, "zip entry with an empty name");
	if (*name == '/')
		return entry_fail(x, -EINVAL, name, "has an absolute path");
	if (end - name >= PATH_MAX)
		return entry_fail(x, -ENAMETOOLONG, name, "has a name longer than PATH_MAX");
	for (const char *c = name; *c; c++) {
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return entry_fail(x, -EINVAL, name, "has a control character in its name");
	}
	if (end[-1] == '/')
		end--; /* libarchive marks every directory so */
	while (p < end) {
		const char *slash = memchr(p, '/', end - p);
		size_t n = (slash ? slash : end) - p;

		if (n == 0)
			return entry_fail(x, -EINVAL, name, "has an empty path component");
		if (n == 2 && !memcmp(p, "..", 2))
			return entry_fail(x, -EINVAL, name, "escapes the package");
		if (n > NAME_MAX)
			return entry_fail(x, -ENAMETOOLONG, name,
					  "has a path component longer than NAME_MAX");
		if (!(n == 1 && *p == '.')) {
			if (used)
				out[used++] = '/';
			memcpy(out + used, p, n);
			used += n;
			(*depth)++;
		}
		p += n + 1;
	}
	/* Never longer than name, which is shorter than PATH_MAX. */
	out[used] = '\0';
	return 0;
}

/* Explain why openat(O_DIRECTORY | O_NOFOLLOW) of comp below dirfd failed. */
static int walk_fail(struct extract *x, const char *name, int dirfd, const char *comp, int err)
{
	struct stat sb;

	if (fstatat(dirfd, comp, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISLNK(sb.st_mode))
			return entry_fail(x, -EINVAL, name, "goes through a symbolic link");
		if (!S_ISDIR(sb.st_mode))
			return entry_fail(x, -EINVAL, name,
					  "goes through a file that an earlier entry made");
	}
	return fail(x, -err, "zip entry '%s': cannot open a directory on its path: %s", name,
		    strerror(err));
}

/* Open a directory on an entry's path; chmod it when this entry made it. */
static int open_subdir(struct extract *x, const char *name, int dirfd, const char *comp, bool made)
{
	int fd = openat(dirfd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return walk_fail(x, name, dirfd, comp, errno);
	/* Exact mode whatever huskd's umask. */
	if (made && fchmod(fd, 0755)) {
		int err = errno;

		close(fd);
		return fail(x, -err, "zip entry '%s': chmod failed: %s", name, strerror(err));
	}
	return fd;
}

/*
 * Open (making it if needed) the directory that will hold the last
 * component of path, never following a link. path is cut in place: on
 * return *leaf points to its last component. Returns a directory fd.
 */
static int open_parent(struct extract *x, const char *name, char *path, char **leaf)
{
	char *comp = path, *slash;
	int dirfd = x->root;

	while ((slash = strchr(comp, '/'))) {
		bool made;
		int fd;

		*slash = '\0';
		made = mkdirat(dirfd, comp, 0755) == 0;
		if (!made && errno != EEXIST)
			fd = fail(x, -errno, "zip entry '%s': cannot make directory '%s': %s", name,
				  comp, strerror(errno));
		else
			fd = open_subdir(x, name, dirfd, comp, made);
		if (dirfd != x->root)
			close(dirfd);
		if (fd < 0)
			return fd;
		dirfd = fd;
		comp = slash + 1;
	}
	*leaf = comp;
	return dirfd;
}

static int make_dir(struct extract *x, const char *name, int dirfd, const char *leaf)
{
	struct stat sb;
	int fd, ret = 0;

	if (mkdirat(dirfd, leaf, 0755)) {
		if (errno != EEXIST)
			return fail(x, -errno, "zip entry '%s': cannot make directory: %s", name,
				    strerror(errno));
		/* A directory named again, or made earlier for a file in it. */
		if (fstatat(dirfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) || !S_ISDIR(sb.st_mode))
			return entry_fail(x, -EINVAL, name, "would replace an earlier entry");
		return 0;
	}
	fd = openat(dirfd, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fchmod(fd, 0755))
		ret = fail(x, -errno, "zip entry '%s': chmod failed: %s", name, strerror(errno));
	if (fd >= 0)
		close(fd);
	return ret;
}

static int pwrite_full(int fd, const uint8_t *buf, size_t len, off_t off)
{
	while (len) {
		ssize_t n = pwrite(fd, buf, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		off += n;
		len -= n;
	}
	return 0;
}

/*
 * Copy the entry's data into fd. The budget is charged with what is really
 * written (and any hole libarchive asks for), never with what the headers
 * claim, and is checked before each write.
 */
static int copy_data(struct extract *x, const char *name, int fd)
{
	uint64_t file_end = 0;

	for (;;) {
		const void *buf;
		size_t size;
		la_int64_t off;
		uint64_t cost;
		int r, ret;

		r = archive_read_data_block(x->a, &buf, &size, &off);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r != ARCHIVE_OK)
			return unzip_entry_fail(x, name);
		if (off < 0)
			return entry_fail(x, -EINVAL, name, "has data at a negative offset");
		cost = size + ((uint64_t)off > file_end ? (uint64_t)off - file_end : 0);
		if (cost > x->max_bytes - x->written) {
			char why[96];

			snprintf(why, sizeof(why), "takes the package past %llu bytes unzipped",
				 (unsigned long long)x->max_bytes);
			return entry_fail(x, -EFBIG, name, why);
		}
		ret = pwrite_full(fd, buf, size, off);
		if (ret)
			return fail(x, ret, "zip entry '%s': write failed: %s", name,
				    strerror(-ret));
		x->written += cost;
		if ((uint64_t)off + size > file_end)
			file_end = off + size;
	}
}

static int write_file(struct extract *x, struct archive_entry *e, const char *name, int dirfd,
		      const char *leaf)
{
	mode_t mode = archive_entry_perm(e) & 0111 ? 0755 : 0644;
	int fd, ret;

	/* O_EXCL and O_NOFOLLOW: never reuse or write through what exists. */
	fd = openat(dirfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0) {
		if (errno == EEXIST)
			return entry_fail(x, -EINVAL, name, "would replace an earlier entry");
		return fail(x, -errno, "zip entry '%s': cannot create file: %s", name,
			    strerror(errno));
	}
	if (fchmod(fd, mode))
		ret = fail(x, -errno, "zip entry '%s': chmod failed: %s", name, strerror(errno));
	else
		ret = copy_data(x, name, fd);
	if (close(fd) && !ret)
		ret = fail(x, -errno, "zip entry '%s': write failed: %s", name, strerror(errno));
	return ret;
}

/*
 * Why a link's target could lead outside the package, or NULL. The link
 * sits depth real directories below the root (entries never pass through
 * links), so leading ".." components climb real directories and are
 * counted. After the first name, ".." would climb from wherever an
 * intermediate link led, which only the whole tree can tell, so it is
 * refused. Then every link resolves inside the package, by induction on
 * the links followed, however links chain.
 */
static const char *target_problem(const char *target, unsigned depth)
{
	const char *p = target;
	long level = depth;
	bool named = false;

	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 2 && !memcmp(p, "..", 2)) {
			if (named)
				return "is a symbolic link with '..' after a name in its target";
			if (--level < 0)
				return "is a symbolic link that leaves the package";
		} else if (n && !(n == 1 && *p == '.')) {
			named = true;
		}
		p += n;
		if (*p == '/')
			p++;
	}
	return NULL;
}

static int make_link(struct extract *x, struct archive_entry *e, const char *name, unsigned depth,
		     int dirfd, const char *leaf)
{
	const char *target = archive_entry_symlink(e), *problem;

	if (!target || !*target)
		return entry_fail(x, -EINVAL, name, "is a symbolic link without a target");
	if (strlen(target) >= PATH_MAX)
		return entry_fail(x, -ENAMETOOLONG, name,
				  "is a symbolic link with a target longer than PATH_MAX");
	if (*target == '/')
		return entry_fail(x, -EINVAL, name,
				  "is a symbolic link to an absolute path, outside the package");
	problem = target_problem(target, depth - 1);
	if (problem)
		return entry_fail(x, -EINVAL, name, problem);
	if (symlinkat(target, dirfd, leaf)) {
		if (errno == EEXIST)
			return entry_fail(x, -EINVAL, name, "would replace an earlier entry");
		return fail(x, -errno, "zip entry '%s': cannot create symbolic link: %s", name,
			    strerror(errno));
	}
	return 0;
}

static int check_entry_type(struct extract *x, struct archive_entry *e, const char *name)
{
	if (archive_entry_hardlink(e))
		return entry_fail(x, -EINVAL, name, "is a hard link");
	switch (archive_entry_filetype(e)) {
	case AE_IFREG:
	case AE_IFDIR:
	case AE_IFLNK:
		return 0;
	case AE_IFCHR:
	case AE_IFBLK:
		return entry_fail(x, -EINVAL, name, "is a device file");
	case AE_IFIFO:
		return entry_fail(x, -EINVAL, name, "is a FIFO");
	case AE_IFSOCK:
		return entry_fail(x, -EINVAL, name, "is a socket");
	default:
		return entry_fail(x, -EINVAL, name, "has an unknown file type");
	}
}

static int extract_entry(struct extract *x, struct archive_entry *e)
{
	const char *name = archive_entry_pathname(e);
	char path[PATH_MAX];
	unsigned depth;
	char *leaf;
	int dirfd, ret;

	if (!name)
		return fail(x, -EINVAL, "zip entry with a name libarchive cannot read");
	ret = check_entry_type(x, e, name);
	if (!ret)
		ret = entry_path(x, name, path, &depth);
	if (ret)
		return ret;
	if (!depth) {
		if (archive_entry_filetype(e) == AE_IFDIR)
			return 0; /* "./": the package root, which exists */
		return entry_fail(x, -EINVAL, name, "has an empty name");
	}
	dirfd = open_parent(x, name, path, &leaf);
	if (dirfd < 0)
		return dirfd;
	switch (archive_entry_filetype(e)) {
	case AE_IFDIR:
		ret = make_dir(x, name, dirfd, leaf);
		break;
	case AE_IFLNK:
		ret = make_link(x, e, name, depth, dirfd, leaf);
		break;
	default:
		ret = write_file(x, e, name, dirfd, leaf);
		break;
	}
	if (dirfd != x->root)
		close(dirfd);
	return ret;
}

static int extract_archive(struct extract *x, const void *zip, size_t len)
{
	struct archive_entry *e;
	int r, ret = 0;

	if (!len)
		return fail(x, -EINVAL, "could not unzip uploaded file: the file is empty");
	x->a = archive_read_new();
	if (!x->a)
		return fail(x, -ENOMEM, "out of memory while unzipping");
	/* Zip and only zip: no other format, no compression filter. */
	if (archive_read_support_format_zip(x->a) != ARCHIVE_OK ||
	    archive_read_open_memory(x->a, zip, len) != ARCHIVE_OK) {
		ret = unzip_fail(x);
		goto out;
	}
	/* ARCHIVE_WARN (a name in another charset, header disagreements) is
	 * not fatal: every name is checked and every byte counted here. */
	while ((r = archive_read_next_header(x->a, &e)) != ARCHIVE_EOF) {
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			ret = unzip_fail(x);
			break;
		}
		if (++x->entries > HUSK_CODE_ENTRIES_MAX) {
			ret = fail(x, -E2BIG, "zip file has more than %d entries",
				   HUSK_CODE_ENTRIES_MAX);
			break;
		}
		ret = extract_entry(x, e);
		if (ret)
			break;
	}
	if (!ret && !x->entries)
		ret = fail(x, -EINVAL, "could not unzip uploaded file: it holds no entries");
out:
	archive_read_free(x->a);
	x->a = NULL;
	return ret;
}

/* Fill the temporary directory tmp, then make it dir. */
static int extract_into(struct extract *x, const void *zip, size_t len, const char *tmp,
			const char *dir)
{
	int ret;

	x->root = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (x->root < 0)
		return fail(x, -errno, "cannot open %s: %s", tmp, strerror(errno));
	ret = extract_archive(x, zip, len);
	/* mkdtemp made it 0700; the runtime reads the tree as another user. */
	if (!ret && fchmod(x->root, 0755))
		ret = fail(x, -errno, "cannot chmod %s: %s", tmp, strerror(errno));
	close(x->root);
	if (!ret && renameat2(AT_FDCWD, tmp, AT_FDCWD, dir, RENAME_NOREPLACE))
		ret = fail(x, -errno, "cannot rename %s to %s: %s", tmp, dir, strerror(errno));
	return ret;
}

int husk_code_extract_max(const void *zip, size_t len, const char *dir, uint64_t max_bytes,
			  char *err, size_t errlen)
{
	struct extract x = {.max_bytes = max_bytes, .err = err, .errlen = errlen};
	char tmp[PATH_MAX];
	struct stat sb;
	int ret;

	if (errlen)
		err[0] = '\0';
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", dir) >= (int)sizeof(tmp))
		return fail(&x, -ENAMETOOLONG, "code directory name too long: %s", dir);
	if (!lstat(dir, &sb))
		return fail(&x, -EEXIST, "code directory %s already exists", dir);
	if (!mkdtemp(tmp))
		return fail(&x, -errno, "cannot create a directory next to %s: %s", dir,
			    strerror(errno));
	ret = extract_into(&x, zip, len, tmp, dir);
	if (ret)
		husk_code_remove(tmp);
	return ret;
}

int husk_code_extract(const void *zip, size_t len, const char *dir, char *err, size_t errlen)
{
	return husk_code_extract_max(zip, len, dir, HUSK_CODE_UNZIPPED_MAX, err, errlen);
}

static int remove_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	int ret = type == FTW_DP || type == FTW_DNR ? rmdir(path) : unlink(path);

	return ret ? -errno : 0;
}

int husk_code_remove(const char *dir)
{
	/* FTW_PHYS: links are removed, never followed; FTW_MOUNT: never leave
	 * the file system, so a mount inside the tree makes this fail instead. */
	int ret = nftw(dir, remove_one, 16, FTW_PHYS | FTW_DEPTH | FTW_MOUNT);

	if (ret == -1)
		return -errno;
	return ret;
}
