/*
 * ota_uart_info.h: the ESP-IDF port's device description (ota_uart_info.c), shared with
 * ota_uart_port.c. Internal to the example.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "ota_uart_port.h"

/** The running app is PENDING_VERIFY (only possible with rollback enabled). */
bool ota_port_running_pending(void);
/** otarx_ops_t.get_info: chip, flags, eFuse counter, running / boot / target slots. */
int ota_port_get_info(void *user, otarx_dev_info_t *info);
/** otarx_ops_t.get_part: slot `index` as it is in flash (verified once per change). */
int ota_port_get_part(void *user, uint8_t index, otarx_part_t *part);
/** Fill slot `i`'s cache: its app description and whether it verifies. */
void ota_port_describe(ota_port_t *p, uint8_t i);
