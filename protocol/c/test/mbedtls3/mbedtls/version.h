/* mbedtls 3.x declarations for a compile check (see ../README.md); not the real header. */
#include "mbedtls/build_info.h"
