/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Durable storage of functions behind a small interface, so that a fleet can
 * put a shared database (PostgreSQL) where one host uses SQLite. The embedded
 * backend is SQLite in the state directory (WAL, synchronous=FULL): every
 * call below is one transaction, committed and fsync'd before it returns.
 *
 * A function is stored as its configuration document (the JSON that
 * GetFunctionConfiguration returns, opaque to the store) and its code
 * package, sealed with AES-256-GCM under the key given at open and bound to
 * the function's name (the name is the additional authenticated data), so
 * code moved from one row to another does not unseal.
 */
#ifndef HUSK_STORE_H
#define HUSK_STORE_H

#include <stddef.h>
#include <stdint.h>

struct husk_store;

/* Open or create <state_dir>/husk.db. */
int husk_store_open(const char *state_dir, const uint8_t key[32], struct husk_store **out);
void husk_store_close(struct husk_store *st);

/* Insert a new function; -EEXIST when name exists. */
int husk_store_insert(struct husk_store *st, const char *name, const char *config_json,
		      const void *zip, size_t zip_len);

/*
 * Replace a function's configuration and, when zip is not NULL, its code;
 * -ENOENT when name does not exist.
 */
int husk_store_update(struct husk_store *st, const char *name, const char *config_json,
		      const void *zip, size_t zip_len);

/* -ENOENT when name does not exist. */
int husk_store_delete(struct husk_store *st, const char *name);

/* The decrypted code package; the caller frees *zip. -ENOENT, -EBADMSG if tampered. */
int husk_store_get_code(struct husk_store *st, const char *name, void **zip, size_t *zip_len);

/*
 * Call fn for every stored function, in name order; a non-zero return stops
 * the walk and is returned.
 */
int husk_store_foreach(struct husk_store *st,
		       int (*fn)(void *arg, const char *name, const char *config_json),
		       void *arg);

#endif
