/*
 * vecfile.h: reader for the .vec line grammar of protocol/SPEC.md §9.1 (comments, blank lines,
 * entries "keyword arg arg ..."), and hex arguments.
 */
#ifndef VECFILE_H
#define VECFILE_H

#include <stddef.h>
#include <stdint.h>

#define VEC_MAX_ARGS 12

typedef struct {
    char *data;
    size_t len, pos;
    unsigned line;
    const char *path;
} vec_file_t;

typedef struct {
    const char *kw;
    int argc;
    const char *argv[VEC_MAX_ARGS];
    const char *rest;  /* everything after the keyword and its first argument (field values) */
    unsigned line;
} vec_entry_t;

/** 0, or -1 if the file cannot be read. */
int vec_open(vec_file_t *f, const char *path);
/** 1 and the next entry, or 0 at the end. */
int vec_next(vec_file_t *f, vec_entry_t *e);
void vec_close(vec_file_t *f);
/** Decode lowercase hex ("-" is empty) into out; the byte count, or (size_t)-1 if malformed or
 *  longer than cap. */
size_t vec_hex(const char *s, uint8_t *out, size_t cap);
/** Read a whole binary file (malloc'ed); NULL on error. */
uint8_t *vec_read_file(const char *path, size_t *len);

#endif /* VECFILE_H */
