/*
 * otarx_config.h: compile-time limits of the receiver. Override with -D (host) or Kconfig
 * (ESP-IDF: CONFIG_OTARX_*). Every limit is checked here with #error so a bad configuration
 * fails the build instead of the update. Protocol constants come from protocol/SPEC.md §8.
 */
#ifndef OTARX_CONFIG_H
#define OTARX_CONFIG_H

#if defined(CONFIG_OTARX_MAX_FRAME) && !defined(OTARX_MAX_FRAME)
#define OTARX_MAX_FRAME CONFIG_OTARX_MAX_FRAME
#endif
#if defined(CONFIG_OTARX_WINDOW) && !defined(OTARX_WINDOW)
#define OTARX_WINDOW CONFIG_OTARX_WINDOW
#endif
#if defined(CONFIG_OTARX_MAX_PARTS) && !defined(OTARX_MAX_PARTS)
#define OTARX_MAX_PARTS CONFIG_OTARX_MAX_PARTS
#endif

/* ---- protocol constants (SPEC §8); not configurable ---- */
#define OTARX_PROTO_VERSION 1u
#define OTARX_MAX_FRAME_ABS 4112u
#define OTARX_MIN_MAX_FRAME 640u
#define OTARX_MAX_SACK_CHUNKS 32u
#define OTARX_MAX_CREDIT_CHUNKS 64u
#define OTARX_DEFAULT_CHUNK 1024u
#define OTARX_DURABLE_INTERVAL 65536u
#define OTARX_BAUD_CONFIRM_MS 1000u
#define OTARX_HEADER_SIZE 512u     /* esp_encrypted_img header */
#define OTARX_APP_PREFIX 288u      /* image header + segment header + esp_app_desc_t */
#define OTARX_SECTOR 4096u         /* flash erase unit */
#define OTARX_CRYPT_BOUNCE 256u    /* GCM works out of place through a buffer of this size */

/* ---- configurable limits ---- */
/** Largest frame body accepted (ver+type+payload+crc). Default fits DATA with a 1024-byte chunk. */
#ifndef OTARX_MAX_FRAME
#define OTARX_MAX_FRAME 1040u
#endif
/** Receive window in bytes: out-of-order storage; advertised in HELLO_ACK. */
#ifndef OTARX_WINDOW
#define OTARX_WINDOW 8192u
#endif
/** Largest number of app partitions reported in HELLO_ACK. */
#ifndef OTARX_MAX_PARTS
#define OTARX_MAX_PARTS 16u
#endif

#if OTARX_MAX_FRAME < OTARX_MIN_MAX_FRAME || OTARX_MAX_FRAME > OTARX_MAX_FRAME_ABS
#error "OTARX_MAX_FRAME must be within [640, 4112] (SPEC §2.1, §4.2)"
#endif
#if OTARX_MAX_FRAME < 525u
#error "OTARX_MAX_FRAME must hold a BEGIN frame (525 bytes)"
#endif
#if OTARX_MAX_PARTS < 1u || OTARX_MAX_PARTS > 16u
#error "OTARX_MAX_PARTS must be 1..16 (SPEC §4.2)"
#endif
/** Largest DATA payload the receiver can take: chunk <= max_frame - 10, multiple of 16. */
#define OTARX_MAX_CHUNK (((OTARX_MAX_FRAME - 10u) / 16u) * 16u)
#if OTARX_WINDOW < 2u * OTARX_MAX_CHUNK
#error "OTARX_WINDOW must hold at least two chunks of the largest size"
#endif
#if OTARX_WINDOW > 64u * OTARX_MAX_CHUNK
#error "OTARX_WINDOW beyond 64 chunks cannot be used (SPEC §4.5 MAX_CREDIT_CHUNKS)"
#endif
#if OTARX_WINDOW < OTARX_SECTOR
#error "OTARX_WINDOW must hold a flash sector (it is the scratch buffer of a resume)"
#endif
#if (OTARX_WINDOW % 16u) != 0u
#error "OTARX_WINDOW must be a multiple of 16"
#endif

/** Worst-case COBS size of a body of n bytes (SPEC §2.2), without delimiters. */
#define OTARX_COBS_MAX(n) ((n) + ((n) + 253u) / 254u + 1u)
/** Largest body the device sends: HELLO_ACK with OTARX_MAX_PARTS partitions. */
#define OTARX_HELLO_ACK_FIXED 133u
#define OTARX_PART_RECORD 48u
#define OTARX_TX_MAX (2u + OTARX_HELLO_ACK_FIXED + OTARX_PART_RECORD * OTARX_MAX_PARTS + 4u)
/** Flash work this long or longer is announced with ACK(BUSY) (SPEC §6.3 requires it above
 *  100 ms; 50 as the simulator, so a host never waits on the edge). */
#define OTARX_BUSY_THRESHOLD_MS 50u
/** Lowest rate accepted in BAUD (below it a 1 KiB chunk takes over 100 ms). */
#define OTARX_MIN_BAUD 9600u

/** Compile out log messages below this level (0 none, 1 error, 2 warn, 3 info, 4 debug). */
#ifndef OTARX_LOG_LEVEL
#define OTARX_LOG_LEVEL 3
#endif

#endif /* OTARX_CONFIG_H */
