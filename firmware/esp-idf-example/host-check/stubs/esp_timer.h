/* ESP-IDF API declarations for a compile check (README.md); not the real header. */
#pragma once
#include <stdint.h>
int64_t esp_timer_get_time(void);
