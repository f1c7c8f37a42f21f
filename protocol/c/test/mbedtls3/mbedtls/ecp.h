/* mbedtls 3.x declarations for a compile check (see ../README.md); not the real header. */
#ifndef MBEDTLS3_CHECK_ECP_H
#define MBEDTLS3_CHECK_ECP_H
#include "mbedtls/bignum.h"
typedef enum { MBEDTLS_ECP_DP_NONE = 0, MBEDTLS_ECP_DP_SECP192R1, MBEDTLS_ECP_DP_SECP224R1,
               MBEDTLS_ECP_DP_SECP256R1 } mbedtls_ecp_group_id;
typedef struct mbedtls_ecp_point { mbedtls_mpi X, Y, Z; } mbedtls_ecp_point;
typedef struct mbedtls_ecp_group { unsigned char opaque[256]; } mbedtls_ecp_group;
void mbedtls_ecp_group_init(mbedtls_ecp_group *grp);
void mbedtls_ecp_group_free(mbedtls_ecp_group *grp);
int mbedtls_ecp_group_load(mbedtls_ecp_group *grp, mbedtls_ecp_group_id id);
void mbedtls_ecp_point_init(mbedtls_ecp_point *pt);
void mbedtls_ecp_point_free(mbedtls_ecp_point *pt);
int mbedtls_ecp_point_read_binary(const mbedtls_ecp_group *grp, mbedtls_ecp_point *P,
                                  const unsigned char *buf, size_t ilen);
int mbedtls_ecp_check_pubkey(const mbedtls_ecp_group *grp, const mbedtls_ecp_point *pt);
int mbedtls_ecp_check_privkey(const mbedtls_ecp_group *grp, const mbedtls_mpi *d);
#endif
