/**
 * SPEC §8 is the source of the wire constants: the TypeScript host (src/protocol/constants.ts)
 * and the C receiver (protocol/c/include/otarx_config.h) must carry the same values, and every
 * constant the table names must exist on the TypeScript side.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as constants from '../../src/protocol/constants.js';
import { STATUS_INFO } from '../../src/protocol/status.js';

const spec = readFileSync(new URL('../../protocol/SPEC.md', import.meta.url), 'utf8');
const cConfig = readFileSync(new URL('../../protocol/c/include/otarx_config.h', import.meta.url), 'utf8');

/** name -> value from the §8 table ("| NAME (note) | 123 |"). */
function specTable(): Map<string, number> {
  const section = spec.slice(spec.indexOf('## 8. Constants'), spec.indexOf('## 9. Vectors'));
  const out = new Map<string, number>();
  for (const m of section.matchAll(/^\|\s*([A-Z][A-Z0-9_]+)[^|]*\|\s*(\d+)\s*\|$/gm)) out.set(m[1]!, Number(m[2]));
  return out;
}

/** OTARX_NAME -> value for plain numeric #defines. */
function cDefines(): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of cConfig.matchAll(/^#define OTARX_([A-Z0-9_]+) (\d+)u\b/gm)) out.set(m[1]!, Number(m[2]));
  return out;
}

describe('SPEC §8 constants', () => {
  const table = specTable();

  it('the table has every constant the SPEC names there', () => {
    expect([...table.keys()]).toEqual([
      'PROTO_VERSION', 'MAX_FRAME_ABS', 'MIN_MAX_FRAME', 'HELLO_INTERVAL_MS', 'CONNECT_TIMEOUT_MS', 'BEGIN_TIMEOUT_MS',
      'END_TIMEOUT_MS', 'MIN_RTO_MS', 'MAX_STALLS', 'BAUD_CONFIRM_MS', 'MAX_SACK_CHUNKS', 'MAX_CREDIT_CHUNKS',
      'DEFAULT_CHUNK', 'DURABLE_INTERVAL',
    ]);
  });

  it('the TypeScript host has the same values', () => {
    const ts = constants as unknown as Record<string, unknown>;
    for (const [name, value] of table) expect({ name, value: ts[name] }).toEqual({ name, value });
  });

  it('the C receiver has the same values for the ones it defines', () => {
    const c = cDefines();
    const shared = [...table].filter(([name]) => c.has(name));
    // The device side needs these; the timeouts are the host's.
    expect(shared.map(([n]) => n).sort()).toEqual(['BAUD_CONFIRM_MS', 'DEFAULT_CHUNK', 'DURABLE_INTERVAL', 'MAX_CREDIT_CHUNKS', 'MAX_FRAME_ABS', 'MAX_SACK_CHUNKS', 'MIN_MAX_FRAME', 'PROTO_VERSION']);
    for (const [name, value] of shared) expect({ name, value: c.get(name) }).toEqual({ name, value });
  });
});

describe('SPEC §5 status table', () => {
  /** value, name, host code (first listed), exit (first listed) from the §5 table. */
  function specStatuses(): { value: number; name: string; code: string | null; exit: number | null }[] {
    const section = spec.slice(spec.indexOf('## 5. Status codes'), spec.indexOf('## 6. Device behaviour'));
    return [...section.matchAll(/^\| 0x([0-9A-F]{2}) \| ([A-Z_]+) \|[^|]*\| ([^|]*) \| ([^|]*) \|/gm)].map((m) => {
      const code = m[3]!.trim().split(' / ')[0]!;
      const exit = m[4]!.trim().split(' / ')[0]!;
      return { value: parseInt(m[1]!, 16), name: m[2]!, code: code === '–' ? null : code, exit: exit === '–' ? null : Number(exit) };
    });
  }

  it('every row of the SPEC, and only those, is in STATUS_INFO with the same value, host code and exit status', () => {
    const rows = specStatuses();
    expect(rows.length).toBe(21);
    expect(STATUS_INFO.map((s) => ({ value: s.value, name: s.name, code: s.code, exit: s.exit }))).toEqual(rows);
  });

  it('the C receiver numbers the statuses the same way', () => {
    const cHeader = readFileSync(new URL('../../protocol/c/include/otarx_err.h', import.meta.url), 'utf8');
    for (const s of specStatuses()) {
      const m = new RegExp(`\\bOTARX_${s.name}\\s*=\\s*(0x[0-9A-Fa-f]+|\\d+)`).exec(cHeader);
      expect({ name: s.name, value: m ? Number(m[1]) : undefined }).toEqual({ name: s.name, value: s.value });
    }
  });
});
