/*
 * host.h: the host port of the receiver (build/ota-uart-rx): a simulated ESP32 whose flash is a
 * file in the layout of the TypeScript simulated device (src/device-sim): partition table at
 * 0x8000 (ESP-IDF two-OTA layout), otadata with the ESP ROM CRC, a factory app, and the resume
 * record log in the first sector of nvs (SPEC §7). Every flash operation is written through to
 * the file at once, so kill -9 is a power cut.
 */
#ifndef OTARX_HOST_H
#define OTARX_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "otarx.h"

#define HOST_SECTOR 0x1000u
#define HOST_BLOCK 0x10000u
#define HOST_PT_OFFSET 0x8000u
#define HOST_PT_MAX 0xC00u
#define HOST_MAX_APPS 16

/* little-endian fields of the flash structures (partition table, otadata, record log, app image) */
static inline uint32_t host_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline void host_put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void host_put32(uint8_t *p, uint32_t v)
{
    host_put16(p, v);
    host_put16(p + 2, v >> 16);
}

/* ---- flash_file.c: NOR flash over a file ---- */
typedef struct {
    uint32_t sector_erase_us, block_erase_us, page_program_us;
} flash_timing_t;

typedef struct flash_file flash_file_t;
/** Called around every erase/program with the time it takes (the UART blackout model). */
typedef void (*flash_hook_t)(void *user, uint32_t us);

struct flash_file {
    int fd;               /* -1: memory only */
    uint8_t *mem;
    uint32_t size;
    flash_timing_t timing;
    flash_hook_t hook;    /* NULL: sleep for the operation's time */
    void *hook_user;
    uint32_t erases, programs;
};

/** Open `path`; a missing file is created with the factory layout (chip_id, factory_version).
 *  Returns 0, or -1 with a message in err. */
int flash_open(flash_file_t *f, const char *path, uint16_t chip_id, const char *factory_version,
               char *err, size_t err_len);
/** A fresh factory flash of `size` bytes in memory only (no file). */
int flash_open_memory(flash_file_t *f, uint32_t size, uint16_t chip_id, const char *factory_version);
void flash_close(flash_file_t *f);
int flash_read(const flash_file_t *f, uint32_t addr, uint8_t *buf, size_t len);
/** Erase whole sectors (64 KiB blocks where aligned). */
int flash_erase(flash_file_t *f, uint32_t addr, uint32_t len);
/** NOR program: fails, changing nothing, if a bit would go from 0 to 1. */
int flash_program(flash_file_t *f, uint32_t addr, const uint8_t *buf, size_t len);
/** Erase the sectors covering [addr, addr+len) and program buf there (metadata writes). */
int flash_rewrite(flash_file_t *f, uint32_t addr, const uint8_t *buf, size_t len);
/** Time in microseconds the flash operations on [addr, addr+len) take. */
uint32_t flash_erase_us(const flash_timing_t *t, uint32_t addr, uint32_t len);
uint32_t flash_program_us(const flash_timing_t *t, uint32_t addr, uint32_t len);

/* ---- factory.c: the fresh flash image ---- */
/** What an app image is built from (src/image/build-app.ts BuildAppOptions). */
typedef struct {
    const char *version, *project;
    uint32_t secure_version;
    uint16_t chip_id, min_rev, max_rev;
    uint32_t data_len;  /* filler segment bytes, multiple of 16 (0x800: the recipe's default) */
    uint32_t seed;      /* 0: the recipe's (7*i + 3) filler; else a deterministic other one */
} app_spec_t;
/** Size of the image app_build makes for `spec`. */
size_t app_size(const app_spec_t *spec);
/** App image bytes as buildAppImage() writes them (default size: byte-identical); returns the
 *  length or 0 if out is too small or a field does not fit. */
size_t app_build(uint8_t *out, size_t cap, const app_spec_t *spec);
/** The factory app of a fresh flash (buildAppImage for createFlashImage). */
size_t factory_app(uint8_t *out, size_t cap, const char *version, uint32_t secure_version,
                   uint16_t chip_id, const char *project);
/** The two-OTA partition table (0xC00 bytes) as gen_esp32part.py writes it. */
void factory_partition_table(uint8_t out[HOST_PT_MAX]);

/* ---- esp_flash.c: partitions, otadata, bootloader ---- */
typedef struct {
    char label[17];
    uint8_t type, subtype;
    uint32_t offset, size;
} host_part_t;

typedef struct {
    uint16_t chip_id, chip_rev;
    int rollback, anti_rollback;
    uint32_t efuse_secure_version;
} boot_cfg_t;

typedef struct {
    flash_file_t *flash;
    host_part_t apps[HOST_MAX_APPS]; /* factory first, then ota_0, ota_1, ... */
    int napps;
    int n_ota;
    uint32_t otadata, nvs;           /* partition offsets, 0 if absent */
} esp_layout_t;

int esp_layout_load(esp_layout_t *l, flash_file_t *f, char *err, size_t err_len);
int esp_ota_index(const esp_layout_t *l, int k);
int esp_factory_index(const esp_layout_t *l);
/** otadata state of app slot `idx` for HELLO_ACK (0xFF: none). */
uint8_t esp_slot_state(const esp_layout_t *l, int idx);
/** Index of the app the bootloader starts (-1: nothing bootable); writes the state changes of a
 *  real boot (PENDING_VERIFY -> ABORTED, NEW -> PENDING_VERIFY) unless dry_run. */
int esp_bootloader(const esp_layout_t *l, const boot_cfg_t *cfg, int dry_run);
/** Inspect slot idx: version etc. (valid = verifies for this chip). */
void esp_inspect(const esp_layout_t *l, int idx, const boot_cfg_t *cfg, otarx_part_t *out);
/** esp_ota_set_boot_partition for app slot idx. */
int esp_set_boot(const esp_layout_t *l, int idx, int rollback);
/** State of the active otadata entry if it selects app slot idx, else -1. */
long esp_active_state_for(const esp_layout_t *l, int idx);
/** App slot the active otadata entry selects (-1: none). */
int esp_active_index(const esp_layout_t *l);
/** Rewrite the state of the active entry. */
int esp_set_active_state(const esp_layout_t *l, uint32_t state);

/* resume record log in the first sector of nvs (SPEC §7) */
int esp_record_load(const esp_layout_t *l, otarx_record_t *rec);
int esp_record_store(const esp_layout_t *l, const otarx_record_t *rec);

/** ESP ROM crc32_le(0xFFFFFFFF, &seq, 4) of an otadata entry. */
uint32_t esp_ota_seq_crc(uint32_t seq);

#endif /* OTARX_HOST_H */
