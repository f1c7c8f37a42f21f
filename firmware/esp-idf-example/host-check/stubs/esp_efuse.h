/* ESP-IDF API declarations for a compile check (README.md); not the real header. */
#pragma once
#include <stdint.h>
uint32_t esp_efuse_read_secure_version(void);
