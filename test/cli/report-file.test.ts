import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { encodeRecord, MAX_RECORD_BYTES } from '../../src/cli/report-file.js';
import { tempDir } from './harness.js';

const WRITER = fileURLToPath(new URL('./fixtures/report-writer.ts', import.meta.url));

function writer(file: string, who: string, count: number | 'until-killed', size: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, file, who, String(count), String(size)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const done = new Promise<number | null>((resolve) => child.on('exit', (code, sig) => resolve(code ?? (sig ? -1 : null))));
  /** Resolves when the child says `writing` (50 records are in), rejects if it exits first or after `ms`. */
  const writing = (ms: number) => new Promise<void>((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`${who} did not start writing within ${ms} ms; stderr: ${err}`)), ms);
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('writing\n')) { clearTimeout(t); resolve(); } });
    void done.then((code) => { clearTimeout(t); reject(new Error(`${who} exited (${String(code)}) before writing; stderr: ${err}`)); });
  });
  return { child, done, writing, err: () => err };
}

/** Whole lines that parse, and the rest (torn or joined lines). */
function check(text: string): { records: Record<string, unknown>[]; bad: string[]; endsWithNewline: boolean } {
  const lines = text.split('\n');
  const last = lines.pop();
  const records: Record<string, unknown>[] = [];
  const bad: string[] = [];
  for (const l of lines) {
    try {
      records.push(JSON.parse(l) as Record<string, unknown>);
    } catch {
      bad.push(l.slice(0, 60));
    }
  }
  return { records, bad, endsWithNewline: last === '' };
}

describe('--report file: one NDJSON line per device, never torn', () => {
  it('the checker sees a torn file', () => {
    const ok = `${JSON.stringify({ a: 1 })}\n`;
    const torn = `${ok}{"who":"A","i":1,"fil{"who":"B","i":0}\nler":"x"}\n`;
    expect(check(torn).bad).toHaveLength(2);
    expect(check(ok).bad).toHaveLength(0);
  });

  it('several processes appending at once leave only whole lines, each record exactly once', async () => {
    const dir = tempDir();
    const file = join(dir, 'report.ndjson');
    const N = 4;
    const COUNT = 120;
    const ws = Array.from({ length: N }, (_, k) => writer(file, `w${k}`, COUNT, 2000));
    const codes = await Promise.all(ws.map((w) => w.done));
    expect(codes, ws.map((w) => w.err()).join('\n')).toEqual(Array(N).fill(0));
    const { records, bad, endsWithNewline } = check(readFileSync(file, 'utf8'));
    expect(bad).toEqual([]);
    expect(endsWithNewline).toBe(true);
    expect(records).toHaveLength(N * COUNT);
    const seen = new Set(records.map((r) => `${String(r.who)}/${String(r.i)}`));
    expect(seen.size).toBe(N * COUNT);
    expect(records.every((r) => typeof r.time === 'string' && typeof r.host === 'string')).toBe(true);
  }, 60_000);

  it('a writer killed mid-run (SIGKILL) leaves only whole lines, and others keep appending cleanly', async () => {
    const dir = tempDir();
    const file = join(dir, 'report.ndjson');
    writeFileSync(file, '');
    // the victim appends until it is killed, so the kill lands mid-run however slow the machine
    const victim = writer(file, 'victim', 'until-killed', 1500);
    const other = writer(file, 'other', 300, 1500);
    await victim.writing(60_000); // a tsx child may take many seconds to start on a loaded machine
    victim.child.kill('SIGKILL');
    expect(await victim.done).toBe(-1);
    expect(await other.done).toBe(0);
    const { records, bad, endsWithNewline } = check(readFileSync(file, 'utf8'));
    expect(bad).toEqual([]);
    expect(endsWithNewline).toBe(true);
    expect(records.filter((r) => r.who === 'other')).toHaveLength(300);
    expect(records.filter((r) => r.who === 'victim').length).toBeGreaterThanOrEqual(50);
  }, 120_000);

  it('records stay below the atomic size: long fields are shortened, the line stays valid JSON', () => {
    const line = encodeRecord({ port: '/dev/ttyUSB0', ok: false, code: 'AUTH_FAILED', message: 'm'.repeat(10_000), device: { project: 'p'.repeat(5000) } });
    expect(line.length).toBeLessThanOrEqual(MAX_RECORD_BYTES);
    expect(line.at(-1)).toBe(0x0a);
    const back = JSON.parse(line.toString()) as { code: string; message: string };
    expect(back.code).toBe('AUTH_FAILED');
    expect(back.message.length).toBeLessThan(10_000);
    expect(encodeRecord({ a: 1 }).toString()).toBe('{"a":1}\n');
  });
});
