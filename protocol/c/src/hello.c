/*
 * hello.c: the HELLO_ACK reply (SPEC §4.2): identity, limits, the partition report and the
 * resumable session (in RAM, else the durable record of SPEC §7), else the image installed last.
 */
#include "otarx_priv.h"

int otarx_send_hello_ack(otarx_ctx_t *ctx)
{
    otarx_dev_info_t dev;
    otarx_part_t run;
    otarx_record_t rec;
    uint8_t *p = &ctx->_tx[2];
    uint8_t i, flags;
    memset(&dev, 0, sizeof(dev));
    memset(&run, 0, sizeof(run));
    OTARX_TRY(ctx->_ops->get_info(ctx->_user, &dev));
    if (dev.nparts > OTARX_MAX_PARTS) {
        dev.nparts = OTARX_MAX_PARTS;
    }
    if (dev.running < dev.nparts) {
        OTARX_TRY(ctx->_ops->get_part(ctx->_user, dev.running, &run));
    }
    /* this library takes multi-chunk DATA (SPEC §4.5) whatever the port says */
    flags = (uint8_t)((dev.flags & (uint8_t) ~(OTARX_DEV_RESUMABLE | OTARX_DEV_INSTALLED)) |
                      OTARX_DEV_MULTI_CHUNK);
    memset(p, 0, OTARX_HELLO_ACK_FIXED);
    p[0] = OTARX_OK;
    p[1] = (uint8_t)OTARX_PROTO_VERSION;
    otarx_put16(&p[2], ctx->_rx._max);
    otarx_put32(&p[4], ctx->_window);
    otarx_put32(&p[8], ctx->_ops->set_baud != NULL ? dev.max_baud : 0u);
    otarx_put16(&p[12], dev.chip_id);
    otarx_put16(&p[14], dev.chip_rev);
    otarx_put32(&p[17], dev.efuse_secure_version);
    p[21] = dev.running;
    p[22] = dev.boot;
    p[23] = dev.target;
    memcpy(&p[24], run.version, 32);
    memcpy(&p[56], run.project, 32);
    otarx_put32(&p[88], run.secure_version);
    if (ctx->_active) {
        flags |= OTARX_DEV_RESUMABLE;
        memcpy(&p[92], ctx->_image_id, 32);
        otarx_put32(&p[124], ctx->_next);
        otarx_put32(&p[128], ctx->_total);
    } else if (ctx->_ops->record_load != NULL &&
               ctx->_ops->record_load(ctx->_user, &rec) == OTARX_OK &&
               rec.offset > OTARX_HEADER_SIZE) {
        /* the durable record keeps a 20-byte prefix of the id (the rest reads as zeros) and no
         * total */
        flags |= OTARX_DEV_RESUMABLE;
        memcpy(&p[92], rec.image_id, sizeof(rec.image_id));
        otarx_put32(&p[124], rec.offset);
    } else if (ctx->_installed && dev.boot == ctx->_installed_slot) {
        flags |= OTARX_DEV_INSTALLED;
        memcpy(&p[92], ctx->_installed_digest, 32);
        otarx_put32(&p[124], ctx->_installed_total);
        otarx_put32(&p[128], ctx->_installed_total);
    }
    p[16] = flags;
    p[132] = dev.nparts;
    p += OTARX_HELLO_ACK_FIXED;
    for (i = 0; i < dev.nparts; i++, p += OTARX_PART_RECORD) {
        otarx_part_t part;
        memset(&part, 0, sizeof(part));
        OTARX_TRY(ctx->_ops->get_part(ctx->_user, i, &part));
        memset(p, 0, OTARX_PART_RECORD);
        p[0] = part.subtype;
        p[1] = part.state;
        p[2] = part.valid;
        otarx_put32(&p[4], part.offset);
        otarx_put32(&p[8], part.size);
        otarx_put32(&p[12], part.secure_version);
        memcpy(&p[16], part.version, 32);
    }
    return otarx_send(ctx, OTARX_T_HELLO | OTARX_T_REPLY,
                      OTARX_HELLO_ACK_FIXED + OTARX_PART_RECORD * (size_t)dev.nparts);
}
