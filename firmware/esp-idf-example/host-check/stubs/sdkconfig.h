/* Kconfig symbols the example reads (values as sdkconfig.defaults + Kconfig defaults give). */
#pragma once
#define CONFIG_IDF_FIRMWARE_CHIP_ID 0x0000
#define CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE 1
#define CONFIG_UART_ISR_IN_IRAM 1
#define CONFIG_OTA_UART_PORT_NUM 0
#define CONFIG_OTA_UART_TX_PIN -1
#define CONFIG_OTA_UART_RX_PIN -1
#define CONFIG_OTA_UART_BAUD 115200
#define CONFIG_OTA_UART_MAX_BAUD 921600
/* variants compiled by check.sh: CONFIG_OTA_UART_AUTO_CONFIRM, CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK */
