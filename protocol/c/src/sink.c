/*
 * sink.c: where decrypted plaintext goes. The first 288 bytes are also kept in ctx->_head for
 * the early checks (SPEC §4.6); nothing reaches flash before those checks pass, so a refused
 * image never erases the target slot (which may hold the rollback candidate). Then plaintext is
 * written to the target in order, erasing ahead of the write pointer (64 KiB blocks where
 * aligned, else 4 KiB sectors), and the durable resume record (SPEC §7) is stored after the write
 * it describes, at sector-aligned offsets at least every DURABLE_INTERVAL bytes.
 */
#include "otarx_priv.h"

#define BLOCK 0x10000u

/* ESP32 flash typicals (GD25Q32/W25Q32 class), used when the port gives no estimate */
static uint32_t default_work_ms(otarx_work_t work, uint32_t bytes)
{
    switch (work) {
    case OTARX_WORK_ERASE:
        /* 64 KiB block 150 ms, 4 KiB sector 45 ms: what otarx_erase_ms asks for */
        return (bytes / BLOCK) * 150u + ((bytes % BLOCK) / OTARX_SECTOR) * 45u;
    case OTARX_WORK_WRITE:
        return (bytes / 256u + 1u) * 7u / 10u + 1u; /* 0.7 ms per 256-byte page */
    case OTARX_WORK_READ:
        return bytes / 4096u + 1u; /* read + SHA-256/AES at ~4 MB/s */
    }
    return 0;
}

uint32_t otarx_work_ms(otarx_ctx_t *ctx, otarx_work_t work, uint32_t bytes)
{
    if (bytes == 0) {
        return 0;
    }
    if (ctx->_ops->work_ms != NULL) {
        return ctx->_ops->work_ms(ctx->_user, work, bytes);
    }
    return default_work_ms(work, bytes);
}

/* Plaintext bytes of the target that an image of this session can occupy, sector-rounded. */
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

uint32_t otarx_erase_ms(otarx_ctx_t *ctx, uint32_t upto)
{
    uint32_t at = ctx->_erased, ms = 0;
    while (at < upto) {
        uint32_t step = erase_step(ctx, at);
        ms += otarx_work_ms(ctx, OTARX_WORK_ERASE, step);
        at += step;
    }
    return ms;
}

static OTARX_CHECK int erase_ahead(otarx_ctx_t *ctx, uint32_t upto, int announce)
{
    if (ctx->_erased >= upto) {
        return OTARX_OK;
    }
    if (announce) {
        uint32_t ms = otarx_erase_ms(ctx, upto);
        if (ms > OTARX_BUSY_THRESHOLD_MS) {
            otarx_send_ack(ctx, OTARX_BUSY, (uint16_t)otarx_min32(ms, 0xFFFFu));
        }
    }
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

static void maybe_record(otarx_ctx_t *ctx)
{
    otarx_record_t rec;
    uint32_t aligned = ctx->_wr & ~(OTARX_SECTOR - 1u);
    if (ctx->_ops->record_store == NULL || aligned < ctx->_recorded + OTARX_DURABLE_INTERVAL) {
        return;
    }
    memcpy(rec.image_id, ctx->_image_id, sizeof(rec.image_id));
    rec.offset = OTARX_HEADER_SIZE + aligned;
    if (ctx->_ops->record_store(ctx->_user, &rec) != OTARX_OK) {
        OTARX_LOGW(ctx, "cannot store the resume record"); /* resume is best effort */
        return;
    }
    ctx->_recorded = aligned;
    ctx->_sstats.records++;
}

static OTARX_CHECK int write_range(otarx_ctx_t *ctx, uint32_t pos, const uint8_t *p, size_t n,
                                   int announce)
{
    if (n == 0) {
        return OTARX_OK;
    }
    OTARX_TRY(erase_ahead(ctx, pos + (uint32_t)n, announce));
    if (ctx->_ops->flash_write(ctx->_user, ctx->_target, pos, p, n) != OTARX_OK) {
        OTARX_LOGE(ctx, "write at 0x%lx failed", (unsigned long)pos);
        return OTARX_FLASH_ERROR;
    }
    ctx->_wr = pos + (uint32_t)n;
    return OTARX_OK;
}

int otarx_sink_write(otarx_ctx_t *ctx, uint32_t pos, const uint8_t *p, size_t n, int announce)
{
    if (ctx->_wr < pos) {
        /* bytes held back until the early checks passed; they all lie in the head */
        if (pos > OTARX_APP_PREFIX) {
            return OTARX_ERR_ARG;
        }
        OTARX_TRY(write_range(ctx, ctx->_wr, &ctx->_head[ctx->_wr], pos - ctx->_wr, announce));
    }
    if (ctx->_wr != pos) {
        return OTARX_ERR_ARG;
    }
    OTARX_TRY(write_range(ctx, pos, p, n, announce));
    maybe_record(ctx);
    return OTARX_OK;
}

int otarx_sink_plain(otarx_ctx_t *ctx, uint32_t pos, const uint8_t *p, size_t n)
{
    uint32_t bin = ctx->_total - OTARX_HEADER_SIZE;
    if (pos < OTARX_APP_PREFIX) {
        size_t k = otarx_min32(OTARX_APP_PREFIX - pos, (uint32_t)n);
        memcpy(&ctx->_head[pos], p, k);
    }
    if (!ctx->_checked) {
        uint32_t have = pos + (uint32_t)n;
        if (have < OTARX_APP_PREFIX && have < bin) {
            return OTARX_OK; /* keep collecting the head; nothing is written yet */
        }
        OTARX_TRY(otarx_app_early_check(ctx, ctx->_head, otarx_min32(have, OTARX_APP_PREFIX),
                                        (ctx->_flags & OTARX_BEGIN_ALLOW_DOWNGRADE) != 0));
        ctx->_checked = 1;
    }
    if (ctx->_batch) {
        return OTARX_OK; /* written when the batch is complete (session.c) */
    }
    return otarx_sink_write(ctx, pos, p, n, 1);
}
