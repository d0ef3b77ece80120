/* SPDX-License-Identifier: GPL-2.0 */
/* Digests, encodings and sealing, all through OpenSSL's libcrypto. */
#ifndef HUSK_CRYPT_H
#define HUSK_CRYPT_H

#include <stddef.h>
#include <stdint.h>

#define HUSK_KEY_LEN 32

/*
 * Load the 32-byte key at path, or create it (random, mode 0600, fsync'd)
 * when it does not exist. -EINVAL for a file of the wrong size or mode.
 */
int husk_key_load(const char *path, uint8_t key[HUSK_KEY_LEN]);

/*
 * AES-256-GCM. Sealed layout: 12-byte random nonce, ciphertext, 16-byte tag.
 * aad (may be empty) is authenticated, not stored: what the sealed bytes
 * belong to, so that they cannot be moved to another owner unnoticed. Both
 * return a malloc'd buffer in *out. husk_unseal returns -EBADMSG when the
 * tag does not verify (wrong key, modified bytes, or other aad).
 */
int husk_seal(const uint8_t key[HUSK_KEY_LEN], const void *aad, size_t aad_len, const void *in,
	      size_t len, void **out, size_t *out_len);
int husk_unseal(const uint8_t key[HUSK_KEY_LEN], const void *aad, size_t aad_len, const void *in,
		size_t len, void **out, size_t *out_len);

/* SHA-256 of buf, base64 encoded as Lambda's CodeSha256 (44 chars + NUL). */
void husk_sha256_b64(const void *buf, size_t len, char out[48]);

/* Standard base64 (RFC 4648, padded). Return malloc'd buffers. */
int husk_b64_decode(const char *in, size_t len, void **out, size_t *out_len);
char *husk_b64_encode(const void *in, size_t len);

/* A random version 4 UUID in its 36-character form (buffer of 37). */
void husk_uuid4(char out[37]);

#endif
