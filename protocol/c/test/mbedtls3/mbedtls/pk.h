/* mbedtls 3.x declarations for a compile check (see ../README.md); not the real header. */
#ifndef MBEDTLS3_CHECK_PK_H
#define MBEDTLS3_CHECK_PK_H
#include "mbedtls/build_info.h"
typedef enum { MBEDTLS_PK_NONE = 0, MBEDTLS_PK_RSA, MBEDTLS_PK_ECKEY } mbedtls_pk_type_t;
typedef struct mbedtls_pk_context { const void *info; void *ctx; } mbedtls_pk_context;
void mbedtls_pk_init(mbedtls_pk_context *ctx);
void mbedtls_pk_free(mbedtls_pk_context *ctx);
int mbedtls_pk_parse_key(mbedtls_pk_context *ctx, const unsigned char *key, size_t keylen,
                         const unsigned char *pwd, size_t pwdlen,
                         int (*f_rng)(void *, unsigned char *, size_t), void *p_rng);
mbedtls_pk_type_t mbedtls_pk_get_type(const mbedtls_pk_context *ctx);
size_t mbedtls_pk_get_bitlen(const mbedtls_pk_context *ctx);
int mbedtls_pk_decrypt(mbedtls_pk_context *ctx, const unsigned char *input, size_t ilen,
                       unsigned char *output, size_t *olen, size_t osize,
                       int (*f_rng)(void *, unsigned char *, size_t), void *p_rng);
#endif
