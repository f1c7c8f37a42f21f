/*
 * flash_file.c: NOR flash held in memory and written through to a file (pwrite after every
 * completed operation, no fsync: kill -9 leaves the file as of the last completed operation, a
 * power cut). Same rules as src/device-sim/flash.ts: erase sets whole sectors/blocks to 0xFF,
 * program only clears bits and refuses (changing nothing) to set one.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "host.h"

#define DEFAULT_SIZE (4u * 1024u * 1024u)
#define PAGE 256u

static void spend(flash_file_t *f, uint32_t us)
{
    if (f->hook != NULL) {
        f->hook(f->hook_user, us);
    } else if (us > 0) {
        struct timespec ts;
        ts.tv_sec = us / 1000000u;
        ts.tv_nsec = (long)(us % 1000000u) * 1000L;
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
        }
    }
}

static int persist(flash_file_t *f, uint32_t addr, uint32_t len)
{
    uint32_t done = 0;
    if (f->fd < 0) {
        return 0;
    }
    while (done < len) {
        ssize_t n = pwrite(f->fd, f->mem + addr + done, len - done, (off_t)(addr + done));
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        done += (uint32_t)n;
    }
    return 0;
}

static int in_range(const flash_file_t *f, uint32_t addr, size_t len)
{
    return addr <= f->size && len <= f->size - addr;
}

uint32_t flash_erase_us(const flash_timing_t *t, uint32_t addr, uint32_t len)
{
    uint32_t us = 0, a = addr;
    while (a < addr + len) {
        int block = a % HOST_BLOCK == 0 && addr + len - a >= HOST_BLOCK;
        us += block ? t->block_erase_us : t->sector_erase_us;
        a += block ? HOST_BLOCK : HOST_SECTOR;
    }
    return us;
}

uint32_t flash_program_us(const flash_timing_t *t, uint32_t addr, uint32_t len)
{
    if (len == 0) {
        return 0;
    }
    return ((addr + len - 1u) / PAGE - addr / PAGE + 1u) * t->page_program_us;
}

int flash_read(const flash_file_t *f, uint32_t addr, uint8_t *buf, size_t len)
{
    if (!in_range(f, addr, len)) {
        return -1;
    }
    memcpy(buf, f->mem + addr, len);
    return 0;
}

int flash_erase(flash_file_t *f, uint32_t addr, uint32_t len)
{
    if (addr % HOST_SECTOR != 0 || len % HOST_SECTOR != 0 || !in_range(f, addr, len)) {
        return -1;
    }
    spend(f, flash_erase_us(&f->timing, addr, len));
    memset(f->mem + addr, 0xFF, len);
    f->erases++;
    return persist(f, addr, len);
}

int flash_program(flash_file_t *f, uint32_t addr, const uint8_t *buf, size_t len)
{
    size_t i;
    if (!in_range(f, addr, len)) {
        return -1;
    }
    for (i = 0; i < len; i++) {
        if ((f->mem[addr + i] & buf[i]) != buf[i]) {
            fprintf(stderr, "ota-uart-rx: flash program over unerased data at 0x%lx\n",
                    (unsigned long)(addr + i));
            return -1;
        }
    }
    spend(f, flash_program_us(&f->timing, addr, (uint32_t)len));
    memcpy(f->mem + addr, buf, len);
    f->programs++;
    return persist(f, addr, (uint32_t)len);
}

int flash_rewrite(flash_file_t *f, uint32_t addr, const uint8_t *buf, size_t len)
{
    uint32_t start = addr - addr % HOST_SECTOR;
    uint32_t end = (uint32_t)((addr + len + HOST_SECTOR - 1u) / HOST_SECTOR * HOST_SECTOR);
    if (flash_erase(f, start, end - start) != 0) {
        return -1;
    }
    return flash_program(f, addr, buf, len);
}

/* the factory layout (flash-image.ts createFlashImage) into mem[0, size) */
static size_t factory_image(uint8_t *mem, uint32_t size, uint16_t chip_id, const char *version)
{
    uint8_t pt[HOST_PT_MAX];
    if (size < 0x310000u) {
        return 0;
    }
    memset(mem, 0xFF, size);
    factory_partition_table(pt);
    memcpy(mem + HOST_PT_OFFSET, pt, sizeof(pt));
    return factory_app(mem + 0x10000u, 0x100000u, version, 0, chip_id, "ota-uart-sim-factory");
}

int flash_open_memory(flash_file_t *f, uint32_t size, uint16_t chip_id, const char *version)
{
    memset(f, 0, sizeof(*f));
    f->fd = -1;
    f->size = size;
    f->mem = malloc(size);
    if (f->mem == NULL || factory_image(f->mem, size, chip_id, version) == 0) {
        free(f->mem);
        f->mem = NULL;
        return -1;
    }
    return 0;
}

static int create_factory(const char *path, uint16_t chip_id, const char *version, char *err,
                          size_t err_len)
{
    uint8_t *img = malloc(DEFAULT_SIZE);
    size_t n;
    FILE *fp;
    if (img == NULL) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    n = factory_image(img, DEFAULT_SIZE, chip_id, version);
    fp = n == 0 ? NULL : fopen(path, "wbx");
    if (fp == NULL || fwrite(img, 1, DEFAULT_SIZE, fp) != DEFAULT_SIZE || fclose(fp) != 0) {
        snprintf(err, err_len, "cannot create flash file %s: %s", path, strerror(errno));
        free(img);
        return -1;
    }
    free(img);
    return 0;
}

int flash_open(flash_file_t *f, const char *path, uint16_t chip_id, const char *factory_version,
               char *err, size_t err_len)
{
    struct stat st;
    uint32_t got = 0;
    memset(f, 0, sizeof(*f));
    f->fd = -1;
    if (stat(path, &st) != 0) {
        if (errno != ENOENT || create_factory(path, chip_id, factory_version, err, err_len) != 0) {
            if (errno != ENOENT) {
                snprintf(err, err_len, "cannot open flash file %s: %s", path, strerror(errno));
            }
            return -1;
        }
    }
    f->fd = open(path, O_RDWR);
    if (f->fd < 0 || fstat(f->fd, &st) != 0) {
        snprintf(err, err_len, "cannot open flash file %s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode) || st.st_size == 0 || st.st_size % HOST_BLOCK != 0 ||
        st.st_size > 0x8000000) {
        snprintf(err, err_len, "flash file %s is %lld bytes, not a multiple of 64 KiB", path,
                 (long long)st.st_size);
        close(f->fd);
        return -1;
    }
    f->size = (uint32_t)st.st_size;
    f->mem = malloc(f->size);
    if (f->mem == NULL) {
        snprintf(err, err_len, "out of memory");
        close(f->fd);
        return -1;
    }
    while (got < f->size) {
        ssize_t n = pread(f->fd, f->mem + got, f->size - got, got);
        if (n <= 0) {
            snprintf(err, err_len, "cannot read flash file %s", path);
            flash_close(f);
            return -1;
        }
        got += (uint32_t)n;
    }
    return 0;
}

void flash_close(flash_file_t *f)
{
    if (f->fd >= 0) {
        close(f->fd);
    }
    free(f->mem);
    f->mem = NULL;
    f->fd = -1;
}
