/*
 * otarx_err.h: the one error/status enum of the ota-uart C receiver.
 *
 * Non-negative values are the wire status codes of protocol/SPEC.md §5 and are sent to the host
 * unchanged. Negative values are local failures (bad argument, platform I/O) that never appear
 * on the wire; the library maps them to a wire status where one is needed (FLASH_ERROR).
 */
#ifndef OTARX_ERR_H
#define OTARX_ERR_H

typedef enum {
    OTARX_OK = 0x00,
    OTARX_BUSY = 0x01,
    OTARX_NOT_ENCRYPTED = 0x10,
    OTARX_BAD_SIZE = 0x11,
    OTARX_WRONG_KEY = 0x12,
    OTARX_TOO_LARGE = 0x13,
    OTARX_NOT_APP = 0x14,
    OTARX_WRONG_CHIP = 0x15,
    OTARX_CHIP_REV = 0x16,
    OTARX_DOWNGRADE = 0x17,
    OTARX_SECURE_VERSION = 0x18,
    OTARX_AUTH_FAILED = 0x19,
    OTARX_INVALID_IMAGE = 0x1A,
    OTARX_INCOMPLETE = 0x1B,
    OTARX_FLASH_ERROR = 0x1C,
    OTARX_NO_SESSION = 0x1D,
    OTARX_BAD_STATE = 0x1E,
    OTARX_ABORTED = 0x1F,
    OTARX_UNSUPPORTED = 0x20,
    OTARX_BAD_REQUEST = 0x21,
    OTARX_NO_PENDING = 0x22,

    OTARX_ERR_ARG = -1,    /**< invalid argument to a library call */
    OTARX_ERR_IO = -2,     /**< a platform op failed (flash, uart, record store) */
    OTARX_ERR_KEY = -3,    /**< the device key could not be parsed or derived */
    OTARX_ERR_CRYPTO = -4  /**< an mbedtls call failed for a reason other than a wrong key */
} otarx_err_t;

/** Short stable name of a status ("WRONG_KEY"), "?" for an unknown value. Never NULL. */
const char *otarx_err_name(otarx_err_t err);

#endif /* OTARX_ERR_H */
