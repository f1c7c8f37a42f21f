/*
 * crypt.c: esp_encrypted_img decryption (esp-formats §1) over mbedtls 2.28 or 3.x:
 * RSA-3072 PKCS#1 v1.5 key unwrap or ECIES-P256 (ECDH x-coordinate, HKDF-SHA256; device scalar
 * from PBKDF2-HMAC-SHA256 of the HMAC key), then streaming AES-256-GCM with a 16-byte IV and the
 * tag from the header, compared in constant time. HKDF and PBKDF2 are written over
 * mbedtls_md_hmac because ESP-IDF builds mbedtls without HKDF by default.
 */
#include "otarx_priv.h"

#include "mbedtls/ecdh.h"
#include "mbedtls/ecp.h"
#include "mbedtls/md.h"
#include "mbedtls/version.h"

#define MBEDTLS_3 (MBEDTLS_VERSION_NUMBER >= 0x03000000)

static const uint8_t k_pbkdf2_salt[32] = {
    0x0e, 0x21, 0x60, 0x64, 0x2d, 0xae, 0x76, 0xd3, 0x34, 0x48, 0xe4, 0x3d, 0x77, 0x20, 0x12, 0x3d,
    0x9f, 0x3b, 0x1e, 0xce, 0xb8, 0x8e, 0x57, 0x3a, 0x4e, 0x8f, 0x7f, 0xb9, 0x4f, 0xf0, 0xc8, 0x69,
};
static const char k_hkdf_info[16] = {'_', 'e', 's', 'p', '_', 'e', 'n', 'c',
                                     '_', 'i', 'm', 'g', '_', 'e', 'c', 'c'};
#define PBKDF2_ITERATIONS 2048

static int rng(void *p, unsigned char *buf, size_t len)
{
    otarx_ctx_t *ctx = (otarx_ctx_t *)p;
    return ctx->_ops->random(ctx->_user, buf, len) == OTARX_OK ? 0 : -1;
}

static void wipe(void *p, size_t n)
{
    volatile uint8_t *v = (volatile uint8_t *)p;
    while (n--) {
        *v++ = 0;
    }
}

static OTARX_CHECK int hmac256(const uint8_t *key, size_t klen, const uint8_t *in, size_t ilen,
                               uint8_t out[32])
{
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    if (md == NULL || mbedtls_md_hmac(md, key, klen, in, ilen, out) != 0) {
        return OTARX_ERR_CRYPTO;
    }
    return OTARX_OK;
}

int otarx_sha256(const uint8_t *buf, size_t len, uint8_t out[32])
{
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    if (md == NULL || mbedtls_md(md, buf, len, out) != 0) {
        return OTARX_ERR_CRYPTO;
    }
    return OTARX_OK;
}

/* PBKDF2-HMAC-SHA256 with one 32-byte output block (RFC 8018 §5.2). */
static OTARX_CHECK int pbkdf2_one_block(const uint8_t *pw, size_t pwlen, uint8_t out[32])
{
    uint8_t u[36], t[32];
    int i, j;
    memcpy(u, k_pbkdf2_salt, 32);
    otarx_put32(&u[32], 0x01000000u); /* INT(1), big-endian */
    OTARX_TRY(hmac256(pw, pwlen, u, 36, u));
    memcpy(t, u, 32);
    for (i = 1; i < PBKDF2_ITERATIONS; i++) {
        OTARX_TRY(hmac256(pw, pwlen, u, 32, u));
        for (j = 0; j < 32; j++) {
            t[j] ^= u[j];
        }
    }
    memcpy(out, t, 32);
    wipe(u, sizeof(u));
    wipe(t, sizeof(t));
    return OTARX_OK;
}

int otarx_key_init(otarx_ctx_t *ctx, const otarx_key_t *key)
{
    mbedtls_pk_init(&ctx->_pk);
    if (key->rsa_pem != NULL) {
        int rc;
#if MBEDTLS_3
        rc = mbedtls_pk_parse_key(&ctx->_pk, key->rsa_pem, key->rsa_pem_len, NULL, 0, rng, ctx);
#else
        rc = mbedtls_pk_parse_key(&ctx->_pk, key->rsa_pem, key->rsa_pem_len, NULL, 0);
#endif
        if (rc != 0 || mbedtls_pk_get_type(&ctx->_pk) != MBEDTLS_PK_RSA ||
            mbedtls_pk_get_bitlen(&ctx->_pk) != 3072u) {
            mbedtls_pk_free(&ctx->_pk);
            return OTARX_ERR_KEY;
        }
        ctx->_key_kind = 1;
        return OTARX_OK;
    }
    if (key->hmac_key != NULL) {
        mbedtls_ecp_group grp;
        mbedtls_mpi d;
        int rc;
        OTARX_TRY(pbkdf2_one_block(key->hmac_key, 32, ctx->_ecc_d));
        mbedtls_ecp_group_init(&grp);
        mbedtls_mpi_init(&d);
        rc = mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1);
        rc = rc ? rc : mbedtls_mpi_read_binary(&d, ctx->_ecc_d, 32);
        rc = rc ? rc : mbedtls_ecp_check_privkey(&grp, &d);
        mbedtls_mpi_free(&d);
        mbedtls_ecp_group_free(&grp);
        if (rc != 0) {
            return OTARX_ERR_KEY;
        }
        ctx->_key_kind = 2;
        return OTARX_OK;
    }
    return OTARX_ERR_ARG;
}

void otarx_key_free(otarx_ctx_t *ctx)
{
    mbedtls_pk_free(&ctx->_pk);
    wipe(ctx->_ecc_d, sizeof(ctx->_ecc_d));
    ctx->_key_kind = 0;
}

static OTARX_CHECK int unwrap_rsa(otarx_ctx_t *ctx, const uint8_t *hdr, uint8_t key[32])
{
    uint8_t out[384];
    size_t olen = 0;
    int rc;
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
    /* fuzz builds only: remember the last unwrap so the fuzzer is not spending its time in
     * RSA (a different wrapped key still takes the real path) */
    if (ctx->_fuzz_unwrap_ok && memcmp(ctx->_fuzz_wrapped, hdr + 4, 384) == 0) {
        memcpy(key, ctx->_fuzz_key, 32);
        return OTARX_OK;
    }
#endif
    rc = mbedtls_pk_decrypt(&ctx->_pk, hdr + 4, 384, out, &olen, sizeof(out), rng, ctx);
    if (rc != 0 || olen != 32u) {
        wipe(out, sizeof(out));
        return OTARX_WRONG_KEY;
    }
    memcpy(key, out, 32);
    wipe(out, sizeof(out));
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
    memcpy(ctx->_fuzz_wrapped, hdr + 4, 384);
    memcpy(ctx->_fuzz_key, key, 32);
    ctx->_fuzz_unwrap_ok = 1;
#endif
    return OTARX_OK;
}

static OTARX_CHECK int unwrap_ecies(otarx_ctx_t *ctx, const uint8_t *hdr, uint8_t key[32])
{
    mbedtls_ecp_group grp;
    mbedtls_ecp_point q;
    mbedtls_mpi d, z;
    uint8_t pt[65], shared[32], prk[32], info[17];
    int rc;
    pt[0] = 0x04;
    memcpy(&pt[1], hdr + 4, 64);
    mbedtls_ecp_group_init(&grp);
    mbedtls_ecp_point_init(&q);
    mbedtls_mpi_init(&d);
    mbedtls_mpi_init(&z);
    rc = mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1);
    rc = rc ? rc : mbedtls_ecp_point_read_binary(&grp, &q, pt, sizeof(pt));
    rc = rc ? rc : mbedtls_ecp_check_pubkey(&grp, &q);
    rc = rc ? rc : mbedtls_mpi_read_binary(&d, ctx->_ecc_d, 32);
    rc = rc ? rc : mbedtls_ecdh_compute_shared(&grp, &z, &q, &d, rng, ctx);
    rc = rc ? rc : mbedtls_mpi_write_binary(&z, shared, 32);
    mbedtls_mpi_free(&z);
    mbedtls_mpi_free(&d);
    mbedtls_ecp_point_free(&q);
    mbedtls_ecp_group_free(&grp);
    if (rc != 0) {
        return OTARX_WRONG_KEY;
    }
    /* HKDF-SHA256 (RFC 5869): PRK = HMAC(salt, IKM); OKM = T(1) = HMAC(PRK, info || 0x01) */
    memcpy(info, k_hkdf_info, 16);
    info[16] = 0x01;
    rc = hmac256(hdr + 68, 32, shared, 32, prk);
    rc = rc ? rc : hmac256(prk, 32, info, sizeof(info), key);
    wipe(shared, sizeof(shared));
    wipe(prk, sizeof(prk));
    return rc;
}

static OTARX_CHECK int gcm_start(mbedtls_gcm_context *gcm, const uint8_t *key, const uint8_t *iv,
                                 int mode)
{
    mbedtls_gcm_init(gcm);
    if (mbedtls_gcm_setkey(gcm, MBEDTLS_CIPHER_ID_AES, key, 256) != 0) {
        return OTARX_ERR_CRYPTO;
    }
#if MBEDTLS_3
    if (mbedtls_gcm_starts(gcm, mode, iv, 16) != 0) {
        return OTARX_ERR_CRYPTO;
    }
#else
    if (mbedtls_gcm_starts(gcm, mode, iv, 16, NULL, 0) != 0) {
        return OTARX_ERR_CRYPTO;
    }
#endif
    return OTARX_OK;
}

/* Whole 16-byte blocks, out of place: ESP-IDF's hardware GCM does not allow the output to be
 * the input when decrypting, so every call goes through the small buffer `out`. */
static OTARX_CHECK int gcm_blocks(mbedtls_gcm_context *gcm, const uint8_t *in, uint8_t *out,
                                  size_t len)
{
#if MBEDTLS_3
    size_t olen = 0;
    if (mbedtls_gcm_update(gcm, in, len, out, len, &olen) != 0 || olen != len) {
        return OTARX_ERR_CRYPTO;
    }
#else
    if (mbedtls_gcm_update(gcm, len, in, out) != 0) {
        return OTARX_ERR_CRYPTO;
    }
#endif
    return OTARX_OK;
}

/* buf[0, len) through `gcm` in pieces of the bounce buffer, written back in place. */
static OTARX_CHECK int gcm_in_place(mbedtls_gcm_context *gcm, uint8_t *buf, size_t len,
                                    uint8_t *bounce)
{
    size_t at = 0;
    while (at < len) {
        size_t n = len - at < OTARX_CRYPT_BOUNCE ? len - at : OTARX_CRYPT_BOUNCE;
        OTARX_TRY(gcm_blocks(gcm, buf + at, bounce, n));
        memcpy(buf + at, bounce, n);
        at += n;
    }
    return OTARX_OK;
}

int otarx_crypt_begin(otarx_ctx_t *ctx, const uint8_t *header)
{
    otarx_crypt_t *c = &ctx->_crypt;
    otarx_crypt_end(ctx);
    if (ctx->_key_kind == 1) {
        OTARX_TRY(unwrap_rsa(ctx, header, c->_key));
    } else {
        OTARX_TRY(unwrap_ecies(ctx, header, c->_key));
    }
    memcpy(c->_iv, header + 388, 16);
    memcpy(c->_tag, header + 408, 16);
    c->_active = 1;
    return gcm_start(&c->_gcm, c->_key, c->_iv, MBEDTLS_GCM_DECRYPT);
}

int otarx_crypt_update(otarx_ctx_t *ctx, uint8_t *buf, size_t len, int last)
{
    otarx_crypt_t *c = &ctx->_crypt;
    if (!c->_active || c->_done) {
        return OTARX_ERR_ARG;
    }
    if (!last) {
        return gcm_in_place(&c->_gcm, buf, len, c->_bounce);
    }
    /* The last piece (any length) ends the GCM computation at once: an mbedtls 3.x GCM_ALT
     * (ESP-IDF's hardware GCM) may hand out a final partial block only from finish. */
    {
        size_t whole = len - len % OTARX_CRYPT_BOUNCE, tail = len - whole;
        OTARX_TRY(gcm_in_place(&c->_gcm, buf, whole, c->_bounce));
        buf += whole;
#if MBEDTLS_3
        {
            uint8_t rest[16];
            size_t olen = 0, rlen = 0;
            if (mbedtls_gcm_update(&c->_gcm, buf, tail, c->_bounce, sizeof(c->_bounce), &olen) != 0 ||
                olen > tail ||
                mbedtls_gcm_finish(&c->_gcm, rest, sizeof(rest), &rlen, c->_calc, 16) != 0 ||
                olen + rlen != tail) {
                return OTARX_ERR_CRYPTO;
            }
            memcpy(c->_bounce + olen, rest, rlen);
        }
#else
        if (mbedtls_gcm_update(&c->_gcm, tail, buf, c->_bounce) != 0 ||
            mbedtls_gcm_finish(&c->_gcm, c->_calc, 16) != 0) {
            return OTARX_ERR_CRYPTO;
        }
#endif
        memcpy(buf, c->_bounce, tail);
    }
    c->_done = 1;
    return OTARX_OK;
}

int otarx_crypt_rebuild(otarx_ctx_t *ctx, uint8_t part, uint32_t plain_len, uint8_t *scratch,
                        size_t scratch_len)
{
    /* GHASH runs over the ciphertext: recompute it by encrypting the plaintext already in flash
     * with a second context (CTR is its own inverse) and feed it to the decrypting one. */
    mbedtls_gcm_context enc;
    uint32_t done = 0;
    int rc = gcm_start(&enc, ctx->_crypt._key, ctx->_crypt._iv, MBEDTLS_GCM_ENCRYPT);
    scratch_len -= scratch_len % 16u;
    while (rc == OTARX_OK && done < plain_len) {
        size_t n = plain_len - done < scratch_len ? plain_len - done : scratch_len;
        rc = ctx->_ops->flash_read(ctx->_user, part, done, scratch, n);
        if (rc != OTARX_OK) {
            rc = OTARX_FLASH_ERROR;
            break;
        }
        if (done < OTARX_APP_PREFIX) {
            size_t h = OTARX_APP_PREFIX - done < n ? OTARX_APP_PREFIX - done : n;
            memcpy(&ctx->_head[done], scratch, h);
        }
        rc = gcm_in_place(&enc, scratch, n, ctx->_crypt._bounce); /* the ciphertext again */
        rc = rc ? rc : gcm_in_place(&ctx->_crypt._gcm, scratch, n, ctx->_crypt._bounce);
        done += (uint32_t)n;
    }
    mbedtls_gcm_free(&enc);
    return rc;
}

int otarx_crypt_finish(otarx_ctx_t *ctx)
{
    otarx_crypt_t *c = &ctx->_crypt;
    uint8_t diff = 0;
    size_t i;
    if (!c->_active) {
        return OTARX_ERR_ARG;
    }
    if (!c->_done) {
        /* no ciphertext at all (bin_size 0): the tag of the empty message */
#if MBEDTLS_3
        uint8_t rest[16];
        size_t rlen = 0;
        int rc = mbedtls_gcm_finish(&c->_gcm, rest, sizeof(rest), &rlen, c->_calc, 16);
        rc = rc != 0 || rlen != 0;
#else
        int rc = mbedtls_gcm_finish(&c->_gcm, c->_calc, 16);
#endif
        if (rc != 0) {
            otarx_crypt_end(ctx);
            return OTARX_ERR_CRYPTO;
        }
    }
    /* compared here, in constant time: a streaming decrypt never sees mbedtls compare it */
    for (i = 0; i < sizeof(c->_calc); i++) {
        diff |= (uint8_t)(c->_calc[i] ^ c->_tag[i]);
    }
    otarx_crypt_end(ctx);
    return diff == 0 ? OTARX_OK : OTARX_AUTH_FAILED;
}

void otarx_crypt_end(otarx_ctx_t *ctx)
{
    otarx_crypt_t *c = &ctx->_crypt;
    if (c->_active) {
        mbedtls_gcm_free(&c->_gcm);
    }
    wipe(c->_key, sizeof(c->_key));
    c->_active = 0;
    c->_done = 0;
}
