/* mbedtls 3.x declarations for a compile check (see ../README.md); not the real header. */
#ifndef MBEDTLS3_CHECK_BIGNUM_H
#define MBEDTLS3_CHECK_BIGNUM_H
#include "mbedtls/build_info.h"
typedef struct mbedtls_mpi { void *opaque[3]; } mbedtls_mpi;
void mbedtls_mpi_init(mbedtls_mpi *X);
void mbedtls_mpi_free(mbedtls_mpi *X);
int mbedtls_mpi_read_binary(mbedtls_mpi *X, const unsigned char *buf, size_t buflen);
int mbedtls_mpi_write_binary(const mbedtls_mpi *X, unsigned char *buf, size_t buflen);
#endif
