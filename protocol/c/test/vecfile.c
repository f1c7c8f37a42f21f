/*
 * vecfile.c: the .vec line reader (SPEC §9.1). The file is read whole and split in place.
 */
#include "vecfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint8_t *vec_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    long n;
    if (f == NULL) {
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    buf = malloc((size_t)n + 1u);
    if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    buf[n] = 0;
    *len = (size_t)n;
    return buf;
}

int vec_open(vec_file_t *f, const char *path)
{
    memset(f, 0, sizeof(*f));
    f->path = path;
    f->data = (char *)vec_read_file(path, &f->len);
    return f->data != NULL ? 0 : -1;
}

void vec_close(vec_file_t *f)
{
    free(f->data);
    f->data = NULL;
}

int vec_next(vec_file_t *f, vec_entry_t *e)
{
    while (f->pos < f->len) {
        char *line = f->data + f->pos, *end = memchr(line, '\n', f->len - f->pos), *p;
        size_t n = end != NULL ? (size_t)(end - line) : f->len - f->pos;
        f->pos += n + (end != NULL ? 1u : 0u);
        f->line++;
        line[n] = 0;
        if (n > 0 && line[n - 1] == '\r') {
            line[--n] = 0;
        }
        if (line[0] == '#') {
            continue;
        }
        for (p = line; *p == ' '; p++) {
        }
        if (*p == 0) {
            continue;
        }
        memset(e, 0, sizeof(*e));
        e->line = f->line;
        e->kw = line;
        p = strchr(line, ' ');
        if (p == NULL) {
            return 1;
        }
        *p++ = 0;
        {
            char *second = strchr(p, ' ');
            e->rest = second != NULL ? second + 1 : "";
        }
        while (p != NULL && *p != 0 && e->argc < VEC_MAX_ARGS) {
            char *q = strchr(p, ' ');
            e->argv[e->argc++] = p;
            if (q == NULL) {
                break;
            }
            *q = 0;
            if (strcmp(e->kw, "field") == 0) {
                break; /* the value (rest) may contain spaces */
            }
            p = q + 1;
        }
        return 1;
    }
    return 0;
}

static int nibble(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

size_t vec_hex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0;
    if (strcmp(s, "-") == 0) {
        return 0;
    }
    while (s[0] != 0 && s[0] != ' ') {
        int hi = nibble(s[0]), lo = s[1] != 0 ? nibble(s[1]) : -1;
        if (hi < 0 || lo < 0 || n >= cap) {
            return (size_t)-1;
        }
        out[n++] = (uint8_t)(hi << 4 | lo);
        s += 2;
    }
    return n;
}
