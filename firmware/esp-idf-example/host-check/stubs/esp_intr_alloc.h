/* ESP-IDF API declarations for a compile check (README.md); not the real header. */
#pragma once
#define ESP_INTR_FLAG_IRAM (1 << 10)
