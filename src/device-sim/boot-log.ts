/**
 * What an ESP32 prints on UART0 when it resets: the ROM banner and the second-stage bootloader's
 * log, at the reset baud rate, before the app's ota-uart receiver listens. The host must find the
 * device through it (SPEC §2.3: text holds no 0x00, so the next frame's leading delimiter drops it).
 */
export type ResetReason = 'power-on' | 'reboot' | 'rollback' | 'fault';

const RST: Record<ResetReason, string> = {
  'power-on': 'rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)',
  reboot: 'rst:0xc (SW_CPU_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)',
  rollback: 'rst:0xc (SW_CPU_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)',
  fault: 'rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)',
};

/** ROM banner, printed the moment the chip comes out of reset. */
export function romBanner(reason: ResetReason): string {
  return `ets Jun  8 2016 00:22:57\r\n\r\n${RST[reason]}\r\nconfigsip: 0, SPIWP:0xee\r\nmode:DIO, clock div:2\r\nload:0x3fff0030,len:7112\r\nentry 0x40080400\r\n`;
}

/** Bootloader lines once it has chosen an app (notes from boot.ts, e.g. a rollback). */
export function bootloaderLog(notes: readonly string[], loaded: { label: string; offset: number; version: string } | undefined): string {
  const lines = ['I (29) boot: ESP-IDF v5.4.1 2nd stage bootloader (ota-uart simulator)', ...notes.map((n) => `W (41) boot: ${n}`)];
  if (loaded) {
    lines.push(`I (52) boot: Loaded app from partition at offset 0x${loaded.offset.toString(16)} (${loaded.label})`);
    lines.push(`I (250) app_init: App version:      ${loaded.version}`);
    lines.push('I (260) ota_uart: receiver listening');
  } else {
    lines.push('E (60) boot: No bootable app partitions in the partition table');
  }
  return `${lines.join('\r\n')}\r\n`;
}
