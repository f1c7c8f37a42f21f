/*
 * images.c: test images made in C: an app (host/factory.c's builder) encrypted for an RSA TEST
 * key exactly as esp_enc_img_gen.py does (PKCS#1 v1.5 key wrap, AES-256-GCM, 16-byte IV, no AAD),
 * with deterministic "random" bytes so that every run sees the same files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "mbedtls/gcm.h"
#include "mbedtls/pk.h"
#include "mbedtls/version.h"
#include "otarx_priv.h"
#include "vecfile.h"

static int det_rng(void *p, unsigned char *out, size_t n)
{
    uint32_t *s = (uint32_t *)p;
    size_t i;
    for (i = 0; i < n; i++) {
        *s = *s * 1664525u + 1013904223u;
        out[i] = (unsigned char)((*s >> 24) | 1u); /* PKCS#1 v1.5 padding bytes are non-zero */
    }
    return 0;
}

uint8_t *h_encrypt(const uint8_t *app, size_t len, const char *pem_path, size_t *out_len)
{
    mbedtls_pk_context pk;
    mbedtls_gcm_context gcm;
    uint8_t aes[32], *out = NULL, *pem;
    size_t plen = 0, olen = 0, i;
    uint32_t seed = (uint32_t)len * 2654435761u;
    int rc;
    pem = vec_read_file(pem_path, &plen);
    if (pem == NULL) {
        return NULL;
    }
    mbedtls_pk_init(&pk);
    mbedtls_gcm_init(&gcm);
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    rc = mbedtls_pk_parse_key(&pk, pem, plen + 1u, NULL, 0, det_rng, &seed);
#else
    rc = mbedtls_pk_parse_key(&pk, pem, plen + 1u, NULL, 0);
#endif
    out = rc == 0 ? calloc(1, 512u + len) : NULL;
    if (out != NULL) {
        for (i = 0; i < 32; i++) {
            aes[i] = (uint8_t)(i * 7u + len);
        }
        otarx_put32(out, OTARX_HDR_MAGIC);
        rc = mbedtls_pk_encrypt(&pk, aes, 32, out + 4, &olen, 384, det_rng, &seed);
        for (i = 0; i < 16; i++) {
            out[OTARX_HDR_IV + i] = (uint8_t)(0xA0u + i + len);
        }
        otarx_put32(out + OTARX_HDR_BIN_SIZE, (uint32_t)len);
        rc = rc ? rc : mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, aes, 256);
        rc = rc ? rc : mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, len,
                                                 out + OTARX_HDR_IV, 16, NULL, 0, app, out + 512,
                                                 16, out + OTARX_HDR_TAG);
        if (rc != 0 || olen != 384) {
            free(out);
            out = NULL;
        }
    }
    mbedtls_gcm_free(&gcm);
    mbedtls_pk_free(&pk);
    free(pem);
    *out_len = 512u + len;
    return out;
}

uint8_t *h_app(const char *version, uint16_t chip, uint32_t sv, uint32_t data_len, size_t *len)
{
    app_spec_t s;
    uint8_t *buf;
    memset(&s, 0, sizeof(s));
    s.version = version;
    s.project = "ota-uart-c-test";
    s.secure_version = sv;
    s.chip_id = chip;
    s.max_rev = 399;
    s.data_len = data_len != 0 ? data_len : 0x800u;
    s.seed = data_len != 0 ? data_len : 0;
    *len = app_size(&s);
    buf = malloc(*len);
    if (buf != NULL && app_build(buf, *len, &s) == 0) {
        free(buf);
        return NULL;
    }
    return buf;
}
