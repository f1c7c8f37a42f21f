/**
 * Names the USB-serial bridges found on ESP32 boards, so `ota-uart ports` can say which port is
 * probably the board. Keys are lowercase hex "vid:pid" as udev and sysfs print them.
 */
const BY_ID: Readonly<Record<string, string>> = {
  '10c4:ea60': 'Silicon Labs CP210x (common on ESP32 DevKits)',
  '1a86:7523': 'WCH CH340 (common on ESP32 boards)',
  '1a86:55d3': 'WCH CH343 (common on ESP32 boards)',
  '1a86:55d4': 'WCH CH9102 (common on ESP32 boards)',
  '0403:6001': 'FTDI FT232R',
  '0403:6010': 'FTDI FT2232 (ESP-Prog and JTAG boards)',
  '0403:6014': 'FTDI FT232H',
  '0403:6015': 'FTDI FT-X (FT231X/FT230X)',
  '303a:1001': 'Espressif USB-Serial-JTAG (ESP32-C3/C6/S3/H2 built-in USB)',
};

const BY_VENDOR: Readonly<Record<string, string>> = {
  '303a': 'Espressif native USB (the chip itself, not a bridge)',
  '10c4': 'Silicon Labs USB-serial bridge',
  '1a86': 'WCH USB-serial bridge',
  '0403': 'FTDI USB-serial bridge',
};

export function bridgeHint(vendorId?: string, productId?: string): string | undefined {
  const vid = normalizeId(vendorId);
  if (vid === undefined) return undefined;
  const pid = normalizeId(productId);
  return (pid !== undefined ? BY_ID[`${vid}:${pid}`] : undefined) ?? BY_VENDOR[vid];
}

/** "0x10C4", "10C4", "10c4\n" → "10c4". */
export function normalizeId(id: string | undefined): string | undefined {
  if (id === undefined) return undefined;
  const s = id.trim().toLowerCase().replace(/^0x/, '');
  return /^[0-9a-f]{1,4}$/.test(s) ? s.padStart(4, '0') : undefined;
}
