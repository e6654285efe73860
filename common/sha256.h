/* SHA-256 (FIPS 180-4), written from the standard: the bootloader checks an
 * application's hash before it marks it valid, and the host flasher puts the
 * image's hash in the init packet. Small and portable rather than fast. */
#ifndef HILDA_SHA256_H
#define HILDA_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_SIZE 32

struct sha256 {
    uint32_t h[8];
    uint64_t length;          /* bytes hashed so far */
    uint8_t block[64];
    size_t used;              /* bytes waiting in block */
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
void sha256_final(struct sha256 *s, uint8_t digest[SHA256_DIGEST_SIZE]);

/* One call: the digest of len bytes. */
void sha256(const void *data, size_t len, uint8_t digest[SHA256_DIGEST_SIZE]);

#endif
