/**
 * A tiny reader for protocol/vectors/*.vec (grammar: SPEC §9). No JSON: lines of
 * `keyword arg arg ...`, `#` comments, blank lines; records start at a head keyword.
 */
import { readFileSync } from 'node:fs';

export interface VecLine {
  kw: string;
  args: string[];
  /** Everything after the keyword and one space (for `field name "text with spaces"`). */
  rest: string;
  /** 1-based line number, for failure messages. */
  n: number;
  /** Comment lines directly above this line (without the leading '#'). */
  notes: string[];
}

export interface VecRecord {
  head: VecLine;
  body: VecLine[];
}

export const vectorsDir = new URL('../../protocol/vectors/', import.meta.url);

export function readVec(name: string): string {
  return readFileSync(new URL(name, vectorsDir), 'utf8');
}

/** Entry lines of a vector text (comments attached to the next entry, blank lines skipped). */
export function parseLines(text: string): VecLine[] {
  const out: VecLine[] = [];
  let notes: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') { notes = []; return; }
    if (line.startsWith('#')) { notes.push(line.slice(1).trim()); return; }
    const sp = line.indexOf(' ');
    const kw = sp < 0 ? line : line.slice(0, sp);
    const rest = sp < 0 ? '' : line.slice(sp + 1);
    if (!/^[a-z0-9_]+$/.test(kw)) throw new Error(`line ${i + 1}: bad keyword "${kw}"`);
    out.push({ kw, args: rest === '' ? [] : rest.split(' '), rest, n: i + 1, notes });
    notes = [];
  });
  return out;
}

/** Groups entry lines into records starting at `head` lines; lines before the first head are an error. */
export function parseRecords(text: string, head: string): VecRecord[] {
  const recs: VecRecord[] = [];
  for (const l of parseLines(text)) {
    if (l.kw === head) recs.push({ head: l, body: [] });
    else if (recs.length === 0) throw new Error(`line ${l.n}: "${l.kw}" before the first "${head}"`);
    else recs[recs.length - 1]!.body.push(l);
  }
  return recs;
}

/** Hex argument: lowercase pairs, or "-" for no bytes. */
export function hexArg(s: string | undefined, where = ''): Uint8Array {
  if (s === undefined) throw new Error(`missing hex argument ${where}`);
  if (s === '-') return new Uint8Array(0);
  if (!/^([0-9a-f]{2})+$/.test(s)) throw new Error(`bad hex ${where}: ${s.slice(0, 40)}`);
  return new Uint8Array(Buffer.from(s, 'hex'));
}

/** `key=value` arguments as a map of numbers. */
export function kvArgs(args: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of args) {
    const m = /^([a-z_]+)=(\d+)$/.exec(a);
    if (!m) throw new Error(`bad key=value "${a}"`);
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

/** The single line with keyword `kw` in a record (throws when missing or repeated). */
export function one(rec: VecRecord, kw: string): VecLine {
  const ls = rec.body.filter((l) => l.kw === kw);
  if (ls.length !== 1) throw new Error(`record at line ${rec.head.n}: expected one "${kw}" line, found ${ls.length}`);
  return ls[0]!;
}
