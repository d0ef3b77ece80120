// SPDX-License-Identifier: GPL-2.0
/*
 * Digests, encodings and sealing through OpenSSL's libcrypto. The code here
 * only arranges buffers around EVP calls; every transform is the library's.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "crypt.h"
#include "log.h"

#define GCM_NONCE_LEN 12
#define GCM_TAG_LEN 16
#define SEAL_OVERHEAD (GCM_NONCE_LEN + GCM_TAG_LEN)

/* EVP update calls take an int length; feed them in chunks well below it. */
#define EVP_CHUNK (1 << 30)
/* Base64 chunks: a multiple of 4 characters and of 3 bytes respectively. */
#define B64_DECODE_CHUNK (4 << 20)
#define B64_ENCODE_CHUNK (3 << 20)

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EINVAL; /* shorter than fstat said */
		p += n;
		len -= n;
	}
	return 0;
}

static int write_full(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= n;
	}
	return 0;
}

/* fsync the directory holding path, so that a new entry in it is durable. */
static int fsync_parent(const char *path)
{
	char buf[PATH_MAX];
	int fd, ret = 0;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	fd = open(dirname(buf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd))
		ret = -errno;
	close(fd);
	return ret;
}

static int key_read(int fd, const char *path, uint8_t key[HUSK_KEY_LEN])
{
	struct stat st;
	int ret;

	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_size != HUSK_KEY_LEN) {
		pr_err("key file %s: not a regular file of %d bytes", path, HUSK_KEY_LEN);
		return -EINVAL;
	}
	if (st.st_mode & 077) {
		pr_err("key file %s: mode %04o lets group or others read it; want 0600", path,
		       st.st_mode & 07777);
		return -EINVAL;
	}
	ret = read_full(fd, key, HUSK_KEY_LEN);
	if (ret)
		pr_err("key file %s: read failed: %s", path, strerror(-ret));
	return ret;
}

static int key_create(const char *path, uint8_t key[HUSK_KEY_LEN])
{
	int fd, ret;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		if (ret != -EEXIST)
			pr_err("key file %s: creation failed: %s", path, strerror(-ret));
		return ret;
	}
	ret = RAND_bytes(key, HUSK_KEY_LEN) == 1 ? 0 : -EIO;
	if (!ret)
		ret = write_full(fd, key, HUSK_KEY_LEN);
	if (!ret && fsync(fd))
		ret = -errno;
	close(fd);
	if (!ret)
		ret = fsync_parent(path);
	if (ret) {
		/* A partial key must not be loaded by the next start. */
		unlink(path);
		OPENSSL_cleanse(key, HUSK_KEY_LEN);
		pr_err("key file %s: creation failed: %s", path, strerror(-ret));
	}
	return ret;
}

int husk_key_load(const char *path, uint8_t key[HUSK_KEY_LEN])
{
	int attempt, fd, ret;

	/* Two rounds: another process may create the file between our tries. */
	for (attempt = 0; attempt < 2; attempt++) {
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0) {
			ret = key_read(fd, path, key);
			close(fd);
			return ret;
		}
		if (errno != ENOENT) {
			ret = -errno;
			pr_err("key file %s: %s", path, strerror(-ret));
			return ret;
		}
		ret = key_create(path, key);
		if (ret != -EEXIST)
			return ret;
	}
	return -EEXIST;
}

/* Run in[0..len) through an initialised cipher context into out. */
static int cipher_update(EVP_CIPHER_CTX *ctx, uint8_t *out, const uint8_t *in, size_t len)
{
	while (len) {
		int chunk = len > EVP_CHUNK ? EVP_CHUNK : (int)len;
		int n;

		if (EVP_CipherUpdate(ctx, out, &n, in, chunk) != 1)
			return -EIO;
		out += n;
		in += chunk;
		len -= chunk;
	}
	return 0;
}

/* Feed the additional authenticated data: bound to the tag, not encrypted. */
static int cipher_aad(EVP_CIPHER_CTX *ctx, const void *aad, size_t aad_len)
{
	int n;

	if (!aad_len)
		return 0;
	if (aad_len > INT_MAX || EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1)
		return -EIO;
	return 0;
}

int husk_seal(const uint8_t key[HUSK_KEY_LEN], const void *aad, size_t aad_len, const void *in,
	      size_t len, void **out, size_t *out_len)
{
	EVP_CIPHER_CTX *ctx;
	uint8_t *buf;
	int n, ret = -EIO;

	if (len > SIZE_MAX - SEAL_OVERHEAD)
		return -EOVERFLOW;
	buf = malloc(len + SEAL_OVERHEAD);
	ctx = EVP_CIPHER_CTX_new();
	if (!buf || !ctx) {
		ret = -ENOMEM;
		goto out;
	}
	if (RAND_bytes(buf, GCM_NONCE_LEN) != 1)
		goto out;
	/* AES-GCM's default IV length is the 12 bytes we use. */
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, buf) != 1)
		goto out;
	ret = cipher_aad(ctx, aad, aad_len);
	if (!ret)
		ret = cipher_update(ctx, buf + GCM_NONCE_LEN, in, len);
	if (ret)
		goto out;
	ret = -EIO;
	/* GCM is a stream mode: the final call emits nothing. */
	if (EVP_EncryptFinal_ex(ctx, buf + GCM_NONCE_LEN + len, &n) != 1)
		goto out;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, GCM_TAG_LEN,
				buf + GCM_NONCE_LEN + len) != 1)
		goto out;
	*out = buf;
	*out_len = len + SEAL_OVERHEAD;
	buf = NULL;
	ret = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	free(buf);
	return ret;
}

int husk_unseal(const uint8_t key[HUSK_KEY_LEN], const void *aad, size_t aad_len, const void *in,
		size_t len, void **out, size_t *out_len)
{
	const uint8_t *nonce = in, *ct = nonce + GCM_NONCE_LEN;
	EVP_CIPHER_CTX *ctx;
	size_t ct_len;
	uint8_t *buf;
	int n, ret = -EIO;

	if (len < SEAL_OVERHEAD)
		return -EBADMSG;
	ct_len = len - SEAL_OVERHEAD;
	buf = malloc(ct_len ? ct_len : 1);
	ctx = EVP_CIPHER_CTX_new();
	if (!buf || !ctx) {
		ret = -ENOMEM;
		goto out;
	}
	if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) != 1)
		goto out;
	ret = cipher_aad(ctx, aad, aad_len);
	if (!ret)
		ret = cipher_update(ctx, buf, ct, ct_len);
	if (ret)
		goto out;
	ret = -EIO;
	/* The ctrl takes a non-const pointer but only reads the tag. */
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, GCM_TAG_LEN, (void *)(ct + ct_len)) != 1)
		goto out;
	if (EVP_DecryptFinal_ex(ctx, buf + ct_len, &n) != 1) {
		/* Wrong key or modified bytes: never hand out the plaintext. */
		OPENSSL_cleanse(buf, ct_len);
		ret = -EBADMSG;
		goto out;
	}
	*out = buf;
	*out_len = ct_len;
	buf = NULL;
	ret = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	free(buf);
	return ret;
}

void husk_sha256_b64(const void *buf, size_t len, char out[48])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len;

	if (EVP_Digest(buf, len, md, &md_len, EVP_sha256(), NULL) != 1) {
		/* Only on an OpenSSL without SHA-256; an empty digest never matches. */
		pr_err("SHA-256 digest failed in libcrypto");
		out[0] = '\0';
		return;
	}
	EVP_EncodeBlock((unsigned char *)out, md, md_len);
}

/*
 * EVP_DecodeBlock tolerates whitespace and ignores padding, so check the
 * text against RFC 4648 first: whole quanta, alphabet characters only, and
 * at most two '=' and only at the very end. Returns the padding count.
 */
static int b64_check(const char *in, size_t len)
{
	size_t pad = 0, i;

	if (len % 4)
		return -EINVAL;
	while (pad < 2 && pad < len && in[len - 1 - pad] == '=')
		pad++;
	for (i = 0; i < len - pad; i++) {
		if (!in[i] || !strchr(b64_alphabet, in[i]))
			return -EINVAL;
	}
	return pad;
}

/*
 * Bits left over in the last quantum must be zero, else two texts decode
 * to the same bytes; the canonical test is that re-encoding the last
 * decoded bytes gives back the last quantum.
 */
static bool b64_tail_canonical(const char *in, size_t len, const uint8_t *dec, size_t dec_len,
			       int pad)
{
	unsigned char quantum[5];
	size_t tail;

	if (!pad)
		return true;
	tail = 3 - pad;
	EVP_EncodeBlock(quantum, dec + dec_len - tail, tail);
	return !memcmp(quantum, in + len - 4, 4);
}

int husk_b64_decode(const char *in, size_t len, void **out, size_t *out_len)
{
	size_t done = 0, dec_len = 0;
	uint8_t *buf;
	int pad;

	pad = b64_check(in, len);
	if (pad < 0)
		return pad;
	buf = malloc(len / 4 * 3 + 1);
	if (!buf)
		return -ENOMEM;
	while (done < len) {
		size_t chunk = len - done > B64_DECODE_CHUNK ? B64_DECODE_CHUNK : len - done;
		int n = EVP_DecodeBlock(buf + dec_len, (const unsigned char *)in + done, chunk);

		if (n < 0 || (size_t)n != chunk / 4 * 3) {
			free(buf);
			return -EINVAL;
		}
		done += chunk;
		dec_len += n;
	}
	/* EVP_DecodeBlock counts the bytes the padding stands for; drop them. */
	dec_len -= pad;
	if (!b64_tail_canonical(in, len, buf, dec_len, pad)) {
		free(buf);
		return -EINVAL;
	}
	*out = buf;
	*out_len = dec_len;
	return 0;
}

char *husk_b64_encode(const void *in, size_t len)
{
	const uint8_t *p = in;
	size_t done = 0, enc_len = 0;
	char *buf;

	if (len > (SIZE_MAX - 1) / 4 * 3 - 2)
		return NULL;
	buf = malloc((len + 2) / 3 * 4 + 1);
	if (!buf)
		return NULL;
	buf[0] = '\0';
	while (done < len) {
		size_t chunk = len - done > B64_ENCODE_CHUNK ? B64_ENCODE_CHUNK : len - done;

		enc_len += EVP_EncodeBlock((unsigned char *)buf + enc_len, p + done, chunk);
		done += chunk;
	}
	return buf;
}

void husk_uuid4(char out[37])
{
	uint8_t b[16];

	if (RAND_bytes(b, sizeof(b)) != 1) {
		/* Request ids that repeat would mix up invocations; better stop. */
		pr_err("random number generator failed in libcrypto");
		abort();
	}
	b[6] = (b[6] & 0x0f) | 0x40; /* version 4 */
	b[8] = (b[8] & 0x3f) | 0x80; /* variant 10xx, RFC 4122 */
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
}
