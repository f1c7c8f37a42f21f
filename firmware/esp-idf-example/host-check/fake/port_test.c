/*
 * port_test.c: the example port's HELLO_ACK fields (p_get_info) over fake_idf.c, on the host.
 * SPEC §4.2: `boot` is what the bootloader starts at the next reset; while the running app is
 * still PENDING_VERIFY that is the previous app, not the pending one otadata selects.
 */
#include <stdio.h>
#include <string.h>

#include "fake_idf.h"
#include "ota_uart_port.h"

static int g_failures, g_checks;

#define CHECK_EQ(a, b) do { long a_ = (long)(a), b_ = (long)(b); g_checks++; \
        if (a_ != b_) { g_failures++; fprintf(stderr, "%s:%d: %s == %s failed: %ld != %ld\n", \
                                              __FILE__, __LINE__, #a, #b, a_, b_); } } while (0)

static ota_port_t s_port;

static otarx_dev_info_t info_now(void)
{
    otarx_dev_info_t info;
    memset(&info, 0, sizeof(info));
    CHECK_EQ(ota_port_init(&s_port, 0, 115200, 921600), ESP_OK);
    CHECK_EQ(ota_port_ops.get_info(&s_port, &info), OTARX_OK);
    return info;
}

int main(void)
{
    otarx_dev_info_t i;

    /* fresh: factory runs and boots; the update goes to ota_0 */
    fake_idf_reset();
    i = info_now();
    CHECK_EQ(i.running, 0);
    CHECK_EQ(i.boot, 0);
    CHECK_EQ(i.target, 1);
    CHECK_EQ(i.flags & OTARX_DEV_PENDING, 0);

    /* an update set ota_0 to boot (NEW), factory still runs: ota_0 boots next, ota_1 is the target */
    fake_idf_reset();
    fake_idf_set_entry(0, 1, ESP_OTA_IMG_NEW);
    i = info_now();
    CHECK_EQ(i.running, 0);
    CHECK_EQ(i.boot, 1);
    CHECK_EQ(i.target, 2);

    /* ota_0 runs PENDING_VERIFY: a reset now aborts it and boots the factory app */
    fake_idf_reset();
    fake_idf_set_entry(0, 1, ESP_OTA_IMG_PENDING_VERIFY);
    g_fake_idf.running = FAKE_OTA_0;
    i = info_now();
    CHECK_EQ(i.flags & OTARX_DEV_PENDING, OTARX_DEV_PENDING);
    CHECK_EQ(i.running, 1);
    CHECK_EQ(i.boot, 0);

    /* ota_1 runs PENDING_VERIFY after ota_0 (VALID): a reset now boots ota_0 */
    fake_idf_reset();
    fake_idf_set_entry(0, 1, ESP_OTA_IMG_VALID);
    fake_idf_set_entry(1, 2, ESP_OTA_IMG_PENDING_VERIFY);
    g_fake_idf.running = FAKE_OTA_1;
    i = info_now();
    CHECK_EQ(i.running, 2);
    CHECK_EQ(i.boot, 1);

    /* once confirmed (VALID) it keeps booting */
    fake_idf_set_entry(1, 2, ESP_OTA_IMG_VALID);
    i = info_now();
    CHECK_EQ(i.flags & OTARX_DEV_PENDING, 0);
    CHECK_EQ(i.boot, 2);
    CHECK_EQ(i.target, 1);

    printf("port_test: %d checks, %d failed\n", g_checks, g_failures);
    return g_failures == 0 ? 0 : 1;
}
