/**
 * Where command results go. Commands return data and call `emit`; with --json the data is
 * printed as one JSON document, otherwise the command's plain-text rendering. No colours, no
 * TTY detection: the output is the same in a terminal, a pipe and a CI log.
 */
export interface OutputSink {
  write(text: string): void;
}

let sink: OutputSink = { write: (t) => void process.stdout.write(t) };

/** Redirects command output (tests, embedding). Returns the previous sink. */
export function setOutput(next: OutputSink): OutputSink {
  const prev = sink;
  sink = next;
  return prev;
}

export function emit(json: boolean | undefined, data: unknown, text: () => string): void {
  sink.write(json ? `${JSON.stringify(data, jsonReplacer, 2)}\n` : ensureNewline(text()));
}

function ensureNewline(t: string): string {
  return t.endsWith('\n') ? t : `${t}\n`;
}

/** Buffers as hex, so results can hold raw bytes and still serialise readably. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (value && typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer') {
    const data = (value as { data?: number[] }).data;
    if (Array.isArray(data)) return Buffer.from(data).toString('hex');
  }
  return value;
}

/** Aligned "label: value" lines. */
export function table(rows: readonly (readonly [string, string | number | undefined])[], indent = ''): string {
  const shown = rows.filter(([, v]) => v !== undefined && v !== '');
  const width = Math.max(0, ...shown.map(([k]) => k.length));
  return shown.map(([k, v]) => `${indent}${`${k}:`.padEnd(width + 1)} ${String(v)}`).join('\n');
}
