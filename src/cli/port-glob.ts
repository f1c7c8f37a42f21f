/**
 * `--ports 'GLOB'`: the serial ports matching a shell-style pattern, e.g. '/dev/ttyUSB*',
 * '/dev/serial/by-path/*usb*', or '/tmp/bench/tty[0-9]'. Node 20 has no fs.glob, and a port list
 * must not depend on the shell, so this is a small matcher: `*` and `?` within one path segment
 * and `[...]` character classes, in any segment. Only character devices (or links to them) count,
 * so a pattern never picks up a flash image or a log file lying next to the ptys.
 */
import { readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';

export function hasGlob(s: string): boolean {
  return /[*?[]/.test(s);
}

/** A regular expression for one path segment of a glob. */
export function segmentRegExp(seg: string): RegExp {
  let re = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = seg.indexOf(']', i + 2);
      if (close < 0) { re += '\\['; continue; }
      let body = seg.slice(i + 1, close);
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      re += `[${body.replace(/\\/g, '\\\\')}]`;
      i = close;
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Matching paths (character devices only), sorted with numbers in natural order (ttyUSB2 < ttyUSB10). */
export function expandPortGlob(pattern: string): string[] {
  const abs = isAbsolute(pattern) ? pattern : resolve(pattern);
  const segs = abs.split('/').filter((s) => s !== '');
  let paths = ['/'];
  for (const seg of segs) {
    const next: string[] = [];
    for (const dir of paths) {
      if (!hasGlob(seg)) { next.push(join(dir, seg)); continue; }
      const re = segmentRegExp(seg);
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      for (const n of names) if (re.test(n) && (n[0] !== '.' || seg[0] === '.')) next.push(join(dir, n));
    }
    paths = next;
  }
  const out = paths.filter(isCharDevice);
  // Keep the user's spelling for relative patterns ('./bench/tty*' shows as typed).
  const shown = isAbsolute(pattern) ? out : out.map((p) => relativeLike(pattern, p));
  return shown.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

function isCharDevice(p: string): boolean {
  try {
    return statSync(p).isCharacterDevice();
  } catch {
    return false;
  }
}

function relativeLike(pattern: string, abs: string): string {
  const cwd = process.cwd();
  const rel = abs.startsWith(`${cwd}/`) ? abs.slice(cwd.length + 1) : abs;
  return pattern.startsWith('./') && !rel.startsWith('/') ? `./${rel}` : rel;
}
