/* ESP-IDF API declarations for a compile check (README.md); not the real header. */
#pragma once
void esp_restart(void) __attribute__((noreturn));
