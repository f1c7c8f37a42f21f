/* mbedtls 3.x declarations for a compile check (see ../README.md); not the real header. */
#ifndef MBEDTLS3_CHECK_CIPHER_H
#define MBEDTLS3_CHECK_CIPHER_H
#include "mbedtls/build_info.h"
typedef enum { MBEDTLS_CIPHER_ID_NONE = 0, MBEDTLS_CIPHER_ID_NULL, MBEDTLS_CIPHER_ID_AES } mbedtls_cipher_id_t;
#endif
