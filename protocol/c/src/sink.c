/*
 * sink.c: where decrypted plaintext goes. The first 288 bytes are also kept in ctx->_head for
 * the early checks (SPEC §4.6); nothing reaches flash before those checks pass, so a refused
 * image never erases the target slot (which may hold the rollback candidate). Then plaintext is
 * written to the target in order, erasing ahead of the write pointer (64 KiB blocks where
 * aligned, else 4 KiB sectors, never beyond the image), and the durable resume record (SPEC §7)
 * is stored after the write it describes.
 */
#include "otarx_priv.h"

#define BLOCK 0x10000u

/* ESP32 flash typicals (GD25Q32/W25Q32 class), used when the port gives no estimate */
static uint32_t default_work_ms(otarx_work_t work, uint32_t bytes)
{
    switch (work) {
    case OTARX_WORK_ERASE:
        return (bytes / BLOCK) * 150u + ((bytes % BLOCK) / OTARX_SECTOR) * 45u;
    case OTARX_WORK_WRITE:
        return ((bytes + 255u) / 256u * 7u + 9u) / 10u; /* 0.7 ms per 256-byte page */
    case OTARX_WORK_READ:
        return (bytes + 2047u) / 2048u; /* read through the cache + SHA/AES: ~2 MB/s */
    case OTARX_WORK_UNWRAP:
        return 250u; /* RSA-3072 private key operation with the MPI accelerator */
    }
    return 0;
}

uint32_t otarx_work_ms(otarx_ctx_t *ctx, otarx_work_t work, uint32_t bytes)
{
    if (bytes == 0 && work != OTARX_WORK_UNWRAP) {
        return 0;
    }
    if (ctx->_ops->work_ms != NULL) {
        return ctx->_ops->work_ms(ctx->_user, work, bytes);
    }
    return default_work_ms(work, bytes);
}

void otarx_announce(otarx_ctx_t *ctx, uint32_t ms)
{
    if (ms >= OTARX_BUSY_THRESHOLD_MS) {
        otarx_send_ack(ctx, OTARX_BUSY, (uint16_t)otarx_min32(ms, 0xFFFFu));
    }
}

/* Plaintext bytes of the target that the image can occupy, sector-rounded. */
static uint32_t erase_limit(const otarx_ctx_t *ctx)
{
    uint32_t bin = ctx->_total - OTARX_HEADER_SIZE;
    return (bin + OTARX_SECTOR - 1u) & ~(OTARX_SECTOR - 1u);
}

/* Next erase step from `at`: a whole block when aligned and needed, else one sector. */
static uint32_t erase_step(const otarx_ctx_t *ctx, uint32_t at)
{
    return (at % BLOCK == 0 && at + BLOCK <= erase_limit(ctx)) ? BLOCK : OTARX_SECTOR;
}

uint32_t otarx_write_ms(otarx_ctx_t *ctx, uint32_t pos, uint32_t n)
{
    uint32_t at = ctx->_erased, ms = 0, end = pos + n;
    if (!ctx->_checked || n == 0) {
        return 0;
    }
    if (ctx->_wr < pos) {
        n += pos - ctx->_wr; /* the held-back head goes first */
    }
    while (at < end) {
        uint32_t step = erase_step(ctx, at);
        ms += otarx_work_ms(ctx, OTARX_WORK_ERASE, step);
        at += step;
    }
    return ms + otarx_work_ms(ctx, OTARX_WORK_WRITE, n);
}

static OTARX_CHECK int erase_ahead(otarx_ctx_t *ctx, uint32_t upto)
{
    while (ctx->_erased < upto) {
        uint32_t step = erase_step(ctx, ctx->_erased);
        if (ctx->_ops->flash_erase(ctx->_user, ctx->_target, ctx->_erased, step) != OTARX_OK) {
            OTARX_LOGE(ctx, "erase at 0x%lx failed", (unsigned long)ctx->_erased);
            return OTARX_FLASH_ERROR;
        }
        ctx->_erased += step;
    }
    return OTARX_OK;
}

void otarx_record_forget(otarx_ctx_t *ctx)
{
    if (ctx->_ops->record_store != NULL && ctx->_ops->record_store(ctx->_user, NULL) != OTARX_OK) {
        OTARX_LOGW(ctx, "cannot erase the resume record");
    }
}

int otarx_record_at(otarx_ctx_t *ctx, uint32_t plain)
{
    otarx_record_t rec;
    if (ctx->_ops->record_store == NULL) {
        return OTARX_OK;
    }
    if (plain == 0) {
        otarx_record_forget(ctx);
        return OTARX_OK;
    }
    memcpy(rec.image_id, ctx->_image_id, sizeof(rec.image_id));
    rec.offset = OTARX_HEADER_SIZE + plain;
    if (ctx->_ops->record_store(ctx->_user, &rec) != OTARX_OK) {
        return OTARX_FLASH_ERROR;
    }
    ctx->_recorded = plain;
    ctx->_sstats.records++;
    return OTARX_OK;
}

static void maybe_record(otarx_ctx_t *ctx)
{
    /* SPEC §7: offset = 512 + 16k, and never more than the slot holds */
    uint32_t good = ctx->_wr & ~15u;
    if (good >= ctx->_recorded + ctx->_rec_interval && otarx_record_at(ctx, good) != OTARX_OK) {
        OTARX_LOGW(ctx, "cannot store the resume record"); /* resume is best effort */
    }
}

static OTARX_CHECK int write_range(otarx_ctx_t *ctx, uint32_t pos, const uint8_t *p, size_t n)
{
    if (n == 0) {
        return OTARX_OK;
    }
    OTARX_TRY(erase_ahead(ctx, pos + (uint32_t)n));
    if (ctx->_ops->flash_write(ctx->_user, ctx->_target, pos, p, n) != OTARX_OK) {
        OTARX_LOGE(ctx, "write at 0x%lx failed", (unsigned long)pos);
        return OTARX_FLASH_ERROR;
    }
    ctx->_wr = pos + (uint32_t)n;
    return OTARX_OK;
}

int otarx_sink_write(otarx_ctx_t *ctx, uint32_t pos, const uint8_t *p, size_t n)
{
    if (!ctx->_checked) {
        return OTARX_OK; /* still collecting the head: written once the checks pass */
    }
    if (ctx->_wr < pos) {
        /* bytes held back until the early checks passed; they all lie in the head */
        if (pos > OTARX_APP_PREFIX) {
            return OTARX_ERR_ARG;
        }
        OTARX_TRY(write_range(ctx, ctx->_wr, &ctx->_head[ctx->_wr], pos - ctx->_wr));
    }
    if (ctx->_wr != pos) {
        return OTARX_ERR_ARG;
    }
    OTARX_TRY(write_range(ctx, pos, p, n));
    maybe_record(ctx);
    return OTARX_OK;
}

int otarx_sink_plain(otarx_ctx_t *ctx, uint32_t pos, const uint8_t *p, size_t n, uint32_t *detail)
{
    uint32_t bin = ctx->_total - OTARX_HEADER_SIZE, have = pos + (uint32_t)n;
    if (pos < OTARX_APP_PREFIX) {
        size_t k = otarx_min32(OTARX_APP_PREFIX - pos, (uint32_t)n);
        memcpy(&ctx->_head[pos], p, k);
    }
    if (ctx->_checked || (have < OTARX_APP_PREFIX && have < bin)) {
        return OTARX_OK;
    }
    OTARX_TRY(otarx_app_early_check(ctx, ctx->_head, otarx_min32(have, OTARX_APP_PREFIX),
                                    (ctx->_flags & OTARX_BEGIN_ALLOW_DOWNGRADE) != 0, detail));
    ctx->_checked = 1;
    return OTARX_OK;
}

/* After a reset the slot holds [0, plain) for sure; the rest of that sector may hold bytes
 * written after the record. If it holds anything but 0xFF, rewrite the sector from its start
 * (the record is first moved back to the sector start, so a cut meanwhile never leaves a record
 * that claims more than the flash holds). `buf` holds a sector. */
int otarx_sink_resume(otarx_ctx_t *ctx, uint32_t plain, uint8_t *buf)
{
    uint32_t sector = plain & ~(OTARX_SECTOR - 1u);
    uint32_t end = otarx_min32(sector + OTARX_SECTOR, erase_limit(ctx)), i;
    int dirty = 0;
    ctx->_wr = plain;
    ctx->_recorded = plain;
    ctx->_erased = plain;
    if (plain == sector) {
        return OTARX_OK; /* sector-aligned: everything after it is erased before use */
    }
    if (ctx->_ops->flash_read(ctx->_user, ctx->_target, plain, buf, end - plain) != OTARX_OK) {
        return OTARX_FLASH_ERROR;
    }
    for (i = 0; i < end - plain; i++) {
        dirty |= buf[i] != 0xFFu;
    }
    ctx->_erased = sector + OTARX_SECTOR;
    if (!dirty) {
        return OTARX_OK;
    }
    OTARX_TRY(otarx_record_at(ctx, sector));
    if (ctx->_ops->flash_read(ctx->_user, ctx->_target, sector, buf, plain - sector) != OTARX_OK ||
        ctx->_ops->flash_erase(ctx->_user, ctx->_target, sector, OTARX_SECTOR) != OTARX_OK ||
        ctx->_ops->flash_write(ctx->_user, ctx->_target, sector, buf, plain - sector) != OTARX_OK) {
        return OTARX_FLASH_ERROR;
    }
    return otarx_record_at(ctx, plain);
}
