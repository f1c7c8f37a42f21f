/*
 * ota_uart_port.h: the ESP-IDF port of the ota-uart receiver: otarx_ops_t over the UART driver,
 * esp_partition_* (the update slot), esp_ota_* (boot selection, rollback), NVS (the durable
 * resume record) and the eFuse/chip information HELLO_ACK reports.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "driver/uart.h"
#include "esp_err.h"
#include "esp_partition.h"
#include "nvs.h"
#include "otarx.h"

typedef struct {
    bool known;              /* cache filled since the slot last changed */
    bool valid;
    otarx_part_t info;
} ota_port_slot_t;

typedef struct {
    uart_port_t uart;
    uint32_t baud, max_baud;
    bool iram_uart;          /* CONFIG_UART_ISR_IN_IRAM: input survives flash work */
    nvs_handle_t nvs;
    const esp_partition_t *apps[OTARX_MAX_PARTS]; /* factory first, then ota_0, ota_1, ... */
    uint8_t napps;
    ota_port_slot_t slots[OTARX_MAX_PARTS];
    bool rollback_requested; /* ROLLBACK answered: mark invalid and restart on reboot() */
    uint8_t scratch[1024];   /* for verifying slots (HELLO_ACK's `valid`) */
} ota_port_t;

/** Find the app partitions, open NVS, verify every slot once. The UART is set up by the app. */
esp_err_t ota_port_init(ota_port_t *p, uart_port_t uart, uint32_t baud, uint32_t max_baud);

/** The ops table; its user pointer is the ota_port_t. */
extern const otarx_ops_t ota_port_ops;
