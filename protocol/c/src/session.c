/*
 * session.c: DATA/ACK and END (SPEC §4.5, §4.7); BEGIN is in begin.c.
 *
 * The receive window ctx->_win holds up to _nslots chunks (min(window / chunk, 64)). Two credit
 * plans (SPEC §6.3):
 * - free (IRAM-safe UART ISR): credit is next_offset + the window. A chunk in order is decrypted
 *   in the frame buffer, acknowledged (ACK(BUSY, ms) when its flash work is long), then written;
 *   _win only holds chunks that arrived ahead of a hole (a ring indexed by grid position).
 * - batch (UART input lost during flash work): credit ends at the next flash point. The chunks of
 *   a batch are decrypted in place in _win; when next_offset reaches the flash point nothing the
 *   host may send is in flight, so the device acknowledges (BUSY if long), erases and writes the
 *   batch, and only then grants the next batch with another ACK.
 */
#include "otarx_priv.h"

/* An error ACK carries the refusal's `detail` in place of sack (SPEC §4.5). */
static void send_ack(otarx_ctx_t *ctx, uint8_t status, uint16_t busy_ms, uint32_t detail)
{
    uint8_t *p = &ctx->_tx[2];
    int live = ctx->_active && status <= OTARX_BUSY;
    p[0] = status;
    otarx_put32(&p[1], ctx->_active ? ctx->_next : 0u);
    otarx_put32(&p[5], ctx->_active ? ctx->_credit : 0u);
    otarx_put32(&p[9], live ? (uint32_t)(ctx->_held & 0xffffffffu) : detail);
    otarx_put16(&p[13], busy_ms);
    ctx->_sstats.acks++;
    if (status == OTARX_BUSY) {
        ctx->_sstats.busy++;
    }
    if (otarx_send(ctx, OTARX_T_DATA | OTARX_T_REPLY, OTARX_ACK_LEN) != OTARX_OK) {
        OTARX_LOGW(ctx, "uart write failed");
    }
}

void otarx_send_ack(otarx_ctx_t *ctx, uint8_t status, uint16_t busy_ms)
{
    send_ack(ctx, status, busy_ms, 0);
}

void otarx_session_drop(otarx_ctx_t *ctx, int forget)
{
    if (forget) {
        otarx_record_forget(ctx);
    }
    otarx_crypt_end(ctx);
    otarx_digest_stop(ctx);
    ctx->_active = 0;
    ctx->_refused = 0;
    ctx->_held = 0;
}

uint32_t otarx_window_end(const otarx_ctx_t *ctx)
{
    uint32_t span = (uint32_t)ctx->_nslots * ctx->_chunk;
    return ctx->_total - ctx->_next > span ? ctx->_next + span : ctx->_total;
}

static uint8_t *slot_of(otarx_ctx_t *ctx, uint32_t off)
{
    uint32_t k = (off - (ctx->_batch ? ctx->_batch_start : ctx->_grid)) / ctx->_chunk;
    if (!ctx->_batch) {
        k %= ctx->_nslots;
    }
    return &ctx->_win[k * ctx->_chunk];
}

static uint32_t chunk_len(const otarx_ctx_t *ctx, uint32_t off)
{
    return otarx_min32(ctx->_chunk, ctx->_total - off);
}

/* The session ends with an error ACK (full layout, the detail in place of sack; SPEC §4.5/§4.9). */
static void fail(otarx_ctx_t *ctx, int rc, uint32_t detail)
{
    uint8_t status = (uint8_t)(rc < 0 ? OTARX_FLASH_ERROR : rc);
    OTARX_LOGW(ctx, "session ends: %s at offset %lu", otarx_err_name((otarx_err_t)status),
               (unsigned long)ctx->_next);
    ctx->_held = 0;
    send_ack(ctx, status, 0, status == OTARX_FLASH_ERROR ? 0u : detail);
    otarx_session_drop(ctx, status == OTARX_FLASH_ERROR);
}

/* Batch mode: write [_batch_start, _next) from _win (the batch is complete or cut short). */
int otarx_flush_batch(otarx_ctx_t *ctx)
{
    uint32_t len = ctx->_next - ctx->_batch_start;
    uint32_t pos = ctx->_batch_start - OTARX_HEADER_SIZE;
    ctx->_batch_start = ctx->_next;
    return otarx_sink_write(ctx, pos, ctx->_win, len);
}

/* Plaintext pieces consumed by one DATA frame, written after its ACK (free mode). */
typedef struct {
    uint8_t *p[OTARX_MAX_CREDIT_CHUNKS + 1];
    uint32_t pos[OTARX_MAX_CREDIT_CHUNKS + 1];
    uint32_t len[OTARX_MAX_CREDIT_CHUNKS + 1];
    int n;
} pieces_t;

/* Decrypt the chunk at _next (in `buf`, in place), check the head (a refusal's detail in
 * *detail), advance. */
static OTARX_CHECK int consume(otarx_ctx_t *ctx, uint8_t *buf, uint32_t len, pieces_t *out,
                               uint32_t *detail)
{
    uint32_t pos = ctx->_next - OTARX_HEADER_SIZE;
    otarx_digest_update(ctx, buf, len); /* the ciphertext, before it is decrypted in place */
    if (otarx_crypt_update(ctx, buf, len, ctx->_next + len == ctx->_total) != OTARX_OK) {
        return OTARX_FLASH_ERROR; /* cannot happen with a valid state; ends the session */
    }
    ctx->_next += len;
    ctx->_sstats.consumed++;
    out->p[out->n] = buf;
    out->pos[out->n] = pos;
    out->len[out->n] = len;
    out->n++;
    return otarx_sink_plain(ctx, pos, buf, len, detail);
}

/* In order: `data` (in its slot in batch mode), then whatever follows held in the window. */
static OTARX_CHECK int consume_run(otarx_ctx_t *ctx, uint8_t *data, uint32_t len, pieces_t *pc,
                                   uint32_t *detail)
{
    int held;
    OTARX_TRY(consume(ctx, data, len, pc, detail));
    held = (int)(ctx->_held & 1u);
    ctx->_held >>= 1;
    while (held) {
        OTARX_TRY(consume(ctx, slot_of(ctx, ctx->_next), chunk_len(ctx, ctx->_next), pc, detail));
        held = (int)(ctx->_held & 1u);
        ctx->_held >>= 1;
    }
    return OTARX_OK;
}

/* Free mode after consuming: grant, acknowledge (BUSY when the writes are long), write. */
static void after_free(otarx_ctx_t *ctx, const pieces_t *pc)
{
    uint32_t ms = 0, end = otarx_window_end(ctx);
    int i, rc = OTARX_OK;
    if (end > ctx->_credit) {
        ctx->_credit = end;
    }
    for (i = 0; i < pc->n; i++) {
        ms += otarx_write_ms(ctx, pc->pos[i], pc->len[i]);
    }
    if (ms >= OTARX_BUSY_THRESHOLD_MS) {
        otarx_send_ack(ctx, OTARX_BUSY, (uint16_t)otarx_min32(ms, 0xFFFFu));
    } else {
        otarx_send_ack(ctx, OTARX_OK, 0);
    }
    for (i = 0; i < pc->n && rc == OTARX_OK; i++) {
        rc = otarx_sink_write(ctx, pc->pos[i], pc->p[i], pc->len[i]);
    }
    if (rc != OTARX_OK) {
        fail(ctx, rc, 0);
    }
}

/* Batch mode after consuming: at the flash point, acknowledge, write, then grant anew. */
static void after_batch(otarx_ctx_t *ctx)
{
    uint32_t ms;
    int rc;
    if (ctx->_next < ctx->_credit) {
        otarx_send_ack(ctx, OTARX_OK, 0);
        return;
    }
    /* everything granted has arrived: the host is quiet while the flash blinds the UART */
    ms = otarx_write_ms(ctx, ctx->_batch_start - OTARX_HEADER_SIZE, ctx->_next - ctx->_batch_start);
    if (ms >= OTARX_BUSY_THRESHOLD_MS) {
        otarx_send_ack(ctx, OTARX_BUSY, (uint16_t)otarx_min32(ms, 0xFFFFu));
    } else {
        otarx_send_ack(ctx, OTARX_OK, 0);
    }
    rc = otarx_flush_batch(ctx);
    if (rc != OTARX_OK) {
        fail(ctx, rc, 0);
        return;
    }
    if (ctx->_next < ctx->_total) {
        ctx->_credit = otarx_window_end(ctx);
        otarx_send_ack(ctx, OTARX_OK, 0);
    }
}

/* One chunk of an accepted DATA frame (SPEC §4.5 rules 4-6), `src` its bytes in the frame. Returns
 * 1 if it was consumed (with the held run after it), 0 if held or a duplicate, <0 on a refusal
 * (the session has ended). */
static int take_chunk(otarx_ctx_t *ctx, uint32_t off, uint8_t *src, uint32_t len, pieces_t *pc)
{
    uint32_t detail = 0;
    int rc;
    if (off < ctx->_next) {
        /* consumed by the run the chunk before it in this frame completed */
        ctx->_sstats.duplicates++;
        return 0;
    }
    if (off != ctx->_next) {
        uint32_t bit = (off - ctx->_next) / ctx->_chunk - 1u; /* <= 62: off + len <= credit */
        if (ctx->_held & ((uint64_t)1 << bit)) {
            ctx->_sstats.duplicates++;
        } else {
            memcpy(slot_of(ctx, off), src, len);
            ctx->_held |= (uint64_t)1 << bit;
            ctx->_sstats.out_of_order++;
        }
        return 0;
    }
    if (ctx->_batch) {
        uint8_t *slot = slot_of(ctx, off);
        memcpy(slot, src, len);
        rc = consume_run(ctx, slot, len, pc, &detail);
    } else {
        rc = consume_run(ctx, src, len, pc, &detail);
    }
    if (rc != OTARX_OK) {
        fail(ctx, rc, detail);
        return -1;
    }
    return 1;
}

void otarx_on_data(otarx_ctx_t *ctx, uint8_t *p, size_t n)
{
    uint32_t off = otarx_get32(p), len = (uint32_t)(n - 4u), o;
    int consumed = 0, rc;
    pieces_t pc;
    ctx->_sstats.data_frames++;
    if (!ctx->_active) {
        otarx_send_ack(ctx, ctx->_refused ? ctx->_refused : OTARX_NO_SESSION, 0);
        return;
    }
    /* SPEC §4.5: duplicate (below next_offset, on the grid or not: after a resume old frames
     * still arrive), grid, bounds/length/credit, held */
    if (off < ctx->_next) {
        ctx->_sstats.duplicates++;
        otarx_send_ack(ctx, OTARX_OK, 0);
        return;
    }
    if ((off - ctx->_grid) % ctx->_chunk != 0) {
        goto bad;
    }
    /* one chunk, or several whole ones (multi-chunk DATA: the last may end short at total) */
    if (off >= ctx->_total || off >= ctx->_credit || len == 0 || len > ctx->_total - off ||
        len > ctx->_credit - off || (len % ctx->_chunk != 0 && off + len != ctx->_total)) {
        goto bad;
    }
    /* each chunk as if it had come alone; one answer for the frame. At most 32 chunks lie within
     * credit, so pc (33 pieces) cannot overflow, and a chunk stored after a run was consumed
     * never lands on a slot that run still has to write. */
    pc.n = 0;
    for (o = off; o < off + len; o += ctx->_chunk) {
        rc = take_chunk(ctx, o, p + 4 + (o - off), otarx_min32(ctx->_chunk, off + len - o), &pc);
        if (rc < 0) {
            return;
        }
        consumed |= rc;
    }
    if (!consumed) {
        otarx_send_ack(ctx, OTARX_OK, 0);
    } else if (ctx->_batch) {
        after_batch(ctx);
    } else {
        after_free(ctx, &pc);
    }
    return;
bad:
    /* refused without acting on it; the session continues (SPEC §4.9) */
    ctx->_fstats.bad_payload++;
    ctx->_sstats.bad_data++;
    otarx_reply_status(ctx, OTARX_T_DATA | OTARX_T_REPLY, OTARX_BAD_REQUEST);
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
        return OTARX_NOT_APP; /* an empty image: nothing was written */
    }
    if (ctx->_ops->get_info(ctx->_user, &dev) != OTARX_OK) {
        return OTARX_FLASH_ERROR;
    }
    rc = otarx_image_verify(ctx->_ops, ctx->_user, ctx->_target, bin, dev.chip_id, dev.chip_rev,
                            ctx->_win, sizeof(ctx->_win), info);
    if (rc != OTARX_OK) {
        return rc < 0 ? OTARX_FLASH_ERROR : rc;
    }
    if ((dev.flags & OTARX_DEV_ANTI_ROLLBACK) && info->secure_version < dev.efuse_secure_version) {
        info->detail = info->secure_version; /* SPEC §4.7: the image's, as in the early check */
        return OTARX_SECURE_VERSION;
    }
    /* The record goes before the boot switch: after a reset between the two, a record for an
     * image already set to boot would "resume" into the other slot (its update slot once it runs). */
    otarx_record_forget(ctx);
    if (ctx->_ops->set_boot(ctx->_user, ctx->_target) != OTARX_OK) {
        return OTARX_FLASH_ERROR;
    }
    return OTARX_OK;
}

void otarx_on_end(otarx_ctx_t *ctx, const uint8_t *p, size_t n)
{
    otarx_image_info_t info;
    otarx_dev_info_t dev;
    uint8_t flags = p[0];
    int rc;
    (void)n;
    memset(&info, 0, sizeof(info));
    memset(&dev, 0, sizeof(dev));
    if (!ctx->_active) {
        reply_result(ctx, ctx->_refused ? ctx->_refused : OTARX_NO_SESSION, OTARX_PART_NONE, 0,
                     NULL, 0);
        return;
    }
    if (ctx->_next < ctx->_total) {
        reply_result(ctx, OTARX_INCOMPLETE, OTARX_PART_NONE, 0, NULL, ctx->_next);
        return;
    }
    if (ctx->_batch && ctx->_batch_start < ctx->_next) {
        rc = otarx_flush_batch(ctx); /* cannot happen: a batch is written when it is complete */
        if (rc != OTARX_OK) {
            fail(ctx, rc, 0);
            return;
        }
    }
    otarx_announce(ctx, otarx_work_ms(ctx, OTARX_WORK_READ, ctx->_total - OTARX_HEADER_SIZE) +
                            otarx_work_ms(ctx, OTARX_WORK_ERASE, OTARX_SECTOR) +
                            otarx_work_ms(ctx, OTARX_WORK_WRITE, 32));
    rc = finish(ctx, &info);
    /* before the drop, which ends the digest */
    ctx->_installed = (uint8_t)(rc == OTARX_OK && otarx_digest_finish(ctx, ctx->_installed_digest));
    otarx_session_drop(ctx, rc != OTARX_OK); /* on success finish() has forgotten the record */
    if (rc != OTARX_OK) {
        OTARX_LOGW(ctx, "END refused: %s (detail %lu)", otarx_err_name((otarx_err_t)rc),
                   (unsigned long)info.detail);
        reply_result(ctx, (uint8_t)rc, OTARX_PART_NONE, 0, NULL,
                     rc == OTARX_AUTH_FAILED ? 0u : info.detail);
        return;
    }
    ctx->_sstats.results_ok++;
    if (ctx->_ops->get_info(ctx->_user, &dev) != OTARX_OK) {
        dev.boot = ctx->_target;
    }
    ctx->_installed_slot = ctx->_target;
    ctx->_installed_total = ctx->_total;
    OTARX_LOGI(ctx, "image verified; partition %u boots next", (unsigned)dev.boot);
    reply_result(ctx, OTARX_OK, dev.boot, info.secure_version, info.version, 0);
    if (flags & OTARX_END_REBOOT) {
        otarx_reset(ctx);
        if (ctx->_ops->reboot != NULL) {
            ctx->_ops->reboot(ctx->_user);
        }
    }
}
