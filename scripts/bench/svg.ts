/**
 * Efficiency by baud rate, one line per tool, as a hand-written SVG (no charting dependency): one
 * panel per (latency, BER) pair that was measured, x = the baud rates on a log scale, y = payload
 * bytes/s as a share of the 8N1 line rate. Failed runs are drawn as hollow markers at their
 * measured value (or at 0).
 */
import { TOOLS, type Row, type Tool } from './report.js';

const COLORS: Record<Tool, string> = {
  'ota-uart': '#1f77b4',
  'ota-uart-w1': '#9ecae1',
  'ota-uart-flash': '#2ca02c',
  zmodem: '#d62728',
  xmodem1k: '#ff7f0e',
};

const PANEL_W = 330;
const PANEL_H = 240;
const M = { left: 48, right: 14, top: 34, bottom: 38 };

export function efficiencySvg(rows: Row[], title = 'ota-uart bench: efficiency (payload / 8N1 line rate) by baud'): string {
  const panels = uniq(rows.map((r) => `${r.latency_ms}|${r.ber}`)).map((k) => {
    const [lat, ber] = k.split('|').map(Number) as [number, number];
    return { lat, ber, rows: rows.filter((r) => r.latency_ms === lat && r.ber === ber) };
  }).sort((a, b) => a.ber - b.ber || a.lat - b.lat);
  const bauds = uniq(rows.map((r) => r.baud)).sort((a, b) => a - b);
  const cols = Math.min(2, Math.max(1, panels.length));
  const nrows = Math.ceil(panels.length / cols);
  const legendH = 28;
  const W = cols * PANEL_W;
  const H = 30 + nrows * PANEL_H + legendH;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${esc(title)}</text>`,
  ];
  panels.forEach((p, i) => {
    const ox = (i % cols) * PANEL_W;
    const oy = 30 + Math.floor(i / cols) * PANEL_H;
    out.push(panel(p.rows, bauds, ox, oy, `latency ${p.lat} ms, BER ${p.ber === 0 ? '0' : p.ber.toExponential(0)}`));
  });
  const present = TOOLS.filter((t) => rows.some((r) => r.tool === t));
  const ly = H - legendH / 2;
  const step = W / Math.max(1, present.length);
  present.forEach((t, i) => {
    const x = i * step + 12;
    out.push(`<line x1="${x}" y1="${ly}" x2="${x + 18}" y2="${ly}" stroke="${COLORS[t]}" stroke-width="2.5"/>`);
    out.push(`<circle cx="${x + 9}" cy="${ly}" r="3" fill="${COLORS[t]}"/>`);
    out.push(`<text x="${x + 23}" y="${ly + 4}">${esc(t)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

function panel(rows: Row[], bauds: number[], ox: number, oy: number, title: string): string {
  const w = PANEL_W - M.left - M.right;
  const h = PANEL_H - M.top - M.bottom;
  const x0 = ox + M.left;
  const y0 = oy + M.top;
  const lo = Math.log(bauds[0]!);
  const hi = Math.log(bauds[bauds.length - 1]!);
  const xOf = (b: number): number => x0 + (hi > lo ? ((Math.log(b) - lo) / (hi - lo)) * (w - 20) + 10 : w / 2);
  const yOf = (e: number): number => y0 + h - Math.max(0, Math.min(1.05, e)) / 1.05 * h;
  const s: string[] = [`<text x="${x0 + w / 2}" y="${oy + 20}" text-anchor="middle" font-weight="bold">${esc(title)}</text>`];
  s.push(`<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="none" stroke="#999"/>`);
  for (const e of [0, 0.25, 0.5, 0.75, 0.95, 1]) {
    const y = yOf(e);
    const dash = e === 0.95 ? ' stroke-dasharray="4 3"' : '';
    s.push(`<line x1="${x0}" y1="${y}" x2="${x0 + w}" y2="${y}" stroke="${e === 0.95 ? '#888' : '#e5e5e5'}"${dash}/>`);
    s.push(`<text x="${x0 - 4}" y="${y + 4}" text-anchor="end">${e.toFixed(2)}</text>`);
  }
  for (const b of bauds) {
    s.push(`<text x="${xOf(b)}" y="${y0 + h + 14}" text-anchor="middle">${b >= 1e6 ? `${b / 1e6}M` : `${b / 1000}k`}</text>`);
  }
  s.push(`<text x="${x0 + w / 2}" y="${y0 + h + 30}" text-anchor="middle" fill="#555">baud</text>`);
  for (const t of TOOLS) {
    const pts = rows.filter((r) => r.tool === t).sort((a, b) => a.baud - b.baud);
    if (pts.length === 0) continue;
    const poly = pts.map((r) => `${xOf(r.baud).toFixed(1)},${yOf(r.efficiency).toFixed(1)}`).join(' ');
    if (pts.length > 1) s.push(`<polyline points="${poly}" fill="none" stroke="${COLORS[t]}" stroke-width="2"/>`);
    for (const r of pts) {
      const fill = r.ok ? COLORS[t] : '#fff';
      s.push(`<circle cx="${xOf(r.baud).toFixed(1)}" cy="${yOf(r.efficiency).toFixed(1)}" r="3.5" fill="${fill}" stroke="${COLORS[t]}"><title>${esc(`${t} ${r.baud} baud: ${r.efficiency.toFixed(3)}${r.ok ? '' : ' (failed)'}`)}</title></circle>`);
    }
  }
  return s.join('\n');
}

function uniq<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
