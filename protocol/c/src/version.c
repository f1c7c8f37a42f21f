/*
 * version.c: the app version rule of SPEC §4.6, as src/protocol/version-compare.ts: versions
 * compare numerically by their dot-separated leading integers after an optional lowercase 'v'
 * ("1.10.0" > "1.9.3", "v1.2" == "1.2.0", "1.2.3-rc1" == "1.2.3"; missing parts count as 0).
 * Components are compared as digit strings, so no length overflows. A version that does not
 * start with a digit is comparable only by identity; otherwise it is accepted.
 */
#include "otarx_priv.h"

static size_t field_len(const char *s, size_t cap)
{
    size_t n = 0;
    while (n < cap && s[n] != '\0') {
        n++;
    }
    return n;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* Cursor over the leading numeric part "v?D+(.D+)*" of a version string. */
typedef struct {
    const char *s;
    size_t n;   /* end of the numeric part */
    size_t i;   /* position of the next component */
} ver_cursor_t;

/* 0 if the string does not start with a number. */
static int cursor_init(ver_cursor_t *c, const char *s, size_t len)
{
    size_t i = 0;
    if (i < len && s[i] == 'v') {
        i++;
    }
    if (i >= len || !is_digit(s[i])) {
        return 0;
    }
    c->s = s;
    c->i = i;
    /* the numeric part ends at the first char that is neither a digit nor a '.' followed by a
     * digit */
    while (i < len) {
        if (is_digit(s[i])) {
            i++;
        } else if (s[i] == '.' && i + 1 < len && is_digit(s[i + 1])) {
            i++;
        } else {
            break;
        }
    }
    c->n = i;
    return 1;
}

/* Next component as [start, end) without leading zeros ("0" stays "0"); empty when exhausted
 * (compares as 0). */
static void next_component(ver_cursor_t *c, size_t *start, size_t *end)
{
    size_t a, b;
    if (c->i >= c->n) {
        *start = *end = 0;
        return;
    }
    a = c->i;
    b = a;
    while (b < c->n && is_digit(c->s[b])) {
        b++;
    }
    c->i = b < c->n ? b + 1u : b; /* skip the '.' */
    while (a + 1u < b && c->s[a] == '0') {
        a++;
    }
    if (b - a == 1u && c->s[a] == '0') {
        a = b; /* "0" is the same as a missing component */
    }
    *start = a;
    *end = b;
}

/* sign of x - y for two canonical digit strings */
static int cmp_digits(const char *x, size_t xl, const char *y, size_t yl)
{
    int d;
    if (xl != yl) {
        return xl < yl ? -1 : 1;
    }
    d = xl == 0 ? 0 : memcmp(x, y, xl);
    return d < 0 ? -1 : (d > 0 ? 1 : 0);
}

int otarx_version_cmp(const char *a, size_t a_len, const char *b, size_t b_len)
{
    ver_cursor_t x, y;
    a_len = field_len(a, a_len);
    b_len = field_len(b, b_len);
    if (!cursor_init(&x, a, a_len) || !cursor_init(&y, b, b_len)) {
        /* not comparable: the same string is the same version, anything else is accepted */
        return (a_len == b_len && memcmp(a, b, a_len) == 0) ? 0 : OTARX_VERSION_UNORDERED;
    }
    while (x.i < x.n || y.i < y.n) {
        size_t as, ae, bs, be;
        int d;
        next_component(&x, &as, &ae);
        next_component(&y, &bs, &be);
        d = cmp_digits(a + as, ae - as, b + bs, be - bs);
        if (d != 0) {
            return d;
        }
    }
    return 0; /* numerically equal: the same version */
}

int otarx_version_newer(const char *cand, size_t cand_len, const char *running, size_t run_len)
{
    int c = otarx_version_cmp(cand, cand_len, running, run_len);
    return c > 0; /* OTARX_VERSION_UNORDERED > 0: accepted */
}
