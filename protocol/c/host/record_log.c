/*
 * record_log.c: the durable resume record of SPEC §7 as the simulator keeps it
 * (src/device-sim/resume-record.ts): 32-byte entries (magic "MSER", offset, image id prefix,
 * CRC-32 of the first 28 bytes) appended into the erased space of the first nvs sector; the last
 * well-formed entry is the record; a full sector is erased and the log starts again; clearing
 * erases the sector.
 */
#include <string.h>

#include "host.h"

#define ENTRY 32u

#define REC_MAGIC 0x5245534Du
#define REC_SLOTS (HOST_SECTOR / ENTRY)

static int rec_entry(const uint8_t *b, otarx_record_t *rec)
{
    if (host_get32(b) != REC_MAGIC || otarx_crc32(0, b, 28) != host_get32(b + 28)) {
        return 0;
    }
    rec->offset = host_get32(b + 4);
    memcpy(rec->image_id, b + 8, 20);
    return 1;
}

/* The last valid entry and the index of the first erased slot (REC_SLOTS if full). */
static int rec_scan(const esp_layout_t *l, otarx_record_t *rec, uint32_t *free_at)
{
    uint8_t b[ENTRY];
    uint32_t i;
    int found = 0;
    *free_at = REC_SLOTS;
    for (i = 0; i < REC_SLOTS; i++) {
        if (flash_read(l->flash, l->nvs + i * ENTRY, b, ENTRY) != 0) {
            break;
        }
        if (host_get32(b) == 0xFFFFFFFFu && host_get32(b + 28) == 0xFFFFFFFFu) {
            *free_at = i;
            break;
        }
        if (rec_entry(b, rec)) {
            found = 1;
        }
    }
    return found;
}

int esp_record_load(const esp_layout_t *l, otarx_record_t *rec)
{
    uint32_t free_at;
    if (l->nvs == 0 || !rec_scan(l, rec, &free_at) || rec->offset <= 512u) {
        return OTARX_NO_SESSION;
    }
    return OTARX_OK;
}

int esp_record_store(const esp_layout_t *l, const otarx_record_t *rec)
{
    uint8_t b[ENTRY];
    otarx_record_t last;
    uint32_t free_at;
    int have;
    if (l->nvs == 0) {
        return OTARX_ERR_IO;
    }
    have = rec_scan(l, &last, &free_at);
    if (rec == NULL) {
        /* clearing erases the log, as the simulator does (its reader takes the last entry) */
        if (!have && free_at == 0) {
            return OTARX_OK;
        }
        return flash_erase(l->flash, l->nvs, HOST_SECTOR) == 0 ? OTARX_OK : OTARX_ERR_IO;
    }
    memset(b, 0, sizeof(b));
    host_put32(b, REC_MAGIC);
    host_put32(b + 4, rec->offset);
    memcpy(b + 8, rec->image_id, 20);
    host_put32(b + 28, otarx_crc32(0, b, 28));
    if (free_at >= REC_SLOTS) {
        /* full: erase and start over (a cut here loses the record: resume is best effort) */
        if (flash_erase(l->flash, l->nvs, HOST_SECTOR) != 0) {
            return OTARX_ERR_IO;
        }
        free_at = 0;
    }
    return flash_program(l->flash, l->nvs + free_at * ENTRY, b, ENTRY) == 0 ? OTARX_OK
                                                                          : OTARX_ERR_IO;
}
