/* ESP-IDF (FreeRTOS) API declarations for a compile check (README.md); not the real header. */
#pragma once
#include "freertos/FreeRTOS.h"
BaseType_t xTaskCreate(TaskFunction_t pvTaskCode, const char *const pcName,
                       const uint32_t usStackDepth, void *const pvParameters,
                       UBaseType_t uxPriority, TaskHandle_t *const pvCreatedTask);
