/*
 * host_options.h: command-line options of build/ota-uart-rx (options.c).
 */
#ifndef OTARX_HOST_OPTIONS_H
#define OTARX_HOST_OPTIONS_H

#include <stdio.h>

#include "host_dev.h"

typedef struct {
    const char *port, *key, *hmac_key, *flash, *factory_version;
    uint16_t max_frame;
    uint32_t window, record_every;
    int create_only;
} host_args_t;

/** Fill `a` and the device settings in `d` from argv; 0, or -1 after a message on stderr. */
int host_parse_args(int argc, char **argv, host_args_t *a, host_dev_t *d);
void host_usage(FILE *out);
/** The demo TEST key next to the binary's build/ directory, or NULL. */
const char *host_default_key(char *buf, size_t len);

#endif /* OTARX_HOST_OPTIONS_H */
