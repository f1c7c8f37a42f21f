/*
 * appimg.c: checks on the decrypted ESP app image (esp-formats §3): the early checks of
 * SPEC §4.6 on the first 288 plaintext bytes, and a streaming esp_image_verify that reads the
 * written partition back through the ops table (SHA-256 through mbedtls_md).
 */
#include "otarx_priv.h"

#include "mbedtls/md.h"

#define APP_MAGIC 0xE9u
#define DESC_MAGIC 0xABCD5432u
#define DESC_AT 0x20u
#define MAX_SEGMENTS 16u
#define MAX_SEG_LEN (16u * 1024u * 1024u)
#define MMU_PAGE 0x10000u

int otarx_app_early_check(otarx_ctx_t *ctx, const uint8_t *head, size_t head_len,
                          int allow_downgrade, uint32_t *detail)
{
    otarx_dev_info_t dev;
    otarx_part_t run;
    uint16_t rmin, rmax;
    memset(&dev, 0, sizeof(dev));
    memset(&run, 0, sizeof(run));
    *detail = 0;
    /* SPEC §4.6: a refusal's detail says what the image wants, so the host can name both sides */
    if (head_len >= 1u && head[0] != APP_MAGIC) {
        return OTARX_NOT_APP;
    }
    if (head_len < OTARX_APP_PREFIX || otarx_get32(&head[DESC_AT]) != DESC_MAGIC) {
        return OTARX_NOT_APP;
    }
    if (ctx->_ops->get_info(ctx->_user, &dev) != OTARX_OK) {
        return OTARX_FLASH_ERROR;
    }
    if (otarx_get16(&head[12]) != dev.chip_id) {
        *detail = otarx_get16(&head[12]);
        return OTARX_WRONG_CHIP;
    }
    rmin = otarx_get16(&head[15]);
    rmax = otarx_get16(&head[17]);
    if (dev.chip_rev < rmin || (rmax != 0 && rmax != 0xFFFFu && dev.chip_rev > rmax)) {
        *detail = (uint32_t)rmin | ((uint32_t)rmax << 16);
        return OTARX_CHIP_REV;
    }
    if ((dev.flags & OTARX_DEV_ANTI_ROLLBACK) &&
        otarx_get32(&head[DESC_AT + 4u]) < dev.efuse_secure_version) {
        *detail = otarx_get32(&head[DESC_AT + 4u]);
        return OTARX_SECURE_VERSION;
    }
    if (!allow_downgrade && dev.running < dev.nparts) {
        int c;
        if (ctx->_ops->get_part(ctx->_user, dev.running, &run) != OTARX_OK) {
            return OTARX_FLASH_ERROR;
        }
        c = otarx_version_cmp((const char *)&head[DESC_AT + 16u], 32, run.version, 32);
        if (c <= 0) { /* OTARX_VERSION_UNORDERED (2) is accepted */
            *detail = c == 0 ? 1u : 2u; /* 1: the same version, 2: older */
            return OTARX_DOWNGRADE;
        }
    }
    return OTARX_OK;
}

/* ---- streaming verification ---- */

typedef struct {
    const otarx_ops_t *ops;
    void *user;
    uint8_t part;
    uint32_t len;     /* bytes available */
    uint32_t pos;     /* bytes hashed so far */
    uint8_t *scratch;
    size_t scratch_len;
    mbedtls_md_context_t md;
    uint8_t sum;
} vreader_t;

/* Read and hash the next n bytes; copy the last min(n, cap) of them to `out` if given; XOR the
 * bytes into the checksum if `xor`. */
static OTARX_CHECK int take(vreader_t *r, uint32_t n, uint8_t *out, int xor)
{
    uint32_t left = n;
    while (left > 0) {
        size_t k = left < r->scratch_len ? left : r->scratch_len;
        size_t i;
        if (r->ops->flash_read(r->user, r->part, r->pos, r->scratch, k) != OTARX_OK) {
            return OTARX_FLASH_ERROR;
        }
        if (mbedtls_md_update(&r->md, r->scratch, k) != 0) {
            return OTARX_ERR_CRYPTO;
        }
        if (xor) {
            for (i = 0; i < k; i++) {
                r->sum ^= r->scratch[i];
            }
        }
        if (out != NULL) {
            memcpy(out, r->scratch, k); /* callers only pass out with n <= scratch_len */
        }
        r->pos += (uint32_t)k;
        left -= (uint32_t)k;
    }
    return OTARX_OK;
}

static int is_mapped(uint16_t chip, uint32_t a)
{
    if (chip == 0) { /* ESP32: DROM, IROM */
        return (a >= 0x3F400000u && a < 0x3F800000u) || (a >= 0x400D0000u && a < 0x40400000u);
    }
    if (chip == 5) { /* ESP32-C3 */
        return (a >= 0x3C000000u && a < 0x3C800000u) || (a >= 0x42000000u && a < 0x42800000u);
    }
    return 0;
}

#define FAIL_AT(off)          \
    do {                      \
        info->detail = (off); \
        return OTARX_INVALID_IMAGE; \
    } while (0)

static OTARX_CHECK int verify_walk(vreader_t *r, uint16_t chip_id, uint16_t chip_rev,
                                   otarx_image_info_t *info)
{
    uint8_t h[24], desc[80];
    uint32_t nseg, i, csum_at;
    uint8_t digest[32], stored[32];
    if (r->len < 24u) {
        FAIL_AT(r->len);
    }
    OTARX_TRY(take(r, 24, h, 0));
    if (h[0] != APP_MAGIC) FAIL_AT(0);
    if (otarx_get16(&h[12]) != chip_id) FAIL_AT(12);
    if (chip_rev != 0xFFFFu) {
        uint16_t rmax = otarx_get16(&h[17]);
        if (chip_rev < otarx_get16(&h[15])) FAIL_AT(15);
        if (rmax != 0 && rmax != 0xFFFFu && chip_rev > rmax) FAIL_AT(17);
    }
    nseg = h[1];
    if (nseg == 0 || nseg > MAX_SEGMENTS) FAIL_AT(1);
    for (i = 0; i < nseg; i++) {
        uint8_t sh[8];
        uint32_t off = r->pos, load, dlen;
        if (off + 8u > r->len) FAIL_AT(off);
        OTARX_TRY(take(r, 8, sh, 0));
        load = otarx_get32(sh);
        dlen = otarx_get32(&sh[4]);
        if (dlen % 4u != 0 || dlen >= MAX_SEG_LEN) FAIL_AT(off + 4u);
        if (dlen > r->len - r->pos) FAIL_AT(off);
        if (i == 0 && dlen < 256u) FAIL_AT(off + 4u);
        if (is_mapped(chip_id, load) && r->pos % MMU_PAGE != load % MMU_PAGE) FAIL_AT(off);
        if (i == 0) {
            /* the app description opens segment 0 */
            OTARX_TRY(take(r, sizeof(desc), desc, 1));
            OTARX_TRY(take(r, dlen - (uint32_t)sizeof(desc), NULL, 1));
        } else {
            OTARX_TRY(take(r, dlen, NULL, 1));
        }
    }
    if (otarx_get32(desc) != DESC_MAGIC) FAIL_AT(DESC_AT);
    csum_at = r->pos + (15u - r->pos % 16u);
    if (csum_at >= r->len) FAIL_AT(csum_at);
    {
        uint8_t tail[16];
        uint32_t n = csum_at + 1u - r->pos; /* zero padding, then the checksum byte */
        uint8_t sum = r->sum;
        OTARX_TRY(take(r, n, tail, 0));
        if (tail[n - 1u] != sum) FAIL_AT(csum_at);
    }
    if (mbedtls_md_finish(&r->md, digest) != 0) {
        return OTARX_ERR_CRYPTO;
    }
    info->image_len = r->pos;
    if (h[23] == 1) {
        if (r->pos + 32u > r->len) FAIL_AT(r->pos);
        if (r->ops->flash_read(r->user, r->part, r->pos, stored, 32) != OTARX_OK) {
            return OTARX_FLASH_ERROR;
        }
        if (memcmp(stored, digest, 32) != 0) FAIL_AT(r->pos);
        info->image_len += 32u;
    }
    info->secure_version = otarx_get32(&desc[4]);
    memcpy(info->version, &desc[16], 32);
    memcpy(info->project, &desc[48], 32);
    return OTARX_OK;
}

int otarx_image_verify(const otarx_ops_t *ops, void *user, uint8_t part, uint32_t len,
                       uint16_t chip_id, uint16_t chip_rev, uint8_t *scratch,
                       size_t scratch_len, otarx_image_info_t *info)
{
    vreader_t r;
    int rc;
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    memset(info, 0, sizeof(*info));
    if (ops == NULL || scratch == NULL || scratch_len < 80u || md == NULL) {
        return OTARX_ERR_ARG;
    }
    r.ops = ops;
    r.user = user;
    r.part = part;
    r.len = len;
    r.pos = 0;
    r.scratch = scratch;
    r.scratch_len = scratch_len;
    r.sum = 0xEFu;
    mbedtls_md_init(&r.md);
    rc = (mbedtls_md_setup(&r.md, md, 0) == 0 && mbedtls_md_starts(&r.md) == 0)
             ? verify_walk(&r, chip_id, chip_rev, info)
             : OTARX_ERR_CRYPTO;
    mbedtls_md_free(&r.md);
    return rc;
}
