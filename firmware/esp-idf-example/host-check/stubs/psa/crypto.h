/* PSA Crypto API declarations for a compile check (README.md); not the real header. */
#pragma once
#include <stdint.h>
typedef int32_t psa_status_t;
#define PSA_SUCCESS ((psa_status_t)0)
psa_status_t psa_crypto_init(void);
