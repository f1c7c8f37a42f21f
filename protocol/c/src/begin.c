/*
 * begin.c: BEGIN (SPEC §4.4, §6.4, §7). Refuse at once what the header already tells (state,
 * magic, size, slot size), then decide where to start: the session still in RAM, the durable
 * record after a reset (key unwrapped, GCM state rebuilt by re-encrypting the plaintext already
 * in the slot), or a new session at 512 whose key is unwrapped just after its BEGIN_ACK.
 * Refusals carry the simulator's detail values. On any refusal no session exists afterwards and
 * nothing that boots changes.
 */
#include "otarx_priv.h"

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

/* No session exists afterwards; the durable record stays unless `forget`. */
static void refuse(otarx_ctx_t *ctx, int rc, uint8_t target, uint32_t detail, int forget)
{
    uint8_t status = (uint8_t)(rc < 0 ? OTARX_FLASH_ERROR : rc);
    otarx_session_drop(ctx, forget);
    OTARX_LOGW(ctx, "BEGIN refused: %s (detail %lu)", otarx_err_name((otarx_err_t)status),
               (unsigned long)detail);
    reply_begin(ctx, status, target, detail);
}

/* The data phase (re)opens at ctx->_next with `chunk`: new grid, empty window, fresh credit. */
static void open_window(otarx_ctx_t *ctx, uint16_t chunk)
{
    uint32_t slots = ctx->_window / chunk;
    ctx->_chunk = chunk;
    ctx->_nslots = (uint8_t)(slots > OTARX_MAX_CREDIT_CHUNKS ? OTARX_MAX_CREDIT_CHUNKS : slots);
    ctx->_grid = ctx->_next;
    ctx->_held = 0;
    ctx->_batch_start = ctx->_next;
    ctx->_credit = otarx_window_end(ctx);
}

/* 1 = resumed from the durable record (key unwrapped, GCM rebuilt), 0 = no usable record, or an
 * error. The record is read before the key is touched: only a resume needs the key this early. */
static int resume_from_record(otarx_ctx_t *ctx, const uint8_t *hdr, uint32_t total)
{
    otarx_record_t rec;
    uint32_t plain;
    if (ctx->_ops->record_load == NULL || ctx->_ops->record_load(ctx->_user, &rec) != OTARX_OK ||
        memcmp(rec.image_id, ctx->_image_id, sizeof(rec.image_id)) != 0 ||
        rec.offset <= OTARX_HEADER_SIZE || rec.offset > total) {
        return 0;
    }
    plain = (rec.offset - OTARX_HEADER_SIZE) & ~15u; /* whole AES blocks (2.28's GCM rule) */
    if (plain == 0) {
        return 0;
    }
    otarx_announce(ctx, otarx_work_ms(ctx, OTARX_WORK_UNWRAP, 0));
    OTARX_TRY(otarx_crypt_begin(ctx, hdr));
    otarx_announce(ctx, otarx_work_ms(ctx, OTARX_WORK_READ, plain));
    OTARX_TRY(otarx_crypt_rebuild(ctx, ctx->_target, plain, ctx->_win, sizeof(ctx->_win)));
    ctx->_next = OTARX_HEADER_SIZE + plain;
    ctx->_checked = 0;
    OTARX_TRY(otarx_sink_resume(ctx, plain, ctx->_win));
    return 1;
}

/* Step 4: where to start. Returns OTARX_OK with ctx set up, or an error. *resumed: 0 a new
 * session (its key is unwrapped after BEGIN_ACK), 1 the session in RAM, 2 the durable record. */
static OTARX_CHECK int start_session(otarx_ctx_t *ctx, const uint8_t *hdr, const uint8_t id[32],
                                     uint8_t flags, int batch, int *resumed)
{
    uint32_t bin = otarx_get32(hdr + OTARX_HDR_BIN_SIZE);
    int fresh = (flags & OTARX_BEGIN_FRESH) != 0, r;
    *resumed = 0;
    if (ctx->_active && !fresh && memcmp(id, ctx->_image_id, 32) == 0) {
        if (ctx->_batch && ctx->_batch_start < ctx->_next) {
            /* a batch still in RAM is written first, so the new grid starts with nothing held */
            OTARX_TRY(otarx_flush_batch(ctx));
        }
        ctx->_batch = (uint8_t)batch;
        *resumed = 1;
        return OTARX_OK;
    }
    otarx_session_drop(ctx, 0);
    memcpy(ctx->_image_id, id, 32);
    ctx->_total = OTARX_HEADER_SIZE + bin;
    ctx->_batch = (uint8_t)batch;
    ctx->_next = OTARX_HEADER_SIZE;
    ctx->_wr = ctx->_erased = ctx->_recorded = 0;
    ctx->_checked = 0;
    otarx_digest_start(ctx, hdr);
    if (!fresh) {
        r = resume_from_record(ctx, hdr, ctx->_total);
        if (r == 1) {
            otarx_digest_stop(ctx); /* the bytes before the record never came through here */
            *resumed = 2;
            return OTARX_OK;
        }
        OTARX_TRY(r);
    }
    return OTARX_OK;
}

/* A new session, just after its BEGIN_ACK (SPEC §4.4 step 5): unwrap the key while the host's
 * first window waits in the UART buffer (a whole window fits there, as during flash work), so
 * the RSA time (about 250 ms on an ESP32) overlaps the transfer instead of idling the wire. */
static void unwrap_after_ack(otarx_ctx_t *ctx, const uint8_t *hdr)
{
    int rc;
    otarx_announce(ctx, otarx_work_ms(ctx, OTARX_WORK_UNWRAP, 0));
    rc = otarx_crypt_begin(ctx, hdr);
    if (rc != OTARX_OK) {
        /* nothing was erased or written; the record (another image's progress) stays */
        otarx_session_drop(ctx, 0);
        ctx->_refused = (uint8_t)(rc < 0 ? OTARX_FLASH_ERROR : rc);
        OTARX_LOGW(ctx, "key unwrap failed: DATA and END get %s",
                   otarx_err_name((otarx_err_t)ctx->_refused));
        return;
    }
    otarx_record_forget(ctx); /* a new image: an old record would describe bytes about to go */
}

void otarx_on_begin(otarx_ctx_t *ctx, const uint8_t *p, size_t n)
{
    otarx_dev_info_t dev;
    otarx_part_t part;
    const uint8_t *hdr = p + 7;
    uint8_t flags = p[0], id[32], target;
    uint16_t chunk = otarx_get16(&p[1]);
    uint32_t total = otarx_get32(&p[3]), bin, detail = 0;
    int rc, resumed;
    (void)n;
    memset(&dev, 0, sizeof(dev));
    memset(&part, 0, sizeof(part));
    if (ctx->_ops->get_info(ctx->_user, &dev) != OTARX_OK) {
        refuse(ctx, OTARX_FLASH_ERROR, OTARX_PART_NONE, 0, 0);
        return;
    }
    if (chunk % 16u != 0 || chunk < 16u || chunk > ctx->_rx._max - 10u) {
        refuse(ctx, OTARX_BAD_REQUEST, OTARX_PART_NONE, chunk, 0);
        return;
    }
    if ((dev.flags & OTARX_DEV_ROLLBACK) && (dev.flags & OTARX_DEV_PENDING)) {
        refuse(ctx, OTARX_BAD_STATE, OTARX_PART_NONE, 1, 0); /* esp_ota_begin refuses too */
        return;
    }
    target = dev.target;
    if (target >= dev.nparts || target == dev.running || target == dev.boot) {
        refuse(ctx, OTARX_BAD_STATE, OTARX_PART_NONE, 2, 0); /* no slot: reboot first */
        return;
    }
    if (otarx_get32(hdr) != OTARX_HDR_MAGIC) {
        refuse(ctx, OTARX_NOT_ENCRYPTED, target, 0, 0);
        return;
    }
    bin = otarx_get32(hdr + OTARX_HDR_BIN_SIZE);
    if (bin > 0xFFFFFFFFu - OTARX_HEADER_SIZE || total != OTARX_HEADER_SIZE + bin) {
        refuse(ctx, OTARX_BAD_SIZE, target, OTARX_HEADER_SIZE + bin, 0);
        return;
    }
    if (ctx->_ops->get_part(ctx->_user, target, &part) != OTARX_OK) {
        refuse(ctx, OTARX_FLASH_ERROR, target, 0, 0);
        return;
    }
    if (bin > part.size) {
        refuse(ctx, OTARX_TOO_LARGE, target, part.size, 0);
        return;
    }
    if (otarx_sha256(hdr, OTARX_HEADER_SIZE, id) != OTARX_OK) {
        refuse(ctx, OTARX_FLASH_ERROR, target, 0, 0);
        return;
    }
    if (ctx->_active && ctx->_target != target) {
        otarx_session_drop(ctx, 0); /* the slots moved: that session cannot continue */
    }
    ctx->_target = target;
    ctx->_flags = flags;
    rc = start_session(ctx, hdr, id, flags, (dev.flags & OTARX_DEV_IRAM_UART) == 0, &resumed);
    if (rc == OTARX_OK && resumed && ctx->_next - OTARX_HEADER_SIZE >= OTARX_APP_PREFIX) {
        /* the checks passed when this head first arrived; flags or the running app may differ */
        rc = otarx_app_early_check(ctx, ctx->_head, OTARX_APP_PREFIX,
                                   (flags & OTARX_BEGIN_ALLOW_DOWNGRADE) != 0, &detail);
        ctx->_checked = rc == OTARX_OK;
    }
    if (rc != OTARX_OK) {
        /* a wrong key says nothing about the stored record; a failed resume ends it */
        refuse(ctx, rc, target, detail, rc != OTARX_WRONG_KEY && resumed == 2);
        return;
    }
    ctx->_active = 1;
    ctx->_installed = 0; /* a new update is under way */
    open_window(ctx, chunk);
    ctx->_sstats.sessions++;
    if (resumed) {
        ctx->_sstats.resumes++;
    }
    OTARX_LOGI(ctx, "session %s at %lu of %lu, chunk %u, %s credit",
               resumed == 2 ? "resumed from the record" : (resumed ? "resumed" : "opened"),
               (unsigned long)ctx->_next, (unsigned long)ctx->_total, (unsigned)chunk,
               ctx->_batch ? "batched" : "free");
    reply_begin(ctx, OTARX_OK, target, 0);
    if (!resumed) {
        unwrap_after_ack(ctx, hdr);
    }
}
