/* mbedtls 3.x declarations for a compile check (see ../README.md); not the real header. */
#ifndef MBEDTLS3_CHECK_MD_H
#define MBEDTLS3_CHECK_MD_H
#include "mbedtls/build_info.h"
typedef enum { MBEDTLS_MD_NONE = 0, MBEDTLS_MD_MD5 = 0x03, MBEDTLS_MD_SHA256 = 0x09 } mbedtls_md_type_t;
typedef struct mbedtls_md_info_t mbedtls_md_info_t;
typedef struct mbedtls_md_context_t { void *opaque[3]; } mbedtls_md_context_t;
const mbedtls_md_info_t *mbedtls_md_info_from_type(mbedtls_md_type_t md_type);
void mbedtls_md_init(mbedtls_md_context_t *ctx);
void mbedtls_md_free(mbedtls_md_context_t *ctx);
int mbedtls_md_setup(mbedtls_md_context_t *ctx, const mbedtls_md_info_t *md_info, int hmac);
int mbedtls_md_starts(mbedtls_md_context_t *ctx);
int mbedtls_md_update(mbedtls_md_context_t *ctx, const unsigned char *input, size_t ilen);
int mbedtls_md_finish(mbedtls_md_context_t *ctx, unsigned char *output);
int mbedtls_md(const mbedtls_md_info_t *md_info, const unsigned char *input, size_t ilen,
               unsigned char *output);
int mbedtls_md_hmac(const mbedtls_md_info_t *md_info, const unsigned char *key, size_t keylen,
                    const unsigned char *input, size_t ilen, unsigned char *output);
#endif
