/**
 * App version comparison for the downgrade check (SPEC §4.6). Pure, no dependencies.
 *
 * Versions compare numerically by their dot-separated leading integers after an optional leading
 * lowercase "v": "1.10.0" > "1.9.3", "v1.2" == "1.2.0", and "1.2.3-rc1" == "1.2.3" (the suffix is
 * not part of the leading integers). Missing components count as 0. A version that does not
 * start with a digit (after the "v") is comparable only by identity.
 */

/** Leading integer components, or null when the version does not start with a number. */
function leadingNumbers(v: string): string[] | null {
  const m = /^v?(\d+(?:\.\d+)*)/.exec(v);
  if (!m) return null;
  // Kept as digit strings without leading zeros: a component like "20240101120000123" must not
  // lose precision in a double (a C device compares digit strings the same way).
  return m[1]!.split('.').map((d) => d.replace(/^0+(?=\d)/, ''));
}

/** Numeric comparison of two canonical digit strings. */
function cmpDigits(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Sign of a - b: -1, 0 or 1; null when the two are not comparable (at least one is non-numeric and
 * they differ), which the device treats as "accept".
 */
export function compareAppVersions(a: string, b: string): number | null {
  const x = leadingNumbers(a);
  const y = leadingNumbers(b);
  if (x === null || y === null) return a === b ? 0 : null;
  const n = Math.max(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const d = cmpDigits(x[i] ?? '0', y[i] ?? '0');
    if (d !== 0) return d;
  }
  return 0;
}
