/* mbedtls 3.x declarations for a compile check (see ../README.md); not the real header. */
#ifndef MBEDTLS3_CHECK_BUILD_INFO_H
#define MBEDTLS3_CHECK_BUILD_INFO_H
#define MBEDTLS_VERSION_NUMBER 0x03060000
#include <stddef.h>
#include <stdint.h>
#endif
