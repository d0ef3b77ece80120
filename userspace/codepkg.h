/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Code packages: zip archives read with libarchive and extracted into a
 * directory that is later bind-mounted read-only at /var/task.
 *
 * Extraction refuses, with a one-line reason: entries with an absolute path
 * or a ".." component, symbolic links whose target is absolute or leaves
 * the package, hard links, device files, FIFOs and sockets, more than
 * HUSK_CODE_UNZIPPED_MAX bytes in all, more than HUSK_CODE_ENTRIES_MAX
 * entries, and archives that are not zip. The size limit is enforced on the
 * bytes actually written, so a zip bomb that lies in its headers is caught
 * too. Files get mode 0644 (0755 when any execute bit was set) and
 * directories 0755, owned by root: the runtime reads them as another user.
 */
#ifndef HUSK_CODEPKG_H
#define HUSK_CODEPKG_H

#include <stddef.h>
#include <stdint.h>

#define HUSK_CODE_UNZIPPED_MAX (250ull << 20) /* 262144000, Lambda's limit */
#define HUSK_CODE_ENTRIES_MAX 100000
#define HUSK_CODE_ZIP_MAX (50ull << 20) /* a direct upload */

/*
 * Extract zip into dir, which must not exist. Extracts into a sibling
 * temporary directory first and renames it into place, so dir either holds
 * the whole package or does not exist. Returns 0, or a negative errno with
 * a reason in err (e.g. "zip entry '../x' escapes the package").
 */
int husk_code_extract(const void *zip, size_t len, const char *dir, char *err, size_t errlen);

/*
 * husk_code_extract with a budget of max_bytes written in place of
 * HUSK_CODE_UNZIPPED_MAX: layers share Lambda's limit with the function,
 * and the unit test trips the limit without writing 250 MiB.
 */
int husk_code_extract_max(const void *zip, size_t len, const char *dir, uint64_t max_bytes,
			  char *err, size_t errlen);

/* Remove an extracted package (a whole tree, without following links). */
int husk_code_remove(const char *dir);

#endif
