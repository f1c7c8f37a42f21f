/* mbedtls 3.x declarations for a compile check (see ../README.md); not the real header. */
#ifndef MBEDTLS3_CHECK_ECDH_H
#define MBEDTLS3_CHECK_ECDH_H
#include "mbedtls/ecp.h"
int mbedtls_ecdh_compute_shared(mbedtls_ecp_group *grp, mbedtls_mpi *z, const mbedtls_ecp_point *Q,
                                const mbedtls_mpi *d,
                                int (*f_rng)(void *, unsigned char *, size_t), void *p_rng);
#endif
