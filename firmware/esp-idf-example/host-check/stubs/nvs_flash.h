/* ESP-IDF API declarations for a compile check (README.md); not the real header. */
#pragma once
#include "nvs.h"
esp_err_t nvs_flash_init(void);
esp_err_t nvs_flash_erase(void);
