/*
 * version.c: the app version rule of SPEC §4.6. Versions compare numerically by their
 * dot-separated leading integers ("1.10.0" > "1.9.3"; a leading 'v' is ignored, missing parts
 * count as 0); versions that do not start with a number are equal only when identical, and are
 * otherwise accepted.
 */
#include "otarx_priv.h"

#define MAX_PARTS 8

static size_t field_len(const char *s, size_t cap)
{
    size_t n = 0;
    while (n < cap && s[n] != '\0') {
        n++;
    }
    return n;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* Parse up to MAX_PARTS leading integers; returns their count (0: not numeric). */
static int parse(const char *s, size_t n, uint32_t out[MAX_PARTS])
{
    size_t i = 0;
    int k = 0;
    if (i < n && (s[i] == 'v' || s[i] == 'V')) {
        i++;
    }
    while (k < MAX_PARTS && i < n && is_digit(s[i])) {
        uint32_t v = 0;
        while (i < n && is_digit(s[i])) {
            uint32_t d = (uint32_t)(s[i] - '0');
            v = v > 400000000u ? 0xFFFFFFFFu : v * 10u + d; /* saturate */
            i++;
        }
        out[k++] = v;
        if (i + 1 < n && s[i] == '.' && is_digit(s[i + 1])) {
            i++;
            continue;
        }
        break;
    }
    return k;
}

int otarx_version_newer(const char *cand, size_t cand_len, const char *running, size_t run_len)
{
    uint32_t a[MAX_PARTS] = {0}, b[MAX_PARTS] = {0};
    int na, nb, i;
    cand_len = field_len(cand, cand_len);
    run_len = field_len(running, run_len);
    na = parse(cand, cand_len, a);
    nb = parse(running, run_len, b);
    if (na == 0 || nb == 0) {
        return !(cand_len == run_len && memcmp(cand, running, cand_len) == 0);
    }
    for (i = 0; i < MAX_PARTS; i++) {
        if (a[i] != b[i]) {
            return a[i] > b[i];
        }
    }
    return 0; /* numerically equal: the same version */
}
