/* ESP-IDF API declarations for a compile check (README.md); not the real header. */
#pragma once
#include <stddef.h>
void esp_fill_random(void *buf, size_t len);
