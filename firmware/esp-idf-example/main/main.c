/*
 * main.c: the ota-uart example firmware. It installs the UART driver with its interrupt handler in
 * IRAM and a receive ring buffer for the receiver's window plus one encoded frame, confirms (or
 * rolls back) an app that boots PENDING_VERIFY, and runs one task that hands every received byte
 * to the ota-uart receiver. Everything the protocol does is in components/ota_uart_rx; the
 * ESP-IDF specifics are in ota_uart_port.c.
 *
 * The embedded key is a TEST KEY published in this repository: replace it before use.
 */
#include <stdbool.h>
#include <string.h>

#include "driver/uart.h"
#include "esp_err.h"
#include "esp_intr_alloc.h"
#include "esp_log.h"
#include "esp_ota_ops.h"
#include "esp_timer.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "mbedtls/version.h"
#include "nvs_flash.h"
#include "ota_uart_port.h"
#include "otarx.h"
#include "sdkconfig.h"
#if defined(MBEDTLS_USE_PSA_CRYPTO)
#include "psa/crypto.h"
#endif

static const char *TAG = "ota_uart";

/* TEST KEY (main/test_key, see README.md): the device's RSA-3072 private key, PEM. */
extern const uint8_t test_key_start[] __asm__("_binary_demo_device_rsa3072_TEST_KEY_ONLY_pem_start");
extern const uint8_t test_key_end[] __asm__("_binary_demo_device_rsa3072_TEST_KEY_ONLY_pem_end");

/* The receiver's state (~11 KiB with the default limits): static, not on a task stack. */
static otarx_ctx_t s_rx;
static ota_port_t s_port;

/* Received bytes wait here while the task does flash work or unwraps a new session's key (after
 * BEGIN_ACK, SPEC §4.4 step 5): the receiver's window, one frame (COBS-encoded, with delimiters)
 * that may be arriving, and the 128-byte hardware FIFO. */
#define RX_RING (OTARX_WINDOW + OTARX_COBS_MAX(OTARX_MAX_FRAME) + 2 + 128)
#define TX_RING 1024

static esp_err_t uart_setup(uart_port_t uart)
{
    const uart_config_t cfg = {
        .baud_rate = CONFIG_OTA_UART_BAUD,
        .data_bits = UART_DATA_8_BITS,
        .parity = UART_PARITY_DISABLE,
        .stop_bits = UART_STOP_BITS_1,
        .flow_ctrl = UART_HW_FLOWCTRL_DISABLE,
        .source_clk = UART_SCLK_DEFAULT,
    };
    int intr_flags = 0;
    esp_err_t err;
#if CONFIG_UART_ISR_IN_IRAM
    /* the ISR keeps filling the ring buffer while flash work has the cache disabled */
    intr_flags = ESP_INTR_FLAG_IRAM;
#endif
    err = uart_driver_install(uart, RX_RING, TX_RING, 0, NULL, intr_flags);
    if (err == ESP_OK) {
        err = uart_param_config(uart, &cfg);
    }
    if (err == ESP_OK) {
        err = uart_set_pin(uart,
                           CONFIG_OTA_UART_TX_PIN < 0 ? UART_PIN_NO_CHANGE : CONFIG_OTA_UART_TX_PIN,
                           CONFIG_OTA_UART_RX_PIN < 0 ? UART_PIN_NO_CHANGE : CONFIG_OTA_UART_RX_PIN,
                           UART_PIN_NO_CHANGE, UART_PIN_NO_CHANGE);
    }
    return err;
}

/* What "this app works" means for the example: the receiver came up. A product checks more
 * (its own peripherals, a server reachable) before it confirms. */
static bool self_test(bool receiver_ok)
{
    return receiver_ok;
}

/* An app booted PENDING_VERIFY (rollback enabled): confirm it, or roll back to the previous one. */
static void confirm_or_roll_back(bool ok)
{
    esp_ota_img_states_t st;
    if (esp_ota_get_state_partition(esp_ota_get_running_partition(), &st) != ESP_OK ||
        st != ESP_OTA_IMG_PENDING_VERIFY) {
        return;
    }
#if CONFIG_OTA_UART_AUTO_CONFIRM
    if (ok) {
        ESP_LOGW(TAG, "new app passed its self-test: marked valid");
        ESP_ERROR_CHECK(esp_ota_mark_app_valid_cancel_rollback());
    } else {
        ESP_LOGE(TAG, "new app failed its self-test: rolling back");
        (void)esp_ota_mark_app_invalid_rollback_and_reboot();
    }
#else
    (void)ok;
    ESP_LOGW(TAG, "new app pending verification: run `ota-uart confirm` (or `ota-uart rollback`)");
#endif
}

static void rx_task(void *arg)
{
    uint8_t buf[256];
    (void)arg;
    for (;;) {
        int n = uart_read_bytes(s_port.uart, buf, sizeof(buf), pdMS_TO_TICKS(20));
        if (n > 0) {
            otarx_feed(&s_rx, buf, (size_t)n);
        }
        otarx_poll(&s_rx, (uint32_t)(esp_timer_get_time() / 1000));
    }
}

void app_main(void); /* called by ESP-IDF's startup code */

void app_main(void)
{
    otarx_key_t key;
    esp_err_t err = nvs_flash_init();
    bool ok;
    if (err == ESP_ERR_NVS_NO_FREE_PAGES || err == ESP_ERR_NVS_NEW_VERSION_FOUND) {
        ESP_ERROR_CHECK(nvs_flash_erase());
        err = nvs_flash_init();
    }
    ESP_ERROR_CHECK(err);
#if defined(MBEDTLS_USE_PSA_CRYPTO)
    if (psa_crypto_init() != PSA_SUCCESS) {
        ESP_LOGE(TAG, "psa_crypto_init failed");
    }
#endif
    ESP_ERROR_CHECK(uart_setup((uart_port_t)CONFIG_OTA_UART_PORT_NUM));
    ESP_ERROR_CHECK(ota_port_init(&s_port, (uart_port_t)CONFIG_OTA_UART_PORT_NUM,
                                  CONFIG_OTA_UART_BAUD, CONFIG_OTA_UART_MAX_BAUD));
    memset(&key, 0, sizeof(key));
    key.rsa_pem = test_key_start;
    key.rsa_pem_len = (size_t)(test_key_end - test_key_start); /* EMBED_TXTFILES adds the NUL */
    ok = otarx_init(&s_rx, &ota_port_ops, &s_port, &key, NULL) == OTARX_OK;
    if (!ok) {
        ESP_LOGE(TAG, "the embedded key is not an RSA-3072 private key");
    }
    confirm_or_roll_back(self_test(ok));
    if (ok) {
        xTaskCreate(rx_task, "ota_uart_rx", 8192, NULL, 10, NULL);
    }
}
