/*
 * digest.c: the file digest of SPEC §4.2 bit6, SHA-256 of the whole file as received (header,
 * then every ciphertext byte in order), so that a host that died after END can learn that the
 * device installed exactly its file. Best effort: if mbedtls cannot set up the hash, the session
 * goes on and only bit6 is lost.
 */
#include "otarx_priv.h"

void otarx_digest_stop(otarx_ctx_t *ctx)
{
    if (ctx->_digesting) {
        mbedtls_md_free(&ctx->_digest);
        ctx->_digesting = 0;
    }
}

void otarx_digest_start(otarx_ctx_t *ctx, const uint8_t *hdr)
{
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    otarx_digest_stop(ctx);
    mbedtls_md_init(&ctx->_digest);
    ctx->_digesting = 1;
    if (md == NULL || mbedtls_md_setup(&ctx->_digest, md, 0) != 0 ||
        mbedtls_md_starts(&ctx->_digest) != 0 ||
        mbedtls_md_update(&ctx->_digest, hdr, OTARX_HEADER_SIZE) != 0) {
        otarx_digest_stop(ctx);
    }
}

void otarx_digest_update(otarx_ctx_t *ctx, const uint8_t *ct, size_t len)
{
    if (ctx->_digesting && mbedtls_md_update(&ctx->_digest, ct, len) != 0) {
        otarx_digest_stop(ctx);
    }
}

int otarx_digest_finish(otarx_ctx_t *ctx, uint8_t out[32])
{
    int ok = ctx->_digesting && mbedtls_md_finish(&ctx->_digest, out) == 0;
    otarx_digest_stop(ctx);
    return ok;
}
