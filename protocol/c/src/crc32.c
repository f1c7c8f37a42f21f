/*
 * crc32.c: CRC-32/ISO-HDLC (zlib; reflected poly 0x04C11DB7, init and xorout 0xFFFFFFFF),
 * the frame CRC of SPEC §2.1. Nibble table: 64 bytes of ROM, fast enough for a UART.
 */
#include "otarx_priv.h"

static const uint32_t k_nibble[16] = {
    0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u,
    0x4DB26158u, 0x5005713Cu, 0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
    0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
};

uint32_t otarx_crc32(uint32_t crc, const uint8_t *buf, size_t len)
{
    size_t i;
    crc = ~crc;
    for (i = 0; i < len; i++) {
        crc ^= buf[i];
        crc = (crc >> 4) ^ k_nibble[crc & 0x0Fu];
        crc = (crc >> 4) ^ k_nibble[crc & 0x0Fu];
    }
    return ~crc;
}
