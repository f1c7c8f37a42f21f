/*
 * factory.c: the fresh flash of the host device, byte for byte as the TypeScript simulator makes
 * it (src/device-sim/flash-image.ts createFlashImage): ESP-IDF's two-OTA partition table as
 * gen_esp32part.py writes it (with its MD5 entry), and a factory app built like
 * src/image/build-app.ts buildAppImage() with the default size.
 */
#include <string.h>

#include "host.h"
#include "mbedtls/md.h"

static void digest(mbedtls_md_type_t t, const uint8_t *in, size_t n, uint8_t *out)
{
    if (mbedtls_md(mbedtls_md_info_from_type(t), in, n, out) != 0) {
        memset(out, 0, 32);
    }
}

static const struct {
    const char *label;
    uint8_t type, subtype;
    uint32_t offset, size;
} k_two_ota[] = {
    {"nvs", 1, 0x02, 0x9000, 0x4000},       {"otadata", 1, 0x00, 0xd000, 0x2000},
    {"phy_init", 1, 0x01, 0xf000, 0x1000},  {"factory", 0, 0x00, 0x10000, 0x100000},
    {"ota_0", 0, 0x10, 0x110000, 0x100000}, {"ota_1", 0, 0x11, 0x210000, 0x100000},
};

void factory_partition_table(uint8_t out[HOST_PT_MAX])
{
    size_t i, n = sizeof(k_two_ota) / sizeof(k_two_ota[0]);
    memset(out, 0xFF, HOST_PT_MAX);
    for (i = 0; i < n; i++) {
        uint8_t *e = out + 32u * i;
        host_put16(e, 0x50AA);
        e[2] = k_two_ota[i].type;
        e[3] = k_two_ota[i].subtype;
        host_put32(e + 4, k_two_ota[i].offset);
        host_put32(e + 8, k_two_ota[i].size);
        memset(e + 12, 0, 16);
        memcpy(e + 12, k_two_ota[i].label, strlen(k_two_ota[i].label));
        host_put32(e + 28, 0);
    }
    host_put16(out + 32u * n, 0xEBEB);
    memset(out + 32u * n + 2u, 0xFF, 14);
    digest(MBEDTLS_MD_MD5, out, 32u * n, out + 32u * n + 16u);
}

#define SEG0_LEN 0x400u
#define DATA_LEN 0x800u
#define DESC_AT 0x20u

size_t app_size(const app_spec_t *spec)
{
    uint32_t seg_end = 24u + 8u + SEG0_LEN + 8u + spec->data_len;
    return seg_end + (15u - seg_end % 16u) + 1u + 32u;
}

static void fill(uint8_t *p, uint32_t n, uint32_t seed)
{
    uint32_t i, x = (seed ^ 0x9E3779B9u) != 0 ? (seed ^ 0x9E3779B9u) : 1u;
    for (i = 0; i < n; i++) {
        if (seed == 0) {
            p[i] = (uint8_t)((7u * i + 3u) & 0xFFu);
            continue;
        }
        if (i % 4u == 0) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
        }
        p[i] = (uint8_t)(x >> (8u * (i % 4u)));
    }
}

size_t app_build(uint8_t *img, size_t cap, const app_spec_t *spec)
{
    static const char rodata_text[] = "ESP32 test vector rodata. ";
    uint32_t drom = 0x3c000020u, iram = 0x40380000u, entry = 0x40380404u;
    uint32_t seg_end = 24u + 8u + SEG0_LEN + 8u + spec->data_len;
    uint32_t csum_at = seg_end + (15u - seg_end % 16u), off, i, w = 0;
    size_t len = app_size(spec);
    uint8_t *d = img + DESC_AT;
    char elf[80];
    if (cap < len || strlen(spec->version) > 32 || strlen(spec->project) > 32 ||
        spec->data_len % 16u != 0 || spec->data_len >= 16u * 1024u * 1024u) {
        return 0;
    }
    if (spec->chip_id == 0) {
        drom = 0x3f400020u, iram = 0x40080000u, entry = 0x40080404u;
    } else if (spec->chip_id == 2) {
        drom = 0x3f000020u, iram = 0x40020000u, entry = 0x40020404u;
    }
    memset(img, 0, len);
    /* image header: DIO, 40 MHz, 4 MB; WP pin disabled; hash appended */
    img[0] = 0xE9;
    img[1] = 2;
    img[2] = 0x02;
    img[3] = 0x20;
    host_put32(img + 4, entry);
    img[8] = 0xEE;
    host_put16(img + 12, spec->chip_id);
    img[14] = (uint8_t)(spec->min_rev / 100u > 255u ? 255u : spec->min_rev / 100u);
    host_put16(img + 15, spec->min_rev);
    host_put16(img + 17, spec->max_rev);
    img[23] = 1;
    /* segment 0: app description, then the recipe's rodata text */
    host_put32(img + 24, drom);
    host_put32(img + 28, SEG0_LEN);
    host_put32(d, 0xABCD5432u);
    host_put32(d + 4, spec->secure_version);
    memcpy(d + 16, spec->version, strlen(spec->version));
    memcpy(d + 48, spec->project, strlen(spec->project));
    memcpy(d + 80, "12:00:00", 8);
    memcpy(d + 96, "Jan  1 2026", 11);
    memcpy(d + 112, "v5.4.1", 6);
    (void)strcpy(elf, spec->project);
    (void)strcat(elf, " placeholder ELF");
    digest(MBEDTLS_MD_SHA256, (const uint8_t *)elf, strlen(elf), d + 144);
    host_put16(d + 176, 0);
    host_put16(d + 178, 99);
    d[180] = 16;
    d[181] = 3;
    for (i = 0; i < SEG0_LEN - 256u; i++) {
        img[DESC_AT + 256u + i] = (uint8_t)rodata_text[i % (sizeof(rodata_text) - 1u)];
    }
    /* segment 1: filler */
    off = 24u + 8u + SEG0_LEN;
    host_put32(img + off, iram);
    host_put32(img + off + 4u, spec->data_len);
    fill(img + off + 8u, spec->data_len, spec->seed);
    /* checksum: 0xEF xor every segment data byte (folded from 32-bit words) */
    for (i = 24u + 8u; i < 24u + 8u + SEG0_LEN; i += 4u) {
        w ^= host_get32(img + i);
    }
    for (i = off + 8u; i < off + 8u + spec->data_len; i += 4u) {
        w ^= host_get32(img + i);
    }
    img[csum_at] = (uint8_t)(0xEFu ^ w ^ (w >> 8) ^ (w >> 16) ^ (w >> 24));
    digest(MBEDTLS_MD_SHA256, img, csum_at + 1u, img + csum_at + 1u);
    return len;
}

size_t factory_app(uint8_t *out, size_t cap, const char *version, uint32_t secure_version,
                   uint16_t chip_id, const char *project)
{
    app_spec_t spec;
    memset(&spec, 0, sizeof(spec));
    spec.version = version;
    spec.project = project;
    spec.secure_version = secure_version;
    spec.chip_id = chip_id;
    spec.max_rev = 399;
    spec.data_len = DATA_LEN;
    return app_build(out, cap, &spec);
}
