/**
 * Chip ids of the ESP image header (esp-formats.md §3.5) and the few per-chip facts the image
 * tools need: flash-mapped address windows (for the MMU alignment rule, §3.2) where the fact sheet
 * gives them, and a plausible memory layout for generated test images.
 */

export interface ChipInfo {
  id: number;
  name: string;
  /** Flash-mapped [start, end) windows (DROM, IROM); only listed where the fact sheet has them. */
  mappedWindows?: readonly (readonly [number, number])[];
}

export const MMU_PAGE_SIZE = 0x10000;
export const CHIP_ID_INVALID = 0xffff;

const CHIPS: readonly ChipInfo[] = [
  { id: 0, name: 'ESP32', mappedWindows: [[0x3f400000, 0x3f800000], [0x400d0000, 0x40400000]] },
  { id: 2, name: 'ESP32-S2' },
  { id: 5, name: 'ESP32-C3', mappedWindows: [[0x3c000000, 0x3c800000], [0x42000000, 0x42800000]] },
  { id: 9, name: 'ESP32-S3' },
  { id: 12, name: 'ESP32-C2' },
  { id: 13, name: 'ESP32-C6' },
  { id: 16, name: 'ESP32-H2' },
  { id: 18, name: 'ESP32-P4' },
  { id: 20, name: 'ESP32-C61' },
  { id: 23, name: 'ESP32-C5' },
  { id: 25, name: 'ESP32-H21' },
  { id: 28, name: 'ESP32-H4' },
  { id: 32, name: 'ESP32-S31' },
];

/** Pre-release ids known only to esptool; named so `inspect` can say what they are. */
const PRERELEASE: Readonly<Record<number, string>> = {
  4: 'ESP32-S3-beta2',
  7: 'ESP32-C6-beta',
  10: 'ESP32-H2-beta1',
  14: 'ESP32-H2-beta2',
  17: 'ESP32-C5-beta3',
};

export function chipInfo(id: number): ChipInfo | undefined {
  return CHIPS.find((c) => c.id === id);
}

export function chipName(id: number): string {
  if (id === CHIP_ID_INVALID) return 'invalid (0xffff)';
  return chipInfo(id)?.name ?? PRERELEASE[id] ?? `unknown (0x${id.toString(16).padStart(4, '0')})`;
}

/** Chip id from a name such as "esp32c3", "ESP32-C3" or a number. */
export function parseChip(text: string): number | undefined {
  if (/^(0x[0-9a-f]+|\d+)$/i.test(text)) return Number(text);
  const norm = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]/g, '');
  return CHIPS.find((c) => norm(c.name) === norm(text))?.id;
}

export function knownChips(): readonly ChipInfo[] {
  return CHIPS;
}

export function isFlashMapped(chipId: number, loadAddr: number): boolean {
  return chipInfo(chipId)?.mappedWindows?.some(([lo, hi]) => loadAddr >= lo && loadAddr < hi) ?? false;
}
