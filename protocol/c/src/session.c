/*
 * session.c: BEGIN, DATA/ACK and END (SPEC §4.4, §4.5, §4.7, §7).
 *
 * The receive window ctx->_win holds up to _nslots chunks (min(window / chunk, 32)). Two credit
 * modes (SPEC §6.3):
 * - free (IRAM-safe UART ISR): chunks are decrypted and written as soon as they are in order;
 *   _win only holds chunks that arrived ahead of a hole (ring indexed by grid position); credit
 *   is next_offset + the window.
 * - batch (UART input lost during flash work): credit ends where the device must next touch
 *   flash. The chunks of one batch are decrypted into _win in place; when the last granted byte
 *   has arrived (next_offset == credit_end) nothing is in flight, so the device announces BUSY if
 *   needed, erases and writes the batch, and only then grants the next batch.
 */
#include "otarx_priv.h"

void otarx_send_ack(otarx_ctx_t *ctx, uint8_t status, uint16_t busy_ms)
{
    uint8_t *p = &ctx->_tx[2];
    p[0] = status;
    otarx_put32(&p[1], ctx->_next);
    otarx_put32(&p[5], ctx->_credit);
    otarx_put32(&p[9], ctx->_sack);
    otarx_put16(&p[13], busy_ms);
    ctx->_sstats.acks++;
    if (status == OTARX_BUSY) {
        ctx->_sstats.busy++;
    }
    if (otarx_send(ctx, OTARX_T_DATA | OTARX_T_REPLY, OTARX_ACK_LEN) != OTARX_OK) {
        OTARX_LOGW(ctx, "uart write failed");
    }
}

void otarx_session_drop(otarx_ctx_t *ctx, int forget)
{
    if (forget) {
        otarx_record_forget(ctx);
    }
    otarx_crypt_end(ctx);
    ctx->_active = 0;
    ctx->_next = 0;
    ctx->_credit = 0;
    ctx->_sack = 0;
}

static void reply_begin(otarx_ctx_t *ctx, uint8_t status, uint8_t target, uint32_t detail)
{
    uint8_t *p = &ctx->_tx[2];
    p[0] = status;
    otarx_put32(&p[1], status == OTARX_OK ? ctx->_next : 0u);
    otarx_put32(&p[5], status == OTARX_OK ? ctx->_credit : 0u);
    p[9] = target;
    otarx_put32(&p[10], detail);
    if (otarx_send(ctx, OTARX_T_BEGIN | OTARX_T_REPLY, OTARX_BEGIN_ACK_LEN) != OTARX_OK) {
        OTARX_LOGW(ctx, "uart write failed");
    }
}

static uint32_t window_end(const otarx_ctx_t *ctx)
{
    uint32_t span = (uint32_t)ctx->_nslots * ctx->_chunk;
    return ctx->_total - ctx->_next > span ? ctx->_next + span : ctx->_total;
}

/* Open the data phase at ctx->_next with a (new) chunk size: restart the grid and window. */
static void open_window(otarx_ctx_t *ctx, uint16_t chunk)
{
    uint32_t slots = ctx->_window / chunk;
    ctx->_chunk = chunk;
    ctx->_nslots = (uint8_t)(slots > OTARX_MAX_SACK_CHUNKS ? OTARX_MAX_SACK_CHUNKS : slots);
    ctx->_grid = ctx->_next;
    ctx->_sack = 0;
    ctx->_batch_start = ctx->_next;
    ctx->_credit = window_end(ctx);
}

/* Batch mode: the batch [_batch_start, _next) is complete or being cut short; write it. */
static OTARX_CHECK int flush_batch(otarx_ctx_t *ctx)
{
    uint32_t len = ctx->_next - ctx->_batch_start;
    uint32_t pos = ctx->_batch_start - OTARX_HEADER_SIZE;
    if (len == 0 || !ctx->_checked) {
        ctx->_batch_start = ctx->_next; /* nothing, or all of it is still held in the head */
        return OTARX_OK;
    }
    {
        uint32_t ms = otarx_erase_ms(ctx, pos + len) + otarx_work_ms(ctx, OTARX_WORK_WRITE, len);
        if (ms > OTARX_BUSY_THRESHOLD_MS) {
            otarx_send_ack(ctx, OTARX_BUSY, (uint16_t)otarx_min32(ms, 0xFFFFu));
        }
    }
    OTARX_TRY(otarx_sink_write(ctx, pos, ctx->_win, len, 0));
    ctx->_batch_start = ctx->_next;
    return OTARX_OK;
}

static uint8_t *slot_of(otarx_ctx_t *ctx, uint32_t off)
{
    uint32_t k = (off - (ctx->_batch ? ctx->_batch_start : ctx->_grid)) / ctx->_chunk;
    if (!ctx->_batch) {
        k %= ctx->_nslots;
    }
    return &ctx->_win[k * ctx->_chunk];
}

/* Decrypt the chunk at _next (in `buf`, in place) and pass it on; advance. */
static OTARX_CHECK int consume(otarx_ctx_t *ctx, uint8_t *buf, uint32_t len)
{
    uint32_t pos = ctx->_next - OTARX_HEADER_SIZE;
    int rc = otarx_crypt_update(ctx, buf, len);
    if (rc != OTARX_OK) {
        return OTARX_FLASH_ERROR; /* cannot happen with valid state; ends the session */
    }
    OTARX_TRY(otarx_sink_plain(ctx, pos, buf, len));
    ctx->_next += len;
    return OTARX_OK;
}

static uint32_t chunk_len(const otarx_ctx_t *ctx, uint32_t off)
{
    return otarx_min32(ctx->_chunk, ctx->_total - off);
}

/* In order: consume `data` (already in its slot in batch mode), then whatever follows held. */
static OTARX_CHECK int consume_run(otarx_ctx_t *ctx, uint8_t *data, uint32_t len)
{
    int held;
    OTARX_TRY(consume(ctx, data, len));
    held = (int)(ctx->_sack & 1u);
    ctx->_sack >>= 1;
    while (held) {
        OTARX_TRY(consume(ctx, slot_of(ctx, ctx->_next), chunk_len(ctx, ctx->_next)));
        held = (int)(ctx->_sack & 1u);
        ctx->_sack >>= 1;
    }
    if (ctx->_batch) {
        if (ctx->_next == ctx->_credit) {
            OTARX_TRY(flush_batch(ctx));
            ctx->_credit = window_end(ctx);
        }
    } else {
        uint32_t end = window_end(ctx);
        if (end > ctx->_credit) {
            ctx->_credit = end;
        }
    }
    return OTARX_OK;
}

static void fail(otarx_ctx_t *ctx, int rc)
{
    uint8_t status = (uint8_t)(rc < 0 ? OTARX_FLASH_ERROR : rc);
    OTARX_LOGW(ctx, "session ends: %s at offset %lu", otarx_err_name((otarx_err_t)status),
               (unsigned long)ctx->_next);
    otarx_send_ack(ctx, status, 0);
    otarx_session_drop(ctx, 1);
}

void otarx_on_data(otarx_ctx_t *ctx, uint8_t *p, size_t n)
{
    uint32_t off, len, end;
    int rc;
    if (!ctx->_active) {
        otarx_send_ack(ctx, OTARX_NO_SESSION, 0);
        return;
    }
    if (n < 4u) {
        goto bad;
    }
    off = otarx_get32(p);
    len = (uint32_t)(n - 4u);
    ctx->_sstats.data_frames++;
    if (off < ctx->_next) {
        ctx->_sstats.duplicates++;
        otarx_send_ack(ctx, OTARX_OK, 0);
        return;
    }
    end = off + len;
    if ((off - ctx->_grid) % ctx->_chunk != 0 || len == 0 || len > ctx->_chunk ||
        end < off || end > ctx->_total || end > ctx->_credit ||
        (len != ctx->_chunk && end != ctx->_total)) {
        goto bad;
    }
    if (off == ctx->_next) {
        uint8_t *data = p + 4;
        if (ctx->_batch) {
            data = slot_of(ctx, off);
            memmove(data, p + 4, len);
        }
        rc = consume_run(ctx, data, len);
        if (rc != OTARX_OK) {
            fail(ctx, rc);
            return;
        }
    } else {
        uint32_t bit = (off - ctx->_next) / ctx->_chunk - 1u; /* < 31: off + len <= credit */
        if (ctx->_sack & (1u << bit)) {
            ctx->_sstats.duplicates++;
        } else {
            memcpy(slot_of(ctx, off), p + 4, len);
            ctx->_sack |= 1u << bit;
            ctx->_sstats.out_of_order++;
        }
    }
    otarx_send_ack(ctx, OTARX_OK, 0);
    return;
bad:
    ctx->_fstats.bad_payload++;
    ctx->_sstats.bad_data++;
    otarx_send_ack(ctx, OTARX_BAD_REQUEST, 0);
}

/* Resume after a reset from the durable record: rebuild GCM from flash (SPEC §7). Returns 1
 * when resumed, 0 when there is nothing to resume, or an error. */
static int resume_from_record(otarx_ctx_t *ctx, uint32_t bin)
{
    otarx_record_t rec;
    uint32_t plain;
    if (ctx->_ops->record_load == NULL || ctx->_ops->record_load(ctx->_user, &rec) != OTARX_OK ||
        memcmp(rec.image_id, ctx->_image_id, sizeof(rec.image_id)) != 0 ||
        rec.offset < OTARX_HEADER_SIZE) {
        return 0;
    }
    /* continue at the sector boundary at or below the record: the sector after it may hold
     * bytes written after the record, which must be erased before writing again */
    plain = (rec.offset - OTARX_HEADER_SIZE) & ~(OTARX_SECTOR - 1u);
    if (plain == 0 || plain > bin) {
        return 0;
    }
    {
        uint32_t ms = otarx_work_ms(ctx, OTARX_WORK_READ, plain);
        if (ms > OTARX_BUSY_THRESHOLD_MS) {
            otarx_send_ack(ctx, OTARX_BUSY, (uint16_t)otarx_min32(ms, 0xFFFFu));
        }
    }
    OTARX_TRY(otarx_crypt_rebuild(ctx, ctx->_target, plain, ctx->_win, ctx->_window));
    ctx->_next = OTARX_HEADER_SIZE + plain;
    ctx->_wr = plain;
    ctx->_erased = plain;
    ctx->_recorded = plain;
    return 1;
}

/* Step 3 of BEGIN: continue the session in RAM, or from the durable record, or start anew. */
static OTARX_CHECK int begin_session(otarx_ctx_t *ctx, const uint8_t *hdr, const uint8_t id[32],
                                     uint8_t flags, int batch)
{
    uint32_t bin = otarx_get32(hdr + OTARX_HDR_BIN_SIZE);
    int fresh = (flags & OTARX_BEGIN_FRESH) != 0;
    if (ctx->_active && !fresh && memcmp(id, ctx->_image_id, 32) == 0) {
        if (ctx->_batch) {
            OTARX_TRY(flush_batch(ctx)); /* the new grid starts here */
        }
        ctx->_batch = (uint8_t)batch;
        ctx->_sstats.resumes++;
        return OTARX_OK;
    }
    otarx_session_drop(ctx, 0);
    OTARX_TRY(otarx_crypt_begin(ctx, hdr));
    memcpy(ctx->_image_id, id, 32);
    ctx->_total = OTARX_HEADER_SIZE + bin;
    ctx->_batch = (uint8_t)batch;
    ctx->_next = OTARX_HEADER_SIZE;
    ctx->_wr = ctx->_erased = ctx->_recorded = 0;
    ctx->_checked = 0;
    if (!fresh) {
        int r = resume_from_record(ctx, bin);
        if (r < 0 || r > 1) {
            return r;
        }
        if (r == 1) {
            ctx->_sstats.resumes++;
            return OTARX_OK;
        }
    }
    /* a new session: an old record would describe bytes about to be overwritten */
    otarx_record_forget(ctx);
    return OTARX_OK;
}

/* Refuse a BEGIN: no session exists afterwards (the durable record stays). */
static void refuse(otarx_ctx_t *ctx, uint8_t status, uint8_t target, uint32_t detail)
{
    otarx_session_drop(ctx, 0);
    reply_begin(ctx, status, target, detail);
}

void otarx_on_begin(otarx_ctx_t *ctx, const uint8_t *p, size_t n)
{
    otarx_dev_info_t dev;
    otarx_part_t part;
    uint8_t flags, id[32];
    uint16_t chunk;
    uint32_t total, bin, max_chunk;
    const uint8_t *hdr = p + 7;
    int rc;
    memset(&dev, 0, sizeof(dev));
    memset(&part, 0, sizeof(part));
    if (n < OTARX_BEGIN_LEN) {
        ctx->_fstats.bad_payload++;
        refuse(ctx, OTARX_BAD_REQUEST, OTARX_PART_NONE, 0);
        return;
    }
    flags = p[0];
    chunk = otarx_get16(&p[1]);
    total = otarx_get32(&p[3]);
    if (ctx->_ops->get_info(ctx->_user, &dev) != OTARX_OK) {
        refuse(ctx, OTARX_FLASH_ERROR, OTARX_PART_NONE, 0);
        return;
    }
    max_chunk = ((ctx->_rx._max - 10u) / 16u) * 16u;
    if (chunk % 16u != 0 || chunk < 16u || chunk > max_chunk) {
        ctx->_fstats.bad_payload++;
        refuse(ctx, OTARX_BAD_REQUEST, dev.target, 0);
        return;
    }
    if (dev.target >= dev.nparts || dev.target == dev.running || dev.target == dev.boot ||
        ((dev.flags & OTARX_DEV_ROLLBACK) && (dev.flags & OTARX_DEV_PENDING))) {
        refuse(ctx, OTARX_BAD_STATE, dev.target, 0);
        return;
    }
    if (otarx_get32(hdr) != OTARX_HDR_MAGIC) {
        refuse(ctx, OTARX_NOT_ENCRYPTED, dev.target, 0);
        return;
    }
    bin = otarx_get32(hdr + OTARX_HDR_BIN_SIZE);
    if (bin > 0xFFFFFFFFu - OTARX_HEADER_SIZE || total != OTARX_HEADER_SIZE + bin) {
        refuse(ctx, OTARX_BAD_SIZE, dev.target, 0);
        return;
    }
    if (ctx->_ops->get_part(ctx->_user, dev.target, &part) != OTARX_OK) {
        refuse(ctx, OTARX_FLASH_ERROR, dev.target, 0);
        return;
    }
    if (bin > part.size) {
        refuse(ctx, OTARX_TOO_LARGE, dev.target, part.size);
        return;
    }
    if (otarx_sha256(hdr, OTARX_HEADER_SIZE, id) != OTARX_OK) {
        refuse(ctx, OTARX_FLASH_ERROR, dev.target, 0);
        return;
    }
    if (ctx->_active && ctx->_target != dev.target) {
        otarx_session_drop(ctx, 0); /* the slots moved (cannot happen without a reset) */
    }
    ctx->_target = dev.target;
    ctx->_flags = flags;
    rc = begin_session(ctx, hdr, id, flags, (dev.flags & OTARX_DEV_IRAM_UART) == 0);
    if (rc == OTARX_OK && ctx->_next - OTARX_HEADER_SIZE >= OTARX_APP_PREFIX) {
        /* resuming past the app header: the flags of this BEGIN decide the checks again */
        rc = otarx_app_early_check(ctx, ctx->_head, OTARX_APP_PREFIX,
                                   (flags & OTARX_BEGIN_ALLOW_DOWNGRADE) != 0);
        ctx->_checked = rc == OTARX_OK;
    }
    if (rc != OTARX_OK) {
        /* a wrong key says nothing about the stored record; anything else ends it */
        otarx_session_drop(ctx, rc != OTARX_WRONG_KEY);
        reply_begin(ctx, (uint8_t)(rc < 0 ? OTARX_FLASH_ERROR : rc), dev.target, 0);
        return;
    }
    ctx->_active = 1;
    open_window(ctx, chunk);
    ctx->_sstats.sessions++;
    OTARX_LOGI(ctx, "session %s at %lu of %lu, chunk %u, %s credit",
               ctx->_next > OTARX_HEADER_SIZE ? "resumed" : "opened", (unsigned long)ctx->_next,
               (unsigned long)ctx->_total, (unsigned)chunk, ctx->_batch ? "batched" : "free");
    reply_begin(ctx, OTARX_OK, dev.target, 0);
}

static void reply_result(otarx_ctx_t *ctx, uint8_t status, uint8_t boot, uint32_t sv,
                         const char *version, uint32_t detail)
{
    uint8_t *p = &ctx->_tx[2];
    memset(p, 0, OTARX_RESULT_LEN);
    p[0] = status;
    p[1] = boot;
    otarx_put32(&p[2], sv);
    if (version != NULL) {
        memcpy(&p[6], version, 32);
    }
    otarx_put32(&p[38], detail);
    if (otarx_send(ctx, OTARX_T_END | OTARX_T_REPLY, OTARX_RESULT_LEN) != OTARX_OK) {
        OTARX_LOGW(ctx, "uart write failed");
    }
}

/* Steps 1-3 of END: tag, image verification, anti-rollback, boot switch. */
static OTARX_CHECK int finish(otarx_ctx_t *ctx, otarx_image_info_t *info)
{
    otarx_dev_info_t dev;
    uint32_t bin = ctx->_total - OTARX_HEADER_SIZE;
    int rc;
    memset(&dev, 0, sizeof(dev));
    OTARX_TRY(otarx_crypt_finish(ctx));
    if (!ctx->_checked) {
        return OTARX_NOT_APP; /* shorter than an app header: nothing was written */
    }
    if (ctx->_ops->get_info(ctx->_user, &dev) != OTARX_OK) {
        return OTARX_FLASH_ERROR;
    }
    rc = otarx_image_verify(ctx->_ops, ctx->_user, ctx->_target, bin, dev.chip_id, dev.chip_rev,
                            ctx->_win, ctx->_window, info);
    if (rc != OTARX_OK) {
        return rc < 0 ? OTARX_FLASH_ERROR : rc;
    }
    if ((dev.flags & OTARX_DEV_ANTI_ROLLBACK) && info->secure_version < dev.efuse_secure_version) {
        return OTARX_SECURE_VERSION;
    }
    if (ctx->_ops->set_boot(ctx->_user, ctx->_target) != OTARX_OK) {
        return OTARX_FLASH_ERROR;
    }
    return OTARX_OK;
}

void otarx_on_end(otarx_ctx_t *ctx, const uint8_t *p, size_t n)
{
    otarx_image_info_t info;
    otarx_dev_info_t dev;
    uint8_t flags;
    int rc;
    memset(&info, 0, sizeof(info));
    memset(&dev, 0, sizeof(dev));
    if (ctx->_ops->get_info(ctx->_user, &dev) != OTARX_OK) {
        dev.boot = OTARX_PART_NONE;
    }
    if (n < 1u) {
        ctx->_fstats.bad_payload++;
        reply_result(ctx, OTARX_BAD_REQUEST, dev.boot, 0, NULL, 0);
        return;
    }
    flags = p[0];
    if (!ctx->_active) {
        reply_result(ctx, OTARX_NO_SESSION, dev.boot, 0, NULL, 0);
        return;
    }
    if (ctx->_next < ctx->_total) {
        reply_result(ctx, OTARX_INCOMPLETE, dev.boot, 0, NULL, ctx->_next);
        return;
    }
    {
        uint32_t ms = otarx_work_ms(ctx, OTARX_WORK_READ, ctx->_total - OTARX_HEADER_SIZE);
        if (ms > OTARX_BUSY_THRESHOLD_MS) {
            otarx_send_ack(ctx, OTARX_BUSY, (uint16_t)otarx_min32(ms, 0xFFFFu));
        }
    }
    rc = finish(ctx, &info);
    otarx_session_drop(ctx, 1);
    if (rc != OTARX_OK) {
        OTARX_LOGW(ctx, "END refused: %s (detail %lu)", otarx_err_name((otarx_err_t)rc),
                   (unsigned long)info.detail);
        reply_result(ctx, (uint8_t)rc, dev.boot, 0, NULL, info.detail);
        return;
    }
    ctx->_sstats.results_ok++;
    OTARX_LOGI(ctx, "image verified; partition %u boots next", (unsigned)ctx->_target);
    reply_result(ctx, OTARX_OK, ctx->_target, info.secure_version, info.version, 0);
    if (flags & OTARX_END_REBOOT) {
        otarx_reset(ctx);
        if (ctx->_ops->reboot != NULL) {
            ctx->_ops->reboot(ctx->_user);
        }
    }
}
