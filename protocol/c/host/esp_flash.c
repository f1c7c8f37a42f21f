/*
 * esp_flash.c: what an ESP32 knows about its flash, as the TypeScript simulator models it
 * (src/device-sim/{partition-table,otadata,layout,boot}.ts): the partition table at 0x8000,
 * otadata (two 32-byte entries a sector apart, ESP ROM CRC over ota_seq), the second-stage
 * bootloader's choice with rollback, and esp_ota_set_boot_partition. The resume record log is
 * in record_log.c.
 */
#include <stdio.h>
#include <string.h>

#include "host.h"
#include "mbedtls/md.h"

#define ENTRY 32u
#define SEQ_EMPTY 0xFFFFFFFFu
#define ST_NEW 0u
#define ST_PENDING 1u
#define ST_VALID 2u
#define ST_INVALID 3u
#define ST_ABORTED 4u
#define ST_UNDEFINED 0xFFFFFFFFu

uint32_t esp_ota_seq_crc(uint32_t seq)
{
    uint32_t c = 0;
    int i, k;
    for (i = 0; i < 4; i++) {
        c ^= (seq >> (8 * i)) & 0xFFu;
        for (k = 0; k < 8; k++) {
            c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        }
    }
    return c ^ 0xFFFFFFFFu;
}

int esp_layout_load(esp_layout_t *l, flash_file_t *f, char *err, size_t err_len)
{
    uint8_t pt[HOST_PT_MAX];
    uint32_t off;
    int i, j;
    memset(l, 0, sizeof(*l));
    l->flash = f;
    if (flash_read(f, HOST_PT_OFFSET, pt, sizeof(pt)) != 0) {
        snprintf(err, err_len, "flash too small for a partition table at 0x8000");
        return -1;
    }
    for (off = 0; off + 32u <= sizeof(pt); off += 32u) {
        const uint8_t *e = pt + off;
        uint16_t magic = (uint16_t)(e[0] | (e[1] << 8));
        if (magic == 0xFFFFu) {
            break;
        }
        if (magic == 0xEBEBu) {
            uint8_t md5[16];
            if (mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_MD5), pt, off, md5) != 0 ||
                memcmp(md5, e + 16, 16) != 0) {
                snprintf(err, err_len, "partition table MD5 mismatch");
                return -1;
            }
            break;
        }
        if (magic != 0x50AAu) {
            snprintf(err, err_len, "bad partition entry magic at 0x%lx", (unsigned long)off);
            return -1;
        }
        if (e[2] == 0 && (e[3] == 0 || (e[3] >= 0x10 && e[3] <= 0x1F)) &&
            l->napps < HOST_MAX_APPS) {
            host_part_t *p = &l->apps[l->napps++];
            memcpy(p->label, e + 12, 16);
            p->label[16] = 0;
            p->type = e[2];
            p->subtype = e[3];
            p->offset = host_get32(e + 4);
            p->size = host_get32(e + 8);
            if (e[3] != 0) {
                l->n_ota++;
            }
        } else if (e[2] == 1 && e[3] == 0x00 && l->otadata == 0) {
            l->otadata = host_get32(e + 4);
        } else if (e[2] == 1 && e[3] == 0x02 && l->nvs == 0) {
            l->nvs = host_get32(e + 4);
        }
    }
    /* protocol order: factory first, then ota_0, ota_1, ... (stable sort by subtype) */
    for (i = 1; i < l->napps; i++) {
        host_part_t t = l->apps[i];
        for (j = i; j > 0 && l->apps[j - 1].subtype > t.subtype; j--) {
            l->apps[j] = l->apps[j - 1];
        }
        l->apps[j] = t;
    }
    if (l->napps == 0) {
        snprintf(err, err_len, "the partition table has no app partition");
        return -1;
    }
    return 0;
}

int esp_ota_index(const esp_layout_t *l, int k)
{
    int i;
    for (i = 0; i < l->napps; i++) {
        if (l->apps[i].subtype == 0x10 + k) {
            return i;
        }
    }
    return -1;
}

int esp_factory_index(const esp_layout_t *l)
{
    int i;
    for (i = 0; i < l->napps; i++) {
        if (l->apps[i].subtype == 0x00) {
            return i;
        }
    }
    return -1;
}

typedef struct {
    uint32_t seq, state, crc;
} entry_t;

static void read_entries(const esp_layout_t *l, entry_t e[2])
{
    int i;
    for (i = 0; i < 2; i++) {
        uint8_t b[ENTRY];
        memset(b, 0xFF, sizeof(b));
        if (l->otadata != 0) {
            (void)flash_read(l->flash, l->otadata + (uint32_t)i * HOST_SECTOR, b, ENTRY);
        }
        e[i].seq = host_get32(b);
        e[i].state = host_get32(b + 24);
        e[i].crc = host_get32(b + 28);
    }
}

static int write_entry(const esp_layout_t *l, int i, uint32_t seq, uint32_t state)
{
    uint8_t b[ENTRY];
    memset(b, 0xFF, sizeof(b));
    host_put32(b, seq);
    host_put32(b + 24, state);
    host_put32(b + 28, esp_ota_seq_crc(seq));
    return flash_rewrite(l->flash, l->otadata + (uint32_t)i * HOST_SECTOR, b, ENTRY);
}

static int entry_valid(const entry_t *e)
{
    return e->seq != SEQ_EMPTY && e->crc == esp_ota_seq_crc(e->seq) && e->state != ST_INVALID &&
           e->state != ST_ABORTED;
}

static int active_entry(const entry_t e[2])
{
    int best = -1, i;
    for (i = 0; i < 2; i++) {
        if (entry_valid(&e[i]) && (best < 0 || e[i].seq > e[best].seq)) {
            best = i;
        }
    }
    return best;
}

static int entry_slot(const esp_layout_t *l, const entry_t *e)
{
    return (int)((e->seq - 1u) % (uint32_t)l->n_ota);
}

uint8_t esp_slot_state(const esp_layout_t *l, int idx)
{
    entry_t e[2];
    int i, best = -1;
    if (idx < 0 || idx >= l->napps || l->apps[idx].subtype == 0 || l->otadata == 0) {
        return 0xFF;
    }
    read_entries(l, e);
    for (i = 0; i < 2; i++) {
        if (e[i].seq == SEQ_EMPTY || e[i].crc != esp_ota_seq_crc(e[i].seq) ||
            entry_slot(l, &e[i]) != l->apps[idx].subtype - 0x10) {
            continue;
        }
        if (best < 0 || e[i].seq > e[best].seq) {
            best = i;
        }
    }
    return best < 0 || e[best].state > 0xFFu ? 0xFF : (uint8_t)e[best].state;
}

long esp_active_state_for(const esp_layout_t *l, int idx)
{
    entry_t e[2];
    int a;
    if (idx < 0 || l->otadata == 0 || l->n_ota == 0) {
        return -1;
    }
    read_entries(l, e);
    a = active_entry(e);
    if (a < 0 || esp_ota_index(l, entry_slot(l, &e[a])) != idx) {
        return -1;
    }
    return (long)e[a].state;
}

int esp_active_index(const esp_layout_t *l)
{
    entry_t e[2];
    int a;
    if (l->otadata == 0 || l->n_ota == 0) {
        return -1;
    }
    read_entries(l, e);
    a = active_entry(e);
    return a < 0 ? -1 : esp_ota_index(l, entry_slot(l, &e[a]));
}

int esp_set_active_state(const esp_layout_t *l, uint32_t state)
{
    entry_t e[2];
    int a;
    read_entries(l, e);
    a = active_entry(e);
    return a < 0 ? -1 : write_entry(l, a, e[a].seq, state);
}

/* ---- apps and the bootloader ---- */

static int read_part(void *user, uint8_t part, uint32_t off, uint8_t *buf, size_t len)
{
    const esp_layout_t *l = (const esp_layout_t *)user;
    const host_part_t *p = &l->apps[part];
    if (off > p->size || len > p->size - off) {
        return OTARX_FLASH_ERROR;
    }
    return flash_read(l->flash, p->offset + off, buf, len) == 0 ? OTARX_OK : OTARX_FLASH_ERROR;
}

void esp_inspect(const esp_layout_t *l, int idx, const boot_cfg_t *cfg, otarx_part_t *out)
{
    const host_part_t *p = &l->apps[idx];
    otarx_ops_t ops;
    otarx_image_info_t info;
    uint8_t head[288], scratch[4096];
    memset(out, 0, sizeof(*out));
    out->subtype = p->subtype;
    out->state = esp_slot_state(l, idx);
    out->offset = p->offset;
    out->size = p->size;
    /* the description is reported when the header parses, valid or not (layout.ts) */
    if (p->size >= sizeof(head) && flash_read(l->flash, p->offset, head, sizeof(head)) == 0 &&
        head[0] == 0xE9 && host_get32(head + 0x20) == 0xABCD5432u) {
        out->secure_version = host_get32(head + 0x24);
        memcpy(out->version, head + 0x30, 32);
        memcpy(out->project, head + 0x50, 32);
    } else {
        return;
    }
    memset(&ops, 0, sizeof(ops));
    ops.flash_read = read_part;
    out->valid = otarx_image_verify(&ops, (void *)l, (uint8_t)idx, p->size, cfg->chip_id,
                                    cfg->chip_rev, scratch, sizeof(scratch), &info) == OTARX_OK;
}

static int slot_bootable(const esp_layout_t *l, int idx, const boot_cfg_t *cfg)
{
    otarx_part_t part;
    esp_inspect(l, idx, cfg, &part);
    return part.valid &&
           (!cfg->anti_rollback || part.secure_version >= cfg->efuse_secure_version);
}

static int idf_index(const esp_layout_t *l, int i)
{
    return l->apps[i].subtype == 0 ? -1 : l->apps[i].subtype - 0x10;
}

int esp_bootloader(const esp_layout_t *l, const boot_cfg_t *cfg, int dry_run)
{
    entry_t e[2];
    int i, a, start, order[HOST_MAX_APPS], n = 0, s;
    read_entries(l, e);
    if (cfg->rollback && l->otadata != 0) {
        for (i = 0; i < 2; i++) {
            if (e[i].state == ST_PENDING) {
                /* the app never confirmed itself: ESP-IDF aborts it on this boot */
                if (!dry_run) {
                    (void)write_entry(l, i, e[i].seq, ST_ABORTED);
                }
                e[i].state = ST_ABORTED;
            }
        }
    }
    a = active_entry(e);
    if (a >= 0 && l->n_ota > 0) {
        start = esp_ota_index(l, entry_slot(l, &e[a]));
        if (cfg->rollback && e[a].state == ST_NEW && !dry_run) {
            (void)write_entry(l, a, e[a].seq, ST_PENDING);
        }
    } else {
        start = esp_factory_index(l);
        if (start < 0) {
            start = esp_ota_index(l, 0);
        }
    }
    /* ESP-IDF order: the selected slot, lower slots down to factory, then higher ones */
    if (start < 0) {
        for (i = 0; i < l->napps; i++) {
            order[n++] = i;
        }
    } else {
        s = idf_index(l, start);
        order[n++] = start;
        for (i = l->napps - 1; i >= 0; i--) {
            if (idf_index(l, i) < s) {
                order[n++] = i;
            }
        }
        for (i = 0; i < l->napps; i++) {
            if (idf_index(l, i) > s) {
                order[n++] = i;
            }
        }
    }
    for (i = 0; i < n; i++) {
        int idx = order[i];
        uint8_t st = esp_slot_state(l, idx);
        if (idx != start && (st == ST_INVALID || st == ST_ABORTED)) {
            continue; /* refused on purpose: not a fallback */
        }
        if (slot_bootable(l, idx, cfg)) {
            return idx;
        }
    }
    return -1;
}

int esp_set_boot(const esp_layout_t *l, int idx, int rollback)
{
    entry_t e[2];
    uint32_t state = rollback ? ST_NEW : ST_UNDEFINED, seq, k, n = (uint32_t)l->n_ota;
    int a;
    if (l->otadata == 0) {
        return -1;
    }
    if (l->apps[idx].subtype == 0) {
        return flash_erase(l->flash, l->otadata, 2u * HOST_SECTOR); /* factory boots */
    }
    k = (uint32_t)(l->apps[idx].subtype - 0x10);
    read_entries(l, e);
    a = active_entry(e);
    if (a < 0) {
        return write_entry(l, 0, k + 1u, state);
    }
    if ((uint32_t)entry_slot(l, &e[a]) == k) {
        return write_entry(l, a, e[a].seq, state);
    }
    for (seq = e[a].seq + 1u; (seq - 1u) % n != k; seq++) {
    }
    return write_entry(l, a ^ 1, seq, state);
}
